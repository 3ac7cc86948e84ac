//! The module's one error type: a module return code (`SR_RET_*`, with the meaning and value of
//! the reference's return-code table) plus a message for the person at the console.
//!
//! The code maps to a PKCS#11 `CKR_*` value through the shared table in `strongroom-proto`.
//! Messages never contain secrets: a wrong password is reported the same way whatever part of
//! it was wrong.

use std::borrow::Cow;
use std::fmt;

use strongroom_proto::{Ckr, RetCode};

/// A refused or failed module operation.
pub struct Error {
    code: RetCode,
    message: Cow<'static, str>,
    /// For `CKR_BUFFER_TOO_SMALL`: the output length the caller must provide.
    needed: Option<usize>,
}

impl Error {
    /// An error with a return code and a human-readable explanation.
    pub fn new(code: RetCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            message: message.into(),
            needed: None,
        }
    }

    /// `CKR_BUFFER_TOO_SMALL`: the output needs `needed` bytes. The operation stays active.
    pub(crate) fn buffer_too_small(needed: usize) -> Self {
        Self {
            code: strongroom_proto::ret::SR_RET_BUFFER_TOO_SMALL,
            message: format!("the output buffer is too small: {needed} bytes are needed").into(),
            needed: Some(needed),
        }
    }

    /// For `CKR_BUFFER_TOO_SMALL`, the output length the caller must provide (the PKCS#11
    /// convention: the caller retries with a buffer of this size).
    pub fn needed_len(&self) -> Option<usize> {
        self.needed
    }

    /// The module return code.
    pub fn code(&self) -> RetCode {
        self.code
    }

    /// The PKCS#11 return value an application sees for this error.
    pub fn ckr(&self) -> Ckr {
        self.code.ckr()
    }

    /// The explanation, without the code.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({:?}, {:?})", self.code, self.message)
    }
}

impl std::error::Error for Error {}

impl From<strongroom_store::Error> for Error {
    fn from(err: strongroom_store::Error) -> Self {
        e::store(&err)
    }
}

/// Constructors naming the return code of each situation, so that every code choice is made in
/// this one place.
pub(crate) mod e {
    use std::borrow::Cow;

    use strongroom_proto::ret;

    use super::Error;

    type Msg = Cow<'static, str>;

