//! Fixtures for the token layer: an initialized partition with all four roles created and
//! their first passwords changed, accesses logged in as each role, and template helpers.

use cryptoki_sys::*;
use strongroom_module::{
    AccessId, Attribute, Error, Mechanism, ObjectHandle, Output, PartitionInitRequest,
    PartitionRole, PartitionSize, RetCode, SessionHandle, Template,
};

use super::{Hsm, initialized, initialized_with, secret};

pub(crate) const PSO_PW: &str = "Part-SO-pass1";
pub(crate) const CO_PW: &str = "Crypto-Officer-1";
pub(crate) const LCO_PW: &str = "Limited-Officer-1";
pub(crate) const CU_PW: &str = "Crypto-User-01";
/// The first password each role gets, changed at first login.
const FIRST: &str = "first-password-1";

pub(crate) const PSO: PartitionRole = PartitionRole::So;
pub(crate) const CO: PartitionRole = PartitionRole::CryptoOfficer;
pub(crate) const LCO: PartitionRole = PartitionRole::LimitedCryptoOfficer;
pub(crate) const CU: PartitionRole = PartitionRole::CryptoUser;

/// A module with one initialized partition whose roles all exist.
pub(crate) struct Part {
    pub(crate) hsm: Hsm,
    pub(crate) serial: u64,
    /// An access with the HSM SO logged in.
    pub(crate) so: AccessId,
}

pub(crate) fn password(role: PartitionRole) -> &'static str {
    match role {
        PartitionRole::So => PSO_PW,
        PartitionRole::CryptoOfficer => CO_PW,
        PartitionRole::LimitedCryptoOfficer => LCO_PW,
        _ => CU_PW,
    }
}

/// [`part_with`] with the default configuration and policies.
pub(crate) fn part() -> Part {
    part_with(initialized(), &[], PartitionSize::Default)
}

/// A partition of `size` on `hsm`, after HSM policies `hsm_policies` were set; the Partition
/// SO, Crypto Officer, Limited Crypto Officer and Crypto User exist with [`password`]s.
pub(crate) fn part_with(mut hsm: Hsm, hsm_policies: &[(u8, u32)], size: PartitionSize) -> Part {
    let so = hsm.login();
    for (p, v) in hsm_policies {
        hsm.change_policy(so, *p, *v).expect("HSM policy");
    }
    let serial = hsm
        .partition_create(so, "tok", size, 0)
        .expect("partition")
        .serial;
    let a = hsm.open_access();
    hsm.partition_init(
        a,
        serial,
        PartitionInitRequest {
            label: "Token One".into(),
            so_password: secret(PSO_PW),
            domain: secret("token-domain"),
            current_so_password: None,
        },
    )
    .expect("partition init");
    hsm.role_login(a, serial, PSO, &secret(PSO_PW))
        .expect("PSO login");
    for r in [CO, LCO] {
        hsm.role_init(a, serial, r, &secret(FIRST))
            .expect("role init");
    }
    hsm.role_logout(a, serial).expect("logout");
    change_first(&mut hsm, a, serial, CO);
    hsm.role_login(a, serial, CO, &secret(CO_PW))
        .expect("CO login");
    hsm.role_init(a, serial, CU, &secret(FIRST))
        .expect("CU init");
    hsm.role_logout(a, serial).expect("logout");
    change_first(&mut hsm, a, serial, LCO);
    change_first(&mut hsm, a, serial, CU);
    hsm.close_access(a);
    Part { hsm, serial, so }
}

fn change_first(hsm: &mut Hsm, a: AccessId, serial: u64, role: PartitionRole) {
    hsm.role_login(a, serial, role, &secret(FIRST))
        .expect("first login");
    hsm.role_change_password(a, serial, &secret(FIRST), &secret(password(role)))
        .expect("change password");
    hsm.role_logout(a, serial).expect("logout");
}

/// A partition as [`part`], on a module with `hsm_policies` set.
pub(crate) fn part_policies(hsm_policies: &[(u8, u32)]) -> Part {
    part_with(initialized(), hsm_policies, PartitionSize::Default)
}

/// A partition of `size` bytes.
pub(crate) fn part_sized(size: u64) -> Part {
    part_with(
        initialized_with(super::config()),
        &[],
        PartitionSize::Bytes(size),
    )
}

impl Part {
    /// A new access logged in as `role` (`None`: nobody).
    pub(crate) fn access(&mut self, role: Option<PartitionRole>) -> AccessId {
        let a = self.hsm.open_access();
        if let Some(r) = role {
            self.hsm
                .role_login(a, self.serial, r, &secret(password(r)))
                .expect("role login");
        }
        a
    }

    /// A new access logged in as `role` with a read/write session.
    pub(crate) fn rw(&mut self, role: Option<PartitionRole>) -> (AccessId, SessionHandle) {
        let a = self.access(role);
        let s = self
            .hsm
            .open_session(a, self.serial, true)
            .expect("session");
        (a, s)
    }

    /// Sets a partition policy as the Partition SO.
    pub(crate) fn partition_policy(&mut self, id: u8, value: u32) {
        let a = self.access(Some(PSO));
        self.hsm
            .partition_change_policy(a, self.serial, id, value)
            .expect("partition policy");
        self.hsm.close_access(a);
    }

    /// Kills and restarts the module; every access and session is gone.
    pub(crate) fn reopen(self) -> Part {
        let Part { hsm, serial, .. } = self;
        let mut hsm = hsm.reopen();
        let so = hsm.login();
        Part { hsm, serial, so }
    }

