//! The SSH service: the appliance shell and SFTP for appliance users (catalog SH-G-14/15).
//!
//! - Host key: Ed25519, created at first start in `DATA_DIR/ssh/ssh_host_ed25519_key`
//!   (owner-only), shown by `sysconf fingerprint ssh` as OpenSSH shows it (`SHA256:...`).
//! - Authentication: password or public key of an enabled appliance user (see
//!   [`crate::users`]). Every rejection takes a constant time; failures are counted per user
//!   and per address and slow further attempts down exponentially ([`throttle`]); each is
//!   logged. A user whose password must be changed gets the change dialogue before the shell,
//!   and no exec or SFTP until then.
//! - Channels: `shell` (with or without a PTY) runs an interactive [`Session`] on a blocking
//!   thread; `exec` runs one command line and returns exit status 0 or 1; the `sftp`
//!   subsystem serves the user's file area. Sessions are [`Channel::Remote`].
//! - Connections are capped by a semaphore, time out when idle, and are closed on shutdown;
//!   [`serve`] returns when every connection and shell has ended.

mod sftp;
mod term;
mod throttle;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use russh::keys::{HashAlg, PrivateKey};
use russh::server::{Auth, ChannelOpenHandle, Msg, Session as SshSession};
use russh::{Channel as SshChannel, ChannelId, ChannelMsg, MethodKind, MethodSet};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, broadcast, mpsc};
use tracing::Instrument as _;
use zeroize::Zeroizing;

use crate::config::Ssh as SshConfig;
use crate::files::FileArea;
use crate::shell::{Appliance, Channel, Outcome, Session};
use crate::users::{PasswordCheck, UserInfo, UserStore};

use self::term::SshTerminal;
use self::throttle::Throttle;

fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("ssh").join("ssh_host_ed25519_key")
}

fn addr_path(data_dir: &Path) -> PathBuf {
    data_dir.join("run").join("ssh.addr")
}

/// Loads the host key, creating it (owner-only) at first start.
pub(crate) fn host_key(data_dir: &Path) -> Result<PrivateKey, String> {
    let path = key_path(data_dir);
    if path.exists() {
        let text = Zeroizing::new(
            std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
        );
        return PrivateKey::from_openssh(text.as_bytes())
            .map_err(|e| format!("{}: not an OpenSSH private key: {e}", path.display()));
    }
    let dir = path.parent().ok_or("no key directory")?;
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)))
        .map_err(|e| format!("cannot prepare {}: {e}", dir.display()))?;
    let mut seed = Zeroizing::new([0u8; 32]);
    aws_lc_rs::rand::SecureRandom::fill(&aws_lc_rs::rand::SystemRandom::new(), seed.as_mut())
        .map_err(|_| "the random source failed".to_owned())?;
    let pair = russh::keys::ssh_key::private::Ed25519Keypair::from_seed(&seed);
    let key = PrivateKey::from(pair);
    let text = key
        .to_openssh(russh::keys::ssh_key::LineEnding::LF)
        .map_err(|e| e.to_string())?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    tracing::info!(fingerprint = %key.public_key().fingerprint(HashAlg::Sha256), "SSH host key created");
    Ok(key)
}

/// The host key's OpenSSH fingerprint (`SHA256:...`).
pub(crate) fn host_key_fingerprint(data_dir: &Path) -> Result<String, String> {
    let path = key_path(data_dir);
    if !path.exists() {
        return Err(
            "the SSH host key has not been created yet (it is at the first start of \
                    the SSH service)"
                .into(),
        );
    }
    Ok(host_key(data_dir)?
        .public_key()
        .fingerprint(HashAlg::Sha256)
        .to_string())
}

