//! Partition roles (chapter 2 of the guide; catalog RA-20..RA-28, PA-20, PA-21, LC-26):
//! `partition init` by the Partition SO, then the Crypto Officer, Limited Crypto Officer and
//! Crypto User, with forced credential change (HSM policy 21), lockout after failed logins
//! (partition policy 20) and reset by the role above (HSM policy 15 for the Crypto Officer).
//!
//! A role's login belongs to one access (one application connection or shell session) and one
//! partition; an access holds at most one role per partition.

use serde::{Deserialize, Serialize};

use super::{AccessId, Module, Op, now};
use crate::credential::{Credential, Secret};
use crate::error::{Error, e};
use crate::partition_policy::{self, PartitionPolicies};
use crate::rules;
use crate::state::{PartitionRecord, partition_table};

/// Failed Partition SO logins that zeroize the partition (the vendor's default; the guide
/// gives no number, catalog GP-02).
pub const PARTITION_SO_ATTEMPTS: u32 = 10;

/// A role inside an application partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum PartitionRole {
    /// The Partition Security Officer (PKCS#11 `CKU_SO`): administers, never uses keys.
    So,
    /// The Crypto Officer (PKCS#11 `CKU_USER`): manages and uses keys.
    CryptoOfficer,
    /// The Limited Crypto Officer: a subset of the Crypto Officer's powers.
    LimitedCryptoOfficer,
    /// The Crypto User: uses existing keys, creates public objects only.
    CryptoUser,
}

impl PartitionRole {
    /// Every role.
    pub const ALL: [PartitionRole; 4] = [
        Self::So,
        Self::CryptoOfficer,
        Self::LimitedCryptoOfficer,
        Self::CryptoUser,
    ];

    /// The reference's role name (`role login -name Crypto Officer`).
    pub fn name(self) -> &'static str {
        match self {
            Self::So => "Partition SO",
            Self::CryptoOfficer => "Crypto Officer",
            Self::LimitedCryptoOfficer => "Limited Crypto Officer",
            Self::CryptoUser => "Crypto User",
        }
    }

    /// The reference's short name (`po`, `co`, `lco`, `cu`).
    pub fn short_name(self) -> &'static str {
        match self {
            Self::So => "po",
            Self::CryptoOfficer => "co",
            Self::LimitedCryptoOfficer => "lco",
            Self::CryptoUser => "cu",
        }
    }

    /// The role id written into audit records (RA-16).
    pub fn audit_id(self) -> u8 {
        match self {
            Self::So => 1,
            Self::CryptoOfficer => 0,
            Self::LimitedCryptoOfficer => 9,
            Self::CryptoUser => 5,
        }
    }

    /// Parses a long or short role name, case-insensitively (`Crypto Officer`, `co`).
    pub fn from_name(name: &str) -> Option<Self> {
        let n = name.trim();
        Self::ALL
            .into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(n) || r.short_name().eq_ignore_ascii_case(n))
    }

    /// The role allowed to create and reset this one.
    fn parent(self) -> Option<Self> {
        match self {
            Self::So => None,
            Self::CryptoOfficer | Self::LimitedCryptoOfficer => Some(Self::So),
            Self::CryptoUser => Some(Self::CryptoOfficer),
        }
    }
}

/// One initialized role of a partition.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct RoleRecord {
    pub(crate) credential: Credential,
    /// Set by init or reset under HSM policy 21: the credential must be changed before
    /// anything else (`CKR_PIN_EXPIRED`).
    pub(crate) must_change: bool,
    /// Consecutive failed logins.
    pub(crate) failures: u32,
    /// Locked out by failed logins; only a reset by the parent role unlocks it.
    pub(crate) locked: bool,
}

/// What `role list` reports about one role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleStatus {
    /// The role.
    pub role: PartitionRole,
    /// Whether it has a credential.
    pub initialized: bool,
    /// Whether it is locked out.
    pub locked: bool,
    /// Whether its credential must be changed before use.
    pub must_change: bool,
    /// Consecutive failed logins so far.
    pub failures: u32,
}

