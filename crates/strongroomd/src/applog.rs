//! The appliance log (catalog SH-G-13, SH-LOG-05): administrative actions and logins, one line
//! each, in `DATA_DIR/log/appliance.log`, kept apart from the module's audit log.
//!
//! Line format (the reference's syslog line, with a UTC timestamp and our daemon's name):
//! `2026-01-31T12:00:00Z strongroomd[<pid>]: info : 0 : Command: hsm login -password * :
//! admin : 127.0.0.1/53422`. Secrets never reach this file: commands arrive here already
//! masked. The file is rotated at 4 MiB, keeping four older files (`appliance.log.1` ..
//! `.4`); `syslog tail` reads it and `syslog tarlogs` archives it. Every line also goes to the
//! daemon's `tracing` log, and to the remote syslog servers (`syslog remotehost`).

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const MAX_BYTES: u64 = 4 * 1024 * 1024;
const KEEP: u32 = 4;

/// Serializes appends and rotation within this process.
static LOCK: Mutex<()> = Mutex::new(());

/// The log directory of `data_dir`.
pub(crate) fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("log")
}

fn current(data_dir: &Path) -> PathBuf {
    dir(data_dir).join("appliance.log")
}

/// Appends one event. `level` is `info`, `warning` or `notice`; failures to write are
/// reported through `tracing` and otherwise ignored (logging never stops a command).
pub(crate) fn record(data_dir: &Path, level: &str, event: &str) {
    let line = format!(
        "{} strongroomd[{}]: {level} : 0 : {}\n",
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ"),
        std::process::id(),
        event.replace(['\n', '\r'], " ")
    );
    {
        let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(err) = append(data_dir, &line) {
            tracing::warn!(%err, "cannot write the appliance log");
        }
    }
    if let Some((_, text)) = line.trim_end().split_once("]: ") {
        crate::remotelog::appliance_event(data_dir, level, text);
    }
}

fn append(data_dir: &Path, line: &str) -> std::io::Result<()> {
    let dir = dir(data_dir);
    std::fs::create_dir_all(&dir)?;
    let path = current(data_dir);
    if std::fs::metadata(&path).is_ok_and(|m| m.len() >= MAX_BYTES) {
        for n in (1..KEEP).rev() {
            let _ = std::fs::rename(dir.join(format!("appliance.log.{n}")), {
                dir.join(format!("appliance.log.{}", n + 1))
            });
        }
        std::fs::rename(&path, dir.join("appliance.log.1"))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path)?;
    file.write_all(line.as_bytes())
}

/// The last `count` lines (containing `search`, when given), oldest first.
pub(crate) fn tail(data_dir: &Path, count: usize, search: Option<&str>) -> Vec<String> {
    let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let mut lines: Vec<String> = Vec::new();
    for path in files(data_dir).iter().rev() {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        lines.extend(
            text.lines()
                .filter(|l| search.is_none_or(|s| l.contains(s)))
                .map(str::to_owned),
        );
    }
    let skip = lines.len().saturating_sub(count);
    lines.split_off(skip)
}

/// The log files, newest first.
pub(crate) fn files(data_dir: &Path) -> Vec<PathBuf> {
    let dir = dir(data_dir);
    let mut out = vec![current(data_dir)];
    out.extend((1..=KEEP).map(|n| dir.join(format!("appliance.log.{n}"))));
    out.retain(|p| p.is_file());
    out
}
