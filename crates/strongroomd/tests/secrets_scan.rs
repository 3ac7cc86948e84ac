//! Secrets hygiene: a realistic session against a real `strongroomd run` (the HSM SO, the
//! partition roles, appliance users over SSH, wrong guesses of each, and an AES key imported
//! as a sensitive `CKA_VALUE`), then a scan of everything the appliance produced: its standard
//! output and error (the log), every file under its data directory byte for byte (the store
//! is sealed, so nothing may appear in clear), the console and SSH transcripts and the
//! answers and error messages the clients got. No password, PIN, domain string or key byte
//! may appear anywhere; the key also not as hex or base64. Passwords are typed both at the
//! console's prompts and as `-password` options of a piped console, whose echo of the command
//! line masks them.

mod common;
mod p11wire;

use std::path::Path;
use std::sync::Arc;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use common::ntls::{ClientId, NtlsAppliance, PARTITION, load_cert};
use common::process::console;
use common::ssh::{ADMIN_PW, Auth, SshAppliance, available, text};
use common::{DOMAIN, SO_PW};
use p11wire::*;
use strongroom_client::Connection;
use strongroom_module::{Attribute, GcmParams, Mechanism};
use strongroom_proto::messages as m;

/// A wrong HSM SO password tried on the console.
const WRONG_SO: &str = "Wrong-So-Pass9";
/// A wrong Crypto Officer password tried over NTLS.
const WRONG_CO: &str = "Wrong-Co-Pin77";
const CU_PIN: &str = "Cu-Secret-Pin7";
const CU_CHANGED: &str = "Cu-Secret-Pin8";
/// Appliance user passwords.
const OPS_FIRST: &str = "Ops-First-Pass1";
const OPS_PW: &str = "Ops-Secret-Pw22";
const WRONG_ADMIN: &str = "Not-The-Admin-Pw9";
/// Stored in a token object: must be sealed on disk (it may be shown to its owner).
const AT_REST: &str = "data-object-value-never-on-disk-7f3a";
const AT_REST_LABEL: &str = "label-sealed-on-disk-91c2";

/// One secret and where it must not appear.
struct Secret {
    what: &'static str,
    bytes: Vec<u8>,
    /// Only the files on disk are checked (the value may legitimately travel to its owner).
    at_rest_only: bool,
}

fn secret(what: &'static str, value: &str) -> Secret {
    Secret {
        what,
        bytes: value.as_bytes().to_vec(),
        at_rest_only: false,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(
                    T[usize::try_from((n >> (18 - 6 * i)) & 63).expect("six bits")],
                ));
            }
        }
    }
    out
}

/// The forms a secret may take in text: itself, and for binary values hex and base64 (a
/// 16-byte window of each, so that a partial dump is caught too).
fn forms(s: &Secret) -> Vec<Vec<u8>> {
    let mut out = vec![s.bytes.clone()];
    if std::str::from_utf8(&s.bytes).is_err() {
        let h = hex(&s.bytes);
        out.push(h.as_bytes().to_vec());
        out.push(h.to_uppercase().into_bytes());
        out.push(h.as_bytes()[..32].to_vec());
        out.push(base64(&s.bytes).into_bytes());
        out.push(base64(&s.bytes[..18]).into_bytes());
        out.push(s.bytes[..16].to_vec());
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// What the scan found, and how much it read.
#[derive(Default)]
struct Scan {
    findings: Vec<String>,
    texts: usize,
    files: usize,
    bytes: usize,
}

impl Scan {
    fn text(&mut self, source: &str, content: &[u8], secrets: &[Secret]) {
        self.texts += 1;
        self.bytes += content.len();
        for s in secrets.iter().filter(|s| !s.at_rest_only) {
            if forms(s).iter().any(|f| contains(content, f)) {
                self.findings.push(format!("{} in {source}", s.what));
            }
        }
    }

    /// Every file under `dir`, raw bytes, for every secret.
    fn files(&mut self, dir: &Path, secrets: &[Secret]) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let entry = entry.expect("entry");
            let kind = entry.file_type().expect("file type");
            let path = entry.path();
            if kind.is_dir() {
                self.files(&path, secrets);
            } else if kind.is_file() {
                let Ok(content) = std::fs::read(&path) else {
                    // A socket or a file removed meanwhile.
                    continue;
                };
                self.files += 1;
                self.bytes += content.len();
                for s in secrets {
                    if forms(s).iter().any(|f| contains(&content, f)) {
                        self.findings
                            .push(format!("{} in the file {}", s.what, path.display()));
                    }
                }
            }
        }
    }
}

