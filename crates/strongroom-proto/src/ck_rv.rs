//! PKCS#11 return values (`CK_RV`).

use core::fmt;

use crate::tables;

/// A PKCS#11 return value (`CK_RV`, a `CK_ULONG`), standard or vendor-defined.
///
/// Any `u64` can be held; only values in the standard or vendor table have a name. The constants
/// are in [`ckr`](crate::ckr).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ckr(u64);

/// Name reported for a value in neither table.
const UNKNOWN_NAME: &str = "CKR_UNKNOWN";
/// `CKR_VENDOR_DEFINED`: values from here up are vendor-defined.
const VENDOR_BASE: u64 = 0x8000_0000;

impl Ckr {
    /// Wraps a raw value, known or not.
    pub const fn from_u64(v: u64) -> Self {
        Self(v)
    }

    /// The raw value.
    pub const fn value(self) -> u64 {
        self.0
    }

    /// The value's name, e.g. `CKR_PIN_INCORRECT`; `CKR_UNKNOWN` for a value in neither table.
    ///
    /// The vendor table lists `CKR_ACCESS_ID_INVALID` at two values; both report that name.
    pub fn name(self) -> &'static str {
        tables::ckr_row(self.0).map_or(UNKNOWN_NAME, |r| r.name)
    }

    /// Looks a value up by its exact name. For the one name the vendor table lists twice,
    /// `CKR_ACCESS_ID_INVALID`, this gives the first listing, `0x80000068`.
    pub fn from_name(name: &str) -> Option<Self> {
        tables::ckr_by_name(name).map(Self)
    }

    /// Whether this is `CKR_OK` (0).
    pub const fn is_ok(self) -> bool {
        self.0 == 0
    }

    /// Whether the value is in the vendor-defined range (at or above `CKR_VENDOR_DEFINED`).
    pub const fn is_vendor_defined(self) -> bool {
        self.0 >= VENDOR_BASE
    }

    /// Whether the value is in the standard or vendor table.
    pub fn is_known(self) -> bool {
        tables::ckr_row(self.0).is_some()
    }
}

/// The name, e.g. `CKR_PIN_INCORRECT`; a value in neither table prints as `0x` and 8 or more
/// upper-case hex digits.
impl fmt::Display for Ckr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match tables::ckr_row(self.0) {
            Some(row) => f.write_str(row.name),
            None => write!(f, "{:#010X}", self.0),
        }
    }
}

/// Name and hex, e.g. `Ckr(CKR_PED_UNPLUGGED, 0x8000002E)`.
impl fmt::Debug for Ckr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ckr({}, {:#010X})", self.name(), self.0)
    }
}
