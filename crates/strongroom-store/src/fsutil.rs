//! Small file-system steps with the durability the commit and rekey protocols rely on.

use std::fs;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Permission bits of every key file.
const KEY_FILE_MODE: u32 = 0o600;
/// Permission bits of a data directory the store creates.
const DIR_MODE: u32 = 0o700;

/// Makes the directory's entries (creations, renames, removals) durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Creates `dir` (and parents) if absent; a directory created here is private to the owner.
pub(crate) fn ensure_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))?;
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent)?;
    }
    Ok(())
}

/// Replaces `dir/name` with `bytes` so that after a crash the file holds either its old or its
/// new contents: write `name.tmp` (mode 0600), fsync it, rename it over `name`, fsync `dir`.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp_name = format!("{name}.tmp");
    let tmp = dir.join(&tmp_name);
    scrub_and_remove(dir, &tmp_name)?;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(KEY_FILE_MODE)
        .open(&tmp)?;
    // `mode` is filtered by the umask; set the bits exactly.
    file.set_permissions(fs::Permissions::from_mode(KEY_FILE_MODE))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&tmp, dir.join(name))?;
    sync_dir(dir)
}

/// Reads `dir/name` if it exists.
pub(crate) fn read_if_exists(dir: &Path, name: &str, limit: usize) -> io::Result<Option<Vec<u8>>> {
    let file = match fs::File::open(dir.join(name)) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err),
    };
    let mut out = Vec::new();
    // One byte over the limit is enough to tell an oversized file.
    let limit = u64::try_from(limit).unwrap_or(u64::MAX);
    file.take(limit.saturating_add(1)).read_to_end(&mut out)?;
    Ok(Some(out))
}

/// Overwrites `dir/name` in place with zeros, fsyncs it, then removes it and fsyncs `dir`.
/// Absent files are fine. On file systems that overwrite in place (ext4, xfs) the old bytes are
/// gone from the disk; see DESIGN.md for the others.
pub(crate) fn scrub_and_remove(dir: &Path, name: &str) -> io::Result<()> {
    if !scrub(dir, name)? {
        return Ok(());
    }
    match fs::remove_file(dir.join(name)) {
        Ok(()) => {}
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    sync_dir(dir)
}

/// Overwrites `dir/name` in place with zeros and fsyncs it. Returns whether the file existed.
pub(crate) fn scrub(dir: &Path, name: &str) -> io::Result<bool> {
    let mut file = match fs::OpenOptions::new().write(true).open(dir.join(name)) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(err) => return Err(err),
    };
    let len = file.metadata()?.len();
    file.seek(SeekFrom::Start(0))?;
    let zeros = [0u8; 4096];
    let mut left = len;
    while left > 0 {
        let n = usize::try_from(left).map_or(zeros.len(), |l| l.min(zeros.len()));
        file.write_all(&zeros[..n])?;
        left = left.saturating_sub(u64::try_from(n).unwrap_or(u64::MAX));
    }
    file.sync_all()?;
    Ok(true)
}

/// Removes `dir/name` if it exists (no scrubbing) and fsyncs `dir`.
pub(crate) fn remove_if_exists(dir: &Path, name: &str) -> io::Result<()> {
    match fs::remove_file(dir.join(name)) {
        Ok(()) => sync_dir(dir),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests;
