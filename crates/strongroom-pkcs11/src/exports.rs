//! The exported C entry points, the function lists and the interfaces: every symbol this
//! library exports (`build.rs` hides all others). Each entry point wraps its pointer
//! arguments in the checked types of `ffi.rs` and runs its body through
//! [`entry`](crate::state::entry): a panic returns `CKR_GENERAL_ERROR` and never unwinds into
//! the application.
//!
//! The v3.0 interface `"PKCS 11"` 3.0 has the full `CK_FUNCTION_LIST_3_0`; `"PKCS 11"` 2.40
//! and `C_GetFunctionList` give the v2.40 list. The message-based functions of v3.0 return
//! `CKR_FUNCTION_NOT_SUPPORTED`.

#![allow(non_snake_case, clippy::missing_safety_doc, clippy::too_many_arguments)]

use std::ffi::c_void;

use cryptoki_sys::*;

use crate::conv::ul;
use crate::ffi::{
    Attrs, CStrIn, In, InBytes, MechPtr, Out, OutArray, OutBytes, OutFixed, OutHandles,
};
use crate::fns::{self, crypto, general, keys, objects, sessions, slots};
use crate::state::{Result, Rv, entry};

/// `C_InitToken`'s label is a 32-byte blank-padded field.
const LABEL_LEN: CK_ULONG = 32;

/// `C_Initialize`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_Initialize(p_init_args: *mut c_void) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let args = unsafe { In::new(p_init_args.cast_const().cast::<CK_C_INITIALIZE_ARGS>()) };
    entry("C_Initialize", || general::initialize(args))
}

/// `C_Finalize`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_Finalize(p_reserved: *mut c_void) -> CK_RV {
    entry("C_Finalize", || general::finalize(p_reserved.is_null()))
}

/// `C_GetInfo`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetInfo(p_info: *mut CK_INFO) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let out = unsafe { Out::new(p_info) };
    entry("C_GetInfo", || general::get_info(out))
}

/// `C_GetFunctionList`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetFunctionList(pp_function_list: *mut *mut CK_FUNCTION_LIST) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let out = unsafe { Out::new(pp_function_list) };
    entry("C_GetFunctionList", || {
        out.write(std::ptr::from_ref(&FUNCTION_LIST_2_40).cast_mut())
    })
}

/// `C_GetSlotList`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetSlotList(
    token_present: CK_BBOOL,
    p_slot_list: *mut CK_SLOT_ID,
    pul_count: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let out = unsafe { OutArray::new(p_slot_list, pul_count) };
    entry("C_GetSlotList", || slots::get_slot_list(token_present, out))
}

/// `C_GetSlotInfo`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetSlotInfo(slot_id: CK_SLOT_ID, p_info: *mut CK_SLOT_INFO) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let out = unsafe { Out::new(p_info) };
    entry("C_GetSlotInfo", || slots::get_slot_info(slot_id, out))
}

/// `C_GetTokenInfo`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetTokenInfo(slot_id: CK_SLOT_ID, p_info: *mut CK_TOKEN_INFO) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let out = unsafe { Out::new(p_info) };
    entry("C_GetTokenInfo", || slots::get_token_info(slot_id, out))
}

/// `C_GetMechanismList`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetMechanismList(
    slot_id: CK_SLOT_ID,
    p_mechanism_list: *mut CK_MECHANISM_TYPE,
    pul_count: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let out = unsafe { OutArray::new(p_mechanism_list, pul_count) };
    entry("C_GetMechanismList", || {
        slots::get_mechanism_list(slot_id, out)
    })
}

/// `C_GetMechanismInfo`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetMechanismInfo(
    slot_id: CK_SLOT_ID,
    mech_type: CK_MECHANISM_TYPE,
    p_info: *mut CK_MECHANISM_INFO,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let out = unsafe { Out::new(p_info) };
    entry("C_GetMechanismInfo", || {
        slots::get_mechanism_info(slot_id, mech_type, out)
    })
}

/// `C_InitToken`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_InitToken(
    slot_id: CK_SLOT_ID,
    p_pin: *mut CK_UTF8CHAR,
    ul_pin_len: CK_ULONG,
    p_label: *mut CK_UTF8CHAR,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let (pin, label) = unsafe {
        (
            InBytes::new(p_pin, ul_pin_len),
            InBytes::new(p_label, LABEL_LEN),
        )
    };
    entry("C_InitToken", || slots::init_token(slot_id, pin, label))
}

/// `C_InitPIN`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_InitPIN(
    h_session: CK_SESSION_HANDLE,
    p_pin: *mut CK_UTF8CHAR,
    ul_pin_len: CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let pin = unsafe { InBytes::new(p_pin, ul_pin_len) };
    entry("C_InitPIN", || slots::init_pin(ul(h_session), pin))
}

/// `C_SetPIN`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_SetPIN(
    h_session: CK_SESSION_HANDLE,
    p_old_pin: *mut CK_UTF8CHAR,
    ul_old_len: CK_ULONG,
    p_new_pin: *mut CK_UTF8CHAR,
    ul_new_len: CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let (old, new) = unsafe {
        (
            InBytes::new(p_old_pin, ul_old_len),
            InBytes::new(p_new_pin, ul_new_len),
        )
    };
    entry("C_SetPIN", || slots::set_pin(ul(h_session), old, new))
}

/// `C_OpenSession`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_OpenSession(
    slot_id: CK_SLOT_ID,
    flags: CK_FLAGS,
    _p_application: *mut c_void,
    _notify: CK_NOTIFY,
    ph_session: *mut CK_SESSION_HANDLE,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let out = unsafe { Out::new(ph_session) };
    entry("C_OpenSession", || {
        sessions::open_session(slot_id, flags, out)
    })
}

/// `C_CloseSession`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_CloseSession(h_session: CK_SESSION_HANDLE) -> CK_RV {
    entry("C_CloseSession", || sessions::close_session(ul(h_session)))
}

/// `C_CloseAllSessions`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_CloseAllSessions(slot_id: CK_SLOT_ID) -> CK_RV {
    entry("C_CloseAllSessions", || {
        sessions::close_all_sessions(slot_id)
    })
}

/// `C_GetSessionInfo`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetSessionInfo(
    h_session: CK_SESSION_HANDLE,
    p_info: *mut CK_SESSION_INFO,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let out = unsafe { Out::new(p_info) };
    entry("C_GetSessionInfo", || {
        sessions::get_session_info(ul(h_session), out)
    })
}

