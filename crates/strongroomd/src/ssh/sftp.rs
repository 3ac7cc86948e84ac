//! The SFTP subsystem (what current `scp` and `sftp` use) over one user's file area.
//!
//! The client sees the area as `/`: one flat directory of regular files. Paths are resolved by
//! [`crate::files::resolve`] (no `..`, no subdirectories, no leading `.`); links are neither
//! followed nor created; `mkdir`, `rmdir`, `symlink` and `readlink` are refused. Uploads go to
//! a hidden temporary file that is checked against the per-file and per-user bounds on every
//! write and renamed into place only when the client closes it, so a refused or interrupted
//! upload leaves nothing behind.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read as _;
use std::os::unix::fs::FileExt as _;

use russh_sftp::protocol::{
    Attrs, Data, File as SftpFile, FileAttributes, Handle, Name, OpenFlags, Status, StatusCode,
    Version,
};
use russh_sftp::server::StatusReply;

use crate::files::{AreaError, FileArea, FileEntry, Upload, resolve};

/// Most handles open at once in one SFTP session.
const MAX_HANDLES: usize = 32;
/// Largest answer to one read request.
const MAX_READ: u32 = 64 * 1024;

enum Open {
    Read { file: File, name: String },
    Write { upload: Upload, name: String },
    Dir { listed: bool },
}

/// One SFTP session of one appliance user.
pub(crate) struct Sftp {
    area: FileArea,
    user: String,
    source: String,
    data_dir: std::path::PathBuf,
    handles: HashMap<String, Open>,
    next: u64,
}

fn reply(err: AreaError) -> StatusReply {
    let code = match &err {
        AreaError::NotFound(_) => StatusCode::NoSuchFile,
        AreaError::BadName(_) | AreaError::Exists(_) => StatusCode::PermissionDenied,
        AreaError::TooLarge(_) | AreaError::Io(_) => StatusCode::Failure,
    };
    code.with_message(err.to_string())
}

fn status(id: u32) -> Status {
    Status {
        id,
        status_code: StatusCode::Ok,
        error_message: "Ok".into(),
        language_tag: "en-US".into(),
    }
}

fn file_attrs(entry: &FileEntry) -> FileAttributes {
    FileAttributes {
        size: Some(entry.size),
        uid: None,
        user: None,
        gid: None,
        group: None,
        permissions: Some(0o100_600),
        atime: u32::try_from(entry.modified).ok(),
        mtime: u32::try_from(entry.modified).ok(),
    }
}

fn dir_attrs() -> FileAttributes {
    FileAttributes {
        size: Some(0),
        uid: None,
        user: None,
        gid: None,
        group: None,
        permissions: Some(0o040_700),
        atime: None,
        mtime: None,
    }
}

impl Sftp {
    pub(crate) fn new(
        area: FileArea,
        user: &str,
        source: String,
        data_dir: std::path::PathBuf,
    ) -> Self {
        Self {
            area,
            user: user.to_owned(),
            source,
            data_dir,
            handles: HashMap::new(),
            next: 0,
        }
    }

    fn log(&self, event: &str) {
        tracing::info!(user = %self.user, source = %self.source, event, "file transfer");
        crate::applog::record(
            &self.data_dir,
            "info",
            &format!("File transfer: {event} : {} : {}", self.user, self.source),
        );
    }

    fn add_handle(&mut self, open: Open) -> Result<String, StatusReply> {
        if self.handles.len() >= MAX_HANDLES {
            return Err(StatusCode::Failure.with_message("too many open files"));
        }
        self.next += 1;
        let handle = format!("h{}", self.next);
        self.handles.insert(handle.clone(), open);
        Ok(handle)
    }

    fn refuse(&self, what: &str, path: &str, err: AreaError) -> StatusReply {
        tracing::warn!(user = %self.user, source = %self.source, what, path = %path.escape_debug(), %err, "file transfer refused");
        crate::applog::record(
            &self.data_dir,
            "warning",
            &format!(
                "File transfer refused: {what} '{}' ({err}) : {} : {}",
                path.escape_debug(),
                self.user,
                self.source
            ),
        );
        reply(err)
    }

    fn attrs_of(&self, path: &str) -> Result<FileAttributes, StatusReply> {
        match resolve(path).map_err(reply)? {
            None => Ok(dir_attrs()),
            Some(name) => Ok(file_attrs(&self.area.stat(&name).map_err(reply)?)),
        }
    }
}

impl russh_sftp::server::Handler for Sftp {
    type Error = StatusReply;

    fn unimplemented(&self) -> Self::Error {
        StatusCode::OpUnsupported.with_message("not supported by this appliance")
    }

    async fn init(
        &mut self,
        _version: u32,
        _extensions: HashMap<String, String>,
    ) -> Result<Version, Self::Error> {
        self.area.ensure().map_err(reply)?;
        Ok(Version::new())
    }

