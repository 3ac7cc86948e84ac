//! The partition roles through the token layer (catalog RA-20..RA-25, partition policy 28):
//! what each role may do with sessions, objects and keys, and the exact code of each refusal.

mod common;

use common::secret;
use common::token::*;
use cryptoki_sys::*;
use strongroom_module::{Mechanism, SessionHandle};
use strongroom_proto::ret;

const KEY: [u8; 32] = [0x42; 32];

#[test]
fn session_states_follow_the_login() {
    let mut p = part();
    let a = p.access(None);
    let ro = p.hsm.open_session(a, p.serial, false).unwrap();
    let rw = p.hsm.open_session(a, p.serial, true).unwrap();
    let state = |p: &Part, s| p.hsm.session_info(a, s).unwrap().state;
    assert_eq!(state(&p, ro), CKS_RO_PUBLIC_SESSION);
    assert_eq!(state(&p, rw), CKS_RW_PUBLIC_SESSION);
    assert_eq!(
        p.hsm.session_info(a, rw).unwrap().flags,
        CKF_SERIAL_SESSION | CKF_RW_SESSION
    );
    p.hsm.role_login(a, p.serial, CO, &secret(CO_PW)).unwrap();
    assert_eq!(state(&p, ro), CKS_RO_USER_FUNCTIONS);
    assert_eq!(state(&p, rw), CKS_RW_USER_FUNCTIONS);
    p.hsm.role_logout(a, p.serial).unwrap();
    // PKCS#11: no SO login while the application has a read-only session.
    assert_eq!(
        code(p.hsm.role_login(a, p.serial, PSO, &secret(PSO_PW))),
        strongroom_proto::ret::SR_RET_SESSION_READ_ONLY_EXISTS
    );
    p.hsm.close_session(a, ro).unwrap();
    p.hsm.role_login(a, p.serial, PSO, &secret(PSO_PW)).unwrap();
    assert_eq!(state(&p, rw), CKS_RW_SO_FUNCTIONS);
    // ... and no read-only session while the SO is logged in.
    assert_eq!(
        code(p.hsm.open_session(a, p.serial, false)),
        strongroom_proto::ret::SR_RET_SESSION_READ_WRITE_SO_EXISTS
    );
    // Session handles are never reused and belong to their access.
    let other = p.access(None);
    assert_eq!(
        code(p.hsm.session_info(other, rw)),
        ret::SR_RET_SM_SESSION_HANDLE_INVALID
    );
    assert_eq!(
        code(p.hsm.close_session(other, rw)),
        ret::SR_RET_SM_SESSION_HANDLE_INVALID
    );
    p.hsm.close_session(a, rw).unwrap();
    let again = p.hsm.open_session(a, p.serial, true).unwrap();
    assert!(again.value() > rw.value());
    assert_eq!(
        code(p.hsm.session_info(a, rw)),
        ret::SR_RET_SM_SESSION_HANDLE_INVALID
    );
}

#[test]
fn the_crypto_officer_does_everything() {
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    let data = p.create(a, s, data("d", true, true));
    let mut attrs = aes(&KEY, true);
    attrs.push(b(CKA_EXTRACTABLE, true));
    let key = p.create(a, s, attrs);
    let gen_key = p
        .hsm
        .generate_key(a, s, &Mechanism::AesKeyGen, &tpl(aes_gen(32, true)))
        .unwrap();
    let mac = p.sign(a, s, &Mechanism::AesCmac, key, b"message");
    assert_eq!(mac.len(), 16);
    p.hsm
        .set_attribute_value(a, s, data, &tpl(vec![raw(CKA_LABEL, b"renamed")]))
        .unwrap();
    let copy = p.hsm.copy_object(a, s, key, &tpl(vec![])).unwrap();
    p.hsm
        .set_attribute_value(a, s, key, &tpl(vec![raw(CKA_LABEL, b"wrapped")]))
        .unwrap();
    let wrapped = p
        .hsm
        .wrap_key(a, s, &Mechanism::AesKeyWrap, gen_key, key, Some(64))
        .unwrap();
    assert_eq!(wrapped.into_data().unwrap().len(), 40);
    for h in [data, copy, key, gen_key] {
        p.hsm.destroy_object(a, s, h).unwrap();
    }
}

