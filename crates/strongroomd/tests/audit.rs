//! The audit log as the Auditor sees it at the appliance shell: the `audit` appliance user,
//! the Auditor role, configuration, events reaching the audit files, verification (and its
//! failure on a tampered file), separation of roles, the lockout, LOG FULL and its recovery,
//! secret export and import between two appliances, and archives downloaded with scp.

mod common;

use std::path::{Path, PathBuf};

use common::ssh::{ADMIN_PW, Auth, SshAppliance, available, text};
use common::{Rig, SO_PW, Shell, fast_config};
use strongroom_module::{Module, ModuleConfig};
use strongroomd::{Appliance, AuditLimits, Channel, Role};

const AU_PW: &str = "Auditor-Pass-1";
const AU_DOMAIN: &str = "audit-domain";

/// An initialized appliance whose module holds `capacity` records and whose audit
/// directory takes `dir_max` bytes; returns the admin and audit console sessions.
fn rig(capacity: u64, dir_max: u64) -> (Rig, Shell, Shell) {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let config = ModuleConfig {
        audit_capacity: capacity,
        ..fast_config()
    };
    let (module, strings) = Module::open(&data, config).expect("open module");
    let strings = strings.expect("new module");
    let mut appliance = Appliance::new(module, data, None);
    appliance.audit = AuditLimits {
        dir_max_bytes: dir_max,
    };
    let rig = Rig {
        dir,
        appliance,
        strings,
    };
    let mut admin = rig.admin();
    admin.ok(
        &format!(
            "hsm stm recover -randomuserstring {} -force",
            rig.strings.random_user_string
        ),
        &[],
    );
    admin.ok(
        &format!(
            "hsm init -label {} -password {SO_PW} -domain {} -force",
            common::LABEL,
            common::DOMAIN
        ),
        &[],
    );
    let audit = rig.session("audit", Role::Audit, Channel::LocalConsole);
    (rig, admin, audit)
}

fn audit_dir(rig: &Rig) -> PathBuf {
    rig.data_dir().join("audit")
}

fn log_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| r.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|x| x == "log"));
    v.sort();
    v
}

fn name(p: &Path) -> String {
    p.file_name()
        .and_then(|n| n.to_str())
        .expect("name")
        .to_owned()
}

/// `audit init`, `audit login`, `audit config -parameter event -value VALUE`.
fn set_up_auditor(audit: &mut Shell, value: &str) {
    let out = audit.ok("audit init", &[AU_PW, AU_PW, AU_DOMAIN, AU_DOMAIN]);
    assert!(out.contains("'audit init' successful."), "{out}");
    audit.ok(&format!("audit login -password {AU_PW}"), &[]);
    audit.ok("audit sync", &[]);
    audit.ok(
        &format!("audit config -parameter event -value {value}"),
        &[],
    );
}

