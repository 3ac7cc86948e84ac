//! The only `unsafe` code of the crate: thin owners over aws-lc-sys for what the safe
//! aws-lc-rs API lacks. Each type owns one AWS-LC object and frees it on drop; each function
//! passes Rust slices as (pointer, length) pairs that AWS-LC reads or writes within bounds.
//!
//! Soundness rules followed throughout (the per-block `SAFETY` comments refer to them):
//! - R1: a pointer handed to AWS-LC comes from a live Rust slice or owned object, and the
//!   length passed with it is that slice's length (or less), so AWS-LC stays in bounds.
//! - R2: output buffers are sized to the maximum AWS-LC documents for the call (`RSA_size`,
//!   input + block, tag ≤ 16), and their length is truncated to what AWS-LC reports.
//! - R3: every owned pointer is checked for NULL at creation and freed exactly once in `Drop`.
//! - R4: `c_int` conversions use `try_from`; no `as` on lengths.
//! - R5: AWS-LC's RSA, EVP_MD and CTR_DRBG objects are used from `&self` only where AWS-LC
//!   documents them as safe for concurrent use (RSA private operations lock internally); the
//!   DRBG and cipher contexts are used through `&mut self` only.
#![allow(unsafe_code)]

use core::ffi::c_int;
use core::ptr::{self, NonNull};

use aws_lc_sys as sys;
use zeroize::Zeroizing;

use crate::{Error, HashAlg};

fn md(alg: HashAlg) -> *const sys::EVP_MD {
    // SAFETY: the EVP_* digest getters return pointers to static, immutable tables.
    unsafe {
        match alg {
            HashAlg::Sha1 => sys::EVP_sha1(),
            HashAlg::Sha224 => sys::EVP_sha224(),
            HashAlg::Sha256 => sys::EVP_sha256(),
            HashAlg::Sha384 => sys::EVP_sha384(),
            HashAlg::Sha512 => sys::EVP_sha512(),
            HashAlg::Sha3_224 => sys::EVP_sha3_224(),
            HashAlg::Sha3_256 => sys::EVP_sha3_256(),
            HashAlg::Sha3_384 => sys::EVP_sha3_384(),
            HashAlg::Sha3_512 => sys::EVP_sha3_512(),
        }
    }
}

fn c_len(len: usize) -> Result<c_int, Error> {
    c_int::try_from(len).map_err(|_| Error::DataLength)
}

fn clear_errors() {
    // SAFETY: ERR_clear_error only touches AWS-LC's thread-local error queue.
    unsafe { sys::ERR_clear_error() }
}

// ---------------------------------------------------------------------------------------------
// Digest context (SHA3-224, which aws-lc-rs does not name)

/// An owned `EVP_MD_CTX`.
pub(crate) struct MdCtx(NonNull<sys::EVP_MD_CTX>);

// SAFETY: the context is owned exclusively (no aliasing) and holds no thread-bound state.
unsafe impl Send for MdCtx {}
// SAFETY: `&MdCtx` exposes no method that touches the context (all take `&mut self`/`self`).
unsafe impl Sync for MdCtx {}

impl MdCtx {
    pub(crate) fn new(alg: HashAlg) -> Self {
        // SAFETY: EVP_MD_CTX_new has no preconditions; NULL (allocation failure) is handled.
        let raw = unsafe { sys::EVP_MD_CTX_new() };
        let Some(ctx) = NonNull::new(raw) else {
            // Allocation failure of a few hundred bytes: the process cannot go on anyway.
            std::process::abort();
        };
        // SAFETY: ctx is a fresh valid context and md() a static digest table (R3).
        let ok = unsafe { sys::EVP_DigestInit_ex(ctx.as_ptr(), md(alg), ptr::null_mut()) };
        if ok != 1 {
            std::process::abort();
        }
        Self(ctx)
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        // SAFETY: R1 — data is a live slice; the context is initialised and exclusively ours.
        let ok =
            unsafe { sys::EVP_DigestUpdate(self.0.as_ptr(), data.as_ptr().cast(), data.len()) };
        // DigestUpdate cannot fail on an initialised context.
        debug_assert_eq!(ok, 1);
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        let mut out = vec![0u8; 64];
        let mut len: core::ffi::c_uint = 0;
        // SAFETY: R2 — 64 bytes is EVP_MAX_MD_SIZE for the digests this crate offers.
        let ok = unsafe { sys::EVP_DigestFinal_ex(self.0.as_ptr(), out.as_mut_ptr(), &mut len) };
        debug_assert_eq!(ok, 1);
        out.truncate(usize::try_from(len).unwrap_or(0));
        out
    }
}

