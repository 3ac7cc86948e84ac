//! Cryptographic operation state of a session (PKCS#11 v3.0 5.2: one active operation per
//! kind), and the output convention every producing call follows.
//!
//! An operation is an [`Active`] value in its slot of [`Ops`]. The rules:
//! - `*Init` with the slot taken: `CKR_OPERATION_ACTIVE`, the active operation continues.
//! - A call without an `*Init`: `CKR_OPERATION_NOT_INITIALIZED`.
//! - A length query, or an output buffer that is too small (`CKR_BUFFER_TOO_SMALL` with the
//!   needed length), leaves the operation active. When a result had to be computed to learn
//!   its length (a decryption whose padding hides it, or a buffer smaller than the exact
//!   length after the computation), it is kept and handed out by the repeated call, which
//!   must pass the same data.
//! - Any other failure, and every successful single-part call or final, ends the operation.

use std::sync::Arc;

use strongroom_crypto::{
    AesCipher, CmacContext, DigestContext, Direction, HashAlg, HmacContext, RsaEncryption,
    RsaSignature, Zeroizing,
};
use strongroom_proto::messages::OutputLength;

use super::Output;
use super::keys::KeyMaterial;
use crate::error::{Error, e};
use crate::object::ObjectHandle;

/// The operations of one session.
#[derive(Default)]
pub(crate) struct Ops {
    pub(crate) digest: Option<Active<DigestContext>>,
    pub(crate) sign: Option<Active<SignState>>,
    pub(crate) verify: Option<Active<SignState>>,
    pub(crate) encrypt: Option<Active<CipherState>>,
    pub(crate) decrypt: Option<Active<CipherState>>,
    pub(crate) find: Option<FindState>,
}

impl Ops {
    /// Ends every operation (logout, objects destroyed under them).
    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }
}

/// `C_FindObjects` state: the matches, taken when the search started.
pub(crate) struct FindState {
    pub(crate) handles: Vec<ObjectHandle>,
    pub(crate) next: usize,
}

/// The length an output will have.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bound {
    /// Bytes.
    pub(crate) len: usize,
    /// Whether `len` is exact (else an upper bound).
    pub(crate) exact: bool,
}

impl Bound {
    pub(crate) fn exact(len: usize) -> Self {
        Self { len, exact: true }
    }

    pub(crate) fn at_most(len: usize) -> Self {
        Self { len, exact: false }
    }
}

/// A result computed but not yet handed out (the buffer was too small).
struct Pending {
    /// SHA-256 of the call's input, so that only the repeated call receives it.
    tag: [u8; 32],
    output: Zeroizing<Vec<u8>>,
}

/// An active operation.
pub(crate) struct Active<S> {
    /// `None` once a completing call consumed it and left a pending result.
    state: Option<S>,
    /// Whether an `*Update` call was made (a single-part call may not follow).
    updated: bool,
    pending: Option<Pending>,
}

impl<S> Active<S> {
    pub(crate) fn new(state: S) -> Self {
        Self {
            state: Some(state),
            updated: false,
            pending: None,
        }
    }

    /// The state of an operation that has just started: no update made, no result pending.
    pub(crate) fn fresh(&self) -> Option<&S> {
        if self.updated || self.pending.is_some() {
            None
        } else {
            self.state.as_ref()
        }
    }
}

/// Starts an operation in `slot` (`CKR_OPERATION_ACTIVE` if one is active).
pub(crate) fn start<S>(slot: &mut Option<Active<S>>, state: S) -> Result<(), Error> {
    if slot.is_some() {
        return Err(e::operation_active());
    }
    *slot = Some(Active::new(state));
    Ok(())
}

/// Refuses `*Init` while an operation of the kind is active, before the key is looked at.
pub(crate) fn check_idle<S>(slot: &Option<Active<S>>) -> Result<(), Error> {
    if slot.is_some() {
        Err(e::operation_active())
    } else {
        Ok(())
    }
}

