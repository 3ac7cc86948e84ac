use super::*;

#[test]
fn tokenizer_quotes_and_spaces() {
    assert_eq!(
        tokenize("  par  cr -par \"My Par\" -f ").unwrap(),
        ["par", "cr", "-par", "My Par", "-f"]
    );
    assert_eq!(tokenize("a \"\" b").unwrap(), ["a", "", "b"]);
    assert_eq!(tokenize("x\"y z\"w").unwrap(), ["xy zw"]);
    assert!(tokenize("bad \"quote").is_err());
    assert!(tokenize("").unwrap().is_empty());
}

type H = u8;
static LEAF_OPTS: &[Opt] = &[
    Opt {
        name: "partition",
        short: "par",
        value: Some("name"),
        help: "",
    },
    Opt {
        name: "password",
        short: "pw",
        value: Some("pw"),
        help: "",
    },
    Opt {
        name: "force",
        short: "f",
        value: None,
        help: "",
    },
    Opt {
        name: "size",
        short: "s",
        value: Some("bytes"),
        help: "",
    },
];
static SUB: &[Node<H>] = &[
    Node {
        name: "create",
        short: "cr",
        help: "create",
        access: ADMIN_OPERATOR,
        kind: Kind::Command {
            opts: LEAF_OPTS,
            positional: None,
            handler: 1,
        },
    },
    Node {
        name: "changePolicy",
        short: "cp",
        help: "cp",
        access: ADMIN,
        kind: Kind::Command {
            opts: &[],
            positional: None,
            handler: 2,
        },
    },
    Node {
        name: "changePw",
        short: "cpw",
        help: "cpw",
        access: ADMIN,
        kind: Kind::Command {
            opts: &[],
            positional: None,
            handler: 3,
        },
    },
    Node {
        name: "factoryReset",
        short: "fr",
        help: "fr",
        access: CONSOLE_ADMIN,
        kind: Kind::Command {
            opts: &[],
            positional: None,
            handler: 4,
        },
    },
    Node {
        name: "bind",
        short: "b",
        help: "bind",
        access: ADMIN,
        kind: Kind::Command {
            opts: &[],
            positional: Some("device"),
            handler: 5,
        },
    },
];
static ROOT: &[Node<H>] = &[
    Node {
        name: "partition",
        short: "par",
        help: "partitions",
        access: READERS,
        kind: Kind::Group(SUB),
    },
    Node {
        name: "hsm",
        short: "hs",
        help: "hsm",
        access: ANYONE,
        kind: Kind::Group(SUB),
    },
];

fn run(line: &str) -> Result<(H, Args), String> {
    match parse(ROOT, line, Role::Admin, Channel::LocalConsole)? {
        Parsed::Run(node, args) => match node.kind {
            Kind::Command { handler, .. } => Ok((handler, args)),
            Kind::Group(_) => unreachable!(),
        },
        Parsed::Help(h) => Err(format!("help: {h}")),
        Parsed::Empty => Err("empty".into()),
    }
}

#[test]
fn prefixes_short_forms_and_case() {
    let (h, a) = run("par cr -par P1 -f").unwrap();
    assert_eq!(h, 1);
    assert_eq!(a.path, ["partition", "create"]);
    assert_eq!(a.get("partition"), Some("P1"));
    assert!(a.flag("force"));
    assert_eq!(
        run("PARTITION CREATE -PARTITION p")
            .unwrap()
            .1
            .get("partition"),
        Some("p")
    );
    assert_eq!(
        run("partition create -parti \"A B\"")
            .unwrap()
            .1
            .get("partition"),
        Some("A B")
    );
    assert_eq!(run("hsm changepolicy").unwrap().0, 2);
    assert_eq!(
        run("hsm changePW").unwrap().0,
        3,
        "exact match wins over prefix"
    );
    assert!(
        run("hsm -create -p x").unwrap_err().contains("ambiguous"),
        "-p is ambiguous"
    );
    assert!(run("hsm -create -pa x").unwrap_err().contains("ambiguous"));
    assert_eq!(
        run("hsm -create -pw x").unwrap().1.get("password"),
        Some("x"),
        "short form"
    );
    assert_eq!(
        run("hsm b eth0").unwrap().1.positional.as_deref(),
        Some("eth0")
    );
}