impl Clone for MdCtx {
    fn clone(&self) -> Self {
        // SAFETY: as in `new`.
        let raw = unsafe { sys::EVP_MD_CTX_new() };
        let Some(ctx) = NonNull::new(raw) else {
            std::process::abort();
        };
        // SAFETY: both contexts are valid; copy_ex deep-copies the state.
        let ok = unsafe { sys::EVP_MD_CTX_copy_ex(ctx.as_ptr(), self.0.as_ptr()) };
        if ok != 1 {
            std::process::abort();
        }
        Self(ctx)
    }
}

impl Drop for MdCtx {
    fn drop(&mut self) {
        // SAFETY: R3 — the pointer is valid and freed once, here.
        unsafe { sys::EVP_MD_CTX_free(self.0.as_ptr()) }
    }
}

// ---------------------------------------------------------------------------------------------
// BIGNUM helpers

struct Bn(NonNull<sys::BIGNUM>);

impl Bn {
    fn from_be(bytes: &[u8]) -> Result<Self, Error> {
        // SAFETY: R1 — reads bytes.len() bytes; a NULL `ret` asks for a fresh BIGNUM.
        let raw = unsafe { sys::BN_bin2bn(bytes.as_ptr(), bytes.len(), ptr::null_mut()) };
        NonNull::new(raw).map(Self).ok_or(Error::Internal)
    }
}

impl Drop for Bn {
    fn drop(&mut self) {
        // SAFETY: R3; BN_clear_free zeroes the limbs (they may hold a private component).
        unsafe { sys::BN_clear_free(self.0.as_ptr()) }
    }
}

/// Big-endian bytes of a BIGNUM owned by an RSA object.
///
/// # Safety
/// `bn` must be NULL or point to a valid BIGNUM that outlives the call.
unsafe fn bn_bytes(bn: *const sys::BIGNUM) -> Zeroizing<Vec<u8>> {
    if bn.is_null() {
        return Zeroizing::new(Vec::new());
    }
    // SAFETY: bn is valid per the function contract.
    let len = unsafe { sys::BN_num_bytes(bn) };
    let len = usize::try_from(len).unwrap_or(0);
    let mut out = Zeroizing::new(vec![0u8; len]);
    // SAFETY: R2 — out holds exactly BN_num_bytes bytes, enough for the value.
    let ok = unsafe { sys::BN_bn2bin_padded(out.as_mut_ptr(), out.len(), bn) };
    debug_assert_eq!(ok, 1);
    out
}

// ---------------------------------------------------------------------------------------------
// RSA

/// The eight components of an RSA private key, big-endian, as AWS-LC holds them.
pub(crate) struct RawRsaComponents {
    pub(crate) n: Vec<u8>,
    pub(crate) e: Vec<u8>,
    pub(crate) d: Zeroizing<Vec<u8>>,
    pub(crate) p: Zeroizing<Vec<u8>>,
    pub(crate) q: Zeroizing<Vec<u8>>,
    pub(crate) dp: Zeroizing<Vec<u8>>,
    pub(crate) dq: Zeroizing<Vec<u8>>,
    pub(crate) qinv: Zeroizing<Vec<u8>>,
}

/// Padding of a raw RSA operation.
#[derive(Clone, Copy)]
pub(crate) enum RawPadding {
    /// PKCS#1 v1.5 (type 1 for private-key operations, type 2 for public-key encryption).
    Pkcs1,
    /// No padding (`CKM_RSA_X_509`).
    None,
}

impl RawPadding {
    fn id(self) -> c_int {
        match self {
            Self::Pkcs1 => sys::RSA_PKCS1_PADDING,
            Self::None => sys::RSA_NO_PADDING,
        }
    }
}

/// An owned AWS-LC `RSA` key (public, or private with CRT components).
pub(crate) struct RsaKey(NonNull<sys::RSA>);

// SAFETY: the RSA object is exclusively owned; AWS-LC's RSA operations are thread-safe on a
// shared key (blinding and Montgomery caches are guarded by the key's own lock) — rule R5.
unsafe impl Send for RsaKey {}
// SAFETY: see `Send`: concurrent `&self` use is what AWS-LC supports for RSA keys.
unsafe impl Sync for RsaKey {}

impl Drop for RsaKey {
    fn drop(&mut self) {
        // SAFETY: R3; RSA_free also clears the private components.
        unsafe { sys::RSA_free(self.0.as_ptr()) }
    }
}

