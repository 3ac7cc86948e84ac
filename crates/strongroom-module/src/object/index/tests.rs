use std::collections::{BTreeSet, HashSet};

use cryptoki_sys::*;
use proptest::prelude::*;
use strongroom_proto::ckr;

use super::super::error::ACTION_PROHIBITED;
use super::super::testutil::*;
use super::super::{AttrResult, Attribute};
use super::*;

fn index() -> ObjectIndex {
    ObjectIndex::new(u64::MAX)
}

fn add(ix: &mut ObjectIndex, attrs: Vec<Attribute>) -> ObjectHandle {
    ix.create(&tpl(attrs), CreationMethod::Create, CO, &pol(), uid())
        .unwrap()
}

fn recount(ix: &ObjectIndex) -> u64 {
    ix.iter().map(|(_, o)| o.stored_size()).sum()
}

#[test]
fn handles_are_never_reused() {
    let mut ix = index();
    let a = add(&mut ix, data("a"));
    let b = add(&mut ix, data("b"));
    assert_eq!(a.value(), 1, "0 is CK_INVALID_HANDLE");
    assert_ne!(a, b);
    ix.destroy(b).unwrap();
    let c = add(&mut ix, data("c"));
    assert!(c.value() > b.value());
    assert!(ix.get(b).is_none());
    assert_eq!(ckr(ix.destroy(b)), ckr::CKR_OBJECT_HANDLE_INVALID);
    let r = ix.set_attributes(b, &tpl(vec![s(CKA_LABEL, "x")]), false, &pol());
    assert_eq!(ckr(r), ckr::CKR_OBJECT_HANDLE_INVALID);
    let r = ix.copy(b, &Template::empty(), CO, &pol(), uid());
    assert_eq!(ckr(r), ckr::CKR_OBJECT_HANDLE_INVALID);
    assert_eq!(ObjectHandle::from_value(c.value()), c);
    // A unique ID the generator repeats is caught.
    let again = ix.get(a).unwrap().unique_id().to_vec();
    let r = ix.create(
        &tpl(data("e")),
        CreationMethod::Create,
        CO,
        &pol(),
        String::from_utf8(again).unwrap(),
    );
    assert_eq!(ckr(r), ckr::CKR_GENERAL_ERROR);
}

#[test]
fn storage_is_accounted_and_a_full_partition_writes_nothing() {
    let one = create(data("a")).unwrap().stored_size();
    let mut ix = ObjectIndex::new(2 * one + one / 2);
    assert_eq!(ix.budget(), 2 * one + one / 2);
    let a = add(&mut ix, data("a"));
    let b = add(&mut ix, data("b"));
    assert_eq!(ix.used(), 2 * one);
    let r = ix.create(&tpl(data("c")), CreationMethod::Create, CO, &pol(), uid());
    assert_eq!(ckr(r), ckr::CKR_DEVICE_MEMORY);
    let r = ix.copy(a, &Template::empty(), CO, &pol(), uid());
    assert_eq!(ckr(r), ckr::CKR_DEVICE_MEMORY);
    assert_eq!(ix.len(), 2);
    assert_eq!(ix.used(), 2 * one);
    // Growing an object past the budget is refused, and the object is unchanged.
    let long = "x".repeat(usize::try_from(one).unwrap());
    let r = ix.set_attributes(a, &tpl(vec![s(CKA_LABEL, &long)]), false, &pol());
    assert_eq!(ckr(r), ckr::CKR_DEVICE_MEMORY);
    assert_eq!(ix.get(a).unwrap().label(), b"a");
    assert_eq!(ix.find(&tpl(vec![s(CKA_LABEL, "a")]), Some(CO)), vec![a]);
    // A small change fits; its size is accounted.
    ix.set_attributes(a, &tpl(vec![s(CKA_LABEL, "abc")]), false, &pol())
        .unwrap();
    assert_eq!(ix.used(), recount(&ix));
    assert!(ix.find(&tpl(vec![s(CKA_LABEL, "a")]), Some(CO)).is_empty());
    assert_eq!(ix.find(&tpl(vec![s(CKA_LABEL, "abc")]), Some(CO)), vec![a]);
    ix.destroy(b).unwrap();
    assert_eq!(ix.used(), recount(&ix));
    ix.set_budget(0);
    assert_eq!(
        ckr(ix.copy(a, &Template::empty(), CO, &pol(), uid())),
        ckr::CKR_DEVICE_MEMORY
    );
    assert!(ix.remove(a).is_some());
    assert_eq!(ix.used(), 0);
    assert!(ix.is_empty());
}

