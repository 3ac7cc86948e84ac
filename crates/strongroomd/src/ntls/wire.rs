//! The answers the appliance sends, and the request dispatcher.
//!
//! After the hello, each request frame carries one of the PKCS#11 messages of
//! `strongroom_proto::messages`. It runs against the module under the connection's own module
//! access (so its sessions and logins end with the connection), on the blocking thread pool.
//! The answer has the request's opcode and the call's response, or opcode [`OP_ERROR`] and an
//! `ErrorResponse` carrying the module return code. An unknown opcode or an undecodable
//! payload is answered with an error; the connection stays open.
//!
//! Every request names its partition, directly or through its session; a partition not
//! assigned to the peer's client (read from the registry at each request) is answered with
//! `SR_RET_CONTAINER_HANDLE_INVALID`, whether or not it exists.

use std::net::SocketAddr;
use std::sync::Arc;

use strongroom_module::{
    AccessId, Error as ModuleError, Mechanism, Module, ObjectHandle, Output, OutputOperation,
    PartitionRole, Secret, SessionHandle, Template,
};
use strongroom_proto::messages::{self as m, Message};
use strongroom_proto::{Frame, Hello, OP_HELLO, PROTOCOL_VERSIONS, RetCode, encode_frame, ret};

use super::registry::Registry;
use crate::shared::SharedModule;

/// Opcode of an error answer: the payload is an `ErrorResponse`.
pub(crate) const OP_ERROR: u16 = m::OP_ERROR;

/// The module accesses of one registered client's connections, so that the sessions they
/// hold together can be capped. Lock order: the module first, then this.
#[derive(Debug)]
pub(crate) struct ClientAccesses {
    ids: std::sync::Mutex<Vec<AccessId>>,
    /// Most sessions the client may hold over all its connections.
    pub(crate) max_sessions: usize,
}

impl ClientAccesses {
    pub(crate) fn new(max_sessions: usize) -> Self {
        Self {
            ids: std::sync::Mutex::new(Vec::new()),
            max_sessions,
        }
    }

    fn ids(&self) -> std::sync::MutexGuard<'_, Vec<AccessId>> {
        // Pushes and removals leave the list consistent at every step.
        self.ids.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The module access of one connection, closed (ending its sessions and logins) when the
/// last holder drops it.
pub(crate) struct ModuleAccess {
    module: Arc<SharedModule>,
    id: AccessId,
    client: Arc<ClientAccesses>,
}

impl ModuleAccess {
    /// Registers a new access with the module, counted among `client`'s.
    pub(crate) fn open(module: Arc<SharedModule>, client: Arc<ClientAccesses>) -> Self {
        let id = module
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .open_access();
        client.ids().push(id);
        Self { module, id, client }
    }

    /// Opens a session unless the client already holds its cap over all its connections.
    fn open_session(&self, serial: u64, read_write: bool) -> Result<SessionHandle, Fail> {
        let mut module = self.module();
        let held = module.sessions_held_by(&self.client.ids());
        if held >= self.client.max_sessions {
            return Err(Fail::code(ret::SR_RET_SESSION_COUNT));
        }
        Ok(module.open_session(self.id, serial, read_write)?)
    }

    /// Exclusive access, for the calls that change the module.
    fn module(&self) -> std::sync::RwLockWriteGuard<'_, Module> {
        // A panic under the lock cannot leave a half-applied module change behind.
        self.module.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether shared access is free at this moment (no writer holds or waits for it).
    fn readable_now(&self) -> bool {
        self.module.try_read_now()
    }

    /// Shared access, for the calls that only use it (cryptography runs under this one, on
    /// as many threads as there are requests).
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Module> {
        self.module.read().unwrap_or_else(|p| p.into_inner())
    }
}

impl std::fmt::Debug for ModuleAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModuleAccess")
            .field("id", &self.id)
            .finish()
    }
}

impl Drop for ModuleAccess {
    fn drop(&mut self) {
        let id = self.id;
        self.module().close_access(id);
        self.client.ids().retain(|a| *a != id);
    }
}

/// Who sent a request: the registered client behind the connection. Request handlers map it
/// to the client's assigned partitions through the registry, at each request.
#[derive(Clone, Debug)]
pub(crate) struct Peer {
    /// The registered client name of the peer's certificate.
    pub(crate) client: Arc<str>,
    /// The peer's address.
    pub(crate) addr: SocketAddr,
    /// The negotiated protocol version.
    pub(crate) version: u16,
}

/// What a request handler may consult.
#[derive(Clone, Debug)]
pub(crate) struct RequestContext {
    pub(crate) peer: Peer,
    pub(crate) registry: Arc<Registry>,
    /// The connection's module access.
    pub(crate) access: Arc<ModuleAccess>,
}

/// Encodes one answer frame. Answers are small and always within `max_payload`; one that is
/// not becomes an error answer instead.
pub(crate) fn encode(request_id: u64, opcode: u16, payload: &[u8], max_payload: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(strongroom_proto::HEADER_LEN + payload.len());
    if encode_frame(&mut out, request_id, opcode, payload, max_payload).is_err() {
        out.clear();
        let code = m::encode(&m::ErrorResponse {
            code: ret::SR_RET_DEVICE_ERROR.value(),
            needed: None,
        });
        // A few bytes always fit a frame.
        let _ = encode_frame(&mut out, request_id, OP_ERROR, &code, max_payload);
    }
    out
}

