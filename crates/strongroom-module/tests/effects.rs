//! The "Security Effects of Administrative Actions" table of the reference (chapter 8; catalog
//! LC-20..LC-23, LC-10, LC-11, PO-03, PO-T46), one test per row, every column checked both right
//! after the action and after killing and restarting the module.
//!
//! Each row starts from the same rich module: initialized, policies 49 = 1 and 16 = 0 (both
//! non-default), an Auditor, two partitions, and the HSM SO logged in.
//!
//! How each column is observed:
//! - Domain: it has no read-back. A kept domain means the module is still initialized, so the
//!   next `hsm init` is soft (which keeps the domain); a destroyed one means a hard init (which
//!   sets a new domain) is needed.
//! - HSM SO: whether the old password still logs in.
//! - Partition SO, partition roles, contents: they live inside the partitions, so "destroyed"
//!   means the partitions are gone and their storage is free again.
//! - Auditor: `auditor_initialized()`.
//! - Policies: every policy id compared with the expected value.
//! - RPV: the remote PED vector exists only on PED-authenticated units. This unit is
//!   password-authenticated (capability 1 is Disallowed) and has no RPV, so there is nothing to
//!   keep or destroy and no column to check.
//! - KEK (the "destroyed" of LC-23 and LC-27/LC-28): whether the key file was replaced.

mod common;

use std::collections::BTreeMap;

use common::{
    DOMAIN, Hsm, LABEL, SO_PASSWORD, err_code, hard_init, initialized, recovered, secret, soft_init,
};
use strongroom_module::{AccessId, Destructive, HsmStatus, InitKind, PartitionSize, Policies};
use strongroom_proto::ret;

const NEW_PASSWORD: &str = "Second-SO-pass-42";
const NEW_DOMAIN: &str = "second domain 42";

/// Every policy id value (0 for ids that are not policies on this unit).
fn values(policies: &Policies) -> BTreeMap<u8, u32> {
    (0..=63).map(|id| (id, policies.get(id))).collect()
}

/// The default policy values of this unit (those of a new module).
fn defaults() -> BTreeMap<u8, u32> {
    values(recovered().policies())
}

/// The rich starting module and the SO's access.
fn rich() -> (Hsm, AccessId) {
    let mut hsm = initialized();
    let so = hsm.login();
    hsm.change_policy(so, 49, 1).expect("policy 49");
    hsm.change_policy(so, 16, 0).expect("policy 16");
    hsm.auditor_init(&secret("Auditor-pass-1"), &secret("audit domain"))
        .expect("auditor");
    hsm.create(so, "first", PartitionSize::Default);
    hsm.create(so, "second", PartitionSize::Bytes(40_000));
    assert_eq!(hsm.policies().get(49), 1);
    assert_eq!(hsm.policies().get(16), 0);
    (hsm, so)
}

fn kek(hsm: &Hsm) -> Vec<u8> {
    std::fs::read(hsm.dir().join("kek")).expect("read kek file")
}

#[derive(Clone, Copy, Debug)]
enum Domain {
    /// Still initialized: the next init is soft.
    Kept,
    /// Not initialized: a hard init is needed.
    Destroyed,
    /// A hard init set a new one.
    Replaced,
}

