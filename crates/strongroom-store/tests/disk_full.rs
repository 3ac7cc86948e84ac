//! A full disk, simulated with a file-size limit: the write that hits it fails with
//! `StorageFull`, the store latches, and nothing committed before is lost.
//!
//! The child runs under `ulimit -f` (RLIMIT_FSIZE) with SIGXFSZ ignored, set by `sh` before it
//! executes this test binary again; growing the database past the limit then fails with EFBIG,
//! which the store reports like ENOSPC.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use strongroom_store::{Error, OpenOptions, Store};

const CHILD_ENV: &str = "STRONGROOM_STORE_DISK_FULL_CHILD";
/// `ulimit -f` units are 512 or 1024 bytes depending on the shell: 3 or 6 MiB.
const LIMIT_BLOCKS: u32 = 6144;
const RECORD_LEN: usize = 16 * 1024;

fn value(i: u32) -> Vec<u8> {
    (0..RECORD_LEN)
        .map(|j| (i as usize * 31 + j).to_le_bytes()[0])
        .collect()
}

fn child(dir: &Path) {
    let store = Store::open(dir, OpenOptions::new().create(true)).unwrap();
    let mut out = std::io::stdout();
    let mut i = 0u32;
    let err = loop {
        // Two records per transaction: after the failure neither may be visible.
        match store.write(|t| {
            t.put("data", &i.to_le_bytes(), &value(i))?;
            t.put("data", &(i + 1).to_le_bytes(), &value(i + 1))
        }) {
            Ok(()) => {
                writeln!(out, "ack {}", i + 2).unwrap();
                out.flush().unwrap();
                i += 2;
            }
            Err(err) => break err,
        }
        assert!(i < 10_000, "the file-size limit never hit");
    };
    assert!(
        matches!(err, Error::StorageFull),
        "expected StorageFull, got {err:?}"
    );
    // Latched: no more writes, of any kind, until reopened.
    assert!(matches!(
        store.write(|t| t.put("data", b"small", b"x")),
        Err(Error::Latched)
    ));
    assert!(matches!(store.rekey(|_, _| true), Err(Error::Latched)));
    // The engine refuses reads too after its own I/O failure; whatever a read returns is
    // right.
    match store.get("data", &0u32.to_le_bytes()) {
        Ok(found) => assert_eq!(found.unwrap()[..], value(0)[..]),
        Err(err) => assert!(matches!(err, Error::Latched), "{err:?}"),
    }
    writeln!(out, "latched").unwrap();
}

#[test]
fn disk_full_child() {
    // Runs only when the parent below starts this binary as its child.
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        child(Path::new(&dir));
    }
}

#[test]
fn a_full_disk_fails_the_write_latches_and_loses_nothing() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let exe = std::env::current_exe().unwrap();
    let script = format!("trap '' XFSZ; ulimit -f {LIMIT_BLOCKS} && exec \"$0\" \"$@\"");
    let output = Command::new("sh")
        .args(["-c", &script])
        .arg(&exe)
        .args([
            "--exact",
            "disk_full_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("latched"),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let acked: u32 = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("ack "))
        .filter_map(|n| n.parse().ok())
        .max()
        .unwrap_or(0);
    assert!(acked > 0, "the limit hit before anything was written");

    // Without the limit: everything acknowledged is there, nothing of the failed transaction.
    let store = Store::open(&dir, OpenOptions::new()).unwrap();
    let records = store.scan("data").unwrap();
    assert_eq!(records.len(), acked as usize);
    for (k, v) in &records {
        let i = u32::from_le_bytes(k[..].try_into().unwrap());
        assert!(i < acked);
        assert_eq!(v[..], value(i)[..]);
    }
    // And the store takes writes again.
    store.write(|t| t.put("data", b"after", b"ok")).unwrap();
}
