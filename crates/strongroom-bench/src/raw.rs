//! `raw`: the same operations directly on the crypto library (aws-lc-rs) in this process, no
//! PKCS#11 and no network: the physical limit of the machine. (ECDSA here hashes the 32- or
//! 48-byte input before signing it, which the PKCS#11 form leaves to the application; a hash
//! of 48 bytes costs well under a microsecond.)

use std::sync::Arc;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{
    AES_256, DecryptionContext, EncryptionContext, PaddedBlockDecryptingKey,
    PaddedBlockEncryptingKey, UnboundCipherKey,
};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};
use aws_lc_rs::{hmac, rsa};

use crate::ops::{AesMode, Curve, Op, RsaPad};
use crate::runner::{Target, Worker};

const CBC_IV: [u8; 16] = [9; 16];
const GCM_IV: [u8; 12] = [7; 12];

/// Key material shared by the workers.
enum Material {
    Rsa(rsa::KeyPair),
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
    Secret([u8; 32]),
    None,
}

/// The crypto library prepared for one operation.
pub(crate) struct RawTarget {
    op: Op,
    size: usize,
    material: Arc<Material>,
    /// A signature (verify operations) or a ciphertext (decrypt operations).
    input: Arc<Vec<u8>>,
}

impl std::fmt::Debug for RawTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawTarget").field("op", &self.op).finish()
    }
}

fn err<E: std::fmt::Debug>(what: &str) -> impl Fn(E) -> String + '_ {
    move |e| format!("{what}: {e:?}")
}

fn ecdsa_alg(c: Curve) -> &'static signature::EcdsaSigningAlgorithm {
    match c {
        Curve::P256 => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        Curve::P384 => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
    }
}

fn rsa_sign_alg(p: RsaPad) -> &'static dyn signature::RsaEncoding {
    match p {
        RsaPad::Pkcs1 => &signature::RSA_PKCS1_SHA256,
        RsaPad::Pss => &signature::RSA_PSS_SHA256,
    }
}

impl RawTarget {
    /// Makes the key material `op` needs.
    pub(crate) fn open(op: Op, size: usize) -> Result<Self, String> {
        let rng = SystemRandom::new();
        let data = vec![0x42u8; size];
        let mut secret = [0u8; 32];
        rng.fill(&mut secret).map_err(err("random"))?;
        let material = match op {
            Op::RsaSign(bits, _) | Op::RsaVerify(bits, _) => {
                let size = match bits {
                    2048 => KeySize::Rsa2048,
                    3072 => KeySize::Rsa3072,
                    4096 => KeySize::Rsa4096,
                    _ => return Err(format!("no raw RSA-{bits}")),
                };
                Material::Rsa(rsa::KeyPair::generate(size).map_err(err("RSA key"))?)
            }
            Op::EcdsaSign(c) | Op::EcdsaVerify(c) => {
                Material::Ecdsa(EcdsaKeyPair::generate(ecdsa_alg(c)).map_err(err("EC key"))?)
            }
            Op::Ed25519Sign => {
                Material::Ed25519(Ed25519KeyPair::generate().map_err(err("Ed25519 key"))?)
            }
            Op::AesEncrypt(_) | Op::AesDecrypt(_) | Op::HmacSha256 => Material::Secret(secret),
            Op::Random | Op::AesKeygen | Op::EcKeygen(_) => Material::None,
            Op::FindLabel => return Err("find-label has no raw form".into()),
        };
        let input = match (&material, op) {
            (Material::Rsa(k), Op::RsaVerify(_, p)) => {
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign(rsa_sign_alg(p), &rng, &data, &mut sig)
                    .map_err(err("RSA sign"))?;
                sig
            }
            (Material::Ecdsa(k), Op::EcdsaVerify(_)) => k
                .sign(&rng, &data)
                .map_err(err("ECDSA sign"))?
                .as_ref()
                .to_vec(),
            (Material::Secret(k), Op::AesDecrypt(m)) => encrypt(m, k, &data)?,
            _ => Vec::new(),
        };
        Ok(Self {
            op,
            size,
            material: Arc::new(material),
            input: Arc::new(input),
        })
    }
}

fn encrypt(mode: AesMode, key: &[u8; 32], data: &[u8]) -> Result<Vec<u8>, String> {
    let mut buf = data.to_vec();
    match mode {
        AesMode::Gcm => {
            let k = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).map_err(err("key"))?);
            k.seal_in_place_append_tag(
                Nonce::assume_unique_for_key(GCM_IV),
                Aad::empty(),
                &mut buf,
            )
            .map_err(err("GCM seal"))?;
        }
        AesMode::CbcPad => {
            let k = PaddedBlockEncryptingKey::cbc_pkcs7(
                UnboundCipherKey::new(&AES_256, key).map_err(err("key"))?,
            )
            .map_err(err("CBC key"))?;
            k.less_safe_encrypt(&mut buf, EncryptionContext::Iv128(CBC_IV.into()))
                .map_err(err("CBC encrypt"))?;
        }
    }
    Ok(buf)
}

