//! Every NTLS message payload decoder (requests as the appliance reads them, responses as the
//! client library reads them) on arbitrary bytes. The first input byte picks the message type.
//! A payload that decodes must be within its bounds, re-encode, and decode again to the same
//! message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom_proto::messages::{self as m, Message};

fn check<M: Message + PartialEq + std::fmt::Debug>(payload: &[u8]) {
    if let Ok(msg) = m::decode::<M>(payload) {
        assert!(msg.bounded());
        let again = m::encode(&msg);
        let back = m::decode::<M>(&again).expect("a decoded message re-encodes and decodes");
        assert_eq!(back, msg);
    }
}

macro_rules! decoders {
    ($($t:ident),* $(,)?) => { &[$(check::<m::$t>),*] };
}

/// The order is the seed corpus's: a seed's first byte is its index here.
static DECODERS: &[fn(&[u8])] = decoders![
    ErrorResponse,
    GetSlotListRequest,
    GetSlotListResponse,
    GetTokenInfoRequest,
    GetTokenInfoResponse,
    InitTokenRequest,
    InitTokenResponse,
    OpenSessionRequest,
    OpenSessionResponse,
    CloseSessionRequest,
    CloseSessionResponse,
    CloseAllSessionsRequest,
    CloseAllSessionsResponse,
    GetSessionInfoRequest,
    GetSessionInfoResponse,
    LoginRequest,
    LoginResponse,
    LogoutRequest,
    LogoutResponse,
    InitPinRequest,
    InitPinResponse,
    SetPinRequest,
    SetPinResponse,
    GetMechanismListRequest,
    GetMechanismListResponse,
    GetMechanismInfoRequest,
    GetMechanismInfoResponse,
    GenerateRandomRequest,
    GenerateRandomResponse,
    SeedRandomRequest,
    SeedRandomResponse,
    CreateObjectRequest,
    CreateObjectResponse,
    DestroyObjectRequest,
    DestroyObjectResponse,
    GetAttributeValueRequest,
    GetAttributeValueResponse,
    SetAttributeValueRequest,
    SetAttributeValueResponse,
    FindObjectsInitRequest,
    FindObjectsInitResponse,
    FindObjectsRequest,
    FindObjectsResponse,
    FindObjectsFinalRequest,
    FindObjectsFinalResponse,
    SignInitRequest,
    SignInitResponse,
    SignRequest,
    SignResponse,
    VerifyInitRequest,
    VerifyInitResponse,
    VerifyRequest,
    VerifyResponse,
    GenerateKeyPairRequest,
    GenerateKeyPairResponse,
    CopyObjectRequest,
    CopyObjectResponse,
    GetObjectSizeRequest,
    GetObjectSizeResponse,
    SignUpdateRequest,
    SignUpdateResponse,
    SignFinalRequest,
    SignFinalResponse,
    VerifyUpdateRequest,
    VerifyUpdateResponse,
    VerifyFinalRequest,
    VerifyFinalResponse,
    GenerateKeyRequest,
    GenerateKeyResponse,
    WrapKeyRequest,
    WrapKeyResponse,
    UnwrapKeyRequest,
    UnwrapKeyResponse,
    DeriveKeyRequest,
    DeriveKeyResponse,
    EncryptInitRequest,
    EncryptInitResponse,
    EncryptRequest,
    EncryptResponse,
    EncryptUpdateRequest,
    EncryptUpdateResponse,
    EncryptFinalRequest,
    EncryptFinalResponse,
    DecryptInitRequest,
    DecryptInitResponse,
    DecryptRequest,
    DecryptResponse,
    DecryptUpdateRequest,
    DecryptUpdateResponse,
    DecryptFinalRequest,
    DecryptFinalResponse,
    DigestInitRequest,
    DigestInitResponse,
    DigestRequest,
    DigestResponse,
    DigestUpdateRequest,
    DigestUpdateResponse,
    DigestFinalRequest,
    DigestFinalResponse,
    RoleListRequest,
    RoleListResponse,
    RoleInitRequest,
    RoleInitResponse,
    RoleResetRequest,
    RoleResetResponse,
    PartitionPoliciesRequest,
    PartitionPoliciesResponse,
    ChangePartitionPolicyRequest,
    ChangePartitionPolicyResponse,
    PipelinedRequest,
    PipelinedInitFailed,
];

fuzz_target!(|data: &[u8]| {
    let Some((&which, payload)) = data.split_first() else {
        return;
    };
    DECODERS[usize::from(which) % DECODERS.len()](payload);
});
