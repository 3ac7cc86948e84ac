//! Whole administrator flows at the appliance shell, as the reference shows them (catalog
//! SH-HSM-*, SH-PAR-*, LC-*): Secure Transport Mode, initialization, the HSM SO, the
//! confirmations, policies and templates, `hsm show`, partitions, licences and tamper.

mod common;

use common::{DOMAIN, LABEL, RESULT_OK, Rig, SO_PW, Shell, assert_in_order, field, partition_rows};
use strongroom_module::{FIRMWARE_VERSION, PARTITION_OVERHEAD};

const PIN_INCORRECT: &str = "A00000 : SR_RET_UM_PIN_INCORRECT";
const THRESHOLD: &str = "30000F : SR_RET_SO_LOGIN_FAILURE_THRESHOLD";
const NOT_LOGGED_IN: &str = "1010000 : SR_RET_USER_NOT_LOGGED_IN";
const NOT_INITIALIZED: &str = "8000F003 : SR_RET_HSM_NOT_INITIALIZED";
const RESTRICTED: &str = "10A0B : SR_RET_OPERATION_RESTRICTED";
const TAMPERED: &str = "8000F001 : SR_RET_HSM_TAMPERED";
const PROCEED_QUESTION: &str =
    "If you are sure that you wish to proceed, then type 'proceed', otherwise type 'quit'";
const TOTAL_STORAGE: u64 = 64 * 1024 * 1024;
/// The default partition size: an equal share of the storage by licensed count, less overhead.
const DEFAULT_SIZE: u64 = TOTAL_STORAGE / 100 - PARTITION_OVERHEAD;

