//! NTLS test helpers: a `strongroomd run` appliance with NTLS on a free loopback port (SSH
//! off, administered through the piped console), client identities made with rcgen, and
//! connections through the `strongroom-client` crate or raw TLS.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use strongroom_client::{Connection, Error, Timeouts, client_tls_config};
use strongroom_proto::{DEFAULT_MAX_PAYLOAD, Frame, FrameDecoder, Hello, OP_HELLO, encode_frame};

/// The protocol version this build speaks.
const V: u16 = *strongroom_proto::PROTOCOL_VERSIONS.end();

use super::process::{Proc, console_ok, value_after};
use super::{DOMAIN, LABEL, SO_PW};

/// The error answer's opcode (strongroomd's minimal response encoding).
pub(crate) const OP_ERROR: u16 = 1;
/// `SR_RET_FUNCTION_NOT_SUPPORTED`.
pub(crate) const NOT_SUPPORTED: u32 = 0x0054_0000;
/// The partition the appliance is created with.
pub(crate) const PARTITION: &str = "p1";

/// The port of the `NTLS service listening on HOST:PORT` line in `out`.
pub(crate) fn listening_port(out: &str) -> u16 {
    let line = out
        .lines()
        .find(|l| l.contains("NTLS service listening on"))
        .unwrap_or_else(|| panic!("no NTLS line in:\n{out}"));
    line.rsplit(':')
        .next()
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"))
}

/// A running appliance serving NTLS, initialized, with the partition [`PARTITION`].
pub(crate) struct NtlsAppliance {
    pub(crate) tmp: tempfile::TempDir,
    pub(crate) data: PathBuf,
    pub(crate) daemon: Proc,
    pub(crate) port: u16,
}

impl NtlsAppliance {
    /// Starts with the default NTLS limits.
    pub(crate) fn start() -> Self {
        Self::start_with("")
    }

    /// Starts with extra `[ntls]` lines.
    pub(crate) fn start_with(ntls_section: &str) -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let data = tmp.path().join("data");
        let config = tmp.path().join("strongroom.toml");
        std::fs::write(
            &config,
            format!(
                "data_dir = {:?}\ntotal_storage = 4194304\nlicensed_partitions = 4\n\
                 [listen]\nssh = \"off\"\nntls = \"127.0.0.1:0\"\n[ntls]\n{ntls_section}\n",
                data.display().to_string()
            ),
        )
        .expect("write config");
        let mut daemon = Proc::run(&config, &data);
        let out = daemon.wait_for("NTLS service listening on", Duration::from_secs(30));
        let port = listening_port(&out);
        let rus = value_after(&out, "Random User String").expect("random user string");
        let out = console_ok(
            &data,
            &format!(
                "hsm stm recover -randomuserstring {rus} -force\n\
                 hsm init -label {LABEL} -password {SO_PW} -domain {DOMAIN} -force\n\
                 hsm login -password {SO_PW}\n\
                 partition create -partition {PARTITION} -force\nexit\n"
            ),
        );
        assert!(out.contains("'partition create' successful."), "{out}");
        Self {
            tmp,
            data,
            daemon,
            port,
        }
    }

    pub(crate) fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Runs console lines (an `exit` is added); returns the transcript.
    pub(crate) fn console(&self, lines: &str) -> String {
        console_ok(&self.data, &format!("{lines}\nexit\n"))
    }

    /// The admin's file area.
    pub(crate) fn admin_files(&self) -> PathBuf {
        self.data.join("users").join("admin")
    }

    /// The appliance certificate as the admin's file area offers it (`server.pem`).
    pub(crate) fn server_cert(&self) -> CertificateDer<'static> {
        load_cert(&self.admin_files().join("server.pem"))
    }

    /// Places `id`'s certificate in the admin's file area as `<address>.pem` and registers it
    /// under `name` (`-ip` for IP addresses, else `-hostname`); returns the transcript.
    pub(crate) fn register(&self, name: &str, address: &str, id: &ClientId) -> String {
        std::fs::write(
            self.admin_files().join(format!("{address}.pem")),
            &id.cert_pem,
        )
        .expect("upload");
        let how = if address.parse::<std::net::IpAddr>().is_ok() {
            "ip"
        } else {
            "hostname"
        };
        let out = self.console(&format!("client register -client {name} -{how} {address}"));
        assert!(out.contains("'client register' successful."), "{out}");
        out
    }

    /// The daemon's log so far.
    pub(crate) fn log(&self) -> String {
        self.daemon.stderr()
    }

    /// The daemon's log once it contains `needle` `count` times (it is collected by a thread,
    /// a little behind what the clients see); panics after a few seconds.
    pub(crate) fn wait_log(&self, needle: &str, count: usize) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.log();
            if log.matches(needle).count() >= count {
                return log;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{needle:?} not logged {count} time(s):\n{log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Reads the first certificate of a PEM file.
pub(crate) fn load_cert(path: &Path) -> CertificateDer<'static> {
    strongroom_client::load_certificate(path).expect("certificate")
}

/// A client identity: a self-signed certificate and its key.
pub(crate) struct ClientId {
    pub(crate) cert_pem: String,
    pub(crate) cert: CertificateDer<'static>,
    pub(crate) key_pem: String,
    key: Vec<u8>,
}

impl ClientId {
    pub(crate) fn new(name: &str) -> Self {
        let ck = rcgen::generate_simple_self_signed(vec![name.to_owned()]).expect("rcgen");
        Self {
            cert_pem: ck.cert.pem(),
            cert: ck.cert.der().clone(),
            key_pem: ck.signing_key.serialize_pem(),
            key: ck.signing_key.serialize_der(),
        }
    }

    pub(crate) fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()))
    }

    /// The client TLS configuration pinning `server`.
    pub(crate) fn tls(&self, server: &CertificateDer<'static>) -> Arc<rustls::ClientConfig> {
        client_tls_config(server.clone(), vec![self.cert.clone()], self.key()).expect("tls config")
    }
}

