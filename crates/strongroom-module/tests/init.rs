//! `hsm init`: hard init on a zeroized module, soft init on an initialized one (catalog LC-10..
//! LC-16), the label, password and domain rules (LC-12, RA-01, RA-03) and policy templates at
//! init (LC-14, PO-40..PO-44).

mod common;

use common::{
    DOMAIN, Hsm, LABEL, SO_PASSWORD, err_code, hard_init, initialized, recovered, secret, soft_init,
};
use strongroom_module::{HsmStatus, InitKind, InitRequest, PartitionSize, RetCode};
use strongroom_proto::ret;

/// Asserts that a refused hard init left the module exactly as it was: zeroized, unlabelled.
#[track_caller]
fn assert_still_zeroized(hsm: &mut Hsm) {
    assert_eq!(hsm.status(), HsmStatus::Zeroized);
    assert!(!hsm.is_initialized());
    assert_eq!(hsm.init_kind(), InitKind::Hard);
    assert_eq!(hsm.show().label, None);
}

/// Tries a hard init that must be refused with `code`, and checks that nothing changed.
#[track_caller]
fn refused(hsm: &mut Hsm, req: InitRequest, code: RetCode, what: &str) {
    let id = hsm.open_access();
    let got = err_code(hsm.init(id, req));
    assert_eq!(got, code, "{what}: got {got}");
    assert_still_zeroized(hsm);
}

/// Hard-inits a new module and returns it.
#[track_caller]
fn accepted(req: InitRequest) -> Hsm {
    let mut hsm = recovered();
    let id = hsm.open_access();
    assert_eq!(hsm.init(id, req).expect("hard init"), InitKind::Hard);
    assert_eq!(hsm.status(), HsmStatus::Ok);
    hsm
}

// ----- label (LC-12) -----

#[test]
fn label_boundaries() {
    let mut hsm = recovered();
    let too_long_with_bad_tail = format!("{}{}", "a".repeat(33), "-bad!");
    for bad in [
        "",
        "with space",
        "dash-ed",
        "dot.ted",
        "é_accent",
        "tab\t",
        too_long_with_bad_tail.as_str(),
    ] {
        refused(
            &mut hsm,
            hard_init(bad, SO_PASSWORD, DOMAIN),
            ret::SR_RET_DATA_INVALID,
            &format!("label {bad:?}"),
        );
    }

    let mut one = accepted(hard_init("x", SO_PASSWORD, DOMAIN));
    assert_eq!(one.show().label.as_deref(), Some("x"));

    let exactly_32 = "Abc_0123456789_abcdefghijklmnopq";
    assert_eq!(exactly_32.len(), 32);
    let mut kept = accepted(hard_init(exactly_32, SO_PASSWORD, DOMAIN));
    assert_eq!(kept.show().label.as_deref(), Some(exactly_32));

    let forty = "ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789abc";
    assert_eq!(forty.len(), 40);
    let truncated = accepted(hard_init(forty, SO_PASSWORD, DOMAIN));
    let mut truncated = truncated.reopen();
    assert_eq!(truncated.show().label.as_deref(), Some(&forty[..32]));
}

// ----- password (RA-01) -----

#[test]
fn password_boundaries_refused() {
    let mut hsm = recovered();
    let cases: Vec<(String, RetCode)> = vec![
        (String::new(), ret::SR_RET_UM_PIN_LEN_RANGE),
        ("a".repeat(7), ret::SR_RET_UM_PIN_LEN_RANGE),
        ("a".repeat(256), ret::SR_RET_UM_PIN_LEN_RANGE),
        (" leading-space".to_owned(), ret::SR_RET_UM_PIN_INVALID),
        ("quote\"inside".to_owned(), ret::SR_RET_UM_PIN_INVALID),
        ("less<than-1".to_owned(), ret::SR_RET_UM_PIN_INVALID),
        ("greater>than".to_owned(), ret::SR_RET_UM_PIN_INVALID),
        ("amp&ersand1".to_owned(), ret::SR_RET_UM_PIN_INVALID),
        ("back`tick12".to_owned(), ret::SR_RET_UM_PIN_INVALID),
        ("non-ascii-é1".to_owned(), ret::SR_RET_UM_PIN_INVALID),
        ("new\nline-123".to_owned(), ret::SR_RET_UM_PIN_INVALID),
    ];
    for (password, code) in cases {
        refused(
            &mut hsm,
            hard_init("label", &password, DOMAIN),
            code,
            &format!("password {password:?}"),
        );
    }
}

