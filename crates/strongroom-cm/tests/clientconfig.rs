//! `strongroom-cm clientconfig` through the real binary.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

fn cm(conf: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_strongroom-cm"))
        .arg("--conf")
        .arg(conf)
        .args(args)
        .env_remove("STRONGROOM_CONF")
        .output()
        .expect("run strongroom-cm");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn certificate_exchange_produces_a_usable_client_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("strongroom.toml");
    let (ok, out, err) = cm(
        &conf,
        &["clientconfig", "createcert", "-n", "client1.example"],
    );
    assert!(ok, "{out}{err}");
    assert!(out.contains("Command Result : No Error"));
    let key = dir.path().join("cert/client/client1.exampleKey.pem");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // A second createcert refuses to overwrite without --force.
    let (ok, _, err) = cm(
        &conf,
        &["clientconfig", "createcert", "-n", "client1.example"],
    );
    assert!(!ok && err.contains("already exists"), "{err}");

    // The appliance's certificate: any PEM certificate will do for the exchange itself.
    let appliance = rcgen_free_cert(dir.path());
    let (ok, out, err) = cm(
        &conf,
        &[
            "clientconfig",
            "addserver",
            "-n",
            "hsm1",
            "-c",
            appliance.to_str().unwrap(),
            "-a",
            "127.0.0.1:1792",
        ],
    );
    assert!(ok, "{out}{err}");
    let (ok, _, err) = cm(
        &conf,
        &[
            "clientconfig",
            "addserver",
            "-n",
            "hsm1",
            "-c",
            appliance.to_str().unwrap(),
        ],
    );
    assert!(!ok && err.contains("already configured"), "{err}");
    let (ok, out, _) = cm(&conf, &["clientconfig", "listservers"]);
    assert!(
        ok && out.contains("Server 1: hsm1 (127.0.0.1:1792)"),
        "{out}"
    );

    // The file the tools wrote is exactly what the client library reads.
    let c = strongroom_client::ClientConfig::load(&conf).expect("loads");
    assert_eq!(c.servers.len(), 1);
    c.tls_for(&c.servers[0])
        .expect("certificate, key and pin all load");

    let (ok, out, _) = cm(&conf, &["clientconfig", "deleteserver", "-n", "hsm1"]);
    assert!(ok, "{out}");
    let (_, out, _) = cm(&conf, &["clientconfig", "listservers"]);
    assert!(out.contains("No servers are configured."), "{out}");
    let (ok, _, err) = cm(&conf, &["clientconfig", "deleteserver", "-n", "hsm1"]);
    assert!(!ok && err.contains("no server named"), "{err}");
}

#[test]
fn bad_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("strongroom.toml");
    let (ok, _, err) = cm(&conf, &["clientconfig", "createcert", "-n", "../escape"]);
    assert!(!ok && err.contains("not a host name"), "{err}");
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let (ok, _, err) = cm(
        &conf,
        &[
            "clientconfig",
            "addserver",
            "-n",
            "hsm1",
            "-c",
            junk.to_str().unwrap(),
        ],
    );
    assert!(!ok && err.contains("not a PEM certificate"), "{err}");
    assert!(!conf.exists(), "nothing written on refusal");
}

/// A certificate made by the tool itself (for a second, separate configuration).
fn rcgen_free_cert(dir: &std::path::Path) -> std::path::PathBuf {
    let other = dir.join("appliance").join("strongroom.toml");
    let (ok, out, err) = cm(&other, &["clientconfig", "createcert", "-n", "hsm1"]);
    assert!(ok, "{out}{err}");
    dir.join("appliance/cert/client/hsm1.pem")
}
