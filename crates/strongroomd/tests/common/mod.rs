//! Helpers shared by the shell tests: an in-process appliance on a fast-KDF module, a shell
//! session that checks every command's result lines, and accessors for `hsm show` fields.

#![allow(dead_code)]

pub(crate) mod artifact;
pub(crate) mod ntls;
pub(crate) mod process;
pub(crate) mod ssh;

use std::path::{Path, PathBuf};

use strongroom_module::{KdfCost, Module, ModuleConfig, StmStrings};
use strongroomd::{Appliance, Channel, Outcome, Role, ScriptTerminal, Session};
use tempfile::TempDir;

/// The HSM SO password the tests initialize with.
pub(crate) const SO_PW: &str = "Admin-Pass1";
/// The HSM domain string the tests initialize with.
pub(crate) const DOMAIN: &str = "test-domain";
/// The label the tests initialize with.
pub(crate) const LABEL: &str = "test_hsm";
/// The line that ends every successful command.
pub(crate) const RESULT_OK: &str = "\nCommand Result : 0 (Success)\n";
/// The lines that end every failed command.
pub(crate) const RESULT_FAILED: &str = "\n\nCommand Result : 65535 (Strongroom Shell execution)\n";

/// Module settings with a cheap Argon2id, so that tests stay fast.
pub(crate) fn fast_config() -> ModuleConfig {
    ModuleConfig {
        kdf: KdfCost {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        },
        ..ModuleConfig::default()
    }
}

/// An appliance around a factory-new module in a temporary directory.
pub(crate) struct Rig {
    /// Keeps the directory alive.
    pub(crate) dir: TempDir,
    pub(crate) appliance: Appliance,
    /// The STM strings the new module announced.
    pub(crate) strings: StmStrings,
}

impl Rig {
    /// A factory-new module: in Secure Transport Mode, not initialized.
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let (module, strings) = Module::open(&data, fast_config()).expect("open module");
        let strings = strings.expect("a new module announces its STM strings");
        let appliance = Appliance::new(module, data, None);
        Self {
            dir,
            appliance,
            strings,
        }
    }

    /// A module recovered from STM and initialized with [`LABEL`], [`SO_PW`] and [`DOMAIN`],
    /// through the shell; returns the admin's local console session (not logged in).
    pub(crate) fn initialized() -> (Self, Shell) {
        let rig = Self::new();
        let mut sh = rig.admin();
        sh.ok(
            &format!(
                "hsm stm recover -randomuserstring {} -force",
                rig.strings.random_user_string
            ),
            &[],
        );
        sh.ok(
            &format!("hsm init -label {LABEL} -password {SO_PW} -domain {DOMAIN} -force"),
            &[],
        );
        (rig, sh)
    }

    /// Like [`Rig::initialized`], with the HSM SO logged in on the returned session.
    pub(crate) fn logged_in() -> (Self, Shell) {
        let (rig, mut sh) = Self::initialized();
        sh.ok(&format!("hsm login -password {SO_PW}"), &[]);
        (rig, sh)
    }

    pub(crate) fn data_dir(&self) -> &Path {
        &self.appliance.data_dir
    }

    /// The admin's file area.
    pub(crate) fn admin_files(&self) -> PathBuf {
        self.data_dir().join("users").join("admin")
    }

    /// A new session of `admin` on the local console.
    pub(crate) fn admin(&self) -> Shell {
        self.session("admin", Role::Admin, Channel::LocalConsole)
    }

    pub(crate) fn session(&self, user: &str, role: Role, channel: Channel) -> Shell {
        Shell {
            session: Session::new(self.appliance.clone(), user, role, channel),
        }
    }
}

/// A shell session whose commands are checked for their result lines.
pub(crate) struct Shell {
    pub(crate) session: Session,
}

impl Shell {
    /// Runs `line`, answering prompts with `answers` (end of input after them); checks that
    /// every answer was read and returns the outcome and everything the shell wrote.
    pub(crate) fn run(&mut self, line: &str, answers: &[&str]) -> (Outcome, String) {
        let mut term = ScriptTerminal::new(answers.iter().copied());
        let outcome = self.session.execute(line, &mut term);
        let output = term.take_output();
        assert!(
            format!("{term:?}").contains("input: []"),
            "`{line}` left answers unread ({answers:?}); output:\n{output}"
        );
        (outcome, output)
    }

