//! Tamper events and controlled tamper recovery (catalog LC-30..LC-35, MO-01; reference
//! chapter 8 "Tamper Events").
//!
//! With policy 48 on (the default) a tamper halts the module until the HSM SO clears it and the
//! module is restarted; policy 40 decommissions the module on any tamper, and battery tampers
//! always decommission.

mod common;

use common::{
    Hsm, LABEL, SO_PASSWORD, err_code, hard_init, initialized, recovered, secret, soft_init,
};
use strongroom_module::{HsmStatus, PartitionSize, Policies, TamperKind};
use strongroom_proto::ret;

/// A module with something to lose: a policy value, an Auditor and two partitions. The SO is
/// logged out again.
fn populated(policies: &[(u8, u32)]) -> Hsm {
    let mut hsm = initialized();
    let so = hsm.login();
    for &(id, value) in policies {
        hsm.change_policy(so, id, value).expect("policy");
    }
    hsm.change_policy(so, 49, 1).expect("policy 49");
    hsm.auditor_init(&secret("Auditor-pass-1"), &secret("audit domain"))
        .expect("auditor");
    hsm.create(so, "first", PartitionSize::Default);
    hsm.create(so, "second", PartitionSize::Bytes(40_000));
    hsm.so_logout(so).expect("logout");
    hsm
}

fn battery(kind: TamperKind) -> bool {
    matches!(
        kind,
        TamperKind::BatteryRemoval | TamperKind::BatteryDepletion
    )
}

/// Every administrative operation is refused with `SR_RET_HSM_TAMPERED`, even for the SO, and
/// nothing changes.
#[track_caller]
fn assert_admin_refused(hsm: &mut Hsm) {
    let so = hsm.open_access();
    if hsm.is_initialized() {
        hsm.so_login(so, &secret(SO_PASSWORD))
            .expect("SO login works while tampered");
    }
    let names = hsm.partition_names();
    let policies: Policies = hsm.policies().clone();
    let status = hsm.status();
    let t = ret::SR_RET_HSM_TAMPERED;
    assert_eq!(
        err_code(hsm.partition_create(so, "new", PartitionSize::Default, 0)),
        t
    );
    assert_eq!(err_code(hsm.partition_delete(so, "first")), t);
    assert_eq!(
        err_code(hsm.partition_resize(so, "first", PartitionSize::Bytes(1_000))),
        t
    );
    assert_eq!(err_code(hsm.change_policy(so, 58, 1)), t);
    assert_eq!(err_code(hsm.preview_policy_change(so, 58, 1)), t);
    assert_eq!(err_code(hsm.init(so, soft_init("relabel", SO_PASSWORD))), t);
    assert_eq!(err_code(hsm.stm_transport(so)), t);
    assert_eq!(
        err_code(hsm.so_change_password(so, &secret(SO_PASSWORD), &secret("Other-pass-1"))),
        t
    );
    assert_eq!(
        err_code(hsm.auditor_init(&secret("Auditor-pass-2"), &secret("audit domain"))),
        t
    );
    assert_eq!(hsm.partition_names(), names);
    assert_eq!(hsm.policies(), &policies);
    assert_eq!(hsm.status(), status);
    hsm.close_access(so);
}

/// Status operations keep working while tampered.
#[track_caller]
fn assert_status_works(hsm: &mut Hsm) {
    let info = hsm.show();
    assert!(info.tamper_detected);
    assert!(hsm.show_policies().is_ok());
    assert!(hsm.partition_list().is_ok());
    let report = hsm.tamper_report();
    assert!(report.active);
    assert!(report.last.is_some());
}

