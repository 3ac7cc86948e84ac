//! The NTLS commands of the appliance shell, in process (no daemon, so no listener): client
//! registration and its refusals, assignments by serial, role gating, `sysconf regenCert`,
//! `ntls bind`/`show` and the service commands' answers when no daemon serves NTLS.

mod common;

use std::os::unix::fs::PermissionsExt as _;

use common::ntls::ClientId;
use common::{Rig, Shell, assert_in_order, field};
use strongroomd::{Channel, Role};

const NO_PARTITION: &str = "80000001 : SR_RET_CONTAINER_HANDLE_INVALID";

/// An initialized appliance with partitions `p1` and `p2`; the admin's session is logged in.
fn rig() -> (Rig, Shell) {
    let (rig, mut sh) = Rig::logged_in();
    sh.ok("partition create -partition p1 -force", &[]);
    sh.ok("partition create -partition p2 -force", &[]);
    (rig, sh)
}

fn upload(rig: &Rig, file: &str, bytes: &[u8]) {
    let area = rig.admin_files();
    std::fs::create_dir_all(&area).expect("area");
    std::fs::write(area.join(file), bytes).expect("upload");
}

#[test]
fn register_list_show_and_the_reference_outputs() {
    let (rig, mut sh) = rig();
    let out = sh.ok("client list", &[]);
    assert!(out.starts_with("No clients are registered.\n"), "{out}");

    let supreme = ClientId::new("192.168.5.174");
    upload(&rig, "192.168.5.174.pem", supreme.cert_pem.as_bytes());
    let out = sh.ok("client register -client supreme -ip 192.168.5.174", &[]);
    assert!(out.starts_with("'client register' successful.\n"), "{out}");
    let other = ClientId::new("app.example.com");
    upload(&rig, "app.example.com.pem", other.cert_pem.as_bytes());
    sh.ok("c reg -c app -h app.example.com", &[]);

    let out = sh.ok("client list", &[]);
    assert!(
        out.starts_with("registered client 1: supreme\nregistered client 2: app\n"),
        "{out}"
    );
    let out = sh.ok("client show -client supreme", &[]);
    assert!(
        out.starts_with(
            "Client ID: supreme\nIPAddress: 192.168.5.174\nPartitions: (none assigned)\n"
        ),
        "{out}"
    );
    let out = sh.ok("client show -client app", &[]);
    assert_eq!(field(&out, "Hostname").as_deref(), Some("app.example.com"));

    let out = sh.ok("client assignPartition -client supreme -partition p2", &[]);
    assert!(
        out.starts_with("'client assignPartition' successful.\n"),
        "{out}"
    );
    sh.ok("client a -c supreme -p p1", &[]);
    let out = sh.ok("client show -client supreme", &[]);
    assert!(out.contains("Partitions: \"p2\" \"p1\"\n"), "{out}");
    let out = sh.ok("partition list", &[]);
    assert_in_order(
        &out,
        &["Assigned to clients:", "  p1: supreme", "  p2: supreme"],
    );
    assert_eq!(sh.partitions(), ["p1", "p2"], "the table is unchanged");

    // The fingerprint is the SHA-256 of the certificate, as openssl prints it.
    let out = sh.ok("client fingerprint -client supreme", &[]);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, supreme.cert.as_ref());
    let hex: Vec<String> = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    assert!(out.contains(&hex.join(":")), "{out}");

    // The registrations are a file of the appliance, owner-only, kept across sessions.
    let file = rig.data_dir().join("appliance").join("clients.toml");
    let mode = std::fs::metadata(&file)
        .expect("clients.toml")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let mut again = rig.admin();
    let out = again.ok("client show -client supreme", &[]);
    assert!(out.contains("Partitions: \"p2\" \"p1\""), "{out}");
}

