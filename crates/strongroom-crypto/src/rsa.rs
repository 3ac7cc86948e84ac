//! RSA: key generation, import and export (components, PKCS#8), PKCS#1 v1.5, PSS and raw
//! signatures, OAEP, PKCS#1 v1.5 and raw encryption.
//!
//! A private key holds an aws-lc-rs `KeyPair` (for the signatures its safe API covers) and an
//! AWS-LC `RSA` object owned by the `ffi` module (for everything else); both are built from the
//! same components. Keys under 2048 bits, which aws-lc-rs refuses, live in the `RSA` object only.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{
    KeyPair, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
    PublicEncryptingKey, PublicKeyComponents,
};
use aws_lc_rs::signature::{self as lcsig, RsaEncoding, RsaParameters};
use zeroize::Zeroizing;

use crate::digest::digest;
use crate::ffi::{RawPadding, RawRsaComponents, RsaKey};
use crate::{Error, HashAlg, der};

/// Smallest modulus accepted for import and generation.
pub const RSA_MIN_BITS: usize = 1024;
/// Largest modulus accepted for import and generation.
pub const RSA_MAX_BITS: usize = 4096;

/// A signature scheme (`CKM_RSA_PKCS`, `CKM_SHA*_RSA_PKCS`, `CKM_RSA_PKCS_PSS`,
/// `CKM_SHA*_RSA_PKCS_PSS`, `CKM_RSA_X_509`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaSignature {
    /// PKCS#1 v1.5 over caller data, normally a `DigestInfo` (at most k − 11 bytes).
    Pkcs1Raw,
    /// PKCS#1 v1.5 hash-and-sign.
    Pkcs1 {
        /// Message hash (SHA-1/2/3).
        hash: HashAlg,
    },
    /// PSS over a caller digest whose length is `hash`'s.
    PssRaw {
        /// Hash the digest was made with.
        hash: HashAlg,
        /// MGF1 hash.
        mgf1: HashAlg,
        /// Salt length in bytes.
        salt_len: usize,
    },
    /// PSS hash-and-sign.
    Pss {
        /// Message hash.
        hash: HashAlg,
        /// MGF1 hash.
        mgf1: HashAlg,
        /// Salt length in bytes.
        salt_len: usize,
    },
    /// Raw RSA, no padding: input at most k bytes (left-padded with zeros), below the modulus.
    X509,
}

/// An encryption scheme (`CKM_RSA_PKCS`, `CKM_RSA_PKCS_OAEP`, `CKM_RSA_X_509`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaEncryption<'a> {
    /// PKCS#1 v1.5 type 2 (not FIPS-approved for new use).
    Pkcs1,
    /// OAEP with `CK_RSA_PKCS_OAEP_PARAMS`.
    Oaep {
        /// Label hash.
        hash: HashAlg,
        /// MGF1 hash.
        mgf1: HashAlg,
        /// Label (`CKZ_DATA_SPECIFIED` source data); empty for none.
        label: &'a [u8],
    },
    /// Raw RSA, no padding.
    X509,
}

/// The eight RSA private components, big-endian without leading zeros. No `Clone`/`Debug`;
/// the private ones are zeroized on drop.
pub struct RsaPrivateComponents {
    /// Modulus n.
    pub n: Vec<u8>,
    /// Public exponent e.
    pub e: Vec<u8>,
    /// Private exponent d.
    pub d: Zeroizing<Vec<u8>>,
    /// Prime p.
    pub p: Zeroizing<Vec<u8>>,
    /// Prime q.
    pub q: Zeroizing<Vec<u8>>,
    /// d mod (p − 1).
    pub dp: Zeroizing<Vec<u8>>,
    /// d mod (q − 1).
    pub dq: Zeroizing<Vec<u8>>,
    /// q⁻¹ mod p.
    pub qinv: Zeroizing<Vec<u8>>,
}

fn strip(b: &[u8]) -> &[u8] {
    let skip = b.iter().take_while(|&&x| x == 0).count();
    &b[skip..]
}

impl RsaPrivateComponents {
    fn normalized(&self) -> Self {
        let z = |v: &[u8]| Zeroizing::new(strip(v).to_vec());
        Self {
            n: strip(&self.n).to_vec(),
            e: strip(&self.e).to_vec(),
            d: z(&self.d),
            p: z(&self.p),
            q: z(&self.q),
            dp: z(&self.dp),
            dq: z(&self.dq),
            qinv: z(&self.qinv),
        }
    }

