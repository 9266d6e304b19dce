//! A JSON description of a model, for the Scala side to read coefficients and metadata
//! without knowing the binary format. Shape: docs/native-interface.md.

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::model::{Model, StoredModel, FORMAT_VERSION};

/// Describes a decoded model as a JSON string.
///
/// # Errors
/// `Numerical` if serialization fails (it does not for finite models).
pub fn describe(stored: &StoredModel) -> Result<String> {
    let mut v = match &stored.model {
        Model::Linear(m) => json!({
            "algorithm": "linear",
            "coefficients": m.coefficients,
            "intercept": m.intercept,
            "params": m.params,
        }),
        Model::Logistic(m) => json!({
            "algorithm": "logistic",
            "classes": m.classes,
            "coefficientMatrix": m.coefficients,
            "interceptVector": m.intercepts,
            "iterations": m.iterations,
            "params": m.params,
        }),
    };
    if let Value::Object(map) = &mut v {
        map.insert("formatVersion".into(), json!(FORMAT_VERSION));
        map.insert("featureNames".into(), json!(stored.feature_names));
    }
    serde_json::to_string(&v).map_err(|e| Error::numerical(e.to_string()))
}
