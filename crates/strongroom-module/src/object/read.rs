//! Reading objects: `C_GetAttributeValue` (PKCS#11 v3.0 5.7.5), visibility of private objects
//! (4.4) and `C_FindObjects` matching (5.7.7).

use super::Object;
use super::attribute::{AttrResult, Template};
use super::error as oe;
use crate::error::Error;
use crate::module::PartitionRole;

impl Object {
    /// Whether a session with `logged_in` (no role: a public session) may see the object at
    /// all. Private objects are for the normal users only: the Crypto Officer, the Limited
    /// Crypto Officer and the Crypto User. The SO's sessions see public objects, as PKCS#11's
    /// SO sessions do.
    pub(crate) fn is_visible(&self, logged_in: Option<PartitionRole>) -> bool {
        let user = matches!(
            logged_in,
            Some(
                PartitionRole::CryptoOfficer
                    | PartitionRole::LimitedCryptoOfficer
                    | PartitionRole::CryptoUser
            )
        );
        !self.is_private() || user
    }

    /// `C_GetAttributeValue`'s per-attribute outcome for each requested type, in order.
    /// An object the session may not see does not exist for it: `CKR_OBJECT_HANDLE_INVALID`.
    /// The call's return value is [`AttrResult::overall`] of the results.
    pub(crate) fn get_attributes(
        &self,
        types: &[u64],
        logged_in: Option<PartitionRole>,
    ) -> Result<Vec<AttrResult>, Error> {
        if !self.is_visible(logged_in) {
            return Err(oe::handle_invalid());
        }
        let profile = self.profile()?;
        Ok(types
            .iter()
            .map(|ty| match profile.rule(*ty) {
                Some(rule) if self.hides(rule) => AttrResult::Sensitive,
                Some(_) => match self.value(*ty) {
                    Some(v) => AttrResult::Value(v.to_vec()),
                    None => AttrResult::TypeInvalid,
                },
                None => AttrResult::TypeInvalid,
            })
            .collect())
    }

    /// Whether every attribute of `template` is present with exactly the same bytes. A value
    /// the object hides never matches, so a search cannot test guesses of a key.
    pub(crate) fn matches(&self, template: &Template) -> bool {
        let Ok(profile) = self.profile() else {
            return false;
        };
        template.iter().all(|a| {
            let ty = a.attr_type();
            let hidden = profile.rule(ty).is_some_and(|r| self.hides(r));
            !hidden && self.value(ty) == Some(a.value())
        })
    }
}
