//! The PKCS#11 messages carried in NTLS frames: an opcode table and one request and one
//! response payload per call.
//!
//! # Encoding
//!
//! A payload is one version byte ([`MESSAGE_VERSION`]) followed by the message encoded with
//! postcard. A request travels in a frame whose opcode is the call's (`OP_*`); the appliance
//! answers with the same opcode and the call's response, or with [`OP_ERROR`] and an
//! [`ErrorResponse`] carrying the module return code.
//!
//! [`decode`] refuses an unknown version, a malformed body, trailing bytes, and any field
//! longer than its bound ([`MAX_BLOB`], [`MAX_TEXT`], [`MAX_ITEMS`]). Templates travel as the
//! module's `Template::encode` bytes and mechanisms as the mechanism type plus the module's
//! `Mechanism::encode_params` bytes; this crate does not interpret either.
//!
//! # User types
//!
//! `Login.user_type` is the PKCS#11 `CK_USER_TYPE`: [`CKU_SO`] is the Partition SO,
//! [`CKU_USER`] the Crypto Officer, and the vendor types [`CKU_CRYPTO_USER`] and
//! [`CKU_LIMITED_CRYPTO_OFFICER`] the Crypto User and Limited Crypto Officer.

use serde::{Deserialize, Serialize, de::DeserializeOwned};

#[cfg(test)]
mod tests;

/// The version byte that starts every message payload.
pub const MESSAGE_VERSION: u8 = 1;

/// The longest byte field (data, signatures, templates, PINs, random output).
pub const MAX_BLOB: usize = 1024 * 1024;
/// The longest text field (labels).
pub const MAX_TEXT: usize = 256;
/// The most entries in a list field (slots, mechanisms, handles, attribute types).
pub const MAX_ITEMS: usize = 65_536;

/// `CKU_SO`: the Partition SO.
pub const CKU_SO: u64 = 0;
/// `CKU_USER`: the Crypto Officer.
pub const CKU_USER: u64 = 1;
/// `CKU_CONTEXT_SPECIFIC` (not a role; refused by the appliance).
pub const CKU_CONTEXT_SPECIFIC: u64 = 2;
/// Vendor user type: the Crypto User (`CKU_VENDOR_DEFINED + 1`).
pub const CKU_CRYPTO_USER: u64 = 0x8000_0001;
/// Vendor user type: the Limited Crypto Officer (`CKU_VENDOR_DEFINED + 2`).
pub const CKU_LIMITED_CRYPTO_OFFICER: u64 = 0x8000_0002;

/// A field whose length the decoder bounds.
pub trait Bounded {
    /// Whether every length in the value is within its bound.
    fn bounded(&self) -> bool;
}

macro_rules! always_bounded {
    ($($t:ty),*) => { $(impl Bounded for $t { fn bounded(&self) -> bool { true } })* };
}
always_bounded!(u8, u16, u32, u64, bool);

impl Bounded for String {
    fn bounded(&self) -> bool {
        self.len() <= MAX_TEXT
    }
}

impl Bounded for Vec<u8> {
    fn bounded(&self) -> bool {
        self.len() <= MAX_BLOB
    }
}

impl Bounded for Vec<u64> {
    fn bounded(&self) -> bool {
        self.len() <= MAX_ITEMS
    }
}

impl<T: Bounded> Bounded for Option<T> {
    fn bounded(&self) -> bool {
        self.as_ref().is_none_or(Bounded::bounded)
    }
}

/// A message with its opcode.
pub trait Message: Serialize + DeserializeOwned + Bounded {
    /// The frame opcode of the call this message belongs to.
    const OPCODE: u16;
}

