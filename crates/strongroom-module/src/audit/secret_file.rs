//! The exported log secret (AU-40, AU-41): the secret and a 32-bit checksum of it, encrypted
//! under the Auditor's domain key.
//!
//! ```text
//! +--------+------+-------------------------------------------------------------+
//! | offset | size | field                                                       |
//! +--------+------+-------------------------------------------------------------+
//! | 0      | 8    | magic "SRAUDSEC"                                            |
//! | 8      | 8    | serial number of the module the secret belongs to (LE)      |
//! | 16     | 16   | initial AES-CTR counter block (random)                      |
//! | 32     | 36   | AES-256-CTR(domain key, secret (32) || checksum (4))        |
//! +--------+------+-------------------------------------------------------------+
//! checksum = SHA-256("strongroom audit log secret" || secret)[0..4]
//! ```
//!
//! Decrypting under another domain's key yields noise whose checksum does not match: the
//! checksum is what tells a secret of another domain (the reference's rule).

use aws_lc_rs::digest;
use strongroom_crypto::{AesKey, AesMode, Zeroizing, aes_decrypt, aes_encrypt};

/// Bytes of an exported secret file.
pub(crate) const SECRET_FILE_LEN: usize = 68;
const MAGIC: &[u8; 8] = b"SRAUDSEC";

fn checksum(secret: &[u8; 32]) -> [u8; 4] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(b"strongroom audit log secret");
    ctx.update(secret);
    let d = ctx.finish();
    let mut out = [0u8; 4];
    out.copy_from_slice(&d.as_ref()[..4]);
    out
}

/// Why an exported secret cannot be imported.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum UnwrapError {
    /// Not a secret file.
    Format,
    /// The checksum does not match: another domain.
    Domain,
}

/// Encrypts `secret` of module `serial` under `domain_key` with the counter block `iv`.
pub(crate) fn wrap_secret(
    domain_key: &[u8; 32],
    serial: u64,
    secret: &[u8; 32],
    iv: [u8; 16],
) -> Option<Vec<u8>> {
    let key = AesKey::new(domain_key).ok()?;
    let mut plain = Zeroizing::new(Vec::with_capacity(36));
    plain.extend_from_slice(secret);
    plain.extend_from_slice(&checksum(secret));
    let mode = AesMode::Ctr {
        counter_block: iv,
        counter_bits: 128,
    };
    let ct = aes_encrypt(&key, mode, &plain).ok()?;
    let mut out = Vec::with_capacity(SECRET_FILE_LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&serial.to_le_bytes());
    out.extend_from_slice(&iv);
    out.extend_from_slice(&ct);
    Some(out)
}

/// Decrypts an exported secret: the module serial it names and the secret.
pub(crate) fn unwrap_secret(
    domain_key: &[u8; 32],
    file: &[u8],
) -> Result<(u64, Zeroizing<[u8; 32]>), UnwrapError> {
    if file.len() != SECRET_FILE_LEN || &file[..8] != MAGIC {
        return Err(UnwrapError::Format);
    }
    let mut serial = [0u8; 8];
    serial.copy_from_slice(&file[8..16]);
    let mut iv = [0u8; 16];
    iv.copy_from_slice(&file[16..32]);
    let key = AesKey::new(domain_key).map_err(|_| UnwrapError::Format)?;
    let mode = AesMode::Ctr {
        counter_block: iv,
        counter_bits: 128,
    };
    let plain = aes_decrypt(&key, mode, &file[32..]).map_err(|_| UnwrapError::Format)?;
    if plain.len() != 36 {
        return Err(UnwrapError::Format);
    }
    let mut secret = Zeroizing::new([0u8; 32]);
    secret.copy_from_slice(&plain[..32]);
    let sum = checksum(&secret);
    if !bool::from(subtle::ConstantTimeEq::ct_eq(&sum[..], &plain[32..36])) {
        return Err(UnwrapError::Domain);
    }
    Ok((u64::from_le_bytes(serial), secret))
}