/// The tag of a single-part call's input.
pub(crate) fn tag_of(input: &[u8]) -> [u8; 32] {
    let d = strongroom_crypto::digest(HashAlg::Sha256, input);
    let mut t = [0u8; 32];
    t.copy_from_slice(&d);
    t
}

/// The tag of a final (no input). Single-part and final calls never meet in one operation
/// (a single-part call after an update is refused), so any constant will do.
pub(crate) fn final_tag() -> [u8; 32] {
    [0xF1; 32]
}

/// The completing call (single-part or final) of the operation in `slot`, with `capacity`
/// the caller's buffer (`None`: length query). `single` says whether this is a single-part
/// call (refused after an update).
pub(crate) fn complete<S>(
    slot: &mut Option<Active<S>>,
    capacity: Option<usize>,
    tag: impl Fn() -> [u8; 32],
    single: bool,
    bound: impl FnOnce(&S) -> Bound,
    run: impl FnOnce(S) -> Result<Vec<u8>, Error>,
) -> Result<Output, Error> {
    let active = slot.as_mut().ok_or_else(e::operation_not_initialized)?;
    if let Some(p) = active.pending.take() {
        if p.tag != tag() {
            *slot = None;
            return Err(e::arguments_bad(
                "after CKR_BUFFER_TOO_SMALL the call must be repeated with the same data",
            ));
        }
        let n = p.output.len();
        return match capacity {
            None => {
                active.pending = Some(p);
                Ok(Output::Length(n))
            }
            Some(c) if c < n => {
                active.pending = Some(p);
                Err(Error::buffer_too_small(n))
            }
            Some(_) => {
                *slot = None;
                Ok(Output::Data(p.output.to_vec()))
            }
        };
    }
    if single && active.updated {
        *slot = None;
        return Err(e::operation_active_multi_part());
    }
    let state = active
        .state
        .take()
        .ok_or_else(|| e::internal("operation without state or result"))?;
    let b = bound(&state);
    match capacity {
        None => {
            active.state = Some(state);
            return Ok(Output::Length(b.len));
        }
        Some(c) if b.exact && c < b.len => {
            active.state = Some(state);
            return Err(Error::buffer_too_small(b.len));
        }
        _ => {}
    }
    let cap = capacity.unwrap_or(usize::MAX);
    match run(state) {
        Err(err) => {
            *slot = None;
            Err(err)
        }
        Ok(out) if out.len() <= cap => {
            *slot = None;
            Ok(Output::Data(out))
        }
        Ok(out) => {
            let n = out.len();
            active.pending = Some(Pending {
                tag: tag(),
                output: Zeroizing::new(out),
            });
            Err(Error::buffer_too_small(n))
        }
    }
}

/// A completing call without output (`C_Verify`, `C_VerifyFinal`): always ends the operation.
pub(crate) fn finish<S>(
    slot: &mut Option<Active<S>>,
    single: bool,
    run: impl FnOnce(S) -> Result<(), Error>,
) -> Result<(), Error> {
    let active = slot.take().ok_or_else(e::operation_not_initialized)?;
    if single && active.updated {
        return Err(e::operation_active_multi_part());
    }
    let state = active
        .state
        .ok_or_else(|| e::internal("operation without state"))?;
    run(state)
}

/// An `*Update` call: a failure ends the operation.
pub(crate) fn update<S, T>(
    slot: &mut Option<Active<S>>,
    f: impl FnOnce(&mut S) -> Result<T, Error>,
) -> Result<T, Error> {
    let active = slot.as_mut().ok_or_else(e::operation_not_initialized)?;
    let Some(state) = active.state.as_mut() else {
        *slot = None;
        return Err(e::operation_not_initialized());
    };
    match f(state) {
        Ok(v) => {
            active.updated = true;
            Ok(v)
        }
        Err(err) => {
            // BUFFER_TOO_SMALL on an update changes nothing; anything else ends it.
            if err.needed_len().is_none() {
                *slot = None;
            }
            Err(err)
        }
    }
}

