//! The token layer's state: what makes an application partition a PKCS#11 token inside the
//! module. The module's entry points (`module/sessmgmt.rs`, `objmgmt.rs`, `digest.rs`,
//! `signing.rs`, `encryption.rs`, `keymgmt.rs`, `random.rs`) drive these types; see
//! `DESIGN.md` beside this crate for the invariants, the persistence protocol and the lock
//! order.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::{Error, e};
use crate::module::AccessId;
use crate::object::{ObjectHandle, ObjectIndex};

pub(crate) mod keys;
pub(crate) mod metrics;
pub(crate) mod ops;

use keys::KeyMaterial;
use ops::Ops;

/// A PKCS#11 session handle (`CK_SESSION_HANDLE`). Never 0, never reused while the module
/// runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionHandle(pub(crate) u64);

impl SessionHandle {
    /// The handle an application sees.
    pub fn value(self) -> u64 {
        self.0
    }

    /// A handle from an application's value (it may name no session).
    pub fn from_value(v: u64) -> Self {
        Self(v)
    }
}

/// `C_GetSessionInfo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    /// The partition (slot) of the session.
    pub serial: u64,
    /// `CKS_RO_PUBLIC_SESSION`, `CKS_RO_USER_FUNCTIONS`, `CKS_RW_PUBLIC_SESSION`,
    /// `CKS_RW_USER_FUNCTIONS` or `CKS_RW_SO_FUNCTIONS`.
    pub state: u64,
    /// `CKF_SERIAL_SESSION`, plus `CKF_RW_SESSION` for a read/write session.
    pub flags: u64,
}

/// What a call that produces output returns (PKCS#11 v3.0 5.2's convention).
#[non_exhaustive]
#[derive(PartialEq, Eq)]
pub enum Output {
    /// The caller asked for the length only (a NULL output buffer): at most this many bytes
    /// will be produced. The operation stays active.
    Length(usize),
    /// The output. For a single-part call or a final, the operation has ended.
    Data(Vec<u8>),
}

impl Output {
    /// The bytes, if this is [`Output::Data`].
    pub fn into_data(self) -> Option<Vec<u8>> {
        match self {
            Self::Data(d) => Some(d),
            Self::Length(_) => None,
        }
    }
}

/// Lengths only: outputs may be plaintext.
impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Length(n) => write!(f, "Length({n})"),
            Self::Data(d) => write!(f, "Data({} bytes)", d.len()),
        }
    }
}

/// Where an object lives.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Home {
    /// A token object (persisted).
    Token,
    /// A session object of this session (and so of its access).
    Session(SessionHandle, AccessId),
}

/// One partition's token: its objects, its open sessions' objects, and parsed keys.
pub(crate) struct Token {
    /// Token objects; the budget is the partition size and `used` equals the partition
    /// record's `used`.
    pub(crate) objects: ObjectIndex,
    /// Session objects of every open session on the partition (volatile; not counted in the
    /// partition's `used`).
    pub(crate) session_objects: ObjectIndex,
    /// The session that owns each session object.
    pub(crate) owners: HashMap<ObjectHandle, (SessionHandle, AccessId)>,
    /// The next object handle; token and session objects share one handle space.
    next_handle: u64,
    /// Parsed key material by object, dropped when the object is destroyed or changed.
    keys: Mutex<HashMap<ObjectHandle, Arc<KeyMaterial>>>,
}

