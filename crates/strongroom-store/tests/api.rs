//! The public API against real data directories.

use std::fs;
use std::path::Path;

use redb::{ReadableDatabase, TableDefinition};
use strongroom_store::{Error, KdfParams, KekFault, OpenOptions, SealKey, Store, WriteTxn, danger};
use zeroize::Zeroizing;

/// Internal name of the database table behind caller table `t` (see DESIGN.md).
fn raw_table(t: &str) -> String {
    format!("u:{t}")
}

fn create(dir: &Path) -> Store {
    Store::open(dir, OpenOptions::new().create(true)).unwrap()
}

fn reopen(dir: &Path) -> Store {
    Store::open(dir, OpenOptions::new()).unwrap()
}

fn fast_kdf() -> KdfParams {
    KdfParams::new(KdfParams::MIN_MEMORY_KIB, KdfParams::MIN_ITERATIONS, 1).unwrap()
}

fn pass(p: &str) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(p.as_bytes().to_vec())
}

fn get(store: &Store, table: &str, key: &[u8]) -> Option<Vec<u8>> {
    store.get(table, key).unwrap().map(|v| v.to_vec())
}

fn scan(store: &Store, table: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    store
        .scan(table)
        .unwrap()
        .into_iter()
        .map(|(k, v)| (k, v.to_vec()))
        .collect()
}

#[test]
fn round_trip_overwrite_delete_and_drop() {
    let tmp = tempfile::tempdir().unwrap();
    let store = create(tmp.path());
    assert_eq!(get(&store, "hsm", b"missing"), None);
    assert!(store.tables().unwrap().is_empty());

    store
        .write(|t| {
            t.put("hsm", b"label", b"appliance one")?;
            t.put("hsm", b"empty", b"")?;
            t.put("partitions", b"2", b"two")?;
            t.put("partitions", b"1", b"one")?;
            t.put("partitions", b"10", b"ten")?;
            t.put("partition.1", &[0xFF, 0x00], &[0u8; 1000])?;
            Ok(())
        })
        .unwrap();
    assert_eq!(get(&store, "hsm", b"label").unwrap(), b"appliance one");
    assert_eq!(get(&store, "hsm", b"empty").unwrap(), b"");
    assert_eq!(
        store.tables().unwrap(),
        ["hsm", "partition.1", "partitions"]
    );
    // Bytewise key order.
    let keys: Vec<Vec<u8>> = scan(&store, "partitions")
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, [b"1".to_vec(), b"10".to_vec(), b"2".to_vec()]);

    // Overwrite and delete.
    store
        .write(|t| {
            t.put("hsm", b"label", b"appliance renamed")?;
            assert!(t.delete("partitions", b"10")?);
            assert!(!t.delete("partitions", b"10")?);
            assert!(!t.delete("no such table", b"x")?);
            Ok(())
        })
        .unwrap();
    assert_eq!(get(&store, "hsm", b"label").unwrap(), b"appliance renamed");
    assert_eq!(get(&store, "partitions", b"10"), None);

    // Drop a table.
    let dropped = store.write(|t| t.drop_table("partition.1")).unwrap();
    assert!(dropped);
    assert!(!store.write(|t| t.drop_table("partition.1")).unwrap());
    assert_eq!(store.tables().unwrap(), ["hsm", "partitions"]);
    assert!(store.scan("partition.1").unwrap().is_empty());

    // Everything survives a reopen.
    drop(store);
    let store = reopen(tmp.path());
    assert_eq!(get(&store, "hsm", b"label").unwrap(), b"appliance renamed");
    assert_eq!(
        scan(&store, "partitions"),
        [
            (b"1".to_vec(), b"one".to_vec()),
            (b"2".to_vec(), b"two".to_vec())
        ]
    );
    let stats = store.stats().unwrap();
    assert_eq!((stats.tables, stats.records), (2, 4));
    assert!(stats.file_bytes > 0);
}

