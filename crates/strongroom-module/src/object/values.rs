//! Value checks: one attribute's encoding and range (`CKR_ATTRIBUTE_VALUE_INVALID`), and the
//! rules that relate attributes of one object (`CKR_TEMPLATE_INCONSISTENT`).
//!
//! Curves are checked here because a key object's attributes are only meaningful for curves
//! the module implements: P-256, P-384, P-521 (`CKK_EC`), Ed25519 (`CKK_EC_EDWARDS`) and
//! X25519 (`CKK_EC_MONTGOMERY`).

use std::collections::BTreeMap;

use cryptoki_sys::*;

use super::attribute::{Template, ULONG_LEN, decode_bool, decode_ulong};
use super::error as oe;
use super::table::{Class, Kind, Profile, Rule};
use crate::error::Error;

/// An object's attributes by type (each value zeroized on drop: it may be key material).
pub(crate) type Attrs = BTreeMap<u64, super::Value>;

/// Checks a value against its rule's encoding and returns it in canonical form.
pub(crate) fn canonical(rule: &Rule, raw: &[u8]) -> Result<Vec<u8>, Error> {
    let bad = |why| Err(oe::value_invalid(rule.ty, why));
    match rule.kind {
        Kind::Bool => match decode_bool(raw) {
            Some(b) => Ok(vec![u8::from(b)]),
            None => bad("a CK_BBOOL is one byte"),
        },
        Kind::Ulong if raw.len() != ULONG_LEN => bad("a CK_ULONG is 8 bytes, little endian"),
        Kind::BigInt if raw.is_empty() => bad("must not be empty"),
        Kind::Utf8 if std::str::from_utf8(raw).is_err() => bad("not valid UTF-8"),
        Kind::Date if !(raw.is_empty() || valid_date(raw)) => bad("a CK_DATE is YYYYMMDD"),
        Kind::MechList if !raw.len().is_multiple_of(ULONG_LEN) => {
            bad("a mechanism list is a multiple of 8 bytes")
        }
        Kind::Nested if Template::decode(raw).is_none() => bad("not a valid nested template"),
        _ => Ok(raw.to_vec()),
    }
}

fn valid_date(d: &[u8]) -> bool {
    if d.len() != 8 || !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let num =
        |r: std::ops::Range<usize>| d[r].iter().fold(0u32, |n, c| n * 10 + u32::from(c - b'0'));
    (1..=12).contains(&num(4..6)) && (1..=31).contains(&num(6..8))
}

/// Checks what can be checked from one attribute alone, given the object's kind.
pub(crate) fn check_single(
    profile: &Profile,
    subtype: u64,
    ty: u64,
    v: &[u8],
) -> Result<(), Error> {
    let ulong = || decode_ulong(v).unwrap_or(u64::MAX);
    match (profile.class, ty) {
        (Class::Certificate, CKA_CERTIFICATE_CATEGORY) if ulong() > 3 => {
            Err(oe::value_invalid(ty, "categories are 0-3"))
        }
        (Class::Certificate, CKA_JAVA_MIDP_SECURITY_DOMAIN) if ulong() > 3 => {
            Err(oe::value_invalid(ty, "security domains are 0-3"))
        }
        (Class::PublicKey | Class::PrivateKey, CKA_EC_PARAMS) => {
            curve(v)?;
            Ok(())
        }
        (Class::PublicKey, CKA_MODULUS_BITS) if ulong() == 0 => {
            Err(oe::value_invalid(ty, "must be positive"))
        }
        (Class::SecretKey, CKA_VALUE) if subtype == CKK_AES && !aes_len(v.len()) => {
            Err(oe::value_invalid(ty, "AES keys are 16, 24 or 32 bytes"))
        }
        (Class::SecretKey, CKA_VALUE_LEN) => {
            let n = ulong();
            let ok = if subtype == CKK_AES {
                usize::try_from(n).is_ok_and(aes_len)
            } else {
                n > 0
            };
            if ok {
                Ok(())
            } else {
                Err(oe::value_invalid(ty, "not a key length of this key type"))
            }
        }
        _ => Ok(()),
    }
}

