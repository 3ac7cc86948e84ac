//! Token objects through the module: persistence across restarts, the partition's storage
//! accounting (`CKR_DEVICE_MEMORY` when full, nothing written), key material checks on
//! creation, and the paths that destroy a partition's objects.

mod common;

use common::token::*;
use cryptoki_sys::*;
use strongroom_module::{AttrResult, Mechanism, ObjectHandle, PartitionSize};
use strongroom_proto::{ckr, ret};

const KEY: [u8; 32] = [0x42; 32];

fn find(
    p: &Part,
    a: strongroom_module::AccessId,
    s: strongroom_module::SessionHandle,
    attrs: Vec<strongroom_module::Attribute>,
) -> Vec<ObjectHandle> {
    p.hsm.find_objects_init(a, s, &tpl(attrs)).unwrap();
    let mut all = Vec::new();
    loop {
        let more = p.hsm.find_objects(a, s, 3).unwrap();
        if more.is_empty() {
            break;
        }
        all.extend(more);
    }
    p.hsm.find_objects_final(a, s).unwrap();
    all
}

fn used(p: &Part) -> (u64, u64) {
    let info = p.hsm.partition_show("tok").unwrap();
    (info.used, info.objects)
}

#[test]
fn token_objects_survive_a_restart_and_session_objects_do_not() {
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    p.create(a, s, data("kept", true, true));
    let key = p.create(a, s, aes(&KEY, true));
    p.create(a, s, data("volatile", true, false));
    let mac = p.sign(a, s, &Mechanism::AesCmac, key, b"message");
    let sizes: u64 = find(&p, a, s, vec![b(CKA_TOKEN, true)])
        .into_iter()
        .map(|h| p.hsm.object_size(a, s, h).unwrap())
        .sum();
    assert_eq!(used(&p), (sizes, 2));

    let mut p = p.reopen();
    assert_eq!(used(&p), (sizes, 2));
    let (a, s) = p.rw(Some(CO));
    assert_eq!(find(&p, a, s, vec![raw(CKA_LABEL, b"volatile")]), vec![]);
    let kept = find(&p, a, s, vec![raw(CKA_LABEL, b"kept")]);
    assert_eq!(kept.len(), 1);
    assert_eq!(p.attr(a, s, kept[0], CKA_VALUE), b"some application data");
    let key = find(&p, a, s, vec![u(CKA_KEY_TYPE, CKK_AES)]);
    assert_eq!(p.sign(a, s, &Mechanism::AesCmac, key[0], b"message"), mac);
}

#[test]
fn a_full_partition_refuses_with_device_memory_and_writes_nothing() {
    let mut p = part_sized(1500);
    let (a, s) = p.rw(Some(CO));
    let mut made = 0;
    let refusal = loop {
        match p
            .hsm
            .create_object(a, s, &tpl(data(&format!("d{made}"), true, true)))
        {
            Ok(_) => made += 1,
            Err(e) => break e,
        }
        assert!(made < 100, "a 1500-byte partition never filled");
    };
    assert_eq!(refusal.code(), ret::SR_RET_MM_NOT_ENOUGH_MEMORY);
    assert_eq!(refusal.ckr(), ckr::CKR_DEVICE_MEMORY);
    let before = used(&p);
    assert_eq!(before.1, made);
    // A change that would grow an object past the size is refused, unchanged.
    let first = find(&p, a, s, vec![raw(CKA_LABEL, b"d0")])[0];
    let big = vec![b'x'; 2000];
    assert_eq!(
        code(
            p.hsm
                .set_attribute_value(a, s, first, &tpl(vec![raw(CKA_LABEL, &big)]))
        ),
        ret::SR_RET_MM_NOT_ENOUGH_MEMORY
    );
    assert_eq!(used(&p), before);
    // Session objects do not count against the partition.
    p.create(a, s, data("session", true, false));
    assert_eq!(used(&p), before);
    // The partition cannot shrink below its objects: the same code.
    let so = p.so;
    assert_eq!(
        code(
            p.hsm
                .partition_resize(so, "tok", PartitionSize::Bytes(before.0 - 1))
        ),
        ret::SR_RET_MM_NOT_ENOUGH_MEMORY
    );
    p.hsm
        .partition_resize(so, "tok", PartitionSize::Bytes(before.0))
        .unwrap();
    let p = p.reopen();
    assert_eq!(used(&p), before);
}

