use ward_fraud::load::{self, ClaimReader, Ids, Kind, Mapping};

const SAMPLE: &str = include_str!("../fixtures/inpatient.csv");

#[test]
fn the_kaggle_inpatient_layout_reads_with_dates_codes_and_amounts() {
    let mut ids = Ids::default();
    let mut r = ClaimReader::new(
        SAMPLE.as_bytes(),
        "inpatient.csv",
        Kind::Inpatient,
        &Mapping::new(),
    )
    .unwrap();
    let mut claims = Vec::new();
    while let Some(c) = r.next_claim(&mut ids) {
        claims.push(c.unwrap());
    }
    assert_eq!(claims.len(), 3);
    let c = &claims[0];
    assert_eq!(c.claim_id, "CLM60001");
    assert_eq!(ids.benes.name(c.bene), "BENE10001");
    assert_eq!(ids.providers.name(c.provider), "PRV50001");
    assert_eq!(ward_fraud::date::format(c.start), "2009-09-09");
    assert_eq!(ward_fraud::date::format(c.end), "2009-09-16");
    assert_eq!(c.amount, 9000.0);
    assert_eq!(c.deductible, 1068.0);
    assert_eq!(ids.drgs.name(c.drg.unwrap()), "291");
    // the admit diagnosis and ten diagnosis columns, each code once
    assert_eq!(c.diagnoses().len(), 9);
    assert_eq!(c.procedures().len(), 2);
    assert_eq!(ids.procedures.name(c.procedures()[1]), "5849");
    assert!(c.physicians[0].is_some() && c.physicians[2].is_none());
}

#[test]
fn bad_rows_name_file_line_and_column_but_never_the_value_and_reading_goes_on() {
    let text = "BeneID,ClaimID,ClaimStartDt,ClaimEndDt,Provider,InscClaimAmtReimbursed\n\
        BENE1,CLM1,2009-01-02,2009-01-03,PRV1,100\n\
        BENE2,CLM2,2009-02-31,2009-03-01,PRV1,100\n\
        BENE3,CLM3,2009-01-02,2009-01-01,PRV1,100\n\
        BENE4,CLM4,2009-01-02,2009-01-02,PRV1,lots\n\
        ,CLM5,2009-01-02,2009-01-02,PRV1,5\n\
        BENE6,CLM6,2009-01-02\n\
        BENE7,CLM7,1/5/2009,1/5/2009,PRV2,70\n";
    let mut ids = Ids::default();
    let mut r =
        ClaimReader::new(text.as_bytes(), "o.csv", Kind::Outpatient, &Mapping::new()).unwrap();
    let mut ok = Vec::new();
    let mut errs = Vec::new();
    while let Some(c) = r.next_claim(&mut ids) {
        match c {
            Ok(c) => ok.push(c.claim_id),
            Err(e) => errs.push(e.to_string()),
        }
    }
    assert_eq!(ok, ["CLM1", "CLM7"]);
    assert_eq!(errs.len(), 5, "{errs:?}");
    let want = [
        ("line 3", "ClaimStartDt"),
        ("line 4", "ClaimEndDt"),
        ("line 5", "InscClaimAmtReimbursed"),
        ("line 6", "BeneID"),
        ("line 7", "Provider"),
    ];
    for (e, (line, col)) in errs.iter().zip(want) {
        assert!(
            e.starts_with("o.csv: ") && e.contains(line) && e.contains(col),
            "{e}"
        );
        assert!(!e.contains("lots") && !e.contains("BENE"), "{e}");
    }
}