#[derive(Clone, Copy, Debug)]
enum So {
    /// The old password logs in.
    Kept,
    /// There is no SO: login is refused as not initialized.
    Destroyed,
    /// The old password is refused, this one logs in.
    Replaced(&'static str),
}

#[derive(Clone, Copy, Debug)]
enum Kek {
    /// The key file was replaced (the old KEK destroyed).
    Destroyed,
    /// The key file is untouched.
    Unchanged,
    /// The row says nothing about it.
    Unspecified,
}

/// The expected columns of one row.
struct Row {
    status: HsmStatus,
    domain: Domain,
    so: So,
    partitions: Vec<&'static str>,
    auditor: bool,
    policies: BTreeMap<u8, u32>,
    kek: Kek,
    label: Option<&'static str>,
}

/// Checks every column against `row`; `kek_before` is the key file before the action.
#[track_caller]
fn check(hsm: &mut Hsm, row: &Row, kek_before: &[u8], when: &str) {
    assert_eq!(hsm.status(), row.status, "{when}: status");
    assert_eq!(hsm.show().label.as_deref(), row.label, "{when}: label");

    match row.domain {
        Domain::Kept | Domain::Replaced => {
            assert!(hsm.is_initialized(), "{when}: domain");
            assert_eq!(hsm.init_kind(), InitKind::Soft, "{when}: domain");
        }
        Domain::Destroyed => {
            assert!(!hsm.is_initialized(), "{when}: domain");
            assert_eq!(hsm.init_kind(), InitKind::Hard, "{when}: domain");
        }
    }

    let names = hsm.partition_names();
    assert_eq!(names, row.partitions, "{when}: partitions");
    if row.partitions.is_empty() {
        assert_eq!(hsm.storage().used, 0, "{when}: partition storage released");
        assert!(
            hsm.show().partitions.is_empty(),
            "{when}: hsm show partitions"
        );
    }

    assert_eq!(hsm.auditor_initialized(), row.auditor, "{when}: Auditor");
    assert_eq!(
        hsm.show().audit_role_initialized,
        row.auditor,
        "{when}: Auditor"
    );
    assert_eq!(values(hsm.policies()), row.policies, "{when}: policies");

    match row.kek {
        Kek::Destroyed => assert_ne!(kek(hsm), kek_before, "{when}: the KEK must be replaced"),
        Kek::Unchanged => assert_eq!(kek(hsm), kek_before, "{when}: the KEK must be kept"),
        Kek::Unspecified => {}
    }

    // The SO column last: it logs in.
    let id = hsm.open_access();
    match row.so {
        So::Kept => {
            hsm.so_login(id, &secret(SO_PASSWORD))
                .unwrap_or_else(|err| panic!("{when}: the old SO password must log in: {err}"));
        }
        So::Destroyed => assert_eq!(
            err_code(hsm.so_login(id, &secret(SO_PASSWORD))),
            ret::SR_RET_HSM_NOT_INITIALIZED,
            "{when}: SO"
        ),
        So::Replaced(new) => {
            assert_eq!(
                err_code(hsm.so_login(id, &secret(SO_PASSWORD))),
                ret::SR_RET_UM_PIN_INCORRECT,
                "{when}: old SO password"
            );
            hsm.so_login(id, &secret(new))
                .unwrap_or_else(|err| panic!("{when}: the new SO password must log in: {err}"));
        }
    }
    hsm.close_access(id);
}

/// Checks the row now and again after a restart.
#[track_caller]
fn check_durably(hsm: Hsm, row: &Row, kek_before: &[u8]) -> Hsm {
    let mut hsm = hsm;
    check(&mut hsm, row, kek_before, "right after the action");
    let mut hsm = hsm.reopen();
    check(&mut hsm, row, kek_before, "after a restart");
    hsm
}

#[test]
fn factory_reset_row() {
    let (mut hsm, _so) = rich();
    let serial = hsm.serial();
    let kek_before = kek(&hsm);
    hsm.factory_reset().expect("factory reset");
    let row = Row {
        status: HsmStatus::Zeroized,
        domain: Domain::Destroyed,
        so: So::Destroyed,
        partitions: vec![],
        auditor: false,
        policies: defaults(),
        kek: Kek::Destroyed,
        label: None,
    };
    let mut hsm = check_durably(hsm, &row, &kek_before);
    assert_eq!(
        hsm.serial(),
        serial,
        "the serial number survives a factory reset"
    );
    assert!(!hsm.show().manually_zeroized);
    // A hard init with new credentials works (LC-10).
    let id = hsm.open_access();
    hsm.init(id, hard_init(LABEL, NEW_PASSWORD, NEW_DOMAIN))
        .expect("hard init");
    assert_eq!(hsm.status(), HsmStatus::Ok);
}

#[test]
fn zeroize_row() {
    let (mut hsm, so) = rich();
    let kek_before = kek(&hsm);
    let policies = values(hsm.policies());
    hsm.zeroize().expect("zeroize");
    assert!(!hsm.so_logged_in(so), "zeroize logs the SO out");
    let row = Row {
        status: HsmStatus::Zeroized,
        domain: Domain::Destroyed,
        so: So::Destroyed,
        partitions: vec![],
        auditor: true,
        policies,
        kek: Kek::Destroyed,
        label: None,
    };
    let mut hsm = check_durably(hsm, &row, &kek_before);
    assert!(
        hsm.show().manually_zeroized,
        "hsm show reports a manual zeroize"
    );
}

#[test]
fn destructive_policy_change_row() {
    let (mut hsm, so) = rich();
    let kek_before = kek(&hsm);
    let mut policies = values(hsm.policies());
    assert_eq!(
        hsm.preview_policy_change(so, 7, 0).expect("preview"),
        Destructive::Partitions
    );
    let outcome = hsm.change_policy(so, 7, 0).expect("policy 7");
    assert_eq!((outcome.old, outcome.new), (1, 0));
    assert_eq!(outcome.destroyed, Destructive::Partitions);
    policies.insert(7, 0);
    let row = Row {
        status: HsmStatus::Ok,
        domain: Domain::Kept,
        so: So::Kept,
        partitions: vec![],
        auditor: true,
        policies,
        kek: Kek::Unspecified,
        label: Some(LABEL),
    };
    check_durably(hsm, &row, &kek_before);
}

/// Catalog LC-28 (2) lists a destructive policy change among the actions that destroy the KEK:
/// the partitions' records (with their sealing keys) are deleted, but the database's free pages
/// may still hold their sealed copies, which stay decipherable while the KEK is unchanged.
#[test]
fn destructive_policy_change_destroys_the_kek() {
    let (mut hsm, so) = rich();
    let kek_before = kek(&hsm);
    hsm.change_policy(so, 7, 0).expect("policy 7");
    assert_ne!(kek(&hsm), kek_before);
    // Everything the row keeps is still readable under the new KEK.
    let hsm = hsm.reopen();
    assert_eq!(hsm.status(), HsmStatus::Ok);
    assert!(hsm.auditor_initialized());
}

#[test]
fn a_non_destructive_policy_change_destroys_nothing() {
    let (mut hsm, so) = rich();
    let kek_before = kek(&hsm);
    let mut policies = values(hsm.policies());
    let outcome = hsm.change_policy(so, 58, 1).expect("policy 58");
    assert_eq!(outcome.destroyed, Destructive::No);
    policies.insert(58, 1);
    let row = Row {
        status: HsmStatus::Ok,
        domain: Domain::Kept,
        so: So::Kept,
        partitions: vec!["first", "second"],
        auditor: true,
        policies,
        kek: Kek::Unchanged,
        label: Some(LABEL),
    };
    check_durably(hsm, &row, &kek_before);
}

#[test]
fn policy_46_zeroizes_the_whole_module() {
    let (mut hsm, so) = rich();
    let kek_before = kek(&hsm);
    let mut policies = values(hsm.policies());
    assert_eq!(
        hsm.preview_policy_change(so, 46, 1).expect("preview"),
        Destructive::WholeHsm
    );
    let outcome = hsm.change_policy(so, 46, 1).expect("policy 46");
    assert_eq!(outcome.destroyed, Destructive::WholeHsm);
    assert!(!hsm.so_logged_in(so));
    policies.insert(46, 1);
    let row = Row {
        status: HsmStatus::Zeroized,
        domain: Domain::Destroyed,
        so: So::Destroyed,
        partitions: vec![],
        auditor: true,
        policies,
        kek: Kek::Destroyed,
        label: None,
    };
    check_durably(hsm, &row, &kek_before);
}

#[test]
fn policy_46_while_40_is_on_fails_yet_destroys_the_partitions() {
    let mut hsm = initialized();
    let so = hsm.login();
    hsm.change_policy(so, 49, 1).expect("policy 49");
    hsm.change_policy(so, 40, 1).expect("policy 40");
    hsm.auditor_init(&secret("Auditor-pass-1"), &secret("audit domain"))
        .expect("auditor");
    hsm.create(so, "first", PartitionSize::Default);
    hsm.create(so, "second", PartitionSize::Bytes(40_000));
    let kek_before = kek(&hsm);
    let policies = values(hsm.policies());

    assert_eq!(
        err_code(hsm.change_policy(so, 46, 1)),
        ret::SR_RET_RM_CONFIG_CHANGE_FAILS_DEPENDENCIES
    );
    let row = Row {
        status: HsmStatus::Ok,
        domain: Domain::Kept,
        so: So::Kept,
        partitions: vec![],
        auditor: true,
        policies,
        kek: Kek::Unspecified,
        label: Some(LABEL),
    };
    let hsm = check_durably(hsm, &row, &kek_before);
    assert_eq!(hsm.policies().get(46), 0);
    assert_eq!(hsm.policies().get(40), 1);
}

#[test]
fn hard_init_after_zeroize_row() {
    let (mut hsm, _so) = rich();
    let policies = values(hsm.policies());
    hsm.zeroize().expect("zeroize");
    let kek_before = kek(&hsm);
    let id = hsm.open_access();
    assert_eq!(hsm.init_kind(), InitKind::Hard);
    assert_eq!(
        hsm.init(id, hard_init("relabelled", NEW_PASSWORD, NEW_DOMAIN))
            .expect("hard init"),
        InitKind::Hard
    );
    let row = Row {
        status: HsmStatus::Ok,
        domain: Domain::Replaced,
        so: So::Replaced(NEW_PASSWORD),
        partitions: vec![],
        auditor: true,
        policies,
        kek: Kek::Unspecified,
        label: Some("relabelled"),
    };
    check_durably(hsm, &row, &kek_before);
}

#[test]
fn soft_init_row() {
    let (mut hsm, so) = rich();
    let kek_before = kek(&hsm);
    let policies = values(hsm.policies());
    assert_eq!(
        hsm.init(so, soft_init("relabelled", SO_PASSWORD))
            .expect("soft init"),
        InitKind::Soft
    );
    let row = Row {
        status: HsmStatus::Ok,
        domain: Domain::Kept,
        so: So::Kept,
        partitions: vec![],
        auditor: true,
        policies,
        kek: Kek::Unspecified,
        label: Some("relabelled"),
    };
    check_durably(hsm, &row, &kek_before);
}

#[test]
fn decommission_row() {
    let (mut hsm, so) = rich();
    let kek_before = kek(&hsm);
    let policies = values(hsm.policies());
    hsm.decommission().expect("decommission");
    assert!(!hsm.so_logged_in(so));
    let row = Row {
        status: HsmStatus::Decommissioned,
        domain: Domain::Destroyed,
        so: So::Destroyed,
        partitions: vec![],
        auditor: false,
        policies,
        kek: Kek::Destroyed,
        label: None,
    };
    let mut hsm = check_durably(hsm, &row, &kek_before);
    // A hard init brings it back (LC-23).
    let id = hsm.open_access();
    hsm.init(id, hard_init(LABEL, NEW_PASSWORD, DOMAIN))
        .expect("hard init");
    assert_eq!(hsm.status(), HsmStatus::Ok);
}

#[test]
fn decommission_is_refused_with_policy_46_on() {
    let (mut hsm, so) = rich();
    hsm.change_policy(so, 46, 1).expect("policy 46 (zeroizes)");
    let id = hsm.open_access();
    hsm.init(id, hard_init(LABEL, SO_PASSWORD, DOMAIN))
        .expect("hard init");
    let so = hsm.login();
    hsm.create(so, "first", PartitionSize::Default);
    hsm.create(so, "second", PartitionSize::Bytes(40_000));
    let kek_before = kek(&hsm);
    let policies = values(hsm.policies());
    assert_eq!(policies[&46], 1);

    assert_eq!(
        err_code(hsm.decommission()),
        ret::SR_RET_OPERATION_RESTRICTED
    );
    let row = Row {
        status: HsmStatus::Ok,
        domain: Domain::Kept,
        so: So::Kept,
        partitions: vec!["first", "second"],
        auditor: true,
        policies,
        kek: Kek::Unchanged,
        label: Some(LABEL),
    };
    check_durably(hsm, &row, &kek_before);
}

#[test]
fn three_failed_so_logins_zeroize() {
    let (mut hsm, _so) = rich();
    let kek_before = kek(&hsm);
    let policies = values(hsm.policies());
    for _ in 0..2 {
        let id = hsm.open_access();
        assert_eq!(
            err_code(hsm.so_login(id, &secret("wrong-password"))),
            ret::SR_RET_UM_PIN_INCORRECT
        );
    }
    let id = hsm.open_access();
    assert_eq!(
        err_code(hsm.so_login(id, &secret("wrong-password"))),
        ret::SR_RET_SO_LOGIN_FAILURE_THRESHOLD
    );
    let row = Row {
        status: HsmStatus::Zeroized,
        domain: Domain::Destroyed,
        so: So::Destroyed,
        partitions: vec![],
        auditor: true,
        policies,
        kek: Kek::Destroyed,
        label: None,
    };
    check_durably(hsm, &row, &kek_before);
}

#[test]
fn setting_a_destructive_policy_to_its_current_value_destroys_nothing() {
    let (mut hsm, so) = rich();
    let kek_before = kek(&hsm);
    let policies = values(hsm.policies());
    assert_eq!(policies[&7], 1);
    assert_eq!(
        hsm.preview_policy_change(so, 7, 1).expect("preview"),
        Destructive::No
    );
    let outcome = hsm.change_policy(so, 7, 1).expect("policy 7 unchanged");
    assert_eq!(outcome.destroyed, Destructive::No);
    let row = Row {
        status: HsmStatus::Ok,
        domain: Domain::Kept,
        so: So::Kept,
        partitions: vec!["first", "second"],
        auditor: true,
        policies,
        kek: Kek::Unchanged,
        label: Some(LABEL),
    };
    check_durably(hsm, &row, &kek_before);
}

#[test]
fn policy_40_while_46_is_on_fails_and_destroys_nothing() {
    let (mut hsm, so) = rich();
    hsm.change_policy(so, 46, 1).expect("policy 46 (zeroizes)");
    let id = hsm.open_access();
    hsm.init(id, hard_init(LABEL, SO_PASSWORD, DOMAIN))
        .expect("hard init");
    let so = hsm.login();
    hsm.create(so, "first", PartitionSize::Default);
    hsm.create(so, "second", PartitionSize::Bytes(40_000));
    let kek_before = kek(&hsm);
    let policies = values(hsm.policies());
    assert_eq!(
        err_code(hsm.change_policy(so, 40, 1)),
        ret::SR_RET_RM_CONFIG_CHANGE_FAILS_DEPENDENCIES
    );
    let row = Row {
        status: HsmStatus::Ok,
        domain: Domain::Kept,
        so: So::Kept,
        partitions: vec!["first", "second"],
        auditor: true,
        policies,
        kek: Kek::Unchanged,
        label: Some(LABEL),
    };
    check_durably(hsm, &row, &kek_before);
}

#[test]
fn policy_changes_need_an_initialized_module_and_the_so() {
    let mut hsm = recovered();
    let id = hsm.open_access();
    assert_eq!(
        err_code(hsm.change_policy(id, 49, 1)),
        ret::SR_RET_HSM_NOT_INITIALIZED
    );
    let (mut hsm, _so) = rich();
    let policies = values(hsm.policies());
    let other = hsm.open_access();
    assert_eq!(
        err_code(hsm.change_policy(other, 7, 0)),
        ret::SR_RET_USER_NOT_LOGGED_IN
    );
    assert_eq!(
        err_code(hsm.preview_policy_change(other, 7, 0)),
        ret::SR_RET_USER_NOT_LOGGED_IN
    );
    assert_eq!(values(hsm.policies()), policies);
    assert_eq!(hsm.partition_names(), ["first", "second"]);
}
