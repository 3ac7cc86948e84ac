//! PKCS#11 objects and their attribute semantics (PKCS#11 v3.0 base specification chapter 4,
//! object functions of 5.7; catalog RA-23; partition policies 10 and 11).
//!
//! Pure logic: no I/O, no cryptography, no sessions. The module asks this engine whether a
//! template may create, change or copy an object, what `C_GetAttributeValue` may reveal, and
//! which objects a `C_FindObjects` template matches; it keeps the engine's [`Object`]s in two
//! [`ObjectIndex`]es per partition (token objects, and the open sessions' objects) and persists
//! token objects with serde (see `crate::token` and the crate's DESIGN.md). Key material comes in from the mechanisms as "contributed" attributes
//! ([`CreationMethod`]); the engine never computes anything cryptographic, so a key check value
//! or a private key's `CKA_PUBLIC_KEY_INFO` exists only when the creating function supplies it.
//!
//! # Invariants
//!
//! - Every stored object passed [`Object::from_template`] or [`Object::copy_with`], and every
//!   change passed [`Object::set_attributes`]: its attributes are exactly those of its class
//!   and key type (`table.rs`), each in canonical encoding (`attribute.rs`), each required one
//!   present, and the cross-attribute rules (`values.rs`) hold.
//! - A value marked sensitive in the table (footnote 7) never leaves through
//!   `get_attributes` while `CKA_SENSITIVE` is true or `CKA_EXTRACTABLE` false, and never
//!   matches a search template. `CKA_SENSITIVE` only goes false to true and `CKA_EXTRACTABLE`
//!   only true to false, so once hidden, a value stays hidden in the object and in its copies.
//! - `CKA_ALWAYS_SENSITIVE` implies `CKA_SENSITIVE`; `CKA_NEVER_EXTRACTABLE` implies not
//!   `CKA_EXTRACTABLE`; both are recomputed after every change and never become true again.
//! - Changes are all-or-nothing: a refused template leaves the object as it was.
//! - Object handles are never reused within an index's lifetime; an index's storage use is the
//!   sum of its objects' serialized sizes and never exceeds its budget.
//!
//! # Threats
//!
//! The application is not trusted: every template is checked here whatever the client library
//! did. Secret values are zeroized when dropped and never appear in `Debug` output or messages.
//! Searching on a hidden attribute never matches, so `C_FindObjects` is no oracle for key
//! values.

#![cfg_attr(
    not(test),
    allow(
        dead_code,
        reason = "engine functions the module does not call (whole-index create, copy and \
                  destroy, handle-issuing insert) are kept for the engine's own tests"
    )
)]

mod attribute;
mod create;
pub(crate) mod error;
mod index;
mod modify;
mod read;
mod table;
mod values;

use std::fmt;

