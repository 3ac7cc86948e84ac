//! The fixed-width audit record (AU-20, AU-21) and its HMAC (AU-24).
//!
//! One record is one line of [`LINE_LEN`] bytes:
//!
//! ```text
//! +--------+-------+-------------------------------------------------------------+
//! | offset | chars | field                                                       |
//! +--------+-------+-------------------------------------------------------------+
//! | 0      | 10    | sequence number, decimal, right-aligned, space-padded       |
//! | 10     | 1     | ','                                                         |
//! | 11     | 17    | time, UTC, YY/MM/DD HH:MM:SS                                |
//! | 28     | 1     | ','                                                         |
//! | 29     | 256   | message text, printable ASCII, space-padded                 |
//! | 285    | 1     | ','                                                         |
//! | 286    | 64    | HMAC of the previous record, upper-case hex                 |
//! | 350    | 1     | ','                                                         |
//! | 351    | 104   | raw data (52 bytes, below), upper-case hex                  |
//! | 455    | 1     | '\n'                                                        |
//! +--------+-------+-------------------------------------------------------------+
//!
//! raw data (little-endian except the access id):
//! +--------+-------+-------------------------------------------------------------+
//! | 0      | 4     | sequence number                                             |
//! | 4      | 2     | category                                                    |
//! | 6      | 2     | operation                                                   |
//! | 8      | 4     | time, Unix seconds                                          |
//! | 12     | 4     | return code                                                 |
//! | 16     | 8     | access id, big-endian                                       |
//! | 24     | 8     | HSM serial number                                           |
//! | 32     | 4     | session handle                                              |
//! | 36     | 16    | data: partition serial (8), role id (4), handle (4)         |
//! +--------+-------+-------------------------------------------------------------+
//! ```
//!
//! HMAC_n = HMAC-SHA256(log secret, line_n[0..286] || line_n[351..455] || HMAC_{n-1}), with
//! HMAC_0 = 32 zero bytes: every field of the record but the previous HMAC's hex copy, then
//! the previous HMAC itself.

use aws_lc_rs::hmac;

use super::event::Event;
use super::verify::BadReason;

/// Bytes of one record line, newline included.
pub const LINE_LEN: usize = 456;
/// Bytes of a record's raw data.
pub(crate) const RAW_LEN: usize = 52;

pub(crate) const SEQ: (usize, usize) = (0, 10);
pub(crate) const TIME: (usize, usize) = (11, 17);
pub(crate) const TEXT: (usize, usize) = (29, 256);
pub(crate) const PREV: (usize, usize) = (286, 64);
pub(crate) const RAW: (usize, usize) = (351, 104);
pub(crate) const COMMAS: [usize; 4] = [10, 28, 285, 350];
pub(crate) const NEWLINE: usize = 455;

/// Longest external message kept (the reference's firmware limit).
pub(crate) const EXTERNAL_MAX: usize = 100;

const fn end(f: (usize, usize)) -> usize {
    f.0 + f.1
}

// The offsets follow from the widths.
const _: () = {
    assert!(end(SEQ) == COMMAS[0] && COMMAS[0] + 1 == TIME.0);
    assert!(end(TIME) == COMMAS[1] && COMMAS[1] + 1 == TEXT.0);
    assert!(end(TEXT) == COMMAS[2] && COMMAS[2] + 1 == PREV.0);
    assert!(end(PREV) == COMMAS[3] && COMMAS[3] + 1 == RAW.0);
    assert!(end(RAW) == NEWLINE && NEWLINE + 1 == LINE_LEN);
    assert!(RAW.1 == 2 * RAW_LEN && PREV.1 == 64);
};

/// The decoded raw data of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawRecord {
    /// Sequence number.
    pub seq: u32,
    /// Category number.
    pub category: u16,
    /// Operation number.
    pub op: u16,
    /// Unix seconds.
    pub time: u32,
    /// Return code.
    pub rc: u32,
    /// Access id.
    pub access: u64,
    /// HSM serial number.
    pub hsm_serial: u64,
    /// Session handle.
    pub session: u32,
    /// Event data.
    pub data: [u8; 16],
}

