//! Key wrapping and unwrapping: every wrapping mechanism with every kind of key (secret keys
//! as their value, private keys as PKCS #8), each unwrapped key checked to work like the
//! original, and the refusals of the attributes (`CKA_EXTRACTABLE`, `CKA_WRAP`/`CKA_UNWRAP`,
//! `CKA_WRAP_WITH_TRUSTED` with `CKA_TRUSTED`, wrap and unwrap templates) and of partition
//! policies 1, 2, 5 and 6, each with its exact code.

mod common;

use common::token::*;
use cryptoki_sys::*;
use strongroom_module::{
    AccessId, Attribute, GcmParams, Hash, Mechanism, OaepParams, ObjectHandle, SessionHandle,
    Template,
};
use strongroom_proto::ret;

fn kek(p: &mut Part, a: AccessId, s: SessionHandle, extra: Vec<Attribute>) -> ObjectHandle {
    let mut t = aes(&[0x4B; 32], false);
    t.extend(extra);
    p.create(a, s, t)
}

fn extractable(mut t: Vec<Attribute>) -> Vec<Attribute> {
    t.push(b(CKA_EXTRACTABLE, true));
    t
}

fn gcm() -> Mechanism {
    Mechanism::AesGcm(GcmParams {
        iv: vec![0x1C; 12],
        iv_bits: 96,
        aad: b"wrapped key".to_vec(),
        tag_bits: 128,
    })
}

fn mechanisms() -> Vec<Mechanism> {
    vec![
        Mechanism::AesKeyWrap,
        Mechanism::AesKeyWrapKwp,
        gcm(),
        Mechanism::AesCbcPad([0x0D; 16]),
    ]
}

/// What a key is, to unwrap it and to check the unwrapped one.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Aes,
    Generic,
    Ec,
    Ed,
    Rsa,
}

impl Kind {
    fn unwrap_template(self) -> Vec<Attribute> {
        let (class, kt) = match self {
            Kind::Aes => (CKO_SECRET_KEY, CKK_AES),
            Kind::Generic => (CKO_SECRET_KEY, CKK_GENERIC_SECRET),
            Kind::Ec => (CKO_PRIVATE_KEY, CKK_EC),
            Kind::Ed => (CKO_PRIVATE_KEY, CKK_EC_EDWARDS),
            Kind::Rsa => (CKO_PRIVATE_KEY, CKK_RSA),
        };
        vec![
            u(CKA_CLASS, class),
            u(CKA_KEY_TYPE, kt),
            b(CKA_TOKEN, false),
        ]
    }
}

struct Keys {
    items: Vec<(Kind, ObjectHandle, Option<ObjectHandle>)>,
}

fn keys(p: &mut Part, a: AccessId, s: SessionHandle) -> Keys {
    let aes_key = p.create(a, s, extractable(aes(&[0x61; 16], false)));
    let generic = p.create(
        a,
        s,
        extractable(vec![
            u(CKA_CLASS, CKO_SECRET_KEY),
            u(CKA_KEY_TYPE, CKK_GENERIC_SECRET),
            raw(CKA_VALUE, &[0x62; 20]),
        ]),
    );
    let (ec_pub, ec) = pair(
        p,
        a,
        s,
        Mechanism::EcKeyPairGen,
        vec![raw(CKA_EC_PARAMS, P256)],
        vec![b(CKA_EXTRACTABLE, true)],
    );
    let (ed_pub, ed) = pair(
        p,
        a,
        s,
        Mechanism::EdwardsKeyPairGen,
        vec![raw(CKA_EC_PARAMS, ED25519)],
        vec![b(CKA_EXTRACTABLE, true)],
    );
    let (rsa_pub, rsa) = pair(
        p,
        a,
        s,
        Mechanism::RsaKeyPairGen,
        vec![u(CKA_MODULUS_BITS, 2048)],
        vec![b(CKA_EXTRACTABLE, true)],
    );
    Keys {
        items: vec![
            (Kind::Aes, aes_key, None),
            (Kind::Generic, generic, None),
            (Kind::Ec, ec, Some(ec_pub)),
            (Kind::Ed, ed, Some(ed_pub)),
            (Kind::Rsa, rsa, Some(rsa_pub)),
        ],
    }
}

