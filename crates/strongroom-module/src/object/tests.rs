//! Attribute semantics of PKCS#11 v3.0 chapter 4, each rule with the exact return code.

use cryptoki_sys::*;
use strongroom_proto::{ckr, ret};

use super::error::ACTION_PROHIBITED;
use super::table::{self, Flags, Initial, Profile};
use super::testutil::*;
use super::*;

fn generate<'a>(material: &'a Template) -> CreationMethod<'a> {
    CreationMethod::Generate {
        mechanism: CKM_AES_KEY_GEN,
        material,
    }
}

/// A function making a complete template.
type Fixture = fn() -> Vec<Attribute>;

fn ulong(o: &Object, ty: u64) -> Option<u64> {
    o.value(ty).and_then(attribute::decode_ulong)
}

fn read(o: &Object, ty: u64) -> AttrResult {
    o.get_attributes(&[ty], Some(CO))
        .unwrap()
        .pop()
        .expect("one result per type")
}

// ---------------------------------------------------------------------------------------
// The table itself

#[test]
fn every_profile_is_well_formed() {
    for (class, sub) in table::all_profiles() {
        let p = Profile::new(class, sub).unwrap();
        let rules: Vec<_> = p.rules().collect();
        for (i, r) in rules.iter().enumerate() {
            assert!(
                rules[..i].iter().all(|q| q.ty != r.ty),
                "{} twice in class {class} type {sub}",
                r.name
            );
            if r.flags.has(Flags::COMPUTED) {
                assert!(r.flags.has(Flags::FORBIDDEN_ON_CREATE), "{}", r.name);
                assert_eq!(r.initial, Initial::Computed, "{}", r.name);
            }
            if r.flags.has(Flags::SENSITIVE) {
                assert!(
                    matches!(class, CKO_PRIVATE_KEY | CKO_SECRET_KEY),
                    "{} sensitive in class {class}",
                    r.name
                );
            }
            if r.flags.has(Flags::LOCKED_WHEN_TRUE) || r.flags.has(Flags::LOCKED_WHEN_FALSE) {
                assert_eq!(r.kind, table::Kind::Bool, "{}", r.name);
            }
        }
        for ty in [
            CKA_CLASS,
            CKA_TOKEN,
            CKA_PRIVATE,
            CKA_MODIFIABLE,
            CKA_COPYABLE,
            CKA_DESTROYABLE,
            CKA_LABEL,
            CKA_UNIQUE_ID,
        ] {
            assert!(p.rule(ty).is_some(), "class {class} lacks {ty:#x}");
        }
    }
    // The same attribute has the same encoding everywhere.
    let all: Vec<_> = table::all_tables().iter().flat_map(|t| t.iter()).collect();
    for a in &all {
        for b in &all {
            if a.ty == b.ty && a.ty != CKA_VALUE {
                assert_eq!(a.name, b.name);
                assert_eq!(a.kind, b.kind, "{}", a.name);
            }
        }
    }
}

#[test]
fn every_fixture_creates_with_its_defaults() {
    for (name, attrs) in all_creatable() {
        let o = create(attrs).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(o.flag(CKA_TOKEN), Some(false), "{name}");
        assert_eq!(o.flag(CKA_MODIFIABLE), Some(true), "{name}");
        assert_eq!(o.flag(CKA_COPYABLE), Some(true), "{name}");
        assert!(o.is_destroyable(), "{name}");
        assert!(o.unique_id().starts_with(b"uid-"), "{name}");
        let private_default = matches!(o.class(), CKO_DATA | CKO_PRIVATE_KEY | CKO_SECRET_KEY);
        assert_eq!(o.is_private(), private_default, "{name}");
        if o.is_key() {
            assert_eq!(o.flag(CKA_LOCAL), Some(false), "{name}");
            assert_eq!(
                ulong(&o, CKA_KEY_GEN_MECHANISM),
                Some(CK_UNAVAILABLE_INFORMATION),
                "{name}"
            );
            assert_eq!(o.flag(CKA_DERIVE), Some(false), "{name}");
        }
        if matches!(o.class(), CKO_PRIVATE_KEY | CKO_SECRET_KEY) {
            assert_eq!(o.flag(CKA_EXTRACTABLE), Some(false), "{name}");
            assert_eq!(o.flag(CKA_ALWAYS_SENSITIVE), Some(false), "{name}");
            assert_eq!(o.flag(CKA_NEVER_EXTRACTABLE), Some(false), "{name}");
            assert_eq!(
                o.flag(CKA_SENSITIVE),
                Some(o.class() == CKO_PRIVATE_KEY),
                "{name}"
            );
        }
        // Serialization round trip, and the stored size is the serialized size.
        let bytes = o.to_bytes().unwrap();
        assert_eq!(o.stored_size(), u64::try_from(bytes.len()).unwrap());
        let back = Object::from_bytes(&bytes).unwrap();
        assert_eq!(back.class(), o.class());
        assert_eq!(back.key_type(), o.key_type());
        assert!(back.attrs == o.attrs, "{name}");
    }
}

#[test]
fn computed_lengths_and_usage_defaults() {
    let k = create(aes(&[1; 24])).unwrap();
    assert_eq!(ulong(&k, CKA_VALUE_LEN), Some(24));
    for ty in [
        CKA_ENCRYPT,
        CKA_DECRYPT,
        CKA_SIGN,
        CKA_VERIFY,
        CKA_WRAP,
        CKA_UNWRAP,
    ] {
        assert_eq!(k.flag(ty), Some(true), "{ty:#x}");
    }
    let h = create(secret(CKK_SHA256_HMAC, &[1; 5])).unwrap();
    assert_eq!(ulong(&h, CKA_VALUE_LEN), Some(5));
    assert_eq!(h.flag(CKA_SIGN), Some(true));
    assert_eq!(h.flag(CKA_ENCRYPT), Some(false));
    let r = create(rsa_public()).unwrap();
    assert_eq!(ulong(&r, CKA_MODULUS_BITS), Some(2048));
    assert_eq!(r.flag(CKA_VERIFY), Some(true));
    assert_eq!(r.flag(CKA_ENCRYPT), Some(true));
    let x = create(x_private()).unwrap();
    for ty in [CKA_SIGN, CKA_DECRYPT, CKA_UNWRAP, CKA_DERIVE] {
        assert_eq!(x.flag(ty), Some(false), "{ty:#x}");
    }
    let c = create(cert()).unwrap();
    assert_eq!(ulong(&c, CKA_CERTIFICATE_CATEGORY), Some(0));
    assert_eq!(ulong(&c, CKA_NAME_HASH_ALGORITHM), Some(CKM_SHA_1));
    assert_eq!(c.flag(CKA_TRUSTED), Some(false));
}

// ---------------------------------------------------------------------------------------
// CKR_TEMPLATE_INCOMPLETE

