//! The PKCS#11 operation state machine of a session (v3.0 5.2): one active operation per
//! kind, `CKR_OPERATION_ACTIVE` / `CKR_OPERATION_NOT_INITIALIZED`, length queries and
//! `CKR_BUFFER_TOO_SMALL` that leave the operation active, failures and finals that end it,
//! and multi-part results equal to single-part ones.

mod common;

use common::token::*;
use cryptoki_sys::*;
use strongroom_module::{
    AccessId, CtrParams, GcmParams, Hash, Mechanism, ObjectHandle, Output, PssParams, SessionHandle,
};
use strongroom_proto::ret;

struct Fixture {
    p: Part,
    a: AccessId,
    s: SessionHandle,
    aes: ObjectHandle,
    hmac: ObjectHandle,
    rsa_pub: ObjectHandle,
    rsa_priv: ObjectHandle,
    ec_pub: ObjectHandle,
    ec_priv: ObjectHandle,
    ed_priv: ObjectHandle,
    /// An extractable AES-128 key.
    target: ObjectHandle,
}

fn fixture() -> Fixture {
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    let aes = p.create(a, s, aes(&[0x11; 32], false));
    let hmac = p.create(
        a,
        s,
        vec![
            u(CKA_CLASS, CKO_SECRET_KEY),
            u(CKA_KEY_TYPE, CKK_GENERIC_SECRET),
            raw(CKA_VALUE, &[0x22; 48]),
        ],
    );
    let (rsa_pub, rsa_priv) = pair(
        &mut p,
        a,
        s,
        Mechanism::RsaKeyPairGen,
        vec![u(CKA_MODULUS_BITS, 2048)],
        vec![],
    );
    let (ec_pub, ec_priv) = pair(
        &mut p,
        a,
        s,
        Mechanism::EcKeyPairGen,
        vec![raw(CKA_EC_PARAMS, P384)],
        vec![],
    );
    let (_, ed_priv) = pair(
        &mut p,
        a,
        s,
        Mechanism::EdwardsKeyPairGen,
        vec![raw(CKA_EC_PARAMS, ED25519)],
        vec![],
    );
    let mut k = common::token::aes(&[5; 16], false);
    k.push(b(CKA_EXTRACTABLE, true));
    let target = p.create(a, s, k);
    Fixture {
        target,
        p,
        a,
        s,
        aes,
        hmac,
        rsa_pub,
        rsa_priv,
        ec_pub,
        ec_priv,
        ed_priv,
    }
}

#[test]
fn one_operation_per_kind_and_none_without_init() {
    let f = fixture();
    let (h, a, s) = (&f.p.hsm, f.a, f.s);
    assert_eq!(
        code(h.sign(a, s, b"x", Some(256))),
        ret::SR_RET_OPERATION_NOT_INITIALIZED
    );
    assert_eq!(
        code(h.encrypt_update(a, s, b"x", Some(16))),
        ret::SR_RET_OPERATION_NOT_INITIALIZED
    );
    assert_eq!(
        code(h.verify_final(a, s, b"x")),
        ret::SR_RET_OPERATION_NOT_INITIALIZED
    );
    assert_eq!(
        code(h.digest_final(a, s, None)),
        ret::SR_RET_OPERATION_NOT_INITIALIZED
    );
    h.sign_init(a, s, &Mechanism::AesCmac, f.aes).unwrap();
    assert_eq!(
        code(h.sign_init(a, s, &Mechanism::Hmac(Hash::Sha256), f.hmac)),
        ret::SR_RET_OPERATION_ACTIVE
    );
    // Other kinds run alongside; the first signature operation is intact.
    h.encrypt_init(a, s, &Mechanism::AesEcb, f.aes).unwrap();
    h.digest_init(a, s, &Mechanism::Digest(Hash::Sha256))
        .unwrap();
    assert_eq!(data_of(h.sign(a, s, b"x", Some(16))).len(), 16);
    // A successful single-part call ended it.
    assert_eq!(
        code(h.sign(a, s, b"x", Some(16))),
        ret::SR_RET_OPERATION_NOT_INITIALIZED
    );
    assert_eq!(data_of(h.encrypt(a, s, &[0; 16], Some(16))).len(), 16);
    assert_eq!(data_of(h.digest(a, s, b"", Some(32))).len(), 32);
}

