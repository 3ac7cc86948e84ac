//! NTLS framing: how requests and responses travel inside the TLS stream.
//!
//! ```text
//!  0        4                12       14
//!  +--------+----------------+--------+---------------------------+
//!  | len    | request_id     | opcode | payload (len - 10 bytes)  |
//!  | u32 LE | u64 LE         | u16 LE |                           |
//!  +--------+----------------+--------+---------------------------+
//! ```
//!
//! `len` counts everything after itself (request id, opcode and payload), so the smallest
//! frame is 14 bytes on the wire. A connection carries many requests at once: the client picks
//! the request ids, the appliance answers each with the same id, in whatever order the work
//! completes. The first frame of each side is the hello ([`Hello`]), which fixes the protocol
//! version.
//!
//! The codec is sans-I/O: [`FrameDecoder`] takes bytes as they arrive and yields whole frames;
//! [`encode_frame`] appends one frame to a buffer. A frame larger than the decoder's maximum, or
//! shorter than its header, is a [`FrameError`]: the peer sent bad data, and the connection is
//! closed (nothing is read past it).

use std::fmt;

/// Bytes of the header after the length field: request id and opcode.
const HEADER_AFTER_LEN: usize = size_of::<u64>() + size_of::<u16>();
/// Bytes of the whole header on the wire.
pub const HEADER_LEN: usize = size_of::<u32>() + HEADER_AFTER_LEN;
/// The largest payload a frame may carry by default (4 MiB): larger than any single PKCS#11
/// operation an application sends in one call, small enough to bound a connection's memory.
pub const DEFAULT_MAX_PAYLOAD: usize = 4 * 1024 * 1024;

/// One decoded frame.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    /// Chosen by the client; echoed by the appliance.
    pub request_id: u64,
    /// What the payload is.
    pub opcode: u16,
    /// The payload bytes.
    pub payload: Vec<u8>,
}

impl fmt::Debug for Frame {
    /// Never prints payload bytes: they may carry PINs or key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame")
            .field("request_id", &self.request_id)
            .field("opcode", &self.opcode)
            .field("payload_len", &self.payload.len())
            .finish()
    }
}

/// The peer sent bytes that are not a valid frame. The connection must be closed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameError {
    /// The length field announces more than the maximum payload.
    TooLarge {
        /// Payload bytes announced.
        announced: u64,
        /// The decoder's maximum.
        max: usize,
    },
    /// The length field is smaller than the header it must cover.
    TooShort {
        /// The announced length.
        announced: u32,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { announced, max } => {
                write!(
                    f,
                    "frame payload of {announced} bytes exceeds the maximum of {max}"
                )
            }
            Self::TooShort { announced } => {
                write!(
                    f,
                    "frame length {announced} is shorter than its {HEADER_AFTER_LEN}-byte header"
                )
            }
        }
    }
}

impl std::error::Error for FrameError {}

/// The caller asked to encode a frame the peer would refuse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PayloadTooLarge {
    /// The payload's length.
    pub len: usize,
    /// The largest allowed.
    pub max: usize,
}

impl fmt::Display for PayloadTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "payload of {} bytes exceeds the frame maximum of {}",
            self.len, self.max
        )
    }
}

impl std::error::Error for PayloadTooLarge {}

/// Appends one frame to `out`. Refuses payloads above `max_payload`.
pub fn encode_frame(
    out: &mut Vec<u8>,
    request_id: u64,
    opcode: u16,
    payload: &[u8],
    max_payload: usize,
) -> Result<(), PayloadTooLarge> {
    let too_large = PayloadTooLarge {
        len: payload.len(),
        max: max_payload,
    };
    if payload.len() > max_payload {
        return Err(too_large);
    }
    let len = u32::try_from(payload.len() + HEADER_AFTER_LEN).map_err(|_| too_large)?;
    out.reserve(HEADER_LEN + payload.len());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&request_id.to_le_bytes());
    out.extend_from_slice(&opcode.to_le_bytes());
    out.extend_from_slice(payload);
    Ok(())
}

/// Reassembles frames from a byte stream.
#[derive(Debug)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    max_payload: usize,
    failed: Option<FrameError>,
}

impl FrameDecoder {
    /// A decoder refusing payloads above `max_payload` bytes.
    pub fn new(max_payload: usize) -> Self {
        Self {
            buf: Vec::new(),
            max_payload,
            failed: None,
        }
    }

