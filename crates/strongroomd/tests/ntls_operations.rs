//! The cipher, digest and key-management requests over the real NTLS link to a real
//! `strongroomd run`: AES key generation, AES-GCM and AES-CBC-PAD (single and multi-part,
//! with length queries and short buffers), digests, multi-part signing, key wrapping and
//! unwrapping, ECDH derivation, object copy and size, and the token flags a client sees.

mod common;
mod p11wire;

use std::sync::Arc;

use common::ntls::{ClientId, NtlsAppliance, OP_ERROR, PARTITION, timeouts};
use strongroom_client::Connection;
use strongroom_module::{Attribute, GcmParams, Mechanism, Template};
use strongroom_proto::messages::{self as m, Message};

const CKA_CLASS: u64 = 0x0;
const CKA_TOKEN: u64 = 0x1;
const CKA_LABEL: u64 = 0x3;
const CKA_VALUE: u64 = 0x11;
const CKA_KEY_TYPE: u64 = 0x100;
const CKA_ENCRYPT: u64 = 0x104;
const CKA_DECRYPT: u64 = 0x105;
const CKA_WRAP: u64 = 0x106;
const CKA_UNWRAP: u64 = 0x107;
const CKA_DERIVE: u64 = 0x10C;
const CKA_VALUE_LEN: u64 = 0x161;
const CKA_EXTRACTABLE: u64 = 0x162;
const CKA_SENSITIVE: u64 = 0x103;
const CKA_EC_PARAMS: u64 = 0x180;
const CKA_EC_POINT: u64 = 0x181;
const CKO_SECRET_KEY: u64 = 0x4;
const CKK_AES: u64 = 0x1F;
const CKK_GENERIC_SECRET: u64 = 0x10;
const CKM_SHA256: u64 = 0x250;
const CKM_ECDSA_SHA256: u64 = 0x1044;
const CKM_EC_KEY_PAIR_GEN: u64 = 0x1040;
const CKM_AES_KEY_GEN: u64 = 0x1080;
const CKM_AES_KEY_WRAP_KWP: u64 = 0x210B;
const CKU_SO: u64 = 0;
const CKU_USER: u64 = 1;
const P256: &[u8] = &[0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];

const CKF_RNG: u64 = 0x1;
const CKF_USER_PIN_INITIALIZED: u64 = 0x8;
const CKF_TOKEN_INITIALIZED: u64 = 0x400;
const CKF_USER_PIN_TO_BE_CHANGED: u64 = 0x8_0000;

/// `SR_RET_BUFFER_TOO_SMALL`.
const BUFFER_TOO_SMALL: u32 = 0x0150_0000;

fn call<Q: Message, A: Message>(conn: &Connection, req: &Q) -> Result<A, m::ErrorResponse> {
    let frame = conn.call(Q::OPCODE, &m::encode(req)).expect("transport");
    if frame.opcode == OP_ERROR {
        return Err(m::decode(&frame.payload).expect("error answer decodes"));
    }
    assert_eq!(frame.opcode, A::OPCODE, "answer opcode");
    Ok(m::decode(&frame.payload).expect("answer decodes"))
}

fn template(attrs: Vec<Attribute>) -> Vec<u8> {
    Template::new(attrs).expect("template").encode()
}

fn spec(mech: &Mechanism) -> m::MechanismSpec {
    m::MechanismSpec {
        mechanism: mech.ckm(),
        params: mech.encode_params(),
    }
}

fn plain(mechanism: u64) -> m::MechanismSpec {
    m::MechanismSpec {
        mechanism,
        params: vec![],
    }
}

fn data(out: m::OutputData) -> Vec<u8> {
    match out {
        m::OutputData::Data(d) => d,
        m::OutputData::Length(n) => panic!("a length ({n}) where data was expected"),
    }
}

fn gcm(iv: u8) -> Mechanism {
    Mechanism::AesGcm(GcmParams {
        iv: vec![iv; 12],
        iv_bits: 96,
        aad: b"header".to_vec(),
        tag_bits: 128,
    })
}

