//! Real PKCS#11 applications against `libstrongroom_pkcs11.so` and a real development
//! appliance (`strongroomd dev`), as an administrator would meet them: OpenSC `pkcs11-tool`
//! (listing, key generation, signing, its own `--test` suite), GnuTLS `p11tool`, OpenSSL
//! through the libp11 engine (a CSR and a self-signed certificate verified by plain OpenSSL),
//! Java's `keytool` (the token's key and certificate) and SunPKCS11 provider, and OpenSSH's
//! `ssh-keygen -D`. The tools come from Debian (the test command installs them); a missing
//! tool fails the test.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::process::Proc;
use strongroomd::DevCredentials;

/// The PKCS#11 library, built for this test's profile.
fn library() -> PathBuf {
    common::artifact::built("strongroom-pkcs11", "libstrongroom_pkcs11.so")
}

fn tool(name: &str) -> Command {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "{name} is not installed (./test.sh installs opensc, gnutls-bin, \
         libengine-pkcs11-openssl, openssh-client and a JDK)"
    );
    Command::new(name)
}

fn ok(out: Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    stdout + &stderr
}

/// A running development appliance and its client configuration.
struct Dev {
    _tmp: tempfile::TempDir,
    _daemon: Proc,
    creds: DevCredentials,
}

impl Dev {
    fn start() -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("appliance");
        let mut daemon = Proc::dev(&dir);
        daemon.wait_for("NTLS service listening", Duration::from_secs(10));
        let text =
            std::fs::read_to_string(strongroomd::credentials_path(&dir)).expect("credentials file");
        let creds: DevCredentials = toml::from_str(&text).expect("credentials parse");
        Self {
            _tmp: tmp,
            _daemon: daemon,
            creds,
        }
    }

    fn pin(&self) -> &str {
        &self.creds.crypto_officer_password
    }

    /// A command with `STRONGROOM_CONF` pointing at the development client.
    fn run(&self, name: &str) -> Command {
        let mut c = tool(name);
        c.env("STRONGROOM_CONF", &self.creds.client_config);
        c
    }

    fn pkcs11_tool(&self, args: &[&str]) -> String {
        let out = self
            .run("pkcs11-tool")
            .arg("--module")
            .arg(library())
            .args(args)
            .output()
            .expect("pkcs11-tool runs");
        ok(out, &format!("pkcs11-tool {args:?}"))
    }

    fn dir(&self) -> &Path {
        self._tmp.path()
    }
}

#[test]
fn opensc_pkcs11_tool_lists_generates_signs_and_passes_its_test_suite() {
    let dev = Dev::start();
    let out = dev.pkcs11_tool(&["--list-slots"]);
    assert!(out.contains("token label        : dev"), "{out}");
    assert!(
        out.contains(&format!(
            "serial num         : {}",
            dev.creds.partition_serial
        )),
        "{out}"
    );
    assert!(out.contains("token initialized"), "{out}");

    let pin = dev.pin();
    dev.pkcs11_tool(&[
        "--login",
        "--pin",
        pin,
        "--keypairgen",
        "--key-type",
        "EC:prime256v1",
        "--label",
        "ec1",
        "--id",
        "01",
    ]);
    dev.pkcs11_tool(&[
        "--login",
        "--pin",
        pin,
        "--keypairgen",
        "--key-type",
        "rsa:2048",
        "--label",
        "rsa1",
        "--id",
        "02",
    ]);
    let objects = dev.pkcs11_tool(&["--login", "--pin", pin, "--list-objects"]);
    assert!(objects.contains("label:      ec1"), "{objects}");
    assert!(objects.contains("label:      rsa1"), "{objects}");

    // A signature made in the appliance verifies with plain OpenSSL and the exported key.
    let msg = dev.dir().join("msg");
    std::fs::write(&msg, b"signed by pkcs11-tool").expect("msg");
    let sig = dev.dir().join("msg.sig");
    let public = dev.dir().join("rsa1.der");
    dev.pkcs11_tool(&[
        "--login",
        "--pin",
        pin,
        "--sign",
        "--mechanism",
        "SHA256-RSA-PKCS",
        "--id",
        "02",
        "--input-file",
        msg.to_str().expect("path"),
        "--output-file",
        sig.to_str().expect("path"),
    ]);
    dev.pkcs11_tool(&[
        "--read-object",
        "--type",
        "pubkey",
        "--id",
        "02",
        "--output-file",
        public.to_str().expect("path"),
    ]);
    let out = tool("openssl")
        .args(["dgst", "-sha256", "-keyform", "DER", "-verify"])
        .arg(&public)
        .arg("-signature")
        .arg(&sig)
        .arg(&msg)
        .output()
        .expect("openssl runs");
    assert!(ok(out, "openssl verify").contains("Verified OK"));

    // OpenSC's own test suite: random, digests, signatures, verification, decryption.
    let out = dev.pkcs11_tool(&["--login", "--pin", pin, "--test"]);
    assert!(out.contains("No errors"), "{out}");
    assert!(!out.contains("Signatures: not implemented"), "{out}");

    // A wrong PIN is refused with the PKCS#11 code.
    let out = dev
        .run("pkcs11-tool")
        .arg("--module")
        .arg(library())
        .args(["--login", "--pin", "Wrong-Pin-123", "--list-objects"])
        .output()
        .expect("pkcs11-tool runs");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("CKR_PIN_INCORRECT"),
        "{out:?}"
    );
}

