//! The operating system's random source, through the crypto library.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use crate::error::{Error, e};

pub(crate) fn fill(buf: &mut [u8]) -> Result<(), Error> {
    SystemRandom::new().fill(buf).map_err(|_| e::rng_failure())
}

/// Characters of the STM strings: mixed-case letters and digits (as `pTYF-45xG-pXbE-AHs4`).
pub(crate) const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Maps uniformly distributed bytes onto [`ALNUM`] without bias (rejection of bytes >= 248),
/// appending to `out` until it holds `len` characters; returns false if `bytes` ran out.
pub(crate) fn alnum_from(bytes: &[u8], out: &mut String, len: usize) -> bool {
    // 248 = 4 * 62: the largest multiple of the alphabet size not above 256.
    const LIMIT: usize = 256 / ALNUM.len() * ALNUM.len();
    for b in bytes {
        if out.len() == len {
            break;
        }
        if usize::from(*b) < LIMIT {
            out.push(char::from(ALNUM[usize::from(*b) % ALNUM.len()]));
        }
    }
    out.len() == len
}
