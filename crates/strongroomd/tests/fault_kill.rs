//! Fault survival over the real NTLS link to a real `strongroomd run`:
//!
//! - the appliance is killed with SIGKILL at random moments while clients create token
//!   objects, and restarted each time: every creation the appliance acknowledged is there with
//!   all its attributes and still works, nothing else half-exists, and the appliance keeps
//!   serving (the cycle count and seed are printed; `STRONGROOM_FAULT_SEED` replays a run and
//!   `STRONGROOM_FAULT_CYCLES` changes the count);
//! - the link is cut under a client in the middle of its calls, by a closed connection or by a
//!   silent one: the client gets a transport error, a new connection works, and the appliance
//!   closes every session of the dead connection (measured by the module's session capacity).

mod common;
mod p11wire;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use common::ntls::{ClientId, NtlsAppliance};
use p11wire::*;
use strongroom_client::{Connection, Error, Timeouts};
use strongroom_module::{Attribute, GcmParams, MAX_SESSIONS, Mechanism};
use strongroom_proto::messages as m;

/// Kill and restart cycles unless `STRONGROOM_FAULT_CYCLES` says otherwise.
const CYCLES: usize = 10;
/// Writer threads per connection, and connections, during each cycle.
const WRITERS: usize = 2;
const CONNECTIONS: usize = 2;
/// Creations attempted per cycle at most, by all writers together (bounds the partition's
/// growth); the kill comes after at most [`MAX_ACKS_BEFORE_KILL`] acknowledgements, so that
/// the writers are still busy then.
const BUDGET: usize = 200;
const MAX_ACKS_BEFORE_KILL: u64 = 150;
const APPLICATION: &str = "fault-survival";
const PLAINTEXT: &[u8] = b"sixteen byte blk and some more bytes";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A data object whose `CKA_VALUE` is [`value_of`] its label.
    Data,
    /// A sensitive AES-256 key whose value is [`value_of`] its label.
    Aes,
}

/// The value every object gets: 32 bytes derived from its label.
fn value_of(label: &str) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, label.as_bytes())
        .as_ref()
        .to_vec()
}

fn iv_of(label: &str) -> [u8; 12] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, format!("iv:{label}").as_bytes());
    let mut iv = [0u8; 12];
    iv.copy_from_slice(&d.as_ref()[..12]);
    iv
}

fn gcm(label: &str) -> Mechanism {
    Mechanism::AesGcm(GcmParams {
        iv: iv_of(label).to_vec(),
        iv_bits: 96,
        aad: label.as_bytes().to_vec(),
        tag_bits: 128,
    })
}

/// AES-256-GCM computed here, for the known answer.
fn expected_ciphertext(label: &str) -> Vec<u8> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &value_of(label)).expect("key"));
    let mut out = PLAINTEXT.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(iv_of(label)),
        Aad::from(label.as_bytes()),
        &mut out,
    )
    .expect("seal");
    out
}

fn creation(session: u64, label: &str, kind: Kind) -> m::CreateObjectRequest {
    let mut attrs = vec![
        Attribute::from_bool(CKA_TOKEN, true),
        Attribute::new(CKA_LABEL, label.as_bytes().to_vec()),
        Attribute::new(CKA_VALUE, value_of(label)),
    ];
    match kind {
        Kind::Data => {
            attrs.push(Attribute::from_ulong(CKA_CLASS, CKO_DATA));
            attrs.push(Attribute::new(
                CKA_APPLICATION,
                APPLICATION.as_bytes().to_vec(),
            ));
        }
        Kind::Aes => {
            attrs.push(Attribute::from_ulong(CKA_CLASS, CKO_SECRET_KEY));
            attrs.push(Attribute::from_ulong(CKA_KEY_TYPE, CKK_AES));
            attrs.push(Attribute::new(CKA_ID, label.as_bytes().to_vec()));
            attrs.push(Attribute::from_bool(CKA_SENSITIVE, true));
            attrs.push(Attribute::from_bool(CKA_EXTRACTABLE, false));
            attrs.push(Attribute::from_bool(CKA_ENCRYPT, true));
            attrs.push(Attribute::from_bool(CKA_DECRYPT, true));
        }
    }
    m::CreateObjectRequest {
        session,
        template: template(attrs),
    }
}

