//! The token layer's plumbing: loading and resetting tokens, persisting token objects, who is
//! calling through which session, the role matrix, key lookup and mechanism gating.
//!
//! Role matrix (catalog RA-20..RA-23; partition policy 28), checked here and nowhere else:
//!
//! ```text
//!                          public    PSO       CO     LCO          CU
//! use keys (sign, ...)     public    no        yes    yes          yes
//!                          keys only
//! generate/unwrap/derive   no        no        yes    yes          no
//! wrap (export)            no        no        yes    no           no
//! create/copy objects      session,  public,   any    any          public,
//!                          public,   no secret                     no secret
//!                          no secret or private                    or private
//!                          or private keys                         keys
//!                          keys
//! modify/destroy objects   as create as create  any   not keys     as create
//! ```
//!
//! "public" means `CKA_PRIVATE` false. Token objects need a read/write session
//! (`CKR_SESSION_READ_ONLY`) and a logged-in role. With partition policy 28 off no role
//! generates, unwraps, derives or wraps keys, or creates, copies, changes or destroys key
//! objects (`CKR_OPERATION_NOT_ALLOWED`). A role whose credential must change gets
//! `CKR_PIN_EXPIRED` for everything but the change (`Caller` resolution).

use std::sync::Arc;

use cryptoki_sys::*;
use strongroom_store::SealKey;
use zeroize::Zeroizing;

use super::{AccessId, Module, Op, PartitionRole, partition_key};
use crate::error::{Error, e};
use crate::mechanism::{Gate, MechanismInfo, effective_info};
use crate::object::{Object, ObjectHandle};
use crate::state::{T_PARTITIONS, encode, partition_table};
use crate::token::keys::KeyMaterial;
use crate::token::metrics::Bin;
use crate::token::{Home, Session, SessionHandle, Token};

/// Most sessions open at once on the module (`CKR_MAX_SESSION_COUNT` beyond).
pub const MAX_SESSIONS: usize = 16_384;

/// Partition policy 19: raw RSA.
const POLICY_RAW_RSA: u8 = 19;
/// Partition policy 28: key management functions.
const POLICY_KEY_MANAGEMENT: u8 = 28;
/// HSM policy 12: non-FIPS algorithms allowed.
const HSM_POLICY_NON_FIPS: u8 = 12;
/// HSM policy 49: partition utilization metrics.
pub(super) const HSM_POLICY_METRICS: u8 = 49;

/// Who is calling, through which session.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Caller {
    pub(crate) access: AccessId,
    pub(crate) session: SessionHandle,
    pub(crate) serial: u64,
    /// The role the access has logged in on the partition (`None`: a public session).
    pub(crate) role: Option<PartitionRole>,
    /// `CKF_RW_SESSION`.
    pub(crate) rw: bool,
}

impl Caller {
    /// The role the object engine checks templates for. A public session is checked as the
    /// Crypto Officer by the engine, then refused private objects here.
    pub(crate) fn engine_role(&self) -> PartitionRole {
        self.role.unwrap_or(PartitionRole::CryptoOfficer)
    }

    pub(crate) fn is_so(&self) -> bool {
        self.role == Some(PartitionRole::So)
    }
}

/// Which argument a key handle is, for the code of an invalid one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyArg {
    Key,
    Wrapping,
    Unwrapping,
}

/// What is done to an object, for the role matrix.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ObjAct {
    Create,
    Modify,
    Destroy,
}

/// A key-management function, for the role matrix.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Km {
    Generate,
    Unwrap,
    Derive,
    Wrap,
}

/// Secret and private keys: what only the Crypto Officer and the Limited Crypto Officer hold.
fn is_secret_key(obj: &Object) -> bool {
    matches!(obj.class(), CKO_SECRET_KEY | CKO_PRIVATE_KEY)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]])
        .map(char::from)
        .collect()
}

/// The name of a usage attribute, for messages.
pub(crate) fn usage_name(attr: u64) -> &'static str {
    match attr {
        CKA_ENCRYPT => "CKA_ENCRYPT",
        CKA_DECRYPT => "CKA_DECRYPT",
        CKA_SIGN => "CKA_SIGN",
        CKA_VERIFY => "CKA_VERIFY",
        CKA_WRAP => "CKA_WRAP",
        CKA_UNWRAP => "CKA_UNWRAP",
        CKA_DERIVE => "CKA_DERIVE",
        _ => "usage attribute",
    }
}

impl Module {
    // ----- token lifecycle -----

    /// Every token and session is gone (the partitions were destroyed or the module halted).
    pub(super) fn tokens_clear(&mut self) {
        self.tokens.clear();
        self.sessions.clear();
    }

