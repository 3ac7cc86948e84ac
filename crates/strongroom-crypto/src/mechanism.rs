//! The mechanism table: what `C_GetMechanismList`/`C_GetMechanismInfo` report for the
//! operations this crate implements. Codes are PKCS#11 v3.0 `CKM_*`/`CKF_*` values; key sizes
//! are in bits for RSA and EC keys and in bytes for AES and generic secrets, as the
//! specification asks.

/// `CKF_*` flag bits of `CK_MECHANISM_INFO`.
pub mod flags {
    /// `CKF_ENCRYPT`.
    pub const ENCRYPT: u64 = 0x100;
    /// `CKF_DECRYPT`.
    pub const DECRYPT: u64 = 0x200;
    /// `CKF_DIGEST`.
    pub const DIGEST: u64 = 0x400;
    /// `CKF_SIGN`.
    pub const SIGN: u64 = 0x800;
    /// `CKF_VERIFY`.
    pub const VERIFY: u64 = 0x2000;
    /// `CKF_GENERATE`.
    pub const GENERATE: u64 = 0x8000;
    /// `CKF_GENERATE_KEY_PAIR`.
    pub const GENERATE_KEY_PAIR: u64 = 0x10000;
    /// `CKF_WRAP`.
    pub const WRAP: u64 = 0x20000;
    /// `CKF_UNWRAP`.
    pub const UNWRAP: u64 = 0x40000;
    /// `CKF_DERIVE`.
    pub const DERIVE: u64 = 0x80000;
    /// `CKF_EC_F_P`.
    pub const EC_F_P: u64 = 0x100000;
    /// `CKF_EC_OID` (named curves).
    pub const EC_OID: u64 = 0x800000;
    /// `CKF_EC_UNCOMPRESS`.
    pub const EC_UNCOMPRESS: u64 = 0x1000000;
    /// `CKF_MULTI_MESSAGE` is not offered; `CKF_HW` never (software token).
    pub const NONE: u64 = 0;
}

/// One row of the mechanism table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MechanismInfo {
    /// `CKM_*` code.
    pub mechanism: u64,
    /// `CKM_*` name, for logs and the appliance shell.
    pub name: &'static str,
    /// `ulMinKeySize`.
    pub min_key_size: u64,
    /// `ulMaxKeySize`.
    pub max_key_size: u64,
    /// `flags` (`CKF_*`).
    pub flags: u64,
    /// Whether the mechanism is a FIPS-approved service as implemented (see DESIGN.md).
    pub fips_approved: bool,
    /// Whether multi-part (`Update`) calls are supported.
    pub multi_part: bool,
}

const fn m(
    mechanism: u64,
    name: &'static str,
    min: u64,
    max: u64,
    flags: u64,
    fips_approved: bool,
    multi_part: bool,
) -> MechanismInfo {
    MechanismInfo {
        mechanism,
        name,
        min_key_size: min,
        max_key_size: max,
        flags,
        fips_approved,
        multi_part,
    }
}

use flags::*;

const EC: u64 = EC_F_P | EC_OID | EC_UNCOMPRESS;
const SV: u64 = SIGN | VERIFY;
const ED: u64 = ENCRYPT | DECRYPT;
const WU: u64 = WRAP | UNWRAP;
/// Generic-secret (HMAC, HKDF) key sizes in bytes.
const GS_MAX: u64 = 1024;