#[test]
fn destroy_respects_destroyable() {
    let mut ix = index();
    let h = add(&mut ix, with(data("d"), vec![b(CKA_DESTROYABLE, false)]));
    assert_eq!(code(ix.destroy(h)), ACTION_PROHIBITED);
    assert!(ix.get(h).is_some());
    // Zeroization and session close remove it all the same.
    assert!(ix.remove(h).is_some());
}

#[test]
fn searches_use_the_value_indexes() {
    let mut ix = index();
    let k1 = add(
        &mut ix,
        with(aes(&[1; 16]), vec![s(CKA_LABEL, "k"), raw(CKA_ID, &[1])]),
    );
    let k2 = add(
        &mut ix,
        with(aes(&[2; 16]), vec![s(CKA_LABEL, "k"), raw(CKA_ID, &[2])]),
    );
    let d = add(&mut ix, with(data("k"), vec![b(CKA_PRIVATE, false)]));
    let pk = add(&mut ix, with(rsa_public(), vec![raw(CKA_ID, &[1])]));

    let (found, stats) = ix.find_counted(&tpl(vec![s(CKA_LABEL, "k")]), Some(CO));
    assert_eq!(found, vec![k1, k2, d]);
    assert_eq!(stats.examined, 3);
    assert!(!stats.scanned);
    // The smallest set is examined.
    let (found, stats) =
        ix.find_counted(&tpl(vec![s(CKA_LABEL, "k"), raw(CKA_ID, &[2])]), Some(CO));
    assert_eq!(found, vec![k2]);
    assert_eq!(stats.examined, 1);
    let (found, stats) = ix.find_counted(
        &tpl(vec![u(CKA_CLASS, CKO_SECRET_KEY), raw(CKA_ID, &[1])]),
        Some(CO),
    );
    assert_eq!(found, vec![k1]);
    assert_eq!(stats.examined, 2);
    // Unique IDs.
    let uid_k2 = ix.get(k2).unwrap().unique_id().to_vec();
    let (found, stats) = ix.find_counted(&tpl(vec![raw(CKA_UNIQUE_ID, &uid_k2)]), Some(CO));
    assert_eq!((found, stats.examined), (vec![k2], 1));
    // A value nobody has: nothing examined.
    let (found, stats) = ix.find_counted(&tpl(vec![s(CKA_LABEL, "none")]), Some(CO));
    assert!(found.is_empty());
    assert_eq!(stats.examined, 0);
    // No indexed attribute: a scan.
    let (found, stats) = ix.find_counted(&tpl(vec![u(CKA_KEY_TYPE, CKK_RSA)]), Some(CO));
    assert_eq!(found, vec![pk]);
    assert!(stats.scanned);
    assert_eq!(stats.examined, 4);
    // The empty template finds everything visible; private objects only for users.
    assert_eq!(ix.find(&Template::empty(), Some(CO)).len(), 4);
    assert_eq!(ix.find(&Template::empty(), None), vec![d, pk]);
    assert_eq!(ix.find(&tpl(vec![s(CKA_LABEL, "k")]), Some(SO)), vec![d]);
    assert!(ix.visible(k1, None).is_err());
    assert!(ix.visible(k1, Some(CU)).is_ok());
    // Hidden values never match.
    assert!(
        ix.find(&tpl(vec![raw(CKA_VALUE, &[1; 16])]), Some(CO))
            .is_empty()
    );
}

