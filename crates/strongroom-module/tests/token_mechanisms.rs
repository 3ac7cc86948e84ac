//! One lifecycle per mechanism family through the module's API: make or import a key, use it,
//! check the result with the crypto provider directly (not through the module's paths), and
//! for token keys use them again after a restart. Plus end-to-end known answers (RFC 8032,
//! RFC 5869, RFC 6070, SP 800-38A) so the module's parameter plumbing is covered, and the
//! mechanism list under HSM policy 12 and partition policy 19.

mod common;

use common::token::*;
use cryptoki_sys::*;
use strongroom_crypto::{
    AesKey, AesMode, Curve, EcPublicKey, HashAlg, RsaPublicKey, RsaSignature, X25519PrivateKey,
};
use strongroom_module::{
    AccessId, CtrParams, EcdhKdf, EcdhParams, GcmParams, Hash, HkdfParams, HkdfSalt, Mechanism,
    OaepParams, ObjectHandle, Pbkdf2Params, PssParams, SessionHandle,
};
use strongroom_proto::ret;
use zeroize::Zeroizing;

fn extractable_secret(kt: u64, len: u64) -> Vec<strongroom_module::Attribute> {
    vec![
        u(CKA_CLASS, CKO_SECRET_KEY),
        u(CKA_KEY_TYPE, kt),
        u(CKA_VALUE_LEN, len),
        b(CKA_EXTRACTABLE, true),
        b(CKA_SENSITIVE, false),
        b(CKA_TOKEN, false),
    ]
}

fn find_one(p: &Part, a: AccessId, s: SessionHandle, label: &[u8]) -> ObjectHandle {
    p.hsm
        .find_objects_init(a, s, &tpl(vec![raw(CKA_LABEL, label)]))
        .unwrap();
    let h = p.hsm.find_objects(a, s, 2).unwrap();
    p.hsm.find_objects_final(a, s).unwrap();
    assert_eq!(h.len(), 1, "one object labelled {label:?}");
    h[0]
}