/// `XXXX-XXXX-XXXX-XXXX` of letters and digits.
fn is_stm_string(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 4
        && groups
            .iter()
            .all(|g| g.len() == 4 && g.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// A module recovered from STM, not initialized.
fn recovered() -> (Rig, Shell) {
    let rig = Rig::new();
    let mut sh = rig.admin();
    sh.ok(
        &format!(
            "hsm stm recover -randomuserstring {} -force",
            rig.strings.random_user_string
        ),
        &[],
    );
    (rig, sh)
}

// ----- Secure Transport Mode -----

#[test]
fn stm_recovery_of_a_new_module_shows_the_matching_verification_string() {
    let rig = Rig::new();
    let mut sh = rig.admin();
    let (rus, vs) = (
        &rig.strings.random_user_string,
        &rig.strings.verification_string,
    );
    assert!(is_stm_string(rus) && is_stm_string(vs), "{rus} {vs}");
    assert_ne!(rus, vs);

    let show = sh.show();
    assert_eq!(show.get("Secure Transport Mode"), "Yes");
    assert_eq!(show.get("HSM Status"), "Transport Mode, zeroized");

    let recover = format!("hsm stm recover -randomuserstring {rus}");
    for answers in [&["quit"][..], &["no"], &[""], &[]] {
        let out = sh.ok(&recover, answers);
        assert_eq!(
            field(&out, "Verification String").as_deref(),
            Some(vs.as_str()),
            "{out}"
        );
        assert_in_order(
            &out,
            &[
                "Verification String:",
                "Type 'proceed' to recover the HSM from Secure Transport Mode, or 'quit' to remain in it.",
                "Command aborted: nothing was changed.",
            ],
        );
        assert!(!out.contains("successful"), "{out}");
        assert_eq!(
            sh.show().get("Secure Transport Mode"),
            "Yes",
            "answers {answers:?}"
        );
    }

    // Any string is accepted and yields a different verification string (LC-07).
    let out = sh.ok(
        "hsm stm recover -randomuserstring AAAA-BBBB-CCCC-DDDD",
        &["quit"],
    );
    let other = field(&out, "Verification String").expect("a verification string");
    assert!(is_stm_string(&other) && other != *vs, "{out}");

    let out = sh.ok(&recover, &["proceed"]);
    assert_in_order(
        &out,
        &[
            &format!("Verification String: {vs}"),
            "> proceed",
            "Proceeding...",
            "'hsm stm recover' successful.",
        ],
    );
    let show = sh.show();
    assert_eq!(show.get("Secure Transport Mode"), "No");
    assert_eq!(show.get("HSM Status"), "Zeroized");
    assert!(show.0.contains("HSM IS ZEROIZED"), "{}", show.0);

    let out = sh.fails(&recover, &[], "hsm stm recover", RESTRICTED);
    assert!(out.contains("not in Secure Transport Mode"), "{out}");
}

#[test]
fn stm_transport_and_recovery_round_trip() {
    let (_rig, mut sh) = Rig::logged_in();
    sh.ok("partition create -partition P1 -force", &[]);

    let out = sh.ok("hsm stm transport", &["proceed"]);
    assert_in_order(
        &out,
        &[
            "CAUTION: You are about to place the HSM in Secure Transport Mode.",
            PROCEED_QUESTION,
            "Proceeding...",
        ],
    );
    let vs = field(&out, "Verification String").expect("verification string");
    let rus = field(&out, "Random User String").expect("random user string");
    assert!(is_stm_string(&vs) && is_stm_string(&rus), "{out}");
    assert!(out.contains("'hsm stm transport' successful."), "{out}");

    let show = sh.show();
    assert_eq!(show.get("Secure Transport Mode"), "Yes");
    assert_eq!(show.get("HSM Status"), "Transport Mode");
    assert_eq!(
        show.get("HSM Admin login status"),
        "Not Logged In",
        "STM logs everyone out"
    );

    // Only status commands, login and recovery work in STM (LC-06).
    sh.ok(&format!("hsm login -password {SO_PW}"), &[]);
    sh.fails(
        "partition create -partition P2 -force",
        &[],
        "partition create",
        RESTRICTED,
    );
    assert_eq!(sh.partitions(), ["P1"]);

    let out = sh.ok(
        &format!("hsm stm recover -randomuserstring {rus}"),
        &["proceed"],
    );
    assert_eq!(
        field(&out, "Verification String"),
        Some(vs),
        "nothing changed in transport"
    );
    assert_eq!(sh.show().get("Secure Transport Mode"), "No");
    sh.ok("partition create -partition P2 -force", &[]);
    assert_eq!(sh.partitions(), ["P1", "P2"]);
}

#[test]
fn a_failed_so_login_during_transport_changes_the_verification_string() {
    let (_rig, mut sh) = Rig::logged_in();
    let out = sh.ok("hsm stm transport -force", &[]);
    let vs = field(&out, "Verification String").expect("verification string");
    let rus = field(&out, "Random User String").expect("random user string");
    // Someone tries a password while the HSM is in transport.
    sh.fails(
        "hsm login -password Guess-Pass1",
        &[],
        "hsm login",
        PIN_INCORRECT,
    );
    // The receiver must log in to recover an initialized HSM (LC-05).
    sh.ok(&format!("hsm login -password {SO_PW}"), &[]);
    let out = sh.ok(
        &format!("hsm stm recover -randomuserstring {rus}"),
        &["quit"],
    );
    let now = field(&out, "Verification String").expect("verification string");
    assert_ne!(now, vs, "the failed attempt must show as a mismatch");
}

// ----- initialization -----

#[test]
fn hard_init_answers_every_prompt() {
    let (_rig, mut sh) = recovered();
    let out = sh.ok(
        "hsm init -label Lab_1",
        &["proceed", SO_PW, SO_PW, DOMAIN, DOMAIN],
    );
    assert_in_order(
        &out,
        &[
            "CAUTION: You are about to initialize the HSM. All contents of the HSM will be destroyed.",
            "Type 'proceed' to initialize the HSM, or 'quit' to quit now.",
            "> proceed\n",
            "Proceeding...",
            "Please enter a password for the HSM Administrator:",
            "> ********\n",
            "Please re-enter to confirm:",
            "> ********\n",
            "Please enter the domain to use for initializing this HSM:",
            "> ********\n",
            "Please re-enter to confirm:",
            "> ********\n",
            "'hsm init' successful.",
            "Please wait while the HSM is reset to complete the initialization process.",
        ],
    );
    assert!(
        !out.contains(SO_PW) && !out.contains(DOMAIN),
        "secrets echoed:\n{out}"
    );
    let show = sh.show();
    assert_eq!(show.get("HSM Label"), "Lab_1");
    assert_eq!(show.get("HSM Status"), "OK");
    assert_eq!(show.get("HSM Admin login status"), "Not Logged In");
    assert!(!show.0.contains("ZEROIZED"), "{}", show.0);
    sh.ok("hsm login", &[SO_PW]);
}

#[test]
fn hard_init_with_options_and_force_asks_nothing() {
    let (_rig, mut sh) = recovered();
    let out = sh.ok(
        &format!("hsm init -label Lab_2 -password {SO_PW} -domain {DOMAIN} -force"),
        &[],
    );
    assert_in_order(
        &out,
        &[
            "CAUTION: You are about to initialize the HSM.",
            "Force option used. Proceed prompt bypassed.",
            "'hsm init' successful.",
        ],
    );
    assert!(
        !out.contains("Please enter") && !out.contains("> "),
        "{out}"
    );
    assert_eq!(sh.show().get("HSM Label"), "Lab_2");

    // Secrets given as options, confirmation answered.
    let (_rig, mut sh) = recovered();
    let out = sh.ok(
        &format!("hsm init -l Lab_3 -pwd {SO_PW} -d {DOMAIN}"),
        &["proceed"],
    );
    assert!(!out.contains("Please enter"), "{out}");
    assert_eq!(sh.show().get("HSM Label"), "Lab_3");
    sh.ok(&format!("hsm login -password {SO_PW}"), &[]);
}

#[test]
fn mismatched_or_invalid_entries_at_init_change_nothing() {
    let (_rig, mut sh) = recovered();
    let before = sh.state();

    let out = sh.refused_after("hsm init -label L", &["proceed", SO_PW, "Other-Pass1"]);
    assert!(out.contains("do not match"), "{out}");
    assert_eq!(sh.state(), before);

    let out = sh.refused_after(
        "hsm init -label L",
        &["proceed", SO_PW, SO_PW, DOMAIN, "other-domain"],
    );
    assert!(out.contains("do not match"), "{out}");
    assert_eq!(sh.state(), before);

    // Input ending in the middle.
    sh.refused_after("hsm init -label L", &["proceed", SO_PW]);
    assert_eq!(sh.state(), before);

    // Rule violations come from the module with its codes.
    sh.fails(
        "hsm init -label L",
        &["proceed", "short", "short"],
        "hsm init",
        "A20000 : SR_RET_UM_PIN_LEN_RANGE",
    );
    sh.fails(
        "hsm init -label bad-label -force",
        &[],
        "hsm init",
        "200000 : SR_RET_DATA_INVALID",
    );
    sh.refused_after("hsm init -force", &[]);
    assert_eq!(sh.state(), before);
    assert_eq!(sh.show().get("HSM Label"), "");
}

#[test]
fn soft_init_keeps_the_so_and_destroys_partitions() {
    let (_rig, mut sh) = Rig::logged_in();
    sh.ok("partition create -partition P1 -force", &[]);

    // A wrong current password is a failed SO login and changes nothing else.
    sh.fails(
        "hsm init -label NewLabel",
        &["proceed", "Wrong-Pass1"],
        "hsm init",
        PIN_INCORRECT,
    );
    assert_eq!(sh.partitions(), ["P1"]);

    let out = sh.ok("hsm init -label NewLabel", &["proceed", SO_PW]);
    assert_in_order(
        &out,
        &[
            "CAUTION: You are about to initialize the HSM that is already initialized. All \
             partitions of the HSM will be destroyed. You are required to provide the current SO \
             password.",
            "Type 'proceed' to initialize the HSM, or 'quit' to quit now.",
            "Please enter the current HSM Administrators' password:",
            "'hsm init' successful.",
        ],
    );
    let show = sh.show();
    assert_eq!(show.get("HSM Label"), "NewLabel");
    assert_eq!(show.get("Number of partitions created"), "0");
    assert_eq!(
        show.get("HSM Admin login status"),
        "Not Logged In",
        "LC-16: log in again"
    );
    sh.ok(&format!("hsm login -password {SO_PW}"), &[]);
}

// ----- the HSM SO -----

#[test]
fn hsm_login_prompts_like_the_reference() {
    let (_rig, mut sh) = Rig::initialized();
    let out = sh.ok("hsm login", &[SO_PW]);
    assert_eq!(
        out,
        format!(
            "Please enter the HSM Administrators' password:\n> ********\n'hsm login' successful.\n{RESULT_OK}"
        )
    );
    assert_eq!(sh.show().get("HSM Admin login status"), "Logged In");
    sh.fails(
        "hsm login",
        &[SO_PW],
        "hsm login",
        "1000000 : SR_RET_USER_ALREADY_LOGGED_IN",
    );

    let out = sh.ok("hsm logout", &[]);
    assert!(out.contains("'hsm logout' successful."), "{out}");
    assert_eq!(sh.show().get("HSM Admin login status"), "Not Logged In");
    sh.fails("hsm logout", &[], "hsm logout", NOT_LOGGED_IN);

    // End of input at the prompt is not a failed attempt.
    sh.refused_after("hsm login", &[]);
    assert_eq!(
        sh.show().get("HSM Admin login attempts left"),
        "3 before HSM zeroization!"
    );
}

#[test]
fn three_wrong_logins_zeroize_the_hsm() {
    let (_rig, mut sh) = Rig::logged_in();
    sh.ok("partition create -partition P1 -force", &[]);
    sh.ok("hsm logout", &[]);

    sh.fails("hsm login", &["Wrong-Pass1"], "hsm login", PIN_INCORRECT);
    assert_eq!(
        sh.show().get("HSM Admin login attempts left"),
        "2 before HSM zeroization!"
    );
    sh.fails("hsm login", &["Wrong-Pass2"], "hsm login", PIN_INCORRECT);
    assert_eq!(
        sh.show().get("HSM Admin login attempts left"),
        "1 before HSM zeroization!"
    );
    let out = sh.fails("hsm login", &["Wrong-Pass3"], "hsm login", THRESHOLD);
    assert!(out.contains("zeroized"), "{out}");

    let show = sh.show();
    assert_eq!(show.get("HSM Status"), "Zeroized");
    assert_eq!(show.get("HSM Label"), "");
    assert_eq!(show.get("Manually Zeroized"), "No");
    assert!(show.0.contains("*** HSM IS ZEROIZED"), "{}", show.0);
    assert!(show.0.contains("There are no partitions."), "{}", show.0);
    assert_eq!(show.get("Number of partitions created"), "0");
    assert_eq!(sh.partitions(), Vec::<String>::new());
    sh.fails("hsm login", &[SO_PW], "hsm login", NOT_INITIALIZED);
}

#[test]
fn a_successful_login_resets_the_failure_count() {
    let (_rig, mut sh) = Rig::initialized();
    sh.fails("hsm login", &["Wrong-Pass1"], "hsm login", PIN_INCORRECT);
    sh.fails("hsm login", &["Wrong-Pass2"], "hsm login", PIN_INCORRECT);
    sh.ok("hsm login", &[SO_PW]);
    assert_eq!(
        sh.show().get("HSM Admin login attempts left"),
        "3 before HSM zeroization!"
    );
    sh.ok("hsm logout", &[]);
    sh.fails("hsm login", &["Wrong-Pass3"], "hsm login", PIN_INCORRECT);
    let show = sh.show();
    assert_eq!(
        show.get("HSM Admin login attempts left"),
        "2 before HSM zeroization!"
    );
    assert_eq!(show.get("HSM Label"), LABEL);
}

#[test]
fn change_password_confirms_the_new_one() {
    let (_rig, mut sh) = Rig::logged_in();
    let out = sh.refused_after("hsm changePw", &[SO_PW, "New-Pass-1", "New-Pass-2"]);
    assert!(out.contains("do not match"), "{out}");
    let out = sh.ok("hsm changePw", &[SO_PW, "New-Pass-1", "New-Pass-1"]);
    assert_in_order(
        &out,
        &[
            "Please enter the current HSM SO password:",
            "Please enter the new HSM SO password:",
            "Please re-enter to confirm:",
            "'hsm changePw' successful.",
        ],
    );
    sh.ok("hsm logout", &[]);
    sh.fails(
        &format!("hsm login -password {SO_PW}"),
        &[],
        "hsm login",
        PIN_INCORRECT,
    );
    sh.ok("hsm login -password New-Pass-1", &[]);
}

// ----- partitions -----

#[test]
fn partition_create_with_force_and_with_the_prompt() {
    let (_rig, mut sh) = Rig::logged_in();
    let (_, out) = sh.run("par create -par Par1 -f", &[]);
    assert_eq!(
        out,
        format!(
            "Force option used. Proceed prompt bypassed.\n\n'partition create' successful.\n{RESULT_OK}"
        )
    );
    let out = sh.ok("partition create -partition Par2", &["proceed"]);
    assert_in_order(
        &out,
        &[
            "Type 'proceed' to create the partition, or 'quit' to quit now.",
            "> proceed\n",
            "Proceeding...",
            "'partition create' successful.",
        ],
    );
    let out = sh.ok("partition create -partition Par3", &["quit"]);
    assert!(
        out.contains("Command aborted: nothing was changed."),
        "{out}"
    );
    assert_eq!(sh.partitions(), ["Par1", "Par2"]);

    sh.fails(
        "partition create -partition Par1 -force",
        &[],
        "partition create",
        "10C02 : SR_RET_OH_OBJECT_ALREADY_EXISTS",
    );
    sh.fails(
        "partition create -partition bad<name -force",
        &[],
        "partition create",
        "200000 : SR_RET_DATA_INVALID",
    );
    sh.refused_after(
        "partition create -partition Par4 -size 10 -allfreestorage -force",
        &[],
    );
    sh.refused_after("partition create -partition Par4 -version 2 -force", &[]);
    assert_eq!(sh.partitions(), ["Par1", "Par2"]);

    let out = sh.ok("partition delete -partition Par2", &["proceed"]);
    assert_in_order(
        &out,
        &[
            "CAUTION: You are about to delete the partition \"Par2\".",
            PROCEED_QUESTION,
            "'partition delete' successful.",
        ],
    );
    assert_eq!(sh.partitions(), ["Par1"]);
}

#[test]
fn partition_list_has_the_reference_columns() {
    let (rig, mut sh) = Rig::logged_in();
    let out = sh.ok("partition list", &[]);
    assert!(out.contains("There are no partitions."), "{out}");

    sh.ok("par create -par Par1 -f", &[]);
    sh.ok("par create -par Par2 -v 1 -size 100000 -f", &[]);
    let out = sh.ok("par l", &[]);
    let header: Vec<&str> = out
        .lines()
        .find(|l| l.starts_with("Partition"))
        .expect("header")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        [
            "Partition",
            "Name",
            "Version",
            "Objects",
            "Total",
            "Used",
            "Free"
        ]
    );
    assert_in_order(&out, &["Storage", "(bytes)", "Partition", "====="]);

    let rows = partition_rows(&out);
    assert_eq!(rows.len(), 2, "{out}");
    let hsm_serial = rig
        .appliance
        .module
        .lock()
        .expect("module")
        .serial()
        .to_string();
    for r in &rows {
        assert_eq!(r.serial.len(), 13, "13-digit partition serial: {r:?}");
        assert!(
            r.serial.starts_with(&hsm_serial),
            "{r:?} vs HSM serial {hsm_serial}"
        );
        assert_eq!((r.objects.as_str(), r.used.as_str()), ("0", "0"), "{r:?}");
        assert_eq!(r.free, r.total, "{r:?}");
    }
    let serial_of = |i: usize| rows[i].serial.parse::<u64>().expect("numeric serial");
    assert_eq!(serial_of(1), serial_of(0) + 1, "serials are consecutive");
    assert_eq!(
        (rows[0].name.as_str(), rows[0].version.as_str()),
        ("Par1", "0")
    );
    assert_eq!(rows[0].total, DEFAULT_SIZE.to_string());
    assert_eq!(
        (rows[1].name.as_str(), rows[1].version.as_str()),
        ("Par2", "1")
    );
    assert_eq!(rows[1].total, "100000");

    // The same partitions in `hsm show`, and in `partition show`.
    let show = sh.show();
    assert_eq!(
        show.partitions(),
        [
            format!("{}, Name: Par1", rows[0].serial),
            format!("{}, Name: Par2", rows[1].serial)
        ]
    );
    let one = sh.ok("partition show -partition Par2", &[]);
    assert_eq!(field(&one, "Partition SN"), Some(rows[1].serial.clone()));
    assert_eq!(
        field(&one, "Storage Total (Bytes)").as_deref(),
        Some("100000")
    );

    sh.ok("partition resize -partition Par2 -size 200000 -force", &[]);
    let rows = partition_rows(&sh.ok("partition list", &[]));
    assert_eq!(rows[1].total, "200000");
}

// ----- confirmations -----

#[test]
fn declining_any_confirmation_changes_nothing() {
    let (_rig, mut sh) = Rig::logged_in();
    sh.ok("partition create -partition P1 -force", &[]);
    let before = sh.state();
    let commands = [
        "hsm init -label Other",
        "hsm zeroize",
        "hsm factoryReset",
        "hsm changePolicy -policy 7 -value 0",
        "partition delete -partition P1",
        "partition resize -partition P1 -size 100000",
        "hsm stm transport",
        "maintenance decommission",
        "hsm restart",
    ];
    let answers: [&[&str]; 9] = [
        &["quit"],
        &["QUIT"],
        &["no"],
        &["yes"],
        &[""],
        &["proceed please"],
        &["procee"],
        &["q"],
        &[],
    ];
    for command in commands {
        for answer in answers {
            let out = sh.ok(command, answer);
            assert!(
                out.contains("Command aborted: nothing was changed."),
                "{command} {answer:?}:\n{out}"
            );
            assert!(!out.contains("successful"), "{command} {answer:?}:\n{out}");
            assert_eq!(
                sh.state(),
                before,
                "`{command}` answered {answer:?} changed the appliance"
            );
        }
    }
}

// ----- policies and templates -----

#[test]
fn destructive_policy_change_warns_then_destroys_partitions() {
    let (_rig, mut sh) = Rig::logged_in();
    sh.ok("partition create -partition P1 -force", &[]);
    assert_eq!(sh.policy("Allow cloning"), "On");

    let out = sh.ok("hsm changePolicy -policy 7 -value 0", &["proceed"]);
    assert_in_order(
        &out,
        &[
            "CAUTION: You are about to change a destructive HSM policy. All partitions of the HSM will be destroyed.",
            PROCEED_QUESTION,
            "Proceeding...",
            "'hsm changePolicy' successful.",
            "Policy \"Allow cloning\" is now set to: 0",
        ],
    );
    assert_eq!(sh.policy("Allow cloning"), "Off");
    assert_eq!(sh.partitions(), Vec::<String>::new());
    let show = sh.show();
    assert_eq!(
        show.get("HSM Label"),
        LABEL,
        "LC-22 keeps the SO and domain"
    );
    assert_eq!(show.get("HSM Status"), "OK");

    // A non-destructive policy asks nothing.
    let out = sh.ok("hsm changePolicy -policy 16 -value 0", &[]);
    assert!(!out.contains("CAUTION"), "{out}");
    assert!(
        out.contains("Policy \"Allow network replication\" is now set to: 0"),
        "{out}"
    );

    sh.fails(
        "hsm changePolicy -policy 99 -value 0",
        &[],
        "hsm changePolicy",
        "200A01 : SR_RET_RM_ELEMENT_ID_INVALID",
    );
    sh.fails(
        "hsm changePolicy -policy 16 -value 2",
        &[],
        "hsm changePolicy",
        "200A00 : SR_RET_RM_ELEMENT_VALUE_INVALID",
    );
    sh.refused_after("hsm changePolicy -policy seven -value 0", &[]);
    sh.refused_after("hsm changePolicy -policy 7", &[]);
    sh.ok("hsm logout", &[]);
    sh.fails(
        "hsm changePolicy -policy 16 -value 1",
        &[],
        "hsm changePolicy",
        NOT_LOGGED_IN,
    );
    assert_eq!(sh.policy("Allow network replication"), "Off");
}

#[test]
fn commands_needing_the_so_are_refused_before_their_prompt() {
    let (_rig, mut sh) = Rig::logged_in();
    sh.ok("partition create -partition P1 -force", &[]);
    sh.ok("hsm logout", &[]);
    let before = sh.state();
    for (line, command) in [
        ("hsm changePolicy -policy 7 -value 0", "hsm changePolicy"),
        ("partition delete -partition P1", "partition delete"),
        (
            "partition resize -partition P1 -size 100000",
            "partition resize",
        ),
        ("hsm stm transport", "hsm stm transport"),
        ("hsm init -label Other", "hsm init"),
    ] {
        let out = sh.fails(line, &[], command, NOT_LOGGED_IN);
        assert!(
            !out.contains("proceed"),
            "`{line}` asked for confirmation first:\n{out}"
        );
    }
    assert_eq!(sh.state(), before);
}

#[test]
fn policy_template_is_exported_to_the_file_area_and_applied_at_init() {
    let (rig, mut sh) = Rig::logged_in();
    sh.ok("hsm changePolicy -policy 7 -value 0 -force", &[]);
    let out = sh.ok("hsm showPolicies -exporttemplate t1", &[]);
    assert!(
        out.contains("Policy template written to 't1' in your file area."),
        "{out}"
    );
    let path = rig.admin_files().join("t1");
    let text = std::fs::read_to_string(&path).expect("template in <data_dir>/users/admin/t1");
    assert!(text.starts_with("# Policy template FW Version "), "{text}");
    assert!(
        text.contains(&format!("# Sourced from HSM: {LABEL}, SN: ")),
        "{text}"
    );
    assert!(text.lines().any(|l| l == "7:\"Allow cloning\":0"), "{text}");

    // Back to On, zeroize (policies kept, LC-20), then init with the template.
    sh.ok("hsm changePolicy -policy 7 -value 1 -force", &[]);
    sh.ok("hsm zeroize -force", &[]);
    assert_eq!(sh.policy("Allow cloning"), "On");
    let out = sh.ok(
        &format!("hsm init -label X -applytemplate t1 -password {SO_PW} -domain {DOMAIN} -force"),
        &[],
    );
    assert!(out.contains("'hsm init' successful."), "{out}");
    assert_eq!(sh.policy("Allow cloning"), "Off");
    assert_eq!(sh.show().get("HSM Label"), "X");

    // An invalid or missing template makes init fail with nothing changed (LC-14).
    std::fs::write(rig.admin_files().join("bad"), "7:\"Allow cloning\":5\n").expect("write");
    sh.ok("hsm zeroize -force", &[]);
    let before = sh.state();
    sh.fails(
        &format!("hsm init -label Y -applytemplate bad -password {SO_PW} -domain {DOMAIN} -force"),
        &[],
        "hsm init",
        "200A10 : SR_RET_RM_CONFIG_ILLEGAL",
    );
    let out = sh.refused_after(
        &format!(
            "hsm init -label Y -applytemplate nosuch -password {SO_PW} -domain {DOMAIN} -force"
        ),
        &[],
    );
    assert!(out.contains("nosuch"), "{out}");
    assert_eq!(sh.state(), before);
}

#[test]
fn file_names_cannot_leave_the_users_file_area() {
    let (rig, mut sh) = Rig::logged_in();
    let users = rig.data_dir().join("users");
    for name in [
        "../x",
        "a/b",
        "/tmp/strongroom-x",
        "..",
        ".",
        "..\\x",
        "\"\"",
        ".hidden",
    ] {
        let out = sh.refused_after(&format!("hsm showPolicies -exporttemplate {name}"), &[]);
        assert!(out.contains("not a valid file name"), "{name}: {out}");
    }
    assert!(!users.join("x").exists() && !rig.data_dir().join("x").exists());
    assert!(!rig.admin_files().join("a").exists());
    assert!(!std::path::Path::new("/tmp/strongroom-x").exists());

    // A template outside the area, next to it, cannot be applied through `..`.
    std::fs::create_dir_all(&users).expect("users dir");
    std::fs::write(users.join("outside"), "7:\"Allow cloning\":0\n").expect("write");
    sh.ok("hsm zeroize -force", &[]);
    let before = sh.state();
    for name in ["../outside", "../../users/outside", "a/../outside"] {
        let out = sh.refused_after(
            &format!(
                "hsm init -label X -applytemplate {name} -password {SO_PW} -domain {DOMAIN} -force"
            ),
            &[],
        );
        assert!(out.contains("not a valid file name"), "{name}: {out}");
    }
    assert_eq!(sh.state(), before);
}

// ----- status output -----

#[test]
fn hsm_show_prints_every_field_of_the_reference() {
    let (rig, mut sh) = Rig::logged_in();
    sh.ok("partition create -partition P1 -force", &[]);
    let serial = rig.appliance.module.lock().expect("module").serial();
    let rows = partition_rows(&sh.ok("partition list", &[]));
    let show = sh.show();
    let s = &show.0;
    assert_in_order(
        s,
        &[
            "Appliance Details:",
            "Software Version:",
            "HSM Details:",
            "HSM Label:",
            "Serial #:",
            "Firmware:",
            "HSM Status:",
            "Authentication Method:",
            "HSM Admin login status:",
            "HSM Admin login attempts left:",
            "RPV Initialized:",
            "Audit Role Initialized:",
            "Remote Login Initialized:",
            "Manually Zeroized:",
            "Secure Transport Mode:",
            "HSM Tamper State:",
            "Partitions created on HSM:",
            "Partition:",
            "Number of partitions allowed:",
            "Number of partitions created:",
            "FIPS Operation:",
            "System Times:",
            "HSM Time:",
            "Host Time:",
            "Difference:",
            "HSM Storage Information:",
            "Maximum HSM Storage Space (Bytes):",
            "Space In Use (Bytes):",
            "Free Space Left (Bytes):",
        ],
    );
    assert!(!show.get("Software Version").is_empty());
    assert_eq!(show.get("HSM Label"), LABEL);
    assert_eq!(show.get("Serial #"), serial.to_string());
    assert_eq!(show.get("Firmware"), FIRMWARE_VERSION);
    assert_eq!(show.get("HSM Status"), "OK");
    assert_eq!(show.get("Authentication Method"), "Password");
    assert_eq!(show.get("HSM Admin login status"), "Logged In");
    assert_eq!(
        show.get("HSM Admin login attempts left"),
        "3 before HSM zeroization!"
    );
    assert!(show.get("RPV Initialized").starts_with("No"));
    assert_eq!(show.get("Audit Role Initialized"), "No");
    assert_eq!(show.get("Remote Login Initialized"), "No");
    assert_eq!(show.get("Manually Zeroized"), "No");
    assert_eq!(show.get("Secure Transport Mode"), "No");
    assert_eq!(show.get("HSM Tamper State"), "No tamper(s)");
    assert_eq!(show.partitions(), [format!("{}, Name: P1", rows[0].serial)]);
    assert_eq!(show.get("Number of partitions allowed"), "100");
    assert_eq!(show.get("Number of partitions created"), "1");
    assert!(
        s.contains("\nThe HSM is NOT in FIPS approved operation mode.\n"),
        "{s}"
    );
    for clock in ["HSM Time", "Host Time"] {
        let t = show.get(clock);
        let words: Vec<&str> = t.split_whitespace().collect();
        assert_eq!(words.len(), 6, "{clock}: {t}");
        assert_eq!(words[4], "UTC", "{clock}: {t}");
        assert!(
            words[5].len() == 4 && words[5].parse::<u32>().is_ok(),
            "{clock}: {t}"
        );
    }
    let difference = show.get("Difference");
    let secs: u64 = difference
        .strip_suffix(" sec")
        .and_then(|n| n.parse().ok())
        .expect("N sec");
    assert!(secs <= 1, "{difference}");
    let used = DEFAULT_SIZE + PARTITION_OVERHEAD;
    assert_eq!(
        show.get("Maximum HSM Storage Space (Bytes)"),
        TOTAL_STORAGE.to_string()
    );
    assert_eq!(show.get("Space In Use (Bytes)"), used.to_string());
    assert_eq!(
        show.get("Free Space Left (Bytes)"),
        (TOTAL_STORAGE - used).to_string()
    );
    assert!(!s.contains("ZEROIZED") && !s.contains("HALTED"), "{s}");

    // Policy 12 off: FIPS-approved operation.
    sh.ok("hsm changePolicy -policy 12 -value 0 -force", &[]);
    assert!(
        sh.show()
            .0
            .contains("\nThe HSM is in FIPS approved operation mode.\n")
    );
}

#[test]
fn display_licenses_lists_the_capability_licences() {
    let (_rig, mut sh) = Rig::initialized();
    let out = sh.ok("hsm displayLicenses", &[]);
    assert_in_order(
        &out,
        &[
            "HSM CAPABILITY LICENSES",
            "License ID",
            "Description",
            "====",
            "SR-7000-BASE",
            "SR-7001-100",
        ],
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("SR-7001-100") && l.ends_with("Maximum 100 partitions")),
        "{out}"
    );
    assert_eq!(sh.ok("hsm displaylicenses", &[]), out);
}