#[test]
fn each_tamper_halts_until_the_so_clears_and_the_module_restarts() {
    for kind in TamperKind::ALL.into_iter().filter(|k| !battery(*k)) {
        let mut hsm = populated(&[]);
        assert!(hsm.policies().is_on(48), "policy 48 defaults to on");
        assert!(!hsm.policies().is_on(40), "policy 40 defaults to off");
        let before_policies = hsm.policies().clone();
        let logged_in = hsm.login();

        let event = hsm.raise_tamper(kind).expect("raise tamper");
        assert_eq!(event.kind, kind);
        assert!(!event.decommissioned, "{kind:?}");
        assert_eq!(hsm.status(), HsmStatus::HardwareTamper, "{kind:?}");
        assert!(!hsm.so_logged_in(logged_in), "a tamper logs everyone out");
        let report = hsm.tamper_report();
        assert!(report.active && report.clear_required && report.restart_required);
        assert_eq!(report.last.as_ref(), Some(&event));
        assert_status_works(&mut hsm);
        assert_admin_refused(&mut hsm);

        // Clearing needs the SO.
        let nobody = hsm.open_access();
        assert_eq!(
            err_code(hsm.tamper_clear(nobody)),
            ret::SR_RET_USER_NOT_LOGGED_IN,
            "{kind:?}"
        );
        // A restart before the clear keeps the module locked.
        hsm.restart().expect("restart");
        assert_eq!(hsm.status(), HsmStatus::HardwareTamper, "{kind:?}");
        assert!(hsm.tamper_report().clear_required);
        assert_admin_refused(&mut hsm);

        let so = hsm.login();
        hsm.tamper_clear(so).expect("clear");
        let report = hsm.tamper_report();
        assert!(report.active && !report.clear_required && report.restart_required);
        assert_eq!(
            hsm.status(),
            HsmStatus::HardwareTamper,
            "restart still needed"
        );
        assert_admin_refused(&mut hsm);

        hsm.restart().expect("restart");
        assert!(!hsm.so_logged_in(so), "a restart logs everyone out");
        assert_eq!(hsm.status(), HsmStatus::Ok, "{kind:?}");
        assert!(!hsm.tamper_report().active);
        assert!(!hsm.show().tamper_detected);

        // Data intact, and durable.
        let mut hsm = hsm.reopen();
        assert_eq!(hsm.status(), HsmStatus::Ok);
        assert_eq!(hsm.partition_names(), ["first", "second"]);
        assert_eq!(hsm.policies(), &before_policies);
        assert!(hsm.auditor_initialized());
        assert_eq!(hsm.show().label.as_deref(), Some(LABEL));
        let so = hsm.login();
        hsm.create(so, "after", PartitionSize::Bytes(10_000));
    }
}

/// LC-31: while tampered only status commands, tamper show/clear and SO login work. The HSM SO
/// zeroizing the module is an administrative command like any other.
#[test]
fn zeroize_is_refused_while_tampered() {
    let mut hsm = populated(&[]);
    hsm.raise_tamper(TamperKind::ChassisIntrusion)
        .expect("raise tamper");
    assert_eq!(err_code(hsm.zeroize()), ret::SR_RET_HSM_TAMPERED);
    assert!(hsm.is_initialized());
    assert_eq!(hsm.partition_names(), ["first", "second"]);
}

#[test]
fn battery_tampers_always_decommission() {
    for kind in [TamperKind::BatteryRemoval, TamperKind::BatteryDepletion] {
        let mut hsm = populated(&[]);
        assert!(!hsm.policies().is_on(40));
        let policies = hsm.policies().clone();
        let event = hsm.raise_tamper(kind).expect("raise tamper");
        assert!(event.decommissioned, "{kind:?}");
        assert_eq!(hsm.status(), HsmStatus::TamperDecommissioned);
        assert!(hsm.partition_names().is_empty());
        assert!(
            !hsm.auditor_initialized(),
            "decommission deletes the Auditor"
        );
        assert_eq!(hsm.policies(), &policies, "decommission keeps the policies");
        let id = hsm.open_access();
        assert_eq!(
            err_code(hsm.so_login(id, &secret(SO_PASSWORD))),
            ret::SR_RET_HSM_NOT_INITIALIZED,
            "the SO is gone"
        );
        // No SO exists, so none is needed to clear (policy 48 on).
        assert!(hsm.tamper_report().clear_required);
        hsm.tamper_clear(id).expect("clear without SO");
        assert_eq!(hsm.status(), HsmStatus::TamperDecommissioned);
        hsm.restart().expect("restart");
        assert_eq!(hsm.status(), HsmStatus::Decommissioned);
        let mut hsm = hsm.reopen();
        assert_eq!(hsm.status(), HsmStatus::Decommissioned);
        let id = hsm.open_access();
        hsm.init(id, hard_init(LABEL, SO_PASSWORD, "new domain"))
            .expect("hard init after decommission");
        assert_eq!(hsm.status(), HsmStatus::Ok);
    }
}

#[test]
fn policy_40_decommissions_on_any_tamper_and_no_so_is_needed_to_clear() {
    for kind in TamperKind::ALL {
        let mut hsm = populated(&[(40, 1)]);
        let policies = hsm.policies().clone();
        let event = hsm.raise_tamper(kind).expect("raise tamper");
        assert!(event.decommissioned, "{kind:?}");
        assert_eq!(hsm.status(), HsmStatus::TamperDecommissioned);
        assert!(!hsm.is_initialized());
        assert!(hsm.partition_names().is_empty());
        assert!(!hsm.auditor_initialized());
        assert_eq!(hsm.policies(), &policies);
        assert_admin_refused(&mut hsm);
        let id = hsm.open_access();
        hsm.tamper_clear(id).expect("40 + 48: clear needs no SO");
        hsm.restart().expect("restart");
        assert_eq!(hsm.status(), HsmStatus::Decommissioned, "{kind:?}");
    }
}

