//! The operations the load generator measures, by name.

use std::fmt;
use std::str::FromStr;

/// RSA padding of a signature operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RsaPad {
    /// PKCS #1 v1.5 with SHA-256 (`CKM_SHA256_RSA_PKCS`).
    Pkcs1,
    /// PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (`CKM_SHA256_RSA_PKCS_PSS`).
    Pss,
}

/// An elliptic curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Curve {
    P256,
    P384,
}

impl Curve {
    /// The DER of the curve's object identifier (`CKA_EC_PARAMS`).
    pub(crate) fn oid_der(self) -> &'static [u8] {
        match self {
            Self::P256 => &[0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07],
            Self::P384 => &[0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22],
        }
    }
}

/// A symmetric cipher mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AesMode {
    /// AES-256-GCM, 12-byte IV, 16-byte tag.
    Gcm,
    /// AES-256-CBC with PKCS #7 padding.
    CbcPad,
}

/// One measured operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// RSA signature with a key of this many bits.
    RsaSign(u32, RsaPad),
    /// RSA verification.
    RsaVerify(u32, RsaPad),
    /// ECDSA with SHA-256 (P-256) or SHA-384 (P-384).
    EcdsaSign(Curve),
    /// ECDSA verification.
    EcdsaVerify(Curve),
    /// Ed25519 signature.
    Ed25519Sign,
    /// AES encryption of `--size` bytes.
    AesEncrypt(AesMode),
    /// AES decryption of `--size` bytes.
    AesDecrypt(AesMode),
    /// HMAC-SHA-256 of `--size` bytes.
    HmacSha256,
    /// `--size` random bytes.
    Random,
    /// AES-256 key generation.
    AesKeygen,
    /// EC key pair generation.
    EcKeygen(Curve),
    /// Find one object by label among `--objects` token objects.
    FindLabel,
}

/// Every operation, in the order `--list-ops` prints them.
pub(crate) const ALL: &[Op] = &[
    Op::RsaSign(2048, RsaPad::Pkcs1),
    Op::RsaSign(2048, RsaPad::Pss),
    Op::RsaSign(3072, RsaPad::Pkcs1),
    Op::RsaSign(3072, RsaPad::Pss),
    Op::RsaSign(4096, RsaPad::Pkcs1),
    Op::RsaSign(4096, RsaPad::Pss),
    Op::RsaVerify(2048, RsaPad::Pkcs1),
    Op::RsaVerify(2048, RsaPad::Pss),
    Op::RsaVerify(3072, RsaPad::Pkcs1),
    Op::RsaVerify(4096, RsaPad::Pkcs1),
    Op::EcdsaSign(Curve::P256),
    Op::EcdsaSign(Curve::P384),
    Op::EcdsaVerify(Curve::P256),
    Op::EcdsaVerify(Curve::P384),
    Op::Ed25519Sign,
    Op::AesEncrypt(AesMode::Gcm),
    Op::AesDecrypt(AesMode::Gcm),
    Op::AesEncrypt(AesMode::CbcPad),
    Op::AesDecrypt(AesMode::CbcPad),
    Op::HmacSha256,
    Op::Random,
    Op::AesKeygen,
    Op::EcKeygen(Curve::P256),
    Op::EcKeygen(Curve::P384),
    Op::FindLabel,
];

impl Op {
    /// The default data size of the operation (`--size` overrides it where it applies).
    pub(crate) fn default_size(self) -> usize {
        match self {
            Self::AesEncrypt(_) | Self::AesDecrypt(_) | Self::HmacSha256 => 4096,
            Self::EcdsaSign(Curve::P384) | Self::EcdsaVerify(Curve::P384) => 48,
            _ => 32,
        }
    }