// ----- signatures and MACs -----

/// How a sign/verify operation computes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum SigScheme {
    /// RSA with this scheme.
    Rsa(RsaSignature),
    /// ECDSA, over the data hashed with the hash (or over a caller digest).
    Ecdsa(Option<HashAlg>),
    /// Pure Ed25519.
    EdDsa,
    /// HMAC with a MAC length in bytes.
    Hmac(HashAlg, usize),
    /// AES-CMAC with a MAC length in bytes.
    Cmac(usize),
}

impl SigScheme {
    /// Whether `*Update` calls are allowed (the provider table's multi-part column).
    pub(crate) fn multi_part(self) -> bool {
        match self {
            Self::Rsa(RsaSignature::Pkcs1 { .. } | RsaSignature::Pss { .. }) => true,
            Self::Ecdsa(h) => h.is_some(),
            Self::Hmac(..) | Self::Cmac(_) => true,
            _ => false,
        }
    }
}

/// Multi-part accumulation.
enum Accum {
    Digest(DigestContext),
    Hmac(Box<HmacContext>),
    Cmac(CmacContext),
}

/// A sign or verify operation.
pub(crate) struct SignState {
    key: Arc<KeyMaterial>,
    scheme: SigScheme,
    acc: Option<Accum>,
}

fn rsa_len(bits: usize) -> usize {
    bits.div_ceil(8)
}

impl SignState {
    pub(crate) fn new(key: Arc<KeyMaterial>, scheme: SigScheme) -> Self {
        Self {
            key,
            scheme,
            acc: None,
        }
    }

    /// Whether `*Update` calls are allowed.
    pub(crate) fn multi_part(&self) -> bool {
        self.scheme.multi_part()
    }

    /// The signature or MAC length.
    pub(crate) fn signature_len(&self) -> usize {
        match (self.scheme, &*self.key) {
            (SigScheme::Rsa(_), KeyMaterial::RsaPrivate(k)) => rsa_len(k.modulus_bits()),
            (SigScheme::Rsa(_), KeyMaterial::RsaPublic(k)) => rsa_len(k.modulus_bits()),
            (SigScheme::Ecdsa(_), KeyMaterial::EcPrivate(k)) => k.curve().signature_len(),
            (SigScheme::Ecdsa(_), KeyMaterial::EcPublic(k)) => k.curve().signature_len(),
            (SigScheme::EdDsa, _) => strongroom_crypto::ED25519_SIGNATURE_LEN,
            (SigScheme::Hmac(_, n) | SigScheme::Cmac(n), _) => n,
            _ => 0,
        }
    }

    fn accum(&mut self) -> Result<&mut Accum, strongroom_crypto::Error> {
        if self.acc.is_none() {
            let acc = match self.scheme {
                SigScheme::Rsa(RsaSignature::Pkcs1 { hash } | RsaSignature::Pss { hash, .. })
                | SigScheme::Ecdsa(Some(hash)) => Accum::Digest(DigestContext::new(hash)),
                SigScheme::Hmac(hash, _) => {
                    let key = self
                        .key
                        .secret_bytes()
                        .ok_or(strongroom_crypto::Error::KeyInvalid)?;
                    Accum::Hmac(Box::new(HmacContext::new(hash, key)?))
                }
                SigScheme::Cmac(_) => match &*self.key {
                    KeyMaterial::Aes(k) => Accum::Cmac(CmacContext::new(k)?),
                    _ => return Err(strongroom_crypto::Error::KeyInvalid),
                },
                _ => return Err(strongroom_crypto::Error::OperationState),
            };
            self.acc = Some(acc);
        }
        self.acc.as_mut().ok_or(strongroom_crypto::Error::Internal)
    }

    /// `C_SignUpdate` / `C_VerifyUpdate`.
    pub(crate) fn update(&mut self, data: &[u8]) -> Result<(), strongroom_crypto::Error> {
        match self.accum()? {
            Accum::Digest(d) => d.update(data),
            Accum::Hmac(h) => h.update(data),
            Accum::Cmac(c) => c.update(data)?,
        }
        Ok(())
    }

