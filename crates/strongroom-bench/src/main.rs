//! `strongroom-bench`: a load generator for any PKCS#11 module, in the manner of the
//! vendor's `multitoken`: one operation, many threads, operations per second and latency
//! percentiles; `--compare` alternates a second module (or `raw`, the crypto library
//! in-process) in the same run and prints the ratios.

#![forbid(unsafe_code)]

mod chart;
mod ops;
mod p11;
mod raw;
mod report;
mod runner;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::ops::Op;
use crate::p11::{ModuleOptions, P11Target, Role};
use crate::raw::RawTarget;
use crate::runner::{Point, Stop, Target};

/// Where keys live during the run.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum KeyOn {
    /// Session objects.
    Session,
    /// Token objects (destroyed at the end of the run).
    Token,
}

/// How threads use sessions.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Sessions {
    /// One session per thread.
    PerThread,
    /// One session shared by every thread (calls serialized).
    Shared,
}

/// The role that logs in.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum UserArg {
    /// `CKU_USER` (the Crypto Officer on Strongroom).
    User,
    /// `CKU_SO`.
    So,
    /// Strongroom's Crypto User (vendor type 0x80000001).
    CryptoUser,
}

/// Measure PKCS#11 operations per second and latency under many threads.
#[derive(Debug, Parser)]
#[command(name = "strongroom-bench", version)]
struct Args {
    /// The PKCS#11 module (shared library path), or `raw` for the crypto library in-process.
    #[arg(
        long,
        short = 'm',
        env = "STRONGROOM_BENCH_MODULE",
        required_unless_present_any = ["list_ops", "report"]
    )]
    module: Option<String>,
    /// A second module (or `raw`) measured alternately in the same run; ratios are printed.
    #[arg(long)]
    compare: Option<String>,
    /// The operation (see --list-ops).
    #[arg(long, short = 'o', required_unless_present_any = ["list_ops", "report"])]
    op: Option<Op>,
    /// Thread counts, one point each (e.g. 1,2,4,8,16).
    #[arg(long, short = 't', value_delimiter = ',', default_value = "1")]
    threads: Vec<usize>,
    /// Seconds measured per point.
    #[arg(long, short = 'd', default_value_t = 5.0, conflicts_with = "count")]
    duration: f64,
    /// Operations per point instead of a duration.
    #[arg(long, short = 'n')]
    count: Option<u64>,
    /// Seconds of warm-up per point (not measured).
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Data size in bytes (ciphers, HMAC, random; signatures sign 32 bytes by default).
    #[arg(long, short = 's')]
    size: Option<usize>,
    /// The slot id (default: the first slot with a token).
    #[arg(long)]
    slot: Option<u64>,
    /// The token label instead of a slot id.
    #[arg(long)]
    token: Option<String>,
    /// The PIN (or set STRONGROOM_BENCH_PIN); none: no login.
    #[arg(long, env = "STRONGROOM_BENCH_PIN", hide_env_values = true)]
    pin: Option<String>,
    /// The PIN of the --compare module, if different.
    #[arg(long, env = "STRONGROOM_BENCH_COMPARE_PIN", hide_env_values = true)]
    compare_pin: Option<String>,
    /// The token label in the --compare module.
    #[arg(long)]
    compare_token: Option<String>,
    /// The role that logs in.
    #[arg(long, value_enum, default_value = "user")]
    user: UserArg,
    /// Where the run's keys live.
    #[arg(long, value_enum, default_value = "session")]
    key_on: KeyOn,
    /// Session per thread, or one shared.
    #[arg(long, value_enum, default_value = "per-thread")]
    sessions: Sessions,
    /// Token objects among which find-label searches (made once, kept for later runs).
    #[arg(long, default_value_t = 1000)]
    objects: usize,
    /// Print the results as JSON on stdout instead of a table.
    #[arg(long)]
    json: bool,
    /// Write an SVG chart of ops/s against threads.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// No progress line.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// List the operations and exit.
    #[arg(long)]
    list_ops: bool,
    /// Print a Markdown table of the JSON results in this directory and exit.
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
}