#[test]
fn reads_inside_a_transaction_see_its_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let store = create(tmp.path());
    store.write(|t| t.put("t", b"a", b"old")).unwrap();
    store
        .write(|t| {
            assert_eq!(&t.get("t", b"a")?.unwrap()[..], b"old");
            t.put("t", b"a", b"new")?;
            t.put("t", b"b", b"bee")?;
            assert_eq!(&t.get("t", b"a")?.unwrap()[..], b"new");
            assert_eq!(t.scan("t")?.len(), 2);
            t.delete("t", b"b")?;
            assert_eq!(t.get("t", b"b")?, None);
            // A read of a missing table does not create it.
            assert_eq!(t.get("ghost", b"x")?, None);
            assert!(t.scan("ghost")?.is_empty());
            assert_eq!(t.tables()?, ["t"]);
            t.drop_table("t")?;
            assert_eq!(t.get("t", b"a")?, None);
            t.put("t", b"c", b"sea")?;
            Ok(())
        })
        .unwrap();
    assert_eq!(scan(&store, "t"), [(b"c".to_vec(), b"sea".to_vec())]);
    assert_eq!(store.tables().unwrap(), ["t"]);
}

#[test]
fn a_failing_body_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let store = create(tmp.path());
    store.write(|t| t.put("t", b"keep", b"1")).unwrap();
    let result: Result<(), Error> = store.write(|t| {
        t.put("t", b"keep", b"overwritten")?;
        t.put("t", b"new", b"2")?;
        t.put("fresh table", b"k", b"v")?;
        t.delete("t", b"keep")?;
        Err(Error::InvalidArgument { what: "abort" })
    });
    assert!(matches!(
        result,
        Err(Error::InvalidArgument { what: "abort" })
    ));
    assert_eq!(scan(&store, "t"), [(b"keep".to_vec(), b"1".to_vec())]);
    assert_eq!(store.tables().unwrap(), ["t"]);

    // The body may use its own error type.
    #[derive(Debug)]
    enum Mine {
        Refused,
        Store(Error),
    }
    impl From<Error> for Mine {
        fn from(e: Error) -> Self {
            Mine::Store(e)
        }
    }
    let result = store.write_with(|t: &mut WriteTxn<'_>| -> Result<(), Mine> {
        t.put("t", b"new", b"2")?;
        Err(Mine::Refused)
    });
    assert!(matches!(result, Err(Mine::Refused)));
    assert_eq!(get(&store, "t", b"new"), None);
    let result = store.write_with(|t: &mut WriteTxn<'_>| -> Result<(), Mine> {
        t.put("t", b"new", b"2")?;
        t.put("", b"k", b"v")?;
        Ok(())
    });
    assert!(matches!(
        result,
        Err(Mine::Store(Error::InvalidArgument { .. }))
    ));
    assert_eq!(get(&store, "t", b"new"), None);

    // Nor does a panicking body, and the store stays usable.
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = store.write(|t| -> Result<(), Error> {
            t.put("t", b"new", b"2")?;
            panic!("body panics");
        });
    }));
    assert!(caught.is_err());
    assert_eq!(get(&store, "t", b"new"), None);
    store.write(|t| t.put("t", b"after", b"3")).unwrap();
    drop(store);
    let store = reopen(tmp.path());
    assert_eq!(store.scan("t").unwrap().len(), 2);
}

/// Copies the stored bytes of one record onto another place with redb directly.
fn copy_raw(dir: &Path, from: (&str, &[u8]), to: (&str, &[u8])) {
    let db = redb::Database::open(dir.join("store.redb")).unwrap();
    let from_name = raw_table(from.0);
    let to_name = raw_table(to.0);
    let raw = {
        let txn = db.begin_read().unwrap();
        let table = txn
            .open_table(TableDefinition::<&[u8], &[u8]>::new(&from_name))
            .unwrap();
        table.get(from.1).unwrap().unwrap().value().to_vec()
    };
    let txn = db.begin_write().unwrap();
    {
        let mut table = txn
            .open_table(TableDefinition::<&[u8], &[u8]>::new(&to_name))
            .unwrap();
        table.insert(to.1, &raw[..]).unwrap();
    }
    txn.commit().unwrap();
}

fn open_unverified(dir: &Path) -> Store {
    // The point of these tests is what a read finds, so the scan on open is skipped.
    Store::open(dir, danger::skip_integrity_scan(OpenOptions::new())).unwrap()
}

