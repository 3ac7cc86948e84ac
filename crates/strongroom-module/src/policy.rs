//! HSM capabilities and policies (catalog section 7: PO-01..PO-06, PO-T00..PO-T58, PO-20,
//! PO-40..PO-44; defaults per decision CF-10).
//!
//! Capabilities are read-only facts of the unit; policies are Security Officer settings that
//! refine them, and a policy may only be non-zero while its capability is Allowed (PO-01). This
//! file holds the numbered table as data, validates one change at a time (`hsm changePolicy`),
//! renders `hsm showPolicies`, and exports and parses policy templates.
//!
//! It does not check who is logged in, write audit records, destroy partitions or decide when a
//! template may be applied (only at `hsm init`, PO-44): the caller does all of that from the
//! [`Change`] or the [`PolicyError`] it gets back.
//!
//! The unit it describes: a password-authenticated appliance (no PED), performance level 15,
//! masking Allowed (behaviour of reference version 7.7 and later, defaults of 7.9), not ready
//! for functionality modules, so capabilities and policies 50..53 do not appear on it.

use std::collections::BTreeMap;
use std::fmt;

use Cap::{Absent, Allowed, Disallowed};
use Destructive::{Partitions, WholeHsm};
use PolicyDefault::{Off, On};
use PolicyMaximum::One;

#[cfg(test)]
mod tests;

/// Capability 2 on every Strongroom unit: "15: Maximum performance".
const PERFORMANCE_LEVEL: u64 = 15;

/// Policy 33, "Current maximum number of partitions".
const MAX_PARTITIONS: u8 = 33;
/// Policy 40, "Decommission on tamper".
const DECOMMISSION_ON_TAMPER: u8 = 40;
/// Policy 46, "Disable Decommission".
const DISABLE_DECOMMISSION: u8 = 46;

/// The facts of a unit that the table cannot know: they come from its licence and model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Capabilities {
    /// Capability 27, non-volatile storage space in bytes (display only).
    pub(crate) storage_bytes: u64,
    /// Capability 33, the licensed maximum number of application partitions; also the
    /// default and the maximum of policy 33.
    pub(crate) licensed_partitions: u32,
}

/// A capability's value as `hsm showPolicies` prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CapabilityValue {
    /// The unit has the capability; its policy, if any, may be set.
    Allowed,
    /// The unit lacks the capability; its policy, if any, is fixed at 0.
    Disallowed,
    /// A numeric capability (performance level, storage bytes, partition count).
    Number(u64),
}

impl fmt::Display for CapabilityValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Allowed => f.write_str("Allowed"),
            Self::Disallowed => f.write_str("Disallowed"),
            Self::Number(n) => write!(f, "{n}"),
        }
    }
}

/// Where a table row's capability value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cap {
    /// Always Allowed on this unit.
    Allowed,
    /// Always Disallowed on this unit.
    Disallowed,
    /// The fixed performance level, 15.
    PerformanceLevel,
    /// [`Capabilities::storage_bytes`].
    StorageBytes,
    /// [`Capabilities::licensed_partitions`].
    LicensedPartitions,
    /// The capability does not appear on this unit at all (the functionality-module rows,
    /// which only FM-ready units show); its policy does not exist here either.
    Absent,
}

/// What changing a policy's value destroys (PO-03). Fixed per policy; templates cannot edit it.
///
/// The reference also has an "ON-to-OFF destructive" policy, 55, but only on backup devices,
/// which this unit is not; no row here needs that kind, so it has no variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destructive {
    /// Nothing is destroyed.
    No,
    /// Every application partition (its roles and objects) is destroyed; the SO, domain,
    /// auditor and the other policies are kept.
    Partitions,
    /// The whole module is zeroized and must be initialized again (policies 46 and 50).
    WholeHsm,
}

impl Destructive {
    /// `Yes` or `No`, the showPolicies "Destructive" column.
    fn yes_no(self) -> &'static str {
        match self {
            Self::No => "No",
            Self::Partitions | Self::WholeHsm => "Yes",
        }
    }
}

/// A policy's default value (CF-10: the table's defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PolicyDefault {
    /// 0.
    Off,
    /// 1.
    On,
    /// [`Capabilities::licensed_partitions`] (policy 33).
    LicensedMaximum,
}