    /// Adds bytes received from the peer.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.failed.is_none() {
            self.buf.extend_from_slice(bytes);
        }
    }

    /// Bytes received but not yet returned as frames.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next whole frame, `Ok(None)` if more bytes are needed, or the error that ends the
    /// connection (returned again on every later call).
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let Some(len_bytes) = self.buf.first_chunk::<4>() else {
            return Ok(None);
        };
        let announced = u32::from_le_bytes(*len_bytes);
        let Some(payload_len) = usize::try_from(announced)
            .ok()
            .and_then(|l| l.checked_sub(HEADER_AFTER_LEN))
        else {
            return Err(self.fail(FrameError::TooShort { announced }));
        };
        if payload_len > self.max_payload {
            let announced = u64::from(announced) - HEADER_AFTER_LEN as u64;
            return Err(self.fail(FrameError::TooLarge {
                announced,
                max: self.max_payload,
            }));
        }
        let total = HEADER_LEN + payload_len;
        if self.buf.len() < total {
            return Ok(None);
        }
        let mut id = [0u8; 8];
        id.copy_from_slice(&self.buf[4..12]);
        let mut op = [0u8; 2];
        op.copy_from_slice(&self.buf[12..14]);
        let payload = self.buf[HEADER_LEN..total].to_vec();
        self.buf.drain(..total);
        Ok(Some(Frame {
            request_id: u64::from_le_bytes(id),
            opcode: u16::from_le_bytes(op),
            payload,
        }))
    }

    fn fail(&mut self, err: FrameError) -> FrameError {
        self.buf.clear();
        self.failed = Some(err.clone());
        err
    }
}

/// Opcode of the hello frame, the first frame each side sends.
pub const OP_HELLO: u16 = 0;

/// Magic bytes opening a hello payload.
pub const HELLO_MAGIC: [u8; 4] = *b"SRNT";

/// The protocol versions this build speaks. Version 2: the answers to `C_EncryptInit`,
/// `C_DecryptInit`, `C_DigestInit` and `C_SignInit` say how the single-part call answers a
/// length query ([`crate::messages::OutputLength`]), so that the library answers it itself.
/// Version 3: those of `C_SignInit` and `C_VerifyInit` also say whether the same init is bound
/// to succeed again, and the library may then answer it itself and send it with the next call
/// of the operation ([`crate::messages::PipelinedRequest`]). Version 4: so do those of
/// `C_EncryptInit` and `C_DecryptInit`. A peer of an earlier version is refused at the hello,
/// with both ranges in the error.
pub const PROTOCOL_VERSIONS: std::ops::RangeInclusive<u16> = 4..=4;

/// The hello payload: the range of protocol versions the sender speaks, or (from the
/// appliance) the one version chosen (`min == max`).
///
/// ```text
/// magic "SRNT" (4) | min u16 LE | max u16 LE
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hello {
    /// Lowest version spoken.
    pub min: u16,
    /// Highest version spoken.
    pub max: u16,
}

impl Hello {
    /// Encodes the hello payload.
    pub fn encode(&self) -> [u8; 8] {
        let mut out = [0u8; 8];
        out[..4].copy_from_slice(&HELLO_MAGIC);
        out[4..6].copy_from_slice(&self.min.to_le_bytes());
        out[6..8].copy_from_slice(&self.max.to_le_bytes());
        out
    }

    /// Decodes a hello payload; `None` for anything but exactly a well-formed hello.
    pub fn decode(payload: &[u8]) -> Option<Self> {
        let bytes: &[u8; 8] = payload.try_into().ok()?;
        if bytes[..4] != HELLO_MAGIC {
            return None;
        }
        let min = u16::from_le_bytes([bytes[4], bytes[5]]);
        let max = u16::from_le_bytes([bytes[6], bytes[7]]);
        (min <= max).then_some(Self { min, max })
    }

    /// The version both sides speak: the highest in both ranges.
    pub fn negotiate(&self, ours: std::ops::RangeInclusive<u16>) -> Option<u16> {
        let hi = self.max.min(*ours.end());
        let lo = self.min.max(*ours.start());
        (lo <= hi).then_some(hi)
    }
}

#[cfg(test)]
mod tests;
