//! Key material: a key object's attributes parsed once into the crypto provider's key types
//! (and cached per object by the token), the attributes a mechanism contributes to a new key,
//! and the PKCS#8 / raw forms a key takes when it is wrapped.

use cryptoki_sys::*;
use strongroom_crypto::{
    AesKey, Curve, EcPrivateKey, EcPublicKey, Ed25519PrivateKey, HashAlg, RsaPrivateComponents,
    RsaPrivateKey, RsaPublicKey, SecretKey, X25519PrivateKey, Zeroizing,
};

use crate::error::{Error, e};
use crate::object::{Attribute, Object, Template};

/// DER of the Ed25519 and X25519 OIDs (RFC 8410) as `CKA_EC_PARAMS` holds them.
pub(crate) const ED25519_OID: &[u8] = &[0x06, 0x03, 0x2B, 0x65, 0x70];
pub(crate) const X25519_OID: &[u8] = &[0x06, 0x03, 0x2B, 0x65, 0x6E];
/// `CKA_EC_PARAMS` as a v3.0 PrintableString curve name.
const ED25519_NAME: &[u8] = b"\x13\x0cedwards25519";
const X25519_NAME: &[u8] = b"\x13\x0acurve25519";

/// PKCS#8 v1 `PrivateKeyInfo` of an RFC 8410 key, up to the 32 key bytes.
const ED25519_PKCS8_PREFIX: &[u8] = &[
    0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
const X25519_PKCS8_PREFIX: &[u8] = &[
    0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x6E, 0x04, 0x22, 0x04, 0x20,
];

/// A key object's material, parsed. No `Clone`/`Debug`; the provider's types zeroize on drop.
pub(crate) enum KeyMaterial {
    /// `CKK_AES`.
    Aes(AesKey),
    /// `CKK_GENERIC_SECRET`, `CKK_SHA*_HMAC`, `CKK_HKDF`.
    Secret(SecretKey),
    /// RSA private key.
    RsaPrivate(Box<RsaPrivateKey>),
    /// RSA public key.
    RsaPublic(RsaPublicKey),
    /// P-256/384/521 private key.
    EcPrivate(EcPrivateKey),
    /// P-256/384/521 public key.
    EcPublic(EcPublicKey),
    /// Ed25519 private key.
    EdPrivate(Ed25519PrivateKey),
    /// Ed25519 public key.
    EdPublic([u8; 32]),
    /// X25519 private key.
    XPrivate(X25519PrivateKey),
    /// X25519 public key.
    XPublic([u8; 32]),
}

fn invalid(ty: u64, why: &'static str) -> Error {
    e::attribute_value_invalid(ty, why)
}

fn attr(obj: &Object, ty: u64) -> Result<&[u8], Error> {
    obj.value(ty)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| e::template_incomplete(ty))
}

/// The content of a DER OCTET STRING (short or long length form), if `v` is exactly one.
pub(crate) fn der_octets(v: &[u8]) -> Option<&[u8]> {
    let (len, body) = match v {
        [0x04, n, body @ ..] if *n < 0x80 => (usize::from(*n), body),
        [0x04, 0x81, n, body @ ..] if *n >= 0x80 => (usize::from(*n), body),
        [0x04, 0x82, hi, lo, body @ ..] => ((usize::from(*hi) << 8) | usize::from(*lo), body),
        _ => return None,
    };
    (body.len() == len).then_some(body)
}

/// `content` as a DER OCTET STRING.
#[allow(clippy::big_endian_bytes, reason = "DER lengths are big endian")]
pub(crate) fn der_octet_string(content: &[u8]) -> Vec<u8> {
    let n = content.len();
    let mut out = Vec::with_capacity(n + 4);
    out.push(0x04);
    match (u8::try_from(n), u16::try_from(n)) {
        (Ok(b), _) if b < 0x80 => out.push(b),
        (Ok(b), _) => out.extend_from_slice(&[0x81, b]),
        (_, Ok(w)) => {
            out.push(0x82);
            out.extend_from_slice(&w.to_be_bytes());
        }
        _ => {}
    }
    out.extend_from_slice(content);
    out
}

