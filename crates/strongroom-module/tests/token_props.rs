//! Property: random sequences of create / copy / destroy / set-attribute (and restarts) on a
//! small partition keep its storage accounting exact (`used` is the sum of the token objects'
//! sizes, `objects` their count), refuse without changing anything, survive a restart, and
//! never reveal a value the rules hide (`CKA_SENSITIVE` true or `CKA_EXTRACTABLE` false),
//! neither through `C_GetAttributeValue` nor as a search match.

mod common;

use common::token::*;
use cryptoki_sys::*;
use proptest::prelude::*;
use strongroom_module::{AccessId, AttrResult, ObjectHandle, RetCode, SessionHandle};
use strongroom_proto::ret;

const SIZE: u64 = 3000;

#[derive(Clone, Debug)]
enum Op {
    /// kind: 0 public data, 1 private data, 2 revealable AES key, 3 sensitive AES key,
    /// 4 unextractable AES key.
    Create {
        kind: u8,
        token: bool,
        label: usize,
    },
    Copy {
        pick: usize,
        token: bool,
        label: usize,
    },
    Destroy {
        pick: usize,
    },
    SetLabel {
        pick: usize,
        label: usize,
    },
    MakeSensitive {
        pick: usize,
    },
    MakeUnextractable {
        pick: usize,
    },
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0u8..5, any::<bool>(), 0usize..120).prop_map(|(kind, token, label)| Op::Create { kind, token, label }),
        2 => (any::<usize>(), any::<bool>(), 0usize..120).prop_map(|(pick, token, label)| Op::Copy { pick, token, label }),
        2 => any::<usize>().prop_map(|pick| Op::Destroy { pick }),
        2 => (any::<usize>(), 0usize..400).prop_map(|(pick, label)| Op::SetLabel { pick, label }),
        1 => any::<usize>().prop_map(|pick| Op::MakeSensitive { pick }),
        1 => any::<usize>().prop_map(|pick| Op::MakeUnextractable { pick }),
        1 => Just(Op::Reopen),
    ]
}

/// What the model knows of one object.
#[derive(Clone, Debug)]
struct Obj {
    handle: ObjectHandle,
    unique_id: Vec<u8>,
    token: bool,
    key: bool,
    sensitive: bool,
    extractable: bool,
    label: Vec<u8>,
    value: Vec<u8>,
}

impl Obj {
    fn hidden(&self) -> bool {
        self.key && (self.sensitive || !self.extractable)
    }
}

struct World {
    /// `None` only inside `reopen`.
    part: Option<Part>,
    a: AccessId,
    s: SessionHandle,
    objs: Vec<Obj>,
    next_value: u8,
}

fn label(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| b'a' + u8::try_from(i % 26).unwrap())
        .collect()
}

/// The codes a refused change may have here.
fn expected_refusal(code: RetCode) -> bool {
    [
        ret::SR_RET_MM_NOT_ENOUGH_MEMORY,
        ret::SR_RET_ATTRIBUTE_READ_ONLY,
        ret::SR_RET_TEMPLATE_INCONSISTENT,
    ]
    .contains(&code)
}

impl World {
    fn new() -> World {
        let mut p = part_sized(SIZE);
        let (a, s) = p.rw(Some(CO));
        World {
            part: Some(p),
            a,
            s,
            objs: Vec::new(),
            next_value: 1,
        }
    }

    fn p(&self) -> &Part {
        self.part.as_ref().expect("part present")
    }

    fn pm(&mut self) -> &mut Part {
        self.part.as_mut().expect("part present")
    }

    fn pick(&self, i: usize) -> Option<usize> {
        (!self.objs.is_empty()).then(|| i % self.objs.len())
    }

