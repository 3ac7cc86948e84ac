use super::*;

/// A database written by the engine, closed cleanly.
fn engine_file() -> (tempfile::TempDir, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let def: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("t");
            let mut table = txn.open_table(def).unwrap();
            table.insert(&b"k"[..], &b"v"[..]).unwrap();
        }
        txn.commit().unwrap();
    }
    let bytes = fs::read(&path).unwrap();
    (dir, bytes)
}

fn header(bytes: &[u8]) -> [u8; HEADER_LEN] {
    bytes[..HEADER_LEN].try_into().unwrap()
}

#[test]
fn an_engine_header_passes() {
    let (dir, bytes) = engine_file();
    check_header(&dir.path().join("db")).unwrap();
    // Both slots of a cleanly closed file are whole, so the checksum really is XXH3-128.
    for slot in 0..2 {
        let start = SLOT_0_OFFSET + slot * SLOT_LEN;
        let s = &bytes[start..start + SLOT_LEN];
        let stored = u128::from_le_bytes(s[SLOT_CHECKSUM_OFFSET..].try_into().unwrap());
        assert_eq!(
            stored,
            xxhash_rust::xxh3::xxh3_128(&s[..SLOT_CHECKSUM_OFFSET])
        );
    }
}

#[test]
fn any_damage_to_the_primary_slot_is_refused() {
    let (_dir, bytes) = engine_file();
    let good = header(&bytes);
    let primary = usize::from(good[GOD_BYTE_OFFSET] & PRIMARY_BIT);
    let start = SLOT_0_OFFSET + primary * SLOT_LEN;
    for i in (0..MAGIC.len()).chain(start..start + SLOT_LEN) {
        let mut bad = good;
        bad[i] ^= 0x20;
        assert!(
            matches!(check_header_bytes(&bad), Err(Error::Integrity { .. })),
            "byte {i}"
        );
    }
}

#[test]
fn short_and_foreign_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    for contents in [&b""[..], &b"redb"[..], &[0u8; 4096][..]] {
        fs::write(&path, contents).unwrap();
        assert!(matches!(check_header(&path), Err(Error::Integrity { .. })));
    }
}
