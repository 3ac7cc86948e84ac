//! The appliance's own administration: `sysconf` (SH-SYS-*), `network` (SH-NET-*), `service`
//! (SH-SVC-*), `status` (SH-MISC-05), `syslog` (SH-LOG-*) and `package` (SH-MISC-06..08).
//!
//! Strongroom runs on a host it does not own. Commands that would change the host's network
//! or clock record the appliance's configuration (see `crate::settings`) and say plainly that
//! the host is not changed; services that Strongroom does not provide say so.

use std::fmt::Write as _;
use std::net::IpAddr;

use super::super::engine::{ADMIN, ADMIN_OPERATOR, ANYONE, Args, Node, Opt, READERS};
use super::super::{CmdError, CmdResult, Session, Terminal, render};
use super::{
    FORCE, Handler, accounts, cmd, cmd_pos, confirm, group, ntls, opt, required, shell_err,
    successful,
};
use crate::settings::{ClockRequest, Interface, Settings};

const HOST_UNCHANGED: &str =
    "NOTE: this records the appliance's configuration; Strongroom does not change the host's";

pub(super) static SYSCONF: &[Node<Handler>] = &[
    cmd_pos(
        "regenCert",
        "regen",
        "Regenerate the NTLS server key and certificate (server.pem)",
        ADMIN,
        "ip|hostname",
        &[FORCE],
        ntls::regen_cert,
    ),
    group(
        "timezone",
        "tz",
        "> The appliance time zone",
        &[
            cmd_pos(
                "set",
                "s",
                "Record the appliance time zone (Area/City)",
                ADMIN,
                "timezone",
                &[],
                timezone_set,
            ),
            cmd(
                "show",
                "sh",
                "Show the time zone",
                READERS,
                &[],
                timezone_show,
            ),
        ],
    ),
    cmd_pos(
        "time",
        "ti",
        "Record the appliance time (HH:MM[:SS], with -date YYYYMMDD)",
        ADMIN,
        "HH:MM[:SS]",
        &[opt("date", "d", Some("YYYYMMDD"), "The date")],
        clock_set,
    ),
    cmd_pos(
        "date",
        "da",
        "Record the appliance date (YYYYMMDD)",
        ADMIN,
        "YYYYMMDD",
        &[],
        clock_set,
    ),
    group(
        "ntp",
        "nt",
        "> NTP servers",
        &[
            cmd_pos(
                "addServer",
                "a",
                "Add an NTP server",
                ADMIN,
                "ip|hostname",
                &[],
                ntp_add,
            ),
            cmd_pos(
                "deleteServer",
                "d",
                "Delete an NTP server",
                ADMIN,
                "ip|hostname",
                &[],
                ntp_delete,
            ),
            cmd("list", "l", "List the NTP servers", READERS, &[], ntp_list),
        ],
    ),
    group(
        "config",
        "co",
        "> Appliance configuration",
        &[cmd(
            "factoryReset",
            "f",
            "Reset recorded service configuration to the defaults",
            ADMIN,
            &[
                opt(
                    "service",
                    "s",
                    Some("name|all"),
                    "network, ntp, time, syslog, ssh, ntls, snmp or all",
                ),
                FORCE,
            ],
            config_factory_reset,
        )],
    ),
    group(
        "forceSOLogin",
        "fo",
        "> HSM Administrator login enforcement",
        &[cmd(
            "show",
            "s",
            "Show whether the HSM SO must be logged in for appliance changes",
            READERS,
            &[],
            force_so_show,
        )],
    ),
    group(
        "fingerprint",
        "fi",
        "> Fingerprints",
        &[
            cmd(
                "ssh",
                "ss",
                "Show the SSH host key fingerprint",
                READERS,
                &[],
                fingerprint_ssh,
            ),
            cmd(
                "license",
                "l",
                "Show the fingerprint for licence requests",
                READERS,
                &[],
                fingerprint_license,
            ),
            cmd(
                "ntls",
                "n",
                "Show the NTLS certificate fingerprint",
                READERS,
                &[],
                ntls::fingerprint_ntls,
            ),
        ],
    ),
    group(
        "license",
        "li",
        "> Licences",
        &[
            cmd(
                "apply",
                "a",
                "Apply a licence file from your file area",
                ADMIN,
                &[opt("filename", "f", Some("file"), "The licence file")],
                license_apply,
            ),
            cmd("list", "l", "List the licences", READERS, &[], license_list),
        ],
    ),
    group(
        "reimage",
        "re",
        "> Re-image the appliance",
        &[cmd(
            "start",
            "s",
            "Re-image the appliance to its baseline",
            ADMIN,
            &[FORCE],
            reimage_start,
        )],
    ),
    group(
        "appliance",
        "ap",
        "> The appliance host",
        &[
            cmd(
                "reboot",
                "r",
                "Reboot the appliance",
                ADMIN,
                &[FORCE],
                appliance_power,
            ),
            cmd(
                "poweroff",
                "p",
                "Power the appliance off",
                ADMIN,
                &[FORCE],
                appliance_power,
            ),
        ],
    ),
    group(
        "ssh",
        "ss",
        "> The SSH service",
        &[
            cmd(
                "show",
                "s",
                "Show the SSH service settings",
                READERS,
                &[],
                ssh_show,
            ),
            group(
                "publickey",
                "p",
                "> Users' SSH public keys",
                accounts::SSH_PUBLICKEY,
            ),
        ],
    ),
];