/// Where the running SSH service listens, if it runs.
pub(crate) fn listening(data_dir: &Path) -> Option<String> {
    std::fs::read_to_string(addr_path(data_dir))
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// What every connection shares.
struct Shared {
    appliance: Appliance,
    users: UserStore,
    throttle: Throttle,
}

/// Serves SSH on `listener` until `shutdown` fires, then closes every connection and returns
/// when all of them (and their shells) have ended.
pub async fn serve(
    listener: TcpListener,
    appliance: Appliance,
    settings: SshConfig,
    mut shutdown: broadcast::Receiver<()>,
) -> Result<(), String> {
    let data_dir = appliance.data_dir.clone();
    let key = host_key(&data_dir)?;
    let users = UserStore::open(&data_dir)?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    std::fs::create_dir_all(data_dir.join("run"))
        .and_then(|()| std::fs::write(addr_path(&data_dir), local.to_string()))
        .map_err(|e| format!("cannot record the SSH address: {e}"))?;
    let mut methods = MethodSet::empty();
    methods.push(MethodKind::PublicKey);
    methods.push(MethodKind::Password);
    let rejection = Duration::from_millis(settings.auth_rejection_ms);
    let config = Arc::new(russh::server::Config {
        server_id: russh::SshId::Standard(
            format!("SSH-2.0-Strongroom_{}", env!("CARGO_PKG_VERSION")).into(),
        ),
        methods,
        auth_rejection_time: rejection,
        // OpenSSH first asks with "none" to learn the methods: no need to make it wait.
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys: vec![key],
        inactivity_timeout: Some(Duration::from_secs(settings.idle_timeout_secs)),
        max_auth_attempts: 6,
        nodelay: true,
        ..Default::default()
    });
    let shared = Arc::new(Shared {
        appliance,
        users,
        throttle: Throttle::new(
            rejection,
            Duration::from_secs(settings.max_login_delay_secs),
        ),
    });
    let slots = Arc::new(Semaphore::new(settings.max_connections));
    // Every connection task and shell holds a clone; `recv` returns None when all are gone.
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    tracing::info!(address = %local, "SSH service listening");
    loop {
        tokio::select! {
            _ = shutdown.recv() => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(x) => x,
                    Err(err) => {
                        tracing::warn!(%err, "SSH accept failed");
                        continue;
                    }
                };
                let Ok(permit) = slots.clone().try_acquire_owned() else {
                    tracing::warn!(%peer, "too many SSH connections: connection refused");
                    drop(stream);
                    continue;
                };
                let handler = Conn {
                    shared: shared.clone(),
                    peer,
                    user: None,
                    channels: HashMap::new(),
                    ptys: HashSet::new(),
                    done: done_tx.clone(),
                };
                let config = config.clone();
                let mut stop = shutdown.resubscribe();
                let done = done_tx.clone();
                tokio::spawn(
                    async move {
                        let _permit = permit;
                        let _done = done;
                        match russh::server::run_stream(config, stream, handler).await {
                            Ok(session) => {
                                let handle = session.handle();
                                tokio::select! {
                                    result = session => {
                                        if let Err(err) = result {
                                            tracing::debug!(%err, "SSH connection ended with an error");
                                        }
                                    }
                                    _ = stop.recv() => {
                                        let _ = handle
                                            .disconnect(
                                                russh::Disconnect::ByApplication,
                                                "the appliance is shutting down".into(),
                                                String::new(),
                                            )
                                            .await;
                                    }
                                }
                            }
                            Err(err) => tracing::debug!(%err, "SSH connection setup failed"),
                        }
                        tracing::debug!("SSH connection closed");
                    }
                    .instrument(tracing::info_span!("ssh", %peer)),
                );
            }
        }
    }
    drop(done_tx);
    let _ = done_rx.recv().await;
    let _ = std::fs::remove_file(addr_path(&data_dir));
    tracing::info!("SSH service stopped");
    Ok(())
}

/// One SSH connection.
struct Conn {
    shared: Arc<Shared>,
    peer: SocketAddr,
    /// The authenticated user.
    user: Option<UserInfo>,
    /// Session channels opened and not yet given a request.
    channels: HashMap<ChannelId, SshChannel<Msg>>,
    /// Channels that asked for a PTY.
    ptys: HashSet<ChannelId>,
    done: mpsc::Sender<()>,
}

impl Conn {
    fn source(&self) -> String {
        format!("{}/{}", self.peer.ip(), self.peer.port())
    }

    fn log_login(&self, user: &str, method: &str) {
        tracing::info!(user, method, source = %self.source(), "SSH login");
        crate::applog::record(
            &self.shared.appliance.data_dir,
            "info",
            &format!("Login ({method}) : {user} : {}", self.source()),
        );
    }

    fn log_failure(&self, user: &str, method: &str, why: &str) {
        let f = self.shared.throttle.failure(user, self.peer.ip());
        tracing::warn!(
            user,
            method,
            source = %self.source(),
            reason = why,
            user_failures = f.user,
            address_failures = f.addr,
            "SSH login failed"
        );
        crate::applog::record(
            &self.shared.appliance.data_dir,
            "warning",
            &format!(
                "Login failed ({method}, {why}; {} consecutive failures for the user, {} from \
                 the address) : {user} : {}",
                f.user,
                f.addr,
                self.source()
            ),
        );
    }

    /// The user may open shells, exec and SFTP: authenticated and no password change due.
    fn ready_user(&self) -> Option<UserInfo> {
        let user = self.user.as_ref()?;
        // Re-read: the user may have been disabled, or changed its password, meanwhile.
        let now = self.shared.users.info(&user.name)?;
        now.enabled.then_some(now)
    }

