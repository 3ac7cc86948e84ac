//! API behaviour: multi-part equals single-part for every multi-part operation (property tests
//! with random split points), key generation, import/export round trips, the RSA schemes the
//! vector files do not sign with, parameter checks and the mechanism table.

use std::sync::OnceLock;

use proptest::prelude::*;
use strongroom_crypto::{
    AesCipher, AesKey, AesMode, CmacContext, Curve, DigestContext, Direction, Drbg, EcPrivateKey,
    EcPublicKey, Error, GcmParams, HashAlg, HmacContext, MECHANISMS, RsaEncryption, RsaPrivateKey,
    RsaSignature, aes_cmac, aes_decrypt, aes_encrypt, aes_gcm_decrypt, aes_gcm_encrypt, digest,
    hmac_sign, mechanism_info, write_output, x963_kdf,
};

/// Splits `data` at the sorted `cuts` (taken modulo its length).
fn parts<'a>(data: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut idx: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    idx.sort_unstable();
    let mut out = Vec::new();
    let mut prev = 0;
    for i in idx {
        out.push(&data[prev..i]);
        prev = i;
    }
    out.push(&data[prev..]);
    out
}

fn run_cipher(
    key: &AesKey,
    mode: AesMode,
    dir: Direction,
    data: &[u8],
    cuts: &[usize],
) -> Result<Vec<u8>, Error> {
    let mut c = AesCipher::new(key, mode, dir)?;
    let mut out = Vec::new();
    for p in parts(data, cuts) {
        let expect = c.update_len(p.len());
        let o = c.update(p)?;
        assert_eq!(o.len(), expect);
        out.extend_from_slice(&o);
    }
    let bound = c.finish_len();
    let f = c.finish()?;
    assert!(f.len() <= bound.max(16));
    out.extend_from_slice(&f);
    Ok(out)
}

fn key(len: usize, seed: u8) -> AesKey {
    AesKey::new(&vec![seed; len]).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn aes_modes_multipart_equals_single(
        data in proptest::collection::vec(any::<u8>(), 0..200),
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
        iv in any::<[u8; 16]>(),
        klen in prop_oneof![Just(16usize), Just(24), Just(32)],
        bits in prop_oneof![Just(128u8), Just(64), Just(32)],
    ) {
        let k = key(klen, 7);
        let blocks = data.len() / 16 * 16;
        let modes = [
            (AesMode::Ecb, &data[..blocks]),
            (AesMode::Cbc { iv }, &data[..blocks]),
            (AesMode::CbcPad { iv }, &data[..]),
            (AesMode::Ctr { counter_block: [0; 16], counter_bits: bits }, &data[..]),
        ];
        for (mode, d) in modes {
            let single = aes_encrypt(&k, mode, d).unwrap();
            let multi = run_cipher(&k, mode, Direction::Encrypt, d, &cuts).unwrap();
            prop_assert_eq!(&single, &multi);
            let back = run_cipher(&k, mode, Direction::Decrypt, &single, &cuts).unwrap();
            prop_assert_eq!(&back[..], d);
            prop_assert_eq!(&aes_decrypt(&k, mode, &single).unwrap()[..], d);
        }
    }

    #[test]
    fn digest_hmac_cmac_multipart_equals_single(
        data in proptest::collection::vec(any::<u8>(), 0..300),
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        for h in HashAlg::ALL {
            let mut c = DigestContext::new(h);
            for p in parts(&data, &cuts) { c.update(p); }
            prop_assert_eq!(c.finish(), digest(h, &data));
            if h.is_sha2_family() {
                let mut m = HmacContext::new(h, b"key").unwrap();
                for p in parts(&data, &cuts) { m.update(p); }
                prop_assert_eq!(m.sign(h.output_len()).unwrap(), hmac_sign(h, b"key", &data, h.output_len()).unwrap());
            }
        }
        let k = key(32, 3);
        let mut c = CmacContext::new(&k).unwrap();
        for p in parts(&data, &cuts) { c.update(p).unwrap(); }
        prop_assert_eq!(c.sign(16).unwrap(), aes_cmac(&k, &data, 16).unwrap());
    }
}

