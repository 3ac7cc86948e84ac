use super::*;

#[test]
fn disk_full_kinds_become_storage_full() {
    for kind in [
        io::ErrorKind::StorageFull,
        io::ErrorKind::QuotaExceeded,
        io::ErrorKind::FileTooLarge,
    ] {
        assert!(matches!(
            Error::from(io::Error::from(kind)),
            Error::StorageFull
        ));
    }
    assert!(matches!(
        Error::from(io::Error::from(io::ErrorKind::PermissionDenied)),
        Error::Io(_)
    ));
}

#[test]
fn engine_errors_map_to_store_errors() {
    let corrupt = Error::from(redb::StorageError::Corrupted("bad page".into()));
    assert!(matches!(corrupt, Error::Integrity { .. }));
    assert!(matches!(
        Error::from(redb::StorageError::PreviousIo),
        Error::Latched
    ));
    let full = redb::StorageError::Io(io::Error::from(io::ErrorKind::StorageFull));
    assert!(matches!(
        Error::from(redb::CommitError::Storage(full)),
        Error::StorageFull
    ));
    assert!(matches!(
        Error::from(redb::DatabaseError::DatabaseAlreadyOpen),
        Error::InUse
    ));
}

#[test]
fn kek_faults_display_without_detail() {
    // A wrong passphrase and a tampered file give one message.
    let text = Error::Kek(KekFault::Rejected).to_string();
    assert!(!text.contains("passphrase"), "{text}");
    assert!(text.contains("KEK"));
}

#[test]
fn platform_failures_latch_and_others_do_not() {
    assert!(Error::StorageFull.is_platform_write_failure());
    assert!(Error::Io(io::Error::other("x")).is_platform_write_failure());
    assert!(
        !Error::Integrity {
            what: String::new()
        }
        .is_platform_write_failure()
    );
    assert!(!Error::InvalidArgument { what: "x" }.is_platform_write_failure());
}