    pub(crate) fn internal(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_GENERAL_ERROR, msg)
    }
    pub(crate) fn rng_failure() -> Error {
        Error::new(ret::SR_RET_RNG_ERROR, "the random number generator failed")
    }
    pub(crate) fn invalid_label(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_DATA_INVALID, msg)
    }
    pub(crate) fn pin_len_range(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_UM_PIN_LEN_RANGE, msg)
    }
    pub(crate) fn pin_invalid(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_UM_PIN_INVALID, msg)
    }
    pub(crate) fn domain_invalid(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_DATA_INVALID, msg)
    }
    pub(crate) fn partition_name_invalid(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_DATA_INVALID, msg)
    }
    pub(crate) fn arguments_bad(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_ARGUMENTS_BAD, msg)
    }
    pub(crate) fn pin_incorrect() -> Error {
        Error::new(ret::SR_RET_UM_PIN_INCORRECT, "the password is incorrect")
    }
    pub(crate) fn so_threshold() -> Error {
        Error::new(
            ret::SR_RET_SO_LOGIN_FAILURE_THRESHOLD,
            "three consecutive failed HSM SO logins: the HSM has been zeroized",
        )
    }
    pub(crate) fn not_logged_in() -> Error {
        Error::new(
            ret::SR_RET_USER_NOT_LOGGED_IN,
            "the HSM SO must be logged in",
        )
    }
    pub(crate) fn already_logged_in() -> Error {
        Error::new(
            ret::SR_RET_USER_ALREADY_LOGGED_IN,
            "the HSM SO is already logged in",
        )
    }
    pub(crate) fn not_initialized() -> Error {
        Error::new(
            ret::SR_RET_HSM_NOT_INITIALIZED,
            "the HSM is not initialized (run 'hsm init')",
        )
    }
    pub(crate) fn restricted(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_OPERATION_RESTRICTED, msg)
    }
    pub(crate) fn in_transport() -> Error {
        Error::new(
            ret::SR_RET_OPERATION_RESTRICTED,
            "the HSM is in Secure Transport Mode (recover it with 'hsm stm recover')",
        )
    }
    pub(crate) fn tampered() -> Error {
        Error::new(
            ret::SR_RET_HSM_TAMPERED,
            "the HSM is halted by a tamper event (see 'hsm tamper show')",
        )
    }
    pub(crate) fn integrity_halt() -> Error {
        Error::new(
            ret::SR_RET_SDI_HALTED,
            "the HSM is halted: stored data integrity check failed (only 'hsm factoryreset' recovers)",
        )
    }
    pub(crate) fn integrity_missing(what: &str) -> Error {
        Error::new(
            ret::SR_RET_SDI_HALTED,
            format!("stored data integrity check failed: {what}"),
        )
    }
    pub(crate) fn partition_serial_unknown(serial: u64) -> Error {
        Error::new(
            ret::SR_RET_CONTAINER_HANDLE_INVALID,
            format!("no partition with serial {serial}"),
        )
    }
    pub(crate) fn role_not_logged_in() -> Error {
        Error::new(
            ret::SR_RET_USER_NOT_LOGGED_IN,
            "no partition role is logged in",
        )
    }
    pub(crate) fn role_not_allowed(msg: impl Into<Msg>) -> Error {
        let msg: Msg = msg.into();
        Error::new(
            ret::SR_RET_SM_ACCESS_DOES_NOT_VALIDATE,
            format!("this role may not do that ({msg})"),
        )
    }
    pub(crate) fn pin_expired() -> Error {
        Error::new(
            ret::SR_RET_SM_PIN_EXPIRED,
            "the role's credential must be changed first ('role changepw')",
        )
    }
    pub(crate) fn role_pin_required(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_ARGUMENTS_BAD, msg)
    }
    pub(crate) fn role_already_logged_in() -> Error {
        Error::new(
            ret::SR_RET_USER_ALREADY_LOGGED_IN,
            "the role is already logged in",
        )
    }
    pub(crate) fn other_role_logged_in(current: &str) -> Error {
        Error::new(
            ret::SR_RET_SM_OTHER_USER_LOGGED_IN,
            format!("the {current} is logged in; log out first"),
        )
    }
    pub(crate) fn role_not_initialized(role: &str) -> Error {
        Error::new(
            ret::SR_RET_USER_PIN_NOT_INITIALIZED,
            format!("the {role} role is not initialized"),
        )
    }
    pub(crate) fn role_locked(role: &str) -> Error {
        Error::new(
            ret::SR_RET_CONTAINER_LOCKED,
            format!("the {role} is locked out"),
        )
    }
    pub(crate) fn pin_incorrect_role_locked(role: &str) -> Error {
        Error::new(
            ret::SR_RET_UM_PIN_INCORRECT_CONTAINER_LOCKED,
            format!("the password is incorrect; the {role} is now locked out"),
        )
    }
    pub(crate) fn pin_incorrect_partition_zeroized() -> Error {
        Error::new(
            ret::SR_RET_UM_PIN_INCORRECT_CONTAINER_ZEROIZED,
            "the password is incorrect; too many failures: the partition has been zeroized",
        )
    }
    pub(crate) fn policy_id_invalid(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_RM_ELEMENT_ID_INVALID, msg)
    }
    pub(crate) fn policy_value_invalid(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_RM_ELEMENT_VALUE_INVALID, msg)
    }
    pub(crate) fn policy_illegal(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_RM_CONFIG_CHANGE_ILLEGAL, msg)
    }
    pub(crate) fn policy_dependencies(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_RM_CONFIG_CHANGE_FAILS_DEPENDENCIES, msg)
    }
    pub(crate) fn template_invalid(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_RM_CONFIG_ILLEGAL, msg)
    }
    pub(crate) fn partition_exists(name: &str) -> Error {
        Error::new(
            ret::SR_RET_OH_OBJECT_ALREADY_EXISTS,
            format!("a partition named {name:?} already exists"),
        )
    }
    pub(crate) fn partition_not_found(name: &str) -> Error {
        Error::new(
            ret::SR_RET_CONTAINER_HANDLE_INVALID,
            format!("no partition named {name:?}"),
        )
    }
    pub(crate) fn licence_exceeded(max: u32) -> Error {
        Error::new(
            ret::SR_RET_LICENSE_CAPACITY_EXCEEDED,
            format!("the licensed maximum of {max} partitions has been reached"),
        )
    }
    pub(crate) fn too_many_partitions(max: u32) -> Error {
        Error::new(
            ret::SR_RET_TOO_MANY_CONTAINERS,
            format!("policy 33 allows at most {max} partitions"),
        )
    }
    pub(crate) fn hsm_storage_full(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_HSM_STORAGE_FULL, msg)
    }
    /// The partition's storage cannot hold what is asked (objects that do not fit, or a
    /// resize below what its objects use): `CKR_DEVICE_MEMORY`, the one code for both (the
    /// object engine's `storage_full` uses the same), nothing written.
    pub(crate) fn partition_memory(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_MM_NOT_ENOUGH_MEMORY, msg)
    }
    pub(crate) fn mechanism_invalid(ckm: u64) -> Error {
        Error::new(
            ret::SR_RET_MECHANISM_INVALID,
            format!("mechanism 0x{ckm:08X} is not offered here"),
        )
    }
    pub(crate) fn mechanism_param_invalid(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_MECHANISM_PARAM_INVALID, msg)
    }
    // ----- the audit log -----

    pub(crate) fn log_full() -> Error {
        Error::new(
            ret::SR_RET_LOG_FULL,
            "the HSM's audit log space is full: the Auditor must let the log rotate out \
             (configure it, or clear the appliance's audit files)",
        )
    }
    pub(crate) fn log_bad_record(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_LOG_BAD_RECORD_HMAC, msg)
    }
    pub(crate) fn audit_not_initialized() -> Error {
        Error::new(
            ret::SR_RET_LOG_AUDIT_NOT_INITIALIZED,
            "the Auditor role is not initialized (run 'audit init')",
        )
    }
    pub(crate) fn auditor_not_logged_in() -> Error {
        Error::new(
            ret::SR_RET_USER_NOT_LOGGED_IN,
            "the Auditor must be logged in ('audit login')",
        )
    }
    pub(crate) fn audit_login_threshold() -> Error {
        Error::new(
            ret::SR_RET_AUDIT_LOGIN_FAILURE_THRESHOLD,
            "three consecutive failed Auditor logins: the Auditor is locked out for 30 seconds",
        )
    }
    pub(crate) fn audit_login_timeout() -> Error {
        Error::new(
            ret::SR_RET_AUDIT_LOGIN_TIMEOUT_IN_PROGRESS,
            "the Auditor is locked out after failed logins; try again later",
        )
    }
    pub(crate) fn log_no_kcv(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_LOG_NO_KCV, msg)
    }
    pub(crate) fn data_invalid(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_DATA_INVALID, msg)
    }

    // ----- sessions, objects and operations (the token layer) -----

    pub(crate) fn session_handle_invalid() -> Error {
        Error::new(ret::SR_RET_SM_SESSION_HANDLE_INVALID, "no such session")
    }
    pub(crate) fn session_count() -> Error {
        Error::new(ret::SR_RET_SESSION_COUNT, "too many open sessions")
    }
    pub(crate) fn session_read_only() -> Error {
        Error::new(
            ret::SR_RET_SESSION_READ_ONLY,
            "a read-only session cannot change token objects",
        )
    }
    pub(crate) fn session_read_only_exists() -> Error {
        Error::new(
            ret::SR_RET_SESSION_READ_ONLY_EXISTS,
            "the Partition SO cannot log in while a read-only session is open",
        )
    }
    pub(crate) fn session_read_write_so_exists() -> Error {
        Error::new(
            ret::SR_RET_SESSION_READ_WRITE_SO_EXISTS,
            "no read-only session while the Partition SO is logged in",
        )
    }
    pub(crate) fn user_not_logged_in(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_USER_NOT_LOGGED_IN, msg)
    }
    pub(crate) fn operation_active() -> Error {
        Error::new(
            ret::SR_RET_OPERATION_ACTIVE,
            "an operation of this kind is already active in the session",
        )
    }
    pub(crate) fn operation_active_multi_part() -> Error {
        Error::new(
            ret::SR_RET_OPERATION_ACTIVE,
            "a multi-part operation is active: finish it with the final call",
        )
    }
    pub(crate) fn operation_not_initialized() -> Error {
        Error::new(
            ret::SR_RET_OPERATION_NOT_INITIALIZED,
            "no operation of this kind is active in the session",
        )
    }
    pub(crate) fn function_not_supported(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_FUNCTION_NOT_SUPPORTED, msg)
    }
    pub(crate) fn key_handle_invalid(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_KEY_HANDLE_INVALID, msg)
    }
    pub(crate) fn key_function_not_permitted(attr: &str) -> Error {
        Error::new(
            ret::SR_RET_KEY_FUNCTION_NOT_PERMITTED,
            format!("the key's {attr} is false"),
        )
    }
    pub(crate) fn key_type_inconsistent(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_KEY_TYPE_INCONSISTENT, msg)
    }
    pub(crate) fn key_size_range() -> Error {
        Error::new(
            ret::SR_RET_KEY_SIZE_RANGE,
            "the key size is outside the mechanism's range",
        )
    }
    pub(crate) fn key_unextractable() -> Error {
        Error::new(
            ret::SR_RET_KEY_UNEXTRACTABLE,
            "the key's CKA_EXTRACTABLE is false",
        )
    }
    pub(crate) fn key_not_wrappable(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_KEY_NOT_WRAPPABLE, msg)
    }
    pub(crate) fn key_not_unwrappable(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_KEY_NOT_UNWRAPPABLE, msg)
    }
    pub(crate) fn wrapping_key_handle_invalid() -> Error {
        Error::new(
            ret::SR_RET_WRAPPING_KEY_HANDLE_INVALID,
            "no such wrapping key",
        )
    }
    pub(crate) fn wrapping_key_type_inconsistent() -> Error {
        Error::new(
            ret::SR_RET_WRAPPING_KEY_TYPE_INCONSISTENT,
            "the wrapping key does not fit the mechanism",
        )
    }
    pub(crate) fn wrapping_key_size_range() -> Error {
        Error::new(
            ret::SR_RET_WRAPPING_KEY_SIZE_RANGE,
            "the wrapping key size is outside the mechanism's range",
        )
    }
    pub(crate) fn unwrapping_key_handle_invalid() -> Error {
        Error::new(
            ret::SR_RET_UNWRAPPING_KEY_HANDLE_INVALID,
            "no such unwrapping key",
        )
    }
    pub(crate) fn unwrapping_key_type_inconsistent() -> Error {
        Error::new(
            ret::SR_RET_UNWRAPPING_KEY_TYPE_INCONSISTENT,
            "the unwrapping key does not fit the mechanism",
        )
    }
    pub(crate) fn unwrapping_key_size_range() -> Error {
        Error::new(
            ret::SR_RET_UNWRAPPING_KEY_SIZE_RANGE,
            "the unwrapping key size is outside the mechanism's range",
        )
    }
    pub(crate) fn wrapped_key_invalid() -> Error {
        Error::new(
            ret::SR_RET_WRAPPED_KEY_INVALID,
            "the wrapped key is invalid",
        )
    }
    pub(crate) fn wrapped_key_len_range() -> Error {
        Error::new(
            ret::SR_RET_WRAPPED_KEY_LEN_RANGE,
            "the wrapped key's length is invalid for the mechanism",
        )
    }
    pub(crate) fn data_len_range() -> Error {
        Error::new(
            ret::SR_RET_DATA_LEN_RANGE,
            "the input length is invalid for the mechanism",
        )
    }
    pub(crate) fn encrypted_data_invalid() -> Error {
        Error::new(
            ret::SR_RET_ENCRYPTED_DATA_INVALID,
            "the encrypted data is invalid",
        )
    }
    pub(crate) fn encrypted_data_len_range() -> Error {
        Error::new(
            ret::SR_RET_ENCRYPTED_DATA_LEN_RANGE,
            "the encrypted data's length is invalid for the mechanism",
        )
    }
    pub(crate) fn signature_invalid() -> Error {
        Error::new(ret::SR_RET_SIGNATURE_INVALID, "the signature is invalid")
    }
    pub(crate) fn signature_len_range() -> Error {
        Error::new(
            ret::SR_RET_SIGNATURE_LEN_RANGE,
            "the signature's length is wrong for the key and mechanism",
        )
    }
    pub(crate) fn attribute_value_invalid(ty: u64, why: &str) -> Error {
        crate::object::error::value_invalid(ty, why)
    }
    pub(crate) fn template_incomplete(ty: u64) -> Error {
        crate::object::error::incomplete(ty)
    }
    pub(crate) fn template_inconsistent(ty: u64, why: &str) -> Error {
        crate::object::error::inconsistent(ty, why)
    }
    pub(crate) fn curve_not_supported() -> Error {
        Error::new(
            ret::SR_RET_CURVE_NOT_SUPPORTED,
            "the curve is not supported (P-256, P-384, P-521, Ed25519, X25519 are)",
        )
    }

    /// What a cryptographic call was doing, to name a provider error's code.
    #[derive(Clone, Copy, PartialEq, Eq)]
    pub(crate) enum Doing {
        Encrypt,
        Decrypt,
        Sign,
        Verify,
        Wrap,
        Unwrap,
        Derive,
        Generate,
    }

    /// The code of a crypto-provider error in the call that was `doing` something.
    pub(crate) fn crypto(err: strongroom_crypto::Error, doing: Doing) -> Error {
        use strongroom_crypto::Error as C;
        match (err, doing) {
            (C::BufferTooSmall { needed }, _) => Error::buffer_too_small(needed),
            (C::Rejected, Doing::Verify) => signature_invalid(),
            (C::Rejected, Doing::Unwrap) => wrapped_key_invalid(),
            (C::Rejected, _) => encrypted_data_invalid(),
            (C::DataLength, Doing::Decrypt) => encrypted_data_len_range(),
            (C::DataLength, Doing::Unwrap) => wrapped_key_len_range(),
            (C::DataLength, Doing::Verify) => signature_len_range(),
            (C::DataLength, Doing::Wrap) => key_size_range(),
            (C::DataLength, _) => data_len_range(),
            (C::Parameter, _) => mechanism_param_invalid("the provider refused a parameter"),
            (C::KeySize, _) => key_size_range(),
            (C::KeyInvalid, _) => key_type_inconsistent("the key does not fit the mechanism"),
            (C::OperationState, _) => {
                function_not_supported("this mechanism has no multi-part form")
            }
            (C::Random, _) => rng_failure(),
            (_, _) => Error::new(ret::SR_RET_DEVICE_ERROR, "the cryptographic library failed"),
        }
    }

    pub(crate) fn store(err: &strongroom_store::Error) -> Error {
        use strongroom_store::Error as S;
        match err {
            S::Integrity { .. } => integrity_halt(),
            S::StorageFull => Error::new(
                ret::SR_RET_MM_NOT_ENOUGH_MEMORY,
                "the appliance's disk is full: nothing was changed",
            ),
            other => Error::new(
                ret::SR_RET_DEVICE_ERROR,
                format!("storage failure: {other}"),
            ),
        }
    }
}
