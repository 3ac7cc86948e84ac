//! The module's security state machine: Secure Transport Mode, initialization, the HSM SO,
//! zeroization, factory reset, decommission, tamper, policies and application partitions.
//!
//! Every mutating operation writes its new state durably to the store *before* it changes
//! the in-memory copy and returns, so an acknowledged change survives a crash and a failed
//! write changes nothing.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use aws_lc_rs::{digest, hmac};
use strongroom_store::{OpenOptions, Store};
use zeroize::Zeroizing;

use crate::audit::{AuditCategory, AuditOp};
use crate::credential::{Credential, KdfCost, Secret};
use crate::error::{Error, e};
use crate::policy::{self, Capabilities, Destructive, Policies, PolicyError};
use crate::state::{
    ActiveTamper, AuditorRole, Condition, CoreState, K_AUDITOR, K_CAPABILITIES, K_CONDITION,
    K_CORE, K_POLICIES, PartitionRecord, StmSecret, T_HSM, T_PARTITIONS, TamperEvent, decode,
    encode, partition_table,
};
use crate::{random, rules};

mod audited;
mod auditing;
mod digesting;
mod encryption;
mod keymgmt;
mod lengths;
mod mechanisms;
mod monitor;
mod objmgmt;
mod random_ops;
mod roles;
mod sessmgmt;
mod signing;
#[cfg(test)]
mod token_tests;
mod tokens;

pub use auditing::{
    AUDITOR_LOCKOUT_SECS, AUDITOR_LOGIN_ATTEMPTS, AuditConfigChange, AuditInfo,
    DEFAULT_AUDIT_CAPACITY, MAX_ROTATION_BYTES, RotationSettings,
};
pub use keymgmt::PreparedKeyPair;
pub use lengths::OutputOperation;
pub use random_ops::MAX_RANDOM_LEN;
pub(crate) use roles::RoleRecord;
pub use roles::{PARTITION_SO_ATTEMPTS, PartitionInitRequest, PartitionRole, RoleStatus};
pub use tokens::MAX_SESSIONS;

/// Version string of the module ("firmware") reported by `hsm show` and templates.
pub const FIRMWARE_VERSION: &str = env!("CARGO_PKG_VERSION");
/// Bytes of HSM storage every partition needs for its security and identity data (PA-11).
pub const PARTITION_OVERHEAD: u64 = 9648;
/// Consecutive failed HSM SO logins that zeroize the module (RA-11; not adjustable).
pub const SO_LOGIN_ATTEMPTS: u8 = 3;

/// Settings fixed when the module starts (the appliance's configuration).
#[derive(Clone, Debug)]
pub struct ModuleConfig {
    /// Total object storage of the module in bytes (capability 27).
    pub total_storage: u64,
    /// Licensed maximum number of application partitions (capability 33).
    pub licensed_partitions: u32,
    /// Passphrase protecting the KEK file, if the appliance uses one.
    pub kek_passphrase: Option<Zeroizing<Vec<u8>>>,
    /// Cost of the Argon2id hashes of stored credentials.
    pub kdf: KdfCost,
    /// The module's audit record space, in records (AU-30; LOG FULL beyond it).
    pub audit_capacity: u64,
    /// Seconds the Auditor is locked out after three failed logins (RA-14, CF-02: 30).
    pub auditor_lockout_secs: i64,
}

impl Default for ModuleConfig {
    fn default() -> Self {
        Self {
            total_storage: 64 * 1024 * 1024,
            licensed_partitions: 100,
            kek_passphrase: None,
            kdf: KdfCost::default(),
            audit_capacity: DEFAULT_AUDIT_CAPACITY,
            auditor_lockout_secs: AUDITOR_LOCKOUT_SECS,
        }
    }
}

/// Identifies one authenticated caller of the module (an appliance shell session).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccessId(pub(crate) u64);

/// The Secure Transport Mode strings shown to the operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StmStrings {
    /// `XXXX-XXXX-XXXX-XXXX`, random, shown when STM is entered.
    pub random_user_string: String,
    /// `XXXX-XXXX-XXXX-XXXX`, computed from the random user string, the module state and the
    /// hidden nonce.
    pub verification_string: String,
}

/// Emulated tamper sources (chapter 8's table), raised from the console maintenance commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum TamperKind {
    /// Chassis cover opened.
    ChassisIntrusion,
    /// Module card removed from the appliance.
    CardRemoval,
    /// Temperature above the hard limit.
    OverTemperature,
    /// Temperature below the hard limit.
    UnderTemperature,
    /// Supply voltage above the hard limit.
    OverVoltage,
    /// Supply voltage below the hard limit.
    UnderVoltage,
    /// Tamper battery removed.
    BatteryRemoval,
    /// Tamper battery depleted.
    BatteryDepletion,
}

impl TamperKind {
    /// Every tamper kind, for help texts and tests.
    pub const ALL: [TamperKind; 8] = [
        Self::ChassisIntrusion,
        Self::CardRemoval,
        Self::OverTemperature,
        Self::UnderTemperature,
        Self::OverVoltage,
        Self::UnderVoltage,
        Self::BatteryRemoval,
        Self::BatteryDepletion,
    ];

    /// The maintenance-command name of the kind.
    pub fn name(self) -> &'static str {
        match self {
            Self::ChassisIntrusion => "chassis",
            Self::CardRemoval => "cardremoval",
            Self::OverTemperature => "overtemp",
            Self::UnderTemperature => "undertemp",
            Self::OverVoltage => "overvoltage",
            Self::UnderVoltage => "undervoltage",
            Self::BatteryRemoval => "batteryremoval",
            Self::BatteryDepletion => "batterydepletion",
        }
    }

    /// A description for `hsm tamper show`.
    pub fn description(self) -> &'static str {
        match self {
            Self::ChassisIntrusion => "Chassis intrusion",
            Self::CardRemoval => "Card removal",
            Self::OverTemperature => "Over temperature",
            Self::UnderTemperature => "Under temperature",
            Self::OverVoltage => "Over voltage",
            Self::UnderVoltage => "Under voltage",
            Self::BatteryRemoval => "Battery removal",
            Self::BatteryDepletion => "Battery depletion",
        }
    }

    /// Parses a maintenance-command name (case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(name))
    }

    /// Battery events decommission the module whatever policy 40 says.
    fn always_decommissions(self) -> bool {
        matches!(self, Self::BatteryRemoval | Self::BatteryDepletion)
    }
}

/// The module status of MO-01, as `hsm show` and client slot listings report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HsmStatus {
    /// Working.
    Ok,
    /// Not initialized (new, zeroized or factory reset).
    Zeroized,
    /// Decommissioned; a hard init is needed.
    Decommissioned,
    /// In Secure Transport Mode.
    TransportMode,
    /// In STM and not initialized.
    TransportModeZeroized,
    /// In STM and decommissioned.
    TransportModeDecommissioned,
    /// Halted by a tamper.
    HardwareTamper,
    /// Halted by a tamper, not initialized.
    HardwareTamperZeroized,
    /// Halted by a tamper that decommissioned it.
    TamperDecommissioned,
    /// Halted because stored data failed its integrity check (LC-60).
    IntegrityHalt,
}

impl HsmStatus {
    /// The reference's status text.
    pub fn text(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Zeroized => "Zeroized",
            Self::Decommissioned => "Decommissioned",
            Self::TransportMode => "Transport Mode",
            Self::TransportModeZeroized => "Transport Mode, zeroized",
            Self::TransportModeDecommissioned => "Transport Mode, Decommissioned",
            Self::HardwareTamper => "Hardware Tamper",
            Self::HardwareTamperZeroized => "Hardware Tamper, Zeroized",
            Self::TamperDecommissioned => "HSM Tamper, Decommissioned",
            Self::IntegrityHalt => "Halted (stored data integrity error)",
        }
    }
}

/// How `hsm init` will proceed on the module as it is now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitKind {
    /// New, zeroized, decommissioned or factory-reset module: sets SO and domain.
    Hard,
    /// Initialized module: keeps SO and domain, destroys partitions.
    Soft,
}

