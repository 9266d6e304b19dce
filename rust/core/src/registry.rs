//! The algorithms by name and by model code: the one list to extend when adding an algorithm.
//!
//! Generic code (training, prediction, the model envelope, `describe`, the JNI bridge) sees an
//! algorithm as a `&'static dyn DynAlgorithm` and a fitted model as a `Box<dyn AnyModel>`; both
//! are implemented once here for every [`Algorithm`], so an algorithm file only implements the
//! typed traits.

use std::any::Any;
use std::fmt::Debug;
use std::marker::PhantomData;

use serde_json::{json, Value};

use crate::algo::glm::Glm;
use crate::algo::kmeans::KMeans;
use crate::algo::linear::Linear;
use crate::algo::logistic::Logistic;
use crate::algo::naive_bayes::NaiveBayes;
use crate::algo::svc::Svc;
use crate::algo::{Algorithm, Convergence, FittedModel, GroupData, Prediction, Task};
use crate::error::{Error, Result};
use crate::model;
use crate::params::parse_json;

/// Every algorithm this library trains and decodes. Model codes must stay unique forever.
static ALGORITHMS: &[&dyn DynAlgorithm] = &[
    &Plugin::<Linear>(PhantomData),
    &Plugin::<Logistic>(PhantomData),
    &Plugin::<Svc>(PhantomData),
    &Plugin::<Glm>(PhantomData),
    &Plugin::<NaiveBayes>(PhantomData),
    &Plugin::<KMeans>(PhantomData),
];

/// All registered algorithms.
pub fn all() -> &'static [&'static dyn DynAlgorithm] {
    ALGORITHMS
}

/// The algorithm of this name.
///
/// # Errors
/// `InvalidParam` (named `algorithm`) listing the known names.
pub fn get(name: &str) -> Result<&'static dyn DynAlgorithm> {
    ALGORITHMS.iter().copied().find(|a| a.name() == name).ok_or_else(|| {
        let known: Vec<_> = ALGORITHMS.iter().map(|a| a.name()).collect();
        Error::invalid_param(
            "algorithm",
            format!("unknown algorithm '{name}' (known: {})", known.join(", ")),
        )
    })
}

/// The algorithm whose models carry this header code.
pub fn by_code(code: u8) -> Option<&'static dyn DynAlgorithm> {
    ALGORITHMS.iter().copied().find(|a| a.code() == code)
}

/// What the Scala side needs to know of every algorithm, as JSON: name, task, metric columns,
/// whether it takes weights and reports convergence, and its default params.
///
/// # Errors
/// `Numerical` if a default cannot be serialized (it always can).
pub fn describe_all() -> Result<String> {
    let list = ALGORITHMS
        .iter()
        .map(|a| {
            Ok(json!({
                "name": a.name(),
                "task": a.task().name(),
                "metrics": a.task().metrics(),
                "weights": a.weights(),
                "iterative": a.iterative(),
                "defaultParams": a.default_params()?,
            }))
        })
        .collect::<Result<Vec<_>>>()?;
    serde_json::to_string(&list).map_err(|e| Error::numerical(e.to_string()))
}

/// An algorithm, object-safe.
pub trait DynAlgorithm: Send + Sync {
    fn name(&self) -> &'static str;
    fn code(&self) -> u8;
    fn task(&self) -> Task;
    fn weights(&self) -> bool;
    fn iterative(&self) -> bool;
    /// The default params as JSON.
    ///
    /// # Errors
    /// `Numerical` if they cannot be serialized.
    fn default_params(&self) -> Result<Value>;
    /// Parses and checks params JSON (absent fields default) into something that fits groups.
    ///
    /// # Errors
    /// `InvalidParam` for malformed JSON, unknown fields or out-of-range values.
    fn trainer(&self, params_json: &str) -> Result<Box<dyn GroupFitter>>;
    /// Decodes a model payload of this algorithm (the envelope is already checked).
    ///
    /// # Errors
    /// `Model` for a payload that does not parse or whose shapes are inconsistent.
    fn decode(&self, payload: &[u8]) -> Result<(Vec<String>, Box<dyn AnyModel>)>;
}

