//! Text output of the shell commands, laid out as the reference's examples.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use strongroom_module::{HsmInfo, License, PartitionInfo, TamperReport};

pub(crate) fn time(unix: i64) -> String {
    DateTime::<Utc>::from_timestamp(unix, 0)
        .map(|t| t.format("%a %b %e %H:%M:%S UTC %Y").to_string())
        .unwrap_or_else(|| unix.to_string())
}

fn row(out: &mut String, name: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "{:<36}{value}", format!("{name}:"));
}

/// `hsm show` (SH-HSM-01).
pub(crate) fn hsm_show(info: &HsmInfo, integrity_failure: Option<&str>) -> String {
    let mut out = String::new();
    out.push_str("\nAppliance Details:\n==================\n");
    row(&mut out, "Software Version", env!("CARGO_PKG_VERSION"));
    out.push_str("\nHSM Details:\n============\n");
    row(&mut out, "HSM Label", info.label.as_deref().unwrap_or(""));
    row(&mut out, "Serial #", info.serial);
    row(&mut out, "Firmware", info.firmware);
    row(&mut out, "HSM Model", "Strongroom software module");
    row(&mut out, "HSM Status", info.status.text());
    row(&mut out, "Authentication Method", "Password");
    row(
        &mut out,
        "HSM Admin login status",
        if info.so_logged_in {
            "Logged In"
        } else {
            "Not Logged In"
        },
    );
    row(
        &mut out,
        "HSM Admin login attempts left",
        format!("{} before HSM zeroization!", info.so_attempts_left),
    );
    row(
        &mut out,
        "RPV Initialized",
        "No (not applicable: password authentication)",
    );
    row(
        &mut out,
        "Audit Role Initialized",
        yes_no(info.audit_role_initialized),
    );
    row(&mut out, "Remote Login Initialized", "No");
    row(
        &mut out,
        "Manually Zeroized",
        yes_no(info.manually_zeroized),
    );
    row(
        &mut out,
        "Secure Transport Mode",
        yes_no(info.secure_transport_mode),
    );
    row(
        &mut out,
        "HSM Tamper State",
        if info.tamper_detected {
            "Tamper(s) detected"
        } else {
            "No tamper(s)"
        },
    );
    if let Some(what) = integrity_failure {
        let _ = writeln!(
            out,
            "\n*** HSM HALTED: stored data integrity error ({what})."
        );
        out.push_str("*** Only 'hsm factoryReset' on the local console recovers the HSM.\n");
    }
    if !info.status_is_initialized() {
        out.push_str("\n*** HSM IS ZEROIZED: 'hsm init' is required before use.\n");
    }
    out.push_str("\nPartitions created on HSM:\n==========================\n");
    if info.partitions.is_empty() {
        out.push_str("There are no partitions.\n");
    }
    for (serial, name) in &info.partitions {
        row(&mut out, "Partition", format!("{serial}, Name: {name}"));
    }
    out.push('\n');
    row(
        &mut out,
        "Number of partitions allowed",
        info.partitions_allowed,
    );
    row(
        &mut out,
        "Number of partitions created",
        info.partitions.len(),
    );
    out.push_str("\nFIPS Operation:\n===============\n");
    out.push_str(if info.fips_approved {
        "The HSM is in FIPS approved operation mode.\n"
    } else {
        "The HSM is NOT in FIPS approved operation mode.\n"
    });
    out.push_str("\nSystem Times:\n=============\n");
    row(&mut out, "HSM Time", time(info.hsm_time));
    row(&mut out, "Host Time", time(info.host_time));
    row(
        &mut out,
        "Difference",
        format!("{} sec", (info.hsm_time - info.host_time).abs()),
    );
    out.push_str("\nHSM Storage Information:\n========================\n");
    row(
        &mut out,
        "Maximum HSM Storage Space (Bytes)",
        info.storage.total,
    );
    row(&mut out, "Space In Use (Bytes)", info.storage.used);
    row(&mut out, "Free Space Left (Bytes)", info.storage.free);
    out
}

fn yes_no(v: bool) -> &'static str {
    if v { "Yes" } else { "No" }
}

/// Whether `hsm show` should say the module is zeroized.
trait Initialized {
    fn status_is_initialized(&self) -> bool;
}

impl Initialized for HsmInfo {
    fn status_is_initialized(&self) -> bool {
        self.label.is_some() || matches!(self.status, strongroom_module::HsmStatus::IntegrityHalt)
    }
}

/// `partition list` (SH-PAR-04).
pub(crate) fn partition_list(list: &[PartitionInfo]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n{:<14} {:<32} {:>7} {:>7} {:>12} {:>12} {:>12}",
        "", "", "", "", "Storage", "(bytes)", ""
    );
    let _ = writeln!(
        out,
        "{:<14} {:<32} {:>7} {:>7} {:>12} {:>12} {:>12}",
        "Partition", "Name", "Version", "Objects", "Total", "Used", "Free"
    );
    let _ = writeln!(
        out,
        "{} {} {} {} {} {} {}",
        "=".repeat(14),
        "=".repeat(32),
        "=".repeat(7),
        "=".repeat(7),
        "=".repeat(12),
        "=".repeat(12),
        "=".repeat(12)
    );
    for p in list {
        let _ = writeln!(
            out,
            "{:<14} {:<32} {:>7} {:>7} {:>12} {:>12} {:>12}",
            p.serial, p.name, p.version, p.objects, p.total, p.used, p.free
        );
    }
    if list.is_empty() {
        out.push_str("There are no partitions.\n");
    }
    out
}

/// `partition show`.
pub(crate) fn partition_show(p: &PartitionInfo) -> String {
    let mut out = String::from("\n");
    row(&mut out, "Partition Name", &p.name);
    row(&mut out, "Partition SN", p.serial);
    row(&mut out, "Partition Version", p.version);
    row(&mut out, "Created", time(p.created_at));
    row(&mut out, "Objects", p.objects);
    row(&mut out, "Storage Total (Bytes)", p.total);
    row(&mut out, "Storage Used (Bytes)", p.used);
    row(&mut out, "Storage Free (Bytes)", p.free);
    row(
        &mut out,
        "Overhead (Bytes)",
        strongroom_module::PARTITION_OVERHEAD,
    );
    out
}

/// `hsm displayLicenses` (SH-HSM-23).
pub(crate) fn licenses(list: &[License]) -> String {
    let mut out = String::from("\nHSM CAPABILITY LICENSES\n\n");
    let _ = writeln!(out, "{:<16} Description", "License ID");
    let _ = writeln!(out, "{:<16} {}", "=".repeat(16), "=".repeat(40));
    for l in list {
        let _ = writeln!(out, "{:<16} {}", l.id, l.description);
    }
    out
}

/// `hsm tamper show` (SH-HSM-13).
pub(crate) fn tamper(report: &TamperReport) -> String {
    let mut out = String::from("\n");
    match &report.last {
        None => out.push_str("No tamper events have been recorded.\n"),
        Some(event) => {
            row(&mut out, "Last tamper event", event.kind.description());
            row(&mut out, "Time", time(event.at));
            row(
                &mut out,
                "Decommissioned the HSM",
                yes_no(event.decommissioned),
            );
            row(&mut out, "Tamper condition active", yes_no(report.active));
            row(
                &mut out,
                "Tamper clear required",
                yes_no(report.clear_required),
            );
            row(
                &mut out,
                "HSM restart required",
                yes_no(report.restart_required),
            );
            row(&mut out, "Tamper events recorded", report.history.len());
        }
    }
    out
}
