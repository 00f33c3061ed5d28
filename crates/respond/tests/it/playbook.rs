use ward_respond::PlaybookSet;

fn example() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/examples/playbooks.toml"
    ))
    .unwrap()
}

#[test]
fn the_documented_example_loads() {
    let set = PlaybookSet::from_toml(&example()).unwrap();
    assert_eq!(set.playbook.len(), 2);
    let p = set.get("contain-attack-on-host").unwrap();
    assert_eq!(p.steps.len(), 6);
    assert_eq!(p.dedup_minutes, 60);
    let kinds: Vec<&str> = p.steps.iter().map(|s| s.action().kind()).collect();
    assert_eq!(
        kinds,
        [
            "webhook",
            "email",
            "syslog",
            "open_case",
            "firewall",
            "quarantine"
        ]
    );
    let d = set.get("disable-snooping-account").unwrap();
    assert_eq!(d.max_runs_per_hour, 60, "default rate limit");
}

#[test]
fn bad_playbooks_are_refused_with_the_playbook_step_and_field() {
    let base = |step: &str| {
        format!("[[playbook]]\nname = \"p1\"\n[[playbook.step]]\nname = \"s1\"\n{step}\n")
    };
    let cases: Vec<(String, &str)> =
        vec![
        (base("open_case = {}\nexec = { program = \"/bin/true\" }"), "exactly one action"),
        (base(""), "exactly one action"),
        (base("exec = { program = \"true\" }"), "absolute path"),
        (base("exec = { program = \"/bin/{alert.id}\" }"), "template"),
        (base("webhook = { url = \"ftp://x\" }"), "http://"),
        (base("webhook = { url = \"http://x\", secret_env = \"A B\" }"), "environment variable"),
        (base("syslog = { target = \"10.0.0.1:514\" }"), "udp://"),
        (base("syslog = { target = \"udp://10.0.0.1:99999\" }"), "host:port"),
        (base("email = { to = [] }"), "at least one address"),
        (base("firewall = { mode = \"nftables\" }"), "firewall.file"),
        (base("firewall = { mode = \"command\", block_command = [\"x\"] }"), "block_command"),
        (base("firewall = { file = \"/tmp/x\", release = true }"), "rollback"),
        (base("disable_account = {}"), "exactly one of webhook or exec"),
        (
            base("open_case = {}\napproval = { roles = [], timeout_minutes = 5 }"),
            "approval.roles",
        ),
        (
            base("open_case = {}\napproval = { roles = [\"analyst\"], timeout_minutes = 0 }"),
            "timeout_minutes",
        ),
        (base("open_case = {}\nretries = 99"), "retries"),
        (base("open_case = {}\nwhen = { entity_kinds = [\"toaster\"] }"), "toaster"),
        (base("open_case = {}\nmystery = 1"), "mystery"),
        ("[[playbook]]\nname = \"p1\"\n".to_owned(), "no [[playbook.step]]"),
        (
            "[[playbook]]\nname = \"has space\"\n[[playbook.step]]\nname = \"s\"\nopen_case = {}\n"
                .to_owned(),
            "name may hold",
        ),
        (
            format!("{}{}", base("open_case = {}"), base("open_case = {}")),
            "same name",
        ),
        ("[[playbook]\n".to_owned(), "playbooks:"),
    ];
    for (text, want) in cases {
        let err = PlaybookSet::from_toml(&text).unwrap_err().to_string();
        assert!(err.contains(want), "{text}\n-> {err}\n(wanted {want:?})");
    }
    let err = PlaybookSet::from_toml(&base("open_case = {}\nexec = { program = \"/bin/true\" }"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("p1") && err.contains("s1"), "{err}");
}

proptest::proptest! {
    /// Arbitrary and mangled playbook files are refused with a message, never a panic.
    #[test]
    fn hostile_playbook_files_never_panic(cut in 0usize..4000, junk in "\\PC{0,20}") {
        let text = example();
        let cut = cut.min(text.len());
        let mut mangled: String = text.chars().take(cut).collect();
        mangled.push_str(&junk);
        let _ = PlaybookSet::from_toml(&mangled);
        let _ = PlaybookSet::from_toml(&junk);
    }
}

#[test]
fn triggers_can_name_networks() {
    use ward_core::entity::{EntityId, EntityKind};
    use ward_respond::DeviceClass;
    use ward_respond::playbook::Network;
    let set = PlaybookSet::from_toml(
        "[[playbook]]\nname = \"n\"\n[playbook.trigger]\nentity_networks = [\"10.30.0.0/16\", \"fd00::/8\", \"192.0.2.7\"]\n\
         [[playbook.step]]\nname = \"s\"\nopen_case = {}\n",
    )
    .unwrap();
    let p = &set.playbook[0];
    let a = |e: EntityId| super::gate::alert("net.device", 90, e);
    for (e, want) in [
        (EntityId::device("10.30.4.21"), true),
        (EntityId::host("10.31.0.1"), false),
        (EntityId::host("192.0.2.7"), true),
        (EntityId::host("192.0.2.8"), false),
        (EntityId::host_pair("10.30.0.9", "8.8.8.8"), true),
        (EntityId::host("fd12::1"), true),
        (EntityId::host("fe80::1"), false),
        (EntityId::new(EntityKind::User, "10.30.0.1"), false),
        (EntityId::host("not-an-ip"), false),
    ] {
        assert_eq!(p.matches(&a(e.clone()), DeviceClass::Unknown), want, "{e}");
    }
    for (n, ok) in [
        ("0.0.0.0/0", true),
        ("10.0.0.0/33", false),
        ("::/129", false),
        ("x/8", false),
        ("10.1.2.3", true),
    ] {
        assert_eq!(Network::parse(n).is_some(), ok, "{n}");
    }
    assert!(
        Network::parse("0.0.0.0/0")
            .unwrap()
            .contains("1.2.3.4".parse().unwrap())
    );
    assert!(
        !Network::parse("0.0.0.0/0")
            .unwrap()
            .contains("::1".parse().unwrap())
    );
    let err = PlaybookSet::from_toml(
        "[[playbook]]\nname = \"n\"\n[playbook.trigger]\nentity_networks = [\"10.0.0.0/99\"]\n\
         [[playbook.step]]\nname = \"s\"\nopen_case = {}\n",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("entity_networks"), "{err}");
}
