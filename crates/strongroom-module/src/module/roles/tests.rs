use strongroom_proto::ret;

use super::*;
use crate::{InitRequest, KdfCost, ModuleConfig, PartitionSize};

const SO: &str = "Hsm-So-Pass1";
const PSO: &str = "Part-So-Pass1";
const CO: &str = "Crypto-Off-1";
const CU: &str = "Crypto-Usr-1";

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

/// An initialized module with one partition `p`, the HSM SO logged in on the returned access.
fn setup(hsm_policies: &[(u8, u32)]) -> (tempfile::TempDir, Module, AccessId, u64) {
    let tmp = tempfile::tempdir().unwrap();
    let (mut m, strings) = Module::open(tmp.path(), cfg()).unwrap();
    let strings = strings.unwrap();
    let id = m.open_access();
    m.stm_verification(id, &strings.random_user_string).unwrap();
    m.stm_recover(id).unwrap();
    m.init(
        id,
        InitRequest {
            label: "hsm".into(),
            so_password: Secret::new(SO),
            domain: Some(Secret::new("hsm-domain")),
            template: None,
            auth_time_config: false,
        },
    )
    .unwrap();
    m.so_login(id, &Secret::new(SO)).unwrap();
    for (p, v) in hsm_policies {
        m.change_policy(id, *p, *v).unwrap();
    }
    let serial = m
        .partition_create(id, "p", PartitionSize::Default, 0)
        .unwrap()
        .serial;
    (tmp, m, id, serial)
}

fn init_partition(m: &mut Module, id: AccessId, serial: u64) {
    m.partition_init(
        id,
        serial,
        PartitionInitRequest {
            label: "Part One".into(),
            so_password: Secret::new(PSO),
            domain: Secret::new("part-domain"),
            current_so_password: None,
        },
    )
    .unwrap();
}

fn code<T>(r: Result<T, Error>) -> strongroom_proto::RetCode {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(err) => err.code(),
    }
}

/// Partition initialized, CO created and its first password changed, logged out.
fn with_co(hsm_policies: &[(u8, u32)]) -> (tempfile::TempDir, Module, AccessId, u64) {
    let (tmp, mut m, id, serial) = setup(hsm_policies);
    init_partition(&mut m, id, serial);
    m.role_login(id, serial, PartitionRole::So, &Secret::new(PSO))
        .unwrap();
    m.role_init(
        id,
        serial,
        PartitionRole::CryptoOfficer,
        &Secret::new("Initial-Co-1"),
    )
    .unwrap();
    m.role_logout(id, serial).unwrap();
    m.role_login(
        id,
        serial,
        PartitionRole::CryptoOfficer,
        &Secret::new("Initial-Co-1"),
    )
    .unwrap();
    m.role_change_password(id, serial, &Secret::new("Initial-Co-1"), &Secret::new(CO))
        .unwrap();
    m.role_logout(id, serial).unwrap();
    (tmp, m, id, serial)
}

#[test]
fn role_names_round_trip() {
    for r in PartitionRole::ALL {
        assert_eq!(PartitionRole::from_name(r.name()), Some(r));
        assert_eq!(PartitionRole::from_name(r.short_name()), Some(r));
        assert_eq!(PartitionRole::from_name(&r.name().to_uppercase()), Some(r));
    }
    assert_eq!(PartitionRole::from_name("admin"), None);
    let ids: Vec<u8> = PartitionRole::ALL.iter().map(|r| r.audit_id()).collect();
    assert_eq!(ids, [1, 0, 9, 5], "RA-16 role ids");
}