/// Parameters of `partition init`.
pub struct PartitionInitRequest {
    /// The partition label (PKCS#11 token label): 1-32 printable ASCII characters.
    pub label: String,
    /// The new Partition SO password.
    pub so_password: Secret,
    /// The partition's cloning domain.
    pub domain: Secret,
    /// On a partition that is already initialized: the current Partition SO password.
    pub current_so_password: Option<Secret>,
}

/// Checks a partition label: 1-32 printable ASCII characters, not starting with a space.
fn partition_label(label: &str) -> Result<(), Error> {
    let len = label.chars().count();
    if !(1..=32).contains(&len)
        || label.starts_with(' ')
        || label.chars().any(|c| !(' '..='~').contains(&c))
    {
        return Err(e::invalid_label(
            "partition labels are 1-32 printable ASCII characters, not starting with a space",
        ));
    }
    Ok(())
}

impl Module {
    pub(super) fn partition(&self, serial: u64) -> Result<&PartitionRecord, Error> {
        self.partitions
            .get(&serial)
            .ok_or_else(|| e::partition_serial_unknown(serial))
    }

    /// The role `id` has logged in on partition `serial`, if any.
    pub fn partition_login(&self, id: AccessId, serial: u64) -> Option<PartitionRole> {
        self.accesses
            .get(&id)
            .and_then(|a| a.partitions.get(&serial).copied())
    }

    /// Requires `id` to be logged in on `serial` as one of `roles`, with a current credential.
    pub(crate) fn require_role(
        &self,
        id: AccessId,
        serial: u64,
        roles: &[PartitionRole],
    ) -> Result<PartitionRole, Error> {
        self.gate(Op::Partition)?;
        let record = self.partition(serial)?;
        let role = self
            .partition_login(id, serial)
            .ok_or_else(e::role_not_logged_in)?;
        if !roles.contains(&role) {
            return Err(e::role_not_allowed(role.name()));
        }
        if record.roles.get(&role).is_some_and(|r| r.must_change) {
            return Err(e::pin_expired());
        }
        Ok(role)
    }

    /// Persists a changed partition record.
    fn save_partition(&mut self, record: PartitionRecord) -> Result<(), Error> {
        let bytes = crate::state::encode(&record)?;
        let key = super::partition_key(record.serial);
        self.write(|txn| txn.put(crate::state::T_PARTITIONS, &key, &bytes))?;
        self.partitions.insert(record.serial, record);
        Ok(())
    }

    /// Whether partition `serial` has been initialized (has a Partition SO).
    pub fn partition_initialized(&self, serial: u64) -> Result<bool, Error> {
        Ok(self
            .partition(serial)?
            .roles
            .contains_key(&PartitionRole::So))
    }

    /// The partition's label, once initialized.
    pub fn partition_label(&self, serial: u64) -> Result<Option<String>, Error> {
        Ok(self.partition(serial)?.label.clone())
    }

    /// `partition init` (PA-20, LC-26): on a new partition it sets the label, the Partition SO
    /// and the cloning domain; on an initialized one it needs the current Partition SO
    /// password and destroys every role and object first (by re-keying the store without
    /// them). Who may reach the partition at all (client assignment) is the host's check.
    pub(super) fn partition_init_inner(
        &mut self,
        id: AccessId,
        serial: u64,
        req: PartitionInitRequest,
    ) -> Result<(), Error> {
        self.gate(Op::Partition)?;
        partition_label(&req.label)?;
        let mut record = self.partition(serial)?.clone();
        self.check_partition_pin(&record, req.so_password.expose())?;
        rules::domain(req.domain.expose())?;
        if let Some(so) = record.roles.get(&PartitionRole::So) {
            let current = req.current_so_password.as_ref().ok_or_else(|| {
                e::role_pin_required("the current Partition SO password is required")
            })?;
            if !so.credential.verify(current) {
                return self.role_failure(serial, PartitionRole::So);
            }
            // Destroy objects and roles: the object table is dropped and the store re-keyed.
            let table = partition_table(serial);
            self.rekey(|t, _| t != table)?;
            let mut key = [0u8; 32];
            crate::random::fill(&mut key)?;
            record.seal_key = key;
            record.used = 0;
            record.objects = 0;
        }
        let kdf = self.config.kdf;
        record.roles.clear();
        record.roles.insert(
            PartitionRole::So,
            RoleRecord {
                credential: Credential::create(&req.so_password, kdf)?,
                must_change: false,
                failures: 0,
                locked: false,
            },
        );
        record.label = Some(req.label);
        record.domain = Some(Credential::create(&req.domain, kdf)?);
        record.policies = PartitionPolicies::defaults(&self.policies);
        record.initialized_at = Some(now());
        self.save_partition(record)?;
        self.logout_partition(serial);
        // A (re)initialized token has no objects and no sessions.
        self.token_reset(serial, true);
        let _ = id;
        Ok(())
    }

