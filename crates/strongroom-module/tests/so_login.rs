//! HSM SO login, logout and password change (catalog RA-10..RA-12).
//!
//! Three consecutive wrong passwords zeroize the module (RA-11, LC-20): SO, domain and
//! partitions destroyed; policies and the Auditor kept. The counter is durable, so killing and
//! restarting the module does not reset it.

mod common;

use common::{Hsm, SO_PASSWORD, err_code, initialized, recovered, secret};
use strongroom_module::{HsmStatus, PartitionSize, SO_LOGIN_ATTEMPTS};
use strongroom_proto::ret;

const WRONG: &str = "Wrong-password-0";
const NEW_PASSWORD: &str = "Brand-new-SO-pass";

/// An initialized module with a non-default policy, an Auditor and two partitions.
fn populated() -> Hsm {
    let mut hsm = initialized();
    let so = hsm.login();
    hsm.change_policy(so, 49, 1).expect("policy 49");
    hsm.auditor_init(&secret("Auditor-pass-1"), &secret("audit domain"))
        .expect("auditor");
    hsm.create(so, "alpha", PartitionSize::Bytes(50_000));
    hsm.create(so, "beta", PartitionSize::Default);
    hsm.so_logout(so).expect("logout");
    hsm
}

/// One failed login through a new access; returns its code.
fn fail(hsm: &mut Hsm) -> strongroom_module::RetCode {
    let id = hsm.open_access();
    let code = err_code(hsm.so_login(id, &secret(WRONG)));
    assert!(!hsm.so_logged_in(id));
    code
}

#[test]
fn wrong_passwords_count_down_then_zeroize() {
    let mut hsm = populated();
    assert_eq!(SO_LOGIN_ATTEMPTS, 3);
    assert_eq!(hsm.show().so_attempts_left, 3);
    assert_eq!(fail(&mut hsm), ret::SR_RET_UM_PIN_INCORRECT);
    assert_eq!(hsm.show().so_attempts_left, 2);
    assert_eq!(fail(&mut hsm), ret::SR_RET_UM_PIN_INCORRECT);
    assert_eq!(hsm.show().so_attempts_left, 1);
    // Nothing is destroyed before the third failure.
    assert_eq!(hsm.status(), HsmStatus::Ok);
    assert_eq!(hsm.partition_names(), ["alpha", "beta"]);

    let policies = hsm.policies().clone();
    assert_eq!(fail(&mut hsm), ret::SR_RET_SO_LOGIN_FAILURE_THRESHOLD);
    let check = |hsm: &mut Hsm| {
        assert_eq!(hsm.status(), HsmStatus::Zeroized);
        assert!(!hsm.is_initialized());
        assert!(hsm.partition_names().is_empty());
        assert_eq!(hsm.storage().used, 0);
        assert_eq!(hsm.policies(), &policies, "policies kept (LC-20)");
        assert_eq!(hsm.policies().get(49), 1);
        assert!(hsm.auditor_initialized(), "Auditor kept (LC-20)");
        let info = hsm.show();
        assert_eq!(info.label, None);
        assert!(!info.manually_zeroized, "not a manual zeroize");
        assert_eq!(info.so_attempts_left, 3);
    };
    check(&mut hsm);
    let mut hsm = hsm.reopen();
    check(&mut hsm);
    // The old password is gone with the SO.
    let id = hsm.open_access();
    assert_eq!(
        err_code(hsm.so_login(id, &secret(SO_PASSWORD))),
        ret::SR_RET_HSM_NOT_INITIALIZED
    );
}

