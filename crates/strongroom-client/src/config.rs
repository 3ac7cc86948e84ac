//! The client configuration file: which appliances to reach, their pinned certificates, and
//! this client's certificate and key. Named by `STRONGROOM_CONF`, else found at
//! [`DEFAULT_PATH`]. Relative paths in it are relative to the file's directory.
//!
//! ```toml
//! [client]
//! certificate = "client/cert.pem"
//! private_key = "client/key.pem"
//! connect_timeout_ms = 10000
//! request_timeout_ms = 60000
//!
//! [[server]]
//! name = "hsm1"                 # the appliance's certificate subject (its host name or IP)
//! address = "192.0.2.10:1792"
//! certificate = "server/hsm1.pem"
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::conn::Timeouts;
use crate::{Error, tls};

/// Environment variable naming the configuration file.
pub const CONF_ENV: &str = "STRONGROOM_CONF";
/// Where the configuration is looked for without `STRONGROOM_CONF`.
pub const DEFAULT_PATH: &str = "/etc/strongroom/strongroom.toml";
/// The NTLS port an appliance listens on by default.
pub const DEFAULT_PORT: u16 = 1792;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    client: ClientSection,
    #[serde(default, rename = "server")]
    servers: Vec<ServerSection>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientSection {
    certificate: PathBuf,
    private_key: PathBuf,
    #[serde(default = "default_connect_ms")]
    connect_timeout_ms: u64,
    #[serde(default = "default_request_ms")]
    request_timeout_ms: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerSection {
    name: String,
    address: String,
    certificate: PathBuf,
}

fn default_connect_ms() -> u64 {
    10_000
}
fn default_request_ms() -> u64 {
    60_000
}

/// One appliance this client may use.
#[derive(Clone, Debug)]
pub struct Server {
    /// The name its certificate was issued to (host name or IP address).
    pub name: String,
    /// `host:port` of its NTLS listener.
    pub address: String,
    /// Its pinned certificate (PEM file).
    pub certificate: PathBuf,
}

/// A loaded client configuration.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The file it came from.
    pub path: PathBuf,
    /// This client's certificate (PEM).
    pub certificate: PathBuf,
    /// This client's private key (PEM).
    pub private_key: PathBuf,
    /// The appliances, in the order given.
    pub servers: Vec<Server>,
    /// Connection timeouts.
    pub timeouts: Timeouts,
}

impl ClientConfig {
    /// The configuration named by `STRONGROOM_CONF`, or the default path.
    pub fn from_env() -> Result<Self, Error> {
        let path = std::env::var_os(CONF_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_PATH));
        Self::load(&path)
    }

    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|err| Error::InvalidInput(format!("cannot read {}: {err}", path.display())))?;
        let file: File = toml::from_str(&text)
            .map_err(|err| Error::InvalidInput(format!("{}: {err}", path.display())))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };
        let mut names = std::collections::HashSet::new();
        for s in &file.servers {
            if !names.insert(s.name.as_str()) {
                return Err(Error::InvalidInput(format!(
                    "{}: server '{}' is listed twice",
                    path.display(),
                    s.name
                )));
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            certificate: resolve(&file.client.certificate),
            private_key: resolve(&file.client.private_key),
            servers: file
                .servers
                .iter()
                .map(|s| Server {
                    name: s.name.clone(),
                    address: s.address.clone(),
                    certificate: resolve(&s.certificate),
                })
                .collect(),
            timeouts: Timeouts {
                connect: Duration::from_millis(file.client.connect_timeout_ms),
                request: Duration::from_millis(file.client.request_timeout_ms),
            },
        })
    }

    /// The TLS configuration for `server`.
    pub fn tls_for(&self, server: &Server) -> Result<Arc<rustls::ClientConfig>, Error> {
        tls::client_tls_config(
            tls::load_certificate(&server.certificate)?,
            vec![tls::load_certificate(&self.certificate)?],
            tls::load_private_key(&self.private_key)?,
        )
    }
}
