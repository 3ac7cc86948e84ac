//! Mechanisms: the typed [`Mechanism`] a PKCS#11 `CK_MECHANISM` becomes inside the module,
//! its parameters, and their canonical byte encoding for the wire (`codec.rs`).
//!
//! The client library converts `CK_MECHANISM` and its parameter structure into a
//! [`Mechanism`] (or into `(ckm, canonical parameter bytes)`, which [`Mechanism::parse`] reads
//! back on the appliance side). The parser handles untrusted bytes: every length is checked
//! against what remains, every value against its range, and nothing is allocated before its
//! length has been checked.
//!
//! Which mechanisms this build offers, and with which `CK_MECHANISM_INFO`, is `registry.rs`.

use std::fmt;

use cryptoki_sys::*;
use strongroom_crypto::HashAlg;
use zeroize::Zeroizing;

mod codec;
mod registry;

pub(crate) use registry::{Gate, effective_info};
pub use registry::{MechanismInfo, supported_mechanisms};

/// A hash function named by a mechanism (`CKM_SHA256`, `CKG_MGF1_SHA256`,
/// `CKP_PKCS5_PBKD2_HMAC_SHA256`, `CKD_SHA256_KDF`...).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Hash {
    /// SHA-1.
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
    /// SHA3-224.
    Sha3_224,
    /// SHA3-256.
    Sha3_256,
    /// SHA3-384.
    Sha3_384,
    /// SHA3-512.
    Sha3_512,
}

impl Hash {
    /// Every hash, in the order of their `CKM_*` digest codes' table.
    pub const ALL: [Hash; 9] = [
        Self::Sha1,
        Self::Sha224,
        Self::Sha256,
        Self::Sha384,
        Self::Sha512,
        Self::Sha3_224,
        Self::Sha3_256,
        Self::Sha3_384,
        Self::Sha3_512,
    ];

    /// The digest mechanism (`CKM_SHA256`...).
    pub fn ckm(self) -> u64 {
        match self {
            Self::Sha1 => CKM_SHA_1,
            Self::Sha224 => CKM_SHA224,
            Self::Sha256 => CKM_SHA256,
            Self::Sha384 => CKM_SHA384,
            Self::Sha512 => CKM_SHA512,
            Self::Sha3_224 => CKM_SHA3_224,
            Self::Sha3_256 => CKM_SHA3_256,
            Self::Sha3_384 => CKM_SHA3_384,
            Self::Sha3_512 => CKM_SHA3_512,
        }
    }

    /// The hash of a digest mechanism code.
    pub fn from_ckm(ckm: u64) -> Option<Self> {
        Self::ALL.into_iter().find(|h| h.ckm() == ckm)
    }

    /// The MGF1 code (`CKG_MGF1_SHA256`...).
    pub fn mgf1(self) -> u64 {
        match self {
            Self::Sha1 => CKG_MGF1_SHA1,
            Self::Sha224 => CKG_MGF1_SHA224,
            Self::Sha256 => CKG_MGF1_SHA256,
            Self::Sha384 => CKG_MGF1_SHA384,
            Self::Sha512 => CKG_MGF1_SHA512,
            Self::Sha3_224 => CKG_MGF1_SHA3_224,
            Self::Sha3_256 => CKG_MGF1_SHA3_256,
            Self::Sha3_384 => CKG_MGF1_SHA3_384,
            Self::Sha3_512 => CKG_MGF1_SHA3_512,
        }
    }

    /// The hash of an MGF1 code.
    pub fn from_mgf1(mgf: u64) -> Option<Self> {
        Self::ALL.into_iter().find(|h| h.mgf1() == mgf)
    }

    /// Digest length in bytes.
    pub fn len(self) -> usize {
        self.alg().output_len()
    }

    /// Always false: no digest is empty.
    pub fn is_empty(self) -> bool {
        false
    }

    /// Whether the hash is SHA-1 or SHA-2 (the family HMAC, HKDF and PBKDF2 use here).
    pub fn is_sha2_family(self) -> bool {
        self.alg().is_sha2_family()
    }

