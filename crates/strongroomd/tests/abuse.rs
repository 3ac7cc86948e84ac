//! Abuse of a real `strongroomd run` over its real interfaces:
//!
//! - login brute force against every partition role over NTLS: the Crypto Officer, Limited
//!   Crypto Officer and Crypto User lock at partition policy 20 failures (10) and only their
//!   parent role's reset unlocks them (for the Crypto Officer only under HSM policy 15, else the
//!   lockout is permanent until the partition is initialized again); the Partition SO's tenth
//!   failure zeroizes the partition; counters are per role (not per connection) and survive a
//!   restart; a success resets them;
//! - the HSM SO's third failed login on the console zeroizes the module, and with it every
//!   partition a client was using;
//! - TLS negatives: no client certificate, a registered certificate outside its validity, a
//!   registered certificate whose key usage does not allow client authentication;
//! - a connection flood and slow-loris connections stay within the configured limits while a
//!   connected client keeps being served; a registered client trickling a request is closed at
//!   the frame timeout however often it sends a byte;
//! - one registered client cannot take every session of the module: its connections together
//!   hold at most the configured sessions, while another client still opens its own.

mod common;
mod p11wire;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::ntls::{ClientId, NtlsAppliance, PARTITION, RawConn};
use common::{SO_PW, field};
use p11wire::*;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use strongroom_client::{Connection, Error};
use strongroom_proto::messages as m;

/// Failed logins that lock the Crypto Officer, Limited Crypto Officer and Crypto User (the
/// default of partition policy 20).
const ROLE_LIMIT: u32 = 10;
/// Failed Partition SO logins that zeroize the partition.
const PSO_LIMIT: u32 = strongroom_module::PARTITION_SO_ATTEMPTS;
const WRONG: &str = "Wrong-Guess-1";

/// `count` wrong logins of `user_type`, alternating between the connections; every one but
/// the last must be `SR_RET_UM_PIN_INCORRECT`, the last `last`. Checks the role's counter
/// after each. Returns the number of attempts.
fn brute_force(conns: &[&Connection], serial: u64, user_type: u64, count: u32, last: &str) -> u32 {
    for i in 1..=count {
        let conn = conns[usize::try_from(i).expect("small") % conns.len()];
        let s = open_session(conn, serial);
        let got = login(conn, s, user_type, WRONG).expect_err("a wrong password logged in");
        let want = if i == count {
            last
        } else {
            "SR_RET_UM_PIN_INCORRECT"
        };
        assert_eq!(name(got), want, "attempt {i} of role {user_type:#x}");
        // (A zeroized partition has closed its sessions already.)
        let _ = call::<_, m::CloseSessionResponse>(conn, &m::CloseSessionRequest { session: s });
        if want == "SR_RET_UM_PIN_INCORRECT" {
            assert_eq!(
                role(conn, serial, user_type).failures,
                i,
                "counter after {i}"
            );
        }
    }
    count
}

/// Logs in on a new session of `conn`; the module's answer.
fn try_login(conn: &Connection, serial: u64, user_type: u64, pin: &str) -> Result<u64, u32> {
    let s = open_session(conn, serial);
    login(conn, s, user_type, pin).map(|()| s)
}

/// An appliance whose HSM policy 15 (SO can reset partition PIN) is on, with partition `p15`
/// (changing the policy destroys partitions, so it is made after), assigned to `c1`.
fn appliance_with_policy_15() -> (NtlsAppliance, ClientId) {
    let app = NtlsAppliance::start();
    let out = app.console(&format!(
        "hsm login -password {SO_PW}\nhsm changePolicy -policy 15 -value 1\nproceed\n\
         partition create -partition p15 -force"
    ));
    assert!(out.contains("'hsm changePolicy' successful."), "{out}");
    assert!(out.contains("'partition create' successful."), "{out}");
    let id = ClientId::new("127.0.0.1");
    register_with(&app, "c1", &id, "p15");
    (app, id)
}

