//! US states as the claims data numbers them (the SSA state codes 1-54 of the Kaggle
//! "Healthcare Provider Fraud Detection" files), their approximate centres and the great-circle
//! distance between two points. Shared by the claims simulator and the claims detector.

/// Approximate centre (latitude, longitude in degrees) of each SSA state code, index = code - 1.
/// Code 54 ("others") has no location.
const CENTROIDS: [Option<(f32, f32)>; 54] = [
    Some((32.8, -86.8)),  // 1 Alabama
    Some((61.4, -150.0)), // 2 Alaska (Anchorage, where most people live)
    Some((33.9, -111.9)), // 3 Arizona
    Some((34.9, -92.4)),  // 4 Arkansas
    Some((36.8, -119.4)), // 5 California
    Some((39.4, -105.2)), // 6 Colorado
    Some((41.6, -72.7)),  // 7 Connecticut
    Some((39.2, -75.5)),  // 8 Delaware
    Some((38.9, -77.0)),  // 9 District of Columbia
    Some((28.0, -81.9)),  // 10 Florida
    Some((33.2, -83.9)),  // 11 Georgia
    Some((21.3, -157.8)), // 12 Hawaii (Honolulu)
    Some((43.9, -115.4)), // 13 Idaho
    Some((41.3, -88.4)),  // 14 Illinois
    Some((39.8, -86.3)),  // 15 Indiana
    Some((41.9, -93.0)),  // 16 Iowa
    Some((38.5, -97.4)),  // 17 Kansas
    Some((37.8, -85.3)),  // 18 Kentucky
    Some((30.9, -91.6)),  // 19 Louisiana
    Some((44.4, -69.6)),  // 20 Maine
    Some((39.1, -76.8)),  // 21 Maryland
    Some((42.3, -71.4)),  // 22 Massachusetts
    Some((42.9, -84.2)),  // 23 Michigan
    Some((45.2, -93.6)),  // 24 Minnesota
    Some((32.6, -89.6)),  // 25 Mississippi
    Some((38.4, -92.2)),  // 26 Missouri
    Some((46.8, -110.3)), // 27 Montana
    Some((41.1, -97.4)),  // 28 Nebraska
    Some((37.2, -116.0)), // 29 Nevada
    Some((43.0, -71.5)),  // 30 New Hampshire
    Some((40.4, -74.4)),  // 31 New Jersey
    Some((34.6, -106.2)), // 32 New Mexico
    Some((41.5, -74.6)),  // 33 New York
    Some((35.6, -79.5)),  // 34 North Carolina
    Some((47.4, -99.3)),  // 35 North Dakota
    Some((40.5, -82.6)),  // 36 Ohio
    Some((35.6, -96.8)),  // 37 Oklahoma
    Some((44.7, -122.6)), // 38 Oregon
    Some((40.5, -77.0)),  // 39 Pennsylvania
    Some((18.3, -66.4)),  // 40 Puerto Rico
    Some((41.8, -71.5)),  // 41 Rhode Island
    Some((34.0, -81.0)),  // 42 South Carolina
    Some((44.0, -99.2)),  // 43 South Dakota
    Some((35.8, -86.4)),  // 44 Tennessee
    Some((30.9, -97.4)),  // 45 Texas
    Some((40.5, -111.8)), // 46 Utah
    Some((44.1, -72.8)),  // 47 Vermont
    Some((18.3, -64.9)),  // 48 Virgin Islands
    Some((38.0, -77.8)),  // 49 Virginia
    Some((47.3, -121.6)), // 50 Washington
    Some((38.8, -80.8)),  // 51 West Virginia
    Some((43.7, -89.0)),  // 52 Wisconsin
    Some((42.5, -107.3)), // 53 Wyoming
    None,                 // 54 others
];

/// Two-letter postal abbreviation of each SSA state code (as the LEIE `STATE` column writes
/// it), index = code - 1; `""` for 54 (others).
const POSTAL: [&str; 54] = [
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM",
    "NY", "NC", "ND", "OH", "OK", "OR", "PA", "PR", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VI",
    "VA", "WA", "WV", "WI", "WY", "",
];

