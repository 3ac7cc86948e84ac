//! Templates and helpers shared by the object engine's tests.

use std::sync::atomic::{AtomicU64, Ordering};

use cryptoki_sys::*;
use strongroom_proto::{Ckr, RetCode};

use super::{Attribute, CreationMethod, Object, Template};
use crate::error::Error;
use crate::module::PartitionRole;
use crate::partition_policy::PartitionPolicies;
use crate::policy::{Capabilities, Policies};

pub(crate) const CO: PartitionRole = PartitionRole::CryptoOfficer;
pub(crate) const LCO: PartitionRole = PartitionRole::LimitedCryptoOfficer;
pub(crate) const CU: PartitionRole = PartitionRole::CryptoUser;
pub(crate) const SO: PartitionRole = PartitionRole::So;

pub(crate) const P256: &[u8] = &[0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
pub(crate) const P521: &[u8] = &[0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x23];
pub(crate) const ED25519: &[u8] = &[0x06, 0x03, 0x2B, 0x65, 0x70];
pub(crate) const X25519: &[u8] = &[0x06, 0x03, 0x2B, 0x65, 0x6E];

/// The partition policies of a new partition (multipurpose keys and attribute changes on).
pub(crate) fn pol() -> PartitionPolicies {
    PartitionPolicies::defaults(&Policies::defaults(&Capabilities {
        storage_bytes: 1 << 24,
        licensed_partitions: 10,
    }))
}

/// The default policies with policy `id` off.
pub(crate) fn pol_off(id: u8) -> PartitionPolicies {
    let mut p = pol();
    p.set(id, 0);
    p
}

pub(crate) fn tpl(attrs: Vec<Attribute>) -> Template {
    Template::new(attrs).expect("test templates have no duplicates")
}

pub(crate) fn b(ty: u64, v: bool) -> Attribute {
    Attribute::from_bool(ty, v)
}

pub(crate) fn u(ty: u64, v: u64) -> Attribute {
    Attribute::from_ulong(ty, v)
}

pub(crate) fn raw(ty: u64, v: &[u8]) -> Attribute {
    Attribute::new(ty, v.to_vec())
}

pub(crate) fn s(ty: u64, v: &str) -> Attribute {
    Attribute::from_utf8(ty, v)
}

/// A fresh `CKA_UNIQUE_ID`.
pub(crate) fn uid() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("uid-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// `attrs` plus `extra`, where `extra` replaces attributes of the same type.
pub(crate) fn with(attrs: Vec<Attribute>, extra: Vec<Attribute>) -> Vec<Attribute> {
    let mut out: Vec<Attribute> = attrs
        .into_iter()
        .filter(|a| !extra.iter().any(|e| e.attr_type() == a.attr_type()))
        .collect();
    out.extend(extra);
    out
}

/// `attrs` without type `ty`.
pub(crate) fn without(attrs: Vec<Attribute>, ty: u64) -> Vec<Attribute> {
    attrs.into_iter().filter(|a| a.attr_type() != ty).collect()
}

/// `C_CreateObject` by the Crypto Officer under default policies.
pub(crate) fn create(attrs: Vec<Attribute>) -> Result<Object, Error> {
    create_as(attrs, CO, &pol())
}

pub(crate) fn create_as(
    attrs: Vec<Attribute>,
    role: PartitionRole,
    policies: &PartitionPolicies,
) -> Result<Object, Error> {
    Object::from_template(&tpl(attrs), CreationMethod::Create, role, policies, uid())
}

/// The PKCS#11 return value of a refusal.
#[track_caller]
pub(crate) fn ckr<T>(r: Result<T, Error>) -> Ckr {
    match r {
        Ok(_) => panic!("expected a refusal"),
        Err(e) => e.ckr(),
    }
}

/// The module return code of a refusal.
#[track_caller]
pub(crate) fn code<T>(r: Result<T, Error>) -> RetCode {
    match r {
        Ok(_) => panic!("expected a refusal"),
        Err(e) => e.code(),
    }
}

pub(crate) fn data(label: &str) -> Vec<Attribute> {
    vec![
        u(CKA_CLASS, CKO_DATA),
        s(CKA_LABEL, label),
        raw(CKA_VALUE, b"application data"),
    ]
}

pub(crate) fn aes(value: &[u8]) -> Vec<Attribute> {
    vec![
        u(CKA_CLASS, CKO_SECRET_KEY),
        u(CKA_KEY_TYPE, CKK_AES),
        raw(CKA_VALUE, value),
    ]
}

pub(crate) fn secret(key_type: u64, value: &[u8]) -> Vec<Attribute> {
    vec![
        u(CKA_CLASS, CKO_SECRET_KEY),
        u(CKA_KEY_TYPE, key_type),
        raw(CKA_VALUE, value),
    ]
}

/// A 2048-bit modulus.
pub(crate) fn modulus() -> Vec<u8> {
    let mut m = vec![0xA5; 256];
    m[0] = 0xC1;
    m
}

pub(crate) fn rsa_public() -> Vec<Attribute> {
    vec![
        u(CKA_CLASS, CKO_PUBLIC_KEY),
        u(CKA_KEY_TYPE, CKK_RSA),
        raw(CKA_MODULUS, &modulus()),
        raw(CKA_PUBLIC_EXPONENT, &[1, 0, 1]),
    ]
}

pub(crate) fn rsa_private() -> Vec<Attribute> {
    vec![
        u(CKA_CLASS, CKO_PRIVATE_KEY),
        u(CKA_KEY_TYPE, CKK_RSA),
        raw(CKA_MODULUS, &modulus()),
        raw(CKA_PUBLIC_EXPONENT, &[1, 0, 1]),
        raw(CKA_PRIVATE_EXPONENT, &[0x33; 256]),
        raw(CKA_PRIME_1, &[0x11; 128]),
        raw(CKA_PRIME_2, &[0x13; 128]),
        raw(CKA_EXPONENT_1, &[0x17; 128]),
        raw(CKA_EXPONENT_2, &[0x19; 128]),
        raw(CKA_COEFFICIENT, &[0x1D; 128]),
    ]
}

/// A DER OCTET STRING around `content` (short form).
pub(crate) fn octets(content: &[u8]) -> Vec<u8> {
    let len = u8::try_from(content.len()).expect("short form");
    [&[0x04, len][..], content].concat()
}

pub(crate) fn ec_public() -> Vec<Attribute> {
    let point = [&[0x04][..], &[0x42; 64]].concat();
    vec![
        u(CKA_CLASS, CKO_PUBLIC_KEY),
        u(CKA_KEY_TYPE, CKK_EC),
        raw(CKA_EC_PARAMS, P256),
        raw(CKA_EC_POINT, &octets(&point)),
    ]
}

pub(crate) fn ec_private() -> Vec<Attribute> {
    vec![
        u(CKA_CLASS, CKO_PRIVATE_KEY),
        u(CKA_KEY_TYPE, CKK_EC),
        raw(CKA_EC_PARAMS, P256),
        raw(CKA_VALUE, &[0x5A; 32]),
    ]
}

pub(crate) fn ed_public() -> Vec<Attribute> {
    vec![
        u(CKA_CLASS, CKO_PUBLIC_KEY),
        u(CKA_KEY_TYPE, CKK_EC_EDWARDS),
        raw(CKA_EC_PARAMS, ED25519),
        raw(CKA_EC_POINT, &octets(&[0x21; 32])),
    ]
}

pub(crate) fn ed_private() -> Vec<Attribute> {
    vec![
        u(CKA_CLASS, CKO_PRIVATE_KEY),
        u(CKA_KEY_TYPE, CKK_EC_EDWARDS),
        raw(CKA_EC_PARAMS, ED25519),
        raw(CKA_VALUE, &[0x22; 32]),
    ]
}

pub(crate) fn x_public() -> Vec<Attribute> {
    vec![
        u(CKA_CLASS, CKO_PUBLIC_KEY),
        u(CKA_KEY_TYPE, CKK_EC_MONTGOMERY),
        raw(CKA_EC_PARAMS, X25519),
        raw(CKA_EC_POINT, &[0x23; 32]),
    ]
}

pub(crate) fn x_private() -> Vec<Attribute> {
    vec![
        u(CKA_CLASS, CKO_PRIVATE_KEY),
        u(CKA_KEY_TYPE, CKK_EC_MONTGOMERY),
        raw(CKA_EC_PARAMS, X25519),
        raw(CKA_VALUE, &[0x24; 32]),
    ]
}

pub(crate) fn cert() -> Vec<Attribute> {
    vec![
        u(CKA_CLASS, CKO_CERTIFICATE),
        u(CKA_CERTIFICATE_TYPE, CKC_X_509),
        raw(CKA_SUBJECT, b"0\x0b1\x090\x07\x06\x03U\x04\x03\x0c\x00"),
        raw(CKA_VALUE, b"0\x82\x01\x00 certificate"),
        raw(CKA_ID, &[1, 2, 3]),
    ]
}

/// Every complete `C_CreateObject` template of the fixtures, with a name.
pub(crate) fn all_creatable() -> Vec<(&'static str, Vec<Attribute>)> {
    vec![
        ("data", data("d")),
        ("certificate", cert()),
        ("aes", aes(&[7; 32])),
        ("generic", secret(CKK_GENERIC_SECRET, &[8; 20])),
        ("hmac", secret(CKK_SHA256_HMAC, &[9; 32])),
        ("hkdf", secret(CKK_HKDF, &[10; 32])),
        ("rsa public", rsa_public()),
        ("rsa private", rsa_private()),
        ("ec public", ec_public()),
        ("ec private", ec_private()),
        ("ed25519 public", ed_public()),
        ("ed25519 private", ed_private()),
        ("x25519 public", x_public()),
        ("x25519 private", x_private()),
    ]
}