/// Parameters of `hsm init`.
pub struct InitRequest {
    /// The label (validated and truncated to 32 characters).
    pub label: String,
    /// Hard init: the new HSM SO password. Soft init: the current one, checked again.
    pub so_password: Secret,
    /// Hard init: the new HSM domain string. Ignored on a soft init.
    pub domain: Option<Secret>,
    /// Policies from a template (hard init only).
    pub template: Option<String>,
    /// Require the HSM SO for later time changes.
    pub auth_time_config: bool,
}

/// Size of a new or resized partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionSize {
    /// An equal share of the total storage by licensed partition count (PA-10).
    Default,
    /// Exactly this many bytes.
    Bytes(u64),
    /// All unallocated storage.
    AllFree,
}

/// A partition as `partition list` and `partition show` report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionInfo {
    /// The 13-digit serial number.
    pub serial: u64,
    /// The appliance-side name.
    pub name: String,
    /// Partition format version (0 or 1).
    pub version: u8,
    /// Number of objects.
    pub objects: u64,
    /// Bytes allotted.
    pub total: u64,
    /// Bytes used by objects.
    pub used: u64,
    /// Bytes free.
    pub free: u64,
    /// Unix time of creation.
    pub created_at: i64,
}

/// HSM storage totals (`hsm show`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StorageInfo {
    /// Total storage.
    pub total: u64,
    /// Allotted to partitions including their overhead.
    pub used: u64,
    /// Unallotted.
    pub free: u64,
}

/// Everything `hsm show` prints about the module.
#[derive(Clone, Debug)]
pub struct HsmInfo {
    /// Label, if initialized.
    pub label: Option<String>,
    /// Serial number.
    pub serial: u64,
    /// Module version.
    pub firmware: &'static str,
    /// Status (MO-01).
    pub status: HsmStatus,
    /// Whether the asking access has the HSM SO logged in.
    pub so_logged_in: bool,
    /// Attempts left before zeroization.
    pub so_attempts_left: u8,
    /// Whether an Auditor role exists.
    pub audit_role_initialized: bool,
    /// Whether the module was zeroized by `hsm zeroize`.
    pub manually_zeroized: bool,
    /// Whether the module is in STM.
    pub secure_transport_mode: bool,
    /// Whether an uncleared tamper exists.
    pub tamper_detected: bool,
    /// Partitions (serial, name).
    pub partitions: Vec<(u64, String)>,
    /// Effective maximum number of partitions (policy 33 within the licence).
    pub partitions_allowed: u32,
    /// Whether policy 12 is off (FIPS-approved operation).
    pub fips_approved: bool,
    /// HSM clock (Unix seconds).
    pub hsm_time: i64,
    /// Host clock (Unix seconds).
    pub host_time: i64,
    /// Storage totals.
    pub storage: StorageInfo,
}

/// A licence entry of `hsm displayLicenses`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct License {
    /// Licence id.
    pub id: String,
    /// What it grants.
    pub description: String,
}

/// What a policy change did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyChangeOutcome {
    /// Previous value.
    pub old: u32,
    /// New value.
    pub new: u32,
    /// What the change destroyed.
    pub destroyed: Destructive,
}

/// What `hsm tamper show` reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TamperReport {
    /// The last tamper event ever recorded (until factory reset).
    pub last: Option<TamperEvent>,
    /// Whether a tamper is still uncleared.
    pub active: bool,
    /// Whether `hsm tamper clear` is still required.
    pub clear_required: bool,
    /// Whether `hsm restart` is still required.
    pub restart_required: bool,
    /// Every event since the last factory reset (the support-info history).
    pub history: Vec<TamperEvent>,
}

/// What a module operation may need; checked against STM, tamper and halt states.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    /// Read-only status (`hsm show`, policies, licences, partition list/show, tamper show).
    Status,
    /// HSM SO login/logout.
    Login,
    /// `hsm stm recover`.
    StmRecover,
    /// Tamper clear and restart.
    TamperRecovery,
    /// Zeroize.
    Destroy,
    /// Hardware events (the decommission button): work in every state but the halt.
    Physical,
    /// Partition roles and contents: only while the module is in normal operation.
    Partition,
    /// Like `Partition`, for what proceeds when the audit log is full (AU-14: partition
    /// logins and logouts, opening and closing sessions).
    Session,
    /// The Auditor's work (init, configuration, secret, verification): refused in STM and
    /// tamper like administration, allowed when the audit log is full (AU-32).
    Audit,
    /// Everything else.
    Admin,
}

struct Access {
    so: bool,
    /// The Auditor is logged in on this access.
    auditor: bool,
    /// The role this access has logged in on each partition (by serial).
    partitions: HashMap<u64, PartitionRole>,
}

/// The cryptographic module.
pub struct Module {
    dir: PathBuf,
    config: ModuleConfig,
    serial: u64,
    /// The lowest partition index never used (kept beside the store, so that serial numbers
    /// are not reused even after the store is destroyed by a factory reset, PA-04).
    partition_floor: u64,
    /// The unit's capabilities: recorded in the store when the module is created and fixed
    /// from then on (the configuration only shapes a new module).
    caps: Capabilities,
    /// `None` while halted by a stored-data integrity failure.
    store: Option<Store>,
    halt_reason: Option<String>,
    core: Option<CoreState>,
    condition: Condition,
    policies: Policies,
    auditor: Option<AuditorRole>,
    /// What the Auditor configured (`None`: not configured; records stay in the module).
    audit_config: Option<crate::state::AuditConfig>,
    /// The audit log: chain head, records held, filter, LOG FULL.
    audit: auditing::AuditState,
    /// Seconds added to the HSM clock by tests (lockout expiry without waiting).
    clock_skew: i64,
    partitions: BTreeMap<u64, PartitionRecord>,
    accesses: HashMap<AccessId, Access>,
    next_access: u64,
    /// Each partition's token (objects, session objects, parsed keys), by serial.
    tokens: BTreeMap<u64, crate::token::Token>,
    /// Open sessions by handle.
    sessions: BTreeMap<u64, crate::token::Session>,
    /// The next session handle (never reused while the module runs).
    next_session: u64,
    /// The module's SP 800-90A DRBG (one per module).
    rng: strongroom_crypto::Drbg,
    /// Partition utilization counters (volatile).
    counters: crate::token::metrics::Counters,
    /// Busy time of cryptographic calls (volatile).
    busy: crate::token::metrics::BusyClock,
}

impl Module {
    /// Opens the module whose state lives in `dir`, creating a factory-new module there when
    /// none exists. A new module starts in Secure Transport Mode and returns its STM strings,
    /// which are shown this once.
    ///
    /// A store that fails its integrity check does not make this fail: the module comes up
    /// halted ([`HsmStatus::IntegrityHalt`]) and only [`Module::factory_reset`] recovers it.
    pub fn open(dir: &Path, config: ModuleConfig) -> Result<(Self, Option<StmStrings>), Error> {
        std::fs::create_dir_all(dir)
            .and_then(|()| {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            })
            .map_err(|err| e::internal(format!("cannot prepare {}: {err}", dir.display())))?;
        let (serial, partition_floor) = load_or_create_identity(dir)?;
        let mut module = Self {
            dir: dir.to_path_buf(),
            serial,
            partition_floor,
            store: None,
            halt_reason: None,
            core: None,
            condition: Condition::default(),
            policies: Policies::defaults(&caps(&config)),
            caps: caps(&config),
            auditor: None,
            audit_config: None,
            audit: auditing::AuditState::new(),
            clock_skew: 0,
            partitions: BTreeMap::new(),
            accesses: HashMap::new(),
            next_access: 1,
            tokens: BTreeMap::new(),
            sessions: BTreeMap::new(),
            next_session: 1,
            rng: strongroom_crypto::Drbg::new().map_err(|_| e::rng_failure())?,
            counters: crate::token::metrics::Counters::default(),
            busy: crate::token::metrics::BusyClock::default(),
            config,
        };
        if !Store::exists(dir) {
            let strings = module.create_factory_state()?;
            return Ok((module, Some(strings)));
        }
        match Store::open(dir, module.store_options(false)) {
            Ok(store) => {
                // A store with no records at all was created but never committed its first
                // state (a crash during the very first start): it is still factory-new.
                if store.tables().map(|t| t.is_empty()).unwrap_or(false) {
                    module.store = Some(store);
                    let strings = module.write_factory_state()?;
                    return Ok((module, Some(strings)));
                }
                module.store = Some(store);
                if let Err(err) = module.load() {
                    module.enter_integrity_halt(err.message().to_owned());
                }
            }
            Err(strongroom_store::Error::Integrity { what }) => module.enter_integrity_halt(what),
            // A missing or damaged KEK file is damaged permanent storage (LC-60): halt, so
            // that factory reset can recover. A passphrase problem is a configuration error.
            Err(strongroom_store::Error::Kek(
                fault @ (strongroom_store::KekFault::Missing
                | strongroom_store::KekFault::Malformed),
            )) => module.enter_integrity_halt(format!("key-encryption key: {fault}")),
            Err(other) => return Err(other.into()),
        }
        Ok((module, None))
    }

