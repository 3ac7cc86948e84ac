//! The client manager's interactive shell (catalog 2.1-2.4, 2.9): the slots this client
//! sees, partition initialization and information, partition policies, and the partition
//! roles, in the reference's command grammar (`slot set -slot 3`, `par init -label L`,
//! `role login -name Partition SO`, `proceed`/`quit` confirmations, `-force`).
//!
//! Commands come from standard input, one per line, so the shell is scriptable. A secret not
//! given as an option is prompted for: without echo on a terminal, else read as the next
//! input line. Each command ends with `Command Result : No Error` or the PKCS#11 code.

use std::io::{BufRead, IsTerminal as _, Write};

use strongroom_client::messages::{self as m, Message};
use strongroom_client::{Client, Error, request, token_flags};

/// What a command failed with.
#[derive(Debug)]
enum Fail {
    /// A refusal with a PKCS#11 code.
    Client(Error),
    /// A usage or state error, in words.
    Usage(String),
    /// The user typed `quit` at a confirmation.
    Quit,
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Self::Client(e)
    }
}

fn usage(msg: impl Into<String>) -> Fail {
    Fail::Usage(msg.into())
}

type Res = Result<(), Fail>;

/// The options of one command line: `-name value words...` pairs and flags.
#[derive(Debug, Default)]
struct Opts(Vec<(String, Option<String>)>);

impl Opts {
    /// Reads options from the words after the command. A value runs to the next word that
    /// starts with `-` (so `-name Partition SO` needs no quotes, as in the reference).
    fn parse(words: &[String]) -> Result<Self, Fail> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let Some(name) = words[i].strip_prefix('-') else {
                return Err(usage(format!("unexpected '{}'", words[i])));
            };
            let mut value: Vec<&str> = Vec::new();
            i += 1;
            while i < words.len() && !words[i].starts_with('-') {
                value.push(&words[i]);
                i += 1;
            }
            let value = (!value.is_empty()).then(|| value.join(" "));
            out.push((name.to_ascii_lowercase(), value));
        }
        Ok(Self(out))
    }

    /// The value of the option named by any of `names`.
    fn value(&self, names: &[&str]) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| names.contains(&n.as_str()))
            .and_then(|(_, v)| v.as_deref())
    }

    fn flag(&self, names: &[&str]) -> bool {
        self.0.iter().any(|(n, _)| names.contains(&n.as_str()))
    }

    fn require(&self, names: &[&str]) -> Result<&str, Fail> {
        self.value(names)
            .ok_or_else(|| usage(format!("the option -{} is required", names[0])))
    }

    fn only(&self, allowed: &[&str]) -> Res {
        match self.0.iter().find(|(n, _)| !allowed.contains(&n.as_str())) {
            Some((n, _)) => Err(usage(format!("unknown option -{n}"))),
            None => Ok(()),
        }
    }
}

/// Splits a line into words; double quotes group words.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// A command line for echoing, with the values of password options masked.
fn masked(w: &[String]) -> String {
    let mut out: Vec<&str> = Vec::with_capacity(w.len());
    let mut hide = false;
    for word in w {
        if word.starts_with('-') {
            hide = matches!(
                word.to_ascii_lowercase().as_str(),
                "-password" | "-p" | "-oldpw" | "-newpw" | "-domain" | "-d"
            );
            out.push(word);
        } else if hide {
            if out.last() != Some(&"********") {
                out.push("********");
            }
        } else {
            out.push(word);
        }
    }
    out.join(" ")
}

/// A partition role by the reference's long or short name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    So,
    CryptoOfficer,
    CryptoUser,
    LimitedCryptoOfficer,
}

impl Role {
    const ALL: [Self; 4] = [
        Self::So,
        Self::CryptoOfficer,
        Self::CryptoUser,
        Self::LimitedCryptoOfficer,
    ];

    fn parse(name: &str) -> Result<Self, Fail> {
        let n = name.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|r| n == r.short() || n == r.name().to_ascii_lowercase())
            .ok_or_else(|| {
                usage(format!(
                    "unknown role '{name}' (Partition SO/po, Crypto Officer/co, Crypto User/cu, \
                     Limited Crypto Officer/lco)"
                ))
            })
    }

    fn name(self) -> &'static str {
        match self {
            Self::So => "Partition SO",
            Self::CryptoOfficer => "Crypto Officer",
            Self::CryptoUser => "Crypto User",
            Self::LimitedCryptoOfficer => "Limited Crypto Officer",
        }
    }

    fn short(self) -> &'static str {
        match self {
            Self::So => "po",
            Self::CryptoOfficer => "co",
            Self::CryptoUser => "cu",
            Self::LimitedCryptoOfficer => "lco",
        }
    }

    fn user_type(self) -> u64 {
        match self {
            Self::So => m::CKU_SO,
            Self::CryptoOfficer => m::CKU_USER,
            Self::CryptoUser => m::CKU_CRYPTO_USER,
            Self::LimitedCryptoOfficer => m::CKU_LIMITED_CRYPTO_OFFICER,
        }
    }

    fn of_user_type(t: u64) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.user_type() == t)
    }
}