#[test]
fn ctr_counter_wrap_is_refused() {
    let k = key(16, 1);
    // 8-bit counter starting at 0xfe: two blocks left.
    let mut cb = [0u8; 16];
    cb[15] = 0xfe;
    let mode = AesMode::Ctr {
        counter_block: cb,
        counter_bits: 8,
    };
    assert!(aes_encrypt(&k, mode, &[0; 32]).is_ok());
    assert_eq!(aes_encrypt(&k, mode, &[0; 33]), Err(Error::DataLength));
    let mut c = AesCipher::new(&k, mode, Direction::Encrypt).unwrap();
    c.update(&[0; 20]).unwrap();
    c.update(&[0; 12]).unwrap();
    assert_eq!(c.update(&[0; 1]), Err(Error::DataLength));
    let bad = AesMode::Ctr {
        counter_block: cb,
        counter_bits: 0,
    };
    assert!(AesCipher::new(&k, bad, Direction::Encrypt).is_err());
}

#[test]
fn cbc_partial_block_and_bad_padding() {
    let k = key(16, 2);
    assert_eq!(
        aes_encrypt(&k, AesMode::Cbc { iv: [0; 16] }, &[0; 17]),
        Err(Error::DataLength)
    );
    let ct = aes_encrypt(&k, AesMode::CbcPad { iv: [0; 16] }, b"hello").unwrap();
    assert_eq!(ct.len(), 16);
    assert_eq!(
        aes_decrypt(&k, AesMode::CbcPad { iv: [0; 16] }, &ct[..15]).err(),
        Some(Error::DataLength)
    );
    let mut bad = ct.clone();
    bad[15] ^= 0x55;
    assert_eq!(
        aes_decrypt(&k, AesMode::CbcPad { iv: [0; 16] }, &bad).err(),
        Some(Error::Rejected)
    );
}

#[test]
fn gcm_short_tags_and_long_ivs_round_trip() {
    for klen in [16, 24, 32] {
        let k = key(klen, 9);
        for (iv_len, tag_len) in [(12, 16), (12, 12), (16, 16), (1, 8), (64, 4), (8, 13)] {
            let iv = vec![0x42; iv_len];
            let p = GcmParams {
                iv: &iv,
                aad: b"header",
                tag_len,
            };
            let ct = aes_gcm_encrypt(&k, &p, b"some plaintext").unwrap();
            assert_eq!(ct.len(), 14 + tag_len);
            assert_eq!(
                &aes_gcm_decrypt(&k, &p, &ct).unwrap()[..],
                b"some plaintext"
            );
            let mut bad = ct.clone();
            bad[0] ^= 1;
            assert_eq!(aes_gcm_decrypt(&k, &p, &bad).err(), Some(Error::Rejected));
        }
        let p = GcmParams {
            iv: &[],
            aad: &[],
            tag_len: 16,
        };
        assert_eq!(aes_gcm_encrypt(&k, &p, b"x").err(), Some(Error::Parameter));
    }
}

fn rsa2048() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::generate(2048, &[1, 0, 1]).unwrap())
}

#[test]
fn rsa_every_signature_scheme_round_trips() {
    let k = rsa2048();
    let public = k.public_key();
    assert_eq!(k.modulus_bits(), 2048);
    let msg = b"message to sign";
    let mut schemes = vec![RsaSignature::X509];
    for h in HashAlg::ALL {
        schemes.push(RsaSignature::Pkcs1 { hash: h });
    }
    for h in [
        HashAlg::Sha1,
        HashAlg::Sha224,
        HashAlg::Sha256,
        HashAlg::Sha384,
        HashAlg::Sha512,
    ] {
        for m in [HashAlg::Sha1, HashAlg::Sha256, h] {
            for salt_len in [0, 20, h.output_len()] {
                schemes.push(RsaSignature::Pss {
                    hash: h,
                    mgf1: m,
                    salt_len,
                });
            }
        }
    }
    for s in schemes {
        let sig = k.sign(s, msg).unwrap();
        assert_eq!(sig.len(), 256);
        assert!(public.verify(s, msg, &sig).is_ok(), "{s:?}");
        assert_eq!(
            public.verify(s, b"other", &sig),
            Err(Error::Rejected),
            "{s:?}"
        );
    }
    // PKCS#1 v1.5 is deterministic: the raw DigestInfo form gives the same bytes.
    let mut info = HashAlg::Sha256.digest_info_prefix().to_vec();
    info.extend_from_slice(&digest(HashAlg::Sha256, msg));
    let a = k
        .sign(
            RsaSignature::Pkcs1 {
                hash: HashAlg::Sha256,
            },
            msg,
        )
        .unwrap();
    assert_eq!(k.sign(RsaSignature::Pkcs1Raw, &info).unwrap(), a);
    // Raw PSS: input must be a digest of the stated hash.
    let raw = RsaSignature::PssRaw {
        hash: HashAlg::Sha256,
        mgf1: HashAlg::Sha1,
        salt_len: 32,
    };
    let d = digest(HashAlg::Sha256, msg);
    let sig = k.sign(raw, &d).unwrap();
    assert!(
        public
            .verify(
                RsaSignature::Pss {
                    hash: HashAlg::Sha256,
                    mgf1: HashAlg::Sha1,
                    salt_len: 32
                },
                msg,
                &sig
            )
            .is_ok()
    );
    assert_eq!(k.sign(raw, &d[..31]), Err(Error::DataLength));
    assert_eq!(
        k.sign(RsaSignature::Pkcs1Raw, &[0; 246]),
        Err(Error::DataLength)
    );
}