impl RsaKey {
    /// Builds a private key from its components; AWS-LC checks their consistency.
    pub(crate) fn from_private(c: &RawRsaComponents) -> Result<Self, Error> {
        let bns = [&c.n[..], &c.e, &c.d, &c.p, &c.q, &c.dp, &c.dq, &c.qinv]
            .into_iter()
            .map(Bn::from_be)
            .collect::<Result<Vec<_>, _>>()?;
        let p = |i: usize| bns[i].0.as_ptr().cast_const();
        // SAFETY: all eight BIGNUMs are valid for the call; AWS-LC copies them.
        let raw =
            unsafe { sys::RSA_new_private_key(p(0), p(1), p(2), p(3), p(4), p(5), p(6), p(7)) };
        let key = NonNull::new(raw).map(Self);
        clear_errors();
        let key = key.ok_or(Error::KeyInvalid)?;
        // SAFETY: key is a valid RSA object.
        if unsafe { sys::RSA_check_key(key.0.as_ptr()) } != 1 {
            clear_errors();
            return Err(Error::KeyInvalid);
        }
        Ok(key)
    }

    /// Builds a public key from modulus and exponent.
    pub(crate) fn from_public(n: &[u8], e: &[u8]) -> Result<Self, Error> {
        let n = Bn::from_be(n)?;
        let e = Bn::from_be(e)?;
        // SAFETY: both BIGNUMs are valid for the call; AWS-LC copies them.
        let raw = unsafe { sys::RSA_new_public_key(n.0.as_ptr(), e.0.as_ptr()) };
        clear_errors();
        NonNull::new(raw).map(Self).ok_or(Error::KeyInvalid)
    }

    /// Generates a key of `bits` bits with public exponent `e` (odd, ≥ 3).
    pub(crate) fn generate(bits: u32, e: &[u8]) -> Result<Self, Error> {
        let bits = c_int::try_from(bits).map_err(|_| Error::KeySize)?;
        let e = Bn::from_be(e)?;
        // SAFETY: RSA_new has no preconditions.
        let raw = unsafe { sys::RSA_new() };
        let key = NonNull::new(raw).map(Self).ok_or(Error::Internal)?;
        // SAFETY: key and e are valid; a NULL callback is allowed.
        let ok = unsafe {
            sys::RSA_generate_key_ex(key.0.as_ptr(), bits, e.0.as_ptr(), ptr::null_mut())
        };
        clear_errors();
        if ok != 1 {
            return Err(Error::Parameter);
        }
        Ok(key)
    }

    /// Modulus length in bytes.
    pub(crate) fn size(&self) -> usize {
        // SAFETY: the key is valid.
        let n = unsafe { sys::RSA_size(self.0.as_ptr()) };
        usize::try_from(n).unwrap_or(0)
    }

    /// All components (private ones empty for a public key).
    pub(crate) fn components(&self) -> RawRsaComponents {
        let (mut n, mut e, mut d) = (ptr::null(), ptr::null(), ptr::null());
        let (mut p, mut q) = (ptr::null(), ptr::null());
        let (mut dp, mut dq, mut qi) = (ptr::null(), ptr::null(), ptr::null());
        // SAFETY: the out-pointers are valid locals; AWS-LC stores borrowed pointers (or NULL)
        // into them that stay valid while `self` lives, which covers the reads below.
        unsafe {
            sys::RSA_get0_key(self.0.as_ptr(), &mut n, &mut e, &mut d);
            sys::RSA_get0_factors(self.0.as_ptr(), &mut p, &mut q);
            sys::RSA_get0_crt_params(self.0.as_ptr(), &mut dp, &mut dq, &mut qi);
        }
        // SAFETY: each pointer is NULL or a BIGNUM owned by `self`, alive for these calls.
        unsafe {
            RawRsaComponents {
                n: bn_bytes(n).to_vec(),
                e: bn_bytes(e).to_vec(),
                d: bn_bytes(d),
                p: bn_bytes(p),
                q: bn_bytes(q),
                dp: bn_bytes(dp),
                dq: bn_bytes(dq),
                qinv: bn_bytes(qi),
            }
        }
    }

    /// Private-key operation with PKCS#1 type-1 padding or none (`RSA_sign_raw`).
    pub(crate) fn sign_raw(&self, input: &[u8], padding: RawPadding) -> Result<Vec<u8>, Error> {
        let mut out = vec![0u8; self.size()];
        let mut out_len = 0usize;
        // SAFETY: R1/R2 — out has RSA_size bytes, the documented maximum.
        let ok = unsafe {
            sys::RSA_sign_raw(
                self.0.as_ptr(),
                &mut out_len,
                out.as_mut_ptr(),
                out.len(),
                input.as_ptr(),
                input.len(),
                padding.id(),
            )
        };
        clear_errors();
        if ok != 1 {
            return Err(Error::DataLength);
        }
        out.truncate(out_len);
        Ok(out)
    }