    /// The scheme that signs the accumulated digest.
    fn digest_scheme(&self, digest: &[u8]) -> Option<(RsaSignature, Zeroizing<Vec<u8>>)> {
        match self.scheme {
            SigScheme::Rsa(RsaSignature::Pkcs1 { hash }) => {
                let info = [hash.digest_info_prefix(), digest].concat();
                Some((RsaSignature::Pkcs1Raw, Zeroizing::new(info)))
            }
            SigScheme::Rsa(RsaSignature::Pss {
                hash,
                mgf1,
                salt_len,
            }) => Some((
                RsaSignature::PssRaw {
                    hash,
                    mgf1,
                    salt_len,
                },
                Zeroizing::new(digest.to_vec()),
            )),
            _ => None,
        }
    }

    /// `C_SignFinal`.
    pub(crate) fn sign_final(mut self) -> Result<Vec<u8>, strongroom_crypto::Error> {
        self.accum()?;
        match self.acc.take() {
            Some(Accum::Digest(d)) => {
                let digest = d.finish();
                if let Some((scheme, input)) = self.digest_scheme(&digest) {
                    return sign_once(&self.key, SigScheme::Rsa(scheme), &input);
                }
                sign_once(&self.key, SigScheme::Ecdsa(None), &digest)
            }
            Some(Accum::Hmac(h)) => match self.scheme {
                SigScheme::Hmac(_, n) => h.sign(n),
                _ => Err(strongroom_crypto::Error::Internal),
            },
            Some(Accum::Cmac(c)) => match self.scheme {
                SigScheme::Cmac(n) => c.sign(n),
                _ => Err(strongroom_crypto::Error::Internal),
            },
            None => Err(strongroom_crypto::Error::Internal),
        }
    }

    /// `C_VerifyFinal`.
    pub(crate) fn verify_final(mut self, sig: &[u8]) -> Result<(), strongroom_crypto::Error> {
        self.accum()?;
        match self.acc.take() {
            Some(Accum::Digest(d)) => {
                let digest = d.finish();
                if let Some((scheme, input)) = self.digest_scheme(&digest) {
                    return verify_once(&self.key, SigScheme::Rsa(scheme), &input, sig);
                }
                verify_once(&self.key, SigScheme::Ecdsa(None), &digest, sig)
            }
            Some(Accum::Hmac(h)) => {
                mac_len_matches(self.scheme, sig)?;
                h.verify(sig)
            }
            Some(Accum::Cmac(c)) => {
                mac_len_matches(self.scheme, sig)?;
                c.verify(sig)
            }
            None => Err(strongroom_crypto::Error::Internal),
        }
    }

    /// `C_Sign`.
    pub(crate) fn sign(self, data: &[u8]) -> Result<Vec<u8>, strongroom_crypto::Error> {
        sign_once(&self.key, self.scheme, data)
    }

    /// `C_Verify`.
    pub(crate) fn verify(self, data: &[u8], sig: &[u8]) -> Result<(), strongroom_crypto::Error> {
        verify_once(&self.key, self.scheme, data, sig)
    }
}

/// A MAC must have the scheme's length exactly (a shorter prefix is not accepted).
fn mac_len_matches(scheme: SigScheme, tag: &[u8]) -> Result<(), strongroom_crypto::Error> {
    match scheme {
        SigScheme::Hmac(_, n) | SigScheme::Cmac(n) if tag.len() == n => Ok(()),
        _ => Err(strongroom_crypto::Error::Rejected),
    }
}

