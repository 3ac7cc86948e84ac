//! Partition utilization metrics (catalog MO-20..MO-27) and the busy-time clock of the
//! performance monitor (MO-10..MO-12). Both are volatile: a restart of the module, `hsm
//! restart` and `hsm init` start them again from zero.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, e};

/// The counters of one partition (or the HSM-wide totals), one per bin of MO-20.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MetricCounts {
    /// Sign requests.
    pub sign: u64,
    /// Verify requests.
    pub verify: u64,
    /// Encrypt requests (key wrapping counts here).
    pub encrypt: u64,
    /// Decrypt requests (key unwrapping counts here).
    pub decrypt: u64,
    /// Key generation requests (keys and key pairs).
    pub key_generate: u64,
    /// Key derivation requests.
    pub key_derive: u64,
}

impl MetricCounts {
    fn add(&mut self, other: &MetricCounts) {
        self.sign = self.sign.saturating_add(other.sign);
        self.verify = self.verify.saturating_add(other.verify);
        self.encrypt = self.encrypt.saturating_add(other.encrypt);
        self.decrypt = self.decrypt.saturating_add(other.decrypt);
        self.key_generate = self.key_generate.saturating_add(other.key_generate);
        self.key_derive = self.key_derive.saturating_add(other.key_derive);
    }
}

/// The counters of one partition, as `hsm qos metrics show` lists them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionMetrics {
    /// Partition serial number.
    pub serial: u64,
    /// Partition name.
    pub name: String,
    /// Its counters.
    pub counts: MetricCounts,
}

/// A snapshot of every partition's counters and the HSM-wide totals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricsReport {
    /// Each partition, in serial order.
    pub partitions: Vec<PartitionMetrics>,
    /// The sums over all partitions.
    pub total: MetricCounts,
}

/// A bin of MO-20.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bin {
    Sign,
    Verify,
    Encrypt,
    Decrypt,
    KeyGenerate,
    KeyDerive,
}

/// Counters by partition serial. Requests are counted when they reach the module with a
/// valid session, whether they then succeed or fail (MO-21).
#[derive(Default)]
pub(crate) struct Counters {
    by_partition: Mutex<BTreeMap<u64, MetricCounts>>,
}

impl Counters {
    /// Counts one request in `bin` for partition `serial`.
    pub(crate) fn count(&self, serial: u64, bin: Bin) {
        // A poisoned lock loses a count, never an answer.
        let Ok(mut map) = self.by_partition.lock() else {
            return;
        };
        let c = map.entry(serial).or_default();
        let field = match bin {
            Bin::Sign => &mut c.sign,
            Bin::Verify => &mut c.verify,
            Bin::Encrypt => &mut c.encrypt,
            Bin::Decrypt => &mut c.decrypt,
            Bin::KeyGenerate => &mut c.key_generate,
            Bin::KeyDerive => &mut c.key_derive,
        };
        *field = field.saturating_add(1);
    }

    /// The counters of the partitions listed (serial, name), and their totals; with `reset`,
    /// zeroes them in the same locked step, so no count falls between the two (MO-25).
    pub(crate) fn snapshot(
        &self,
        partitions: &[(u64, String)],
        reset: bool,
    ) -> Result<MetricsReport, Error> {
        let mut map = self
            .by_partition
            .lock()
            .map_err(|_| e::internal("the metrics lock is poisoned"))?;
        let mut total = MetricCounts::default();
        let rows = partitions
            .iter()
            .map(|(serial, name)| {
                let counts = map.get(serial).copied().unwrap_or_default();
                total.add(&counts);
                PartitionMetrics {
                    serial: *serial,
                    name: name.clone(),
                    counts,
                }
            })
            .collect();
        if reset {
            map.clear();
        }
        Ok(MetricsReport {
            partitions: rows,
            total,
        })
    }

    /// Forgets every count (restart, init).
    pub(crate) fn clear(&self) {
        if let Ok(mut map) = self.by_partition.lock() {
            map.clear();
        }
    }
}

/// Up time and busy time of the module since its last reset (MO-10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BusyTime {
    /// Time since the module started or was last reset.
    pub up: Duration,
    /// Of that, the time during which at least one cryptographic operation was running.
    pub busy: Duration,
}

struct BusyState {
    reset_at: Instant,
    /// Operations running now.
    active: u32,
    /// When `active` last went from 0 to 1.
    since: Instant,
    /// Busy time accumulated by finished busy periods.
    busy: Duration,
}

/// Measures the time during which the module computes: the union of the intervals in which
/// some cryptographic call runs, so parallel calls do not count twice and the load stays at
/// most 100 % of wall time.
pub(crate) struct BusyClock {
    state: Mutex<BusyState>,
}

impl Default for BusyClock {
    fn default() -> Self {
        let now = Instant::now();
        Self {
            state: Mutex::new(BusyState {
                reset_at: now,
                active: 0,
                since: now,
                busy: Duration::ZERO,
            }),
        }
    }
}

/// Marks one running computation; ends it when dropped.
pub(crate) struct Busy<'a> {
    clock: &'a BusyClock,
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        if let Ok(mut s) = self.clock.state.lock() {
            s.active = s.active.saturating_sub(1);
            if s.active == 0 {
                let start = s.since.max(s.reset_at);
                s.busy = s.busy.saturating_add(start.elapsed());
            }
        }
    }
}

impl BusyClock {
    /// Starts timing a computation.
    pub(crate) fn enter(&self) -> Busy<'_> {
        if let Ok(mut s) = self.state.lock() {
            if s.active == 0 {
                s.since = Instant::now();
            }
            s.active = s.active.saturating_add(1);
        }
        Busy { clock: self }
    }

    /// Up and busy time now.
    pub(crate) fn read(&self) -> BusyTime {
        let Ok(s) = self.state.lock() else {
            return BusyTime {
                up: Duration::ZERO,
                busy: Duration::ZERO,
            };
        };
        let mut busy = s.busy;
        if s.active > 0 {
            busy = busy.saturating_add(s.since.max(s.reset_at).elapsed());
        }
        BusyTime {
            up: s.reset_at.elapsed(),
            busy,
        }
    }

    /// Starts both clocks again (`hsm restart`, `hsm init`).
    pub(crate) fn reset(&self) {
        if let Ok(mut s) = self.state.lock() {
            let now = Instant::now();
            s.reset_at = now;
            s.since = now;
            s.busy = Duration::ZERO;
        }
    }
}
