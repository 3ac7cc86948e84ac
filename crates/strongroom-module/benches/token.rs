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
use strongroom_module::{Attribute, GcmParams, Hash, Mechanism};

mod common;

use common::{Bench, setup, tpl};

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