#[test]
fn gnutls_p11tool_lists_the_token_and_generates_a_key() {
    let dev = Dev::start();
    let p11tool = |args: &[&str]| {
        let out = dev
            .run("p11tool")
            .env("GNUTLS_PIN", dev.pin())
            .arg("--provider")
            .arg(library())
            .args(args)
            .output()
            .expect("p11tool runs");
        ok(out, &format!("p11tool {args:?}"))
    };
    let out = p11tool(&["--list-tokens"]);
    assert!(out.contains("Label: dev"), "{out}");
    assert!(
        out.contains(&format!("Serial: {}", dev.creds.partition_serial)),
        "{out}"
    );
    p11tool(&[
        "--login",
        "--generate-ecc",
        "--curve",
        "secp256r1",
        "--label",
        "gnutls-key",
        "pkcs11:token=dev",
    ]);
    let out = p11tool(&["--login", "--list-all", "pkcs11:token=dev"]);
    assert!(
        out.contains("object=gnutls-key;type=private"),
        "the private key is listed: {out}"
    );
    assert!(out.contains("CKA_SENSITIVE"), "{out}");
}

#[test]
fn openssl_with_the_libp11_engine_signs_and_certifies() {
    let dev = Dev::start();
    dev.pkcs11_tool(&[
        "--login",
        "--pin",
        dev.pin(),
        "--keypairgen",
        "--key-type",
        "EC:prime256v1",
        "--label",
        "tls",
        "--id",
        "10",
    ]);
    let engine = "/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so";
    assert!(
        Path::new(engine).exists(),
        "{engine} is missing (Debian's libengine-pkcs11-openssl)"
    );
    let conf = dev.dir().join("openssl.cnf");
    std::fs::write(
        &conf,
        format!(
            "openssl_conf = openssl_init\n[openssl_init]\nengines = engine_section\n\
             [engine_section]\npkcs11 = pkcs11_section\n[pkcs11_section]\nengine_id = pkcs11\n\
             dynamic_path = {engine}\nMODULE_PATH = {}\ninit = 0\n",
            library().display()
        ),
    )
    .expect("openssl.cnf");
    let key = format!(
        "pkcs11:token=dev;object=tls;type=private;pin-value={}",
        dev.pin()
    );
    let cert = dev.dir().join("cert.pem");
    let out = dev
        .run("openssl")
        .env("OPENSSL_CONF", &conf)
        .args([
            "req", "-engine", "pkcs11", "-keyform", "engine", "-key", &key,
        ])
        .args([
            "-new",
            "-x509",
            "-days",
            "1",
            "-subj",
            "/CN=strongroom-test",
            "-out",
        ])
        .arg(&cert)
        .output()
        .expect("openssl runs");
    ok(out, "openssl req with the engine");
    // Plain OpenSSL (no engine) checks the self-signature made in the appliance.
    let out = tool("openssl")
        .args(["verify", "-CAfile"])
        .arg(&cert)
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(ok(out, "openssl verify").contains(": OK"));

    // A certificate request signed in the appliance, checked by plain OpenSSL.
    let csr = dev.dir().join("req.pem");
    let out = dev
        .run("openssl")
        .env("OPENSSL_CONF", &conf)
        .args([
            "req", "-engine", "pkcs11", "-keyform", "engine", "-key", &key,
        ])
        .args(["-new", "-subj", "/CN=strongroom-csr", "-out"])
        .arg(&csr)
        .output()
        .expect("openssl runs");
    ok(out, "openssl req (CSR) with the engine");
    let out = tool("openssl")
        .args(["req", "-verify", "-noout", "-in"])
        .arg(&csr)
        .output()
        .expect("openssl runs");
    let text = ok(out, "openssl req -verify");
    assert!(text.contains("verify OK"), "{text}");

    // Java's keytool lists the token's key with its certificate (stored on the token).
    let der = dev.dir().join("cert.der");
    let out = tool("openssl")
        .args(["x509", "-outform", "DER", "-in"])
        .arg(&cert)
        .arg("-out")
        .arg(&der)
        .output()
        .expect("openssl runs");
    ok(out, "openssl x509 to DER");
    dev.pkcs11_tool(&[
        "--login",
        "--pin",
        dev.pin(),
        "--write-object",
        der.to_str().expect("path"),
        "--type",
        "cert",
        "--id",
        "10",
        "--label",
        "tls",
    ]);
    let cfg = dev.dir().join("keytool-pkcs11.cfg");
    std::fs::write(
        &cfg,
        format!(
            "name = Strongroom\nlibrary = {}\nslot = 0\n",
            library().display()
        ),
    )
    .expect("pkcs11.cfg");
    let out = dev
        .run("keytool")
        .args(["-list", "-keystore", "NONE", "-storetype", "PKCS11"])
        .args([
            "-providerClass",
            "sun.security.pkcs11.SunPKCS11",
            "-providerArg",
        ])
        .arg(&cfg)
        .args(["-storepass", dev.pin()])
        .output()
        .expect("keytool runs");
    let text = ok(out, "keytool -list");
    assert!(text.contains("tls, PrivateKeyEntry"), "{text}");
}