#[test]
fn the_auditor_configures_logging_and_verifies_the_files_and_a_tampered_file_fails() {
    let (rig, mut admin, mut audit) = rig(10_000, 1 << 30);
    // Nothing moves to the appliance before the Auditor configures logging.
    assert!(log_files(&audit_dir(&rig)).is_empty());
    set_up_auditor(&mut audit, "all");
    audit.ok("audit config -parameter rotationsize -value 4k", &[]);
    let show = audit.ok("audit show", &[]);
    for needle in [
        "Audit Logging Configured:  Yes",
        "Event Logging:             access,manage,keymanage,asymmetric,first,symmetric,symfirst,external,logmanage",
        "Log Rotation Size (Bytes): 4096",
        "HSM Time Synchronized:     Yes",
    ] {
        assert!(show.contains(needle), "{needle}:\n{show}");
    }
    // The HSM SO works; its events reach the audit files.
    admin.ok(&format!("hsm login -password {SO_PW}"), &[]);
    for i in 0..4 {
        admin.ok(&format!("partition create -partition p{i} -force"), &[]);
    }
    admin.ok("hsm changePolicy -policy 49 -value 1 -force", &[]);
    admin.ok("hsm time sync", &[]);
    let files = log_files(&audit_dir(&rig));
    assert!(files.len() >= 2, "rotated at 4 KiB: {files:?}");
    let all: String = files
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("read"))
        .collect();
    for needle in [
        "operation SR_INIT_TOKEN returned RC_OK(0x00000000)",
        "operation SR_CREATE_AUDIT_CONTAINER returned RC_OK",
        "operation SR_LOGIN returned RC_OK(0x00000000) roleID=1",
        "operation SR_CREATE_CONTAINER returned RC_OK",
        "operation SR_SET_HSM_POLICY returned RC_OK(0x00000000) policy=49 value=1",
        "operation SR_LOG_SET_TIME returned RC_OK(0x00000000) roleID=1",
    ] {
        assert!(all.contains(needle), "{needle} missing");
    }
    assert!(all.lines().all(|l| l.len() == 455), "fixed-width records");
    let list = audit.ok("audit log list", &[]);
    for f in &files {
        assert!(list.contains(&name(f)), "{list}");
    }
    for f in &files {
        let out = audit.ok(&format!("audit log verify -file {}", name(f)), &[]);
        assert!(out.contains("record(s) verified"), "{out}");
        assert!(!out.contains("could not be checked"), "{out}");
    }

    // Tamper: change one character of the 3rd record of the first file.
    let first = &files[0];
    let mut bytes = std::fs::read(first).expect("read");
    let seq3: u32 = String::from_utf8_lossy(&bytes[2 * 456..2 * 456 + 10])
        .trim()
        .parse()
        .expect("seq");
    bytes[2 * 456 + 100] = if bytes[2 * 456 + 100] == b'Z' {
        b'Y'
    } else {
        b'Z'
    };
    std::fs::write(first, &bytes).expect("write");
    let out = audit.fails(
        &format!("audit log verify -file {}", name(first)),
        &[],
        "audit log verify",
        "80000D05 : SR_RET_LOG_BAD_RECORD_HMAC",
    );
    assert!(
        out.contains(&format!("verification failed at record {seq3}")),
        "{out}"
    );

    // Truncate the newest file by its last record.
    let newest = files.last().expect("files");
    let bytes = std::fs::read(newest).expect("read");
    let last_seq: u32 = String::from_utf8_lossy(&bytes[bytes.len() - 456..][..10])
        .trim()
        .parse()
        .expect("seq");
    std::fs::write(newest, &bytes[..bytes.len() - 456]).expect("truncate");
    let out = audit.fails(
        &format!("audit log verify -file {}", name(newest)),
        &[],
        "audit log verify",
        "80000D05 : SR_RET_LOG_BAD_RECORD_HMAC",
    );
    assert!(out.contains(&format!("record {last_seq}")), "{out}");
    assert!(out.contains("truncated"), "{out}");

    // Clearing deletes the appliance files only; the chain goes on in new files.
    audit.ok("audit log clear -force", &[]);
    assert!(log_files(&audit_dir(&rig)).is_empty());
    admin.ok("hsm showPolicies", &[]);
    admin.ok("partition delete -partition p0 -force", &[]);
    let files = log_files(&audit_dir(&rig));
    assert_eq!(files.len(), 1);
    let out = audit.ok(&format!("audit log verify -file {}", name(&files[0])), &[]);
    assert!(out.contains("record(s) verified"), "{out}");
}

#[test]
fn audit_commands_belong_to_the_auditor_only() {
    let (_rig, mut admin, mut audit) = rig(10_000, 1 << 30);
    // The admin sees no audit commands: neither configuring nor clearing.
    let help = admin.ok("help", &[]);
    assert!(
        !help.lines().any(|l| l.trim_start().starts_with("audit")),
        "{help}"
    );
    for line in [
        "audit show",
        "audit config -parameter event -value none",
        "audit log clear -force",
    ] {
        admin.refused(line);
    }
    // The audit user cannot administer.
    for line in [
        &format!("hsm login -password {SO_PW}") as &str,
        "partition create -partition x -force",
        "hsm zeroize -force",
        "user enable -username operator",
    ] {
        audit.refused(line);
    }
    // Without the Auditor logged in, audit work is refused.
    audit.ok("audit init", &[AU_PW, AU_PW, AU_DOMAIN, AU_DOMAIN]);
    audit.fails(
        "audit config -parameter event -value all",
        &[],
        "audit config",
        "1010000 : SR_RET_USER_NOT_LOGGED_IN",
    );
    audit.refused_after("audit log clear -force", &[]);
    // A second init is refused.
    audit.fails(
        "audit init",
        &[AU_PW, AU_PW, AU_DOMAIN, AU_DOMAIN],
        "audit init",
        "10A0B : SR_RET_OPERATION_RESTRICTED",
    );
    // The HSM SO cannot change the time-keeping of the audit role without its own login,
    // and hsm time sync needs the HSM SO.
    admin.fails(
        "hsm time sync",
        &[],
        "hsm time sync",
        "1010000 : SR_RET_USER_NOT_LOGGED_IN",
    );
}