    /// Creates an object, panicking on refusal.
    pub(crate) fn create(
        &mut self,
        a: AccessId,
        s: SessionHandle,
        attrs: Vec<Attribute>,
    ) -> ObjectHandle {
        self.hsm
            .create_object(a, s, &tpl(attrs))
            .unwrap_or_else(|e| panic!("create: {e}"))
    }

    /// One attribute's value.
    pub(crate) fn attr(&self, a: AccessId, s: SessionHandle, h: ObjectHandle, ty: u64) -> Vec<u8> {
        match self
            .hsm
            .get_attribute_value(a, s, h, &[ty])
            .expect("get attribute")
            .pop()
        {
            Some(strongroom_module::AttrResult::Value(v)) => v,
            other => panic!("attribute {ty:#x}: {other:?}"),
        }
    }

    /// Signs `data` in one part.
    pub(crate) fn sign(
        &self,
        a: AccessId,
        s: SessionHandle,
        m: &Mechanism,
        key: ObjectHandle,
        data: &[u8],
    ) -> Vec<u8> {
        self.hsm.sign_init(a, s, m, key).expect("sign init");
        data_of(self.hsm.sign(a, s, data, Some(1 << 16)))
    }

    /// Encrypts `data` in one part.
    pub(crate) fn encrypt(
        &self,
        a: AccessId,
        s: SessionHandle,
        m: &Mechanism,
        key: ObjectHandle,
        data: &[u8],
    ) -> Vec<u8> {
        self.hsm.encrypt_init(a, s, m, key).expect("encrypt init");
        data_of(self.hsm.encrypt(a, s, data, Some(1 << 20)))
    }

    /// Decrypts `data` in one part.
    pub(crate) fn decrypt(
        &self,
        a: AccessId,
        s: SessionHandle,
        m: &Mechanism,
        key: ObjectHandle,
        data: &[u8],
    ) -> Vec<u8> {
        self.hsm.decrypt_init(a, s, m, key).expect("decrypt init");
        data_of(self.hsm.decrypt(a, s, data, Some(1 << 20)))
    }
}

/// The bytes of an output, panicking on anything else.
#[track_caller]
pub(crate) fn data_of(r: Result<Output, Error>) -> Vec<u8> {
    match r {
        Ok(Output::Data(d)) => d,
        Ok(other) => panic!("expected data, got {other:?}"),
        Err(e) => panic!("expected data, got {e}"),
    }
}

/// The code of a refusal.
#[track_caller]
pub(crate) fn code<T>(r: Result<T, Error>) -> RetCode {
    match r {
        Ok(_) => panic!("expected a refusal"),
        Err(e) => e.code(),
    }
}

pub(crate) fn tpl(attrs: Vec<Attribute>) -> Template {
    Template::new(attrs).expect("no duplicates")
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

/// A data object.
pub(crate) fn data(label: &str, private: bool, token: bool) -> Vec<Attribute> {
    vec![
        u(CKA_CLASS, CKO_DATA),
        raw(CKA_LABEL, label.as_bytes()),
        raw(CKA_VALUE, b"some application data"),
        b(CKA_PRIVATE, private),
        b(CKA_TOKEN, token),
    ]
}

/// An AES key with `value`.
pub(crate) fn aes(value: &[u8], token: bool) -> Vec<Attribute> {
    vec![
        u(CKA_CLASS, CKO_SECRET_KEY),
        u(CKA_KEY_TYPE, CKK_AES),
        raw(CKA_VALUE, value),
        b(CKA_TOKEN, token),
    ]
}

/// A template for `C_GenerateKey` of an AES key of `len` bytes.
pub(crate) fn aes_gen(len: u64, token: bool) -> Vec<Attribute> {
    vec![
        u(CKA_CLASS, CKO_SECRET_KEY),
        u(CKA_KEY_TYPE, CKK_AES),
        u(CKA_VALUE_LEN, len),
        b(CKA_TOKEN, token),
    ]
}

/// DER of the P-256 OID.
pub(crate) const P256: &[u8] = &[0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
/// DER of the P-384 OID.
pub(crate) const P384: &[u8] = &[0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22];
/// DER of the P-521 OID.
pub(crate) const P521: &[u8] = &[0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x23];
/// DER of the Ed25519 OID.
pub(crate) const ED25519: &[u8] = &[0x06, 0x03, 0x2B, 0x65, 0x70];
/// DER of the X25519 OID.
pub(crate) const X25519: &[u8] = &[0x06, 0x03, 0x2B, 0x65, 0x6E];

/// Generates a key pair, panicking on refusal.
pub(crate) fn pair(
    p: &mut Part,
    a: AccessId,
    s: SessionHandle,
    m: Mechanism,
    public: Vec<Attribute>,
    private: Vec<Attribute>,
) -> (ObjectHandle, ObjectHandle) {
    p.hsm
        .generate_key_pair(a, s, &m, &tpl(public), &tpl(private))
        .unwrap_or_else(|e| panic!("generate key pair: {e}"))
}

/// The raw point inside a `CKA_EC_POINT` DER OCTET STRING.
pub(crate) fn point(der: &[u8]) -> Vec<u8> {
    match der {
        [0x04, 0x81, n, rest @ ..] if usize::from(*n) == rest.len() => rest.to_vec(),
        [0x04, n, rest @ ..] if usize::from(*n) == rest.len() => rest.to_vec(),
        _ => panic!("not a DER OCTET STRING"),
    }
}

/// Hex to bytes.
pub(crate) fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}
