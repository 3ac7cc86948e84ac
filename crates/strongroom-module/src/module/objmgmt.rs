//! Object management (PKCS#11 v3.0 5.7): `C_CreateObject`, `C_CopyObject`,
//! `C_DestroyObject`, `C_GetObjectSize`, `C_GetAttributeValue`, `C_SetAttributeValue`,
//! `C_FindObjectsInit`, `C_FindObjects`, `C_FindObjectsFinal`.
//!
//! The object engine (`crate::object`) decides what a template may do; this file adds the
//! session (read-only sessions, session objects), the role matrix (`tokens.rs`) and the
//! persistence of token objects: each change is one durable transaction with the partition's
//! accounting, written before memory changes and before the call answers.

use std::sync::Arc;

use cryptoki_sys::{CKA_CHECK_VALUE, CKA_VALUE, CKO_SECRET_KEY};

use super::tokens::{Caller, ObjAct};
use super::{AccessId, Module};
use crate::error::{Error, e};
use crate::object::{AttrResult, CreationMethod, Object, ObjectHandle, Template};
use crate::token::keys::{self, KeyMaterial};
use crate::token::ops::FindState;
use crate::token::{Home, SessionHandle};

impl Module {
    /// The object `h` for an object function (`CKR_OBJECT_HANDLE_INVALID` if the caller cannot
    /// see it).
    fn object(&self, c: &Caller, h: ObjectHandle) -> Result<(&Object, Home), Error> {
        self.visible_object(c, h)
            .ok_or_else(crate::object::error::handle_invalid)
    }

    /// `C_CreateObject`. A key's material is checked by parsing it; a secret key's
    /// `CKA_CHECK_VALUE`, if given, must match the key.
    pub(super) fn create_object_inner(
        &mut self,
        access: AccessId,
        session: SessionHandle,
        template: &Template,
    ) -> Result<ObjectHandle, Error> {
        let c = self.caller(access, session)?;
        let policies = self.partition(c.serial)?.policies.clone();
        let uid = self.new_unique_id(c.serial)?;
        let obj = Object::from_template(
            template,
            CreationMethod::Create,
            c.engine_role(),
            &policies,
            uid,
        )?;
        self.permit_object(&c, &obj, ObjAct::Create)?;
        let key = if obj.is_key() {
            Some(Arc::new(KeyMaterial::from_object(&obj)?))
        } else {
            None
        };
        if obj.class() == CKO_SECRET_KEY
            && let Some(given) = template.find(CKA_CHECK_VALUE).map(|a| a.value())
            && !given.is_empty()
        {
            let kt = obj.key_type().unwrap_or(0);
            let value = obj.value(CKA_VALUE).unwrap_or_default();
            if keys::check_value(kt, value).as_deref() != Some(given) {
                return Err(e::attribute_value_invalid(
                    CKA_CHECK_VALUE,
                    "does not match the key's check value",
                ));
            }
        }
        let handles = self.add_objects(&c, vec![(obj, key)])?;
        handles
            .first()
            .copied()
            .ok_or_else(|| e::internal("no handle for a new object"))
    }

    /// `C_CopyObject`: the copy may be a token or a session object, whatever the original.
    pub(super) fn copy_object_inner(
        &mut self,
        access: AccessId,
        session: SessionHandle,
        object: ObjectHandle,
        template: &Template,
    ) -> Result<ObjectHandle, Error> {
        let c = self.caller(access, session)?;
        let policies = self.partition(c.serial)?.policies.clone();
        let uid = self.new_unique_id(c.serial)?;
        let (src, _) = self.object(&c, object)?;
        let copy = src.copy_with(template, c.engine_role(), &policies, uid)?;
        self.permit_object(&c, &copy, ObjAct::Create)?;
        let key = if copy.is_key() {
            Some(self.token(c.serial)?.key_material(object, src)?)
        } else {
            None
        };
        let handles = self.add_objects(&c, vec![(copy, key)])?;
        handles
            .first()
            .copied()
            .ok_or_else(|| e::internal("no handle for a new object"))
    }

    /// `C_DestroyObject`. A token object's record is deleted durably first.
    pub(super) fn destroy_object_inner(
        &mut self,
        access: AccessId,
        session: SessionHandle,
        object: ObjectHandle,
    ) -> Result<(), Error> {
        let c = self.caller(access, session)?;
        let (obj, home) = self.object(&c, object)?;
        self.permit_object(&c, obj, ObjAct::Destroy)?;
        obj.check_destroyable()?;
        match home {
            Home::Token => {
                let uid = obj.unique_id().to_vec();
                let token = self.token(c.serial)?;
                let size = token.objects.size_of(object).unwrap_or(0);
                let used = token.objects.used().saturating_sub(size);
                let count = token.objects.len().saturating_sub(1);
                self.persist(c.serial, &[], &[&uid], used, count)?;
                let token = self.token_mut(c.serial)?;
                token.objects.remove(object);
                token.forget_key(object);
            }
            Home::Session(..) => self.token_mut(c.serial)?.remove_session_object(object),
        }
        Ok(())
    }

