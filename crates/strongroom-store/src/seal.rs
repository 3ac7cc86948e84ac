//! Sealing of stored values with AES-256-GCM, bound to the record's identity.
//!
//! A sealed value as stored in the database:
//!
//! ```text
//! +--------+----------+-----------------------------------------------------+
//! | offset | size     | field                                               |
//! +--------+----------+-----------------------------------------------------+
//! | 0      | 1        | version: 1 = sealed under the KEK,                  |
//! |        |          |          2 = sealed under a caller's SealKey        |
//! | 1      | 12       | random nonce                                        |
//! | 13     | n        | ciphertext (n = plaintext length)                   |
//! | 13 + n | 16       | GCM tag                                             |
//! +--------+----------+-----------------------------------------------------+
//! ```
//!
//! The associated data binds the value to where it is stored, so a value copied to another key,
//! another table, or between user records and the store's own metadata fails to open:
//!
//! ```text
//! domain string | 0x00 | version:u8 | table_len:u32 LE | table | key_len:u32 LE | key
//! ```

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::error::Error;

/// Version byte of a value sealed under the KEK.
pub(crate) const VERSION_KEK: u8 = 1;
/// Version byte of a value sealed under a caller's [`SealKey`].
pub(crate) const VERSION_SEAL_KEY: u8 = 2;

const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + NONCE_LEN;
/// Bytes a sealed value adds to its plaintext.
pub(crate) const OVERHEAD: usize = HEADER_LEN + TAG_LEN;

/// Length of every AES-256 key the store handles.
pub(crate) const KEY_LEN: usize = 32;

/// Which family of records a value belongs to; each has its own domain string.
#[derive(Clone, Copy)]
pub(crate) enum Domain {
    /// Values in caller tables.
    Record,
    /// The store's own metadata.
    Meta,
}

impl Domain {
    fn label(self) -> &'static [u8] {
        match self {
            Domain::Record => b"strongroom-store record v1",
            Domain::Meta => b"strongroom-store meta v1",
        }
    }
}

/// Where a value lives: the associated data of its seal.
#[derive(Clone, Copy)]
pub(crate) struct Place<'a> {
    pub(crate) domain: Domain,
    pub(crate) table: &'a str,
    pub(crate) key: &'a [u8],
}

impl Place<'_> {
    fn aad(&self, version: u8) -> Result<Vec<u8>, Error> {
        let label = self.domain.label();
        let table_len = u32::try_from(self.table.len()).map_err(|_| Error::InvalidArgument {
            what: "table name too long",
        })?;
        let key_len = u32::try_from(self.key.len()).map_err(|_| Error::InvalidArgument {
            what: "record key too long",
        })?;
        let mut aad = Vec::with_capacity(label.len() + 10 + self.table.len() + self.key.len());
        aad.extend_from_slice(label);
        aad.push(0);
        aad.push(version);
        aad.extend_from_slice(&table_len.to_le_bytes());
        aad.extend_from_slice(self.table.as_bytes());
        aad.extend_from_slice(&key_len.to_le_bytes());
        aad.extend_from_slice(self.key);
        Ok(aad)
    }

    fn failure(&self) -> Error {
        let what = match self.domain {
            Domain::Record => format!("record in table {:?} failed authentication", self.table),
            Domain::Meta => "store metadata failed authentication".to_owned(),
        };
        Error::Integrity { what }
    }
}

/// An AES-256-GCM key ready for use; the crypto library keeps its own copy of the key bytes.
pub(crate) struct AeadKey(RandomizedNonceKey);

impl AeadKey {
    pub(crate) fn new(bytes: &[u8; KEY_LEN]) -> Result<Self, Error> {
        RandomizedNonceKey::new(&AES_256_GCM, bytes)
            .map(AeadKey)
            .map_err(|_| Error::Crypto)
    }

