//! Remote logging to a real rsyslogd (Debian packages `rsyslog` and `rsyslog-gnutls`): the
//! audit records over TCP, byte-identical to the audit files and still verifiable; the
//! appliance log over UDP; mutual TLS with a test CA (and its refusals); records queued while
//! the server is down and delivered when it comes up.
//!
//! rsyslogd runs unprivileged-style in the foreground with its own configuration and work
//! directory in a temporary directory, listening on free loopback ports only.

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Rig, SO_PW, Shell};
use strongroomd::{Channel, Role};

const AU_PW: &str = "Auditor-Pass-1";
const AU_DOMAIN: &str = "audit-domain";
/// How long records may take to reach the server.
const ARRIVAL: Duration = Duration::from_secs(30);
const RSYSLOGD_CANDIDATES: &[&str] = &["/usr/sbin/rsyslogd", "/sbin/rsyslogd"];

fn rsyslogd() -> PathBuf {
    RSYSLOGD_CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "rsyslogd is missing ({RSYSLOGD_CANDIDATES:?}): the remote logging tests need \
                 a real rsyslog; install the Debian packages with \
                 'apt-get install -y rsyslog rsyslog-gnutls'"
            )
        })
}

/// Fails clearly when rsyslog's GnuTLS driver (package `rsyslog-gnutls`) is missing.
fn require_gtls() {
    let found = std::fs::read_dir("/usr/lib")
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path().join("rsyslog").join("lmnsd_gtls.so"))
                .chain(std::iter::once(PathBuf::from(
                    "/usr/lib/rsyslog/lmnsd_gtls.so",
                )))
                .any(|p| p.is_file())
        })
        .unwrap_or(false);
    assert!(
        found,
        "rsyslog's GnuTLS driver (lmnsd_gtls.so) is missing: install the Debian package with \
         'apt-get install -y rsyslog-gnutls'"
    );
}

/// A free loopback TCP port (and, for UDP, a free UDP port).
fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("free port")
        .port()
}

