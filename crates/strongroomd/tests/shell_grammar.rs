//! The appliance shell's grammar through `Session::execute` (catalog SH-G-01..SH-G-16):
//! result lines, short forms and prefixes, case, quoting, legacy dash forms, help, and which
//! commands each role and channel may see and run.

mod common;

use common::{
    DOMAIN, LABEL, RESULT_FAILED, RESULT_OK, Rig, SO_PW, field, partition_rows, policy_value,
};
use strongroomd::{Channel, Outcome, Role};

const PIN_INCORRECT: &str = "A00000 : SR_RET_UM_PIN_INCORRECT";
const NOT_LOGGED_IN: &str = "1010000 : SR_RET_USER_NOT_LOGGED_IN";
const RESTRICTED: &str = "10A0B : SR_RET_OPERATION_RESTRICTED";
const NO_PARTITION: &str = "80000001 : SR_RET_CONTAINER_HANDLE_INVALID";

/// The `(name, short)` rows of a help listing.
fn help_rows(out: &str) -> Vec<(String, String)> {
    out.lines()
        .skip_while(|l| !l.starts_with("----"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            let mut words = l.split_whitespace();
            let name = words.next().unwrap_or_default().to_owned();
            let short = words.next().unwrap_or_default().to_owned();
            (name, short)
        })
        .collect()
}

fn help_names(out: &str) -> Vec<String> {
    help_rows(out).into_iter().map(|(n, _)| n).collect()
}

#[test]
fn success_and_failure_end_with_their_result_lines() {
    let (_rig, mut sh) = Rig::initialized();

    let out = sh.ok("hsm show", &[]);
    assert_eq!(out.matches("Command Result").count(), 1, "{out}");

    // A module refusal: message, the failure line with the code in bare upper-case hex, and
    // the shell-execution result, exactly.
    let (outcome, out) = sh.run("hsm login -password Wrong-Pass1", &[]);
    assert_eq!(outcome, Outcome::Failed);
    assert_eq!(
        out,
        format!(
            "the password is incorrect\nError: 'hsm login' failed. ({PIN_INCORRECT}){RESULT_FAILED}"
        )
    );
    sh.fails(
        "partition create -partition P1 -force",
        &[],
        "partition create",
        NOT_LOGGED_IN,
    );
    sh.fails(
        "partition show -partition nosuch",
        &[],
        "partition show",
        NO_PARTITION,
    );
    sh.fails("hsm tamper clear", &[], "hsm tamper clear", RESTRICTED);

    // A shell refusal has no module code but the same result line.
    let out = sh.refused("hsm nosuch");
    assert_eq!(
        out,
        format!(
            "Error: 'hsm nosuch' is not a valid command; type 'help' for the list{RESULT_FAILED}"
        )
    );

    // An empty line runs nothing and prints nothing.
    let (outcome, out) = sh.run("   ", &[]);
    assert_eq!((outcome, out.as_str()), (Outcome::Nothing, ""));
}

#[test]
fn module_codes_in_secure_transport_mode_use_the_reference_format() {
    let rig = Rig::new();
    let mut sh = rig.admin();
    // SH-G-08's example: `10A0B : ..._OPERATION_RESTRICTED` while in STM (LC-06).
    let out = sh.fails(
        &format!("hsm init -label L1 -password {SO_PW} -domain {DOMAIN} -force"),
        &[],
        "hsm init",
        RESTRICTED,
    );
    assert!(out.contains("Secure Transport Mode"), "{out}");
    assert_eq!(sh.show().get("HSM Label"), "");
    sh.fails(
        "hsm login -password Whatever1",
        &[],
        "hsm login",
        "8000F003 : SR_RET_HSM_NOT_INITIALIZED",
    );
}