#[test]
fn create_without_a_required_attribute_is_incomplete() {
    let required: &[(&str, Fixture, &[u64])] = &[
        ("data", || data("d"), &[CKA_CLASS]),
        (
            "certificate",
            cert,
            &[CKA_CLASS, CKA_CERTIFICATE_TYPE, CKA_SUBJECT, CKA_VALUE],
        ),
        (
            "aes",
            || aes(&[1; 16]),
            &[CKA_CLASS, CKA_KEY_TYPE, CKA_VALUE],
        ),
        (
            "rsa public",
            rsa_public,
            &[CKA_KEY_TYPE, CKA_MODULUS, CKA_PUBLIC_EXPONENT],
        ),
        (
            "rsa private",
            rsa_private,
            &[
                CKA_KEY_TYPE,
                CKA_MODULUS,
                CKA_PUBLIC_EXPONENT,
                CKA_PRIVATE_EXPONENT,
            ],
        ),
        ("ec public", ec_public, &[CKA_EC_PARAMS, CKA_EC_POINT]),
        ("ec private", ec_private, &[CKA_EC_PARAMS, CKA_VALUE]),
        ("ed25519 public", ed_public, &[CKA_EC_PARAMS, CKA_EC_POINT]),
        ("x25519 private", x_private, &[CKA_EC_PARAMS, CKA_VALUE]),
    ];
    for (name, make, types) in required {
        for ty in *types {
            let r = create(without(make(), *ty));
            assert_eq!(
                ckr(r),
                ckr::CKR_TEMPLATE_INCOMPLETE,
                "{name} without {ty:#x}"
            );
        }
    }
    // The CRT components of an RSA private key are optional.
    assert!(create(without(rsa_private(), CKA_PRIME_1)).is_ok());
}

#[test]
fn generate_unwrap_and_derive_without_a_required_attribute_are_incomplete() {
    let material = tpl(vec![
        u(CKA_CLASS, CKO_SECRET_KEY),
        u(CKA_KEY_TYPE, CKK_AES),
        raw(CKA_VALUE, &[3; 32]),
    ]);
    // Footnote 3: CKA_VALUE_LEN for generated AES keys.
    let r = Object::from_template(&tpl(vec![]), generate(&material), CO, &pol(), uid());
    assert_eq!(ckr(r), ckr::CKR_TEMPLATE_INCOMPLETE);
    let ok = Object::from_template(
        &tpl(vec![u(CKA_VALUE_LEN, 32)]),
        generate(&material),
        CO,
        &pol(),
        uid(),
    );
    assert!(ok.is_ok());
    // Footnote 3: CKA_MODULUS_BITS and CKA_EC_PARAMS for generated public keys.
    let rsa = tpl(vec![
        u(CKA_CLASS, CKO_PUBLIC_KEY),
        u(CKA_KEY_TYPE, CKK_RSA),
        raw(CKA_MODULUS, &modulus()),
        raw(CKA_PUBLIC_EXPONENT, &[1, 0, 1]),
    ]);
    let r = Object::from_template(&tpl(vec![]), generate(&rsa), CO, &pol(), uid());
    assert_eq!(ckr(r), ckr::CKR_TEMPLATE_INCOMPLETE);
    let ec = tpl(vec![
        u(CKA_CLASS, CKO_PUBLIC_KEY),
        u(CKA_KEY_TYPE, CKK_EC),
        raw(CKA_EC_POINT, &octets(&[[4].as_slice(), &[1; 64]].concat())),
    ]);
    let r = Object::from_template(&tpl(vec![]), generate(&ec), CO, &pol(), uid());
    assert_eq!(ckr(r), ckr::CKR_TEMPLATE_INCOMPLETE);
    // A mechanism that contributes nothing leaves the key incomplete.
    let r = Object::from_template(
        &tpl(vec![u(CKA_VALUE_LEN, 16)]),
        generate(&Template::empty()),
        CO,
        &pol(),
        uid(),
    );
    assert_eq!(ckr(r), ckr::CKR_TEMPLATE_INCOMPLETE);

    // Footnote 5: CKA_KEY_TYPE for unwrapped keys, whatever the unwrapped bytes are.
    let key = tpl(vec![raw(CKA_VALUE, &[4; 16])]);
    let unwrap = || CreationMethod::Unwrap { material: &key };
    let r = Object::from_template(
        &tpl(vec![u(CKA_CLASS, CKO_SECRET_KEY)]),
        unwrap(),
        CO,
        &pol(),
        uid(),
    );
    assert_eq!(ckr(r), ckr::CKR_TEMPLATE_INCOMPLETE);
    let r = Object::from_template(
        &tpl(vec![u(CKA_KEY_TYPE, CKK_AES)]),
        unwrap(),
        CO,
        &pol(),
        uid(),
    );
    assert_eq!(ckr(r), ckr::CKR_TEMPLATE_INCOMPLETE);
    let k = Object::from_template(
        &tpl(vec![u(CKA_CLASS, CKO_SECRET_KEY), u(CKA_KEY_TYPE, CKK_AES)]),
        unwrap(),
        CO,
        &pol(),
        uid(),
    )
    .unwrap();
    assert_eq!(ulong(&k, CKA_VALUE_LEN), Some(16));

    // C_DeriveKey: the key type must come from somewhere.
    let derive = CreationMethod::Derive {
        material: &key,
        base_always_sensitive: true,
        base_never_extractable: true,
    };
    let r = Object::from_template(
        &tpl(vec![u(CKA_CLASS, CKO_SECRET_KEY)]),
        derive,
        CO,
        &pol(),
        uid(),
    );
    assert_eq!(ckr(r), ckr::CKR_TEMPLATE_INCOMPLETE);
}

// ---------------------------------------------------------------------------------------
// CKR_ATTRIBUTE_READ_ONLY in creating templates

#[test]
fn attributes_the_module_sets_are_read_only_on_create() {
    for (ty, v) in [
        (CKA_LOCAL, vec![1]),
        (CKA_ALWAYS_SENSITIVE, vec![1]),
        (CKA_NEVER_EXTRACTABLE, vec![1]),
        (
            CKA_KEY_GEN_MECHANISM,
            CKM_AES_KEY_GEN.to_le_bytes().to_vec(),
        ),
        (CKA_UNIQUE_ID, b"mine".to_vec()),
        (CKA_VALUE_LEN, 16u64.to_le_bytes().to_vec()),
    ] {
        let r = create(with(aes(&[1; 16]), vec![raw(ty, &v)]));
        assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY, "{ty:#x}");
    }
    let r = create(with(rsa_public(), vec![u(CKA_MODULUS_BITS, 2048)]));
    assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY);
    // Every class has CKA_UNIQUE_ID, and no creating function accepts it.
    let r = create(with(data("d"), vec![s(CKA_UNIQUE_ID, "x")]));
    assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY);
}

#[test]
fn key_material_is_read_only_in_generate_unwrap_and_derive_templates() {
    let material = tpl(vec![
        u(CKA_CLASS, CKO_SECRET_KEY),
        u(CKA_KEY_TYPE, CKK_AES),
        raw(CKA_VALUE, &[3; 16]),
    ]);
    // Footnote 4.
    let r = Object::from_template(
        &tpl(vec![u(CKA_VALUE_LEN, 16), raw(CKA_VALUE, &[3; 16])]),
        generate(&material),
        CO,
        &pol(),
        uid(),
    );
    assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY);
    let r = Object::from_template(
        &tpl(vec![
            u(CKA_MODULUS_BITS, 2048),
            raw(CKA_MODULUS, &modulus()),
        ]),
        generate(&tpl(rsa_public())),
        CO,
        &pol(),
        uid(),
    );
    assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY);
    let r = Object::from_template(
        &tpl(vec![raw(CKA_EC_PARAMS, P256)]),
        generate(&tpl(ec_private())),
        CO,
        &pol(),
        uid(),
    );
    assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY);
    // Footnote 6.
    let r = Object::from_template(
        &tpl(vec![
            u(CKA_CLASS, CKO_PRIVATE_KEY),
            u(CKA_KEY_TYPE, CKK_RSA),
            raw(CKA_MODULUS, &modulus()),
        ]),
        CreationMethod::Unwrap {
            material: &tpl(rsa_private()),
        },
        CO,
        &pol(),
        uid(),
    );
    assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY);
    // Derivation: the mechanism makes the value.
    let r = Object::from_template(
        &tpl(vec![
            u(CKA_CLASS, CKO_SECRET_KEY),
            u(CKA_KEY_TYPE, CKK_GENERIC_SECRET),
            raw(CKA_VALUE, &[1; 16]),
        ]),
        CreationMethod::Derive {
            material: &tpl(vec![raw(CKA_VALUE, &[1; 16])]),
            base_always_sensitive: false,
            base_never_extractable: false,
        },
        CO,
        &pol(),
        uid(),
    );
    assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY);
}

