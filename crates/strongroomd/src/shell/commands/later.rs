//! Commands whose subsystem is not in this version: the NTLS link and its clients (`client`,
//! `ntls`, `sysconf regenCert`), the audit log (`audit`, `syslog remotehost`) and the HSM's
//! performance and utilization metrics (`hsm information`, `hsm qos`). They exist with the
//! reference's options and show in `help`, so that scripts and people find them, and each
//! answers with a shell error that says so; none pretends to succeed.

use super::super::engine::{ADMIN, ADMIN_OPERATOR, AUDIT, Access, Args, Node, Opt, READERS};
use super::super::{CmdResult, Session, Terminal};
use super::{FORCE, Handler, PASSWORD, cmd, cmd_pos, group, opt, shell_err};

fn unavailable(args: &Args, what: &str) -> CmdResult {
    Err(shell_err(format!(
        "'{}' is not available in this version of Strongroom: {what} arrives in a later version",
        args.command_name()
    )))
}

/// NTLS, client registration and the server certificate.
pub(super) fn issue_4(_: &mut Session, _: &mut dyn Terminal, args: &Args) -> CmdResult {
    unavailable(
        args,
        "the network trust link (NTLS) with its clients and certificates",
    )
}

/// The module's audit log, its remote forwarding, and remote syslog.
pub(super) fn issue_5(_: &mut Session, _: &mut dyn Terminal, args: &Args) -> CmdResult {
    unavailable(args, "audit logging (and remote log forwarding)")
}

/// The performance monitor and partition utilization metrics.
pub(super) fn issue_3(_: &mut Session, _: &mut dyn Terminal, args: &Args) -> CmdResult {
    unavailable(args, "the HSM's performance and utilization metrics")
}

const CLIENT_OPT: Opt = opt("client", "c", Some("name"), "Client name");
const PARTITION_OPT: Opt = opt("partition", "p", Some("name"), "Partition name");

pub(super) static CLIENT: &[Node<Handler>] = &[
    cmd(
        "register",
        "reg",
        "Register a client with the certificate uploaded to your file area",
        ADMIN_OPERATOR,
        &[
            CLIENT_OPT,
            opt("hostname", "h", Some("fqdn"), "The client's host name"),
            opt("ip", "i", Some("address"), "The client's IP address"),
        ],
        issue_4,
    ),
    cmd(
        "list",
        "l",
        "List the registered clients",
        READERS,
        &[],
        issue_4,
    ),
    cmd(
        "show",
        "sh",
        "Show a client and its partitions",
        READERS,
        &[CLIENT_OPT],
        issue_4,
    ),
    cmd(
        "assignPartition",
        "a",
        "Let a client see a partition",
        ADMIN_OPERATOR,
        &[CLIENT_OPT, PARTITION_OPT],
        issue_4,
    ),
    cmd(
        "revokePartition",
        "rev",
        "Withdraw a partition from a client",
        ADMIN_OPERATOR,
        &[CLIENT_OPT, PARTITION_OPT],
        issue_4,
    ),
    cmd(
        "delete",
        "d",
        "Delete a client registration",
        ADMIN_OPERATOR,
        &[CLIENT_OPT, FORCE],
        issue_4,
    ),
];

pub(super) static NTLS: &[Node<Handler>] = &[
    cmd_pos(
        "bind",
        "b",
        "Bind NTLS to a network device (or 'none') and address",
        ADMIN,
        "device",
        &[
            opt("bind", "b", Some("ip|hostname"), "The address to listen on"),
            FORCE,
        ],
        issue_4,
    ),
    cmd("show", "s", "Show the NTLS binding", READERS, &[], issue_4),
];

pub(super) static QOS: &[Node<Handler>] = &[group(
    "metrics",
    "m",
    "> Utilization counters",
    &[
        cmd(
            "show",
            "s",
            "Show the utilization counters",
            READERS,
            &[opt(
                "export",
                "e",
                Some("file"),
                "Also write them to a file",
            )],
            issue_3,
        ),
        cmd(
            "reset",
            "r",
            "Reset the utilization counters",
            ADMIN,
            &[
                opt("export", "e", Some("file"), "Write them to a file first"),
                opt("display", "d", None, "Show them first"),
            ],
            issue_3,
        ),
    ],
)];

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
