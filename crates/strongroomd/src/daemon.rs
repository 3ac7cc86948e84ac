//! `strongroomd run`: hosts the module, serves the local console socket, and shuts down
//! cleanly on SIGTERM/SIGINT.
//!
//! Every module change is durable before it is acknowledged, so shutdown only has to wait for
//! the operation in progress (by taking the module lock) before the process exits.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use strongroom_module::{Module, StmStrings};

use crate::config::Config;
use crate::console::{SocketTerminal, socket_path};
use crate::shell::{Appliance, Channel, Role, Session};

/// Opens the module of `config`, printing the STM strings of a factory-new module once.
pub fn open_module(config: &Config) -> Result<Module, String> {
    let (module, strings) =
        Module::open(&config.data_dir, config.module_config()?).map_err(|e| e.to_string())?;
    if let Some(strings) = strings {
        announce_new_module(&strings);
    }
    if let Some(what) = module.integrity_failure() {
        tracing::error!(
            what,
            "stored data integrity check failed: the module is halted"
        );
    }
    Ok(module)
}

/// A factory-new module is in Secure Transport Mode; its strings are shown this once.
pub fn announce_new_module(strings: &StmStrings) {
    tracing::info!("new module created in Secure Transport Mode");
    println!(
        "\nA new Strongroom module was created. It is in Secure Transport Mode.\n\
         Record these strings now; they are not shown again:\n\n\
         \x20 Random User String:  {}\n\
         \x20 Verification String: {}\n\n\
         Recover it with 'hsm stm recover -randomuserstring {}' on the console.\n",
        strings.random_user_string, strings.verification_string, strings.random_user_string
    );
}

/// Runs the appliance until SIGTERM or SIGINT.
pub fn run(config: Config, module: Module) -> Result<(), String> {
    let appliance = Appliance {
        module: Arc::new(Mutex::new(module)),
        data_dir: config.data_dir.clone(),
        hostname: config.hostname.clone(),
    };
    let listener = bind_console(&config.data_dir)?;
    let sock = socket_path(&config.data_dir);
    tracing::info!(socket = %sock.display(), "console socket ready");
    let console_appliance = appliance.clone();
    std::thread::Builder::new()
        .name("console-accept".into())
        .spawn(move || serve_console(&listener, &console_appliance))
        .map_err(|err| format!("cannot start the console listener: {err}"))?;
    if config.listen.ntls.is_some() || config.listen.ssh.is_some() {
        tracing::warn!("NTLS and SSH listeners are configured but not provided by this version");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the runtime: {err}"))?;
    let signal = runtime.block_on(wait_for_shutdown())?;
    tracing::info!(signal, "shutting down");
    // Wait for the operation in progress; every acknowledged change is already durable.
    let guard = match appliance.module.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    let _ = std::fs::remove_file(&sock);
    drop(guard);
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_shutdown() -> Result<&'static str, String> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    Ok(tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    })
}

/// Binds the console socket inside `DATA_DIR/run`, a directory only the owner can enter.
fn bind_console(data_dir: &Path) -> Result<UnixListener, String> {
    let run_dir = data_dir.join("run");
    std::fs::create_dir_all(&run_dir)
        .and_then(|()| std::fs::set_permissions(&run_dir, std::fs::Permissions::from_mode(0o700)))
        .map_err(|err| format!("cannot prepare {}: {err}", run_dir.display()))?;
    let path = socket_path(data_dir);
    if std::os::unix::net::UnixStream::connect(&path).is_ok() {
        return Err(format!(
            "another appliance is already serving {}",
            path.display()
        ));
    }
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)
        .map_err(|err| format!("cannot bind {}: {err}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .map_err(|err| format!("cannot restrict {}: {err}", path.display()))?;
    Ok(listener)
}

fn serve_console(listener: &UnixListener, appliance: &Appliance) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let appliance = appliance.clone();
        let spawned = std::thread::Builder::new()
            .name("console".into())
            .spawn(move || {
                let Ok(mut term) = SocketTerminal::new(stream) else {
                    return;
                };
                tracing::info!(
                    user = "admin",
                    channel = "console",
                    "console session opened"
                );
                let mut session =
                    Session::new(appliance, "admin", Role::Admin, Channel::LocalConsole);
                session.run(&mut term);
                term.bye();
                tracing::info!(
                    user = "admin",
                    channel = "console",
                    "console session closed"
                );
            });
        if let Err(err) = spawned {
            tracing::warn!(%err, "cannot start a console session");
        }
    }
}
