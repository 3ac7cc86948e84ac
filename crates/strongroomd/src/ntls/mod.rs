//! NTLS, the network trust link service (catalog NT-*): the appliance's side of the mutually
//! authenticated TLS 1.3 link that applications use to reach their partitions.
//!
//! - Identity ([`identity`]): the appliance's key and self-signed certificate, made at first
//!   start and by `sysconf regenCert`; `server.pem` is what clients pin.
//! - Registrations ([`registry`]): the client certificates that may connect and the partitions
//!   assigned to each; consulted live at every handshake and request.
//! - The listener (this file, [`conn`]): binds the configured address (`listen.ntls`, default
//!   port 1792), or the one recorded by `ntls bind`, and serves connections until it is stopped
//!   (`service stop|restart ntls`) or the daemon shuts down. Connections are capped by a
//!   semaphore (`[ntls] max_connections`); each is a task, each request another.
//!
//! Lifecycle: a listener *generation* is one bind; stopping it cancels its token, which closes
//! the listening socket and every connection of the generation, and waits (boundedly) until all
//! of their tasks have dropped their completion handles. Only the daemon serves NTLS: a shell in
//! a process without a runtime (the console opening the module itself) can change
//! registrations but reports the service as not served.

mod conn;
pub(crate) mod identity;
pub(crate) mod registry;
mod tls;
pub(crate) mod wire;

use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc as std_mpsc};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::settings::Settings;

pub(crate) use self::registry::Registry;

/// The NTLS port when the configuration names none.
pub(crate) const DEFAULT_PORT: u16 = 1792;
/// How long stopping waits for the listener and its connections to end.
const STOP_WAIT: Duration = Duration::from_secs(5);

/// The bounds of the service (configuration `[ntls]`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) max_connections: usize,
    pub(crate) idle_timeout: Duration,
    pub(crate) handshake_timeout: Duration,
    pub(crate) max_in_flight: usize,
    pub(crate) max_payload: usize,
    /// Sessions one registered client may hold, over all its connections.
    pub(crate) max_sessions_per_client: usize,
    /// How long the rest of a request may take to arrive once its first byte has.
    pub(crate) frame_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 4096,
            idle_timeout: Duration::from_secs(1800),
            handshake_timeout: Duration::from_secs(20),
            max_in_flight: 64,
            max_payload: strongroom_proto::DEFAULT_MAX_PAYLOAD,
            max_sessions_per_client: 4096,
            frame_timeout: Duration::from_secs(30),
        }
    }
}

/// Where the configuration says to listen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ListenSpec {
    /// `listen.ntls = "off"`.
    Off,
    /// A host (IP address or name) and port.
    At { host: String, port: u16 },
}

impl ListenSpec {
    /// Parses `listen.ntls`: `"off"`, `"HOST:PORT"`, `"[V6]:PORT"` or `"HOST"` (port 1792).
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(Self::Off);
        }
        let bad = || format!("listen.ntls: '{text}' is not HOST:PORT or \"off\"");
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (host, after) = rest.split_once(']').ok_or_else(bad)?;
            match after.strip_prefix(':') {
                Some(p) => (host, p.parse::<u16>().map_err(|_| bad())?),
                None if after.is_empty() => (host, DEFAULT_PORT),
                None => return Err(bad()),
            }
        } else if text.matches(':').count() > 1 {
            // A bare IPv6 address.
            (text, DEFAULT_PORT)
        } else if let Some((host, p)) = text.rsplit_once(':') {
            (host, p.parse::<u16>().map_err(|_| bad())?)
        } else {
            (text, DEFAULT_PORT)
        };
        if host.is_empty() {
            return Err(bad());
        }
        Ok(Self::At {
            host: host.to_owned(),
            port,
        })
    }
}

impl Default for ListenSpec {
    fn default() -> Self {
        Self::At {
            host: "0.0.0.0".into(),
            port: DEFAULT_PORT,
        }
    }
}