// ---------------------------------------------------------------------------------------
// CKR_TEMPLATE_INCONSISTENT

#[test]
fn conflicting_or_misplaced_attributes_are_inconsistent() {
    let inconsistent = |r: Result<Object, crate::Error>, what: &str| {
        assert_eq!(ckr(r), ckr::CKR_TEMPLATE_INCONSISTENT, "{what}");
    };
    // An attribute of another class (4.1.1 rule 5's example).
    inconsistent(
        create(with(aes(&[1; 16]), vec![raw(CKA_MODULUS, &modulus())])),
        "modulus on AES",
    );
    inconsistent(
        create(with(rsa_public(), vec![b(CKA_SIGN, true)])),
        "sign on public",
    );
    inconsistent(
        create(with(data("d"), vec![b(CKA_SENSITIVE, true)])),
        "sensitive on data",
    );
    // A key type of another class.
    inconsistent(
        create(with(rsa_public(), vec![u(CKA_KEY_TYPE, CKK_AES)])),
        "AES public key",
    );
    // A curve of another key type.
    inconsistent(
        create(with(ec_public(), vec![raw(CKA_EC_PARAMS, ED25519)])),
        "Ed25519 curve on CKK_EC",
    );
    // A point that is not on this curve's encoding.
    inconsistent(
        create(with(ec_public(), vec![raw(CKA_EC_PARAMS, P521)])),
        "P-256 point for P-521",
    );
    inconsistent(
        create(with(ed_private(), vec![raw(CKA_VALUE, &[1; 31])])),
        "short Ed25519 key",
    );
    // CKA_ALWAYS_AUTHENTICATE needs a private object.
    inconsistent(
        create(with(
            rsa_private(),
            vec![b(CKA_ALWAYS_AUTHENTICATE, true), b(CKA_PRIVATE, false)],
        )),
        "always authenticate, public",
    );
    assert!(create(with(rsa_private(), vec![b(CKA_ALWAYS_AUTHENTICATE, true)])).is_ok());
    // A certificate with neither value nor URL; a URL without the key hashes.
    inconsistent(
        create(with(cert(), vec![raw(CKA_VALUE, b"")])),
        "empty certificate",
    );
    inconsistent(
        create(with(cert(), vec![s(CKA_URL, "https://ca.example/c.der")])),
        "URL without hashes",
    );
    assert!(
        create(with(
            cert(),
            vec![
                raw(CKA_VALUE, b""),
                s(CKA_URL, "https://ca.example/c.der"),
                raw(CKA_HASH_OF_SUBJECT_PUBLIC_KEY, &[1; 20]),
                raw(CKA_HASH_OF_ISSUER_PUBLIC_KEY, &[2; 20]),
            ]
        ))
        .is_ok()
    );

    // The template contradicts what the mechanism produces.
    let material = tpl(vec![
        u(CKA_CLASS, CKO_SECRET_KEY),
        u(CKA_KEY_TYPE, CKK_AES),
        raw(CKA_VALUE, &[3; 32]),
    ]);
    for bad in [
        vec![u(CKA_VALUE_LEN, 32), u(CKA_KEY_TYPE, CKK_GENERIC_SECRET)],
        vec![u(CKA_VALUE_LEN, 32), u(CKA_CLASS, CKO_PRIVATE_KEY)],
        vec![u(CKA_VALUE_LEN, 16)],
    ] {
        let r = Object::from_template(&tpl(bad), generate(&material), CO, &pol(), uid());
        inconsistent(r, "generate");
    }
    let r = Object::from_template(
        &tpl(vec![u(CKA_MODULUS_BITS, 3072)]),
        generate(&tpl(rsa_public())),
        CO,
        &pol(),
        uid(),
    );
    inconsistent(r, "modulus bits");
    // Functions that cannot make the class.
    let r = Object::from_template(&tpl(vec![]), generate(&tpl(data("d"))), CO, &pol(), uid());
    inconsistent(r, "generated data object");
    let r = Object::from_template(
        &tpl(rsa_public()),
        CreationMethod::Derive {
            material: &Template::empty(),
            base_always_sensitive: false,
            base_never_extractable: false,
        },
        CO,
        &pol(),
        uid(),
    );
    inconsistent(r, "derived public key");
    // Duplicates are refused when the template is built.
    let r = Template::new(vec![b(CKA_TOKEN, true), b(CKA_TOKEN, false)]);
    assert_eq!(ckr(r), ckr::CKR_TEMPLATE_INCONSISTENT);
}

// ---------------------------------------------------------------------------------------
// CKR_ATTRIBUTE_VALUE_INVALID and CKR_ATTRIBUTE_TYPE_INVALID

#[test]
fn badly_encoded_or_out_of_range_values_are_invalid() {
    let cases: Vec<(&str, Vec<Attribute>)> = vec![
        (
            "2-byte bool",
            with(data("d"), vec![raw(CKA_TOKEN, &[1, 0])]),
        ),
        ("empty bool", with(data("d"), vec![raw(CKA_TOKEN, &[])])),
        ("4-byte class", vec![raw(CKA_CLASS, &[0, 0, 0, 0])]),
        (
            "4-byte key type",
            with(aes(&[1; 16]), vec![raw(CKA_KEY_TYPE, &[0x1F, 0, 0, 0])]),
        ),
        (
            "bad date",
            with(aes(&[1; 16]), vec![s(CKA_START_DATE, "20241301")]),
        ),
        (
            "short date",
            with(aes(&[1; 16]), vec![s(CKA_END_DATE, "2024")]),
        ),
        (
            "bad UTF-8",
            with(data("d"), vec![raw(CKA_LABEL, &[0xC3, 0x28])]),
        ),
        ("AES length", aes(&[1; 15])),
        ("empty secret", secret(CKK_GENERIC_SECRET, &[])),
        (
            "empty modulus",
            with(rsa_public(), vec![raw(CKA_MODULUS, &[])]),
        ),
        ("unknown class", vec![u(CKA_CLASS, CKO_HW_FEATURE)]),
        (
            "unknown key type",
            with(aes(&[1; 16]), vec![u(CKA_KEY_TYPE, CKK_DES3)]),
        ),
        (
            "unknown certificate type",
            with(cert(), vec![u(CKA_CERTIFICATE_TYPE, CKC_WTLS)]),
        ),
        (
            "params not DER",
            with(ec_public(), vec![raw(CKA_EC_PARAMS, b"P-256")]),
        ),
        (
            "mechanism list",
            with(aes(&[1; 16]), vec![raw(CKA_ALLOWED_MECHANISMS, &[1, 2, 3])]),
        ),
        (
            "nested template",
            with(aes(&[1; 16]), vec![raw(CKA_WRAP_TEMPLATE, &[1, 2, 3])]),
        ),
        (
            "certificate category",
            with(cert(), vec![u(CKA_CERTIFICATE_CATEGORY, 7)]),
        ),
    ];
    let unknown_curve = with(
        ec_public(),
        vec![raw(CKA_EC_PARAMS, &[0x06, 0x03, 1, 2, 3])],
    );
    assert_eq!(
        ckr(create(unknown_curve)),
        ckr::CKR_CURVE_NOT_SUPPORTED,
        "unknown curve"
    );
    for (what, attrs) in cases {
        assert_eq!(
            ckr(create(attrs)),
            ckr::CKR_ATTRIBUTE_VALUE_INVALID,
            "{what}"
        );
    }
    // And VALUE_LEN asked of a generator that cannot make such a key.
    let r = Object::from_template(
        &tpl(vec![u(CKA_VALUE_LEN, 20)]),
        generate(&tpl(aes(&[1; 16]))),
        CO,
        &pol(),
        uid(),
    );
    assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_VALUE_INVALID);
}

