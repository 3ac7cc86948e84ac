//! The policy template parser (`hsm init -applytemplate`, after an upload over SFTP) on
//! arbitrary text. A template it accepts, written back from the policies it set, is accepted
//! again and writes back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom_module::internal::parse_policy_template;

fuzz_target!(|data: &[u8]| {
    let Some((&licensed, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let licensed = u32::from(licensed % 100) + 1;
    if let Ok(written) = parse_policy_template(text, licensed) {
        assert_eq!(
            parse_policy_template(&written, licensed).as_ref(),
            Ok(&written),
            "{text:?}"
        );
    }
});
