//! The attribute policy table: for each object class and key type, every attribute the module
//! supports with its encoding, its flags and its default (STYLE rule 5).
//!
//! Flags carry the footnotes of PKCS#11 v3.0 table 11 ("Common footnotes for object attribute
//! tables") by number, so each row reads like the specification's tables 12-28 and the
//! current-mechanisms key tables; [`Flags::spec`] translates them. The engine's own flags
//! (change on copy, computed, key usage, check value) are added with [`Flags::with`].
//!
//! Decisions where the specification leaves the token a choice (footnote 9 and others) are
//! written beside the rows. In short:
//! - `CKA_PRIVATE` defaults to true for data objects, private and secret keys, false for
//!   certificates and public keys;
//! - `CKA_SENSITIVE` defaults to true for private keys and false for secret keys (table 28
//!   says so); `CKA_EXTRACTABLE` defaults to false for both, so a key's secret parts are hidden
//!   unless the application asks for an extractable, non-sensitive key;
//! - usage flags (`CKA_ENCRYPT` ...) default to true for the uses the key type has, while
//!   partition policy 10 allows multipurpose keys, and to false while it does not (so a key
//!   made from a minimal template is never refused as multipurpose); `CKA_DERIVE` defaults to
//!   false (table 23);
//! - `CKA_VALUE_LEN` may be given to `C_UnwrapKey` and `C_DeriveKey` (the mechanisms use it to
//!   truncate), although table footnote 6 forbids it for unwrapping: the mechanism sections of
//!   the current-mechanisms specification explicitly allow it.

use cryptoki_sys::*;

/// How an attribute's value is encoded and checked (see `attribute.rs` for the encodings).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    /// `CK_BBOOL`.
    Bool,
    /// `CK_ULONG` and its aliases.
    Ulong,
    /// Byte array, any length.
    Bytes,
    /// Big integer: a non-empty byte array.
    BigInt,
    /// RFC 2279 string: valid UTF-8.
    Utf8,
    /// `CK_DATE`: empty or 8 ASCII digits.
    Date,
    /// Array of `CK_MECHANISM_TYPE`.
    MechList,
    /// Array of `CK_ATTRIBUTE` (a nested template).
    Nested,
}

/// The rules that apply to one attribute in one class (a bit set).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Flags(u16);

impl Flags {
    /// Footnote 1: must be specified when created with `C_CreateObject`.
    pub(crate) const REQUIRED_ON_CREATE: Self = Self(1);
    /// Footnote 2: must not be specified when created with `C_CreateObject`.
    pub(crate) const FORBIDDEN_ON_CREATE: Self = Self(1 << 1);
    /// Footnote 3: must be specified when generated with `C_GenerateKey(Pair)`.
    pub(crate) const REQUIRED_ON_GENERATE: Self = Self(1 << 2);
    /// Footnote 4: must not be specified when generated; the engine also applies it to
    /// `C_DeriveKey`, where the mechanism contributes the key material in the same way.
    pub(crate) const FORBIDDEN_ON_GENERATE: Self = Self(1 << 3);
    /// Footnote 5: must be specified when unwrapped with `C_UnwrapKey`.
    pub(crate) const REQUIRED_ON_UNWRAP: Self = Self(1 << 4);
    /// Footnote 6: must not be specified when unwrapped.
    pub(crate) const FORBIDDEN_ON_UNWRAP: Self = Self(1 << 5);
    /// Footnote 7: never revealed while `CKA_SENSITIVE` is true or `CKA_EXTRACTABLE` false.
    pub(crate) const SENSITIVE: Self = Self(1 << 6);
    /// Footnote 8: may change after creation (`C_SetAttributeValue`, `C_CopyObject`).
    pub(crate) const MODIFIABLE: Self = Self(1 << 7);
    /// Footnote 10: only the SO may set it to true.
    pub(crate) const SO_SETS_TRUE: Self = Self(1 << 8);
    /// Footnote 11: cannot change once true (may change from false to true only).
    pub(crate) const LOCKED_WHEN_TRUE: Self = Self(1 << 9);
    /// Footnote 12: cannot change once false (may change from true to false only).
    pub(crate) const LOCKED_WHEN_FALSE: Self = Self(1 << 10);
    /// Section 4.1.3: may also change in `C_CopyObject` (`CKA_TOKEN`, `CKA_PRIVATE`,
    /// `CKA_MODIFIABLE`, `CKA_DESTROYABLE`).
    pub(crate) const CHANGE_ON_COPY: Self = Self(1 << 11);
    /// Set by the module only (`CKA_LOCAL`, `CKA_UNIQUE_ID`, ...): read-only in every template.
    pub(crate) const COMPUTED: Self = Self(1 << 12);
    /// A key usage flag: counted by partition policy 10, defaulted by key type.
    pub(crate) const USAGE: Self = Self(1 << 13);
    /// Accepted only from the creating function, never from an application
    /// (`CKR_ATTRIBUTE_TYPE_INVALID` from an application).
    pub(crate) const CONTRIBUTED_ONLY: Self = Self(1 << 14);
    /// `CKA_CHECK_VALUE` (section 4.10): kept only when the creating function computes it; an
    /// application's value must match it, an empty one suppresses it.
    pub(crate) const CHECK_VALUE: Self = Self(1 << 15);

