//! Object creation: `C_CreateObject`, and the objects `C_GenerateKey(Pair)`, `C_UnwrapKey` and
//! `C_DeriveKey` make (PKCS#11 v3.0 section 4.1.1).
//!
//! Order of checks, so that each refusal has one deterministic code (the specification lets
//! the token choose when several apply):
//! 1. class and key/certificate type (from the template or the creating function);
//! 2. each template attribute in the caller's order: unsupported type, wrong class, read-only
//!    for this method, encoding and range;
//! 3. attributes the method requires in the template (footnotes 1, 3, 5);
//! 4. the creating function's attributes merged in (a conflict is inconsistent);
//! 5. every attribute the class requires present; defaults; computed attributes;
//! 6. cross-attribute rules, partition policy 10, and the role's right to a private object.

use cryptoki_sys::{
    CK_UNAVAILABLE_INFORMATION, CKA_ALWAYS_SENSITIVE, CKA_CHECK_VALUE, CKA_CLASS, CKA_EXTRACTABLE,
    CKA_KEY_GEN_MECHANISM, CKA_LOCAL, CKA_MODULUS, CKA_MODULUS_BITS, CKA_NEVER_EXTRACTABLE,
    CKA_SENSITIVE, CKA_UNIQUE_ID, CKA_VALUE, CKA_VALUE_LEN,
};

use super::attribute::{Attribute, Template};
use super::error as oe;
use super::table::{self, Class, Flags, Initial, NoProfile, Profile, Rule};
use super::values::{self, Attrs};
use super::{Object, POLICY_MULTIPURPOSE_KEYS, Value};
use crate::error::Error;
use crate::module::PartitionRole;
use crate::partition_policy::PartitionPolicies;

static NO_ATTRIBUTES: Template = Template::EMPTY;

/// How an object comes to exist, with the attributes the creating function contributes (key
/// material from a mechanism, `CKA_CLASS` and `CKA_KEY_TYPE` it implies, a check value it
/// computed). Contributed attributes are trusted: the footnotes that forbid an attribute in
/// the application's template do not apply to them.
pub(crate) enum CreationMethod<'a> {
    /// `C_CreateObject`: everything comes from the template.
    Create,
    /// `C_GenerateKey` or one half of `C_GenerateKeyPair`.
    Generate {
        /// The key-generation mechanism (`CKA_KEY_GEN_MECHANISM`).
        mechanism: u64,
        /// What the mechanism produced.
        material: &'a Template,
    },
    /// `C_UnwrapKey`.
    Unwrap {
        /// The unwrapped key material.
        material: &'a Template,
    },
    /// `C_DeriveKey`.
    Derive {
        /// The derived key material.
        material: &'a Template,
        /// The base key's `CKA_ALWAYS_SENSITIVE`.
        base_always_sensitive: bool,
        /// The base key's `CKA_NEVER_EXTRACTABLE`.
        base_never_extractable: bool,
    },
}