/// The largest value a policy accepts; the smallest is always 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PolicyMaximum {
    /// An on/off policy: 0 or 1.
    One,
    /// [`Capabilities::licensed_partitions`] (policy 33).
    LicensedMaximum,
}

/// The policy half of a table row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PolicyDef {
    /// The description printed by showPolicies and in templates.
    pub(crate) name: &'static str,
    /// Value after factory reset or initialization without a template.
    pub(crate) default: PolicyDefault,
    /// Largest accepted value.
    pub(crate) maximum: PolicyMaximum,
    /// What a change of value destroys.
    pub(crate) destructive: Destructive,
}

impl PolicyDef {
    /// The largest value this policy accepts on a unit with `caps`.
    pub(crate) fn max_value(&self, caps: &Capabilities) -> u32 {
        match self.maximum {
            PolicyMaximum::One => 1,
            PolicyMaximum::LicensedMaximum => caps.licensed_partitions,
        }
    }

    /// Whether values above 1 are possible, so showPolicies prints a number, not On/Off.
    fn numeric(&self) -> bool {
        self.maximum != PolicyMaximum::One
    }
}

/// One row of the numbered capability/policy table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Row {
    /// Capability id, which is also the policy id ("Code").
    pub(crate) id: u8,
    /// The capability description.
    pub(crate) capability: &'static str,
    /// The capability's value on this unit.
    pub(crate) cap: Cap,
    /// The corresponding policy, where the row has one.
    pub(crate) policy: Option<PolicyDef>,
}

impl Row {
    const fn capability(id: u8, capability: &'static str, cap: Cap) -> Self {
        Self {
            id,
            capability,
            cap,
            policy: None,
        }
    }

    const fn policy(
        id: u8,
        capability: &'static str,
        cap: Cap,
        name: &'static str,
        default: PolicyDefault,
        maximum: PolicyMaximum,
        destructive: Destructive,
    ) -> Self {
        Self {
            id,
            capability,
            cap,
            policy: Some(PolicyDef {
                name,
                default,
                maximum,
                destructive,
            }),
        }
    }

    /// The capability value on a unit with `caps`; `None` when the row does not appear.
    pub(crate) fn capability_value(&self, caps: &Capabilities) -> Option<CapabilityValue> {
        Some(match self.cap {
            Cap::Allowed => CapabilityValue::Allowed,
            Cap::Disallowed => CapabilityValue::Disallowed,
            Cap::PerformanceLevel => CapabilityValue::Number(PERFORMANCE_LEVEL),
            Cap::StorageBytes => CapabilityValue::Number(caps.storage_bytes),
            Cap::LicensedPartitions => CapabilityValue::Number(u64::from(caps.licensed_partitions)),
            Cap::Absent => return None,
        })
    }

    /// Whether the policy may take non-zero values: its capability is not Disallowed.
    fn enabled(&self) -> bool {
        !matches!(self.cap, Cap::Disallowed | Cap::Absent)
    }

    /// The policy's default; 0 whenever the capability disallows the policy (PO-01).
    fn default_value(&self, def: &PolicyDef, caps: &Capabilities) -> u32 {
        if !self.enabled() {
            return 0;
        }
        match def.default {
            PolicyDefault::Off => 0,
            PolicyDefault::On => 1,
            PolicyDefault::LicensedMaximum => caps.licensed_partitions,
        }
    }
}

