//! `hsm qos metrics show|reset` (partition utilization metrics, catalog MO-20..MO-26) and
//! `hsm information` (the performance monitor, MO-10..MO-12).
//!
//! The module keeps the counters and the busy time; these commands only present them. Who may
//! see or reset the counters (HSM policies 49 and 58) is the module's check.

use std::fmt::Write as _;
use std::time::Duration;

use strongroom_module::{MetricCounts, MetricsReport};

use super::super::engine::{ADMIN, Args, Node, READERS};
use super::super::{CmdResult, Session, Terminal};
use super::{Handler, cmd, group, opt, shell_err};

pub(super) static QOS: &[Node<Handler>] = &[group(
    "metrics",
    "m",
    "> Utilization counters",
    &[
        cmd(
            "show",
            "s",
            "Show the utilization counters",
            READERS,
            &[opt(
                "export",
                "e",
                Some("file"),
                "Also write them to a file in your file area",
            )],
            metrics_show,
        ),
        cmd(
            "reset",
            "r",
            "Reset the utilization counters",
            ADMIN,
            &[
                opt(
                    "export",
                    "e",
                    Some("file"),
                    "Write them to a file first (in the same step)",
                ),
                opt("display", "d", None, "Show them first (in the same step)"),
            ],
            metrics_reset,
        ),
    ],
)];

const BINS: [&str; 6] = [
    "Sign",
    "Verify",
    "Encrypt",
    "Decrypt",
    "KeyGen",
    "KeyDerive",
];

fn bins(c: &MetricCounts) -> [u64; 6] {
    [
        c.sign,
        c.verify,
        c.encrypt,
        c.decrypt,
        c.key_generate,
        c.key_derive,
    ]
}

fn render(report: &MetricsReport) -> String {
    let mut out = String::from("\nPartition Utilization Metrics\n\n");
    let _ = write!(out, "{:<14} {:<32}", "Partition", "Name");
    for b in BINS {
        let _ = write!(out, " {b:>10}");
    }
    out.push('\n');
    let _ = write!(out, "{} {}", "=".repeat(14), "=".repeat(32));
    for _ in BINS {
        let _ = write!(out, " {}", "=".repeat(10));
    }
    out.push('\n');
    let mut line = |serial: &str, name: &str, c: &MetricCounts| {
        let _ = write!(out, "{serial:<14} {name:<32}");
        for v in bins(c) {
            let _ = write!(out, " {v:>10}");
        }
        out.push('\n');
    };
    for p in &report.partitions {
        line(&p.serial.to_string(), &p.name, &p.counts);
    }
    line("HSM total", "", &report.total);
    out
}

/// The export file: CSV, one line per partition and one for the totals.
fn csv(report: &MetricsReport) -> String {
    let mut out = String::from("serial,name,sign,verify,encrypt,decrypt,key_generate,key_derive\n");
    let mut line = |serial: &str, name: &str, c: &MetricCounts| {
        let values: Vec<String> = bins(c).iter().map(u64::to_string).collect();
        // Partition names may hold commas or quotes: quote them the CSV way.
        let _ = writeln!(
            out,
            "{serial},\"{}\",{}",
            name.replace('"', "\"\""),
            values.join(",")
        );
    };
    for p in &report.partitions {
        line(&p.serial.to_string(), &p.name, &p.counts);
    }
    line("total", "", &report.total);
    out
}

fn export(s: &Session, term: &mut dyn Terminal, name: &str, report: &MetricsReport) -> CmdResult {
    crate::files::validate_name(name)?;
    s.files().write(name, csv(report).as_bytes())?;
    term.write(&format!("Metrics written to '{name}' in your file area.\n"));
    Ok(())
}

fn metrics_show(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    if let Some(name) = args.get("export") {
        crate::files::validate_name(name)?;
    }
    let report = s.module().metrics_show(s.access())?;
    term.write(&render(&report));
    if let Some(name) = args.get("export") {
        export(s, term, name, &report)?;
    }
    Ok(())
}

fn metrics_reset(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    if let Some(name) = args.get("export") {
        crate::files::validate_name(name)?;
    }
    // One module step: the counters are read and zeroed together, so no count is lost.
    let report = s.module().metrics_reset(s.access())?;
    if args.flag("display") {
        term.write(&render(&report));
    }
    if let Some(name) = args.get("export") {
        export(s, term, name, &report)?;
    }
    term.write("The utilization counters have been reset.\n");
    Ok(())
}

/// `hsm information`: the module's busy share of wall time over an interval (at least 5 s,
/// the default), repeated `-count` times; `-file` also writes the samples as CSV.
pub(super) fn information(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let interval: u64 = match args.get("interval") {
        None => 5,
        Some(v) => v.parse().ok().filter(|n| *n >= 5).ok_or_else(|| {
            shell_err(format!(
                "the interval must be a number of seconds, at least 5 (not '{v}')"
            ))
        })?,
    };
    let count: u32 = match args.get("count") {
        None => 1,
        Some(v) => v
            .parse()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| shell_err(format!("the count must be 1-1000 (not '{v}')")))?,
    };
    if let Some(name) = args.get("file") {
        crate::files::validate_name(name)?;
    }
    term.write(&format!(
        "\nHSM utilization, sampled every {interval} s ({count} sample{}):\n\n",
        if count == 1 { "" } else { "s" }
    ));
    let mut file = String::from("time,busy_percent\n");
    let mut previous: Option<f64> = None;
    let mut before = s.module().busy_time();
    for n in 1..=count {
        // The module is not locked while waiting.
        std::thread::sleep(Duration::from_secs(interval));
        let after = s.module().busy_time();
        let up = after.up.saturating_sub(before.up).as_secs_f64();
        let busy = after.busy.saturating_sub(before.busy).as_secs_f64();
        let percent = if up > 0.0 {
            (busy / up * 100.0).min(100.0)
        } else {
            0.0
        };
        let now = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC");
        let change = previous.map_or(String::new(), |p| format!(" (change {:+.2})", percent - p));
        term.write(&format!(
            "Sample {n} at {now}: HSM busy {percent:.2}%{change}\n"
        ));
        let _ = writeln!(file, "{now},{percent:.2}");
        previous = Some(percent);
        before = after;
    }
    if let Some(name) = args.get("file") {
        s.files().write(name, file.as_bytes())?;
        term.write(&format!("Samples written to '{name}' in your file area.\n"));
    }
    Ok(())
}
