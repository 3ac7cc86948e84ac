//! TLS settings of the NTLS link, appliance side: TLS 1.3 only, the appliance's certificate,
//! and a client certificate required and accepted only when it is exactly a registered one.
//!
//! Session resumption is off (no tickets, no session cache): every connection makes a full
//! handshake, so a deleted registration can never come back through a resumed session.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

use super::identity;
use super::registry::Registry;

/// Accepts exactly the registered client certificates, read from the registry at each
/// handshake.
#[derive(Debug)]
struct RegisteredClients {
    registry: Arc<Registry>,
    provider: Arc<CryptoProvider>,
}

impl ClientCertVerifier for RegisteredClients {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        // The pin is the whole certificate (no chain); a registered certificate must still be
        // within its validity and meant for client authentication.
        if self.registry.identify(end_entity.as_ref()).is_some() {
            return match identity::client_certificate_fit(end_entity.as_ref(), now.as_secs()) {
                Ok(()) => Ok(ClientCertVerified::assertion()),
                Err(problem) => {
                    tracing::warn!(
                        fingerprint = %identity::fingerprint(end_entity.as_ref()),
                        problem = ?problem,
                        "NTLS handshake refused: the registered client certificate is expired, \
                         not yet valid or not for client authentication"
                    );
                    Err(rustls::Error::InvalidCertificate(problem))
                }
            };
        }
        // Runs inside the connection's span, which names the peer.
        tracing::warn!(
            fingerprint = %identity::fingerprint(end_entity.as_ref()),
            subject = identity::subject_name(end_entity.as_ref()).as_deref().unwrap_or("?"),
            "NTLS handshake refused: the client certificate is not registered"
        );
        Err(rustls::Error::InvalidCertificate(
            rustls::CertificateError::ApplicationVerificationFailure,
        ))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        // Never reached: only TLS 1.3 is enabled. Verified properly all the same.
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The server configuration: the appliance's identity, the registry's clients.
pub(crate) fn server_config(
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
    registry: Arc<Registry>,
) -> Result<Arc<rustls::ServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(RegisteredClients {
        registry,
        provider: provider.clone(),
    });
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| format!("TLS settings refused: {e}"))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![cert], key)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => "the NTLS private key does not match the \
                 certificate (run 'sysconf regenCert')"
                .to_owned(),
            other => format!("the NTLS certificate or key is unusable: {other}"),
        })?;
    config.send_tls13_tickets = 0;
    config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    Ok(Arc::new(config))
}
