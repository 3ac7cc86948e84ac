//! Remote logging (catalog AU-60..AU-64, SH-LOG-01..04): the module's audit records and the
//! appliance log's lines, sent to remote syslog servers as RFC 5424 messages.
//!
//! Two streams, each with its own list of servers, its own certificates and its own owner: the
//! Auditor's audit stream (`audit remotehost ...`, facility `local3`, app-name `pedClient`,
//! the message `^<audit record line>`) and the administrator's syslog stream (`syslog
//! remotehost ...`, facility `daemon`, app-name `strongroomd`, the appliance log line after
//! its `strongroomd[<pid>]: ` prefix). A server is reached over UDP, TCP or TCP with TLS 1.3
//! (the server verified against the installed CA; with `-mode mutual` the appliance presents
//! its own certificate). TCP messages are octet-counted (RFC 6587, RFC 5425).
//!
//! Each server has a worker thread and a bounded queue: adding a message never blocks the
//! module or the shell. When a queue is full its oldest message is dropped and counted, and
//! the count goes to the appliance log (the audit files and the appliance log keep every
//! line). A message leaves its queue only once the connection it was written to was seen
//! alive a second later; a lost connection sends the unconfirmed messages again (a server
//! may then see one twice; audit records carry their sequence number). What is queued when
//! strongroomd stops is not kept.

mod certs;
mod worker;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

use worker::Target;

/// Messages a server's queue holds before the oldest is dropped.
pub(crate) const QUEUE_BOUND: usize = 10_000;

/// Which log a server receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stream {
    /// The module's audit records (the Auditor's servers).
    Audit,
    /// The appliance log (the administrator's servers).
    Syslog,
}

impl Stream {
    /// The word used in file names and messages.
    pub(crate) fn word(self) -> &'static str {
        match self {
            Self::Audit => "audit",
            Self::Syslog => "syslog",
        }
    }

    /// The other stream.
    pub(crate) fn other(self) -> Self {
        match self {
            Self::Audit => Self::Syslog,
            Self::Syslog => Self::Audit,
        }
    }

    /// What keeps every line whatever the forwarding drops.
    fn kept_by(self) -> &'static str {
        match self {
            Self::Audit => "the appliance's audit files keep every record",
            Self::Syslog => "the appliance log keeps every line",
        }
    }
}

/// Transport to one server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Protocol {
    Udp,
    Tcp,
    /// Recorded as the reference names it; not sent (see `RemoteLog`'s workers).
    Relp,
}

impl Protocol {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "udp" => Some(Self::Udp),
            "tcp" => Some(Self::Tcp),
            "relp" => Some(Self::Relp),
            _ => None,
        }
    }

    pub(crate) fn word(self) -> &'static str {
        match self {
            Self::Udp => "udp",
            Self::Tcp => "tcp",
            Self::Relp => "relp",
        }
    }
}

/// One configured server: a line `host port protocol [tls] [mutual] [name=CN]` of
/// `DATA_DIR/appliance/<stream>_remotehosts`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TargetSpec {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) protocol: Protocol,
    pub(crate) tls: bool,
    pub(crate) mutual: bool,
    /// The name the server's certificate must carry (else the host).
    pub(crate) name: Option<String>,
}

impl TargetSpec {
    fn parse(line: &str) -> Option<Self> {
        let mut words = line.split_whitespace();
        let host = words.next()?.to_owned();
        let port = words.next()?.parse().ok()?;
        let protocol = Protocol::parse(words.next()?)?;
        let mut spec = Self {
            host,
            port,
            protocol,
            tls: false,
            mutual: false,
            name: None,
        };
        for w in words {
            match w {
                "tls" => spec.tls = true,
                "mutual" => spec.mutual = true,
                _ => spec.name = Some(w.strip_prefix("name=")?.to_owned()),
            }
        }
        Some(spec)
    }

    fn line(&self) -> String {
        let mut out = format!("{} {} {}", self.host, self.port, self.protocol.word());
        if self.tls {
            out.push_str(" tls");
        }
        if self.mutual {
            out.push_str(" mutual");
        }
        if let Some(n) = &self.name {
            out.push_str(&format!(" name={n}"));
        }
        out
    }