    const NONE: Self = Self(0);

    /// The flags of the specification's footnote numbers (table 11).
    const fn spec(footnotes: &[u8]) -> Self {
        let mut bits = 0u16;
        let mut i = 0;
        while i < footnotes.len() {
            bits |= match footnotes[i] {
                1 => Self::REQUIRED_ON_CREATE.0,
                2 => Self::FORBIDDEN_ON_CREATE.0,
                3 => Self::REQUIRED_ON_GENERATE.0,
                4 => Self::FORBIDDEN_ON_GENERATE.0,
                5 => Self::REQUIRED_ON_UNWRAP.0,
                6 => Self::FORBIDDEN_ON_UNWRAP.0,
                7 => Self::SENSITIVE.0,
                8 => Self::MODIFIABLE.0,
                10 => Self::SO_SETS_TRUE.0,
                11 => Self::LOCKED_WHEN_TRUE.0,
                12 => Self::LOCKED_WHEN_FALSE.0,
                // Footnote 9 (token-specific default) is the row's `Initial`; no others exist.
                _ => panic!("not a footnote of table 11"),
            };
            i += 1;
        }
        Self(bits)
    }

    const fn with(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Whether every flag of `f` is set.
    pub(crate) const fn has(self, f: Self) -> bool {
        self.0 & f.0 == f.0
    }
}

/// The value an attribute takes when neither the template nor the creating function gives one.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Initial {
    /// No default: the attribute stays absent.
    Absent,
    /// `CK_FALSE`.
    False,
    /// `CK_TRUE`.
    True,
    /// A `CK_ULONG`.
    Ulong(u64),
    /// The empty byte array or string.
    Empty,
    /// A usage flag: true if the key type has that use and partition policy 10 allows
    /// multipurpose keys, else false.
    Usage,
    /// Set by the engine (computed attributes).
    Computed,
}

/// One row of the table.
#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) ty: u64,
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    pub(crate) flags: Flags,
    pub(crate) initial: Initial,
}

const fn row(ty: u64, name: &'static str, kind: Kind, flags: Flags, initial: Initial) -> Rule {
    Rule {
        ty,
        name,
        kind,
        flags,
        initial,
    }
}

use Initial::{Absent, Computed, Empty, False, True, Usage};
use Kind::{BigInt, Bool, Bytes, Date, MechList, Nested, Ulong, Utf8};

const N: Flags = Flags::NONE;
const COPY: Flags = Flags::CHANGE_ON_COPY;
const COMPUTED: Flags = Flags::COMPUTED;
const USE: Flags = Flags::USAGE.with(Flags::spec(&[8]));