pub(crate) fn timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(10),
        request: Duration::from_secs(20),
    }
}

/// Connects (handshake and hello) and makes one round trip, so that a refusal after the
/// client's side of the TLS 1.3 handshake is seen here.
pub(crate) fn connect(
    addr: &str,
    config: Arc<rustls::ClientConfig>,
) -> Result<Arc<Connection>, Error> {
    let conn = Connection::connect(addr, "127.0.0.1", config, timeouts())?;
    expect_not_supported(&conn.call(7, b"ping")?);
    Ok(conn)
}

/// Asserts that `frame` is the error answer with `SR_RET_FUNCTION_NOT_SUPPORTED`.
pub(crate) fn expect_not_supported(frame: &Frame) {
    assert_eq!(frame.opcode, OP_ERROR, "{frame:?}");
    let e: strongroom_proto::messages::ErrorResponse =
        strongroom_proto::messages::decode(&frame.payload).expect("an error response");
    assert_eq!((e.code, e.needed), (NOT_SUPPORTED, None), "{frame:?}");
}

/// A TLS connection driven byte by byte, for frames the client library would never send.
pub(crate) struct RawConn {
    tls: rustls::StreamOwned<rustls::ClientConnection, TcpStream>,
    decoder: FrameDecoder,
}

impl RawConn {
    /// Connects and completes the handshake (not the hello).
    pub(crate) fn connect(addr: &str, config: Arc<rustls::ClientConfig>) -> Self {
        let sock = TcpStream::connect(addr).expect("connect");
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let name = ServerName::try_from("127.0.0.1").expect("name");
        let mut conn = rustls::ClientConnection::new(config, name).expect("tls");
        let mut sock = sock;
        while conn.is_handshaking() {
            conn.complete_io(&mut sock).expect("handshake");
        }
        Self {
            tls: rustls::StreamOwned::new(conn, sock),
            decoder: FrameDecoder::new(DEFAULT_MAX_PAYLOAD),
        }
    }

    /// Sends raw bytes.
    pub(crate) fn send(&mut self, bytes: &[u8]) {
        self.tls.write_all(bytes).expect("send");
        self.tls.flush().expect("flush");
    }

    /// Sends raw bytes, reporting failure (the appliance closed the connection).
    pub(crate) fn try_send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.tls
            .get_ref()
            .set_write_timeout(Some(Duration::from_secs(20)))?;
        self.tls.write_all(bytes)?;
        self.tls.flush()
    }

    /// Sends one well-formed frame.
    pub(crate) fn send_frame(&mut self, id: u64, opcode: u16, payload: &[u8]) {
        let mut out = Vec::new();
        encode_frame(&mut out, id, opcode, payload, DEFAULT_MAX_PAYLOAD).expect("encode");
        self.send(&out);
    }

    /// Sends the hello and checks the answer.
    pub(crate) fn hello(&mut self) {
        self.send_frame(1, OP_HELLO, &Hello { min: V, max: V }.encode());
        let answer = self.next().expect("hello answer");
        assert_eq!(answer.opcode, OP_HELLO);
        assert_eq!(
            Hello::decode(&answer.payload),
            Some(Hello { min: V, max: V })
        );
    }

    /// The next frame, or `None` when the appliance closed the connection.
    pub(crate) fn next(&mut self) -> Option<Frame> {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(f) = self.decoder.next_frame().expect("appliance frame") {
                return Some(f);
            }
            match self.tls.read(&mut buf) {
                Ok(0) => return None,
                Ok(n) => self.decoder.push(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    panic!("the appliance neither answered nor closed within the timeout")
                }
                Err(_) => return None,
            }
        }
    }
}
