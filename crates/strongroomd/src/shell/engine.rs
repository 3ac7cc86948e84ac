//! The appliance shell's grammar: `group [subgroup] verb -option value ...`.
//!
//! - Command words and option names are case-insensitive and accept their documented short
//!   form or any unique prefix (SH-G-03, SH-G-04); an ambiguous prefix is refused with the
//!   candidates listed.
//! - Values are case-sensitive; double quotes group words with spaces (SH-G-02).
//! - The legacy dash forms (`hsm -showPolicies`, `client -list`) select a command word (SH-G-05).
//! - `help` (or `-help`) at any level lists what the current appliance user may run (SH-G-06).

use std::fmt::Write as _;

/// Who is at the shell: the appliance user's role decides which commands exist for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Role {
    /// Full administration.
    Admin,
    /// Day-to-day operation.
    Operator,
    /// Read-only monitoring.
    Monitor,
    /// The Auditor's appliance account.
    Audit,
}

/// Where the shell session comes from. Some commands exist only on the local console (the
/// serial-console equivalent): `hsm factoryreset` and the maintenance commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Channel {
    /// `strongroomd console` on the appliance itself.
    LocalConsole,
    /// A remote administrative session.
    Remote,
}

/// Which roles and channels may see and run a command.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Access {
    pub(crate) roles: &'static [Role],
    pub(crate) console_only: bool,
}

pub(crate) const ADMIN: Access = Access {
    roles: &[Role::Admin],
    console_only: false,
};
pub(crate) const ADMIN_OPERATOR: Access = Access {
    roles: &[Role::Admin, Role::Operator],
    console_only: false,
};
pub(crate) const ANYONE: Access = Access {
    roles: &[Role::Admin, Role::Operator, Role::Monitor, Role::Audit],
    console_only: false,
};
pub(crate) const READERS: Access = Access {
    roles: &[Role::Admin, Role::Operator, Role::Monitor],
    console_only: false,
};
pub(crate) const AUDIT: Access = Access {
    roles: &[Role::Audit],
    console_only: false,
};
pub(crate) const CONSOLE_ADMIN: Access = Access {
    roles: &[Role::Admin],
    console_only: true,
};

impl Access {
    pub(crate) fn allows(&self, role: Role, channel: Channel) -> bool {
        self.roles.contains(&role) && (!self.console_only || channel == Channel::LocalConsole)
    }
}

/// Whether `node` exists for `role` on `channel`: a command when its access allows, a group
/// when its own access allows and at least one of its children exists.
pub(crate) fn visible<H>(node: &Node<H>, role: Role, channel: Channel) -> bool {
    node.access.allows(role, channel)
        && match &node.kind {
            Kind::Command { .. } => true,
            Kind::Group(children) => children.iter().any(|c| visible(c, role, channel)),
        }
}

/// One option of a command.
#[derive(Debug)]
pub(crate) struct Opt {
    pub(crate) name: &'static str,
    pub(crate) short: &'static str,
    pub(crate) value: Option<&'static str>,
    pub(crate) help: &'static str,
}

/// A node of the command tree.
pub(crate) struct Node<H: 'static> {
    pub(crate) name: &'static str,
    pub(crate) short: &'static str,
    pub(crate) help: &'static str,
    pub(crate) access: Access,
    pub(crate) kind: Kind<H>,
}

pub(crate) enum Kind<H: 'static> {
    Group(&'static [Node<H>]),
    Command {
        opts: &'static [Opt],
        positional: Option<&'static str>,
        handler: H,
    },
}

/// A parsed command line.
#[derive(Debug, Default)]
pub(crate) struct Args {
    /// The canonical command words, e.g. `["hsm", "login"]`.
    pub(crate) path: Vec<&'static str>,
    pub(crate) values: Vec<(&'static str, Option<String>)>,
    pub(crate) positional: Option<String>,
}

impl Args {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.as_deref())
    }
    pub(crate) fn flag(&self, name: &str) -> bool {
        self.values.iter().any(|(n, _)| *n == name)
    }
    /// The command as the reference names it in result lines: `'hsm login'`.
    pub(crate) fn command_name(&self) -> String {
        self.path.join(" ")
    }

    /// The command with canonical option names and every value of a `secret` option replaced
    /// by `*`, for logs (SH-G-12). Built from the parsed options, so short forms and prefixes
    /// of secret options are masked too.
    pub(crate) fn logged(&self, secret: &[&str]) -> String {
        let mut out = self.command_name();
        if let Some(p) = &self.positional {
            let _ = write!(out, " {}", quoted(p));
        }
        for (name, value) in &self.values {
            let _ = write!(out, " -{name}");
            if let Some(v) = value {
                if secret.contains(name) {
                    out.push_str(" *");
                } else {
                    let _ = write!(out, " {}", quoted(v));
                }
            }
        }
        out
    }
}

