//! searchJson: the algorithm, one parsed and checked trainer per parameter set, their prediction
//! options, the validation metric and whether fold models come back.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::evaluate::MetricSpec;
use crate::predict::PredictOptions;
use crate::registry::DynAlgorithm;
use crate::train::Trainer;

/// A parsed and checked searchJson.
pub struct SearchSpec {
    pub algorithm: &'static dyn DynAlgorithm,
    /// One per parameter set, in order.
    pub trainers: Vec<Trainer>,
    /// One per parameter set (default options where searchJson has none).
    pub predict_options: Vec<PredictOptions>,
    pub metric: MetricSpec,
    /// Whether each fit's fold model is serialized into the fits batch.
    pub return_models: bool,
}

const FIELDS: &[&str] = &["algorithm", "paramSets", "predictOptions", "metric", "returnModels"];

/// An error of parameter set `i`: the same kind, its name extended with the set's index.
fn of_set(i: usize, e: Error) -> Error {
    match e {
        Error::InvalidParam { name, reason } => {
            Error::invalid_param(format!("{name} of parameter set {i}"), reason)
        }
        other => Error::invalid_param(format!("parameter set {i}"), other.to_string()),
    }
}

impl SearchSpec {
    /// Parses and checks searchJson (docs/native-interface.md, "searchJson").
    ///
    /// # Errors
    /// `InvalidParam`: malformed JSON or an unknown field (`search`), an unknown algorithm, no
    /// parameter set, bad params or prediction options (named with the parameter set's index),
    /// a `predictOptions` list of another length than `paramSets`, an unknown metric or one of
    /// another task than the algorithm's.
    pub fn from_json(json: &str) -> Result<Self> {
        let bad = |reason: String| Error::invalid_param("search", reason);
        let value: Value = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
        let object = value.as_object().ok_or_else(|| bad("must be a JSON object".into()))?;
        if let Some(k) = object.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(bad(format!("unknown field '{k}' (known: {})", FIELDS.join(", "))));
        }
        let name = object
            .get("algorithm")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::invalid_param("algorithm", "missing or not a string"))?;
        let algorithm = crate::registry::get(name)?;
        let sets = object
            .get("paramSets")
            .and_then(Value::as_array)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::invalid_param("paramSets", "must be a non-empty array"))?;
        let trainers = sets
            .iter()
            .enumerate()
            .map(|(i, set)| Trainer::new(name, &set.to_string()).map_err(|e| of_set(i, e)))
            .collect::<Result<Vec<_>>>()?;
        let predict_options = match object.get("predictOptions") {
            None | Some(Value::Null) => vec![PredictOptions::default(); sets.len()],
            Some(Value::Array(list)) if list.len() == sets.len() => list
                .iter()
                .enumerate()
                .map(|(i, o)| PredictOptions::from_json(&o.to_string()).map_err(|e| of_set(i, e)))
                .collect::<Result<Vec<_>>>()?,
            Some(other) => {
                return Err(Error::invalid_param(
                    "predictOptions",
                    format!(
                        "must be an array of one object per parameter set ({}), got {other}",
                        sets.len()
                    ),
                ))
            }
        };
        let metric = MetricSpec::from_json(
            object.get("metric").ok_or_else(|| Error::invalid_param("metric", "missing"))?,
        )?;
        metric.check_task(name, algorithm.task())?;
        let return_models = match object.get("returnModels") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(Error::invalid_param(
                    "returnModels",
                    format!("must be true or false, got {other}"),
                ))
            }
        };
        Ok(SearchSpec { algorithm, trainers, predict_options, metric, return_models })
    }

    /// Number of parameter sets.
    pub fn len(&self) -> usize {
        self.trainers.len()
    }

    /// Always false: a spec has at least one parameter set.
    pub fn is_empty(&self) -> bool {
        self.trainers.is_empty()
    }
}
