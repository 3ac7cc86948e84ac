use std::os::unix::fs::PermissionsExt as _;
use std::sync::Arc;

use strongroom_proto::{Frame, Hello, OP_HELLO};

use super::registry::{ClientAddress, ClientRecord, Registry};
use super::*;

#[test]
fn listen_spec_parses_the_configured_forms() {
    let at = |host: &str, port| ListenSpec::At {
        host: host.into(),
        port,
    };
    assert_eq!(ListenSpec::parse("off"), Ok(ListenSpec::Off));
    assert_eq!(ListenSpec::parse("OFF"), Ok(ListenSpec::Off));
    assert_eq!(ListenSpec::parse("127.0.0.1:0"), Ok(at("127.0.0.1", 0)));
    assert_eq!(ListenSpec::parse("hsm1"), Ok(at("hsm1", DEFAULT_PORT)));
    assert_eq!(ListenSpec::parse("[::1]:1800"), Ok(at("::1", 1800)));
    assert_eq!(ListenSpec::parse("[::1]"), Ok(at("::1", DEFAULT_PORT)));
    assert_eq!(ListenSpec::parse("::1"), Ok(at("::1", DEFAULT_PORT)));
    for bad in ["", ":1792", "host:port", "host:70000", "[::1", "[::1]x"] {
        assert!(ListenSpec::parse(bad).is_err(), "{bad:?} accepted");
    }
    assert_eq!(ListenSpec::default(), at("0.0.0.0", 1792));
}

#[test]
fn a_generated_identity_names_the_appliance_and_loads() {
    let dir = tempfile::tempdir().expect("temp dir");
    let limits = crate::files::FileLimits::default();
    let pem = identity::generate(dir.path(), "192.0.2.10", limits).expect("generate");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    let key = dir.path().join("ntls").join("server.key");
    let mode = std::fs::metadata(&key).expect("key").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let exported = std::fs::read_to_string(dir.path().join("users/admin/server.pem"))
        .expect("server.pem in the admin's file area");
    assert_eq!(exported, pem);

    let (cert, key) = identity::load(dir.path()).expect("load");
    assert_eq!(
        identity::subject_name(cert.as_ref()).as_deref(),
        Some("192.0.2.10")
    );
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).expect("x509");
    let san = parsed
        .subject_alternative_name()
        .expect("san")
        .expect("a SAN");
    assert!(
        format!("{:?}", san.value.general_names).contains("IPAddress"),
        "{:?}",
        san.value.general_names
    );
    let eku = parsed.extended_key_usage().expect("eku").expect("an EKU");
    assert!(eku.value.server_auth && !eku.value.client_auth);
    let fp = identity::fingerprint(cert.as_ref());
    assert_eq!(fp.len(), 32 * 3 - 1, "{fp}");
    assert!(fp.chars().all(|c| c == ':' || c.is_ascii_hexdigit()));

    let registry = Arc::new(Registry::open(dir.path()));
    tls::server_config(cert, key, registry.clone()).expect("server config");

    // A second identity: a different key and certificate.
    identity::generate(dir.path(), "hsm1.example.com", limits).expect("regenerate");
    let (cert2, _) = identity::load(dir.path()).expect("load");
    assert_ne!(identity::fingerprint(cert2.as_ref()), fp);
    assert_eq!(
        identity::subject_name(cert2.as_ref()).as_deref(),
        Some("hsm1.example.com")
    );
    assert!(identity::generate(dir.path(), "bad name!", limits).is_err());
}

#[test]
fn a_key_that_does_not_match_the_certificate_is_refused() {
    let a = tempfile::tempdir().expect("temp dir");
    let b = tempfile::tempdir().expect("temp dir");
    let limits = crate::files::FileLimits::default();
    identity::generate(a.path(), "127.0.0.1", limits).expect("a");
    identity::generate(b.path(), "127.0.0.1", limits).expect("b");
    std::fs::copy(
        b.path().join("ntls/server.key"),
        a.path().join("ntls/server.key"),
    )
    .expect("swap key");
    let (cert, key) = identity::load(a.path()).expect("load");
    let err = tls::server_config(cert, key, Arc::new(Registry::open(a.path())))
        .expect_err("a mismatched key");
    assert!(err.contains("regenCert"), "{err}");
}

#[test]
fn ensure_keeps_an_identity_and_restores_the_exported_copy() {
    let dir = tempfile::tempdir().expect("temp dir");
    let limits = crate::files::FileLimits::default();
    identity::ensure(dir.path(), "127.0.0.1", limits).expect("create");
    let first = identity::current(dir.path()).expect("cert");
    let exported = dir.path().join("users/admin/server.pem");
    std::fs::remove_file(&exported).expect("remove");
    identity::ensure(dir.path(), "other", limits).expect("ensure");
    assert_eq!(identity::current(dir.path()).expect("cert"), first);
    assert!(exported.exists());
}

fn cert(name: &str) -> Vec<u8> {
    rcgen::generate_simple_self_signed(vec![name.to_owned()])
        .expect("rcgen")
        .cert
        .der()
        .to_vec()
}

