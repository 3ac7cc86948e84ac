//! Soak test (not in the default run: `scripts/soak.sh`, or
//! `cargo test -p strongroomd --test soak -- --ignored --nocapture soak`): many clients, each
//! on its own NTLS connection with the Crypto Officer logged in, run a mix of operations
//! against a real `strongroomd run` for a configurable time. Every interval it prints the
//! throughput, the error count and the appliance's resident memory (`VmRSS`); at the end the
//! memory slope (least squares after the first interval). Errors must be zero;
//! `SOAK_MAX_SLOPE_KIB_PER_MIN`, when set, bounds the slope.
//!
//! Settings (environment): `SOAK_SECONDS` (default 60), `SOAK_CLIENTS` (default 8),
//! `SOAK_INTERVAL_SECS` (default 10), `SOAK_SEED`.

mod common;
mod p11wire;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::ntls::NtlsAppliance;
use p11wire::*;
use strongroom_client::Connection;
use strongroom_module::{Attribute, GcmParams, Mechanism};
use strongroom_proto::messages as m;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The appliance's resident memory in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Bytes of every file under `dir` (the store, logs).
fn disk_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => disk_bytes(&e.path()),
                    Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
                    _ => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Least-squares slope of `points` (seconds, KiB), in KiB per minute.
fn slope_per_minute(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if points.len() < 2 {
        return 0.0;
    }
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let (mx, my) = (sx / n, sy / n);
    let (num, den) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| {
        (a + (x - mx) * (y - my), b + (x - mx) * (x - mx))
    });
    if den == 0.0 { 0.0 } else { num / den * 60.0 }
}

/// The shared keys every client uses, found by label.
fn find_one(conn: &Connection, session: u64, label: &str) -> u64 {
    let _: m::FindObjectsInitResponse = ok(
        conn,
        &m::FindObjectsInitRequest {
            session,
            template: template(vec![Attribute::new(CKA_LABEL, label.as_bytes().to_vec())]),
        },
    );
    let r: m::FindObjectsResponse = ok(conn, &m::FindObjectsRequest { session, max: 4 });
    let _: m::FindObjectsFinalResponse = ok(conn, &m::FindObjectsFinalRequest { session });
    assert_eq!(r.objects.len(), 1, "{label}");
    r.objects[0]
}

struct Keys {
    aes: u64,
    private: u64,
    public: u64,
}