/// TLS files of an rsyslog listener.
struct ServerTls {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

/// A foreground rsyslogd, killed on drop. Every message goes to `all.log` as
/// `facility|app-name|msg`; `local3` messages also go to `audit.log` through the reference's
/// template `%msg:F,94:2%`.
struct Rsyslog {
    child: Child,
    dir: PathBuf,
}

impl Rsyslog {
    fn start(dir: &Path, tcp: u16, udp: Option<u16>, tls: Option<&ServerTls>) -> Self {
        let bin = rsyslogd();
        std::fs::create_dir_all(dir.join("work")).expect("work dir");
        let mut conf = format!(
            "global(workDirectory=\"{}\" maxMessageSize=\"64k\"",
            dir.join("work").display()
        );
        if let Some(t) = tls {
            require_gtls();
            conf.push_str(&format!(
                "\n  defaultNetstreamDriver=\"gtls\"\n  defaultNetstreamDriverCAFile=\"{}\"\n  \
                 defaultNetstreamDriverCertFile=\"{}\"\n  defaultNetstreamDriverKeyFile=\"{}\"",
                t.ca.display(),
                t.cert.display(),
                t.key.display()
            ));
        }
        conf.push_str(")\n");
        if tls.is_some() {
            conf.push_str(
                "module(load=\"imtcp\" streamDriver.name=\"gtls\" streamDriver.mode=\"1\" \
                 streamDriver.authMode=\"x509/certvalid\")\n",
            );
        } else {
            conf.push_str("module(load=\"imtcp\")\n");
        }
        conf.push_str(&format!(
            "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{tcp}\")\n"
        ));
        if let Some(u) = udp {
            conf.push_str(&format!(
                "module(load=\"imudp\")\ninput(type=\"imudp\" address=\"127.0.0.1\" port=\"{u}\")\n"
            ));
        }
        conf.push_str(&format!(
            "template(name=\"Fields\" type=\"string\" \
             string=\"%syslogfacility-text%|%app-name%|%msg%\\n\")\n\
             template(name=\"AuditFormat\" type=\"string\" string=\"%msg:F,94:2%\\n\")\n\
             *.* action(type=\"omfile\" file=\"{all}\" template=\"Fields\")\n\
             local3.* action(type=\"omfile\" file=\"{audit}\" template=\"AuditFormat\")\n",
            all = dir.join("all.log").display(),
            audit = dir.join("audit.log").display(),
        ));
        let conf_path = dir.join("rsyslog.conf");
        std::fs::write(&conf_path, conf).expect("write rsyslog.conf");
        let child = Command::new(&bin)
            .arg("-n")
            .arg("-f")
            .arg(&conf_path)
            .arg("-i")
            .arg(dir.join("rsyslogd.pid"))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.join("rsyslogd.out")).expect("out file"))
            .stderr(std::fs::File::create(dir.join("rsyslogd.err")).expect("err file"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut server = Self {
            child,
            dir: dir.to_owned(),
        };
        server.wait_listening(tcp);
        server
    }

    fn wait_listening(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "rsyslogd exited ({status}) before listening:\n{}",
                    self.errors()
                );
            }
            assert!(
                Instant::now() < deadline,
                "rsyslogd does not listen on {port}:\n{}",
                self.errors()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn errors(&self) -> String {
        let read = |n: &str| std::fs::read_to_string(self.dir.join(n)).unwrap_or_default();
        format!("{}{}", read("rsyslogd.out"), read("rsyslogd.err"))
    }

    fn all(&self) -> String {
        std::fs::read_to_string(self.dir.join("all.log")).unwrap_or_default()
    }

    fn audit(&self) -> Vec<u8> {
        std::fs::read(self.dir.join("audit.log")).unwrap_or_default()
    }

    /// Waits until `audit.log` holds at least `len` bytes; returns it.
    fn wait_audit(&self, len: usize, appliance_log: &Path) -> Vec<u8> {
        let deadline = Instant::now() + ARRIVAL;
        loop {
            let got = self.audit();
            if got.len() >= len {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {len} bytes of audit records arrived within {ARRIVAL:?}\nrsyslogd:\n{}\n\
                 appliance log:\n{}",
                got.len(),
                self.errors(),
                std::fs::read_to_string(appliance_log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An initialized appliance with the Auditor logged in and logging every event; the admin
/// (HSM SO logged in) and audit console sessions.
fn rig() -> (Rig, Shell, Shell) {
    let (rig, mut admin) = Rig::initialized();
    admin.ok(&format!("hsm login -password {SO_PW}"), &[]);
    let mut audit = rig.session("audit", Role::Audit, Channel::LocalConsole);
    audit.ok("audit init", &[AU_PW, AU_PW, AU_DOMAIN, AU_DOMAIN]);
    audit.ok(&format!("audit login -password {AU_PW}"), &[]);
    audit.ok("audit sync", &[]);
    audit.ok("audit config -parameter event -value all", &[]);
    (rig, admin, audit)
}

fn audit_area(rig: &Rig) -> PathBuf {
    let p = rig.data_dir().join("users").join("audit");
    std::fs::create_dir_all(&p).expect("audit file area");
    p
}

fn appliance_log(rig: &Rig) -> PathBuf {
    rig.data_dir().join("log").join("appliance.log")
}

/// Every record line of the appliance's audit files, in order.
fn appliance_records(rig: &Rig) -> Vec<u8> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(rig.data_dir().join("audit"))
        .map(|r| r.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|x| x == "log"));
    files.sort();
    files
        .iter()
        .flat_map(|p| std::fs::read(p).expect("read audit file"))
        .collect()
}

/// HSM SO work that the module records.
fn hsm_work(admin: &mut Shell, tag: &str) {
    for i in 0..3 {
        admin.ok(&format!("partition create -partition {tag}{i} -force"), &[]);
    }
    admin.ok("hsm changePolicy -policy 49 -value 1 -force", &[]);
}

/// Waits until the appliance log contains `needle`.
fn wait_appliance_log(rig: &Rig, needle: &str) -> String {
    let deadline = Instant::now() + ARRIVAL;
    loop {
        let text = std::fs::read_to_string(appliance_log(rig)).unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{needle:?} not in the appliance log within {ARRIVAL:?}:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The received records are the appliance's, byte for byte, from `from` on, and verify.
fn check_received(rig: &Rig, audit: &mut Shell, received: &[u8], from: usize) {
    let local = appliance_records(rig);
    assert!(local.len() > from, "no new records in the audit files");
    let expected = &local[from..];
    assert_eq!(
        received.len(),
        expected.len(),
        "received:\n{}\nexpected:\n{}",
        String::from_utf8_lossy(received),
        String::from_utf8_lossy(expected)
    );
    assert!(received == expected, "the received records differ");
    assert_eq!(received.len() % 456, 0, "whole 456-byte records");
    std::fs::write(audit_area(rig).join("received.log"), received).expect("write");
    let out = audit.ok("audit log verify -file received.log", &[]);
    let n = received.len() / 456;
    assert!(out.contains(&format!("{n} record(s) verified")), "{out}");
}

#[test]
fn audit_records_reach_rsyslog_over_tcp_on_local3_and_the_appliance_log_over_udp() {
    let (rig, mut admin, mut audit) = rig();
    let tmp = tempfile::tempdir().expect("temp dir");
    let (tcp, udp) = (free_tcp_port(), free_udp_port());
    let server = Rsyslog::start(tmp.path(), tcp, Some(udp), None);

    let from = appliance_records(&rig).len();
    let out = audit.ok(
        &format!("audit remotehost add -host 127.0.0.1 -protocol tcp -port {tcp}"),
        &[],
    );
    common::assert_in_order(
        &out,
        &[
            "Stopping syslog: [ OK ]\n",
            "Starting syslog: [ OK ]\n",
            "127.0.0.1 added successfully\n",
            "Make sure the rsyslog service on 127.0.0.1 is properly configured to receive the logs\n",
        ],
    );
    let list = audit.ok("audit remotehost list", &[]);
    assert!(
        list.contains(&format!(
            "Remote logging server(s):\n=====\n127.0.0.1:{tcp}, tcp\n"
        )),
        "{list}"
    );
    // The administrator's syslog stream goes elsewhere (AU-60).
    admin.ok(
        &format!("syslog remotehost add -host 127.0.0.1 -protocol udp -port {udp}"),
        &[],
    );
    let refused = audit.refused(&format!(
        "audit remotehost add -host 127.0.0.1 -protocol udp -port {udp}"
    ));
    assert!(refused.contains("different servers or ports"), "{refused}");
    let refused = admin.refused(&format!(
        "syslog remotehost add -host 127.0.0.1 -protocol tcp -port {tcp}"
    ));
    assert!(refused.contains("different servers or ports"), "{refused}");
    audit.refused("audit remotehost add -host 127.0.0.1 -protocol relp -port 2514");
    // The audit servers are the Auditor's alone (CF-12).
    admin.refused("audit remotehost list");
    admin.refused(&format!(
        "audit remotehost delete -host 127.0.0.1 -port {tcp} -force"
    ));

    hsm_work(&mut admin, "t");
    let expected = appliance_records(&rig).len() - from;
    let received = server.wait_audit(expected, &appliance_log(&rig));
    check_received(&rig, &mut audit, &received, from);

    // Every local3 message is `pedClient: ^<record>`; the appliance log arrives on `daemon`.
    let all = server.all();
    // (`audit log verify` above made one more record, which may follow.)
    let local3: Vec<&str> = all
        .lines()
        .filter(|l| l.starts_with("local3|"))
        .take(expected / 456)
        .collect();
    assert_eq!(local3.len(), expected / 456, "{all}");
    let records = String::from_utf8(received).expect("ASCII records");
    for (line, record) in local3.iter().zip(records.lines()) {
        assert_eq!(*line, format!("local3|pedClient|^{record}"));
    }
    let command = "daemon|strongroomd|info : 0 : Command: partition create -partition t1 -force \
                   : admin : local console";
    let deadline = Instant::now() + ARRIVAL;
    while !server.all().contains(command) {
        assert!(
            Instant::now() < deadline,
            "{command:?} missing:\n{}",
            server.all()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        !server.all().contains("local3|strongroomd"),
        "appliance log lines on local3"
    );

    // Deleting the audit server leaves the syslog stream alone.
    let out = audit.ok(
        &format!("audit remotehost delete -host 127.0.0.1 -port {tcp} -force"),
        &[],
    );
    common::assert_in_order(
        &out,
        &["Stopping syslog: [ OK ]", "Starting syslog: [ OK ]"],
    );
    let list = audit.ok("audit remotehost list", &[]);
    assert!(
        list.ends_with("=====\n\nCommand Result : 0 (Success)\n"),
        "{list}"
    );
    let list = admin.ok("syslog remotehost list", &[]);
    assert!(list.contains(&format!("127.0.0.1:{udp}, udp\n")), "{list}");
}

/// A test CA and the rsyslog server's certificate for 127.0.0.1, in `dir`.
fn test_ca(dir: &Path) -> (rcgen::CertifiedIssuer<'static, rcgen::KeyPair>, ServerTls) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "Remote log test CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca =
        rcgen::CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA");
    let server_key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "logs.test".to_owned()])
        .expect("params");
    params
        .distinguished_name
        .push(DnType::CommonName, "logs.test");
    let server = params.signed_by(&server_key, &ca).expect("server cert");
    let tls = ServerTls {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
    };
    std::fs::write(&tls.ca, ca.pem()).expect("write");
    std::fs::write(&tls.cert, server.pem()).expect("write");
    std::fs::write(&tls.key, server_key.serialize_pem()).expect("write");
    (ca, tls)
}

/// Signs a CSR (PEM) with `ca`.
fn sign(ca: &rcgen::CertifiedIssuer<'static, rcgen::KeyPair>, csr_pem: &str) -> String {
    let csr = rcgen::CertificateSigningRequestParams::from_pem(csr_pem).expect("CSR");
    csr.signed_by(ca).expect("sign").pem()
}

/// A TLS client without a certificate sends one message to the server.
fn send_without_certificate(ca_pem: &Path, port: u16, msg: &str) {
    use rustls::pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_file_iter(ca_pem).expect("CA") {
        roots.add(c.expect("CA cert")).expect("root");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .expect("TLS 1.3")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("name");
    let conn = rustls::ClientConnection::new(Arc::new(config), name).expect("client");
    let sock = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut tls = rustls::StreamOwned::new(conn, sock);
    // TLS 1.3: the server refuses the missing certificate after the client's handshake ends,
    // so the write may well succeed; the message must not arrive all the same.
    let _ = write!(tls, "{} {msg}", msg.len()).and_then(|()| tls.flush());
    let mut buf = [0u8; 64];
    let _ = std::io::Read::read(&mut tls, &mut buf);
}

#[test]
fn mutual_tls_sends_only_once_the_ca_signed_certificate_is_installed() {
    let (rig, mut admin, mut audit) = rig();
    let tmp = tempfile::tempdir().expect("temp dir");
    let (ca, tls) = test_ca(tmp.path());
    let port = free_tcp_port();
    let server = Rsyslog::start(tmp.path(), port, None, Some(&tls));
    let area = audit_area(&rig);

    // The server refuses a client without a certificate.
    let intruder = "<158>1 2026-01-01T00:00:00Z intruder pedClient - - - ^no certificate";
    send_without_certificate(&tls.ca, port, intruder);

    let status = audit.ok("audit remotehost cert status", &[]);
    assert!(
        status.contains(
            "CA Certificate: Not Configured\nHSM Certificate: Not Configured\n\
             HSM Private Key: Not Configured\n"
        ),
        "{status}"
    );
    let out = audit.ok("audit remotehost cert gen -csr", &[]);
    assert!(out.contains("CSR generated successfully.\n"), "{out}");
    let key = rig.data_dir().join("appliance/remotelog/audit/client.key");
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key)
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "key file mode {mode:o}");
    }
    // The administrator's stream has its own certificates.
    let status = admin.ok("syslog remotehost cert status", &[]);
    assert!(
        status.contains("HSM Private Key: Not Configured"),
        "{status}"
    );
    let status = audit.ok("audit remotehost cert status", &[]);
    assert!(
        status.contains(
            "CA Certificate: Not Configured\nHSM Certificate: Not Configured\n\
             HSM Private Key: Configured\n"
        ),
        "{status}"
    );
    let csr = std::fs::read_to_string(area.join("client_syslog_csr.csr")).expect("CSR");
    assert!(
        csr.starts_with("-----BEGIN CERTIFICATE REQUEST-----"),
        "{csr}"
    );

    std::fs::write(area.join("ca.pem"), ca.pem()).expect("write");
    let out = audit.ok("audit remotehost cert installCA ca.pem", &[]);
    common::assert_in_order(
        &out,
        &[
            "Attempting to install ca.pem\n",
            "Stopping syslog: [ OK ]\n",
            "Starting syslog: [ OK ]\n",
            "CA certificate installed successfully.\n",
        ],
    );
    // A certificate for another key, and a file that is no certificate, are refused.
    let other = rcgen::KeyPair::generate().expect("key");
    let other_csr = rcgen::CertificateParams::new(vec!["other".to_owned()])
        .and_then(|p| p.serialize_request(&other))
        .and_then(|c| c.pem())
        .expect("CSR");
    std::fs::write(area.join("other.pem"), sign(&ca, &other_csr)).expect("write");
    let out = audit.refused_after("audit remotehost cert install other.pem", &[]);
    assert!(
        out.contains("does not certify this appliance's key"),
        "{out}"
    );
    std::fs::write(area.join("junk.pem"), "not a certificate").expect("write");
    audit.refused_after("audit remotehost cert installCA junk.pem", &[]);

    // Mutual TLS before the certificate is installed: nothing is sent, and the log says why.
    let from = appliance_records(&rig).len();
    let out = audit.ok(
        &format!(
            "audit remotehost add -host 127.0.0.1 -protocol tcp -port {port} -mode mutual -tls"
        ),
        &[],
    );
    assert!(out.contains("127.0.0.1 added successfully"), "{out}");
    let list = audit.ok("audit remotehost list", &[]);
    assert!(
        list.contains(&format!("127.0.0.1:{port}, tcp, tls\n")),
        "{list}"
    );
    hsm_work(&mut admin, "m");
    wait_appliance_log(
        &rig,
        "mutual TLS needs the appliance's certificate: install it with 'audit remotehost cert \
         install'",
    );
    assert!(
        server.audit().is_empty(),
        "records sent without a certificate"
    );

    std::fs::write(area.join("client_sign.pem"), sign(&ca, &csr)).expect("write");
    let out = audit.ok("audit remotehost cert install client_sign.pem", &[]);
    common::assert_in_order(
        &out,
        &[
            "Attempting to install client_sign.pem\n",
            "Stopping syslog: [ OK ]\n",
            "Starting syslog: [ OK ]\n",
            "HSM certificate installed successfully.\n",
        ],
    );
    let status = audit.ok("audit remotehost cert status", &[]);
    assert!(
        status.contains(
            "CA Certificate: Configured\nHSM Certificate: Configured\nHSM Private Key: Configured\n"
        ),
        "{status}"
    );
    // What was queued meanwhile arrives, then new records.
    admin.ok("hsm showPolicies", &[]);
    let expected = appliance_records(&rig).len() - from;
    let received = server.wait_audit(expected, &appliance_log(&rig));
    check_received(&rig, &mut audit, &received, from);
    assert!(!server.all().contains("no certificate"), "{}", server.all());
    let log = std::fs::read_to_string(appliance_log(&rig)).expect("appliance log");
    assert!(
        log.contains(&format!(
            "Remote logging (audit) to 127.0.0.1:{port} (tcp, tls, mutual): connected"
        )),
        "{log}"
    );
}

#[test]
fn records_queued_while_rsyslog_is_down_arrive_when_it_comes_up() {
    let (rig, mut admin, mut audit) = rig();
    let tmp = tempfile::tempdir().expect("temp dir");
    let port = free_tcp_port();
    let from = appliance_records(&rig).len();
    audit.ok(
        &format!("audit remotehost add -host 127.0.0.1 -protocol tcp -port {port}"),
        &[],
    );
    hsm_work(&mut admin, "d");
    wait_appliance_log(
        &rig,
        &format!(
            "Remote logging (audit) to 127.0.0.1:{port} (tcp): cannot connect to \
             127.0.0.1:{port}"
        ),
    );
    // More records while the server is still down.
    admin.ok("partition delete -partition d0 -force", &[]);
    let server = Rsyslog::start(tmp.path(), port, None, None);
    let expected = appliance_records(&rig).len() - from;
    let received = server.wait_audit(expected, &appliance_log(&rig));
    check_received(&rig, &mut audit, &received, from);
    wait_appliance_log(&rig, "sending again (the queued messages follow)");

    // The server dies while connected: what follows waits for the next server.
    drop(server);
    let from = appliance_records(&rig).len();
    hsm_work(&mut admin, "e");
    let tmp2 = tempfile::tempdir().expect("temp dir");
    let server = Rsyslog::start(tmp2.path(), port, None, None);
    let local = appliance_records(&rig);
    let expected = &local[from..];
    let deadline = Instant::now() + ARRIVAL;
    let received = loop {
        let got = server.audit();
        if got.ends_with(expected) {
            break got;
        }
        assert!(
            Instant::now() < deadline,
            "the records made while the server was down did not arrive:
{}",
            String::from_utf8_lossy(&got)
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    // Messages that were not confirmed may come twice, never changed.
    for record in received.chunks(456) {
        assert!(
            local.chunks(456).any(|r| r == record),
            "not an appliance record: {}",
            String::from_utf8_lossy(record)
        );
    }
}