#[test]
fn partition_init_rules_and_hard_init() {
    let (_t, mut m, id, serial) = setup(&[]);
    assert!(!m.partition_initialized(serial).unwrap());
    let req = |label: &str, pw: &str, dom: &str| PartitionInitRequest {
        label: label.into(),
        so_password: Secret::new(pw),
        domain: Secret::new(dom),
        current_so_password: None,
    };
    assert_eq!(
        code(m.partition_init(id, serial, req("", PSO, "d"))),
        ret::SR_RET_DATA_INVALID
    );
    assert_eq!(
        code(m.partition_init(id, serial, req(&"x".repeat(33), PSO, "d"))),
        ret::SR_RET_DATA_INVALID
    );
    assert_eq!(
        code(m.partition_init(id, serial, req("ok", "short", "d"))),
        ret::SR_RET_UM_PIN_LEN_RANGE
    );
    assert_eq!(
        code(m.partition_init(id, serial, req("ok", PSO, "bad;dom"))),
        ret::SR_RET_DATA_INVALID
    );
    assert!(
        !m.partition_initialized(serial).unwrap(),
        "refusals change nothing"
    );
    init_partition(&mut m, id, serial);
    assert!(m.partition_initialized(serial).unwrap());
    assert_eq!(
        m.partition_label(serial).unwrap().as_deref(),
        Some("Part One")
    );
    m.role_login(id, serial, PartitionRole::So, &Secret::new(PSO))
        .unwrap();
}

#[test]
fn soft_partition_init_needs_the_current_so_password_and_destroys_roles() {
    let (_t, mut m, id, serial) = with_co(&[]);
    let again = |current: Option<&str>| PartitionInitRequest {
        label: "Part Two".into(),
        so_password: Secret::new("New-Pso-Pass2"),
        domain: Secret::new("domain-two"),
        current_so_password: current.map(Secret::new),
    };
    assert_eq!(
        code(m.partition_init(id, serial, again(None))),
        ret::SR_RET_ARGUMENTS_BAD
    );
    assert_eq!(
        code(m.partition_init(id, serial, again(Some("Wrong-Pass-1")))),
        ret::SR_RET_UM_PIN_INCORRECT
    );
    m.partition_init(id, serial, again(Some(PSO))).unwrap();
    let roles = m.role_list(serial).unwrap();
    assert!(
        roles
            .iter()
            .find(|r| r.role == PartitionRole::CryptoOfficer)
            .is_some_and(|r| !r.initialized)
    );
    assert_eq!(
        code(m.role_login(id, serial, PartitionRole::So, &Secret::new(PSO))),
        ret::SR_RET_UM_PIN_INCORRECT
    );
    m.role_login(id, serial, PartitionRole::So, &Secret::new("New-Pso-Pass2"))
        .unwrap();
    assert_eq!(
        m.partition_label(serial).unwrap().as_deref(),
        Some("Part Two")
    );
}

#[test]
fn forced_change_under_policy_21_and_creation_order() {
    let (_t, mut m, id, serial) = setup(&[]);
    init_partition(&mut m, id, serial);
    m.role_login(id, serial, PartitionRole::So, &Secret::new(PSO))
        .unwrap();
    // The Partition SO creates the CO, never the CU.
    assert_eq!(
        code(m.role_init(id, serial, PartitionRole::CryptoUser, &Secret::new(CU))),
        ret::SR_RET_SM_ACCESS_DOES_NOT_VALIDATE
    );
    m.role_init(
        id,
        serial,
        PartitionRole::CryptoOfficer,
        &Secret::new("Initial-Co-1"),
    )
    .unwrap();
    // One role per access: the CO cannot log in while the PSO is.
    assert_eq!(
        code(m.role_login(
            id,
            serial,
            PartitionRole::CryptoOfficer,
            &Secret::new("Initial-Co-1")
        )),
        ret::SR_RET_SM_OTHER_USER_LOGGED_IN
    );
    m.role_logout(id, serial).unwrap();
    m.role_login(
        id,
        serial,
        PartitionRole::CryptoOfficer,
        &Secret::new("Initial-Co-1"),
    )
    .unwrap();
    assert!(m.role_list(serial).unwrap()[1].must_change);
    // Until changed, everything else is refused with PIN expired.
    assert_eq!(
        code(m.role_init(id, serial, PartitionRole::CryptoUser, &Secret::new(CU))),
        ret::SR_RET_SM_PIN_EXPIRED
    );
    m.role_change_password(id, serial, &Secret::new("Initial-Co-1"), &Secret::new(CO))
        .unwrap();
    m.role_init(id, serial, PartitionRole::CryptoUser, &Secret::new(CU))
        .unwrap();
    assert_eq!(
        code(m.role_login(id, serial, PartitionRole::CryptoOfficer, &Secret::new(CO))),
        ret::SR_RET_USER_ALREADY_LOGGED_IN
    );
}