#[test]
fn destroying_frees_exactly_what_the_object_used() {
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    let d1 = p.create(a, s, data("one", true, true));
    let after_one = used(&p);
    let d2 = p.create(a, s, data("two-longer-label", false, true));
    p.hsm
        .set_attribute_value(a, s, d2, &tpl(vec![raw(CKA_LABEL, b"2")]))
        .unwrap();
    let size2 = p.hsm.object_size(a, s, d2).unwrap();
    assert_eq!(used(&p), (after_one.0 + size2, 2));
    p.hsm.destroy_object(a, s, d2).unwrap();
    assert_eq!(used(&p), after_one);
    p.hsm.destroy_object(a, s, d1).unwrap();
    assert_eq!(used(&p), (0, 0));
    assert_eq!(
        code(p.hsm.destroy_object(a, s, d1)),
        ret::SR_RET_OBJECT_HANDLE_INVALID
    );
}

#[test]
fn sensitive_values_are_never_revealed() {
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    let mut attrs = aes(&KEY, true);
    attrs.push(b(CKA_SENSITIVE, true));
    attrs.push(raw(CKA_LABEL, b"hidden"));
    let key = p.create(a, s, attrs);
    let r = p
        .hsm
        .get_attribute_value(a, s, key, &[CKA_LABEL, CKA_VALUE])
        .unwrap();
    assert_eq!(r[0], AttrResult::Value(b"hidden".to_vec()));
    assert_eq!(r[1], AttrResult::Sensitive);
    assert_eq!(
        code(AttrResult::overall(&r)),
        ret::SR_RET_ATTRIBUTE_SENSITIVE
    );
    // A search on the value never matches it.
    assert_eq!(find(&p, a, s, vec![raw(CKA_VALUE, &KEY)]), vec![]);
    // Nor does a copy reveal it.
    let copy = p.hsm.copy_object(a, s, key, &tpl(vec![])).unwrap();
    let r = p.hsm.get_attribute_value(a, s, copy, &[CKA_VALUE]).unwrap();
    assert_eq!(r[0], AttrResult::Sensitive);
}

#[test]
fn key_material_is_checked_when_created() {
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    // An RSA private key whose components do not belong together.
    let mut n = vec![0xA5; 256];
    n[0] = 0xC1;
    let bogus = vec![
        u(CKA_CLASS, CKO_PRIVATE_KEY),
        u(CKA_KEY_TYPE, CKK_RSA),
        raw(CKA_MODULUS, &n),
        raw(CKA_PUBLIC_EXPONENT, &[1, 0, 1]),
        raw(CKA_PRIVATE_EXPONENT, &[0x33; 256]),
        raw(CKA_PRIME_1, &[0x11; 128]),
        raw(CKA_PRIME_2, &[0x13; 128]),
        raw(CKA_EXPONENT_1, &[0x17; 128]),
        raw(CKA_EXPONENT_2, &[0x19; 128]),
        raw(CKA_COEFFICIENT, &[0x1D; 128]),
    ];
    assert_eq!(
        code(p.hsm.create_object(a, s, &tpl(bogus))),
        ret::SR_RET_ATTRIBUTE_VALUE_INVALID
    );
    // Without the CRT components the module cannot use the key.
    let partial = vec![
        u(CKA_CLASS, CKO_PRIVATE_KEY),
        u(CKA_KEY_TYPE, CKK_RSA),
        raw(CKA_MODULUS, &n),
        raw(CKA_PUBLIC_EXPONENT, &[1, 0, 1]),
        raw(CKA_PRIVATE_EXPONENT, &[0x33; 256]),
    ];
    assert_eq!(
        code(p.hsm.create_object(a, s, &tpl(partial))),
        ret::SR_RET_TEMPLATE_INCOMPLETE
    );
    // A point that is not on the curve.
    let off_curve = vec![
        u(CKA_CLASS, CKO_PUBLIC_KEY),
        u(CKA_KEY_TYPE, CKK_EC),
        raw(CKA_EC_PARAMS, P256),
        raw(CKA_EC_POINT, &[&[0x04, 65, 0x04][..], &[0x42; 64]].concat()),
    ];
    assert_eq!(
        code(p.hsm.create_object(a, s, &tpl(off_curve))),
        ret::SR_RET_ATTRIBUTE_VALUE_INVALID
    );
    // A check value that does not match the key; the right one is accepted.
    let mut wrong = aes(&KEY, false);
    wrong.push(raw(CKA_CHECK_VALUE, &[1, 2, 3]));
    assert_eq!(
        code(p.hsm.create_object(a, s, &tpl(wrong))),
        ret::SR_RET_ATTRIBUTE_VALUE_INVALID
    );
    let k = strongroom_crypto::AesKey::new(&KEY).unwrap();
    let block =
        strongroom_crypto::aes_encrypt(&k, strongroom_crypto::AesMode::Ecb, &[0; 16]).unwrap();
    let mut right = aes(&KEY, false);
    right.push(raw(CKA_CHECK_VALUE, &block[..3]));
    p.create(a, s, right);
}

