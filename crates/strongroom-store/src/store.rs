//! The store: opening, reading, committing and rekeying.

use std::cell::RefCell;
use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use redb::{ReadableDatabase, ReadableTableMetadata, TableError, TableHandle};
use zeroize::Zeroizing;

use crate::error::{Error, engine, is_engine_panic};
use crate::fsutil;
use crate::kek::{self, KekId};
use crate::layout::{
    DB_FILE, KEK_FILE, KEK_NEXT_FILE, META_TABLE, Records, caller_table, check_key, definition,
    read_record, scan_records, user_table, verify_records,
};
use crate::open::{
    Keys, check_format, create, engine_builder, finish_kek_switch, read_meta, resolve_kek,
    unexpected_table, write_meta,
};
use crate::options::OpenOptions;
use crate::preflight;
use crate::rekey::reseal_all;
use crate::seal::{AeadKey, KEY_LEN, SealKey, VERSION_KEK, VERSION_SEAL_KEY, random};
use crate::txn::WriteTxn;

/// Sizes reported by [`Store::stats`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreStats {
    /// Size of the database file in bytes.
    pub file_bytes: u64,
    /// Number of caller tables.
    pub tables: usize,
    /// Number of records in all caller tables.
    pub records: u64,
}

/// The storage engine's database, dropped so that a panic of the engine while closing a
/// damaged file does not reach the caller.
struct Engine(Option<redb::Database>);

impl Engine {
    fn db(&self) -> &redb::Database {
        // `Some` from construction until `drop`, the only place that takes it.
        self.0.as_ref().expect("database present until drop")
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(db) = self.0.take() {
            // Closing commits the engine's allocator state; if the file is damaged in a way
            // the engine asserts on, the panic is contained here. Nothing acknowledged depends
            // on that commit.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(db)));
        }
    }
}

/// The durable, sealed record store of one data directory. `Send + Sync`: share it behind an
/// `Arc`. Reads run concurrently; writes are serialized.
///
/// A closure passed to [`Store::write`] must not call [`Store::write`] or [`Store::rekey`] on
/// the same store (it would wait for itself); it reads and writes through its [`WriteTxn`].
pub struct Store {
    dir: PathBuf,
    engine: Engine,
    /// Swapped only by a rekey, under the write lock, at the moment its transaction commits,
    /// so that no reader pairs a snapshot of one KEK with data of the other.
    keys: RwLock<Arc<Keys>>,
    /// Serializes writers and rekeys; protects no data.
    writer: Mutex<()>,
    /// Set after a failed write or fsync; see [`Error::Latched`].
    latched: AtomicBool,
}

impl Store {
    /// Opens the store in `dir`, creating it when absent and `options` ask for it, finishing
    /// an interrupted rekey, and (by default) authenticating every KEK-sealed record.
    ///
    /// Fails with [`Error::NotFound`] when there is no store and `create` is off,
    /// [`Error::Kek`] when the KEK file cannot be used, [`Error::Integrity`] when the database
    /// or a record fails its checks.
    pub fn open(dir: &Path, options: OpenOptions) -> Result<Store, Error> {
        let mut created = None;
        if !dir.join(DB_FILE).try_exists()? {
            if !options.create {
                return Err(Error::NotFound);
            }
            created = Some(create(dir, &options)?);
        }
        engine(|| Self::open_existing(dir, &options, created))
    }

    /// Opens `dir/store.redb`; `created` holds the keys when `create` just made it.
    fn open_existing(
        dir: &Path,
        options: &OpenOptions,
        created: Option<Keys>,
    ) -> Result<Store, Error> {
        let db_path = dir.join(DB_FILE);
        preflight::check_header(&db_path)?;
        let mut db = engine_builder().open(&db_path)?;
        if options.verify {
            // Walks every page against its checksum; a damaged page fails here rather than
            // being parsed.
            db.check_integrity()?;
        }
        let engine = Engine(Some(db));
        // Leftovers of an atomic write cut short hold no committed key.
        fsutil::scrub_and_remove(dir, &format!("{KEK_FILE}.tmp"))?;
        fsutil::scrub_and_remove(dir, &format!("{KEK_NEXT_FILE}.tmp"))?;

        let meta = read_meta(engine.db())?.ok_or_else(|| Error::Integrity {
            what: "database holds no store metadata".to_owned(),
        })?;
        let keys = match created {
            Some(keys) if keys.id.matches(&meta.kek_id) => keys,
            _ => Keys::from_unlocked(resolve_kek(dir, &meta.kek_id, options)?)?,
        };
        check_format(&keys.kek, &meta.format)?;
        let store = Store {
            dir: dir.to_owned(),
            engine,
            keys: RwLock::new(Arc::new(keys)),
            writer: Mutex::new(()),
            latched: AtomicBool::new(false),
        };
        if options.verify {
            store.verify_all()?;
        }
        Ok(store)
    }