/// Checked params of one algorithm: fits groups.
pub trait GroupFitter: Send + Sync {
    /// # Errors
    /// As [`Algorithm::fit`].
    fn fit(&self, data: &GroupData<'_>) -> Result<Box<dyn AnyModel>>;
}

/// A fitted model of any algorithm, object-safe.
pub trait AnyModel: Debug + Send + Sync {
    fn algorithm(&self) -> &'static str;
    fn code(&self) -> u8;
    fn task(&self) -> Task;
    fn num_features(&self) -> usize;
    fn is_finite(&self) -> bool;
    fn predict(&self, x: &[f64]) -> Prediction;
    fn classes(&self) -> Option<&[f64]>;
    fn convergence(&self) -> Option<Convergence>;
    fn through_origin(&self) -> bool;
    /// # Errors
    /// As [`FittedModel::describe`].
    fn describe(&self) -> Result<Value>;
    /// The payload of the model format: feature names and the model, as JSON.
    ///
    /// # Errors
    /// `Numerical` if serialization fails.
    fn payload(&self, feature_names: &[String]) -> Result<Vec<u8>>;
    fn as_any(&self) -> &dyn Any;
    fn dyn_eq(&self, other: &dyn AnyModel) -> bool;
}

/// The typed model of `A` behind [`AnyModel`].
pub struct Trained<A: Algorithm>(pub A::Model);

impl<A: Algorithm> Debug for Trained<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple(A::NAME).field(&self.0).finish()
    }
}

impl<A: Algorithm> AnyModel for Trained<A> {
    fn algorithm(&self) -> &'static str {
        A::NAME
    }
    fn code(&self) -> u8 {
        A::CODE
    }
    fn task(&self) -> Task {
        A::TASK
    }
    fn num_features(&self) -> usize {
        self.0.num_features()
    }
    fn is_finite(&self) -> bool {
        self.0.is_finite()
    }
    fn predict(&self, x: &[f64]) -> Prediction {
        self.0.predict(x)
    }
    fn classes(&self) -> Option<&[f64]> {
        self.0.classes()
    }
    fn convergence(&self) -> Option<Convergence> {
        self.0.convergence()
    }
    fn through_origin(&self) -> bool {
        self.0.through_origin()
    }
    fn describe(&self) -> Result<Value> {
        self.0.describe()
    }
    fn payload(&self, feature_names: &[String]) -> Result<Vec<u8>> {
        model::to_payload(feature_names, &self.0)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn dyn_eq(&self, other: &dyn AnyModel) -> bool {
        other.as_any().downcast_ref::<Trained<A>>().is_some_and(|o| o.0 == self.0)
    }
}

/// [`DynAlgorithm`] of `A`.
pub struct Plugin<A>(PhantomData<fn() -> A>);

struct Fitter<A: Algorithm>(A::Params);

impl<A: Algorithm> GroupFitter for Fitter<A> {
    fn fit(&self, data: &GroupData<'_>) -> Result<Box<dyn AnyModel>> {
        Ok(Box::new(Trained::<A>(A::fit(&self.0, data)?)))
    }
}

impl<A: Algorithm> DynAlgorithm for Plugin<A> {
    fn name(&self) -> &'static str {
        A::NAME
    }
    fn code(&self) -> u8 {
        A::CODE
    }
    fn task(&self) -> Task {
        A::TASK
    }
    fn weights(&self) -> bool {
        A::WEIGHTS
    }
    fn iterative(&self) -> bool {
        A::ITERATIVE
    }
    fn default_params(&self) -> Result<Value> {
        serde_json::to_value(A::Params::default()).map_err(|e| Error::numerical(e.to_string()))
    }
    fn trainer(&self, params_json: &str) -> Result<Box<dyn GroupFitter>> {
        let params: A::Params = parse_json(params_json)?;
        A::check(&params)?;
        Ok(Box::new(Fitter::<A>(params)))
    }
    fn decode(&self, payload: &[u8]) -> Result<(Vec<String>, Box<dyn AnyModel>)> {
        let (names, m) = model::from_payload::<A::Model>(payload)?;
        if !m.shapes_ok(names.len()) {
            return Err(Error::model("inconsistent shapes in the model payload"));
        }
        Ok((names, Box::new(Trained::<A>(m))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes_are_unique() {
        for (i, a) in ALGORITHMS.iter().enumerate() {
            for b in &ALGORITHMS[i + 1..] {
                assert_ne!(a.name(), b.name());
                assert_ne!(a.code(), b.code(), "{} and {}", a.name(), b.name());
            }
            assert!(a.code() != 0, "code 0 is reserved");
        }
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let e = get("svm-light").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("unknown algorithm 'svm-light'") && e.contains("linear"), "{e}");
    }
}