/// An appliance with a registered client, an initialized partition and a logged-in Crypto
/// Officer whose password has been changed; returns the connection and the session.
fn ready() -> (NtlsAppliance, Arc<Connection>, u64, u64) {
    let app = NtlsAppliance::start();
    let id = ClientId::new("127.0.0.1");
    app.register("c1", "127.0.0.1", &id);
    let out = app.console(&format!(
        "client assignPartition -client c1 -partition {PARTITION}"
    ));
    assert!(out.contains("successful"), "{out}");
    let conn = Connection::connect(
        &app.addr(),
        "127.0.0.1",
        id.tls(&app.server_cert()),
        timeouts(),
    )
    .expect("connect");
    let slots: m::GetSlotListResponse = call(&conn, &m::GetSlotListRequest {}).expect("slots");
    let serial = slots.slots[0].serial;
    let info: m::GetTokenInfoResponse =
        call(&conn, &m::GetTokenInfoRequest { serial }).expect("token info");
    assert_eq!(info.flags & CKF_TOKEN_INITIALIZED, 0);
    assert_ne!(info.flags & CKF_RNG, 0);
    let _: m::InitTokenResponse = call(
        &conn,
        &m::InitTokenRequest {
            serial,
            so_pin: b"Pso-Pass-123".to_vec(),
            label: "Ops Token".into(),
            domain: None,
        },
    )
    .expect("init token");
    let s: m::OpenSessionResponse = call(
        &conn,
        &m::OpenSessionRequest {
            serial,
            read_write: true,
        },
    )
    .expect("session");
    let s = s.session;
    let login = |user_type, pin: &[u8]| {
        call::<_, m::LoginResponse>(
            &conn,
            &m::LoginRequest {
                session: s,
                user_type,
                pin: pin.to_vec(),
            },
        )
        .expect("login");
    };
    login(CKU_SO, b"Pso-Pass-123");
    let _: m::InitPinResponse = call(
        &conn,
        &m::InitPinRequest {
            session: s,
            pin: b"Co-Initial-1".to_vec(),
        },
    )
    .expect("init pin");
    let info: m::GetTokenInfoResponse =
        call(&conn, &m::GetTokenInfoRequest { serial }).expect("token info");
    assert_eq!(info.label, "Ops Token");
    assert_ne!(info.flags & CKF_TOKEN_INITIALIZED, 0, "{:#x}", info.flags);
    assert_ne!(
        info.flags & CKF_USER_PIN_INITIALIZED,
        0,
        "{:#x}",
        info.flags
    );
    assert_ne!(
        info.flags & CKF_USER_PIN_TO_BE_CHANGED,
        0,
        "{:#x}",
        info.flags
    );
    let _: m::LogoutResponse = call(&conn, &m::LogoutRequest { session: s }).expect("logout");
    login(CKU_USER, b"Co-Initial-1");
    let _: m::SetPinResponse = call(
        &conn,
        &m::SetPinRequest {
            session: s,
            old_pin: b"Co-Initial-1".to_vec(),
            new_pin: b"Co-Changed-22".to_vec(),
        },
    )
    .expect("set pin");
    let info: m::GetTokenInfoResponse =
        call(&conn, &m::GetTokenInfoRequest { serial }).expect("token info");
    assert_eq!(
        info.flags & CKF_USER_PIN_TO_BE_CHANGED,
        0,
        "{:#x}",
        info.flags
    );
    (app, conn, serial, s)
}

fn aes_key(conn: &Connection, s: u64, label: &str, extractable: bool) -> u64 {
    let r: m::GenerateKeyResponse = call(
        conn,
        &m::GenerateKeyRequest {
            session: s,
            mechanism: plain(CKM_AES_KEY_GEN),
            template: template(vec![
                Attribute::from_ulong(CKA_VALUE_LEN, 32),
                Attribute::from_bool(CKA_TOKEN, true),
                Attribute::new(CKA_LABEL, label.as_bytes().to_vec()),
                Attribute::from_bool(CKA_ENCRYPT, true),
                Attribute::from_bool(CKA_DECRYPT, true),
                Attribute::from_bool(CKA_WRAP, true),
                Attribute::from_bool(CKA_UNWRAP, true),
                Attribute::from_bool(CKA_EXTRACTABLE, extractable),
            ]),
        },
    )
    .expect("generate AES key");
    r.key
}

