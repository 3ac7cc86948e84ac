//! Property: HSM storage accounting (catalog PA-10..PA-14) holds across any sequence of
//! partition creations, deletions and resizes.
//!
//! Each case drives one module and a model of what the module should hold, and after every
//! operation checks that:
//! - `used + free == total`, and `used == sum of allotments + count * PARTITION_OVERHEAD`;
//! - the module never allots more than it has (`used <= total`);
//! - the operation was accepted or refused exactly as the model predicts, with the predicted
//!   return code, and a refused operation changed nothing;
//! - the partitions listed are exactly the model's.
//!
//! At the end of each case the module is restarted and compared with the model again.

mod common;

use std::collections::BTreeMap;

use common::{Hsm, config_with, initialized_with};
use proptest::prelude::*;
use strongroom_module::{AccessId, PARTITION_OVERHEAD, PartitionSize, RetCode};
use strongroom_proto::ret;

const TOTAL: u64 = 1_000_000;
const LICENSED: u32 = 5;
/// Names the operations pick from: a few valid ones (so that duplicates and deletions of
/// existing partitions are frequent) and one invalid one.
const NAMES: [&str; 7] = ["p0", "p1", "p2", "p3", "with space", "p5", "bad|name"];

#[derive(Clone, Copy, Debug)]
enum Op {
    Create(usize, PartitionSize),
    Delete(usize),
    Resize(usize, PartitionSize),
}

fn size() -> impl Strategy<Value = PartitionSize> {
    prop_oneof![
        2 => Just(PartitionSize::Default),
        1 => Just(PartitionSize::AllFree),
        1 => Just(PartitionSize::Bytes(0)),
        1 => Just(PartitionSize::Bytes(u64::MAX)),
        3 => (1u64..=30_000).prop_map(PartitionSize::Bytes),
        3 => (1u64..=TOTAL).prop_map(PartitionSize::Bytes),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let name = 0..NAMES.len();
    prop_oneof![
        4 => (name.clone(), size()).prop_map(|(n, s)| Op::Create(n, s)),
        2 => name.clone().prop_map(Op::Delete),
        3 => (name, size()).prop_map(|(n, s)| Op::Resize(n, s)),
    ]
}

/// What the module should hold: partition name -> allotment.
#[derive(Default)]
struct Model {
    partitions: BTreeMap<String, u64>,
}

impl Model {
    fn used(&self) -> u64 {
        self.partitions
            .values()
            .map(|s| s + PARTITION_OVERHEAD)
            .sum()
    }

    fn free(&self) -> u64 {
        TOTAL - self.used()
    }

    fn default_size() -> u64 {
        TOTAL / u64::from(LICENSED) - PARTITION_OVERHEAD
    }

    /// Applies `op` to the model; returns the return code the module must give, or `None` if
    /// the module must accept it.
    fn apply(&mut self, op: Op) -> Option<RetCode> {
        match op {
            Op::Create(n, size) => {
                let name = NAMES[n];
                if name.contains('|') {
                    return Some(ret::SR_RET_DATA_INVALID);
                }
                if self.partitions.contains_key(name) {
                    return Some(ret::SR_RET_OH_OBJECT_ALREADY_EXISTS);
                }
                if self.partitions.len() >= LICENSED as usize {
                    return Some(ret::SR_RET_LICENSE_CAPACITY_EXCEEDED);
                }
                let free = self.free();
                let bytes = match size {
                    PartitionSize::Default => Self::default_size(),
                    PartitionSize::Bytes(0) => return Some(ret::SR_RET_ARGUMENTS_BAD),
                    PartitionSize::Bytes(n) => n,
                    PartitionSize::AllFree => free.saturating_sub(PARTITION_OVERHEAD),
                };
                let fits = bytes
                    .checked_add(PARTITION_OVERHEAD)
                    .is_some_and(|need| need <= free);
                if bytes == 0 || !fits {
                    return Some(ret::SR_RET_HSM_STORAGE_FULL);
                }
                self.partitions.insert(name.to_owned(), bytes);
                None
            }
            Op::Delete(n) => match self.partitions.remove(NAMES[n]) {
                Some(_) => None,
                None => Some(ret::SR_RET_CONTAINER_HANDLE_INVALID),
            },
            Op::Resize(n, size) => {
                let Some(&current) = self.partitions.get(NAMES[n]) else {
                    return Some(ret::SR_RET_CONTAINER_HANDLE_INVALID);
                };
                let available = self.free() + current;
                let bytes = match size {
                    PartitionSize::Default => Self::default_size(),
                    PartitionSize::Bytes(n) => n,
                    PartitionSize::AllFree => available,
                };
                if bytes == 0 {
                    return Some(ret::SR_RET_ARGUMENTS_BAD);
                }
                if bytes > available {
                    return Some(ret::SR_RET_HSM_STORAGE_FULL);
                }
                self.partitions.insert(NAMES[n].to_owned(), bytes);
                None
            }
        }
    }
}

fn run(hsm: &mut Hsm, so: AccessId, op: Op) -> Result<(), RetCode> {
    let result = match op {
        Op::Create(n, size) => hsm.partition_create(so, NAMES[n], size, 0).map(drop),
        Op::Delete(n) => hsm.partition_delete(so, NAMES[n]),
        Op::Resize(n, size) => hsm.partition_resize(so, NAMES[n], size).map(drop),
    };
    result.map_err(|err| err.code())
}

/// The module's partitions as name -> allotment, checking the accounting invariants.
fn observed(hsm: &Hsm) -> Result<BTreeMap<String, u64>, TestCaseError> {
    let storage = hsm.storage();
    let list = hsm.partition_list().expect("list");
    let allotted: u64 = list.iter().map(|p| p.total).sum();
    let count = u64::try_from(list.len()).expect("count");
    prop_assert_eq!(storage.total, TOTAL);
    prop_assert_eq!(storage.used + storage.free, storage.total);
    prop_assert_eq!(storage.used, allotted + count * PARTITION_OVERHEAD);
    prop_assert!(
        storage.used <= storage.total,
        "overcommitted: {:?}",
        storage
    );
    for p in &list {
        prop_assert_eq!(p.used + p.free, p.total);
    }
    Ok(list.into_iter().map(|p| (p.name, p.total)).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn storage_accounting_holds_for_any_operation_sequence(
        ops in proptest::collection::vec(op(), 1..30)
    ) {
        let mut hsm = initialized_with(config_with(LICENSED, TOTAL));
        let so = hsm.login();
        let mut model = Model::default();
        for op in ops {
            let before = observed(&hsm)?;
            let storage_before = hsm.storage();
            let expected = model.apply(op);
            let got = run(&mut hsm, so, op);
            prop_assert_eq!(got.err(), expected, "{:?}", op);
            let after = observed(&hsm)?;
            if expected.is_some() {
                prop_assert_eq!(&after, &before, "a refused {:?} changed the partitions", op);
                prop_assert_eq!(hsm.storage(), storage_before);
            }
            prop_assert_eq!(&after, &model.partitions, "after {:?}", op);
            prop_assert_eq!(hsm.storage().free, model.free());
        }
        let hsm = hsm.reopen();
        prop_assert_eq!(&observed(&hsm)?, &model.partitions, "after a restart");
    }
}
