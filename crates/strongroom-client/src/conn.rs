//! One NTLS connection, shared by every thread of the application.
//!
//! Many requests are in flight at once and the appliance answers them in any order. No
//! thread is started for this: whichever caller is waiting becomes the *reader* (it blocks on
//! the socket), files every frame it decodes under its request id and wakes exactly the thread
//! that waits for it; when its own answer has arrived it hands the reader role to one caller
//! still waiting. The others sleep (parked) until their answer or the role comes: one wake-up
//! per answer, never a herd. Requests are written the same way: whoever sends while another
//! caller is writing leaves its frame to that caller, so frames that meet share one write.
//! Lock order: `reader` before `tls` before `state`; `outgoing` and `state` are never held
//! while blocking on I/O.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::Thread;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use strongroom_proto::{
    DEFAULT_MAX_PAYLOAD, Frame, FrameDecoder, Hello, OP_HELLO, PROTOCOL_VERSIONS, encode_frame,
};
use zeroize::Zeroize;

use crate::Error;

/// Timeouts of a connection.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// TCP connect and TLS handshake.
    pub connect: Duration,
    /// Waiting for one answer.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            request: Duration::from_secs(60),
        }
    }
}

struct Tls {
    conn: rustls::ClientConnection,
    sock: TcpStream,
}

struct Reader {
    sock: TcpStream,
    decoder: FrameDecoder,
}

#[derive(Default)]
struct State {
    answers: HashMap<u64, Frame>,
    /// Each request still unanswered, with the thread that waits for it.
    waiting: HashMap<u64, Thread>,
    /// Whether a caller holds the reader role.
    reading: bool,
    next_id: u64,
    /// Set once the connection is unusable; every waiter and later call fails.
    broken: bool,
}

/// Request frames waiting to be written.
#[derive(Default)]
struct Outgoing {
    frames: Vec<Vec<u8>>,
    /// Whether a caller is writing (it takes every queued frame before it stops).
    sending: bool,
}

