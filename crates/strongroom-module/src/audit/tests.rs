//! Record format and chain verification, on records made by the module's own formatter.

use super::record::{COMMAS, NEWLINE, PREV, RAW, SEQ, TEXT, TIME};
use super::*;

const SECRET: [u8; 32] = [7; 32];

fn event(i: u32) -> Event {
    let mut ev = Event::new(AuditCategory::Access, AuditOp::Login, 0);
    ev.access = Some(0x13538f8fcc265576);
    ev.session = 2;
    ev.serial = 1_335_066_958_567;
    ev.detail = format!("roleID=1 container={i}");
    ev.set_data(1_335_066_958_567, Some(1), u64::from(i));
    ev
}

/// `n` chained records starting at sequence 1, and the newest HMAC.
fn log(n: u32) -> (Vec<Vec<u8>>, [u8; 32]) {
    let mut prev = [0u8; 32];
    let mut lines = Vec::new();
    for i in 1..=n {
        let (line, mac) = format_line(&SECRET, &event(i), i, 1_718_051_382, 573_407, &prev);
        lines.push(line);
        prev = mac;
    }
    (lines, prev)
}

fn verify(lines: &[Vec<u8>], head: [u8; 32], head_seq: u32) -> VerifyReport {
    let bytes: Vec<u8> = lines.concat();
    verify_log(&SECRET, &bytes, &|last| {
        if last == head_seq {
            Tail::Head(head)
        } else {
            Tail::Missing
        }
    })
}

#[test]
fn every_field_has_the_width_and_offset_of_the_table() {
    let (lines, _) = log(1);
    let line = &lines[0];
    assert_eq!(line.len(), 456);
    // offset, width of the reference's table
    assert_eq!(SEQ, (0, 10));
    assert_eq!(TIME, (11, 17));
    assert_eq!(TEXT, (29, 256));
    assert_eq!(PREV, (286, 64));
    assert_eq!(RAW, (351, 104));
    assert_eq!(COMMAS, [10, 28, 285, 350]);
    assert_eq!(NEWLINE, 455);
    for c in COMMAS {
        assert_eq!(line[c], b',', "comma at {c}");
    }
    assert_eq!(line[NEWLINE], b'\n');
    let text = std::str::from_utf8(line).expect("ASCII");
    assert_eq!(&text[0..10], "         1");
    assert_eq!(&text[11..28], "24/06/10 20:29:42");
    let msg = &text[29..285];
    assert!(
        msg.starts_with(
            "S/N 1335066958567 session 2 Access 13538f8fcc265576 operation SR_LOGIN \
             returned RC_OK(0x00000000) roleID=1 container=1"
        ),
        "{msg}"
    );
    assert!(msg.trim_end().len() < 256 && msg.ends_with(' '));
    // The first record is chained to 32 zero bytes.
    assert_eq!(&text[286..350], &"0".repeat(64));
    let raw = &text[351..455];
    assert_eq!(raw.len(), 104);
    // seq 1, category 1, operation 1, time 1718051382 (0x66676236), rc 0, access big-endian,
    // HSM serial 573407 (0x8BFDF), session 2.
    assert_eq!(&raw[0..8], "01000000");
    assert_eq!(&raw[8..12], "0100");
    assert_eq!(&raw[12..16], "0100");
    assert_eq!(&raw[16..24], "36626766");
    assert_eq!(&raw[24..32], "00000000");
    assert_eq!(&raw[32..48], "13538F8FCC265576");
    assert_eq!(&raw[48..64], "DFBF080000000000");
    assert_eq!(&raw[64..72], "02000000");
    assert_eq!(parse_line(line).map(|(s, _)| s), Ok(1));
}

#[test]
fn the_second_record_carries_the_first_records_hmac() {
    let (lines, head) = log(2);
    let first_mac = chain_hmac(&SECRET, &lines[0], &[0; 32]);
    let (_, prev) = parse_line(&lines[1]).expect("well formed");
    assert_eq!(prev, first_mac);
    assert_eq!(head, chain_hmac(&SECRET, &lines[1], &first_mac));
}

