use super::*;

use CapabilityValue as V;

/// A unit licensed for 100 partitions with 32 MiB of storage.
const CAPS: Capabilities = Capabilities {
    storage_bytes: 33_554_432,
    licensed_partitions: 100,
};

const FW: &str = "7.9.0";

/// What a row's policy should be, written from the reference, not from [`TABLE`].
enum Expect {
    /// Capability only: no policy.
    NoPolicy,
    /// A policy that exists on this unit: name, default, maximum, destructiveness.
    Policy(&'static str, u32, u32, Destructive),
}

/// Splits a showPolicies table line into its cells (cells are separated by 2+ spaces).
fn cells(line: &str) -> Vec<&str> {
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

fn template_error(text: &str) -> (usize, String) {
    match parse_template(text, &CAPS) {
        Err(PolicyError::Template { line, reason }) => (line, reason),
        other => panic!("expected a template error, got {other:?}"),
    }
}

/// Checks one table row: capability, default, range, destructiveness, disallowed refusal,
/// export line, showPolicies line and template acceptance.
fn check_row(id: u8, capability: &str, value: Option<CapabilityValue>, expect: Expect) {
    let row = row(id).expect("row is in the table");
    assert_eq!(row.capability, capability);
    assert_eq!(row.capability_value(&CAPS), value);
    let listed = capability_list(&CAPS)
        .into_iter()
        .find(|(i, _, _)| *i == id);
    assert_eq!(listed, value.map(|v| (id, capability, v)));

    let defaults = Policies::defaults(&CAPS);
    let export = export_template(&defaults, None, FW);
    let exported = |id: u8| export.lines().any(|l| l.starts_with(&format!("{id}:")));
    let shown = render_show_policies(&CAPS, &defaults, Some("sr1"), Some("1234"), FW);
    if let Some(v) = value {
        let line = format!("{capability}    ");
        let cap_line = shown
            .lines()
            .find(|l| l.starts_with(&line))
            .expect("capability shown");
        assert_eq!(cells(cap_line), vec![capability, &v.to_string()]);
    } else {
        assert!(!shown.contains(capability));
    }

    match (value, expect) {
        (_, Expect::NoPolicy) => {
            assert!(row.policy.is_none());
            for v in [0, 1] {
                assert_eq!(
                    check_change(&defaults, &CAPS, 0, id, v),
                    Err(PolicyError::IdInvalid)
                );
            }
            assert!(!exported(id));
            assert!(!defaults.0.contains_key(&id));
            let (line, _) = template_error(&format!("{id}:\"x\":0\n"));
            assert_eq!(line, 1);
        }
        (None, Expect::Policy(name, _, _, destructive)) => {
            // On the reference's FM-ready units only; absent here.
            let def = row.policy.expect("row keeps its policy");
            assert_eq!(def.name, name);
            assert_eq!(def.destructive, destructive);
            for v in [0, 1] {
                assert_eq!(
                    check_change(&defaults, &CAPS, 0, id, v),
                    Err(PolicyError::IdInvalid)
                );
            }
            assert!(!exported(id));
            assert!(!shown.contains(name));
            assert!(!defaults.0.contains_key(&id));
            let (line, reason) = template_error(&format!("\n{id}:\"{name}\":0\n"));
            assert_eq!(line, 2);
            assert!(reason.contains("unknown policy id"), "{reason}");
        }
        (Some(cap), Expect::Policy(name, default, max, destructive)) => {
            let def = row.policy.expect("row has a policy");
            assert_eq!(def.name, name);
            assert_eq!(def.destructive, destructive);
            assert_eq!(def.max_value(&CAPS), max);
            assert_eq!(defaults.get(id), default);
            assert!(defaults.0.contains_key(&id));
            assert!(export.contains(&format!("\n{id}:\"{name}\":{default}\n")));

            let policy_line = shown
                .lines()
                .map(cells)
                .find(|c| c.first() == Some(&name))
                .expect("policy shown");
            let value_text = match (max, default) {
                (1, 0) => "Off".to_owned(),
                (1, _) => "On".to_owned(),
                _ => default.to_string(),
            };
            let id_text = id.to_string();
            assert_eq!(policy_line[1], value_text);
            assert_eq!(policy_line[2], id_text);

            assert_eq!(
                check_change(&defaults, &CAPS, 0, id, max + 1),
                Err(PolicyError::ValueInvalid)
            );
            let same = check_change(&defaults, &CAPS, 0, id, default).expect("no-op");
            assert_eq!(
                (same.old, same.new, same.destructive),
                (default, default, Destructive::No)
            );

            if cap == V::Disallowed {
                assert_eq!(default, 0);
                assert_eq!(
                    policy_line.len(),
                    3,
                    "fixed policies have no Destructive column"
                );
                assert_eq!(
                    check_change(&defaults, &CAPS, 0, id, 1),
                    Err(PolicyError::ChangeIllegal)
                );
                let (line, reason) =
                    template_error(&format!("# c\n7:\"Allow cloning\":1\n{id}:\"{name}\":1\n"));
                assert_eq!(line, 3);
                assert!(reason.contains("Disallowed"), "{reason}");
            } else {
                let yes_no = if destructive == Destructive::No {
                    "No"
                } else {
                    "Yes"
                };
                assert_eq!(policy_line.len(), 4);
                assert_eq!(policy_line[3], yes_no);

                let new = if max == 1 { 1 - default } else { default - 1 };
                let change = check_change(&defaults, &CAPS, 0, id, new).expect("allowed");
                assert_eq!(
                    (change.id, change.old, change.new, change.destructive),
                    (id, default, new, destructive)
                );
                let mut changed = defaults.clone();
                changed.set(change);
                assert_eq!(changed.get(id), new);
                assert_eq!(changed.is_on(id), new != 0);
                let back = check_change(&changed, &CAPS, 0, id, default).expect("back");
                assert_eq!(back.destructive, destructive);

                let parsed = parse_template(&format!("{id}:\"{name}\":{new}\n"), &CAPS)
                    .expect("template accepted");
                assert_eq!(parsed, changed);
            }
        }
    }
}

macro_rules! rows {
    ($($test:ident: $id:expr, $cap:expr, $value:expr, $expect:expr;)*) => {
        $(
            #[test]
            fn $test() {
                check_row($id, $cap, $value, $expect);
            }
        )*

        /// The per-row tests cover exactly the table.
        #[test]
        fn row_tests_cover_the_table() {
            let tested = [$($id),*];
            let table: Vec<u8> = TABLE.iter().map(|r| r.id).collect();
            assert_eq!(tested.as_slice(), table.as_slice());
        }
    };
}

use Destructive::{No, Partitions as Part, WholeHsm as Whole};
use Expect::{NoPolicy, Policy};

rows! {
    row_00: 0, "Enable PIN-based authentication", Some(V::Allowed), NoPolicy;
    row_01: 1, "Enable PED-based authentication", Some(V::Disallowed), NoPolicy;
    row_02: 2, "Performance level", Some(V::Number(15)), NoPolicy;
    row_04: 4, "Enable domestic mechanisms & key sizes", Some(V::Allowed), NoPolicy;
    row_06: 6, "Enable masking", Some(V::Allowed), Policy("Allow masking", 0, 1, Part);
    row_07: 7, "Enable cloning", Some(V::Allowed), Policy("Allow cloning", 1, 1, Part);
    row_09: 9, "Enable full (non-backup) functionality", Some(V::Allowed), NoPolicy;
    row_12: 12, "Enable non-FIPS algorithms", Some(V::Allowed),
        Policy("Allow non-FIPS algorithms", 1, 1, Part);
    row_15: 15, "Enable SO reset of partition PIN", Some(V::Allowed),
        Policy("SO can reset partition PIN", 0, 1, Part);
    row_16: 16, "Enable network replication", Some(V::Allowed),
        Policy("Allow network replication", 1, 1, No);
    row_17: 17, "Enable Korean Algorithms", Some(V::Disallowed), NoPolicy;
    row_19: 19, "Manufacturing Token", Some(V::Disallowed), NoPolicy;
    row_21: 21, "Enable forcing user PIN change", Some(V::Allowed),
        Policy("Force user PIN change after set/reset", 1, 1, No);
    row_22: 22, "Enable portable masking key", Some(V::Allowed),
        Policy("Allow offboard storage", 1, 1, Part);
    row_23: 23, "Enable partition groups", Some(V::Disallowed),
        Policy("Allow partition groups", 0, 1, No);
    row_25: 25, "Enable Remote PED usage", Some(V::Disallowed),
        Policy("Allow remote PED usage", 0, 1, No);
    row_27: 27, "HSM non-volatile storage space", Some(V::Number(33_554_432)), NoPolicy;
    row_30: 30, "Enable Unmasking", Some(V::Allowed), Policy("Allow unmasking", 1, 1, No);
    row_33: 33, "Maximum number of partitions", Some(V::Number(100)),
        Policy("Current maximum number of partitions", 100, 100, No);
    row_35: 35, "Enable Single Domain", Some(V::Disallowed),
        Policy("Force Single Domain", 0, 1, No);
    row_36: 36, "Enable Unified PED Key", Some(V::Disallowed),
        Policy("Allow Unified PED Key", 0, 1, No);
    row_37: 37, "Enable MofN", Some(V::Disallowed), Policy("Allow MofN", 0, 1, No);
    row_38: 38, "Enable small form factor backup/restore", Some(V::Disallowed),
        Policy("Allow small form factor backup/restore", 0, 1, No);
    row_39: 39, "Enable Secure Trusted Channel", Some(V::Allowed),
        Policy("Allow Secure Trusted Channel", 0, 1, No);
    row_40: 40, "Enable decommission on tamper", Some(V::Allowed),
        Policy("Decommission on tamper", 0, 1, Part);
    row_42: 42, "Enable partition re-initialize", Some(V::Disallowed),
        Policy("Allow partition re-initialize", 0, 1, No);
    row_43: 43, "Enable low level math acceleration", Some(V::Allowed),
        Policy("Allow low level math acceleration", 1, 1, No);
    row_45: 45, "Enable Fast-Path", Some(V::Disallowed), NoPolicy;
    row_46: 46, "Allow Disabling Decommission", Some(V::Allowed),
        Policy("Disable Decommission", 0, 1, Whole);
    row_47: 47, "Enable Tunnel Slot", Some(V::Disallowed), Policy("Allow Tunnel Slot", 0, 1, No);
    row_48: 48, "Enable Controlled Tamper Recovery", Some(V::Allowed),
        Policy("Do Controlled Tamper Recovery", 1, 1, No);
    row_49: 49, "Enable Partition Utilization Metrics", Some(V::Allowed),
        Policy("Allow Partition Utilization Metrics", 0, 1, No);
    row_50: 50, "Enable Functionality Modules", None,
        Policy("Allow Functionality Modules", 0, 1, Whole);
    row_51: 51, "Enable SMFS Auto Activation", None,
        Policy("Allow SMFS Auto Activation", 0, 1, Part);
    row_52: 52, "Allow Restricting FM Privilege Level", None,
        Policy("Restrict FM Privilege Level", 0, 1, Part);
    row_53: 53, "Allow Encrypting of Keys from FM to HSM", None,
        Policy("Encrypt keys passing from FM to HSM", 0, 1, Part);
    row_56: 56, "Enable User Defined ECC Curves", Some(V::Allowed),
        Policy("Allow User Defined ECC Curves", 0, 1, Part);
    row_57: 57, "Enable Sync with Host Time", Some(V::Allowed),
        Policy("Allow Sync with Host Time", 0, 1, No);
    row_58: 58, "Enable Unrestricted Metrics Access", Some(V::Allowed),
        Policy("Allow Unrestricted Metrics Access", 0, 1, No);
}

#[test]
fn table_is_ordered_and_excludes_removed_rows() {
    assert!(TABLE.windows(2).all(|w| w[0].id < w[1].id));
    assert!(row(18).is_none(), "removed in 7.7.0");
    assert!(row(55).is_none(), "backup devices only");
    for r in TABLE {
        if let Some(p) = r.policy
            && !r.enabled()
        {
            assert_eq!(p.default, PolicyDefault::Off, "row {}", r.id);
        }
    }
}

#[test]
fn export_lists_the_reference_ids_plus_the_newer_ones() {
    let export = export_template(&Policies::defaults(&CAPS), None, FW);
    let ids: Vec<u8> = export
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            l.split(':')
                .next()
                .and_then(|s| s.parse().ok())
                .expect("id")
        })
        .collect();
    let reference = [
        6, 7, 12, 15, 16, 21, 22, 23, 25, 30, 33, 35, 36, 37, 38, 39, 40, 42, 43, 46, 47, 48, 49,
        56,
    ];
    let mut expected = reference.to_vec();
    expected.extend([57, 58]);
    assert_eq!(ids, expected);
}

