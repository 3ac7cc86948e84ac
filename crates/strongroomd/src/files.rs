//! The per-user file area `DATA_DIR/users/<user>/` (catalog SH-G-15, SH-MISC-03/04): what
//! `scp`/`sftp` reach, and where policy templates, certificates, public keys and archives are
//! read from and written to.
//!
//! Confinement: the area is flat. A name is one path component of 1-255 bytes without `/`,
//! `\`, control characters or a leading `.`; `..` and subdirectories do not exist. Files are
//! opened with `O_NOFOLLOW` and must be regular files, so a symbolic link planted in the area
//! is never followed; nothing here creates links. Names starting with `.` are reserved for
//! uploads in progress, which become visible only when complete (renamed into place).
//!
//! Bounds: each file and each user's whole area have a maximum size (configuration `[files]`).

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// Size bounds of the users' file areas.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FileLimits {
    /// Largest single file, in bytes.
    #[serde(default = "default_max_file")]
    pub max_file_bytes: u64,
    /// Most bytes one user's area may hold.
    #[serde(default = "default_max_user")]
    pub max_user_bytes: u64,
}

fn default_max_file() -> u64 {
    16 * 1024 * 1024
}
fn default_max_user() -> u64 {
    64 * 1024 * 1024
}

impl Default for FileLimits {
    fn default() -> Self {
        Self {
            max_file_bytes: default_max_file(),
            max_user_bytes: default_max_user(),
        }
    }
}

/// Why a file operation was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AreaError {
    /// The name leaves the area or is not allowed.
    BadName(String),
    /// No such file.
    NotFound(String),
    /// A bound would be exceeded.
    TooLarge(String),
    /// The file exists and may not be replaced.
    Exists(String),
    /// An I/O error (the message names the file, never content).
    Io(String),
}

impl std::fmt::Display for AreaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BadName(m) | Self::NotFound(m) | Self::TooLarge(m) | Self::Exists(m) => {
                f.write_str(m)
            }
            Self::Io(m) => f.write_str(m),
        }
    }
}

/// One file of `my file list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FileEntry {
    pub(crate) name: String,
    pub(crate) size: u64,
    /// Modification time, Unix seconds.
    pub(crate) modified: i64,
}

/// One user's file area.
#[derive(Clone, Debug)]
pub(crate) struct FileArea {
    root: PathBuf,
    limits: FileLimits,
}

/// Checks one file name of the area.
pub(crate) fn validate_name(name: &str) -> Result<(), AreaError> {
    let bad = name.is_empty()
        || name.len() > 255
        || name.starts_with('.')
        || name.contains(['/', '\\'])
        || name.chars().any(char::is_control);
    if bad {
        return Err(AreaError::BadName(format!(
            "'{}' is not a valid file name (a plain name in your file area is required)",
            name.escape_debug()
        )));
    }
    Ok(())
}

/// Resolves an SFTP path against the area's root `/`: `None` is the root itself, `Some(name)`
/// a file in it. `.` components and empty ones are dropped; `..`, subdirectories and invalid
/// names are refused.
pub(crate) fn resolve(path: &str) -> Result<Option<String>, AreaError> {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    match parts.as_slice() {
        [] => Ok(None),
        [name] => {
            validate_name(name)?;
            Ok(Some((*name).to_owned()))
        }
        _ => Err(AreaError::BadName(format!(
            "'{}' is outside your file area (it has no subdirectories)",
            path.escape_debug()
        ))),
    }
}

impl FileArea {
    /// The area of `user` under `data_dir`.
    pub(crate) fn new(data_dir: &Path, user: &str, limits: FileLimits) -> Self {
        Self {
            root: data_dir.join("users").join(user),
            limits,
        }
    }

