//! NIST CAVP known answers: SHS (SHA-1, SHA-2, SHA-3 byte-oriented ShortMsg/LongMsg) and
//! DRBGVS CTR_DRBG (AES-256, no derivation function). Files under `testdata/cavp/`.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{records, tamper, unhex};
use strongroom_crypto::internal::{TestCtrDrbg, drbg_with_entropy};
use strongroom_crypto::{DigestContext, Drbg, HashAlg, RESEED_INTERVAL, digest};

fn shs_file(alg: HashAlg, file: &str) -> usize {
    let mut n = 0;
    for mut r in records(&format!("cavp/shs/{file}")) {
        let l: usize = r.section["L"].parse().unwrap();
        // SHA-1/2 files give L in bytes, SHA-3 files in bits.
        assert!(
            l == alg.output_len() || l == alg.output_len() * 8,
            "{file}: L = {l}"
        );
        let bits = r.num("Len");
        assert_eq!(bits % 8, 0, "byte-oriented files only");
        let msg = r.hex("Msg");
        let msg = &msg[..bits / 8];
        let md = r.hex("MD");
        assert_eq!(digest(alg, msg), md, "{file}:{}", r.line);
        // Multi-part with a split in the middle gives the same digest.
        let mut c = DigestContext::new(alg);
        let (a, b) = msg.split_at(msg.len() / 2);
        c.update(a);
        c.update(b);
        assert_eq!(c.finish(), md);
        // Tampered message: the digest must change.
        assert_ne!(digest(alg, &tamper(msg, bits / 16)), md);
        r.done();
        n += 1;
    }
    assert!(n > 0);
    n
}

#[test]
fn cavp_shs() {
    let table = [
        (HashAlg::Sha1, "SHA1"),
        (HashAlg::Sha224, "SHA224"),
        (HashAlg::Sha256, "SHA256"),
        (HashAlg::Sha384, "SHA384"),
        (HashAlg::Sha512, "SHA512"),
        (HashAlg::Sha3_224, "SHA3_224"),
        (HashAlg::Sha3_256, "SHA3_256"),
        (HashAlg::Sha3_384, "SHA3_384"),
        (HashAlg::Sha3_512, "SHA3_512"),
    ];
    let mut total = 0;
    for (alg, name) in table {
        total += shs_file(alg, &format!("{name}ShortMsg.rsp"));
        total += shs_file(alg, &format!("{name}LongMsg.rsp"));
    }
    println!("CAVP SHS vectors: {total}");
}

fn run_drbg(
    entropy: &[u8],
    pers: &[u8],
    reseed: &[u8],
    reseed_ai: &[u8],
    ai1: &[u8],
    ai2: &[u8],
) -> Vec<u8> {
    let mut d = TestCtrDrbg::new(entropy, pers).unwrap();
    d.reseed(reseed, reseed_ai).unwrap();
    let mut out = vec![0u8; 64];
    d.generate(&mut out, ai1).unwrap();
    d.generate(&mut out, ai2).unwrap();
    out
}

#[test]
fn cavp_ctr_drbg_aes256_no_df() {
    let mut n = 0;
    for mut r in records("cavp/drbg/ctr_drbg_aes256_nodf.txt") {
        let e = r.hex("EntropyInput");
        let p = r.hex("PersonalizationString");
        let er = r.hex("EntropyInputReseed");
        let ar = r.hex("AdditionalInputReseed");
        let a1 = r.hex("AdditionalInput1");
        let a2 = r.hex("AdditionalInput2");
        let want = r.hex("ReturnedBits");
        assert_eq!(
            run_drbg(&e, &p, &er, &ar, &a1, &a2),
            want,
            "line {}",
            r.line
        );
        // Each input, tampered, changes the output.
        assert_ne!(run_drbg(&tamper(&e, 3), &p, &er, &ar, &a1, &a2), want);
        assert_ne!(run_drbg(&e, &p, &tamper(&er, 5), &ar, &a1, &a2), want);
        assert_ne!(run_drbg(&e, &p, &er, &ar, &a1, &tamper(&a2, 7)), want);
        r.done();
        n += 1;
    }
    assert_eq!(n, 16);
}

#[test]
fn drbg_reseeds_on_schedule_and_on_seed() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c2 = Arc::clone(&calls);
    let d = drbg_with_entropy(Box::new(move |buf| {
        let k = c2.fetch_add(1, Ordering::SeqCst);
        buf.fill(u8::try_from(k % 251).unwrap());
        Ok(())
    }))
    .unwrap();
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "instantiate draws entropy once"
    );
    let mut b = [0u8; 1];
    for _ in 0..RESEED_INTERVAL {
        d.fill(&mut b).unwrap();
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    d.fill(&mut b).unwrap();
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "reseeded after the interval"
    );
    assert_eq!(d.calls_since_reseed().unwrap(), 1);
    // C_SeedRandom with 256 bits: one reseed mixing the seed as additional input.
    d.seed(&[0x5a; 32]).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(d.calls_since_reseed().unwrap(), 0);
    // 100 bytes of seed: three reseeds of at most 48 bytes each.
    d.seed(&[1; 100]).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 6);
}

#[test]
fn drbg_output_differs_and_is_shared_across_threads() {
    let d = Arc::new(Drbg::new().unwrap());
    let a = d.random_vec(64).unwrap();
    let b = d.random_vec(64).unwrap();
    assert_ne!(a, b);
    let big = d.random_vec(200_000).unwrap();
    assert!(big.iter().any(|&x| x != 0));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let d = Arc::clone(&d);
            std::thread::spawn(move || d.random_vec(32).unwrap())
        })
        .collect();
    let outs: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for i in 0..outs.len() {
        for j in i + 1..outs.len() {
            assert_ne!(outs[i], outs[j]);
        }
    }
    assert_eq!(unhex("00ff"), vec![0, 255]);
}
