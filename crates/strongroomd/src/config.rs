//! The appliance configuration file (TOML).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use zeroize::Zeroizing;

pub use crate::files::FileLimits;

/// Environment variable holding the KEK passphrase, when the KEK file is passphrase-wrapped.
pub const KEK_PASSPHRASE_ENV: &str = "STRONGROOM_KEK_PASSPHRASE";

/// `strongroomd run --config FILE`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the module's store, KEK and users' file areas live.
    pub data_dir: PathBuf,
    /// Module object storage in bytes (capability 27).
    #[serde(default = "default_total_storage")]
    pub total_storage: u64,
    /// Licensed number of application partitions (capability 33).
    #[serde(default = "default_licensed_partitions")]
    pub licensed_partitions: u32,
    /// A file holding the KEK passphrase (its first line). Without it, the passphrase comes
    /// from `STRONGROOM_KEK_PASSPHRASE` if set; otherwise the KEK file is not wrapped.
    #[serde(default)]
    pub kek_passphrase_file: Option<PathBuf>,
    /// Appliance host name shown in the shell prompt.
    #[serde(default)]
    pub hostname: Option<String>,
    /// Network listeners.
    #[serde(default)]
    pub listen: Listen,
    /// The SSH service.
    #[serde(default)]
    pub ssh: Ssh,
    /// The NTLS service.
    #[serde(default)]
    pub ntls: Ntls,
    /// Bounds of the users' file areas.
    #[serde(default)]
    pub files: FileLimits,
    /// Logging.
    #[serde(default)]
    pub log: Log,
    /// The module's audit log space and the appliance's audit directory.
    #[serde(default)]
    pub audit: Audit,
}

/// Audit log settings (`[audit]`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Audit {
    /// Records the module holds before LOG FULL (default: 16 MiB of records).
    pub capacity_records: Option<u64>,
    /// Bytes the audit files of `DATA_DIR/audit` may take together (default 4 GiB).
    pub dir_max_bytes: Option<u64>,
}

impl Audit {
    /// The bounds of the appliance's audit directory.
    pub fn limits(&self) -> crate::shell::AuditLimits {
        let mut l = crate::shell::AuditLimits::default();
        if let Some(b) = self.dir_max_bytes {
            l.dir_max_bytes = b;
        }
        l
    }
}

/// Listen addresses of the network services.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listen {
    /// NTLS (client link), `HOST:PORT`, default `0.0.0.0:1792`; `"off"` serves no NTLS.
    /// `ntls bind` overrides the host (the port stays).
    pub ntls: Option<String>,
    /// SSH (administration), default `0.0.0.0:22`; `"off"` serves no SSH.
    pub ssh: Option<String>,
}

/// SSH service settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ssh {
    /// A connection with no traffic for this many seconds is closed.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_secs: u64,
    /// Every rejected login attempt takes at least this long (constant rejection time).
    #[serde(default = "default_rejection_ms")]
    pub auth_rejection_ms: u64,
    /// The delay added after repeated failures (doubling per failure of the same user or
    /// address) never exceeds this.
    #[serde(default = "default_max_delay")]
    pub max_login_delay_secs: u64,
    /// Most SSH connections served at once.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
}

impl Default for Ssh {
    fn default() -> Self {
        Self {
            idle_timeout_secs: default_idle_timeout(),
            auth_rejection_ms: default_rejection_ms(),
            max_login_delay_secs: default_max_delay(),
            max_connections: default_max_connections(),
        }
    }
}

fn default_idle_timeout() -> u64 {
    900
}
fn default_rejection_ms() -> u64 {
    1000
}
fn default_max_delay() -> u64 {
    30
}
fn default_max_connections() -> usize {
    64
}

/// NTLS service settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ntls {
    /// Most NTLS connections open at once (handshakes included); more are refused.
    #[serde(default = "default_ntls_max_connections")]
    pub max_connections: usize,
    /// A connection with no traffic and no request in flight for this many seconds is closed.
    #[serde(default = "default_ntls_idle_timeout")]
    pub idle_timeout_secs: u64,
    /// A TLS handshake must complete within this many seconds.
    #[serde(default = "default_ntls_handshake_timeout")]
    pub handshake_timeout_secs: u64,
    /// Most requests in flight on one connection; beyond that the appliance reads no more
    /// from it until an answer has gone out.
    #[serde(default = "default_ntls_in_flight")]
    pub max_requests_in_flight: usize,
    /// Most sessions one registered client may hold open at once, over all its connections;
    /// one more is refused with CKR_SESSION_COUNT, so that no client can take them all.
    #[serde(default = "default_ntls_sessions_per_client")]
    pub max_sessions_per_client: usize,
    /// Once the first byte of a request has arrived, the rest of it must arrive within this
    /// many seconds, or the connection is closed (a client trickling bytes keeps nothing).
    #[serde(default = "default_ntls_frame_timeout")]
    pub frame_timeout_secs: u64,
}

impl Default for Ntls {
    fn default() -> Self {
        Self {
            max_connections: default_ntls_max_connections(),
            idle_timeout_secs: default_ntls_idle_timeout(),
            handshake_timeout_secs: default_ntls_handshake_timeout(),
            max_requests_in_flight: default_ntls_in_flight(),
            max_sessions_per_client: default_ntls_sessions_per_client(),
            frame_timeout_secs: default_ntls_frame_timeout(),
        }
    }
}