#[test]
fn rsa_encryption_schemes_round_trip() {
    let k = rsa2048();
    let public = k.public_key();
    let mut schemes = vec![RsaEncryption::Pkcs1, RsaEncryption::X509];
    for h in [
        HashAlg::Sha1,
        HashAlg::Sha224,
        HashAlg::Sha256,
        HashAlg::Sha384,
        HashAlg::Sha512,
    ] {
        for m in [HashAlg::Sha1, h] {
            schemes.push(RsaEncryption::Oaep {
                hash: h,
                mgf1: m,
                label: b"",
            });
            schemes.push(RsaEncryption::Oaep {
                hash: h,
                mgf1: m,
                label: b"label",
            });
        }
    }
    for s in schemes {
        let ct = public.encrypt(s, b"secret").unwrap();
        let pt = k.decrypt(s, &ct).unwrap();
        let want: &[u8] = if s == RsaEncryption::X509 {
            &pt[..]
        } else {
            b"secret"
        };
        assert!(pt.ends_with(b"secret") && pt[..] == *want, "{s:?}");
    }
    let too_long = vec![1u8; 256 - 2 * 32 - 1];
    let oaep = RsaEncryption::Oaep {
        hash: HashAlg::Sha256,
        mgf1: HashAlg::Sha256,
        label: b"",
    };
    assert_eq!(public.encrypt(oaep, &too_long), Err(Error::DataLength));
}

#[test]
fn rsa_export_import_and_small_keys() {
    let k = rsa2048();
    let der = k.to_pkcs8();
    let k2 = RsaPrivateKey::from_pkcs8(&der).unwrap();
    assert_eq!(k2.components().d[..], k.components().d[..]);
    assert_eq!(k2.components().qinv[..], k.components().qinv[..]);
    let sig = k2
        .sign(
            RsaSignature::Pkcs1 {
                hash: HashAlg::Sha384,
            },
            b"m",
        )
        .unwrap();
    assert!(
        k.public_key()
            .verify(
                RsaSignature::Pkcs1 {
                    hash: HashAlg::Sha384
                },
                b"m",
                &sig
            )
            .is_ok()
    );
    let mut bad = der.to_vec();
    let n = bad.len();
    bad[n - 3] ^= 1; // inside qinv: inconsistent components
    assert!(RsaPrivateKey::from_pkcs8(&bad).is_err());
    // 1024-bit keys and other exponents through RSA_generate_key_ex (non-FIPS).
    let small = RsaPrivateKey::generate(1024, &[3]).unwrap();
    assert_eq!(small.modulus_bits(), 1024);
    assert_eq!(small.components().e, vec![3]);
    let s = RsaSignature::Pss {
        hash: HashAlg::Sha256,
        mgf1: HashAlg::Sha256,
        salt_len: 32,
    };
    let sig = small.sign(s, b"m").unwrap();
    assert!(small.public_key().verify(s, b"m", &sig).is_ok());
    let again = RsaPrivateKey::from_pkcs8(&small.to_pkcs8()).unwrap();
    assert_eq!(again.modulus_bits(), 1024);
    assert_eq!(
        RsaPrivateKey::generate(1536, &[1, 0, 1]).err(),
        Some(Error::KeySize)
    );
    assert_eq!(
        RsaPrivateKey::generate(2048, &[2]).err(),
        Some(Error::Parameter)
    );
}

