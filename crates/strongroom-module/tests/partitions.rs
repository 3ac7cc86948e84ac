//! Application partitions on the appliance side: names, sizes, limits, serial numbers and
//! persistence (catalog PA-01, PA-04, PA-08, PA-10..PA-14, PO-T33).

mod common;

use std::collections::BTreeSet;

use common::{Hsm, config_with, err_code, initialized_with, recovered};
use strongroom_module::{AccessId, PARTITION_OVERHEAD, PartitionInfo, PartitionSize, StorageInfo};
use strongroom_proto::ret;

/// An initialized module of `licensed` partitions and `total` bytes, with the SO logged in.
fn module(licensed: u32, total: u64) -> (Hsm, AccessId) {
    let mut hsm = initialized_with(config_with(licensed, total));
    let so = hsm.login();
    (hsm, so)
}

/// The storage invariant of `hsm show`: used is every allotment plus its overhead.
#[track_caller]
fn assert_accounting(hsm: &Hsm) {
    let storage = hsm.storage();
    let list = hsm.partition_list().expect("list");
    let allotted: u64 = list.iter().map(|p| p.total).sum();
    let count = u64::try_from(list.len()).expect("count");
    assert_eq!(storage.used, allotted + count * PARTITION_OVERHEAD);
    assert_eq!(storage.used + storage.free, storage.total);
}

#[test]
fn partition_names_at_each_boundary() {
    let (mut hsm, so) = module(100, 64 * 1024 * 1024);
    let thirty_two = "n".repeat(32);
    let accepted = [
        "a",
        "Z",
        "7",
        thirty_two.as_str(),
        "with spaces in it",
        " leading and trailing ",
        "!@#$%^*()_-=+{}[]:'./~",
        "Mixed_Case-09.v2",
    ];
    for name in accepted {
        let info = hsm
            .partition_create(so, name, PartitionSize::Bytes(1_000), 0)
            .unwrap_or_else(|err| panic!("{name:?} must be accepted: {err}"));
        assert_eq!(info.name, name);
        assert_eq!(hsm.partition_show(name).expect("show").name, name);
    }

    let thirty_three = "n".repeat(33);
    let mut refused: Vec<String> = vec![String::new(), thirty_three];
    for c in ['&', '\\', '|', ';', '<', '>', '`', '"', '?', ',', '\t', 'é'] {
        refused.push(format!("bad{c}name"));
    }
    let before = hsm.partition_list().expect("list");
    for name in &refused {
        assert_eq!(
            err_code(hsm.partition_create(so, name, PartitionSize::Bytes(1_000), 0)),
            ret::SR_RET_DATA_INVALID,
            "{name:?} must be refused"
        );
    }
    assert_eq!(hsm.partition_list().expect("list"), before);
    assert_accounting(&hsm);
}

#[test]
fn partition_names_are_unique() {
    let (mut hsm, so) = module(100, 64 * 1024 * 1024);
    hsm.create(so, "unique", PartitionSize::Bytes(5_000));
    assert_eq!(
        err_code(hsm.partition_create(so, "unique", PartitionSize::Bytes(7_000), 0)),
        ret::SR_RET_OH_OBJECT_ALREADY_EXISTS
    );
    assert_eq!(hsm.partition_names(), ["unique"]);
    assert_eq!(hsm.partition_show("unique").expect("show").total, 5_000);
    // Names are case-sensitive.
    hsm.create(so, "Unique", PartitionSize::Bytes(5_000));
    // A deleted name can be used again.
    hsm.partition_delete(so, "unique").expect("delete");
    hsm.create(so, "unique", PartitionSize::Bytes(6_000));
    assert_eq!(hsm.partition_show("unique").expect("show").total, 6_000);
}

