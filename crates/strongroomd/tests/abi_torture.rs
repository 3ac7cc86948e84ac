//! The PKCS#11 ABI torture test: `libstrongroom_pkcs11.so` driven as a C application drives
//! it, through the `CK_FUNCTION_LIST_3_0` that `C_GetInterface` returns, against a real
//! `strongroomd run`.
//!
//! Every function of the list is called with a null pointer for each required pointer
//! argument, with zero, too small and oversize lengths, with invalid session, object, key and
//! slot handles, and in the wrong session and operation states (operation not initialized or
//! already active, not logged in, logged in twice, writes through a read-only session); each
//! call must return the code the specification prescribes, or one of the set it allows where
//! it allows several (the set is named, with its rule, beside the call). The phases run in
//! order in one process, because the library has one global state per process: before
//! `C_Initialize` (every function but the function-list and interface functions answers
//! `CKR_CRYPTOKI_NOT_INITIALIZED`), initialized against the appliance, eight threads at once
//! while another closes every session of the slot again and again, after `C_Finalize`
//! (not initialized again), and initialized again with a real signature.
//!
//! Passing raw and null pointers needs `unsafe`, which this package forbids; the calls are
//! therefore made by a small C program (`abi_torture.c` beside this file), compiled with the
//! system C compiler and run as a child process with the appliance's client configuration.
//! A hang is a failure: the child is killed after a deadline.
//!
//! - `STRONGROOM_TORTURE_ROUNDS`: rounds per thread (default 3).
//! - `STRONGROOM_TORTURE_WRAPPER`: a command line the C program runs under, such as
//!   `valgrind --error-exitcode=1` (`scripts/abi-valgrind.sh` uses it).
//! - `STRONGROOM_TORTURE_TIMEOUT`: the deadline in seconds (default 300).

mod common;
#[allow(dead_code)]
#[path = "common/pkcs11.rs"]
mod pkcs11_support;

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pkcs11_support::{Setup, library};

/// Compiles the C program into `dir`; returns its path.
fn build_harness(dir: &Path) -> std::path::PathBuf {
    let src = dir.join("abi_torture.c");
    std::fs::write(&src, HARNESS).expect("write the C source");
    let exe = dir.join("abi_torture");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = Command::new(&cc)
        .args([
            "-std=gnu11",
            "-O1",
            "-g",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-o",
        ])
        .arg(&exe)
        .arg(&src)
        .args(["-ldl", "-lpthread"])
        .output()
        .unwrap_or_else(|e| panic!("run the C compiler {cc:?}: {e}"));
    assert!(
        out.status.success(),
        "the C program does not compile:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

#[test]
fn every_function_answers_as_the_specification_says() {
    let dir = tempfile::tempdir().expect("temp dir");
    let conf = dir.path().join("strongroom.toml");
    let setup = Setup::start(&conf);
    let lib = library();
    let exe = build_harness(dir.path());

    let rounds = std::env::var("STRONGROOM_TORTURE_ROUNDS").unwrap_or_else(|_| "3".into());
    let timeout = std::env::var("STRONGROOM_TORTURE_TIMEOUT")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(300);
    let wrapper = std::env::var("STRONGROOM_TORTURE_WRAPPER").unwrap_or_default();
    let mut words = wrapper.split_whitespace();
    let mut cmd = match words.next() {
        Some(program) => {
            let mut c = Command::new(program);
            c.args(words).arg(&exe);
            c
        }
        None => Command::new(&exe),
    };
    let stdout_path = dir.path().join("stdout");
    let stderr_path = dir.path().join("stderr");
    cmd.arg(&lib)
        .env(strongroom_client::CONF_ENV, &conf)
        .env("STRONGROOM_TORTURE_ROUNDS", &rounds)
        .env_remove("STRONGROOM_PKCS11_LOG")
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).expect("stdout file"))
        .stderr(File::create(&stderr_path).expect("stderr file"));
    let started = Instant::now();
    let mut child = cmd.spawn().expect("run the C program");
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the C program") {
            break Some(status);
        }
        if started.elapsed() > Duration::from_secs(timeout) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = std::fs::read_to_string(&stdout_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    println!("{stdout}");
    let status = status.unwrap_or_else(|| {
        panic!("the C program hung (killed after {timeout} s):\n{stdout}\n{stderr}")
    });
    assert!(
        status.success() && stdout.contains(" 0 mismatches"),
        "the torture failed ({status}) after {:?}:\n{stdout}\n{stderr}\nappliance log:\n{}",
        started.elapsed(),
        setup.app.log()
    );
    drop(setup);
}

/// The C program: PKCS#11 types and `CK_FUNCTION_LIST_3_0` declared here (no header is
/// needed), the call tables, the threads.
const HARNESS: &str = include_str!("abi_torture.c");
