//! `libstrongroom_pkcs11.so` against a real `strongroomd run`, driven only through the C ABI
//! (the `cryptoki` crate): slots and token information, partition initialization and roles,
//! key generation, signatures, encryption, digests, wrapping, derivation, objects and
//! attributes, random numbers, and the errors an application must see.

mod common;
#[path = "common/pkcs11.rs"]
mod pkcs11_support;

use cryptoki::context::Pkcs11;
use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::elliptic_curve::{EcKdf, Ecdh1DeriveParams};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsOaepParams, PkcsOaepSource};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{
    Attribute, AttributeInfo, AttributeType, KeyType, ObjectClass, ObjectHandle,
};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;

use pkcs11_support::{Setup, isolated, library};

const PSO_PIN: &str = "Pso-Pass-123";
const CO_FIRST: &str = "Co-Initial-1";
const CO_PIN: &str = "Co-Changed-22";
/// DER of the P-256 curve OID.
const P256: &[u8] = &[0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
/// DER of the Ed25519 curve OID.
const ED25519: &[u8] = &[0x06, 0x03, 0x2B, 0x65, 0x70];

fn pin(s: &str) -> AuthPin {
    AuthPin::new(s.into())
}

fn rv(e: Error) -> RvError {
    match e {
        Error::Pkcs11(rv, _) => rv,
        other => panic!("not a PKCS#11 return value: {other:?}"),
    }
}

/// Initializes the only slot's partition, creates the Crypto Officer, changes its first PIN
/// and returns a read/write session with the Crypto Officer logged in.
fn prepare(p: &Pkcs11) -> (Slot, Session) {
    let slots = p.get_slots_with_token().expect("C_GetSlotList");
    assert_eq!(slots.len(), 1, "one assigned partition, one slot");
    let slot = slots[0];
    p.init_token(slot, &pin(PSO_PIN), "Library Token")
        .expect("C_InitToken");
    let s = p.open_rw_session(slot).expect("C_OpenSession");
    s.login(UserType::So, Some(&pin(PSO_PIN)))
        .expect("Partition SO login");
    s.init_pin(&pin(CO_FIRST)).expect("C_InitPIN");
    s.logout().expect("C_Logout");
    assert_eq!(
        s.login(UserType::User, Some(&pin("Wrong-Pin-99")))
            .map_err(rv)
            .err(),
        Some(RvError::PinIncorrect)
    );
    s.login(UserType::User, Some(&pin(CO_FIRST)))
        .expect("Crypto Officer login");
    // The first Crypto Officer PIN must be changed before any key is used (policy 21).
    let gen_err = s
        .generate_key(&Mechanism::AesKeyGen, &[Attribute::ValueLen(32.into())])
        .map_err(rv)
        .err();
    assert_eq!(gen_err, Some(RvError::PinExpired));
    s.set_pin(&pin(CO_FIRST), &pin(CO_PIN)).expect("C_SetPIN");
    (slot, s)
}

fn p256_pair(s: &Session, label: &str, token: bool, derive: bool) -> (ObjectHandle, ObjectHandle) {
    s.generate_key_pair(
        &Mechanism::EccKeyPairGen,
        &[
            Attribute::Token(token),
            Attribute::EcParams(P256.to_vec()),
            Attribute::Verify(!derive),
            Attribute::Label(label.as_bytes().to_vec()),
        ],
        &[
            Attribute::Token(token),
            Attribute::Sign(!derive),
            Attribute::Derive(derive),
            Attribute::Label(label.as_bytes().to_vec()),
        ],
    )
    .expect("P-256 key pair")
}

fn aes_key(s: &Session, extractable: bool) -> ObjectHandle {
    s.generate_key(
        &Mechanism::AesKeyGen,
        &[
            Attribute::ValueLen(32.into()),
            Attribute::Encrypt(true),
            Attribute::Decrypt(true),
            Attribute::Wrap(!extractable),
            Attribute::Unwrap(!extractable),
            Attribute::Extractable(extractable),
        ],
    )
    .expect("AES-256 key")
}

fn gcm_encrypt(s: &Session, key: ObjectHandle, plain: &[u8]) -> Vec<u8> {
    let mut iv = [7u8; 12];
    let params = GcmParams::new(&mut iv, b"header", 128.into()).expect("GCM params");
    s.encrypt(&Mechanism::AesGcm(params), key, plain)
        .expect("AES-GCM encrypt")
}

#[test]
fn the_library_serves_a_partition_end_to_end() {
    isolated("the_library_serves_a_partition_end_to_end", |conf| {
        let setup = Setup::start(conf);

        // Before C_Initialize every call is refused.
        let raw = Pkcs11::new(library()).expect("load");
        assert_eq!(
            raw.get_all_slots().map_err(rv).err(),
            Some(RvError::CryptokiNotInitialized)
        );
        drop(raw);

        let p = setup.pkcs11();
        let info = p.get_library_info().expect("C_GetInfo");
        assert_eq!(info.manufacturer_id(), "Strongroom");

        // Slot 0 is the assigned partition; its token is present but not initialized.
        let slot = p.get_all_slots().expect("slots")[0];
        assert_eq!(slot.id(), 0);
        let t = p.get_token_info(slot).expect("C_GetTokenInfo");
        assert!(!t.token_initialized());
        assert!(t.rng() && t.login_required());
        let serial = t.serial_number().to_owned();
        assert!(
            !serial.is_empty() && serial.chars().all(|c| c.is_ascii_digit()),
            "{serial:?}"
        );
        let slot_info = p.get_slot_info(slot).expect("C_GetSlotInfo");
        assert!(slot_info.token_present());

        let (slot, s) = prepare(&p);
        let t = p.get_token_info(slot).expect("token info");
        assert_eq!(t.label(), "Library Token");
        assert_eq!(t.serial_number(), serial, "the serial is the partition's");
        assert!(t.token_initialized());
        assert_eq!(t.session_count(), Some(1));
        assert!(
            p.get_mechanism_list(slot)
                .expect("mechanisms")
                .contains(&MechanismType::ECDSA_SHA256)
        );

        // RSA-2048: PKCS #1 v1.5 signatures, single and multi-part, and OAEP.
        let (rsa_pub, rsa_priv) = s
            .generate_key_pair(
                &Mechanism::RsaPkcsKeyPairGen,
                &[
                    Attribute::Token(true),
                    Attribute::ModulusBits(2048.into()),
                    Attribute::PublicExponent(vec![1, 0, 1]),
                    Attribute::Verify(true),
                    Attribute::Encrypt(true),
                    Attribute::Label(b"rsa".to_vec()),
                ],
                &[
                    Attribute::Token(true),
                    Attribute::Sign(true),
                    Attribute::Decrypt(true),
                    Attribute::Label(b"rsa".to_vec()),
                    Attribute::Id(b"rsa-1".to_vec()),
                ],
            )
            .expect("RSA-2048 key pair");
        let msg = b"signed through the network";
        let sig = s
            .sign(&Mechanism::Sha256RsaPkcs, rsa_priv, msg)
            .expect("RSA sign");
        assert_eq!(sig.len(), 256);
        s.verify(&Mechanism::Sha256RsaPkcs, rsa_pub, msg, &sig)
            .expect("RSA verify");
        assert_eq!(
            s.verify(&Mechanism::Sha256RsaPkcs, rsa_pub, b"another message", &sig)
                .map_err(rv)
                .err(),
            Some(RvError::SignatureInvalid)
        );
        s.sign_init(&Mechanism::Sha256RsaPkcs, rsa_priv)
            .expect("sign init");
        s.sign_update(&msg[..10]).expect("sign update");
        s.sign_update(&msg[10..]).expect("sign update");
        assert_eq!(
            s.sign_final().expect("sign final"),
            sig,
            "PKCS #1 v1.5 is deterministic"
        );
        s.verify_init(&Mechanism::Sha256RsaPkcs, rsa_pub)
            .expect("verify init");
        s.verify_update(msg).expect("verify update");
        s.verify_final(&sig).expect("verify final");
        let oaep = Mechanism::RsaPkcsOaep(PkcsOaepParams::new(
            MechanismType::SHA256,
            PkcsMgfType::MGF1_SHA256,
            PkcsOaepSource::empty(),
        ));
        let ct = s
            .encrypt(&oaep, rsa_pub, b"session key")
            .expect("OAEP encrypt");
        assert_eq!(
            s.decrypt(&oaep, rsa_priv, &ct).expect("OAEP decrypt"),
            b"session key"
        );

        // P-256 and Ed25519 signatures.
        let (ec_pub, ec_priv) = p256_pair(&s, "ec", true, false);
        let sig = s
            .sign(&Mechanism::EcdsaSha256, ec_priv, msg)
            .expect("ECDSA");
        assert_eq!(sig.len(), 64);
        s.verify(&Mechanism::EcdsaSha256, ec_pub, msg, &sig)
            .expect("ECDSA verify");
        let (ed_pub, ed_priv) = s
            .generate_key_pair(
                &Mechanism::EccEdwardsKeyPairGen,
                &[
                    Attribute::EcParams(ED25519.to_vec()),
                    Attribute::Verify(true),
                ],
                &[Attribute::Sign(true)],
            )
            .expect("Ed25519 key pair");
        let eddsa = Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure));
        let sig = s.sign(&eddsa, ed_priv, msg).expect("Ed25519 sign");
        assert_eq!(sig.len(), 64);
        s.verify(&eddsa, ed_pub, msg, &sig).expect("Ed25519 verify");

        // AES: GCM and CBC-PAD round trips.
        let aes = aes_key(&s, false);
        let ct = gcm_encrypt(&s, aes, b"attack at dawn");
        assert_eq!(ct.len(), 14 + 16);
        let mut iv = [7u8; 12];
        let params = GcmParams::new(&mut iv, b"header", 128.into()).expect("GCM params");
        assert_eq!(
            s.decrypt(&Mechanism::AesGcm(params), aes, &ct)
                .expect("AES-GCM decrypt"),
            b"attack at dawn"
        );
        let cbc = Mechanism::AesCbcPad([9u8; 16]);
        let ct = s.encrypt(&cbc, aes, b"seventeen bytes!!").expect("CBC-PAD");
        assert_eq!(ct.len(), 32);
        assert_eq!(
            s.decrypt(&cbc, aes, &ct).expect("CBC-PAD decrypt"),
            b"seventeen bytes!!"
        );

        // Digest.
        let d = s.digest(&Mechanism::Sha256, b"abc").expect("SHA-256");
        assert_eq!(
            d[..4],
            [0xba, 0x78, 0x16, 0xbf],
            "SHA-256(\"abc\") starts ba7816bf"
        );

        // Wrap an extractable key under the AES key and unwrap it: both encrypt alike.
        let inner = aes_key(&s, true);
        let wrapped = s
            .wrap_key(&Mechanism::AesKeyWrap, aes, inner)
            .expect("C_WrapKey");
        assert_eq!(wrapped.len(), 40);
        let unwrapped = s
            .unwrap_key(
                &Mechanism::AesKeyWrap,
                aes,
                &wrapped,
                &[
                    Attribute::Class(ObjectClass::SECRET_KEY),
                    Attribute::KeyType(KeyType::AES),
                    Attribute::Encrypt(true),
                    Attribute::Decrypt(true),
                ],
            )
            .expect("C_UnwrapKey");
        assert_eq!(
            gcm_encrypt(&s, inner, b"same key"),
            gcm_encrypt(&s, unwrapped, b"same key")
        );

        // ECDH: both parties derive the same AES key.
        let (a_pub, a_priv) = p256_pair(&s, "ecdh-a", false, true);
        let (b_pub, b_priv) = p256_pair(&s, "ecdh-b", false, true);
        let point = |h| match s
            .get_attributes(h, &[AttributeType::EcPoint])
            .expect("CKA_EC_POINT")
            .pop()
        {
            Some(Attribute::EcPoint(p)) => p,
            other => panic!("no EC point: {other:?}"),
        };
        let derived_template = [
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
            Attribute::ValueLen(32.into()),
            Attribute::Encrypt(true),
            Attribute::Decrypt(true),
        ];
        let (pa, pb) = (point(a_pub), point(b_pub));
        let ka = s
            .derive_key(
                &Mechanism::Ecdh1Derive(Ecdh1DeriveParams::new(EcKdf::null(), &pb)),
                a_priv,
                &derived_template,
            )
            .expect("ECDH derive (a)");
        let kb = s
            .derive_key(
                &Mechanism::Ecdh1Derive(Ecdh1DeriveParams::new(EcKdf::null(), &pa)),
                b_priv,
                &derived_template,
            )
            .expect("ECDH derive (b)");
        assert_eq!(
            gcm_encrypt(&s, ka, b"agreed"),
            gcm_encrypt(&s, kb, b"agreed")
        );

        // Objects and attributes.
        let found = s
            .find_objects(&[
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::Label(b"rsa".to_vec()),
            ])
            .expect("C_FindObjects");
        assert_eq!(found, vec![rsa_priv]);
        let attrs = s
            .get_attributes(
                rsa_priv,
                &[
                    AttributeType::KeyType,
                    AttributeType::Sign,
                    AttributeType::Id,
                ],
            )
            .expect("C_GetAttributeValue");
        assert!(
            attrs.contains(&Attribute::KeyType(KeyType::RSA)),
            "{attrs:?}"
        );
        assert!(attrs.contains(&Attribute::Sign(true)), "{attrs:?}");
        assert!(
            attrs.contains(&Attribute::Id(b"rsa-1".to_vec())),
            "{attrs:?}"
        );
        let info = s
            .get_attribute_info(
                rsa_priv,
                &[AttributeType::PrivateExponent, AttributeType::ModulusBits],
            )
            .expect("attribute info");
        assert!(matches!(info[0], AttributeInfo::Sensitive), "{info:?}");
        assert!(matches!(info[1], AttributeInfo::TypeInvalid), "{info:?}");
        let modulus = s
            .get_attributes(rsa_pub, &[AttributeType::Modulus])
            .expect("modulus");
        assert!(matches!(&modulus[0], Attribute::Modulus(m) if m.len() == 256));
        s.update_attributes(rsa_priv, &[Attribute::Label(b"renamed".to_vec())])
            .expect("C_SetAttributeValue");
        assert!(
            s.find_objects(&[
                Attribute::Label(b"rsa".to_vec()),
                Attribute::Class(ObjectClass::PRIVATE_KEY)
            ])
            .expect("find")
            .is_empty()
        );

        // Random numbers.
        let r1 = s.generate_random_vec(64).expect("C_GenerateRandom");
        let r2 = s.generate_random_vec(64).expect("C_GenerateRandom");
        assert_eq!(r1.len(), 64);
        assert_ne!(r1, r2);

        // Bad handles: a destroyed key, a slot that does not exist.
        let gone = aes_key(&s, false);
        s.destroy_object(gone).expect("C_DestroyObject");
        assert_eq!(
            s.encrypt(&Mechanism::AesCbcPad([0; 16]), gone, msg)
                .map_err(rv)
                .err()
                .map(|e| matches!(e, RvError::KeyHandleInvalid | RvError::ObjectHandleInvalid)),
            Some(true)
        );
        assert_eq!(
            p.get_token_info(Slot::try_from(99u64).expect("slot"))
                .map_err(rv)
                .err(),
            Some(RvError::SlotIdInvalid)
        );

        // Logging out ends key use.
        s.logout().expect("logout");
        assert!(s.sign(&Mechanism::EcdsaSha256, ec_priv, msg).is_err());
        drop(s);
        p.finalize().expect("C_Finalize");
        drop(setup);
    });
}