#[test]
fn finding_by_label_among_100_000_objects_examines_only_the_matches() {
    const N: usize = 100_000;
    let mut ix = index();
    for i in 0..N {
        let label = if i % 10_000 == 7 {
            "shared".to_owned()
        } else {
            format!("object-{i}")
        };
        let obj = Object::from_template(
            &tpl(vec![
                u(CKA_CLASS, CKO_SECRET_KEY),
                u(CKA_KEY_TYPE, CKK_GENERIC_SECRET),
                raw(CKA_VALUE, &[1; 16]),
                b(CKA_PRIVATE, false),
                s(CKA_LABEL, &label),
                raw(CKA_ID, &u32::try_from(i % 1000).unwrap().to_le_bytes()),
            ]),
            CreationMethod::Create,
            CO,
            &pol(),
            format!("u{i}"),
        )
        .unwrap();
        ix.insert(obj).unwrap();
    }
    assert_eq!(ix.len(), N);

    let (found, stats) = ix.find_counted(&tpl(vec![s(CKA_LABEL, "object-4242")]), None);
    assert_eq!(found.len(), 1);
    assert_eq!(stats.examined, 1);
    assert!(!stats.scanned);
    assert_eq!(ix.get(found[0]).unwrap().label(), b"object-4242");

    let (found, stats) = ix.find_counted(&tpl(vec![s(CKA_LABEL, "shared")]), None);
    assert_eq!(found.len(), N / 10_000);
    assert_eq!(stats.examined, N / 10_000);

    // Class alone matches every object; with a label, the label's set is the one examined.
    let query = tpl(vec![
        u(CKA_CLASS, CKO_SECRET_KEY),
        s(CKA_LABEL, "object-99999"),
    ]);
    let (found, stats) = ix.find_counted(&query, None);
    assert_eq!((found.len(), stats.examined), (1, 1));
    let (found, stats) = ix.find_counted(&tpl(vec![raw(CKA_ID, &7u32.to_le_bytes())]), None);
    assert_eq!((found.len(), stats.examined), (N / 1000, N / 1000));
    let (found, stats) = ix.find_counted(&tpl(vec![s(CKA_UNIQUE_ID, "u31337")]), None);
    assert_eq!((found.len(), stats.examined), (1, 1));

    // Only a template without any indexed attribute scans.
    let (found, stats) = ix.find_counted(&tpl(vec![b(CKA_TOKEN, false)]), None);
    assert_eq!(found.len(), N);
    assert!(stats.scanned);
    assert_eq!(stats.examined, N);
}

// ---------------------------------------------------------------------------------------
// Property test: random create / copy / set / destroy sequences.

#[derive(Clone, Debug)]
enum Kind {
    Data,
    Aes,
    EcPrivate,
    RsaPrivate,
}

#[derive(Clone, Debug)]
enum Op {
    Create {
        kind: Kind,
        label: u8,
        size: u8,
        crypto_user: bool,
        private: bool,
        sensitive: bool,
        extractable: bool,
        modifiable: bool,
        copyable: bool,
        destroyable: bool,
    },
    Copy {
        pick: usize,
        crypto_user: bool,
        label: Option<u8>,
        private: Option<bool>,
        sensitive: Option<bool>,
        extractable: Option<bool>,
    },
    Set {
        pick: usize,
        label: Option<u8>,
        sensitive: Option<bool>,
        extractable: Option<bool>,
        copyable: Option<bool>,
        value: Option<u8>,
    },
    Destroy {
        pick: usize,
    },
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Data),
        Just(Kind::Aes),
        Just(Kind::EcPrivate),
        Just(Kind::RsaPrivate)
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let create = (kind(), 0u8..6, 0u8..40, any::<bool>(), any::<[bool; 6]>()).prop_map(
        |(kind, label, size, crypto_user, f)| Op::Create {
            kind,
            label,
            size,
            crypto_user,
            private: f[0],
            sensitive: f[1],
            extractable: f[2],
            modifiable: f[3] || f[5],
            copyable: f[4] || f[5],
            destroyable: f[5] || f[0],
        },
    );
    let copy = (
        any::<usize>(),
        any::<bool>(),
        proptest::option::of(0u8..6),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(
            |(pick, crypto_user, label, private, sensitive, extractable)| Op::Copy {
                pick,
                crypto_user,
                label,
                private,
                sensitive,
                extractable,
            },
        );
    let set = (
        any::<usize>(),
        proptest::option::of(0u8..6),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
        proptest::option::weighted(0.1, any::<u8>()),
    )
        .prop_map(
            |(pick, label, sensitive, extractable, copyable, value)| Op::Set {
                pick,
                label,
                sensitive,
                extractable,
                copyable,
                value,
            },
        );
    prop_oneof![
        3 => create,
        2 => copy,
        3 => set,
        1 => any::<usize>().prop_map(|pick| Op::Destroy { pick }),
    ]
}

fn label(n: u8) -> Attribute {
    s(CKA_LABEL, &format!("label-{n}"))
}

fn opt(out: &mut Vec<Attribute>, ty: u64, v: Option<bool>) {
    if let Some(v) = v {
        out.push(b(ty, v));
    }
}

