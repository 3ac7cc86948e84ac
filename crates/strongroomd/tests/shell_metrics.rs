//! `hsm qos metrics` and `hsm information` through the shell (catalog MO-10..MO-26).

mod common;

use common::Rig;

const RESTRICTED: &str = "10A0B : SR_RET_OPERATION_RESTRICTED";
const NOT_LOGGED_IN: &str = "1010000 : SR_RET_USER_NOT_LOGGED_IN";

#[test]
fn metrics_follow_policies_49_and_58() {
    let (rig, mut sh) = Rig::logged_in();
    sh.ok("partition create -partition P1 -force", &[]);
    // Policy 49 off (the default): not available at all.
    sh.fails(
        "hsm qos metrics show",
        &[],
        "hsm qos metrics show",
        RESTRICTED,
    );
    sh.ok("hsm changePolicy -policy 49 -value 1", &[]);
    let out = sh.ok("hsm qos metrics show", &[]);
    for needle in [
        "Partition Utilization Metrics",
        "P1",
        "HSM total",
        "Sign",
        "KeyDerive",
    ] {
        assert!(out.contains(needle), "{needle}:\n{out}");
    }
    // Without policy 58 the HSM SO must be logged in.
    let mut other = rig.admin();
    other.fails(
        "hsm qos metrics show",
        &[],
        "hsm qos metrics show",
        NOT_LOGGED_IN,
    );
    sh.ok("hsm changePolicy -policy 58 -value 1", &[]);
    other.ok("hsm qos metrics show", &[]);
    // Reset with display and export in one step; the export is CSV in the file area.
    let out = sh.ok("hsm qos metrics reset -display -export m1.csv", &[]);
    assert!(
        out.contains("HSM total") && out.contains("have been reset"),
        "{out}"
    );
    let csv = std::fs::read_to_string(rig.admin_files().join("m1.csv")).expect("export");
    assert!(
        csv.starts_with("serial,name,sign,verify,encrypt,decrypt,key_generate,key_derive\n"),
        "{csv}"
    );
    assert!(
        csv.contains(",\"P1\",0,0,0,0,0,0\n") && csv.contains("total,\"\",0,0,0,0,0,0\n"),
        "{csv}"
    );
    // Export names stay inside the file area.
    let out = sh.refused("hsm qos metrics show -export ../x.csv");
    assert!(out.contains("'../x.csv' is not a valid file name"), "{out}");
    assert!(
        !out.contains("HSM total"),
        "refused before anything is shown:\n{out}"
    );
    assert!(
        !rig.data_dir().join("users").join("x.csv").exists(),
        "nothing written outside"
    );
}

#[test]
fn information_samples_the_busy_share() {
    let (rig, mut sh) = Rig::initialized();
    let out = sh.refused("hsm information -interval 4");
    assert!(out.contains("at least 5"), "{out}");
    let out = sh.ok("hsm information -interval 5 -count 1 -file load.csv", &[]);
    assert!(
        out.contains("Sample 1 at ") && out.contains("HSM busy "),
        "{out}"
    );
    let file = std::fs::read_to_string(rig.admin_files().join("load.csv")).expect("samples");
    assert!(
        file.starts_with("time,busy_percent\n") && file.lines().count() == 2,
        "{file}"
    );
}