#[test]
fn export_format() {
    let mut p = Policies::defaults(&CAPS);
    let change = check_change(&p, &CAPS, 0, 33, 20).expect("lower 33");
    p.set(change);
    let text = export_template(&p, Some(("myHSM", "66331")), "7.9.0");
    let head: Vec<&str> = text.lines().take(6).collect();
    assert_eq!(
        head,
        [
            "# Policy template FW Version 7.9.0",
            "# Field format - Policy ID:Policy Description:Policy Value",
            "# Sourced from HSM: myHSM, SN: 66331",
            "",
            "6:\"Allow masking\":0",
            "7:\"Allow cloning\":1",
        ]
    );
    assert!(text.contains("\n33:\"Current maximum number of partitions\":20\n"));
    assert!(text.ends_with("58:\"Allow Unrestricted Metrics Access\":0\n"));

    let blank = export_template(&p, None, "7.9.0");
    assert_eq!(blank.lines().nth(2), Some("# Sourced from HSM:"));

    // Caller strings cannot add lines to the template.
    let sneaky = export_template(&p, Some(("a\n7:\"x\":0", "1")), "7.9.0\n46:\"x\":1");
    assert_eq!(sneaky.lines().count(), blank.lines().count());
    assert_eq!(parse_template(&sneaky, &CAPS), Ok(p));
}

