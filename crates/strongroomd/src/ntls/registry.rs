//! Client registrations (catalog SH-CLI-*, NT-04/05): which client certificates may connect
//! over NTLS, under which name, and which partitions each may use.
//!
//! The file `DATA_DIR/appliance/clients.toml` is the record; it is rewritten atomically under a
//! lock at every change, and a corrupt file is refused (never overwritten). The listener reads
//! an in-memory snapshot rebuilt after each change, so a registration, deletion or assignment
//! takes effect for the next handshake and the next request at once.
//!
//! A registration pins one certificate exactly (its DER bytes): two names for one certificate
//! are refused, since the name is the connection's identity. Partitions are recorded by serial
//! number, so a rename keeps the assignment; the module never hands a serial out twice.
//!
//! ```toml
//! [[client]]
//! name = "supreme"
//! ip = "192.168.5.174"          # or hostname = "supreme.example.com"
//! certificate = """-----BEGIN CERTIFICATE-----..."""
//! partitions = [1234567000001]
//! registered_at = 1700000000
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use rustls::pki_types::CertificateDer;
use serde::{Deserialize, Serialize};

/// How a client is addressed: the reference registers it by IP address or by host name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ClientAddress {
    Ip(String),
    Hostname(String),
}

impl ClientAddress {
    /// The address as given (also the stem of the certificate's file name).
    pub(crate) fn value(&self) -> &str {
        match self {
            Self::Ip(v) | Self::Hostname(v) => v,
        }
    }
}

/// One registered client.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClientRecord {
    /// The unique name given at registration (`-client`).
    pub(crate) name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hostname: Option<String>,
    /// The pinned certificate, PEM.
    certificate: String,
    /// Assigned partitions, by serial number, in assignment order.
    #[serde(default)]
    pub(crate) partitions: Vec<u64>,
    /// Unix time of registration.
    pub(crate) registered_at: i64,
}

impl ClientRecord {
    /// A new registration of `cert` (DER) for `name` at `address`.
    pub(crate) fn new(name: &str, address: &ClientAddress, cert: &[u8]) -> Self {
        let (ip, hostname) = match address {
            ClientAddress::Ip(v) => (Some(v.clone()), None),
            ClientAddress::Hostname(v) => (None, Some(v.clone())),
        };
        let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
        Self {
            name: name.to_owned(),
            ip,
            hostname,
            certificate: pem::encode_config(&pem::Pem::new("CERTIFICATE", cert), config),
            partitions: Vec::new(),
            registered_at: chrono::Utc::now().timestamp(),
        }
    }

    /// How the client was registered.
    pub(crate) fn address(&self) -> ClientAddress {
        match (&self.ip, &self.hostname) {
            (Some(ip), _) => ClientAddress::Ip(ip.clone()),
            (None, Some(h)) => ClientAddress::Hostname(h.clone()),
            (None, None) => ClientAddress::Hostname(String::new()),
        }
    }