    fn store_options(&self, create: bool) -> OpenOptions {
        let mut opts = OpenOptions::new().create(create);
        if let Some(p) = &self.config.kek_passphrase {
            opts = opts.passphrase(p.clone());
        }
        opts
    }

    fn enter_integrity_halt(&mut self, what: String) {
        self.store = None;
        self.core = None;
        self.auditor = None;
        self.audit_forget_config();
        self.audit = auditing::AuditState::new();
        self.partitions.clear();
        self.tokens_clear();
        self.accesses.values_mut().for_each(|a| {
            a.so = false;
            a.auditor = false;
            a.partitions.clear();
        });
        self.halt_reason = Some(what);
    }

    /// Creates the store of a factory-new module, in Secure Transport Mode.
    fn create_factory_state(&mut self) -> Result<StmStrings, Error> {
        let store = Store::open(&self.dir, self.store_options(true))?;
        self.store = Some(store);
        self.write_factory_state()
    }

    fn write_factory_state(&mut self) -> Result<StmStrings, Error> {
        self.policies = Policies::defaults(&self.caps());
        let mut condition = Condition {
            next_partition: self.partition_floor,
            ..Condition::default()
        };
        let (secret, strings) = self.new_stm(&condition)?;
        condition.stm = Some(secret);
        let policies = encode(&self.policies)?;
        let cond = encode(&condition)?;
        let caps = encode(&self.caps)?;
        self.store()?.write(|txn| {
            txn.put(T_HSM, K_POLICIES, &policies)?;
            txn.put(T_HSM, K_CONDITION, &cond)?;
            txn.put(T_HSM, K_CAPABILITIES, &caps)?;
            Ok(())
        })?;
        self.condition = condition;
        Ok(strings)
    }

    fn load(&mut self) -> Result<(), Error> {
        let store = self.store()?;
        let core = store
            .get(T_HSM, K_CORE)?
            .map(|b| decode::<CoreState>(&b))
            .transpose()?;
        // The condition and policy records exist from the module's creation on; a store
        // without them has been tampered with (records removed), so it halts.
        let missing = || e::integrity_missing("a module state record is missing");
        let caps = decode::<Capabilities>(&store.get(T_HSM, K_CAPABILITIES)?.ok_or_else(missing)?)?;
        let condition = decode::<Condition>(&store.get(T_HSM, K_CONDITION)?.ok_or_else(missing)?)?;
        let policies = decode::<Policies>(&store.get(T_HSM, K_POLICIES)?.ok_or_else(missing)?)?;
        let auditor = store
            .get(T_HSM, K_AUDITOR)?
            .map(|b| decode::<AuditorRole>(&b))
            .transpose()?;
        let mut partitions = BTreeMap::new();
        for (_, value) in store.scan(T_PARTITIONS)? {
            let record: PartitionRecord = decode(&value)?;
            partitions.insert(record.serial, record);
        }
        self.core = core;
        self.condition = condition;
        self.policies = policies;
        self.caps = caps;
        self.auditor = auditor;
        self.partitions = partitions;
        self.load_audit()?;
        self.load_tokens()
    }

    fn store(&self) -> Result<&Store, Error> {
        self.store.as_ref().ok_or_else(e::integrity_halt)
    }

    fn caps(&self) -> Capabilities {
        self.caps
    }