    fn adopt(&mut self, h: ObjectHandle, mut model: Obj) {
        model.handle = h;
        model.unique_id = self.p().attr(self.a, self.s, h, CKA_UNIQUE_ID);
        self.objs.push(model);
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let (a, s) = (self.a, self.s);
        let outcome = match op.clone() {
            Op::Create {
                kind,
                token,
                label: n,
            } => {
                let v = vec![self.next_value; 16];
                self.next_value = self.next_value.wrapping_add(1).max(1);
                let mut attrs = if kind < 2 {
                    data("x", kind == 1, token)
                } else {
                    aes(&v, token)
                };
                attrs.retain(|x| x.attr_type() != CKA_LABEL);
                attrs.push(raw(CKA_LABEL, &label(n)));
                let (sensitive, extractable) = match kind {
                    2 => (false, true),
                    3 => (true, true),
                    _ => (false, false),
                };
                if kind >= 2 {
                    attrs.push(b(CKA_SENSITIVE, sensitive));
                    attrs.push(b(CKA_EXTRACTABLE, extractable));
                }
                let model = Obj {
                    handle: ObjectHandle::from_value(0),
                    unique_id: Vec::new(),
                    token,
                    key: kind >= 2,
                    sensitive,
                    extractable,
                    label: label(n),
                    value: if kind >= 2 {
                        v
                    } else {
                        b"some application data".to_vec()
                    },
                };
                self.pm()
                    .hsm
                    .create_object(a, s, &tpl(attrs))
                    .map(|h| self.adopt(h, model))
            }
            Op::Copy {
                pick,
                token,
                label: n,
            } => {
                let Some(i) = self.pick(pick) else {
                    return Ok(());
                };
                let src = self.objs[i].clone();
                let t = tpl(vec![b(CKA_TOKEN, token), raw(CKA_LABEL, &label(n))]);
                self.pm().hsm.copy_object(a, s, src.handle, &t).map(|h| {
                    let model = Obj {
                        token,
                        label: label(n),
                        ..src
                    };
                    self.adopt(h, model);
                })
            }
            Op::Destroy { pick } => {
                let Some(i) = self.pick(pick) else {
                    return Ok(());
                };
                let h = self.objs[i].handle;
                self.pm().hsm.destroy_object(a, s, h).map(|()| {
                    self.objs.remove(i);
                })
            }
            Op::SetLabel { pick, label: n } => {
                let Some(i) = self.pick(pick) else {
                    return Ok(());
                };
                let t = tpl(vec![raw(CKA_LABEL, &label(n))]);
                let h = self.objs[i].handle;
                self.pm()
                    .hsm
                    .set_attribute_value(a, s, h, &t)
                    .map(|()| self.objs[i].label = label(n))
            }
            Op::MakeSensitive { pick } => {
                let Some(i) = self.pick(pick) else {
                    return Ok(());
                };
                let t = tpl(vec![b(CKA_SENSITIVE, true)]);
                let h = self.objs[i].handle;
                self.pm()
                    .hsm
                    .set_attribute_value(a, s, h, &t)
                    .map(|()| self.objs[i].sensitive = true)
            }
            Op::MakeUnextractable { pick } => {
                let Some(i) = self.pick(pick) else {
                    return Ok(());
                };
                let t = tpl(vec![b(CKA_EXTRACTABLE, false)]);
                let h = self.objs[i].handle;
                self.pm()
                    .hsm
                    .set_attribute_value(a, s, h, &t)
                    .map(|()| self.objs[i].extractable = false)
            }
            Op::Reopen => {
                self.reopen();
                Ok(())
            }
        };
        if let Err(e) = outcome {
            prop_assert!(expected_refusal(e.code()), "{op:?}: unexpected {e}");
        }
        self.check()
    }

    /// Restarts the module: session objects are gone, token objects get new handles.
    fn reopen(&mut self) {
        let mut p = self.part.take().expect("part present").reopen();
        let (a, s) = p.rw(Some(CO));
        self.objs.retain(|o| o.token);
        for o in &mut self.objs {
            p.hsm
                .find_objects_init(a, s, &tpl(vec![raw(CKA_UNIQUE_ID, &o.unique_id)]))
                .unwrap();
            let found = p.hsm.find_objects(a, s, 2).unwrap();
            p.hsm.find_objects_final(a, s).unwrap();
            assert_eq!(found.len(), 1, "token object lost in a restart");
            o.handle = found[0];
        }
        self.part = Some(p);
        self.a = a;
        self.s = s;
    }

    fn check(&self) -> Result<(), TestCaseError> {
        let (a, s) = (self.a, self.s);
        let info = self.p().hsm.partition_show("tok").unwrap();
        let mut sum = 0;
        let mut count = 0;
        for o in &self.objs {
            let r = self
                .p()
                .hsm
                .get_attribute_value(a, s, o.handle, &[CKA_LABEL, CKA_VALUE])
                .unwrap();
            prop_assert_eq!(&r[0], &AttrResult::Value(o.label.clone()));
            if o.hidden() {
                prop_assert_eq!(&r[1], &AttrResult::Sensitive);
            } else {
                prop_assert_eq!(&r[1], &AttrResult::Value(o.value.clone()));
            }
            if o.token {
                sum += self.p().hsm.object_size(a, s, o.handle).unwrap();
                count += 1;
            }
        }
        prop_assert_eq!((info.used, info.objects), (sum, count));
        prop_assert!(info.used <= SIZE);
        // A search by a key's value finds exactly the keys that show it.
        for o in self.objs.iter().filter(|o| o.key) {
            self.p()
                .hsm
                .find_objects_init(a, s, &tpl(vec![raw(CKA_VALUE, &o.value)]))
                .unwrap();
            let found = self.p().hsm.find_objects(a, s, 100).unwrap();
            self.p().hsm.find_objects_final(a, s).unwrap();
            for h in &found {
                let m = self.objs.iter().find(|x| x.handle == *h);
                prop_assert!(
                    m.is_some_and(|m| !m.hidden()),
                    "a hidden value matched a search"
                );
            }
            prop_assert_eq!(found.contains(&o.handle), !o.hidden());
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn accounting_stays_exact_and_hidden_values_stay_hidden(ops in proptest::collection::vec(op(), 1..30)) {
        let mut w = World::new();
        for op in &ops {
            w.apply(op)?;
        }
        w.reopen();
        w.check()?;
    }
}
