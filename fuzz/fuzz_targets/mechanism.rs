//! The module's mechanism parameter parser (`Mechanism::parse`, what every `C_*Init`, key
//! generation, wrap, unwrap and derive request carries) on arbitrary bytes: the first eight
//! bytes are the `CKM_*` type (little endian), the rest the parameter. A mechanism that parses
//! must give back its type, and its parameter encoding must parse to the same mechanism.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom_module::Mechanism;

fuzz_target!(|data: &[u8]| {
    let Some((ckm, params)) = data.split_first_chunk::<8>() else {
        return;
    };
    let ckm = u64::from_le_bytes(*ckm);
    if let Ok(mech) = Mechanism::parse(ckm, params) {
        assert_eq!(mech.ckm(), ckm);
        let again = Mechanism::parse(ckm, &mech.encode_params())
            .unwrap_or_else(|_| panic!("{ckm:#x}: its own parameter encoding is refused"));
        assert!(again == mech, "{ckm:#x}: the parameter does not round-trip");
        let _ = mech.name();
    }
});
