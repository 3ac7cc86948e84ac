//! Object management (v3.0 section 5.7). Object handles are the appliance's, unchanged: a
//! session belongs to one appliance, so its handles cannot collide.

use cryptoki_sys::{CK_OBJECT_HANDLE, CK_ULONG};
use strongroom_client::messages as m;
use zeroize::Zeroize;

use super::client;
use crate::conv::{ck, ul};
use crate::ffi::{Attrs, Out, OutHandles};
use crate::state::Result;

/// `C_CreateObject` (5.7.1).
pub(crate) fn create_object(
    session: u64,
    template: Attrs,
    out: Out<CK_OBJECT_HANDLE>,
) -> Result<()> {
    let c = client()?;
    c.session_slot(session)?;
    out.required()?;
    let t = template.template()?;
    let r: m::CreateObjectResponse = c.session_call(session, |session| m::CreateObjectRequest {
        session,
        template: t.to_vec(),
    })?;
    out.write(ck(r.object)?)
}

/// `C_CopyObject` (5.7.2).
pub(crate) fn copy_object(
    session: u64,
    object: CK_OBJECT_HANDLE,
    template: Attrs,
    out: Out<CK_OBJECT_HANDLE>,
) -> Result<()> {
    let c = client()?;
    c.session_slot(session)?;
    out.required()?;
    let t = template.template()?;
    let r: m::CopyObjectResponse = c.session_call(session, |session| m::CopyObjectRequest {
        session,
        object: ul(object),
        template: t.to_vec(),
    })?;
    out.write(ck(r.object)?)
}

/// `C_DestroyObject` (5.7.3).
pub(crate) fn destroy_object(session: u64, object: CK_OBJECT_HANDLE) -> Result<()> {
    let c = client()?;
    let _: m::DestroyObjectResponse =
        c.session_call(session, |session| m::DestroyObjectRequest {
            session,
            object: ul(object),
        })?;
    // Operations using the object ended with it: their lengths are asked for again.
    c.forget_single_outputs();
    Ok(())
}

/// `C_GetObjectSize` (5.7.4).
pub(crate) fn get_object_size(
    session: u64,
    object: CK_OBJECT_HANDLE,
    out: Out<CK_ULONG>,
) -> Result<()> {
    let c = client()?;
    c.session_slot(session)?;
    out.required()?;
    let r: m::GetObjectSizeResponse =
        c.session_call(session, |session| m::GetObjectSizeRequest {
            session,
            object: ul(object),
        })?;
    out.write(ck(r.size)?)
}

/// `C_GetAttributeValue` (5.7.5).
pub(crate) fn get_attribute_value(
    session: u64,
    object: CK_OBJECT_HANDLE,
    template: Attrs,
) -> Result<()> {
    let c = client()?;
    c.session_slot(session)?;
    let types = template.types()?;
    let mut r: m::GetAttributeValueResponse =
        c.session_call(session, |session| m::GetAttributeValueRequest {
            session,
            object: ul(object),
            types,
        })?;
    let result = template.fill(&r.values);
    for v in &mut r.values {
        if let m::AttrValue::Value(bytes) = v {
            bytes.zeroize();
        }
    }
    result
}

/// `C_SetAttributeValue` (5.7.6).
pub(crate) fn set_attribute_value(
    session: u64,
    object: CK_OBJECT_HANDLE,
    template: Attrs,
) -> Result<()> {
    let c = client()?;
    c.session_slot(session)?;
    let t = template.template()?;
    let _: m::SetAttributeValueResponse =
        c.session_call(session, |session| m::SetAttributeValueRequest {
            session,
            object: ul(object),
            template: t.to_vec(),
        })?;
    Ok(())
}

/// `C_FindObjectsInit` (5.7.7).
pub(crate) fn find_objects_init(session: u64, template: Attrs) -> Result<()> {
    let c = client()?;
    c.session_slot(session)?;
    let t = template.template()?;
    let _: m::FindObjectsInitResponse =
        c.session_call(session, |session| m::FindObjectsInitRequest {
            session,
            template: t.to_vec(),
        })?;
    Ok(())
}

/// `C_FindObjects` (5.7.8).
pub(crate) fn find_objects(session: u64, out: OutHandles) -> Result<()> {
    let c = client()?;
    c.session_slot(session)?;
    let max = u32::try_from(
        out.max()?
            .min(u64::try_from(m::MAX_ITEMS).unwrap_or(u64::MAX)),
    )
    .unwrap_or(u32::MAX);
    let r: m::FindObjectsResponse =
        c.session_call(session, |session| m::FindObjectsRequest { session, max })?;
    out.deliver(&r.objects)
}

/// `C_FindObjectsFinal` (5.7.9).
pub(crate) fn find_objects_final(session: u64) -> Result<()> {
    let _: m::FindObjectsFinalResponse =
        client()?.session_call(session, |session| m::FindObjectsFinalRequest { session })?;
    Ok(())
}