#[test]
fn decommission_pair_40_then_46() {
    let mut p = Policies::defaults(&CAPS);
    let on40 = check_change(&p, &CAPS, 3, 40, 1).expect("40 on");
    assert_eq!(on40.destructive, Destructive::Partitions);
    p.set(on40);
    // The reference: fails with CKR_CONFIG_FAILS_DEPENDENCIES but still destroys partitions.
    assert_eq!(
        check_change(&p, &CAPS, 3, 46, 1),
        Err(PolicyError::FailsDependencies {
            destroys: Destructive::Partitions
        })
    );
    assert_eq!(p.get(46), 0);
    // Setting 46 to the 0 it already has is a no-op, not a dependency failure.
    let noop = check_change(&p, &CAPS, 3, 46, 0).expect("no-op");
    assert_eq!(noop.destructive, Destructive::No);
    // Turning 40 off first makes 46 possible.
    p.set(check_change(&p, &CAPS, 3, 40, 0).expect("40 off"));
    let on46 = check_change(&p, &CAPS, 0, 46, 1).expect("46 on");
    assert_eq!(on46.destructive, Destructive::WholeHsm);
}

#[test]
fn decommission_pair_46_then_40() {
    let mut p = Policies::defaults(&CAPS);
    p.set(check_change(&p, &CAPS, 0, 46, 1).expect("46 on"));
    assert_eq!(
        check_change(&p, &CAPS, 0, 40, 1),
        Err(PolicyError::FailsDependencies {
            destroys: Destructive::No
        })
    );
    assert!(check_change(&p, &CAPS, 0, 40, 0).is_ok());
    let off46 = check_change(&p, &CAPS, 0, 46, 0).expect("46 off");
    assert_eq!(off46.destructive, Destructive::WholeHsm);
    p.set(off46);
    assert!(check_change(&p, &CAPS, 0, 40, 1).is_ok());
}