    /// Runs a store write; an integrity failure found while writing halts the module.
    fn write<T>(
        &mut self,
        f: impl FnOnce(&mut strongroom_store::WriteTxn<'_>) -> Result<T, strongroom_store::Error>,
    ) -> Result<T, Error> {
        let result = self.store()?.write(f);
        match result {
            Ok(v) => Ok(v),
            Err(strongroom_store::Error::Integrity { what }) => {
                self.enter_integrity_halt(what);
                Err(e::integrity_halt())
            }
            Err(other) => Err(other.into()),
        }
    }

    fn save_condition(&mut self, condition: Condition) -> Result<(), Error> {
        let bytes = encode(&condition)?;
        self.write(|txn| txn.put(T_HSM, K_CONDITION, &bytes))?;
        self.condition = condition;
        Ok(())
    }

    // ----- accesses -----

    /// Registers a new caller (one appliance shell session). Nobody is logged in on it.
    pub fn open_access(&mut self) -> AccessId {
        let id = AccessId(self.next_access);
        self.next_access += 1;
        self.accesses.insert(
            id,
            Access {
                so: false,
                auditor: false,
                partitions: HashMap::new(),
            },
        );
        id
    }

    /// Ends a caller's access, logging out whatever it had logged in and closing its
    /// sessions (with their session objects and operations).
    pub fn close_access(&mut self, id: AccessId) {
        self.sessions_close_where(|s| s.access == id);
        self.accesses.remove(&id);
    }

    /// Whether `id` has the HSM SO logged in.
    pub fn so_logged_in(&self, id: AccessId) -> bool {
        self.accesses.get(&id).is_some_and(|a| a.so)
    }

    /// Checks, without changing anything, that `id` may run an HSM SO administrative command
    /// now: the module's condition allows administration, it is initialized, and the HSM SO
    /// is logged in on `id`. The shell calls this before asking for confirmation.
    pub fn check_so_admin(&self, id: AccessId) -> Result<(), Error> {
        self.gate(Op::Admin)?;
        if self.core.is_none() {
            return Err(e::not_initialized());
        }
        self.require_so(id)
    }

    /// Checks, without changing anything, that `hsm init` may start now and which kind it
    /// will be (soft init needs the HSM SO logged in on `id`).
    pub fn check_init(&self, id: AccessId) -> Result<InitKind, Error> {
        self.gate(Op::Admin)?;
        if self.core.is_some() {
            self.require_so(id)?;
            return Ok(InitKind::Soft);
        }
        Ok(InitKind::Hard)
    }

    /// Checks, without changing anything, that `hsm stm transport` may start now.
    pub fn check_stm_transport(&self, id: AccessId) -> Result<(), Error> {
        self.gate(Op::Admin)?;
        if self.core.is_some() {
            self.require_so(id)?;
        }
        Ok(())
    }

    fn require_so(&self, id: AccessId) -> Result<(), Error> {
        if self.so_logged_in(id) {
            Ok(())
        } else {
            Err(e::not_logged_in())
        }
    }

    /// Logs every role out and closes every session (STM, init, zeroize, tamper, restart).
    fn logout_everyone(&mut self) {
        self.accesses.values_mut().for_each(|a| {
            a.so = false;
            a.auditor = false;
            a.partitions.clear();
        });
        self.sessions_close_where(|_| true);
    }

    // ----- state queries -----

    /// The module's status (MO-01).
    pub fn status(&self) -> HsmStatus {
        if self.halt_reason.is_some() {
            return HsmStatus::IntegrityHalt;
        }
        let c = &self.condition;
        let initialized = self.core.is_some();
        if c.tamper.is_some() {
            return if c.decommissioned {
                HsmStatus::TamperDecommissioned
            } else if initialized {
                HsmStatus::HardwareTamper
            } else {
                HsmStatus::HardwareTamperZeroized
            };
        }
        match (c.stm.is_some(), initialized, c.decommissioned) {
            (true, true, _) => HsmStatus::TransportMode,
            (true, false, true) => HsmStatus::TransportModeDecommissioned,
            (true, false, false) => HsmStatus::TransportModeZeroized,
            (false, true, _) => HsmStatus::Ok,
            (false, false, true) => HsmStatus::Decommissioned,
            (false, false, false) => HsmStatus::Zeroized,
        }
    }

    /// Why the module is halted for stored data integrity, if it is.
    pub fn integrity_failure(&self) -> Option<&str> {
        self.halt_reason.as_deref()
    }

    /// Whether the module is initialized.
    pub fn is_initialized(&self) -> bool {
        self.core.is_some()
    }

    /// Whether the module is in Secure Transport Mode.
    pub fn in_transport(&self) -> bool {
        self.condition.stm.is_some()
    }

    /// The module serial number.
    pub fn serial(&self) -> u64 {
        self.serial
    }

    /// The current policy values.
    pub fn policies(&self) -> &Policies {
        &self.policies
    }

    /// The module's capabilities.
    pub fn capabilities(&self) -> Capabilities {
        self.caps()
    }

    /// What `hsm init` would do now.
    pub fn init_kind(&self) -> InitKind {
        if self.core.is_some() {
            InitKind::Soft
        } else {
            InitKind::Hard
        }
    }

    /// Checks that `op` is allowed in the module's present condition.
    fn gate(&self, op: Op) -> Result<(), Error> {
        if matches!(op, Op::Partition | Op::Session)
            && self.halt_reason.is_none()
            && self.core.is_none()
        {
            return Err(e::not_initialized());
        }
        if self.halt_reason.is_some() {
            return match op {
                Op::Status => Ok(()),
                _ => Err(e::integrity_halt()),
            };
        }
        if self.condition.tamper.is_some()
            && !matches!(
                op,
                Op::Status | Op::Login | Op::TamperRecovery | Op::Physical
            )
        {
            return Err(e::tampered());
        }
        if self.condition.stm.is_some()
            && !matches!(
                op,
                Op::Status
                    | Op::Login
                    | Op::StmRecover
                    | Op::TamperRecovery
                    | Op::Destroy
                    | Op::Physical
            )
        {
            return Err(e::in_transport());
        }
        // LOG FULL (AU-32): nothing that would need a record runs; the Auditor's work,
        // logins, sessions, status and hardware events go on.
        if self.audit.is_full()
            && !matches!(
                op,
                Op::Status | Op::Login | Op::Session | Op::Audit | Op::Physical
            )
        {
            return Err(e::log_full());
        }
        Ok(())
    }

    // ----- Secure Transport Mode -----

    fn new_stm(&self, condition: &Condition) -> Result<(StmSecret, StmStrings), Error> {
        let mut nonce = [0u8; 32];
        random::fill(&mut nonce)?;
        let random_user_string = random_string()?;
        let secret = StmSecret {
            random_user_string: random_user_string.clone(),
            nonce,
        };
        let verification_string = self.verification_for(&secret, condition, &random_user_string)?;
        Ok((
            secret,
            StmStrings {
                random_user_string,
                verification_string,
            },
        ))
    }

    /// Digest of the module state that STM protects (LC-03): initialization, credentials,
    /// the SO failure counter, tamper and zeroization flags, policies, the Auditor and every
    /// partition with its contents' accounting. The STM secret itself is left out.
    fn state_digest(&self, condition: &Condition) -> Result<[u8; 32], Error> {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(b"strongroom stm state v1");
        let mut part = |label: &[u8], bytes: &[u8]| {
            ctx.update(&(label.len() as u64).to_le_bytes());
            ctx.update(label);
            ctx.update(&(bytes.len() as u64).to_le_bytes());
            ctx.update(bytes);
        };
        part(b"firmware", FIRMWARE_VERSION.as_bytes());
        part(b"serial", &self.serial.to_le_bytes());
        let mut c = condition.clone();
        c.stm = None;
        part(b"condition", &encode(&c)?);
        part(b"core", &encode(&self.core)?);
        part(b"policies", &encode(&self.policies)?);
        part(b"auditor", &encode(&self.auditor)?);
        for p in self.partitions.values() {
            part(b"partition", &encode(p)?);
        }
        ctx.finish()
            .as_ref()
            .try_into()
            .map_err(|_| e::internal("digest length"))
    }

    fn verification_for(
        &self,
        secret: &StmSecret,
        condition: &Condition,
        random_user_string: &str,
    ) -> Result<String, Error> {
        let state = self.state_digest(condition)?;
        let key = hmac::Key::new(hmac::HMAC_SHA256, &secret.nonce);
        let mut out = String::with_capacity(16);
        let mut counter = 0u32;
        while out.len() < 16 {
            let mut ctx = hmac::Context::with_key(&key);
            ctx.update(b"strongroom stm verification v1");
            ctx.update(&counter.to_le_bytes());
            ctx.update(random_user_string.as_bytes());
            ctx.update(&state);
            random::alnum_from(ctx.sign().as_ref(), &mut out, 16);
            counter += 1;
        }
        Ok(group(&out))
    }

    /// `hsm stm transport`: enters STM and returns the strings to record. An initialized
    /// module needs the HSM SO; a zeroized one does not (LC-05). Refused while a tamper is
    /// uncleared (LC-09).
    pub fn stm_transport(&mut self, id: AccessId) -> Result<StmStrings, Error> {
        self.gate(Op::Admin)?;
        if self.core.is_some() {
            self.require_so(id)?;
        }
        let mut condition = self.condition.clone();
        let (secret, strings) = self.new_stm(&condition)?;
        condition.stm = Some(secret);
        self.save_condition(condition)?;
        // Entering STM logs out every role (LC-08).
        self.logout_everyone();
        Ok(strings)
    }

    /// The verification string for `random_user_string` as the module computes it now
    /// (`hsm stm recover` shows it before asking `proceed`). Any string is accepted (LC-07).
    pub fn stm_verification(
        &self,
        id: AccessId,
        random_user_string: &str,
    ) -> Result<String, Error> {
        self.gate(Op::StmRecover)?;
        let Some(secret) = &self.condition.stm else {
            return Err(e::restricted("the HSM is not in Secure Transport Mode"));
        };
        if self.core.is_some() {
            self.require_so(id)?;
        }
        self.verification_for(secret, &self.condition, random_user_string.trim())
    }

    /// Leaves STM (after the operator answered `proceed`).
    pub fn stm_recover(&mut self, id: AccessId) -> Result<(), Error> {
        self.gate(Op::StmRecover)?;
        if self.condition.stm.is_none() {
            return Err(e::restricted("the HSM is not in Secure Transport Mode"));
        }
        if self.core.is_some() {
            self.require_so(id)?;
        }
        let mut condition = self.condition.clone();
        condition.stm = None;
        self.save_condition(condition)
    }

    // ----- HSM SO -----

    /// `hsm login`. Three consecutive failures zeroize the module (RA-11); a success resets the
    /// counter. The counter is written before the answer, so restarting does not reset it.
    pub fn so_login(&mut self, id: AccessId, password: &Secret) -> Result<(), Error> {
        let r = self.so_login_inner(id, password);
        self.audited_proceed(AuditCategory::Access, AuditOp::Login, r, |ev| {
            ev.access = Some(id.0);
            ev.detail = "roleID=1".into();
            ev.set_data(0, Some(Self::SO_ROLE), 0);
        })
    }

    fn so_login_inner(&mut self, id: AccessId, password: &Secret) -> Result<(), Error> {
        self.gate(Op::Login)?;
        match self.accesses.get(&id) {
            None => return Err(e::arguments_bad("unknown access")),
            // Separation of roles: one access holds the Auditor or the HSM SO, not both.
            Some(a) if a.auditor => return Err(e::other_role_logged_in("Auditor")),
            Some(_) => {}
        }
        let Some(core) = &self.core else {
            return Err(e::not_initialized());
        };
        if self.so_logged_in(id) {
            return Err(e::already_logged_in());
        }
        if core.so.verify(password) {
            if self.condition.so_failures != 0 {
                let mut c = self.condition.clone();
                c.so_failures = 0;
                self.save_condition(c)?;
            }
            if let Some(a) = self.accesses.get_mut(&id) {
                a.so = true;
            }
            return Ok(());
        }
        self.so_failure()
    }

    fn so_failure(&mut self) -> Result<(), Error> {
        let mut c = self.condition.clone();
        c.so_failures = c.so_failures.saturating_add(1);
        c.so_failures_total = c.so_failures_total.saturating_add(1);
        if c.so_failures >= SO_LOGIN_ATTEMPTS {
            self.save_condition(c)?;
            self.zeroize_inner(false)?;
            return Err(e::so_threshold());
        }
        self.save_condition(c)?;
        Err(e::pin_incorrect())
    }

    /// `hsm logout`.
    pub fn so_logout(&mut self, id: AccessId) -> Result<(), Error> {
        let r = match self.accesses.get_mut(&id) {
            Some(a) if a.so => {
                a.so = false;
                Ok(())
            }
            _ => Err(e::not_logged_in()),
        };
        self.audited_proceed(AuditCategory::Access, AuditOp::Logout, r, |ev| {
            ev.access = Some(id.0);
            ev.detail = "roleID=1".into();
        })
    }

    /// `hsm changepw`: the logged-in HSM SO replaces its password. A wrong old password counts
    /// as a failed SO login.
    pub fn so_change_password(
        &mut self,
        id: AccessId,
        old: &Secret,
        new: &Secret,
    ) -> Result<(), Error> {
        let r = self.so_change_password_inner(id, old, new);
        self.audited_hsm(
            AuditCategory::Management,
            AuditOp::SetPin,
            Some(id),
            "roleID=1",
            r,
        )
    }

    fn so_change_password_inner(
        &mut self,
        id: AccessId,
        old: &Secret,
        new: &Secret,
    ) -> Result<(), Error> {
        self.gate(Op::Admin)?;
        self.require_so(id)?;
        rules::password(new.expose())?;
        let core = self.core.clone().ok_or_else(e::not_initialized)?;
        if !core.so.verify(old) {
            return self.so_failure();
        }
        let mut core = core;
        core.so = Credential::create(new, self.config.kdf)?;
        let bytes = encode(&core)?;
        self.write(|txn| txn.put(T_HSM, K_CORE, &bytes))?;
        self.core = Some(core);
        Ok(())
    }

    // ----- initialization -----

    /// `hsm init`: hard on a module that is not initialized, soft on one that is (LC-10,
    /// LC-11). STM must be off. Every rule is checked before anything changes.
    pub fn init(&mut self, id: AccessId, req: InitRequest) -> Result<InitKind, Error> {
        let r = self.init_inner(id, req);
        if let Ok(InitKind::Hard) = r {
            // The HSM SO is created: recorded unconditionally (AU-12).
            self.audit_unconditional(AuditOp::InitToken, Some(id), "roleID=1");
            return r;
        }
        self.audited_hsm(
            AuditCategory::Management,
            AuditOp::InitToken,
            Some(id),
            "",
            r,
        )
    }

    fn init_inner(&mut self, id: AccessId, req: InitRequest) -> Result<InitKind, Error> {
        self.gate(Op::Admin)?;
        let label = rules::hsm_label(&req.label)?;
        match self.core.clone() {
            None => {
                rules::password(req.so_password.expose())?;
                let domain = req
                    .domain
                    .as_ref()
                    .ok_or_else(|| e::domain_invalid("a domain string is required"))?;
                rules::domain(domain.expose())?;
                let policies = match &req.template {
                    Some(text) => {
                        policy::parse_template(text, &self.caps()).map_err(policy_error)?
                    }
                    None => self.policies.clone(),
                };
                let core = CoreState {
                    label,
                    so: Credential::create(&req.so_password, self.config.kdf)?,
                    domain: Credential::create(domain, self.config.kdf)?,
                    auth_time_config: req.auth_time_config,
                    initialized_at: now(),
                };
                let mut condition = self.condition.clone();
                condition.so_failures = 0;
                condition.manually_zeroized = false;
                condition.decommissioned = false;
                let (core_b, cond_b, pol_b) =
                    (encode(&core)?, encode(&condition)?, encode(&policies)?);
                let stale: Vec<u64> = self.partitions.keys().copied().collect();
                self.write(|txn| {
                    for serial in &stale {
                        txn.delete(T_PARTITIONS, &partition_key(*serial))?;
                        txn.drop_table(&partition_table(*serial))?;
                    }
                    txn.put(T_HSM, K_CORE, &core_b)?;
                    txn.put(T_HSM, K_CONDITION, &cond_b)?;
                    txn.put(T_HSM, K_POLICIES, &pol_b)?;
                    Ok(())
                })?;
                self.partitions.clear();
                self.tokens_clear();
                self.core = Some(core);
                self.condition = condition;
                self.policies = policies;
                self.logout_everyone();
                self.reset_volatile();
                Ok(InitKind::Hard)
            }
            Some(mut core) => {
                self.require_so(id)?;
                if req.template.is_some() {
                    return Err(e::restricted(
                        "policy templates apply only when initializing a zeroized HSM; use 'hsm changePolicy'",
                    ));
                }
                if !core.so.verify(&req.so_password) {
                    return self.so_failure().map(|()| InitKind::Soft);
                }
                core.label = label;
                core.auth_time_config = req.auth_time_config;
                core.initialized_at = now();
                let core_b = encode(&core)?;
                self.destroy_partitions_with(Some((K_CORE, core_b)))?;
                self.core = Some(core);
                self.logout_everyone();
                self.reset_volatile();
                Ok(InitKind::Soft)
            }
        }
    }

    /// Destroys every application partition (records, keys and objects) by re-keying the
    /// store without them, so that their sealed remains are undecipherable at once (LC-28:
    /// a destructive policy change destroys the KEK). Then writes one more `hsm` record, if
    /// given: destruction comes first, so a crash in between never leaves the new setting
    /// with the old partitions.
    fn destroy_partitions_with(&mut self, extra: Option<(&[u8], Vec<u8>)>) -> Result<(), Error> {
        self.rekey(|table, _| !is_partition_table(table))?;
        self.partitions.clear();
        self.tokens_clear();
        self.accesses
            .values_mut()
            .for_each(|a| a.partitions.clear());
        if let Some((key, value)) = extra {
            self.write(|txn| txn.put(T_HSM, key, &value))?;
        }
        Ok(())
    }

    // ----- zeroize, factory reset, decommission -----

    /// `hsm zeroize`: destroys the HSM SO, the domain and every partition by destroying the
    /// KEK; keeps the policies and the Auditor (LC-20).
    pub fn zeroize(&mut self) -> Result<(), Error> {
        self.gate(Op::Destroy)?;
        self.zeroize_inner(true)
    }

    fn zeroize_inner(&mut self, manual: bool) -> Result<(), Error> {
        self.rekey(crate::state::kept_by_zeroize)?;
        self.core = None;
        self.partitions.clear();
        self.tokens_clear();
        self.logout_everyone();
        let mut c = self.condition.clone();
        c.so_failures = 0;
        c.manually_zeroized = manual;
        self.save_condition(c)?;
        let why = if manual { "hsm zeroize" } else { "automatic" };
        self.audit_unconditional(AuditOp::Zeroize, None, why);
        Ok(())
    }

    fn rekey(&mut self, keep: impl Fn(&str, &[u8]) -> bool) -> Result<(), Error> {
        let result = self.store()?.rekey(keep);
        match result {
            Ok(()) => Ok(()),
            Err(strongroom_store::Error::Integrity { what }) => {
                self.enter_integrity_halt(what);
                Err(e::integrity_halt())
            }
            Err(other) => Err(other.into()),
        }
    }

    /// `hsm factoryreset` (local console only): destroys everything, including the Auditor,
    /// and resets the policies to their defaults (LC-21). Also the only way out of the
    /// stored-data-integrity halt (LC-61): the damaged store is destroyed and recreated.
    ///
    /// Refused while policy 39 (Secure Trusted Channel) is on, as the reference requires it
    /// off first; a halted module cannot read its policies and is always reset.
    pub fn factory_reset(&mut self) -> Result<(), Error> {
        if self.halt_reason.is_none() && self.policies.is_on(39) {
            return Err(e::restricted(
                "turn policy 39 (Allow Secure Trusted Channel) off before a factory reset",
            ));
        }
        // The log secret and the records not yet moved out survive (AU-07: logs are cleared
        // only by a command of their own), unless the store could not be read at all.
        let carry = self.audit_carry();
        self.store = None;
        Store::destroy(&self.dir)?;
        self.halt_reason = None;
        self.core = None;
        self.auditor = None;
        self.audit_forget_config();
        self.partitions.clear();
        self.tokens_clear();
        self.logout_everyone();
        self.policies = Policies::defaults(&self.caps());
        let store = Store::open(&self.dir, self.store_options(true))?;
        self.store = Some(store);
        let condition = Condition {
            next_partition: self.condition.next_partition.max(self.partition_floor),
            ..Condition::default()
        };
        let (pol, cond, caps) = (
            encode(&self.policies)?,
            encode(&condition)?,
            encode(&self.caps)?,
        );
        self.write(|txn| {
            txn.put(T_HSM, K_POLICIES, &pol)?;
            txn.put(T_HSM, K_CONDITION, &cond)?;
            txn.put(T_HSM, K_CAPABILITIES, &caps)?;
            if let Some((chain, records)) = &carry {
                txn.put(T_HSM, crate::state::K_AUDIT_CHAIN, chain)?;
                for (seq, line) in records {
                    txn.put(crate::state::T_AUDIT, &auditing::seq_key(*seq), line)?;
                }
            }
            Ok(())
        })?;
        self.condition = condition;
        self.audit = auditing::AuditState::new();
        self.load_audit()?;
        self.audit_unconditional(AuditOp::Zeroize, None, "factory reset");
        Ok(())
    }

    /// The rear-panel decommission button (a console-only maintenance command): destroys the
    /// KEK, every partition, the HSM SO and the Auditor; keeps the policies (LC-23). Refused
    /// when policy 46 disables decommissioning.
    pub fn decommission(&mut self) -> Result<(), Error> {
        self.gate(Op::Physical)?;
        if self.policies.is_on(46) {
            return Err(e::restricted("policy 46 (Disable Decommission) is on"));
        }
        self.decommission_inner()
    }

    fn decommission_inner(&mut self) -> Result<(), Error> {
        self.rekey(crate::state::kept_by_decommission)?;
        self.core = None;
        self.auditor = None;
        self.audit_forget_config();
        self.partitions.clear();
        self.tokens_clear();
        self.logout_everyone();
        let mut c = self.condition.clone();
        c.so_failures = 0;
        c.decommissioned = true;
        c.manually_zeroized = false;
        self.save_condition(c)?;
        self.audit_unconditional(AuditOp::Decommission, None, "");
        Ok(())
    }

    // ----- tamper -----

    /// Raises a tamper event (console-only maintenance command standing in for the sensors).
    /// The module halts; it is decommissioned if policy 40 is on or the battery is involved;
    /// with policy 48 on the HSM SO must clear the tamper, and a restart resumes service.
    pub fn raise_tamper(&mut self, kind: TamperKind) -> Result<TamperEvent, Error> {
        if self.halt_reason.is_some() {
            return Err(e::integrity_halt());
        }
        let decommission = self.policies.is_on(40) || kind.always_decommissions();
        if decommission {
            self.decommission_inner()?;
        }
        let event = TamperEvent {
            kind,
            at: now(),
            decommissioned: decommission,
        };
        let mut c = self.condition.clone();
        c.tamper = Some(ActiveTamper {
            event: event.clone(),
            clear_required: self.policies.is_on(48),
            restart_required: true,
        });
        c.tamper_history.push(event.clone());
        self.save_condition(c)?;
        self.logout_everyone();
        self.audit_unconditional(AuditOp::Tamper, None, kind.name());
        Ok(event)
    }

    /// `hsm tamper show`.
    pub fn tamper_report(&self) -> TamperReport {
        let active = self.condition.tamper.as_ref();
        TamperReport {
            last: self.condition.tamper_history.last().cloned(),
            active: active.is_some(),
            clear_required: active.is_some_and(|t| t.clear_required),
            restart_required: active.is_some_and(|t| t.restart_required),
            history: self.condition.tamper_history.clone(),
        }
    }

    /// `hsm tamper clear`: the HSM SO clears a tamper lock (policy 48). When the tamper
    /// decommissioned the module (policies 40 and 48 on) there is no SO and none is needed.
    pub fn tamper_clear(&mut self, id: AccessId) -> Result<(), Error> {
        self.gate(Op::TamperRecovery)?;
        let Some(t) = self.condition.tamper.clone() else {
            return Err(e::restricted("there is no tamper to clear"));
        };
        if self.core.is_some() {
            self.require_so(id)?;
        }
        let mut c = self.condition.clone();
        c.tamper = if t.restart_required {
            Some(ActiveTamper {
                clear_required: false,
                ..t
            })
        } else {
            None
        };
        self.save_condition(c)
    }

    /// `hsm restart`: resets the module. Everyone is logged out; a tamper whose lock was
    /// cleared (or that needed no clearing, policy 48 off) is over.
    pub fn restart(&mut self) -> Result<(), Error> {
        let r = self.restart_inner();
        self.audited_hsm(AuditCategory::Management, AuditOp::Restart, None, "", r)
    }

    fn restart_inner(&mut self) -> Result<(), Error> {
        self.gate(Op::TamperRecovery)?;
        self.logout_everyone();
        self.reset_volatile();
        if self
            .condition
            .tamper
            .as_ref()
            .is_some_and(|t| !t.clear_required)
        {
            let mut c = self.condition.clone();
            c.tamper = None;
            self.save_condition(c)?;
        }
        Ok(())
    }

    // ----- policies -----

    /// `hsm changePolicy`: applies the destructive effect first (LC-22: partitions destroyed;
    /// policies 46 and 50 zeroize the module), then the new value, each durably.
    pub fn change_policy(
        &mut self,
        id: AccessId,
        policy_id: u8,
        value: u32,
    ) -> Result<PolicyChangeOutcome, Error> {
        let r = self.change_policy_inner(id, policy_id, value);
        let op = match &r {
            Ok(o) if o.destroyed != Destructive::No => AuditOp::SetDestructiveHsmPolicy,
            _ => AuditOp::SetHsmPolicy,
        };
        let detail = format!("policy={policy_id} value={value}");
        self.audited_hsm(AuditCategory::Management, op, Some(id), &detail, r)
    }

    fn change_policy_inner(
        &mut self,
        id: AccessId,
        policy_id: u8,
        value: u32,
    ) -> Result<PolicyChangeOutcome, Error> {
        self.gate(Op::Admin)?;
        if self.core.is_none() {
            return Err(e::not_initialized());
        }
        self.require_so(id)?;
        let existing = u32::try_from(self.partitions.len()).unwrap_or(u32::MAX);
        match policy::check_change(&self.policies, &self.caps(), existing, policy_id, value) {
            Ok(change) => {
                let outcome = PolicyChangeOutcome {
                    old: change.old,
                    new: change.new,
                    destroyed: change.destructive,
                };
                let mut policies = self.policies.clone();
                policies.set(change);
                self.apply_destruction(outcome.destroyed, Some(&policies))?;
                Ok(outcome)
            }
            Err(PolicyError::FailsDependencies { destroys }) => {
                // The reference: enabling 46 while 40 is on fails, yet still destroys.
                self.apply_destruction(destroys, None)?;
                Err(e::policy_dependencies(format!(
                    "policy {policy_id} cannot be set to {value} with the current configuration"
                )))
            }
            Err(other) => Err(policy_error(other)),
        }
    }

    fn apply_destruction(
        &mut self,
        what: Destructive,
        policies: Option<&Policies>,
    ) -> Result<(), Error> {
        let pol_b = policies.map(encode).transpose()?;
        match what {
            Destructive::WholeHsm => {
                if let Some(p) = policies {
                    self.write(|txn| {
                        txn.put(T_HSM, K_POLICIES, pol_b.as_deref().unwrap_or_default())
                    })?;
                    self.policies = p.clone();
                }
                self.zeroize_inner(false)
            }
            Destructive::Partitions => {
                self.destroy_partitions_with(pol_b.map(|b| (K_POLICIES, b)))?;
                if let Some(p) = policies {
                    self.policies = p.clone();
                }
                Ok(())
            }
            Destructive::No => {
                if let (Some(p), Some(b)) = (policies, pol_b) {
                    self.write(|txn| txn.put(T_HSM, K_POLICIES, &b))?;
                    self.policies = p.clone();
                }
                Ok(())
            }
        }
    }

    /// What changing `policy_id` to `value` would destroy, checked as `hsm changePolicy`
    /// will check it, so that the shell can warn before asking `proceed`. Changes nothing.
    pub fn preview_policy_change(
        &self,
        id: AccessId,
        policy_id: u8,
        value: u32,
    ) -> Result<Destructive, Error> {
        self.check_so_admin(id)?;
        let existing = u32::try_from(self.partitions.len()).unwrap_or(u32::MAX);
        match policy::check_change(&self.policies, &self.caps(), existing, policy_id, value) {
            Ok(change) => Ok(change.destructive),
            Err(PolicyError::FailsDependencies { destroys }) => Ok(destroys),
            Err(other) => Err(policy_error(other)),
        }
    }

    /// The description of HSM policy `policy_id` (as showPolicies prints it).
    pub fn policy_description(&self, policy_id: u8) -> Option<&'static str> {
        policy::row(policy_id)
            .and_then(|r| r.policy)
            .map(|p| p.name)
    }