pub(super) static NETWORK: &[Node<Handler>] = &[
    cmd_pos(
        "hostname",
        "h",
        "Record the appliance host name",
        ADMIN,
        "name",
        &[],
        net_hostname,
    ),
    cmd_pos(
        "domain",
        "do",
        "Record the appliance domain name",
        ADMIN,
        "domain",
        &[],
        net_domain,
    ),
    cmd(
        "dns",
        "dn",
        "Record (or with -delete remove) a name server or search domain",
        ADMIN,
        &[
            opt("nameserver", "n", Some("ip"), "A name server"),
            opt("searchdomain", "s", Some("domain"), "A search domain"),
            opt("delete", "d", None, "Remove instead of add"),
        ],
        net_dns,
    ),
    cmd(
        "interface",
        "i",
        "Record the configuration of a network interface",
        ADMIN,
        &[
            opt("device", "de", Some("eth0|eth1|..."), "The interface"),
            opt("static", "st", None, "A static address"),
            opt("dhcp", "dh", None, "An address by DHCP"),
            opt("ip", "i", Some("address"), "The address"),
            opt("netmask", "n", Some("mask"), "The netmask"),
            opt("gateway", "g", Some("address"), "The default gateway"),
            FORCE,
        ],
        net_interface,
    ),
    cmd_pos(
        "ping",
        "p",
        "Send one ICMP echo request from the host",
        ADMIN_OPERATOR,
        "host",
        &[],
        net_ping,
    ),
    cmd(
        "show",
        "sh",
        "Show the network configuration",
        ANYONE,
        &[],
        net_show,
    ),
];

const SERVICES: &[&str] = &[
    "ssh",
    "syslog",
    "ntls",
    "network",
    "ntp",
    "cbs",
    "stc",
    "snmp",
    "webserver",
];

pub(super) static SERVICE: &[Node<Handler>] = &[
    cmd_pos(
        "status",
        "s",
        "Show a service's status",
        READERS,
        "service",
        &[],
        service_status,
    ),
    cmd("list", "l", "List the services", READERS, &[], service_list),
    cmd_pos(
        "restart",
        "r",
        "Restart a service",
        ADMIN_OPERATOR,
        "service",
        &[FORCE],
        service_control,
    ),
    cmd_pos(
        "start",
        "sta",
        "Start a service",
        ADMIN_OPERATOR,
        "service",
        &[],
        service_control,
    ),
    cmd_pos(
        "stop",
        "sto",
        "Stop a service",
        ADMIN_OPERATOR,
        "service",
        &[FORCE],
        service_control,
    ),
];

