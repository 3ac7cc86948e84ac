//! `audit remotehost` (AU-60..AU-63, the Auditor's) and `syslog remotehost` (SH-LOG-01..04,
//! the administrator's): the remote syslog servers of each stream and the certificates of
//! their TLS connections. Every change restarts the stream's forwarding, as the reference's
//! `Stopping syslog` / `Starting syslog` lines say.

use crate::remotelog::{self, Protocol, Stream, TargetSpec};

use super::super::engine::{ADMIN, AUDIT, Access, Args, Node, Opt};
use super::super::{CmdResult, Session, Terminal};
use super::{FORCE, Handler, PROCEED, cmd, cmd_pos, confirm, group, opt, required, shell_err};

const HOST_OPT: Opt = opt("host", "h", Some("ip|hostname"), "The remote server");
const PORT_OPT: Opt = opt("port", "po", Some("port"), "The remote port");
const ADD_OPTS: &[Opt] = &[
    HOST_OPT,
    opt("protocol", "pr", Some("udp|tcp|relp"), "Transport protocol"),
    PORT_OPT,
    opt("mode", "m", Some("mutual"), "Mutual TLS authentication"),
    opt("tls", "t", None, "Use TLS"),
    opt(
        "name",
        "n",
        Some("cn"),
        "The name the server's certificate carries",
    ),
];
const DELETE_OPTS: &[Opt] = &[HOST_OPT, PORT_OPT, FORCE];
const CSR_OPTS: &[Opt] = &[opt("csr", "c", None, "Write a CSR to your file area")];

/// Handlers bound to one stream (the command tree takes plain function pointers).
macro_rules! bound {
    ($($name:ident => $f:ident($stream:expr);)*) => {
        $(fn $name(s: &mut Session, t: &mut dyn Terminal, a: &Args) -> CmdResult {
            $f($stream, s, t, a)
        })*
    };
}

bound! {
    audit_add => add(Stream::Audit);
    audit_delete => delete(Stream::Audit);
    audit_list => list(Stream::Audit);
    audit_gen => cert_gen(Stream::Audit);
    audit_install => cert_install(Stream::Audit);
    audit_install_ca => cert_install_ca(Stream::Audit);
    audit_status => cert_status(Stream::Audit);
    syslog_add => add(Stream::Syslog);
    syslog_delete => delete(Stream::Syslog);
    syslog_list => list(Stream::Syslog);
    syslog_gen => cert_gen(Stream::Syslog);
    syslog_install => cert_install(Stream::Syslog);
    syslog_install_ca => cert_install_ca(Stream::Syslog);
    syslog_status => cert_status(Stream::Syslog);
}

const AUDIT_CERT: &[Node<Handler>] = &cert(
    AUDIT,
    [audit_gen, audit_install, audit_install_ca, audit_status],
);
const SYSLOG_CERT: &[Node<Handler>] = &cert(
    ADMIN,
    [syslog_gen, syslog_install, syslog_install_ca, syslog_status],
);

/// `audit remotehost`.
pub(super) static AUDIT_REMOTEHOST: &[Node<Handler>] = &[
    cmd(
        "add",
        "a",
        "Add a remote logging server",
        AUDIT,
        ADD_OPTS,
        audit_add,
    ),
    cmd(
        "delete",
        "d",
        "Delete a remote logging server",
        AUDIT,
        DELETE_OPTS,
        audit_delete,
    ),
    cmd(
        "list",
        "l",
        "List the remote logging servers",
        AUDIT,
        &[],
        audit_list,
    ),
    cmd(
        "clear",
        "c",
        "Delete every remote logging server",
        AUDIT,
        &[FORCE],
        audit_clear,
    ),
    group(
        "cert",
        "c",
        "> TLS certificates for remote logging",
        AUDIT_CERT,
    ),
];

/// `syslog remotehost`.
pub(super) static SYSLOG_REMOTEHOST: &[Node<Handler>] = &[
    cmd(
        "add",
        "a",
        "Add a remote logging server",
        ADMIN,
        ADD_OPTS,
        syslog_add,
    ),
    cmd(
        "delete",
        "d",
        "Delete a remote logging server",
        ADMIN,
        DELETE_OPTS,
        syslog_delete,
    ),
    cmd(
        "list",
        "l",
        "List the remote logging servers",
        ADMIN,
        &[],
        syslog_list,
    ),
    group(
        "cert",
        "c",
        "> TLS certificates for remote logging",
        SYSLOG_CERT,
    ),
];