impl Token {
    /// An empty token whose objects may use `size` bytes.
    pub(crate) fn new(size: u64) -> Self {
        Self {
            objects: ObjectIndex::new(size),
            session_objects: ObjectIndex::new(size),
            owners: HashMap::new(),
            next_handle: 1,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// Empties the token (its objects were destroyed) and gives it `size` bytes. Handles
    /// continue from where they were, so none is ever reused.
    pub(crate) fn clear(&mut self, size: u64) {
        self.objects = ObjectIndex::new(size);
        self.session_objects = ObjectIndex::new(size);
        self.owners.clear();
        if let Ok(cache) = self.keys.get_mut() {
            cache.clear();
        }
    }

    /// A fresh object handle.
    pub(crate) fn next_handle(&mut self) -> Result<ObjectHandle, Error> {
        let h = ObjectHandle::from_value(self.next_handle);
        self.next_handle = self
            .next_handle
            .checked_add(1)
            .ok_or_else(|| e::internal("object handles exhausted"))?;
        Ok(h)
    }

    /// The object `h` and where it lives.
    pub(crate) fn get(&self, h: ObjectHandle) -> Option<(&crate::object::Object, Home)> {
        if let Some(o) = self.objects.get(h) {
            return Some((o, Home::Token));
        }
        let (s, a) = self.owners.get(&h)?;
        self.session_objects
            .get(h)
            .map(|o| (o, Home::Session(*s, *a)))
    }

    /// Whether a `CKA_UNIQUE_ID` is taken by any object of the token.
    pub(crate) fn unique_id_taken(&self, id: &[u8]) -> bool {
        self.objects.contains_unique_id(id) || self.session_objects.contains_unique_id(id)
    }

    fn key_cache(&self) -> Result<MutexGuard<'_, HashMap<ObjectHandle, Arc<KeyMaterial>>>, Error> {
        self.keys
            .lock()
            .map_err(|_| e::internal("the key cache lock is poisoned"))
    }

    /// The cached material of `h`, parsing `obj` on first use.
    pub(crate) fn key_material(
        &self,
        h: ObjectHandle,
        obj: &crate::object::Object,
    ) -> Result<Arc<KeyMaterial>, Error> {
        if let Some(k) = self.key_cache()?.get(&h) {
            return Ok(Arc::clone(k));
        }
        // Parsed outside the lock: an RSA key check takes milliseconds.
        let k = Arc::new(KeyMaterial::from_object(obj)?);
        self.key_cache()?.insert(h, Arc::clone(&k));
        Ok(k)
    }

    /// Caches material the module already holds (a key it generated, unwrapped or checked).
    pub(crate) fn cache_key(&mut self, h: ObjectHandle, k: Arc<KeyMaterial>) {
        if let Ok(cache) = self.keys.get_mut() {
            cache.insert(h, k);
        }
    }

    /// Drops the cached material of `h`.
    pub(crate) fn forget_key(&mut self, h: ObjectHandle) {
        if let Ok(cache) = self.keys.get_mut() {
            cache.remove(&h);
        }
    }

    /// Removes every session object of `session`.
    pub(crate) fn drop_session_objects(&mut self, session: SessionHandle) {
        let mine: Vec<ObjectHandle> = self
            .owners
            .iter()
            .filter(|(_, (s, _))| *s == session)
            .map(|(h, _)| *h)
            .collect();
        for h in mine {
            self.remove_session_object(h);
        }
    }

    /// Removes a session object.
    pub(crate) fn remove_session_object(&mut self, h: ObjectHandle) {
        self.owners.remove(&h);
        self.session_objects.remove(h);
        self.forget_key(h);
    }

    /// Number of parsed keys held (for tests).
    #[cfg(test)]
    #[allow(dead_code, reason = "used by some test builds only")]
    pub(crate) fn cached_keys(&self) -> usize {
        self.keys.lock().map(|c| c.len()).unwrap_or(0)
    }
}

/// An open session.
pub(crate) struct Session {
    /// The access (application connection) that opened it.
    pub(crate) access: AccessId,
    /// Its partition.
    pub(crate) serial: u64,
    /// `CKF_RW_SESSION`.
    pub(crate) rw: bool,
    /// Active operations; locked for one call at a time (crypto runs under this lock only).
    pub(crate) ops: Mutex<Ops>,
}

impl Session {
    /// The session's operations, locked.
    pub(crate) fn ops(&self) -> Result<MutexGuard<'_, Ops>, Error> {
        self.ops
            .lock()
            .map_err(|_| e::internal("a session lock is poisoned"))
    }
}