/// What `service status ntls` and `ntls show` report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// This process does not serve NTLS (a console that opened the module itself).
    NotServed,
    /// `listen.ntls = "off"`.
    Disabled,
    /// Stopped by `service stop ntls`.
    Stopped,
    /// The last start failed.
    Failed(String),
    /// Listening.
    Running(SocketAddr),
}

/// A handle whose drop tells a stopping listener that one more task has ended.
#[derive(Clone, Debug)]
pub(crate) struct DoneGuard {
    _tx: std_mpsc::Sender<()>,
}

/// One bind of the listener.
struct Generation {
    addr: SocketAddr,
    token: CancellationToken,
    /// Disconnected once the accept loop and every connection of this generation have ended.
    done: std_mpsc::Receiver<()>,
}

enum State {
    Stopped,
    Failed(String),
    Running(Generation),
}

struct Inner {
    listen: ListenSpec,
    limits: Limits,
    slots: Arc<Semaphore>,
    runtime: Option<tokio::runtime::Handle>,
    state: State,
    /// The port of the last successful bind: a port-0 configuration keeps it across restarts.
    last_port: Option<u16>,
}

/// A connection the appliance may close.
struct Tracked {
    client: Arc<str>,
    peer: SocketAddr,
    token: CancellationToken,
}

