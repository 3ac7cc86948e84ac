//! The canonical encoding of mechanism parameters, as the network layer carries them.
//!
//! Fixed little endian, independent of the client's `CK_ULONG` width and structure padding.
//! Primitives:
//!
//! ```text
//! ulong   8 bytes, little endian (CK_ULONG, CK_MECHANISM_TYPE, CK_OBJECT_HANDLE...)
//! bool    1 byte, 0x00 or 0x01 (CK_BBOOL; other values are refused)
//! bytes   ulong n, then n bytes (a pointer and its length)
//! ```
//!
//! Parameters, in field order of the PKCS#11 structure (an empty parameter is zero bytes):
//!
//! ```text
//! CKM_AES_CBC, CKM_AES_CBC_PAD     iv: exactly 16 bytes, no length prefix
//! CKM_AES_CTR                      ulCounterBits: ulong | cb: 16 bytes
//! CKM_AES_GCM                      pIv: bytes | ulIvBits: ulong | pAAD: bytes | ulTagBits: ulong
//! CKM_AES_KEY_WRAP                 empty, or the default IV A6A6A6A6A6A6A6A6 (8 bytes)
//! CKM_AES_KEY_WRAP_KWP             empty, or the default IV A65959A6 (4 bytes)
//! CKM_*_HMAC_GENERAL,
//! CKM_AES_CMAC_GENERAL             ulMacLength: ulong
//! CKM_RSA_PKCS_PSS, CKM_SHA*_PSS   hashAlg: ulong | mgf: ulong | sLen: ulong
//! CKM_RSA_PKCS_OAEP                hashAlg: ulong | mgf: ulong | source: ulong | pSourceData: bytes
//! CKM_ECDH1_DERIVE                 kdf: ulong | pSharedData: bytes | pPublicData: bytes
//! CKM_HKDF_DERIVE                  bExtract: bool | bExpand: bool | prfHashMechanism: ulong |
//!                                  ulSaltType: ulong | pSalt: bytes | hSaltKey: ulong | pInfo: bytes
//! CKM_PKCS5_PBKD2                  saltSource: ulong | pSaltSourceData: bytes | iterations: ulong |
//!                                  prf: ulong | pPrfData: bytes | pPassword: bytes
//! every other mechanism            empty
//! ```
//!
//! Every byte must be consumed: trailing bytes are `CKR_MECHANISM_PARAM_INVALID`.

use cryptoki_sys::*;
use zeroize::Zeroizing;

use super::{
    CtrParams, EcdhKdf, EcdhParams, GcmParams, Hash, HkdfParams, HkdfSalt, Mechanism, OaepParams,
    PBKDF2_MAX_ITERATIONS, Pbkdf2Params, PssParams,
};
use crate::error::{Error, e};

/// RFC 3394's default initial value.
const KW_DEFAULT_IV: [u8; 8] = [0xA6; 8];
/// RFC 5649's alternative initial value (the fixed half).
const KWP_DEFAULT_IV: [u8; 4] = [0xA6, 0x59, 0x59, 0xA6];

/// Bytes of a `ulong`.
const ULONG: usize = 8;

/// A cursor over untrusted parameter bytes.
struct Reader<'a> {
    rest: &'a [u8],
}

fn bad(why: &'static str) -> Error {
    e::mechanism_param_invalid(why)
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let (head, rest) = self
            .rest
            .split_at_checked(n)
            .ok_or_else(|| bad("the parameter is shorter than its structure"))?;
        self.rest = rest;
        Ok(head)
    }

    fn ulong(&mut self) -> Result<u64, Error> {
        let b = self.take(ULONG)?;
        let arr: [u8; ULONG] = b
            .try_into()
            .map_err(|_| bad("the parameter is shorter than its structure"))?;
        Ok(u64::from_le_bytes(arr))
    }

    fn bool(&mut self) -> Result<bool, Error> {
        match self.take(1)? {
            [0] => Ok(false),
            [1] => Ok(true),
            _ => Err(bad("a CK_BBOOL is 0 or 1")),
        }
    }

    fn bytes(&mut self) -> Result<&'a [u8], Error> {
        let n = self.ulong()?;
        // The length is checked against what is left before anything is taken or allocated.
        let n = usize::try_from(n)
            .ok()
            .filter(|n| *n <= self.rest.len())
            .ok_or_else(|| bad("a length runs past the end of the parameter"))?;
        self.take(n)
    }

    fn end(self) -> Result<(), Error> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(bad("the parameter has trailing bytes"))
        }
    }
}

fn none(params: &[u8]) -> Result<(), Error> {
    if params.is_empty() {
        Ok(())
    } else {
        Err(bad("this mechanism takes no parameter"))
    }
}