// ----- destruction -----

#[test]
fn zeroize_keeps_policies_and_requires_a_new_init() {
    let (_rig, mut sh) = Rig::logged_in();
    sh.ok("partition create -partition P1 -force", &[]);
    sh.ok("hsm changePolicy -policy 16 -value 0 -force", &[]);
    let out = sh.ok("hsm zeroize", &["proceed"]);
    assert_in_order(
        &out,
        &[
            "CAUTION: You are about to zeroize the HSM. All contents of the HSM will be destroyed. \
             HSM policies, remote PED vector and Auditor left unchanged.",
            PROCEED_QUESTION,
            "Proceeding...",
            "'hsm zeroize' successful.",
        ],
    );
    let show = sh.show();
    assert_eq!(show.get("HSM Status"), "Zeroized");
    assert_eq!(show.get("Manually Zeroized"), "Yes");
    assert_eq!(show.get("HSM Admin login status"), "Not Logged In");
    assert!(show.0.contains("*** HSM IS ZEROIZED"), "{}", show.0);
    assert_eq!(sh.partitions(), Vec::<String>::new());
    assert_eq!(
        sh.policy("Allow network replication"),
        "Off",
        "policies are kept"
    );
    sh.fails(
        "partition create -partition P2 -force",
        &[],
        "partition create",
        NOT_INITIALIZED,
    );
    sh.ok(
        &format!("hsm init -label Again -password New-Pass-1 -domain {DOMAIN} -force"),
        &[],
    );
    sh.ok("hsm login -password New-Pass-1", &[]);
}

