//! Secure Transport Mode (catalog LC-01..LC-09, LC-09a; reference chapter 1).
//!
//! The verification string is a function of the random user string, a hidden nonce and the
//! module state. The nonce never leaves the module, so the tests compare strings the module
//! itself computes: at creation or transport, and again at recovery. To compare two states
//! under the same nonce, a module in STM is copied (its whole data directory) and only the copy
//! is changed.

mod common;

use std::path::Path;

use common::{
    DOMAIN, Hsm, SO_PASSWORD, data_dir, err_code, fresh, hard_init, initialized, is_stm_string,
    recovered, secret, soft_init,
};
use strongroom_module::{HsmStatus, Module, PartitionSize, StmStrings, TamperKind};
use strongroom_proto::ret;
use tempfile::TempDir;

/// An initialized module put into STM by its SO; returns the strings shown.
fn initialized_in_transport() -> (Hsm, StmStrings) {
    let mut hsm = initialized();
    let so = hsm.login();
    let strings = hsm.stm_transport(so).expect("transport");
    assert_eq!(hsm.status(), HsmStatus::TransportMode);
    (hsm, strings)
}

/// Copies every file of a module's data directory into a new temporary directory.
fn copy_module(from: &Path) -> TempDir {
    let tmp = TempDir::new().expect("temp dir");
    let to = data_dir(&tmp);
    std::fs::create_dir_all(&to).expect("create copy dir");
    for entry in std::fs::read_dir(from).expect("read data dir") {
        let entry = entry.expect("dir entry");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy file");
    }
    tmp
}

#[test]
fn new_module_starts_in_transport_mode_with_well_formed_strings() {
    let (mut hsm, strings) = fresh();
    assert_eq!(hsm.status(), HsmStatus::TransportModeZeroized);
    assert!(hsm.in_transport());
    assert!(!hsm.is_initialized());
    let info = hsm.show();
    assert!(info.secure_transport_mode);
    assert_eq!(info.label, None);
    assert!(
        is_stm_string(&strings.random_user_string),
        "random user string {:?}",
        strings.random_user_string
    );
    assert!(
        is_stm_string(&strings.verification_string),
        "verification string {:?}",
        strings.verification_string
    );
    assert_ne!(strings.random_user_string, strings.verification_string);
}

#[test]
fn two_new_modules_get_different_strings() {
    let (_a, sa) = fresh();
    let (_b, sb) = fresh();
    assert_ne!(sa.random_user_string, sb.random_user_string);
    assert_ne!(sa.verification_string, sb.verification_string);
}

#[test]
fn verification_matches_for_the_right_string_only() {
    let (mut hsm, strings) = fresh();
    let id = hsm.open_access();
    let again = hsm
        .stm_verification(id, &strings.random_user_string)
        .expect("verification");
    assert_eq!(again, strings.verification_string);

    let other = if strings.random_user_string == "AAAA-AAAA-AAAA-AAAA" {
        "BBBB-BBBB-BBBB-BBBB"
    } else {
        "AAAA-AAAA-AAAA-AAAA"
    };
    let wrong = hsm
        .stm_verification(id, other)
        .expect("any string is accepted");
    assert!(is_stm_string(&wrong));
    assert_ne!(wrong, strings.verification_string);
    // Computing a verification string changes nothing.
    assert_eq!(
        hsm.stm_verification(id, &strings.random_user_string)
            .expect("verification"),
        strings.verification_string
    );
    assert_eq!(hsm.status(), HsmStatus::TransportModeZeroized);
}

#[test]
fn verification_survives_a_restart_unchanged() {
    let (hsm, strings) = fresh();
    let mut hsm = hsm.reopen();
    assert_eq!(hsm.status(), HsmStatus::TransportModeZeroized);
    let id = hsm.open_access();
    assert_eq!(
        hsm.stm_verification(id, &strings.random_user_string)
            .expect("verification"),
        strings.verification_string
    );

    let (hsm, strings) = initialized_in_transport();
    let mut hsm = hsm.reopen();
    assert_eq!(hsm.status(), HsmStatus::TransportMode);
    let so = hsm.login();
    assert_eq!(
        hsm.stm_verification(so, &strings.random_user_string)
            .expect("verification"),
        strings.verification_string
    );
}

