//! Checks the generated tables against the data files (read here by a separate, simpler parser)
//! and pins the catalog's examples (MO-32) and quirks (MO-33).

use crate::tables::{
    CKR_BY_NAME, CKR_CONSTANTS, CKR_ROWS, LIB_CONSTANTS, LIB_ROWS, RET_BY_SUFFIX, RET_CONSTANTS,
    RET_ROWS,
};
use crate::{Ckr, LibCode, RetCode, ckr, lib_code, ret};

const RET_TSV: &str = include_str!("../data/ret_codes.tsv");
const RET_STRONGROOM_TSV: &str = include_str!("../data/ret_codes_strongroom.tsv");
const LIB_TSV: &str = include_str!("../data/lib_codes.tsv");
const CKR_STANDARD_TSV: &str = include_str!("../data/ckr_standard.tsv");
const CKR_VENDOR_TSV: &str = include_str!("../data/ckr_vendor.tsv");

/// Rows extracted from the reference tables (and the PKCS#11 v3.0 list plus two legacy values).
/// Rows of the guide's table plus Strongroom's own codes (data/ret_codes_strongroom.tsv).
const RET_COUNT: usize = 352 + 11;
const LIB_COUNT: usize = 97;
const CKR_VENDOR_COUNT: usize = 128;
const CKR_STANDARD_COUNT: usize = 99;

/// Data rows of a TSV file: comment and blank lines dropped, header checked and dropped.
fn rows<'a>(tsv: &'a str, header: &str) -> Vec<Vec<&'a str>> {
    let mut lines = tsv.lines().filter(|l| !l.starts_with('#') && !l.is_empty());
    assert_eq!(lines.next(), Some(header));
    lines.map(|l| l.split('\t').collect()).collect()
}

fn hex(s: &str) -> u64 {
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    u64::from_str_radix(digits, 16).unwrap()
}

fn hex32(s: &str) -> u32 {
    u32::try_from(hex(s)).unwrap()
}

fn ret_rows() -> Vec<Vec<&'static str>> {
    let mut all = rows(RET_TSV, "name\thex\tckr\tnote");
    all.extend(rows(RET_STRONGROOM_TSV, "name\thex\tckr\tnote"));
    all
}

fn ckr_rows() -> Vec<Vec<&'static str>> {
    let mut all = rows(CKR_STANDARD_TSV, "hex\tname\tnote");
    all.extend(rows(CKR_VENDOR_TSV, "hex\tname"));
    all
}

fn lib_rows() -> Vec<Vec<&'static str>> {
    rows(LIB_TSV, "hex\tdecimal\tdescription\tname")
}

#[test]
fn row_counts_match_extraction() {
    assert_eq!(ret_rows().len(), RET_COUNT);
    assert_eq!(lib_rows().len(), LIB_COUNT);
    assert_eq!(rows(CKR_VENDOR_TSV, "hex\tname").len(), CKR_VENDOR_COUNT);
    assert_eq!(
        rows(CKR_STANDARD_TSV, "hex\tname\tnote").len(),
        CKR_STANDARD_COUNT
    );

    assert_eq!(RET_ROWS.len(), RET_COUNT);
    assert_eq!(RET_BY_SUFFIX.len(), RET_COUNT);
    assert_eq!(RET_CONSTANTS.len(), RET_COUNT);
    assert_eq!(LIB_ROWS.len(), LIB_COUNT);
    assert_eq!(LIB_CONSTANTS.len(), LIB_COUNT);
    assert_eq!(CKR_ROWS.len(), CKR_STANDARD_COUNT + CKR_VENDOR_COUNT);
    assert_eq!(CKR_CONSTANTS.len(), CKR_STANDARD_COUNT + CKR_VENDOR_COUNT);
    // One name is listed twice.
    assert_eq!(CKR_BY_NAME.len(), CKR_STANDARD_COUNT + CKR_VENDOR_COUNT - 1);
}

