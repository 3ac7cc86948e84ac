//! The NTLS client against a real TLS 1.3 server on loopback that answers out of order.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use strongroom_client::{Connection, Error, Timeouts, client_tls_config};
use strongroom_proto::{DEFAULT_MAX_PAYLOAD, FrameDecoder, Hello, OP_HELLO, encode_frame};

/// The protocol version this build speaks.
const V: u16 = *strongroom_proto::PROTOCOL_VERSIONS.end();

struct Identity {
    cert: CertificateDer<'static>,
    key: Vec<u8>,
}

impl Identity {
    fn new(name: &str) -> Self {
        let ck = rcgen::generate_simple_self_signed(vec![name.to_owned()]).expect("rcgen");
        Self {
            cert: ck.cert.der().clone(),
            key: ck.signing_key.serialize_der(),
        }
    }
    fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()))
    }
}

/// Accepts exactly the registered client certificates (what the appliance does).
#[derive(Debug)]
struct Registered {
    certs: Vec<CertificateDer<'static>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ClientCertVerifier for Registered {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }
    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if self.certs.iter().any(|c| c.as_ref() == end_entity.as_ref()) {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ))
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            m,
            c,
            d,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            m,
            c,
            d,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A test appliance: answers each request after `payload[0]` milliseconds with the payload
/// reversed, so that concurrent requests are answered out of order. Opcode 99 closes the
/// connection without answering.
struct TestServer {
    addr: String,
    stop: Arc<AtomicBool>,
}