#[test]
fn refusals() {
    assert!(run("hsm change").unwrap_err().contains("ambiguous"));
    assert!(
        run("hsm nosuch")
            .unwrap_err()
            .contains("not a valid command")
    );
    assert!(
        run("hsm create -bogus")
            .unwrap_err()
            .contains("not an option")
    );
    assert!(
        run("hsm create -partition")
            .unwrap_err()
            .contains("needs a value")
    );
    assert!(run("hsm create -f -f").unwrap_err().contains("twice"));
    assert!(run("hsm create stray").unwrap_err().contains("unexpected"));
}

#[test]
fn help_and_visibility() {
    let help = |line: &str, role, channel| match parse(ROOT, line, role, channel).unwrap() {
        Parsed::Help(h) => h,
        _ => panic!("expected help for {line}"),
    };
    let h = help("help", Role::Admin, Channel::LocalConsole);
    assert!(h.contains("partition") && h.contains("hsm"));
    let h = help("help", Role::Audit, Channel::Remote);
    assert!(
        !h.contains("partition"),
        "audit does not see partition commands"
    );
    let h = help("hsm", Role::Admin, Channel::Remote);
    assert!(
        h.contains("create") && !h.contains("factoryReset"),
        "console-only hidden remotely"
    );
    let h = help("hsm", Role::Admin, Channel::LocalConsole);
    assert!(h.contains("factoryReset"));
    assert!(help("hsm create -help", Role::Admin, Channel::LocalConsole).contains("-partition"));
    assert!(help("help hsm", Role::Admin, Channel::LocalConsole).contains("changePolicy"));
    // A hidden command is refused, not just hidden.
    assert!(parse(ROOT, "hsm factoryreset", Role::Admin, Channel::Remote).is_err());
    assert!(parse(ROOT, "partition list", Role::Audit, Channel::Remote).is_err());
}

#[test]
fn logged_line_masks_secret_options_by_any_spelling() {
    for line in [
        "hsm create -pw \"my secret pw\" -par P",
        "hsm create -PASSWORD \"my secret pw\" -par P",
        "hsm create -passw \"my secret pw\" -par P",
    ] {
        let (_, args) = run(line).unwrap();
        let logged = args.logged(&["password"]);
        assert_eq!(logged, "hsm create -password * -partition P", "{line}");
        assert!(!logged.contains("secret"));
    }
    let (_, args) = run("hsm create -par \"A B\" -f").unwrap();
    assert_eq!(
        args.logged(&["password"]),
        "hsm create -partition \"A B\" -force"
    );
}

#[test]
fn help_by_short_form_and_prefix() {
    static WITH_HELP: &[Node<H>] = &[
        Node {
            name: "help",
            short: "he",
            help: "help",
            access: ANYONE,
            kind: Kind::Command {
                opts: &[],
                positional: None,
                handler: 9,
            },
        },
        Node {
            name: "hsm",
            short: "hs",
            help: "hsm",
            access: ANYONE,
            kind: Kind::Group(SUB),
        },
    ];
    // With a dash too (a fuzzing find: `-he` used to run the help node as a command).
    for line in ["help", "he", "HELP", "hel", "?", "-he", "-help", "-HEL"] {
        match parse(WITH_HELP, line, Role::Admin, Channel::LocalConsole).unwrap() {
            Parsed::Help(h) => assert!(h.contains("hsm"), "{line}"),
            _ => panic!("{line} should show help"),
        }
    }
}

#[test]
fn secret_values_are_masked_for_echo() {
    static OPTS: &[Opt] = &[Opt {
        name: "password",
        short: "pw",
        value: Some("pw"),
        help: "",
    }];
    static ROOT: &[Node<H>] = &[Node {
        name: "login",
        short: "l",
        help: "",
        access: ANYONE,
        kind: Kind::Command {
            opts: OPTS,
            positional: None,
            handler: 1,
        },
    }];
    let secret = &["password", "domain"];
    for (line, shown) in [
        ("login -password Secret-1", "login -password *"),
        ("login -pw Secret-1 -x y", "login -pw * -x y"),
        ("login -PASS \"a b\"", "login -PASS *"),
        (
            "hsm init -label x -domain dd -force",
            "hsm init -label x -domain * -force",
        ),
        ("par create -p p1", "par create -p *"),
        ("bad \"quote -password x", "(line not shown)"),
    ] {
        assert_eq!(mask_secrets(ROOT, line, secret), shown, "{line}");
    }
}
