//! The local console: the appliance shell on the appliance's own terminal, either attached to
//! the running daemon through `DATA_DIR/run/console.sock` (owner-only) or, when no daemon runs,
//! opening the module in this process.
//!
//! Socket protocol: one JSON object per line. Daemon to console: `{"t":"out","s":TEXT}`,
//! `{"t":"line","p":PROMPT}`, `{"t":"secret","p":PROMPT}`, `{"t":"bye"}`. Console to daemon:
//! `{"t":"line","s":TEXT}` or `{"t":"eof"}`. Secrets travel only over this owner-only socket
//! and are never echoed.

use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use strongroom_module::Secret;
use zeroize::Zeroizing;

use crate::shell::Terminal;

/// The console socket of the appliance whose data directory is `data_dir`.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join("run").join("console.sock")
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "lowercase")]
enum ToConsole {
    Out { s: String },
    Line { p: String },
    Secret { p: String },
    Bye,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "lowercase")]
enum ToDaemon {
    Line { s: String },
    Eof,
}

/// The daemon's end of a console connection.
pub(crate) struct SocketTerminal {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    closed: bool,
}

impl SocketTerminal {
    pub(crate) fn new(stream: UnixStream) -> std::io::Result<Self> {
        let writer = stream.try_clone()?;
        Ok(Self {
            reader: BufReader::new(stream),
            writer,
            closed: false,
        })
    }

    fn send(&mut self, msg: &ToConsole) {
        if self.closed {
            return;
        }
        let Ok(mut line) = serde_json::to_string(msg) else {
            return;
        };
        line.push('\n');
        if self.writer.write_all(line.as_bytes()).is_err() {
            self.closed = true;
        }
    }

    fn receive(&mut self) -> Option<Zeroizing<String>> {
        if self.closed {
            return None;
        }
        let mut raw = Zeroizing::new(String::new());
        match self.reader.read_line(&mut raw) {
            Ok(0) | Err(_) => {
                self.closed = true;
                None
            }
            Ok(_) => match serde_json::from_str::<ToDaemon>(&raw) {
                Ok(ToDaemon::Line { s }) => Some(Zeroizing::new(s)),
                Ok(ToDaemon::Eof) | Err(_) => {
                    self.closed = true;
                    None
                }
            },
        }
    }

    pub(crate) fn bye(&mut self) {
        self.send(&ToConsole::Bye);
    }
}

impl Terminal for SocketTerminal {
    fn write(&mut self, text: &str) {
        self.send(&ToConsole::Out { s: text.to_owned() });
    }
    fn read_line(&mut self, prompt: &str) -> Option<String> {
        self.send(&ToConsole::Line {
            p: prompt.to_owned(),
        });
        self.receive().map(|s| s.to_string())
    }
    fn read_secret(&mut self, prompt: &str) -> Option<Secret> {
        self.send(&ToConsole::Secret {
            p: prompt.to_owned(),
        });
        self.receive().map(|s| Secret::new(s.as_str()))
    }
}

/// The process's own terminal (or pipe): stdin and stdout.
pub struct LocalTerminal {
    stdin_is_tty: bool,
}

impl LocalTerminal {
    /// A terminal on this process's stdin/stdout.
    pub fn new() -> Self {
        Self {
            stdin_is_tty: std::io::stdin().is_terminal(),
        }
    }

    fn line(&mut self, prompt: &str) -> Option<Zeroizing<String>> {
        let mut out = std::io::stdout();
        let _ = out.write_all(prompt.as_bytes());
        let _ = out.flush();
        let mut line = Zeroizing::new(String::new());
        match std::io::stdin().lock().read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => {
                let trimmed = line.trim_end_matches(['\n', '\r']).to_owned();
                if !self.stdin_is_tty {
                    // Echo piped input so that a transcript reads like a session, with the
                    // values of secret options masked.
                    let _ = writeln!(out, "{}", crate::shell::mask_for_echo(&trimmed));
                }
                Some(Zeroizing::new(trimmed))
            }
        }
    }
}

impl Default for LocalTerminal {
    fn default() -> Self {
        Self::new()
    }
}

impl Terminal for LocalTerminal {
    fn write(&mut self, text: &str) {
        let mut out = std::io::stdout();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
    fn read_line(&mut self, prompt: &str) -> Option<String> {
        self.line(prompt).map(|s| s.to_string())
    }
    fn read_secret(&mut self, prompt: &str) -> Option<Secret> {
        if self.stdin_is_tty {
            let _ = std::io::stdout().flush();
            return rpassword::prompt_password(prompt).ok().map(Secret::new);
        }
        let mut out = std::io::stdout();
        let _ = out.write_all(prompt.as_bytes());
        let _ = out.flush();
        let mut line = Zeroizing::new(String::new());
        match std::io::stdin().lock().read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => {
                let _ = writeln!(out, "********");
                Some(Secret::new(line.trim_end_matches(['\n', '\r'])))
            }
        }
    }
}

/// Relays a console connection to the daemon until the shell ends. Returns false if no
/// daemon listens on the socket.
pub fn attach(data_dir: &Path) -> Result<bool, String> {
    let path = socket_path(data_dir);
    let stream = match UnixStream::connect(&path) {
        Ok(s) => s,
        Err(err)
            if matches!(
                err.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Ok(false);
        }
        Err(err) => return Err(format!("cannot connect to {}: {err}", path.display())),
    };
    let mut writer = stream.try_clone().map_err(|err| err.to_string())?;
    let mut reader = BufReader::new(stream);
    let mut term = LocalTerminal::new();
    let mut raw = String::new();
    loop {
        raw.clear();
        match reader.read_line(&mut raw) {
            Ok(0) => return Ok(true),
            Ok(_) => {}
            Err(err) => return Err(format!("console connection lost: {err}")),
        }
        let msg: ToConsole =
            serde_json::from_str(&raw).map_err(|err| format!("bad console message: {err}"))?;
        let reply = match msg {
            ToConsole::Out { s } => {
                term.write(&s);
                continue;
            }
            ToConsole::Bye => return Ok(true),
            ToConsole::Line { p } => term.read_line(&p).map(|s| ToDaemon::Line { s }),
            ToConsole::Secret { p } => term.read_secret(&p).map(|s| ToDaemon::Line {
                s: s.expose().to_owned(),
            }),
        };
        let mut line = Zeroizing::new(
            serde_json::to_string(&reply.unwrap_or(ToDaemon::Eof))
                .map_err(|err| err.to_string())?,
        );
        line.push('\n');
        if writer.write_all(line.as_bytes()).is_err() {
            return Ok(true);
        }
    }
}