impl CreationMethod<'_> {
    fn material(&self) -> &Template {
        match self {
            Self::Create => &NO_ATTRIBUTES,
            Self::Generate { material, .. }
            | Self::Unwrap { material }
            | Self::Derive { material, .. } => material,
        }
    }

    /// Whether the template must give `rule`'s attribute (footnotes 1, 3, 5).
    fn requires(&self, rule: &Rule) -> bool {
        let flag = match self {
            Self::Create => Flags::REQUIRED_ON_CREATE,
            Self::Generate { .. } => Flags::REQUIRED_ON_GENERATE,
            Self::Unwrap { .. } => Flags::REQUIRED_ON_UNWRAP,
            Self::Derive { .. } => return false,
        };
        rule.flags.has(flag)
    }

    /// Whether the template must not give `rule`'s attribute (footnotes 2, 4, 6).
    fn forbids(&self, rule: &Rule) -> bool {
        let flag = match self {
            Self::Create => Flags::FORBIDDEN_ON_CREATE,
            Self::Generate { .. } | Self::Derive { .. } => Flags::FORBIDDEN_ON_GENERATE,
            Self::Unwrap { .. } => Flags::FORBIDDEN_ON_UNWRAP,
        };
        rule.flags.has(flag) || rule.flags.has(Flags::COMPUTED)
    }

    /// Whether this method can make objects of `class`.
    fn makes(&self, class: Class) -> bool {
        match self {
            Self::Create => true,
            Self::Generate { .. } => class.is_key(),
            Self::Unwrap { .. } => matches!(class, Class::PrivateKey | Class::SecretKey),
            Self::Derive { .. } => class == Class::SecretKey,
        }
    }

    /// `CKA_ALWAYS_SENSITIVE` and `CKA_NEVER_EXTRACTABLE` of a new key with these values of
    /// `CKA_SENSITIVE` and `CKA_EXTRACTABLE`: only generated keys, and derived keys of such
    /// keys, can have been protected all along.
    fn tracking(&self, sensitive: bool, extractable: bool) -> (bool, bool) {
        match self {
            Self::Generate { .. } => (sensitive, !extractable),
            Self::Derive {
                base_always_sensitive,
                base_never_extractable,
                ..
            } => (
                *base_always_sensitive && sensitive,
                *base_never_extractable && !extractable,
            ),
            Self::Create | Self::Unwrap { .. } => (false, false),
        }
    }
}

/// A `CK_ULONG` taken from the template, or else from the creating function; both must agree.
fn pick_ulong(template: &Template, material: &Template, ty: u64) -> Result<u64, Error> {
    let decode = |a: &Attribute| {
        a.as_ulong()
            .ok_or_else(|| oe::value_invalid(ty, "a CK_ULONG is 8 bytes, little endian"))
    };
    let given = template.find(ty).map(decode).transpose()?;
    let implied = material.find(ty).map(decode).transpose()?;
    match (given, implied) {
        (Some(g), Some(i)) if g != i => Err(oe::inconsistent(
            ty,
            "differs from what the creating function implies",
        )),
        (Some(v), _) | (None, Some(v)) => Ok(v),
        (None, None) => Err(oe::incomplete(ty)),
    }
}

/// The rule for a template attribute: unknown types are invalid, types of another class are
/// inconsistent (4.1.1 rules 1 and 5).
pub(super) fn rule_for(profile: &Profile, ty: u64) -> Result<&'static Rule, Error> {
    match profile.rule(ty) {
        Some(rule) => Ok(rule),
        None if table::is_known(ty) => Err(oe::inconsistent(
            ty,
            "not an attribute of this object's class or key type",
        )),
        None => Err(oe::type_invalid(ty)),
    }
}

/// The profile of a class and subtype, or the code for why there is none.
pub(super) fn profile_for(class: u64, subtype: u64) -> Result<Profile, Error> {
    Profile::new(class, subtype).map_err(|why| {
        let sub = Profile::subtype_attr(class).unwrap_or(CKA_CLASS);
        match why {
            NoProfile::UnknownClass => {
                oe::value_invalid(CKA_CLASS, "not a class this module stores")
            }
            NoProfile::UnknownSubtype => oe::value_invalid(sub, "not a type this module supports"),
            NoProfile::WrongClass => oe::inconsistent(sub, "this key type has no such class"),
        }
    })
}

/// RA-23: only the Crypto Officer and Limited Crypto Officer create private objects.
pub(super) fn check_role(role: PartitionRole, obj: &Object) -> Result<(), Error> {
    let may_create_private = matches!(
        role,
        PartitionRole::CryptoOfficer | PartitionRole::LimitedCryptoOfficer
    );
    if obj.is_private() && !may_create_private {
        return Err(oe::private_object_refused(role));
    }
    Ok(())
}

