//! The appliance side of the module's audit log (AU-30, AU-31, AU-34): records move from the
//! module's record space into files of `DATA_DIR/audit/`, rotated by interval and size, once
//! the Auditor has configured logging.
//!
//! Files are named `audit_<module serial>_<first sequence number, 10 digits>.log`, so that
//! their names sort in record order; together with the records still in the module they hold
//! one contiguous sequence (which is what lets verification detect a truncated file). A record
//! leaves the module only after the file holding it is synced: a crash in between leaves the
//! record in both, and the next run skips what the current file already holds. Each record
//! written to a file is also queued for the remote audit servers (`audit remotehost`).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use strongroom_module::AUDIT_LINE_LEN;

use super::Appliance;

/// Serializes the movers (shell sessions and the daemon's timer) of every appliance.
static PUMP: Mutex<()> = Mutex::new(());

/// Records moved per round (bounded memory).
const BATCH: usize = 1024;

/// The appliance's audit directory (the reference's `/var/audit`).
pub(crate) fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("audit")
}

/// The log files, oldest first.
pub(crate) fn files(data_dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir(data_dir))
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.extension().is_some_and(|x| x == "log")
                        && p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with("audit_"))
                        && p.symlink_metadata().is_ok_and(|m| m.is_file())
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Bytes the log files take.
pub(crate) fn usage(data_dir: &Path) -> u64 {
    files(data_dir)
        .iter()
        .filter_map(|p| p.metadata().ok())
        .map(|m| m.len())
        .sum()
}

fn file_seq(line: &[u8]) -> Option<u32> {
    std::str::from_utf8(line.get(..10)?)
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The first record of a file.
pub(crate) fn first_line(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read as _;
    let mut buf = vec![0u8; AUDIT_LINE_LEN];
    let mut f = std::fs::File::open(path).ok()?;
    f.read_exact(&mut buf).ok()?;
    Some(buf)
}

fn last_seq(path: &Path) -> Option<u32> {
    use std::io::{Read as _, Seek as _, SeekFrom};
    let len = path.metadata().ok()?.len();
    let line = u64::try_from(AUDIT_LINE_LEN).ok()?;
    if len < line {
        return None;
    }
    let mut f = std::fs::File::open(path).ok()?;
    f.seek(SeekFrom::Start(len - line)).ok()?;
    let mut buf = vec![0u8; AUDIT_LINE_LEN];
    f.read_exact(&mut buf).ok()?;
    file_seq(&buf)
}

/// Where the current file stands.
struct Current {
    path: PathBuf,
    created: i64,
    size: u64,
    last: Option<u32>,
}

fn created_at(path: &Path) -> i64 {
    // The time of the file's first record (the raw data's Unix time).
    first_line(path)
        .and_then(|l| strongroom_module::internal::raw_of_line(&l))
        .map_or(0, |r| i64::from(r.time))
}

fn current(data_dir: &Path) -> Option<Current> {
    let path = files(data_dir).pop()?;
    Some(Current {
        created: created_at(&path),
        size: path.metadata().map(|m| m.len()).unwrap_or(0),
        last: last_seq(&path),
        path,
    })
}

fn io(what: &str, path: &Path) -> impl FnOnce(std::io::Error) -> String {
    let p = path.display().to_string();
    let what = what.to_owned();
    move |e| format!("cannot {what} {p}: {e}")
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Moves the module's records into the audit files, as far as the files' space allows.
/// Returns how many records moved. Does nothing until the Auditor has configured logging.
pub(crate) fn pump(app: &Appliance) -> Result<usize, String> {
    let _one = PUMP
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let data_dir = &app.data_dir;
    let audit_dir = dir(data_dir);
    let mut moved = 0usize;
    loop {
        let (rotation, batch, serial) = {
            let m = app
                .module
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match m.audit_rotation() {
                None => return Ok(moved),
                Some(r) => (
                    r,
                    m.audit_pending(BATCH).map_err(|e| e.to_string())?,
                    m.serial(),
                ),
            }
        };
        if batch.is_empty() {
            return Ok(moved);
        }
        std::fs::create_dir_all(&audit_dir).map_err(io("create", &audit_dir))?;
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&audit_dir, std::fs::Permissions::from_mode(0o700));
        }
        let mut used = usage(data_dir);
        let mut cur = current(data_dir);
        let mut open: Option<(PathBuf, std::fs::File)> = None;
        let mut through = None;
        let mut forward: Vec<&[u8]> = Vec::new();
        let mut stopped = false;
        let now = chrono::Utc::now().timestamp();
        for (seq, line) in &batch {
            if let Some(c) = &cur
                && c.last.is_some_and(|l| *seq <= l)
            {
                // Already in the file (a crash came between writing and releasing).
                through = Some(*seq);
                continue;
            }
            let len = line.len() as u64;
            if used + len > app.audit.dir_max_bytes {
                // The appliance's audit space is full: records stay in the module.
                stopped = true;
                break;
            }
            let rotate = match &cur {
                None => true,
                Some(c) => {
                    c.size + len > rotation.max_bytes
                        || (rotation.interval_secs > 0
                            && now - c.created
                                >= i64::try_from(rotation.interval_secs).unwrap_or(i64::MAX))
                }
            };
            if rotate {
                let path = audit_dir.join(format!("audit_{serial}_{seq:010}.log"));
                cur = Some(Current {
                    path,
                    created: now,
                    size: 0,
                    last: None,
                });
            }
            let Some(c) = cur.as_mut() else { break };
            if open.as_ref().is_none_or(|(p, _)| *p != c.path) {
                if let Some((p, f)) = open.take() {
                    f.sync_all().map_err(io("sync", &p))?;
                }
                let f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&c.path)
                    .map_err(io("open", &c.path))?;
                {
                    use std::os::unix::fs::PermissionsExt;
                    let _ = f.set_permissions(std::fs::Permissions::from_mode(0o600));
                }
                open = Some((c.path.clone(), f));
            }
            if let Some((p, f)) = open.as_mut() {
                f.write_all(line).map_err(io("write", p))?;
            }
            c.size += len;
            c.last = Some(*seq);
            used += len;
            through = Some(*seq);
            forward.push(line);
            moved += 1;
        }
        if let Some((p, f)) = open.take() {
            f.sync_all().map_err(io("sync", &p))?;
            sync_dir(&audit_dir);
        }
        // In record order: the movers are serialized.
        for line in forward {
            app.remote_log.audit_record(line);
        }
        if let Some(t) = through {
            let m = app
                .module
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            m.audit_release(t).map_err(|e| e.to_string())?;
        }
        if stopped || through.is_none() || batch.len() < BATCH {
            return Ok(moved);
        }
    }
}