#[test]
fn unsupported_attribute_types_are_invalid() {
    for ty in [
        0x0000_0FFF,
        CKA_PRIME,
        CKA_VENDOR_DEFINED | 0x42,
        CKA_OTP_FORMAT,
    ] {
        let r = create(with(data("d"), vec![raw(ty, &[1])]));
        assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_TYPE_INVALID, "{ty:#x}");
        let mut o = create(data("d")).unwrap();
        let r = o.set_attributes(&tpl(vec![raw(ty, &[1])]), false, &pol());
        assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_TYPE_INVALID, "{ty:#x}");
    }
    // A private key's CKA_PUBLIC_KEY_INFO is not accepted from applications (section 4.9).
    let info = raw(CKA_PUBLIC_KEY_INFO, b"0Y0\x13spki");
    let r = create(with(ec_private(), vec![info]));
    assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_TYPE_INVALID);
    // ... but the creating function may provide it.
    let mut material = ec_private();
    material.push(raw(CKA_PUBLIC_KEY_INFO, b"0Y0\x13spki"));
    let k =
        Object::from_template(&tpl(vec![]), generate(&tpl(material)), CO, &pol(), uid()).unwrap();
    assert_eq!(k.value(CKA_PUBLIC_KEY_INFO), Some(&b"0Y0\x13spki"[..]));
}

// ---------------------------------------------------------------------------------------
// CKA_SENSITIVE, CKA_EXTRACTABLE and their tracking attributes

#[test]
fn sensitive_only_goes_from_false_to_true() {
    let mut k = create(with(aes(&[1; 16]), vec![b(CKA_EXTRACTABLE, true)])).unwrap();
    assert_eq!(k.flag(CKA_SENSITIVE), Some(false));
    assert_eq!(k.flag(CKA_ALWAYS_SENSITIVE), Some(false));
    k.set_attributes(&tpl(vec![b(CKA_SENSITIVE, true)]), false, &pol())
        .unwrap();
    assert_eq!(k.flag(CKA_SENSITIVE), Some(true));
    // It was not sensitive all along.
    assert_eq!(k.flag(CKA_ALWAYS_SENSITIVE), Some(false));
    let r = k.set_attributes(&tpl(vec![b(CKA_SENSITIVE, false)]), false, &pol());
    assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY);
    // Not even the SO, nor through a copy.
    let r = k.set_attributes(&tpl(vec![b(CKA_SENSITIVE, false)]), true, &pol());
    assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY);
    let r = k.copy_with(&tpl(vec![b(CKA_SENSITIVE, false)]), CO, &pol(), uid());
    assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY);
    // Restating the current value is not a change.
    k.set_attributes(&tpl(vec![b(CKA_SENSITIVE, true)]), false, &pol())
        .unwrap();
    // A generated sensitive key has always been sensitive.
    let g = Object::from_template(
        &tpl(vec![u(CKA_VALUE_LEN, 16), b(CKA_SENSITIVE, true)]),
        generate(&tpl(aes(&[2; 16]))),
        CO,
        &pol(),
        uid(),
    )
    .unwrap();
    assert_eq!(g.flag(CKA_ALWAYS_SENSITIVE), Some(true));
    assert_eq!(g.flag(CKA_LOCAL), Some(true));
    assert_eq!(ulong(&g, CKA_KEY_GEN_MECHANISM), Some(CKM_AES_KEY_GEN));
}

#[test]
fn extractable_only_goes_from_true_to_false() {
    let mut k = create(with(aes(&[1; 16]), vec![b(CKA_EXTRACTABLE, true)])).unwrap();
    assert_eq!(k.flag(CKA_NEVER_EXTRACTABLE), Some(false));
    k.set_attributes(&tpl(vec![b(CKA_EXTRACTABLE, false)]), false, &pol())
        .unwrap();
    // It was extractable once.
    assert_eq!(k.flag(CKA_NEVER_EXTRACTABLE), Some(false));
    let r = k.set_attributes(&tpl(vec![b(CKA_EXTRACTABLE, true)]), false, &pol());
    assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY);
    let r = k.copy_with(&tpl(vec![b(CKA_EXTRACTABLE, true)]), CO, &pol(), uid());
    assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY);

    // Generated unextractable: never extractable, until a copy would change it (it cannot).
    let g = Object::from_template(
        &tpl(vec![u(CKA_VALUE_LEN, 16)]),
        generate(&tpl(aes(&[2; 16]))),
        CO,
        &pol(),
        uid(),
    )
    .unwrap();
    assert_eq!(g.flag(CKA_NEVER_EXTRACTABLE), Some(true));
    assert_eq!(g.flag(CKA_ALWAYS_SENSITIVE), Some(false));
    let c = g
        .copy_with(&tpl(vec![b(CKA_SENSITIVE, true)]), CO, &pol(), uid())
        .unwrap();
    assert_eq!(c.flag(CKA_NEVER_EXTRACTABLE), Some(true));
    assert_eq!(
        c.flag(CKA_LOCAL),
        Some(true),
        "a copy of a local key is local"
    );
    // The copy became sensitive, but was not always.
    assert_eq!(c.flag(CKA_ALWAYS_SENSITIVE), Some(false));
    // Generated extractable: not "never extractable".
    let e = Object::from_template(
        &tpl(vec![u(CKA_VALUE_LEN, 16), b(CKA_EXTRACTABLE, true)]),
        generate(&tpl(aes(&[2; 16]))),
        CO,
        &pol(),
        uid(),
    )
    .unwrap();
    assert_eq!(e.flag(CKA_NEVER_EXTRACTABLE), Some(false));
}