#[test]
fn partition_operations_need_the_so_and_an_initialized_module() {
    let mut hsm = recovered();
    let id = hsm.open_access();
    assert_eq!(
        err_code(hsm.partition_create(id, "p", PartitionSize::Default, 0)),
        ret::SR_RET_HSM_NOT_INITIALIZED
    );

    let (mut hsm, so) = module(100, 64 * 1024 * 1024);
    hsm.create(so, "p", PartitionSize::Bytes(10_000));
    let other = hsm.open_access();
    assert_eq!(
        err_code(hsm.partition_create(other, "q", PartitionSize::Default, 0)),
        ret::SR_RET_USER_NOT_LOGGED_IN
    );
    assert_eq!(
        err_code(hsm.partition_delete(other, "p")),
        ret::SR_RET_USER_NOT_LOGGED_IN
    );
    assert_eq!(
        err_code(hsm.partition_resize(other, "p", PartitionSize::Bytes(20_000))),
        ret::SR_RET_USER_NOT_LOGGED_IN
    );
    assert_eq!(hsm.partition_names(), ["p"]);
    assert_eq!(hsm.partition_show("p").expect("show").total, 10_000);
    // Listing and showing need no login.
    assert_eq!(hsm.partition_list().expect("list").len(), 1);
}

#[test]
fn unknown_partitions_and_bad_arguments() {
    let (mut hsm, so) = module(100, 64 * 1024 * 1024);
    assert_eq!(
        err_code(hsm.partition_delete(so, "missing")),
        ret::SR_RET_CONTAINER_HANDLE_INVALID
    );
    assert_eq!(
        err_code(hsm.partition_resize(so, "missing", PartitionSize::Bytes(1))),
        ret::SR_RET_CONTAINER_HANDLE_INVALID
    );
    assert_eq!(
        err_code(hsm.partition_show("missing")),
        ret::SR_RET_CONTAINER_HANDLE_INVALID
    );
    assert_eq!(
        err_code(hsm.partition_create(so, "v2", PartitionSize::Default, 2)),
        ret::SR_RET_ARGUMENTS_BAD
    );
    assert_eq!(
        err_code(hsm.partition_create(so, "zero", PartitionSize::Bytes(0), 0)),
        ret::SR_RET_ARGUMENTS_BAD
    );
    assert!(hsm.partition_names().is_empty());
    hsm.create(so, "p", PartitionSize::Bytes(10_000));
    assert_eq!(
        err_code(hsm.partition_resize(so, "p", PartitionSize::Bytes(0))),
        ret::SR_RET_ARGUMENTS_BAD
    );
    assert_eq!(hsm.partition_show("p").expect("show").total, 10_000);
    for version in [0u8, 1] {
        let info = hsm
            .partition_create(
                so,
                &format!("version {version}"),
                PartitionSize::Bytes(1_000),
                version,
            )
            .expect("create");
        assert_eq!(info.version, version);
    }
}

#[test]
fn default_size_is_an_equal_share_less_the_overhead() {
    for (licensed, total) in [
        (100u32, 64 * 1024 * 1024u64),
        (10, 16_000_000),
        (3, 1_000_000),
    ] {
        let (mut hsm, so) = module(licensed, total);
        let expected = total / u64::from(licensed) - PARTITION_OVERHEAD;
        assert_eq!(hsm.default_partition_size(), expected);
        let info = hsm.create(so, "default", PartitionSize::Default);
        assert_eq!(info.total, expected);
        assert_eq!(info.used, 0);
        assert_eq!(info.free, expected);
        // Every licensed partition fits at the default size (PA-10).
        for i in 1..licensed {
            hsm.create(so, &format!("p{i}"), PartitionSize::Default);
        }
        assert!(hsm.storage().free < u64::from(licensed));
        assert_accounting(&hsm);
    }
}