fn iv16(params: &[u8]) -> Result<[u8; 16], Error> {
    params
        .try_into()
        .map_err(|_| bad("the IV of an AES block mode is 16 bytes"))
}

fn hash_mech(ckm: u64) -> Result<Hash, Error> {
    Hash::from_ckm(ckm).ok_or_else(|| bad("not a hash mechanism this module offers"))
}

fn mgf(code: u64) -> Result<Hash, Error> {
    Hash::from_mgf1(code).ok_or_else(|| bad("not an MGF1 function this module offers"))
}

fn pss(r: &mut Reader<'_>) -> Result<PssParams, Error> {
    let hash = hash_mech(r.ulong()?)?;
    let mgf1 = mgf(r.ulong()?)?;
    let salt_len = r.ulong()?;
    Ok(PssParams {
        hash,
        mgf1,
        salt_len,
    })
}

fn mac_len(params: &[u8], max: usize) -> Result<u64, Error> {
    let mut r = Reader { rest: params };
    let n = r.ulong()?;
    r.end()?;
    let max = u64::try_from(max).unwrap_or(u64::MAX);
    if n == 0 || n > max {
        return Err(bad("the MAC length is outside 1 and the full MAC length"));
    }
    Ok(n)
}

fn sha2_family(h: Hash, what: &'static str) -> Result<Hash, Error> {
    if h.is_sha2_family() {
        Ok(h)
    } else {
        Err(bad(what))
    }
}

