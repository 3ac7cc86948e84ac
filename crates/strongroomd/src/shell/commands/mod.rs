//! The shell's command tree, grouped as the reference groups it, and the helpers the
//! handlers share. Each group's commands and handlers live in their own file.

mod accounts;
mod appliance;
mod audit;
mod hsm;
mod metrics;
mod ntls;
mod partition;
mod remotehost;

use strongroom_module::Secret;

use super::engine::{ANYONE, Access, Args, CONSOLE_ADMIN, Kind, Node, Opt};
use super::{CmdError, CmdResult, Session, Terminal};
use crate::files::AreaError;

pub(crate) type Handler = fn(&mut Session, &mut dyn Terminal, &Args) -> CmdResult;

const fn cmd(
    name: &'static str,
    short: &'static str,
    help: &'static str,
    access: Access,
    opts: &'static [Opt],
    handler: Handler,
) -> Node<Handler> {
    Node {
        name,
        short,
        help,
        access,
        kind: Kind::Command {
            opts,
            positional: None,
            handler,
        },
    }
}

/// A command that also takes one positional value (`net hostname NAME`).
const fn cmd_pos(
    name: &'static str,
    short: &'static str,
    help: &'static str,
    access: Access,
    positional: &'static str,
    opts: &'static [Opt],
    handler: Handler,
) -> Node<Handler> {
    Node {
        name,
        short,
        help,
        access,
        kind: Kind::Command {
            opts,
            positional: Some(positional),
            handler,
        },
    }
}

/// A group: shown to a role when at least one of its commands is.
const fn group(
    name: &'static str,
    short: &'static str,
    help: &'static str,
    children: &'static [Node<Handler>],
) -> Node<Handler> {
    Node {
        name,
        short,
        help,
        access: ANYONE,
        kind: Kind::Group(children),
    }
}

const fn opt(
    name: &'static str,
    short: &'static str,
    value: Option<&'static str>,
    help: &'static str,
) -> Opt {
    Opt {
        name,
        short,
        value,
        help,
    }
}

const FORCE: Opt = opt("force", "f", None, "Skip the 'proceed' confirmation");
const PASSWORD: Opt = opt(
    "password",
    "pwd",
    Some("password"),
    "Give the password instead of being prompted",
);

pub(crate) static ROOT: &[Node<Handler>] = &[
    cmd(
        "help",
        "he",
        "Show the available commands (also 'help <group>', '<command> -help')",
        ANYONE,
        &[],
        help_cmd,
    ),
    cmd("exit", "e", "End this shell session", ANYONE, &[], exit_cmd),
    group("hsm", "hs", "> HSM administration", hsm::HSM),
    group(
        "partition",
        "par",
        "> Application partitions",
        partition::PARTITION,
    ),
    group("client", "c", "> NTLS client registration", ntls::CLIENT),
    group("ntls", "nt", "> The network trust link service", ntls::NTLS),
    group("audit", "a", "> Audit logging", audit::AUDIT_GROUP),
    group("my", "m", "> Your own account and files", accounts::MY),
    group("network", "n", "> Network settings", appliance::NETWORK),
    group("service", "se", "> Appliance services", appliance::SERVICE),
    group("status", "st", "> Appliance status", appliance::STATUS),
    group("syslog", "sysl", "> The appliance log", appliance::SYSLOG),
    group(
        "sysconf",
        "sy",
        "> Appliance configuration",
        appliance::SYSCONF,
    ),
    group("user", "u", "> Appliance users", accounts::USER),
    group("package", "pa", "> Software packages", appliance::PACKAGE),
    Node {
        name: "maintenance",
        short: "mai",
        help: "> Console-only emulation of the appliance hardware (tamper sensors, \
               decommission button)",
        access: CONSOLE_ADMIN,
        kind: Kind::Group(hsm::MAINTENANCE),
    },
];

// ----- helpers -----

fn shell_err(msg: impl Into<String>) -> CmdError {
    CmdError::Shell(msg.into())
}

fn required<'a>(args: &'a Args, name: &str) -> Result<&'a str, CmdError> {
    args.get(name)
        .ok_or_else(|| shell_err(format!("the option '-{name}' is required")))
}

/// Asks for confirmation (SH-G-10, SH-G-11). `false` means nothing may change.
fn confirm(term: &mut dyn Terminal, args: &Args, warning: &str, question: &str) -> bool {
    confirm_or(
        term,
        args,
        warning,
        question,
        "Command aborted: nothing was changed.",
    )
}

/// Like [`confirm`], printing `aborted` when the answer is not `proceed`.
fn confirm_or(
    term: &mut dyn Terminal,
    args: &Args,
    warning: &str,
    question: &str,
    aborted: &str,
) -> bool {
    if !warning.is_empty() {
        term.write(&format!("\n{warning}\n\n"));
    }
    if args.flag("force") {
        term.write("Force option used. Proceed prompt bypassed.\n\n");
        return true;
    }
    term.write(&format!("{question}\n\n"));
    match term.read_line("> ") {
        Some(answer) if answer.trim().eq_ignore_ascii_case("proceed") => {
            term.write("Proceeding...\n");
            true
        }
        None => {
            term.write(&format!("\n{aborted}\n"));
            false
        }
        _ => {
            term.write(&format!("{aborted}\n"));
            false
        }
    }
}

const PROCEED: &str =
    "If you are sure that you wish to proceed, then type 'proceed', otherwise type 'quit'";

/// A secret from its option, or prompted for (twice when `confirm_twice`).
fn secret(
    term: &mut dyn Terminal,
    args: &Args,
    opt: &str,
    prompt: &str,
    confirm_twice: bool,
) -> Result<Secret, CmdError> {
    if let Some(v) = args.get(opt) {
        return Ok(Secret::new(v));
    }
    term.write(&format!("{prompt}\n"));
    let first = term.read_secret("> ").ok_or_else(input_ended(term))?;
    if confirm_twice {
        term.write("Please re-enter to confirm:\n");
        let second = term.read_secret("> ").ok_or_else(input_ended(term))?;
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            first.expose().as_bytes(),
            second.expose().as_bytes(),
        )) {
            return Err(shell_err(
                "the two entries do not match; nothing was changed",
            ));
        }
    }
    Ok(first)
}

fn input_ended(term: &mut dyn Terminal) -> impl FnOnce() -> CmdError + '_ {
    move || {
        term.write("\n");
        shell_err("input ended before the answer; nothing was changed")
    }
}

impl From<AreaError> for CmdError {
    fn from(err: AreaError) -> Self {
        Self::Shell(err.to_string())
    }
}

fn successful(term: &mut dyn Terminal, args: &Args) {
    term.write(&format!("'{}' successful.\n", args.command_name()));
}

// ----- top level -----

fn help_cmd(_: &mut Session, _: &mut dyn Terminal, _: &Args) -> CmdResult {
    Ok(())
}

fn exit_cmd(_: &mut Session, _: &mut dyn Terminal, _: &Args) -> CmdResult {
    Ok(())
}