fn default_ntls_max_connections() -> usize {
    4096
}
fn default_ntls_idle_timeout() -> u64 {
    1800
}
fn default_ntls_handshake_timeout() -> u64 {
    20
}
fn default_ntls_in_flight() -> usize {
    64
}
fn default_ntls_sessions_per_client() -> usize {
    4096
}
fn default_ntls_frame_timeout() -> u64 {
    30
}

/// The NTLS listen address when the configuration names none.
pub const DEFAULT_NTLS_LISTEN: &str = "0.0.0.0:1792";

/// The SSH listen address when the configuration names none.
pub const DEFAULT_SSH_LISTEN: &str = "0.0.0.0:22";

/// Log output.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Log {
    /// `text` or `json`.
    #[serde(default = "default_format")]
    pub format: String,
    /// A tracing filter such as `info` or `strongroomd=debug`.
    #[serde(default = "default_level")]
    pub level: String,
}

impl Default for Log {
    fn default() -> Self {
        Self {
            format: default_format(),
            level: default_level(),
        }
    }
}

fn default_total_storage() -> u64 {
    64 * 1024 * 1024
}
fn default_licensed_partitions() -> u32 {
    100
}
fn default_format() -> String {
    "text".into()
}
fn default_level() -> String {
    "info".into()
}

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
        Self::parse(&text).map_err(|err| format!("{}: {err}", path.display()))
    }

    /// Parses configuration text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let config: Self = toml::from_str(text).map_err(|err| err.to_string())?;
        if config.licensed_partitions == 0 {
            return Err("licensed_partitions must be at least 1".into());
        }
        if config.total_storage < 1024 * 1024 {
            return Err("total_storage must be at least 1 MiB".into());
        }
        if config.ssh.idle_timeout_secs == 0 || config.ssh.max_connections == 0 {
            return Err("ssh.idle_timeout_secs and ssh.max_connections must be at least 1".into());
        }
        if config.ntls.max_connections == 0
            || config.ntls.idle_timeout_secs == 0
            || config.ntls.handshake_timeout_secs == 0
            || config.ntls.max_requests_in_flight == 0
            || config.ntls.max_sessions_per_client == 0
            || config.ntls.frame_timeout_secs == 0
        {
            return Err("the [ntls] limits must be at least 1".into());
        }
        if let Some(listen) = &config.listen.ntls {
            crate::ntls::ListenSpec::parse(listen)?;
        }
        if config.files.max_file_bytes == 0
            || config.files.max_user_bytes < config.files.max_file_bytes
        {
            return Err(
                "files.max_file_bytes must be at least 1 and at most files.max_user_bytes".into(),
            );
        }
        if !matches!(config.log.format.as_str(), "text" | "json") {
            return Err("log.format must be \"text\" or \"json\"".into());
        }
        Ok(config)
    }

    /// A configuration with the embedded defaults for `data_dir`.
    pub fn with_defaults(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            total_storage: default_total_storage(),
            licensed_partitions: default_licensed_partitions(),
            kek_passphrase_file: None,
            hostname: None,
            listen: Listen::default(),
            ssh: Ssh::default(),
            ntls: Ntls::default(),
            files: FileLimits::default(),
            log: Log::default(),
            audit: Audit::default(),
        }
    }

    /// The KEK passphrase, from the configured file or the environment.
    pub fn kek_passphrase(&self) -> Result<Option<Zeroizing<Vec<u8>>>, String> {
        if let Some(path) = &self.kek_passphrase_file {
            let text = Zeroizing::new(
                std::fs::read_to_string(path)
                    .map_err(|err| format!("cannot read {}: {err}", path.display()))?,
            );
            let line = text.lines().next().unwrap_or("");
            if line.is_empty() {
                return Err(format!("{} holds no passphrase", path.display()));
            }
            return Ok(Some(Zeroizing::new(line.as_bytes().to_vec())));
        }
        Ok(std::env::var(KEK_PASSPHRASE_ENV)
            .ok()
            .filter(|v| !v.is_empty())
            .map(|v| Zeroizing::new(v.into_bytes())))
    }

    /// Where NTLS listens, as configured.
    pub(crate) fn ntls_listen(&self) -> crate::ntls::ListenSpec {
        self.listen
            .ntls
            .as_deref()
            .and_then(|l| crate::ntls::ListenSpec::parse(l).ok())
            .unwrap_or_default()
    }

    /// The NTLS bounds, as configured.
    pub(crate) fn ntls_limits(&self) -> crate::ntls::Limits {
        crate::ntls::Limits {
            max_connections: self.ntls.max_connections,
            idle_timeout: std::time::Duration::from_secs(self.ntls.idle_timeout_secs),
            handshake_timeout: std::time::Duration::from_secs(self.ntls.handshake_timeout_secs),
            max_in_flight: self.ntls.max_requests_in_flight,
            max_payload: strongroom_proto::DEFAULT_MAX_PAYLOAD,
            max_sessions_per_client: self.ntls.max_sessions_per_client,
            frame_timeout: std::time::Duration::from_secs(self.ntls.frame_timeout_secs),
        }
    }

    /// The module settings this configuration implies.
    pub fn module_config(&self) -> Result<strongroom_module::ModuleConfig, String> {
        Ok(strongroom_module::ModuleConfig {
            total_storage: self.total_storage,
            licensed_partitions: self.licensed_partitions,
            kek_passphrase: self.kek_passphrase()?,
            audit_capacity: self
                .audit
                .capacity_records
                .unwrap_or(strongroom_module::DEFAULT_AUDIT_CAPACITY),
            ..strongroom_module::ModuleConfig::default()
        })
    }
}
