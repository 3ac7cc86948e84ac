//! Wrapper overhead: each operation through strongroom-crypto next to the same operation
//! called directly on aws-lc-rs.

use aws_lc_rs::signature::KeyPair as _;
use aws_lc_rs::{aead, rand::SystemRandom, signature};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use strongroom_crypto::{
    AesKey, Curve, EcPrivateKey, Ed25519PrivateKey, GcmParams, HashAlg, RsaPrivateKey,
    RsaSignature, aes_gcm_encrypt,
};

fn rsa(c: &mut Criterion) {
    let ours = RsaPrivateKey::generate(2048, &[1, 0, 1]).unwrap();
    let direct = aws_lc_rs::rsa::KeyPair::from_pkcs8(&ours.to_pkcs8()).unwrap();
    let rng = SystemRandom::new();
    let mut g = c.benchmark_group("rsa2048_sign_pkcs1_sha256");
    g.bench_function("strongroom", |b| {
        b.iter(|| {
            ours.sign(
                RsaSignature::Pkcs1 {
                    hash: HashAlg::Sha256,
                },
                black_box(b"msg"),
            )
            .unwrap()
        })
    });
    g.bench_function("aws-lc-rs", |b| {
        b.iter(|| {
            let mut sig = vec![0u8; direct.public_modulus_len()];
            direct
                .sign(
                    &signature::RSA_PKCS1_SHA256,
                    &rng,
                    black_box(b"msg"),
                    &mut sig,
                )
                .unwrap();
            sig
        })
    });
    g.finish();
}

fn p256(c: &mut Criterion) {
    let ours = EcPrivateKey::generate(Curve::P256).unwrap();
    let direct = signature::EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &ours.to_pkcs8().unwrap(),
    )
    .unwrap();
    let rng = SystemRandom::new();
    let mut g = c.benchmark_group("p256_sign_sha256");
    g.bench_function("strongroom", |b| {
        b.iter(|| ours.sign(Some(HashAlg::Sha256), black_box(b"msg")).unwrap())
    });
    g.bench_function("aws-lc-rs", |b| {
        b.iter(|| direct.sign(&rng, black_box(b"msg")).unwrap())
    });
    g.finish();
}

fn ed25519(c: &mut Criterion) {
    let ours = Ed25519PrivateKey::from_seed(&[7; 32]).unwrap();
    let direct = signature::Ed25519KeyPair::from_seed_unchecked(&[7; 32]).unwrap();
    assert_eq!(direct.public_key().as_ref(), &ours.public_key()[..]);
    let mut g = c.benchmark_group("ed25519_sign");
    g.bench_function("strongroom", |b| b.iter(|| ours.sign(black_box(b"msg"))));
    g.bench_function("aws-lc-rs", |b| b.iter(|| direct.sign(black_box(b"msg"))));
    g.finish();
}

fn gcm(c: &mut Criterion) {
    let key_bytes = [9u8; 32];
    let ours = AesKey::new(&key_bytes).unwrap();
    let data = vec![0u8; 4096];
    let iv = [1u8; 12];
    let mut g = c.benchmark_group("aes256_gcm_encrypt_4KiB");
    g.throughput(criterion::Throughput::Bytes(4096));
    g.bench_function("strongroom", |b| {
        let p = GcmParams {
            iv: &iv,
            aad: b"",
            tag_len: 16,
        };
        b.iter(|| aes_gcm_encrypt(&ours, &p, black_box(&data)).unwrap())
    });
    g.bench_function("aws-lc-rs", |b| {
        b.iter(|| {
            let k = aead::LessSafeKey::new(
                aead::UnboundKey::new(&aead::AES_256_GCM, &key_bytes).unwrap(),
            );
            let mut buf = black_box(&data).clone();
            k.seal_in_place_append_tag(
                aead::Nonce::assume_unique_for_key(iv),
                aead::Aad::empty(),
                &mut buf,
            )
            .unwrap();
            buf
        })
    });
    g.finish();
}

criterion_group!(benches, rsa, p256, ed25519, gcm);
criterion_main!(benches);
