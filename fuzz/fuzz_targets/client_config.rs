//! The client configuration file (`ClientConfig::load`, read from `STRONGROOM_CONF` by every
//! application) on arbitrary contents, through a file as applications read it: it loads or
//! is refused with an error, never a panic; a loaded file names each server once, and its
//! relative paths resolve against the file's directory.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use strongroom_client::ClientConfig;

/// One file per fuzzing process, written for each input and removed after it.
fn path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("strongroom-fuzz-conf-{}.toml", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let path = path();
    std::fs::write(path, data).expect("write the configuration");
    let loaded = ClientConfig::load(path);
    let _ = std::fs::remove_file(path);
    if let Ok(config) = loaded {
        let mut names: Vec<&str> = config.servers.iter().map(|s| s.name.as_str()).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before, "a server listed twice was accepted");
        assert!(config.certificate.is_absolute() && config.private_key.is_absolute());
        assert!(config.servers.iter().all(|s| s.certificate.is_absolute()));
    }
});
