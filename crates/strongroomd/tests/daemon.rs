//! The real `strongroomd` binary: the development appliance, `run --config`, the piped
//! console (attached and in-process), signals, bad configurations and crash durability.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use common::process::{CONSOLE_TIMEOUT, Proc, command, console, console_ok, dev_data, value_after};
use common::{field, partition_rows};
use strongroomd::DevCredentials;

/// The partition names in a console transcript's `partition list`.
fn listed(out: &str) -> Vec<String> {
    partition_rows(out).into_iter().map(|r| r.name).collect()
}

fn credentials(dir: &Path) -> (String, DevCredentials) {
    let path = strongroomd::credentials_path(dir);
    let text = std::fs::read_to_string(&path).expect("dev-credentials.toml");
    let creds: DevCredentials = toml::from_str(&text).expect("credentials parse");
    (text, creds)
}

#[test]
fn dev_appliance_serves_the_console_stops_on_sigterm_and_restarts_with_its_state() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("appliance");
    let data = dev_data(&dir);
    let sock = strongroomd::socket_path(&data);

    let mut daemon = Proc::dev(&dir);
    assert!(sock.exists());
    // Owner-only: the data directory, the socket's directory and the socket.
    let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "data directory");
    assert_eq!(mode(&data.join("run")), 0o700, "run directory");
    assert_eq!(mode(&sock), 0o600, "console socket");

    // The credentials file: owner-only, with the three keys.
    let path = strongroomd::credentials_path(&dir);
    let mode = std::fs::metadata(&path)
        .expect("credentials file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let (text, creds) = credentials(&dir);
    let table: toml::Table = toml::from_str(&text).expect("toml");
    for key in ["hsm_so_password", "domain", "partition", "admin_password"] {
        assert!(
            table
                .get(key)
                .and_then(|v| v.as_str())
                .is_some_and(|v| !v.is_empty()),
            "{key}: {text}"
        );
    }
    assert_eq!(creds.partition, strongroomd::DEV_PARTITION);
    assert!(creds.ssh_port > 0, "{text}");
    assert!(
        creds.ntls_port > 0 && creds.ntls_port != creds.ssh_port,
        "{text}"
    );
    let out = daemon.wait_for(
        "NTLS service listening on 127.0.0.1:",
        Duration::from_secs(5),
    );
    assert!(
        out.contains(&format!(
            "NTLS service listening on 127.0.0.1:{}",
            creds.ntls_port
        )),
        "{out}"
    );
    // The development appliance's certificate names 127.0.0.1 and waits in admin's area.
    let server_pem = data.join("users").join("admin").join("server.pem");
    let pem = std::fs::read_to_string(&server_pem).expect("server.pem");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    let out = daemon.wait_for(
        "SSH service listening on 127.0.0.1:",
        Duration::from_secs(5),
    );
    assert!(
        out.contains(&format!(
            "SSH service listening on 127.0.0.1:{}",
            creds.ssh_port
        )),
        "{out}"
    );
    // The generated admin password logs in over SSH, no change required.
    if common::ssh::available() {
        let out = dev_ssh(&dir, &creds, "hsm show");
        assert!(out.contains("Command Result : 0 (Success)"), "{out}");
    }
    let out = daemon.wait_for("Development appliance ready", Duration::from_secs(5));
    assert!(
        out.contains(&creds.hsm_so_password),
        "the first run prints the credentials:\n{out}"
    );

    // A piped console attaches to the daemon.
    let out = console_ok(&data, "hsm show\nexit\n");
    assert!(out.contains("strongroom:> "), "{out}");
    assert_eq!(
        field(&out, "HSM Label").as_deref(),
        Some(strongroomd::DEV_LABEL),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("Partition:") && l.ends_with(", Name: dev")),
        "{out}"
    );
    assert!(out.contains("Command Result : 0 (Success)"), "{out}");

    // Logging in with the generated password; it is neither echoed nor logged.
    let pw = &creds.hsm_so_password;
    let out = console_ok(
        &data,
        &format!(
            "hsm login\n{pw}\npartition create -partition keep1 -force\npartition list\nexit\n"
        ),
    );
    assert!(
        out.contains("Please enter the HSM Administrators' password:"),
        "{out}"
    );
    assert!(out.contains("'hsm login' successful."), "{out}");
    assert!(out.contains("'partition create' successful."), "{out}");
    assert!(!out.contains(pw.as_str()), "password echoed:\n{out}");
    assert_eq!(listed(&out), ["dev", "keep1"]);
    let out = console_ok(&data, &format!("hsm login -password {pw}\nexit\n"));
    assert!(out.contains("'hsm login' successful."), "{out}");
    let log = daemon.stderr();
    assert!(!log.contains(pw.as_str()), "password logged:\n{log}");
    assert!(
        log.contains("hsm login -password *"),
        "SH-G-13: commands are logged:\n{log}"
    );

    // SIGTERM: clean exit, socket removed.
    let status = daemon.terminate();
    assert!(
        status.success(),
        "exit status {status}:\n{}",
        daemon.stderr()
    );
    assert!(!sock.exists(), "the console socket is left behind");

    // With no daemon, the console opens the module itself.
    let out = console_ok(&data, "partition list\nexit\n");
    assert_eq!(listed(&out), ["dev", "keep1"]);
    assert!(!sock.exists());

    // Restart: same credentials, same state.
    let mut daemon = Proc::dev(&dir);
    let out = daemon.wait_for("Development appliance in", Duration::from_secs(5));
    assert!(
        !out.contains(pw.as_str()),
        "a restart does not print the password again:\n{out}"
    );
    let again = credentials(&dir).1;
    assert_eq!(
        (
            &again.hsm_so_password,
            &again.domain,
            &again.partition,
            &again.admin_password
        ),
        (
            &creds.hsm_so_password,
            &creds.domain,
            &creds.partition,
            &creds.admin_password
        ),
        "credentials are reused"
    );
    // The NTLS certificate is kept (clients pinned it), and the port when it is free.
    assert_eq!(
        std::fs::read_to_string(&server_pem).expect("server.pem"),
        pem
    );
    assert_eq!(
        again.ntls_port, creds.ntls_port,
        "the previous NTLS port is reused"
    );
    let out = console_ok(&data, &format!("hsm login\n{pw}\npartition list\nexit\n"));
    assert!(out.contains("'hsm login' successful."), "{out}");
    assert_eq!(listed(&out), ["dev", "keep1"]);
    assert!(daemon.terminate().success());
}