    /// Whether `dir` holds a store (its database file). A KEK file alone, left by a creation
    /// that did not finish, does not count: opening with `create` adopts it.
    pub fn exists(dir: &Path) -> bool {
        dir.join(DB_FILE).exists()
    }

    /// Factory reset: overwrites the KEK files with zeros, syncs and deletes them, then deletes
    /// the database. Does not read the database, so it works when the database is damaged.
    /// The store must not be open. A directory without a store is fine.
    pub fn destroy(dir: &Path) -> Result<(), Error> {
        if !dir.try_exists()? {
            return Ok(());
        }
        for name in [
            KEK_FILE,
            KEK_NEXT_FILE,
            &format!("{KEK_FILE}.tmp"),
            &format!("{KEK_NEXT_FILE}.tmp"),
        ] {
            fsutil::scrub_and_remove(dir, name)?;
        }
        fsutil::remove_if_exists(dir, DB_FILE)?;
        fsutil::remove_if_exists(dir, &format!("{DB_FILE}.tmp"))?;
        Ok(())
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The KEK-sealed value at `(table, key)`.
    pub fn get(&self, table: &str, key: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
        engine(|| {
            let (keys, txn) = self.begin_read()?;
            get_with(&txn, &keys.kek, VERSION_KEK, table, key)
        })
    }

    /// The value sealed under `seal_key` at `(table, key)`.
    pub fn get_sealed(
        &self,
        seal_key: &SealKey,
        table: &str,
        key: &[u8],
    ) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
        let aead = seal_key.aead()?;
        engine(|| {
            let (_keys, txn) = self.begin_read()?;
            get_with(&txn, &aead, VERSION_SEAL_KEY, table, key)
        })
    }

    /// Every KEK-sealed record of `table`, in key order (bytewise). A missing table is empty.
    pub fn scan(&self, table: &str) -> Result<Records, Error> {
        engine(|| {
            let (keys, txn) = self.begin_read()?;
            scan_with(&txn, &keys.kek, VERSION_KEK, table)
        })
    }

    /// Every record of `table` sealed under `seal_key`, in key order.
    pub fn scan_sealed(&self, seal_key: &SealKey, table: &str) -> Result<Records, Error> {
        let aead = seal_key.aead()?;
        engine(|| {
            let (_keys, txn) = self.begin_read()?;
            scan_with(&txn, &aead, VERSION_SEAL_KEY, table)
        })
    }

    /// Names of the caller tables, sorted.
    pub fn tables(&self) -> Result<Vec<String>, Error> {
        engine(|| {
            let (_keys, txn) = self.begin_read()?;
            let mut names: Vec<String> = txn
                .list_tables()?
                .filter_map(|handle| caller_table(handle.name()).map(str::to_owned))
                .collect();
            names.sort();
            Ok(names)
        })
    }

    /// Size of the database file and counts of tables and records.
    pub fn stats(&self) -> Result<StoreStats, Error> {
        let file_bytes = fs::metadata(self.dir.join(DB_FILE))?.len();
        engine(|| {
            let (_keys, txn) = self.begin_read()?;
            let mut tables = 0usize;
            let mut records = 0u64;
            for handle in txn.list_tables()? {
                if caller_table(handle.name()).is_none() {
                    continue;
                }
                tables = tables.saturating_add(1);
                let opened = txn.open_table(definition(handle.name()))?;
                records = records.saturating_add(opened.len()?);
            }
            Ok(StoreStats {
                file_bytes,
                tables,
                records,
            })
        })
    }