#[test]
fn max_partitions_bounds() {
    let p = Policies::defaults(&CAPS);
    let fails = Err(PolicyError::FailsDependencies {
        destroys: Destructive::No,
    });
    assert_eq!(check_change(&p, &CAPS, 10, 33, 9), fails);
    assert_eq!(check_change(&p, &CAPS, 10, 33, 0), fails);
    assert_eq!(
        check_change(&p, &CAPS, 10, 33, 101),
        Err(PolicyError::ValueInvalid)
    );
    assert_eq!(
        check_change(&p, &CAPS, 0, 33, u32::MAX),
        Err(PolicyError::ValueInvalid)
    );
    let lowered = check_change(&p, &CAPS, 10, 33, 10).expect("down to the existing count");
    assert_eq!(
        (lowered.old, lowered.new, lowered.destructive),
        (100, 10, Destructive::No)
    );
    assert!(check_change(&p, &CAPS, 10, 33, 50).is_ok());
    assert!(check_change(&p, &CAPS, 0, 33, 0).is_ok());

    // Raising again up to the licence.
    let mut q = p.clone();
    q.set(lowered);
    assert!(check_change(&q, &CAPS, 10, 33, 100).is_ok());
    assert_eq!(
        check_change(&q, &CAPS, 10, 33, 101),
        Err(PolicyError::ValueInvalid)
    );

    // The default and the maximum follow the licence.
    let small = Capabilities {
        storage_bytes: 1,
        licensed_partitions: 5,
    };
    assert_eq!(Policies::defaults(&small).get(33), 5);
    let (line, reason) = match parse_template("33:\"x\":100\n", &small) {
        Err(PolicyError::Template { line, reason }) => (line, reason),
        other => panic!("{other:?}"),
    };
    assert_eq!(line, 1);
    assert!(reason.contains("out of range 0-5"), "{reason}");
}

