//! Key management (v3.0 section 5.14): generation, wrapping, unwrapping and derivation, all
//! in the appliance.

use cryptoki_sys::CK_OBJECT_HANDLE;
use strongroom_client::messages as m;

use super::{ARGUMENTS_BAD, client};
use crate::conv::{ck, ul};
use crate::ffi::{Attrs, InBytes, MechPtr, Out, OutBytes};
use crate::state::Result;

fn mechanism(session: u64, mech: &MechPtr) -> Result<m::MechanismSpec> {
    client()?.session_slot(session)?;
    mech.spec()?.ok_or(ARGUMENTS_BAD)
}

/// `C_GenerateKey` (5.14.1).
pub(crate) fn generate_key(
    session: u64,
    mech: MechPtr,
    template: Attrs,
    out: Out<CK_OBJECT_HANDLE>,
) -> Result<()> {
    let mechanism = mechanism(session, &mech)?;
    out.required()?;
    let t = template.template()?;
    let r: m::GenerateKeyResponse =
        client()?.session_call(session, |session| m::GenerateKeyRequest {
            session,
            mechanism,
            template: t.to_vec(),
        })?;
    out.write(ck(r.key)?)
}

/// `C_GenerateKeyPair` (5.14.2).
pub(crate) fn generate_key_pair(
    session: u64,
    mech: MechPtr,
    public: Attrs,
    private: Attrs,
    out_public: Out<CK_OBJECT_HANDLE>,
    out_private: Out<CK_OBJECT_HANDLE>,
) -> Result<()> {
    let mechanism = mechanism(session, &mech)?;
    out_public.required()?;
    out_private.required()?;
    let (pt, st) = (public.template()?, private.template()?);
    let r: m::GenerateKeyPairResponse =
        client()?.session_call(session, |session| m::GenerateKeyPairRequest {
            session,
            mechanism,
            public_template: pt.to_vec(),
            private_template: st.to_vec(),
        })?;
    out_public.write(ck(r.public_key)?)?;
    out_private.write(ck(r.private_key)?)
}

/// `C_WrapKey` (5.14.3).
pub(crate) fn wrap_key(
    session: u64,
    mech: MechPtr,
    wrapping_key: CK_OBJECT_HANDLE,
    key: CK_OBJECT_HANDLE,
    out: OutBytes,
) -> Result<()> {
    let mechanism = mechanism(session, &mech)?;
    let capacity = out.capacity()?;
    out.deliver(
        client()?
            .session_call(session, |session| m::WrapKeyRequest {
                session,
                mechanism,
                wrapping_key: ul(wrapping_key),
                key: ul(key),
                capacity,
            })
            .map(|r: m::WrapKeyResponse| r.output),
    )
}

/// `C_UnwrapKey` (5.14.4).
pub(crate) fn unwrap_key(
    session: u64,
    mech: MechPtr,
    unwrapping_key: CK_OBJECT_HANDLE,
    wrapped: InBytes,
    template: Attrs,
    out: Out<CK_OBJECT_HANDLE>,
) -> Result<()> {
    let mechanism = mechanism(session, &mech)?;
    out.required()?;
    if wrapped.is_null() {
        return Err(ARGUMENTS_BAD);
    }
    let wrapped = wrapped.get()?;
    let t = template.template()?;
    let r: m::UnwrapKeyResponse =
        client()?.session_call(session, |session| m::UnwrapKeyRequest {
            session,
            mechanism,
            unwrapping_key: ul(unwrapping_key),
            wrapped: wrapped.to_vec(),
            template: t.to_vec(),
        })?;
    out.write(ck(r.key)?)
}

/// `C_DeriveKey` (5.14.5).
pub(crate) fn derive_key(
    session: u64,
    mech: MechPtr,
    base_key: CK_OBJECT_HANDLE,
    template: Attrs,
    out: Out<CK_OBJECT_HANDLE>,
) -> Result<()> {
    let mechanism = mechanism(session, &mech)?;
    out.required()?;
    let t = template.template()?;
    let r: m::DeriveKeyResponse =
        client()?.session_call(session, |session| m::DeriveKeyRequest {
            session,
            mechanism,
            base_key: ul(base_key),
            template: t.to_vec(),
        })?;
    out.write(ck(r.key)?)
}
