//! The Strongroom cryptographic module: the security state machine of the appliance.
//!
//! This crate is the cryptographic boundary. It owns the module lifecycle (Secure Transport
//! Mode, initialization, the HSM SO, zeroization, factory reset, decommission, tamper),
//! the HSM capabilities and policies, and the application partitions, and keeps all of it in
//! an encrypted store (`strongroom-store`). Every operation takes the caller's [`AccessId`] and
//! returns a typed [`Error`] carrying a module return code that maps to PKCS#11.
//!
//! It does not do any I/O other than its store: no network, no terminal. The appliance shell
//! and the network listeners live in `strongroomd`; they decide which appliance user may reach
//! which operation (for example, factory reset only from the local console).

#![forbid(unsafe_code)]

mod credential;
mod error;
mod module;
mod object;
mod partition_policy;
mod policy;
mod random;
mod rules;
mod state;

pub use crate::credential::{KdfCost, Secret};
pub use crate::error::Error;
pub use crate::module::{
    AccessId, FIRMWARE_VERSION, HsmInfo, HsmStatus, InitKind, InitRequest, License, Module,
    ModuleConfig, PARTITION_OVERHEAD, PARTITION_SO_ATTEMPTS, PartitionInfo, PartitionInitRequest,
    PartitionRole, PartitionSize, PolicyChangeOutcome, RoleStatus, SO_LOGIN_ATTEMPTS, StmStrings,
    StorageInfo, TamperKind, TamperReport,
};
pub use crate::object::{AttrResult, Attribute, ObjectHandle, Template};
pub use crate::partition_policy::{
    PartitionPolicies, PartitionPolicyChange, description as partition_policy_description,
};
pub use crate::policy::{Capabilities, Destructive, Policies};
pub use crate::state::TamperEvent;
pub use strongroom_proto::{Ckr, RetCode};

/// Validation of names, labels, passwords and domain strings, for callers that want to check
/// input before sending it (the module checks again).
pub mod validate {
    pub use crate::rules::{domain, hsm_label, partition_name, password};
}
