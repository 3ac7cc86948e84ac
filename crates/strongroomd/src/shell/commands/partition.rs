//! `partition` (catalog SH-PAR-*): application partitions as the appliance administers them.

use strongroom_module::PartitionSize;

use super::super::engine::{ADMIN, ADMIN_OPERATOR, Args, Node, Opt, READERS};
use super::super::{CmdError, CmdResult, Session, Terminal, render};
use super::{FORCE, Handler, PROCEED, cmd, confirm, opt, required, shell_err, successful};

const PARTITION_OPT: Opt = opt("partition", "par", Some("name"), "Partition name");

pub(super) static PARTITION: &[Node<Handler>] = &[
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
    cmd(
        "showPolicies",
        "showp",
        "Show a partition's capabilities and policies",
        READERS,
        &[PARTITION_OPT],
        partition_showpolicies,
    ),
    cmd(
        "changePolicy",
        "changepo",
        "Change a partition policy (the Partition SO's task)",
        ADMIN,
        &[
            PARTITION_OPT,
            opt("policy", "po", Some("id"), "Policy number"),
            opt("value", "v", Some("value"), "New value"),
        ],
        partition_changepolicy,
    ),
    cmd(
        "activate",
        "ac",
        "Activate a partition (PED-authenticated partitions)",
        ADMIN,
        &[PARTITION_OPT],
        partition_activate,
    ),
    cmd(
        "changePw",
        "changepw",
        "Change a partition's client password (legacy)",
        ADMIN,
        &[
            PARTITION_OPT,
            opt("oldpw", "o", Some("password"), "The current password"),
            opt("newpw", "n", Some("password"), "The new password"),
        ],
        partition_changepw,
    ),
];

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
    term.write(&super::ntls::assignments(s, &list));
    Ok(())
}

fn partition_show(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let name = required(args, "partition")?;
    let info = s.module().partition_show(name)?;
    term.write(&render::partition_show(&info));
    Ok(())
}

fn partition_showpolicies(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let name = required(args, "partition")?;
    let m = s.module();
    let info = m.partition_show(name)?;
    term.write(&m.partition_show_policies(info.serial)?);
    Ok(())
}

fn partition_changepolicy(s: &mut Session, _: &mut dyn Terminal, args: &Args) -> CmdResult {
    let name = required(args, "partition")?;
    s.module().partition_show(name)?;
    Err(shell_err(
        "partition policies are changed by the Partition SO through the client (the client \
         manager's partition commands are not available in this version); the appliance shell \
         shows them with 'partition showPolicies'",
    ))
}

fn partition_activate(s: &mut Session, _: &mut dyn Terminal, args: &Args) -> CmdResult {
    let name = required(args, "partition")?;
    s.module().partition_show(name)?;
    Err(shell_err(
        "Strongroom partitions use passwords, not PED keys: there is nothing to activate",
    ))
}

fn partition_changepw(s: &mut Session, _: &mut dyn Terminal, args: &Args) -> CmdResult {
    let name = required(args, "partition")?;
    s.module().partition_show(name)?;
    Err(shell_err(
        "partition passwords belong to the partition's roles and are changed through the \
         client (not available in this version)",
    ))
}