#[test]
fn failed_so_login_in_transport_changes_verification() {
    let (mut hsm, strings) = initialized_in_transport();
    let so = hsm.login();
    assert_eq!(
        hsm.stm_verification(so, &strings.random_user_string)
            .expect("verification"),
        strings.verification_string
    );
    let other = hsm.open_access();
    assert_eq!(
        err_code(hsm.so_login(other, &secret("not-the-password"))),
        ret::SR_RET_UM_PIN_INCORRECT
    );
    assert_ne!(
        hsm.stm_verification(so, &strings.random_user_string)
            .expect("verification"),
        strings.verification_string,
        "a single failed SO login must change the verification string (LC-03)"
    );
}

/// The reference: "A single failed attempt increments a counter that results in a change of
/// the generated comparison string, which will cause STM verification to fail". Recovering an
/// initialized module needs a successful SO login, so a failure followed by that login must
/// still show: otherwise failed guesses made in transit leave no trace.
#[test]
fn failed_so_login_in_transport_is_not_masked_by_a_later_success() {
    let (mut hsm, strings) = initialized_in_transport();
    let intruder = hsm.open_access();
    assert_eq!(
        err_code(hsm.so_login(intruder, &secret("guessing-1234"))),
        ret::SR_RET_UM_PIN_INCORRECT
    );
    let so = hsm.login();
    assert_ne!(
        hsm.stm_verification(so, &strings.random_user_string)
            .expect("verification"),
        strings.verification_string,
        "the failed login before recovery must still change the verification string"
    );
}

#[test]
fn zeroize_in_transport_changes_verification() {
    // An initialized module: zeroize destroys the SO, domain and partitions.
    let (mut hsm, strings) = initialized_in_transport();
    hsm.zeroize().expect("zeroize works in STM");
    assert_eq!(hsm.status(), HsmStatus::TransportModeZeroized);
    let id = hsm.open_access();
    assert_ne!(
        hsm.stm_verification(id, &strings.random_user_string)
            .expect("a zeroized module needs no SO"),
        strings.verification_string
    );

    // A new module: zeroizing it again still marks the module as manually zeroized.
    let (mut hsm, strings) = fresh();
    hsm.zeroize().expect("zeroize a new module");
    assert_eq!(hsm.status(), HsmStatus::TransportModeZeroized);
    let id = hsm.open_access();
    assert_ne!(
        hsm.stm_verification(id, &strings.random_user_string)
            .expect("verification"),
        strings.verification_string
    );
}

/// Two copies of one module in STM share the nonce: the untouched copy reproduces the string,
/// the copy whose state changed does not.
#[test]
fn verification_follows_the_state_under_the_same_nonce() {
    let (hsm, strings) = initialized_in_transport();
    let (tmp, config) = hsm.close();

    let untouched = copy_module(&data_dir(&tmp));
    let (mut twin, shown) = Module::open(&data_dir(&untouched), config.clone()).expect("open");
    assert!(shown.is_none());
    let so = twin.open_access();
    twin.so_login(so, &secret(SO_PASSWORD)).expect("login");
    assert_eq!(
        twin.stm_verification(so, &strings.random_user_string)
            .expect("verification"),
        strings.verification_string
    );

    // Zeroized copy: SO, domain and partitions gone.
    let zeroized = copy_module(&data_dir(&tmp));
    let (mut twin, _) = Module::open(&data_dir(&zeroized), config.clone()).expect("open");
    twin.zeroize().expect("zeroize");
    let id = twin.open_access();
    assert_ne!(
        twin.stm_verification(id, &strings.random_user_string)
            .expect("verification"),
        strings.verification_string
    );

    // Copy with one failed SO login (made after a good one, so the counter stays raised).
    let failed = copy_module(&data_dir(&tmp));
    let (mut twin, _) = Module::open(&data_dir(&failed), config).expect("open");
    let so = twin.open_access();
    twin.so_login(so, &secret(SO_PASSWORD)).expect("login");
    let other = twin.open_access();
    assert_eq!(
        err_code(twin.so_login(other, &secret("wrong-password-1"))),
        ret::SR_RET_UM_PIN_INCORRECT
    );
    assert_ne!(
        twin.stm_verification(so, &strings.random_user_string)
            .expect("verification"),
        strings.verification_string
    );
}

