//! The store's one error type and the mapping of storage-engine errors onto it.

use std::fmt;
use std::io;

/// Everything that can go wrong in the store.
///
/// Variants fall into three groups:
/// - the stored data cannot be trusted: [`Error::Integrity`], [`Error::Kek`];
/// - the platform failed: [`Error::Io`], [`Error::StorageFull`], [`Error::Latched`],
///   [`Error::InUse`], [`Error::Poisoned`], [`Error::Crypto`], [`Error::Internal`];
/// - the caller misused the API: [`Error::NotFound`] (no store at the path without `create`),
///   [`Error::InvalidArgument`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A record, the metadata or the database file failed authentication or is structurally
    /// damaged. The store never returns data it could not authenticate; the module treats this
    /// as its halted "stored data integrity" state. `what` names the place (table name, never a
    /// key or a value).
    Integrity {
        /// Where the failure was found.
        what: String,
    },
    /// The key-encryption key could not be obtained. See [`KekFault`]; a wrong passphrase and a
    /// tampered wrapped key are the same fault on purpose.
    Kek(KekFault),
    /// An I/O error from the file system.
    Io(io::Error),
    /// The disk or the file-size quota is full. Nothing already committed was lost; the write
    /// that hit the limit was not committed. The store is latched (see [`Error::Latched`]).
    StorageFull,
    /// An earlier write or fsync failed, so the state on disk is not known to this process. The
    /// store refuses writes until it is dropped and opened again. After a failure inside the
    /// storage engine (as opposed to a KEK file), the engine refuses reads too, with this error.
    Latched,
    /// There is no store in the directory and `create` was not requested.
    NotFound,
    /// Another open [`Store`](crate::Store), in this process or another, holds the database.
    InUse,
    /// A thread panicked while holding one of the store's locks.
    Poisoned,
    /// The crypto library failed to generate randomness or to seal (not an authentication
    /// failure, which is [`Error::Integrity`] or [`Error::Kek`]).
    Crypto,
    /// The caller passed an argument outside the documented limits.
    InvalidArgument {
        /// Which argument and which limit.
        what: &'static str,
    },
    /// The storage engine reported a condition that the store never provokes: a bug.
    Internal {
        /// The engine's description.
        what: String,
    },
}

/// Why the key-encryption key file could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KekFault {
    /// The database exists but the `kek` file does not.
    Missing,
    /// The `kek` file is truncated, has a bad magic or mode, bad parameters or a bad checksum.
    Malformed,
    /// The `kek` file is wrapped under a passphrase and none was given.
    PassphraseRequired,
    /// A passphrase was given but the `kek` file is not wrapped under one.
    PassphraseNotExpected,
    /// The wrapped key did not authenticate: wrong passphrase or a tampered file (deliberately
    /// not told apart).
    Rejected,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Integrity { what } => write!(f, "stored data integrity failure: {what}"),
            Error::Kek(fault) => write!(f, "key-encryption key unavailable: {fault}"),
            Error::Io(err) => write!(f, "store I/O error: {err}"),
            Error::StorageFull => f.write_str("storage full: the write was not committed"),
            Error::Latched => {
                f.write_str("store refuses writes after an earlier write failure; reopen it")
            }
            Error::NotFound => f.write_str("no store in the directory"),
            Error::InUse => f.write_str("store is already open"),
            Error::Poisoned => f.write_str("store lock poisoned by a panic"),
            Error::Crypto => f.write_str("crypto library failure"),
            Error::InvalidArgument { what } => write!(f, "invalid argument: {what}"),
            Error::Internal { what } => write!(f, "internal store error: {what}"),
        }
    }
}

impl fmt::Display for KekFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KekFault::Missing => "KEK file missing",
            KekFault::Malformed => "KEK file malformed",
            KekFault::PassphraseRequired => "KEK file needs a passphrase",
            KekFault::PassphraseNotExpected => "KEK file is not passphrase-protected",
            KekFault::Rejected => "KEK could not be unwrapped",
        })
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(err) => Some(err),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    /// Disk-full and quota conditions become [`Error::StorageFull`]; the rest stay I/O errors.
    fn from(err: io::Error) -> Self {
        match err.kind() {
            io::ErrorKind::StorageFull
            | io::ErrorKind::QuotaExceeded
            | io::ErrorKind::FileTooLarge => Error::StorageFull,
            _ => Error::Io(err),
        }
    }
}