#[test]
fn short_forms_and_unique_prefixes_select_commands_and_options() {
    let (_rig, mut sh) = Rig::logged_in();
    for line in ["hsm sh", "hs sh", "HSM SH", "hsm SHOW"] {
        let out = sh.ok(line, &[]);
        assert_eq!(
            field(&out, "HSM Label").as_deref(),
            Some(LABEL),
            "{line}:\n{out}"
        );
    }
    for line in ["hsm showp", "hsm showPol", "hsm showpolicies", "hs showp"] {
        let out = sh.ok(line, &[]);
        assert!(
            out.contains("The following capabilities describe this HSM"),
            "{line}:\n{out}"
        );
        assert_eq!(
            policy_value(&out, "Allow cloning").as_deref(),
            Some("On"),
            "{line}"
        );
    }

    // The reference's `par cr -par P -f`, `par create -par P -v 1 -f`, and prefixes of words
    // and options. Result lines name the canonical command words.
    let out = sh.ok("par cr -par P1 -f", &[]);
    assert!(out.contains("'partition create' successful."), "{out}");
    sh.ok("par create -par P2 -v 1 -f", &[]);
    sh.ok("parti crea -parti P3 -vers 1 -forc", &[]);
    let rows = partition_rows(&sh.ok("par l", &[]));
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.name.as_str(), r.version.as_str()))
        .collect();
    assert_eq!(got, [("P1", "0"), ("P2", "1"), ("P3", "1")]);

    let out = sh.ok("hsm logo", &[]);
    assert!(out.contains("'hsm logout' successful."), "{out}");
    let out = sh.ok(&format!("hsm logi -pwd {SO_PW}"), &[]);
    assert!(out.contains("'hsm login' successful."), "{out}");
    let out = sh.ok("hsm changepo -p 16 -v 0", &[]);
    assert!(out.contains("'hsm changePolicy' successful."), "{out}");
    assert!(
        out.contains("Policy \"Allow network replication\" is now set to: 0"),
        "{out}"
    );
    let out = sh.ok("hsm di", &[]);
    assert!(out.contains("HSM CAPABILITY LICENSES"), "{out}");
}

#[test]
fn words_and_options_ignore_case_but_values_keep_it() {
    let rig = Rig::new();
    let mut sh = rig.admin();
    let rus = rig.strings.random_user_string.clone();
    sh.ok(
        &format!("HSM STM RECOVER -RANDOMUSERSTRING {rus} -FORCE"),
        &[],
    );
    sh.ok(
        &format!("Hsm Init -LABEL Mixed_Case9 -PassWord {SO_PW} -DOMAIN {DOMAIN} -Force"),
        &[],
    );
    assert_eq!(sh.show().get("HSM Label"), "Mixed_Case9");

    // The password is a value: its case matters.
    sh.fails(
        &format!("hsm login -password {}", SO_PW.to_uppercase()),
        &[],
        "hsm login",
        PIN_INCORRECT,
    );
    sh.ok(&format!("HSM LOGIN -PASSWORD {SO_PW}"), &[]);

    sh.ok("PARTITION CREATE -PARTITION CaseName -FORCE", &[]);
    assert_eq!(sh.partitions(), ["CaseName"]);
    sh.fails(
        "partition show -partition casename",
        &[],
        "partition show",
        NO_PARTITION,
    );
    let out = sh.ok("Partition Show -Partition CaseName", &[]);
    assert_eq!(field(&out, "Partition Name").as_deref(), Some("CaseName"));
}

#[test]
fn ambiguous_prefixes_are_refused_with_the_candidates() {
    let (_rig, mut sh) = Rig::logged_in();
    let before = sh.state();

    let out = sh.refused("hsm lo");
    assert!(out.contains("ambiguous"), "{out}");
    assert!(out.contains("login") && out.contains("logout"), "{out}");

    let out = sh.refused("hsm s");
    for candidate in ["show", "showPolicies", "stm"] {
        assert!(out.contains(candidate), "{candidate} missing from {out}");
    }

    let out = sh.refused("hsm change -policy 7 -value 0 -force");
    assert!(
        out.contains("changePw") && out.contains("changePolicy"),
        "{out}"
    );

    // Nothing ran: still logged in, policy and partitions unchanged.
    assert_eq!(sh.state(), before);
}

#[test]
fn unknown_commands_and_options_are_refused_before_anything_runs() {
    let (_rig, mut sh) = Rig::logged_in();
    sh.ok("partition create -partition P1 -force", &[]);
    let before = sh.state();

    assert!(
        sh.refused("frobnicate")
            .contains("'frobnicate' is not a valid command")
    );
    assert!(
        sh.refused("hsm frobnicate")
            .contains("'hsm frobnicate' is not a valid command")
    );
    let out = sh.refused("hsm zeroize -force -bogus");
    assert!(
        out.contains("'-bogus' is not an option of 'hsm zeroize'"),
        "{out}"
    );
    assert!(
        sh.refused("hsm zeroize -force extra")
            .contains("unexpected argument 'extra'")
    );
    assert!(
        sh.refused("partition delete -force -partition")
            .contains("needs a value")
    );
    assert!(
        sh.refused("partition delete -partition P1 -partition P1 -force")
            .contains("twice")
    );
    assert!(
        sh.refused("partition delete -partition \"P1 -force")
            .contains("double quote")
    );

    assert_eq!(sh.state(), before, "a refused line must not run");
}