/// Why a payload was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The payload is empty.
    Empty,
    /// The version byte is not one this build speaks.
    Version(u8),
    /// The body does not decode as the message.
    Malformed,
    /// Bytes follow the message.
    TrailingBytes,
    /// A field is longer than its bound.
    OutOfBounds,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Empty => f.write_str("empty message"),
            Self::Version(v) => write!(f, "unsupported message version {v}"),
            Self::Malformed => f.write_str("malformed message"),
            Self::TrailingBytes => f.write_str("trailing bytes after message"),
            Self::OutOfBounds => f.write_str("message field out of bounds"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Whether a call of opcode `call` belongs to the operation an init of opcode `init` starts,
/// and so may come with it in a [`PipelinedRequest`].
pub fn pipelines(init: u16, call: u16) -> bool {
    match init {
        OP_SIGN_INIT => matches!(call, OP_SIGN | OP_SIGN_UPDATE | OP_SIGN_FINAL),
        OP_VERIFY_INIT => matches!(call, OP_VERIFY | OP_VERIFY_UPDATE | OP_VERIFY_FINAL),
        OP_ENCRYPT_INIT => matches!(call, OP_ENCRYPT | OP_ENCRYPT_UPDATE | OP_ENCRYPT_FINAL),
        OP_DECRYPT_INIT => matches!(call, OP_DECRYPT | OP_DECRYPT_UPDATE | OP_DECRYPT_FINAL),
        _ => false,
    }
}

/// The payload of `msg`: the version byte then the postcard body.
pub fn encode<M: Message>(msg: &M) -> Vec<u8> {
    let mut out = vec![MESSAGE_VERSION];
    // Serializing plain structs into a growable buffer cannot fail.
    out.extend(postcard::to_stdvec(msg).unwrap_or_default());
    out
}

/// Decodes a payload as `M`.
pub fn decode<M: Message>(payload: &[u8]) -> Result<M, DecodeError> {
    let (&version, body) = payload.split_first().ok_or(DecodeError::Empty)?;
    if version != MESSAGE_VERSION {
        return Err(DecodeError::Version(version));
    }
    let (msg, rest) = postcard::take_from_bytes::<M>(body).map_err(|_| DecodeError::Malformed)?;
    if !rest.is_empty() {
        return Err(DecodeError::TrailingBytes);
    }
    if !msg.bounded() {
        return Err(DecodeError::OutOfBounds);
    }
    Ok(msg)
}

macro_rules! messages {
    ($(
        $(#[$doc:meta])*
        $name:ident = $op:expr => { $($(#[$fdoc:meta])* $field:ident : $ty:ty),* $(,)? }
    )*) => {
        $(
            $(#[$doc])*
            #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
            pub struct $name {
                $($(#[$fdoc])* pub $field: $ty,)*
            }

            impl Bounded for $name {
                fn bounded(&self) -> bool {
                    true $(&& Bounded::bounded(&self.$field))*
                }
            }

            impl Message for $name {
                const OPCODE: u16 = $op;
            }
        )*
    };
}

/// The error response (any call).
pub const OP_ERROR: u16 = 1;
/// `C_GetSlotList`.
pub const OP_GET_SLOT_LIST: u16 = 0x10;
/// `C_GetTokenInfo`.
pub const OP_GET_TOKEN_INFO: u16 = 0x11;
/// `C_InitToken`.
pub const OP_INIT_TOKEN: u16 = 0x12;
/// `C_OpenSession`.
pub const OP_OPEN_SESSION: u16 = 0x20;
/// `C_CloseSession`.
pub const OP_CLOSE_SESSION: u16 = 0x21;
/// `C_CloseAllSessions`.
pub const OP_CLOSE_ALL_SESSIONS: u16 = 0x22;
/// `C_GetSessionInfo`.
pub const OP_GET_SESSION_INFO: u16 = 0x23;
/// `C_Login`.
pub const OP_LOGIN: u16 = 0x24;
/// `C_Logout`.
pub const OP_LOGOUT: u16 = 0x25;
/// `C_InitPIN`.
pub const OP_INIT_PIN: u16 = 0x26;
/// `C_SetPIN`.
pub const OP_SET_PIN: u16 = 0x27;
/// `C_GetMechanismList`.
pub const OP_GET_MECHANISM_LIST: u16 = 0x30;
/// `C_GetMechanismInfo`.
pub const OP_GET_MECHANISM_INFO: u16 = 0x31;
/// `C_GenerateRandom`.
pub const OP_GENERATE_RANDOM: u16 = 0x38;
/// `C_SeedRandom`.
pub const OP_SEED_RANDOM: u16 = 0x39;
/// `C_CreateObject`.
pub const OP_CREATE_OBJECT: u16 = 0x40;
/// `C_DestroyObject`.
pub const OP_DESTROY_OBJECT: u16 = 0x41;
/// `C_GetAttributeValue`.
pub const OP_GET_ATTRIBUTE_VALUE: u16 = 0x42;
/// `C_SetAttributeValue`.
pub const OP_SET_ATTRIBUTE_VALUE: u16 = 0x43;
/// `C_FindObjectsInit`.
pub const OP_FIND_OBJECTS_INIT: u16 = 0x44;
/// `C_FindObjects`.
pub const OP_FIND_OBJECTS: u16 = 0x45;
/// `C_FindObjectsFinal`.
pub const OP_FIND_OBJECTS_FINAL: u16 = 0x46;
/// `C_CopyObject`.
pub const OP_COPY_OBJECT: u16 = 0x47;
/// `C_GetObjectSize`.
pub const OP_GET_OBJECT_SIZE: u16 = 0x48;
/// `C_SignInit`.
pub const OP_SIGN_INIT: u16 = 0x50;
/// `C_Sign`.
pub const OP_SIGN: u16 = 0x51;
/// `C_SignUpdate`.
pub const OP_SIGN_UPDATE: u16 = 0x52;
/// `C_SignFinal`.
pub const OP_SIGN_FINAL: u16 = 0x53;
/// `C_VerifyInit`.
pub const OP_VERIFY_INIT: u16 = 0x54;
/// `C_Verify`.
pub const OP_VERIFY: u16 = 0x55;
/// `C_VerifyUpdate`.
pub const OP_VERIFY_UPDATE: u16 = 0x56;
/// `C_VerifyFinal`.
pub const OP_VERIFY_FINAL: u16 = 0x57;
/// `C_GenerateKeyPair`.
pub const OP_GENERATE_KEY_PAIR: u16 = 0x60;
/// `C_GenerateKey`.
pub const OP_GENERATE_KEY: u16 = 0x61;
/// `C_WrapKey`.
pub const OP_WRAP_KEY: u16 = 0x62;
/// `C_UnwrapKey`.
pub const OP_UNWRAP_KEY: u16 = 0x63;
/// `C_DeriveKey`.
pub const OP_DERIVE_KEY: u16 = 0x64;
/// `C_EncryptInit`.
pub const OP_ENCRYPT_INIT: u16 = 0x70;
/// `C_Encrypt`.
pub const OP_ENCRYPT: u16 = 0x71;
/// `C_EncryptUpdate`.
pub const OP_ENCRYPT_UPDATE: u16 = 0x72;
/// `C_EncryptFinal`.
pub const OP_ENCRYPT_FINAL: u16 = 0x73;
/// `C_DecryptInit`.
pub const OP_DECRYPT_INIT: u16 = 0x74;
/// `C_Decrypt`.
pub const OP_DECRYPT: u16 = 0x75;
/// `C_DecryptUpdate`.
pub const OP_DECRYPT_UPDATE: u16 = 0x76;
/// `C_DecryptFinal`.
pub const OP_DECRYPT_FINAL: u16 = 0x77;
/// `C_DigestInit`.
pub const OP_DIGEST_INIT: u16 = 0x78;
/// `C_Digest`.
pub const OP_DIGEST: u16 = 0x79;
/// `C_DigestUpdate`.
pub const OP_DIGEST_UPDATE: u16 = 0x7A;
/// `C_DigestFinal`.
pub const OP_DIGEST_FINAL: u16 = 0x7B;

/// Vendor call: the partition's roles and their states (`role list`).
pub const OP_ROLE_LIST: u16 = 0x90;
/// Vendor call: the logged-in parent role creates a role (`role init`): the Partition SO the
/// Crypto Officer or Limited Crypto Officer, the Crypto Officer the Crypto User.
pub const OP_ROLE_INIT: u16 = 0x91;
/// Vendor call: the logged-in parent role sets a new password for a role (`role resetpw`).
pub const OP_ROLE_RESET: u16 = 0x92;
/// Vendor call: the partition's capabilities and policies as text (`partition showpolicies`).
pub const OP_PARTITION_POLICIES: u16 = 0x93;
/// Vendor call: the Partition SO changes a partition policy (`partition changepolicy`).
pub const OP_CHANGE_PARTITION_POLICY: u16 = 0x94;
/// Transport call: a `C_SignInit` or `C_VerifyInit` the library answered itself (its earlier
/// answer said it would succeed again), carried with the next call of its session
/// ([`PipelinedRequest`]).
pub const OP_PIPELINED: u16 = 0xA0;

/// The opcode table: every call opcode and its PKCS#11 name.
pub const OPCODES: &[(u16, &str)] = &[
    (OP_ERROR, "Error"),
    (OP_GET_SLOT_LIST, "C_GetSlotList"),
    (OP_GET_TOKEN_INFO, "C_GetTokenInfo"),
    (OP_INIT_TOKEN, "C_InitToken"),
    (OP_OPEN_SESSION, "C_OpenSession"),
    (OP_CLOSE_SESSION, "C_CloseSession"),
    (OP_CLOSE_ALL_SESSIONS, "C_CloseAllSessions"),
    (OP_GET_SESSION_INFO, "C_GetSessionInfo"),
    (OP_LOGIN, "C_Login"),
    (OP_LOGOUT, "C_Logout"),
    (OP_INIT_PIN, "C_InitPIN"),
    (OP_SET_PIN, "C_SetPIN"),
    (OP_GET_MECHANISM_LIST, "C_GetMechanismList"),
    (OP_GET_MECHANISM_INFO, "C_GetMechanismInfo"),
    (OP_GENERATE_RANDOM, "C_GenerateRandom"),
    (OP_SEED_RANDOM, "C_SeedRandom"),
    (OP_CREATE_OBJECT, "C_CreateObject"),
    (OP_DESTROY_OBJECT, "C_DestroyObject"),
    (OP_GET_ATTRIBUTE_VALUE, "C_GetAttributeValue"),
    (OP_SET_ATTRIBUTE_VALUE, "C_SetAttributeValue"),
    (OP_FIND_OBJECTS_INIT, "C_FindObjectsInit"),
    (OP_FIND_OBJECTS, "C_FindObjects"),
    (OP_FIND_OBJECTS_FINAL, "C_FindObjectsFinal"),
    (OP_COPY_OBJECT, "C_CopyObject"),
    (OP_GET_OBJECT_SIZE, "C_GetObjectSize"),
    (OP_SIGN_INIT, "C_SignInit"),
    (OP_SIGN, "C_Sign"),
    (OP_SIGN_UPDATE, "C_SignUpdate"),
    (OP_SIGN_FINAL, "C_SignFinal"),
    (OP_VERIFY_INIT, "C_VerifyInit"),
    (OP_VERIFY, "C_Verify"),
    (OP_VERIFY_UPDATE, "C_VerifyUpdate"),
    (OP_VERIFY_FINAL, "C_VerifyFinal"),
    (OP_GENERATE_KEY_PAIR, "C_GenerateKeyPair"),
    (OP_GENERATE_KEY, "C_GenerateKey"),
    (OP_WRAP_KEY, "C_WrapKey"),
    (OP_UNWRAP_KEY, "C_UnwrapKey"),
    (OP_DERIVE_KEY, "C_DeriveKey"),
    (OP_ENCRYPT_INIT, "C_EncryptInit"),
    (OP_ENCRYPT, "C_Encrypt"),
    (OP_ENCRYPT_UPDATE, "C_EncryptUpdate"),
    (OP_ENCRYPT_FINAL, "C_EncryptFinal"),
    (OP_DECRYPT_INIT, "C_DecryptInit"),
    (OP_DECRYPT, "C_Decrypt"),
    (OP_DECRYPT_UPDATE, "C_DecryptUpdate"),
    (OP_DECRYPT_FINAL, "C_DecryptFinal"),
    (OP_DIGEST_INIT, "C_DigestInit"),
    (OP_DIGEST, "C_Digest"),
    (OP_DIGEST_UPDATE, "C_DigestUpdate"),
    (OP_DIGEST_FINAL, "C_DigestFinal"),
    (OP_ROLE_LIST, "SR_RoleList"),
    (OP_ROLE_INIT, "SR_RoleInit"),
    (OP_ROLE_RESET, "SR_RoleReset"),
    (OP_PARTITION_POLICIES, "SR_PartitionPolicies"),
    (OP_CHANGE_PARTITION_POLICY, "SR_ChangePartitionPolicy"),
    (OP_PIPELINED, "SR_Pipelined"),
];

/// The name of an opcode, if it is in the table.
pub fn opcode_name(opcode: u16) -> Option<&'static str> {
    OPCODES
        .iter()
        .find(|(op, _)| *op == opcode)
        .map(|(_, n)| *n)
}

/// One slot: a partition assigned to this client.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotEntry {
    /// The partition serial number.
    pub serial: u64,
    /// The token label (empty before `C_InitToken`).
    pub label: String,
    /// Whether the partition has been initialized.
    pub initialized: bool,
}

impl Bounded for SlotEntry {
    fn bounded(&self) -> bool {
        self.label.bounded()
    }
}

impl Bounded for Vec<SlotEntry> {
    fn bounded(&self) -> bool {
        self.len() <= MAX_ITEMS && self.iter().all(Bounded::bounded)
    }
}

/// One role of a partition and its state (`role list`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleEntry {
    /// The role as a user type (`CKU_*` or a vendor type).
    pub user_type: u64,
    /// Whether it has a credential.
    pub initialized: bool,
    /// Whether it is locked out.
    pub locked: bool,
    /// Whether its credential must be changed before use.
    pub must_change: bool,
    /// Consecutive failed logins.
    pub failures: u32,
}

impl Bounded for Vec<RoleEntry> {
    fn bounded(&self) -> bool {
        self.len() <= MAX_ITEMS
    }
}

/// One `C_GetAttributeValue` result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttrValue {
    /// The value in the module's canonical encoding.
    Value(#[serde(with = "serde_bytes")] Vec<u8>),
    /// Hidden: the key is sensitive or unextractable (`CKR_ATTRIBUTE_SENSITIVE`).
    Sensitive,
    /// The object has no such attribute (`CKR_ATTRIBUTE_TYPE_INVALID`).
    TypeInvalid,
}

impl Bounded for Vec<AttrValue> {
    fn bounded(&self) -> bool {
        self.len() <= MAX_ITEMS
            && self.iter().all(|a| match a {
                AttrValue::Value(v) => v.bounded(),
                _ => true,
            })
    }
}

/// A mechanism: its `CKM_*` type and the module's parameter encoding.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MechanismSpec {
    /// `CK_MECHANISM_TYPE`.
    pub mechanism: u64,
    /// `Mechanism::encode_params` bytes (empty for none).
    #[serde(with = "serde_bytes")]
    pub params: Vec<u8>,
}

impl Bounded for MechanismSpec {
    fn bounded(&self) -> bool {
        self.params.bounded()
    }
}

/// How long the single-part call (`C_Encrypt`, `C_Decrypt`, `C_Digest`, `C_Sign`) of an
/// operation that has just started answers a length query, as a rule of its input's length:
/// what the appliance would answer, so that the library answers the query itself instead of
/// asking over the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutputLength {
    /// This many bytes, whatever the input.
    Fixed(u64),
    /// The input's whole blocks of `block` bytes, plus `extra` bytes.
    Blocks {
        /// The block size (1 for a byte stream).
        block: u64,
        /// Bytes added (a tag, a padding block).
        extra: u64,
    },
    /// The input's length less this many bytes (none below zero).
    Less(u64),
}

impl OutputLength {
    /// The length answered for `input` bytes of input.
    pub fn for_input(self, input: u64) -> u64 {
        match self {
            Self::Fixed(n) => n,
            Self::Blocks { block, extra } => (input - input % block.max(1)).saturating_add(extra),
            Self::Less(n) => input.saturating_sub(n),
        }
    }
}

always_bounded!(OutputLength);

/// A result that may be a length only (PKCS#11 output-length query).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutputData {
    /// The caller asked for the length: at most this many bytes.
    Length(u64),
    /// The output.
    Data(#[serde(with = "serde_bytes")] Vec<u8>),
}

impl Default for OutputData {
    fn default() -> Self {
        Self::Length(0)
    }
}

impl Bounded for OutputData {
    fn bounded(&self) -> bool {
        match self {
            Self::Length(_) => true,
            Self::Data(d) => d.bounded(),
        }
    }
}

messages! {
    /// The error response to any call.
    ErrorResponse = OP_ERROR => {
        /// The module return code (`SR_RET_*`).
        code: u32,
        /// For a buffer that is too small, the length needed.
        needed: Option<u64>,
    }

    /// `C_GetSlotList` request: the slots are the partitions assigned to this client.
    GetSlotListRequest = OP_GET_SLOT_LIST => {}
    /// `C_GetSlotList` response.
    GetSlotListResponse = OP_GET_SLOT_LIST => { slots: Vec<SlotEntry> }

    /// `C_GetTokenInfo` request.
    GetTokenInfoRequest = OP_GET_TOKEN_INFO => { serial: u64 }
    /// `C_GetTokenInfo` response.
    GetTokenInfoResponse = OP_GET_TOKEN_INFO => {
        /// Partition serial.
        serial: u64,
        /// Token label.
        label: String,
        /// Whether initialized.
        initialized: bool,
        /// `CKF_*` token flags.
        flags: u64,
        /// Open sessions of this connection on the token.
        session_count: u64,
        /// Maximum sessions.
        max_session_count: u64,
        /// Bytes allotted.
        total_memory: u64,
        /// Bytes free.
        free_memory: u64,
        /// Number of objects.
        objects: u64,
    }

    /// `C_InitToken` request: initializes the partition and its Partition SO. `domain` is the
    /// partition's cloning domain; `None` (all a plain PKCS#11 `C_InitToken` can give) means
    /// the default domain, as the reference's `partition init -defaultdomain`.
    InitTokenRequest = OP_INIT_TOKEN => {
        serial: u64,
        #[serde(with = "serde_bytes")]
        so_pin: Vec<u8>,
        label: String,
        #[serde(with = "serde_bytes")]
        domain: Option<Vec<u8>>,
    }
    /// `C_InitToken` response.
    InitTokenResponse = OP_INIT_TOKEN => {}

    /// `C_OpenSession` request.
    OpenSessionRequest = OP_OPEN_SESSION => { serial: u64, read_write: bool }
    /// `C_OpenSession` response.
    OpenSessionResponse = OP_OPEN_SESSION => { session: u64 }

    /// `C_CloseSession` request.
    CloseSessionRequest = OP_CLOSE_SESSION => { session: u64 }
    /// `C_CloseSession` response.
    CloseSessionResponse = OP_CLOSE_SESSION => {}

    /// `C_CloseAllSessions` request.
    CloseAllSessionsRequest = OP_CLOSE_ALL_SESSIONS => { serial: u64 }
    /// `C_CloseAllSessions` response.
    CloseAllSessionsResponse = OP_CLOSE_ALL_SESSIONS => {}

    /// `C_GetSessionInfo` request.
    GetSessionInfoRequest = OP_GET_SESSION_INFO => { session: u64 }
    /// `C_GetSessionInfo` response.
    GetSessionInfoResponse = OP_GET_SESSION_INFO => { serial: u64, state: u64, flags: u64 }

    /// `C_Login` request; `user_type` as in the module documentation (`CKU_*`).
    LoginRequest = OP_LOGIN => {
        session: u64,
        user_type: u64,
        #[serde(with = "serde_bytes")]
        pin: Vec<u8>,
    }
    /// `C_Login` response.
    LoginResponse = OP_LOGIN => {}

    /// `C_Logout` request.
    LogoutRequest = OP_LOGOUT => { session: u64 }
    /// `C_Logout` response.
    LogoutResponse = OP_LOGOUT => {}

    /// `C_InitPIN` request: the Partition SO initializes the Crypto Officer.
    InitPinRequest = OP_INIT_PIN => {
        session: u64,
        #[serde(with = "serde_bytes")]
        pin: Vec<u8>,
    }
    /// `C_InitPIN` response.
    InitPinResponse = OP_INIT_PIN => {}

    /// `C_SetPIN` request.
    SetPinRequest = OP_SET_PIN => {
        session: u64,
        #[serde(with = "serde_bytes")]
        old_pin: Vec<u8>,
        #[serde(with = "serde_bytes")]
        new_pin: Vec<u8>,
    }
    /// `C_SetPIN` response.
    SetPinResponse = OP_SET_PIN => {}

    /// `C_GetMechanismList` request.
    GetMechanismListRequest = OP_GET_MECHANISM_LIST => { serial: u64 }
    /// `C_GetMechanismList` response.
    GetMechanismListResponse = OP_GET_MECHANISM_LIST => { mechanisms: Vec<u64> }

    /// `C_GetMechanismInfo` request.
    GetMechanismInfoRequest = OP_GET_MECHANISM_INFO => { serial: u64, mechanism: u64 }
    /// `C_GetMechanismInfo` response.
    GetMechanismInfoResponse = OP_GET_MECHANISM_INFO => {
        min_key_size: u64,
        max_key_size: u64,
        flags: u64,
    }

    /// `C_GenerateRandom` request.
    GenerateRandomRequest = OP_GENERATE_RANDOM => { session: u64, len: u32 }
    /// `C_GenerateRandom` response.
    GenerateRandomResponse = OP_GENERATE_RANDOM => {
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
    }

    /// `C_SeedRandom` request.
    SeedRandomRequest = OP_SEED_RANDOM => {
        session: u64,
        #[serde(with = "serde_bytes")]
        seed: Vec<u8>,
    }
    /// `C_SeedRandom` response.
    SeedRandomResponse = OP_SEED_RANDOM => {}

    /// `C_CreateObject` request (`Template::encode` bytes).
    CreateObjectRequest = OP_CREATE_OBJECT => {
        session: u64,
        #[serde(with = "serde_bytes")]
        template: Vec<u8>,
    }
    /// `C_CreateObject` response.
    CreateObjectResponse = OP_CREATE_OBJECT => { object: u64 }

    /// `C_DestroyObject` request.
    DestroyObjectRequest = OP_DESTROY_OBJECT => { session: u64, object: u64 }
    /// `C_DestroyObject` response.
    DestroyObjectResponse = OP_DESTROY_OBJECT => {}

    /// `C_GetAttributeValue` request.
    GetAttributeValueRequest = OP_GET_ATTRIBUTE_VALUE => {
        session: u64,
        object: u64,
        types: Vec<u64>,
    }
    /// `C_GetAttributeValue` response: one entry per requested type, in order.
    GetAttributeValueResponse = OP_GET_ATTRIBUTE_VALUE => { values: Vec<AttrValue> }

    /// `C_SetAttributeValue` request (`Template::encode` bytes).
    SetAttributeValueRequest = OP_SET_ATTRIBUTE_VALUE => {
        session: u64,
        object: u64,
        #[serde(with = "serde_bytes")]
        template: Vec<u8>,
    }
    /// `C_SetAttributeValue` response.
    SetAttributeValueResponse = OP_SET_ATTRIBUTE_VALUE => {}

    /// `C_FindObjectsInit` request (`Template::encode` bytes).
    FindObjectsInitRequest = OP_FIND_OBJECTS_INIT => {
        session: u64,
        #[serde(with = "serde_bytes")]
        template: Vec<u8>,
    }
    /// `C_FindObjectsInit` response.
    FindObjectsInitResponse = OP_FIND_OBJECTS_INIT => {}

    /// `C_FindObjects` request.
    FindObjectsRequest = OP_FIND_OBJECTS => { session: u64, max: u32 }
    /// `C_FindObjects` response.
    FindObjectsResponse = OP_FIND_OBJECTS => { objects: Vec<u64> }

    /// `C_FindObjectsFinal` request.
    FindObjectsFinalRequest = OP_FIND_OBJECTS_FINAL => { session: u64 }
    /// `C_FindObjectsFinal` response.
    FindObjectsFinalResponse = OP_FIND_OBJECTS_FINAL => {}

    /// `C_SignInit` request.
    SignInitRequest = OP_SIGN_INIT => { session: u64, mechanism: MechanismSpec, key: u64 }
    /// `C_SignInit` response.
    SignInitResponse = OP_SIGN_INIT => {
        /// How `C_Sign` answers a length query.
        single_output: Option<OutputLength>,
        /// Whether the same `C_SignInit` (session, mechanism, key) is bound to succeed again
        /// while the application changes nothing itself (see [`PipelinedRequest`]).
        repeatable: bool,
    }

    /// `C_Sign` request; `capacity` is the caller's buffer length, `None` a length query.
    SignRequest = OP_SIGN => {
        session: u64,
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
        capacity: Option<u64>,
    }
    /// `C_Sign` response.
    SignResponse = OP_SIGN => { output: OutputData }

    /// `C_VerifyInit` request.
    VerifyInitRequest = OP_VERIFY_INIT => { session: u64, mechanism: MechanismSpec, key: u64 }
    /// `C_VerifyInit` response.
    VerifyInitResponse = OP_VERIFY_INIT => {
        /// As [`SignInitResponse::repeatable`].
        repeatable: bool,
    }

    /// A `C_SignInit`, `C_VerifyInit`, `C_EncryptInit` or `C_DecryptInit` request (`init`, of
    /// opcode `init_opcode`) that the library answered itself, run by the appliance just
    /// before the call it comes with (`call`, of opcode `call_opcode`, a call of the same
    /// operation on the same session).
    /// The answer is the call's; if the init fails after all, it is a
    /// [`PipelinedInitFailed`] and the call is not run.
    PipelinedRequest = OP_PIPELINED => {
        init_opcode: u16,
        #[serde(with = "serde_bytes")]
        init: Vec<u8>,
        call_opcode: u16,
        #[serde(with = "serde_bytes")]
        call: Vec<u8>,
    }
    /// The answer to a [`PipelinedRequest`] whose init failed: its module return code.
    PipelinedInitFailed = OP_PIPELINED => { code: u32 }

    /// `C_Verify` request.
    VerifyRequest = OP_VERIFY => {
        session: u64,
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
        #[serde(with = "serde_bytes")]
        signature: Vec<u8>,
    }
    /// `C_Verify` response (a bad signature is an [`ErrorResponse`]).
    VerifyResponse = OP_VERIFY => {}

    /// `C_GenerateKeyPair` request (`Template::encode` bytes).
    GenerateKeyPairRequest = OP_GENERATE_KEY_PAIR => {
        session: u64,
        mechanism: MechanismSpec,
        #[serde(with = "serde_bytes")]
        public_template: Vec<u8>,
        #[serde(with = "serde_bytes")]
        private_template: Vec<u8>,
    }
    /// `C_GenerateKeyPair` response.
    GenerateKeyPairResponse = OP_GENERATE_KEY_PAIR => { public_key: u64, private_key: u64 }

    /// `C_CopyObject` request (`Template::encode` bytes).
    CopyObjectRequest = OP_COPY_OBJECT => {
        session: u64,
        object: u64,
        #[serde(with = "serde_bytes")]
        template: Vec<u8>,
    }
    /// `C_CopyObject` response.
    CopyObjectResponse = OP_COPY_OBJECT => { object: u64 }

    /// `C_GetObjectSize` request.
    GetObjectSizeRequest = OP_GET_OBJECT_SIZE => { session: u64, object: u64 }
    /// `C_GetObjectSize` response.
    GetObjectSizeResponse = OP_GET_OBJECT_SIZE => { size: u64 }

    /// `C_SignUpdate` request.
    SignUpdateRequest = OP_SIGN_UPDATE => {
        session: u64,
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
    }
    /// `C_SignUpdate` response.
    SignUpdateResponse = OP_SIGN_UPDATE => {}

    /// `C_SignFinal` request; `capacity` as in [`SignRequest`].
    SignFinalRequest = OP_SIGN_FINAL => { session: u64, capacity: Option<u64> }
    /// `C_SignFinal` response.
    SignFinalResponse = OP_SIGN_FINAL => { output: OutputData }

    /// `C_VerifyUpdate` request.
    VerifyUpdateRequest = OP_VERIFY_UPDATE => {
        session: u64,
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
    }
    /// `C_VerifyUpdate` response.
    VerifyUpdateResponse = OP_VERIFY_UPDATE => {}

    /// `C_VerifyFinal` request.
    VerifyFinalRequest = OP_VERIFY_FINAL => {
        session: u64,
        #[serde(with = "serde_bytes")]
        signature: Vec<u8>,
    }
    /// `C_VerifyFinal` response (a bad signature is an [`ErrorResponse`]).
    VerifyFinalResponse = OP_VERIFY_FINAL => {}

    /// `C_GenerateKey` request (`Template::encode` bytes).
    GenerateKeyRequest = OP_GENERATE_KEY => {
        session: u64,
        mechanism: MechanismSpec,
        #[serde(with = "serde_bytes")]
        template: Vec<u8>,
    }
    /// `C_GenerateKey` response.
    GenerateKeyResponse = OP_GENERATE_KEY => { key: u64 }

    /// `C_WrapKey` request; `capacity` is the caller's buffer length, `None` a length query.
    WrapKeyRequest = OP_WRAP_KEY => {
        session: u64,
        mechanism: MechanismSpec,
        wrapping_key: u64,
        key: u64,
        capacity: Option<u64>,
    }
    /// `C_WrapKey` response.
    WrapKeyResponse = OP_WRAP_KEY => { output: OutputData }

    /// `C_UnwrapKey` request (`Template::encode` bytes).
    UnwrapKeyRequest = OP_UNWRAP_KEY => {
        session: u64,
        mechanism: MechanismSpec,
        unwrapping_key: u64,
        #[serde(with = "serde_bytes")]
        wrapped: Vec<u8>,
        #[serde(with = "serde_bytes")]
        template: Vec<u8>,
    }
    /// `C_UnwrapKey` response.
    UnwrapKeyResponse = OP_UNWRAP_KEY => { key: u64 }

    /// `C_DeriveKey` request (`Template::encode` bytes).
    DeriveKeyRequest = OP_DERIVE_KEY => {
        session: u64,
        mechanism: MechanismSpec,
        base_key: u64,
        #[serde(with = "serde_bytes")]
        template: Vec<u8>,
    }
    /// `C_DeriveKey` response.
    DeriveKeyResponse = OP_DERIVE_KEY => { key: u64 }

    /// `C_EncryptInit` request.
    EncryptInitRequest = OP_ENCRYPT_INIT => { session: u64, mechanism: MechanismSpec, key: u64 }
    /// `C_EncryptInit` response.
    EncryptInitResponse = OP_ENCRYPT_INIT => {
        /// How `C_Encrypt` answers a length query.
        single_output: Option<OutputLength>,
        /// Whether the same `C_EncryptInit` is bound to succeed again, as in
        /// [`SignInitResponse::repeatable`]; with a parameter differing only where the
        /// appliance does not look at init (an IV's bytes, GCM's additional data).
        repeatable: bool,
    }

    /// `C_Encrypt` request; `capacity` as in [`SignRequest`].
    EncryptRequest = OP_ENCRYPT => {
        session: u64,
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
        capacity: Option<u64>,
    }
    /// `C_Encrypt` response.
    EncryptResponse = OP_ENCRYPT => { output: OutputData }

    /// `C_EncryptUpdate` request.
    EncryptUpdateRequest = OP_ENCRYPT_UPDATE => {
        session: u64,
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
        capacity: Option<u64>,
    }
    /// `C_EncryptUpdate` response.
    EncryptUpdateResponse = OP_ENCRYPT_UPDATE => { output: OutputData }

    /// `C_EncryptFinal` request.
    EncryptFinalRequest = OP_ENCRYPT_FINAL => { session: u64, capacity: Option<u64> }
    /// `C_EncryptFinal` response.
    EncryptFinalResponse = OP_ENCRYPT_FINAL => { output: OutputData }

    /// `C_DecryptInit` request.
    DecryptInitRequest = OP_DECRYPT_INIT => { session: u64, mechanism: MechanismSpec, key: u64 }
    /// `C_DecryptInit` response.
    DecryptInitResponse = OP_DECRYPT_INIT => {
        /// How `C_Decrypt` answers a length query.
        single_output: Option<OutputLength>,
        /// As [`EncryptInitResponse::repeatable`].
        repeatable: bool,
    }

    /// `C_Decrypt` request; `capacity` as in [`SignRequest`].
    DecryptRequest = OP_DECRYPT => {
        session: u64,
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
        capacity: Option<u64>,
    }
    /// `C_Decrypt` response.
    DecryptResponse = OP_DECRYPT => { output: OutputData }

    /// `C_DecryptUpdate` request.
    DecryptUpdateRequest = OP_DECRYPT_UPDATE => {
        session: u64,
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
        capacity: Option<u64>,
    }
    /// `C_DecryptUpdate` response.
    DecryptUpdateResponse = OP_DECRYPT_UPDATE => { output: OutputData }

    /// `C_DecryptFinal` request.
    DecryptFinalRequest = OP_DECRYPT_FINAL => { session: u64, capacity: Option<u64> }
    /// `C_DecryptFinal` response.
    DecryptFinalResponse = OP_DECRYPT_FINAL => { output: OutputData }

    /// `C_DigestInit` request.
    DigestInitRequest = OP_DIGEST_INIT => { session: u64, mechanism: MechanismSpec }
    /// `C_DigestInit` response.
    DigestInitResponse = OP_DIGEST_INIT => { single_output: Option<OutputLength> }

    /// `C_Digest` request; `capacity` as in [`SignRequest`].
    DigestRequest = OP_DIGEST => {
        session: u64,
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
        capacity: Option<u64>,
    }
    /// `C_Digest` response.
    DigestResponse = OP_DIGEST => { output: OutputData }

    /// `C_DigestUpdate` request.
    DigestUpdateRequest = OP_DIGEST_UPDATE => {
        session: u64,
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
    }
    /// `C_DigestUpdate` response.
    DigestUpdateResponse = OP_DIGEST_UPDATE => {}

    /// `C_DigestFinal` request.
    DigestFinalRequest = OP_DIGEST_FINAL => { session: u64, capacity: Option<u64> }
    /// `C_DigestFinal` response.
    DigestFinalResponse = OP_DIGEST_FINAL => { output: OutputData }

    /// `SR_RoleList` request.
    RoleListRequest = OP_ROLE_LIST => { serial: u64 }
    /// `SR_RoleList` response: every role of the partition.
    RoleListResponse = OP_ROLE_LIST => { roles: Vec<RoleEntry> }

    /// `SR_RoleInit` request: `user_type` names the role to create.
    RoleInitRequest = OP_ROLE_INIT => {
        session: u64,
        user_type: u64,
        #[serde(with = "serde_bytes")]
        pin: Vec<u8>,
    }
    /// `SR_RoleInit` response.
    RoleInitResponse = OP_ROLE_INIT => {}

    /// `SR_RoleReset` request: `user_type` names the role to reset.
    RoleResetRequest = OP_ROLE_RESET => {
        session: u64,
        user_type: u64,
        #[serde(with = "serde_bytes")]
        pin: Vec<u8>,
    }
    /// `SR_RoleReset` response.
    RoleResetResponse = OP_ROLE_RESET => {}

    /// `SR_PartitionPolicies` request.
    PartitionPoliciesRequest = OP_PARTITION_POLICIES => { serial: u64 }
    /// `SR_PartitionPolicies` response: the `partition showpolicies` text (UTF-8).
    PartitionPoliciesResponse = OP_PARTITION_POLICIES => {
        #[serde(with = "serde_bytes")]
        text: Vec<u8>,
    }

    /// `SR_ChangePartitionPolicy` request, by the Partition SO logged in on `session`.
    ChangePartitionPolicyRequest = OP_CHANGE_PARTITION_POLICY => {
        session: u64,
        policy: u32,
        value: u32,
    }
    /// `SR_ChangePartitionPolicy` response.
    ChangePartitionPolicyResponse = OP_CHANGE_PARTITION_POLICY => {
        /// The value before.
        old: u32,
        /// Whether the change destroyed the partition's objects (a destructive policy).
        destroyed_objects: bool,
    }
}