    pub(crate) fn alg(self) -> HashAlg {
        match self {
            Self::Sha1 => HashAlg::Sha1,
            Self::Sha224 => HashAlg::Sha224,
            Self::Sha256 => HashAlg::Sha256,
            Self::Sha384 => HashAlg::Sha384,
            Self::Sha512 => HashAlg::Sha512,
            Self::Sha3_224 => HashAlg::Sha3_224,
            Self::Sha3_256 => HashAlg::Sha3_256,
            Self::Sha3_384 => HashAlg::Sha3_384,
            Self::Sha3_512 => HashAlg::Sha3_512,
        }
    }
}

/// `CK_RSA_PKCS_PSS_PARAMS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PssParams {
    /// `hashAlg`.
    pub hash: Hash,
    /// `mgf` (MGF1 with this hash).
    pub mgf1: Hash,
    /// `sLen`, bytes.
    pub salt_len: u64,
}

/// `CK_RSA_PKCS_OAEP_PARAMS` (the source is `CKZ_DATA_SPECIFIED`, or 0 with no label).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OaepParams {
    /// `hashAlg`.
    pub hash: Hash,
    /// `mgf` (MGF1 with this hash).
    pub mgf1: Hash,
    /// `pSourceData`: the label.
    pub label: Vec<u8>,
}

/// `CK_AES_CTR_PARAMS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CtrParams {
    /// `ulCounterBits`: 1-128.
    pub counter_bits: u64,
    /// `cb`: the initial counter block.
    pub counter_block: [u8; 16],
}

/// `CK_GCM_PARAMS`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GcmParams {
    /// `pIv`: at least one byte.
    pub iv: Vec<u8>,
    /// `ulIvBits`: 0 or `8 * iv.len()`.
    pub iv_bits: u64,
    /// `pAAD`.
    pub aad: Vec<u8>,
    /// `ulTagBits`: 8-128, a multiple of 8.
    pub tag_bits: u64,
}

impl GcmParams {
    /// The tag length in bytes.
    pub fn tag_len(&self) -> usize {
        usize::try_from(self.tag_bits / 8).unwrap_or(16)
    }
}

/// The key derivation function of `CK_ECDH1_DERIVE_PARAMS` (`CKD_NULL` or an ANSI X9.63 KDF).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EcdhKdf {
    /// `CKD_NULL`: the shared secret itself.
    Null,
    /// `CKD_SHA*_KDF`: ANSI X9.63 with this hash.
    X963(Hash),
}

impl EcdhKdf {
    /// The `CKD_*` code.
    pub fn ckd(self) -> u64 {
        match self {
            Self::Null => CKD_NULL,
            Self::X963(h) => match h {
                Hash::Sha1 => CKD_SHA1_KDF,
                Hash::Sha224 => CKD_SHA224_KDF,
                Hash::Sha256 => CKD_SHA256_KDF,
                Hash::Sha384 => CKD_SHA384_KDF,
                Hash::Sha512 => CKD_SHA512_KDF,
                Hash::Sha3_224 => CKD_SHA3_224_KDF,
                Hash::Sha3_256 => CKD_SHA3_256_KDF,
                Hash::Sha3_384 => CKD_SHA3_384_KDF,
                Hash::Sha3_512 => CKD_SHA3_512_KDF,
            },
        }
    }

    /// The KDF of a `CKD_*` code.
    pub fn from_ckd(ckd: u64) -> Option<Self> {
        if ckd == CKD_NULL {
            return Some(Self::Null);
        }
        Hash::ALL
            .into_iter()
            .map(Self::X963)
            .find(|k| k.ckd() == ckd)
    }
}

/// `CK_ECDH1_DERIVE_PARAMS`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EcdhParams {
    /// `kdf`.
    pub kdf: EcdhKdf,
    /// `pSharedData` (empty with `CKD_NULL`).
    pub shared_data: Vec<u8>,
    /// `pPublicData`: the other party's public key (raw point, or DER OCTET STRING).
    pub public_data: Vec<u8>,
}

/// The salt of `CK_HKDF_PARAMS`.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HkdfSalt {
    /// `CKF_HKDF_SALT_NULL`: HashLen zero bytes.
    Null,
    /// `CKF_HKDF_SALT_DATA`.
    Data(Vec<u8>),
    /// `CKF_HKDF_SALT_KEY`: the value of this secret key object.
    Key(u64),
}

