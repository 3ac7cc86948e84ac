//! The client configuration file.

use strongroom_client::{ClientConfig, Error};

fn write(dir: &std::path::Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("strongroom.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn paths_resolve_against_the_file_and_defaults_apply() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        r#"
[client]
certificate = "client/cert.pem"
private_key = "/abs/key.pem"

[[server]]
name = "hsm1"
address = "127.0.0.1:1792"
certificate = "server/hsm1.pem"

[[server]]
name = "hsm2"
address = "127.0.0.2:1792"
certificate = "server/hsm2.pem"
"#,
    );
    let c = ClientConfig::load(&path).unwrap();
    assert_eq!(c.certificate, dir.path().join("client/cert.pem"));
    assert_eq!(c.private_key, std::path::PathBuf::from("/abs/key.pem"));
    assert_eq!(c.servers.len(), 2);
    assert_eq!(c.servers[1].certificate, dir.path().join("server/hsm2.pem"));
    assert_eq!(c.timeouts.request, std::time::Duration::from_secs(60));
}

#[test]
fn malformed_configurations_are_refused_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    for text in [
        "[client]\ncertificate = \"c\"\n", // no key
        "[client]\ncertificate = \"c\"\nprivate_key = \"k\"\nbogus = 1\n", // unknown key
        "[client]\ncertificate = \"c\"\nprivate_key = \"k\"\n[[server]]\nname = \"a\"\naddress = \"x:1\"\ncertificate = \"s\"\n[[server]]\nname = \"a\"\naddress = \"y:1\"\ncertificate = \"t\"\n", // duplicate
        "not toml at all [",
    ] {
        let path = write(dir.path(), text);
        match ClientConfig::load(&path) {
            Err(Error::InvalidInput(msg)) => assert!(msg.contains("strongroom.toml"), "{msg}"),
            other => panic!("{text:?} accepted: {:?}", other.map(|_| ())),
        }
    }
    assert!(ClientConfig::load(&dir.path().join("missing.toml")).is_err());
}

#[test]
fn missing_certificate_files_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "[client]\ncertificate = \"nope.pem\"\nprivate_key = \"nope.key\"\n[[server]]\nname = \"a\"\naddress = \"127.0.0.1:1\"\ncertificate = \"s.pem\"\n",
    );
    let c = ClientConfig::load(&path).unwrap();
    assert!(matches!(
        c.tls_for(&c.servers[0]),
        Err(Error::InvalidInput(_))
    ));
}