fn aes_len(n: usize) -> bool {
    matches!(n, 16 | 24 | 32)
}

/// A curve the module implements.
pub(crate) struct Curve {
    /// The key type its keys have.
    pub(crate) key_type: u64,
    /// Size of a field element (and of a private scalar), in bytes.
    pub(crate) len: usize,
    /// Whether points are the raw little-endian encoding of RFC 7748/8032 (else X9.62).
    pub(crate) raw_points: bool,
    oid: &'static [u8],
    name: &'static [u8],
}

static CURVES: &[Curve] = &[
    Curve {
        key_type: CKK_EC,
        len: 32,
        raw_points: false,
        // 1.2.840.10045.3.1.7 (prime256v1)
        oid: &[0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07],
        name: b"prime256v1",
    },
    Curve {
        key_type: CKK_EC,
        len: 48,
        raw_points: false,
        // 1.3.132.0.34 (secp384r1)
        oid: &[0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22],
        name: b"secp384r1",
    },
    Curve {
        key_type: CKK_EC,
        len: 66,
        raw_points: false,
        // 1.3.132.0.35 (secp521r1)
        oid: &[0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x23],
        name: b"secp521r1",
    },
    Curve {
        key_type: CKK_EC_EDWARDS,
        len: 32,
        raw_points: true,
        // 1.3.101.112 (id-Ed25519)
        oid: &[0x06, 0x03, 0x2B, 0x65, 0x70],
        name: b"edwards25519",
    },
    Curve {
        key_type: CKK_EC_MONTGOMERY,
        len: 32,
        raw_points: true,
        // 1.3.101.110 (id-X25519)
        oid: &[0x06, 0x03, 0x2B, 0x65, 0x6E],
        name: b"curve25519",
    },
];

/// The curve named by a `CKA_EC_PARAMS` value: a DER OBJECT IDENTIFIER, or (v3.0, for Edwards
/// and Montgomery curves) a DER PrintableString curve name.
pub(crate) fn curve(params: &[u8]) -> Result<&'static Curve, Error> {
    let printable = match params {
        [0x13, len, name @ ..] if usize::from(*len) == name.len() => Some(name),
        [0x06, len, rest @ ..] if usize::from(*len) == rest.len() && !rest.is_empty() => None,
        _ => {
            return Err(oe::value_invalid(
                CKA_EC_PARAMS,
                "not a DER object identifier or curve name",
            ));
        }
    };
    CURVES
        .iter()
        .find(|c| match printable {
            Some(name) => c.raw_points && c.name == name,
            None => c.oid == params,
        })
        .ok_or_else(|| {
            Error::new(
                strongroom_proto::ret::SR_RET_CURVE_NOT_SUPPORTED,
                "CKA_EC_PARAMS: the curve is not supported (P-256, P-384, P-521, Ed25519, X25519 are)",
            )
        })
}

/// The content of a DER OCTET STRING (short or long length form), if `v` is exactly one.
fn der_octets(v: &[u8]) -> Option<&[u8]> {
    let (len, body) = match v {
        [0x04, n, body @ ..] if *n < 0x80 => (usize::from(*n), body),
        [0x04, 0x81, n, body @ ..] if *n >= 0x80 => (usize::from(*n), body),
        _ => return None,
    };
    (body.len() == len).then_some(body)
}

fn point_ok(c: &Curve, point: &[u8]) -> bool {
    if c.raw_points {
        // v3.0 asks for a DER OCTET STRING; the raw 32 bytes are accepted too, as many
        // applications send them.
        return point.len() == c.len || der_octets(point).is_some_and(|p| p.len() == c.len);
    }
    match der_octets(point) {
        Some([0x04, xy @ ..]) => xy.len() == 2 * c.len,
        Some([0x02 | 0x03, x @ ..]) => x.len() == c.len,
        _ => false,
    }
}

/// Bit length of a big-endian unsigned integer.
pub(crate) fn bit_len(v: &[u8]) -> u64 {
    let Some(first) = v.iter().position(|b| *b != 0) else {
        return 0;
    };
    let bytes = u64::try_from(v.len() - first).unwrap_or(u64::MAX);
    bytes
        .saturating_mul(8)
        .saturating_sub(u64::from(v[first].leading_zeros()))
}

