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

/// The table holding one partition's objects.
pub(crate) fn partition_table(serial: u64) -> String {
    format!("partition.{serial}")
}

/// Records kept by zeroization (chapter 8: Auditor, policies and RPV unchanged).
pub(crate) fn kept_by_zeroize(table: &str, key: &[u8]) -> bool {
    table == T_HSM
        && (key == K_CONDITION || key == K_POLICIES || key == K_AUDITOR || key == K_CAPABILITIES)
}

/// Records kept by decommission (policies kept; the audit role is deleted).
pub(crate) fn kept_by_decommission(table: &str, key: &[u8]) -> bool {
    table == T_HSM && (key == K_CONDITION || key == K_POLICIES || key == K_CAPABILITIES)
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

/// The Auditor role's credentials (the audit subsystem builds on this record).
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct AuditorRole {
    pub(crate) password: Credential,
    pub(crate) domain: Credential,
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