/// `C_GetOperationState`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetOperationState(
    h_session: CK_SESSION_HANDLE,
    p_operation_state: *mut CK_BYTE,
    pul_operation_state_len: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let out = unsafe { OutBytes::new(p_operation_state, pul_operation_state_len) };
    entry("C_GetOperationState", || {
        sessions::get_operation_state(ul(h_session), out)
    })
}

/// `C_SetOperationState`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_SetOperationState(
    h_session: CK_SESSION_HANDLE,
    _p_operation_state: *mut CK_BYTE,
    _ul_operation_state_len: CK_ULONG,
    _h_encryption_key: CK_OBJECT_HANDLE,
    _h_authentication_key: CK_OBJECT_HANDLE,
) -> CK_RV {
    entry("C_SetOperationState", || {
        sessions::operation_state(ul(h_session))
    })
}

/// `C_Login`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_Login(
    h_session: CK_SESSION_HANDLE,
    user_type: CK_USER_TYPE,
    p_pin: *mut CK_UTF8CHAR,
    ul_pin_len: CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let pin = unsafe { InBytes::new(p_pin, ul_pin_len) };
    entry("C_Login", || sessions::login(ul(h_session), user_type, pin))
}

/// `C_Logout`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_Logout(h_session: CK_SESSION_HANDLE) -> CK_RV {
    entry("C_Logout", || sessions::logout(ul(h_session)))
}

/// `C_CreateObject`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_CreateObject(
    h_session: CK_SESSION_HANDLE,
    p_template: *mut CK_ATTRIBUTE,
    ul_count: CK_ULONG,
    ph_object: *mut CK_OBJECT_HANDLE,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let (t, out) = unsafe { (Attrs::new(p_template, ul_count), Out::new(ph_object)) };
    entry("C_CreateObject", || {
        objects::create_object(ul(h_session), t, out)
    })
}

/// `C_CopyObject`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_CopyObject(
    h_session: CK_SESSION_HANDLE,
    h_object: CK_OBJECT_HANDLE,
    p_template: *mut CK_ATTRIBUTE,
    ul_count: CK_ULONG,
    ph_new_object: *mut CK_OBJECT_HANDLE,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let (t, out) = unsafe { (Attrs::new(p_template, ul_count), Out::new(ph_new_object)) };
    entry("C_CopyObject", || {
        objects::copy_object(ul(h_session), h_object, t, out)
    })
}

/// `C_DestroyObject`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_DestroyObject(
    h_session: CK_SESSION_HANDLE,
    h_object: CK_OBJECT_HANDLE,
) -> CK_RV {
    entry("C_DestroyObject", || {
        objects::destroy_object(ul(h_session), h_object)
    })
}

/// `C_GetObjectSize`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetObjectSize(
    h_session: CK_SESSION_HANDLE,
    h_object: CK_OBJECT_HANDLE,
    pul_size: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let out = unsafe { Out::new(pul_size) };
    entry("C_GetObjectSize", || {
        objects::get_object_size(ul(h_session), h_object, out)
    })
}

/// `C_GetAttributeValue`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetAttributeValue(
    h_session: CK_SESSION_HANDLE,
    h_object: CK_OBJECT_HANDLE,
    p_template: *mut CK_ATTRIBUTE,
    ul_count: CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let t = unsafe { Attrs::new(p_template, ul_count) };
    entry("C_GetAttributeValue", || {
        objects::get_attribute_value(ul(h_session), h_object, t)
    })
}

/// `C_SetAttributeValue`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_SetAttributeValue(
    h_session: CK_SESSION_HANDLE,
    h_object: CK_OBJECT_HANDLE,
    p_template: *mut CK_ATTRIBUTE,
    ul_count: CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let t = unsafe { Attrs::new(p_template, ul_count) };
    entry("C_SetAttributeValue", || {
        objects::set_attribute_value(ul(h_session), h_object, t)
    })
}

/// `C_FindObjectsInit`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_FindObjectsInit(
    h_session: CK_SESSION_HANDLE,
    p_template: *mut CK_ATTRIBUTE,
    ul_count: CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let t = unsafe { Attrs::new(p_template, ul_count) };
    entry("C_FindObjectsInit", || {
        objects::find_objects_init(ul(h_session), t)
    })
}

/// `C_FindObjects`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_FindObjects(
    h_session: CK_SESSION_HANDLE,
    ph_object: *mut CK_OBJECT_HANDLE,
    ul_max_object_count: CK_ULONG,
    pul_object_count: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let out = unsafe { OutHandles::new(ph_object, ul_max_object_count, pul_object_count) };
    entry("C_FindObjects", || {
        objects::find_objects(ul(h_session), out)
    })
}

/// `C_FindObjectsFinal`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_FindObjectsFinal(h_session: CK_SESSION_HANDLE) -> CK_RV {
    entry("C_FindObjectsFinal", || {
        objects::find_objects_final(ul(h_session))
    })
}

/// `C_EncryptInit`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_EncryptInit(
    h_session: CK_SESSION_HANDLE,
    p_mechanism: *mut CK_MECHANISM,
    h_key: CK_OBJECT_HANDLE,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let mech = unsafe { MechPtr::new(p_mechanism) };
    entry("C_EncryptInit", || {
        crypto::encrypt_init(ul(h_session), mech, h_key)
    })
}

/// `C_Encrypt`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_Encrypt(
    h_session: CK_SESSION_HANDLE,
    p_data: *mut CK_BYTE,
    ul_data_len: CK_ULONG,
    p_out: *mut CK_BYTE,
    pul_out_len: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let (data, out) = unsafe {
        (
            InBytes::new(p_data, ul_data_len),
            OutBytes::new(p_out, pul_out_len),
        )
    };
    entry("C_Encrypt", || crypto::encrypt(ul(h_session), data, out))
}

/// `C_EncryptUpdate`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_EncryptUpdate(
    h_session: CK_SESSION_HANDLE,
    p_part: *mut CK_BYTE,
    ul_part_len: CK_ULONG,
    p_out: *mut CK_BYTE,
    pul_out_len: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let (data, out) = unsafe {
        (
            InBytes::new(p_part, ul_part_len),
            OutBytes::new(p_out, pul_out_len),
        )
    };
    entry("C_EncryptUpdate", || {
        crypto::encrypt_update(ul(h_session), data, out)
    })
}

