//! Reading the reference fixtures under `tests/fixtures/` (scikit-learn and Spark results written
//! by the scripts in `tests/reference/`), found by their `algorithm` field.

#![allow(clippy::unwrap_used, dead_code)] // each test binary uses a part

pub mod batches;

use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};
use serde_json::Value;

pub struct Fixture {
    pub name: String,
    pub json: Value,
    pub x: Array2<f64>,
    /// The label (empty for unsupervised fixtures).
    pub y: Array1<f64>,
    pub weight: Option<Array1<f64>>,
}

/// The fixtures of one algorithm, in file name order.
pub fn fixtures(algorithm: &str) -> Vec<Fixture> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let out: Vec<Fixture> = paths
        .iter()
        .map(|p| serde_json::from_str::<Value>(&std::fs::read_to_string(p).unwrap()).unwrap())
        .filter(|json| json["algorithm"] == algorithm)
        .map(|json| {
            let rows: Vec<Vec<f64>> = serde_json::from_value(json["x"].clone()).unwrap();
            let (n, p) = (rows.len(), rows[0].len());
            let x = Array2::from_shape_vec((n, p), rows.concat()).unwrap();
            let column = |key: &str| {
                serde_json::from_value::<Option<Vec<f64>>>(json[key].clone())
                    .unwrap()
                    .map(Array1::from)
            };
            let y = column("y").unwrap_or_else(|| Array1::zeros(0));
            let weight = column("weight").or_else(|| column("w"));
            Fixture { name: json["name"].as_str().unwrap().to_string(), json, x, y, weight }
        })
        .collect();
    assert!(!out.is_empty(), "no {algorithm} fixtures in {}", dir.display());
    out
}

/// `expected[key]` as a vector.
pub fn vector(f: &Fixture, key: &str) -> Vec<f64> {
    serde_json::from_value(f.json["expected"][key].clone()).unwrap()
}

/// `expected[key]` as rows.
pub fn matrix(f: &Fixture, key: &str) -> Vec<Vec<f64>> {
    serde_json::from_value(f.json["expected"][key].clone()).unwrap()
}

/// Asserts `|actual - expected| <= rel * max(|expected|, floor)` element-wise.
pub fn assert_close(what: &str, actual: &[f64], expected: &[f64], rel: f64, floor: f64) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths");
    let worst = actual.iter().zip(expected).map(|(a, e)| (a - e).abs() / e.abs().max(floor));
    // Seen with --nocapture: the agreement measured, not only the bound asserted.
    println!("{what}: max relative difference {:.1e}", worst.fold(0.0, f64::max));
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        let tol = rel * e.abs().max(floor);
        assert!((a - e).abs() <= tol, "{what}[{i}]: {a} vs sklearn {e} (tolerance {tol:e})");
    }
}
