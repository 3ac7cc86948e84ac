//! Stored data integrity at module level (catalog LC-27, LC-60, LC-61): nothing secret or
//! identifying is stored in clear, and damage to the stored files is either harmless or halts
//! the module, which only a factory reset recovers.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use common::{Hsm, data_dir, err_code, hard_init, recovered, secret, soft_init};
use strongroom_module::{HsmStatus, Module, ModuleConfig, PartitionSize, Policies, TamperKind};
use strongroom_proto::ret;
use tempfile::TempDir;

const SO_PASSWORD: &str = "Zephyr-SO-Secret-8812";
const DOMAIN: &str = "Marmoset domain 4471";
const LABEL: &str = "Label_Pelican_93";
const PARTITION: &str = "Partition Heron 57";
const AUDITOR_PASSWORD: &str = "Kestrel-Audit-Secret-3306";
const AUDITOR_DOMAIN: &str = "Wombat audit domain 2290";

/// What the module held when it was closed.
#[derive(Debug, PartialEq)]
struct State {
    label: Option<String>,
    partitions: Vec<(u64, String, u64)>,
    policies: Policies,
    auditor: bool,
}

fn state(hsm: &mut Module) -> State {
    let id = hsm.open_access();
    let label = hsm.info(id).label;
    hsm.close_access(id);
    State {
        label,
        partitions: hsm
            .partition_list()
            .expect("list")
            .into_iter()
            .map(|p| (p.serial, p.name, p.total))
            .collect(),
        policies: hsm.policies().clone(),
        auditor: hsm.auditor_initialized(),
    }
}

/// A closed module with distinctive credentials, a partition, an Auditor and a changed policy.
fn populated() -> (TempDir, ModuleConfig, State) {
    let mut hsm: Hsm = recovered();
    let id = hsm.open_access();
    hsm.auditor_init(&secret(AUDITOR_PASSWORD), &secret(AUDITOR_DOMAIN))
        .expect("auditor");
    hsm.init(id, hard_init(LABEL, SO_PASSWORD, DOMAIN))
        .expect("init");
    let so = hsm.login_with(SO_PASSWORD);
    hsm.change_policy(so, 49, 1).expect("policy 49");
    hsm.create(so, PARTITION, PartitionSize::Bytes(77_777));
    hsm.create(so, "second", PartitionSize::Default);
    let state = state(&mut hsm);
    let (tmp, config) = hsm.close();
    (tmp, config, state)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        if entry.file_type().expect("type").is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn nothing_identifying_is_stored_in_clear() {
    let (tmp, _, _) = populated();
    let dir = data_dir(&tmp);
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).expect("read dir") {
        let path = entry.expect("entry").path();
        let bytes = std::fs::read(&path).expect("read");
        files += 1;
        for needle in [
            SO_PASSWORD,
            DOMAIN,
            LABEL,
            PARTITION,
            AUDITOR_PASSWORD,
            AUDITOR_DOMAIN,
        ] {
            assert!(
                !contains(&bytes, needle.as_bytes()),
                "{needle:?} is stored in clear in {}",
                path.display()
            );
            // UTF-16 would hide it from a byte search; look for that too.
            let wide: Vec<u8> = needle.encode_utf16().flat_map(u16::to_le_bytes).collect();
            assert!(
                !contains(&bytes, &wide),
                "{needle:?} (UTF-16) in {}",
                path.display()
            );
        }
    }
    assert!(files >= 2, "at least the database and the key file");
}

/// Silences the panic messages of the storage engine, which panics on some shapes of damaged
/// file; the store catches those panics and reports an integrity failure. Any other panic is
/// reported as usual.
fn quiet_engine_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_engine = info.location().is_some_and(|l| l.file().contains("/redb-"));
            if !in_engine {
                previous(info);
            }
        }));
    });
}

/// Offsets of `db` to damage: a stride over the whole file, the first page (the engine's header
/// and commit slots) densely, and a sample of every non-zero region (live and freed pages).
fn offsets(db: &[u8]) -> Vec<usize> {
    let mut set = std::collections::BTreeSet::new();
    set.extend((0..db.len()).step_by((db.len() / 256).max(1)));
    set.extend(0..512.min(db.len()));
    set.extend((512..4096.min(db.len())).step_by(16));
    let non_zero: Vec<usize> = (0..db.len()).filter(|&i| db[i] != 0).collect();
    set.extend(non_zero.iter().step_by(97));
    set.into_iter().collect()
}

/// What opening a damaged copy gave.
enum Outcome {
    Unchanged,
    Halted(Box<Module>),
}