/// Partition policy 10: with multipurpose keys off, a key may gain no second usage group.
/// `before` is the key's previous usage groups when an existing key changes (a key made while
/// the policy was on keeps its uses).
pub(super) fn check_multipurpose(
    attrs: &Attrs,
    before: Option<u8>,
    policies: &PartitionPolicies,
) -> Result<(), Error> {
    if policies.is_on(POLICY_MULTIPURPOSE_KEYS) {
        return Ok(());
    }
    let after = values::usage_groups(attrs);
    let gained = after & !before.unwrap_or(0);
    if after.count_ones() > 1 && gained != 0 {
        return Err(oe::multipurpose());
    }
    Ok(())
}

/// `CKA_ALWAYS_SENSITIVE` stays true only while `CKA_SENSITIVE` is; `CKA_NEVER_EXTRACTABLE`
/// only while `CKA_EXTRACTABLE` is false. Neither ever becomes true again.
pub(super) fn track(attrs: &mut Attrs) {
    let flag = |attrs: &Attrs, ty| attrs.get(&ty).is_some_and(|v| v.0 == [1]);
    let sensitive = flag(attrs, CKA_SENSITIVE);
    let extractable = flag(attrs, CKA_EXTRACTABLE);
    if let Some(v) = attrs.get_mut(&CKA_ALWAYS_SENSITIVE) {
        *v = Value(vec![u8::from(v.0 == [1] && sensitive)]);
    }
    if let Some(v) = attrs.get_mut(&CKA_NEVER_EXTRACTABLE) {
        *v = Value(vec![u8::from(v.0 == [1] && !extractable)]);
    }
}

fn put_bool(attrs: &mut Attrs, ty: u64, b: bool) {
    attrs.insert(ty, Value(vec![u8::from(b)]));
}

/// How a length attribute follows from the value it measures.
type LenOf = fn(&[u8]) -> u64;

fn byte_len(v: &[u8]) -> u64 {
    u64::try_from(v.len()).unwrap_or(u64::MAX)
}

fn put_ulong(attrs: &mut Attrs, ty: u64, v: u64) {
    attrs.insert(ty, Value(v.to_le_bytes().to_vec()));
}

