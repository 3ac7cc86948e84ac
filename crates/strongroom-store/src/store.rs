//! The store: opening, reading, committing and rekeying.

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, TableError, TableHandle};
use zeroize::Zeroizing;

use crate::error::{Error, KekFault};
use crate::fsutil;
use crate::kek::{self, KdfParams, KekFile, KekId, Unlocked, Wrap};
use crate::layout::{
    DB_FILE, FORMAT_VERSION, KEK_FILE, KEK_NEXT_FILE, META_FORMAT, META_KEK_ID, META_TABLE,
    caller_table, check_key, definition, meta_place, read_record, record_place, scan_records,
    user_table, verify_records,
};
use crate::seal::{AeadKey, KEY_LEN, SealKey, VERSION_KEK, VERSION_SEAL_KEY, random, stored_version};
use crate::txn::WriteTxn;

/// Page cache of the storage engine. The store's data is small; the engine's default (1 GiB)
/// is far more than needed.
const CACHE_BYTES: usize = 32 * 1024 * 1024;

/// How to open a [`Store`].
pub struct OpenOptions {
    /// Wraps the KEK; `None` keeps the KEK in its file as is.
    passphrase: Option<Zeroizing<Vec<u8>>>,
    /// Create the directory, KEK file and database when absent.
    create: bool,
    /// Authenticate every record before returning from `open`.
    verify: bool,
    /// Argon2id cost for a KEK file created by this open.
    kdf: KdfParams,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl OpenOptions {
    /// Open an existing store without a passphrase, authenticating every record.
    pub fn new() -> Self {
        OpenOptions {
            passphrase: None,
            create: false,
            verify: true,
            kdf: KdfParams::default(),
        }
    }

    /// Whether to create the store when the directory holds none.
    pub fn create(mut self, create: bool) -> Self {
        self.create = create;
        self
    }

    /// The passphrase that wraps the KEK. A store created with one can only be opened with it;
    /// a store created without one cannot be opened with one.
    pub fn passphrase(mut self, passphrase: Zeroizing<Vec<u8>>) -> Self {
        self.passphrase = Some(passphrase);
        self
    }

    /// Argon2id cost used when this open creates a passphrase-wrapped KEK file. Opening an
    /// existing file uses the parameters stored in it.
    pub fn kdf_params(mut self, params: KdfParams) -> Self {
        self.kdf = params;
        self
    }

    pub(crate) fn set_verify(mut self, verify: bool) -> Self {
        self.verify = verify;
        self
    }
}

/// The KEK in use, with what a rekey needs to write the next KEK file.
struct Keys {
    id: KekId,
    kek: AeadKey,
    wrap: Option<Arc<Wrap>>,
}

impl Keys {
    fn from_unlocked(unlocked: Unlocked) -> Result<Keys, Error> {
        Ok(Keys {
            id: unlocked.id,
            kek: AeadKey::new(&unlocked.kek)?,
            wrap: unlocked.wrap.map(Arc::new),
        })
    }
}

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

/// The durable, sealed record store of one data directory. `Send + Sync`: share it behind an
/// `Arc`. Reads run concurrently; writes are serialized.
///
/// A closure passed to [`Store::write`] must not call [`Store::write`] or [`Store::rekey`] on
/// the same store (it would wait for itself); it reads and writes through its [`WriteTxn`].
pub struct Store {
    dir: PathBuf,
    db: redb::Database,
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
        let db_path = dir.join(DB_FILE);
        let existed = db_path.try_exists()?;
        if !existed {
            if !options.create {
                return Err(Error::NotFound);
            }
            fsutil::ensure_dir(dir)?;
        }
        // The storage engine asserts on some shapes of damaged file; such a file is an
        // integrity failure, not a crash of the caller.
        catch_unwind(AssertUnwindSafe(|| Self::open_inner(dir, &options, existed)))
            .unwrap_or_else(|_| {
                Err(Error::Integrity {
                    what: "database file: the storage engine rejected it".to_owned(),
                })
            })
    }