/// The approximate centre (latitude, longitude in degrees) of a state given by its SSA code
/// (1 Alabama, 2 Alaska, ..., 10 Florida, ..., 33 New York, ..., 45 Texas, ..., 53 Wyoming; 40
/// is Puerto Rico, 48 the Virgin Islands). `None` for 54 ("others") and any other code.
pub fn state_centroid(code: u8) -> Option<(f32, f32)> {
    CENTROIDS
        .get(usize::from(code).checked_sub(1)?)
        .copied()
        .flatten()
}

/// The two-letter postal abbreviation of an SSA state code (`10` → `FL`); `None` for 54
/// ("others") and codes outside 1-53.
pub fn state_postal(code: u8) -> Option<&'static str> {
    POSTAL
        .get(usize::from(code).checked_sub(1)?)
        .copied()
        .filter(|s| !s.is_empty())
}

/// The SSA state code of a postal abbreviation (`"fl"` or `"FL"` → 10).
pub fn state_from_postal(abbrev: &str) -> Option<u8> {
    let i = POSTAL
        .iter()
        .position(|p| !p.is_empty() && p.eq_ignore_ascii_case(abbrev.trim()))?;
    u8::try_from(i + 1).ok()
}

/// Great-circle distance in kilometres between two (latitude, longitude) points in degrees
/// (haversine on a sphere of radius 6371 km).
pub fn distance_km(a: (f32, f32), b: (f32, f32)) -> f32 {
    let (lat1, lon1) = (f64::from(a.0).to_radians(), f64::from(a.1).to_radians());
    let (lat2, lon2) = (f64::from(b.0).to_radians(), f64::from(b.1).to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    let c = 2.0 * h.sqrt().clamp(0.0, 1.0).asin();
    (6371.0 * c) as f32
}

/// Distance in kilometres between the centres of two states; `None` when either has no
/// location.
pub fn state_distance_km(a: u8, b: u8) -> Option<f32> {
    Some(distance_km(state_centroid(a)?, state_centroid(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_but_others_has_a_centre_in_range() {
        for code in 1..=53u8 {
            let (lat, lon) = state_centroid(code).unwrap_or_else(|| panic!("{code}"));
            assert!(
                (17.0..72.0).contains(&lat) && (-170.0..-60.0).contains(&lon),
                "{code}"
            );
            assert_eq!(state_from_postal(state_postal(code).unwrap()), Some(code));
        }
        for code in [0u8, 54, 55, 255] {
            assert_eq!(state_centroid(code), None, "{code}");
            assert_eq!(state_postal(code), None, "{code}");
        }
        assert_eq!(state_postal(10), Some("FL"));
        assert_eq!(state_postal(33), Some("NY"));
        assert_eq!(state_postal(49), Some("VA"));
        assert_eq!(state_from_postal(" tx"), Some(45));
        assert_eq!(state_from_postal("XX"), None);
        assert_eq!(state_from_postal(""), None);
    }

    #[test]
    fn distances_are_plausible() {
        assert_eq!(distance_km((40.0, -75.0), (40.0, -75.0)), 0.0);
        // one degree of latitude is about 111 km
        let d = distance_km((40.0, -75.0), (41.0, -75.0));
        assert!((110.0..112.5).contains(&d), "{d}");
        // New York to California, Florida to Washington: continental distances
        let ny_ca = state_distance_km(33, 5).unwrap();
        assert!((3500.0..4300.0).contains(&ny_ca), "{ny_ca}");
        let fl_wa = state_distance_km(10, 50).unwrap();
        assert!(fl_wa > 3800.0, "{fl_wa}");
        // neighbours are close, and the distance is symmetric
        let md_dc = state_distance_km(21, 9).unwrap();
        assert!(md_dc < 60.0, "{md_dc}");
        assert_eq!(state_distance_km(3, 45), state_distance_km(45, 3));
        assert_eq!(state_distance_km(54, 1), None);
        // antipodes: half the circumference, no NaN
        let half = distance_km((0.0, 0.0), (0.0, 180.0));
        assert!((20_000.0..20_040.0).contains(&half), "{half}");
    }
}