    /// `host:port, proto[, tls]`, as `remotehost list` shows it.
    pub(crate) fn listed(&self) -> String {
        format!(
            "{}:{}, {}{}",
            self.host,
            self.port,
            self.protocol.word(),
            if self.tls { ", tls" } else { "" }
        )
    }

    /// Whether `self` and `other` name the same host (addresses compared as addresses) and
    /// port.
    pub(crate) fn same_place(&self, host: &str, port: u16) -> bool {
        fn norm(h: &str) -> String {
            let bare = h.trim_start_matches('[').trim_end_matches(']');
            bare.parse::<IpAddr>()
                .map_or_else(|_| bare.to_ascii_lowercase(), |ip| ip.to_string())
        }
        self.port == port && norm(&self.host) == norm(host)
    }

    /// `host:port (proto[, tls][, mutual])`, for log lines.
    fn describe(&self) -> String {
        format!(
            "{}:{} ({}{}{})",
            self.host,
            self.port,
            self.protocol.word(),
            if self.tls { ", tls" } else { "" },
            if self.mutual { ", mutual" } else { "" }
        )
    }
}

fn hosts_path(data_dir: &Path, stream: Stream) -> PathBuf {
    data_dir
        .join("appliance")
        .join(format!("{}_remotehosts", stream.word()))
}

/// The servers of `stream`, in the order they were added.
pub(crate) fn load(data_dir: &Path, stream: Stream) -> Vec<TargetSpec> {
    std::fs::read_to_string(hosts_path(data_dir, stream))
        .unwrap_or_default()
        .lines()
        .filter_map(TargetSpec::parse)
        .collect()
}

/// Replaces the servers of `stream`.
pub(crate) fn save(data_dir: &Path, stream: Stream, specs: &[TargetSpec]) -> Result<(), String> {
    let path = hosts_path(data_dir, stream);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot save: {e}"))?;
    }
    let text: String = specs.iter().map(|s| s.line() + "\n").collect();
    crate::users::write_atomically(&path, text.as_bytes())
}

/// Messages that go to every server of the appliance at `data_dir` (the appliance log knows
/// its directory only).
static SERVICES: Mutex<Vec<(PathBuf, Weak<RemoteLog>)>> = Mutex::new(Vec::new());

/// The forwarding of one appliance: its servers' workers.
pub(crate) struct RemoteLog {
    data_dir: PathBuf,
    /// The configured host name (the recorded one, `net hostname`, wins).
    hostname: Option<String>,
    /// The running workers of both streams.
    targets: Mutex<Vec<Arc<Target>>>,
}