fn decrypt(mode: AesMode, key: &[u8; 32], data: &[u8]) -> Result<(), String> {
    let mut buf = data.to_vec();
    match mode {
        AesMode::Gcm => {
            let k = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).map_err(err("key"))?);
            k.open_in_place(Nonce::assume_unique_for_key(GCM_IV), Aad::empty(), &mut buf)
                .map(drop)
                .map_err(err("GCM open"))
        }
        AesMode::CbcPad => {
            let k = PaddedBlockDecryptingKey::cbc_pkcs7(
                UnboundCipherKey::new(&AES_256, key).map_err(err("key"))?,
            )
            .map_err(err("CBC key"))?;
            k.decrypt(&mut buf, DecryptionContext::Iv128(CBC_IV.into()))
                .map(drop)
                .map_err(err("CBC decrypt"))
        }
    }
}

impl Target for RawTarget {
    fn name(&self) -> &str {
        "raw"
    }

    fn worker(&self, _index: usize) -> Result<Box<dyn Worker>, String> {
        Ok(Box::new(RawWorker {
            op: self.op,
            material: self.material.clone(),
            input: self.input.clone(),
            data: vec![0x42; self.size],
            rng: SystemRandom::new(),
        }))
    }
}

struct RawWorker {
    op: Op,
    material: Arc<Material>,
    input: Arc<Vec<u8>>,
    data: Vec<u8>,
    rng: SystemRandom,
}

impl Worker for RawWorker {
    fn run_once(&mut self) -> Result<(), String> {
        let data = &self.data;
        match (&*self.material, self.op) {
            (Material::Rsa(k), Op::RsaSign(_, p)) => {
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign(rsa_sign_alg(p), &self.rng, data, &mut sig)
                    .map_err(err("RSA sign"))
            }
            (Material::Rsa(k), Op::RsaVerify(_, p)) => {
                let alg = match p {
                    RsaPad::Pkcs1 => &signature::RSA_PKCS1_2048_8192_SHA256,
                    RsaPad::Pss => &signature::RSA_PSS_2048_8192_SHA256,
                };
                UnparsedPublicKey::new(alg, k.public_key().as_ref())
                    .verify(data, &self.input)
                    .map_err(err("RSA verify"))
            }
            (Material::Ecdsa(k), Op::EcdsaSign(_)) => {
                k.sign(&self.rng, data).map(drop).map_err(err("ECDSA sign"))
            }
            (Material::Ecdsa(k), Op::EcdsaVerify(c)) => {
                let alg = match c {
                    Curve::P256 => &signature::ECDSA_P256_SHA256_FIXED,
                    Curve::P384 => &signature::ECDSA_P384_SHA384_FIXED,
                };
                UnparsedPublicKey::new(alg, k.public_key().as_ref())
                    .verify(data, &self.input)
                    .map_err(err("ECDSA verify"))
            }
            (Material::Ed25519(k), Op::Ed25519Sign) => {
                let _ = k.sign(data);
                Ok(())
            }
            (Material::Secret(k), Op::AesEncrypt(m)) => encrypt(m, k, data).map(drop),
            (Material::Secret(k), Op::AesDecrypt(m)) => decrypt(m, k, &self.input),
            (Material::Secret(k), Op::HmacSha256) => {
                let key = hmac::Key::new(hmac::HMAC_SHA256, k);
                let _ = hmac::sign(&key, data);
                Ok(())
            }
            (_, Op::Random) => {
                let mut buf = vec![0u8; data.len()];
                self.rng.fill(&mut buf).map_err(err("random"))
            }
            (_, Op::AesKeygen) => {
                let mut k = [0u8; 32];
                self.rng.fill(&mut k).map_err(err("random"))?;
                UnboundKey::new(&AES_256_GCM, &k)
                    .map(drop)
                    .map_err(err("AES key"))
            }
            (_, Op::EcKeygen(c)) => EcdsaKeyPair::generate(ecdsa_alg(c))
                .map(drop)
                .map_err(err("EC key")),
            _ => Err(format!("{} has no raw form", self.op)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::ALL;

    #[test]
    fn every_operation_but_find_runs_raw() {
        for op in ALL.iter().copied().filter(|op| *op != Op::FindLabel) {
            // RSA-4096 key generation is slow; its operations are covered by RSA-2048.
            if matches!(op, Op::RsaSign(4096, _) | Op::RsaVerify(4096, _)) {
                continue;
            }
            let t = RawTarget::open(op, 64).unwrap_or_else(|e| panic!("{op}: {e}"));
            let mut w = t.worker(0).expect("worker");
            w.run_once().unwrap_or_else(|e| panic!("{op}: {e}"));
        }
        assert!(RawTarget::open(Op::FindLabel, 1).is_err());
    }
}