/// The capability/policy table of the reference (chapter 6), in id order.
///
/// Left out: 18 "FIPS evaluated" (removed in 7.7.0) and 55 "Enable Restricted Restore" (shown
/// only on backup devices, never on a network unit). Policy names are the strings the reference
/// template prints where it has the policy ("Allow remote PED usage", "Allow low level math
/// acceleration"), else the table's. The policies of Disallowed capabilities 23, 35, 36, 38, 42
/// and 47 appear only in the reference template; they are listed so that exports carry the same
/// ids, and are fixed at 0. Defaults of policies the table leaves open: 6 Off (as the template),
/// 56 Off (7.8.0 and later). Rows 50..53 belong to FM-ready units and are kept for their
/// destructiveness, but do not appear here.
pub(crate) static TABLE: &[Row] = &[
    Row::capability(0, "Enable PIN-based authentication", Allowed),
    Row::capability(1, "Enable PED-based authentication", Disallowed),
    Row::capability(2, "Performance level", Cap::PerformanceLevel),
    Row::capability(4, "Enable domestic mechanisms & key sizes", Allowed),
    Row::policy(
        6,
        "Enable masking",
        Allowed,
        "Allow masking",
        Off,
        One,
        Partitions,
    ),
    Row::policy(
        7,
        "Enable cloning",
        Allowed,
        "Allow cloning",
        On,
        One,
        Partitions,
    ),
    Row::capability(9, "Enable full (non-backup) functionality", Allowed),
    Row::policy(
        12,
        "Enable non-FIPS algorithms",
        Allowed,
        "Allow non-FIPS algorithms",
        On,
        One,
        Partitions,
    ),
    Row::policy(
        15,
        "Enable SO reset of partition PIN",
        Allowed,
        "SO can reset partition PIN",
        Off,
        One,
        Partitions,
    ),
    Row::policy(
        16,
        "Enable network replication",
        Allowed,
        "Allow network replication",
        On,
        One,
        Destructive::No,
    ),
    Row::capability(17, "Enable Korean Algorithms", Disallowed),
    Row::capability(19, "Manufacturing Token", Disallowed),
    Row::policy(
        21,
        "Enable forcing user PIN change",
        Allowed,
        "Force user PIN change after set/reset",
        On,
        One,
        Destructive::No,
    ),
    Row::policy(
        22,
        "Enable portable masking key",
        Allowed,
        "Allow offboard storage",
        On,
        One,
        Partitions,
    ),
    Row::policy(
        23,
        "Enable partition groups",
        Disallowed,
        "Allow partition groups",
        Off,
        One,
        Destructive::No,
    ),
    Row::policy(
        25,
        "Enable Remote PED usage",
        Disallowed,
        "Allow remote PED usage",
        Off,
        One,
        Destructive::No,
    ),
    Row::capability(27, "HSM non-volatile storage space", Cap::StorageBytes),
    Row::policy(
        30,
        "Enable Unmasking",
        Allowed,
        "Allow unmasking",
        On,
        One,
        Destructive::No,
    ),
    Row::policy(
        MAX_PARTITIONS,
        "Maximum number of partitions",
        Cap::LicensedPartitions,
        "Current maximum number of partitions",
        PolicyDefault::LicensedMaximum,
        PolicyMaximum::LicensedMaximum,
        Destructive::No,
    ),
    Row::policy(
        35,
        "Enable Single Domain",
        Disallowed,
        "Force Single Domain",
        Off,
        One,
        Destructive::No,
    ),
    Row::policy(
        36,
        "Enable Unified PED Key",
        Disallowed,
        "Allow Unified PED Key",
        Off,
        One,
        Destructive::No,
    ),
    Row::policy(
        37,
        "Enable MofN",
        Disallowed,
        "Allow MofN",
        Off,
        One,
        Destructive::No,
    ),
    Row::policy(
        38,
        "Enable small form factor backup/restore",
        Disallowed,
        "Allow small form factor backup/restore",
        Off,
        One,
        Destructive::No,
    ),
    Row::policy(
        39,
        "Enable Secure Trusted Channel",
        Allowed,
        "Allow Secure Trusted Channel",
        Off,
        One,
        Destructive::No,
    ),
    Row::policy(
        DECOMMISSION_ON_TAMPER,
        "Enable decommission on tamper",
        Allowed,
        "Decommission on tamper",
        Off,
        One,
        Partitions,
    ),
    Row::policy(
        42,
        "Enable partition re-initialize",
        Disallowed,
        "Allow partition re-initialize",
        Off,
        One,
        Destructive::No,
    ),
    Row::policy(
        43,
        "Enable low level math acceleration",
        Allowed,
        "Allow low level math acceleration",
        On,
        One,
        Destructive::No,
    ),
    Row::capability(45, "Enable Fast-Path", Disallowed),
    Row::policy(
        DISABLE_DECOMMISSION,
        "Allow Disabling Decommission",
        Allowed,
        "Disable Decommission",
        Off,
        One,
        WholeHsm,
    ),
    Row::policy(
        47,
        "Enable Tunnel Slot",
        Disallowed,
        "Allow Tunnel Slot",
        Off,
        One,
        Destructive::No,
    ),
    Row::policy(
        48,
        "Enable Controlled Tamper Recovery",
        Allowed,
        "Do Controlled Tamper Recovery",
        On,
        One,
        Destructive::No,
    ),
    Row::policy(
        49,
        "Enable Partition Utilization Metrics",
        Allowed,
        "Allow Partition Utilization Metrics",
        Off,
        One,
        Destructive::No,
    ),
    Row::policy(
        50,
        "Enable Functionality Modules",
        Absent,
        "Allow Functionality Modules",
        Off,
        One,
        WholeHsm,
    ),
    Row::policy(
        51,
        "Enable SMFS Auto Activation",
        Absent,
        "Allow SMFS Auto Activation",
        Off,
        One,
        Partitions,
    ),
    Row::policy(
        52,
        "Allow Restricting FM Privilege Level",
        Absent,
        "Restrict FM Privilege Level",
        Off,
        One,
        Partitions,
    ),
    Row::policy(
        53,
        "Allow Encrypting of Keys from FM to HSM",
        Absent,
        "Encrypt keys passing from FM to HSM",
        Off,
        One,
        Partitions,
    ),
    Row::policy(
        56,
        "Enable User Defined ECC Curves",
        Allowed,
        "Allow User Defined ECC Curves",
        Off,
        One,
        Partitions,
    ),
    Row::policy(
        57,
        "Enable Sync with Host Time",
        Allowed,
        "Allow Sync with Host Time",
        Off,
        One,
        Destructive::No,
    ),
    Row::policy(
        58,
        "Enable Unrestricted Metrics Access",
        Allowed,
        "Allow Unrestricted Metrics Access",
        Off,
        One,
        Destructive::No,
    ),
];

