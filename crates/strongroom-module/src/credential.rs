//! Secrets and stored credentials: Argon2id hashes compared in constant time.

use std::sync::{Condvar, Mutex, MutexGuard};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;
use zeroize::{Zeroize as _, Zeroizing};

use crate::error::{Error, e};

/// A secret typed or sent by a person or program: a password or a domain string.
///
/// Neither `Clone` nor `Debug`; the bytes are wiped when it is dropped.
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Takes ownership of a secret string.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The secret text, for checking and hashing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

/// Argon2id cost parameters for stored credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for KdfCost {
    /// OWASP's recommended Argon2id setting (19 MiB, 2 passes, 1 lane).
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// Lets at most as many Argon2id computations run at once as there are cores, each in work
/// memory kept for the next one. A computation needs its memory cost (19 MiB by default);
/// allocated afresh each time, that memory stays with the allocator's arena of whichever thread
/// ran it, so logins spread over many threads left the appliance hundreds of MiB bigger, and a
/// flood of wrong PINs could exhaust its memory. Now the work memory is at most cores times the
/// cost, whatever the load; more at once would not finish sooner on these cores anyway.
struct Gate {
    state: Mutex<GateState>,
    freed: Condvar,
}

struct GateState {
    running: usize,
    /// The most that ever ran at once.
    peak: usize,
    /// Work memory not in use (wiped).
    spare: Vec<Vec<Block>>,
}

static GATE: Gate = Gate {
    state: Mutex::new(GateState {
        running: 0,
        peak: 0,
        spare: Vec::new(),
    }),
    freed: Condvar::new(),
};

/// A place among the running computations, with its work memory; both are given back when it
/// is dropped.
struct Pass {
    memory: Vec<Block>,
}

impl Gate {
    fn lock(&self) -> MutexGuard<'_, GateState> {
        // Counters and wiped buffers: consistent whenever the lock is free.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn enter(&self) -> Pass {
        let limit = std::thread::available_parallelism().map_or(1, usize::from);
        let mut st = self.lock();
        while st.running >= limit {
            st = self.freed.wait(st).unwrap_or_else(|p| p.into_inner());
        }
        st.running += 1;
        st.peak = st.peak.max(st.running);
        Pass {
            memory: st.spare.pop().unwrap_or_default(),
        }
    }
}

impl Pass {
    /// Work memory of `blocks` blocks.
    fn memory(&mut self, blocks: usize) -> &mut [Block] {
        if self.memory.len() < blocks {
            self.memory.resize(blocks, Block::default());
        }
        &mut self.memory[..blocks]
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        // The blocks hold values derived from the secret.
        self.memory.iter_mut().for_each(Block::zeroize);
        let memory = std::mem::take(&mut self.memory);
        let mut st = GATE.lock();
        st.running -= 1;
        if !memory.is_empty() {
            st.spare.push(memory);
        }
        drop(st);
        GATE.freed.notify_one();
    }
}

/// The Argon2 hash of `secret` under `salt` into `out`, in the gate's work memory.
fn argon2_into(
    argon: &Argon2<'_>,
    params: &Params,
    secret: &Secret,
    salt: &[u8],
    out: &mut [u8],
) -> bool {
    let mut pass = GATE.enter();
    argon
        .hash_password_into_with_memory(
            secret.expose().as_bytes(),
            salt,
            out,
            pass.memory(params.block_count()),
        )
        .is_ok()
}

/// A stored credential: an Argon2id PHC string (salt, parameters and hash; never the secret).
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Credential(String);

