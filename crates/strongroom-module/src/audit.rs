//! The module's audit log (catalog AU-01..AU-43): event categories and their filters, the
//! fixed-width record format, the HMAC-SHA256 chain, and verification of record files.
//!
//! Everything here is pure: formatting, parsing and verification take bytes and a secret and
//! return values. The module (`module/auditing.rs`) owns the secret, the chain head and the
//! record space in its store, and decides who may do what.

mod event;
mod record;
mod secret_file;
mod verify;

pub use event::{AuditCategory, AuditOp, EventFilter};
pub(crate) use event::{Event, category_bits};
#[cfg(test)]
pub(crate) use record::chain_hmac;
pub(crate) use record::format_line;
pub use record::{LINE_LEN, RawRecord, parse_line, raw_of_line};
pub(crate) use secret_file::{UnwrapError, unwrap_secret, wrap_secret};
pub use verify::{BadReason, BadRecord, Tail, VerifyReport, verify_log};

#[cfg(test)]
mod tests;