#[test]
fn only_generated_keys_and_their_derivations_are_tracked_as_protected() {
    let material = tpl(vec![raw(CKA_VALUE, &[5; 32])]);
    let sensitive_aes = || {
        tpl(vec![
            u(CKA_CLASS, CKO_SECRET_KEY),
            u(CKA_KEY_TYPE, CKK_AES),
            b(CKA_SENSITIVE, true),
        ])
    };
    let derived = |base_always_sensitive, base_never_extractable| {
        let method = CreationMethod::Derive {
            material: &material,
            base_always_sensitive,
            base_never_extractable,
        };
        Object::from_template(&sensitive_aes(), method, CO, &pol(), uid()).unwrap()
    };
    let d = derived(true, true);
    assert_eq!(d.flag(CKA_ALWAYS_SENSITIVE), Some(true));
    assert_eq!(d.flag(CKA_NEVER_EXTRACTABLE), Some(true));
    assert_eq!(d.flag(CKA_LOCAL), Some(false));
    let d = derived(false, true);
    assert_eq!(d.flag(CKA_ALWAYS_SENSITIVE), Some(false));
    assert_eq!(d.flag(CKA_NEVER_EXTRACTABLE), Some(true));
    // Unwrapped and created keys came from outside.
    let unwrap = CreationMethod::Unwrap {
        material: &material,
    };
    let w = Object::from_template(&sensitive_aes(), unwrap, CO, &pol(), uid()).unwrap();
    assert_eq!(w.flag(CKA_ALWAYS_SENSITIVE), Some(false));
    assert_eq!(w.flag(CKA_NEVER_EXTRACTABLE), Some(false));
    assert_eq!(w.flag(CKA_LOCAL), Some(false));
    let c = create(with(aes(&[1; 16]), vec![b(CKA_SENSITIVE, true)])).unwrap();
    assert_eq!(c.flag(CKA_ALWAYS_SENSITIVE), Some(false));
}

// ---------------------------------------------------------------------------------------
// C_GetAttributeValue and CKA_PRIVATE

#[test]
fn secret_parts_are_never_revealed_while_the_key_is_protected() {
    let k = create(aes(&[1; 16])).unwrap();
    // Not sensitive, but not extractable (the default): hidden.
    let out = k
        .get_attributes(&[CKA_VALUE, CKA_VALUE_LEN], Some(CO))
        .unwrap();
    assert_eq!(out[0], AttrResult::Sensitive);
    assert_eq!(out[1], AttrResult::Value(16u64.to_le_bytes().to_vec()));
    assert_eq!(
        AttrResult::overall(&out).unwrap_err().ckr(),
        ckr::CKR_ATTRIBUTE_SENSITIVE
    );
    let open = create(with(aes(&[1; 16]), vec![b(CKA_EXTRACTABLE, true)])).unwrap();
    assert_eq!(read(&open, CKA_VALUE), AttrResult::Value(vec![1; 16]));
    let sens = create(with(
        aes(&[1; 16]),
        vec![b(CKA_EXTRACTABLE, true), b(CKA_SENSITIVE, true)],
    ))
    .unwrap();
    assert_eq!(read(&sens, CKA_VALUE), AttrResult::Sensitive);

    let rsa = create(with(rsa_private(), vec![b(CKA_EXTRACTABLE, true)])).unwrap();
    for ty in [
        CKA_PRIVATE_EXPONENT,
        CKA_PRIME_1,
        CKA_PRIME_2,
        CKA_EXPONENT_1,
        CKA_EXPONENT_2,
        CKA_COEFFICIENT,
    ] {
        assert_eq!(read(&rsa, ty), AttrResult::Sensitive, "{ty:#x}");
    }
    assert_eq!(read(&rsa, CKA_MODULUS), AttrResult::Value(modulus()));
    for (name, attrs) in [
        ("ec", ec_private()),
        ("ed", ed_private()),
        ("x", x_private()),
    ] {
        let k = create(attrs).unwrap();
        assert_eq!(read(&k, CKA_VALUE), AttrResult::Sensitive, "{name}");
        assert!(
            matches!(read(&k, CKA_EC_PARAMS), AttrResult::Value(_)),
            "{name}"
        );
    }
    // A type the object does not have, and one of another class.
    let out = k
        .get_attributes(&[CKA_LABEL, CKA_MODULUS, 0x0FFF], Some(CO))
        .unwrap();
    assert_eq!(out[0], AttrResult::Value(Vec::new()));
    assert_eq!(out[1], AttrResult::TypeInvalid);
    assert_eq!(out[2], AttrResult::TypeInvalid);
    assert_eq!(
        AttrResult::overall(&out).unwrap_err().ckr(),
        ckr::CKR_ATTRIBUTE_TYPE_INVALID
    );
    // An absent optional attribute (no CKA_ALLOWED_MECHANISMS given).
    assert_eq!(read(&k, CKA_ALLOWED_MECHANISMS), AttrResult::TypeInvalid);
}

#[test]
fn private_objects_are_seen_by_the_normal_users_only() {
    let private = create(data("p")).unwrap();
    let public = create(with(data("q"), vec![b(CKA_PRIVATE, false)])).unwrap();
    for role in [None, Some(SO), Some(CO), Some(LCO), Some(CU)] {
        let user = matches!(role, Some(r) if r != SO);
        assert_eq!(private.is_visible(role), user, "{role:?}");
        assert!(public.is_visible(role), "{role:?}");
        let r = private.get_attributes(&[CKA_LABEL], role);
        if user {
            assert!(r.is_ok());
        } else {
            assert_eq!(ckr(r), ckr::CKR_OBJECT_HANDLE_INVALID, "{role:?}");
        }
    }
}

#[test]
fn matching_is_exact_and_never_on_hidden_values() {
    let k = create(with(
        aes(&[1; 16]),
        vec![s(CKA_LABEL, "k"), raw(CKA_ID, &[9])],
    ))
    .unwrap();
    assert!(k.matches(&Template::empty()));
    assert!(k.matches(&tpl(vec![s(CKA_LABEL, "k"), u(CKA_KEY_TYPE, CKK_AES)])));
    assert!(k.matches(&tpl(vec![b(CKA_TOKEN, false)])));
    assert!(!k.matches(&tpl(vec![s(CKA_LABEL, "K")])));
    assert!(!k.matches(&tpl(vec![raw(CKA_ID, &[9, 0])])));
    assert!(!k.matches(&tpl(vec![raw(CKA_MODULUS, &[1])])));
    // The key value is hidden: guessing it right does not match.
    assert!(!k.matches(&tpl(vec![raw(CKA_VALUE, &[1; 16])])));
    let open = create(with(aes(&[1; 16]), vec![b(CKA_EXTRACTABLE, true)])).unwrap();
    assert!(open.matches(&tpl(vec![raw(CKA_VALUE, &[1; 16])])));
}

// ---------------------------------------------------------------------------------------
// C_SetAttributeValue

