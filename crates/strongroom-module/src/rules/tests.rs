use super::*;

#[test]
fn label_boundaries() {
    assert!(hsm_label("").is_err());
    assert_eq!(hsm_label("a").unwrap(), "a");
    let l32 = "A".repeat(32);
    assert_eq!(hsm_label(&l32).unwrap(), l32);
    let l40 = format!("{}{}", "B".repeat(32), "_tail123");
    assert_eq!(
        hsm_label(&l40).unwrap(),
        "B".repeat(32),
        "long labels are truncated"
    );
    assert!(hsm_label("my-hsm").is_err(), "dash refused");
    assert!(hsm_label("my hsm").is_err(), "space refused");
    assert!(
        hsm_label(&format!("{}!", "C".repeat(32))).is_err(),
        "bad char past 32 refused"
    );
    assert_eq!(hsm_label("Strong_Room_01").unwrap(), "Strong_Room_01");
}

#[test]
fn password_boundaries() {
    assert!(password("1234567").is_err(), "7 chars");
    assert!(password("12345678").is_ok(), "8 chars");
    assert!(password(&"x".repeat(255)).is_ok());
    assert!(password(&"x".repeat(256)).is_err());
    assert!(password(" leading1").is_err());
    assert!(password("inner space ok").is_ok());
    for bad in ['"', '<', '>', '&', '`', '\t', 'é'] {
        assert!(
            password(&format!("abcdefgh{bad}")).is_err(),
            "{bad:?} must be refused"
        );
    }
    assert!(password("!#$%'()*+,-./:;=?@[\\]^_{|}~").is_ok());
    assert_eq!(
        password("1234567").unwrap_err().code(),
        strongroom_proto::ret::SR_RET_UM_PIN_LEN_RANGE
    );
}

#[test]
fn domain_boundaries() {
    assert!(domain("").is_err());
    assert!(domain("d").is_ok());
    assert!(domain(&"d".repeat(128)).is_ok());
    assert!(domain(&"d".repeat(129)).is_err());
    assert!(domain(" lead").is_err());
    assert!(domain("my domain !@#$%^*_-=+[]{}()/:',.~").is_ok());
    for bad in ['"', '&', ';', '<', '>', '?', '\\', '`', '|'] {
        assert!(
            domain(&format!("dom{bad}ain")).is_err(),
            "{bad:?} must be refused"
        );
    }
}

#[test]
fn partition_name_boundaries() {
    assert!(partition_name("").is_err());
    assert!(partition_name("p").is_ok());
    assert!(partition_name(&"p".repeat(32)).is_ok());
    assert!(
        partition_name(&"p".repeat(33)).is_err(),
        "no truncation for names"
    );
    assert!(partition_name("Par 1 (t) {x}[y]").is_ok());
    assert!(partition_name(":'./~!@#$%^*_-=+").is_ok());
    for bad in ['&', '\\', '|', ';', '<', '>', '`', '"', '?'] {
        assert!(
            partition_name(&format!("par{bad}")).is_err(),
            "{bad:?} must be refused"
        );
    }
}
