//! `clientconfig`: this client's certificate and the appliances it trusts (the reference's
//! certificate exchange: create the client certificate, give it to the appliance for
//! `client register`, take the appliance's `server.pem` and add it here).
//!
//! Files live beside the configuration file: `cert/client/<name>.pem` and
//! `cert/client/<name>Key.pem` (owner-only), `cert/server/<server>.pem`.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair, date_time_ymd};
use toml::{Table, Value};

/// The NTLS port used when `addserver` is given no address.
const DEFAULT_PORT: u16 = strongroom_client::DEFAULT_PORT;

pub(crate) struct ClientConf {
    path: PathBuf,
    table: Table,
}

impl ClientConf {
    /// Loads the configuration file, or starts an empty one if it does not exist yet.
    pub(crate) fn open(path: &Path) -> Result<Self, String> {
        let table = match std::fs::read_to_string(path) {
            Ok(text) => text
                .parse::<Table>()
                .map_err(|e| format!("{}: {e}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Table::new(),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        Ok(Self {
            path: path.to_path_buf(),
            table,
        })
    }

    fn dir(&self) -> PathBuf {
        self.path.parent().unwrap_or(Path::new(".")).to_path_buf()
    }

    fn save(&self) -> Result<(), String> {
        let text = toml::to_string_pretty(&self.table).map_err(|e| e.to_string())?;
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let tmp = self.path.with_extension("toml.tmp");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &self.path))
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))
    }

    fn servers(&self) -> Vec<Table> {
        match self.table.get("server") {
            Some(Value::Array(items)) => {
                items.iter().filter_map(|v| v.as_table().cloned()).collect()
            }
            _ => Vec::new(),
        }
    }

    fn set_servers(&mut self, servers: Vec<Table>) {
        if servers.is_empty() {
            self.table.remove("server");
        } else {
            self.table.insert(
                "server".into(),
                Value::Array(servers.into_iter().map(Value::Table).collect()),
            );
        }
    }

    /// `clientconfig createcert -n NAME`: a new P-256 key and a self-signed client certificate
    /// for NAME (host name or IP address), registered in the configuration.
    pub(crate) fn create_cert(
        &mut self,
        name: &str,
        force: bool,
    ) -> Result<(PathBuf, PathBuf), String> {
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(format!("'{name}' is not a host name or IP address"));
        }
        let dir = self.dir().join("cert").join("client");
        let cert_path = dir.join(format!("{name}.pem"));
        let key_path = dir.join(format!("{name}Key.pem"));
        if !force && (cert_path.exists() || key_path.exists()) {
            return Err(format!(
                "{} already exists; give --force to replace it (the appliance must then register \
                 the new certificate)",
                cert_path.display()
            ));
        }
        let key = KeyPair::generate().map_err(|e| e.to_string())?;
        let mut params =
            CertificateParams::new(vec![name.to_owned()]).map_err(|e| e.to_string())?;
        params.distinguished_name.push(DnType::CommonName, name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Strongroom client");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let year = current_year();
        params.not_before = date_time_ymd(year - 1, 1, 1);
        params.not_after = date_time_ymd(year + 10, 1, 1);
        let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        write_private(&key_path, key.serialize_pem().as_bytes())?;
        std::fs::write(&cert_path, cert.pem())
            .map_err(|e| format!("cannot write {}: {e}", cert_path.display()))?;
        let mut client = Table::new();
        client.insert(
            "certificate".into(),
            Value::String(relative(&cert_path, &self.dir())),
        );
        client.insert(
            "private_key".into(),
            Value::String(relative(&key_path, &self.dir())),
        );
        if let Some(Value::Table(old)) = self.table.get("client") {
            for (k, v) in old {
                if k.ends_with("_ms") {
                    client.insert(k.clone(), v.clone());
                }
            }
        }
        self.table.insert("client".into(), Value::Table(client));
        self.save()?;
        Ok((cert_path, key_path))
    }

    /// `clientconfig addserver -n NAME -c server.pem [-a ADDRESS]`.
    pub(crate) fn add_server(
        &mut self,
        name: &str,
        cert: &Path,
        address: Option<&str>,
    ) -> Result<PathBuf, String> {
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(format!("'{name}' is not a host name or IP address"));
        }
        strongroom_client::load_certificate(cert).map_err(|e| e.to_string())?;
        let mut servers = self.servers();
        if servers
            .iter()
            .any(|s| s.get("name").and_then(Value::as_str) == Some(name))
        {
            return Err(format!(
                "the server '{name}' is already configured; delete it first"
            ));
        }
        let dir = self.dir().join("cert").join("server");
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let stored = dir.join(format!("{name}.pem"));
        std::fs::copy(cert, &stored).map_err(|e| format!("cannot copy {}: {e}", cert.display()))?;
        let address = address.map_or_else(|| format!("{name}:{DEFAULT_PORT}"), str::to_owned);
        let mut s = Table::new();
        s.insert("name".into(), Value::String(name.to_owned()));
        s.insert("address".into(), Value::String(address));
        s.insert(
            "certificate".into(),
            Value::String(relative(&stored, &self.dir())),
        );
        servers.push(s);
        self.set_servers(servers);
        self.save()?;
        Ok(stored)
    }

    /// `clientconfig deleteserver -n NAME`.
    pub(crate) fn delete_server(&mut self, name: &str) -> Result<(), String> {
        let servers = self.servers();
        let before = servers.len();
        let kept: Vec<Table> = servers
            .into_iter()
            .filter(|s| s.get("name").and_then(Value::as_str) != Some(name))
            .collect();
        if kept.len() == before {
            return Err(format!("no server named '{name}' is configured"));
        }
        self.set_servers(kept);
        self.save()?;
        let _ = std::fs::remove_file(
            self.dir()
                .join("cert")
                .join("server")
                .join(format!("{name}.pem")),
        );
        Ok(())
    }

    /// `clientconfig listservers`: (name, address).
    pub(crate) fn list_servers(&self) -> Vec<(String, String)> {
        self.servers()
            .iter()
            .map(|s| {
                let get = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                (get("name"), get("address"))
            })
            .collect()
    }
}

fn relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let _ = std::fs::remove_file(path);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn current_year() -> i32 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // 365.2425 days per year on average; exact enough for a validity window.
    1970 + i32::try_from(secs / 31_556_952).unwrap_or(0)
}
