use super::*;
use crate::layout::{META_FORMAT, meta_place, record_place};

fn open_new(dir: &Path) -> Store {
    Store::open(dir, OpenOptions::new().create(true)).unwrap()
}

#[test]
fn store_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Store>();
}

#[test]
fn latched_store_refuses_writes_but_serves_reads() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open_new(tmp.path());
    store.write(|t| t.put("t", b"k", b"v")).unwrap();
    store.latch();
    assert!(matches!(
        store.write(|t| t.put("t", b"k2", b"v")),
        Err(Error::Latched)
    ));
    assert!(matches!(store.rekey(|_, _| true), Err(Error::Latched)));
    assert_eq!(&store.get("t", b"k").unwrap().unwrap()[..], b"v");
    drop(store);
    // Reopening clears the latch.
    let store = Store::open(tmp.path(), OpenOptions::new()).unwrap();
    store.write(|t| t.put("t", b"k2", b"v2")).unwrap();
    assert_eq!(store.scan("t").unwrap().len(), 2);
}

#[test]
fn engine_failure_inside_a_body_latches_even_if_swallowed() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open_new(tmp.path());
    let result = store.write(|t| {
        t.engine_failed.set(true);
        t.put("t", b"k", b"v")
    });
    assert!(matches!(result, Err(Error::Latched)));
    assert!(matches!(
        store.write(|t| t.put("t", b"k", b"v")),
        Err(Error::Latched)
    ));
    assert_eq!(store.get("t", b"k").unwrap(), None);
}

#[test]
fn metadata_holds_kek_id_and_sealed_format() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open_new(tmp.path());
    let meta = read_meta(store.engine.db()).unwrap().unwrap();
    let keys = store.current_keys().unwrap();
    assert!(meta.kek_id.matches(&keys.id));
    check_format(&keys.kek, &meta.format).unwrap();
    // The format record is bound to its place and its key.
    let other = AeadKey::new(&[9; KEY_LEN]).unwrap();
    assert!(matches!(
        check_format(&other, &meta.format),
        Err(Error::Integrity { .. })
    ));
    let foreign = keys
        .kek
        .seal(
            VERSION_KEK,
            record_place(META_TABLE, META_FORMAT),
            &1u32.to_le_bytes(),
        )
        .unwrap();
    assert!(check_format(&keys.kek, &foreign).is_err());
    let future = keys
        .kek
        .seal(VERSION_KEK, meta_place(META_FORMAT), &2u32.to_le_bytes())
        .unwrap();
    assert!(matches!(
        check_format(&keys.kek, &future),
        Err(Error::Integrity { .. })
    ));
}

#[test]
fn invalid_arguments_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open_new(tmp.path());
    let long_name = "x".repeat(crate::MAX_TABLE_NAME_LEN + 1);
    let long_key = vec![0u8; crate::MAX_KEY_LEN + 1];
    for result in [
        store.get("", b"k").map(|_| ()),
        store.get(&long_name, b"k").map(|_| ()),
        store.get("t", &long_key).map(|_| ()),
        store.write(|t| t.put("", b"k", b"v")),
        store.write(|t| t.put("t", &long_key, b"v")),
    ] {
        assert!(matches!(result, Err(Error::InvalidArgument { .. })));
    }
    // Caller misuse does not latch.
    store.write(|t| t.put("t", b"k", b"v")).unwrap();
}
