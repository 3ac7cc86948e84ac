//! The module's persistent records and where each lives in the store.
//!
//! ```text
//! table "hsm"
//!   "core"       CoreState     label, HSM SO and domain credentials   destroyed by zeroize
//!   "condition"  Condition     STM, SO failure counter, tamper, flags kept by zeroize
//!   "policies"   Policies      HSM policy values                      kept by zeroize
//!   "auditor"    AuditorRole   the Auditor's credentials              kept by zeroize
//!   "capabilities" Capabilities storage and licensed partitions        kept (the unit's facts)
//! table "partitions"
//!   serial (8 bytes, big endian) -> PartitionRecord (incl. the partition's sealing key)
//! table "partition.<serial>"  objects of one partition, sealed under its own key
//! ```
//!
//! Every record is sealed by the store under the KEK. Zeroization is a re-key of the store
//! that keeps only the records marked "kept" above, so destroyed records become undecipherable
//! at once and are then dropped.

use serde::{Deserialize, Serialize};

use crate::credential::Credential;

pub(crate) const T_HSM: &str = "hsm";
pub(crate) const K_CORE: &[u8] = b"core";
pub(crate) const K_CONDITION: &[u8] = b"condition";
pub(crate) const K_POLICIES: &[u8] = b"policies";
pub(crate) const K_AUDITOR: &[u8] = b"auditor";
pub(crate) const K_CAPABILITIES: &[u8] = b"capabilities";
pub(crate) const T_PARTITIONS: &str = "partitions";
pub(crate) const K_AUDIT_CONFIG: &[u8] = b"audit_config";
pub(crate) const K_AUDIT_CHAIN: &[u8] = b"audit_chain";
/// The module's audit record space: sequence number (4 bytes, big endian) -> record line.
pub(crate) const T_AUDIT: &str = "audit";

/// The table holding one partition's objects.
pub(crate) fn partition_table(serial: u64) -> String {
    format!("partition.{serial}")
}

/// Records kept by zeroization (chapter 8: Auditor, policies and RPV unchanged; the audit
/// configuration, log secret and records too, AU-07).
pub(crate) fn kept_by_zeroize(table: &str, key: &[u8]) -> bool {
    table == T_AUDIT
        || (table == T_HSM
            && (key == K_CONDITION
                || key == K_POLICIES
                || key == K_AUDITOR
                || key == K_CAPABILITIES
                || key == K_AUDIT_CONFIG
                || key == K_AUDIT_CHAIN))
}

/// Records kept by decommission (policies kept; the audit role and its configuration are
/// deleted; the log secret and the records not yet rotated out stay, AU-07).
pub(crate) fn kept_by_decommission(table: &str, key: &[u8]) -> bool {
    table == T_AUDIT
        || (table == T_HSM
            && (key == K_CONDITION
                || key == K_POLICIES
                || key == K_CAPABILITIES
                || key == K_AUDIT_CHAIN))
}

/// What exists only while the module is initialized.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct CoreState {
    pub(crate) label: String,
    pub(crate) so: Credential,
    pub(crate) domain: Credential,
    pub(crate) auth_time_config: bool,
    /// Unix time of the last initialization.
    pub(crate) initialized_at: i64,
}

/// A pending Secure Transport Mode: the random user string and the hidden nonce.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct StmSecret {
    pub(crate) random_user_string: String,
    pub(crate) nonce: [u8; 32],
}

/// One tamper event.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct TamperEvent {
    /// What happened.
    pub kind: crate::TamperKind,
    /// Unix time of the event.
    pub at: i64,
    /// Whether the event decommissioned the module.
    pub decommissioned: bool,
}

/// An uncleared tamper.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct ActiveTamper {
    pub(crate) event: TamperEvent,
    /// Policy 48 was on: the HSM SO must run `hsm tamper clear`.
    pub(crate) clear_required: bool,
    /// The module must be restarted (`hsm restart`) before it resumes.
    pub(crate) restart_required: bool,
}

