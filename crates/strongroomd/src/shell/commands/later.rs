//! Commands whose subsystem is not in this version: remote log forwarding over TLS (`syslog
//! remotehost`, `audit remotehost cert`). They exist with the reference's options and show in
//! `help`, so that scripts and people find them, and each answers with a shell error that says
//! so; none pretends to succeed.

use super::super::engine::{ADMIN, AUDIT, Access, Args, Node, Opt};
use super::super::{CmdResult, Session, Terminal};
use super::{FORCE, Handler, cmd, cmd_pos, group, opt, shell_err};

fn unavailable(args: &Args, what: &str) -> CmdResult {
    Err(shell_err(format!(
        "'{}' is not available in this version of Strongroom: {what} arrives in a later version",
        args.command_name()
    )))
}

/// Remote log forwarding.
pub(super) fn remote_forwarding(_: &mut Session, _: &mut dyn Terminal, args: &Args) -> CmdResult {
    unavailable(args, "remote log forwarding")
}

const HOST_OPT: Opt = opt("host", "h", Some("ip|hostname"), "The remote server");
const PORT_OPT: Opt = opt("port", "po", Some("port"), "The remote port");

/// `audit remotehost cert`.
pub(super) const REMOTE_CERT_AUDIT: &[Node<Handler>] = &cert(AUDIT);
/// `syslog remotehost`.
pub(super) const REMOTEHOST_SYSLOG: &[Node<Handler>] = &remotehost(ADMIN, &cert(ADMIN));

const REMOTE_ADD_OPTS: &[Opt] = &[
    HOST_OPT,
    opt("protocol", "pr", Some("udp|tcp|relp"), "Transport protocol"),
    PORT_OPT,
    opt("mode", "m", Some("mutual"), "Mutual TLS authentication"),
    opt("tls", "t", None, "Use TLS"),
    opt(
        "name",
        "n",
        Some("cn"),
        "The server certificate's common name",
    ),
];
const REMOTE_DELETE_OPTS: &[Opt] = &[HOST_OPT, PORT_OPT, FORCE];
const CSR_OPTS: &[Opt] = &[opt("csr", "c", None, "Write a CSR to your file area")];

const fn remotehost(access: Access, certs: &'static [Node<Handler>]) -> [Node<Handler>; 4] {
    [
        cmd(
            "add",
            "a",
            "Add a remote logging server",
            access,
            REMOTE_ADD_OPTS,
            remote_forwarding,
        ),
        cmd(
            "delete",
            "d",
            "Delete a remote logging server",
            access,
            REMOTE_DELETE_OPTS,
            remote_forwarding,
        ),
        cmd(
            "list",
            "l",
            "List the remote logging servers",
            access,
            &[],
            remote_forwarding,
        ),
        group("cert", "c", "> TLS certificates for remote logging", certs),
    ]
}

const fn cert(access: Access) -> [Node<Handler>; 4] {
    [
        cmd(
            "gen",
            "g",
            "Generate a key and certificate signing request",
            access,
            CSR_OPTS,
            remote_forwarding,
        ),
        cmd_pos(
            "install",
            "i",
            "Install the signed certificate from your file area",
            access,
            "file",
            &[],
            remote_forwarding,
        ),
        cmd_pos(
            "installCA",
            "installc",
            "Install the CA certificate from your file area",
            access,
            "file",
            &[],
            remote_forwarding,
        ),
        cmd(
            "status",
            "s",
            "Show which certificates are configured",
            access,
            &[],
            remote_forwarding,
        ),
    ]
}
