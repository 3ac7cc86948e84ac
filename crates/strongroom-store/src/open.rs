//! Opening and creating a store: the metadata, the choice of KEK file, and the completion of
//! an interrupted creation or rekey (see DESIGN.md, "Open" and "Rekey protocol").

use std::fs;
use std::path::Path;
use std::sync::Arc;

use redb::{ReadableDatabase, ReadableTableMetadata, TableError};

use crate::error::{Error, KekFault};
use crate::fsutil;
use crate::kek::{self, KekFile, KekId, Unlocked, Wrap};
use crate::layout::{
    DB_FILE, FORMAT_VERSION, KEK_FILE, KEK_NEXT_FILE, META_FORMAT, META_KEK_ID, META_TABLE,
    definition, meta_place,
};
use crate::options::OpenOptions;
use crate::seal::{AeadKey, KEY_LEN, VERSION_KEK, random};

/// Page cache of the storage engine. The store's data is small; the engine's default (1 GiB)
/// is far more than needed.
pub(crate) const CACHE_BYTES: usize = 32 * 1024 * 1024;

/// The KEK in use, with what a rekey needs to write the next KEK file.
pub(crate) struct Keys {
    pub(crate) id: KekId,
    pub(crate) kek: AeadKey,
    pub(crate) wrap: Option<Arc<Wrap>>,
}

impl Keys {
    pub(crate) fn from_unlocked(unlocked: Unlocked) -> Result<Keys, Error> {
        Ok(Keys {
            id: unlocked.id,
            kek: AeadKey::new(&unlocked.kek)?,
            wrap: unlocked.wrap.map(Arc::new),
        })
    }
}

pub(crate) fn unexpected_table() -> Error {
    Error::Integrity {
        what: "database holds a table the store did not create".to_owned(),
    }
}

/// The metadata as stored: KEK id in clear, format version still sealed.
pub(crate) struct Meta {
    pub(crate) kek_id: KekId,
    pub(crate) format: Vec<u8>,
}

pub(crate) fn read_meta(db: &redb::Database) -> Result<Option<Meta>, Error> {
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
    let format = table
        .get(META_FORMAT)?
        .ok_or_else(damaged)?
        .value()
        .to_vec();
    if table.len()? != 2 {
        return Err(damaged());
    }
    Ok(Some(Meta {
        kek_id: KekId(kek_id),
        format,
    }))
}

pub(crate) fn check_format(kek: &AeadKey, sealed: &[u8]) -> Result<(), Error> {
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
pub(crate) fn write_meta(txn: &redb::WriteTransaction, keys: &Keys) -> Result<(), Error> {
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

pub(crate) fn engine_builder() -> redb::Builder {
    let mut builder = redb::Builder::new();
    builder.set_cache_size(CACHE_BYTES);
    builder
}

/// Creates a store in `dir`, which has no database: adopts the KEK file left by an
/// interrupted creation or writes a new one, builds the database with its metadata under a
/// temporary name, and renames it into place, so `store.redb` never exists without metadata.
pub(crate) fn create(dir: &Path, options: &OpenOptions) -> Result<Keys, Error> {
    fsutil::ensure_dir(dir)?;
    let tmp_name = format!("{DB_FILE}.tmp");
    fsutil::remove_if_exists(dir, &tmp_name)?;
    fsutil::scrub_and_remove(dir, &format!("{KEK_FILE}.tmp"))?;
    fsutil::scrub_and_remove(dir, &format!("{KEK_NEXT_FILE}.tmp"))?;
    // Without a database a next KEK protects nothing.
    fsutil::scrub_and_remove(dir, KEK_NEXT_FILE)?;

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
    let keys = Keys::from_unlocked(unlocked)?;

    let tmp_path = dir.join(&tmp_name);
    {
        let db = engine_builder().create(&tmp_path)?;
        let mut txn = db.begin_write()?;
        txn.set_durability(redb::Durability::Immediate)?;
        txn.set_two_phase_commit(true);
        write_meta(&txn, &keys)?;
        txn.commit()?;
    }
    fs::File::open(&tmp_path)?.sync_all()?;
    fs::rename(&tmp_path, dir.join(DB_FILE))?;
    fsutil::sync_dir(dir)?;
    Ok(keys)
}

/// Finds the KEK the database was committed under (see DESIGN.md, "Rekey protocol") and
/// completes an interrupted rekey.
pub(crate) fn resolve_kek(
    dir: &Path,
    db_id: &KekId,
    options: &OpenOptions,
) -> Result<Unlocked, Error> {
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
pub(crate) fn finish_kek_switch(dir: &Path) -> std::io::Result<()> {
    fsutil::scrub(dir, KEK_FILE)?;
    fs::rename(dir.join(KEK_NEXT_FILE), dir.join(KEK_FILE))?;
    fsutil::sync_dir(dir)
}
