//! The shared library exports the PKCS#11 entry points and nothing else.

fn lib_path() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    exe.parent()
        .and_then(std::path::Path::parent)
        .expect("target/<profile>")
        .join("libstrongroom_pkcs11.so")
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