#[test]
fn a_success_in_between_resets_the_counter() {
    let mut hsm = initialized();
    assert_eq!(fail(&mut hsm), ret::SR_RET_UM_PIN_INCORRECT);
    assert_eq!(fail(&mut hsm), ret::SR_RET_UM_PIN_INCORRECT);
    let so = hsm.login();
    assert_eq!(hsm.show().so_attempts_left, 3);
    hsm.so_logout(so).expect("logout");
    assert_eq!(fail(&mut hsm), ret::SR_RET_UM_PIN_INCORRECT);
    assert_eq!(fail(&mut hsm), ret::SR_RET_UM_PIN_INCORRECT);
    assert_eq!(hsm.status(), HsmStatus::Ok);
    // The reset is durable too.
    let mut hsm = hsm.reopen();
    assert_eq!(hsm.show().so_attempts_left, 1);
    hsm.login();
    let mut hsm = hsm.reopen();
    assert_eq!(hsm.show().so_attempts_left, 3);
}

#[test]
fn the_counter_survives_a_restart() {
    let mut hsm = populated();
    assert_eq!(fail(&mut hsm), ret::SR_RET_UM_PIN_INCORRECT);
    let mut hsm = hsm.reopen();
    assert_eq!(hsm.show().so_attempts_left, 2);
    assert_eq!(fail(&mut hsm), ret::SR_RET_UM_PIN_INCORRECT);
    let mut hsm = hsm.reopen();
    assert_eq!(hsm.show().so_attempts_left, 1);
    assert_eq!(fail(&mut hsm), ret::SR_RET_SO_LOGIN_FAILURE_THRESHOLD);
    let hsm = hsm.reopen();
    assert_eq!(hsm.status(), HsmStatus::Zeroized);
    assert!(hsm.partition_names().is_empty());
}

#[test]
fn login_on_a_zeroized_module_is_refused() {
    let mut hsm = recovered();
    let id = hsm.open_access();
    assert_eq!(
        err_code(hsm.so_login(id, &secret(SO_PASSWORD))),
        ret::SR_RET_HSM_NOT_INITIALIZED
    );
    assert!(!hsm.so_logged_in(id));
    assert_eq!(hsm.status(), HsmStatus::Zeroized);
}

#[test]
fn double_login_and_logout_without_login() {
    let mut hsm = initialized();
    let so = hsm.login();
    assert_eq!(
        err_code(hsm.so_login(so, &secret(SO_PASSWORD))),
        ret::SR_RET_USER_ALREADY_LOGGED_IN
    );
    // A wrong password on an access that is already logged in is not counted.
    assert_eq!(
        err_code(hsm.so_login(so, &secret(WRONG))),
        ret::SR_RET_USER_ALREADY_LOGGED_IN
    );
    assert_eq!(hsm.show().so_attempts_left, 3);
    assert!(hsm.so_logged_in(so));

    hsm.so_logout(so).expect("logout");
    assert!(!hsm.so_logged_in(so));
    assert_eq!(err_code(hsm.so_logout(so)), ret::SR_RET_USER_NOT_LOGGED_IN);
    let never = hsm.open_access();
    assert_eq!(
        err_code(hsm.so_logout(never)),
        ret::SR_RET_USER_NOT_LOGGED_IN
    );
}

#[test]
fn login_state_is_per_access() {
    let mut hsm = initialized();
    let a = hsm.login();
    let b = hsm.open_access();
    assert!(hsm.so_logged_in(a));
    assert!(!hsm.so_logged_in(b));
    assert!(hsm.info(a).so_logged_in);
    assert!(!hsm.info(b).so_logged_in);
    assert_eq!(
        err_code(hsm.change_policy(b, 49, 1)),
        ret::SR_RET_USER_NOT_LOGGED_IN
    );
    assert_eq!(
        err_code(hsm.partition_create(b, "p", PartitionSize::Default, 0)),
        ret::SR_RET_USER_NOT_LOGGED_IN
    );
    assert!(hsm.partition_names().is_empty());
    assert_eq!(hsm.policies().get(49), 0);

    // Logging out or closing one access leaves the other logged in.
    let c = hsm.login();
    hsm.so_logout(a).expect("logout a");
    assert!(hsm.so_logged_in(c));
    hsm.close_access(c);
    assert!(!hsm.so_logged_in(c));
    // A closed access cannot log in, and the attempt is not counted.
    assert_eq!(
        err_code(hsm.so_login(c, &secret(WRONG))),
        ret::SR_RET_ARGUMENTS_BAD
    );
    assert_eq!(hsm.show().so_attempts_left, 3);

    // Logins do not survive a restart.
    let d = hsm.login();
    let mut hsm = hsm.reopen();
    assert!(!hsm.so_logged_in(d));
    let e = hsm.open_access();
    assert!(!hsm.so_logged_in(e));
}