/// Runs one command over SSH on a development appliance with its admin password.
fn dev_ssh(dir: &Path, creds: &DevCredentials, line: &str) -> String {
    let askpass = dir.join("askpass.sh");
    std::fs::write(
        &askpass,
        "#!/bin/sh\nprintf '%s\\n' \"$STRONGROOM_TEST_PW\"\n",
    )
    .expect("askpass");
    std::fs::set_permissions(&askpass, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let out = std::process::Command::new("ssh")
        .args([
            "-F",
            "/dev/null",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "LogLevel=ERROR",
        ])
        .args([
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "PubkeyAuthentication=no",
        ])
        .args(["-o", "NumberOfPasswordPrompts=1", "-p"])
        .arg(creds.ssh_port.to_string())
        .arg("admin@127.0.0.1")
        .arg(line)
        .env("SSH_ASKPASS", &askpass)
        .env("SSH_ASKPASS_REQUIRE", "force")
        .env("DISPLAY", ":0")
        .env("STRONGROOM_TEST_PW", &creds.admin_password)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("ssh");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn run_with_a_config_prints_the_stm_strings_once_and_the_console_recovers() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let config = tmp.path().join("strongroom.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\ntotal_storage = 2097152\nlicensed_partitions = 5\nhostname = \"hsm1\"\n\
             [listen]\nssh = \"off\"\nntls = \"127.0.0.1:0\"\n\
             [log]\nformat = \"json\"\nlevel = \"info\"\n",
            data.display().to_string()
        ),
    )
    .expect("write config");

    let mut daemon = Proc::run(&config, &data);
    let out = daemon.wait_for("Recover it with", Duration::from_secs(5));
    let rus = value_after(&out, "Random User String").expect("random user string");
    let vs = value_after(&out, "Verification String").expect("verification string");
    assert_eq!(rus.len(), 19, "{out}");
    assert_eq!(vs.len(), 19, "{out}");
    assert!(
        out.contains(&format!("hsm stm recover -randomuserstring {rus}")),
        "{out}"
    );

    let out = console_ok(
        &data,
        &format!("hsm stm recover -randomuserstring {rus}\nproceed\nhsm show\nexit\n"),
    );
    assert!(
        out.contains("[hsm1] strongroom:> "),
        "the prompt names the host:\n{out}"
    );
    assert_eq!(value_after(&out, "Verification String"), Some(vs), "{out}");
    assert!(out.contains("'hsm stm recover' successful."), "{out}");
    assert_eq!(
        field(&out, "Secure Transport Mode").as_deref(),
        Some("No"),
        "{out}"
    );
    assert_eq!(
        field(&out, "Maximum HSM Storage Space (Bytes)").as_deref(),
        Some("2097152")
    );
    assert_eq!(
        field(&out, "Number of partitions allowed").as_deref(),
        Some("5")
    );

    // JSON logs on stderr.
    let err = daemon.stderr();
    assert!(
        err.lines()
            .any(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()),
        "no JSON log line:\n{err}"
    );
    assert!(daemon.terminate().success());

    // The strings are shown only once.
    let mut daemon = Proc::run(&config, &data);
    let out = daemon.stdout();
    assert!(
        !out.contains("Random User String") && !out.contains("Verification String"),
        "{out}"
    );
    let out = console_ok(&data, "hsm show\nexit\n");
    assert_eq!(
        field(&out, "Secure Transport Mode").as_deref(),
        Some("No"),
        "{out}"
    );
    assert!(daemon.terminate().success());
    let (out, _) = daemon.output_after_exit();
    assert!(!out.contains("Random User String"), "{out}");
}