pub(super) static STATUS: &[Node<Handler>] = &[
    cmd("date", "da", "Show the date", READERS, &[], status_date),
    cmd("time", "t", "Show the time", READERS, &[], status_date),
    cmd("zone", "z", "Show the time zone", READERS, &[], status_zone),
    cmd(
        "disk",
        "di",
        "Show the appliance's disk use",
        READERS,
        &[],
        status_disk,
    ),
];

pub(super) static SYSLOG: &[Node<Handler>] = &[
    cmd(
        "tail",
        "t",
        "Show the latest appliance log lines",
        ADMIN,
        &[
            opt("entries", "e", Some("n"), "How many lines (default 20)"),
            opt(
                "search",
                "s",
                Some("text"),
                "Only lines containing this text",
            ),
        ],
        syslog_tail,
    ),
    cmd(
        "tarlogs",
        "ta",
        "Archive the appliance logs to 'logs.tgz' in your file area",
        ADMIN,
        &[],
        syslog_tarlogs,
    ),
    group(
        "remotehost",
        "r",
        "> Remote syslog servers",
        super::remotehost::SYSLOG_REMOTEHOST,
    ),
];

const AUTHCODE: Opt = opt(
    "authcode",
    "a",
    Some("code"),
    "The package's authorization code",
);

pub(super) static PACKAGE: &[Node<Handler>] = &[
    cmd(
        "listfile",
        "l",
        "List the packages (.spkg) in your file area",
        ADMIN,
        &[],
        package_listfile,
    ),
    cmd_pos(
        "verify",
        "v",
        "Verify a package without installing it",
        ADMIN,
        "file",
        &[AUTHCODE],
        package_install,
    ),
    cmd_pos(
        "update",
        "u",
        "Install a package",
        ADMIN,
        "file",
        &[
            AUTHCODE,
            opt("useevp", "use", None, "Verify without the HSM"),
        ],
        package_install,
    ),
];

// ----- helpers -----

fn positional<'a>(args: &'a Args, what: &str) -> Result<&'a str, CmdError> {
    args.positional
        .as_deref()
        .ok_or_else(|| shell_err(format!("give the {what}")))
}

fn update(s: &Session, f: impl FnOnce(&mut Settings) -> Result<(), String>) -> CmdResult {
    Settings::update(s.data_dir(), f).map_err(CmdError::Shell)
}

fn note(term: &mut dyn Terminal, what: &str) {
    term.write(&format!("{HOST_UNCHANGED} {what}.\n"));
}