/// Section 4.4, table 17 and 4.4.1: every storage object. (`CKA_PRIVATE` is per class.)
static STORAGE: &[Rule] = &[
    row(CKA_CLASS, "CKA_CLASS", Ulong, Flags::spec(&[1]), Absent),
    row(CKA_TOKEN, "CKA_TOKEN", Bool, COPY, False),
    row(CKA_MODIFIABLE, "CKA_MODIFIABLE", Bool, COPY, True),
    row(CKA_LABEL, "CKA_LABEL", Utf8, Flags::spec(&[8]), Empty),
    // "Can't be set to TRUE once it is set to FALSE."
    row(
        CKA_COPYABLE,
        "CKA_COPYABLE",
        Bool,
        Flags::spec(&[8, 12]),
        True,
    ),
    row(CKA_DESTROYABLE, "CKA_DESTROYABLE", Bool, COPY, True),
    row(
        CKA_UNIQUE_ID,
        "CKA_UNIQUE_ID",
        Utf8,
        Flags::spec(&[2, 4, 6]).with(COMPUTED),
        Computed,
    ),
];

/// Section 4.5, table 18: data objects. None of their attributes changes after creation.
static DATA: &[Rule] = &[
    row(CKA_PRIVATE, "CKA_PRIVATE", Bool, COPY, True),
    row(CKA_APPLICATION, "CKA_APPLICATION", Utf8, N, Empty),
    row(CKA_OBJECT_ID, "CKA_OBJECT_ID", Bytes, N, Empty),
    row(CKA_VALUE, "CKA_VALUE", Bytes, N, Empty),
];

/// Section 4.6.2, table 19: every certificate.
static CERTIFICATE: &[Rule] = &[
    row(CKA_PRIVATE, "CKA_PRIVATE", Bool, COPY, False),
    row(
        CKA_CERTIFICATE_TYPE,
        "CKA_CERTIFICATE_TYPE",
        Ulong,
        Flags::spec(&[1]),
        Absent,
    ),
    row(CKA_TRUSTED, "CKA_TRUSTED", Bool, Flags::spec(&[10]), False),
    row(
        CKA_CERTIFICATE_CATEGORY,
        "CKA_CERTIFICATE_CATEGORY",
        Ulong,
        N,
        Initial::Ulong(CK_CERTIFICATE_CATEGORY_UNSPECIFIED),
    ),
    row(
        CKA_CHECK_VALUE,
        "CKA_CHECK_VALUE",
        Bytes,
        Flags::CHECK_VALUE,
        Absent,
    ),
    row(CKA_START_DATE, "CKA_START_DATE", Date, N, Empty),
    row(CKA_END_DATE, "CKA_END_DATE", Date, N, Empty),
    row(CKA_PUBLIC_KEY_INFO, "CKA_PUBLIC_KEY_INFO", Bytes, N, Empty),
];

/// Section 4.6.3, table 20: X.509 public-key certificates. Only `CKA_ID`, `CKA_ISSUER` and
/// `CKA_SERIAL_NUMBER` change after creation.
static X509: &[Rule] = &[
    row(CKA_SUBJECT, "CKA_SUBJECT", Bytes, Flags::spec(&[1]), Absent),
    row(CKA_ID, "CKA_ID", Bytes, Flags::spec(&[8]), Empty),
    row(CKA_ISSUER, "CKA_ISSUER", Bytes, Flags::spec(&[8]), Empty),
    row(
        CKA_SERIAL_NUMBER,
        "CKA_SERIAL_NUMBER",
        Bytes,
        Flags::spec(&[8]),
        Empty,
    ),
    // Must be given; may be empty only if CKA_URL is not (checked across attributes).
    row(CKA_VALUE, "CKA_VALUE", Bytes, Flags::spec(&[1]), Absent),
    row(CKA_URL, "CKA_URL", Utf8, N, Empty),
    row(
        CKA_HASH_OF_SUBJECT_PUBLIC_KEY,
        "CKA_HASH_OF_SUBJECT_PUBLIC_KEY",
        Bytes,
        N,
        Empty,
    ),
    row(
        CKA_HASH_OF_ISSUER_PUBLIC_KEY,
        "CKA_HASH_OF_ISSUER_PUBLIC_KEY",
        Bytes,
        N,
        Empty,
    ),
    row(
        CKA_JAVA_MIDP_SECURITY_DOMAIN,
        "CKA_JAVA_MIDP_SECURITY_DOMAIN",
        Ulong,
        N,
        Initial::Ulong(CK_SECURITY_DOMAIN_UNSPECIFIED),
    ),
    // "If the attribute is not present then the type defaults to SHA-1."
    row(
        CKA_NAME_HASH_ALGORITHM,
        "CKA_NAME_HASH_ALGORITHM",
        Ulong,
        N,
        Initial::Ulong(CKM_SHA_1),
    ),
];