    /// Closes the sessions `pred` selects, with their session objects and operations.
    pub(super) fn sessions_close_where(&mut self, pred: impl Fn(&Session) -> bool) {
        let closing: Vec<u64> = self
            .sessions
            .iter()
            .filter(|(_, s)| pred(s))
            .map(|(h, _)| *h)
            .collect();
        for h in closing {
            if let Some(s) = self.sessions.remove(&h)
                && let Some(t) = self.tokens.get_mut(&s.serial)
            {
                t.drop_session_objects(SessionHandle(h));
            }
        }
    }

    /// The partition's objects were destroyed (its table dropped): an empty token. With
    /// `close_sessions` its sessions close too; otherwise they stay open with no operation.
    pub(super) fn token_reset(&mut self, serial: u64, close_sessions: bool) {
        if close_sessions {
            self.sessions_close_where(|s| s.serial == serial);
        } else {
            for s in self.sessions.values_mut().filter(|s| s.serial == serial) {
                if let Ok(ops) = s.ops.get_mut() {
                    ops.clear();
                }
            }
        }
        let Some(size) = self.partitions.get(&serial).map(|p| p.size) else {
            self.tokens.remove(&serial);
            return;
        };
        match self.tokens.get_mut(&serial) {
            Some(t) => t.clear(size),
            None => {
                self.tokens.insert(serial, Token::new(size));
            }
        }
    }

    /// After `access` logged out of `serial` (PKCS#11 C_Logout): its private session objects
    /// are destroyed and its sessions' operations end.
    pub(super) fn after_logout(&mut self, access: AccessId, serial: u64) {
        for s in self
            .sessions
            .values_mut()
            .filter(|s| s.access == access && s.serial == serial)
        {
            if let Ok(ops) = s.ops.get_mut() {
                ops.clear();
            }
        }
        if let Some(t) = self.tokens.get_mut(&serial) {
            let private: Vec<ObjectHandle> = t
                .owners
                .iter()
                .filter(|(h, (_, a))| {
                    *a == access && t.session_objects.get(**h).is_some_and(Object::is_private)
                })
                .map(|(h, _)| *h)
                .collect();
            for h in private {
                t.remove_session_object(h);
            }
        }
    }

    /// Volatile counters start again (restart, init).
    pub(super) fn reset_volatile(&mut self) {
        self.counters.clear();
        self.busy.reset();
    }

    /// Loads every partition's token objects from the store, checking them against the
    /// partition records' accounting (a missing or extra record halts the module: the store
    /// authenticates values, not the set of keys).
    pub(super) fn load_tokens(&mut self) -> Result<(), Error> {
        let mut tokens = std::collections::BTreeMap::new();
        for (serial, rec) in &self.partitions {
            let mut t = Token::new(rec.size);
            let seal = SealKey::from_bytes(&rec.seal_key);
            for (key, value) in self
                .store()?
                .scan_sealed(&seal, &partition_table(*serial))?
            {
                let obj = Object::from_bytes(&value)
                    .map_err(|_| e::integrity_missing("a stored object is malformed"))?;
                if obj.unique_id() != key.as_slice() {
                    return Err(e::integrity_missing(
                        "a stored object is under a foreign key",
                    ));
                }
                let h = t.next_handle()?;
                t.objects
                    .insert_as(h, obj)
                    .map_err(|_| e::integrity_missing("stored objects exceed their partition"))?;
            }
            let count = u64::try_from(t.objects.len()).unwrap_or(u64::MAX);
            if t.objects.used() != rec.used || count != rec.objects {
                return Err(e::integrity_missing(
                    "a partition's objects do not match its accounting",
                ));
            }
            tokens.insert(*serial, t);
        }
        self.tokens = tokens;
        Ok(())
    }

    // ----- persistence -----

    /// A fresh `CKA_UNIQUE_ID` for an object of `serial`: 128 random bits in hex.
    pub(super) fn new_unique_id(&self, serial: u64) -> Result<String, Error> {
        let token = self.token(serial)?;
        for _ in 0..4 {
            let b = self.rng.random_vec(16).map_err(|_| e::rng_failure())?;
            let id = hex(&b);
            if !token.unique_id_taken(id.as_bytes()) {
                return Ok(id);
            }
        }
        Err(e::rng_failure())
    }

