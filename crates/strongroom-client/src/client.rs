//! The client of every configured appliance: connections, the slot map and the sessions.
//!
//! # Slot ids
//!
//! A slot is one partition assigned to this client on one configured appliance. Slot ids are
//! small integers given out in this order at the first enumeration: appliances in the order
//! of the configuration file, and on each appliance its assigned partitions by ascending
//! serial number, counting from 0. So the same configuration and the same assignments give
//! the same ids in every process. Within a process an id never changes its partition: a
//! partition that appears later (a new assignment, an appliance that was unreachable) gets
//! the next unused id, and a partition that disappears (assignment revoked, appliance
//! unreachable) keeps its id as a slot without a token until it comes back.
//!
//! # Connections and sessions
//!
//! One connection per appliance carries every request of the process. The appliance ties
//! sessions and logins to the connection, so a lost connection (an appliance restart, a
//! broken link) ends them: a call in flight fails with `CKR_DEVICE_REMOVED`, later calls on
//! those sessions with `CKR_SESSION_HANDLE_INVALID`. Calls that need no session (slot and
//! token information, opening a session) reconnect; when they fail on a connection found dead
//! they are retried once on a new one.
//!
//! Session handles are this library's own, counted from 1 and never reused, because two
//! appliances may hand out the same handle.
//!
//! Lock order: `slots` before `sessions` before an appliance's `link`. Only `link` is held
//! across I/O (while connecting, so that one thread connects and the others wait for it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use strongroom_proto::messages::{self as m, Message};
use strongroom_proto::{RetCode, ckr, ret};
use zeroize::Zeroize;

use crate::{ClientConfig, Connection, Error, Server};

/// PKCS#11 token flags the client computes (`CKF_*` of `CK_TOKEN_INFO`).
pub mod token_flags {
    /// `CKF_RNG`.
    pub const RNG: u64 = 0x1;
    /// `CKF_LOGIN_REQUIRED`.
    pub const LOGIN_REQUIRED: u64 = 0x4;
    /// `CKF_USER_PIN_INITIALIZED`.
    pub const USER_PIN_INITIALIZED: u64 = 0x8;
    /// `CKF_RESTORE_KEY_NOT_NEEDED`.
    pub const RESTORE_KEY_NOT_NEEDED: u64 = 0x20;
    /// `CKF_TOKEN_INITIALIZED`.
    pub const TOKEN_INITIALIZED: u64 = 0x400;
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every update below is a single insert, remove or assignment: a panic elsewhere cannot
    // leave these tables half-changed.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Sends `req` on `conn` and decodes the answer: the call's response, or
/// [`Error::Module`] for an error answer. The encoded request is zeroized after sending.
pub fn request<Q: Message, A: Message>(conn: &Connection, req: &Q) -> Result<A, Error> {
    let mut payload = m::encode(req);
    let frame = conn.call(Q::OPCODE, &payload);
    strongroom_proto::wipe(&mut payload);
    answer::<Q, A>(frame?)
}

/// What a call of an operation whose init the library answered itself returns when that init
/// fails after all (`code`): the init's code when the call may return it (a session, login or
/// device failure), else one that maps to `CKR_FUNCTION_FAILED`.
fn init_failure(code: RetCode) -> Error {
    let code = if matches!(
        code.ckr(),
        ckr::CKR_SESSION_HANDLE_INVALID
            | ckr::CKR_SESSION_CLOSED
            | ckr::CKR_USER_NOT_LOGGED_IN
            | ckr::CKR_DEVICE_ERROR
            | ckr::CKR_DEVICE_MEMORY
            | ckr::CKR_DEVICE_REMOVED
            | ckr::CKR_GENERAL_ERROR
    ) {
        code
    } else {
        ret::SR_RET_NOT_FOUND
    };
    Error::Module { code, needed: None }
}

/// Sends an init the library answered itself alone; `Some` with the appliance's code if it
/// failed after all.
fn send_owed(owed: &Pending) -> Option<RetCode> {
    let frame = owed.conn.call(owed.opcode, &owed.init).ok()?;
    if frame.opcode != m::OP_ERROR {
        return None;
    }
    let e: m::ErrorResponse = m::decode(&frame.payload).ok()?;
    Some(RetCode::from_u32(e.code))
}

/// Sends the encoded call `call` (a `Q`) with the init `init` (opcode `init_opcode`) that the
/// library answered itself ([`m::PipelinedRequest`]) and decodes the call's answer. The call
/// is zeroized after sending. If the init fails after all, the call is not run and fails as
/// [`init_failure`] says.
fn request_pipelined<Q: Message, A: Message>(
    conn: &Connection,
    init_opcode: u16,
    init: Vec<u8>,
    call: Vec<u8>,
) -> Result<A, Error> {
    let mut request = m::PipelinedRequest {
        init_opcode,
        init,
        call_opcode: Q::OPCODE,
        call,
    };
    let mut wrapped = m::encode(&request);
    strongroom_proto::wipe(&mut request.call);
    let frame = conn.call(m::OP_PIPELINED, &wrapped);
    strongroom_proto::wipe(&mut wrapped);
    let frame = frame?;
    if frame.opcode == m::OP_PIPELINED {
        let failed: m::PipelinedInitFailed = m::decode(&frame.payload)
            .map_err(|e| Error::Protocol(format!("pipelined init answer: {e}")))?;
        return Err(init_failure(RetCode::from_u32(failed.code)));
    }
    answer::<Q, A>(frame)
}

/// Decodes the answer to a request of type `Q`.
fn answer<Q: Message, A: Message>(frame: strongroom_proto::Frame) -> Result<A, Error> {
    if frame.opcode == m::OP_ERROR {
        let e: m::ErrorResponse =
            m::decode(&frame.payload).map_err(|e| Error::Protocol(format!("error answer: {e}")))?;
        return Err(Error::Module {
            code: RetCode::from_u32(e.code),
            needed: e.needed,
        });
    }
    if frame.opcode != A::OPCODE {
        return Err(Error::Protocol(format!(
            "answer opcode {:#x} to request {:#x}",
            frame.opcode,
            Q::OPCODE
        )));
    }
    m::decode(&frame.payload).map_err(|e| Error::Protocol(format!("answer: {e}")))
}

/// The current connection of one appliance and how many connections it has had.
#[derive(Default)]
struct Link {
    conn: Option<Arc<Connection>>,
    /// Incremented with each new connection; sessions remember the one they were opened on.
    generation: u64,
}

struct Appliance {
    server: Server,
    link: Mutex<Link>,
}

impl Appliance {
    /// The live connection, connecting first if there is none; `fresh` says whether it was
    /// made by this call.
    fn connect(&self, config: &ClientConfig) -> Result<(Arc<Connection>, u64, bool), Error> {
        let mut link = lock(&self.link);
        if let Some(c) = &link.conn
            && !c.is_broken()
        {
            return Ok((c.clone(), link.generation, false));
        }
        link.conn = None;
        let tls = config.tls_for(&self.server)?;
        let conn = Connection::connect(
            &self.server.address,
            &self.server.name,
            tls,
            config.timeouts,
        )?;
        link.generation += 1;
        link.conn = Some(conn.clone());
        Ok((conn, link.generation, true))
    }

