//! Names and limits of the files and database tables, and the record reads shared by read and
//! write transactions.

use redb::{ReadableTable, TableDefinition};
use zeroize::Zeroizing;

use crate::error::Error;
use crate::seal::{AeadKey, Domain, Place, VERSION_KEK, VERSION_SEAL_KEY, stored_version};

/// The database file inside the data directory.
pub(crate) const DB_FILE: &str = "store.redb";
/// The current KEK file.
pub(crate) const KEK_FILE: &str = "kek";
/// The KEK file being introduced by a rekey.
pub(crate) const KEK_NEXT_FILE: &str = "kek.next";

/// Prefix of the database table holding a caller table's records.
pub(crate) const USER_PREFIX: &str = "u:";
/// The store's own metadata table.
pub(crate) const META_TABLE: &str = "s:meta";
/// Metadata key of the KEK id (16 bytes, in clear).
pub(crate) const META_KEK_ID: &[u8] = b"kek_id";
/// Metadata key of the store format version (u32 LE, sealed under the KEK).
pub(crate) const META_FORMAT: &[u8] = b"format";
/// The store format this code writes and reads.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// Opened records of one table as `(key, value)` pairs in key order.
pub(crate) type Records = Vec<(Vec<u8>, Zeroizing<Vec<u8>>)>;

/// Longest accepted table name, in bytes.
pub const MAX_TABLE_NAME_LEN: usize = 255;
/// Longest accepted record key, in bytes.
pub const MAX_KEY_LEN: usize = 4096;
/// Longest accepted record value, in bytes (before sealing).
pub const MAX_VALUE_LEN: usize = 64 * 1024 * 1024;

/// The definition of a database table by its internal name; every table maps byte strings to
/// byte strings.
pub(crate) fn definition(name: &str) -> TableDefinition<'_, &'static [u8], &'static [u8]> {
    TableDefinition::new(name)
}

/// Whether the transaction sees a table of this internal name.
pub(crate) fn table_exists(txn: &redb::WriteTransaction, internal: &str) -> Result<bool, Error> {
    Ok(txn
        .list_tables()?
        .any(|handle| redb::TableHandle::name(&handle) == internal))
}

/// Deletes a table with its records; returns whether it existed.
///
/// The table is emptied before it is deleted: redb 3.1 deleting a table whose pages were
/// written earlier in the same transaction queues those uncommitted pages on its deferred-free
/// list (a debug assertion fires; fixed upstream after 3.1.3). Removing the records first frees
/// such pages through the normal path and leaves no pages to the deletion.
pub(crate) fn delete_table(txn: &redb::WriteTransaction, internal: &str) -> Result<bool, Error> {
    if !table_exists(txn, internal)? {
        return Ok(false);
    }
    txn.open_table(definition(internal))?.retain(|_, _| false)?;
    Ok(txn.delete_table(definition(internal))?)
}

/// The internal name of the database table that holds caller table `table`.
pub(crate) fn user_table(table: &str) -> Result<String, Error> {
    if table.is_empty() || table.len() > MAX_TABLE_NAME_LEN {
        return Err(Error::InvalidArgument {
            what: "table name must be 1 to 255 bytes",
        });
    }
    Ok(format!("{USER_PREFIX}{table}"))
}

/// The caller table name behind an internal table name, if it is a caller table.
pub(crate) fn caller_table(internal: &str) -> Option<&str> {
    internal
        .strip_prefix(USER_PREFIX)
        .filter(|t| !t.is_empty() && t.len() <= MAX_TABLE_NAME_LEN)
}

pub(crate) fn check_key(key: &[u8]) -> Result<(), Error> {
    if key.len() > MAX_KEY_LEN {
        return Err(Error::InvalidArgument {
            what: "record key longer than MAX_KEY_LEN",
        });
    }
    Ok(())
}

pub(crate) fn check_value(value: &[u8]) -> Result<(), Error> {
    if value.len() > MAX_VALUE_LEN {
        return Err(Error::InvalidArgument {
            what: "record value longer than MAX_VALUE_LEN",
        });
    }
    Ok(())
}

/// Where a caller record lives, as associated data.
pub(crate) fn record_place<'a>(table: &'a str, key: &'a [u8]) -> Place<'a> {
    Place {
        domain: Domain::Record,
        table,
        key,
    }
}

/// Where a metadata record lives, as associated data.
pub(crate) fn meta_place(key: &[u8]) -> Place<'_> {
    Place {
        domain: Domain::Meta,
        table: META_TABLE,
        key,
    }
}

/// Reads and opens one caller record from an opened table.
pub(crate) fn read_record<T>(
    table: &T,
    aead: &AeadKey,
    version: u8,
    caller_table: &str,
    key: &[u8],
) -> Result<Option<Zeroizing<Vec<u8>>>, Error>
where
    T: ReadableTable<&'static [u8], &'static [u8]>,
{
    let Some(stored) = table.get(key)? else {
        return Ok(None);
    };
    aead.open(version, record_place(caller_table, key), stored.value())
        .map(Some)
}

/// Reads and opens every record of an opened caller table, in key order.
pub(crate) fn scan_records<T>(
    table: &T,
    aead: &AeadKey,
    version: u8,
    caller_table: &str,
) -> Result<Records, Error>
where
    T: ReadableTable<&'static [u8], &'static [u8]>,
{
    let mut out = Vec::new();
    for entry in table.iter()? {
        let (key, stored) = entry?;
        let key = key.value().to_vec();
        let plain = aead.open(version, record_place(caller_table, &key), stored.value())?;
        out.push((key, plain));
    }
    Ok(out)
}

/// Authenticates every KEK-sealed record of an opened caller table and checks the shape of the
/// SealKey-sealed ones. Returns the number of records.
pub(crate) fn verify_records<T>(table: &T, kek: &AeadKey, caller_table: &str) -> Result<u64, Error>
where
    T: ReadableTable<&'static [u8], &'static [u8]>,
{
    let mut count = 0u64;
    for entry in table.iter()? {
        let (key, stored) = entry?;
        let key = key.value();
        let stored = stored.value();
        match stored_version(stored) {
            Some(VERSION_KEK) => {
                kek.open(VERSION_KEK, record_place(caller_table, key), stored)?;
            }
            Some(VERSION_SEAL_KEY) => {}
            _ => {
                return Err(Error::Integrity {
                    what: format!("record in table {caller_table:?} has an unknown format"),
                });
            }
        }
        count = count.saturating_add(1);
    }
    Ok(count)
}