#[test]
fn crypto_officer_brute_force_locks_it_and_only_a_partition_so_reset_unlocks_it() {
    let mut cases = 0;
    // HSM policy 15 off (the default): the lockout is permanent.
    let app = NtlsAppliance::start();
    let id = ClientId::new("127.0.0.1");
    register_with(&app, "c1", &id, PARTITION);
    let (a, b) = (connect(&app, &id), connect(&app, &id));
    let serial = only_slot(&a);
    let s = prepare_token(&a, serial);
    logout(&a, s);
    // Nine failures, then a success resets the counter.
    cases += brute_force(
        &[&a, &b],
        serial,
        CKU_USER,
        ROLE_LIMIT - 1,
        "SR_RET_UM_PIN_INCORRECT",
    );
    let s = try_login(&a, serial, CKU_USER, CO_PIN).expect("the right password, before the limit");
    assert_eq!(role(&a, serial, CKU_USER).failures, 0);
    logout(&a, s);
    cases += brute_force(
        &[&a, &b],
        serial,
        CKU_USER,
        ROLE_LIMIT,
        "SR_RET_UM_PIN_INCORRECT_CONTAINER_LOCKED",
    );
    let state = role(&a, serial, CKU_USER);
    assert!(state.locked, "{state:?}");
    // Locked: the right password is refused, from any connection.
    for conn in [&a, &b] {
        assert_eq!(
            try_login(conn, serial, CKU_USER, CO_PIN)
                .map(|_| ())
                .err()
                .map(name),
            Some("SR_RET_CONTAINER_LOCKED")
        );
    }
    // The Partition SO may not reset it while policy 15 is off.
    let pso = try_login(&b, serial, CKU_SO, PSO_PIN).expect("Partition SO");
    refused::<_, m::RoleResetResponse>(
        &b,
        &m::RoleResetRequest {
            session: pso,
            user_type: CKU_USER,
            pin: b"Co-Reset-Pass1".to_vec(),
        },
        "SR_RET_OPERATION_RESTRICTED",
    );
    assert!(role(&b, serial, CKU_USER).locked);
    logout(&b, pso);
    // Only initializing the partition again ends it (the Crypto Officer is gone with it).
    init_token(&b, serial, "Again");
    let state = role(&b, serial, CKU_USER);
    assert!(!state.initialized && !state.locked, "{state:?}");

    // HSM policy 15 on: the Partition SO's reset unlocks, and the counter survives a restart.
    let (mut app, id) = appliance_with_policy_15();
    let a = connect(&app, &id);
    let serial = only_slot(&a);
    let s = prepare_token(&a, serial);
    logout(&a, s);
    cases += brute_force(&[&a], serial, CKU_USER, 5, "SR_RET_UM_PIN_INCORRECT");
    app.daemon.terminate();
    restart(&mut app);
    let (a, b) = (connect(&app, &id), connect(&app, &id));
    assert_eq!(
        role(&a, serial, CKU_USER).failures,
        5,
        "counter after a restart"
    );
    for i in 6..=ROLE_LIMIT {
        let got = try_login(&b, serial, CKU_USER, WRONG).expect_err("wrong password");
        let want = if i == ROLE_LIMIT {
            "SR_RET_UM_PIN_INCORRECT_CONTAINER_LOCKED"
        } else {
            "SR_RET_UM_PIN_INCORRECT"
        };
        assert_eq!(name(got), want, "attempt {i}");
        cases += 1;
    }
    assert_eq!(
        try_login(&a, serial, CKU_USER, CO_PIN)
            .map(|_| ())
            .err()
            .map(name),
        Some("SR_RET_CONTAINER_LOCKED")
    );
    let pso = try_login(&b, serial, CKU_SO, PSO_PIN).expect("Partition SO");
    let _: m::RoleResetResponse = ok(
        &b,
        &m::RoleResetRequest {
            session: pso,
            user_type: CKU_USER,
            pin: b"Co-Reset-Pass1".to_vec(),
        },
    );
    let state = role(&b, serial, CKU_USER);
    assert!(
        !state.locked && state.failures == 0 && state.must_change,
        "{state:?}"
    );
    // The old password stays refused; the new one works and must be changed first.
    assert_eq!(
        try_login(&a, serial, CKU_USER, CO_PIN)
            .map(|_| ())
            .err()
            .map(name),
        Some("SR_RET_UM_PIN_INCORRECT")
    );
    let s = try_login(&a, serial, CKU_USER, "Co-Reset-Pass1").expect("after the reset");
    set_pin(&a, s, "Co-Reset-Pass1", "Co-Final-Pass1").expect("change");
    println!("abuse: Crypto Officer: {cases} wrong logins tried");
}

