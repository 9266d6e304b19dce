//! Hyperparameters as they cross the JNI boundary: one serde struct per algorithm, named as Spark
//! names them, unknown fields refused. Validated here and again in Scala; the defaults must equal
//! the Scala ones (a ScalaTest compares them through `NativeApi.defaultParams`).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Which algorithm a call trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    Linear,
    Logistic,
}

impl Algorithm {
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "linear" => Ok(Algorithm::Linear),
            "logistic" => Ok(Algorithm::Logistic),
            other => Err(Error::invalid_param(
                "algorithm",
                format!("unknown algorithm '{other}' (expected linear or logistic)"),
            )),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Linear => "linear",
            Algorithm::Logistic => "logistic",
        }
    }
}

/// Linear regression: minimizes `1/(2n) ||y - Xw - b||^2 + regParam/2 * sum_j (s_j w_j)^2`
/// where `s_j` is feature j's sample standard deviation when `standardization` is on, else 1.
/// `regParam = 0` is ordinary least squares. Same objective as Spark's `LinearRegression` with
/// `elasticNetParam = 0`, and as scikit-learn's `Ridge(alpha = n * regParam)` on `X / s`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct LinearParams {
    /// L2 penalty, >= 0. Default 0.0.
    pub reg_param: f64,
    /// Fit an intercept. Default true.
    pub fit_intercept: bool,
    /// Penalize coefficients on the standardized scale (coefficients are always reported on
    /// the original scale). Default true.
    pub standardization: bool,
}

impl Default for LinearParams {
    fn default() -> Self {
        LinearParams { reg_param: 0.0, fit_intercept: true, standardization: true }
    }
}

/// Logistic regression, binomial or multinomial: minimizes the mean log loss plus
/// `regParam/2 * ||W||^2` on the standardized scale (when `standardization` is on). The
/// intercept is never penalized. Labels are class values; the model keeps the sorted distinct
/// labels it saw as its classes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct LogisticParams {
    /// L2 penalty, >= 0. Default 0.0.
    pub reg_param: f64,
    /// Maximum optimizer iterations, >= 1. Default 100.
    pub max_iter: u32,
    /// Convergence tolerance, >= 0. Default 1e-6.
    pub tol: f64,
    /// Fit an intercept. Default true.
    pub fit_intercept: bool,
    /// Fit on standardized features. Default true.
    pub standardization: bool,
    /// "auto" (binomial for two classes, else multinomial), "binomial" or "multinomial".
    pub family: String,
}

impl Default for LogisticParams {
    fn default() -> Self {
        LogisticParams {
            reg_param: 0.0,
            max_iter: 100,
            tol: 1e-6,
            fit_intercept: true,
            standardization: true,
            family: "auto".to_string(),
        }
    }
}

fn check_non_negative(name: &str, v: f64) -> Result<()> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid_param(name, format!("must be finite and >= 0, got {v}")))
    }
}

impl LinearParams {
    /// Parses and validates a JSON object of Spark-named params; absent fields take defaults.
    ///
    /// # Errors
    /// `InvalidParam` for malformed JSON, unknown fields or out-of-range values.
    pub fn from_json(json: &str) -> Result<Self> {
        let p: Self = parse_json(json)?;
        p.validate()?;
        Ok(p)
    }
    pub fn validate(&self) -> Result<()> {
        check_non_negative("regParam", self.reg_param)
    }
}

impl LogisticParams {
    /// Parses and validates a JSON object of Spark-named params; absent fields take defaults.
    ///
    /// # Errors
    /// `InvalidParam` for malformed JSON, unknown fields or out-of-range values.
    pub fn from_json(json: &str) -> Result<Self> {
        let p: Self = parse_json(json)?;
        p.validate()?;
        Ok(p)
    }
    pub fn validate(&self) -> Result<()> {
        check_non_negative("regParam", self.reg_param)?;
        check_non_negative("tol", self.tol)?;
        if self.max_iter == 0 {
            return Err(Error::invalid_param("maxIter", "must be >= 1, got 0"));
        }
        if !matches!(self.family.as_str(), "auto" | "binomial" | "multinomial") {
            return Err(Error::invalid_param(
                "family",
                format!("must be auto, binomial or multinomial, got '{}'", self.family),
            ));
        }
        Ok(())
    }
}

/// The default params of an algorithm as JSON (what Scala compares its defaults with).
///
/// # Errors
/// `InvalidParam` for an unknown algorithm.
pub fn default_params_json(algorithm: &str) -> Result<String> {
    let json = match Algorithm::parse(algorithm)? {
        Algorithm::Linear => serde_json::to_string(&LinearParams::default()),
        Algorithm::Logistic => serde_json::to_string(&LogisticParams::default()),
    };
    json.map_err(|e| Error::invalid_param("params", e.to_string()))
}

fn parse_json<T: serde::de::DeserializeOwned>(json: &str) -> Result<T> {
    serde_json::from_str(json).map_err(|e| Error::invalid_param("params", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_json_gives_defaults() {
        assert_eq!(LinearParams::from_json("{}").unwrap(), LinearParams::default());
        assert_eq!(LogisticParams::from_json("{}").unwrap(), LogisticParams::default());
    }

    #[test]
    fn unknown_field_is_refused() {
        let e = LinearParams::from_json(r#"{"regParm": 0.1}"#).unwrap_err();
        assert!(matches!(e, Error::InvalidParam { .. }), "{e:?}");
        assert!(e.to_string().contains("regParm"), "{e}");
    }

    #[test]
    fn bad_values_are_refused() {
        for v in ["-1.0", "-0.5", "1e400"] {
            let e = LinearParams::from_json(&format!(r#"{{"regParam": {v}}}"#)).unwrap_err();
            assert!(matches!(e, Error::InvalidParam { .. }), "{v}: {e:?}");
        }
        let e = LogisticParams::from_json(r#"{"maxIter": 0}"#).unwrap_err();
        assert!(matches!(e, Error::InvalidParam { ref name, .. } if name == "maxIter"));
        let e = LogisticParams::from_json(r#"{"tol": -1}"#).unwrap_err();
        assert!(matches!(e, Error::InvalidParam { ref name, .. } if name == "tol"));
        let e = LogisticParams::from_json(r#"{"family": "poisson"}"#).unwrap_err();
        assert!(matches!(e, Error::InvalidParam { ref name, .. } if name == "family"));
    }
}
