//! The shell's command log (SH-G-12, SH-G-13): every command is logged with the appliance user,
//! and secret option values never appear. Kept in its own test binary with one global log
//! subscriber, so that no other test thread can race the capture.

mod common;

use std::sync::{Arc, Mutex, OnceLock};

use common::Rig;

/// The captured log of this test binary, and a lock serializing its tests.
type Capture = (Arc<Mutex<Vec<u8>>>, Mutex<()>);

fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || Sink(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        (buf, Mutex::new(()))
    })
}

/// Runs `lines` on an initialized module and returns what the shell logged meanwhile.
fn logged(lines: &[String]) -> String {
    let (buf, serial) = capture();
    let _one_at_a_time = serial.lock().unwrap_or_else(|p| p.into_inner());
    let (_rig, mut sh) = Rig::initialized();
    buf.lock().expect("log buffer").clear();
    for line in lines {
        sh.run(line, &[]);
    }
    let bytes = buf.lock().expect("log buffer").clone();
    String::from_utf8(bytes).expect("utf-8 log")
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

use common::SO_PW;

#[test]
fn commands_are_logged_with_secret_values_masked() {
    let lines = [
        "hsm login -password Secret-One1".to_owned(),
        "hsm logout".to_owned(),
        "hsm login -PASSWORD \"Secret Two 2\"".to_owned(),
        "hsm changePw -oldpassword Secret-Three3 -newpassword Secret-Four4".to_owned(),
        "hsm changePw -o Secret-Five5 -n Secret-Six66".to_owned(),
        "hsm init -label Lbl -p Secret-Seven7 -d Secret-Domain8 -force".to_owned(),
    ];
    let log = logged(&lines);
    assert!(
        log.contains("hsm login -password *"),
        "SH-G-13: the command is logged:\n{log}"
    );
    assert!(
        log.contains("admin"),
        "the appliance user is logged:\n{log}"
    );
    for secret in [
        "Secret-One1",
        "Secret Two",
        "Secret-Three3",
        "Secret-Four4",
        "Secret-Five5",
        "Secret-Six66",
        "Secret-Seven7",
        "Secret-Domain8",
    ] {
        assert!(!log.contains(secret), "{secret} logged:\n{log}");
    }
}

#[test]
fn password_given_with_its_short_form_is_masked_in_the_log() {
    let log = logged(&[
        format!("hsm login -pwd {SO_PW}"),
        "hsm init -label L2 -pwd Secret-Nine9 -force".to_owned(),
    ]);
    assert!(log.contains("hsm login -password *"), "{log}");
    assert!(
        !log.contains(SO_PW) && !log.contains("Secret-Nine9"),
        "password logged:\n{log}"
    );
}
