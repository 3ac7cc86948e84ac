//! `strongroomd dev --dir DIR`: a ready development appliance from embedded defaults.
//!
//! The first run creates the module in `DIR/data`, recovers it from Secure Transport Mode,
//! initializes it with generated credentials, creates the partition `dev`, gives the appliance
//! user `admin` a generated password (no change required), and writes the credentials to
//! `DIR/dev-credentials.toml` (owner-only). Later runs reuse what is there.
//!
//! The SSH and NTLS services listen on `127.0.0.1` only, each on the port of the previous run
//! when it is free, else on a free one; the ports are printed and written to the credentials
//! file (`ssh_port`, `ntls_port`) at every start. The NTLS certificate names `127.0.0.1`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use strongroom_module::{InitRequest, Module, PartitionSize, Secret};
use zeroize::Zeroizing;

use crate::config::Config;
use crate::users::UserStore;

/// The development appliance's label and partition name.
pub const DEV_LABEL: &str = "strongroom_dev";
/// The partition the development appliance creates.
pub const DEV_PARTITION: &str = "dev";

/// What `DIR/dev-credentials.toml` holds.
#[derive(Serialize, Deserialize)]
pub struct DevCredentials {
    /// The HSM SO password.
    pub hsm_so_password: String,
    /// The HSM domain string.
    pub domain: String,
    /// The partition created for development.
    pub partition: String,
    /// The password of the appliance user `admin` (for `ssh admin@127.0.0.1 -p PORT`).
    #[serde(default)]
    pub admin_password: String,
    /// The SSH port on 127.0.0.1 (of the current run).
    #[serde(default)]
    pub ssh_port: u16,
    /// The NTLS port on 127.0.0.1 (of the current run).
    #[serde(default)]
    pub ntls_port: u16,
}

/// The credentials file of a development appliance directory.
pub fn credentials_path(dir: &Path) -> PathBuf {
    dir.join("dev-credentials.toml")
}

/// The configuration of the development appliance in `dir`.
pub(crate) fn config(dir: &Path) -> Config {
    Config::with_defaults(dir.join("data"))
}

fn random_text(len: usize) -> Result<Zeroizing<String>, String> {
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut out = Zeroizing::new(String::with_capacity(len));
    while out.len() < len {
        let mut bytes = Zeroizing::new([0u8; 64]);
        SystemRandom::new()
            .fill(bytes.as_mut())
            .map_err(|_| "the random source failed".to_string())?;
        for b in bytes.iter() {
            // 57 characters: reject bytes >= 228 (4 * 57) to stay unbiased.
            if out.len() < len && *b < 228 {
                out.push(char::from(CHARS[usize::from(*b) % CHARS.len()]));
            }
        }
    }
    Ok(out)
}

fn write_credentials(path: &Path, creds: &DevCredentials) -> Result<(), String> {
    let text = Zeroizing::new(toml::to_string(creds).map_err(|e| e.to_string())?);
    crate::users::write_atomically(path, text.as_bytes())
}

/// Binds 127.0.0.1 on `port` if it is free (and not 0), else on a free port.
fn bind_local(port: u16, what: &str) -> Result<TcpListener, String> {
    if port != 0
        && let Ok(l) = TcpListener::bind(("127.0.0.1", port))
    {
        return Ok(l);
    }
    TcpListener::bind(("127.0.0.1", 0)).map_err(|e| format!("cannot listen for {what}: {e}"))
}