/// `C_EncryptFinal`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_EncryptFinal(
    h_session: CK_SESSION_HANDLE,
    p_out: *mut CK_BYTE,
    pul_out_len: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let out = unsafe { OutBytes::new(p_out, pul_out_len) };
    entry("C_EncryptFinal", || {
        crypto::encrypt_final(ul(h_session), out)
    })
}

/// `C_DecryptInit`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_DecryptInit(
    h_session: CK_SESSION_HANDLE,
    p_mechanism: *mut CK_MECHANISM,
    h_key: CK_OBJECT_HANDLE,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let mech = unsafe { MechPtr::new(p_mechanism) };
    entry("C_DecryptInit", || {
        crypto::decrypt_init(ul(h_session), mech, h_key)
    })
}

/// `C_Decrypt`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_Decrypt(
    h_session: CK_SESSION_HANDLE,
    p_data: *mut CK_BYTE,
    ul_data_len: CK_ULONG,
    p_out: *mut CK_BYTE,
    pul_out_len: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let (data, out) = unsafe {
        (
            InBytes::new(p_data, ul_data_len),
            OutBytes::new(p_out, pul_out_len),
        )
    };
    entry("C_Decrypt", || crypto::decrypt(ul(h_session), data, out))
}

/// `C_DecryptUpdate`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_DecryptUpdate(
    h_session: CK_SESSION_HANDLE,
    p_part: *mut CK_BYTE,
    ul_part_len: CK_ULONG,
    p_out: *mut CK_BYTE,
    pul_out_len: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let (data, out) = unsafe {
        (
            InBytes::new(p_part, ul_part_len),
            OutBytes::new(p_out, pul_out_len),
        )
    };
    entry("C_DecryptUpdate", || {
        crypto::decrypt_update(ul(h_session), data, out)
    })
}

/// `C_DecryptFinal`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_DecryptFinal(
    h_session: CK_SESSION_HANDLE,
    p_out: *mut CK_BYTE,
    pul_out_len: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let out = unsafe { OutBytes::new(p_out, pul_out_len) };
    entry("C_DecryptFinal", || {
        crypto::decrypt_final(ul(h_session), out)
    })
}

/// `C_DigestInit`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_DigestInit(
    h_session: CK_SESSION_HANDLE,
    p_mechanism: *mut CK_MECHANISM,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let mech = unsafe { MechPtr::new(p_mechanism) };
    entry("C_DigestInit", || crypto::digest_init(ul(h_session), mech))
}

/// `C_Digest`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_Digest(
    h_session: CK_SESSION_HANDLE,
    p_data: *mut CK_BYTE,
    ul_data_len: CK_ULONG,
    p_digest: *mut CK_BYTE,
    pul_digest_len: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let (data, out) = unsafe {
        (
            InBytes::new(p_data, ul_data_len),
            OutBytes::new(p_digest, pul_digest_len),
        )
    };
    entry("C_Digest", || crypto::digest(ul(h_session), data, out))
}

/// `C_DigestUpdate`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_DigestUpdate(
    h_session: CK_SESSION_HANDLE,
    p_part: *mut CK_BYTE,
    ul_part_len: CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let data = unsafe { InBytes::new(p_part, ul_part_len) };
    entry("C_DigestUpdate", || {
        crypto::digest_update(ul(h_session), data)
    })
}

/// `C_DigestKey`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_DigestKey(
    h_session: CK_SESSION_HANDLE,
    _h_key: CK_OBJECT_HANDLE,
) -> CK_RV {
    entry("C_DigestKey", || crypto::digest_key(ul(h_session)))
}

/// `C_DigestFinal`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_DigestFinal(
    h_session: CK_SESSION_HANDLE,
    p_digest: *mut CK_BYTE,
    pul_digest_len: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let out = unsafe { OutBytes::new(p_digest, pul_digest_len) };
    entry("C_DigestFinal", || crypto::digest_final(ul(h_session), out))
}

/// `C_SignInit`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_SignInit(
    h_session: CK_SESSION_HANDLE,
    p_mechanism: *mut CK_MECHANISM,
    h_key: CK_OBJECT_HANDLE,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let mech = unsafe { MechPtr::new(p_mechanism) };
    entry("C_SignInit", || {
        crypto::sign_init(ul(h_session), mech, h_key)
    })
}

/// `C_Sign`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_Sign(
    h_session: CK_SESSION_HANDLE,
    p_data: *mut CK_BYTE,
    ul_data_len: CK_ULONG,
    p_signature: *mut CK_BYTE,
    pul_signature_len: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let (data, out) = unsafe {
        (
            InBytes::new(p_data, ul_data_len),
            OutBytes::new(p_signature, pul_signature_len),
        )
    };
    entry("C_Sign", || crypto::sign(ul(h_session), data, out))
}

/// `C_SignUpdate`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_SignUpdate(
    h_session: CK_SESSION_HANDLE,
    p_part: *mut CK_BYTE,
    ul_part_len: CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let data = unsafe { InBytes::new(p_part, ul_part_len) };
    entry("C_SignUpdate", || crypto::sign_update(ul(h_session), data))
}

/// `C_SignFinal`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_SignFinal(
    h_session: CK_SESSION_HANDLE,
    p_signature: *mut CK_BYTE,
    pul_signature_len: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let out = unsafe { OutBytes::new(p_signature, pul_signature_len) };
    entry("C_SignFinal", || crypto::sign_final(ul(h_session), out))
}

/// `C_SignRecoverInit`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_SignRecoverInit(
    h_session: CK_SESSION_HANDLE,
    _p_mechanism: *mut CK_MECHANISM,
    _h_key: CK_OBJECT_HANDLE,
) -> CK_RV {
    entry("C_SignRecoverInit", || fns::not_supported_on(ul(h_session)))
}

/// `C_SignRecover`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_SignRecover(
    h_session: CK_SESSION_HANDLE,
    _p_data: *mut CK_BYTE,
    _ul_data_len: CK_ULONG,
    _p_signature: *mut CK_BYTE,
    _pul_signature_len: *mut CK_ULONG,
) -> CK_RV {
    entry("C_SignRecover", || fns::not_supported_on(ul(h_session)))
}

/// `C_VerifyInit`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_VerifyInit(
    h_session: CK_SESSION_HANDLE,
    p_mechanism: *mut CK_MECHANISM,
    h_key: CK_OBJECT_HANDLE,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let mech = unsafe { MechPtr::new(p_mechanism) };
    entry("C_VerifyInit", || {
        crypto::verify_init(ul(h_session), mech, h_key)
    })
}

