//! The audit log end to end in the module: a real log from real operations, the four attacks,
//! cross-module verification, the Auditor's lockout, LOG FULL, separation of roles.

mod common;

use common::token::{Part, aes, part, tpl};
use common::{config, err_code, fresh_with, initialized, initialized_with, secret};
use strongroom_module::{
    AccessId, AuditConfigChange, EventFilter, Mechanism, ModuleConfig, PartitionRole,
    PartitionSize, RetCode,
};
use strongroom_proto::ret;

const AU_PW: &str = "Auditor-pass-1";
const AU_DOMAIN: &str = "audit domain one";

fn auditor(hsm: &mut strongroom_module::Module, filter: &str) -> AccessId {
    hsm.auditor_init(&secret(AU_PW), &secret(AU_DOMAIN))
        .expect("audit init");
    let au = hsm.open_access();
    hsm.auditor_login(au, &secret(AU_PW)).expect("audit login");
    hsm.audit_config_set(
        au,
        AuditConfigChange::Event(EventFilter::parse(filter).expect("filter")),
    )
    .expect("audit config");
    au
}

fn lines(hsm: &strongroom_module::Module) -> Vec<Vec<u8>> {
    hsm.audit_pending(usize::MAX)
        .expect("pending")
        .into_iter()
        .map(|(_, l)| l)
        .collect()
}

fn texts(hsm: &strongroom_module::Module) -> Vec<String> {
    lines(hsm)
        .iter()
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect()
}

/// Some real work: a key, encryptions, a policy change, a partition.
fn work(p: &mut Part) {
    let (a, s) = p.rw(Some(PartitionRole::CryptoOfficer));
    let key = p.create(a, s, aes(&[0x11; 32], true));
    for _ in 0..3 {
        p.encrypt(a, s, &Mechanism::AesEcb, key, &[0u8; 16]);
    }
    let so = p.so;
    p.hsm.change_policy(so, 49, 1).expect("policy");
    p.hsm
        .partition_create(so, "second", PartitionSize::Bytes(10_000), 0)
        .expect("create");
}

fn verify_err(hsm: &strongroom_module::Module, au: AccessId, log: &[u8], in_place: bool) -> String {
    let err = hsm
        .audit_verify(au, log, None, in_place)
        .expect_err("the log must fail verification");
    assert_eq!(err.code(), ret::SR_RET_LOG_BAD_RECORD_HMAC, "{err}");
    err.message().to_owned()
}

#[test]
fn a_real_log_verifies_and_each_attack_is_detected_and_located() {
    let mut p = part();
    let au = auditor(&mut p.hsm, "all");
    work(&mut p);
    let all = lines(&p.hsm);
    assert!(all.len() > 10, "{}", all.len());
    let texts = texts(&p.hsm);
    for needle in [
        "operation SR_LOGIN returned RC_OK(0x00000000) roleID=0",
        "operation SR_OPEN_SESSION",
        "operation SR_CREATE_OBJECT",
        "operation SR_ENCRYPT_INIT",
        "operation SR_SET_HSM_POLICY returned RC_OK(0x00000000) policy=49 value=1",
        "operation SR_CREATE_CONTAINER",
        "operation SR_LOG_SET_CONFIG",
    ] {
        assert!(texts.iter().any(|t| t.contains(needle)), "{needle} missing");
    }
    let first: u32 = texts[0][..10].trim().parse().expect("seq");
    let seq = |i: usize| first + u32::try_from(i).expect("small");
    // Untouched: verifies (against the newest HMAC or the record that follows).
    let report = p
        .hsm
        .audit_verify(au, &all.concat(), None, true)
        .expect("verifies");
    assert_eq!(report.verified, all.len() as u64);
    assert!(report.tail_checked);

    // Modify one byte of record 4.
    let mut m = all.clone();
    m[3][60] ^= 0x01;
    let msg = verify_err(&p.hsm, au, &m.concat(), true);
    assert!(msg.contains(&format!("record {}", seq(3))), "{msg}");

    // Delete record 6.
    let mut d = all.clone();
    d.remove(5);
    let msg = verify_err(&p.hsm, au, &d.concat(), true);
    assert!(msg.contains(&format!("record {}", seq(5))), "{msg}");

    // Insert a forged record made with another secret in place of record 8.
    let mut f = all.clone();
    let mut forged = f[7].clone();
    forged[40] = if forged[40] == b'X' { b'Y' } else { b'X' };
    f[7] = forged;
    let msg = verify_err(&p.hsm, au, &f.concat(), true);
    assert!(msg.contains(&format!("record {}", seq(7))), "{msg}");

    // Truncate: the newest records leave the module (rotated out), then the file loses its
    // last two.
    let head = p.hsm.audit_pending(usize::MAX).expect("pending");
    let last = head.last().expect("records").0;
    p.hsm.audit_release(last).expect("release");
    let mut t = all.clone();
    let cut = t.len() - 2;
    t.truncate(cut);
    let msg = verify_err(&p.hsm, au, &t.concat(), true);
    assert!(msg.contains(&format!("record {}", seq(cut))), "{msg}");
    assert!(msg.contains("truncated"), "{msg}");
    // The whole log still verifies after the records left the module, against the record
    // that follows it (the first record of the next file).
    let next = &head[all.len()].1;
    p.hsm
        .audit_verify(au, &all.concat(), Some(next), true)
        .expect("verifies");
    // A wrong successor (from another position) does not help a truncated log.
    assert!(
        p.hsm
            .audit_verify(au, &t.concat(), Some(next), true)
            .is_err()
    );
}