#[test]
fn every_ret_row_round_trips() {
    for row in ret_rows() {
        let (name, value, ckr_name) = (row[0], hex32(row[1]), row[2]);
        let code = RetCode::from_u32(value);
        assert_eq!(RetCode::from_name(name), Some(code), "{name}");
        assert_eq!(code.name(), name);
        assert_eq!(code.value(), value);
        assert!(code.is_known());
        let alias = format!("LUNA_RET_{}", name.strip_prefix("SR_RET_").unwrap());
        assert_eq!(RetCode::from_name(&alias), Some(code), "{alias}");
        if ckr_name == "-" {
            assert!(code.is_internal_only(), "{name}");
            assert_eq!(code.ckr(), ckr::CKR_DEVICE_ERROR);
        } else {
            assert!(!code.is_internal_only(), "{name}");
            let expected = Ckr::from_name(ckr_name).unwrap_or_else(|| panic!("{ckr_name}"));
            assert_eq!(code.ckr(), expected, "{name}");
            assert_eq!(code.ckr().name(), ckr_name);
        }
    }
}

#[test]
fn every_ckr_row_round_trips() {
    let mut seen = std::collections::HashSet::new();
    for row in ckr_rows() {
        let (value, name) = (hex(row[0]), row[1]);
        let code = Ckr::from_u64(value);
        assert_eq!(code.name(), name);
        assert!(code.is_known());
        assert_eq!(code.is_vendor_defined(), value >= 0x8000_0000);
        assert_eq!(code.to_string(), name);
        let first = seen.insert(name);
        assert_eq!(
            Ckr::from_name(name) == Some(code),
            first,
            "{name} {value:#X}"
        );
    }
}

#[test]
fn every_lib_row_round_trips() {
    for row in lib_rows() {
        let value = hex32(row[0]);
        assert_eq!(u64::from(value), row[1].parse::<u64>().unwrap());
        let code = LibCode::from_u32(value);
        assert_eq!(code.value(), value);
        assert_eq!(code.description(), row[2]);
        assert_eq!(code.name(), row.get(3).copied());
        assert!(code.is_known());
    }
}

#[test]
fn constants_match_their_names() {
    for (code, name) in RET_CONSTANTS {
        assert_eq!(code.name(), name);
    }
    for (code, name) in CKR_CONSTANTS {
        assert_eq!(code.name(), name);
    }
    for (code, description) in LIB_CONSTANTS {
        assert_eq!(code.description(), description);
    }
}