    /// The live connection of `generation`, if it is still the current one.
    fn current(&self, generation: u64) -> Option<Arc<Connection>> {
        let link = lock(&self.link);
        link.conn
            .as_ref()
            .filter(|c| link.generation == generation && !c.is_broken())
            .cloned()
    }

    /// The current generation, if its connection is live.
    fn live_generation(&self) -> Option<u64> {
        let link = lock(&self.link);
        link.conn
            .as_ref()
            .filter(|c| !c.is_broken())
            .map(|_| link.generation)
    }

    /// Drops the connection of `generation` (found dead).
    fn drop_connection(&self, generation: u64) {
        let mut link = lock(&self.link);
        if link.generation == generation {
            link.conn = None;
        }
    }
}

/// One slot as the application sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotView {
    /// The slot id.
    pub id: u64,
    /// The configured name of the partition's appliance.
    pub server: String,
    /// The partition serial number.
    pub serial: u64,
    /// The partition label (empty before initialization).
    pub label: String,
    /// Whether the partition has been initialized.
    pub initialized: bool,
    /// Whether the partition is reachable (its token is present).
    pub present: bool,
}

struct SlotEntry {
    appliance: usize,
    serial: u64,
    label: String,
    initialized: bool,
    present: bool,
}

#[derive(Default)]
struct SlotMap {
    /// Indexed by slot id.
    entries: Vec<SlotEntry>,
    enumerated: bool,
}

/// `CK_TOKEN_INFO` as the appliance and the client know it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenInfo {
    /// Partition serial.
    pub serial: u64,
    /// Partition label.
    pub label: String,
    /// Whether initialized.
    pub initialized: bool,
    /// `CKF_*` token flags.
    pub flags: u64,
    /// Sessions this process has open on the token.
    pub session_count: u64,
    /// Read/write sessions this process has open on the token.
    pub rw_session_count: u64,
    /// The most sessions the appliance allows.
    pub max_session_count: u64,
    /// Partition storage in bytes.
    pub total_memory: u64,
    /// Free partition storage in bytes.
    pub free_memory: u64,
    /// Number of objects.
    pub objects: u64,
}

/// `CK_SESSION_INFO`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    /// The slot id.
    pub slot: u64,
    /// `CKS_*`.
    pub state: u64,
    /// `CKF_*` session flags.
    pub flags: u64,
}

#[derive(Clone, Copy)]
struct SessionEntry {
    slot: u64,
    appliance: usize,
    remote: u64,
    generation: u64,
    rw: bool,
    /// For each [`SingleOp`], how its single-part call answers a length query, while the
    /// operation is as its `*Init` left it.
    single: [Option<m::OutputLength>; 4],
}

