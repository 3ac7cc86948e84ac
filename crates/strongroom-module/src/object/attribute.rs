//! Attributes and templates in the module's canonical encoding.
//!
//! The wire protocol carries `CK_ULONG` values in the client's width and byte order; the
//! protocol layer converts them to this encoding before they reach the module, so that every
//! value compares byte for byte (`C_FindObjects`) whatever the client's platform:
//!
//! ```text
//! PKCS#11 type                in-module value
//! CK_BBOOL                    1 byte: 0x00 false, 0x01 true (other non-zero bytes are
//!                             accepted on input and stored as 0x01)
//! CK_ULONG and its aliases    8 bytes, little endian (CK_OBJECT_CLASS, CK_KEY_TYPE, ...)
//! CK_DATE                     8 ASCII digits YYYYMMDD, or empty ("no date")
//! RFC 2279 string             UTF-8 bytes, no terminator
//! byte array, big integer     the bytes as given (big integers big endian, no sign byte)
//! CK_MECHANISM_TYPE array     n x 8 bytes, each little endian
//! CK_ATTRIBUTE array          a nested template, see `Template::encode`
//! ```

use std::fmt;

use zeroize::Zeroize;

use super::error as oe;
use crate::error::Error;

/// Size of a `CK_ULONG` in the canonical encoding.
pub(crate) const ULONG_LEN: usize = size_of::<u64>();

/// One attribute of a template or an object: a `CKA_*` type and its value in the canonical
/// encoding. The value may be key material, so it is zeroized on drop and never printed.
pub struct Attribute {
    ty: u64,
    value: Vec<u8>,
}

impl Attribute {
    /// An attribute with raw bytes as its value.
    pub fn new(ty: u64, value: impl Into<Vec<u8>>) -> Self {
        Self {
            ty,
            value: value.into(),
        }
    }

    /// A `CK_BBOOL` attribute.
    pub fn from_bool(ty: u64, value: bool) -> Self {
        Self::new(ty, vec![u8::from(value)])
    }

    /// A `CK_ULONG` attribute (8 bytes, little endian).
    pub fn from_ulong(ty: u64, value: u64) -> Self {
        Self::new(ty, value.to_le_bytes().to_vec())
    }

    /// An RFC 2279 (UTF-8) string attribute.
    pub fn from_utf8(ty: u64, value: &str) -> Self {
        Self::new(ty, value.as_bytes().to_vec())
    }

    /// The `CKA_*` type.
    pub fn attr_type(&self) -> u64 {
        self.ty
    }

    /// The value bytes.
    pub fn value(&self) -> &[u8] {
        &self.value
    }

    /// The value as a `CK_BBOOL`, if it is exactly one byte.
    pub fn as_bool(&self) -> Option<bool> {
        decode_bool(&self.value)
    }

    /// The value as a `CK_ULONG`, if it is exactly eight bytes.
    pub fn as_ulong(&self) -> Option<u64> {
        decode_ulong(&self.value)
    }
}

impl Drop for Attribute {
    fn drop(&mut self) {
        self.value.zeroize();
    }
}

impl fmt::Debug for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Attribute({}, {} bytes)",
            super::table::attr_name(self.ty),
            self.value.len()
        )
    }
}

/// Decodes a `CK_BBOOL` (exactly one byte; any non-zero byte is true).
pub(crate) fn decode_bool(v: &[u8]) -> Option<bool> {
    match v {
        [b] => Some(*b != 0),
        _ => None,
    }
}

/// Decodes a `CK_ULONG` (exactly eight bytes, little endian).
pub(crate) fn decode_ulong(v: &[u8]) -> Option<u64> {
    <[u8; ULONG_LEN]>::try_from(v).ok().map(u64::from_le_bytes)
}

/// An attribute template: what `C_CreateObject`, `C_CopyObject`, `C_SetAttributeValue`,
/// `C_FindObjectsInit` and the key-management functions take. A type appears at most once.
#[derive(Default)]
pub struct Template {
    attrs: Vec<Attribute>,
}

impl Template {
    /// The empty template, as a constant.
    pub(crate) const EMPTY: Template = Template { attrs: Vec::new() };

