//! `audit` (catalog AU-70): the Auditor's commands, seen only by appliance users with the
//! audit role. The HSM SO and the other appliance users have no way to configure or clear the
//! log (AU-02, AU-07).

use strongroom_module::{AuditCategory, AuditConfigChange, EventFilter, MAX_ROTATION_BYTES};

use super::super::auditlog;
use super::super::engine::{AUDIT, Args, Node};
use super::super::{CmdResult, Session, Terminal, render};
use super::{
    FORCE, Handler, PASSWORD, PROCEED, cmd, cmd_pos, confirm, group, opt, required, secret,
    shell_err, successful,
};

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
        audit_init,
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
        audit_changepwd,
    ),
    cmd(
        "login",
        "logi",
        "Log in as the Auditor",
        AUDIT,
        &[PASSWORD],
        audit_login,
    ),
    cmd(
        "logout",
        "logo",
        "Log out the Auditor",
        AUDIT,
        &[],
        audit_logout,
    ),
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
        audit_config,
    ),
    cmd(
        "sync",
        "sy",
        "Synchronize the HSM time to the host time",
        AUDIT,
        &[],
        audit_sync,
    ),
    cmd(
        "show",
        "sh",
        "Show the audit logging settings",
        AUDIT,
        &[],
        audit_show,
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
                log_tarlogs,
            ),
            cmd(
                "clear",
                "c",
                "Delete the audit log files of the appliance",
                AUDIT,
                &[FORCE],
                log_clear,
            ),
            cmd_pos(
                "verify",
                "v",
                "Verify an audit log file",
                AUDIT,
                "file",
                &[opt("file", "f", Some("file"), "The log file")],
                log_verify,
            ),
            cmd(
                "list",
                "l",
                "List the audit log files",
                AUDIT,
                &[],
                log_list,
            ),
        ],
    ),
    group(
        "secret",
        "se",
        "> Export/import the audit logging secret",
        &[
            cmd(
                "export",
                "e",
                "Export the log secret to your file area",
                AUDIT,
                &[],
                secret_export,
            ),
            cmd(
                "import",
                "i",
                "Import a log secret from your file area",
                AUDIT,
                &[
                    opt(
                        "serialtarget",
                        "serialt",
                        Some("serial"),
                        "This HSM's serial number",
                    ),
                    opt(
                        "serialsource",
                        "serials",
                        Some("serial"),
                        "The serial number of the HSM the secret comes from",
                    ),
                    opt("file", "f", Some("file"), "The secret file"),
                ],
                secret_import,
            ),
        ],
    ),
    group(
        "remotehost",
        "r",
        "> Configure audit logging remote hosts",
        super::remotehost::AUDIT_REMOTEHOST,
    ),
];

// ----- the role -----

fn audit_init(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let pw = secret(
        term,
        args,
        "password",
        "Please enter a password for the Audit role:",
        true,
    )?;
    strongroom_module::validate::password(pw.expose())?;
    let dom = secret(
        term,
        args,
        "domain",
        "Please enter the audit domain (the same on every HSM that verifies these logs):",
        true,
    )?;
    strongroom_module::validate::domain(dom.expose())?;
    s.module().auditor_init(&pw, &dom)?;
    successful(term, args);
    Ok(())
}

fn audit_login(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let pw = secret(
        term,
        args,
        "password",
        "Please enter the Audit role password:",
        false,
    )?;
    s.module().auditor_login(s.access(), &pw)?;
    successful(term, args);
    Ok(())
}

fn audit_logout(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    s.module().auditor_logout(s.access())?;
    successful(term, args);
    Ok(())
}

fn audit_changepwd(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    if !s.module().auditor_logged_in(s.access()) {
        return Err(shell_err("log in as the Auditor first ('audit login')"));
    }
    let old = secret(
        term,
        args,
        "oldpassword",
        "Please enter the current Audit role password:",
        false,
    )?;
    let new = secret(
        term,
        args,
        "newpassword",
        "Please enter the new Audit role password:",
        true,
    )?;
    s.module().auditor_change_password(s.access(), &old, &new)?;
    successful(term, args);
    Ok(())
}

// ----- configuration, time -----

