//! The in-memory object index of one partition (or one session's objects): handles, storage
//! accounting, and searches that do not scan every object.
//!
//! Searches go through hash maps from (attribute type, value) to handle sets for the attributes
//! applications search by: `CKA_CLASS`, `CKA_LABEL`, `CKA_ID`, `CKA_UNIQUE_ID`. A template
//! naming any of them examines only the smallest of their sets; only a template naming none of
//! them scans. Every candidate is then checked against the whole template.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use cryptoki_sys::{CKA_CLASS, CKA_ID, CKA_LABEL, CKA_UNIQUE_ID};

use super::attribute::Template;
use super::error as oe;
use super::{CreationMethod, Object};
use crate::error::Error;
use crate::module::PartitionRole;
use crate::partition_policy::PartitionPolicies;

/// The attributes with a value index.
const INDEXED: [u64; 4] = [CKA_CLASS, CKA_LABEL, CKA_ID, CKA_UNIQUE_ID];

/// A PKCS#11 object handle (`CK_OBJECT_HANDLE`). Never 0 (`CK_INVALID_HANDLE`), never reused
/// within the lifetime of the index that issued it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectHandle(u64);

impl ObjectHandle {
    /// The handle an application sees.
    pub fn value(self) -> u64 {
        self.0
    }

    /// A handle from an application's value (it may name no object).
    pub fn from_value(v: u64) -> Self {
        Self(v)
    }
}

/// How much work a search did, for tests and metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct FindStats {
    /// Objects compared against the whole template.
    pub(crate) examined: usize,
    /// Whether the search had to consider every object.
    pub(crate) scanned: bool,
}

struct Entry {
    object: Object,
    /// `object.stored_size()`, kept so accounting never re-serializes.
    size: u64,
}

/// Objects by handle, with value indexes and a storage budget.
pub(crate) struct ObjectIndex {
    objects: BTreeMap<ObjectHandle, Entry>,
    /// type -> value -> handles of the objects with that value.
    by_value: HashMap<u64, HashMap<Vec<u8>, BTreeSet<ObjectHandle>>>,
    /// The next handle to issue.
    next: u64,
    /// Sum of the stored sizes of the objects held.
    used: u64,
    /// The most `used` may reach (the partition's size for its objects).
    budget: u64,
}

impl ObjectIndex {
    /// An empty index whose objects may use at most `budget` bytes.
    pub(crate) fn new(budget: u64) -> Self {
        Self {
            objects: BTreeMap::new(),
            by_value: HashMap::new(),
            next: 1,
            used: 0,
            budget,
        }
    }

    /// Bytes used by the objects held (the sum of their stored sizes).
    pub(crate) fn used(&self) -> u64 {
        self.used
    }

    /// The storage budget.
    pub(crate) fn budget(&self) -> u64 {
        self.budget
    }

    /// Changes the budget (a resized partition). Objects already held stay.
    pub(crate) fn set_budget(&mut self, budget: u64) {
        self.budget = budget;
    }

    /// Number of objects.
    pub(crate) fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether the index holds no object.
    pub(crate) fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// The object with handle `h`.
    pub(crate) fn get(&self, h: ObjectHandle) -> Option<&Object> {
        self.objects.get(&h).map(|e| &e.object)
    }

    /// The object with handle `h` if a session with `logged_in` may see it, else
    /// `CKR_OBJECT_HANDLE_INVALID`.
    pub(crate) fn visible(
        &self,
        h: ObjectHandle,
        logged_in: Option<PartitionRole>,
    ) -> Result<&Object, Error> {
        self.get(h)
            .filter(|o| o.is_visible(logged_in))
            .ok_or_else(oe::handle_invalid)
    }

