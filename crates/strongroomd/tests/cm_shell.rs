//! The client manager's shell against a real appliance, as in the reference's client session:
//! the slot list, `slot set`, `par init` with its prompts and confirmation, `role login -name
//! Partition SO`, `role init -name Crypto Officer`, the Crypto Officer's first-login password
//! change, `role init -name Crypto User`, `role list`, `par showinfo`, partition policies,
//! `verify`; and what is refused (a wrong password, a role its parent did not create, an
//! unknown slot, a `quit` at the confirmation, which changes nothing).

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::ntls::{ClientId, NtlsAppliance, PARTITION};

/// The client manager, built for this test's profile.
fn client_manager() -> PathBuf {
    common::artifact::built("strongroom-cm", "strongroom-cm")
}

/// An appliance with a registered client assigned the (uninitialized) partition, and that
/// client's configuration file.
fn setup() -> (NtlsAppliance, PathBuf) {
    let app = NtlsAppliance::start();
    let id = ClientId::new("127.0.0.1");
    app.register("cm-client", "127.0.0.1", &id);
    let out = app.console(&format!(
        "client assignPartition -client cm-client -partition {PARTITION}"
    ));
    assert!(out.contains("successful"), "{out}");
    let dir = app.tmp.path().join("client");
    std::fs::create_dir_all(&dir).expect("client dir");
    std::fs::write(dir.join("client.pem"), &id.cert_pem).expect("cert");
    std::fs::write(dir.join("clientKey.pem"), &id.key_pem).expect("key");
    let server = pem_of(&app);
    std::fs::write(dir.join("server.pem"), server).expect("server cert");
    let conf = dir.join("strongroom.toml");
    std::fs::write(
        &conf,
        format!(
            "[client]\ncertificate = \"client.pem\"\nprivate_key = \"clientKey.pem\"\n\n\
             [[server]]\nname = \"127.0.0.1\"\naddress = \"{}\"\ncertificate = \"server.pem\"\n",
            app.addr()
        ),
    )
    .expect("client config");
    (app, conf)
}

fn pem_of(app: &NtlsAppliance) -> String {
    std::fs::read_to_string(app.admin_files().join("server.pem")).expect("server.pem")
}

/// Runs the shell with `input` on its standard input; returns its output and exit status.
fn shell(conf: &Path, input: &str) -> (String, bool) {
    let mut child = Command::new(client_manager())
        .arg("--conf")
        .arg(conf)
        .env_remove("STRONGROOM_CONF")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("strongroom-cm runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("input written");
    let out = child.wait_with_output().expect("strongroom-cm ends");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (text, out.status.success())
}

/// The output of the command typed as `cmd` (up to the next prompt).
fn section<'a>(out: &'a str, cmd: &str) -> &'a str {
    let start = out
        .find(&format!("strongroom-cm:> {cmd}\n"))
        .unwrap_or_else(|| panic!("no '{cmd}' in:\n{out}"));
    let rest = &out[start..];
    let end = rest[1..]
        .find("strongroom-cm:> ")
        .map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