/// The table row with this id, whether or not it appears on this unit.
pub(crate) fn row(id: u8) -> Option<&'static Row> {
    TABLE.iter().find(|r| r.id == id)
}

/// Rows that appear on this unit.
fn present_rows() -> impl Iterator<Item = &'static Row> {
    TABLE.iter().filter(|r| r.cap != Absent)
}

/// Policies that exist on this unit, in id order (including those fixed at 0).
fn present_policies() -> impl Iterator<Item = (&'static Row, &'static PolicyDef)> {
    present_rows().filter_map(|r| r.policy.as_ref().map(|p| (r, p)))
}

/// The policy with this id, if it exists on this unit.
fn present_policy(id: u8) -> Option<(&'static Row, &'static PolicyDef)> {
    present_policies().find(|(r, _)| r.id == id)
}

/// The capabilities shown for this unit: (id, description, value), in id order.
pub(crate) fn capability_list(caps: &Capabilities) -> Vec<(u8, &'static str, CapabilityValue)> {
    TABLE
        .iter()
        .filter_map(|r| Some((r.id, r.capability, r.capability_value(caps)?)))
        .collect()
}

/// The current value of every policy that exists on this unit.
///
/// Invariant when built by `Policies::defaults`, `Policies::set` and `parse_template`:
/// exactly the unit's policy ids are present, each within range, Disallowed ones at 0, and
/// policies 40 and 46 never both on.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
pub struct Policies(BTreeMap<u8, u32>);

impl Policies {
    /// Every policy at its default (CF-10): what factory reset and a template-less init give.
    pub(crate) fn defaults(caps: &Capabilities) -> Self {
        Self(
            present_policies()
                .map(|(r, p)| (r.id, r.default_value(p, caps)))
                .collect(),
        )
    }

    /// The value of policy `id`; 0 for an id that is not a policy here.
    pub fn get(&self, id: u8) -> u32 {
        self.0.get(&id).copied().unwrap_or(0)
    }

    /// Whether policy `id` is non-zero.
    pub fn is_on(&self, id: u8) -> bool {
        self.get(id) != 0
    }

    /// Applies a change that [`check_change`] approved against this same value. Destroying
    /// partitions or zeroizing, per [`Change::destructive`], is the caller's job.
    pub(crate) fn set(&mut self, change: Change) {
        self.0.insert(change.id, change.new);
    }
}