    /// What the operation is, for `--list-ops`.
    pub(crate) fn describe(self) -> String {
        match self {
            Self::RsaSign(bits, RsaPad::Pkcs1) => format!("RSA-{bits} sign, CKM_SHA256_RSA_PKCS"),
            Self::RsaSign(bits, RsaPad::Pss) => {
                format!("RSA-{bits} sign, CKM_SHA256_RSA_PKCS_PSS (salt 32)")
            }
            Self::RsaVerify(bits, pad) => format!(
                "RSA-{bits} verify, {}",
                if pad == RsaPad::Pss {
                    "CKM_SHA256_RSA_PKCS_PSS"
                } else {
                    "CKM_SHA256_RSA_PKCS"
                }
            ),
            Self::EcdsaSign(Curve::P256) => {
                "ECDSA P-256 sign of a 32-byte digest, CKM_ECDSA".into()
            }
            Self::EcdsaSign(Curve::P384) => {
                "ECDSA P-384 sign of a 48-byte digest, CKM_ECDSA".into()
            }
            Self::EcdsaVerify(Curve::P256) => {
                "ECDSA P-256 verify of a 32-byte digest, CKM_ECDSA".into()
            }
            Self::EcdsaVerify(Curve::P384) => {
                "ECDSA P-384 verify of a 48-byte digest, CKM_ECDSA".into()
            }
            Self::Ed25519Sign => "Ed25519 sign, CKM_EDDSA".into(),
            Self::AesEncrypt(AesMode::Gcm) => "AES-256-GCM encrypt of --size bytes".into(),
            Self::AesDecrypt(AesMode::Gcm) => "AES-256-GCM decrypt of --size bytes".into(),
            Self::AesEncrypt(AesMode::CbcPad) => "AES-256-CBC-PAD encrypt of --size bytes".into(),
            Self::AesDecrypt(AesMode::CbcPad) => "AES-256-CBC-PAD decrypt of --size bytes".into(),
            Self::HmacSha256 => "HMAC-SHA-256 of --size bytes".into(),
            Self::Random => "C_GenerateRandom of --size bytes".into(),
            Self::AesKeygen => "AES-256 key generation (session object)".into(),
            Self::EcKeygen(c) => format!(
                "EC {} key pair generation (session objects)",
                if c == Curve::P256 { "P-256" } else { "P-384" }
            ),
            Self::FindLabel => "find one object by label among --objects token objects".into(),
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let curve = |c: &Curve| if *c == Curve::P256 { "p256" } else { "p384" };
        let pad = |p: &RsaPad| if *p == RsaPad::Pss { "pss" } else { "pkcs" };
        let aes = |m: &AesMode| if *m == AesMode::Gcm { "gcm" } else { "cbc" };
        match self {
            Self::RsaSign(bits, p) => write!(f, "rsa{bits}-{}-sign", pad(p)),
            Self::RsaVerify(bits, p) => write!(f, "rsa{bits}-{}-verify", pad(p)),
            Self::EcdsaSign(c) => write!(f, "ecdsa-{}-sign", curve(c)),
            Self::EcdsaVerify(c) => write!(f, "ecdsa-{}-verify", curve(c)),
            Self::Ed25519Sign => f.write_str("ed25519-sign"),
            Self::AesEncrypt(m) => write!(f, "aes-{}-encrypt", aes(m)),
            Self::AesDecrypt(m) => write!(f, "aes-{}-decrypt", aes(m)),
            Self::HmacSha256 => f.write_str("hmac-sha256"),
            Self::Random => f.write_str("random"),
            Self::AesKeygen => f.write_str("aes-keygen"),
            Self::EcKeygen(c) => write!(f, "ec-{}-keygen", curve(c)),
            Self::FindLabel => f.write_str("find-label"),
        }
    }
}

impl FromStr for Op {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        ALL.iter()
            .copied()
            .find(|op| op.to_string() == s)
            .ok_or_else(|| format!("unknown operation '{s}' (see --list-ops)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_to_its_operation() {
        for op in ALL {
            assert_eq!(op.to_string().parse::<Op>(), Ok(*op));
        }
        assert!("rsa1024-pkcs-sign".parse::<Op>().is_err());
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<String> = ALL.iter().map(ToString::to_string).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
    }
}