#[test]
fn factory_reset_resets_policies_on_the_local_console() {
    let (_rig, mut sh) = Rig::logged_in();
    sh.ok("partition create -partition P1 -force", &[]);
    sh.ok("hsm changePolicy -policy 16 -value 0 -force", &[]);
    let out = sh.ok("hsm factoryReset", &["proceed"]);
    assert_in_order(
        &out,
        &[
            "CAUTION: You are about to factory reset the HSM. All contents of the HSM will be \
             destroyed. HSM policies will be reset and the remote PED vector will be erased.",
            PROCEED_QUESTION,
            "'hsm factoryReset' successful.",
        ],
    );
    let show = sh.show();
    assert_eq!(show.get("HSM Label"), "");
    assert_eq!(show.get("Number of partitions created"), "0");
    assert_eq!(
        sh.policy("Allow network replication"),
        "On",
        "policies back to defaults"
    );
}

#[test]
fn decommission_button_on_the_local_console() {
    let (_rig, mut sh) = Rig::logged_in();
    sh.ok("partition create -partition P1 -force", &[]);
    sh.ok("hsm changePolicy -policy 16 -value 0 -force", &[]);
    let out = sh.ok("maintenance decommission", &["proceed"]);
    assert_in_order(
        &out,
        &[
            "CAUTION: You are about to decommission the HSM.",
            PROCEED_QUESTION,
            "The HSM has been decommissioned.",
        ],
    );
    let show = sh.show();
    assert_eq!(show.get("HSM Status"), "Decommissioned");
    assert_eq!(show.get("HSM Label"), "");
    assert_eq!(sh.partitions(), Vec::<String>::new());
    assert_eq!(
        sh.policy("Allow network replication"),
        "Off",
        "policies are kept (LC-23)"
    );
}