use cryptoki_sys::{
    CKA_CLASS, CKA_COPYABLE, CKA_DESTROYABLE, CKA_EXTRACTABLE, CKA_LABEL, CKA_MODIFIABLE,
    CKA_PRIVATE, CKA_SENSITIVE, CKA_TOKEN, CKA_UNIQUE_ID,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroize;

pub use self::attribute::{AttrResult, Attribute, Template};
pub(crate) use self::create::CreationMethod;
pub use self::index::ObjectHandle;
pub(crate) use self::index::ObjectIndex;

use self::error as oe;
use self::table::{Profile, Rule};
use self::values::Attrs;
use crate::error::Error;

/// Partition policy 10: "Allow multipurpose keys".
pub(crate) const POLICY_MULTIPURPOSE_KEYS: u8 = 10;
/// Partition policy 11: "Allow changing key attributes".
pub(crate) const POLICY_CHANGE_KEY_ATTRIBUTES: u8 = 11;

/// One stored attribute value. It may be key material: zeroized on drop, never printed.
#[derive(PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Value(#[serde(with = "serde_bytes")] Vec<u8>);

impl Drop for Value {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl Value {
    fn duplicate(&self) -> Self {
        Self(self.0.clone())
    }
}

/// A PKCS#11 object: its class, key or certificate type, and attributes in canonical
/// encoding. Not `Clone` (it may hold key material): copies go through [`Object::copy_with`].
pub(crate) struct Object {
    /// `CKA_CLASS` (a `CKO_*` value), cached from `attrs`.
    class: u64,
    /// `CKA_KEY_TYPE` or `CKA_CERTIFICATE_TYPE`, cached from `attrs`; 0 for data objects.
    subtype: u64,
    /// Every attribute the object has, by type.
    attrs: Attrs,
}

impl Object {
    /// Builds an object from attributes that passed the engine's checks, caching its kind.
    fn from_attrs(attrs: Attrs) -> Result<Self, Error> {
        let ulong = |ty| {
            attrs
                .get(&ty)
                .and_then(|v| attribute::decode_ulong(&v.0))
                .ok_or_else(|| oe::internal("stored object without its class or type"))
        };
        let class = ulong(CKA_CLASS)?;
        let subtype = match Profile::subtype_attr(class) {
            Some(ty) => ulong(ty)?,
            None => 0,
        };
        let obj = Self {
            class,
            subtype,
            attrs,
        };
        let profile = obj.profile()?;
        if obj.attrs.keys().any(|ty| profile.rule(*ty).is_none()) {
            return Err(oe::internal(
                "stored object with an attribute foreign to its class",
            ));
        }
        Ok(obj)
    }

    /// The rules of this object's class and type.
    fn profile(&self) -> Result<Profile, Error> {
        Profile::new(self.class, self.subtype)
            .map_err(|_| oe::internal("stored object of an unsupported class or type"))
    }

    /// A copy of the object (the engine's copies; applications copy with `copy_with`).
    fn duplicate(&self) -> Self {
        Self {
            class: self.class,
            subtype: self.subtype,
            attrs: self.attrs_duplicate(),
        }
    }

    /// A copy of the attributes, for all-or-nothing changes.
    fn attrs_duplicate(&self) -> Attrs {
        self.attrs
            .iter()
            .map(|(k, v)| (*k, v.duplicate()))
            .collect()
    }

    /// `CKA_CLASS`.
    pub(crate) fn class(&self) -> u64 {
        self.class
    }

    /// `CKA_KEY_TYPE`, for keys.
    pub(crate) fn key_type(&self) -> Option<u64> {
        Profile::subtype_attr(self.class)
            .filter(|ty| *ty == cryptoki_sys::CKA_KEY_TYPE)
            .map(|_| self.subtype)
    }

    /// Whether the object is a key.
    pub(crate) fn is_key(&self) -> bool {
        self.key_type().is_some()
    }

    /// The raw value of attribute `ty`, including secret parts: for the module's mechanisms
    /// only, never for an application (that is [`Object::get_attributes`]).
    pub(crate) fn value(&self, ty: u64) -> Option<&[u8]> {
        self.attrs.get(&ty).map(|v| v.0.as_slice())
    }

    /// A `CK_BBOOL` attribute, if present.
    pub(crate) fn flag(&self, ty: u64) -> Option<bool> {
        self.value(ty).and_then(attribute::decode_bool)
    }

    /// `CKA_TOKEN`: a token object (persisted) rather than a session object.
    pub(crate) fn is_token(&self) -> bool {
        self.flag(CKA_TOKEN) == Some(true)
    }

    /// `CKA_PRIVATE`: visible only to a logged-in user.
    pub(crate) fn is_private(&self) -> bool {
        self.flag(CKA_PRIVATE) == Some(true)
    }

    /// `CKA_MODIFIABLE`.
    pub(crate) fn is_modifiable(&self) -> bool {
        self.flag(CKA_MODIFIABLE) != Some(false)
    }

    /// `CKA_COPYABLE`.
    pub(crate) fn is_copyable(&self) -> bool {
        self.flag(CKA_COPYABLE) != Some(false)
    }

    /// `CKA_DESTROYABLE`: whether `C_DestroyObject` may destroy it.
    pub(crate) fn is_destroyable(&self) -> bool {
        self.flag(CKA_DESTROYABLE) != Some(false)
    }

    /// `C_DestroyObject`'s check: `CKR_ACTION_PROHIBITED` when `CKA_DESTROYABLE` is false.
    pub(crate) fn check_destroyable(&self) -> Result<(), Error> {
        if self.is_destroyable() {
            Ok(())
        } else {
            Err(oe::action_prohibited(
                "CKA_DESTROYABLE is false: the object cannot be destroyed",
            ))
        }
    }

    /// Whether the table's sensitive attributes (footnote 7) are hidden: the key is sensitive
    /// or unextractable.
    pub(crate) fn hides_secrets(&self) -> bool {
        self.flag(CKA_SENSITIVE) == Some(true) || self.flag(CKA_EXTRACTABLE) == Some(false)
    }

    fn hides(&self, rule: &Rule) -> bool {
        rule.flags.has(table::Flags::SENSITIVE) && self.hides_secrets()
    }

    /// `CKA_LABEL`.
    pub(crate) fn label(&self) -> &[u8] {
        self.value(CKA_LABEL).unwrap_or(&[])
    }

    /// `CKA_UNIQUE_ID`.
    pub(crate) fn unique_id(&self) -> &[u8] {
        self.value(CKA_UNIQUE_ID).unwrap_or(&[])
    }

    /// The bytes the object counts against its partition's size: its serialized size.
    pub(crate) fn stored_size(&self) -> u64 {
        let size = postcard::serialize_with_flavor::<_, postcard::ser_flavors::Size, usize>(
            self,
            postcard::ser_flavors::Size::default(),
        );
        // The size flavour has no capacity limit, so it cannot fail; were it to, the object
        // counts as too large for any budget rather than as free.
        size.ok()
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(u64::MAX)
    }

    /// The object serialized for the store.
    pub(crate) fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        postcard::to_allocvec(self).map_err(|e| oe::internal(format!("object encoding: {e}")))
    }

    /// An object read back from the store.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        postcard::from_bytes(bytes).map_err(|e| oe::internal(format!("object decoding: {e}")))
    }
}

/// Stored form: the attribute map only (class and type are read back from it).
impl Serialize for Object {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.attrs.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Object {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let attrs = Attrs::deserialize(d)?;
        Object::from_attrs(attrs).map_err(|e| serde::de::Error::custom(e.message().to_owned()))
    }
}

impl fmt::Debug for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Object")
            .field("class", &self.class)
            .field("subtype", &self.subtype)
            .field("attributes", &self.attrs.len())
            .finish()
    }
}

#[cfg(test)]
mod testutil;

#[cfg(test)]
mod tests;
