//! NTLS against the real `strongroomd` on a free loopback port: the reference's certificate
//! exchange and registration (003) with the real OpenSSH client and client manager, then the
//! refusals (unregistered client, wrong pinned appliance, TLS 1.2, regenerated certificate,
//! deleted client), malformed and oversize frames, idle connections, limits and shutdown.
//!
//! The client side is the `strongroom-client` crate (what the client manager and the PKCS#11
//! library use), or raw rustls for what that crate would never send.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::assert_in_order;
use common::ntls::{
    ClientId, NtlsAppliance, PARTITION, RawConn, connect, expect_not_supported, load_cert, timeouts,
};
use common::ssh::{SshAppliance, available, text};
use common::{SO_PW, field};
use strongroom_client::{ClientConfig, Connection, Error};
use strongroom_proto::{HEADER_LEN, Hello, OP_HELLO};

/// The protocol version this build speaks.
const V: u16 = *strongroom_proto::PROTOCOL_VERSIONS.end();

/// The client manager binary: `$STRONGROOM_TEST_CM` (`none` to write the client files here
/// instead), else the workspace's, built for this test's profile.
fn client_manager() -> Option<PathBuf> {
    match std::env::var_os("STRONGROOM_TEST_CM") {
        Some(v) if v == "none" => None,
        Some(v) => Some(PathBuf::from(v)),
        None => Some(common::artifact::built("strongroom-cm", "strongroom-cm")),
    }
}