#[test]
fn unconditional_events_are_recorded_without_an_auditor() {
    let mut hsm = initialized();
    let id = hsm.login();
    hsm.partition_create(id, "p", PartitionSize::Default, 0)
        .expect("create");
    hsm.zeroize().expect("zeroize");
    let au = auditor(&mut hsm, "none");
    let t = texts(&hsm);
    let ops: Vec<&str> = t.iter().map(|l| &l[29..285]).collect();
    assert!(
        ops.iter()
            .any(|m| m.contains("operation SR_INIT_TOKEN returned RC_OK")),
        "{ops:?}"
    );
    assert!(
        ops.iter()
            .any(|m| m.contains("operation SR_ZEROIZE returned RC_OK")),
        "{ops:?}"
    );
    assert!(
        ops.iter()
            .any(|m| m.contains("operation SR_CREATE_AUDIT_CONTAINER")),
        "{ops:?}"
    );
    // Nothing else: partition creation is not configured.
    assert!(
        !ops.iter().any(|m| m.contains("SR_CREATE_CONTAINER ")),
        "{ops:?}"
    );
    hsm.audit_verify(au, &lines(&hsm).concat(), None, true)
        .expect("verifies");
}

#[test]
fn unconfigured_categories_record_nothing() {
    let mut p = part();
    let _au = auditor(&mut p.hsm, "manage");
    let before = lines(&p.hsm).len();
    let (a, s) = p.rw(Some(PartitionRole::CryptoOfficer));
    let key = p.create(a, s, aes(&[0x11; 32], false));
    p.encrypt(a, s, &Mechanism::AesEcb, key, &[0u8; 16]);
    assert_eq!(lines(&p.hsm).len(), before);
}

#[test]
fn records_made_at_once_by_many_threads_form_one_unbroken_chain() {
    const THREADS: usize = 8;
    const EACH: usize = 40;
    let mut p = part();
    let au = auditor(&mut p.hsm, "symmetric");
    let (a, s0) = p.rw(Some(PartitionRole::CryptoOfficer));
    let key = p.create(a, s0, aes(&[0x33; 32], true));
    let sessions: Vec<_> = (0..THREADS)
        .map(|_| p.hsm.open_session(a, p.serial, false).expect("session"))
        .collect();
    let before = lines(&p.hsm).len();
    let hsm: &strongroom_module::Module = &p.hsm;
    std::thread::scope(|scope| {
        for &s in &sessions {
            scope.spawn(move || {
                for _ in 0..EACH {
                    hsm.encrypt_init(a, s, &Mechanism::AesEcb, key)
                        .expect("encrypt init");
                    hsm.encrypt(a, s, &[0u8; 16], Some(16)).expect("encrypt");
                }
            });
        }
    });
    // Every call's record is there, once, in one unbroken chain.
    let all = lines(&p.hsm);
    let made = all[before..]
        .iter()
        .filter(|l| String::from_utf8_lossy(l).contains("SR_ENCRYPT_INIT"))
        .count();
    assert_eq!(made, THREADS * EACH);
    let log: Vec<u8> = all.concat();
    let report = p
        .hsm
        .audit_verify(au, &log, None, true)
        .expect("the chain verifies");
    assert_eq!(report.verified, all.len() as u64);
    assert!(report.tail_checked);
}

#[test]
fn first_use_records_each_key_once() {
    let mut p = part();
    let _au = auditor(&mut p.hsm, "symfirst");
    let (a, s) = p.rw(Some(PartitionRole::CryptoOfficer));
    let k1 = p.create(a, s, aes(&[0x11; 32], false));
    let k2 = p.create(a, s, aes(&[0x22; 32], false));
    for _ in 0..3 {
        p.encrypt(a, s, &Mechanism::AesEcb, k1, &[0u8; 16]);
        p.encrypt(a, s, &Mechanism::AesEcb, k2, &[0u8; 16]);
    }
    let n = texts(&p.hsm)
        .iter()
        .filter(|t| t.contains("SR_ENCRYPT_INIT"))
        .count();
    assert_eq!(n, 2);
}

