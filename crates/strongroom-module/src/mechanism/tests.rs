use cryptoki_sys::*;
use proptest::prelude::*;
use strongroom_proto::ret;

use super::registry::{Gate, effective_info};
use super::*;

fn parse_code(ckm: u64, params: &[u8]) -> strongroom_proto::RetCode {
    match Mechanism::parse(ckm, params) {
        Ok(m) => panic!("{m:?} parsed, expected a refusal"),
        Err(e) => e.code(),
    }
}

fn examples() -> Vec<Mechanism> {
    vec![
        Mechanism::Digest(Hash::Sha3_384),
        Mechanism::RsaPkcs,
        Mechanism::RsaOaep(OaepParams {
            hash: Hash::Sha256,
            mgf1: Hash::Sha1,
            label: b"label".to_vec(),
        }),
        Mechanism::RsaPssHash(
            Hash::Sha384,
            PssParams {
                hash: Hash::Sha384,
                mgf1: Hash::Sha384,
                salt_len: 48,
            },
        ),
        Mechanism::RsaPss(PssParams {
            hash: Hash::Sha1,
            mgf1: Hash::Sha256,
            salt_len: 0,
        }),
        Mechanism::EcdsaHash(Hash::Sha512),
        Mechanism::Ecdh1Derive(EcdhParams {
            kdf: EcdhKdf::X963(Hash::Sha256),
            shared_data: vec![1, 2, 3],
            public_data: vec![4; 65],
        }),
        Mechanism::AesCbcPad([9; 16]),
        Mechanism::AesCtr(CtrParams {
            counter_bits: 32,
            counter_block: [7; 16],
        }),
        Mechanism::AesGcm(GcmParams {
            iv: vec![1; 12],
            iv_bits: 96,
            aad: b"aad".to_vec(),
            tag_bits: 128,
        }),
        Mechanism::AesCmacGeneral(8),
        Mechanism::HmacGeneral(Hash::Sha256, 16),
        Mechanism::Hmac(Hash::Sha224),
        Mechanism::HkdfDerive(HkdfParams {
            extract: true,
            expand: true,
            prf: Hash::Sha256,
            salt: HkdfSalt::Data(vec![0x55; 13]),
            info: b"info".to_vec(),
        }),
        Mechanism::HkdfDerive(HkdfParams {
            extract: true,
            expand: false,
            prf: Hash::Sha512,
            salt: HkdfSalt::Key(42),
            info: Vec::new(),
        }),
        Mechanism::Pbkdf2(Pbkdf2Params {
            salt: b"salt".to_vec(),
            iterations: 4096,
            prf: Hash::Sha256,
            password: Zeroizing::new(b"password".to_vec()),
        }),
        Mechanism::AesKeyWrapKwp,
        Mechanism::EdDsa,
    ]
}

#[test]
fn parse_inverts_encode() {
    for m in examples() {
        let bytes = m.encode_params();
        let back = Mechanism::parse(m.ckm(), &bytes).unwrap_or_else(|e| panic!("{m:?}: {e}"));
        assert!(back == m, "{m:?} did not round-trip");
    }
}

#[test]
fn every_offered_code_has_a_name_and_parses_or_needs_parameters() {
    for ckm in supported_mechanisms() {
        match Mechanism::parse(ckm, &[]) {
            Ok(m) => assert_eq!(m.ckm(), ckm),
            Err(e) => assert_eq!(e.code(), ret::SR_RET_MECHANISM_PARAM_INVALID, "{ckm:#x}"),
        }
    }
    assert_eq!(
        parse_code(CKM_HKDF_DATA, &[]),
        ret::SR_RET_MECHANISM_INVALID
    );
    assert_eq!(parse_code(CKM_DES_ECB, &[]), ret::SR_RET_MECHANISM_INVALID);
}

#[test]
fn malformed_parameters_are_refused() {
    let p = ret::SR_RET_MECHANISM_PARAM_INVALID;
    // Parameters where none are taken, short and long IVs, trailing bytes.
    assert_eq!(parse_code(CKM_SHA256, &[0]), p);
    assert_eq!(parse_code(CKM_AES_CBC, &[0; 15]), p);
    assert_eq!(parse_code(CKM_AES_CBC_PAD, &[0; 17]), p);
    let mut gcm = Mechanism::AesGcm(GcmParams {
        iv: vec![1; 12],
        iv_bits: 0,
        aad: vec![],
        tag_bits: 96,
    })
    .encode_params();
    gcm.push(0);
    assert_eq!(parse_code(CKM_AES_GCM, &gcm), p);
    // A length prefix that runs past the end.
    let mut lying = Vec::new();
    lying.extend_from_slice(&u64::MAX.to_le_bytes());
    assert_eq!(parse_code(CKM_AES_GCM, &lying), p);
    // Out-of-range values.
    let tag = |bits: u64| {
        Mechanism::AesGcm(GcmParams {
            iv: vec![1; 12],
            iv_bits: 96,
            aad: vec![],
            tag_bits: bits,
        })
        .encode_params()
    };
    assert_eq!(parse_code(CKM_AES_GCM, &tag(0)), p);
    assert_eq!(parse_code(CKM_AES_GCM, &tag(100)), p);
    assert_eq!(parse_code(CKM_AES_GCM, &tag(136)), p);
    assert_eq!(parse_code(CKM_SHA256_HMAC_GENERAL, &33u64.to_le_bytes()), p);
    assert_eq!(parse_code(CKM_AES_CMAC_GENERAL, &0u64.to_le_bytes()), p);
    let pss = |h: u64| {
        [
            h.to_le_bytes(),
            CKG_MGF1_SHA256.to_le_bytes(),
            32u64.to_le_bytes(),
        ]
        .concat()
    };
    assert_eq!(parse_code(CKM_SHA256_RSA_PKCS_PSS, &pss(CKM_SHA384)), p);
    assert_eq!(parse_code(CKM_RSA_PKCS_PSS, &pss(CKM_MD5)), p);
    assert_eq!(parse_code(CKM_AES_KEY_WRAP, &[0; 8]), p);
    assert!(Mechanism::parse(CKM_AES_KEY_WRAP, &[0xA6; 8]).is_ok());
    assert_eq!(parse_code(CKM_EDDSA, &[0; 9]), p);
    // A bool that is neither 0 nor 1.
    let mut hkdf = Mechanism::HkdfDerive(HkdfParams {
        extract: true,
        expand: true,
        prf: Hash::Sha256,
        salt: HkdfSalt::Null,
        info: vec![],
    })
    .encode_params();
    hkdf[0] = 2;
    assert_eq!(parse_code(CKM_HKDF_DERIVE, &hkdf), p);
}

