//! Signing and MACing (PKCS#11 v3.0 5.13, 5.15): `C_SignInit`, `C_Sign`, `C_SignUpdate`,
//! `C_SignFinal` and the `C_Verify*` counterparts.
//!
//! Hash-and-sign mechanisms accumulate a digest across `*Update` calls and sign it at the
//! final call (the same signature as the single-part call); raw mechanisms (`CKM_RSA_PKCS`,
//! `CKM_RSA_PKCS_PSS`, `CKM_RSA_X_509`, `CKM_ECDSA`, `CKM_EDDSA`) are single-part only.

use cryptoki_sys::{CKA_SIGN, CKA_VERIFY};
use strongroom_crypto::{RsaSignature, flags};

use super::tokens::{KeyArg, Side, check_key_type, check_size, check_usage};
use super::{AccessId, Module};
use crate::error::e::Doing;
use crate::error::{Error, e};
use crate::mechanism::Mechanism;
use crate::object::ObjectHandle;
use crate::token::metrics::Bin;
use crate::token::ops::{self, Bound, SigScheme, SignState};
use crate::token::{Output, SessionHandle};

/// How a mechanism signs.
fn scheme(m: &Mechanism) -> Result<SigScheme, Error> {
    let salt =
        |n: u64| usize::try_from(n).map_err(|_| e::mechanism_param_invalid("the salt is too long"));
    Ok(match m {
        Mechanism::RsaPkcs => SigScheme::Rsa(RsaSignature::Pkcs1Raw),
        Mechanism::RsaX509 => SigScheme::Rsa(RsaSignature::X509),
        Mechanism::RsaPkcsHash(h) => SigScheme::Rsa(RsaSignature::Pkcs1 { hash: h.alg() }),
        Mechanism::RsaPss(p) => SigScheme::Rsa(RsaSignature::PssRaw {
            hash: p.hash.alg(),
            mgf1: p.mgf1.alg(),
            salt_len: salt(p.salt_len)?,
        }),
        Mechanism::RsaPssHash(h, p) => SigScheme::Rsa(RsaSignature::Pss {
            hash: h.alg(),
            mgf1: p.mgf1.alg(),
            salt_len: salt(p.salt_len)?,
        }),
        Mechanism::Ecdsa => SigScheme::Ecdsa(None),
        Mechanism::EcdsaHash(h) => SigScheme::Ecdsa(Some(h.alg())),
        Mechanism::EdDsa => SigScheme::EdDsa,
        Mechanism::Hmac(h) => SigScheme::Hmac(h.alg(), h.len()),
        Mechanism::HmacGeneral(h, n) => SigScheme::Hmac(
            h.alg(),
            usize::try_from(*n).map_err(|_| e::mechanism_param_invalid("MAC length"))?,
        ),
        Mechanism::AesCmac => SigScheme::Cmac(16),
        Mechanism::AesCmacGeneral(n) => SigScheme::Cmac(
            usize::try_from(*n).map_err(|_| e::mechanism_param_invalid("MAC length"))?,
        ),
        other => return Err(e::mechanism_invalid(other.ckm())),
    })
}

impl Module {
    /// The checks of `C_SignInit` and `C_VerifyInit`, then the new operation state.
    fn sig_init(
        &self,
        c: &super::tokens::Caller,
        mechanism: &Mechanism,
        key: ObjectHandle,
        sign: bool,
    ) -> Result<SignState, Error> {
        self.permit_use_key(c)?;
        let (flag, attr, side) = if sign {
            (flags::SIGN, CKA_SIGN, Side::Private)
        } else {
            (flags::VERIFY, CKA_VERIFY, Side::Public)
        };
        let info = self.mechanism_for(c.serial, mechanism.ckm(), flag)?;
        let scheme = scheme(mechanism)?;
        let (obj, material) = self.key(c, key, KeyArg::Key)?;
        check_key_type(mechanism, obj, side)?;
        check_usage(obj, attr, mechanism.ckm())?;
        check_size(&material, &info)?;
        Ok(SignState::new(material, scheme))
    }

    /// Whether a `C_SignInit` or `C_VerifyInit` with `key` on `session` that has just succeeded
    /// is bound to succeed again for as long as the application itself changes nothing: the
    /// key is a session object of this application, which no other application can see,
    /// change or destroy, and the checks of the init depend only on the key, the mechanism,
    /// the session and the application's login. (A token object may be destroyed or changed
    /// by another application at any moment: never repeatable.)
    pub fn init_repeatable(
        &self,
        access: AccessId,
        session: SessionHandle,
        key: ObjectHandle,
    ) -> bool {
        self.caller(access, session).is_ok_and(|c| {
            matches!(
                self.visible_object(&c, key),
                Some((_, crate::token::Home::Session(..)))
            )
        })
    }

