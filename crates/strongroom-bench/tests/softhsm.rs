//! The load generator against a real third-party PKCS#11 module, SoftHSM2 (installed by the
//! test command): JSON results, counted runs on several threads, find-label, `--compare raw`,
//! the SVG chart, and a clear failure for a wrong PIN.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SOFTHSM: &str = "/usr/lib/softhsm/libsofthsm2.so";
const PIN: &str = "246810";

/// A SoftHSM2 configuration with one initialized token `bench` in a temporary directory.
fn softhsm_token(tmp: &Path) -> PathBuf {
    assert!(
        Path::new(SOFTHSM).exists(),
        "{SOFTHSM} is missing: install Debian's softhsm2 (./test.sh does)"
    );
    let tokens = tmp.join("tokens");
    std::fs::create_dir_all(&tokens).expect("token dir");
    let conf = tmp.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .expect("softhsm2.conf");
    let out = Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", &conf)
        .args(["--init-token", "--free", "--label", "bench"])
        .args(["--so-pin", "13579111", "--pin", PIN])
        .output()
        .expect("softhsm2-util runs");
    assert!(out.status.success(), "{out:?}");
    conf
}

fn bench(conf: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strongroom-bench"))
        .env("SOFTHSM2_CONF", conf)
        .args(["--module", SOFTHSM, "--token", "bench", "--quiet"])
        .args(args)
        .output()
        .expect("strongroom-bench runs")
}

fn points(out: &Output) -> Vec<serde_json::Value> {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON results")
}

#[test]
fn counted_runs_report_every_operation_and_percentiles() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let conf = softhsm_token(tmp.path());
    let out = bench(
        &conf,
        &[
            "--pin",
            PIN,
            "--op",
            "ecdsa-p256-sign",
            "--threads",
            "1,2",
            "--count",
            "300",
            "--warmup",
            "0",
            "--json",
        ],
    );
    let pts = points(&out);
    assert_eq!(pts.len(), 2);
    for (p, threads) in pts.iter().zip([1, 2]) {
        assert_eq!(p["module"], "softhsm2");
        assert_eq!(p["threads"], threads);
        assert_eq!(p["errors"], 0, "{p}");
        let ops = p["operations"].as_u64().expect("operations");
        assert!((300..=302).contains(&ops), "{p}");
        let q = |k: &str| p[k].as_f64().expect(k);
        assert!(q("p50_us") > 0.0 && q("p50_us") <= q("p90_us"), "{p}");
        assert!(
            q("p90_us") <= q("p99_us") && q("p99_us") <= q("max_us"),
            "{p}"
        );
        assert!(q("ops_per_sec") > 0.0);
    }
}

#[test]
fn find_label_compare_raw_and_the_chart() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let conf = softhsm_token(tmp.path());
    let out = bench(
        &conf,
        &[
            "--pin",
            PIN,
            "--op",
            "find-label",
            "--objects",
            "40",
            "--count",
            "40",
            "--warmup",
            "0",
            "--json",
        ],
    );
    let pts = points(&out);
    assert_eq!(pts[0]["errors"], 0, "{}", pts[0]);

    let svg = tmp.path().join("chart.svg");
    let out = bench(
        &conf,
        &[
            "--pin",
            PIN,
            "--op",
            "aes-gcm-encrypt",
            "--size",
            "1024",
            "--compare",
            "raw",
            "--threads",
            "1,2",
            "--count",
            "200",
            "--warmup",
            "0",
            "--svg",
            svg.to_str().expect("path"),
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("ratio softhsm2 / raw:"), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("raw ")).count(),
        2,
        "{text}"
    );
    let chart = std::fs::read_to_string(&svg).expect("chart written");
    assert!(chart.starts_with("<svg"), "{chart}");
    assert!(chart.contains("softhsm2") && chart.contains("raw"));
}

#[test]
fn a_wrong_pin_fails_clearly_before_measuring() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let conf = softhsm_token(tmp.path());
    let out = bench(
        &conf,
        &["--pin", "000000", "--op", "random", "--count", "10"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("C_Login"), "{err}");
    assert!(!err.contains("000000"), "the PIN is not echoed: {err}");
    let out = bench(&conf, &["--op", "no-such-op"]);
    assert!(!out.status.success());
}