/// Policies and partitions cannot change while in STM (refused, see below), so their part of
/// the protected state is checked across a transport: a policy changed and a partition created
/// before transport are captured when the strings are made, so recovery reproduces the string
/// (no false alarm) and finds the state intact; transporting again without them gives strings
/// that the earlier ones do not verify against.
#[test]
fn state_from_before_transport_is_captured() {
    let mut hsm = initialized();
    let so = hsm.login();
    hsm.change_policy(so, 49, 1).expect("policy 49");
    hsm.create(so, "before transport", PartitionSize::Bytes(20_000));
    let strings = hsm.stm_transport(so).expect("transport");
    let mut hsm = hsm.reopen();
    let so = hsm.login();
    assert_eq!(
        hsm.stm_verification(so, &strings.random_user_string)
            .expect("verification"),
        strings.verification_string
    );
    hsm.stm_recover(so).expect("recover");
    assert_eq!(hsm.status(), HsmStatus::Ok);
    assert_eq!(hsm.policies().get(49), 1);
    assert_eq!(hsm.partition_names(), ["before transport"]);

    // The same module transported again after deleting the partition and reverting the policy
    // gets a new nonce and new strings; its old strings no longer verify.
    let so = hsm.login();
    hsm.partition_delete(so, "before transport")
        .expect("delete");
    hsm.change_policy(so, 49, 0).expect("policy 49 off");
    let second = hsm.stm_transport(so).expect("transport again");
    let so = hsm.login();
    assert_eq!(
        hsm.stm_verification(so, &second.random_user_string)
            .expect("verification"),
        second.verification_string
    );
    assert_ne!(
        hsm.stm_verification(so, &strings.random_user_string)
            .expect("verification"),
        strings.verification_string
    );
}

#[test]
fn commands_refused_in_transport_except_status_login_and_zeroize() {
    // A new module cannot be initialized before it is recovered (LC-01).
    let (mut hsm, _) = fresh();
    let id = hsm.open_access();
    assert_eq!(
        err_code(hsm.init(id, hard_init("new_one", SO_PASSWORD, DOMAIN))),
        ret::SR_RET_OPERATION_RESTRICTED
    );
    assert_eq!(hsm.status(), HsmStatus::TransportModeZeroized);
    assert!(!hsm.is_initialized());
    assert_eq!(
        err_code(hsm.auditor_init(&secret("Auditor-pass-1"), &secret("audit domain"))),
        ret::SR_RET_OPERATION_RESTRICTED
    );
    assert!(!hsm.auditor_initialized());

    // An initialized module in STM.
    let mut hsm = initialized();
    let so = hsm.login();
    hsm.create(so, "kept", PartitionSize::Bytes(10_000));
    hsm.stm_transport(so).expect("transport");
    let so = hsm.login();
    let policies = hsm.policies().clone();
    assert_eq!(
        err_code(hsm.partition_create(so, "p2", PartitionSize::Default, 0)),
        ret::SR_RET_OPERATION_RESTRICTED
    );
    assert_eq!(
        err_code(hsm.change_policy(so, 49, 1)),
        ret::SR_RET_OPERATION_RESTRICTED
    );
    assert_eq!(
        err_code(hsm.init(so, soft_init("relabel", SO_PASSWORD))),
        ret::SR_RET_OPERATION_RESTRICTED
    );
    assert_eq!(
        err_code(hsm.partition_delete(so, "kept")),
        ret::SR_RET_OPERATION_RESTRICTED
    );
    assert_eq!(
        err_code(hsm.partition_resize(so, "kept", PartitionSize::Bytes(5_000))),
        ret::SR_RET_OPERATION_RESTRICTED
    );
    assert_eq!(
        err_code(hsm.so_change_password(so, &secret(SO_PASSWORD), &secret("Another-pass-9"))),
        ret::SR_RET_OPERATION_RESTRICTED
    );
    assert_eq!(
        err_code(hsm.stm_transport(so)),
        ret::SR_RET_OPERATION_RESTRICTED
    );
    // Nothing changed.
    assert_eq!(hsm.policies(), &policies);
    assert_eq!(hsm.partition_names(), ["kept"]);
    assert_eq!(hsm.show().label.as_deref(), Some(common::LABEL));
    assert_eq!(hsm.status(), HsmStatus::TransportMode);

    // Status queries work.
    assert!(hsm.show_policies().is_ok());
    assert_eq!(hsm.partition_show("kept").expect("show").total, 10_000);
    assert!(hsm.show().secure_transport_mode);

    // Logout and login work.
    hsm.so_logout(so).expect("logout");
    let so = hsm.login();
    assert!(hsm.so_logged_in(so));

    // Zeroize works and keeps the module in STM.
    hsm.zeroize().expect("zeroize");
    assert_eq!(hsm.status(), HsmStatus::TransportModeZeroized);
    assert!(hsm.partition_names().is_empty());
}

