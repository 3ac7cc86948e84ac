//! The one error type of the crypto provider.

use core::fmt;

/// Why a cryptographic operation was refused or failed.
///
/// Variants keep "the caller passed something this crate cannot take" (key size, parameter,
/// length) apart from "the data did not check out" ([`Error::Rejected`]), which is opaque on
/// purpose: a failed signature, MAC, tag, padding or unwrap integrity check says nothing about
/// where it failed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The key length, modulus size or curve is not one this crate offers.
    KeySize,
    /// Key material is malformed or its components are inconsistent.
    KeyInvalid,
    /// A mechanism parameter (IV, tag length, salt length, counter bits, hash pairing…) is
    /// invalid for the operation.
    Parameter,
    /// The input length is not acceptable for the operation (not a block multiple, larger than
    /// the modulus, counter space exhausted…).
    DataLength,
    /// The output buffer is too small; `needed` bytes are required.
    BufferTooSmall {
        /// Bytes the output buffer must hold.
        needed: usize,
    },
    /// A signature, MAC, authentication tag, padding or key-wrap integrity check failed.
    Rejected,
    /// The operation was already finished, or a multi-part call came out of order.
    OperationState,
    /// The random bit generator failed (entropy source or DRBG error).
    Random,
    /// The underlying library failed in a way that is not the caller's fault.
    Internal,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::KeySize => f.write_str("key size not supported"),
            Self::KeyInvalid => f.write_str("key material invalid or inconsistent"),
            Self::Parameter => f.write_str("mechanism parameter invalid"),
            Self::DataLength => f.write_str("input length invalid for this operation"),
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
            Self::Rejected => f.write_str("verification failed"),
            Self::OperationState => f.write_str("operation not active or already finished"),
            Self::Random => f.write_str("random bit generator failure"),
            Self::Internal => f.write_str("internal cryptographic library failure"),
        }
    }
}

impl std::error::Error for Error {}

impl From<aws_lc_rs::error::Unspecified> for Error {
    fn from(_: aws_lc_rs::error::Unspecified) -> Self {
        Self::Internal
    }
}

impl From<aws_lc_rs::error::KeyRejected> for Error {
    fn from(_: aws_lc_rs::error::KeyRejected) -> Self {
        Self::KeyInvalid
    }
}

/// Copies `src` into the front of `dst` and returns its length, or
/// [`Error::BufferTooSmall`] with the needed length (the PKCS#11 output convention).
pub fn write_output(src: &[u8], dst: &mut [u8]) -> Result<usize, Error> {
    let out = dst
        .get_mut(..src.len())
        .ok_or(Error::BufferTooSmall { needed: src.len() })?;
    out.copy_from_slice(src);
    Ok(src.len())
}