impl std::fmt::Debug for RemoteLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteLog")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl RemoteLog {
    /// Starts the workers for the servers recorded in `data_dir`.
    pub(crate) fn start(data_dir: &Path, hostname: Option<String>) -> Arc<Self> {
        let service = Arc::new(Self {
            data_dir: data_dir.to_owned(),
            hostname,
            targets: Mutex::new(Vec::new()),
        });
        {
            let mut all = SERVICES.lock().unwrap_or_else(|p| p.into_inner());
            all.retain(|(_, w)| w.strong_count() > 0);
            all.push((data_dir.to_owned(), Arc::downgrade(&service)));
        }
        service.reload(Stream::Audit);
        service.reload(Stream::Syslog);
        service
    }

    /// Applies the recorded servers and certificates of `stream`: every worker of the stream
    /// drops its connection and reloads its certificates (keeping its queue), workers of
    /// removed servers stop, new servers get workers.
    pub(crate) fn reload(&self, stream: Stream) {
        let specs = load(&self.data_dir, stream);
        let host = self.host_name();
        let mut targets = self.targets.lock().unwrap_or_else(|p| p.into_inner());
        targets.retain(|t| {
            if t.stream != stream {
                return true;
            }
            if specs.contains(&t.spec) {
                t.restart(&host);
                true
            } else {
                t.stop();
                false
            }
        });
        for spec in specs {
            if !targets.iter().any(|t| t.stream == stream && t.spec == spec) {
                match Target::spawn(&self.data_dir, stream, spec, &host) {
                    Ok(t) => targets.push(t),
                    Err(err) => tracing::error!(%err, "cannot start a remote logging worker"),
                }
            }
        }
    }

    /// The host name messages carry: the recorded one, the configured one, the host's, or
    /// `-` (RFC 5424's nil value).
    fn host_name(&self) -> String {
        crate::settings::Settings::load(&self.data_dir)
            .hostname
            .or_else(|| self.hostname.clone())
            .or_else(crate::ntls::identity::host_name)
            .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
            .unwrap_or_else(|| "-".to_owned())
    }

    /// Queues one audit record line (with or without its newline) for the audit servers.
    pub(crate) fn audit_record(&self, line: &[u8]) {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let mut body = Vec::with_capacity(line.len() + 1);
        body.push(b'^');
        body.extend_from_slice(line);
        self.send(Stream::Audit, AUDIT_PRI, "pedClient", None, &body);
    }

    fn send(&self, stream: Stream, pri: u8, app: &str, procid: Option<u32>, body: &[u8]) {
        let targets = self.targets.lock().unwrap_or_else(|p| p.into_inner());
        let mut chosen = targets.iter().filter(|t| t.stream == stream).peekable();
        if chosen.peek().is_none() {
            return;
        }
        let time = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ");
        for t in chosen {
            let procid = procid.map_or_else(|| "-".to_owned(), |p| p.to_string());
            let mut msg =
                format!("<{pri}>1 {time} {} {app} {procid} - - ", t.host_name()).into_bytes();
            msg.extend_from_slice(body);
            t.push(msg);
        }
    }

    /// Waits up to `timeout` for the queues to empty (at shutdown).
    pub(crate) fn flush(&self, timeout: std::time::Duration) {
        let deadline = std::time::Instant::now() + timeout;
        let targets: Vec<Arc<Target>> = self
            .targets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for t in targets {
            t.wait_empty(deadline);
        }
    }
}

impl Drop for RemoteLog {
    fn drop(&mut self) {
        for t in self
            .targets
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            t.stop();
        }
    }
}

/// `local3.info`: facility 19, severity 6 (AU-64).
const AUDIT_PRI: u8 = 19 * 8 + 6;
/// The syslog stream's facility: `daemon` (3).
const SYSLOG_FACILITY: u8 = 3;

/// Queues one appliance log event for the syslog servers of the appliance at `data_dir`.
/// `level` is the appliance log's (`info`, `notice`, `warning`), `text` the line after
/// `strongroomd[<pid>]: `.
pub(crate) fn appliance_event(data_dir: &Path, level: &str, text: &str) {
    let services: Vec<Arc<RemoteLog>> = {
        let all = SERVICES.lock().unwrap_or_else(|p| p.into_inner());
        all.iter()
            .filter(|(d, _)| d == data_dir)
            .filter_map(|(_, w)| w.upgrade())
            .collect()
    };
    let severity = match level {
        "warning" => 4,
        "notice" => 5,
        "error" => 3,
        _ => 6,
    };
    for s in services {
        s.send(
            Stream::Syslog,
            SYSLOG_FACILITY * 8 + severity,
            "strongroomd",
            Some(std::process::id()),
            text.as_bytes(),
        );
    }
}

/// Writes a line about forwarding to the appliance log (which may forward it in turn: no
/// queue lock is held here).
fn note(data_dir: &Path, level: &str, stream: Stream, spec: &TargetSpec, what: &str) {
    let text = format!(
        "Remote logging ({}) to {}: {what}",
        stream.word(),
        spec.describe()
    );
    if level == "warning" {
        tracing::warn!(stream = stream.word(), host = %spec.host, port = spec.port, "{what}");
    } else {
        tracing::info!(stream = stream.word(), host = %spec.host, port = spec.port, "{what}");
    }
    crate::applog::record(data_dir, level, &text);
}

/// The certificate commands of a stream (`remotehost cert ...`).
pub(crate) use certs::{
    CSR_FILE, generate_csr, install_ca, install_cert, reset as reset_certs, status,
};

#[cfg(test)]
mod tests;