    /// Logs every access out of partition `serial`.
    pub(crate) fn logout_partition(&mut self, serial: u64) {
        for a in self.accesses.values_mut() {
            a.partitions.remove(&serial);
        }
    }

    /// `role login` / `C_Login`. A wrong password counts toward the role's limit: the Crypto
    /// Officer, Limited Crypto Officer and Crypto User lock at partition policy 20 failures;
    /// the Partition SO's tenth failure zeroizes the partition. A role whose credential must
    /// be changed logs in, but can then only change it.
    pub(super) fn role_login_inner(
        &mut self,
        id: AccessId,
        serial: u64,
        role: PartitionRole,
        password: &Secret,
    ) -> Result<(), Error> {
        self.gate(Op::Session)?;
        let access = self
            .accesses
            .get(&id)
            .ok_or_else(|| e::arguments_bad("unknown access"))?;
        if let Some(current) = access.partitions.get(&serial) {
            return Err(if *current == role {
                e::role_already_logged_in()
            } else {
                e::other_role_logged_in(current.name())
            });
        }
        // PKCS#11 C_Login: the SO may not log in while the application has a read-only
        // session on the token.
        if role == PartitionRole::So
            && self
                .sessions
                .values()
                .any(|s| s.access == id && s.serial == serial && !s.rw)
        {
            return Err(e::session_read_only_exists());
        }
        let record = self.partition(serial)?;
        let Some(r) = record.roles.get(&role) else {
            return Err(e::role_not_initialized(role.name()));
        };
        if r.locked {
            return Err(e::role_locked(role.name()));
        }
        if !r.credential.verify(password) {
            return self.role_failure(serial, role);
        }
        if r.failures != 0 {
            let mut record = record.clone();
            if let Some(r) = record.roles.get_mut(&role) {
                r.failures = 0;
            }
            self.save_partition(record)?;
        }
        if let Some(a) = self.accesses.get_mut(&id) {
            a.partitions.insert(serial, role);
        }
        Ok(())
    }

    /// Counts a failed login of `role` and answers with the right error.
    fn role_failure<T>(&mut self, serial: u64, role: PartitionRole) -> Result<T, Error> {
        let mut record = self.partition(serial)?.clone();
        let limit = match role {
            PartitionRole::So => PARTITION_SO_ATTEMPTS,
            _ => record
                .policies
                .get(partition_policy::MAX_FAILED_LOGINS)
                .max(1),
        };
        let Some(r) = record.roles.get_mut(&role) else {
            return Err(e::role_not_initialized(role.name()));
        };
        r.failures = r.failures.saturating_add(1);
        if r.failures < limit {
            self.save_partition(record)?;
            return Err(e::pin_incorrect());
        }
        if role == PartitionRole::So {
            // The partition is zeroized: roles, domain, label and objects are destroyed.
            let table = partition_table(serial);
            self.rekey(|t, _| t != table)?;
            let mut key = [0u8; 32];
            crate::random::fill(&mut key)?;
            record.seal_key = key;
            record.roles.clear();
            record.label = None;
            record.domain = None;
            record.used = 0;
            record.objects = 0;
            record.initialized_at = None;
            self.save_partition(record)?;
            self.logout_partition(serial);
            self.token_reset(serial, true);
            return Err(e::pin_incorrect_partition_zeroized());
        }
        r.locked = true;
        self.save_partition(record)?;
        Err(e::pin_incorrect_role_locked(role.name()))
    }