fn flag(attrs: &Attrs, ty: u64) -> bool {
    attrs.get(&ty).is_some_and(|v| v.0 == [1])
}

fn bytes(attrs: &Attrs, ty: u64) -> &[u8] {
    attrs.get(&ty).map_or(&[], |v| v.0.as_slice())
}

/// The rules between attributes of one object, checked after every creation and change.
pub(crate) fn check_consistency(
    profile: &Profile,
    subtype: u64,
    attrs: &Attrs,
) -> Result<(), Error> {
    if flag(attrs, CKA_ALWAYS_AUTHENTICATE) && !flag(attrs, CKA_PRIVATE) {
        return Err(oe::inconsistent(
            CKA_ALWAYS_AUTHENTICATE,
            "may be true only for a private object (CKA_PRIVATE true)",
        ));
    }
    match profile.class {
        Class::Certificate => {
            let url_empty = bytes(attrs, CKA_URL).is_empty();
            if url_empty && bytes(attrs, CKA_VALUE).is_empty() {
                return Err(oe::inconsistent(
                    CKA_VALUE,
                    "must not be empty while CKA_URL is",
                ));
            }
            for h in [
                CKA_HASH_OF_SUBJECT_PUBLIC_KEY,
                CKA_HASH_OF_ISSUER_PUBLIC_KEY,
            ] {
                if !url_empty && bytes(attrs, h).is_empty() {
                    return Err(oe::inconsistent(h, "may be empty only while CKA_URL is"));
                }
            }
        }
        Class::PublicKey | Class::PrivateKey if subtype != CKK_RSA => {
            let c = curve(bytes(attrs, CKA_EC_PARAMS))?;
            if c.key_type != subtype {
                return Err(oe::inconsistent(
                    CKA_EC_PARAMS,
                    "the curve does not belong to this key type",
                ));
            }
            if profile.class == Class::PublicKey && !point_ok(c, bytes(attrs, CKA_EC_POINT)) {
                return Err(oe::inconsistent(
                    CKA_EC_POINT,
                    "not a point encoding of this curve",
                ));
            }
            let d = bytes(attrs, CKA_VALUE).len();
            let d_ok = if c.raw_points { d == c.len } else { d <= c.len };
            if profile.class == Class::PrivateKey && !d_ok {
                return Err(oe::inconsistent(
                    CKA_VALUE,
                    "not a private key length of this curve",
                ));
            }
        }
        Class::PublicKey => {
            let bits = decode_ulong(bytes(attrs, CKA_MODULUS_BITS));
            if bits != Some(bit_len(bytes(attrs, CKA_MODULUS))) {
                return Err(oe::inconsistent(
                    CKA_MODULUS_BITS,
                    "does not match the modulus",
                ));
            }
        }
        Class::SecretKey => {
            let len = u64::try_from(bytes(attrs, CKA_VALUE).len()).ok();
            if decode_ulong(bytes(attrs, CKA_VALUE_LEN)) != len {
                return Err(oe::inconsistent(
                    CKA_VALUE_LEN,
                    "does not match the key value",
                ));
            }
        }
        Class::Data | Class::PrivateKey => {}
    }
    Ok(())
}

/// The usage groups of partition policy 10: a key may have one of them only while the policy
/// is off.
const GROUPS: [&[u64]; 4] = [
    &[CKA_ENCRYPT, CKA_DECRYPT],
    &[CKA_SIGN, CKA_VERIFY, CKA_SIGN_RECOVER, CKA_VERIFY_RECOVER],
    &[CKA_WRAP, CKA_UNWRAP],
    &[CKA_DERIVE],
];

/// The usage groups a key has, as a bit set.
pub(crate) fn usage_groups(attrs: &Attrs) -> u8 {
    GROUPS
        .iter()
        .enumerate()
        .filter(|(_, g)| g.iter().any(|ty| flag(attrs, *ty)))
        .fold(0, |set, (i, _)| set | (1 << i))
}
