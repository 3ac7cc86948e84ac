//! The token layer's cost: each operation through the module's API (a logged-in Crypto
//! Officer's session, keys held as session objects) next to the same operation straight on
//! strongroom-crypto. Run with `cargo bench -p strongroom-module --bench token -- --quick`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use cryptoki_sys::*;
use strongroom_crypto::{
    AesKey, Curve, EcPrivateKey, Ed25519PrivateKey, HashAlg, RsaPrivateKey, RsaSignature,
    aes_gcm_encrypt,
};
use strongroom_module::{
    AccessId, Attribute, GcmParams, Hash, InitRequest, KdfCost, Mechanism, Module, ModuleConfig,
    ObjectHandle, PartitionInitRequest, PartitionRole, PartitionSize, Secret, SessionHandle,
    Template,
};

struct Bench {
    _tmp: tempfile::TempDir,
    m: Module,
    a: AccessId,
    s: SessionHandle,
}

fn setup() -> Bench {
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
        ..ModuleConfig::default()
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
    Bench { _tmp: tmp, m, a, s }
}

fn tpl(attrs: Vec<Attribute>) -> Template {
    Template::new(attrs).unwrap()
}

impl Bench {
    fn pair(&mut self, m: Mechanism, public: Vec<Attribute>) -> (ObjectHandle, ObjectHandle) {
        self.m
            .generate_key_pair(self.a, self.s, &m, &tpl(public), &tpl(vec![]))
            .unwrap()
    }

    fn sign(&self, m: &Mechanism, key: ObjectHandle, data: &[u8]) -> Vec<u8> {
        self.m.sign_init(self.a, self.s, m, key).unwrap();
        self.m
            .sign(self.a, self.s, data, Some(1024))
            .unwrap()
            .into_data()
            .unwrap()
    }
}

fn rsa_sign(c: &mut Criterion, b: &mut Bench) {
    let (_, key) = b.pair(
        Mechanism::RsaKeyPairGen,
        vec![Attribute::from_ulong(CKA_MODULUS_BITS, 2048)],
    );
    let direct = RsaPrivateKey::generate(2048, &[1, 0, 1]).unwrap();
    let m = Mechanism::RsaPkcsHash(Hash::Sha256);
    let mut g = c.benchmark_group("rsa2048_sign_pkcs1_sha256");
    g.bench_function("module", |x| x.iter(|| b.sign(&m, key, black_box(b"msg"))));
    g.bench_function("crypto", |x| {
        x.iter(|| {
            direct
                .sign(
                    RsaSignature::Pkcs1 {
                        hash: HashAlg::Sha256,
                    },
                    black_box(b"msg"),
                )
                .unwrap()
        })
    });
    g.finish();
}

fn p256_sign(c: &mut Criterion, b: &mut Bench) {
    let p256 = [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
    let (_, key) = b.pair(
        Mechanism::EcKeyPairGen,
        vec![Attribute::new(CKA_EC_PARAMS, p256.to_vec())],
    );
    let direct = EcPrivateKey::generate(Curve::P256).unwrap();
    let m = Mechanism::EcdsaHash(Hash::Sha256);
    let mut g = c.benchmark_group("p256_sign_sha256");
    g.bench_function("module", |x| x.iter(|| b.sign(&m, key, black_box(b"msg"))));
    g.bench_function("crypto", |x| {
        x.iter(|| {
            direct
                .sign(Some(HashAlg::Sha256), black_box(b"msg"))
                .unwrap()
        })
    });
    g.finish();
}

fn ed25519_sign(c: &mut Criterion, b: &mut Bench) {
    let ed = [0x06, 0x03, 0x2B, 0x65, 0x70];
    let (_, key) = b.pair(
        Mechanism::EdwardsKeyPairGen,
        vec![Attribute::new(CKA_EC_PARAMS, ed.to_vec())],
    );
    let direct = Ed25519PrivateKey::from_seed(&[7; 32]).unwrap();
    let mut g = c.benchmark_group("ed25519_sign");
    g.bench_function("module", |x| {
        x.iter(|| b.sign(&Mechanism::EdDsa, key, black_box(b"msg")))
    });
    g.bench_function("crypto", |x| x.iter(|| direct.sign(black_box(b"msg"))));
    g.finish();
}

fn gcm_encrypt(c: &mut Criterion, b: &mut Bench) {
    let key =
        b.m.create_object(
            b.a,
            b.s,
            &tpl(vec![
                Attribute::from_ulong(CKA_CLASS, CKO_SECRET_KEY),
                Attribute::from_ulong(CKA_KEY_TYPE, CKK_AES),
                Attribute::new(CKA_VALUE, vec![9; 32]),
            ]),
        )
        .unwrap();
    let direct = AesKey::new(&[9; 32]).unwrap();
    let data = vec![0u8; 4096];
    let m = Mechanism::AesGcm(GcmParams {
        iv: vec![1; 12],
        iv_bits: 96,
        aad: vec![],
        tag_bits: 128,
    });
    let mut g = c.benchmark_group("aes256_gcm_encrypt_4KiB");
    g.throughput(criterion::Throughput::Bytes(4096));
    g.bench_function("module", |x| {
        x.iter(|| {
            b.m.encrypt_init(b.a, b.s, &m, key).unwrap();
            b.m.encrypt(b.a, b.s, black_box(&data), Some(4112)).unwrap()
        })
    });
    g.bench_function("crypto", |x| {
        let p = strongroom_crypto::GcmParams {
            iv: &[1; 12],
            aad: b"",
            tag_len: 16,
        };
        x.iter(|| aes_gcm_encrypt(&direct, &p, black_box(&data)).unwrap())
    });
    g.finish();
}

fn keygen(c: &mut Criterion, b: &mut Bench) {
    let mut g = c.benchmark_group("rsa2048_keygen");
    g.sample_size(10);
    g.bench_function("module", |x| {
        x.iter(|| {
            b.pair(
                Mechanism::RsaKeyPairGen,
                vec![Attribute::from_ulong(CKA_MODULUS_BITS, 2048)],
            )
        })
    });
    g.bench_function("crypto", |x| {
        x.iter(|| RsaPrivateKey::generate(2048, &[1, 0, 1]).unwrap())
    });
    g.finish();
    let p256 = [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
    let mut g = c.benchmark_group("p256_keygen");
    g.bench_function("module", |x| {
        x.iter(|| {
            b.pair(
                Mechanism::EcKeyPairGen,
                vec![Attribute::new(CKA_EC_PARAMS, p256.to_vec())],
            )
        })
    });
    g.bench_function("crypto", |x| {
        x.iter(|| EcPrivateKey::generate(Curve::P256).unwrap())
    });
    g.finish();
}

fn all(c: &mut Criterion) {
    let mut b = setup();
    rsa_sign(c, &mut b);
    p256_sign(c, &mut b);
    ed25519_sign(c, &mut b);
    gcm_encrypt(c, &mut b);
    keygen(c, &mut b);
}

criterion_group!(benches, all);
criterion_main!(benches);
