//! The audit log inside the module (chapter 3 of the guide; catalog AU-01..AU-52): the
//! Auditor role, recording events into the module's record space with the HMAC chain, the
//! configuration, time, secret export and import, verification, and LOG FULL.
//!
//! Records are written to the store (table `audit`, with the chain head in `hsm/audit_chain`)
//! in one durable transaction before the operation they describe answers. The host moves
//! them out to the appliance's audit files ([`Module::audit_pending`], then
//! [`Module::audit_release`]) once an Auditor exists and has configured logging.
//!
//! Cost when a category is not configured: one test of a mask held in the module
//! ([`Module::audited`] is inlined; the recording path is out of line).

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{AccessId, Module, Op, now};
use crate::audit::{
    AuditCategory, AuditOp, Event, EventFilter, Tail, UnwrapError, VerifyReport, category_bits,
    format_line, unwrap_secret, verify_log, wrap_secret,
};
use crate::credential::{Credential, Secret};
use crate::error::{Error, e};
use crate::object::ObjectHandle;
use crate::random;
use crate::rules;
use crate::state::{
    AuditChain, AuditConfig, AuditorRole, K_AUDIT_CHAIN, K_AUDIT_CONFIG, K_AUDITOR, T_AUDIT, T_HSM,
    decode, encode,
};
use crate::token::SessionHandle;

/// Consecutive failed Auditor logins that lock the Auditor out (RA-14).
pub const AUDITOR_LOGIN_ATTEMPTS: u8 = 3;
/// Seconds the Auditor stays locked out after [`AUDITOR_LOGIN_ATTEMPTS`] failures (CF-02).
pub const AUDITOR_LOCKOUT_SECS: i64 = 30;
/// Largest rotation size of a log file (AU-31).
pub const MAX_ROTATION_BYTES: u64 = 50 * 1024 * 1024;
/// The module's record space by default: 16 MiB of records (AU-30).
pub const DEFAULT_AUDIT_CAPACITY: u64 = 16 * 1024 * 1024 / crate::audit::LINE_LEN as u64;
/// The role id of the Auditor in records (the reference's administrative role ids).
const AUDITOR_ROLE_ID: u8 = 8;
/// The role id of the HSM SO in records.
const SO_ROLE_ID: u8 = 1;
/// PBKDF2 iterations deriving the audit domain key from the domain string: fixed, so that
/// every module derives the same key from the same domain.
const DOMAIN_KEY_ITERATIONS: u32 = 100_000;
const DOMAIN_KEY_SALT: &[u8] = b"strongroom audit domain key v1";

/// A change made by `audit config`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditConfigChange {
    /// `-parameter event`: the categories recorded.
    Event(EventFilter),
    /// `-parameter rotation`: rotate the log file every this many seconds (0: never).
    RotationInterval(u64),
    /// `-parameter rotationsize`: rotate the log file at this many bytes (at most 50 MB).
    RotationSize(u64),
}

/// What `audit show` reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditInfo {
    /// Whether the Auditor has configured logging (records then move to the appliance).
    pub configured: bool,
    /// The categories recorded.
    pub filter: EventFilter,
    /// Rotation interval in seconds (0: none).
    pub rotation_secs: u64,
    /// Rotation size in bytes.
    pub rotation_bytes: u64,
    /// HSM clock (Unix seconds).
    pub hsm_time: i64,
    /// Host clock (Unix seconds).
    pub host_time: i64,
    /// Whether the HSM clock was synchronized with the host.
    pub time_synced: bool,
    /// Records held in the module, not yet moved to the appliance.
    pub records_held: u64,
    /// The module's record space, in records.
    pub capacity: u64,
    /// Sequence number of the next record.
    pub next_seq: u32,
    /// The serial number of the module whose imported secret verification uses, if any.
    pub foreign_secret: Option<u64>,
}

/// Where the host moves records to, and when it starts a new file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RotationSettings {
    /// Start a new file after this many seconds (0: never by time).
    pub interval_secs: u64,
    /// Start a new file before it would exceed this many bytes.
    pub max_bytes: u64,
}

/// The audit log's volatile state.
pub(crate) struct AuditState {
    /// The filter mask the hot paths test (a copy of the configuration's, 0 without one).
    pub(super) filter: u32,
    /// The record space is full: everything but the permitted operations stops (AU-32).
    full: AtomicBool,
    inner: Mutex<Inner>,
    /// Signalled when a write of staged records ends (group commit).
    settled: std::sync::Condvar,
}

/// The audit log's state. `chain` and `pending` are what the store holds; records made by
/// concurrent callers wait in `staged`, chained on `head`, until one of those callers writes
/// them all in one durable transaction (group commit). Every caller returns only once its own
/// record is written (or has failed), so `staged` is empty whenever no record is being made:
/// the methods that take the module exclusively (`&mut self`) always find it empty.
#[derive(Default)]
struct Inner {
    chain: Option<AuditChain>,
    /// The records still in the module, oldest first.
    pending: VecDeque<(u32, Vec<u8>)>,
    /// Keys already used once since the module started (first-use categories): partition
    /// serial and `CKA_UNIQUE_ID`.
    first_use: HashSet<(u64, Vec<u8>)>,
    /// Records made but not yet written: ticket, sequence number, line.
    staged: Vec<(u64, u32, Vec<u8>)>,
    /// The chain after the staged records (`None` when nothing is staged).
    head: Option<AuditChain>,
    /// The ticket of the next record made.
    next_ticket: u64,
    /// Every ticket up to this one is written or has failed.
    settled: u64,
    /// A caller is writing staged records now.
    writing: bool,
    /// Tickets whose write failed (inclusive ranges; rare).
    failed: Vec<(u64, u64)>,
}

