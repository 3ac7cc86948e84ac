//! Shared helpers for the module's integration tests: a module in its own temporary directory,
//! known credentials, and a way to "kill and restart" it (drop it and open its directory again).
//!
//! Every test file uses a subset of these, so unused ones are allowed.

#![allow(dead_code)]

use std::ops::{Deref, DerefMut};
use std::path::PathBuf;

use strongroom_module::{
    AccessId, Error, HsmInfo, HsmStatus, InitKind, InitRequest, KdfCost, Module, ModuleConfig,
    PartitionInfo, PartitionSize, RetCode, Secret, StmStrings,
};
use tempfile::TempDir;

/// The HSM SO password of [`initialized`].
pub(crate) const SO_PASSWORD: &str = "Ironbark-SO-7734";
/// The HSM domain string of [`initialized`].
pub(crate) const DOMAIN: &str = "Quokka domain 5519";
/// The label of [`initialized`].
pub(crate) const LABEL: &str = "vault_one";

/// The module configuration of the tests: the default unit with a cheap credential KDF, so that
/// the whole suite runs in seconds.
pub(crate) fn config() -> ModuleConfig {
    ModuleConfig {
        kdf: KdfCost {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        },
        ..ModuleConfig::default()
    }
}

/// [`config`] with another licensed partition count and total storage.
pub(crate) fn config_with(licensed_partitions: u32, total_storage: u64) -> ModuleConfig {
    ModuleConfig {
        licensed_partitions,
        total_storage,
        ..config()
    }
}

/// A module whose data lives in its own temporary directory.
pub(crate) struct Hsm {
    /// `None` only inside [`Hsm::reopen`].
    module: Option<Module>,
    /// Keeps the directory alive as long as the module.
    pub(crate) tmp: TempDir,
    pub(crate) config: ModuleConfig,
}

impl Deref for Hsm {
    type Target = Module;
    fn deref(&self) -> &Module {
        self.module.as_ref().expect("module present")
    }
}

impl DerefMut for Hsm {
    fn deref_mut(&mut self) -> &mut Module {
        self.module.as_mut().expect("module present")
    }
}

impl Hsm {
    /// The module's data directory.
    pub(crate) fn dir(&self) -> PathBuf {
        data_dir(&self.tmp)
    }

    /// Kills and restarts the module: drops it (closing its store) and opens the same directory
    /// again with the same configuration. An existing module shows no STM strings on open.
    pub(crate) fn reopen(mut self) -> Hsm {
        drop(self.module.take());
        let (module, strings) = Module::open(&self.dir(), self.config.clone()).expect("reopen");
        assert!(
            strings.is_none(),
            "reopening an existing module must not show new STM strings"
        );
        self.module = Some(module);
        self
    }

    /// Closes the module and hands back its directory, for tests that copy or damage files.
    pub(crate) fn close(mut self) -> (TempDir, ModuleConfig) {
        drop(self.module.take());
        (self.tmp, self.config)
    }

    /// A new access with the HSM SO logged in with [`SO_PASSWORD`].
    pub(crate) fn login(&mut self) -> AccessId {
        self.login_with(SO_PASSWORD)
    }

    /// A new access with the HSM SO logged in with `password`.
    pub(crate) fn login_with(&mut self, password: &str) -> AccessId {
        let id = self.open_access();
        self.so_login(id, &secret(password)).expect("HSM SO login");
        id
    }

    /// Creates a partition of `size` through a logged-in access.
    pub(crate) fn create(
        &mut self,
        id: AccessId,
        name: &str,
        size: PartitionSize,
    ) -> PartitionInfo {
        self.partition_create(id, name, size, 0)
            .unwrap_or_else(|err| panic!("create partition {name:?}: {err}"))
    }

    /// The partition names, in serial order.
    pub(crate) fn partition_names(&self) -> Vec<String> {
        self.partition_list()
            .expect("partition list")
            .into_iter()
            .map(|p| p.name)
            .collect()
    }

    /// What `hsm show` reports, asked through a new access that is closed again.
    pub(crate) fn show(&mut self) -> HsmInfo {
        let id = self.open_access();
        let info = self.info(id);
        self.close_access(id);
        info
    }
}

/// The data directory inside a test's temporary directory (a subdirectory, so that tests can
/// copy it whole).
pub(crate) fn data_dir(tmp: &TempDir) -> PathBuf {
    tmp.path().join("module")
}

/// A secret from a string.
pub(crate) fn secret(s: &str) -> Secret {
    Secret::from(s)
}

/// A factory-new module (in Secure Transport Mode) and the STM strings shown at its creation.
pub(crate) fn fresh() -> (Hsm, StmStrings) {
    fresh_with(config())
}

/// [`fresh`] with another configuration.
pub(crate) fn fresh_with(config: ModuleConfig) -> (Hsm, StmStrings) {
    let tmp = TempDir::new().expect("temp dir");
    let (module, strings) = Module::open(&data_dir(&tmp), config.clone()).expect("open new module");
    let strings = strings.expect("a new module shows its STM strings");
    let hsm = Hsm {
        module: Some(module),
        tmp,
        config,
    };
    assert_eq!(hsm.status(), HsmStatus::TransportModeZeroized);
    (hsm, strings)
}

/// A new module taken out of STM: zeroized, ready for a hard init.
pub(crate) fn recovered() -> Hsm {
    recovered_with(config())
}

/// [`recovered`] with another configuration.
pub(crate) fn recovered_with(config: ModuleConfig) -> Hsm {
    let (mut hsm, _) = fresh_with(config);
    let id = hsm.open_access();
    hsm.stm_recover(id)
        .expect("recover a zeroized module from STM");
    assert_eq!(hsm.status(), HsmStatus::Zeroized);
    hsm
}

/// A hard-init request with the given credentials.
pub(crate) fn hard_init(label: &str, password: &str, domain: &str) -> InitRequest {
    InitRequest {
        label: label.to_owned(),
        so_password: secret(password),
        domain: Some(secret(domain)),
        template: None,
        auth_time_config: false,
    }
}

/// A soft-init request: the current SO password and a (possibly new) label.
pub(crate) fn soft_init(label: &str, password: &str) -> InitRequest {
    InitRequest {
        label: label.to_owned(),
        so_password: secret(password),
        domain: None,
        template: None,
        auth_time_config: false,
    }
}

/// A module recovered from STM and hard-initialized with [`LABEL`], [`SO_PASSWORD`] and
/// [`DOMAIN`]; nobody is logged in.
pub(crate) fn initialized() -> Hsm {
    initialized_with(config())
}

/// [`initialized`] with another configuration.
pub(crate) fn initialized_with(config: ModuleConfig) -> Hsm {
    let mut hsm = recovered_with(config);
    let id = hsm.open_access();
    let kind = hsm
        .init(id, hard_init(LABEL, SO_PASSWORD, DOMAIN))
        .expect("hard init");
    assert_eq!(kind, InitKind::Hard);
    assert_eq!(hsm.status(), HsmStatus::Ok);
    hsm
}

/// The return code of a result that must be an error.
#[track_caller]
pub(crate) fn err_code<T>(result: Result<T, Error>) -> RetCode {
    match result {
        Ok(_) => panic!("expected an error, the operation succeeded"),
        Err(err) => err.code(),
    }
}

/// Whether `s` has the STM string form `XXXX-XXXX-XXXX-XXXX` of ASCII letters and digits.
pub(crate) fn is_stm_string(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 4
        && groups
            .iter()
            .all(|g| g.len() == 4 && g.bytes().all(|b| b.is_ascii_alphanumeric()))
}

pub(crate) mod token;
