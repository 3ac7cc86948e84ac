//! PKCS#11 requests over a real NTLS link, for the reliability and security suites: typed
//! calls that keep transport failures apart from module refusals, a registered client with
//! the partition assigned, and a token prepared up to a Crypto Officer who may work.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use strongroom_client::{Connection, Timeouts};
use strongroom_module::{Attribute, Template};
use strongroom_proto::messages::{self as m, Message};

use crate::common::ntls::{ClientId, NtlsAppliance, OP_ERROR, PARTITION, listening_port};
use crate::common::process::Proc;

pub(crate) const CKA_CLASS: u64 = 0x0;
pub(crate) const CKA_TOKEN: u64 = 0x1;
pub(crate) const CKA_PRIVATE: u64 = 0x2;
pub(crate) const CKA_LABEL: u64 = 0x3;
pub(crate) const CKA_APPLICATION: u64 = 0x10;
pub(crate) const CKA_VALUE: u64 = 0x11;
pub(crate) const CKA_KEY_TYPE: u64 = 0x100;
pub(crate) const CKA_ID: u64 = 0x102;
pub(crate) const CKA_SENSITIVE: u64 = 0x103;
pub(crate) const CKA_ENCRYPT: u64 = 0x104;
pub(crate) const CKA_DECRYPT: u64 = 0x105;
pub(crate) const CKA_SIGN: u64 = 0x108;
pub(crate) const CKA_VERIFY: u64 = 0x10A;
pub(crate) const CKA_VALUE_LEN: u64 = 0x161;
pub(crate) const CKA_EXTRACTABLE: u64 = 0x162;
pub(crate) const CKA_EC_PARAMS: u64 = 0x180;
pub(crate) const CKO_DATA: u64 = 0x0;
pub(crate) const CKO_SECRET_KEY: u64 = 0x4;
pub(crate) const CKK_AES: u64 = 0x1F;
pub(crate) const CKM_SHA256: u64 = 0x250;
pub(crate) const CKM_EC_KEY_PAIR_GEN: u64 = 0x1040;
pub(crate) const CKM_ECDSA_SHA256: u64 = 0x1044;
pub(crate) const CKM_AES_GCM: u64 = 0x1087;
pub(crate) const CKU_SO: u64 = m::CKU_SO;
pub(crate) const CKU_USER: u64 = m::CKU_USER;
pub(crate) const CKU_CRYPTO_USER: u64 = m::CKU_CRYPTO_USER;
pub(crate) const CKU_LIMITED_CRYPTO_OFFICER: u64 = m::CKU_LIMITED_CRYPTO_OFFICER;
pub(crate) const CKF_TOKEN_INITIALIZED: u64 = 0x400;
/// DER of the P-256 curve OID.
pub(crate) const P256: &[u8] = &[0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];

/// The Partition SO password the suites initialize tokens with.
pub(crate) const PSO_PIN: &str = "Pso-Pass-123";
/// The Crypto Officer's first password (to be changed at the first login).
pub(crate) const CO_INITIAL: &str = "Co-Initial-1";
/// The Crypto Officer's password after the change.
pub(crate) const CO_PIN: &str = "Co-Changed-22";

/// A module return code's value.
pub(crate) fn code(name: &str) -> u32 {
    strongroom_proto::RetCode::from_name(name)
        .unwrap_or_else(|| panic!("no return code {name}"))
        .value()
}

/// The name of a module return code, for messages.
pub(crate) fn name(code: u32) -> &'static str {
    strongroom_proto::RetCode::from_u32(code).name()
}

/// Sends one request: the transport's verdict outside, the appliance's inside.
pub(crate) fn try_call<Q: Message, A: Message>(
    conn: &Connection,
    req: &Q,
) -> Result<Result<A, m::ErrorResponse>, strongroom_client::Error> {
    let frame = conn.call(Q::OPCODE, &m::encode(req))?;
    if frame.opcode == OP_ERROR {
        return Ok(Err(m::decode(&frame.payload).expect("error answer decodes")));
    }
    assert_eq!(frame.opcode, A::OPCODE, "answer opcode");
    Ok(Ok(m::decode(&frame.payload).expect("answer decodes")))
}

/// Sends one request whose transport must work; `Err` is the module's return code.
pub(crate) fn call<Q: Message, A: Message>(conn: &Connection, req: &Q) -> Result<A, u32> {
    try_call(conn, req)
        .unwrap_or_else(|e| panic!("transport failed for opcode {:#x}: {e}", Q::OPCODE))
        .map_err(|e| e.code)
}