/// The operations whose single-part call's length query the library answers itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SingleOp {
    /// `C_Encrypt`.
    Encrypt = 0,
    /// `C_Decrypt`.
    Decrypt = 1,
    /// `C_Digest`.
    Digest = 2,
    /// `C_Sign`.
    Sign = 3,
}

/// The inits the library may answer itself when the appliance said they would succeed again
/// (protocol version 4, [`m::PipelinedRequest`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RepeatOp {
    /// `C_SignInit`.
    Sign = 0,
    /// `C_VerifyInit`.
    Verify = 1,
    /// `C_EncryptInit`.
    Encrypt = 2,
    /// `C_DecryptInit`.
    Decrypt = 3,
}

/// How many [`RepeatOp`]s there are.
const REPEAT_OPS: usize = 4;

/// An init the appliance said is bound to succeed again in its session.
struct Repeatable {
    mechanism: m::MechanismSpec,
    key: u64,
    single: Option<m::OutputLength>,
}

/// Per session: what the library may answer itself, and what it answered and still owes the
/// appliance.
#[derive(Default)]
struct Pipeline {
    repeatable: [Option<Repeatable>; REPEAT_OPS],
    /// Whether each operation is known to have ended (its last call completed it).
    idle: [bool; REPEAT_OPS],
    /// How many times each operation was started: a call that completes an operation ends
    /// it only if no init came meanwhile (from another thread on the same session).
    starts: [u64; REPEAT_OPS],
    /// An init answered here and not sent yet: its opcode and encoded request, and the
    /// connection of the session. It goes with the next call of its operation, or alone
    /// before any other call of the session.
    pending: Option<Pending>,
    /// An init answered here that failed when sent alone: its opcode and code, what the next
    /// call of its operation returns instead of running.
    failed: Option<(u16, RetCode)>,
}

/// The sessions' pipelines, and what keeps the appliance's word about repeatable inits from
/// outliving a change.
#[derive(Default)]
struct Pipelines {
    sessions: HashMap<u64, Pipeline>,
    /// Changes at the start and at the end of every call that may invalidate an init: an
    /// init's answer makes it repeatable only if no such call began or ended while it ran.
    epoch: u64,
    /// Such calls under way: meanwhile no init is answered here.
    changing: usize,
}

struct Pending {
    conn: Arc<Connection>,
    opcode: u16,
    init: Vec<u8>,
}

/// Calls after which no init is answered here until the appliance has answered one again:
/// they may destroy or change a key, end the login or the session an init relied on, or
/// change the partition's policies or roles. Any init answered here and not sent yet is sent
/// before them, in the order of the calls.
fn invalidates(opcode: u16) -> bool {
    matches!(
        opcode,
        m::OP_DESTROY_OBJECT
            | m::OP_SET_ATTRIBUTE_VALUE
            | m::OP_LOGOUT
            | m::OP_CLOSE_SESSION
            | m::OP_CLOSE_ALL_SESSIONS
            | m::OP_INIT_TOKEN
            | m::OP_LOGIN
            | m::OP_INIT_PIN
            | m::OP_SET_PIN
            | m::OP_CHANGE_PARTITION_POLICY
            | m::OP_ROLE_INIT
            | m::OP_ROLE_RESET
    )
}

#[derive(Default)]
struct Sessions {
    next: u64,
    map: HashMap<u64, SessionEntry>,
}

/// The client of every configured appliance. Safe to share between threads.
pub struct Client {
    config: ClientConfig,
    appliances: Vec<Appliance>,
    slots: Mutex<SlotMap>,
    sessions: Mutex<Sessions>,
    /// Per session handle. Never held while `sessions` is taken, nor across a network call.
    pipelines: Mutex<Pipelines>,
    /// Held shared by a call carrying an owed init until it is answered, exclusively by a
    /// call that may invalidate inits while it sends the owed ones: no such call overtakes an
    /// init answered here before it began. Taken before `pipelines`.
    gate: std::sync::RwLock<()>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config.path)
            .finish_non_exhaustive()
    }
}

fn is_container_invalid(e: &Error) -> bool {
    matches!(e, Error::Module { code, .. } if *code == ret::SR_RET_CONTAINER_HANDLE_INVALID)
}