/// The shell's state: the client, the current slot, and this shell's session on it.
pub(crate) struct Shell<R, W> {
    client: Client,
    input: R,
    out: W,
    terminal: bool,
    current: Option<u64>,
    session: Option<u64>,
    logged_in: Option<Role>,
}

/// Description of every slot, for `slot list` and `slot set`.
const SLOT_DESCRIPTION: &str = "Net Token Slot";
const MODEL: &str = "Strongroom";

impl<R: BufRead, W: Write> Shell<R, W> {
    /// A shell reading `input`. `terminal`: secrets are prompted without echo.
    pub(crate) fn new(client: Client, input: R, out: W, terminal: bool) -> Self {
        Self {
            client,
            input,
            out,
            terminal,
            current: None,
            session: None,
            logged_in: None,
        }
    }

    /// The banner and slot list, then commands until `exit` or the end of input. Returns
    /// whether every command succeeded.
    pub(crate) fn run(&mut self) -> bool {
        let mut all_ok = true;
        let _ = writeln!(
            self.out,
            "strongroom-cm v{}. The Strongroom client manager.\n",
            env!("CARGO_PKG_VERSION")
        );
        self.client.refresh_slots();
        self.current = self.client.slot_list(true, false).first().copied();
        let _ = self.slot_list();
        loop {
            let _ = write!(self.out, "\nstrongroom-cm:> ");
            let _ = self.out.flush();
            let Some(line) = self.read_line() else {
                let _ = writeln!(self.out);
                break;
            };
            let w = words(&line);
            if !self.terminal {
                let _ = writeln!(self.out, "{}", masked(&w));
            }
            if w.is_empty() {
                continue;
            }
            if matches!(w[0].as_str(), "exit" | "quit" | "e") {
                break;
            }
            all_ok &= self.execute(&w);
        }
        self.client.close_everything();
        all_ok
    }

    /// Runs one command given as words and prints its result line.
    pub(crate) fn execute(&mut self, w: &[String]) -> bool {
        let result = self.dispatch(w);
        let ok = result.is_ok();
        let _ = match result {
            Ok(()) => writeln!(self.out, "\nCommand Result : No Error"),
            Err(Fail::Quit) => writeln!(self.out, "\nCommand Result : User Abort"),
            Err(Fail::Usage(msg)) => writeln!(
                self.out,
                "Error: {msg}\n\nCommand Result : Invalid Argument"
            ),
            Err(Fail::Client(e)) => {
                let ckr = e.ckr();
                writeln!(
                    self.out,
                    "Error: {e}\n\nCommand Result : 0x{:x} ({})",
                    ckr.value(),
                    ckr.name()
                )
            }
        };
        ok
    }

