//! A generated small hospital for signal and scoring tests: ten cardiology nurses with a
//! steady, explained daytime routine, plus special users and patients for each signal.

use ward_ehr::{Dataset, Loader};

pub const NURSES: [&str; 10] = [
    "Adams", "Baker", "Clark", "Davis", "Evans", "Frank", "Green", "Hill", "Irwin", "Jones",
];

pub fn users() -> String {
    let mut s = String::from("user_id,first_name,last_name,role,department,address,zip\n");
    for (i, last) in NURSES.iter().enumerate() {
        s.push_str(&format!(
            "n{:02},N,{last},nurse,Cardiology,{} Oak Road,02139\n",
            i + 1,
            i + 1
        ));
    }
    s.push_str("s1,S,Smith,clerk,Radiology,9 Elm St,02141\n");
    s.push_str("g1,G,García-López,physician,Oncology,12 North Main Street Apt 4,02140\n");
    s.push_str("w1,W,Wong,nurse,cardiology,14 Main Street,02140\n");
    s
}

pub fn patients() -> String {
    let mut s = String::from(
        "patient_id,first_name,last_name,birth_date,address,zip,vip,deceased_date,employee_user_id\n",
    );
    for k in 1..=40 {
        s.push_str(&format!(
            "c{k:02},P,Zed{k},1970-01-01,{k} Pine Ave,02100,false,,\n"
        ));
    }
    s.push_str("pl,P,Lopez,1980-01-01,12 N Main St #7,02140-1234,false,,\n");
    s.push_str("ps,P,Smith,1980-01-01,77 Birch Rd,02199,true,2024-01-01,s1\n");
    s.push_str("pst,P,Quinn,1980-01-01,12 Main St,02140,false,,\n");
    s.push_str("pco,P,Yu,1980-01-01,3 Cedar Ln,02111,false,,n02\n");
    s.push_str("pn,P,Xu,1980-01-01,4 Cedar Ln,02111,false,,\n");
    for k in 1..=20 {
        s.push_str(&format!(
            "q{k:02},P,Qua{k},1970-01-01,{k} Ash Ave,02101,false,,\n"
        ));
    }
    s
}

pub fn encounters() -> String {
    let mut s = String::from("encounter_id,patient_id,department,start,end,attending_user_id\n");
    for k in 1..=40 {
        s.push_str(&format!(
            "e{k},c{k:02},Cardiology,2024-03-01T00:00:00Z,2024-03-31T00:00:00Z,\n"
        ));
    }
    s
}

/// The routine: March 1-20, each nurse opens three cardiology patients at 09, 11 and 14 UTC.
pub fn routine() -> Vec<String> {
    let mut v = Vec::new();
    for day in 1..=20 {
        for i in 0..10usize {
            for (j, hour) in [9, 11, 14].into_iter().enumerate() {
                let k = (day + i * 3 + j) % 40 + 1;
                v.push(format!(
                    "2024-03-{day:02}T{hour:02}:00:00Z,n{:02},c{k:02},view",
                    i + 1
                ));
            }
        }
    }
    v
}

/// Loads the hospital with the routine followed by `extra` access lines
/// (`time,user_id,patient_id,action`).
pub fn with_extra(extra: &[String]) -> Dataset {
    let mut access = String::from("time,user_id,patient_id,action\n");
    for l in routine().iter().chain(extra) {
        access.push_str(l);
        access.push('\n');
    }
    let mut l = Loader::new();
    l.users("users.csv", users().as_bytes()).unwrap();
    l.patients("patients.csv", patients().as_bytes()).unwrap();
    l.encounters("encounters.csv", encounters().as_bytes())
        .unwrap();
    l.access_csv("access.csv", access.as_bytes()).unwrap();
    l.finish()
}
