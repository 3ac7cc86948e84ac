//! Round trips of every message, the decoder's refusals, and random input never panicking.

use super::*;
use proptest::prelude::*;

fn mech() -> MechanismSpec {
    MechanismSpec {
        mechanism: 0x1041,
        params: vec![6, 8, 42, 134, 72, 206, 61, 3, 1, 7],
    }
}

/// Encodes, decodes, compares; then checks that one trailing byte is refused.
fn round_trip<M: Message + PartialEq + std::fmt::Debug>(msg: M) {
    let bytes = encode(&msg);
    assert_eq!(bytes[0], MESSAGE_VERSION);
    assert_eq!(decode::<M>(&bytes).as_ref(), Ok(&msg));
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(decode::<M>(&longer), Err(DecodeError::TrailingBytes));
    let mut other = bytes;
    other[0] = MESSAGE_VERSION + 1;
    assert_eq!(
        decode::<M>(&other),
        Err(DecodeError::Version(MESSAGE_VERSION + 1))
    );
    assert_eq!(decode::<M>(&[]), Err(DecodeError::Empty));
    assert!(opcode_name(M::OPCODE).is_some());
}

#[test]
fn every_message_round_trips() {
    round_trip(ErrorResponse {
        code: 0x0150_0000,
        needed: Some(64),
    });
    round_trip(GetSlotListRequest {});
    round_trip(GetSlotListResponse {
        slots: vec![
            SlotEntry {
                serial: 1_234_567_890_123,
                label: "payments".into(),
                initialized: true,
            },
            SlotEntry::default(),
        ],
    });
    round_trip(GetTokenInfoRequest { serial: 7 });
    round_trip(GetTokenInfoResponse {
        serial: 7,
        label: "p".into(),
        initialized: true,
        flags: 0x40d,
        session_count: 2,
        max_session_count: 1024,
        total_memory: 1 << 20,
        free_memory: 1 << 19,
        objects: 3,
    });
    round_trip(InitTokenRequest {
        serial: 7,
        so_pin: b"sopin".to_vec(),
        label: "p".into(),
        domain: None,
    });
    round_trip(InitTokenRequest {
        serial: 7,
        so_pin: b"sopin".to_vec(),
        label: "p".into(),
        domain: Some(b"my domain".to_vec()),
    });
    round_trip(InitTokenResponse {});
    round_trip(OpenSessionRequest {
        serial: 7,
        read_write: true,
    });
    round_trip(OpenSessionResponse { session: 9 });
    round_trip(CloseSessionRequest { session: 9 });
    round_trip(CloseSessionResponse {});
    round_trip(CloseAllSessionsRequest { serial: 7 });
    round_trip(CloseAllSessionsResponse {});
    round_trip(GetSessionInfoRequest { session: 9 });
    round_trip(GetSessionInfoResponse {
        serial: 7,
        state: 3,
        flags: 6,
    });
    round_trip(LoginRequest {
        session: 9,
        user_type: CKU_LIMITED_CRYPTO_OFFICER,
        pin: b"pin".to_vec(),
    });
    round_trip(LoginResponse {});
    round_trip(LogoutRequest { session: 9 });
    round_trip(LogoutResponse {});
    round_trip(InitPinRequest {
        session: 9,
        pin: b"co".to_vec(),
    });
    round_trip(InitPinResponse {});
    round_trip(SetPinRequest {
        session: 9,
        old_pin: b"a".to_vec(),
        new_pin: b"b".to_vec(),
    });
    round_trip(SetPinResponse {});
    round_trip(GetMechanismListRequest { serial: 7 });
    round_trip(GetMechanismListResponse {
        mechanisms: vec![0, 1, 0x1041, u64::MAX],
    });
    round_trip(GetMechanismInfoRequest {
        serial: 7,
        mechanism: 0x1041,
    });
    round_trip(GetMechanismInfoResponse {
        min_key_size: 256,
        max_key_size: 521,
        flags: 0x1_0000,
    });
    round_trip(GenerateRandomRequest {
        session: 9,
        len: 32,
    });
    round_trip(GenerateRandomResponse {
        data: vec![1, 2, 3],
    });
    round_trip(SeedRandomRequest {
        session: 9,
        seed: vec![4; 16],
    });
    round_trip(SeedRandomResponse {});
    round_trip(CreateObjectRequest {
        session: 9,
        template: vec![1, 2, 3, 4],
    });
    round_trip(CreateObjectResponse { object: 11 });
    round_trip(DestroyObjectRequest {
        session: 9,
        object: 11,
    });
    round_trip(DestroyObjectResponse {});
    round_trip(GetAttributeValueRequest {
        session: 9,
        object: 11,
        types: vec![0, 3, 0x11],
    });
    round_trip(GetAttributeValueResponse {
        values: vec![
            AttrValue::Value(vec![1]),
            AttrValue::Sensitive,
            AttrValue::TypeInvalid,
        ],
    });
    round_trip(SetAttributeValueRequest {
        session: 9,
        object: 11,
        template: vec![5],
    });
    round_trip(SetAttributeValueResponse {});
    round_trip(FindObjectsInitRequest {
        session: 9,
        template: vec![],
    });
    round_trip(FindObjectsInitResponse {});
    round_trip(FindObjectsRequest {
        session: 9,
        max: 10,
    });
    round_trip(FindObjectsResponse {
        objects: vec![11, 12],
    });
    round_trip(FindObjectsFinalRequest { session: 9 });
    round_trip(FindObjectsFinalResponse {});
    round_trip(SignInitRequest {
        session: 9,
        mechanism: mech(),
        key: 12,
    });
    round_trip(SignInitResponse {
        single_output: Some(OutputLength::Fixed(64)),
        repeatable: true,
    });
    round_trip(EncryptInitResponse {
        single_output: Some(OutputLength::Blocks {
            block: 16,
            extra: 16,
        }),
        repeatable: true,
    });
    round_trip(DecryptInitResponse {
        single_output: Some(OutputLength::Less(16)),
        repeatable: false,
    });
    round_trip(DigestInitResponse {
        single_output: None,
    });
    round_trip(SignRequest {
        session: 9,
        data: b"hello".to_vec(),
        capacity: None,
    });
    round_trip(SignResponse {
        output: OutputData::Length(64),
    });
    round_trip(SignResponse {
        output: OutputData::Data(vec![9; 64]),
    });
    round_trip(VerifyInitRequest {
        session: 9,
        mechanism: mech(),
        key: 11,
    });
    round_trip(VerifyInitResponse { repeatable: false });
    round_trip(PipelinedRequest {
        init_opcode: OP_SIGN_INIT,
        init: vec![1, 2, 3],
        call_opcode: OP_SIGN,
        call: vec![4, 5],
    });
    round_trip(PipelinedRequest {
        init_opcode: OP_DECRYPT_INIT,
        init: vec![6],
        call_opcode: OP_DECRYPT_FINAL,
        call: Vec::new(),
    });
    round_trip(PipelinedInitFailed { code: 0xB3_0000 });
    round_trip(VerifyRequest {
        session: 9,
        data: b"hello".to_vec(),
        signature: vec![9; 64],
    });
    round_trip(VerifyResponse {});
    round_trip(GenerateKeyPairRequest {
        session: 9,
        mechanism: mech(),
        public_template: vec![1],
        private_template: vec![2],
    });
    round_trip(GenerateKeyPairResponse {
        public_key: 11,
        private_key: 12,
    });
}

