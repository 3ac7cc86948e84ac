//! AES block modes (ECB, CBC, CBC-PAD, CTR) with multi-part contexts, AES-GCM and AES key
//! wrap (RFC 3394 and RFC 5649).

use aws_lc_rs::aead;
use aws_lc_rs::cipher::{
    DecryptingKey, DecryptionContext, EncryptingKey, EncryptionContext, UnboundCipherKey,
};
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::key_wrap::{self, KeyWrap, KeyWrapPadded};
use zeroize::{Zeroize, Zeroizing};

use crate::{AesKey, Error, ffi};

/// AES block length in bytes.
pub const AES_BLOCK_LEN: usize = 16;

/// A block mode with its parameters, as `CKM_AES_*` mechanisms carry them.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AesMode {
    /// `CKM_AES_ECB`: data must be a multiple of 16 bytes.
    Ecb,
    /// `CKM_AES_CBC`: no padding; data must be a multiple of 16 bytes.
    Cbc {
        /// Initialization vector.
        iv: [u8; 16],
    },
    /// `CKM_AES_CBC_PAD`: PKCS#7 padding.
    CbcPad {
        /// Initialization vector.
        iv: [u8; 16],
    },
    /// `CKM_AES_CTR` with `CK_AES_CTR_PARAMS`.
    Ctr {
        /// Initial counter block.
        counter_block: [u8; 16],
        /// How many low-order bits of the counter block form the counter (1..=128). Data that
        /// would wrap the counter is refused ([`Error::DataLength`]), never keystream reuse.
        counter_bits: u8,
    },
}

/// Which way a cipher context runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Encrypt.
    Encrypt,
    /// Decrypt.
    Decrypt,
}

enum Engine {
    Enc(EncryptingKey),
    Dec(DecryptingKey),
}

/// A multi-part AES context (`C_EncryptInit`/`Update`/`Final` and the decrypt analogues).
/// Carries the IV, counter and partial blocks between parts.
pub struct AesCipher {
    engine: Engine,
    mode: AesMode,
    dir: Direction,
    /// CBC: the chaining value (last ciphertext block). CTR: the next counter block.
    iv: [u8; 16],
    /// Input bytes not yet processed (ECB/CBC: < 16; CBC-PAD decrypt: ≤ 16).
    pending: Zeroizing<Vec<u8>>,
    /// CTR: unused keystream bytes of the last block, at its end.
    keystream: Zeroizing<[u8; 16]>,
    keystream_used: usize,
    /// CTR: counter blocks still available before the counter would wrap (`None` = 2^128).
    blocks_left: Option<u128>,
}

fn iv_ctx(iv: [u8; 16]) -> EncryptionContext {
    EncryptionContext::Iv128(FixedLength::from(iv))
}

impl AesCipher {
    /// Starts a multi-part operation.
    ///
    /// # Errors
    /// [`Error::Parameter`] for counter bits outside 1..=128.
    pub fn new(key: &AesKey, mode: AesMode, dir: Direction) -> Result<Self, Error> {
        let unbound = || UnboundCipherKey::new(key.cipher_alg(), key.as_bytes());
        let (engine, iv, blocks_left) = match mode {
            AesMode::Ecb => {
                let e = match dir {
                    Direction::Encrypt => Engine::Enc(EncryptingKey::ecb(unbound()?)?),
                    Direction::Decrypt => Engine::Dec(DecryptingKey::ecb(unbound()?)?),
                };
                (e, [0u8; 16], None)
            }
            AesMode::Cbc { iv } | AesMode::CbcPad { iv } => {
                let e = match dir {
                    Direction::Encrypt => Engine::Enc(EncryptingKey::cbc(unbound()?)?),
                    Direction::Decrypt => Engine::Dec(DecryptingKey::cbc(unbound()?)?),
                };
                (e, iv, None)
            }
            AesMode::Ctr {
                counter_block,
                counter_bits,
            } => {
                if !(1..=128).contains(&counter_bits) {
                    return Err(Error::Parameter);
                }
                let left = if counter_bits == 128 {
                    None
                } else {
                    let space = 1u128 << counter_bits;
                    let counter = u128::from_be_bytes(counter_block) & (space - 1);
                    Some(space - counter)
                };
                (
                    Engine::Enc(EncryptingKey::ctr(unbound()?)?),
                    counter_block,
                    left,
                )
            }
        };
        Ok(Self {
            engine,
            mode,
            dir,
            iv,
            pending: Zeroizing::new(Vec::with_capacity(32)),
            keystream: Zeroizing::new([0u8; 16]),
            keystream_used: 16,
            blocks_left,
        })
    }

    fn holds_back_last_block(&self) -> bool {
        matches!(self.mode, AesMode::CbcPad { .. }) && self.dir == Direction::Decrypt
    }