impl AuditState {
    pub(crate) fn new() -> Self {
        Self {
            filter: 0,
            full: AtomicBool::new(false),
            inner: Mutex::new(Inner {
                next_ticket: 1,
                ..Inner::default()
            }),
            settled: std::sync::Condvar::new(),
        }
    }

    pub(super) fn is_full(&self) -> bool {
        self.full.load(Ordering::Relaxed)
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, Error> {
        self.inner
            .lock()
            .map_err(|_| e::internal("the audit log lock is poisoned"))
    }
}

/// The chain record and the records held, carried over a factory reset.
pub(super) type Carried = (Vec<u8>, Vec<(u32, Vec<u8>)>);

#[allow(clippy::big_endian_bytes)]
pub(super) fn seq_key(seq: u32) -> [u8; 4] {
    // Big-endian, so that the store lists records in sequence order.
    seq.to_be_bytes()
}

/// The audit domain key of a domain string.
fn domain_key(domain: &Secret) -> Result<[u8; 32], Error> {
    let out = strongroom_crypto::pbkdf2(
        strongroom_crypto::HashAlg::Sha256,
        domain.expose().as_bytes(),
        DOMAIN_KEY_SALT,
        DOMAIN_KEY_ITERATIONS,
        32,
    )
    .map_err(|_| e::internal("cannot derive the audit domain key"))?;
    let mut key = [0u8; 32];
    key.copy_from_slice(&out);
    Ok(key)
}

/// Whether a mechanism works with asymmetric keys (for a key usage whose key is unknown).
fn mechanism_asymmetric(m: &crate::mechanism::Mechanism) -> bool {
    use crate::mechanism::Mechanism as M;
    matches!(
        m,
        M::RsaPkcs
            | M::RsaX509
            | M::RsaOaep(_)
            | M::RsaPss(_)
            | M::RsaPkcsHash(_)
            | M::RsaPssHash(..)
            | M::Ecdsa
            | M::EcdsaHash(_)
            | M::EdDsa
    )
}

fn rc_of<T>(r: &Result<T, Error>) -> u32 {
    match r {
        Ok(_) => 0,
        Err(err) => err.code().value(),
    }
}

impl Module {
    // ----- loading and carrying the log -----

    /// Reads the audit records of the store into memory (at open).
    pub(super) fn load_audit(&mut self) -> Result<(), Error> {
        let store = self.store()?;
        let chain = store
            .get(T_HSM, K_AUDIT_CHAIN)?
            .map(|b| decode::<AuditChain>(&b))
            .transpose()?;
        let config = store
            .get(T_HSM, K_AUDIT_CONFIG)?
            .map(|b| decode::<AuditConfig>(&b))
            .transpose()?;
        let mut pending = VecDeque::new();
        for (key, value) in store.scan(T_AUDIT)? {
            let seq = <[u8; 4]>::try_from(key.as_slice())
                .map(u32::from_be_bytes)
                .map_err(|_| e::integrity_missing("an audit record is under a foreign key"))?;
            pending.push_back((seq, value.to_vec()));
        }
        // Records are consecutive and end just before the chain's next record; a gap means a
        // record was removed behind the module's back.
        if let Some(c) = &chain {
            for (i, (seq, _)) in pending.iter().enumerate() {
                let back = u32::try_from(pending.len() - i).unwrap_or(u32::MAX);
                if *seq != c.next_seq.wrapping_sub(back) {
                    return Err(e::integrity_missing("the audit records are not contiguous"));
                }
            }
        } else if !pending.is_empty() {
            return Err(e::integrity_missing("audit records without a log secret"));
        }
        self.audit.filter = config.as_ref().map_or(0, |c| c.filter);
        self.audit_config = config;
        let full = pending.len() as u64 >= self.config.audit_capacity;
        let mut inner = self.audit.lock()?;
        inner.chain = chain;
        inner.pending = pending;
        drop(inner);
        self.audit.full.store(full, Ordering::Relaxed);
        Ok(())
    }

    /// The records and chain that survive a factory reset (AU-07: only a specific command
    /// clears logs), to be written into the new store.
    pub(super) fn audit_carry(&self) -> Option<Carried> {
        let inner = self.audit.inner.lock().ok()?;
        let chain = encode(inner.chain.as_ref()?).ok()?;
        Some((chain, inner.pending.iter().cloned().collect()))
    }

    /// After decommission or factory reset: no Auditor, no configuration.
    pub(super) fn audit_forget_config(&mut self) {
        self.audit_config = None;
        self.audit.filter = 0;
    }

    // ----- recording -----

    /// The HSM clock: the host clock plus the offset the last synchronization left.
    pub(super) fn hsm_now(&self) -> i64 {
        now() + self.condition.clock_offset + self.clock_skew
    }

    /// Records `result` of `op` in `category` when the filter asks for it. A success whose
    /// record cannot be written becomes the logging error: no unlogged operation succeeds.
    #[inline]
    pub(super) fn audited<T>(
        &self,
        category: AuditCategory,
        op: AuditOp,
        result: Result<T, Error>,
        fill: impl FnOnce(&mut Event),
    ) -> Result<T, Error> {
        if self.audit.filter & category_bits(category.number()) == 0 {
            return result;
        }
        self.audited_slow(category, op, result, fill, false)
    }

