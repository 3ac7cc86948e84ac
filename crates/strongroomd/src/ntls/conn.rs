//! One NTLS connection: handshake (bounded in time), identification of the registered client,
//! the hello, then requests.
//!
//! The reader decodes frames, at most `max_in_flight` requests at once (beyond that it stops
//! reading: the client's own sends then wait). Requests that change the module or take long
//! by design (logins, key generation) get a task each. The quick ones of what was received
//! are answered once every whole frame is taken: a single one by the reader itself (a
//! hand-over costs more than the work when a worker has to be woken for it); several in two
//! halves, a task each (the second spawned moves the first out of the runtime's LIFO slot, so
//! the other worker takes it), each half in order with its answers in one write, except that
//! what is ready goes out once its first answer has waited 100 µs, and before a request that
//! must wait for the module. Answers go out through the [`Outbox`] in the order they
//! complete: whoever has answers writes them, unless a write is under way, which then takes
//! them along. A frame the decoder refuses (oversize, malformed), a bad hello or a second hello
//! closes this connection only and is logged with the peer and the client name. The
//! connection also ends when idle (no bytes and no request in flight for the idle timeout),
//! when its client is deleted, and when NTLS stops.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use strongroom_proto::{FrameDecoder, OP_HELLO};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;

use super::wire::{self, Peer, RequestContext};
use super::{DoneGuard, Limits, NtlsService, lock};

/// How long a closing connection may take to flush its last answers and close the TLS session.
const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Why a connection ended.
enum End {
    /// The peer closed it.
    Eof,
    /// NTLS stopped, or the client was deleted.
    Closed,
    /// No traffic for the idle timeout.
    Idle,
    /// A socket or TLS error.
    Io(std::io::Error),
    /// The peer took no answers for the idle timeout (or the socket failed while writing).
    Stalled,
    /// The peer sent something that is not the protocol.
    Malformed(String),
    /// A request started but did not finish arriving within the frame timeout.
    SlowFrame,
    /// The hello found no common version (answered, then closed).
    NoCommonVersion,
}

/// An accepted TCP connection and what it holds while it lives.
pub(super) struct Accepted {
    pub(super) stream: TcpStream,
    pub(super) peer: SocketAddr,
    /// Its place among `max_connections`.
    pub(super) permit: OwnedSemaphorePermit,
    /// Tells the stopping listener when the connection is gone.
    pub(super) done: DoneGuard,
}

/// Removes a connection from the service's list when it ends, however it ends.
struct TrackGuard<'a> {
    svc: &'a NtlsService,
    id: u64,
}

impl Drop for TrackGuard<'_> {
    fn drop(&mut self) {
        self.svc.untrack(self.id);
    }
}

/// Serves one accepted TCP connection until it ends.
pub(super) async fn serve(
    svc: Arc<NtlsService>,
    acceptor: TlsAcceptor,
    token: CancellationToken,
    limits: Limits,
    accepted: Accepted,
) {
    let Accepted {
        stream,
        peer,
        permit: _permit,
        done: _done,
    } = accepted;
    let handshake = tokio::time::timeout(limits.handshake_timeout, acceptor.accept(stream));
    let tls = tokio::select! {
        _ = token.cancelled() => return,
        result = handshake => match result {
            Ok(Ok(tls)) => tls,
            Ok(Err(err)) => {
                tracing::warn!(%err, "NTLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::warn!(
                    timeout_secs = limits.handshake_timeout.as_secs(),
                    "NTLS handshake timed out"
                );
                return;
            }
        },
    };
    let cert = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .map(|c| c.as_ref().to_vec())
        .unwrap_or_default();
    let Some(client) = svc.registry.identify(&cert) else {
        // Deleted between the certificate check and now.
        tracing::warn!("NTLS connection closed: its client is no longer registered");
        return;
    };
    tracing::Span::current().record("client", &*client);
    let _tracked = TrackGuard {
        svc: &svc,
        id: svc.track(client.clone(), peer, token.clone()),
    };
    // `client delete` publishes the registrations, then closes the tracked connections: a
    // connection tracked too late for that sees the deletion here.
    if svc.registry.identify(&cert).as_deref() != Some(&*client) {
        tracing::warn!("NTLS connection closed: its client is no longer registered");
        return;
    }
    tracing::info!("NTLS client connected");
    let ctx = RequestContext {
        peer: Peer {
            client: client.clone(),
            addr: peer,
            version: 0,
        },
        registry: svc.registry.clone(),
        // One module access per connection: its sessions and logins end with the connection,
        // when the last request holding the guard is done.
        access: Arc::new(wire::ModuleAccess::open(
            svc.module.clone(),
            svc.client_accesses(&client, limits.max_sessions_per_client),
        )),
    };
    let end = run(tls, ctx, &token, limits).await;
    match end {
        End::Eof => tracing::info!("NTLS client disconnected"),
        End::Closed => tracing::info!("NTLS connection closed by the appliance"),
        End::Idle => tracing::info!(
            idle_secs = limits.idle_timeout.as_secs(),
            "NTLS connection closed: idle"
        ),
        End::Io(err) if err.kind() == std::io::ErrorKind::InvalidData => {
            // Not TLS, or a TLS record that does not verify: the peer misbehaves.
            tracing::warn!(%err, "NTLS connection closed: invalid TLS data");
        }
        End::Io(err) => tracing::info!(%err, "NTLS connection lost"),
        End::Stalled => tracing::warn!(
            timeout_secs = limits.idle_timeout.as_secs(),
            "NTLS connection closed: the client takes no answers"
        ),
        End::SlowFrame => tracing::warn!(
            timeout_secs = limits.frame_timeout.as_secs(),
            "NTLS connection closed: a request did not finish arriving in time"
        ),
        End::NoCommonVersion => {
            tracing::warn!("NTLS connection closed: no protocol version in common");
        }
        End::Malformed(what) => {
            let count = svc.malformed.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::warn!(
                %peer,
                client = &*client,
                error = %what,
                malformed_total = count,
                "malformed NTLS frame: connection closed"
            );
        }
    }
}

