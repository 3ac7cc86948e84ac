//! The appliance's recorded configuration: host name, domain, name servers, interfaces, time
//! zone, NTP servers, requested clock settings (catalog SH-NET-*, SH-SYS-02/03) and the NTLS
//! binding (SH-NTLS-01).
//!
//! Strongroom runs on a host it does not own: these commands record and show the appliance's
//! configuration in `DATA_DIR/appliance/settings.toml` and never change the host's network or
//! clock (each command says so). The recorded host name names the shell prompt.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// Serializes read-modify-write of the settings within this process (the only writer).
static LOCK: Mutex<()> = Mutex::new(());

/// One recorded network interface.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct Interface {
    /// `static` or `dhcp`.
    pub(crate) mode: String,
    #[serde(default)]
    pub(crate) ip: String,
    #[serde(default)]
    pub(crate) netmask: String,
    #[serde(default)]
    pub(crate) gateway: String,
}

/// What `sysconf time` recorded.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClockRequest {
    /// The date and time the administrator gave, as given.
    pub(crate) requested: String,
    /// When it was given (host time, Unix seconds).
    pub(crate) at: i64,
}

/// The recorded configuration.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct Settings {
    pub(crate) hostname: Option<String>,
    pub(crate) domain: Option<String>,
    #[serde(default)]
    pub(crate) nameservers: Vec<String>,
    #[serde(default)]
    pub(crate) search_domains: Vec<String>,
    #[serde(default)]
    pub(crate) interfaces: BTreeMap<String, Interface>,
    pub(crate) timezone: Option<String>,
    #[serde(default)]
    pub(crate) ntp_servers: Vec<String>,
    pub(crate) clock: Option<ClockRequest>,
    /// `ntls bind`: the network device named (`eth0`, `none`, ...).
    #[serde(default)]
    pub(crate) ntls_device: Option<String>,
    /// `ntls bind`: the address NTLS listens on, overriding the configured host.
    #[serde(default)]
    pub(crate) ntls_bind: Option<String>,
}

fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("appliance").join("settings.toml")
}

impl Settings {
    /// The recorded settings (defaults when none were recorded or the file is unreadable).
    pub(crate) fn load(data_dir: &Path) -> Self {
        std::fs::read_to_string(path(data_dir))
            .ok()
            .and_then(|t| toml::from_str(&t).ok())
            .unwrap_or_default()
    }

    /// Changes the settings with `f` and writes them atomically.
    pub(crate) fn update<R>(
        data_dir: &Path,
        f: impl FnOnce(&mut Settings) -> Result<R, String>,
    ) -> Result<R, String> {
        let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let mut settings = Self::load(data_dir);
        let out = f(&mut settings)?;
        let text = toml::to_string(&settings).map_err(|e| e.to_string())?;
        let file = path(data_dir);
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        crate::users::write_atomically(&file, text.as_bytes())?;
        Ok(out)
    }
}