#[test]
fn value_range_and_order_of_checks() {
    let p = Policies::defaults(&CAPS);
    for id in [6, 7, 12, 40, 46, 58] {
        assert_eq!(
            check_change(&p, &CAPS, 0, id, 2),
            Err(PolicyError::ValueInvalid)
        );
        assert_eq!(
            check_change(&p, &CAPS, 0, id, 255),
            Err(PolicyError::ValueInvalid)
        );
    }
    // Out of range wins over a disallowed capability.
    assert_eq!(
        check_change(&p, &CAPS, 0, 23, 2),
        Err(PolicyError::ValueInvalid)
    );
    assert_eq!(
        check_change(&p, &CAPS, 0, 23, 1),
        Err(PolicyError::ChangeIllegal)
    );
}

#[test]
fn unknown_ids() {
    let p = Policies::defaults(&CAPS);
    for id in [0, 1, 2, 3, 5, 18, 20, 45, 50, 51, 52, 53, 55, 59, 200, 255] {
        assert_eq!(
            check_change(&p, &CAPS, 0, id, 0),
            Err(PolicyError::IdInvalid),
            "{id}"
        );
    }
}

#[test]
fn get_of_a_non_policy_is_zero() {
    let p = Policies::defaults(&CAPS);
    assert_eq!(p.get(0), 0);
    assert_eq!(p.get(50), 0);
    assert!(!p.is_on(255));
    assert!(p.is_on(7));
}