    /// The pinned certificate's DER bytes.
    pub(crate) fn certificate_der(&self) -> Result<CertificateDer<'static>, String> {
        use rustls::pki_types::pem::PemObject as _;
        CertificateDer::from_pem_slice(self.certificate.as_bytes()).map_err(|e| {
            format!(
                "the certificate of client '{}' is unreadable: {e}",
                self.name
            )
        })
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientsFile {
    #[serde(default, rename = "client")]
    clients: Vec<ClientRecord>,
}

/// What the listener consults: certificate → name, name → partitions.
#[derive(Debug, Default)]
struct Snapshot {
    by_cert: HashMap<Vec<u8>, Arc<str>>,
    partitions: HashMap<Arc<str>, Arc<[u64]>>,
}

impl Snapshot {
    fn of(clients: &[ClientRecord]) -> Self {
        let mut snap = Self::default();
        for c in clients {
            let name: Arc<str> = Arc::from(c.name.as_str());
            match c.certificate_der() {
                Ok(der) => {
                    snap.by_cert.insert(der.as_ref().to_vec(), name.clone());
                }
                Err(err) => tracing::error!(%err, "a registered client cannot connect"),
            }
            snap.partitions
                .insert(name, Arc::from(c.partitions.as_slice()));
        }
        snap
    }
}

/// The client registrations.
#[derive(Debug)]
pub(crate) struct Registry {
    path: PathBuf,
    /// Serializes read-modify-write of the file within this process (its only writer).
    write: Mutex<()>,
    snapshot: RwLock<Arc<Snapshot>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The guarded value is `()`: a panic elsewhere leaves nothing half-done behind it.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Registry {
    /// The registrations of the appliance in `data_dir`. An unreadable file leaves the snapshot
    /// empty (every client refused) and is reported by [`Registry::list`].
    pub(crate) fn open(data_dir: &Path) -> Self {
        let this = Self {
            path: data_dir.join("appliance").join("clients.toml"),
            write: Mutex::new(()),
            snapshot: RwLock::new(Arc::new(Snapshot::default())),
        };
        match this.load() {
            Ok(file) => this.publish(&file.clients),
            Err(err) => {
                tracing::error!(%err, "client registrations unreadable: no client can connect")
            }
        }
        this
    }

    fn load(&self) -> Result<ClientsFile, String> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => toml::from_str(&text).map_err(|e| format!("{}: {e}", self.path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ClientsFile::default()),
            Err(e) => Err(format!("cannot read {}: {e}", self.path.display())),
        }
    }

    fn publish(&self, clients: &[ClientRecord]) {
        let snap = Arc::new(Snapshot::of(clients));
        *self.snapshot.write().unwrap_or_else(|p| p.into_inner()) = snap;
    }

    fn current(&self) -> Arc<Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Every registration, in registration order (read from the file).
    pub(crate) fn list(&self) -> Result<Vec<ClientRecord>, String> {
        let _guard = lock(&self.write);
        self.load().map(|f| f.clients)
    }

    /// One registration by name.
    pub(crate) fn get(&self, name: &str) -> Result<ClientRecord, String> {
        self.list()?
            .into_iter()
            .find(|c| c.name == name)
            .ok_or_else(|| not_registered(name))
    }

    /// Changes the registrations with `f`, writes them atomically and publishes them to the
    /// listener. Nothing changes when `f` fails.
    pub(crate) fn update<R>(
        &self,
        f: impl FnOnce(&mut Vec<ClientRecord>) -> Result<R, String>,
    ) -> Result<R, String> {
        let _guard = lock(&self.write);
        let mut file = self.load()?;
        let out = f(&mut file.clients)?;
        let text = toml::to_string(&file).map_err(|e| e.to_string())?;
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        crate::users::write_atomically(&self.path, text.as_bytes())?;
        self.publish(&file.clients);
        Ok(out)
    }

    /// The registered name of a client certificate (DER), if it is registered.
    pub(crate) fn identify(&self, cert: &[u8]) -> Option<Arc<str>> {
        self.current().by_cert.get(cert).cloned()
    }

    /// The partitions (serials) assigned to a registered client now; `None` once it is no
    /// longer registered. For the request dispatcher: a revocation applies to the next request.
    pub(crate) fn partitions_of(&self, name: &str) -> Option<Arc<[u64]>> {
        self.current().partitions.get(name).cloned()
    }
}

/// The error for an unknown client name.
pub(crate) fn not_registered(name: &str) -> String {
    format!("no client named '{name}' is registered")
}

/// Checks a client name: 1-64 printable characters without double quotes.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.trim().is_empty()
        && name.chars().count() <= 64
        && !name.chars().any(|c| c.is_control() || c == '"');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{}' is not a valid client name (1-64 printable characters, no double quotes)",
            name.escape_debug()
        ))
    }
}