/// Catalog MO-32, verbatim (with the product prefix), checked against literal numbers.
#[test]
fn catalog_pinned_examples() {
    // (name, module code, (CKR name, CKR value)); None where the catalog pins no CKR.
    type Pinned = (&'static str, u32, Option<(&'static str, u64)>);
    let pinned: &[Pinned] = &[
        ("SR_RET_OK", 0x0000_0000, Some(("CKR_OK", 0))),
        (
            "SR_RET_PED_UNPLUGGED",
            0x0030_0142,
            Some(("CKR_PED_UNPLUGGED", 0x8000_002E)),
        ),
        (
            "SR_RET_PED_CLIENT_NOT_RUNNING",
            0x0030_0147,
            Some(("CKR_PED_CLIENT_NOT_RUNNING", 0x8000_002D)),
        ),
        (
            "SR_RET_SO_LOGIN_FAILURE_THRESHOLD",
            0x0030_000F,
            Some(("CKR_SO_LOGIN_FAILURE_THRESHOLD", 0x8000_001C)),
        ),
        (
            "SR_RET_SM_PIN_EXPIRED",
            0x00A3_0000,
            Some(("CKR_PIN_EXPIRED", 0xA3)),
        ),
        (
            "SR_RET_TOKEN_LOCKED_OUT",
            0x0030_0002,
            Some(("CKR_PIN_LOCKED", 0xA4)),
        ),
        (
            "SR_RET_OPERATION_RESTRICTED",
            0x0001_0A0B,
            Some(("CKR_OPERATION_NOT_ALLOWED", 0x8000_0030)),
        ),
        (
            "SR_RET_RM_CONFIG_CHANGE_FAILS_DEPENDENCIES",
            0x0001_0A07,
            Some(("CKR_CANCEL", 0x01)),
        ),
        ("SR_RET_LICENSE_CAPACITY_EXCEEDED", 0x0001_0A09, None),
        ("SR_RET_HSM_STORAGE_FULL", 0x8000_0902, None),
        (
            "SR_RET_LOG_FULL",
            0x8000_0D03,
            Some(("CKR_LOG_FULL", 0x8000_0035)),
        ),
        ("SR_RET_AUDIT_LOGIN_FAILURE_THRESHOLD", 0x8000_0D0A, None),
        (
            "SR_RET_SM_SESSION_REALLOC_ERROR",
            0x0031_0102,
            Some(("CKR_DEVICE_ERROR", 0x30)),
        ),
        (
            "SR_RET_SESSION_COUNT",
            0x8000_1603,
            Some(("CKR_MAX_SESSION_COUNT", 0x8000_1603)),
        ),
        ("SR_RET_BUSY", 0x8000_1604, Some(("CKR_BUSY", 0x8000_1604))),
        (
            "SR_RET_NO_RNG_SEED",
            0x0020_0015,
            Some(("CKR_DATA_INVALID", 0x20)),
        ),
    ];
    for &(name, value, mapped) in pinned {
        let code = RetCode::from_name(name).unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(code.value(), value, "{name}");
        if let Some((ckr_name, ckr_value)) = mapped {
            assert_eq!(code.ckr().name(), ckr_name, "{name}");
            assert_eq!(code.ckr().value(), ckr_value, "{name}");
        }
    }
    // The catalog gives these without a CKR; the table maps them as follows.
    assert_eq!(
        ret::SR_RET_LICENSE_CAPACITY_EXCEEDED.ckr(),
        ckr::CKR_LICENSE_CAPACITY_EXCEEDED
    );
    assert_eq!(
        ret::SR_RET_HSM_STORAGE_FULL.ckr(),
        ckr::CKR_HSM_STORAGE_FULL
    );
    assert_eq!(
        ret::SR_RET_AUDIT_LOGIN_FAILURE_THRESHOLD.ckr(),
        ckr::CKR_AUDIT_LOGIN_FAILURE_THRESHOLD
    );

    let vendor: &[(&str, u64)] = &[
        ("CKR_RNG_RESEED_TOO_EARLY", 0x8000_0075),
        ("CKR_HSM_TAMPERED", 0x8000_0076),
        ("CKR_CMD_NOT_ALLOWED_HSM_IN_TRANSPORT", 0x8000_006E),
    ];
    for &(name, value) in vendor {
        assert_eq!(Ckr::from_name(name).map(Ckr::value), Some(value), "{name}");
    }
    assert_eq!(ckr::CKR_RNG_RESEED_TOO_EARLY.value(), 0x8000_0075);
    assert_eq!(ckr::CKR_HSM_TAMPERED.value(), 0x8000_0076);
    assert_eq!(
        ckr::CKR_CMD_NOT_ALLOWED_HSM_IN_TRANSPORT.value(),
        0x8000_006E
    );
}