/// A curve point from `CKA_EC_POINT` or ECDH public data: a DER OCTET STRING, or the raw
/// encoding (uncompressed X9.62 point, or 32 bytes for Curve25519 keys).
pub(crate) fn point_bytes(v: &[u8], raw_len: usize) -> &[u8] {
    match der_octets(v) {
        Some(inner) if inner.len() == raw_len => inner,
        _ => v,
    }
}

/// Which curve family a `CKA_EC_PARAMS` value names.
pub(crate) enum CurveKind {
    Nist(Curve),
    Ed25519,
    X25519,
}

/// The curve of a `CKA_EC_PARAMS` value (`CKR_CURVE_NOT_SUPPORTED` for others).
pub(crate) fn curve_of(params: &[u8]) -> Result<CurveKind, Error> {
    if let Some(c) = Curve::from_oid_der(params) {
        return Ok(CurveKind::Nist(c));
    }
    if params == ED25519_OID || params == ED25519_NAME {
        return Ok(CurveKind::Ed25519);
    }
    if params == X25519_OID || params == X25519_NAME {
        return Ok(CurveKind::X25519);
    }
    Err(e::curve_not_supported())
}

fn curve25519_key(v: &[u8], ty: u64) -> Result<[u8; 32], Error> {
    point_bytes(v, 32)
        .try_into()
        .map_err(|_| invalid(ty, "a Curve25519 key is 32 bytes"))
}

impl KeyMaterial {
    /// Parses a key object's material. A key the module cannot use is refused when it is
    /// created (`CKR_ATTRIBUTE_VALUE_INVALID`, `CKR_TEMPLATE_INCOMPLETE` for an RSA private
    /// key without its CRT components, `CKR_CURVE_NOT_SUPPORTED`).
    pub(crate) fn from_object(obj: &Object) -> Result<Self, Error> {
        let kt = obj
            .key_type()
            .ok_or_else(|| e::key_handle_invalid("not a key"))?;
        match (obj.class(), kt) {
            (CKO_SECRET_KEY, CKK_AES) => AesKey::new(attr(obj, CKA_VALUE)?)
                .map(Self::Aes)
                .map_err(|_| invalid(CKA_VALUE, "AES keys are 16, 24 or 32 bytes")),
            (CKO_SECRET_KEY, _) => Ok(Self::Secret(SecretKey::from_bytes(attr(obj, CKA_VALUE)?))),
            (CKO_PRIVATE_KEY, CKK_RSA) => {
                let z = |ty| attr(obj, ty).map(|v| Zeroizing::new(v.to_vec()));
                let c = RsaPrivateComponents {
                    n: attr(obj, CKA_MODULUS)?.to_vec(),
                    e: attr(obj, CKA_PUBLIC_EXPONENT)?.to_vec(),
                    d: z(CKA_PRIVATE_EXPONENT)?,
                    p: z(CKA_PRIME_1)?,
                    q: z(CKA_PRIME_2)?,
                    dp: z(CKA_EXPONENT_1)?,
                    dq: z(CKA_EXPONENT_2)?,
                    qinv: z(CKA_COEFFICIENT)?,
                };
                RsaPrivateKey::from_components(&c)
                    .map(|k| Self::RsaPrivate(Box::new(k)))
                    .map_err(|err| match err {
                        strongroom_crypto::Error::KeySize => e::key_size_range(),
                        _ => invalid(CKA_MODULUS, "the RSA components are inconsistent"),
                    })
            }
            (CKO_PUBLIC_KEY, CKK_RSA) => {
                RsaPublicKey::new(attr(obj, CKA_MODULUS)?, attr(obj, CKA_PUBLIC_EXPONENT)?)
                    .map(Self::RsaPublic)
                    .map_err(|err| match err {
                        strongroom_crypto::Error::KeySize => e::key_size_range(),
                        _ => invalid(CKA_PUBLIC_EXPONENT, "not a usable RSA public key"),
                    })
            }
            (class, _) => {
                let curve = curve_of(attr(obj, CKA_EC_PARAMS)?)?;
                let private = class == CKO_PRIVATE_KEY;
                match (curve, private) {
                    (CurveKind::Nist(c), true) => {
                        EcPrivateKey::from_scalar(c, attr(obj, CKA_VALUE)?)
                            .map(Self::EcPrivate)
                            .map_err(|_| invalid(CKA_VALUE, "not a private key of this curve"))
                    }
                    (CurveKind::Nist(c), false) => {
                        let p = point_bytes(attr(obj, CKA_EC_POINT)?, c.point_len());
                        EcPublicKey::from_point(c, p)
                            .map(Self::EcPublic)
                            .map_err(|_| {
                                invalid(CKA_EC_POINT, "not an uncompressed point on the curve")
                            })
                    }
                    (CurveKind::Ed25519, true) => {
                        Ed25519PrivateKey::from_seed(attr(obj, CKA_VALUE)?)
                            .map(Self::EdPrivate)
                            .map_err(|_| invalid(CKA_VALUE, "an Ed25519 key is 32 bytes"))
                    }
                    (CurveKind::Ed25519, false) => Ok(Self::EdPublic(curve25519_key(
                        attr(obj, CKA_EC_POINT)?,
                        CKA_EC_POINT,
                    )?)),
                    (CurveKind::X25519, true) => {
                        X25519PrivateKey::from_bytes(attr(obj, CKA_VALUE)?)
                            .map(Self::XPrivate)
                            .map_err(|_| invalid(CKA_VALUE, "an X25519 key is 32 bytes"))
                    }
                    (CurveKind::X25519, false) => Ok(Self::XPublic(curve25519_key(
                        attr(obj, CKA_EC_POINT)?,
                        CKA_EC_POINT,
                    )?)),
                }
            }
        }
    }

