//! The answers the appliance sends, and the request dispatcher.
//!
//! The request messages are not defined yet: after the hello, every request is answered with
//! an *error* frame carrying the module return code `SR_RET_FUNCTION_NOT_SUPPORTED`, and the
//! connection stays open. The minimal response encoding, until the request messages exist:
//!
//! ```text
//!  opcode 1 (error), same request id
//!  +------------------------+
//!  | SR_RET code, u32 LE    |
//!  +------------------------+
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

use strongroom_proto::{Frame, Hello, OP_HELLO, PROTOCOL_VERSIONS, RetCode, encode_frame, ret};

use super::registry::Registry;

/// Opcode of an error answer: the payload is the 4-byte little-endian module return code.
pub(crate) const OP_ERROR: u16 = 1;

/// Who sent a request: the registered client behind the connection. Request handlers map it
/// to the client's assigned partitions through the registry, at each request.
#[derive(Clone, Debug)]
pub(crate) struct Peer {
    /// The registered client name of the peer's certificate.
    pub(crate) client: Arc<str>,
    /// The peer's address.
    pub(crate) addr: SocketAddr,
    /// The negotiated protocol version.
    pub(crate) version: u16,
}

/// What a request handler may consult.
#[derive(Clone, Debug)]
pub(crate) struct RequestContext {
    pub(crate) peer: Peer,
    pub(crate) registry: Arc<Registry>,
}

/// Encodes one answer frame. Answers are small and always within `max_payload`; one that is
/// not becomes an error answer instead.
pub(crate) fn encode(request_id: u64, opcode: u16, payload: &[u8], max_payload: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(strongroom_proto::HEADER_LEN + payload.len());
    if encode_frame(&mut out, request_id, opcode, payload, max_payload).is_err() {
        out.clear();
        let code = ret::SR_RET_DEVICE_ERROR.value().to_le_bytes();
        // Four bytes always fit a frame.
        let _ = encode_frame(&mut out, request_id, OP_ERROR, &code, max_payload);
    }
    out
}

/// An error answer with a module return code.
pub(crate) fn error(request_id: u64, code: RetCode, max_payload: usize) -> Vec<u8> {
    encode(
        request_id,
        OP_ERROR,
        &code.value().to_le_bytes(),
        max_payload,
    )
}

/// The appliance's answer to a client's hello: the chosen version, or (when none is shared)
/// the appliance's own range, after which the connection is closed. `None` for a malformed
/// hello.
pub(crate) fn hello_answer(frame: &Frame) -> Option<(Hello, bool)> {
    if frame.opcode != OP_HELLO {
        return None;
    }
    let theirs = Hello::decode(&frame.payload)?;
    Some(match theirs.negotiate(PROTOCOL_VERSIONS) {
        Some(v) => (Hello { min: v, max: v }, true),
        None => (
            Hello {
                min: *PROTOCOL_VERSIONS.start(),
                max: *PROTOCOL_VERSIONS.end(),
            },
            false,
        ),
    })
}

/// Handles one request frame and returns the encoded answer.
pub(crate) async fn dispatch(ctx: &RequestContext, frame: Frame, max_payload: usize) -> Vec<u8> {
    let assigned = ctx
        .registry
        .partitions_of(&ctx.peer.client)
        .map_or(0, |p| p.len());
    tracing::debug!(
        peer = %ctx.peer.addr,
        version = ctx.peer.version,
        request_id = frame.request_id,
        opcode = frame.opcode,
        payload_len = frame.payload.len(),
        assigned,
        "request answered: not supported by this version"
    );
    error(
        frame.request_id,
        ret::SR_RET_FUNCTION_NOT_SUPPORTED,
        max_payload,
    )
}