#[test]
fn sessions_end_with_an_appliance_restart_and_the_next_call_reconnects() {
    isolated(
        "sessions_end_with_an_appliance_restart_and_the_next_call_reconnects",
        |conf| {
            let mut setup = Setup::start(conf);
            let p = setup.pkcs11();
            let (slot, s) = prepare(&p);
            let (_, key) = p256_pair(&s, "survivor", true, false);
            s.sign(&Mechanism::EcdsaSha256, key, b"before")
                .expect("sign before the restart");

            setup.restart();

            // The session was on the lost connection: the spec's errors, no crash, no hang.
            let first = s
                .sign(&Mechanism::EcdsaSha256, key, b"after")
                .map_err(rv)
                .err();
            assert!(
                matches!(
                    first,
                    Some(RvError::DeviceRemoved | RvError::SessionHandleInvalid)
                ),
                "{first:?}"
            );
            assert_eq!(
                s.sign(&Mechanism::EcdsaSha256, key, b"again")
                    .map_err(rv)
                    .err(),
                Some(RvError::SessionHandleInvalid)
            );
            drop(s);

            // A new session reconnects; the token key is still there.
            let s = p
                .open_rw_session(slot)
                .expect("new session after the restart");
            s.login(UserType::User, Some(&pin(CO_PIN)))
                .expect("login after the restart");
            let found = s
                .find_objects(&[
                    Attribute::Class(ObjectClass::PRIVATE_KEY),
                    Attribute::Label(b"survivor".to_vec()),
                ])
                .expect("find");
            assert_eq!(found.len(), 1);
            let sig = s
                .sign(&Mechanism::EcdsaSha256, found[0], b"after")
                .expect("sign after the restart");
            assert_eq!(sig.len(), 64);

            // Revoking the assignment: the token is no longer present.
            let out = setup.app.console(&format!(
                "client revokePartition -client {} -partition {}",
                pkcs11_support::CLIENT,
                common::ntls::PARTITION
            ));
            assert!(out.contains("successful"), "{out}");
            assert_eq!(
                s.sign(&Mechanism::EcdsaSha256, found[0], b"revoked")
                    .map_err(rv)
                    .err(),
                Some(RvError::TokenNotPresent)
            );
            assert!(p.get_slots_with_token().expect("slot list").is_empty());
            assert_eq!(p.get_all_slots().expect("slot list"), vec![slot]);
            assert!(!p.get_slot_info(slot).expect("slot info").token_present());
            assert_eq!(
                p.open_rw_session(slot).map_err(rv).err(),
                Some(RvError::TokenNotPresent)
            );
        },
    );
}