#[test]
fn every_later_message_round_trips() {
    let out = || OutputData::Data(vec![7; 48]);
    round_trip(CopyObjectRequest {
        session: 9,
        object: 11,
        template: vec![3],
    });
    round_trip(CopyObjectResponse { object: 12 });
    round_trip(GetObjectSizeRequest {
        session: 9,
        object: 11,
    });
    round_trip(GetObjectSizeResponse { size: 4096 });
    round_trip(SignUpdateRequest {
        session: 9,
        data: b"part".to_vec(),
    });
    round_trip(SignUpdateResponse {});
    round_trip(SignFinalRequest {
        session: 9,
        capacity: Some(64),
    });
    round_trip(SignFinalResponse { output: out() });
    round_trip(VerifyUpdateRequest {
        session: 9,
        data: b"part".to_vec(),
    });
    round_trip(VerifyFinalRequest {
        session: 9,
        signature: vec![1; 64],
    });
    round_trip(VerifyFinalResponse {});
    round_trip(GenerateKeyRequest {
        session: 9,
        mechanism: mech(),
        template: vec![1, 2],
    });
    round_trip(GenerateKeyResponse { key: 13 });
    round_trip(WrapKeyRequest {
        session: 9,
        mechanism: mech(),
        wrapping_key: 13,
        key: 14,
        capacity: None,
    });
    round_trip(WrapKeyResponse {
        output: OutputData::Length(40),
    });
    round_trip(UnwrapKeyRequest {
        session: 9,
        mechanism: mech(),
        unwrapping_key: 13,
        wrapped: vec![5; 40],
        template: vec![1],
    });
    round_trip(UnwrapKeyResponse { key: 15 });
    round_trip(DeriveKeyRequest {
        session: 9,
        mechanism: mech(),
        base_key: 13,
        template: vec![1],
    });
    round_trip(DeriveKeyResponse { key: 16 });
    round_trip(EncryptInitRequest {
        session: 9,
        mechanism: mech(),
        key: 13,
    });
    round_trip(EncryptRequest {
        session: 9,
        data: vec![0; 4096],
        capacity: Some(4112),
    });
    round_trip(EncryptResponse { output: out() });
    round_trip(EncryptUpdateRequest {
        session: 9,
        data: vec![0; 16],
        capacity: None,
    });
    round_trip(EncryptFinalRequest {
        session: 9,
        capacity: Some(16),
    });
    round_trip(EncryptFinalResponse { output: out() });
    round_trip(DecryptInitRequest {
        session: 9,
        mechanism: mech(),
        key: 13,
    });
    round_trip(DecryptRequest {
        session: 9,
        data: vec![0; 32],
        capacity: None,
    });
    round_trip(DecryptUpdateResponse { output: out() });
    round_trip(DecryptFinalRequest {
        session: 9,
        capacity: None,
    });
    round_trip(DigestInitRequest {
        session: 9,
        mechanism: mech(),
    });
    round_trip(DigestRequest {
        session: 9,
        data: b"abc".to_vec(),
        capacity: Some(32),
    });
    round_trip(DigestUpdateRequest {
        session: 9,
        data: b"abc".to_vec(),
    });
    round_trip(DigestFinalResponse { output: out() });
}