/// `CK_HKDF_PARAMS` (PKCS#11 v3.0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HkdfParams {
    /// `bExtract`.
    pub extract: bool,
    /// `bExpand`.
    pub expand: bool,
    /// `prfHashMechanism` (SHA-1 or SHA-2).
    pub prf: Hash,
    /// `ulSaltType` with `pSalt` or `hSaltKey`.
    pub salt: HkdfSalt,
    /// `pInfo`.
    pub info: Vec<u8>,
}

/// `CK_PKCS5_PBKD2_PARAMS2` (salt source `CKZ_SALT_SPECIFIED`, no PRF data).
#[derive(PartialEq, Eq)]
pub struct Pbkdf2Params {
    /// `pSaltSourceData`.
    pub salt: Vec<u8>,
    /// `iterations`: 1 to [`PBKDF2_MAX_ITERATIONS`].
    pub iterations: u64,
    /// `prf`: HMAC with this hash (SHA-1 or SHA-2).
    pub prf: Hash,
    /// `pPassword`.
    pub password: Zeroizing<Vec<u8>>,
}

/// The most PBKDF2 iterations one request may ask for (one request must not hold a worker for
/// minutes).
pub const PBKDF2_MAX_ITERATIONS: u64 = 10_000_000;

/// A mechanism with its parameters: what a `CK_MECHANISM` becomes inside the module.
#[non_exhaustive]
#[derive(PartialEq, Eq)]
pub enum Mechanism {
    /// `CKM_SHA_1` ... `CKM_SHA3_512`.
    Digest(Hash),
    /// `CKM_RSA_PKCS_KEY_PAIR_GEN`.
    RsaKeyPairGen,
    /// `CKM_RSA_PKCS`: PKCS #1 v1.5 encryption, or signature over caller data.
    RsaPkcs,
    /// `CKM_RSA_X_509`: raw RSA (partition policy 19).
    RsaX509,
    /// `CKM_RSA_PKCS_OAEP`.
    RsaOaep(OaepParams),
    /// `CKM_RSA_PKCS_PSS`: PSS over a caller digest.
    RsaPss(PssParams),
    /// `CKM_SHA*_RSA_PKCS`.
    RsaPkcsHash(Hash),
    /// `CKM_SHA*_RSA_PKCS_PSS` (the parameters' hash must be the mechanism's).
    RsaPssHash(Hash, PssParams),
    /// `CKM_EC_KEY_PAIR_GEN`.
    EcKeyPairGen,
    /// `CKM_ECDSA`: over a caller digest.
    Ecdsa,
    /// `CKM_ECDSA_SHA*`.
    EcdsaHash(Hash),
    /// `CKM_ECDH1_DERIVE` (NIST curves and X25519).
    Ecdh1Derive(EcdhParams),
    /// `CKM_EC_EDWARDS_KEY_PAIR_GEN` (Ed25519).
    EdwardsKeyPairGen,
    /// `CKM_EC_MONTGOMERY_KEY_PAIR_GEN` (X25519).
    MontgomeryKeyPairGen,
    /// `CKM_EDDSA`: pure Ed25519, no parameters.
    EdDsa,
    /// `CKM_AES_KEY_GEN`.
    AesKeyGen,
    /// `CKM_AES_ECB`.
    AesEcb,
    /// `CKM_AES_CBC`.
    AesCbc([u8; 16]),
    /// `CKM_AES_CBC_PAD`.
    AesCbcPad([u8; 16]),
    /// `CKM_AES_CTR`.
    AesCtr(CtrParams),
    /// `CKM_AES_GCM`.
    AesGcm(GcmParams),
    /// `CKM_AES_CMAC`.
    AesCmac,
    /// `CKM_AES_CMAC_GENERAL` with the MAC length in bytes (1-16).
    AesCmacGeneral(u64),
    /// `CKM_AES_KEY_WRAP` (RFC 3394, default IV).
    AesKeyWrap,
    /// `CKM_AES_KEY_WRAP_KWP` (RFC 5649, default IV).
    AesKeyWrapKwp,
    /// `CKM_GENERIC_SECRET_KEY_GEN`.
    GenericSecretKeyGen,
    /// `CKM_SHA*_KEY_GEN` (SHA-1 and SHA-2): a key of type `CKK_SHA*_HMAC`.
    HmacKeyGen(Hash),
    /// `CKM_SHA*_HMAC` (SHA-1 and SHA-2).
    Hmac(Hash),
    /// `CKM_SHA*_HMAC_GENERAL` with the MAC length in bytes.
    HmacGeneral(Hash, u64),
    /// `CKM_HKDF_KEY_GEN`.
    HkdfKeyGen,
    /// `CKM_HKDF_DERIVE`.
    HkdfDerive(HkdfParams),
    /// `CKM_PKCS5_PBKD2` (key generation from a password).
    Pbkdf2(Pbkdf2Params),
}