#[test]
fn three_bad_auditor_logins_lock_the_auditor_but_not_the_hsm() {
    let (_rig, mut admin, mut audit) = rig(10_000, 1 << 30);
    audit.ok("audit init", &[AU_PW, AU_PW, AU_DOMAIN, AU_DOMAIN]);
    for _ in 0..2 {
        audit.fails(
            "audit login -password Wrong-Pass-1",
            &[],
            "audit login",
            "A00000 : SR_RET_UM_PIN_INCORRECT",
        );
    }
    audit.fails(
        "audit login -password Wrong-Pass-1",
        &[],
        "audit login",
        "80000D0A : SR_RET_AUDIT_LOGIN_FAILURE_THRESHOLD",
    );
    audit.fails(
        &format!("audit login -password {AU_PW}"),
        &[],
        "audit login",
        "80000D09 : SR_RET_AUDIT_LOGIN_TIMEOUT_IN_PROGRESS",
    );
    // The HSM is not harmed.
    admin.ok(&format!("hsm login -password {SO_PW}"), &[]);
    let show = admin.show();
    assert_eq!(
        show.get("HSM Admin login attempts left"),
        "3 before HSM zeroization!"
    );
    admin.ok("partition create -partition still -force", &[]);
}

#[test]
fn log_full_stops_the_hsm_until_the_auditor_clears_the_audit_files() {
    // 20 records in the module, about 10 records in the audit directory.
    let (rig, mut admin, mut audit) = rig(20, 10 * 456);
    set_up_auditor(&mut audit, "all");
    admin.ok(&format!("hsm login -password {SO_PW}"), &[]);
    let mut refused = None;
    for i in 0..100 {
        let (outcome, out) = admin.run(
            &format!("partition create -partition p{i} -size 1000 -force"),
            &[],
        );
        if outcome != strongroomd::Outcome::Success {
            refused = Some(out);
            break;
        }
        admin.ok(&format!("partition delete -partition p{i} -force"), &[]);
    }
    let out = refused.expect("the log filled");
    assert!(out.contains("(80000D03 : SR_RET_LOG_FULL)"), "{out}");
    // Everything stops with LOG FULL...
    admin.fails(
        "hsm changePolicy -policy 49 -value 1 -force",
        &[],
        "hsm changePolicy",
        "80000D03 : SR_RET_LOG_FULL",
    );
    // ... but the Auditor logs in, configures and clears.
    let mut audit2 = rig.session("audit", Role::Audit, Channel::LocalConsole);
    audit2.ok(&format!("audit login -password {AU_PW}"), &[]);
    audit2.ok("audit config -parameter rotationsize -value 1m", &[]);
    audit2.ok("audit log tarlogs", &[]);
    audit.ok("audit log clear -force", &[]);
    // Service resumes.
    admin.ok("hsm changePolicy -policy 49 -value 1 -force", &[]);
    let show = audit.ok("audit show", &[]);
    assert!(
        !show.contains("Records Held In HSM:       20 of 20"),
        "{show}"
    );
}