impl Object {
    /// Creates an object from an application's template (4.1.1), with the attributes the
    /// creating function contributes, for a partition role under the partition's policies.
    /// `unique_id` is the new object's `CKA_UNIQUE_ID`, from the caller's generator (unique
    /// among the token's objects).
    pub(crate) fn from_template(
        template: &Template,
        method: CreationMethod<'_>,
        role: PartitionRole,
        policies: &PartitionPolicies,
        unique_id: String,
    ) -> Result<Object, Error> {
        let material = method.material();
        let class = pick_ulong(template, material, CKA_CLASS)?;
        let subtype = match Profile::subtype_attr(class) {
            Some(ty) => pick_ulong(template, material, ty)?,
            None => 0,
        };
        let profile = profile_for(class, subtype)?;
        if !method.makes(profile.class) {
            return Err(oe::inconsistent(
                CKA_CLASS,
                "this function cannot make objects of this class",
            ));
        }

        // The application's template.
        let mut attrs = Attrs::new();
        for a in template.iter() {
            let rule = rule_for(&profile, a.attr_type())?;
            if rule.flags.has(Flags::CONTRIBUTED_ONLY) {
                return Err(oe::type_unsupported_here(rule.ty));
            }
            if method.forbids(rule) {
                return Err(oe::read_only(
                    rule.ty,
                    "may not be given when an object is made this way",
                ));
            }
            let v = values::canonical(rule, a.value())?;
            values::check_single(&profile, subtype, rule.ty, &v)?;
            if rule.flags.has(Flags::SO_SETS_TRUE) && v == [1] && role != PartitionRole::So {
                return Err(oe::read_only(rule.ty, "only the SO may set it to true"));
            }
            attrs.insert(rule.ty, Value(v));
        }
        if let Some(rule) = profile
            .rules()
            .find(|r| method.requires(r) && template.find(r.ty).is_none())
        {
            return Err(oe::incomplete(rule.ty));
        }

        // What the creating function contributes.
        let app_check_value = attrs.remove(&CKA_CHECK_VALUE);
        for m in material.iter() {
            let rule = rule_for(&profile, m.attr_type())?;
            let v = values::canonical(rule, m.value())?;
            values::check_single(&profile, subtype, rule.ty, &v)?;
            if rule.flags.has(Flags::CHECK_VALUE) {
                match &app_check_value {
                    // An empty value asks for no check value (section 4.10).
                    Some(app) if app.0.is_empty() => continue,
                    Some(app) if app.0 != v => {
                        return Err(oe::value_invalid(
                            rule.ty,
                            "does not match the key's check value",
                        ));
                    }
                    _ => {}
                }
            }
            match attrs.get(&rule.ty) {
                Some(given) if given.0 != v => {
                    return Err(oe::inconsistent(
                        rule.ty,
                        "differs from what the creating function produces",
                    ));
                }
                _ => {
                    attrs.insert(rule.ty, Value(v));
                }
            }
        }

        // Completeness, defaults, computed attributes.
        if let Some(rule) = profile
            .rules()
            .find(|r| r.flags.has(Flags::REQUIRED_ON_CREATE) && !attrs.contains_key(&r.ty))
        {
            return Err(oe::incomplete(rule.ty));
        }
        for rule in profile.rules() {
            if attrs.contains_key(&rule.ty) {
                continue;
            }
            match rule.initial {
                Initial::False => put_bool(&mut attrs, rule.ty, false),
                Initial::True => put_bool(&mut attrs, rule.ty, true),
                Initial::Ulong(v) => put_ulong(&mut attrs, rule.ty, v),
                Initial::Empty => {
                    attrs.insert(rule.ty, Value(Vec::new()));
                }
                Initial::Usage => {
                    let on =
                        policies.is_on(POLICY_MULTIPURPOSE_KEYS) && profile.uses.contains(&rule.ty);
                    put_bool(&mut attrs, rule.ty, on);
                }
                Initial::Absent | Initial::Computed => {}
            }
        }
        attrs.insert(CKA_UNIQUE_ID, Value(unique_id.into_bytes()));
        if profile.class.is_key() {
            let (local, mechanism) = match method {
                CreationMethod::Generate { mechanism, .. } => (true, mechanism),
                _ => (false, CK_UNAVAILABLE_INFORMATION),
            };
            put_bool(&mut attrs, CKA_LOCAL, local);
            put_ulong(&mut attrs, CKA_KEY_GEN_MECHANISM, mechanism);
        }
        if matches!(profile.class, Class::PrivateKey | Class::SecretKey) {
            let flag = |ty| attrs.get(&ty).is_some_and(|v: &Value| v.0 == [1]);
            let (always, never) = method.tracking(flag(CKA_SENSITIVE), flag(CKA_EXTRACTABLE));
            put_bool(&mut attrs, CKA_ALWAYS_SENSITIVE, always);
            put_bool(&mut attrs, CKA_NEVER_EXTRACTABLE, never);
        }
        // Lengths follow from the key material (footnote 2: not given to C_CreateObject).
        let lengths: [(u64, u64, LenOf); 2] = [
            (CKA_VALUE_LEN, CKA_VALUE, byte_len),
            (CKA_MODULUS_BITS, CKA_MODULUS, values::bit_len),
        ];
        for (len_ty, of, len) in lengths {
            if profile.rule(len_ty).is_some()
                && !attrs.contains_key(&len_ty)
                && let Some(n) = attrs.get(&of).map(|v| len(&v.0))
            {
                put_ulong(&mut attrs, len_ty, n);
            }
        }

        values::check_consistency(&profile, subtype, &attrs)?;
        check_multipurpose(&attrs, None, policies)?;
        let obj = Object::from_attrs(attrs)?;
        check_role(role, &obj)?;
        Ok(obj)
    }
}
