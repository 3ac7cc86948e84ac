//! Commands whose subsystem is not in this version: the audit log (`audit`, `syslog
//! remotehost`). They exist with the reference's options and show in `help`, so that scripts
//! and people find them, and each answers with a shell error that says so; none pretends to
//! succeed.

use super::super::engine::{ADMIN, AUDIT, Access, Args, Node, Opt};
use super::super::{CmdResult, Session, Terminal};
use super::{FORCE, Handler, PASSWORD, cmd, cmd_pos, group, opt, shell_err};

fn unavailable(args: &Args, what: &str) -> CmdResult {
    Err(shell_err(format!(
        "'{}' is not available in this version of Strongroom: {what} arrives in a later version",
        args.command_name()
    )))
}

/// The module's audit log, its remote forwarding, and remote syslog.
pub(super) fn issue_5(_: &mut Session, _: &mut dyn Terminal, args: &Args) -> CmdResult {
    unavailable(args, "audit logging (and remote log forwarding)")
}

const HOST_OPT: Opt = opt("host", "h", Some("ip|hostname"), "The remote server");
const PORT_OPT: Opt = opt("port", "po", Some("port"), "The remote port");

/// `remotehost` of `audit` and `syslog` (the same options in both).
pub(super) const REMOTEHOST_AUDIT: &[Node<Handler>] = &remotehost(AUDIT, &cert(AUDIT));
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
            issue_5,
        ),
        cmd(
            "delete",
            "d",
            "Delete a remote logging server",
            access,
            REMOTE_DELETE_OPTS,
            issue_5,
        ),
        cmd(
            "list",
            "l",
            "List the remote logging servers",
            access,
            &[],
            issue_5,
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
            issue_5,
        ),
        cmd_pos(
            "install",
            "i",
            "Install the signed certificate from your file area",
            access,
            "file",
            &[],
            issue_5,
        ),
        cmd_pos(
            "installCA",
            "installc",
            "Install the CA certificate from your file area",
            access,
            "file",
            &[],
            issue_5,
        ),
        cmd(
            "status",
            "s",
            "Show which certificates are configured",
            access,
            &[],
            issue_5,
        ),
    ]
}

pub(super) static AUDIT_GROUP: &[Node<Handler>] = &[
    cmd(
        "init",
        "i",
        "Initialize the Audit role",
        AUDIT,
        &[
            PASSWORD,
            opt("domain", "d", Some("domain"), "Audit domain"),
            FORCE,
        ],
        issue_5,
    ),
    cmd(
        "changePwd",
        "ch",
        "Change the Audit role password",
        AUDIT,
        &[
            opt("oldpassword", "o", Some("password"), "The current password"),
            opt("newpassword", "n", Some("password"), "The new password"),
        ],
        issue_5,
    ),
    cmd(
        "login",
        "logi",
        "Log in as the Auditor",
        AUDIT,
        &[PASSWORD],
        issue_5,
    ),
    cmd("logout", "logo", "Log out the Auditor", AUDIT, &[], issue_5),
    cmd(
        "config",
        "co",
        "Set audit parameters",
        AUDIT,
        &[
            opt(
                "parameter",
                "p",
                Some("name"),
                "event, rotation, rotationsize",
            ),
            opt("value", "v", Some("value"), "The value ('?' lists them)"),
        ],
        issue_5,
    ),
    cmd(
        "sync",
        "sy",
        "Synchronize the HSM time to the host time",
        AUDIT,
        &[],
        issue_5,
    ),
    cmd(
        "show",
        "sh",
        "Show the audit logging settings",
        AUDIT,
        &[],
        issue_5,
    ),
    group(
        "log",
        "l",
        "> Manage audit log files",
        &[
            cmd(
                "tarlogs",
                "t",
                "Archive the audit logs to your file area",
                AUDIT,
                &[],
                issue_5,
            ),
            cmd(
                "clear",
                "c",
                "Delete archived audit logs",
                AUDIT,
                &[FORCE],
                issue_5,
            ),
            cmd_pos(
                "verify",
                "v",
                "Verify an audit log file",
                AUDIT,
                "file",
                &[],
                issue_5,
            ),
            cmd("list", "l", "List the audit log files", AUDIT, &[], issue_5),
        ],
    ),
    group(
        "secret",
        "se",
        "> Export/import the audit logging secret",
        &[
            cmd("export", "e", "Export the log secret", AUDIT, &[], issue_5),
            cmd(
                "import",
                "i",
                "Import a log secret",
                AUDIT,
                &[opt("file", "f", Some("file"), "The secret file")],
                issue_5,
            ),
        ],
    ),
    group(
        "remotehost",
        "r",
        "> Configure audit logging remote hosts",
        REMOTEHOST_AUDIT,
    ),
];
