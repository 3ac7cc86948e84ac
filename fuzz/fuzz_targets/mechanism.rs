//! The module's mechanism parameter parser (`Mechanism::parse`, what every `C_*Init`, key
//! generation, wrap, unwrap and derive request carries) on arbitrary bytes: the first eight
//! bytes are the `CKM_*` type (little endian), the rest the parameter. A mechanism that parses
//! must give back its type, and its parameter encoding must parse to the same mechanism.
//! The two halves of the parameter, when the client library takes them as alike at init
//! (`same_init_checks`), must be judged alike: both refused, or both accepted with the same
//! GCM tag length.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom_client::mechanism::same_init_checks;
use strongroom_module::Mechanism;

fn tag_len(m: &Mechanism) -> Option<usize> {
    match m {
        Mechanism::AesGcm(p) => Some(p.tag_len()),
        _ => None,
    }
}

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
    let (a, b) = params.split_at(params.len() / 2);
    if same_init_checks(ckm, a, b) {
        let (ra, rb) = (Mechanism::parse(ckm, a), Mechanism::parse(ckm, b));
        assert_eq!(ra.is_ok(), rb.is_ok(), "{ckm:#x}: alike parameters judged apart");
        if let (Ok(x), Ok(y)) = (ra, rb) {
            assert_eq!(tag_len(&x), tag_len(&y), "{ckm:#x}: alike parameters, other lengths");
        }
    }
});
