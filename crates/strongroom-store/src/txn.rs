//! The write transaction handed to [`Store::write`](crate::Store::write).

use std::cell::Cell;

use zeroize::Zeroizing;

use crate::error::{Error, engine, is_engine_panic};
use crate::layout::{
    Records, USER_PREFIX, check_key, check_value, definition, delete_table, read_record,
    record_place, scan_records, table_exists, user_table,
};
use crate::seal::{AeadKey, SealKey, VERSION_KEK, VERSION_SEAL_KEY};

/// One atomic write transaction: every change made through it is committed together, durably,
/// when the closure given to [`Store::write`](crate::Store::write) returns `Ok`, and none is if
/// it returns `Err` or panics. Reads through it see its own uncommitted changes.
///
/// Tables are created by the first `put` into them.
pub struct WriteTxn<'s> {
    txn: redb::WriteTransaction,
    /// The KEK under which `put` seals.
    kek: &'s AeadKey,
    /// Set when the storage engine failed underneath an operation: the transaction must not
    /// commit and the store must latch, whatever the closure returns.
    pub(crate) engine_failed: Cell<bool>,
}

impl<'s> WriteTxn<'s> {
    pub(crate) fn new(txn: redb::WriteTransaction, kek: &'s AeadKey) -> Self {
        WriteTxn {
            txn,
            kek,
            engine_failed: Cell::new(false),
        }
    }

    /// The engine transaction and whether the engine failed underneath it.
    pub(crate) fn into_parts(self) -> (redb::WriteTransaction, bool) {
        (self.txn, self.engine_failed.get())
    }

    /// Runs engine work, noting platform failures and engine panics on the way out.
    fn run<T>(
        &self,
        body: impl FnOnce(&redb::WriteTransaction) -> Result<T, Error>,
    ) -> Result<T, Error> {
        engine(|| body(&self.txn)).inspect_err(|err| {
            if err.is_platform_write_failure() || is_engine_panic(err) {
                self.engine_failed.set(true);
            }
        })
    }

    /// Seals `value` under the KEK and stores it at `(table, key)`, replacing any previous
    /// value.
    pub fn put(&mut self, table: &str, key: &[u8], value: &[u8]) -> Result<(), Error> {
        let internal = user_table(table)?;
        check_key(key)?;
        check_value(value)?;
        let sealed = self
            .kek
            .seal(VERSION_KEK, record_place(table, key), value)?;
        self.insert(&internal, key, &sealed)
    }

    /// Seals `value` under `seal_key` (not the KEK) and stores it at `(table, key)`. Read it
    /// back with [`WriteTxn::get_sealed`] or [`Store::get_sealed`](crate::Store::get_sealed).
    pub fn put_sealed(
        &mut self,
        seal_key: &SealKey,
        table: &str,
        key: &[u8],
        value: &[u8],
    ) -> Result<(), Error> {
        let internal = user_table(table)?;
        check_key(key)?;
        check_value(value)?;
        let sealed = seal_key
            .aead()?
            .seal(VERSION_SEAL_KEY, record_place(table, key), value)?;
        self.insert(&internal, key, &sealed)
    }

    fn insert(&mut self, internal: &str, key: &[u8], sealed: &[u8]) -> Result<(), Error> {
        self.run(|txn| {
            txn.open_table(definition(internal))?.insert(key, sealed)?;
            Ok(())
        })
    }

    /// The KEK-sealed value at `(table, key)` as this transaction sees it.
    pub fn get(&self, table: &str, key: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
        self.get_with(self.kek, VERSION_KEK, table, key)
    }

    /// The value sealed under `seal_key` at `(table, key)` as this transaction sees it.
    pub fn get_sealed(
        &self,
        seal_key: &SealKey,
        table: &str,
        key: &[u8],
    ) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
        self.get_with(&seal_key.aead()?, VERSION_SEAL_KEY, table, key)
    }

    fn get_with(
        &self,
        aead: &AeadKey,
        version: u8,
        table: &str,
        key: &[u8],
    ) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
        let internal = user_table(table)?;
        check_key(key)?;
        self.run(|txn| {
            // Opening a table for writing creates it; a read must not.
            if !table_exists(txn, &internal)? {
                return Ok(None);
            }
            let opened = txn.open_table(definition(&internal))?;
            read_record(&opened, aead, version, table, key)
        })
    }

    /// Every KEK-sealed record of `table` in key order, as this transaction sees them.
    pub fn scan(&self, table: &str) -> Result<Records, Error> {
        self.scan_with(self.kek, VERSION_KEK, table)
    }

    /// Every record of `table` sealed under `seal_key`, in key order, as this transaction sees
    /// them.
    pub fn scan_sealed(&self, seal_key: &SealKey, table: &str) -> Result<Records, Error> {
        self.scan_with(&seal_key.aead()?, VERSION_SEAL_KEY, table)
    }

    fn scan_with(&self, aead: &AeadKey, version: u8, table: &str) -> Result<Records, Error> {
        let internal = user_table(table)?;
        self.run(|txn| {
            if !table_exists(txn, &internal)? {
                return Ok(Vec::new());
            }
            let opened = txn.open_table(definition(&internal))?;
            scan_records(&opened, aead, version, table)
        })
    }

    /// Removes the record at `(table, key)`. Returns whether it existed.
    pub fn delete(&mut self, table: &str, key: &[u8]) -> Result<bool, Error> {
        let internal = user_table(table)?;
        check_key(key)?;
        self.run(|txn| {
            if !table_exists(txn, &internal)? {
                return Ok(false);
            }
            let mut opened = txn.open_table(definition(&internal))?;
            let removed = opened.remove(key)?.is_some();
            Ok(removed)
        })
    }

    /// Removes `table` with all its records. Returns whether it existed.
    pub fn drop_table(&mut self, table: &str) -> Result<bool, Error> {
        let internal = user_table(table)?;
        self.run(|txn| delete_table(txn, &internal))
    }

    /// Names of the caller tables as this transaction sees them, sorted.
    pub fn tables(&self) -> Result<Vec<String>, Error> {
        self.run(|txn| {
            let mut names: Vec<String> = txn
                .list_tables()?
                .filter_map(|handle| {
                    redb::TableHandle::name(&handle)
                        .strip_prefix(USER_PREFIX)
                        .map(str::to_owned)
                })
                .collect();
            names.sort();
            Ok(names)
        })
    }
}