#[test]
fn a_record_moved_to_another_key_or_table_fails_to_open() {
    for target in [
        ("hsm", &b"b"[..]),
        ("other", &b"a"[..]),
        ("hsm", &b"a\0"[..]),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let store = create(tmp.path());
        store
            .write(|t| {
                t.put("hsm", b"a", b"secret value A")?;
                t.put("hsm", b"b", b"value B")?;
                t.put("other", b"a", b"other A")
            })
            .unwrap();
        drop(store);
        copy_raw(tmp.path(), ("hsm", b"a"), target);

        // The full scan on open finds it.
        assert!(matches!(
            Store::open(tmp.path(), OpenOptions::new()),
            Err(Error::Integrity { .. })
        ));
        // A read finds it, and never returns the other record's value.
        let store = open_unverified(tmp.path());
        assert!(matches!(
            store.get(target.0, target.1),
            Err(Error::Integrity { .. })
        ));
        assert!(matches!(store.scan(target.0), Err(Error::Integrity { .. })));
        assert_eq!(get(&store, "hsm", b"a").unwrap(), b"secret value A");
    }
}

#[test]
fn seal_key_records() {
    let tmp = tempfile::tempdir().unwrap();
    let store = create(tmp.path());
    let pkey = SealKey::generate().unwrap();
    store
        .write(|t| {
            t.put("partitions", b"7", pkey.expose_bytes())?;
            t.put_sealed(&pkey, "partition.7", b"obj1", b"private key bytes")?;
            t.put_sealed(&pkey, "partition.7", b"obj2", b"more")?;
            assert_eq!(
                &t.get_sealed(&pkey, "partition.7", b"obj1")?.unwrap()[..],
                b"private key bytes"
            );
            Ok(())
        })
        .unwrap();
    drop(store);

    // The integrity scan skips SealKey records (it cannot open them) and the module reloads
    // its key from a KEK-sealed record.
    let store = reopen(tmp.path());
    let stored = store.get("partitions", b"7").unwrap().unwrap();
    let reloaded = SealKey::from_bytes(&stored[..].try_into().unwrap());
    let objects = store.scan_sealed(&reloaded, "partition.7").unwrap();
    assert_eq!(objects.len(), 2);
    assert_eq!(&objects[0].1[..], b"private key bytes");

    // Wrong key or wrong kind of read: integrity failure, no data.
    let wrong = SealKey::generate().unwrap();
    assert!(matches!(
        store.get_sealed(&wrong, "partition.7", b"obj1"),
        Err(Error::Integrity { .. })
    ));
    assert!(matches!(
        store.get("partition.7", b"obj1"),
        Err(Error::Integrity { .. })
    ));
    assert!(matches!(
        store.get_sealed(&reloaded, "partitions", b"7"),
        Err(Error::Integrity { .. })
    ));
    drop(store);

    // A SealKey record moved elsewhere opens neither under the SealKey.
    copy_raw(
        tmp.path(),
        ("partition.7", b"obj1"),
        ("partition.7", b"obj2"),
    );
    let store = reopen(tmp.path());
    assert!(matches!(
        store.get_sealed(&reloaded, "partition.7", b"obj2"),
        Err(Error::Integrity { .. })
    ));
}

#[test]
fn a_truncated_record_fails_the_open_scan() {
    let tmp = tempfile::tempdir().unwrap();
    let store = create(tmp.path());
    let pkey = SealKey::generate().unwrap();
    store
        .write(|t| t.put_sealed(&pkey, "p", b"o", b"v"))
        .unwrap();
    drop(store);
    let db = redb::Database::open(tmp.path().join("store.redb")).unwrap();
    let txn = db.begin_write().unwrap();
    {
        let name = raw_table("p");
        let mut table = txn
            .open_table(TableDefinition::<&[u8], &[u8]>::new(&name))
            .unwrap();
        table.insert(&b"o"[..], &[2u8, 1, 2, 3][..]).unwrap();
    }
    txn.commit().unwrap();
    drop(db);
    assert!(matches!(
        Store::open(tmp.path(), OpenOptions::new()),
        Err(Error::Integrity { .. })
    ));
}

