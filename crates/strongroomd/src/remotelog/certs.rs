//! The certificates of a stream's TLS connections (AU-63, SH-LOG-04), in
//! `DATA_DIR/appliance/remotelog/<stream>/` (0700): `client.key` (the appliance's ECDSA P-256
//! key, 0600, made by `cert gen -csr`), `client.pem` (its certificate as the CA signed it,
//! with any intermediates) and `ca.pem` (the CA certificates that sign the servers'
//! certificates). The audit stream's files belong to the Auditor, the syslog stream's to the
//! administrator: neither role can change what the other's connections trust.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use zeroize::Zeroizing;

use super::{Stream, TargetSpec};

/// The file the CSR is written to, in the user's file area (the reference's name).
pub(crate) const CSR_FILE: &str = "client_syslog_csr.csr";
const KEY_FILE: &str = "client.key";
const CERT_FILE: &str = "client.pem";
const CA_FILE: &str = "ca.pem";

fn dir(data_dir: &Path, stream: Stream) -> PathBuf {
    data_dir
        .join("appliance")
        .join("remotelog")
        .join(stream.word())
}

fn prepare(data_dir: &Path, stream: Stream) -> Result<PathBuf, String> {
    let d = dir(data_dir, stream);
    std::fs::create_dir_all(&d)
        .and_then(|()| std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)))
        .map_err(|e| format!("cannot prepare {}: {e}", d.display()))?;
    Ok(d)
}

/// What `cert status` shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CertStatus {
    pub(crate) ca: bool,
    pub(crate) cert: bool,
    pub(crate) key: bool,
}

/// Which files of `stream` are installed.
pub(crate) fn status(data_dir: &Path, stream: Stream) -> CertStatus {
    let d = dir(data_dir, stream);
    CertStatus {
        ca: d.join(CA_FILE).is_file(),
        cert: d.join(CERT_FILE).is_file(),
        key: d.join(KEY_FILE).is_file(),
    }
}

/// A new CSR.
#[derive(Debug)]
pub(crate) struct CsrInfo {
    /// The CSR, PEM.
    pub(crate) pem: String,
    /// The subject's common name.
    pub(crate) name: String,
}

/// Makes a new key for `stream` (replacing the key and removing the certificate that belonged
/// to the old one) and returns a CSR for it naming `name`.
pub(crate) fn generate_csr(data_dir: &Path, stream: Stream, name: &str) -> Result<CsrInfo, String> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| format!("cannot generate a P-256 key: {e}"))?;
    // The name is also the subject alternative name (an IP address or a DNS name).
    let mut params = rcgen::CertificateParams::new(vec![name.to_owned()])
        .map_err(|e| format!("'{name}' cannot name a certificate: {e}"))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "Strongroom appliance");
    let csr = params
        .serialize_request(&key)
        .and_then(|c| c.pem())
        .map_err(|e| format!("cannot make the CSR: {e}"))?;
    let d = prepare(data_dir, stream)?;
    let key_pem = Zeroizing::new(key.serialize_pem());
    // The old certificate certifies the old key: it goes first, so that a crash leaves no
    // certificate that does not match the key.
    remove(&d.join(CERT_FILE))?;
    crate::users::write_atomically(&d.join(KEY_FILE), key_pem.as_bytes())?;
    Ok(CsrInfo {
        pem: csr,
        name: name.to_owned(),
    })
}

fn remove(path: &Path) -> Result<(), String> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("cannot remove {}: {e}", path.display())),
    }
}

/// The certificates of a PEM text: at least one, nothing but certificates, each parsable.
fn certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let text = std::str::from_utf8(pem).map_err(|_| format!("{what} is not a PEM file"))?;
    let blocks = ::pem::parse_many(text).map_err(|e| format!("{what} is not a PEM file: {e}"))?;
    if blocks.is_empty() {
        return Err(format!("{what} holds no PEM certificate"));
    }
    let mut out = Vec::new();
    for b in blocks {
        if b.tag() != "CERTIFICATE" {
            return Err(format!(
                "{what} holds a '{}' block: only certificates are accepted",
                b.tag()
            ));
        }
        x509_parser::parse_x509_certificate(b.contents())
            .map_err(|e| format!("{what} holds a certificate that cannot be read: {e}"))?;
        out.push(CertificateDer::from(b.into_contents()));
    }
    Ok(out)
}

fn check_dates(
    cert: &x509_parser::certificate::X509Certificate<'_>,
    what: &str,
) -> Result<(), String> {
    let now = chrono::Utc::now().timestamp();
    let v = cert.validity();
    if now > v.not_after.timestamp() {
        return Err(format!("{what} expired on {}", v.not_after));
    }
    if now < v.not_before.timestamp() {
        return Err(format!("{what} is not valid before {}", v.not_before));
    }
    Ok(())
}