#[test]
fn inits_answered_by_the_library_serve_inputs_up_to_the_limit() {
    isolated(
        "inits_answered_by_the_library_serve_inputs_up_to_the_limit",
        |conf| {
            let setup = Setup::start(conf);
            let p = setup.pkcs11();
            let (_, s) = prepare(&p);
            // A session key: the library answers the second init of each operation itself
            // and sends it with the call, unless the two do not fit in one request.
            let key = aes_key(&s, false);
            let limit = strongroom_proto::messages::MAX_BLOB;
            for len in [1000, limit - 16] {
                let plain: Vec<u8> = (0..=250u8).cycle().take(len).collect();
                let mut sealed = Vec::new();
                for iv_byte in [1u8, 2, 3] {
                    let mut iv = [iv_byte; 12];
                    let params = GcmParams::new(&mut iv, b"", 128.into()).expect("GCM params");
                    let mech = Mechanism::AesGcm(params);
                    let out = s.encrypt(&mech, key, &plain).expect("encrypt");
                    assert_eq!(out.len(), len + 16);
                    let back = s.decrypt(&mech, key, &out).expect("decrypt");
                    assert!(back == plain, "round trip of {len} bytes");
                    sealed.push(out);
                }
                // A new IV each time: new ciphertexts.
                assert!(sealed[0] != sealed[1] && sealed[1] != sealed[2]);
            }
            drop(s);
            p.finalize().expect("C_Finalize");
            drop(setup);
        },
    );
}
