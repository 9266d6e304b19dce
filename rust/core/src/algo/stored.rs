//! The params as a model payload stores them. Params that did not exist when format version 2
//! was released (`elasticNetParam`, linear's `maxIter` and `tol`) are written only when they
//! differ from the value every older model implicitly had, and read back as that value when
//! absent: a model that older releases could have written re-encodes to the same bytes, and
//! the released fixtures keep loading. The params JSON crossing JNI and `describe` keep every
//! field (that is `LinearParams`'s and `LogisticParams`'s own serde).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::linear::LinearParams;
use super::logistic::LogisticParams;

/// `elasticNetParam` before it existed: pure L2.
fn no_l1() -> f64 {
    0.0
}
fn is_no_l1(v: &f64) -> bool {
    v.to_bits() == no_l1().to_bits()
}
/// Linear regression's `maxIter` and `tol` before they existed: Spark's defaults, unused by
/// the closed form that was the only solver.
fn linear_max_iter() -> u32 {
    100
}
fn is_linear_max_iter(v: &u32) -> bool {
    *v == linear_max_iter()
}
fn linear_tol() -> f64 {
    1e-6
}
fn is_linear_tol(v: &f64) -> bool {
    v.to_bits() == linear_tol().to_bits()
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StoredLinear {
    reg_param: f64,
    fit_intercept: bool,
    standardization: bool,
    #[serde(default = "no_l1", skip_serializing_if = "is_no_l1")]
    elastic_net_param: f64,
    #[serde(default = "linear_max_iter", skip_serializing_if = "is_linear_max_iter")]
    max_iter: u32,
    #[serde(default = "linear_tol", skip_serializing_if = "is_linear_tol")]
    tol: f64,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StoredLogistic {
    reg_param: f64,
    max_iter: u32,
    tol: f64,
    fit_intercept: bool,
    standardization: bool,
    family: String,
    #[serde(default = "no_l1", skip_serializing_if = "is_no_l1")]
    elastic_net_param: f64,
}

/// `#[serde(with = "stored::linear")]` on a model's `LinearParams`.
pub(crate) mod linear {
    use super::*;

    pub fn serialize<S: Serializer>(p: &LinearParams, s: S) -> Result<S::Ok, S::Error> {
        StoredLinear {
            reg_param: p.reg_param,
            fit_intercept: p.fit_intercept,
            standardization: p.standardization,
            elastic_net_param: p.elastic_net_param,
            max_iter: p.max_iter,
            tol: p.tol,
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<LinearParams, D::Error> {
        let p = StoredLinear::deserialize(d)?;
        Ok(LinearParams {
            reg_param: p.reg_param,
            elastic_net_param: p.elastic_net_param,
            max_iter: p.max_iter,
            tol: p.tol,
            fit_intercept: p.fit_intercept,
            standardization: p.standardization,
        })
    }
}

/// `#[serde(with = "stored::logistic")]` on a model's `LogisticParams`.
pub(crate) mod logistic {
    use super::*;

    pub fn serialize<S: Serializer>(p: &LogisticParams, s: S) -> Result<S::Ok, S::Error> {
        StoredLogistic {
            reg_param: p.reg_param,
            max_iter: p.max_iter,
            tol: p.tol,
            fit_intercept: p.fit_intercept,
            standardization: p.standardization,
            family: p.family.clone(),
            elastic_net_param: p.elastic_net_param,
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<LogisticParams, D::Error> {
        let p = StoredLogistic::deserialize(d)?;
        Ok(LogisticParams {
            reg_param: p.reg_param,
            elastic_net_param: p.elastic_net_param,
            max_iter: p.max_iter,
            tol: p.tol,
            fit_intercept: p.fit_intercept,
            standardization: p.standardization,
            family: p.family,
        })
    }
}