/// `C_Verify`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_Verify(
    h_session: CK_SESSION_HANDLE,
    p_data: *mut CK_BYTE,
    ul_data_len: CK_ULONG,
    p_signature: *mut CK_BYTE,
    ul_signature_len: CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let (data, sig) = unsafe {
        (
            InBytes::new(p_data, ul_data_len),
            InBytes::new(p_signature, ul_signature_len),
        )
    };
    entry("C_Verify", || crypto::verify(ul(h_session), data, sig))
}

/// `C_VerifyUpdate`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_VerifyUpdate(
    h_session: CK_SESSION_HANDLE,
    p_part: *mut CK_BYTE,
    ul_part_len: CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let data = unsafe { InBytes::new(p_part, ul_part_len) };
    entry("C_VerifyUpdate", || {
        crypto::verify_update(ul(h_session), data)
    })
}

/// `C_VerifyFinal`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_VerifyFinal(
    h_session: CK_SESSION_HANDLE,
    p_signature: *mut CK_BYTE,
    ul_signature_len: CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let sig = unsafe { InBytes::new(p_signature, ul_signature_len) };
    entry("C_VerifyFinal", || crypto::verify_final(ul(h_session), sig))
}

/// `C_VerifyRecoverInit`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_VerifyRecoverInit(
    h_session: CK_SESSION_HANDLE,
    _p_mechanism: *mut CK_MECHANISM,
    _h_key: CK_OBJECT_HANDLE,
) -> CK_RV {
    entry("C_VerifyRecoverInit", || {
        fns::not_supported_on(ul(h_session))
    })
}

/// `C_VerifyRecover`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_VerifyRecover(
    h_session: CK_SESSION_HANDLE,
    _p_signature: *mut CK_BYTE,
    _ul_signature_len: CK_ULONG,
    _p_data: *mut CK_BYTE,
    _pul_data_len: *mut CK_ULONG,
) -> CK_RV {
    entry("C_VerifyRecover", || fns::not_supported_on(ul(h_session)))
}

/// `C_DigestEncryptUpdate`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_DigestEncryptUpdate(
    h_session: CK_SESSION_HANDLE,
    _p_part: *mut CK_BYTE,
    _ul_part_len: CK_ULONG,
    _p_out: *mut CK_BYTE,
    _pul_out_len: *mut CK_ULONG,
) -> CK_RV {
    entry("C_DigestEncryptUpdate", || {
        fns::not_supported_on(ul(h_session))
    })
}

/// `C_DecryptDigestUpdate`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_DecryptDigestUpdate(
    h_session: CK_SESSION_HANDLE,
    _p_part: *mut CK_BYTE,
    _ul_part_len: CK_ULONG,
    _p_out: *mut CK_BYTE,
    _pul_out_len: *mut CK_ULONG,
) -> CK_RV {
    entry("C_DecryptDigestUpdate", || {
        fns::not_supported_on(ul(h_session))
    })
}

/// `C_SignEncryptUpdate`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_SignEncryptUpdate(
    h_session: CK_SESSION_HANDLE,
    _p_part: *mut CK_BYTE,
    _ul_part_len: CK_ULONG,
    _p_out: *mut CK_BYTE,
    _pul_out_len: *mut CK_ULONG,
) -> CK_RV {
    entry("C_SignEncryptUpdate", || {
        fns::not_supported_on(ul(h_session))
    })
}

/// `C_DecryptVerifyUpdate`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_DecryptVerifyUpdate(
    h_session: CK_SESSION_HANDLE,
    _p_part: *mut CK_BYTE,
    _ul_part_len: CK_ULONG,
    _p_out: *mut CK_BYTE,
    _pul_out_len: *mut CK_ULONG,
) -> CK_RV {
    entry("C_DecryptVerifyUpdate", || {
        fns::not_supported_on(ul(h_session))
    })
}

/// `C_GenerateKey`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GenerateKey(
    h_session: CK_SESSION_HANDLE,
    p_mechanism: *mut CK_MECHANISM,
    p_template: *mut CK_ATTRIBUTE,
    ul_count: CK_ULONG,
    ph_key: *mut CK_OBJECT_HANDLE,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let (mech, t, out) = unsafe {
        (
            MechPtr::new(p_mechanism),
            Attrs::new(p_template, ul_count),
            Out::new(ph_key),
        )
    };
    entry("C_GenerateKey", || {
        keys::generate_key(ul(h_session), mech, t, out)
    })
}

/// `C_GenerateKeyPair`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GenerateKeyPair(
    h_session: CK_SESSION_HANDLE,
    p_mechanism: *mut CK_MECHANISM,
    p_public_key_template: *mut CK_ATTRIBUTE,
    ul_public_key_attribute_count: CK_ULONG,
    p_private_key_template: *mut CK_ATTRIBUTE,
    ul_private_key_attribute_count: CK_ULONG,
    ph_public_key: *mut CK_OBJECT_HANDLE,
    ph_private_key: *mut CK_OBJECT_HANDLE,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let (mech, public, private, out_public, out_private) = unsafe {
        (
            MechPtr::new(p_mechanism),
            Attrs::new(p_public_key_template, ul_public_key_attribute_count),
            Attrs::new(p_private_key_template, ul_private_key_attribute_count),
            Out::new(ph_public_key),
            Out::new(ph_private_key),
        )
    };
    entry("C_GenerateKeyPair", || {
        keys::generate_key_pair(
            ul(h_session),
            mech,
            public,
            private,
            out_public,
            out_private,
        )
    })
}

/// `C_WrapKey`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_WrapKey(
    h_session: CK_SESSION_HANDLE,
    p_mechanism: *mut CK_MECHANISM,
    h_wrapping_key: CK_OBJECT_HANDLE,
    h_key: CK_OBJECT_HANDLE,
    p_wrapped_key: *mut CK_BYTE,
    pul_wrapped_key_len: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let (mech, out) = unsafe {
        (
            MechPtr::new(p_mechanism),
            OutBytes::new(p_wrapped_key, pul_wrapped_key_len),
        )
    };
    entry("C_WrapKey", || {
        keys::wrap_key(ul(h_session), mech, h_wrapping_key, h_key, out)
    })
}

