//! Encryption and decryption (PKCS#11 v3.0 5.9, 5.10): `C_EncryptInit`, `C_Encrypt`,
//! `C_EncryptUpdate`, `C_EncryptFinal` and the `C_Decrypt*` counterparts.
//!
//! AES ECB, CBC, CBC-PAD and CTR are multi-part; AES-GCM accepts `*Update` calls by buffering
//! them (the provider runs GCM single-part; decryption releases plaintext only after the tag
//! checked, at the final call); RSA and AES key wrap are single-part only.

use std::sync::Arc;

use cryptoki_sys::{CKA_DECRYPT, CKA_ENCRYPT};
use strongroom_crypto::{AesCipher, AesMode, Direction, Zeroizing, flags};

use super::tokens::{Caller, KeyArg, Side, check_key_type, check_size, check_usage};
use super::{AccessId, Module};
use crate::error::e::Doing;
use crate::error::{Error, e};
use crate::mechanism::Mechanism;
use crate::object::ObjectHandle;
use crate::token::keys::KeyMaterial;
use crate::token::metrics::Bin;
use crate::token::ops::{self, CipherState, RsaEnc};
use crate::token::{Output, SessionHandle};

/// The operation state of a cipher mechanism.
pub(super) fn cipher_state(
    m: &Mechanism,
    key: Arc<KeyMaterial>,
    dir: Direction,
) -> Result<CipherState, Error> {
    let aes = |mode: AesMode, pad_decrypt: bool| -> Result<CipherState, Error> {
        let KeyMaterial::Aes(k) = &*key else {
            return Err(e::key_type_inconsistent("not an AES key"));
        };
        let cipher = AesCipher::new(k, mode, dir).map_err(|x| e::crypto(x, Doing::Encrypt))?;
        Ok(CipherState::Aes {
            cipher: Box::new(cipher),
            pad_decrypt,
        })
    };
    let rsa = |scheme: RsaEnc| CipherState::Rsa {
        key: Arc::clone(&key),
        scheme,
        dir,
    };
    match m {
        Mechanism::AesEcb => aes(AesMode::Ecb, false),
        Mechanism::AesCbc(iv) => aes(AesMode::Cbc { iv: *iv }, false),
        Mechanism::AesCbcPad(iv) => aes(AesMode::CbcPad { iv: *iv }, dir == Direction::Decrypt),
        Mechanism::AesCtr(p) => aes(
            AesMode::Ctr {
                counter_block: p.counter_block,
                counter_bits: u8::try_from(p.counter_bits)
                    .map_err(|_| e::mechanism_param_invalid("ulCounterBits is 1-128"))?,
            },
            false,
        ),
        Mechanism::AesGcm(p) => Ok(CipherState::Gcm {
            key: Arc::clone(&key),
            iv: p.iv.clone(),
            aad: p.aad.clone(),
            tag_len: p.tag_len(),
            dir,
            buf: Zeroizing::new(Vec::new()),
        }),
        Mechanism::AesKeyWrap | Mechanism::AesKeyWrapKwp => Ok(CipherState::KeyWrap {
            key: Arc::clone(&key),
            pad: matches!(m, Mechanism::AesKeyWrapKwp),
            dir,
        }),
        Mechanism::RsaPkcs => Ok(rsa(RsaEnc::Pkcs1)),
        Mechanism::RsaX509 => Ok(rsa(RsaEnc::X509)),
        Mechanism::RsaOaep(p) => Ok(rsa(RsaEnc::Oaep {
            hash: p.hash.alg(),
            mgf1: p.mgf1.alg(),
            label: p.label.clone(),
        })),
        other => Err(e::mechanism_invalid(other.ckm())),
    }
}

impl Module {
    /// The checks of `C_EncryptInit` and `C_DecryptInit`, then the new operation state.
    fn cipher_init(
        &self,
        c: &Caller,
        mechanism: &Mechanism,
        key: ObjectHandle,
        dir: Direction,
    ) -> Result<CipherState, Error> {
        self.permit_use_key(c)?;
        let (flag, attr, side) = match dir {
            Direction::Encrypt => (flags::ENCRYPT, CKA_ENCRYPT, Side::Public),
            Direction::Decrypt => (flags::DECRYPT, CKA_DECRYPT, Side::Private),
        };
        let info = self.mechanism_for(c.serial, mechanism.ckm(), flag)?;
        let (obj, material) = self.key(c, key, KeyArg::Key)?;
        check_key_type(mechanism, obj, side)?;
        check_usage(obj, attr, mechanism.ckm())?;
        check_size(&material, &info)?;
        cipher_state(mechanism, material, dir)
    }

    fn doing(dir: Direction) -> Doing {
        match dir {
            Direction::Encrypt => Doing::Encrypt,
            Direction::Decrypt => Doing::Decrypt,
        }
    }

    fn cipher_start(
        &self,
        access: AccessId,
        session: SessionHandle,
        mechanism: &Mechanism,
        key: ObjectHandle,
        dir: Direction,
    ) -> Result<(), Error> {
        let c = self.caller(access, session)?;
        self.count(
            c.serial,
            match dir {
                Direction::Encrypt => Bin::Encrypt,
                Direction::Decrypt => Bin::Decrypt,
            },
        );
        let mut o = self.session_of(&c)?.ops()?;
        let slot = match dir {
            Direction::Encrypt => &mut o.encrypt,
            Direction::Decrypt => &mut o.decrypt,
        };
        ops::check_idle(slot)?;
        let state = self.cipher_init(&c, mechanism, key, dir)?;
        ops::start(slot, state)
    }

