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
//!
//! The first run also prepares a client on this machine, as the reference's certificate
//! exchange would: a client key and certificate for `127.0.0.1` in `DIR/client/cert/client/`,
//! registered as the client `dev-client` with the partition assigned to it; the partition is
//! initialized (label `dev`, Partition SO and a Crypto Officer whose password is already
//! changed, so that applications can log in at once). Every start writes the client
//! configuration `DIR/client/strongroom.toml` (this run's port and the appliance's current
//! certificate in `DIR/client/cert/server/`) for `STRONGROOM_CONF`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use rcgen::ExtendedKeyUsagePurpose;
use serde::{Deserialize, Serialize};
use strongroom_module::{
    AccessId, InitRequest, Module, PartitionInitRequest, PartitionRole, PartitionSize, Secret,
};
use zeroize::Zeroizing;

use crate::config::Config;
use crate::ntls::identity;
use crate::ntls::registry::{ClientAddress, ClientRecord, Registry};
use crate::users::UserStore;

/// The development appliance's label and partition name.
pub const DEV_LABEL: &str = "strongroom_dev";
/// The partition the development appliance creates.
pub const DEV_PARTITION: &str = "dev";
/// The development partition's storage: most of the appliance's (room for the 100,000 token
/// objects of the load generator's find-by-label measurement), the rest for partitions an
/// administrator creates while trying the shell.
const DEV_PARTITION_BYTES: u64 = 40 * 1024 * 1024;
/// The registered name of the development appliance's own client.
pub(crate) const DEV_CLIENT: &str = "dev-client";
/// The address the development client is registered by, and the name of its certificate.
const LOCAL: &str = "127.0.0.1";

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
    /// The serial number of the partition.
    #[serde(default)]
    pub partition_serial: u64,
    /// The Partition SO's password (PKCS#11 `CKU_SO`).
    #[serde(default)]
    pub partition_so_password: String,
    /// The Crypto Officer's password (PKCS#11 `CKU_USER`).
    #[serde(default)]
    pub crypto_officer_password: String,
    /// The client configuration for `STRONGROOM_CONF`.
    #[serde(default)]
    pub client_config: String,
}

/// The client directory of a development appliance directory.
fn client_dir(dir: &Path) -> PathBuf {
    dir.join("client")
}

fn client_cert_paths(dir: &Path) -> (PathBuf, PathBuf) {
    let d = client_dir(dir).join("cert").join("client");
    (
        d.join(format!("{LOCAL}.pem")),
        d.join(format!("{LOCAL}Key.pem")),
    )
}

