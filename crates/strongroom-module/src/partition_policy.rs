//! Partition capabilities and policies, with the vendor's public partition-policy numbering
//! (catalog PO-50..PO-55 and issue 3's list: cloning, wrapping and unwrapping of private and
//! secret keys, masking, multipurpose keys, changing key attributes, raw RSA, the failed-login
//! limit, PIN length bounds, activation, key management functions).
//!
//! A partition capability follows the HSM: private/secret key cloning exists only while HSM
//! policy 7 allows cloning, masking only while HSM policy 6 allows it. A disallowed policy is 0
//! and cannot be set.
//!
//! Destructiveness (a decision of ours, documented in docs/reference-decisions.md): a change
//! that lets keys leave the partition in a new way, or loosens how existing keys may be used
//! (enabling cloning, wrapping or masking of private or secret keys, multipurpose keys, or
//! changing key attributes), first destroys the partition's objects, so that no key created
//! under the stricter rule is ever exposed under the looser one.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::error::{Error, e};
use crate::policy::Policies;

/// Policy 20: failed logins of the Crypto Officer, Limited Crypto Officer or Crypto User that
/// lock the role.
pub(crate) const MAX_FAILED_LOGINS: u8 = 20;
/// Policy 25: the minimum PIN length, stored inverted (255 - minimum) as the vendor does.
pub(crate) const MIN_PIN_LENGTH_INVERTED: u8 = 25;
/// Policy 26: the maximum PIN length.
pub(crate) const MAX_PIN_LENGTH: u8 = 26;

/// What a partition policy depends on at the HSM level.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Requires {
    Nothing,
    HsmPolicy(u8),
}

struct Row {
    id: u8,
    capability: &'static str,
    policy: &'static str,
    default: u32,
    min: u32,
    max: u32,
    /// Changing from 0 to non-zero destroys the partition's objects.
    destructive_on_enable: bool,
    requires: Requires,
}

const fn row(
    id: u8,
    capability: &'static str,
    policy: &'static str,
    default: u32,
    destructive_on_enable: bool,
    requires: Requires,
) -> Row {
    Row {
        id,
        capability,
        policy,
        default,
        min: 0,
        max: 1,
        destructive_on_enable,
        requires,
    }
}

static TABLE: &[Row] = &[
    row(
        0,
        "Enable private key cloning",
        "Allow private key cloning",
        1,
        true,
        Requires::HsmPolicy(7),
    ),
    row(
        1,
        "Enable private key wrapping",
        "Allow private key wrapping",
        0,
        true,
        Requires::Nothing,
    ),
    row(
        2,
        "Enable private key unwrapping",
        "Allow private key unwrapping",
        1,
        false,
        Requires::Nothing,
    ),
    row(
        3,
        "Enable private key masking",
        "Allow private key masking",
        0,
        true,
        Requires::HsmPolicy(6),
    ),
    row(
        4,
        "Enable secret key cloning",
        "Allow secret key cloning",
        1,
        true,
        Requires::HsmPolicy(7),
    ),
    row(
        5,
        "Enable secret key wrapping",
        "Allow secret key wrapping",
        1,
        true,
        Requires::Nothing,
    ),
    row(
        6,
        "Enable secret key unwrapping",
        "Allow secret key unwrapping",
        1,
        false,
        Requires::Nothing,
    ),
    row(
        7,
        "Enable secret key masking",
        "Allow secret key masking",
        0,
        true,
        Requires::HsmPolicy(6),
    ),
    row(
        10,
        "Enable multipurpose keys",
        "Allow multipurpose keys",
        1,
        true,
        Requires::Nothing,
    ),
    row(
        11,
        "Enable changing key attributes",
        "Allow changing key attributes",
        1,
        true,
        Requires::Nothing,
    ),
    row(
        19,
        "Enable raw RSA operations",
        "Allow raw RSA operations",
        1,
        false,
        Requires::Nothing,
    ),
    Row {
        id: MAX_FAILED_LOGINS,
        capability: "Enable failed login limit",
        policy: "Max failed user logins allowed",
        default: 10,
        min: 1,
        max: 10,
        destructive_on_enable: false,
        requires: Requires::Nothing,
    },
    row(
        22,
        "Enable activation",
        "Allow activation",
        0,
        false,
        Requires::Nothing,
    ),
    row(
        23,
        "Enable auto-activation",
        "Allow auto-activation",
        0,
        false,
        Requires::Nothing,
    ),
    Row {
        id: MIN_PIN_LENGTH_INVERTED,
        capability: "Enable minimum PIN length",
        policy: "Minimum pin length (inverted: 255 - min)",
        default: 255 - 8,
        min: 0,
        max: 255 - 8,
        destructive_on_enable: false,
        requires: Requires::Nothing,
    },
    Row {
        id: MAX_PIN_LENGTH,
        capability: "Enable maximum PIN length",
        policy: "Maximum pin length",
        default: 255,
        min: 8,
        max: 255,
        destructive_on_enable: false,
        requires: Requires::Nothing,
    },
    row(
        28,
        "Enable Key Management Functions",
        "Allow Key Management Functions",
        1,
        false,
        Requires::Nothing,
    ),
];

