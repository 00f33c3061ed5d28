use ward_ehr::normalise::{address, name_parts, same_last_name, zip5};

#[test]
fn last_names() {
    let parts: &[(&str, &[&str])] = &[
        ("García", &["garcia"]),
        ("GARCIA ", &["garcia"]),
        ("Smith-Jones", &["smith", "jones"]),
        ("O'Brien", &["obrien"]),
        ("de la Cruz", &["cruz"]),
        ("Müller", &["muller"]),
        ("Strauß", &["strauss"]),
        ("Ø", &[]),
        ("J", &[]),
        ("", &[]),
    ];
    for (name, want) in parts {
        assert_eq!(name_parts(name), *want, "{name}");
    }
    let pairs = [
        ("García", "Garcia", true),
        ("Smith-Jones", "Jones", true),
        ("jones smith", "SMITH", true),
        ("Lee", "Leeds", false),
        ("de Souza", "de Lima", false),
        ("A", "A", false),
        ("Nguyễn", "Nguyen", true),
    ];
    for (a, b, want) in pairs {
        assert_eq!(same_last_name(a, b), want, "{a} / {b}");
        assert_eq!(same_last_name(b, a), want, "{b} / {a}");
    }
}

#[test]
fn addresses() {
    let same = [
        ("12 North Main Street Apt 4", "12 N Main St #4"),
        ("12 N. Main St., Apt. 4", "12 n main st"),
        ("5 Pine Avenue, Springfield", "5 PINE AVE"),
        ("7  Rue   Saint-Honoré", "7 rue st-honore"),
        ("100 Sunset Boulevard Suite 200", "100 sunset blvd"),
    ];
    for (a, b) in same {
        let (x, y) = (address(a).unwrap(), address(b).unwrap());
        assert_eq!(x, y, "{a} / {b}");
        assert!(x.key().is_some());
    }
    let a = address("12 North Main Street").unwrap();
    assert_eq!((a.number.as_str(), a.street.as_str()), ("12", "n main st"));
    assert_eq!(a.key().as_deref(), Some("12 n main st"));
    assert_ne!(address("12 Main St"), address("14 Main St"));
    assert_eq!(address("Main Street").unwrap().key(), None);
    assert_eq!(address("  ,  "), None);
    assert_eq!(address(""), None);
}

#[test]
fn zips() {
    let cases: &[(&[u8], Option<u32>)] = &[
        (b"02139", Some(2139)),
        (b"02139-4307", Some(2139)),
        (b" 021 39 ", Some(2139)),
        (b"2139", None),
        (b"", None),
        (b"abcde", None),
    ];
    for (z, want) in cases {
        assert_eq!(zip5(z), *want, "{z:?}");
    }
}
