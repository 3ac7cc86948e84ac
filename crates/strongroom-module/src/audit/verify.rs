//! Verification of a sequence of records (AU-25): each record's HMAC is recomputed and
//! compared with the copy the next record carries; the newest record's HMAC is compared with
//! the one the module keeps, or with the copy in the record that follows the sequence.
//!
//! A modified record fails its own HMAC; a deleted or inserted record breaks the sequence
//! numbers or the chain; a truncated log ends before the record the module knows to be next.

use std::fmt;

use super::record::{self, LINE_LEN};

/// Why a record does not verify.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BadReason {
    /// The line does not have the record format.
    Malformed(&'static str),
    /// The sequence number is not the one after the previous record's.
    Sequence {
        /// The sequence number the line carries.
        found: u32,
    },
    /// The record's HMAC differs from the copy the next record (or the module) holds.
    Hmac,
    /// The log ends before the record that follows it.
    Truncated,
    /// There is no record at all.
    Empty,
}

impl fmt::Display for BadReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(why) => write!(f, "malformed record: {why}"),
            Self::Sequence { found } => write!(
                f,
                "sequence broken: the record found there has sequence number {found}"
            ),
            Self::Hmac => f.write_str("HMAC mismatch: the record was altered or replaced"),
            Self::Truncated => f.write_str("the log was truncated: the record is missing"),
            Self::Empty => f.write_str("the file holds no record"),
        }
    }
}

/// The first record that does not verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRecord {
    /// Its sequence number (for a missing record, the number it should have had).
    pub seq: Option<u32>,
    /// The line of the file (1-based) where the problem shows.
    pub line: usize,
    /// What is wrong.
    pub reason: BadReason,
}

/// What follows the last record of the sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tail {
    /// Nothing is known (a log from another module, or the following records are gone).
    Unknown,
    /// The last record is the module's newest; this is its HMAC.
    Head([u8; 32]),
    /// The record after the last one carries this previous HMAC.
    Successor([u8; 32]),
    /// A later record exists but the record right after the last one is nowhere.
    Missing,
}

/// The outcome of a verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// Records that verified before the first failure (all of them on success).
    pub verified: u64,
    /// Sequence number of the first record.
    pub first: Option<u32>,
    /// Sequence number of the last record read.
    pub last: Option<u32>,
    /// Whether the end of the log was checked against what follows it.
    pub tail_checked: bool,
    /// The first failing record, if any.
    pub failure: Option<BadRecord>,
}

/// Verifies `log` (whole record lines) with `secret`. `tail` tells, for the sequence number
/// of the last record, what follows it. Never panics on any input.
pub fn verify_log(secret: &[u8; 32], log: &[u8], tail: &dyn Fn(u32) -> Tail) -> VerifyReport {
    let mut report = VerifyReport {
        verified: 0,
        first: None,
        last: None,
        tail_checked: false,
        failure: None,
    };
    // The previous record's sequence number, line and computed HMAC.
    let mut prev: Option<(u32, usize, [u8; 32])> = None;
    for (i, line) in log.split_inclusive(|b| *b == b'\n').enumerate() {
        let n = i + 1;
        let expected = prev.map(|p| p.0.wrapping_add(1));
        let parsed = match record::parse(line) {
            Ok(p) => p,
            Err(reason) => {
                let seq = expected.or_else(|| {
                    (line.len() >= LINE_LEN - 1)
                        .then(|| record::raw_of_line(line))
                        .flatten()
                        .map(|r| r.seq)
                });
                report.failure = Some(BadRecord {
                    seq,
                    line: n,
                    reason,
                });
                return report;
            }
        };
        if report.first.is_none() {
            report.first = Some(parsed.seq);
        }
        if let Some((pseq, pline, phmac)) = prev {
            if Some(parsed.seq) != expected {
                report.failure = Some(BadRecord {
                    seq: expected,
                    line: n,
                    reason: BadReason::Sequence { found: parsed.seq },
                });
                return report;
            }
            if !bool::from(subtle::ConstantTimeEq::ct_eq(&parsed.prev[..], &phmac[..])) {
                report.failure = Some(BadRecord {
                    seq: Some(pseq),
                    line: pline,
                    reason: BadReason::Hmac,
                });
                return report;
            }
            report.verified += 1;
        }
        let mac = record::chain_hmac(secret, line, &parsed.prev);
        report.last = Some(parsed.seq);
        prev = Some((parsed.seq, n, mac));
    }
    let Some((last, line, mac)) = prev else {
        report.failure = Some(BadRecord {
            seq: None,
            line: 1,
            reason: BadReason::Empty,
        });
        return report;
    };
    let expected = match tail(last) {
        Tail::Unknown => {
            report.verified += 1;
            return report;
        }
        Tail::Missing => {
            report.tail_checked = true;
            report.failure = Some(BadRecord {
                seq: Some(last.wrapping_add(1)),
                line: line + 1,
                reason: BadReason::Truncated,
            });
            return report;
        }
        Tail::Head(h) | Tail::Successor(h) => h,
    };
    report.tail_checked = true;
    if bool::from(subtle::ConstantTimeEq::ct_eq(&expected[..], &mac[..])) {
        report.verified += 1;
    } else {
        report.failure = Some(BadRecord {
            seq: Some(last),
            line,
            reason: BadReason::Hmac,
        });
    }
    report
}