/// Like [`call`], panicking with the code's name on a refusal.
pub(crate) fn ok<Q: Message, A: Message>(conn: &Connection, req: &Q) -> A {
    call(conn, req).unwrap_or_else(|c| panic!("opcode {:#x} refused: {}", Q::OPCODE, name(c)))
}

/// A request the module must refuse with exactly `expected` (a `SR_RET_*` name).
pub(crate) fn refused<Q: Message, A: Message>(conn: &Connection, req: &Q, expected: &str) {
    match call::<Q, A>(conn, req) {
        Ok(_) => panic!("opcode {:#x} succeeded; expected {expected}", Q::OPCODE),
        Err(c) => assert_eq!(name(c), expected, "opcode {:#x}", Q::OPCODE),
    }
}

pub(crate) fn template(attrs: Vec<Attribute>) -> Vec<u8> {
    Template::new(attrs).expect("template").encode()
}

/// A request for a P-256 key pair for ECDSA; `token` says whether both halves are token
/// objects.
pub(crate) fn p256_pair_request(session: u64, token: bool) -> m::GenerateKeyPairRequest {
    m::GenerateKeyPairRequest {
        session,
        mechanism: plain(CKM_EC_KEY_PAIR_GEN),
        public_template: template(vec![
            Attribute::new(CKA_EC_PARAMS, P256.to_vec()),
            Attribute::from_bool(CKA_VERIFY, true),
            Attribute::from_bool(CKA_TOKEN, token),
        ]),
        private_template: template(vec![
            Attribute::from_bool(CKA_SIGN, true),
            Attribute::from_bool(CKA_TOKEN, token),
        ]),
    }
}

pub(crate) fn plain(mechanism: u64) -> m::MechanismSpec {
    m::MechanismSpec {
        mechanism,
        params: vec![],
    }
}

pub(crate) fn data(out: m::OutputData) -> Vec<u8> {
    match out {
        m::OutputData::Data(d) => d,
        m::OutputData::Length(n) => panic!("a length ({n}) where data was expected"),
    }
}

/// Timeouts for the suites: a hang fails within a bounded time.
pub(crate) fn timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(10),
        request: Duration::from_secs(30),
    }
}

/// Registers `id` as client `name` (address 127.0.0.1) and assigns it `partition`.
pub(crate) fn register_with(app: &NtlsAppliance, name: &str, id: &ClientId, partition: &str) {
    app.register(name, "127.0.0.1", id);
    let out = app.console(&format!(
        "client assignPartition -client {name} -partition {partition}"
    ));
    assert!(
        out.contains("'client assignPartition' successful."),
        "{out}"
    );
}

/// A new connection with `id`'s certificate.
pub(crate) fn connect(app: &NtlsAppliance, id: &ClientId) -> Arc<Connection> {
    Connection::connect(
        &app.addr(),
        "127.0.0.1",
        id.tls(&app.server_cert()),
        timeouts(),
    )
    .expect("connect")
}

/// The serial of the one slot the connection sees.
pub(crate) fn only_slot(conn: &Connection) -> u64 {
    let slots: m::GetSlotListResponse = ok(conn, &m::GetSlotListRequest {});
    assert_eq!(slots.slots.len(), 1, "{:?}", slots.slots);
    slots.slots[0].serial
}

pub(crate) fn open_session(conn: &Connection, serial: u64) -> u64 {
    let r: m::OpenSessionResponse = ok(
        conn,
        &m::OpenSessionRequest {
            serial,
            read_write: true,
        },
    );
    r.session
}

pub(crate) fn login(conn: &Connection, session: u64, user_type: u64, pin: &str) -> Result<(), u32> {
    call::<_, m::LoginResponse>(
        conn,
        &m::LoginRequest {
            session,
            user_type,
            pin: pin.as_bytes().to_vec(),
        },
    )
    .map(|_| ())
}

pub(crate) fn logout(conn: &Connection, session: u64) {
    let _: m::LogoutResponse = ok(conn, &m::LogoutRequest { session });
}

pub(crate) fn set_pin(conn: &Connection, session: u64, old: &str, new: &str) -> Result<(), u32> {
    call::<_, m::SetPinResponse>(
        conn,
        &m::SetPinRequest {
            session,
            old_pin: old.as_bytes().to_vec(),
            new_pin: new.as_bytes().to_vec(),
        },
    )
    .map(|_| ())
}

/// The partition's roles as `role list` reports them, by user type.
pub(crate) fn roles(conn: &Connection, serial: u64) -> Vec<m::RoleEntry> {
    let r: m::RoleListResponse = ok(conn, &m::RoleListRequest { serial });
    r.roles
}

