//! Small hand-written hospitals, as CSV text.

use ward_ehr::{Dataset, EhrError, Loader};

pub const USERS: &str = "user_id,first_name,last_name,role,department,address,zip
u1,Ann,Lee,nurse,Cardiology,1 Oak Road,02139
u2,Bob,García-López,physician,Oncology,12 North Main Street Apt 4,02140
u3,Cy,Smith,clerk,Radiology,9 Elm St,02141
";

pub const PATIENTS: &str =
    "patient_id,first_name,last_name,birth_date,address,zip,vip,deceased_date,employee_user_id
p1,Pat,Brown,1970-01-01,5 Pine Ave,02100,false,,
p2,Quin,Lopez,1980-01-01,12 N Main St #7,02140-1234,false,,
p3,Rae,Smith,1990-01-01,77 Birch Rd,02199,true,2024-01-01,u3
";

pub const ENCOUNTERS: &str = "encounter_id,patient_id,department,start,end,attending_user_id
e1,p1,cardiology,2024-03-01T08:00:00Z,2024-03-03T12:00:00Z,u2
";

pub const CARE: &str = "patient_id,user_id,role,start,end
p2,u1,nurse,2024-03-01T00:00:00Z,
";

/// Loads the given texts (care team optional).
pub fn load(
    users: &str,
    patients: &str,
    encounters: &str,
    care: Option<&str>,
    access: &str,
) -> Result<Dataset, EhrError> {
    let mut l = Loader::new();
    l.users("users.csv", users.as_bytes())?;
    l.patients("patients.csv", patients.as_bytes())?;
    l.encounters("encounters.csv", encounters.as_bytes())?;
    if let Some(c) = care {
        l.care_team("care_team.csv", c.as_bytes())?;
    }
    l.access_csv("access.csv", access.as_bytes())?;
    Ok(l.finish())
}

/// The standard roster with the given access log.
pub fn with_access(access: &str) -> Result<Dataset, EhrError> {
    load(USERS, PATIENTS, ENCOUNTERS, Some(CARE), access)
}