fn open(
    args: &Args,
    module: &str,
    pin: Option<&String>,
    token: Option<&String>,
    op: Op,
    size: usize,
) -> Result<Box<dyn Target>, String> {
    if module == "raw" {
        return Ok(Box::new(RawTarget::open(op, size)?));
    }
    let role = match args.user {
        UserArg::User => Role::User,
        UserArg::So => Role::So,
        UserArg::CryptoUser => Role::Vendor(0x8000_0001),
    };
    let opts = ModuleOptions {
        path: module.to_owned(),
        slot: if token.is_some() { None } else { args.slot },
        token_label: token.cloned(),
        pin: pin.cloned(),
        role,
        key_on_token: matches!(args.key_on, KeyOn::Token),
        shared_session: matches!(args.sessions, Sessions::Shared),
        objects: args.objects,
    };
    Ok(Box::new(P11Target::open(&opts, op, size)?))
}

fn print_row(p: &Point) {
    println!(
        "{:<16} {:>7} {:>12.1} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>7}",
        p.module, p.threads, p.ops_per_sec, p.p50_us, p.p90_us, p.p99_us, p.max_us, p.errors
    );
}

fn run(args: &Args) -> Result<(), String> {
    if let Some(dir) = &args.report {
        print!("{}", report::render(dir)?);
        return Ok(());
    }
    if args.list_ops {
        for op in ops::ALL {
            println!("{:<22} {}", op.to_string(), op.describe());
        }
        return Ok(());
    }
    let (Some(module), Some(op)) = (&args.module, args.op) else {
        return Err("--module and --op are required".into());
    };
    let size = args.size.unwrap_or_else(|| op.default_size());
    let mut targets = vec![open(
        args,
        module,
        args.pin.as_ref(),
        args.token.as_ref(),
        op,
        size,
    )?];
    if let Some(other) = &args.compare {
        let pin = args.compare_pin.as_ref().or(args.pin.as_ref());
        let token = args.compare_token.as_ref().or(args.token.as_ref());
        targets.push(open(args, other, pin, token, op, size)?);
    }
    let stop = match args.count {
        Some(n) => Stop::Count(n),
        None => Stop::After(Duration::from_secs_f64(args.duration)),
    };
    let warmup = Duration::from_secs_f64(args.warmup);
    if !args.json {
        println!("operation: {op} ({}), {size} bytes", op.describe());
        println!(
            "{:<16} {:>7} {:>12} {:>10} {:>10} {:>10} {:>10} {:>7}",
            "module", "threads", "ops/s", "p50 us", "p90 us", "p99 us", "max us", "errors"
        );
    }
    let mut points = Vec::new();
    for &threads in &args.threads {
        // The modules alternate at each thread count so that both see the same machine.
        for target in &targets {
            let p = runner::run_point(
                target.as_ref(),
                &op.to_string(),
                threads.max(1),
                warmup,
                stop,
                !args.quiet,
            )?;
            if !args.json {
                print_row(&p);
            }
            points.push(p);
        }
    }
    for t in &targets {
        t.finish();
    }
    if args.json {
        let text = serde_json::to_string_pretty(&points).map_err(|e| e.to_string())?;
        println!("{text}");
    } else if targets.len() == 2 {
        println!("\nratio {} / {}:", targets[0].name(), targets[1].name());
        for pair in points.chunks(2) {
            if let [a, b] = pair {
                println!(
                    "  {:>3} threads: {:.2}x ops/s, p50 latency {:.2}x",
                    a.threads,
                    a.ops_per_sec / b.ops_per_sec.max(1e-9),
                    a.p50_us / b.p50_us.max(1e-9)
                );
            }
        }
    }
    if let Some(path) = &args.svg {
        chart::write_svg(path, &op.to_string(), &points)?;
    }
    let errors: u64 = points.iter().map(|p| p.errors).sum();
    if errors > 0 {
        let first = points.iter().find_map(|p| p.first_error.clone());
        return Err(format!(
            "{errors} operations failed; the first: {}",
            first.unwrap_or_default()
        ));
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("strongroom-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
