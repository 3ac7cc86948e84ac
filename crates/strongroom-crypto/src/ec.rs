//! NIST curves P-256, P-384 and P-521: key generation, import from the private scalar or the
//! public point, ECDSA (raw digest and hash-and-sign, fixed r ‖ s signatures) and ECDH.

use aws_lc_rs::agreement;
use aws_lc_rs::digest::Digest;
use aws_lc_rs::encoding::{AsBigEndian, AsDer};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as lcsig, EcdsaKeyPair, KeyPair as _, UnparsedPublicKey};
use zeroize::Zeroizing;

use crate::digest::digest;
use crate::{Error, HashAlg};

/// A NIST prime curve.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Curve {
    /// P-256 (secp256r1).
    P256,
    /// P-384 (secp384r1).
    P384,
    /// P-521 (secp521r1).
    P521,
}

impl Curve {
    /// Every curve offered.
    pub const ALL: [Self; 3] = [Self::P256, Self::P384, Self::P521];

    /// Bytes of a field element or scalar.
    pub const fn scalar_len(self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
            Self::P521 => 66,
        }
    }

    /// Size in bits (for `CK_MECHANISM_INFO`).
    pub const fn bits(self) -> usize {
        match self {
            Self::P256 => 256,
            Self::P384 => 384,
            Self::P521 => 521,
        }
    }

    /// Length of an uncompressed SEC1 point `04 ‖ x ‖ y`.
    pub const fn point_len(self) -> usize {
        1 + 2 * self.scalar_len()
    }

    /// Length of a fixed r ‖ s signature (the PKCS#11 format).
    pub const fn signature_len(self) -> usize {
        2 * self.scalar_len()
    }

    /// DER of the named-curve OID (the contents of `CKA_EC_PARAMS`).
    pub fn oid_der(self) -> &'static [u8] {
        match self {
            Self::P256 => &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
            Self::P384 => &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22],
            Self::P521 => &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23],
        }
    }

    /// Curve named by a `CKA_EC_PARAMS` OID.
    pub fn from_oid_der(der: &[u8]) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.oid_der() == der)
    }

    fn signing(self) -> &'static lcsig::EcdsaSigningAlgorithm {
        match self {
            Self::P256 => &lcsig::ECDSA_P256_SHA256_FIXED_SIGNING,
            Self::P384 => &lcsig::ECDSA_P384_SHA384_FIXED_SIGNING,
            Self::P521 => &lcsig::ECDSA_P521_SHA512_FIXED_SIGNING,
        }
    }

    fn verifying(self) -> &'static lcsig::EcdsaVerificationAlgorithm {
        match self {
            Self::P256 => &lcsig::ECDSA_P256_SHA256_FIXED,
            Self::P384 => &lcsig::ECDSA_P384_SHA384_FIXED,
            Self::P521 => &lcsig::ECDSA_P521_SHA512_FIXED,
        }
    }

    fn agreement(self) -> &'static agreement::Algorithm {
        match self {
            Self::P256 => &agreement::ECDH_P256,
            Self::P384 => &agreement::ECDH_P384,
            Self::P521 => &agreement::ECDH_P521,
        }
    }

    /// The hash whose length aws-lc-rs's digest-signing API expects for this curve.
    fn native_hash(self) -> HashAlg {
        match self {
            Self::P256 => HashAlg::Sha256,
            Self::P384 => HashAlg::Sha384,
            Self::P521 => HashAlg::Sha512,
        }
    }

    /// Brings a digest of any length to the native hash length the way ECDSA does (FIPS 186-5
    /// §6.4.1: the leftmost min(N, outlen) bits): shorter ones are left-padded with zeros (same
    /// integer), longer ones truncated to the order's bit length. On P-521 a digest longer
    /// than 64 bytes is refused: truncating to 521 bits would not fit the 64-byte interface.
    fn fit_digest(self, d: &[u8]) -> Result<Digest, Error> {
        let h = self.native_hash();
        let l = h.output_len();
        let mut buf = [0u8; 64];
        if d.len() <= l {
            buf[l - d.len()..l].copy_from_slice(d);
        } else if self == Self::P521 {
            return Err(Error::DataLength);
        } else {
            buf[..l].copy_from_slice(&d[..l]);
        }
        let alg = h.lc().ok_or(Error::Internal)?;
        Ok(Digest::import_less_safe(&buf[..l], alg)?)
    }
}

/// An EC private key on a NIST curve. No `Clone`/`Debug`; aws-lc-rs clears it on drop.
pub struct EcPrivateKey {
    curve: Curve,
    kp: EcdsaKeyPair,
}

impl EcPrivateKey {
    /// Generates a key pair.
    ///
    /// # Errors
    /// [`Error::Internal`] on library failure.
    pub fn generate(curve: Curve) -> Result<Self, Error> {
        Ok(Self {
            curve,
            kp: EcdsaKeyPair::generate(curve.signing())?,
        })
    }

