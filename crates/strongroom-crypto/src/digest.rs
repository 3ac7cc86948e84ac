//! Message digests SHA-1, SHA-2 and SHA-3, single- and multi-part.

use aws_lc_rs::digest as lc;

use crate::Error;
use crate::ffi;

/// A hash function.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlg {
    /// SHA-1 (legacy: collisions are practical; not for new signatures).
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
    /// SHA3-224.
    Sha3_224,
    /// SHA3-256.
    Sha3_256,
    /// SHA3-384.
    Sha3_384,
    /// SHA3-512.
    Sha3_512,
}

impl HashAlg {
    /// Every hash this crate offers.
    pub const ALL: [Self; 9] = [
        Self::Sha1,
        Self::Sha224,
        Self::Sha256,
        Self::Sha384,
        Self::Sha512,
        Self::Sha3_224,
        Self::Sha3_256,
        Self::Sha3_384,
        Self::Sha3_512,
    ];

    /// Length of the digest in bytes.
    pub const fn output_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha224 | Self::Sha3_224 => 28,
            Self::Sha256 | Self::Sha3_256 => 32,
            Self::Sha384 | Self::Sha3_384 => 48,
            Self::Sha512 | Self::Sha3_512 => 64,
        }
    }

    /// Whether the hash is one of SHA-1 and SHA-2 (the family RSA and HMAC mechanisms use).
    pub const fn is_sha2_family(self) -> bool {
        matches!(
            self,
            Self::Sha1 | Self::Sha224 | Self::Sha256 | Self::Sha384 | Self::Sha512
        )
    }

    /// The aws-lc-rs algorithm, where its safe API has one (it lacks SHA3-224).
    pub(crate) fn lc(self) -> Option<&'static lc::Algorithm> {
        Some(match self {
            Self::Sha1 => &lc::SHA1_FOR_LEGACY_USE_ONLY,
            Self::Sha224 => &lc::SHA224,
            Self::Sha256 => &lc::SHA256,
            Self::Sha384 => &lc::SHA384,
            Self::Sha512 => &lc::SHA512,
            Self::Sha3_224 => return None,
            Self::Sha3_256 => &lc::SHA3_256,
            Self::Sha3_384 => &lc::SHA3_384,
            Self::Sha3_512 => &lc::SHA3_512,
        })
    }

    /// DER of the `DigestInfo` prefix that PKCS#1 v1.5 signatures put before the digest.
    pub fn digest_info_prefix(self) -> &'static [u8] {
        match self {
            Self::Sha1 => &[
                0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
                0x14,
            ],
            Self::Sha224 => &DIGEST_INFO_SHA2[0],
            Self::Sha256 => &DIGEST_INFO_SHA2[1],
            Self::Sha384 => &DIGEST_INFO_SHA2[2],
            Self::Sha512 => &DIGEST_INFO_SHA2[3],
            Self::Sha3_224 => &DIGEST_INFO_SHA2[4],
            Self::Sha3_256 => &DIGEST_INFO_SHA2[5],
            Self::Sha3_384 => &DIGEST_INFO_SHA2[6],
            Self::Sha3_512 => &DIGEST_INFO_SHA2[7],
        }
    }
}

/// `DigestInfo` prefixes for the hashes under the NIST arc 2.16.840.1.101.3.4.2.x:
/// `30 len 30 0d 06 09 <oid> 05 00 04 hlen`.
const DIGEST_INFO_SHA2: [[u8; 19]; 8] = {
    const fn prefix(arc: u8, hlen: u8) -> [u8; 19] {
        [
            0x30,
            0x11 + hlen,
            0x30,
            0x0d,
            0x06,
            0x09,
            0x60,
            0x86,
            0x48,
            0x01,
            0x65,
            0x03,
            0x04,
            0x02,
            arc,
            0x05,
            0x00,
            0x04,
            hlen,
        ]
    }
    [
        prefix(4, 28),
        prefix(1, 32),
        prefix(2, 48),
        prefix(3, 64),
        prefix(7, 28),
        prefix(8, 32),
        prefix(9, 48),
        prefix(10, 64),
    ]
};

/// Hashes `data` in one call.
pub fn digest(alg: HashAlg, data: &[u8]) -> Vec<u8> {
    let mut ctx = DigestContext::new(alg);
    ctx.update(data);
    ctx.finish()
}

/// A multi-part digest (`C_DigestInit`/`C_DigestUpdate`/`C_DigestFinal`).
pub struct DigestContext {
    alg: HashAlg,
    inner: Inner,
}

enum Inner {
    Safe(lc::Context),
    Raw(ffi::MdCtx),
}

impl DigestContext {
    /// Starts a digest.
    pub fn new(alg: HashAlg) -> Self {
        let inner = match alg.lc() {
            Some(a) => Inner::Safe(lc::Context::new(a)),
            None => Inner::Raw(ffi::MdCtx::new(alg)),
        };
        Self { alg, inner }
    }

    /// The hash this context computes.
    pub fn algorithm(&self) -> HashAlg {
        self.alg
    }

    /// Feeds more data.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.inner {
            Inner::Safe(c) => c.update(data),
            Inner::Raw(c) => c.update(data),
        }
    }

    /// Finishes the digest and returns it.
    pub fn finish(self) -> Vec<u8> {
        match self.inner {
            Inner::Safe(c) => c.finish().as_ref().to_vec(),
            Inner::Raw(c) => c.finish(),
        }
    }

    /// Finishes into `out` with the PKCS#11 buffer convention.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if `out` is shorter than the digest; the context is kept.
    pub fn finish_into(self, out: &mut [u8]) -> Result<usize, (Self, Error)> {
        let needed = self.alg.output_len();
        if out.len() < needed {
            return Err((self, Error::BufferTooSmall { needed }));
        }
        let d = self.finish();
        out[..needed].copy_from_slice(&d);
        Ok(needed)
    }
}

impl Clone for DigestContext {
    /// Digest state holds no key, so it may be cloned (`C_GetOperationState`-like uses).
    fn clone(&self) -> Self {
        let inner = match &self.inner {
            Inner::Safe(c) => Inner::Safe(c.clone()),
            Inner::Raw(c) => Inner::Raw(c.clone()),
        };
        Self {
            alg: self.alg,
            inner,
        }
    }
}