#[test]
fn only_modifiable_attributes_change() {
    let mut d = create(data("d")).unwrap();
    d.set_attributes(&tpl(vec![s(CKA_LABEL, "renamed")]), false, &pol())
        .unwrap();
    assert_eq!(d.label(), b"renamed");
    for a in [
        raw(CKA_VALUE, b"other"),
        s(CKA_APPLICATION, "app"),
        b(CKA_TOKEN, true),
        b(CKA_PRIVATE, false),
        b(CKA_MODIFIABLE, false),
        b(CKA_DESTROYABLE, false),
        u(CKA_CLASS, CKO_CERTIFICATE),
    ] {
        let ty = a.attr_type();
        let r = d.set_attributes(&tpl(vec![a]), false, &pol());
        assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY, "{ty:#x}");
    }
    // The same value is not a change.
    d.set_attributes(&tpl(vec![u(CKA_CLASS, CKO_DATA)]), false, &pol())
        .unwrap();

    let mut c = create(cert()).unwrap();
    c.set_attributes(
        &tpl(vec![
            raw(CKA_ID, &[4]),
            raw(CKA_ISSUER, b"issuer"),
            raw(CKA_SERIAL_NUMBER, &[2, 1, 5]),
        ]),
        false,
        &pol(),
    )
    .unwrap();
    for a in [
        raw(CKA_SUBJECT, b"x"),
        raw(CKA_VALUE, b"x"),
        u(CKA_CERTIFICATE_TYPE, CKC_X_509_ATTR_CERT),
    ] {
        let ty = a.attr_type();
        let r = c.set_attributes(&tpl(vec![a]), false, &pol());
        assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY, "{ty:#x}");
    }
    let mut k = create(rsa_private()).unwrap();
    k.set_attributes(
        &tpl(vec![
            b(CKA_SIGN, false),
            raw(CKA_ID, &[1]),
            s(CKA_START_DATE, "20250101"),
            raw(CKA_SUBJECT, b"cn"),
        ]),
        false,
        &pol(),
    )
    .unwrap();
    for a in [
        raw(CKA_MODULUS, &[1]),
        b(CKA_LOCAL, true),
        b(CKA_ALWAYS_AUTHENTICATE, true),
        s(CKA_UNIQUE_ID, "uid-1"),
        u(CKA_KEY_TYPE, CKK_EC),
    ] {
        let ty = a.attr_type();
        let r = k.set_attributes(&tpl(vec![a]), false, &pol());
        assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY, "{ty:#x}");
    }
    // CKA_UNIQUE_ID is read-only even when restated.
    let same = String::from_utf8(k.unique_id().to_vec()).unwrap();
    let r = k.set_attributes(&tpl(vec![s(CKA_UNIQUE_ID, &same)]), false, &pol());
    assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY);
}

#[test]
fn a_refused_change_changes_nothing() {
    let mut k = create(with(aes(&[1; 16]), vec![s(CKA_LABEL, "before")])).unwrap();
    let before = k.to_bytes().unwrap();
    let r = k.set_attributes(
        &tpl(vec![
            s(CKA_LABEL, "after"),
            b(CKA_SENSITIVE, true),
            raw(CKA_VALUE, &[2; 16]),
        ]),
        false,
        &pol(),
    );
    assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY);
    assert_eq!(k.to_bytes().unwrap(), before);
    let r = k.set_attributes(
        &tpl(vec![s(CKA_LABEL, "after"), raw(CKA_TOKEN, &[1, 1])]),
        false,
        &pol(),
    );
    assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_VALUE_INVALID);
    assert_eq!(k.to_bytes().unwrap(), before);
}

#[test]
fn an_unmodifiable_object_refuses_every_change() {
    let mut k = create(with(aes(&[1; 16]), vec![b(CKA_MODIFIABLE, false)])).unwrap();
    for a in [
        s(CKA_LABEL, "x"),
        b(CKA_SENSITIVE, true),
        b(CKA_MODIFIABLE, false),
    ] {
        let r = k.set_attributes(&tpl(vec![a]), false, &pol());
        assert_eq!(code(r), ACTION_PROHIBITED);
    }
    let r = k.set_attributes(&tpl(vec![s(CKA_LABEL, "x")]), true, &pol());
    assert_eq!(code(r), ACTION_PROHIBITED);
    // An empty template changes nothing and is not refused.
    k.set_attributes(&Template::empty(), false, &pol()).unwrap();
    // Section 4.1.3: the copy may be modifiable again; CKA_COPYABLE false is the lock.
    let c = k
        .copy_with(&tpl(vec![b(CKA_MODIFIABLE, true)]), CO, &pol(), uid())
        .unwrap();
    assert!(c.is_modifiable());
}

#[test]
fn copyable_false_refuses_copies_and_stays_false() {
    let mut k = create(aes(&[1; 16])).unwrap();
    k.set_attributes(&tpl(vec![b(CKA_COPYABLE, false)]), false, &pol())
        .unwrap();
    let r = k.copy_with(&Template::empty(), CO, &pol(), uid());
    assert_eq!(code(r), ACTION_PROHIBITED);
    let r = k.set_attributes(&tpl(vec![b(CKA_COPYABLE, true)]), false, &pol());
    assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY);
    let locked = create(with(aes(&[1; 16]), vec![b(CKA_COPYABLE, false)])).unwrap();
    let r = locked.copy_with(&tpl(vec![b(CKA_COPYABLE, true)]), CO, &pol(), uid());
    assert_eq!(code(r), ACTION_PROHIBITED);
}

#[test]
fn destroyable_is_reported_and_enforced() {
    let d = create(with(data("d"), vec![b(CKA_DESTROYABLE, false)])).unwrap();
    assert!(!d.is_destroyable());
    assert_eq!(code(d.check_destroyable()), ACTION_PROHIBITED);
    let c = d
        .copy_with(&tpl(vec![b(CKA_DESTROYABLE, true)]), CO, &pol(), uid())
        .unwrap();
    assert!(c.is_destroyable());
    c.check_destroyable().unwrap();
}

#[test]
fn trusted_is_set_by_the_so_only() {
    // On creation.
    let r = create(with(rsa_public(), vec![b(CKA_TRUSTED, true)]));
    assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY);
    let t = create_as(with(rsa_public(), vec![b(CKA_TRUSTED, true)]), SO, &pol()).unwrap();
    assert_eq!(t.flag(CKA_TRUSTED), Some(true));
    create(with(rsa_public(), vec![b(CKA_TRUSTED, false)])).unwrap();
    // Afterwards.
    let mut k = create(with(aes(&[1; 16]), vec![b(CKA_PRIVATE, false)])).unwrap();
    let r = k.set_attributes(&tpl(vec![b(CKA_TRUSTED, true)]), false, &pol());
    assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY);
    k.set_attributes(&tpl(vec![b(CKA_TRUSTED, true)]), true, &pol())
        .unwrap();
    let r = k.set_attributes(&tpl(vec![b(CKA_TRUSTED, false)]), false, &pol());
    assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY);
    let r = k.copy_with(&tpl(vec![b(CKA_TRUSTED, false)]), CO, &pol(), uid());
    assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY);
    // A trusted certificate cannot be modified; the SO may withdraw the trust.
    let mut c = create_as(with(cert(), vec![b(CKA_TRUSTED, true)]), SO, &pol()).unwrap();
    for so in [false, true] {
        let r = c.set_attributes(&tpl(vec![s(CKA_LABEL, "x")]), so, &pol());
        assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY);
    }
    c.set_attributes(&tpl(vec![b(CKA_TRUSTED, false)]), true, &pol())
        .unwrap();
    c.set_attributes(&tpl(vec![s(CKA_LABEL, "x")]), false, &pol())
        .unwrap();
}

#[test]
fn wrap_with_trusted_only_goes_from_false_to_true() {
    let mut k = create(aes(&[1; 16])).unwrap();
    assert_eq!(k.flag(CKA_WRAP_WITH_TRUSTED), Some(false));
    k.set_attributes(&tpl(vec![b(CKA_WRAP_WITH_TRUSTED, true)]), false, &pol())
        .unwrap();
    let r = k.set_attributes(&tpl(vec![b(CKA_WRAP_WITH_TRUSTED, false)]), true, &pol());
    assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY);
}

