//! The network trust link as the appliance shell administers it: `client` (SH-CLI-*), `ntls`
//! (SH-NTLS-01/02), `sysconf regenCert` (SH-SYS-01), `sysconf fingerprint ntls`, and the
//! `ntls` service (`service status|start|stop|restart ntls`, SH-SVC-01/03, NT-07).
//!
//! Registrations are the appliance's record and can be changed from any shell; the listener
//! runs in the daemon only, so service commands in a console that opened the module itself
//! say so.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::net::IpAddr;

use rustls::pki_types::CertificateDer;
use strongroom_module::PartitionInfo;

use super::super::engine::{ADMIN, Args, Node, Opt, READERS};
use super::super::{CmdError, CmdResult, Session, Terminal};
use super::{
    FORCE, Handler, PROCEED, cmd, cmd_pos, confirm, confirm_or, opt, required, shell_err,
    successful,
};
use crate::files::AreaError;
use crate::ntls::registry::{self, ClientAddress, ClientRecord};
use crate::ntls::{Status, identity};
use crate::settings::Settings;

const CLIENT_OPT: Opt = opt("client", "c", Some("name"), "Client name");
const PARTITION_OPT: Opt = opt("partition", "p", Some("name"), "Partition name");

pub(super) static CLIENT: &[Node<Handler>] = &[
    cmd(
        "register",
        "reg",
        "Register a client with the certificate uploaded to your file area",
        ADMIN,
        &[
            CLIENT_OPT,
            opt("hostname", "h", Some("fqdn"), "The client's host name"),
            opt("ip", "i", Some("address"), "The client's IP address"),
        ],
        client_register,
    ),
    cmd(
        "list",
        "l",
        "List the registered clients",
        READERS,
        &[],
        client_list,
    ),
    cmd(
        "show",
        "sh",
        "Show a client and its partitions",
        READERS,
        &[CLIENT_OPT],
        client_show,
    ),
    cmd(
        "assignPartition",
        "a",
        "Let a client see a partition",
        ADMIN,
        &[CLIENT_OPT, PARTITION_OPT],
        client_assign,
    ),
    cmd(
        "revokePartition",
        "rev",
        "Withdraw a partition from a client",
        ADMIN,
        &[CLIENT_OPT, PARTITION_OPT],
        client_revoke,
    ),
    cmd(
        "delete",
        "d",
        "Delete a client registration (and close its connections)",
        ADMIN,
        &[CLIENT_OPT, FORCE],
        client_delete,
    ),
    cmd(
        "fingerprint",
        "f",
        "Show the SHA-256 fingerprint of a client's certificate",
        READERS,
        &[CLIENT_OPT],
        client_fingerprint,
    ),
];

pub(super) static NTLS: &[Node<Handler>] = &[
    cmd_pos(
        "bind",
        "b",
        "Bind NTLS to a network device ('none' with -bind, or 'all') and address",
        ADMIN,
        "device",
        &[
            opt("bind", "b", Some("ip|hostname"), "The address to listen on"),
            FORCE,
        ],
        ntls_bind,
    ),
    cmd(
        "show",
        "s",
        "Show the NTLS binding",
        READERS,
        &[],
        ntls_show,
    ),
];

// ----- client -----

fn registry_err(msg: String) -> CmdError {
    CmdError::Shell(msg)
}