    /// `hsm showPolicies`.
    pub fn show_policies(&self) -> Result<String, Error> {
        self.gate(Op::Status)?;
        Ok(policy::render_show_policies(
            &self.caps(),
            &self.policies,
            self.core.as_ref().map(|c| c.label.as_str()),
            Some(&self.serial.to_string()),
            FIRMWARE_VERSION,
        ))
    }

    /// `hsm showPolicies -exporttemplate`: the current values of an initialized module need
    /// the HSM SO; an uninitialized module exports its (default) values (PO-40).
    pub fn export_template(&self, id: AccessId) -> Result<String, Error> {
        self.gate(Op::Status)?;
        let serial = self.serial.to_string();
        let source = match &self.core {
            Some(core) => {
                self.require_so(id)?;
                Some((core.label.as_str(), serial.as_str()))
            }
            None => None,
        };
        Ok(policy::export_template(
            &self.policies,
            source,
            FIRMWARE_VERSION,
        ))
    }

    // ----- partitions -----

    fn max_partitions(&self) -> u32 {
        self.policies.get(33).min(self.caps.licensed_partitions)
    }

    /// HSM storage totals: partitions' allotments plus their overhead count as used.
    pub fn storage(&self) -> StorageInfo {
        let used: u64 = self
            .partitions
            .values()
            .map(|p| p.size + PARTITION_OVERHEAD)
            .sum();
        let total = self.caps.storage_bytes;
        StorageInfo {
            total,
            used,
            free: total.saturating_sub(used),
        }
    }

