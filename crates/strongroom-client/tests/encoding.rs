//! The client's templates and mechanism parameters decode, unchanged, with the appliance's
//! own decoders (`strongroom_module::Template::decode`, `Mechanism::parse`).

use strongroom_client::{Template, mechanism as p};
use strongroom_module::{Mechanism, Template as ModuleTemplate};

#[test]
fn templates_decode_as_the_module_reads_them() {
    let mut nested = Template::new();
    nested.push_ulong(0x100, 0x1f); // CKA_KEY_TYPE = CKK_AES
    nested.push_bool(0x104, true); // CKA_ENCRYPT
    let mut t = Template::new();
    t.push_ulong(0x0, 4); // CKA_CLASS = CKO_SECRET_KEY
    t.push_bool(0x1, true); // CKA_TOKEN
    t.push(0x3, b"label"); // CKA_LABEL
    t.push_nested(0x4000_0212, &nested); // CKA_UNWRAP_TEMPLATE
    let decoded = ModuleTemplate::decode(t.as_bytes()).expect("the module decodes it");
    assert_eq!(decoded.len(), 4);
    assert_eq!(decoded.find(0x0).and_then(|a| a.as_ulong()), Some(4));
    assert_eq!(decoded.find(0x1).and_then(|a| a.as_bool()), Some(true));
    assert_eq!(
        decoded.find(0x3).map(|a| a.value().to_vec()),
        Some(b"label".to_vec())
    );
    let inner = decoded.find(0x4000_0212).expect("nested");
    let inner = ModuleTemplate::decode(inner.value()).expect("nested decodes");
    assert_eq!(inner.find(0x100).and_then(|a| a.as_ulong()), Some(0x1f));
    assert_eq!(
        ModuleTemplate::decode(Template::new().as_bytes()).map(|t| t.len()),
        Some(0)
    );
}

/// Each encoded parameter parses and re-encodes to the same bytes.
fn round_trip(ckm: u64, params: &[u8]) {
    let m = Mechanism::parse(ckm, params)
        .unwrap_or_else(|e| panic!("mechanism {ckm:#x} refused: {e:?}"));
    assert_eq!(m.ckm(), ckm);
    assert_eq!(m.encode_params(), params, "mechanism {ckm:#x}");
}

#[test]
fn mechanism_parameters_parse_as_the_module_reads_them() {
    const CKM_SHA256: u64 = 0x250;
    const CKG_MGF1_SHA256: u64 = 0x2;
    round_trip(0x1087, &p::gcm(&[1; 12], 96, b"aad", 128)); // CKM_AES_GCM
    round_trip(0x1086, &p::ctr(64, &[2; 16])); // CKM_AES_CTR
    round_trip(0x0d, &p::pss(CKM_SHA256, CKG_MGF1_SHA256, 32)); // CKM_RSA_PKCS_PSS
    round_trip(0x43, &p::pss(CKM_SHA256, CKG_MGF1_SHA256, 32)); // CKM_SHA256_RSA_PKCS_PSS
    round_trip(0x09, &p::oaep(CKM_SHA256, CKG_MGF1_SHA256, 1, b"label")); // CKM_RSA_PKCS_OAEP
    round_trip(0x1050, &p::ecdh1(1, &[], &[4; 65])); // CKM_ECDH1_DERIVE, CKD_NULL
    round_trip(0x1050, &p::ecdh1(6, b"info", &[4; 65])); // CKD_SHA256_KDF
    round_trip(0x252, &p::mac_general(16)); // CKM_SHA256_HMAC_GENERAL
    round_trip(0x108b, &p::mac_general(8)); // CKM_AES_CMAC_GENERAL
    round_trip(
        0x402a,
        &p::hkdf(true, true, CKM_SHA256, 2, b"salt", 0, b"info"),
    ); // HKDF
    let pbkdf2 = p::pbkdf2(1, b"salt", 1000, 5, &[], b"password"); // CKM_PKCS5_PBKD2
    round_trip(0x3b0, &pbkdf2);
    round_trip(0x1085, &[3; 16]); // CKM_AES_CBC_PAD: the IV
}

mod init_checks {
    use proptest::prelude::*;
    use strongroom_client::mechanism::{self as p, same_init_checks};
    use strongroom_module::Mechanism;

    /// What the appliance's init makes of a parameter: refused, or the output length of a
    /// 100-byte input (the tag length for GCM).
    fn judged(ckm: u64, params: &[u8]) -> Option<usize> {
        match Mechanism::parse(ckm, params).ok()? {
            Mechanism::AesGcm(g) => Some(100 + g.tag_len()),
            _ => Some(100),
        }
    }

    fn gcm() -> impl Strategy<Value = Vec<u8>> {
        (
            0usize..18,
            prop_oneof![Just(None), (0u64..140).prop_map(Some)],
            proptest::collection::vec(any::<u8>(), 0..4),
            prop_oneof![(0u64..140), Just(96), Just(128)],
            any::<u8>(),
        )
            .prop_map(|(iv_len, iv_bits, aad, tag_bits, fill)| {
                let iv_bits = iv_bits.unwrap_or(8 * iv_len as u64);
                p::gcm(&vec![fill; iv_len], iv_bits, &aad, tag_bits)
            })
    }

    fn iv_like() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 14..18),
            (0u64..140, any::<[u8; 16]>()).prop_map(|(bits, cb)| p::ctr(bits, &cb)),
        ]
    }

    proptest! {
        /// Parameters the library takes as equivalent at init are judged alike by the
        /// appliance: both refused, or both accepted with the same output lengths.
        #[test]
        fn equivalent_parameters_are_judged_alike(
            a in gcm(), b in gcm(), c in iv_like(), d in iv_like(),
        ) {
            const GCM: u64 = 0x1087;
            if same_init_checks(GCM, &a, &b) {
                prop_assert_eq!(judged(GCM, &a), judged(GCM, &b));
            }
            for ckm in [0x1082u64, 0x1085, 0x1086] {
                if same_init_checks(ckm, &c, &d) {
                    prop_assert_eq!(judged(ckm, &c), judged(ckm, &d));
                }
            }
        }
    }
}
