//! Secret (symmetric) key material: AES keys and generic secrets for HMAC and KDFs.

use zeroize::Zeroizing;

use crate::{Drbg, Error};

/// A symmetric key: an AES key or a generic secret. No `Clone`, no `Debug`; zeroized on drop.
pub struct SecretKey(Zeroizing<Vec<u8>>);

impl SecretKey {
    /// Takes a copy of `bytes` as key material.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Self(Zeroizing::new(bytes.to_vec()))
    }

    /// Generates `len` random bytes from `rng`.
    ///
    /// # Errors
    /// [`Error::Random`] if the DRBG fails.
    pub fn generate(len: usize, rng: &Drbg) -> Result<Self, Error> {
        let mut v = Zeroizing::new(vec![0u8; len]);
        rng.fill(&mut v)?;
        Ok(Self(v))
    }

    /// The key bytes (for export under the module's policy, or for wrapping).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the key is empty (a generic secret may be).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// An AES key of 16, 24 or 32 bytes. No `Clone`, no `Debug`; zeroized on drop.
pub struct AesKey(SecretKey);

impl AesKey {
    /// Checks the length and takes a copy of `bytes`.
    ///
    /// # Errors
    /// [`Error::KeySize`] unless `bytes` is 16, 24 or 32 bytes long.
    pub fn new(bytes: &[u8]) -> Result<Self, Error> {
        match bytes.len() {
            16 | 24 | 32 => Ok(Self(SecretKey::from_bytes(bytes))),
            _ => Err(Error::KeySize),
        }
    }

    /// Generates a key of `len` bytes (16, 24 or 32).
    ///
    /// # Errors
    /// [`Error::KeySize`] for another length, [`Error::Random`] if the DRBG fails.
    pub fn generate(len: usize, rng: &Drbg) -> Result<Self, Error> {
        if !matches!(len, 16 | 24 | 32) {
            return Err(Error::KeySize);
        }
        Ok(Self(SecretKey::generate(len, rng)?))
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// Length in bytes: 16, 24 or 32.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: an AES key has 16 bytes or more.
    pub fn is_empty(&self) -> bool {
        false
    }

    pub(crate) fn cipher_alg(&self) -> &'static aws_lc_rs::cipher::Algorithm {
        match self.len() {
            16 => &aws_lc_rs::cipher::AES_128,
            24 => &aws_lc_rs::cipher::AES_192,
            _ => &aws_lc_rs::cipher::AES_256,
        }
    }
}
