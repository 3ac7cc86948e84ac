//! Other workspace packages' build outputs for tests that drive them as an administrator or an
//! application would (the client manager, the PKCS#11 library): built with the profile of this
//! test binary, once per package and test binary, so a stale output is never used.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// `target/<profile>/<file>` after `cargo build --workspace --all-targets` for this test's
/// profile.
pub(crate) fn built(package: &str, file: &str) -> PathBuf {
    static BUILT: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    // The test binary is target/<profile>/deps/<test>-<hash>.
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .to_path_buf();
    let mut done = BUILT.lock().unwrap_or_else(|p| p.into_inner());
    if done
        .get_or_insert_with(HashSet::new)
        .insert(package.to_owned())
    {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        // The whole workspace with its tests, as `cargo test --workspace` resolves features:
        // building one package alone resolves them anew and rebuilds much of the tree. After
        // `cargo test --workspace` this only puts the outputs in place.
        build.args(["build", "--workspace", "--all-targets"]);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("cargo runs");
        assert!(
            status.success(),
            "building the workspace for {package} failed"
        );
    }
    let path = profile_dir.join(file);
    assert!(path.exists(), "{} missing", path.display());
    path
}
