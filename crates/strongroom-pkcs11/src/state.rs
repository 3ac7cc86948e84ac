//! The library's global state (initialized or not, in which process) and the wrapper every
//! entry point runs in.
//!
//! `C_Initialize` records the process id with the client. A process made by `fork` finds a
//! different id and is treated as not initialized (`CKR_CRYPTOKI_NOT_INITIALIZED`) until it
//! calls `C_Initialize` itself; the parent's client is then abandoned without being dropped,
//! because dropping it would close TLS connections that the parent still uses.
//!
//! The state lock is held only to read or swap the `Arc` of the client, never across I/O.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use cryptoki_sys::{
    CK_RV, CKR_CRYPTOKI_ALREADY_INITIALIZED, CKR_CRYPTOKI_NOT_INITIALIZED, CKR_GENERAL_ERROR,
    CKR_OK,
};
use strongroom_client::Client;

/// A PKCS#11 return value other than `CKR_OK`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rv(pub(crate) CK_RV);

/// The result of an entry point's body.
pub(crate) type Result<T> = std::result::Result<T, Rv>;

impl From<strongroom_client::Error> for Rv {
    fn from(e: strongroom_client::Error) -> Self {
        Rv(crate::conv::to_ck_ulong(e.ckr().value()).unwrap_or(CKR_GENERAL_ERROR))
    }
}

struct Global {
    pid: u32,
    client: Arc<Client>,
}

static STATE: Mutex<Option<Global>> = Mutex::new(None);

fn state() -> MutexGuard<'static, Option<Global>> {
    // The guarded value is replaced whole; a panic cannot leave it half-written.
    STATE.lock().unwrap_or_else(|p| p.into_inner())
}

/// The client, if this process initialized the library.
pub(crate) fn client() -> Result<Arc<Client>> {
    match &*state() {
        Some(g) if g.pid == std::process::id() => Ok(g.client.clone()),
        _ => Err(Rv(CKR_CRYPTOKI_NOT_INITIALIZED)),
    }
}

/// Whether this process initialized the library.
pub(crate) fn initialized() -> Result<()> {
    client().map(|_| ())
}

/// Installs `client` (`C_Initialize`).
pub(crate) fn install(client: Client) -> Result<()> {
    let mut g = state();
    let pid = std::process::id();
    if let Some(old) = g.take() {
        if old.pid == pid {
            *g = Some(old);
            return Err(Rv(CKR_CRYPTOKI_ALREADY_INITIALIZED));
        }
        // Inherited through fork: the sockets are the parent's.
        std::mem::forget(old);
    }
    *g = Some(Global {
        pid,
        client: Arc::new(client),
    });
    Ok(())
}

/// Removes the client (`C_Finalize`), closing its sessions and connections.
pub(crate) fn uninstall() -> Result<()> {
    let old = {
        let mut g = state();
        match g.take() {
            Some(old) if old.pid == std::process::id() => old,
            Some(inherited) => {
                std::mem::forget(inherited);
                return Err(Rv(CKR_CRYPTOKI_NOT_INITIALIZED));
            }
            None => return Err(Rv(CKR_CRYPTOKI_NOT_INITIALIZED)),
        }
    };
    old.client.close_everything();
    Ok(())
}

/// Whether `STRONGROOM_PKCS11_LOG` asks for a line per failed call on standard error.
fn logging() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("STRONGROOM_PKCS11_LOG").is_some_and(|v| !v.is_empty()))
}

/// Runs an entry point's body: a panic becomes `CKR_GENERAL_ERROR` and never unwinds into
/// the caller. With logging on, failures are written as the function name and the return
/// value (never arguments: they may be PINs, keys or data).
pub(crate) fn entry(name: &'static str, body: impl FnOnce() -> Result<()>) -> CK_RV {
    let rv = match std::panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => CKR_OK,
        Ok(Err(Rv(rv))) => rv,
        Err(_) => CKR_GENERAL_ERROR,
    };
    if rv != CKR_OK && logging() {
        let code = strongroom_client::Ckr::from_u64(crate::conv::ul(rv));
        eprintln!("strongroom-pkcs11: {name} -> {} ({rv:#x})", code.name());
    }
    rv
}