// ----- tamper -----

#[test]
fn tamper_show_clear_and_restart() {
    let (_rig, mut sh) = Rig::logged_in();
    sh.ok("partition create -partition P1 -force", &[]);
    let out = sh.ok("hsm tamper show", &[]);
    assert!(
        out.contains("No tamper events have been recorded."),
        "{out}"
    );

    sh.refused_after("maintenance tamper -type nosuch", &[]);
    let out = sh.ok("maintenance tamper -type chassis", &[]);
    assert!(
        out.contains("Tamper event raised: Chassis intrusion."),
        "{out}"
    );
    assert!(!out.contains("decommissioned"), "policy 40 is off: {out}");

    let show = sh.show();
    assert_eq!(show.get("HSM Tamper State"), "Tamper(s) detected");
    assert_eq!(show.get("HSM Status"), "Hardware Tamper");
    assert_eq!(show.get("HSM Admin login status"), "Not Logged In");

    let out = sh.ok("hsm tamper show", &[]);
    assert_eq!(
        field(&out, "Last tamper event").as_deref(),
        Some("Chassis intrusion")
    );
    assert_eq!(field(&out, "Decommissioned the HSM").as_deref(), Some("No"));
    assert_eq!(
        field(&out, "Tamper condition active").as_deref(),
        Some("Yes")
    );
    assert_eq!(field(&out, "Tamper clear required").as_deref(), Some("Yes"));
    assert_eq!(field(&out, "HSM restart required").as_deref(), Some("Yes"));

    // Policy 48 is on: only the SO clears the tamper; nothing else works meanwhile.
    sh.fails("hsm tamper clear", &[], "hsm tamper clear", NOT_LOGGED_IN);
    sh.ok("hsm login", &[SO_PW]);
    sh.fails(
        "partition create -partition P2 -force",
        &[],
        "partition create",
        TAMPERED,
    );
    let out = sh.ok("hsm tamper clear", &[]);
    assert_in_order(
        &out,
        &[
            "'hsm tamper clear' successful.",
            "The HSM must be restarted ('hsm restart') to resume normal operation.",
        ],
    );
    let out = sh.ok("hsm tamper show", &[]);
    assert_eq!(field(&out, "Tamper clear required").as_deref(), Some("No"));
    assert_eq!(field(&out, "HSM restart required").as_deref(), Some("Yes"));
    assert_eq!(sh.show().get("HSM Tamper State"), "Tamper(s) detected");

    let out = sh.ok("hsm restart -force", &[]);
    assert_in_order(
        &out,
        &[
            "Force option used. Proceed prompt bypassed.",
            "'hsm restart' successful.",
        ],
    );
    let show = sh.show();
    assert_eq!(show.get("HSM Tamper State"), "No tamper(s)");
    assert_eq!(show.get("HSM Status"), "OK");
    assert_eq!(
        show.get("HSM Admin login status"),
        "Not Logged In",
        "restart logs out"
    );
    let out = sh.ok("hsm tamper show", &[]);
    assert_eq!(
        field(&out, "Last tamper event").as_deref(),
        Some("Chassis intrusion")
    );
    assert_eq!(
        field(&out, "Tamper condition active").as_deref(),
        Some("No")
    );
    assert_eq!(
        sh.partitions(),
        ["P1"],
        "a tamper without policy 40 keeps the partitions"
    );
    sh.ok("hsm login", &[SO_PW]);
    sh.ok("partition create -partition P2 -force", &[]);
}