/// Answers on their way to the peer.
///
/// Whoever has an answer appends it to the queue; the first to find no write under way
/// becomes the writer and writes until the queue is empty, so an answer goes out from the
/// task that made it, and answers that pile up meanwhile share one write and one flush. A
/// queued answer keeps its request's in-flight permit until it is written, so a peer that
/// takes no answers soon stops having requests read.
struct Outbox {
    queue: std::sync::Mutex<Queue>,
    writer: tokio::sync::Mutex<WriteHalf<TlsStream<TcpStream>>>,
    /// Cancelled when a write fails or does not complete within `timeout` (it ends the
    /// connection; a child of the connection's token, so it is also cancelled when NTLS stops).
    stalled: CancellationToken,
    /// Set when a write failed: nothing more is written.
    broken: std::sync::atomic::AtomicBool,
    timeout: std::time::Duration,
}

#[derive(Default)]
struct Queue {
    bytes: Vec<u8>,
    permits: Vec<OwnedSemaphorePermit>,
    /// Whether a task is writing (it takes whatever is queued before it stops).
    writing: bool,
}

impl Outbox {
    /// Queues `answer` and writes it unless a write under way will. False once the connection
    /// can no longer take answers.
    async fn send(&self, answer: Vec<u8>, permit: Option<OwnedSemaphorePermit>) -> bool {
        self.send_all(answer, permit.into_iter().collect()).await
    }

    /// As [`Outbox::send`], for the answers (concatenated) of several requests.
    async fn send_all(&self, mut answer: Vec<u8>, permits: Vec<OwnedSemaphorePermit>) -> bool {
        {
            let mut q = lock(&self.queue);
            if self.broken.load(Ordering::Relaxed) {
                strongroom_proto::wipe(&mut answer);
                return false;
            }
            if q.bytes.is_empty() {
                q.bytes = answer;
            } else {
                // Answers may carry plaintext or key bytes: no stray copy stays in memory.
                strongroom_proto::append_wiped(&mut q.bytes, &answer);
                strongroom_proto::wipe(&mut answer);
            }
            q.permits.extend(permits);
            if q.writing {
                return true;
            }
            q.writing = true;
        }
        self.drain().await
    }

    /// Writes until the queue is empty (the caller set `writing`).
    async fn drain(&self) -> bool {
        let mut writer = self.writer.lock().await;
        loop {
            let (mut bytes, permits) = {
                let mut q = lock(&self.queue);
                if q.bytes.is_empty() {
                    q.writing = false;
                    return true;
                }
                (std::mem::take(&mut q.bytes), std::mem::take(&mut q.permits))
            };
            let write = async {
                writer.write_all(&bytes).await?;
                writer.flush().await
            };
            let written = matches!(tokio::time::timeout(self.timeout, write).await, Ok(Ok(())));
            strongroom_proto::wipe(&mut bytes);
            drop(permits);
            if !written {
                // `writing` stays set: nothing more is written on this connection.
                self.broken.store(true, Ordering::Relaxed);
                self.stalled.cancel();
                return false;
            }
        }
    }

