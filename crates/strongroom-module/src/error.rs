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
}

impl Error {
    /// An error with a return code and a human-readable explanation.
    pub fn new(code: RetCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            message: message.into(),
        }
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
    pub(crate) fn container_storage(msg: impl Into<Msg>) -> Error {
        Error::new(ret::SR_RET_CONTAINER_OBJECT_STORAGE_FULL, msg)
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