fn client_register(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    use rustls::pki_types::pem::PemObject as _;
    let name = required(args, "client")?;
    registry::check_name(name).map_err(registry_err)?;
    let address = match (args.get("hostname"), args.get("ip")) {
        (Some(_), Some(_)) => return Err(shell_err("give either -hostname or -ip, not both")),
        (None, None) => return Err(shell_err("give -hostname <fqdn> or -ip <address>")),
        (Some(host), None) => {
            identity::check_name(host).map_err(registry_err)?;
            ClientAddress::Hostname(host.to_owned())
        }
        (None, Some(ip)) => {
            ip.parse::<IpAddr>()
                .map_err(|_| shell_err(format!("'{ip}' is not an IP address")))?;
            ClientAddress::Ip(ip.to_owned())
        }
    };
    let file = format!("{}.pem", address.value());
    let bytes = s.files().read(&file).map_err(|err| match err {
        AreaError::NotFound(_) => shell_err(format!(
            "the client certificate '{file}' is not in your file area: upload it first \
             (scp {file} {}@<appliance>:)",
            s.user()
        )),
        other => other.into(),
    })?;
    let der = CertificateDer::from_pem_slice(&bytes)
        .map_err(|_| shell_err(format!("'{file}' holds no PEM certificate")))?;
    if x509_parser::parse_x509_certificate(der.as_ref()).is_err() {
        return Err(shell_err(format!(
            "'{file}' does not hold a valid X.509 certificate"
        )));
    }
    let record = ClientRecord::new(name, &address, der.as_ref());
    s.ntls()
        .registry
        .update(|clients| {
            if clients.iter().any(|c| c.name == name) {
                return Err(format!("a client named '{name}' is already registered"));
            }
            if let Some(other) = clients.iter().find(|c| {
                c.certificate_der()
                    .is_ok_and(|d| d.as_ref() == der.as_ref())
            }) {
                return Err(format!(
                    "this certificate is already registered for the client '{}'",
                    other.name
                ));
            }
            clients.push(record);
            Ok(())
        })
        .map_err(registry_err)?;
    successful(term, args);
    Ok(())
}

fn client_list(s: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    let clients = s.ntls().registry.list().map_err(registry_err)?;
    if clients.is_empty() {
        term.write("No clients are registered.\n");
        return Ok(());
    }
    let mut out = String::new();
    for (i, c) in clients.iter().enumerate() {
        let _ = writeln!(out, "registered client {}: {}", i + 1, c.name);
    }
    term.write(&out);
    Ok(())
}

/// The partitions of the module, when it can list them.
fn partitions(s: &Session) -> Option<Vec<PartitionInfo>> {
    s.module().partition_list().ok()
}

fn client_show(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let name = required(args, "client")?;
    let client = s.ntls().registry.get(name).map_err(registry_err)?;
    let mut out = format!("Client ID: {}\n", client.name);
    match client.address() {
        ClientAddress::Ip(ip) => {
            let _ = writeln!(out, "IPAddress: {ip}");
        }
        ClientAddress::Hostname(h) => {
            let _ = writeln!(out, "Hostname: {h}");
        }
    }
    let names: Vec<String> = match partitions(s) {
        Some(list) => client
            .partitions
            .iter()
            .filter_map(|serial| list.iter().find(|p| p.serial == *serial))
            .map(|p| format!("\"{}\"", p.name))
            .collect(),
        // The module cannot list partitions now (not initialized, halted): show serials.
        None => client
            .partitions
            .iter()
            .map(|serial| format!("#{serial}"))
            .collect(),
    };
    if names.is_empty() {
        out.push_str("Partitions: (none assigned)\n");
    } else {
        let _ = writeln!(out, "Partitions: {}", names.join(" "));
    }
    term.write(&out);
    Ok(())
}

/// Resolves a partition name to its serial (the module's error when there is none) and lists
/// the serials that still exist.
fn resolve_partition(s: &Session, name: &str) -> Result<(u64, HashSet<u64>), CmdError> {
    let module = s.module();
    let serial = module.partition_show(name)?.serial;
    let live = module
        .partition_list()?
        .into_iter()
        .map(|p| p.serial)
        .collect();
    Ok((serial, live))
}

fn client_assign(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let name = required(args, "client")?;
    let partition = required(args, "partition")?;
    s.ntls().registry.get(name).map_err(registry_err)?;
    let (serial, live) = resolve_partition(s, partition)?;
    s.ntls()
        .registry
        .update(|clients| {
            let client = clients
                .iter_mut()
                .find(|c| c.name == name)
                .ok_or_else(|| registry::not_registered(name))?;
            if client.partitions.contains(&serial) {
                return Err(format!(
                    "the partition '{partition}' is already assigned to the client '{name}'"
                ));
            }
            // Assignments of deleted partitions go (serials are never reused).
            client.partitions.retain(|p| live.contains(p));
            client.partitions.push(serial);
            Ok(())
        })
        .map_err(registry_err)?;
    successful(term, args);
    Ok(())
}