// ----- more rules seen through the shell -----

#[test]
fn long_labels_are_truncated_and_bad_ones_refused() {
    let (_rig, mut sh) = recovered();
    let long = "A23456789_123456789_123456789_123456789";
    sh.ok(
        &format!("hsm init -label {long} -password {SO_PW} -domain {DOMAIN} -force"),
        &[],
    );
    assert_eq!(
        sh.show().get("HSM Label"),
        &long[..32],
        "LC-12: truncated to 32"
    );
    sh.ok(&format!("hsm login -password {SO_PW}"), &[]);
    let before = sh.state();
    for label in ["bad-label", "\"with space\"", "\"\"", "caf\u{e9}"] {
        sh.fails(
            &format!("hsm init -label {label} -password {SO_PW} -force"),
            &[],
            "hsm init",
            "200000 : SR_RET_DATA_INVALID",
        );
    }
    assert_eq!(sh.state(), before);
}

#[test]
fn so_login_belongs_to_one_shell_session() {
    let (rig, mut a) = Rig::logged_in();
    let mut b = rig.admin();
    assert_eq!(b.show().get("HSM Admin login status"), "Not Logged In");
    b.fails(
        "partition create -partition B1 -force",
        &[],
        "partition create",
        NOT_LOGGED_IN,
    );
    a.ok("partition create -partition A1 -force", &[]);
    // A session that ends takes its login with it.
    drop(a);
    let mut c = rig.admin();
    c.fails(
        "partition delete -partition A1 -force",
        &[],
        "partition delete",
        NOT_LOGGED_IN,
    );
    assert_eq!(c.partitions(), ["A1"]);
}

