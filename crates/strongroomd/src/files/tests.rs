use super::*;

fn area(limits: FileLimits) -> (tempfile::TempDir, FileArea) {
    let dir = tempfile::tempdir().expect("temp dir");
    let area = FileArea::new(dir.path(), "admin", limits);
    (dir, area)
}

#[test]
fn paths_resolve_inside_the_flat_area_only() {
    assert_eq!(resolve("").unwrap(), None);
    assert_eq!(resolve("/").unwrap(), None);
    assert_eq!(resolve("./").unwrap(), None);
    assert_eq!(resolve("/a.pem").unwrap().as_deref(), Some("a.pem"));
    assert_eq!(resolve("./a.pem").unwrap().as_deref(), Some("a.pem"));
    assert_eq!(resolve("//a.pem").unwrap().as_deref(), Some("a.pem"));
    for bad in [
        "..",
        "../x",
        "../../etc/x",
        "/etc/passwd",
        "a/b",
        "a/../b",
        ".hidden",
        "/.upload-1",
        "x\\y",
        "a\nb",
    ] {
        assert!(resolve(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn writes_are_atomic_bounded_and_listed() {
    let (_dir, area) = area(FileLimits {
        max_file_bytes: 10,
        max_user_bytes: 15,
    });
    area.write("a", b"0123456789").expect("write a");
    assert!(matches!(
        area.write("b", b"0123456789A"),
        Err(AreaError::TooLarge(_))
    ));
    assert!(matches!(
        area.write("b", b"012345"),
        Err(AreaError::TooLarge(_))
    ));
    area.write("b", b"01234").expect("fits");
    // Replacing a file counts its old size out.
    area.write("a", b"abcdefghij").expect("replace");
    let list = area.list().expect("list");
    let names: Vec<&str> = list.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(area.read("a").expect("read"), b"abcdefghij");
    // No temporary file is left behind.
    let all: Vec<_> = std::fs::read_dir(area.root())
        .expect("dir")
        .flatten()
        .collect();
    assert_eq!(all.len(), 2);
    let text = render_list(&list);
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l.starts_with("10 ") && l.ends_with(" a")),
        "{text}"
    );
}

#[test]
fn links_are_not_followed() {
    let (dir, area) = area(FileLimits::default());
    area.ensure().expect("area");
    let outside = dir.path().join("secret");
    std::fs::write(&outside, "outside").expect("write");
    std::os::unix::fs::symlink(&outside, area.root().join("link")).expect("symlink");
    assert!(area.read("link").is_err());
    assert!(area.stat("link").is_err());
    assert!(area.list().expect("list").is_empty());
    // Writing the name never writes through the link.
    let _ = area.write("link", b"mine");
    assert_eq!(std::fs::read_to_string(&outside).expect("read"), "outside");
}