#[test]
fn the_crypto_user_uses_keys_and_creates_public_objects_only() {
    let mut p = part();
    let (co, cs) = p.rw(Some(CO));
    let key = p.create(co, cs, aes(&KEY, true));
    let (a, s) = p.rw(Some(CU));
    // RA-23: public objects only.
    assert_eq!(
        code(p.hsm.create_object(a, s, &tpl(data("private", true, true)))),
        ret::SR_RET_SM_ACCESS_DOES_NOT_VALIDATE
    );
    let public = p.create(a, s, data("public", false, true));
    assert_eq!(
        code(p.hsm.create_object(a, s, &tpl(aes(&KEY, false)))),
        ret::SR_RET_SM_ACCESS_DOES_NOT_VALIDATE
    );
    let mut public_key = aes(&KEY, false);
    public_key.push(b(CKA_PRIVATE, false));
    assert_eq!(
        code(p.hsm.create_object(a, s, &tpl(public_key))),
        ret::SR_RET_SM_ACCESS_DOES_NOT_VALIDATE
    );
    // No key management.
    assert_eq!(
        code(
            p.hsm
                .generate_key(a, s, &Mechanism::AesKeyGen, &tpl(aes_gen(16, false)))
        ),
        ret::SR_RET_SM_ACCESS_DOES_NOT_VALIDATE
    );
    // Uses the Crypto Officer's key.
    let mac = p.sign(a, s, &Mechanism::AesCmac, key, b"message");
    let co_mac = p.sign(co, cs, &Mechanism::AesCmac, key, b"message");
    assert_eq!(mac, co_mac);
    // Cannot destroy it; can destroy its own public object.
    assert_eq!(
        code(p.hsm.destroy_object(a, s, key)),
        ret::SR_RET_SM_ACCESS_DOES_NOT_VALIDATE
    );
    p.hsm.destroy_object(a, s, public).unwrap();
}

#[test]
fn the_partition_so_administers_and_never_uses_keys() {
    let mut p = part();
    let (co, cs) = p.rw(Some(CO));
    let mut attrs = aes(&KEY, true);
    attrs.push(b(CKA_PRIVATE, false));
    let public_key = p.create(co, cs, attrs);
    let (a, s) = p.rw(Some(PSO));
    // The key is visible (public) but the PSO may not use it.
    assert_eq!(
        code(p.hsm.sign_init(a, s, &Mechanism::AesCmac, public_key)),
        ret::SR_RET_SM_ACCESS_DOES_NOT_VALIDATE
    );
    assert_eq!(
        code(p.hsm.encrypt_init(a, s, &Mechanism::AesEcb, public_key)),
        ret::SR_RET_SM_ACCESS_DOES_NOT_VALIDATE
    );
    assert_eq!(
        code(
            p.hsm
                .generate_key(a, s, &Mechanism::AesKeyGen, &tpl(aes_gen(16, true)))
        ),
        ret::SR_RET_SM_ACCESS_DOES_NOT_VALIDATE
    );
    assert_eq!(
        code(p.hsm.create_object(a, s, &tpl(data("secret", true, true)))),
        ret::SR_RET_SM_ACCESS_DOES_NOT_VALIDATE
    );
    assert_eq!(
        code(p.hsm.destroy_object(a, s, public_key)),
        ret::SR_RET_SM_ACCESS_DOES_NOT_VALIDATE
    );
    // Public objects, and CKA_TRUSTED, are the PSO's.
    let d = p.create(a, s, data("notice", false, true));
    let mut cert = vec![
        u(CKA_CLASS, CKO_CERTIFICATE),
        u(CKA_CERTIFICATE_TYPE, CKC_X_509),
        raw(CKA_SUBJECT, b"0\x00"),
        raw(CKA_VALUE, b"0\x82 certificate"),
        b(CKA_TOKEN, true),
    ];
    cert.push(b(CKA_TRUSTED, true));
    let c = p.create(a, s, cert);
    assert_eq!(p.attr(a, s, c, CKA_TRUSTED), [1]);
    p.hsm.destroy_object(a, s, d).unwrap();
    // Digests need no key.
    p.hsm
        .digest_init(a, s, &Mechanism::Digest(strongroom_module::Hash::Sha256))
        .unwrap();
    assert_eq!(data_of(p.hsm.digest(a, s, b"abc", Some(32))).len(), 32);
}