/// Checks that `copy` works like `original` (same results, or verified by the public key).
fn same_key(
    p: &Part,
    a: AccessId,
    s: SessionHandle,
    kind: Kind,
    original: ObjectHandle,
    public: Option<ObjectHandle>,
    copy: ObjectHandle,
) {
    match kind {
        Kind::Aes => assert_eq!(
            p.encrypt(a, s, &Mechanism::AesEcb, original, &[7; 16]),
            p.encrypt(a, s, &Mechanism::AesEcb, copy, &[7; 16])
        ),
        Kind::Generic => assert_eq!(
            p.sign(a, s, &Mechanism::Hmac(Hash::Sha256), original, b"m"),
            p.sign(a, s, &Mechanism::Hmac(Hash::Sha256), copy, b"m")
        ),
        Kind::Ed => assert_eq!(
            p.sign(a, s, &Mechanism::EdDsa, original, b"m"),
            p.sign(a, s, &Mechanism::EdDsa, copy, b"m")
        ),
        Kind::Rsa => assert_eq!(
            p.sign(a, s, &Mechanism::RsaPkcsHash(Hash::Sha256), original, b"m"),
            p.sign(a, s, &Mechanism::RsaPkcsHash(Hash::Sha256), copy, b"m")
        ),
        Kind::Ec => {
            let m = Mechanism::EcdsaHash(Hash::Sha256);
            let sig = p.sign(a, s, &m, copy, b"m");
            p.hsm.verify_init(a, s, &m, public.unwrap()).unwrap();
            p.hsm.verify(a, s, b"m", &sig).unwrap();
        }
    }
}

#[test]
fn every_mechanism_wraps_every_kind_of_key() {
    let mut p = part();
    p.partition_policy(1, 1); // private key wrapping (destroys objects: set first)
    let (a, s) = p.rw(Some(CO));
    let wrapping = kek(&mut p, a, s, vec![]);
    let keys = keys(&mut p, a, s);
    for m in mechanisms() {
        for (kind, key, public) in &keys.items {
            let r = p.hsm.wrap_key(a, s, &m, wrapping, *key, Some(4096));
            // RFC 3394 takes whole 64-bit blocks only: the 20-byte secret and some PKCS #8
            // encodings do not fit it.
            let wrapped = match r {
                Ok(out) => out.into_data().unwrap(),
                Err(e) => {
                    assert!(matches!(m, Mechanism::AesKeyWrap), "{m:?} {kind:?}: {e}");
                    assert_eq!(e.code(), ret::SR_RET_KEY_SIZE_RANGE, "{kind:?}");
                    continue;
                }
            };
            let copy = p
                .hsm
                .unwrap_key(a, s, &m, wrapping, &wrapped, &tpl(kind.unwrap_template()))
                .unwrap_or_else(|e| panic!("{m:?} {kind:?}: {e}"));
            same_key(&p, a, s, *kind, *key, *public, copy);
            // Unwrapped keys were not generated here.
            assert_eq!(p.attr(a, s, copy, CKA_LOCAL), [0]);
            assert_eq!(p.attr(a, s, copy, CKA_ALWAYS_SENSITIVE), [0]);
            assert_eq!(p.attr(a, s, copy, CKA_NEVER_EXTRACTABLE), [0]);
        }
    }
    // The 16-byte AES key under RFC 3394 is 24 bytes; the same under KWP too.
    let aes_key = keys.items[0].1;
    for m in [Mechanism::AesKeyWrap, Mechanism::AesKeyWrapKwp] {
        let w = p
            .hsm
            .wrap_key(a, s, &m, wrapping, aes_key, Some(64))
            .unwrap();
        assert_eq!(w.into_data().unwrap().len(), 24);
    }
}