#[test]
fn no_forced_change_when_policy_21_is_off() {
    let (_t, mut m, id, serial) = setup(&[(21, 0)]);
    init_partition(&mut m, id, serial);
    m.role_login(id, serial, PartitionRole::So, &Secret::new(PSO))
        .unwrap();
    m.role_init(id, serial, PartitionRole::CryptoOfficer, &Secret::new(CO))
        .unwrap();
    m.role_logout(id, serial).unwrap();
    m.role_login(id, serial, PartitionRole::CryptoOfficer, &Secret::new(CO))
        .unwrap();
    m.role_init(id, serial, PartitionRole::CryptoUser, &Secret::new(CU))
        .unwrap();
}

#[test]
fn crypto_officer_locks_out_and_only_policy_15_lets_the_pso_reset_it() {
    for policy_15 in [0, 1] {
        let (_t, mut m, id, serial) = with_co(&[(15, policy_15)]);
        for attempt in 1..=10 {
            let c = code(m.role_login(
                id,
                serial,
                PartitionRole::CryptoOfficer,
                &Secret::new("Wrong-Pass-9"),
            ));
            if attempt < 10 {
                assert_eq!(c, ret::SR_RET_UM_PIN_INCORRECT, "attempt {attempt}");
            } else {
                assert_eq!(c, ret::SR_RET_UM_PIN_INCORRECT_CONTAINER_LOCKED);
            }
        }
        let locked = code(m.role_login(id, serial, PartitionRole::CryptoOfficer, &Secret::new(CO)));
        assert_eq!(locked, ret::SR_RET_CONTAINER_LOCKED);
        assert_eq!(locked.ckr(), strongroom_proto::ckr::CKR_PIN_LOCKED);
        m.role_login(id, serial, PartitionRole::So, &Secret::new(PSO))
            .unwrap();
        let reset = m.role_reset(
            id,
            serial,
            PartitionRole::CryptoOfficer,
            &Secret::new("Reset-Co-Pw1"),
        );
        if policy_15 == 0 {
            assert_eq!(
                code(reset),
                ret::SR_RET_OPERATION_RESTRICTED,
                "lockout is permanent"
            );
        } else {
            reset.unwrap();
            m.role_logout(id, serial).unwrap();
            m.role_login(
                id,
                serial,
                PartitionRole::CryptoOfficer,
                &Secret::new("Reset-Co-Pw1"),
            )
            .unwrap();
            assert!(
                m.role_list(serial).unwrap()[1].must_change,
                "reset forces a change"
            );
        }
    }
}

#[test]
fn crypto_officer_resets_the_crypto_user_and_policy_20_sets_the_limit() {
    let (_t, mut m, id, serial) = with_co(&[]);
    m.role_login(id, serial, PartitionRole::So, &Secret::new(PSO))
        .unwrap();
    m.partition_change_policy(id, serial, 20, 3).unwrap();
    m.role_logout(id, serial).unwrap();
    m.role_login(id, serial, PartitionRole::CryptoOfficer, &Secret::new(CO))
        .unwrap();
    m.role_init(id, serial, PartitionRole::CryptoUser, &Secret::new(CU))
        .unwrap();
    m.role_logout(id, serial).unwrap();
    for _ in 0..2 {
        assert_eq!(
            code(m.role_login(
                id,
                serial,
                PartitionRole::CryptoUser,
                &Secret::new("Bad-Pass-123")
            )),
            ret::SR_RET_UM_PIN_INCORRECT
        );
    }
    assert_eq!(
        code(m.role_login(
            id,
            serial,
            PartitionRole::CryptoUser,
            &Secret::new("Bad-Pass-123")
        )),
        ret::SR_RET_UM_PIN_INCORRECT_CONTAINER_LOCKED
    );
    m.role_login(id, serial, PartitionRole::CryptoOfficer, &Secret::new(CO))
        .unwrap();
    m.role_reset(
        id,
        serial,
        PartitionRole::CryptoUser,
        &Secret::new("Cu-Reset-12"),
    )
    .unwrap();
    m.role_logout(id, serial).unwrap();
    m.role_login(
        id,
        serial,
        PartitionRole::CryptoUser,
        &Secret::new("Cu-Reset-12"),
    )
    .unwrap();
}