    /// `C_SignInit`.
    pub(super) fn sign_init_inner(
        &self,
        access: AccessId,
        session: SessionHandle,
        mechanism: &Mechanism,
        key: ObjectHandle,
    ) -> Result<(), Error> {
        let c = self.caller(access, session)?;
        self.count(c.serial, Bin::Sign);
        let mut o = self.session_of(&c)?.ops()?;
        ops::check_idle(&o.sign)?;
        let state = self.sig_init(&c, mechanism, key, true)?;
        ops::start(&mut o.sign, state)
    }

    /// `C_Sign`: `capacity` is the caller's buffer (`None`: length query).
    pub fn sign(
        &self,
        access: AccessId,
        session: SessionHandle,
        data: &[u8],
        capacity: Option<usize>,
    ) -> Result<Output, Error> {
        let c = self.caller(access, session)?;
        let mut o = self.session_of(&c)?.ops()?;
        ops::complete(
            &mut o.sign,
            capacity,
            || ops::tag_of(data),
            true,
            |s| Bound::exact(s.signature_len()),
            |s| {
                let _busy = self.busy.enter();
                s.sign(data).map_err(|x| e::crypto(x, Doing::Sign))
            },
        )
    }

    /// `C_SignUpdate`.
    pub fn sign_update(
        &self,
        access: AccessId,
        session: SessionHandle,
        data: &[u8],
    ) -> Result<(), Error> {
        let c = self.caller(access, session)?;
        let mut o = self.session_of(&c)?.ops()?;
        ops::update(&mut o.sign, |s| {
            if !s.multi_part() {
                return Err(e::function_not_supported(
                    "this mechanism signs in one part only",
                ));
            }
            let _busy = self.busy.enter();
            s.update(data).map_err(|x| e::crypto(x, Doing::Sign))
        })
    }

    /// `C_SignFinal`.
    pub fn sign_final(
        &self,
        access: AccessId,
        session: SessionHandle,
        capacity: Option<usize>,
    ) -> Result<Output, Error> {
        let c = self.caller(access, session)?;
        let mut o = self.session_of(&c)?.ops()?;
        ops::complete(
            &mut o.sign,
            capacity,
            ops::final_tag,
            false,
            |s| Bound::exact(s.signature_len()),
            |s| {
                if !s.multi_part() {
                    return Err(e::function_not_supported(
                        "this mechanism signs in one part only",
                    ));
                }
                let _busy = self.busy.enter();
                s.sign_final().map_err(|x| e::crypto(x, Doing::Sign))
            },
        )
    }

    /// `C_VerifyInit`.
    pub(super) fn verify_init_inner(
        &self,
        access: AccessId,
        session: SessionHandle,
        mechanism: &Mechanism,
        key: ObjectHandle,
    ) -> Result<(), Error> {
        let c = self.caller(access, session)?;
        self.count(c.serial, Bin::Verify);
        let mut o = self.session_of(&c)?.ops()?;
        ops::check_idle(&o.verify)?;
        let state = self.sig_init(&c, mechanism, key, false)?;
        ops::start(&mut o.verify, state)
    }

    /// `C_Verify`: `CKR_SIGNATURE_INVALID` or `CKR_SIGNATURE_LEN_RANGE` end the operation
    /// like success does.
    pub fn verify(
        &self,
        access: AccessId,
        session: SessionHandle,
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), Error> {
        let c = self.caller(access, session)?;
        let mut o = self.session_of(&c)?.ops()?;
        ops::finish(&mut o.verify, true, |s| {
            if signature.len() != s.signature_len() {
                return Err(e::signature_len_range());
            }
            let _busy = self.busy.enter();
            s.verify(data, signature)
                .map_err(|x| e::crypto(x, Doing::Verify))
        })
    }

    /// `C_VerifyUpdate`.
    pub fn verify_update(
        &self,
        access: AccessId,
        session: SessionHandle,
        data: &[u8],
    ) -> Result<(), Error> {
        let c = self.caller(access, session)?;
        let mut o = self.session_of(&c)?.ops()?;
        ops::update(&mut o.verify, |s| {
            if !s.multi_part() {
                return Err(e::function_not_supported(
                    "this mechanism verifies in one part only",
                ));
            }
            let _busy = self.busy.enter();
            s.update(data).map_err(|x| e::crypto(x, Doing::Verify))
        })
    }

    /// `C_VerifyFinal`.
    pub fn verify_final(
        &self,
        access: AccessId,
        session: SessionHandle,
        signature: &[u8],
    ) -> Result<(), Error> {
        let c = self.caller(access, session)?;
        let mut o = self.session_of(&c)?.ops()?;
        ops::finish(&mut o.verify, false, |s| {
            if !s.multi_part() {
                return Err(e::function_not_supported(
                    "this mechanism verifies in one part only",
                ));
            }
            if signature.len() != s.signature_len() {
                return Err(e::signature_len_range());
            }
            let _busy = self.busy.enter();
            s.verify_final(signature)
                .map_err(|x| e::crypto(x, Doing::Verify))
        })
    }
}