/// The attributes an object hides while protected.
fn secret_types(o: &Object) -> &'static [u64] {
    match (o.class(), o.key_type()) {
        (CKO_PRIVATE_KEY, Some(CKK_RSA)) => &[
            CKA_PRIVATE_EXPONENT,
            CKA_PRIME_1,
            CKA_PRIME_2,
            CKA_EXPONENT_1,
            CKA_EXPONENT_2,
            CKA_COEFFICIENT,
        ],
        (CKO_PRIVATE_KEY | CKO_SECRET_KEY, _) => &[CKA_VALUE],
        _ => &[],
    }
}

struct Model {
    ix: ObjectIndex,
    issued: HashSet<ObjectHandle>,
    /// Objects whose secrets have been hidden at some point: they must stay hidden.
    hidden: BTreeSet<ObjectHandle>,
}

impl Model {
    fn pick(&self, n: usize) -> Option<ObjectHandle> {
        let len = self.ix.len();
        (len > 0).then(|| self.ix.iter().nth(n % len).map(|(h, _)| h))?
    }

    fn fresh(&mut self, h: ObjectHandle) {
        assert!(self.issued.insert(h), "handle {h:?} reused");
    }

    fn apply(&mut self, op: Op) {
        let policies = pol();
        let before_used = self.ix.used();
        let before_len = self.ix.len();
        match op {
            Op::Create {
                kind,
                label: l,
                size,
                crypto_user,
                private,
                sensitive,
                extractable,
                modifiable,
                copyable,
                destroyable,
            } => {
                let mut attrs = match kind {
                    Kind::Data => with(
                        data("x"),
                        vec![raw(CKA_VALUE, &vec![size; usize::from(size) * 8])],
                    ),
                    Kind::Aes => aes(&[size; 32]),
                    Kind::EcPrivate => ec_private(),
                    Kind::RsaPrivate => rsa_private(),
                };
                attrs = with(
                    attrs,
                    vec![
                        label(l),
                        b(CKA_PRIVATE, private),
                        b(CKA_MODIFIABLE, modifiable),
                        b(CKA_COPYABLE, copyable),
                        b(CKA_DESTROYABLE, destroyable),
                    ],
                );
                if !matches!(kind, Kind::Data) {
                    attrs.push(b(CKA_SENSITIVE, sensitive));
                    attrs.push(b(CKA_EXTRACTABLE, extractable));
                }
                let role = if crypto_user { CU } else { CO };
                let r = self
                    .ix
                    .create(&tpl(attrs), CreationMethod::Create, role, &policies, uid());
                match r {
                    Ok(h) => {
                        self.fresh(h);
                        assert!(!(crypto_user && private), "CU made a private object");
                    }
                    Err(e) => {
                        let why = e.ckr();
                        assert!(
                            why == ckr::CKR_DEVICE_MEMORY
                                || (crypto_user && private && why == ckr::CKR_USER_NOT_AUTHORIZED),
                            "{e}"
                        );
                    }
                }
            }
            Op::Copy {
                pick,
                crypto_user,
                label: l,
                private,
                sensitive,
                extractable,
            } => {
                let Some(h) = self.pick(pick) else { return };
                let src_bytes = self.ix.get(h).unwrap().to_bytes().unwrap();
                let mut t = Vec::new();
                if let Some(l) = l {
                    t.push(label(l));
                }
                opt(&mut t, CKA_PRIVATE, private);
                let is_key = self.ix.get(h).unwrap().is_key();
                if is_key {
                    opt(&mut t, CKA_SENSITIVE, sensitive);
                    opt(&mut t, CKA_EXTRACTABLE, extractable);
                }
                let role = if crypto_user { CU } else { CO };
                match self.ix.copy(h, &tpl(t), role, &policies, uid()) {
                    Ok(c) => {
                        self.fresh(c);
                        if self.hidden.contains(&h) {
                            self.hidden.insert(c);
                        }
                    }
                    Err(e) => {
                        let why = e.ckr();
                        assert!(
                            e.code() == ACTION_PROHIBITED
                                || [
                                    ckr::CKR_DEVICE_MEMORY,
                                    ckr::CKR_USER_NOT_AUTHORIZED,
                                    ckr::CKR_ATTRIBUTE_READ_ONLY,
                                ]
                                .contains(&why),
                            "{e}"
                        );
                    }
                }
                assert_eq!(self.ix.get(h).unwrap().to_bytes().unwrap(), src_bytes);
            }
            Op::Set {
                pick,
                label: l,
                sensitive,
                extractable,
                copyable,
                value,
            } => {
                let Some(h) = self.pick(pick) else { return };
                let before = self.ix.get(h).unwrap().to_bytes().unwrap();
                let is_key = self.ix.get(h).unwrap().is_key();
                let mut t = Vec::new();
                if let Some(l) = l {
                    t.push(label(l));
                }
                opt(&mut t, CKA_COPYABLE, copyable);
                if is_key {
                    opt(&mut t, CKA_SENSITIVE, sensitive);
                    opt(&mut t, CKA_EXTRACTABLE, extractable);
                }
                let has_value = self.ix.get(h).unwrap().value(CKA_VALUE).is_some();
                if let (Some(v), true) = (value, has_value) {
                    t.push(raw(CKA_VALUE, &[v; 32]));
                }
                match self.ix.set_attributes(h, &tpl(t), false, &policies) {
                    Ok(()) => {}
                    Err(e) => {
                        let why = e.ckr();
                        assert!(
                            e.code() == ACTION_PROHIBITED
                                || [ckr::CKR_DEVICE_MEMORY, ckr::CKR_ATTRIBUTE_READ_ONLY]
                                    .contains(&why),
                            "{e}"
                        );
                        assert_eq!(self.ix.get(h).unwrap().to_bytes().unwrap(), before);
                        assert_eq!(self.ix.used(), before_used);
                    }
                }
            }
            Op::Destroy { pick } => {
                let Some(h) = self.pick(pick) else { return };
                let destroyable = self.ix.get(h).unwrap().is_destroyable();
                match self.ix.destroy(h) {
                    Ok(()) => {
                        assert!(destroyable);
                        self.hidden.remove(&h);
                    }
                    Err(e) => {
                        assert!(!destroyable);
                        assert_eq!(e.code(), ACTION_PROHIBITED);
                        assert_eq!(self.ix.len(), before_len);
                    }
                }
            }
        }
        self.check();
    }