#[test]
fn explicit_size_and_all_free_storage() {
    let total = 2_000_000;
    let (mut hsm, so) = module(10, total);
    let info = hsm.create(so, "sized", PartitionSize::Bytes(123_457));
    assert_eq!(info.total, 123_457);
    assert_eq!(
        hsm.storage(),
        StorageInfo {
            total,
            used: 123_457 + PARTITION_OVERHEAD,
            free: total - 123_457 - PARTITION_OVERHEAD
        }
    );
    let free = hsm.storage().free;
    let info = hsm.create(so, "rest", PartitionSize::AllFree);
    assert_eq!(info.total, free - PARTITION_OVERHEAD);
    assert_eq!(hsm.storage().free, 0);
    assert_accounting(&hsm);
}

#[test]
fn creation_is_refused_when_storage_is_short_and_nothing_is_written() {
    let total = 500_000;
    let (mut hsm, so) = module(10, total);
    hsm.create(so, "big", PartitionSize::Bytes(400_000));
    let free = hsm.storage().free;
    assert_eq!(free, total - 400_000 - PARTITION_OVERHEAD);

    // Exactly the free space, overhead included, fits; one byte more does not.
    let before = hsm.partition_list().expect("list");
    let storage = hsm.storage();
    for size in [
        PartitionSize::Bytes(free - PARTITION_OVERHEAD + 1),
        PartitionSize::Bytes(free),
        PartitionSize::Bytes(u64::MAX),
    ] {
        assert_eq!(
            err_code(hsm.partition_create(so, "too big", size, 0)),
            ret::SR_RET_HSM_STORAGE_FULL,
            "{size:?}"
        );
        assert_eq!(hsm.partition_list().expect("list"), before);
        assert_eq!(hsm.storage(), storage);
    }
    let mut hsm = hsm.reopen();
    assert_eq!(
        hsm.partition_list().expect("list"),
        before,
        "nothing written"
    );
    let so = hsm.login();
    hsm.create(so, "exact", PartitionSize::Bytes(free - PARTITION_OVERHEAD));
    assert_eq!(hsm.storage().free, 0);
    // Nothing fits now, not even with all free storage.
    assert_eq!(
        err_code(hsm.partition_create(so, "none", PartitionSize::AllFree, 0)),
        ret::SR_RET_HSM_STORAGE_FULL
    );
    assert_eq!(
        err_code(hsm.partition_create(so, "one", PartitionSize::Bytes(1), 0)),
        ret::SR_RET_HSM_STORAGE_FULL
    );
    assert_accounting(&hsm);
}

#[test]
fn the_licence_limits_the_number_of_partitions() {
    let (mut hsm, so) = module(3, 10_000_000);
    for i in 0..3 {
        hsm.create(so, &format!("p{i}"), PartitionSize::Bytes(1_000));
    }
    assert_eq!(hsm.show().partitions_allowed, 3);
    assert_eq!(
        err_code(hsm.partition_create(so, "p3", PartitionSize::Bytes(1_000), 0)),
        ret::SR_RET_LICENSE_CAPACITY_EXCEEDED
    );
    assert_eq!(hsm.partition_names().len(), 3);
    // Policy 33 cannot go above the licence.
    assert_eq!(
        err_code(hsm.change_policy(so, 33, 4)),
        ret::SR_RET_RM_ELEMENT_VALUE_INVALID
    );
    // Deleting one makes room again.
    hsm.partition_delete(so, "p0").expect("delete");
    hsm.create(so, "p3", PartitionSize::Bytes(1_000));
}

