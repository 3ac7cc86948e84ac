//! What audit logging costs RSA-2048 signing: the same signing load with no usage logging,
//! with first-use-only logging (`audit config -parameter event -value first`) and with every
//! usage logged (`-value asymmetric`), measured in one run. Each record is written durably
//! before its operation answers, as in the appliance.
//!
//! The module is shared by worker threads behind a read-write lock as the appliance shares
//! it; a mover thread takes the records out of the module every 100 ms as the appliance's
//! audit pump does. Each thread signs with its own session: `C_SignInit` (the audited call)
//! then `C_Sign`.
//!
//! `cargo bench -p strongroom-module --bench audit_cost` (environment: `AUDIT_BENCH_SECS`,
//! seconds per configuration, default 5; `AUDIT_BENCH_THREADS`, default 8).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use cryptoki_sys::CKA_MODULUS_BITS;
use strongroom_module::{
    AccessId, Attribute, AuditConfigChange, EventFilter, Hash, Mechanism, Module, ModuleConfig,
    ObjectHandle, Secret, SessionHandle,
};

mod common;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Signatures per second with `threads` threads for `secs` seconds.
fn measure(
    module: &Arc<RwLock<Module>>,
    access: AccessId,
    sessions: &[SessionHandle],
    key: ObjectHandle,
    secs: u64,
) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = sessions
        .iter()
        .map(|&s| {
            let (module, stop, done) = (module.clone(), stop.clone(), done.clone());
            std::thread::spawn(move || {
                let mechanism = Mechanism::RsaPkcsHash(Hash::Sha256);
                while !stop.load(Ordering::Relaxed) {
                    let m = module.read().expect("lock");
                    m.sign_init(access, s, &mechanism, key).expect("sign init");
                    let sig = m
                        .sign(access, s, b"audited message", Some(512))
                        .expect("sign");
                    assert!(sig.into_data().is_some());
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    // The audit mover, as the appliance runs it.
    let mover = {
        let (module, stop) = (module.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                let m = module.read().expect("lock");
                let pending = m.audit_pending(1 << 16).expect("pending");
                if let Some((last, _)) = pending.last() {
                    m.audit_release(*last).expect("release");
                }
            }
        })
    };
    // Warm-up, then the measured interval.
    std::thread::sleep(Duration::from_millis(500));
    let start_count = done.load(Ordering::Relaxed);
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs(secs));
    let count = done.load(Ordering::Relaxed) - start_count;
    let elapsed = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("worker");
    }
    mover.join().expect("mover");
    count as f64 / elapsed
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument that is not this benchmark skips it.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with("--") && !"audit_cost".contains(a.as_str()))
    {
        return;
    }
    let secs = env("AUDIT_BENCH_SECS", 5);
    let threads = usize::try_from(env("AUDIT_BENCH_THREADS", 8)).expect("thread count");
    let mut b = common::setup_with(ModuleConfig {
        // Room for every record between two moves at any rate this machine reaches.
        audit_capacity: 1 << 20,
        ..ModuleConfig::default()
    });
    let (_, key) = b.pair(
        Mechanism::RsaKeyPairGen,
        vec![Attribute::from_ulong(CKA_MODULUS_BITS, 2048)],
    );
    let sessions: Vec<SessionHandle> = (0..threads)
        .map(|_| b.m.open_session(b.a, b.serial, false).expect("session"))
        .collect();
    // The Auditor, on an access of its own.
    let auditor = b.m.open_access();
    let password = Secret::new("Audit-Bench-1");
    b.m.auditor_init(&password, &Secret::new("audit-domain"))
        .expect("audit init");
    b.m.auditor_login(auditor, &password).expect("audit login");
    let a = b.a;
    let module = Arc::new(RwLock::new(b.m));

    println!("RSA-2048 PKCS#1 v1.5 SHA-256 signing, {threads} threads, {secs} s per configuration");
    let mut baseline = None;
    for (name, value) in [
        ("no usage logging", "none"),
        ("first use only", "first"),
        ("every usage", "asymmetric"),
    ] {
        let filter = EventFilter::parse(value).expect("filter");
        module
            .write()
            .expect("lock")
            .audit_config_set(auditor, AuditConfigChange::Event(filter))
            .expect("audit config");
        let rate = measure(&module, a, &sessions, key, secs);
        let base = *baseline.get_or_insert(rate);
        println!(
            "{name:<18} {rate:>9.0} signatures/s  {:>6.3}× no logging",
            rate / base
        );
    }
}