    fn take(&mut self, id: ChannelId) -> Option<SshChannel<Msg>> {
        self.channels.remove(&id)
    }

    fn start(
        &mut self,
        id: ChannelId,
        channel: SshChannel<Msg>,
        user: UserInfo,
        command: Option<String>,
    ) {
        let pty = self.ptys.remove(&id);
        let shared = self.shared.clone();
        let peer = self.peer;
        let done = self.done.clone();
        tokio::spawn(
            async move {
                let _done = done;
                run_session(shared, peer, user, channel, pty, command).await;
            }
            .instrument(tracing::info_span!("ssh-session", %peer)),
        );
    }
}

impl russh::server::Handler for Conn {
    type Error = russh::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        let delay = self.shared.throttle.delay(user, self.peer.ip());
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let users = self.shared.users.clone();
        let name = user.to_owned();
        let password = Zeroizing::new(password.to_owned());
        let password_was = password.clone();
        let check = tokio::task::spawn_blocking(move || users.check_password(&name, &password))
            .await
            .unwrap_or(PasswordCheck::Rejected);
        match check {
            // The factory password is known to everyone: until it has been replaced, it is
            // accepted only from the appliance itself (console, or SSH over loopback), so that
            // nobody on the network can claim a new appliance first.
            PasswordCheck::Accepted(info)
                if info.must_change
                    && !self.peer.ip().is_loopback()
                    && bool::from(subtle::ConstantTimeEq::ct_eq(
                        password_was.as_bytes(),
                        crate::users::FACTORY_PASSWORD.as_bytes(),
                    )) =>
            {
                self.log_failure(
                    user,
                    "password",
                    "the factory password is accepted only from the appliance itself",
                );
                Ok(Auth::reject())
            }
            PasswordCheck::Accepted(info) => {
                self.shared.throttle.success(user, self.peer.ip());
                self.log_login(user, "password");
                self.user = Some(info);
                Ok(Auth::Accept)
            }
            PasswordCheck::Disabled => {
                self.log_failure(user, "password", "the user is disabled");
                Ok(Auth::reject())
            }
            PasswordCheck::Rejected => {
                self.log_failure(user, "password", "wrong user or password");
                Ok(Auth::reject())
            }
        }
    }

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: russh::server::PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        // Only a probe: not counted. Keys of other users, or of disabled users, go no further.
        match self.shared.users.key_owner(user, offer.public_key) {
            Some(info) if info.enabled => Ok(Auth::Accept),
            _ => Ok(Auth::reject()),
        }
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: russh::server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        let delay = self.shared.throttle.delay(user, self.peer.ip());
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        match self.shared.users.key_owner(user, key.public_key) {
            Some(info) if info.enabled => {
                self.shared.throttle.success(user, self.peer.ip());
                self.log_login(user, "publickey");
                self.user = Some(info);
                Ok(Auth::Accept)
            }
            Some(_) => {
                self.log_failure(user, "publickey", "the user is disabled");
                Ok(Auth::reject())
            }
            None => {
                self.log_failure(user, "publickey", "unknown key");
                Ok(Auth::reject())
            }
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: SshChannel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        if self.user.is_none() || self.channels.len() >= 8 {
            reply
                .reject(russh::ChannelOpenFailure::AdministrativelyProhibited)
                .await;
            return Ok(());
        }
        self.channels.insert(channel.id(), channel);
        reply.accept().await;
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _col_width: u32,
        _row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        if self.channels.contains_key(&channel) {
            self.ptys.insert(channel);
            session.channel_success(channel)?;
        } else {
            session.channel_failure(channel)?;
        }
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        match (self.ready_user(), self.take(channel)) {
            (Some(user), Some(chan)) => {
                session.channel_success(channel)?;
                self.start(channel, chan, user, None);
            }
            _ => session.channel_failure(channel)?,
        }
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        match (self.ready_user(), self.take(channel)) {
            (Some(user), Some(chan)) => {
                session.channel_success(channel)?;
                let command = String::from_utf8_lossy(data).into_owned();
                self.start(channel, chan, user, Some(command));
            }
            _ => session.channel_failure(channel)?,
        }
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        let user = self.ready_user();
        let usable = user.as_ref().is_some_and(|u| !u.must_change) && name == "sftp";
        match (user, usable, self.take(channel)) {
            (Some(user), true, Some(chan)) => {
                session.channel_success(channel)?;
                let area = FileArea::new(
                    &self.shared.appliance.data_dir,
                    &user.name,
                    self.shared.appliance.files,
                );
                let sftp = sftp::Sftp::new(
                    area,
                    &user.name,
                    self.source(),
                    self.shared.appliance.data_dir.clone(),
                );
                tracing::info!(user = %user.name, source = %self.source(), "SFTP session");
                let done = self.done.clone();
                tokio::spawn(async move {
                    let _done = done;
                    run_sftp(chan, sftp).await;
                });
            }
            (user, _, _) => {
                if user.is_some_and(|u| u.must_change) {
                    tracing::warn!(source = %self.source(), "SFTP refused: the password must be changed first");
                }
                session.channel_failure(channel)?;
            }
        }
        Ok(())
    }
}