impl TestServer {
    fn start(server: &Identity, clients: &[&Identity]) -> Self {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = Arc::new(Registered {
            certs: clients.iter().map(|c| c.cert.clone()).collect(),
            provider: provider.clone(),
        });
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_protocol_versions(&[&rustls::version::TLS13])
                .unwrap()
                .with_client_cert_verifier(verifier)
                .with_single_cert(vec![server.cert.clone()], server.key())
                .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        listener.set_nonblocking(true).unwrap();
        std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((sock, _)) => {
                        let config = config.clone();
                        std::thread::spawn(move || serve(sock, config));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Self { addr, stop }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(mut sock: TcpStream, config: Arc<rustls::ServerConfig>) {
    sock.set_nonblocking(false).unwrap();
    let mut conn = rustls::ServerConnection::new(config).unwrap();
    while conn.is_handshaking() {
        if conn.complete_io(&mut sock).is_err() {
            return;
        }
    }
    sock.set_read_timeout(Some(Duration::from_millis(2)))
        .unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    let mut decoder = FrameDecoder::new(DEFAULT_MAX_PAYLOAD);
    let mut due: Vec<(Instant, u64, u16, Vec<u8>)> = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match tls.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => decoder.push(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
        while let Ok(Some(f)) = decoder.next_frame() {
            match f.opcode {
                OP_HELLO => {
                    let mut out = Vec::new();
                    encode_frame(
                        &mut out,
                        f.request_id,
                        OP_HELLO,
                        &Hello { min: V, max: V }.encode(),
                        64,
                    )
                    .unwrap();
                    tls.write_all(&out).unwrap();
                }
                99 => return,
                op => {
                    let delay =
                        Duration::from_millis(u64::from(f.payload.first().copied().unwrap_or(0)));
                    let mut p = f.payload.clone();
                    p.reverse();
                    due.push((Instant::now() + delay, f.request_id, op, p));
                }
            }
        }
        let now = Instant::now();
        let (ready, later): (Vec<_>, Vec<_>) = due.into_iter().partition(|d| d.0 <= now);
        due = later;
        for (_, id, op, p) in ready {
            let mut out = Vec::new();
            encode_frame(&mut out, id, op, &p, DEFAULT_MAX_PAYLOAD).unwrap();
            if tls.write_all(&out).is_err() {
                return;
            }
        }
    }
}

fn connect(
    server: &TestServer,
    pinned: &Identity,
    client: &Identity,
) -> Result<Arc<Connection>, Error> {
    let config = client_tls_config(pinned.cert.clone(), vec![client.cert.clone()], client.key())?;
    let timeouts = Timeouts {
        connect: Duration::from_secs(5),
        request: Duration::from_secs(10),
    };
    let conn = Connection::connect(&server.addr, "localhost", config, timeouts)?;
    // TLS 1.3 reports a refused client certificate only after the handshake: a round trip
    // makes every outcome definite.
    conn.call(1, &[0, 1])?;
    Ok(conn)
}

#[test]
fn many_threads_share_one_connection_and_get_their_own_answers() {
    let (server_id, client_id) = (Identity::new("localhost"), Identity::new("client1"));
    let server = TestServer::start(&server_id, &[&client_id]);
    let conn = connect(&server, &server_id, &client_id).expect("connect");
    assert_eq!(conn.version(), V);
    let threads: Vec<_> = (0u8..16)
        .map(|t| {
            let conn = conn.clone();
            std::thread::spawn(move || {
                for i in 0u8..40 {
                    // Later threads answer sooner: replies arrive out of order.
                    let delay = (16 - t) % 7;
                    let payload = vec![delay, t, i, 0xAB];
                    let answer = conn.call(7, &payload).expect("call");
                    let mut expected = payload.clone();
                    expected.reverse();
                    assert_eq!((answer.opcode, answer.payload), (7, expected));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    assert!(!conn.is_broken());
}

#[test]
fn a_different_appliance_certificate_is_refused() {
    let (server_id, client_id, other) = (
        Identity::new("localhost"),
        Identity::new("client1"),
        Identity::new("localhost"),
    );
    let server = TestServer::start(&server_id, &[&client_id]);
    match connect(&server, &other, &client_id) {
        Err(Error::Tls(_)) => {}
        other => panic!("expected a TLS error, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn an_unregistered_client_certificate_is_refused() {
    let (server_id, client_id, stranger) = (
        Identity::new("localhost"),
        Identity::new("client1"),
        Identity::new("stranger"),
    );
    let server = TestServer::start(&server_id, &[&client_id]);
    let result = connect(&server, &server_id, &stranger);
    assert!(
        matches!(
            result,
            Err(Error::Tls(_) | Error::ConnectionLost | Error::Io(_))
        ),
        "got {:?}",
        result.map(|_| ())
    );
    assert!(
        connect(&server, &server_id, &client_id).is_ok(),
        "the registered one still works"
    );
}

#[test]
fn a_dropped_connection_fails_every_waiter_and_later_calls() {
    let (server_id, client_id) = (Identity::new("localhost"), Identity::new("client1"));
    let server = TestServer::start(&server_id, &[&client_id]);
    let conn = connect(&server, &server_id, &client_id).expect("connect");
    let waiter = {
        let conn = conn.clone();
        std::thread::spawn(move || conn.call(7, &[200, 1, 2]))
    };
    std::thread::sleep(Duration::from_millis(20));
    let killed = conn.call(99, &[]);
    assert!(
        matches!(killed, Err(Error::ConnectionLost)),
        "{:?}",
        killed.map(|_| ())
    );
    let waited = waiter.join().expect("thread");
    assert!(
        matches!(waited, Err(Error::ConnectionLost)),
        "{:?}",
        waited.map(|_| ())
    );
    assert!(conn.is_broken());
    assert!(matches!(conn.call(7, &[0]), Err(Error::ConnectionLost)));
}

#[test]
fn a_request_timeout_gives_the_connection_up() {
    let (server_id, client_id) = (Identity::new("localhost"), Identity::new("client1"));
    let server = TestServer::start(&server_id, &[&client_id]);
    let config = client_tls_config(
        server_id.cert.clone(),
        vec![client_id.cert.clone()],
        client_id.key(),
    )
    .expect("config");
    let timeouts = Timeouts {
        connect: Duration::from_secs(5),
        request: Duration::from_millis(100),
    };
    let conn = Connection::connect(&server.addr, "localhost", config, timeouts).expect("connect");
    // Answered at once: the connection works.
    conn.call(7, &[0, 1]).expect("a prompt answer");
    // Answered after 250 ms, past the 100 ms timeout.
    let late = conn.call(7, &[250, 1]);
    assert!(
        matches!(late, Err(Error::Timeout)),
        "{:?}",
        late.map(|_| ())
    );
    assert!(conn.is_broken());
    assert!(matches!(conn.call(7, &[0]), Err(Error::ConnectionLost)));
}

#[test]
fn oversize_requests_are_refused_locally() {
    let (server_id, client_id) = (Identity::new("localhost"), Identity::new("client1"));
    let server = TestServer::start(&server_id, &[&client_id]);
    let conn = connect(&server, &server_id, &client_id).expect("connect");
    let big = vec![0u8; DEFAULT_MAX_PAYLOAD + 1];
    assert!(matches!(conn.call(7, &big), Err(Error::InvalidInput(_))));
    assert!(
        conn.call(7, &[0, 5]).is_ok(),
        "the connection is still usable"
    );
}