/// Proof that a [`Change`] came from [`check_change`]: nothing outside this file can build one.
#[derive(Debug, PartialEq, Eq)]
struct Checked(());

/// A policy change that passed [`check_change`]. Apply with [`Policies::set`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Change {
    /// The policy id.
    pub(crate) id: u8,
    /// Its value before the change.
    pub(crate) old: u32,
    /// Its value after the change.
    pub(crate) new: u32,
    /// What the caller must destroy when applying it: the policy's destructiveness, or
    /// [`Destructive::No`] when `old == new`.
    pub(crate) destructive: Destructive,
    checked: Checked,
}

/// Why a policy change or a template was refused (PO-06, PO-43).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PolicyError {
    /// No such policy on this unit (a capability-only id, a removed or absent one, or garbage).
    IdInvalid,
    /// The value is outside the policy's range (above 1 for on/off, above the licence for 33).
    ValueInvalid,
    /// The capability is Disallowed, so the policy cannot be made non-zero.
    ChangeIllegal,
    /// The change conflicts with another policy or with the partitions that exist. Nothing
    /// was changed, but the attempt still destroys `destroys`, which the caller must apply:
    /// the reference says enabling 46 while 40 is on fails yet destroys the partitions.
    FailsDependencies {
        /// What the failed attempt destroys ([`Destructive::No`] for most refusals).
        destroys: Destructive,
    },
    /// A template was refused as a whole; `line` is 1-based.
    Template {
        /// The first offending line.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::IdInvalid => f.write_str("no such policy on this HSM"),
            Self::ValueInvalid => f.write_str("policy value out of range"),
            Self::ChangeIllegal => {
                f.write_str("the HSM's capabilities do not allow this policy value")
            }
            Self::FailsDependencies { destroys } => {
                f.write_str(
                    "the change conflicts with another policy or with existing partitions",
                )?;
                match destroys {
                    Destructive::No => Ok(()),
                    Destructive::Partitions => {
                        f.write_str("; the attempt destroys all application partitions")
                    }
                    Destructive::WholeHsm => f.write_str("; the attempt zeroizes the HSM"),
                }
            }
            Self::Template { line, reason } => {
                write!(f, "policy template refused, line {line}: {reason}")
            }
        }
    }
}

impl std::error::Error for PolicyError {}

/// Range and capability checks shared by [`check_change`] and [`parse_template`].
fn check_value(
    row: &Row,
    def: &PolicyDef,
    caps: &Capabilities,
    value: u32,
) -> Result<(), PolicyError> {
    if value > def.max_value(caps) {
        return Err(PolicyError::ValueInvalid);
    }
    if value != 0 && !row.enabled() {
        return Err(PolicyError::ChangeIllegal);
    }
    Ok(())
}

/// Validates `hsm changePolicy -policy <id> -value <value>` against the current values.
///
/// Checks in order: the policy exists, the value is in range, the capability allows it; then
/// setting a policy to the value it already has is accepted as a no-op that destroys nothing
/// (the reference ties destruction to changing a policy); then the dependencies:
/// - 46 := 1 while 40 is on fails and still destroys the application partitions (reference);
/// - 40 := 1 while 46 is on fails and destroys nothing: 46 exists to prevent decommissioning
///   and 40 to trigger it, so the pair is refused in both orders, or the state the reference
///   forbids would be reachable by ordering the two changes the other way; the reference does
///   not say this attempt destroys anything, so it does not;
/// - 33 below `partitions_existing` fails and destroys nothing.
pub(crate) fn check_change(
    current: &Policies,
    caps: &Capabilities,
    partitions_existing: u32,
    id: u8,
    value: u32,
) -> Result<Change, PolicyError> {
    let (row, def) = present_policy(id).ok_or(PolicyError::IdInvalid)?;
    check_value(row, def, caps, value)?;
    let old = current.get(id);
    let change = |destructive| Change {
        id,
        old,
        new: value,
        destructive,
        checked: Checked(()),
    };
    if old == value {
        return Ok(change(Destructive::No));
    }
    let fails = |destroys| Err(PolicyError::FailsDependencies { destroys });
    match id {
        DISABLE_DECOMMISSION if value != 0 && current.is_on(DECOMMISSION_ON_TAMPER) => {
            fails(Partitions)
        }
        DECOMMISSION_ON_TAMPER if value != 0 && current.is_on(DISABLE_DECOMMISSION) => {
            fails(Destructive::No)
        }
        MAX_PARTITIONS if value < partitions_existing => fails(Destructive::No),
        _ => Ok(change(def.destructive)),
    }
}