#[test]
fn ec_keys_sign_derive_export() {
    for c in Curve::ALL {
        let k = EcPrivateKey::generate(c).unwrap();
        let public = k.public_key();
        assert_eq!(public.point().len(), c.point_len());
        // Import from the scalar derives the same public point.
        let k2 = EcPrivateKey::from_scalar(c, &k.scalar().unwrap()).unwrap();
        assert_eq!(k2.public_key(), public);
        let k3 = EcPrivateKey::from_pkcs8(c, &k.to_pkcs8().unwrap()).unwrap();
        assert_eq!(k3.public_key(), public);
        let p = EcPublicKey::from_point(c, public.point()).unwrap();
        for h in [
            None,
            Some(HashAlg::Sha1),
            Some(HashAlg::Sha224),
            Some(HashAlg::Sha256),
            Some(HashAlg::Sha384),
            Some(HashAlg::Sha512),
            Some(HashAlg::Sha3_256),
        ] {
            let data: Vec<u8> = if h.is_none() {
                vec![0xab; 20]
            } else {
                b"msg".to_vec()
            };
            let sig = k.sign(h, &data).unwrap();
            assert_eq!(sig.len(), c.signature_len());
            assert!(p.verify(h, &data, &sig).is_ok());
            assert_eq!(p.verify(h, b"other", &sig), Err(Error::Rejected));
        }
        // CKM_ECDSA over a digest equals ECDSA_SHA256 over the message (any curve).
        let d = digest(HashAlg::Sha256, b"abc");
        let sig = k.sign(None, &d).unwrap();
        assert!(p.verify(Some(HashAlg::Sha256), b"abc", &sig).is_ok());
        let peer = EcPrivateKey::generate(c).unwrap();
        let z1 = k.derive(peer.public_key().point()).unwrap();
        let z2 = peer.derive(public.point()).unwrap();
        assert_eq!(z1[..], z2[..]);
        assert_eq!(z1.len(), c.scalar_len());
        assert!(k.derive(&[4; 3]).is_err());
        assert_eq!(Curve::from_oid_der(c.oid_der()), Some(c));
    }
    assert!(EcPrivateKey::from_scalar(Curve::P256, &[0; 32]).is_err());
    assert!(EcPrivateKey::from_scalar(Curve::P256, &[0xff; 32]).is_err());
}

#[test]
fn drbg_generated_keys_and_kdfs() {
    let rng = Drbg::new().unwrap();
    let a = AesKey::generate(32, &rng).unwrap();
    let b = AesKey::generate(32, &rng).unwrap();
    assert_ne!(a.as_bytes(), b.as_bytes());
    assert!(AesKey::generate(20, &rng).is_err());
    let ed = strongroom_crypto::Ed25519PrivateKey::generate(&rng).unwrap();
    let sig = ed.sign(b"m");
    assert!(strongroom_crypto::ed25519_verify(&ed.public_key(), b"m", &sig).is_ok());
    let x1 = strongroom_crypto::X25519PrivateKey::generate(&rng).unwrap();
    let x2 = strongroom_crypto::X25519PrivateKey::generate(&rng).unwrap();
    assert_eq!(
        x1.derive(&x2.public_key().unwrap()).unwrap()[..],
        x2.derive(&x1.public_key().unwrap()).unwrap()[..]
    );
    // X9.63 KDF: first block is Hash(Z ‖ 00000001 ‖ SharedInfo).
    let k = x963_kdf(HashAlg::Sha256, b"z", b"info", 40).unwrap();
    let mut m = b"z".to_vec();
    m.extend_from_slice(&[0, 0, 0, 1]);
    m.extend_from_slice(b"info");
    assert_eq!(k[..32], digest(HashAlg::Sha256, &m)[..]);
    assert_eq!(
        strongroom_crypto::hkdf_expand(HashAlg::Sha256, &[1; 32], b"", 255 * 32 + 1).err(),
        Some(Error::DataLength)
    );
    assert_eq!(
        strongroom_crypto::hkdf(HashAlg::Sha224, b"s", b"ikm", b"i", 100)
            .unwrap()
            .len(),
        100
    );
}

#[test]
fn output_buffer_convention_and_table() {
    let mut small = [0u8; 3];
    assert_eq!(
        write_output(b"four", &mut small),
        Err(Error::BufferTooSmall { needed: 4 })
    );
    let mut big = [0u8; 8];
    assert_eq!(write_output(b"four", &mut big), Ok(4));
    let c = DigestContext::new(HashAlg::Sha256);
    let (c, e) = c.finish_into(&mut small).unwrap_err();
    assert_eq!(e, Error::BufferTooSmall { needed: 32 });
    let mut out = [0u8; 32];
    assert_eq!(c.finish_into(&mut out).ok(), Some(32));
    assert_eq!(e.to_string(), "output buffer too small: 32 bytes needed");
    let info = mechanism_info(0x1087).unwrap();
    assert_eq!(info.name, "CKM_AES_GCM");
    assert_eq!((info.min_key_size, info.max_key_size), (16, 32));
    let mut codes: Vec<u64> = MECHANISMS.iter().map(|m| m.mechanism).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), MECHANISMS.len(), "duplicate mechanism code");
}
