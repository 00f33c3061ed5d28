//! Keys, consistent surrogates, date shifting, ages and ZIP codes.

use ward_deid::surrogate::{SHIFT_RANGE, age, zip3};
use ward_deid::{Category, Key, Surrogates, date};

fn keyed(seed: u8) -> Surrogates {
    Surrogates::new(&Key::from_bytes([seed; 32]))
}

#[test]
fn same_value_same_surrogate_under_one_key_and_another_under_another() {
    let (a, b) = (keyed(1), keyed(2));
    let cases = [
        (Category::PtName, "John Smith"),
        (Category::HcpName, "SMITH"),
        (Category::Location, "Mount Auburn Hospital"),
        (Category::Phone, "(617) 555-1234"),
        (Category::Email, "jsmith@gmail.com"),
        (Category::IdNumber, "MRN1234567"),
        (Category::Ssn, "123-45-6789"),
    ];
    for (c, v) in cases {
        let x = a.pseudonym(c, v);
        assert_eq!(x, a.pseudonym(c, v), "{v}");
        assert_ne!(x, v, "{v} was not replaced");
        // with 500 surnames a collision across keys is possible but not for all of these
        let _ = b.pseudonym(c, v);
    }
    let differ = cases
        .iter()
        .filter(|(c, v)| a.pseudonym(*c, v) != b.pseudonym(*c, v))
        .count();
    assert!(differ >= 6, "only {differ} of 7 differ between keys");
    assert_ne!(a.hash("x"), b.hash("x"));
    assert_eq!(a.hash("MRN 1"), a.hash(" mrn  1 "));
    assert_eq!(a.hash("x").len(), 16);
}

#[test]
fn names_keep_shape_case_and_share_surnames_across_orders() {
    let s = keyed(3);
    let full = s.name("John Smith");
    let words: Vec<&str> = full.split(' ').collect();
    assert_eq!(words.len(), 2, "{full}");
    assert!(
        words
            .iter()
            .all(|w| w.chars().next().unwrap().is_uppercase())
    );
    let caps = s.name("SMITH, JOHN");
    let (last, first) = caps.split_once(", ").unwrap();
    assert!(caps.chars().all(|c| !c.is_lowercase()), "{caps}");
    assert_eq!(
        last,
        words[1].to_uppercase(),
        "surname consistent: {caps} vs {full}"
    );
    assert_eq!(first, words[0].to_uppercase());
    assert_eq!(s.name("Smith"), words[1], "a lone surname");
    assert_eq!(s.name("john smith"), full.to_lowercase());
    // initials stay initials, titles stay
    let x = s.name("J. Smith");
    assert!(x.len() >= 4 && x.as_bytes()[1] == b'.', "{x}");
    assert!(s.name("Dr. Smith").starts_with("Dr. "));
    assert_eq!(s.name(""), "");
}

#[test]
fn formats_are_kept_and_look_fake() {
    let s = keyed(4);
    let p = s.phone("(617) 732-1234");
    assert_eq!(p.len(), 14);
    assert!(p.starts_with('(') && &p[4..6] == ") " && &p[6..9] == "555" && &p[9..10] == "-");
    let p = s.phone("617.732.1234");
    assert_eq!(&p[3..8], ".555.");
    let ssn = s.pseudonym(Category::Ssn, "123-45-6789");
    assert!(
        ssn.starts_with('9') && ssn.len() == 11 && &ssn[3..4] == "-",
        "{ssn}"
    );
    let e = s.pseudonym(Category::Email, "John.Smith@partners.org");
    assert!(
        e.ends_with("@example.com") && e.len() == "John.Smith@example.com".len(),
        "{e}"
    );
    let ip = s.pseudonym(Category::IpAddress, "192.168.1.20");
    assert!(ip.starts_with("10."), "{ip}");
    let id = s.pseudonym(Category::IdNumber, "AB-12345");
    assert!(id.len() == 8 && id[..2].chars().all(|c| c.is_ascii_uppercase()) && &id[2..3] == "-");
    let place = s.pseudonym(Category::Location, "MOUNT AUBURN HOSPITAL");
    assert!(
        place.ends_with(" HOSPITAL") && !place.contains("AUBURN"),
        "{place}"
    );
    assert_eq!(s.pseudonym(Category::DateYear, "2012"), "2012");
    assert_eq!(s.pseudonym(Category::Age, "93"), "90+");
}

#[test]
fn dates_shift_in_their_own_shape_and_intervals_are_kept() {
    let cases = [
        ("3/15/2012", -10, "3/5/2012"),
        ("03/15/2012", -15, "02/29/2012"),
        ("03/01/12", -1, "02/29/12"),
        ("1/5/2000", -10, "12/26/1999"),
        ("7/4", -4, "6/30"),
        ("3/1", -1, "2/29"),
        ("3/97", -31, "2/97"),
        ("2012-03-15", -15, "2012-02-29"),
        ("2012-03-15T10:30:00Z", -1, "2012-03-14T10:30:00Z"),
        ("20120315", -15, "20120229"),
        ("201203151030", -1, "201203141030"),
        ("20120315103000.123+0500", -1, "20120314103000.123+0500"),
        ("March 3, 2012", -3, "February 29, 2012"),
        ("Mar. 3rd 2012", -2, "Mar. 1st 2012"),
        ("MARCH 3", -10, "FEBRUARY 22"),
        ("3 March 2012", -3, "29 February 2012"),
        ("22nd of March", -1, "21st of March"),
        ("Jan 2", -2, "Dec 31"),
        ("2012-03", -31, "2012-02"),
        ("March 2012", -31, "February 2012"),
        ("  7/4 ", -1, "  7/3 "),
    ];
    for (d, by, want) in cases {
        assert_eq!(date::shift(d, by).as_deref(), Some(want), "{d} by {by}");
    }
    for bad in [
        "2/30/2012",
        "13/1/2012",
        "hello",
        "",
        "7/4/123",
        "12345",
        "Marchy 3",
        "3/0",
    ] {
        assert_eq!(date::shift(bad, -1), None, "{bad}");
    }
    // per patient: one shift everywhere, so intervals stay
    let s = keyed(5);
    let a = s.shift_date("p1", "2012-01-01").unwrap();
    let b = s.shift_date("p1", "2012-03-01").unwrap();
    let day = |x: &str| {
        let p: Vec<i64> = x.split('-').map(|v| v.parse().unwrap()).collect();
        date::days_from_civil(p[0], p[1], p[2])
    };
    assert_eq!(day(&b) - day(&a), 60);
    assert_eq!(s.date_shift_days("p1"), s.date_shift_days(" p1 "));
}

