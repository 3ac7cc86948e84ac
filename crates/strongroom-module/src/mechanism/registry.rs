//! The mechanisms this build offers (STYLE rule 5's `register_all`), and the
//! `CK_MECHANISM_INFO` each reports under the HSM's and the partition's policies.
//!
//! The sizes and flags start from the crypto provider's table (`strongroom_crypto::MECHANISMS`)
//! and are then narrowed, never widened:
//! - HSM policy 12 off ("Allow non-FIPS algorithms" off, the FIPS-approved mode of catalog
//!   PO-T12): mechanisms the provider marks non-approved are dropped, except the SHA-1
//!   signature mechanisms, which stay for verifying legacy signatures with `CKF_SIGN` removed
//!   ("no-sign"); AES ECB, CBC and CBC-PAD lose `CKF_WRAP` (SP 800-38F approves only KW, KWP
//!   and GCM-style authenticated wrapping; "no-wrap"); RSA mechanisms start at 2048 bits and
//!   `CKM_ECDH1_DERIVE` at 256 bits (X25519 is not an SP 800-56A scheme).
//! - Partition policy 19 off ("Allow raw RSA operations"): `CKM_RSA_X_509` is not offered.

use cryptoki_sys::*;
use strongroom_crypto::flags;

/// `CK_MECHANISM_INFO` of one mechanism as the module reports it. Key sizes are in bits for
/// RSA and EC keys and in bytes for AES and generic secrets, as PKCS#11 asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MechanismInfo {
    /// `CKM_*` code.
    pub mechanism: u64,
    /// `CKM_*` name.
    pub name: &'static str,
    /// `ulMinKeySize`.
    pub min_key_size: u64,
    /// `ulMaxKeySize`.
    pub max_key_size: u64,
    /// `flags` (`CKF_*`).
    pub flags: u64,
}

/// The policies that shape the mechanism list of one partition.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Gate {
    /// HSM policy 12: non-FIPS algorithms allowed (off = FIPS-approved mode).
    pub(crate) non_fips: bool,
    /// Partition policy 19: raw RSA allowed.
    pub(crate) raw_rsa: bool,
}

/// Every mechanism of the provider's table the module implements (all but `CKM_HKDF_DATA`,
/// which makes data objects from key material; the object engine derives keys only).
const OFFERED: &[u64] = &[
    CKM_RSA_PKCS_KEY_PAIR_GEN,
    CKM_RSA_PKCS,
    CKM_RSA_X_509,
    CKM_SHA1_RSA_PKCS,
    CKM_RSA_PKCS_OAEP,
    CKM_RSA_PKCS_PSS,
    CKM_SHA1_RSA_PKCS_PSS,
    CKM_SHA256_RSA_PKCS,
    CKM_SHA384_RSA_PKCS,
    CKM_SHA512_RSA_PKCS,
    CKM_SHA256_RSA_PKCS_PSS,
    CKM_SHA384_RSA_PKCS_PSS,
    CKM_SHA512_RSA_PKCS_PSS,
    CKM_SHA224_RSA_PKCS,
    CKM_SHA224_RSA_PKCS_PSS,
    CKM_SHA_1,
    CKM_SHA_1_HMAC,
    CKM_SHA_1_HMAC_GENERAL,
    CKM_SHA256,
    CKM_SHA256_HMAC,
    CKM_SHA256_HMAC_GENERAL,
    CKM_SHA224,
    CKM_SHA224_HMAC,
    CKM_SHA224_HMAC_GENERAL,
    CKM_SHA384,
    CKM_SHA384_HMAC,
    CKM_SHA384_HMAC_GENERAL,
    CKM_SHA512,
    CKM_SHA512_HMAC,
    CKM_SHA512_HMAC_GENERAL,
    CKM_SHA3_256,
    CKM_SHA3_224,
    CKM_SHA3_384,
    CKM_SHA3_512,
    CKM_GENERIC_SECRET_KEY_GEN,
    CKM_SHA_1_KEY_GEN,
    CKM_SHA224_KEY_GEN,
    CKM_SHA256_KEY_GEN,
    CKM_SHA384_KEY_GEN,
    CKM_SHA512_KEY_GEN,
    CKM_PKCS5_PBKD2,
    CKM_HKDF_DERIVE,
    CKM_HKDF_KEY_GEN,
    CKM_EC_KEY_PAIR_GEN,
    CKM_ECDSA,
    CKM_ECDSA_SHA1,
    CKM_ECDSA_SHA224,
    CKM_ECDSA_SHA256,
    CKM_ECDSA_SHA384,
    CKM_ECDSA_SHA512,
    CKM_ECDH1_DERIVE,
    CKM_EC_EDWARDS_KEY_PAIR_GEN,
    CKM_EC_MONTGOMERY_KEY_PAIR_GEN,
    CKM_EDDSA,
    CKM_AES_KEY_GEN,
    CKM_AES_ECB,
    CKM_AES_CBC,
    CKM_AES_CBC_PAD,
    CKM_AES_CTR,
    CKM_AES_GCM,
    CKM_AES_CMAC_GENERAL,
    CKM_AES_CMAC,
    CKM_AES_KEY_WRAP,
    CKM_AES_KEY_WRAP_KWP,
];