fn rotation_secs(value: &str) -> Option<u64> {
    Some(match value.to_ascii_lowercase().as_str() {
        "never" | "none" => 0,
        "hourly" => 3600,
        "daily" => 86_400,
        "weekly" => 7 * 86_400,
        "monthly" => 30 * 86_400,
        _ => return None,
    })
}

fn rotation_name(secs: u64) -> String {
    match secs {
        0 => "never".into(),
        3600 => "hourly".into(),
        86_400 => "daily".into(),
        604_800 => "weekly".into(),
        2_592_000 => "monthly".into(),
        s => format!("every {s} seconds"),
    }
}

fn size_bytes(value: &str) -> Option<u64> {
    let v = value.trim().to_ascii_lowercase();
    let (num, mul) = if let Some(n) = v.strip_suffix("mb").or_else(|| v.strip_suffix('m')) {
        (n, 1024 * 1024)
    } else if let Some(n) = v.strip_suffix("kb").or_else(|| v.strip_suffix('k')) {
        (n, 1024)
    } else {
        (v.as_str(), 1)
    };
    num.trim().parse::<u64>().ok()?.checked_mul(mul)
}

fn config_help(term: &mut dyn Terminal) {
    let mut out = String::from(
        "\nParameters and values:\n\n  -parameter event -value <categories>[,success|,failure|,both]\n",
    );
    for c in AuditCategory::CONFIGURABLE {
        out.push_str(&format!("      {:<11} {}\n", c.keyword(), c.description()));
    }
    out.push_str(
        "      all         Every category\n      none        Only the critical events (always logged)\n\
         \n  -parameter rotation -value never|hourly|daily|weekly|monthly\n\
         \n  -parameter rotationsize -value <bytes>[k|m] (at most 50m)\n",
    );
    term.write(&out);
}

fn audit_config(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let value = args.get("value").unwrap_or("?");
    let parameter = args.get("parameter").unwrap_or("?");
    if value == "?" || parameter == "?" {
        config_help(term);
        return Ok(());
    }
    let change = match parameter.to_ascii_lowercase().as_str() {
        "event" | "events" => {
            AuditConfigChange::Event(EventFilter::parse(value).map_err(shell_err)?)
        }
        "rotation" | "rotate" => {
            AuditConfigChange::RotationInterval(rotation_secs(value).ok_or_else(|| {
                shell_err(format!(
                    "'{value}' is not a rotation (never, hourly, daily, weekly, monthly)"
                ))
            })?)
        }
        "rotationsize" | "size" => {
            let b = size_bytes(value)
                .filter(|b| *b > 0 && *b <= MAX_ROTATION_BYTES)
                .ok_or_else(|| shell_err(format!("'{value}' is not a size of 1 byte to 50m")))?;
            AuditConfigChange::RotationSize(b)
        }
        other => {
            return Err(shell_err(format!(
                "'{other}' is not an audit parameter (event, rotation, rotationsize)"
            )));
        }
    };
    s.module().audit_config_set(s.access(), change)?;
    successful(term, args);
    Ok(())
}

fn audit_sync(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    s.module().audit_sync(s.access())?;
    term.write("The HSM time is synchronized with the host time.\n");
    successful(term, args);
    Ok(())
}

fn audit_show(s: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    let info = s.module().audit_show(s.access())?;
    let yes = |b: bool| if b { "Yes" } else { "No" };
    let diff = (info.host_time - info.hsm_time).abs();
    let foreign = info
        .foreign_secret
        .map_or_else(|| "own".to_owned(), |sn| format!("imported from HSM {sn}"));
    term.write(&format!(
        "\nAudit Logging Configured:  {}\n\
         Event Logging:             {}\n\
         Log Rotation Interval:     {}\n\
         Log Rotation Size (Bytes): {}\n\
         HSM Time:                  {}\n\
         Host Time:                 {}\n\
         Difference:                {diff} sec\n\
         HSM Time Synchronized:     {}\n\
         Records Held In HSM:       {} of {}\n\
         Next Record Number:        {}\n\
         Verification Secret:       {foreign}\n\
         Audit Files (Bytes):       {}\n",
        yes(info.configured),
        info.filter,
        rotation_name(info.rotation_secs),
        info.rotation_bytes,
        render::time(info.hsm_time),
        render::time(info.host_time),
        yes(info.time_synced),
        info.records_held,
        info.capacity,
        info.next_seq,
        auditlog::usage(s.data_dir()),
    ));
    Ok(())
}