#[test]
fn a_success_resets_the_failure_count() {
    let (_t, mut m, id, serial) = with_co(&[]);
    for _ in 0..9 {
        let _ = m.role_login(
            id,
            serial,
            PartitionRole::CryptoOfficer,
            &Secret::new("Wrong-Pass-9"),
        );
    }
    m.role_login(id, serial, PartitionRole::CryptoOfficer, &Secret::new(CO))
        .unwrap();
    m.role_logout(id, serial).unwrap();
    for _ in 0..9 {
        assert_eq!(
            code(m.role_login(
                id,
                serial,
                PartitionRole::CryptoOfficer,
                &Secret::new("Wrong-Pass-9")
            )),
            ret::SR_RET_UM_PIN_INCORRECT
        );
    }
}

#[test]
fn ten_failed_partition_so_logins_zeroize_the_partition() {
    let (_t, mut m, id, serial) = with_co(&[]);
    for _ in 0..9 {
        assert_eq!(
            code(m.role_login(id, serial, PartitionRole::So, &Secret::new("Wrong-Pass-9"))),
            ret::SR_RET_UM_PIN_INCORRECT
        );
    }
    assert_eq!(
        code(m.role_login(id, serial, PartitionRole::So, &Secret::new("Wrong-Pass-9"))),
        ret::SR_RET_UM_PIN_INCORRECT_CONTAINER_ZEROIZED
    );
    assert!(!m.partition_initialized(serial).unwrap());
    assert_eq!(m.partition_label(serial).unwrap(), None);
    assert!(m.role_list(serial).unwrap().iter().all(|r| !r.initialized));
    // The partition itself (allotment) remains; it can be initialized again.
    init_partition(&mut m, id, serial);
}

#[test]
fn pin_length_policies_apply_to_new_credentials() {
    let (_t, mut m, id, serial) = with_co(&[]);
    m.role_login(id, serial, PartitionRole::So, &Secret::new(PSO))
        .unwrap();
    m.partition_change_policy(id, serial, 25, 255 - 12).unwrap();
    m.partition_change_policy(id, serial, 26, 16).unwrap();
    assert_eq!(
        code(m.partition_change_policy(id, serial, 26, 11)),
        ret::SR_RET_RM_CONFIG_CHANGE_FAILS_DEPENDENCIES,
        "max below min"
    );
    assert_eq!(
        m.partition_policies(serial).unwrap().pin_length_bounds(),
        (12, 16)
    );
    m.role_logout(id, serial).unwrap();
    m.role_login(id, serial, PartitionRole::CryptoOfficer, &Secret::new(CO))
        .unwrap();
    assert_eq!(
        code(m.role_change_password(id, serial, &Secret::new(CO), &Secret::new("Short-Pw-1"))),
        ret::SR_RET_UM_PIN_LEN_RANGE
    );
    assert_eq!(
        code(m.role_change_password(
            id,
            serial,
            &Secret::new(CO),
            &Secret::new("Far-Too-Long-Pass-1")
        )),
        ret::SR_RET_UM_PIN_LEN_RANGE
    );
    m.role_change_password(id, serial, &Secret::new(CO), &Secret::new("Just-Right-12"))
        .unwrap();
}

