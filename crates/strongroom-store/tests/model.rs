//! Differential test: random sequences of transactions, rekeys and reopens against a
//! `BTreeMap` model give the same contents.

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;
use strongroom_store::{Error, OpenOptions, Store};

const TABLES: [&str; 3] = ["hsm", "partitions", "partition.1"];

#[derive(Debug, Clone)]
enum Change {
    Put {
        table: usize,
        key: u8,
        value: Vec<u8>,
    },
    Delete {
        table: usize,
        key: u8,
    },
    DropTable {
        table: usize,
    },
}

#[derive(Debug, Clone)]
enum Op {
    /// One transaction; `commit` false makes the body fail, so nothing may change.
    Txn {
        changes: Vec<Change>,
        commit: bool,
    },
    /// Keep the records whose key is not a multiple of `modulus` (0: keep everything).
    Rekey {
        modulus: u8,
    },
    Reopen,
}

type Model = BTreeMap<String, BTreeMap<Vec<u8>, Vec<u8>>>;

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        6 => (0..TABLES.len(), 0u8..8, proptest::collection::vec(any::<u8>(), 0..48))
            .prop_map(|(table, key, value)| Change::Put { table, key, value }),
        3 => (0..TABLES.len(), 0u8..8).prop_map(|(table, key)| Change::Delete { table, key }),
        1 => (0..TABLES.len()).prop_map(|table| Change::DropTable { table }),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (proptest::collection::vec(change(), 1..6), proptest::bool::weighted(0.85))
            .prop_map(|(changes, commit)| Op::Txn { changes, commit }),
        1 => (0u8..4).prop_map(|modulus| Op::Rekey { modulus }),
        2 => Just(Op::Reopen),
    ]
}

fn apply(model: &mut Model, change: &Change) {
    match change {
        Change::Put { table, key, value } => {
            model
                .entry(TABLES[*table].to_owned())
                .or_default()
                .insert(vec![*key], value.clone());
        }
        Change::Delete { table, key } => {
            if let Some(t) = model.get_mut(TABLES[*table]) {
                t.remove(&vec![*key]);
            }
        }
        Change::DropTable { table } => {
            model.remove(TABLES[*table]);
        }
    }
}

fn keep(modulus: u8, key: &[u8]) -> bool {
    modulus == 0 || !key[0].is_multiple_of(modulus)
}

fn contents(store: &Store) -> Model {
    let mut out = Model::new();
    for table in store.tables().unwrap() {
        let records = store.scan(&table).unwrap();
        out.insert(
            table,
            records.into_iter().map(|(k, v)| (k, v.to_vec())).collect(),
        );
    }
    out
}

fn run(dir: &Path, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut store = Store::open(dir, OpenOptions::new().create(true)).unwrap();
    let mut model = Model::new();
    for op in ops {
        match op {
            Op::Txn { changes, commit } => {
                let result = store.write(|t| {
                    for change in changes {
                        match change {
                            Change::Put { table, key, value } => {
                                t.put(TABLES[*table], &[*key], value)?
                            }
                            Change::Delete { table, key } => {
                                t.delete(TABLES[*table], &[*key])?;
                            }
                            Change::DropTable { table } => {
                                t.drop_table(TABLES[*table])?;
                            }
                        }
                    }
                    if *commit {
                        Ok(())
                    } else {
                        Err(Error::InvalidArgument { what: "abandoned" })
                    }
                });
                prop_assert_eq!(result.is_ok(), *commit);
                if *commit {
                    for change in changes {
                        apply(&mut model, change);
                    }
                }
            }
            Op::Rekey { modulus } => {
                store.rekey(|_, key| keep(*modulus, key)).unwrap();
                for records in model.values_mut() {
                    records.retain(|k, _| keep(*modulus, k));
                }
                // Tables left without records are deleted, empty ones included.
                model.retain(|_, records| !records.is_empty());
            }
            Op::Reopen => {
                drop(store);
                store = Store::open(dir, OpenOptions::new()).unwrap();
            }
        }
        prop_assert_eq!(&contents(&store), &model, "after {:?}", op);
    }
    drop(store);
    let store = Store::open(dir, OpenOptions::new()).unwrap();
    prop_assert_eq!(&contents(&store), &model);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn store_matches_model(ops in proptest::collection::vec(op(), 1..30)) {
        let tmp = tempfile::tempdir().unwrap();
        run(tmp.path(), &ops)?;
    }
}