fn port_of(listener: &TcpListener) -> Result<u16, String> {
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// Binds both services' listeners (previous ports preferred), points the configuration's
/// NTLS address at the NTLS one and makes sure the NTLS identity exists.
fn listeners(
    config: &mut Config,
    creds: &mut DevCredentials,
) -> Result<crate::daemon::Listeners, String> {
    let ssh = bind_local(creds.ssh_port, "SSH")?;
    let ntls = bind_local(creds.ntls_port, "NTLS")?;
    creds.ssh_port = port_of(&ssh)?;
    creds.ntls_port = port_of(&ntls)?;
    config.listen.ntls = Some(format!("127.0.0.1:{}", creds.ntls_port));
    crate::ntls::identity::ensure(&config.data_dir, "127.0.0.1", config.files)?;
    Ok(crate::daemon::Listeners {
        ssh: Some(ssh),
        ntls: Some(ntls),
    })
}

/// Sets up (first run) or reopens the development appliance in `dir`; returns its
/// configuration, module and bound SSH and NTLS listeners.
pub fn prepare(dir: &Path) -> Result<(Config, Module, crate::daemon::Listeners), String> {
    std::fs::create_dir_all(dir)
        .map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    let mut config = config(dir);
    let creds_path = credentials_path(dir);
    let (mut module, strings) =
        Module::open(&config.data_dir, config.module_config()?).map_err(|e| e.to_string())?;
    if creds_path.exists() {
        let text = Zeroizing::new(
            std::fs::read_to_string(&creds_path)
                .map_err(|err| format!("cannot read {}: {err}", creds_path.display()))?,
        );
        let mut creds: DevCredentials =
            toml::from_str(&text).map_err(|err| format!("{}: {err}", creds_path.display()))?;
        if creds.admin_password.is_empty() {
            // A directory from a version without SSH: give admin a password now.
            creds.admin_password = format!("Dev-{}", random_text(20)?.as_str());
            UserStore::open(&config.data_dir)?
                .set_password_unexpired("admin", &creds.admin_password)?;
        }
        let listeners = listeners(&mut config, &mut creds)?;
        write_credentials(&creds_path, &creds)?;
        println!(
            "Development appliance in {} (credentials in {}); SSH on 127.0.0.1 port {}, NTLS on \
             127.0.0.1 port {}.",
            dir.display(),
            creds_path.display(),
            creds.ssh_port,
            creds.ntls_port
        );
        return Ok((config, module, listeners));
    }
    let Some(strings) = strings else {
        return Err(format!(
            "{} holds an appliance without {}; use an empty directory",
            config.data_dir.display(),
            creds_path.display()
        ));
    };
    let password = Zeroizing::new(format!("Dev-{}", random_text(20)?.as_str()));
    let domain = Zeroizing::new(format!("dev-domain-{}", random_text(20)?.as_str()));
    let access = module.open_access();
    let setup = (|| {
        module.stm_verification(access, &strings.random_user_string)?;
        module.stm_recover(access)?;
        module.init(
            access,
            InitRequest {
                label: DEV_LABEL.into(),
                so_password: Secret::new(password.as_str()),
                domain: Some(Secret::new(domain.as_str())),
                template: None,
                auth_time_config: false,
            },
        )?;
        module.so_login(access, &Secret::new(password.as_str()))?;
        module.partition_create(access, DEV_PARTITION, PartitionSize::Default, 0)?;
        module.so_logout(access)
    })();
    module.close_access(access);
    setup.map_err(|e| format!("setting up the development appliance failed: {e}"))?;
    let admin_password = Zeroizing::new(format!("Dev-{}", random_text(20)?.as_str()));
    UserStore::open(&config.data_dir)?.set_password_unexpired("admin", &admin_password)?;
    let mut creds = DevCredentials {
        hsm_so_password: password.to_string(),
        domain: domain.to_string(),
        partition: DEV_PARTITION.into(),
        admin_password: admin_password.to_string(),
        ssh_port: 0,
        ntls_port: 0,
    };
    let listeners = listeners(&mut config, &mut creds)?;
    let (port, ntls_port) = (creds.ssh_port, creds.ntls_port);
    write_credentials(&creds_path, &creds)?;
    println!(
        "\nDevelopment appliance ready in {dir}.\n\
         \x20 HSM label:         {DEV_LABEL}\n\
         \x20 HSM SO password:   {pw}\n\
         \x20 HSM domain:        {dom}\n\
         \x20 Partition:         {DEV_PARTITION}\n\
         \x20 Appliance user:    admin / {admin}\n\
         \x20 SSH:               ssh -p {port} admin@127.0.0.1\n\
         \x20 NTLS:              127.0.0.1:{ntls_port} (its certificate: scp -P {port} \
         admin@127.0.0.1:server.pem .)\n\
         \x20 Credentials file:  {creds}\n\n\
         Administer it with:  strongroomd console --dir {data}\n",
        dir = dir.display(),
        pw = password.as_str(),
        dom = domain.as_str(),
        admin = admin_password.as_str(),
        creds = creds_path.display(),
        data = config.data_dir.display(),
    );
    Ok((config, module, listeners))
}