#[test]
fn passphrase_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let options = || {
        OpenOptions::new()
            .passphrase(pass("Tr0ub4dor&3"))
            .kdf_params(fast_kdf())
    };
    let store = Store::open(tmp.path(), options().create(true)).unwrap();
    store.write(|t| t.put("hsm", b"k", b"v")).unwrap();
    drop(store);
    let kek_file = fs::read(tmp.path().join("kek")).unwrap();
    assert_eq!(kek_file.len(), 113);
    assert_eq!(kek_file[8], 1);

    let store = Store::open(tmp.path(), options()).unwrap();
    assert_eq!(get(&store, "hsm", b"k").unwrap(), b"v");
    drop(store);

    let wrong = Store::open(
        tmp.path(),
        OpenOptions::new().passphrase(pass("Tr0ub4dor&4")),
    );
    assert!(matches!(wrong, Err(Error::Kek(KekFault::Rejected))));
    let none = Store::open(tmp.path(), OpenOptions::new());
    assert!(matches!(
        none,
        Err(Error::Kek(KekFault::PassphraseRequired))
    ));
    // A wrong passphrase changed nothing.
    assert_eq!(fs::read(tmp.path().join("kek")).unwrap(), kek_file);

    // Rekey keeps the passphrase.
    let store = Store::open(tmp.path(), options()).unwrap();
    store.rekey(|_, _| true).unwrap();
    drop(store);
    assert_ne!(fs::read(tmp.path().join("kek")).unwrap(), kek_file);
    let store = Store::open(tmp.path(), options()).unwrap();
    assert_eq!(get(&store, "hsm", b"k").unwrap(), b"v");
    drop(store);
    assert!(matches!(
        Store::open(tmp.path(), OpenOptions::new().passphrase(pass("x"))),
        Err(Error::Kek(KekFault::Rejected))
    ));

    // A plain store does not open in passphrase mode.
    let plain = tempfile::tempdir().unwrap();
    drop(create(plain.path()));
    assert!(matches!(
        Store::open(plain.path(), OpenOptions::new().passphrase(pass("x"))),
        Err(Error::Kek(KekFault::PassphraseNotExpected))
    ));
    reopen(plain.path());
}

#[test]
fn missing_and_unusable_kek_files() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(matches!(
        Store::open(tmp.path(), OpenOptions::new()),
        Err(Error::NotFound)
    ));
    assert!(!Store::exists(tmp.path()));
    let store = create(tmp.path());
    assert!(Store::exists(tmp.path()));
    // One open store per database.
    assert!(matches!(
        Store::open(tmp.path(), OpenOptions::new()),
        Err(Error::InUse)
    ));
    drop(store);

    let kek = fs::read(tmp.path().join("kek")).unwrap();
    fs::remove_file(tmp.path().join("kek")).unwrap();
    for create in [false, true] {
        assert!(matches!(
            Store::open(tmp.path(), OpenOptions::new().create(create)),
            Err(Error::Kek(KekFault::Missing))
        ));
    }
    fs::write(tmp.path().join("kek"), &kek[..40]).unwrap();
    assert!(matches!(
        Store::open(tmp.path(), OpenOptions::new()),
        Err(Error::Kek(KekFault::Malformed))
    ));
    // Another store's KEK file.
    let other = tempfile::tempdir().unwrap();
    drop(create(other.path()));
    fs::copy(other.path().join("kek"), tmp.path().join("kek")).unwrap();
    assert!(matches!(
        Store::open(tmp.path(), OpenOptions::new()),
        Err(Error::Integrity { .. })
    ));
    fs::write(tmp.path().join("kek"), &kek).unwrap();
    reopen(tmp.path());
}

#[test]
fn an_interrupted_creation_is_completed() {
    let tmp = tempfile::tempdir().unwrap();
    drop(create(tmp.path()));
    let kek = fs::read(tmp.path().join("kek")).unwrap();
    // The KEK file was written but the database never got its metadata.
    fs::remove_file(tmp.path().join("store.redb")).unwrap();
    assert!(!Store::exists(tmp.path()));
    assert!(matches!(
        Store::open(tmp.path(), OpenOptions::new()),
        Err(Error::NotFound)
    ));
    let store = create(tmp.path());
    store.write(|t| t.put("t", b"k", b"v")).unwrap();
    drop(store);
    assert_eq!(fs::read(tmp.path().join("kek")).unwrap(), kek);
    reopen(tmp.path());
}