#[test]
fn double_quoted_values_keep_their_spaces() {
    let (_rig, mut sh) = Rig::logged_in();
    let out = sh.ok("partition create -partition \"My Par\" -force", &[]);
    assert!(out.contains("'partition create' successful."), "{out}");
    assert_eq!(sh.partitions(), ["My Par"]);
    let out = sh.ok("partition show -partition \"My Par\"", &[]);
    assert_eq!(field(&out, "Partition Name").as_deref(), Some("My Par"));
    let show = sh.show();
    assert!(
        show.get("Partition").ends_with(", Name: My Par"),
        "{}",
        show.0
    );
    // Unquoted, the second word is a stray argument.
    assert!(
        sh.refused("partition show -partition My Par")
            .contains("unexpected argument 'Par'")
    );

    // Passwords with spaces (RA-01 allows them when quoted).
    sh.ok(
        &format!("hsm changePw -oldpassword {SO_PW} -newpassword \"new pass word\""),
        &[],
    );
    sh.ok("hsm logout", &[]);
    sh.fails("hsm login -password new", &[], "hsm login", PIN_INCORRECT);
    sh.ok("hsm login -password \"new pass word\"", &[]);
}

#[test]
fn legacy_dash_forms_select_command_words() {
    let (_rig, mut sh) = Rig::logged_in();
    assert_eq!(
        sh.ok("hsm -showPolicies", &[]),
        sh.ok("hsm showPolicies", &[])
    );
    let out = sh.ok("hsm -show", &[]);
    assert_eq!(field(&out, "HSM Label").as_deref(), Some(LABEL));
    sh.ok("partition -create -partition Legacy -force", &[]);
    let rows = partition_rows(&sh.ok("partition -list", &[]));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].name, "Legacy");
    let out = sh.ok("hsm -changePolicy -policy 16 -value 0", &[]);
    assert!(
        out.contains("Policy \"Allow network replication\" is now set to: 0"),
        "{out}"
    );
}

#[test]
fn help_lists_groups_commands_and_options() {
    let rig = Rig::new();
    let mut sh = rig.admin();

    let top = sh.ok("help", &[]);
    assert!(top.contains("Name") && top.contains("(short)"), "{top}");
    let rows = help_rows(&top);
    for (name, short) in [
        ("help", "he"),
        ("exit", "e"),
        ("hsm", "hs"),
        ("partition", "par"),
        ("maintenance", "mai"),
    ] {
        assert!(
            rows.contains(&(name.to_owned(), short.to_owned())),
            "{name} ({short}) missing:\n{top}"
        );
    }
    assert_eq!(sh.ok("HELP", &[]), top);
    assert_eq!(sh.ok("?", &[]), top);

    let hsm = sh.ok("help hsm", &[]);
    assert_eq!(
        help_names(&hsm),
        [
            "show",
            "login",
            "logout",
            "changePw",
            "init",
            "zeroize",
            "factoryReset",
            "restart",
            "showPolicies",
            "changePolicy",
            "displayLicenses",
            "stm",
            "tamper",
            "supportInfo",
            "time",
            "firmware",
            "update",
            "stc",
            "information",
            "qos"
        ]
    );
    assert_eq!(sh.ok("hsm -help", &[]), hsm);
    assert_eq!(sh.ok("hsm help", &[]), hsm);
    assert_eq!(sh.ok("hsm", &[]), hsm, "a bare group lists its commands");

    let init = sh.ok("hsm init -help", &[]);
    assert!(init.contains("Syntax: hsm init"), "{init}");
    for opt in [
        "-label",
        "-password",
        "-domain",
        "-applytemplate",
        "-authtimeconfig",
        "-force",
    ] {
        assert!(init.contains(opt), "{opt} missing from\n{init}");
    }
    assert_eq!(sh.ok("help hsm init", &[]), init);
    assert_eq!(
        sh.ok("hsm init -label x -help", &[]),
        init,
        "-help anywhere shows the help"
    );

    assert_eq!(
        help_names(&sh.ok("help partition", &[])),
        [
            "create",
            "delete",
            "resize",
            "list",
            "show",
            "showPolicies",
            "changePolicy",
            "activate",
            "changePw"
        ]
    );
    assert_eq!(
        help_names(&sh.ok("help hsm stm", &[])),
        ["transport", "recover"]
    );
    assert_eq!(
        help_names(&sh.ok("hsm tamper -help", &[])),
        ["show", "clear"]
    );
    assert_eq!(
        help_names(&sh.ok("help maintenance", &[])),
        ["tamper", "decommission"]
    );

    // Help ran nothing: the new module is still in STM.
    assert_eq!(sh.show().get("Secure Transport Mode"), "Yes");
}