    fn read_line(&mut self) -> Option<String> {
        let mut line = String::new();
        match self.input.read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim_end_matches(['\n', '\r']).to_owned()),
        }
    }

    /// A secret: without echo on a terminal, else the next input line.
    fn secret(&mut self, prompt: &str) -> Result<String, Fail> {
        if self.terminal {
            let _ = self.out.flush();
            return rpassword::prompt_password(format!("    {prompt} "))
                .map_err(|e| usage(format!("cannot read the password: {e}")));
        }
        let _ = writeln!(self.out, "    {prompt} ********");
        self.read_line()
            .ok_or_else(|| usage("the input ended before the password"))
    }

    /// A new secret entered twice.
    fn new_secret(&mut self, first: &str, again: &str) -> Result<String, Fail> {
        let a = self.secret(first)?;
        let b = self.secret(again)?;
        if a != b {
            return Err(usage("the two entries do not match"));
        }
        Ok(a)
    }

    fn confirm(&mut self, force: bool, lines: &str) -> Res {
        if force {
            return Ok(());
        }
        let _ = write!(
            self.out,
            "{lines}\nType 'proceed' to continue, or 'quit' to quit now ->"
        );
        let _ = self.out.flush();
        let answer = self.read_line().unwrap_or_default();
        if !self.terminal {
            let _ = writeln!(self.out, "{answer}");
        }
        if answer.trim().eq_ignore_ascii_case("proceed") {
            Ok(())
        } else {
            Err(Fail::Quit)
        }
    }

    fn dispatch(&mut self, w: &[String]) -> Res {
        let group = w[0].to_ascii_lowercase();
        let verb = w.get(1).map(|s| s.to_ascii_lowercase()).unwrap_or_default();
        let opts = Opts::parse(w.get(2..).unwrap_or(&[]))?;
        match (group.as_str(), verb.as_str()) {
            ("help" | "?", _) => self.help(),
            ("slot", "list") => self.slot_list(),
            ("slot", "set") => self.slot_set(&opts),
            ("partition" | "par", "init") => self.partition_init(&opts),
            ("partition" | "par", "showinfo") => self.partition_showinfo(),
            ("partition" | "par", "showpolicies" | "policies") => self.partition_policies(),
            ("partition" | "par", "changepolicy") => self.partition_change_policy(&opts),
            ("role", "list") => self.role_list(),
            ("role", "login") => self.role_login(&opts),
            ("role", "logout") => self.role_logout(),
            ("role", "init") => self.role_init(&opts),
            ("role", "changepw") => self.role_changepw(&opts),
            ("role", "resetpw") => self.role_resetpw(&opts),
            ("verify", _) => self.verify(),
            _ => Err(usage(format!(
                "unknown command '{}' (type 'help')",
                w.join(" ")
            ))),
        }
    }

    fn help(&mut self) -> Res {
        let _ = writeln!(
            self.out,
            "Commands:\n\
             \x20 slot list                                   the slots this client sees\n\
             \x20 slot set -slot <id>                         choose the current slot\n\
             \x20 partition init -label <l> [-password <pw>] {{-domain <d> | -defaultdomain}} [-force]\n\
             \x20 partition showinfo                          the current slot's partition\n\
             \x20 partition showpolicies                      its capabilities and policies\n\
             \x20 partition changepolicy -policy <id> -value <v> [-force]   (Partition SO)\n\
             \x20 role list                                   the partition's roles\n\
             \x20 role login -name <role> [-password <pw>]\n\
             \x20 role logout\n\
             \x20 role init -name <role> [-password <pw>]     (parent role logged in)\n\
             \x20 role changepw -name <role> [-oldpw <pw> -newpw <pw>]\n\
             \x20 role resetpw -name <role> [-password <pw>]  (parent role logged in)\n\
             \x20 verify                                      list the partitions found\n\
             \x20 exit\n\
             Roles: Partition SO (po), Crypto Officer (co), Crypto User (cu), Limited Crypto \
             Officer (lco). 'par' abbreviates 'partition'."
        );
        Ok(())
    }

    fn slot_list(&mut self) -> Res {
        self.client.refresh_slots();
        let _ = writeln!(self.out, "Available HSMs:\n");
        for s in self.client.slots() {
            let _ = writeln!(
                self.out,
                "Slot Id ->              {}\n\
                 Label ->                {}\n\
                 Serial Number ->        {}\n\
                 Model ->                {MODEL}\n\
                 Firmware Version ->     {}\n\
                 Configuration ->        Strongroom User Partition With SO (PW) With Cloning Mode\n\
                 Slot Description ->     {SLOT_DESCRIPTION} ({}){}\n",
                s.id,
                s.label,
                s.serial,
                env!("CARGO_PKG_VERSION"),
                s.server,
                if s.present { "" } else { ", token not present" },
            );
        }
        let _ = match self.current {
            Some(id) => writeln!(self.out, "Current Slot Id: {id}"),
            None => writeln!(self.out, "Current Slot Id: None"),
        };
        Ok(())
    }

    fn slot_set(&mut self, opts: &Opts) -> Res {
        opts.only(&["slot", "s"])?;
        let raw = opts.require(&["slot", "s"])?;
        let id: u64 = raw
            .parse()
            .map_err(|_| usage(format!("'{raw}' is not a slot id")))?;
        let slot = self.client.slot(id)?;
        self.drop_session();
        self.current = Some(id);
        let _ = writeln!(
            self.out,
            "Current Slot Id: {id} ({SLOT_DESCRIPTION}, partition {} on {})",
            slot.serial, slot.server
        );
        Ok(())
    }

    fn current(&self) -> Result<u64, Fail> {
        self.current
            .ok_or_else(|| usage("no current slot: 'slot set -slot <id>' first"))
    }

    /// This shell's read/write session on the current slot, opened on first need.
    fn session(&mut self) -> Result<u64, Fail> {
        if let Some(s) = self.session
            && self.client.session_slot(s).is_ok()
        {
            return Ok(s);
        }
        self.logged_in = None;
        let s = self.client.open_session(self.current()?, true)?;
        self.session = Some(s);
        Ok(s)
    }

    fn drop_session(&mut self) {
        if let Some(s) = self.session.take() {
            let _ = self.client.close_session(s);
        }
        self.logged_in = None;
    }

    /// A request naming the current slot's partition, sent on this shell's connection.
    fn serial_call<Q: Message, A: Message>(
        &mut self,
        build: impl FnOnce(u64) -> Q,
    ) -> Result<A, Fail> {
        let serial = self.client.slot(self.current()?)?.serial;
        let s = self.session()?;
        Ok(self
            .client
            .with_session(s, |conn, _| request(conn, &build(serial)))?)
    }

    fn partition_init(&mut self, opts: &Opts) -> Res {
        opts.only(&[
            "label",
            "l",
            "password",
            "p",
            "domain",
            "d",
            "defaultdomain",
            "force",
            "f",
        ])?;
        let id = self.current()?;
        let label = opts.require(&["label", "l"])?.to_owned();
        if label.is_empty() || label.len() > 32 {
            return Err(usage("the label must be 1 to 32 characters"));
        }
        let password = match opts.value(&["password", "p"]) {
            Some(p) => p.to_owned(),
            None => self.new_secret(
                "Enter password for Partition SO:",
                "Re-enter password for Partition SO:",
            )?,
        };
        self.confirm(
            opts.flag(&["force", "f"]),
            "You are about to initialize the partition.\n\
             All contents of the partition will be destroyed.\n\
             Are you sure you wish to continue?",
        )?;
        let domain = if opts.flag(&["defaultdomain"]) {
            None
        } else if let Some(d) = opts.value(&["domain", "d"]) {
            Some(d.to_owned())
        } else {
            let _ = writeln!(
                self.out,
                "Neither option -domain nor -defaultdomain was specified. One is required."
            );
            Some(self.new_secret("Enter the domain name:", "Re-enter the domain name:")?)
        };
        // PKCS#11: no session of this application may be open on the token.
        self.drop_session();
        self.client.init_token(
            id,
            password.as_bytes(),
            &label,
            domain.as_deref().map(str::as_bytes),
        )?;
        Ok(())
    }

    fn partition_showinfo(&mut self) -> Res {
        let id = self.current()?;
        let info = self.client.token_info(id)?;
        let flag_names: [(u64, &str); 8] = [
            (token_flags::RNG, "CKF_RNG"),
            (token_flags::LOGIN_REQUIRED, "CKF_LOGIN_REQUIRED"),
            (
                token_flags::USER_PIN_INITIALIZED,
                "CKF_USER_PIN_INITIALIZED",
            ),
            (
                token_flags::RESTORE_KEY_NOT_NEEDED,
                "CKF_RESTORE_KEY_NOT_NEEDED",
            ),
            (token_flags::TOKEN_INITIALIZED, "CKF_TOKEN_INITIALIZED"),
            (0x8_0000, "CKF_USER_PIN_TO_BE_CHANGED"),
            (0x4_0000, "CKF_USER_PIN_LOCKED"),
            (0x40_0000, "CKF_SO_PIN_LOCKED"),
        ];
        let _ = writeln!(
            self.out,
            "\n    Partition Label -> {}\n    Partition Manufacturer -> Strongroom\n    \
             Partition Model -> {MODEL}\n    Partition Serial Number -> {}\n    Token Flags ->",
            info.label, info.serial
        );
        for (bit, name) in flag_names {
            if info.flags & bit != 0 {
                let _ = writeln!(self.out, "        {name}");
            }
        }
        let state = match self.session {
            Some(s) => match self.client.session_info(s) {
                Ok(si) => state_name(si.state),
                Err(_) => "no session",
            },
            None => "no session",
        };
        let role = self.logged_in.map_or_else(
            || "none logged in".to_owned(),
            |r| format!("{} logged in", r.name()),
        );
        let used = info.total_memory.saturating_sub(info.free_memory);
        let _ = writeln!(
            self.out,
            "    Slot Id -> {id}\n    Session State -> {state}\n    Role Status -> {role}\n\n\
             Partition Storage:\n    Total Storage Space: {}\n    Used Storage Space: {used}\n    \
             Free Storage Space: {}\n    Object Count: {}\n",
            info.total_memory, info.free_memory, info.objects
        );
        Ok(())
    }

    fn partition_policies(&mut self) -> Res {
        let r: m::PartitionPoliciesResponse =
            self.serial_call(|serial| m::PartitionPoliciesRequest { serial })?;
        let _ = writeln!(self.out, "{}", String::from_utf8_lossy(&r.text));
        Ok(())
    }

    fn partition_change_policy(&mut self, opts: &Opts) -> Res {
        opts.only(&["policy", "value", "force", "f"])?;
        let number = |name: &str| -> Result<u32, Fail> {
            let raw = opts.require(&[name])?;
            raw.parse()
                .map_err(|_| usage(format!("-{name}: '{raw}' is not a number")))
        };
        let (policy, value) = (number("policy")?, number("value")?);
        self.confirm(
            opts.flag(&["force", "f"]),
            &format!(
                "You are about to change partition policy {policy} to {value}.\n\
                 A destructive policy change destroys every object in the partition."
            ),
        )?;
        let s = self.session()?;
        let r: m::ChangePartitionPolicyResponse =
            self.client
                .session_call(s, |session| m::ChangePartitionPolicyRequest {
                    session,
                    policy,
                    value,
                })?;
        let _ = writeln!(
            self.out,
            "Policy {policy} changed from {} to {value}.{}",
            r.old,
            if r.destroyed_objects {
                " The partition's objects were destroyed."
            } else {
                ""
            }
        );
        Ok(())
    }

    fn role_list(&mut self) -> Res {
        let r: m::RoleListResponse = self.serial_call(|serial| m::RoleListRequest { serial })?;
        let _ = writeln!(
            self.out,
            "  Roles                    (short)   State\n  ====="
        );
        for e in r.roles {
            let Some(role) = Role::of_user_type(e.user_type) else {
                continue;
            };
            let state = if !e.initialized {
                "not initialized".to_owned()
            } else if e.locked {
                "locked out".to_owned()
            } else if e.must_change {
                "password must be changed".to_owned()
            } else if e.failures > 0 {
                format!("initialized, {} failed logins", e.failures)
            } else {
                "initialized".to_owned()
            };
            let _ = writeln!(
                self.out,
                "  {:<24} {:<9} {state}",
                role.name(),
                role.short()
            );
        }
        Ok(())
    }

    fn role_login(&mut self, opts: &Opts) -> Res {
        opts.only(&["name", "n", "password", "p"])?;
        let role = Role::parse(opts.require(&["name", "n"])?)?;
        let password = match opts.value(&["password", "p"]) {
            Some(p) => p.to_owned(),
            None => self.secret("enter password:")?,
        };
        let s = self.session()?;
        self.client
            .login(s, role.user_type(), password.as_bytes())?;
        self.logged_in = Some(role);
        Ok(())
    }

    fn role_logout(&mut self) -> Res {
        let s = self.session.ok_or_else(|| usage("no role is logged in"))?;
        self.client.logout(s)?;
        self.logged_in = None;
        Ok(())
    }

    fn role_init(&mut self, opts: &Opts) -> Res {
        opts.only(&["name", "n", "password", "p"])?;
        let role = Role::parse(opts.require(&["name", "n"])?)?;
        let password = match opts.value(&["password", "p"]) {
            Some(p) => p.to_owned(),
            None => self.new_secret("enter new password:", "re-enter new password:")?,
        };
        let s = self.session()?;
        let _: m::RoleInitResponse = self.client.session_call(s, |session| m::RoleInitRequest {
            session,
            user_type: role.user_type(),
            pin: password.into_bytes(),
        })?;
        Ok(())
    }

    fn role_changepw(&mut self, opts: &Opts) -> Res {
        opts.only(&["name", "n", "oldpw", "newpw"])?;
        let role = Role::parse(opts.require(&["name", "n"])?)?;
        if self.logged_in != Some(role) {
            return Err(usage(format!(
                "log in as the {} first ('role login -name {}')",
                role.name(),
                role.short()
            )));
        }
        let old = match opts.value(&["oldpw"]) {
            Some(p) => p.to_owned(),
            None => self.secret("enter existing password:")?,
        };
        let new = match opts.value(&["newpw"]) {
            Some(p) => p.to_owned(),
            None => self.new_secret("enter new password:", "re-enter new password:")?,
        };
        let s = self.session()?;
        self.client.set_pin(s, old.as_bytes(), new.as_bytes())?;
        Ok(())
    }

    fn role_resetpw(&mut self, opts: &Opts) -> Res {
        opts.only(&["name", "n", "password", "p"])?;
        let role = Role::parse(opts.require(&["name", "n"])?)?;
        let password = match opts.value(&["password", "p"]) {
            Some(p) => p.to_owned(),
            None => self.new_secret("enter new password:", "re-enter new password:")?,
        };
        let s = self.session()?;
        let _: m::RoleResetResponse =
            self.client.session_call(s, |session| m::RoleResetRequest {
                session,
                user_type: role.user_type(),
                pin: password.into_bytes(),
            })?;
        Ok(())
    }

    /// `verify`: the partitions this client can see (the reference's `vtl verify`).
    fn verify(&mut self) -> Res {
        self.client.refresh_slots();
        let slots = self.client.slots();
        let _ = writeln!(
            self.out,
            "\nThe following Strongroom partitions were found:\n\n\
             \x20 Slot    Serial #         Label\n\x20 ====    ========         ====="
        );
        for s in slots.iter().filter(|s| s.present) {
            let _ = writeln!(self.out, "  {:<7} {:<16} {}", s.id, s.serial, s.label);
        }
        if slots.iter().all(|s| !s.present) {
            return Err(Fail::Client(Error::TokenNotPresent));
        }
        Ok(())
    }
}

