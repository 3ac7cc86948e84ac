//! PKCS#11 requests over the real NTLS link to a real `strongroomd run`: a registered client
//! with one assigned partition initializes it, creates its Crypto Officer, generates a P-256
//! key pair, signs and verifies; a partition not assigned to it stays invisible and refused.

mod common;

use std::sync::Arc;

use common::ntls::{ClientId, NtlsAppliance, OP_ERROR, PARTITION, timeouts};
use strongroom_client::Connection;
use strongroom_module::{Attribute, Template};
use strongroom_proto::messages::{self as m, Message};

const CKA_TOKEN: u64 = 0x1;
const CKA_SIGN: u64 = 0x108;
const CKA_VERIFY: u64 = 0x10A;
const CKA_EC_PARAMS: u64 = 0x180;
const CKM_EC_KEY_PAIR_GEN: u64 = 0x1040;
const CKM_ECDSA_SHA256: u64 = 0x1044;
const CKU_SO: u64 = 0;
const CKU_USER: u64 = 1;
/// DER of the P-256 curve OID.
const P256: &[u8] = &[0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
const CONTAINER_HANDLE_INVALID: u32 = 0x8000_0001;
const PIN_EXPIRED: u32 = 0x00A3_0000;

/// Sends one request; `Ok` with the decoded answer, or `Err(code)` for an error answer.
fn call<Q: Message, A: Message>(conn: &Connection, req: &Q) -> Result<A, u32> {
    let frame = conn.call(Q::OPCODE, &m::encode(req)).expect("transport");
    if frame.opcode == OP_ERROR {
        let e: m::ErrorResponse = m::decode(&frame.payload).expect("error answer decodes");
        return Err(e.code);
    }
    assert_eq!(frame.opcode, A::OPCODE, "answer opcode");
    Ok(m::decode(&frame.payload).expect("answer decodes"))
}

fn template(attrs: Vec<Attribute>) -> Vec<u8> {
    Template::new(attrs).expect("template").encode()
}

fn session(conn: &Connection, serial: u64) -> u64 {
    let r: m::OpenSessionResponse = call(
        conn,
        &m::OpenSessionRequest {
            serial,
            read_write: true,
        },
    )
    .expect("open session");
    r.session
}

fn login(conn: &Connection, session: u64, user_type: u64, pin: &str) -> Result<(), u32> {
    call::<_, m::LoginResponse>(
        conn,
        &m::LoginRequest {
            session,
            user_type,
            pin: pin.into(),
        },
    )
    .map(|_| ())
}

fn serials(app: &NtlsAppliance) -> Vec<u64> {
    let out = app.console("partition list");
    out.lines()
        .filter_map(|l| l.split_whitespace().next()?.parse::<u64>().ok())
        .filter(|s| *s > 1_000_000)
        .collect()
}

#[test]
fn a_registered_client_uses_its_partition_and_sees_no_other() {
    let app = NtlsAppliance::start();
    let out =
        app.console("hsm login -password Admin-Pass1\npartition create -partition hidden -force");
    assert!(out.contains("'partition create' successful."), "{out}");
    let all = serials(&app);
    assert_eq!(all.len(), 2, "{all:?}");
    let id = ClientId::new("127.0.0.1");
    app.register("c1", "127.0.0.1", &id);
    let out = app.console(&format!(
        "client assignPartition -client c1 -partition {PARTITION}"
    ));
    assert!(
        out.contains("'client assignPartition' successful."),
        "{out}"
    );

    let conn: Arc<Connection> = Connection::connect(
        &app.addr(),
        "127.0.0.1",
        id.tls(&app.server_cert()),
        timeouts(),
    )
    .expect("connect");

    // Only the assigned partition is a slot.
    let slots: m::GetSlotListResponse = call(&conn, &m::GetSlotListRequest {}).expect("slots");
    assert_eq!(slots.slots.len(), 1);
    let serial = slots.slots[0].serial;
    assert!(!slots.slots[0].initialized);
    let hidden = *all
        .iter()
        .find(|s| **s != serial)
        .expect("the other partition");
    // The other partition is refused like one that does not exist.
    assert_eq!(
        call::<_, m::OpenSessionResponse>(
            &conn,
            &m::OpenSessionRequest {
                serial: hidden,
                read_write: true
            }
        )
        .err(),
        Some(CONTAINER_HANDLE_INVALID)
    );
    assert_eq!(
        call::<_, m::OpenSessionResponse>(
            &conn,
            &m::OpenSessionRequest {
                serial: 424_242,
                read_write: true
            }
        )
        .err(),
        Some(CONTAINER_HANDLE_INVALID)
    );

    // C_InitToken with the default domain, then the Partition SO creates the Crypto Officer.
    let _: m::InitTokenResponse = call(
        &conn,
        &m::InitTokenRequest {
            serial,
            so_pin: b"Pso-Pass-123".to_vec(),
            label: "Wire Token".into(),
            domain: None,
        },
    )
    .expect("init token");
    let s = session(&conn, serial);
    login(&conn, s, CKU_SO, "Pso-Pass-123").expect("PSO login");
    let _: m::InitPinResponse = call(
        &conn,
        &m::InitPinRequest {
            session: s,
            pin: b"Co-Initial-1".to_vec(),
        },
    )
    .expect("init pin");
    let _: m::LogoutResponse = call(&conn, &m::LogoutRequest { session: s }).expect("logout");
    // The Crypto Officer's first password must be changed (HSM policy 21).
    login(&conn, s, CKU_USER, "Co-Initial-1").expect("CO login");
    let keygen = m::GenerateKeyPairRequest {
        session: s,
        mechanism: m::MechanismSpec {
            mechanism: CKM_EC_KEY_PAIR_GEN,
            params: vec![],
        },
        public_template: template(vec![
            Attribute::new(CKA_EC_PARAMS, P256.to_vec()),
            Attribute::from_bool(CKA_VERIFY, true),
            Attribute::from_bool(CKA_TOKEN, true),
        ]),
        private_template: template(vec![
            Attribute::from_bool(CKA_SIGN, true),
            Attribute::from_bool(CKA_TOKEN, true),
        ]),
    };
    assert_eq!(
        call::<_, m::GenerateKeyPairResponse>(&conn, &keygen).err(),
        Some(PIN_EXPIRED)
    );
    let _: m::SetPinResponse = call(
        &conn,
        &m::SetPinRequest {
            session: s,
            old_pin: b"Co-Initial-1".to_vec(),
            new_pin: b"Co-Changed-22".to_vec(),
        },
    )
    .expect("set pin");
    let keys: m::GenerateKeyPairResponse = call(&conn, &keygen).expect("generate P-256");

    // Sign (with a length query first) and verify; a changed message does not verify.
    let mech = m::MechanismSpec {
        mechanism: CKM_ECDSA_SHA256,
        params: vec![],
    };
    let _: m::SignInitResponse = call(
        &conn,
        &m::SignInitRequest {
            session: s,
            mechanism: mech.clone(),
            key: keys.private_key,
        },
    )
    .expect("sign init");
    let len: m::SignResponse = call(
        &conn,
        &m::SignRequest {
            session: s,
            data: b"over the wire".to_vec(),
            capacity: None,
        },
    )
    .expect("length query");
    assert_eq!(len.output, m::OutputData::Length(64));
    let sig: m::SignResponse = call(
        &conn,
        &m::SignRequest {
            session: s,
            data: b"over the wire".to_vec(),
            capacity: Some(64),
        },
    )
    .expect("sign");
    let m::OutputData::Data(signature) = sig.output else {
        panic!("no signature")
    };
    assert_eq!(signature.len(), 64);
    for (data, good) in [
        (&b"over the wire"[..], true),
        (&b"over the wirE"[..], false),
    ] {
        let _: m::VerifyInitResponse = call(
            &conn,
            &m::VerifyInitRequest {
                session: s,
                mechanism: mech.clone(),
                key: keys.public_key,
            },
        )
        .expect("verify init");
        let r = call::<_, m::VerifyResponse>(
            &conn,
            &m::VerifyRequest {
                session: s,
                data: data.to_vec(),
                signature: signature.clone(),
            },
        );
        assert_eq!(r.is_ok(), good, "{:?}", r.err());
    }

    // Revoking the assignment takes effect for the next request.
    let out = app.console(&format!(
        "client revokePartition -client c1 -partition {PARTITION}"
    ));
    assert!(out.contains("successful"), "{out}");
    let slots: m::GetSlotListResponse = call(&conn, &m::GetSlotListRequest {}).expect("slots");
    assert!(slots.slots.is_empty());
    assert!(
        call::<_, m::SignInitResponse>(
            &conn,
            &m::SignInitRequest {
                session: s,
                mechanism: mech,
                key: keys.private_key
            }
        )
        .is_err()
    );
}
