//! Slot and token management (v3.0 section 5.5): slots are the partitions assigned to this
//! client (see `strongroom_client::Client` for how ids are given).

use cryptoki_sys::{
    CK_BBOOL, CK_MECHANISM_INFO, CK_MECHANISM_TYPE, CK_SLOT_ID, CK_SLOT_INFO, CK_TOKEN_INFO,
    CK_UNAVAILABLE_INFORMATION, CK_VERSION, CKF_REMOVABLE_DEVICE, CKF_TOKEN_PRESENT,
    CKR_SESSION_EXISTS,
};

use super::{ARGUMENTS_BAD, client, fail};
use crate::conv::{ck, padded, ul};
use crate::ffi::{InBytes, Out, OutArray};
use crate::state::Result;

/// Longest PIN the appliance accepts.
const MAX_PIN_LEN: u64 = 255;
/// Shortest PIN the appliance accepts.
const MIN_PIN_LEN: u64 = 8;

/// `C_GetSlotList` (5.5.2). Asking for the count (a null list) enumerates the appliances
/// again; the list itself is the one last enumerated.
pub(crate) fn get_slot_list(token_present: CK_BBOOL, out: OutArray<CK_SLOT_ID>) -> Result<()> {
    let c = client()?;
    let query = out.is_query()?;
    let ids = c
        .slot_list(token_present != 0, query)
        .into_iter()
        .map(ck)
        .collect::<Result<Vec<_>>>()?;
    out.deliver(&ids)
}

fn version() -> CK_VERSION {
    super::general::library_version()
}

/// `C_GetSlotInfo` (5.5.3).
pub(crate) fn get_slot_info(slot: CK_SLOT_ID, out: Out<CK_SLOT_INFO>) -> Result<()> {
    let c = client()?;
    out.required()?;
    let s = c.slot(ul(slot))?;
    let mut flags = CKF_REMOVABLE_DEVICE;
    if s.present {
        flags |= CKF_TOKEN_PRESENT;
    }
    out.write(CK_SLOT_INFO {
        slotDescription: padded(&format!("Strongroom Net Token Slot ({})", s.server)),
        manufacturerID: padded("Strongroom"),
        flags,
        hardwareVersion: version(),
        firmwareVersion: version(),
    })
}

/// `C_GetTokenInfo` (5.5.4): the label and serial are the partition's; the session counts
/// are this application's.
pub(crate) fn get_token_info(slot: CK_SLOT_ID, out: Out<CK_TOKEN_INFO>) -> Result<()> {
    let c = client()?;
    // An unknown slot or a missing token ranks before a missing output (v3.0 5.1).
    let t = c.token_info(ul(slot))?;
    out.required()?;
    out.write(CK_TOKEN_INFO {
        label: padded(&t.label),
        manufacturerID: padded("Strongroom"),
        model: padded("Strongroom"),
        serialNumber: padded(&t.serial.to_string()),
        flags: ck(t.flags)?,
        ulMaxSessionCount: ck(t.max_session_count)?,
        ulSessionCount: ck(t.session_count)?,
        ulMaxRwSessionCount: ck(t.max_session_count)?,
        ulRwSessionCount: ck(t.rw_session_count)?,
        ulMaxPinLen: ck(MAX_PIN_LEN)?,
        ulMinPinLen: ck(MIN_PIN_LEN)?,
        ulTotalPublicMemory: ck(t.total_memory)?,
        ulFreePublicMemory: ck(t.free_memory)?,
        ulTotalPrivateMemory: CK_UNAVAILABLE_INFORMATION,
        ulFreePrivateMemory: CK_UNAVAILABLE_INFORMATION,
        hardwareVersion: version(),
        firmwareVersion: version(),
        utcTime: [b' '; 16],
    })
}

/// `C_GetMechanismList` (5.5.5).
pub(crate) fn get_mechanism_list(slot: CK_SLOT_ID, out: OutArray<CK_MECHANISM_TYPE>) -> Result<()> {
    let c = client()?;
    out.is_query()?;
    let list = c
        .mechanism_list(ul(slot))?
        .into_iter()
        .map(ck)
        .collect::<Result<Vec<_>>>()?;
    out.deliver(&list)
}

/// `C_GetMechanismInfo` (5.5.6).
pub(crate) fn get_mechanism_info(
    slot: CK_SLOT_ID,
    mechanism: CK_MECHANISM_TYPE,
    out: Out<CK_MECHANISM_INFO>,
) -> Result<()> {
    let c = client()?;
    out.required()?;
    let i = c.mechanism_info(ul(slot), ul(mechanism))?;
    out.write(CK_MECHANISM_INFO {
        ulMinKeySize: ck(i.min_key_size)?,
        ulMaxKeySize: ck(i.max_key_size)?,
        flags: ck(i.flags)?,
    })
}

/// `C_InitToken` (5.5.7): initializes the partition and its Partition SO (default cloning
/// domain). The label is the 32-byte blank-padded field.
pub(crate) fn init_token(slot: CK_SLOT_ID, pin: InBytes, label: InBytes) -> Result<()> {
    let c = client()?;
    let slot = ul(slot);
    // The protected authentication path (a null PIN) is not offered.
    if pin.is_null() || label.is_null() {
        return Err(ARGUMENTS_BAD);
    }
    let pin = pin.secret()?;
    let label = std::str::from_utf8(label.get()?).map_err(|_| ARGUMENTS_BAD)?;
    let view = c.slot(slot)?;
    if c.token_info(view.id).is_ok_and(|t| t.session_count > 0) {
        return fail(CKR_SESSION_EXISTS);
    }
    c.init_token(slot, &pin, label.trim_end(), None)?;
    Ok(())
}

/// `C_InitPIN` (5.6.x): the Partition SO initializes the Crypto Officer's PIN.
pub(crate) fn init_pin(session: u64, pin: InBytes) -> Result<()> {
    let c = client()?;
    if pin.is_null() {
        c.session_slot(session)?;
        return Err(ARGUMENTS_BAD);
    }
    let pin = pin.secret()?;
    c.init_pin(session, &pin)?;
    Ok(())
}

/// `C_SetPIN`: the logged-in role changes its own PIN.
pub(crate) fn set_pin(session: u64, old: InBytes, new: InBytes) -> Result<()> {
    let c = client()?;
    if old.is_null() || new.is_null() {
        c.session_slot(session)?;
        return Err(ARGUMENTS_BAD);
    }
    let (old, new) = (old.secret()?, new.secret()?);
    c.set_pin(session, &old, &new)?;
    Ok(())
}