/// An error answer with a module return code.
pub(crate) fn error(request_id: u64, code: RetCode, max_payload: usize) -> Vec<u8> {
    let payload = m::encode(&m::ErrorResponse {
        code: code.value(),
        needed: None,
    });
    encode(request_id, OP_ERROR, &payload, max_payload)
}

/// The appliance's answer to a client's hello: the chosen version, or (when none is shared)
/// the appliance's own range, after which the connection is closed. `None` for a malformed
/// hello.
pub(crate) fn hello_answer(frame: &Frame) -> Option<(Hello, bool)> {
    if frame.opcode != OP_HELLO {
        return None;
    }
    let theirs = Hello::decode(&frame.payload)?;
    Some(match theirs.negotiate(PROTOCOL_VERSIONS) {
        Some(v) => (Hello { min: v, max: v }, true),
        None => (
            Hello {
                min: *PROTOCOL_VERSIONS.start(),
                max: *PROTOCOL_VERSIONS.end(),
            },
            false,
        ),
    })
}

/// Handles one request frame and returns the encoded answer.
pub(crate) async fn dispatch(ctx: &RequestContext, frame: Frame, max_payload: usize) -> Vec<u8> {
    let (request_id, opcode) = (frame.request_id, frame.opcode);
    let (answered, answer) = if answers_at_once(ctx, opcode) {
        // Work under a free shared lock: answered here, without the two thread hops of the
        // blocking pool.
        route(ctx, opcode, &frame.payload)
    } else {
        let task_ctx = ctx.clone();
        let result =
            tokio::task::spawn_blocking(move || route(&task_ctx, opcode, &frame.payload)).await;
        match result {
            Ok(answer) => answer,
            Err(_) => (opcode, Err(Fail::code(ret::SR_RET_DEVICE_ERROR))),
        }
    };
    tracing::debug!(
        peer = %ctx.peer.addr,
        request_id,
        opcode,
        ok = answer.is_ok(),
        "NTLS request answered"
    );
    answer_frame(request_id, answered, answer, max_payload)
}

/// Handles one request; returns the answer's opcode (the request's, but for a pipelined
/// request) with the answer.
fn route(ctx: &RequestContext, opcode: u16, payload: &[u8]) -> (u16, Answer) {
    if opcode == m::OP_PIPELINED {
        pipelined(ctx, payload)
    } else {
        (opcode, handle(ctx, opcode, payload))
    }
}

/// The frame answering request `request_id`: `opcode` with the payload, or an error answer.
fn answer_frame(request_id: u64, opcode: u16, answer: Answer, max_payload: usize) -> Vec<u8> {
    match answer {
        Ok(payload) => encode(request_id, opcode, &payload, max_payload),
        Err(Fail { code, needed: None }) => error(request_id, code, max_payload),
        Err(fail) => {
            let payload = m::encode(&m::ErrorResponse {
                code: fail.code.value(),
                needed: fail.needed,
            });
            encode(request_id, OP_ERROR, &payload, max_payload)
        }
    }
}

/// Whether `dispatch` answers a call with `opcode` at once, without the blocking pool.
pub(crate) fn answers_at_once(ctx: &RequestContext, opcode: u16) -> bool {
    is_quick(opcode) && ctx.access.readable_now()
}

/// Whether a call runs on the connection's own task rather than the blocking pool: every call
/// that only reads the module (under its shared lock), cryptography included. Handing a
/// request to the pool and back costs two thread wake-ups, more than an ECDSA signature; the
/// runtime's workers are as many as the cores, so they are the crypto pool. What goes to the
/// pool: calls that change the module (the exclusive lock, store writes with fsync), logins
/// (password hashing is slow by design) and key generation (an RSA key takes up to seconds).
fn is_quick(opcode: u16) -> bool {
    !matches!(
        opcode,
        m::OP_INIT_TOKEN
            | m::OP_OPEN_SESSION
            | m::OP_CLOSE_SESSION
            | m::OP_CLOSE_ALL_SESSIONS
            | m::OP_LOGIN
            | m::OP_LOGOUT
            | m::OP_INIT_PIN
            | m::OP_SET_PIN
            | m::OP_CREATE_OBJECT
            | m::OP_DESTROY_OBJECT
            | m::OP_SET_ATTRIBUTE_VALUE
            | m::OP_COPY_OBJECT
            | m::OP_GENERATE_KEY
            | m::OP_GENERATE_KEY_PAIR
            | m::OP_UNWRAP_KEY
            | m::OP_DERIVE_KEY
            | m::OP_ROLE_INIT
            | m::OP_ROLE_RESET
            | m::OP_CHANGE_PARTITION_POLICY
    )
}