#[test]
fn finding_by_label_among_many_objects() {
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    for i in 0..300 {
        p.create(a, s, data(&format!("object {i}"), i % 2 == 0, i % 3 != 0));
    }
    let hit = find(&p, a, s, vec![raw(CKA_LABEL, b"object 123")]);
    assert_eq!(hit.len(), 1);
    assert_eq!(p.attr(a, s, hit[0], CKA_LABEL), b"object 123");
    assert_eq!(find(&p, a, s, vec![raw(CKA_LABEL, b"object 300")]), vec![]);
    // Searches are a snapshot; an object destroyed meanwhile is skipped.
    let all = find(&p, a, s, vec![u(CKA_CLASS, CKO_DATA)]);
    assert_eq!(all.len(), 300);
    p.hsm
        .find_objects_init(a, s, &tpl(vec![u(CKA_CLASS, CKO_DATA)]))
        .unwrap();
    assert_eq!(
        code(p.hsm.find_objects_init(a, s, &tpl(vec![]))),
        ret::SR_RET_OPERATION_ACTIVE
    );
    let first = p.hsm.find_objects(a, s, 1).unwrap();
    assert_eq!(first, vec![all[0]]);
    p.hsm.destroy_object(a, s, all[5]).unwrap();
    let rest = p.hsm.find_objects(a, s, 1000).unwrap();
    p.hsm.find_objects_final(a, s).unwrap();
    assert_eq!(rest.len(), 298);
    assert!(!rest.contains(&all[5]));
    assert_eq!(
        code(p.hsm.find_objects(a, s, 1)),
        ret::SR_RET_OPERATION_NOT_INITIALIZED
    );
}

#[test]
fn destructive_paths_empty_the_token_and_handles_are_not_reused() {
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    let d = p.create(a, s, data("d", true, true));
    let sess_obj = p.create(a, s, data("s", true, false));
    // Enabling private key wrapping (partition policy 1) destroys the partition's objects;
    // sessions stay open.
    p.partition_policy(1, 1);
    assert_eq!(used(&p), (0, 0));
    assert_eq!(
        code(p.hsm.get_attribute_value(a, s, d, &[CKA_LABEL])),
        ret::SR_RET_OBJECT_HANDLE_INVALID
    );
    assert_eq!(
        code(p.hsm.get_attribute_value(a, s, sess_obj, &[CKA_LABEL])),
        ret::SR_RET_OBJECT_HANDLE_INVALID
    );
    let again = p.create(a, s, data("again", true, true));
    assert!(again.value() > sess_obj.value());
    let p = p.reopen();
    assert_eq!(used(&p).1, 1);
}

#[test]
fn partition_reinit_closes_sessions_and_destroys_objects() {
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    p.create(a, s, data("d", true, true));
    let pso = p.hsm.open_access();
    p.hsm
        .partition_init(
            pso,
            p.serial,
            strongroom_module::PartitionInitRequest {
                label: "Token Two".into(),
                so_password: common::secret(PSO_PW),
                domain: common::secret("token-domain"),
                current_so_password: Some(common::secret(PSO_PW)),
            },
        )
        .unwrap();
    assert_eq!(used(&p), (0, 0));
    assert_eq!(
        code(p.hsm.session_info(a, s)),
        ret::SR_RET_SM_SESSION_HANDLE_INVALID
    );
    let p = p.reopen();
    assert_eq!(used(&p), (0, 0));
}

#[test]
fn deleting_the_partition_and_zeroizing_close_everything() {
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    p.create(a, s, data("d", true, true));
    let so = p.so;
    p.hsm.partition_delete(so, "tok").unwrap();
    assert_eq!(
        code(p.hsm.session_info(a, s)),
        ret::SR_RET_SM_SESSION_HANDLE_INVALID
    );
    assert_eq!(
        code(p.hsm.open_session(a, p.serial, true)),
        ret::SR_RET_CONTAINER_HANDLE_INVALID
    );
    let mut q = part();
    let (a, s) = q.rw(Some(CO));
    q.hsm.zeroize().unwrap();
    assert!(matches!(
        q.hsm.generate_random(a, s, 1),
        Err(e) if e.code() != ret::SR_RET_OK
    ));
    assert_eq!(
        code(q.hsm.session_info(a, s)),
        ret::SR_RET_SM_SESSION_HANDLE_INVALID
    );
}
