//! The appliance shell: one engine driven by the local console and SSH sessions.
//!
//! A [`Session`] belongs to one authenticated appliance user on one channel. It reads command
//! lines from a [`Terminal`], runs them against the shared [`Module`], and ends every command
//! with the reference's result line (`Command Result : 0 (Success)`, or the failure line with
//! the module return code and `Command Result : 65535 (Strongroom Shell execution)`).

pub(crate) mod auditlog;
mod commands;
mod engine;
mod render;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use strongroom_module::{AccessId, Error as ModuleError, Module, Secret};

pub use engine::{Channel, Role};

use crate::files::{FileArea, FileLimits};
use crate::users::UserStore;

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
    pub module: Arc<crate::shared::SharedModule>,
    /// The data directory (users' file areas live under `users/<name>`).
    pub data_dir: PathBuf,
    /// Host name shown in the prompt, once set (`net hostname` overrides it).
    pub hostname: Option<String>,
    /// Size bounds of the users' file areas.
    pub files: FileLimits,
    /// The NTLS service: client registrations, the listener and its connections.
    pub(crate) ntls: Arc<crate::ntls::NtlsService>,
    /// Bounds of the appliance's audit directory.
    pub audit: AuditLimits,
    /// Forwarding of the audit records and the appliance log to remote syslog servers.
    pub(crate) remote_log: Arc<crate::remotelog::RemoteLog>,
}

/// Bounds of the appliance's audit directory (`DATA_DIR/audit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuditLimits {
    /// The audit files never exceed this many bytes together; beyond it records stay in the
    /// module, whose space then fills (LOG FULL) until the Auditor clears files.
    pub dir_max_bytes: u64,
}

impl Default for AuditLimits {
    fn default() -> Self {
        Self {
            dir_max_bytes: 4 * 1024 * 1024 * 1024,
        }
    }
}

impl Appliance {
    /// Moves the module's audit records into the appliance's audit files (done after every
    /// shell command and by the daemon's timer). Errors are logged, never fatal.
    pub fn pump_audit(&self) {
        if let Err(err) = auditlog::pump(self) {
            tracing::warn!(error = %err, "audit records could not be moved to the audit files");
        }
    }
}

impl Appliance {
    /// The appliance around `module` with data in `data_dir` and default file bounds.
    pub fn new(module: Module, data_dir: PathBuf, hostname: Option<String>) -> Self {
        let module = Arc::new(crate::shared::SharedModule::new(module));
        let remote_log = crate::remotelog::RemoteLog::start(&data_dir, hostname.clone());
        Self {
            remote_log,
            ntls: Arc::new(crate::ntls::NtlsService::new(&data_dir, module.clone())),
            module,
            data_dir,
            hostname,
            files: FileLimits::default(),
            audit: AuditLimits::default(),
        }
    }
}

/// One appliance user's shell session.
pub struct Session {
    appliance: Appliance,
    user: String,
    role: Role,
    channel: Channel,
    access: AccessId,
    /// Where a remote session comes from (`None` on the local console).
    source: Option<SocketAddr>,
}

/// Option names whose values are secrets: masked when the command is logged.
pub(crate) const SECRET_OPTIONS: &[&str] = &[
    "password",
    "oldpassword",
    "newpassword",
    "domain",
    "oldpw",
    "newpw",
    "authcode",
];

/// What [`parse_line`] found in a line.
#[derive(Debug, PartialEq, Eq)]
pub enum ParsedLine {
    /// Nothing to run: an empty line, or help text.
    Nothing,
    /// A command: in canonical form (full names, every value), and as the logs show it
    /// (secret values masked).
    Command { canonical: String, logged: String },
}

/// `line` as a transcript may show it: secret option values masked.
pub(crate) fn mask_for_echo(line: &str) -> String {
    engine::mask_secrets(commands::ROOT, line, SECRET_OPTIONS)
}

