//! HMAC with SHA-1/SHA-2 and AES-CMAC, full-length and general-length (truncated), single- and
//! multi-part, with constant-time verification.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::{cmac, hmac};

use crate::{AesKey, Error, HashAlg};

fn hmac_alg(hash: HashAlg) -> Result<hmac::Algorithm, Error> {
    Ok(match hash {
        HashAlg::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        HashAlg::Sha224 => hmac::HMAC_SHA224,
        HashAlg::Sha256 => hmac::HMAC_SHA256,
        HashAlg::Sha384 => hmac::HMAC_SHA384,
        HashAlg::Sha512 => hmac::HMAC_SHA512,
        _ => return Err(Error::Parameter),
    })
}

/// Checks a requested MAC length against the full length (`*_HMAC_GENERAL`, `CMAC_GENERAL`).
fn check_mac_len(mac_len: usize, full: usize) -> Result<(), Error> {
    if mac_len == 0 || mac_len > full {
        return Err(Error::Parameter);
    }
    Ok(())
}

/// Compares a computed MAC prefix with `tag` in constant time.
fn verify_prefix(full: &[u8], tag: &[u8]) -> Result<(), Error> {
    if tag.is_empty() || tag.len() > full.len() {
        return Err(Error::Rejected);
    }
    verify_slices_are_equal(&full[..tag.len()], tag).map_err(|_| Error::Rejected)
}

/// A multi-part HMAC (`CKM_SHA*_HMAC` and `_GENERAL`).
pub struct HmacContext {
    ctx: hmac::Context,
    full_len: usize,
}

impl HmacContext {
    /// Starts an HMAC with `hash` (SHA-1 or SHA-2) under `key` (any length).
    ///
    /// # Errors
    /// [`Error::Parameter`] for a SHA-3 hash.
    pub fn new(hash: HashAlg, key: &[u8]) -> Result<Self, Error> {
        let alg = hmac_alg(hash)?;
        let key = hmac::Key::new(alg, key);
        Ok(Self {
            ctx: hmac::Context::with_key(&key),
            full_len: hash.output_len(),
        })
    }

    /// Feeds more data.
    pub fn update(&mut self, data: &[u8]) {
        self.ctx.update(data);
    }

    /// Returns the first `mac_len` bytes of the MAC.
    ///
    /// # Errors
    /// [`Error::Parameter`] if `mac_len` is 0 or longer than the hash.
    pub fn sign(self, mac_len: usize) -> Result<Vec<u8>, Error> {
        check_mac_len(mac_len, self.full_len)?;
        let tag = self.ctx.sign();
        Ok(tag.as_ref()[..mac_len].to_vec())
    }

    /// Checks `tag` (full or truncated) in constant time.
    ///
    /// # Errors
    /// [`Error::Rejected`] if it does not match.
    pub fn verify(self, tag: &[u8]) -> Result<(), Error> {
        verify_prefix(self.ctx.sign().as_ref(), tag)
    }
}

/// One-shot HMAC.
///
/// # Errors
/// As [`HmacContext::new`] and [`HmacContext::sign`].
pub fn hmac_sign(hash: HashAlg, key: &[u8], data: &[u8], mac_len: usize) -> Result<Vec<u8>, Error> {
    let mut c = HmacContext::new(hash, key)?;
    c.update(data);
    c.sign(mac_len)
}

/// One-shot HMAC verification (full or truncated tag).
///
/// # Errors
/// [`Error::Rejected`] if it does not match.
pub fn hmac_verify(hash: HashAlg, key: &[u8], data: &[u8], tag: &[u8]) -> Result<(), Error> {
    let mut c = HmacContext::new(hash, key)?;
    c.update(data);
    c.verify(tag)
}

/// A multi-part AES-CMAC (`CKM_AES_CMAC` and `CKM_AES_CMAC_GENERAL`).
pub struct CmacContext {
    ctx: cmac::Context,
}

impl CmacContext {
    /// Starts a CMAC under an AES key.
    ///
    /// # Errors
    /// [`Error::Internal`] if the library refuses the key.
    pub fn new(key: &AesKey) -> Result<Self, Error> {
        let alg = match key.len() {
            16 => cmac::AES_128,
            24 => cmac::AES_192,
            _ => cmac::AES_256,
        };
        let key = cmac::Key::new(alg, key.as_bytes())?;
        Ok(Self {
            ctx: cmac::Context::with_key(&key),
        })
    }

    /// Feeds more data.
    ///
    /// # Errors
    /// [`Error::Internal`] on a library failure.
    pub fn update(&mut self, data: &[u8]) -> Result<(), Error> {
        self.ctx.update(data)?;
        Ok(())
    }

    /// Returns the first `mac_len` (1..=16) bytes of the CMAC.
    ///
    /// # Errors
    /// [`Error::Parameter`] for another length.
    pub fn sign(self, mac_len: usize) -> Result<Vec<u8>, Error> {
        check_mac_len(mac_len, 16)?;
        let tag = self.ctx.sign()?;
        Ok(tag.as_ref()[..mac_len].to_vec())
    }

    /// Checks `tag` (full or truncated) in constant time.
    ///
    /// # Errors
    /// [`Error::Rejected`] if it does not match.
    pub fn verify(self, tag: &[u8]) -> Result<(), Error> {
        let full = self.ctx.sign()?;
        verify_prefix(full.as_ref(), tag)
    }
}

/// One-shot AES-CMAC.
///
/// # Errors
/// As [`CmacContext::sign`].
pub fn aes_cmac(key: &AesKey, data: &[u8], mac_len: usize) -> Result<Vec<u8>, Error> {
    let mut c = CmacContext::new(key)?;
    c.update(data)?;
    c.sign(mac_len)
}

/// One-shot AES-CMAC verification.
///
/// # Errors
/// [`Error::Rejected`] if it does not match.
pub fn aes_cmac_verify(key: &AesKey, data: &[u8], tag: &[u8]) -> Result<(), Error> {
    let mut c = CmacContext::new(key)?;
    c.update(data)?;
    c.verify(tag)
}
