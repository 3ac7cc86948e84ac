//! Strongroom definitions shared by the appliance and its clients: the return-code tables.
//!
//! Three code spaces, each a newtype over its raw integer with a name lookup, a constant per
//! known code and shell-style formatting (catalog MO-30..MO-34):
//!
//! - [`RetCode`] (constants in [`ret`]): the module's 32-bit return codes, `SR_RET_*`. Every one
//!   maps to the PKCS#11 value an application sees ([`RetCode::ckr`]). Standard-range codes
//!   mostly carry the PKCS#11 value in their high 16 bits (`SR_RET_UM_PIN_INCORRECT` is
//!   `0x00A00000` → `CKR_PIN_INCORRECT`), vendor module codes are `0x8000xxxx`; the table, not
//!   the bit pattern, decides.
//! - [`Ckr`] (constants in [`ckr`]): PKCS#11 return values, the standard v3.0 set plus the
//!   vendor-defined set.
//! - [`LibCode`] (constants in [`lib_code`]): the client library's `0xC0000000` family.
//!
//! # Source of truth
//!
//! The tables live in `data/*.tsv`, transcribed row for row from the appliance administration
//! guide's return-code tables (the standard PKCS#11 values from the v3.0 specification);
//! `build.rs` generates the constants and lookup tables and fails the build on any row it cannot
//! map exactly. Each data file's header explains its columns and every decision taken on the
//! guide's quirks. In short:
//!
//! - the guide's `LUNA_RET_` prefix is renamed `SR_RET_` (same meanings and values);
//!   [`RetCode::from_name`] still accepts the old spelling;
//! - the eight codes `0x00310000..=0x00310007` all map to `CKR_DEVICE_MEMORY`, as the guide
//!   says applications see them; they differ only in module logs;
//! - `SR_RET_KEY_EXTRACTABLE` maps to `CKR_KEY_UNEXTRACTABLE`, which the guide misspells
//!   `KR_KEY_UNEXTRACTABLE`;
//! - `SR_RET_OBJECT_DELETED` is internal-only: no PKCS#11 mapping
//!   ([`RetCode::is_internal_only`]);
//! - the vendor table lists `CKR_ACCESS_ID_INVALID` at `0x80000068` and `0x80000400`; both values
//!   carry the name, the name looks up the first, and the second's constant is
//!   [`ckr::CKR_ACCESS_ID_INVALID_80000400`].
//!
//! # Unknown values
//!
//! Every type holds any raw value, so codes from a newer peer pass through unchanged. Unknown
//! values are named `SR_RET_UNKNOWN` / `CKR_UNKNOWN` / `UNKNOWN LIBRARY CODE`, and an unknown
//! module code maps to `CKR_DEVICE_ERROR`.
//!
//! # What this crate does not do
//!
//! It performs no I/O, and does not decide which code a failure gets: the module maps its own
//! errors to a [`RetCode`]. It does not assign values to codes the guide does not list. The
//! [`messages`] carry templates and mechanism parameters as opaque bytes: the module encodes
//! and checks them.

#![forbid(unsafe_code)]

mod ck_rv;
mod frame;
mod library_code;
pub mod messages;
mod return_code;
mod tables;

#[cfg(test)]
mod tests;

pub use crate::{
    ck_rv::Ckr,
    frame::{
        DEFAULT_MAX_PAYLOAD, Frame, FrameDecoder, FrameError, HEADER_LEN, HELLO_MAGIC, Hello,
        OP_HELLO, PROTOCOL_VERSIONS, PayloadTooLarge, encode_frame,
    },
    library_code::LibCode,
    return_code::RetCode,
    tables::{ckr, lib_code, ret},
};

/// Zeroes the whole allocation of a buffer that carried a request or an answer (it may hold
/// PINs, plaintext or key bytes) and empties it. The same wipe as `Zeroize for Vec<u8>`, which
/// zeroes the elements one by one and then the whole capacity again; this zeroes the
/// capacity once, as `zeroize` does for uninitialized memory (about 9 times faster for 4 KiB).
pub fn wipe(buf: &mut Vec<u8>) {
    use zeroize::Zeroize as _;
    buf.clear();
    buf.spare_capacity_mut().zeroize();
}

/// Appends `src` to `dst`. When `dst` must grow, the bytes move to a new allocation and the
/// old one is wiped (as [`wipe`]), so no stray copy of what it held is left behind.
pub fn append_wiped(dst: &mut Vec<u8>, src: &[u8]) {
    if dst.capacity() - dst.len() < src.len() {
        let mut grown = Vec::with_capacity(dst.len().saturating_add(src.len()).max(2 * dst.len()));
        grown.extend_from_slice(dst);
        wipe(dst);
        *dst = grown;
    }
    dst.extend_from_slice(src);
}

#[cfg(test)]
mod wipe_tests {
    #[test]
    fn append_wiped_appends() {
        let mut v = Vec::with_capacity(4);
        let mut expected = Vec::new();
        for i in 0..100u8 {
            super::append_wiped(&mut v, &[i, i]);
            expected.extend([i, i]);
        }
        assert_eq!(v, expected);
    }

    #[test]
    fn wipe_empties_the_buffer_in_place() {
        let mut v = Vec::with_capacity(64);
        v.extend_from_slice(&[0xA5; 40]);
        let (ptr, cap) = (v.as_ptr(), v.capacity());
        super::wipe(&mut v);
        // Emptied, and the zeroed allocation is the one the vector keeps (and frees later).
        assert!(v.is_empty());
        assert_eq!((v.as_ptr(), v.capacity()), (ptr, cap));
    }
}