    /// Like [`Module::audited`], for the events that proceed even when their record cannot
    /// be written (AU-14: login, logout, sessions, log configuration).
    #[inline]
    pub(super) fn audited_proceed<T>(
        &self,
        category: AuditCategory,
        op: AuditOp,
        result: Result<T, Error>,
        fill: impl FnOnce(&mut Event),
    ) -> Result<T, Error> {
        if self.audit.filter & category_bits(category.number()) == 0 {
            return result;
        }
        self.audited_slow(category, op, result, fill, true)
    }

    #[inline(never)]
    fn audited_slow<T>(
        &self,
        category: AuditCategory,
        op: AuditOp,
        result: Result<T, Error>,
        fill: impl FnOnce(&mut Event),
        proceed: bool,
    ) -> Result<T, Error> {
        if !EventFilter::from_mask(self.audit.filter).wants(category, result.is_ok()) {
            return result;
        }
        let mut ev = Event::new(category, op, rc_of(&result));
        fill(&mut ev);
        match (self.audit_record(ev), result) {
            (Ok(()), r) => r,
            (Err(log), Ok(_)) if !proceed => Err(log),
            (Err(_), r) => r,
        }
    }

    /// Records an unconditional event (AU-12), whatever the filter and even when the record
    /// space is full. A store failure is not the event's business: it is reported and the
    /// event has happened regardless.
    pub(super) fn audit_unconditional(&self, op: AuditOp, access: Option<AccessId>, detail: &str) {
        let mut ev = Event::new(AuditCategory::Unconditional, op, 0);
        ev.access = access.map(|a| a.0);
        ev.detail = detail.to_owned();
        if self.audit_record(ev).is_err() {
            // Nothing else can be done: the store latched or halted; the module reports
            // that on its next write.
        }
    }

    /// Writes one record: the next sequence number, chained to the newest HMAC, durably, with
    /// the new chain head, before returning. Concurrent callers share one transaction (group
    /// commit): each stages its record; when no write is under way, a caller whose record is
    /// staged writes every staged record at once, and the others wait until a write has
    /// settled theirs. A failed write fails every record staged on top of it too, and the
    /// chain returns to what the store holds, so that no record is lost from the middle of
    /// the chain.
    pub(super) fn audit_record(&self, ev: Event) -> Result<(), Error> {
        let store = self.store()?;
        let capacity = self.config.audit_capacity;
        let ticket = {
            let mut inner = self.audit.lock()?;
            let held = (inner.pending.len() + inner.staged.len()) as u64;
            if ev.category != AuditCategory::Unconditional && held >= capacity {
                self.audit.full.store(true, Ordering::Relaxed);
                return Err(e::log_full());
            }
            let mut chain = match inner.head.as_ref().or(inner.chain.as_ref()) {
                Some(c) => c.clone(),
                None => {
                    // The log secret is made when the first event is recorded (AU-23).
                    let mut secret = [0u8; 32];
                    random::fill(&mut secret)?;
                    AuditChain {
                        secret,
                        next_seq: 1,
                        last_hmac: [0; 32],
                        foreign: None,
                        time_synced: false,
                    }
                }
            };
            let seq = chain.next_seq;
            let (line, mac) = format_line(
                &chain.secret,
                &ev,
                seq,
                self.hsm_now(),
                self.serial,
                &chain.last_hmac,
            );
            chain.next_seq = seq.wrapping_add(1);
            chain.last_hmac = mac;
            let ticket = inner.next_ticket;
            inner.next_ticket += 1;
            inner.staged.push((ticket, seq, line));
            inner.head = Some(chain);
            if held + 1 >= capacity {
                self.audit.full.store(true, Ordering::Relaxed);
            }
            ticket
        };

        let (batch, head) = {
            let mut inner = self.audit.lock()?;
            loop {
                if ticket <= inner.settled {
                    let failed = inner
                        .failed
                        .iter()
                        .any(|(lo, hi)| (*lo..=*hi).contains(&ticket));
                    return if failed {
                        Err(e::internal("the audit record could not be written"))
                    } else {
                        Ok(())
                    };
                }
                if !inner.writing {
                    break;
                }
                inner = self
                    .audit
                    .settled
                    .wait(inner)
                    .map_err(|_| e::internal("the audit log lock is poisoned"))?;
            }
            inner.writing = true;
            // Records staged from now on chain on this head, which stays in place.
            let head = inner
                .head
                .clone()
                .ok_or_else(|| e::internal("the audit chain head is missing"))?;
            (std::mem::take(&mut inner.staged), head)
        };
        // The store write (and its sync) runs without the state lock: callers keep staging.
        // Nothing returns early from here until `writing` is cleared.
        let written = encode(&head).and_then(|chain_b| {
            store
                .write(|txn| {
                    for (_, seq, line) in &batch {
                        txn.put(T_AUDIT, &seq_key(*seq), line)?;
                    }
                    txn.put(T_HSM, K_AUDIT_CHAIN, &chain_b)
                })
                .map_err(Error::from)
        });
        // Each step below leaves the state consistent, so a poisoned lock is taken over.
        let mut inner = self.audit.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.writing = false;
        self.audit.settled.notify_all();
        let first = batch.first().map_or(ticket, |(t, _, _)| *t);
        match written {
            Ok(()) => {
                let last = batch.last().map_or(ticket, |(t, _, _)| *t);
                inner.settled = last;
                inner
                    .pending
                    .extend(batch.into_iter().map(|(_, seq, line)| (seq, line)));
                // Records staged meanwhile chain on this batch and keep the head.
                if inner.staged.is_empty() {
                    inner.head = None;
                }
                inner.chain = Some(head);
                Ok(())
            }
            Err(err) => {
                // Everything staged chains on the failed records: it fails with them.
                let last = inner.next_ticket - 1;
                inner.failed.push((first, last));
                inner.settled = last;
                inner.staged.clear();
                inner.head = None;
                let held = inner.pending.len() as u64;
                self.audit.full.store(held >= capacity, Ordering::Relaxed);
                Err(err)
            }
        }
    }