#[test]
fn console_without_a_daemon_opens_a_new_module_in_process() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("fresh");
    let (status, out, err) = console(&data, "hsm show\nexit\n");
    assert!(status.success(), "{status}\n{out}\n{err}");
    assert!(out.contains("A new Strongroom module was created"), "{out}");
    assert!(out.contains("HSM Details:"), "{out}");
    assert_eq!(
        field(&out, "HSM Status").as_deref(),
        Some("Transport Mode, zeroized"),
        "{out}"
    );
    assert!(out.contains("Command Result : 0 (Success)"), "{out}");
    assert!(
        !strongroomd::socket_path(&data).exists(),
        "an in-process console serves no socket"
    );

    // Input ending without `exit` ends the session too.
    let (status, out, _) = console(&data, "partition list\n");
    assert!(status.success());
    assert!(out.contains("There are no partitions."), "{out}");
    assert!(
        !out.contains("A new Strongroom module was created"),
        "announced twice:\n{out}"
    );
}

#[test]
fn bad_configurations_are_refused_with_a_clear_message() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let base = format!("data_dir = {:?}\n", data.display().to_string());
    let cases = [
        (format!("{base}bogus = 1\n"), "bogus"),
        (
            format!("{base}licensed_partitions = 0\n"),
            "licensed_partitions must be at least 1",
        ),
        (
            format!("{base}total_storage = 1000\n"),
            "total_storage must be at least 1 MiB",
        ),
        (format!("{base}[log]\nformat = \"xml\"\n"), "log.format"),
        (format!("{base}[listen]\nntsl = \"0.0.0.0:1792\"\n"), "ntsl"),
        (
            format!("{base}[listen]\nntls = \"127.0.0.1:port\"\n"),
            "listen.ntls",
        ),
        (
            format!("{base}[ntls]\nmax_connections = 0\n"),
            "the [ntls] limits must be at least 1",
        ),
        ("total_storage = 2097152\n".to_owned(), "data_dir"),
        (
            format!("{base}licensed_partitions = \"many\"\n"),
            "licensed_partitions",
        ),
    ];
    for (i, (text, needle)) in cases.iter().enumerate() {
        let config = tmp.path().join(format!("bad{i}.toml"));
        std::fs::write(&config, text).expect("write config");
        let mut cmd = command();
        cmd.arg("run").arg("--config").arg(&config);
        let (status, out, err) = Proc::spawn(cmd).finish(Duration::from_secs(15));
        assert!(!status.success(), "{text:?} was accepted:\n{out}\n{err}");
        assert!(err.starts_with("strongroomd: "), "{text:?}:\n{err}");
        assert!(
            err.contains(&config.display().to_string()),
            "the message names the file:\n{err}"
        );
        assert!(
            err.contains(needle),
            "{text:?}: {needle:?} missing from:\n{err}"
        );
        assert!(!data.exists(), "{text:?} created the data directory");
    }
    let mut cmd = command();
    cmd.arg("run")
        .arg("--config")
        .arg(tmp.path().join("missing.toml"));
    let (status, _, err) = Proc::spawn(cmd).finish(Duration::from_secs(15));
    assert!(!status.success());
    assert!(
        err.contains("cannot read") && err.contains("missing.toml"),
        "{err}"
    );
}

