//! The Strongroom appliance daemon: hosts the module and serves its administration.
//!
//! This crate owns everything outside the cryptographic boundary: the configuration, the
//! appliance shell (grammar, commands, confirmations, result lines), the appliance users, the
//! SSH service with SFTP into the users' file areas, the NTLS listener with its client
//! registrations, the appliance log, the forwarding of the audit records and the appliance log
//! to remote syslog servers, the local console and the process lifecycle. It never handles the
//! module's key material; every security decision about partition keys is the module's (its
//! own keys are the SSH host key, the NTLS TLS key and the remote logging TLS keys). It does
//! not change its host: network and clock commands record the appliance's configuration only.

#![forbid(unsafe_code)]

mod applog;
mod config;
mod console;
mod daemon;
mod dev;
mod files;
mod ntls;
mod remotelog;
mod settings;
mod shared;
mod shell;
mod ssh;
mod users;

pub use crate::config::{
    Audit, Config, DEFAULT_NTLS_LISTEN, DEFAULT_SSH_LISTEN, FileLimits, KEK_PASSPHRASE_ENV, Listen,
    Log, Ntls, Ssh,
};
pub use crate::console::{LocalTerminal, attach, socket_path};
pub use crate::daemon::{
    Listeners, announce_new_module, open_module, recover, run, run_with_listeners,
};
pub use crate::dev::{
    DEV_LABEL, DEV_PARTITION, DevCredentials, credentials_path, prepare as dev_prepare,
};
pub use crate::shell::{
    Appliance, AuditLimits, Channel, Outcome, Role, ScriptTerminal, Session, Terminal,
};
pub use crate::ssh::serve as serve_ssh;

/// Hooks for fuzzing: the appliance shell's parser, which takes untrusted lines. Not part of
/// the stable API.
#[doc(hidden)]
pub mod internal {
    pub use crate::shell::{ParsedLine, parse_line as parse_shell_line};
}
pub use crate::users::{
    BUILT_IN, FACTORY_PASSWORD, KeyInfo, PasswordCheck, UserInfo, UserStore, fingerprint,
};