fn client_revoke(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let name = required(args, "client")?;
    let partition = required(args, "partition")?;
    s.ntls().registry.get(name).map_err(registry_err)?;
    let (serial, live) = resolve_partition(s, partition)?;
    s.ntls()
        .registry
        .update(|clients| {
            let client = clients
                .iter_mut()
                .find(|c| c.name == name)
                .ok_or_else(|| registry::not_registered(name))?;
            if !client.partitions.contains(&serial) {
                return Err(format!(
                    "the partition '{partition}' is not assigned to the client '{name}'"
                ));
            }
            client
                .partitions
                .retain(|p| *p != serial && live.contains(p));
            Ok(())
        })
        .map_err(registry_err)?;
    successful(term, args);
    Ok(())
}

fn client_delete(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let name = required(args, "client")?;
    s.ntls().registry.get(name).map_err(registry_err)?;
    let warning = format!(
        "WARNING: This deletes the registration of the client '{name}' and its partition \
         assignments.\nIt can no longer connect, and its open NTLS connections are closed now."
    );
    if !confirm(term, args, &warning, PROCEED) {
        return Ok(());
    }
    s.ntls()
        .registry
        .update(|clients| {
            let before = clients.len();
            clients.retain(|c| c.name != name);
            if clients.len() == before {
                return Err(registry::not_registered(name));
            }
            Ok(())
        })
        .map_err(registry_err)?;
    let closed = s.ntls().close_client(name);
    if closed > 0 {
        term.write(&format!(
            "Closed {closed} open NTLS connection(s) of the client '{name}'.\n"
        ));
    }
    successful(term, args);
    Ok(())
}

fn client_fingerprint(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let name = required(args, "client")?;
    let client = s.ntls().registry.get(name).map_err(registry_err)?;
    let der = client.certificate_der().map_err(registry_err)?;
    term.write(&format!(
        "Certificate fingerprint (SHA-256) of the client '{name}':\n{}\n",
        identity::fingerprint(der.as_ref())
    ));
    Ok(())
}

/// `partition list`'s addition: which clients each partition is assigned to. Empty when no
/// partition is assigned.
pub(super) fn assignments(s: &Session, list: &[PartitionInfo]) -> String {
    let Ok(clients) = s.ntls().registry.list() else {
        return "\nClient assignments: unavailable (the client registrations are unreadable)\n"
            .to_owned();
    };
    let mut out = String::new();
    for p in list {
        let names: Vec<&str> = clients
            .iter()
            .filter(|c| c.partitions.contains(&p.serial))
            .map(|c| c.name.as_str())
            .collect();
        if !names.is_empty() {
            let _ = writeln!(out, "  {}: {}", p.name, names.join(", "));
        }
    }
    if out.is_empty() {
        out
    } else {
        format!("\nAssigned to clients:\n{out}")
    }
}

// ----- ntls -----

