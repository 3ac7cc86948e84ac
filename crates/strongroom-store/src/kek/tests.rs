use super::*;

fn weak() -> KdfParams {
    KdfParams::new(KdfParams::MIN_MEMORY_KIB, KdfParams::MIN_ITERATIONS, 1).unwrap()
}

#[test]
fn layout_sizes_match_the_documented_tables() {
    assert_eq!(BODY_OFFSET, 25);
    assert_eq!(PLAIN_LEN, 89);
    assert_eq!(SALT_END, 41);
    assert_eq!(PARAMS_END, 53);
    assert_eq!(NONCE_END, 65);
    assert_eq!(WRAPPED_LEN, 113);
}

#[test]
fn plain_file_round_trips() {
    let id = KekId::generate().unwrap();
    let kek = random::<KEY_LEN>().unwrap();
    let bytes = encode(&id, &kek, None).unwrap();
    assert_eq!(bytes.len(), PLAIN_LEN);
    assert_eq!(&bytes[..8], b"SRKEK\0\0\x01");
    assert_eq!(bytes[8], 0);
    let file = KekFile::parse(bytes.to_vec()).unwrap();
    assert!(file.id().matches(&id));
    let unlocked = file.unlock(None).unwrap();
    assert_eq!(*unlocked.kek, *kek);
    assert!(unlocked.wrap.is_none());
    assert!(matches!(
        file.unlock(Some(b"pw")),
        Err(Error::Kek(KekFault::PassphraseNotExpected))
    ));
}

#[test]
fn every_damaged_byte_of_a_plain_file_is_malformed() {
    let id = KekId::generate().unwrap();
    let kek = random::<KEY_LEN>().unwrap();
    let bytes = encode(&id, &kek, None).unwrap();
    for i in 0..bytes.len() {
        let mut bad = bytes.to_vec();
        bad[i] ^= 0x10;
        assert_eq!(
            KekFile::parse(bad).err(),
            Some(KekFault::Malformed),
            "byte {i}"
        );
    }
    for cut in 0..bytes.len() {
        assert!(KekFile::parse(bytes[..cut].to_vec()).is_err());
    }
    let mut long = bytes.to_vec();
    long.push(0);
    assert!(KekFile::parse(long).is_err());
}

#[test]
fn wrapped_file_round_trips_and_rejects_wrong_passphrase() {
    let id = KekId::generate().unwrap();
    let kek = random::<KEY_LEN>().unwrap();
    let wrap = Wrap::derive_new(b"correct horse", weak()).unwrap();
    let bytes = encode(&id, &kek, Some(&wrap)).unwrap();
    assert_eq!(bytes.len(), WRAPPED_LEN);
    assert_eq!(bytes[8], 1);
    // The KEK is not in the file in clear.
    assert!(!bytes.windows(KEY_LEN).any(|w| w == &kek[..]));
    let file = KekFile::parse(bytes.to_vec()).unwrap();
    let unlocked = file.unlock(Some(b"correct horse")).unwrap();
    assert_eq!(*unlocked.kek, *kek);
    assert!(unlocked.wrap.is_some());
    assert!(matches!(
        file.unlock(Some(b"correct horsf")),
        Err(Error::Kek(KekFault::Rejected))
    ));
    assert!(matches!(
        file.unlock(None),
        Err(Error::Kek(KekFault::PassphraseRequired))
    ));
}

#[test]
fn wrapped_header_is_authenticated() {
    let id = KekId::generate().unwrap();
    let kek = random::<KEY_LEN>().unwrap();
    let wrap = Wrap::derive_new(b"pw", weak()).unwrap();
    let bytes = encode(&id, &kek, Some(&wrap)).unwrap();
    // The KEK id, the salt and the nonce are covered by the tag (parameters too, but changing
    // them makes the derivation slow or out of bounds).
    for i in (ID_OFFSET..SALT_END).chain(PARAMS_END..WRAPPED_LEN) {
        let mut bad = bytes.to_vec();
        bad[i] ^= 0x01;
        let file = KekFile::parse(bad).unwrap();
        assert!(
            matches!(
                file.unlock(Some(b"pw")),
                Err(Error::Kek(KekFault::Rejected))
            ),
            "byte {i}"
        );
    }
    // Out-of-bounds parameters are refused before any derivation.
    let mut huge = bytes.to_vec();
    huge[SALT_END..SALT_END + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(KekFile::parse(huge).err(), Some(KekFault::Malformed));
}

#[test]
fn rewrapping_with_a_kept_wrap_uses_the_same_passphrase() {
    let wrap = Wrap::derive_new(b"pw", weak()).unwrap();
    let id2 = KekId::generate().unwrap();
    let kek2 = random::<KEY_LEN>().unwrap();
    let bytes = encode(&id2, &kek2, Some(&wrap)).unwrap();
    let unlocked = KekFile::parse(bytes.to_vec())
        .unwrap()
        .unlock(Some(b"pw"))
        .unwrap();
    assert_eq!(*unlocked.kek, *kek2);
}

#[test]
fn kdf_params_bounds() {
    assert!(KdfParams::new(KdfParams::MIN_MEMORY_KIB - 1, 3, 1).is_err());
    assert!(KdfParams::new(KdfParams::MAX_MEMORY_KIB + 1, 3, 1).is_err());
    assert!(KdfParams::new(65536, 1, 1).is_err());
    assert!(KdfParams::new(65536, 3, 0).is_err());
    assert!(KdfParams::new(65536, 3, 17).is_err());
    let p = KdfParams::new(65536, 3, 4).unwrap();
    assert_eq!(
        (p.memory_kib(), p.iterations(), p.parallelism()),
        (65536, 3, 4)
    );
    assert!(KdfParams::default().in_bounds());
}