/// `audit log clear`: deletes the appliance's audit files (never the records still in the
/// module, AU-34). Returns how many files were deleted.
pub(crate) fn clear(data_dir: &Path) -> Result<usize, String> {
    let _one = PUMP
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let list = files(data_dir);
    for p in &list {
        std::fs::remove_file(p).map_err(io("delete", p))?;
    }
    sync_dir(&dir(data_dir));
    Ok(list.len())
}

/// A `.tgz` of every audit file (`audit log tarlogs`).
pub(crate) fn archive(data_dir: &Path) -> Result<(Vec<u8>, usize), String> {
    let _one = PUMP
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let list = files(data_dir);
    let mut tgz = Vec::new();
    {
        let gz = flate2::write::GzEncoder::new(&mut tgz, flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        for path in &list {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("audit.log");
            let bytes = std::fs::read(path).map_err(io("read", path))?;
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o600);
            header.set_mtime(u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0));
            header.set_cksum();
            tar.append_data(&mut header, format!("audit/{name}"), bytes.as_slice())
                .map_err(|e| format!("cannot archive the audit logs: {e}"))?;
        }
        tar.into_inner()
            .and_then(|gz| gz.finish())
            .map_err(|e| format!("cannot archive the audit logs: {e}"))?;
    }
    Ok((tgz, list.len()))
}

/// A log file of the audit directory by name, with the first record of the file after it.
pub(crate) fn read_in_place(data_dir: &Path, name: &str) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
    if name.contains('/') || name.starts_with('.') {
        return None;
    }
    let list = files(data_dir);
    let i = list
        .iter()
        .position(|p| p.file_name().and_then(|n| n.to_str()) == Some(name))?;
    let bytes = std::fs::read(&list[i]).ok()?;
    let next = list.get(i + 1).and_then(|p| first_line(p));
    Some((bytes, next))
}
