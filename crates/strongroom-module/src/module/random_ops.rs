//! Random number generation (PKCS#11 v3.0 5.18): `C_SeedRandom` and `C_GenerateRandom`,
//! through the module's one SP 800-90A DRBG (see the crypto provider's DESIGN.md: reseeded
//! from the operating system every 2^20 generate calls and on every `C_SeedRandom`, whose
//! bytes are mixed in as additional input and never replace the system's entropy).

use super::{AccessId, Module};
use crate::error::{Error, e};
use crate::token::SessionHandle;

/// Most bytes one `C_GenerateRandom` call returns.
pub const MAX_RANDOM_LEN: usize = 1 << 20;

impl Module {
    /// `C_SeedRandom`: `seed` is mixed into the DRBG (the entropy appliance's 32-byte blocks
    /// take one reseed each). Any session may seed.
    pub(super) fn seed_random_inner(
        &self,
        access: AccessId,
        session: SessionHandle,
        seed: &[u8],
    ) -> Result<(), Error> {
        self.caller(access, session)?;
        let _busy = self.busy.enter();
        self.rng.seed(seed).map_err(|_| e::rng_failure())
    }

    /// `C_GenerateRandom`: up to [`MAX_RANDOM_LEN`] bytes.
    pub(super) fn generate_random_inner(
        &self,
        access: AccessId,
        session: SessionHandle,
        len: usize,
    ) -> Result<Vec<u8>, Error> {
        self.caller(access, session)?;
        if len > MAX_RANDOM_LEN {
            return Err(e::arguments_bad(format!(
                "at most {MAX_RANDOM_LEN} random bytes per call"
            )));
        }
        let _busy = self.busy.enter();
        self.rng.random_vec(len).map_err(|_| e::rng_failure())
    }
}