#[test]
fn the_limited_crypto_officer_has_a_documented_subset() {
    let mut p = part();
    let (a, s) = p.rw(Some(LCO));
    // Creates, generates and uses keys ...
    let private = p.create(a, s, data("mine", true, true));
    let key = p
        .hsm
        .generate_key(a, s, &Mechanism::AesKeyGen, &tpl(aes_gen(32, true)))
        .unwrap();
    p.sign(a, s, &Mechanism::AesCmac, key, b"message");
    // ... but neither changes, destroys nor exports them.
    assert_eq!(
        code(p.hsm.destroy_object(a, s, key)),
        ret::SR_RET_SM_ACCESS_DOES_NOT_VALIDATE
    );
    assert_eq!(
        code(
            p.hsm
                .set_attribute_value(a, s, key, &tpl(vec![raw(CKA_LABEL, b"x")]))
        ),
        ret::SR_RET_SM_ACCESS_DOES_NOT_VALIDATE
    );
    assert_eq!(
        code(p.hsm.wrap_key(a, s, &Mechanism::AesKeyWrap, key, key, None)),
        ret::SR_RET_SM_ACCESS_DOES_NOT_VALIDATE
    );
    // Other objects are its to manage.
    p.hsm.destroy_object(a, s, private).unwrap();
    // The Crypto User is the Crypto Officer's to create, not the LCO's.
    assert_eq!(
        code(p.hsm.role_init(a, p.serial, CU, &secret("another-pass-1"))),
        ret::SR_RET_SM_ACCESS_DOES_NOT_VALIDATE
    );
}

#[test]
fn a_public_session_sees_and_makes_public_session_objects_only() {
    let mut p = part();
    let (co, cs) = p.rw(Some(CO));
    let private = p.create(co, cs, data("private", true, true));
    let key = p.create(co, cs, aes(&KEY, true));
    let public = p.create(co, cs, data("public", false, true));
    let (a, s) = p.rw(None);
    assert_eq!(
        code(p.hsm.create_object(a, s, &tpl(data("t", false, true)))),
        ret::SR_RET_USER_NOT_LOGGED_IN
    );
    assert_eq!(
        code(p.hsm.create_object(a, s, &tpl(data("t", true, false)))),
        ret::SR_RET_USER_NOT_LOGGED_IN
    );
    p.create(a, s, data("mine", false, false));
    assert_eq!(
        code(p.hsm.get_attribute_value(a, s, private, &[CKA_LABEL])),
        ret::SR_RET_OBJECT_HANDLE_INVALID
    );
    assert_eq!(
        code(p.hsm.sign_init(a, s, &Mechanism::AesCmac, key)),
        ret::SR_RET_KEY_HANDLE_INVALID
    );
    p.hsm
        .find_objects_init(a, s, &tpl(vec![u(CKA_CLASS, CKO_DATA)]))
        .unwrap();
    let found = p.hsm.find_objects(a, s, 10).unwrap();
    p.hsm.find_objects_final(a, s).unwrap();
    assert!(found.contains(&public));
    assert!(!found.contains(&private));
    assert_eq!(found.len(), 2);
    assert_eq!(
        code(
            p.hsm
                .generate_key(a, s, &Mechanism::AesKeyGen, &tpl(aes_gen(16, false)))
        ),
        ret::SR_RET_USER_NOT_LOGGED_IN
    );
}

