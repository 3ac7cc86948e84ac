//! The NTLS frame decoder on arbitrary bytes in arbitrary chunks: it must never panic, never
//! return a payload above its maximum, and re-encoding every frame it returns must give back
//! exactly the bytes it consumed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom_proto::{FrameDecoder, encode_frame};

const MAX: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else { return };
    let chunk = usize::from(split).max(1);
    let mut decoder = FrameDecoder::new(MAX);
    let mut reencoded = Vec::new();
    let mut failed = false;
    for part in rest.chunks(chunk) {
        decoder.push(part);
        loop {
            match decoder.next_frame() {
                Ok(Some(f)) => {
                    assert!(f.payload.len() <= MAX);
                    encode_frame(&mut reencoded, f.request_id, f.opcode, &f.payload, MAX)
                        .expect("a decoded frame re-encodes");
                }
                Ok(None) => break,
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        if failed {
            break;
        }
    }
    // Whatever was decoded is a prefix of the input.
    assert!(rest.starts_with(&reencoded));
});