#[test]
fn ciphers_digests_and_signatures_over_the_wire() {
    let (_app, conn, _serial, s) = ready();
    let key = aes_key(&conn, s, "gcm", false);
    let message = vec![0x5A; 4096];

    // AES-GCM single-part: a length query, a short buffer (with the length needed), then the
    // ciphertext and tag.
    let _: m::EncryptInitResponse = call(
        &conn,
        &m::EncryptInitRequest {
            session: s,
            mechanism: spec(&gcm(1)),
            key,
        },
    )
    .expect("encrypt init");
    let q: m::EncryptResponse = call(
        &conn,
        &m::EncryptRequest {
            session: s,
            data: message.clone(),
            capacity: None,
        },
    )
    .expect("length query");
    assert_eq!(q.output, m::OutputData::Length(4096 + 16));
    let short = call::<_, m::EncryptResponse>(
        &conn,
        &m::EncryptRequest {
            session: s,
            data: message.clone(),
            capacity: Some(100),
        },
    )
    .expect_err("a short buffer is refused");
    assert_eq!(short.code, BUFFER_TOO_SMALL);
    assert_eq!(short.needed, Some(4096 + 16));
    let c: m::EncryptResponse = call(
        &conn,
        &m::EncryptRequest {
            session: s,
            data: message.clone(),
            capacity: Some(4096 + 16),
        },
    )
    .expect("encrypt");
    let ciphertext = data(c.output);
    assert_eq!(ciphertext.len(), 4096 + 16);
    assert_ne!(&ciphertext[..4096], &message[..]);

    // Decrypt in parts; a flipped tag bit is refused.
    let decrypt = |ct: &[u8]| -> Result<Vec<u8>, m::ErrorResponse> {
        let _: m::DecryptInitResponse = call(
            &conn,
            &m::DecryptInitRequest {
                session: s,
                mechanism: spec(&gcm(1)),
                key,
            },
        )?;
        let mut out = Vec::new();
        for part in ct.chunks(1000) {
            let u: m::DecryptUpdateResponse = call(
                &conn,
                &m::DecryptUpdateRequest {
                    session: s,
                    data: part.to_vec(),
                    capacity: Some(8192),
                },
            )?;
            out.extend(data(u.output));
        }
        let f: m::DecryptFinalResponse = call(
            &conn,
            &m::DecryptFinalRequest {
                session: s,
                capacity: Some(8192),
            },
        )?;
        out.extend(data(f.output));
        Ok(out)
    };
    assert_eq!(decrypt(&ciphertext).expect("decrypt"), message);
    let mut bad = ciphertext.clone();
    *bad.last_mut().expect("tag") ^= 1;
    assert!(decrypt(&bad).is_err(), "a forged tag must be refused");

    // AES-CBC-PAD multi-part encryption equals single-part.
    let cbc = Mechanism::AesCbcPad([7; 16]);
    let _: m::EncryptInitResponse = call(
        &conn,
        &m::EncryptInitRequest {
            session: s,
            mechanism: spec(&cbc),
            key,
        },
    )
    .expect("init");
    let whole: m::EncryptResponse = call(
        &conn,
        &m::EncryptRequest {
            session: s,
            data: b"thirty-three bytes of plaintext!!".to_vec(),
            capacity: Some(64),
        },
    )
    .expect("encrypt");
    let whole = data(whole.output);
    assert_eq!(whole.len(), 48);
    let _: m::EncryptInitResponse = call(
        &conn,
        &m::EncryptInitRequest {
            session: s,
            mechanism: spec(&cbc),
            key,
        },
    )
    .expect("init");
    let mut parts = Vec::new();
    for p in [&b"thirty-three"[..], &b" bytes of plaintext!!"[..]] {
        let u: m::EncryptUpdateResponse = call(
            &conn,
            &m::EncryptUpdateRequest {
                session: s,
                data: p.to_vec(),
                capacity: Some(64),
            },
        )
        .expect("update");
        parts.extend(data(u.output));
    }
    let f: m::EncryptFinalResponse = call(
        &conn,
        &m::EncryptFinalRequest {
            session: s,
            capacity: Some(64),
        },
    )
    .expect("final");
    parts.extend(data(f.output));
    assert_eq!(parts, whole);

    // SHA-256 single and multi-part, checked against the known answer for "abc".
    let abc = [
        0xBA, 0x78, 0x16, 0xBF, 0x8F, 0x01, 0xCF, 0xEA, 0x41, 0x41, 0x40, 0xDE, 0x5D, 0xAE, 0x22,
        0x23, 0xB0, 0x03, 0x61, 0xA3, 0x96, 0x17, 0x7A, 0x9C, 0xB4, 0x10, 0xFF, 0x61, 0xF2, 0x00,
        0x15, 0xAD,
    ];
    let _: m::DigestInitResponse = call(
        &conn,
        &m::DigestInitRequest {
            session: s,
            mechanism: plain(CKM_SHA256),
        },
    )
    .expect("digest init");
    let d: m::DigestResponse = call(
        &conn,
        &m::DigestRequest {
            session: s,
            data: b"abc".to_vec(),
            capacity: Some(32),
        },
    )
    .expect("digest");
    assert_eq!(data(d.output), abc);
    let _: m::DigestInitResponse = call(
        &conn,
        &m::DigestInitRequest {
            session: s,
            mechanism: plain(CKM_SHA256),
        },
    )
    .expect("digest init");
    for p in [b"a", b"b", b"c"] {
        let _: m::DigestUpdateResponse = call(
            &conn,
            &m::DigestUpdateRequest {
                session: s,
                data: p.to_vec(),
            },
        )
        .expect("digest update");
    }
    let d: m::DigestFinalResponse = call(
        &conn,
        &m::DigestFinalRequest {
            session: s,
            capacity: Some(32),
        },
    )
    .expect("digest final");
    assert_eq!(data(d.output), abc);

    // A request far larger than TLS's default buffering: one million 'a' (NIST's long
    // SHA-256 message) in one C_Digest.
    let million_a = [
        0xCD, 0xC7, 0x6E, 0x5C, 0x99, 0x14, 0xFB, 0x92, 0x81, 0xA1, 0xC7, 0xE2, 0x84, 0xD7, 0x3E,
        0x67, 0xF1, 0x80, 0x9A, 0x48, 0xA4, 0x97, 0x20, 0x0E, 0x04, 0x6D, 0x39, 0xCC, 0xC7, 0x11,
        0x2C, 0xD0,
    ];
    let _: m::DigestInitResponse = call(
        &conn,
        &m::DigestInitRequest {
            session: s,
            mechanism: plain(CKM_SHA256),
        },
    )
    .expect("digest init");
    let d: m::DigestResponse = call(
        &conn,
        &m::DigestRequest {
            session: s,
            data: vec![b'a'; 1_000_000],
            capacity: Some(32),
        },
    )
    .expect("a one-megabyte request");
    assert_eq!(data(d.output), million_a);

    // Multi-part ECDSA: signed in parts, verified in parts and whole.
    let keys = ecdsa_pair(&conn, s, false);
    let _: m::SignInitResponse = call(
        &conn,
        &m::SignInitRequest {
            session: s,
            mechanism: plain(CKM_ECDSA_SHA256),
            key: keys.private_key,
        },
    )
    .expect("sign init");
    for p in [&b"signed "[..], &b"in parts"[..]] {
        let _: m::SignUpdateResponse = call(
            &conn,
            &m::SignUpdateRequest {
                session: s,
                data: p.to_vec(),
            },
        )
        .expect("sign update");
    }
    let sig: m::SignFinalResponse = call(
        &conn,
        &m::SignFinalRequest {
            session: s,
            capacity: Some(64),
        },
    )
    .expect("sign final");
    let signature = data(sig.output);
    for (parts, good) in [
        (vec![&b"signed in parts"[..]], true),
        (vec![&b"signed "[..], &b"in parts"[..]], true),
        (vec![&b"signed in part"[..]], false),
    ] {
        let _: m::VerifyInitResponse = call(
            &conn,
            &m::VerifyInitRequest {
                session: s,
                mechanism: plain(CKM_ECDSA_SHA256),
                key: keys.public_key,
            },
        )
        .expect("verify init");
        for p in parts {
            let _: m::VerifyUpdateResponse = call(
                &conn,
                &m::VerifyUpdateRequest {
                    session: s,
                    data: p.to_vec(),
                },
            )
            .expect("verify update");
        }
        let r = call::<_, m::VerifyFinalResponse>(
            &conn,
            &m::VerifyFinalRequest {
                session: s,
                signature: signature.clone(),
            },
        );
        assert_eq!(r.is_ok(), good, "{r:?}");
    }
}

