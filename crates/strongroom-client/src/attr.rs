//! Attribute templates in the canonical encoding the appliance reads.
//!
//! An application gives `CK_ULONG` values in its own width and byte order; the appliance
//! compares attribute values byte for byte, so every value travels in one canonical form:
//!
//! ```text
//! attribute kind              canonical value
//! CK_BBOOL                    1 byte, 0x00 or 0x01
//! CK_ULONG and its aliases    8 bytes, little endian
//! CK_MECHANISM_TYPE array     n x 8 bytes, each little endian
//! CK_ATTRIBUTE array          a nested template (the encoding below)
//! anything else               the bytes as given
//!
//! template = repeated for each attribute, in order:
//! +0   8 bytes  type, little endian
//! +8   8 bytes  value length n, little endian
//! +16  n bytes  value (canonical)
//! ```
//!
//! [`kind`] says which attributes are which; it lists every attribute of PKCS#11 v3.0 whose
//! value is not a plain byte string.

use zeroize::Zeroizing;

/// Bytes of a canonical `CK_ULONG`.
pub const ULONG_LEN: usize = 8;

/// How an attribute's value is encoded.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrKind {
    /// `CK_BBOOL`.
    Bool,
    /// `CK_ULONG` or an alias (`CK_OBJECT_CLASS`, `CK_KEY_TYPE`, `CK_MECHANISM_TYPE`...).
    Ulong,
    /// An array of `CK_MECHANISM_TYPE`.
    MechList,
    /// An array of `CK_ATTRIBUTE` (`CKA_WRAP_TEMPLATE` and its kin).
    Nested,
    /// A byte string (byte arrays, big integers, UTF-8 strings, `CK_DATE`).
    Bytes,
}

// PKCS#11 v3.0 attribute types (section 4 and the current-mechanisms document).
const CKA_CLASS: u64 = 0x0000;
const CKA_TOKEN: u64 = 0x0001;
const CKA_PRIVATE: u64 = 0x0002;
const CKA_TRUSTED: u64 = 0x0086;
const CKA_CERTIFICATE_CATEGORY: u64 = 0x0087;
const CKA_JAVA_MIDP_SECURITY_DOMAIN: u64 = 0x0088;
const CKA_CERTIFICATE_TYPE: u64 = 0x0080;
const CKA_NAME_HASH_ALGORITHM: u64 = 0x008C;
const CKA_KEY_TYPE: u64 = 0x0100;
const CKA_SENSITIVE: u64 = 0x0103;
const CKA_ENCRYPT: u64 = 0x0104;
const CKA_DECRYPT: u64 = 0x0105;
const CKA_WRAP: u64 = 0x0106;
const CKA_UNWRAP: u64 = 0x0107;
const CKA_SIGN: u64 = 0x0108;
const CKA_SIGN_RECOVER: u64 = 0x0109;
const CKA_VERIFY: u64 = 0x010A;
const CKA_VERIFY_RECOVER: u64 = 0x010B;
const CKA_DERIVE: u64 = 0x010C;
const CKA_MODULUS_BITS: u64 = 0x0121;
const CKA_PRIME_BITS: u64 = 0x0133;
const CKA_SUB_PRIME_BITS: u64 = 0x0134;
const CKA_VALUE_BITS: u64 = 0x0160;
const CKA_VALUE_LEN: u64 = 0x0161;
const CKA_EXTRACTABLE: u64 = 0x0162;
const CKA_LOCAL: u64 = 0x0163;
const CKA_NEVER_EXTRACTABLE: u64 = 0x0164;
const CKA_ALWAYS_SENSITIVE: u64 = 0x0165;
const CKA_KEY_GEN_MECHANISM: u64 = 0x0166;
const CKA_MODIFIABLE: u64 = 0x0170;
const CKA_COPYABLE: u64 = 0x0171;
const CKA_DESTROYABLE: u64 = 0x0172;
const CKA_ALWAYS_AUTHENTICATE: u64 = 0x0202;
const CKA_WRAP_WITH_TRUSTED: u64 = 0x0210;
const CKA_OTP_FORMAT: u64 = 0x0220;
const CKA_OTP_LENGTH: u64 = 0x0221;
const CKA_OTP_TIME_INTERVAL: u64 = 0x0222;
const CKA_OTP_USER_FRIENDLY_MODE: u64 = 0x0223;
const CKA_OTP_CHALLENGE_REQUIREMENT: u64 = 0x0224;
const CKA_OTP_TIME_REQUIREMENT: u64 = 0x0225;
const CKA_OTP_COUNTER_REQUIREMENT: u64 = 0x0226;
const CKA_OTP_PIN_REQUIREMENT: u64 = 0x0227;
const CKA_OTP_USER_IDENTIFIER: u64 = 0x022A;
const CKA_HW_FEATURE_TYPE: u64 = 0x0300;
const CKA_RESET_ON_INIT: u64 = 0x0301;
const CKA_HAS_RESET: u64 = 0x0302;
const CKA_PIXEL_X: u64 = 0x0400;
const CKA_PIXEL_Y: u64 = 0x0401;
const CKA_RESOLUTION: u64 = 0x0402;
const CKA_CHAR_ROWS: u64 = 0x0403;
const CKA_CHAR_COLUMNS: u64 = 0x0404;
const CKA_COLOR: u64 = 0x0405;
const CKA_BITS_PER_PIXEL: u64 = 0x0406;
const CKA_MECHANISM_TYPE: u64 = 0x0500;
const CKA_REQUIRED_CMS_ATTRIBUTES: u64 = 0x0501;
const CKA_PROFILE_ID: u64 = 0x0601;
const CKA_X2RATCHET_BAGSIZE: u64 = 0x0616;
const CKA_X2RATCHET_ISSENDER: u64 = 0x0618;
const CKA_X2RATCHET_NS: u64 = 0x061B;
const CKA_X2RATCHET_NR: u64 = 0x061A;
const CKA_X2RATCHET_PNS: u64 = 0x061D;
const CKA_WRAP_TEMPLATE: u64 = 0x4000_0211;
const CKA_UNWRAP_TEMPLATE: u64 = 0x4000_0212;
const CKA_DERIVE_TEMPLATE: u64 = 0x4000_0213;
const CKA_ALLOWED_MECHANISMS: u64 = 0x4000_0600;

