//! The audited entry points of the token layer: each calls its implementation and records the
//! outcome in its audit category when the Auditor's filter selects it (AU-13). With nothing
//! selected, each costs one test of the filter mask.

use super::{AccessId, Module, PartitionInitRequest, PartitionRole, PreparedKeyPair};
use crate::audit::{AuditCategory as C, AuditOp as O};
use crate::credential::Secret;
use crate::error::Error;
use crate::mechanism::Mechanism;
use crate::object::{ObjectHandle, Template};
use crate::partition_policy::PartitionPolicyChange;
use crate::token::{Output, SessionHandle};

fn handle_of(r: &Result<ObjectHandle, Error>) -> u64 {
    r.as_ref().map_or(0, |h| h.value())
}

impl Module {
    // ----- sessions (PKCS#11 v3.0 5.6) -----

    /// `C_OpenSession` on partition `serial`. A read-only session cannot be opened while the
    /// access has the Partition SO logged in on the partition
    /// (`CKR_SESSION_READ_WRITE_SO_EXISTS`).
    pub fn open_session(
        &mut self,
        access: AccessId,
        serial: u64,
        read_write: bool,
    ) -> Result<SessionHandle, Error> {
        let r = self.open_session_inner(access, serial, read_write);
        let h = r.as_ref().map_or(SessionHandle(0), |h| *h);
        self.audited_proceed(C::Access, O::OpenSession, r, |ev| {
            self.fill_session(ev, access, h, Some(serial), 0);
            ev.detail = format!("session handle {}", h.0);
        })
    }

    /// `C_CloseSession`: its session objects are destroyed and its operations end.
    pub fn close_session(&mut self, access: AccessId, session: SessionHandle) -> Result<(), Error> {
        let serial = self.sessions.get(&session.0).map(|s| s.serial);
        let r = self.close_session_inner(access, session);
        self.audited_proceed(C::Access, O::CloseSession, r, |ev| {
            self.fill_session(ev, access, session, serial, 0);
            ev.detail = format!("session handle {}", session.0);
        })
    }

    /// `C_CloseAllSessions`: every session of `access` on partition `serial`.
    pub fn close_all_sessions(&mut self, access: AccessId, serial: u64) -> Result<(), Error> {
        let r = self.close_all_sessions_inner(access, serial);
        self.audited_role(
            C::Access,
            O::CloseAllSessions,
            access,
            serial,
            None,
            r,
            true,
        )
    }

    // ----- objects (5.7) -----

    /// `C_CreateObject`. A key's material is checked by parsing it; a secret key's
    /// `CKA_CHECK_VALUE`, if given, must match the key.
    pub fn create_object(
        &mut self,
        access: AccessId,
        session: SessionHandle,
        template: &Template,
    ) -> Result<ObjectHandle, Error> {
        let r = self.create_object_inner(access, session, template);
        let h = handle_of(&r);
        self.audited_session(C::KeyManagement, O::CreateObject, access, session, h, r)
    }

    /// `C_CopyObject`: the copy may be a token or a session object, whatever the original.
    pub fn copy_object(
        &mut self,
        access: AccessId,
        session: SessionHandle,
        object: ObjectHandle,
        template: &Template,
    ) -> Result<ObjectHandle, Error> {
        let r = self.copy_object_inner(access, session, object, template);
        let h = handle_of(&r);
        self.audited_session(C::KeyManagement, O::CopyObject, access, session, h, r)
    }

    /// `C_DestroyObject`. A token object's record is deleted durably first.
    pub fn destroy_object(
        &mut self,
        access: AccessId,
        session: SessionHandle,
        object: ObjectHandle,
    ) -> Result<(), Error> {
        let r = self.destroy_object_inner(access, session, object);
        let h = object.value();
        self.audited_session(C::KeyManagement, O::DestroyObject, access, session, h, r)
    }

    /// `C_SetAttributeValue`: all or nothing; a token object's new state is written first.
    pub fn set_attribute_value(
        &mut self,
        access: AccessId,
        session: SessionHandle,
        object: ObjectHandle,
        template: &Template,
    ) -> Result<(), Error> {
        let r = self.set_attribute_value_inner(access, session, object, template);
        let h = object.value();
        self.audited_session(C::Access, O::ModifyObject, access, session, h, r)
    }

    // ----- key management (5.18) -----