/// `C_UnwrapKey`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_UnwrapKey(
    h_session: CK_SESSION_HANDLE,
    p_mechanism: *mut CK_MECHANISM,
    h_unwrapping_key: CK_OBJECT_HANDLE,
    p_wrapped_key: *mut CK_BYTE,
    ul_wrapped_key_len: CK_ULONG,
    p_template: *mut CK_ATTRIBUTE,
    ul_attribute_count: CK_ULONG,
    ph_key: *mut CK_OBJECT_HANDLE,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let (mech, wrapped, t, out) = unsafe {
        (
            MechPtr::new(p_mechanism),
            InBytes::new(p_wrapped_key, ul_wrapped_key_len),
            Attrs::new(p_template, ul_attribute_count),
            Out::new(ph_key),
        )
    };
    entry("C_UnwrapKey", || {
        keys::unwrap_key(ul(h_session), mech, h_unwrapping_key, wrapped, t, out)
    })
}

/// `C_DeriveKey`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_DeriveKey(
    h_session: CK_SESSION_HANDLE,
    p_mechanism: *mut CK_MECHANISM,
    h_base_key: CK_OBJECT_HANDLE,
    p_template: *mut CK_ATTRIBUTE,
    ul_attribute_count: CK_ULONG,
    ph_key: *mut CK_OBJECT_HANDLE,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let (mech, t, out) = unsafe {
        (
            MechPtr::new(p_mechanism),
            Attrs::new(p_template, ul_attribute_count),
            Out::new(ph_key),
        )
    };
    entry("C_DeriveKey", || {
        keys::derive_key(ul(h_session), mech, h_base_key, t, out)
    })
}

/// `C_SeedRandom`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_SeedRandom(
    h_session: CK_SESSION_HANDLE,
    p_seed: *mut CK_BYTE,
    ul_seed_len: CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let seed = unsafe { InBytes::new(p_seed, ul_seed_len) };
    entry("C_SeedRandom", || crypto::seed_random(ul(h_session), seed))
}

/// `C_GenerateRandom`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GenerateRandom(
    h_session: CK_SESSION_HANDLE,
    p_random_data: *mut CK_BYTE,
    ul_random_len: CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let out = unsafe { OutFixed::new(p_random_data, ul_random_len) };
    entry("C_GenerateRandom", || {
        crypto::generate_random(ul(h_session), out)
    })
}

/// `C_GetFunctionStatus`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetFunctionStatus(h_session: CK_SESSION_HANDLE) -> CK_RV {
    entry("C_GetFunctionStatus", || {
        fns::client()
            .and_then(|c| Ok(c.session_slot(ul(h_session))?))
            .and_then(|_| fns::fail(CKR_FUNCTION_NOT_PARALLEL))
    })
}

/// `C_CancelFunction`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_CancelFunction(h_session: CK_SESSION_HANDLE) -> CK_RV {
    entry("C_CancelFunction", || {
        fns::client()
            .and_then(|c| Ok(c.session_slot(ul(h_session))?))
            .and_then(|_| fns::fail(CKR_FUNCTION_NOT_PARALLEL))
    })
}

/// `C_WaitForSlotEvent`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_WaitForSlotEvent(
    flags: CK_FLAGS,
    p_slot: *mut CK_SLOT_ID,
    p_reserved: *mut c_void,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let out = unsafe { Out::new(p_slot) };
    entry("C_WaitForSlotEvent", || {
        general::wait_for_slot_event(flags, out, p_reserved.is_null())
    })
}

/// `C_GetInterfaceList`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetInterfaceList(
    p_interfaces_list: *mut CK_INTERFACE,
    pul_count: *mut CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let out = unsafe { OutArray::new(p_interfaces_list, pul_count) };
    entry("C_GetInterfaceList", || out.deliver(&interfaces()))
}

/// `C_GetInterface`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_GetInterface(
    p_interface_name: *mut CK_UTF8CHAR,
    p_version: *mut CK_VERSION,
    pp_interface: *mut *mut CK_INTERFACE,
    flags: CK_FLAGS,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let (name, version, out) = unsafe {
        (
            CStrIn::new(p_interface_name),
            In::new(p_version.cast_const()),
            Out::new(pp_interface),
        )
    };
    entry("C_GetInterface", || {
        get_interface(name, version, out, flags)
    })
}

/// `C_LoginUser`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_LoginUser(
    h_session: CK_SESSION_HANDLE,
    user_type: CK_USER_TYPE,
    p_pin: *mut CK_UTF8CHAR,
    ul_pin_len: CK_ULONG,
    p_username: *mut CK_UTF8CHAR,
    ul_username_len: CK_ULONG,
) -> CK_RV {
    // SAFETY: the pointer arguments are the PKCS#11 caller's, valid as the specification
    // describes them for this function while it runs; the wrappers live no longer.
    let (pin, name) = unsafe {
        (
            InBytes::new(p_pin, ul_pin_len),
            InBytes::new(p_username, ul_username_len),
        )
    };
    entry("C_LoginUser", || {
        sessions::login_user(ul(h_session), user_type, pin, name)
    })
}

/// `C_SessionCancel`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_SessionCancel(h_session: CK_SESSION_HANDLE, flags: CK_FLAGS) -> CK_RV {
    entry("C_SessionCancel", || {
        sessions::session_cancel(ul(h_session), flags)
    })
}

/// `C_MessageEncryptInit`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_MessageEncryptInit(
    _h_session: CK_SESSION_HANDLE,
    _p_mechanism: *mut CK_MECHANISM,
    _h_key: CK_OBJECT_HANDLE,
) -> CK_RV {
    entry("C_MessageEncryptInit", fns::not_supported)
}

/// `C_EncryptMessage`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_EncryptMessage(
    _h_session: CK_SESSION_HANDLE,
    _p_parameter: *mut c_void,
    _ul_parameter_len: CK_ULONG,
    _p_associated_data: *mut CK_BYTE,
    _ul_associated_data_len: CK_ULONG,
    _p_in: *mut CK_BYTE,
    _ul_in_len: CK_ULONG,
    _p_out: *mut CK_BYTE,
    _pul_out_len: *mut CK_ULONG,
) -> CK_RV {
    entry("C_EncryptMessage", fns::not_supported)
}

/// `C_EncryptMessageBegin`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_EncryptMessageBegin(
    _h_session: CK_SESSION_HANDLE,
    _p_parameter: *mut c_void,
    _ul_parameter_len: CK_ULONG,
    _p_associated_data: *mut CK_BYTE,
    _ul_associated_data_len: CK_ULONG,
) -> CK_RV {
    entry("C_EncryptMessageBegin", fns::not_supported)
}

