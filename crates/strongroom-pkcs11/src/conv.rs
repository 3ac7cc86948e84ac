//! Conversions between the application's C types and the canonical encodings: `CK_ULONG`
//! width, attribute values, blank-padded strings.

use cryptoki_sys::{
    CK_ATTRIBUTE, CK_ULONG, CKR_ATTRIBUTE_VALUE_INVALID, CKR_DEVICE_ERROR, CKR_GENERAL_ERROR,
};
use strongroom_client::{AttrKind, ULONG_LEN, canonical_ulong};

use crate::state::{Result, Rv};

/// A `CK_ULONG` as `u64` (lossless: `CK_ULONG` is at most 64 bits wide).
#[allow(clippy::useless_conversion)]
pub(crate) fn ul(v: CK_ULONG) -> u64 {
    u64::from(v)
}

/// A `u64` as `CK_ULONG`, if it fits.
#[allow(clippy::useless_conversion, clippy::unnecessary_fallible_conversions)]
pub(crate) fn to_ck_ulong(v: u64) -> Option<CK_ULONG> {
    CK_ULONG::try_from(v).ok()
}

/// A `u64` as `CK_ULONG`, or `CKR_DEVICE_ERROR` (an appliance value this platform cannot hold).
pub(crate) fn ck(v: u64) -> Result<CK_ULONG> {
    to_ck_ulong(v).ok_or(Rv(CKR_DEVICE_ERROR))
}

/// A length as `CK_ULONG`.
pub(crate) fn ck_len(n: usize) -> Result<CK_ULONG> {
    u64::try_from(n)
        .ok()
        .and_then(to_ck_ulong)
        .ok_or(Rv(CKR_GENERAL_ERROR))
}

/// A caller's length as `usize`.
pub(crate) fn len(n: CK_ULONG) -> Result<usize> {
    usize::try_from(n).map_err(|_| Rv(cryptoki_sys::CKR_ARGUMENTS_BAD))
}

/// Size of the application's `CK_ULONG`.
pub(crate) const NATIVE_ULONG: usize = size_of::<CK_ULONG>();

/// Size of the application's `CK_ATTRIBUTE`.
pub(crate) const NATIVE_ATTRIBUTE: usize = size_of::<CK_ATTRIBUTE>();

fn value_invalid() -> Rv {
    Rv(CKR_ATTRIBUTE_VALUE_INVALID)
}

/// A native `CK_ULONG` value (the attribute's bytes) as its canonical 8 bytes.
pub(crate) fn ulong_from_native(native: &[u8]) -> Result<[u8; ULONG_LEN]> {
    let arr: [u8; NATIVE_ULONG] = native.try_into().map_err(|_| value_invalid())?;
    Ok(ul(CK_ULONG::from_ne_bytes(arr)).to_le_bytes())
}

/// A canonical `CK_ULONG` as the application's native bytes.
pub(crate) fn ulong_to_native(canonical: &[u8]) -> Option<[u8; NATIVE_ULONG]> {
    let v = canonical_ulong(canonical)?;
    to_ck_ulong(v).map(CK_ULONG::to_ne_bytes)
}

/// An attribute value from the application, in canonical form (not for nested templates,
/// which `ffi` reads element by element).
pub(crate) fn value_from_native(kind: AttrKind, native: &[u8]) -> Result<Vec<u8>> {
    match kind {
        AttrKind::Ulong => Ok(ulong_from_native(native)?.to_vec()),
        AttrKind::Bool => match native {
            [b] => Ok(vec![u8::from(*b != 0)]),
            _ => Err(value_invalid()),
        },
        AttrKind::MechList => {
            if !native.len().is_multiple_of(NATIVE_ULONG) {
                return Err(value_invalid());
            }
            let mut out = Vec::with_capacity(native.len() / NATIVE_ULONG * ULONG_LEN);
            for c in native.chunks_exact(NATIVE_ULONG) {
                out.extend_from_slice(&ulong_from_native(c)?);
            }
            Ok(out)
        }
        _ => Ok(native.to_vec()),
    }
}

/// A canonical attribute value as the application's native bytes (not for nested templates);
/// `None` if the appliance sent a value of the wrong shape.
pub(crate) fn value_to_native(kind: AttrKind, canonical: &[u8]) -> Option<Vec<u8>> {
    match kind {
        AttrKind::Ulong => ulong_to_native(canonical).map(|a| a.to_vec()),
        AttrKind::MechList => {
            if !canonical.len().is_multiple_of(ULONG_LEN) {
                return None;
            }
            let mut out = Vec::with_capacity(canonical.len() / ULONG_LEN * NATIVE_ULONG);
            for c in canonical.chunks_exact(ULONG_LEN) {
                out.extend_from_slice(&ulong_to_native(c)?);
            }
            Some(out)
        }
        _ => Some(canonical.to_vec()),
    }
}

/// `text` in a blank-padded fixed field (cut at a character boundary if too long).
pub(crate) fn padded<const N: usize>(text: &str) -> [u8; N] {
    let mut out = [b' '; N];
    let mut end = text.len().min(N);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    out[..end].copy_from_slice(&text.as_bytes()[..end]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulong_round_trip() {
        let native = CK_ULONG::to_ne_bytes(0x1234);
        let canon = ulong_from_native(&native).unwrap();
        assert_eq!(canon, 0x1234u64.to_le_bytes());
        assert_eq!(ulong_to_native(&canon).unwrap(), native);
        assert_eq!(
            ulong_from_native(&[1, 2, 3]),
            Err(Rv(CKR_ATTRIBUTE_VALUE_INVALID))
        );
    }

    #[test]
    fn bools_are_one_byte() {
        assert_eq!(value_from_native(AttrKind::Bool, &[7]).unwrap(), vec![1]);
        assert!(value_from_native(AttrKind::Bool, &[1, 0]).is_err());
    }

    #[test]
    fn padding_cuts_at_character_boundaries() {
        assert_eq!(&padded::<4>("ab"), b"ab  ");
        assert_eq!(&padded::<3>("aé"), b"a\xc3\xa9");
        assert_eq!(&padded::<2>("aé"), b"a ");
    }
}