    /// Writes a change of partition `serial`'s token objects, and its new accounting (`used`
    /// bytes, `count` objects), in one durable transaction, before memory changes.
    pub(super) fn persist(
        &mut self,
        serial: u64,
        put: &[&Object],
        delete: &[&[u8]],
        used: u64,
        count: usize,
    ) -> Result<(), Error> {
        let mut record = self.partition(serial)?.clone();
        record.used = used;
        record.objects = u64::try_from(count).unwrap_or(u64::MAX);
        let seal = SealKey::from_bytes(&record.seal_key);
        let table = partition_table(serial);
        let rec_b = encode(&record)?;
        let puts = put
            .iter()
            .map(|o| Ok((o.unique_id().to_vec(), Zeroizing::new(o.to_bytes()?))))
            .collect::<Result<Vec<_>, Error>>()?;
        self.write(|txn| {
            for (k, v) in &puts {
                txn.put_sealed(&seal, &table, k, v)?;
            }
            for k in delete {
                txn.delete(&table, k)?;
            }
            txn.put(T_PARTITIONS, &partition_key(serial), &rec_b)
        })?;
        self.partitions.insert(serial, record);
        Ok(())
    }

    /// Adds new objects made by one call (both halves of a key pair at once): token objects
    /// are persisted in one transaction first; nothing is added if anything does not fit.
    pub(super) fn add_objects(
        &mut self,
        c: &Caller,
        items: Vec<(Object, Option<Arc<KeyMaterial>>)>,
    ) -> Result<Vec<ObjectHandle>, Error> {
        let token = self.token(c.serial)?;
        let (mut tok_size, mut ses_size, mut tok_n) = (0u64, 0u64, 0usize);
        for (o, _) in &items {
            let size = o.stored_size();
            if o.is_token() {
                tok_size = tok_size.saturating_add(size);
                tok_n += 1;
            } else {
                ses_size = ses_size.saturating_add(size);
            }
        }
        token.objects.check_fits(tok_size, 0)?;
        token.session_objects.check_fits(ses_size, 0)?;
        if tok_n > 0 {
            let used = token.objects.used().saturating_add(tok_size);
            let count = token.objects.len() + tok_n;
            let puts: Vec<&Object> = items
                .iter()
                .map(|(o, _)| o)
                .filter(|o| o.is_token())
                .collect();
            self.persist(c.serial, &puts, &[], used, count)?;
        }
        let token = self.token_mut(c.serial)?;
        let mut handles = Vec::with_capacity(items.len());
        for (o, key) in items {
            let h = token.next_handle()?;
            if o.is_token() {
                token.objects.insert_as(h, o)?;
            } else {
                token.session_objects.insert_as(h, o)?;
                token.owners.insert(h, (c.session, c.access));
            }
            if let Some(k) = key {
                token.cache_key(h, k);
            }
            handles.push(h);
        }
        Ok(handles)
    }

    pub(super) fn token(&self, serial: u64) -> Result<&Token, Error> {
        self.tokens
            .get(&serial)
            .ok_or_else(|| e::partition_serial_unknown(serial))
    }

    pub(super) fn token_mut(&mut self, serial: u64) -> Result<&mut Token, Error> {
        self.tokens
            .get_mut(&serial)
            .ok_or_else(|| e::partition_serial_unknown(serial))
    }

    // ----- callers and permissions -----

    /// Resolves the session of `access`: the module must be in service, the session must be
    /// the access's own, and a logged-in role must not owe a credential change.
    pub(super) fn caller(&self, access: AccessId, session: SessionHandle) -> Result<Caller, Error> {
        self.gate(Op::Partition)?;
        let s = self
            .sessions
            .get(&session.0)
            .filter(|s| s.access == access)
            .ok_or_else(e::session_handle_invalid)?;
        let role = self.partition_login(access, s.serial);
        if let Some(r) = role
            && self
                .partition(s.serial)?
                .roles
                .get(&r)
                .is_some_and(|rec| rec.must_change)
        {
            return Err(e::pin_expired());
        }
        Ok(Caller {
            access,
            session,
            serial: s.serial,
            role,
            rw: s.rw,
        })
    }

    /// The caller's session.
    pub(super) fn session_of(&self, c: &Caller) -> Result<&Session, Error> {
        self.sessions
            .get(&c.session.0)
            .ok_or_else(e::session_handle_invalid)
    }

    fn partition_policy_on(&self, serial: u64, id: u8) -> bool {
        self.partitions
            .get(&serial)
            .is_some_and(|p| p.policies.is_on(id))
    }

    /// Using a key for sign, verify, encrypt or decrypt.
    pub(super) fn permit_use_key(&self, c: &Caller) -> Result<(), Error> {
        if c.is_so() {
            return Err(e::role_not_allowed("the Partition SO cannot use keys"));
        }
        Ok(())
    }