/// Whether the error is the link failing (not a refusal, not a misuse).
fn is_transport(err: &Error) -> bool {
    matches!(
        err,
        Error::Io(_) | Error::Tls(_) | Error::Protocol(_) | Error::ConnectionLost | Error::Timeout
    )
}

/// What the clients know: every label they sent, and those the appliance acknowledged.
#[derive(Default)]
struct Ledger {
    attempted: BTreeMap<String, Kind>,
    acknowledged: BTreeSet<String>,
}

/// Creates objects until the link fails (or the cycle's budget is spent); returns the link
/// error.
fn writer(
    conn: Arc<Connection>,
    session: u64,
    prefix: String,
    ledger: Arc<Mutex<Ledger>>,
    acks: Arc<AtomicUsize>,
    budget: Arc<AtomicUsize>,
) -> Option<Error> {
    for n in 0.. {
        if budget.fetch_add(1, Ordering::SeqCst) >= BUDGET {
            break;
        }
        let label = format!("{prefix}-{n:04}");
        let kind = if n % 2 == 0 { Kind::Data } else { Kind::Aes };
        ledger
            .lock()
            .expect("ledger")
            .attempted
            .insert(label.clone(), kind);
        match try_call::<_, m::CreateObjectResponse>(&conn, &creation(session, &label, kind)) {
            Ok(Ok(_)) => {
                ledger.lock().expect("ledger").acknowledged.insert(label);
                acks.fetch_add(1, Ordering::SeqCst);
            }
            Ok(Err(e)) => panic!("the appliance refused {label}: {}", name(e.code)),
            Err(err) => return Some(err),
        }
    }
    None
}

/// A connection with the Crypto Officer logged in, and a session.
fn officer(app: &NtlsAppliance, id: &ClientId, serial: u64) -> (Arc<Connection>, u64) {
    let conn = connect(app, id);
    let s = open_session(&conn, serial);
    login(&conn, s, CKU_USER, CO_PIN).expect("Crypto Officer login after the restart");
    (conn, s)
}

/// Checks every object the partition holds against the ledger; returns how many objects were
/// found and how many of them had been sent but not acknowledged.
fn verify(app: &NtlsAppliance, id: &ClientId, serial: u64, ledger: &Ledger) -> (usize, usize) {
    let (conn, s) = officer(app, id, serial);
    let handles = all_objects(&conn, s);
    let mut seen = BTreeSet::new();
    let mut unacknowledged = 0;
    for h in &handles {
        let values = attributes(&conn, s, *h, &[CKA_CLASS, CKA_LABEL, CKA_TOKEN, CKA_VALUE]);
        let [class, label, token, value] = &values[..] else {
            unreachable!()
        };
        let m::AttrValue::Value(label) = label else {
            panic!("object {h} has no label: {values:?}")
        };
        let label = String::from_utf8(label.clone()).expect("UTF-8 label");
        let Some(kind) = ledger.attempted.get(&label) else {
            panic!("object {h} labelled {label:?} was never created by a client")
        };
        assert!(seen.insert(label.clone()), "{label} exists twice");
        if !ledger.acknowledged.contains(&label) {
            unacknowledged += 1;
        }
        assert_eq!(token, &m::AttrValue::Value(vec![1]), "{label}: CKA_TOKEN");
        match kind {
            Kind::Data => {
                assert_eq!(
                    class,
                    &m::AttrValue::Value(CKO_DATA.to_le_bytes().to_vec()),
                    "{label}: class"
                );
                assert_eq!(
                    value,
                    &m::AttrValue::Value(value_of(&label)),
                    "{label}: CKA_VALUE"
                );
                let app_attr = attributes(&conn, s, *h, &[CKA_APPLICATION]);
                assert_eq!(
                    app_attr,
                    [m::AttrValue::Value(APPLICATION.as_bytes().to_vec())],
                    "{label}: CKA_APPLICATION"
                );
            }
            Kind::Aes => {
                assert_eq!(
                    class,
                    &m::AttrValue::Value(CKO_SECRET_KEY.to_le_bytes().to_vec()),
                    "{label}: class"
                );
                assert_eq!(value, &m::AttrValue::Sensitive, "{label}: CKA_VALUE hidden");
                let more = attributes(
                    &conn,
                    s,
                    *h,
                    &[
                        CKA_KEY_TYPE,
                        CKA_ID,
                        CKA_SENSITIVE,
                        CKA_ENCRYPT,
                        CKA_VALUE_LEN,
                    ],
                );
                assert_eq!(
                    more,
                    [
                        m::AttrValue::Value(CKK_AES.to_le_bytes().to_vec()),
                        m::AttrValue::Value(label.as_bytes().to_vec()),
                        m::AttrValue::Value(vec![1]),
                        m::AttrValue::Value(vec![1]),
                        m::AttrValue::Value(32u64.to_le_bytes().to_vec()),
                    ],
                    "{label}: key attributes"
                );
                // The key still encrypts, to the answer its value gives.
                let mech = gcm(&label);
                let _: m::EncryptInitResponse = ok(
                    &conn,
                    &m::EncryptInitRequest {
                        session: s,
                        mechanism: m::MechanismSpec {
                            mechanism: mech.ckm(),
                            params: mech.encode_params(),
                        },
                        key: *h,
                    },
                );
                let c: m::EncryptResponse = ok(
                    &conn,
                    &m::EncryptRequest {
                        session: s,
                        data: PLAINTEXT.to_vec(),
                        capacity: Some(256),
                    },
                );
                assert_eq!(
                    data(c.output),
                    expected_ciphertext(&label),
                    "{label}: AES-GCM with the key"
                );
            }
        }
    }
    let missing: Vec<&String> = ledger.acknowledged.difference(&seen).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged object(s) lost: {missing:?}",
        missing.len()
    );
    // The partition's accounting agrees with what is there.
    let out = app.console("partition list");
    let rows = common::partition_rows(&out);
    let row = rows
        .iter()
        .find(|r| r.serial == serial.to_string())
        .unwrap_or_else(|| panic!("no partition {serial} in:\n{out}"));
    assert_eq!(
        row.objects,
        handles.len().to_string(),
        "object count of the partition:\n{out}"
    );
    println!(
        "fault_kill:   partition storage: {} bytes used, {} free",
        row.used, row.free
    );
    (handles.len(), unacknowledged)
}

