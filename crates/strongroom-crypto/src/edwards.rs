//! Ed25519 signatures and X25519 key agreement.

use aws_lc_rs::agreement;
use aws_lc_rs::signature::{self as lcsig, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};
use zeroize::Zeroizing;

use crate::{Drbg, Error};

/// Length of Ed25519 and X25519 keys.
pub const CURVE25519_KEY_LEN: usize = 32;
/// Length of an Ed25519 signature.
pub const ED25519_SIGNATURE_LEN: usize = 64;

/// An Ed25519 private key (the 32-byte seed). No `Clone`/`Debug`; zeroized on drop.
pub struct Ed25519PrivateKey {
    kp: Ed25519KeyPair,
    seed: Zeroizing<[u8; 32]>,
}

impl Ed25519PrivateKey {
    /// Generates a key from the module's DRBG.
    ///
    /// # Errors
    /// [`Error::Random`] if the DRBG fails.
    pub fn generate(rng: &Drbg) -> Result<Self, Error> {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill(&mut seed[..])?;
        Self::from_seed(&seed[..])
    }

    /// Imports the 32-byte seed (RFC 8032 private key).
    ///
    /// # Errors
    /// [`Error::KeyInvalid`] for another length.
    pub fn from_seed(seed: &[u8]) -> Result<Self, Error> {
        let s: [u8; 32] = seed.try_into().map_err(|_| Error::KeyInvalid)?;
        Ok(Self {
            kp: Ed25519KeyPair::from_seed_unchecked(seed)?,
            seed: Zeroizing::new(s),
        })
    }

    /// The seed (`CKA_VALUE`).
    pub fn seed(&self) -> &[u8] {
        &self.seed[..]
    }

    /// The 32-byte public key.
    pub fn public_key(&self) -> [u8; 32] {
        let mut p = [0u8; 32];
        p.copy_from_slice(self.kp.public_key().as_ref());
        p
    }

    /// Signs `msg` (pure Ed25519, `CKM_EDDSA` without parameters).
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        self.kp.sign(msg).as_ref().to_vec()
    }
}

/// Verifies an Ed25519 signature.
///
/// # Errors
/// [`Error::Rejected`] if it does not verify.
pub fn ed25519_verify(public_key: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), Error> {
    UnparsedPublicKey::new(&lcsig::ED25519, public_key)
        .verify(msg, sig)
        .map_err(|_| Error::Rejected)
}

/// An X25519 private key. No `Clone`/`Debug`; zeroized on drop.
pub struct X25519PrivateKey {
    key: agreement::PrivateKey,
    bytes: Zeroizing<[u8; 32]>,
}

impl X25519PrivateKey {
    /// Generates a key from the module's DRBG.
    ///
    /// # Errors
    /// [`Error::Random`] if the DRBG fails.
    pub fn generate(rng: &Drbg) -> Result<Self, Error> {
        let mut b = Zeroizing::new([0u8; 32]);
        rng.fill(&mut b[..])?;
        Self::from_bytes(&b[..])
    }

    /// Imports the 32-byte private key (clamped by the scalar multiplication, RFC 7748).
    ///
    /// # Errors
    /// [`Error::KeyInvalid`] for another length.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let b: [u8; 32] = bytes.try_into().map_err(|_| Error::KeyInvalid)?;
        Ok(Self {
            key: agreement::PrivateKey::from_private_key(&agreement::X25519, bytes)?,
            bytes: Zeroizing::new(b),
        })
    }

    /// The private key bytes (`CKA_VALUE`).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..]
    }

    /// The public key (u-coordinate).
    ///
    /// # Errors
    /// [`Error::Internal`] on library failure.
    pub fn public_key(&self) -> Result<[u8; 32], Error> {
        let p = self.key.compute_public_key()?;
        let mut out = [0u8; 32];
        out.copy_from_slice(p.as_ref());
        Ok(out)
    }

    /// X25519 with the peer's public key. An all-zero result (low-order peer point) is
    /// refused, as RFC 7748 §6.1 allows.
    ///
    /// # Errors
    /// [`Error::Parameter`] for a bad or low-order peer key.
    pub fn derive(&self, peer: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        let peer = agreement::UnparsedPublicKey::new(&agreement::X25519, peer);
        agreement::agree(&self.key, peer, Error::Parameter, |s| {
            Ok(Zeroizing::new(s.to_vec()))
        })
    }
}
