//! The transaction at the heart of a rekey (see DESIGN.md, "Rekey protocol").

use redb::{ReadableTable, TableHandle};

use crate::error::Error;
use crate::layout::{META_TABLE, caller_table, definition, delete_table, record_place};
use crate::open::unexpected_table;
use crate::seal::{AeadKey, VERSION_KEK, VERSION_SEAL_KEY, stored_version};

/// Rekey body: keeps or deletes every caller record, re-sealing the kept KEK-sealed ones.
pub(crate) fn reseal_all(
    txn: &redb::WriteTransaction,
    old: &AeadKey,
    new: &AeadKey,
    retain: impl Fn(&str, &[u8]) -> Result<bool, Error>,
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
            let keep = retain(table, &key)?;
            entries.push((key, stored.value().to_vec(), keep));
        }
        if !entries.iter().any(|(_, _, keep)| *keep) {
            drop(opened);
            delete_table(txn, &internal)?;
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