/// Module condition that survives zeroization.
#[derive(Clone, Default, Serialize, Deserialize)]
pub(crate) struct Condition {
    pub(crate) stm: Option<StmSecret>,
    pub(crate) so_failures: u8,
    /// Every failed HSM SO login ever (reset only by factory reset). It feeds the STM
    /// verification string, so a failed login in transport stays visible after the
    /// successful login that recovery needs (LC-03).
    pub(crate) so_failures_total: u64,
    pub(crate) manually_zeroized: bool,
    pub(crate) decommissioned: bool,
    pub(crate) tamper: Option<ActiveTamper>,
    pub(crate) tamper_history: Vec<TamperEvent>,
    pub(crate) next_partition: u64,
    /// HSM clock minus host clock, in seconds (set by `hsm time sync`).
    pub(crate) clock_offset: i64,
}

/// The Auditor role: its credentials, its domain key and its failed-login state.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct AuditorRole {
    pub(crate) password: Credential,
    pub(crate) domain: Credential,
    /// The audit domain key (the reference's KCV): derived from the domain string, so that
    /// every module given the same audit domain holds the same key (AU-40).
    pub(crate) domain_key: [u8; 32],
    /// Consecutive failed logins since the last success or lockout.
    pub(crate) failures: u8,
    /// HSM time (Unix seconds) until which logins are refused; 0 when not locked.
    pub(crate) locked_until: i64,
}

impl Drop for AuditorRole {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.domain_key);
    }
}

/// What the Auditor configured (`audit config`); kept by zeroize and tamper, removed by
/// decommission and factory reset (AU-07).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct AuditConfig {
    /// The event filter mask (`EventFilter`).
    pub(crate) filter: u32,
    /// Rotation interval in seconds (0: no interval rotation).
    pub(crate) rotation_secs: u64,
    /// Largest log file in bytes before rotation.
    pub(crate) rotation_bytes: u64,
}

/// The log secret and the chain head (the reference's "parameter area" and the newest HMAC
/// in flash, AU-23, AU-24).
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct AuditChain {
    pub(crate) secret: [u8; 32],
    /// Sequence number of the next record (the first is 1).
    pub(crate) next_seq: u32,
    /// HMAC of the newest record (32 zero bytes before the first).
    pub(crate) last_hmac: [u8; 32],
    /// A secret imported from another module (its serial and secret): used for
    /// verification instead of the own one until the own one is re-imported (AU-41).
    pub(crate) foreign: Option<(u64, [u8; 32])>,
    /// Whether the HSM clock has been synchronized with the host (`audit sync`).
    pub(crate) time_synced: bool,
}

impl Drop for AuditChain {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.secret);
        if let Some((_, s)) = &mut self.foreign {
            zeroize::Zeroize::zeroize(s);
        }
    }
}

/// One application partition.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct PartitionRecord {
    pub(crate) serial: u64,
    pub(crate) name: String,
    pub(crate) size: u64,
    pub(crate) version: u8,
    pub(crate) created_at: i64,
    /// Bytes used by objects (maintained by the object engine).
    pub(crate) used: u64,
    pub(crate) objects: u64,
    /// Key sealing this partition's object table; destroying the record destroys the key.
    pub(crate) seal_key: [u8; 32],
    /// The label set by `partition init`.
    pub(crate) label: Option<String>,
    /// The partition's cloning domain (hash), set by `partition init`.
    pub(crate) domain: Option<Credential>,
    /// The initialized roles (the Partition SO exists once the partition is initialized).
    pub(crate) roles: std::collections::BTreeMap<crate::PartitionRole, crate::module::RoleRecord>,
    /// The partition's policies.
    pub(crate) policies: crate::partition_policy::PartitionPolicies,
    /// Unix time of the last `partition init`.
    pub(crate) initialized_at: Option<i64>,
}

pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, crate::Error> {
    postcard::to_stdvec(value).map_err(|_| crate::error::e::internal("record encoding failed"))
}

pub(crate) fn decode<T: for<'a> Deserialize<'a>>(bytes: &[u8]) -> Result<T, crate::Error> {
    postcard::from_bytes(bytes).map_err(|_| crate::error::e::integrity_halt())
}
