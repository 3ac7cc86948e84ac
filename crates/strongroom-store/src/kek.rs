//! The key-encryption key (KEK) file, kept beside the database but apart from it.
//!
//! Common header:
//!
//! ```text
//! +--------+------+----------------------------------------------------------+
//! | offset | size | field                                                    |
//! +--------+------+----------------------------------------------------------+
//! | 0      | 8    | magic "SRKEK\0\0\x01" (the last byte is the file version) |
//! | 8      | 1    | mode: 0 = plain, 1 = wrapped under a passphrase          |
//! | 9      | 16   | KEK id (random; also stored in the database's metadata)  |
//! +--------+------+----------------------------------------------------------+
//! ```
//!
//! Mode 0, plain (89 bytes):
//!
//! ```text
//! | 25     | 32   | KEK                                                      |
//! | 57     | 32   | SHA-256 of bytes 0..57 (detects a damaged file)          |
//! ```
//!
//! Mode 1, passphrase (113 bytes):
//!
//! ```text
//! | 25     | 16   | Argon2id salt                                            |
//! | 41     | 4    | Argon2id memory cost in KiB (u32 LE)                     |
//! | 45     | 4    | Argon2id iterations (u32 LE)                             |
//! | 49     | 4    | Argon2id parallelism (u32 LE)                            |
//! | 53     | 12   | AES-256-GCM nonce                                        |
//! | 65     | 32   | KEK encrypted under Argon2id(passphrase, salt, m, t, p)  |
//! | 97     | 16   | GCM tag; the associated data is bytes 0..53              |
//! ```

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use aws_lc_rs::digest::{SHA256, SHA256_OUTPUT_LEN, digest};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::{Error, KekFault};
use crate::seal::{KEY_LEN, random};

/// Magic bytes opening every KEK file; the last byte is the file-format version.
const MAGIC: [u8; 8] = *b"SRKEK\0\0\x01";
const MODE_PLAIN: u8 = 0;
const MODE_PASSPHRASE: u8 = 1;

/// Length of a KEK id.
pub(crate) const ID_LEN: usize = 16;
const SALT_LEN: usize = 16;
const TAG_LEN: usize = 16;

const MODE_OFFSET: usize = MAGIC.len();
const ID_OFFSET: usize = MODE_OFFSET + 1;
const BODY_OFFSET: usize = ID_OFFSET + ID_LEN;

const PLAIN_KEY_END: usize = BODY_OFFSET + KEY_LEN;
const PLAIN_LEN: usize = PLAIN_KEY_END + SHA256_OUTPUT_LEN;

const SALT_END: usize = BODY_OFFSET + SALT_LEN;
const PARAMS_END: usize = SALT_END + 3 * size_of::<u32>();
const NONCE_END: usize = PARAMS_END + NONCE_LEN;
const WRAPPED_LEN: usize = NONCE_END + KEY_LEN + TAG_LEN;

/// Upper bound on a KEK file's size, for reading.
pub(crate) const MAX_FILE_LEN: usize = WRAPPED_LEN;

/// Random identifier of one KEK, stored in clear in the KEK file and in the database so that a
/// database and its KEK file can be matched without any secret.
#[derive(Clone, Copy)]
pub(crate) struct KekId(pub(crate) [u8; ID_LEN]);

impl KekId {
    pub(crate) fn generate() -> Result<KekId, Error> {
        Ok(KekId(*random::<ID_LEN>()?))
    }

    pub(crate) fn matches(&self, other: &KekId) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

/// Argon2id cost parameters for deriving the key that wraps the KEK from a passphrase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

impl KdfParams {
    /// Smallest accepted memory cost (19 MiB, OWASP's floor for Argon2id).
    pub const MIN_MEMORY_KIB: u32 = 19 * 1024;
    /// Largest accepted memory cost (1 GiB), which bounds the work a planted file can demand.
    pub const MAX_MEMORY_KIB: u32 = 1024 * 1024;
    /// Smallest accepted iteration count.
    pub const MIN_ITERATIONS: u32 = 2;
    /// Largest accepted iteration count.
    pub const MAX_ITERATIONS: u32 = 64;
    /// Largest accepted parallelism.
    pub const MAX_PARALLELISM: u32 = 16;