    /// The key's size in `CK_MECHANISM_INFO` units: bits for RSA and curves, bytes for
    /// secret keys.
    pub(crate) fn size(&self) -> u64 {
        let n = match self {
            Self::Aes(k) => k.len(),
            Self::Secret(k) => k.len(),
            Self::RsaPrivate(k) => k.modulus_bits(),
            Self::RsaPublic(k) => k.modulus_bits(),
            Self::EcPrivate(k) => k.curve().bits(),
            Self::EcPublic(k) => k.curve().bits(),
            Self::EdPrivate(_) | Self::EdPublic(_) | Self::XPrivate(_) | Self::XPublic(_) => 255,
        };
        u64::try_from(n).unwrap_or(u64::MAX)
    }

    /// The secret bytes of a symmetric key (for HMAC, KDFs and wrapping).
    pub(crate) fn secret_bytes(&self) -> Option<&[u8]> {
        match self {
            Self::Aes(k) => Some(k.as_bytes()),
            Self::Secret(k) => Some(k.as_bytes()),
            _ => None,
        }
    }

    /// What `C_WrapKey` encrypts: a secret key's value, or a private key as PKCS#8.
    pub(crate) fn wrap_form(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        Ok(match self {
            Self::Aes(k) => Zeroizing::new(k.as_bytes().to_vec()),
            Self::Secret(k) => Zeroizing::new(k.as_bytes().to_vec()),
            Self::RsaPrivate(k) => k.to_pkcs8(),
            Self::EcPrivate(k) => k.to_pkcs8().map_err(|_| e::internal("PKCS#8 encoding"))?,
            Self::EdPrivate(k) => Zeroizing::new([ED25519_PKCS8_PREFIX, k.seed()].concat()),
            Self::XPrivate(k) => Zeroizing::new([X25519_PKCS8_PREFIX, k.as_bytes()].concat()),
            Self::RsaPublic(_) | Self::EcPublic(_) | Self::EdPublic(_) | Self::XPublic(_) => {
                return Err(e::key_not_wrappable("public keys are not wrapped"));
            }
        })
    }
}