/// A single-part signature.
pub(crate) fn sign_once(
    key: &KeyMaterial,
    scheme: SigScheme,
    data: &[u8],
) -> Result<Vec<u8>, strongroom_crypto::Error> {
    use strongroom_crypto::Error as C;
    match (scheme, key) {
        (SigScheme::Rsa(s), KeyMaterial::RsaPrivate(k)) => k.sign(s, data),
        (SigScheme::Ecdsa(h), KeyMaterial::EcPrivate(k)) => k.sign(h, data),
        (SigScheme::EdDsa, KeyMaterial::EdPrivate(k)) => Ok(k.sign(data)),
        (SigScheme::Hmac(h, n), k) => {
            strongroom_crypto::hmac_sign(h, k.secret_bytes().ok_or(C::KeyInvalid)?, data, n)
        }
        (SigScheme::Cmac(n), KeyMaterial::Aes(k)) => strongroom_crypto::aes_cmac(k, data, n),
        _ => Err(C::KeyInvalid),
    }
}

/// A single-part verification.
pub(crate) fn verify_once(
    key: &KeyMaterial,
    scheme: SigScheme,
    data: &[u8],
    sig: &[u8],
) -> Result<(), strongroom_crypto::Error> {
    use strongroom_crypto::Error as C;
    match (scheme, key) {
        (SigScheme::Rsa(s), KeyMaterial::RsaPublic(k)) => k.verify(s, data, sig),
        (SigScheme::Rsa(s), KeyMaterial::RsaPrivate(k)) => k.public_key().verify(s, data, sig),
        (SigScheme::Ecdsa(h), KeyMaterial::EcPublic(k)) => k.verify(h, data, sig),
        (SigScheme::EdDsa, KeyMaterial::EdPublic(p)) => {
            strongroom_crypto::ed25519_verify(p, data, sig)
        }
        (SigScheme::Hmac(h, _), k) => {
            let key = k.secret_bytes().ok_or(C::KeyInvalid)?;
            mac_len_matches(scheme, sig)?;
            strongroom_crypto::hmac_verify(h, key, data, sig)
        }
        (SigScheme::Cmac(_), KeyMaterial::Aes(k)) => {
            mac_len_matches(scheme, sig)?;
            strongroom_crypto::aes_cmac_verify(k, data, sig)
        }
        _ => Err(C::KeyInvalid),
    }
}

// ----- encryption -----

/// RSA encryption parameters, owned.
#[derive(Clone, Debug)]
pub(crate) enum RsaEnc {
    Pkcs1,
    X509,
    Oaep {
        hash: HashAlg,
        mgf1: HashAlg,
        label: Vec<u8>,
    },
}

impl RsaEnc {
    fn scheme(&self) -> RsaEncryption<'_> {
        match self {
            Self::Pkcs1 => RsaEncryption::Pkcs1,
            Self::X509 => RsaEncryption::X509,
            Self::Oaep { hash, mgf1, label } => RsaEncryption::Oaep {
                hash: *hash,
                mgf1: *mgf1,
                label,
            },
        }
    }
}

/// Most data a GCM operation buffers across `*Update` calls (GCM runs single-part inside).
pub(crate) const GCM_MAX_BUFFER: usize = 64 * 1024 * 1024;

/// An encrypt or decrypt operation.
pub(crate) enum CipherState {
    /// AES ECB, CBC, CBC-PAD, CTR: truly multi-part.
    Aes {
        cipher: Box<AesCipher>,
        /// CBC-PAD decryption learns its output length only at the end.
        pad_decrypt: bool,
    },
    /// AES-GCM: updates are buffered; the final call encrypts or decrypts all of it.
    Gcm {
        key: Arc<KeyMaterial>,
        iv: Vec<u8>,
        aad: Vec<u8>,
        tag_len: usize,
        dir: Direction,
        buf: Zeroizing<Vec<u8>>,
    },
    /// RSA: single-part only.
    Rsa {
        key: Arc<KeyMaterial>,
        scheme: RsaEnc,
        dir: Direction,
    },
    /// AES key wrap (KW or KWP) of data: single-part only.
    KeyWrap {
        key: Arc<KeyMaterial>,
        pad: bool,
        dir: Direction,
    },
}