    /// The default partition size: an equal share of the total by licensed count, less the
    /// per-partition overhead, so that every licensed partition fits (PA-10).
    pub fn default_partition_size(&self) -> u64 {
        let share = self.caps.storage_bytes / u64::from(self.caps.licensed_partitions.max(1));
        share.saturating_sub(PARTITION_OVERHEAD)
    }

    /// `partition create`.
    pub fn partition_create(
        &mut self,
        id: AccessId,
        name: &str,
        size: PartitionSize,
        version: u8,
    ) -> Result<PartitionInfo, Error> {
        let r = self.partition_create_inner(id, name, size, version);
        let detail = match &r {
            Ok(info) => format!("container S/N {}", info.serial),
            Err(_) => String::new(),
        };
        self.audited_hsm(
            AuditCategory::Management,
            AuditOp::CreateContainer,
            Some(id),
            &detail,
            r,
        )
    }

    fn partition_create_inner(
        &mut self,
        id: AccessId,
        name: &str,
        size: PartitionSize,
        version: u8,
    ) -> Result<PartitionInfo, Error> {
        self.gate(Op::Admin)?;
        if self.core.is_none() {
            return Err(e::not_initialized());
        }
        self.require_so(id)?;
        rules::partition_name(name)?;
        if version > 1 {
            return Err(e::arguments_bad("the partition version must be 0 or 1"));
        }
        if self.partitions.values().any(|p| p.name == name) {
            return Err(e::partition_exists(name));
        }
        let count = u32::try_from(self.partitions.len()).unwrap_or(u32::MAX);
        if count >= self.caps.licensed_partitions {
            return Err(e::licence_exceeded(self.caps.licensed_partitions));
        }
        if count >= self.max_partitions() {
            return Err(e::too_many_partitions(self.max_partitions()));
        }
        let free = self.storage().free;
        let bytes = match size {
            PartitionSize::Default => self.default_partition_size(),
            PartitionSize::Bytes(0) => {
                return Err(e::arguments_bad(
                    "the partition size must be at least 1 byte",
                ));
            }
            PartitionSize::Bytes(n) => n,
            PartitionSize::AllFree => free.saturating_sub(PARTITION_OVERHEAD),
        };
        if bytes == 0
            || bytes
                .checked_add(PARTITION_OVERHEAD)
                .is_none_or(|need| need > free)
        {
            return Err(e::hsm_storage_full(format!(
                "the HSM has {free} bytes free; a partition of {bytes} bytes needs {} more for its overhead",
                PARTITION_OVERHEAD
            )));
        }
        let mut c = self.condition.clone();
        let index = c.next_partition.max(self.partition_floor);
        c.next_partition = index + 1;
        // Raise the floor beside the store first: a serial is never handed out twice.
        save_identity(&self.dir, self.serial, index + 1)?;
        self.partition_floor = index + 1;
        let serial = self.serial * 10_000_000 + index;
        let mut seal_key = [0u8; 32];
        random::fill(&mut seal_key)?;
        let record = PartitionRecord {
            serial,
            name: name.to_owned(),
            size: bytes,
            version,
            created_at: now(),
            used: 0,
            objects: 0,
            seal_key,
            label: None,
            domain: None,
            roles: std::collections::BTreeMap::new(),
            policies: crate::partition_policy::PartitionPolicies::defaults(&self.policies),
            initialized_at: None,
        };
        let (rec_b, cond_b) = (encode(&record)?, encode(&c)?);
        self.write(|txn| {
            txn.put(T_PARTITIONS, &partition_key(serial), &rec_b)?;
            txn.put(T_HSM, K_CONDITION, &cond_b)
        })?;
        self.condition = c;
        let info = info_of(&record);
        self.tokens
            .insert(serial, crate::token::Token::new(record.size));
        self.partitions.insert(serial, record);
        Ok(info)
    }

