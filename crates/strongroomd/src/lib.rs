//! The Strongroom appliance daemon: hosts the module and serves its administration.
//!
//! This crate owns everything outside the cryptographic boundary: the configuration, the
//! appliance shell (grammar, commands, confirmations, result lines), the local console and
//! the process lifecycle. It never handles key material itself; every security decision is
//! the module's.

#![forbid(unsafe_code)]

mod config;
mod console;
mod daemon;
mod dev;
mod shell;

pub use crate::config::{Config, KEK_PASSPHRASE_ENV, Listen, Log};
pub use crate::console::{LocalTerminal, attach, socket_path};
pub use crate::daemon::{announce_new_module, open_module, run};
pub use crate::dev::{
    DEV_LABEL, DEV_PARTITION, DevCredentials, credentials_path, prepare as dev_prepare,
};
pub use crate::shell::{Appliance, Channel, Outcome, Role, ScriptTerminal, Session, Terminal};
