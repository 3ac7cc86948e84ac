//! Running one measurement point: a target, an operation and a thread count; warm-up, then
//! operations until the duration or the count is reached, with a progress line on stderr.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

/// One thread's operation loop.
pub(crate) trait Worker: Send {
    /// Runs the operation once.
    fn run_once(&mut self) -> Result<(), String>;
}

/// What is measured: a PKCS#11 module or the crypto library in-process.
pub(crate) trait Target: Sync {
    /// The name in tables and charts.
    fn name(&self) -> &str;
    /// A worker for thread `index` (its own session, or the shared one).
    fn worker(&self, index: usize) -> Result<Box<dyn Worker>, String>;
    /// Cleans up after the last point (token objects made for the run).
    fn finish(&self) {}
}

/// When a point ends.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Stop {
    /// After this long.
    After(Duration),
    /// After this many operations in all.
    Count(u64),
}

/// The result of one point.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Point {
    pub(crate) module: String,
    pub(crate) op: String,
    pub(crate) threads: usize,
    pub(crate) operations: u64,
    pub(crate) errors: u64,
    pub(crate) seconds: f64,
    pub(crate) ops_per_sec: f64,
    pub(crate) p50_us: f64,
    pub(crate) p90_us: f64,
    pub(crate) p99_us: f64,
    pub(crate) max_us: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) first_error: Option<String>,
}

fn histogram() -> Histogram<u64> {
    // 1 ns .. 100 s at 3 significant digits: bounds the library accepts.
    Histogram::new_with_bounds(1, 100_000_000_000, 3).expect("valid histogram bounds")
}

/// Runs one point. `progress` prints a line on stderr every second.
pub(crate) fn run_point(
    target: &dyn Target,
    op: &str,
    threads: usize,
    warmup: Duration,
    stop: Stop,
    progress: bool,
) -> Result<Point, String> {
    let mut workers = (0..threads)
        .map(|i| target.worker(i))
        .collect::<Result<Vec<_>, _>>()?;
    let done = AtomicU64::new(0);
    let errors = AtomicU64::new(0);
    let finished = AtomicBool::new(false);
    let first_error = Mutex::new(None::<String>);
    let merged = Mutex::new(histogram());
    let start_line = Barrier::new(threads + 1);
    let mut elapsed = Duration::ZERO;
    std::thread::scope(|scope| {
        for worker in &mut workers {
            let (done, errors, finished, first_error, merged, start_line) = (
                &done,
                &errors,
                &finished,
                &first_error,
                &merged,
                &start_line,
            );
            scope.spawn(move || {
                let warm_until = Instant::now() + warmup;
                while Instant::now() < warm_until {
                    if worker.run_once().is_err() {
                        break;
                    }
                }
                let mut hist = histogram();
                start_line.wait();
                while !finished.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let r = worker.run_once();
                    let ns = u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX);
                    match r {
                        Ok(()) => {
                            let _ = hist.record(ns.max(1));
                        }
                        Err(e) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            let mut first = first_error.lock().unwrap_or_else(|p| p.into_inner());
                            if first.is_none() {
                                *first = Some(e);
                            }
                        }
                    }
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if let Stop::Count(total) = stop
                        && n >= total
                    {
                        finished.store(true, Ordering::Relaxed);
                    }
                }
                let _ = merged.lock().unwrap_or_else(|p| p.into_inner()).add(&hist);
            });
        }
        start_line.wait();
        let begin = Instant::now();
        let mut last_print = begin;
        loop {
            std::thread::sleep(Duration::from_millis(50));
            let now = Instant::now();
            if let Stop::After(d) = stop
                && now.duration_since(begin) >= d
            {
                finished.store(true, Ordering::Relaxed);
            }
            if progress && now.duration_since(last_print) >= Duration::from_secs(1) {
                last_print = now;
                let n = done.load(Ordering::Relaxed);
                let secs = now.duration_since(begin).as_secs_f64();
                eprint!(
                    "\r  {} {op} {threads} threads: {n} ops, {:.0} ops/s, {} errors   ",
                    target.name(),
                    n as f64 / secs.max(1e-9),
                    errors.load(Ordering::Relaxed)
                );
                let _ = std::io::stderr().flush();
            }
            if finished.load(Ordering::Relaxed) {
                elapsed = begin.elapsed();
                break;
            }
        }
    });
    if progress {
        eprint!("\r{:80}\r", "");
    }
    let hist = merged.into_inner().unwrap_or_else(|p| p.into_inner());
    let operations = done.load(Ordering::Relaxed);
    let errors = errors.load(Ordering::Relaxed);
    let us = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    let seconds = elapsed.as_secs_f64();
    Ok(Point {
        module: target.name().to_owned(),
        op: op.to_owned(),
        threads,
        operations,
        errors,
        seconds,
        ops_per_sec: (operations - errors) as f64 / seconds.max(1e-9),
        p50_us: us(0.50),
        p90_us: us(0.90),
        p99_us: us(0.99),
        max_us: hist.max() as f64 / 1000.0,
        first_error: first_error.into_inner().unwrap_or_else(|p| p.into_inner()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counting(u64);

    impl Worker for Counting {
        fn run_once(&mut self) -> Result<(), String> {
            self.0 += 1;
            if self.0.is_multiple_of(10) {
                Err("every tenth fails".into())
            } else {
                Ok(())
            }
        }
    }

    struct Fake;

    impl Target for Fake {
        fn name(&self) -> &str {
            "fake"
        }
        fn worker(&self, _: usize) -> Result<Box<dyn Worker>, String> {
            Ok(Box::new(Counting(0)))
        }
    }

    #[test]
    fn a_counted_point_stops_at_its_count_and_counts_errors() {
        let p = run_point(&Fake, "x", 2, Duration::ZERO, Stop::Count(1000), false).expect("point");
        // Each thread may finish the operation it started when the count was reached.
        assert!((1000..=1002).contains(&p.operations), "{p:?}");
        assert!(p.errors >= 98 && p.errors <= 101, "{p:?}");
        assert_eq!(p.first_error.as_deref(), Some("every tenth fails"));
        assert!(p.p50_us <= p.p99_us && p.p99_us <= p.max_us, "{p:?}");
    }
}