    fn open_inner(dir: &Path, options: &OpenOptions, existed: bool) -> Result<Store, Error> {
        let db_path = dir.join(DB_FILE);
        let mut builder = redb::Builder::new();
        builder.set_cache_size(CACHE_BYTES);
        let mut db = if existed {
            builder.open(&db_path)?
        } else {
            let db = builder.create(&db_path)?;
            fsutil::sync_dir(dir)?;
            db
        };
        if options.verify {
            // Walks every page against its checksum; a damaged page fails here rather than
            // being parsed.
            db.check_integrity()?;
        }
        // Leftovers of an atomic write cut short hold no committed key.
        fsutil::scrub_and_remove(dir, &format!("{KEK_FILE}.tmp"))?;
        fsutil::scrub_and_remove(dir, &format!("{KEK_NEXT_FILE}.tmp"))?;

        let keys = match read_meta(&db)? {
            None => initialize(dir, &db, options)?,
            Some(meta) => {
                let keys = Keys::from_unlocked(resolve_kek(dir, &meta.kek_id, options)?)?;
                check_format(&keys.kek, &meta.format)?;
                keys
            }
        };
        let store = Store {
            dir: dir.to_owned(),
            db,
            keys: RwLock::new(Arc::new(keys)),
            writer: Mutex::new(()),
            latched: AtomicBool::new(false),
        };
        if options.verify {
            store.verify_all()?;
        }
        Ok(store)
    }

    /// Whether `dir` holds a store, or the remains of one (a database or a KEK file).
    pub fn exists(dir: &Path) -> bool {
        [DB_FILE, KEK_FILE, KEK_NEXT_FILE]
            .iter()
            .any(|name| dir.join(name).exists())
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
        Ok(())
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The KEK-sealed value at `(table, key)`.
    pub fn get(&self, table: &str, key: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
        let (keys, txn) = self.begin_read()?;
        get_with(&txn, &keys.kek, VERSION_KEK, table, key)
    }

    /// The value sealed under `seal_key` at `(table, key)`.
    pub fn get_sealed(
        &self,
        seal_key: &SealKey,
        table: &str,
        key: &[u8],
    ) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
        let aead = seal_key.aead()?;
        let (_keys, txn) = self.begin_read()?;
        get_with(&txn, &aead, VERSION_SEAL_KEY, table, key)
    }

    /// Every KEK-sealed record of `table`, in key order (bytewise). A missing table is empty.
    pub fn scan(&self, table: &str) -> Result<Vec<(Vec<u8>, Zeroizing<Vec<u8>>)>, Error> {
        let (keys, txn) = self.begin_read()?;
        scan_with(&txn, &keys.kek, VERSION_KEK, table)
    }

    /// Every record of `table` sealed under `seal_key`, in key order.
    pub fn scan_sealed(
        &self,
        seal_key: &SealKey,
        table: &str,
    ) -> Result<Vec<(Vec<u8>, Zeroizing<Vec<u8>>)>, Error> {
        let aead = seal_key.aead()?;
        let (_keys, txn) = self.begin_read()?;
        scan_with(&txn, &aead, VERSION_SEAL_KEY, table)
    }

    /// Names of the caller tables, sorted.
    pub fn tables(&self) -> Result<Vec<String>, Error> {
        let (_keys, txn) = self.begin_read()?;
        let mut names: Vec<String> = txn
            .list_tables()?
            .filter_map(|handle| caller_table(handle.name()).map(str::to_owned))
            .collect();
        names.sort();
        Ok(names)
    }

    /// Size of the database file and counts of tables and records.
    pub fn stats(&self) -> Result<StoreStats, Error> {
        let file_bytes = fs::metadata(self.dir.join(DB_FILE))?.len();
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
    }

    /// Runs `body` in one write transaction and commits it durably (fsync) before returning
    /// `Ok`. If `body` returns `Err` nothing is written. If the commit fails the store latches.
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
        let outcome = body(&mut wtxn);
        let (txn, engine_failed) = wtxn.into_parts();
        if engine_failed {
            self.latch();
            drop(txn);
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
                // Dropping an uncommitted transaction discards it; an error while discarding
                // changes nothing on disk.
                let _ = txn.abort();
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
        let prepared = self.begin_write().and_then(|txn| {
            reseal_all(&txn, &old.kek, &new_keys.kek, &retain)?;
            write_meta(&txn, &new_keys)?;
            Ok(txn)
        });
        let txn = match prepared {
            Ok(txn) => txn,
            Err(err) => {
                // Nothing committed: the next KEK protects nothing and is destroyed.
                if err.is_platform_write_failure() {
                    self.latch();
                }
                fsutil::scrub_and_remove(&self.dir, KEK_NEXT_FILE)
                    .map_err(|e| self.fail(e.into()))?;
                return Err(err);
            }
        };
        {
            let mut keys = self.keys.write().map_err(|_| Error::Poisoned)?;
            self.commit(txn)?;
            *keys = Arc::new(new_keys);
        }

        // Step 3: destroy the old KEK: overwrite it in place, then move the next one over it.
        self.finish_kek_switch().map_err(|e| self.fail(e.into()))
    }