#[test]
fn the_reference_client_session_initializes_the_partition_and_its_roles() {
    let (app, conf) = setup();
    let pso = "Pso-Secret-11";
    let script = format!(
        "role list\n\
         par init -label CmToken\n{pso}\n{pso}\nproceed\ntestme.com\ntestme.com\n\
         role login -name Partition SO\nWrong-Password-1\n\
         role login -name Partition SO\n{pso}\n\
         par showinfo\n\
         role init -name Crypto User\nCu-First-111\nCu-First-111\n\
         role init -name Crypto Officer\nCo-First-111\nCo-First-111\n\
         role logout\n\
         role login -name Crypto Officer\nCo-First-111\n\
         role changepw -name Crypto Officer\nCo-First-111\nCo-Second-22\nCo-Second-22\n\
         role init -name Crypto User\nCu-First-111\nCu-First-111\n\
         role list\n\
         slot set -slot 9\n\
         verify\n\
         exit\n"
    );
    let (out, ok) = shell(&conf, &script);
    assert!(!ok, "the refused commands make the run fail:\n{out}");
    // The banner lists the one assigned partition and makes it the current slot.
    assert!(out.contains("Slot Id ->              0"), "{out}");
    assert!(out.contains("Current Slot Id: 0"), "{out}");
    // An uninitialized partition has no roles yet.
    assert!(
        section(&out, "role list").contains("Partition SO             po        not initialized"),
        "{out}"
    );
    let init = section(&out, "par init -label CmToken");
    assert!(init.contains("Enter password for Partition SO:"), "{init}");
    assert!(
        init.contains("Type 'proceed' to continue, or 'quit' to quit now ->"),
        "{init}"
    );
    assert!(
        init.contains("Neither option -domain nor -defaultdomain was specified. One is required."),
        "{init}"
    );
    assert!(init.contains("Command Result : No Error"), "{init}");
    assert!(!out.contains(pso), "passwords are never echoed:\n{out}");
    let login = out
        .split("strongroom-cm:> role login -name Partition SO\n")
        .nth(1)
        .expect("first login");
    assert!(login.contains("CKR_PIN_INCORRECT"), "{login}");
    let info = section(&out, "par showinfo");
    assert!(info.contains("Partition Label -> CmToken"), "{info}");
    assert!(info.contains("CKF_TOKEN_INITIALIZED"), "{info}");
    assert!(
        info.contains("Session State -> CKS_RW_SO_FUNCTIONS"),
        "{info}"
    );
    assert!(
        info.contains("Role Status -> Partition SO logged in"),
        "{info}"
    );
    // Only the Crypto Officer creates the Crypto User.
    let refused = out
        .split("strongroom-cm:> role init -name Crypto User\n")
        .nth(1)
        .expect("first Crypto User init");
    let refused = &refused[..refused.find("strongroom-cm:> ").unwrap_or(refused.len())];
    assert!(!refused.contains("Command Result : No Error"), "{refused}");
    assert!(
        section(&out, "role changepw -name Crypto Officer").contains("No Error"),
        "{out}"
    );
    let roles = out
        .rsplit("strongroom-cm:> role list\n")
        .next()
        .expect("last role list");
    assert!(
        roles.contains("Crypto Officer           co        initialized"),
        "{roles}"
    );
    assert!(
        roles.contains("Crypto User              cu        password must be changed"),
        "{roles}"
    );
    assert!(
        section(&out, "slot set -slot 9").contains("CKR_SLOT_ID_INVALID"),
        "{out}"
    );
    let verify = section(&out, "verify");
    assert!(
        verify.contains("The following Strongroom partitions were found:"),
        "{verify}"
    );
    assert!(verify.contains("CmToken"), "{verify}");

    // A new client process finds the partition initialized with that label, the Crypto
    // Officer's password changed and the Crypto User waiting for its first login.
    let (again, ok) = shell(&conf, "par showinfo\nrole list\nexit\n");
    assert!(ok, "{again}");
    let info = section(&again, "par showinfo");
    assert!(info.contains("Partition Label -> CmToken"), "{info}");
    assert!(info.contains("CKF_TOKEN_INITIALIZED"), "{info}");
    assert!(info.contains("CKF_USER_PIN_INITIALIZED"), "{info}");
    assert!(
        section(&again, "role list")
            .contains("Crypto User              cu        password must be changed"),
        "{again}"
    );
    drop(app);
}

#[test]
fn quitting_the_confirmation_changes_nothing_and_policies_need_the_partition_so() {
    let (_app, conf) = setup();
    let (out, ok) = shell(
        &conf,
        "par init -label Never -password Pso-Secret-11 -defaultdomain\nquit\npar showinfo\nexit\n",
    );
    assert!(!ok);
    assert!(!out.contains("Pso-Secret-11"), "{out}");
    assert!(
        section(
            &out,
            "par init -label Never -password ******** -defaultdomain"
        )
        .contains("Command Result : User Abort"),
        "{out}"
    );
    assert!(
        !section(&out, "par showinfo").contains("CKF_TOKEN_INITIALIZED"),
        "{out}"
    );

    let (out, ok) = shell(
        &conf,
        "par init -label Pol -password Pso-Secret-11 -defaultdomain -force\n\
         par changepolicy -policy 26 -value 64 -force\n\
         role login -name po -password Pso-Secret-11\n\
         par changepolicy -policy 26 -value 64 -force\n\
         par showpolicies\nexit\n",
    );
    assert!(!ok, "the first change is refused:\n{out}");
    let first = out
        .split("strongroom-cm:> par changepolicy -policy 26 -value 64 -force\n")
        .nth(1)
        .expect("first change");
    let first = &first[..first.find("strongroom-cm:> ").unwrap_or(first.len())];
    assert!(!first.contains("No Error"), "{first}");
    let second = out
        .rsplit("strongroom-cm:> par changepolicy -policy 26 -value 64 -force\n")
        .next()
        .expect("second change");
    assert!(
        second.contains("Policy 26 changed from 255 to 64."),
        "{second}"
    );
    let policies = section(&out, "par showpolicies");
    assert!(
        policies
            .lines()
            .any(|l| l.starts_with("Maximum pin length") && l.contains(" 64 ")),
        "{policies}"
    );
}

#[test]
fn one_shot_commands_for_scripts() {
    let (_app, conf) = setup();
    let out = Command::new(client_manager())
        .arg("--conf")
        .arg(&conf)
        .arg("verify")
        .output()
        .expect("strongroom-cm runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Command Result : No Error"), "{text}");
    let out = Command::new(client_manager())
        .arg("--conf")
        .arg(&conf)
        .args(["run", "role", "list"])
        .output()
        .expect("strongroom-cm runs");
    assert!(out.status.success(), "{out:?}");
    let out = Command::new(client_manager())
        .arg("--conf")
        .arg(&conf)
        .args([
            "run",
            "role",
            "login",
            "-name",
            "po",
            "-password",
            "Not-It-1234",
        ])
        .output()
        .expect("strongroom-cm runs");
    assert!(!out.status.success(), "a failed command fails the process");
}