#[test]
fn a_forced_change_blocks_everything_but_the_change() {
    let mut p = part();
    let (co, cs) = p.rw(Some(CO));
    let key = p.create(co, cs, aes(&KEY, true));
    // The Crypto Officer resets the Crypto User: HSM policy 21 forces a change.
    p.hsm
        .role_reset(co, p.serial, CU, &secret("reset-pass-01"))
        .unwrap();
    let a = p.hsm.open_access();
    p.hsm
        .role_login(a, p.serial, CU, &secret("reset-pass-01"))
        .unwrap();
    let s: SessionHandle = p.hsm.open_session(a, p.serial, true).unwrap();
    let expired = ret::SR_RET_SM_PIN_EXPIRED;
    assert_eq!(
        code(p.hsm.sign_init(a, s, &Mechanism::AesCmac, key)),
        expired
    );
    assert_eq!(
        code(p.hsm.create_object(a, s, &tpl(data("x", false, false)))),
        expired
    );
    assert_eq!(code(p.hsm.find_objects_init(a, s, &tpl(vec![]))), expired);
    assert_eq!(
        code(
            p.hsm
                .digest_init(a, s, &Mechanism::Digest(strongroom_module::Hash::Sha1))
        ),
        expired
    );
    assert_eq!(code(p.hsm.generate_random(a, s, 16)), expired);
    assert_eq!(
        code(p.hsm.get_attribute_value(a, s, key, &[CKA_LABEL])),
        expired
    );
    p.hsm
        .role_change_password(a, p.serial, &secret("reset-pass-01"), &secret(CU_PW))
        .unwrap();
    p.sign(a, s, &Mechanism::AesCmac, key, b"now it works");
}

#[test]
fn read_only_sessions_do_not_change_token_objects() {
    let mut p = part();
    let (co, cs) = p.rw(Some(CO));
    let d = p.create(co, cs, data("d", true, true));
    let ro = p.hsm.open_session(co, p.serial, false).unwrap();
    let read_only = strongroom_proto::ret::SR_RET_SESSION_READ_ONLY;
    assert_eq!(
        code(p.hsm.create_object(co, ro, &tpl(data("t", true, true)))),
        read_only
    );
    assert_eq!(code(p.hsm.destroy_object(co, ro, d)), read_only);
    assert_eq!(
        code(
            p.hsm
                .set_attribute_value(co, ro, d, &tpl(vec![raw(CKA_LABEL, b"x")]))
        ),
        read_only
    );
    assert_eq!(
        code(
            p.hsm
                .generate_key(co, ro, &Mechanism::AesKeyGen, &tpl(aes_gen(16, true)))
        ),
        read_only
    );
    assert_eq!(code(p.hsm.copy_object(co, ro, d, &tpl(vec![]))), read_only);
    // Session objects are fine, and copying a token object into one too.
    p.create(co, ro, data("session", true, false));
    p.hsm
        .copy_object(co, ro, d, &tpl(vec![b(CKA_TOKEN, false)]))
        .unwrap();
    p.hsm
        .generate_key(co, ro, &Mechanism::AesKeyGen, &tpl(aes_gen(16, false)))
        .unwrap();
}

#[test]
fn partition_policy_28_off_stops_key_management_only() {
    let mut p = part();
    let (co, cs) = p.rw(Some(CO));
    let key = p.create(co, cs, aes(&KEY, true));
    p.partition_policy(28, 0);
    let restricted = ret::SR_RET_OPERATION_RESTRICTED;
    assert_eq!(
        code(
            p.hsm
                .generate_key(co, cs, &Mechanism::AesKeyGen, &tpl(aes_gen(16, true)))
        ),
        restricted
    );
    assert_eq!(
        code(p.hsm.create_object(co, cs, &tpl(aes(&KEY, false)))),
        restricted
    );
    assert_eq!(code(p.hsm.destroy_object(co, cs, key)), restricted);
    assert_eq!(
        code(
            p.hsm
                .wrap_key(co, cs, &Mechanism::AesKeyWrap, key, key, None)
        ),
        restricted
    );
    // Keys are still used, and other objects managed.
    p.sign(co, cs, &Mechanism::AesCmac, key, b"m");
    p.create(co, cs, data("d", true, true));
}

