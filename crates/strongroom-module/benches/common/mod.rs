//! The module the benchmarks measure: initialized, one partition, a logged-in Crypto
//! Officer's read-write session.

#![allow(dead_code)]

use strongroom_module::{
    AccessId, Attribute, InitRequest, KdfCost, Mechanism, Module, ModuleConfig, ObjectHandle,
    PartitionInitRequest, PartitionRole, PartitionSize, Secret, SessionHandle, Template,
};

pub(crate) struct Bench {
    pub(crate) tmp: tempfile::TempDir,
    pub(crate) m: Module,
    pub(crate) a: AccessId,
    pub(crate) s: SessionHandle,
    pub(crate) serial: u64,
}

/// A module set up with `config` (a fast KDF, room for the benchmarks' objects, over
/// whatever else `config` says).
pub(crate) fn setup_with(config: ModuleConfig) -> Bench {
    let tmp = tempfile::tempdir().unwrap();
    let config = ModuleConfig {
        kdf: KdfCost {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        },
        // Room for the session objects the key-generation benchmarks leave behind.
        total_storage: 1 << 30,
        licensed_partitions: 1,
        ..config
    };
    let (mut m, strings) = Module::open(tmp.path(), config).unwrap();
    let a = m.open_access();
    m.stm_verification(a, &strings.unwrap().random_user_string)
        .unwrap();
    m.stm_recover(a).unwrap();
    m.init(
        a,
        InitRequest {
            label: "bench".into(),
            so_password: Secret::new("Bench-So-Pass1"),
            domain: Some(Secret::new("bench")),
            template: None,
            auth_time_config: false,
        },
    )
    .unwrap();
    m.so_login(a, &Secret::new("Bench-So-Pass1")).unwrap();
    let serial = m
        .partition_create(a, "bench", PartitionSize::AllFree, 0)
        .unwrap()
        .serial;
    m.partition_init(
        a,
        serial,
        PartitionInitRequest {
            label: "bench".into(),
            so_password: Secret::new("Bench-PSO-Pass1"),
            domain: Secret::new("bench"),
            current_so_password: None,
        },
    )
    .unwrap();
    let co = PartitionRole::CryptoOfficer;
    m.role_login(
        a,
        serial,
        PartitionRole::So,
        &Secret::new("Bench-PSO-Pass1"),
    )
    .unwrap();
    m.role_init(a, serial, co, &Secret::new("Bench-CO-Pass0"))
        .unwrap();
    m.role_logout(a, serial).unwrap();
    m.role_login(a, serial, co, &Secret::new("Bench-CO-Pass0"))
        .unwrap();
    m.role_change_password(
        a,
        serial,
        &Secret::new("Bench-CO-Pass0"),
        &Secret::new("Bench-CO-Pass1"),
    )
    .unwrap();
    let s = m.open_session(a, serial, true).unwrap();
    Bench {
        tmp,
        m,
        a,
        s,
        serial,
    }
}

pub(crate) fn tpl(attrs: Vec<Attribute>) -> Template {
    Template::new(attrs).unwrap()
}

impl Bench {
    pub(crate) fn pair(
        &mut self,
        m: Mechanism,
        public: Vec<Attribute>,
    ) -> (ObjectHandle, ObjectHandle) {
        self.m
            .generate_key_pair(self.a, self.s, &m, &tpl(public), &tpl(vec![]))
            .unwrap()
    }

    pub(crate) fn sign(&self, m: &Mechanism, key: ObjectHandle, data: &[u8]) -> Vec<u8> {
        self.m.sign_init(self.a, self.s, m, key).unwrap();
        self.m
            .sign(self.a, self.s, data, Some(1024))
            .unwrap()
            .into_data()
            .unwrap()
    }
}

/// A module set up with the default configuration.
pub(crate) fn setup() -> Bench {
    setup_with(ModuleConfig::default())
}