// ----- log files -----

fn log_list(s: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    let mut out = String::new();
    for p in auditlog::files(s.data_dir()) {
        let size = p.metadata().map(|m| m.len()).unwrap_or(0);
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        out.push_str(&format!("{size:>10} {name}\n"));
    }
    if out.is_empty() {
        out.push_str("No audit log files.\n");
    }
    term.write(&out);
    Ok(())
}

pub(super) fn require_auditor(s: &Session) -> CmdResult {
    let m = s.module();
    if !m.auditor_initialized() {
        return Err(shell_err(
            "the Audit role is not initialized ('audit init')",
        ));
    }
    if !m.auditor_logged_in(s.access()) {
        return Err(shell_err("log in as the Auditor first ('audit login')"));
    }
    Ok(())
}

fn log_tarlogs(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    require_auditor(s)?;
    s.appliance().pump_audit();
    let (tgz, n) = auditlog::archive(s.data_dir()).map_err(shell_err)?;
    s.files().write("audit.tgz", &tgz)?;
    term.write(&format!(
        "The audit logs ({n} file(s)) are archived in 'audit.tgz' in your file area.\n"
    ));
    successful(term, args);
    Ok(())
}

fn log_clear(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    require_auditor(s)?;
    let warning = "WARNING: You are about to delete the audit log files of the appliance. \
                   Records still held in the HSM are kept.";
    if !confirm(term, args, warning, PROCEED) {
        return Ok(());
    }
    let n = auditlog::clear(s.data_dir()).map_err(shell_err)?;
    term.write(&format!("{n} audit log file(s) deleted.\n"));
    successful(term, args);
    Ok(())
}

fn log_verify(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let name = args
        .get("file")
        .or(args.positional.as_deref())
        .ok_or_else(|| shell_err("name the log file: 'audit log verify -file NAME'"))?
        .to_owned();
    s.appliance().pump_audit();
    let (bytes, next, in_place) = match auditlog::read_in_place(s.data_dir(), &name) {
        Some((b, n)) => (b, n, true),
        None => (s.files().read(&name)?, None, false),
    };
    let report = s
        .module()
        .audit_verify(s.access(), &bytes, next.as_deref(), in_place)?;
    let range = match (report.first, report.last) {
        (Some(a), Some(b)) => format!(" (records {a} to {b})"),
        _ => String::new(),
    };
    term.write(&format!(
        "{} record(s) verified{range}.{}\n",
        report.verified,
        if report.tail_checked {
            ""
        } else {
            " The end of the file could not be checked against a later record."
        }
    ));
    successful(term, args);
    Ok(())
}

// ----- the secret -----

fn secret_export(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let (serial, file) = s.module().audit_export_secret(s.access())?;
    let name = format!("audit_secret_{serial}.bin");
    s.files().write(&name, &file)?;
    term.write(&format!(
        "The audit log secret of HSM {serial} is exported to '{name}' in your file area.\n"
    ));
    successful(term, args);
    Ok(())
}

fn serial_opt(args: &Args, name: &str) -> Result<u64, super::super::CmdError> {
    let v = required(args, name)?;
    v.trim()
        .parse()
        .map_err(|_| shell_err(format!("'-{name} {v}' is not a serial number")))
}

fn secret_import(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let target = serial_opt(args, "serialtarget")?;
    let source = serial_opt(args, "serialsource")?;
    let file = s.files().read(required(args, "file")?)?;
    s.module()
        .audit_import_secret(s.access(), target, source, &file)?;
    if source == target {
        term.write("This HSM's own log secret is in use for verification again.\n");
    } else {
        term.write(&format!(
            "The log secret of HSM {source} is imported: 'audit log verify' checks that HSM's \
             logs until this HSM's own secret is exported and imported again.\n"
        ));
    }
    successful(term, args);
    Ok(())
}