#[test]
fn transport_of_an_initialized_module_needs_the_so() {
    let mut hsm = initialized();
    let id = hsm.open_access();
    assert_eq!(
        err_code(hsm.stm_transport(id)),
        ret::SR_RET_USER_NOT_LOGGED_IN
    );
    assert_eq!(hsm.status(), HsmStatus::Ok);
    assert!(!hsm.in_transport());

    let so = hsm.login();
    let strings = hsm.stm_transport(so).expect("transport");
    assert!(is_stm_string(&strings.random_user_string));
    assert!(is_stm_string(&strings.verification_string));
    assert_eq!(hsm.status(), HsmStatus::TransportMode);

    // Verification and recovery need the SO too.
    let id = hsm.open_access();
    assert_eq!(
        err_code(hsm.stm_verification(id, &strings.random_user_string)),
        ret::SR_RET_USER_NOT_LOGGED_IN
    );
    assert_eq!(
        err_code(hsm.stm_recover(id)),
        ret::SR_RET_USER_NOT_LOGGED_IN
    );
    assert_eq!(hsm.status(), HsmStatus::TransportMode);
    let so = hsm.login();
    hsm.stm_recover(so).expect("recover");
    assert_eq!(hsm.status(), HsmStatus::Ok);
}

#[test]
fn transport_of_a_zeroized_module_needs_no_so() {
    let mut hsm = recovered();
    let id = hsm.open_access();
    let strings = hsm.stm_transport(id).expect("transport without SO");
    assert_eq!(hsm.status(), HsmStatus::TransportModeZeroized);
    assert_eq!(
        hsm.stm_verification(id, &strings.random_user_string)
            .expect("verification"),
        strings.verification_string
    );
    hsm.stm_recover(id).expect("recover without SO");
    assert_eq!(hsm.status(), HsmStatus::Zeroized);
}

#[test]
fn transport_of_a_decommissioned_module_reports_it() {
    let mut hsm = initialized();
    hsm.decommission().expect("decommission");
    let id = hsm.open_access();
    hsm.stm_transport(id).expect("transport");
    assert_eq!(hsm.status(), HsmStatus::TransportModeDecommissioned);
    hsm.stm_recover(id).expect("recover");
    assert_eq!(hsm.status(), HsmStatus::Decommissioned);
}

#[test]
fn recovery_with_a_wrong_string_still_leaves_transport_mode() {
    let (mut hsm, strings) = fresh();
    let id = hsm.open_access();
    let shown = hsm
        .stm_verification(id, "ZZZZ-9999-ZZZZ-9999")
        .expect("a different string is accepted (LC-07)");
    assert_ne!(shown, strings.verification_string);
    hsm.stm_recover(id).expect("proceed regardless");
    assert_eq!(hsm.status(), HsmStatus::Zeroized);
    assert!(!hsm.in_transport());
    let hsm = hsm.reopen();
    assert_eq!(hsm.status(), HsmStatus::Zeroized);
}

#[test]
fn recovery_outside_transport_is_refused() {
    let mut hsm = initialized();
    let so = hsm.login();
    assert_eq!(
        err_code(hsm.stm_recover(so)),
        ret::SR_RET_OPERATION_RESTRICTED
    );
    assert_eq!(
        err_code(hsm.stm_verification(so, "AAAA-AAAA-AAAA-AAAA")),
        ret::SR_RET_OPERATION_RESTRICTED
    );
    assert_eq!(hsm.status(), HsmStatus::Ok);
}

#[test]
fn transport_logs_everyone_out() {
    let mut hsm = initialized();
    let a = hsm.login();
    let b = hsm.login();
    assert!(hsm.so_logged_in(a) && hsm.so_logged_in(b));
    hsm.stm_transport(a).expect("transport");
    assert!(
        !hsm.so_logged_in(a),
        "the access that entered STM is logged out"
    );
    assert!(!hsm.so_logged_in(b), "every other access is logged out");
    assert!(!hsm.show().so_logged_in);
    // Nobody is logged in after recovery either.
    let so = hsm.login();
    hsm.stm_recover(so).expect("recover");
    assert!(!hsm.so_logged_in(a) && !hsm.so_logged_in(b));
}

#[test]
fn transport_is_refused_while_a_tamper_is_uncleared() {
    let mut hsm = initialized();
    hsm.raise_tamper(TamperKind::OverTemperature)
        .expect("raise tamper");
    let so = hsm.login();
    assert_eq!(err_code(hsm.stm_transport(so)), ret::SR_RET_HSM_TAMPERED);
    assert!(!hsm.in_transport());
}
