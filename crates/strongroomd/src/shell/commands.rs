//! The shell's command tree and handlers for the module's administration (`hsm`, `partition`,
//! and the console-only `maintenance` group standing in for the appliance's hardware).

use strongroom_module::{Destructive, InitKind, InitRequest, PartitionSize, Secret, TamperKind};

use super::engine::{
    ADMIN, ADMIN_OPERATOR, ANYONE, Access, Args, CONSOLE_ADMIN, Kind, Node, Opt, READERS,
};
use super::{CmdError, CmdResult, Session, Terminal, render};

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

const fn group(
    name: &'static str,
    short: &'static str,
    help: &'static str,
    access: Access,
    children: &'static [Node<Handler>],
) -> Node<Handler> {
    Node {
        name,
        short,
        help,
        access,
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
    group("hsm", "hs", "HSM administration", ANYONE, HSM),
    group(
        "partition",
        "par",
        "Application partitions",
        READERS,
        PARTITION,
    ),
    group(
        "maintenance",
        "mai",
        "Console-only emulation of the appliance hardware (tamper sensors, decommission button)",
        CONSOLE_ADMIN,
        MAINTENANCE,
    ),
];

static HSM: &[Node<Handler>] = &[
    cmd(
        "show",
        "sh",
        "Show the HSM's details",
        ANYONE,
        &[],
        hsm_show,
    ),
    cmd(
        "login",
        "logi",
        "Log in as HSM Security Officer",
        ADMIN_OPERATOR,
        &[PASSWORD],
        hsm_login,
    ),
    cmd(
        "logout",
        "logo",
        "Log out the HSM Security Officer",
        ADMIN_OPERATOR,
        &[],
        hsm_logout,
    ),
    cmd(
        "changePw",
        "changep",
        "Change the HSM SO password",
        ADMIN,
        &[
            opt("oldpassword", "o", Some("password"), "The current password"),
            opt("newpassword", "n", Some("password"), "The new password"),
        ],
        hsm_changepw,
    ),
    cmd(
        "init",
        "i",
        "Initialize the HSM (hard on a zeroized HSM, soft on an initialized one)",
        ADMIN,
        &[
            opt(
                "label",
                "l",
                Some("label"),
                "HSM label: 1-32 characters of A-Z a-z 0-9 _",
            ),
            PASSWORD,
            opt(
                "domain",
                "d",
                Some("domain"),
                "HSM domain string (hard init)",
            ),
            opt(
                "applytemplate",
                "a",
                Some("file"),
                "Apply a policy template from your file area",
            ),
            opt(
                "authtimeconfig",
                "au",
                None,
                "Require the HSM SO for later time changes",
            ),
            FORCE,
        ],
        hsm_init,
    ),
    cmd(
        "zeroize",
        "z",
        "Zeroize the HSM (policies and Auditor kept)",
        ADMIN,
        &[FORCE],
        hsm_zeroize,
    ),
    cmd(
        "factoryReset",
        "factoryr",
        "Reset the HSM to factory condition (local console only)",
        CONSOLE_ADMIN,
        &[FORCE],
        hsm_factoryreset,
    ),
    cmd(
        "restart",
        "r",
        "Restart the HSM",
        ADMIN,
        &[FORCE],
        hsm_restart,
    ),
    cmd(
        "showPolicies",
        "showp",
        "Show the HSM capabilities and policies",
        ANYONE,
        &[opt(
            "exporttemplate",
            "e",
            Some("file"),
            "Write a policy template to your file area",
        )],
        hsm_showpolicies,
    ),
    cmd(
        "changePolicy",
        "changepo",
        "Change an HSM policy",
        ADMIN,
        &[
            opt("policy", "p", Some("id"), "Policy number"),
            opt("value", "v", Some("value"), "New value"),
            FORCE,
        ],
        hsm_changepolicy,
    ),
    cmd(
        "displayLicenses",
        "di",
        "Show the HSM capability licences",
        ANYONE,
        &[],
        hsm_licenses,
    ),
    group(
        "stm",
        "stm",
        "Secure Transport Mode",
        ADMIN,
        &[
            cmd(
                "transport",
                "t",
                "Place the HSM in Secure Transport Mode",
                ADMIN,
                &[FORCE],
                stm_transport,
            ),
            cmd(
                "recover",
                "r",
                "Recover the HSM from Secure Transport Mode",
                ADMIN,
                &[
                    opt(
                        "randomuserstring",
                        "r",
                        Some("XXXX-XXXX-XXXX-XXXX"),
                        "The random user string",
                    ),
                    FORCE,
                ],
                stm_recover,
            ),
        ],
    ),
    group(
        "tamper",
        "ta",
        "Tamper events",
        ADMIN,
        &[
            cmd(
                "show",
                "s",
                "Show the last tamper event",
                ADMIN,
                &[],
                tamper_show,
            ),
            cmd(
                "clear",
                "c",
                "Clear the tamper condition",
                ADMIN,
                &[],
                tamper_clear,
            ),
        ],
    ),
];

const PARTITION_OPT: Opt = opt("partition", "par", Some("name"), "Partition name");

static PARTITION: &[Node<Handler>] = &[
    cmd(
        "create",
        "cr",
        "Create an application partition",
        ADMIN_OPERATOR,
        &[
            PARTITION_OPT,
            opt(
                "size",
                "s",
                Some("bytes"),
                "Size in bytes (default: an equal share)",
            ),
            opt("allfreestorage", "al", None, "Use all free storage"),
            opt("version", "v", Some("0|1"), "Partition version"),
            FORCE,
        ],
        partition_create,
    ),
    cmd(
        "delete",
        "de",
        "Delete an application partition",
        ADMIN_OPERATOR,
        &[PARTITION_OPT, FORCE],
        partition_delete,
    ),
    cmd(
        "resize",
        "re",
        "Resize an application partition",
        ADMIN_OPERATOR,
        &[
            PARTITION_OPT,
            opt("size", "s", Some("bytes"), "New size in bytes"),
            opt("allfreestorage", "al", None, "Use all free storage"),
            FORCE,
        ],
        partition_resize,
    ),
    cmd(
        "list",
        "l",
        "List the application partitions",
        READERS,
        &[],
        partition_list,
    ),
    cmd(
        "show",
        "sh",
        "Show one partition",
        READERS,
        &[PARTITION_OPT],
        partition_show,
    ),
];

static MAINTENANCE: &[Node<Handler>] = &[
    cmd(
        "tamper",
        "t",
        "Raise a tamper event (chassis, cardremoval, overtemp, undertemp, overvoltage, \
         undervoltage, batteryremoval, batterydepletion)",
        CONSOLE_ADMIN,
        &[opt("type", "t", Some("kind"), "Tamper type")],
        maint_tamper,
    ),
    cmd(
        "decommission",
        "d",
        "Press the decommission button",
        CONSOLE_ADMIN,
        &[FORCE],
        maint_decommission,
    ),
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
            term.write("\nCommand aborted: nothing was changed.\n");
            false
        }
        _ => {
            term.write("Command aborted: nothing was changed.\n");
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

/// A file name inside the user's file area: no directories, no `..`.
fn user_file(session: &Session, name: &str) -> Result<std::path::PathBuf, CmdError> {
    if name.is_empty() || name.contains('/') || name.contains('\\') || name.starts_with('.') {
        return Err(shell_err(format!(
            "'{name}' is not a valid file name (a plain name in your file area is required)"
        )));
    }
    Ok(session.files_dir().join(name))
}

fn successful(term: &mut dyn Terminal, args: &Args) {
    term.write(&format!("'{}' successful.\n", args.command_name()));
}

fn parse_size(args: &Args) -> Result<PartitionSize, CmdError> {
    match (args.get("size"), args.flag("allfreestorage")) {
        (Some(_), true) => Err(shell_err("give either -size or -allfreestorage, not both")),
        (Some(s), false) => s
            .parse::<u64>()
            .map(PartitionSize::Bytes)
            .map_err(|_| shell_err(format!("'{s}' is not a size in bytes"))),
        (None, true) => Ok(PartitionSize::AllFree),
        (None, false) => Ok(PartitionSize::Default),
    }
}

// ----- top level -----

fn help_cmd(_: &mut Session, _: &mut dyn Terminal, _: &Args) -> CmdResult {
    Ok(())
}

fn exit_cmd(_: &mut Session, _: &mut dyn Terminal, _: &Args) -> CmdResult {
    Ok(())
}

// ----- hsm -----

fn hsm_show(s: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    let m = s.module();
    let info = m.info(s.access());
    term.write(&render::hsm_show(&info, m.integrity_failure()));
    Ok(())
}

fn hsm_login(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let pw = secret(
        term,
        args,
        "password",
        "Please enter the HSM Administrators' password:",
        false,
    )?;
    s.module().so_login(s.access(), &pw)?;
    successful(term, args);
    Ok(())
}

fn hsm_logout(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    s.module().so_logout(s.access())?;
    successful(term, args);
    Ok(())
}

fn hsm_changepw(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    s.module().check_so_admin(s.access())?;
    let old = secret(
        term,
        args,
        "oldpassword",
        "Please enter the current HSM SO password:",
        false,
    )?;
    let new = secret(
        term,
        args,
        "newpassword",
        "Please enter the new HSM SO password:",
        true,
    )?;
    s.module().so_change_password(s.access(), &old, &new)?;
    successful(term, args);
    Ok(())
}

fn hsm_init(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let label = required(args, "label")?.to_owned();
    strongroom_module::validate::hsm_label(&label)?;
    let template =
        match args.get("applytemplate") {
            Some(name) => {
                let path = user_file(s, name)?;
                Some(std::fs::read_to_string(&path).map_err(|err| {
                    shell_err(format!("cannot read the template '{name}': {err}"))
                })?)
            }
            None => None,
        };
    let kind = s.module().check_init(s.access())?;
    let (warning, question) = match kind {
        InitKind::Hard => (
            "CAUTION: You are about to initialize the HSM. All contents of the HSM will be destroyed.",
            "Type 'proceed' to initialize the HSM, or 'quit' to quit now.",
        ),
        InitKind::Soft => (
            "CAUTION: You are about to initialize the HSM that is already initialized. All partitions \
             of the HSM will be destroyed. You are required to provide the current SO password.",
            "Type 'proceed' to initialize the HSM, or 'quit' to quit now.",
        ),
    };
    if !confirm(term, args, warning, question) {
        return Ok(());
    }
    let (so_password, domain) = match kind {
        InitKind::Hard => {
            let pw = secret(
                term,
                args,
                "password",
                "Please enter a password for the HSM Administrator:",
                true,
            )?;
            strongroom_module::validate::password(pw.expose())?;
            let dom = secret(
                term,
                args,
                "domain",
                "Please enter the domain to use for initializing this HSM:",
                true,
            )?;
            strongroom_module::validate::domain(dom.expose())?;
            (pw, Some(dom))
        }
        InitKind::Soft => (
            secret(
                term,
                args,
                "password",
                "Please enter the current HSM Administrators' password:",
                false,
            )?,
            None,
        ),
    };
    let req = InitRequest {
        label,
        so_password,
        domain,
        template,
        auth_time_config: args.flag("authtimeconfig"),
    };
    s.module().init(s.access(), req)?;
    successful(term, args);
    term.write("Please wait while the HSM is reset to complete the initialization process.\n");
    Ok(())
}

fn hsm_zeroize(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let warning = "CAUTION: You are about to zeroize the HSM. All contents of the HSM will be \
                   destroyed. HSM policies, remote PED vector and Auditor left unchanged.";
    if !confirm(term, args, warning, PROCEED) {
        return Ok(());
    }
    s.module().zeroize()?;
    successful(term, args);
    Ok(())
}

fn hsm_factoryreset(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    if s.channel() != super::Channel::LocalConsole {
        return Err(shell_err(
            "'hsm factoryReset' is available on the local console only",
        ));
    }
    let warning = "CAUTION: You are about to factory reset the HSM. All contents of the HSM will be \
                   destroyed. HSM policies will be reset and the remote PED vector will be erased.";
    if !confirm(term, args, warning, PROCEED) {
        return Ok(());
    }
    s.module().factory_reset()?;
    successful(term, args);
    Ok(())
}

fn hsm_restart(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let warning = "WARNING: This command will restart the HSM. Every role logged in to the HSM \
                   will be logged out and open sessions will be closed.";
    if !confirm(term, args, warning, PROCEED) {
        return Ok(());
    }
    s.module().restart()?;
    successful(term, args);
    Ok(())
}

fn hsm_showpolicies(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    if let Some(name) = args.get("exporttemplate") {
        let path = user_file(s, name)?;
        let text = s.module().export_template(s.access())?;
        std::fs::create_dir_all(s.files_dir())
            .and_then(|()| std::fs::write(&path, text))
            .map_err(|err| shell_err(format!("cannot write the template '{name}': {err}")))?;
        term.write(&format!(
            "Policy template written to '{name}' in your file area.\n"
        ));
        return Ok(());
    }
    let text = s.module().show_policies()?;
    term.write(&text);
    Ok(())
}

fn hsm_changepolicy(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let id = required(args, "policy")?;
    let value = required(args, "value")?;
    let id: u8 = id
        .parse()
        .map_err(|_| shell_err(format!("'{id}' is not a policy number")))?;
    let value: u32 = value
        .parse()
        .map_err(|_| shell_err(format!("'{value}' is not a policy value")))?;
    let destroys = s.module().preview_policy_change(s.access(), id, value)?;
    let warning = match destroys {
        Destructive::No => None,
        Destructive::Partitions => Some(
            "CAUTION: You are about to change a destructive HSM policy. All partitions of the HSM will be destroyed.",
        ),
        Destructive::WholeHsm => Some(
            "CAUTION: You are about to change a destructive HSM policy. The HSM will be zeroized: \
             all partitions, the HSM SO and the domain will be destroyed.",
        ),
    };
    if let Some(w) = warning
        && !confirm(term, args, w, PROCEED)
    {
        return Ok(());
    }
    let outcome = s.module().change_policy(s.access(), id, value)?;
    successful(term, args);
    let name = s.module().policy_description(id).unwrap_or("");
    term.write(&format!(
        "Policy \"{name}\" is now set to: {}\n",
        outcome.new
    ));
    Ok(())
}

fn hsm_licenses(s: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    let licenses = s.module().licenses();
    term.write(&render::licenses(&licenses));
    Ok(())
}

fn stm_transport(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    s.module().check_stm_transport(s.access())?;
    let warning = "CAUTION: You are about to place the HSM in Secure Transport Mode. Only the \
                   status commands and 'hsm stm recover' will work until it is recovered. Record \
                   both strings shown next and send them apart from the HSM.";
    if !confirm(term, args, warning, PROCEED) {
        return Ok(());
    }
    let strings = s.module().stm_transport(s.access())?;
    term.write(&format!(
        "\nVerification String: {}\nRandom User String:  {}\n\n",
        strings.verification_string, strings.random_user_string
    ));
    successful(term, args);
    Ok(())
}

fn stm_recover(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let rus = required(args, "randomuserstring")?;
    let vs = s.module().stm_verification(s.access(), rus)?;
    term.write(&format!(
        "\nVerification String: {vs}\n\nCompare this string with the verification string you recorded when the \
         HSM entered Secure Transport Mode. If they differ, the HSM's state changed while it was in \
         transport.\n"
    ));
    if !confirm(
        term,
        args,
        "",
        "Type 'proceed' to recover the HSM from Secure Transport Mode, or 'quit' to remain in it.",
    ) {
        return Ok(());
    }
    s.module().stm_recover(s.access())?;
    successful(term, args);
    Ok(())
}

fn tamper_show(s: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    let report = s.module().tamper_report();
    term.write(&render::tamper(&report));
    Ok(())
}

fn tamper_clear(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    s.module().tamper_clear(s.access())?;
    successful(term, args);
    if s.module().tamper_report().restart_required {
        term.write("The HSM must be restarted ('hsm restart') to resume normal operation.\n");
    }
    Ok(())
}

// ----- partition -----

fn partition_create(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let name = required(args, "partition")?.to_owned();
    strongroom_module::validate::partition_name(&name)?;
    let size = parse_size(args)?;
    let version = match args.get("version") {
        None => 0,
        Some("0") => 0,
        Some("1") => 1,
        Some(v) => return Err(shell_err(format!("the version must be 0 or 1, not '{v}'"))),
    };
    s.module().check_so_admin(s.access())?;
    if !confirm(
        term,
        args,
        "",
        "Type 'proceed' to create the partition, or 'quit' to quit now.",
    ) {
        return Ok(());
    }
    s.module()
        .partition_create(s.access(), &name, size, version)?;
    successful(term, args);
    Ok(())
}

fn partition_delete(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let name = required(args, "partition")?.to_owned();
    s.module().check_so_admin(s.access())?;
    s.module().partition_show(&name)?;
    let warning = format!(
        "CAUTION: You are about to delete the partition \"{name}\". Its roles and every object in it \
         will be destroyed."
    );
    if !confirm(term, args, &warning, PROCEED) {
        return Ok(());
    }
    s.module().partition_delete(s.access(), &name)?;
    successful(term, args);
    Ok(())
}

fn partition_resize(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let name = required(args, "partition")?.to_owned();
    let size = parse_size(args)?;
    if size == PartitionSize::Default {
        return Err(shell_err("give -size or -allfreestorage"));
    }
    s.module().check_so_admin(s.access())?;
    s.module().partition_show(&name)?;
    if !confirm(
        term,
        args,
        "",
        "Type 'proceed' to resize the partition, or 'quit' to quit now.",
    ) {
        return Ok(());
    }
    s.module().partition_resize(s.access(), &name, size)?;
    successful(term, args);
    Ok(())
}

fn partition_list(s: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    let list = s.module().partition_list()?;
    term.write(&render::partition_list(&list));
    Ok(())
}

fn partition_show(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let name = required(args, "partition")?;
    let info = s.module().partition_show(name)?;
    term.write(&render::partition_show(&info));
    Ok(())
}

// ----- maintenance (local console only) -----

fn maint_tamper(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let kind = required(args, "type")?;
    let kind = TamperKind::from_name(kind).ok_or_else(|| {
        let names: Vec<&str> = TamperKind::ALL.iter().map(|k| k.name()).collect();
        shell_err(format!(
            "unknown tamper type '{kind}'; one of: {}",
            names.join(", ")
        ))
    })?;
    let event = s.module().raise_tamper(kind)?;
    tracing::warn!(
        kind = kind.name(),
        decommissioned = event.decommissioned,
        "tamper event raised"
    );
    term.write(&format!("Tamper event raised: {}.\n", kind.description()));
    if event.decommissioned {
        term.write("The HSM has been decommissioned.\n");
    }
    Ok(())
}

fn maint_decommission(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let warning = "CAUTION: You are about to decommission the HSM. The KEK, every partition and its \
                   contents, the HSM SO and the Auditor will be destroyed. Policies are kept.";
    if !confirm(term, args, warning, PROCEED) {
        return Ok(());
    }
    s.module().decommission()?;
    tracing::warn!("module decommissioned");
    term.write("The HSM has been decommissioned.\n");
    Ok(())
}