#[test]
fn show_policies_lists_every_policy_with_its_value() {
    let mut p = Policies::defaults(&CAPS);
    for (id, v) in [(7, 0), (33, 42), (46, 1), (57, 1)] {
        p.set(check_change(&p, &CAPS, 0, id, v).expect("valid"));
    }
    let out = render_show_policies(&CAPS, &p, Some("sr1"), Some("1234"), "7.9.0");
    for (r, def) in present_policies() {
        let v = p.get(r.id);
        let text = if def.numeric() {
            v.to_string()
        } else if v == 0 {
            "Off".to_owned()
        } else {
            "On".to_owned()
        };
        let id = r.id.to_string();
        let found = out.lines().map(cells).any(|c| {
            c.first() == Some(&def.name)
                && c.get(1) == Some(&text.as_str())
                && c.get(2) == Some(&id.as_str())
        });
        assert!(found, "policy {} = {text} missing from:\n{out}", r.id);
    }
    assert!(
        out.lines()
            .map(cells)
            .any(|c| c == ["Allow cloning", "Off", "7", "Yes"])
    );
    assert!(
        out.lines()
            .map(cells)
            .any(|c| c == ["Current maximum number of partitions", "42", "33", "No"])
    );
    assert!(
        out.lines()
            .map(cells)
            .any(|c| c == ["Disable Decommission", "On", "46", "Yes"])
    );
    assert!(
        out.lines()
            .map(cells)
            .any(|c| c == ["Allow MofN", "Off", "37"])
    );
}

#[test]
fn show_policies_layout() {
    let p = Policies::defaults(&CAPS);
    let out = render_show_policies(&CAPS, &p, Some("sr1"), Some("1234"), "7.9.0");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        &lines[..4],
        ["HSM Label: sr1", "Serial #: 1234", "Firmware: 7.9.0", ""]
    );
    assert!(out.contains(
        "The following capabilities describe this HSM, and cannot be altered except using \
         firmware or capability updates."
    ));
    assert!(out.contains("Changing policy 46 zeroizes the entire HSM."));
    assert!(out.ends_with(".\n"));
    assert!(
        lines.iter().all(|l| l.len() == l.trim_end().len()),
        "trailing spaces"
    );
    assert!(!out.contains('\t'));

    // Three tables; in each, every column starts where its header does, and the Value column
    // lines up across all three.
    let headers: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].starts_with("Description"))
        .collect();
    assert_eq!(headers.len(), 3);
    let value_col = lines[headers[0]].find("Value").expect("Value header");
    for &h in &headers {
        let header = lines[h];
        let starts: Vec<usize> = ["Value", "Code", "Destructive"]
            .iter()
            .filter_map(|name| header.find(name))
            .collect();
        assert_eq!(starts[0], value_col);
        let body = lines[h + 1..].iter().take_while(|l| !l.is_empty());
        let mut n = 0;
        for line in body {
            n += 1;
            let bytes = line.as_bytes();
            for &s in &starts {
                assert_eq!(bytes[s - 1], b' ', "{line}");
                assert_ne!(bytes[s], b' ', "{line}");
            }
        }
        assert!(n > 2, "table has rows");
    }
    assert_eq!(
        lines[headers[2]].split_whitespace().collect::<Vec<_>>(),
        ["Description", "Value", "Code", "Destructive"]
    );

    let none = render_show_policies(&CAPS, &p, None, None, "7.9.0");
    assert!(none.starts_with("HSM Label:\nSerial #:\nFirmware: 7.9.0\n"));
}

/// A small deterministic generator, so the round trip needs no extra crate.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: u32) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        u32::try_from(self.0 % u64::from(n)).expect("below n")
    }
}

#[test]
fn template_round_trip() {
    let defaults = Policies::defaults(&CAPS);
    let text = export_template(&defaults, None, FW);
    assert_eq!(parse_template(&text, &CAPS), Ok(defaults.clone()));

    let mut rng = XorShift(0x5eed_1234_abcd_0001);
    for round in 0..2000 {
        let mut p = defaults.clone();
        for (r, def) in present_policies() {
            if !r.enabled() {
                continue;
            }
            let value = rng.below(def.max_value(&CAPS) + 1);
            if let Ok(change) = check_change(&p, &CAPS, 0, r.id, value) {
                p.set(change);
            }
        }
        let source = (round % 2 == 0).then_some(("label_1", "42"));
        let text = export_template(&p, source, FW);
        assert_eq!(parse_template(&text, &CAPS), Ok(p.clone()), "{text}");
        let crlf = text.replace('\n', "\r\n");
        assert_eq!(parse_template(&crlf, &CAPS), Ok(p));
    }
}

