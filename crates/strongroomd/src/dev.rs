//! `strongroomd dev --dir DIR`: a ready development appliance from embedded defaults.
//!
//! The first run creates the module in `DIR/data`, recovers it from Secure Transport Mode,
//! initializes it with generated credentials, creates the partition `dev`, and writes the
//! credentials to `DIR/dev-credentials.toml` (owner-only). Later runs reuse what is there.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use strongroom_module::{InitRequest, Module, PartitionSize, Secret};
use zeroize::Zeroizing;

use crate::config::Config;

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

/// Sets up (first run) or reopens the development appliance in `dir`.
pub fn prepare(dir: &Path) -> Result<(Config, Module), String> {
    std::fs::create_dir_all(dir)
        .map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    let config = config(dir);
    let creds_path = credentials_path(dir);
    let (mut module, strings) =
        Module::open(&config.data_dir, config.module_config()?).map_err(|e| e.to_string())?;
    if creds_path.exists() {
        println!(
            "Development appliance in {} (credentials in {}).",
            dir.display(),
            creds_path.display()
        );
        return Ok((config, module));
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
    let creds = DevCredentials {
        hsm_so_password: password.to_string(),
        domain: domain.to_string(),
        partition: DEV_PARTITION.into(),
    };
    let text = Zeroizing::new(toml::to_string(&creds).map_err(|e| e.to_string())?);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&creds_path)
        .map_err(|err| format!("cannot write {}: {err}", creds_path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|err| format!("cannot write {}: {err}", creds_path.display()))?;
    println!(
        "\nDevelopment appliance ready in {dir}.\n\
         \x20 HSM label:         {DEV_LABEL}\n\
         \x20 HSM SO password:   {pw}\n\
         \x20 HSM domain:        {dom}\n\
         \x20 Partition:         {DEV_PARTITION}\n\
         \x20 Credentials file:  {creds}\n\n\
         Administer it with:  strongroomd console --dir {data}\n",
        dir = dir.display(),
        pw = password.as_str(),
        dom = domain.as_str(),
        creds = creds_path.display(),
        data = config.data_dir.display(),
    );
    Ok((config, module))
}