    fn cipher_once(
        &self,
        access: AccessId,
        session: SessionHandle,
        data: &[u8],
        capacity: Option<usize>,
        dir: Direction,
    ) -> Result<Output, Error> {
        let c = self.caller(access, session)?;
        let mut o = self.session_of(&c)?.ops()?;
        let slot = match dir {
            Direction::Encrypt => &mut o.encrypt,
            Direction::Decrypt => &mut o.decrypt,
        };
        ops::complete(
            slot,
            capacity,
            || ops::tag_of(data),
            true,
            |s| s.single_len(data.len()),
            |s| {
                let _busy = self.busy.enter();
                s.once(data).map_err(|x| e::crypto(x, Self::doing(dir)))
            },
        )
    }

    fn cipher_update(
        &self,
        access: AccessId,
        session: SessionHandle,
        data: &[u8],
        capacity: Option<usize>,
        dir: Direction,
    ) -> Result<Output, Error> {
        let c = self.caller(access, session)?;
        let mut o = self.session_of(&c)?.ops()?;
        let slot = match dir {
            Direction::Encrypt => &mut o.encrypt,
            Direction::Decrypt => &mut o.decrypt,
        };
        ops::update(slot, |s| {
            let need = s.update_len(data.len()).ok_or_else(|| {
                e::function_not_supported("this mechanism has no multi-part form")
            })?;
            match capacity {
                None => return Ok(Output::Length(need)),
                Some(cap) if cap < need => return Err(Error::buffer_too_small(need)),
                Some(_) => {}
            }
            let _busy = self.busy.enter();
            s.update(data)
                .map(Output::Data)
                .map_err(|x| e::crypto(x, Self::doing(dir)))
        })
    }

    fn cipher_final(
        &self,
        access: AccessId,
        session: SessionHandle,
        capacity: Option<usize>,
        dir: Direction,
    ) -> Result<Output, Error> {
        let c = self.caller(access, session)?;
        let mut o = self.session_of(&c)?.ops()?;
        let slot = match dir {
            Direction::Encrypt => &mut o.encrypt,
            Direction::Decrypt => &mut o.decrypt,
        };
        ops::complete(
            slot,
            capacity,
            ops::final_tag,
            false,
            CipherState::final_len,
            |s| {
                let _busy = self.busy.enter();
                s.finish().map_err(|x| e::crypto(x, Self::doing(dir)))
            },
        )
    }

    /// `C_EncryptInit`.
    pub(super) fn encrypt_init_inner(
        &self,
        access: AccessId,
        session: SessionHandle,
        mechanism: &Mechanism,
        key: ObjectHandle,
    ) -> Result<(), Error> {
        self.cipher_start(access, session, mechanism, key, Direction::Encrypt)
    }

    /// `C_Encrypt`: `capacity` is the caller's buffer (`None`: length query).
    pub fn encrypt(
        &self,
        access: AccessId,
        session: SessionHandle,
        data: &[u8],
        capacity: Option<usize>,
    ) -> Result<Output, Error> {
        self.cipher_once(access, session, data, capacity, Direction::Encrypt)
    }

    /// `C_EncryptUpdate`.
    pub fn encrypt_update(
        &self,
        access: AccessId,
        session: SessionHandle,
        data: &[u8],
        capacity: Option<usize>,
    ) -> Result<Output, Error> {
        self.cipher_update(access, session, data, capacity, Direction::Encrypt)
    }

    /// `C_EncryptFinal`.
    pub fn encrypt_final(
        &self,
        access: AccessId,
        session: SessionHandle,
        capacity: Option<usize>,
    ) -> Result<Output, Error> {
        self.cipher_final(access, session, capacity, Direction::Encrypt)
    }

    /// `C_DecryptInit`.
    pub(super) fn decrypt_init_inner(
        &self,
        access: AccessId,
        session: SessionHandle,
        mechanism: &Mechanism,
        key: ObjectHandle,
    ) -> Result<(), Error> {
        self.cipher_start(access, session, mechanism, key, Direction::Decrypt)
    }

    /// `C_Decrypt`: `capacity` is the caller's buffer (`None`: length query, an upper bound
    /// where padding hides the exact length).
    pub fn decrypt(
        &self,
        access: AccessId,
        session: SessionHandle,
        data: &[u8],
        capacity: Option<usize>,
    ) -> Result<Output, Error> {
        self.cipher_once(access, session, data, capacity, Direction::Decrypt)
    }

    /// `C_DecryptUpdate`.
    pub fn decrypt_update(
        &self,
        access: AccessId,
        session: SessionHandle,
        data: &[u8],
        capacity: Option<usize>,
    ) -> Result<Output, Error> {
        self.cipher_update(access, session, data, capacity, Direction::Decrypt)
    }

    /// `C_DecryptFinal`.
    pub fn decrypt_final(
        &self,
        access: AccessId,
        session: SessionHandle,
        capacity: Option<usize>,
    ) -> Result<Output, Error> {
        self.cipher_final(access, session, capacity, Direction::Decrypt)
    }
}