/// A [`m::PipelinedRequest`]: the init, then (if it succeeded) the call, on this task (both
/// read the module only). Returns the answer's opcode with it: the call's, or
/// [`m::OP_PIPELINED`] with a [`m::PipelinedInitFailed`] when the init failed.
fn pipelined(ctx: &RequestContext, payload: &[u8]) -> (u16, Answer) {
    let r: m::PipelinedRequest = match req(payload) {
        Ok(r) => r,
        Err(fail) => return (m::OP_PIPELINED, Err(fail)),
    };
    if !m::pipelines(r.init_opcode, r.call_opcode) {
        return (m::OP_PIPELINED, Err(Fail::code(ret::SR_RET_ARGUMENTS_BAD)));
    }
    // Only the init's checks and state: its answer would be discarded.
    if let Err(fail) = start_operation(ctx, r.init_opcode, &r.init).map(drop) {
        tracing::debug!(
            peer = %ctx.peer.addr,
            code = fail.code.value(),
            "NTLS pipelined init failed"
        );
        let failed = m::PipelinedInitFailed {
            code: fail.code.value(),
        };
        return (m::OP_PIPELINED, ok(&failed));
    }
    (r.call_opcode, handle(ctx, r.call_opcode, &r.call))
}

/// An operation a `C_SignInit`, `C_VerifyInit`, `C_EncryptInit` or `C_DecryptInit` request
/// started: its session and key, and its single-part call if it answers length queries.
struct Started {
    session: u64,
    key: ObjectHandle,
    single: Option<OutputOperation>,
}

/// Runs the init request `payload` of opcode `init` (one of the four above); returns the
/// module, still read, with what was started.
fn start_operation<'c>(
    ctx: &'c RequestContext,
    init: u16,
    payload: &[u8],
) -> Result<(std::sync::RwLockReadGuard<'c, Module>, Started), Fail> {
    let (session, spec, key, single) = match init {
        m::OP_SIGN_INIT => {
            let r: m::SignInitRequest = req(payload)?;
            (r.session, r.mechanism, r.key, Some(OutputOperation::Sign))
        }
        m::OP_VERIFY_INIT => {
            let r: m::VerifyInitRequest = req(payload)?;
            (r.session, r.mechanism, r.key, None)
        }
        m::OP_ENCRYPT_INIT => {
            let r: m::EncryptInitRequest = req(payload)?;
            (
                r.session,
                r.mechanism,
                r.key,
                Some(OutputOperation::Encrypt),
            )
        }
        m::OP_DECRYPT_INIT => {
            let r: m::DecryptInitRequest = req(payload)?;
            (
                r.session,
                r.mechanism,
                r.key,
                Some(OutputOperation::Decrypt),
            )
        }
        _ => return Err(Fail::code(ret::SR_RET_ARGUMENTS_BAD)),
    };
    let mech = mechanism(&spec)?;
    let module = read_session(ctx, session)?;
    let (id, sh, key) = (
        ctx.access.id,
        SessionHandle::from_value(session),
        ObjectHandle::from_value(key),
    );
    match init {
        m::OP_SIGN_INIT => module.sign_init(id, sh, &mech, key)?,
        m::OP_VERIFY_INIT => module.verify_init(id, sh, &mech, key)?,
        m::OP_ENCRYPT_INIT => module.encrypt_init(id, sh, &mech, key)?,
        _ => module.decrypt_init(id, sh, &mech, key)?,
    }
    let started = Started {
        session,
        key,
        single,
    };
    Ok((module, started))
}

/// How the single-part call of the operation just started answers a length query, sent with
/// the `*Init` answer so that the library answers such queries itself.
fn single_output(
    module: &Module,
    id: AccessId,
    session: u64,
    op: OutputOperation,
) -> Option<m::OutputLength> {
    module
        .single_output_length(id, SessionHandle::from_value(session), op)
        .ok()
        .flatten()
}

/// Why a request failed: the module return code and, for a short buffer, the length needed.
struct Fail {
    code: RetCode,
    needed: Option<u64>,
}

impl Fail {
    fn code(code: RetCode) -> Self {
        Self { code, needed: None }
    }
}

impl From<ModuleError> for Fail {
    fn from(e: ModuleError) -> Self {
        Self {
            code: e.code(),
            needed: e.needed_len().map(|n| n as u64),
        }
    }
}

type Answer = Result<Vec<u8>, Fail>;

fn req<M: Message>(payload: &[u8]) -> Result<M, Fail> {
    m::decode(payload).map_err(|_| Fail::code(ret::SR_RET_ARGUMENTS_BAD))
}

fn ok<M: Message>(msg: &M) -> Answer {
    Ok(m::encode(msg))
}

/// The partitions assigned to the peer's client, read now.
fn assigned(ctx: &RequestContext) -> Vec<u64> {
    ctx.registry
        .partitions_of(&ctx.peer.client)
        .map(|p| p.to_vec())
        .unwrap_or_default()
}

/// Refuses a partition not assigned to the peer's client.
fn check_serial(ctx: &RequestContext, serial: u64) -> Result<(), Fail> {
    if assigned(ctx).contains(&serial) {
        Ok(())
    } else {
        Err(Fail::code(ret::SR_RET_CONTAINER_HANDLE_INVALID))
    }
}

/// The partition of one of this connection's sessions, checked against the assignments.
fn session_serial(ctx: &RequestContext, module: &Module, session: u64) -> Result<u64, Fail> {
    let info = module.session_info(ctx.access.id, SessionHandle::from_value(session))?;
    check_serial(ctx, info.serial)?;
    Ok(info.serial)
}