#[test]
fn key_management_over_the_wire() {
    let (_app, conn, _serial, s) = ready();
    let kek = aes_key(&conn, s, "kek", false);
    let target = aes_key(&conn, s, "target", true);
    let unextractable = aes_key(&conn, s, "stays", false);

    // Wrap with a length query, then unwrap as a new key that encrypts the same.
    let wrap = |key| -> Result<m::WrapKeyResponse, m::ErrorResponse> {
        call(
            &conn,
            &m::WrapKeyRequest {
                session: s,
                mechanism: plain(CKM_AES_KEY_WRAP_KWP),
                wrapping_key: kek,
                key,
                capacity: Some(64),
            },
        )
    };
    let q: m::WrapKeyResponse = call(
        &conn,
        &m::WrapKeyRequest {
            session: s,
            mechanism: plain(CKM_AES_KEY_WRAP_KWP),
            wrapping_key: kek,
            key: target,
            capacity: None,
        },
    )
    .expect("length query");
    assert_eq!(q.output, m::OutputData::Length(40));
    let wrapped = data(wrap(target).expect("wrap").output);
    assert_eq!(wrapped.len(), 40);
    assert!(
        wrap(unextractable).is_err(),
        "an unextractable key must not be wrapped"
    );
    let unwrapped: m::UnwrapKeyResponse = call(
        &conn,
        &m::UnwrapKeyRequest {
            session: s,
            mechanism: plain(CKM_AES_KEY_WRAP_KWP),
            unwrapping_key: kek,
            wrapped: wrapped.clone(),
            template: template(vec![
                Attribute::from_ulong(CKA_CLASS, CKO_SECRET_KEY),
                Attribute::from_ulong(CKA_KEY_TYPE, CKK_AES),
                Attribute::from_bool(CKA_ENCRYPT, true),
                Attribute::from_bool(CKA_DECRYPT, true),
            ]),
        },
    )
    .expect("unwrap");
    let encrypt_with = |key| {
        let _: m::EncryptInitResponse = call(
            &conn,
            &m::EncryptInitRequest {
                session: s,
                mechanism: spec(&gcm(9)),
                key,
            },
        )
        .expect("init");
        let c: m::EncryptResponse = call(
            &conn,
            &m::EncryptRequest {
                session: s,
                data: b"same key, same ciphertext".to_vec(),
                capacity: Some(64),
            },
        )
        .expect("encrypt");
        data(c.output)
    };
    assert_eq!(encrypt_with(target), encrypt_with(unwrapped.key));
    let mut garbled = wrapped;
    garbled[3] ^= 0x80;
    assert!(
        call::<_, m::UnwrapKeyResponse>(
            &conn,
            &m::UnwrapKeyRequest {
                session: s,
                mechanism: plain(CKM_AES_KEY_WRAP_KWP),
                unwrapping_key: kek,
                wrapped: garbled,
                template: template(vec![
                    Attribute::from_ulong(CKA_CLASS, CKO_SECRET_KEY),
                    Attribute::from_ulong(CKA_KEY_TYPE, CKK_AES),
                ]),
            },
        )
        .is_err(),
        "a garbled wrapped key must be refused"
    );

    // ECDH: two P-256 pairs derive the same secret from each other's public points.
    let pair = || -> m::GenerateKeyPairResponse {
        call(
            &conn,
            &m::GenerateKeyPairRequest {
                session: s,
                mechanism: plain(CKM_EC_KEY_PAIR_GEN),
                public_template: template(vec![Attribute::new(CKA_EC_PARAMS, P256.to_vec())]),
                private_template: template(vec![Attribute::from_bool(CKA_DERIVE, true)]),
            },
        )
        .expect("key pair")
    };
    let point = |key| -> Vec<u8> {
        let r: m::GetAttributeValueResponse = call(
            &conn,
            &m::GetAttributeValueRequest {
                session: s,
                object: key,
                types: vec![CKA_EC_POINT],
            },
        )
        .expect("point");
        match &r.values[0] {
            m::AttrValue::Value(v) => v.clone(),
            other => panic!("{other:?}"),
        }
    };
    let (a, b) = (pair(), pair());
    let derive = |private, public: Vec<u8>| -> Vec<u8> {
        let mech = Mechanism::Ecdh1Derive(strongroom_module::EcdhParams {
            kdf: strongroom_module::EcdhKdf::Null,
            shared_data: vec![],
            public_data: public,
        });
        let k: m::DeriveKeyResponse = call(
            &conn,
            &m::DeriveKeyRequest {
                session: s,
                mechanism: spec(&mech),
                base_key: private,
                template: template(vec![
                    Attribute::from_ulong(CKA_CLASS, CKO_SECRET_KEY),
                    Attribute::from_ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET),
                    Attribute::from_ulong(CKA_VALUE_LEN, 32),
                    Attribute::from_bool(CKA_SENSITIVE, false),
                    Attribute::from_bool(CKA_EXTRACTABLE, true),
                ]),
            },
        )
        .expect("derive");
        let v: m::GetAttributeValueResponse = call(
            &conn,
            &m::GetAttributeValueRequest {
                session: s,
                object: k.key,
                types: vec![CKA_VALUE],
            },
        )
        .expect("value");
        match &v.values[0] {
            m::AttrValue::Value(v) => v.clone(),
            other => panic!("{other:?}"),
        }
    };
    let ab = derive(a.private_key, point(b.public_key));
    let ba = derive(b.private_key, point(a.public_key));
    assert_eq!(ab.len(), 32);
    assert_eq!(ab, ba);

    // Copy an object with a new label; both have a size; the copy can be destroyed alone.
    let copy: m::CopyObjectResponse = call(
        &conn,
        &m::CopyObjectRequest {
            session: s,
            object: target,
            template: template(vec![Attribute::new(CKA_LABEL, b"copy".to_vec())]),
        },
    )
    .expect("copy");
    for o in [target, copy.object] {
        let size: m::GetObjectSizeResponse = call(
            &conn,
            &m::GetObjectSizeRequest {
                session: s,
                object: o,
            },
        )
        .expect("size");
        assert!(size.size > 0);
    }
    let _: m::DestroyObjectResponse = call(
        &conn,
        &m::DestroyObjectRequest {
            session: s,
            object: copy.object,
        },
    )
    .expect("destroy");
    assert!(
        call::<_, m::GetObjectSizeResponse>(
            &conn,
            &m::GetObjectSizeRequest {
                session: s,
                object: copy.object,
            },
        )
        .is_err()
    );
    assert_eq!(encrypt_with(target).len(), 25 + 16);
}