#[test]
fn registrations_are_persisted_and_published_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let reg = Registry::open(dir.path());
    assert!(reg.list().expect("list").is_empty());
    let (a, b) = (cert("a"), cert("b"));
    reg.update(|c| {
        c.push(ClientRecord::new(
            "alpha",
            &ClientAddress::Ip("192.0.2.1".into()),
            &a,
        ));
        Ok(())
    })
    .expect("register");
    assert_eq!(reg.identify(&a).as_deref(), Some("alpha"));
    assert_eq!(reg.identify(&b), None);
    assert_eq!(reg.partitions_of("alpha").as_deref(), Some(&[][..]));
    reg.update(|c| {
        c[0].partitions.push(42);
        Ok(())
    })
    .expect("assign");
    assert_eq!(reg.partitions_of("alpha").as_deref(), Some(&[42u64][..]));

    // Another opener (a restart) sees the same.
    let again = Registry::open(dir.path());
    let list = again.list().expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].address(), ClientAddress::Ip("192.0.2.1".into()));
    assert_eq!(list[0].certificate_der().expect("der").as_ref(), &a[..]);
    assert_eq!(again.identify(&a).as_deref(), Some("alpha"));

    // A failing change changes nothing.
    let err = reg.update(|c| {
        c.clear();
        Err::<(), _>("refused".to_owned())
    });
    assert!(err.is_err());
    assert_eq!(reg.identify(&a).as_deref(), Some("alpha"));
    assert_eq!(reg.list().expect("list").len(), 1);

    reg.update(|c| {
        c.clear();
        Ok(())
    })
    .expect("delete");
    assert_eq!(reg.identify(&a), None);
    assert_eq!(reg.partitions_of("alpha"), None);
}

#[test]
fn a_corrupt_registrations_file_is_refused_and_never_overwritten() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("appliance/clients.toml");
    std::fs::create_dir_all(path.parent().expect("dir")).expect("dir");
    std::fs::write(&path, "[[client]]\nname = 3\n").expect("write");
    let reg = Registry::open(dir.path());
    assert!(reg.list().is_err());
    assert!(
        reg.update(|c| {
            c.clear();
            Ok(())
        })
        .is_err()
    );
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        "[[client]]\nname = 3\n"
    );
}

#[test]
fn client_names_are_checked() {
    for good in ["supreme", "client 1", "a.b-c_d@e", &"x".repeat(64)] {
        assert!(registry::check_name(good).is_ok(), "{good:?}");
    }
    for bad in ["", "   ", "a\"b", "tab\there", &"x".repeat(65)] {
        assert!(registry::check_name(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn the_hello_is_answered_with_the_chosen_version_or_our_range() {
    let frame = |opcode, payload: Vec<u8>| Frame {
        request_id: 9,
        opcode,
        payload,
    };
    let v = *strongroom_proto::PROTOCOL_VERSIONS.end();
    let ok = wire::hello_answer(&frame(OP_HELLO, Hello { min: 1, max: 7 }.encode().to_vec()));
    assert_eq!(ok, Some((Hello { min: v, max: v }, true)));
    let none = wire::hello_answer(&frame(OP_HELLO, Hello { min: 5, max: 7 }.encode().to_vec()));
    assert_eq!(none, Some((Hello { min: v, max: v }, false)));
    // A client of version 1 (before the `*Init` answers carried output lengths) is refused.
    let old = wire::hello_answer(&frame(OP_HELLO, Hello { min: 1, max: 1 }.encode().to_vec()));
    assert_eq!(old, Some((Hello { min: v, max: v }, false)));
    assert_eq!(wire::hello_answer(&frame(OP_HELLO, b"SRNT".to_vec())), None);
    assert_eq!(
        wire::hello_answer(&frame(3, Hello { min: v, max: v }.encode().to_vec())),
        None
    );
}

#[test]
fn error_answers_carry_the_return_code() {
    let bytes = wire::error(
        77,
        strongroom_proto::ret::SR_RET_FUNCTION_NOT_SUPPORTED,
        1024,
    );
    let mut dec = strongroom_proto::FrameDecoder::new(1024);
    dec.push(&bytes);
    let f = dec.next_frame().expect("frame").expect("whole");
    assert_eq!((f.request_id, f.opcode), (77, wire::OP_ERROR));
    let e: strongroom_proto::messages::ErrorResponse =
        strongroom_proto::messages::decode(&f.payload).expect("error response");
    assert_eq!((e.code, e.needed), (0x0054_0000, None));
    // An answer too large for the frame maximum becomes an error answer.
    let bytes = wire::encode(5, 9, &[0u8; 100], 10);
    let mut dec = strongroom_proto::FrameDecoder::new(1024);
    dec.push(&bytes);
    let f = dec.next_frame().expect("frame").expect("whole");
    assert_eq!((f.request_id, f.opcode), (5, wire::OP_ERROR));
    let e: strongroom_proto::messages::ErrorResponse =
        strongroom_proto::messages::decode(&f.payload).expect("error response");
    assert_eq!((e.code, e.needed), (0x0030_0000, None));
}