#[test]
fn limited_crypto_officer_and_crypto_user_lock_and_their_parent_unlocks_them() {
    let app = NtlsAppliance::start();
    let (_id, conn, serial, co) = ready(&app);
    let mut cases = 0;
    // The Crypto Officer creates the Crypto User; the Partition SO the Limited Crypto Officer.
    let _: m::RoleInitResponse = ok(
        &conn,
        &m::RoleInitRequest {
            session: co,
            user_type: CKU_CRYPTO_USER,
            pin: b"Cu-Initial-1".to_vec(),
        },
    );
    logout(&conn, co);
    let s = try_login(&conn, serial, CKU_CRYPTO_USER, "Cu-Initial-1").expect("CU");
    set_pin(&conn, s, "Cu-Initial-1", "Cu-Changed-1").expect("CU change");
    logout(&conn, s);
    cases += brute_force(
        &[&conn],
        serial,
        CKU_CRYPTO_USER,
        ROLE_LIMIT,
        "SR_RET_UM_PIN_INCORRECT_CONTAINER_LOCKED",
    );
    assert_eq!(
        try_login(&conn, serial, CKU_CRYPTO_USER, "Cu-Changed-1")
            .map(|_| ())
            .err()
            .map(name),
        Some("SR_RET_CONTAINER_LOCKED")
    );
    // Only the Crypto Officer resets it (not the Partition SO), whatever policy 15 says.
    let pso = try_login(&conn, serial, CKU_SO, PSO_PIN).expect("PSO");
    let reset_cu = |session| m::RoleResetRequest {
        session,
        user_type: CKU_CRYPTO_USER,
        pin: b"Cu-Reset-1".to_vec(),
    };
    refused::<_, m::RoleResetResponse>(&conn, &reset_cu(pso), "SR_RET_SM_ACCESS_DOES_NOT_VALIDATE");
    logout(&conn, pso);
    let co = try_login(&conn, serial, CKU_USER, CO_PIN).expect("CO");
    let _: m::RoleResetResponse = ok(&conn, &reset_cu(co));
    logout(&conn, co);
    let s = try_login(&conn, serial, CKU_CRYPTO_USER, "Cu-Reset-1").expect("CU after reset");
    logout(&conn, s);

    // The Limited Crypto Officer, created by the Partition SO; a wrong old password given to
    // C_SetPIN counts as a failed login too.
    let pso = try_login(&conn, serial, CKU_SO, PSO_PIN).expect("PSO");
    let _: m::RoleInitResponse = ok(
        &conn,
        &m::RoleInitRequest {
            session: pso,
            user_type: CKU_LIMITED_CRYPTO_OFFICER,
            pin: b"Lco-Initial-1".to_vec(),
        },
    );
    logout(&conn, pso);
    let s = try_login(&conn, serial, CKU_LIMITED_CRYPTO_OFFICER, "Lco-Initial-1").expect("LCO");
    assert_eq!(
        set_pin(&conn, s, WRONG, "Lco-Changed-1").err().map(name),
        Some("SR_RET_UM_PIN_INCORRECT")
    );
    cases += 1;
    assert_eq!(role(&conn, serial, CKU_LIMITED_CRYPTO_OFFICER).failures, 1);
    for i in 2..=ROLE_LIMIT {
        let got = try_login(&conn, serial, CKU_LIMITED_CRYPTO_OFFICER, WRONG).expect_err("wrong");
        let want = if i == ROLE_LIMIT {
            "SR_RET_UM_PIN_INCORRECT_CONTAINER_LOCKED"
        } else {
            "SR_RET_UM_PIN_INCORRECT"
        };
        assert_eq!(name(got), want, "LCO attempt {i}");
        cases += 1;
    }
    assert_eq!(
        try_login(&conn, serial, CKU_LIMITED_CRYPTO_OFFICER, "Lco-Initial-1")
            .map(|_| ())
            .err()
            .map(name),
        Some("SR_RET_CONTAINER_LOCKED")
    );
    println!("abuse: Crypto User and Limited Crypto Officer: {cases} wrong logins tried");
}