#[test]
fn password_boundaries_accepted() {
    for password in [
        "a".repeat(8),
        "b".repeat(255),
        "inner space ok".to_owned(),
        "trailing space ".to_owned(),
        "!#$%'()*+,-./:;=?@[\\]^_{|}~".to_owned(),
    ] {
        let hsm = accepted(hard_init("label", &password, DOMAIN));
        let mut hsm = hsm.reopen();
        let id = hsm.login_with(&password);
        assert!(hsm.so_logged_in(id), "password {password:?}");
    }
}

// ----- domain (RA-03) -----

#[test]
fn domain_boundaries_refused() {
    let mut hsm = recovered();
    let mut cases: Vec<String> = vec![
        String::new(),
        "d".repeat(129),
        " leading space".to_owned(),
        "non-ascii é".to_owned(),
    ];
    for c in ['"', '&', ';', '<', '>', '?', '\\', '`', '|'] {
        cases.push(format!("domain{c}string"));
    }
    for domain in cases {
        refused(
            &mut hsm,
            hard_init("label", SO_PASSWORD, &domain),
            ret::SR_RET_DATA_INVALID,
            &format!("domain {domain:?}"),
        );
    }
    // A hard init needs a domain string.
    let mut req = hard_init("label", SO_PASSWORD, DOMAIN);
    req.domain = None;
    refused(&mut hsm, req, ret::SR_RET_DATA_INVALID, "no domain");
}

#[test]
fn domain_boundaries_accepted() {
    for domain in [
        "d".to_owned(),
        "D".repeat(128),
        "Az09 !@#$%^*_-=+[]{}()/:',.~".to_owned(),
    ] {
        let hsm = accepted(hard_init("label", SO_PASSWORD, &domain));
        assert!(hsm.is_initialized(), "domain {domain:?}");
    }
}

// ----- soft init (LC-11) -----

#[test]
fn soft_init_needs_the_so() {
    let mut hsm = initialized();
    let so = hsm.login();
    hsm.create(so, "p1", PartitionSize::Bytes(20_000));
    let other = hsm.open_access();
    assert_eq!(
        err_code(hsm.init(other, soft_init("relabelled", SO_PASSWORD))),
        ret::SR_RET_USER_NOT_LOGGED_IN
    );
    assert_eq!(hsm.partition_names(), ["p1"]);
    assert_eq!(hsm.show().label.as_deref(), Some(LABEL));
}

#[test]
fn soft_init_keeps_so_and_domain_relabels_and_destroys_partitions() {
    let mut hsm = initialized();
    let so = hsm.login();
    hsm.create(so, "p1", PartitionSize::Default);
    hsm.create(so, "p2", PartitionSize::Bytes(30_000));
    hsm.change_policy(so, 49, 1).expect("policy 49");
    hsm.auditor_init(&secret("Auditor-pass-1"), &secret("audit domain"))
        .expect("auditor");
    let policies = hsm.policies().clone();

    // A domain given on a soft init is ignored: the existing one is kept.
    let mut req = soft_init("relabelled", SO_PASSWORD);
    req.domain = Some(secret("a different domain"));
    assert_eq!(hsm.init(so, req).expect("soft init"), InitKind::Soft);

    assert!(!hsm.so_logged_in(so), "init logs the SO out");
    let check = |hsm: &mut Hsm| {
        assert_eq!(hsm.status(), HsmStatus::Ok);
        assert_eq!(hsm.show().label.as_deref(), Some("relabelled"));
        assert!(hsm.partition_names().is_empty());
        assert_eq!(hsm.storage().used, 0);
        assert_eq!(hsm.policies(), &policies);
        assert!(hsm.auditor_initialized());
        // The SO and the domain were kept: the next init is soft again.
        assert_eq!(hsm.init_kind(), InitKind::Soft);
    };
    check(&mut hsm);
    let mut hsm = hsm.reopen();
    check(&mut hsm);
    // The old password still logs in and still passes a soft init's check.
    let so = hsm.login_with(SO_PASSWORD);
    assert_eq!(
        hsm.init(so, soft_init(LABEL, SO_PASSWORD))
            .expect("soft init again"),
        InitKind::Soft
    );
    assert_eq!(hsm.show().label.as_deref(), Some(LABEL));
}