pub(super) fn parse(ckm: u64, params: &[u8]) -> Result<Mechanism, Error> {
    use Mechanism as M;
    if let Some(h) = Hash::from_ckm(ckm) {
        none(params)?;
        return Ok(M::Digest(h));
    }
    if let Some(h) = Mechanism::rsa_pkcs_hash(ckm) {
        none(params)?;
        return Ok(M::RsaPkcsHash(h));
    }
    if let Some(h) = Mechanism::rsa_pss_hash(ckm) {
        let mut r = Reader { rest: params };
        let p = pss(&mut r)?;
        r.end()?;
        if p.hash != h {
            return Err(bad("hashAlg must be the mechanism's hash"));
        }
        return Ok(M::RsaPssHash(h, p));
    }
    if let Some(h) = Mechanism::ecdsa_hash(ckm) {
        none(params)?;
        return Ok(M::EcdsaHash(h));
    }
    if let Some((h, general)) = Mechanism::hmac_hash(ckm) {
        if general {
            return Ok(M::HmacGeneral(h, mac_len(params, h.len())?));
        }
        none(params)?;
        return Ok(M::Hmac(h));
    }
    if let Some(h) = Mechanism::hmac_key_gen_hash(ckm) {
        none(params)?;
        return Ok(M::HmacKeyGen(h));
    }
    let simple = |m: Mechanism| none(params).map(|()| m);
    match ckm {
        CKM_RSA_PKCS_KEY_PAIR_GEN => simple(M::RsaKeyPairGen),
        CKM_RSA_PKCS => simple(M::RsaPkcs),
        CKM_RSA_X_509 => simple(M::RsaX509),
        CKM_RSA_PKCS_PSS => {
            let mut r = Reader { rest: params };
            let p = pss(&mut r)?;
            r.end()?;
            Ok(M::RsaPss(p))
        }
        CKM_RSA_PKCS_OAEP => {
            let mut r = Reader { rest: params };
            let hash = sha2_family(hash_mech(r.ulong()?)?, "OAEP takes SHA-1 or SHA-2")?;
            let mgf1 = sha2_family(mgf(r.ulong()?)?, "OAEP takes MGF1 with SHA-1 or SHA-2")?;
            let source = r.ulong()?;
            let label = r.bytes()?;
            r.end()?;
            if source != CKZ_DATA_SPECIFIED && !(source == 0 && label.is_empty()) {
                return Err(bad("the OAEP source must be CKZ_DATA_SPECIFIED"));
            }
            Ok(M::RsaOaep(OaepParams {
                hash,
                mgf1,
                label: label.to_vec(),
            }))
        }
        CKM_EC_KEY_PAIR_GEN => simple(M::EcKeyPairGen),
        CKM_ECDSA => simple(M::Ecdsa),
        CKM_ECDH1_DERIVE => {
            let mut r = Reader { rest: params };
            let kdf = EcdhKdf::from_ckd(r.ulong()?)
                .ok_or_else(|| bad("not a key derivation function this module offers"))?;
            let shared_data = r.bytes()?;
            let public_data = r.bytes()?;
            r.end()?;
            if kdf == EcdhKdf::Null && !shared_data.is_empty() {
                return Err(bad("CKD_NULL takes no shared data"));
            }
            if public_data.is_empty() {
                return Err(bad("the other party's public key is missing"));
            }
            Ok(M::Ecdh1Derive(EcdhParams {
                kdf,
                shared_data: shared_data.to_vec(),
                public_data: public_data.to_vec(),
            }))
        }
        CKM_EC_EDWARDS_KEY_PAIR_GEN => simple(M::EdwardsKeyPairGen),
        CKM_EC_MONTGOMERY_KEY_PAIR_GEN => simple(M::MontgomeryKeyPairGen),
        CKM_EDDSA => {
            // Pure Ed25519 only: Ed25519ctx and Ed25519ph (CK_EDDSA_PARAMS) are not offered.
            none(params).map_err(|_| bad("only pure Ed25519 (no CK_EDDSA_PARAMS) is offered"))?;
            Ok(M::EdDsa)
        }
        CKM_AES_KEY_GEN => simple(M::AesKeyGen),
        CKM_AES_ECB => simple(M::AesEcb),
        CKM_AES_CBC => Ok(M::AesCbc(iv16(params)?)),
        CKM_AES_CBC_PAD => Ok(M::AesCbcPad(iv16(params)?)),
        CKM_AES_CTR => {
            let mut r = Reader { rest: params };
            let counter_bits = r.ulong()?;
            let counter_block: [u8; 16] = r
                .take(16)?
                .try_into()
                .map_err(|_| bad("the counter block is 16 bytes"))?;
            r.end()?;
            if !(1..=128).contains(&counter_bits) {
                return Err(bad("ulCounterBits is 1-128"));
            }
            Ok(M::AesCtr(CtrParams {
                counter_bits,
                counter_block,
            }))
        }
        CKM_AES_GCM => {
            let mut r = Reader { rest: params };
            let iv = r.bytes()?;
            let iv_bits = r.ulong()?;
            let aad = r.bytes()?;
            let tag_bits = r.ulong()?;
            r.end()?;
            let iv_len_bits = u64::try_from(iv.len())
                .unwrap_or(u64::MAX)
                .saturating_mul(8);
            if iv.is_empty() || (iv_bits != 0 && iv_bits != iv_len_bits) {
                return Err(bad("the GCM IV is empty or ulIvBits disagrees with it"));
            }
            if !(8..=128).contains(&tag_bits) || tag_bits % 8 != 0 {
                return Err(bad("ulTagBits is a multiple of 8 from 8 to 128"));
            }
            Ok(M::AesGcm(GcmParams {
                iv: iv.to_vec(),
                iv_bits,
                aad: aad.to_vec(),
                tag_bits,
            }))
        }
        CKM_AES_CMAC => simple(M::AesCmac),
        CKM_AES_CMAC_GENERAL => Ok(M::AesCmacGeneral(mac_len(params, 16)?)),
        CKM_AES_KEY_WRAP => {
            if params.is_empty() || params == KW_DEFAULT_IV {
                Ok(M::AesKeyWrap)
            } else {
                Err(bad("only the default RFC 3394 IV is offered"))
            }
        }
        CKM_AES_KEY_WRAP_KWP => {
            if params.is_empty() || params == KWP_DEFAULT_IV {
                Ok(M::AesKeyWrapKwp)
            } else {
                Err(bad("only the default RFC 5649 IV is offered"))
            }
        }
        CKM_GENERIC_SECRET_KEY_GEN => simple(M::GenericSecretKeyGen),
        CKM_HKDF_KEY_GEN => simple(M::HkdfKeyGen),
        CKM_HKDF_DERIVE => {
            let mut r = Reader { rest: params };
            let extract = r.bool()?;
            let expand = r.bool()?;
            let prf = sha2_family(hash_mech(r.ulong()?)?, "HKDF takes SHA-1 or SHA-2")?;
            let salt_type = r.ulong()?;
            let salt_data = r.bytes()?;
            let salt_key = r.ulong()?;
            let info = r.bytes()?;
            r.end()?;
            if !extract && !expand {
                return Err(bad("HKDF must extract, expand or both"));
            }
            let salt = match salt_type {
                // Only extraction reads a salt.
                _ if !extract => HkdfSalt::Null,
                CKF_HKDF_SALT_NULL => HkdfSalt::Null,
                CKF_HKDF_SALT_DATA if !salt_data.is_empty() => HkdfSalt::Data(salt_data.to_vec()),
                CKF_HKDF_SALT_KEY if salt_key != 0 => HkdfSalt::Key(salt_key),
                _ => return Err(bad("ulSaltType and the salt disagree")),
            };
            Ok(M::HkdfDerive(HkdfParams {
                extract,
                expand,
                prf,
                salt,
                info: info.to_vec(),
            }))
        }
        CKM_PKCS5_PBKD2 => {
            let mut r = Reader { rest: params };
            let salt_source = r.ulong()?;
            let salt = r.bytes()?;
            let iterations = r.ulong()?;
            let prf_code = r.ulong()?;
            let prf_data = r.bytes()?;
            let password = r.bytes()?;
            r.end()?;
            if salt_source != CKZ_SALT_SPECIFIED {
                return Err(bad("the salt source must be CKZ_SALT_SPECIFIED"));
            }
            if iterations == 0 || iterations > PBKDF2_MAX_ITERATIONS {
                return Err(bad("iterations out of range"));
            }
            if !prf_data.is_empty() {
                return Err(bad("the PRFs offered take no PRF data"));
            }
            let prf = match prf_code {
                CKP_PKCS5_PBKD2_HMAC_SHA1 => Hash::Sha1,
                CKP_PKCS5_PBKD2_HMAC_SHA224 => Hash::Sha224,
                CKP_PKCS5_PBKD2_HMAC_SHA256 => Hash::Sha256,
                CKP_PKCS5_PBKD2_HMAC_SHA384 => Hash::Sha384,
                CKP_PKCS5_PBKD2_HMAC_SHA512 => Hash::Sha512,
                _ => return Err(bad("not a PBKDF2 PRF this module offers")),
            };
            Ok(M::Pbkdf2(Pbkdf2Params {
                salt: salt.to_vec(),
                iterations,
                prf,
                password: Zeroizing::new(password.to_vec()),
            }))
        }
        _ => Err(e::mechanism_invalid(ckm)),
    }
}