/// Catalog MO-33: the table's quirks, as decided in the data files.
#[test]
fn table_quirks() {
    // Misspelled in the reference as KR_KEY_UNEXTRACTABLE.
    assert_eq!(ret::SR_RET_KEY_EXTRACTABLE.value(), 0x006A_0001);
    assert_eq!(
        ret::SR_RET_KEY_EXTRACTABLE.ckr(),
        ckr::CKR_KEY_UNEXTRACTABLE
    );
    assert_eq!(ckr::CKR_KEY_UNEXTRACTABLE.value(), 0x6A);
    assert_eq!(Ckr::from_name("KR_KEY_UNEXTRACTABLE"), None);

    // Eight memory codes, one CKR.
    for value in 0x0031_0000..=0x0031_0007 {
        let code = RetCode::from_u32(value);
        assert!(code.is_known(), "{value:#X}");
        assert_eq!(code.ckr(), ckr::CKR_DEVICE_MEMORY, "{value:#X}");
    }

    // Internal-only.
    let deleted = ret::SR_RET_OBJECT_DELETED;
    assert_eq!(deleted.value(), 0x8000_000D);
    assert!(deleted.is_internal_only());
    assert_eq!(deleted.ckr(), ckr::CKR_DEVICE_ERROR);
    let internal = RET_ROWS.iter().filter(|r| r.ckr.is_none()).count();
    assert_eq!(internal, 1);

    // One vendor name at two values.
    assert_eq!(ckr::CKR_ACCESS_ID_INVALID.value(), 0x8000_0068);
    assert_eq!(ckr::CKR_ACCESS_ID_INVALID_80000400.value(), 0x8000_0400);
    assert_eq!(
        ckr::CKR_ACCESS_ID_INVALID_80000400.name(),
        "CKR_ACCESS_ID_INVALID"
    );
    assert_eq!(
        Ckr::from_name("CKR_ACCESS_ID_INVALID"),
        Some(ckr::CKR_ACCESS_ID_INVALID)
    );
    assert_eq!(ckr::CKR_KEY_NOT_ACTIVE.value(), 0x8000_0136);
    assert_eq!(ret::SR_RET_KEY_NOT_ACTIVE.ckr(), ckr::CKR_KEY_NOT_ACTIVE);

    // Pre-v2.0 value kept so the mapping resolves.
    assert_eq!(ret::SR_RET_FLAGS_INVALID.ckr().value(), 0x04);
    assert_eq!(ret::SR_RET_FLAGS_INVALID.ckr().name(), "CKR_FLAGS_INVALID");
}