    /// Runs a command that must succeed: ends with `Command Result : 0 (Success)`.
    pub(crate) fn ok(&mut self, line: &str, answers: &[&str]) -> String {
        let (outcome, out) = self.run(line, answers);
        assert_eq!(
            outcome,
            Outcome::Success,
            "`{line}` should succeed; output:\n{out}"
        );
        assert!(
            out.ends_with(RESULT_OK),
            "`{line}` should end with the success line:\n{out}"
        );
        assert!(!out.contains("Error:"), "`{line}` printed an error:\n{out}");
        out
    }

    /// Runs a command the module must refuse with `code` (`"A00000 : SR_RET_UM_PIN_INCORRECT"`):
    /// `Error: '<command words>' failed. (<code>)` then the shell-execution result line.
    pub(crate) fn fails(
        &mut self,
        line: &str,
        answers: &[&str],
        command: &str,
        code: &str,
    ) -> String {
        let (outcome, out) = self.run(line, answers);
        assert_eq!(
            outcome,
            Outcome::Failed,
            "`{line}` should fail; output:\n{out}"
        );
        let tail = format!("\nError: '{command}' failed. ({code}){RESULT_FAILED}");
        assert!(
            out.ends_with(&tail),
            "`{line}` should end with\n{tail}\ngot:\n{out}"
        );
        assert_module_code_format(&out);
        out
    }

    /// Runs a line the shell itself must refuse: `Error: <reason>` and the shell-execution
    /// result line, and nothing run.
    pub(crate) fn refused(&mut self, line: &str) -> String {
        let (outcome, out) = self.run(line, &[]);
        assert_eq!(
            outcome,
            Outcome::Failed,
            "`{line}` should be refused; output:\n{out}"
        );
        assert!(
            out.starts_with("Error: "),
            "`{line}` should start with 'Error: ':\n{out}"
        );
        assert!(
            out.ends_with(RESULT_FAILED),
            "`{line}` should end with the failure line:\n{out}"
        );
        assert_eq!(out.matches("Error:").count(), 1, "one error line:\n{out}");
        out
    }

    /// Runs a command the shell refuses after its prompts (a precondition or an answer):
    /// the output ends with `Error: <reason>` and the shell-execution result line.
    pub(crate) fn refused_after(&mut self, line: &str, answers: &[&str]) -> String {
        let (outcome, out) = self.run(line, answers);
        assert_eq!(
            outcome,
            Outcome::Failed,
            "`{line}` should be refused; output:\n{out}"
        );
        assert!(
            out.ends_with(RESULT_FAILED),
            "`{line}` should end with the failure line:\n{out}"
        );
        let last = out
            .trim_end_matches(RESULT_FAILED)
            .lines()
            .last()
            .unwrap_or_default();
        // At the end of input the error follows the unanswered prompt on its line.
        let error = last.trim_start_matches("> ");
        assert!(
            error.starts_with("Error: ") && !error.contains("' failed. ("),
            "no shell error in:\n{out}"
        );
        assert!(
            !out.contains("successful"),
            "`{line}` claims success:\n{out}"
        );
        out
    }

    /// `hsm show`.
    pub(crate) fn show(&mut self) -> Show {
        Show(self.ok("hsm show", &[]))
    }

    /// The value of policy `name` in `hsm showPolicies` (`On`, `Off` or a number).
    pub(crate) fn policy(&mut self, name: &str) -> String {
        let out = self.ok("hsm showPolicies", &[]);
        policy_value(&out, name).unwrap_or_else(|| panic!("no policy {name:?} in:\n{out}"))
    }

    /// The partition names of `partition list`, in order.
    pub(crate) fn partitions(&mut self) -> Vec<String> {
        let out = self.ok("partition list", &[]);
        partition_rows(&out).into_iter().map(|r| r.name).collect()
    }

    /// A snapshot of the appliance state as the administrator sees it: `hsm show` without
    /// the clock lines, `partition list`, `hsm showPolicies` and `hsm tamper show`.
    pub(crate) fn state(&mut self) -> String {
        let show = self.show();
        let show: Vec<&str> = show
            .0
            .lines()
            .filter(|l| {
                !l.starts_with("HSM Time:")
                    && !l.starts_with("Host Time:")
                    && !l.starts_with("Difference:")
            })
            .collect();
        let list = self.ok("partition list", &[]);
        let policies = self.ok("hsm showPolicies", &[]);
        let tamper = self.ok("hsm tamper show", &[]);
        format!("{}\n{list}\n{policies}\n{tamper}", show.join("\n"))
    }
}