/// The PBKDF2 `prf` code of a hash.
fn pbkdf2_prf(h: Hash) -> u64 {
    match h {
        Hash::Sha1 => CKP_PKCS5_PBKD2_HMAC_SHA1,
        Hash::Sha224 => CKP_PKCS5_PBKD2_HMAC_SHA224,
        Hash::Sha384 => CKP_PKCS5_PBKD2_HMAC_SHA384,
        Hash::Sha512 => CKP_PKCS5_PBKD2_HMAC_SHA512,
        _ => CKP_PKCS5_PBKD2_HMAC_SHA256,
    }
}

struct Writer(Vec<u8>);

impl Writer {
    fn ulong(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    fn bool(&mut self, v: bool) {
        self.0.push(u8::from(v));
    }

    fn bytes(&mut self, b: &[u8]) {
        self.ulong(u64::try_from(b.len()).unwrap_or(u64::MAX));
        self.0.extend_from_slice(b);
    }
}

pub(super) fn encode(m: &Mechanism) -> Vec<u8> {
    use Mechanism as M;
    let mut w = Writer(Vec::new());
    match m {
        M::AesCbc(iv) | M::AesCbcPad(iv) => w.0.extend_from_slice(iv),
        M::AesCtr(p) => {
            w.ulong(p.counter_bits);
            w.0.extend_from_slice(&p.counter_block);
        }
        M::AesGcm(p) => {
            w.bytes(&p.iv);
            w.ulong(p.iv_bits);
            w.bytes(&p.aad);
            w.ulong(p.tag_bits);
        }
        M::HmacGeneral(_, n) | M::AesCmacGeneral(n) => w.ulong(*n),
        M::RsaPss(p) | M::RsaPssHash(_, p) => {
            w.ulong(p.hash.ckm());
            w.ulong(p.mgf1.mgf1());
            w.ulong(p.salt_len);
        }
        M::RsaOaep(p) => {
            w.ulong(p.hash.ckm());
            w.ulong(p.mgf1.mgf1());
            w.ulong(CKZ_DATA_SPECIFIED);
            w.bytes(&p.label);
        }
        M::Ecdh1Derive(p) => {
            w.ulong(p.kdf.ckd());
            w.bytes(&p.shared_data);
            w.bytes(&p.public_data);
        }
        M::HkdfDerive(p) => {
            w.bool(p.extract);
            w.bool(p.expand);
            w.ulong(p.prf.ckm());
            let (ty, data, key): (u64, &[u8], u64) = match &p.salt {
                HkdfSalt::Null => (CKF_HKDF_SALT_NULL, &[], 0),
                HkdfSalt::Data(d) => (CKF_HKDF_SALT_DATA, d, 0),
                HkdfSalt::Key(k) => (CKF_HKDF_SALT_KEY, &[], *k),
            };
            w.ulong(ty);
            w.bytes(data);
            w.ulong(key);
            w.bytes(&p.info);
        }
        M::Pbkdf2(p) => {
            w.ulong(CKZ_SALT_SPECIFIED);
            w.bytes(&p.salt);
            w.ulong(p.iterations);
            w.ulong(pbkdf2_prf(p.prf));
            w.bytes(&[]);
            w.bytes(&p.password);
        }
        _ => {}
    }
    w.0
}
