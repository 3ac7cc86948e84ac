use super::*;

fn store() -> (tempfile::TempDir, UserStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = UserStore::open(dir.path()).expect("open users");
    (dir, store)
}

#[test]
fn built_in_users_start_with_the_factory_password_and_only_admin_enabled() {
    let (dir, store) = store();
    let list = store.list().expect("list");
    let names: Vec<&str> = list.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["admin", "operator", "monitor", "audit"]);
    for u in &list {
        assert!(u.must_change && u.built_in, "{u:?}");
        assert_eq!(u.enabled, u.name == "admin", "{u:?}");
    }
    assert!(matches!(
        store.check_password("admin", FACTORY_PASSWORD),
        PasswordCheck::Accepted(_)
    ));
    assert_eq!(
        store.check_password("audit", FACTORY_PASSWORD),
        PasswordCheck::Disabled
    );
    assert_eq!(
        store.check_password("admin", "wrong"),
        PasswordCheck::Rejected
    );
    assert_eq!(store.check_password("nobody", "x"), PasswordCheck::Rejected);
    // Owner-only, and no password in clear.
    let path = dir.path().join("appliance").join("users.toml");
    let mode = std::fs::metadata(&path).expect("file").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(
        !text.contains(FACTORY_PASSWORD) && text.contains("$argon2id$"),
        "{text}"
    );
}

#[test]
fn password_changes_follow_the_rules() {
    let (_dir, store) = store();
    assert!(
        store
            .change_own_password("admin", "wrong-old1", "New-Pass-1")
            .unwrap_err()
            .contains("incorrect")
    );
    assert!(
        store
            .change_own_password("admin", FACTORY_PASSWORD, "short")
            .is_err()
    );
    assert!(
        store
            .change_own_password("admin", FACTORY_PASSWORD, FACTORY_PASSWORD)
            .is_err()
    );
    store
        .change_own_password("admin", FACTORY_PASSWORD, "New-Pass-1")
        .expect("change");
    assert!(!store.info("admin").expect("admin").must_change);
    assert_eq!(
        store.check_password("admin", FACTORY_PASSWORD),
        PasswordCheck::Rejected
    );
    // recover: factory password again, to be changed.
    store.recover_admin().expect("recover");
    let admin = store.info("admin").expect("admin");
    assert!(admin.must_change && admin.enabled);
    assert!(matches!(
        store.check_password("admin", FACTORY_PASSWORD),
        PasswordCheck::Accepted(_)
    ));
}

#[test]
fn custom_users_roles_and_built_in_protections() {
    let (_dir, store) = store();
    store
        .add("alice", Role::Audit, "Alice-Pass1", "Alice A.")
        .expect("add");
    assert!(store.add("alice", Role::Admin, "Alice-Pass1", "").is_err());
    assert!(store.add("1bad", Role::Admin, "Alice-Pass1", "").is_err());
    assert!(
        store
            .add("recover", Role::Admin, "Alice-Pass1", "")
            .is_err()
    );
    let alice = store.info("alice").expect("alice");
    assert_eq!(
        (alice.role, alice.enabled, alice.must_change),
        (Role::Audit, true, true)
    );
    store.set_role("alice", Role::Operator).expect("role");
    assert_eq!(store.info("alice").expect("alice").role, Role::Operator);
    assert!(store.set_role("admin", Role::Monitor).is_err());
    assert!(store.set_enabled("admin", false).is_err());
    assert!(store.delete("audit").is_err());
    store.set_enabled("alice", false).expect("disable");
    assert_eq!(
        store.check_password("alice", "Alice-Pass1"),
        PasswordCheck::Disabled
    );
    store.delete("alice").expect("delete");
    assert!(store.info("alice").is_none());
}

#[test]
fn public_keys_are_added_listed_matched_and_deleted() {
    let (_dir, store) = store();
    let seed = [7u8; 32];
    let key = russh::keys::PrivateKey::from(
        russh::keys::ssh_key::private::Ed25519Keypair::from_seed(&seed),
    );
    let line = format!(
        "{} test@host\n",
        key.public_key().to_openssh().expect("openssh")
    );
    assert!(store.add_key("admin", "not a key").is_err());
    let info = store.add_key("admin", &line).expect("add key");
    assert_eq!(info.algorithm, "ssh-ed25519");
    assert!(info.fingerprint.starts_with("SHA256:"));
    assert!(store.add_key("admin", &line).is_err(), "duplicate");
    assert_eq!(
        store.keys("admin").expect("keys"),
        std::slice::from_ref(&info)
    );
    assert!(store.key_owner("admin", key.public_key()).is_some());
    assert!(store.key_owner("operator", key.public_key()).is_none());
    store
        .delete_key("admin", &info.fingerprint)
        .expect("delete");
    assert!(store.key_owner("admin", key.public_key()).is_none());
    assert!(store.delete_key("admin", &info.fingerprint).is_err());
}