/// `strongroom-cm --conf CONF ARGS`, which must succeed.
fn cm(bin: &Path, conf: &Path, args: &[&str]) -> String {
    let out = Command::new(bin)
        .arg("--conf")
        .arg(conf)
        .args(args)
        .env_remove("STRONGROOM_CONF")
        .output()
        .expect("run strongroom-cm");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && stdout.contains("Command Result : No Error"),
        "strongroom-cm {args:?}:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The client side of the exchange: this client's certificate named `127.0.0.1` and the
/// appliance's `server.pem` added as server `127.0.0.1` at `127.0.0.1:PORT`. With the client
/// manager when it is built; else the same files written here (with rcgen). Returns the
/// client's certificate file.
fn client_side(conf: &Path, server_pem: &Path, port: u16) -> PathBuf {
    let address = format!("127.0.0.1:{port}");
    if let Some(bin) = client_manager() {
        let out = cm(
            &bin,
            conf,
            &["clientconfig", "createcert", "-n", "127.0.0.1"],
        );
        assert!(out.contains("Certificate created and written to:"), "{out}");
        cm(
            &bin,
            conf,
            &[
                "clientconfig",
                "addserver",
                "-n",
                "127.0.0.1",
                "-c",
                server_pem.to_str().expect("path"),
                "-a",
                &address,
            ],
        );
        let out = cm(&bin, conf, &["clientconfig", "listservers"]);
        assert!(out.contains(&address), "{out}");
    } else {
        eprintln!(
            "note: strongroom-cm is not built beside strongroomd; the client side of the \
             exchange is made here (build it with 'cargo build -p strongroom-cm')"
        );
        let dir = conf.parent().expect("dir");
        let id = ClientId::new("127.0.0.1");
        std::fs::create_dir_all(dir.join("cert/client")).expect("dir");
        std::fs::create_dir_all(dir.join("cert/server")).expect("dir");
        std::fs::write(dir.join("cert/client/127.0.0.1.pem"), &id.cert_pem).expect("cert");
        std::fs::write(dir.join("cert/client/127.0.0.1Key.pem"), &id.key_pem).expect("key");
        std::fs::copy(server_pem, dir.join("cert/server/127.0.0.1.pem")).expect("server");
        std::fs::write(
            conf,
            format!(
                "[client]\ncertificate = \"cert/client/127.0.0.1.pem\"\n\
                 private_key = \"cert/client/127.0.0.1Key.pem\"\n\n[[server]]\n\
                 name = \"127.0.0.1\"\naddress = \"{address}\"\n\
                 certificate = \"cert/server/127.0.0.1.pem\"\n"
            ),
        )
        .expect("conf");
    }
    conf.parent()
        .expect("dir")
        .join("cert/client/127.0.0.1.pem")
}

#[test]
fn the_certificate_exchange_and_registration_of_003_end_to_end() {
    if !available() {
        eprintln!("skipped: the OpenSSH client (ssh, scp, sftp, ssh-keygen) is not installed");
        return;
    }
    let app = SshAppliance::start_with_ntls();
    let port = app.ntls_port.expect("NTLS port");
    let key = app.admin_with_key();

    // The appliance makes its certificate for its address, with the warning and 'proceed'.
    let out = text(&app.shell(
        "admin",
        &key,
        "sysconf regencert 127.0.0.1\nproceed\nexit\n",
    ));
    assert_in_order(
        &out,
        &[
            "WARNING!! This command will overwrite the current server certificate and private key.",
            "All clients will have to add this server again with this new certificate.",
            "type 'proceed'",
            "Proceeding...",
            "'sysconf regenCert' successful. NTLS must be (re)started before clients can connect.",
            "Please use the 'ntls show' command",
            "Command Result : 0 (Success)",
        ],
    );
    let out = app.exec_ok("admin", &key, "service r ntls");
    assert_in_order(
        &out,
        &[
            "Checking for connected clients before stopping NTLS service:",
            "There are no connected clients. Proceeding...",
            "Stopping ntls: [ OK ]",
            "Starting ntls: [ OK ]",
        ],
    );
    let out = text(&app.shell(
        "admin",
        &key,
        "ntls bind none -bind 127.0.0.1\nproceed\nexit\n",
    ));
    assert_in_order(
        &out,
        &[
            "Success: NTLS binding hostname or IP Address 127.0.0.1 set.",
            "NOTICE: The NTLS service must be restarted for new settings to take effect.",
            "If you are sure that you wish to restart NTLS, then type 'proceed'; otherwise type \
             'quit':",
            "Proceeding...",
            "Restarting NTLS service...",
            "Stopping ntls: [ OK ]",
            "Starting ntls: [ OK ]",
            "Command Result : 0 (Success)",
        ],
    );
    let out = app.exec_ok("admin", &key, "ntls show");
    assert!(
        out.contains(&format!(
            "NTLS bound to network device: none IP Address: \"127.0.0.1\" (port {port})"
        )),
        "{out}"
    );
    assert!(
        out.contains("Server certificate: issued to 127.0.0.1"),
        "{out}"
    );

    // The client takes server.pem from the admin account, makes its certificate, adds the
    // appliance, and gives its certificate back.
    let server_pem = app.local("server.pem");
    let out = app.scp(
        "admin",
        &key,
        &["@:server.pem", server_pem.to_str().expect("path")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let conf = app.local("client").join("strongroom.toml");
    let client_cert = client_side(&conf, &server_pem, port);
    let out = app.scp(
        "admin",
        &key,
        &[client_cert.to_str().expect("path"), "@:127.0.0.1.pem"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Registration, in the reference's legacy dash form too, and the assignment.
    let out = app.exec_ok(
        "admin",
        &key,
        "client -register -client supreme -ip 127.0.0.1",
    );
    assert!(out.contains("'client register' successful."), "{out}");
    let out = app.exec_ok("admin", &key, "client -list");
    assert!(out.contains("registered client 1: supreme"), "{out}");
    let out = text(&app.shell(
        "admin",
        &key,
        &format!(
            "hsm login -password {SO_PW}\npartition create -partition ade_partition -force\nexit\n"
        ),
    ));
    assert!(out.contains("'partition create' successful."), "{out}");
    let out = app.exec_ok(
        "admin",
        &key,
        "client assignPartition -client supreme -partition ade_partition",
    );
    assert!(
        out.contains("'client assignPartition' successful."),
        "{out}"
    );
    let out = app.exec_ok("admin", &key, "client -show -client supreme");
    assert_in_order(
        &out,
        &[
            "Client ID: supreme",
            "IPAddress: 127.0.0.1",
            "Partitions: \"ade_partition\"",
        ],
    );
    let out = app.exec_ok("admin", &key, "partition list");
    assert!(out.contains("  ade_partition: supreme"), "{out}");

    // The client connects with its configuration: pinned server.pem, its own certificate.
    let config = ClientConfig::load(&conf).expect("client configuration");
    let server = config.servers.first().expect("a server");
    assert_eq!(server.address, format!("127.0.0.1:{port}"));
    let tls = config.tls_for(server).expect("tls");
    let conn =
        Connection::connect(&server.address, &server.name, tls, timeouts()).expect("connect");
    assert_eq!(conn.version(), V);
    expect_not_supported(&conn.call(7, b"a request").expect("answer"));
    let out = app.exec_ok("admin", &key, "service status ntls");
    assert!(
        out.contains(&format!(
            "ntls is running (127.0.0.1:{port}), 1 client connection(s)"
        )),
        "{out}"
    );
    let out = app.exec_ok("admin", &key, "client fingerprint -client supreme");
    let cert = load_cert(&client_cert);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, cert.as_ref());
    let hex: Vec<String> = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    assert!(out.contains(&hex.join(":")), "{out}");
    drop(conn);
}

#[test]
fn registered_clients_connect_and_every_request_gets_the_not_supported_answer() {
    let app = NtlsAppliance::start();
    let id = ClientId::new("127.0.0.1");
    app.register("c1", "127.0.0.1", &id);
    let out = app.console(&format!(
        "client assignPartition -client c1 -partition {PARTITION}"
    ));
    assert!(
        out.contains("'client assignPartition' successful."),
        "{out}"
    );
    let conn = connect(&app.addr(), id.tls(&app.server_cert())).expect("connect");
    // Many requests in flight on one connection, from many threads: each gets its answer.
    let threads: Vec<_> = (0u8..8)
        .map(|t| {
            let conn = conn.clone();
            std::thread::spawn(move || {
                for i in 0u8..40 {
                    let answer = conn.call(0x700 + u16::from(t), &[t, i]).expect("call");
                    expect_not_supported(&answer);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    assert!(!conn.is_broken());
    let out = app.console("service status ntls");
    assert!(out.contains("1 client connection(s)"), "{out}");
    let log = app.wait_log("NTLS client connected", 1);
    assert!(log.contains("NTLS client connected"), "{log}");
    assert!(log.contains("client=\"c1\""), "{log}");
}

#[test]
fn an_unregistered_certificate_is_refused_during_the_handshake() {
    let app = NtlsAppliance::start();
    let (id, stranger) = (ClientId::new("127.0.0.1"), ClientId::new("127.0.0.1"));
    app.register("c1", "127.0.0.1", &id);
    let server = app.server_cert();
    let result = connect(&app.addr(), stranger.tls(&server));
    assert!(
        matches!(
            result,
            Err(Error::Tls(_) | Error::ConnectionLost | Error::Io(_))
        ),
        "got {:?}",
        result.map(|_| ())
    );
    // The raw view: the handshake itself fails (the appliance's alert arrives at the first
    // read after the client's Finished).
    let mut raw = RawConn::connect(&app.addr(), stranger.tls(&server));
    raw.send_frame(1, OP_HELLO, &Hello { min: V, max: V }.encode());
    assert!(raw.next().is_none(), "a refused client got an answer");
    let log = app.wait_log(
        "NTLS handshake refused: the client certificate is not registered",
        1,
    );
    assert!(
        log.contains("NTLS handshake refused: the client certificate is not registered"),
        "{log}"
    );
    connect(&app.addr(), id.tls(&server)).expect("the registered client still connects");
}

#[test]
fn a_wrong_pinned_appliance_certificate_is_refused_by_the_client() {
    let app = NtlsAppliance::start();
    let id = ClientId::new("127.0.0.1");
    app.register("c1", "127.0.0.1", &id);
    let impostor = ClientId::new("127.0.0.1").cert;
    match connect(&app.addr(), id.tls(&impostor)) {
        Err(Error::Tls(_)) => {}
        other => panic!("expected a TLS error, got {:?}", other.map(|_| ())),
    }
    connect(&app.addr(), id.tls(&app.server_cert())).expect("the right pin works");
}

/// Accepts any server certificate: the TLS 1.2 test must reach the version check.
#[derive(Debug)]
struct AnyServer(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyServer {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &rustls::pki_types::CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &rustls::pki_types::CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[test]
fn a_tls_1_2_client_is_refused() {
    let app = NtlsAppliance::start();
    let id = ClientId::new("127.0.0.1");
    app.register("c1", "127.0.0.1", &id);
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS12])
        .expect("TLS 1.2")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyServer(provider)))
        .with_client_auth_cert(vec![id.cert.clone()], id.key())
        .expect("client auth");
    let mut sock = std::net::TcpStream::connect(app.addr()).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("name");
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).expect("tls");
    let mut result = Ok((0, 0));
    while conn.is_handshaking() {
        result = conn.complete_io(&mut sock);
        if result.is_err() {
            break;
        }
    }
    let err = result.expect_err("a TLS 1.2 handshake succeeded");
    assert!(
        format!("{err}").contains("ProtocolVersion") || format!("{err:?}").contains("Alert"),
        "{err:?}"
    );
    assert!(conn.protocol_version().is_none());
}

#[test]
fn a_new_certificate_takes_over_at_the_ntls_restart() {
    let app = NtlsAppliance::start();
    let id = ClientId::new("127.0.0.1");
    app.register("c1", "127.0.0.1", &id);
    let old = app.server_cert();
    let open = connect(&app.addr(), id.tls(&old)).expect("connect with the old pin");

    let out = app.console("sysconf regenCert 127.0.0.1 -force");
    assert!(
        out.contains("'sysconf regenCert' successful. NTLS must be (re)started"),
        "{out}"
    );
    let new = app.server_cert();
    assert_ne!(
        new, old,
        "server.pem in the admin's file area is the new one"
    );
    // Until NTLS restarts, the listener keeps the certificate it started with.
    connect(&app.addr(), id.tls(&old)).expect("old pin before the restart");
    assert!(connect(&app.addr(), id.tls(&new)).is_err());

    let out = app.console("service restart ntls");
    // A client is connected: the restart asks first, and 'quit' keeps it.
    assert!(
        out.contains("There are 1 connected client connection(s):"),
        "{out}"
    );
    assert!(out.contains("  c1 (127.0.0.1:"), "{out}");
    assert!(
        out.contains("Command aborted: nothing was changed."),
        "{out}"
    );
    expect_not_supported(&open.call(7, b"still open").expect("still open"));
    let out = app.console("service restart ntls -force");
    assert_in_order(
        &out,
        &[
            "Force option used. Proceed prompt bypassed.",
            "Stopping ntls: [ OK ]",
            "Starting ntls: [ OK ]",
        ],
    );
    assert!(
        open.call(7, b"closed").is_err(),
        "the restart closes connections"
    );
    assert!(
        connect(&app.addr(), id.tls(&old)).is_err(),
        "old pin after restart"
    );
    connect(&app.addr(), id.tls(&new)).expect("new pin after restart");
}

#[test]
fn deleting_a_client_cuts_its_open_connections_and_refuses_it_from_then_on() {
    let app = NtlsAppliance::start();
    let (a, b) = (ClientId::new("a"), ClientId::new("b"));
    app.register("alpha", "alpha.test", &a);
    app.register("beta", "beta.test", &b);
    let server = app.server_cert();
    let conn_a = connect(&app.addr(), a.tls(&server)).expect("alpha");
    let conn_b = connect(&app.addr(), b.tls(&server)).expect("beta");
    let out = app.console("client delete -client alpha -force");
    assert_in_order(
        &out,
        &[
            "Closed 1 open NTLS connection(s) of the client 'alpha'.",
            "'client delete' successful.",
        ],
    );
    let cut = conn_a.call(7, b"after delete");
    assert!(
        matches!(
            cut,
            Err(Error::ConnectionLost | Error::Io(_) | Error::Tls(_))
        ),
        "{:?}",
        cut.map(|_| ())
    );
    assert!(connect(&app.addr(), a.tls(&server)).is_err(), "alpha again");
    expect_not_supported(&conn_b.call(7, b"beta lives").expect("beta"));
    let out = app.console("client list");
    assert!(out.contains("registered client 1: beta"), "{out}");
    assert!(!out.contains("alpha"), "{out}");
}

#[test]
fn malformed_and_oversize_frames_close_only_their_connection() {
    let app = NtlsAppliance::start();
    let id = ClientId::new("127.0.0.1");
    app.register("c1", "127.0.0.1", &id);
    let server = app.server_cert();
    let good = connect(&app.addr(), id.tls(&server)).expect("connect");

    let oversize = {
        // A length announcing more than the 4 MiB maximum.
        let mut f = (u32::MAX).to_le_bytes().to_vec();
        f.extend_from_slice(&[0u8; 10]);
        f
    };
    let too_short = {
        // A length smaller than the header it must cover.
        let mut f = 3u32.to_le_bytes().to_vec();
        f.extend_from_slice(&[0u8; HEADER_LEN]);
        f
    };
    let not_hello = {
        let mut f = Vec::new();
        strongroom_proto::encode_frame(&mut f, 1, 9, b"not a hello", 64).expect("frame");
        f
    };
    let cases: [(&str, Vec<u8>, bool); 5] = [
        ("oversize", oversize, true),
        ("too short", too_short, true),
        ("garbage", b"GET / HTTP/1.1\r\n\r\n".to_vec(), false),
        ("a first frame that is not a hello", not_hello, false),
        ("a second hello", Vec::new(), true),
    ];
    for (what, bytes, after_hello) in cases {
        let mut raw = RawConn::connect(&app.addr(), id.tls(&server));
        if after_hello {
            raw.hello();
            raw.send_frame(2, 9, b"fine");
            expect_not_supported(&raw.next().expect("an answer before the bad frame"));
        }
        if bytes.is_empty() {
            raw.send_frame(3, OP_HELLO, &Hello { min: V, max: V }.encode());
        } else {
            raw.send(&bytes);
        }
        assert!(raw.next().is_none(), "{what}: the connection stays open");
        // The other connection is untouched.
        expect_not_supported(&good.call(7, what.as_bytes()).expect(what));
    }
    let log = app.wait_log("malformed NTLS frame: connection closed", 5);
    assert_eq!(
        log.matches("malformed NTLS frame: connection closed")
            .count(),
        5,
        "{log}"
    );
    assert!(
        log.lines()
            .filter(|l| l.contains("malformed NTLS frame"))
            .all(|l| l.contains("peer=127.0.0.1:") && l.contains("client=\"c1\"")),
        "{log}"
    );
    assert!(
        log.contains("the first frame is not a valid hello (opcode 9"),
        "{log}"
    );
    assert!(log.contains("error=a second hello"), "{log}");
    let out = app.console("ntls show");
    assert!(
        out.contains("Connections closed for malformed frames since start: 5"),
        "{out}"
    );
}

#[test]
fn a_hello_without_a_common_version_is_answered_and_closed() {
    let app = NtlsAppliance::start();
    let id = ClientId::new("127.0.0.1");
    app.register("c1", "127.0.0.1", &id);
    let mut raw = RawConn::connect(&app.addr(), id.tls(&app.server_cert()));
    raw.send_frame(1, OP_HELLO, &Hello { min: 7, max: 9 }.encode());
    let answer = raw.next().expect("the appliance's range");
    assert_eq!(answer.opcode, OP_HELLO);
    assert_eq!(
        Hello::decode(&answer.payload),
        Some(Hello { min: V, max: V })
    );
    assert!(raw.next().is_none(), "closed after the hello");
}

/// The soft limit on open files of this process (0 if unknown).
fn open_files_limit() -> u64 {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

#[test]
fn hundreds_of_idle_connections_while_another_keeps_getting_answers() {
    // A thousand when the descriptor limit leaves room (each side holds one per connection),
    // else a modest 250; `STRONGROOM_TEST_IDLE=N` chooses.
    let idle_count: usize = std::env::var("STRONGROOM_TEST_IDLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if open_files_limit() >= 4096 {
            1000
        } else {
            250
        });
    let app = NtlsAppliance::start();
    let id = ClientId::new("127.0.0.1");
    app.register("c1", "127.0.0.1", &id);
    let config = id.tls(&app.server_cert());
    let active = connect(&app.addr(), config.clone()).expect("active");
    let started = Instant::now();
    let mut idle = Vec::with_capacity(idle_count);
    for i in 0..idle_count {
        let conn = Connection::connect(&app.addr(), "127.0.0.1", config.clone(), timeouts())
            .unwrap_or_else(|e| panic!("idle connection {i}: {e}"));
        idle.push(conn);
        if i % 50 == 0 {
            expect_not_supported(&active.call(7, b"meanwhile").expect("active answers"));
        }
    }
    eprintln!("{idle_count} connections made in {:?}", started.elapsed());
    let out = app.console("service status ntls");
    assert!(
        out.contains(&format!("{} client connection(s)", idle_count + 1)),
        "{out}"
    );
    let t = Instant::now();
    for _ in 0..100 {
        expect_not_supported(&active.call(7, b"busy").expect("active answers"));
    }
    eprintln!(
        "100 round trips beside {idle_count} idle connections: {:?}",
        t.elapsed()
    );
    // The idle ones still work too.
    expect_not_supported(&idle[idle_count - 1].call(7, b"wake").expect("idle answers"));
}

#[test]
fn connection_limit_and_idle_timeout_are_enforced() {
    let app = NtlsAppliance::start_with("max_connections = 2\nidle_timeout_secs = 1\n");
    let id = ClientId::new("127.0.0.1");
    app.register("c1", "127.0.0.1", &id);
    let config = id.tls(&app.server_cert());
    let first = connect(&app.addr(), config.clone()).expect("first");
    let _second = connect(&app.addr(), config.clone()).expect("second");
    assert!(connect(&app.addr(), config.clone()).is_err(), "a third");
    app.wait_log("too many NTLS connections", 1);
    // Idle for longer than the timeout: closed by the appliance, and the slots free up.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        first.call(7, b"late").is_err(),
        "an idle connection stays open"
    );
    connect(&app.addr(), config).expect("a slot is free again");
    app.wait_log("NTLS connection closed: idle", 1);
}

#[test]
fn revoking_and_reassigning_partitions_and_partition_list() {
    let app = NtlsAppliance::start();
    let id = ClientId::new("127.0.0.1");
    app.register("c1", "127.0.0.1", &id);
    let out = app.console(&format!(
        "hsm login -password {SO_PW}\npartition create -partition p2 -force\n\
         client assignPartition -client c1 -partition p2\n\
         client assignPartition -client c1 -partition {PARTITION}\n\
         client show -client c1\npartition list"
    ));
    assert!(out.contains("Partitions: \"p2\" \"p1\""), "{out}");
    assert_in_order(&out, &["Assigned to clients:", "  p1: c1", "  p2: c1"]);
    let out = app.console(
        "client revokePartition -client c1 -partition p2\nclient show -client c1\n\
         client revokePartition -client c1 -partition p2",
    );
    assert!(
        out.contains("'client revokePartition' successful."),
        "{out}"
    );
    assert!(out.contains("Partitions: \"p1\""), "{out}");
    assert!(
        out.contains("the partition 'p2' is not assigned to the client 'c1'"),
        "{out}"
    );
    // Still connects: registration, not assignment, admits a client.
    connect(&app.addr(), id.tls(&app.server_cert())).expect("connect");
    assert_eq!(
        field(&app.console("client show -client c1"), "Client ID").as_deref(),
        Some("c1")
    );
}

#[test]
fn sigterm_closes_ntls_connections_and_the_daemon_exits_cleanly() {
    let mut app = NtlsAppliance::start();
    let id = ClientId::new("127.0.0.1");
    app.register("c1", "127.0.0.1", &id);
    let conn = connect(&app.addr(), id.tls(&app.server_cert())).expect("connect");
    let status = app.daemon.terminate();
    assert!(status.success(), "{status}: {}", app.log());
    assert!(conn.call(7, b"after shutdown").is_err());
    assert!(
        std::net::TcpStream::connect(app.addr()).is_err(),
        "still listening"
    );
    let _ = &app.tmp;
}

#[test]
fn a_client_that_takes_no_answers_is_closed_and_others_are_not_held_up() {
    let app = NtlsAppliance::start_with("idle_timeout_secs = 1\nmax_requests_in_flight = 8\n");
    let id = ClientId::new("127.0.0.1");
    app.register("c1", "127.0.0.1", &id);
    let config = id.tls(&app.server_cert());
    // Another client keeps calling (well within its 1 s idle timeout) all along.
    let other = connect(&app.addr(), config.clone()).expect("other");
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let caller = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut answered = 0u32;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                expect_not_supported(&other.call(7, b"meanwhile").expect("other answers"));
                answered += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            answered
        })
    };
    let mut raw = RawConn::connect(&app.addr(), config);
    raw.hello();
    // Requests without ever reading: the answers back up until the appliance gives up.
    let mut batch = Vec::new();
    for i in 0..4096u64 {
        strongroom_proto::encode_frame(&mut batch, 10 + i, 9, b"", 64).expect("frame");
    }
    let started = Instant::now();
    let mut sent = 0usize;
    let closed = loop {
        if raw.try_send(&batch).is_err() {
            break true;
        }
        sent += 4096;
        if started.elapsed() > Duration::from_secs(60) {
            break false;
        }
    };
    let elapsed = started.elapsed();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let answered = caller.join().expect("caller");
    eprintln!("closed after {sent} unanswered requests in {elapsed:?}; {answered} other calls");
    assert!(closed, "still open after {sent} unanswered requests");
    assert!(answered >= 3, "{answered}");
    let log = app.wait_log("NTLS connection closed: the client takes no answers", 1);
    assert!(
        log.contains("NTLS connection closed: the client takes no answers"),
        "{log}"
    );
}

#[test]
fn service_stop_and_start_ntls() {
    let app = NtlsAppliance::start();
    let id = ClientId::new("127.0.0.1");
    app.register("c1", "127.0.0.1", &id);
    let config = id.tls(&app.server_cert());
    let out = app.console("service stop ntls");
    assert_in_order(
        &out,
        &[
            "There are no connected clients. Proceeding...",
            "Stopping ntls: [ OK ]",
        ],
    );
    assert!(!out.contains("Starting ntls"), "{out}");
    assert!(connect(&app.addr(), config.clone()).is_err(), "stopped");
    let out = app.console("service status ntls\nntls show");
    assert!(out.contains("ntls is stopped"), "{out}");
    assert!(out.contains("NTLS service: stopped"), "{out}");
    let out = app.console("service start ntls\nservice start ntls");
    assert_in_order(
        &out,
        &[
            "Starting ntls: [ OK ]",
            &format!("NTLS is listening on {}.", app.addr()),
            &format!("ntls is already running ({}).", app.addr()),
        ],
    );
    connect(&app.addr(), config).expect("started again on the same port");
}

#[test]
fn many_requests_in_one_write_are_all_answered_within_the_in_flight_limit() {
    let app = NtlsAppliance::start_with("max_requests_in_flight = 2\n");
    let id = ClientId::new("127.0.0.1");
    app.register("c1", "127.0.0.1", &id);
    let mut raw = RawConn::connect(&app.addr(), id.tls(&app.server_cert()));
    raw.hello();
    // Fifty quick requests arrive together: more than may be in flight at once, so the
    // appliance answers those it holds before it takes the next.
    let mut batch = Vec::new();
    for i in 0..50u64 {
        strongroom_proto::encode_frame(&mut batch, 100 + i, 7, b"quick", 64).expect("frame");
    }
    raw.send(&batch);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..50 {
        let frame = raw.next().expect("an answer");
        expect_not_supported(&frame);
        assert!(seen.insert(frame.request_id), "answered twice: {frame:?}");
    }
    assert_eq!(seen, (100..150).collect());
    // The connection goes on.
    raw.send_frame(7, 7, b"again");
    expect_not_supported(&raw.next().expect("an answer"));
}
