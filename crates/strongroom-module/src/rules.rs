//! Name, label, password and domain rules of the reference (chapter 4 and 7; catalog LC-12,
//! RA-01, RA-03, PA-01; the password character set follows decision CF-01).

use crate::error::{Error, e};

/// Longest HSM label; longer input is truncated to this many characters (LC-12).
pub(crate) const LABEL_MAX: usize = 32;
/// Password length bounds (RA-01).
pub(crate) const PASSWORD_MIN: usize = 8;
/// Password length bounds (RA-01).
pub(crate) const PASSWORD_MAX: usize = 255;
/// Domain string length bounds (RA-03).
pub(crate) const DOMAIN_MAX: usize = 128;
/// Partition name length bound (PA-01).
pub(crate) const PARTITION_NAME_MAX: usize = 32;

/// Validates an HSM label and truncates it to `LABEL_MAX` characters.
///
/// Every character of the input must be alphanumeric ASCII or `_`, including the characters
/// beyond the 32nd: the reference truncates long labels but never accepts other characters.
pub fn hsm_label(input: &str) -> Result<String, Error> {
    if input.is_empty() {
        return Err(e::invalid_label("the HSM label must be 1-32 characters"));
    }
    if let Some(c) = input
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(e::invalid_label(format!(
            "the HSM label may contain only A-Z, a-z, 0-9 and '_' (found {c:?})"
        )));
    }
    Ok(input.chars().take(LABEL_MAX).collect())
}

/// Characters refused in passwords: CF-01 takes the intersection of the reference's two sets.
const PASSWORD_REFUSED: &[char] = &['"', '<', '>', '&', '`'];

/// Checks a new password or challenge secret (RA-01): 8-255 printable ASCII characters, not
/// `" < > &` or backtick, and not starting with a space. Existing credentials are not re-checked.
pub fn password(input: &str) -> Result<(), Error> {
    let len = input.chars().count();
    if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&len) {
        return Err(e::pin_len_range("passwords must be 8-255 characters"));
    }
    if input.starts_with(' ') {
        return Err(e::pin_invalid("a password may not begin with a space"));
    }
    if input
        .chars()
        .any(|c| !(' '..='~').contains(&c) || PASSWORD_REFUSED.contains(&c))
    {
        return Err(e::pin_invalid(
            "passwords may contain printable ASCII characters except \" < > & and `",
        ));
    }
    Ok(())
}

const DOMAIN_PUNCT: &str = " !@#$%^*_-=+[]{}()/:',.~";

/// Checks a domain string (RA-03): 1-128 characters from letters, digits, space and
/// `! @ # $ % ^ * _ - = + [ ] { } ( ) / : ' , . ~`, not starting with a space.
pub fn domain(input: &str) -> Result<(), Error> {
    let len = input.chars().count();
    if !(1..=DOMAIN_MAX).contains(&len) {
        return Err(e::domain_invalid("domain strings must be 1-128 characters"));
    }
    if input.starts_with(' ') {
        return Err(e::domain_invalid(
            "a domain string may not begin with a space",
        ));
    }
    if let Some(c) = input
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || DOMAIN_PUNCT.contains(*c)))
    {
        return Err(e::domain_invalid(format!(
            "the character {c:?} is not allowed in a domain string"
        )));
    }
    Ok(())
}

const PARTITION_PUNCT: &str = " !@#$%^*()_-=+{}[]:'./~";

/// Checks an appliance-side partition name (PA-01): 1-32 characters from letters, digits,
/// space and `! @ # $ % ^ * ( ) _ - = + { } [ ] : ' . / ~`.
pub fn partition_name(input: &str) -> Result<(), Error> {
    let len = input.chars().count();
    if !(1..=PARTITION_NAME_MAX).contains(&len) {
        return Err(e::partition_name_invalid(
            "partition names must be 1-32 characters",
        ));
    }
    if let Some(c) = input
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || PARTITION_PUNCT.contains(*c)))
    {
        return Err(e::partition_name_invalid(format!(
            "the character {c:?} is not allowed in a partition name"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