/// What parsing a line produced.
pub(crate) enum Parsed<'t, H: 'static> {
    Empty,
    Run(&'t Node<H>, Args),
    Help(String),
}

/// Splits a line into words; double quotes group, and are removed.
pub(crate) fn tokenize(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                in_word = true;
            }
            c if c.is_whitespace() && !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quoted {
        return Err("unterminated double quote".into());
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

enum Match<'t, T> {
    One(&'t T),
    None,
    Ambiguous(Vec<&'static str>),
}

fn match_word<'t, T>(
    items: impl Iterator<Item = &'t T> + Clone,
    word: &str,
    names: impl Fn(&T) -> (&'static str, &'static str),
) -> Match<'t, T> {
    let w = word.to_ascii_lowercase();
    if let Some(exact) = items
        .clone()
        .find(|i| names(i).0.eq_ignore_ascii_case(&w) || names(i).1.eq_ignore_ascii_case(&w))
    {
        return Match::One(exact);
    }
    let hits: Vec<&T> = items
        .filter(|i| names(i).0.to_ascii_lowercase().starts_with(&w))
        .collect();
    match hits.len() {
        0 => Match::None,
        1 => Match::One(hits[0]),
        _ => Match::Ambiguous(hits.iter().map(|i| names(i).0).collect()),
    }
}

/// Parses `line` against the tree for `role` on `channel`.
pub(crate) fn parse<'t, H>(
    root: &'t [Node<H>],
    line: &str,
    role: Role,
    channel: Channel,
) -> Result<Parsed<'t, H>, String> {
    let words = tokenize(line)?;
    if words.is_empty() {
        return Ok(Parsed::Empty);
    }
    let visible = |n: &&Node<H>| visible(n, role, channel);
    let mut nodes: &'t [Node<H>] = root;
    let mut path: Vec<&'static str> = Vec::new();
    let mut i = 0;
    let first_is_help = words[0] == "?"
        || words[0].eq_ignore_ascii_case("help")
        || matches!(
            match_word(nodes.iter().filter(visible), &words[0], |n| (n.name, n.short)),
            Match::One(n) if n.name == "help"
        );
    if first_is_help {
        // `help` or `help hsm partition`: walk to the named group.
        for w in &words[1..] {
            match match_word(nodes.iter().filter(visible), w, |n| (n.name, n.short)) {
                Match::One(n) => {
                    path.push(n.name);
                    match &n.kind {
                        Kind::Group(children) => nodes = children,
                        Kind::Command { .. } => return Ok(Parsed::Help(command_help(&path, n))),
                    }
                }
                Match::None => return Err(format!("'{w}' is not a valid command")),
                Match::Ambiguous(c) => return Err(ambiguous(w, &c)),
            }
        }
        return Ok(Parsed::Help(group_help(&path, nodes, role, channel)));
    }
    loop {
        let Some(word) = words.get(i) else {
            return Ok(Parsed::Help(group_help(&path, nodes, role, channel)));
        };
        let bare = word.strip_prefix('-').unwrap_or(word);
        if bare.eq_ignore_ascii_case("help") || bare == "?" {
            return Ok(Parsed::Help(group_help(&path, nodes, role, channel)));
        }
        let node = match match_word(nodes.iter().filter(visible), bare, |n| (n.name, n.short)) {
            Match::One(n) => n,
            Match::None => {
                let so_far = if path.is_empty() {
                    String::new()
                } else {
                    format!("{} ", path.join(" "))
                };
                return Err(format!(
                    "'{so_far}{word}' is not a valid command; type 'help' for the list"
                ));
            }
            Match::Ambiguous(c) => return Err(ambiguous(word, &c)),
        };
        // A prefix of `help` (`he`, `-he`) is help, as the full word is.
        if node.name == "help" {
            return Ok(Parsed::Help(group_help(&path, nodes, role, channel)));
        }
        path.push(node.name);
        i += 1;
        match &node.kind {
            Kind::Group(children) => nodes = children,
            Kind::Command {
                opts, positional, ..
            } => {
                let mut args = Args {
                    path,
                    ..Args::default()
                };
                while let Some(word) = words.get(i) {
                    i += 1;
                    let Some(name) = word.strip_prefix('-').filter(|n| !n.is_empty()) else {
                        if positional.is_some() && args.positional.is_none() {
                            args.positional = Some(word.clone());
                            continue;
                        }
                        return Err(format!("unexpected argument '{word}'"));
                    };
                    if name.eq_ignore_ascii_case("help") || name == "?" {
                        return Ok(Parsed::Help(command_help(&args.path, node)));
                    }
                    let opt = match match_word(opts.iter(), name, |o| (o.name, o.short)) {
                        Match::One(o) => o,
                        Match::None => {
                            return Err(format!(
                                "'-{name}' is not an option of '{}'",
                                args.path.join(" ")
                            ));
                        }
                        Match::Ambiguous(c) => return Err(ambiguous(word, &c)),
                    };
                    if args.values.iter().any(|(n, _)| *n == opt.name) {
                        return Err(format!("the option '-{}' is given twice", opt.name));
                    }
                    let value = match opt.value {
                        None => None,
                        Some(meta) => match words.get(i) {
                            Some(v) => {
                                i += 1;
                                Some(v.clone())
                            }
                            None => {
                                return Err(format!(
                                    "the option '-{}' needs a value <{meta}>",
                                    opt.name
                                ));
                            }
                        },
                    };
                    args.values.push((opt.name, value));
                }
                return Ok(Parsed::Run(node, args));
            }
        }
    }
}