    /// A key-management function.
    pub(super) fn permit_key_management(&self, c: &Caller, km: Km) -> Result<(), Error> {
        match c.role {
            None => {
                return Err(e::user_not_logged_in(
                    "key management needs the Crypto Officer or Limited Crypto Officer",
                ));
            }
            Some(PartitionRole::So) => {
                return Err(e::role_not_allowed("the Partition SO cannot use keys"));
            }
            Some(PartitionRole::CryptoUser) => {
                return Err(e::role_not_allowed(
                    "the Crypto User uses existing keys only",
                ));
            }
            Some(PartitionRole::LimitedCryptoOfficer) if km == Km::Wrap => {
                return Err(e::role_not_allowed(
                    "the Limited Crypto Officer cannot export keys",
                ));
            }
            Some(_) => {}
        }
        if !self.partition_policy_on(c.serial, POLICY_KEY_MANAGEMENT) {
            return Err(e::restricted(
                "partition policy 28 (Allow Key Management Functions) is off",
            ));
        }
        Ok(())
    }

    /// Creating, changing or destroying `obj`.
    pub(super) fn permit_object(&self, c: &Caller, obj: &Object, act: ObjAct) -> Result<(), Error> {
        if obj.is_token() && !c.rw {
            return Err(e::session_read_only());
        }
        match c.role {
            None => {
                if obj.is_token() || obj.is_private() || is_secret_key(obj) {
                    return Err(e::user_not_logged_in(
                        "a public session may hold public session objects only",
                    ));
                }
            }
            Some(r @ (PartitionRole::So | PartitionRole::CryptoUser)) => {
                if obj.is_private() {
                    return Err(crate::object::error::private_object_refused(r));
                }
                if is_secret_key(obj) {
                    return Err(e::role_not_allowed(format!(
                        "the {} holds no secret or private keys",
                        r.name()
                    )));
                }
            }
            Some(PartitionRole::LimitedCryptoOfficer) if act != ObjAct::Create && obj.is_key() => {
                return Err(e::role_not_allowed(
                    "the Limited Crypto Officer cannot change or destroy keys",
                ));
            }
            Some(_) => {}
        }
        if obj.is_key() && !self.partition_policy_on(c.serial, POLICY_KEY_MANAGEMENT) {
            return Err(e::restricted(
                "partition policy 28 (Allow Key Management Functions) is off",
            ));
        }
        Ok(())
    }

    /// The object `h` as the caller may see it (`None`: it does not exist for the caller).
    pub(super) fn visible_object(&self, c: &Caller, h: ObjectHandle) -> Option<(&Object, Home)> {
        let (obj, home) = self.tokens.get(&c.serial)?.get(h)?;
        if let Home::Session(_, a) = home
            && a != c.access
        {
            return None;
        }
        obj.is_visible(c.role).then_some((obj, home))
    }

    /// A key argument with its parsed material (`CKR_KEY_HANDLE_INVALID` and its wrapping
    /// variants when the caller cannot see such a key).
    pub(super) fn key(
        &self,
        c: &Caller,
        h: ObjectHandle,
        arg: KeyArg,
    ) -> Result<(&Object, Arc<KeyMaterial>), Error> {
        let invalid = || match arg {
            KeyArg::Key => e::key_handle_invalid("no such key"),
            KeyArg::Wrapping => e::wrapping_key_handle_invalid(),
            KeyArg::Unwrapping => e::unwrapping_key_handle_invalid(),
        };
        let (obj, _) = self.visible_object(c, h).ok_or_else(invalid)?;
        if !obj.is_key() {
            return Err(invalid());
        }
        let k = self.token(c.serial)?.key_material(h, obj)?;
        Ok((obj, k))
    }

    // ----- mechanisms -----

    /// The policies that shape partition `serial`'s mechanisms.
    pub(super) fn mechanism_gate(&self, serial: u64) -> Result<Gate, Error> {
        let record = self.partition(serial)?;
        Ok(Gate {
            non_fips: self.policies.is_on(HSM_POLICY_NON_FIPS),
            raw_rsa: record.policies.is_on(POLICY_RAW_RSA),
        })
    }

    /// The mechanism's info for a function needing `flag` (`CKR_MECHANISM_INVALID` if the
    /// partition does not offer it for that function).
    pub(super) fn mechanism_for(
        &self,
        serial: u64,
        ckm: u64,
        flag: u64,
    ) -> Result<MechanismInfo, Error> {
        let info = effective_info(ckm, self.mechanism_gate(serial)?)
            .filter(|i| i.flags & flag != 0)
            .ok_or_else(|| e::mechanism_invalid(ckm))?;
        Ok(info)
    }

