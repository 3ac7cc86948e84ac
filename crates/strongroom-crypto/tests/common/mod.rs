//! Known-answer file reader shared by the test binaries (STYLE rule 19): records of
#![allow(unreachable_pub)]
//! `Key = value` lines separated by blank lines, `#` comments, `[Name = value]` section headers
//! that apply to the records below them. Every field of a record must be taken by the runner;
//! `Record::done` fails the test on an unconsumed one.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

/// One record: its fields, the section attributes above it, and which fields were taken.
pub struct Record {
    pub file: String,
    pub line: usize,
    fields: BTreeMap<String, String>,
    taken: Vec<String>,
    pub section: BTreeMap<String, String>,
}

impl Record {
    /// Takes a field as text; panics if absent.
    pub fn text(&mut self, key: &str) -> String {
        let v = self
            .fields
            .get(key)
            .unwrap_or_else(|| panic!("{}:{}: missing field {key}", self.file, self.line))
            .clone();
        self.taken.push(key.to_string());
        v
    }

    /// Takes a hex field.
    pub fn hex(&mut self, key: &str) -> Vec<u8> {
        let t = self.text(key);
        unhex(&t)
    }

    /// Takes a field if present.
    pub fn opt_hex(&mut self, key: &str) -> Option<Vec<u8>> {
        if self.fields.contains_key(key) {
            Some(self.hex(key))
        } else {
            None
        }
    }

    /// Takes a decimal field.
    pub fn num(&mut self, key: &str) -> usize {
        self.text(key).parse().expect("decimal field")
    }

    /// Fails if any field was not taken.
    pub fn done(self) {
        for k in self.fields.keys() {
            assert!(
                self.taken.iter().any(|t| t == k),
                "{}:{}: field {k} was not consumed by the runner",
                self.file,
                self.line
            );
        }
    }
}

/// Path of a file under `testdata/`.
pub fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

/// Reads every record of a vector file.
pub fn records(rel: &str) -> Vec<Record> {
    let text = std::fs::read_to_string(testdata(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let mut out = Vec::new();
    let mut section = BTreeMap::new();
    let mut cur: Option<Record> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            if let Some(r) = cur.take() {
                out.push(r);
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if let Some(h) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            if let Some(r) = cur.take() {
                out.push(r);
            }
            match h.split_once('=') {
                Some((k, v)) => {
                    section.insert(k.trim().to_string(), v.trim().to_string());
                }
                None => {
                    section.clear();
                    section.insert("name".to_string(), h.trim().to_string());
                }
            }
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("{rel}:{}: not a key = value line", i + 1));
        let r = cur.get_or_insert_with(|| Record {
            file: rel.to_string(),
            line: i + 1,
            fields: BTreeMap::new(),
            taken: Vec::new(),
            section: section.clone(),
        });
        let prev = r.fields.insert(k.trim().to_string(), v.trim().to_string());
        assert!(
            prev.is_none(),
            "{rel}:{}: duplicate field {}",
            i + 1,
            k.trim()
        );
    }
    if let Some(r) = cur.take() {
        out.push(r);
    }
    out
}

pub fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A copy of `v` with one bit flipped at `i` (mod length); an empty input becomes one byte.
pub fn tamper(v: &[u8], i: usize) -> Vec<u8> {
    let mut t = v.to_vec();
    if t.is_empty() {
        t.push(0x80);
    } else {
        let n = t.len();
        t[i % n] ^= 0x01;
    }
    t
}