/// Section 4.7.2, table 23: every key.
static KEY: &[Rule] = &[
    row(
        CKA_KEY_TYPE,
        "CKA_KEY_TYPE",
        Ulong,
        Flags::spec(&[1, 5]),
        Absent,
    ),
    row(CKA_ID, "CKA_ID", Bytes, Flags::spec(&[8]), Empty),
    row(
        CKA_START_DATE,
        "CKA_START_DATE",
        Date,
        Flags::spec(&[8]),
        Empty,
    ),
    row(CKA_END_DATE, "CKA_END_DATE", Date, Flags::spec(&[8]), Empty),
    row(CKA_DERIVE, "CKA_DERIVE", Bool, USE, False),
    row(
        CKA_LOCAL,
        "CKA_LOCAL",
        Bool,
        Flags::spec(&[2, 4, 6]).with(COMPUTED),
        Computed,
    ),
    row(
        CKA_KEY_GEN_MECHANISM,
        "CKA_KEY_GEN_MECHANISM",
        Ulong,
        Flags::spec(&[2, 4, 6]).with(COMPUTED),
        Computed,
    ),
    // Absent means "no restriction"; fixed at creation (no footnote 8).
    row(
        CKA_ALLOWED_MECHANISMS,
        "CKA_ALLOWED_MECHANISMS",
        MechList,
        N,
        Absent,
    ),
];

/// Section 4.8, table 24: every public key.
static PUBLIC_KEY: &[Rule] = &[
    row(CKA_PRIVATE, "CKA_PRIVATE", Bool, COPY, False),
    row(CKA_SUBJECT, "CKA_SUBJECT", Bytes, Flags::spec(&[8]), Empty),
    row(CKA_ENCRYPT, "CKA_ENCRYPT", Bool, USE, Usage),
    row(CKA_VERIFY, "CKA_VERIFY", Bool, USE, Usage),
    row(CKA_VERIFY_RECOVER, "CKA_VERIFY_RECOVER", Bool, USE, Usage),
    row(CKA_WRAP, "CKA_WRAP", Bool, USE, Usage),
    row(CKA_TRUSTED, "CKA_TRUSTED", Bool, Flags::spec(&[10]), False),
    row(CKA_WRAP_TEMPLATE, "CKA_WRAP_TEMPLATE", Nested, N, Absent),
    row(CKA_PUBLIC_KEY_INFO, "CKA_PUBLIC_KEY_INFO", Bytes, N, Empty),
];

