//! `user` (admin: appliance users, SH-U-*, SH-MISC-01/02), `my` (anyone: own password, files
//! and SSH keys, SH-U-06, SH-MISC-03/04) and the public-key commands shared with
//! `sysconf ssh publickey`.

use std::fmt::Write as _;

use super::super::engine::{ADMIN, ANYONE, Args, Node, Opt};
use super::super::{CmdError, CmdResult, Role, Session, Terminal};
use super::{
    FORCE, Handler, PROCEED, cmd, cmd_pos, confirm, group, opt, required, secret, shell_err,
    successful,
};
use crate::users::UserStore;

const USERNAME: Opt = opt("username", "u", Some("name"), "The appliance user");
const ROLE: Opt = opt(
    "role",
    "r",
    Some("admin|operator|monitor|audit"),
    "The user's role",
);

pub(super) static USER: &[Node<Handler>] = &[
    cmd(
        "add",
        "a",
        "Add an appliance user (who changes the password at first login)",
        ADMIN,
        &[
            USERNAME,
            ROLE,
            opt("fullname", "fu", Some("text"), "The user's full name"),
            opt("password", "pw", Some("password"), "The first password"),
        ],
        user_add,
    ),
    cmd(
        "delete",
        "de",
        "Delete an appliance user and its files",
        ADMIN,
        &[USERNAME, FORCE],
        user_delete,
    ),
    cmd(
        "list",
        "l",
        "List the appliance users",
        ADMIN,
        &[],
        user_list,
    ),
    cmd(
        "enable",
        "e",
        "Enable an appliance user",
        ADMIN,
        &[USERNAME],
        user_enable,
    ),
    cmd(
        "disable",
        "di",
        "Disable an appliance user",
        ADMIN,
        &[USERNAME],
        user_disable,
    ),
    cmd(
        "password",
        "p",
        "Set another user's password (to be changed at its next login)",
        ADMIN,
        &[
            USERNAME,
            opt("password", "pw", Some("password"), "The new password"),
        ],
        user_password,
    ),
    cmd(
        "role",
        "r",
        "Give a custom user another role",
        ADMIN,
        &[USERNAME, ROLE],
        user_role,
    ),
];

pub(super) static MY: &[Node<Handler>] = &[
    group(
        "password",
        "p",
        "> Your appliance password",
        &[cmd(
            "set",
            "s",
            "Change your appliance password",
            ANYONE,
            &[
                opt("oldpassword", "o", Some("password"), "The current password"),
                opt("newpassword", "n", Some("password"), "The new password"),
            ],
            my_password_set,
        )],
    ),
    group(
        "file",
        "f",
        "> Your file area",
        &[
            cmd("list", "l", "List your files", ANYONE, &[], my_file_list),
            cmd_pos(
                "delete",
                "d",
                "Delete one of your files",
                ANYONE,
                "file",
                &[opt("file", "f", Some("name"), "The file to delete")],
                my_file_delete,
            ),
        ],
    ),
    group(
        "publickey",
        "pu",
        "> Your SSH public keys",
        &[
            cmd(
                "add",
                "a",
                "Register an OpenSSH public key uploaded to your file area",
                ANYONE,
                &[FILE],
                key_add,
            ),
            cmd(
                "delete",
                "d",
                "Remove one of your public keys",
                ANYONE,
                &[FINGERPRINT],
                key_delete,
            ),
            cmd("list", "l", "List your public keys", ANYONE, &[], key_list),
        ],
    ),
];

/// `sysconf ssh publickey`: the same, for any user (`-user`, yourself by default).
pub(super) static SSH_PUBLICKEY: &[Node<Handler>] = &[
    cmd(
        "add",
        "a",
        "Register an OpenSSH public key uploaded to your file area",
        ADMIN,
        &[FILE, USER_OPT],
        key_add,
    ),
    cmd(
        "delete",
        "d",
        "Remove a public key",
        ADMIN,
        &[FINGERPRINT, USER_OPT],
        key_delete,
    ),
    cmd(
        "list",
        "l",
        "List the public keys of a user",
        ADMIN,
        &[USER_OPT],
        key_list,
    ),
];