/// `C_EncryptMessageNext`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_EncryptMessageNext(
    _h_session: CK_SESSION_HANDLE,
    _p_parameter: *mut c_void,
    _ul_parameter_len: CK_ULONG,
    _p_in: *mut CK_BYTE,
    _ul_in_len: CK_ULONG,
    _p_out: *mut CK_BYTE,
    _pul_out_len: *mut CK_ULONG,
    _flags: CK_FLAGS,
) -> CK_RV {
    entry("C_EncryptMessageNext", fns::not_supported)
}

/// `C_MessageEncryptFinal`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_MessageEncryptFinal(_h_session: CK_SESSION_HANDLE) -> CK_RV {
    entry("C_MessageEncryptFinal", fns::not_supported)
}

/// `C_MessageDecryptInit`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_MessageDecryptInit(
    _h_session: CK_SESSION_HANDLE,
    _p_mechanism: *mut CK_MECHANISM,
    _h_key: CK_OBJECT_HANDLE,
) -> CK_RV {
    entry("C_MessageDecryptInit", fns::not_supported)
}

/// `C_DecryptMessage`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_DecryptMessage(
    _h_session: CK_SESSION_HANDLE,
    _p_parameter: *mut c_void,
    _ul_parameter_len: CK_ULONG,
    _p_associated_data: *mut CK_BYTE,
    _ul_associated_data_len: CK_ULONG,
    _p_in: *mut CK_BYTE,
    _ul_in_len: CK_ULONG,
    _p_out: *mut CK_BYTE,
    _pul_out_len: *mut CK_ULONG,
) -> CK_RV {
    entry("C_DecryptMessage", fns::not_supported)
}

/// `C_DecryptMessageBegin`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_DecryptMessageBegin(
    _h_session: CK_SESSION_HANDLE,
    _p_parameter: *mut c_void,
    _ul_parameter_len: CK_ULONG,
    _p_associated_data: *mut CK_BYTE,
    _ul_associated_data_len: CK_ULONG,
) -> CK_RV {
    entry("C_DecryptMessageBegin", fns::not_supported)
}

/// `C_DecryptMessageNext`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_DecryptMessageNext(
    _h_session: CK_SESSION_HANDLE,
    _p_parameter: *mut c_void,
    _ul_parameter_len: CK_ULONG,
    _p_in: *mut CK_BYTE,
    _ul_in_len: CK_ULONG,
    _p_out: *mut CK_BYTE,
    _pul_out_len: *mut CK_ULONG,
    _flags: CK_FLAGS,
) -> CK_RV {
    entry("C_DecryptMessageNext", fns::not_supported)
}

/// `C_MessageDecryptFinal`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_MessageDecryptFinal(_h_session: CK_SESSION_HANDLE) -> CK_RV {
    entry("C_MessageDecryptFinal", fns::not_supported)
}

/// `C_MessageSignInit`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_MessageSignInit(
    _h_session: CK_SESSION_HANDLE,
    _p_mechanism: *mut CK_MECHANISM,
    _h_key: CK_OBJECT_HANDLE,
) -> CK_RV {
    entry("C_MessageSignInit", fns::not_supported)
}

/// `C_SignMessage`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_SignMessage(
    _h_session: CK_SESSION_HANDLE,
    _p_parameter: *mut c_void,
    _ul_parameter_len: CK_ULONG,
    _p_data: *mut CK_BYTE,
    _ul_data_len: CK_ULONG,
    _p_signature: *mut CK_BYTE,
    _pul_signature_len: *mut CK_ULONG,
) -> CK_RV {
    entry("C_SignMessage", fns::not_supported)
}

/// `C_SignMessageBegin`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_SignMessageBegin(
    _h_session: CK_SESSION_HANDLE,
    _p_parameter: *mut c_void,
    _ul_parameter_len: CK_ULONG,
) -> CK_RV {
    entry("C_SignMessageBegin", fns::not_supported)
}

/// `C_SignMessageNext`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_SignMessageNext(
    _h_session: CK_SESSION_HANDLE,
    _p_parameter: *mut c_void,
    _ul_parameter_len: CK_ULONG,
    _p_data: *mut CK_BYTE,
    _ul_data_len: CK_ULONG,
    _p_signature: *mut CK_BYTE,
    _pul_signature_len: *mut CK_ULONG,
) -> CK_RV {
    entry("C_SignMessageNext", fns::not_supported)
}

/// `C_MessageSignFinal`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_MessageSignFinal(_h_session: CK_SESSION_HANDLE) -> CK_RV {
    entry("C_MessageSignFinal", fns::not_supported)
}

/// `C_MessageVerifyInit`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_MessageVerifyInit(
    _h_session: CK_SESSION_HANDLE,
    _p_mechanism: *mut CK_MECHANISM,
    _h_key: CK_OBJECT_HANDLE,
) -> CK_RV {
    entry("C_MessageVerifyInit", fns::not_supported)
}

/// `C_VerifyMessage`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_VerifyMessage(
    _h_session: CK_SESSION_HANDLE,
    _p_parameter: *mut c_void,
    _ul_parameter_len: CK_ULONG,
    _p_data: *mut CK_BYTE,
    _ul_data_len: CK_ULONG,
    _p_signature: *mut CK_BYTE,
    _ul_signature_len: CK_ULONG,
) -> CK_RV {
    entry("C_VerifyMessage", fns::not_supported)
}

/// `C_VerifyMessageBegin`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_VerifyMessageBegin(
    _h_session: CK_SESSION_HANDLE,
    _p_parameter: *mut c_void,
    _ul_parameter_len: CK_ULONG,
) -> CK_RV {
    entry("C_VerifyMessageBegin", fns::not_supported)
}

/// `C_VerifyMessageNext`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_VerifyMessageNext(
    _h_session: CK_SESSION_HANDLE,
    _p_parameter: *mut c_void,
    _ul_parameter_len: CK_ULONG,
    _p_data: *mut CK_BYTE,
    _ul_data_len: CK_ULONG,
    _p_signature: *mut CK_BYTE,
    _ul_signature_len: CK_ULONG,
) -> CK_RV {
    entry("C_VerifyMessageNext", fns::not_supported)
}

