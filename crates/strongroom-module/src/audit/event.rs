//! Event categories (AU-10), the filter `audit config -parameter event` sets, and the
//! operations a record names (AU-13).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A category of audited events. The numbers are the category field of a record's raw data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum AuditCategory {
    /// Recorded whatever the configuration: tamper, decommission, zeroization, HSM SO
    /// creation, Auditor creation (AU-12).
    Unconditional,
    /// Logins, logouts, sessions (`access`).
    Access,
    /// Messages from applications (`external`, the reference's `CA_LogExternal`).
    External,
    /// HSM and partition management (`manage`).
    Management,
    /// Key creation, destruction, wrapping, derivation, random numbers (`keymanage`).
    KeyManagement,
    /// Every use of an asymmetric key (`asymmetric`).
    AsymmetricUsage,
    /// The first use of each asymmetric key (`first`).
    AsymmetricFirstUsage,
    /// Every use of a symmetric key (`symmetric`).
    SymmetricUsage,
    /// The first use of each symmetric key (`symfirst`).
    SymmetricFirstUsage,
    /// Audit log configuration, time, verification, secret export and import (`logmanage`).
    LogManagement,
}

impl AuditCategory {
    /// The configurable categories, in the order `audit show` lists them.
    pub const CONFIGURABLE: [AuditCategory; 9] = [
        Self::Access,
        Self::Management,
        Self::KeyManagement,
        Self::AsymmetricUsage,
        Self::AsymmetricFirstUsage,
        Self::SymmetricUsage,
        Self::SymmetricFirstUsage,
        Self::External,
        Self::LogManagement,
    ];

    /// The raw-data category number.
    pub fn number(self) -> u16 {
        match self {
            Self::Unconditional => 0,
            Self::Access => 1,
            Self::External => 2,
            Self::Management => 3,
            Self::KeyManagement => 4,
            Self::AsymmetricUsage => 5,
            Self::AsymmetricFirstUsage => 6,
            Self::SymmetricUsage => 7,
            Self::SymmetricFirstUsage => 8,
            Self::LogManagement => 9,
        }
    }

    /// The `audit config` value naming the category.
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Unconditional => "critical",
            Self::Access => "access",
            Self::External => "external",
            Self::Management => "manage",
            Self::KeyManagement => "keymanage",
            Self::AsymmetricUsage => "asymmetric",
            Self::AsymmetricFirstUsage => "first",
            Self::SymmetricUsage => "symmetric",
            Self::SymmetricFirstUsage => "symfirst",
            Self::LogManagement => "logmanage",
        }
    }

    /// What the category records, for `audit config -value ?` and `audit show`.
    pub fn description(self) -> &'static str {
        match self {
            Self::Unconditional => "Critical events (always logged)",
            Self::Access => "Access attempts (logins, sessions)",
            Self::External => "Messages from applications (log external)",
            Self::Management => "HSM management (init, zeroize, partitions, policies)",
            Self::KeyManagement => "Key management (create, destroy, generate, wrap)",
            Self::AsymmetricUsage => "Asymmetric key usage (sign, verify, encrypt, decrypt)",
            Self::AsymmetricFirstUsage => "First asymmetric key usage only",
            Self::SymmetricUsage => "Symmetric key usage (encrypt, decrypt, MAC)",
            Self::SymmetricFirstUsage => "First symmetric key usage only",
            Self::LogManagement => "Audit log management (config, time, secret, verify)",
        }
    }

    fn from_keyword(word: &str) -> Option<Self> {
        Self::CONFIGURABLE
            .into_iter()
            .find(|c| c.keyword().eq_ignore_ascii_case(word))
    }
}

/// The filter bits of one category: bit `2n` logs successes, bit `2n + 1` failures.
pub(crate) const fn category_bits(number: u16) -> u32 {
    0b11 << (2 * number)
}

/// Which events are recorded: per category, successes, failures or both. The unconditional
/// events are recorded whatever the filter says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFilter(u32);

impl EventFilter {
    /// Nothing but the unconditional events.
    pub const NONE: EventFilter = EventFilter(0);

    /// The filter of a raw mask.
    pub(crate) const fn from_mask(mask: u32) -> Self {
        Self(mask)
    }

    /// The raw mask (success bit `2n`, failure bit `2n + 1` for category number `n`).
    pub fn mask(self) -> u32 {
        self.0
    }

    /// Whether `category` is recorded for a success (`ok`) or a failure.
    pub fn wants(self, category: AuditCategory, ok: bool) -> bool {
        let shift = 2 * category.number() + u16::from(!ok);
        category == AuditCategory::Unconditional || self.0 & (1 << shift) != 0
    }