fn rsa_bits(key: &KeyMaterial) -> usize {
    match key {
        KeyMaterial::RsaPrivate(k) => k.modulus_bits(),
        KeyMaterial::RsaPublic(k) => k.modulus_bits(),
        _ => 0,
    }
}

impl CipherState {
    /// Length of a single-part call's output for `n` input bytes.
    pub(crate) fn single_len(&self, n: usize) -> Bound {
        match self {
            Self::Aes {
                cipher,
                pad_decrypt,
            } => {
                let len = cipher.update_len(n).saturating_add(cipher.finish_len());
                if *pad_decrypt {
                    Bound::at_most(len)
                } else {
                    Bound::exact(len)
                }
            }
            Self::Gcm { .. } => self.final_len_with(n),
            Self::Rsa { key, dir, .. } => {
                let k = rsa_len(rsa_bits(key));
                match dir {
                    Direction::Encrypt => Bound::exact(k),
                    Direction::Decrypt => Bound::at_most(k),
                }
            }
            Self::KeyWrap { pad, dir, .. } => match (dir, pad) {
                (Direction::Encrypt, false) => Bound::exact(n.saturating_add(8)),
                (Direction::Encrypt, true) => Bound::exact(n.div_ceil(8).max(1) * 8 + 8),
                (Direction::Decrypt, false) => Bound::exact(n.saturating_sub(8)),
                (Direction::Decrypt, true) => Bound::at_most(n.saturating_sub(8)),
            },
        }
    }

    /// `single_len` of a fresh state as a rule of the input's length (what a length query is
    /// answered); `None` where no such rule holds.
    pub(crate) fn single_len_rule(&self) -> Option<OutputLength> {
        let n = |v: usize| v as u64;
        match self {
            Self::Aes { cipher, .. } => {
                cipher
                    .single_len_rule()
                    .map(|(block, extra)| OutputLength::Blocks {
                        block: n(block),
                        extra: n(extra),
                    })
            }
            Self::Gcm {
                buf, tag_len, dir, ..
            } if buf.is_empty() => Some(match dir {
                Direction::Encrypt => OutputLength::Blocks {
                    block: 1,
                    extra: n(*tag_len),
                },
                Direction::Decrypt => OutputLength::Less(n(*tag_len)),
            }),
            Self::Gcm { .. } => None,
            Self::Rsa { key, .. } => Some(OutputLength::Fixed(n(rsa_len(rsa_bits(key))))),
            Self::KeyWrap { pad, dir, .. } => match (dir, pad) {
                (Direction::Encrypt, false) => Some(OutputLength::Blocks { block: 1, extra: 8 }),
                (Direction::Encrypt, true) => None,
                (Direction::Decrypt, _) => Some(OutputLength::Less(8)),
            },
        }
    }

    fn final_len_with(&self, more: usize) -> Bound {
        match self {
            Self::Gcm {
                buf, tag_len, dir, ..
            } => {
                let n = buf.len().saturating_add(more);
                match dir {
                    Direction::Encrypt => Bound::exact(n.saturating_add(*tag_len)),
                    Direction::Decrypt => Bound::exact(n.saturating_sub(*tag_len)),
                }
            }
            Self::Aes {
                cipher,
                pad_decrypt,
            } => {
                if *pad_decrypt {
                    Bound::at_most(cipher.finish_len())
                } else {
                    Bound::exact(cipher.finish_len())
                }
            }
            _ => Bound::exact(0),
        }
    }

    /// Length of the final call's output.
    pub(crate) fn final_len(&self) -> Bound {
        self.final_len_with(0)
    }

    /// Exact output length of an update with `n` bytes; `None` if updates are refused.
    pub(crate) fn update_len(&self, n: usize) -> Option<usize> {
        match self {
            Self::Aes { cipher, .. } => Some(cipher.update_len(n)),
            Self::Gcm { .. } => Some(0),
            _ => None,
        }
    }

