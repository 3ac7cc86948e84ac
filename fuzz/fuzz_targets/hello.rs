//! The hello payload decoder and version negotiation on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom_proto::{Hello, PROTOCOL_VERSIONS};

fuzz_target!(|data: &[u8]| {
    if let Some(h) = Hello::decode(data) {
        assert!(h.min <= h.max);
        assert_eq!(h.encode().as_slice(), data);
        if let Some(v) = h.negotiate(PROTOCOL_VERSIONS) {
            assert!((h.min..=h.max).contains(&v) && PROTOCOL_VERSIONS.contains(&v));
        }
    }
});
