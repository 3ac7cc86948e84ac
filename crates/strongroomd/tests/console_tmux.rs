//! `strongroomd console` in a real terminal, driven through tmux: the prompt, passwords read
//! without echo, and confirmations typed at the keyboard. Skipped (with a note) when the
//! `tmux` binary is absent.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::process::{BIN, Proc, dev_data, value_after};
use common::{field, partition_rows};

const TIMEOUT: Duration = Duration::from_secs(30);
const RESULT: &str = "Command Result :";

/// A private tmux server (its own socket) running one session; killed on drop.
struct Tmux {
    socket: String,
    /// The server's socket file, removed on drop.
    socket_path: Option<std::path::PathBuf>,
}

impl Tmux {
    fn available() -> bool {
        Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Starts `strongroomd console --dir DATA` in a 200x50 terminal.
    fn console(data_dir: &Path) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let socket = format!(
            "strongroom-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut t = Self {
            socket,
            socket_path: None,
        };
        let cmd = format!(
            "env -u RUST_LOG -u {} '{BIN}' console --create --dir '{}'",
            strongroomd::KEK_PASSPHRASE_ENV,
            data_dir.display()
        );
        let out = t.tmux(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "console",
            "-x",
            "200",
            "-y",
            "50",
            &cmd,
        ]);
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let path = t.tmux(&["display-message", "-p", "#{socket_path}"]);
        let path = String::from_utf8_lossy(&path.stdout).trim().to_owned();
        t.socket_path = (!path.is_empty()).then(|| path.into());
        t
    }

    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .env_remove("TMUX")
            .output()
            .expect("run tmux")
    }

    /// The whole pane, scrollback included, wrapped lines joined.
    fn screen(&self) -> String {
        let out = self.tmux(&["capture-pane", "-p", "-J", "-S", "-", "-t", "console"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types `text` literally, then Enter.
    fn type_line(&self, text: &str) {
        assert!(
            self.tmux(&["send-keys", "-t", "console", "-l", text])
                .status
                .success()
        );
        assert!(
            self.tmux(&["send-keys", "-t", "console", "Enter"])
                .status
                .success()
        );
    }

    /// Polls the pane until `ready` holds; panics with the screen after [`TIMEOUT`].
    fn wait(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// Whether the pane's terminal currently has echo turned off (a password is being read).
    fn echo_off(&self) -> bool {
        let tty = self.tmux(&["display-message", "-p", "-t", "console", "#{pane_tty}"]);
        let tty = String::from_utf8_lossy(&tty.stdout).trim().to_owned();
        let Ok(out) = Command::new("stty").args(["-a", "-F", &tty]).output() else {
            return false;
        };
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .any(|w| w == "-echo")
    }

    /// Waits for `prompt_text` after the `done`-th result line and for the terminal to stop
    /// echoing, then types the secret.
    fn type_secret(&self, done: usize, prompt_text: &str, occurrence: usize, secret: &str) {
        self.wait(&format!("{prompt_text:?} #{occurrence}"), |s| {
            since(s, done).matches(prompt_text).count() >= occurrence
        });
        let deadline = Instant::now() + TIMEOUT;
        while !self.echo_off() {
            assert!(
                Instant::now() < deadline,
                "echo never turned off for {prompt_text:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self.type_line(secret);
    }

    /// Waits for a `> ` confirmation prompt after `question`, then types `answer`.
    fn answer(&self, done: usize, question: &str, answer: &str) {
        self.wait(&format!("{question:?} and its prompt"), |s| {
            let tail = since(s, done);
            tail.contains(question) && last_line(tail) == ">"
        });
        self.type_line(answer);
    }

    /// Runs a command line and returns its output once its result line appeared.
    fn run(&self, done: usize, line: &str) -> String {
        self.type_line(line);
        self.finished(done + 1)
    }

    /// Waits for the `n`-th result line and returns the output of that command.
    fn finished(&self, n: usize) -> String {
        let screen = self.wait(&format!("result line #{n}"), |s| {
            s.matches(RESULT).count() >= n
        });
        segment(&screen, n)
    }

    fn alive(&self) -> bool {
        self.tmux(&["has-session", "-t", "console"])
            .status
            .success()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The screen after the line of the `done`-th result.
fn since(screen: &str, done: usize) -> &str {
    if done == 0 {
        return screen;
    }
    let Some((i, _)) = screen.match_indices(RESULT).nth(done - 1) else {
        return "";
    };
    let rest = &screen[i..];
    rest.find('\n').map_or("", |nl| &rest[nl + 1..])
}

/// The output of the `n`-th command, up to and including its result line.
fn segment(screen: &str, n: usize) -> String {
    let tail = since(screen, n - 1);
    let end = tail.find(RESULT).map_or(tail.len(), |i| {
        tail[i..].find('\n').map_or(tail.len(), |nl| i + nl)
    });
    tail[..end].to_owned()
}

fn last_line(text: &str) -> &str {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
}

fn skip_without_tmux() -> bool {
    if Tmux::available() {
        return false;
    }
    eprintln!("SKIPPED: the tmux binary is not installed; the terminal console tests need it");
    true
}

#[test]
fn console_in_a_terminal_hides_passwords_and_asks_before_zeroizing() {
    if skip_without_tmux() {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("appliance");
    let mut daemon = Proc::dev(&dir);
    let text = std::fs::read_to_string(strongroomd::credentials_path(&dir)).expect("credentials");
    let creds: strongroomd::DevCredentials = toml::from_str(&text).expect("credentials");
    let pw = creds.hsm_so_password.as_str();

    let t = Tmux::console(&dev_data(&dir));
    t.wait("the prompt", |s| last_line(s) == "strongroom:>");

    t.type_line("hsm login");
    t.type_secret(0, "Please enter the HSM Administrators' password:", 1, pw);
    let out = t.finished(1);
    assert!(out.contains("'hsm login' successful."), "{out}");
    assert!(
        !t.screen().contains(pw),
        "the password is on the screen:\n{}",
        t.screen()
    );

    t.type_line("hsm zeroize");
    t.answer(1, "otherwise type 'quit'", "quit");
    let out = t.finished(2);
    assert!(
        out.contains("CAUTION: You are about to zeroize the HSM."),
        "{out}"
    );
    assert!(
        out.contains("Command aborted: nothing was changed."),
        "{out}"
    );
    assert!(out.contains("Command Result : 0 (Success)"), "{out}");

    let out = t.run(2, "hsm show");
    assert_eq!(
        field(&out, "HSM Label").as_deref(),
        Some(strongroomd::DEV_LABEL),
        "{out}"
    );
    assert_eq!(field(&out, "HSM Status").as_deref(), Some("OK"), "{out}");
    assert_eq!(
        field(&out, "HSM Admin login status").as_deref(),
        Some("Logged In"),
        "{out}"
    );
    assert!(out.contains(", Name: dev"), "{out}");

    t.type_line("hsm zeroize");
    t.answer(3, "otherwise type 'quit'", "proceed");
    let out = t.finished(4);
    assert!(out.contains("'hsm zeroize' successful."), "{out}");

    let out = t.run(4, "hsm show");
    assert_eq!(
        field(&out, "HSM Status").as_deref(),
        Some("Zeroized"),
        "{out}"
    );
    assert_eq!(field(&out, "HSM Label").as_deref(), Some(""), "{out}");
    assert!(out.contains("There are no partitions."), "{out}");
    let out = t.run(5, "partition list");
    assert!(partition_rows(&out).is_empty(), "{out}");

    t.type_line("exit");
    let deadline = Instant::now() + TIMEOUT;
    while t.alive() {
        assert!(
            Instant::now() < deadline,
            "the console did not end on exit:\n{}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(30));
    }
    assert!(daemon.terminate().success());
}

#[test]
fn in_process_console_in_a_terminal_recovers_and_initializes() {
    if skip_without_tmux() {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let (pw, domain) = ("Tty-Pass-123", "tty-domain-456");

    let t = Tmux::console(&data);
    let screen = t.wait("the prompt", |s| last_line(s) == "strongroom:>");
    let rus = value_after(&screen, "Random User String").expect("announced random user string");
    let vs = value_after(&screen, "Verification String").expect("announced verification string");

    t.type_line(&format!("hsm stm recover -randomuserstring {rus}"));
    t.answer(0, "or 'quit' to remain in it.", "proceed");
    let out = t.finished(1);
    assert_eq!(value_after(&out, "Verification String"), Some(vs), "{out}");
    assert!(out.contains("'hsm stm recover' successful."), "{out}");

    t.type_line("hsm init -label tty_hsm");
    t.answer(1, "Type 'proceed' to initialize the HSM", "proceed");
    t.type_secret(
        1,
        "Please enter a password for the HSM Administrator:",
        1,
        pw,
    );
    t.type_secret(1, "Please re-enter to confirm:", 1, pw);
    t.type_secret(
        1,
        "Please enter the domain to use for initializing this HSM:",
        1,
        domain,
    );
    t.type_secret(1, "Please re-enter to confirm:", 2, domain);
    let out = t.finished(2);
    assert!(out.contains("'hsm init' successful."), "{out}");
    let screen = t.screen();
    assert!(
        !screen.contains(pw) && !screen.contains(domain),
        "a secret is on the screen:\n{screen}"
    );

    t.type_line("hsm login");
    t.type_secret(2, "Please enter the HSM Administrators' password:", 1, pw);
    let out = t.finished(3);
    assert!(out.contains("'hsm login' successful."), "{out}");
    let out = t.run(3, "hsm show");
    assert_eq!(
        field(&out, "HSM Label").as_deref(),
        Some("tty_hsm"),
        "{out}"
    );
    assert_eq!(
        field(&out, "Secure Transport Mode").as_deref(),
        Some("No"),
        "{out}"
    );
    assert!(!t.screen().contains(pw));
}