/// A recorded exchange: every answer payload and every error message a client got.
#[derive(Default)]
struct Answers(Vec<Vec<u8>>);

impl Answers {
    fn call<Q: m::Message, A: m::Message>(&mut self, conn: &Connection, req: &Q) -> Result<A, u32> {
        match conn.call(Q::OPCODE, &m::encode(req)) {
            Ok(frame) => {
                self.0.push(frame.payload.clone());
                if frame.opcode == m::OP_ERROR {
                    let e: m::ErrorResponse = m::decode(&frame.payload).expect("error");
                    self.0.push(
                        format!("{:?}", strongroom_proto::RetCode::from_u32(e.code)).into_bytes(),
                    );
                    return Err(e.code);
                }
                Ok(m::decode(&frame.payload).expect("answer"))
            }
            Err(err) => {
                self.0.push(format!("{err} {err:?}").into_bytes());
                panic!("transport: {err}");
            }
        }
    }
}

/// The partition-side session: the token prepared, a wrong Crypto Officer guess, a Crypto
/// User, an AES key imported with a known value (checked to work), a data object. Returns the
/// key value.
fn partition_session(conn: &Connection, answers: &mut Answers) -> [u8; 32] {
    let serial = only_slot(conn);
    let s = prepare_token(conn, serial);
    let _: m::RoleInitResponse = answers
        .call(
            conn,
            &m::RoleInitRequest {
                session: s,
                user_type: CKU_CRYPTO_USER,
                pin: CU_PIN.as_bytes().to_vec(),
            },
        )
        .expect("CU init");
    logout(conn, s);
    let refused = answers
        .call::<_, m::LoginResponse>(
            conn,
            &m::LoginRequest {
                session: s,
                user_type: CKU_USER,
                pin: WRONG_CO.as_bytes().to_vec(),
            },
        )
        .expect_err("wrong PIN");
    assert_eq!(name(refused), "SR_RET_UM_PIN_INCORRECT");
    login(conn, s, CKU_CRYPTO_USER, CU_PIN).expect("CU");
    set_pin(conn, s, CU_PIN, CU_CHANGED).expect("CU change");
    logout(conn, s);
    login(conn, s, CKU_USER, CO_PIN).expect("CO");

    let mut key = [0u8; 32];
    aws_lc_rs::rand::fill(&mut key).expect("random");
    let created: m::CreateObjectResponse = answers
        .call(
            conn,
            &m::CreateObjectRequest {
                session: s,
                template: template(vec![
                    Attribute::from_ulong(CKA_CLASS, CKO_SECRET_KEY),
                    Attribute::from_ulong(CKA_KEY_TYPE, CKK_AES),
                    Attribute::from_bool(CKA_TOKEN, true),
                    Attribute::from_bool(CKA_SENSITIVE, true),
                    Attribute::from_bool(CKA_ENCRYPT, true),
                    Attribute::new(CKA_LABEL, b"imported".to_vec()),
                    Attribute::new(CKA_VALUE, key.to_vec()),
                ]),
            },
        )
        .expect("import the key");
    let values: m::GetAttributeValueResponse = match answers.call(
        conn,
        &m::GetAttributeValueRequest {
            session: s,
            object: created.object,
            types: vec![CKA_VALUE, CKA_LABEL],
        },
    ) {
        Ok(v) => v,
        Err(c) => panic!("GetAttributeValue: {}", name(c)),
    };
    assert_eq!(values.values[0], m::AttrValue::Sensitive);
    // The key is the one given: AES-GCM matches the answer computed here.
    let mech = Mechanism::AesGcm(GcmParams {
        iv: vec![9; 12],
        iv_bits: 96,
        aad: Vec::new(),
        tag_bits: 128,
    });
    let _: m::EncryptInitResponse = answers
        .call(
            conn,
            &m::EncryptInitRequest {
                session: s,
                mechanism: m::MechanismSpec {
                    mechanism: mech.ckm(),
                    params: mech.encode_params(),
                },
                key: created.object,
            },
        )
        .expect("encrypt init");
    let c: m::EncryptResponse = answers
        .call(
            conn,
            &m::EncryptRequest {
                session: s,
                data: b"known plaintext".to_vec(),
                capacity: Some(64),
            },
        )
        .expect("encrypt");
    let local = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key).expect("key"));
    let mut expected = b"known plaintext".to_vec();
    local
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key([9; 12]),
            Aad::empty(),
            &mut expected,
        )
        .expect("seal");
    assert_eq!(
        data(c.output),
        expected,
        "the imported key is not the one given"
    );
    // Wrong uses of the key: their error answers carry nothing of it.
    let _ = answers.call::<_, m::GetAttributeValueResponse>(
        conn,
        &m::GetAttributeValueRequest {
            session: s,
            object: created.object,
            types: vec![CKA_VALUE],
        },
    );
    let _ = answers.call::<_, m::WrapKeyResponse>(
        conn,
        &m::WrapKeyRequest {
            session: s,
            mechanism: plain(0x2109),
            wrapping_key: created.object,
            key: created.object,
            capacity: None,
        },
    );
    let _: m::CreateObjectResponse = answers
        .call(
            conn,
            &m::CreateObjectRequest {
                session: s,
                template: template(vec![
                    Attribute::from_ulong(CKA_CLASS, CKO_DATA),
                    Attribute::from_bool(CKA_TOKEN, true),
                    Attribute::new(CKA_LABEL, AT_REST_LABEL.as_bytes().to_vec()),
                    Attribute::new(CKA_VALUE, AT_REST.as_bytes().to_vec()),
                ]),
            },
        )
        .expect("data object");
    key
}

