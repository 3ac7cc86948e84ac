//! The Strongroom cryptographic module: the security state machine of the appliance.
//!
//! This crate is the cryptographic boundary. It owns the module lifecycle (Secure Transport
//! Mode, initialization, the HSM SO, zeroization, factory reset, decommission, tamper),
//! the HSM capabilities and policies, and the application partitions, and keeps all of it in
//! an encrypted store (`strongroom-store`). Every operation takes the caller's [`AccessId`] and
//! returns a typed [`Error`] carrying a module return code that maps to PKCS#11.
//!
//! Each application partition is a PKCS#11 token: partition roles, sessions
//! ([`Module::open_session`]), token and session objects with the attribute rules of
//! PKCS#11 v3.0 ([`Module::create_object`] and the other object functions), and the
//! cryptographic functions over typed [`Mechanism`]s (digest, sign/verify, encrypt/decrypt,
//! key generation, wrap/unwrap, derive, random numbers) computed by `strongroom-crypto`, with
//! partition utilization metrics and the busy time of the performance monitor.
//!
//! The audit log is the module's too: the Auditor role, events recorded by category into
//! fixed-width records chained with HMAC-SHA256 and held in the store until the host moves
//! them out ([`Module::audit_pending`]), verification, the log secret's export and import,
//! and LOG FULL.
//!
//! It does not do any I/O other than its store: no network, no terminal. The appliance shell
//! and the network listeners live in `strongroomd`; they decide which appliance user may reach
//! which operation (for example, factory reset only from the local console), and which
//! partitions a client may open sessions on. See `DESIGN.md` for what the token layer leaves
//! out.

#![forbid(unsafe_code)]

mod audit;
mod credential;
mod error;
mod mechanism;
mod module;
mod object;
mod partition_policy;
mod policy;
mod random;
mod rules;
mod state;
mod token;

pub use crate::audit::{
    AuditCategory, AuditOp, BadReason, BadRecord, EventFilter, LINE_LEN as AUDIT_LINE_LEN,
    VerifyReport,
};
pub use crate::credential::{KdfCost, Secret};
pub use crate::error::Error;
pub use crate::mechanism::{
    CtrParams, EcdhKdf, EcdhParams, GcmParams, Hash, HkdfParams, HkdfSalt, Mechanism,
    MechanismInfo, OaepParams, PBKDF2_MAX_ITERATIONS, Pbkdf2Params, PssParams,
    supported_mechanisms,
};
pub use crate::module::{
    AUDITOR_LOCKOUT_SECS, AUDITOR_LOGIN_ATTEMPTS, AccessId, AuditConfigChange, AuditInfo,
    DEFAULT_AUDIT_CAPACITY, FIRMWARE_VERSION, HsmInfo, HsmStatus, InitKind, InitRequest, License,
    MAX_RANDOM_LEN, MAX_ROTATION_BYTES, MAX_SESSIONS, Module, ModuleConfig, OutputOperation,
    PARTITION_OVERHEAD, PARTITION_SO_ATTEMPTS, PartitionInfo, PartitionInitRequest, PartitionRole,
    PartitionSize, PolicyChangeOutcome, PreparedKeyPair, RoleStatus, RotationSettings,
    SO_LOGIN_ATTEMPTS, StmStrings, StorageInfo, TamperKind, TamperReport,
};
pub use crate::object::{AttrResult, Attribute, ObjectHandle, Template};
pub use crate::partition_policy::{
    PartitionPolicies, PartitionPolicyChange, description as partition_policy_description,
};
pub use crate::policy::{Capabilities, Destructive, Policies};
pub use crate::state::TamperEvent;
pub use crate::token::metrics::{BusyTime, MetricCounts, MetricsReport, PartitionMetrics};
pub use crate::token::{Output, SessionHandle, SessionInfo};
pub use strongroom_proto::{Ckr, RetCode};

/// Hooks for fuzzing and tests: the audit record parser and verifier and the policy template
/// parser, which take untrusted files. Not part of the stable API.
#[doc(hidden)]
pub mod internal {
    pub use crate::audit::{RawRecord, Tail, parse_line, raw_of_line, verify_log};

    /// Parses a policy template as `hsm init -applytemplate` does on a unit licensed for
    /// `licensed_partitions`; `Ok` is the template written back from the policies it sets.
    pub fn parse_policy_template(text: &str, licensed_partitions: u32) -> Result<String, String> {
        let caps = crate::policy::Capabilities {
            storage_bytes: 1 << 30,
            licensed_partitions,
        };
        crate::policy::parse_template(text, &caps)
            .map(|p| crate::policy::export_template(&p, None, "fuzz"))
            .map_err(|e| e.to_string())
    }
}

/// Validation of names, labels, passwords and domain strings, for callers that want to check
/// input before sending it (the module checks again).
pub mod validate {
    pub use crate::rules::{domain, hsm_label, partition_name, password};
}

/// The module is shared across the appliance's worker threads: cryptographic calls take
/// `&Module` (a read lock), state changes `&mut Module`.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Module>()
};
