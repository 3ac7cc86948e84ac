//! Client library codes (the `0xC0000000` family).

use core::fmt;

use crate::tables;

/// A client library code: a failure found on the client side (library, network link, PED or
/// callback plumbing) before or instead of a module return code.
///
/// Any `u32` can be held; only codes in the library-code table have a description. The constants
/// are in [`lib_code`](crate::lib_code).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LibCode(u32);

/// Description reported for a value not in the table.
const UNKNOWN_DESCRIPTION: &str = "UNKNOWN LIBRARY CODE";

impl LibCode {
    /// Wraps a raw code, known or not.
    pub const fn from_u32(v: u32) -> Self {
        Self(v)
    }

    /// The raw 32-bit code.
    pub const fn value(self) -> u32 {
        self.0
    }

    /// The table's description, e.g. `SOCKET ERROR`; `UNKNOWN LIBRARY CODE` for a value not in
    /// the table.
    pub fn description(self) -> &'static str {
        tables::lib_row(self.0).map_or(UNKNOWN_DESCRIPTION, |r| r.description)
    }

    /// The symbolic name, for the few codes the reference prints one for (`RC_OK`,
    /// `RC_SOCKET_ERROR`); the table itself gives none.
    pub fn name(self) -> Option<&'static str> {
        tables::lib_row(self.0).and_then(|r| r.name)
    }

    /// Whether this is the success code (0).
    pub const fn is_ok(self) -> bool {
        self.0 == 0
    }

    /// Whether the value is in the library-code table.
    pub fn is_known(self) -> bool {
        tables::lib_row(self.0).is_some()
    }
}

/// Hex in the same form as [`RetCode`](crate::RetCode)'s, then the description, e.g.
/// `C0000500 : SOCKET ERROR`.
impl fmt::Display for LibCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X} : {}", self.0, self.description())
    }
}

/// Hex and description, e.g. `LibCode(0xC0000500, SOCKET ERROR)`.
impl fmt::Debug for LibCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LibCode({:#010X}, {})", self.0, self.description())
    }
}