impl Credential {
    pub(crate) fn create(secret: &Secret, cost: KdfCost) -> Result<Self, Error> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|_| e::internal("invalid Argon2 parameters"))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut salt = [0u8; 16];
        crate::random::fill(&mut salt)?;
        let encoded = SaltString::encode_b64(&salt).map_err(|_| e::internal("salt encoding"))?;
        let mut out = Zeroizing::new([0u8; Params::DEFAULT_OUTPUT_LEN]);
        if !argon2_into(&argon, &params, secret, &salt, &mut out[..]) {
            return Err(e::internal("credential hashing failed"));
        }
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params)
                .map_err(|_| e::internal("Argon2 parameter encoding"))?,
            salt: Some(encoded.as_salt()),
            hash: Some(Output::new(&out[..]).map_err(|_| e::internal("hash encoding"))?),
        };
        Ok(Self(phc.to_string()))
    }

    /// Constant-time check of `secret` against the stored hash (the Argon2 work does not
    /// depend on the secret's correctness, and the hashes are compared in constant time).
    pub(crate) fn verify(&self, secret: &Secret) -> bool {
        let Ok(parsed) = PasswordHash::new(&self.0) else {
            return false;
        };
        let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
            Algorithm::try_from(parsed.algorithm),
            Params::try_from(&parsed),
            parsed.salt,
            parsed.hash,
        ) else {
            return false;
        };
        let Ok(version) = parsed
            .version
            .map_or(Ok(Version::default()), Version::try_from)
        else {
            return false;
        };
        let mut salt_buf = [0u8; 64];
        let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
            return false;
        };
        let argon = Argon2::new(algorithm, version, params.clone());
        let mut out = Zeroizing::new(vec![0u8; expected.len()]);
        argon2_into(&argon, &params, secret, salt, &mut out)
            && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Many threads hashing and checking at once: every answer right, and never more
    /// computations at once than cores.
    #[test]
    fn concurrent_hashing_is_bounded_by_the_cores() {
        let cost = KdfCost {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        let stored = Credential::create(&Secret::from("right one"), cost).unwrap();
        let threads: Vec<_> = (0..12)
            .map(|i| {
                let stored = stored.clone();
                std::thread::spawn(move || {
                    let fresh = Credential::create(&Secret::from("another"), cost).unwrap();
                    assert!(fresh.verify(&Secret::from("another")));
                    assert!(stored.verify(&Secret::from("right one")));
                    assert!(!stored.verify(&Secret::from(format!("wrong {i}").as_str())));
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let st = GATE.lock();
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        // Work memory is reused, not allocated per computation.
        assert!(st.spare.len() <= cores, "{} spare buffers", st.spare.len());
        // Other tests of this process hash too: the peak covers them all.
        assert!(st.peak >= 1 && st.peak <= cores, "peak {}", st.peak);
    }

    /// Credentials stored by the `argon2` crate's own hasher (as every stored credential was
    /// made before the work memory was pooled) verify, and ours verify with its verifier: the
    /// PHC strings are the same format.
    #[test]
    fn credentials_agree_with_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let params = Params::new(1024, 2, 1, None).unwrap();
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::encode_b64(&[7u8; 16]).unwrap();
        let theirs = argon
            .hash_password(b"Pw-123456", &salt)
            .unwrap()
            .to_string();
        let stored = Credential(theirs);
        assert!(stored.verify(&Secret::from("Pw-123456")));
        assert!(!stored.verify(&Secret::from("Pw-123457")));
        let cost = KdfCost {
            memory_kib: 1024,
            iterations: 2,
            parallelism: 1,
        };
        let ours = Credential::create(&Secret::from("Pw-654321"), cost).unwrap();
        assert!(
            ours.0.starts_with("$argon2id$v=19$m=1024,t=2,p=1$"),
            "{}",
            ours.0
        );
        let parsed = PasswordHash::new(&ours.0).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"Pw-654321", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"Pw-654320", &parsed)
                .is_err()
        );
        // Malformed stored strings never verify.
        for bad in [
            "",
            "$argon2id$",
            "$argon2id$v=19$m=1024,t=2,p=1$AAAA",
            "plain",
        ] {
            assert!(!Credential(bad.into()).verify(&Secret::from("x")), "{bad}");
        }
    }
}
