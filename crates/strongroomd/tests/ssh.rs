//! The SSH service with the real OpenSSH client against `strongroomd run` on a loopback port:
//! key and password authentication, the forced first password change, each role's command
//! set, exec exit statuses, file transfer with scp and sftp (certificate exchange, policy
//! templates, log archives), and the refusals: wrong passwords, disabled users, paths leaving
//! the file area, oversize uploads, a connection dropped at a `proceed` prompt, and many
//! sessions at once. Skipped (with a note) when the OpenSSH client is not installed.

mod common;

use std::io::Read as _;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::ssh::{ADMIN_PW, Auth, SshAppliance, assert_absent, available, help_names, text};
use common::{DOMAIN, LABEL, SO_PW, field};

macro_rules! require_openssh {
    () => {
        if !available() {
            eprintln!("skipped: the OpenSSH client (ssh, scp, sftp, ssh-keygen) is not installed");
            return;
        }
    };
}

fn pw(p: &str) -> Auth {
    Auth::Password(p.to_owned())
}

#[test]
fn key_authentication_exec_and_the_host_key_fingerprint() {
    require_openssh!();
    let app = SshAppliance::start();
    let key = app.admin_with_key();

    let out = app.exec_ok("admin", &key, "hsm show");
    assert_eq!(field(&out, "HSM Label").as_deref(), Some(LABEL), "{out}");
    assert_eq!(out.matches("Command Result").count(), 1, "{out}");
    // A failing command: exit status 1 and the failure line.
    let out = app.exec("admin", &key, "hsm login -password Wrong-Pass9");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("Error: 'hsm login' failed. (A00000 : SR_RET_UM_PIN_INCORRECT)"));
    let out = app.exec("admin", &key, "no such command");
    assert_eq!(out.status.code(), Some(1));

    // The fingerprint shown by the shell is the one the client recorded.
    let out = app.exec_ok("admin", &key, "sysconf fingerprint ssh");
    let shown = out
        .split_whitespace()
        .find(|w| w.starts_with("SHA256:"))
        .expect("fingerprint")
        .to_owned();
    let known = std::process::Command::new("ssh-keygen")
        .arg("-l")
        .arg("-f")
        .arg(app.local("known_hosts"))
        .output()
        .expect("ssh-keygen -l");
    assert!(
        String::from_utf8_lossy(&known.stdout).contains(&shown),
        "{shown} vs {}",
        String::from_utf8_lossy(&known.stdout)
    );
    // The host key file is owner-only.
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(app.data.join("ssh").join("ssh_host_ed25519_key"))
            .expect("host key")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);

    // Keys are listed and deleted; a deleted key no longer logs in.
    let out = app.exec_ok("admin", &key, "sysconf ssh publickey list");
    assert!(out.contains("admin@test"), "{out}");
    let fp = out
        .split_whitespace()
        .find(|w| w.starts_with("SHA256:"))
        .expect("key fingerprint")
        .to_owned();
    app.exec_ok(
        "admin",
        &pw(ADMIN_PW),
        &format!("sysconf ssh publickey delete -fingerprint {fp}"),
    );
    let out = app.exec("admin", &key, "hsm show");
    assert_eq!(out.status.code(), Some(255), "the deleted key still works");
    // Commands are logged with the user and the source address (SH-G-13).
    let log = app.log();
    assert!(
        log.lines()
            .any(|l| l.contains("info : 0 : Command: hsm show : admin : 127.0.0.1/")),
        "{log}"
    );
    assert!(
        log.contains("Command: hsm login -password * : admin"),
        "{log}"
    );
    assert!(
        !log.contains("Wrong-Pass9"),
        "a password was logged:\n{log}"
    );
}

/// The expected top-level commands of each role over SSH.
const ADMIN_TOP: &[&str] = &[
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
    "package",
];
const OPERATOR_TOP: &[&str] = &[
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
    "sysconf",
];
const MONITOR_TOP: &[&str] = &[
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
    "sysconf",
];
const AUDIT_TOP: &[&str] = &["help", "exit", "hsm", "audit", "my", "network"];

