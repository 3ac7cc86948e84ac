//! The module's attribute template decoder (`Template::decode`: what `C_CreateObject`,
//! `C_FindObjectsInit`, key generation and the nested `CKA_*_TEMPLATE` values carry) on
//! arbitrary bytes. The encoding is canonical: a template that decodes re-encodes to exactly
//! the input, with no attribute type twice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom_module::Template;

fuzz_target!(|data: &[u8]| {
    if let Some(t) = Template::decode(data) {
        assert_eq!(t.encode(), data);
        let types: Vec<u64> = t.iter().map(|a| a.attr_type()).collect();
        for (i, ty) in types.iter().enumerate() {
            assert!(!types[..i].contains(ty), "type {ty:#x} twice");
            assert!(t.find(*ty).is_some());
        }
        assert_eq!(t.len(), types.len());
    }
});