#[test]
fn registration_refusals_change_nothing() {
    let (rig, mut sh) = rig();
    let id = ClientId::new("10.0.0.1");
    let out = sh.refused("client register -client c1 -ip 10.0.0.1");
    assert!(
        out.contains("'10.0.0.1.pem' is not in your file area"),
        "{out}"
    );
    upload(&rig, "10.0.0.1.pem", b"not a certificate");
    let out = sh.refused("client register -client c1 -ip 10.0.0.1");
    assert!(out.contains("holds no PEM certificate"), "{out}");
    upload(
        &rig,
        "10.0.0.1.pem",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    );
    let out = sh.refused("client register -client c1 -ip 10.0.0.1");
    assert!(out.contains("valid X.509"), "{out}");
    upload(&rig, "10.0.0.1.pem", id.cert_pem.as_bytes());
    for (line, why) in [
        ("client register -client c1", "give -hostname <fqdn> or -ip"),
        (
            "client register -client c1 -ip 10.0.0.1 -hostname h",
            "not both",
        ),
        (
            "client register -client c1 -ip 10.0.0.999",
            "not an IP address",
        ),
        ("client register -ip 10.0.0.1", "'-client' is required"),
        (
            "client register -client \"a\tb\" -ip 10.0.0.1",
            "not a valid client name",
        ),
        (
            "client register -client c1 -hostname bad/name",
            "not an IP address or host name",
        ),
    ] {
        let out = sh.refused(line);
        assert!(out.contains(why), "{line}: {out}");
    }
    assert!(
        sh.ok("client list", &[])
            .contains("No clients are registered.")
    );

    sh.ok("client register -client c1 -ip 10.0.0.1", &[]);
    let out = sh.refused("client register -client c1 -ip 10.0.0.1");
    assert!(
        out.contains("a client named 'c1' is already registered"),
        "{out}"
    );
    let out = sh.refused("client register -client c2 -ip 10.0.0.1");
    assert!(
        out.contains("this certificate is already registered for the client 'c1'"),
        "{out}"
    );
    let out = sh.refused("client show -client nobody");
    assert!(
        out.contains("no client named 'nobody' is registered"),
        "{out}"
    );
    sh.fails(
        "client assignPartition -client c1 -partition nosuch",
        &[],
        "client assignPartition",
        NO_PARTITION,
    );
    sh.ok("client assignPartition -client c1 -partition p1", &[]);
    let out = sh.refused("client assignPartition -client c1 -partition p1");
    assert!(out.contains("already assigned"), "{out}");
    let out = sh.refused("client assignPartition -client nobody -partition p1");
    assert!(out.contains("no client named 'nobody'"), "{out}");
}

#[test]
fn assignments_follow_the_partition_serial_and_go_with_it() {
    let (rig, mut sh) = rig();
    let id = ClientId::new("10.0.0.1");
    upload(&rig, "10.0.0.1.pem", id.cert_pem.as_bytes());
    sh.ok("client register -client c1 -ip 10.0.0.1", &[]);
    sh.ok("client assignPartition -client c1 -partition p1", &[]);
    sh.ok("client assignPartition -client c1 -partition p2", &[]);
    // A deleted partition disappears from the client; a new one of the same name is not
    // assigned (it has a new serial).
    sh.ok("partition delete -partition p1 -force", &[]);
    let out = sh.ok("client show -client c1", &[]);
    assert!(out.contains("Partitions: \"p2\"\n"), "{out}");
    sh.ok("partition create -partition p1 -force", &[]);
    let out = sh.ok("client show -client c1", &[]);
    assert!(out.contains("Partitions: \"p2\"\n"), "{out}");
    let out = sh.ok("client revokePartition -client c1 -partition p2", &[]);
    assert!(
        out.starts_with("'client revokePartition' successful.\n"),
        "{out}"
    );
    let out = sh.ok("client show -client c1", &[]);
    assert!(out.contains("Partitions: (none assigned)"), "{out}");
    let text = std::fs::read_to_string(rig.data_dir().join("appliance/clients.toml"))
        .expect("clients.toml");
    assert!(text.contains("partitions = []"), "{text}");
}

#[test]
fn delete_asks_first_and_quit_keeps_the_client() {
    let (rig, mut sh) = rig();
    let id = ClientId::new("10.0.0.1");
    upload(&rig, "10.0.0.1.pem", id.cert_pem.as_bytes());
    sh.ok("client register -client c1 -ip 10.0.0.1", &[]);
    let out = sh.ok("client delete -client c1", &["quit"]);
    assert_in_order(
        &out,
        &[
            "WARNING: This deletes the registration of the client 'c1'",
            "type 'proceed'",
            "Command aborted: nothing was changed.",
        ],
    );
    assert!(
        sh.ok("client list", &[])
            .contains("registered client 1: c1")
    );
    let out = sh.ok("client delete -client c1", &["proceed"]);
    assert!(out.contains("'client delete' successful."), "{out}");
    assert!(!out.contains("Closed"), "no daemon, no connections:\n{out}");
    assert!(
        sh.ok("client list", &[])
            .contains("No clients are registered.")
    );
    let out = sh.refused("client delete -client c1 -force");
    assert!(out.contains("no client named 'c1'"), "{out}");
}

#[test]
fn operators_and_monitors_may_list_and_show_only() {
    let (rig, mut admin) = rig();
    let id = ClientId::new("10.0.0.1");
    upload(&rig, "10.0.0.1.pem", id.cert_pem.as_bytes());
    admin.ok("client register -client c1 -ip 10.0.0.1", &[]);
    for role in [Role::Operator, Role::Monitor] {
        let mut sh = rig.session("someone", role, Channel::Remote);
        sh.ok("client list", &[]);
        sh.ok("client show -client c1", &[]);
        sh.ok("client fingerprint -client c1", &[]);
        sh.ok("ntls show", &[]);
        for line in [
            "client register -client c2 -ip 10.0.0.1",
            "client assignPartition -client c1 -partition p1",
            "client revokePartition -client c1 -partition p1",
            "client delete -client c1 -force",
            "ntls bind none -bind 127.0.0.1 -force",
            "sysconf regenCert -force",
        ] {
            let out = sh.refused(line);
            assert!(
                out.contains("is not a valid command"),
                "{role:?} {line}: {out}"
            );
        }
    }
    let mut audit = rig.session("aud", Role::Audit, Channel::Remote);
    audit.refused("client list");
}