#[test]
fn soft_init_with_a_wrong_password_counts_as_a_failed_so_login() {
    let mut hsm = initialized();
    let so = hsm.login();
    hsm.create(so, "p1", PartitionSize::Bytes(20_000));
    for left in [2u8, 1] {
        assert_eq!(
            err_code(hsm.init(so, soft_init("relabelled", "not-the-password"))),
            ret::SR_RET_UM_PIN_INCORRECT
        );
        assert_eq!(hsm.show().so_attempts_left, left);
        assert_eq!(hsm.partition_names(), ["p1"], "nothing destroyed");
        assert_eq!(hsm.show().label.as_deref(), Some(LABEL));
    }
    assert_eq!(
        err_code(hsm.init(so, soft_init("relabelled", "not-the-password"))),
        ret::SR_RET_SO_LOGIN_FAILURE_THRESHOLD
    );
    assert_eq!(hsm.status(), HsmStatus::Zeroized);
    assert!(hsm.partition_names().is_empty());
}

#[test]
fn soft_init_refuses_a_template() {
    let mut hsm = initialized();
    let so = hsm.login();
    hsm.create(so, "p1", PartitionSize::Bytes(20_000));
    let template = hsm.export_template(so).expect("export");
    let policies = hsm.policies().clone();
    let mut req = soft_init("relabelled", SO_PASSWORD);
    req.template = Some(template);
    assert_eq!(
        err_code(hsm.init(so, req)),
        ret::SR_RET_OPERATION_RESTRICTED
    );
    assert_eq!(hsm.partition_names(), ["p1"]);
    assert_eq!(hsm.policies(), &policies);
    assert_eq!(hsm.show().label.as_deref(), Some(LABEL));
    assert_eq!(
        hsm.show().so_attempts_left,
        3,
        "not counted as a failed login"
    );
}

#[test]
fn soft_init_with_an_invalid_label_changes_nothing() {
    let mut hsm = initialized();
    let so = hsm.login();
    hsm.create(so, "p1", PartitionSize::Bytes(20_000));
    assert_eq!(
        err_code(hsm.init(so, soft_init("bad label", SO_PASSWORD))),
        ret::SR_RET_DATA_INVALID
    );
    assert_eq!(hsm.partition_names(), ["p1"]);
    assert_eq!(hsm.show().label.as_deref(), Some(LABEL));
}

#[test]
fn init_logs_everyone_out() {
    let mut hsm = initialized();
    let a = hsm.login();
    let b = hsm.login();
    hsm.init(a, soft_init("again", SO_PASSWORD))
        .expect("soft init");
    assert!(!hsm.so_logged_in(a));
    assert!(!hsm.so_logged_in(b));
}

#[test]
fn auth_time_config_is_accepted() {
    let mut req = hard_init(LABEL, SO_PASSWORD, DOMAIN);
    req.auth_time_config = true;
    let mut hsm = accepted(req);
    let so = hsm.login();
    let mut req = soft_init(LABEL, SO_PASSWORD);
    req.auth_time_config = true;
    assert_eq!(hsm.init(so, req).expect("soft init"), InitKind::Soft);
    let hsm = hsm.reopen();
    assert_eq!(hsm.status(), HsmStatus::Ok);
}

// ----- templates (LC-14, PO-40..PO-44) -----

/// `template` with the line of policy `id` replaced by one giving it `value`.
fn with_value(template: &str, id: u8, value: &str) -> String {
    let prefix = format!("{id}:");
    let mut found = false;
    let out: Vec<String> = template
        .lines()
        .map(|line| {
            if line.starts_with(&prefix) {
                found = true;
                let (head, _) = line.rsplit_once(':').expect("template line");
                format!("{head}:{value}")
            } else {
                line.to_owned()
            }
        })
        .collect();
    assert!(found, "policy {id} is in the template");
    out.join("\n") + "\n"
}