/// A host name or domain: letters, digits, `-` and `.`, 1-253 characters.
fn check_hostname(name: &str) -> Result<(), CmdError> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && !name.starts_with(['-', '.'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    if ok {
        Ok(())
    } else {
        Err(shell_err(format!(
            "'{name}' is not a valid host or domain name"
        )))
    }
}

fn check_host_or_ip(value: &str) -> Result<(), CmdError> {
    if value.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    check_hostname(value)
}

fn check_ip(value: &str, what: &str) -> Result<(), CmdError> {
    value
        .parse::<IpAddr>()
        .map(|_| ())
        .map_err(|_| shell_err(format!("'{value}' is not a valid {what}")))
}

// ----- sysconf -----

fn timezone_set(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let tz = positional(args, "time zone (for example Europe/Paris or UTC)")?;
    let ok = !tz.is_empty()
        && tz.len() <= 64
        && tz
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'));
    if !ok {
        return Err(shell_err(format!("'{tz}' is not a time zone name")));
    }
    update(s, |st| {
        st.timezone = Some(tz.to_owned());
        Ok(())
    })?;
    term.write(&format!("Timezone set to {tz}\n"));
    note(term, "clock or time zone (times are shown in UTC)");
    Ok(())
}

fn timezone_show(s: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    let tz = Settings::load(s.data_dir()).timezone;
    term.write(&format!(
        "Timezone: {}\n",
        tz.as_deref().unwrap_or("UTC (not set)")
    ));
    Ok(())
}

fn clock_set(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let (time, date) = if args.path.last() == Some(&"date") {
        (None, Some(positional(args, "date (YYYYMMDD)")?))
    } else {
        (
            Some(positional(args, "time (HH:MM[:SS])")?),
            args.get("date"),
        )
    };
    if let Some(t) = time
        && chrono::NaiveTime::parse_from_str(t, "%H:%M:%S")
            .or_else(|_| chrono::NaiveTime::parse_from_str(t, "%H:%M"))
            .is_err()
    {
        return Err(shell_err(format!(
            "'{t}' is not a time (HH:MM or HH:MM:SS)"
        )));
    }
    if let Some(d) = date
        && chrono::NaiveDate::parse_from_str(d, "%Y%m%d").is_err()
    {
        return Err(shell_err(format!("'{d}' is not a date (YYYYMMDD)")));
    }
    let requested = [date, time]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    update(s, |st| {
        st.clock = Some(ClockRequest {
            requested: requested.clone(),
            at: chrono::Utc::now().timestamp(),
        });
        Ok(())
    })?;
    term.write(&format!("Appliance date/time recorded: {requested}\n"));
    note(
        term,
        "clock: the appliance and its HSM keep using the host's time (set it on the host, or \
         with NTP there)",
    );
    Ok(())
}

fn ntp_add(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let server = positional(args, "NTP server")?;
    check_host_or_ip(server)?;
    update(s, |st| {
        if st.ntp_servers.iter().any(|x| x == server) {
            return Err(format!("the NTP server {server} is already configured"));
        }
        st.ntp_servers.push(server.to_owned());
        Ok(())
    })?;
    term.write(&format!("NTP server {server} added\n"));
    note(term, "NTP daemon");
    Ok(())
}

fn ntp_delete(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let server = positional(args, "NTP server")?;
    update(s, |st| {
        let before = st.ntp_servers.len();
        st.ntp_servers.retain(|x| x != server);
        if st.ntp_servers.len() == before {
            return Err(format!("the NTP server {server} is not configured"));
        }
        Ok(())
    })?;
    term.write(&format!("NTP server {server} deleted\n"));
    note(term, "NTP daemon");
    Ok(())
}

fn ntp_list(s: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    let st = Settings::load(s.data_dir());
    let mut out = String::from("\nNTP servers:\n============\n");
    if st.ntp_servers.is_empty() {
        out.push_str("No NTP servers are configured.\n");
    }
    for server in &st.ntp_servers {
        let _ = writeln!(out, "{server}");
    }
    term.write(&out);
    Ok(())
}

fn config_factory_reset(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let service = required(args, "service")?.to_ascii_lowercase();
    let all = ["network", "ntp", "time", "syslog", "ssh", "ntls", "snmp"];
    let chosen: Vec<&str> = if service == "all" {
        all.to_vec()
    } else if let Some(one) = all.iter().find(|x| **x == service) {
        vec![*one]
    } else {
        return Err(shell_err(format!(
            "'{service}' is not a service (one of: {}, all)",
            all.join(", ")
        )));
    };
    let warning = format!(
        "WARNING: This resets the recorded configuration of: {}.",
        chosen.join(", ")
    );
    if !confirm(term, args, &warning, super::PROCEED) {
        return Ok(());
    }
    update(s, |st| {
        for svc in &chosen {
            match *svc {
                "network" => {
                    st.hostname = None;
                    st.domain = None;
                    st.nameservers.clear();
                    st.search_domains.clear();
                    st.interfaces.clear();
                }
                "ntp" => st.ntp_servers.clear(),
                "time" => {
                    st.timezone = None;
                    st.clock = None;
                }
                "ntls" => {
                    st.ntls_device = None;
                    st.ntls_bind = None;
                }
                _ => {}
            }
        }
        Ok(())
    })?;
    if chosen.contains(&"syslog") {
        // The remote syslog servers and their certificates (not the Auditor's).
        crate::remotelog::save(s.data_dir(), crate::remotelog::Stream::Syslog, &[])
            .and_then(|()| {
                crate::remotelog::reset_certs(s.data_dir(), crate::remotelog::Stream::Syslog)
            })
            .map_err(shell_err)?;
        s.appliance()
            .remote_log
            .reload(crate::remotelog::Stream::Syslog);
    }
    let mut out = String::from("Resetting service(s) to factory defaults:\n");
    for svc in &chosen {
        let result = match *svc {
            "network" | "ntp" | "time" => "succeeded",
            "ntls" => "succeeded (the binding; NTLS uses it from its next restart)",
            "syslog" => "succeeded (no remote syslog servers or certificates are configured)",
            "ssh" => "nothing to reset (its settings come from the configuration file)",
            _ => "nothing to reset (not provided by Strongroom)",
        };
        let _ = writeln!(out, "{svc} : {result}");
    }
    term.write(&out);
    Ok(())
}

fn force_so_show(_: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    term.write("HSM Administrator Login Enforcement is NOT enabled.\n");
    Ok(())
}

fn fingerprint_ssh(s: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    let fp = crate::ssh::host_key_fingerprint(s.data_dir()).map_err(CmdError::Shell)?;
    term.write(&format!("SSH host key fingerprint (ED25519): {fp}\n"));
    Ok(())
}

fn fingerprint_license(s: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    let serial = s.module().serial();
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        format!("strongroom-licence:{serial}").as_bytes(),
    );
    let code: String = digest.as_ref()[..10]
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    term.write(&format!(
        "\nFingerprint for Use With Entitlement Management System\n\nHSM serial #{serial} : *{code}\n"
    ));
    Ok(())
}

