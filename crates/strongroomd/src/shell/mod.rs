//! The appliance shell: one engine driven by the local console and (later) SSH sessions.
//!
//! A [`Session`] belongs to one authenticated appliance user on one channel. It reads command
//! lines from a [`Terminal`], runs them against the shared [`Module`], and ends every command
//! with the reference's result line (`Command Result : 0 (Success)`, or the failure line with
//! the module return code and `Command Result : 65535 (Strongroom Shell execution)`).

mod commands;
mod engine;
mod render;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use strongroom_module::{AccessId, Error as ModuleError, Module, Secret};

pub use engine::{Channel, Role};

/// The text stream a shell session talks to: a local terminal, a socket to a console client,
/// an SSH channel, or a script in tests.
pub trait Terminal {
    /// Writes text as is (the shell supplies newlines).
    fn write(&mut self, text: &str);
    /// Shows `prompt` and reads one line without its newline; `None` when input has ended.
    fn read_line(&mut self, prompt: &str) -> Option<String>;
    /// Like [`Terminal::read_line`], but the input is not echoed: for passwords and domains.
    fn read_secret(&mut self, prompt: &str) -> Option<Secret>;
}

/// How the last command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to run (empty line).
    Nothing,
    /// `Command Result : 0 (Success)`.
    Success,
    /// The command failed (shell error or module error).
    Failed,
    /// `exit`: the session ends.
    Exit,
}

/// A failure of one command.
#[derive(Debug)]
pub(crate) enum CmdError {
    /// The module refused or failed.
    Module(ModuleError),
    /// The shell refused the command line or a precondition (no module code).
    Shell(String),
}

impl From<ModuleError> for CmdError {
    fn from(err: ModuleError) -> Self {
        Self::Module(err)
    }
}

pub(crate) type CmdResult = Result<(), CmdError>;

/// The appliance's shared state a shell needs.
#[derive(Clone)]
pub struct Appliance {
    /// The module, shared by every session. Locked only for the duration of one module call,
    /// never across a prompt.
    pub module: Arc<Mutex<Module>>,
    /// The data directory (users' file areas live under `users/<name>`).
    pub data_dir: PathBuf,
    /// Host name shown in the prompt, once set.
    pub hostname: Option<String>,
}

/// One appliance user's shell session.
pub struct Session {
    appliance: Appliance,
    user: String,
    role: Role,
    channel: Channel,
    access: AccessId,
}

/// Option names whose values are secrets: masked when the command is logged.
pub(crate) const SECRET_OPTIONS: &[&str] = &["password", "oldpassword", "newpassword", "domain"];

impl Session {
    /// Opens a session for `user` with `role` on `channel`; the module registers a new access.
    pub fn new(appliance: Appliance, user: &str, role: Role, channel: Channel) -> Self {
        let access = match appliance.module.lock() {
            Ok(mut m) => m.open_access(),
            Err(poisoned) => poisoned.into_inner().open_access(),
        };
        Self {
            appliance,
            user: user.to_owned(),
            role,
            channel,
            access,
        }
    }

    /// The prompt: `[host] strongroom:>` once a host name is set, else `strongroom:>`.
    pub fn prompt(&self) -> String {
        match &self.appliance.hostname {
            Some(h) => format!("[{h}] strongroom:>"),
            None => "strongroom:>".to_owned(),
        }
    }

    /// Runs an interactive session until `exit` or the end of input.
    pub fn run(&mut self, term: &mut dyn Terminal) {
        term.write(&format!(
            "\nStrongroom Command Line Shell v{} (appliance user '{}').\n\n",
            env!("CARGO_PKG_VERSION"),
            self.user
        ));
        while let Some(line) = term.read_line(&format!("{} ", self.prompt())) {
            if self.execute(&line, term) == Outcome::Exit {
                break;
            }
        }
    }