#[test]
fn messages_are_printable_and_never_longer_than_the_field() {
    let mut ev = event(1);
    ev.op = AuditOp::LogExternal;
    ev.detail = format!("line\nbreak,{}", "x".repeat(500));
    let (line, _) = format_line(&SECRET, &ev, 9, 0, 1, &[0; 32]);
    assert_eq!(line.len(), LINE_LEN);
    let text = std::str::from_utf8(&line[29..285]).expect("ASCII");
    assert!(text.contains("external message follows: line?break,"));
    // At most 100 characters of the external message are kept.
    let msg = text.split("follows: ").nth(1).expect("message");
    assert_eq!(msg.matches('x').count(), 100 - "line\nbreak,".len());
    assert!(parse_line(&line).is_ok());
}

#[test]
fn an_untouched_log_verifies() {
    let (lines, head) = log(10);
    let r = verify(&lines, head, 10);
    assert_eq!(r.failure, None);
    assert_eq!(
        (r.verified, r.first, r.last, r.tail_checked),
        (10, Some(1), Some(10), true)
    );
}

#[test]
fn a_modified_byte_is_located() {
    let (mut lines, head) = log(10);
    lines[4][40] ^= 1; // in the message text of record 5
    let r = verify(&lines, head, 10);
    let bad = r.failure.expect("detected");
    assert_eq!((bad.seq, bad.reason), (Some(5), BadReason::Hmac));
    assert_eq!(r.verified, 4);
}

#[test]
fn a_modified_raw_byte_of_the_newest_record_fails_against_the_head() {
    let (mut lines, head) = log(3);
    // Same time, another return code: still well formed.
    lines[2][351 + 24] = b'1';
    let r = verify(&lines, head, 3);
    let bad = r.failure.expect("detected");
    assert_eq!((bad.seq, bad.reason), (Some(3), BadReason::Hmac));
}

#[test]
fn a_deleted_record_is_located() {
    let (mut lines, head) = log(10);
    lines.remove(6); // record 7
    let r = verify(&lines, head, 10);
    let bad = r.failure.expect("detected");
    assert_eq!(bad.seq, Some(7));
    assert_eq!(bad.reason, BadReason::Sequence { found: 8 });
}

#[test]
fn an_inserted_forged_record_is_located() {
    let (mut lines, head) = log(10);
    // A forger who knows the format but not the secret: a record 4 chained to record 3,
    // then the real records renumbered after it.
    let forged_secret = [9u8; 32];
    let (_, prev3) = parse_line(&lines[3]).expect("well formed");
    let (forged, _) = format_line(
        &forged_secret,
        &event(99),
        4,
        1_718_051_382,
        573_407,
        &prev3,
    );
    lines.insert(3, forged);
    let r = verify(&lines, head, 10);
    let bad = r.failure.expect("detected");
    // Record 4 is now the forged one; the real record 4 follows with a broken sequence.
    assert_eq!(bad.seq, Some(5));
    assert_eq!(bad.reason, BadReason::Sequence { found: 4 });
}

#[test]
fn a_forged_record_in_place_of_a_real_one_is_located() {
    let (mut lines, head) = log(10);
    let (_, prev) = parse_line(&lines[5]).expect("well formed");
    let (forged, _) = format_line(&[1u8; 32], &event(77), 6, 1_718_051_382, 573_407, &prev);
    lines[5] = forged;
    let bad = verify(&lines, head, 10).failure.expect("detected");
    assert_eq!((bad.seq, bad.reason), (Some(6), BadReason::Hmac));
}

#[test]
fn a_truncated_log_is_detected() {
    let (mut lines, head) = log(10);
    lines.truncate(8);
    let bad = verify(&lines, head, 10).failure.expect("detected");
    assert_eq!((bad.seq, bad.reason), (Some(9), BadReason::Truncated));
    // Truncation inside the last record: a malformed line.
    let (mut lines, head) = log(10);
    lines[9].truncate(300);
    let bad = verify(&lines, head, 10).failure.expect("detected");
    assert_eq!(bad.seq, Some(10));
    assert!(matches!(bad.reason, BadReason::Malformed(_)));
}

