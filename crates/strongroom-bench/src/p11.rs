//! Measuring a PKCS#11 module through the `cryptoki` crate: the keys are made once, then each
//! worker thread runs the operation in its own session (or all share one).

use std::sync::{Arc, Mutex, MutexGuard};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;

use crate::ops::{AesMode, Op, RsaPad};
use crate::runner::{Target, Worker};

/// DER of the Ed25519 object identifier (RFC 8410), as `CKA_EC_PARAMS`.
const ED25519_OID: &[u8] = &[0x06, 0x03, 0x2B, 0x65, 0x70];
/// The fixed GCM IV of the measured operations (the key never leaves the run).
const GCM_IV: [u8; 12] = [7; 12];
const CBC_IV: [u8; 16] = [9; 16];
/// Labels of the objects `find-label` searches among.
const FIND_PREFIX: &str = "strongroom-bench-object-";

/// How the module is logged in.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Role {
    /// `CKU_USER`.
    User,
    /// `CKU_SO`.
    So,
    /// A vendor user type.
    Vendor(u32),
}

/// What the run is told about the module.
#[derive(Clone, Debug)]
pub(crate) struct ModuleOptions {
    pub(crate) path: String,
    pub(crate) slot: Option<u64>,
    pub(crate) token_label: Option<String>,
    pub(crate) pin: Option<String>,
    pub(crate) role: Role,
    pub(crate) key_on_token: bool,
    pub(crate) shared_session: bool,
    pub(crate) objects: usize,
}

fn ck(what: &str) -> impl Fn(CkError) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// The keys and precomputed inputs of one run.
#[derive(Debug, Default)]
struct Keys {
    private: Option<ObjectHandle>,
    public: Option<ObjectHandle>,
    secret: Option<ObjectHandle>,
    /// A signature (verify operations) or a ciphertext (decrypt operations).
    input: Vec<u8>,
    /// Token objects made for this run, destroyed at its end.
    made_on_token: Vec<ObjectHandle>,
}

/// A PKCS#11 module prepared for one operation.
pub(crate) struct P11Target {
    name: String,
    op: Op,
    size: usize,
    objects: usize,
    ctx: Pkcs11,
    slot: Slot,
    /// The session that logged in and made the keys: it lives as long as the run (session
    /// objects die with the session that made them).
    setup: Mutex<Session>,
    shared: Option<Arc<Mutex<Session>>>,
    keys: Arc<Keys>,
}

impl std::fmt::Debug for P11Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("P11Target")
            .field("name", &self.name)
            .field("op", &self.op)
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn find_slot(ctx: &Pkcs11, opts: &ModuleOptions) -> Result<Slot, String> {
    let slots = ctx.get_slots_with_token().map_err(ck("C_GetSlotList"))?;
    if let Some(id) = opts.slot {
        return slots
            .into_iter()
            .find(|s| s.id() == id)
            .ok_or_else(|| format!("no slot {id} with a token in {}", opts.path));
    }
    if let Some(label) = &opts.token_label {
        for s in slots {
            let info = ctx.get_token_info(s).map_err(ck("C_GetTokenInfo"))?;
            if info.label().trim_end() == label {
                return Ok(s);
            }
        }
        return Err(format!("no token labelled '{label}' in {}", opts.path));
    }
    slots
        .into_iter()
        .next()
        .ok_or_else(|| format!("no slot with a token in {}", opts.path))
}

fn login(session: &Session, opts: &ModuleOptions) -> Result<(), String> {
    let Some(pin) = &opts.pin else {
        return Ok(());
    };
    let pin = AuthPin::from(pin.clone());
    let user = match opts.role {
        Role::User => UserType::User,
        Role::So => UserType::So,
        Role::Vendor(t) => UserType::VendorExtension(t),
    };
    match session.login(user, Some(&pin)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(e) => Err(format!("C_Login: {e}")),
    }
}