/// `C_MessageVerifyFinal`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn C_MessageVerifyFinal(_h_session: CK_SESSION_HANDLE) -> CK_RV {
    entry("C_MessageVerifyFinal", fns::not_supported)
}

static FUNCTION_LIST_2_40: CK_FUNCTION_LIST = CK_FUNCTION_LIST {
    version: CK_VERSION {
        major: 2,
        minor: 40,
    },
    C_Initialize: Some(C_Initialize),
    C_Finalize: Some(C_Finalize),
    C_GetInfo: Some(C_GetInfo),
    C_GetFunctionList: Some(C_GetFunctionList),
    C_GetSlotList: Some(C_GetSlotList),
    C_GetSlotInfo: Some(C_GetSlotInfo),
    C_GetTokenInfo: Some(C_GetTokenInfo),
    C_GetMechanismList: Some(C_GetMechanismList),
    C_GetMechanismInfo: Some(C_GetMechanismInfo),
    C_InitToken: Some(C_InitToken),
    C_InitPIN: Some(C_InitPIN),
    C_SetPIN: Some(C_SetPIN),
    C_OpenSession: Some(C_OpenSession),
    C_CloseSession: Some(C_CloseSession),
    C_CloseAllSessions: Some(C_CloseAllSessions),
    C_GetSessionInfo: Some(C_GetSessionInfo),
    C_GetOperationState: Some(C_GetOperationState),
    C_SetOperationState: Some(C_SetOperationState),
    C_Login: Some(C_Login),
    C_Logout: Some(C_Logout),
    C_CreateObject: Some(C_CreateObject),
    C_CopyObject: Some(C_CopyObject),
    C_DestroyObject: Some(C_DestroyObject),
    C_GetObjectSize: Some(C_GetObjectSize),
    C_GetAttributeValue: Some(C_GetAttributeValue),
    C_SetAttributeValue: Some(C_SetAttributeValue),
    C_FindObjectsInit: Some(C_FindObjectsInit),
    C_FindObjects: Some(C_FindObjects),
    C_FindObjectsFinal: Some(C_FindObjectsFinal),
    C_EncryptInit: Some(C_EncryptInit),
    C_Encrypt: Some(C_Encrypt),
    C_EncryptUpdate: Some(C_EncryptUpdate),
    C_EncryptFinal: Some(C_EncryptFinal),
    C_DecryptInit: Some(C_DecryptInit),
    C_Decrypt: Some(C_Decrypt),
    C_DecryptUpdate: Some(C_DecryptUpdate),
    C_DecryptFinal: Some(C_DecryptFinal),
    C_DigestInit: Some(C_DigestInit),
    C_Digest: Some(C_Digest),
    C_DigestUpdate: Some(C_DigestUpdate),
    C_DigestKey: Some(C_DigestKey),
    C_DigestFinal: Some(C_DigestFinal),
    C_SignInit: Some(C_SignInit),
    C_Sign: Some(C_Sign),
    C_SignUpdate: Some(C_SignUpdate),
    C_SignFinal: Some(C_SignFinal),
    C_SignRecoverInit: Some(C_SignRecoverInit),
    C_SignRecover: Some(C_SignRecover),
    C_VerifyInit: Some(C_VerifyInit),
    C_Verify: Some(C_Verify),
    C_VerifyUpdate: Some(C_VerifyUpdate),
    C_VerifyFinal: Some(C_VerifyFinal),
    C_VerifyRecoverInit: Some(C_VerifyRecoverInit),
    C_VerifyRecover: Some(C_VerifyRecover),
    C_DigestEncryptUpdate: Some(C_DigestEncryptUpdate),
    C_DecryptDigestUpdate: Some(C_DecryptDigestUpdate),
    C_SignEncryptUpdate: Some(C_SignEncryptUpdate),
    C_DecryptVerifyUpdate: Some(C_DecryptVerifyUpdate),
    C_GenerateKey: Some(C_GenerateKey),
    C_GenerateKeyPair: Some(C_GenerateKeyPair),
    C_WrapKey: Some(C_WrapKey),
    C_UnwrapKey: Some(C_UnwrapKey),
    C_DeriveKey: Some(C_DeriveKey),
    C_SeedRandom: Some(C_SeedRandom),
    C_GenerateRandom: Some(C_GenerateRandom),
    C_GetFunctionStatus: Some(C_GetFunctionStatus),
    C_CancelFunction: Some(C_CancelFunction),
    C_WaitForSlotEvent: Some(C_WaitForSlotEvent),
};

