//! A `strongroomd run` appliance serving SSH on a loopback port, driven with the real OpenSSH
//! client (`ssh`, `scp`, `sftp`): password authentication through `SSH_ASKPASS`, key
//! authentication with keys made by `ssh-keygen`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use super::process::{CONSOLE_TIMEOUT, Proc, console_ok, value_after};
use super::{DOMAIN, LABEL, SO_PW};

/// The password the tests give the appliance user `admin` at its forced first change.
pub(crate) const ADMIN_PW: &str = "Appliance-Pw1";

/// Whether the OpenSSH client tools are installed.
pub(crate) fn available() -> bool {
    ["ssh", "scp", "sftp", "ssh-keygen"].iter().all(|tool| {
        Command::new("which")
            .arg(tool)
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// How a client authenticates.
#[derive(Clone, Debug)]
pub(crate) enum Auth {
    /// `SSH_ASKPASS` answers with this password.
    Password(String),
    /// This private key file.
    Key(PathBuf),
}

/// A running appliance with SSH, initialized with [`LABEL`], [`SO_PW`] and [`DOMAIN`].
pub(crate) struct SshAppliance {
    pub(crate) tmp: tempfile::TempDir,
    pub(crate) data: PathBuf,
    pub(crate) daemon: Proc,
    pub(crate) port: u16,
    /// The NTLS port, when NTLS was started ([`SshAppliance::start_with_ntls`]).
    pub(crate) ntls_port: Option<u16>,
    known_hosts: PathBuf,
    askpass: PathBuf,
}

impl SshAppliance {
    /// Starts `strongroomd run` on a fresh data directory with small limits and fast
    /// rejections, recovers the module from STM and initializes it on the console.
    pub(crate) fn start() -> Self {
        Self::start_with("")
    }

    /// Like [`SshAppliance::start`], with extra configuration lines (top-level keys).
    pub(crate) fn start_with(extra: &str) -> Self {
        Self::start_listening(extra, "127.0.0.1:0")
    }

    /// Like [`SshAppliance::start`], with NTLS listening on a free loopback port too.
    pub(crate) fn start_with_ntls() -> Self {
        Self::start_services("", "127.0.0.1:0", "127.0.0.1:0")
    }

    /// Like [`SshAppliance::start_with`], with SSH listening on `listen` (NTLS off).
    pub(crate) fn start_listening(extra: &str, listen: &str) -> Self {
        Self::start_services(extra, listen, "off")
    }

    fn start_services(extra: &str, listen: &str, ntls: &str) -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let data = tmp.path().join("data");
        let config = tmp.path().join("strongroom.toml");
        std::fs::write(
            &config,
            format!(
                "data_dir = {:?}\ntotal_storage = 4194304\nlicensed_partitions = 4\n{extra}\n\
                 [listen]\nssh = \"{listen}\"\nntls = \"{ntls}\"\n\
                 [ssh]\nauth_rejection_ms = 50\nmax_login_delay_secs = 1\nidle_timeout_secs = 300\n\
                 [files]\nmax_file_bytes = 262144\nmax_user_bytes = 524288\n",
                data.display().to_string()
            ),
        )
        .expect("write config");
        let mut daemon = Proc::run(&config, &data);
        let out = daemon.wait_for("SSH service listening on", Duration::from_secs(30));
        let line = out
            .lines()
            .find(|l| l.contains("SSH service listening on"))
            .expect("ssh address");
        let port: u16 = line
            .rsplit(':')
            .next()
            .and_then(|p| p.split_whitespace().next())
            .and_then(|p| p.parse().ok())
            .expect("port");
        let ntls_port = (ntls != "off").then(|| {
            let out = daemon.wait_for("NTLS service listening on", Duration::from_secs(30));
            super::ntls::listening_port(&out)
        });
        let rus = value_after(&out, "Random User String").expect("random user string");
        console_ok(
            &data,
            &format!(
                "hsm stm recover -randomuserstring {rus} -force\n\
                 hsm init -label {LABEL} -password {SO_PW} -domain {DOMAIN} -force\nexit\n"
            ),
        );
        let askpass = tmp.path().join("askpass.sh");
        std::fs::write(
            &askpass,
            "#!/bin/sh\nprintf '%s\\n' \"$STRONGROOM_TEST_PW\"\n",
        )
        .expect("askpass");
        std::fs::set_permissions(&askpass, std::fs::Permissions::from_mode(0o700))
            .expect("chmod askpass");
        Self {
            known_hosts: tmp.path().join("known_hosts"),
            tmp,
            data,
            daemon,
            port,
            ntls_port,
            askpass,
        }
    }

    fn common(&self, cmd: &mut Command, auth: &Auth) {
        cmd.args([
            "-F",
            "/dev/null",
            "-o",
            "StrictHostKeyChecking=accept-new",
            "-o",
        ])
        .arg(format!("UserKnownHostsFile={}", self.known_hosts.display()))
        .args([
            "-o",
            "LogLevel=ERROR",
            "-o",
            "ConnectTimeout=30",
            "-o",
            "IdentityAgent=none",
            "-o",
            "ServerAliveInterval=0",
        ])
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null());
        match auth {
            Auth::Key(path) => {
                cmd.arg("-i").arg(path).args([
                    "-o",
                    "IdentitiesOnly=yes",
                    "-o",
                    "BatchMode=yes",
                    "-o",
                    "PreferredAuthentications=publickey",
                ]);
            }
            Auth::Password(pw) => {
                cmd.args([
                    "-o",
                    "PreferredAuthentications=password",
                    "-o",
                    "PubkeyAuthentication=no",
                    "-o",
                    "NumberOfPasswordPrompts=1",
                ])
                .env("SSH_ASKPASS", &self.askpass)
                .env("SSH_ASKPASS_REQUIRE", "force")
                .env("DISPLAY", ":0")
                .env("STRONGROOM_TEST_PW", pw);
            }
        }
    }

    /// `ssh -p PORT [auth] USER@127.0.0.1 [args]` (no TTY; stdin from /dev/null unless set).
    pub(crate) fn ssh(&self, user: &str, auth: &Auth) -> Command {
        self.ssh_host(user, auth, "127.0.0.1")
    }

    /// Like [`SshAppliance::ssh`], to another address of this machine.
    pub(crate) fn ssh_host(&self, user: &str, auth: &Auth, host: &str) -> Command {
        let mut cmd = Command::new("ssh");
        cmd.arg("-p").arg(self.port.to_string());
        self.common(&mut cmd, auth);
        cmd.arg(format!("{user}@{host}"));
        cmd
    }

    /// `scp -P PORT [auth] ARGS`; remote paths are written `@:path` and become
    /// `USER@127.0.0.1:path`.
    pub(crate) fn scp(&self, user: &str, auth: &Auth, args: &[&str]) -> Output {
        let mut cmd = Command::new("scp");
        cmd.arg("-P").arg(self.port.to_string());
        self.common(&mut cmd, auth);
        for a in args {
            match a.strip_prefix("@:") {
                Some(path) => cmd.arg(format!("{user}@127.0.0.1:{path}")),
                None => cmd.arg(a),
            };
        }
        run(cmd)
    }

    /// `sftp -b BATCH` with the commands of `batch`.
    pub(crate) fn sftp(&self, user: &str, auth: &Auth, batch: &str) -> Output {
        let file = self.tmp.path().join("sftp.batch");
        std::fs::write(&file, batch).expect("batch file");
        let mut cmd = Command::new("sftp");
        cmd.arg("-P").arg(self.port.to_string());
        self.common(&mut cmd, auth);
        cmd.arg("-b").arg(&file).arg(format!("{user}@127.0.0.1"));
        run(cmd)
    }

    /// Runs one command line over SSH (exec); returns the output.
    pub(crate) fn exec(&self, user: &str, auth: &Auth, line: &str) -> Output {
        let mut cmd = self.ssh(user, auth);
        cmd.arg(line);
        run(cmd)
    }

    /// Like [`SshAppliance::exec`], requiring exit status 0 and the success line; returns
    /// stdout.
    pub(crate) fn exec_ok(&self, user: &str, auth: &Auth, line: &str) -> String {
        let out = self.exec(user, auth, line);
        let text = text(&out);
        assert!(
            out.status.success() && text.contains("Command Result : 0 (Success)"),
            "`{line}` as {user} failed ({}):\n{text}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        text
    }

    /// An interactive shell without a TTY fed with `input`; returns the output.
    pub(crate) fn shell(&self, user: &str, auth: &Auth, input: &str) -> Output {
        let mut cmd = self.ssh(user, auth);
        cmd.arg("-T").stdin(Stdio::piped());
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ssh");
        {
            use std::io::Write as _;
            let mut stdin = child.stdin.take().expect("stdin");
            stdin.write_all(input.as_bytes()).expect("write input");
        }
        wait_output(child)
    }

    /// Logs `user` in with its factory (or first) password `first` and changes it to `new`
    /// through the forced change at first login.
    pub(crate) fn first_login(&self, user: &str, first: &str, new: &str) -> String {
        let out = self.shell(
            user,
            &Auth::Password(first.to_owned()),
            &format!("{first}\n{new}\n{new}\nexit\n"),
        );
        let text = text(&out);
        assert!(
            text.contains("You are required to change your password")
                && text.contains("Your password has been changed."),
            "forced change for {user}:\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!text.contains(new), "the new password was echoed:\n{text}");
        text
    }

    /// Admin with [`ADMIN_PW`] after the forced change, and a key registered for it (the
    /// public key uploaded with scp, then `sysconf ssh publickey add`); returns key auth.
    pub(crate) fn admin_with_key(&self) -> Auth {
        self.first_login("admin", "PASSWORD", ADMIN_PW);
        let key = self.keygen("admin");
        let pw = Auth::Password(ADMIN_PW.to_owned());
        let public = format!("{}.pub", key.display());
        let out = self.scp("admin", &pw, &[&public, "@:admin_key.pub"]);
        assert!(
            out.status.success(),
            "scp: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = self.exec_ok(
            "admin",
            &pw,
            "sysconf ssh publickey add -file admin_key.pub",
        );
        assert!(text.contains("ssh-ed25519 SHA256:"), "{text}");
        Auth::Key(key)
    }

    /// A new Ed25519 key pair without passphrase; returns the private key path.
    pub(crate) fn keygen(&self, name: &str) -> PathBuf {
        let path = self.tmp.path().join(format!("id_{name}"));
        let out = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C"])
            .arg(format!("{name}@test"))
            .arg("-f")
            .arg(&path)
            .output()
            .expect("ssh-keygen");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        path
    }

    /// The appliance log.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.data.join("log").join("appliance.log")).unwrap_or_default()
    }

    /// A user's file area on disk.
    pub(crate) fn files(&self, user: &str) -> PathBuf {
        self.data.join("users").join(user)
    }

    pub(crate) fn local(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }
}

/// Runs a command to its end (bounded by [`CONSOLE_TIMEOUT`]) and returns its output.
pub(crate) fn run(mut cmd: Command) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start client");
    wait_output(child)
}

fn wait_output(child: std::process::Child) -> Output {
    let (tx, rx) = std::sync::mpsc::channel();
    let id = child.id();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(CONSOLE_TIMEOUT * 2) {
        Ok(out) => out.expect("client output"),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &id.to_string()])
                .status();
            panic!("an OpenSSH client did not finish in time");
        }
    }
}

/// stdout as text.
pub(crate) fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The names of a help listing.
pub(crate) fn help_names(out: &str) -> Vec<String> {
    out.lines()
        .skip_while(|l| !l.starts_with("----"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

/// Asserts that nothing exists at `path`.
pub(crate) fn assert_absent(path: &Path) {
    assert!(
        std::fs::symlink_metadata(path).is_err(),
        "{} exists",
        path.display()
    );
}
