//! The shared library exports the PKCS#11 entry points and nothing else.

/// `target/<profile>/libstrongroom_pkcs11.so`, built now for this test's profile: `cargo test`
/// builds the library only as a dependency of its tests and leaves no `.so` there. The whole
/// workspace with its tests is built, as `cargo test --workspace` resolves features (one
/// package alone would resolve them anew and rebuild much of the tree).
fn lib_path() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let profile_dir = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target/<profile>")
        .to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = std::process::Command::new(cargo);
    build.args(["build", "--workspace", "--all-targets"]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    assert!(
        build.status().expect("cargo runs").success(),
        "building strongroom-pkcs11 failed"
    );
    profile_dir.join("libstrongroom_pkcs11.so")
}

#[test]
fn only_pkcs11_entry_points_are_exported() {
    let lib = lib_path();
    assert!(lib.exists(), "{} is built with this crate", lib.display());
    let out = std::process::Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&lib)
        .output()
        .expect("nm");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    assert!(names.contains(&"C_GetFunctionList"), "{names:?}");
    assert!(names.contains(&"C_GetInterface"), "{names:?}");
    let others: Vec<&&str> = names.iter().filter(|n| !n.starts_with("C_")).collect();
    assert!(others.is_empty(), "symbols other than C_*: {others:?}");
}