    /// Public-key operation that checks and strips padding (`RSA_verify_raw`); returns the
    /// recovered message.
    pub(crate) fn verify_raw(&self, sig: &[u8], padding: RawPadding) -> Result<Vec<u8>, Error> {
        if sig.len() != self.size() {
            return Err(Error::Rejected);
        }
        let mut out = vec![0u8; self.size()];
        let mut out_len = 0usize;
        // SAFETY: R1/R2 — out has RSA_size bytes, the documented maximum.
        let ok = unsafe {
            sys::RSA_verify_raw(
                self.0.as_ptr(),
                &mut out_len,
                out.as_mut_ptr(),
                out.len(),
                sig.as_ptr(),
                sig.len(),
                padding.id(),
            )
        };
        clear_errors();
        if ok != 1 {
            return Err(Error::Rejected);
        }
        out.truncate(out_len);
        Ok(out)
    }

    /// Public-key encryption with PKCS#1 v1.5 type-2 padding or none.
    pub(crate) fn encrypt(&self, input: &[u8], padding: RawPadding) -> Result<Vec<u8>, Error> {
        let mut out = vec![0u8; self.size()];
        let mut out_len = 0usize;
        // SAFETY: R1/R2 — out has RSA_size bytes, the documented maximum.
        let ok = unsafe {
            sys::RSA_encrypt(
                self.0.as_ptr(),
                &mut out_len,
                out.as_mut_ptr(),
                out.len(),
                input.as_ptr(),
                input.len(),
                padding.id(),
            )
        };
        clear_errors();
        if ok != 1 {
            return Err(Error::DataLength);
        }
        out.truncate(out_len);
        Ok(out)
    }

    /// Private-key decryption with PKCS#1 v1.5 type-2 padding or none.
    pub(crate) fn decrypt(
        &self,
        input: &[u8],
        padding: RawPadding,
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        if input.len() != self.size() {
            return Err(Error::DataLength);
        }
        let mut out = Zeroizing::new(vec![0u8; self.size()]);
        let mut out_len = 0usize;
        // SAFETY: R1/R2 — out has RSA_size bytes, the documented maximum.
        let ok = unsafe {
            sys::RSA_decrypt(
                self.0.as_ptr(),
                &mut out_len,
                out.as_mut_ptr(),
                out.len(),
                input.as_ptr(),
                input.len(),
                padding.id(),
            )
        };
        clear_errors();
        if ok != 1 {
            return Err(Error::Rejected);
        }
        out.truncate(out_len);
        Ok(out)
    }

    /// RSASSA-PSS over a precomputed digest with any hash pairing and salt length.
    pub(crate) fn sign_pss(
        &self,
        digest: &[u8],
        hash: HashAlg,
        mgf1: HashAlg,
        salt_len: usize,
    ) -> Result<Vec<u8>, Error> {
        let salt = c_int::try_from(salt_len).map_err(|_| Error::Parameter)?;
        let mut out = vec![0u8; self.size()];
        let mut out_len = 0usize;
        // SAFETY: R1/R2 — out has RSA_size bytes; md() returns static tables.
        let ok = unsafe {
            sys::RSA_sign_pss_mgf1(
                self.0.as_ptr(),
                &mut out_len,
                out.as_mut_ptr(),
                out.len(),
                digest.as_ptr(),
                digest.len(),
                md(hash),
                md(mgf1),
                salt,
            )
        };
        clear_errors();
        if ok != 1 {
            return Err(Error::Parameter);
        }
        out.truncate(out_len);
        Ok(out)
    }

    /// Verifies RSASSA-PSS over a precomputed digest.
    pub(crate) fn verify_pss(
        &self,
        digest: &[u8],
        hash: HashAlg,
        mgf1: HashAlg,
        salt_len: usize,
        sig: &[u8],
    ) -> Result<(), Error> {
        let salt = c_int::try_from(salt_len).map_err(|_| Error::Parameter)?;
        // SAFETY: R1 — all slices are live; md() returns static tables.
        let ok = unsafe {
            sys::RSA_verify_pss_mgf1(
                self.0.as_ptr(),
                digest.as_ptr(),
                digest.len(),
                md(hash),
                md(mgf1),
                salt,
                sig.as_ptr(),
                sig.len(),
            )
        };
        clear_errors();
        if ok != 1 {
            return Err(Error::Rejected);
        }
        Ok(())
    }