#[test]
fn rsa_oaep_wraps_secret_keys_and_trusted_wrapping_is_enforced() {
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    let (public, private) = pair(
        &mut p,
        a,
        s,
        Mechanism::RsaKeyPairGen,
        vec![
            u(CKA_MODULUS_BITS, 2048),
            b(CKA_TOKEN, true),
            raw(CKA_LABEL, b"rsa kek"),
        ],
        vec![b(CKA_TOKEN, true)],
    );
    let mut t = extractable(aes(&[0x71; 32], false));
    t.push(b(CKA_WRAP_WITH_TRUSTED, true));
    let guarded = p.create(a, s, t);
    let oaep = Mechanism::RsaOaep(OaepParams {
        hash: Hash::Sha256,
        mgf1: Hash::Sha256,
        label: vec![],
    });
    // Only a trusted wrapping key may wrap it.
    assert_eq!(
        code(p.hsm.wrap_key(a, s, &oaep, public, guarded, Some(512))),
        ret::SR_RET_KEY_NOT_WRAPPABLE
    );
    // The Crypto Officer cannot make a key trusted; the Partition SO can.
    assert_eq!(
        code(
            p.hsm
                .set_attribute_value(a, s, public, &tpl(vec![b(CKA_TRUSTED, true)]))
        ),
        ret::SR_RET_ATTRIBUTE_READ_ONLY
    );
    let (pso, ps) = p.rw(Some(PSO));
    p.hsm
        .set_attribute_value(pso, ps, public, &tpl(vec![b(CKA_TRUSTED, true)]))
        .unwrap();
    let wrapped = data_of(p.hsm.wrap_key(a, s, &oaep, public, guarded, Some(512)));
    assert_eq!(wrapped.len(), 256);
    let copy = p
        .hsm
        .unwrap_key(
            a,
            s,
            &oaep,
            private,
            &wrapped,
            &tpl(Kind::Aes.unwrap_template()),
        )
        .unwrap();
    same_key(&p, a, s, Kind::Aes, guarded, None, copy);
    // CKA_WRAP_WITH_TRUSTED cannot be turned off again.
    assert_eq!(
        code(
            p.hsm
                .set_attribute_value(a, s, guarded, &tpl(vec![b(CKA_WRAP_WITH_TRUSTED, false)]))
        ),
        ret::SR_RET_ATTRIBUTE_READ_ONLY
    );
}