/// Replaces the files of `work` with those of `original`, flips one byte of the database at
/// `offset`, and opens the module there. Panics on any outcome other than "exactly the
/// original state" or "halted".
fn open_flipped(
    original: &Path,
    db: &[u8],
    offset: usize,
    work: &Path,
    config: &ModuleConfig,
    expected: &State,
) -> Outcome {
    if work.exists() {
        std::fs::remove_dir_all(work).expect("clear work dir");
    }
    copy_dir(original, work);
    let mut bytes = db.to_vec();
    bytes[offset] ^= 0x5a;
    std::fs::write(work.join("store.redb"), &bytes).expect("write damaged db");
    let opened = catch_unwind(AssertUnwindSafe(|| Module::open(work, config.clone())))
        .unwrap_or_else(|_| panic!("offset {offset}: opening a damaged store panicked"));
    let (mut module, strings) = opened
        .unwrap_or_else(|err| panic!("offset {offset}: open failed instead of halting: {err}"));
    assert!(
        strings.is_none(),
        "offset {offset}: an existing module must not look new"
    );
    match module.status() {
        HsmStatus::IntegrityHalt => {
            assert!(module.integrity_failure().is_some());
            Outcome::Halted(Box::new(module))
        }
        HsmStatus::Ok => {
            assert_eq!(
                &state(&mut module),
                expected,
                "offset {offset}: a different state"
            );
            Outcome::Unchanged
        }
        other => panic!("offset {offset}: unexpected status {other:?}"),
    }
}

#[test]
fn a_damaged_database_opens_unchanged_or_halts() {
    quiet_engine_panics();
    let (tmp, config, original) = populated();
    let dir = data_dir(&tmp);
    let db = std::fs::read(dir.join("store.redb")).expect("read db");
    let work_tmp = TempDir::new().expect("temp dir");
    let work = work_tmp.path().join("module");
    let (mut unchanged, mut halted) = (0, 0);
    for offset in offsets(&db) {
        match open_flipped(&dir, &db, offset, &work, &config, &original) {
            Outcome::Unchanged => unchanged += 1,
            Outcome::Halted(mut module) => {
                halted += 1;
                // Spot checks on every halt; the full list is in the next test.
                let id = module.open_access();
                assert_eq!(
                    err_code(module.so_login(id, &secret(SO_PASSWORD))),
                    ret::SR_RET_SDI_HALTED
                );
                assert!(module.partition_list().expect("list").is_empty());
            }
        }
    }
    eprintln!(
        "{} bytes of database: {unchanged} flips harmless, {halted} halted",
        db.len()
    );
    assert!(halted > 0, "the scan must reach live data");
    assert!(unchanged > 0, "flips in unused space must be harmless");
}

/// The first damage found that halts the module.
fn halted_copy() -> (TempDir, ModuleConfig, u64, Module) {
    quiet_engine_panics();
    let (tmp, config, original) = populated();
    let dir = data_dir(&tmp);
    let serial: u64 = std::fs::read_to_string(dir.join("module-serial"))
        .expect("serial file")
        .lines()
        .next()
        .expect("serial line")
        .trim()
        .parse()
        .expect("serial");
    let db = std::fs::read(dir.join("store.redb")).expect("read db");
    let work_tmp = TempDir::new().expect("temp dir");
    let work = data_dir(&work_tmp);
    for offset in offsets(&db).into_iter().rev() {
        if let Outcome::Halted(module) = open_flipped(&dir, &db, offset, &work, &config, &original)
        {
            return (work_tmp, config, serial, *module);
        }
    }
    panic!("no damage halted the module");
}

