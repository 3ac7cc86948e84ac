//! Changing and copying objects: `C_SetAttributeValue` (PKCS#11 v3.0 4.1.2, 5.7.6) and
//! `C_CopyObject` (4.1.3, 5.7.2). Both are all-or-nothing: the new attributes are built and
//! checked on a copy, and replace the old ones only when every check passed.

use cryptoki_sys::{CKA_TRUSTED, CKA_UNIQUE_ID};

use super::attribute::{Attribute, Template};
use super::create::{check_multipurpose, check_role, rule_for, track};
use super::error as oe;
use super::table::{Class, Flags, Profile, Rule};
use super::values::{self, Attrs};
use super::{Object, POLICY_CHANGE_KEY_ATTRIBUTES, Value};
use crate::error::Error;
use crate::module::PartitionRole;
use crate::partition_policy::PartitionPolicies;

/// Which function asks for the change.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Change {
    Set,
    Copy,
}

impl Object {
    /// `C_SetAttributeValue`: applies `template` or changes nothing. `is_so` says whether the
    /// Partition SO asks (footnote 10: only the SO sets `CKA_TRUSTED`).
    pub(crate) fn set_attributes(
        &mut self,
        template: &Template,
        is_so: bool,
        policies: &PartitionPolicies,
    ) -> Result<(), Error> {
        if template.is_empty() {
            return Ok(());
        }
        if !self.is_modifiable() {
            return Err(oe::action_prohibited(
                "CKA_MODIFIABLE is false: the object cannot be changed",
            ));
        }
        let next = self.changed(template, Change::Set, is_so, policies)?;
        *self = next;
        Ok(())
    }

    /// `C_CopyObject`: a new object with this one's attributes changed by `template`, created
    /// by `role`; `unique_id` is the copy's `CKA_UNIQUE_ID`.
    pub(crate) fn copy_with(
        &self,
        template: &Template,
        role: PartitionRole,
        policies: &PartitionPolicies,
        unique_id: String,
    ) -> Result<Object, Error> {
        if !self.is_copyable() {
            return Err(oe::action_prohibited(
                "CKA_COPYABLE is false: the object cannot be copied",
            ));
        }
        let mut copy = self.changed(template, Change::Copy, role == PartitionRole::So, policies)?;
        copy.attrs
            .insert(CKA_UNIQUE_ID, Value(unique_id.into_bytes()));
        check_role(role, &copy)?;
        Ok(copy)
    }

    /// This object with `template` applied, after every check of 4.1.2 / 4.1.3.
    fn changed(
        &self,
        template: &Template,
        change: Change,
        is_so: bool,
        policies: &PartitionPolicies,
    ) -> Result<Object, Error> {
        let profile = self.profile()?;
        let mut next: Attrs = self.attrs_duplicate();
        for a in template.iter() {
            let v = self.check_change(&profile, a, change, is_so, policies)?;
            next.insert(a.attr_type(), Value(v));
        }
        track(&mut next);
        values::check_consistency(&profile, self.subtype, &next)?;
        if profile.class.is_key() {
            check_multipurpose(&next, Some(values::usage_groups(&self.attrs)), policies)?;
        }
        Ok(Object {
            class: self.class,
            subtype: self.subtype,
            attrs: next,
        })
    }

    /// Whether attribute `a` may take its new value; returns the value in canonical form.
    fn check_change(
        &self,
        profile: &Profile,
        a: &Attribute,
        change: Change,
        is_so: bool,
        policies: &PartitionPolicies,
    ) -> Result<Vec<u8>, Error> {
        let rule: &Rule = rule_for(profile, a.attr_type())?;
        let ty = rule.ty;
        if rule.flags.has(Flags::CONTRIBUTED_ONLY) {
            return Err(oe::type_unsupported_here(ty));
        }
        // CKA_UNIQUE_ID and the other computed attributes: "any attempt to modify ... or to
        // specify the value ... in the template for an operation that creates [objects] MUST
        // fail" (4.4.1), whatever the value.
        if rule.flags.has(Flags::COMPUTED) {
            return Err(oe::read_only(ty, "set by the module only"));
        }
        let v = values::canonical(rule, a.value())?;
        values::check_single(profile, self.subtype, ty, &v)?;
        let old = self.value(ty);
        if old == Some(v.as_slice()) {
            return Ok(v);
        }
        if profile.class == Class::Certificate
            && self.flag(CKA_TRUSTED) == Some(true)
            && !(ty == CKA_TRUSTED && is_so)
        {
            return Err(oe::read_only(
                ty,
                "a trusted certificate cannot be modified",
            ));
        }
        let copy_special = change == Change::Copy && rule.flags.has(Flags::CHANGE_ON_COPY);
        if profile.class.is_key() && !copy_special && !policies.is_on(POLICY_CHANGE_KEY_ATTRIBUTES)
        {
            return Err(oe::key_attributes_frozen(ty));
        }
        if rule.flags.has(Flags::SO_SETS_TRUE) {
            return if is_so {
                Ok(v)
            } else {
                Err(oe::read_only(ty, "only the SO may change it"))
            };
        }
        if !(rule.flags.has(Flags::MODIFIABLE) || copy_special) {
            return Err(oe::read_only(
                ty,
                "cannot change after the object is created",
            ));
        }
        let was = old.and_then(super::attribute::decode_bool);
        let now = super::attribute::decode_bool(&v);
        if rule.flags.has(Flags::LOCKED_WHEN_TRUE) && was == Some(true) && now == Some(false) {
            return Err(oe::read_only(ty, "cannot change once true"));
        }
        if rule.flags.has(Flags::LOCKED_WHEN_FALSE) && was == Some(false) && now == Some(true) {
            return Err(oe::read_only(ty, "cannot change once false"));
        }
        Ok(v)
    }
}
