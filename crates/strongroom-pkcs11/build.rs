//! Link settings of the shared library:
//! - only the PKCS#11 entry points (`C_*`) are exported (`exports.map`);
//! - the library is never unmapped by `dlclose` (`-z nodelete`): threads of the application
//!   may still run thread-local destructors registered by the library's dependencies (the TLS
//!   stack) after the application unloads it.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    println!("cargo:rerun-if-changed=exports.map");
    println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={dir}/exports.map");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
}