    /// `C_EncryptUpdate` / `C_DecryptUpdate`.
    pub(crate) fn update(&mut self, data: &[u8]) -> Result<Vec<u8>, strongroom_crypto::Error> {
        match self {
            Self::Aes { cipher, .. } => cipher.update(data),
            Self::Gcm { buf, .. } => {
                if buf.len().saturating_add(data.len()) > GCM_MAX_BUFFER {
                    return Err(strongroom_crypto::Error::DataLength);
                }
                buf.extend_from_slice(data);
                Ok(Vec::new())
            }
            _ => Err(strongroom_crypto::Error::OperationState),
        }
    }

    /// `C_EncryptFinal` / `C_DecryptFinal`.
    pub(crate) fn finish(self) -> Result<Vec<u8>, strongroom_crypto::Error> {
        match self {
            Self::Aes { cipher, .. } => cipher.finish(),
            Self::Gcm {
                key,
                iv,
                aad,
                tag_len,
                dir,
                buf,
            } => gcm(&key, &iv, &aad, tag_len, dir, &buf),
            _ => Err(strongroom_crypto::Error::OperationState),
        }
    }

    /// `C_Encrypt` / `C_Decrypt`.
    pub(crate) fn once(self, data: &[u8]) -> Result<Vec<u8>, strongroom_crypto::Error> {
        use strongroom_crypto::Error as C;
        match self {
            Self::Aes { mut cipher, .. } => {
                let mut out = cipher.update(data)?;
                out.extend_from_slice(&cipher.finish()?);
                Ok(out)
            }
            Self::Gcm {
                key,
                iv,
                aad,
                tag_len,
                dir,
                ..
            } => gcm(&key, &iv, &aad, tag_len, dir, data),
            Self::Rsa { key, scheme, dir } => match (dir, &*key) {
                (Direction::Encrypt, KeyMaterial::RsaPublic(k)) => k.encrypt(scheme.scheme(), data),
                (Direction::Encrypt, KeyMaterial::RsaPrivate(k)) => {
                    k.public_key().encrypt(scheme.scheme(), data)
                }
                (Direction::Decrypt, KeyMaterial::RsaPrivate(k)) => {
                    Ok(k.decrypt(scheme.scheme(), data)?.to_vec())
                }
                _ => Err(C::KeyInvalid),
            },
            Self::KeyWrap { key, pad, dir } => {
                let KeyMaterial::Aes(k) = &*key else {
                    return Err(C::KeyInvalid);
                };
                let min = if pad { 16 } else { 24 };
                if dir == Direction::Decrypt && (data.len() < min || !data.len().is_multiple_of(8))
                {
                    return Err(C::DataLength);
                }
                match (dir, pad) {
                    (Direction::Encrypt, false) => strongroom_crypto::aes_key_wrap(k, data),
                    (Direction::Encrypt, true) => strongroom_crypto::aes_key_wrap_pad(k, data),
                    (Direction::Decrypt, false) => {
                        Ok(strongroom_crypto::aes_key_unwrap(k, data)?.to_vec())
                    }
                    (Direction::Decrypt, true) => {
                        Ok(strongroom_crypto::aes_key_unwrap_pad(k, data)?.to_vec())
                    }
                }
            }
        }
    }
}

fn gcm(
    key: &KeyMaterial,
    iv: &[u8],
    aad: &[u8],
    tag_len: usize,
    dir: Direction,
    data: &[u8],
) -> Result<Vec<u8>, strongroom_crypto::Error> {
    let KeyMaterial::Aes(k) = key else {
        return Err(strongroom_crypto::Error::KeyInvalid);
    };
    let p = strongroom_crypto::GcmParams { iv, aad, tag_len };
    if dir == Direction::Decrypt && data.len() < tag_len {
        return Err(strongroom_crypto::Error::DataLength);
    }
    match dir {
        Direction::Encrypt => strongroom_crypto::aes_gcm_encrypt(k, &p, data),
        Direction::Decrypt => Ok(strongroom_crypto::aes_gcm_decrypt(k, &p, data)?.to_vec()),
    }
}
