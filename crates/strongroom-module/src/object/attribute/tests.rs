use cryptoki_sys::{CKA_CLASS, CKA_LABEL, CKA_TOKEN, CKA_VALUE, CKO_DATA};
use strongroom_proto::ckr;

use super::*;

#[test]
fn typed_values_use_the_canonical_encoding() {
    let b = Attribute::from_bool(CKA_TOKEN, true);
    assert_eq!(b.value(), [1]);
    assert_eq!(b.as_bool(), Some(true));
    assert_eq!(b.as_ulong(), None);
    assert_eq!(Attribute::new(CKA_TOKEN, vec![0]).as_bool(), Some(false));
    assert_eq!(Attribute::new(CKA_TOKEN, vec![7]).as_bool(), Some(true));
    assert_eq!(Attribute::new(CKA_TOKEN, vec![1, 0]).as_bool(), None);

    let u = Attribute::from_ulong(CKA_CLASS, 0x0102_0304);
    assert_eq!(u.value(), [4, 3, 2, 1, 0, 0, 0, 0]);
    assert_eq!(u.as_ulong(), Some(0x0102_0304));
    assert_eq!(Attribute::new(CKA_CLASS, vec![1, 2, 3, 4]).as_ulong(), None);

    let s = Attribute::from_utf8(CKA_LABEL, "clé");
    assert_eq!(s.value(), "clé".as_bytes());
    assert_eq!(s.attr_type(), CKA_LABEL);
}

#[test]
fn a_template_refuses_a_type_given_twice() {
    let err = Template::new(vec![
        Attribute::from_ulong(CKA_CLASS, CKO_DATA),
        Attribute::from_bool(CKA_TOKEN, true),
        Attribute::from_ulong(CKA_CLASS, CKO_DATA),
    ])
    .unwrap_err();
    assert_eq!(err.ckr(), ckr::CKR_TEMPLATE_INCONSISTENT);
    let t = Template::new(vec![Attribute::from_bool(CKA_TOKEN, true)]).unwrap();
    assert_eq!(t.len(), 1);
    assert!(t.find(CKA_TOKEN).is_some());
    assert!(t.find(CKA_CLASS).is_none());
    assert!(Template::empty().is_empty());
}

#[test]
fn nested_templates_round_trip_and_malformed_ones_are_refused() {
    let t = Template::new(vec![
        Attribute::from_ulong(CKA_CLASS, CKO_DATA),
        Attribute::new(CKA_VALUE, Vec::new()),
        Attribute::from_utf8(CKA_LABEL, "x"),
    ])
    .unwrap();
    let bytes = t.encode();
    assert_eq!(bytes.len(), 3 * 16 + 8 + 1);
    let back = Template::decode(&bytes).unwrap();
    assert_eq!(back.len(), 3);
    for (a, b) in t.iter().zip(back.iter()) {
        assert_eq!(a.attr_type(), b.attr_type());
        assert_eq!(a.value(), b.value());
    }
    assert!(Template::decode(&[]).unwrap().is_empty());
    // Truncated header, truncated value, absurd length, repeated type.
    assert!(Template::decode(&bytes[..10]).is_none());
    assert!(Template::decode(&bytes[..bytes.len() - 1]).is_none());
    let mut huge = bytes.clone();
    huge[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(Template::decode(&huge).is_none());
    let one = Template::new(vec![Attribute::from_bool(CKA_TOKEN, true)])
        .unwrap()
        .encode();
    assert!(Template::decode(&[one.clone(), one].concat()).is_none());
}

#[test]
fn debug_output_shows_no_value() {
    let a = Attribute::new(CKA_VALUE, b"top secret key".to_vec());
    let text = format!("{a:?}");
    let text = format!("{text} {:?}", Template::new(vec![a]).unwrap());
    assert!(!text.contains("top secret"), "{text}");
    assert!(text.contains("CKA_VALUE"), "{text}");
    let r = AttrResult::Value(b"top secret key".to_vec());
    assert_eq!(format!("{r:?}"), "Value(14 bytes)");
}

#[test]
fn the_overall_return_value_follows_the_specification() {
    use AttrResult::{Sensitive, TypeInvalid, Value};
    assert!(AttrResult::overall(&[Value(vec![1]), Value(vec![])]).is_ok());
    assert!(AttrResult::overall(&[]).is_ok());
    let e = AttrResult::overall(&[Value(vec![1]), TypeInvalid]).unwrap_err();
    assert_eq!(e.ckr(), ckr::CKR_ATTRIBUTE_TYPE_INVALID);
    let e = AttrResult::overall(&[Sensitive, Value(vec![1])]).unwrap_err();
    assert_eq!(e.ckr(), ckr::CKR_ATTRIBUTE_SENSITIVE);
    // Both apply: the token may return either; this one reports the hidden value.
    let e = AttrResult::overall(&[TypeInvalid, Sensitive]).unwrap_err();
    assert_eq!(e.ckr(), ckr::CKR_ATTRIBUTE_SENSITIVE);
}
