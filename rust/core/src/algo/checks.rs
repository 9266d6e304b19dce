//! Input checks shared by the linfa-backed algorithms (GLM, naive Bayes, k-means).

use ndarray::{ArrayView1, ArrayView2};

use crate::error::{Error, Result};

/// `Data` unless there is at least one row and every feature is finite.
pub(crate) fn features(x: ArrayView2<f64>, what: &str) -> Result<()> {
    if x.nrows() == 0 {
        return Err(Error::data(format!("{what} needs at least one row")));
    }
    if x.iter().any(|v| !v.is_finite()) {
        return Err(Error::data("features must be finite (found NaN or infinity)"));
    }
    Ok(())
}

/// The weights of `n` rows (all 1 when none are given); `Data` when their number differs
/// from `n`, one is negative or not finite, or they sum to 0.
pub(crate) fn weights(n: usize, weight: Option<ArrayView1<f64>>) -> Result<Vec<f64>> {
    let w = match weight {
        None => return Ok(vec![1.0; n]),
        Some(w) if w.len() != n => {
            return Err(Error::data(format!("{n} feature rows but {} weights", w.len())))
        }
        Some(w) => w.to_vec(),
    };
    if let Some((i, v)) = w.iter().enumerate().find(|(_, v)| !(v.is_finite() && **v >= 0.0)) {
        return Err(Error::data(format!("weight must be finite and >= 0, row {i} has {v}")));
    }
    if w.iter().sum::<f64>() <= 0.0 {
        return Err(Error::data("weights sum to 0: no row to fit"));
    }
    Ok(w)
}
