//! Module return codes (`SR_RET_*`).

use core::fmt;

use crate::tables;
use crate::{Ckr, ckr};

/// A module return code: the 32-bit status every module operation ends with.
///
/// Any `u32` can be held, so a code from a newer module still round-trips; only codes in the
/// module-code table have a name and a PKCS#11 mapping. The constants are in [`ret`](crate::ret).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RetCode(u32);

/// Name reported for a value that is not in the table.
const UNKNOWN_NAME: &str = "SR_RET_UNKNOWN";
/// Current name prefix.
const PREFIX: &str = "SR_RET_";
/// The reference's prefix for the same codes, accepted by [`RetCode::from_name`].
const ALIAS_PREFIX: &str = "LUNA_RET_";

impl RetCode {
    /// Wraps a raw code, known or not.
    pub const fn from_u32(v: u32) -> Self {
        Self(v)
    }

    /// The raw 32-bit code.
    pub const fn value(self) -> u32 {
        self.0
    }

    /// The code's name, e.g. `SR_RET_PED_UNPLUGGED`; `SR_RET_UNKNOWN` for a value not in the
    /// table.
    pub fn name(self) -> &'static str {
        tables::ret_row(self.0).map_or(UNKNOWN_NAME, |r| r.name)
    }

    /// Looks a code up by name: `SR_RET_*`, or the same code under the reference's `LUNA_RET_*`
    /// spelling. Exact and case-sensitive; `SR_RET_UNKNOWN` is not a code and gives `None`.
    pub fn from_name(name: &str) -> Option<Self> {
        let suffix = name
            .strip_prefix(PREFIX)
            .or_else(|| name.strip_prefix(ALIAS_PREFIX))?;
        tables::ret_by_suffix(suffix).map(Self)
    }

    /// The PKCS#11 return value an application receives for this code, as the table maps it.
    ///
    /// A value not in the table, and a code the table marks internal-only (see
    /// [`is_internal_only`](Self::is_internal_only)), give `CKR_DEVICE_ERROR`: the module failed
    /// in a way the table does not describe to applications.
    pub fn ckr(self) -> Ckr {
        tables::ret_row(self.0)
            .and_then(|r| r.ckr)
            .unwrap_or(ckr::CKR_DEVICE_ERROR)
    }

    /// Whether this is `SR_RET_OK` (0).
    pub const fn is_ok(self) -> bool {
        self.0 == 0
    }

    /// Whether the value is in the module-code table.
    pub fn is_known(self) -> bool {
        tables::ret_row(self.0).is_some()
    }

    /// Whether the table marks this code as internal to the module (never reported to an
    /// application; today only `SR_RET_OBJECT_DELETED`).
    pub fn is_internal_only(self) -> bool {
        tables::ret_row(self.0).is_some_and(|r| r.ckr.is_none())
    }
}

/// The shell's form (catalog SH-G-08): hex without `0x` or leading zeros, upper case, then the
/// name, e.g. `300142 : SR_RET_PED_UNPLUGGED`.
impl fmt::Display for RetCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X} : {}", self.0, self.name())
    }
}

/// Name and full-width hex, e.g. `RetCode(SR_RET_PED_UNPLUGGED, 0x00300142)`.
impl fmt::Debug for RetCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RetCode({}, {:#010X})", self.name(), self.0)
    }
}