#[test]
fn a_secret_exported_from_one_appliance_verifies_its_logs_on_another() {
    let (rig_a, mut admin_a, mut audit_a) = rig(10_000, 1 << 30);
    set_up_auditor(&mut audit_a, "all");
    admin_a.ok(&format!("hsm login -password {SO_PW}"), &[]);
    admin_a.ok("partition create -partition a1 -force", &[]);
    let out = audit_a.ok("audit secret export", &[]);
    let serial_a = rig_a.appliance.module.lock().expect("module").serial();
    let secret_name = format!("audit_secret_{serial_a}.bin");
    assert!(out.contains(&secret_name), "{out}");
    let file_a = log_files(&audit_dir(&rig_a)).pop().expect("a log file");

    let (rig_b, _admin_b, mut audit_b) = rig(10_000, 1 << 30);
    set_up_auditor(&mut audit_b, "all");
    let serial_b = rig_b.appliance.module.lock().expect("module").serial();
    let files_b = rig_b.data_dir().join("users").join("audit");
    std::fs::create_dir_all(&files_b).expect("file area");
    std::fs::copy(
        rig_a
            .data_dir()
            .join("users")
            .join("audit")
            .join(&secret_name),
        files_b.join(&secret_name),
    )
    .expect("copy the secret");
    std::fs::copy(&file_a, files_b.join("from_a.log")).expect("copy the log");
    audit_b.fails(
        "audit log verify -file from_a.log",
        &[],
        "audit log verify",
        "80000D05 : SR_RET_LOG_BAD_RECORD_HMAC",
    );
    audit_b.ok(
        &format!(
            "audit secret import -serialtarget {serial_b} -serialsource {serial_a} -file {secret_name}"
        ),
        &[],
    );
    let out = audit_b.ok("audit log verify -file from_a.log", &[]);
    assert!(out.contains("record(s) verified"), "{out}");
    // B's own logs need B's own secret back.
    let own = name(&log_files(&audit_dir(&rig_b)).pop().expect("own log"));
    audit_b.fails(
        &format!("audit log verify -file {own}"),
        &[],
        "audit log verify",
        "80000D05 : SR_RET_LOG_BAD_RECORD_HMAC",
    );
    audit_b.ok("audit secret export", &[]);
    audit_b.ok(
        &format!(
            "audit secret import -serialtarget {serial_b} -serialsource {serial_b} -file audit_secret_{serial_b}.bin"
        ),
        &[],
    );
    audit_b.ok(&format!("audit log verify -file {own}"), &[]);

    // An appliance with another audit domain refuses the secret by its checksum.
    let (rig_c, _admin_c, mut audit_c) = rig(10_000, 1 << 30);
    audit_c.ok(
        "audit init",
        &[AU_PW, AU_PW, "other-domain", "other-domain"],
    );
    audit_c.ok(&format!("audit login -password {AU_PW}"), &[]);
    let serial_c = rig_c.appliance.module.lock().expect("module").serial();
    std::fs::create_dir_all(rig_c.data_dir().join("users").join("audit")).expect("file area");
    std::fs::copy(
        rig_a
            .data_dir()
            .join("users")
            .join("audit")
            .join(&secret_name),
        rig_c
            .data_dir()
            .join("users")
            .join("audit")
            .join(&secret_name),
    )
    .expect("copy the secret");
    audit_c.fails(
        &format!(
            "audit secret import -serialtarget {serial_c} -serialsource {serial_a} -file {secret_name}"
        ),
        &[],
        "audit secret import",
        "80000D04 : SR_RET_LOG_NO_KCV",
    );
}

/// Over SSH against a running daemon: enabling the audit user, its forced password change,
/// the Auditor's flow in one shell session, and the archive downloaded with the real scp.
#[test]
fn the_audit_user_archives_the_logs_and_downloads_them_with_scp() {
    if !available() {
        eprintln!("OpenSSH client tools missing: test skipped");
        return;
    }
    let app = SshAppliance::start_with("[audit]\ncapacity_records = 1000\n");
    let pw = |p: &str| Auth::Password(p.to_owned());
    app.first_login("admin", "PASSWORD", ADMIN_PW);
    app.exec_ok("admin", &pw(ADMIN_PW), "user enable -username audit");
    app.first_login("audit", "PASSWORD", "Audit-User-Pw1");
    let au = pw("Audit-User-Pw1");
    let out = app.shell(
        "audit",
        &au,
        &format!(
            "audit init -password {AU_PW} -domain {AU_DOMAIN}\n\
             audit login -password {AU_PW}\n\
             audit config -parameter event -value all\n\
             audit show\nexit\n"
        ),
    );
    let t = text(&out);
    assert_eq!(t.matches("Command Result : 0 (Success)").count(), 4, "{t}");
    app.exec_ok(
        "admin",
        &pw(ADMIN_PW),
        &format!("hsm login -password {SO_PW}"),
    );
    let out = app.shell(
        "audit",
        &au,
        &format!("audit login -password {AU_PW}\naudit log tarlogs\nmy file list\nexit\n"),
    );
    let t = text(&out);
    assert!(t.contains("'audit.tgz'") && t.contains("audit.tgz"), "{t}");
    let local = app.local("downloaded_audit.tgz");
    let out = app.scp(
        "audit",
        &au,
        &["@:audit.tgz", local.to_str().expect("path")],
    );
    assert!(
        out.status.success(),
        "scp: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The archive holds the log files with the records of what happened.
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(&local).expect("archive"));
    let mut tar = tar::Archive::new(gz);
    let mut logs = String::new();
    for entry in tar.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let path = entry.path().expect("path").to_string_lossy().into_owned();
        assert!(
            path.starts_with("audit/audit_") && path.ends_with(".log"),
            "{path}"
        );
        std::io::Read::read_to_string(&mut entry, &mut logs).expect("read");
    }
    for needle in [
        "operation SR_INIT_TOKEN",
        "operation SR_CREATE_AUDIT_CONTAINER",
        "operation SR_LOGIN returned RC_OK(0x00000000) roleID=1",
    ] {
        assert!(logs.contains(needle), "{needle} missing:\n{logs}");
    }
    // The admin cannot reach the audit commands over SSH either.
    let out = app.exec("admin", &pw(ADMIN_PW), "audit log clear -force");
    assert!(!out.status.success());
}