    /// Records a key usage (`*Init` of sign, verify, encrypt, decrypt) in the usage or the
    /// first-usage category of its key's kind (AU-10).
    #[inline]
    pub(super) fn audited_key_use<T>(
        &self,
        access: AccessId,
        session: SessionHandle,
        op: AuditOp,
        mechanism: &crate::mechanism::Mechanism,
        key: ObjectHandle,
        result: Result<T, Error>,
    ) -> Result<T, Error> {
        const USAGE: u32 =
            category_bits(5) | category_bits(6) | category_bits(7) | category_bits(8);
        if self.audit.filter & USAGE == 0 {
            return result;
        }
        self.audited_key_use_slow(access, session, op, mechanism, key, result)
    }

    #[inline(never)]
    fn audited_key_use_slow<T>(
        &self,
        access: AccessId,
        session: SessionHandle,
        op: AuditOp,
        mechanism: &crate::mechanism::Mechanism,
        key: ObjectHandle,
        result: Result<T, Error>,
    ) -> Result<T, Error> {
        // A call that names no usable session reached no key: nothing to attribute.
        let Ok(c) = self.caller(access, session) else {
            return result;
        };
        let obj = self.visible_object(&c, key).map(|(o, _)| o);
        let asymmetric = match obj {
            Some(o) => matches!(
                o.class(),
                cryptoki_sys::CKO_PRIVATE_KEY | cryptoki_sys::CKO_PUBLIC_KEY
            ),
            None => mechanism_asymmetric(mechanism),
        };
        let (every, first) = if asymmetric {
            (
                AuditCategory::AsymmetricUsage,
                AuditCategory::AsymmetricFirstUsage,
            )
        } else {
            (
                AuditCategory::SymmetricUsage,
                AuditCategory::SymmetricFirstUsage,
            )
        };
        let filter = EventFilter::from_mask(self.audit.filter);
        let ok = result.is_ok();
        let category = if filter.wants(every, ok) {
            every
        } else if filter.wants(first, ok) {
            let id = obj.map(|o| o.unique_id().to_vec()).unwrap_or_default();
            let fresh = match self.audit.lock() {
                Ok(mut inner) => inner.first_use.insert((c.serial, id)),
                Err(err) => return result.and(Err(err)),
            };
            if !fresh {
                return result;
            }
            first
        } else {
            return result;
        };
        let mut ev = Event::new(category, op, rc_of(&result));
        self.fill_session(&mut ev, access, session, Some(c.serial), key.value());
        match (self.audit_record(ev), result) {
            (Ok(()), r) => r,
            (Err(log), Ok(_)) => Err(log),
            (Err(_), r) => r,
        }
    }

    /// Fills the who of a token-layer event: the access, the session, its partition (or
    /// `serial` when the session is gone), the role logged in there and a handle.
    pub(super) fn fill_session(
        &self,
        ev: &mut Event,
        access: AccessId,
        session: SessionHandle,
        serial: Option<u64>,
        handle: u64,
    ) {
        let serial = serial
            .or_else(|| self.sessions.get(&session.0).map(|s| s.serial))
            .unwrap_or(0);
        ev.access = Some(access.0);
        ev.serial = serial;
        ev.session = u32::try_from(session.0).unwrap_or(u32::MAX);
        let role = self.partition_login(access, serial);
        ev.set_data(serial, role.map(crate::PartitionRole::audit_id), handle);
    }

    /// Records a token-layer event of `access` through `session` in `category`.
    pub(super) fn audited_session<T>(
        &self,
        category: AuditCategory,
        op: AuditOp,
        access: AccessId,
        session: SessionHandle,
        handle: u64,
        result: Result<T, Error>,
    ) -> Result<T, Error> {
        self.audited(category, op, result, |ev| {
            self.fill_session(ev, access, session, None, handle);
        })
    }

    /// Records a partition-role event of `id` on partition `serial`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn audited_role<T>(
        &self,
        category: AuditCategory,
        op: AuditOp,
        id: AccessId,
        serial: u64,
        role: Option<crate::PartitionRole>,
        result: Result<T, Error>,
        proceed: bool,
    ) -> Result<T, Error> {
        let fill = |ev: &mut Event| {
            ev.access = Some(id.0);
            ev.serial = serial;
            let rid = role.map(crate::PartitionRole::audit_id);
            if let Some(r) = rid {
                ev.detail = format!("roleID={r}");
            }
            ev.set_data(serial, rid, 0);
        };
        if proceed {
            self.audited_proceed(category, op, result, fill)
        } else {
            self.audited(category, op, result, fill)
        }
    }

    // ----- the Auditor role -----

    /// Creates the Auditor role (`audit init`): no HSM SO is needed (RA-13), and the event is
    /// recorded unconditionally (AU-12). Refused when an Auditor exists (CF-03): only
    /// factory reset or decommission removes one; refused in tamper (AU-08).
    pub fn auditor_init(&mut self, password: &Secret, domain: &Secret) -> Result<(), Error> {
        self.gate(Op::Audit)?;
        if self.auditor.is_some() {
            return Err(e::restricted("the Auditor role is already initialized"));
        }
        rules::password(password.expose())?;
        rules::domain(domain.expose())?;
        let role = AuditorRole {
            password: Credential::create(password, self.config.kdf)?,
            domain: Credential::create(domain, self.config.kdf)?,
            domain_key: domain_key(domain)?,
            failures: 0,
            locked_until: 0,
        };
        let bytes = encode(&role)?;
        self.write(|txn| txn.put(T_HSM, K_AUDITOR, &bytes))?;
        self.auditor = Some(role);
        self.audit_unconditional(AuditOp::CreateAuditContainer, None, "roleID=8");
        self.audited(
            AuditCategory::KeyManagement,
            AuditOp::GenKcv,
            Ok(()),
            |ev| ev.detail = "roleID=8".into(),
        )
    }