    /// What a fresh cipher's `update` then `finish` return for `n` input bytes, as `(block,
    /// extra)`: the input's whole blocks of `block` bytes plus `extra` bytes. `None` for
    /// CBC-PAD decryption, whose last block is held back and whose length the padding decides.
    pub fn single_len_rule(&self) -> Option<(usize, usize)> {
        if self.holds_back_last_block() {
            return None;
        }
        let block = if matches!(self.mode, AesMode::Ctr { .. }) {
            1
        } else {
            AES_BLOCK_LEN
        };
        Some((block, self.finish_len()))
    }

    /// Exact number of bytes the next `update` with `input_len` bytes will return.
    pub fn update_len(&self, input_len: usize) -> usize {
        if matches!(self.mode, AesMode::Ctr { .. }) {
            return input_len;
        }
        let total = self.pending.len().saturating_add(input_len);
        let mut blocks = total / AES_BLOCK_LEN;
        if self.holds_back_last_block() && total.is_multiple_of(AES_BLOCK_LEN) && blocks > 0 {
            blocks -= 1;
        }
        blocks * AES_BLOCK_LEN
    }

    /// Upper bound of what `finish` returns (exact except for CBC-PAD decryption).
    pub fn finish_len(&self) -> usize {
        match (self.mode, self.dir) {
            (AesMode::CbcPad { .. }, Direction::Encrypt) => AES_BLOCK_LEN,
            (AesMode::CbcPad { .. }, Direction::Decrypt) => AES_BLOCK_LEN - 1,
            _ => 0,
        }
    }

    fn run_blocks(&mut self, data: &mut [u8]) -> Result<(), Error> {
        if data.is_empty() {
            return Ok(());
        }
        match self.mode {
            AesMode::Ecb => match &self.engine {
                Engine::Enc(k) => {
                    k.less_safe_encrypt(data, EncryptionContext::None)?;
                }
                Engine::Dec(k) => {
                    k.decrypt(data, DecryptionContext::None)?;
                }
            },
            AesMode::Cbc { .. } | AesMode::CbcPad { .. } => {
                let mut last = [0u8; 16];
                match &self.engine {
                    Engine::Enc(k) => {
                        k.less_safe_encrypt(data, iv_ctx(self.iv))?;
                        last.copy_from_slice(&data[data.len() - 16..]);
                    }
                    Engine::Dec(k) => {
                        last.copy_from_slice(&data[data.len() - 16..]);
                        let ctx = DecryptionContext::Iv128(FixedLength::from(self.iv));
                        k.decrypt(data, ctx)?;
                    }
                }
                self.iv = last;
            }
            AesMode::Ctr { .. } => {
                let Engine::Enc(k) = &self.engine else {
                    return Err(Error::Internal);
                };
                k.less_safe_encrypt(data, iv_ctx(self.iv))?;
                let blocks =
                    u128::try_from(data.len().div_ceil(16)).map_err(|_| Error::Internal)?;
                self.iv = u128::from_be_bytes(self.iv)
                    .wrapping_add(blocks)
                    .to_be_bytes();
            }
        }
        Ok(())
    }

    fn ctr_take_blocks(&mut self, blocks: usize) -> Result<(), Error> {
        if let Some(left) = self.blocks_left.as_mut() {
            let b = u128::try_from(blocks).map_err(|_| Error::DataLength)?;
            if b > *left {
                return Err(Error::DataLength);
            }
            *left -= b;
        }
        Ok(())
    }

    fn ctr_update(&mut self, input: &[u8]) -> Result<Vec<u8>, Error> {
        let from_ks = input.len().min(16 - self.keystream_used);
        let rest = input.len() - from_ks;
        let full = rest / 16;
        let tail = rest % 16;
        self.ctr_take_blocks(full + usize::from(tail > 0))?;
        let mut out = input.to_vec();
        for (i, b) in out[..from_ks].iter_mut().enumerate() {
            *b ^= self.keystream[self.keystream_used + i];
        }
        self.keystream_used += from_ks;
        let body_end = from_ks + full * 16;
        self.run_blocks(&mut out[from_ks..body_end])?;
        if tail > 0 {
            let mut ks = Zeroizing::new([0u8; 16]);
            self.run_blocks(&mut ks[..])?;
            for (i, b) in out[body_end..].iter_mut().enumerate() {
                *b ^= ks[i];
            }
            *self.keystream = *ks;
            self.keystream_used = tail;
        }
        Ok(out)
    }

    /// Processes the next part and returns the output it completes.
    ///
    /// # Errors
    /// [`Error::DataLength`] if a CTR counter would wrap.
    pub fn update(&mut self, input: &[u8]) -> Result<Vec<u8>, Error> {
        if matches!(self.mode, AesMode::Ctr { .. }) {
            return self.ctr_update(input);
        }
        let n = self.update_len(input.len());
        self.pending.extend_from_slice(input);
        let mut out: Vec<u8> = self.pending.drain(..n).collect();
        self.run_blocks(&mut out)?;
        Ok(out)
    }