/// Section 4.9, table 26: every private key.
static PRIVATE_KEY: &[Rule] = &[
    row(CKA_PRIVATE, "CKA_PRIVATE", Bool, COPY, True),
    row(CKA_SUBJECT, "CKA_SUBJECT", Bytes, Flags::spec(&[8]), Empty),
    row(
        CKA_SENSITIVE,
        "CKA_SENSITIVE",
        Bool,
        Flags::spec(&[8, 11]),
        True,
    ),
    row(CKA_DECRYPT, "CKA_DECRYPT", Bool, USE, Usage),
    row(CKA_SIGN, "CKA_SIGN", Bool, USE, Usage),
    row(CKA_SIGN_RECOVER, "CKA_SIGN_RECOVER", Bool, USE, Usage),
    row(CKA_UNWRAP, "CKA_UNWRAP", Bool, USE, Usage),
    row(
        CKA_EXTRACTABLE,
        "CKA_EXTRACTABLE",
        Bool,
        Flags::spec(&[8, 12]),
        False,
    ),
    row(
        CKA_ALWAYS_SENSITIVE,
        "CKA_ALWAYS_SENSITIVE",
        Bool,
        Flags::spec(&[2, 4, 6]).with(COMPUTED),
        Computed,
    ),
    row(
        CKA_NEVER_EXTRACTABLE,
        "CKA_NEVER_EXTRACTABLE",
        Bool,
        Flags::spec(&[2, 4, 6]).with(COMPUTED),
        Computed,
    ),
    // Footnote 11 only: false -> true is a change the specification allows.
    row(
        CKA_WRAP_WITH_TRUSTED,
        "CKA_WRAP_WITH_TRUSTED",
        Bool,
        Flags::spec(&[8, 11]),
        False,
    ),
    row(
        CKA_UNWRAP_TEMPLATE,
        "CKA_UNWRAP_TEMPLATE",
        Nested,
        N,
        Absent,
    ),
    row(
        CKA_DERIVE_TEMPLATE,
        "CKA_DERIVE_TEMPLATE",
        Nested,
        N,
        Absent,
    ),
    // May be true only while CKA_PRIVATE is (checked across attributes).
    row(
        CKA_ALWAYS_AUTHENTICATE,
        "CKA_ALWAYS_AUTHENTICATE",
        Bool,
        N,
        False,
    ),
    // Section 4.9 lets the token refuse it from applications rather than verify it against the
    // key; the creating function may contribute it.
    row(
        CKA_PUBLIC_KEY_INFO,
        "CKA_PUBLIC_KEY_INFO",
        Bytes,
        Flags::CONTRIBUTED_ONLY,
        Empty,
    ),
];

/// Section 4.10, table 28: every secret key.
static SECRET_KEY: &[Rule] = &[
    row(CKA_PRIVATE, "CKA_PRIVATE", Bool, COPY, True),
    row(
        CKA_SENSITIVE,
        "CKA_SENSITIVE",
        Bool,
        Flags::spec(&[8, 11]),
        False,
    ),
    row(CKA_ENCRYPT, "CKA_ENCRYPT", Bool, USE, Usage),
    row(CKA_DECRYPT, "CKA_DECRYPT", Bool, USE, Usage),
    row(CKA_SIGN, "CKA_SIGN", Bool, USE, Usage),
    row(CKA_VERIFY, "CKA_VERIFY", Bool, USE, Usage),
    row(CKA_WRAP, "CKA_WRAP", Bool, USE, Usage),
    row(CKA_UNWRAP, "CKA_UNWRAP", Bool, USE, Usage),
    row(
        CKA_EXTRACTABLE,
        "CKA_EXTRACTABLE",
        Bool,
        Flags::spec(&[8, 12]),
        False,
    ),
    row(
        CKA_ALWAYS_SENSITIVE,
        "CKA_ALWAYS_SENSITIVE",
        Bool,
        Flags::spec(&[2, 4, 6]).with(COMPUTED),
        Computed,
    ),
    row(
        CKA_NEVER_EXTRACTABLE,
        "CKA_NEVER_EXTRACTABLE",
        Bool,
        Flags::spec(&[2, 4, 6]).with(COMPUTED),
        Computed,
    ),
    row(
        CKA_CHECK_VALUE,
        "CKA_CHECK_VALUE",
        Bytes,
        Flags::CHECK_VALUE,
        Absent,
    ),
    row(
        CKA_WRAP_WITH_TRUSTED,
        "CKA_WRAP_WITH_TRUSTED",
        Bool,
        Flags::spec(&[8, 11]),
        False,
    ),
    row(CKA_TRUSTED, "CKA_TRUSTED", Bool, Flags::spec(&[10]), False),
    row(CKA_WRAP_TEMPLATE, "CKA_WRAP_TEMPLATE", Nested, N, Absent),
    row(
        CKA_UNWRAP_TEMPLATE,
        "CKA_UNWRAP_TEMPLATE",
        Nested,
        N,
        Absent,
    ),
    row(
        CKA_DERIVE_TEMPLATE,
        "CKA_DERIVE_TEMPLATE",
        Nested,
        N,
        Absent,
    ),
];

