//! Mechanism parameters in the canonical encoding the appliance reads.
//!
//! Fixed little endian, independent of the application's `CK_ULONG` width and structure
//! padding. Primitives: `ulong` = 8 bytes little endian, `bool` = 1 byte 0 or 1, `bytes` =
//! ulong length then the bytes. Parameters, in the field order of the PKCS#11 structures:
//!
//! ```text
//! CKM_AES_CBC, CKM_AES_CBC_PAD     iv: exactly 16 bytes, no length prefix
//! CKM_AES_CTR                      ulCounterBits: ulong | cb: 16 bytes
//! CKM_AES_GCM                      pIv: bytes | ulIvBits: ulong | pAAD: bytes | ulTagBits: ulong
//! CKM_AES_KEY_WRAP(_KWP)           empty, or the IV as given
//! CKM_*_HMAC_GENERAL,
//! CKM_AES_CMAC_GENERAL             ulMacLength: ulong
//! CKM_RSA_PKCS_PSS, CKM_SHA*_PSS   hashAlg: ulong | mgf: ulong | sLen: ulong
//! CKM_RSA_PKCS_OAEP                hashAlg: ulong | mgf: ulong | source: ulong | pSourceData: bytes
//! CKM_ECDH1_DERIVE                 kdf: ulong | pSharedData: bytes | pPublicData: bytes
//! CKM_HKDF_DERIVE                  bExtract: bool | bExpand: bool | prfHashMechanism: ulong |
//!                                  ulSaltType: ulong | pSalt: bytes | hSaltKey: ulong | pInfo: bytes
//! CKM_PKCS5_PBKD2                  saltSource: ulong | pSaltSourceData: bytes | iterations: ulong |
//!                                  prf: ulong | pPrfData: bytes | pPassword: bytes
//! every other mechanism            empty
//! ```
//!
//! The appliance checks every value; these functions only lay the fields out.

use zeroize::Zeroizing;

/// A canonical parameter being written. It may hold secrets (a PBKDF2 password), so it is
/// zeroized on drop.
#[derive(Default)]
pub struct Params(Zeroizing<Vec<u8>>);

impl Params {
    /// An empty parameter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a `ulong`.
    pub fn ulong(mut self, v: u64) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// Appends a `bool`.
    pub fn bool(mut self, v: bool) -> Self {
        self.0.push(u8::from(v));
        self
    }

    /// Appends length-prefixed bytes.
    pub fn bytes(self, b: &[u8]) -> Self {
        // A slice length always fits in 64 bits on the platforms this builds for.
        let mut this = self.ulong(u64::try_from(b.len()).unwrap_or(u64::MAX));
        this.0.extend_from_slice(b);
        this
    }

    /// Appends bytes without a length (fixed-size fields).
    pub fn raw(mut self, b: &[u8]) -> Self {
        self.0.extend_from_slice(b);
        self
    }

    /// The encoded parameter.
    pub fn into_vec(self) -> Vec<u8> {
        self.0.to_vec()
    }
}

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Params({} bytes)", self.0.len())
    }
}

/// `CK_GCM_PARAMS`.
pub fn gcm(iv: &[u8], iv_bits: u64, aad: &[u8], tag_bits: u64) -> Vec<u8> {
    Params::new()
        .bytes(iv)
        .ulong(iv_bits)
        .bytes(aad)
        .ulong(tag_bits)
        .into_vec()
}

/// `CK_AES_CTR_PARAMS`.
pub fn ctr(counter_bits: u64, counter_block: &[u8; 16]) -> Vec<u8> {
    Params::new()
        .ulong(counter_bits)
        .raw(counter_block)
        .into_vec()
}

/// `CK_RSA_PKCS_PSS_PARAMS`.
pub fn pss(hash: u64, mgf: u64, salt_len: u64) -> Vec<u8> {
    Params::new()
        .ulong(hash)
        .ulong(mgf)
        .ulong(salt_len)
        .into_vec()
}

/// `CK_RSA_PKCS_OAEP_PARAMS`.
pub fn oaep(hash: u64, mgf: u64, source: u64, source_data: &[u8]) -> Vec<u8> {
    Params::new()
        .ulong(hash)
        .ulong(mgf)
        .ulong(source)
        .bytes(source_data)
        .into_vec()
}

/// `CK_ECDH1_DERIVE_PARAMS`.
pub fn ecdh1(kdf: u64, shared_data: &[u8], public_data: &[u8]) -> Vec<u8> {
    Params::new()
        .ulong(kdf)
        .bytes(shared_data)
        .bytes(public_data)
        .into_vec()
}

/// `CK_MAC_GENERAL_PARAMS`.
pub fn mac_general(len: u64) -> Vec<u8> {
    Params::new().ulong(len).into_vec()
}

/// `CK_HKDF_PARAMS`.
#[allow(clippy::too_many_arguments)]
pub fn hkdf(
    extract: bool,
    expand: bool,
    prf: u64,
    salt_type: u64,
    salt: &[u8],
    salt_key: u64,
    info: &[u8],
) -> Vec<u8> {
    Params::new()
        .bool(extract)
        .bool(expand)
        .ulong(prf)
        .ulong(salt_type)
        .bytes(salt)
        .ulong(salt_key)
        .bytes(info)
        .into_vec()
}