fn license_apply(_: &mut Session, _: &mut dyn Terminal, args: &Args) -> CmdResult {
    required(args, "filename")?;
    Err(shell_err(
        "Strongroom takes no licence files: the licensed partition count and storage are set \
         in the configuration file (licensed_partitions, total_storage)",
    ))
}

fn license_list(s: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    let list = s.module().licenses();
    let mut out = format!("\n{:<16} {:<40} QUANTITY\n", "LICENSE ID", "DESCRIPTION");
    let _ = writeln!(
        out,
        "{} {} {}",
        "=".repeat(16),
        "=".repeat(40),
        "=".repeat(8)
    );
    for l in list {
        let _ = writeln!(out, "{:<16} {:<40} 1", l.id, l.description);
    }
    term.write(&out);
    Ok(())
}

fn reimage_start(_: &mut Session, _: &mut dyn Terminal, _: &Args) -> CmdResult {
    Err(shell_err(
        "Strongroom cannot re-image its host: stop strongroomd and remove its data directory \
         to start again from nothing (or use 'hsm factoryReset' on the local console for the \
         HSM alone)",
    ))
}

fn appliance_power(_: &mut Session, _: &mut dyn Terminal, args: &Args) -> CmdResult {
    Err(shell_err(format!(
        "'{}' is not available: Strongroom does not control its host; restart or stop the \
         strongroomd service with the host's service manager",
        args.command_name()
    )))
}

fn ssh_show(s: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    let fp = crate::ssh::host_key_fingerprint(s.data_dir())
        .unwrap_or_else(|_| "(no host key yet)".to_owned());
    let listening = crate::ssh::listening(s.data_dir()).unwrap_or_else(|| "not running".to_owned());
    term.write(&format!(
        "\nSSH service:           {listening}\n\
         Authentication:        password, public key\n\
         Host key fingerprint:  {fp} (ED25519)\n\
         File transfer:         SFTP (also used by current scp)\n"
    ));
    Ok(())
}