#[test]
fn length_queries_and_small_buffers_keep_the_operation() {
    let f = fixture();
    let (h, a, s) = (&f.p.hsm, f.a, f.s);
    let m = Mechanism::RsaPkcsHash(Hash::Sha256);
    h.sign_init(a, s, &m, f.rsa_priv).unwrap();
    assert_eq!(h.sign(a, s, b"msg", None).unwrap(), Output::Length(256));
    let small = h.sign(a, s, b"msg", Some(100)).unwrap_err();
    assert_eq!(small.code(), ret::SR_RET_BUFFER_TOO_SMALL);
    assert_eq!(small.needed_len(), Some(256));
    let sig = data_of(h.sign(a, s, b"msg", Some(256)));
    h.verify_init(a, s, &m, f.rsa_pub).unwrap();
    h.verify(a, s, b"msg", &sig).unwrap();

    // CBC-PAD decryption: the query gives an upper bound; a buffer between the exact length
    // and the bound works; a smaller one learns the exact length and keeps the result.
    let iv = [3u8; 16];
    let ct = f.p.encrypt(
        a,
        s,
        &Mechanism::AesCbcPad(iv),
        f.aes,
        b"twenty bytes of text",
    );
    assert_eq!(ct.len(), 32);
    h.decrypt_init(a, s, &Mechanism::AesCbcPad(iv), f.aes)
        .unwrap();
    assert_eq!(h.decrypt(a, s, &ct, None).unwrap(), Output::Length(31));
    let small = h.decrypt(a, s, &ct, Some(10)).unwrap_err();
    assert_eq!(small.needed_len(), Some(20));
    assert_eq!(h.decrypt(a, s, &ct, None).unwrap(), Output::Length(20));
    assert_eq!(
        data_of(h.decrypt(a, s, &ct, Some(20))),
        b"twenty bytes of text"
    );
    // A repeated call must carry the same data.
    h.decrypt_init(a, s, &Mechanism::AesCbcPad(iv), f.aes)
        .unwrap();
    h.decrypt(a, s, &ct, Some(1)).unwrap_err();
    assert_eq!(
        code(h.decrypt(a, s, &ct[..16], Some(32))),
        ret::SR_RET_ARGUMENTS_BAD
    );
    assert_eq!(
        code(h.decrypt(a, s, &ct, Some(32))),
        ret::SR_RET_OPERATION_NOT_INITIALIZED
    );

    // Updates: a small buffer keeps the operation and consumes nothing.
    h.encrypt_init(a, s, &Mechanism::AesCbc(iv), f.aes).unwrap();
    assert_eq!(
        h.encrypt_update(a, s, &[1; 40], None).unwrap(),
        Output::Length(32)
    );
    let small = h.encrypt_update(a, s, &[1; 40], Some(16)).unwrap_err();
    assert_eq!(small.needed_len(), Some(32));
    assert_eq!(
        data_of(h.encrypt_update(a, s, &[1; 40], Some(32))).len(),
        32
    );
    assert_eq!(data_of(h.encrypt_update(a, s, &[1; 8], Some(16))).len(), 16);
    assert_eq!(data_of(h.encrypt_final(a, s, Some(0))).len(), 0);
    // Wrapping follows the same convention.
    let target = f.target;
    assert_eq!(
        h.wrap_key(a, s, &Mechanism::AesKeyWrap, f.aes, target, None)
            .unwrap(),
        Output::Length(24)
    );
    assert_eq!(
        h.wrap_key(a, s, &Mechanism::AesKeyWrap, f.aes, target, Some(23))
            .unwrap_err()
            .needed_len(),
        Some(24)
    );
}