    /// Whether the Auditor role exists.
    pub fn auditor_initialized(&self) -> bool {
        self.auditor.is_some()
    }

    /// Whether `id` has the Auditor logged in.
    pub fn auditor_logged_in(&self, id: AccessId) -> bool {
        self.accesses.get(&id).is_some_and(|a| a.auditor)
    }

    fn require_auditor(&self, id: AccessId) -> Result<&AuditorRole, Error> {
        let role = self.auditor.as_ref().ok_or_else(e::audit_not_initialized)?;
        if !self.auditor_logged_in(id) {
            return Err(e::auditor_not_logged_in());
        }
        Ok(role)
    }

    /// `audit login`: three consecutive failures lock the Auditor out for 30 seconds without
    /// touching anything else (RA-14, CF-02); a login during the lockout is refused whatever
    /// the password. Works in tamper (AU-08) and when the log is full (AU-32).
    pub fn auditor_login(&mut self, id: AccessId, password: &Secret) -> Result<(), Error> {
        let r = self.auditor_login_inner(id, password);
        self.audited_proceed(AuditCategory::Access, AuditOp::Login, r, |ev| {
            ev.access = Some(id.0);
            ev.detail = "roleID=8".into();
            ev.set_data(0, Some(AUDITOR_ROLE_ID), 0);
        })
    }

    fn auditor_login_inner(&mut self, id: AccessId, password: &Secret) -> Result<(), Error> {
        self.gate(Op::Login)?;
        let access = self
            .accesses
            .get(&id)
            .ok_or_else(|| e::arguments_bad("unknown access"))?;
        if access.auditor {
            return Err(e::role_already_logged_in());
        }
        if access.so {
            return Err(e::other_role_logged_in("HSM SO"));
        }
        let mut role = self.auditor.clone().ok_or_else(e::audit_not_initialized)?;
        let now = self.hsm_now();
        if role.locked_until > now {
            return Err(e::audit_login_timeout());
        }
        if role.password.verify(password) {
            if role.failures != 0 || role.locked_until != 0 {
                role.failures = 0;
                role.locked_until = 0;
                self.save_auditor(role)?;
            }
            if let Some(a) = self.accesses.get_mut(&id) {
                a.auditor = true;
            }
            return Ok(());
        }
        role.failures = role.failures.saturating_add(1);
        let locked = role.failures >= AUDITOR_LOGIN_ATTEMPTS;
        if locked {
            role.failures = 0;
            role.locked_until = now + self.config.auditor_lockout_secs;
        }
        self.save_auditor(role)?;
        Err(if locked {
            e::audit_login_threshold()
        } else {
            e::pin_incorrect()
        })
    }

    fn save_auditor(&mut self, role: AuditorRole) -> Result<(), Error> {
        let bytes = encode(&role)?;
        self.write(|txn| txn.put(T_HSM, K_AUDITOR, &bytes))?;
        self.auditor = Some(role);
        Ok(())
    }

    /// `audit logout`.
    pub fn auditor_logout(&mut self, id: AccessId) -> Result<(), Error> {
        let r = match self.accesses.get_mut(&id) {
            Some(a) if a.auditor => {
                a.auditor = false;
                Ok(())
            }
            _ => Err(e::auditor_not_logged_in()),
        };
        self.audited_proceed(AuditCategory::Access, AuditOp::Logout, r, |ev| {
            ev.access = Some(id.0);
            ev.detail = "roleID=8".into();
        })
    }

    /// `audit changePwd`: the logged-in Auditor replaces its password; a wrong current one
    /// counts as a failed login.
    pub fn auditor_change_password(
        &mut self,
        id: AccessId,
        old: &Secret,
        new: &Secret,
    ) -> Result<(), Error> {
        let r = self.auditor_change_password_inner(id, old, new);
        self.audited(AuditCategory::Management, AuditOp::SetPin, r, |ev| {
            ev.access = Some(id.0);
            ev.detail = "roleID=8".into();
        })
    }

    fn auditor_change_password_inner(
        &mut self,
        id: AccessId,
        old: &Secret,
        new: &Secret,
    ) -> Result<(), Error> {
        self.gate(Op::Audit)?;
        let mut role = self.require_auditor(id)?.clone();
        rules::password(new.expose())?;
        if !role.password.verify(old) {
            if let Some(a) = self.accesses.get_mut(&id) {
                a.auditor = false;
            }
            role.failures = role.failures.saturating_add(1);
            let locked = role.failures >= AUDITOR_LOGIN_ATTEMPTS;
            if locked {
                role.failures = 0;
                role.locked_until = self.hsm_now() + self.config.auditor_lockout_secs;
            }
            self.save_auditor(role)?;
            return Err(if locked {
                e::audit_login_threshold()
            } else {
                e::pin_incorrect()
            });
        }
        role.password = Credential::create(new, self.config.kdf)?;
        self.save_auditor(role)
    }

    // ----- configuration, time, show -----