#[test]
fn a_secret_verifies_on_another_module_of_the_same_domain_only() {
    let mut a = part();
    let au_a = auditor(&mut a.hsm, "all");
    work(&mut a);
    let log_a = lines(&a.hsm).concat();
    let (serial_a, file) = a.hsm.audit_export_secret(au_a).expect("export");
    assert_eq!(serial_a, a.hsm.serial());

    let mut b = initialized();
    let au_b = auditor(&mut b, "all");
    // Before the import, B cannot verify A's log.
    assert_eq!(
        err_code(b.audit_verify(au_b, &log_a, None, false)),
        ret::SR_RET_LOG_BAD_RECORD_HMAC
    );
    let sb = b.serial();
    assert_eq!(
        err_code(b.audit_import_secret(au_b, sb + 1, serial_a, &file)),
        ret::SR_RET_ARGUMENTS_BAD,
        "the target must be this module"
    );
    b.audit_import_secret(au_b, sb, serial_a, &file)
        .expect("import");
    b.audit_verify(au_b, &log_a, None, false)
        .expect("A's log verifies on B");
    // B now verifies with A's secret: its own log fails until it re-imports its own secret.
    let own = lines(&b).concat();
    assert_eq!(
        err_code(b.audit_verify(au_b, &own, None, true)),
        ret::SR_RET_LOG_BAD_RECORD_HMAC
    );
    let (_, own_file) = b.audit_export_secret(au_b).expect("export own");
    b.audit_import_secret(au_b, sb, sb, &own_file)
        .expect("re-import own");
    b.audit_verify(au_b, &lines(&b).concat(), None, true)
        .expect("own log verifies");

    // Another audit domain: refused by the checksum.
    let mut c = initialized();
    c.auditor_init(&secret(AU_PW), &secret("another audit domain"))
        .expect("init");
    let au_c = c.open_access();
    c.auditor_login(au_c, &secret(AU_PW)).expect("login");
    let sc = c.serial();
    let err = c
        .audit_import_secret(au_c, sc, serial_a, &file)
        .expect_err("other domain");
    assert_eq!(err.code(), ret::SR_RET_LOG_NO_KCV, "{err}");
    // A file that is not a secret.
    assert_eq!(
        err_code(c.audit_import_secret(au_c, sc, serial_a, b"junk")),
        ret::SR_RET_DATA_INVALID
    );
}

#[test]
fn three_bad_auditor_logins_lock_it_for_30_seconds_without_harming_the_module() {
    let mut hsm = initialized();
    hsm.auditor_init(&secret(AU_PW), &secret(AU_DOMAIN))
        .expect("init");
    let au = hsm.open_access();
    let bad = secret("Wrong-pass-99");
    assert_eq!(
        err_code(hsm.auditor_login(au, &bad)),
        ret::SR_RET_UM_PIN_INCORRECT
    );
    assert_eq!(
        err_code(hsm.auditor_login(au, &bad)),
        ret::SR_RET_UM_PIN_INCORRECT
    );
    assert_eq!(
        err_code(hsm.auditor_login(au, &bad)),
        ret::SR_RET_AUDIT_LOGIN_FAILURE_THRESHOLD
    );
    assert_eq!(
        err_code(hsm.auditor_login(au, &secret(AU_PW))),
        ret::SR_RET_AUDIT_LOGIN_TIMEOUT_IN_PROGRESS
    );
    // The module is unaffected: initialized, the HSM SO logs in.
    assert!(hsm.is_initialized());
    let so = hsm.open_access();
    hsm.so_login(so, &secret(common::SO_PASSWORD))
        .expect("SO login");
    // The lockout survives a restart.
    let mut hsm = hsm.reopen();
    let au = hsm.open_access();
    assert_eq!(
        err_code(hsm.auditor_login(au, &secret(AU_PW))),
        ret::SR_RET_AUDIT_LOGIN_TIMEOUT_IN_PROGRESS
    );
    hsm.danger_skew_clock(strongroom_module::AUDITOR_LOCKOUT_SECS + 1);
    hsm.auditor_login(au, &secret(AU_PW))
        .expect("login after the lockout");
}

