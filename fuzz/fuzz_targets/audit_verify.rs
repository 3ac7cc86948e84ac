//! Audit log verification (`audit log verify -file F`) on arbitrary file contents: it reports
//! success or the first bad record, never panics; a report's counts stay within the input.
//! The secret is fixed: the seeds are logs made with it, so mutations explore records that
//! are well formed and chained as well as garbage.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom_module::internal::{Tail, parse_line, verify_log};

const SECRET: [u8; 32] = [7; 32];

fuzz_target!(|data: &[u8]| {
    // The first byte picks what follows the last record, as the module would tell it.
    let (mode, log) = match data.split_first() {
        Some((m, rest)) => (*m, rest),
        None => (0, data),
    };
    let tail = |last: u32| match mode % 4 {
        0 => Tail::Unknown,
        1 => Tail::Missing,
        2 => Tail::Head([last.to_le_bytes()[0]; 32]),
        _ => Tail::Successor([0; 32]),
    };
    let report = verify_log(&SECRET, log, &tail);
    let lines = log.split_inclusive(|b| *b == b'\n').count() as u64;
    assert!(report.verified <= lines);
    if report.failure.is_none() {
        assert!(report.verified >= 1 && report.first.is_some() && report.last.is_some());
    }
    for line in log.split_inclusive(|b| *b == b'\n').take(4) {
        let _ = parse_line(line);
    }
});