/// The signature or cipher mechanism of `op`; `iv` backs a GCM IV.
fn mechanism(op: Op, iv: &mut [u8; 12]) -> Result<Mechanism<'_>, String> {
    let pss = || PkcsPssParams {
        hash_alg: cryptoki::mechanism::MechanismType::SHA256,
        mgf: PkcsMgfType::MGF1_SHA256,
        s_len: 32.into(),
    };
    Ok(match op {
        Op::RsaSign(_, RsaPad::Pkcs1) | Op::RsaVerify(_, RsaPad::Pkcs1) => Mechanism::Sha256RsaPkcs,
        Op::RsaSign(_, RsaPad::Pss) | Op::RsaVerify(_, RsaPad::Pss) => {
            Mechanism::Sha256RsaPkcsPss(pss())
        }
        // Applications (TLS servers through libp11, for one) hash themselves and sign the
        // digest: `data` is a SHA-256 or SHA-384 sized digest.
        Op::EcdsaSign(_) | Op::EcdsaVerify(_) => Mechanism::Ecdsa,
        Op::Ed25519Sign => Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
        Op::AesEncrypt(AesMode::Gcm) | Op::AesDecrypt(AesMode::Gcm) => {
            Mechanism::AesGcm(GcmParams::new(iv, &[], 128.into()).map_err(ck("GCM parameters"))?)
        }
        Op::AesEncrypt(AesMode::CbcPad) | Op::AesDecrypt(AesMode::CbcPad) => {
            Mechanism::AesCbcPad(CBC_IV)
        }
        Op::HmacSha256 => Mechanism::Sha256Hmac,
        _ => return Err(format!("{op} has no data mechanism")),
    })
}

impl P11Target {
    /// Loads and initializes the module, logs in, and makes the keys `op` needs.
    pub(crate) fn open(opts: &ModuleOptions, op: Op, size: usize) -> Result<Self, String> {
        let ctx = Pkcs11::new(&opts.path).map_err(|e| format!("{}: {e}", opts.path))?;
        ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .map_err(ck("C_Initialize"))?;
        let slot = find_slot(&ctx, opts)?;
        let setup = ctx.open_rw_session(slot).map_err(ck("C_OpenSession"))?;
        login(&setup, opts)?;
        let keys = make_keys(&setup, opts, op, size)?;
        let shared = if opts.shared_session {
            Some(Arc::new(Mutex::new(
                ctx.open_rw_session(slot).map_err(ck("C_OpenSession"))?,
            )))
        } else {
            None
        };
        Ok(Self {
            name: short_name(&opts.path),
            op,
            size,
            objects: opts.objects,
            ctx,
            slot,
            setup: Mutex::new(setup),
            shared,
            keys: Arc::new(keys),
        })
    }
}

/// The module's file name without `lib` and the extension, for tables.
pub(crate) fn short_name(path: &str) -> String {
    let file = std::path::Path::new(path)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(path);
    file.strip_prefix("lib").unwrap_or(file).to_owned()
}

fn make_keys(session: &Session, opts: &ModuleOptions, op: Op, size: usize) -> Result<Keys, String> {
    let token = Attribute::Token(opts.key_on_token);
    let label = Attribute::Label(format!("strongroom-bench-{op}").into_bytes());
    let mut keys = Keys::default();
    let mut iv = GCM_IV;
    let data = vec![0x42u8; size];
    match op {
        Op::RsaSign(bits, _) | Op::RsaVerify(bits, _) => {
            let (public, private) = session
                .generate_key_pair(
                    &Mechanism::RsaPkcsKeyPairGen,
                    &[
                        token.clone(),
                        label.clone(),
                        Attribute::ModulusBits(u64::from(bits).into()),
                        Attribute::PublicExponent(vec![1, 0, 1]),
                        Attribute::Verify(true),
                    ],
                    &[
                        token,
                        label,
                        Attribute::Sign(true),
                        Attribute::Sensitive(true),
                        Attribute::Private(true),
                    ],
                )
                .map_err(ck("C_GenerateKeyPair (RSA)"))?;
            (keys.public, keys.private) = (Some(public), Some(private));
        }
        Op::EcdsaSign(c) | Op::EcdsaVerify(c) => {
            let (public, private) = ec_pair(session, c.oid_der(), &token, &label, false)?;
            (keys.public, keys.private) = (Some(public), Some(private));
        }
        Op::Ed25519Sign => {
            let (public, private) = ec_pair(session, ED25519_OID, &token, &label, true)?;
            (keys.public, keys.private) = (Some(public), Some(private));
        }
        Op::AesEncrypt(_) | Op::AesDecrypt(_) => {
            let key = session
                .generate_key(
                    &Mechanism::AesKeyGen,
                    &[
                        token,
                        label,
                        Attribute::ValueLen(32.into()),
                        Attribute::Encrypt(true),
                        Attribute::Decrypt(true),
                        Attribute::Sensitive(true),
                    ],
                )
                .map_err(ck("C_GenerateKey (AES)"))?;
            keys.secret = Some(key);
        }
        Op::HmacSha256 => {
            let key = session
                .generate_key(
                    &Mechanism::GenericSecretKeyGen,
                    &[
                        token,
                        label,
                        Attribute::Class(ObjectClass::SECRET_KEY),
                        Attribute::KeyType(KeyType::GENERIC_SECRET),
                        Attribute::ValueLen(32.into()),
                        Attribute::Sign(true),
                        Attribute::Verify(true),
                        Attribute::Sensitive(true),
                    ],
                )
                .map_err(ck("C_GenerateKey (generic secret)"))?;
            keys.secret = Some(key);
        }
        Op::FindLabel => ensure_objects(session, opts.objects)?,
        Op::Random | Op::AesKeygen | Op::EcKeygen(_) => {}
    }
    match op {
        Op::RsaVerify(..) | Op::EcdsaVerify(_) => {
            let key = keys.private.ok_or("no private key")?;
            keys.input = session
                .sign(&mechanism(op, &mut iv)?, key, &data)
                .map_err(ck("C_Sign"))?;
        }
        Op::AesDecrypt(_) => {
            let key = keys.secret.ok_or("no secret key")?;
            keys.input = session
                .encrypt(&mechanism(op, &mut iv)?, key, &data)
                .map_err(ck("C_Encrypt"))?;
        }
        _ => {}
    }
    if opts.key_on_token {
        keys.made_on_token = [keys.private, keys.public, keys.secret]
            .into_iter()
            .flatten()
            .collect();
    }
    Ok(keys)
}