#[test]
fn policy_40_on_and_48_off_decommissions_and_needs_only_a_restart() {
    let mut hsm = populated(&[(40, 1), (48, 0)]);
    hsm.raise_tamper(TamperKind::UnderVoltage)
        .expect("raise tamper");
    assert_eq!(hsm.status(), HsmStatus::TamperDecommissioned);
    assert!(!hsm.tamper_report().clear_required);
    hsm.restart().expect("restart");
    assert_eq!(hsm.status(), HsmStatus::Decommissioned);
}

#[test]
fn policy_48_off_needs_only_a_restart() {
    let mut hsm = populated(&[(48, 0)]);
    let policies = hsm.policies().clone();
    let event = hsm
        .raise_tamper(TamperKind::CardRemoval)
        .expect("raise tamper");
    assert!(!event.decommissioned);
    assert_eq!(hsm.status(), HsmStatus::HardwareTamper);
    let report = hsm.tamper_report();
    assert!(report.active && !report.clear_required && report.restart_required);
    assert_admin_refused(&mut hsm);
    hsm.restart().expect("restart");
    assert_eq!(hsm.status(), HsmStatus::Ok);
    assert_eq!(hsm.partition_names(), ["first", "second"]);
    assert_eq!(hsm.policies(), &policies);
    assert!(hsm.auditor_initialized());
}

#[test]
fn a_tamper_on_a_zeroized_module() {
    let mut hsm = recovered();
    hsm.raise_tamper(TamperKind::OverVoltage)
        .expect("raise tamper");
    assert_eq!(hsm.status(), HsmStatus::HardwareTamperZeroized);
    let id = hsm.open_access();
    assert_eq!(
        err_code(hsm.init(id, hard_init(LABEL, SO_PASSWORD, "domain"))),
        ret::SR_RET_HSM_TAMPERED
    );
    hsm.tamper_clear(id).expect("no SO exists to clear");
    hsm.restart().expect("restart");
    assert_eq!(hsm.status(), HsmStatus::Zeroized);
}

#[test]
fn clear_without_a_tamper_is_refused() {
    let mut hsm = initialized();
    let so = hsm.login();
    assert_eq!(
        err_code(hsm.tamper_clear(so)),
        ret::SR_RET_OPERATION_RESTRICTED
    );
    let report = hsm.tamper_report();
    assert!(!report.active && report.last.is_none() && report.history.is_empty());
    // A restart of a healthy module is harmless.
    hsm.restart().expect("restart");
    assert_eq!(hsm.status(), HsmStatus::Ok);
}

#[test]
fn tamper_report_keeps_the_history_and_the_last_event() {
    let mut hsm = populated(&[]);
    let first = hsm
        .raise_tamper(TamperKind::ChassisIntrusion)
        .expect("raise tamper");
    let so = hsm.login();
    hsm.tamper_clear(so).expect("clear");
    hsm.restart().expect("restart");
    let second = hsm
        .raise_tamper(TamperKind::OverTemperature)
        .expect("raise tamper");
    let so = hsm.login();
    hsm.tamper_clear(so).expect("clear");
    hsm.restart().expect("restart");

    let check = |hsm: &Hsm| {
        let report = hsm.tamper_report();
        assert!(!report.active);
        assert_eq!(
            report.last.as_ref(),
            Some(&second),
            "the last event stays visible"
        );
        assert_eq!(report.history, [first.clone(), second.clone()]);
    };
    check(&hsm);
    let mut hsm = hsm.reopen();
    check(&hsm);
    assert_eq!(
        hsm.tamper_report().last.map(|e| e.kind.description()),
        Some("Over temperature")
    );

    // A factory reset clears the history.
    hsm.factory_reset().expect("factory reset");
    let report = hsm.tamper_report();
    assert!(report.history.is_empty() && report.last.is_none());
}

#[test]
fn an_uncleared_tamper_survives_a_restart_of_the_module() {
    let mut hsm = populated(&[]);
    let event = hsm
        .raise_tamper(TamperKind::UnderTemperature)
        .expect("raise tamper");
    let mut hsm = hsm.reopen();
    assert_eq!(hsm.status(), HsmStatus::HardwareTamper);
    let report = hsm.tamper_report();
    assert!(report.active && report.clear_required);
    assert_eq!(report.last, Some(event));
    assert_admin_refused(&mut hsm);
    let so = hsm.login();
    hsm.tamper_clear(so).expect("clear");
    hsm.restart().expect("restart");
    assert_eq!(hsm.status(), HsmStatus::Ok);
    assert_eq!(hsm.partition_names(), ["first", "second"]);
}

#[test]
fn tamper_kind_names_round_trip() {
    for kind in TamperKind::ALL {
        assert_eq!(TamperKind::from_name(kind.name()), Some(kind));
        assert_eq!(
            TamperKind::from_name(&kind.name().to_uppercase()),
            Some(kind)
        );
    }
    assert_eq!(TamperKind::from_name("earthquake"), None);
}
