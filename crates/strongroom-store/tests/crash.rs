//! Crash consistency against real process kills.
//!
//! The test runs its own binary again as a child that commits transactions in a loop (and now
//! and then rekeys or reopens), printing each transaction only after `write` returned `Ok`.
//! The parent kills the child with SIGKILL at a random moment, reopens the store and checks
//! that every acknowledged transaction is there, whole, and that no transaction is there in
//! part.

// Record keys are big-endian counters so that bytewise key order is numeric order.
#![allow(clippy::big_endian_bytes)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use strongroom_store::{Error, OpenOptions, Store};

const CHILD_ENV: &str = "STRONGROOM_STORE_CRASH_CHILD";
const ITERATIONS: u32 = 15;

/// The value stored under counter `k`: a few hundred bytes derived from `k`.
fn value(k: u64) -> Vec<u8> {
    let len = 200 + usize::try_from(k * 37 % 400).unwrap();
    let mut out = Vec::with_capacity(len);
    let mut x = k.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Whether record `k` exists once the counter has reached `next`: every transaction writes its
/// own records and deletes the multiples of three written 100 records earlier.
fn present(k: u64, next: u64) -> bool {
    k < next && !(k.is_multiple_of(3) && k + 100 < next)
}

fn key(k: u64) -> [u8; 8] {
    k.to_be_bytes()
}

fn read_next(store: &Store) -> u64 {
    store
        .get("meta", b"next")
        .unwrap()
        .map(|v| u64::from_le_bytes(v[..].try_into().unwrap()))
        .unwrap_or(0)
}

fn child(dir: &Path) {
    let mut store = Store::open(dir, OpenOptions::new().create(true)).unwrap();
    let mut next = read_next(&store);
    let mut x = u64::from(std::process::id()) | 1;
    let mut out = std::io::stdout();
    loop {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let n = 1 + x % 4;
        let (start, end) = (next, next + n);
        store
            .write(|t| {
                for k in start..end {
                    t.put("data", &key(k), &value(k))?;
                }
                for d in start.saturating_sub(100)..end.saturating_sub(100) {
                    if d % 3 == 0 {
                        assert!(t.delete("data", &key(d))?, "record {d} should exist");
                    }
                }
                t.put("meta", b"next", &end.to_le_bytes())
            })
            .unwrap();
        writeln!(out, "ack {end}").unwrap();
        out.flush().unwrap();
        next = end;
        match x % 64 {
            0..=2 => {
                store.rekey(|_, _| true).unwrap();
                writeln!(out, "rekeyed").unwrap();
            }
            3 => {
                drop(store);
                store = Store::open(dir, OpenOptions::new()).unwrap();
            }
            _ => {}
        }
    }
}

#[test]
fn crash_child() {
    // Runs only when the parent below starts this binary as its child.
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        child(Path::new(&dir));
    }
}

/// Checks the store after a kill; returns the counter it holds.
fn verify(dir: &Path, acked: u64) -> u64 {
    let store = match Store::open(dir, OpenOptions::new()) {
        Ok(store) => store,
        // Killed while creating the store: nothing was acknowledged yet.
        Err(Error::NotFound) if acked == 0 => return 0,
        Err(err) => panic!("store does not open after a kill: {err}"),
    };
    let next = read_next(&store);
    assert!(
        next >= acked,
        "acknowledged up to {acked} but the store holds {next}"
    );
    let records = store.scan("data").unwrap();
    let mut expected = (0..next).filter(|&k| present(k, next));
    for (k, v) in &records {
        let k = u64::from_be_bytes(k[..].try_into().unwrap());
        assert_eq!(
            expected.next(),
            Some(k),
            "record set differs at {k} (next {next})"
        );
        assert_eq!(v[..], value(k)[..], "value of {k}");
    }
    assert_eq!(expected.next(), None, "records missing (next {next})");
    next
}

#[test]
fn killed_writers_lose_nothing_acknowledged() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let exe = std::env::current_exe().unwrap();
    let started = Instant::now();
    let mut seed = u64::from(started.elapsed().subsec_nanos()) ^ u64::from(std::process::id()) | 1;
    let (mut acked, mut rekeys, mut kills_after_ack) = (0u64, 0u32, 0u32);
    for _ in 0..ITERATIONS {
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let (mut max, mut rekeyed) = (0u64, 0u32);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(n) = line.strip_prefix("ack ") {
                    // A line cut by the kill does not parse and is not an acknowledgement.
                    if let Ok(n) = n.trim().parse::<u64>() {
                        max = max.max(n);
                    }
                } else if line == "rekeyed" {
                    rekeyed += 1;
                }
            }
            (max, rekeyed)
        });
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(100 + seed % 600));
        // SIGKILL on Unix.
        child.kill().unwrap();
        let status = child.wait().unwrap();
        let (max, rekeyed) = reader.join().unwrap();
        if status.success() {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            panic!("child exited before the kill: {err}");
        }
        if max > acked {
            kills_after_ack += 1;
        }
        acked = acked.max(max);
        rekeys += rekeyed;
        let next = verify(&dir, acked);
        acked = acked.max(next);
    }
    eprintln!(
        "{ITERATIONS} kills, {kills_after_ack} after progress, {acked} records, {rekeys} rekeys, {:?}",
        started.elapsed()
    );
    assert!(acked > 0, "the child never acknowledged a transaction");
    assert!(
        kills_after_ack >= ITERATIONS / 2,
        "too few kills landed mid-run"
    );
}