    pub(crate) fn limits(&self) -> FileLimits {
        self.limits
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// Creates the area (owner-only) if needed; refuses a root that is not a real directory.
    pub(crate) fn ensure(&self) -> Result<(), AreaError> {
        if let Some(parent) = self.root.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_err(parent, &e))?;
        }
        match std::fs::symlink_metadata(&self.root) {
            Ok(meta) if meta.file_type().is_dir() => Ok(()),
            Ok(_) => Err(AreaError::Io(format!(
                "{} is not a directory",
                self.root.display()
            ))),
            Err(_) => std::fs::create_dir(&self.root)
                .and_then(|()| {
                    std::fs::set_permissions(&self.root, std::fs::Permissions::from_mode(0o700))
                })
                .map_err(|e| io_err(&self.root, &e)),
        }
    }

    /// The path of file `name` (validated).
    pub(crate) fn path(&self, name: &str) -> Result<PathBuf, AreaError> {
        validate_name(name)?;
        Ok(self.root.join(name))
    }

    /// The regular files of the area (uploads in progress excluded), by name.
    pub(crate) fn list(&self) -> Result<Vec<FileEntry>, AreaError> {
        let mut out = Vec::new();
        let dir = match std::fs::read_dir(&self.root) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(io_err(&self.root, &e)),
        };
        for entry in dir.flatten() {
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if validate_name(&name).is_err() {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.file_type().is_file() {
                continue;
            }
            out.push(FileEntry {
                name,
                size: meta.len(),
                modified: mtime(&meta),
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Bytes used by the area, uploads in progress included.
    pub(crate) fn usage(&self) -> u64 {
        let Ok(dir) = std::fs::read_dir(&self.root) else {
            return 0;
        };
        dir.flatten()
            .filter_map(|e| e.metadata().ok())
            .filter(|m| m.file_type().is_file())
            .map(|m| m.len())
            .sum()
    }

    /// Metadata of a regular file `name` (links are not followed and not reported).
    pub(crate) fn stat(&self, name: &str) -> Result<FileEntry, AreaError> {
        let path = self.path(name)?;
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_file() => Ok(FileEntry {
                name: name.to_owned(),
                size: meta.len(),
                modified: mtime(&meta),
            }),
            _ => Err(not_found(name)),
        }
    }

    /// Opens a regular file for reading without following links.
    pub(crate) fn open_read(&self, name: &str) -> Result<File, AreaError> {
        let path = self.path(name)?;
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&path)
            .map_err(|_| not_found(name))?;
        let meta = file.metadata().map_err(|e| io_err(&path, &e))?;
        if !meta.file_type().is_file() {
            return Err(not_found(name));
        }
        Ok(file)
    }

    /// Reads a whole file (bounded by the per-file maximum).
    pub(crate) fn read(&self, name: &str) -> Result<Vec<u8>, AreaError> {
        let file = self.open_read(name)?;
        let mut out = Vec::new();
        file.take(self.limits.max_file_bytes.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|e| io_err(&self.root.join(name), &e))?;
        if u64::try_from(out.len()).unwrap_or(u64::MAX) > self.limits.max_file_bytes {
            return Err(AreaError::TooLarge(format!(
                "'{name}' is larger than {} bytes",
                self.limits.max_file_bytes
            )));
        }
        Ok(out)
    }

    /// Reads a whole text file.
    pub(crate) fn read_text(&self, name: &str) -> Result<String, AreaError> {
        String::from_utf8(self.read(name)?)
            .map_err(|_| AreaError::BadName(format!("'{name}' is not a text file")))
    }

    /// Creates or replaces file `name` with `bytes`, atomically and within the bounds.
    pub(crate) fn write(&self, name: &str, bytes: &[u8]) -> Result<(), AreaError> {
        let path = self.path(name)?;
        let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        self.ensure()?;
        let replaced = self.stat(name).map(|e| e.size).unwrap_or(0);
        self.check_room(len, replaced)?;
        let mut upload = self.begin_upload()?;
        upload
            .file
            .write_all(bytes)
            .map_err(|e| io_err(&path, &e))?;
        upload.finish(self, name)
    }

    /// Refuses a file of `len` bytes (replacing one of `replaced` bytes) beyond the bounds.
    pub(crate) fn check_room(&self, len: u64, replaced: u64) -> Result<(), AreaError> {
        if len > self.limits.max_file_bytes {
            return Err(AreaError::TooLarge(format!(
                "files are limited to {} bytes",
                self.limits.max_file_bytes
            )));
        }
        let after = self.usage().saturating_sub(replaced).saturating_add(len);
        if after > self.limits.max_user_bytes {
            return Err(AreaError::TooLarge(format!(
                "your file area is limited to {} bytes in all",
                self.limits.max_user_bytes
            )));
        }
        Ok(())
    }

    /// Starts an upload: a new hidden temporary file in the area.
    pub(crate) fn begin_upload(&self) -> Result<Upload, AreaError> {
        self.ensure()?;
        for _ in 0..16 {
            let mut rnd = [0u8; 8];
            aws_lc_rs::rand::SecureRandom::fill(&aws_lc_rs::rand::SystemRandom::new(), &mut rnd)
                .map_err(|_| AreaError::Io("the random source failed".into()))?;
            let tag: String = rnd.iter().map(|b| format!("{b:02x}")).collect();
            let temp = self.root.join(format!(".upload-{tag}"));
            match OpenOptions::new()
                .write(true)
                .read(true)
                .create_new(true)
                .custom_flags(libc::O_NOFOLLOW)
                .mode(0o600)
                .open(&temp)
            {
                Ok(file) => return Ok(Upload { file, temp }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io_err(&temp, &e)),
            }
        }
        Err(AreaError::Io("cannot create an upload file".into()))
    }

    /// Deletes file `name`.
    pub(crate) fn delete(&self, name: &str) -> Result<(), AreaError> {
        self.stat(name)?;
        let path = self.path(name)?;
        std::fs::remove_file(&path).map_err(|e| io_err(&path, &e))
    }

    /// Renames `from` to `to` within the area; `to` must not exist.
    pub(crate) fn rename(&self, from: &str, to: &str) -> Result<(), AreaError> {
        self.stat(from)?;
        let target = self.path(to)?;
        if std::fs::symlink_metadata(&target).is_ok() {
            return Err(AreaError::Exists(format!("'{to}' already exists")));
        }
        let source = self.path(from)?;
        std::fs::rename(&source, &target).map_err(|e| io_err(&source, &e))
    }
}

/// An upload in progress: a hidden temporary file that becomes `name` on [`Upload::finish`],
/// and disappears if dropped unfinished.
pub(crate) struct Upload {
    pub(crate) file: File,
    temp: PathBuf,
}

impl Upload {
    /// Bytes written so far (the temporary file's size).
    pub(crate) fn len(&self) -> u64 {
        self.file.metadata().map(|m| m.len()).unwrap_or(0)
    }

    /// Syncs the file and renames it to `name`, replacing any file of that name.
    pub(crate) fn finish(self, area: &FileArea, name: &str) -> Result<(), AreaError> {
        let target = area.path(name)?;
        if std::fs::symlink_metadata(&target).is_ok_and(|m| !m.file_type().is_file()) {
            return Err(AreaError::Exists(format!(
                "'{name}' exists and is not a regular file"
            )));
        }
        self.file.sync_all().map_err(|e| io_err(&self.temp, &e))?;
        std::fs::rename(&self.temp, &target).map_err(|e| io_err(&target, &e))?;
        if let Ok(dir) = File::open(area.root()) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        // After a successful rename the temporary name is gone and this does nothing.
        let _ = std::fs::remove_file(&self.temp);
    }
}

fn mtime(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_secs()).ok())
        .unwrap_or(0)
}

fn not_found(name: &str) -> AreaError {
    AreaError::NotFound(format!("'{name}' is not in your file area"))
}

fn io_err(path: &Path, err: &std::io::Error) -> AreaError {
    AreaError::Io(format!("{}: {err}", path.display()))
}

/// `my file list` (SH-MISC-03): `<size> <Mon DD HH:MM> <name>` per file, sizes aligned.
pub(crate) fn render_list(entries: &[FileEntry]) -> String {
    let width = entries
        .iter()
        .map(|e| e.size.to_string().len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for e in entries {
        let when = DateTime::<Utc>::from_timestamp(e.modified, 0)
            .map(|t| t.format("%b %d %H:%M").to_string())
            .unwrap_or_default();
        out.push_str(&format!("{:>width$} {when} {}\n", e.size, e.name));
    }
    out
}

#[cfg(test)]
mod tests;