/// The NTLS service of one appliance.
pub(crate) struct NtlsService {
    data_dir: PathBuf,
    pub(crate) registry: Arc<Registry>,
    /// The module the requests run against (the appliance's).
    pub(crate) module: Arc<crate::shared::SharedModule>,
    inner: Mutex<Inner>,
    connections: Mutex<HashMap<u64, Tracked>>,
    /// The module accesses of each connected client, for its session cap.
    clients: Mutex<HashMap<Arc<str>, std::sync::Weak<wire::ClientAccesses>>>,
    next_id: AtomicU64,
    /// Connections closed for malformed frames since the daemon started.
    pub(crate) malformed: AtomicU64,
    /// Cancelled once, at daemon shutdown.
    shutdown: CancellationToken,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every section under these locks leaves the data consistent at each step.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl NtlsService {
    /// The service of the appliance in `data_dir` over `module`, not attached to a runtime.
    pub(crate) fn new(data_dir: &Path, module: Arc<crate::shared::SharedModule>) -> Self {
        let limits = Limits::default();
        Self {
            data_dir: data_dir.to_path_buf(),
            registry: Arc::new(Registry::open(data_dir)),
            module,
            inner: Mutex::new(Inner {
                listen: ListenSpec::default(),
                limits,
                slots: Arc::new(Semaphore::new(limits.max_connections)),
                runtime: None,
                state: State::Stopped,
                last_port: None,
            }),
            connections: Mutex::new(HashMap::new()),
            clients: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            malformed: AtomicU64::new(0),
            shutdown: CancellationToken::new(),
        }
    }

    /// Applies the configuration (before the first start).
    pub(crate) fn configure(&self, listen: ListenSpec, limits: Limits) {
        let mut inner = lock(&self.inner);
        inner.listen = listen;
        inner.limits = limits;
        inner.slots = Arc::new(Semaphore::new(limits.max_connections));
    }

    /// Lets this process serve NTLS on `runtime`.
    pub(crate) fn attach(&self, runtime: tokio::runtime::Handle) {
        lock(&self.inner).runtime = Some(runtime);
    }

    /// The configured listen specification.
    pub(crate) fn listen_spec(&self) -> ListenSpec {
        lock(&self.inner).listen.clone()
    }

    /// The address the next start binds: the `ntls bind` address if one is recorded, else the
    /// configured host; the configured port (a port-0 configuration reuses the last port).
    pub(crate) fn target(&self) -> Option<(String, u16)> {
        let inner = lock(&self.inner);
        let ListenSpec::At { host, port } = &inner.listen else {
            return None;
        };
        let host = Settings::load(&self.data_dir)
            .ntls_bind
            .unwrap_or_else(|| host.clone());
        let port = match (*port, inner.last_port) {
            (0, Some(last)) => last,
            (p, _) => p,
        };
        Some((host, port))
    }

    /// Starts the listener (on `prebound` if given, else on [`NtlsService::target`]); returns
    /// the address it listens on. Starting a running listener changes nothing.
    pub(crate) fn start(
        self: &Arc<Self>,
        prebound: Option<std::net::TcpListener>,
    ) -> Result<SocketAddr, String> {
        if self.shutdown.is_cancelled() {
            return Err("the appliance is shutting down".into());
        }
        let target = self.target();
        let mut inner = lock(&self.inner);
        let runtime = inner.runtime.clone().ok_or_else(not_served)?;
        if let State::Running(generation) = &inner.state {
            return Ok(generation.addr);
        }
        let result = self.bind_and_spawn(&runtime, &inner, target, prebound);
        match result {
            Ok(generation) => {
                let addr = generation.addr;
                inner.last_port = Some(addr.port());
                inner.state = State::Running(generation);
                tracing::info!(address = %addr, "NTLS service listening");
                Ok(addr)
            }
            Err(err) => {
                tracing::error!(%err, "NTLS service not started");
                inner.state = State::Failed(err.clone());
                Err(err)
            }
        }
    }

    fn bind_and_spawn(
        self: &Arc<Self>,
        runtime: &tokio::runtime::Handle,
        inner: &Inner,
        target: Option<(String, u16)>,
        prebound: Option<std::net::TcpListener>,
    ) -> Result<Generation, String> {
        let listener = match prebound {
            Some(l) => l,
            None => {
                let (host, port) = target.ok_or_else(|| {
                    "NTLS is disabled in the configuration (listen.ntls = \"off\")".to_owned()
                })?;
                let addr = (host.as_str(), port)
                    .to_socket_addrs()
                    .map_err(|e| format!("cannot resolve {host}: {e}"))?
                    .next()
                    .ok_or_else(|| format!("{host} resolves to no address"))?;
                std::net::TcpListener::bind(addr)
                    .map_err(|e| format!("cannot listen on {addr}: {e}"))?
            }
        };
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let (cert, key) = identity::load(&self.data_dir)?;
        let config = tls::server_config(cert, key, self.registry.clone())?;
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("cannot prepare the NTLS listener: {e}"))?;
        let listener = {
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(listener)
                .map_err(|e| format!("cannot prepare the NTLS listener: {e}"))?
        };
        let token = self.shutdown.child_token();
        let (done_tx, done) = std_mpsc::channel();
        runtime.spawn(accept_loop(
            self.clone(),
            listener,
            tokio_rustls::TlsAcceptor::from(config),
            token.clone(),
            inner.limits,
            inner.slots.clone(),
            DoneGuard { _tx: done_tx },
        ));
        Ok(Generation { addr, token, done })
    }

    /// Stops the listener and closes its connections; waits (at most a few seconds) until they
    /// have ended. Returns whether it was running.
    pub(crate) fn stop(&self) -> bool {
        let mut inner = lock(&self.inner);
        let State::Running(generation) = std::mem::replace(&mut inner.state, State::Stopped) else {
            return false;
        };
        generation.token.cancel();
        if let Err(std_mpsc::RecvTimeoutError::Timeout) = generation.done.recv_timeout(STOP_WAIT) {
            tracing::warn!("NTLS connections did not all end within {STOP_WAIT:?}");
        }
        tracing::info!(address = %generation.addr, "NTLS service stopped");
        true
    }

    /// Daemon shutdown: no more starts; stops the listener and its connections.
    pub(crate) fn shutdown(&self) {
        self.shutdown.cancel();
        self.stop();
    }