    /// `audit config`: only the Auditor changes what is logged (AU-07: while an Auditor
    /// exists the HSM SO cannot; there is no other way). Allowed when the log is full; refused
    /// in tamper (AU-08). The first configuration starts the moving of records out of the
    /// module (AU-30).
    pub fn audit_config_set(
        &mut self,
        id: AccessId,
        change: AuditConfigChange,
    ) -> Result<(), Error> {
        let r = self.audit_config_set_inner(id, change);
        let detail = match change {
            AuditConfigChange::Event(f) => format!("event={f}"),
            AuditConfigChange::RotationInterval(s) => format!("rotation={s}s"),
            AuditConfigChange::RotationSize(b) => format!("rotationsize={b}"),
        };
        self.audited_proceed(
            AuditCategory::LogManagement,
            AuditOp::LogSetConfig,
            r,
            |ev| {
                ev.access = Some(id.0);
                ev.detail = detail;
            },
        )
    }

    fn audit_config_set_inner(
        &mut self,
        id: AccessId,
        change: AuditConfigChange,
    ) -> Result<(), Error> {
        self.gate(Op::Audit)?;
        self.require_auditor(id)?;
        let mut config = self.audit_config.clone().unwrap_or(AuditConfig {
            filter: 0,
            rotation_secs: 0,
            rotation_bytes: MAX_ROTATION_BYTES,
        });
        match change {
            AuditConfigChange::Event(f) => config.filter = f.mask(),
            AuditConfigChange::RotationInterval(s) => config.rotation_secs = s,
            AuditConfigChange::RotationSize(b) => {
                if b == 0 || b > MAX_ROTATION_BYTES {
                    return Err(e::arguments_bad(
                        "the rotation size must be 1 byte to 50 MB (52428800 bytes)",
                    ));
                }
                config.rotation_bytes = b;
            }
        }
        let bytes = encode(&config)?;
        self.write(|txn| txn.put(T_HSM, K_AUDIT_CONFIG, &bytes))?;
        self.audit.filter = config.filter;
        self.audit_config = Some(config);
        Ok(())
    }

    /// `audit show`: the configuration, the clocks and the module's log space (AU-37).
    pub fn audit_show(&self, id: AccessId) -> Result<AuditInfo, Error> {
        let r = self.audit_show_inner(id);
        self.audited_proceed(
            AuditCategory::LogManagement,
            AuditOp::LogGetConfig,
            r,
            |ev| {
                ev.access = Some(id.0);
            },
        )
    }

    fn audit_show_inner(&self, id: AccessId) -> Result<AuditInfo, Error> {
        self.gate(Op::Status)?;
        self.require_auditor(id)?;
        let inner = self.audit.lock()?;
        let config = self.audit_config.as_ref();
        Ok(AuditInfo {
            configured: config.is_some(),
            filter: EventFilter::from_mask(config.map_or(0, |c| c.filter)),
            rotation_secs: config.map_or(0, |c| c.rotation_secs),
            rotation_bytes: config.map_or(MAX_ROTATION_BYTES, |c| c.rotation_bytes),
            hsm_time: self.hsm_now(),
            host_time: now(),
            time_synced: inner.chain.as_ref().is_some_and(|c| c.time_synced),
            records_held: inner.pending.len() as u64,
            capacity: self.config.audit_capacity,
            next_seq: inner.chain.as_ref().map_or(1, |c| c.next_seq),
            foreign_secret: inner
                .chain
                .as_ref()
                .and_then(|c| c.foreign.as_ref().map(|f| f.0)),
        })
    }

    /// Sets the HSM clock to the host clock and remembers that it was synchronized.
    fn sync_clock(&mut self) -> Result<(), Error> {
        if self.condition.clock_offset != 0 {
            let mut c = self.condition.clone();
            c.clock_offset = 0;
            self.save_condition(c)?;
        }
        self.clock_skew = 0;
        let store_chain = {
            let mut inner = self.audit.lock()?;
            match inner.chain.as_mut() {
                Some(chain) if !chain.time_synced => {
                    chain.time_synced = true;
                    Some(encode(&*chain)?)
                }
                _ => None,
            }
        };
        if let Some(b) = store_chain {
            self.write(|txn| txn.put(T_HSM, K_AUDIT_CHAIN, &b))?;
        }
        Ok(())
    }

    /// `audit sync`: the Auditor synchronizes the HSM clock with the host (AU-50).
    pub fn audit_sync(&mut self, id: AccessId) -> Result<(), Error> {
        let r = self
            .gate(Op::Audit)
            .and_then(|()| self.require_auditor(id).map(|_| ()))
            .and_then(|()| self.sync_clock());
        self.audited(AuditCategory::LogManagement, AuditOp::LogSetTime, r, |ev| {
            ev.access = Some(id.0);
            ev.detail = "roleID=8".into();
        })
    }

    /// `hsm time sync`: the HSM SO synchronizes the HSM clock with the host (AU-50).
    pub fn time_sync(&mut self, id: AccessId) -> Result<(), Error> {
        let r = self.check_so_admin(id).and_then(|()| self.sync_clock());
        self.audited(AuditCategory::LogManagement, AuditOp::LogSetTime, r, |ev| {
            ev.access = Some(id.0);
            ev.detail = "roleID=1".into();
        })
    }

    /// HSM policy 57: the daily synchronization with the host clock, run by the appliance.
    /// Does nothing while the policy is off. Returns whether the clock was synchronized.
    pub fn time_auto_sync(&mut self) -> Result<bool, Error> {
        if !self.policies.is_on(57) || self.gate(Op::Admin).is_err() {
            return Ok(false);
        }
        let r = self.sync_clock();
        self.audited(AuditCategory::LogManagement, AuditOp::LogSetTime, r, |ev| {
            ev.detail = "policy 57".into();
        })?;
        Ok(true)
    }

