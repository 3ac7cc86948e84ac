//! The module as the daemon's tasks share it: a read/write lock, so that the many requests
//! that only use the module (signing, encryption, digests, random, finding and reading
//! objects: the `&self` calls, with their own per-session locks inside the module) run on
//! every core at once, while the calls that change it (`&mut self`: object creation and
//! deletion, logins, administration) take it alone.
//!
//! `lock` is the exclusive side and keeps `Mutex::lock`'s signature, so administrative code
//! reads as before; `read` is the shared side.

use std::sync::{LockResult, RwLock, RwLockReadGuard, RwLockWriteGuard};

use strongroom_module::Module;

/// The shared module.
pub struct SharedModule(RwLock<Module>);

impl std::fmt::Debug for SharedModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedModule")
    }
}

impl SharedModule {
    /// Shares `module`.
    pub fn new(module: Module) -> Self {
        Self(RwLock::new(module))
    }

    /// Exclusive access, for calls that change the module.
    pub fn lock(&self) -> LockResult<RwLockWriteGuard<'_, Module>> {
        self.0.write()
    }

    /// Whether shared access would be granted at once (a snapshot: it may change right after).
    pub fn try_read_now(&self) -> bool {
        self.0.try_read().is_ok()
    }

    /// Shared access, for calls that only use it.
    pub fn read(&self) -> LockResult<RwLockReadGuard<'_, Module>> {
        self.0.read()
    }
}