#[test]
fn vendor_messages_round_trip() {
    round_trip(RoleListRequest { serial: 7 });
    round_trip(RoleListResponse {
        roles: vec![
            RoleEntry {
                user_type: CKU_SO,
                initialized: true,
                locked: false,
                must_change: false,
                failures: 1,
            },
            RoleEntry {
                user_type: CKU_CRYPTO_USER,
                ..RoleEntry::default()
            },
        ],
    });
    round_trip(RoleInitRequest {
        session: 9,
        user_type: CKU_CRYPTO_USER,
        pin: b"Cu-Pass-1234".to_vec(),
    });
    round_trip(RoleResetRequest {
        session: 9,
        user_type: CKU_USER,
        pin: b"Co-Pass-1234".to_vec(),
    });
    round_trip(PartitionPoliciesRequest { serial: 7 });
    round_trip(PartitionPoliciesResponse {
        text: b"Partition policies".to_vec(),
    });
    round_trip(ChangePartitionPolicyRequest {
        session: 9,
        policy: 22,
        value: 1,
    });
    round_trip(ChangePartitionPolicyResponse {
        old: 0,
        destroyed_objects: true,
    });
}

#[test]
fn opcodes_are_unique_and_clear_of_hello() {
    let mut ops: Vec<u16> = OPCODES.iter().map(|(op, _)| *op).collect();
    ops.sort_unstable();
    ops.dedup();
    assert_eq!(ops.len(), OPCODES.len());
    assert!(!ops.contains(&crate::OP_HELLO));
}

#[test]
fn oversized_fields_are_refused() {
    let label = InitTokenRequest {
        serial: 1,
        so_pin: vec![],
        label: "x".repeat(MAX_TEXT + 1),
        domain: None,
    };
    assert_eq!(
        decode::<InitTokenRequest>(&encode(&label)),
        Err(DecodeError::OutOfBounds)
    );
    let blob = SeedRandomRequest {
        session: 1,
        seed: vec![0; MAX_BLOB + 1],
    };
    assert_eq!(
        decode::<SeedRandomRequest>(&encode(&blob)),
        Err(DecodeError::OutOfBounds)
    );
    let list = GetMechanismListResponse {
        mechanisms: vec![0; MAX_ITEMS + 1],
    };
    assert_eq!(
        decode::<GetMechanismListResponse>(&encode(&list)),
        Err(DecodeError::OutOfBounds)
    );
}

#[test]
fn a_huge_length_prefix_is_malformed_not_an_allocation() {
    // Version, session 1, then a byte-string length of u32::MAX with no bytes after it.
    let payload = [MESSAGE_VERSION, 1, 0xff, 0xff, 0xff, 0xff, 0x0f];
    assert_eq!(
        decode::<SeedRandomRequest>(&payload),
        Err(DecodeError::Malformed)
    );
    let payload = [MESSAGE_VERSION, 0xff, 0xff, 0xff, 0xff, 0x0f];
    assert_eq!(
        decode::<GetSlotListResponse>(&payload),
        Err(DecodeError::Malformed)
    );
}