#[test]
fn regencert_makes_a_new_identity_for_the_name_given_or_the_host() {
    let (rig, mut sh) = rig();
    let out = sh.ok("sysconf regenCert 192.0.2.7", &["quit"]);
    assert!(
        out.contains("Command aborted: nothing was changed."),
        "{out}"
    );
    assert!(!rig.data_dir().join("ntls").exists());

    let out = sh.ok("sysconf regencert 192.0.2.7", &["proceed"]);
    assert_in_order(
        &out,
        &[
            "WARNING!! This command will overwrite the current server certificate and private key.",
            "All clients will have to add this server again with this new certificate.",
            "If you are sure that you wish to proceed",
            "Proceeding...",
            "'sysconf regenCert' successful. NTLS must be (re)started before clients can connect.",
            "Please use the 'ntls show' command to ensure that NTLS is bound",
            "The new certificate is issued to 192.0.2.7",
        ],
    );
    let key = rig.data_dir().join("ntls/server.key");
    let mode = std::fs::metadata(&key).expect("key").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let ours = std::fs::read(rig.data_dir().join("ntls/server.pem")).expect("cert");
    let exported = std::fs::read(rig.admin_files().join("server.pem")).expect("exported");
    assert_eq!(ours, exported);
    let out = sh.ok("sysconf fingerprint ntls", &[]);
    assert!(out.contains("issued to 192.0.2.7"), "{out}");
    let out = sh.ok("ntls show", &[]);
    assert!(
        out.contains("Server certificate: issued to 192.0.2.7"),
        "{out}"
    );

    // Without a name: the recorded host name with its domain.
    sh.ok("network hostname hsm7", &[]);
    sh.ok("network domain example.com", &[]);
    let out = sh.ok("sysconf regenCert -force", &[]);
    assert!(out.contains("issued to hsm7.example.com"), "{out}");
    assert_ne!(
        std::fs::read(rig.admin_files().join("server.pem")).expect("exported"),
        exported
    );
    let out = sh.refused("sysconf regenCert bad!name -force");
    assert!(out.contains("not an IP address or host name"), "{out}");
}

#[test]
fn ntls_bind_records_the_address_and_service_commands_need_the_daemon() {
    let (_rig, mut sh) = rig();
    let out = sh.ok("ntls show", &[]);
    assert!(
        out.starts_with("NTLS bound to network device: all IP Address: \"0.0.0.0\" (port 1792)\n"),
        "{out}"
    );
    assert!(
        out.contains("NTLS service: not running (no appliance daemon runs)"),
        "{out}"
    );
    let out = sh.ok("ntls bind none -bind 192.0.2.7", &[]);
    assert_in_order(
        &out,
        &[
            "Success: NTLS binding hostname or IP Address 192.0.2.7 set.",
            "NOTICE: The NTLS service must be restarted for new settings to take effect.",
            "NTLS is not served by this process",
        ],
    );
    let out = sh.ok("ntls show", &[]);
    assert!(
        out.starts_with("NTLS bound to network device: none IP Address: \"192.0.2.7\" (port 1792)"),
        "{out}"
    );
    // A device takes its recorded static address.
    let out = sh.refused("ntls bind eth1");
    assert!(
        out.contains("no static address is recorded for eth1"),
        "{out}"
    );
    sh.ok(
        "network interface -device eth1 -static -ip 192.0.2.9 -netmask 255.255.255.0 -force",
        &[],
    );
    sh.ok("ntls bind eth1", &[]);
    let out = sh.ok("ntls show", &[]);
    assert!(
        out.starts_with("NTLS bound to network device: eth1 IP Address: \"192.0.2.9\""),
        "{out}"
    );
    sh.refused("ntls bind none");
    sh.refused("ntls bind all -bind 192.0.2.7");
    sh.refused("ntls bind none -bind bad!host");
    let out = sh.ok("ntls bind all", &[]);
    assert!(out.contains("Success: NTLS binding removed"), "{out}");
    let out = sh.ok("ntls show", &[]);
    assert!(
        out.starts_with("NTLS bound to network device: all"),
        "{out}"
    );

    let out = sh.ok("service status ntls", &[]);
    assert!(
        out.contains("ntls is not running (no appliance daemon runs)"),
        "{out}"
    );
    for line in [
        "service restart ntls",
        "service stop ntls",
        "service start ntls",
    ] {
        let out = sh.refused(line);
        assert!(
            out.contains("NTLS runs in the appliance daemon"),
            "{line}: {out}"
        );
    }
    // factoryReset of the ntls service clears the binding.
    sh.ok("ntls bind none -bind 192.0.2.7", &[]);
    let out = sh.ok("sysconf config factoryReset -service ntls -force", &[]);
    assert!(out.contains("ntls : succeeded"), "{out}");
    let out = sh.ok("ntls show", &[]);
    assert!(out.contains("IP Address: \"0.0.0.0\""), "{out}");
}