    /// A template from attributes, refusing a type given twice with
    /// `CKR_TEMPLATE_INCONSISTENT` (PKCS#11 v3.0 4.1.1 rule 6 leaves the choice to the token).
    pub fn new(attrs: Vec<Attribute>) -> Result<Self, Error> {
        for (i, a) in attrs.iter().enumerate() {
            if attrs[..i].iter().any(|b| b.ty == a.ty) {
                return Err(oe::duplicate(a.ty));
            }
        }
        Ok(Self { attrs })
    }

    /// The empty template.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Number of attributes.
    pub fn len(&self) -> usize {
        self.attrs.len()
    }

    /// Whether the template has no attribute.
    pub fn is_empty(&self) -> bool {
        self.attrs.is_empty()
    }

    /// The attributes, in the caller's order.
    pub fn iter(&self) -> impl Iterator<Item = &Attribute> {
        self.attrs.iter()
    }

    /// The attribute of type `ty`, if present.
    pub fn find(&self, ty: u64) -> Option<&Attribute> {
        self.attrs.iter().find(|a| a.ty == ty)
    }

    /// The nested-template encoding used for `CKA_WRAP_TEMPLATE`, `CKA_UNWRAP_TEMPLATE` and
    /// `CKA_DERIVE_TEMPLATE` values:
    ///
    /// ```text
    /// repeated for each attribute, in order:
    /// +0   8 bytes  type, little endian
    /// +8   8 bytes  value length n, little endian
    /// +16  n bytes  value (canonical encoding)
    /// ```
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for a in &self.attrs {
            out.extend_from_slice(&a.ty.to_le_bytes());
            // A length always fits in u64 on the platforms the module runs on.
            let len = u64::try_from(a.value.len()).unwrap_or(u64::MAX);
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&a.value);
        }
        out
    }

    /// Decodes `encode`'s format; `None` if the bytes are malformed or repeat a type.
    pub fn decode(mut bytes: &[u8]) -> Option<Self> {
        let mut attrs = Vec::new();
        while !bytes.is_empty() {
            let (ty, rest) = bytes.split_at_checked(ULONG_LEN)?;
            let (len, rest) = rest.split_at_checked(ULONG_LEN)?;
            let len = usize::try_from(decode_ulong(len)?).ok()?;
            let (value, rest) = rest.split_at_checked(len)?;
            attrs.push(Attribute::new(decode_ulong(ty)?, value.to_vec()));
            bytes = rest;
        }
        Self::new(attrs).ok()
    }
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.attrs).finish()
    }
}

/// What `C_GetAttributeValue` reports for one requested attribute (v3.0 section 5.7.5). The
/// caller turns it into `ulValueLen` and the bytes; a buffer that is too small is its concern.
#[non_exhaustive]
#[derive(PartialEq, Eq)]
pub enum AttrResult {
    /// The value, in the canonical encoding.
    Value(Vec<u8>),
    /// Case 1: hidden because the key is sensitive or unextractable
    /// (`CK_UNAVAILABLE_INFORMATION`, `CKR_ATTRIBUTE_SENSITIVE`).
    Sensitive,
    /// Case 2: the object has no such attribute
    /// (`CK_UNAVAILABLE_INFORMATION`, `CKR_ATTRIBUTE_TYPE_INVALID`).
    TypeInvalid,
}

impl AttrResult {
    /// The call's return value for a set of per-attribute outcomes: `CKR_ATTRIBUTE_SENSITIVE`
    /// if any attribute is hidden, else `CKR_ATTRIBUTE_TYPE_INVALID` if any is invalid, else
    /// `CKR_OK` (the specification lets the token pick when both apply). These are not true
    /// errors: the values that were available are still returned.
    pub fn overall(results: &[AttrResult]) -> Result<(), Error> {
        if results.iter().any(|r| matches!(r, AttrResult::Sensitive)) {
            Err(oe::sensitive())
        } else if results.iter().any(|r| matches!(r, AttrResult::TypeInvalid)) {
            Err(oe::get_type_invalid())
        } else {
            Ok(())
        }
    }
}

impl fmt::Debug for AttrResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Value(v) => write!(f, "Value({} bytes)", v.len()),
            Self::Sensitive => f.write_str("Sensitive"),
            Self::TypeInvalid => f.write_str("TypeInvalid"),
        }
    }
}

#[cfg(test)]
mod tests;