static FUNCTION_LIST_3_0: CK_FUNCTION_LIST_3_0 = CK_FUNCTION_LIST_3_0 {
    version: CK_VERSION { major: 3, minor: 0 },
    C_Initialize: Some(C_Initialize),
    C_Finalize: Some(C_Finalize),
    C_GetInfo: Some(C_GetInfo),
    C_GetFunctionList: Some(C_GetFunctionList),
    C_GetSlotList: Some(C_GetSlotList),
    C_GetSlotInfo: Some(C_GetSlotInfo),
    C_GetTokenInfo: Some(C_GetTokenInfo),
    C_GetMechanismList: Some(C_GetMechanismList),
    C_GetMechanismInfo: Some(C_GetMechanismInfo),
    C_InitToken: Some(C_InitToken),
    C_InitPIN: Some(C_InitPIN),
    C_SetPIN: Some(C_SetPIN),
    C_OpenSession: Some(C_OpenSession),
    C_CloseSession: Some(C_CloseSession),
    C_CloseAllSessions: Some(C_CloseAllSessions),
    C_GetSessionInfo: Some(C_GetSessionInfo),
    C_GetOperationState: Some(C_GetOperationState),
    C_SetOperationState: Some(C_SetOperationState),
    C_Login: Some(C_Login),
    C_Logout: Some(C_Logout),
    C_CreateObject: Some(C_CreateObject),
    C_CopyObject: Some(C_CopyObject),
    C_DestroyObject: Some(C_DestroyObject),
    C_GetObjectSize: Some(C_GetObjectSize),
    C_GetAttributeValue: Some(C_GetAttributeValue),
    C_SetAttributeValue: Some(C_SetAttributeValue),
    C_FindObjectsInit: Some(C_FindObjectsInit),
    C_FindObjects: Some(C_FindObjects),
    C_FindObjectsFinal: Some(C_FindObjectsFinal),
    C_EncryptInit: Some(C_EncryptInit),
    C_Encrypt: Some(C_Encrypt),
    C_EncryptUpdate: Some(C_EncryptUpdate),
    C_EncryptFinal: Some(C_EncryptFinal),
    C_DecryptInit: Some(C_DecryptInit),
    C_Decrypt: Some(C_Decrypt),
    C_DecryptUpdate: Some(C_DecryptUpdate),
    C_DecryptFinal: Some(C_DecryptFinal),
    C_DigestInit: Some(C_DigestInit),
    C_Digest: Some(C_Digest),
    C_DigestUpdate: Some(C_DigestUpdate),
    C_DigestKey: Some(C_DigestKey),
    C_DigestFinal: Some(C_DigestFinal),
    C_SignInit: Some(C_SignInit),
    C_Sign: Some(C_Sign),
    C_SignUpdate: Some(C_SignUpdate),
    C_SignFinal: Some(C_SignFinal),
    C_SignRecoverInit: Some(C_SignRecoverInit),
    C_SignRecover: Some(C_SignRecover),
    C_VerifyInit: Some(C_VerifyInit),
    C_Verify: Some(C_Verify),
    C_VerifyUpdate: Some(C_VerifyUpdate),
    C_VerifyFinal: Some(C_VerifyFinal),
    C_VerifyRecoverInit: Some(C_VerifyRecoverInit),
    C_VerifyRecover: Some(C_VerifyRecover),
    C_DigestEncryptUpdate: Some(C_DigestEncryptUpdate),
    C_DecryptDigestUpdate: Some(C_DecryptDigestUpdate),
    C_SignEncryptUpdate: Some(C_SignEncryptUpdate),
    C_DecryptVerifyUpdate: Some(C_DecryptVerifyUpdate),
    C_GenerateKey: Some(C_GenerateKey),
    C_GenerateKeyPair: Some(C_GenerateKeyPair),
    C_WrapKey: Some(C_WrapKey),
    C_UnwrapKey: Some(C_UnwrapKey),
    C_DeriveKey: Some(C_DeriveKey),
    C_SeedRandom: Some(C_SeedRandom),
    C_GenerateRandom: Some(C_GenerateRandom),
    C_GetFunctionStatus: Some(C_GetFunctionStatus),
    C_CancelFunction: Some(C_CancelFunction),
    C_WaitForSlotEvent: Some(C_WaitForSlotEvent),
    C_GetInterfaceList: Some(C_GetInterfaceList),
    C_GetInterface: Some(C_GetInterface),
    C_LoginUser: Some(C_LoginUser),
    C_SessionCancel: Some(C_SessionCancel),
    C_MessageEncryptInit: Some(C_MessageEncryptInit),
    C_EncryptMessage: Some(C_EncryptMessage),
    C_EncryptMessageBegin: Some(C_EncryptMessageBegin),
    C_EncryptMessageNext: Some(C_EncryptMessageNext),
    C_MessageEncryptFinal: Some(C_MessageEncryptFinal),
    C_MessageDecryptInit: Some(C_MessageDecryptInit),
    C_DecryptMessage: Some(C_DecryptMessage),
    C_DecryptMessageBegin: Some(C_DecryptMessageBegin),
    C_DecryptMessageNext: Some(C_DecryptMessageNext),
    C_MessageDecryptFinal: Some(C_MessageDecryptFinal),
    C_MessageSignInit: Some(C_MessageSignInit),
    C_SignMessage: Some(C_SignMessage),
    C_SignMessageBegin: Some(C_SignMessageBegin),
    C_SignMessageNext: Some(C_SignMessageNext),
    C_MessageSignFinal: Some(C_MessageSignFinal),
    C_MessageVerifyInit: Some(C_MessageVerifyInit),
    C_VerifyMessage: Some(C_VerifyMessage),
    C_VerifyMessageBegin: Some(C_VerifyMessageBegin),
    C_VerifyMessageNext: Some(C_VerifyMessageNext),
    C_MessageVerifyFinal: Some(C_MessageVerifyFinal),
};

/// The interface name of both function lists, NUL-terminated.
static INTERFACE_NAME: &[u8; 8] = b"PKCS 11\0";

/// The interfaces, newest first.
const fn interfaces() -> [CK_INTERFACE; 2] {
    [
        CK_INTERFACE {
            pInterfaceName: INTERFACE_NAME.as_ptr().cast_mut(),
            pFunctionList: std::ptr::from_ref(&FUNCTION_LIST_3_0)
                .cast_mut()
                .cast::<c_void>(),
            flags: 0,
        },
        CK_INTERFACE {
            pInterfaceName: INTERFACE_NAME.as_ptr().cast_mut(),
            pFunctionList: std::ptr::from_ref(&FUNCTION_LIST_2_40)
                .cast_mut()
                .cast::<c_void>(),
            flags: 0,
        },
    ]
}

/// Where `C_GetInterface` hands out an interface: it must outlive the call, so the
/// interfaces live in statics. `CK_INTERFACE` holds raw pointers and so is not `Sync`.
struct Interfaces([CK_INTERFACE; 2]);

// SAFETY: the pointers in the table point to immutable statics (the name and the function
// lists) and are never written through; sharing them between threads is sound.
unsafe impl Sync for Interfaces {}

static INTERFACES: Interfaces = Interfaces(interfaces());

/// `C_GetInterface` (v3.0 5.4.6): the named interface (`"PKCS 11"`, or the default for a null
/// name) of the given version (or the newest), with at least the given flags.
fn get_interface(
    name: CStrIn,
    version: In<CK_VERSION>,
    out: Out<*mut CK_INTERFACE>,
    flags: CK_FLAGS,
) -> Result<()> {
    out.required()?;
    if let Some(n) = name.read()?
        && n != &INTERFACE_NAME[..INTERFACE_NAME.len() - 1]
    {
        return Err(Rv(CKR_ARGUMENTS_BAD));
    }
    let table = &INTERFACES;
    let wanted = version.read();
    let found = table.0.iter().find(|i| {
        // SAFETY: every `pFunctionList` of the table points to a function list static, whose
        // first field is its `CK_VERSION`.
        let v = unsafe { i.pFunctionList.cast::<CK_VERSION>().read() };
        wanted.is_none_or(|w| w.major == v.major && w.minor == v.minor) && i.flags & flags == flags
    });
    match found {
        Some(i) => out.write(std::ptr::from_ref(i).cast_mut()),
        None => Err(Rv(CKR_ARGUMENTS_BAD)),
    }
}