    /// Parses an `audit config -parameter event -value` list: category keywords (`access`,
    /// `manage`, `keymanage`, `asymmetric`, `first`, `symmetric`, `symfirst`, `external`,
    /// `logmanage`, `all`, `none`) and at most one qualifier (`success`, `failure`, `both`)
    /// that applies to every category of the list (`both` when none is given). The list
    /// replaces the whole filter.
    pub fn parse(value: &str) -> Result<Self, String> {
        let mut cats: Vec<AuditCategory> = Vec::new();
        let mut qualifier: Option<(bool, bool)> = None;
        let mut none = false;
        for word in value
            .split([',', ' '])
            .map(str::trim)
            .filter(|w| !w.is_empty())
        {
            let q = match word.to_ascii_lowercase().as_str() {
                "success" => Some((true, false)),
                "failure" => Some((false, true)),
                "both" => Some((true, true)),
                "all" => {
                    cats.extend(AuditCategory::CONFIGURABLE);
                    None
                }
                "none" => {
                    none = true;
                    None
                }
                _ => match AuditCategory::from_keyword(word) {
                    Some(c) => {
                        cats.push(c);
                        None
                    }
                    None => return Err(format!("'{word}' is not an event category")),
                },
            };
            if let Some(q) = q {
                if qualifier.is_some() {
                    return Err("give at most one of success, failure, both".into());
                }
                qualifier = Some(q);
            }
        }
        if none {
            if !cats.is_empty() || qualifier.is_some() {
                return Err("'none' cannot be combined with other values".into());
            }
            return Ok(Self::NONE);
        }
        if cats.is_empty() {
            return Err("name at least one event category (or 'all' or 'none')".into());
        }
        let (ok, fail) = qualifier.unwrap_or((true, true));
        let mut mask = 0u32;
        for c in cats {
            let n = c.number();
            if ok {
                mask |= 1 << (2 * n);
            }
            if fail {
                mask |= 1 << (2 * n + 1);
            }
        }
        Ok(Self(mask))
    }
}

impl fmt::Display for EventFilter {
    /// `access,keymanage(failure)`; `none` for an empty filter.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        for c in AuditCategory::CONFIGURABLE {
            match (self.wants(c, true), self.wants(c, false)) {
                (true, true) => parts.push(c.keyword().to_owned()),
                (true, false) => parts.push(format!("{}(success)", c.keyword())),
                (false, true) => parts.push(format!("{}(failure)", c.keyword())),
                (false, false) => {}
            }
        }
        if parts.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&parts.join(","))
        }
    }
}