#[test]
fn attribute_refusals() {
    let mut p = part();
    p.partition_policy(1, 1);
    let (a, s) = p.rw(Some(CO));
    let wrapping = kek(&mut p, a, s, vec![]);
    let kw = Mechanism::AesKeyWrap;
    // CKA_EXTRACTABLE false.
    let stuck = p.create(a, s, aes(&[1; 16], false));
    assert_eq!(
        code(p.hsm.wrap_key(a, s, &kw, wrapping, stuck, None)),
        ret::SR_RET_KEY_UNEXTRACTABLE
    );
    // Public keys are not wrapped.
    let (public, _) = pair(
        &mut p,
        a,
        s,
        Mechanism::EdwardsKeyPairGen,
        vec![raw(CKA_EC_PARAMS, ED25519)],
        vec![],
    );
    assert_eq!(
        code(p.hsm.wrap_key(a, s, &kw, wrapping, public, None)),
        ret::SR_RET_KEY_NOT_WRAPPABLE
    );
    // CKA_WRAP / CKA_UNWRAP false on the wrapping key.
    let key = p.create(a, s, extractable(aes(&[2; 16], false)));
    let no_wrap = kek(&mut p, a, s, vec![b(CKA_WRAP, false), b(CKA_UNWRAP, false)]);
    assert_eq!(
        code(p.hsm.wrap_key(a, s, &kw, no_wrap, key, None)),
        strongroom_proto::ret::SR_RET_KEY_FUNCTION_NOT_PERMITTED
    );
    let wrapped = data_of(p.hsm.wrap_key(a, s, &kw, wrapping, key, Some(64)));
    assert_eq!(
        code(p.hsm.unwrap_key(
            a,
            s,
            &kw,
            no_wrap,
            &wrapped,
            &tpl(Kind::Aes.unwrap_template())
        )),
        strongroom_proto::ret::SR_RET_KEY_FUNCTION_NOT_PERMITTED
    );
    // Handles and types of wrapping keys.
    let bogus = ObjectHandle::from_value(0xFFFF);
    assert_eq!(
        code(p.hsm.wrap_key(a, s, &kw, bogus, key, None)),
        ret::SR_RET_WRAPPING_KEY_HANDLE_INVALID
    );
    assert_eq!(
        code(p.hsm.unwrap_key(
            a,
            s,
            &kw,
            bogus,
            &wrapped,
            &tpl(Kind::Aes.unwrap_template())
        )),
        ret::SR_RET_UNWRAPPING_KEY_HANDLE_INVALID
    );
    assert_eq!(
        code(p.hsm.wrap_key(a, s, &kw, wrapping, bogus, None)),
        ret::SR_RET_KEY_HANDLE_INVALID
    );
    let hmac_key = p.create(
        a,
        s,
        vec![
            u(CKA_CLASS, CKO_SECRET_KEY),
            u(CKA_KEY_TYPE, CKK_GENERIC_SECRET),
            raw(CKA_VALUE, &[3; 32]),
            b(CKA_WRAP, true),
            b(CKA_UNWRAP, true),
        ],
    );
    assert_eq!(
        code(p.hsm.wrap_key(a, s, &kw, hmac_key, key, None)),
        ret::SR_RET_WRAPPING_KEY_TYPE_INCONSISTENT
    );
    assert_eq!(
        code(p.hsm.unwrap_key(
            a,
            s,
            &kw,
            hmac_key,
            &wrapped,
            &tpl(Kind::Aes.unwrap_template())
        )),
        ret::SR_RET_UNWRAPPING_KEY_TYPE_INCONSISTENT
    );
    // Damaged or foreign wrapped keys.
    let other_value_kek = p.create(a, s, aes(&[0x4C; 32], false));
    assert_eq!(
        code(p.hsm.unwrap_key(
            a,
            s,
            &kw,
            other_value_kek,
            &wrapped,
            &tpl(Kind::Aes.unwrap_template())
        )),
        ret::SR_RET_WRAPPED_KEY_INVALID
    );
    assert_eq!(
        code(p.hsm.unwrap_key(
            a,
            s,
            &kw,
            wrapping,
            &wrapped[..23],
            &tpl(Kind::Aes.unwrap_template())
        )),
        ret::SR_RET_WRAPPED_KEY_LEN_RANGE
    );
    let g = gcm();
    let mut sealed = data_of(p.hsm.wrap_key(a, s, &g, wrapping, key, Some(64)));
    sealed[0] ^= 0x80;
    assert_eq!(
        code(p.hsm.unwrap_key(
            a,
            s,
            &g,
            wrapping,
            &sealed,
            &tpl(Kind::Aes.unwrap_template())
        )),
        ret::SR_RET_WRAPPED_KEY_INVALID
    );
    // The template must say what the key is.
    assert_eq!(
        code(p.hsm.unwrap_key(
            a,
            s,
            &kw,
            wrapping,
            &wrapped,
            &tpl(vec![u(CKA_CLASS, CKO_SECRET_KEY)])
        )),
        ret::SR_RET_TEMPLATE_INCOMPLETE
    );
    // An unwrapped private key must be one.
    assert_eq!(
        code(p.hsm.unwrap_key(
            a,
            s,
            &kw,
            wrapping,
            &wrapped,
            &tpl(Kind::Ec.unwrap_template())
        )),
        ret::SR_RET_WRAPPED_KEY_INVALID
    );
}