#[test]
fn partition_so_brute_force_zeroizes_the_partition() {
    let app = NtlsAppliance::start();
    let (_id, conn, serial, co) = ready(&app);
    // Something to lose.
    let _: m::CreateObjectResponse = ok(
        &conn,
        &m::CreateObjectRequest {
            session: co,
            template: template(vec![
                strongroom_module::Attribute::from_ulong(CKA_CLASS, CKO_DATA),
                strongroom_module::Attribute::from_bool(CKA_TOKEN, true),
                strongroom_module::Attribute::new(CKA_VALUE, b"precious".to_vec()),
            ]),
        },
    );
    logout(&conn, co);
    let cases = brute_force(
        &[&conn],
        serial,
        CKU_SO,
        PSO_LIMIT,
        "SR_RET_UM_PIN_INCORRECT_CONTAINER_ZEROIZED",
    );
    // Zeroized: not initialized, no objects, no roles; the right password is refused.
    let info: m::GetTokenInfoResponse = ok(&conn, &m::GetTokenInfoRequest { serial });
    assert_eq!(info.flags & CKF_TOKEN_INITIALIZED, 0, "{info:?}");
    assert_eq!(info.objects, 0, "{info:?}");
    assert!(roles(&conn, serial).iter().all(|r| !r.initialized));
    assert_eq!(
        try_login(&conn, serial, CKU_SO, PSO_PIN)
            .map(|_| ())
            .err()
            .map(name),
        Some("SR_RET_USER_PIN_NOT_INITIALIZED")
    );
    assert_eq!(
        try_login(&conn, serial, CKU_USER, CO_PIN)
            .map(|_| ())
            .err()
            .map(name),
        Some("SR_RET_USER_PIN_NOT_INITIALIZED")
    );
    // Initializing it again makes it usable.
    init_token(&conn, serial, "Reborn");
    try_login(&conn, serial, CKU_SO, PSO_PIN).expect("the new Partition SO");
    println!("abuse: Partition SO: {cases} wrong logins tried");
}

#[test]
fn the_hsm_so_third_failed_console_login_zeroizes_the_module_and_its_partitions() {
    let app = NtlsAppliance::start();
    let (_id, conn, serial, co) = ready(&app);
    let (_, out, _) = common::process::console(
        &app.data,
        "hsm login -password Wrong-Pass-1\nhsm login -password Wrong-Pass-2\nhsm show\nexit\n",
    );
    assert_eq!(
        out.matches("(A00000 : SR_RET_UM_PIN_INCORRECT)").count(),
        2,
        "{out}"
    );
    assert_eq!(
        field(&out, "HSM Admin login attempts left").as_deref(),
        Some("1 before HSM zeroization!"),
        "{out}"
    );
    // Still intact: the client works.
    let _: m::GenerateRandomResponse = ok(
        &conn,
        &m::GenerateRandomRequest {
            session: co,
            len: 16,
        },
    );
    // A new console session does not get new attempts: the counter is the module's.
    let (_, out, _) = common::process::console(
        &app.data,
        "hsm login -password Wrong-Pass-3\nhsm show\nhsm login -password Admin-Pass1\nexit\n",
    );
    assert!(
        out.contains("(30000F : SR_RET_SO_LOGIN_FAILURE_THRESHOLD)"),
        "{out}"
    );
    assert_eq!(
        field(&out, "HSM Status").as_deref(),
        Some("Zeroized"),
        "{out}"
    );
    assert!(out.contains("There are no partitions."), "{out}");
    // The right password no longer opens anything.
    assert!(
        out.contains("(8000F003 : SR_RET_HSM_NOT_INITIALIZED)"),
        "{out}"
    );
    // The client's partition is gone: no slot, its session refused.
    let slots: m::GetSlotListResponse = ok(&conn, &m::GetSlotListRequest {});
    assert!(slots.slots.is_empty(), "{:?}", slots.slots);
    assert!(
        call::<_, m::GenerateRandomResponse>(
            &conn,
            &m::GenerateRandomRequest {
                session: co,
                len: 16
            }
        )
        .is_err()
    );
    assert!(call::<_, m::GetTokenInfoResponse>(&conn, &m::GetTokenInfoRequest { serial }).is_err());
    // Only a new initialization brings the module back.
    let out = app.console(&format!(
        "hsm init -label again -password {SO_PW} -domain new-domain -force\n\
         hsm login -password {SO_PW}"
    ));
    assert!(out.contains("'hsm login' successful."), "{out}");
    println!("abuse: HSM SO: 3 wrong logins tried, the module zeroized at the third");
}