/// Key check value (PKCS#11 v3.0 4.10): AES, the first three bytes of the encryption of a zero
/// block; other secret keys, the first three bytes of SHA-1 of the value.
pub(crate) fn check_value(key_type: u64, value: &[u8]) -> Option<Vec<u8>> {
    let full = if key_type == CKK_AES {
        let k = AesKey::new(value).ok()?;
        strongroom_crypto::aes_encrypt(&k, strongroom_crypto::AesMode::Ecb, &[0u8; 16]).ok()?
    } else {
        strongroom_crypto::digest(HashAlg::Sha1, value)
    };
    full.get(..3).map(<[u8]>::to_vec)
}

/// The attributes a mechanism contributes to a new secret key of `key_type` with `value`.
pub(crate) fn secret_key_material(key_type: u64, value: &[u8]) -> Result<Template, Error> {
    let mut attrs = vec![
        Attribute::from_ulong(CKA_CLASS, CKO_SECRET_KEY),
        Attribute::from_ulong(CKA_KEY_TYPE, key_type),
        Attribute::new(CKA_VALUE, value.to_vec()),
    ];
    if let Some(kcv) = check_value(key_type, value) {
        attrs.push(Attribute::new(CKA_CHECK_VALUE, kcv));
    }
    Template::new(attrs)
}

/// The attributes of a private key (what `C_GenerateKeyPair` and `C_UnwrapKey` contribute).
/// `ec_params` is the `CKA_EC_PARAMS` value to record for curve keys.
pub(crate) fn private_key_material(
    key: &KeyMaterial,
    ec_params: Option<&[u8]>,
) -> Result<Template, Error> {
    let class = Attribute::from_ulong(CKA_CLASS, CKO_PRIVATE_KEY);
    let kt = |t| Attribute::from_ulong(CKA_KEY_TYPE, t);
    let attrs = match key {
        KeyMaterial::RsaPrivate(k) => {
            let c = k.components();
            vec![
                class,
                kt(CKK_RSA),
                Attribute::new(CKA_MODULUS, c.n.clone()),
                Attribute::new(CKA_PUBLIC_EXPONENT, c.e.clone()),
                Attribute::new(CKA_PRIVATE_EXPONENT, c.d.to_vec()),
                Attribute::new(CKA_PRIME_1, c.p.to_vec()),
                Attribute::new(CKA_PRIME_2, c.q.to_vec()),
                Attribute::new(CKA_EXPONENT_1, c.dp.to_vec()),
                Attribute::new(CKA_EXPONENT_2, c.dq.to_vec()),
                Attribute::new(CKA_COEFFICIENT, c.qinv.to_vec()),
            ]
        }
        KeyMaterial::EcPrivate(k) => {
            let params = ec_params.unwrap_or(k.curve().oid_der());
            let scalar = k.scalar().map_err(|_| e::internal("EC scalar export"))?;
            vec![
                class,
                kt(CKK_EC),
                Attribute::new(CKA_EC_PARAMS, params.to_vec()),
                Attribute::new(CKA_VALUE, scalar.to_vec()),
            ]
        }
        KeyMaterial::EdPrivate(k) => vec![
            class,
            kt(CKK_EC_EDWARDS),
            Attribute::new(CKA_EC_PARAMS, ec_params.unwrap_or(ED25519_OID).to_vec()),
            Attribute::new(CKA_VALUE, k.seed().to_vec()),
        ],
        KeyMaterial::XPrivate(k) => vec![
            class,
            kt(CKK_EC_MONTGOMERY),
            Attribute::new(CKA_EC_PARAMS, ec_params.unwrap_or(X25519_OID).to_vec()),
            Attribute::new(CKA_VALUE, k.as_bytes().to_vec()),
        ],
        _ => return Err(e::internal("not a private key")),
    };
    Template::new(attrs)
}

