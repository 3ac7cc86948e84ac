//! The return code of every object-engine refusal, chosen here and nowhere else (like
//! `crate::error::e` for the rest of the module).
//!
//! Each constructor names the PKCS#11 v3.0 situation (section 4.1 "Creating, modifying, and
//! copying objects", 5.7 object management functions) and the `SR_RET_*` code whose `CKR_*` is
//! the one the specification gives for it.

use std::borrow::Cow;

use strongroom_proto::{RetCode, ret};

use super::table::attr_name;
use crate::error::{Error, e};
use crate::module::PartitionRole;

/// `CKR_ACTION_PROHIBITED` (`CKA_MODIFIABLE`, `CKA_COPYABLE` or `CKA_DESTROYABLE` false).
pub(crate) const ACTION_PROHIBITED: RetCode = ret::SR_RET_ACTION_PROHIBITED;

/// The module's code for a refused template, with the attribute's name in the message.
fn with_attr(code: RetCode, ty: u64, why: &str) -> Error {
    Error::new(code, format!("{}: {why}", attr_name(ty)))
}

/// 4.1.1 rule 4: required attributes are missing.
pub(crate) fn incomplete(ty: u64) -> Error {
    with_attr(
        ret::SR_RET_TEMPLATE_INCOMPLETE,
        ty,
        "required but not given",
    )
}

/// 4.1.1 rule 5: values conflict, or the attribute belongs to another class or key type.
pub(crate) fn inconsistent(ty: u64, why: &str) -> Error {
    with_attr(ret::SR_RET_TEMPLATE_INCONSISTENT, ty, why)
}

/// A template names the same attribute twice (4.1.1 rule 6: refused, not merged).
pub(crate) fn duplicate(ty: u64) -> Error {
    with_attr(
        ret::SR_RET_TEMPLATE_INCONSISTENT,
        ty,
        "given more than once in one template",
    )
}

/// 4.1.1 rule 3: the attribute may not be given here (read-only, computed, or footnotes 2,
/// 4 and 6 of table 11 for this creation method).
pub(crate) fn read_only(ty: u64, why: &str) -> Error {
    with_attr(ret::SR_RET_ATTRIBUTE_READ_ONLY, ty, why)
}

/// 4.1.1 rule 1: the attribute type is not one this module supports.
pub(crate) fn type_invalid(ty: u64) -> Error {
    with_attr(
        ret::SR_RET_ATTRIBUTE_TYPE_INVALID,
        ty,
        "not an attribute this module supports",
    )
}

/// The private-key `CKA_PUBLIC_KEY_INFO` is not accepted from applications (section 4.9 lets a
/// token refuse it with `CKR_ATTRIBUTE_TYPE_INVALID` rather than check it against the key).
pub(crate) fn type_unsupported_here(ty: u64) -> Error {
    with_attr(
        ret::SR_RET_ATTRIBUTE_TYPE_INVALID,
        ty,
        "not accepted from applications for this class",
    )
}

/// 4.1.1 rule 2: an invalid value for a valid attribute.
pub(crate) fn value_invalid(ty: u64, why: &str) -> Error {
    with_attr(ret::SR_RET_ATTRIBUTE_VALUE_INVALID, ty, why)
}

/// `C_GetAttributeValue`: at least one attribute could not be revealed.
pub(crate) fn sensitive() -> Error {
    Error::new(
        ret::SR_RET_ATTRIBUTE_SENSITIVE,
        "an attribute cannot be revealed: the key is sensitive or unextractable",
    )
}

/// `C_GetAttributeValue`: at least one attribute type is invalid for the object.
pub(crate) fn get_type_invalid() -> Error {
    Error::new(
        ret::SR_RET_ATTRIBUTE_TYPE_INVALID,
        "the object has no such attribute",
    )
}

/// `CKA_MODIFIABLE`, `CKA_COPYABLE` or `CKA_DESTROYABLE` is false.
pub(crate) fn action_prohibited(msg: impl Into<Cow<'static, str>>) -> Error {
    Error::new(ACTION_PROHIBITED, msg)
}

/// Partition policy 10 (multipurpose keys) is off and the key would have two functions.
pub(crate) fn multipurpose() -> Error {
    Error::new(
        ret::SR_RET_MULTI_FUNCTION_KEYS_NOT_ALLOWED,
        "partition policy 10 is off: a key may have only one of encrypt/decrypt, sign/verify, \
         wrap/unwrap and derive",
    )
}

/// Partition policy 11 (changing key attributes) is off.
pub(crate) fn key_attributes_frozen(ty: u64) -> Error {
    with_attr(
        ret::SR_RET_CAN_NOT_CHANGE_KEY_FUNCTION,
        ty,
        "partition policy 11 is off: key attributes cannot change after creation",
    )
}

/// RA-23: the Crypto User (and the Partition SO, whose sessions see public objects only) may
/// create public objects only.
pub(crate) fn private_object_refused(role: PartitionRole) -> Error {
    e::role_not_allowed(format!(
        "the {} may create public objects only (CKA_PRIVATE false)",
        role.name()
    ))
}

/// No live object has this handle (or the session may not see it).
pub(crate) fn handle_invalid() -> Error {
    Error::new(ret::SR_RET_OBJECT_HANDLE_INVALID, "no such object")
}

/// The partition's storage cannot hold the object (`CKR_DEVICE_MEMORY`); nothing was written.
pub(crate) fn storage_full(need: u64, free: u64) -> Error {
    Error::new(
        ret::SR_RET_MM_NOT_ENOUGH_MEMORY,
        format!("the partition is full: the object needs {need} bytes, {free} are free"),
    )
}

/// A broken invariant inside the module (never caused by the caller).
pub(crate) fn internal(msg: impl Into<Cow<'static, str>>) -> Error {
    e::internal(msg)
}