#[test]
fn destroy_removes_everything_even_a_damaged_store() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let store = create(&dir);
    store.write(|t| t.put("t", b"k", b"v")).unwrap();
    drop(store);
    fs::write(dir.join("store.redb"), b"not a database at all").unwrap();
    fs::write(dir.join("kek.next"), b"leftover").unwrap();
    Store::destroy(&dir).unwrap();
    assert!(!Store::exists(&dir));
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
    // Idempotent, and fine on a directory that never existed.
    Store::destroy(&dir).unwrap();
    Store::destroy(&tmp.path().join("never")).unwrap();
    // A fresh store can be created afterwards.
    let store = create(&dir);
    assert!(store.tables().unwrap().is_empty());
}

fn all_file_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn populate_for_rekey(store: &Store) {
    store
        .write(|t| {
            t.put("hsm", b"config", b"keep me")?;
            t.put("hsm", b"audit-key", b"drop me")?;
            t.put("partitions", b"1", b"p1")?;
            t.put("partition.1", b"obj", b"gone")?;
            Ok(())
        })
        .unwrap();
}

fn retain_rule(table: &str, key: &[u8]) -> bool {
    table == "hsm" && key == b"config" || table == "partitions"
}

fn check_after_rekey(store: &Store) {
    assert_eq!(get(store, "hsm", b"config").unwrap(), b"keep me");
    assert_eq!(get(store, "hsm", b"audit-key"), None);
    assert_eq!(get(store, "partitions", b"1").unwrap(), b"p1");
    assert_eq!(store.tables().unwrap(), ["hsm", "partitions"]);
}

fn check_before_rekey(store: &Store) {
    assert_eq!(get(store, "hsm", b"audit-key").unwrap(), b"drop me");
    assert_eq!(get(store, "partition.1", b"obj").unwrap(), b"gone");
    assert_eq!(store.tables().unwrap().len(), 3);
}

#[test]
fn rekey_keeps_retained_records_and_destroys_the_old_kek() {
    let tmp = tempfile::tempdir().unwrap();
    let store = create(tmp.path());
    let pkey = SealKey::generate().unwrap();
    populate_for_rekey(&store);
    store
        .write(|t| t.put_sealed(&pkey, "partitions", b"1.obj", b"sealed object"))
        .unwrap();
    let old_kek = fs::read(tmp.path().join("kek")).unwrap();
    let old_key_bytes = old_kek[25..57].to_vec();

    store.rekey(retain_rule).unwrap();
    // The store keeps working without a reopen.
    check_after_rekey(&store);
    assert_eq!(
        &store
            .get_sealed(&pkey, "partitions", b"1.obj")
            .unwrap()
            .unwrap()[..],
        b"sealed object"
    );
    store.write(|t| t.put("hsm", b"after", b"x")).unwrap();
    drop(store);

    // Neither the old KEK nor its file is anywhere in the directory.
    let files = all_file_bytes(tmp.path());
    assert_eq!(files.len(), 2, "only kek and store.redb remain");
    for (name, bytes) in &files {
        assert!(!contains(bytes, &old_key_bytes), "old KEK found in {name}");
        assert!(!contains(bytes, &old_kek), "old KEK file found in {name}");
    }
    let store = reopen(tmp.path());
    check_after_rekey(&store);
    drop(store);

    // The old KEK file does not open the rekeyed database.
    let new_kek = fs::read(tmp.path().join("kek")).unwrap();
    fs::write(tmp.path().join("kek"), &old_kek).unwrap();
    assert!(matches!(
        Store::open(tmp.path(), OpenOptions::new()),
        Err(Error::Integrity { .. })
    ));
    fs::write(tmp.path().join("kek"), &new_kek).unwrap();
    reopen(tmp.path());
}

#[test]
fn rekey_retaining_nothing_empties_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    let store = create(tmp.path());
    populate_for_rekey(&store);
    store.rekey(|_, _| false).unwrap();
    assert!(store.tables().unwrap().is_empty());
    drop(store);
    assert!(reopen(tmp.path()).tables().unwrap().is_empty());
}

