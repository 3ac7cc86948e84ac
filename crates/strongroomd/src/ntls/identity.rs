//! The appliance's NTLS identity (catalog NT-02, SH-SYS-01): an ECDSA P-256 key and a
//! self-signed certificate naming the appliance (its IP address or host name), in
//! `DATA_DIR/ntls/`: `server.key` (owner-only) and `server.pem`. Clients pin `server.pem`
//! exactly; a new identity therefore invalidates every client's pin, as in the reference.
//!
//! The two files are replaced one after the other; a crash between the renames leaves a key
//! that does not match the certificate, which loading detects (`sysconf regenCert` repairs it).

use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use chrono::Datelike as _;
use rcgen::{
    CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose, SerialNumber,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use zeroize::Zeroizing;

use crate::files::{FileArea, FileLimits};

/// The certificate's file name, in `DATA_DIR/ntls/` and in the admin's file area.
pub(crate) const CERT_FILE: &str = "server.pem";
const KEY_FILE: &str = "server.key";
/// Whose file area receives `server.pem` (the reference's `scp admin@host:server.pem .`).
const ADMIN: &str = "admin";

fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("ntls")
}

/// The PEM file of the current certificate.
pub(crate) fn cert_path(data_dir: &Path) -> PathBuf {
    dir(data_dir).join(CERT_FILE)
}

/// Whether an identity exists.
pub(crate) fn exists(data_dir: &Path) -> bool {
    cert_path(data_dir).exists() && dir(data_dir).join(KEY_FILE).exists()
}

/// Checks a name for the certificate: an IP address or a DNS host name.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    if name.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    let labels_ok = name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    });
    if !name.is_empty() && name.len() <= 253 && labels_ok {
        Ok(())
    } else {
        Err(format!("'{name}' is not an IP address or host name"))
    }
}

/// Creates a new key and certificate for `name` and installs them; returns the certificate
/// PEM. Also places `server.pem` in the admin's file area.
pub(crate) fn generate(data_dir: &Path, name: &str, limits: FileLimits) -> Result<String, String> {
    check_name(name)?;
    let (cert_pem, key_pem, der) = self_signed(
        name,
        "Strongroom appliance",
        ExtendedKeyUsagePurpose::ServerAuth,
    )?;

    let d = dir(data_dir);
    std::fs::create_dir_all(&d)
        .and_then(|()| std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)))
        .map_err(|e| format!("cannot prepare {}: {e}", d.display()))?;
    // Key first: until the certificate follows, loading reports the mismatch.
    crate::users::write_atomically(&d.join(KEY_FILE), key_pem.as_bytes())?;
    crate::users::write_atomically(&d.join(CERT_FILE), cert_pem.as_bytes())?;
    export(data_dir, &cert_pem, limits)?;
    tracing::info!(name, fingerprint = %fingerprint(&der), "NTLS certificate created");
    Ok(cert_pem)
}

/// A new ECDSA P-256 key and a self-signed certificate for `name` (an IP address or host
/// name) with the one extended key usage `usage`, valid for ten years from today: the
/// certificate PEM, the key PEM and the certificate DER.
pub(crate) fn self_signed(
    name: &str,
    organization: &str,
    usage: ExtendedKeyUsagePurpose,
) -> Result<(String, Zeroizing<String>, Vec<u8>), String> {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| format!("cannot generate a P-256 key: {e}"))?;
    let mut params = CertificateParams::new(vec![name.to_owned()])
        .map_err(|e| format!("'{name}' cannot name a certificate: {e}"))?;
    params.distinguished_name.push(DnType::CommonName, name);
    params
        .distinguished_name
        .push(DnType::OrganizationName, organization);
    params.extended_key_usages = vec![usage];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let mut serial = [0u8; 16];
    aws_lc_rs::rand::SecureRandom::fill(&aws_lc_rs::rand::SystemRandom::new(), &mut serial)
        .map_err(|_| "the random source failed".to_owned())?;
    // A positive serial number: clear the top bit.
    serial[0] &= 0x7f;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    let today = chrono::Utc::now().date_naive();
    // Month (1-12) and day (1-31) always fit.
    let month = u8::try_from(today.month()).unwrap_or(1);
    let day = u8::try_from(today.day()).unwrap_or(1);
    let year = today.year();
    params.not_before = rcgen::date_time_ymd(year, month, day);
    params.not_after = rcgen::date_time_ymd(year + 10, month, day.min(28));
    let cert = params
        .self_signed(&key)
        .map_err(|e| format!("cannot sign the certificate: {e}"))?;
    Ok((
        cert.pem(),
        Zeroizing::new(key.serialize_pem()),
        cert.der().to_vec(),
    ))
}

