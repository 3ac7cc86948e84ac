//! The appliance shell's parser (`strongroomd::internal::parse_shell_line`) on arbitrary
//! lines, as each appliance role on each channel. The first byte picks the role and channel.
//! A line that parses to a command parses again from its canonical form to the same command
//! (the same canonical and logged forms).
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroomd::internal::{ParsedLine, parse_shell_line};
use strongroomd::{Channel, Role};

const ROLES: [Role; 4] = [Role::Admin, Role::Operator, Role::Monitor, Role::Audit];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(line) = std::str::from_utf8(rest) else {
        return;
    };
    let role = ROLES[usize::from(pick & 3)];
    let channel = if pick & 4 == 0 {
        Channel::Remote
    } else {
        Channel::LocalConsole
    };
    let Ok(ParsedLine::Command { canonical, logged }) = parse_shell_line(line, role, channel)
    else {
        return;
    };
    let again = parse_shell_line(&canonical, role, channel);
    assert_eq!(
        again,
        Ok(ParsedLine::Command {
            canonical: canonical.clone(),
            logged: logged.clone(),
        }),
        "{line:?}"
    );
});
