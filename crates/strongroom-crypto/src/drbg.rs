//! The module's random bit generator: an SP 800-90A CTR_DRBG (AES-256, no derivation
//! function) seeded from the operating system, reseeded on a schedule and on request, and
//! taking caller seed material (`C_SeedRandom`) as additional input. See DESIGN.md.

use std::sync::Mutex;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::Error;
use crate::ffi::{CtrDrbg, DRBG_ENTROPY_LEN, DRBG_MAX_GENERATE};

/// Generate calls between two automatic reseeds (SP 800-90A allows up to 2^48).
pub const RESEED_INTERVAL: u64 = 1 << 20;

/// Personalization string of every instance (SP 800-90A §8.7.1): names the use.
const PERSONALIZATION: &[u8] = b"strongroom module DRBG v1";

/// Fills a seed-length buffer with entropy.
pub(crate) type EntropySource =
    Box<dyn Fn(&mut [u8; DRBG_ENTROPY_LEN]) -> Result<(), Error> + Send + Sync>;

struct State {
    drbg: CtrDrbg,
    /// Generate calls since the last (re)seed.
    calls: u64,
}

/// A thread-safe CTR_DRBG: one instance behind a `Mutex`, held only for one generate call
/// (≤ 64 KiB of output per lock hold).
pub struct Drbg {
    state: Mutex<State>,
    entropy: EntropySource,
}

fn os_entropy(buf: &mut [u8; DRBG_ENTROPY_LEN]) -> Result<(), Error> {
    SystemRandom::new().fill(buf).map_err(|_| Error::Random)
}

impl Drbg {
    /// Instantiates from 384 bits of operating-system entropy.
    ///
    /// # Errors
    /// [`Error::Random`] if the entropy source or the DRBG fails.
    pub fn new() -> Result<Self, Error> {
        Self::with_entropy_source(Box::new(os_entropy))
    }

    fn with_entropy_source(entropy: EntropySource) -> Result<Self, Error> {
        let mut seed = Zeroizing::new([0u8; DRBG_ENTROPY_LEN]);
        entropy(&mut seed)?;
        let drbg = CtrDrbg::new(&seed, PERSONALIZATION)?;
        Ok(Self {
            state: Mutex::new(State { drbg, calls: 0 }),
            entropy,
        })
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, State>, Error> {
        // A panic while holding the lock leaves the DRBG state unknown: refuse, never reuse.
        self.state.lock().map_err(|_| Error::Random)
    }

    /// Fills `out` with random bytes, reseeding first when the schedule says so.
    ///
    /// # Errors
    /// [`Error::Random`] if the DRBG or the entropy source fails.
    pub fn fill(&self, out: &mut [u8]) -> Result<(), Error> {
        for chunk in out.chunks_mut(DRBG_MAX_GENERATE) {
            let mut st = self.lock()?;
            if st.calls >= RESEED_INTERVAL {
                let mut e = Zeroizing::new([0u8; DRBG_ENTROPY_LEN]);
                (self.entropy)(&mut e)?;
                st.drbg.reseed(&e, &[])?;
                st.calls = 0;
            }
            st.drbg.generate(chunk, &[])?;
            st.calls += 1;
        }
        Ok(())
    }

    /// Returns `len` random bytes.
    ///
    /// # Errors
    /// As [`Drbg::fill`].
    pub fn random_vec(&self, len: usize) -> Result<Vec<u8>, Error> {
        let mut v = vec![0u8; len];
        self.fill(&mut v)?;
        Ok(v)
    }

    /// `C_SeedRandom`: reseeds with fresh OS entropy and mixes `seed` in as additional input,
    /// 48 bytes per reseed (the entropy appliance's 256-bit blocks take one reseed each).
    /// Caller seed never replaces the OS entropy, so a bad seed cannot weaken the output.
    ///
    /// # Errors
    /// [`Error::Random`] if the entropy source or the DRBG fails.
    pub fn seed(&self, seed: &[u8]) -> Result<(), Error> {
        let mut st = self.lock()?;
        let mut chunks = seed.chunks(DRBG_ENTROPY_LEN).peekable();
        if chunks.peek().is_none() {
            return self.reseed_locked(&mut st, &[]);
        }
        for chunk in chunks {
            self.reseed_locked(&mut st, chunk)?;
        }
        Ok(())
    }

    /// Reseeds from the OS entropy source now.
    ///
    /// # Errors
    /// [`Error::Random`] if the entropy source or the DRBG fails.
    pub fn reseed(&self) -> Result<(), Error> {
        let mut st = self.lock()?;
        self.reseed_locked(&mut st, &[])
    }

    fn reseed_locked(&self, st: &mut State, additional: &[u8]) -> Result<(), Error> {
        let mut e = Zeroizing::new([0u8; DRBG_ENTROPY_LEN]);
        (self.entropy)(&mut e)?;
        st.drbg.reseed(&e, additional)?;
        st.calls = 0;
        Ok(())
    }

    /// Generate calls since the last reseed (for tests and metrics).
    ///
    /// # Errors
    /// [`Error::Random`] if the lock is poisoned.
    pub fn calls_since_reseed(&self) -> Result<u64, Error> {
        Ok(self.lock()?.calls)
    }
}

/// A bare CTR_DRBG with caller-supplied entropy, for known-answer tests (CAVP DRBGVS).
/// Not for production use: nothing reseeds it.
pub struct TestCtrDrbg(CtrDrbg);

impl TestCtrDrbg {
    /// Instantiate (entropy 48 bytes, personalization ≤ 48 bytes).
    ///
    /// # Errors
    /// [`Error::Parameter`] for wrong lengths.
    pub fn new(entropy: &[u8], personalization: &[u8]) -> Result<Self, Error> {
        let e: &[u8; DRBG_ENTROPY_LEN] = entropy.try_into().map_err(|_| Error::Parameter)?;
        Ok(Self(CtrDrbg::new(e, personalization)?))
    }

    /// Reseed (entropy 48 bytes, additional input ≤ 48 bytes).
    ///
    /// # Errors
    /// [`Error::Parameter`] for wrong lengths.
    pub fn reseed(&mut self, entropy: &[u8], additional: &[u8]) -> Result<(), Error> {
        let e: &[u8; DRBG_ENTROPY_LEN] = entropy.try_into().map_err(|_| Error::Parameter)?;
        self.0.reseed(e, additional)
    }

    /// Generate (≤ 64 KiB, additional input ≤ 48 bytes).
    ///
    /// # Errors
    /// [`Error::Parameter`] for wrong lengths.
    pub fn generate(&mut self, out: &mut [u8], additional: &[u8]) -> Result<(), Error> {
        self.0.generate(out, additional)
    }
}

/// Builds a [`Drbg`] whose entropy source is a caller function (tests of the reseed schedule).
pub(crate) fn drbg_with_entropy(f: EntropySource) -> Result<Drbg, Error> {
    Drbg::with_entropy_source(f)
}