fn ec_pair(
    session: &Session,
    params: &[u8],
    token: &Attribute,
    label: &Attribute,
    edwards: bool,
) -> Result<(ObjectHandle, ObjectHandle), String> {
    let mech = if edwards {
        Mechanism::EccEdwardsKeyPairGen
    } else {
        Mechanism::EccKeyPairGen
    };
    session
        .generate_key_pair(
            &mech,
            &[
                token.clone(),
                label.clone(),
                Attribute::EcParams(params.to_vec()),
                Attribute::Verify(true),
            ],
            &[
                token.clone(),
                label.clone(),
                Attribute::Sign(true),
                Attribute::Sensitive(true),
                Attribute::Private(true),
            ],
        )
        .map_err(ck("C_GenerateKeyPair (EC)"))
}

/// Makes `count` token data objects labelled `FIND_PREFIX0..`, unless the last one exists
/// already (a previous run made them).
fn ensure_objects(session: &Session, count: usize) -> Result<(), String> {
    let last = format!("{FIND_PREFIX}{}", count.saturating_sub(1));
    let found = session
        .find_objects(&[Attribute::Label(last.into_bytes())])
        .map_err(ck("C_FindObjects"))?;
    if !found.is_empty() {
        return Ok(());
    }
    eprintln!("creating {count} token objects for find-label ...");
    for i in 0..count {
        session
            .create_object(&[
                Attribute::Class(ObjectClass::DATA),
                Attribute::Token(true),
                Attribute::Private(false),
                Attribute::Label(format!("{FIND_PREFIX}{i}").into_bytes()),
                Attribute::Value(vec![0x5A; 32]),
            ])
            .map_err(ck("C_CreateObject"))?;
        if (i + 1).is_multiple_of(1000) {
            eprint!("\r  {} / {count}", i + 1);
        }
    }
    eprintln!();
    Ok(())
}

impl Target for P11Target {
    fn name(&self) -> &str {
        &self.name
    }

    fn worker(&self, index: usize) -> Result<Box<dyn Worker>, String> {
        let session = match &self.shared {
            Some(s) => SessionRef::Shared(s.clone()),
            None => SessionRef::Own(
                self.ctx
                    .open_rw_session(self.slot)
                    .map_err(ck("C_OpenSession"))?,
            ),
        };
        Ok(Box::new(P11Worker {
            session,
            op: self.op,
            keys: self.keys.clone(),
            data: vec![0x42; self.size],
            iv: worker_iv(index),
            objects: self.objects.max(1),
            seed: 0x9E37_79B9_7F4A_7C15 ^ (index as u64 + 1),
        }))
    }

    fn finish(&self) {
        let setup = lock(&self.setup);
        for h in &self.keys.made_on_token {
            let _ = setup.destroy_object(*h);
        }
    }
}

enum SessionRef {
    Own(Session),
    Shared(Arc<Mutex<Session>>),
}

