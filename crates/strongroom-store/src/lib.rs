//! The durable, encrypted, crash-safe record store that holds all persistent state of the
//! Strongroom module.
//!
//! # What it does
//!
//! - Keeps records `(table, key) -> value` in one embedded database file (`store.redb`, a
//!   [redb](https://docs.rs/redb) database) inside a data directory. Tables are named by the
//!   caller and created on first write; keys and values are byte strings; scans return records
//!   in bytewise key order.
//! - Seals every value with AES-256-GCM under a key-encryption key (KEK), with the record's
//!   identity (table and key) as associated data: a value altered, or moved to another key or
//!   table, fails to open with [`Error::Integrity`]. Values can instead be sealed under a
//!   caller-supplied [`SealKey`] (the module's per-partition keys).
//! - Keeps the KEK in its own file (`kek`), either as is or wrapped under a key derived from a
//!   passphrase with Argon2id.
//! - Commits each [`Store::write`] as one atomic transaction, durable (fsync) before it returns;
//!   after a crash the store holds exactly the acknowledged transactions.
//! - Authenticates every KEK-sealed record, and every page of the database file against its
//!   checksum, when it opens.
//! - Replaces the KEK and deletes everything not retained in one crash-safe step
//!   ([`Store::rekey`], the module's zeroize), and removes a store entirely
//!   ([`Store::destroy`], factory reset).
//! - After a failed write or fsync, refuses further writes until reopened ([`Error::Latched`]).
//! - Turns a panic of the storage engine on damaged data into [`Error::Integrity`].
//!
//! # What it does not do
//!
//! - It does not protect against anyone who can run code as the store's user or as root on
//!   the host, who can read the KEK file or the process memory.
//! - It does not detect the whole data directory being rolled back to an older copy: an older
//!   `store.redb` with its matching `kek` is a valid store. Nor does it detect a record removed
//!   by someone who rewrites the database file in the engine's own format: values are
//!   authenticated, the set of keys is not.
//! - It does not hide the shape of the data: table names, record keys, value lengths and
//!   counts are stored in clear. Only values are secret.
//! - It does not authenticate records sealed under a [`SealKey`] when it opens (it does not
//!   have those keys); they are authenticated when read.
//! - It does not decide what is stored, who may read it, or what a zeroize retains: that is the
//!   module's policy. It does no logging.
//! - It is not a general database: no secondary indexes, no range queries beyond whole-table
//!   scans, and values are read whole.
//!
//! The file formats, the commit and rekey protocols, and the assumptions about the disk are in
//! `DESIGN.md` beside this crate.
//!
//! # Example
//!
//! ```
//! use strongroom_store::{OpenOptions, Store};
//!
//! # fn main() -> Result<(), strongroom_store::Error> {
//! # let tmp = std::env::temp_dir().join(format!("strongroom-store-doc-{}", std::process::id()));
//! let store = Store::open(&tmp, OpenOptions::new().create(true))?;
//! store.write(|txn| {
//!     txn.put("hsm", b"label", b"my appliance")?;
//!     txn.put("partitions", b"1", b"partition one")?;
//!     Ok(())
//! })?;
//! assert_eq!(store.get("hsm", b"label")?.as_deref().map(|v| &v[..]), Some(&b"my appliance"[..]));
//! drop(store);
//! Store::destroy(&tmp)?;
//! # std::fs::remove_dir(&tmp).ok();
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]

mod error;
mod fsutil;
mod kek;
mod layout;
mod open;
mod options;
mod preflight;
mod rekey;
mod seal;
mod store;
mod txn;

/// Options that weaken the store's guarantees. Each use deserves a comment at the call site.
pub mod danger {
    use crate::OpenOptions;

    /// Opens without authenticating every record and checking every page first. Damage is then
    /// found only when the damaged record is read (still as [`Error::Integrity`]), and a
    /// damaged page of the database file may reach the storage engine's parser.
    ///
    /// [`Error::Integrity`]: crate::Error::Integrity
    pub fn skip_integrity_scan(options: OpenOptions) -> OpenOptions {
        options.set_verify(false)
    }
}

pub use crate::error::{Error, KekFault};
pub use crate::kek::KdfParams;
pub use crate::layout::{MAX_KEY_LEN, MAX_TABLE_NAME_LEN, MAX_VALUE_LEN};
pub use crate::options::OpenOptions;
pub use crate::seal::SealKey;
pub use crate::store::{Store, StoreStats};
pub use crate::txn::WriteTxn;