/// A client certificate made to order, with its TLS configuration pinning the appliance.
struct Identity {
    pem: String,
    cert: CertificateDer<'static>,
    key: Vec<u8>,
}

impl Identity {
    fn new(edit: impl FnOnce(&mut rcgen::CertificateParams)) -> Self {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).expect("params");
        edit(&mut params);
        let cert = params.self_signed(&key).expect("certificate");
        Self {
            pem: cert.pem(),
            cert: cert.der().clone(),
            key: key.serialize_der(),
        }
    }

    fn tls(&self, server: &CertificateDer<'static>) -> Arc<rustls::ClientConfig> {
        strongroom_client::client_tls_config(
            server.clone(),
            vec![self.cert.clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone())),
        )
        .expect("TLS configuration")
    }

    /// Uploads and registers it as client `name`, assigned the partition; returns whether
    /// the appliance accepted the registration, and its transcript.
    fn register(&self, app: &NtlsAppliance, name: &str) -> (bool, String) {
        let file = format!("{name}.pem");
        std::fs::write(app.admin_files().join(&file), &self.pem).expect("upload");
        let out = app.console(&format!(
            "client register -client {name} -hostname {name}\n\
             client assignPartition -client {name} -partition {PARTITION}"
        ));
        (out.contains("'client register' successful."), out)
    }
}

/// Connects (handshake, hello, one request); the refusal if any.
fn attempt(app: &NtlsAppliance, config: Arc<rustls::ClientConfig>) -> Result<(), Error> {
    let conn = Connection::connect(&app.addr(), "127.0.0.1", config, timeouts())?;
    try_call::<_, m::GetSlotListResponse>(&conn, &m::GetSlotListRequest {})?.expect("slot list");
    Ok(())
}

fn assert_refused(what: &str, result: Result<(), Error>) {
    match result {
        Err(Error::Tls(_) | Error::ConnectionLost | Error::Io(_)) => {}
        other => panic!("{what}: the appliance let it in ({:?})", other),
    }
}

/// Accepts any appliance certificate: for a client that offers no certificate of its own.
#[derive(Debug)]
struct AnyServer(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyServer {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn no_client_certificate() -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("TLS 1.3")
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyServer(provider)))
            .with_no_client_auth(),
    )
}

#[test]
fn a_client_without_a_certificate_is_refused() {
    let app = NtlsAppliance::start();
    let id = ClientId::new("127.0.0.1");
    register_with(&app, "c1", &id, PARTITION);
    assert_refused(
        "no client certificate",
        attempt(&app, no_client_certificate()),
    );
    app.wait_log("NTLS handshake failed", 1);
    connect(&app, &id);
    println!("abuse: TLS: a client without a certificate refused");
}