#[test]
fn session_objects_die_with_their_session_and_private_ones_with_the_login() {
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    let s2 = p.hsm.open_session(a, p.serial, true).unwrap();
    let mine = p.create(a, s, data("session", true, false));
    let public = p.create(a, s2, data("public session", false, false));
    // Visible to the access's other session, not to another access.
    assert_eq!(p.attr(a, s2, mine, CKA_LABEL), b"session");
    let (b_access, bs) = p.rw(Some(CO));
    assert_eq!(
        code(p.hsm.get_attribute_value(b_access, bs, mine, &[CKA_LABEL])),
        ret::SR_RET_OBJECT_HANDLE_INVALID
    );
    p.hsm.close_session(a, s).unwrap();
    assert_eq!(
        code(p.hsm.get_attribute_value(a, s2, mine, &[CKA_LABEL])),
        ret::SR_RET_OBJECT_HANDLE_INVALID
    );
    // C_Logout destroys the private session objects; public ones stay.
    let private = p.create(a, s2, data("private", true, false));
    p.hsm.role_logout(a, p.serial).unwrap();
    p.hsm.role_login(a, p.serial, CO, &secret(CO_PW)).unwrap();
    assert_eq!(
        code(p.hsm.get_attribute_value(a, s2, private, &[CKA_LABEL])),
        ret::SR_RET_OBJECT_HANDLE_INVALID
    );
    assert_eq!(p.attr(a, s2, public, CKA_LABEL), b"public session");
    // Closing the access closes its sessions.
    p.hsm.close_access(a);
    assert_eq!(
        code(p.hsm.session_info(a, s2)),
        ret::SR_RET_SM_SESSION_HANDLE_INVALID
    );
}

#[test]
fn key_pair_generation_in_two_steps_checks_the_login_again() {
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    let public = tpl(vec![raw(CKA_EC_PARAMS, P256)]);
    let private = tpl(vec![]);
    let m = Mechanism::EcKeyPairGen;
    let prepared = p.hsm.generate_key_pair_prepare(a, s, &m, &public).unwrap();
    let (pk, sk) = p
        .hsm
        .generate_key_pair_commit(a, s, prepared, &public, &private)
        .unwrap();
    assert_eq!(p.attr(a, s, sk, CKA_KEY_TYPE), CKK_EC.to_le_bytes());
    assert_eq!(p.attr(a, s, pk, CKA_EC_PARAMS), P256);
    // Another session, or another public template, cannot take the material.
    let s2 = p.hsm.open_session(a, p.serial, true).unwrap();
    let prepared = p.hsm.generate_key_pair_prepare(a, s, &m, &public).unwrap();
    assert_eq!(
        code(
            p.hsm
                .generate_key_pair_commit(a, s2, prepared, &public, &private)
        ),
        ret::SR_RET_ARGUMENTS_BAD
    );
    let prepared = p.hsm.generate_key_pair_prepare(a, s, &m, &public).unwrap();
    let p384 = tpl(vec![raw(CKA_EC_PARAMS, P384)]);
    assert_eq!(
        code(
            p.hsm
                .generate_key_pair_commit(a, s, prepared, &p384, &private)
        ),
        ret::SR_RET_ARGUMENTS_BAD
    );
    // A logout between the two steps refuses the second.
    let prepared = p.hsm.generate_key_pair_prepare(a, s, &m, &public).unwrap();
    p.hsm.role_logout(a, p.serial).unwrap();
    assert_eq!(
        code(
            p.hsm
                .generate_key_pair_commit(a, s, prepared, &public, &private)
        ),
        ret::SR_RET_USER_NOT_LOGGED_IN
    );
}