#[test]
fn partition_sizes_are_accounted_against_the_hsm_storage() {
    let (_rig, mut sh) = Rig::logged_in();
    sh.fails(
        "partition create -partition P0 -size 0 -force",
        &[],
        "partition create",
        "70000 : SR_RET_ARGUMENTS_BAD",
    );
    sh.fails(
        &format!("partition create -partition Big -size {TOTAL_STORAGE} -force"),
        &[],
        "partition create",
        "80000902 : SR_RET_HSM_STORAGE_FULL",
    );
    sh.refused_after("partition create -partition P1 -size lots -force", &[]);
    sh.ok("partition create -partition P1 -size 1000000 -force", &[]);
    sh.ok(
        "partition create -partition All -allfreestorage -force",
        &[],
    );
    let show = sh.show();
    assert_eq!(show.get("Free Space Left (Bytes)"), "0");
    assert_eq!(show.get("Space In Use (Bytes)"), TOTAL_STORAGE.to_string());
    sh.fails(
        "partition create -partition P2 -size 1 -force",
        &[],
        "partition create",
        "80000902 : SR_RET_HSM_STORAGE_FULL",
    );
    sh.fails(
        "partition resize -partition P1 -size 1000001 -force",
        &[],
        "partition resize",
        "80000902 : SR_RET_HSM_STORAGE_FULL",
    );
    sh.refused_after("partition resize -partition P1 -force", &[]);
    sh.ok("partition resize -partition P1 -size 500000 -force", &[]);
    assert_eq!(sh.show().get("Free Space Left (Bytes)"), "500000");
    sh.fails(
        "partition resize -partition nosuch -size 5 -force",
        &[],
        "partition resize",
        "80000001 : SR_RET_CONTAINER_HANDLE_INVALID",
    );
}