    /// Once no request is left: writes what is queued (unless a write failed: also when NTLS
    /// stops, answers already made go out) and closes the TLS session.
    async fn close(&self) {
        let pending = {
            let mut q = lock(&self.queue);
            // A writer cancelled with its request task left `writing` set.
            q.writing = !self.broken.load(Ordering::Relaxed);
            q.writing
        };
        if pending {
            self.drain().await;
        }
        let _ = self.writer.lock().await.shutdown().await;
    }
}

/// The reading side of a connection after the handshake.
struct Reader {
    decoder: FrameDecoder,
    hello_done: bool,
    ctx: RequestContext,
    outbox: Arc<Outbox>,
    in_flight: Arc<Semaphore>,
    requests: JoinSet<()>,
    limits: Limits,
    /// Whole frames taken so far.
    frames: u64,
    /// The quick requests of what was received, answered once every whole frame is taken.
    quick: Vec<Request>,
}

/// Reads frames and answers them until the connection ends.
async fn run(
    tls: TlsStream<TcpStream>,
    ctx: RequestContext,
    token: &CancellationToken,
    limits: Limits,
) -> End {
    let (mut socket, writer) = tokio::io::split(tls);
    let slots = limits.max_in_flight.max(1);
    // Cancelled with the connection, or when the peer stops taking answers.
    let stalled = token.child_token();
    let outbox = Arc::new(Outbox {
        queue: std::sync::Mutex::new(Queue::default()),
        writer: tokio::sync::Mutex::new(writer),
        stalled: stalled.clone(),
        broken: std::sync::atomic::AtomicBool::new(false),
        timeout: limits.idle_timeout,
    });
    let mut r = Reader {
        decoder: FrameDecoder::new(limits.max_payload),
        hello_done: false,
        ctx,
        outbox: outbox.clone(),
        in_flight: Arc::new(Semaphore::new(slots)),
        requests: JoinSet::new(),
        limits,
        frames: 0,
        quick: Vec::new(),
    };
    let mut buf = vec![0u8; 16 * 1024];
    // When the oldest unfinished request must have arrived whole.
    let mut frame_deadline: Option<tokio::time::Instant> = None;
    let end = loop {
        let idle = r.requests.is_empty();
        let partial = frame_deadline.unwrap_or_else(tokio::time::Instant::now);
        tokio::select! {
            _ = stalled.cancelled() => {
                break if token.is_cancelled() { End::Closed } else { End::Stalled };
            }
            _ = tokio::time::sleep_until(partial), if frame_deadline.is_some() => {
                break End::SlowFrame;
            }
            _ = tokio::time::sleep(limits.idle_timeout), if idle => break End::Idle,
            Some(_) = r.requests.join_next(), if !idle => continue,
            read = socket.read(&mut buf) => match read {
                Ok(0) => break End::Eof,
                Ok(n) => r.decoder.push(&buf[..n]),
                Err(err) => break End::Io(err),
            },
        }
        let taken = r.frames;
        if let Err(end) = r.take_frames(&stalled).await {
            break match end {
                End::Closed if !token.is_cancelled() => End::Stalled,
                other => other,
            };
        }
        // The clock runs from the first byte of each request that is still incomplete.
        frame_deadline = match frame_deadline {
            _ if r.decoder.buffered() == 0 => None,
            Some(deadline) if r.frames == taken => Some(deadline),
            _ => Some(tokio::time::Instant::now() + limits.frame_timeout),
        };
    };
    // In-flight requests can no longer be answered once the connection closes; the answers
    // already queued still go out, within the grace period.
    r.requests.shutdown().await;
    drop(r);
    let _ = tokio::time::timeout(CLOSE_GRACE, outbox.close()).await;
    end
}

/// How long an answer made may wait for the answers after it in its group, to share their
/// write: beyond this it goes out before the next request of the group is run.
const GROUP_WAIT: std::time::Duration = std::time::Duration::from_micros(100);

type Request = (strongroom_proto::Frame, OwnedSemaphorePermit);