/// The encoding of attribute type `ty` (unknown types are byte strings).
pub fn kind(ty: u64) -> AttrKind {
    match ty {
        CKA_TOKEN
        | CKA_PRIVATE
        | CKA_TRUSTED
        | CKA_SENSITIVE
        | CKA_ENCRYPT
        | CKA_DECRYPT
        | CKA_WRAP
        | CKA_UNWRAP
        | CKA_SIGN
        | CKA_SIGN_RECOVER
        | CKA_VERIFY
        | CKA_VERIFY_RECOVER
        | CKA_DERIVE
        | CKA_EXTRACTABLE
        | CKA_LOCAL
        | CKA_NEVER_EXTRACTABLE
        | CKA_ALWAYS_SENSITIVE
        | CKA_MODIFIABLE
        | CKA_COPYABLE
        | CKA_DESTROYABLE
        | CKA_ALWAYS_AUTHENTICATE
        | CKA_WRAP_WITH_TRUSTED
        | CKA_OTP_USER_FRIENDLY_MODE
        | CKA_RESET_ON_INIT
        | CKA_HAS_RESET
        | CKA_COLOR
        | CKA_X2RATCHET_ISSENDER => AttrKind::Bool,
        CKA_CLASS
        | CKA_CERTIFICATE_TYPE
        | CKA_CERTIFICATE_CATEGORY
        | CKA_JAVA_MIDP_SECURITY_DOMAIN
        | CKA_NAME_HASH_ALGORITHM
        | CKA_KEY_TYPE
        | CKA_MODULUS_BITS
        | CKA_PRIME_BITS
        | CKA_SUB_PRIME_BITS
        | CKA_VALUE_BITS
        | CKA_VALUE_LEN
        | CKA_KEY_GEN_MECHANISM
        | CKA_OTP_FORMAT
        | CKA_OTP_LENGTH
        | CKA_OTP_TIME_INTERVAL
        | CKA_OTP_CHALLENGE_REQUIREMENT
        | CKA_OTP_TIME_REQUIREMENT
        | CKA_OTP_COUNTER_REQUIREMENT
        | CKA_OTP_PIN_REQUIREMENT
        | CKA_HW_FEATURE_TYPE
        | CKA_PIXEL_X
        | CKA_PIXEL_Y
        | CKA_RESOLUTION
        | CKA_CHAR_ROWS
        | CKA_CHAR_COLUMNS
        | CKA_BITS_PER_PIXEL
        | CKA_MECHANISM_TYPE
        | CKA_PROFILE_ID
        | CKA_X2RATCHET_BAGSIZE
        | CKA_X2RATCHET_NS
        | CKA_X2RATCHET_NR
        | CKA_X2RATCHET_PNS => AttrKind::Ulong,
        CKA_ALLOWED_MECHANISMS => AttrKind::MechList,
        CKA_WRAP_TEMPLATE | CKA_UNWRAP_TEMPLATE | CKA_DERIVE_TEMPLATE => AttrKind::Nested,
        // CKA_OTP_USER_IDENTIFIER and CKA_REQUIRED_CMS_ATTRIBUTES are strings and byte arrays.
        CKA_OTP_USER_IDENTIFIER | CKA_REQUIRED_CMS_ATTRIBUTES => AttrKind::Bytes,
        _ => AttrKind::Bytes,
    }
}