fn find(id: u8) -> Option<&'static Row> {
    TABLE.iter().find(|r| r.id == id)
}

fn allowed(row: &Row, hsm: &Policies) -> bool {
    match row.requires {
        Requires::Nothing => true,
        Requires::HsmPolicy(p) => hsm.is_on(p),
    }
}

/// The policy values of one partition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionPolicies(BTreeMap<u8, u32>);

impl PartitionPolicies {
    /// Every policy at its default, with policies the HSM disallows at 0.
    pub(crate) fn defaults(hsm: &Policies) -> Self {
        Self(
            TABLE
                .iter()
                .map(|r| (r.id, if allowed(r, hsm) { r.default } else { 0 }))
                .collect(),
        )
    }

    /// The value of policy `id` (0 if the partition has no such policy).
    pub fn get(&self, id: u8) -> u32 {
        self.0.get(&id).copied().unwrap_or(0)
    }

    /// Whether policy `id` is on.
    pub fn is_on(&self, id: u8) -> bool {
        self.get(id) != 0
    }

    pub(crate) fn set(&mut self, id: u8, value: u32) {
        self.0.insert(id, value);
    }

    /// The PIN length bounds from policies 25 (inverted minimum) and 26.
    pub fn pin_length_bounds(&self) -> (u32, u32) {
        let min = 255u32
            .saturating_sub(self.get(MIN_PIN_LENGTH_INVERTED))
            .max(8);
        let max = self.get(MAX_PIN_LENGTH).clamp(8, 255);
        (min, max)
    }
}

/// A partition policy change that was applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartitionPolicyChange {
    /// The policy.
    pub id: u8,
    /// Value before.
    pub old: u32,
    /// Value after.
    pub new: u32,
    /// Whether the partition's objects were destroyed first.
    pub destroys_objects: bool,
}

/// Checks a change of partition policy `id` to `value`.
pub(crate) fn check_change(
    current: &PartitionPolicies,
    hsm: &Policies,
    id: u8,
    value: u32,
) -> Result<PartitionPolicyChange, Error> {
    let row = find(id).ok_or_else(|| e::policy_id_invalid(format!("no partition policy {id}")))?;
    if value < row.min || value > row.max {
        return Err(e::policy_value_invalid(format!(
            "partition policy {id} takes values {}-{}",
            row.min, row.max
        )));
    }
    if value != 0 && !allowed(row, hsm) {
        return Err(e::policy_illegal(format!(
            "the HSM's policies do not allow partition policy {id} ({})",
            row.policy
        )));
    }
    let old = current.get(id);
    if id == MIN_PIN_LENGTH_INVERTED || id == MAX_PIN_LENGTH {
        let mut next = current.clone();
        next.set(id, value);
        let min = 255u32.saturating_sub(next.get(MIN_PIN_LENGTH_INVERTED));
        if min > next.get(MAX_PIN_LENGTH) {
            return Err(e::policy_dependencies(
                "the minimum PIN length would exceed the maximum",
            ));
        }
    }
    Ok(PartitionPolicyChange {
        id,
        old,
        new: value,
        destroys_objects: row.destructive_on_enable && old == 0 && value != 0,
    })
}

/// The description of partition policy `id`.
pub fn description(id: u8) -> Option<&'static str> {
    find(id).map(|r| r.policy)
}

/// `partition showpolicies`.
pub(crate) fn render(
    policies: &PartitionPolicies,
    hsm: &Policies,
    label: Option<&str>,
    serial: u64,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Partition Label: {}", label.unwrap_or(""));
    let _ = writeln!(out, "Partition SN:    {serial}\n");
    out.push_str(
        "The following capabilities describe this partition and can never be changed.\n\n",
    );
    let _ = writeln!(out, "{:<48} Value", "Description");
    let _ = writeln!(out, "{:<48} =====", "===========");
    for r in TABLE {
        let value = if allowed(r, hsm) {
            "Allowed"
        } else {
            "Disallowed"
        };
        let _ = writeln!(out, "{:<48} {value}", r.capability);
    }
    out.push_str(
        "\nThe following policies describe the current configuration of this partition and may \
         be changed by the Partition SO.\n\n",
    );
    let _ = writeln!(
        out,
        "{:<48} {:<8} {:<6} Destructive",
        "Description", "Value", "Code"
    );
    let _ = writeln!(
        out,
        "{:<48} {:<8} {:<6} ===========",
        "===========", "=====", "===="
    );
    for r in TABLE {
        let v = policies.get(r.id);
        let value = if r.max == 1 {
            if v == 0 {
                "Off".to_owned()
            } else {
                "On".to_owned()
            }
        } else {
            v.to_string()
        };
        let destructive = if r.destructive_on_enable { "Yes" } else { "No" };
        let _ = writeln!(out, "{:<48} {value:<8} {:<6} {destructive}", r.policy, r.id);
    }
    out
}

#[cfg(test)]
mod tests;
