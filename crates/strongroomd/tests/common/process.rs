//! Running the real `strongroomd` binary: daemons and piped consoles, each killed on drop.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The binary under test.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_strongroomd");
/// How long a daemon may take to start serving its console.
pub(crate) const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one piped console session may take.
pub(crate) const CONSOLE_TIMEOUT: Duration = Duration::from_secs(30);

/// A `strongroomd` command with a clean environment for logging and the KEK passphrase.
pub(crate) fn command() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("RUST_LOG")
        .env_remove(strongroomd::KEK_PASSPHRASE_ENV);
    cmd
}

/// Collects a child's output stream on a thread.
struct Collector {
    text: Arc<Mutex<String>>,
    thread: Option<JoinHandle<()>>,
}

impl Collector {
    fn new(mut stream: impl Read + Send + 'static) -> Self {
        let text = Arc::new(Mutex::new(String::new()));
        let sink = text.clone();
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => sink
                        .lock()
                        .expect("output buffer")
                        .push_str(&String::from_utf8_lossy(&buf[..n])),
                }
            }
        });
        Self {
            text,
            thread: Some(thread),
        }
    }

    fn text(&self) -> String {
        self.text.lock().expect("output buffer").clone()
    }

    /// Waits for the stream to close (the child exited) and returns everything.
    fn finish(&mut self) -> String {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.text()
    }
}

/// A spawned `strongroomd` process with piped stdin, stdout and stderr; killed on drop.
pub(crate) struct Proc {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Collector,
    stderr: Collector,
    what: String,
}

impl Proc {
    pub(crate) fn spawn(mut cmd: Command) -> Self {
        let what = format!("{cmd:?}");
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {what}: {err}"));
        let stdin = child.stdin.take();
        let stdout = Collector::new(child.stdout.take().expect("piped stdout"));
        let stderr = Collector::new(child.stderr.take().expect("piped stderr"));
        Self {
            child,
            stdin,
            stdout,
            stderr,
            what,
        }
    }

    /// `strongroomd dev --dir DIR`, waiting until its console accepts connections.
    pub(crate) fn dev(dir: &Path) -> Self {
        let mut cmd = command();
        cmd.arg("dev").arg("--dir").arg(dir);
        let mut daemon = Self::spawn(cmd);
        daemon.wait_serving(&dir.join("data"));
        daemon
    }

    /// `strongroomd run --config FILE`, waiting until its console accepts connections.
    pub(crate) fn run(config: &Path, data_dir: &Path) -> Self {
        let mut cmd = command();
        cmd.arg("run").arg("--config").arg(config);
        let mut daemon = Self::spawn(cmd);
        daemon.wait_serving(data_dir);
        daemon
    }

    /// A console on `data_dir` whose input stays open until [`Proc::finish`]. With no
    /// appliance there, it creates a factory-new module (`--create`).
    pub(crate) fn console(data_dir: &Path) -> Self {
        Self::console_with(data_dir, &["--create"])
    }

    /// A console on `data_dir` with extra command-line arguments.
    pub(crate) fn console_with(data_dir: &Path, extra: &[&str]) -> Self {
        let mut cmd = command();
        cmd.arg("console").arg("--dir").arg(data_dir).args(extra);
        Self::spawn(cmd)
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn stdout(&self) -> String {
        self.stdout.text()
    }

    pub(crate) fn stderr(&self) -> String {
        self.stderr.text()
    }

    /// Waits until the console socket under `data_dir` exists and accepts a connection (a
    /// leftover socket file of a killed daemon exists but refuses).
    pub(crate) fn wait_serving(&mut self, data_dir: &Path) {
        let sock = strongroomd::socket_path(data_dir);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if sock.exists() && UnixStream::connect(&sock).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited with {status} before serving:\nstdout:\n{}\nstderr:\n{}",
                    self.what,
                    self.stdout.finish(),
                    self.stderr.finish()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{} did not serve {} within {START_TIMEOUT:?}:\n{}",
                self.what,
                sock.display(),
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Writes to the process's stdin.
    pub(crate) fn send(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        stdin.write_all(text.as_bytes()).expect("write to stdin");
        stdin.flush().expect("flush stdin");
    }

    /// Waits until stdout contains `needle`; returns stdout.
    pub(crate) fn wait_for(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let out = self.stdout();
            if out.contains(needle) {
                return out;
            }
            if Instant::now() >= deadline || matches!(self.child.try_wait(), Ok(Some(_))) {
                // One last look: the output may have arrived with the exit.
                let out = self.stdout();
                assert!(
                    out.contains(needle),
                    "{needle:?} not printed by {}:\nstdout:\n{out}\nstderr:\n{}",
                    self.what,
                    self.stderr()
                );
                return out;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the process to exit, killing it after `timeout` (then panicking).
    pub(crate) fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "{} did not exit within {timeout:?}:\n{}",
                    self.what,
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Closes stdin, waits for the exit and returns the status, stdout and stderr.
    pub(crate) fn finish(mut self, timeout: Duration) -> (ExitStatus, String, String) {
        drop(self.stdin.take());
        let status = self.wait_exit(timeout);
        (status, self.stdout.finish(), self.stderr.finish())
    }

    /// Sends SIGTERM and waits for the exit.
    pub(crate) fn terminate(&mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {} failed", self.pid());
        self.wait_exit(Duration::from_secs(15))
    }

    /// Everything the process wrote to stdout and stderr; only after it exited.
    pub(crate) fn output_after_exit(&mut self) -> (String, String) {
        assert!(
            matches!(self.child.try_wait(), Ok(Some(_))),
            "{} still runs",
            self.what
        );
        (self.stdout.finish(), self.stderr.finish())
    }

    /// Sends SIGKILL and reaps the process.
    pub(crate) fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs `strongroomd console --dir DATA` with `input` piped in; returns status, stdout and
/// stderr.
pub(crate) fn console(data_dir: &Path, input: &str) -> (ExitStatus, String, String) {
    let mut c = Proc::console(data_dir);
    c.send(input);
    c.finish(CONSOLE_TIMEOUT)
}

/// Like [`console`], requiring a successful exit; returns stdout.
pub(crate) fn console_ok(data_dir: &Path, input: &str) -> String {
    let (status, out, err) = console(data_dir, input);
    assert!(
        status.success(),
        "console failed ({status}) for {input:?}:\n{out}\n{err}"
    );
    out
}

/// The value after `name:` on the first line that contains it, trimmed.
pub(crate) fn value_after(text: &str, name: &str) -> Option<String> {
    let key = format!("{name}:");
    text.lines()
        .find_map(|l| l.find(&key).map(|i| l[i + key.len()..].trim().to_owned()))
}

/// The data directory of a development appliance directory.
pub(crate) fn dev_data(dir: &Path) -> PathBuf {
    dir.join("data")
}