#[test]
fn help_short_form_lists_the_commands() {
    let rig = Rig::new();
    let mut sh = rig.admin();
    let out = sh.ok("he", &[]);
    assert_eq!(
        help_names(&out),
        help_names(&sh.ok("help", &[])),
        "`he` printed:\n{out}"
    );
}

#[test]
fn exit_ends_the_session() {
    let rig = Rig::new();
    let mut sh = rig.admin();
    assert_eq!(sh.run("exit", &[]), (Outcome::Exit, String::new()));
    assert_eq!(sh.run("E", &[]).0, Outcome::Exit);
}

#[test]
fn console_only_commands_are_hidden_and_refused_remotely() {
    let (rig, mut local) = Rig::logged_in();
    local.ok("partition create -partition P1 -force", &[]);
    let mut remote = rig.session("admin", Role::Admin, Channel::Remote);
    remote.ok(&format!("hsm login -password {SO_PW}"), &[]);

    assert!(help_names(&local.ok("help", &[])).contains(&"maintenance".to_owned()));
    let remote_top = help_names(&remote.ok("help", &[]));
    assert_eq!(
        remote_top,
        [
            "help",
            "exit",
            "hsm",
            "partition",
            "client",
            "ntls",
            "my",
            "network",
            "service",
            "status",
            "syslog",
            "sysconf",
            "user",
            "package"
        ]
    );
    assert!(help_names(&local.ok("help hsm", &[])).contains(&"factoryReset".to_owned()));
    let remote_hsm = help_names(&remote.ok("help hsm", &[]));
    assert!(
        !remote_hsm.contains(&"factoryReset".to_owned()),
        "{remote_hsm:?}"
    );
    assert!(remote_hsm.contains(&"zeroize".to_owned()), "{remote_hsm:?}");
    remote.refused("help maintenance");
    remote.refused("maintenance -help");

    let before = local.state();
    for line in [
        "maintenance tamper -type chassis",
        "mai t -type chassis",
        "maintenance decommission -force",
        "hsm factoryReset -force",
        "hsm factoryreset -f",
        "hsm fa -f",
    ] {
        let out = remote.refused(line);
        assert!(out.contains("is not a valid command"), "{line}: {out}");
    }
    assert_eq!(local.state(), before, "remote refusals must change nothing");

    // The same commands run on the local console.
    let out = local.ok("maintenance tamper -type chassis", &[]);
    assert!(
        out.contains("Tamper event raised: Chassis intrusion."),
        "{out}"
    );
    let out = local.ok("hsm factoryReset -force", &[]);
    assert!(out.contains("'hsm factoryReset' successful."), "{out}");
    let show = local.show();
    assert_eq!(show.get("HSM Label"), "");
    assert_eq!(show.get("HSM Tamper State"), "No tamper(s)");
    assert_eq!(show.get("Number of partitions created"), "0");
}