/// Codes the module needs, by the reference's names.
#[test]
fn codes_the_module_needs() {
    let needed: &[(RetCode, u32, Ckr)] = &[
        (ret::SR_RET_OK, 0x0000_0000, ckr::CKR_OK),
        (
            ret::SR_RET_SO_LOGIN_FAILURE_THRESHOLD,
            0x0030_000F,
            ckr::CKR_SO_LOGIN_FAILURE_THRESHOLD,
        ),
        (
            ret::SR_RET_USER_NOT_LOGGED_IN,
            0x0101_0000,
            ckr::CKR_USER_NOT_LOGGED_IN,
        ),
        (
            ret::SR_RET_SM_NOT_LOGGED_IN,
            0x0101_0001,
            ckr::CKR_USER_NOT_LOGGED_IN,
        ),
        (
            ret::SR_RET_UM_PIN_INCORRECT,
            0x00A0_0000,
            ckr::CKR_PIN_INCORRECT,
        ),
        (
            ret::SR_RET_UM_PIN_INCORRECT_CONTAINER_LOCKED,
            0x00A0_0002,
            ckr::CKR_PIN_INCORRECT,
        ),
        (
            ret::SR_RET_UM_PIN_INCORRECT_CONTAINER_ZEROIZED,
            0x00A0_0001,
            ckr::CKR_PIN_INCORRECT,
        ),
        (
            ret::SR_RET_SM_PIN_EXPIRED,
            0x00A3_0000,
            ckr::CKR_PIN_EXPIRED,
        ),
        (
            ret::SR_RET_UM_PIN_LEN_RANGE,
            0x00A2_0000,
            ckr::CKR_PIN_LEN_RANGE,
        ),
        (
            ret::SR_RET_OPERATION_RESTRICTED,
            0x0001_0A0B,
            ckr::CKR_OPERATION_NOT_ALLOWED,
        ),
        (
            ret::SR_RET_HSM_STORAGE_FULL,
            0x8000_0902,
            ckr::CKR_HSM_STORAGE_FULL,
        ),
        (
            ret::SR_RET_LICENSE_CAPACITY_EXCEEDED,
            0x0001_0A09,
            ckr::CKR_LICENSE_CAPACITY_EXCEEDED,
        ),
        (
            ret::SR_RET_TOO_MANY_CONTAINERS,
            0x8000_0008,
            ckr::CKR_TOO_MANY_CONTAINERS,
        ),
        (
            ret::SR_RET_OH_OBJECT_ALREADY_EXISTS,
            0x0001_0C02,
            ckr::CKR_CANCEL,
        ),
        (
            ret::SR_RET_SM_ACCESS_ALREADY_EXISTS,
            0x8000_0401,
            ckr::CKR_DATA_INVALID,
        ),
        (
            ret::SR_RET_RM_ELEMENT_ID_INVALID,
            0x0020_0A01,
            ckr::CKR_DATA_INVALID,
        ),
        (
            ret::SR_RET_RM_ELEMENT_VALUE_INVALID,
            0x0020_0A00,
            ckr::CKR_DATA_INVALID,
        ),
        (
            ret::SR_RET_RM_CONFIG_CHANGE_ILLEGAL,
            0x0001_0A06,
            ckr::CKR_CANCEL,
        ),
        (
            ret::SR_RET_RM_CONFIG_CHANGE_FAILS_DEPENDENCIES,
            0x0001_0A07,
            ckr::CKR_CANCEL,
        ),
        (
            ret::SR_RET_RM_POLICY_WRITE_RESTRICTED,
            0x0001_0A0A,
            ckr::CKR_CANCEL,
        ),
        (
            ret::SR_RET_USER_ALREADY_LOGGED_IN,
            0x0100_0000,
            ckr::CKR_USER_ALREADY_LOGGED_IN,
        ),
        (
            ret::SR_RET_SM_OTHER_USER_LOGGED_IN,
            0x0100_0001,
            ckr::CKR_USER_ANOTHER_ALREADY_LOGGED_IN,
        ),
        (
            ret::SR_RET_TOKEN_NOT_PRESENT,
            0x00E0_0000,
            ckr::CKR_TOKEN_NOT_PRESENT,
        ),
        (ret::SR_RET_DATA_INVALID, 0x0020_0000, ckr::CKR_DATA_INVALID),
        (
            ret::SR_RET_ARGUMENTS_BAD,
            0x0007_0000,
            ckr::CKR_ARGUMENTS_BAD,
        ),
        (ret::SR_RET_MTK_ZEROIZED, 0x8000_0531, ckr::CKR_MTK_ZEROIZED),
        (
            ret::SR_RET_CONTAINER_OBJECT_STORAGE_FULL,
            0x8000_0903,
            ckr::CKR_CONTAINER_OBJECT_STORAGE_FULL,
        ),
        (ret::SR_RET_DEVICE_ERROR, 0x0030_0000, ckr::CKR_DEVICE_ERROR),
    ];
    for &(code, value, mapped) in needed {
        assert_eq!(code.value(), value, "{code:?}");
        assert_eq!(code.ckr(), mapped, "{code:?}");
    }
}