    /// Finishes: pads (CBC-PAD encrypt), checks and strips padding (CBC-PAD decrypt), or checks
    /// that no partial block is left (ECB, CBC).
    ///
    /// # Errors
    /// [`Error::DataLength`] for a partial final block; [`Error::Rejected`] for bad padding.
    pub fn finish(mut self) -> Result<Vec<u8>, Error> {
        match (self.mode, self.dir) {
            (AesMode::Ctr { .. }, _) => Ok(Vec::new()),
            (AesMode::CbcPad { .. }, Direction::Encrypt) => {
                let pad = 16 - self.pending.len();
                let mut block: Vec<u8> = self.pending.drain(..).collect();
                block.resize(16, u8::try_from(pad).map_err(|_| Error::Internal)?);
                self.run_blocks(&mut block)?;
                Ok(block)
            }
            (AesMode::CbcPad { .. }, Direction::Decrypt) => {
                if self.pending.len() != 16 {
                    return Err(Error::DataLength);
                }
                let mut block: Zeroizing<Vec<u8>> =
                    Zeroizing::new(self.pending.drain(..).collect());
                self.run_blocks(&mut block)?;
                let len = unpad_len(&block)?;
                Ok(block[..len].to_vec())
            }
            _ => {
                if self.pending.is_empty() {
                    Ok(Vec::new())
                } else {
                    Err(Error::DataLength)
                }
            }
        }
    }
}

/// Length of the data in a final PKCS#7-padded block; the check runs over all 16 bytes.
fn unpad_len(block: &[u8]) -> Result<usize, Error> {
    let pad = block[15];
    let mut bad = u8::from(pad == 0) | u8::from(pad > 16);
    for (i, &b) in block.iter().enumerate() {
        // Bytes at positions ≥ 16 - pad must equal pad.
        let in_pad = u8::from(i + usize::from(pad) >= 16);
        bad |= in_pad & u8::from(b != pad);
    }
    if bad != 0 {
        return Err(Error::Rejected);
    }
    Ok(16 - usize::from(pad))
}

/// Single-part encryption in `mode`.
///
/// # Errors
/// As [`AesCipher::update`] and [`AesCipher::finish`].
pub fn aes_encrypt(key: &AesKey, mode: AesMode, data: &[u8]) -> Result<Vec<u8>, Error> {
    let mut c = AesCipher::new(key, mode, Direction::Encrypt)?;
    let mut out = c.update(data)?;
    out.extend_from_slice(&c.finish()?);
    Ok(out)
}

/// Single-part decryption in `mode`.
///
/// # Errors
/// As [`AesCipher::update`] and [`AesCipher::finish`].
pub fn aes_decrypt(key: &AesKey, mode: AesMode, data: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
    let mut c = AesCipher::new(key, mode, Direction::Decrypt)?;
    let mut out = Zeroizing::new(c.update(data)?);
    let mut last = c.finish()?;
    out.extend_from_slice(&last);
    last.zeroize();
    Ok(out)
}

/// `CK_GCM_PARAMS`: IV (1 byte or more), additional data and tag length in bytes (1..=16;
/// FIPS-approved use is 12..=16, or 4 and 8 under SP 800-38D appendix C).
#[derive(Debug, Clone, Copy)]
pub struct GcmParams<'a> {
    /// Initialization vector; 12 bytes is the recommended length.
    pub iv: &'a [u8],
    /// Additional authenticated data.
    pub aad: &'a [u8],
    /// Tag length in bytes.
    pub tag_len: usize,
}

fn gcm_safe_alg(key: &AesKey) -> &'static aead::Algorithm {
    match key.len() {
        16 => &aead::AES_128_GCM,
        24 => &aead::AES_192_GCM,
        _ => &aead::AES_256_GCM,
    }
}

/// AES-GCM encryption; returns ciphertext ‖ tag.
///
/// # Errors
/// [`Error::Parameter`] for an empty IV or a tag length outside 1..=16.
pub fn aes_gcm_encrypt(
    key: &AesKey,
    params: &GcmParams<'_>,
    plaintext: &[u8],
) -> Result<Vec<u8>, Error> {
    if params.iv.len() == aead::NONCE_LEN && params.tag_len == 16 {
        let k = aead::LessSafeKey::new(aead::UnboundKey::new(gcm_safe_alg(key), key.as_bytes())?);
        let nonce = aead::Nonce::try_assume_unique_for_key(params.iv)?;
        let mut out = plaintext.to_vec();
        k.seal_in_place_append_tag(nonce, aead::Aad::from(params.aad), &mut out)?;
        return Ok(out);
    }
    Ok(ffi::aes_gcm(
        true,
        key.as_bytes(),
        params.iv,
        params.aad,
        plaintext,
        params.tag_len,
    )?
    .to_vec())
}