/// The `CKM_SHA*_RSA_PKCS` codes, by hash.
const RSA_PKCS_HASH: [(Hash, u64); 5] = [
    (Hash::Sha1, CKM_SHA1_RSA_PKCS),
    (Hash::Sha224, CKM_SHA224_RSA_PKCS),
    (Hash::Sha256, CKM_SHA256_RSA_PKCS),
    (Hash::Sha384, CKM_SHA384_RSA_PKCS),
    (Hash::Sha512, CKM_SHA512_RSA_PKCS),
];

/// The `CKM_SHA*_RSA_PKCS_PSS` codes, by hash.
const RSA_PSS_HASH: [(Hash, u64); 5] = [
    (Hash::Sha1, CKM_SHA1_RSA_PKCS_PSS),
    (Hash::Sha224, CKM_SHA224_RSA_PKCS_PSS),
    (Hash::Sha256, CKM_SHA256_RSA_PKCS_PSS),
    (Hash::Sha384, CKM_SHA384_RSA_PKCS_PSS),
    (Hash::Sha512, CKM_SHA512_RSA_PKCS_PSS),
];

/// The `CKM_ECDSA_SHA*` codes, by hash.
const ECDSA_HASH: [(Hash, u64); 5] = [
    (Hash::Sha1, CKM_ECDSA_SHA1),
    (Hash::Sha224, CKM_ECDSA_SHA224),
    (Hash::Sha256, CKM_ECDSA_SHA256),
    (Hash::Sha384, CKM_ECDSA_SHA384),
    (Hash::Sha512, CKM_ECDSA_SHA512),
];

/// The `CKM_SHA*_HMAC`, `_GENERAL` and `CKM_SHA*_KEY_GEN` codes, by hash.
const HMAC: [(Hash, u64, u64, u64); 5] = [
    (
        Hash::Sha1,
        CKM_SHA_1_HMAC,
        CKM_SHA_1_HMAC_GENERAL,
        CKM_SHA_1_KEY_GEN,
    ),
    (
        Hash::Sha224,
        CKM_SHA224_HMAC,
        CKM_SHA224_HMAC_GENERAL,
        CKM_SHA224_KEY_GEN,
    ),
    (
        Hash::Sha256,
        CKM_SHA256_HMAC,
        CKM_SHA256_HMAC_GENERAL,
        CKM_SHA256_KEY_GEN,
    ),
    (
        Hash::Sha384,
        CKM_SHA384_HMAC,
        CKM_SHA384_HMAC_GENERAL,
        CKM_SHA384_KEY_GEN,
    ),
    (
        Hash::Sha512,
        CKM_SHA512_HMAC,
        CKM_SHA512_HMAC_GENERAL,
        CKM_SHA512_KEY_GEN,
    ),
];

fn code_of(table: &[(Hash, u64)], h: Hash) -> u64 {
    table
        .iter()
        .find(|(t, _)| *t == h)
        .map_or(CKM_VENDOR_DEFINED, |(_, c)| *c)
}

fn hash_of(table: &[(Hash, u64)], ckm: u64) -> Option<Hash> {
    table.iter().find(|(_, c)| *c == ckm).map(|(h, _)| *h)
}

