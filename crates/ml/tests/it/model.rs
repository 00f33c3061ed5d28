//! Versioned model files: round trips, determinism, tamper detection.

use std::path::{Path, PathBuf};

use ward_ml::MlError;
use ward_ml::calibrate::Calibrator;
use ward_ml::gbdt::{Gbdt, GbdtParams};
use ward_ml::logreg::{LogReg, LogRegParams};
use ward_ml::model::{FORMAT_VERSION, ModelMeta, load, manifest_path, read_manifest, save};

use super::data;

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("ward-ml-it-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
    fn path(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn meta(params: &impl serde::Serialize) -> ModelMeta {
    ModelMeta {
        feature_names: (0..6).map(|i| format!("f{i}")).collect(),
        params: serde_json::to_value(params).unwrap(),
        training_summary: serde_json::json!({"rows": 800, "trained_at": "2025-01-01T00:00:00Z"}),
    }
}

fn trained() -> (Gbdt, ward_ml::Matrix) {
    let (x, y) = data::flows(800, 6, 41);
    let p = GbdtParams {
        n_rounds: 15,
        seed: 3,
        ..GbdtParams::default()
    };
    (Gbdt::fit(&x, &y, 2, &p).unwrap(), x)
}

#[test]
fn gbdt_round_trip_is_exact_and_files_are_deterministic() {
    let dir = TempDir::new("roundtrip");
    let (m, x) = trained();
    let path = dir.path("net.model.json");
    let manifest = save(&path, &m, "gbdt", &meta(m.params())).unwrap();
    assert_eq!(manifest.format_version, FORMAT_VERSION);
    assert_eq!(
        manifest.created_by,
        format!("ward {}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(manifest.sha256.len(), 64);
    assert_eq!(read_manifest(&path).unwrap(), manifest);
    let (back, man2): (Gbdt, _) = load(&path, "gbdt").unwrap();
    assert_eq!(man2.feature_names[5], "f5");
    assert_eq!(man2.training_summary["rows"], 800);
    let (a, b) = (m.predict(&x).unwrap(), back.predict(&x).unwrap());
    assert!(a.iter().zip(&b).all(|(u, v)| u.to_bits() == v.to_bits()));
    assert_eq!(
        m.contributions(x.row(0)).unwrap(),
        back.contributions(x.row(0)).unwrap()
    );

    // Retraining with the same seed writes byte-identical files.
    let (m2, _) = trained();
    let path2 = dir.path("again.json");
    save(&path2, &m2, "gbdt", &meta(m2.params())).unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(&path2).unwrap()
    );
    assert_eq!(
        std::fs::read(manifest_path(&path)).unwrap(),
        std::fs::read(manifest_path(&path2)).unwrap()
    );
}

#[test]
fn other_model_types_round_trip() {
    let dir = TempDir::new("others");
    let (x, y) = data::separable(300, 3, 0.1, 42);
    let lr = LogReg::fit(&x, &y, 2, &LogRegParams::default()).unwrap();
    let p = dir.path("lr.json");
    save(&p, &lr, "logreg", &meta(lr.params())).unwrap();
    let (back, _): (LogReg, _) = load(&p, "logreg").unwrap();
    assert_eq!(back, lr);
    let cal = Calibrator::Platt {
        a: 1.5,
        b: -0.25,
        logit_input: true,
    };
    let p = dir.path("cal.json");
    save(&p, &cal, "calibrator", &ModelMeta::default()).unwrap();
    assert_eq!(load::<Calibrator>(&p, "calibrator").unwrap().0, cal);
}

fn load_err(path: &Path) -> MlError {
    match load::<Gbdt>(path, "gbdt") {
        Ok(_) => panic!("load of {} should fail", path.display()),
        Err(e) => e,
    }
}

#[test]
fn tampering_truncation_and_mismatches_are_typed_errors() {
    let dir = TempDir::new("tamper");
    let (m, _) = trained();
    let path = dir.path("m.json");
    save(&path, &m, "gbdt", &meta(m.params())).unwrap();
    let original = std::fs::read(&path).unwrap();
    let manifest_text = std::fs::read_to_string(manifest_path(&path)).unwrap();

    // Flip one byte anywhere in the model: checksum error.
    for at in [0, original.len() / 2, original.len() - 1] {
        let mut bytes = original.clone();
        bytes[at] ^= 0x01;
        std::fs::write(&path, &bytes).unwrap();
        assert!(
            matches!(load_err(&path), MlError::Checksum { .. }),
            "flip at {at}"
        );
    }
    // Truncated file.
    std::fs::write(&path, &original[..original.len() / 3]).unwrap();
    assert!(matches!(load_err(&path), MlError::Checksum { .. }));
    std::fs::write(&path, &original).unwrap();
    assert!(load::<Gbdt>(&path, "gbdt").is_ok());

    // Wrong kind requested.
    assert!(matches!(
        load::<Gbdt>(&path, "logreg"),
        Err(MlError::KindMismatch { .. })
    ));
    // Future format version in the manifest.
    let future = manifest_text.replace(
        &format!("\"format_version\": {FORMAT_VERSION}"),
        "\"format_version\": 99",
    );
    std::fs::write(manifest_path(&path), future).unwrap();
    assert!(matches!(
        load_err(&path),
        MlError::UnsupportedVersion { found: 99, .. }
    ));
    // Garbage manifest, missing manifest, missing model.
    std::fs::write(manifest_path(&path), "{not json").unwrap();
    assert!(matches!(
        load_err(&path),
        MlError::Format {
            what: "manifest",
            ..
        }
    ));
    std::fs::remove_file(manifest_path(&path)).unwrap();
    assert!(matches!(load_err(&path), MlError::Io { .. }));
    assert!(matches!(
        load_err(&dir.path("absent.json")),
        MlError::Io { .. }
    ));

    // A forged model whose manifest hash was updated still has to be a valid model.
    let mut v: serde_json::Value = serde_json::from_slice(&original).unwrap();
    v["model"]["trees"][0]["nodes"][0]["f"] = 999.into();
    let forged = serde_json::to_vec(&v).unwrap();
    std::fs::write(&path, &forged).unwrap();
    let digest = ring::digest::digest(&ring::digest::SHA256, &forged);
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    let mut man: serde_json::Value = serde_json::from_str(&manifest_text).unwrap();
    man["sha256"] = hex.into();
    man["model_bytes"] = forged.len().into();
    std::fs::write(manifest_path(&path), serde_json::to_vec(&man).unwrap()).unwrap();
    match load_err(&path) {
        MlError::Format {
            what: "model",
            reason,
            ..
        } => assert!(reason.contains("feature"), "{reason}"),
        e => panic!("unexpected {e}"),
    }
    // Writing into a missing directory is an IO error, not a panic.
    assert!(matches!(
        save(
            &dir.path("no/such/dir/m.json"),
            &m,
            "gbdt",
            &ModelMeta::default()
        ),
        Err(MlError::Io { .. })
    ));
}