    fn to_raw(&self) -> RawRsaComponents {
        RawRsaComponents {
            n: self.n.clone(),
            e: self.e.clone(),
            d: self.d.clone(),
            p: self.p.clone(),
            q: self.q.clone(),
            dp: self.dp.clone(),
            dq: self.dq.clone(),
            qinv: self.qinv.clone(),
        }
    }

    fn from_raw(r: RawRsaComponents) -> Self {
        Self {
            n: r.n,
            e: r.e,
            d: r.d,
            p: r.p,
            q: r.q,
            dp: r.dp,
            dq: r.dq,
            qinv: r.qinv,
        }
    }

    fn pkcs8(&self) -> Zeroizing<Vec<u8>> {
        der::encode_rsa_pkcs8([
            &self.n, &self.e, &self.d, &self.p, &self.q, &self.dp, &self.dq, &self.qinv,
        ])
    }
}

fn bits_of(n: &[u8]) -> usize {
    let n = strip(n);
    match n.first() {
        None => 0,
        Some(&b) => n.len() * 8 - usize::try_from(b.leading_zeros()).unwrap_or(0),
    }
}

/// An RSA private key. No `Clone`/`Debug`; components are zeroized on drop.
pub struct RsaPrivateKey {
    comps: RsaPrivateComponents,
    raw: RsaKey,
    /// aws-lc-rs objects, present for keys of 2048 bits or more.
    safe: Option<(KeyPair, OaepPrivateDecryptingKey)>,
    public: RsaPublicKey,
}

impl RsaPrivateKey {
    /// Generates a key. `e = 65537` with 2048, 3072 or 4096 bits goes through aws-lc-rs; other
    /// exponents (odd, ≥ 3) and 1024 bits through `RSA_generate_key_ex`.
    ///
    /// # Errors
    /// [`Error::KeySize`] for other sizes; [`Error::Parameter`] for a bad exponent.
    pub fn generate(bits: usize, public_exponent: &[u8]) -> Result<Self, Error> {
        let e = strip(public_exponent);
        if e.is_empty() || e.last().is_none_or(|b| b & 1 == 0) || e == [1] || e.len() > 8 {
            return Err(Error::Parameter);
        }
        if e == [1, 0, 1] {
            let size = match bits {
                2048 => Some(aws_lc_rs::rsa::KeySize::Rsa2048),
                3072 => Some(aws_lc_rs::rsa::KeySize::Rsa3072),
                4096 => Some(aws_lc_rs::rsa::KeySize::Rsa4096),
                _ => None,
            };
            if let Some(size) = size {
                let kp = KeyPair::generate(size)?;
                let pkcs8 = kp.as_der()?;
                return Self::from_pkcs8(pkcs8.as_ref());
            }
        }
        if !matches!(bits, 1024 | 2048 | 3072 | 4096) {
            return Err(Error::KeySize);
        }
        let bits32 = u32::try_from(bits).map_err(|_| Error::KeySize)?;
        let raw = RsaKey::generate(bits32, e)?;
        Self::from_components(&RsaPrivateComponents::from_raw(raw.components()))
    }

