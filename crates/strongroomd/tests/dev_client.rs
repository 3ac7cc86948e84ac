//! The development appliance's own client: after `strongroomd dev`, the client configuration
//! it writes reaches the appliance as a registered client, the partition is a ready token, and
//! the Crypto Officer's password works at once; the configuration follows the port of a new run.

mod common;

use std::path::Path;
use std::time::Duration;

use common::process::Proc;
use strongroom_client::{ClientConfig, Connection};
use strongroom_proto::messages::{self as m, Message};
use strongroomd::DevCredentials;

const OP_ERROR: u16 = m::OP_ERROR;
const CKU_USER: u64 = 1;
const CKM_EC_KEY_PAIR_GEN: u64 = 0x1040;
const P256: &[u8] = &[0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];

fn credentials(dir: &Path) -> DevCredentials {
    let text =
        std::fs::read_to_string(strongroomd::credentials_path(dir)).expect("credentials file");
    toml::from_str(&text).expect("credentials parse")
}

fn call<Q: Message, A: Message>(conn: &Connection, req: &Q) -> Result<A, u32> {
    let frame = conn.call(Q::OPCODE, &m::encode(req)).expect("transport");
    if frame.opcode == OP_ERROR {
        let e: m::ErrorResponse = m::decode(&frame.payload).expect("error decodes");
        return Err(e.code);
    }
    Ok(m::decode(&frame.payload).expect("answer decodes"))
}

fn connect(creds: &DevCredentials) -> std::sync::Arc<Connection> {
    let config = ClientConfig::load(Path::new(&creds.client_config)).expect("client config");
    let server = &config.servers[0];
    assert_eq!(server.address, format!("127.0.0.1:{}", creds.ntls_port));
    Connection::connect(
        &server.address,
        &server.name,
        config.tls_for(server).expect("TLS configuration"),
        config.timeouts,
    )
    .expect("the development client connects")
}

#[test]
fn the_development_client_uses_its_ready_partition_across_restarts() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("appliance");
    let mut daemon = Proc::dev(&dir);
    daemon.wait_for("NTLS service listening", Duration::from_secs(10));
    let creds = credentials(&dir);
    assert!(
        creds.client_config.ends_with("client/strongroom.toml"),
        "{}",
        creds.client_config
    );
    assert!(!creds.crypto_officer_password.is_empty());
    let key = dir
        .join("client")
        .join("cert")
        .join("client")
        .join("127.0.0.1Key.pem");
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&key)
        .expect("client key")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the client key is owner-only");

    let conn = connect(&creds);
    let slots: m::GetSlotListResponse = call(&conn, &m::GetSlotListRequest {}).expect("slots");
    assert_eq!(slots.slots.len(), 1, "{slots:?}");
    assert_eq!(slots.slots[0].serial, creds.partition_serial);
    assert_eq!(slots.slots[0].label, strongroomd::DEV_PARTITION);
    assert!(slots.slots[0].initialized);
    let s: m::OpenSessionResponse = call(
        &conn,
        &m::OpenSessionRequest {
            serial: creds.partition_serial,
            read_write: true,
        },
    )
    .expect("session");
    // A wrong password is refused; the generated one works without a change.
    let login = |pin: &str| {
        call::<_, m::LoginResponse>(
            &conn,
            &m::LoginRequest {
                session: s.session,
                user_type: CKU_USER,
                pin: pin.as_bytes().to_vec(),
            },
        )
    };
    assert!(login("Not-The-Password-1").is_err());
    login(&creds.crypto_officer_password).expect("Crypto Officer login");
    let keys: Result<m::GenerateKeyPairResponse, u32> = call(
        &conn,
        &m::GenerateKeyPairRequest {
            session: s.session,
            mechanism: m::MechanismSpec {
                mechanism: CKM_EC_KEY_PAIR_GEN,
                params: vec![],
            },
            public_template: strongroom_module::Template::new(vec![
                strongroom_module::Attribute::new(0x180, P256.to_vec()),
            ])
            .expect("template")
            .encode(),
            private_template: strongroom_module::Template::new(vec![
                strongroom_module::Attribute::from_bool(0x108, true),
            ])
            .expect("template")
            .encode(),
        },
    );
    keys.expect("the Crypto Officer can work at once");
    drop(conn);

    // A second run keeps the client; the configuration follows its port.
    assert!(daemon.terminate().success());
    drop(daemon);
    let mut daemon = Proc::dev(&dir);
    let out = daemon.wait_for("NTLS service listening", Duration::from_secs(10));
    assert!(out.contains("export STRONGROOM_CONF="), "{out}");
    let again = credentials(&dir);
    let conn = connect(&again);
    let slots: m::GetSlotListResponse = call(&conn, &m::GetSlotListRequest {}).expect("slots");
    assert_eq!(slots.slots.len(), 1);
}