/// RSA public keys (current mechanisms 2.1.2). `CKA_MODULUS_BITS` is computed from the modulus
/// when the key is created or unwrapped, and required when it is generated.
static RSA_PUBLIC: &[Rule] = &[
    row(
        CKA_MODULUS,
        "CKA_MODULUS",
        BigInt,
        Flags::spec(&[1, 4]),
        Absent,
    ),
    row(
        CKA_MODULUS_BITS,
        "CKA_MODULUS_BITS",
        Ulong,
        Flags::spec(&[2, 3]),
        Computed,
    ),
    // Optional on generation: the mechanism uses 65537 when the template has none.
    row(
        CKA_PUBLIC_EXPONENT,
        "CKA_PUBLIC_EXPONENT",
        BigInt,
        Flags::spec(&[1]),
        Absent,
    ),
];

/// RSA private keys (base specification 4.9.1, table 27).
static RSA_PRIVATE: &[Rule] = &[
    row(
        CKA_MODULUS,
        "CKA_MODULUS",
        BigInt,
        Flags::spec(&[1, 4, 6]),
        Absent,
    ),
    row(
        CKA_PUBLIC_EXPONENT,
        "CKA_PUBLIC_EXPONENT",
        BigInt,
        Flags::spec(&[1, 4, 6]),
        Absent,
    ),
    row(
        CKA_PRIVATE_EXPONENT,
        "CKA_PRIVATE_EXPONENT",
        BigInt,
        Flags::spec(&[1, 4, 6, 7]),
        Absent,
    ),
    row(
        CKA_PRIME_1,
        "CKA_PRIME_1",
        BigInt,
        Flags::spec(&[4, 6, 7]),
        Absent,
    ),
    row(
        CKA_PRIME_2,
        "CKA_PRIME_2",
        BigInt,
        Flags::spec(&[4, 6, 7]),
        Absent,
    ),
    row(
        CKA_EXPONENT_1,
        "CKA_EXPONENT_1",
        BigInt,
        Flags::spec(&[4, 6, 7]),
        Absent,
    ),
    row(
        CKA_EXPONENT_2,
        "CKA_EXPONENT_2",
        BigInt,
        Flags::spec(&[4, 6, 7]),
        Absent,
    ),
    row(
        CKA_COEFFICIENT,
        "CKA_COEFFICIENT",
        BigInt,
        Flags::spec(&[4, 6, 7]),
        Absent,
    ),
];

/// EC (ECDSA/ECDH), Edwards (EdDSA) and Montgomery (X25519) public keys.
static EC_PUBLIC: &[Rule] = &[
    row(
        CKA_EC_PARAMS,
        "CKA_EC_PARAMS",
        Bytes,
        Flags::spec(&[1, 3]),
        Absent,
    ),
    row(
        CKA_EC_POINT,
        "CKA_EC_POINT",
        Bytes,
        Flags::spec(&[1, 4]),
        Absent,
    ),
];

/// EC, Edwards and Montgomery private keys.
static EC_PRIVATE: &[Rule] = &[
    row(
        CKA_EC_PARAMS,
        "CKA_EC_PARAMS",
        Bytes,
        Flags::spec(&[1, 4, 6]),
        Absent,
    ),
    row(
        CKA_VALUE,
        "CKA_VALUE",
        BigInt,
        Flags::spec(&[1, 4, 6, 7]),
        Absent,
    ),
];

/// AES, generic secret, SHA-HMAC and HKDF keys: the key bytes and their length.
static SECRET_VALUE: &[Rule] = &[
    row(
        CKA_VALUE,
        "CKA_VALUE",
        BigInt,
        Flags::spec(&[1, 4, 6, 7]),
        Absent,
    ),
    row(
        CKA_VALUE_LEN,
        "CKA_VALUE_LEN",
        Ulong,
        Flags::spec(&[2, 3]),
        Computed,
    ),
];