#[test]
fn a_halted_module_refuses_everything_but_status_and_factory_reset_recovers() {
    let (tmp, config, serial, mut hsm) = halted_copy();
    assert_eq!(hsm.status(), HsmStatus::IntegrityHalt);
    assert_eq!(hsm.serial(), serial);
    let id = hsm.open_access();
    let info = hsm.info(id);
    assert_eq!(info.status, HsmStatus::IntegrityHalt);
    assert_eq!(info.label, None);

    // Status works.
    assert!(hsm.partition_list().expect("list").is_empty());
    assert!(hsm.show_policies().is_ok());
    let _ = hsm.tamper_report();

    // Everything else is refused with SR_RET_SDI_HALTED.
    let halted = ret::SR_RET_SDI_HALTED;
    assert_eq!(err_code(hsm.so_login(id, &secret(SO_PASSWORD))), halted);
    assert_eq!(
        err_code(hsm.init(id, hard_init("again", SO_PASSWORD, DOMAIN))),
        halted
    );
    assert_eq!(
        err_code(hsm.init(id, soft_init("again", SO_PASSWORD))),
        halted
    );
    assert_eq!(
        err_code(hsm.partition_create(id, "p", PartitionSize::Default, 0)),
        halted
    );
    assert_eq!(err_code(hsm.partition_delete(id, PARTITION)), halted);
    assert_eq!(
        err_code(hsm.partition_resize(id, PARTITION, PartitionSize::Bytes(1))),
        halted
    );
    assert_eq!(err_code(hsm.change_policy(id, 49, 0)), halted);
    assert_eq!(err_code(hsm.preview_policy_change(id, 49, 0)), halted);
    assert_eq!(
        err_code(hsm.so_change_password(id, &secret(SO_PASSWORD), &secret("Another-pass-1"))),
        halted
    );
    assert_eq!(err_code(hsm.stm_transport(id)), halted);
    assert_eq!(
        err_code(hsm.stm_verification(id, "AAAA-AAAA-AAAA-AAAA")),
        halted
    );
    assert_eq!(err_code(hsm.stm_recover(id)), halted);
    assert_eq!(err_code(hsm.zeroize()), halted);
    assert_eq!(err_code(hsm.decommission()), halted);
    assert_eq!(
        err_code(hsm.raise_tamper(TamperKind::ChassisIntrusion)),
        halted
    );
    assert_eq!(err_code(hsm.tamper_clear(id)), halted);
    assert_eq!(err_code(hsm.restart()), halted);
    assert_eq!(
        err_code(hsm.auditor_init(&secret("Auditor-pass-9"), &secret("audit domain"))),
        halted
    );
    assert_eq!(hsm.status(), HsmStatus::IntegrityHalt);

    // Still halted after a restart: the damage is permanent.
    drop(hsm);
    let (mut hsm, strings) = Module::open(&data_dir(&tmp), config.clone()).expect("reopen");
    assert!(strings.is_none());
    assert_eq!(hsm.status(), HsmStatus::IntegrityHalt);

    // Factory reset recovers a fresh, zeroized module with the same serial number.
    hsm.factory_reset().expect("factory reset");
    let check = |hsm: &mut Module| {
        assert_eq!(hsm.status(), HsmStatus::Zeroized);
        assert_eq!(hsm.integrity_failure(), None);
        assert_eq!(hsm.serial(), serial);
        assert!(!hsm.is_initialized());
        assert!(!hsm.auditor_initialized());
        assert!(hsm.partition_list().expect("list").is_empty());
        assert!(!hsm.policies().is_on(49), "policies back to their defaults");
    };
    check(&mut hsm);
    drop(hsm);
    let (mut hsm, _) = Module::open(&data_dir(&tmp), config.clone()).expect("reopen");
    check(&mut hsm);
    let id = hsm.open_access();
    hsm.init(id, hard_init(LABEL, SO_PASSWORD, DOMAIN))
        .expect("hard init");
    assert_eq!(hsm.status(), HsmStatus::Ok);
}

/// PA-04: partition serial numbers are unique. The counter behind them lives in the store, so
/// recovering from a halt with a factory reset starts it again and hands out serials that the
/// destroyed partitions had (a plain factory reset carries the counter over).
#[test]
fn partition_serials_are_not_reused_after_recovering_from_a_halt() {
    let (_tmp, _config, _serial, mut hsm) = halted_copy();
    hsm.factory_reset().expect("factory reset");
    let id = hsm.open_access();
    hsm.init(id, hard_init(LABEL, SO_PASSWORD, DOMAIN))
        .expect("hard init");
    let so = hsm.open_access();
    hsm.so_login(so, &secret(SO_PASSWORD)).expect("login");
    let first = hsm
        .partition_create(so, "new", PartitionSize::Bytes(1_000), 0)
        .expect("create");
    // `populated` created two partitions, numbered 1 and 2 within this module's serial.
    let old: Vec<u64> = [1, 2]
        .iter()
        .map(|i| hsm.serial() * 10_000_000 + i)
        .collect();
    assert!(
        !old.contains(&first.serial),
        "serial {} was used before",
        first.serial
    );
}

#[test]
fn serials_are_not_reused_after_a_plain_factory_reset() {
    let (tmp, config, original) = populated();
    let (mut hsm, _) = Module::open(&data_dir(&tmp), config).expect("open");
    hsm.factory_reset().expect("factory reset");
    let id = hsm.open_access();
    hsm.init(id, hard_init(LABEL, SO_PASSWORD, DOMAIN))
        .expect("hard init");
    let so = hsm.open_access();
    hsm.so_login(so, &secret(SO_PASSWORD)).expect("login");
    let info = hsm
        .partition_create(so, "new", PartitionSize::Bytes(1_000), 0)
        .expect("create");
    assert!(
        original
            .partitions
            .iter()
            .all(|(serial, _, _)| *serial != info.serial)
    );
}

