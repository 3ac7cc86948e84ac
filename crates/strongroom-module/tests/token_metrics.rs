//! Partition utilization metrics (catalog MO-20..MO-26) and the busy time behind
//! `hsm information` (MO-10..MO-12).

mod common;

use common::token::*;
use cryptoki_sys::*;
use strongroom_module::{Hash, Mechanism, MetricCounts, ObjectHandle};
use strongroom_proto::ret;

#[test]
fn metrics_need_policy_49_and_the_so_unless_policy_58() {
    let mut p = part();
    let so = p.so;
    assert_eq!(
        code(p.hsm.metrics_show(so)),
        ret::SR_RET_OPERATION_RESTRICTED
    );
    // Requests made while policy 49 is off count nowhere.
    let (a, s) = p.rw(Some(CO));
    let key = p.create(a, s, aes(&[1; 16], false));
    p.sign(a, s, &Mechanism::AesCmac, key, b"m");
    p.hsm.change_policy(so, 49, 1).unwrap();
    let report = p.hsm.metrics_show(so).unwrap();
    assert_eq!(report.total, MetricCounts::default());
    // Without policy 58 the HSM SO must be logged in.
    let nobody = p.hsm.open_access();
    assert_eq!(
        code(p.hsm.metrics_show(nobody)),
        ret::SR_RET_USER_NOT_LOGGED_IN
    );
    assert_eq!(
        code(p.hsm.metrics_reset(nobody)),
        ret::SR_RET_USER_NOT_LOGGED_IN
    );
    p.hsm.change_policy(so, 58, 1).unwrap();
    p.hsm.metrics_show(nobody).unwrap();
}

#[test]
fn requests_are_counted_per_bin_failed_ones_too() {
    let mut p = part_policies(&[(49, 1)]);
    let so = p.so;
    let (a, s) = p.rw(Some(CO));
    let key = p.create(a, s, aes(&[1; 16], false));
    let hmac = p.create(
        a,
        s,
        vec![
            u(CKA_CLASS, CKO_SECRET_KEY),
            u(CKA_KEY_TYPE, CKK_GENERIC_SECRET),
            raw(CKA_VALUE, &[2; 32]),
            b(CKA_DERIVE, true),
        ],
    );
    let mac = p.sign(a, s, &Mechanism::AesCmac, key, b"m");
    // A request refused in the module (a bad key handle) is a request all the same.
    assert!(
        p.hsm
            .sign_init(a, s, &Mechanism::AesCmac, ObjectHandle::from_value(999))
            .is_err()
    );
    p.hsm.verify_init(a, s, &Mechanism::AesCmac, key).unwrap();
    p.hsm.verify(a, s, b"m", &mac).unwrap();
    let ct = p.encrypt(a, s, &Mechanism::AesEcb, key, &[0; 16]);
    p.decrypt(a, s, &Mechanism::AesEcb, key, &ct);
    p.decrypt(a, s, &Mechanism::AesEcb, key, &ct);
    p.hsm
        .generate_key(a, s, &Mechanism::AesKeyGen, &tpl(aes_gen(16, false)))
        .unwrap();
    pair(
        &mut p,
        a,
        s,
        Mechanism::EdwardsKeyPairGen,
        vec![raw(CKA_EC_PARAMS, ED25519)],
        vec![],
    );
    p.hsm
        .derive_key(
            a,
            s,
            &Mechanism::HkdfDerive(strongroom_module::HkdfParams {
                extract: true,
                expand: true,
                prf: Hash::Sha256,
                salt: strongroom_module::HkdfSalt::Null,
                info: vec![],
            }),
            hmac,
            &tpl(vec![u(CKA_VALUE_LEN, 32)]),
        )
        .unwrap();
    // Digests and random numbers count nowhere.
    p.hsm
        .digest_init(a, s, &Mechanism::Digest(Hash::Sha1))
        .unwrap();
    p.hsm.generate_random(a, s, 8).unwrap();

    let expected = MetricCounts {
        sign: 2,
        verify: 1,
        encrypt: 1,
        decrypt: 2,
        key_generate: 2,
        key_derive: 1,
    };
    let report = p.hsm.metrics_show(so).unwrap();
    assert_eq!(report.partitions.len(), 1);
    assert_eq!(report.partitions[0].serial, p.serial);
    assert_eq!(report.partitions[0].name, "tok");
    assert_eq!(report.partitions[0].counts, expected);
    assert_eq!(report.total, expected);
    // Show does not reset; reset hands back what it zeroed.
    assert_eq!(p.hsm.metrics_show(so).unwrap().total, expected);
    assert_eq!(p.hsm.metrics_reset(so).unwrap().total, expected);
    assert_eq!(
        p.hsm.metrics_show(so).unwrap().total,
        MetricCounts::default()
    );
    // Volatile: a restart of the module, or `hsm restart`, starts from zero.
    p.sign(a, s, &Mechanism::AesCmac, key, b"m");
    assert_eq!(p.hsm.metrics_show(so).unwrap().total.sign, 1);
    p.hsm.restart().unwrap();
    let so = p.hsm.login();
    assert_eq!(
        p.hsm.metrics_show(so).unwrap().total,
        MetricCounts::default()
    );
}

#[test]
fn busy_time_grows_with_work_and_never_exceeds_up_time() {
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    let before = p.hsm.busy_time();
    let (_, private) = pair(
        &mut p,
        a,
        s,
        Mechanism::RsaKeyPairGen,
        vec![u(CKA_MODULUS_BITS, 2048)],
        vec![],
    );
    for _ in 0..20 {
        p.sign(
            a,
            s,
            &Mechanism::RsaPkcsHash(Hash::Sha256),
            private,
            b"load",
        );
    }
    let after = p.hsm.busy_time();
    assert!(after.busy > before.busy);
    assert!(after.up > before.up);
    assert!(after.busy <= after.up);
    // An idle interval adds up time, not busy time.
    std::thread::sleep(std::time::Duration::from_millis(30));
    let idle = p.hsm.busy_time();
    assert_eq!(idle.busy, after.busy);
    assert!(idle.up >= after.up + std::time::Duration::from_millis(30));
}