#[test]
fn patients_get_different_nonzero_shifts() {
    let s = keyed(6);
    let shifts: Vec<i64> = (0..2000)
        .map(|i| s.date_shift_days(&format!("P{i}")))
        .collect();
    assert!(shifts.iter().all(|d| SHIFT_RANGE.contains(d) && *d != 0));
    let distinct: std::collections::HashSet<_> = shifts.iter().collect();
    assert!(distinct.len() > 300, "{} distinct shifts", distinct.len());
    assert!(shifts.contains(&-1) || shifts.contains(&-365) || distinct.len() > 350);
}

#[test]
fn ages_over_89_and_zip3() {
    for (a, want) in [
        ("89", "89"),
        ("90", "90+"),
        ("104", "90+"),
        ("5", "5"),
        ("n/a", "n/a"),
    ] {
        assert_eq!(age(a), want);
    }
    assert_eq!(zip3("02139").as_deref(), Some("02100"));
    assert_eq!(zip3("02139-4307").as_deref(), Some("02100"));
    for restricted in ward_deid::surrogate::RESTRICTED_ZIP3 {
        assert_eq!(zip3(&format!("{restricted}42")).as_deref(), Some("00000"));
    }
    for bad in ["2139", "021399", "ABCDE", "02139-43", ""] {
        assert_eq!(zip3(bad), None, "{bad}");
    }
}

#[test]
fn key_files_round_trip_with_mode_0600_and_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("k.key");
    let k = Key::generate().unwrap();
    k.save(&p, false).unwrap();
    assert_eq!(Key::load(&p).unwrap(), k);
    assert!(!format!("{k:?}").contains(&std::fs::read_to_string(&p).unwrap()[17..40]));
    assert_eq!(k.id().len(), 8);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = Key::load(&p).unwrap_err().to_string();
        assert!(e.contains("chmod 600"), "{e}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let e = k.save(&p, false).unwrap_err().to_string();
    assert!(e.contains("exists already"), "{e}");
    let other = Key::generate().unwrap();
    other.save(&p, true).unwrap();
    assert_eq!(Key::load(&p).unwrap(), other);
    let e = Key::load(&dir.path().join("none")).unwrap_err().to_string();
    assert!(e.contains("does not exist"), "{e}");
    let bad = dir.path().join("bad.key");
    for (content, msg) in [
        ("hello\n", "not a ward key file"),
        ("ward-deid-key v1\nabcd\n", "64 hex digits"),
        ("ward-deid-key v1\n", "64 hex digits"),
    ] {
        std::fs::write(&bad, content).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let e = Key::load(&bad).unwrap_err().to_string();
        assert!(e.contains(msg), "{e}");
    }
    let leftovers = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".ward-tmp")
        })
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn a_surrogate_name_is_never_the_name_itself() {
    let s = keyed(8);
    for line in include_str!("../../data/surnames.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
    {
        assert_ne!(s.name(line), line);
        assert_ne!(s.name(&line.to_uppercase()), line.to_uppercase());
    }
    for line in include_str!("../../data/first_names.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
    {
        let full = format!("{line} Zzyzx");
        assert_ne!(s.name(&full).split(' ').next(), Some(line));
    }
}

proptest::proptest! {
    #[test]
    fn shifting_back_gives_the_date_again(days in 0i64..200_000, by in -2000i64..2000) {
        let (y, m, d) = date::civil_from_days(days - 25_000);
        for shape in [format!("{y:04}-{m:02}-{d:02}"), format!("{m}/{d}/{y:04}"), format!("{y:04}{m:02}{d:02}")] {
            let there = date::shift(&shape, by).unwrap();
            proptest::prop_assert_eq!(date::shift(&there, -by).unwrap(), shape);
        }
    }
}

#[test]
fn structured_name_parts_match_free_text_names() {
    let s = keyed(10);
    let full = s.name("John Smith");
    let (first, last) = full.split_once(' ').unwrap();
    assert_eq!(s.family_name("SMITH"), last.to_uppercase());
    assert_eq!(s.given_name("John"), first);
    assert_eq!(
        s.given_name("Smith"),
        s.name("Smith Zzyzx").split(' ').next().unwrap()
    );
    // a double-barrelled surname stays one surname, both parts replaced
    let x = s.name("Ann Smith-Jones");
    let parts: Vec<&str> = x.split([' ', '-']).collect();
    assert_eq!(parts.len(), 3, "{x}");
    assert_eq!(parts[1], last, "Smith as a surname: {x}");
    assert_eq!(s.family_name("Smith-Jones"), x.split_once(' ').unwrap().1);
}
