use super::*;
use std::os::unix::fs::MetadataExt;

#[test]
fn atomic_write_replaces_and_sets_mode() {
    let dir = tempfile::tempdir().unwrap();
    write_atomic(dir.path(), "f", b"one").unwrap();
    write_atomic(dir.path(), "f", b"two").unwrap();
    assert_eq!(fs::read(dir.path().join("f")).unwrap(), b"two");
    assert_eq!(
        fs::metadata(dir.path().join("f")).unwrap().mode() & 0o777,
        0o600
    );
    assert!(!dir.path().join("f.tmp").exists());
}

#[test]
fn stale_temp_file_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("f.tmp"), b"half-written").unwrap();
    write_atomic(dir.path(), "f", b"whole").unwrap();
    assert_eq!(fs::read(dir.path().join("f")).unwrap(), b"whole");
}

#[test]
fn scrub_zeroes_in_place_then_removes() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("k"), vec![0xAB; 5000]).unwrap();
    // A second link to the same inode shows what is left in the file's blocks.
    fs::hard_link(dir.path().join("k"), dir.path().join("k2")).unwrap();
    scrub_and_remove(dir.path(), "k").unwrap();
    assert!(!dir.path().join("k").exists());
    assert_eq!(fs::read(dir.path().join("k2")).unwrap(), vec![0; 5000]);
    // Absent files are fine.
    scrub_and_remove(dir.path(), "k").unwrap();
}

#[test]
fn read_if_exists_handles_absence_and_limit() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(read_if_exists(dir.path(), "x", 10).unwrap(), None);
    fs::write(dir.path().join("x"), vec![1; 100]).unwrap();
    assert_eq!(
        read_if_exists(dir.path(), "x", 10).unwrap().unwrap().len(),
        11
    );
}

#[test]
fn ensure_dir_creates_private_directory() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("a/b");
    ensure_dir(&dir).unwrap();
    assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
    ensure_dir(&dir).unwrap();
}