#[test]
fn registered_certificates_outside_their_validity_are_refused() {
    let app = NtlsAppliance::start();
    let id = ClientId::new("127.0.0.1");
    register_with(&app, "good", &id, PARTITION);
    let server = app.server_cert();
    let cases: [(&str, Identity); 2] = [
        (
            "expired",
            Identity::new(|p| {
                p.not_before = rcgen::date_time_ymd(2000, 1, 1);
                p.not_after = rcgen::date_time_ymd(2001, 1, 1);
            }),
        ),
        (
            "notyetvalid",
            Identity::new(|p| {
                p.not_before = rcgen::date_time_ymd(2090, 1, 1);
                p.not_after = rcgen::date_time_ymd(2091, 1, 1);
            }),
        ),
    ];
    let mut failures = Vec::new();
    for (name, identity) in &cases {
        let (registered, out) = identity.register(&app, name);
        if registered {
            // Registration may take it; the handshake must not.
            if let Ok(()) = attempt(&app, identity.tls(&server)) {
                failures.push(format!(
                    "a registered {name} certificate is accepted at the handshake"
                ));
            }
        } else {
            assert!(out.contains("Error:"), "{out}");
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    connect(&app, &id);
    println!(
        "abuse: TLS: {} certificates outside their validity refused",
        cases.len()
    );
}

#[test]
fn registered_certificates_not_for_client_authentication_are_refused() {
    let app = NtlsAppliance::start();
    let id = ClientId::new("127.0.0.1");
    register_with(&app, "good", &id, PARTITION);
    let server = app.server_cert();
    let cases: [(&str, Identity); 3] = [
        (
            "serveronly",
            Identity::new(|p| {
                p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
            }),
        ),
        (
            "codesigning",
            Identity::new(|p| {
                p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::CodeSigning];
            }),
        ),
        (
            "nosignature",
            Identity::new(|p| {
                p.key_usages = vec![rcgen::KeyUsagePurpose::KeyEncipherment];
            }),
        ),
    ];
    let mut failures = Vec::new();
    for (name, identity) in &cases {
        let (registered, out) = identity.register(&app, name);
        if registered {
            if let Ok(()) = attempt(&app, identity.tls(&server)) {
                failures.push(format!(
                    "a registered {name} certificate is accepted at the handshake"
                ));
            }
        } else {
            assert!(out.contains("Error:"), "{out}");
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // A certificate made for client authentication is taken.
    let proper = Identity::new(|p| {
        p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        p.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    });
    let (registered, out) = proper.register(&app, "proper");
    assert!(registered, "{out}");
    attempt(&app, proper.tls(&server)).expect("a client-authentication certificate");
    connect(&app, &id);
    println!(
        "abuse: TLS: {} certificates with the wrong key usage refused",
        cases.len()
    );
}

/// Count of `needle` in the daemon's log.
fn logged(app: &NtlsAppliance, needle: &str) -> usize {
    app.log().matches(needle).count()
}

#[test]
fn a_connection_flood_stays_within_the_limit_while_a_connected_client_is_served() {
    const MAX: usize = 6;
    const FLOOD: usize = 60;
    let app = NtlsAppliance::start_with(&format!(
        "max_connections = {MAX}\nhandshake_timeout_secs = 3\n"
    ));
    let (id, conn, _serial, s) = ready(&app);
    let random = |conn: &Connection| {
        let r: m::GenerateRandomResponse = ok(
            conn,
            &m::GenerateRandomRequest {
                session: s,
                len: 32,
            },
        );
        assert_eq!(r.data.len(), 32);
    };
    // Sockets that never start TLS.
    let mut flood = Vec::new();
    for _ in 0..FLOOD {
        flood.push(TcpStream::connect(app.addr()).expect("TCP connect"));
        random(&conn);
    }
    // Every one is either turned away at once or dropped at the handshake timeout; only the
    // free slots are ever taken.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let refused = logged(&app, "too many NTLS connections");
        let timed_out = logged(&app, "NTLS handshake timed out");
        if refused + timed_out >= FLOOD {
            assert_eq!(refused + timed_out, FLOOD);
            assert!(timed_out >= MAX - 1, "{timed_out} held a slot");
            println!(
                "abuse: flood of {FLOOD} silent connections against max_connections = {MAX}: \
                 {refused} refused at once, {timed_out} dropped at the handshake timeout"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "flood not resolved:\n{}",
            app.log()
        );
        random(&conn);
        std::thread::sleep(Duration::from_millis(100));
    }
    // Each flooding socket has been closed by the appliance.
    for mut sock in flood {
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut buf = [0u8; 16];
        match sock.read(&mut buf) {
            Ok(0) | Err(_) => {}
            Ok(n) => panic!("{n} bytes to a silent socket"),
        }
    }
    random(&conn);
    // With the slots free again, a registered client connects.
    let fresh = connect(&app, &id);
    let _: m::GetSlotListResponse = ok(&fresh, &m::GetSlotListRequest {});
}

/// The first TLS flight of a client (its ClientHello), as raw bytes.
fn client_hello(id: &ClientId, server: &CertificateDer<'static>) -> Vec<u8> {
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("name");
    let mut conn = rustls::ClientConnection::new(id.tls(server), name).expect("tls");
    let mut out = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut out).expect("write");
    }
    out
}

/// Whether the peer has closed `sock` (a read returns end of stream or an error at once).
fn closed(sock: &mut TcpStream) -> bool {
    sock.set_nonblocking(true).expect("nonblocking");
    let mut buf = [0u8; 64];
    let r = match sock.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
    };
    sock.set_nonblocking(false).expect("blocking");
    r
}

