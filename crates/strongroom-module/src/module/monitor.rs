//! Monitoring: partition utilization metrics (`hsm qos metrics show|reset`, catalog
//! MO-20..MO-27) and the performance monitor's busy time (`hsm information`, MO-10..MO-12).

use super::tokens::HSM_POLICY_METRICS;
use super::{AccessId, Module, Op};
use crate::error::{Error, e};
use crate::token::metrics::{BusyTime, MetricsReport};

/// HSM policy 58: metrics without the HSM SO.
const HSM_POLICY_UNRESTRICTED_METRICS: u8 = 58;

impl Module {
    /// Who may see or reset the metrics: policy 49 must be on; without policy 58 the HSM SO
    /// must be logged in on `id` (MO-23).
    fn check_metrics_access(&self, id: AccessId) -> Result<(), Error> {
        self.gate(Op::Status)?;
        if !self.policies.is_on(HSM_POLICY_METRICS) {
            return Err(e::restricted(
                "HSM policy 49 (Allow Partition Utilization Metrics) is off",
            ));
        }
        if !self.policies.is_on(HSM_POLICY_UNRESTRICTED_METRICS) {
            self.require_so(id)?;
        }
        Ok(())
    }

    fn partition_names(&self) -> Vec<(u64, String)> {
        self.partitions
            .values()
            .map(|p| (p.serial, p.name.clone()))
            .collect()
    }

    /// `hsm qos metrics show`: every partition's counters and the totals, without resetting.
    /// The counters say which operations ran, never which keys (MO-26).
    pub fn metrics_show(&self, id: AccessId) -> Result<MetricsReport, Error> {
        self.check_metrics_access(id)?;
        self.counters.snapshot(&self.partition_names(), false)
    }

    /// `hsm qos metrics reset [-export FILE | -display]`: the counters as they were, zeroed in
    /// the same step so that no request is lost between the snapshot and the reset (MO-25).
    /// The shell displays or exports the returned snapshot, or drops it.
    pub fn metrics_reset(&mut self, id: AccessId) -> Result<MetricsReport, Error> {
        self.check_metrics_access(id)?;
        self.counters.snapshot(&self.partition_names(), true)
    }

    /// Up time and busy time since the module started or was last reset (`hsm restart`,
    /// `hsm init`). `hsm information` samples this twice, `interval` apart, and reports
    /// `100 × Δbusy / Δup` (MO-10, MO-11). Busy time is the time during which at least one
    /// cryptographic call of the module was computing; with several workers busy at once it
    /// still counts once, so the load never exceeds 100 % even though throughput may
    /// saturate the workers before it reaches 100 % (MO-12).
    pub fn busy_time(&self) -> BusyTime {
        self.busy.read()
    }
}