fn ntls_bind(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let device = args.positional.as_deref().ok_or_else(|| {
        shell_err("give the network device (eth0, eth1, ..., 'none' with -bind, or 'all')")
    })?;
    let device_ok = !device.is_empty()
        && device.len() <= 15
        && device
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if !device_ok {
        return Err(shell_err(format!(
            "'{device}' is not a network device name"
        )));
    }
    let device = device.to_owned();
    let bind = args.get("bind");
    let address = if device.eq_ignore_ascii_case("all") {
        if bind.is_some() {
            return Err(shell_err("'ntls bind all' takes no -bind address"));
        }
        None
    } else if let Some(b) = bind {
        identity::check_name(b).map_err(registry_err)?;
        Some(b.to_owned())
    } else if device.eq_ignore_ascii_case("none") {
        return Err(shell_err("give -bind <ip|hostname> with the device 'none'"));
    } else {
        let recorded = Settings::load(s.data_dir())
            .interfaces
            .get(&device)
            .filter(|i| i.mode == "static" && !i.ip.is_empty())
            .map(|i| i.ip.clone());
        Some(recorded.ok_or_else(|| {
            shell_err(format!(
                "no static address is recorded for {device} ('network interface'): give \
                 -bind <ip|hostname>"
            ))
        })?)
    };
    Settings::update(s.data_dir(), |st| {
        st.ntls_device = address.as_ref().map(|_| device.clone());
        st.ntls_bind = address.clone();
        Ok(())
    })
    .map_err(CmdError::Shell)?;
    match &address {
        Some(a) => term.write(&format!(
            "Success: NTLS binding hostname or IP Address {a} set.\n"
        )),
        None => term.write(&format!(
            "Success: NTLS binding removed: NTLS listens on the configured address ({}).\n",
            configured_host(s)
        )),
    }
    term.write("NOTICE: The NTLS service must be restarted for new settings to take effect.\n");
    match s.ntls().status() {
        Status::NotServed => {
            term.write(
                "NTLS is not served by this process: the binding applies when the appliance \
                 daemon starts.\n",
            );
            return Ok(());
        }
        Status::Disabled => {
            term.write("NTLS is off in the configuration (listen.ntls = \"off\").\n");
            return Ok(());
        }
        _ => {}
    }
    if confirm_or(
        term,
        args,
        "",
        "If you are sure that you wish to restart NTLS, then type 'proceed'; otherwise type \
         'quit':",
        "NTLS was not restarted: the new binding applies at the next 'service restart ntls'.",
    ) {
        term.write("Restarting NTLS service...\n");
        stop_and_start(s, term, true)?;
    }
    Ok(())
}

fn configured_host(s: &Session) -> String {
    match s.ntls().listen_spec() {
        crate::ntls::ListenSpec::At { host, .. } => host,
        crate::ntls::ListenSpec::Off => "off".to_owned(),
    }
}

fn ntls_show(s: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    let svc = s.ntls().clone();
    let mut out = String::new();
    match svc.target() {
        None => out.push_str("NTLS is off in the configuration (listen.ntls = \"off\").\n"),
        Some((host, port)) => {
            let device = Settings::load(s.data_dir())
                .ntls_device
                .unwrap_or_else(|| "all".to_owned());
            let _ = writeln!(
                out,
                "NTLS bound to network device: {device} IP Address: \"{host}\" (port {port})"
            );
        }
    }
    let _ = writeln!(out, "NTLS service: {}", service_state(s));
    match identity::current(s.data_dir()) {
        Some(cert) => {
            let _ = writeln!(
                out,
                "Server certificate: issued to {}, SHA-256 fingerprint {}",
                identity::subject_name(cert.as_ref())
                    .as_deref()
                    .unwrap_or("?"),
                identity::fingerprint(cert.as_ref())
            );
        }
        None => out.push_str(
            "Server certificate: none yet (created at the daemon's first start, or by \
             'sysconf regenCert')\n",
        ),
    }
    let malformed = svc.malformed.load(std::sync::atomic::Ordering::Relaxed);
    let _ = writeln!(
        out,
        "Connections closed for malformed frames since start: {malformed}"
    );
    term.write(&out);
    Ok(())
}

// ----- sysconf -----

/// `sysconf regenCert [<ip|hostname>]` (SH-SYS-01, NT-02).
pub(super) fn regen_cert(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let name = match args.positional.as_deref() {
        Some(n) => {
            identity::check_name(n).map_err(registry_err)?;
            n.to_owned()
        }
        None => crate::ntls::appliance_name(s.data_dir(), s.appliance().hostname.as_deref()),
    };
    if !confirm(
        term,
        args,
        "WARNING!! This command will overwrite the current server certificate and private key.\n\
         All clients will have to add this server again with this new certificate.",
        PROCEED,
    ) {
        return Ok(());
    }
    let limits = s.files().limits();
    let pem = identity::generate(s.data_dir(), &name, limits).map_err(CmdError::Shell)?;
    if s.user() != "admin" {
        s.files().write(identity::CERT_FILE, pem.as_bytes())?;
    }
    term.write(&format!(
        "'{}' successful. NTLS must be (re)started before clients can connect.\n\
         Please use the 'ntls show' command to ensure that NTLS is bound to an appropriate \
         network device or IP address/hostname for the network device(s) NTLS should be active \
         on. Use 'ntls bind' to change this binding if necessary.\n\
         The new certificate is issued to {name}; clients fetch it as '{}' from the admin's \
         file area.\n",
        args.command_name(),
        identity::CERT_FILE
    ));
    Ok(())
}