#[test]
fn commented_line_takes_the_default() {
    let mut p = Policies::defaults(&CAPS);
    for (id, v) in [(7, 0), (15, 1), (33, 7)] {
        p.set(check_change(&p, &CAPS, 0, id, v).expect("valid"));
    }
    let text = export_template(&p, None, FW)
        .replace("7:\"Allow cloning\"", "#7:\"Allow cloning\"")
        .replace("\n33:", "\n# 33:");
    let parsed = parse_template(&text, &CAPS).expect("valid");
    assert_eq!(parsed.get(7), 1);
    assert_eq!(parsed.get(33), 100);
    assert_eq!(parsed.get(15), 1);

    // Deleting lines works the same; an empty template is all defaults.
    assert_eq!(parse_template("", &CAPS), Ok(Policies::defaults(&CAPS)));
    assert_eq!(
        parse_template("# only\n\n   \n", &CAPS),
        Ok(Policies::defaults(&CAPS))
    );
}

#[test]
fn description_is_informational_and_whitespace_is_trimmed() {
    let parsed = parse_template("  7:\"whatever: really\":0  \n", &CAPS).expect("valid");
    assert_eq!(parsed.get(7), 0);
    let parsed = parse_template("007:\"\":0\n", &CAPS).expect("valid");
    assert_eq!(parsed.get(7), 0);
}

const HEAD: &str = "# Policy template FW Version 7.9.0\n\
                    # Field format - Policy ID:Policy Description:Policy Value\n\
                    # Sourced from HSM:\n\
                    \n\
                    7:\"Allow cloning\":1\n";

#[test]
fn template_rejects_a_bad_value() {
    for bad in [
        "12:\"Allow non-FIPS algorithms\":2",
        "12:\"Allow non-FIPS algorithms\":255",
        "33:\"Current maximum number of partitions\":101",
        "33:\"Current maximum number of partitions\":99999999999",
    ] {
        let (line, reason) = template_error(&format!("{HEAD}{bad}\n6:\"Allow masking\":1\n"));
        assert_eq!(line, 6, "{bad}");
        assert!(reason.contains("out of range"), "{reason}");
    }
}

#[test]
fn template_rejects_a_capability_conflict() {
    for bad in [23, 25, 35, 36, 37, 38, 42, 47] {
        let (line, reason) = template_error(&format!("{HEAD}\n{bad}:\"x\":1\n"));
        assert_eq!(line, 7, "{bad}");
        assert!(reason.contains("Disallowed"), "{reason}");
    }
}

#[test]
fn template_rejects_malformed_lines() {
    for bad in [
        "7:Allow cloning:1",
        "7:\"Allow cloning\"",
        "7:\"Allow cloning\":",
        "7:\"Allow cloning:1",
        "7:\"Allow cloning\":1 # on",
        "7:\"Allow cloning\":on",
        "7:\"Allow cloning\":-1",
        "7:\"Allow cloning\":+1",
        "7 :\"Allow cloning\":1",
        ":\"Allow cloning\":1",
        "x:\"Allow cloning\":1",
        "-7:\"Allow cloning\":1",
        "Allow cloning",
        "7,1",
    ] {
        let (line, reason) = template_error(&format!("{HEAD}{bad}\n"));
        assert_eq!(line, 6, "{bad}");
        assert!(reason.contains("malformed"), "{bad}: {reason}");
    }
}

#[test]
fn template_rejects_a_duplicate_id() {
    let (line, reason) = template_error(&format!("{HEAD}6:\"Allow masking\":0\n007:\"x\":1\n"));
    assert_eq!(line, 7);
    assert!(reason.contains("first on line 5"), "{reason}");
    // Also when the first one is equal and harmless.
    let (line, _) = template_error("40:\"a\":0\n40:\"a\":0\n");
    assert_eq!(line, 2);
}

#[test]
fn template_rejects_unknown_ids() {
    for bad in [
        "0",
        "2",
        "18",
        "45",
        "50",
        "55",
        "59",
        "255",
        "256",
        "99999999999999",
    ] {
        let (line, reason) = template_error(&format!("{HEAD}\n\n{bad}:\"x\":0\n"));
        assert_eq!(line, 8, "{bad}");
        assert!(reason.contains("unknown policy id"), "{reason}");
    }
}