#[test]
fn roles_are_separated() {
    let mut hsm = initialized();
    hsm.auditor_init(&secret(AU_PW), &secret(AU_DOMAIN))
        .expect("init");
    let so = hsm.login();
    // The HSM SO cannot configure the log nor log in as Auditor on the same access.
    assert_eq!(
        err_code(hsm.audit_config_set(so, AuditConfigChange::Event(EventFilter::NONE))),
        ret::SR_RET_USER_NOT_LOGGED_IN
    );
    assert_eq!(
        err_code(hsm.auditor_login(so, &secret(AU_PW))),
        ret::SR_RET_SM_OTHER_USER_LOGGED_IN
    );
    assert_eq!(
        err_code(hsm.audit_export_secret(so)),
        ret::SR_RET_USER_NOT_LOGGED_IN
    );
    // The Auditor cannot administer.
    let au = hsm.open_access();
    hsm.auditor_login(au, &secret(AU_PW)).expect("login");
    assert_eq!(
        err_code(hsm.partition_create(au, "x", PartitionSize::Default, 0)),
        ret::SR_RET_USER_NOT_LOGGED_IN
    );
    assert_eq!(
        err_code(hsm.so_login(au, &secret(common::SO_PASSWORD))),
        ret::SR_RET_SM_OTHER_USER_LOGGED_IN
    );
    // A second audit init is refused.
    assert_eq!(
        err_code(hsm.auditor_init(&secret(AU_PW), &secret(AU_DOMAIN))),
        ret::SR_RET_OPERATION_RESTRICTED
    );
}

#[test]
fn log_full_stops_everything_but_the_auditor_until_space_is_freed() {
    let cfg = ModuleConfig {
        audit_capacity: 12,
        ..config()
    };
    let mut p = common::token::part_with(initialized_with(cfg), &[], PartitionSize::Default);
    let au = auditor(&mut p.hsm, "all");
    let (a, s) = p.rw(Some(PartitionRole::CryptoOfficer));
    let mut ok = 0usize;
    let code: RetCode = loop {
        match p.hsm.generate_random(a, s, 8) {
            Ok(_) => ok += 1,
            Err(err) => break err.code(),
        }
        assert!(ok < 100, "the log never filled");
    };
    assert_eq!(code, ret::SR_RET_LOG_FULL);
    assert!(p.hsm.audit_log_full());
    // Every successful operation has its record.
    let recorded = texts(&p.hsm)
        .iter()
        .filter(|t| t.contains("SR_GET_RANDOM returned RC_OK"))
        .count();
    assert_eq!(recorded, ok);
    // Everything else stops with the log-full code.
    assert_eq!(
        err_code(p.hsm.generate_random(a, s, 8)),
        ret::SR_RET_LOG_FULL
    );
    assert_eq!(
        err_code(p.hsm.create_object(a, s, &tpl(aes(&[1; 16], false)))),
        ret::SR_RET_LOG_FULL
    );
    let so = p.so;
    assert_eq!(
        err_code(
            p.hsm
                .partition_create(so, "x", PartitionSize::Bytes(1000), 0)
        ),
        ret::SR_RET_LOG_FULL
    );
    assert_eq!(
        err_code(p.hsm.change_policy(so, 49, 1)),
        ret::SR_RET_LOG_FULL
    );
    // The Auditor logs in and configures.
    let au2 = p.hsm.open_access();
    p.hsm
        .auditor_login(au2, &secret(AU_PW))
        .expect("auditor login");
    p.hsm
        .audit_config_set(au, AuditConfigChange::RotationSize(1_000_000))
        .expect("config");
    // The records move out (the appliance wrote them): service resumes.
    let last = p
        .hsm
        .audit_pending(usize::MAX)
        .expect("pending")
        .last()
        .expect("some")
        .0;
    p.hsm.audit_release(last).expect("release");
    assert!(!p.hsm.audit_log_full());
    p.hsm.generate_random(a, s, 8).expect("works again");
}

#[test]
fn records_survive_zeroize_decommission_and_factory_reset_and_the_chain_continues() {
    let cfg = config();
    let (mut hsm, strings) = fresh_with(cfg);
    let id = hsm.open_access();
    let _ = strings;
    hsm.stm_recover(id).expect("recover");
    hsm.init(
        id,
        common::hard_init("a", common::SO_PASSWORD, common::DOMAIN),
    )
    .expect("init");
    hsm.decommission().expect("decommission");
    hsm.factory_reset().expect("factory reset");
    let au = auditor(&mut hsm, "none");
    let t = texts(&hsm);
    let msgs: Vec<&str> = t.iter().map(|l| &l[29..285]).collect();
    for op in [
        "SR_INIT_TOKEN",
        "SR_DECOMMISSION",
        "SR_ZEROIZE",
        "SR_CREATE_AUDIT_CONTAINER",
    ] {
        assert!(msgs.iter().any(|m| m.contains(op)), "{op}: {msgs:?}");
    }
    let seqs: Vec<u32> = t
        .iter()
        .map(|l| l[..10].trim().parse().expect("seq"))
        .collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    assert_eq!(seqs[0], 1);
    hsm.audit_verify(au, &lines(&hsm).concat(), None, true)
        .expect("verifies");
    // And after a restart.
    let mut hsm = hsm.reopen();
    let au = hsm.open_access();
    hsm.auditor_login(au, &secret(AU_PW)).expect("login");
    hsm.audit_verify(au, &lines(&hsm).concat(), None, true)
        .expect("verifies");
}