/// The state of one role.
pub(crate) fn role(conn: &Connection, serial: u64, user_type: u64) -> m::RoleEntry {
    roles(conn, serial)
        .into_iter()
        .find(|r| r.user_type == user_type)
        .unwrap_or_else(|| panic!("no role {user_type:#x}"))
}

/// `C_InitToken` with [`PSO_PIN`] and the default domain.
pub(crate) fn init_token(conn: &Connection, serial: u64, label: &str) {
    let _: m::InitTokenResponse = ok(
        conn,
        &m::InitTokenRequest {
            serial,
            so_pin: PSO_PIN.as_bytes().to_vec(),
            label: label.into(),
            domain: None,
        },
    );
}

/// Initializes the token, creates the Crypto Officer and has it change its first password;
/// returns a session with the Crypto Officer logged in (password [`CO_PIN`]).
pub(crate) fn prepare_token(conn: &Connection, serial: u64) -> u64 {
    init_token(conn, serial, "Reliability");
    let s = open_session(conn, serial);
    login(conn, s, CKU_SO, PSO_PIN).expect("Partition SO login");
    let _: m::InitPinResponse = ok(
        conn,
        &m::InitPinRequest {
            session: s,
            pin: CO_INITIAL.as_bytes().to_vec(),
        },
    );
    logout(conn, s);
    login(conn, s, CKU_USER, CO_INITIAL).expect("Crypto Officer first login");
    set_pin(conn, s, CO_INITIAL, CO_PIN).expect("Crypto Officer changes the first password");
    s
}

/// A started appliance with client `c1` registered and assigned the partition, its token
/// prepared; returns the client identity, the connection, the serial and a session with the
/// Crypto Officer logged in.
pub(crate) fn ready(app: &NtlsAppliance) -> (ClientId, Arc<Connection>, u64, u64) {
    let id = ClientId::new("127.0.0.1");
    register_with(app, "c1", &id, PARTITION);
    let conn = connect(app, &id);
    let serial = only_slot(&conn);
    let s = prepare_token(&conn, serial);
    (id, conn, serial, s)
}

/// Starts the appliance again (after a kill or a stop) on the same configuration and data.
pub(crate) fn restart(app: &mut NtlsAppliance) {
    let config = app.tmp.path().join("strongroom.toml");
    let mut daemon = Proc::run(&config, &app.data);
    let out = daemon.wait_for("NTLS service listening on", Duration::from_secs(30));
    app.port = listening_port(&out);
    app.daemon = daemon;
}

/// Every object handle the session can see.
pub(crate) fn all_objects(conn: &Connection, session: u64) -> Vec<u64> {
    let _: m::FindObjectsInitResponse = ok(
        conn,
        &m::FindObjectsInitRequest {
            session,
            template: Vec::new(),
        },
    );
    let mut all = Vec::new();
    loop {
        let r: m::FindObjectsResponse = ok(conn, &m::FindObjectsRequest { session, max: 500 });
        if r.objects.is_empty() {
            break;
        }
        all.extend(r.objects);
    }
    let _: m::FindObjectsFinalResponse = ok(conn, &m::FindObjectsFinalRequest { session });
    all
}

/// The values of `types` on `object`.
pub(crate) fn attributes(
    conn: &Connection,
    session: u64,
    object: u64,
    types: &[u64],
) -> Vec<m::AttrValue> {
    // A hidden or missing attribute is reported per entry, with an error code overall.
    let frame = conn
        .call(
            m::OP_GET_ATTRIBUTE_VALUE,
            &m::encode(&m::GetAttributeValueRequest {
                session,
                object,
                types: types.to_vec(),
            }),
        )
        .expect("transport");
    assert_eq!(
        frame.opcode,
        m::OP_GET_ATTRIBUTE_VALUE,
        "GetAttributeValue refused: {:?}",
        m::decode::<m::ErrorResponse>(&frame.payload)
            .map(|e| name(e.code))
            .ok()
    );
    let r: m::GetAttributeValueResponse = m::decode(&frame.payload).expect("answer decodes");
    assert_eq!(r.values.len(), types.len());
    r.values
}

/// A little SplitMix64 generator: reproducible runs from a printed seed.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// A seed from `var` if set, else from the clock.
    pub(crate) fn seed_from_env(var: &str) -> u64 {
        std::env::var(var)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| (d.as_secs() << 30) ^ u64::from(d.subsec_nanos()))
                    .unwrap_or(1)
            })
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo).max(1)
    }
}