    fn finish_kek_switch(&self) -> std::io::Result<()> {
        finish_kek_switch(&self.dir)
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
        let txn = self.db.begin_read()?;
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

    fn begin_write(&self) -> Result<redb::WriteTransaction, Error> {
        let mut txn = self.db.begin_write().map_err(|e| self.fail(e.into()))?;
        txn.set_durability(redb::Durability::Immediate)?;
        // Two-phase commit: the newest commit never depends on checksums to be recognised as
        // complete, so a damaged newest commit is reported instead of rolled back.
        txn.set_two_phase_commit(true);
        Ok(txn)
    }

    fn commit(&self, txn: redb::WriteTransaction) -> Result<(), Error> {
        txn.commit().map_err(|e| self.fail(e.into()))
    }
}

fn unexpected_table() -> Error {
    Error::Integrity {
        what: "database holds a table the store did not create".to_owned(),
    }
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
) -> Result<Vec<(Vec<u8>, Zeroizing<Vec<u8>>)>, Error> {
    let internal = user_table(table)?;
    match txn.open_table(definition(&internal)) {
        Ok(opened) => scan_records(&opened, aead, version, table),
        Err(TableError::TableDoesNotExist(_)) => Ok(Vec::new()),
        Err(err) => Err(err.into()),
    }
}

/// The metadata as stored: KEK id in clear, format version still sealed.
struct Meta {
    kek_id: KekId,
    format: Vec<u8>,
}

fn read_meta(db: &redb::Database) -> Result<Option<Meta>, Error> {
    let txn = db.begin_read()?;
    let table = match txn.open_table(definition(META_TABLE)) {
        Ok(table) => table,
        Err(TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(err) => return Err(err.into()),
    };
    let damaged = || Error::Integrity {
        what: "store metadata is incomplete".to_owned(),
    };
    let kek_id = table.get(META_KEK_ID)?.ok_or_else(damaged)?;
    let kek_id: [u8; kek::ID_LEN] = kek_id.value().try_into().map_err(|_| damaged())?;
    let format = table.get(META_FORMAT)?.ok_or_else(damaged)?.value().to_vec();
    if table.len()? != 2 {
        return Err(damaged());
    }
    Ok(Some(Meta {
        kek_id: KekId(kek_id),
        format,
    }))
}

fn check_format(kek: &AeadKey, sealed: &[u8]) -> Result<(), Error> {
    let plain = kek.open(VERSION_KEK, meta_place(META_FORMAT), sealed)?;
    let version: [u8; 4] = plain[..].try_into().map_err(|_| Error::Integrity {
        what: "store metadata is malformed".to_owned(),
    })?;
    if u32::from_le_bytes(version) != FORMAT_VERSION {
        return Err(Error::Integrity {
            what: format!(
                "store format {} is not supported",
                u32::from_le_bytes(version)
            ),
        });
    }
    Ok(())
}

/// Stores the KEK id and the sealed format version.
fn write_meta(txn: &redb::WriteTransaction, keys: &Keys) -> Result<(), Error> {
    let format = keys.kek.seal(
        VERSION_KEK,
        meta_place(META_FORMAT),
        &FORMAT_VERSION.to_le_bytes(),
    )?;
    let mut table = txn.open_table(definition(META_TABLE))?;
    table.insert(META_KEK_ID, &keys.id.0[..])?;
    table.insert(META_FORMAT, &format[..])?;
    Ok(())
}

/// First open of a new database: adopt the KEK file left by an interrupted creation, or make
/// one, then record its id.
fn initialize(dir: &Path, db: &redb::Database, options: &OpenOptions) -> Result<Keys, Error> {
    if !options.create {
        return Err(Error::NotFound);
    }
    {
        let txn = db.begin_read()?;
        if txn.list_tables()?.next().is_some() || txn.list_multimap_tables()?.next().is_some() {
            return Err(Error::Integrity {
                what: "database holds tables but no store metadata".to_owned(),
            });
        }
    }
    let passphrase = options.passphrase.as_ref().map(|p| &p[..]);
    let unlocked = match fsutil::read_if_exists(dir, KEK_FILE, kek::MAX_FILE_LEN)? {
        Some(bytes) => KekFile::parse(bytes)
            .map_err(Error::Kek)?
            .unlock(passphrase)?,
        None => {
            let id = KekId::generate()?;
            let kek_bytes = random::<KEY_LEN>()?;
            let wrap = match passphrase {
                Some(p) => Some(Wrap::derive_new(p, options.kdf)?),
                None => None,
            };
            let file = kek::encode(&id, &kek_bytes, wrap.as_ref())?;
            fsutil::write_atomic(dir, KEK_FILE, &file)?;
            Unlocked {
                id,
                kek: kek_bytes,
                wrap,
            }
        }
    };
    fsutil::scrub_and_remove(dir, KEK_NEXT_FILE)?;
    let keys = Keys::from_unlocked(unlocked)?;
    let mut txn = db.begin_write()?;
    txn.set_durability(redb::Durability::Immediate)?;
    txn.set_two_phase_commit(true);
    write_meta(&txn, &keys)?;
    txn.commit()?;
    Ok(keys)
}

/// Finds the KEK the database was committed under (see DESIGN.md, "Rekey protocol") and
/// completes an interrupted rekey.
fn resolve_kek(dir: &Path, db_id: &KekId, options: &OpenOptions) -> Result<Unlocked, Error> {
    let passphrase = options.passphrase.as_ref().map(|p| &p[..]);
    let current = fsutil::read_if_exists(dir, KEK_FILE, kek::MAX_FILE_LEN)?.map(KekFile::parse);
    let next = fsutil::read_if_exists(dir, KEK_NEXT_FILE, kek::MAX_FILE_LEN)?.map(KekFile::parse);

    if let Some(Ok(file)) = &current
        && file.id().matches(db_id)
    {
        let unlocked = file.unlock(passphrase)?;
        if next.is_some() {
            // A rekey wrote its next KEK but never committed: that key protects nothing.
            fsutil::scrub_and_remove(dir, KEK_NEXT_FILE)?;
        }
        return Ok(unlocked);
    }
    if let Some(Ok(file)) = &next
        && file.id().matches(db_id)
    {
        // A rekey committed but did not finish replacing the KEK file. Unlock first so that a
        // wrong passphrase destroys nothing.
        let unlocked = file.unlock(passphrase)?;
        finish_kek_switch(dir)?;
        return Ok(unlocked);
    }
    match current {
        None => Err(Error::Kek(KekFault::Missing)),
        Some(Err(fault)) => Err(Error::Kek(fault)),
        Some(Ok(_)) => Err(Error::Integrity {
            what: "the KEK file does not belong to this database".to_owned(),
        }),
    }
}

/// Overwrites `kek` with zeros in place, moves `kek.next` over it and syncs the directory.
fn finish_kek_switch(dir: &Path) -> std::io::Result<()> {
    fsutil::scrub(dir, KEK_FILE)?;
    fs::rename(dir.join(KEK_NEXT_FILE), dir.join(KEK_FILE))?;
    fsutil::sync_dir(dir)
}

/// Rekey body: keeps or deletes every caller record, re-sealing the kept KEK-sealed ones.
fn reseal_all(
    txn: &redb::WriteTransaction,
    old: &AeadKey,
    new: &AeadKey,
    retain: &dyn Fn(&str, &[u8]) -> bool,
) -> Result<(), Error> {
    let names: Vec<String> = txn
        .list_tables()?
        .map(|handle| handle.name().to_owned())
        .filter(|name| name != META_TABLE)
        .collect();
    for internal in names {
        let Some(table) = caller_table(&internal) else {
            return Err(unexpected_table());
        };
        let mut opened = txn.open_table(definition(&internal))?;
        let mut entries = Vec::new();
        for entry in opened.iter()? {
            let (key, stored) = entry?;
            let key = key.value().to_vec();
            let keep = retain(table, &key);
            entries.push((key, stored.value().to_vec(), keep));
        }
        if !entries.iter().any(|(_, _, keep)| *keep) {
            drop(opened);
            txn.delete_table(definition(&internal))?;
            continue;
        }
        for (key, stored, keep) in entries {
            if !keep {
                opened.remove(&key[..])?;
                continue;
            }
            match stored_version(&stored) {
                Some(VERSION_KEK) => {
                    let place = record_place(table, &key);
                    let plain = old.open(VERSION_KEK, place, &stored)?;
                    let sealed = new.seal(VERSION_KEK, place, &plain)?;
                    opened.insert(&key[..], &sealed[..])?;
                }
                // Sealed under the caller's key, which the retained records still hold.
                Some(VERSION_SEAL_KEY) => {}
                _ => {
                    return Err(Error::Integrity {
                        what: format!("record in table {table:?} has an unknown format"),
                    });
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