#[test]
fn unique_ids_come_from_the_caller_and_never_change() {
    let k = Object::from_template(
        &tpl(aes(&[1; 16])),
        CreationMethod::Create,
        CO,
        &pol(),
        "partition-7/000042".to_owned(),
    )
    .unwrap();
    assert_eq!(k.unique_id(), b"partition-7/000042");
    assert_eq!(
        read(&k, CKA_UNIQUE_ID),
        AttrResult::Value(b"partition-7/000042".to_vec())
    );
    let c = k
        .copy_with(
            &Template::empty(),
            CO,
            &pol(),
            "partition-7/000043".to_owned(),
        )
        .unwrap();
    assert_eq!(c.unique_id(), b"partition-7/000043");
    for v in ["partition-7/000042", "other"] {
        let r = k.copy_with(&tpl(vec![s(CKA_UNIQUE_ID, v)]), CO, &pol(), uid());
        assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY, "{v}");
    }
}

// ---------------------------------------------------------------------------------------
// C_CopyObject

#[test]
fn a_copy_changes_modifiable_and_copy_only_attributes() {
    let k = create(with(aes(&[1; 16]), vec![s(CKA_LABEL, "orig")])).unwrap();
    let c = k
        .copy_with(
            &tpl(vec![
                b(CKA_TOKEN, true),
                b(CKA_DESTROYABLE, false),
                s(CKA_LABEL, "copy"),
                b(CKA_ENCRYPT, false),
                b(CKA_SENSITIVE, true),
            ]),
            CO,
            &pol(),
            uid(),
        )
        .unwrap();
    assert!(c.is_token());
    assert!(!c.is_destroyable());
    assert_eq!(c.label(), b"copy");
    assert_eq!(c.flag(CKA_ENCRYPT), Some(false));
    assert_eq!(k.label(), b"orig", "the source is unchanged");
    assert_ne!(c.unique_id(), k.unique_id());
    assert_eq!(c.value(CKA_VALUE), k.value(CKA_VALUE));
    for a in [
        raw(CKA_VALUE, &[2; 16]),
        b(CKA_LOCAL, true),
        u(CKA_KEY_TYPE, CKK_HKDF),
    ] {
        let ty = a.attr_type();
        let r = k.copy_with(&tpl(vec![a]), CO, &pol(), uid());
        assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY, "{ty:#x}");
    }
    let r = k.copy_with(&tpl(vec![raw(CKA_MODULUS, &[1])]), CO, &pol(), uid());
    assert_eq!(ckr(r), ckr::CKR_TEMPLATE_INCONSISTENT);
}

// ---------------------------------------------------------------------------------------
// Roles (RA-23)

#[test]
fn the_crypto_user_creates_public_objects_only() {
    // Keys and data objects are private unless the template says otherwise.
    for (name, attrs) in [
        ("data", data("d")),
        ("secret", aes(&[1; 16])),
        ("private", ec_private()),
    ] {
        for role in [CU, SO] {
            let r = create_as(attrs_clone(&attrs), role, &pol());
            assert_eq!(ckr(r), ckr::CKR_USER_NOT_AUTHORIZED, "{name} {role:?}");
            let ok = create_as(
                with(attrs_clone(&attrs), vec![b(CKA_PRIVATE, false)]),
                role,
                &pol(),
            );
            assert!(ok.is_ok(), "{name} {role:?}");
        }
        for role in [CO, LCO] {
            assert!(
                create_as(attrs_clone(&attrs), role, &pol()).is_ok(),
                "{name}"
            );
        }
    }
    // Certificates and public keys are public by default.
    create_as(cert(), CU, &pol()).unwrap();
    create_as(rsa_public(), CU, &pol()).unwrap();
    let r = create_as(with(cert(), vec![b(CKA_PRIVATE, true)]), CU, &pol());
    assert_eq!(ckr(r), ckr::CKR_USER_NOT_AUTHORIZED);
    // A copy is a creation: the Crypto User's copy of a private key must be public.
    let k = create(aes(&[1; 16])).unwrap();
    let r = k.copy_with(&Template::empty(), CU, &pol(), uid());
    assert_eq!(ckr(r), ckr::CKR_USER_NOT_AUTHORIZED);
    let c = k
        .copy_with(&tpl(vec![b(CKA_PRIVATE, false)]), CU, &pol(), uid())
        .unwrap();
    assert!(!c.is_private());
    // The value of the public copy is still hidden.
    assert_eq!(read(&c, CKA_VALUE), AttrResult::Sensitive);
}

fn attrs_clone(attrs: &[Attribute]) -> Vec<Attribute> {
    attrs
        .iter()
        .map(|a| raw(a.attr_type(), a.value()))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Partition policies 10 and 11

#[test]
fn policy_10_off_refuses_multipurpose_keys() {
    let off = pol_off(POLICY_MULTIPURPOSE_KEYS);
    // Usage defaults are all false, so a minimal template is accepted.
    let k = create_as(aes(&[1; 16]), CO, &off).unwrap();
    for ty in [
        CKA_ENCRYPT,
        CKA_DECRYPT,
        CKA_SIGN,
        CKA_VERIFY,
        CKA_WRAP,
        CKA_UNWRAP,
    ] {
        assert_eq!(k.flag(ty), Some(false), "{ty:#x}");
    }
    // One group, both directions: fine.
    create_as(
        with(
            aes(&[1; 16]),
            vec![b(CKA_ENCRYPT, true), b(CKA_DECRYPT, true)],
        ),
        CO,
        &off,
    )
    .unwrap();
    create_as(
        with(
            rsa_private(),
            vec![b(CKA_SIGN, true), b(CKA_SIGN_RECOVER, true)],
        ),
        CO,
        &off,
    )
    .unwrap();
    // Two groups: refused.
    for extra in [
        vec![b(CKA_ENCRYPT, true), b(CKA_SIGN, true)],
        vec![b(CKA_WRAP, true), b(CKA_DECRYPT, true)],
        vec![b(CKA_DERIVE, true), b(CKA_VERIFY, true)],
    ] {
        let r = create_as(with(aes(&[1; 16]), extra), CO, &off);
        assert_eq!(code(r), ret::SR_RET_MULTI_FUNCTION_KEYS_NOT_ALLOWED);
    }
    let r = create_as(
        with(rsa_private(), vec![b(CKA_SIGN, true), b(CKA_DECRYPT, true)]),
        CO,
        &off,
    );
    assert_eq!(ckr(r), ckr::CKR_TEMPLATE_INCONSISTENT);
    // A change that adds a second group.
    let mut s1 = create_as(with(aes(&[1; 16]), vec![b(CKA_SIGN, true)]), CO, &off).unwrap();
    let r = s1.set_attributes(&tpl(vec![b(CKA_UNWRAP, true)]), false, &off);
    assert_eq!(code(r), ret::SR_RET_MULTI_FUNCTION_KEYS_NOT_ALLOWED);
    let r = s1.copy_with(&tpl(vec![b(CKA_ENCRYPT, true)]), CO, &off, uid());
    assert_eq!(code(r), ret::SR_RET_MULTI_FUNCTION_KEYS_NOT_ALLOWED);
    s1.set_attributes(&tpl(vec![b(CKA_VERIFY, true)]), false, &off)
        .unwrap();
    // A key made while the policy was on keeps its uses and can still be renamed.
    let mut multi = create(aes(&[1; 16])).unwrap();
    multi
        .set_attributes(&tpl(vec![s(CKA_LABEL, "kept")]), false, &off)
        .unwrap();
}

#[test]
fn policy_11_off_freezes_key_attributes() {
    let off = pol_off(POLICY_CHANGE_KEY_ATTRIBUTES);
    let mut k = create(with(aes(&[1; 16]), vec![b(CKA_EXTRACTABLE, true)])).unwrap();
    for a in [
        s(CKA_LABEL, "x"),
        b(CKA_ENCRYPT, false),
        b(CKA_SENSITIVE, true),
    ] {
        let ty = a.attr_type();
        let r = k.set_attributes(&tpl(vec![a]), false, &off);
        assert_eq!(code(r), ret::SR_RET_CAN_NOT_CHANGE_KEY_FUNCTION, "{ty:#x}");
    }
    let r = k.set_attributes(&tpl(vec![s(CKA_LABEL, "x")]), false, &off);
    assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_READ_ONLY);
    // A copy may still become a token object, but not change key attributes.
    let c = k
        .copy_with(&tpl(vec![b(CKA_TOKEN, true)]), CO, &off, uid())
        .unwrap();
    assert!(c.is_token());
    let r = k.copy_with(&tpl(vec![b(CKA_DECRYPT, false)]), CO, &off, uid());
    assert_eq!(code(r), ret::SR_RET_CAN_NOT_CHANGE_KEY_FUNCTION);
    // Other objects are not keys.
    let mut d = create(data("d")).unwrap();
    d.set_attributes(&tpl(vec![s(CKA_LABEL, "y")]), false, &off)
        .unwrap();
}