/// One operation of the mix; `Err` describes a failure.
fn operation(
    conn: &Connection,
    s: u64,
    keys: &Keys,
    kind: u64,
    n: u64,
    client: usize,
) -> Result<(), String> {
    let fail = |what: &str, c: u32| format!("{what}: {}", name(c));
    match kind {
        0 => {
            let r: m::GenerateRandomResponse = call(
                conn,
                &m::GenerateRandomRequest {
                    session: s,
                    len: 32,
                },
            )
            .map_err(|c| fail("random", c))?;
            (r.data.len() == 32)
                .then_some(())
                .ok_or("random length".into())
        }
        1 => {
            call::<_, m::DigestInitResponse>(
                conn,
                &m::DigestInitRequest {
                    session: s,
                    mechanism: plain(CKM_SHA256),
                },
            )
            .map_err(|c| fail("digest init", c))?;
            let d: m::DigestResponse = call(
                conn,
                &m::DigestRequest {
                    session: s,
                    data: vec![u8::try_from(n % 251).unwrap_or(0); 4096],
                    capacity: Some(32),
                },
            )
            .map_err(|c| fail("digest", c))?;
            (data(d.output).len() == 32)
                .then_some(())
                .ok_or("digest length".into())
        }
        2 => {
            let mut iv = vec![0u8; 12];
            iv[..8].copy_from_slice(&n.to_le_bytes());
            iv[8..].copy_from_slice(&u32::try_from(client).unwrap_or(0).to_le_bytes());
            let mech = Mechanism::AesGcm(GcmParams {
                iv,
                iv_bits: 96,
                aad: b"soak".to_vec(),
                tag_bits: 128,
            });
            let spec = m::MechanismSpec {
                mechanism: mech.ckm(),
                params: mech.encode_params(),
            };
            let plaintext = vec![0x3C; 1024];
            call::<_, m::EncryptInitResponse>(
                conn,
                &m::EncryptInitRequest {
                    session: s,
                    mechanism: spec.clone(),
                    key: keys.aes,
                },
            )
            .map_err(|c| fail("encrypt init", c))?;
            let c: m::EncryptResponse = call(
                conn,
                &m::EncryptRequest {
                    session: s,
                    data: plaintext.clone(),
                    capacity: Some(2048),
                },
            )
            .map_err(|c| fail("encrypt", c))?;
            call::<_, m::DecryptInitResponse>(
                conn,
                &m::DecryptInitRequest {
                    session: s,
                    mechanism: spec,
                    key: keys.aes,
                },
            )
            .map_err(|c| fail("decrypt init", c))?;
            let p: m::DecryptResponse = call(
                conn,
                &m::DecryptRequest {
                    session: s,
                    data: data(c.output),
                    capacity: Some(2048),
                },
            )
            .map_err(|c| fail("decrypt", c))?;
            (data(p.output) == plaintext)
                .then_some(())
                .ok_or("AES-GCM round trip".into())
        }
        3 => {
            let message = n.to_le_bytes().to_vec();
            call::<_, m::SignInitResponse>(
                conn,
                &m::SignInitRequest {
                    session: s,
                    mechanism: plain(CKM_ECDSA_SHA256),
                    key: keys.private,
                },
            )
            .map_err(|c| fail("sign init", c))?;
            let sig: m::SignResponse = call(
                conn,
                &m::SignRequest {
                    session: s,
                    data: message.clone(),
                    capacity: Some(64),
                },
            )
            .map_err(|c| fail("sign", c))?;
            call::<_, m::VerifyInitResponse>(
                conn,
                &m::VerifyInitRequest {
                    session: s,
                    mechanism: plain(CKM_ECDSA_SHA256),
                    key: keys.public,
                },
            )
            .map_err(|c| fail("verify init", c))?;
            call::<_, m::VerifyResponse>(
                conn,
                &m::VerifyRequest {
                    session: s,
                    data: message,
                    signature: data(sig.output),
                },
            )
            .map_err(|c| fail("verify", c))
            .map(|_| ())
        }
        4 | 5 => {
            // A token object (a store write) or a session object, read back and destroyed.
            let value = format!("soak-{client}-{n}").into_bytes();
            let o: m::CreateObjectResponse = call(
                conn,
                &m::CreateObjectRequest {
                    session: s,
                    template: template(vec![
                        Attribute::from_ulong(CKA_CLASS, CKO_DATA),
                        Attribute::from_bool(CKA_TOKEN, kind == 4),
                        Attribute::new(CKA_LABEL, value.clone()),
                        Attribute::new(CKA_VALUE, value.clone()),
                    ]),
                },
            )
            .map_err(|c| fail("create", c))?;
            let v: m::GetAttributeValueResponse = call(
                conn,
                &m::GetAttributeValueRequest {
                    session: s,
                    object: o.object,
                    types: vec![CKA_VALUE],
                },
            )
            .map_err(|c| fail("get attribute", c))?;
            if v.values != [m::AttrValue::Value(value)] {
                return Err("object value read back differs".into());
            }
            call::<_, m::DestroyObjectResponse>(
                conn,
                &m::DestroyObjectRequest {
                    session: s,
                    object: o.object,
                },
            )
            .map_err(|c| fail("destroy", c))
            .map(|_| ())
        }
        _ => {
            let found = find_one(conn, s, "soak-aes");
            (found == keys.aes).then_some(()).ok_or("find".into())
        }
    }
}