#[test]
fn policy_33_limits_the_number_of_partitions() {
    let (_rig, mut sh) = Rig::logged_in();
    sh.ok("hsm changePolicy -policy 33 -value 2 -force", &[]);
    assert_eq!(sh.show().get("Number of partitions allowed"), "2");
    sh.ok("partition create -partition P1 -force", &[]);
    sh.ok("partition create -partition P2 -force", &[]);
    sh.fails(
        "partition create -partition P3 -force",
        &[],
        "partition create",
        "80000008 : SR_RET_TOO_MANY_CONTAINERS",
    );
    sh.fails(
        "hsm changePolicy -policy 33 -value 1 -force",
        &[],
        "hsm changePolicy",
        "10A07 : SR_RET_RM_CONFIG_CHANGE_FAILS_DEPENDENCIES",
    );
    sh.fails(
        "hsm changePolicy -policy 33 -value 101 -force",
        &[],
        "hsm changePolicy",
        "200A00 : SR_RET_RM_ELEMENT_VALUE_INVALID",
    );
    assert_eq!(sh.partitions(), ["P1", "P2"]);
}

#[test]
fn disable_decommission_zeroizes_the_hsm_and_blocks_the_button() {
    let (_rig, mut sh) = Rig::logged_in();
    sh.ok("partition create -partition P1 -force", &[]);
    let out = sh.ok("hsm changePolicy -policy 46 -value 1", &["proceed"]);
    assert_in_order(
        &out,
        &[
            "CAUTION: You are about to change a destructive HSM policy. The HSM will be zeroized",
            "'hsm changePolicy' successful.",
        ],
    );
    let show = sh.show();
    assert_eq!(show.get("HSM Status"), "Zeroized");
    assert_eq!(show.get("Number of partitions created"), "0");
    assert_eq!(sh.policy("Disable Decommission"), "On");
    sh.fails(
        "maintenance decommission -force",
        &[],
        "maintenance decommission",
        RESTRICTED,
    );
    assert_eq!(sh.show().get("HSM Status"), "Zeroized");
}

#[test]
fn battery_tamper_always_decommissions() {
    let (_rig, mut sh) = Rig::logged_in();
    sh.ok("partition create -partition P1 -force", &[]);
    let out = sh.ok("maintenance tamper -type batteryremoval", &[]);
    assert_in_order(
        &out,
        &[
            "Tamper event raised: Battery removal.",
            "The HSM has been decommissioned.",
        ],
    );
    let show = sh.show();
    assert_eq!(show.get("HSM Status"), "HSM Tamper, Decommissioned");
    assert_eq!(show.get("HSM Label"), "");
    assert_eq!(show.get("Number of partitions created"), "0");
    let out = sh.ok("hsm tamper show", &[]);
    assert_eq!(
        field(&out, "Decommissioned the HSM").as_deref(),
        Some("Yes")
    );
    // No SO exists any more: clearing needs no login (LC-32); then a restart.
    sh.ok("hsm tamper clear", &[]);
    sh.ok("hsm restart -force", &[]);
    assert_eq!(sh.show().get("HSM Status"), "Decommissioned");
    sh.ok(
        &format!("hsm init -label Again -password {SO_PW} -domain {DOMAIN} -force"),
        &[],
    );
    assert_eq!(sh.show().get("HSM Status"), "OK");
}

#[test]
fn decommission_on_tamper_policy_and_no_transport_while_tampered() {
    let (_rig, mut sh) = Rig::logged_in();
    sh.ok("maintenance tamper -type overtemp", &[]);
    sh.ok(&format!("hsm login -password {SO_PW}"), &[]);
    sh.fails(
        "hsm stm transport -force",
        &[],
        "hsm stm transport",
        TAMPERED,
    );
    sh.fails(
        "hsm changePolicy -policy 40 -value 1 -force",
        &[],
        "hsm changePolicy",
        TAMPERED,
    );
    sh.ok("hsm tamper clear", &[]);
    sh.ok("hsm restart -force", &[]);
    sh.ok(&format!("hsm login -password {SO_PW}"), &[]);
    sh.ok("partition create -partition P1 -force", &[]);
    sh.ok("hsm changePolicy -policy 40 -value 1 -force", &[]);
    sh.ok("partition create -partition P2 -force", &[]);
    let out = sh.ok("maintenance tamper -type chassis", &[]);
    assert!(
        out.contains("The HSM has been decommissioned."),
        "policy 40 on: {out}"
    );
    assert_eq!(sh.show().get("HSM Status"), "HSM Tamper, Decommissioned");
    assert_eq!(sh.partitions(), Vec::<String>::new());
}
