use std::time::{Duration, Instant};

use super::worker::Queue;
use super::{Protocol, TargetSpec};

#[test]
fn a_full_queue_drops_its_oldest_messages_and_counts_them() {
    let mut q = Queue::default();
    for i in 0..5u8 {
        q.push(vec![i], 3);
    }
    assert_eq!(q.len(), 3);
    assert_eq!(q.take_dropped(), 2);
    assert_eq!(q.take_dropped(), 0);
    let left: Vec<Vec<u8>> = q.unsent(10).into_iter().map(|(_, m)| m).collect();
    assert_eq!(left, vec![vec![2], vec![3], vec![4]]);
}

#[test]
fn written_messages_leave_the_queue_only_when_a_later_check_confirms_them() {
    let mut q = Queue::default();
    for i in 0..4u8 {
        q.push(vec![i], 100);
    }
    let batch = q.unsent(2);
    let t0 = Instant::now();
    q.written(batch[1].0, t0);
    // Written, not yet confirmed: the next batch starts after them.
    assert_eq!(q.unsent(10).len(), 2);
    q.confirm(t0 + Duration::from_millis(10), Duration::from_secs(1));
    assert_eq!(q.len(), 4, "too early to confirm");
    // The connection is lost: the unconfirmed ones are written again.
    q.rewind();
    assert_eq!(q.unsent(10).len(), 4);
    let batch = q.unsent(10);
    q.written(batch[3].0, t0);
    q.confirm(t0 + Duration::from_secs(1), Duration::from_secs(1));
    assert_eq!(q.len(), 0);
    // New messages after a full confirmation are unsent.
    q.push(vec![9], 100);
    assert_eq!(q.unsent(10).len(), 1);
    q.rewind();
    assert_eq!(q.unsent(10).len(), 1);
}

#[test]
fn remote_host_lines_round_trip_and_compare_addresses_as_addresses() {
    let line = "192.0.2.7 30007 tcp tls mutual name=server.example";
    let spec = TargetSpec::parse(line).expect("parse");
    assert_eq!(spec.protocol, Protocol::Tcp);
    assert!(spec.tls && spec.mutual);
    assert_eq!(spec.name.as_deref(), Some("server.example"));
    assert_eq!(spec.line(), line);
    assert_eq!(spec.listed(), "192.0.2.7:30007, tcp, tls");
    let v6 = TargetSpec::parse("[::1] 514 udp").expect("parse");
    assert!(v6.same_place("0:0:0:0:0:0:0:1", 514));
    assert!(!v6.same_place("::1", 515));
    assert!(TargetSpec::parse("host 514 smtp").is_none());
    assert!(TargetSpec::parse("host notaport udp").is_none());
}