    /// `hsm time get`: the HSM and host clocks (Unix seconds).
    pub fn time_get(&self, id: AccessId) -> Result<(i64, i64), Error> {
        let r = self.gate(Op::Status).map(|()| (self.hsm_now(), now()));
        self.audited(AuditCategory::LogManagement, AuditOp::LogGetTime, r, |ev| {
            ev.access = Some(id.0);
        })
    }

    // ----- moving records to the appliance -----

    /// Where and how the host writes records: `None` until an Auditor exists and has
    /// configured logging (records stay in the module until then, AU-30).
    pub fn audit_rotation(&self) -> Option<RotationSettings> {
        if self.auditor.is_none() || self.halt_reason.is_some() {
            return None;
        }
        self.audit_config.as_ref().map(|c| RotationSettings {
            interval_secs: c.rotation_secs,
            max_bytes: c.rotation_bytes,
        })
    }

    /// Up to `max` of the oldest records still in the module, with their sequence numbers,
    /// when records move out ([`Module::audit_rotation`]); nothing otherwise.
    pub fn audit_pending(&self, max: usize) -> Result<Vec<(u32, Vec<u8>)>, Error> {
        if self.audit_rotation().is_none() {
            return Ok(Vec::new());
        }
        let inner = self.audit.lock()?;
        Ok(inner.pending.iter().take(max).cloned().collect())
    }

    /// The host has durably written every record up to `through`: they leave the module,
    /// freeing its space (LOG FULL ends when enough is free).
    pub fn audit_release(&self, through: u32) -> Result<(), Error> {
        if self.audit_rotation().is_none() {
            return Ok(());
        }
        let store = self.store()?;
        let keys: Vec<u32> = self
            .audit
            .lock()?
            .pending
            .iter()
            .map(|(s, _)| *s)
            .take_while(|s| *s <= through)
            .collect();
        if keys.is_empty() {
            return Ok(());
        }
        // The delete (and its sync) runs without the state lock, so that records keep being
        // made meanwhile; they only ever join the back of `pending`.
        store.write(|txn| {
            for s in &keys {
                txn.delete(T_AUDIT, &seq_key(*s))?;
            }
            Ok(())
        })?;
        let mut inner = self.audit.lock()?;
        while inner.pending.front().is_some_and(|(s, _)| keys.contains(s)) {
            inner.pending.pop_front();
        }
        let full = inner.pending.len() as u64 >= self.config.audit_capacity;
        self.audit.full.store(full, Ordering::Relaxed);
        Ok(())
    }

    /// Moves the HSM clock by `secs` (tests of the Auditor's lockout expiry, without
    /// waiting). Not part of the stable API.
    #[doc(hidden)]
    pub fn danger_skew_clock(&mut self, secs: i64) {
        self.clock_skew += secs;
    }

    /// Whether the record space is full (LOG FULL).
    pub fn audit_log_full(&self) -> bool {
        self.audit.is_full()
    }

    // ----- verification and the secret -----

    /// `audit log verify`: verifies record lines with the module's secret, or the imported
    /// one (AU-36, AU-41). `successor` is the record that follows the last one, when the
    /// host has it (the first record of the next file); `in_place` says the lines come from
    /// the appliance's audit directory, whose files and the module's records are contiguous,
    /// so that a missing successor means truncation. Fails with
    /// `SR_RET_LOG_BAD_RECORD_HMAC` naming the first bad record.
    pub fn audit_verify(
        &self,
        id: AccessId,
        log: &[u8],
        successor: Option<&[u8]>,
        in_place: bool,
    ) -> Result<VerifyReport, Error> {
        let r = self.audit_verify_inner(id, log, successor, in_place);
        self.audited(AuditCategory::LogManagement, AuditOp::LogVerify, r, |ev| {
            ev.access = Some(id.0);
        })
    }

    fn audit_verify_inner(
        &self,
        id: AccessId,
        log: &[u8],
        successor: Option<&[u8]>,
        in_place: bool,
    ) -> Result<VerifyReport, Error> {
        self.gate(Op::Audit)?;
        self.require_auditor(id)?;
        let inner = self.audit.lock()?;
        let chain = inner.chain.as_ref().ok_or_else(|| {
            e::log_bad_record("this HSM has no log secret yet: it has recorded no event")
        })?;
        let (secret, own) = match &chain.foreign {
            Some((_, s)) => (*s, false),
            None => (chain.secret, true),
        };
        let secret = zeroize::Zeroizing::new(secret);
        let successor_prev = successor.and_then(|l| crate::audit::parse_line(l).ok());
        let head_seq = chain.next_seq.wrapping_sub(1);
        let tail = |last: u32| -> Tail {
            let next = last.wrapping_add(1);
            if let Some((seq, prev)) = successor_prev
                && seq == next
            {
                return Tail::Successor(prev);
            }
            if !own {
                return Tail::Unknown;
            }
            if last == head_seq {
                return Tail::Head(chain.last_hmac);
            }
            if let Some((_, line)) = inner.pending.iter().find(|(s, _)| *s == next) {
                return crate::audit::parse_line(line)
                    .map_or(Tail::Missing, |(_, prev)| Tail::Successor(prev));
            }
            // Records up to the head exist: in the module, or in the appliance's files.
            if in_place && chain.next_seq != 1 && last < head_seq {
                return Tail::Missing;
            }
            Tail::Unknown
        };
        let report = verify_log(&secret, log, &tail);
        match &report.failure {
            None => Ok(report),
            Some(bad) => {
                let which = bad
                    .seq
                    .map_or_else(|| format!("line {}", bad.line), |s| format!("record {s}"));
                Err(e::log_bad_record(format!(
                    "verification failed at {which} (line {} of the file): {}",
                    bad.line, bad.reason
                )))
            }
        }
    }