    /// `C_GenerateKey`.
    pub fn generate_key(
        &mut self,
        access: AccessId,
        session: SessionHandle,
        mechanism: &Mechanism,
        template: &Template,
    ) -> Result<ObjectHandle, Error> {
        let r = self.generate_key_inner(access, session, mechanism, template);
        let h = handle_of(&r);
        self.audited_session(C::KeyManagement, O::GenerateKey, access, session, h, r)
    }

    /// The second half of `C_GenerateKeyPair`: stores the pair prepared by
    /// [`Module::generate_key_pair_prepare`].
    pub fn generate_key_pair_commit(
        &mut self,
        access: AccessId,
        session: SessionHandle,
        prepared: PreparedKeyPair,
        public_template: &Template,
        private_template: &Template,
    ) -> Result<(ObjectHandle, ObjectHandle), Error> {
        let r = self.generate_key_pair_commit_inner(
            access,
            session,
            prepared,
            public_template,
            private_template,
        );
        let h = r.as_ref().map_or(0, |(_, private)| private.value());
        self.audited_session(C::KeyManagement, O::GenerateKeyPair, access, session, h, r)
    }

    /// `C_WrapKey`: `capacity` is the caller's buffer (`None`: length query).
    #[allow(clippy::too_many_arguments)]
    pub fn wrap_key(
        &self,
        access: AccessId,
        session: SessionHandle,
        mechanism: &Mechanism,
        wrapping_key: ObjectHandle,
        key: ObjectHandle,
        capacity: Option<usize>,
    ) -> Result<Output, Error> {
        let r = self.wrap_key_inner(access, session, mechanism, wrapping_key, key, capacity);
        let h = key.value();
        self.audited_session(C::KeyManagement, O::WrapKey, access, session, h, r)
    }

    /// `C_UnwrapKey`.
    pub fn unwrap_key(
        &mut self,
        access: AccessId,
        session: SessionHandle,
        mechanism: &Mechanism,
        unwrapping_key: ObjectHandle,
        wrapped: &[u8],
        template: &Template,
    ) -> Result<ObjectHandle, Error> {
        let r = self.unwrap_key_inner(
            access,
            session,
            mechanism,
            unwrapping_key,
            wrapped,
            template,
        );
        let h = handle_of(&r);
        self.audited_session(C::KeyManagement, O::UnwrapKey, access, session, h, r)
    }

    /// `C_DeriveKey`.
    pub fn derive_key(
        &mut self,
        access: AccessId,
        session: SessionHandle,
        mechanism: &Mechanism,
        base_key: ObjectHandle,
        template: &Template,
    ) -> Result<ObjectHandle, Error> {
        let r = self.derive_key_inner(access, session, mechanism, base_key, template);
        let h = handle_of(&r);
        self.audited_session(C::KeyManagement, O::DeriveKey, access, session, h, r)
    }

    // ----- random numbers (5.19) -----

    /// `C_SeedRandom`: mixes caller data into the DRBG (recorded as HSM management, AU-15).
    pub fn seed_random(
        &self,
        access: AccessId,
        session: SessionHandle,
        seed: &[u8],
    ) -> Result<(), Error> {
        let r = self.seed_random_inner(access, session, seed);
        self.audited_session(C::Management, O::SeedRandom, access, session, 0, r)
    }

    /// `C_GenerateRandom`: at most [`super::MAX_RANDOM_LEN`] bytes per call.
    pub fn generate_random(
        &self,
        access: AccessId,
        session: SessionHandle,
        len: usize,
    ) -> Result<Vec<u8>, Error> {
        let r = self.generate_random_inner(access, session, len);
        self.audited_session(C::KeyManagement, O::GetRandom, access, session, 0, r)
    }

    // ----- key usage (5.13 - 5.16) -----

    /// `C_SignInit`.
    pub fn sign_init(
        &self,
        access: AccessId,
        session: SessionHandle,
        mechanism: &Mechanism,
        key: ObjectHandle,
    ) -> Result<(), Error> {
        let r = self.sign_init_inner(access, session, mechanism, key);
        self.audited_key_use(access, session, O::SignInit, mechanism, key, r)
    }

    /// `C_VerifyInit`.
    pub fn verify_init(
        &self,
        access: AccessId,
        session: SessionHandle,
        mechanism: &Mechanism,
        key: ObjectHandle,
    ) -> Result<(), Error> {
        let r = self.verify_init_inner(access, session, mechanism, key);
        self.audited_key_use(access, session, O::VerifyInit, mechanism, key, r)
    }