#[test]
fn fips_mode_narrows_the_list() {
    let open = Gate {
        non_fips: true,
        raw_rsa: true,
    };
    let fips = Gate {
        non_fips: false,
        raw_rsa: true,
    };
    let no_raw = Gate {
        non_fips: true,
        raw_rsa: false,
    };
    // Non-approved: gone.
    for ckm in [
        CKM_RSA_PKCS,
        CKM_RSA_X_509,
        CKM_ECDSA,
        CKM_RSA_PKCS_PSS,
        CKM_EC_MONTGOMERY_KEY_PAIR_GEN,
    ] {
        assert!(effective_info(ckm, open).is_some(), "{ckm:#x}");
        assert!(effective_info(ckm, fips).is_none(), "{ckm:#x}");
    }
    // No-sign: verification of legacy SHA-1 signatures only.
    let sha1 = effective_info(CKM_SHA1_RSA_PKCS, fips).unwrap();
    assert_eq!(sha1.flags & flags_sign(), 0);
    assert_ne!(sha1.flags & strongroom_crypto::flags::VERIFY, 0);
    assert_ne!(
        effective_info(CKM_SHA1_RSA_PKCS, open).unwrap().flags & flags_sign(),
        0
    );
    // No-wrap: CBC-PAD unwraps but does not wrap.
    let cbc = effective_info(CKM_AES_CBC_PAD, fips).unwrap();
    assert_eq!(cbc.flags & strongroom_crypto::flags::WRAP, 0);
    assert_ne!(cbc.flags & strongroom_crypto::flags::UNWRAP, 0);
    assert_ne!(
        effective_info(CKM_AES_KEY_WRAP, fips).unwrap().flags & strongroom_crypto::flags::WRAP,
        0
    );
    // Sizes.
    assert_eq!(
        effective_info(CKM_RSA_PKCS_KEY_PAIR_GEN, fips)
            .unwrap()
            .min_key_size,
        2048
    );
    assert_eq!(
        effective_info(CKM_RSA_PKCS_KEY_PAIR_GEN, open)
            .unwrap()
            .min_key_size,
        1024
    );
    assert_eq!(
        effective_info(CKM_ECDH1_DERIVE, fips).unwrap().min_key_size,
        256
    );
    // Partition policy 19.
    assert!(effective_info(CKM_RSA_X_509, no_raw).is_none());
    assert!(effective_info(CKM_RSA_PKCS, no_raw).is_some());
    // HKDF_DATA is in the provider's table but not offered.
    assert!(effective_info(CKM_HKDF_DATA, open).is_none());
}

fn flags_sign() -> u64 {
    strongroom_crypto::flags::SIGN
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Untrusted parameter bytes never panic the parser, for every offered code and others.
    #[test]
    fn parser_takes_any_bytes(
        pick in 0usize..80,
        other in any::<u64>(),
        bytes in proptest::collection::vec(any::<u8>(), 0..160),
    ) {
        let codes: Vec<u64> = supported_mechanisms().collect();
        let ckm = codes.get(pick).copied().unwrap_or(other);
        if let Ok(m) = Mechanism::parse(ckm, &bytes) {
            // Whatever parses re-encodes to something that parses to the same mechanism.
            let again = Mechanism::parse(m.ckm(), &m.encode_params());
            prop_assert!(again.is_ok_and(|a| a == m));
        }
    }

    /// Structured fuzzing: valid-looking length prefixes with random contents.
    #[test]
    fn parser_takes_any_structure(
        pick in 0usize..60,
        fields in proptest::collection::vec((any::<u64>(), proptest::collection::vec(any::<u8>(), 0..40)), 0..8),
    ) {
        let codes: Vec<u64> = supported_mechanisms().collect();
        let ckm = codes[pick % codes.len()];
        let mut bytes = Vec::new();
        for (n, b) in fields {
            bytes.extend_from_slice(&(n % 300).to_le_bytes());
            bytes.extend_from_slice(&b);
        }
        let _ = Mechanism::parse(ckm, &bytes);
    }
}

#[test]
fn cmac_general_is_offered_under_its_pkcs11_code() {
    let open = Gate {
        non_fips: true,
        raw_rsa: true,
    };
    let info = effective_info(CKM_AES_CMAC_GENERAL, open).unwrap();
    assert_eq!(info.name, "CKM_AES_CMAC_GENERAL");
    assert_eq!(Mechanism::AesCmacGeneral(8).name(), "CKM_AES_CMAC_GENERAL");
    assert!(supported_mechanisms().any(|m| m == CKM_AES_CMAC_GENERAL));
    // 0x1089 is CKM_AES_CTS, which the module does not offer.
    assert!(!supported_mechanisms().any(|m| m == CKM_AES_CTS));
    assert!(effective_info(CKM_AES_CTS, open).is_none());
}
