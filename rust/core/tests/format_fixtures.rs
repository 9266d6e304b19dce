//! Model bytes written by released format versions must keep decoding to the same model.
//! The files under tests/fixtures/models/ are written once per format version
//! (`MANYFOLD_WRITE_FIXTURES=1 cargo test -p manyfold-core --test format_fixtures`) and then
//! never rewritten: a failure here means a change broke old models.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use manyfold_core::algo::linear::{Linear, LinearModel, LinearParams};
use manyfold_core::algo::logistic::{Logistic, LogisticModel, LogisticParams};
use manyfold_core::model::StoredModel;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/models").join(name)
}

fn v1_models() -> Vec<(&'static str, StoredModel)> {
    vec![
        (
            "v1-linear.mnfd",
            StoredModel::new::<Linear>(
                vec!["x".into(), "temperature".into()],
                LinearModel {
                    params: LinearParams {
                        reg_param: 0.1,
                        fit_intercept: true,
                        standardization: false,
                        ..LinearParams::default()
                    },
                    coefficients: vec![2.5, -0.125],
                    intercept: 1.0 / 3.0,
                    // Version 1 had only the closed form: no sweeps, converged.
                    iterations: 0,
                    converged: true,
                },
            ),
        ),
        (
            "v1-logistic.mnfd",
            StoredModel::new::<Logistic>(
                vec!["a".into(), "b".into()],
                LogisticModel {
                    params: LogisticParams { reg_param: 0.01, max_iter: 50, ..Default::default() },
                    classes: vec![1.0, 2.0, 5.0],
                    coefficients: vec![vec![0.5, -1.5], vec![0.25, 0.0], vec![-0.75, 1.5]],
                    intercepts: vec![0.1, -0.2, 0.1],
                    iterations: 17,
                    // Version 1 did not record convergence: it reads as converged.
                    converged: true,
                },
            ),
        ),
    ]
}

#[test]
fn released_v1_models_still_decode() {
    for (name, expected) in v1_models() {
        let path = fixture(name);
        if std::env::var_os("MANYFOLD_WRITE_FIXTURES").is_some() {
            std::fs::write(&path, expected.encode().unwrap()).unwrap();
        }
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(StoredModel::decode(&bytes).unwrap(), expected, "{name}");
    }
}