/// Installs the CA certificates of `pem` for `stream`. Each must be a CA certificate within
/// its validity period.
pub(crate) fn install_ca(data_dir: &Path, stream: Stream, pem: &[u8]) -> Result<usize, String> {
    let certs = certificates(pem, "the file")?;
    let mut roots = rustls::RootCertStore::empty();
    for c in &certs {
        let (_, cert) = x509_parser::parse_x509_certificate(c.as_ref())
            .map_err(|e| format!("a certificate cannot be read: {e}"))?;
        let subject = cert.subject().to_string();
        if !cert.is_ca() {
            return Err(format!(
                "the certificate '{subject}' is not a CA certificate (no CA basic constraint)"
            ));
        }
        check_dates(&cert, &format!("the CA certificate '{subject}'"))?;
        roots
            .add(c.clone())
            .map_err(|e| format!("the CA certificate '{subject}' cannot be used: {e}"))?;
    }
    let d = prepare(data_dir, stream)?;
    let text: String = certs
        .iter()
        .map(|c| ::pem::encode(&::pem::Pem::new("CERTIFICATE", c.as_ref().to_vec())))
        .collect();
    crate::users::write_atomically(&d.join(CA_FILE), text.as_bytes())?;
    Ok(certs.len())
}

/// Installs the appliance's certificate (and any intermediates after it) for `stream`: it must
/// certify the key `cert gen -csr` made and be within its validity period.
pub(crate) fn install_cert(data_dir: &Path, stream: Stream, pem: &[u8]) -> Result<(), String> {
    let certs = certificates(pem, "the file")?;
    let d = dir(data_dir, stream);
    let key_pem = Zeroizing::new(std::fs::read_to_string(d.join(KEY_FILE)).map_err(|_| {
        format!(
            "there is no private key: make one with '{} remotehost cert gen -csr' and have \
             its CSR signed",
            stream.word()
        )
    })?);
    let key = rcgen::KeyPair::from_pem(&key_pem)
        .map_err(|e| format!("the private key cannot be read: {e}"))?;
    let (_, leaf) = x509_parser::parse_x509_certificate(certs[0].as_ref())
        .map_err(|e| format!("the certificate cannot be read: {e}"))?;
    if leaf.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
        return Err(
            "the certificate does not certify this appliance's key (it was not made from the \
             latest 'cert gen -csr')"
                .to_owned(),
        );
    }
    check_dates(&leaf, "the certificate")?;
    let d = prepare(data_dir, stream)?;
    let text: String = certs
        .iter()
        .map(|c| ::pem::encode(&::pem::Pem::new("CERTIFICATE", c.as_ref().to_vec())))
        .collect();
    crate::users::write_atomically(&d.join(CERT_FILE), text.as_bytes())
}

/// Removes the key and the certificates of `stream` (`sysconf config factoryReset -service
/// syslog`).
pub(crate) fn reset(data_dir: &Path, stream: Stream) -> Result<(), String> {
    let d = dir(data_dir, stream);
    for f in [CERT_FILE, KEY_FILE, CA_FILE] {
        remove(&d.join(f))?;
    }
    Ok(())
}

/// The TLS settings for one server: TLS 1.3, the server's certificate verified against the
/// installed CA certificates for the server's name (`-name`, else the host), and with
/// `-mode mutual` the appliance's certificate and key.
pub(crate) fn client_config(
    data_dir: &Path,
    stream: Stream,
    spec: &TargetSpec,
) -> Result<(Arc<rustls::ClientConfig>, ServerName<'static>), String> {
    let d = dir(data_dir, stream);
    let w = stream.word();
    let ca = std::fs::read(d.join(CA_FILE)).map_err(|_| {
        format!("TLS needs the CA certificate: install it with '{w} remotehost cert installCA'")
    })?;
    let mut roots = rustls::RootCertStore::empty();
    for c in certificates(&ca, "the installed CA file")? {
        roots
            .add(c)
            .map_err(|e| format!("the installed CA certificate cannot be used: {e}"))?;
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| format!("TLS cannot be set up: {e}"))?
        .with_root_certificates(roots);
    let config = if spec.mutual {
        let chain = std::fs::read(d.join(CERT_FILE)).map_err(|_| {
            format!(
                "mutual TLS needs the appliance's certificate: install it with '{w} remotehost \
                 cert install'"
            )
        })?;
        let chain = certificates(&chain, "the installed certificate")?;
        let key = PrivateKeyDer::from_pem_file(d.join(KEY_FILE)).map_err(|_| {
            format!(
                "mutual TLS needs the appliance's key: make it with '{w} remotehost cert gen -csr'"
            )
        })?;
        builder
            .with_client_auth_cert(chain, key)
            .map_err(|e| format!("the appliance's certificate and key cannot be used: {e}"))?
    } else {
        builder.with_no_client_auth()
    };
    let name = spec.name.as_deref().unwrap_or(&spec.host);
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    let server_name = ServerName::try_from(bare.to_owned())
        .map_err(|_| format!("'{name}' cannot name a TLS server"))?;
    Ok((Arc::new(config), server_name))
}
