use proptest::prelude::*;

use super::*;

fn frames(decoder: &mut FrameDecoder) -> Result<Vec<Frame>, FrameError> {
    let mut out = Vec::new();
    while let Some(f) = decoder.next_frame()? {
        out.push(f);
    }
    Ok(out)
}

#[test]
fn layout_is_as_documented() {
    let mut wire = Vec::new();
    encode_frame(&mut wire, 0x0102_0304_0506_0708, 0x0A0B, b"xyz", 16).unwrap();
    assert_eq!(
        wire,
        [
            13, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1, 0x0B, 0x0A, b'x', b'y', b'z'
        ],
        "len = 10 + payload, little endian"
    );
    assert_eq!(HEADER_LEN, 14);
}

#[test]
fn empty_payloads_and_byte_by_byte_arrival() {
    let mut wire = Vec::new();
    encode_frame(&mut wire, 1, 2, b"", 16).unwrap();
    encode_frame(&mut wire, 3, 4, b"hello", 16).unwrap();
    let mut d = FrameDecoder::new(16);
    let mut got = Vec::new();
    for b in &wire {
        d.push(std::slice::from_ref(b));
        got.extend(frames(&mut d).unwrap());
    }
    assert_eq!(got.len(), 2);
    assert_eq!(
        (got[0].request_id, got[0].opcode, got[0].payload.len()),
        (1, 2, 0)
    );
    assert_eq!((got[1].request_id, &got[1].payload[..]), (3, &b"hello"[..]));
    assert_eq!(d.buffered(), 0);
}

#[test]
fn oversize_frames_are_refused_before_their_payload_arrives() {
    let mut d = FrameDecoder::new(8);
    let announced = u32::try_from(HEADER_LEN - 4 + 9).unwrap();
    d.push(&announced.to_le_bytes());
    assert_eq!(
        d.next_frame(),
        Err(FrameError::TooLarge {
            announced: 9,
            max: 8
        })
    );
    // The error sticks: nothing after it is ever decoded.
    d.push(&[0; 64]);
    assert!(d.next_frame().is_err());
    assert_eq!(d.buffered(), 0);
    let mut d = FrameDecoder::new(DEFAULT_MAX_PAYLOAD);
    d.push(&u32::MAX.to_le_bytes());
    assert!(matches!(d.next_frame(), Err(FrameError::TooLarge { .. })));
}

#[test]
fn frames_shorter_than_their_header_are_refused() {
    for announced in 0..10u32 {
        let mut d = FrameDecoder::new(64);
        d.push(&announced.to_le_bytes());
        assert_eq!(d.next_frame(), Err(FrameError::TooShort { announced }));
    }
}

#[test]
fn encoder_refuses_what_the_decoder_would() {
    let mut out = Vec::new();
    assert_eq!(
        encode_frame(&mut out, 1, 1, &[0; 9], 8),
        Err(PayloadTooLarge { len: 9, max: 8 })
    );
    assert!(out.is_empty(), "nothing written");
}

#[test]
fn debug_never_shows_payload_bytes() {
    let f = Frame {
        request_id: 1,
        opcode: 2,
        payload: b"PIN=1234".to_vec(),
    };
    let s = format!("{f:?}");
    assert!(!s.contains("PIN") && s.contains("payload_len: 8"));
}

#[test]
fn hello_round_trip_and_negotiation() {
    let h = Hello { min: 1, max: 3 };
    assert_eq!(Hello::decode(&h.encode()), Some(h));
    assert_eq!(h.negotiate(1..=1), Some(1));
    assert_eq!(h.negotiate(2..=5), Some(3));
    assert_eq!(Hello { min: 4, max: 5 }.negotiate(1..=3), None);
    assert_eq!(Hello::decode(b"SRNT\x02\x00\x01\x00"), None, "min > max");
    assert_eq!(Hello::decode(b"XXXX\x01\x00\x01\x00"), None, "bad magic");
    assert_eq!(Hello::decode(b"SRNT\x01\x00"), None, "short");
    assert_eq!(Hello::decode(b"SRNT\x01\x00\x01\x00\x00"), None, "long");
}

proptest! {
    #[test]
    fn any_frame_sequence_round_trips_across_any_split(
        items in prop::collection::vec((any::<u64>(), any::<u16>(), prop::collection::vec(any::<u8>(), 0..200)), 0..20),
        split in 1usize..64,
    ) {
        let mut wire = Vec::new();
        for (id, op, p) in &items {
            encode_frame(&mut wire, *id, *op, p, 256).unwrap();
        }
        let mut d = FrameDecoder::new(256);
        let mut got = Vec::new();
        for chunk in wire.chunks(split) {
            d.push(chunk);
            got.extend(frames(&mut d).unwrap());
        }
        prop_assert_eq!(got.len(), items.len());
        for (f, (id, op, p)) in got.iter().zip(&items) {
            prop_assert_eq!((f.request_id, f.opcode, &f.payload), (*id, *op, p));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_never_exceed_the_maximum(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        max in 0usize..128,
    ) {
        let mut d = FrameDecoder::new(max);
        d.push(&bytes);
        while let Ok(Some(f)) = d.next_frame() {
            prop_assert!(f.payload.len() <= max);
        }
    }
}