    /// RSAES-OAEP encryption or decryption with any hash pairing and label, through
    /// `EVP_PKEY_encrypt`/`EVP_PKEY_decrypt` (constant-time padding check inside AWS-LC).
    pub(crate) fn oaep(
        &self,
        encrypt: bool,
        input: &[u8],
        hash: HashAlg,
        mgf1: HashAlg,
        label: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        let pkey = EvpPkey::from_rsa(self)?;
        let ctx = PkeyCtx::new(&pkey)?;
        let c = ctx.0.as_ptr();
        // SAFETY: c is a valid EVP_PKEY_CTX over an RSA key; the setters only store values.
        let configured = unsafe {
            let init = if encrypt {
                sys::EVP_PKEY_encrypt_init(c)
            } else {
                sys::EVP_PKEY_decrypt_init(c)
            };
            init == 1
                && sys::EVP_PKEY_CTX_set_rsa_padding(c, sys::RSA_PKCS1_OAEP_PADDING) == 1
                && sys::EVP_PKEY_CTX_set_rsa_oaep_md(c, md(hash)) == 1
                && sys::EVP_PKEY_CTX_set_rsa_mgf1_md(c, md(mgf1)) == 1
        };
        if !configured {
            clear_errors();
            return Err(Error::Parameter);
        }
        if !label.is_empty() {
            // set0 takes ownership of an OPENSSL_malloc'd buffer.
            // SAFETY: OPENSSL_malloc has no preconditions; NULL is handled.
            let buf = unsafe { sys::OPENSSL_malloc(label.len()) }.cast::<u8>();
            if buf.is_null() {
                return Err(Error::Internal);
            }
            // SAFETY: buf has label.len() writable bytes and does not overlap `label`.
            unsafe { ptr::copy_nonoverlapping(label.as_ptr(), buf, label.len()) };
            // SAFETY: ownership of buf passes to the context, which frees it.
            if unsafe { sys::EVP_PKEY_CTX_set0_rsa_oaep_label(c, buf, label.len()) } != 1 {
                // SAFETY: on failure ownership stays with us; buf came from OPENSSL_malloc.
                unsafe { sys::OPENSSL_free(buf.cast()) };
                clear_errors();
                return Err(Error::Parameter);
            }
        }
        let mut out = Zeroizing::new(vec![0u8; self.size()]);
        let mut out_len = out.len();
        // SAFETY: R1/R2 — out has RSA_size bytes and out_len says so.
        let ok = unsafe {
            if encrypt {
                sys::EVP_PKEY_encrypt(
                    c,
                    out.as_mut_ptr(),
                    &mut out_len,
                    input.as_ptr(),
                    input.len(),
                )
            } else {
                sys::EVP_PKEY_decrypt(
                    c,
                    out.as_mut_ptr(),
                    &mut out_len,
                    input.as_ptr(),
                    input.len(),
                )
            }
        };
        clear_errors();
        if ok != 1 {
            return Err(if encrypt {
                Error::DataLength
            } else {
                Error::Rejected
            });
        }
        out.truncate(out_len);
        Ok(out)
    }
}

struct EvpPkey(NonNull<sys::EVP_PKEY>);

impl EvpPkey {
    fn from_rsa(rsa: &RsaKey) -> Result<Self, Error> {
        // SAFETY: EVP_PKEY_new has no preconditions.
        let raw = unsafe { sys::EVP_PKEY_new() };
        let pkey = NonNull::new(raw).map(Self).ok_or(Error::Internal)?;
        // SAFETY: both objects are valid; set1 takes its own reference on the RSA object.
        if unsafe { sys::EVP_PKEY_set1_RSA(pkey.0.as_ptr(), rsa.0.as_ptr()) } != 1 {
            clear_errors();
            return Err(Error::Internal);
        }
        Ok(pkey)
    }
}

impl Drop for EvpPkey {
    fn drop(&mut self) {
        // SAFETY: R3; drops our reference (the RSA object keeps the caller's).
        unsafe { sys::EVP_PKEY_free(self.0.as_ptr()) }
    }
}

struct PkeyCtx(NonNull<sys::EVP_PKEY_CTX>);

impl PkeyCtx {
    fn new(pkey: &EvpPkey) -> Result<Self, Error> {
        // SAFETY: pkey is valid; the context takes its own reference on it.
        let raw = unsafe { sys::EVP_PKEY_CTX_new(pkey.0.as_ptr(), ptr::null_mut()) };
        NonNull::new(raw).map(Self).ok_or(Error::Internal)
    }
}

