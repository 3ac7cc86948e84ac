//! The Strongroom appliance daemon: hosts the module and serves its administration.
//!
//! This crate owns everything outside the cryptographic boundary: the configuration, the
//! appliance shell (grammar, commands, confirmations, result lines), the appliance users, the
//! SSH service with SFTP into the users' file areas, the appliance log, the local console and
//! the process lifecycle. It never handles key material itself; every security decision about
//! keys is the module's. It does not change its host: network and clock commands record the
//! appliance's configuration only.

#![forbid(unsafe_code)]

mod applog;
mod config;
mod console;
mod daemon;
mod dev;
mod files;
mod settings;
mod shell;
mod ssh;
mod users;

pub use crate::config::{
    Config, DEFAULT_SSH_LISTEN, FileLimits, KEK_PASSPHRASE_ENV, Listen, Log, Ssh,
};
pub use crate::console::{LocalTerminal, attach, socket_path};
pub use crate::daemon::{announce_new_module, open_module, recover, run, run_with_listener};
pub use crate::dev::{
    DEV_LABEL, DEV_PARTITION, DevCredentials, credentials_path, prepare as dev_prepare,
};
pub use crate::shell::{Appliance, Channel, Outcome, Role, ScriptTerminal, Session, Terminal};
pub use crate::ssh::serve as serve_ssh;
pub use crate::users::{
    BUILT_IN, FACTORY_PASSWORD, KeyInfo, PasswordCheck, UserInfo, UserStore, fingerprint,
};