    /// Checked parameters: memory cost in KiB, iterations, lanes.
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<KdfParams, Error> {
        let params = KdfParams {
            memory_kib,
            iterations,
            parallelism,
        };
        if params.in_bounds() {
            Ok(params)
        } else {
            Err(Error::InvalidArgument {
                what: "Argon2id parameters outside the accepted bounds",
            })
        }
    }

    fn in_bounds(&self) -> bool {
        (Self::MIN_MEMORY_KIB..=Self::MAX_MEMORY_KIB).contains(&self.memory_kib)
            && (Self::MIN_ITERATIONS..=Self::MAX_ITERATIONS).contains(&self.iterations)
            && (1..=Self::MAX_PARALLELISM).contains(&self.parallelism)
    }

    /// Memory cost in KiB.
    pub fn memory_kib(&self) -> u32 {
        self.memory_kib
    }

    /// Number of passes.
    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// Number of lanes.
    pub fn parallelism(&self) -> u32 {
        self.parallelism
    }
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes, 1 lane.
    fn default() -> Self {
        KdfParams {
            memory_kib: 64 * 1024,
            iterations: 3,
            parallelism: 1,
        }
    }
}

/// The key that wraps the KEK in passphrase mode, kept while the store is open so that a rekey
/// can wrap the new KEK without asking for the passphrase again.
pub(crate) struct Wrap {
    key: Zeroizing<[u8; KEY_LEN]>,
    salt: [u8; SALT_LEN],
    params: KdfParams,
}

impl Wrap {
    /// Derives a wrapping key from `passphrase` with a fresh salt.
    pub(crate) fn derive_new(passphrase: &[u8], params: KdfParams) -> Result<Wrap, Error> {
        let salt = *random::<SALT_LEN>()?;
        let key = derive(passphrase, &salt, params)?;
        Ok(Wrap { key, salt, params })
    }
}

fn derive(
    passphrase: &[u8],
    salt: &[u8; SALT_LEN],
    params: KdfParams,
) -> Result<Zeroizing<[u8; KEY_LEN]>, Error> {
    let argon_params = argon2::Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        Some(KEY_LEN),
    )
    .map_err(|_| Error::Kek(KekFault::Malformed))?;
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon_params,
    );
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    argon
        .hash_password_into(passphrase, salt, &mut out[..])
        .map_err(|_| Error::Crypto)?;
    Ok(out)
}

/// A KEK taken out of its file.
pub(crate) struct Unlocked {
    pub(crate) id: KekId,
    pub(crate) kek: Zeroizing<[u8; KEY_LEN]>,
    pub(crate) wrap: Option<Wrap>,
}

/// A parsed KEK file, not yet unlocked.
pub(crate) struct KekFile {
    bytes: Zeroizing<Vec<u8>>,
    id: KekId,
}

impl KekFile {
    /// Checks the shape (and, in plain mode, the checksum) of a KEK file.
    pub(crate) fn parse(bytes: Vec<u8>) -> Result<KekFile, KekFault> {
        let bytes = Zeroizing::new(bytes);
        if bytes.len() < BODY_OFFSET || bytes[..MAGIC.len()] != MAGIC {
            return Err(KekFault::Malformed);
        }
        let mut id = [0u8; ID_LEN];
        id.copy_from_slice(&bytes[ID_OFFSET..BODY_OFFSET]);
        match bytes[MODE_OFFSET] {
            MODE_PLAIN if bytes.len() == PLAIN_LEN => {
                let sum = digest(&SHA256, &bytes[..PLAIN_KEY_END]);
                if !bool::from(sum.as_ref().ct_eq(&bytes[PLAIN_KEY_END..])) {
                    return Err(KekFault::Malformed);
                }
            }
            MODE_PASSPHRASE if bytes.len() == WRAPPED_LEN => {
                if !read_params(&bytes).in_bounds() {
                    return Err(KekFault::Malformed);
                }
            }
            _ => return Err(KekFault::Malformed),
        }
        Ok(KekFile {
            bytes,
            id: KekId(id),
        })
    }

    pub(crate) fn id(&self) -> KekId {
        self.id
    }