impl Drop for PkeyCtx {
    fn drop(&mut self) {
        // SAFETY: R3.
        unsafe { sys::EVP_PKEY_CTX_free(self.0.as_ptr()) }
    }
}

// ---------------------------------------------------------------------------------------------
// AES-GCM with any IV length and truncated tags

struct CipherCtx(NonNull<sys::EVP_CIPHER_CTX>);

impl CipherCtx {
    fn new() -> Result<Self, Error> {
        // SAFETY: no preconditions.
        let raw = unsafe { sys::EVP_CIPHER_CTX_new() };
        NonNull::new(raw).map(Self).ok_or(Error::Internal)
    }
}

impl Drop for CipherCtx {
    fn drop(&mut self) {
        // SAFETY: R3; EVP_CIPHER_CTX_free cleanses the key schedule.
        unsafe { sys::EVP_CIPHER_CTX_free(self.0.as_ptr()) }
    }
}

fn gcm_cipher(key_len: usize) -> Result<*const sys::EVP_CIPHER, Error> {
    // SAFETY: the getters return static cipher tables.
    Ok(unsafe {
        match key_len {
            16 => sys::EVP_aes_128_gcm(),
            24 => sys::EVP_aes_192_gcm(),
            32 => sys::EVP_aes_256_gcm(),
            _ => return Err(Error::KeySize),
        }
    })
}