/// An attribute template, built in the canonical encoding. Values may be key material
/// (`CKA_VALUE` of `C_CreateObject`): the buffer is zeroized on drop and never printed.
#[derive(Default)]
pub struct Template {
    bytes: Zeroizing<Vec<u8>>,
    count: usize,
}

impl Template {
    /// The empty template.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an attribute whose value is already canonical.
    pub fn push(&mut self, ty: u64, value: &[u8]) {
        self.bytes.extend_from_slice(&ty.to_le_bytes());
        // A slice length always fits in 64 bits on the platforms this builds for.
        let len = u64::try_from(value.len()).unwrap_or(u64::MAX);
        self.bytes.extend_from_slice(&len.to_le_bytes());
        self.bytes.extend_from_slice(value);
        self.count += 1;
    }

    /// Appends a `CK_BBOOL` attribute.
    pub fn push_bool(&mut self, ty: u64, value: bool) {
        self.push(ty, &[u8::from(value)]);
    }

    /// Appends a `CK_ULONG` attribute.
    pub fn push_ulong(&mut self, ty: u64, value: u64) {
        self.push(ty, &value.to_le_bytes());
    }

    /// Appends a nested template (`CKA_WRAP_TEMPLATE`...).
    pub fn push_nested(&mut self, ty: u64, nested: &Template) {
        self.push(ty, nested.as_bytes());
    }

    /// Number of attributes.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the template has no attribute.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The encoded template.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The encoded template, for a request message (the caller zeroizes it after use if it
    /// may hold key material).
    pub fn to_vec(&self) -> Vec<u8> {
        self.bytes.to_vec()
    }
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Template({} attributes)", self.count)
    }
}

/// One attribute of an encoded nested template, as [`decode_nested`] returns it.
#[derive(PartialEq, Eq)]
pub struct NestedAttr {
    /// The `CKA_*` type.
    pub ty: u64,
    /// The canonical value.
    pub value: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for NestedAttr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NestedAttr({:#x}, {} bytes)", self.ty, self.value.len())
    }
}

/// Decodes an encoded template (a nested template value from the appliance); `None` if
/// malformed.
pub fn decode_nested(mut bytes: &[u8]) -> Option<Vec<NestedAttr>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (ty, rest) = bytes.split_at_checked(ULONG_LEN)?;
        let (len, rest) = rest.split_at_checked(ULONG_LEN)?;
        let len = usize::try_from(canonical_ulong(len)?).ok()?;
        let (value, rest) = rest.split_at_checked(len)?;
        out.push(NestedAttr {
            ty: canonical_ulong(ty)?,
            value: Zeroizing::new(value.to_vec()),
        });
        bytes = rest;
    }
    Some(out)
}

/// Reads a canonical `CK_ULONG` (exactly eight bytes, little endian).
pub fn canonical_ulong(v: &[u8]) -> Option<u64> {
    <[u8; ULONG_LEN]>::try_from(v).ok().map(u64::from_le_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_matches_the_documented_layout() {
        let mut t = Template::new();
        t.push_ulong(CKA_CLASS, 3);
        t.push_bool(CKA_TOKEN, true);
        let b = t.as_bytes();
        assert_eq!(b.len(), 16 + 8 + 16 + 1);
        assert_eq!(&b[..8], &0u64.to_le_bytes());
        assert_eq!(&b[8..16], &8u64.to_le_bytes());
        assert_eq!(&b[16..24], &3u64.to_le_bytes());
        assert_eq!(&b[24..32], &1u64.to_le_bytes());
        assert_eq!(b[40], 1);
        let back = decode_nested(b).expect("decodes");
        assert_eq!(back.len(), 2);
        assert_eq!(back[1].ty, CKA_TOKEN);
    }

    #[test]
    fn truncated_templates_are_refused() {
        let mut t = Template::new();
        t.push(0x3, b"label");
        let b = t.as_bytes();
        for cut in 1..b.len() {
            assert!(decode_nested(&b[..cut]).is_none(), "cut at {cut}");
        }
    }

    #[test]
    fn kinds_of_common_attributes() {
        assert_eq!(kind(CKA_CLASS), AttrKind::Ulong);
        assert_eq!(kind(CKA_SIGN), AttrKind::Bool);
        assert_eq!(kind(CKA_WRAP_TEMPLATE), AttrKind::Nested);
        assert_eq!(kind(CKA_ALLOWED_MECHANISMS), AttrKind::MechList);
        assert_eq!(kind(0x11), AttrKind::Bytes); // CKA_VALUE
    }
}