    /// Seals `plaintext` for `place` with a fresh random nonce.
    pub(crate) fn seal(
        &self,
        version: u8,
        place: Place<'_>,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let aad = place.aad(version)?;
        let len = OVERHEAD
            .checked_add(plaintext.len())
            .ok_or(Error::InvalidArgument {
                what: "value too long",
            })?;
        // Exact capacity: the buffer never reallocates, so no copy of the plaintext is left
        // behind, and the buffer is wiped if sealing fails.
        let mut out = Zeroizing::new(Vec::with_capacity(len));
        out.push(version);
        out.extend_from_slice(&[0; NONCE_LEN]);
        out.extend_from_slice(plaintext);
        let (nonce, tag) = self
            .0
            .seal_in_place_separate_tag(Aad::from(aad), &mut out[HEADER_LEN..])
            .map_err(|_| Error::Crypto)?;
        out[1..HEADER_LEN].copy_from_slice(nonce.as_ref());
        out.extend_from_slice(tag.as_ref());
        Ok(std::mem::take(&mut *out))
    }

    /// Opens a stored value sealed with `version` for `place`, or fails with
    /// [`Error::Integrity`].
    pub(crate) fn open(
        &self,
        version: u8,
        place: Place<'_>,
        stored: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        if stored.len() < OVERHEAD || stored[0] != version {
            return Err(place.failure());
        }
        let nonce = Nonce::try_assume_unique_for_key(&stored[1..HEADER_LEN])
            .map_err(|_| place.failure())?;
        let aad = place.aad(version)?;
        let mut buf = Zeroizing::new(stored[HEADER_LEN..].to_vec());
        let plain_len = self
            .0
            .open_in_place(nonce, Aad::from(aad), &mut buf)
            .map_err(|_| place.failure())?
            .len();
        buf.truncate(plain_len);
        Ok(buf)
    }
}

/// The version byte of a stored value, if it is long enough to be a sealed value of a known
/// version.
pub(crate) fn stored_version(stored: &[u8]) -> Option<u8> {
    match stored.first() {
        Some(&v @ (VERSION_KEK | VERSION_SEAL_KEY)) if stored.len() >= OVERHEAD => Some(v),
        _ => None,
    }
}

/// Fills a fresh buffer from the operating system's random generator.
pub(crate) fn random<const N: usize>() -> Result<Zeroizing<[u8; N]>, Error> {
    let mut out = Zeroizing::new([0u8; N]);
    SystemRandom::new()
        .fill(&mut out[..])
        .map_err(|_| Error::Crypto)?;
    Ok(out)
}

/// A 32-byte AES-256-GCM key chosen by the caller, under which some records are sealed instead
/// of under the KEK (the module keeps one per partition, itself stored as a KEK-sealed record).
///
/// The store never persists a `SealKey` on its own. Records sealed under one are checked only
/// for shape when the store opens; they are authenticated when read with the same key.
///
/// Neither `Clone` nor `Debug`; the bytes are wiped on drop.
pub struct SealKey {
    bytes: Zeroizing<[u8; KEY_LEN]>,
}

impl SealKey {
    /// Length of the key in bytes.
    pub const LEN: usize = KEY_LEN;

    /// A new key from the operating system's random generator.
    pub fn generate() -> Result<SealKey, Error> {
        Ok(SealKey {
            bytes: random::<KEY_LEN>()?,
        })
    }

    /// A key from bytes the caller stored earlier (see [`SealKey::expose_bytes`]).
    pub fn from_bytes(bytes: &[u8; KEY_LEN]) -> SealKey {
        SealKey {
            bytes: Zeroizing::new(*bytes),
        }
    }

    /// The key bytes, for the caller to persist as a KEK-sealed record.
    pub fn expose_bytes(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }

    pub(crate) fn aead(&self) -> Result<AeadKey, Error> {
        AeadKey::new(&self.bytes)
    }
}

#[cfg(test)]
mod tests;