// ----- network -----

fn net_hostname(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let name = positional(args, "host name")?;
    check_hostname(name)?;
    if name.len() > 63 || name.contains('.') {
        return Err(shell_err(format!(
            "'{name}' is not a valid host name (one label of at most 63 characters)"
        )));
    }
    update(s, |st| {
        st.hostname = Some(name.to_owned());
        Ok(())
    })?;
    term.write(&format!("Success: Hostname {name} set.\n"));
    note(term, "host name (the shell prompt uses it)");
    Ok(())
}

fn net_domain(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let domain = positional(args, "domain name")?;
    check_hostname(domain)?;
    update(s, |st| {
        st.domain = Some(domain.to_owned());
        Ok(())
    })?;
    term.write(&format!("Success: DomainName {domain} set.\n"));
    note(term, "domain name");
    Ok(())
}

fn net_dns(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let delete = args.flag("delete");
    let ns = args.get("nameserver");
    let sd = args.get("searchdomain");
    if ns.is_none() && sd.is_none() {
        return Err(shell_err("give -nameserver or -searchdomain"));
    }
    if let Some(ns) = ns {
        check_ip(ns, "name server address")?;
    }
    if let Some(sd) = sd {
        check_hostname(sd)?;
    }
    update(s, |st| {
        for (value, list) in [(ns, &mut st.nameservers), (sd, &mut st.search_domains)] {
            let Some(value) = value else { continue };
            let present = list.iter().any(|x| x == value);
            match (delete, present) {
                (false, true) => return Err(format!("{value} is already configured")),
                (false, false) => list.push(value.to_owned()),
                (true, false) => return Err(format!("{value} is not configured")),
                (true, true) => list.retain(|x| x != value),
            }
        }
        Ok(())
    })?;
    let verb = if delete { "removed" } else { "added" };
    if let Some(ns) = ns {
        term.write(&format!("Success: Nameserver {ns} {verb}\n"));
    }
    if let Some(sd) = sd {
        term.write(&format!("Success: Search domain {sd} {verb}\n"));
    }
    note(term, "resolver configuration");
    Ok(())
}

fn net_interface(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let device = required(args, "device")?;
    let ok_device = !device.is_empty()
        && device.len() <= 15
        && device
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if !ok_device {
        return Err(shell_err(format!(
            "'{device}' is not a network device name"
        )));
    }
    let iface = match (args.flag("static"), args.flag("dhcp")) {
        (true, true) => return Err(shell_err("give either -static or -dhcp, not both")),
        (false, true) => Interface {
            mode: "dhcp".into(),
            ..Interface::default()
        },
        (_, false) => {
            let ip = required(args, "ip")?;
            let netmask = required(args, "netmask")?;
            check_ip(ip, "IP address")?;
            check_ip(netmask, "netmask")?;
            let gateway = args.get("gateway").unwrap_or("");
            if !gateway.is_empty() {
                check_ip(gateway, "gateway address")?;
            }
            Interface {
                mode: "static".into(),
                ip: ip.to_owned(),
                netmask: netmask.to_owned(),
                gateway: gateway.to_owned(),
            }
        }
    };
    if !confirm(
        term,
        args,
        "",
        "If you are sure that you want to restart the network, then type 'proceed'; otherwise, \
         type 'quit':",
    ) {
        return Ok(());
    }
    update(s, |st| {
        st.interfaces.insert(device.to_owned(), iface);
        Ok(())
    })?;
    term.write(&format!("Configuration of {device} recorded.\n"));
    note(term, "network interfaces; no network service was restarted");
    Ok(())
}

fn net_ping(_: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let host = positional(args, "host to ping")?;
    check_host_or_ip(host)?;
    let output = std::process::Command::new("ping")
        .args(["-c", "1", "-W", "2", "--", host])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| shell_err(format!("ping cannot run on this host: {e}")))?;
    term.write(&String::from_utf8_lossy(&output.stdout));
    if output.status.success() {
        Ok(())
    } else {
        Err(shell_err(format!("{host} did not answer")))
    }
}