#[test]
fn failures_and_finals_end_the_operation() {
    let f = fixture();
    let (h, a, s) = (&f.p.hsm, f.a, f.s);
    let iv = [0u8; 16];
    // Bad padding: CKR_ENCRYPTED_DATA_INVALID, then nothing is active.
    h.decrypt_init(a, s, &Mechanism::AesCbcPad(iv), f.aes)
        .unwrap();
    assert_eq!(
        code(h.decrypt(a, s, &[0x99; 32], Some(32))),
        ret::SR_RET_ENCRYPTED_DATA_INVALID
    );
    assert_eq!(
        code(h.decrypt(a, s, &[0x99; 32], Some(32))),
        ret::SR_RET_OPERATION_NOT_INITIALIZED
    );
    // A partial block at the final.
    h.encrypt_init(a, s, &Mechanism::AesCbc(iv), f.aes).unwrap();
    h.encrypt_update(a, s, &[1; 5], Some(0)).unwrap();
    assert_eq!(
        code(h.encrypt_final(a, s, Some(16))),
        ret::SR_RET_DATA_LEN_RANGE
    );
    assert_eq!(
        code(h.encrypt_final(a, s, Some(16))),
        ret::SR_RET_OPERATION_NOT_INITIALIZED
    );
    // Verification failures end it too.
    let m = Mechanism::EcdsaHash(Hash::Sha256);
    h.verify_init(a, s, &m, f.ec_pub).unwrap();
    assert_eq!(
        code(h.verify(a, s, b"m", &[0; 96])),
        ret::SR_RET_SIGNATURE_INVALID
    );
    assert_eq!(
        code(h.verify(a, s, b"m", &[0; 96])),
        ret::SR_RET_OPERATION_NOT_INITIALIZED
    );
    h.verify_init(a, s, &m, f.ec_pub).unwrap();
    assert_eq!(
        code(h.verify(a, s, b"m", &[0; 95])),
        ret::SR_RET_SIGNATURE_LEN_RANGE
    );
    // A single-part-only mechanism refuses updates, and that ends it.
    h.sign_init(a, s, &Mechanism::EdDsa, f.ed_priv).unwrap();
    assert_eq!(
        code(h.sign_update(a, s, b"part")),
        ret::SR_RET_FUNCTION_NOT_SUPPORTED
    );
    assert_eq!(
        code(h.sign(a, s, b"m", Some(64))),
        ret::SR_RET_OPERATION_NOT_INITIALIZED
    );
    // After an update, the single-part call is refused (and the operation ends).
    h.sign_init(a, s, &Mechanism::AesCmac, f.aes).unwrap();
    h.sign_update(a, s, b"part").unwrap();
    assert_eq!(
        code(h.sign(a, s, b"m", Some(16))),
        ret::SR_RET_OPERATION_ACTIVE
    );
    assert_eq!(
        code(h.sign_final(a, s, Some(16))),
        ret::SR_RET_OPERATION_NOT_INITIALIZED
    );
    // Raw RSA input longer than the modulus.
    h.sign_init(a, s, &Mechanism::RsaPkcs, f.rsa_priv).unwrap();
    assert_eq!(
        code(h.sign(a, s, &[1; 250], Some(256))),
        ret::SR_RET_DATA_LEN_RANGE
    );
}

/// Runs a multi-part cipher operation over `data` in parts of `part` bytes.
fn cipher_parts(f: &Fixture, m: &Mechanism, encrypt: bool, data: &[u8], part: usize) -> Vec<u8> {
    let (h, a, s) = (&f.p.hsm, f.a, f.s);
    let mut out = Vec::new();
    if encrypt {
        h.encrypt_init(a, s, m, f.aes).unwrap();
        for c in data.chunks(part) {
            out.extend(data_of(h.encrypt_update(a, s, c, Some(4096))));
        }
        out.extend(data_of(h.encrypt_final(a, s, Some(4096))));
    } else {
        h.decrypt_init(a, s, m, f.aes).unwrap();
        for c in data.chunks(part) {
            out.extend(data_of(h.decrypt_update(a, s, c, Some(4096))));
        }
        out.extend(data_of(h.decrypt_final(a, s, Some(4096))));
    }
    out
}