/// Shared access to the module for a request on `session`, checked against the assignments.
fn read_session(
    ctx: &RequestContext,
    session: u64,
) -> Result<std::sync::RwLockReadGuard<'_, Module>, Fail> {
    let module = ctx.access.read();
    session_serial(ctx, &module, session)?;
    Ok(module)
}

/// Exclusive access to the module for a request on `session`, checked against the assignments.
fn write_session(
    ctx: &RequestContext,
    session: u64,
) -> Result<std::sync::RwLockWriteGuard<'_, Module>, Fail> {
    let module = ctx.access.module();
    session_serial(ctx, &module, session)?;
    Ok(module)
}

fn template(bytes: &[u8]) -> Result<Template, Fail> {
    Template::decode(bytes).ok_or(Fail::code(ret::SR_RET_TEMPLATE_INCONSISTENT))
}

fn mechanism(spec: &m::MechanismSpec) -> Result<Mechanism, Fail> {
    Ok(Mechanism::parse(spec.mechanism, &spec.params)?)
}

fn secret(bytes: Vec<u8>) -> Result<Secret, Fail> {
    String::from_utf8(bytes)
        .map(Secret::new)
        .map_err(|_| Fail::code(ret::SR_RET_ARGUMENTS_BAD))
}

/// `CK_USER_TYPE` to the partition role.
fn role_of(user_type: u64) -> Result<PartitionRole, Fail> {
    match user_type {
        m::CKU_SO => Ok(PartitionRole::So),
        m::CKU_USER => Ok(PartitionRole::CryptoOfficer),
        m::CKU_CRYPTO_USER => Ok(PartitionRole::CryptoUser),
        m::CKU_LIMITED_CRYPTO_OFFICER => Ok(PartitionRole::LimitedCryptoOfficer),
        _ => Err(Fail::code(ret::SR_RET_USER_TYPE_INVALID)),
    }
}

/// The user type of a partition role (the inverse of [`role_of`]).
fn user_type_of(role: PartitionRole) -> u64 {
    match role {
        PartitionRole::So => m::CKU_SO,
        PartitionRole::CryptoOfficer => m::CKU_USER,
        PartitionRole::CryptoUser => m::CKU_CRYPTO_USER,
        _ => m::CKU_LIMITED_CRYPTO_OFFICER,
    }
}

/// `CK_TOKEN_INFO.flags` of a partition from its roles' states.
fn token_flags(initialized: bool, roles: &[strongroom_module::RoleStatus]) -> u64 {
    const CKF_RNG: u64 = 0x1;
    const CKF_LOGIN_REQUIRED: u64 = 0x4;
    const CKF_USER_PIN_INITIALIZED: u64 = 0x8;
    const CKF_RESTORE_KEY_NOT_NEEDED: u64 = 0x20;
    const CKF_TOKEN_INITIALIZED: u64 = 0x400;
    const CKF_USER_PIN_COUNT_LOW: u64 = 0x1_0000;
    const CKF_USER_PIN_LOCKED: u64 = 0x4_0000;
    const CKF_USER_PIN_TO_BE_CHANGED: u64 = 0x8_0000;
    const CKF_SO_PIN_COUNT_LOW: u64 = 0x10_0000;
    const CKF_SO_PIN_LOCKED: u64 = 0x40_0000;
    const CKF_SO_PIN_TO_BE_CHANGED: u64 = 0x80_0000;
    let mut flags = CKF_RNG | CKF_LOGIN_REQUIRED | CKF_RESTORE_KEY_NOT_NEEDED;
    if initialized {
        flags |= CKF_TOKEN_INITIALIZED;
    }
    for r in roles.iter().filter(|r| r.initialized) {
        let (count_low, locked, to_change) = match r.role {
            PartitionRole::So => (
                CKF_SO_PIN_COUNT_LOW,
                CKF_SO_PIN_LOCKED,
                CKF_SO_PIN_TO_BE_CHANGED,
            ),
            PartitionRole::CryptoOfficer => {
                flags |= CKF_USER_PIN_INITIALIZED;
                (
                    CKF_USER_PIN_COUNT_LOW,
                    CKF_USER_PIN_LOCKED,
                    CKF_USER_PIN_TO_BE_CHANGED,
                )
            }
            _ => continue,
        };
        if r.failures > 0 {
            flags |= count_low;
        }
        if r.locked {
            flags |= locked;
        }
        if r.must_change {
            flags |= to_change;
        }
    }
    flags
}

/// The caller's buffer length of an output-producing request (`None`: a length query).
fn capacity(c: Option<u64>) -> Option<usize> {
    c.map(|c| usize::try_from(c).unwrap_or(usize::MAX))
}

fn output(out: Output) -> m::OutputData {
    match out {
        Output::Length(n) => m::OutputData::Length(n as u64),
        Output::Data(d) => m::OutputData::Data(d),
        _ => m::OutputData::Length(0),
    }
}

/// Runs one request against the module (on a blocking thread).
/// The cloning domain of a partition initialized without one (`C_InitToken` carries none), as
/// the reference's `partition init -defaultdomain`. Partitions sharing it can clone to each
/// other: fine for evaluation, to be replaced by a real domain in production.
const DEFAULT_DOMAIN: &str = "defaultdomain";