impl Client {
    /// A client of the configuration's appliances. Connects lazily.
    pub fn new(config: ClientConfig) -> Self {
        let appliances = config
            .servers
            .iter()
            .map(|s| Appliance {
                server: s.clone(),
                link: Mutex::new(Link::default()),
            })
            .collect();
        Self {
            config,
            appliances,
            slots: Mutex::new(SlotMap::default()),
            sessions: Mutex::new(Sessions {
                next: 1,
                map: HashMap::new(),
            }),
            pipelines: Mutex::new(Pipelines::default()),
            gate: std::sync::RwLock::new(()),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Sends `req` to appliance `app`, connecting if needed. An idempotent request that fails
    /// on a connection found dead is retried once on a new connection.
    fn appliance_call<Q: Message, A: Message>(
        &self,
        app: usize,
        req: &Q,
        idempotent: bool,
    ) -> Result<(A, u64), Error> {
        let a = self.appliances.get(app).ok_or(Error::SlotInvalid)?;
        let (conn, generation, fresh) = a
            .connect(&self.config)
            .map_err(|_| Error::TokenNotPresent)?;
        match request(&conn, req) {
            Err(e) if e.is_link_failure() && conn.is_broken() => {
                a.drop_connection(generation);
                if fresh || !idempotent {
                    return Err(Error::DeviceRemoved);
                }
                let (conn, generation, _) = a
                    .connect(&self.config)
                    .map_err(|_| Error::TokenNotPresent)?;
                request(&conn, req).map(|r| (r, generation)).map_err(|e| {
                    if e.is_link_failure() && conn.is_broken() {
                        a.drop_connection(generation);
                        Error::DeviceRemoved
                    } else {
                        e
                    }
                })
            }
            r => r.map(|r| (r, generation)),
        }
    }

    // ---------------------------------------------------------------- slots

    /// Asks every appliance for this client's partitions and updates the slot map (see the
    /// module documentation for how ids are given).
    pub fn refresh_slots(&self) {
        let mut found = Vec::with_capacity(self.appliances.len());
        for app in 0..self.appliances.len() {
            let r = self.appliance_call::<_, m::GetSlotListResponse>(
                app,
                &m::GetSlotListRequest {},
                true,
            );
            found.push(r.ok().map(|(r, _)| {
                let mut s = r.slots;
                s.sort_by_key(|e| e.serial);
                s
            }));
        }
        let mut map = lock(&self.slots);
        for (app, listed) in found.into_iter().enumerate() {
            let listed = listed.unwrap_or_default();
            for e in map.entries.iter_mut().filter(|e| e.appliance == app) {
                e.present = listed.iter().any(|l| l.serial == e.serial);
            }
            for l in listed {
                match map
                    .entries
                    .iter_mut()
                    .find(|e| e.appliance == app && e.serial == l.serial)
                {
                    Some(e) => {
                        e.label = l.label;
                        e.initialized = l.initialized;
                    }
                    None => map.entries.push(SlotEntry {
                        appliance: app,
                        serial: l.serial,
                        label: l.label,
                        initialized: l.initialized,
                        present: true,
                    }),
                }
            }
        }
        map.enumerated = true;
    }

    /// The slot ids (all, or only those whose token is present). Enumerates first when
    /// `refresh` is set or nothing was enumerated yet.
    pub fn slot_list(&self, present_only: bool, refresh: bool) -> Vec<u64> {
        if refresh || !lock(&self.slots).enumerated {
            self.refresh_slots();
        }
        let map = lock(&self.slots);
        map.entries
            .iter()
            .zip(0u64..)
            .filter(|(e, _)| e.present || !present_only)
            .map(|(_, id)| id)
            .collect()
    }

    /// Every slot, as last enumerated.
    pub fn slots(&self) -> Vec<SlotView> {
        let map = lock(&self.slots);
        (0u64..)
            .zip(map.entries.iter())
            .map(|(id, e)| self.view(id, e))
            .collect()
    }

    fn view(&self, id: u64, e: &SlotEntry) -> SlotView {
        SlotView {
            id,
            server: self
                .appliances
                .get(e.appliance)
                .map(|a| a.server.name.clone())
                .unwrap_or_default(),
            serial: e.serial,
            label: e.label.clone(),
            initialized: e.initialized,
            present: e.present,
        }
    }

    /// One slot.
    pub fn slot(&self, id: u64) -> Result<SlotView, Error> {
        if !lock(&self.slots).enumerated {
            self.refresh_slots();
        }
        let map = lock(&self.slots);
        let e = usize::try_from(id)
            .ok()
            .and_then(|i| map.entries.get(i))
            .ok_or(Error::SlotInvalid)?;
        Ok(self.view(id, e))
    }

    fn set_present(&self, id: u64, present: bool) {
        let mut map = lock(&self.slots);
        if let Some(e) = usize::try_from(id)
            .ok()
            .and_then(|i| map.entries.get_mut(i))
        {
            e.present = present;
        }
    }

    /// A request about slot `id`'s partition: `build` gets the serial.
    fn slot_call<Q: Message + 'static, A: Message>(
        &self,
        id: u64,
        idempotent: bool,
        build: impl FnOnce(u64) -> Q,
    ) -> Result<(A, u64, usize), Error> {
        self.slot(id)?;
        let (app, serial) = {
            let map = lock(&self.slots);
            let e = usize::try_from(id)
                .ok()
                .and_then(|i| map.entries.get(i))
                .ok_or(Error::SlotInvalid)?;
            (e.appliance, e.serial)
        };
        let mut req = build(serial);
        let result = self.appliance_call::<Q, A>(app, &req, idempotent);
        scrub(&mut req);
        match result {
            Ok((a, generation)) => {
                self.set_present(id, true);
                Ok((a, generation, app))
            }
            Err(e) if is_container_invalid(&e) || matches!(e, Error::TokenNotPresent) => {
                self.set_present(id, false);
                Err(Error::TokenNotPresent)
            }
            Err(e) => Err(e),
        }
    }

    /// Token information of slot `id`.
    pub fn token_info(&self, id: u64) -> Result<TokenInfo, Error> {
        let (r, _, app): (m::GetTokenInfoResponse, _, _) =
            self.slot_call(id, true, |serial| m::GetTokenInfoRequest { serial })?;
        {
            let mut map = lock(&self.slots);
            if let Some(e) = usize::try_from(id)
                .ok()
                .and_then(|i| map.entries.get_mut(i))
            {
                e.label.clone_from(&r.label);
                e.initialized = r.initialized;
            }
        }
        let (session_count, rw_session_count) = self.count_sessions(id, app);
        let mut flags = r.flags
            | token_flags::RNG
            | token_flags::LOGIN_REQUIRED
            | token_flags::RESTORE_KEY_NOT_NEEDED;
        if r.initialized {
            flags |= token_flags::TOKEN_INITIALIZED;
        }
        Ok(TokenInfo {
            serial: r.serial,
            label: r.label,
            initialized: r.initialized,
            flags,
            session_count,
            rw_session_count,
            max_session_count: r.max_session_count,
            total_memory: r.total_memory,
            free_memory: r.free_memory,
            objects: r.objects,
        })
    }

    /// The mechanisms slot `id` offers.
    pub fn mechanism_list(&self, id: u64) -> Result<Vec<u64>, Error> {
        let (r, _, _): (m::GetMechanismListResponse, _, _) =
            self.slot_call(id, true, |serial| m::GetMechanismListRequest { serial })?;
        Ok(r.mechanisms)
    }

    /// One mechanism's information on slot `id`.
    pub fn mechanism_info(
        &self,
        id: u64,
        mechanism: u64,
    ) -> Result<m::GetMechanismInfoResponse, Error> {
        let (r, _, _) = self.slot_call(id, true, |serial| m::GetMechanismInfoRequest {
            serial,
            mechanism,
        })?;
        Ok(r)
    }

    /// `C_InitToken`: initializes slot `id`'s partition with its Partition SO PIN and label
    /// (and the default cloning domain when `domain` is `None`).
    pub fn init_token(
        &self,
        id: u64,
        so_pin: &[u8],
        label: &str,
        domain: Option<&[u8]>,
    ) -> Result<(), Error> {
        let (_, _, _): (m::InitTokenResponse, _, _) =
            self.slot_call(id, false, |serial| m::InitTokenRequest {
                serial,
                so_pin: so_pin.to_vec(),
                label: label.to_owned(),
                domain: domain.map(<[u8]>::to_vec),
            })?;
        let mut map = lock(&self.slots);
        if let Some(e) = usize::try_from(id)
            .ok()
            .and_then(|i| map.entries.get_mut(i))
        {
            label.trim_end().clone_into(&mut e.label);
            e.initialized = true;
        }
        Ok(())
    }

    // ---------------------------------------------------------------- sessions

    fn count_sessions(&self, id: u64, app: usize) -> (u64, u64) {
        let live = self
            .appliances
            .get(app)
            .and_then(Appliance::live_generation);
        let sessions = lock(&self.sessions);
        let mut all = 0;
        let mut rw = 0;
        for s in sessions.map.values() {
            if s.slot == id && Some(s.generation) == live {
                all += 1;
                rw += u64::from(s.rw);
            }
        }
        (all, rw)
    }

    /// `C_OpenSession` on slot `id`; returns this library's session handle.
    pub fn open_session(&self, id: u64, read_write: bool) -> Result<u64, Error> {
        let (r, generation, app): (m::OpenSessionResponse, _, _) =
            self.slot_call(id, true, |serial| m::OpenSessionRequest {
                serial,
                read_write,
            })?;
        let mut sessions = lock(&self.sessions);
        let handle = sessions.next;
        sessions.next += 1;
        sessions.map.insert(
            handle,
            SessionEntry {
                slot: id,
                appliance: app,
                remote: r.session,
                generation,
                rw: read_write,
                single: [None; 4],
            },
        );
        Ok(handle)
    }

    fn entry(&self, handle: u64) -> Result<SessionEntry, Error> {
        lock(&self.sessions)
            .map
            .get(&handle)
            .copied()
            .ok_or(Error::SessionInvalid)
    }

    /// Records how `op`'s single-part call answers a length query in session `handle` (from
    /// the `*Init` answer); `None` forgets it.
    pub fn set_single_output(&self, handle: u64, op: SingleOp, rule: Option<m::OutputLength>) {
        if let Some(s) = lock(&self.sessions).map.get_mut(&handle) {
            s.single[op as usize] = rule;
        }
    }

    /// Takes what [`Client::set_single_output`] recorded: every call of the operation but a
    /// length query answered from it changes what the appliance would answer.
    pub fn take_single_output(&self, handle: u64, op: SingleOp) -> Option<m::OutputLength> {
        lock(&self.sessions)
            .map
            .get_mut(&handle)
            .and_then(|s| s.single[op as usize].take())
    }

    /// Forgets every recorded length (a logout or a destroyed object may end operations).
    pub fn forget_single_outputs(&self) {
        for s in lock(&self.sessions).map.values_mut() {
            s.single = [None; 4];
        }
    }

    /// The slot of an open session.
    pub fn session_slot(&self, handle: u64) -> Result<u64, Error> {
        Ok(self.entry(handle)?.slot)
    }

    /// Runs `f` with the connection and the appliance's handle of session `handle`. A session
    /// whose connection is gone is forgotten (`SessionInvalid`); a connection lost during the
    /// call ends every session on it (`DeviceRemoved`).
    pub fn with_session<R>(
        &self,
        handle: u64,
        f: impl FnOnce(&Connection, u64) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let s = self.entry(handle)?;
        let app = self
            .appliances
            .get(s.appliance)
            .ok_or(Error::SessionInvalid)?;
        let Some(conn) = app.current(s.generation) else {
            self.forget_generation(s.appliance, s.generation);
            return Err(Error::SessionInvalid);
        };
        match f(&conn, s.remote) {
            Err(e) if e.is_link_failure() && conn.is_broken() => {
                app.drop_connection(s.generation);
                self.forget_generation(s.appliance, s.generation);
                Err(Error::DeviceRemoved)
            }
            Err(e) if is_container_invalid(&e) => {
                self.set_present(s.slot, false);
                Err(Error::TokenNotPresent)
            }
            r => r,
        }
    }

    /// Sends the request `build` makes from the appliance's session handle.
    pub fn session_call<Q: Message, A: Message>(
        &self,
        handle: u64,
        build: impl FnOnce(u64) -> Q,
    ) -> Result<A, Error> {
        if invalidates(Q::OPCODE) {
            self.settle_pipelines();
            let r = self.session_call_inner(handle, build);
            self.pipelines_changed();
            return r;
        }
        self.session_call_inner(handle, build)
    }

    fn session_call_inner<Q: Message, A: Message>(
        &self,
        handle: u64,
        build: impl FnOnce(u64) -> Q,
    ) -> Result<A, Error> {
        let gate = self.gate.read().unwrap_or_else(|p| p.into_inner());
        let (pending, failed) = match lock(&self.pipelines).sessions.get_mut(&handle) {
            Some(p) => (
                p.pending.take(),
                p.failed
                    .take_if(|(init, _)| m::pipelines(*init, Q::OPCODE))
                    .map(|(_, code)| code),
            ),
            None => (None, None),
        };
        if let Some(code) = failed {
            return Err(init_failure(code));
        }
        if pending.is_none() {
            drop(gate);
        }
        self.with_session(handle, |conn, remote| {
            let call = build(remote);
            match pending {
                Some(p) if m::pipelines(p.opcode, Q::OPCODE) => {
                    let mut encoded = m::encode(&call);
                    if encoded.len() <= m::MAX_BLOB {
                        return request_pipelined::<Q, A>(conn, p.opcode, p.init, encoded);
                    }
                    // Too long to travel inside a pipelined request: the init goes first.
                    strongroom_proto::wipe(&mut encoded);
                    if let Some(code) = send_owed(&p) {
                        return Err(init_failure(code));
                    }
                }
                Some(p) => {
                    // Owed before this call; its answer was given already. A failure is what
                    // the next call of its operation returns.
                    if let Some(code) = send_owed(&p) {
                        self.owed_init_failed(handle, p.opcode, code);
                    }
                }
                None => {}
            }
            request(conn, &call)
        })
    }

    fn owed_init_failed(&self, handle: u64, opcode: u16, code: RetCode) {
        if let Some(p) = lock(&self.pipelines).sessions.get_mut(&handle) {
            p.failed = Some((opcode, code));
        }
    }

    /// Answers `C_SignInit`, `C_VerifyInit`, `C_EncryptInit` or `C_DecryptInit` here when the
    /// appliance said the same init (or one whose parameter differs only where init does not
    /// look, [`crate::mechanism::same_init_checks`]) is bound to succeed again and the
    /// session's operation is known to have ended: the init goes to the appliance with the
    /// next call of the session (one round trip instead of two). `build` makes the init request
    /// (`op`'s, of `mechanism` and `key`) from the appliance's session handle. Returns the
    /// single-part length rule of the earlier answer; `None`: the appliance must be asked.
    pub fn init_locally<Q: Message>(
        &self,
        handle: u64,
        op: RepeatOp,
        mechanism: &m::MechanismSpec,
        key: u64,
        build: impl FnOnce(u64) -> Q,
    ) -> Option<Option<m::OutputLength>> {
        let s = self.entry(handle).ok()?;
        let conn = self.appliances.get(s.appliance)?.current(s.generation)?;
        let remote = s.remote;
        let mut pipelines = lock(&self.pipelines);
        if pipelines.changing > 0 {
            return None;
        }
        let p = pipelines.sessions.get_mut(&handle)?;
        let grant = p.repeatable[op as usize].as_ref()?;
        if !p.idle[op as usize] || p.pending.is_some() || grant.key != key {
            return None;
        }
        if grant.mechanism.mechanism != mechanism.mechanism
            || !crate::mechanism::same_init_checks(
                mechanism.mechanism,
                &grant.mechanism.params,
                &mechanism.params,
            )
        {
            return None;
        }
        let single = grant.single;
        let init = m::encode(&build(remote));
        if init.len() > m::MAX_BLOB {
            // The appliance would refuse it as too long: let it say so.
            return None;
        }
        p.pending = Some(Pending {
            conn,
            opcode: Q::OPCODE,
            init,
        });
        p.failed = None;
        p.idle[op as usize] = false;
        p.starts[op as usize] = p.starts[op as usize].wrapping_add(1);
        Some(single)
    }

    /// What [`Client::init_answered`] needs to know of the time before the init was sent.
    pub fn pipeline_epoch(&self) -> u64 {
        lock(&self.pipelines).epoch
    }

    /// How many times the session's `op` was started: read before a call that may complete
    /// it, for [`Client::op_completed`].
    pub fn op_starts(&self, handle: u64, op: RepeatOp) -> u64 {
        lock(&self.pipelines)
            .sessions
            .get(&handle)
            .map_or(0, |p| p.starts[op as usize])
    }

    /// Records the appliance's answer to an init it ran: whether it is repeatable. `epoch` is
    /// [`Client::pipeline_epoch`] from before the init was sent: if a call that may invalidate
    /// inits began or ended since, the answer is not relied on.
    #[allow(clippy::too_many_arguments)]
    pub fn init_answered(
        &self,
        handle: u64,
        op: RepeatOp,
        mechanism: &m::MechanismSpec,
        key: u64,
        single: Option<m::OutputLength>,
        repeatable: bool,
        epoch: u64,
    ) {
        let mut pipelines = lock(&self.pipelines);
        let unchanged = pipelines.changing == 0 && pipelines.epoch == epoch;
        let p = pipelines.sessions.entry(handle).or_default();
        p.idle[op as usize] = false;
        p.failed = None;
        p.starts[op as usize] = p.starts[op as usize].wrapping_add(1);
        p.repeatable[op as usize] = (repeatable && unchanged).then(|| Repeatable {
            mechanism: mechanism.clone(),
            key,
            single,
        });
    }

    /// Records that the session's `op` has ended: a call that completes it succeeded. `starts`
    /// is [`Client::op_starts`] from before the call; if the operation was started again
    /// since (another thread), nothing is recorded.
    pub fn op_completed(&self, handle: u64, op: RepeatOp, starts: u64) {
        if let Some(p) = lock(&self.pipelines).sessions.get_mut(&handle)
            && p.starts[op as usize] == starts
        {
            p.idle[op as usize] = true;
        }
    }

    /// Before a call that may invalidate inits: waits for the calls carrying owed inits,
    /// sends every other init answered here and not sent yet, each alone, and forgets what
    /// the appliance said was repeatable until [`Client::pipelines_changed`].
    fn settle_pipelines(&self) {
        let _gate = self.gate.write().unwrap_or_else(|p| p.into_inner());
        let owed: Vec<(u64, Pending)> = {
            let mut pipelines = lock(&self.pipelines);
            pipelines.changing += 1;
            pipelines.epoch = pipelines.epoch.wrapping_add(1);
            pipelines
                .sessions
                .iter_mut()
                .filter_map(|(h, p)| {
                    p.repeatable = Default::default();
                    p.pending.take().map(|owed| (*h, owed))
                })
                .collect()
        };
        for (handle, owed) in owed {
            if let Some(code) = send_owed(&owed) {
                self.owed_init_failed(handle, owed.opcode, code);
            }
        }
    }

    /// After a call that may invalidate inits (each follows a [`Client::settle_pipelines`]).
    fn pipelines_changed(&self) {
        let mut pipelines = lock(&self.pipelines);
        pipelines.changing = pipelines.changing.saturating_sub(1);
        pipelines.epoch = pipelines.epoch.wrapping_add(1);
        for p in pipelines.sessions.values_mut() {
            p.repeatable = Default::default();
        }
    }

    fn forget_generation(&self, app: usize, generation: u64) {
        let live: std::collections::HashSet<u64> = {
            let mut sessions = lock(&self.sessions);
            sessions
                .map
                .retain(|_, s| !(s.appliance == app && s.generation <= generation));
            sessions.map.keys().copied().collect()
        };
        lock(&self.pipelines)
            .sessions
            .retain(|h, _| live.contains(h));
    }

    /// `C_CloseSession`. The handle is released even when the appliance cannot be told.
    pub fn close_session(&self, handle: u64) -> Result<(), Error> {
        let result = self.session_call::<_, m::CloseSessionResponse>(handle, |session| {
            m::CloseSessionRequest { session }
        });
        let forgotten = lock(&self.sessions).map.remove(&handle).is_some();
        lock(&self.pipelines).sessions.remove(&handle);
        match result {
            Ok(_) => Ok(()),
            // The session existed here but is gone there (connection lost): it is closed.
            Err(Error::DeviceRemoved) if forgotten => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `C_CloseAllSessions` on slot `id`.
    pub fn close_all_sessions(&self, id: u64) -> Result<(), Error> {
        self.slot(id)?;
        self.settle_pipelines();
        let r = self.close_all_sessions_inner(id);
        self.pipelines_changed();
        r
    }

    fn close_all_sessions_inner(&self, id: u64) -> Result<(), Error> {
        let app = {
            let map = lock(&self.slots);
            usize::try_from(id)
                .ok()
                .and_then(|i| map.entries.get(i))
                .map(|e| e.appliance)
                .ok_or(Error::SlotInvalid)?
        };
        let had_live = {
            let live = self
                .appliances
                .get(app)
                .and_then(Appliance::live_generation);
            let mut sessions = lock(&self.sessions);
            let mut any_live = false;
            sessions.map.retain(|_, s| {
                let mine = s.slot == id;
                any_live |= mine && Some(s.generation) == live;
                !mine
            });
            any_live
        };
        if !had_live {
            // Nothing open on the current connection: nothing to tell the appliance.
            return Ok(());
        }
        let (_, _, _): (m::CloseAllSessionsResponse, _, _) =
            self.slot_call(id, false, |serial| m::CloseAllSessionsRequest { serial })?;
        Ok(())
    }

    /// Closes every session (this library's finalization).
    pub fn close_everything(&self) {
        lock(&self.sessions).map.clear();
        lock(&self.pipelines).sessions.clear();
        for a in &self.appliances {
            lock(&a.link).conn = None;
        }
    }

    /// `C_GetSessionInfo`.
    pub fn session_info(&self, handle: u64) -> Result<SessionInfo, Error> {
        let slot = self.entry(handle)?.slot;
        let r: m::GetSessionInfoResponse =
            self.session_call(handle, |session| m::GetSessionInfoRequest { session })?;
        Ok(SessionInfo {
            slot,
            state: r.state,
            flags: r.flags,
        })
    }

    /// A call on a session that changes its login or credentials (which an init may rely on):
    /// inits owed go first, and none is answered here until it is over.
    fn changing_call<R>(
        &self,
        handle: u64,
        f: impl FnOnce(&Connection, u64) -> Result<R, Error>,
    ) -> Result<R, Error> {
        self.settle_pipelines();
        let r = self.with_session(handle, f);
        self.pipelines_changed();
        r
    }

    /// `C_Login` (`user_type` is `CKU_*`, see `strongroom_proto::messages`).
    pub fn login(&self, handle: u64, user_type: u64, pin: &[u8]) -> Result<(), Error> {
        self.changing_call(handle, |conn, session| {
            let mut req = m::LoginRequest {
                session,
                user_type,
                pin: pin.to_vec(),
            };
            let r = request::<_, m::LoginResponse>(conn, &req);
            req.pin.zeroize();
            r.map(|_| ())
        })
    }

    /// `C_Logout`.
    pub fn logout(&self, handle: u64) -> Result<(), Error> {
        self.session_call::<_, m::LogoutResponse>(handle, |session| m::LogoutRequest { session })
            .map(|_| ())
    }

    /// `C_InitPIN`: the Partition SO sets the Crypto Officer's PIN.
    pub fn init_pin(&self, handle: u64, pin: &[u8]) -> Result<(), Error> {
        self.changing_call(handle, |conn, session| {
            let mut req = m::InitPinRequest {
                session,
                pin: pin.to_vec(),
            };
            let r = request::<_, m::InitPinResponse>(conn, &req);
            req.pin.zeroize();
            r.map(|_| ())
        })
    }

    /// `C_SetPIN`: the logged-in role (or the Crypto Officer) changes its PIN.
    pub fn set_pin(&self, handle: u64, old: &[u8], new: &[u8]) -> Result<(), Error> {
        self.changing_call(handle, |conn, session| {
            let mut req = m::SetPinRequest {
                session,
                old_pin: old.to_vec(),
                new_pin: new.to_vec(),
            };
            let r = request::<_, m::SetPinResponse>(conn, &req);
            req.old_pin.zeroize();
            req.new_pin.zeroize();
            r.map(|_| ())
        })
    }

    /// The number of sessions this process holds (any slot), for tests and diagnostics.
    pub fn open_session_count(&self) -> usize {
        lock(&self.sessions).map.len()
    }
}

/// Clears the secret fields of a request after it was sent.
fn scrub<Q: Message + 'static>(req: &mut Q) {
    // Only `C_InitToken` among the slot-level requests carries secrets; its fields are
    // reached through `Any` to stay generic.
    if let Some(r) = (req as &mut dyn std::any::Any).downcast_mut::<m::InitTokenRequest>() {
        r.so_pin.zeroize();
        if let Some(d) = r.domain.as_mut() {
            d.zeroize();
        }
    }
}