    /// The service's state.
    pub(crate) fn status(&self) -> Status {
        let inner = lock(&self.inner);
        if inner.runtime.is_none() {
            return Status::NotServed;
        }
        match (&inner.listen, &inner.state) {
            (_, State::Running(g)) => Status::Running(g.addr),
            (ListenSpec::Off, _) => Status::Disabled,
            (_, State::Failed(err)) => Status::Failed(err.clone()),
            (_, State::Stopped) => Status::Stopped,
        }
    }

    /// The connected clients: (name, address), oldest first.
    pub(crate) fn connected(&self) -> Vec<(Arc<str>, SocketAddr)> {
        let conns = lock(&self.connections);
        let mut list: Vec<_> = conns
            .iter()
            .map(|(id, t)| (*id, t.client.clone(), t.peer))
            .collect();
        list.sort_by_key(|(id, _, _)| *id);
        list.into_iter().map(|(_, c, p)| (c, p)).collect()
    }

    /// Closes every open connection of `client`; returns how many.
    pub(crate) fn close_client(&self, client: &str) -> usize {
        let conns = lock(&self.connections);
        let mut closed = 0;
        for t in conns.values().filter(|t| &*t.client == client) {
            t.token.cancel();
            closed += 1;
        }
        if closed > 0 {
            tracing::info!(
                client,
                closed,
                "NTLS connections of a deleted client closed"
            );
        }
        closed
    }

    fn track(&self, client: Arc<str>, peer: SocketAddr, token: CancellationToken) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.connections).insert(
            id,
            Tracked {
                client,
                peer,
                token,
            },
        );
        id
    }

    /// The access set shared by every live connection of `client` (a new one when it has none).
    fn client_accesses(&self, client: &Arc<str>, max_sessions: usize) -> Arc<wire::ClientAccesses> {
        let mut clients = lock(&self.clients);
        clients.retain(|_, set| set.strong_count() > 0);
        if let Some(set) = clients.get(client).and_then(std::sync::Weak::upgrade) {
            return set;
        }
        let set = Arc::new(wire::ClientAccesses::new(max_sessions));
        clients.insert(client.clone(), Arc::downgrade(&set));
        set
    }

    fn untrack(&self, id: u64) {
        lock(&self.connections).remove(&id);
    }
}

/// The name the appliance's certificate carries when none is given: the recorded host name
/// (with the recorded domain, when one is set), else the configured one, else the host's.
pub(crate) fn appliance_name(data_dir: &Path, configured: Option<&str>) -> String {
    let settings = Settings::load(data_dir);
    if let Some(host) = settings.hostname {
        return match settings.domain {
            Some(domain) => format!("{host}.{domain}"),
            None => host,
        };
    }
    configured
        .map(str::to_owned)
        .filter(|h| identity::check_name(h).is_ok())
        .or_else(identity::host_name)
        .unwrap_or_else(|| "localhost".to_owned())
}

fn not_served() -> String {
    "NTLS is served by the appliance daemon ('strongroomd run'), which is not running: this \
     console opened the module itself"
        .to_owned()
}

async fn accept_loop(
    svc: Arc<NtlsService>,
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    token: CancellationToken,
    limits: Limits,
    slots: Arc<Semaphore>,
    done: DoneGuard,
) {
    loop {
        let (stream, peer) = tokio::select! {
            _ = token.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(err) => {
                    // Out of descriptors and the like: do not spin.
                    tracing::warn!(%err, "NTLS accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::warn!(
                %peer,
                max_connections = limits.max_connections,
                "too many NTLS connections: connection refused"
            );
            continue;
        };
        let _ = stream.set_nodelay(true);
        let accepted = conn::Accepted {
            stream,
            peer,
            permit,
            done: done.clone(),
        };
        tokio::spawn(
            conn::serve(
                svc.clone(),
                acceptor.clone(),
                token.child_token(),
                limits,
                accepted,
            )
            .instrument(tracing::info_span!(
                "ntls",
                %peer,
                client = tracing::field::Empty
            )),
        );
    }
    drop(listener);
    drop(done);
}

#[cfg(test)]
mod tests;