const CKU_CRYPTO_USER: u64 = 0x8000_0001;
/// Partition policy 26: the maximum PIN length.
const MAX_PIN_LENGTH_POLICY: u32 = 26;

#[test]
fn roles_and_partition_policies_over_the_wire() {
    let (_app, conn, serial, s) = ready();
    let roles = |conn: &Connection| -> Vec<m::RoleEntry> {
        let r: m::RoleListResponse = call(conn, &m::RoleListRequest { serial }).expect("role list");
        r.roles
    };
    let of = |list: &[m::RoleEntry], t: u64| -> m::RoleEntry {
        list.iter()
            .find(|r| r.user_type == t)
            .cloned()
            .unwrap_or_else(|| panic!("no role {t:#x} in {list:?}"))
    };
    let list = roles(&conn);
    assert!(of(&list, CKU_SO).initialized);
    assert!(of(&list, CKU_USER).initialized);
    assert!(!of(&list, CKU_USER).must_change);
    assert!(!of(&list, CKU_CRYPTO_USER).initialized);

    // The Crypto Officer (logged in) creates the Crypto User, who must change the password.
    let _: m::RoleInitResponse = call(
        &conn,
        &m::RoleInitRequest {
            session: s,
            user_type: CKU_CRYPTO_USER,
            pin: b"Cu-Initial-1".to_vec(),
        },
    )
    .expect("role init");
    let cu = of(&roles(&conn), CKU_CRYPTO_USER);
    assert!(cu.initialized && cu.must_change, "{cu:?}");
    // The Crypto Officer cannot create a Crypto Officer (that is the Partition SO's).
    assert!(
        call::<_, m::RoleInitResponse>(
            &conn,
            &m::RoleInitRequest {
                session: s,
                user_type: CKU_USER,
                pin: b"Co-Another-1".to_vec(),
            },
        )
        .is_err()
    );
    // Reset by the Crypto Officer; an unknown user type is refused.
    let _: m::RoleResetResponse = call(
        &conn,
        &m::RoleResetRequest {
            session: s,
            user_type: CKU_CRYPTO_USER,
            pin: b"Cu-Reset-22".to_vec(),
        },
    )
    .expect("role reset");
    assert!(
        call::<_, m::RoleResetResponse>(
            &conn,
            &m::RoleResetRequest {
                session: s,
                user_type: 0x8000_0077,
                pin: b"Whatever-1".to_vec(),
            },
        )
        .is_err()
    );

    // The policies text; a change by anyone but the Partition SO is refused.
    let text: m::PartitionPoliciesResponse =
        call(&conn, &m::PartitionPoliciesRequest { serial }).expect("policies");
    let text = String::from_utf8(text.text).expect("UTF-8");
    assert!(
        text.contains(&format!("Partition SN:    {serial}")),
        "{text}"
    );
    let change = m::ChangePartitionPolicyRequest {
        session: s,
        policy: MAX_PIN_LENGTH_POLICY,
        value: 64,
    };
    assert!(call::<_, m::ChangePartitionPolicyResponse>(&conn, &change).is_err());
    let _: m::LogoutResponse = call(&conn, &m::LogoutRequest { session: s }).expect("logout");
    let _: m::LoginResponse = call(
        &conn,
        &m::LoginRequest {
            session: s,
            user_type: CKU_SO,
            pin: b"Pso-Pass-123".to_vec(),
        },
    )
    .expect("PSO login");
    let r: m::ChangePartitionPolicyResponse = call(&conn, &change).expect("change policy");
    assert!(!r.destroyed_objects);
    let text: m::PartitionPoliciesResponse =
        call(&conn, &m::PartitionPoliciesRequest { serial }).expect("policies");
    let text = String::from_utf8(text.text).expect("UTF-8");
    assert!(
        text.lines()
            .any(|l| l.starts_with("Maximum pin length") && l.contains(" 64 ")),
        "{text}"
    );
}