macro_rules! ops {
    ($( $(#[$doc:meta])* $v:ident = $n:literal, $name:literal; )*) => {
        /// An audited operation: the raw-data operation number and the name the message text
        /// shows (the reference's `LUNA_*` event names with Strongroom's `SR_` prefix).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum AuditOp { $( $(#[$doc])* $v, )* }

        impl AuditOp {
            /// Every operation.
            pub const ALL: &'static [AuditOp] = &[ $( Self::$v, )* ];
            /// The raw-data operation number.
            pub fn number(self) -> u16 { match self { $( Self::$v => $n, )* } }
            /// The name in the message text.
            pub fn name(self) -> &'static str { match self { $( Self::$v => $name, )* } }
            /// The operation of a raw-data number.
            pub fn from_number(n: u16) -> Option<Self> {
                match n { $( $n => Some(Self::$v), )* _ => None }
            }
        }
    };
}

ops! {
    /// `C_Login`, `hsm login`, `audit login`.
    Login = 1, "SR_LOGIN";
    /// `C_Logout`.
    Logout = 2, "SR_LOGOUT";
    /// `C_OpenSession`.
    OpenSession = 3, "SR_OPEN_SESSION";
    /// `C_CloseSession`.
    CloseSession = 4, "SR_CLOSE_SESSION";
    /// `C_CloseAllSessions`.
    CloseAllSessions = 5, "SR_CLOSE_ALL_SESSIONS";
    /// `C_SetAttributeValue`.
    ModifyObject = 6, "SR_MODIFY_OBJECT";
    /// `CA_LogExternal`.
    LogExternal = 20, "SR_LOG_EXTERNAL";
    /// Factory reset and zeroization.
    Zeroize = 30, "SR_ZEROIZE";
    /// `hsm init` (the HSM SO is created).
    InitToken = 31, "SR_INIT_TOKEN";
    /// A role changes its own credential.
    SetPin = 32, "SR_SET_PIN";
    /// A role is created or reset by the role above.
    InitPin = 33, "SR_INIT_PIN";
    /// `partition create`.
    CreateContainer = 34, "SR_CREATE_CONTAINER";
    /// `partition delete`.
    DeleteContainer = 35, "SR_DELETE_CONTAINER";
    /// `C_SeedRandom`.
    SeedRandom = 36, "SR_SEED_RANDOM";
    /// `hsm changePolicy`.
    SetHsmPolicy = 37, "SR_SET_HSM_POLICY";
    /// `hsm changePolicy` of a destructive policy.
    SetDestructiveHsmPolicy = 38, "SR_SET_DESTRUCTIVE_HSM_POLICY";
    /// `partition changePolicy`.
    SetContainerPolicy = 39, "SR_SET_CONTAINER_POLICY";
    /// `partition resize`.
    SetContainerSize = 40, "SR_SET_CONTAINER_SIZE";
    /// `partition init` / `C_InitToken` on a partition.
    PartitionInit = 41, "SR_PARTITION_INIT";
    /// A tamper event.
    Tamper = 42, "SR_TAMPER";
    /// The decommission button.
    Decommission = 43, "SR_DECOMMISSION";
    /// `hsm restart`.
    Restart = 44, "SR_RESTART";
    /// `C_CreateObject`.
    CreateObject = 50, "SR_CREATE_OBJECT";
    /// `C_CopyObject`.
    CopyObject = 51, "SR_COPY_OBJECT";
    /// `C_DestroyObject`.
    DestroyObject = 52, "SR_DESTROY_OBJECT";
    /// `C_GenerateKey`.
    GenerateKey = 53, "SR_GENERATE_KEY";
    /// `C_GenerateKeyPair`.
    GenerateKeyPair = 54, "SR_GENERATE_KEY_PAIR";
    /// `C_WrapKey`.
    WrapKey = 55, "SR_WRAP_KEY";
    /// `C_UnwrapKey`.
    UnwrapKey = 56, "SR_UNWRAP_KEY";
    /// `C_DeriveKey`.
    DeriveKey = 57, "SR_DERIVE_KEY";
    /// `C_GenerateRandom`.
    GetRandom = 58, "SR_GET_RANDOM";
    /// A domain key is made (HSM, partition or Auditor domain).
    GenKcv = 59, "SR_GEN_KCV";
    /// `C_EncryptInit`.
    EncryptInit = 70, "SR_ENCRYPT_INIT";
    /// `C_DecryptInit`.
    DecryptInit = 71, "SR_DECRYPT_INIT";
    /// `C_SignInit`.
    SignInit = 72, "SR_SIGN_INIT";
    /// `C_VerifyInit`.
    VerifyInit = 73, "SR_VERIFY_INIT";
    /// `audit sync`, `hsm time sync`.
    LogSetTime = 90, "SR_LOG_SET_TIME";
    /// `hsm time get`.
    LogGetTime = 91, "SR_LOG_GET_TIME";
    /// `audit config`.
    LogSetConfig = 92, "SR_LOG_SET_CONFIG";
    /// `audit show`.
    LogGetConfig = 93, "SR_LOG_GET_CONFIG";
    /// `audit log verify`.
    LogVerify = 94, "SR_LOG_VERIFY";
    /// `audit init` (the Auditor is created).
    CreateAuditContainer = 95, "SR_CREATE_AUDIT_CONTAINER";
    /// `audit secret import`.
    LogImportSecret = 96, "SR_LOG_IMPORT_SECRET";
    /// `audit secret export`.
    LogExportSecret = 97, "SR_LOG_EXPORT_SECRET";
}

/// One event to record.
pub(crate) struct Event {
    pub(crate) category: AuditCategory,
    pub(crate) op: AuditOp,
    /// The return code the operation ended with.
    pub(crate) rc: u32,
    /// The caller's access (`None`: a hardware event).
    pub(crate) access: Option<u64>,
    /// The serial number the text names: the module's, or the partition's.
    pub(crate) serial: u64,
    /// The PKCS#11 session, when the event came through one (0: none).
    pub(crate) session: u32,
    /// The raw data's 16 data bytes: partition serial (u64 LE), role id (u32 LE), object or
    /// key handle (u32 LE).
    pub(crate) data: [u8; 16],
    /// Text after the return code (`roleID=8`, the tamper kind), or the external message.
    pub(crate) detail: String,
}

impl Event {
    pub(crate) fn new(category: AuditCategory, op: AuditOp, rc: u32) -> Self {
        Self {
            category,
            op,
            rc,
            access: None,
            serial: 0,
            session: 0,
            data: [0; 16],
            detail: String::new(),
        }
    }

    /// Fills the data bytes: partition serial, role id and handle.
    pub(crate) fn set_data(&mut self, partition: u64, role: Option<u8>, handle: u64) {
        self.data[..8].copy_from_slice(&partition.to_le_bytes());
        let role = role.map_or(u32::MAX, u32::from);
        self.data[8..12].copy_from_slice(&role.to_le_bytes());
        let h = u32::try_from(handle).unwrap_or(u32::MAX);
        self.data[12..].copy_from_slice(&h.to_le_bytes());
    }
}