    /// Imports from the eight components; AWS-LC checks their consistency.
    ///
    /// # Errors
    /// [`Error::KeyInvalid`] if inconsistent; [`Error::KeySize`] outside 1024..=4096 bits.
    pub fn from_components(c: &RsaPrivateComponents) -> Result<Self, Error> {
        let comps = c.normalized();
        let bits = bits_of(&comps.n);
        if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
            return Err(Error::KeySize);
        }
        let raw = RsaKey::from_private(&comps.to_raw())?;
        let safe = if bits >= 2048 {
            let pkcs8 = comps.pkcs8();
            let kp = KeyPair::from_pkcs8(&pkcs8)?;
            let dec = OaepPrivateDecryptingKey::new(PrivateDecryptingKey::from_pkcs8(&pkcs8)?)?;
            Some((kp, dec))
        } else {
            None
        };
        let public = RsaPublicKey::new(&comps.n, &comps.e)?;
        Ok(Self {
            comps,
            raw,
            safe,
            public,
        })
    }

    /// Imports a PKCS#8 `PrivateKeyInfo` (DER).
    ///
    /// # Errors
    /// [`Error::KeyInvalid`] for malformed DER or inconsistent components.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, Error> {
        let [n, e, d, p, q, dp, dq, qinv] = der::parse_rsa_pkcs8(der)?;
        Self::from_components(&RsaPrivateComponents {
            n: n.to_vec(),
            e: e.to_vec(),
            d,
            p,
            q,
            dp,
            dq,
            qinv,
        })
    }

    /// Exports PKCS#8 (DER).
    pub fn to_pkcs8(&self) -> Zeroizing<Vec<u8>> {
        self.comps.pkcs8()
    }

    /// All components (for `CKA_PRIVATE_EXPONENT` and friends, when policy allows export).
    pub fn components(&self) -> &RsaPrivateComponents {
        &self.comps
    }

    /// The public half.
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.public
    }

    /// Modulus length in bits.
    pub fn modulus_bits(&self) -> usize {
        self.public.modulus_bits()
    }

    /// Signature length in bytes (the modulus length).
    pub fn signature_len(&self) -> usize {
        self.raw.size()
    }

    /// Signs `data` with `scheme`.
    ///
    /// # Errors
    /// [`Error::DataLength`] if the input does not fit; [`Error::Parameter`] for a bad salt or
    /// hash pairing.
    pub fn sign(&self, scheme: RsaSignature, data: &[u8]) -> Result<Vec<u8>, Error> {
        match scheme {
            RsaSignature::Pkcs1Raw => self.raw.sign_raw(data, RawPadding::Pkcs1),
            RsaSignature::Pkcs1 { hash } => {
                if let (Some((kp, _)), Some(enc)) = (&self.safe, pkcs1_encoding(hash)) {
                    let mut sig = vec![0u8; kp.public_modulus_len()];
                    kp.sign(enc, &SystemRandom::new(), data, &mut sig)?;
                    return Ok(sig);
                }
                let mut info = hash.digest_info_prefix().to_vec();
                info.extend_from_slice(&digest(hash, data));
                self.raw.sign_raw(&info, RawPadding::Pkcs1)
            }
            RsaSignature::PssRaw {
                hash,
                mgf1,
                salt_len,
            } => {
                check_pss(hash, mgf1)?;
                if data.len() != hash.output_len() {
                    return Err(Error::DataLength);
                }
                self.raw.sign_pss(data, hash, mgf1, salt_len)
            }
            RsaSignature::Pss {
                hash,
                mgf1,
                salt_len,
            } => {
                check_pss(hash, mgf1)?;
                if let (Some((kp, _)), Some(enc)) = (&self.safe, pss_encoding(hash, mgf1, salt_len))
                {
                    let mut sig = vec![0u8; kp.public_modulus_len()];
                    kp.sign(enc, &SystemRandom::new(), data, &mut sig)?;
                    return Ok(sig);
                }
                self.raw.sign_pss(&digest(hash, data), hash, mgf1, salt_len)
            }
            RsaSignature::X509 => {
                let k = self.raw.size();
                if data.len() > k {
                    return Err(Error::DataLength);
                }
                let mut block = Zeroizing::new(vec![0u8; k]);
                block[k - data.len()..].copy_from_slice(data);
                self.raw.sign_raw(&block, RawPadding::None)
            }
        }
    }

    /// Decrypts `data` with `scheme`.
    ///
    /// # Errors
    /// [`Error::Rejected`] for any padding failure; [`Error::DataLength`] for a wrong length.
    pub fn decrypt(
        &self,
        scheme: RsaEncryption<'_>,
        data: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        match scheme {
            RsaEncryption::Pkcs1 => self.raw.decrypt(data, RawPadding::Pkcs1),
            RsaEncryption::X509 => self.raw.decrypt(data, RawPadding::None),
            RsaEncryption::Oaep { hash, mgf1, label } => {
                if !hash.is_sha2_family() || !mgf1.is_sha2_family() {
                    return Err(Error::Parameter);
                }
                if data.len() != self.raw.size() {
                    return Err(Error::DataLength);
                }
                if let (Some((_, dec)), Some(alg)) = (&self.safe, oaep_alg(hash, mgf1)) {
                    let mut out = Zeroizing::new(vec![0u8; dec.min_output_size()]);
                    let label = (!label.is_empty()).then_some(label);
                    let n = dec
                        .decrypt(alg, data, &mut out, label)
                        .map_err(|_| Error::Rejected)?
                        .len();
                    out.truncate(n);
                    return Ok(out);
                }
                self.raw.oaep(false, data, hash, mgf1, label)
            }
        }
    }
}