#[test]
fn acknowledged_objects_survive_sigkill_under_write_load() {
    let seed = Rng::seed_from_env("STRONGROOM_FAULT_SEED");
    let cycles: usize = std::env::var("STRONGROOM_FAULT_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CYCLES);
    println!("fault_kill: seed {seed} (replay with STRONGROOM_FAULT_SEED={seed})");
    let mut rng = Rng::new(seed);

    let mut app = NtlsAppliance::start();
    let (id, conn, serial, _s) = ready(&app);
    drop(conn);
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut checked = 0usize;
    let mut committed_unacknowledged = 0usize;
    for cycle in 0..cycles {
        // Load: several connections, several writers on each, each on its own session.
        let acks = Arc::new(AtomicUsize::new(0));
        let budget = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        let mut conns = Vec::new();
        for c in 0..CONNECTIONS {
            let (conn, _) = officer(&app, &id, serial);
            for w in 0..WRITERS {
                let s = open_session(&conn, serial);
                let (conn, ledger, acks, budget) =
                    (conn.clone(), ledger.clone(), acks.clone(), budget.clone());
                let prefix = format!("k{cycle:02}-c{c}-w{w}");
                threads.push(std::thread::spawn(move || {
                    writer(conn, s, prefix, ledger, acks, budget)
                }));
            }
            conns.push(conn);
        }
        // Kill after a random number of acknowledgements plus a random delay.
        let wait_acks = usize::try_from(rng.range(1, MAX_ACKS_BEFORE_KILL)).expect("small");
        let delay = Duration::from_millis(rng.range(0, 40));
        let deadline = Instant::now() + Duration::from_secs(60);
        while acks.load(Ordering::SeqCst) < wait_acks && !threads.iter().all(|t| t.is_finished()) {
            assert!(Instant::now() < deadline, "no write load in cycle {cycle}");
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(delay);
        app.daemon.kill();
        let mut link_errors = 0;
        for t in threads {
            // A writer that reached its bound before the kill saw no error.
            if let Some(err) = t.join().expect("writer") {
                assert!(
                    is_transport(&err),
                    "cycle {cycle}: not a link error: {err:?}"
                );
                link_errors += 1;
            }
        }
        // Every connection reports the link failure, and stays failed.
        for conn in &conns {
            match try_call::<_, m::GetSlotListResponse>(conn, &m::GetSlotListRequest {}) {
                Err(err) if is_transport(&err) => {}
                other => panic!("cycle {cycle}: after the kill: {:?}", other.map(|_| ())),
            }
            assert!(
                conn.is_broken(),
                "cycle {cycle}: a connection survived the kill"
            );
        }
        restart(&mut app);
        let snapshot = {
            let l = ledger.lock().expect("ledger");
            Ledger {
                attempted: l.attempted.clone(),
                acknowledged: l.acknowledged.clone(),
            }
        };
        let (found, unacked) = verify(&app, &id, serial, &snapshot);
        checked += found;
        committed_unacknowledged = unacked;
        println!(
            "fault_kill: cycle {}: killed after {} acknowledgement(s) + {delay:?}; {} writer(s) \
             saw the link fail; {found} object(s) present and checked, {} acknowledged in \
             total, {unacked} committed without acknowledgement",
            cycle + 1,
            acks.load(Ordering::SeqCst),
            link_errors,
            snapshot.acknowledged.len(),
        );
    }
    let l = ledger.lock().expect("ledger");
    println!(
        "fault_kill: {cycles} SIGKILL/restart cycles survived; {} creations sent, {} \
         acknowledged, 0 lost; {checked} object checks (attributes, values, AES-GCM known \
         answers); {committed_unacknowledged} object(s) committed without an acknowledgement \
         (complete); seed {seed}",
        l.attempted.len(),
        l.acknowledged.len(),
    );
    assert!(
        !l.acknowledged.is_empty(),
        "no creation was ever acknowledged"
    );
    assert!(app.daemon.terminate().success(), "{}", app.log());
}

/// A TCP relay between a client and the appliance that can cut the link: by closing both
/// sides (`cut`), or by going silent and keeping both sides open (`freeze`).
struct Relay {
    port: u16,
    sockets: Arc<Mutex<Vec<TcpStream>>>,
    frozen: Arc<AtomicBool>,
}

impl Relay {
    fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind relay");
        let port = listener.local_addr().expect("addr").port();
        let sockets = Arc::new(Mutex::new(Vec::new()));
        let frozen = Arc::new(AtomicBool::new(false));
        let (list, fr) = (sockets.clone(), frozen.clone());
        std::thread::spawn(move || {
            for down in listener.incoming() {
                let Ok(down) = down else { return };
                let Ok(up) = TcpStream::connect(&upstream) else {
                    return;
                };
                {
                    let mut l = list.lock().expect("sockets");
                    l.push(down.try_clone().expect("clone"));
                    l.push(up.try_clone().expect("clone"));
                }
                for (mut from, mut to) in [
                    (
                        down.try_clone().expect("clone"),
                        up.try_clone().expect("clone"),
                    ),
                    (up, down),
                ] {
                    let fr = fr.clone();
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 16 * 1024];
                        loop {
                            match from.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => {
                                    // Frozen: bytes vanish, nobody is told.
                                    if !fr.load(Ordering::SeqCst)
                                        && to.write_all(&buf[..n]).is_err()
                                    {
                                        break;
                                    }
                                }
                            }
                        }
                        if !fr.load(Ordering::SeqCst) {
                            let _ = to.shutdown(Shutdown::Both);
                        }
                    });
                }
            }
        });
        Self {
            port,
            sockets,
            frozen,
        }
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Closes both sides of every relayed connection.
    fn cut(&self) {
        for s in self.sockets.lock().expect("sockets").iter() {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    /// Stops relaying without closing anything: the link goes silent.
    fn freeze(&self) {
        self.frozen.store(true, Ordering::SeqCst);
    }
}

/// Opens sessions on `serial` from `threads` threads until the module's session table is
/// full; returns how many were opened.
fn fill_sessions(conn: &Arc<Connection>, serial: u64, threads: usize) -> usize {
    let opened = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (conn, opened) = (conn.clone(), opened.clone());
            std::thread::spawn(move || {
                loop {
                    match call::<_, m::OpenSessionResponse>(
                        &conn,
                        &m::OpenSessionRequest {
                            serial,
                            read_write: true,
                        },
                    ) {
                        Ok(_) => {
                            opened.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(c) => {
                            assert_eq!(name(c), "SR_RET_SESSION_COUNT");
                            return;
                        }
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("session opener");
    }
    opened.load(Ordering::SeqCst)
}

/// Opens `want` sessions, the rest of what the module can hold, waiting (boundedly) for
/// sessions of closed connections to be released; returns the count.
fn take_all_sessions(conn: &Arc<Connection>, serial: u64, want: usize, what: &str) -> usize {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut held = 0;
    loop {
        held += fill_sessions(conn, serial, 8);
        assert!(held <= want, "{what}: {held} sessions");
        if held == want {
            return held;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {} session(s) are still held by a closed connection",
            want - held
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_cut_link_fails_the_call_and_the_appliance_closes_its_sessions() {
    // A short idle timeout, so that a silent link is noticed by the appliance too; one client
    // may hold every session of the module.
    let app = NtlsAppliance::start_with(&format!(
        "idle_timeout_secs = 2\nmax_sessions_per_client = {MAX_SESSIONS}\n"
    ));
    let (id, first, serial, _) = ready(&app);
    drop(first);

    for how in ["closed", "silent"] {
        let relay = Relay::start(app.addr());
        let short = Timeouts {
            connect: Duration::from_secs(10),
            request: Duration::from_secs(4),
        };
        let victim = Connection::connect(
            &relay.addr(),
            "127.0.0.1",
            id.tls(&app.server_cert()),
            short,
        )
        .expect("connect through the relay");
        // Every session the module can hold goes to the victim.
        let vs = open_session(&victim, serial);
        login(&victim, vs, CKU_USER, CO_PIN).expect("login");
        take_all_sessions(&victim, serial, MAX_SESSIONS - 1, how);
        // A multi-part digest in progress, with calls streaming when the link goes.
        let _: m::DigestInitResponse = ok(
            &victim,
            &m::DigestInitRequest {
                session: vs,
                mechanism: plain(CKM_SHA256),
            },
        );
        let streaming = {
            let victim = victim.clone();
            std::thread::spawn(move || {
                let mut parts = 0u32;
                loop {
                    match try_call::<_, m::DigestUpdateResponse>(
                        &victim,
                        &m::DigestUpdateRequest {
                            session: vs,
                            data: vec![0xA5; 16 * 1024],
                        },
                    ) {
                        Ok(Ok(_)) => parts += 1,
                        Ok(Err(e)) => panic!("refused: {}", name(e.code)),
                        Err(err) => return (parts, err),
                    }
                }
            })
        };
        std::thread::sleep(Duration::from_millis(200));
        match how {
            "closed" => relay.cut(),
            _ => relay.freeze(),
        }
        let (parts, err) = streaming.join().expect("streaming");
        println!("fault_kill: link {how} after {parts} digest parts: {err}");
        match how {
            "closed" => assert!(
                matches!(err, Error::ConnectionLost | Error::Io(_) | Error::Tls(_)),
                "{how}: {err:?}"
            ),
            _ => assert!(matches!(err, Error::Timeout), "{how}: {err:?}"),
        }
        assert!(is_transport(&err));
        // The next call fails at once: a closed link is gone, and a request timeout gives a
        // silent one up (the next call on a new connection would reconnect).
        let again = victim.call(m::OP_GET_SLOT_LIST, &m::encode(&m::GetSlotListRequest {}));
        assert!(
            matches!(again, Err(Error::ConnectionLost)),
            "{how}: {:?}",
            again.map(|_| ())
        );
        assert!(victim.is_broken(), "{how}");

        // A new connection works, and gets back every session the victim held.
        let fresh = connect(&app, &id);
        take_all_sessions(&fresh, serial, MAX_SESSIONS, how);
        let log = app.log();
        match how {
            "closed" => assert!(
                log.contains("NTLS client disconnected") || log.contains("NTLS connection lost"),
                "{log}"
            ),
            _ => assert!(log.contains("NTLS connection closed: idle"), "{log}"),
        }
        println!(
            "fault_kill: link {how}: {MAX_SESSIONS} sessions of the dead connection closed by \
             the appliance and opened again by a new connection"
        );
        // Closing the new connection frees its sessions for the next round.
        drop(fresh);
        drop(victim);
    }
}
