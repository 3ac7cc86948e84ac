//! Row types and lookups over the tables that `build.rs` generates from `data/*.tsv`.
//!
//! Invariants (checked by `build.rs`, relied on here): `*_ROWS` are sorted by value with unique
//! values; `RET_BY_SUFFIX` and `CKR_BY_NAME` are sorted by name with unique names; every value in
//! a by-name table has a row.

use crate::Ckr;

/// One module return code.
pub(crate) struct RetRow {
    pub(crate) value: u32,
    /// Full name, `SR_RET_` prefix included.
    pub(crate) name: &'static str,
    /// What an application sees; `None` for codes the table marks internal-only.
    pub(crate) ckr: Option<Ckr>,
}

/// One PKCS#11 return value (standard or vendor-defined).
pub(crate) struct CkrRow {
    pub(crate) value: u64,
    pub(crate) name: &'static str,
}

/// One client library code.
pub(crate) struct LibRow {
    pub(crate) value: u32,
    pub(crate) description: &'static str,
    /// Symbolic name, where the reference prints one.
    pub(crate) name: Option<&'static str>,
}

include!(concat!(env!("OUT_DIR"), "/tables.rs"));

pub(crate) fn ret_row(value: u32) -> Option<&'static RetRow> {
    let i = RET_ROWS.binary_search_by_key(&value, |r| r.value).ok()?;
    RET_ROWS.get(i)
}

/// Looks up a module code by the part of its name after the prefix.
pub(crate) fn ret_by_suffix(suffix: &str) -> Option<u32> {
    let i = RET_BY_SUFFIX
        .binary_search_by(|(s, _)| (*s).cmp(suffix))
        .ok()?;
    RET_BY_SUFFIX.get(i).map(|&(_, v)| v)
}

pub(crate) fn ckr_row(value: u64) -> Option<&'static CkrRow> {
    let i = CKR_ROWS.binary_search_by_key(&value, |r| r.value).ok()?;
    CKR_ROWS.get(i)
}

pub(crate) fn ckr_by_name(name: &str) -> Option<u64> {
    let i = CKR_BY_NAME.binary_search_by(|(n, _)| (*n).cmp(name)).ok()?;
    CKR_BY_NAME.get(i).map(|&(_, v)| v)
}

pub(crate) fn lib_row(value: u32) -> Option<&'static LibRow> {
    let i = LIB_ROWS.binary_search_by_key(&value, |r| r.value).ok()?;
    LIB_ROWS.get(i)
}