fn handle(ctx: &RequestContext, opcode: u16, payload: &[u8]) -> Answer {
    let id = ctx.access.id;
    let sh = SessionHandle::from_value;
    let oh = ObjectHandle::from_value;
    match opcode {
        m::OP_GET_SLOT_LIST => {
            let _: m::GetSlotListRequest = req(payload)?;
            let serials = assigned(ctx);
            let module = ctx.access.read();
            let slots = serials
                .into_iter()
                .filter_map(|serial| {
                    let initialized = module.partition_initialized(serial).ok()?;
                    let label = module.partition_label(serial).ok()?.unwrap_or_default();
                    Some(m::SlotEntry {
                        serial,
                        label,
                        initialized,
                    })
                })
                .collect();
            ok(&m::GetSlotListResponse { slots })
        }
        m::OP_GET_TOKEN_INFO => {
            let r: m::GetTokenInfoRequest = req(payload)?;
            check_serial(ctx, r.serial)?;
            let module = ctx.access.read();
            let info = module
                .partition_list()?
                .into_iter()
                .find(|p| p.serial == r.serial)
                .ok_or(Fail::code(ret::SR_RET_CONTAINER_HANDLE_INVALID))?;
            let initialized = module.partition_initialized(r.serial)?;
            let roles = module.role_list(r.serial)?;
            ok(&m::GetTokenInfoResponse {
                serial: r.serial,
                label: module.partition_label(r.serial)?.unwrap_or_default(),
                initialized,
                flags: token_flags(initialized, &roles),
                session_count: module.partition_session_counts(r.serial).0 as u64,
                max_session_count: strongroom_module::MAX_SESSIONS
                    .min(ctx.access.client.max_sessions) as u64,
                total_memory: info.total,
                free_memory: info.free,
                objects: info.objects,
            })
        }
        m::OP_OPEN_SESSION => {
            let r: m::OpenSessionRequest = req(payload)?;
            check_serial(ctx, r.serial)?;
            let s = ctx.access.open_session(r.serial, r.read_write)?;
            ok(&m::OpenSessionResponse { session: s.value() })
        }
        m::OP_CLOSE_SESSION => {
            let r: m::CloseSessionRequest = req(payload)?;
            let mut module = write_session(ctx, r.session)?;
            module.close_session(id, sh(r.session))?;
            ok(&m::CloseSessionResponse {})
        }
        m::OP_CLOSE_ALL_SESSIONS => {
            let r: m::CloseAllSessionsRequest = req(payload)?;
            check_serial(ctx, r.serial)?;
            ctx.access.module().close_all_sessions(id, r.serial)?;
            ok(&m::CloseAllSessionsResponse {})
        }
        m::OP_GET_SESSION_INFO => {
            let r: m::GetSessionInfoRequest = req(payload)?;
            let module = read_session(ctx, r.session)?;
            let info = module.session_info(id, sh(r.session))?;
            ok(&m::GetSessionInfoResponse {
                serial: info.serial,
                state: info.state,
                flags: info.flags,
            })
        }
        m::OP_LOGIN => {
            let r: m::LoginRequest = req(payload)?;
            let role = role_of(r.user_type)?;
            let pin = secret(r.pin)?;
            let mut module = ctx.access.module();
            let serial = session_serial(ctx, &module, r.session)?;
            module.role_login(id, serial, role, &pin)?;
            ok(&m::LoginResponse {})
        }
        m::OP_LOGOUT => {
            let r: m::LogoutRequest = req(payload)?;
            let mut module = ctx.access.module();
            let serial = session_serial(ctx, &module, r.session)?;
            module.role_logout(id, serial)?;
            ok(&m::LogoutResponse {})
        }
        m::OP_INIT_TOKEN => {
            let r: m::InitTokenRequest = req(payload)?;
            check_serial(ctx, r.serial)?;
            let so_pin = secret(r.so_pin)?;
            let domain = match r.domain {
                Some(d) => secret(d)?,
                None => strongroom_module::Secret::new(DEFAULT_DOMAIN),
            };
            let mut module = ctx.access.module();
            // PKCS#11: on an initialized token the SO PIN given must be the current one, and
            // stays the Partition SO's PIN.
            let current = module
                .partition_initialized(r.serial)?
                .then(|| strongroom_module::Secret::new(so_pin.expose()));
            let label = r.label.trim_end().to_owned();
            module.partition_init(
                id,
                r.serial,
                strongroom_module::PartitionInitRequest {
                    label,
                    so_password: so_pin,
                    domain,
                    current_so_password: current,
                },
            )?;
            ok(&m::InitTokenResponse {})
        }
        m::OP_INIT_PIN => {
            let r: m::InitPinRequest = req(payload)?;
            let pin = secret(r.pin)?;
            let mut module = ctx.access.module();
            let serial = session_serial(ctx, &module, r.session)?;
            module.role_init(id, serial, PartitionRole::CryptoOfficer, &pin)?;
            ok(&m::InitPinResponse {})
        }
        m::OP_SET_PIN => {
            let r: m::SetPinRequest = req(payload)?;
            let (old, new) = (secret(r.old_pin)?, secret(r.new_pin)?);
            let mut module = ctx.access.module();
            let serial = session_serial(ctx, &module, r.session)?;
            module.role_change_password(id, serial, &old, &new)?;
            ok(&m::SetPinResponse {})
        }
        m::OP_GET_MECHANISM_LIST => {
            let r: m::GetMechanismListRequest = req(payload)?;
            check_serial(ctx, r.serial)?;
            let mechanisms = ctx.access.read().mechanism_list(r.serial)?;
            ok(&m::GetMechanismListResponse { mechanisms })
        }
        m::OP_GET_MECHANISM_INFO => {
            let r: m::GetMechanismInfoRequest = req(payload)?;
            check_serial(ctx, r.serial)?;
            let info = ctx.access.read().mechanism_info(r.serial, r.mechanism)?;
            // CKF_HW: every mechanism runs inside the appliance, not in the application.
            const CKF_HW: u64 = 0x1;
            ok(&m::GetMechanismInfoResponse {
                min_key_size: info.min_key_size,
                max_key_size: info.max_key_size,
                flags: info.flags | CKF_HW,
            })
        }
        m::OP_GENERATE_RANDOM => {
            let r: m::GenerateRandomRequest = req(payload)?;
            let module = read_session(ctx, r.session)?;
            let data = module.generate_random(id, sh(r.session), r.len as usize)?;
            ok(&m::GenerateRandomResponse { data })
        }
        m::OP_SEED_RANDOM => {
            let r: m::SeedRandomRequest = req(payload)?;
            let module = read_session(ctx, r.session)?;
            module.seed_random(id, sh(r.session), &r.seed)?;
            ok(&m::SeedRandomResponse {})
        }
        m::OP_CREATE_OBJECT => {
            let r: m::CreateObjectRequest = req(payload)?;
            let t = template(&r.template)?;
            let mut module = write_session(ctx, r.session)?;
            let h = module.create_object(id, sh(r.session), &t)?;
            ok(&m::CreateObjectResponse { object: h.value() })
        }
        m::OP_DESTROY_OBJECT => {
            let r: m::DestroyObjectRequest = req(payload)?;
            let mut module = write_session(ctx, r.session)?;
            module.destroy_object(id, sh(r.session), ObjectHandle::from_value(r.object))?;
            ok(&m::DestroyObjectResponse {})
        }
        m::OP_GET_ATTRIBUTE_VALUE => {
            let r: m::GetAttributeValueRequest = req(payload)?;
            let module = read_session(ctx, r.session)?;
            let values = module
                .get_attribute_value(
                    id,
                    sh(r.session),
                    ObjectHandle::from_value(r.object),
                    &r.types,
                )?
                .into_iter()
                .map(|a| match a {
                    strongroom_module::AttrResult::Value(v) => m::AttrValue::Value(v),
                    strongroom_module::AttrResult::Sensitive => m::AttrValue::Sensitive,
                    _ => m::AttrValue::TypeInvalid,
                })
                .collect();
            ok(&m::GetAttributeValueResponse { values })
        }
        m::OP_SET_ATTRIBUTE_VALUE => {
            let r: m::SetAttributeValueRequest = req(payload)?;
            let t = template(&r.template)?;
            let mut module = write_session(ctx, r.session)?;
            module.set_attribute_value(
                id,
                sh(r.session),
                ObjectHandle::from_value(r.object),
                &t,
            )?;
            ok(&m::SetAttributeValueResponse {})
        }
        m::OP_FIND_OBJECTS_INIT => {
            let r: m::FindObjectsInitRequest = req(payload)?;
            let t = template(&r.template)?;
            let module = read_session(ctx, r.session)?;
            module.find_objects_init(id, sh(r.session), &t)?;
            ok(&m::FindObjectsInitResponse {})
        }
        m::OP_FIND_OBJECTS => {
            let r: m::FindObjectsRequest = req(payload)?;
            let module = read_session(ctx, r.session)?;
            let max = (r.max as usize).min(m::MAX_ITEMS);
            let objects = module
                .find_objects(id, sh(r.session), max)?
                .into_iter()
                .map(ObjectHandle::value)
                .collect();
            ok(&m::FindObjectsResponse { objects })
        }
        m::OP_FIND_OBJECTS_FINAL => {
            let r: m::FindObjectsFinalRequest = req(payload)?;
            let module = read_session(ctx, r.session)?;
            module.find_objects_final(id, sh(r.session))?;
            ok(&m::FindObjectsFinalResponse {})
        }
        m::OP_SIGN_INIT | m::OP_VERIFY_INIT | m::OP_ENCRYPT_INIT | m::OP_DECRYPT_INIT => {
            let (module, started) = start_operation(ctx, opcode, payload)?;
            let single_output = started
                .single
                .and_then(|op| single_output(&module, id, started.session, op));
            let repeatable = module.init_repeatable(id, sh(started.session), started.key);
            match opcode {
                m::OP_SIGN_INIT => ok(&m::SignInitResponse {
                    single_output,
                    repeatable,
                }),
                m::OP_VERIFY_INIT => ok(&m::VerifyInitResponse { repeatable }),
                m::OP_ENCRYPT_INIT => ok(&m::EncryptInitResponse {
                    single_output,
                    repeatable,
                }),
                _ => ok(&m::DecryptInitResponse {
                    single_output,
                    repeatable,
                }),
            }
        }
        m::OP_SIGN => {
            let r: m::SignRequest = req(payload)?;
            let module = read_session(ctx, r.session)?;
            let out = module.sign(id, sh(r.session), &r.data, capacity(r.capacity))?;
            ok(&m::SignResponse {
                output: output(out),
            })
        }
        m::OP_VERIFY => {
            let r: m::VerifyRequest = req(payload)?;
            let module = read_session(ctx, r.session)?;
            module.verify(id, sh(r.session), &r.data, &r.signature)?;
            ok(&m::VerifyResponse {})
        }
        m::OP_GENERATE_KEY_PAIR => {
            let r: m::GenerateKeyPairRequest = req(payload)?;
            let mech = mechanism(&r.mechanism)?;
            let (public, private) = (
                template(&r.public_template)?,
                template(&r.private_template)?,
            );
            // The key is generated under shared access; only adding it takes the module alone.
            let prepared = {
                let module = read_session(ctx, r.session)?;
                module.generate_key_pair_prepare(id, sh(r.session), &mech, &public)?
            };
            let mut module = ctx.access.module();
            let (pubk, privk) =
                module.generate_key_pair_commit(id, sh(r.session), prepared, &public, &private)?;
            ok(&m::GenerateKeyPairResponse {
                public_key: pubk.value(),
                private_key: privk.value(),
            })
        }
        m::OP_COPY_OBJECT => {
            let r: m::CopyObjectRequest = req(payload)?;
            let t = template(&r.template)?;
            let mut module = write_session(ctx, r.session)?;
            let h = module.copy_object(id, sh(r.session), oh(r.object), &t)?;
            ok(&m::CopyObjectResponse { object: h.value() })
        }
        m::OP_GET_OBJECT_SIZE => {
            let r: m::GetObjectSizeRequest = req(payload)?;
            let module = read_session(ctx, r.session)?;
            let size = module.object_size(id, sh(r.session), oh(r.object))?;
            ok(&m::GetObjectSizeResponse { size })
        }
        m::OP_SIGN_UPDATE => {
            let r: m::SignUpdateRequest = req(payload)?;
            let module = read_session(ctx, r.session)?;
            module.sign_update(id, sh(r.session), &r.data)?;
            ok(&m::SignUpdateResponse {})
        }
        m::OP_SIGN_FINAL => {
            let r: m::SignFinalRequest = req(payload)?;
            let module = read_session(ctx, r.session)?;
            let out = module.sign_final(id, sh(r.session), capacity(r.capacity))?;
            ok(&m::SignFinalResponse {
                output: output(out),
            })
        }
        m::OP_VERIFY_UPDATE => {
            let r: m::VerifyUpdateRequest = req(payload)?;
            let module = read_session(ctx, r.session)?;
            module.verify_update(id, sh(r.session), &r.data)?;
            ok(&m::VerifyUpdateResponse {})
        }
        m::OP_VERIFY_FINAL => {
            let r: m::VerifyFinalRequest = req(payload)?;
            let module = read_session(ctx, r.session)?;
            module.verify_final(id, sh(r.session), &r.signature)?;
            ok(&m::VerifyFinalResponse {})
        }
        m::OP_GENERATE_KEY => {
            let r: m::GenerateKeyRequest = req(payload)?;
            let mech = mechanism(&r.mechanism)?;
            let t = template(&r.template)?;
            let mut module = write_session(ctx, r.session)?;
            let key = module.generate_key(id, sh(r.session), &mech, &t)?;
            ok(&m::GenerateKeyResponse { key: key.value() })
        }
        m::OP_WRAP_KEY => {
            let r: m::WrapKeyRequest = req(payload)?;
            let mech = mechanism(&r.mechanism)?;
            let module = read_session(ctx, r.session)?;
            let out = module.wrap_key(
                id,
                sh(r.session),
                &mech,
                oh(r.wrapping_key),
                oh(r.key),
                capacity(r.capacity),
            )?;
            ok(&m::WrapKeyResponse {
                output: output(out),
            })
        }
        m::OP_UNWRAP_KEY => {
            let r: m::UnwrapKeyRequest = req(payload)?;
            let mech = mechanism(&r.mechanism)?;
            let t = template(&r.template)?;
            let mut module = write_session(ctx, r.session)?;
            let key = module.unwrap_key(
                id,
                sh(r.session),
                &mech,
                oh(r.unwrapping_key),
                &r.wrapped,
                &t,
            )?;
            ok(&m::UnwrapKeyResponse { key: key.value() })
        }
        m::OP_DERIVE_KEY => {
            let r: m::DeriveKeyRequest = req(payload)?;
            let mech = mechanism(&r.mechanism)?;
            let t = template(&r.template)?;
            let mut module = write_session(ctx, r.session)?;
            let key = module.derive_key(id, sh(r.session), &mech, oh(r.base_key), &t)?;
            ok(&m::DeriveKeyResponse { key: key.value() })
        }
        m::OP_ENCRYPT => {
            let r: m::EncryptRequest = req(payload)?;
            let module = read_session(ctx, r.session)?;
            let out = module.encrypt(id, sh(r.session), &r.data, capacity(r.capacity))?;
            ok(&m::EncryptResponse {
                output: output(out),
            })
        }
        m::OP_ENCRYPT_UPDATE => {
            let r: m::EncryptUpdateRequest = req(payload)?;
            let module = read_session(ctx, r.session)?;
            let out = module.encrypt_update(id, sh(r.session), &r.data, capacity(r.capacity))?;
            ok(&m::EncryptUpdateResponse {
                output: output(out),
            })
        }
        m::OP_ENCRYPT_FINAL => {
            let r: m::EncryptFinalRequest = req(payload)?;
            let module = read_session(ctx, r.session)?;
            let out = module.encrypt_final(id, sh(r.session), capacity(r.capacity))?;
            ok(&m::EncryptFinalResponse {
                output: output(out),
            })
        }
        m::OP_DECRYPT => {
            let r: m::DecryptRequest = req(payload)?;
            let module = read_session(ctx, r.session)?;
            let out = module.decrypt(id, sh(r.session), &r.data, capacity(r.capacity))?;
            ok(&m::DecryptResponse {
                output: output(out),
            })
        }
        m::OP_DECRYPT_UPDATE => {
            let r: m::DecryptUpdateRequest = req(payload)?;
            let module = read_session(ctx, r.session)?;
            let out = module.decrypt_update(id, sh(r.session), &r.data, capacity(r.capacity))?;
            ok(&m::DecryptUpdateResponse {
                output: output(out),
            })
        }
        m::OP_DECRYPT_FINAL => {
            let r: m::DecryptFinalRequest = req(payload)?;
            let module = read_session(ctx, r.session)?;
            let out = module.decrypt_final(id, sh(r.session), capacity(r.capacity))?;
            ok(&m::DecryptFinalResponse {
                output: output(out),
            })
        }
        m::OP_DIGEST_INIT => {
            let r: m::DigestInitRequest = req(payload)?;
            let mech = mechanism(&r.mechanism)?;
            let module = read_session(ctx, r.session)?;
            module.digest_init(id, sh(r.session), &mech)?;
            ok(&m::DigestInitResponse {
                single_output: single_output(&module, id, r.session, OutputOperation::Digest),
            })
        }
        m::OP_DIGEST => {
            let r: m::DigestRequest = req(payload)?;
            let module = read_session(ctx, r.session)?;
            let out = module.digest(id, sh(r.session), &r.data, capacity(r.capacity))?;
            ok(&m::DigestResponse {
                output: output(out),
            })
        }
        m::OP_DIGEST_UPDATE => {
            let r: m::DigestUpdateRequest = req(payload)?;
            let module = read_session(ctx, r.session)?;
            module.digest_update(id, sh(r.session), &r.data)?;
            ok(&m::DigestUpdateResponse {})
        }
        m::OP_DIGEST_FINAL => {
            let r: m::DigestFinalRequest = req(payload)?;
            let module = read_session(ctx, r.session)?;
            let out = module.digest_final(id, sh(r.session), capacity(r.capacity))?;
            ok(&m::DigestFinalResponse {
                output: output(out),
            })
        }
        m::OP_ROLE_LIST => {
            let r: m::RoleListRequest = req(payload)?;
            check_serial(ctx, r.serial)?;
            let roles = ctx
                .access
                .read()
                .role_list(r.serial)?
                .into_iter()
                .map(|s| m::RoleEntry {
                    user_type: user_type_of(s.role),
                    initialized: s.initialized,
                    locked: s.locked,
                    must_change: s.must_change,
                    failures: s.failures,
                })
                .collect();
            ok(&m::RoleListResponse { roles })
        }
        m::OP_ROLE_INIT | m::OP_ROLE_RESET => {
            let (session, user_type, pin) = if opcode == m::OP_ROLE_INIT {
                let r: m::RoleInitRequest = req(payload)?;
                (r.session, r.user_type, r.pin)
            } else {
                let r: m::RoleResetRequest = req(payload)?;
                (r.session, r.user_type, r.pin)
            };
            let role = role_of(user_type)?;
            let pin = secret(pin)?;
            let mut module = ctx.access.module();
            let serial = session_serial(ctx, &module, session)?;
            if opcode == m::OP_ROLE_INIT {
                module.role_init(id, serial, role, &pin)?;
                ok(&m::RoleInitResponse {})
            } else {
                module.role_reset(id, serial, role, &pin)?;
                ok(&m::RoleResetResponse {})
            }
        }
        m::OP_PARTITION_POLICIES => {
            let r: m::PartitionPoliciesRequest = req(payload)?;
            check_serial(ctx, r.serial)?;
            let text = ctx.access.read().partition_show_policies(r.serial)?;
            ok(&m::PartitionPoliciesResponse {
                text: text.into_bytes(),
            })
        }
        m::OP_CHANGE_PARTITION_POLICY => {
            let r: m::ChangePartitionPolicyRequest = req(payload)?;
            let policy =
                u8::try_from(r.policy).map_err(|_| Fail::code(ret::SR_RET_ARGUMENTS_BAD))?;
            let mut module = ctx.access.module();
            let serial = session_serial(ctx, &module, r.session)?;
            let change = module.partition_change_policy(id, serial, policy, r.value)?;
            ok(&m::ChangePartitionPolicyResponse {
                old: change.old,
                destroyed_objects: change.destroys_objects,
            })
        }
        _ => Err(Fail::code(ret::SR_RET_FUNCTION_NOT_SUPPORTED)),
    }
}