/// Creates the development client's key and certificate and registers the certificate as
/// [`DEV_CLIENT`] with the partition `serial` assigned.
fn create_client(dir: &Path, config: &Config, serial: u64) -> Result<(), String> {
    let (cert_pem, key_pem, der) = identity::self_signed(
        LOCAL,
        "Strongroom development client",
        ExtendedKeyUsagePurpose::ClientAuth,
    )?;
    let (cert_path, key_path) = client_cert_paths(dir);
    if let Some(d) = cert_path.parent() {
        std::fs::create_dir_all(d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    }
    crate::users::write_atomically(&key_path, key_pem.as_bytes())?;
    crate::users::write_atomically(&cert_path, cert_pem.as_bytes())?;
    Registry::open(&config.data_dir).update(|clients| {
        clients.retain(|c| c.name != DEV_CLIENT);
        let mut record = ClientRecord::new(DEV_CLIENT, &ClientAddress::Ip(LOCAL.to_owned()), &der);
        record.partitions.push(serial);
        clients.push(record);
        Ok(())
    })
}

/// Writes `DIR/client/strongroom.toml` for this run's NTLS port, with a copy of the appliance's
/// current certificate; returns its path. Nothing is written before the client exists.
fn write_client_config(dir: &Path, config: &Config, port: u16) -> Result<Option<PathBuf>, String> {
    if !client_cert_paths(dir).0.exists() {
        return Ok(None);
    }
    let server_dir = client_dir(dir).join("cert").join("server");
    std::fs::create_dir_all(&server_dir)
        .map_err(|e| format!("cannot create {}: {e}", server_dir.display()))?;
    let server_pem = std::fs::read(identity::cert_path(&config.data_dir))
        .map_err(|e| format!("cannot read the appliance certificate: {e}"))?;
    crate::users::write_atomically(&server_dir.join(format!("{LOCAL}.pem")), &server_pem)?;
    let path = client_dir(dir).join("strongroom.toml");
    let text = format!(
        "# The development client of the appliance in {dir}; rewritten at every start.\n\
         [client]\n\
         certificate = \"cert/client/{LOCAL}.pem\"\n\
         private_key = \"cert/client/{LOCAL}Key.pem\"\n\n\
         [[server]]\n\
         name = \"{LOCAL}\"\n\
         address = \"{LOCAL}:{port}\"\n\
         certificate = \"cert/server/{LOCAL}.pem\"\n",
        dir = dir.display()
    );
    crate::users::write_atomically(&path, text.as_bytes())?;
    Ok(Some(path))
}

/// Initializes the partition and its Partition SO, creates the Crypto Officer and changes its
/// first password (HSM policy 21 would otherwise make it change at first use).
fn prepare_partition(
    module: &mut Module,
    access: AccessId,
    serial: u64,
    domain: &str,
    so_password: &str,
    co_password: &str,
) -> Result<(), strongroom_module::Error> {
    module.partition_init(
        access,
        serial,
        PartitionInitRequest {
            label: DEV_PARTITION.into(),
            so_password: Secret::new(so_password),
            domain: Secret::new(domain),
            current_so_password: None,
        },
    )?;
    let initial = Secret::new(format!("{co_password}-first"));
    module.role_login(access, serial, PartitionRole::So, &Secret::new(so_password))?;
    module.role_init(access, serial, PartitionRole::CryptoOfficer, &initial)?;
    module.role_logout(access, serial)?;
    module.role_login(access, serial, PartitionRole::CryptoOfficer, &initial)?;
    module.role_change_password(access, serial, &initial, &Secret::new(co_password))?;
    module.role_logout(access, serial)
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
        if let Some(conf) = write_client_config(dir, &config, creds.ntls_port)? {
            creds.client_config = conf.display().to_string();
        }
        write_credentials(&creds_path, &creds)?;
        println!(
            "Development appliance in {} (credentials in {}); SSH on 127.0.0.1 port {}, NTLS on \
             127.0.0.1 port {}.",
            dir.display(),
            creds_path.display(),
            creds.ssh_port,
            creds.ntls_port
        );
        if !creds.client_config.is_empty() {
            println!(
                "Applications: export STRONGROOM_CONF={}",
                creds.client_config
            );
        }
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
    let so_password = Zeroizing::new(format!("Pso-{}", random_text(16)?.as_str()));
    let co_password = Zeroizing::new(format!("Co-{}", random_text(16)?.as_str()));
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
        let partition = module.partition_create(
            access,
            DEV_PARTITION,
            PartitionSize::Bytes(DEV_PARTITION_BYTES),
            0,
        )?;
        module.so_logout(access)?;
        prepare_partition(
            &mut module,
            access,
            partition.serial,
            &domain,
            &so_password,
            &co_password,
        )?;
        Ok::<_, strongroom_module::Error>(partition.serial)
    })();
    module.close_access(access);
    let serial = setup.map_err(|e| format!("setting up the development appliance failed: {e}"))?;
    let admin_password = Zeroizing::new(format!("Dev-{}", random_text(20)?.as_str()));
    UserStore::open(&config.data_dir)?.set_password_unexpired("admin", &admin_password)?;
    let mut creds = DevCredentials {
        hsm_so_password: password.to_string(),
        domain: domain.to_string(),
        partition: DEV_PARTITION.into(),
        admin_password: admin_password.to_string(),
        ssh_port: 0,
        ntls_port: 0,
        partition_serial: serial,
        partition_so_password: so_password.to_string(),
        crypto_officer_password: co_password.to_string(),
        client_config: String::new(),
    };
    let listeners = listeners(&mut config, &mut creds)?;
    create_client(dir, &config, serial)?;
    if let Some(conf) = write_client_config(dir, &config, creds.ntls_port)? {
        creds.client_config = conf.display().to_string();
    }
    let (port, ntls_port) = (creds.ssh_port, creds.ntls_port);
    write_credentials(&creds_path, &creds)?;
    println!(
        "\nDevelopment appliance ready in {dir}.\n\
         \x20 HSM label:         {DEV_LABEL}\n\
         \x20 HSM SO password:   {pw}\n\
         \x20 HSM domain:        {dom}\n\
         \x20 Partition:         {DEV_PARTITION} (serial {serial}), assigned to client {DEV_CLIENT}\n\
         \x20 Partition SO:      {pso} (PKCS#11 CKU_SO)\n\
         \x20 Crypto Officer:    {co} (PKCS#11 CKU_USER)\n\
         \x20 Appliance user:    admin / {admin}\n\
         \x20 SSH:               ssh -p {port} admin@127.0.0.1\n\
         \x20 NTLS:              127.0.0.1:{ntls_port} (its certificate: scp -P {port} \
         admin@127.0.0.1:server.pem .)\n\
         \x20 Credentials file:  {creds}\n\n\
         Administer it with:  strongroomd console --dir {data}\n\
         Applications:        export STRONGROOM_CONF={conf}\n",
        dir = dir.display(),
        pw = password.as_str(),
        dom = domain.as_str(),
        admin = admin_password.as_str(),
        creds = creds_path.display(),
        data = config.data_dir.display(),
        pso = so_password.as_str(),
        co = co_password.as_str(),
        conf = creds.client_config,
    );
    Ok((config, module, listeners))
}