/// Parses one line as a shell session of `role` on `channel` would, running nothing.
pub fn parse_line(line: &str, role: Role, channel: Channel) -> Result<ParsedLine, String> {
    Ok(match engine::parse(commands::ROOT, line, role, channel)? {
        engine::Parsed::Empty | engine::Parsed::Help(_) => ParsedLine::Nothing,
        engine::Parsed::Run(_, args) => ParsedLine::Command {
            canonical: args.logged(&[]),
            logged: args.logged(SECRET_OPTIONS),
        },
    })
}

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
            source: None,
        }
    }

    /// Records where a remote session comes from (logged with every command).
    pub fn with_source(mut self, source: SocketAddr) -> Self {
        self.source = Some(source);
        self
    }

    /// The prompt: `[host] strongroom:>` once a host name is set (by `net hostname` or the
    /// configuration), else `strongroom:>`.
    pub fn prompt(&self) -> String {
        let recorded = crate::settings::Settings::load(&self.appliance.data_dir).hostname;
        match recorded.as_ref().or(self.appliance.hostname.as_ref()) {
            Some(h) => format!("[{h}] strongroom:>"),
            None => "strongroom:>".to_owned(),
        }
    }

    /// Where the session comes from, as the log shows it: `ip/port`, or `local console`.
    pub(crate) fn source_text(&self) -> String {
        match self.source {
            Some(addr) => format!("{}/{}", addr.ip(), addr.port()),
            None => "local console".to_owned(),
        }
    }

    /// If the user's password must be changed (first login, after a reset or `recover`),
    /// asks for the current one and a new one, twice. Returns whether the session may go on.
    /// Input ending (a dropped connection) changes nothing.
    pub fn forced_password_change(&mut self, term: &mut dyn Terminal) -> bool {
        let users = match self.users() {
            Ok(u) => u,
            Err(err) => {
                term.write(&format!("Error: {err}\n"));
                return false;
            }
        };
        match users.info(&self.user) {
            Some(info) if info.must_change => {}
            Some(_) => return true,
            None => return false,
        }
        term.write("You are required to change your password before you continue.\n");
        for _ in 0..3 {
            let Some(old) = ask(term, "Please enter your current password:") else {
                return false;
            };
            let Some(new) = ask(term, "Please enter your new password:") else {
                return false;
            };
            let Some(again) = ask(term, "Please re-enter your new password:") else {
                return false;
            };
            if new.expose() != again.expose() {
                term.write("Error: the two entries do not match.\n");
                continue;
            }
            match users.change_own_password(&self.user, old.expose(), new.expose()) {
                Ok(()) => {
                    crate::applog::record(
                        &self.appliance.data_dir,
                        "notice",
                        &format!(
                            "Password changed at login : {} : {}",
                            self.user,
                            self.source_text()
                        ),
                    );
                    term.write("Your password has been changed.\n");
                    return true;
                }
                Err(err) => term.write(&format!("Error: {err}\n")),
            }
        }
        term.write("The password was not changed; the session ends.\n");
        false
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
        let logged = args.logged(SECRET_OPTIONS);
        tracing::info!(
            user = %self.user,
            channel = ?self.channel,
            source = %self.source_text(),
            command = %logged,
            "shell command"
        );
        crate::applog::record(
            &self.appliance.data_dir,
            "info",
            &format!("Command: {logged} : {} : {}", self.user, self.source_text()),
        );
        let result = handler(self, term, &args);
        self.appliance.pump_audit();
        match result {
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

    pub(crate) fn module(&self) -> std::sync::RwLockWriteGuard<'_, Module> {
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
    pub(crate) fn files(&self) -> FileArea {
        FileArea::new(&self.appliance.data_dir, &self.user, self.appliance.files)
    }

    /// The appliance users.
    pub(crate) fn users(&self) -> Result<UserStore, String> {
        UserStore::open(&self.appliance.data_dir)
    }

    pub(crate) fn user(&self) -> &str {
        &self.user
    }

    pub(crate) fn data_dir(&self) -> &std::path::Path {
        &self.appliance.data_dir
    }

    /// The NTLS service.
    pub(crate) fn ntls(&self) -> &Arc<crate::ntls::NtlsService> {
        &self.appliance.ntls
    }

    /// The appliance's shared state.
    pub(crate) fn appliance(&self) -> &Appliance {
        &self.appliance
    }
}

fn ask(term: &mut dyn Terminal, prompt: &str) -> Option<Secret> {
    term.write(&format!("{prompt}\n"));
    let answer = term.read_secret("> ");
    if answer.is_none() {
        term.write("\n");
    }
    answer
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
