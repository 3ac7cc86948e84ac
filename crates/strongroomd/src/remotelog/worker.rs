//! One server's worker thread, its queue and its connection.
//!
//! The queue holds messages in order, each with an id. `sent` is the id of the last message
//! written to the current connection. A message leaves the queue once a liveness check
//! (the server has not closed the connection nor answered with an error) passes at least
//! [`CONFIRM_AFTER`] after it was written; when the connection is lost, `sent` goes back to
//! before the oldest queued message, so the unconfirmed ones are written again on the next
//! connection. Over UDP a message leaves the queue once sent.

use std::collections::VecDeque;
use std::io::{Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs as _, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{Protocol, QUEUE_BOUND, Stream, TargetSpec, certs, note};

/// How long a written message waits before a live connection confirms it.
const CONFIRM_AFTER: Duration = Duration::from_secs(1);
/// The first wait after a failed connection; doubled at each failure up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Connecting and each write give up after this long.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// Messages written per round.
const BATCH: usize = 256;
/// Dropped messages are reported at most this often.
const DROP_REPORT_EVERY: Duration = Duration::from_secs(10);

/// One queued message.
#[derive(Debug)]
struct Item {
    id: u64,
    msg: Vec<u8>,
    /// When it was written to the current connection.
    written: Option<Instant>,
}

/// A server's bounded queue.
#[derive(Debug, Default)]
pub(super) struct Queue {
    items: VecDeque<Item>,
    next_id: u64,
    /// The id of the last message written to the current connection (0: none).
    sent: u64,
    /// Messages dropped from the full queue and not reported yet.
    dropped: u64,
    stop: bool,
    restart: bool,
    /// The host name for new messages.
    host: String,
}

impl Queue {
    /// Appends `msg`, dropping (and counting) the oldest message when the queue is full.
    pub(super) fn push(&mut self, msg: Vec<u8>, bound: usize) {
        while self.items.len() >= bound {
            self.items.pop_front();
            self.dropped += 1;
        }
        self.next_id += 1;
        self.items.push_back(Item {
            id: self.next_id,
            msg,
            written: None,
        });
    }

    /// Up to `max` messages not yet written to the current connection: their ids and bytes.
    pub(super) fn unsent(&self, max: usize) -> Vec<(u64, Vec<u8>)> {
        self.items
            .iter()
            .filter(|i| i.id > self.sent)
            .take(max)
            .map(|i| (i.id, i.msg.clone()))
            .collect()
    }

    /// Marks the messages up to `last` as written at `at`.
    pub(super) fn written(&mut self, last: u64, at: Instant) {
        for i in self
            .items
            .iter_mut()
            .filter(|i| i.id > self.sent && i.id <= last)
        {
            i.written = Some(at);
        }
        self.sent = self.sent.max(last);
    }

    /// The connection was seen alive at `at`: messages written early enough leave the queue.
    pub(super) fn confirm(&mut self, at: Instant, after: Duration) {
        while let Some(front) = self.items.front() {
            match front.written {
                Some(w) if front.id <= self.sent && w + after <= at => {
                    self.items.pop_front();
                }
                _ => break,
            }
        }
    }

    /// The connection is gone: everything still queued is written again.
    pub(super) fn rewind(&mut self) {
        self.sent = self.items.front().map_or(self.next_id, |i| i.id - 1);
        for i in &mut self.items {
            i.written = None;
        }
    }

    /// Messages written and not confirmed yet.
    fn unconfirmed(&self) -> bool {
        self.items.front().is_some_and(|i| i.id <= self.sent)
    }

    pub(super) fn len(&self) -> usize {
        self.items.len()
    }

    pub(super) fn take_dropped(&mut self) -> u64 {
        std::mem::take(&mut self.dropped)
    }
}

/// One server: its configuration and queue, shared with its worker thread.
#[derive(Debug)]
pub(super) struct Target {
    pub(super) stream: Stream,
    pub(super) spec: TargetSpec,
    queue: Mutex<Queue>,
    wake: Condvar,
}

impl Target {
    /// Starts the worker of `spec`.
    pub(super) fn spawn(
        data_dir: &Path,
        stream: Stream,
        spec: TargetSpec,
        host: &str,
    ) -> Result<Arc<Self>, String> {
        let target = Arc::new(Self {
            stream,
            spec,
            queue: Mutex::new(Queue {
                host: host.to_owned(),
                ..Queue::default()
            }),
            wake: Condvar::new(),
        });
        let worker = Worker {
            target: target.clone(),
            data_dir: data_dir.to_owned(),
            conn: None,
            backoff: MIN_BACKOFF,
            retry_at: None,
            problem: None,
            last_drop_report: None,
            pending_drops: 0,
            connected_once: false,
        };
        std::thread::Builder::new()
            .name(format!("remotelog-{}", stream.word()))
            .spawn(move || worker.run())
            .map_err(|e| format!("cannot start a thread: {e}"))?;
        Ok(target)
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn host_name(&self) -> String {
        self.lock().host.clone()
    }

    /// Queues one message; never waits for the network.
    pub(super) fn push(&self, msg: Vec<u8>) {
        self.lock().push(msg, QUEUE_BOUND);
        // All: a shutdown flush may be waiting on the same condition variable.
        self.wake.notify_all();
    }

    /// Drops the connection and reloads the certificates, keeping the queue.
    pub(super) fn restart(&self, host: &str) {
        let mut q = self.lock();
        q.restart = true;
        host.clone_into(&mut q.host);
        drop(q);
        self.wake.notify_all();
    }

    /// Ends the worker; what is still queued is dropped (and reported).
    pub(super) fn stop(&self) {
        self.lock().stop = true;
        self.wake.notify_all();
    }

    /// Waits until the queue is empty or `deadline` passes.
    pub(super) fn wait_empty(&self, deadline: Instant) {
        let mut q = self.lock();
        while q.len() > 0 && !q.stop {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            q = self
                .wake
                .wait_timeout(q, (deadline - now).min(Duration::from_millis(100)))
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }
}

/// A connection to a server.
enum Conn {
    Udp(UdpSocket),
    Tcp(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Conn {
    /// Writes `msgs`: one datagram each over UDP, octet-counted over TCP and TLS.
    fn write(&mut self, msgs: &[(u64, Vec<u8>)]) -> std::io::Result<()> {
        if let Self::Udp(s) = self {
            for (_, m) in msgs {
                s.send(m)?;
            }
            return Ok(());
        }
        let mut buf = Vec::new();
        for (_, m) in msgs {
            buf.extend_from_slice(format!("{} ", m.len()).as_bytes());
            buf.extend_from_slice(m);
        }
        match self {
            Self::Tcp(s) => s.write_all(&buf).and_then(|()| s.flush()),
            Self::Tls(s) => s.write_all(&buf).and_then(|()| s.flush()),
            Self::Udp(_) => Ok(()),
        }
    }

    /// Whether the server still holds the connection open without complaint: it sends
    /// nothing on a syslog connection but TLS handshake messages, so end of stream, an error or
    /// a TLS alert means the connection is gone.
    fn alive(&mut self) -> Result<(), String> {
        match self {
            Self::Udp(_) => Ok(()),
            Self::Tcp(s) => {
                s.set_nonblocking(true).map_err(|e| e.to_string())?;
                let mut buf = [0u8; 512];
                let result = loop {
                    match s.read(&mut buf) {
                        Ok(0) => break Err("the server closed the connection".to_owned()),
                        Ok(_) => continue,
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break Ok(()),
                        Err(e) => break Err(format!("the connection failed: {e}")),
                    }
                };
                s.set_nonblocking(false).map_err(|e| e.to_string())?;
                result
            }
            Self::Tls(s) => {
                s.sock.set_nonblocking(true).map_err(|e| e.to_string())?;
                let result = loop {
                    match s.conn.read_tls(&mut s.sock) {
                        Ok(0) => break Err("the server closed the connection".to_owned()),
                        Ok(_) => match s.conn.process_new_packets() {
                            Err(e) => break Err(format!("the server ended TLS: {e}")),
                            Ok(st) if st.peer_has_closed() => {
                                break Err("the server closed the connection".to_owned());
                            }
                            Ok(st) => {
                                // Discard anything the server sent as data.
                                let n = st.plaintext_bytes_to_read();
                                let mut sink = vec![0u8; n];
                                let _ = s.conn.reader().read(&mut sink);
                            }
                        },
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break Ok(()),
                        Err(e) => break Err(format!("the connection failed: {e}")),
                    }
                };
                s.sock.set_nonblocking(false).map_err(|e| e.to_string())?;
                result
            }
        }
    }

    fn close(self) {
        match self {
            Self::Tls(mut s) => {
                s.conn.send_close_notify();
                let _ = s.conn.complete_io(&mut s.sock);
            }
            Self::Tcp(s) => {
                let _ = s.shutdown(std::net::Shutdown::Write);
            }
            Self::Udp(_) => {}
        }
    }
}

struct Worker {
    target: Arc<Target>,
    data_dir: PathBuf,
    conn: Option<Conn>,
    backoff: Duration,
    /// No connection attempt before this.
    retry_at: Option<Instant>,
    /// The problem last written to the appliance log (written once until it changes).
    problem: Option<String>,
    last_drop_report: Option<Instant>,
    pending_drops: u64,
    /// Whether a connection was ever made (the first one is written to the appliance log).
    connected_once: bool,
}

/// What the worker does next.
enum Step {
    Stop(usize),
    Write(Vec<(u64, Vec<u8>)>),
    Check,
    Restart,
}

impl Worker {
    fn run(mut self) {
        loop {
            let step = self.next_step();
            self.report_drops(false);
            match step {
                Step::Stop(left) => {
                    if let Some(c) = self.conn.take() {
                        c.close();
                    }
                    self.pending_drops += u64::try_from(left).unwrap_or(u64::MAX);
                    self.report_drops(true);
                    return;
                }
                Step::Restart => {
                    if let Some(c) = self.conn.take() {
                        c.close();
                    }
                    self.target.lock().rewind();
                    self.retry_at = None;
                    self.backoff = MIN_BACKOFF;
                    self.problem = None;
                    self.connected_once = false;
                }
                Step::Check => self.check(),
                Step::Write(batch) => self.write(&batch),
            }
        }
    }

    /// Waits for something to do.
    fn next_step(&mut self) -> Step {
        let t = self.target.clone();
        let mut q = t.lock();
        loop {
            if q.stop {
                return Step::Stop(q.len());
            }
            if std::mem::take(&mut q.restart) {
                return Step::Restart;
            }
            self.pending_drops += q.take_dropped();
            let now = Instant::now();
            let ready = self.retry_at.is_none_or(|r| now >= r);
            if ready {
                let batch = q.unsent(BATCH);
                if !batch.is_empty() {
                    return Step::Write(batch);
                }
                if self.conn.is_some() && q.unconfirmed() {
                    // Confirm what was written once the confirmation delay has passed.
                    let oldest = q.items.front().and_then(|i| i.written).unwrap_or(now);
                    if oldest + CONFIRM_AFTER <= now {
                        return Step::Check;
                    }
                }
            }
            let wait = match self.retry_at {
                Some(r) if r > now => r - now,
                _ if q.unconfirmed() || self.pending_drops > 0 => Duration::from_millis(250),
                _ => Duration::from_secs(5),
            };
            q = t
                .wake
                .wait_timeout(q, wait)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
            if self.pending_drops > 0 {
                drop(q);
                self.report_drops(false);
                q = t.lock();
            }
        }
    }

    fn report_drops(&mut self, now_anyway: bool) {
        if self.pending_drops == 0 {
            return;
        }
        let due = self
            .last_drop_report
            .is_none_or(|l| l.elapsed() >= DROP_REPORT_EVERY);
        if !(due || now_anyway) {
            return;
        }
        let n = std::mem::take(&mut self.pending_drops);
        self.last_drop_report = Some(Instant::now());
        let t = &self.target;
        note(
            &self.data_dir,
            "warning",
            t.stream,
            &t.spec,
            &format!(
                "{n} message(s) were not sent: the queue of {QUEUE_BOUND} was full or the \
                 server was removed ({})",
                t.stream.kept_by()
            ),
        );
    }

    fn failed(&mut self, problem: String) {
        if let Some(c) = self.conn.take() {
            c.close();
        }
        self.target.lock().rewind();
        self.retry_at = Some(Instant::now() + self.backoff);
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        if self.problem.as_deref() != Some(problem.as_str()) {
            let t = &self.target;
            note(
                &self.data_dir,
                "warning",
                t.stream,
                &t.spec,
                &format!("{problem}; the messages stay queued and sending is retried"),
            );
            self.problem = Some(problem);
        }
    }

    fn check(&mut self) {
        let at = Instant::now();
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        match conn.alive() {
            Ok(()) => {
                self.target.lock().confirm(at, CONFIRM_AFTER);
                self.working();
            }
            Err(problem) => self.failed(problem),
        }
    }

    /// Messages were confirmed: a problem reported before is over.
    fn working(&mut self) {
        if self.problem.take().is_some() {
            let t = &self.target;
            note(
                &self.data_dir,
                "info",
                t.stream,
                &t.spec,
                "sending again (the queued messages follow)",
            );
        }
    }

    fn write(&mut self, batch: &[(u64, Vec<u8>)]) {
        if self.conn.is_none() {
            match self.connect() {
                Ok(c) => {
                    self.conn = Some(c);
                    if !self.connected_once {
                        self.connected_once = true;
                        let t = &self.target;
                        note(&self.data_dir, "info", t.stream, &t.spec, "connected");
                    }
                }
                Err(problem) => return self.failed(problem),
            }
        }
        let at = Instant::now();
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        // A connection the server has closed would swallow the first write.
        if let Err(problem) = conn.alive() {
            return self.failed(problem);
        }
        self.target.lock().confirm(at, CONFIRM_AFTER);
        match conn.write(batch) {
            Ok(()) => {
                self.backoff = MIN_BACKOFF;
                let last = batch.last().map_or(0, |(id, _)| *id);
                let mut q = self.target.lock();
                q.written(last, Instant::now());
                if matches!(self.conn, Some(Conn::Udp(_))) {
                    q.confirm(Instant::now() + CONFIRM_AFTER, CONFIRM_AFTER);
                    drop(q);
                    self.working();
                }
            }
            Err(e) => self.failed(format!("cannot send: {e}")),
        }
    }

    fn connect(&mut self) -> Result<Conn, String> {
        let spec = self.target.spec.clone();
        if spec.protocol == Protocol::Relp {
            return Err(
                "the relp protocol is not supported: delete this server and add it \
                        with '-protocol tcp'"
                    .to_owned(),
            );
        }
        let tls = if spec.tls {
            Some(certs::client_config(
                &self.data_dir,
                self.target.stream,
                &spec,
            )?)
        } else {
            None
        };
        let host = spec.host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<std::net::SocketAddr> = (host, spec.port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .collect();
        let mut last = format!("{host} has no address");
        if spec.protocol == Protocol::Udp {
            for addr in addrs {
                let local: std::net::SocketAddr = if addr.is_ipv4() {
                    ([0, 0, 0, 0], 0).into()
                } else {
                    ([0u16; 8], 0).into()
                };
                match UdpSocket::bind(local).and_then(|s| s.connect(addr).map(|()| s)) {
                    Ok(s) => return Ok(Conn::Udp(s)),
                    Err(e) => last = format!("cannot reach {addr}: {e}"),
                }
            }
            return Err(last);
        }
        for addr in addrs {
            let sock = match TcpStream::connect_timeout(&addr, IO_TIMEOUT) {
                Ok(s) => s,
                Err(e) => {
                    last = format!("cannot connect to {addr}: {e}");
                    continue;
                }
            };
            let _ = sock.set_nodelay(true);
            sock.set_write_timeout(Some(IO_TIMEOUT))
                .and_then(|()| sock.set_read_timeout(Some(IO_TIMEOUT)))
                .map_err(|e| format!("cannot set up the connection: {e}"))?;
            let Some((config, name)) = tls.clone() else {
                return Ok(Conn::Tcp(sock));
            };
            let conn = rustls::ClientConnection::new(config, name)
                .map_err(|e| format!("TLS cannot start: {e}"))?;
            let mut stream = rustls::StreamOwned::new(conn, sock);
            while stream.conn.is_handshaking() {
                if let Err(e) = stream.conn.complete_io(&mut stream.sock) {
                    return Err(format!("the TLS handshake with {addr} failed: {e}"));
                }
            }
            return Ok(Conn::Tls(Box::new(stream)));
        }
        Err(last)
    }
}