const FILE: Opt = opt(
    "file",
    "f",
    Some("name"),
    "The public key file in your file area",
);
const FINGERPRINT: Opt = opt(
    "fingerprint",
    "fi",
    Some("SHA256:..."),
    "The key's fingerprint as 'list' shows it",
);
const USER_OPT: Opt = opt(
    "user",
    "u",
    Some("name"),
    "The appliance user (default: yourself)",
);

fn users(s: &Session) -> Result<UserStore, CmdError> {
    s.users().map_err(CmdError::Shell)
}

fn log(s: &Session, event: &str) {
    tracing::info!(user = %s.user(), source = %s.source_text(), event, "appliance users changed");
}

fn user_add(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let name = required(args, "username")?;
    crate::users::validate_name(name).map_err(CmdError::Shell)?;
    let role = match args.get("role") {
        Some(r) => Role::from_name(r).ok_or_else(|| {
            shell_err(format!(
                "'{r}' is not a role (admin, operator, monitor, audit)"
            ))
        })?,
        None => Role::Monitor,
    };
    let store = users(s)?;
    if store.info(name).is_some() {
        return Err(shell_err(format!("the user '{name}' already exists")));
    }
    let pw = secret(
        term,
        args,
        "password",
        &format!("Please enter the first password for '{name}':"),
        true,
    )?;
    store
        .add(name, role, pw.expose(), args.get("fullname").unwrap_or(""))
        .map_err(CmdError::Shell)?;
    log(s, "user added");
    successful(term, args);
    term.write(&format!(
        "User '{name}' ({}) must change this password at first login.\n",
        role.name()
    ));
    Ok(())
}

fn user_delete(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let name = required(args, "username")?;
    let store = users(s)?;
    let info = store
        .info(name)
        .ok_or_else(|| shell_err(format!("there is no appliance user '{name}'")))?;
    if info.built_in {
        return Err(shell_err(format!(
            "the built-in user '{name}' cannot be deleted"
        )));
    }
    if name == s.user() {
        return Err(shell_err("you cannot delete your own account"));
    }
    let warning = format!(
        "CAUTION: You are about to delete the appliance user '{name}' and every file in its file \
         area."
    );
    if !confirm(term, args, &warning, PROCEED) {
        return Ok(());
    }
    store.delete(name).map_err(CmdError::Shell)?;
    let area = crate::files::FileArea::new(s.data_dir(), name, s.files().limits());
    let _ = std::fs::remove_dir_all(area.root());
    log(s, "user deleted");
    successful(term, args);
    Ok(())
}

fn user_list(s: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    let list = users(s)?.list().map_err(CmdError::Shell)?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n{:<16} {:<10} {:<28} {:<5} Full name",
        "Users", "Roles", "Status", "Keys"
    );
    let _ = writeln!(
        out,
        "{} {} {} {} {}",
        "=".repeat(16),
        "=".repeat(10),
        "=".repeat(28),
        "=".repeat(5),
        "=".repeat(20)
    );
    for u in list {
        let status = match (u.enabled, u.must_change) {
            (true, false) => "enabled",
            (true, true) => "enabled, password expired",
            (false, false) => "disabled",
            (false, true) => "disabled, password expired",
        };
        let name = if u.built_in && u.full_name.is_empty() {
            "Built-in".to_owned()
        } else {
            u.full_name
        };
        let _ = writeln!(
            out,
            "{:<16} {:<10} {:<28} {:<5} {name}",
            u.name,
            u.role.name(),
            status,
            u.keys
        );
    }
    term.write(&out);
    Ok(())
}

fn user_enable(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let name = required(args, "username")?;
    users(s)?.set_enabled(name, true).map_err(CmdError::Shell)?;
    log(s, "user enabled");
    successful(term, args);
    Ok(())
}

fn user_disable(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let name = required(args, "username")?;
    if name == s.user() {
        return Err(shell_err("you cannot disable your own account"));
    }
    users(s)?
        .set_enabled(name, false)
        .map_err(CmdError::Shell)?;
    log(s, "user disabled");
    successful(term, args);
    Ok(())
}

