//! PKCS#11 test helpers: a running appliance with a registered client and an assigned
//! partition, the client configuration file `libstrongroom_pkcs11.so` reads, and the library
//! itself loaded through the `cryptoki` crate.
//!
//! The library keeps one global state per process and reads `STRONGROOM_CONF` when
//! initialized, so every test runs its body in a child process of its own ([`isolated`]):
//! the test binary runs itself for that one test, with the variable set.

use std::path::{Path, PathBuf};
use std::time::Duration;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};

use crate::common::ntls::{ClientId, NtlsAppliance, PARTITION, listening_port};
use crate::common::process::Proc;

/// Set in the child process that runs a test's body.
const CHILD_ENV: &str = "STRONGROOM_PKCS11_TEST_CHILD";

/// Runs `body` in a child process (this test binary, running only test `name`) with
/// `STRONGROOM_CONF` naming a file in a fresh directory; `body` gets that path and must write
/// the configuration there. Fails if the child fails or does not run the test.
pub(crate) fn isolated(name: &str, body: impl FnOnce(&Path)) {
    if std::env::var_os(CHILD_ENV).is_some() {
        let conf = std::env::var_os(strongroom_client::CONF_ENV).expect("STRONGROOM_CONF");
        body(Path::new(&conf));
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let conf = dir.path().join("strongroom.toml");
    let exe = std::env::current_exe().expect("test executable");
    let out = std::process::Command::new(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .env(strongroom_client::CONF_ENV, &conf)
        .env_remove("STRONGROOM_PKCS11_LOG")
        .output()
        .expect("run the test in a child process");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "the test failed in its child process ({}):\n{stdout}\n{stderr}",
        out.status
    );
}

/// The client name the appliance registers.
pub(crate) const CLIENT: &str = "app1";

/// The built library, `target/<profile>/libstrongroom_pkcs11.so`, rebuilt for this test's
/// profile if its sources changed.
pub(crate) fn library() -> PathBuf {
    crate::common::artifact::built("strongroom-pkcs11", "libstrongroom_pkcs11.so")
}

/// An appliance, a client identity registered with it and assigned [`PARTITION`], and the
/// client configuration naming them (exported as `STRONGROOM_CONF`).
pub(crate) struct Setup {
    pub(crate) app: NtlsAppliance,
}

impl Setup {
    /// Starts the appliance and writes the client configuration to `conf`.
    pub(crate) fn start(conf: &Path) -> Self {
        let app = NtlsAppliance::start();
        let id = ClientId::new("127.0.0.1");
        app.register(CLIENT, "127.0.0.1", &id);
        let out = app.console(&format!(
            "client assignPartition -client {CLIENT} -partition {PARTITION}"
        ));
        assert!(
            out.contains("'client assignPartition' successful."),
            "{out}"
        );
        let dir = conf
            .parent()
            .expect("configuration directory")
            .to_path_buf();
        std::fs::write(dir.join("cert.pem"), &id.cert_pem).expect("cert");
        std::fs::write(dir.join("key.pem"), &id.key_pem).expect("key");
        std::fs::copy(app.admin_files().join("server.pem"), dir.join("server.pem"))
            .expect("server.pem");
        std::fs::write(
            conf,
            format!(
                "[client]\ncertificate = \"cert.pem\"\nprivate_key = \"key.pem\"\n\
                 connect_timeout_ms = 10000\nrequest_timeout_ms = 60000\n\n\
                 [[server]]\nname = \"127.0.0.1\"\naddress = \"{}\"\n\
                 certificate = \"server.pem\"\n",
                app.addr()
            ),
        )
        .expect("client config");
        Self { app }
    }

    /// Loads and initializes the library with this setup's configuration.
    pub(crate) fn pkcs11(&self) -> Pkcs11 {
        let p = Pkcs11::new(library()).expect("load libstrongroom_pkcs11.so");
        p.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .expect("C_Initialize");
        p
    }

    /// SIGKILLs the appliance and starts it again on the same NTLS port and data.
    pub(crate) fn restart(&mut self) {
        self.app.daemon.kill();
        let config = self.app.tmp.path().join("strongroom.toml");
        let text = std::fs::read_to_string(&config).expect("appliance config");
        let text = text.replace(
            "ntls = \"127.0.0.1:0\"",
            &format!("ntls = \"127.0.0.1:{}\"", self.app.port),
        );
        std::fs::write(&config, text).expect("appliance config");
        let mut daemon = Proc::run(&config, &self.app.data);
        let out = daemon.wait_for("NTLS service listening on", Duration::from_secs(30));
        assert_eq!(listening_port(&out), self.app.port);
        self.app.daemon = daemon;
    }
}