    /// Imports the private scalar (big-endian, up to the curve's length) and derives the
    /// public point.
    ///
    /// # Errors
    /// [`Error::KeyInvalid`] if the scalar is zero, too long or not below the order.
    pub fn from_scalar(curve: Curve, scalar: &[u8]) -> Result<Self, Error> {
        let l = curve.scalar_len();
        let skip = scalar.iter().take_while(|&&b| b == 0).count();
        let s = &scalar[skip..];
        if s.is_empty() || s.len() > l {
            return Err(Error::KeyInvalid);
        }
        let mut fixed = Zeroizing::new(vec![0u8; l]);
        fixed[l - s.len()..].copy_from_slice(s);
        let ecdh = agreement::PrivateKey::from_private_key(curve.agreement(), &fixed)?;
        let public = ecdh.compute_public_key()?;
        let kp = EcdsaKeyPair::from_private_key_and_public_key(
            curve.signing(),
            &fixed,
            public.as_ref(),
        )?;
        Ok(Self { curve, kp })
    }

    /// Imports PKCS#8 (DER).
    ///
    /// # Errors
    /// [`Error::KeyInvalid`] if malformed or on another curve.
    pub fn from_pkcs8(curve: Curve, der: &[u8]) -> Result<Self, Error> {
        Ok(Self {
            curve,
            kp: EcdsaKeyPair::from_pkcs8(curve.signing(), der)?,
        })
    }

    /// Exports PKCS#8 v1 (DER).
    ///
    /// # Errors
    /// [`Error::Internal`] on library failure.
    pub fn to_pkcs8(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        Ok(Zeroizing::new(self.kp.to_pkcs8v1()?.as_ref().to_vec()))
    }

    /// The private scalar, big-endian, curve length (`CKA_VALUE`).
    ///
    /// # Errors
    /// [`Error::Internal`] on library failure.
    pub fn scalar(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        let be = self.kp.private_key().as_be_bytes()?;
        Ok(Zeroizing::new(be.as_ref().to_vec()))
    }

    /// The curve.
    pub fn curve(&self) -> Curve {
        self.curve
    }

    /// The public key.
    pub fn public_key(&self) -> EcPublicKey {
        EcPublicKey {
            curve: self.curve,
            point: self.kp.public_key().as_ref().to_vec(),
        }
    }

    /// ECDSA signature in fixed r ‖ s form. `hash = None` is `CKM_ECDSA`: `data` is a digest
    /// of any length (fitted as [`Curve`] describes); `Some(h)` hashes `data` first.
    ///
    /// # Errors
    /// [`Error::DataLength`] for a raw digest over 64 bytes on P-521.
    pub fn sign(&self, hash: Option<HashAlg>, data: &[u8]) -> Result<Vec<u8>, Error> {
        if hash == Some(self.curve.native_hash()) {
            let sig = self.kp.sign(&SystemRandom::new(), data)?;
            return Ok(sig.as_ref().to_vec());
        }
        let d = match hash {
            Some(h) => digest(h, data),
            None => data.to_vec(),
        };
        let sig = self.kp.sign_digest(&self.curve.fit_digest(&d)?)?;
        Ok(sig.as_ref().to_vec())
    }

    /// ECDH (`CKM_ECDH1_DERIVE` with `CKD_NULL`): the x-coordinate of the shared point.
    ///
    /// # Errors
    /// [`Error::Parameter`] if the peer point is invalid or not on the curve.
    pub fn derive(&self, peer_point: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        let scalar = self.scalar()?;
        let me = agreement::PrivateKey::from_private_key(self.curve.agreement(), &scalar)?;
        let peer = agreement::UnparsedPublicKey::new(self.curve.agreement(), peer_point);
        agreement::agree(&me, peer, Error::Parameter, |s| {
            Ok(Zeroizing::new(s.to_vec()))
        })
    }

    /// The public point in DER SubjectPublicKeyInfo form.
    ///
    /// # Errors
    /// [`Error::Internal`] on library failure.
    pub fn public_key_der(&self) -> Result<Vec<u8>, Error> {
        let der = self.kp.public_key().as_der()?;
        Ok(der.as_ref().to_vec())
    }
}

/// An EC public key: an uncompressed SEC1 point on a NIST curve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcPublicKey {
    curve: Curve,
    point: Vec<u8>,
}

impl EcPublicKey {
    /// Imports an uncompressed point `04 ‖ x ‖ y` and checks it is on the curve.
    ///
    /// # Errors
    /// [`Error::KeyInvalid`] if malformed or not on the curve.
    pub fn from_point(curve: Curve, point: &[u8]) -> Result<Self, Error> {
        if point.len() != curve.point_len() || point[0] != 4 {
            return Err(Error::KeyInvalid);
        }
        UnparsedPublicKey::new(curve.verifying(), point)
            .parse()
            .map_err(|_| Error::KeyInvalid)?;
        Ok(Self {
            curve,
            point: point.to_vec(),
        })
    }

    /// The curve.
    pub fn curve(&self) -> Curve {
        self.curve
    }

    /// The uncompressed point (`CKA_EC_POINT` contents, before DER OCTET STRING wrapping).
    pub fn point(&self) -> &[u8] {
        &self.point
    }

    /// Verifies a fixed r ‖ s signature; `hash` as in [`EcPrivateKey::sign`].
    ///
    /// # Errors
    /// [`Error::Rejected`] if it does not verify.
    pub fn verify(&self, hash: Option<HashAlg>, data: &[u8], sig: &[u8]) -> Result<(), Error> {
        let key = UnparsedPublicKey::new(self.curve.verifying(), &self.point);
        let d = match hash {
            Some(h) => digest(h, data),
            None => data.to_vec(),
        };
        let d = self.curve.fit_digest(&d).map_err(|_| Error::Rejected)?;
        key.verify_digest(&d, sig).map_err(|_| Error::Rejected)
    }
}