fn all_secrets(key: &[u8; 32], extra: &[(&'static str, &str)]) -> Vec<Secret> {
    let mut out = vec![
        secret("the HSM SO password", SO_PW),
        secret("a wrong HSM SO password", WRONG_SO),
        secret("the HSM domain string", DOMAIN),
        secret("the Partition SO password", PSO_PIN),
        secret("the Crypto Officer's first password", CO_INITIAL),
        secret("the Crypto Officer's password", CO_PIN),
        secret("a wrong Crypto Officer password", WRONG_CO),
        secret("the Crypto User's first password", CU_PIN),
        secret("the Crypto User's password", CU_CHANGED),
        Secret {
            what: "the imported AES key",
            bytes: key.to_vec(),
            at_rest_only: false,
        },
        Secret {
            what: "a data object's value",
            bytes: AT_REST.as_bytes().to_vec(),
            at_rest_only: true,
        },
        Secret {
            what: "a data object's label",
            bytes: AT_REST_LABEL.as_bytes().to_vec(),
            at_rest_only: true,
        },
    ];
    out.extend(extra.iter().map(|(w, v)| secret(w, v)));
    out
}

fn report(scan: &Scan, what: &str) {
    println!(
        "secrets_scan: {what}: {} texts and {} files scanned ({} bytes), {} finding(s)",
        scan.texts,
        scan.files,
        scan.bytes,
        scan.findings.len()
    );
    assert!(
        scan.findings.is_empty(),
        "secrets found:\n{}",
        scan.findings.join("\n")
    );
    assert!(scan.files > 0 && scan.bytes > 0, "nothing was scanned");
}

#[test]
fn no_secret_of_a_session_over_ssh_ntls_and_the_console_is_in_logs_files_or_answers() {
    if !available() {
        eprintln!("skipped: the OpenSSH client (ssh, scp, sftp, ssh-keygen) is not installed");
        return;
    }
    let mut app = SshAppliance::start_with_ntls();
    let mut transcripts: Vec<(String, String)> = Vec::new();
    // The HSM SO: a wrong password, then the right one; a partition for the client.
    let (_, out, err) = console(
        &app.data,
        &format!(
            "hsm login\n{WRONG_SO}\nhsm login -p {SO_PW}\nhsm logout\nhsm login\n{SO_PW}\n\
             partition create -partition {PARTITION} -force\nexit\n"
        ),
    );
    assert!(out.contains("'partition create' successful."), "{out}");
    transcripts.push(("the console".into(), format!("{out}{err}")));
    // Appliance users over SSH: admin's forced change, a new operator, a wrong guess.
    transcripts.push((
        "admin's first login".into(),
        app.first_login("admin", "PASSWORD", ADMIN_PW),
    ));
    let admin = Auth::Password(ADMIN_PW.to_owned());
    transcripts.push((
        "user add".into(),
        app.exec_ok(
            "admin",
            &admin,
            &format!("user add -username ops1 -role operator -password {OPS_FIRST}"),
        ),
    ));
    transcripts.push((
        "ops1's first login".into(),
        app.first_login("ops1", OPS_FIRST, OPS_PW),
    ));
    let wrong = app.exec("admin", &Auth::Password(WRONG_ADMIN.to_owned()), "hsm show");
    assert_eq!(wrong.status.code(), Some(255));
    transcripts.push(("a refused SSH login".into(), text(&wrong)));
    transcripts.push((
        "SSH hsm show".into(),
        app.exec_ok("ops1", &Auth::Password(OPS_PW.to_owned()), "hsm show"),
    ));
    // A registered client over NTLS.
    let id = ClientId::new("127.0.0.1");
    let files = app.files("admin");
    std::fs::write(files.join("127.0.0.1.pem"), &id.cert_pem).expect("upload");
    let (_, out, err) = console(
        &app.data,
        &format!(
            "client register -client c1 -ip 127.0.0.1\n\
             client assignPartition -client c1 -partition {PARTITION}\nexit\n"
        ),
    );
    assert!(
        out.contains("'client assignPartition' successful."),
        "{out}"
    );
    transcripts.push(("the console (clients)".into(), format!("{out}{err}")));
    let server = load_cert(&files.join("server.pem"));
    let conn: Arc<Connection> = Connection::connect(
        &format!("127.0.0.1:{}", app.ntls_port.expect("NTLS")),
        "127.0.0.1",
        id.tls(&server),
        timeouts(),
    )
    .expect("connect");
    let mut answers = Answers::default();
    let key = partition_session(&conn, &mut answers);
    drop(conn);

    let secrets = all_secrets(
        &key,
        &[
            ("admin's appliance password", ADMIN_PW),
            ("ops1's first appliance password", OPS_FIRST),
            ("ops1's appliance password", OPS_PW),
            ("a wrong appliance password", WRONG_ADMIN),
        ],
    );
    let mut scan = Scan::default();
    // While it runs, then after it stopped (what it flushed on the way out).
    scan.files(&app.data, &secrets);
    assert!(app.daemon.terminate().success());
    let (stdout, stderr) = app.daemon.output_after_exit();
    assert!(
        stderr.contains("NTLS client connected"),
        "the log is not being scanned"
    );
    scan.text("the daemon's standard output", stdout.as_bytes(), &secrets);
    scan.text(
        "the daemon's log (standard error)",
        stderr.as_bytes(),
        &secrets,
    );
    scan.files(&app.data, &secrets);
    for (what, t) in &transcripts {
        scan.text(what, t.as_bytes(), &secrets);
    }
    for (i, a) in answers.0.iter().enumerate() {
        scan.text(&format!("NTLS answer {i}"), a, &secrets);
    }
    report(&scan, "SSH, NTLS and console session");
}

#[test]
fn no_secret_is_logged_at_the_trace_level() {
    let mut app = NtlsAppliance::start_with("\n[log]\nlevel = \"trace\"\nformat = \"text\"\n");
    let (_, out, err) = console(
        &app.data,
        &format!("hsm login\n{WRONG_SO}\nhsm login\n{SO_PW}\nhsm show\nexit\n"),
    );
    let console_text = format!("{out}{err}");
    let id = ClientId::new("127.0.0.1");
    register_with(&app, "c1", &id, PARTITION);
    let conn = connect(&app, &id);
    let mut answers = Answers::default();
    let key = partition_session(&conn, &mut answers);
    drop(conn);
    let secrets = all_secrets(&key, &[]);
    let mut scan = Scan::default();
    assert!(app.daemon.terminate().success());
    let (stdout, stderr) = app.daemon.output_after_exit();
    assert!(
        stderr.contains("TRACE") || stderr.contains("DEBUG"),
        "the daemon did not log at the trace level:\n{}",
        &stderr[..stderr.len().min(2000)]
    );
    scan.text("the daemon's standard output", stdout.as_bytes(), &secrets);
    scan.text("the daemon's trace log", stderr.as_bytes(), &secrets);
    scan.text("the console", console_text.as_bytes(), &secrets);
    scan.files(&app.data, &secrets);
    for (i, a) in answers.0.iter().enumerate() {
        scan.text(&format!("NTLS answer {i}"), a, &secrets);
    }
    report(&scan, "trace-level NTLS session");
}
