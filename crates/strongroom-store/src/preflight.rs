//! Checks the storage engine's file header before the engine reads the file.
//!
//! redb 3 trusts the commit slot named by its header when the file was closed cleanly: it does
//! not check the slot's checksum there, and it sizes its first reads from the page numbers in
//! the slot. A damaged slot can make it try to allocate terabytes, which aborts the process.
//! The store therefore checks the slot itself first. The layout (redb file format 3):
//!
//! ```text
//! +--------+------+-----------------------------------------------------------+
//! | offset | size | field                                                     |
//! +--------+------+-----------------------------------------------------------+
//! | 0      | 9    | magic "redb\x1A\x0A\xA9\x0D\x0A"                          |
//! | 9      | 1    | god byte: bit 0 = primary slot, bit 1 = recovery needed,  |
//! |        |      | bit 2 = primary written with two-phase commit             |
//! | 12     | 52   | page size and region layout (checked by the engine)       |
//! | 64     | 128  | commit slot 0                                             |
//! | 192    | 128  | commit slot 1                                             |
//! +--------+------+-----------------------------------------------------------+
//!
//! commit slot:
//! +--------+------+-----------------------------------------------------------+
//! | 0      | 1    | format version = 3                                        |
//! | 1      | 111  | root pages, their checksums and lengths, transaction id   |
//! | 112    | 16   | XXH3-128 (seed 0) of bytes 0..112, u128 LE                |
//! +--------+------+-----------------------------------------------------------+
//! ```
//!
//! Every commit of the store, and every commit the engine makes on its own (repair, close),
//! uses two-phase commit, which writes the new slot and syncs it before the god byte names it.
//! So the primary slot of a file the store wrote is always whole, even after a crash, and a
//! primary slot that fails its checksum is damage.

use std::fs;
use std::io::Read;
use std::path::Path;

use crate::error::Error;

const MAGIC: [u8; 9] = [b'r', b'e', b'd', b'b', 0x1A, 0x0A, 0xA9, 0x0D, 0x0A];
const GOD_BYTE_OFFSET: usize = MAGIC.len();
const PRIMARY_BIT: u8 = 1;
const SLOT_0_OFFSET: usize = 64;
const SLOT_LEN: usize = 128;
const HEADER_LEN: usize = SLOT_0_OFFSET + 2 * SLOT_LEN;
const SLOT_CHECKSUM_OFFSET: usize = SLOT_LEN - size_of::<u128>();
const FORMAT_VERSION: u8 = 3;

/// Fails with [`Error::Integrity`] unless `path` starts with an engine header whose primary
/// commit slot is intact.
pub(crate) fn check_header(path: &Path) -> Result<(), Error> {
    let mut header = [0u8; HEADER_LEN];
    let mut file = fs::File::open(path)?;
    if let Err(err) = file.read_exact(&mut header) {
        return Err(match err.kind() {
            std::io::ErrorKind::UnexpectedEof => damaged("shorter than its header"),
            _ => err.into(),
        });
    }
    check_header_bytes(&header)
}

fn check_header_bytes(header: &[u8; HEADER_LEN]) -> Result<(), Error> {
    if header[..MAGIC.len()] != MAGIC {
        return Err(damaged("not a database"));
    }
    let primary = usize::from(header[GOD_BYTE_OFFSET] & PRIMARY_BIT);
    let start = SLOT_0_OFFSET + primary * SLOT_LEN;
    let slot = &header[start..start + SLOT_LEN];
    if slot[0] != FORMAT_VERSION {
        return Err(damaged("unknown engine format in the commit slot"));
    }
    let mut stored = [0u8; size_of::<u128>()];
    stored.copy_from_slice(&slot[SLOT_CHECKSUM_OFFSET..]);
    if u128::from_le_bytes(stored) != xxhash_rust::xxh3::xxh3_128(&slot[..SLOT_CHECKSUM_OFFSET]) {
        return Err(damaged("commit slot fails its checksum"));
    }
    Ok(())
}

fn damaged(what: &str) -> Error {
    Error::Integrity {
        what: format!("database file: {what}"),
    }
}

#[cfg(test)]
mod tests;