#[test]
fn each_role_sees_exactly_its_commands_and_is_refused_the_others() {
    require_openssh!();
    let app = SshAppliance::start();
    app.first_login("admin", "PASSWORD", ADMIN_PW);
    let admin = pw(ADMIN_PW);
    for (name, role) in [("op1", "operator"), ("mon1", "monitor"), ("aud1", "audit")] {
        let out = app.exec_ok(
            "admin",
            &admin,
            &format!("user add -username {name} -role {role} -password First-Pass1"),
        );
        assert!(
            out.contains("must change this password at first login"),
            "{out}"
        );
        app.first_login(name, "First-Pass1", &format!("{name}-Pass-22"));
    }
    let out = app.exec_ok("admin", &admin, "user list");
    for needle in [
        "op1", "operator", "mon1", "monitor", "aud1", "audit", "disabled",
    ] {
        assert!(out.contains(needle), "{needle}: {out}");
    }

    let cases: [(&str, Auth, &[&str]); 4] = [
        ("admin", admin.clone(), ADMIN_TOP),
        ("op1", pw("op1-Pass-22"), OPERATOR_TOP),
        ("mon1", pw("mon1-Pass-22"), MONITOR_TOP),
        ("aud1", pw("aud1-Pass-22"), AUDIT_TOP),
    ];
    for (user, auth, expected) in &cases {
        let out = app.exec_ok(user, auth, "help");
        assert_eq!(help_names(&out), *expected, "{user}:\n{out}");
        // Every listed group's own help works, and console-only commands never show.
        for group in expected.iter().filter(|g| !["help", "exit"].contains(g)) {
            let out = app.exec_ok(user, auth, &format!("help {group}"));
            assert!(!out.contains("factoryReset"), "{user} {group}:\n{out}");
        }
    }
    // The audit user's hsm commands are read-only; the audit group is its alone.
    let out = app.exec_ok("aud1", &pw("aud1-Pass-22"), "help hsm");
    assert_eq!(
        help_names(&out),
        ["show", "showPolicies", "displayLicenses"]
    );
    // `audit init` is the audit user's: it asks for the Audit role's password (here the
    // input ends, so nothing is created).
    let out = app.exec("aud1", &pw("aud1-Pass-22"), "audit init");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("Please enter a password for the Audit role:")
            && text(&out).contains("nothing was changed"),
        "{}",
        text(&out)
    );
    // Refusals: commands outside a role are unknown to it, and change nothing.
    for (user, auth, line) in [
        ("op1", pw("op1-Pass-22"), "user list"),
        ("op1", pw("op1-Pass-22"), "hsm zeroize -force"),
        (
            "mon1",
            pw("mon1-Pass-22"),
            "partition create -partition X -force",
        ),
        ("mon1", pw("mon1-Pass-22"), "net hostname evil"),
        ("aud1", pw("aud1-Pass-22"), "partition list"),
        ("admin", admin.clone(), "audit show"),
        ("admin", admin.clone(), "hsm factoryReset -force"),
        ("admin", admin.clone(), "maintenance decommission -force"),
    ] {
        let out = app.exec(user, &auth, line);
        assert_eq!(out.status.code(), Some(1), "{user}: {line}\n{}", text(&out));
        assert!(
            text(&out).contains("is not a valid command"),
            "{user}: {line}\n{}",
            text(&out)
        );
    }
    let out = app.exec_ok("admin", &admin, "hsm show");
    assert_eq!(field(&out, "HSM Label").as_deref(), Some(LABEL));
    assert_eq!(field(&out, "Manually Zeroized").as_deref(), Some("No"));

    // A role change takes effect at the next login.
    app.exec_ok("admin", &admin, "user role -username mon1 -role operator");
    let out = app.exec_ok("mon1", &pw("mon1-Pass-22"), "help partition");
    assert!(help_names(&out).contains(&"create".to_owned()), "{out}");
}