/// Answers `group` in order, the answers together in one write, except that what is ready
/// goes out once its first answer has waited [`GROUP_WAIT`], and before a request that has to
/// wait for the module (a change under way holds it).
async fn answer_group(
    ctx: RequestContext,
    outbox: Arc<Outbox>,
    group: Vec<Request>,
    max_payload: usize,
) {
    let mut answers = Vec::new();
    let mut permits = Vec::with_capacity(group.len());
    let mut since = std::time::Instant::now();
    for (frame, permit) in group {
        let ready = !permits.is_empty()
            && (since.elapsed() >= GROUP_WAIT || !wire::answers_at_once(&ctx, frame.opcode));
        if ready {
            let batch = std::mem::take(&mut answers);
            if !outbox.send_all(batch, std::mem::take(&mut permits)).await {
                return;
            }
        }
        let mut answer = wire::dispatch(&ctx, frame, max_payload).await;
        if permits.is_empty() {
            since = std::time::Instant::now();
            answers = answer;
        } else {
            strongroom_proto::append_wiped(&mut answers, &answer);
            strongroom_proto::wipe(&mut answer);
        }
        permits.push(permit);
    }
    if !permits.is_empty() {
        outbox.send_all(answers, permits).await;
    }
}

impl Reader {
    /// Answers the quick requests of what was received: a single one on this task (a
    /// hand-over to another task costs more than the work when a worker has to be woken for
    /// it); more in two halves, each a task of its own (so that the runtime's other worker
    /// takes one) answering in order with its answers in one write.
    async fn answer_quick(&mut self) -> Result<(), End> {
        let max_payload = self.limits.max_payload;
        let mut quick = std::mem::take(&mut self.quick);
        if quick.len() == 1 {
            if let Some((frame, permit)) = quick.pop() {
                let answer = wire::dispatch(&self.ctx, frame, max_payload).await;
                if !self.outbox.send(answer, Some(permit)).await {
                    return Err(End::Closed);
                }
            }
            return Ok(());
        }
        if quick.is_empty() {
            return Ok(());
        }
        let first: Vec<_> = quick.drain(..quick.len() / 2).collect();
        for half in [first, quick] {
            let (ctx, outbox) = (self.ctx.clone(), self.outbox.clone());
            self.requests
                .spawn(answer_group(ctx, outbox, half, max_payload));
        }
        Ok(())
    }

    /// Handles every whole frame the decoder holds.
    async fn take_frames(&mut self, token: &CancellationToken) -> Result<(), End> {
        let max_payload = self.limits.max_payload;
        loop {
            let frame = match self.decoder.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => return self.answer_quick().await,
                Err(err) => return Err(End::Malformed(err.to_string())),
            };
            self.frames += 1;
            if !self.hello_done {
                let Some((hello, agreed)) = wire::hello_answer(&frame) else {
                    return Err(End::Malformed(format!(
                        "the first frame is not a valid hello (opcode {}, {} bytes)",
                        frame.opcode,
                        frame.payload.len()
                    )));
                };
                let answer = wire::encode(frame.request_id, OP_HELLO, &hello.encode(), max_payload);
                if !self.outbox.send(answer, None).await {
                    return Err(End::Closed);
                }
                if !agreed {
                    return Err(End::NoCommonVersion);
                }
                self.ctx.peer.version = hello.max;
                self.hello_done = true;
                tracing::debug!(version = hello.max, "NTLS hello done");
                continue;
            }
            if frame.opcode == OP_HELLO {
                return Err(End::Malformed("a second hello".into()));
            }
            // At the in-flight limit, answer the quick requests held here (they hold slots),
            // then wait for a slot (and read nothing meanwhile).
            if self.in_flight.available_permits() == 0 && !self.quick.is_empty() {
                self.answer_quick().await?;
            }
            let permit = tokio::select! {
                _ = token.cancelled() => return Err(End::Closed),
                permit = self.in_flight.clone().acquire_owned() => match permit {
                    Ok(p) => p,
                    Err(_) => return Err(End::Closed),
                },
            };
            if wire::answers_at_once(&self.ctx, frame.opcode) {
                // Quick: answered with the other quick requests of this read (below).
                self.quick.push((frame, permit));
                continue;
            }
            let (ctx, outbox) = (self.ctx.clone(), self.outbox.clone());
            self.requests.spawn(async move {
                let answer = wire::dispatch(&ctx, frame, max_payload).await;
                outbox.send(answer, Some(permit)).await;
            });
        }
    }
}