    fn find_partition(&self, name: &str) -> Result<u64, Error> {
        self.partitions
            .values()
            .find(|p| p.name == name)
            .map(|p| p.serial)
            .ok_or_else(|| e::partition_not_found(name))
    }

    /// `partition delete`: destroys the partition, its roles and objects (its key record).
    pub fn partition_delete(&mut self, id: AccessId, name: &str) -> Result<(), Error> {
        let serial = self.find_partition(name).ok();
        let r = self.partition_delete_inner(id, name);
        let detail = serial.map_or_else(String::new, |s| format!("container S/N {s}"));
        self.audited_hsm(
            AuditCategory::Management,
            AuditOp::DeleteContainer,
            Some(id),
            &detail,
            r,
        )
    }

    fn partition_delete_inner(&mut self, id: AccessId, name: &str) -> Result<(), Error> {
        self.gate(Op::Admin)?;
        self.require_so(id)?;
        let serial = self.find_partition(name)?;
        // Re-key without the partition: its key record, and so its objects, become
        // undecipherable at once instead of lingering in the database's free pages.
        let (key, table) = (partition_key(serial), partition_table(serial));
        self.rekey(|t, k| !((t == T_PARTITIONS && k == key) || t == table))?;
        self.partitions.remove(&serial);
        self.logout_partition(serial);
        self.sessions_close_where(|s| s.serial == serial);
        self.tokens.remove(&serial);
        Ok(())
    }