/// Non-approved mechanisms kept in FIPS-approved mode for verification only.
const VERIFY_ONLY_IN_FIPS: &[u64] = &[CKM_SHA1_RSA_PKCS, CKM_SHA1_RSA_PKCS_PSS, CKM_ECDSA_SHA1];

/// Approved mechanisms that may not wrap in FIPS-approved mode.
const NO_WRAP_IN_FIPS: &[u64] = &[CKM_AES_ECB, CKM_AES_CBC, CKM_AES_CBC_PAD];

/// The provider's name of `CKM_AES_CMAC_GENERAL`, whose row its table files under 0x1089
/// (the code of `CKM_AES_CTS`); the row is found by name so the module offers the mechanism
/// under its PKCS#11 code, 0x108B, before and after the table is corrected.
const CMAC_GENERAL_NAME: &str = "CKM_AES_CMAC_GENERAL";

/// The provider's row of `ckm`.
fn provider_row(ckm: u64) -> Option<&'static strongroom_crypto::MechanismInfo> {
    if ckm == CKM_AES_CMAC_GENERAL {
        return strongroom_crypto::MECHANISMS
            .iter()
            .find(|i| i.name == CMAC_GENERAL_NAME);
    }
    strongroom_crypto::mechanism_info(ckm).filter(|i| i.name != CMAC_GENERAL_NAME)
}

/// The PKCS#11 code of a provider row.
fn code_of(row: &strongroom_crypto::MechanismInfo) -> u64 {
    if row.name == CMAC_GENERAL_NAME {
        CKM_AES_CMAC_GENERAL
    } else {
        row.mechanism
    }
}

/// The `CKM_*` name of a mechanism the provider implements.
pub(crate) fn name(ckm: u64) -> Option<&'static str> {
    provider_row(ckm).map(|r| r.name)
}

/// Every mechanism this build implements, whatever the policies (in table order).
pub fn supported_mechanisms() -> impl Iterator<Item = u64> {
    strongroom_crypto::MECHANISMS
        .iter()
        .map(code_of)
        .filter(|m| OFFERED.contains(m))
}

fn is_rsa(ckm: u64) -> bool {
    matches!(
        ckm,
        CKM_RSA_PKCS_KEY_PAIR_GEN
            | CKM_RSA_PKCS
            | CKM_RSA_X_509
            | CKM_SHA1_RSA_PKCS
            | CKM_RSA_PKCS_OAEP
            | CKM_RSA_PKCS_PSS
            | CKM_SHA1_RSA_PKCS_PSS
            | CKM_SHA224_RSA_PKCS
            | CKM_SHA256_RSA_PKCS
            | CKM_SHA384_RSA_PKCS
            | CKM_SHA512_RSA_PKCS
            | CKM_SHA224_RSA_PKCS_PSS
            | CKM_SHA256_RSA_PKCS_PSS
            | CKM_SHA384_RSA_PKCS_PSS
            | CKM_SHA512_RSA_PKCS_PSS
    )
}

/// The mechanism's `CK_MECHANISM_INFO` under `gate`, or `None` if it is not offered there.
pub(crate) fn effective_info(ckm: u64, gate: Gate) -> Option<MechanismInfo> {
    if !OFFERED.contains(&ckm) {
        return None;
    }
    let row = provider_row(ckm)?;
    if ckm == CKM_RSA_X_509 && !gate.raw_rsa {
        return None;
    }
    let mut info = MechanismInfo {
        mechanism: ckm,
        name: row.name,
        min_key_size: row.min_key_size,
        max_key_size: row.max_key_size,
        flags: row.flags,
    };
    if !gate.non_fips {
        if !row.fips_approved {
            if !VERIFY_ONLY_IN_FIPS.contains(&ckm) {
                return None;
            }
            info.flags &= !flags::SIGN;
        }
        if NO_WRAP_IN_FIPS.contains(&ckm) {
            info.flags &= !flags::WRAP;
        }
        if is_rsa(ckm) {
            info.min_key_size = info.min_key_size.max(2048);
        }
        if ckm == CKM_ECDH1_DERIVE {
            info.min_key_size = info.min_key_size.max(256);
        }
    }
    Some(info)
}
