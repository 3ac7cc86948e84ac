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