/// `sysconf fingerprint ntls`.
pub(super) fn fingerprint_ntls(s: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    let cert = identity::current(s.data_dir()).ok_or_else(|| {
        shell_err(
            "the NTLS certificate has not been created yet (it is at the daemon's first start, \
             or by 'sysconf regenCert')",
        )
    })?;
    term.write(&format!(
        "NTLS certificate (issued to {}) fingerprint (SHA-256):\n{}\n",
        identity::subject_name(cert.as_ref())
            .as_deref()
            .unwrap_or("?"),
        identity::fingerprint(cert.as_ref())
    ));
    Ok(())
}

// ----- service ntls -----

/// The `ntls` line of `service status|list`.
pub(super) fn service_state(s: &Session) -> String {
    let svc = s.ntls();
    match svc.status() {
        Status::Running(addr) => {
            let n = svc.connected().len();
            format!("running ({addr}), {n} client connection(s)")
        }
        Status::Stopped => "stopped".to_owned(),
        Status::Failed(err) => format!("not running (the last start failed: {err})"),
        Status::Disabled => "off (listen.ntls = \"off\" in the configuration)".to_owned(),
        Status::NotServed => "not running (no appliance daemon runs)".to_owned(),
    }
}

/// `service start|stop|restart ntls`.
pub(super) fn service_control(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let verb = args.path.last().copied().unwrap_or("restart");
    match s.ntls().status() {
        Status::NotServed => {
            return Err(shell_err(
                "NTLS runs in the appliance daemon, and none runs: start it with 'strongroomd \
                 run'",
            ));
        }
        Status::Disabled => {
            return Err(shell_err(
                "NTLS is off in the configuration (listen.ntls = \"off\"): configure an address \
                 and restart strongroomd",
            ));
        }
        _ => {}
    }
    if verb == "start" {
        if let Status::Running(addr) = s.ntls().status() {
            term.write(&format!("ntls is already running ({addr}).\n"));
            return Ok(());
        }
        return start(s, term);
    }
    term.write("Checking for connected clients before stopping NTLS service:\n");
    let connected = s.ntls().connected();
    if connected.is_empty() {
        term.write("There are no connected clients. Proceeding...\n");
    } else {
        let mut out = format!(
            "There are {} connected client connection(s):\n",
            connected.len()
        );
        for (client, peer) in &connected {
            let _ = writeln!(out, "  {client} ({peer})");
        }
        term.write(&out);
        if !confirm(
            term,
            args,
            "WARNING: Stopping NTLS closes these connections: their applications lose their \
             sessions.",
            PROCEED,
        ) {
            return Ok(());
        }
    }
    stop_and_start(s, term, verb == "restart")
}

fn stop_and_start(s: &Session, term: &mut dyn Terminal, restart: bool) -> CmdResult {
    s.ntls().stop();
    term.write("Stopping ntls: [ OK ]\n");
    if restart { start(s, term) } else { Ok(()) }
}

fn start(s: &Session, term: &mut dyn Terminal) -> CmdResult {
    match s.ntls().start(None) {
        Ok(addr) => {
            term.write(&format!(
                "Starting ntls: [ OK ]\nNTLS is listening on {addr}.\n"
            ));
            Ok(())
        }
        Err(err) => {
            term.write("Starting ntls: [FAILED]\n");
            Err(shell_err(format!("NTLS did not start: {err}")))
        }
    }
}