fn net_show(s: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    let st = Settings::load(s.data_dir());
    let mut out = String::from("\nAppliance network configuration (recorded):\n");
    out.push_str("=============================================\n");
    let _ = writeln!(
        out,
        "Hostname:        {}",
        st.hostname.as_deref().unwrap_or("(not set)")
    );
    let _ = writeln!(
        out,
        "Domain:          {}",
        st.domain.as_deref().unwrap_or("(not set)")
    );
    let _ = writeln!(out, "Name servers:    {}", list_or_none(&st.nameservers));
    let _ = writeln!(out, "Search domains:  {}", list_or_none(&st.search_domains));
    if st.interfaces.is_empty() {
        out.push_str("Interfaces:      (none recorded)\n");
    }
    for (dev, i) in &st.interfaces {
        if i.mode == "dhcp" {
            let _ = writeln!(out, "{dev}:            dhcp");
        } else {
            let _ = writeln!(
                out,
                "{dev}:            static {} netmask {} gateway {}",
                i.ip,
                i.netmask,
                if i.gateway.is_empty() {
                    "-"
                } else {
                    &i.gateway
                }
            );
        }
    }
    out.push_str(
        "\nThese are the appliance's recorded settings; the host's own network configuration \
         is managed on the host.\n",
    );
    term.write(&out);
    Ok(())
}

fn list_or_none(list: &[String]) -> String {
    if list.is_empty() {
        "(none)".to_owned()
    } else {
        list.join(", ")
    }
}

// ----- service -----

fn service_name(args: &Args) -> Result<String, CmdError> {
    let name = positional(args, "service name")?.to_ascii_lowercase();
    if SERVICES.contains(&name.as_str()) {
        Ok(name)
    } else {
        Err(shell_err(format!(
            "'{name}' is not a service (one of: {})",
            SERVICES.join(", ")
        )))
    }
}

fn service_state(s: &Session, name: &str) -> String {
    match name {
        "ssh" => match crate::ssh::listening(s.data_dir()) {
            Some(addr) => format!("running ({addr})"),
            None => "not running".to_owned(),
        },
        "syslog" => "running (the appliance log)".to_owned(),
        "ntls" => ntls::service_state(s),
        "network" | "ntp" => "managed by the host, not by Strongroom".to_owned(),
        _ => "not provided by Strongroom".to_owned(),
    }
}

fn service_status(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let name = service_name(args)?;
    term.write(&format!("{name} is {}\n", service_state(s, &name)));
    Ok(())
}

fn service_list(s: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    let mut out = format!(
        "\n{:<12} Status\n{} {}\n",
        "Service",
        "=".repeat(12),
        "=".repeat(40)
    );
    for name in SERVICES {
        let _ = writeln!(out, "{name:<12} {}", service_state(s, name));
    }
    term.write(&out);
    Ok(())
}

fn service_control(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let name = service_name(args)?;
    if name == "ntls" {
        return ntls::service_control(s, term, args);
    }
    let why = match name.as_str() {
        "ssh" | "syslog" => {
            "it is part of strongroomd: restart the strongroomd service with the host's \
             service manager"
        }
        "network" | "ntp" => "it is managed by the host, not by Strongroom",
        _ => "Strongroom does not provide this service",
    };
    Err(shell_err(format!(
        "'{}' cannot act on {name}: {why}",
        args.command_name()
    )))
}

// ----- status -----

fn status_date(s: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    let st = Settings::load(s.data_dir());
    term.write(&format!(
        "{}\n",
        render::time(chrono::Utc::now().timestamp())
    ));
    if let Some(clock) = st.clock {
        term.write(&format!(
            "(recorded appliance setting '{}' at {}; the host clock is used)\n",
            clock.requested,
            render::time(clock.at)
        ));
    }
    Ok(())
}