/// AES-GCM decryption of ciphertext ‖ tag.
///
/// # Errors
/// [`Error::Rejected`] if the tag does not verify; [`Error::Parameter`] as for encryption.
pub fn aes_gcm_decrypt(
    key: &AesKey,
    params: &GcmParams<'_>,
    ciphertext_and_tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Error> {
    if params.iv.len() == aead::NONCE_LEN && params.tag_len == 16 {
        let k = aead::LessSafeKey::new(aead::UnboundKey::new(gcm_safe_alg(key), key.as_bytes())?);
        let nonce = aead::Nonce::try_assume_unique_for_key(params.iv)?;
        let mut buf = Zeroizing::new(ciphertext_and_tag.to_vec());
        let len = k
            .open_in_place(nonce, aead::Aad::from(params.aad), &mut buf)
            .map_err(|_| Error::Rejected)?
            .len();
        buf.truncate(len);
        return Ok(buf);
    }
    ffi::aes_gcm(
        false,
        key.as_bytes(),
        params.iv,
        params.aad,
        ciphertext_and_tag,
        params.tag_len,
    )
}

fn kw_kek(
    kek: &AesKey,
) -> Option<Result<key_wrap::KeyEncryptionKey<key_wrap::AesBlockCipher>, Error>> {
    let cipher = match kek.len() {
        16 => &key_wrap::AES_128,
        32 => &key_wrap::AES_256,
        _ => return None,
    };
    Some(key_wrap::KeyEncryptionKey::new(cipher, kek.as_bytes()).map_err(Error::from))
}

/// `CKM_AES_KEY_WRAP` (RFC 3394): `data` is a multiple of 8 bytes, at least 16.
///
/// # Errors
/// [`Error::DataLength`] for other lengths.
pub fn aes_key_wrap(kek: &AesKey, data: &[u8]) -> Result<Vec<u8>, Error> {
    if data.len() < 16 || !data.len().is_multiple_of(8) {
        return Err(Error::DataLength);
    }
    match kw_kek(kek) {
        Some(k) => {
            let mut out = vec![0u8; data.len() + 8];
            let n = k?
                .wrap(data, &mut out)
                .map_err(|_| Error::DataLength)?
                .len();
            out.truncate(n);
            Ok(out)
        }
        None => ffi::aes_wrap(kek.as_bytes(), data),
    }
}

/// RFC 3394 unwrap.
///
/// # Errors
/// [`Error::Rejected`] if the integrity check fails or the length is impossible.
pub fn aes_key_unwrap(kek: &AesKey, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
    if wrapped.len() < 24 || !wrapped.len().is_multiple_of(8) {
        return Err(Error::Rejected);
    }
    match kw_kek(kek) {
        Some(k) => {
            let mut out = Zeroizing::new(vec![0u8; wrapped.len()]);
            let n = k?
                .unwrap(wrapped, &mut out)
                .map_err(|_| Error::Rejected)?
                .len();
            out.truncate(n);
            Ok(out)
        }
        None => ffi::aes_unwrap(kek.as_bytes(), wrapped),
    }
}

/// `CKM_AES_KEY_WRAP_KWP` (RFC 5649): any non-empty `data`.
///
/// # Errors
/// [`Error::DataLength`] for empty data.
pub fn aes_key_wrap_pad(kek: &AesKey, data: &[u8]) -> Result<Vec<u8>, Error> {
    if data.is_empty() {
        return Err(Error::DataLength);
    }
    match kw_kek(kek) {
        Some(k) => {
            let mut out = vec![0u8; data.len() + 15];
            let n = k?
                .wrap_with_padding(data, &mut out)
                .map_err(|_| Error::DataLength)?
                .len();
            out.truncate(n);
            Ok(out)
        }
        None => ffi::aes_wrap_padded(kek.as_bytes(), data),
    }
}

/// RFC 5649 unwrap.
///
/// # Errors
/// [`Error::Rejected`] if the integrity or padding check fails.
pub fn aes_key_unwrap_pad(kek: &AesKey, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
    if wrapped.len() < 16 || !wrapped.len().is_multiple_of(8) {
        return Err(Error::Rejected);
    }
    match kw_kek(kek) {
        Some(k) => {
            let mut out = Zeroizing::new(vec![0u8; wrapped.len()]);
            let n = k?
                .unwrap_with_padding(wrapped, &mut out)
                .map_err(|_| Error::Rejected)?
                .len();
            out.truncate(n);
            Ok(out)
        }
        None => ffi::aes_unwrap_padded(kek.as_bytes(), wrapped),
    }
}