/// Serves SFTP on a session channel: the library's server runs on one end of an in-memory
/// pipe, this task relays between the pipe and the channel, and when the client ends its side
/// (EOF) and the server has answered everything, the channel gets exit status 0 and closes
/// (scp reports a failure without an exit status).
async fn run_sftp(chan: SshChannel<Msg>, sftp: sftp::Sftp) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let (ours, theirs) = tokio::io::duplex(256 * 1024);
    russh_sftp::server::run(theirs, sftp).await;
    let (mut read, write) = chan.split();
    let (mut from_server, mut to_server) = tokio::io::split(ours);
    let inbound = async move {
        while let Some(msg) = read.wait().await {
            match msg {
                ChannelMsg::Data { data } if to_server.write_all(&data).await.is_err() => break,
                ChannelMsg::Data { .. } => {}
                ChannelMsg::Eof | ChannelMsg::Close => break,
                _ => {}
            }
        }
        let _ = to_server.shutdown().await;
    };
    let outbound = async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from_server.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if write.data_bytes(buf[..n].to_vec()).await.is_err() {
                        break;
                    }
                }
            }
        }
    };
    tokio::join!(inbound, outbound);
    let _ = write.exit_status(0).await;
    let _ = write.eof().await;
    let _ = write.close().await;
}

/// Drives one shell or exec channel: input to the blocking session, output back, then the exit
/// status and the close.
async fn run_session(
    shared: Arc<Shared>,
    peer: SocketAddr,
    user: UserInfo,
    channel: SshChannel<Msg>,
    pty: bool,
    command: Option<String>,
) {
    let (mut read, write) = channel.split();
    let (in_tx, in_rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let reader = tokio::spawn(async move {
        while let Some(msg) = read.wait().await {
            match msg {
                ChannelMsg::Data { data } if in_tx.send(data.to_vec()).is_err() => break,
                ChannelMsg::Data { .. } => {}
                ChannelMsg::Eof | ChannelMsg::Close => break,
                _ => {}
            }
        }
        // Dropping the sender ends the session's input: a prompt answers None.
    });
    let appliance = shared.appliance.clone();
    let shell = tokio::task::spawn_blocking(move || {
        let mut term = SshTerminal::new(in_rx, out_tx, pty);
        shell_thread(appliance, peer, &user, command, &mut term)
    });
    while let Some(bytes) = out_rx.recv().await {
        if write.data_bytes(bytes).await.is_err() {
            break;
        }
    }
    let status = shell.await.unwrap_or(1);
    let _ = write.exit_status(status).await;
    let _ = write.eof().await;
    let _ = write.close().await;
    reader.abort();
}

/// The shell itself (on a blocking thread): the forced password change, then an interactive
/// session or one command. Returns the exit status.
fn shell_thread(
    appliance: Appliance,
    peer: SocketAddr,
    user: &UserInfo,
    command: Option<String>,
    term: &mut SshTerminal,
) -> u32 {
    use crate::shell::Terminal as _;
    let mut session =
        Session::new(appliance, &user.name, user.role, Channel::Remote).with_source(peer);
    match command {
        None => {
            if !session.forced_password_change(term) {
                return 1;
            }
            session.run(term);
            tracing::info!(user = %user.name, "SSH shell closed");
            0
        }
        Some(line) => {
            if user.must_change {
                term.write(
                    "Error: your password has expired; log in interactively ('ssh -t') to \
                     change it first.\n",
                );
                return 1;
            }
            let first = line.split_whitespace().next().unwrap_or("");
            if first == "scp" || first == "rsync" {
                term.write(&format!(
                    "Error: '{first}' over exec is not supported; transfer files with SFTP (the \
                     default of current scp; do not use 'scp -O').\n"
                ));
                return 1;
            }
            match session.execute(&line, term) {
                Outcome::Failed => 1,
                _ => 0,
            }
        }
    }
}