#[test]
fn digests_match_the_provider() {
    let mut p = part();
    let (a, s) = p.rw(None);
    for h in Hash::ALL {
        p.hsm.digest_init(a, s, &Mechanism::Digest(h)).unwrap();
        let d = data_of(p.hsm.digest(a, s, b"abc", Some(64)));
        assert_eq!(
            d,
            strongroom_crypto::digest(h.alg_for_tests(), b"abc"),
            "{h:?}"
        );
    }
    // SHA-256("abc"), FIPS 180-2 appendix B.1.
    p.hsm
        .digest_init(a, s, &Mechanism::Digest(Hash::Sha256))
        .unwrap();
    assert_eq!(
        data_of(p.hsm.digest(a, s, b"abc", Some(32))),
        hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
}

/// Maps the module's hash names to the provider's (tests only).
trait AlgForTests {
    fn alg_for_tests(self) -> HashAlg;
}

impl AlgForTests for Hash {
    fn alg_for_tests(self) -> HashAlg {
        match self {
            Hash::Sha1 => HashAlg::Sha1,
            Hash::Sha224 => HashAlg::Sha224,
            Hash::Sha256 => HashAlg::Sha256,
            Hash::Sha384 => HashAlg::Sha384,
            Hash::Sha512 => HashAlg::Sha512,
            Hash::Sha3_224 => HashAlg::Sha3_224,
            Hash::Sha3_256 => HashAlg::Sha3_256,
            Hash::Sha3_384 => HashAlg::Sha3_384,
            _ => HashAlg::Sha3_512,
        }
    }
}

#[test]
fn aes_modes_match_the_provider_and_generated_keys_survive_a_restart() {
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    let value = [0x5Cu8; 32];
    let key = p.create(a, s, aes(&value, false));
    let k = AesKey::new(&value).unwrap();
    let msg: Vec<u8> = (0u8..100).collect();
    let iv = [7u8; 16];
    let cases = [
        (Mechanism::AesCbcPad(iv), AesMode::CbcPad { iv }, &msg[..]),
        (Mechanism::AesCbc(iv), AesMode::Cbc { iv }, &msg[..96]),
        (Mechanism::AesEcb, AesMode::Ecb, &msg[..64]),
        (
            Mechanism::AesCtr(CtrParams {
                counter_bits: 32,
                counter_block: iv,
            }),
            AesMode::Ctr {
                counter_block: iv,
                counter_bits: 32,
            },
            &msg[..],
        ),
    ];
    for (m, mode, data) in cases {
        let ct = p.encrypt(a, s, &m, key, data);
        assert_eq!(
            ct,
            strongroom_crypto::aes_encrypt(&k, mode, data).unwrap(),
            "{m:?}"
        );
        assert_eq!(p.decrypt(a, s, &m, key, &ct), data, "{m:?}");
    }
    let gcm = Mechanism::AesGcm(GcmParams {
        iv: vec![9; 12],
        iv_bits: 96,
        aad: b"header".to_vec(),
        tag_bits: 128,
    });
    let ct = p.encrypt(a, s, &gcm, key, &msg);
    let params = strongroom_crypto::GcmParams {
        iv: &[9; 12],
        aad: b"header",
        tag_len: 16,
    };
    assert_eq!(
        &strongroom_crypto::aes_gcm_decrypt(&k, &params, &ct).unwrap()[..],
        &msg[..]
    );
    let mut bad = ct.clone();
    bad[3] ^= 1;
    p.hsm.decrypt_init(a, s, &gcm, key).unwrap();
    assert_eq!(
        code(p.hsm.decrypt(a, s, &bad, Some(200))),
        ret::SR_RET_ENCRYPTED_DATA_INVALID
    );
    // CMAC.
    let mac = p.sign(a, s, &Mechanism::AesCmac, key, &msg);
    assert_eq!(mac, strongroom_crypto::aes_cmac(&k, &msg, 16).unwrap());
    let mac8 = p.sign(a, s, &Mechanism::AesCmacGeneral(8), key, &msg);
    assert_eq!(mac8, mac[..8]);

    // A generated token key: encrypt now, decrypt after a restart.
    let mut gen_tpl = aes_gen(16, true);
    gen_tpl.push(raw(CKA_LABEL, b"gen"));
    p.hsm
        .generate_key(a, s, &Mechanism::AesKeyGen, &tpl(gen_tpl))
        .unwrap();
    let gk = find_one(&p, a, s, b"gen");
    assert_eq!(p.attr(a, s, gk, CKA_LOCAL), [1]);
    assert_eq!(p.attr(a, s, gk, CKA_VALUE_LEN), 16u64.to_le_bytes());
    let ct = p.encrypt(a, s, &Mechanism::AesCbcPad(iv), gk, b"survives");
    let mut p = p.reopen();
    let (a, s) = p.rw(Some(CO));
    let gk = find_one(&p, a, s, b"gen");
    assert_eq!(
        p.decrypt(a, s, &Mechanism::AesCbcPad(iv), gk, &ct),
        b"survives"
    );
}

#[test]
fn sp800_38a_aes_cbc_known_answer() {
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    let key = p.create(a, s, aes(&hex("2b7e151628aed2a6abf7158809cf4f3c"), false));
    let iv: [u8; 16] = hex("000102030405060708090a0b0c0d0e0f").try_into().unwrap();
    let pt = hex(
        "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51
         30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710",
    );
    let ct = hex(
        "7649abac8119b246cee98e9b12e9197d 5086cb9b507219ee95db113a917678b2
         73bed6b8e3c1743b7116e69e22229516 3ff1caa1681fac09120eca307586e1a7",
    );
    assert_eq!(p.encrypt(a, s, &Mechanism::AesCbc(iv), key, &pt), ct);
    assert_eq!(p.decrypt(a, s, &Mechanism::AesCbc(iv), key, &ct), pt);
}

#[test]
fn hmac_and_generic_secrets() {
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    let key = p
        .hsm
        .generate_key(
            a,
            s,
            &Mechanism::GenericSecretKeyGen,
            &tpl(extractable_secret(CKK_GENERIC_SECRET, 40)),
        )
        .unwrap();
    let value = p.attr(a, s, key, CKA_VALUE);
    assert_eq!(value.len(), 40);
    for h in [
        Hash::Sha1,
        Hash::Sha224,
        Hash::Sha256,
        Hash::Sha384,
        Hash::Sha512,
    ] {
        let mac = p.sign(a, s, &Mechanism::Hmac(h), key, b"data");
        assert_eq!(
            mac,
            strongroom_crypto::hmac_sign(h.alg_for_tests(), &value, b"data", h.len()).unwrap()
        );
        p.hsm.verify_init(a, s, &Mechanism::Hmac(h), key).unwrap();
        p.hsm.verify(a, s, b"data", &mac).unwrap();
    }
    let short = p.sign(
        a,
        s,
        &Mechanism::HmacGeneral(Hash::Sha256, 12),
        key,
        b"data",
    );
    assert_eq!(short.len(), 12);
    // An HMAC key type binds the key to its hash.
    let k256 = p
        .hsm
        .generate_key(
            a,
            s,
            &Mechanism::GenericSecretKeyGen,
            &tpl(extractable_secret(CKK_SHA256_HMAC, 32)),
        )
        .unwrap();
    p.sign(a, s, &Mechanism::Hmac(Hash::Sha256), k256, b"x");
    assert_eq!(
        code(p.hsm.sign_init(a, s, &Mechanism::Hmac(Hash::Sha512), k256)),
        ret::SR_RET_KEY_TYPE_INCONSISTENT
    );
    // CKM_SHA*_KEY_GEN makes a key of its hash's HMAC type, and no other.
    for (h, kt) in [
        (Hash::Sha1, CKK_SHA_1_HMAC),
        (Hash::Sha224, CKK_SHA224_HMAC),
        (Hash::Sha256, CKK_SHA256_HMAC),
        (Hash::Sha384, CKK_SHA384_HMAC),
        (Hash::Sha512, CKK_SHA512_HMAC),
    ] {
        let gen_tpl = || {
            vec![
                strongroom_module::Attribute::from_ulong(CKA_VALUE_LEN, 32),
                strongroom_module::Attribute::from_bool(CKA_SIGN, true),
                strongroom_module::Attribute::from_bool(CKA_VERIFY, true),
            ]
        };
        let k = p
            .hsm
            .generate_key(a, s, &Mechanism::HmacKeyGen(h), &tpl(gen_tpl()))
            .unwrap();
        assert_eq!(p.attr(a, s, k, CKA_KEY_TYPE), kt.to_le_bytes());
        let mac = p.sign(a, s, &Mechanism::Hmac(h), k, b"data");
        p.hsm.verify_init(a, s, &Mechanism::Hmac(h), k).unwrap();
        p.hsm.verify(a, s, b"data", &mac).unwrap();
        let mut wrong = gen_tpl();
        wrong.push(strongroom_module::Attribute::from_ulong(
            CKA_KEY_TYPE,
            CKK_GENERIC_SECRET,
        ));
        assert_eq!(
            code(
                p.hsm
                    .generate_key(a, s, &Mechanism::HmacKeyGen(h), &tpl(wrong))
                    .map(|_| ())
            ),
            ret::SR_RET_TEMPLATE_INCONSISTENT
        );
    }
}

fn rsa_public(p: &Part, a: AccessId, s: SessionHandle, h: ObjectHandle) -> RsaPublicKey {
    RsaPublicKey::new(
        &p.attr(a, s, h, CKA_MODULUS),
        &p.attr(a, s, h, CKA_PUBLIC_EXPONENT),
    )
    .unwrap()
}

#[test]
fn rsa_lifecycle() {
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    let (public, private) = pair(
        &mut p,
        a,
        s,
        Mechanism::RsaKeyPairGen,
        vec![
            u(CKA_MODULUS_BITS, 2048),
            b(CKA_TOKEN, true),
            raw(CKA_LABEL, b"rsa pub"),
        ],
        vec![b(CKA_TOKEN, true), raw(CKA_LABEL, b"rsa priv")],
    );
    assert_eq!(p.attr(a, s, private, CKA_MODULUS).len(), 256);
    let pk = rsa_public(&p, a, s, public);
    assert_eq!(pk.modulus_bits(), 2048);
    // The private key's secrets stay hidden.
    let r = p
        .hsm
        .get_attribute_value(a, s, private, &[CKA_PRIVATE_EXPONENT])
        .unwrap();
    assert_eq!(r[0], strongroom_module::AttrResult::Sensitive);

    let sig = p.sign(a, s, &Mechanism::RsaPkcsHash(Hash::Sha256), private, b"msg");
    pk.verify(
        RsaSignature::Pkcs1 {
            hash: HashAlg::Sha256,
        },
        b"msg",
        &sig,
    )
    .unwrap();
    let pss = PssParams {
        hash: Hash::Sha384,
        mgf1: Hash::Sha384,
        salt_len: 48,
    };
    let sig = p.sign(
        a,
        s,
        &Mechanism::RsaPssHash(Hash::Sha384, pss),
        private,
        b"msg",
    );
    pk.verify(
        RsaSignature::Pss {
            hash: HashAlg::Sha384,
            mgf1: HashAlg::Sha384,
            salt_len: 48,
        },
        b"msg",
        &sig,
    )
    .unwrap();
    p.hsm
        .verify_init(a, s, &Mechanism::RsaPssHash(Hash::Sha384, pss), public)
        .unwrap();
    p.hsm.verify(a, s, b"msg", &sig).unwrap();
    // OAEP: the provider encrypts to the module's key, the module decrypts.
    let oaep = Mechanism::RsaOaep(OaepParams {
        hash: Hash::Sha256,
        mgf1: Hash::Sha256,
        label: b"lbl".to_vec(),
    });
    let ct = pk
        .encrypt(
            strongroom_crypto::RsaEncryption::Oaep {
                hash: HashAlg::Sha256,
                mgf1: HashAlg::Sha256,
                label: b"lbl",
            },
            b"secret",
        )
        .unwrap();
    assert_eq!(p.decrypt(a, s, &oaep, private, &ct), b"secret");
    let ct = p.encrypt(a, s, &oaep, public, b"other");
    assert_eq!(p.decrypt(a, s, &oaep, private, &ct), b"other");
    // Raw RSA is allowed by partition policy 19 (on by default).
    let raw_sig = p.sign(a, s, &Mechanism::RsaX509, private, &[5; 256]);
    pk.verify(RsaSignature::X509, &[5; 256], &raw_sig).unwrap();

    let mut p = p.reopen();
    let (a, s) = p.rw(Some(CO));
    let private = find_one(&p, a, s, b"rsa priv");
    let sig = p.sign(
        a,
        s,
        &Mechanism::RsaPkcsHash(Hash::Sha512),
        private,
        b"after",
    );
    pk.verify(
        RsaSignature::Pkcs1 {
            hash: HashAlg::Sha512,
        },
        b"after",
        &sig,
    )
    .unwrap();
}

#[test]
fn ecdsa_lifecycle_on_every_curve() {
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    for (oid, curve, label) in [
        (P256, Curve::P256, &b"p256"[..]),
        (P384, Curve::P384, b"p384"),
        (P521, Curve::P521, b"p521"),
    ] {
        let (public, private) = pair(
            &mut p,
            a,
            s,
            Mechanism::EcKeyPairGen,
            vec![raw(CKA_EC_PARAMS, oid), b(CKA_TOKEN, true)],
            vec![b(CKA_TOKEN, true), raw(CKA_LABEL, label)],
        );
        assert_eq!(p.attr(a, s, private, CKA_EC_PARAMS), oid);
        let pk =
            EcPublicKey::from_point(curve, &point(&p.attr(a, s, public, CKA_EC_POINT))).unwrap();
        let sig = p.sign(a, s, &Mechanism::EcdsaHash(Hash::Sha256), private, b"m");
        assert_eq!(sig.len(), curve.signature_len());
        pk.verify(Some(HashAlg::Sha256), b"m", &sig).unwrap();
        let d = strongroom_crypto::digest(HashAlg::Sha384, b"m");
        let sig = p.sign(a, s, &Mechanism::Ecdsa, private, &d);
        pk.verify(None, &d, &sig).unwrap();
    }
    let mut p = p.reopen();
    let (a, s) = p.rw(Some(CO));
    let private = find_one(&p, a, s, b"p521");
    assert_eq!(
        p.sign(a, s, &Mechanism::EcdsaHash(Hash::Sha512), private, b"x")
            .len(),
        132
    );
}

#[test]
fn ed25519_lifecycle_and_rfc8032_known_answer() {
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    let (public, private) = pair(
        &mut p,
        a,
        s,
        Mechanism::EdwardsKeyPairGen,
        vec![raw(CKA_EC_PARAMS, ED25519)],
        vec![],
    );
    let pk = point(&p.attr(a, s, public, CKA_EC_POINT));
    let sig = p.sign(a, s, &Mechanism::EdDsa, private, b"edwards");
    strongroom_crypto::ed25519_verify(&pk, b"edwards", &sig).unwrap();

    // RFC 8032 7.1, TEST 2: an imported key.
    let seed = hex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
    let imported = p.create(
        a,
        s,
        vec![
            u(CKA_CLASS, CKO_PRIVATE_KEY),
            u(CKA_KEY_TYPE, CKK_EC_EDWARDS),
            raw(CKA_EC_PARAMS, ED25519),
            raw(CKA_VALUE, &seed),
            b(CKA_SIGN, true),
        ],
    );
    let sig = p.sign(a, s, &Mechanism::EdDsa, imported, &[0x72]);
    assert_eq!(
        sig,
        hex(
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da
             085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
        )
    );
    let verifier = p.create(
        a,
        s,
        vec![
            u(CKA_CLASS, CKO_PUBLIC_KEY),
            u(CKA_KEY_TYPE, CKK_EC_EDWARDS),
            raw(CKA_EC_PARAMS, ED25519),
            raw(
                CKA_EC_POINT,
                &hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"),
            ),
            b(CKA_VERIFY, true),
        ],
    );
    p.hsm
        .verify_init(a, s, &Mechanism::EdDsa, verifier)
        .unwrap();
    p.hsm.verify(a, s, &[0x72], &sig).unwrap();
}

#[test]
fn x25519_and_ecdh_derivation() {
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    let derive_tpl = |len: u64| {
        let mut t = extractable_secret(CKK_GENERIC_SECRET, len);
        t.push(b(CKA_DERIVE, false));
        tpl(t)
    };
    // X25519: the module's key with a peer of the provider's.
    let (public, private) = pair(
        &mut p,
        a,
        s,
        Mechanism::MontgomeryKeyPairGen,
        vec![raw(CKA_EC_PARAMS, X25519)],
        vec![b(CKA_DERIVE, true)],
    );
    let peer = X25519PrivateKey::from_bytes(&[0x77; 32]).unwrap();
    let m = Mechanism::Ecdh1Derive(EcdhParams {
        kdf: EcdhKdf::Null,
        shared_data: vec![],
        public_data: peer.public_key().unwrap().to_vec(),
    });
    let k = p
        .hsm
        .derive_key(a, s, &m, private, &derive_tpl(32))
        .unwrap();
    let ours = p.attr(a, s, k, CKA_VALUE);
    let theirs = peer
        .derive(&point(&p.attr(a, s, public, CKA_EC_POINT)))
        .unwrap();
    assert_eq!(ours, &theirs[..]);
    assert_eq!(p.attr(a, s, k, CKA_LOCAL), [0]);

    // P-256 with the X9.63 KDF.
    let (public, private) = pair(
        &mut p,
        a,
        s,
        Mechanism::EcKeyPairGen,
        vec![raw(CKA_EC_PARAMS, P256)],
        vec![b(CKA_DERIVE, true)],
    );
    let peer = strongroom_crypto::EcPrivateKey::generate(Curve::P256).unwrap();
    let m = Mechanism::Ecdh1Derive(EcdhParams {
        kdf: EcdhKdf::X963(Hash::Sha256),
        shared_data: b"shared info".to_vec(),
        public_data: peer.public_key().point().to_vec(),
    });
    let k = p
        .hsm
        .derive_key(a, s, &m, private, &derive_tpl(48))
        .unwrap();
    let z = peer
        .derive(&point(&p.attr(a, s, public, CKA_EC_POINT)))
        .unwrap();
    let expected = strongroom_crypto::x963_kdf(HashAlg::Sha256, &z, b"shared info", 48).unwrap();
    assert_eq!(p.attr(a, s, k, CKA_VALUE), &expected[..]);
    // A point off the curve is a bad parameter.
    let m = Mechanism::Ecdh1Derive(EcdhParams {
        kdf: EcdhKdf::Null,
        shared_data: vec![],
        public_data: [&[4u8][..], &[1; 64]].concat(),
    });
    assert_eq!(
        code(p.hsm.derive_key(a, s, &m, private, &derive_tpl(32))),
        ret::SR_RET_MECHANISM_PARAM_INVALID
    );
    // CKA_DERIVE false refuses.
    let (_, no_derive) = pair(
        &mut p,
        a,
        s,
        Mechanism::EcKeyPairGen,
        vec![raw(CKA_EC_PARAMS, P256)],
        vec![],
    );
    assert_eq!(
        code(p.hsm.derive_key(
            a,
            s,
            &Mechanism::Ecdh1Derive(EcdhParams {
                kdf: EcdhKdf::Null,
                shared_data: vec![],
                public_data: peer.public_key().point().to_vec(),
            }),
            no_derive,
            &derive_tpl(32)
        )),
        strongroom_proto::ret::SR_RET_KEY_FUNCTION_NOT_PERMITTED
    );
}

#[test]
fn rfc5869_hkdf_known_answer() {
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    let ikm = p.create(
        a,
        s,
        vec![
            u(CKA_CLASS, CKO_SECRET_KEY),
            u(CKA_KEY_TYPE, CKK_HKDF),
            raw(CKA_VALUE, &[0x0b; 22]),
            b(CKA_DERIVE, true),
        ],
    );
    let m = Mechanism::HkdfDerive(HkdfParams {
        extract: true,
        expand: true,
        prf: Hash::Sha256,
        salt: HkdfSalt::Data(hex("000102030405060708090a0b0c")),
        info: hex("f0f1f2f3f4f5f6f7f8f9"),
    });
    let mut t = extractable_secret(CKK_GENERIC_SECRET, 42);
    t.push(raw(CKA_LABEL, b"okm"));
    let okm = p.hsm.derive_key(a, s, &m, ikm, &tpl(t)).unwrap();
    assert_eq!(
        p.attr(a, s, okm, CKA_VALUE),
        hex(
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf
             34007208d5b887185865"
        )
    );
    // Extract only: the PRK.
    let m = Mechanism::HkdfDerive(HkdfParams {
        extract: true,
        expand: false,
        prf: Hash::Sha256,
        salt: HkdfSalt::Data(hex("000102030405060708090a0b0c")),
        info: vec![],
    });
    let prk = p
        .hsm
        .derive_key(
            a,
            s,
            &m,
            ikm,
            &tpl(vec![b(CKA_EXTRACTABLE, true), b(CKA_SENSITIVE, false)]),
        )
        .unwrap();
    assert_eq!(
        p.attr(a, s, prk, CKA_VALUE),
        hex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5")
    );
}

#[test]
fn pbkdf2_key_generation_rfc6070() {
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    let m = Mechanism::Pbkdf2(Pbkdf2Params {
        salt: b"salt".to_vec(),
        iterations: 2,
        prf: Hash::Sha1,
        password: Zeroizing::new(b"password".to_vec()),
    });
    let k = p
        .hsm
        .generate_key(a, s, &m, &tpl(extractable_secret(CKK_GENERIC_SECRET, 20)))
        .unwrap();
    assert_eq!(
        p.attr(a, s, k, CKA_VALUE),
        hex("ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957")
    );
    // An AES key from a password.
    let m = Mechanism::Pbkdf2(Pbkdf2Params {
        salt: b"NaCl".to_vec(),
        iterations: 1000,
        prf: Hash::Sha256,
        password: Zeroizing::new(b"correct horse".to_vec()),
    });
    let aes_key = p
        .hsm
        .generate_key(a, s, &m, &tpl(extractable_secret(CKK_AES, 32)))
        .unwrap();
    let expected =
        strongroom_crypto::pbkdf2(HashAlg::Sha256, b"correct horse", b"NaCl", 1000, 32).unwrap();
    assert_eq!(p.attr(a, s, aes_key, CKA_VALUE), &expected[..]);
    p.encrypt(a, s, &Mechanism::AesEcb, aes_key, &[0; 16]);
}

#[test]
fn key_checks_use_type_usage_allowed_mechanisms_and_size() {
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    let key = p.create(a, s, aes(&[1; 16], false));
    assert_eq!(
        code(
            p.hsm
                .sign_init(a, s, &Mechanism::RsaPkcsHash(Hash::Sha256), key)
        ),
        ret::SR_RET_KEY_TYPE_INCONSISTENT
    );
    assert_eq!(
        code(p.hsm.sign_init(a, s, &Mechanism::Hmac(Hash::Sha256), key)),
        ret::SR_RET_KEY_TYPE_INCONSISTENT
    );
    let mut attrs = aes(&[2; 16], false);
    attrs.push(b(CKA_ENCRYPT, false));
    let no_encrypt = p.create(a, s, attrs);
    assert_eq!(
        code(p.hsm.encrypt_init(a, s, &Mechanism::AesEcb, no_encrypt)),
        strongroom_proto::ret::SR_RET_KEY_FUNCTION_NOT_PERMITTED
    );
    let mut attrs = aes(&[3; 16], false);
    attrs.push(raw(CKA_ALLOWED_MECHANISMS, &CKM_AES_GCM.to_le_bytes()));
    let gcm_only = p.create(a, s, attrs);
    assert_eq!(
        code(p.hsm.encrypt_init(a, s, &Mechanism::AesEcb, gcm_only)),
        ret::SR_RET_MECHANISM_INVALID
    );
    assert_eq!(
        code(
            p.hsm
                .sign_init(a, s, &Mechanism::AesCmac, ObjectHandle::from_value(9999))
        ),
        ret::SR_RET_KEY_HANDLE_INVALID
    );
    // A mechanism used for a function it lacks.
    assert_eq!(
        code(p.hsm.sign_init(a, s, &Mechanism::AesCbcPad([0; 16]), key)),
        ret::SR_RET_MECHANISM_INVALID
    );
    // RSA keys outside the mechanism's sizes.
    assert_eq!(
        code(p.hsm.generate_key_pair(
            a,
            s,
            &Mechanism::RsaKeyPairGen,
            &tpl(vec![u(CKA_MODULUS_BITS, 8192)]),
            &tpl(vec![])
        )),
        ret::SR_RET_KEY_SIZE_RANGE
    );
    assert_eq!(
        code(
            p.hsm
                .generate_key(a, s, &Mechanism::AesKeyGen, &tpl(aes_gen(64, false)))
        ),
        ret::SR_RET_KEY_SIZE_RANGE
    );
    assert_eq!(
        code(
            p.hsm
                .generate_key(a, s, &Mechanism::AesKeyGen, &tpl(aes_gen(20, false)))
        ),
        ret::SR_RET_ATTRIBUTE_VALUE_INVALID
    );
    assert_eq!(
        code(p.hsm.generate_key_pair(
            a,
            s,
            &Mechanism::EcKeyPairGen,
            &tpl(vec![raw(
                CKA_EC_PARAMS,
                &[0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x0A]
            )]),
            &tpl(vec![])
        )),
        ret::SR_RET_CURVE_NOT_SUPPORTED
    );
}

#[test]
fn fips_approved_mode_narrows_mechanisms() {
    // HSM policy 12 off: the FIPS-approved mode (destructive, so set before the partition).
    let mut p = part_policies(&[(12, 0)]);
    let list = p.hsm.mechanism_list(p.serial).unwrap();
    assert!(!list.contains(&CKM_RSA_PKCS));
    assert!(!list.contains(&CKM_EC_MONTGOMERY_KEY_PAIR_GEN));
    assert!(list.contains(&CKM_SHA1_RSA_PKCS));
    let info = p.hsm.mechanism_info(p.serial, CKM_SHA1_RSA_PKCS).unwrap();
    assert_eq!(info.flags & CKF_SIGN, 0);
    assert_ne!(info.flags & CKF_VERIFY, 0);
    assert_eq!(
        p.hsm
            .mechanism_info(p.serial, CKM_RSA_PKCS_KEY_PAIR_GEN)
            .unwrap()
            .min_key_size,
        2048
    );
    assert_eq!(
        code(p.hsm.mechanism_info(p.serial, CKM_RSA_PKCS)),
        ret::SR_RET_MECHANISM_INVALID
    );
    let (a, s) = p.rw(Some(CO));
    assert_eq!(
        code(p.hsm.generate_key_pair(
            a,
            s,
            &Mechanism::RsaKeyPairGen,
            &tpl(vec![u(CKA_MODULUS_BITS, 1024)]),
            &tpl(vec![])
        )),
        ret::SR_RET_KEY_SIZE_RANGE
    );
    assert_eq!(
        code(p.hsm.generate_key_pair(
            a,
            s,
            &Mechanism::MontgomeryKeyPairGen,
            &tpl(vec![raw(CKA_EC_PARAMS, X25519)]),
            &tpl(vec![])
        )),
        ret::SR_RET_MECHANISM_INVALID
    );
    let (public, private) = pair(
        &mut p,
        a,
        s,
        Mechanism::EcKeyPairGen,
        vec![raw(CKA_EC_PARAMS, P256)],
        vec![],
    );
    assert_eq!(
        code(
            p.hsm
                .sign_init(a, s, &Mechanism::EcdsaHash(Hash::Sha1), private)
        ),
        ret::SR_RET_MECHANISM_INVALID
    );
    p.hsm
        .verify_init(a, s, &Mechanism::EcdsaHash(Hash::Sha1), public)
        .unwrap();

    // Outside FIPS mode 1024-bit RSA exists, and partition policy 19 gates raw RSA.
    let mut q = part();
    assert!(
        q.hsm
            .mechanism_list(q.serial)
            .unwrap()
            .contains(&CKM_RSA_X_509)
    );
    let (a, s) = q.rw(Some(CO));
    let (_, small) = pair(
        &mut q,
        a,
        s,
        Mechanism::RsaKeyPairGen,
        vec![u(CKA_MODULUS_BITS, 1024)],
        vec![],
    );
    q.partition_policy(19, 0);
    assert!(
        !q.hsm
            .mechanism_list(q.serial)
            .unwrap()
            .contains(&CKM_RSA_X_509)
    );
    assert_eq!(
        code(q.hsm.sign_init(a, s, &Mechanism::RsaX509, small)),
        ret::SR_RET_MECHANISM_INVALID
    );
    q.sign(a, s, &Mechanism::RsaPkcsHash(Hash::Sha256), small, b"ok");
}

#[test]
fn random_numbers() {
    let mut p = part();
    let (a, s) = p.rw(None);
    let x = p.hsm.generate_random(a, s, 64).unwrap();
    let y = p.hsm.generate_random(a, s, 64).unwrap();
    assert_eq!(x.len(), 64);
    assert_ne!(x, y);
    // The entropy appliance's 256-bit blocks.
    for _ in 0..3 {
        p.hsm.seed_random(a, s, &[0xAB; 32]).unwrap();
    }
    assert_eq!(p.hsm.generate_random(a, s, 0).unwrap(), Vec::<u8>::new());
    assert_eq!(
        code(
            p.hsm
                .generate_random(a, s, strongroom_module::MAX_RANDOM_LEN + 1)
        ),
        ret::SR_RET_ARGUMENTS_BAD
    );
}

/// The length rule an `*Init` hands the network library answers every input length as the
/// module's own length query does, for each mechanism family with a rule; it holds while the
/// operation is as `*Init` left it (queries change nothing) and is withdrawn after an update.
#[test]
fn single_output_length_rules_answer_as_the_length_query_does() {
    use strongroom_module::{Output, OutputOperation as Op};
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    let key = p.create(a, s, aes(&[0x42; 32], false));
    let (_, rsa) = pair(
        &mut p,
        a,
        s,
        Mechanism::RsaKeyPairGen,
        vec![u(CKA_MODULUS_BITS, 2048)],
        vec![],
    );
    let (_, ec) = pair(
        &mut p,
        a,
        s,
        Mechanism::EcKeyPairGen,
        vec![raw(CKA_EC_PARAMS, P256)],
        vec![],
    );
    let (_, ed) = pair(
        &mut p,
        a,
        s,
        Mechanism::EdwardsKeyPairGen,
        vec![raw(CKA_EC_PARAMS, ED25519)],
        vec![],
    );
    let gcm = |tag_bits| {
        Mechanism::AesGcm(GcmParams {
            iv: vec![1; 12],
            iv_bits: 96,
            aad: Vec::new(),
            tag_bits,
        })
    };
    let ctr = Mechanism::AesCtr(CtrParams {
        counter_bits: 32,
        counter_block: [3; 16],
    });
    let ciphers = [
        (Mechanism::AesEcb, key),
        (Mechanism::AesCbc([2; 16]), key),
        (Mechanism::AesCbcPad([2; 16]), key),
        (ctr, key),
        (gcm(128), key),
        (gcm(96), key),
        (Mechanism::AesKeyWrap, key),
        (Mechanism::AesKeyWrapKwp, key),
    ];
    let lengths = [0usize, 1, 8, 15, 16, 17, 24, 31, 32, 100, 4096];
    let query = |out: Result<Output, strongroom_module::Error>| match out.unwrap() {
        Output::Length(n) => n as u64,
        other => panic!("a length query answered {other:?}"),
    };
    let mut with_rule = 0;
    for (mech, key) in &ciphers {
        for op in [Op::Encrypt, Op::Decrypt] {
            if op == Op::Encrypt {
                p.hsm.encrypt_init(a, s, mech, *key).unwrap();
            } else {
                p.hsm.decrypt_init(a, s, mech, *key).unwrap();
            }
            let rule = p.hsm.single_output_length(a, s, op).unwrap();
            for n in lengths {
                let data = vec![0u8; n];
                let asked = if op == Op::Encrypt {
                    query(p.hsm.encrypt(a, s, &data, None))
                } else {
                    query(p.hsm.decrypt(a, s, &data, None))
                };
                if let Some(rule) = rule {
                    assert_eq!(rule.for_input(n as u64), asked, "{mech:?} {op:?} {n}");
                }
            }
            with_rule += usize::from(rule.is_some());
            // The queries left the operation as it was.
            assert_eq!(p.hsm.single_output_length(a, s, op).unwrap(), rule);
            // End it with a call that fails on its data or completes; either way it is over.
            let _ = if op == Op::Encrypt {
                p.hsm.encrypt(a, s, &[0; 5], Some(4096))
            } else {
                p.hsm.decrypt(a, s, &[0; 5], Some(4096))
            };
            assert_eq!(p.hsm.single_output_length(a, s, op).unwrap(), None);
        }
    }
    // Every cipher direction has a rule but CBC-PAD decryption and KWP encryption.
    assert_eq!(with_rule, ciphers.len() * 2 - 2);

    let signers = [
        (Mechanism::RsaPkcsHash(Hash::Sha256), rsa, 256),
        (Mechanism::Ecdsa, ec, 64),
        (Mechanism::EcdsaHash(Hash::Sha256), ec, 64),
        (Mechanism::EdDsa, ed, 64),
        (Mechanism::AesCmac, key, 16),
        (Mechanism::AesCmacGeneral(8), key, 8),
    ];
    for (mech, key, len) in signers {
        p.hsm.sign_init(a, s, &mech, key).unwrap();
        let rule = p.hsm.single_output_length(a, s, Op::Sign).unwrap();
        assert_eq!(
            rule,
            Some(strongroom_proto::messages::OutputLength::Fixed(len))
        );
        for n in [0usize, 32, 1000] {
            let asked = query(p.hsm.sign(a, s, &vec![1; n], None));
            assert_eq!(asked, len, "{mech:?}");
        }
        let sig = data_of(p.hsm.sign(a, s, &[1; 32], Some(512)));
        assert_eq!(sig.len() as u64, len, "{mech:?}");
        assert_eq!(p.hsm.single_output_length(a, s, Op::Sign).unwrap(), None);
    }
    // An update withdraws the rule: the single-part call is no longer allowed.
    p.hsm
        .sign_init(a, s, &Mechanism::EcdsaHash(Hash::Sha256), ec)
        .unwrap();
    p.hsm.sign_update(a, s, b"part").unwrap();
    assert_eq!(p.hsm.single_output_length(a, s, Op::Sign).unwrap(), None);
    let _ = p.hsm.sign_final(a, s, Some(64));
    for h in Hash::ALL {
        p.hsm.digest_init(a, s, &Mechanism::Digest(h)).unwrap();
        let rule = p
            .hsm
            .single_output_length(a, s, Op::Digest)
            .unwrap()
            .unwrap();
        assert_eq!(rule.for_input(3), query(p.hsm.digest(a, s, b"abc", None)));
        assert_eq!(
            rule.for_input(3),
            data_of(p.hsm.digest(a, s, b"abc", Some(64))).len() as u64
        );
    }
    // No operation, no rule.
    assert_eq!(p.hsm.single_output_length(a, s, Op::Encrypt).unwrap(), None);
}