impl RawRecord {
    #[allow(clippy::big_endian_bytes)]
    fn to_bytes(self) -> [u8; RAW_LEN] {
        let mut b = [0u8; RAW_LEN];
        b[0..4].copy_from_slice(&self.seq.to_le_bytes());
        b[4..6].copy_from_slice(&self.category.to_le_bytes());
        b[6..8].copy_from_slice(&self.op.to_le_bytes());
        b[8..12].copy_from_slice(&self.time.to_le_bytes());
        b[12..16].copy_from_slice(&self.rc.to_le_bytes());
        // The access id is the one big-endian field (AU-21), so its hex reads as in the text.
        b[16..24].copy_from_slice(&self.access.to_be_bytes());
        b[24..32].copy_from_slice(&self.hsm_serial.to_le_bytes());
        b[32..36].copy_from_slice(&self.session.to_le_bytes());
        b[36..52].copy_from_slice(&self.data);
        b
    }

    #[allow(clippy::big_endian_bytes)]
    fn from_bytes(b: &[u8; RAW_LEN]) -> Self {
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[16..24]);
        let mut s = [0u8; 8];
        s.copy_from_slice(&b[24..32]);
        let mut data = [0u8; 16];
        data.copy_from_slice(&b[36..52]);
        Self {
            seq: u32_at(0),
            category: u16_at(4),
            op: u16_at(6),
            time: u32_at(8),
            rc: u32_at(12),
            access: u64::from_be_bytes(a),
            hsm_serial: u64::from_le_bytes(s),
            session: u32_at(32),
            data,
        }
    }
}

/// `YY/MM/DD HH:MM:SS` (UTC) of Unix seconds.
pub(crate) fn timestamp(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .format("%y/%m/%d %H:%M:%S")
        .to_string()
}

fn hex_upper(bytes: &[u8], out: &mut Vec<u8>) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 15)]);
    }
}

fn unhex(text: &[u8], out: &mut [u8]) -> bool {
    if text.len() != 2 * out.len() {
        return false;
    }
    let nib = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    for (i, o) in out.iter_mut().enumerate() {
        match (nib(text[2 * i]), nib(text[2 * i + 1])) {
            (Some(h), Some(l)) => *o = h << 4 | l,
            _ => return false,
        }
    }
    true
}

/// The message text of an event (before padding): who, what and the result (AU-22).
fn message(ev: &Event, module_serial: u64) -> String {
    use std::fmt::Write as _;
    let mut text = String::new();
    let serial = if ev.serial == 0 {
        module_serial
    } else {
        ev.serial
    };
    let _ = write!(text, "S/N {serial}");
    if ev.session != 0 {
        let _ = write!(text, " session {}", ev.session);
    }
    if let Some(a) = ev.access {
        let _ = write!(text, " Access {a:016x}");
    }
    if ev.op == super::AuditOp::LogExternal {
        let msg: String = ev.detail.chars().take(EXTERNAL_MAX).collect();
        let _ = write!(text, " external message follows: {msg}");
        return text;
    }
    let rc = strongroom_proto::RetCode::from_u32(ev.rc);
    let name = if rc.is_ok() { "RC_OK" } else { rc.name() };
    let _ = write!(
        text,
        " operation {} returned {name}(0x{:08X})",
        ev.op.name(),
        ev.rc
    );
    if !ev.detail.is_empty() {
        let _ = write!(text, " {}", ev.detail);
    }
    text
}