fn status_zone(s: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    let tz = Settings::load(s.data_dir()).timezone;
    match tz {
        Some(tz) => term.write(&format!("{tz} (recorded; times are shown in UTC)\n")),
        None => term.write("UTC\n"),
    }
    Ok(())
}

fn dir_size(path: &std::path::Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if meta.file_type().is_file() {
        return meta.len();
    }
    if !meta.file_type().is_dir() {
        return 0;
    }
    std::fs::read_dir(path)
        .map(|d| d.flatten().map(|e| dir_size(&e.path())).sum())
        .unwrap_or(0)
}

fn status_disk(s: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    let data = s.data_dir();
    let store = dir_size(data)
        .saturating_sub(dir_size(&data.join("users")))
        .saturating_sub(dir_size(&data.join("log")));
    let mut out = format!("\nDisk use of the appliance data ({}):\n", data.display());
    let _ = writeln!(out, "{:<28} {:>14}", "Module store and settings", store);
    let _ = writeln!(
        out,
        "{:<28} {:>14}",
        "Users' file areas",
        dir_size(&data.join("users"))
    );
    let _ = writeln!(
        out,
        "{:<28} {:>14}",
        "Appliance logs",
        dir_size(&data.join("log"))
    );
    let _ = writeln!(out, "{:<28} {:>14}", "Total (bytes)", dir_size(data));
    term.write(&out);
    Ok(())
}

// ----- syslog -----

fn syslog_tail(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let count = match args.get("entries") {
        Some(n) => n
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| shell_err(format!("'{n}' is not a number of entries (1-10000)")))?,
        None => 20,
    };
    let lines = crate::applog::tail(s.data_dir(), count, args.get("search"));
    let mut out = String::new();
    for l in lines {
        out.push_str(&l);
        out.push('\n');
    }
    term.write(&out);
    Ok(())
}

fn syslog_tarlogs(s: &mut Session, term: &mut dyn Terminal, args: &Args) -> CmdResult {
    let files = crate::applog::files(s.data_dir());
    let mut tgz = Vec::new();
    {
        let gz = flate2::write::GzEncoder::new(&mut tgz, flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        for path in &files {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("appliance.log");
            let bytes = std::fs::read(path)
                .map_err(|e| shell_err(format!("cannot read {}: {e}", path.display())))?;
            let mut header = tar::Header::new_gnu();
            header.set_size(u64::try_from(bytes.len()).unwrap_or(u64::MAX));
            header.set_mode(0o600);
            header.set_mtime(u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0));
            header.set_cksum();
            tar.append_data(&mut header, format!("log/{name}"), bytes.as_slice())
                .map_err(|e| shell_err(format!("cannot archive the logs: {e}")))?;
        }
        tar.into_inner()
            .and_then(|gz| gz.finish())
            .map_err(|e| shell_err(format!("cannot archive the logs: {e}")))?;
    }
    s.files().write("logs.tgz", &tgz)?;
    term.write(&format!(
        "The appliance logs ({} file(s)) are archived in 'logs.tgz' in your file area.\n",
        files.len()
    ));
    successful(term, args);
    Ok(())
}

// ----- package -----

fn package_listfile(s: &mut Session, term: &mut dyn Terminal, _: &Args) -> CmdResult {
    let list: Vec<_> = s
        .files()
        .list()?
        .into_iter()
        .filter(|e| e.name.ends_with(".spkg"))
        .collect();
    if list.is_empty() {
        term.write("There are no packages (.spkg) in your file area.\n");
    } else {
        term.write(&crate::files::render_list(&list));
    }
    Ok(())
}

fn package_install(s: &mut Session, _: &mut dyn Terminal, args: &Args) -> CmdResult {
    let file = positional(args, "package file")?;
    s.files().stat(file)?;
    Err(shell_err(
        "Strongroom does not install secure packages: strongroomd and its module are updated \
         through the host's package manager",
    ))
}