    /// Every handle and object, in handle order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (ObjectHandle, &Object)> {
        self.objects.iter().map(|(h, e)| (*h, &e.object))
    }

    /// Whether `more` bytes fit, after `freed` bytes are released.
    fn fits(&self, more: u64, freed: u64) -> Result<(), Error> {
        let free = self.budget.saturating_sub(self.used.saturating_sub(freed));
        if more > free {
            return Err(oe::storage_full(more, free));
        }
        Ok(())
    }

    /// Adds an object under a new handle; `CKR_DEVICE_MEMORY` (nothing added) if it does not
    /// fit the budget.
    pub(crate) fn insert(&mut self, object: Object) -> Result<ObjectHandle, Error> {
        let h = ObjectHandle(self.next);
        self.insert_as(h, object)?;
        Ok(h)
    }

    /// Adds an object under a handle chosen by the caller (a partition's token and session
    /// objects share one handle space). The handle must never have been used in this index,
    /// and later handles this index issues itself are above it.
    pub(crate) fn insert_as(&mut self, h: ObjectHandle, object: Object) -> Result<(), Error> {
        if h.0 < self.next || h.0 == 0 {
            return Err(oe::internal("an object handle was issued twice"));
        }
        if self.contains_unique_id(object.unique_id()) {
            return Err(oe::internal("the CKA_UNIQUE_ID generator repeated a value"));
        }
        let size = object.stored_size();
        self.check_fits(size, 0)?;
        self.next =
            h.0.checked_add(1)
                .ok_or_else(|| oe::internal("object handles exhausted"))?;
        self.link(h, &object);
        self.used = self.used.saturating_add(size);
        self.objects.insert(h, Entry { object, size });
        Ok(())
    }

    /// Whether an object with this `CKA_UNIQUE_ID` is held.
    pub(crate) fn contains_unique_id(&self, id: &[u8]) -> bool {
        self.by_value
            .get(&CKA_UNIQUE_ID)
            .is_some_and(|ids| ids.contains_key(id))
    }

    /// Whether `more` bytes fit after `freed` bytes are released (`CKR_DEVICE_MEMORY` if not).
    pub(crate) fn check_fits(&self, more: u64, freed: u64) -> Result<(), Error> {
        self.fits(more, freed)
    }

    /// The stored size of the object `h` (what it counts against the budget).
    pub(crate) fn size_of(&self, h: ObjectHandle) -> Option<u64> {
        self.objects.get(&h).map(|e| e.size)
    }

    /// Creates an object (see [`Object::from_template`]) and adds it.
    pub(crate) fn create(
        &mut self,
        template: &Template,
        method: CreationMethod<'_>,
        role: PartitionRole,
        policies: &PartitionPolicies,
        unique_id: String,
    ) -> Result<ObjectHandle, Error> {
        let object = Object::from_template(template, method, role, policies, unique_id)?;
        self.insert(object)
    }

    /// `C_CopyObject` on the object `h` (see [`Object::copy_with`]).
    pub(crate) fn copy(
        &mut self,
        h: ObjectHandle,
        template: &Template,
        role: PartitionRole,
        policies: &PartitionPolicies,
        unique_id: String,
    ) -> Result<ObjectHandle, Error> {
        let source = self.get(h).ok_or_else(oe::handle_invalid)?;
        let copy = source.copy_with(template, role, policies, unique_id)?;
        self.insert(copy)
    }

    /// `C_SetAttributeValue` on the object `h` (see [`Object::set_attributes`]); also refused
    /// with `CKR_DEVICE_MEMORY`, unchanged, if the grown object no longer fits.
    pub(crate) fn set_attributes(
        &mut self,
        h: ObjectHandle,
        template: &Template,
        is_so: bool,
        policies: &PartitionPolicies,
    ) -> Result<(), Error> {
        let changed = self.prepare_set_attributes(h, template, is_so, policies)?;
        self.replace(h, changed)
    }

    /// The object `h` as `C_SetAttributeValue` with `template` would leave it, checked against
    /// the budget, without changing the index (so that the caller can persist it first).
    pub(crate) fn prepare_set_attributes(
        &self,
        h: ObjectHandle,
        template: &Template,
        is_so: bool,
        policies: &PartitionPolicies,
    ) -> Result<Object, Error> {
        let entry = self.objects.get(&h).ok_or_else(oe::handle_invalid)?;
        let mut changed = entry.object.duplicate();
        changed.set_attributes(template, is_so, policies)?;
        self.fits(changed.stored_size(), entry.size)?;
        Ok(changed)
    }

    /// Puts `object` in place of the object `h` (same handle), refusing with
    /// `CKR_DEVICE_MEMORY`, unchanged, if it does not fit.
    pub(crate) fn replace(&mut self, h: ObjectHandle, object: Object) -> Result<(), Error> {
        let old_size = self.objects.get(&h).ok_or_else(oe::handle_invalid)?.size;
        let size = object.stored_size();
        self.fits(size, old_size)?;
        let old = self
            .remove(h)
            .ok_or_else(|| oe::internal("object vanished"))?;
        drop(old);
        self.link(h, &object);
        self.used = self.used.saturating_add(size);
        self.objects.insert(h, Entry { object, size });
        Ok(())
    }

    /// `C_DestroyObject`: removes the object unless `CKA_DESTROYABLE` is false
    /// (`CKR_ACTION_PROHIBITED`).
    pub(crate) fn destroy(&mut self, h: ObjectHandle) -> Result<(), Error> {
        self.get(h)
            .ok_or_else(oe::handle_invalid)?
            .check_destroyable()?;
        self.remove(h);
        Ok(())
    }

    /// Removes the object whatever its attributes (partition zeroization, session close).
    pub(crate) fn remove(&mut self, h: ObjectHandle) -> Option<Object> {
        let entry = self.objects.remove(&h)?;
        self.unlink(h, &entry.object);
        self.used = self.used.saturating_sub(entry.size);
        Some(entry.object)
    }

    /// `C_FindObjects`: the handles of the objects a session with `logged_in` may see that
    /// match `template`, in handle order.
    pub(crate) fn find(
        &self,
        template: &Template,
        logged_in: Option<PartitionRole>,
    ) -> Vec<ObjectHandle> {
        self.find_counted(template, logged_in).0
    }

    /// [`ObjectIndex::find`], with how much work it did.
    pub(crate) fn find_counted(
        &self,
        template: &Template,
        logged_in: Option<PartitionRole>,
    ) -> (Vec<ObjectHandle>, FindStats) {
        let mut smallest: Option<&BTreeSet<ObjectHandle>> = None;
        for a in template.iter().filter(|a| INDEXED.contains(&a.attr_type())) {
            let set = self
                .by_value
                .get(&a.attr_type())
                .and_then(|m| m.get(a.value()));
            let Some(set) = set else {
                // No object has this value: nothing can match.
                return (Vec::new(), FindStats::default());
            };
            if smallest.is_none_or(|s| set.len() < s.len()) {
                smallest = Some(set);
            }
        }
        let keep = |h: &ObjectHandle, o: &Object| {
            (o.is_visible(logged_in) && o.matches(template)).then_some(*h)
        };
        match smallest {
            Some(set) => {
                let found = set
                    .iter()
                    .filter_map(|h| self.objects.get(h).and_then(|e| keep(h, &e.object)))
                    .collect();
                let stats = FindStats {
                    examined: set.len(),
                    scanned: false,
                };
                (found, stats)
            }
            None => {
                let found = self
                    .objects
                    .iter()
                    .filter_map(|(h, e)| keep(h, &e.object))
                    .collect();
                let stats = FindStats {
                    examined: self.objects.len(),
                    scanned: true,
                };
                (found, stats)
            }
        }
    }

    fn link(&mut self, h: ObjectHandle, o: &Object) {
        for ty in INDEXED {
            if let Some(v) = o.value(ty) {
                self.by_value
                    .entry(ty)
                    .or_default()
                    .entry(v.to_vec())
                    .or_default()
                    .insert(h);
            }
        }
    }

    fn unlink(&mut self, h: ObjectHandle, o: &Object) {
        for ty in INDEXED {
            let Some(v) = o.value(ty) else { continue };
            let Some(values) = self.by_value.get_mut(&ty) else {
                continue;
            };
            if let Some(set) = values.get_mut(v) {
                set.remove(&h);
                if set.is_empty() {
                    values.remove(v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
