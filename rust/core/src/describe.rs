//! A JSON description of a model, for the Scala side to read coefficients and metadata
//! without knowing the binary format. Shape: docs/native-interface.md.

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::model::{StoredModel, FORMAT_VERSION};

/// Describes a decoded model as a JSON string: the algorithm's own fields (see each
/// algorithm's `FittedModel::describe`) plus `algorithm`, `task`, `formatVersion`,
/// `featureNames` and, for iterative algorithms, `converged` and `iterations`.
///
/// # Errors
/// `Numerical` if serialization fails (it does not for finite models).
pub fn describe(stored: &StoredModel) -> Result<String> {
    let mut v = stored.model.describe()?;
    let Value::Object(map) = &mut v else {
        return Err(Error::numerical("a model description must be a JSON object"));
    };
    map.insert("algorithm".into(), json!(stored.model.algorithm()));
    map.insert("task".into(), json!(stored.model.task().name()));
    map.insert("formatVersion".into(), json!(FORMAT_VERSION));
    map.insert("featureNames".into(), json!(stored.feature_names));
    if let Some(c) = stored.model.convergence() {
        map.insert("converged".into(), json!(c.converged));
        map.insert("iterations".into(), json!(c.iterations));
    }
    serde_json::to_string(&v).map_err(|e| Error::numerical(e.to_string()))
}
