//! `strongroomd run`: hosts the module, serves the local console socket, the SSH service and
//! NTLS, and shuts down cleanly on SIGTERM/SIGINT (NTLS and SSH connections are closed and
//! their tasks and shells end before the process exits).
//!
//! Every module change is durable before it is acknowledged, so shutdown only has to wait for
//! the operation in progress (by taking the module lock) before the process exits.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::time::Duration;

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
    run_with_listeners(config, module, Listeners::default())
}

/// Listeners bound before the daemon starts (the development appliance binds free loopback
/// ports); each `None` is bound from the configuration.
#[derive(Debug, Default)]
pub struct Listeners {
    /// The SSH listener.
    pub ssh: Option<std::net::TcpListener>,
    /// The NTLS listener (used for the first start only: a restart binds the configured
    /// address again, on the same port).
    pub ntls: Option<std::net::TcpListener>,
}

/// `strongroomd recover --dir DIR`, the local-console-only `recover` account (SH-U-05): the
/// appliance user `admin` gets the factory password `PASSWORD` back, to be changed at its next
/// login, and is enabled. The HSM and every other user are left as they are. Running it needs
/// the host account that owns the data directory, as the serial console needs presence.
pub fn recover(data_dir: &Path) -> Result<(), String> {
    if !strongroom_store::Store::exists(data_dir) {
        return Err(format!("no appliance in {}", data_dir.display()));
    }
    crate::users::UserStore::open(data_dir)?.recover_admin()?;
    crate::applog::record(
        data_dir,
        "notice",
        "Login by recover: the admin password was reset to the factory password : recover : \
         local console",
    );
    tracing::warn!("recover: the admin password was reset to the factory password");
    Ok(())
}

/// Binds the SSH listener the configuration names (`None` when SSH is off).
fn bind_ssh(config: &Config) -> Result<Option<std::net::TcpListener>, String> {
    let addr = config
        .listen
        .ssh
        .as_deref()
        .unwrap_or(crate::config::DEFAULT_SSH_LISTEN);
    if addr.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    std::net::TcpListener::bind(addr)
        .map(Some)
        .map_err(|err| format!("cannot listen for SSH on {addr}: {err}"))
}

/// Like [`run`], serving on the listeners given instead of binding the configured addresses.
pub fn run_with_listeners(
    config: Config,
    module: Module,
    listeners: Listeners,
) -> Result<(), String> {
    let mut appliance = Appliance::new(module, config.data_dir.clone(), config.hostname.clone());
    appliance.files = config.files;
    appliance.audit = config.audit.limits();
    let ntls_listen = config.ntls_listen();
    let ntls = appliance.ntls.clone();
    ntls.configure(ntls_listen.clone(), config.ntls_limits());
    if ntls_listen != crate::ntls::ListenSpec::Off {
        // The identity (made at first start) and readable registrations, or no start at all.
        let name = crate::ntls::appliance_name(&config.data_dir, config.hostname.as_deref());
        crate::ntls::identity::ensure(&config.data_dir, &name, config.files)?;
        ntls.registry.list()?;
    }
    let ssh = match listeners.ssh {
        Some(l) => Some(l),
        None => bind_ssh(&config)?,
    };
    if ssh.is_some() {
        // Surface a broken host key or users file now rather than at the first connection.
        crate::ssh::host_key(&config.data_dir)?;
        let users = crate::users::UserStore::open(&config.data_dir)?;
        if users.info("admin").is_some_and(|u| u.must_change) {
            tracing::warn!(
                "the appliance user 'admin' has the factory password: log in and change it now"
            );
        }
    }
    let listener = bind_console(&config.data_dir)?;
    let sock = socket_path(&config.data_dir);
    tracing::info!(socket = %sock.display(), "console socket ready");
    let console_appliance = appliance.clone();
    std::thread::Builder::new()
        .name("console-accept".into())
        .spawn(move || serve_console(&listener, &console_appliance))
        .map_err(|err| format!("cannot start the console listener: {err}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the runtime: {err}"))?;
    let ssh_settings = config.ssh.clone();
    let ssh_appliance = appliance.clone();
    let audit_appliance = appliance.clone();
    let signal = runtime.block_on(async move {
        let (stop, _) = tokio::sync::broadcast::channel::<()>(1);
        let mut ssh_task = None;
        if let Some(listener) = ssh {
            listener
                .set_nonblocking(true)
                .map_err(|e| format!("cannot prepare the SSH listener: {e}"))?;
            let listener = tokio::net::TcpListener::from_std(listener)
                .map_err(|e| format!("cannot prepare the SSH listener: {e}"))?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            println!("SSH service listening on {addr}");
            ssh_task = Some(tokio::spawn(crate::ssh::serve(
                listener,
                ssh_appliance,
                ssh_settings,
                stop.subscribe(),
            )));
        }
        // Audit records move to the audit files every second; with HSM policy 57 on, the
        // HSM clock is synchronized with the host daily (AU-50).
        let mut audit_stop = stop.subscribe();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            let mut last_sync = std::time::Instant::now();
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = audit_stop.recv() => break,
                }
                let app = audit_appliance.clone();
                let daily = last_sync.elapsed() >= Duration::from_secs(24 * 3600);
                if daily {
                    last_sync = std::time::Instant::now();
                }
                let _ = tokio::task::spawn_blocking(move || {
                    if daily {
                        let mut m = match app.module.lock() {
                            Ok(g) => g,
                            Err(p) => p.into_inner(),
                        };
                        if let Err(err) = m.time_auto_sync() {
                            tracing::warn!(error = %err, "the daily HSM time synchronization failed");
                        }
                    }
                    app.pump_audit();
                })
                .await;
            }
        });
        ntls.attach(tokio::runtime::Handle::current());
        if ntls_listen == crate::ntls::ListenSpec::Off {
            tracing::info!("NTLS is off (listen.ntls = \"off\")");
        } else {
            match ntls.start(listeners.ntls) {
                Ok(addr) => println!("NTLS service listening on {addr}"),
                // The administrator can fix the binding and restart NTLS from the shell.
                Err(err) => println!("NTLS service not started: {err}"),
            }
        }
        let signal = wait_for_shutdown().await?;
        tracing::info!(signal, "shutting down");
        let _ = stop.send(());
        let stopping = ntls.clone();
        let _ = tokio::task::spawn_blocking(move || stopping.shutdown()).await;
        if let Some(task) = ssh_task {
            match tokio::time::timeout(Duration::from_secs(10), task).await {
                Ok(Ok(Err(err))) => tracing::error!(%err, "the SSH service failed"),
                Ok(_) => {}
                Err(_) => tracing::warn!("SSH sessions did not end within 10 s"),
            }
        }
        Ok::<_, String>(signal)
    });
    // A shell thread still waiting for input must not hold the exit up.
    runtime.shutdown_timeout(Duration::from_secs(2));
    let signal = signal?;
    tracing::info!(signal, "stopped serving");
    // Give the remote log servers what is queued (bounded: a server that is down does not
    // hold the exit up).
    appliance.remote_log.flush(Duration::from_secs(3));
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
