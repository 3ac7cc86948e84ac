//! Unit tests of the token layer's internals: the parsed-key cache, and the pending return
//! codes' mapping once the proto tables list them.

use cryptoki_sys::*;

use super::*;
use crate::object::{Attribute, Template};
use crate::{Mechanism, PartitionInitRequest};

fn cfg() -> ModuleConfig {
    ModuleConfig {
        kdf: KdfCost {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        },
        ..ModuleConfig::default()
    }
}

/// A module with one partition whose Crypto Officer is logged in on the returned access,
/// with a read/write session.
fn setup() -> (
    tempfile::TempDir,
    Module,
    AccessId,
    u64,
    crate::token::SessionHandle,
) {
    let tmp = tempfile::tempdir().unwrap();
    let (mut m, strings) = Module::open(tmp.path(), cfg()).unwrap();
    let id = m.open_access();
    m.stm_verification(id, &strings.unwrap().random_user_string)
        .unwrap();
    m.stm_recover(id).unwrap();
    m.init(
        id,
        InitRequest {
            label: "hsm".into(),
            so_password: Secret::new("Hsm-So-Pass1"),
            domain: Some(Secret::new("hsm-domain")),
            template: None,
            auth_time_config: false,
        },
    )
    .unwrap();
    m.so_login(id, &Secret::new("Hsm-So-Pass1")).unwrap();
    let serial = m
        .partition_create(id, "p", PartitionSize::Default, 0)
        .unwrap()
        .serial;
    m.partition_init(
        id,
        serial,
        PartitionInitRequest {
            label: "P".into(),
            so_password: Secret::new("Part-So-Pass1"),
            domain: Secret::new("d"),
            current_so_password: None,
        },
    )
    .unwrap();
    m.role_login(id, serial, PartitionRole::So, &Secret::new("Part-So-Pass1"))
        .unwrap();
    m.role_init(
        id,
        serial,
        PartitionRole::CryptoOfficer,
        &Secret::new("Crypto-Off-0"),
    )
    .unwrap();
    m.role_logout(id, serial).unwrap();
    m.role_login(
        id,
        serial,
        PartitionRole::CryptoOfficer,
        &Secret::new("Crypto-Off-0"),
    )
    .unwrap();
    m.role_change_password(
        id,
        serial,
        &Secret::new("Crypto-Off-0"),
        &Secret::new("Crypto-Off-1"),
    )
    .unwrap();
    let s = m.open_session(id, serial, true).unwrap();
    (tmp, m, id, serial, s)
}

fn aes_template(token: bool) -> Template {
    Template::new(vec![
        Attribute::from_ulong(CKA_CLASS, CKO_SECRET_KEY),
        Attribute::from_ulong(CKA_KEY_TYPE, CKK_AES),
        Attribute::new(CKA_VALUE, vec![7; 16]),
        Attribute::from_bool(CKA_TOKEN, token),
    ])
    .unwrap()
}

#[test]
fn parsed_keys_are_cached_and_dropped_with_their_object() {
    let (_tmp, mut m, id, serial, s) = setup();
    let key = m.create_object(id, s, &aes_template(true)).unwrap();
    // Checked at creation, so cached from then on.
    assert_eq!(m.tokens[&serial].cached_keys(), 1);
    m.sign_init(id, s, &Mechanism::AesCmac, key).unwrap();
    m.sign(id, s, b"x", Some(16)).unwrap();
    assert_eq!(m.tokens[&serial].cached_keys(), 1);
    // A change drops the parsed key; the next use parses it again.
    m.set_attribute_value(
        id,
        s,
        key,
        &Template::new(vec![Attribute::new(CKA_LABEL, b"l".to_vec())]).unwrap(),
    )
    .unwrap();
    assert_eq!(m.tokens[&serial].cached_keys(), 0);
    m.sign_init(id, s, &Mechanism::AesCmac, key).unwrap();
    assert_eq!(m.tokens[&serial].cached_keys(), 1);
    m.destroy_object(id, s, key).unwrap();
    assert_eq!(m.tokens[&serial].cached_keys(), 0);
    // Session objects too, when their session closes.
    m.create_object(id, s, &aes_template(false)).unwrap();
    assert_eq!(m.tokens[&serial].cached_keys(), 1);
    m.close_session(id, s).unwrap();
    assert_eq!(m.tokens[&serial].cached_keys(), 0);
}

#[test]
fn a_restarted_module_parses_keys_on_first_use() {
    let (tmp, mut m, id, serial, s) = setup();
    let key = m.create_object(id, s, &aes_template(true)).unwrap();
    m.sign_init(id, s, &Mechanism::AesCmac, key).unwrap();
    let mac = m.sign(id, s, b"x", Some(16)).unwrap();
    drop(m);
    let (mut m, _) = Module::open(tmp.path(), cfg()).unwrap();
    assert_eq!(m.tokens[&serial].cached_keys(), 0);
    assert_eq!(m.tokens[&serial].objects.len(), 1);
    let id = m.open_access();
    m.role_login(
        id,
        serial,
        PartitionRole::CryptoOfficer,
        &Secret::new("Crypto-Off-1"),
    )
    .unwrap();
    let s = m.open_session(id, serial, false).unwrap();
    let key = m.tokens[&serial].objects.iter().next().unwrap().0;
    m.sign_init(id, s, &Mechanism::AesCmac, key).unwrap();
    assert_eq!(m.sign(id, s, b"x", Some(16)).unwrap(), mac);
    assert_eq!(m.tokens[&serial].cached_keys(), 1);
}

#[test]
fn a_removed_object_record_halts_the_module() {
    let (tmp, mut m, id, serial, s) = setup();
    m.create_object(id, s, &aes_template(true)).unwrap();
    let uid = m.tokens[&serial]
        .objects
        .iter()
        .next()
        .unwrap()
        .1
        .unique_id()
        .to_vec();
    // Someone deletes the record behind the module's back (the store authenticates values,
    // not the set of keys): the accounting no longer matches and the module halts.
    m.store()
        .unwrap()
        .write(|txn| {
            txn.delete(&crate::state::partition_table(serial), &uid)
                .map(|_| ())
        })
        .unwrap();
    drop(m);
    let (m, _) = Module::open(tmp.path(), cfg()).unwrap();
    assert_eq!(m.status(), HsmStatus::IntegrityHalt);
}

#[test]
fn session_and_key_function_codes_map_to_their_pkcs11_values() {
    use strongroom_proto::ret;
    for (code, ckr) in [
        (ret::SR_RET_SESSION_READ_ONLY, 0xB5),
        (ret::SR_RET_SESSION_READ_ONLY_EXISTS, 0xB7),
        (ret::SR_RET_SESSION_READ_WRITE_SO_EXISTS, 0xB8),
        (ret::SR_RET_KEY_FUNCTION_NOT_PERMITTED, 0x68),
    ] {
        assert!(code.is_known(), "{code}");
        assert_eq!(code.ckr().value(), ckr, "{code}");
    }
}