/// AES-GCM in one call. Encrypt: returns ciphertext ‖ tag. Decrypt: `input` is ciphertext ‖
/// tag, returns the plaintext or [`Error::Rejected`].
pub(crate) fn aes_gcm(
    encrypt: bool,
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    input: &[u8],
    tag_len: usize,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    if iv.is_empty() || !(1..=16).contains(&tag_len) {
        return Err(Error::Parameter);
    }
    let cipher = gcm_cipher(key.len())?;
    let (data, tag) = if encrypt {
        (input, &[][..])
    } else {
        let split = input.len().checked_sub(tag_len).ok_or(Error::Rejected)?;
        input.split_at(split)
    };
    let ctx = CipherCtx::new()?;
    let c = ctx.0.as_ptr();
    let enc = c_int::from(encrypt);
    let iv_len = c_len(iv.len()).map_err(|_| Error::Parameter)?;
    let mut out = Zeroizing::new(vec![0u8; data.len() + 16]);
    let mut n: c_int = 0;
    let mut total = 0usize;
    // SAFETY: c is a fresh context; the cipher is static; the key buffer has the cipher's key
    // length (checked by gcm_cipher) and the IV length is set before the IV is read (R1).
    let ok = unsafe {
        sys::EVP_CipherInit_ex(c, cipher, ptr::null_mut(), ptr::null(), ptr::null(), enc) == 1
            && sys::EVP_CIPHER_CTX_ctrl(c, sys::EVP_CTRL_AEAD_SET_IVLEN, iv_len, ptr::null_mut())
                == 1
            && sys::EVP_CipherInit_ex(
                c,
                ptr::null(),
                ptr::null_mut(),
                key.as_ptr(),
                iv.as_ptr(),
                enc,
            ) == 1
    };
    if !ok {
        clear_errors();
        return Err(Error::Parameter);
    }
    if !aad.is_empty() {
        // SAFETY: a NULL output with AAD input is GCM's documented AAD call (R1 for aad).
        let ok = unsafe {
            sys::EVP_CipherUpdate(c, ptr::null_mut(), &mut n, aad.as_ptr(), c_len(aad.len())?)
        };
        if ok != 1 {
            clear_errors();
            return Err(Error::DataLength);
        }
    }
    if !data.is_empty() {
        // SAFETY: R2 — GCM is a stream mode: it writes at most data.len() bytes into out,
        // which has data.len() + 16.
        let ok = unsafe {
            sys::EVP_CipherUpdate(
                c,
                out.as_mut_ptr(),
                &mut n,
                data.as_ptr(),
                c_len(data.len())?,
            )
        };
        if ok != 1 {
            clear_errors();
            return Err(Error::DataLength);
        }
        total = usize::try_from(n).map_err(|_| Error::Internal)?;
    }
    if !encrypt {
        let mut t = [0u8; 16];
        t[..tag.len()].copy_from_slice(tag);
        // SAFETY: t has 16 bytes ≥ tag_len; SET_TAG copies tag_len bytes.
        let ok = unsafe {
            sys::EVP_CIPHER_CTX_ctrl(
                c,
                sys::EVP_CTRL_AEAD_SET_TAG,
                c_len(tag_len)?,
                t.as_mut_ptr().cast(),
            )
        };
        if ok != 1 {
            clear_errors();
            return Err(Error::Parameter);
        }
    }
    // SAFETY: R2 — GCM's final writes no bytes; out has spare room after `total` anyway.
    let ok = unsafe { sys::EVP_CipherFinal_ex(c, out.as_mut_ptr().add(total), &mut n) };
    clear_errors();
    if ok != 1 {
        return Err(Error::Rejected);
    }
    out.truncate(total);
    if encrypt {
        let mut t = [0u8; 16];
        // SAFETY: t has 16 writable bytes ≥ tag_len.
        let ok = unsafe {
            sys::EVP_CIPHER_CTX_ctrl(
                c,
                sys::EVP_CTRL_AEAD_GET_TAG,
                c_len(tag_len)?,
                t.as_mut_ptr().cast(),
            )
        };
        if ok != 1 {
            clear_errors();
            return Err(Error::Internal);
        }
        out.extend_from_slice(&t[..tag_len]);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// AES key wrap (RFC 3394 / RFC 5649) for any KEK size

/// An expanded AES key schedule, wiped on drop.
struct AesKey(Box<sys::AES_KEY>);

impl AesKey {
    fn new(kek: &[u8], encrypt: bool) -> Result<Self, Error> {
        let bits = match kek.len() {
            16 => 128,
            24 => 192,
            32 => 256,
            _ => return Err(Error::KeySize),
        };
        // SAFETY: AES_KEY is plain old data (u32 array + count): all-zero is a valid value.
        let mut key: Box<sys::AES_KEY> = Box::new(unsafe { core::mem::zeroed() });
        // SAFETY: R1 — kek has bits/8 bytes; key points to a writable AES_KEY.
        let rc = unsafe {
            if encrypt {
                sys::AES_set_encrypt_key(kek.as_ptr(), bits, &mut *key)
            } else {
                sys::AES_set_decrypt_key(kek.as_ptr(), bits, &mut *key)
            }
        };
        if rc != 0 {
            return Err(Error::KeySize);
        }
        Ok(Self(key))
    }
}

impl Drop for AesKey {
    fn drop(&mut self) {
        let p: *mut sys::AES_KEY = &mut *self.0;
        // SAFETY: p points to an owned AES_KEY of size_of::<AES_KEY>() bytes; OPENSSL_cleanse
        // writes zeros over exactly that range and is not optimised away.
        unsafe { sys::OPENSSL_cleanse(p.cast(), core::mem::size_of::<sys::AES_KEY>()) }
    }
}

/// RFC 3394 wrap with the default IV; `input` is a multiple of 8 bytes, at least 16.
pub(crate) fn aes_wrap(kek: &[u8], input: &[u8]) -> Result<Vec<u8>, Error> {
    if input.len() < 16 || !input.len().is_multiple_of(8) {
        return Err(Error::DataLength);
    }
    let key = AesKey::new(kek, true)?;
    let mut out = vec![0u8; input.len() + 8];
    // SAFETY: R2 — AES_wrap_key writes in_len + 8 bytes; a NULL IV selects the default.
    let n = unsafe {
        sys::AES_wrap_key(
            &*key.0,
            ptr::null(),
            out.as_mut_ptr(),
            input.as_ptr(),
            input.len(),
        )
    };
    let n = usize::try_from(n).map_err(|_| Error::DataLength)?;
    out.truncate(n);
    Ok(out)
}

/// RFC 3394 unwrap; integrity failure is [`Error::Rejected`].
pub(crate) fn aes_unwrap(kek: &[u8], input: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
    if input.len() < 24 || !input.len().is_multiple_of(8) {
        return Err(Error::Rejected);
    }
    let key = AesKey::new(kek, false)?;
    let mut out = Zeroizing::new(vec![0u8; input.len() - 8]);
    // SAFETY: R2 — AES_unwrap_key writes in_len - 8 bytes.
    let n = unsafe {
        sys::AES_unwrap_key(
            &*key.0,
            ptr::null(),
            out.as_mut_ptr(),
            input.as_ptr(),
            input.len(),
        )
    };
    clear_errors();
    let n = usize::try_from(n).map_err(|_| Error::Rejected)?;
    out.truncate(n);
    Ok(out)
}

/// RFC 5649 wrap with padding; `input` is 1 byte or more.
pub(crate) fn aes_wrap_padded(kek: &[u8], input: &[u8]) -> Result<Vec<u8>, Error> {
    if input.is_empty() {
        return Err(Error::DataLength);
    }
    let key = AesKey::new(kek, true)?;
    let max = input.len().checked_add(15).ok_or(Error::DataLength)?;
    let mut out = vec![0u8; max];
    let mut out_len = 0usize;
    // SAFETY: R2 — the output is at most in_len rounded up to 8, plus 8, ≤ in_len + 15.
    let ok = unsafe {
        sys::AES_wrap_key_padded(
            &*key.0,
            out.as_mut_ptr(),
            &mut out_len,
            out.len(),
            input.as_ptr(),
            input.len(),
        )
    };
    clear_errors();
    if ok != 1 {
        return Err(Error::DataLength);
    }
    out.truncate(out_len);
    Ok(out)
}

/// RFC 5649 unwrap; integrity or padding failure is [`Error::Rejected`].
pub(crate) fn aes_unwrap_padded(kek: &[u8], input: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
    if input.len() < 16 || !input.len().is_multiple_of(8) {
        return Err(Error::Rejected);
    }
    let key = AesKey::new(kek, false)?;
    let mut out = Zeroizing::new(vec![0u8; input.len()]);
    let mut out_len = 0usize;
    // SAFETY: R2 — the plaintext is shorter than the input; max_out says so.
    let ok = unsafe {
        sys::AES_unwrap_key_padded(
            &*key.0,
            out.as_mut_ptr(),
            &mut out_len,
            out.len(),
            input.as_ptr(),
            input.len(),
        )
    };
    clear_errors();
    if ok != 1 {
        return Err(Error::Rejected);
    }
    out.truncate(out_len);
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// SP 800-90A CTR_DRBG (AES-256, no derivation function)

/// Entropy input length of the CTR_DRBG: the seed length, 384 bits.
pub(crate) const DRBG_ENTROPY_LEN: usize = 48;
/// Largest request of one generate call.
pub(crate) const DRBG_MAX_GENERATE: usize = 65536;

/// An owned AWS-LC `CTR_DRBG_STATE`.
pub(crate) struct CtrDrbg(NonNull<sys::CTR_DRBG_STATE>);

// SAFETY: the state is exclusively owned and has no thread affinity.
unsafe impl Send for CtrDrbg {}

impl CtrDrbg {
    /// Instantiate with 48 bytes of entropy and a personalization string of at most 48 bytes.
    pub(crate) fn new(
        entropy: &[u8; DRBG_ENTROPY_LEN],
        personalization: &[u8],
    ) -> Result<Self, Error> {
        if personalization.len() > DRBG_ENTROPY_LEN {
            return Err(Error::Parameter);
        }
        // SAFETY: R1 — entropy is exactly CTR_DRBG_ENTROPY_LEN bytes; personalization ≤ 48.
        let raw = unsafe {
            sys::CTR_DRBG_new(
                entropy.as_ptr(),
                personalization.as_ptr(),
                personalization.len(),
            )
        };
        NonNull::new(raw).map(Self).ok_or(Error::Random)
    }

    /// Reseed with 48 bytes of entropy and at most 48 bytes of additional input.
    pub(crate) fn reseed(
        &mut self,
        entropy: &[u8; DRBG_ENTROPY_LEN],
        additional: &[u8],
    ) -> Result<(), Error> {
        if additional.len() > DRBG_ENTROPY_LEN {
            return Err(Error::Parameter);
        }
        // SAFETY: R1 — lengths as documented; entropy and additional are distinct borrows, so
        // they do not alias.
        let ok = unsafe {
            sys::CTR_DRBG_reseed(
                self.0.as_ptr(),
                entropy.as_ptr(),
                additional.as_ptr(),
                additional.len(),
            )
        };
        if ok == 1 { Ok(()) } else { Err(Error::Random) }
    }

    /// Generate up to 64 KiB with at most 48 bytes of additional input.
    pub(crate) fn generate(&mut self, out: &mut [u8], additional: &[u8]) -> Result<(), Error> {
        if additional.len() > DRBG_ENTROPY_LEN || out.len() > DRBG_MAX_GENERATE {
            return Err(Error::Parameter);
        }
        // SAFETY: R1 — out is a live exclusive slice of at most the documented maximum.
        let ok = unsafe {
            sys::CTR_DRBG_generate(
                self.0.as_ptr(),
                out.as_mut_ptr(),
                out.len(),
                additional.as_ptr(),
                additional.len(),
            )
        };
        if ok == 1 { Ok(()) } else { Err(Error::Random) }
    }
}

impl Drop for CtrDrbg {
    fn drop(&mut self) {
        // SAFETY: R3; freed once here (AWS-LC's OPENSSL_free zeroes the allocation).
        unsafe { sys::CTR_DRBG_free(self.0.as_ptr()) }
    }
}