#[test]
fn monitor_sees_and_runs_only_read_commands() {
    let (rig, mut admin) = Rig::logged_in();
    admin.ok("partition create -partition P1 -force", &[]);
    let mut mon = rig.session("monitor", Role::Monitor, Channel::LocalConsole);

    assert_eq!(
        help_names(&mon.ok("help", &[])),
        [
            "help",
            "exit",
            "hsm",
            "partition",
            "client",
            "ntls",
            "my",
            "network",
            "service",
            "status",
            "sysconf"
        ]
    );
    assert_eq!(
        help_names(&mon.ok("help hsm", &[])),
        [
            "show",
            "showPolicies",
            "displayLicenses",
            "tamper",
            "time",
            "firmware",
            "information",
            "qos"
        ]
    );
    assert_eq!(help_names(&mon.ok("help hsm tamper", &[])), ["show"]);
    assert_eq!(
        help_names(&mon.ok("help partition", &[])),
        ["list", "show", "showPolicies"]
    );
    mon.ok("hsm tamper show", &[]);
    assert_eq!(mon.show().get("HSM Label"), LABEL);
    assert_eq!(mon.partitions(), ["P1"]);
    mon.ok("hsm showPolicies", &[]);
    mon.ok("hsm displayLicenses", &[]);
    mon.ok("partition show -partition P1", &[]);

    let before = admin.state();
    for line in [
        "hsm zeroize -force".to_owned(),
        format!("hsm init -label X -password {SO_PW} -force"),
        format!("hsm login -password {SO_PW}"),
        "hsm logout".to_owned(),
        "hsm changePolicy -policy 7 -value 0 -force".to_owned(),
        "partition create -partition M -force".to_owned(),
        "partition delete -partition P1 -force".to_owned(),
        "partition resize -partition P1 -size 1000 -force".to_owned(),
        "hsm stm transport -force".to_owned(),
        "hsm factoryReset -force".to_owned(),
        "hsm restart -force".to_owned(),
        "hsm tamper clear".to_owned(),
        "user list".to_owned(),
        "net hostname other".to_owned(),
        "maintenance tamper -type chassis".to_owned(),
    ] {
        let out = mon.refused(&line);
        assert!(out.contains("is not a valid command"), "{line}: {out}");
    }
    assert_eq!(admin.state(), before, "the monitor changed something");
}

#[test]
fn audit_sees_only_its_reduced_set() {
    let (rig, mut admin) = Rig::logged_in();
    admin.ok("partition create -partition P1 -force", &[]);
    let mut audit = rig.session("audit", Role::Audit, Channel::Remote);

    assert_eq!(
        help_names(&audit.ok("help", &[])),
        ["help", "exit", "hsm", "audit", "my", "network"]
    );
    assert_eq!(
        help_names(&audit.ok("help hsm", &[])),
        ["show", "showPolicies", "displayLicenses"]
    );
    assert_eq!(audit.show().get("HSM Label"), LABEL);
    let before = admin.state();
    for line in [
        "partition list",
        "partition delete -partition P1 -force",
        "hsm zeroize -force",
        "help partition",
    ] {
        audit.refused(line);
    }
    assert_eq!(admin.state(), before);
}

#[test]
fn operator_manages_partitions_but_not_the_hsm() {
    let (rig, mut admin) = Rig::logged_in();
    let mut op = rig.session("operator", Role::Operator, Channel::LocalConsole);
    let hsm = help_names(&op.ok("help hsm", &[]));
    assert!(
        hsm.contains(&"login".to_owned()) && !hsm.contains(&"init".to_owned()),
        "{hsm:?}"
    );
    op.ok(&format!("hsm login -password {SO_PW}"), &[]);
    op.ok("partition create -partition OpPar -force", &[]);
    assert_eq!(admin.partitions(), ["OpPar"]);

    let before = admin.state();
    for line in [
        "hsm zeroize -force".to_owned(),
        format!("hsm init -label X -password {SO_PW} -force"),
        "hsm changePolicy -policy 7 -value 0 -force".to_owned(),
        "hsm factoryReset -force".to_owned(),
        "maintenance decommission -force".to_owned(),
    ] {
        op.refused(&line);
    }
    assert_eq!(admin.state(), before);
    let out = op.ok("partition delete -partition OpPar -force", &[]);
    assert!(out.contains("'partition delete' successful."), "{out}");
}

#[test]
fn success_line_ends_each_help_and_status_command_once() {
    let (_rig, mut sh) = Rig::initialized();
    for line in [
        "help",
        "help hsm",
        "hsm show",
        "partition list",
        "hsm showPolicies",
        "hsm displayLicenses",
        "hsm tamper show",
    ] {
        let out = sh.ok(line, &[]);
        assert_eq!(out.matches("Command Result").count(), 1, "{line}:\n{out}");
        assert!(out.ends_with(RESULT_OK));
    }
}
