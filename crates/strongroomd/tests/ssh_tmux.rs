//! The appliance shell over `ssh -t` in a real terminal (tmux), read from the screen as a
//! person sees it: the forced first password change and `hsm login` without the password on
//! screen (one `*` per character), line editing (backspace, Ctrl-U, arrows, Ctrl-C, history),
//! `proceed`/`quit`, and `exit`. Skipped (with a note) without tmux or the OpenSSH client.

mod common;

use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::ssh::{ADMIN_PW, SshAppliance, available};
use common::{LABEL, SO_PW};

const TIMEOUT: Duration = Duration::from_secs(30);
const RESULT: &str = "Command Result :";

struct Tmux {
    socket: String,
}

impl Tmux {
    fn available() -> bool {
        Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    fn start(command: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let t = Self {
            socket: format!(
                "strongroom-ssh-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ),
        };
        let out = t.tmux(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "ssh",
            "-x",
            "180",
            "-y",
            "50",
            command,
        ]);
        assert!(
            out.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&out.stderr)
        );
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

    fn screen(&self) -> String {
        let out = self.tmux(&["capture-pane", "-p", "-J", "-S", "-", "-t", "ssh"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Sends literal text (no Enter).
    fn text(&self, text: &str) {
        assert!(
            self.tmux(&["send-keys", "-t", "ssh", "-l", text])
                .status
                .success()
        );
    }

    /// Sends tmux key names (`Enter`, `BSpace`, `C-u`, `Left`, ...).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "ssh"];
        args.extend_from_slice(keys);
        assert!(self.tmux(&args).status.success());
    }

    fn line(&self, text: &str) {
        self.text(text);
        self.keys(&["Enter"]);
    }

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

    /// Waits until the last non-empty screen line is `prompt` (trailing spaces ignored).
    fn at_prompt(&self, prompt: &str) -> String {
        self.wait(&format!("prompt {prompt:?}"), |s| {
            last_line(s).trim_end() == prompt.trim_end()
        })
    }

    /// Waits for the `n`-th result line.
    fn results(&self, n: usize) -> String {
        self.wait(&format!("result line #{n}"), |s| {
            s.matches(RESULT).count() >= n
        })
    }

    fn alive(&self) -> bool {
        self.tmux(&["has-session", "-t", "ssh"]).status.success()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

/// Whether the screen has a line that reads `text` (trailing blanks ignored).
fn has_line(screen: &str, text: &str) -> bool {
    screen.lines().any(|l| l.trim_end() == text)
}

/// How many lines read `text`.
fn count_lines(screen: &str, text: &str) -> usize {
    screen.lines().filter(|l| l.trim_end() == text).count()
}

fn last_line(screen: &str) -> &str {
    screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim_end()
}

#[test]
fn a_person_at_a_terminal_uses_the_shell_over_ssh() {
    if !available() || !Tmux::available() {
        eprintln!("skipped: tmux or the OpenSSH client is not installed");
        return;
    }
    let app = SshAppliance::start();
    let askpass = app.local("askpass.sh");
    let command = format!(
        "env SSH_ASKPASS='{}' SSH_ASKPASS_REQUIRE=force DISPLAY=:0 STRONGROOM_TEST_PW=PASSWORD \
         ssh -t -F /dev/null -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile='{}' \
         -o PubkeyAuthentication=no -o IdentityAgent=none -o LogLevel=ERROR -p {} admin@127.0.0.1; \
         echo SSH-ENDED; sleep 60",
        askpass.display(),
        app.local("known_hosts").display(),
        app.port
    );
    let t = Tmux::start(&command);

    // The forced change at first login: typed secrets show as stars only.
    t.wait("the change request", |s| {
        s.contains("You are required to change your password") && last_line(s) == ">"
    });
    t.line("PASSWORD");
    t.wait("the new password prompt", |s| {
        s.contains("Please enter your new password:") && last_line(s) == ">"
    });
    t.line(ADMIN_PW);
    t.wait("the confirmation prompt", |s| {
        s.contains("Please re-enter your new password:") && last_line(s) == ">"
    });
    t.line(ADMIN_PW);
    let screen = t.at_prompt("strongroom:>");
    assert!(
        screen.contains("Your password has been changed."),
        "{screen}"
    );
    assert!(
        screen.contains("> ********\n"),
        "PASSWORD as stars:\n{screen}"
    );
    assert!(
        screen.contains(&format!("> {}\n", "*".repeat(ADMIN_PW.len()))),
        "{screen}"
    );
    assert!(
        !screen.contains(ADMIN_PW) && !screen.contains("PASSWORD"),
        "{screen}"
    );

    // Line editing: a typo fixed with backspace, a line erased with Ctrl-U, an insertion
    // with the arrows, a line abandoned with Ctrl-C.
    t.text("hsm shx");
    t.keys(&["BSpace"]);
    t.text("ow");
    t.keys(&["Enter"]);
    let screen = t.results(1);
    assert!(has_line(&screen, "strongroom:> hsm show"), "{screen}");
    assert!(
        screen.contains(&format!("HSM Label:                          {LABEL}")),
        "{screen}"
    );
    t.at_prompt("strongroom:>");
    t.text("hsm zeroize -force");
    t.keys(&["C-u"]);
    t.text("partition lst");
    t.keys(&["Left", "Left"]);
    t.text("i");
    t.keys(&["Enter"]);
    let screen = t.results(2);
    assert!(has_line(&screen, "strongroom:> partition list"), "{screen}");
    assert!(screen.contains("There are no partitions."), "{screen}");
    t.at_prompt("strongroom:>");
    t.text("hsm zeroize -force");
    t.keys(&["C-c"]);
    let screen = t.at_prompt("strongroom:>");
    assert!(
        has_line(&screen, "strongroom:> hsm zeroize -force^C"),
        "{screen}"
    );
    assert_eq!(
        screen.matches(RESULT).count(),
        2,
        "Ctrl-C ran something:\n{screen}"
    );
    // History: Up brings back the last command.
    t.keys(&["Up", "Enter"]);
    let screen = t.results(3);
    assert_eq!(
        count_lines(&screen, "strongroom:> partition list"),
        2,
        "Up did not recall the command:\n{screen}"
    );

    // hsm login: the password prompt shows stars, never the password.
    t.at_prompt("strongroom:>");
    t.line("hsm login");
    t.wait("the SO password prompt", |s| {
        s.contains("Please enter the HSM Administrators' password:") && last_line(s) == ">"
    });
    t.line(SO_PW);
    let screen = t.results(4);
    assert!(screen.contains("'hsm login' successful."), "{screen}");
    assert!(
        !screen.contains(SO_PW),
        "the SO password is on screen:\n{screen}"
    );

    // proceed / quit: quit changes nothing, proceed runs.
    t.at_prompt("strongroom:>");
    t.line("partition create -partition Typed");
    t.wait("the create confirmation", |s| {
        s.contains("Type 'proceed' to create the partition") && last_line(s) == ">"
    });
    t.line("quit");
    let screen = t.results(5);
    assert!(
        screen.contains("Command aborted: nothing was changed."),
        "{screen}"
    );
    t.at_prompt("strongroom:>");
    t.line("partition create -partition Typed");
    t.wait("the create confirmation again", |s| {
        s.matches("Type 'proceed' to create the partition").count() == 2 && last_line(s) == ">"
    });
    t.line("proceed");
    let screen = t.results(6);
    assert!(
        screen.contains("'partition create' successful."),
        "{screen}"
    );
    t.at_prompt("strongroom:>");
    t.line("partition list");
    let screen = t.results(7);
    assert!(screen.contains("Typed"), "{screen}");

    // exit ends the SSH session.
    t.at_prompt("strongroom:>");
    t.line("exit");
    t.wait("the end of ssh", |s| s.contains("SSH-ENDED"));
    assert!(t.alive());
}