#[test]
fn passwords_forced_change_failures_disabled_users_and_recover() {
    require_openssh!();
    let app = SshAppliance::start();
    // Before the change: exec and SFTP are refused, the shell demands the change.
    let out = app.exec("admin", &pw("PASSWORD"), "hsm show");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("your password has expired"),
        "{}",
        text(&out)
    );
    let out = app.sftp("admin", &pw("PASSWORD"), "ls\n");
    assert!(!out.status.success(), "SFTP before the change");
    // A wrong current password, then mismatching entries: nothing changes.
    let out = app.shell(
        "admin",
        &pw("PASSWORD"),
        "Wrong-Pass1\nNew-Pass-11\nNew-Pass-11\nPASSWORD\nNew-Pass-11\nOther-Pass-1\n",
    );
    let t = text(&out);
    assert!(
        t.contains("Error: the current password is incorrect"),
        "{t}"
    );
    assert!(t.contains("Error: the two entries do not match."), "{t}");
    app.first_login("admin", "PASSWORD", ADMIN_PW);
    assert_eq!(
        app.exec("admin", &pw("PASSWORD"), "hsm show").status.code(),
        Some(255)
    );
    app.exec_ok("admin", &pw(ADMIN_PW), "hsm show");

    // Wrong passwords: refused, counted per user and address, slowed, logged.
    for _ in 0..3 {
        let out = app.exec("admin", &pw("Not-The-One1"), "hsm show");
        assert_eq!(out.status.code(), Some(255), "{}", text(&out));
    }
    let log = app.log();
    assert!(
        log.contains(
            "Login failed (password, wrong user or password; 3 consecutive failures \
                      for the user, 3 from the address) : admin : 127.0.0.1/"
        ),
        "{log}"
    );
    assert!(
        !log.contains("Not-The-One1"),
        "a password was logged:\n{log}"
    );
    // A success resets the counters.
    app.exec_ok("admin", &pw(ADMIN_PW), "hsm show");
    app.exec("admin", &pw("Not-The-One1"), "hsm show");
    assert!(app.log().contains("1 consecutive failures for the user"));

    // The audit user is disabled by default, even with its right password.
    let out = app.exec("audit", &pw("PASSWORD"), "help");
    assert_eq!(out.status.code(), Some(255));
    assert!(
        app.log()
            .lines()
            .any(|l| l.contains("the user is disabled;") && l.contains(") : audit : ")),
        "{}",
        app.log()
    );
    let out = app.exec_ok("admin", &pw(ADMIN_PW), "user enable -username audit");
    assert!(out.contains("'user enable' successful."), "{out}");
    app.first_login("audit", "PASSWORD", "Audit-Pass-1");
    let out = app.exec_ok("audit", &pw("Audit-Pass-1"), "help");
    assert_eq!(help_names(&out), AUDIT_TOP);
    // my password set rotates the appliance password.
    app.exec_ok(
        "audit",
        &pw("Audit-Pass-1"),
        "my password set -oldpassword Audit-Pass-1 -newpassword Audit-Pass-2",
    );
    app.exec_ok("audit", &pw("Audit-Pass-2"), "my file list");
    app.exec_ok("admin", &pw(ADMIN_PW), "user disable -username audit");
    assert_eq!(
        app.exec("audit", &pw("Audit-Pass-2"), "help").status.code(),
        Some(255)
    );

    // recover (local only): admin gets PASSWORD back, to be changed; the HSM is untouched.
    let mut cmd = common::process::command();
    cmd.arg("recover").arg("--dir").arg(&app.data);
    let (status, out, err) = common::process::Proc::spawn(cmd).finish(Duration::from_secs(30));
    assert!(status.success(), "{out}\n{err}");
    assert!(out.contains("factory password"), "{out}");
    assert_eq!(
        app.exec("admin", &pw(ADMIN_PW), "hsm show").status.code(),
        Some(255)
    );
    app.first_login("admin", "PASSWORD", "After-Recover1");
    let out = app.exec_ok("admin", &pw("After-Recover1"), "hsm show");
    assert_eq!(field(&out, "HSM Label").as_deref(), Some(LABEL));
    assert!(app.log().contains("Login by recover"), "{}", app.log());
}