/// The secret-key types and the uses each has (for the usage defaults).
static SECRET_TYPES: &[(u64, &str, &[u64])] = &[
    (
        CKK_AES,
        "CKK_AES",
        &[
            CKA_ENCRYPT,
            CKA_DECRYPT,
            CKA_SIGN,
            CKA_VERIFY,
            CKA_WRAP,
            CKA_UNWRAP,
        ],
    ),
    (CKK_GENERIC_SECRET, "CKK_GENERIC_SECRET", HMAC_USES),
    (CKK_SHA_1_HMAC, "CKK_SHA_1_HMAC", HMAC_USES),
    (CKK_SHA224_HMAC, "CKK_SHA224_HMAC", HMAC_USES),
    (CKK_SHA256_HMAC, "CKK_SHA256_HMAC", HMAC_USES),
    (CKK_SHA384_HMAC, "CKK_SHA384_HMAC", HMAC_USES),
    (CKK_SHA512_HMAC, "CKK_SHA512_HMAC", HMAC_USES),
    (CKK_SHA3_224_HMAC, "CKK_SHA3_224_HMAC", HMAC_USES),
    (CKK_SHA3_256_HMAC, "CKK_SHA3_256_HMAC", HMAC_USES),
    (CKK_SHA3_384_HMAC, "CKK_SHA3_384_HMAC", HMAC_USES),
    (CKK_SHA3_512_HMAC, "CKK_SHA3_512_HMAC", HMAC_USES),
    // Derivation only, and CKA_DERIVE defaults to false.
    (CKK_HKDF, "CKK_HKDF", &[]),
];

const HMAC_USES: &[u64] = &[CKA_SIGN, CKA_VERIFY];

/// The asymmetric key types: (type, name, public uses, private uses).
static PAIR_TYPES: &[(u64, &str, &[u64], &[u64])] = &[
    (
        CKK_RSA,
        "CKK_RSA",
        &[CKA_ENCRYPT, CKA_VERIFY, CKA_VERIFY_RECOVER, CKA_WRAP],
        &[CKA_DECRYPT, CKA_SIGN, CKA_SIGN_RECOVER, CKA_UNWRAP],
    ),
    (CKK_EC, "CKK_EC", &[CKA_VERIFY], &[CKA_SIGN]),
    (CKK_EC_EDWARDS, "CKK_EC_EDWARDS", &[CKA_VERIFY], &[CKA_SIGN]),
    // Key agreement only, and CKA_DERIVE defaults to false.
    (CKK_EC_MONTGOMERY, "CKK_EC_MONTGOMERY", &[], &[]),
];

/// Every table, for the lookups that do not depend on a class.
static ALL_TABLES: &[&[Rule]] = &[
    STORAGE,
    DATA,
    CERTIFICATE,
    X509,
    KEY,
    PUBLIC_KEY,
    PRIVATE_KEY,
    SECRET_KEY,
    RSA_PUBLIC,
    RSA_PRIVATE,
    EC_PUBLIC,
    EC_PRIVATE,
    SECRET_VALUE,
];

/// The object classes the module stores.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Class {
    Data,
    Certificate,
    PublicKey,
    PrivateKey,
    SecretKey,
}

impl Class {
    /// The class of a `CKO_*` value, if the module stores such objects.
    pub(crate) fn from_cko(cko: u64) -> Option<Self> {
        match cko {
            CKO_DATA => Some(Self::Data),
            CKO_CERTIFICATE => Some(Self::Certificate),
            CKO_PUBLIC_KEY => Some(Self::PublicKey),
            CKO_PRIVATE_KEY => Some(Self::PrivateKey),
            CKO_SECRET_KEY => Some(Self::SecretKey),
            _ => None,
        }
    }

    /// Whether objects of this class are keys.
    pub(crate) fn is_key(self) -> bool {
        matches!(self, Self::PublicKey | Self::PrivateKey | Self::SecretKey)
    }
}

/// The rules of one kind of object: a class and, for keys and certificates, its subtype.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Profile {
    pub(crate) class: Class,
    tables: [&'static [Rule]; 4],
    /// The key type's uses (for usage defaults); empty for other classes.
    pub(crate) uses: &'static [u64],
}

/// Why no profile exists for a class and subtype.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum NoProfile {
    /// The class value is not one the module stores.
    UnknownClass,
    /// The key or certificate type is not one the module supports at all.
    UnknownSubtype,
    /// The key type exists, but for another class (an AES public key).
    WrongClass,
}

