//! General-purpose functions (v3.0 section 5.4): `C_Initialize`, `C_Finalize`, `C_GetInfo`,
//! and `C_WaitForSlotEvent` (slot and token management, 5.5, but stateless here).

use cryptoki_sys::{
    CK_C_INITIALIZE_ARGS, CK_FLAGS, CK_INFO, CK_SLOT_ID, CK_VERSION, CKF_DONT_BLOCK,
    CKF_OS_LOCKING_OK, CKR_CANT_LOCK, CKR_CRYPTOKI_ALREADY_INITIALIZED, CKR_FUNCTION_NOT_SUPPORTED,
    CKR_GENERAL_ERROR, CKR_NO_EVENT,
};
use strongroom_client::{Client, ClientConfig};

use super::ARGUMENTS_BAD;
use crate::conv::padded;
use crate::ffi::{In, Out};
use crate::state::{self, Result, Rv};

/// `C_Initialize` (5.4.1).
pub(crate) fn initialize(args: In<CK_C_INITIALIZE_ARGS>) -> Result<()> {
    if let Some(a) = args.read() {
        if !a.pReserved.is_null() {
            return Err(ARGUMENTS_BAD);
        }
        let given = [
            a.CreateMutex.is_some(),
            a.DestroyMutex.is_some(),
            a.LockMutex.is_some(),
            a.UnlockMutex.is_some(),
        ];
        let all = given.iter().all(|g| *g);
        if !all && given.iter().any(|g| *g) {
            return Err(ARGUMENTS_BAD);
        }
        // Mutex functions without CKF_OS_LOCKING_OK must be used: this library locks with
        // the operating system's primitives only.
        if all && a.flags & CKF_OS_LOCKING_OK == 0 {
            return Err(Rv(CKR_CANT_LOCK));
        }
    }
    if state::initialized().is_ok() {
        return Err(Rv(CKR_CRYPTOKI_ALREADY_INITIALIZED));
    }
    let config = ClientConfig::from_env().map_err(|_| Rv(CKR_GENERAL_ERROR))?;
    state::install(Client::new(config))
}

/// `C_Finalize` (5.4.2).
pub(crate) fn finalize(reserved_is_null: bool) -> Result<()> {
    if !reserved_is_null {
        state::initialized()?;
        return Err(ARGUMENTS_BAD);
    }
    state::uninstall()
}

/// The library version (`CK_INFO.libraryVersion`).
pub(crate) fn library_version() -> CK_VERSION {
    let num = |s: &str| s.parse::<u8>().unwrap_or(0);
    CK_VERSION {
        major: num(env!("CARGO_PKG_VERSION_MAJOR")),
        minor: num(env!("CARGO_PKG_VERSION_MINOR")),
    }
}

/// `C_GetInfo` (5.4.3).
pub(crate) fn get_info(out: Out<CK_INFO>) -> Result<()> {
    state::initialized()?;
    out.write(CK_INFO {
        cryptokiVersion: CK_VERSION { major: 3, minor: 0 },
        manufacturerID: padded("Strongroom"),
        flags: 0,
        libraryDescription: padded("Strongroom PKCS#11 library"),
        libraryVersion: library_version(),
    })
}

/// `C_WaitForSlotEvent` (5.5.x): only the non-blocking form, which has no events to report
/// (slot changes are seen by `C_GetSlotList`).
pub(crate) fn wait_for_slot_event(
    flags: CK_FLAGS,
    slot: Out<CK_SLOT_ID>,
    reserved_is_null: bool,
) -> Result<()> {
    state::initialized()?;
    if !reserved_is_null {
        return Err(ARGUMENTS_BAD);
    }
    slot.required()?;
    if flags & CKF_DONT_BLOCK != 0 {
        Err(Rv(CKR_NO_EVENT))
    } else {
        Err(Rv(CKR_FUNCTION_NOT_SUPPORTED))
    }
}