#[test]
fn multi_part_equals_single_part() {
    let f = fixture();
    let (h, a, s) = (&f.p.hsm, f.a, f.s);
    let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
    let iv = [4u8; 16];
    let ciphers = [
        Mechanism::AesCbcPad(iv),
        Mechanism::AesCtr(CtrParams {
            counter_bits: 64,
            counter_block: iv,
        }),
        Mechanism::AesGcm(GcmParams {
            iv: vec![1; 12],
            iv_bits: 0,
            aad: b"aad".to_vec(),
            tag_bits: 96,
        }),
    ];
    for m in &ciphers {
        let one = f.p.encrypt(a, s, m, f.aes, &data);
        for part in [1, 7, 16, 333] {
            assert_eq!(
                cipher_parts(&f, m, true, &data, part),
                one,
                "{m:?} in {part}s"
            );
            assert_eq!(
                cipher_parts(&f, m, false, &one, part),
                data,
                "{m:?} in {part}s"
            );
        }
    }
    let ecb_data = &data[..992];
    let one = f.p.encrypt(a, s, &Mechanism::AesEcb, f.aes, ecb_data);
    assert_eq!(
        cipher_parts(&f, &Mechanism::AesEcb, true, ecb_data, 48),
        one
    );

    // Deterministic signatures and MACs: equal bytes.
    let deterministic = [
        (Mechanism::AesCmac, f.aes),
        (Mechanism::Hmac(Hash::Sha384), f.hmac),
        (Mechanism::HmacGeneral(Hash::Sha1, 10), f.hmac),
        (Mechanism::RsaPkcsHash(Hash::Sha224), f.rsa_priv),
    ];
    for (m, key) in &deterministic {
        let one = f.p.sign(a, s, m, *key, &data);
        h.sign_init(a, s, m, *key).unwrap();
        for c in data.chunks(77) {
            h.sign_update(a, s, c).unwrap();
        }
        assert_eq!(data_of(h.sign_final(a, s, Some(512))), one, "{m:?}");
        h.verify_init(a, s, m, if *key == f.rsa_priv { f.rsa_pub } else { *key })
            .unwrap();
        for c in data.chunks(100) {
            h.verify_update(a, s, c).unwrap();
        }
        h.verify_final(a, s, &one).unwrap();
    }
    // Randomized signatures: each verifies the other way.
    let pss = PssParams {
        hash: Hash::Sha256,
        mgf1: Hash::Sha256,
        salt_len: 32,
    };
    let randomized = [
        (
            Mechanism::RsaPssHash(Hash::Sha256, pss),
            f.rsa_priv,
            f.rsa_pub,
        ),
        (Mechanism::EcdsaHash(Hash::Sha384), f.ec_priv, f.ec_pub),
    ];
    for (m, private, public) in &randomized {
        h.sign_init(a, s, m, *private).unwrap();
        for c in data.chunks(99) {
            h.sign_update(a, s, c).unwrap();
        }
        let multi = data_of(h.sign_final(a, s, Some(512)));
        h.verify_init(a, s, m, *public).unwrap();
        h.verify(a, s, &data, &multi).unwrap();
        let single = f.p.sign(a, s, m, *private, &data);
        h.verify_init(a, s, m, *public).unwrap();
        for c in data.chunks(300) {
            h.verify_update(a, s, c).unwrap();
        }
        h.verify_final(a, s, &single).unwrap();
    }
    // Digests.
    h.digest_init(a, s, &Mechanism::Digest(Hash::Sha3_256))
        .unwrap();
    let one = data_of(h.digest(a, s, &data, Some(32)));
    h.digest_init(a, s, &Mechanism::Digest(Hash::Sha3_256))
        .unwrap();
    for c in data.chunks(13) {
        h.digest_update(a, s, c).unwrap();
    }
    assert_eq!(h.digest_final(a, s, None).unwrap(), Output::Length(32));
    assert_eq!(data_of(h.digest_final(a, s, Some(32))), one);
}

#[test]
fn closing_a_session_ends_its_operations() {
    let mut f = fixture();
    let (a, s) = (f.a, f.s);
    f.p.hsm.sign_init(a, s, &Mechanism::AesCmac, f.aes).unwrap();
    f.p.hsm.close_session(a, s).unwrap();
    assert_eq!(
        code(f.p.hsm.sign(a, s, b"x", Some(16))),
        ret::SR_RET_SM_SESSION_HANDLE_INVALID
    );
    let s3 = f.p.hsm.open_session(a, f.p.serial, true).unwrap();
    // That was the access's last session: its login ended with it (PKCS#11 v3.0 5.6).
    const CKS_RW_PUBLIC_SESSION: u64 = 2;
    assert_eq!(
        f.p.hsm.session_info(a, s3).unwrap().state,
        CKS_RW_PUBLIC_SESSION
    );
    f.p.hsm
        .role_login(a, f.p.serial, CO, &common::secret(CO_PW))
        .unwrap();
    assert_eq!(
        code(f.p.hsm.sign_init(a, s3, &Mechanism::AesCmac, f.aes)),
        ret::SR_RET_KEY_HANDLE_INVALID
    );
    // Logging out ends the operations of the access's sessions.
    let s2 = f.p.hsm.open_session(a, f.p.serial, true).unwrap();
    let key = f.p.create(a, s2, common::token::aes(&[1; 16], true));
    f.p.hsm.sign_init(a, s2, &Mechanism::AesCmac, key).unwrap();
    f.p.hsm.role_logout(a, f.p.serial).unwrap();
    f.p.hsm
        .role_login(a, f.p.serial, CO, &common::secret(CO_PW))
        .unwrap();
    assert_eq!(
        code(f.p.hsm.sign(a, s2, b"x", Some(16))),
        ret::SR_RET_OPERATION_NOT_INITIALIZED
    );
}
