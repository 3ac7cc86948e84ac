//! `--report`: a Markdown table from the JSON results of several runs (the benchmark script's
//! files), one row per operation and thread count, with each module's operations per second,
//! Strongroom's latency, and the ratios to SoftHSM2 (its best figure at any thread count, as
//! the targets are stated) and to `raw` at the same thread count.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;

#[derive(Clone, Debug, Deserialize)]
struct Row {
    module: String,
    op: String,
    threads: usize,
    ops_per_sec: f64,
    p50_us: f64,
    p99_us: f64,
    errors: u64,
}

/// Which column a module name belongs to.
fn column(module: &str) -> Option<usize> {
    if module.contains("strongroom") {
        Some(0)
    } else if module.contains("softhsm") {
        Some(1)
    } else if module == "raw" {
        Some(2)
    } else {
        None
    }
}

/// Reads every `*.json` file of `dir` and renders the table.
pub(crate) fn render(dir: &Path) -> Result<String, String> {
    let mut rows: Vec<Row> = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        let mut r: Vec<Row> =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", f.display()))?;
        rows.append(&mut r);
    }
    Ok(table(&rows))
}

fn table(rows: &[Row]) -> String {
    // (op, threads) -> [strongroom, softhsm, raw]
    let mut cells: BTreeMap<(String, usize), [Option<&Row>; 3]> = BTreeMap::new();
    let mut softhsm_best: BTreeMap<&str, f64> = BTreeMap::new();
    for r in rows {
        let Some(c) = column(&r.module) else { continue };
        cells.entry((r.op.clone(), r.threads)).or_default()[c] = Some(r);
        if c == 1 {
            let best = softhsm_best.entry(&r.op).or_default();
            *best = best.max(r.ops_per_sec);
        }
    }
    let mut out = String::from(
        "| operation | threads | Strongroom ops/s | SoftHSM2 ops/s | raw ops/s | Strongroom / SoftHSM2 best | Strongroom / raw | Strongroom p50 µs | p99 µs | errors |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let num = |r: Option<&Row>| r.map_or("–".to_owned(), |r| format!("{:.0}", r.ops_per_sec));
    for ((op, threads), [s, h, raw]) in &cells {
        let ratio = |den: Option<f64>| match (s, den) {
            (Some(s), Some(d)) if d > 0.0 => format!("{:.2}×", s.ops_per_sec / d),
            _ => "–".to_owned(),
        };
        let errors: u64 = [*s, *h, *raw].into_iter().flatten().map(|r| r.errors).sum();
        let _ = writeln!(
            out,
            "| {op} | {threads} | {} | {} | {} | {} | {} | {} | {} | {errors} |",
            num(*s),
            num(*h),
            num(*raw),
            ratio(softhsm_best.get(op.as_str()).copied()),
            ratio(raw.map(|r| r.ops_per_sec)),
            s.map_or("–".to_owned(), |r| format!("{:.1}", r.p50_us)),
            s.map_or("–".to_owned(), |r| format!("{:.1}", r.p99_us)),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(module: &str, op: &str, threads: usize, ops: f64) -> Row {
        Row {
            module: module.into(),
            op: op.into(),
            threads,
            ops_per_sec: ops,
            p50_us: 10.0,
            p99_us: 20.0,
            errors: 0,
        }
    }

    #[test]
    fn ratios_use_softhsm_best_and_raw_at_the_same_thread_count() {
        let rows = [
            row("strongroom_pkcs11", "rsa2048-pkcs-sign", 8, 1200.0),
            row("softhsm2", "rsa2048-pkcs-sign", 1, 900.0),
            row("softhsm2", "rsa2048-pkcs-sign", 8, 1000.0),
            row("raw", "rsa2048-pkcs-sign", 8, 1500.0),
        ];
        let t = table(&rows);
        let line = t
            .lines()
            .find(|l| l.starts_with("| rsa2048-pkcs-sign | 8 |"))
            .expect("row");
        assert!(
            line.contains("| 1200 | 1000 | 1500 | 1.20× | 0.80× |"),
            "{line}"
        );
        assert!(
            t.contains("| rsa2048-pkcs-sign | 1 | – | 900 | – | – | – |"),
            "{t}"
        );
    }
}