#[test]
fn partition_policies_need_the_pso_and_follow_the_hsm() {
    let (_t, mut m, id, serial) = with_co(&[(7, 0)]);
    m.role_login(id, serial, PartitionRole::CryptoOfficer, &Secret::new(CO))
        .unwrap();
    assert_eq!(
        code(m.partition_change_policy(id, serial, 1, 1)),
        ret::SR_RET_SM_ACCESS_DOES_NOT_VALIDATE
    );
    m.role_logout(id, serial).unwrap();
    m.role_login(id, serial, PartitionRole::So, &Secret::new(PSO))
        .unwrap();
    assert_eq!(
        m.partition_policies(serial).unwrap().get(0),
        0,
        "HSM policy 7 off: no cloning"
    );
    assert_eq!(
        code(m.partition_change_policy(id, serial, 0, 1)),
        ret::SR_RET_RM_CONFIG_CHANGE_ILLEGAL
    );
    assert_eq!(
        code(m.partition_change_policy(id, serial, 99, 1)),
        ret::SR_RET_RM_ELEMENT_ID_INVALID
    );
    assert_eq!(
        code(m.partition_change_policy(id, serial, 1, 2)),
        ret::SR_RET_RM_ELEMENT_VALUE_INVALID
    );
    let change = m.partition_change_policy(id, serial, 1, 1).unwrap();
    assert!(
        change.destroys_objects,
        "enabling private key wrapping is destructive"
    );
    let change = m.partition_change_policy(id, serial, 1, 0).unwrap();
    assert!(!change.destroys_objects, "tightening is not");
    let text = m.partition_show_policies(serial).unwrap();
    assert!(
        text.contains("Allow private key wrapping")
            && text.contains("Max failed user logins allowed")
    );
}

#[test]
fn roles_and_lockouts_survive_a_restart() {
    let (tmp, mut m, id, serial) = with_co(&[]);
    for _ in 0..10 {
        let _ = m.role_login(
            id,
            serial,
            PartitionRole::CryptoOfficer,
            &Secret::new("Wrong-Pass-9"),
        );
    }
    drop(m);
    let (mut m, _) = Module::open(tmp.path(), cfg()).unwrap();
    let id = m.open_access();
    assert_eq!(
        code(m.role_login(id, serial, PartitionRole::CryptoOfficer, &Secret::new(CO))),
        ret::SR_RET_CONTAINER_LOCKED
    );
    m.role_login(id, serial, PartitionRole::So, &Secret::new(PSO))
        .unwrap();
}

#[test]
fn logins_end_with_partition_delete_stm_and_zeroize() {
    let (_t, mut m, id, serial) = with_co(&[]);
    m.role_login(id, serial, PartitionRole::CryptoOfficer, &Secret::new(CO))
        .unwrap();
    m.stm_transport(id).unwrap();
    assert_eq!(
        m.partition_login(id, serial),
        None,
        "STM logs out partition roles (LC-08)"
    );
    m.so_login(id, &Secret::new(SO)).unwrap();
    let rus = String::new();
    let _ = m.stm_verification(id, &rus).unwrap();
    m.stm_recover(id).unwrap();
    m.role_login(id, serial, PartitionRole::CryptoOfficer, &Secret::new(CO))
        .unwrap();
    m.partition_delete(id, "p").unwrap();
    assert_eq!(m.partition_login(id, serial), None);
    assert_eq!(
        code(m.role_login(id, serial, PartitionRole::CryptoOfficer, &Secret::new(CO))),
        ret::SR_RET_CONTAINER_HANDLE_INVALID
    );
}

#[test]
fn partition_operations_are_refused_while_tampered() {
    let (_t, mut m, id, serial) = with_co(&[]);
    m.raise_tamper(crate::TamperKind::ChassisIntrusion).unwrap();
    assert_eq!(
        code(m.role_login(id, serial, PartitionRole::CryptoOfficer, &Secret::new(CO))),
        ret::SR_RET_HSM_TAMPERED
    );
}