impl Profile {
    /// The rules for class `cko` with key or certificate type `subtype`.
    pub(crate) fn new(cko: u64, subtype: u64) -> Result<Self, NoProfile> {
        let class = Class::from_cko(cko).ok_or(NoProfile::UnknownClass)?;
        let pair = PAIR_TYPES.iter().find(|p| p.0 == subtype);
        let secret = SECRET_TYPES.iter().find(|s| s.0 == subtype);
        let wrong = if pair.is_some() || secret.is_some() {
            NoProfile::WrongClass
        } else {
            NoProfile::UnknownSubtype
        };
        let (tables, uses): ([&'static [Rule]; 4], &'static [u64]) = match class {
            Class::Data => ([STORAGE, DATA, &[], &[]], &[]),
            Class::Certificate if subtype == CKC_X_509 => ([STORAGE, CERTIFICATE, X509, &[]], &[]),
            Class::Certificate => return Err(NoProfile::UnknownSubtype),
            Class::PublicKey => {
                let p = pair.ok_or(wrong)?;
                let t = if p.0 == CKK_RSA {
                    RSA_PUBLIC
                } else {
                    EC_PUBLIC
                };
                ([STORAGE, KEY, PUBLIC_KEY, t], p.2)
            }
            Class::PrivateKey => {
                let p = pair.ok_or(wrong)?;
                let t = if p.0 == CKK_RSA {
                    RSA_PRIVATE
                } else {
                    EC_PRIVATE
                };
                ([STORAGE, KEY, PRIVATE_KEY, t], p.3)
            }
            Class::SecretKey => {
                let s = secret.ok_or(wrong)?;
                ([STORAGE, KEY, SECRET_KEY, SECRET_VALUE], s.2)
            }
        };
        Ok(Self {
            class,
            tables,
            uses,
        })
    }

    /// The subtype attribute of a class: `CKA_KEY_TYPE`, `CKA_CERTIFICATE_TYPE`, or none.
    pub(crate) fn subtype_attr(cko: u64) -> Option<u64> {
        match Class::from_cko(cko)? {
            Class::Data => None,
            Class::Certificate => Some(CKA_CERTIFICATE_TYPE),
            _ => Some(CKA_KEY_TYPE),
        }
    }

    /// The rule for attribute `ty` in this profile.
    pub(crate) fn rule(&self, ty: u64) -> Option<&'static Rule> {
        self.tables
            .iter()
            .flat_map(|t| t.iter())
            .find(|r| r.ty == ty)
    }

    /// Every rule of this profile.
    pub(crate) fn rules(&self) -> impl Iterator<Item = &'static Rule> {
        self.tables.into_iter().flat_map(|t| t.iter())
    }
}

/// Whether the module supports attribute `ty` for any class (else `CKR_ATTRIBUTE_TYPE_INVALID`).
pub(crate) fn is_known(ty: u64) -> bool {
    any_rule(ty).is_some()
}

fn any_rule(ty: u64) -> Option<&'static Rule> {
    ALL_TABLES
        .iter()
        .flat_map(|t| t.iter())
        .find(|r| r.ty == ty)
}

/// The `CKA_*` name of an attribute type, for messages.
pub(crate) fn attr_name(ty: u64) -> String {
    match any_rule(ty) {
        Some(r) => r.name.to_owned(),
        None => format!("attribute 0x{ty:08X}"),
    }
}

/// Every table, for the table's own tests.
#[cfg(test)]
pub(crate) fn all_tables() -> &'static [&'static [Rule]] {
    ALL_TABLES
}

/// Every (class, subtype) the module supports, for tests.
#[cfg(test)]
pub(crate) fn all_profiles() -> Vec<(u64, u64)> {
    let mut out = vec![(CKO_DATA, 0), (CKO_CERTIFICATE, CKC_X_509)];
    for p in PAIR_TYPES {
        out.push((CKO_PUBLIC_KEY, p.0));
        out.push((CKO_PRIVATE_KEY, p.0));
    }
    for s in SECRET_TYPES {
        out.push((CKO_SECRET_KEY, s.0));
    }
    out
}