fn user_password(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let name = required(args, "username")?;
    let store = users(s)?;
    if store.info(name).is_none() {
        return Err(shell_err(format!("there is no appliance user '{name}'")));
    }
    if name == s.user() {
        return Err(shell_err("change your own password with 'my password set'"));
    }
    let pw = secret(
        term,
        args,
        "password",
        &format!("Please enter the new password for '{name}':"),
        true,
    )?;
    store
        .reset_password(name, pw.expose())
        .map_err(CmdError::Shell)?;
    log(s, "user password reset");
    successful(term, args);
    term.write(&format!(
        "User '{name}' must change this password at the next login.\n"
    ));
    Ok(())
}

fn user_role(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let name = required(args, "username")?;
    let role = required(args, "role")?;
    let role = Role::from_name(role).ok_or_else(|| {
        shell_err(format!(
            "'{role}' is not a role (admin, operator, monitor, audit)"
        ))
    })?;
    if name == s.user() {
        return Err(shell_err("you cannot change your own role"));
    }
    users(s)?.set_role(name, role).map_err(CmdError::Shell)?;
    log(s, "user role changed");
    successful(term, args);
    term.write(&format!(
        "User '{name}' now has the role '{}' (from its next login).\n",
        role.name()
    ));
    Ok(())
}

fn my_password_set(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let store = users(s)?;
    if store.info(s.user()).is_none() {
        return Err(shell_err(
            "the local console's session has no appliance password to change",
        ));
    }
    let old = secret(
        term,
        args,
        "oldpassword",
        "Please enter your current password:",
        false,
    )?;
    let new = secret(
        term,
        args,
        "newpassword",
        "Please enter your new password:",
        true,
    )?;
    store
        .change_own_password(s.user(), old.expose(), new.expose())
        .map_err(CmdError::Shell)?;
    log(s, "own password changed");
    successful(term, args);
    Ok(())
}

fn my_file_list(s: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    let list = s.files().list()?;
    term.write(&crate::files::render_list(&list));
    Ok(())
}

fn my_file_delete(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let name = match (args.get("file"), args.positional.as_deref()) {
        (Some(n), None) | (None, Some(n)) => n,
        (Some(_), Some(_)) => return Err(shell_err("give the file name once")),
        (None, None) => return Err(shell_err("give the file to delete")),
    };
    s.files().delete(name)?;
    successful(term, args);
    Ok(())
}

/// The user a key command is about: `-user` (for `sysconf ssh publickey`) or yourself.
fn key_user(s: &Session, args: &Args) -> Result<String, CmdError> {
    let name = args.get("user").unwrap_or(s.user()).to_owned();
    if users(s)?.info(&name).is_none() {
        return Err(shell_err(format!("there is no appliance user '{name}'")));
    }
    Ok(name)
}

fn key_add(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let file = required(args, "file")?;
    let user = key_user(s, args)?;
    let text = s.files().read_text(file)?;
    let info = users(s)?.add_key(&user, &text).map_err(CmdError::Shell)?;
    log(s, "public key added");
    term.write(&format!(
        "Public key {} {} added for '{user}'.\n",
        info.algorithm, info.fingerprint
    ));
    successful(term, args);
    Ok(())
}

fn key_delete(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let fp = required(args, "fingerprint")?;
    let user = key_user(s, args)?;
    users(s)?.delete_key(&user, fp).map_err(CmdError::Shell)?;
    log(s, "public key deleted");
    successful(term, args);
    Ok(())
}

fn key_list(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let user = key_user(s, args)?;
    let keys = users(s)?.keys(&user).map_err(CmdError::Shell)?;
    let mut out = format!("\nPublic keys of '{user}':\n");
    if keys.is_empty() {
        out.push_str("There are no public keys.\n");
    }
    for (i, k) in keys.iter().enumerate() {
        let _ = writeln!(
            out,
            "{:>3}  {:<20} {}  {}",
            i + 1,
            k.algorithm,
            k.fingerprint,
            k.comment
        );
    }
    term.write(&out);
    Ok(())
}