    /// Runs `body` in one write transaction and commits it durably (fsync) before returning
    /// `Ok`. If `body` returns `Err` (or panics) nothing is written. If the commit fails the
    /// store latches.
    pub fn write<T>(
        &self,
        body: impl FnOnce(&mut WriteTxn<'_>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.write_with(body)
    }

    /// [`Store::write`] for a body with its own error type.
    pub fn write_with<T, E: From<Error>>(
        &self,
        body: impl FnOnce(&mut WriteTxn<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let _writer = self.lock_writer();
        self.ensure_writable()?;
        let keys = self.current_keys()?;
        let txn = self.begin_write()?;
        let mut wtxn = WriteTxn::new(txn, &keys.kek);
        // A panicking body is the caller's: discard the transaction properly (the engine skips
        // its clean-up while a thread unwinds), then let the panic go on.
        let outcome = catch_unwind(AssertUnwindSafe(|| body(&mut wtxn)));
        let (txn, engine_failed) = wtxn.into_parts();
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(payload) => {
                discard(txn);
                resume_unwind(payload);
            }
        };
        if engine_failed {
            self.latch();
            discard(txn);
            return match outcome {
                Err(err) => Err(err),
                Ok(_) => Err(Error::Latched.into()),
            };
        }
        match outcome {
            Ok(value) => {
                self.commit(txn)?;
                Ok(value)
            }
            Err(err) => {
                discard(txn);
                Err(err)
            }
        }
    }

    /// Zeroize: replaces the KEK with a new one, keeps the records for which `retain(table,
    /// key)` is true (re-sealing the KEK-sealed ones under the new KEK) and deletes every other
    /// record, and every table left empty, in one transaction; then destroys the old KEK file.
    ///
    /// Crash-safe: see DESIGN.md, "Rekey protocol". On error the store latches unless nothing
    /// was written.
    pub fn rekey(&self, retain: impl Fn(&str, &[u8]) -> bool) -> Result<(), Error> {
        let _writer = self.lock_writer();
        self.ensure_writable()?;
        let old = self.current_keys()?;
        let new_id = KekId::generate()?;
        let new_kek = random::<KEY_LEN>()?;
        let new_keys = Keys {
            id: new_id,
            kek: AeadKey::new(&new_kek)?,
            wrap: old.wrap.clone(),
        };
        let file = kek::encode(&new_id, &new_kek, old.wrap.as_deref())?;
        drop(new_kek);

        // Step 1: the next KEK file, durable before any record depends on it.
        fsutil::write_atomic(&self.dir, KEK_NEXT_FILE, &file).map_err(|e| self.fail(e.into()))?;

        // Step 2: one transaction re-seals or deletes everything and records the new KEK id.
        let txn = match self.begin_write() {
            Ok(txn) => txn,
            Err(err) => return Err(self.abandon_rekey(err)),
        };
        // A panic of `retain` is the caller's, not the engine's: it is kept apart and resumed
        // once the transaction is discarded and the next KEK destroyed.
        let retain_panic = RefCell::new(None);
        let checked_retain = |table: &str, key: &[u8]| {
            catch_unwind(AssertUnwindSafe(|| retain(table, key))).map_err(|payload| {
                *retain_panic.borrow_mut() = Some(payload);
                Error::InvalidArgument {
                    what: "retain panicked",
                }
            })
        };
        let prepared = engine(|| {
            reseal_all(&txn, &old.kek, &new_keys.kek, checked_retain)?;
            write_meta(&txn, &new_keys)
        });
        if let Err(err) = prepared {
            discard(txn);
            let err = self.abandon_rekey(err);
            if let Some(payload) = retain_panic.into_inner() {
                resume_unwind(payload);
            }
            return Err(err);
        }
        {
            let mut keys = self.keys.write().map_err(|_| Error::Poisoned)?;
            self.commit(txn)?;
            *keys = Arc::new(new_keys);
        }

        // Step 3: destroy the old KEK: overwrite it in place, then move the next one over it.
        finish_kek_switch(&self.dir).map_err(|e| self.fail(e.into()))
    }

    /// A rekey failed before its commit: nothing refers to the next KEK, which is destroyed.
    fn abandon_rekey(&self, err: Error) -> Error {
        if err.is_platform_write_failure() || is_engine_panic(&err) {
            self.latch();
        }
        match fsutil::scrub_and_remove(&self.dir, KEK_NEXT_FILE) {
            Ok(()) => err,
            Err(io) => self.fail(io.into()),
        }
    }

    /// Authenticates every KEK-sealed record and checks the shape of every other one.
    fn verify_all(&self) -> Result<(), Error> {
        let (keys, txn) = self.begin_read()?;
        if txn.list_multimap_tables()?.next().is_some() {
            return Err(unexpected_table());
        }
        for handle in txn.list_tables()? {
            let name = handle.name();
            if name == META_TABLE {
                continue;
            }
            let Some(table) = caller_table(name) else {
                return Err(unexpected_table());
            };
            let opened = txn.open_table(definition(name))?;
            verify_records(&opened, &keys.kek, table)?;
        }
        Ok(())
    }

    /// A consistent pair of KEK and read snapshot.
    fn begin_read(&self) -> Result<(Arc<Keys>, redb::ReadTransaction), Error> {
        let keys = self.keys.read().map_err(|_| Error::Poisoned)?;
        let txn = self.engine.db().begin_read()?;
        Ok((Arc::clone(&keys), txn))
    }

    fn current_keys(&self) -> Result<Arc<Keys>, Error> {
        Ok(Arc::clone(&*self.keys.read().map_err(|_| Error::Poisoned)?))
    }

    fn lock_writer(&self) -> MutexGuard<'_, ()> {
        // The mutex guards no data, so a panic in an earlier writer leaves nothing to repair:
        // the engine discarded that writer's transaction.
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn ensure_writable(&self) -> Result<(), Error> {
        if self.latched.load(Ordering::Acquire) {
            Err(Error::Latched)
        } else {
            Ok(())
        }
    }

    fn latch(&self) {
        self.latched.store(true, Ordering::Release);
    }

    /// Latches and passes the error on.
    fn fail(&self, err: Error) -> Error {
        self.latch();
        err
    }

    /// A write transaction set up for durable, two-phase commits. Latches on failure.
    fn begin_write(&self) -> Result<redb::WriteTransaction, Error> {
        engine(|| {
            let mut txn = self.engine.db().begin_write()?;
            txn.set_durability(redb::Durability::Immediate)?;
            // Two-phase commit: the newest commit never depends on checksums to be recognised
            // as complete, so a damaged newest commit is reported instead of rolled back.
            txn.set_two_phase_commit(true);
            Ok(txn)
        })
        .map_err(|e| self.fail(e))
    }

    /// Commits durably. Any failure latches: the engine's state is then unknown.
    fn commit(&self, txn: redb::WriteTransaction) -> Result<(), Error> {
        engine(|| Ok(txn.commit()?)).map_err(|e| self.fail(e))
    }
}

/// Discards an uncommitted transaction. Nothing of it is on disk as committed, so a failure
/// (or an engine panic) while discarding changes nothing that was acknowledged.
fn discard(txn: redb::WriteTransaction) {
    let _ = engine(|| Ok(txn.abort()?));
}

fn get_with(
    txn: &redb::ReadTransaction,
    aead: &AeadKey,
    version: u8,
    table: &str,
    key: &[u8],
) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
    let internal = user_table(table)?;
    check_key(key)?;
    match txn.open_table(definition(&internal)) {
        Ok(opened) => read_record(&opened, aead, version, table, key),
        Err(TableError::TableDoesNotExist(_)) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

fn scan_with(
    txn: &redb::ReadTransaction,
    aead: &AeadKey,
    version: u8,
    table: &str,
) -> Result<Records, Error> {
    let internal = user_table(table)?;
    match txn.open_table(definition(&internal)) {
        Ok(opened) => scan_records(&opened, aead, version, table),
        Err(TableError::TableDoesNotExist(_)) => Ok(Vec::new()),
        Err(err) => Err(err.into()),
    }
}

#[cfg(test)]
mod tests;
