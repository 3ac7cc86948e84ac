//! RFC and FIPS known answers (files under `testdata/rfc/`): FIPS-197, SP 800-38A, RFC 4493,
//! 5869, 6070, 3394, 5649, 8032, 7748. Each vector is also tampered and must then fail.

mod common;

use common::{records, tamper};
use strongroom_crypto::{
    AesKey, AesMode, Ed25519PrivateKey, HashAlg, X25519PrivateKey, aes_cmac, aes_cmac_verify,
    aes_decrypt, aes_encrypt, aes_key_unwrap, aes_key_unwrap_pad, aes_key_wrap, aes_key_wrap_pad,
    ed25519_verify, hkdf_expand, hkdf_extract, pbkdf2,
};

#[test]
fn aes_fips197_sp800_38a() {
    let mut n = 0;
    for mut r in records("rfc/aes_fips197_sp800_38a.txt") {
        let mode = r.text("Mode");
        let key = AesKey::new(&r.hex("Key")).unwrap();
        let pt = r.hex("Plaintext");
        let ct = r.hex("Ciphertext");
        let mode = match mode.as_str() {
            "ECB" => AesMode::Ecb,
            "CBC" => AesMode::Cbc {
                iv: r.hex("IV").try_into().unwrap(),
            },
            "CTR" => AesMode::Ctr {
                counter_block: r.hex("IV").try_into().unwrap(),
                counter_bits: 128,
            },
            m => panic!("mode {m}"),
        };
        assert_eq!(aes_encrypt(&key, mode, &pt).unwrap(), ct);
        assert_eq!(aes_decrypt(&key, mode, &ct).unwrap()[..], pt[..]);
        assert_ne!(aes_encrypt(&key, mode, &tamper(&pt, 0)).unwrap(), ct);
        r.done();
        n += 1;
    }
    assert_eq!(n, 6);
}

#[test]
fn cmac_rfc4493() {
    for mut r in records("rfc/cmac_rfc4493.txt") {
        let key = AesKey::new(&r.hex("Key")).unwrap();
        let msg = r.hex("Message");
        let mac = r.hex("Mac");
        assert_eq!(aes_cmac(&key, &msg, 16).unwrap(), mac);
        assert_eq!(aes_cmac(&key, &msg, 8).unwrap(), mac[..8]);
        assert!(aes_cmac_verify(&key, &msg, &mac).is_ok());
        assert!(aes_cmac_verify(&key, &msg, &mac[..4]).is_ok());
        assert!(aes_cmac_verify(&key, &tamper(&msg, 0), &mac).is_err());
        assert!(aes_cmac_verify(&key, &msg, &tamper(&mac, 15)).is_err());
        r.done();
    }
}

fn hash_named(s: &str) -> HashAlg {
    match s {
        "SHA-1" => HashAlg::Sha1,
        "SHA-256" => HashAlg::Sha256,
        _ => panic!("hash {s}"),
    }
}

#[test]
fn hkdf_rfc5869() {
    for mut r in records("rfc/hkdf_rfc5869.txt") {
        let h = hash_named(&r.text("Hash"));
        let (ikm, salt, info) = (r.hex("IKM"), r.hex("Salt"), r.hex("Info"));
        let (prk, okm) = (r.hex("PRK"), r.hex("OKM"));
        assert_eq!(hkdf_extract(h, &salt, &ikm).unwrap()[..], prk[..]);
        assert_eq!(hkdf_expand(h, &prk, &info, okm.len()).unwrap()[..], okm[..]);
        assert_ne!(
            hkdf_expand(h, &tamper(&prk, 0), &info, okm.len()).unwrap()[..],
            okm[..]
        );
        assert_ne!(
            hkdf_extract(h, &salt, &tamper(&ikm, 1)).unwrap()[..],
            prk[..]
        );
        r.done();
    }
}

#[test]
fn pbkdf2_rfc6070() {
    for mut r in records("rfc/pbkdf2_rfc6070.txt") {
        let (pw, salt) = (r.hex("Password"), r.hex("Salt"));
        let iters = u32::try_from(r.num("Iterations")).unwrap();
        let dk = r.hex("DK");
        assert_eq!(
            pbkdf2(HashAlg::Sha1, &pw, &salt, iters, dk.len()).unwrap()[..],
            dk[..]
        );
        assert_ne!(
            pbkdf2(HashAlg::Sha1, &tamper(&pw, 0), &salt, iters, dk.len()).unwrap()[..],
            dk[..]
        );
        r.done();
    }
}

#[test]
fn pbkdf2_sha224_own_loop_matches_definition() {
    // SHA-224 goes through our own RFC 8018 loop; one iteration is HMAC(P, S ‖ INT(1)).
    let one = pbkdf2(HashAlg::Sha224, b"pw", b"salt", 1, 28).unwrap();
    let mut m = b"salt".to_vec();
    m.extend_from_slice(&1u32.to_be_bytes());
    assert_eq!(
        one[..],
        strongroom_crypto::hmac_sign(HashAlg::Sha224, b"pw", &m, 28).unwrap()[..]
    );
    // Two blocks, three iterations: output length and block independence.
    assert_eq!(
        pbkdf2(HashAlg::Sha224, b"pw", b"salt", 3, 60)
            .unwrap()
            .len(),
        60
    );
}

#[test]
fn keywrap_rfc3394_rfc5649() {
    for mut r in records("rfc/keywrap_rfc3394_rfc5649.txt") {
        let padded = r.num("Padded") == 1;
        let kek = AesKey::new(&r.hex("KEK")).unwrap();
        let key = r.hex("Key");
        let wrapped = r.hex("Wrapped");
        let (w, u) = if padded {
            (
                aes_key_wrap_pad(&kek, &key).unwrap(),
                aes_key_unwrap_pad(&kek, &wrapped).unwrap(),
            )
        } else {
            (
                aes_key_wrap(&kek, &key).unwrap(),
                aes_key_unwrap(&kek, &wrapped).unwrap(),
            )
        };
        assert_eq!(w, wrapped);
        assert_eq!(u[..], key[..]);
        let bad = tamper(&wrapped, 5);
        assert!(if padded {
            aes_key_unwrap_pad(&kek, &bad).is_err()
        } else {
            aes_key_unwrap(&kek, &bad).is_err()
        });
        r.done();
    }
}

#[test]
fn curve25519_rfc8032_rfc7748() {
    for mut r in records("rfc/curve25519_rfc8032_rfc7748.txt") {
        match r.text("Alg").as_str() {
            "Ed25519" => {
                let k = Ed25519PrivateKey::from_seed(&r.hex("Private")).unwrap();
                let public = r.hex("Public");
                let msg = r.hex("Message");
                let sig = r.hex("Signature");
                assert_eq!(k.public_key()[..], public[..]);
                assert_eq!(k.sign(&msg), sig);
                assert!(ed25519_verify(&public, &msg, &sig).is_ok());
                assert!(ed25519_verify(&public, &tamper(&msg, 0), &sig).is_err());
                assert!(ed25519_verify(&public, &msg, &tamper(&sig, 33)).is_err());
            }
            "X25519" => {
                let k = X25519PrivateKey::from_bytes(&r.hex("Private")).unwrap();
                assert_eq!(k.public_key().unwrap()[..], r.hex("Public")[..]);
                let peer = r.hex("PeerPublic");
                let shared = r.hex("Shared");
                assert_eq!(k.derive(&peer).unwrap()[..], shared[..]);
                assert_ne!(k.derive(&tamper(&peer, 1)).unwrap()[..], shared[..]);
            }
            a => panic!("alg {a}"),
        }
        r.done();
    }
}
