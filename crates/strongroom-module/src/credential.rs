//! Secrets and stored credentials: Argon2id hashes compared in constant time.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, e};

/// A secret typed or sent by a person or program: a password or a domain string.
///
/// Neither `Clone` nor `Debug`; the bytes are wiped when it is dropped.
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Takes ownership of a secret string.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The secret text, for checking and hashing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

/// Argon2id cost parameters for stored credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for KdfCost {
    /// OWASP's recommended Argon2id setting (19 MiB, 2 passes, 1 lane).
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// A stored credential: an Argon2id PHC string (salt, parameters and hash; never the secret).
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Credential(String);

impl Credential {
    pub(crate) fn create(secret: &Secret, cost: KdfCost) -> Result<Self, Error> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|_| e::internal("invalid Argon2 parameters"))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut salt = [0u8; 16];
        crate::random::fill(&mut salt)?;
        let salt = SaltString::encode_b64(&salt).map_err(|_| e::internal("salt encoding"))?;
        let hash = argon
            .hash_password(secret.expose().as_bytes(), &salt)
            .map_err(|_| e::internal("credential hashing failed"))?;
        Ok(Self(hash.to_string()))
    }

    /// Constant-time check of `secret` against the stored hash (the hash comparison inside
    /// `password-hash` is constant time; the Argon2 work itself does not depend on the secret's
    /// correctness).
    pub(crate) fn verify(&self, secret: &Secret) -> bool {
        let Ok(parsed) = PasswordHash::new(&self.0) else {
            return false;
        };
        Argon2::default()
            .verify_password(secret.expose().as_bytes(), &parsed)
            .is_ok()
    }
}