impl Mechanism {
    /// The `CKM_*` code.
    pub fn ckm(&self) -> u64 {
        match self {
            Self::Digest(h) => h.ckm(),
            Self::RsaKeyPairGen => CKM_RSA_PKCS_KEY_PAIR_GEN,
            Self::RsaPkcs => CKM_RSA_PKCS,
            Self::RsaX509 => CKM_RSA_X_509,
            Self::RsaOaep(_) => CKM_RSA_PKCS_OAEP,
            Self::RsaPss(_) => CKM_RSA_PKCS_PSS,
            Self::RsaPkcsHash(h) => code_of(&RSA_PKCS_HASH, *h),
            Self::RsaPssHash(h, _) => code_of(&RSA_PSS_HASH, *h),
            Self::EcKeyPairGen => CKM_EC_KEY_PAIR_GEN,
            Self::Ecdsa => CKM_ECDSA,
            Self::EcdsaHash(h) => code_of(&ECDSA_HASH, *h),
            Self::Ecdh1Derive(_) => CKM_ECDH1_DERIVE,
            Self::EdwardsKeyPairGen => CKM_EC_EDWARDS_KEY_PAIR_GEN,
            Self::MontgomeryKeyPairGen => CKM_EC_MONTGOMERY_KEY_PAIR_GEN,
            Self::EdDsa => CKM_EDDSA,
            Self::AesKeyGen => CKM_AES_KEY_GEN,
            Self::AesEcb => CKM_AES_ECB,
            Self::AesCbc(_) => CKM_AES_CBC,
            Self::AesCbcPad(_) => CKM_AES_CBC_PAD,
            Self::AesCtr(_) => CKM_AES_CTR,
            Self::AesGcm(_) => CKM_AES_GCM,
            Self::AesCmac => CKM_AES_CMAC,
            Self::AesCmacGeneral(_) => CKM_AES_CMAC_GENERAL,
            Self::AesKeyWrap => CKM_AES_KEY_WRAP,
            Self::AesKeyWrapKwp => CKM_AES_KEY_WRAP_KWP,
            Self::GenericSecretKeyGen => CKM_GENERIC_SECRET_KEY_GEN,
            Self::Hmac(h) => HMAC.iter().find(|r| r.0 == *h).map_or(0, |r| r.1),
            Self::HmacGeneral(h, _) => HMAC.iter().find(|r| r.0 == *h).map_or(0, |r| r.2),
            Self::HmacKeyGen(h) => HMAC.iter().find(|r| r.0 == *h).map_or(0, |r| r.3),
            Self::HkdfKeyGen => CKM_HKDF_KEY_GEN,
            Self::HkdfDerive(_) => CKM_HKDF_DERIVE,
            Self::Pbkdf2(_) => CKM_PKCS5_PBKD2,
        }
    }

    /// The mechanism's `CKM_*` name.
    pub fn name(&self) -> &'static str {
        registry::name(self.ckm()).unwrap_or("CKM_UNKNOWN")
    }

    /// Reads a mechanism from its code and its parameter in the canonical encoding (see
    /// `codec.rs`). Untrusted input: never panics.
    ///
    /// # Errors
    /// `CKR_MECHANISM_INVALID` for a code this module does not offer;
    /// `CKR_MECHANISM_PARAM_INVALID` for malformed or out-of-range parameters.
    pub fn parse(ckm: u64, params: &[u8]) -> Result<Self, crate::Error> {
        codec::parse(ckm, params)
    }

    /// The parameter in the canonical encoding (what [`Mechanism::parse`] reads).
    pub fn encode_params(&self) -> Vec<u8> {
        codec::encode(self)
    }

    /// The hash a `CKM_SHA*_RSA_PKCS` code names.
    fn rsa_pkcs_hash(ckm: u64) -> Option<Hash> {
        hash_of(&RSA_PKCS_HASH, ckm)
    }

    fn rsa_pss_hash(ckm: u64) -> Option<Hash> {
        hash_of(&RSA_PSS_HASH, ckm)
    }

    fn ecdsa_hash(ckm: u64) -> Option<Hash> {
        hash_of(&ECDSA_HASH, ckm)
    }

    /// The hash of a `CKM_SHA*_KEY_GEN` code.
    fn hmac_key_gen_hash(ckm: u64) -> Option<Hash> {
        HMAC.iter().find(|r| r.3 == ckm).map(|r| r.0)
    }

    fn hmac_hash(ckm: u64) -> Option<(Hash, bool)> {
        HMAC.iter().find_map(|(h, full, general, _)| {
            if ckm == *full {
                Some((*h, false))
            } else if ckm == *general {
                Some((*h, true))
            } else {
                None
            }
        })
    }
}

/// Names only: parameters may hold secrets (a PBKDF2 password) and are never printed.
impl fmt::Debug for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mechanism({})", self.name())
    }
}

#[cfg(test)]
mod tests;