    /// `role logout` / `C_Logout`.
    /// PKCS#11 C_Logout: the access's private session objects on the partition are
    /// destroyed and its sessions' active operations end.
    pub(super) fn role_logout_inner(&mut self, id: AccessId, serial: u64) -> Result<(), Error> {
        match self
            .accesses
            .get_mut(&id)
            .and_then(|a| a.partitions.remove(&serial))
        {
            Some(_) => {
                self.after_logout(id, serial);
                Ok(())
            }
            None => Err(e::role_not_logged_in()),
        }
    }

    /// `role init` / `C_InitPIN`: the Partition SO creates the Crypto Officer and the Limited
    /// Crypto Officer; the Crypto Officer creates the Crypto User. Initializing a role that
    /// exists is a reset (see [`Module::role_reset`]). Under HSM policy 21 the new credential
    /// must be changed at first use.
    pub(super) fn role_init_inner(
        &mut self,
        id: AccessId,
        serial: u64,
        role: PartitionRole,
        password: &Secret,
    ) -> Result<(), Error> {
        let parent = role.parent().ok_or_else(|| {
            e::role_not_allowed("the Partition SO is created by 'partition init'")
        })?;
        self.require_role(id, serial, &[parent])?;
        let mut record = self.partition(serial)?.clone();
        if record.roles.contains_key(&role) {
            return self.role_reset_inner(id, serial, role, password);
        }
        self.check_partition_pin(&record, password.expose())?;
        record.roles.insert(
            role,
            RoleRecord {
                credential: Credential::create(password, self.config.kdf)?,
                must_change: self.policies.is_on(21),
                failures: 0,
                locked: false,
            },
        );
        self.save_partition(record)
    }

    /// `role resetpw`: the parent role sets a new credential, unlocking the role. The
    /// Partition SO may reset the Crypto Officer (and Limited Crypto Officer) only when HSM
    /// policy 15 is on (RA-26); the Crypto Officer may always reset the Crypto User.
    pub(super) fn role_reset_inner(
        &mut self,
        id: AccessId,
        serial: u64,
        role: PartitionRole,
        password: &Secret,
    ) -> Result<(), Error> {
        let parent = role.parent().ok_or_else(|| {
            e::role_not_allowed("the Partition SO cannot be reset; re-initialize the partition")
        })?;
        self.require_role(id, serial, &[parent])?;
        if parent == PartitionRole::So && !self.policies.is_on(15) {
            return Err(e::restricted(
                "HSM policy 15 (SO can reset partition PIN) is off: the Crypto Officer cannot be reset",
            ));
        }
        let mut record = self.partition(serial)?.clone();
        self.check_partition_pin(&record, password.expose())?;
        let must_change = self.policies.is_on(21);
        let credential = Credential::create(password, self.config.kdf)?;
        let Some(r) = record.roles.get_mut(&role) else {
            return Err(e::role_not_initialized(role.name()));
        };
        *r = RoleRecord {
            credential,
            must_change,
            failures: 0,
            locked: false,
        };
        self.save_partition(record)?;
        // Whoever was logged in with the old credential is logged out.
        let mut out = Vec::new();
        for (aid, a) in &mut self.accesses {
            if a.partitions.get(&serial) == Some(&role) {
                a.partitions.remove(&serial);
                out.push(*aid);
            }
        }
        for aid in out {
            self.after_logout(aid, serial);
        }
        Ok(())
    }