#[test]
fn a_second_daemon_on_the_same_directory_is_refused() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("appliance");
    let mut first = Proc::dev(&dir);
    let mut cmd = command();
    cmd.arg("dev").arg("--dir").arg(&dir);
    let (status, out, err) = Proc::spawn(cmd).finish(Duration::from_secs(30));
    assert!(!status.success(), "a second daemon started:\n{out}\n{err}");
    assert!(err.contains("strongroomd: "), "{err}");
    // The first one still serves.
    let out = console_ok(&dev_data(&dir), "hsm show\nexit\n");
    assert_eq!(
        field(&out, "HSM Label").as_deref(),
        Some(strongroomd::DEV_LABEL),
        "{out}"
    );
    assert!(first.terminate().success());
}

#[test]
fn an_acknowledged_partition_survives_sigkill() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("appliance");
    let data = dev_data(&dir);
    let mut daemon = Proc::dev(&dir);
    let (_, creds) = credentials(&dir);

    let mut c = Proc::console(&data);
    c.send(&format!(
        "hsm login\n{}\npartition create -partition crash1 -force\n",
        creds.hsm_so_password
    ));
    c.wait_for("'partition create' successful.", CONSOLE_TIMEOUT);
    daemon.kill();
    // The console sees its connection end.
    let (_, out, _) = c.finish(CONSOLE_TIMEOUT);
    assert!(out.contains("'partition create' successful."), "{out}");

    let mut daemon = Proc::dev(&dir);
    let out = console_ok(&data, "partition list\nexit\n");
    assert_eq!(listed(&out), ["dev", "crash1"], "{out}");
    let out = console_ok(
        &data,
        &format!("hsm login -password {}\nexit\n", creds.hsm_so_password),
    );
    assert!(out.contains("'hsm login' successful."), "{out}");
    assert!(daemon.terminate().success());
}

#[test]
fn console_without_a_daemon_reports_the_configured_capabilities() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let config = tmp.path().join("strongroom.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\ntotal_storage = 2097152\nlicensed_partitions = 5\n\
             [listen]\nssh = \"127.0.0.1:0\"\nntls = \"off\"\n",
            data.display().to_string()
        ),
    )
    .expect("write config");
    let mut daemon = Proc::run(&config, &data);
    let attached = console_ok(&data, "hsm show\nhsm displayLicenses\nexit\n");
    assert!(daemon.terminate().success());
    let in_process = console_ok(&data, "hsm show\nhsm displayLicenses\nexit\n");
    for name in [
        "Maximum HSM Storage Space (Bytes)",
        "Free Space Left (Bytes)",
        "Number of partitions allowed",
    ] {
        assert_eq!(field(&in_process, name), field(&attached, name), "{name}");
    }
    assert!(in_process.contains("Maximum 5 partitions"), "{in_process}");
}

#[test]
fn dev_refuses_a_directory_holding_another_appliance() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("appliance");
    // An appliance created by a console (factory-new, in STM) without dev credentials.
    console_ok(&dev_data(&dir), "exit\n");
    let mut cmd = command();
    cmd.arg("dev").arg("--dir").arg(&dir);
    let (status, out, err) = Proc::spawn(cmd).finish(Duration::from_secs(30));
    assert!(!status.success(), "{out}\n{err}");
    assert!(err.contains("use an empty directory"), "{err}");
    assert!(!strongroomd::credentials_path(&dir).exists());
}

#[test]
fn piped_console_transcript_shows_confirmation_answers() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let out = console_ok(
        &data,
        "hsm stm recover -randomuserstring AAAA-BBBB-CCCC-DDDD\nquit\nexit\n",
    );
    assert!(out.contains("\n> quit\n"), "{out}");
}

#[test]
fn console_refuses_a_directory_without_an_appliance_unless_asked_to_create() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("mistyped");
    // The console exits at once, before reading any input.
    let (status, out, err) = Proc::console_with(&data, &[]).finish(CONSOLE_TIMEOUT);
    assert!(!status.success(), "must refuse: {out}");
    assert!(err.contains("no appliance in"), "{err}");
    assert!(
        !strongroom_store::Store::exists(&data),
        "nothing may be created"
    );
}