#[test]
fn policy_33_lowers_the_maximum_but_not_below_the_existing_count() {
    let (mut hsm, so) = module(10, 10_000_000);
    hsm.change_policy(so, 33, 2).expect("policy 33 := 2");
    assert_eq!(hsm.show().partitions_allowed, 2);
    hsm.create(so, "p0", PartitionSize::Bytes(1_000));
    hsm.create(so, "p1", PartitionSize::Bytes(1_000));
    assert_eq!(
        err_code(hsm.partition_create(so, "p2", PartitionSize::Bytes(1_000), 0)),
        ret::SR_RET_TOO_MANY_CONTAINERS
    );
    assert_eq!(hsm.partition_names(), ["p0", "p1"]);

    // Lowering below the two that exist fails and destroys nothing.
    assert_eq!(
        err_code(hsm.change_policy(so, 33, 1)),
        ret::SR_RET_RM_CONFIG_CHANGE_FAILS_DEPENDENCIES
    );
    assert_eq!(hsm.policies().get(33), 2);
    assert_eq!(hsm.partition_names(), ["p0", "p1"]);
    // Raising it again allows more.
    hsm.change_policy(so, 33, 3).expect("policy 33 := 3");
    hsm.create(so, "p2", PartitionSize::Bytes(1_000));
    let hsm = hsm.reopen();
    assert_eq!(hsm.policies().get(33), 3);
    assert_eq!(hsm.partition_names(), ["p0", "p1", "p2"]);
}

#[test]
fn resize_up_down_and_to_all_free_storage() {
    let total = 1_000_000;
    let (mut hsm, so) = module(10, total);
    hsm.create(so, "a", PartitionSize::Bytes(100_000));
    hsm.create(so, "b", PartitionSize::Bytes(200_000));

    let info = hsm
        .partition_resize(so, "a", PartitionSize::Bytes(150_000))
        .expect("grow");
    assert_eq!(info.total, 150_000);
    let info = hsm
        .partition_resize(so, "a", PartitionSize::Bytes(50_000))
        .expect("shrink");
    assert_eq!(info.total, 50_000);
    assert_accounting(&hsm);

    // At most the free storage plus the current allotment.
    let free = hsm.storage().free;
    let before = hsm.partition_list().expect("list");
    assert_eq!(
        err_code(hsm.partition_resize(so, "a", PartitionSize::Bytes(free + 50_000 + 1))),
        ret::SR_RET_HSM_STORAGE_FULL
    );
    assert_eq!(hsm.partition_list().expect("list"), before);

    let info = hsm
        .partition_resize(so, "a", PartitionSize::AllFree)
        .expect("all free");
    assert_eq!(info.total, free + 50_000);
    assert_eq!(hsm.storage().free, 0);
    // Resizing to the same size is fine; one byte more is not.
    hsm.partition_resize(so, "a", PartitionSize::Bytes(free + 50_000))
        .expect("same size");
    assert_eq!(
        err_code(hsm.partition_resize(so, "b", PartitionSize::Bytes(200_001))),
        ret::SR_RET_HSM_STORAGE_FULL
    );
    assert_eq!(hsm.partition_show("b").expect("show").total, 200_000);
    assert_accounting(&hsm);
    let hsm = hsm.reopen();
    assert_eq!(hsm.partition_show("a").expect("show").total, free + 50_000);
    assert_eq!(hsm.storage().free, 0);
}

#[test]
fn delete_frees_the_allotment_and_its_overhead() {
    let total = 1_000_000;
    let (mut hsm, so) = module(10, total);
    hsm.create(so, "a", PartitionSize::Bytes(100_000));
    hsm.create(so, "b", PartitionSize::Bytes(200_000));
    let free = hsm.storage().free;
    hsm.partition_delete(so, "a").expect("delete");
    assert_eq!(hsm.storage().free, free + 100_000 + PARTITION_OVERHEAD);
    assert_eq!(hsm.partition_names(), ["b"]);
    let hsm = hsm.reopen();
    assert_eq!(hsm.partition_names(), ["b"]);
    assert_eq!(hsm.storage().free, free + 100_000 + PARTITION_OVERHEAD);
    assert_accounting(&hsm);
}