/// Places `server.pem` in the admin's file area.
pub(crate) fn export(data_dir: &Path, cert_pem: &str, limits: FileLimits) -> Result<(), String> {
    FileArea::new(data_dir, ADMIN, limits)
        .write(CERT_FILE, cert_pem.as_bytes())
        .map_err(|e| format!("cannot place {CERT_FILE} in the admin's file area: {e}"))
}

/// Creates the identity for `name` unless one exists; puts `server.pem` back into the admin's
/// file area if it is missing there.
pub(crate) fn ensure(data_dir: &Path, name: &str, limits: FileLimits) -> Result<(), String> {
    if !exists(data_dir) {
        return generate(data_dir, name, limits).map(|_| ());
    }
    let area = FileArea::new(data_dir, ADMIN, limits);
    if area.stat(CERT_FILE).is_err() {
        let pem = std::fs::read_to_string(cert_path(data_dir))
            .map_err(|e| format!("cannot read {}: {e}", cert_path(data_dir).display()))?;
        export(data_dir, &pem, limits)?;
    }
    Ok(())
}

/// The installed certificate and key, for the listener.
pub(crate) fn load(
    data_dir: &Path,
) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), String> {
    use rustls::pki_types::pem::PemObject as _;
    let cert_file = cert_path(data_dir);
    let key_file = dir(data_dir).join(KEY_FILE);
    let cert = CertificateDer::from_pem_file(&cert_file)
        .map_err(|e| format!("{}: no usable certificate: {e}", cert_file.display()))?;
    let key = PrivateKeyDer::from_pem_file(&key_file)
        .map_err(|e| format!("{}: no usable private key: {e}", key_file.display()))?;
    Ok((cert, key))
}

/// The installed certificate as DER, if any.
pub(crate) fn current(data_dir: &Path) -> Option<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject as _;
    CertificateDer::from_pem_file(cert_path(data_dir)).ok()
}

/// The name a certificate is issued to (its subject common name), if it has one.
pub(crate) fn subject_name(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    cert.subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_owned)
}

/// Whether a client certificate may authenticate a client at `now` (seconds since the Unix
/// epoch): within its validity period, and, when it restricts its use, for client
/// authentication (extended key usage `clientAuth` or `anyExtendedKeyUsage`) and for
/// signatures (key usage `digitalSignature`). The pin says who the client is; this says the
/// certificate is still fit for the purpose.
pub(crate) fn client_certificate_fit(der: &[u8], now: u64) -> Result<(), rustls::CertificateError> {
    use rustls::CertificateError as E;
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|_| E::BadEncoding)?;
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    let validity = cert.validity();
    if now < validity.not_before.timestamp() {
        return Err(E::NotValidYet);
    }
    if now > validity.not_after.timestamp() {
        return Err(E::Expired);
    }
    match cert.extended_key_usage() {
        Ok(Some(eku)) if !(eku.value.client_auth || eku.value.any) => {
            return Err(E::InvalidPurpose);
        }
        Ok(_) => {}
        Err(_) => return Err(E::BadEncoding),
    }
    match cert.key_usage() {
        Ok(Some(ku)) if !ku.value.digital_signature() => Err(E::InvalidPurpose),
        Ok(_) => Ok(()),
        Err(_) => Err(E::BadEncoding),
    }
}

/// SHA-256 of a certificate's DER, as `AB:CD:...` (what `openssl x509 -fingerprint -sha256`
/// prints).
pub(crate) fn fingerprint(der: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der);
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The host's own name, for a certificate when none is recorded or configured.
pub(crate) fn host_name() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| check_name(s).is_ok())
}