    /// `C_GetObjectSize`: the bytes the object counts against its partition (token objects)
    /// or the session memory (session objects).
    pub fn object_size(
        &self,
        access: AccessId,
        session: SessionHandle,
        object: ObjectHandle,
    ) -> Result<u64, Error> {
        let c = self.caller(access, session)?;
        let (obj, _) = self.object(&c, object)?;
        Ok(obj.stored_size())
    }

    /// `C_GetAttributeValue`: one outcome per requested type; the call's return value is
    /// [`AttrResult::overall`] of them.
    pub fn get_attribute_value(
        &self,
        access: AccessId,
        session: SessionHandle,
        object: ObjectHandle,
        types: &[u64],
    ) -> Result<Vec<AttrResult>, Error> {
        let c = self.caller(access, session)?;
        let (obj, _) = self.object(&c, object)?;
        obj.get_attributes(types, c.role)
    }

    /// `C_SetAttributeValue`: all or nothing; a token object's new state is written first.
    pub(super) fn set_attribute_value_inner(
        &mut self,
        access: AccessId,
        session: SessionHandle,
        object: ObjectHandle,
        template: &Template,
    ) -> Result<(), Error> {
        let c = self.caller(access, session)?;
        let policies = self.partition(c.serial)?.policies.clone();
        let (obj, home) = self.object(&c, object)?;
        self.permit_object(&c, obj, ObjAct::Modify)?;
        match home {
            Home::Token => {
                let token = self.token(c.serial)?;
                let changed =
                    token
                        .objects
                        .prepare_set_attributes(object, template, c.is_so(), &policies)?;
                let old = token.objects.size_of(object).unwrap_or(0);
                let used = token
                    .objects
                    .used()
                    .saturating_sub(old)
                    .saturating_add(changed.stored_size());
                let count = token.objects.len();
                self.persist(c.serial, &[&changed], &[], used, count)?;
                let token = self.token_mut(c.serial)?;
                token.objects.replace(object, changed)?;
                token.forget_key(object);
            }
            Home::Session(..) => {
                let token = self.token_mut(c.serial)?;
                token
                    .session_objects
                    .set_attributes(object, template, c.is_so(), &policies)?;
                token.forget_key(object);
            }
        }
        Ok(())
    }

    /// `C_FindObjectsInit`: the matches are taken now, through the indexes (see
    /// `object/index.rs`): token objects, and the access's own session objects, that the
    /// caller may see.
    pub fn find_objects_init(
        &self,
        access: AccessId,
        session: SessionHandle,
        template: &Template,
    ) -> Result<(), Error> {
        let c = self.caller(access, session)?;
        let mut ops = self.session_of(&c)?.ops()?;
        if ops.find.is_some() {
            return Err(e::operation_active());
        }
        let token = self.token(c.serial)?;
        let mut handles = token.objects.find(template, c.role);
        handles.extend(
            token
                .session_objects
                .find(template, c.role)
                .into_iter()
                .filter(|h| token.owners.get(h).is_some_and(|(_, a)| *a == c.access)),
        );
        handles.sort_unstable();
        ops.find = Some(FindState { handles, next: 0 });
        Ok(())
    }

    /// `C_FindObjects`: up to `max` more handles (fewer at the end; none once exhausted).
    /// Objects destroyed since the search started are skipped.
    pub fn find_objects(
        &self,
        access: AccessId,
        session: SessionHandle,
        max: usize,
    ) -> Result<Vec<ObjectHandle>, Error> {
        let c = self.caller(access, session)?;
        let mut ops = self.session_of(&c)?.ops()?;
        let find = ops.find.as_mut().ok_or_else(e::operation_not_initialized)?;
        let mut out = Vec::new();
        while out.len() < max {
            let Some(h) = find.handles.get(find.next).copied() else {
                break;
            };
            find.next += 1;
            if self.visible_object(&c, h).is_some() {
                out.push(h);
            }
        }
        Ok(out)
    }

    /// `C_FindObjectsFinal`.
    pub fn find_objects_final(
        &self,
        access: AccessId,
        session: SessionHandle,
    ) -> Result<(), Error> {
        let c = self.caller(access, session)?;
        let mut ops = self.session_of(&c)?.ops()?;
        ops.find
            .take()
            .map(|_| ())
            .ok_or_else(e::operation_not_initialized)
    }
}