    /// `audit secret export`: the log secret with its checksum, encrypted under the
    /// Auditor's domain key (AU-40). Returns the module serial (for the file name) and the
    /// file. Refused in tamper (AU-08).
    pub fn audit_export_secret(&self, id: AccessId) -> Result<(u64, Vec<u8>), Error> {
        let r = self.audit_export_inner(id);
        let r = self.audited(
            AuditCategory::LogManagement,
            AuditOp::LogExportSecret,
            r,
            |ev| ev.access = Some(id.0),
        )?;
        Ok(r)
    }

    fn audit_export_inner(&self, id: AccessId) -> Result<(u64, Vec<u8>), Error> {
        self.gate(Op::Audit)?;
        let role = self.require_auditor(id)?;
        let key = zeroize::Zeroizing::new(role.domain_key);
        let has_chain = self.audit.lock()?.chain.is_some();
        if !has_chain {
            // The secret is made by the first recorded event; exporting is one.
            let mut ev = Event::new(AuditCategory::LogManagement, AuditOp::LogExportSecret, 0);
            ev.access = Some(id.0);
            ev.detail = "log secret created".into();
            self.audit_record(ev)?;
        }
        let inner = self.audit.lock()?;
        let chain = inner
            .chain
            .as_ref()
            .ok_or_else(|| e::internal("the log secret is missing"))?;
        let mut iv = [0u8; 16];
        random::fill(&mut iv)?;
        let file = wrap_secret(&key, self.serial, &chain.secret, iv)
            .ok_or_else(|| e::internal("cannot wrap the log secret"))?;
        Ok((self.serial, file))
    }

    /// `audit secret import -serialtarget T -serialsource S -file F` (AU-41): decrypts the
    /// secret under the Auditor's domain key and checks its checksum (another domain fails
    /// with `SR_RET_LOG_NO_KCV`). A foreign secret goes to its own slot and is used for
    /// verification from then on; importing the module's own secret returns to it.
    pub fn audit_import_secret(
        &mut self,
        id: AccessId,
        target: u64,
        source: u64,
        file: &[u8],
    ) -> Result<(), Error> {
        let r = self.audit_import_inner(id, target, source, file);
        self.audited(
            AuditCategory::LogManagement,
            AuditOp::LogImportSecret,
            r,
            |ev| {
                ev.access = Some(id.0);
                ev.detail = format!("source S/N {source}");
            },
        )
    }

    fn audit_import_inner(
        &mut self,
        id: AccessId,
        target: u64,
        source: u64,
        file: &[u8],
    ) -> Result<(), Error> {
        self.gate(Op::Audit)?;
        let role = self.require_auditor(id)?;
        if target != self.serial {
            return Err(e::arguments_bad(format!(
                "the target serial number {target} is not this HSM's ({})",
                self.serial
            )));
        }
        let key = zeroize::Zeroizing::new(role.domain_key);
        let (serial, secret) = unwrap_secret(&key, file).map_err(|err| match err {
            UnwrapError::Format => e::data_invalid("the file is not an exported audit log secret"),
            UnwrapError::Domain => e::log_no_kcv(
                "the secret's checksum does not match: it comes from a module of another audit domain",
            ),
        })?;
        if serial != source {
            return Err(e::arguments_bad(format!(
                "the file holds the secret of HSM {serial}, not of HSM {source}"
            )));
        }
        let bytes = {
            let mut inner = self.audit.lock()?;
            let mut chain = match inner.chain.clone() {
                Some(c) => c,
                None => {
                    drop(inner);
                    let mut ev =
                        Event::new(AuditCategory::LogManagement, AuditOp::LogImportSecret, 0);
                    ev.access = Some(id.0);
                    ev.detail = "log secret created".into();
                    self.audit_record(ev)?;
                    inner = self.audit.lock()?;
                    inner
                        .chain
                        .clone()
                        .ok_or_else(|| e::internal("the log secret is missing"))?
                }
            };
            let own = serial == self.serial
                && bool::from(subtle::ConstantTimeEq::ct_eq(
                    &secret[..],
                    &chain.secret[..],
                ));
            chain.foreign = if own { None } else { Some((serial, *secret)) };
            let b = encode(&chain)?;
            inner.chain = Some(chain);
            b
        };
        self.write(|txn| txn.put(T_HSM, K_AUDIT_CHAIN, &bytes))
    }

    // ----- external messages -----

    /// `CA_LogExternal`: an application's message (at most 100 characters are kept) in the
    /// external category.
    pub fn log_external(&self, access: AccessId, message: &str) -> Result<(), Error> {
        let r = self.gate(Op::Partition);
        self.audited(AuditCategory::External, AuditOp::LogExternal, r, |ev| {
            ev.access = Some(access.0);
            ev.detail = message.to_owned();
        })
    }

    // ----- events of the lifecycle -----

    /// Records an HSM SO or HSM-level event of `category` for the access `id`.
    pub(super) fn audited_hsm<T>(
        &self,
        category: AuditCategory,
        op: AuditOp,
        id: Option<AccessId>,
        detail: &str,
        result: Result<T, Error>,
    ) -> Result<T, Error> {
        self.audited(category, op, result, |ev| {
            ev.access = id.map(|a| a.0);
            ev.detail = detail.to_owned();
        })
    }

    /// The role id of the HSM SO in records.
    pub(super) const SO_ROLE: u8 = SO_ROLE_ID;
}