    /// Takes the KEK out of the file: as is in plain mode, unwrapped with `passphrase` in
    /// passphrase mode.
    pub(crate) fn unlock(&self, passphrase: Option<&[u8]>) -> Result<Unlocked, Error> {
        let mut kek = Zeroizing::new([0u8; KEY_LEN]);
        match (self.bytes[MODE_OFFSET], passphrase) {
            (MODE_PLAIN, None) => {
                kek.copy_from_slice(&self.bytes[BODY_OFFSET..PLAIN_KEY_END]);
                Ok(Unlocked {
                    id: self.id,
                    kek,
                    wrap: None,
                })
            }
            (MODE_PLAIN, Some(_)) => Err(Error::Kek(KekFault::PassphraseNotExpected)),
            (_, None) => Err(Error::Kek(KekFault::PassphraseRequired)),
            (_, Some(passphrase)) => {
                let mut salt = [0u8; SALT_LEN];
                salt.copy_from_slice(&self.bytes[BODY_OFFSET..SALT_END]);
                let params = read_params(&self.bytes);
                let wrap_key = derive(passphrase, &salt, params)?;
                let aead = RandomizedNonceKey::new(&AES_256_GCM, &wrap_key[..])
                    .map_err(|_| Error::Crypto)?;
                let nonce = Nonce::try_assume_unique_for_key(&self.bytes[PARAMS_END..NONCE_END])
                    .map_err(|_| Error::Kek(KekFault::Malformed))?;
                let mut sealed = Zeroizing::new(self.bytes[NONCE_END..].to_vec());
                let plain = aead
                    .open_in_place(nonce, Aad::from(&self.bytes[..PARAMS_END]), &mut sealed)
                    .map_err(|_| Error::Kek(KekFault::Rejected))?;
                if plain.len() != KEY_LEN {
                    return Err(Error::Kek(KekFault::Malformed));
                }
                kek.copy_from_slice(plain);
                Ok(Unlocked {
                    id: self.id,
                    kek,
                    wrap: Some(Wrap {
                        key: wrap_key,
                        salt,
                        params,
                    }),
                })
            }
        }
    }
}

fn read_params(bytes: &[u8]) -> KdfParams {
    let word = |i: usize| {
        let start = SALT_END + i * size_of::<u32>();
        let mut le = [0u8; 4];
        le.copy_from_slice(&bytes[start..start + size_of::<u32>()]);
        u32::from_le_bytes(le)
    };
    KdfParams {
        memory_kib: word(0),
        iterations: word(1),
        parallelism: word(2),
    }
}

/// The bytes of a KEK file holding `kek` with id `id`: plain when `wrap` is `None`, else
/// wrapped under `wrap`'s key with a fresh nonce.
pub(crate) fn encode(
    id: &KekId,
    kek: &[u8; KEY_LEN],
    wrap: Option<&Wrap>,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let Some(wrap) = wrap else {
        let mut out = Zeroizing::new(Vec::with_capacity(PLAIN_LEN));
        out.extend_from_slice(&MAGIC);
        out.push(MODE_PLAIN);
        out.extend_from_slice(&id.0);
        out.extend_from_slice(kek);
        let sum = digest(&SHA256, &out);
        out.extend_from_slice(sum.as_ref());
        return Ok(out);
    };
    let mut out = Zeroizing::new(Vec::with_capacity(WRAPPED_LEN));
    out.extend_from_slice(&MAGIC);
    out.push(MODE_PASSPHRASE);
    out.extend_from_slice(&id.0);
    out.extend_from_slice(&wrap.salt);
    out.extend_from_slice(&wrap.params.memory_kib.to_le_bytes());
    out.extend_from_slice(&wrap.params.iterations.to_le_bytes());
    out.extend_from_slice(&wrap.params.parallelism.to_le_bytes());
    let aead = RandomizedNonceKey::new(&AES_256_GCM, &wrap.key[..]).map_err(|_| Error::Crypto)?;
    let mut sealed = Zeroizing::new(Vec::with_capacity(KEY_LEN + TAG_LEN));
    sealed.extend_from_slice(kek);
    let (nonce, tag) = aead
        .seal_in_place_separate_tag(Aad::from(&out[..PARAMS_END]), &mut sealed[..])
        .map_err(|_| Error::Crypto)?;
    out.extend_from_slice(nonce.as_ref());
    out.extend_from_slice(&sealed);
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

#[cfg(test)]
mod tests;