struct P11Worker {
    session: SessionRef,
    op: Op,
    keys: Arc<Keys>,
    data: Vec<u8>,
    iv: [u8; 12],
    objects: usize,
    seed: u64,
}

impl P11Worker {
    fn next_index(&mut self) -> usize {
        // xorshift64: spreads the searched labels; not for security.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        usize::try_from(self.seed % self.objects as u64).unwrap_or(0)
    }
}

/// The first GCM IV of worker `index` (decryption always uses [`GCM_IV`]).
fn worker_iv(index: usize) -> [u8; 12] {
    let mut iv = [0u8; 12];
    iv[..4].copy_from_slice(&u32::try_from(index).unwrap_or(u32::MAX).to_le_bytes());
    iv
}

/// Advances the counter in the last 8 bytes of `iv`.
fn next_iv(iv: &mut [u8; 12]) {
    let mut counter = [0u8; 8];
    counter.copy_from_slice(&iv[4..]);
    iv[4..].copy_from_slice(&u64::from_le_bytes(counter).wrapping_add(1).to_le_bytes());
}

fn once(
    session: &Session,
    op: Op,
    keys: &Keys,
    data: &[u8],
    iv: &mut [u8; 12],
    find: Option<usize>,
) -> Result<(), String> {
    let key = |k: Option<ObjectHandle>| k.ok_or_else(|| "no key".to_owned());
    match op {
        Op::RsaSign(..) | Op::EcdsaSign(_) | Op::Ed25519Sign | Op::HmacSha256 => {
            let k = key(keys.private.or(keys.secret))?;
            session
                .sign(&mechanism(op, iv)?, k, data)
                .map(drop)
                .map_err(ck("C_Sign"))
        }
        Op::RsaVerify(..) | Op::EcdsaVerify(_) => session
            .verify(&mechanism(op, iv)?, key(keys.public)?, data, &keys.input)
            .map_err(ck("C_Verify")),
        Op::AesEncrypt(_) => {
            // A new GCM IV for every encryption, as an application must use: the worker's
            // number, then a counter.
            next_iv(iv);
            session
                .encrypt(&mechanism(op, iv)?, key(keys.secret)?, data)
                .map(drop)
                .map_err(ck("C_Encrypt"))
        }
        Op::AesDecrypt(_) => session
            .decrypt(
                &mechanism(op, &mut GCM_IV.clone())?,
                key(keys.secret)?,
                &keys.input,
            )
            .map(drop)
            .map_err(ck("C_Decrypt")),
        Op::Random => {
            let mut buf = vec![0u8; data.len()];
            session
                .generate_random_slice(&mut buf)
                .map_err(ck("C_GenerateRandom"))
        }
        Op::AesKeygen => {
            let k = session
                .generate_key(
                    &Mechanism::AesKeyGen,
                    &[
                        Attribute::Token(false),
                        Attribute::ValueLen(32.into()),
                        Attribute::Encrypt(true),
                    ],
                )
                .map_err(ck("C_GenerateKey"))?;
            session.destroy_object(k).map_err(ck("C_DestroyObject"))
        }
        Op::EcKeygen(c) => {
            let (public, private) = ec_pair(
                session,
                c.oid_der(),
                &Attribute::Token(false),
                &Attribute::Label(b"strongroom-bench-keygen".to_vec()),
                false,
            )?;
            session
                .destroy_object(public)
                .map_err(ck("C_DestroyObject"))?;
            session
                .destroy_object(private)
                .map_err(ck("C_DestroyObject"))
        }
        Op::FindLabel => {
            let label = format!("{FIND_PREFIX}{}", find.unwrap_or(0));
            let found = session
                .find_objects(&[Attribute::Label(label.into_bytes())])
                .map_err(ck("C_FindObjects"))?;
            if found.len() == 1 {
                Ok(())
            } else {
                Err(format!("find-label found {} objects, not 1", found.len()))
            }
        }
    }
}

impl Worker for P11Worker {
    fn run_once(&mut self) -> Result<(), String> {
        let find = (self.op == Op::FindLabel).then(|| self.next_index());
        match &self.session {
            SessionRef::Own(s) => once(s, self.op, &self.keys, &self.data, &mut self.iv, find),
            SessionRef::Shared(s) => once(
                &lock(s),
                self.op,
                &self.keys,
                &self.data,
                &mut self.iv,
                find,
            ),
        }
    }
}