fn check_pss(hash: HashAlg, mgf1: HashAlg) -> Result<(), Error> {
    if hash.is_sha2_family() && mgf1.is_sha2_family() {
        Ok(())
    } else {
        Err(Error::Parameter)
    }
}

fn pkcs1_encoding(hash: HashAlg) -> Option<&'static dyn RsaEncoding> {
    match hash {
        HashAlg::Sha256 => Some(&lcsig::RSA_PKCS1_SHA256),
        HashAlg::Sha384 => Some(&lcsig::RSA_PKCS1_SHA384),
        HashAlg::Sha512 => Some(&lcsig::RSA_PKCS1_SHA512),
        _ => None,
    }
}

/// aws-lc-rs's PSS encodings use MGF1 with the message hash and a salt of the hash length.
fn pss_encoding(hash: HashAlg, mgf1: HashAlg, salt_len: usize) -> Option<&'static dyn RsaEncoding> {
    if hash != mgf1 || salt_len != hash.output_len() {
        return None;
    }
    match hash {
        HashAlg::Sha256 => Some(&lcsig::RSA_PSS_SHA256),
        HashAlg::Sha384 => Some(&lcsig::RSA_PSS_SHA384),
        HashAlg::Sha512 => Some(&lcsig::RSA_PSS_SHA512),
        _ => None,
    }
}

fn oaep_alg(hash: HashAlg, mgf1: HashAlg) -> Option<&'static aws_lc_rs::rsa::OaepAlgorithm> {
    if hash != mgf1 {
        return None;
    }
    match hash {
        HashAlg::Sha1 => Some(&aws_lc_rs::rsa::OAEP_SHA1_MGF1SHA1),
        HashAlg::Sha256 => Some(&aws_lc_rs::rsa::OAEP_SHA256_MGF1SHA256),
        HashAlg::Sha384 => Some(&aws_lc_rs::rsa::OAEP_SHA384_MGF1SHA384),
        HashAlg::Sha512 => Some(&aws_lc_rs::rsa::OAEP_SHA512_MGF1SHA512),
        _ => None,
    }
}

/// An RSA public key.
pub struct RsaPublicKey {
    n: Vec<u8>,
    e: Vec<u8>,
    raw: RsaKey,
    /// aws-lc-rs OAEP key, for moduli of 2048 bits or more.
    oaep: Option<OaepPublicEncryptingKey>,
}

impl core::fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RsaPublicKey")
            .field("bits", &self.modulus_bits())
            .finish_non_exhaustive()
    }
}

impl RsaPublicKey {
    /// Imports modulus and public exponent (big-endian).
    ///
    /// # Errors
    /// [`Error::KeySize`] for a modulus outside 1024..=4096 bits (verification also accepts up
    /// to 8192); [`Error::KeyInvalid`] for a bad exponent.
    pub fn new(n: &[u8], e: &[u8]) -> Result<Self, Error> {
        let (n, e) = (strip(n), strip(e));
        let bits = bits_of(n);
        if !(RSA_MIN_BITS..=8192).contains(&bits) {
            return Err(Error::KeySize);
        }
        let raw = RsaKey::from_public(n, e)?;
        let oaep = if bits >= 2048 {
            let comps = PublicKeyComponents { n, e };
            let der = comps.as_der()?;
            PublicEncryptingKey::from_der(der.as_ref())
                .ok()
                .and_then(|k| OaepPublicEncryptingKey::new(k).ok())
        } else {
            None
        };
        Ok(Self {
            n: n.to_vec(),
            e: e.to_vec(),
            raw,
            oaep,
        })
    }

    /// Modulus (big-endian, no leading zeros).
    pub fn modulus(&self) -> &[u8] {
        &self.n
    }

    /// Public exponent (big-endian, no leading zeros).
    pub fn exponent(&self) -> &[u8] {
        &self.e
    }

    /// Modulus length in bits.
    pub fn modulus_bits(&self) -> usize {
        bits_of(&self.n)
    }

