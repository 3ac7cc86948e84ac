//! Key derivation: HKDF (extract and expand apart), PBKDF2 and the ANSI X9.63 KDF.

use aws_lc_rs::{hkdf, pbkdf2};
use core::num::NonZeroU32;
use zeroize::Zeroizing;

use crate::{Error, HashAlg, HmacContext, digest::DigestContext};

/// HKDF-Extract: `PRK = HMAC-Hash(salt, IKM)`; an empty salt means `HashLen` zero bytes
/// (RFC 5869 §2.2).
///
/// # Errors
/// [`Error::Parameter`] for a SHA-3 hash.
pub fn hkdf_extract(hash: HashAlg, salt: &[u8], ikm: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
    let zeros = [0u8; 64];
    let salt = if salt.is_empty() {
        &zeros[..hash.output_len()]
    } else {
        salt
    };
    let mut h = HmacContext::new(hash, salt)?;
    h.update(ikm);
    Ok(Zeroizing::new(h.sign(hash.output_len())?))
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-Expand to `len` bytes (at most 255 × hash length).
///
/// # Errors
/// [`Error::DataLength`] if `len` is 0 or too large; [`Error::Parameter`] for SHA-3.
pub fn hkdf_expand(
    hash: HashAlg,
    prk: &[u8],
    info: &[u8],
    len: usize,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let hl = hash.output_len();
    if len == 0 || len > 255 * hl {
        return Err(Error::DataLength);
    }
    let alg = match hash {
        HashAlg::Sha1 => Some(hkdf::HKDF_SHA1_FOR_LEGACY_USE_ONLY),
        HashAlg::Sha256 => Some(hkdf::HKDF_SHA256),
        HashAlg::Sha384 => Some(hkdf::HKDF_SHA384),
        HashAlg::Sha512 => Some(hkdf::HKDF_SHA512),
        HashAlg::Sha224 => None,
        _ => return Err(Error::Parameter),
    };
    let mut out = Zeroizing::new(vec![0u8; len]);
    if let Some(alg) = alg {
        let prk = hkdf::Prk::new_less_safe(alg, prk);
        let info = [info];
        prk.expand(&info, Len(len))?.fill(&mut out)?;
        return Ok(out);
    }
    // SHA-224 (absent from aws-lc-rs's HKDF): T(i) = HMAC(PRK, T(i-1) | info | i).
    let mut t = Zeroizing::new(Vec::new());
    for (i, chunk) in out.chunks_mut(hl).enumerate() {
        let counter = u8::try_from(i + 1).map_err(|_| Error::DataLength)?;
        let mut h = HmacContext::new(hash, prk)?;
        h.update(&t);
        h.update(info);
        h.update(&[counter]);
        *t = h.sign(hl)?;
        chunk.copy_from_slice(&t[..chunk.len()]);
    }
    Ok(out)
}

/// HKDF extract-then-expand.
///
/// # Errors
/// As [`hkdf_extract`] and [`hkdf_expand`].
pub fn hkdf(
    hash: HashAlg,
    salt: &[u8],
    ikm: &[u8],
    info: &[u8],
    len: usize,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let prk = hkdf_extract(hash, salt, ikm)?;
    hkdf_expand(hash, &prk, info, len)
}

/// PBKDF2 with HMAC-`hash` (SHA-1 or SHA-2).
///
/// # Errors
/// [`Error::Parameter`] for zero iterations or SHA-3; [`Error::DataLength`] for `len` 0.
pub fn pbkdf2(
    hash: HashAlg,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    len: usize,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let iters = NonZeroU32::new(iterations).ok_or(Error::Parameter)?;
    if len == 0 {
        return Err(Error::DataLength);
    }
    let alg = match hash {
        HashAlg::Sha1 => Some(pbkdf2::PBKDF2_HMAC_SHA1),
        HashAlg::Sha256 => Some(pbkdf2::PBKDF2_HMAC_SHA256),
        HashAlg::Sha384 => Some(pbkdf2::PBKDF2_HMAC_SHA384),
        HashAlg::Sha512 => Some(pbkdf2::PBKDF2_HMAC_SHA512),
        HashAlg::Sha224 => None,
        _ => return Err(Error::Parameter),
    };
    let mut out = Zeroizing::new(vec![0u8; len]);
    if let Some(alg) = alg {
        pbkdf2::derive(alg, iters, salt, password, &mut out);
        return Ok(out);
    }
    // SHA-224 (absent from aws-lc-rs's PBKDF2): RFC 8018 §5.2 over HMAC.
    let hl = hash.output_len();
    for (i, chunk) in out.chunks_mut(hl).enumerate() {
        let block = u32::try_from(i + 1).map_err(|_| Error::DataLength)?;
        let mut h = HmacContext::new(hash, password)?;
        h.update(salt);
        h.update(&block.to_be_bytes());
        let mut u = Zeroizing::new(h.sign(hl)?);
        let mut acc = u.clone();
        for _ in 1..iterations {
            let mut h = HmacContext::new(hash, password)?;
            h.update(&u);
            *u = h.sign(hl)?;
            for (a, b) in acc.iter_mut().zip(u.iter()) {
                *a ^= b;
            }
        }
        chunk.copy_from_slice(&acc[..chunk.len()]);
    }
    Ok(out)
}

/// ANSI X9.63 KDF (SEC 1 §3.6.1) as `CKD_SHA*_KDF` uses it:
/// `K = Hash(Z ‖ 00000001 ‖ SharedInfo) ‖ Hash(Z ‖ 00000002 ‖ SharedInfo) ‖ …`.
///
/// # Errors
/// [`Error::DataLength`] if `len` is 0.
pub fn x963_kdf(
    hash: HashAlg,
    z: &[u8],
    shared_info: &[u8],
    len: usize,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    if len == 0 {
        return Err(Error::DataLength);
    }
    let mut out = Zeroizing::new(vec![0u8; len]);
    for (i, chunk) in out.chunks_mut(hash.output_len()).enumerate() {
        let counter = u32::try_from(i + 1).map_err(|_| Error::DataLength)?;
        let mut d = DigestContext::new(hash);
        d.update(z);
        d.update(&counter.to_be_bytes());
        d.update(shared_info);
        let block = Zeroizing::new(d.finish());
        chunk.copy_from_slice(&block[..chunk.len()]);
    }
    Ok(out)
}
