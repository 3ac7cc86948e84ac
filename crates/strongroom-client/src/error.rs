//! Errors of the NTLS client.

use std::fmt;

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
        }
    }
}

impl std::error::Error for Error {}

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