    /// Runs one command line and prints its result lines.
    pub fn execute(&mut self, line: &str, term: &mut dyn Terminal) -> Outcome {
        let parsed = engine::parse(commands::ROOT, line, self.role, self.channel);
        let (node, args) = match parsed {
            Ok(engine::Parsed::Empty) => return Outcome::Nothing,
            Ok(engine::Parsed::Help(text)) => {
                term.write(&text);
                term.write("\nCommand Result : 0 (Success)\n");
                return Outcome::Success;
            }
            Ok(engine::Parsed::Run(node, args)) => (node, args),
            Err(msg) => {
                term.write(&format!(
                    "Error: {msg}\n\nCommand Result : 65535 (Strongroom Shell execution)\n"
                ));
                return Outcome::Failed;
            }
        };
        let engine::Kind::Command { handler, .. } = node.kind else {
            return Outcome::Failed;
        };
        if args.path == ["exit"] {
            return Outcome::Exit;
        }
        tracing::info!(
            user = %self.user,
            channel = ?self.channel,
            command = %args.logged(SECRET_OPTIONS),
            "shell command"
        );
        match handler(self, term, &args) {
            Ok(()) => {
                term.write("\nCommand Result : 0 (Success)\n");
                Outcome::Success
            }
            Err(CmdError::Module(err)) => {
                tracing::warn!(user = %self.user, command = %args.command_name(), code = %err.code(), "command failed");
                term.write(&format!(
                    "{}\nError: '{}' failed. ({})\n\nCommand Result : 65535 (Strongroom Shell execution)\n",
                    err.message(),
                    args.command_name(),
                    err.code()
                ));
                Outcome::Failed
            }
            Err(CmdError::Shell(msg)) => {
                term.write(&format!(
                    "Error: {msg}\n\nCommand Result : 65535 (Strongroom Shell execution)\n"
                ));
                Outcome::Failed
            }
        }
    }

    pub(crate) fn module(&self) -> MutexGuard<'_, Module> {
        // A panic while the module was locked cannot leave a half-applied change behind:
        // every change is committed to the store before the in-memory state moves.
        match self.appliance.module.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub(crate) fn access(&self) -> AccessId {
        self.access
    }

    pub(crate) fn channel(&self) -> Channel {
        self.channel
    }

    /// The user's file area (`my file list`, templates, certificates).
    pub(crate) fn files_dir(&self) -> PathBuf {
        self.appliance.data_dir.join("users").join(&self.user)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let access = self.access;
        match self.appliance.module.lock() {
            Ok(mut m) => m.close_access(access),
            Err(poisoned) => poisoned.into_inner().close_access(access),
        }
    }
}

/// A terminal fed from a fixed list of input lines, collecting the output: for scripts,
/// tests and fuzzing.
#[derive(Debug, Default)]
pub struct ScriptTerminal {
    input: std::collections::VecDeque<String>,
    /// Everything the shell wrote, prompts included.
    pub output: String,
}

impl ScriptTerminal {
    /// A terminal that will answer prompts with `lines`, in order.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(lines: I) -> Self {
        Self {
            input: lines.into_iter().map(Into::into).collect(),
            output: String::new(),
        }
    }

    /// Queues more input lines.
    pub fn push(&mut self, line: impl Into<String>) {
        self.input.push_back(line.into());
    }

    /// Takes the output written so far.
    pub fn take_output(&mut self) -> String {
        std::mem::take(&mut self.output)
    }
}

impl Terminal for ScriptTerminal {
    fn write(&mut self, text: &str) {
        self.output.push_str(text);
    }
    fn read_line(&mut self, prompt: &str) -> Option<String> {
        self.output.push_str(prompt);
        let line = self.input.pop_front()?;
        self.output.push_str(&line);
        self.output.push('\n');
        Some(line)
    }
    fn read_secret(&mut self, prompt: &str) -> Option<Secret> {
        self.output.push_str(prompt);
        let line = self.input.pop_front()?;
        self.output.push_str("********\n");
        Some(Secret::new(line))
    }
}
