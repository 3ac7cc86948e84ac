//! Which parameter structure each mechanism takes, as the appliance's canonical encoding
//! expects it (see `strongroom_client::mechanism`).

use cryptoki_sys::*;

use crate::conv::ul;

/// The shape of a mechanism's `pParameter`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// No parameter.
    None,
    /// Bytes as given (an IV).
    Bytes,
    /// `CK_MAC_GENERAL_PARAMS`.
    MacGeneral,
    /// `CK_AES_CTR_PARAMS`.
    Ctr,
    /// `CK_GCM_PARAMS`.
    Gcm,
    /// `CK_RSA_PKCS_PSS_PARAMS`.
    Pss,
    /// `CK_RSA_PKCS_OAEP_PARAMS`.
    Oaep,
    /// `CK_ECDH1_DERIVE_PARAMS`.
    Ecdh1,
    /// `CK_HKDF_PARAMS`.
    Hkdf,
    /// `CK_PKCS5_PBKD2_PARAMS2`.
    Pbkdf2,
    /// A mechanism the appliance does not offer.
    Unknown,
}

const NO_PARAMS: &[CK_MECHANISM_TYPE] = &[
    CKM_SHA_1,
    CKM_SHA224,
    CKM_SHA256,
    CKM_SHA384,
    CKM_SHA512,
    CKM_SHA3_224,
    CKM_SHA3_256,
    CKM_SHA3_384,
    CKM_SHA3_512,
    CKM_RSA_PKCS_KEY_PAIR_GEN,
    CKM_RSA_PKCS,
    CKM_RSA_X_509,
    CKM_SHA1_RSA_PKCS,
    CKM_SHA224_RSA_PKCS,
    CKM_SHA256_RSA_PKCS,
    CKM_SHA384_RSA_PKCS,
    CKM_SHA512_RSA_PKCS,
    CKM_EC_KEY_PAIR_GEN,
    CKM_ECDSA,
    CKM_ECDSA_SHA1,
    CKM_ECDSA_SHA224,
    CKM_ECDSA_SHA256,
    CKM_ECDSA_SHA384,
    CKM_ECDSA_SHA512,
    CKM_EC_EDWARDS_KEY_PAIR_GEN,
    CKM_EC_MONTGOMERY_KEY_PAIR_GEN,
    CKM_EDDSA,
    CKM_AES_KEY_GEN,
    CKM_AES_ECB,
    CKM_AES_CMAC,
    CKM_GENERIC_SECRET_KEY_GEN,
    CKM_SHA_1_KEY_GEN,
    CKM_SHA224_KEY_GEN,
    CKM_SHA256_KEY_GEN,
    CKM_SHA384_KEY_GEN,
    CKM_SHA512_KEY_GEN,
    CKM_SHA_1_HMAC,
    CKM_SHA224_HMAC,
    CKM_SHA256_HMAC,
    CKM_SHA384_HMAC,
    CKM_SHA512_HMAC,
    CKM_HKDF_KEY_GEN,
];

const MAC_GENERAL: &[CK_MECHANISM_TYPE] = &[
    CKM_SHA_1_HMAC_GENERAL,
    CKM_SHA224_HMAC_GENERAL,
    CKM_SHA256_HMAC_GENERAL,
    CKM_SHA384_HMAC_GENERAL,
    CKM_SHA512_HMAC_GENERAL,
    CKM_AES_CMAC_GENERAL,
];

const PSS: &[CK_MECHANISM_TYPE] = &[
    CKM_RSA_PKCS_PSS,
    CKM_SHA1_RSA_PKCS_PSS,
    CKM_SHA224_RSA_PKCS_PSS,
    CKM_SHA256_RSA_PKCS_PSS,
    CKM_SHA384_RSA_PKCS_PSS,
    CKM_SHA512_RSA_PKCS_PSS,
];

/// The parameter shape of mechanism `ckm`.
pub(crate) fn shape(ckm: u64) -> Shape {
    let is = |list: &[CK_MECHANISM_TYPE]| list.iter().any(|m| ul(*m) == ckm);
    let one = |m: CK_MECHANISM_TYPE| ul(m) == ckm;
    if is(NO_PARAMS) {
        Shape::None
    } else if is(MAC_GENERAL) {
        Shape::MacGeneral
    } else if is(PSS) {
        Shape::Pss
    } else if one(CKM_AES_CBC)
        || one(CKM_AES_CBC_PAD)
        || one(CKM_AES_KEY_WRAP)
        || one(CKM_AES_KEY_WRAP_KWP)
    {
        Shape::Bytes
    } else if one(CKM_AES_CTR) {
        Shape::Ctr
    } else if one(CKM_AES_GCM) {
        Shape::Gcm
    } else if one(CKM_RSA_PKCS_OAEP) {
        Shape::Oaep
    } else if one(CKM_ECDH1_DERIVE) {
        Shape::Ecdh1
    } else if one(CKM_HKDF_DERIVE) {
        Shape::Hkdf
    } else if one(CKM_PKCS5_PBKD2) {
        Shape::Pbkdf2
    } else {
        Shape::Unknown
    }
}