/// `line` with the value of every option that may name a secret replaced by `*`, for echoing
/// input that was typed without a terminal. An option word is taken for a secret one when it
/// is a prefix of a `secret` option's name or one of their short forms anywhere in `root`
/// (whatever command it belongs to: masking too much is harmless). A line that does not
/// tokenize is not shown.
pub(crate) fn mask_secrets<H>(root: &[Node<H>], line: &str, secret: &[&str]) -> String {
    fn shorts<H>(nodes: &[Node<H>], secret: &[&str], out: &mut Vec<&'static str>) {
        for n in nodes {
            match &n.kind {
                Kind::Group(children) => shorts(children, secret, out),
                Kind::Command { opts, .. } => out.extend(
                    opts.iter()
                        .filter(|o| secret.contains(&o.name))
                        .map(|o| o.short),
                ),
            }
        }
    }
    let Ok(words) = tokenize(line) else {
        return "(line not shown)".to_owned();
    };
    let mut short = Vec::new();
    shorts(root, secret, &mut short);
    let is_secret = |word: &str| {
        word.strip_prefix('-').is_some_and(|n| {
            let n = n.to_ascii_lowercase();
            !n.is_empty()
                && (secret.iter().any(|s| s.starts_with(&n)) || short.iter().any(|s| *s == n))
        })
    };
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut mask_next = false;
    for w in &words {
        if mask_next {
            out.push("*".to_owned());
            mask_next = false;
        } else {
            mask_next = is_secret(w);
            out.push(quoted(w));
        }
    }
    out.join(" ")
}

fn quoted(v: &str) -> String {
    if v.is_empty() || v.contains(char::is_whitespace) {
        format!("\"{v}\"")
    } else {
        v.to_owned()
    }
}

fn ambiguous(word: &str, candidates: &[&str]) -> String {
    format!(
        "'{word}' is ambiguous: it could be {}",
        candidates.join(", ")
    )
}

fn group_help<H>(path: &[&str], nodes: &[Node<H>], role: Role, channel: Channel) -> String {
    let mut out = String::new();
    let title = if path.is_empty() {
        "Commands".to_owned()
    } else {
        format!("{} commands", path.join(" "))
    };
    let _ = writeln!(out, "\nThe following {title} are available:\n");
    let _ = writeln!(out, "Name            (short)  Description");
    let _ = writeln!(
        out,
        "--------------- -------  ---------------------------------------------------------"
    );
    for n in nodes.iter().filter(|n| visible(n, role, channel)) {
        let _ = writeln!(out, "{:<15} {:<8} {}", n.name, n.short, n.help);
    }
    out
}

fn command_help<H>(path: &[&str], node: &Node<H>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n{}\n", node.help);
    let Kind::Command {
        opts, positional, ..
    } = &node.kind
    else {
        return out;
    };
    let mut usage = path.join(" ");
    if let Some(p) = positional {
        let _ = write!(usage, " [{p}]");
    }
    for o in *opts {
        match o.value {
            Some(v) => {
                let _ = write!(usage, " [-{} <{v}>]", o.name);
            }
            None => {
                let _ = write!(usage, " [-{}]", o.name);
            }
        }
    }
    let _ = writeln!(out, "Syntax: {usage}\n");
    if !opts.is_empty() {
        let _ = writeln!(out, "Option          Short  Parameter   Description");
        let _ = writeln!(
            out,
            "--------------- -----  ----------  ------------------------------------------"
        );
        for o in *opts {
            let _ = writeln!(
                out,
                "-{:<14} -{:<4}  {:<10}  {}",
                o.name,
                o.short,
                o.value.unwrap_or(""),
                o.help
            );
        }
    }
    out
}

#[cfg(test)]
mod tests;