#[test]
fn display_is_the_shell_form() {
    assert_eq!(
        ret::SR_RET_PED_UNPLUGGED.to_string(),
        "300142 : SR_RET_PED_UNPLUGGED"
    );
    assert_eq!(
        ret::SR_RET_OPERATION_RESTRICTED.to_string(),
        "10A0B : SR_RET_OPERATION_RESTRICTED"
    );
    assert_eq!(
        ret::SR_RET_SM_SESSION_REALLOC_ERROR.to_string(),
        "310102 : SR_RET_SM_SESSION_REALLOC_ERROR"
    );
    assert_eq!(
        ret::SR_RET_LOG_FULL.to_string(),
        "80000D03 : SR_RET_LOG_FULL"
    );
    assert_eq!(ret::SR_RET_OK.to_string(), "0 : SR_RET_OK");
    assert_eq!(
        RetCode::from_u32(0xDEAD).to_string(),
        "DEAD : SR_RET_UNKNOWN"
    );

    assert_eq!(
        format!("{:?}", ret::SR_RET_PED_UNPLUGGED),
        "RetCode(SR_RET_PED_UNPLUGGED, 0x00300142)"
    );
    assert_eq!(
        format!("{:?}", ckr::CKR_PED_UNPLUGGED),
        "Ckr(CKR_PED_UNPLUGGED, 0x8000002E)"
    );
    assert_eq!(ckr::CKR_PIN_INCORRECT.to_string(), "CKR_PIN_INCORRECT");
    assert_eq!(Ckr::from_u64(0x8000_0FFF).to_string(), "0x80000FFF");

    assert_eq!(
        lib_code::SOCKET_ERROR.to_string(),
        "C0000500 : SOCKET ERROR"
    );
    assert_eq!(
        format!("{:?}", lib_code::SOCKET_ERROR),
        "LibCode(0xC0000500, SOCKET ERROR)"
    );
}

#[test]
fn unknown_values() {
    let code = RetCode::from_u32(0x0030_0025);
    assert!(!code.is_known());
    assert!(!code.is_internal_only());
    assert_eq!(code.name(), "SR_RET_UNKNOWN");
    assert_eq!(code.ckr(), ckr::CKR_DEVICE_ERROR);
    assert_eq!(RetCode::from_name("SR_RET_UNKNOWN"), None);
    assert_eq!(RetCode::from_name("sr_ret_ok"), None);
    assert_eq!(RetCode::from_name("OK"), None);
    assert_eq!(RetCode::from_name(""), None);
    assert_eq!(RetCode::from_name("SR_RET_"), None);

    assert!(ret::SR_RET_OK.is_ok());
    assert!(!ret::SR_RET_ERROR.is_ok());

    let value = Ckr::from_u64(0x1_0000_0000);
    assert!(!value.is_known());
    assert_eq!(value.name(), "CKR_UNKNOWN");
    assert_eq!(Ckr::from_name("CKR_UNKNOWN"), None);
    assert!(ckr::CKR_OK.is_ok());
    assert!(ckr::CKR_VENDOR_DEFINED.is_vendor_defined());
    assert!(!ckr::CKR_OPERATION_CANCEL_FAILED.is_vendor_defined());

    let lib = LibCode::from_u32(0xC000_0FFF);
    assert!(!lib.is_known());
    assert_eq!(lib.description(), "UNKNOWN LIBRARY CODE");
    assert_eq!(lib.name(), None);
    assert!(lib_code::OKAY_NO_ERROR.is_ok());
    assert_eq!(lib_code::OKAY_NO_ERROR.name(), Some("RC_OK"));
    assert_eq!(lib_code::SOCKET_ERROR.name(), Some("RC_SOCKET_ERROR"));
}

/// Catalog MO-31's sample library codes.
#[test]
fn catalog_library_examples() {
    let samples: &[(u32, &str)] = &[
        (0xC000_0101, "INVALID SLOT IDENTIFIER"),
        (0xC000_0303, "OPERATION TIMED OUT"),
        (0xC000_0500, "SOCKET ERROR"),
        (0xC000_0711, "SSL FAILED HANDSHAKE"),
        (0xC000_1000, "PARTITION LOCKED"),
        (0xC000_1001, "PARTITION NOT ACTIVATED"),
        (0xC000_1100, "UNABLE TO CONNECT"),
        (0xC000_2012, "USB PED NOT FOUND"),
    ];
    for &(value, description) in samples {
        assert_eq!(LibCode::from_u32(value).description(), description);
    }
    assert_eq!(lib_code::INVALID_SLOT_IDENTIFIER.value(), 0xC000_0101);
    assert_eq!(lib_code::PROGRAMMING_ERROR_RETURN_CODE.value(), 0xC000_0000);
}