    async fn realpath(&mut self, id: u32, path: String) -> Result<Name, Self::Error> {
        let shown = match resolve(&path).map_err(reply)? {
            None => "/".to_owned(),
            Some(name) => format!("/{name}"),
        };
        Ok(Name {
            id,
            files: vec![SftpFile::dummy(shown)],
        })
    }

    async fn stat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        Ok(Attrs {
            id,
            attrs: self.attrs_of(&path)?,
        })
    }

    async fn lstat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        Ok(Attrs {
            id,
            attrs: self.attrs_of(&path)?,
        })
    }

    async fn fstat(&mut self, id: u32, handle: String) -> Result<Attrs, Self::Error> {
        let attrs = match self.handles.get(&handle) {
            Some(Open::Read { file, name }) => {
                let size = file.metadata().map(|m| m.len()).unwrap_or(0);
                let modified = self.area.stat(name).map(|e| e.modified).unwrap_or(0);
                file_attrs(&FileEntry {
                    name: name.clone(),
                    size,
                    modified,
                })
            }
            Some(Open::Write { upload, name }) => file_attrs(&FileEntry {
                name: name.clone(),
                size: upload.len(),
                modified: chrono::Utc::now().timestamp(),
            }),
            Some(Open::Dir { .. }) => dir_attrs(),
            None => return Err(StatusCode::Failure.with_message("no such handle")),
        };
        Ok(Attrs { id, attrs })
    }

    async fn setstat(
        &mut self,
        id: u32,
        path: String,
        _attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        // Modes and times are the appliance's to keep; accept and ignore (as for scp -p).
        self.attrs_of(&path)?;
        Ok(status(id))
    }

    async fn fsetstat(
        &mut self,
        id: u32,
        handle: String,
        _attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        if !self.handles.contains_key(&handle) {
            return Err(StatusCode::Failure.with_message("no such handle"));
        }
        Ok(status(id))
    }

    async fn opendir(&mut self, id: u32, path: String) -> Result<Handle, Self::Error> {
        match resolve(&path) {
            Ok(None) => {}
            Ok(Some(name)) => {
                return Err(
                    StatusCode::NoSuchFile.with_message(format!("'{name}' is not a directory"))
                );
            }
            Err(err) => return Err(self.refuse("list", &path, err)),
        }
        let handle = self.add_handle(Open::Dir { listed: false })?;
        Ok(Handle { id, handle })
    }

    async fn readdir(&mut self, id: u32, handle: String) -> Result<Name, Self::Error> {
        let Some(Open::Dir { listed }) = self.handles.get_mut(&handle) else {
            return Err(StatusCode::Failure.with_message("no such directory handle"));
        };
        if *listed {
            return Err(StatusCode::Eof.into());
        }
        *listed = true;
        let files = self
            .area
            .list()
            .map_err(reply)?
            .iter()
            .map(|e| SftpFile::new(e.name.clone(), file_attrs(e)))
            .collect();
        Ok(Name { id, files })
    }

    async fn open(
        &mut self,
        id: u32,
        filename: String,
        pflags: OpenFlags,
        _attrs: FileAttributes,
    ) -> Result<Handle, Self::Error> {
        let name = match resolve(&filename) {
            Ok(Some(name)) => name,
            Ok(None) => {
                return Err(StatusCode::Failure.with_message("'/' is a directory"));
            }
            Err(err) => return Err(self.refuse("open", &filename, err)),
        };
        if pflags.contains(OpenFlags::WRITE) || pflags.contains(OpenFlags::APPEND) {
            let exists = self.area.stat(&name).ok();
            if exists.is_some() && pflags.contains(OpenFlags::EXCLUDE) {
                return Err(StatusCode::Failure.with_message(format!("'{name}' already exists")));
            }
            if exists.is_none() && !pflags.contains(OpenFlags::CREATE) {
                return Err(StatusCode::NoSuchFile.with_message(format!("'{name}' does not exist")));
            }
            let mut upload = self.area.begin_upload().map_err(reply)?;
            if exists.is_some() && !pflags.contains(OpenFlags::TRUNCATE) {
                // Writing into an existing file: start from its content.
                let mut current = self.area.open_read(&name).map_err(reply)?;
                let mut buf = Vec::new();
                current
                    .read_to_end(&mut buf)
                    .map_err(|e| StatusCode::Failure.with_message(e.to_string()))?;
                std::io::Write::write_all(&mut upload.file, &buf)
                    .map_err(|e| StatusCode::Failure.with_message(e.to_string()))?;
            }
            let handle = self.add_handle(Open::Write { upload, name })?;
            return Ok(Handle { id, handle });
        }
        let file = match self.area.open_read(&name) {
            Ok(f) => f,
            Err(err) => return Err(self.refuse("read", &filename, err)),
        };
        let handle = self.add_handle(Open::Read { file, name })?;
        Ok(Handle { id, handle })
    }

    async fn read(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        len: u32,
    ) -> Result<Data, Self::Error> {
        let Some(Open::Read { file, .. }) = self.handles.get(&handle) else {
            return Err(StatusCode::Failure.with_message("no such file handle"));
        };
        let len = usize::try_from(len.min(MAX_READ)).unwrap_or(0);
        let mut buf = vec![0u8; len];
        let n = file
            .read_at(&mut buf, offset)
            .map_err(|e| StatusCode::Failure.with_message(e.to_string()))?;
        if n == 0 && len > 0 {
            return Err(StatusCode::Eof.into());
        }
        buf.truncate(n);
        Ok(Data { id, data: buf })
    }

    async fn write(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<Status, Self::Error> {
        let area = self.area.clone();
        let Some(Open::Write { upload, name }) = self.handles.get(&handle) else {
            return Err(StatusCode::Failure.with_message("no such file handle"));
        };
        let name = name.clone();
        let len = u64::try_from(data.len()).unwrap_or(u64::MAX);
        let end = offset.saturating_add(len);
        let current = upload.len();
        let grown = end.saturating_sub(current);
        // The file's new size, and the area's use with this upload grown to it (the
        // temporary file is already counted in the area's use at its current size).
        let limits = area.limits();
        let check = if end > limits.max_file_bytes {
            Err(AreaError::TooLarge(format!(
                "files are limited to {} bytes",
                limits.max_file_bytes
            )))
        } else if area.usage().saturating_add(grown) > limits.max_user_bytes {
            Err(AreaError::TooLarge(format!(
                "your file area is limited to {} bytes in all",
                limits.max_user_bytes
            )))
        } else {
            Ok(())
        };
        if let Err(err) = check {
            // Drop the upload: its temporary file goes, nothing reaches the area.
            self.handles.remove(&handle);
            return Err(self.refuse("upload", &name, err));
        }
        let Some(Open::Write { upload, .. }) = self.handles.get_mut(&handle) else {
            return Err(StatusCode::Failure.with_message("no such file handle"));
        };
        upload
            .file
            .write_all_at(&data, offset)
            .map_err(|e| StatusCode::Failure.with_message(e.to_string()))?;
        Ok(status(id))
    }

    async fn close(&mut self, id: u32, handle: String) -> Result<Status, Self::Error> {
        match self.handles.remove(&handle) {
            Some(Open::Write { upload, name }) => {
                let size = upload.len();
                if let Err(err) = upload.finish(&self.area, &name) {
                    return Err(self.refuse("upload", &name, err));
                }
                self.log(&format!("uploaded '{name}' ({size} bytes)"));
                Ok(status(id))
            }
            Some(Open::Read { name, file }) => {
                let size = file.metadata().map(|m| m.len()).unwrap_or(0);
                self.log(&format!("downloaded '{name}' ({size} bytes)"));
                Ok(status(id))
            }
            Some(Open::Dir { .. }) => Ok(status(id)),
            None => Err(StatusCode::Failure.with_message("no such handle")),
        }
    }

    async fn remove(&mut self, id: u32, filename: String) -> Result<Status, Self::Error> {
        let name = match resolve(&filename) {
            Ok(Some(name)) => name,
            Ok(None) => return Err(StatusCode::PermissionDenied.with_message("'/' is a directory")),
            Err(err) => return Err(self.refuse("remove", &filename, err)),
        };
        self.area.delete(&name).map_err(reply)?;
        self.log(&format!("removed '{name}'"));
        Ok(status(id))
    }

    async fn rename(
        &mut self,
        id: u32,
        oldpath: String,
        newpath: String,
    ) -> Result<Status, Self::Error> {
        let (from, to) = match (resolve(&oldpath), resolve(&newpath)) {
            (Ok(Some(a)), Ok(Some(b))) => (a, b),
            (Err(err), _) | (_, Err(err)) => return Err(self.refuse("rename", &newpath, err)),
            _ => return Err(StatusCode::PermissionDenied.with_message("'/' cannot be renamed")),
        };
        self.area.rename(&from, &to).map_err(reply)?;
        self.log(&format!("renamed '{from}' to '{to}'"));
        Ok(status(id))
    }

    async fn mkdir(
        &mut self,
        _id: u32,
        path: String,
        _attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        Err(self.refuse(
            "mkdir",
            &path,
            AreaError::BadName("the file area has no subdirectories".into()),
        ))
    }

    async fn rmdir(&mut self, _id: u32, path: String) -> Result<Status, Self::Error> {
        Err(self.refuse(
            "rmdir",
            &path,
            AreaError::BadName("the file area has no subdirectories".into()),
        ))
    }

    async fn symlink(
        &mut self,
        _id: u32,
        linkpath: String,
        _targetpath: String,
    ) -> Result<Status, Self::Error> {
        Err(self.refuse(
            "symlink",
            &linkpath,
            AreaError::BadName("links cannot be created in the file area".into()),
        ))
    }

    async fn readlink(&mut self, _id: u32, path: String) -> Result<Name, Self::Error> {
        Err(self.refuse(
            "readlink",
            &path,
            AreaError::BadName("the file area holds no links".into()),
        ))
    }
}
