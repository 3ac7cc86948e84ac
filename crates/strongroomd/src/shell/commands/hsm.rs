//! `hsm` (catalog SH-HSM-*) and the console-only `maintenance` group standing in for the
//! appliance's hardware (tamper sensors, decommission button).

use strongroom_module::{Destructive, InitKind, InitRequest, TamperKind};

use super::super::engine::{ADMIN, ADMIN_OPERATOR, ANYONE, Args, CONSOLE_ADMIN, Node, READERS};
use super::super::{CmdResult, Session, Terminal, render};
use super::{
    FORCE, Handler, PASSWORD, PROCEED, cmd, confirm, group, opt, required, secret, shell_err,
    successful,
};

pub(super) static HSM: &[Node<Handler>] = &[
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
        "> Secure Transport Mode",
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
        "> Tamper events",
        &[
            cmd(
                "show",
                "s",
                "Show the last tamper event",
                READERS,
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
    cmd(
        "supportInfo",
        "su",
        "Write a support bundle (status, policies, tamper history) to your file area",
        ADMIN,
        &[],
        hsm_supportinfo,
    ),
    group(
        "time",
        "tim",
        "> The HSM clock",
        &[
            cmd("get", "g", "Show the HSM time", READERS, &[], time_get),
            cmd(
                "sync",
                "s",
                "Synchronize the HSM time to the host time",
                ADMIN,
                &[],
                time_sync,
            ),
        ],
    ),
    group(
        "firmware",
        "fi",
        "> HSM firmware",
        &[
            cmd(
                "show",
                "s",
                "Show the current, staged and rollback firmware",
                READERS,
                &[],
                firmware_show,
            ),
            cmd(
                "upgrade",
                "u",
                "Apply the staged firmware",
                ADMIN,
                &[FORCE],
                firmware_upgrade,
            ),
            cmd(
                "rollback",
                "r",
                "Roll the firmware back to the previous version",
                ADMIN,
                &[FORCE],
                firmware_rollback,
            ),
        ],
    ),
    group(
        "update",
        "up",
        "> Legacy firmware update",
        &[cmd(
            "firmware",
            "f",
            "Apply the staged firmware (legacy name of 'hsm firmware upgrade')",
            ADMIN,
            &[FORCE],
            firmware_upgrade,
        )],
    ),
    group(
        "stc",
        "stc",
        "> Secure trusted channel",
        &[cmd(
            "disable",
            "d",
            "Disable STC on the HSM admin channel",
            ADMIN,
            &[],
            stc_disable,
        )],
    ),
    cmd(
        "information",
        "inf",
        "Show the HSM utilization (performance monitor)",
        READERS,
        &[
            opt(
                "interval",
                "i",
                Some("seconds"),
                "Sampling interval (at least 5)",
            ),
            opt("count", "c", Some("n"), "Number of samples"),
            opt(
                "file",
                "f",
                Some("file"),
                "Write the samples to a file in your file area",
            ),
        ],
        super::metrics::information,
    ),
    group(
        "qos",
        "q",
        "> Partition utilization metrics",
        super::metrics::QOS,
    ),
];

pub(super) static MAINTENANCE: &[Node<Handler>] = &[
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
    let template = match args.get("applytemplate") {
        Some(name) => Some(s.files().read_text(name)?),
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
    if s.channel() != super::super::Channel::LocalConsole {
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
        crate::files::validate_name(name)?;
        let text = s.module().export_template(s.access())?;
        s.files().write(name, text.as_bytes())?;
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

fn hsm_supportinfo(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let text = {
        let m = s.module();
        let info = m.info(s.access());
        let mut text = format!(
            "Strongroom support information\nGenerated: {}\n",
            render::time(chrono::Utc::now().timestamp())
        );
        text.push_str(&render::hsm_show(&info, m.integrity_failure()));
        text.push('\n');
        text.push_str(&render::licenses(&m.licenses()));
        text.push('\n');
        text.push_str(&m.show_policies().unwrap_or_default());
        text.push_str("\nTamper history:\n===============\n");
        let report = m.tamper_report();
        if report.history.is_empty() {
            text.push_str("No tamper events have been recorded.\n");
        }
        for event in &report.history {
            text.push_str(&format!(
                "{}  {}{}\n",
                render::time(event.at),
                event.kind.description(),
                if event.decommissioned {
                    " (decommissioned the HSM)"
                } else {
                    ""
                }
            ));
        }
        text
    };
    let name = "supportInfo.txt";
    s.files().write(name, text.as_bytes())?;
    term.write(&format!(
        "Support information written to '{name}' in your file area ({} bytes).\n",
        text.len()
    ));
    successful(term, args);
    Ok(())
}

fn time_get(s: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    let (hsm, host) = s.module().time_get(s.access())?;
    term.write(&format!(
        "\nHSM Time:   {}\nHost Time:  {}\nDifference: {} sec\n",
        render::time(hsm),
        render::time(host),
        (host - hsm).abs()
    ));
    Ok(())
}

fn time_sync(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    s.module().time_sync(s.access())?;
    term.write("The HSM time is synchronized with the host time.\n");
    successful(term, args);
    Ok(())
}

fn firmware_show(_: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    term.write(&format!(
        "\nCurrent Firmware:   {}\nStaged Firmware:    none\nRollback Firmware:  none\n",
        strongroom_module::FIRMWARE_VERSION
    ));
    Ok(())
}

fn firmware_upgrade(s: &mut Session, _: &mut dyn Terminal, _: &Args) -> CmdResult {
    s.module().check_so_admin(s.access())?;
    Err(shell_err(
        "no firmware is staged on the appliance: Strongroom's module is updated together \
         with the strongroomd software, through the host's package manager",
    ))
}

fn firmware_rollback(s: &mut Session, _: &mut dyn Terminal, _: &Args) -> CmdResult {
    s.module().check_so_admin(s.access())?;
    Err(shell_err(
        "no rollback firmware is available on this appliance",
    ))
}

fn stc_disable(_: &mut Session, _: &mut dyn Terminal, _: &Args) -> CmdResult {
    Err(shell_err(
        "Strongroom has no secure trusted channel (STC) on the HSM admin channel; there is \
         nothing to disable",
    ))
}