/// A P-256 key pair for ECDSA; `token` says whether both halves are token objects.
fn ecdsa_pair(conn: &Connection, s: u64, token: bool) -> m::GenerateKeyPairResponse {
    call(conn, &p11wire::p256_pair_request(s, token)).expect("key pair")
}

/// Sends a pipelined request and returns the answer frame.
fn pipelined<I: Message, Q: Message>(
    conn: &Connection,
    init: &I,
    call: &Q,
) -> strongroom_proto::Frame {
    let req = m::PipelinedRequest {
        init_opcode: I::OPCODE,
        init: m::encode(init),
        call_opcode: Q::OPCODE,
        call: m::encode(call),
    };
    conn.call(m::OP_PIPELINED, &m::encode(&req))
        .expect("transport")
}

/// The PKCS#11 value of a module return code.
fn ckr_of(code: u32) -> strongroom_proto::Ckr {
    strongroom_proto::RetCode::from_u32(code).ckr()
}

fn error_code(frame: &strongroom_proto::Frame) -> strongroom_proto::Ckr {
    assert_eq!(frame.opcode, OP_ERROR, "{frame:?}");
    let e: m::ErrorResponse = m::decode(&frame.payload).expect("error answer");
    ckr_of(e.code)
}

#[test]
fn inits_said_repeatable_are_run_with_the_call_they_come_with() {
    use strongroom_proto::ckr;
    let (_app, conn, _serial, s) = ready();
    let session_keys = ecdsa_pair(&conn, s, false);
    let token_keys = ecdsa_pair(&conn, s, true);
    let sign_init = |key| m::SignInitRequest {
        session: s,
        mechanism: plain(CKM_ECDSA_SHA256),
        key,
    };
    let sign = |data: &[u8]| m::SignRequest {
        session: s,
        data: data.to_vec(),
        capacity: Some(64),
    };

    // Only a session object's init is repeatable: no other application can destroy or
    // change it. A token object's may fail the next time for another application's doing.
    let r: m::SignInitResponse =
        call(&conn, &sign_init(session_keys.private_key)).expect("sign init");
    assert!(r.repeatable);
    let _: m::SignResponse = call(&conn, &sign(b"one")).expect("sign");
    let r: m::SignInitResponse =
        call(&conn, &sign_init(token_keys.private_key)).expect("sign init");
    assert!(!r.repeatable);
    let _: m::SignResponse = call(&conn, &sign(b"two")).expect("sign");
    let verify_init = |key| m::VerifyInitRequest {
        session: s,
        mechanism: plain(CKM_ECDSA_SHA256),
        key,
    };
    let r: m::VerifyInitResponse =
        call(&conn, &verify_init(session_keys.public_key)).expect("verify init");
    assert!(r.repeatable);
    let _ = call::<_, m::VerifyResponse>(
        &conn,
        &m::VerifyRequest {
            session: s,
            data: vec![],
            signature: vec![],
        },
    );

    // The init and its call in one request: the call's answer, a signature that verifies
    // through a pipelined verification.
    let frame = pipelined(&conn, &sign_init(session_keys.private_key), &sign(b"three"));
    assert_eq!(frame.opcode, m::OP_SIGN, "{frame:?}");
    let signed: m::SignResponse = m::decode(&frame.payload).expect("sign answer");
    let signature = data(signed.output);
    assert_eq!(signature.len(), 64);
    let verify = |sig: Vec<u8>| m::VerifyRequest {
        session: s,
        data: b"three".to_vec(),
        signature: sig,
    };
    let frame = pipelined(
        &conn,
        &verify_init(session_keys.public_key),
        &verify(signature.clone()),
    );
    assert_eq!(frame.opcode, m::OP_VERIFY, "{frame:?}");
    let mut bad = signature.clone();
    bad[3] ^= 1;
    let frame = pipelined(&conn, &verify_init(session_keys.public_key), &verify(bad));
    assert_eq!(error_code(&frame), ckr::CKR_SIGNATURE_INVALID);

    // A failing init: its code in a PipelinedInitFailed answer, and the call is not run.
    let frame = pipelined(&conn, &sign_init(0xDEAD_BEEF), &sign(b"four"));
    assert_eq!(frame.opcode, m::OP_PIPELINED, "{frame:?}");
    let failed: m::PipelinedInitFailed = m::decode(&frame.payload).expect("init failure");
    assert_eq!(ckr_of(failed.code), ckr::CKR_KEY_HANDLE_INVALID);
    let e = call::<_, m::SignResponse>(&conn, &sign(b"four")).expect_err("no operation");
    assert_eq!(ckr_of(e.code), ckr::CKR_OPERATION_NOT_INITIALIZED);
    // An init over an active operation fails and leaves that operation as it was.
    let _: m::SignInitResponse =
        call(&conn, &sign_init(session_keys.private_key)).expect("sign init");
    let frame = pipelined(&conn, &sign_init(session_keys.private_key), &sign(b"five"));
    assert_eq!(frame.opcode, m::OP_PIPELINED, "{frame:?}");
    let failed: m::PipelinedInitFailed = m::decode(&frame.payload).expect("init failure");
    assert_eq!(ckr_of(failed.code), ckr::CKR_OPERATION_ACTIVE);
    let _: m::SignResponse = call(&conn, &sign(b"five")).expect("the active operation signs");

    // Refused: an init with a call of another operation, an init that is not one, a
    // malformed request. The connection goes on.
    let frame = pipelined(
        &conn,
        &sign_init(session_keys.private_key),
        &verify(signature),
    );
    assert_eq!(error_code(&frame), ckr::CKR_ARGUMENTS_BAD);
    let frame = pipelined(
        &conn,
        &m::GenerateRandomRequest { session: s, len: 8 },
        &sign(b"six"),
    );
    assert_eq!(error_code(&frame), ckr::CKR_ARGUMENTS_BAD);
    let frame = conn
        .call(m::OP_PIPELINED, &[1, 0xFF, 0xFF, 0xFF])
        .expect("transport");
    assert_eq!(error_code(&frame), ckr::CKR_ARGUMENTS_BAD);
    let e = call::<_, m::SignResponse>(&conn, &sign(b"six")).expect_err("nothing started");
    assert_eq!(ckr_of(e.code), ckr::CKR_OPERATION_NOT_INITIALIZED);
    let r: m::GenerateRandomResponse =
        call(&conn, &m::GenerateRandomRequest { session: s, len: 8 }).expect("still served");
    assert_eq!(r.data.len(), 8);
}

