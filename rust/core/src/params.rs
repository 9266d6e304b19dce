//! Checks shared by the algorithms' params. Each algorithm's params struct lives in its own file
//! (serde, Spark's names, unknown fields refused); it is parsed here and validated by its
//! algorithm. The defaults must equal the Scala ones: a test walks the registry and compares them
//! through `NativeApi.algorithms`.

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// `v` finite and >= 0, else `InvalidParam` naming `name`.
///
/// # Errors
/// As described.
pub fn check_non_negative(name: &str, v: f64) -> Result<()> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid_param(name, format!("must be finite and >= 0, got {v}")))
    }
}

/// `v` finite and > 0, else `InvalidParam` naming `name`.
///
/// # Errors
/// As described.
pub fn check_positive(name: &str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(Error::invalid_param(name, format!("must be finite and > 0, got {v}")))
    }
}

/// `v` in `[lo, hi]`, else `InvalidParam` naming `name`.
///
/// # Errors
/// As described.
pub fn check_in_range(name: &str, v: f64, lo: f64, hi: f64) -> Result<()> {
    if v >= lo && v <= hi {
        Ok(())
    } else {
        Err(Error::invalid_param(name, format!("must be in [{lo}, {hi}], got {v}")))
    }
}

/// Deserializes `maxIter` from any JSON number, so that a negative, fractional or too large
/// value is refused with a message naming the param (serde's own would name only the type).
///
/// # Errors
/// A serde error naming `maxIter`.
pub fn deserialize_max_iter<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = <f64 as serde::Deserialize>::deserialize(d)?;
    if v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v) {
        Ok(v as u32)
    } else {
        Err(serde::de::Error::custom(format!(
            "maxIter must be an integer in [0, {}], got {v}",
            u32::MAX
        )))
    }
}

/// Parses a JSON object of Spark-named params; absent fields take their defaults.
///
/// # Errors
/// `InvalidParam` (named `params`) for malformed JSON, unknown fields or wrong types.
pub fn parse_json<T: DeserializeOwned>(json: &str) -> Result<T> {
    serde_json::from_str(json).map_err(|e| Error::invalid_param("params", e.to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::algo::linear::LinearParams;
    use crate::algo::logistic::LogisticParams;

    #[test]
    fn empty_json_gives_defaults() {
        assert_eq!(parse_json::<LinearParams>("{}").unwrap(), LinearParams::default());
        assert_eq!(parse_json::<LogisticParams>("{}").unwrap(), LogisticParams::default());
    }

    #[test]
    fn unknown_field_is_refused() {
        let e = parse_json::<LinearParams>(r#"{"regParm": 0.1}"#).unwrap_err();
        assert!(matches!(e, Error::InvalidParam { .. }), "{e:?}");
        assert!(e.to_string().contains("regParm"), "{e}");
    }

    #[test]
    fn bad_values_are_refused() {
        for v in [-1.0, -0.5, f64::INFINITY, f64::NAN] {
            let p = LinearParams { reg_param: v, ..Default::default() };
            let e = p.validate().unwrap_err();
            assert!(matches!(e, Error::InvalidParam { ref name, .. } if name == "regParam"), "{v}");
        }
        // maxIter 0 returns the starting point, as Spark does.
        assert!(LogisticParams { max_iter: 0, ..Default::default() }.validate().is_ok());
        let p = LogisticParams { tol: -1.0, ..Default::default() };
        assert!(
            matches!(p.validate().unwrap_err(), Error::InvalidParam { ref name, .. } if name == "tol")
        );
        let p = LogisticParams { family: "poisson".into(), ..Default::default() };
        assert!(
            matches!(p.validate().unwrap_err(), Error::InvalidParam { ref name, .. } if name == "family")
        );
        assert!(check_in_range("elasticNetParam", 1.5, 0.0, 1.0).is_err());
        assert!(check_in_range("elasticNetParam", f64::NAN, 0.0, 1.0).is_err());
        assert!(check_positive("gamma", 0.0).is_err());
    }
}