#[test]
fn wrap_and_unwrap_templates() {
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    let wrap_only_aes = Template::new(vec![u(CKA_KEY_TYPE, CKK_AES)])
        .unwrap()
        .encode();
    let unwrap_rules = Template::new(vec![b(CKA_SENSITIVE, true), raw(CKA_LABEL, b"from kek")])
        .unwrap()
        .encode();
    let wrapping = kek(
        &mut p,
        a,
        s,
        vec![
            raw(CKA_WRAP_TEMPLATE, &wrap_only_aes),
            raw(CKA_UNWRAP_TEMPLATE, &unwrap_rules),
        ],
    );
    let aes_key = p.create(a, s, extractable(aes(&[9; 16], false)));
    let generic = p.create(
        a,
        s,
        extractable(vec![
            u(CKA_CLASS, CKO_SECRET_KEY),
            u(CKA_KEY_TYPE, CKK_GENERIC_SECRET),
            raw(CKA_VALUE, &[8; 16]),
        ]),
    );
    let kw = Mechanism::AesKeyWrap;
    assert_eq!(
        code(p.hsm.wrap_key(a, s, &kw, wrapping, generic, None)),
        ret::SR_RET_KEY_NOT_WRAPPABLE
    );
    let wrapped = data_of(p.hsm.wrap_key(a, s, &kw, wrapping, aes_key, Some(64)));
    // The unwrap template's attributes join the application's.
    let copy = p
        .hsm
        .unwrap_key(
            a,
            s,
            &kw,
            wrapping,
            &wrapped,
            &tpl(Kind::Aes.unwrap_template()),
        )
        .unwrap();
    assert_eq!(p.attr(a, s, copy, CKA_SENSITIVE), [1]);
    assert_eq!(p.attr(a, s, copy, CKA_LABEL), b"from kek");
    let mut conflicting = Kind::Aes.unwrap_template();
    conflicting.push(b(CKA_SENSITIVE, false));
    assert_eq!(
        code(
            p.hsm
                .unwrap_key(a, s, &kw, wrapping, &wrapped, &tpl(conflicting))
        ),
        ret::SR_RET_TEMPLATE_INCONSISTENT
    );
}

#[test]
fn partition_policies_gate_wrapping_and_unwrapping() {
    let mut p = part();
    let (a, s) = p.rw(Some(CO));
    let wrapping = kek(&mut p, a, s, vec![]);
    let kw = Mechanism::AesKeyWrapKwp;
    // Policy 1 (private key wrapping) is off by default.
    let (_, ec) = pair(
        &mut p,
        a,
        s,
        Mechanism::EcKeyPairGen,
        vec![raw(CKA_EC_PARAMS, P256)],
        vec![b(CKA_EXTRACTABLE, true)],
    );
    assert_eq!(
        code(p.hsm.wrap_key(a, s, &kw, wrapping, ec, None)),
        ret::SR_RET_KEY_NOT_WRAPPABLE
    );
    let key = p.create(a, s, extractable(aes(&[5; 16], false)));
    let wrapped = data_of(p.hsm.wrap_key(a, s, &kw, wrapping, key, Some(64)));
    // Turning policies off is not destructive.
    p.partition_policy(5, 0);
    assert_eq!(
        code(p.hsm.wrap_key(a, s, &kw, wrapping, key, None)),
        ret::SR_RET_KEY_NOT_WRAPPABLE
    );
    p.partition_policy(6, 0);
    assert_eq!(
        code(p.hsm.unwrap_key(
            a,
            s,
            &kw,
            wrapping,
            &wrapped,
            &tpl(Kind::Aes.unwrap_template())
        )),
        ret::SR_RET_KEY_NOT_UNWRAPPABLE
    );
    p.partition_policy(2, 0);
    assert_eq!(
        code(p.hsm.unwrap_key(
            a,
            s,
            &kw,
            wrapping,
            &wrapped,
            &tpl(Kind::Ec.unwrap_template())
        )),
        ret::SR_RET_KEY_NOT_UNWRAPPABLE
    );
}

#[test]
fn fips_mode_unwraps_with_cbc_pad_but_does_not_wrap() {
    let mut p = part_policies(&[(12, 0)]);
    let (a, s) = p.rw(Some(CO));
    let wrapping = kek(&mut p, a, s, vec![]);
    let key = p.create(a, s, extractable(aes(&[6; 16], false)));
    let cbc = Mechanism::AesCbcPad([1; 16]);
    assert_eq!(
        code(p.hsm.wrap_key(a, s, &cbc, wrapping, key, None)),
        ret::SR_RET_MECHANISM_INVALID
    );
    let wrapped = strongroom_crypto::aes_encrypt(
        &strongroom_crypto::AesKey::new(&[0x4B; 32]).unwrap(),
        strongroom_crypto::AesMode::CbcPad { iv: [1; 16] },
        &[6; 16],
    )
    .unwrap();
    let copy = p
        .hsm
        .unwrap_key(
            a,
            s,
            &cbc,
            wrapping,
            &wrapped,
            &tpl(Kind::Aes.unwrap_template()),
        )
        .unwrap();
    same_key(&p, a, s, Kind::Aes, key, None, copy);
}
