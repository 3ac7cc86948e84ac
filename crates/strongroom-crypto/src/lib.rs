//! Strongroom's crypto provider: the cryptographic operations behind the module's PKCS#11 v3.0
//! mechanisms, over aws-lc-rs and, where its safe API lacks an operation, over aws-lc-sys in
//! one private `ffi` module (the only `unsafe` code of the crate).
//!
//! What it does: digests, HMAC, CMAC, AES modes (ECB, CBC, CBC-PAD, CTR, GCM, key wrap), RSA,
//! ECDSA/ECDH on P-256/384/521, Ed25519, X25519, HKDF, PBKDF2, the X9.63 KDF and the module's
//! SP 800-90A DRBG; key generation, import and export for each key type; the mechanism table
//! ([`MECHANISMS`]) with the sizes and flags `C_GetMechanismInfo` reports.
//!
//! What it does not do: it knows nothing of PKCS#11 objects, attributes, sessions, handles,
//! roles or policies (the module decides who may do what, and whether a FIPS-approved-only
//! policy refuses a mechanism the table marks non-approved); it keeps no keys of its own beyond
//! the values callers hold; it does no I/O and starts no threads; Ed448/X448 are not offered
//! (AWS-LC lacks them). Key types hold their material in memory that is zeroized on drop, and
//! have neither `Clone` nor `Debug`. See `DESIGN.md` beside this crate.
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod aes;
mod der;
mod digest;
mod drbg;
mod ec;
mod edwards;
mod error;
mod ffi;
mod kdf;
mod mac;
mod mechanism;
mod rsa;
mod secret;

/// Test hooks: a bare CTR_DRBG with caller entropy for CAVP known-answer tests, and a DRBG
/// with a caller entropy source. Not part of the stable API.
#[doc(hidden)]
pub mod internal {
    pub use crate::drbg::TestCtrDrbg;

    /// A [`crate::Drbg`] whose entropy source is `f` (for reseed-schedule tests).
    ///
    /// # Errors
    /// As [`crate::Drbg::new`].
    #[allow(clippy::type_complexity)]
    pub fn drbg_with_entropy(
        f: Box<dyn Fn(&mut [u8; 48]) -> Result<(), crate::Error> + Send + Sync>,
    ) -> Result<crate::Drbg, crate::Error> {
        crate::drbg::drbg_with_entropy(f)
    }
}

pub use crate::aes::{
    AES_BLOCK_LEN, AesCipher, AesMode, Direction, GcmParams, aes_decrypt, aes_encrypt,
    aes_gcm_decrypt, aes_gcm_encrypt, aes_key_unwrap, aes_key_unwrap_pad, aes_key_wrap,
    aes_key_wrap_pad,
};
pub use crate::digest::{DigestContext, HashAlg, digest};
pub use crate::drbg::{Drbg, RESEED_INTERVAL};
pub use crate::ec::{Curve, EcPrivateKey, EcPublicKey};
pub use crate::edwards::{
    CURVE25519_KEY_LEN, ED25519_SIGNATURE_LEN, Ed25519PrivateKey, X25519PrivateKey, ed25519_verify,
};
pub use crate::error::{Error, write_output};
pub use crate::kdf::{hkdf, hkdf_expand, hkdf_extract, pbkdf2, x963_kdf};
pub use crate::mac::{CmacContext, HmacContext, aes_cmac, aes_cmac_verify, hmac_sign, hmac_verify};
pub use crate::mechanism::{MECHANISMS, MechanismInfo, flags, mechanism_info};
pub use crate::rsa::{
    RSA_MAX_BITS, RSA_MIN_BITS, RsaEncryption, RsaPrivateComponents, RsaPrivateKey, RsaPublicKey,
    RsaSignature,
};
pub use crate::secret::{AesKey, SecretKey};
/// Secret outputs come back in `Zeroizing` buffers (re-exported so callers need not name
/// the `zeroize` crate).
pub use zeroize::Zeroizing;
