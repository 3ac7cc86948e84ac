//! Session management (PKCS#11 v3.0 5.6): `C_OpenSession`, `C_CloseSession`,
//! `C_CloseAllSessions`, `C_GetSessionInfo`.
//!
//! A session belongs to one access (an application connection) and one partition. The login
//! state is the access's (`roles.rs`), shared by all its sessions on the partition, as
//! PKCS#11's is per application. Closing a session destroys its session objects and ends its
//! operations; closing the access closes its sessions.

use std::sync::Mutex;

use cryptoki_sys::{
    CKF_RW_SESSION, CKF_SERIAL_SESSION, CKS_RO_PUBLIC_SESSION, CKS_RO_USER_FUNCTIONS,
    CKS_RW_PUBLIC_SESSION, CKS_RW_SO_FUNCTIONS, CKS_RW_USER_FUNCTIONS,
};

use super::tokens::MAX_SESSIONS;
use super::{AccessId, Module, Op, PartitionRole};
use crate::error::{Error, e};
use crate::token::ops::Ops;
use crate::token::{Session, SessionHandle, SessionInfo};

impl Module {
    /// `C_OpenSession` on partition `serial`. A read-only session cannot be opened while the
    /// access has the Partition SO logged in on the partition
    /// (`CKR_SESSION_READ_WRITE_SO_EXISTS`).
    pub(super) fn open_session_inner(
        &mut self,
        access: AccessId,
        serial: u64,
        read_write: bool,
    ) -> Result<SessionHandle, Error> {
        self.gate(Op::Session)?;
        if !self.accesses.contains_key(&access) {
            return Err(e::arguments_bad("unknown access"));
        }
        self.partition(serial)?;
        if !read_write && self.partition_login(access, serial) == Some(PartitionRole::So) {
            return Err(e::session_read_write_so_exists());
        }
        if self.sessions.len() >= MAX_SESSIONS {
            return Err(e::session_count());
        }
        let h = self.next_session;
        self.next_session = h
            .checked_add(1)
            .ok_or_else(|| e::internal("session handles exhausted"))?;
        self.sessions.insert(
            h,
            Session {
                access,
                serial,
                rw: read_write,
                ops: Mutex::new(Ops::default()),
            },
        );
        Ok(SessionHandle(h))
    }

    /// `C_CloseSession`: its session objects are destroyed and its operations end.
    pub(super) fn close_session_inner(
        &mut self,
        access: AccessId,
        session: SessionHandle,
    ) -> Result<(), Error> {
        if self
            .sessions
            .get(&session.0)
            .is_none_or(|s| s.access != access)
        {
            return Err(e::session_handle_invalid());
        }
        if let Some(s) = self.sessions.remove(&session.0) {
            if let Some(t) = self.tokens.get_mut(&s.serial) {
                t.drop_session_objects(session);
            }
            self.logout_after_last_session(access, s.serial);
        }
        Ok(())
    }

    /// PKCS#11 v3.0 5.6 (`C_CloseSession`): when the application's last session with the
    /// token closes, its login state returns to public.
    fn logout_after_last_session(&mut self, access: AccessId, serial: u64) {
        if !self
            .sessions
            .values()
            .any(|s| s.access == access && s.serial == serial)
        {
            self.logout_partition_access(access, serial);
        }
    }

    /// `C_CloseAllSessions`: every session of `access` on partition `serial`.
    pub(super) fn close_all_sessions_inner(
        &mut self,
        access: AccessId,
        serial: u64,
    ) -> Result<(), Error> {
        self.partition(serial)?;
        self.sessions_close_where(|s| s.access == access && s.serial == serial);
        self.logout_after_last_session(access, serial);
        Ok(())
    }

    /// How many sessions the accesses `ids` hold together, on any partition. The appliance
    /// caps what one registered client (all of its connections) may hold with it.
    pub fn sessions_held_by(&self, ids: &[AccessId]) -> usize {
        self.sessions
            .values()
            .filter(|s| ids.contains(&s.access))
            .count()
    }

    /// The sessions open on partition `serial` by every caller: `(all, read-write)`.
    pub fn partition_session_counts(&self, serial: u64) -> (usize, usize) {
        self.sessions
            .values()
            .filter(|s| s.serial == serial)
            .fold((0, 0), |(all, rw), s| (all + 1, rw + usize::from(s.rw)))
    }

    /// `C_GetSessionInfo`: the session's state follows the access's login on the partition.
    pub fn session_info(
        &self,
        access: AccessId,
        session: SessionHandle,
    ) -> Result<SessionInfo, Error> {
        let s = self
            .sessions
            .get(&session.0)
            .filter(|s| s.access == access)
            .ok_or_else(e::session_handle_invalid)?;
        let role = self.partition_login(access, s.serial);
        let state = match (s.rw, role) {
            (false, None) => CKS_RO_PUBLIC_SESSION,
            (false, Some(_)) => CKS_RO_USER_FUNCTIONS,
            (true, None) => CKS_RW_PUBLIC_SESSION,
            (true, Some(PartitionRole::So)) => CKS_RW_SO_FUNCTIONS,
            (true, Some(_)) => CKS_RW_USER_FUNCTIONS,
        };
        let flags = CKF_SERIAL_SESSION | if s.rw { CKF_RW_SESSION } else { 0 };
        Ok(SessionInfo {
            serial: s.serial,
            state,
            flags,
        })
    }
}