#[test]
fn serial_numbers_are_thirteen_digits_unique_and_not_reused() {
    let (mut hsm, so) = module(10, 10_000_000);
    let mut seen = BTreeSet::new();
    let mut last = 0;
    for round in 0..3 {
        for i in 0..3 {
            let info = hsm.create(so, &format!("r{round}p{i}"), PartitionSize::Bytes(1_000));
            assert_eq!(info.serial.to_string().len(), 13, "serial {}", info.serial);
            assert!(seen.insert(info.serial), "serial {} reused", info.serial);
            assert!(
                info.serial > last,
                "serials increase with each creation (PA-04)"
            );
            last = info.serial;
        }
        for i in 0..3 {
            hsm.partition_delete(so, &format!("r{round}p{i}"))
                .expect("delete");
        }
    }
    // Not reused after a restart either.
    let mut hsm = hsm.reopen();
    let so = hsm.login();
    let info = hsm.create(so, "after restart", PartitionSize::Bytes(1_000));
    assert!(info.serial > last && !seen.contains(&info.serial));
    // Partitions of different modules have different serials.
    let (mut other, oso) = module(10, 10_000_000);
    let theirs = other.create(oso, "after restart", PartitionSize::Bytes(1_000));
    assert_ne!(theirs.serial, info.serial);
}

#[test]
fn list_and_show_report_every_field_and_survive_a_restart() {
    let (mut hsm, so) = module(10, 10_000_000);
    let a = hsm.create(so, "alpha", PartitionSize::Bytes(30_000));
    let b = hsm
        .partition_create(so, "beta", PartitionSize::Default, 1)
        .expect("create");
    let list = hsm.partition_list().expect("list");
    assert_eq!(list, [a.clone(), b.clone()]);
    let check = |p: &PartitionInfo, name: &str, total: u64, version: u8| {
        assert_eq!(p.name, name);
        assert_eq!(p.total, total);
        assert_eq!(p.version, version);
        assert_eq!((p.used, p.objects), (0, 0));
        assert_eq!(p.free, total);
        assert!(p.created_at > 1_600_000_000, "creation time is set");
    };
    check(&a, "alpha", 30_000, 0);
    check(&b, "beta", hsm.default_partition_size(), 1);
    assert_eq!(hsm.partition_show("beta").expect("show"), b);
    assert_eq!(
        hsm.show().partitions,
        vec![
            (a.serial, "alpha".to_owned()),
            (b.serial, "beta".to_owned())
        ]
    );
    let storage = hsm.storage();

    let hsm = hsm.reopen();
    assert_eq!(hsm.partition_list().expect("list"), [a, b]);
    assert_eq!(hsm.storage(), storage);
}

/// The reference's "Creating Multiple Equal Large Partitions" (PA-13): with 20 licences, create
/// 20 default partitions, then four times delete four small ones and resize one small one to
/// all free storage. Four equal large partitions remain and no storage is left unallocated.
#[test]
fn create_twenty_then_merge_into_four_equal_large_partitions() {
    let total = 64 * 1024 * 1024;
    let (mut hsm, so) = module(20, total);
    let small = hsm.default_partition_size();
    for i in 0..20 {
        hsm.create(so, &format!("p{i:02}"), PartitionSize::Default);
    }
    assert!(
        hsm.storage().free < 20,
        "20 default partitions use all storage but rounding"
    );
    let mut next = 0;
    let mut large = Vec::new();
    for _ in 0..4 {
        for _ in 0..4 {
            hsm.partition_delete(so, &format!("p{next:02}"))
                .expect("delete");
            next += 1;
        }
        let name = format!("p{next:02}");
        next += 1;
        let info = hsm
            .partition_resize(so, &name, PartitionSize::AllFree)
            .expect("resize");
        large.push(info.total);
    }
    assert_eq!(next, 20);
    assert_eq!(hsm.partition_list().expect("list").len(), 4);
    assert_eq!(hsm.storage().free, 0, "no unallocated space is left");
    // Each large partition is five small ones plus four freed overheads, give or take the
    // rounding remainder the first one absorbed.
    let expected = 5 * small + 4 * PARTITION_OVERHEAD;
    for size in &large {
        assert!(
            (expected..expected + 20).contains(size),
            "large partition of {size} bytes, expected about {expected}"
        );
    }
    assert_accounting(&hsm);
}