    /// `role changepw` / `C_SetPIN`: the logged-in role replaces its own credential (the one
    /// thing allowed while it must change it). A wrong old password counts as a failed login.
    pub(super) fn role_change_password_inner(
        &mut self,
        id: AccessId,
        serial: u64,
        old: &Secret,
        new: &Secret,
    ) -> Result<(), Error> {
        self.gate(Op::Partition)?;
        let role = self
            .partition_login(id, serial)
            .ok_or_else(e::role_not_logged_in)?;
        let mut record = self.partition(serial)?.clone();
        self.check_partition_pin(&record, new.expose())?;
        let Some(r) = record.roles.get(&role) else {
            return Err(e::role_not_initialized(role.name()));
        };
        if !r.credential.verify(old) {
            self.logout_partition_access(id, serial);
            return self.role_failure(serial, role);
        }
        let credential = Credential::create(new, self.config.kdf)?;
        if let Some(r) = record.roles.get_mut(&role) {
            *r = RoleRecord {
                credential,
                must_change: false,
                failures: 0,
                locked: false,
            };
        }
        self.save_partition(record)
    }

    pub(super) fn logout_partition_access(&mut self, id: AccessId, serial: u64) {
        if let Some(a) = self.accesses.get_mut(&id)
            && a.partitions.remove(&serial).is_some()
        {
            self.after_logout(id, serial);
        }
    }

    /// `role list`: every role of the partition and its state.
    pub fn role_list(&self, serial: u64) -> Result<Vec<RoleStatus>, Error> {
        self.gate(Op::Status)?;
        let record = self.partition(serial)?;
        Ok(PartitionRole::ALL
            .into_iter()
            .map(|role| match record.roles.get(&role) {
                Some(r) => RoleStatus {
                    role,
                    initialized: true,
                    locked: r.locked,
                    must_change: r.must_change,
                    failures: r.failures,
                },
                None => RoleStatus {
                    role,
                    initialized: false,
                    locked: false,
                    must_change: false,
                    failures: 0,
                },
            })
            .collect())
    }

    /// Password rules plus the partition's PIN length policies (25 and 26).
    fn check_partition_pin(&self, record: &PartitionRecord, pin: &str) -> Result<(), Error> {
        rules::password(pin)?;
        let len = u32::try_from(pin.chars().count()).unwrap_or(u32::MAX);
        let (min, max) = record.policies.pin_length_bounds();
        if len < min || len > max {
            return Err(e::pin_len_range(format!(
                "this partition's policies require passwords of {min}-{max} characters"
            )));
        }
        Ok(())
    }

    /// `partition showpolicies`: the partition's capabilities and policies as text.
    pub fn partition_show_policies(&self, serial: u64) -> Result<String, Error> {
        self.gate(Op::Status)?;
        let record = self.partition(serial)?;
        Ok(partition_policy::render(
            &record.policies,
            &self.policies,
            record.label.as_deref(),
            serial,
        ))
    }

    /// The partition's policy values.
    pub fn partition_policies(&self, serial: u64) -> Result<PartitionPolicies, Error> {
        Ok(self.partition(serial)?.policies.clone())
    }

    /// `partition changepolicy` by the Partition SO. A destructive change (one that relaxes
    /// how keys may leave the partition) destroys the partition's objects first.
    pub(super) fn partition_change_policy_inner(
        &mut self,
        id: AccessId,
        serial: u64,
        policy_id: u8,
        value: u32,
    ) -> Result<partition_policy::PartitionPolicyChange, Error> {
        self.require_role(id, serial, &[PartitionRole::So])?;
        let mut record = self.partition(serial)?.clone();
        let change =
            partition_policy::check_change(&record.policies, &self.policies, policy_id, value)?;
        if change.destroys_objects {
            let table = partition_table(serial);
            self.rekey(|t, _| t != table)?;
            let mut key = [0u8; 32];
            crate::random::fill(&mut key)?;
            record.seal_key = key;
            record.used = 0;
            record.objects = 0;
        }
        record.policies.set(policy_id, value);
        self.save_partition(record)?;
        if change.destroys_objects {
            // Sessions stay open; their objects and operations are gone.
            self.token_reset(serial, false);
        }
        Ok(change)
    }
}

#[cfg(test)]
mod tests;
