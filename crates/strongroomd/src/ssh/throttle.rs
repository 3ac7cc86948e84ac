//! Login failure accounting: consecutive failures are counted per user name and per source
//! address, and each new attempt of a user or from an address with failures waits
//! `rejection × 2^(failures-1)`, capped, before it is even checked. A success resets both
//! counters; counters are forgotten after a quiet period. The table is bounded, so a flood of
//! invented user names cannot grow it without limit.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries not failed again for this long are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// Most entries kept; the oldest go first.
const MAX_ENTRIES: usize = 4096;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    User(String),
    Addr(IpAddr),
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    failures: u32,
    last: Instant,
}

/// The failure counters of one SSH service.
#[derive(Debug)]
pub(crate) struct Throttle {
    entries: Mutex<HashMap<Key, Entry>>,
    base: Duration,
    max: Duration,
}

/// Consecutive failures after one more failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Failures {
    pub(crate) user: u32,
    pub(crate) addr: u32,
}

impl Throttle {
    pub(crate) fn new(base: Duration, max: Duration) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            base,
            max,
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut HashMap<Key, Entry>) -> R) -> R {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        map.retain(|_, e| now.duration_since(e.last) < FORGET_AFTER);
        f(&mut map)
    }

    /// How long an attempt for `user` from `addr` waits before it is checked.
    pub(crate) fn delay(&self, user: &str, addr: IpAddr) -> Duration {
        let n = self.with(|map| {
            let u = map
                .get(&Key::User(user.to_owned()))
                .map_or(0, |e| e.failures);
            let a = map.get(&Key::Addr(addr)).map_or(0, |e| e.failures);
            u.max(a)
        });
        if n == 0 {
            return Duration::ZERO;
        }
        let factor = 1u32
            .checked_shl(n.saturating_sub(1).min(16))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// Counts a failed attempt.
    pub(crate) fn failure(&self, user: &str, addr: IpAddr) -> Failures {
        self.with(|map| {
            if map.len() + 2 > MAX_ENTRIES
                && let Some(oldest) = map
                    .iter()
                    .min_by_key(|(_, e)| e.last)
                    .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
            let mut bump = |key: Key| {
                let e = map.entry(key).or_insert(Entry {
                    failures: 0,
                    last: Instant::now(),
                });
                e.failures = e.failures.saturating_add(1);
                e.last = Instant::now();
                e.failures
            };
            Failures {
                user: bump(Key::User(user.to_owned())),
                addr: bump(Key::Addr(addr)),
            }
        })
    }

    /// A successful login clears the user's and the address's counters.
    pub(crate) fn success(&self, user: &str, addr: IpAddr) {
        self.with(|map| {
            map.remove(&Key::User(user.to_owned()));
            map.remove(&Key::Addr(addr));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_per_failure_up_to_the_cap_and_reset_on_success() {
        let t = Throttle::new(Duration::from_millis(100), Duration::from_millis(500));
        let a: IpAddr = "127.0.0.1".parse().expect("ip");
        let b: IpAddr = "127.0.0.2".parse().expect("ip");
        assert_eq!(t.delay("admin", a), Duration::ZERO);
        assert_eq!(t.failure("admin", a), Failures { user: 1, addr: 1 });
        assert_eq!(t.delay("admin", a), Duration::from_millis(100));
        t.failure("admin", a);
        assert_eq!(t.delay("admin", a), Duration::from_millis(200));
        // The same user from elsewhere, and another user from the same address, wait too.
        assert_eq!(t.delay("admin", b), Duration::from_millis(200));
        assert_eq!(t.delay("operator", a), Duration::from_millis(200));
        assert_eq!(t.delay("operator", b), Duration::ZERO);
        for _ in 0..10 {
            t.failure("admin", a);
        }
        assert_eq!(t.delay("admin", a), Duration::from_millis(500), "capped");
        t.success("admin", a);
        assert_eq!(t.delay("admin", a), Duration::ZERO);
        assert_eq!(t.delay("admin", b), Duration::ZERO);
    }

    #[test]
    fn the_table_stays_bounded() {
        let t = Throttle::new(Duration::from_millis(1), Duration::from_millis(2));
        let a: IpAddr = "127.0.0.1".parse().expect("ip");
        for i in 0..(MAX_ENTRIES * 2) {
            t.failure(&format!("user{i}"), a);
        }
        assert!(t.with(|m| m.len()) <= MAX_ENTRIES);
    }
}
