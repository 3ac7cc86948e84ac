//! Session management (v3.0 section 5.6): sessions, login and logout.
//!
//! The session and login state machine (read-only and read/write sessions, one role logged in
//! per token for the whole application, `CKR_USER_ALREADY_LOGGED_IN`,
//! `CKR_SESSION_READ_ONLY_EXISTS`...) is the appliance's: the application's sessions all
//! travel on one connection, to which the appliance ties them and the login.

use cryptoki_sys::{
    CK_FLAGS, CK_SESSION_HANDLE, CK_SESSION_INFO, CK_SLOT_ID, CK_USER_TYPE, CKF_FIND_OBJECTS,
    CKF_RW_SESSION, CKF_SERIAL_SESSION, CKR_OPERATION_CANCEL_FAILED,
    CKR_SESSION_PARALLEL_NOT_SUPPORTED, CKR_USER_TYPE_INVALID, CKU_CONTEXT_SPECIFIC, CKU_SO,
    CKU_USER,
};
use strongroom_client::messages::{
    CKU_CRYPTO_USER, CKU_LIMITED_CRYPTO_OFFICER, FindObjectsFinalRequest, FindObjectsFinalResponse,
};

use super::{ARGUMENTS_BAD, client, fail, not_supported_on};
use crate::conv::{ck, ul};
use crate::ffi::{InBytes, Out, OutBytes};
use crate::state::{Result, Rv};

/// `C_OpenSession` (5.6.1). Notification callbacks are accepted and never called.
pub(crate) fn open_session(
    slot: CK_SLOT_ID,
    flags: CK_FLAGS,
    out: Out<CK_SESSION_HANDLE>,
) -> Result<()> {
    let c = client()?;
    out.required()?;
    c.slot(ul(slot))?;
    if flags & CKF_SERIAL_SESSION == 0 {
        return fail(CKR_SESSION_PARALLEL_NOT_SUPPORTED);
    }
    let h = c.open_session(ul(slot), flags & CKF_RW_SESSION != 0)?;
    out.write(ck(h)?)
}

/// `C_CloseSession` (5.6.2).
pub(crate) fn close_session(session: u64) -> Result<()> {
    client()?.close_session(session)?;
    Ok(())
}

/// `C_CloseAllSessions` (5.6.3).
pub(crate) fn close_all_sessions(slot: CK_SLOT_ID) -> Result<()> {
    client()?.close_all_sessions(ul(slot))?;
    Ok(())
}

/// `C_GetSessionInfo` (5.6.4).
pub(crate) fn get_session_info(session: u64, out: Out<CK_SESSION_INFO>) -> Result<()> {
    let c = client()?;
    c.session_slot(session)?;
    out.required()?;
    let i = c.session_info(session)?;
    out.write(CK_SESSION_INFO {
        slotID: ck(i.slot)?,
        state: ck(i.state)?,
        flags: ck(i.flags)?,
        ulDeviceError: 0,
    })
}

/// `C_SessionCancel` (v3.0 5.6.5): a find operation is ended; other operations cannot be
/// cancelled on the appliance yet (`CKR_OPERATION_CANCEL_FAILED`).
pub(crate) fn session_cancel(session: u64, flags: CK_FLAGS) -> Result<()> {
    let c = client()?;
    c.session_slot(session)?;
    if flags & CKF_FIND_OBJECTS != 0 {
        let r = c.session_call::<_, FindObjectsFinalResponse>(session, |session| {
            FindObjectsFinalRequest { session }
        });
        if let Err(e) = r
            && !matches!(e, strongroom_client::Error::Module { .. })
        {
            return Err(e.into());
        }
    }
    if flags & !CKF_FIND_OBJECTS != 0 {
        return fail(CKR_OPERATION_CANCEL_FAILED);
    }
    Ok(())
}

/// `C_GetOperationState` / `C_SetOperationState` (5.6.6-7): not offered.
pub(crate) fn operation_state(session: u64) -> Result<()> {
    not_supported_on(session)
}

/// The user types this library knows: `CKU_SO` (Partition SO), `CKU_USER` (Crypto Officer),
/// the vendor types Crypto User and Limited Crypto Officer, and `CKU_CONTEXT_SPECIFIC`.
fn check_user_type(user_type: CK_USER_TYPE) -> Result<u64> {
    let t = ul(user_type);
    let known = [
        ul(CKU_SO),
        ul(CKU_USER),
        ul(CKU_CONTEXT_SPECIFIC),
        CKU_CRYPTO_USER,
        CKU_LIMITED_CRYPTO_OFFICER,
    ];
    if known.contains(&t) {
        Ok(t)
    } else {
        Err(Rv(CKR_USER_TYPE_INVALID))
    }
}

/// `C_Login` (5.6.8).
pub(crate) fn login(session: u64, user_type: CK_USER_TYPE, pin: InBytes) -> Result<()> {
    let c = client()?;
    c.session_slot(session)?;
    let t = check_user_type(user_type)?;
    // The protected authentication path (a null PIN) is not offered.
    if pin.is_null() {
        return Err(ARGUMENTS_BAD);
    }
    let pin = pin.secret()?;
    c.login(session, t, &pin)?;
    Ok(())
}

/// The names a role may be given by in `C_LoginUser`, long and short, as the client
/// manager's `role` commands spell them.
fn role_names(user_type: u64) -> &'static [&'static str] {
    match user_type {
        t if t == ul(CKU_SO) => &["Partition SO", "po"],
        t if t == ul(CKU_USER) => &["Crypto Officer", "co"],
        CKU_CRYPTO_USER => &["Crypto User", "cu"],
        CKU_LIMITED_CRYPTO_OFFICER => &["Limited Crypto Officer", "lco"],
        _ => &[],
    }
}

/// `C_LoginUser` (v3.0 5.6.9): partitions have no named users; the user name, if given,
/// must name the role of `user_type` (`Crypto Officer` or `co`...).
pub(crate) fn login_user(
    session: u64,
    user_type: CK_USER_TYPE,
    pin: InBytes,
    username: InBytes,
) -> Result<()> {
    let c = client()?;
    c.session_slot(session)?;
    let t = check_user_type(user_type)?;
    let name = username.get()?;
    if !name.is_empty() {
        let name = std::str::from_utf8(name).map_err(|_| ARGUMENTS_BAD)?;
        if !role_names(t).iter().any(|n| n.eq_ignore_ascii_case(name)) {
            return fail(CKR_USER_TYPE_INVALID);
        }
    }
    login(session, user_type, pin)
}

/// `C_Logout` (5.6.10).
pub(crate) fn logout(session: u64) -> Result<()> {
    let c = client()?;
    c.logout(session)?;
    // The logout ended the operations of the token's sessions.
    c.forget_single_outputs();
    Ok(())
}

/// `C_GetOperationState` with its arguments checked.
pub(crate) fn get_operation_state(session: u64, out: OutBytes) -> Result<()> {
    client()?.session_slot(session)?;
    out.capacity()?;
    operation_state(session)
}
