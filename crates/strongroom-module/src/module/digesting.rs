//! Message digesting (PKCS#11 v3.0 5.11): `C_DigestInit`, `C_Digest`, `C_DigestUpdate`,
//! `C_DigestFinal`. Digests use no key: every role, and a public session, may digest.

use strongroom_crypto::{DigestContext, flags};

use super::{AccessId, Module};
use crate::error::{Error, e};
use crate::mechanism::Mechanism;
use crate::token::ops::{self, Bound};
use crate::token::{Output, SessionHandle};

impl Module {
    /// `C_DigestInit`.
    pub fn digest_init(
        &self,
        access: AccessId,
        session: SessionHandle,
        mechanism: &Mechanism,
    ) -> Result<(), Error> {
        let c = self.caller(access, session)?;
        let mut o = self.session_of(&c)?.ops()?;
        ops::check_idle(&o.digest)?;
        self.mechanism_for(c.serial, mechanism.ckm(), flags::DIGEST)?;
        let Mechanism::Digest(h) = mechanism else {
            return Err(e::mechanism_invalid(mechanism.ckm()));
        };
        ops::start(&mut o.digest, DigestContext::new(h.alg()))
    }

    /// `C_Digest`: `capacity` is the caller's buffer (`None`: length query).
    pub fn digest(
        &self,
        access: AccessId,
        session: SessionHandle,
        data: &[u8],
        capacity: Option<usize>,
    ) -> Result<Output, Error> {
        let c = self.caller(access, session)?;
        let mut o = self.session_of(&c)?.ops()?;
        ops::complete(
            &mut o.digest,
            capacity,
            || ops::tag_of(data),
            true,
            |d| Bound::exact(d.algorithm().output_len()),
            |mut d| {
                let _busy = self.busy.enter();
                d.update(data);
                Ok(d.finish())
            },
        )
    }

    /// `C_DigestUpdate`.
    pub fn digest_update(
        &self,
        access: AccessId,
        session: SessionHandle,
        data: &[u8],
    ) -> Result<(), Error> {
        let c = self.caller(access, session)?;
        let mut o = self.session_of(&c)?.ops()?;
        ops::update(&mut o.digest, |d| {
            let _busy = self.busy.enter();
            d.update(data);
            Ok(())
        })
    }

    /// `C_DigestFinal`.
    pub fn digest_final(
        &self,
        access: AccessId,
        session: SessionHandle,
        capacity: Option<usize>,
    ) -> Result<Output, Error> {
        let c = self.caller(access, session)?;
        let mut o = self.session_of(&c)?.ops()?;
        ops::complete(
            &mut o.digest,
            capacity,
            ops::final_tag,
            false,
            |d| Bound::exact(d.algorithm().output_len()),
            |d| Ok(d.finish()),
        )
    }
}