#[test]
fn slow_loris_connections_are_bounded_and_closed_while_a_client_is_served() {
    const MAX: usize = 4;
    let app = NtlsAppliance::start_with(&format!(
        "max_connections = {MAX}\nhandshake_timeout_secs = 2\nidle_timeout_secs = 2\n"
    ));
    let (id, conn, _serial, s) = ready(&app);
    let server = app.server_cert();
    // The connected client calls all along (well within its idle timeout); every call must be
    // answered.
    let done = Arc::new(AtomicBool::new(false));
    let served = {
        let (conn, done) = (conn.clone(), done.clone());
        std::thread::spawn(move || {
            let mut answered = 0u32;
            while !done.load(Ordering::SeqCst) {
                let r: m::GenerateRandomResponse = ok(
                    &conn,
                    &m::GenerateRandomRequest {
                        session: s,
                        len: 32,
                    },
                );
                assert_eq!(r.data.len(), 32);
                answered += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            answered
        })
    };

    // Before the handshake: a ClientHello a byte at a time is cut off by the handshake timeout.
    let hello = client_hello(&id, &server);
    let mut slow = TcpStream::connect(app.addr()).expect("connect");
    let mut sent = 0;
    let cut = loop {
        if sent == hello.len() {
            break false;
        }
        if slow.write_all(&hello[sent..=sent]).is_err() || closed(&mut slow) {
            break true;
        }
        sent += 1;
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        cut,
        "a {}-byte ClientHello sent a byte at a time was let through",
        hello.len()
    );
    app.wait_log("NTLS handshake timed out", 1);
    println!(
        "abuse: slow-loris: ClientHello cut off after {sent} of {} bytes",
        hello.len()
    );

    // After the handshake: registered connections sending a frame a byte at a time hold at
    // most the configured slots, and each is closed once it stops for the idle timeout.
    let mut loris = Vec::new();
    for _ in 0..MAX - 1 {
        let mut raw = RawConn::connect(&app.addr(), id.tls(&server));
        raw.hello();
        loris.push(raw);
    }
    assert!(
        Connection::connect(&app.addr(), "127.0.0.1", id.tls(&server), timeouts()).is_err(),
        "a connection beyond max_connections"
    );
    let mut frame = Vec::new();
    strongroom_proto::encode_frame(&mut frame, 7, m::OP_GET_SLOT_LIST, &[1], 64).expect("frame");
    // All but the last byte of the frame (its whole header), a byte at a time on each.
    for byte in &frame[..frame.len() - 1] {
        for raw in &mut loris {
            raw.send(std::slice::from_ref(byte));
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    // Then silence: each is closed by the idle timeout (a read sees the end).
    for raw in &mut loris {
        assert!(
            raw.next().is_none(),
            "a stalled partial frame got an answer"
        );
    }
    done.store(true, Ordering::SeqCst);
    let answered = served.join().expect("the connected client was not served");
    connect(&app, &id);
    println!(
        "abuse: slow-loris: {} registered connections trickling a frame held {} of {MAX} slots \
         and were closed once silent; the connected client got {answered} answers meanwhile",
        MAX - 1,
        MAX - 1
    );
}

#[test]
fn a_registered_client_trickling_a_request_is_closed_at_the_frame_timeout() {
    // The idle timeout alone would never fire: a byte arrives every 300 ms.
    let app = NtlsAppliance::start_with("idle_timeout_secs = 600\nframe_timeout_secs = 2\n");
    let (id, conn, _serial, s) = ready(&app);
    let mut raw = RawConn::connect(&app.addr(), id.tls(&app.server_cert()));
    raw.hello();
    // A request whose payload is far longer than what is ever sent.
    let mut frame = Vec::new();
    strongroom_proto::encode_frame(&mut frame, 7, m::OP_GET_SLOT_LIST, &[0u8; 4096], 8192)
        .expect("frame");
    let started = Instant::now();
    let mut sent = 0;
    let cut = loop {
        if sent == frame.len() || started.elapsed() > Duration::from_secs(60) {
            break false;
        }
        if raw.try_send(&frame[sent..=sent]).is_err() {
            break true;
        }
        sent += 1;
        if app.log().contains("did not finish arriving in time") {
            // The appliance closed it: the next read sees the end.
            break raw.next().is_none();
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    assert!(
        cut,
        "a request trickled a byte every 300 ms kept its connection for {sent} bytes"
    );
    assert_eq!(logged(&app, "did not finish arriving in time"), 1);
    // The client that sends whole requests is served all along.
    let r: m::GenerateRandomResponse = ok(
        &conn,
        &m::GenerateRandomRequest {
            session: s,
            len: 16,
        },
    );
    assert_eq!(r.data.len(), 16);
    println!("abuse: a request trickled a byte at a time was cut off after {sent} bytes");
}

#[test]
fn one_client_cannot_take_every_session() {
    const CAP: usize = 5;
    let app = NtlsAppliance::start_with(&format!("max_sessions_per_client = {CAP}\n"));
    // `ready` opens the first of c1's sessions.
    let (id, first, serial, _s) = ready(&app);
    let second = connect(&app, &id);
    let mut held = vec![(first.clone(), 0u64)];
    for i in 1..CAP {
        let conn = if i % 2 == 0 { &first } else { &second };
        held.push((conn.clone(), open_session(conn, serial)));
    }
    // The cap counts both connections of the client together.
    let over = m::OpenSessionRequest {
        serial,
        read_write: false,
    };
    refused::<_, m::OpenSessionResponse>(&first, &over, "SR_RET_SESSION_COUNT");
    refused::<_, m::OpenSessionResponse>(&second, &over, "SR_RET_SESSION_COUNT");
    let info: m::GetTokenInfoResponse = ok(&first, &m::GetTokenInfoRequest { serial });
    assert_eq!(info.max_session_count, CAP as u64);

    // Another client on the same partition is not held back by c1.
    let other = ClientId::new("127.0.0.1");
    register_with(&app, "c2", &other, PARTITION);
    let c2 = connect(&app, &other);
    for _ in 0..CAP {
        open_session(&c2, serial);
    }

    // Closing one of c1's sessions frees a place; dropping a connection frees its sessions.
    let (conn, session) = held.pop().expect("a session");
    let _: m::CloseSessionResponse = ok(&conn, &m::CloseSessionRequest { session });
    open_session(&first, serial);
    refused::<_, m::OpenSessionResponse>(&first, &over, "SR_RET_SESSION_COUNT");
    drop(held);
    drop(second);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match call::<_, m::OpenSessionResponse>(&first, &over) {
            Ok(_) => break,
            Err(c) if name(c) == "SR_RET_SESSION_COUNT" && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(c) => panic!(
                "the closed connection's sessions stayed counted: {}",
                name(c)
            ),
        }
    }
    println!(
        "abuse: client c1 held {CAP} sessions over two connections and was refused the next; \
         c2 opened {CAP} of its own meanwhile"
    );
}