    /// `partition resize`: the new size must fit in the HSM's free storage plus the current
    /// allotment and hold the objects already stored (PA-13).
    pub fn partition_resize(
        &mut self,
        id: AccessId,
        name: &str,
        size: PartitionSize,
    ) -> Result<PartitionInfo, Error> {
        let r = self.partition_resize_inner(id, name, size);
        self.audited_hsm(
            AuditCategory::Management,
            AuditOp::SetContainerSize,
            Some(id),
            "",
            r,
        )
    }

    fn partition_resize_inner(
        &mut self,
        id: AccessId,
        name: &str,
        size: PartitionSize,
    ) -> Result<PartitionInfo, Error> {
        self.gate(Op::Admin)?;
        self.require_so(id)?;
        let serial = self.find_partition(name)?;
        let mut record = self
            .partitions
            .get(&serial)
            .cloned()
            .ok_or_else(|| e::partition_not_found(name))?;
        let available = self.storage().free + record.size;
        let bytes = match size {
            PartitionSize::Default => self.default_partition_size(),
            PartitionSize::Bytes(n) => n,
            PartitionSize::AllFree => available,
        };
        if bytes == 0 {
            return Err(e::arguments_bad(
                "the partition size must be at least 1 byte",
            ));
        }
        if bytes > available {
            return Err(e::hsm_storage_full(format!(
                "the HSM can give this partition at most {available} bytes"
            )));
        }
        if bytes < record.used {
            return Err(e::partition_memory(format!(
                "the partition's objects use {} bytes; it cannot shrink to {bytes}",
                record.used
            )));
        }
        record.size = bytes;
        let rec_b = encode(&record)?;
        self.write(|txn| txn.put(T_PARTITIONS, &partition_key(serial), &rec_b))?;
        let info = info_of(&record);
        if let Some(t) = self.tokens.get_mut(&serial) {
            t.objects.set_budget(bytes);
            t.session_objects.set_budget(bytes);
        }
        self.partitions.insert(serial, record);
        Ok(info)
    }

    /// `partition list`.
    pub fn partition_list(&self) -> Result<Vec<PartitionInfo>, Error> {
        self.gate(Op::Status)?;
        Ok(self.partitions.values().map(info_of).collect())
    }

    /// `partition show`.
    pub fn partition_show(&self, name: &str) -> Result<PartitionInfo, Error> {
        self.gate(Op::Status)?;
        let serial = self.find_partition(name)?;
        self.partitions
            .get(&serial)
            .map(info_of)
            .ok_or_else(|| e::partition_not_found(name))
    }

    // ----- show -----

    /// Everything `hsm show` prints.
    pub fn info(&self, id: AccessId) -> HsmInfo {
        let host_time = now();
        HsmInfo {
            label: self.core.as_ref().map(|c| c.label.clone()),
            serial: self.serial,
            firmware: FIRMWARE_VERSION,
            status: self.status(),
            so_logged_in: self.so_logged_in(id),
            so_attempts_left: SO_LOGIN_ATTEMPTS.saturating_sub(self.condition.so_failures),
            audit_role_initialized: self.auditor.is_some(),
            manually_zeroized: self.condition.manually_zeroized,
            secure_transport_mode: self.condition.stm.is_some(),
            tamper_detected: self.condition.tamper.is_some(),
            partitions: self
                .partitions
                .values()
                .map(|p| (p.serial, p.name.clone()))
                .collect(),
            partitions_allowed: self.max_partitions(),
            fips_approved: !self.policies.is_on(12),
            hsm_time: self.hsm_now(),
            host_time,
            storage: self.storage(),
        }
    }

    /// `hsm displayLicenses`.
    pub fn licenses(&self) -> Vec<License> {
        vec![
            License {
                id: "SR-7000-BASE".into(),
                description: "Strongroom module base".into(),
            },
            License {
                id: format!("SR-7001-{:03}", self.caps.licensed_partitions),
                description: format!("Maximum {} partitions", self.caps.licensed_partitions),
            },
        ]
    }
}

/// The `partitions` table key of a partition: big-endian, so that records sort by serial.
#[allow(clippy::big_endian_bytes)]
fn partition_key(serial: u64) -> [u8; 8] {
    serial.to_be_bytes()
}

fn is_partition_table(table: &str) -> bool {
    table == T_PARTITIONS || table.starts_with("partition.")
}

fn info_of(p: &PartitionRecord) -> PartitionInfo {
    PartitionInfo {
        serial: p.serial,
        name: p.name.clone(),
        version: p.version,
        objects: p.objects,
        total: p.size,
        used: p.used,
        free: p.size.saturating_sub(p.used),
        created_at: p.created_at,
    }
}

fn caps(config: &ModuleConfig) -> Capabilities {
    Capabilities {
        storage_bytes: config.total_storage,
        licensed_partitions: config.licensed_partitions,
    }
}

fn policy_error(err: PolicyError) -> Error {
    match err {
        PolicyError::IdInvalid => e::policy_id_invalid("no such policy"),
        PolicyError::ValueInvalid => {
            e::policy_value_invalid("the value is out of range for this policy")
        }
        PolicyError::ChangeIllegal => {
            e::policy_illegal("the HSM's capabilities do not allow this value")
        }
        PolicyError::FailsDependencies { .. } => {
            e::policy_dependencies("the change conflicts with another policy")
        }
        PolicyError::Template { line, reason } => {
            e::template_invalid(format!("policy template line {line}: {reason}"))
        }
    }
}

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn random_string() -> Result<String, Error> {
    let mut out = String::with_capacity(16);
    while out.len() < 16 {
        let mut bytes = [0u8; 32];
        random::fill(&mut bytes)?;
        random::alnum_from(&bytes, &mut out, 16);
    }
    Ok(group(&out))
}

/// `ABCDEFGHIJKLMNOP` -> `ABCD-EFGH-IJKL-MNOP`.
fn group(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// The module's identity beside the store, in `dir/module-serial`: the serial number (chosen at
/// first start; not secret; survives factory reset like a hardware serial) and the lowest
/// partition index never used.
fn load_or_create_identity(dir: &Path) -> Result<(u64, u64), Error> {
    let path = dir.join("module-serial");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let bad = || e::internal(format!("{} is damaged", path.display()));
            let mut lines = text.lines();
            let serial = lines
                .next()
                .and_then(|l| l.trim().parse().ok())
                .ok_or_else(bad)?;
            let floor = match lines.next() {
                Some(l) => l
                    .trim()
                    .strip_prefix("next-partition=")
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(bad)?,
                None => 1,
            };
            Ok((serial, floor))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let mut b = [0u8; 4];
            random::fill(&mut b)?;
            let serial = 100_000 + u64::from(u32::from_le_bytes(b)) % 900_000;
            save_identity(dir, serial, 1)?;
            Ok((serial, 1))
        }
        Err(err) => Err(e::internal(format!(
            "cannot read {}: {err}",
            path.display()
        ))),
    }
}

/// Writes the identity file atomically and durably (temporary file, fsync, rename, fsync dir).
fn save_identity(dir: &Path, serial: u64, next_partition: u64) -> Result<(), Error> {
    use std::io::Write as _;
    let path = dir.join("module-serial");
    let tmp = dir.join("module-serial.tmp");
    let fail = |err: std::io::Error| e::internal(format!("cannot write {}: {err}", path.display()));
    let mut file = std::fs::File::create(&tmp).map_err(fail)?;
    file.write_all(format!("{serial}\nnext-partition={next_partition}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(fail)?;
    std::fs::rename(&tmp, &path).map_err(fail)?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(fail)
}