#[test]
fn a_missing_column_is_named_and_a_mapping_reads_another_layout() {
    let text = "member,claim,from,to,billing,paid\nM1,C1,2009-01-02,2009-01-02,P1,50\n";
    let err =
        ClaimReader::new(text.as_bytes(), "x.csv", Kind::Outpatient, &Mapping::new()).unwrap_err();
    assert!(err.to_string().contains("no column BeneID"), "{err}");
    let map: Mapping = [
        ("BeneID", "member"),
        ("ClaimID", "claim"),
        ("ClaimStartDt", "from"),
        ("ClaimEndDt", "to"),
        ("Provider", "billing"),
        ("InscClaimAmtReimbursed", "paid"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
    .collect();
    let mut ids = Ids::default();
    let mut r = ClaimReader::new(text.as_bytes(), "x.csv", Kind::Outpatient, &map).unwrap();
    let c = r.next_claim(&mut ids).unwrap().unwrap();
    assert_eq!((c.amount, ids.providers.name(c.provider)), (50.0, "P1"));
    assert!(r.next_claim(&mut ids).is_none());
}

#[test]
fn hostile_input_never_panics() {
    let cases: [&[u8]; 6] = [
        b"",
        b"\xff\xfe\x00garbage",
        b"BeneID,ClaimID,ClaimStartDt,Provider,InscClaimAmtReimbursed\n\"unclosed,1,2,3\n",
        b"BeneID,ClaimID,ClaimStartDt,Provider,InscClaimAmtReimbursed\nB,C,2009-01-01,P,1e300\n",
        b"BeneID,ClaimID,ClaimStartDt,Provider,InscClaimAmtReimbursed\nB,C,99999-01-01,P,NaN\n",
        b"BeneID,ClaimID,ClaimStartDt,Provider,InscClaimAmtReimbursed\nB,C,2009-01-01,P,-5\n",
    ];
    for bytes in cases {
        let mut ids = Ids::default();
        if let Ok(mut r) = ClaimReader::new(bytes, "h.csv", Kind::Outpatient, &Mapping::new()) {
            let mut n = 0;
            while let Some(c) = r.next_claim(&mut ids) {
                n += 1;
                if let Ok(c) = c {
                    assert!(c.amount.is_finite());
                }
                assert!(n < 10);
            }
        }
    }
    // a huge line is one bad row, not a crash
    let mut big = b"BeneID,ClaimID,ClaimStartDt,Provider,InscClaimAmtReimbursed\n".to_vec();
    big.extend(std::iter::repeat_n(b'x', 5_000_000));
    big.extend(b",C,2009-01-01,P,1\n");
    let mut ids = Ids::default();
    let mut r = ClaimReader::new(&big[..], "h.csv", Kind::Outpatient, &Mapping::new()).unwrap();
    assert!(r.next_claim(&mut ids).unwrap().is_ok());
}

#[test]
fn beneficiaries_exclusions_directory_and_labels_read() {
    let benes = "BeneID,DOB,DOD,Gender,Race,RenalDiseaseIndicator,State,County,ChronicCond_Alzheimer,ChronicCond_Heartfailure\n\
        BENE1,1943-01-01,,1,1,0,39,230,1,2\n\
        BENE2,1932-05-01,2009-06-01,2,1,Y,10,10,2,1\n\
        BENE3,notadate,,1,1,0,1,1,2,2\n";
    let mut ids = Ids::default();
    let mut out = Vec::new();
    let (n, bad) = load::read_benes(
        benes.as_bytes(),
        "b.csv",
        &Mapping::new(),
        &mut ids,
        &mut out,
    )
    .unwrap();
    assert_eq!((n, bad.len()), (2, 1));
    assert!(bad[0].to_string().contains("line 4") && bad[0].to_string().contains("DOB"));
    let b2 = out[ids.benes.get("BENE2").unwrap() as usize];
    assert_eq!((b2.state, b2.chronic), (10, 0b10));
    assert_eq!(
        b2.dod.map(ward_fraud::date::format).as_deref(),
        Some("2009-06-01")
    );
    let leie = "LASTNAME,FIRSTNAME,MIDNAME,BUSNAME,GENERAL,SPECIALTY,UPIN,NPI,DOB,ADDRESS,CITY,STATE,ZIP,EXCLTYPE,EXCLDATE,REINDATE,WAIVERDATE,WVRSTATE\n\
        ,,,,,,,1234567890,,,,,,1128a1,20090301,00000000,00000000,\n\
        ,,,,,,,0000000000,,,,,,1128b4,20080101,00000000,00000000,\n\
        ,,,,,,,1111111111,,,,,,1128b4,2008,00000000,00000000,\n";
    let (x, no_npi, bad) = load::read_exclusions(leie.as_bytes(), "leie.csv").unwrap();
    assert_eq!((x.len(), no_npi, bad.len()), (1, 1, 1));
    assert_eq!(x["1234567890"][0].until, None);
    let dir = "Id,NPI,Kind,Specialty,State\nPRV1,1234567890,organization,cardiology,5\n,1,individual,x,1\n";
    let (d, bad) = load::read_directory(dir.as_bytes(), "p.csv").unwrap();
    assert_eq!((d.len(), bad.len(), d["PRV1"].state), (1, 1, 5));
    let l = load::read_labels(
        "Provider,PotentialFraud\nPRV1,Yes\nPRV2,No\n".as_bytes(),
        "l.csv",
    )
    .unwrap();
    assert_eq!((l["PRV1"], l["PRV2"]), (true, false));
    let e =
        load::read_labels("Provider,PotentialFraud\nPRV1,maybe\n".as_bytes(), "l.csv").unwrap_err();
    assert!(e.to_string().contains("line 2"), "{e}");
}

#[test]
fn files_read_side_by_side_come_out_by_day_and_bad_rows_keep_their_place() {
    let head = "BeneID,ClaimID,ClaimStartDt,Provider,InscClaimAmtReimbursed\n";
    let inpatient = format!(
        "{head}B1,I1,2009-01-02,P1,10\nB1,I2,2009-01-05,P1,10\nB1,I3,2009-13-45,P1,10\nB1,I4,2009-01-09,P1,10\n"
    );
    let outpatient =
        format!("{head}B1,O1,2009-01-01,P1,10\nB1,O2,2009-01-05,P1,10\nB1,O3,2009-01-06,P1,10\n");
    let mut ids = Ids::default();
    let readers = vec![
        ClaimReader::new(
            inpatient.as_bytes(),
            "in.csv",
            Kind::Inpatient,
            &Mapping::new(),
        )
        .unwrap(),
        ClaimReader::new(
            outpatient.as_bytes(),
            "out.csv",
            Kind::Outpatient,
            &Mapping::new(),
        )
        .unwrap(),
    ];
    let mut m = load::MergedClaims::new(readers);
    let mut got = Vec::new();
    let mut errors = Vec::new();
    while let Some(c) = m.next_claim(&mut ids) {
        match c {
            Ok(c) => got.push(c.claim_id),
            Err(e) => errors.push(e.to_string()),
        }
    }
    // ties go to the first file; the bad row is reported once, with its file and line
    assert_eq!(got, ["O1", "I1", "I2", "O2", "O3", "I4"]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("in.csv") && errors[0].contains('4'),
        "{}",
        errors[0]
    );
    assert!(!errors[0].contains("2009-13-45"), "{}", errors[0]);
    assert_eq!(m.counts, [3, 3]);
}