impl From<redb::StorageError> for Error {
    fn from(err: redb::StorageError) -> Self {
        match err {
            redb::StorageError::Corrupted(msg) => Error::Integrity {
                what: format!("database file: {msg}"),
            },
            redb::StorageError::ValueTooLarge(_) => Error::InvalidArgument {
                what: "value too large for the storage engine",
            },
            // The engine reads pages with exact-length reads and checks the file's magic: a
            // short read or a bad magic means the file is not what the engine wrote.
            redb::StorageError::Io(io)
                if matches!(
                    io.kind(),
                    io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData
                ) =>
            {
                Error::Integrity {
                    what: format!("database file: {io}"),
                }
            }
            redb::StorageError::Io(io) => io.into(),
            redb::StorageError::PreviousIo | redb::StorageError::DatabaseClosed => Error::Latched,
            redb::StorageError::LockPoisoned(_) => Error::Poisoned,
            other => Error::Internal {
                what: other.to_string(),
            },
        }
    }
}

impl From<redb::TableError> for Error {
    fn from(err: redb::TableError) -> Self {
        match err {
            redb::TableError::Storage(storage) => storage.into(),
            // The store creates only `&[u8] -> &[u8]` tables: any other shape in the file was
            // not written by it.
            redb::TableError::TableTypeMismatch { .. }
            | redb::TableError::TableIsMultimap(_)
            | redb::TableError::TableIsNotMultimap(_)
            | redb::TableError::TypeDefinitionChanged { .. } => Error::Integrity {
                what: format!("database file: {err}"),
            },
            other => Error::Internal {
                what: other.to_string(),
            },
        }
    }
}

impl From<redb::DatabaseError> for Error {
    fn from(err: redb::DatabaseError) -> Self {
        match err {
            redb::DatabaseError::Storage(storage) => storage.into(),
            redb::DatabaseError::DatabaseAlreadyOpen => Error::InUse,
            redb::DatabaseError::UpgradeRequired(version) => Error::Integrity {
                what: format!("database file has unsupported engine format {version}"),
            },
            other => Error::Internal {
                what: other.to_string(),
            },
        }
    }
}

impl From<redb::TransactionError> for Error {
    fn from(err: redb::TransactionError) -> Self {
        match err {
            redb::TransactionError::Storage(storage) => storage.into(),
            other => Error::Internal {
                what: other.to_string(),
            },
        }
    }
}

impl From<redb::CommitError> for Error {
    fn from(err: redb::CommitError) -> Self {
        match err {
            redb::CommitError::Storage(storage) => storage.into(),
            other => Error::Internal {
                what: other.to_string(),
            },
        }
    }
}

impl From<redb::SetDurabilityError> for Error {
    fn from(err: redb::SetDurabilityError) -> Self {
        Error::Internal {
            what: err.to_string(),
        }
    }
}

impl Error {
    /// Whether this error means the platform failed underneath a write, so that the state on
    /// disk is unknown and the store must latch.
    pub(crate) fn is_platform_write_failure(&self) -> bool {
        matches!(
            self,
            Error::Io(_) | Error::StorageFull | Error::Latched | Error::Internal { .. }
        )
    }
}

/// Runs storage-engine code and turns a panic inside it into [`Error::Integrity`].
///
/// The engine asserts on shapes of data that it never writes itself (redb 3.1 trusts some
/// metadata that no checksum covers), so a panic there means a damaged file. Callers latch
/// the store when this happens on a write path.
pub(crate) fn engine<T>(body: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).unwrap_or_else(|_| {
        Err(Error::Integrity {
            what: ENGINE_PANIC.to_owned(),
        })
    })
}

/// The `what` of an integrity error raised by [`engine`].
const ENGINE_PANIC: &str = "database file: the storage engine failed on damaged data";

/// Whether `err` was raised by [`engine`] catching a panic.
pub(crate) fn is_engine_panic(err: &Error) -> bool {
    matches!(err, Error::Integrity { what } if what.as_str() == ENGINE_PANIC)
}

#[cfg(test)]
mod tests;