fn state_name(state: u64) -> &'static str {
    match state {
        0 => "CKS_RO_PUBLIC_SESSION",
        1 => "CKS_RO_USER_FUNCTIONS",
        2 => "CKS_RW_PUBLIC_SESSION",
        3 => "CKS_RW_USER_FUNCTIONS",
        4 => "CKS_RW_SO_FUNCTIONS",
        _ => "unknown",
    }
}

/// Runs the shell on standard input and output.
pub(crate) fn interactive(client: Client) -> bool {
    let stdin = std::io::stdin();
    let terminal = stdin.is_terminal();
    Shell::new(client, stdin.lock(), std::io::stdout(), terminal).run()
}

/// Runs one command line (the words after `strongroom-cm run`) without the banner.
pub(crate) fn one_shot(client: Client, w: &[String]) -> bool {
    let stdin = std::io::stdin();
    let terminal = stdin.is_terminal();
    let mut shell = Shell::new(client, stdin.lock(), std::io::stdout(), terminal);
    shell.client.refresh_slots();
    shell.current = shell.client.slot_list(true, false).first().copied();
    shell.execute(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        words(s)
    }

    #[test]
    fn option_values_run_to_the_next_option() {
        let o = Opts::parse(&w("-name Partition SO -password x y -force")).expect("opts");
        assert_eq!(o.value(&["name"]), Some("Partition SO"));
        assert_eq!(o.value(&["password", "p"]), Some("x y"));
        assert!(o.flag(&["force", "f"]));
        assert!(o.value(&["force"]).is_none());
        assert!(Opts::parse(&w("stray -x")).is_err());
        assert!(o.only(&["name", "password"]).is_err());
    }

    #[test]
    fn secrets_are_masked_when_echoed() {
        assert_eq!(
            masked(&w("role login -name co -password Secret Words -force")),
            "role login -name co -password ******** -force"
        );
        assert_eq!(
            masked(&w("par init -l T -d my domain -p x")),
            "par init -l T -d ******** -p ********"
        );
    }

    #[test]
    fn quotes_group_words() {
        assert_eq!(
            w(r#"par init -label "My Token" -defaultdomain"#),
            ["par", "init", "-label", "My Token", "-defaultdomain"]
        );
        assert!(w("   ").is_empty());
    }

    #[test]
    fn roles_parse_by_long_and_short_names() {
        assert_eq!(Role::parse("Partition SO").ok(), Some(Role::So));
        assert_eq!(Role::parse("po").ok(), Some(Role::So));
        assert_eq!(
            Role::parse("crypto officer").ok(),
            Some(Role::CryptoOfficer)
        );
        assert_eq!(Role::parse("CU").ok(), Some(Role::CryptoUser));
        assert_eq!(Role::parse("lco").ok(), Some(Role::LimitedCryptoOfficer));
        assert!(Role::parse("auditor").is_err());
        for r in Role::ALL {
            assert_eq!(Role::of_user_type(r.user_type()), Some(r));
        }
    }
}