    // ----- metrics -----

    /// Counts a request that reached the module (MO-21), while HSM policy 49 is on.
    pub(super) fn count(&self, serial: u64, bin: Bin) {
        if self.policies.is_on(HSM_POLICY_METRICS) {
            self.counters.count(serial, bin);
        }
    }
}

/// Checks a key's usage attribute and `CKA_ALLOWED_MECHANISMS` for `ckm`.
pub(crate) fn check_usage(obj: &Object, attr: u64, ckm: u64) -> Result<(), Error> {
    if obj.flag(attr) != Some(true) {
        return Err(e::key_function_not_permitted(usage_name(attr)));
    }
    if let Some(list) = obj.value(CKA_ALLOWED_MECHANISMS) {
        let allowed = list
            .chunks_exact(8)
            .filter_map(|c| <[u8; 8]>::try_from(c).ok())
            .any(|c| u64::from_le_bytes(c) == ckm);
        if !allowed {
            return Err(e::mechanism_invalid(ckm));
        }
    }
    Ok(())
}

/// Checks a key's size against the mechanism's range.
pub(crate) fn check_size(key: &KeyMaterial, info: &MechanismInfo) -> Result<(), Error> {
    let n = key.size();
    if n < info.min_key_size || n > info.max_key_size {
        return Err(e::key_size_range());
    }
    Ok(())
}

/// Which half of a key pair a function uses (a secret key serves both).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// Sign, decrypt, unwrap, derive.
    Private,
    /// Verify, encrypt, wrap.
    Public,
}

/// The HMAC key type of a hash (`CKK_SHA256_HMAC`...).
pub(super) fn hmac_key_type(h: crate::mechanism::Hash) -> u64 {
    use crate::mechanism::Hash;
    match h {
        Hash::Sha1 => CKK_SHA_1_HMAC,
        Hash::Sha224 => CKK_SHA224_HMAC,
        Hash::Sha256 => CKK_SHA256_HMAC,
        Hash::Sha384 => CKK_SHA384_HMAC,
        Hash::Sha512 => CKK_SHA512_HMAC,
        Hash::Sha3_224 => CKK_SHA3_224_HMAC,
        Hash::Sha3_256 => CKK_SHA3_256_HMAC,
        Hash::Sha3_384 => CKK_SHA3_384_HMAC,
        Hash::Sha3_512 => CKK_SHA3_512_HMAC,
    }
}

/// Checks a key's class and type against the mechanism (`CKR_KEY_TYPE_INCONSISTENT`).
pub(crate) fn check_key_type(
    mechanism: &crate::mechanism::Mechanism,
    obj: &Object,
    side: Side,
) -> Result<(), Error> {
    use crate::mechanism::Mechanism as M;
    let kt = obj.key_type().unwrap_or(u64::MAX);
    let (types, asymmetric): (&[u64], bool) = match mechanism {
        M::RsaPkcs
        | M::RsaX509
        | M::RsaOaep(_)
        | M::RsaPss(_)
        | M::RsaPkcsHash(_)
        | M::RsaPssHash(..) => (&[CKK_RSA], true),
        M::Ecdsa | M::EcdsaHash(_) => (&[CKK_EC], true),
        M::EdDsa => (&[CKK_EC_EDWARDS], true),
        M::Ecdh1Derive(_) => (&[CKK_EC, CKK_EC_MONTGOMERY], true),
        M::AesEcb
        | M::AesCbc(_)
        | M::AesCbcPad(_)
        | M::AesCtr(_)
        | M::AesGcm(_)
        | M::AesCmac
        | M::AesCmacGeneral(_)
        | M::AesKeyWrap
        | M::AesKeyWrapKwp => (&[CKK_AES], false),
        M::Hmac(h) | M::HmacGeneral(h, _) => {
            let own = hmac_key_type(*h);
            if kt == CKK_GENERIC_SECRET || kt == own {
                (&[kt], false)
            } else {
                (&[], false)
            }
        }
        M::HkdfDerive(_) => (&[CKK_HKDF, CKK_GENERIC_SECRET], false),
        _ => (&[], false),
    };
    let class = match (asymmetric, side) {
        (false, _) => CKO_SECRET_KEY,
        (true, Side::Private) => CKO_PRIVATE_KEY,
        (true, Side::Public) => CKO_PUBLIC_KEY,
    };
    if obj.class() != class || !types.contains(&kt) {
        return Err(e::key_type_inconsistent(format!(
            "the key's class or type does not fit {}",
            mechanism.name()
        )));
    }
    Ok(())
}