#[test]
#[ignore = "soak: run with scripts/soak.sh"]
fn soak() {
    let seconds = setting("SOAK_SECONDS", 60);
    let clients = usize::try_from(setting("SOAK_CLIENTS", 8)).expect("clients");
    let interval = Duration::from_secs(setting("SOAK_INTERVAL_SECS", 10).max(1));
    let seed = Rng::seed_from_env("SOAK_SEED");
    println!("soak: {clients} clients for {seconds} s, interval {interval:?}, seed {seed}");

    let app = NtlsAppliance::start();
    let (id, conn, serial, s) = ready(&app);
    let aes: m::GenerateKeyResponse = ok(
        &conn,
        &m::GenerateKeyRequest {
            session: s,
            mechanism: plain(0x1080),
            template: template(vec![
                Attribute::from_ulong(CKA_VALUE_LEN, 32),
                Attribute::from_bool(CKA_TOKEN, true),
                Attribute::new(CKA_LABEL, b"soak-aes".to_vec()),
                Attribute::from_bool(CKA_ENCRYPT, true),
                Attribute::from_bool(CKA_DECRYPT, true),
            ]),
        },
    );
    let pair: m::GenerateKeyPairResponse = ok(&conn, &p256_pair_request(s, true));
    let keys = Arc::new(Keys {
        aes: aes.key,
        private: pair.private_key,
        public: pair.public_key,
    });
    drop(conn);

    let stop = Arc::new(AtomicBool::new(false));
    let ops = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let first_errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut threads = Vec::new();
    let mut seeds = Rng::new(seed);
    for client in 0..clients {
        let conn = connect(&app, &id);
        let s = open_session(&conn, serial);
        login(&conn, s, CKU_USER, CO_PIN).expect("Crypto Officer login");
        let (stop, ops, errors, first_errors, keys) = (
            stop.clone(),
            ops.clone(),
            errors.clone(),
            first_errors.clone(),
            keys.clone(),
        );
        let mut rng = Rng::new(seeds.next_u64());
        threads.push(std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let kind = rng.range(0, 7);
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    operation(&conn, s, &keys, kind, n, client)
                }))
                .unwrap_or_else(|p| {
                    Err(p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                        .unwrap_or_else(|| "panic".into()))
                });
                match result {
                    Ok(()) => {
                        ops.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        let mut f = first_errors.lock().expect("errors");
                        if f.len() < 10 {
                            f.push(format!("client {client} op {kind}: {e}"));
                        }
                        if conn.is_broken() {
                            return;
                        }
                    }
                }
            }
        }));
    }

    let pid = app.daemon.pid();
    let started = Instant::now();
    let mut samples: Vec<(f64, f64)> = Vec::new();
    let start_rss = rss_kib(pid);
    println!("soak: t=0s rss={:.1} MiB", start_rss as f64 / 1024.0);
    let mut last_ops = 0;
    let mut last = started;
    while started.elapsed() < Duration::from_secs(seconds) {
        let left = Duration::from_secs(seconds).saturating_sub(started.elapsed());
        std::thread::sleep(interval.min(left));
        let now = Instant::now();
        let total = ops.load(Ordering::Relaxed);
        let rss = rss_kib(pid);
        let t = now.duration_since(started).as_secs_f64();
        let rate = (total - last_ops) as f64 / now.duration_since(last).as_secs_f64();
        println!(
            "soak: t={t:.0}s ops={total} ({rate:.0}/s) errors={} rss={:.1} MiB disk={:.1} MiB",
            errors.load(Ordering::Relaxed),
            rss as f64 / 1024.0,
            disk_bytes(&app.data) as f64 / 1024.0 / 1024.0
        );
        samples.push((t, rss as f64));
        last_ops = total;
        last = now;
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("client");
    }
    let total = ops.load(Ordering::Relaxed);
    let errs = errors.load(Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    // The first interval is the warm-up (allocator pools, caches, connections).
    let steady = if samples.len() > 2 {
        &samples[1..]
    } else {
        &samples[..]
    };
    let slope = slope_per_minute(steady);
    let end_rss = samples.last().map_or(0.0, |s| s.1);
    println!(
        "soak: done: {elapsed:.0} s, {clients} clients, {total} operations ({:.0}/s), {errs} \
         errors; rss {:.1} MiB at start, {:.1} MiB at the end; slope after the first interval \
         {slope:.1} KiB/min",
        total as f64 / elapsed,
        start_rss as f64 / 1024.0,
        end_rss / 1024.0
    );
    assert_eq!(
        errs,
        0,
        "errors during the soak: {:#?}",
        first_errors.lock().expect("errors")
    );
    assert!(total > 0, "no operation completed");
    if let Ok(max) = std::env::var("SOAK_MAX_SLOPE_KIB_PER_MIN") {
        let max: f64 = max.parse().expect("SOAK_MAX_SLOPE_KIB_PER_MIN");
        assert!(
            slope <= max,
            "memory grows {slope:.1} KiB/min (at most {max})"
        );
    }
}