/// Copies the files of `from` into `to` (which must exist).
fn copy_dir(from: &Path, to: &Path) {
    for (name, bytes) in all_file_bytes(from) {
        fs::write(to.join(name), bytes).unwrap();
    }
}

/// Runs a rekey on a copy and returns (files before, KEK file after).
fn rekey_snapshots(dir: &Path) -> (tempfile::TempDir, Vec<u8>) {
    let store = create(dir);
    populate_for_rekey(&store);
    drop(store);
    let before = tempfile::tempdir().unwrap();
    copy_dir(dir, before.path());
    let store = reopen(dir);
    store.rekey(retain_rule).unwrap();
    drop(store);
    let new_kek = fs::read(dir.join("kek")).unwrap();
    (before, new_kek)
}

#[test]
fn crash_after_commit_before_rename_finishes_the_rekey() {
    let tmp = tempfile::tempdir().unwrap();
    let (before, new_kek) = rekey_snapshots(tmp.path());
    let old_kek = fs::read(before.path().join("kek")).unwrap();

    // State: kek.next written, database committed, old kek still in place.
    fs::write(tmp.path().join("kek.next"), &new_kek).unwrap();
    fs::write(tmp.path().join("kek"), &old_kek).unwrap();
    let store = reopen(tmp.path());
    check_after_rekey(&store);
    drop(store);
    assert!(!tmp.path().join("kek.next").exists());
    assert_eq!(fs::read(tmp.path().join("kek")).unwrap(), new_kek);

    // State: as above, but the old kek was already overwritten with zeros.
    fs::write(tmp.path().join("kek.next"), &new_kek).unwrap();
    fs::write(tmp.path().join("kek"), vec![0u8; old_kek.len()]).unwrap();
    let store = reopen(tmp.path());
    check_after_rekey(&store);
    drop(store);
    assert_eq!(fs::read(tmp.path().join("kek")).unwrap(), new_kek);

    // State: as above, with the old kek already removed.
    fs::write(tmp.path().join("kek.next"), &new_kek).unwrap();
    fs::remove_file(tmp.path().join("kek")).unwrap();
    let store = reopen(tmp.path());
    check_after_rekey(&store);
}

#[test]
fn crash_before_commit_keeps_the_old_state_and_drops_the_next_kek() {
    let tmp = tempfile::tempdir().unwrap();
    let (before, new_kek) = rekey_snapshots(tmp.path());

    // State: kek.next written, database not committed.
    fs::write(before.path().join("kek.next"), &new_kek).unwrap();
    let store = reopen(before.path());
    check_before_rekey(&store);
    drop(store);
    assert!(!before.path().join("kek.next").exists());

    // State: kek.next only half written (its temporary file).
    fs::write(before.path().join("kek.next.tmp"), &new_kek[..50]).unwrap();
    let store = reopen(before.path());
    check_before_rekey(&store);
    drop(store);
    assert!(!before.path().join("kek.next.tmp").exists());
}

#[test]
fn concurrent_readers_during_writes_and_rekeys() {
    let tmp = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(create(tmp.path()));
    store.write(|t| t.put("t", b"fixed", b"value")).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let store = store.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut reads = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                assert_eq!(&store.get("t", b"fixed").unwrap().unwrap()[..], b"value");
                reads += 1;
            }
            reads
        })
    };
    for i in 0..10u32 {
        store.write(|t| t.put("t", &i.to_le_bytes(), b"x")).unwrap();
        if i % 3 == 0 {
            store.rekey(|_, _| true).unwrap();
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
    assert_eq!(store.scan("t").unwrap().len(), 11);
}

#[test]
fn a_panicking_retain_leaves_the_store_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let store = create(tmp.path());
    populate_for_rekey(&store);
    let kek = fs::read(tmp.path().join("kek")).unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = store.rekey(|table, _| {
            assert_ne!(table, "partitions", "retain panics");
            true
        });
    }));
    assert!(caught.is_err());
    check_before_rekey(&store);
    assert_eq!(fs::read(tmp.path().join("kek")).unwrap(), kek);
    assert!(!tmp.path().join("kek.next").exists());
    // Not latched: the caller's panic is no storage failure.
    store.rekey(retain_rule).unwrap();
    check_after_rekey(&store);
}