#[test]
fn change_password_needs_the_so() {
    let mut hsm = initialized();
    let id = hsm.open_access();
    assert_eq!(
        err_code(hsm.so_change_password(id, &secret(SO_PASSWORD), &secret(NEW_PASSWORD))),
        ret::SR_RET_USER_NOT_LOGGED_IN
    );
    // The password did not change.
    let mut hsm = hsm.reopen();
    hsm.login_with(SO_PASSWORD);
}

#[test]
fn change_password_with_a_wrong_old_password_counts_as_a_failure() {
    let mut hsm = populated();
    let so = hsm.login();
    for left in [2u8, 1] {
        assert_eq!(
            err_code(hsm.so_change_password(so, &secret(WRONG), &secret(NEW_PASSWORD))),
            ret::SR_RET_UM_PIN_INCORRECT
        );
        assert_eq!(hsm.show().so_attempts_left, left);
    }
    assert_eq!(
        err_code(hsm.so_change_password(so, &secret(WRONG), &secret(NEW_PASSWORD))),
        ret::SR_RET_SO_LOGIN_FAILURE_THRESHOLD
    );
    assert_eq!(hsm.status(), HsmStatus::Zeroized);
    assert!(hsm.partition_names().is_empty());
    assert!(hsm.auditor_initialized());
}

#[test]
fn change_password_enforces_the_password_rules() {
    let mut hsm = initialized();
    let so = hsm.login();
    for (new, code) in [
        ("short12", ret::SR_RET_UM_PIN_LEN_RANGE),
        (&*"x".repeat(256), ret::SR_RET_UM_PIN_LEN_RANGE),
        (" leading-space", ret::SR_RET_UM_PIN_INVALID),
        ("has<angle>brackets", ret::SR_RET_UM_PIN_INVALID),
        ("has\"quote\"", ret::SR_RET_UM_PIN_INVALID),
        ("amp&ersand", ret::SR_RET_UM_PIN_INVALID),
        ("back`tick1", ret::SR_RET_UM_PIN_INVALID),
    ] {
        assert_eq!(
            err_code(hsm.so_change_password(so, &secret(SO_PASSWORD), &secret(new))),
            code,
            "new password {new:?}"
        );
    }
    assert_eq!(
        hsm.show().so_attempts_left,
        3,
        "rule refusals are not failures"
    );
    let mut hsm = hsm.reopen();
    hsm.login_with(SO_PASSWORD);
}

#[test]
fn changed_password_works_after_a_restart_and_the_old_one_does_not() {
    let mut hsm = initialized();
    let so = hsm.login();
    hsm.so_change_password(so, &secret(SO_PASSWORD), &secret(NEW_PASSWORD))
        .expect("change password");
    let mut hsm = hsm.reopen();
    let id = hsm.open_access();
    assert_eq!(
        err_code(hsm.so_login(id, &secret(SO_PASSWORD))),
        ret::SR_RET_UM_PIN_INCORRECT
    );
    assert_eq!(hsm.show().so_attempts_left, 2);
    let so = hsm.login_with(NEW_PASSWORD);
    assert!(hsm.so_logged_in(so));
    assert_eq!(hsm.show().so_attempts_left, 3);
    assert_eq!(hsm.status(), HsmStatus::Ok);
}