/// `CK_PKCS5_PBKD2_PARAMS2`. The result holds the password: zeroize it after use.
pub fn pbkdf2(
    salt_source: u64,
    salt: &[u8],
    iterations: u64,
    prf: u64,
    prf_data: &[u8],
    password: &[u8],
) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(
        Params::new()
            .ulong(salt_source)
            .bytes(salt)
            .ulong(iterations)
            .ulong(prf)
            .bytes(prf_data)
            .bytes(password)
            .into_vec(),
    )
}

const CKM_AES_CBC: u64 = 0x1082;
const CKM_AES_CBC_PAD: u64 = 0x1085;
const CKM_AES_CTR: u64 = 0x1086;
const CKM_AES_GCM: u64 = 0x1087;

/// Whether the appliance's checks at init come to the same answer for mechanism `ckm` with
/// parameter `a` as with parameter `b`. True when they are equal, and where they differ only
/// in values init does not look at: the bytes of a CBC IV or CTR counter block, the bytes of
/// a GCM IV of the same length, GCM's additional data. The output lengths of the operation
/// are the same too (the GCM tag length is compared).
pub fn same_init_checks(ckm: u64, a: &[u8], b: &[u8]) -> bool {
    if a == b {
        return true;
    }
    match ckm {
        CKM_AES_CBC | CKM_AES_CBC_PAD => a.len() == 16 && b.len() == 16,
        // ulCounterBits then the 16-byte block.
        CKM_AES_CTR => a.len() == 24 && b.len() == 24 && a[..8] == b[..8],
        CKM_AES_GCM => match (gcm_shape(a), gcm_shape(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
        _ => false,
    }
}

/// What init checks of a canonical `CK_GCM_PARAMS`: the IV's length, `ulIvBits` and
/// `ulTagBits`. `None` if the bytes are not one (the appliance would say why).
fn gcm_shape(p: &[u8]) -> Option<(usize, u64, u64)> {
    fn ulong(p: &[u8], at: usize) -> Option<u64> {
        let b = p.get(at..at.checked_add(8)?)?;
        Some(u64::from_le_bytes(b.try_into().ok()?))
    }
    let iv_len = usize::try_from(ulong(p, 0)?).ok()?;
    let at = 8usize.checked_add(iv_len)?;
    let iv_bits = ulong(p, at)?;
    let aad_len = usize::try_from(ulong(p, at.checked_add(8)?)?).ok()?;
    let at = at.checked_add(16)?.checked_add(aad_len)?;
    let tag_bits = ulong(p, at)?;
    (p.len() == at.checked_add(8)?).then_some((iv_len, iv_bits, tag_bits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_values_init_does_not_check_may_differ() {
        let gcm12 = |iv: u8, aad: &[u8], tag| gcm(&[iv; 12], 96, aad, tag);
        assert!(same_init_checks(
            CKM_AES_GCM,
            &gcm12(1, b"", 128),
            &gcm12(2, b"aad", 128)
        ));
        assert!(!same_init_checks(
            CKM_AES_GCM,
            &gcm12(1, b"", 128),
            &gcm12(1, b"", 96)
        ));
        assert!(!same_init_checks(
            CKM_AES_GCM,
            &gcm12(1, b"", 128),
            &gcm(&[1; 16], 128, b"", 128)
        ));
        assert!(!same_init_checks(
            CKM_AES_GCM,
            &gcm12(1, b"", 128),
            &gcm(&[1; 12], 0, b"", 128)
        ));
        // Not a CK_GCM_PARAMS: only the same bytes match.
        let mut cut = gcm12(1, b"", 128);
        cut.pop();
        assert!(!same_init_checks(CKM_AES_GCM, &gcm12(1, b"", 128), &cut));
        assert!(same_init_checks(CKM_AES_GCM, &cut, &cut));
        let mut long = gcm12(1, b"", 128);
        long.push(0);
        assert!(!same_init_checks(CKM_AES_GCM, &gcm12(1, b"", 128), &long));

        assert!(same_init_checks(CKM_AES_CBC, &[1; 16], &[2; 16]));
        assert!(same_init_checks(CKM_AES_CBC_PAD, &[1; 16], &[2; 16]));
        assert!(!same_init_checks(CKM_AES_CBC, &[1; 16], &[2; 15]));
        assert!(same_init_checks(
            CKM_AES_CTR,
            &ctr(32, &[1; 16]),
            &ctr(32, &[2; 16])
        ));
        assert!(!same_init_checks(
            CKM_AES_CTR,
            &ctr(32, &[1; 16]),
            &ctr(64, &[1; 16])
        ));
        // Every other mechanism: equal parameters only.
        let pss = |salt| super::pss(0x250, 2, salt);
        assert!(same_init_checks(0x43, &pss(32), &pss(32)));
        assert!(!same_init_checks(0x43, &pss(32), &pss(20)));
        assert!(!same_init_checks(0x1081, &[1; 16], &[2; 16]));
    }
}