    fn safe_params(&self, scheme: RsaSignature) -> Option<&'static RsaParameters> {
        if self.modulus_bits() < 2048 {
            return None;
        }
        match scheme {
            RsaSignature::Pkcs1 { hash } => match hash {
                HashAlg::Sha1 => Some(&lcsig::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY),
                HashAlg::Sha256 => Some(&lcsig::RSA_PKCS1_2048_8192_SHA256),
                HashAlg::Sha384 => Some(&lcsig::RSA_PKCS1_2048_8192_SHA384),
                HashAlg::Sha512 => Some(&lcsig::RSA_PKCS1_2048_8192_SHA512),
                _ => None,
            },
            RsaSignature::Pss {
                hash,
                mgf1,
                salt_len,
            } if hash == mgf1 && salt_len == hash.output_len() => match hash {
                HashAlg::Sha256 => Some(&lcsig::RSA_PSS_2048_8192_SHA256),
                HashAlg::Sha384 => Some(&lcsig::RSA_PSS_2048_8192_SHA384),
                HashAlg::Sha512 => Some(&lcsig::RSA_PSS_2048_8192_SHA512),
                _ => None,
            },
            _ => None,
        }
    }

    /// Verifies `sig` over `data` with `scheme`.
    ///
    /// # Errors
    /// [`Error::Rejected`] if the signature does not verify (any reason).
    pub fn verify(&self, scheme: RsaSignature, data: &[u8], sig: &[u8]) -> Result<(), Error> {
        if let Some(params) = self.safe_params(scheme) {
            let comps = PublicKeyComponents {
                n: &self.n[..],
                e: &self.e[..],
            };
            return comps.verify(params, data, sig).map_err(|_| Error::Rejected);
        }
        match scheme {
            RsaSignature::Pkcs1Raw => {
                let m = self.raw.verify_raw(sig, RawPadding::Pkcs1)?;
                verify_slices_are_equal(&m, data).map_err(|_| Error::Rejected)
            }
            RsaSignature::Pkcs1 { hash } => {
                let mut info = hash.digest_info_prefix().to_vec();
                info.extend_from_slice(&digest(hash, data));
                let m = self.raw.verify_raw(sig, RawPadding::Pkcs1)?;
                verify_slices_are_equal(&m, &info).map_err(|_| Error::Rejected)
            }
            RsaSignature::PssRaw {
                hash,
                mgf1,
                salt_len,
            } => {
                check_pss(hash, mgf1).map_err(|_| Error::Rejected)?;
                if data.len() != hash.output_len() {
                    return Err(Error::Rejected);
                }
                self.raw.verify_pss(data, hash, mgf1, salt_len, sig)
            }
            RsaSignature::Pss {
                hash,
                mgf1,
                salt_len,
            } => {
                check_pss(hash, mgf1).map_err(|_| Error::Rejected)?;
                self.raw
                    .verify_pss(&digest(hash, data), hash, mgf1, salt_len, sig)
            }
            RsaSignature::X509 => {
                let k = self.raw.size();
                if data.len() > k {
                    return Err(Error::Rejected);
                }
                let m = self.raw.verify_raw(sig, RawPadding::None)?;
                let mut block = vec![0u8; k];
                block[k - data.len()..].copy_from_slice(data);
                verify_slices_are_equal(&m, &block).map_err(|_| Error::Rejected)
            }
        }
    }

    /// Encrypts `data` with `scheme`.
    ///
    /// # Errors
    /// [`Error::DataLength`] if the data is too long for the modulus and padding.
    pub fn encrypt(&self, scheme: RsaEncryption<'_>, data: &[u8]) -> Result<Vec<u8>, Error> {
        match scheme {
            RsaEncryption::Pkcs1 => self.raw.encrypt(data, RawPadding::Pkcs1),
            RsaEncryption::X509 => {
                let k = self.raw.size();
                if data.len() > k {
                    return Err(Error::DataLength);
                }
                let mut block = vec![0u8; k];
                block[k - data.len()..].copy_from_slice(data);
                self.raw.encrypt(&block, RawPadding::None)
            }
            RsaEncryption::Oaep { hash, mgf1, label } => {
                if !hash.is_sha2_family() || !mgf1.is_sha2_family() {
                    return Err(Error::Parameter);
                }
                if let (Some(k), Some(alg)) = (&self.oaep, oaep_alg(hash, mgf1)) {
                    if data.len() > k.max_plaintext_size(alg) {
                        return Err(Error::DataLength);
                    }
                    let mut out = vec![0u8; k.ciphertext_size()];
                    let label = (!label.is_empty()).then_some(label);
                    let n = k.encrypt(alg, data, &mut out, label)?.len();
                    out.truncate(n);
                    return Ok(out);
                }
                Ok(self.raw.oaep(true, data, hash, mgf1, label)?.to_vec())
            }
        }
    }
}