/// Checks the code part of every `Error: '...' failed. (<hex> : SR_RET_...)` line: upper-case
/// hex without `0x` or leading zeros, then the `SR_RET_` name.
pub(crate) fn assert_module_code_format(out: &str) {
    for line in out.lines().filter(|l| l.starts_with("Error: '")) {
        let code = line
            .rsplit_once(" failed. (")
            .and_then(|(_, c)| c.strip_suffix(')'))
            .unwrap_or_else(|| panic!("malformed failure line {line:?}"));
        let (hex, name) = code
            .split_once(" : ")
            .unwrap_or_else(|| panic!("no ' : ' in {line:?}"));
        assert!(
            !hex.is_empty() && !hex.starts_with('0'),
            "leading zero or empty in {line:?}"
        );
        assert!(
            hex.chars()
                .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)),
            "not upper-case hex in {line:?}"
        );
        assert!(
            name.starts_with("SR_RET_"),
            "not an SR_RET_ name in {line:?}"
        );
    }
}

/// `hsm show` output.
pub(crate) struct Show(pub(crate) String);

impl Show {
    /// The value of the `name:` line (trimmed), if present.
    pub(crate) fn field(&self, name: &str) -> Option<String> {
        field(&self.0, name)
    }

    /// Like [`Show::field`], panicking when the field is absent.
    pub(crate) fn get(&self, name: &str) -> String {
        self.field(name)
            .unwrap_or_else(|| panic!("no field {name:?} in:\n{}", self.0))
    }

    /// The `Partition:` lines' values.
    pub(crate) fn partitions(&self) -> Vec<String> {
        self.0
            .lines()
            .filter_map(|l| l.strip_prefix("Partition:"))
            .map(|v| v.trim().to_owned())
            .collect()
    }
}

/// Checks that `needles` appear in `out` in this order.
pub(crate) fn assert_in_order(out: &str, needles: &[&str]) {
    let mut from = 0;
    for needle in needles {
        match out[from..].find(needle) {
            Some(i) => from += i + needle.len(),
            None => panic!("{needle:?} missing (or out of order) in:\n{out}"),
        }
    }
}

/// The value of the first `name:` line of `out`, trimmed.
pub(crate) fn field(out: &str, name: &str) -> Option<String> {
    let prefix = format!("{name}:");
    out.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .map(|v| v.trim().to_owned())
}

/// The value column of the policy row named `name` in showPolicies output.
pub(crate) fn policy_value(out: &str, name: &str) -> Option<String> {
    out.lines().find_map(|l| {
        let rest = l.strip_prefix(name)?;
        if !rest.starts_with("  ") {
            return None;
        }
        rest.split_whitespace().next().map(str::to_owned)
    })
}

/// One row of `partition list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PartitionRow {
    pub(crate) serial: String,
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) objects: String,
    pub(crate) total: String,
    pub(crate) used: String,
    pub(crate) free: String,
}

/// The rows of `partition list` (names may contain single spaces).
pub(crate) fn partition_rows(out: &str) -> Vec<PartitionRow> {
    let mut rows = Vec::new();
    let mut body = false;
    for line in out.lines() {
        if line.starts_with("==") {
            body = true;
            continue;
        }
        if !body {
            continue;
        }
        // The table ends at the first line that is not a row (a blank line, the result).
        if !line
            .split(' ')
            .next()
            .is_some_and(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()))
        {
            break;
        }
        // Columns are separated by spaces; the serial is the first word and the last five
        // are numbers, so the name is what lies between (it may contain spaces).
        let mut spans = Vec::new();
        let mut begin = None;
        for (i, c) in line
            .char_indices()
            .chain(std::iter::once((line.len(), ' ')))
        {
            match (c == ' ', begin) {
                (false, None) => begin = Some(i),
                (true, Some(b)) => {
                    spans.push((b, i));
                    begin = None;
                }
                _ => {}
            }
        }
        assert!(spans.len() >= 7, "malformed partition row {line:?}");
        let n = spans.len();
        let word = |k: usize| line[spans[k].0..spans[k].1].to_owned();
        rows.push(PartitionRow {
            serial: word(0),
            name: line[spans[1].0..spans[n - 6].1].to_owned(),
            version: word(n - 5),
            objects: word(n - 4),
            total: word(n - 3),
            used: word(n - 2),
            free: word(n - 1),
        });
    }
    rows
}
