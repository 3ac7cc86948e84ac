//! The few DER structures the crate reads and writes itself: PKCS#8 `PrivateKeyInfo` around a
//! PKCS#1 `RSAPrivateKey` (aws-lc-rs exports PKCS#8 but not the components inside).
//!
//! ```text
//! PrivateKeyInfo ::= SEQUENCE {            RSAPrivateKey ::= SEQUENCE {
//!   version             INTEGER (0),         version INTEGER (0),
//!   privateKeyAlgorithm SEQUENCE {           n, e, d, p, q, dp, dq, qinv INTEGER }
//!     OID rsaEncryption, NULL },
//!   privateKey          OCTET STRING,   -- holds the RSAPrivateKey DER
//!   attributes      [0] IMPLICIT … OPTIONAL }
//! ```

use zeroize::Zeroizing;

use crate::Error;

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const NULL: u8 = 0x05;
/// 1.2.840.113549.1.1.1
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// A cursor over DER input that accepts only definite, minimal lengths.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Reads one element with tag `tag` and returns its contents.
    pub(crate) fn read(&mut self, tag: u8) -> Result<&'a [u8], Error> {
        let (&t, rest) = self.data.split_first().ok_or(Error::KeyInvalid)?;
        if t != tag {
            return Err(Error::KeyInvalid);
        }
        let (&l0, mut rest) = rest.split_first().ok_or(Error::KeyInvalid)?;
        let len = if l0 < 0x80 {
            usize::from(l0)
        } else {
            let n = usize::from(l0 & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return Err(Error::KeyInvalid);
            }
            let mut len = 0usize;
            for &b in &rest[..n] {
                len = (len << 8) | usize::from(b);
            }
            // Minimal: long form only for ≥ 128, no leading zero length byte.
            if len < 0x80 || rest[0] == 0 {
                return Err(Error::KeyInvalid);
            }
            rest = &rest[n..];
            len
        };
        if rest.len() < len {
            return Err(Error::KeyInvalid);
        }
        let (body, rest) = rest.split_at(len);
        self.data = rest;
        Ok(body)
    }

    /// Reads a non-negative INTEGER and returns its magnitude without leading zeros.
    pub(crate) fn read_uint(&mut self) -> Result<&'a [u8], Error> {
        let body = self.read(INTEGER)?;
        match body {
            [] => Err(Error::KeyInvalid),
            [b, ..] if b & 0x80 != 0 => Err(Error::KeyInvalid),
            [0, b, ..] if b & 0x80 == 0 => Err(Error::KeyInvalid),
            [0, rest @ ..] => Ok(rest),
            _ => Ok(body),
        }
    }
}

/// The nine integers of an RSAPrivateKey, minus the version.
pub(crate) type RsaParts = [Zeroizing<Vec<u8>>; 8];

/// Parses PKCS#8 around an RSA private key.
pub(crate) fn parse_rsa_pkcs8(der: &[u8]) -> Result<RsaParts, Error> {
    let mut outer = Reader::new(der);
    let mut pki = Reader::new(outer.read(SEQUENCE)?);
    if !outer.is_empty() || !pki.read_uint()?.is_empty() {
        return Err(Error::KeyInvalid);
    }
    let mut alg = Reader::new(pki.read(SEQUENCE)?);
    if alg.read(OID)? != RSA_ENCRYPTION {
        return Err(Error::KeyInvalid);
    }
    if !alg.is_empty() && (!alg.read(NULL)?.is_empty() || !alg.is_empty()) {
        return Err(Error::KeyInvalid);
    }
    let rsa = pki.read(OCTET_STRING)?;
    // Optional [0] attributes are ignored.
    let mut seq = Reader::new(rsa);
    let mut key = Reader::new(seq.read(SEQUENCE)?);
    if !seq.is_empty() || !key.read_uint()?.is_empty() {
        return Err(Error::KeyInvalid);
    }
    let mut part =
        || -> Result<Zeroizing<Vec<u8>>, Error> { Ok(Zeroizing::new(key.read_uint()?.to_vec())) };
    let parts = [
        part()?,
        part()?,
        part()?,
        part()?,
        part()?,
        part()?,
        part()?,
        part()?,
    ];
    if !key.is_empty() {
        return Err(Error::KeyInvalid);
    }
    Ok(parts)
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap_or(0));
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    let n = bytes.len() - skip;
    out.push(0x80 | u8::try_from(n).unwrap_or(0));
    out.extend_from_slice(&bytes[skip..]);
}

fn push_tlv(out: &mut Vec<u8>, tag: u8, body: &[u8]) {
    out.push(tag);
    push_len(out, body.len());
    out.extend_from_slice(body);
}

fn push_uint(out: &mut Vec<u8>, magnitude: &[u8]) {
    let skip = magnitude.iter().take_while(|&&b| b == 0).count();
    let m = &magnitude[skip..];
    let mut body = Zeroizing::new(Vec::with_capacity(m.len() + 1));
    if m.first().is_none_or(|b| b & 0x80 != 0) {
        body.push(0);
    }
    body.extend_from_slice(m);
    push_tlv(out, INTEGER, &body);
}

/// Encodes PKCS#8 around an RSA private key from its components (n, e, d, p, q, dp, dq, qinv).
pub(crate) fn encode_rsa_pkcs8(parts: [&[u8]; 8]) -> Zeroizing<Vec<u8>> {
    let mut key = Zeroizing::new(Vec::new());
    push_uint(&mut key, &[0]);
    for p in parts {
        push_uint(&mut key, p);
    }
    let mut rsa = Zeroizing::new(Vec::new());
    push_tlv(&mut rsa, SEQUENCE, &key);
    let mut pki = Zeroizing::new(Vec::new());
    push_uint(&mut pki, &[0]);
    let mut alg = Vec::new();
    push_tlv(&mut alg, OID, RSA_ENCRYPTION);
    push_tlv(&mut alg, NULL, &[]);
    push_tlv(&mut pki, SEQUENCE, &alg);
    push_tlv(&mut pki, OCTET_STRING, &rsa);
    let mut out = Zeroizing::new(Vec::new());
    push_tlv(&mut out, SEQUENCE, &pki);
    out
}