/// `gen`, `install`, `installCA`, `status` with their handlers in this order.
const fn cert(access: Access, h: [Handler; 4]) -> [Node<Handler>; 4] {
    [
        cmd(
            "gen",
            "g",
            "Generate a key and certificate signing request",
            access,
            CSR_OPTS,
            h[0],
        ),
        cmd_pos(
            "install",
            "i",
            "Install the signed certificate from your file area",
            access,
            "file",
            &[],
            h[1],
        ),
        cmd_pos(
            "installCA",
            "installc",
            "Install the CA certificate from your file area",
            access,
            "file",
            &[],
            h[2],
        ),
        cmd(
            "status",
            "s",
            "Show which certificates are configured",
            access,
            &[],
            h[3],
        ),
    ]
}

/// The Auditor must be logged in to change the audit servers.
fn may_change(stream: Stream, s: &Session) -> CmdResult {
    match stream {
        Stream::Audit => super::audit::require_auditor(s),
        Stream::Syslog => Ok(()),
    }
}

/// Restarts the stream's forwarding with the reference's lines.
fn restart(stream: Stream, s: &Session, term: &mut dyn Terminal) {
    term.write("Stopping syslog: [ OK ]\n");
    s.appliance().remote_log.reload(stream);
    term.write("Starting syslog: [ OK ]\n");
}

fn save(stream: Stream, s: &Session, specs: &[TargetSpec]) -> CmdResult {
    remotelog::save(s.data_dir(), stream, specs)
        .map_err(|e| shell_err(format!("cannot save the remote hosts: {e}")))
}

fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

fn add(stream: Stream, s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    may_change(stream, s)?;
    let host = required(args, "host")?.to_owned();
    if !valid_host(&host) {
        return Err(shell_err(format!("'{host}' is not a host name or address")));
    }
    let protocol = args.get("protocol").unwrap_or("udp");
    let protocol =
        Protocol::parse(protocol).ok_or_else(|| shell_err("the protocol is udp, tcp or relp"))?;
    if protocol == Protocol::Relp {
        return Err(shell_err(
            "the relp protocol is not supported in this version: use '-protocol tcp' (with \
             '-tls' for TLS)",
        ));
    }
    let port: u16 = args
        .get("port")
        .unwrap_or("514")
        .parse()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| shell_err("the port is a number from 1 to 65535"))?;
    let tls = args.flag("tls");
    if tls && protocol == Protocol::Udp {
        return Err(shell_err("TLS needs the tcp protocol"));
    }
    let mutual = match args.get("mode") {
        Some(m) if m.eq_ignore_ascii_case("mutual") => true,
        Some(_) => return Err(shell_err("the only mode is 'mutual'")),
        None => false,
    };
    if mutual && !tls {
        return Err(shell_err("'-mode mutual' needs '-tls'"));
    }
    let name = args.get("name").map(str::to_owned);
    if name.is_some() && !tls {
        return Err(shell_err(
            "'-name' names the server's TLS certificate: it needs '-tls'",
        ));
    }
    let mut specs = remotelog::load(s.data_dir(), stream);
    if specs.iter().any(|h| h.same_place(&host, port)) {
        return Err(shell_err(format!("{host}:{port} is already configured")));
    }
    // AU-60: the audit and syslog streams never share a receiver.
    let other = stream.other();
    if remotelog::load(s.data_dir(), other)
        .iter()
        .any(|h| h.same_place(&host, port))
    {
        return Err(shell_err(format!(
            "{host}:{port} already receives the {} stream: remote syslog and remote audit \
             logging need different servers or ports",
            if other == Stream::Audit {
                "audit"
            } else {
                "appliance syslog"
            }
        )));
    }
    specs.push(TargetSpec {
        host: host.clone(),
        port,
        protocol,
        tls,
        mutual,
        name,
    });
    save(stream, s, &specs)?;
    restart(stream, s, term);
    term.write(&format!(
        "{host} added successfully\nMake sure the rsyslog service on {host} is properly \
         configured to receive the logs\n"
    ));
    if tls {
        let st = remotelog::status(s.data_dir(), stream);
        let w = stream.word();
        if !st.ca {
            term.write(&format!(
                "NOTE: no CA certificate is installed: nothing is sent until '{w} remotehost \
                 cert installCA' installs one.\n"
            ));
        }
        if mutual && !(st.cert && st.key) {
            term.write(&format!(
                "NOTE: the appliance's certificate is not installed: nothing is sent until \
                 '{w} remotehost cert install' installs it.\n"
            ));
        }
    }
    Ok(())
}