#[test]
fn certificate_exchange_templates_and_archives_travel_by_scp_and_sftp() {
    require_openssh!();
    let app = SshAppliance::start();
    let key = app.admin_with_key();

    // Certificate exchange (003): the client's certificate goes up, is listed, comes back
    // byte-identical.
    let cert: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 251) as u8).collect();
    let local = app.local("192.168.5.174.pem");
    std::fs::write(&local, &cert).expect("write cert");
    let out = app.scp("admin", &key, &[local.to_str().expect("path"), "@:"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = app.exec_ok("admin", &key, "my file list");
    let line = list
        .lines()
        .find(|l| l.ends_with(" 192.168.5.174.pem"))
        .unwrap_or_else(|| panic!("not listed:\n{list}"));
    // `<size> <Mon DD HH:MM> <name>`
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(words[0], "3000", "{line}");
    assert_eq!(words[1].len(), 3, "{line}");
    assert!(
        words[2].parse::<u8>().is_ok() && words[3].contains(':'),
        "{line}"
    );
    let back = app.local("back.pem");
    let out = app.scp(
        "admin",
        &key,
        &["@:192.168.5.174.pem", back.to_str().expect("path")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&back).expect("downloaded"), cert);
    // Registration reads the uploaded file: these bytes are no certificate.
    let out = app.exec(
        "admin",
        &key,
        "client register -client supreme -ip 192.168.5.174",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("'192.168.5.174.pem' holds no PEM certificate"),
        "{}",
        text(&out)
    );

    // A policy template: exported, downloaded, edited, uploaded and applied at init.
    let out = app.shell(
        "admin",
        &key,
        &format!(
            "hsm login -password {SO_PW}\nhsm showPolicies -exporttemplate exported.tmpl\nexit\n"
        ),
    );
    assert!(
        text(&out).contains("Policy template written to 'exported.tmpl'"),
        "{}",
        text(&out)
    );
    let tmpl = app.local("exported.tmpl");
    let out = app.scp(
        "admin",
        &key,
        &["@:exported.tmpl", tmpl.to_str().expect("path")],
    );
    assert!(out.status.success());
    let text_tmpl = std::fs::read_to_string(&tmpl).expect("template");
    assert!(text_tmpl.contains("7:\"Allow cloning\":1"), "{text_tmpl}");
    let edited = app.local("nocloning.tmpl");
    std::fs::write(
        &edited,
        text_tmpl.replace("7:\"Allow cloning\":1", "7:\"Allow cloning\":0"),
    )
    .expect("edit");
    let out = app.scp(
        "admin",
        &key,
        &[edited.to_str().expect("path"), "@:nocloning.tmpl"],
    );
    assert!(out.status.success());
    let out = app.shell(
        "admin",
        &key,
        &format!(
            "hsm login -password {SO_PW}\nhsm zeroize -force\n\
             hsm init -label Templated -applytemplate nocloning.tmpl -password {SO_PW} \
             -domain {DOMAIN} -force\nhsm showPolicies\nexit\n"
        ),
    );
    let t = text(&out);
    assert!(t.contains("'hsm init' successful."), "{t}");
    assert!(
        t.lines()
            .any(|l| l.starts_with("Allow cloning") && l.split_whitespace().nth(2) == Some("Off")),
        "{t}"
    );

    // Log archive and support bundle come down as well.
    app.exec_ok("admin", &key, "syslog tarlogs");
    app.exec_ok("admin", &key, "hsm supportInfo");
    let tgz = app.local("logs.tgz");
    let out = app.scp("admin", &key, &["@:logs.tgz", tgz.to_str().expect("path")]);
    assert!(out.status.success());
    let listing = std::process::Command::new("tar")
        .arg("tzf")
        .arg(&tgz)
        .output()
        .expect("tar");
    assert!(
        String::from_utf8_lossy(&listing.stdout).contains("log/appliance.log"),
        "{}",
        String::from_utf8_lossy(&listing.stderr)
    );
    let out = app.sftp(
        "admin",
        &key,
        &format!(
            "get supportInfo.txt {}\nls -l\nrm exported.tmpl\n",
            app.local("support.txt").display()
        ),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let support = std::fs::read_to_string(app.local("support.txt")).expect("support");
    assert!(
        support.contains("HSM Details:") && support.contains("Tamper history:"),
        "{support}"
    );
    assert!(text(&out).contains("logs.tgz"), "{}", text(&out));
    assert_absent(&app.files("admin").join("exported.tmpl"));
    let out = app.exec_ok("admin", &key, "my file delete nocloning.tmpl");
    assert!(out.contains("'my file delete' successful."), "{out}");
    assert_absent(&app.files("admin").join("nocloning.tmpl"));
    // Transfers are logged.
    assert!(
        app.log()
            .contains("File transfer: uploaded '192.168.5.174.pem' (3000 bytes) : admin")
    );
}

#[test]
fn transfers_cannot_leave_the_file_area_or_exceed_its_bounds() {
    require_openssh!();
    let app = SshAppliance::start();
    let key = app.admin_with_key();
    let small = app.local("small.txt");
    std::fs::write(&small, "hello\n").expect("write");
    let small = small.to_str().expect("path");
    let outside = app.data.join("users").join("escaped.txt");
    for target in [
        "@:../escaped.txt",
        "@:../../escaped.txt",
        "@:/../escaped.txt",
        "@:/etc/escaped.txt",
        "@:sub/escaped.txt",
        "@:.hidden",
    ] {
        let out = app.scp("admin", &key, &[small, target]);
        assert!(!out.status.success(), "{target} was accepted");
    }
    assert_absent(&outside);
    assert_absent(&app.data.join("escaped.txt"));
    assert_absent(std::path::Path::new("/etc/escaped.txt"));
    for source in [
        "@:../../strongroom.toml",
        "@:/etc/passwd",
        "@:../admin/../x",
    ] {
        let out = app.scp(
            "admin",
            &key,
            &[source, app.local("got").to_str().expect("path")],
        );
        assert!(!out.status.success(), "{source} was served");
    }
    assert_absent(&app.local("got"));

    // A link planted in the area (by someone on the host) is neither followed nor replaced
    // through; sftp cannot make links or directories.
    let secret = app.tmp.path().join("secret.txt");
    std::fs::write(&secret, "host secret").expect("write");
    std::os::unix::fs::symlink(&secret, app.files("admin").join("link.txt")).expect("symlink");
    let out = app.scp(
        "admin",
        &key,
        &["@:link.txt", app.local("got").to_str().expect("path")],
    );
    assert!(!out.status.success(), "a link was followed");
    let _ = app.scp("admin", &key, &[small, "@:link.txt"]);
    assert_eq!(
        std::fs::read_to_string(&secret).expect("secret"),
        "host secret"
    );
    for batch in [
        "symlink small.txt evil\n",
        "mkdir sub\n",
        "ln -s /etc/passwd pw\n",
    ] {
        let out = app.sftp("admin", &key, batch);
        assert!(!out.status.success(), "{batch:?} was accepted");
    }
    let list = app.exec_ok("admin", &key, "my file list");
    assert!(!list.contains("link.txt"), "{list}");
    assert!(!list.contains("evil") && !list.contains("sub"), "{list}");
    std::fs::remove_file(app.files("admin").join("link.txt")).expect("remove link");

    // Bounds: 256 KiB per file, 512 KiB per user.
    let big = app.local("big.bin");
    std::fs::write(&big, vec![7u8; 300 * 1024]).expect("write");
    let out = app.scp("admin", &key, &[big.to_str().expect("path"), "@:big.bin"]);
    assert!(!out.status.success(), "an oversize file was accepted");
    let mid = app.local("mid.bin");
    std::fs::write(&mid, vec![9u8; 200 * 1024]).expect("write");
    for name in ["m1.bin", "m2.bin"] {
        let out = app.scp(
            "admin",
            &key,
            &[mid.to_str().expect("path"), &format!("@:{name}")],
        );
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = app.scp("admin", &key, &[mid.to_str().expect("path"), "@:m3.bin"]);
    assert!(!out.status.success(), "the user's bound was exceeded");
    let names: Vec<String> = std::fs::read_dir(app.files("admin"))
        .expect("area")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| n == "big.bin" || n == "m3.bin" || n.starts_with('.')),
        "{names:?}"
    );
    assert!(app.log().contains("File transfer refused"), "{}", app.log());
}

#[test]
fn a_connection_dropped_at_a_proceed_prompt_changes_nothing() {
    require_openssh!();
    let app = SshAppliance::start();
    let key = app.admin_with_key();
    app.exec_ok("admin", &key, &format!("hsm login -password {SO_PW}"));
    let before = app.exec_ok("admin", &key, "hsm show");

    let mut cmd = app.ssh("admin", &key);
    cmd.arg("-T")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().expect("ssh");
    let mut stdin = child.stdin.take().expect("stdin");
    std::io::Write::write_all(&mut stdin, b"hsm zeroize\n").expect("write");
    let mut stdout = child.stdout.take().expect("stdout");
    // Read until the prompt shows, then cut the connection.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains("type 'proceed'") {
        assert!(
            Instant::now() < deadline,
            "no proceed prompt:\n{}",
            String::from_utf8_lossy(&seen)
        );
        let n = stdout.read(&mut buf).expect("read");
        assert!(
            n > 0,
            "ssh ended early:\n{}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    child.kill().expect("kill ssh");
    let _ = child.wait();
    drop(stdin);

    // Wait (polling) until the server has ended that shell, then compare.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !app.log().contains("Command: hsm zeroize : admin") {
        assert!(Instant::now() < deadline, "the command was never logged");
        std::thread::sleep(Duration::from_millis(50));
    }
    let after = app.exec_ok("admin", &key, "hsm show");
    let strip = |s: &str| {
        s.lines()
            .filter(|l| {
                !l.starts_with("HSM Time")
                    && !l.starts_with("Host Time")
                    && !l.starts_with("Difference")
            })
            .map(|l| {
                if l.starts_with("HSM Admin login status") {
                    String::new()
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&before), strip(&after));
    assert_eq!(field(&after, "HSM Label").as_deref(), Some(LABEL));
    assert_eq!(field(&after, "Manually Zeroized").as_deref(), Some("No"));
}

#[test]
fn many_parallel_sessions_are_all_served() {
    require_openssh!();
    let app = SshAppliance::start();
    let key = app.admin_with_key();
    let app = &app;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..12)
            .map(|i| {
                let key = key.clone();
                scope.spawn(move || {
                    if i % 3 == 0 {
                        let out = app.shell("admin", &key, "hsm show\npartition list\nexit\n");
                        let t = text(&out);
                        assert!(
                            out.status.success() && t.contains("HSM Details:"),
                            "{i}: {t}"
                        );
                    } else {
                        let out = app.exec_ok("admin", &key, "hsm show");
                        assert_eq!(field(&out, "HSM Label").as_deref(), Some(LABEL), "{i}");
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("session thread");
        }
    });
}

#[test]
fn appliance_settings_are_recorded_and_say_the_host_is_unchanged() {
    require_openssh!();
    let app = SshAppliance::start();
    let key = app.admin_with_key();
    let out = app.exec_ok("admin", &key, "net hostname hsm7");
    assert!(out.contains("Success: Hostname hsm7 set."), "{out}");
    assert!(out.contains("does not change the host's"), "{out}");
    let out = app.exec_ok("admin", &key, "net -dns -nameserver 192.168.5.78");
    assert!(
        out.contains("Success: Nameserver 192.168.5.78 added"),
        "{out}"
    );
    let out = app.exec_ok(
        "admin",
        &key,
        "net interface -static -device eth0 -ip 192.168.5.200 -netmask 255.255.255.0 -gateway 192.168.5.1 -force",
    );
    assert!(out.contains("Configuration of eth0 recorded."), "{out}");
    let out = app.exec_ok("admin", &key, "sysconf -timezone -set US/Eastern");
    assert!(out.contains("Timezone set to US/Eastern"), "{out}");
    let out = app.exec_ok("admin", &key, "sysconf ntp -addserver 192.168.5.200");
    assert!(out.contains("NTP server 192.168.5.200 added"), "{out}");
    let out = app.exec_ok("admin", &key, "network show");
    for needle in ["hsm7", "192.168.5.78", "eth0:", "static 192.168.5.200"] {
        assert!(out.contains(needle), "{needle}: {out}");
    }
    let out = app.exec_ok("admin", &key, "status zone");
    assert!(out.contains("US/Eastern"), "{out}");
    // The prompt names the recorded host.
    let out = app.shell("admin", &key, "exit\n");
    assert!(text(&out).contains("[hsm7] strongroom:>"), "{}", text(&out));
    let out = app.exec_ok("admin", &key, "service status ssh");
    assert!(
        out.contains(&format!("ssh is running (127.0.0.1:{})", app.port)),
        "{out}"
    );
    let out = app.exec("admin", &key, "service restart ntls");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("NTLS is off in the configuration"),
        "{}",
        text(&out)
    );
    let out = app.exec_ok(
        "admin",
        &key,
        "sysconf config factoryReset -service network -force",
    );
    assert!(out.contains("network : succeeded"), "{out}");
    let out = app.exec_ok("admin", &key, "network show");
    assert!(!out.contains("hsm7"), "{out}");
}

/// An IPv4 address of this machine that is not loopback, if it has one.
fn non_loopback_ipv4() -> Option<String> {
    let out = std::process::Command::new("hostname")
        .arg("-I")
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .find(|a| {
            a.parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| !ip.is_loopback())
        })
        .map(str::to_owned)
}

#[test]
fn the_factory_password_works_only_from_the_appliance_itself() {
    if !available() {
        return;
    }
    let Some(remote) = non_loopback_ipv4() else {
        eprintln!("skipped: this machine has no non-loopback IPv4 address");
        return;
    };
    let app = SshAppliance::start_listening("", "0.0.0.0:0");
    // From the network: refused, and logged with the reason.
    let mut cmd = app.ssh_host("admin", &pw("PASSWORD"), &remote);
    cmd.arg("hsm show");
    let out = common::ssh::run(cmd);
    assert!(
        !out.status.success(),
        "factory password accepted remotely: {}",
        text(&out)
    );
    assert!(
        app.log()
            .contains("the factory password is accepted only from the appliance itself"),
        "{}",
        app.log()
    );
    // From the appliance itself: accepted, with the forced change.
    app.first_login("admin", "PASSWORD", ADMIN_PW);
    // Once changed, the administrator works from the network.
    let mut cmd = app.ssh_host("admin", &pw(ADMIN_PW), &remote);
    cmd.arg("hsm show");
    let out = common::ssh::run(cmd);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("HSM Label"), "{}", text(&out));
}