    fn check(&mut self) {
        assert_eq!(self.ix.used(), recount(&self.ix), "accounting drifted");
        assert!(self.ix.used() <= self.ix.budget());
        let mut newly_hidden = Vec::new();
        for (h, o) in self.ix.iter() {
            assert!(self.issued.contains(&h));
            if o.flag(CKA_ALWAYS_SENSITIVE) == Some(true) {
                assert_eq!(o.flag(CKA_SENSITIVE), Some(true));
            }
            if o.flag(CKA_NEVER_EXTRACTABLE) == Some(true) {
                assert_eq!(o.flag(CKA_EXTRACTABLE), Some(false));
            }
            let secrets = secret_types(o);
            if secrets.is_empty() {
                continue;
            }
            let out = o.get_attributes(secrets, Some(CO)).unwrap();
            let protected = o.hides_secrets();
            for r in &out {
                match r {
                    AttrResult::Sensitive => assert!(protected),
                    AttrResult::Value(_) => {
                        assert!(!protected);
                        assert!(!self.hidden.contains(&h), "a hidden value reappeared");
                        assert_eq!(o.flag(CKA_SENSITIVE), Some(false));
                        assert_eq!(o.flag(CKA_EXTRACTABLE), Some(true));
                    }
                    AttrResult::TypeInvalid => panic!("secret attribute missing"),
                }
            }
            if protected {
                newly_hidden.push(h);
                assert_eq!(
                    AttrResult::overall(&out).unwrap_err().ckr(),
                    ckr::CKR_ATTRIBUTE_SENSITIVE
                );
                let value = o.value(secrets[0]).unwrap().to_vec();
                assert!(!o.matches(&tpl(vec![raw(secrets[0], &value)])));
            }
        }
        self.hidden.extend(newly_hidden);
        // Searches agree with a scan.
        for l in 0..6 {
            let t = tpl(vec![label(l)]);
            let fast = self.ix.find(&t, Some(CU));
            let slow: Vec<_> = self
                .ix
                .iter()
                .filter(|(_, o)| o.matches(&t))
                .map(|(h, _)| h)
                .collect();
            assert_eq!(fast, slow);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_sequences_keep_accounting_exact_and_secrets_hidden(
        ops in proptest::collection::vec(op(), 1..60),
        budget in 2_000u64..12_000,
    ) {
        let mut m = Model {
            ix: ObjectIndex::new(budget),
            issued: HashSet::new(),
            hidden: BTreeSet::new(),
        };
        for op in ops {
            m.apply(op);
        }
    }
}