fn decode_all(bytes: &[u8]) {
    macro_rules! all {
        ($($t:ty),* $(,)?) => { $(let _ = decode::<$t>(bytes);)* };
    }
    all!(
        ErrorResponse,
        GetSlotListRequest,
        GetSlotListResponse,
        GetTokenInfoRequest,
        GetTokenInfoResponse,
        InitTokenRequest,
        OpenSessionRequest,
        OpenSessionResponse,
        GetSessionInfoResponse,
        LoginRequest,
        SetPinRequest,
        GetMechanismListResponse,
        GetMechanismInfoResponse,
        GenerateRandomRequest,
        GenerateRandomResponse,
        CreateObjectRequest,
        GetAttributeValueRequest,
        GetAttributeValueResponse,
        SetAttributeValueRequest,
        FindObjectsRequest,
        FindObjectsResponse,
        SignInitRequest,
        SignRequest,
        SignResponse,
        VerifyRequest,
        GenerateKeyPairRequest,
        GenerateKeyPairResponse,
        CopyObjectRequest,
        GetObjectSizeResponse,
        SignUpdateRequest,
        SignFinalRequest,
        SignFinalResponse,
        VerifyFinalRequest,
        GenerateKeyRequest,
        WrapKeyRequest,
        WrapKeyResponse,
        UnwrapKeyRequest,
        DeriveKeyRequest,
        EncryptInitRequest,
        EncryptRequest,
        EncryptResponse,
        EncryptUpdateRequest,
        EncryptFinalRequest,
        DecryptRequest,
        DecryptUpdateRequest,
        DecryptFinalResponse,
        DigestInitRequest,
        DigestRequest,
        DigestUpdateRequest,
        DigestFinalResponse,
        RoleListResponse,
        RoleInitRequest,
        PartitionPoliciesResponse,
        ChangePartitionPolicyRequest,
    );
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        decode_all(&bytes);
        let mut versioned = vec![MESSAGE_VERSION];
        versioned.extend(&bytes);
        decode_all(&versioned);
    }
}

#[test]
fn output_length_rules() {
    assert_eq!(OutputLength::Fixed(256).for_input(0), 256);
    assert_eq!(OutputLength::Fixed(256).for_input(u64::MAX), 256);
    let pad = OutputLength::Blocks {
        block: 16,
        extra: 16,
    };
    assert_eq!(
        [0, 1, 15, 16, 17, 32].map(|n| pad.for_input(n)),
        [16, 16, 16, 32, 32, 48]
    );
    let tag = OutputLength::Blocks {
        block: 1,
        extra: 16,
    };
    assert_eq!(tag.for_input(4096), 4112);
    assert_eq!(tag.for_input(u64::MAX), u64::MAX);
    // A zero block is taken as one, never a division by zero.
    let zero = OutputLength::Blocks { block: 0, extra: 0 };
    assert_eq!(zero.for_input(7), 7);
    assert_eq!(OutputLength::Less(16).for_input(40), 24);
    assert_eq!(OutputLength::Less(16).for_input(5), 0);
}

/// Byte fields travel as a length then the bytes, exactly as a sequence of `u8` does in
/// postcard: peers that encode them either way understand each other.
#[test]
fn byte_fields_are_laid_out_as_byte_sequences() {
    let data: Vec<u8> = (0..=255).cycle().take(300).collect();
    let msg = SignRequest {
        session: 5,
        data: data.clone(),
        capacity: Some(64),
    };
    let mut expected = vec![MESSAGE_VERSION, 5];
    expected.extend(postcard::to_stdvec(&data).expect("a sequence of u8"));
    expected.extend([1, 64]);
    assert_eq!(encode(&msg), expected);
    assert_eq!(&expected[2..4], &[0xAC, 0x02], "the length, a varint");
    assert_eq!(decode::<SignRequest>(&expected).expect("decodes"), msg);

    let out = SignResponse {
        output: OutputData::Data(vec![7; 3]),
    };
    let mut expected = vec![MESSAGE_VERSION, 1];
    expected.extend(postcard::to_stdvec(&vec![7u8; 3]).expect("a sequence of u8"));
    assert_eq!(encode(&out), expected);
    let init = InitTokenRequest {
        serial: 1,
        so_pin: b"pin".to_vec(),
        label: "l".into(),
        domain: Some(b"d".to_vec()),
    };
    assert_eq!(
        encode(&init),
        [MESSAGE_VERSION, 1, 3, b'p', b'i', b'n', 1, b'l', 1, 1, b'd']
    );
}

#[test]
fn only_calls_of_the_started_operation_come_with_its_init() {
    assert!(pipelines(OP_SIGN_INIT, OP_SIGN));
    assert!(pipelines(OP_SIGN_INIT, OP_SIGN_FINAL));
    assert!(pipelines(OP_DECRYPT_INIT, OP_DECRYPT_UPDATE));
    assert!(!pipelines(OP_SIGN_INIT, OP_VERIFY));
    assert!(!pipelines(OP_ENCRYPT_INIT, OP_DECRYPT));
    assert!(!pipelines(OP_DIGEST_INIT, OP_DIGEST));
    assert!(!pipelines(OP_GENERATE_RANDOM, OP_SIGN));
}