#[test]
fn another_secret_does_not_verify() {
    let (lines, _) = log(3);
    let r = verify_log(&[8; 32], &lines.concat(), &|_| Tail::Unknown);
    assert_eq!(r.failure.map(|b| b.seq), Some(Some(1)));
}

#[test]
fn empty_and_garbage_input_fail_cleanly() {
    let r = verify_log(&SECRET, b"", &|_| Tail::Unknown);
    assert_eq!(r.failure.map(|b| b.reason), Some(BadReason::Empty));
    let r = verify_log(&SECRET, &[b'\n'; 1000], &|_| Tail::Unknown);
    assert!(r.failure.is_some());
}

#[test]
fn event_filters_parse_and_print() {
    let f = EventFilter::parse("access,keymanage,failure").expect("valid");
    assert!(f.wants(AuditCategory::Access, false));
    assert!(!f.wants(AuditCategory::Access, true));
    assert!(!f.wants(AuditCategory::Management, false));
    assert!(f.wants(AuditCategory::Unconditional, true));
    assert_eq!(f.to_string(), "access(failure),keymanage(failure)");
    let all = EventFilter::parse("all").expect("valid");
    assert!(
        AuditCategory::CONFIGURABLE
            .iter()
            .all(|c| all.wants(*c, true) && all.wants(*c, false))
    );
    assert_eq!(EventFilter::parse("none"), Ok(EventFilter::NONE));
    assert!(EventFilter::parse("bogus").is_err());
    assert!(EventFilter::parse("success,failure,access").is_err());
    assert!(EventFilter::parse("none,access").is_err());
}

#[test]
fn exported_secrets_unwrap_only_under_the_same_domain_key() {
    let key = [3u8; 32];
    let file = wrap_secret(&key, 573_407, &SECRET, [5; 16]).expect("wrap");
    assert_eq!(file.len(), 68);
    let (serial, secret) = unwrap_secret(&key, &file).expect("unwrap");
    assert_eq!((serial, *secret), (573_407, SECRET));
    assert_eq!(
        unwrap_secret(&[4u8; 32], &file).map(|_| ()),
        Err(UnwrapError::Domain)
    );
    assert_eq!(
        unwrap_secret(&key, &file[..60]).map(|_| ()),
        Err(UnwrapError::Format)
    );
}

mod prop {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Any single changed byte of a log is detected (or, for the few bytes whose change
        /// leaves the record identical in meaning, such as padding, still detected by the
        /// HMAC, which covers every byte but the previous HMAC's hex copy, which is checked).
        #[test]
        fn any_changed_byte_is_detected(idx in 0usize..(5 * 456), bit in 0u8..8) {
            let (lines, head) = log(5);
            let mut bytes = lines.concat();
            bytes[idx] ^= 1 << bit;
            let r = verify_log(&SECRET, &bytes, &|last| if last == 5 { Tail::Head(head) } else { Tail::Missing });
            prop_assert!(r.failure.is_some());
        }

        #[test]
        fn verification_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let _ = verify_log(&SECRET, &bytes, &|_| Tail::Unknown);
        }
    }
}

#[test]
fn the_fuzz_seeds_are_logs_of_this_format() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/audit_verify");
    let valid = std::fs::read(dir.join("valid_unknown_tail")).expect("seed");
    let r = verify_log(&SECRET, &valid[1..], &|_| Tail::Unknown);
    assert_eq!((r.failure, r.verified), (None, 5));
    let modified = std::fs::read(dir.join("modified")).expect("seed");
    let r = verify_log(&SECRET, &modified[1..], &|_| Tail::Unknown);
    assert_eq!(r.failure.map(|b| b.seq), Some(Some(3)));
}