/// Formats the record of `ev` as sequence `seq` at Unix time `time`, chained to `prev`.
/// Returns the line and its HMAC.
pub(crate) fn format_line(
    secret: &[u8; 32],
    ev: &Event,
    seq: u32,
    time: i64,
    module_serial: u64,
    prev: &[u8; 32],
) -> (Vec<u8>, [u8; 32]) {
    let raw = RawRecord {
        seq,
        category: ev.category.number(),
        op: ev.op.number(),
        time: u32::try_from(time.max(0)).unwrap_or(u32::MAX),
        rc: ev.rc,
        access: ev.access.unwrap_or(0),
        hsm_serial: module_serial,
        session: ev.session,
        data: ev.data,
    };
    let mut line = Vec::with_capacity(LINE_LEN);
    line.extend_from_slice(format!("{seq:>10},").as_bytes());
    line.extend_from_slice(timestamp(i64::from(raw.time)).as_bytes());
    line.push(b',');
    // Printable ASCII only, so that a message can neither break the line nor the width.
    let text: Vec<u8> = message(ev, module_serial)
        .bytes()
        .map(|b| if (0x20..0x7f).contains(&b) { b } else { b'?' })
        .take(TEXT.1)
        .collect();
    line.extend_from_slice(&text);
    line.resize(TEXT.0 + TEXT.1, b' ');
    line.push(b',');
    hex_upper(prev, &mut line);
    line.push(b',');
    hex_upper(&raw.to_bytes(), &mut line);
    line.push(b'\n');
    debug_assert_eq!(line.len(), LINE_LEN);
    let mac = chain_hmac(secret, &line, prev);
    (line, mac)
}

/// HMAC_n of a well-formed line chained to `prev`.
pub(crate) fn chain_hmac(secret: &[u8; 32], line: &[u8], prev: &[u8; 32]) -> [u8; 32] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(&line[..PREV.0]);
    ctx.update(&line[RAW.0..NEWLINE]);
    ctx.update(prev);
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.sign().as_ref());
    out
}

/// A checked record line.
#[derive(Clone, Debug)]
pub(crate) struct Parsed {
    pub(crate) seq: u32,
    pub(crate) prev: [u8; 32],
}

/// The raw data of a well-formed line.
pub fn raw_of_line(line: &[u8]) -> Option<RawRecord> {
    if line.len() < NEWLINE {
        return None;
    }
    let mut raw = [0u8; RAW_LEN];
    unhex(&line[RAW.0..end(RAW)], &mut raw).then(|| RawRecord::from_bytes(&raw))
}

/// Checks the shape of one line (`LINE_LEN` bytes with its newline): widths, separators,
/// character sets, and that the text's sequence number and time agree with the raw data.
pub fn parse_line(line: &[u8]) -> Result<(u32, [u8; 32]), BadReason> {
    parse(line).map(|p| (p.seq, p.prev))
}

pub(crate) fn parse(line: &[u8]) -> Result<Parsed, BadReason> {
    if line.len() != LINE_LEN || line[NEWLINE] != b'\n' {
        return Err(BadReason::Malformed("the record is not 456 bytes long"));
    }
    if COMMAS.iter().any(|&i| line[i] != b',') {
        return Err(BadReason::Malformed("a field separator is missing"));
    }
    let seq_text = std::str::from_utf8(&line[SEQ.0..end(SEQ)])
        .ok()
        .map(str::trim_start)
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|t| t.parse::<u32>().ok())
        .ok_or(BadReason::Malformed("the sequence number is not a number"))?;
    if line[TEXT.0..end(TEXT)]
        .iter()
        .any(|b| !(0x20..0x7f).contains(b))
    {
        return Err(BadReason::Malformed("the message text is not printable"));
    }
    let mut prev = [0u8; 32];
    if !unhex(&line[PREV.0..end(PREV)], &mut prev) {
        return Err(BadReason::Malformed("the previous HMAC is not hex"));
    }
    let raw = raw_of_line(line).ok_or(BadReason::Malformed("the raw data is not hex"))?;
    if raw.seq != seq_text {
        return Err(BadReason::Malformed(
            "the sequence number differs from the raw data",
        ));
    }
    if line[TIME.0..end(TIME)] != *timestamp(i64::from(raw.time)).as_bytes() {
        return Err(BadReason::Malformed("the time differs from the raw data"));
    }
    Ok(Parsed { seq: raw.seq, prev })
}