/// Damaged key files (LC-60): a key file from another module is recognised as not belonging to
/// the database and halts the module; a garbled, truncated, empty or missing key file makes
/// `Module::open` fail, as the store cannot read it at all.
#[test]
fn a_damaged_key_file_stops_the_module() {
    let (tmp, config, _) = populated();
    let dir = data_dir(&tmp);
    let kek = std::fs::read(dir.join("kek")).expect("read kek");
    let (other, _, _) = populated();
    let foreign = std::fs::read(data_dir(&other).join("kek")).expect("read other kek");

    let mut fails: Vec<(String, Option<Vec<u8>>)> = Vec::new();
    for i in (0..kek.len()).step_by(7).chain([kek.len() - 1]) {
        let mut k = kek.clone();
        k[i] ^= 0x01;
        fails.push((format!("bit flipped at {i}"), Some(k)));
    }
    fails.push(("truncated".to_owned(), Some(kek[..kek.len() / 2].to_vec())));
    fails.push(("empty".to_owned(), Some(Vec::new())));
    fails.push(("missing".to_owned(), None));

    let work_tmp = TempDir::new().expect("temp dir");
    let work = data_dir(&work_tmp);
    let prepare = |k: &Option<Vec<u8>>| {
        if work.exists() {
            std::fs::remove_dir_all(&work).expect("clear");
        }
        copy_dir(&dir, &work);
        match k {
            Some(bytes) => std::fs::write(work.join("kek"), bytes).expect("write kek"),
            None => std::fs::remove_file(work.join("kek")).expect("remove kek"),
        }
    };
    for (what, k) in &fails {
        prepare(k);
        match Module::open(&work, config.clone()) {
            Err(err) => assert_eq!(err.code(), ret::SR_RET_DEVICE_ERROR, "{what}: {err}"),
            Ok((module, _)) => {
                assert_eq!(
                    module.status(),
                    HsmStatus::IntegrityHalt,
                    "{what}: must not open"
                );
            }
        }
    }

    prepare(&Some(foreign));
    let (module, _) = Module::open(&work, config).expect("open with a foreign key file");
    assert_eq!(module.status(), HsmStatus::IntegrityHalt);
}

/// LC-60/LC-61: damaged permanent storage halts the module at start, and `hsm factoryreset` in
/// the halt state is the recovery. A garbled key file is damaged permanent storage too, but
/// `Module::open` fails on it, so no module exists to run the factory reset.
#[test]
fn a_garbled_key_file_halts_and_factory_reset_recovers() {
    let (tmp, config, _) = populated();
    let dir = data_dir(&tmp);
    let mut kek = std::fs::read(dir.join("kek")).expect("read kek");
    let last = kek.len() - 1;
    kek[last] ^= 0x01;
    std::fs::write(dir.join("kek"), &kek).expect("write kek");
    let (mut module, _) = Module::open(&dir, config).expect("open must not fail");
    assert_eq!(module.status(), HsmStatus::IntegrityHalt);
    module.factory_reset().expect("factory reset");
    assert_eq!(module.status(), HsmStatus::Zeroized);
}

/// LC-60: the records every module has from its first start ("condition": STM, tamper, SO
/// failure counter; "policies") must be there; a store without one is damaged. The store
/// authenticates each record's contents but not which records exist, so with a passphrase-
/// wrapped KEK someone who can edit the database file but not unwrap the KEK can still remove
/// a record. The test removes them through the store API as a stand-in for such an edit.
#[test]
fn a_missing_state_record_halts_the_module() {
    let passphrase = b"appliance passphrase 1".to_vec();
    let config = ModuleConfig {
        kek_passphrase: Some(zeroize::Zeroizing::new(passphrase.clone())),
        ..common::config()
    };
    for record in [&b"condition"[..], &b"policies"[..]] {
        let tmp = TempDir::new().expect("temp dir");
        let dir = data_dir(&tmp);
        let (mut hsm, _) = Module::open(&dir, config.clone()).expect("open");
        let id = hsm.open_access();
        hsm.stm_recover(id).expect("recover");
        hsm.init(id, hard_init(LABEL, SO_PASSWORD, DOMAIN))
            .expect("init");
        let so = hsm.open_access();
        hsm.so_login(so, &secret(SO_PASSWORD)).expect("login");
        hsm.change_policy(so, 49, 1).expect("policy 49");
        hsm.raise_tamper(TamperKind::ChassisIntrusion)
            .expect("tamper");
        drop(hsm);

        let store = strongroom_store::Store::open(
            &dir,
            strongroom_store::OpenOptions::new()
                .passphrase(zeroize::Zeroizing::new(passphrase.clone())),
        )
        .expect("open store");
        let removed = store
            .write(|txn| txn.delete("hsm", record))
            .expect("delete");
        assert!(removed);
        drop(store);

        let (hsm, _) = Module::open(&dir, config.clone()).expect("reopen");
        assert_eq!(
            hsm.status(),
            HsmStatus::IntegrityHalt,
            "without the {:?} record: tamper active {}, policy 49 = {}",
            String::from_utf8_lossy(record),
            hsm.tamper_report().active,
            hsm.policies().get(49)
        );
    }
}