    /// `C_EncryptInit`.
    pub fn encrypt_init(
        &self,
        access: AccessId,
        session: SessionHandle,
        mechanism: &Mechanism,
        key: ObjectHandle,
    ) -> Result<(), Error> {
        let r = self.encrypt_init_inner(access, session, mechanism, key);
        self.audited_key_use(access, session, O::EncryptInit, mechanism, key, r)
    }

    /// `C_DecryptInit`.
    pub fn decrypt_init(
        &self,
        access: AccessId,
        session: SessionHandle,
        mechanism: &Mechanism,
        key: ObjectHandle,
    ) -> Result<(), Error> {
        let r = self.decrypt_init_inner(access, session, mechanism, key);
        self.audited_key_use(access, session, O::DecryptInit, mechanism, key, r)
    }

    // ----- partition roles -----

    /// `role login` / `C_Login`. A wrong password counts toward the role's limit: the Crypto
    /// Officer, Limited Crypto Officer and Crypto User lock at partition policy 20 failures;
    /// the Partition SO's tenth failure zeroizes the partition. A role whose credential must
    /// be changed logs in, but can then only change it.
    pub fn role_login(
        &mut self,
        id: AccessId,
        serial: u64,
        role: PartitionRole,
        password: &Secret,
    ) -> Result<(), Error> {
        let r = self.role_login_inner(id, serial, role, password);
        self.audited_role(C::Access, O::Login, id, serial, Some(role), r, true)
    }

    /// `role logout` / `C_Logout`: the access's private session objects on the partition
    /// are destroyed and its sessions' active operations end.
    pub fn role_logout(&mut self, id: AccessId, serial: u64) -> Result<(), Error> {
        let role = self.partition_login(id, serial);
        let r = self.role_logout_inner(id, serial);
        self.audited_role(C::Access, O::Logout, id, serial, role, r, true)
    }

    /// `partition init` (PA-20, LC-26): on a new partition it sets the label, the Partition
    /// SO and the cloning domain; on an initialized one it needs the current Partition SO
    /// password and destroys every role and object first.
    pub fn partition_init(
        &mut self,
        id: AccessId,
        serial: u64,
        req: PartitionInitRequest,
    ) -> Result<(), Error> {
        let r = self.partition_init_inner(id, serial, req);
        let so = Some(PartitionRole::So);
        self.audited_role(C::Management, O::PartitionInit, id, serial, so, r, false)
    }

    /// `role init` / `C_InitPIN`: the Partition SO creates the Crypto Officer and the Limited
    /// Crypto Officer; the Crypto Officer creates the Crypto User.
    pub fn role_init(
        &mut self,
        id: AccessId,
        serial: u64,
        role: PartitionRole,
        password: &Secret,
    ) -> Result<(), Error> {
        let r = self.role_init_inner(id, serial, role, password);
        self.audited_role(C::Management, O::InitPin, id, serial, Some(role), r, false)
    }

    /// `role resetpw`: the parent role sets a new credential, unlocking the role (RA-26).
    pub fn role_reset(
        &mut self,
        id: AccessId,
        serial: u64,
        role: PartitionRole,
        password: &Secret,
    ) -> Result<(), Error> {
        let r = self.role_reset_inner(id, serial, role, password);
        self.audited_role(C::Management, O::InitPin, id, serial, Some(role), r, false)
    }

    /// `role changepw` / `C_SetPIN`: the logged-in role replaces its own credential.
    pub fn role_change_password(
        &mut self,
        id: AccessId,
        serial: u64,
        old: &Secret,
        new: &Secret,
    ) -> Result<(), Error> {
        let role = self.partition_login(id, serial);
        let r = self.role_change_password_inner(id, serial, old, new);
        self.audited_role(C::Management, O::SetPin, id, serial, role, r, false)
    }

    /// `partition changepolicy` by the Partition SO.
    pub fn partition_change_policy(
        &mut self,
        id: AccessId,
        serial: u64,
        policy_id: u8,
        value: u32,
    ) -> Result<PartitionPolicyChange, Error> {
        let r = self.partition_change_policy_inner(id, serial, policy_id, value);
        let so = Some(PartitionRole::So);
        self.audited_role(
            C::Management,
            O::SetContainerPolicy,
            id,
            serial,
            so,
            r,
            false,
        )
    }
}
