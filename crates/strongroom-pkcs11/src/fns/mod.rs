//! The PKCS#11 functions, grouped by chapter of the specification (v3.0 section 5): each
//! takes the checked wrappers of its arguments and returns `Result<()>`; `exports.rs` turns
//! them into the C entry points.

pub(crate) mod crypto;
pub(crate) mod general;
pub(crate) mod keys;
pub(crate) mod objects;
pub(crate) mod sessions;
pub(crate) mod slots;

use std::sync::Arc;

use cryptoki_sys::{CK_RV, CKR_ARGUMENTS_BAD, CKR_FUNCTION_NOT_SUPPORTED};
use strongroom_client::Client;

use crate::state::{Result, Rv};

/// The client, or `CKR_CRYPTOKI_NOT_INITIALIZED`.
pub(crate) fn client() -> Result<Arc<Client>> {
    crate::state::client()
}

pub(crate) const ARGUMENTS_BAD: Rv = Rv(CKR_ARGUMENTS_BAD);

/// `CKR_FUNCTION_NOT_SUPPORTED` once the library is initialized (else not initialized).
pub(crate) fn not_supported() -> Result<()> {
    crate::state::initialized()?;
    Err(Rv(CKR_FUNCTION_NOT_SUPPORTED))
}

/// A session-level function the appliance does not offer: the session is checked first.
pub(crate) fn not_supported_on(session: u64) -> Result<()> {
    client()?.session_slot(session)?;
    Err(Rv(CKR_FUNCTION_NOT_SUPPORTED))
}

/// Fails with `rv`.
pub(crate) fn fail(rv: CK_RV) -> Result<()> {
    Err(Rv(rv))
}