/// `template` with the description field of policy `id` removed (`7:1`).
fn without_description(template: &str, id: u8) -> String {
    let prefix = format!("{id}:\"");
    let out: Vec<String> = template
        .lines()
        .map(|line| match line.strip_prefix(&prefix) {
            Some(rest) => format!("{id}:{}", rest.rsplit_once(':').expect("value").1),
            None => line.to_owned(),
        })
        .collect();
    let out = out.join("\n") + "\n";
    assert_ne!(out, template);
    out
}

#[test]
fn template_values_are_applied_at_hard_init() {
    let mut source = initialized();
    let so = source.login();
    source.change_policy(so, 49, 1).expect("policy 49");
    source.change_policy(so, 16, 0).expect("policy 16");
    let exported = source.export_template(so).expect("export");
    assert!(exported.contains("49:\""), "{exported}");
    let edited = with_value(&exported, 21, "0");

    let mut target = recovered();
    let defaults = target.policies().clone();
    let id = target.open_access();
    let mut req = hard_init("target", SO_PASSWORD, DOMAIN);
    req.template = Some(edited);
    assert_eq!(target.init(id, req).expect("init"), InitKind::Hard);

    source.change_policy(so, 21, 0).expect("policy 21");
    assert_eq!(target.policies(), source.policies());
    assert_eq!(target.policies().get(49), 1);
    assert_eq!(target.policies().get(16), 0);
    assert_eq!(target.policies().get(21), 0);
    assert_ne!(target.policies(), &defaults);
    let target = target.reopen();
    assert_eq!(target.policies(), source.policies());
}

#[test]
fn omitted_template_lines_take_their_defaults() {
    let mut hsm = recovered();
    let defaults = hsm.policies().clone();
    let id = hsm.open_access();
    let mut req = hard_init(LABEL, SO_PASSWORD, DOMAIN);
    req.template = Some("# only one line\n49:\"anything\":1\n".to_owned());
    hsm.init(id, req).expect("init");
    assert_eq!(hsm.policies().get(49), 1);
    for policy in [
        6u8, 7, 12, 15, 16, 21, 22, 30, 33, 39, 40, 43, 46, 48, 56, 57, 58,
    ] {
        assert_eq!(
            hsm.policies().get(policy),
            defaults.get(policy),
            "policy {policy}"
        );
    }
}

#[test]
fn an_uninitialized_module_exports_its_values_without_the_so() {
    let mut hsm = recovered();
    let id = hsm.open_access();
    let template = hsm.export_template(id).expect("export without SO (PO-40)");
    assert!(template.starts_with("# Policy template FW Version "));
    assert!(template.contains("33:\"Current maximum number of partitions\":100"));

    let mut hsm = initialized();
    let id = hsm.open_access();
    assert_eq!(
        err_code(hsm.export_template(id)),
        ret::SR_RET_USER_NOT_LOGGED_IN
    );
}

#[test]
fn an_invalid_template_makes_init_fail_with_nothing_changed() {
    let mut hsm = recovered();
    let id = hsm.open_access();
    let base = hsm.export_template(id).expect("export");
    let before = hsm.policies().clone();
    let cases = [
        ("value out of range", with_value(&base, 49, "2")),
        ("negative value", with_value(&base, 49, "-1")),
        ("capability Disallowed", with_value(&base, 25, "1")),
        ("policy 33 above the licence", with_value(&base, 33, "101")),
        ("malformed line", format!("{base}49=1\n")),
        ("missing description", without_description(&base, 7)),
        ("unknown id", format!("{base}99:\"No such policy\":1\n")),
        (
            "repeated id",
            format!("{base}49:\"Allow Partition Utilization Metrics\":1\n"),
        ),
        (
            "40 and 46 both on",
            with_value(&with_value(&base, 40, "1"), 46, "1"),
        ),
    ];
    for (what, template) in cases {
        let mut req = hard_init(LABEL, SO_PASSWORD, DOMAIN);
        req.template = Some(template);
        refused(&mut hsm, req, ret::SR_RET_RM_CONFIG_ILLEGAL, what);
        assert_eq!(hsm.policies(), &before, "{what}: policies unchanged");
    }
    let hsm = hsm.reopen();
    assert_eq!(hsm.policies(), &before);
    assert_eq!(hsm.status(), HsmStatus::Zeroized);
}