fn delete(stream: Stream, s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    may_change(stream, s)?;
    let host = required(args, "host")?.to_owned();
    let port = required(args, "port")?.to_owned();
    let port_n: u16 = port
        .parse()
        .map_err(|_| shell_err("the port is a number from 1 to 65535"))?;
    let mut specs = remotelog::load(s.data_dir(), stream);
    let before = specs.len();
    specs.retain(|h| !h.same_place(&host, port_n));
    if specs.len() == before {
        return Err(shell_err(format!("{host}:{port} is not configured")));
    }
    let warning = format!(
        "WARNING! This action will delete the remote server configuration for {host} with port {port}."
    );
    if !confirm(term, args, &warning, PROCEED) {
        return Ok(());
    }
    save(stream, s, &specs)?;
    restart(stream, s, term);
    Ok(())
}

fn list(stream: Stream, s: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    let mut out = String::from("\nRemote logging server(s):\n=====\n");
    for h in remotelog::load(s.data_dir(), stream) {
        out.push_str(&h.listed());
        out.push('\n');
    }
    term.write(&out);
    Ok(())
}

fn audit_clear(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    may_change(Stream::Audit, s)?;
    let warning = "WARNING! This action will delete every remote audit logging server.";
    if !confirm(term, args, warning, PROCEED) {
        return Ok(());
    }
    save(Stream::Audit, s, &[])?;
    restart(Stream::Audit, s, term);
    Ok(())
}

// ----- certificates -----

/// The name the appliance's certificate is requested for: its recorded host name, the
/// configured one, or the host's.
fn appliance_name(s: &Session) -> String {
    crate::settings::Settings::load(s.data_dir())
        .hostname
        .or_else(|| s.appliance().hostname.clone())
        .or_else(crate::ntls::identity::host_name)
        .unwrap_or_else(|| "strongroom".to_owned())
}

fn cert_gen(stream: Stream, s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    if !args.flag("csr") {
        return Err(shell_err(format!(
            "say what to generate: '{} remotehost cert gen -csr'",
            stream.word()
        )));
    }
    let csr =
        remotelog::generate_csr(s.data_dir(), stream, &appliance_name(s)).map_err(shell_err)?;
    s.files().write(remotelog::CSR_FILE, csr.pem.as_bytes())?;
    tracing::info!(stream = stream.word(), name = %csr.name, "remote logging CSR generated");
    term.write("CSR generated successfully.\n");
    Ok(())
}

fn file_arg(args: &Args) -> Result<&str, super::super::CmdError> {
    args.positional
        .as_deref()
        .ok_or_else(|| shell_err("name the file in your file area"))
}

fn cert_install_ca(
    stream: Stream,
    s: &mut Session,
    term: &mut dyn Terminal,
    args: &Args,
) -> CmdResult {
    let file = file_arg(args)?;
    term.write(&format!("Attempting to install {file}\n"));
    let pem = s.files().read(file)?;
    remotelog::install_ca(s.data_dir(), stream, &pem).map_err(shell_err)?;
    restart(stream, s, term);
    term.write("CA certificate installed successfully.\n");
    Ok(())
}

fn cert_install(
    stream: Stream,
    s: &mut Session,
    term: &mut dyn Terminal,
    args: &Args,
) -> CmdResult {
    let file = file_arg(args)?;
    term.write(&format!("Attempting to install {file}\n"));
    let pem = s.files().read(file)?;
    remotelog::install_cert(s.data_dir(), stream, &pem).map_err(shell_err)?;
    restart(stream, s, term);
    term.write("HSM certificate installed successfully.\n");
    Ok(())
}

fn cert_status(stream: Stream, s: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    let st = remotelog::status(s.data_dir(), stream);
    let word = |b: bool| if b { "Configured" } else { "Not Configured" };
    term.write(&format!(
        "\nCA Certificate: {}\nHSM Certificate: {}\nHSM Private Key: {}\n",
        word(st.ca),
        word(st.cert),
        word(st.key)
    ));
    Ok(())
}