#[test]
fn java_sunpkcs11_generates_signs_and_draws_random_bytes() {
    let dev = Dev::start();
    let src = dev.dir().join("StrongroomCheck.java");
    std::fs::write(&src, JAVA_CHECK).expect("java source");
    let cfg = dev.dir().join("pkcs11.cfg");
    std::fs::write(
        &cfg,
        format!(
            "name = Strongroom\nlibrary = {}\nslot = 0\n",
            library().display()
        ),
    )
    .expect("pkcs11.cfg");
    let out = dev
        .run("java")
        .arg(&src)
        .arg(&cfg)
        .arg(dev.pin())
        .output()
        .expect("java runs");
    let text = ok(out, "java SunPKCS11 check");
    assert!(text.contains("ECDSA verified by the JDK: true"), "{text}");
    assert!(text.contains("RSA verified by the JDK: true"), "{text}");
    assert!(text.contains("random: 32"), "{text}");
}

#[test]
fn openssh_reads_the_public_keys_from_the_token() {
    let dev = Dev::start();
    dev.pkcs11_tool(&[
        "--login",
        "--pin",
        dev.pin(),
        "--keypairgen",
        "--key-type",
        "EC:prime256v1",
        "--label",
        "ssh-key",
        "--id",
        "20",
    ]);
    let out = dev
        .run("ssh-keygen")
        .arg("-D")
        .arg(library())
        .output()
        .expect("ssh-keygen runs");
    let text = ok(out, "ssh-keygen -D");
    assert!(
        text.lines()
            .any(|l| l.starts_with("ecdsa-sha2-nistp256 ") && l.ends_with(" ssh-key")),
        "{text}"
    );
}

/// A SunPKCS11 program: EC and RSA key pairs generated in the token, signatures made there
/// and verified by the JDK's own provider, random bytes from the token.
const JAVA_CHECK: &str = r#"
import java.security.*;
import java.security.spec.ECGenParameterSpec;

public class StrongroomCheck {
    public static void main(String[] args) throws Exception {
        Provider p = Security.getProvider("SunPKCS11").configure(args[0]);
        Security.addProvider(p);
        KeyStore ks = KeyStore.getInstance("PKCS11", p);
        ks.load(null, args[1].toCharArray());
        byte[] msg = "signed in the appliance".getBytes("UTF-8");

        KeyPairGenerator g = KeyPairGenerator.getInstance("EC", p);
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair kp = g.generateKeyPair();
        Signature s = Signature.getInstance("SHA256withECDSA", p);
        s.initSign(kp.getPrivate());
        s.update(msg);
        byte[] sig = s.sign();
        Signature v = Signature.getInstance("SHA256withECDSA");
        v.initVerify(kp.getPublic());
        v.update(msg);
        System.out.println("ECDSA verified by the JDK: " + v.verify(sig));

        KeyPairGenerator rg = KeyPairGenerator.getInstance("RSA", p);
        rg.initialize(2048);
        KeyPair rkp = rg.generateKeyPair();
        Signature rs = Signature.getInstance("SHA256withRSA", p);
        rs.initSign(rkp.getPrivate());
        rs.update(msg);
        byte[] rsig = rs.sign();
        Signature rv = Signature.getInstance("SHA256withRSA");
        rv.initVerify(rkp.getPublic());
        rv.update(msg);
        System.out.println("RSA verified by the JDK: " + rv.verify(rsig));

        SecureRandom r = SecureRandom.getInstance("PKCS11", p);
        byte[] b = new byte[32];
        r.nextBytes(b);
        System.out.println("random: " + b.length);
    }
}
"#;