/// Every mechanism this crate implements.
pub const MECHANISMS: &[MechanismInfo] = &[
    // RSA (bits)
    m(
        0x0000,
        "CKM_RSA_PKCS_KEY_PAIR_GEN",
        1024,
        4096,
        GENERATE_KEY_PAIR,
        true,
        false,
    ),
    m(
        0x0001,
        "CKM_RSA_PKCS",
        1024,
        4096,
        ED | SV | WU,
        false,
        false,
    ),
    m(0x0003, "CKM_RSA_X_509", 1024, 4096, ED | SV, false, false),
    m(0x0006, "CKM_SHA1_RSA_PKCS", 1024, 4096, SV, false, true),
    m(
        0x0009,
        "CKM_RSA_PKCS_OAEP",
        1024,
        4096,
        ED | WU,
        true,
        false,
    ),
    m(0x000D, "CKM_RSA_PKCS_PSS", 1024, 4096, SV, false, false),
    m(0x000E, "CKM_SHA1_RSA_PKCS_PSS", 1024, 4096, SV, false, true),
    m(0x0040, "CKM_SHA256_RSA_PKCS", 1024, 4096, SV, true, true),
    m(0x0041, "CKM_SHA384_RSA_PKCS", 1024, 4096, SV, true, true),
    m(0x0042, "CKM_SHA512_RSA_PKCS", 1024, 4096, SV, true, true),
    m(
        0x0043,
        "CKM_SHA256_RSA_PKCS_PSS",
        1024,
        4096,
        SV,
        true,
        true,
    ),
    m(
        0x0044,
        "CKM_SHA384_RSA_PKCS_PSS",
        1024,
        4096,
        SV,
        true,
        true,
    ),
    m(
        0x0045,
        "CKM_SHA512_RSA_PKCS_PSS",
        1024,
        4096,
        SV,
        true,
        true,
    ),
    m(0x0046, "CKM_SHA224_RSA_PKCS", 1024, 4096, SV, true, true),
    m(
        0x0047,
        "CKM_SHA224_RSA_PKCS_PSS",
        1024,
        4096,
        SV,
        true,
        true,
    ),
    // Digests and HMAC (HMAC key sizes in bytes)
    m(0x0220, "CKM_SHA_1", 0, 0, DIGEST, true, true),
    m(0x0221, "CKM_SHA_1_HMAC", 1, GS_MAX, SV, true, true),
    m(0x0222, "CKM_SHA_1_HMAC_GENERAL", 1, GS_MAX, SV, true, true),
    m(0x0250, "CKM_SHA256", 0, 0, DIGEST, true, true),
    m(0x0251, "CKM_SHA256_HMAC", 1, GS_MAX, SV, true, true),
    m(0x0252, "CKM_SHA256_HMAC_GENERAL", 1, GS_MAX, SV, true, true),
    m(0x0255, "CKM_SHA224", 0, 0, DIGEST, true, true),
    m(0x0256, "CKM_SHA224_HMAC", 1, GS_MAX, SV, true, true),
    m(0x0257, "CKM_SHA224_HMAC_GENERAL", 1, GS_MAX, SV, true, true),
    m(0x0260, "CKM_SHA384", 0, 0, DIGEST, true, true),
    m(0x0261, "CKM_SHA384_HMAC", 1, GS_MAX, SV, true, true),
    m(0x0262, "CKM_SHA384_HMAC_GENERAL", 1, GS_MAX, SV, true, true),
    m(0x0270, "CKM_SHA512", 0, 0, DIGEST, true, true),
    m(0x0271, "CKM_SHA512_HMAC", 1, GS_MAX, SV, true, true),
    m(0x0272, "CKM_SHA512_HMAC_GENERAL", 1, GS_MAX, SV, true, true),
    m(0x02B0, "CKM_SHA3_256", 0, 0, DIGEST, true, true),
    m(0x02B5, "CKM_SHA3_224", 0, 0, DIGEST, true, true),
    m(0x02C0, "CKM_SHA3_384", 0, 0, DIGEST, true, true),
    m(0x02D0, "CKM_SHA3_512", 0, 0, DIGEST, true, true),
    // Generic secrets, PBKDF2, HKDF (bytes)
    m(
        0x0350,
        "CKM_GENERIC_SECRET_KEY_GEN",
        1,
        GS_MAX,
        GENERATE,
        true,
        false,
    ),
    m(
        0x4003,
        "CKM_SHA_1_KEY_GEN",
        1,
        GS_MAX,
        GENERATE,
        true,
        false,
    ),
    m(
        0x4004,
        "CKM_SHA224_KEY_GEN",
        1,
        GS_MAX,
        GENERATE,
        true,
        false,
    ),
    m(
        0x4005,
        "CKM_SHA256_KEY_GEN",
        1,
        GS_MAX,
        GENERATE,
        true,
        false,
    ),
    m(
        0x4006,
        "CKM_SHA384_KEY_GEN",
        1,
        GS_MAX,
        GENERATE,
        true,
        false,
    ),
    m(
        0x4007,
        "CKM_SHA512_KEY_GEN",
        1,
        GS_MAX,
        GENERATE,
        true,
        false,
    ),
    m(0x03B0, "CKM_PKCS5_PBKD2", 1, GS_MAX, GENERATE, true, false),
    m(0x402A, "CKM_HKDF_DERIVE", 1, GS_MAX, DERIVE, true, false),
    m(0x402B, "CKM_HKDF_DATA", 1, GS_MAX, DERIVE, true, false),
    m(0x402C, "CKM_HKDF_KEY_GEN", 1, GS_MAX, GENERATE, true, false),
    // EC (bits)
    m(
        0x1040,
        "CKM_EC_KEY_PAIR_GEN",
        256,
        521,
        GENERATE_KEY_PAIR | EC,
        true,
        false,
    ),
    m(0x1041, "CKM_ECDSA", 256, 521, SV | EC, false, false),
    m(0x1042, "CKM_ECDSA_SHA1", 256, 521, SV | EC, false, true),
    m(0x1043, "CKM_ECDSA_SHA224", 256, 521, SV | EC, true, true),
    m(0x1044, "CKM_ECDSA_SHA256", 256, 521, SV | EC, true, true),
    m(0x1045, "CKM_ECDSA_SHA384", 256, 521, SV | EC, true, true),
    m(0x1046, "CKM_ECDSA_SHA512", 256, 521, SV | EC, true, true),
    m(
        0x1050,
        "CKM_ECDH1_DERIVE",
        255,
        521,
        DERIVE | EC,
        true,
        false,
    ),
    m(
        0x1055,
        "CKM_EC_EDWARDS_KEY_PAIR_GEN",
        255,
        255,
        GENERATE_KEY_PAIR | EC_OID,
        true,
        false,
    ),
    m(
        0x1056,
        "CKM_EC_MONTGOMERY_KEY_PAIR_GEN",
        255,
        255,
        GENERATE_KEY_PAIR | EC_OID,
        false,
        false,
    ),
    m(0x1057, "CKM_EDDSA", 255, 255, SV | EC_OID, true, false),
    // AES (bytes)
    m(0x1080, "CKM_AES_KEY_GEN", 16, 32, GENERATE, true, false),
    m(0x1081, "CKM_AES_ECB", 16, 32, ED | WU, true, true),
    m(0x1082, "CKM_AES_CBC", 16, 32, ED | WU, true, true),
    m(0x1085, "CKM_AES_CBC_PAD", 16, 32, ED | WU, true, true),
    m(0x1086, "CKM_AES_CTR", 16, 32, ED, true, true),
    m(0x1087, "CKM_AES_GCM", 16, 32, ED | WU, true, false),
    m(0x108B, "CKM_AES_CMAC_GENERAL", 16, 32, SV, true, true),
    m(0x108A, "CKM_AES_CMAC", 16, 32, SV, true, true),
    m(0x2109, "CKM_AES_KEY_WRAP", 16, 32, ED | WU, true, false),
    m(0x210B, "CKM_AES_KEY_WRAP_KWP", 16, 32, ED | WU, true, false),
];

/// Looks a mechanism up by its `CKM_*` code.
pub fn mechanism_info(mechanism: u64) -> Option<&'static MechanismInfo> {
    MECHANISMS.iter().find(|i| i.mechanism == mechanism)
}