/// Replaces line breaks so a caller-supplied string cannot add lines to the output.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Appends `rows` under `headers` as aligned columns: every column but the last padded to its
/// widest cell plus a gap, the first to at least `first_width`, no trailing spaces.
fn push_columns(out: &mut String, first_width: usize, headers: &[&str], rows: &[Vec<String>]) {
    const GAP: usize = 4;
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    if let Some(w) = widths.first_mut() {
        *w = (*w).max(first_width);
    }
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let underline: Vec<String> = headers.iter().map(|h| "=".repeat(h.len())).collect();
    let header: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    for cells in [&header, &underline].into_iter().chain(rows) {
        let mut line = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            line.push_str(cell);
            if i + 1 < cells.len() {
                let pad = w.saturating_sub(cell.chars().count()) + GAP;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// Renders the output of `hsm showPolicies` (PO-20): header, capabilities, policies fixed by
/// the capabilities (shown with their value, cannot be changed), changeable policies, and the
/// note on destructive policies. `label` and `serial` are `None` on an uninitialized unit.
pub(crate) fn render_show_policies(
    caps: &Capabilities,
    policies: &Policies,
    label: Option<&str>,
    serial: Option<&str>,
    firmware: &str,
) -> String {
    let field = |name: &str, value: Option<&str>| match value {
        Some(v) => format!("{name} {}\n", one_line(v)),
        None => format!("{name}\n"),
    };
    let mut out = String::new();
    out.push_str(&field("HSM Label:", label));
    out.push_str(&field("Serial #:", serial));
    out.push_str(&field("Firmware:", Some(firmware)));

    let capabilities = capability_list(caps);
    let first_width = capabilities
        .iter()
        .map(|(_, d, _)| d.len())
        .chain(present_policies().map(|(_, p)| p.name.len()))
        .max()
        .unwrap_or(0);

    out.push_str(
        "\nThe following capabilities describe this HSM, and cannot be altered except using \
         firmware or capability updates.\n\n",
    );
    let rows: Vec<Vec<String>> = capabilities
        .iter()
        .map(|(_, d, v)| vec![(*d).to_owned(), v.to_string()])
        .collect();
    push_columns(&mut out, first_width, &["Description", "Value"], &rows);

    let shown = |r: &Row, p: &PolicyDef| {
        let v = policies.get(r.id);
        if p.numeric() {
            v.to_string()
        } else if v == 0 {
            "Off".to_owned()
        } else {
            "On".to_owned()
        }
    };

    out.push_str(
        "\nThe following policies are fixed by the capabilities of this HSM and cannot be \
         altered directly by the user.\n\n",
    );
    let rows: Vec<Vec<String>> = present_policies()
        .filter(|(r, _)| !r.enabled())
        .map(|(r, p)| vec![p.name.to_owned(), shown(r, p), r.id.to_string()])
        .collect();
    push_columns(
        &mut out,
        first_width,
        &["Description", "Value", "Code"],
        &rows,
    );

    out.push_str(
        "\nThe following policies describe the current configuration of this HSM and may be \
         changed by the HSM Security Officer.\n\n",
    );
    let rows: Vec<Vec<String>> = present_policies()
        .filter(|(r, _)| r.enabled())
        .map(|(r, p)| {
            vec![
                p.name.to_owned(),
                shown(r, p),
                r.id.to_string(),
                p.destructive.yes_no().to_owned(),
            ]
        })
        .collect();
    push_columns(
        &mut out,
        first_width,
        &["Description", "Value", "Code", "Destructive"],
        &rows,
    );

    let whole: Vec<String> = present_policies()
        .filter(|(r, p)| r.enabled() && p.destructive == WholeHsm)
        .map(|(r, _)| r.id.to_string())
        .collect();
    out.push_str(
        "\nChanging a policy marked \"destructive\" erases every application partition and its \
         contents; the HSM Security Officer, domain, auditor and the other policies are kept.",
    );
    match whole.as_slice() {
        [] => {}
        [one] => out.push_str(&format!(" Changing policy {one} zeroizes the entire HSM.")),
        [init @ .., last] => out.push_str(&format!(
            " Changing policies {} or {last} zeroizes the entire HSM.",
            init.join(", ")
        )),
    }
    out.push('\n');
    out
}

/// Writes a policy template (PO-40, PO-41): every policy of this unit with its current value,
/// in id order. `source` is the (label, serial) of an initialized unit, `None` before init,
/// which leaves the "Sourced from HSM" field blank.
pub(crate) fn export_template(
    policies: &Policies,
    source: Option<(&str, &str)>,
    firmware: &str,
) -> String {
    let mut out = format!(
        "# Policy template FW Version {}\n# Field format - Policy ID:Policy Description:Policy \
         Value\n",
        one_line(firmware)
    );
    match source {
        Some((label, serial)) => out.push_str(&format!(
            "# Sourced from HSM: {}, SN: {}\n",
            one_line(label),
            one_line(serial)
        )),
        None => out.push_str("# Sourced from HSM:\n"),
    }
    out.push('\n');
    for (r, p) in present_policies() {
        out.push_str(&format!("{}:\"{}\":{}\n", r.id, p.name, policies.get(r.id)));
    }
    out
}

/// The fields of a well-formed template line `<id>:"<description>":<value>`, both numbers
/// still as text (non-empty ASCII digits). `None` if the line has any other shape.
fn split_template_line(line: &str) -> Option<(&str, &str)> {
    let (id, rest) = line.split_once(':')?;
    let rest = rest.strip_prefix('"')?;
    let (_description, rest) = rest.split_once('"')?;
    let value = rest.strip_prefix(':')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(id) && digits(value)).then_some((id, value))
}

/// Parses a policy template for `hsm init -applytemplate` (PO-42, PO-43).
///
/// Lines are `<id>:"<description>":<value>`, blank, or `#` comments (leading and trailing
/// whitespace ignored). Only the id selects the policy; the description is not compared. A
/// policy the template omits takes its default. Any malformed line, unknown or repeated id,
/// out-of-range value, value the capabilities disallow, or 40 and 46 both on refuses the whole
/// template with the first offending line (for 40 with 46, the later of the two).
pub(crate) fn parse_template(text: &str, caps: &Capabilities) -> Result<Policies, PolicyError> {
    let mut policies = Policies::defaults(caps);
    let mut seen: BTreeMap<u8, usize> = BTreeMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let refuse = |reason: String| Err(PolicyError::Template { line, reason });
        let text = raw.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let Some((id_text, value_text)) = split_template_line(text) else {
            return refuse("malformed line, expected <id>:\"<description>\":<value>".to_owned());
        };
        let Some((row, def)) = id_text.parse::<u8>().ok().and_then(present_policy) else {
            return refuse(format!("unknown policy id {id_text}"));
        };
        let id = row.id;
        if let Some(first) = seen.insert(id, line) {
            return refuse(format!("policy {id} is repeated (first on line {first})"));
        }
        let Ok(value) = value_text.parse::<u32>() else {
            return refuse(format!("value {value_text} of policy {id} is out of range"));
        };
        match check_value(row, def, caps, value) {
            Ok(()) => {}
            Err(PolicyError::ChangeIllegal) => {
                return refuse(format!(
                    "policy {id} cannot be {value}: capability {id} is Disallowed on this HSM"
                ));
            }
            Err(_) => {
                return refuse(format!(
                    "value {value} of policy {id} is out of range 0-{}",
                    def.max_value(caps)
                ));
            }
        }
        let other = match id {
            DECOMMISSION_ON_TAMPER => Some(DISABLE_DECOMMISSION),
            DISABLE_DECOMMISSION => Some(DECOMMISSION_ON_TAMPER),
            _ => None,
        };
        if let Some(other) = other
            && value != 0
            && policies.is_on(other)
        {
            let first = seen.get(&other).copied().unwrap_or(0);
            return refuse(format!(
                "policy {id} cannot be on while policy {other} is on (line {first})"
            ));
        }
        policies.0.insert(id, value);
    }
    Ok(policies)
}