/// An established, authenticated connection to one appliance.
pub struct Connection {
    tls: Mutex<Tls>,
    outgoing: Mutex<Outgoing>,
    reader: Mutex<Reader>,
    state: Mutex<State>,
    /// The negotiated protocol version (0 until the hello exchange is done).
    version: std::sync::atomic::AtomicU16,
    timeouts: Timeouts,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in another caller cannot leave these structures half-updated in a way that
    // matters: a broken connection is detected by the next I/O.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Connection {
    /// Connects to `addr`, completes the TLS 1.3 handshake with `config` (pinned appliance
    /// certificate, client certificate) and the hello exchange.
    pub fn connect(
        addr: &str,
        server_name: &str,
        config: Arc<rustls::ClientConfig>,
        timeouts: Timeouts,
    ) -> Result<Arc<Self>, Error> {
        let target = addr
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| Error::InvalidInput(format!("'{addr}' resolves to no address")))?;
        let mut sock = TcpStream::connect_timeout(&target, timeouts.connect)?;
        sock.set_nodelay(true)?;
        sock.set_read_timeout(Some(timeouts.connect))?;
        sock.set_write_timeout(Some(timeouts.connect))?;
        let name = ServerName::try_from(server_name.to_owned())
            .map_err(|_| Error::InvalidInput(format!("'{server_name}' is not a server name")))?;
        let mut conn = rustls::ClientConnection::new(config, name)?;
        while conn.is_handshaking() {
            conn.complete_io(&mut sock)?;
        }
        // rustls buffers at most 64 KiB of plaintext by default; a request frame may be up to
        // the protocol's maximum (4 MiB), and it is written whole before it is flushed.
        conn.set_buffer_limit(None);
        let read_half = sock.try_clone()?;
        let this = Self {
            tls: Mutex::new(Tls { conn, sock }),
            outgoing: Mutex::new(Outgoing::default()),
            reader: Mutex::new(Reader {
                sock: read_half,
                decoder: FrameDecoder::new(DEFAULT_MAX_PAYLOAD),
            }),
            state: Mutex::new(State {
                next_id: 1,
                ..State::default()
            }),
            version: std::sync::atomic::AtomicU16::new(0),
            timeouts,
        };
        let ours = Hello {
            min: *PROTOCOL_VERSIONS.start(),
            max: *PROTOCOL_VERSIONS.end(),
        };
        let answer = this.call_raw(OP_HELLO, &ours.encode())?;
        let theirs = Hello::decode(&answer.payload)
            .filter(|_| answer.opcode == OP_HELLO)
            .ok_or_else(|| Error::Protocol("the appliance's hello is malformed".into()))?;
        let version = ours
            .negotiate(theirs.min..=theirs.max)
            .ok_or(Error::VersionMismatch {
                appliance: (theirs.min, theirs.max),
            })?;
        {
            let t = lock(&this.tls);
            t.sock.set_write_timeout(Some(timeouts.request))?;
        }
        lock(&this.reader)
            .sock
            .set_read_timeout(Some(timeouts.request))?;
        this.version
            .store(version, std::sync::atomic::Ordering::Release);
        Ok(Arc::new(this))
    }

    /// The negotiated protocol version.
    pub fn version(&self) -> u16 {
        self.version.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Whether the connection has failed (the next call needs a new connection).
    pub fn is_broken(&self) -> bool {
        lock(&self.state).broken
    }

    /// Sends one request and waits for its answer. Safe to call from many threads at once.
    pub fn call(&self, opcode: u16, payload: &[u8]) -> Result<Frame, Error> {
        self.call_raw(opcode, payload)
    }

    fn call_raw(&self, opcode: u16, payload: &[u8]) -> Result<Frame, Error> {
        let id = {
            let mut st = lock(&self.state);
            if st.broken {
                return Err(Error::ConnectionLost);
            }
            let id = st.next_id;
            st.next_id += 1;
            st.waiting.insert(id, std::thread::current());
            id
        };
        let mut frame = Vec::new();
        if let Err(e) = encode_frame(&mut frame, id, opcode, payload, DEFAULT_MAX_PAYLOAD) {
            lock(&self.state).waiting.remove(&id);
            return Err(Error::InvalidInput(e.to_string()));
        }
        if let Err(err) = self.send(frame) {
            self.fail_all();
            lock(&self.state).waiting.remove(&id);
            return Err(err);
        }
        self.wait_for(id)
    }

    /// Queues `frame` and writes it, unless a caller writing now will: frames queued while a
    /// write is under way go out together in the next one (one system call for many).
    fn send(&self, frame: Vec<u8>) -> Result<(), Error> {
        {
            let mut out = lock(&self.outgoing);
            out.frames.push(frame);
            if out.sending {
                return Ok(());
            }
            out.sending = true;
        }
        loop {
            let mut batch = {
                let mut out = lock(&self.outgoing);
                if out.frames.is_empty() {
                    out.sending = false;
                    return Ok(());
                }
                std::mem::take(&mut out.frames)
            };
            let written = self.write_frames(&batch);
            // Requests may carry PINs: no copy outlives its writing.
            for f in &mut batch {
                strongroom_proto::wipe(f);
            }
            if let Err(err) = written {
                // The connection is given up (the caller fails every waiter); frames queued
                // meanwhile are dropped with it.
                let mut out = lock(&self.outgoing);
                for f in &mut out.frames {
                    f.zeroize();
                }
                out.frames.clear();
                out.sending = false;
                return Err(err);
            }
        }
    }

    fn write_frames(&self, frames: &[Vec<u8>]) -> Result<(), Error> {
        let mut guard = lock(&self.tls);
        let t = &mut *guard;
        for f in frames {
            t.conn.writer().write_all(f)?;
        }
        while t.conn.wants_write() {
            t.conn.write_tls(&mut t.sock)?;
        }
        Ok(())
    }

    fn wait_for(&self, id: u64) -> Result<Frame, Error> {
        let deadline = Instant::now() + self.timeouts.request;
        loop {
            let mut st = lock(&self.state);
            if let Some(f) = st.answers.remove(&id) {
                st.waiting.remove(&id);
                return Ok(f);
            }
            if st.broken {
                st.waiting.remove(&id);
                return Err(Error::ConnectionLost);
            }
            let now = Instant::now();
            if now >= deadline {
                st.waiting.remove(&id);
                drop(st);
                // An appliance silent for a whole request timeout is not trusted to be in the
                // state this side believes (the request may yet have run): the connection is
                // given up, so that the next call reconnects instead of waiting again.
                self.fail_all();
                return Err(Error::Timeout);
            }
            if st.reading {
                drop(st);
                // Woken when the answer is filed, when the reader role is handed over, or when
                // the connection fails; a wake-up meant for an earlier call is harmless.
                std::thread::park_timeout(deadline - now);
                continue;
            }
            st.reading = true;
            drop(st);
            let result = self.read_some(&mut lock(&self.reader), id);
            let mut st = lock(&self.state);
            st.reading = false;
            if st.answers.contains_key(&id) {
                // Leaving: one caller still without its answer becomes the reader.
                let next = st
                    .waiting
                    .iter()
                    .find(|(other, _)| **other != id && !st.answers.contains_key(other))
                    .map(|(_, thread)| thread.clone());
                drop(st);
                if let Some(thread) = next {
                    thread.unpark();
                }
            } else {
                drop(st);
            }
            if result.is_err_and(|err| !matches!(err, Error::Timeout)) {
                self.fail_all();
            }
        }
    }

    /// Reads what the socket has (blocking up to the request timeout), decrypts it and files
    /// every complete frame under its request id, waking the thread that waits for it (`own`
    /// is the reader's request, whose caller is awake).
    fn read_some(&self, reader: &mut Reader, own: u64) -> Result<(), Error> {
        let mut buf = [0u8; 16 * 1024];
        let n = match reader.sock.read(&mut buf) {
            Ok(0) => return Err(Error::ConnectionLost),
            Ok(n) => n,
            Err(err)
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(Error::Timeout);
            }
            Err(err) => return Err(err.into()),
        };
        let mut plain = Vec::new();
        {
            let mut guard = lock(&self.tls);
            let t = &mut *guard;
            let mut input = &buf[..n];
            while !input.is_empty() {
                t.conn.read_tls(&mut input)?;
                let state = t.conn.process_new_packets()?;
                let avail = state.plaintext_bytes_to_read();
                if avail > 0 {
                    let start = plain.len();
                    plain.resize(start + avail, 0);
                    t.conn.reader().read_exact(&mut plain[start..])?;
                }
                if state.peer_has_closed() {
                    return Err(Error::ConnectionLost);
                }
            }
            // TLS 1.3 may need to answer (key updates); flush whatever rustls queued.
            while t.conn.wants_write() {
                t.conn.write_tls(&mut t.sock)?;
            }
        }
        reader.decoder.push(&plain);
        let mut wake = Vec::new();
        let result = {
            let mut st = lock(&self.state);
            loop {
                match reader.decoder.next_frame() {
                    Ok(Some(frame)) => {
                        // An answer nobody waits for (a timed-out request) is dropped.
                        if let Some(thread) = st.waiting.get(&frame.request_id) {
                            if frame.request_id != own {
                                wake.push(thread.clone());
                            }
                            st.answers.insert(frame.request_id, frame);
                        }
                    }
                    Ok(None) => break Ok(()),
                    Err(err) => {
                        st.broken = true;
                        break Err(Error::Protocol(err.to_string()));
                    }
                }
            }
        };
        for thread in wake {
            thread.unpark();
        }
        result
    }

    fn fail_all(&self) {
        let waiting: Vec<Thread> = {
            let mut st = lock(&self.state);
            st.broken = true;
            st.waiting.values().cloned().collect()
        };
        for thread in waiting {
            thread.unpark();
        }
        let t = lock(&self.tls);
        let _ = t.sock.shutdown(std::net::Shutdown::Both);
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Ok(t) = self.tls.get_mut() {
            t.conn.send_close_notify();
            let _ = t.conn.write_tls(&mut t.sock);
            let _ = t.sock.shutdown(std::net::Shutdown::Both);
        }
    }
}
