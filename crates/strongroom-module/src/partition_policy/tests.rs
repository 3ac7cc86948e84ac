use super::*;
use crate::policy::Capabilities;

fn hsm() -> Policies {
    Policies::defaults(&Capabilities {
        storage_bytes: 1 << 24,
        licensed_partitions: 10,
    })
}

#[test]
fn defaults_and_ids_follow_the_vendor_numbering() {
    let p = PartitionPolicies::defaults(&hsm());
    for (id, name, default) in [
        (0, "Allow private key cloning", 1),
        (1, "Allow private key wrapping", 0),
        (2, "Allow private key unwrapping", 1),
        (3, "Allow private key masking", 0),
        (4, "Allow secret key cloning", 1),
        (5, "Allow secret key wrapping", 1),
        (6, "Allow secret key unwrapping", 1),
        (7, "Allow secret key masking", 0),
        (10, "Allow multipurpose keys", 1),
        (11, "Allow changing key attributes", 1),
        (19, "Allow raw RSA operations", 1),
        (20, "Max failed user logins allowed", 10),
        (22, "Allow activation", 0),
        (23, "Allow auto-activation", 0),
        (25, "Minimum pin length (inverted: 255 - min)", 247),
        (26, "Maximum pin length", 255),
        (28, "Allow Key Management Functions", 1),
    ] {
        assert_eq!(description(id), Some(name), "{id}");
        assert_eq!(p.get(id), default, "{id}");
    }
    assert_eq!(p.pin_length_bounds(), (8, 255));
}

#[test]
fn destructiveness_is_on_enabling_only() {
    let p = PartitionPolicies::defaults(&hsm());
    assert!(check_change(&p, &hsm(), 1, 1).unwrap().destroys_objects);
    assert!(
        !check_change(&p, &hsm(), 1, 0).unwrap().destroys_objects,
        "no change"
    );
    assert!(
        !check_change(&p, &hsm(), 0, 0).unwrap().destroys_objects,
        "disabling cloning"
    );
    assert!(!check_change(&p, &hsm(), 20, 5).unwrap().destroys_objects);
    assert!(check_change(&p, &hsm(), 20, 0).is_err());
    assert!(check_change(&p, &hsm(), 20, 11).is_err());
}