#[test]
fn cipher_inits_said_repeatable_are_run_with_the_call_they_come_with() {
    use strongroom_proto::ckr;
    let (_app, conn, _serial, s) = ready();
    let token_key = aes_key(&conn, s, "token", false);
    let r: m::GenerateKeyResponse = call(
        &conn,
        &m::GenerateKeyRequest {
            session: s,
            mechanism: plain(CKM_AES_KEY_GEN),
            template: template(vec![
                Attribute::from_ulong(CKA_VALUE_LEN, 32),
                Attribute::from_bool(CKA_ENCRYPT, true),
                Attribute::from_bool(CKA_DECRYPT, true),
            ]),
        },
    )
    .expect("session AES key");
    let key = r.key;
    let encrypt_init = |mech: &Mechanism, key| m::EncryptInitRequest {
        session: s,
        mechanism: spec(mech),
        key,
    };
    let decrypt_init = |mech: &Mechanism, key| m::DecryptInitRequest {
        session: s,
        mechanism: spec(mech),
        key,
    };
    let encrypt = |data: &[u8]| m::EncryptRequest {
        session: s,
        data: data.to_vec(),
        capacity: Some(4096),
    };
    let decrypt = |data: &[u8]| m::DecryptRequest {
        session: s,
        data: data.to_vec(),
        capacity: Some(4096),
    };

    // Repeatable for the application's session key only, with the length rule as before.
    let r: m::EncryptInitResponse = call(&conn, &encrypt_init(&gcm(1), key)).expect("encrypt init");
    assert!(r.repeatable);
    assert!(r.single_output.is_some());
    let _: m::EncryptResponse = call(&conn, &encrypt(b"one")).expect("encrypt");
    let r: m::EncryptInitResponse =
        call(&conn, &encrypt_init(&gcm(1), token_key)).expect("encrypt init");
    assert!(!r.repeatable);
    let _: m::EncryptResponse = call(&conn, &encrypt(b"two")).expect("encrypt");
    let r: m::DecryptInitResponse = call(&conn, &decrypt_init(&gcm(1), key)).expect("decrypt init");
    assert!(r.repeatable);
    let e = call::<_, m::DecryptResponse>(&conn, &decrypt(&[0; 20])).expect_err("bad tag");
    assert_eq!(ckr_of(e.code), ckr::CKR_ENCRYPTED_DATA_INVALID);

    // GCM with a new IV each time, encryption and decryption each one request.
    let message = vec![0x3C; 1000];
    let frame = pipelined(&conn, &encrypt_init(&gcm(7), key), &encrypt(&message));
    assert_eq!(frame.opcode, m::OP_ENCRYPT, "{frame:?}");
    let sealed = data(
        m::decode::<m::EncryptResponse>(&frame.payload)
            .expect("answer")
            .output,
    );
    assert_eq!(sealed.len(), message.len() + 16);
    let frame = pipelined(&conn, &decrypt_init(&gcm(7), key), &decrypt(&sealed));
    assert_eq!(frame.opcode, m::OP_DECRYPT, "{frame:?}");
    let opened = data(
        m::decode::<m::DecryptResponse>(&frame.payload)
            .expect("answer")
            .output,
    );
    assert_eq!(opened, message);
    // Under another IV the tag does not check, and the operation has ended.
    let frame = pipelined(&conn, &decrypt_init(&gcm(8), key), &decrypt(&sealed));
    assert_eq!(error_code(&frame), ckr::CKR_ENCRYPTED_DATA_INVALID);
    let e = call::<_, m::DecryptResponse>(&conn, &decrypt(&sealed)).expect_err("ended");
    assert_eq!(ckr_of(e.code), ckr::CKR_OPERATION_NOT_INITIALIZED);

    // Multi-part CBC: the init comes with the first update; the operation goes on.
    let cbc = Mechanism::AesCbc([9; 16]);
    let frame = pipelined(
        &conn,
        &encrypt_init(&cbc, key),
        &m::EncryptUpdateRequest {
            session: s,
            data: vec![1; 40],
            capacity: Some(64),
        },
    );
    assert_eq!(frame.opcode, m::OP_ENCRYPT_UPDATE, "{frame:?}");
    let first = data(
        m::decode::<m::EncryptUpdateResponse>(&frame.payload)
            .expect("answer")
            .output,
    );
    assert_eq!(first.len(), 32);
    let r: m::EncryptUpdateResponse = call(
        &conn,
        &m::EncryptUpdateRequest {
            session: s,
            data: vec![1; 8],
            capacity: Some(64),
        },
    )
    .expect("second part");
    assert_eq!(data(r.output).len(), 16);
    let r: m::EncryptFinalResponse = call(
        &conn,
        &m::EncryptFinalRequest {
            session: s,
            capacity: Some(64),
        },
    )
    .expect("final");
    assert!(data(r.output).is_empty());

    // An init whose parameter the appliance refuses: its code, and nothing is encrypted.
    let bad_iv = Mechanism::AesGcm(GcmParams {
        iv: vec![1; 12],
        iv_bits: 95,
        aad: vec![],
        tag_bits: 128,
    });
    let frame = pipelined(&conn, &encrypt_init(&bad_iv, key), &encrypt(b"three"));
    assert_eq!(frame.opcode, m::OP_PIPELINED, "{frame:?}");
    let failed: m::PipelinedInitFailed = m::decode(&frame.payload).expect("init failure");
    assert_eq!(ckr_of(failed.code), ckr::CKR_MECHANISM_PARAM_INVALID);
    let e = call::<_, m::EncryptResponse>(&conn, &encrypt(b"three")).expect_err("no operation");
    assert_eq!(ckr_of(e.code), ckr::CKR_OPERATION_NOT_INITIALIZED);
    // An encryption init with a decryption call is refused.
    let frame = pipelined(&conn, &encrypt_init(&gcm(2), key), &decrypt(&sealed));
    assert_eq!(error_code(&frame), ckr::CKR_ARGUMENTS_BAD);
}
