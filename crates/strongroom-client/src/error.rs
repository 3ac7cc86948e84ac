//! Errors of the NTLS client.

use std::fmt;

use strongroom_proto::{Ckr, RetCode, ckr};

/// Why an NTLS call failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The appliance could not be reached or the connection broke (socket error, closed).
    Io(std::io::Error),
    /// The TLS layer refused the peer or failed (wrong appliance certificate pinned, client
    /// certificate not registered, protocol error).
    Tls(rustls::Error),
    /// The appliance sent bytes that are not a valid frame; the connection was closed.
    Protocol(String),
    /// The appliance speaks no protocol version this client speaks.
    VersionMismatch {
        /// The appliance's range.
        appliance: (u16, u16),
    },
    /// No answer within the request timeout.
    Timeout,
    /// The connection was lost while the request was in flight; whether the appliance
    /// executed it is unknown.
    ConnectionLost,
    /// The caller gave something unusable (oversize payload, bad certificate file, bad
    /// configuration).
    InvalidInput(String),
    /// The appliance refused the request with a module return code; `needed` is the length a
    /// too-small output buffer must have.
    Module {
        /// The module return code (`SR_RET_*`).
        code: RetCode,
        /// For `SR_RET_BUFFER_TOO_SMALL`, the length needed.
        needed: Option<u64>,
    },
    /// No slot has this id.
    SlotInvalid,
    /// No open session has this handle (never opened, closed, or lost with its connection).
    SessionInvalid,
    /// The slot's partition cannot be reached: its appliance does not answer or no longer
    /// assigns it to this client.
    TokenNotPresent,
    /// The connection carrying the session was lost during the call (the appliance restarted
    /// or the link broke); the session is gone.
    DeviceRemoved,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(err) => write!(f, "connection to the appliance failed: {err}"),
            Self::Tls(err) => write!(f, "TLS with the appliance failed: {err}"),
            Self::Protocol(what) => write!(f, "the appliance sent invalid data: {what}"),
            Self::VersionMismatch { appliance } => write!(
                f,
                "the appliance speaks protocol versions {}-{}, this client {}-{}",
                appliance.0,
                appliance.1,
                strongroom_proto::PROTOCOL_VERSIONS.start(),
                strongroom_proto::PROTOCOL_VERSIONS.end()
            ),
            Self::Timeout => f.write_str("the appliance did not answer in time"),
            Self::ConnectionLost => f.write_str("the connection to the appliance was lost"),
            Self::InvalidInput(what) => f.write_str(what),
            Self::Module { code, .. } => write!(f, "the appliance refused the request: {code}"),
            Self::SlotInvalid => f.write_str("no such slot"),
            Self::SessionInvalid => f.write_str("no such session"),
            Self::TokenNotPresent => f.write_str("the partition cannot be reached"),
            Self::DeviceRemoved => f.write_str("the partition went away during the call"),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// The PKCS#11 return value an application sees for this error.
    ///
    /// | error | `CK_RV` |
    /// |---|---|
    /// | module return code | its table mapping (`RetCode::ckr`) |
    /// | no such slot | `CKR_SLOT_ID_INVALID` |
    /// | no such session (also: its connection was replaced) | `CKR_SESSION_HANDLE_INVALID` |
    /// | appliance unreachable, partition not assigned | `CKR_TOKEN_NOT_PRESENT` |
    /// | connection lost during the call | `CKR_DEVICE_REMOVED` |
    /// | no answer in time, invalid data from the appliance | `CKR_DEVICE_ERROR` |
    /// | TLS or socket failure, version mismatch | `CKR_DEVICE_ERROR` |
    /// | unusable input (configuration, oversize request) | `CKR_GENERAL_ERROR` |
    pub fn ckr(&self) -> Ckr {
        match self {
            Self::Module { code, .. } => code.ckr(),
            Self::SlotInvalid => ckr::CKR_SLOT_ID_INVALID,
            Self::SessionInvalid => ckr::CKR_SESSION_HANDLE_INVALID,
            Self::TokenNotPresent => ckr::CKR_TOKEN_NOT_PRESENT,
            Self::DeviceRemoved | Self::ConnectionLost => ckr::CKR_DEVICE_REMOVED,
            Self::Io(_)
            | Self::Tls(_)
            | Self::Protocol(_)
            | Self::VersionMismatch { .. }
            | Self::Timeout => ckr::CKR_DEVICE_ERROR,
            Self::InvalidInput(_) => ckr::CKR_GENERAL_ERROR,
        }
    }

    /// Whether the link itself failed (as opposed to a refusal by the appliance).
    pub fn is_link_failure(&self) -> bool {
        matches!(
            self,
            Self::Io(_) | Self::Tls(_) | Self::Protocol(_) | Self::ConnectionLost | Self::Timeout
        )
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        // rustls reports its errors through io::Error in the stream adapters.
        if let Some(tls) = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>())
        {
            return Self::Tls(tls.clone());
        }
        Self::Io(err)
    }
}

impl From<rustls::Error> for Error {
    fn from(err: rustls::Error) -> Self {
        Self::Tls(err)
    }
}