#[test]
fn template_rejects_40_and_46_together() {
    let (line, reason) = template_error("40:\"a\":1\n# x\n46:\"b\":1\n");
    assert_eq!(line, 3);
    assert!(reason.contains("line 1"), "{reason}");
    let (line, _) = template_error("46:\"b\":1\n40:\"a\":1\n");
    assert_eq!(line, 2);
    assert!(parse_template("40:\"a\":1\n46:\"b\":0\n", &CAPS).is_ok());
    assert!(parse_template("40:\"a\":0\n46:\"b\":1\n", &CAPS).is_ok());
}

/// The reference's example template (chapter 6), verbatim but for the source label.
const REFERENCE_EXAMPLE: &str = r#"# Policy template FW Version 7.1.0
# Field format - Policy ID:Policy Description:Policy Value
# Sourced from HSM: myHSM, SN: 66331

6:"Allow masking":0
7:"Allow cloning":1
12:"Allow non-FIPS algorithms":1
15:"SO can reset partition PIN":0
16:"Allow network replication":1
21:"Force user PIN change after set/reset":1
22:"Allow offboard storage":1
23:"Allow partition groups":0
25:"Allow remote PED usage":0
30:"Allow unmasking":1
33:"Current maximum number of partitions":100
35:"Force Single Domain":0
36:"Allow Unified PED Key":0
37:"Allow MofN":0
38:"Allow small form factor backup/restore":0
39:"Allow Secure Trusted Channel":0
40:"Decommission on tamper":0
42:"Allow partition re-initialize":0
43:"Allow low level math acceleration":0
46:"Disable Decommission":1
47:"Allow Tunnel Slot":0
48:"Do Controlled Tamper Recovery":1
49:"Allow Partition Utilization Metrics":0
56:"Allow User Defined ECC Curves":0
"#;

#[test]
fn reference_example_template_parses() {
    let p = parse_template(REFERENCE_EXAMPLE, &CAPS).expect("reference example accepted");
    let expected: Vec<(u8, u32)> = vec![
        (6, 0),
        (7, 1),
        (12, 1),
        (15, 0),
        (16, 1),
        (21, 1),
        (22, 1),
        (23, 0),
        (25, 0),
        (30, 1),
        (33, 100),
        (35, 0),
        (36, 0),
        (37, 0),
        (38, 0),
        (39, 0),
        (40, 0),
        (42, 0),
        (43, 0),
        (46, 1),
        (47, 0),
        (48, 1),
        (49, 0),
        (56, 0),
        (57, 0),
        (58, 0),
    ];
    let got: Vec<(u8, u32)> = p.0.iter().map(|(k, v)| (*k, *v)).collect();
    assert_eq!(got, expected);
    // Exporting it again and parsing gives the same values.
    let again = export_template(&p, Some(("sr1", "66331")), FW);
    assert_eq!(parse_template(&again, &CAPS), Ok(p));
}

#[test]
fn errors_display() {
    let all = [
        PolicyError::IdInvalid,
        PolicyError::ValueInvalid,
        PolicyError::ChangeIllegal,
        PolicyError::FailsDependencies {
            destroys: Destructive::No,
        },
        PolicyError::FailsDependencies {
            destroys: Destructive::Partitions,
        },
        PolicyError::FailsDependencies {
            destroys: Destructive::WholeHsm,
        },
        PolicyError::Template {
            line: 3,
            reason: "unknown policy id 99".to_owned(),
        },
    ];
    let texts: Vec<String> = all.iter().map(ToString::to_string).collect();
    for (i, t) in texts.iter().enumerate() {
        assert!(!t.is_empty());
        assert!(texts[i + 1..].iter().all(|u| u != t), "{t}");
    }
    assert!(texts[6].contains("line 3"));
}

#[test]
fn policies_are_serde() {
    fn serde<T: serde::Serialize + serde::de::DeserializeOwned>() {}
    serde::<Policies>();
    serde::<Capabilities>();
}
