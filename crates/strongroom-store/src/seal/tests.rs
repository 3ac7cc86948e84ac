use super::*;

fn key(byte: u8) -> AeadKey {
    AeadKey::new(&[byte; KEY_LEN]).unwrap()
}

fn place<'a>(table: &'a str, key: &'a [u8]) -> Place<'a> {
    Place {
        domain: Domain::Record,
        table,
        key,
    }
}

#[test]
fn seal_then_open_round_trips() {
    let k = key(7);
    for len in [0usize, 1, 15, 16, 17, 300] {
        let plain: Vec<u8> = (0..len).map(|i| i.to_le_bytes()[0]).collect();
        let sealed = k.seal(VERSION_KEK, place("hsm", b"k"), &plain).unwrap();
        assert_eq!(sealed.len(), plain.len() + OVERHEAD);
        assert_eq!(sealed[0], VERSION_KEK);
        assert_eq!(stored_version(&sealed), Some(VERSION_KEK));
        let opened = k.open(VERSION_KEK, place("hsm", b"k"), &sealed).unwrap();
        assert_eq!(&opened[..], &plain[..]);
    }
}

#[test]
fn nonces_are_fresh() {
    let k = key(1);
    let a = k.seal(VERSION_KEK, place("t", b"k"), b"same").unwrap();
    let b = k.seal(VERSION_KEK, place("t", b"k"), b"same").unwrap();
    assert_ne!(a[1..13], b[1..13]);
    assert_ne!(a, b);
}

#[test]
fn identity_is_bound() {
    let k = key(2);
    let sealed = k.seal(VERSION_KEK, place("hsm", b"key"), b"v").unwrap();
    let is_integrity =
        |r: Result<Zeroizing<Vec<u8>>, Error>| matches!(r, Err(Error::Integrity { .. }));
    assert!(is_integrity(k.open(
        VERSION_KEK,
        place("hsm", b"kez"),
        &sealed
    )));
    assert!(is_integrity(k.open(
        VERSION_KEK,
        place("hsn", b"key"),
        &sealed
    )));
    assert!(is_integrity(k.open(
        VERSION_KEK,
        place("hsm", b"key\0"),
        &sealed
    )));
    assert!(is_integrity(k.open(
        VERSION_SEAL_KEY,
        place("hsm", b"key"),
        &sealed
    )));
    // Length prefixes keep ("ab", "c") apart from ("a", "bc").
    let ab = k.seal(VERSION_KEK, place("ab", b"c"), b"v").unwrap();
    assert!(is_integrity(k.open(VERSION_KEK, place("a", b"bc"), &ab)));
    // User records and metadata do not mix.
    let meta = Place {
        domain: Domain::Meta,
        table: "hsm",
        key: b"key",
    };
    assert!(is_integrity(k.open(VERSION_KEK, meta, &sealed)));
    // Another key.
    assert!(is_integrity(key(3).open(
        VERSION_KEK,
        place("hsm", b"key"),
        &sealed
    )));
}

#[test]
fn every_flipped_byte_is_detected() {
    let k = key(4);
    let sealed = k
        .seal(VERSION_KEK, place("t", b"k"), b"some secret")
        .unwrap();
    for i in 0..sealed.len() {
        for bit in [0x01u8, 0x80] {
            let mut bad = sealed.clone();
            bad[i] ^= bit;
            assert!(
                matches!(
                    k.open(VERSION_KEK, place("t", b"k"), &bad),
                    Err(Error::Integrity { .. })
                ),
                "byte {i}"
            );
        }
    }
    for cut in 0..sealed.len() {
        assert!(
            k.open(VERSION_KEK, place("t", b"k"), &sealed[..cut])
                .is_err()
        );
    }
}

#[test]
fn seal_key_bytes_round_trip() {
    let a = SealKey::generate().unwrap();
    let b = SealKey::from_bytes(a.expose_bytes());
    let sealed = a
        .aead()
        .unwrap()
        .seal(VERSION_SEAL_KEY, place("p", b"o"), b"obj")
        .unwrap();
    let opened = b
        .aead()
        .unwrap()
        .open(VERSION_SEAL_KEY, place("p", b"o"), &sealed)
        .unwrap();
    assert_eq!(&opened[..], b"obj");
    assert_ne!(
        SealKey::generate().unwrap().expose_bytes(),
        a.expose_bytes()
    );
}

#[test]
fn stored_version_rejects_short_and_unknown() {
    assert_eq!(stored_version(&[]), None);
    assert_eq!(stored_version(&[VERSION_KEK; OVERHEAD - 1]), None);
    assert_eq!(stored_version(&[9; OVERHEAD]), None);
    assert_eq!(
        stored_version(&[VERSION_SEAL_KEY; OVERHEAD]),
        Some(VERSION_SEAL_KEY)
    );
}