// ---------------------------------------------------------------------------------------
// Check values, encodings, nested templates

#[test]
fn check_values_come_from_the_creating_function() {
    let material = tpl(with(aes(&[6; 16]), vec![raw(CKA_CHECK_VALUE, &[1, 2, 3])]));
    let make = |extra: Vec<Attribute>| {
        Object::from_template(
            &tpl(with(vec![u(CKA_VALUE_LEN, 16)], extra)),
            generate(&material),
            CO,
            &pol(),
            uid(),
        )
    };
    assert_eq!(
        make(vec![]).unwrap().value(CKA_CHECK_VALUE),
        Some(&[1, 2, 3][..])
    );
    let same = make(vec![raw(CKA_CHECK_VALUE, &[1, 2, 3])]).unwrap();
    assert_eq!(same.value(CKA_CHECK_VALUE), Some(&[1, 2, 3][..]));
    let r = make(vec![raw(CKA_CHECK_VALUE, &[1, 2, 4])]);
    assert_eq!(ckr(r), ckr::CKR_ATTRIBUTE_VALUE_INVALID);
    // An empty value asks for none.
    let none = make(vec![raw(CKA_CHECK_VALUE, &[])]).unwrap();
    assert_eq!(none.value(CKA_CHECK_VALUE), None);
    // Without a computed value, an application's is ignored (section 4.10).
    let c = create(with(aes(&[1; 16]), vec![raw(CKA_CHECK_VALUE, &[9, 9, 9])])).unwrap();
    assert_eq!(c.value(CKA_CHECK_VALUE), None);
}

#[test]
fn curve_and_point_encodings() {
    // P-521: the long DER length form; compressed points.
    let p521 = [&[0x04][..], &[0x01; 132]].concat();
    let long = [&[0x04, 0x81, 0x85][..], &p521].concat();
    create(with(
        ec_public(),
        vec![raw(CKA_EC_PARAMS, P521), raw(CKA_EC_POINT, &long)],
    ))
    .unwrap();
    let compressed = octets(&[&[0x02][..], &[0x07; 32]].concat());
    create(with(ec_public(), vec![raw(CKA_EC_POINT, &compressed)])).unwrap();
    let r = create(with(ec_public(), vec![raw(CKA_EC_POINT, &[0x04; 65])]));
    assert_eq!(ckr(r), ckr::CKR_TEMPLATE_INCONSISTENT, "not DER");
    // Ed25519: DER or raw points, OID or curve name.
    create(with(ed_public(), vec![raw(CKA_EC_POINT, &[0x21; 32])])).unwrap();
    let name = [&[0x13, 12][..], b"edwards25519"].concat();
    create(with(ed_public(), vec![raw(CKA_EC_PARAMS, &name)])).unwrap();
    let name = [&[0x13, 10][..], b"curve25519"].concat();
    create(with(x_public(), vec![raw(CKA_EC_PARAMS, &name)])).unwrap();
    let r = create(with(
        ed_public(),
        vec![raw(CKA_EC_PARAMS, &[0x13, 3, b'e', b'd', b'4'])],
    ));
    assert_eq!(ckr(r), ckr::CKR_CURVE_NOT_SUPPORTED);
    // EC private scalars may drop leading zeros, but not exceed the field.
    create(with(ec_private(), vec![raw(CKA_VALUE, &[7; 31])])).unwrap();
    let r = create(with(ec_private(), vec![raw(CKA_VALUE, &[7; 33])]));
    assert_eq!(ckr(r), ckr::CKR_TEMPLATE_INCONSISTENT);
}

#[test]
fn templates_and_mechanism_lists_are_stored_encoded() {
    let wrap = tpl(vec![u(CKA_CLASS, CKO_SECRET_KEY), b(CKA_EXTRACTABLE, true)]).encode();
    let mechs = [
        CKM_AES_KEY_WRAP.to_le_bytes(),
        CKM_AES_KEY_WRAP_PAD.to_le_bytes(),
    ]
    .concat();
    let k = create(with(
        aes(&[1; 16]),
        vec![
            raw(CKA_WRAP_TEMPLATE, &wrap),
            raw(CKA_UNWRAP_TEMPLATE, &wrap),
            raw(CKA_ALLOWED_MECHANISMS, &mechs),
        ],
    ))
    .unwrap();
    let back = Template::decode(k.value(CKA_WRAP_TEMPLATE).unwrap()).unwrap();
    assert_eq!(
        back.find(CKA_CLASS).unwrap().as_ulong(),
        Some(CKO_SECRET_KEY)
    );
    assert_eq!(read(&k, CKA_ALLOWED_MECHANISMS), AttrResult::Value(mechs));
    let r = create(with(rsa_public(), vec![raw(CKA_UNWRAP_TEMPLATE, &wrap)]));
    assert_eq!(ckr(r), ckr::CKR_TEMPLATE_INCONSISTENT);
}

#[test]
fn stored_objects_are_checked_when_read_back() {
    let k = create(aes(&[1; 16])).unwrap();
    let bytes = k.to_bytes().unwrap();
    assert!(Object::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    // A record without its class.
    let mut attrs = k.attrs_duplicate();
    attrs.remove(&CKA_CLASS);
    let bytes = postcard::to_allocvec(&attrs).unwrap();
    assert!(Object::from_bytes(&bytes).is_err());
    // Debug output carries no value.
    let text = format!("{k:?}");
    assert!(!text.contains("[1, 1"), "{text}");
}

/// Attribute values are stored as a length then the bytes, the layout of a sequence of `u8`:
/// objects stored either way read back alike.
#[test]
fn values_are_stored_as_byte_sequences() {
    let bytes: Vec<u8> = (0..=255).cycle().take(300).collect();
    let stored = postcard::to_stdvec(&Value(bytes.clone())).expect("encode");
    assert_eq!(
        stored,
        postcard::to_stdvec(&bytes).expect("a sequence of u8")
    );
    let back: Value = postcard::from_bytes(&stored).expect("decode");
    assert!(back == Value(bytes));
}