/// The attributes of a generated public key (`CKA_EC_PARAMS` and `CKA_MODULUS_BITS` come from
/// the application's template, which must give them).
pub(crate) fn public_key_material(key: &KeyMaterial) -> Result<Template, Error> {
    let class = Attribute::from_ulong(CKA_CLASS, CKO_PUBLIC_KEY);
    let kt = |t| Attribute::from_ulong(CKA_KEY_TYPE, t);
    let attrs = match key {
        KeyMaterial::RsaPublic(k) => vec![
            class,
            kt(CKK_RSA),
            Attribute::new(CKA_MODULUS, k.modulus().to_vec()),
            Attribute::new(CKA_PUBLIC_EXPONENT, k.exponent().to_vec()),
        ],
        KeyMaterial::EcPublic(k) => vec![
            class,
            kt(CKK_EC),
            Attribute::new(CKA_EC_POINT, der_octet_string(k.point())),
        ],
        KeyMaterial::EdPublic(p) => vec![
            class,
            kt(CKK_EC_EDWARDS),
            Attribute::new(CKA_EC_POINT, der_octet_string(p)),
        ],
        KeyMaterial::XPublic(p) => vec![
            class,
            kt(CKK_EC_MONTGOMERY),
            Attribute::new(CKA_EC_POINT, der_octet_string(p)),
        ],
        _ => return Err(e::internal("not a public key")),
    };
    Template::new(attrs)
}

/// Reads an unwrapped PKCS#8 private key of type `key_type`; `CKR_WRAPPED_KEY_INVALID` if it
/// is not one.
pub(crate) fn private_key_from_pkcs8(key_type: u64, der: &[u8]) -> Result<KeyMaterial, Error> {
    let bad = || e::wrapped_key_invalid();
    match key_type {
        CKK_RSA => RsaPrivateKey::from_pkcs8(der)
            .map(|k| KeyMaterial::RsaPrivate(Box::new(k)))
            .map_err(|_| bad()),
        CKK_EC => Curve::ALL
            .into_iter()
            .find_map(|c| EcPrivateKey::from_pkcs8(c, der).ok())
            .map(KeyMaterial::EcPrivate)
            .ok_or_else(bad),
        CKK_EC_EDWARDS => der
            .strip_prefix(ED25519_PKCS8_PREFIX)
            .and_then(|seed| Ed25519PrivateKey::from_seed(seed).ok())
            .map(KeyMaterial::EdPrivate)
            .ok_or_else(bad),
        CKK_EC_MONTGOMERY => der
            .strip_prefix(X25519_PKCS8_PREFIX)
            .and_then(|k| X25519PrivateKey::from_bytes(k).ok())
            .map(KeyMaterial::XPrivate)
            .ok_or_else(bad),
        _ => Err(e::template_inconsistent(
            CKA_KEY_TYPE,
            "not a private key type this module unwraps",
        )),
    }
}

/// The public half of a private key's material (what a generated pair's public key caches).
pub(crate) fn public_half(key: &KeyMaterial) -> Result<KeyMaterial, Error> {
    Ok(match key {
        KeyMaterial::RsaPrivate(k) => KeyMaterial::RsaPublic(
            RsaPublicKey::new(k.public_key().modulus(), k.public_key().exponent())
                .map_err(|_| e::internal("RSA public key"))?,
        ),
        KeyMaterial::EcPrivate(k) => KeyMaterial::EcPublic(k.public_key()),
        KeyMaterial::EdPrivate(k) => KeyMaterial::EdPublic(k.public_key()),
        KeyMaterial::XPrivate(k) => KeyMaterial::XPublic(
            k.public_key()
                .map_err(|_| e::internal("X25519 public key"))?,
        ),
        _ => return Err(e::internal("not a private key")),
    })
}
