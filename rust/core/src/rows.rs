//! A group's rows before any fit: every value checked, then put in the canonical order. Shared
//! by grouped training and searches, so that a search's refit sees exactly the rows, in exactly
//! the order, that `trainGroups` would fit.

use std::cmp::Ordering;

use arrow_array::{Array, Float64Array};

use crate::batch::{NamedColumn, TrainBatch};
use crate::error::{Error, Result};

/// The rows checked (see [`check`]) and in canonical order (see [`canonical_order`]).
///
/// # Errors
/// As [`check`].
pub(crate) fn checked_order(batch: &TrainBatch, rows: &[u32]) -> Result<Vec<u32>> {
    check(batch, rows)?;
    Ok(canonical_order(batch, rows))
}

/// `Data`, naming the column, for any null, NaN or infinity in the label, time, weight or a
/// feature, a null fold, a negative weight, or weights that are all 0.
///
/// # Errors
/// As described.
pub(crate) fn check(batch: &TrainBatch, rows: &[u32]) -> Result<()> {
    for c in [&batch.label, &batch.time].into_iter().flatten() {
        check_column(&c.name, &c.values, rows)?;
    }
    if let Some(w) = &batch.weight {
        check_weights(w, rows)?;
    }
    for (name, col) in batch.feature_names.iter().zip(&batch.features) {
        check_column(name, col, rows)?;
    }
    if let Some(fold) = &batch.fold {
        if rows.iter().any(|&r| fold.values.is_null(r as usize)) {
            return Err(Error::data(format!("fold column '{}' has a null value", fold.name)));
        }
    }
    Ok(())
}

fn check_column(name: &str, col: &Float64Array, rows: &[u32]) -> Result<()> {
    for &r in rows {
        let r = r as usize;
        if col.is_null(r) {
            return Err(Error::data(format!("column '{name}' has a null value")));
        }
        let v = col.value(r);
        if v.is_nan() {
            return Err(Error::data(format!("column '{name}' has a NaN value")));
        }
        if v.is_infinite() {
            return Err(Error::data(format!("column '{name}' has an infinite value ({v})")));
        }
    }
    Ok(())
}

fn check_weights(weight: &NamedColumn, rows: &[u32]) -> Result<()> {
    check_column(&weight.name, &weight.values, rows)?;
    let w = weight.values.values();
    if let Some(&r) = rows.iter().find(|&&r| w[r as usize] < 0.0) {
        return Err(Error::data(format!(
            "weight column '{}' has a negative value ({})",
            weight.name, w[r as usize]
        )));
    }
    if rows.iter().all(|&r| w[r as usize] == 0.0) {
        return Err(Error::data(format!(
            "weight column '{}' is 0 for every row of the group",
            weight.name
        )));
    }
    Ok(())
}

/// Spark's shuffle delivers a group's rows in no fixed order, and a retried task must give the
/// same model bytes (and cut the same folds): the rows are fitted in a canonical order, by time
/// first (so that time-series folds can be cut from it), then label, weight and features. Rows
/// equal in all of these are interchangeable, so their order cannot change a fit or a fold's
/// content.
pub(crate) fn canonical_order(batch: &TrainBatch, rows: &[u32]) -> Vec<u32> {
    order_by(batch, rows, true)
}

/// The canonical order of the same rows as if the batch had no time column: that of the
/// estimator's own fit, which never sees the time column a search cuts its folds by. A
/// search's refit is fitted in it, so that its model is the one a fit without the search gives.
pub(crate) fn canonical_order_untimed(batch: &TrainBatch, rows: &[u32]) -> Vec<u32> {
    order_by(batch, rows, false)
}

fn order_by(batch: &TrainBatch, rows: &[u32], with_time: bool) -> Vec<u32> {
    let time = if with_time { &batch.time } else { &None };
    let keys: Vec<&[f64]> = [time, &batch.label, &batch.weight]
        .into_iter()
        .flatten()
        .map(|c| &c.values.values()[..])
        .chain(batch.features.iter().map(|c| &c.values()[..]))
        .collect();
    let mut order = rows.to_vec();
    order.sort_unstable_by(|&a, &b| {
        let (a, b) = (a as usize, b as usize);
        keys.iter()
            .map(|c| c[a].total_cmp(&c[b]))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
    });
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Int32Array;

    use crate::batch::NamedFoldColumn;

    fn column(name: &str, values: Vec<f64>) -> NamedColumn {
        NamedColumn { name: name.into(), values: Float64Array::from(values) }
    }

    fn batch() -> TrainBatch {
        TrainBatch {
            groups: Int32Array::from(vec![0; 4]),
            label: Some(column("y", vec![0.0, 5.0, 9.0, 1.0])),
            weight: None,
            time: Some(column("t", vec![3.0, 1.0, 2.0, 1.0])),
            fold: None,
            features: vec![Float64Array::from(vec![0.5, 0.1, 0.2, 0.3])],
            feature_names: vec!["x".into()],
        }
    }

    #[test]
    fn canonical_order_puts_time_first_then_label_then_features() {
        // Time first (1, 1, 2, 3); the two rows at time 1 by label (1.0 before 5.0).
        assert_eq!(canonical_order(&batch(), &[0, 1, 2, 3]), vec![3, 1, 2, 0]);
        let untimed = TrainBatch { time: None, ..batch() };
        assert_eq!(canonical_order(&untimed, &[0, 1, 2, 3]), vec![0, 3, 1, 2]);
        assert_eq!(canonical_order_untimed(&batch(), &[2, 0, 3, 1]), vec![0, 3, 1, 2]);
    }

    #[test]
    fn a_null_fold_is_refused_naming_the_column() {
        let folds = Int32Array::from(vec![Some(0), None, Some(1), Some(0)]);
        let b = TrainBatch {
            fold: Some(NamedFoldColumn { name: "myFold".into(), values: folds }),
            ..batch()
        };
        let e = check(&b, &[0, 1, 2, 3]).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("fold column 'myFold' has a null value"), "{e}");
        assert!(check(&b, &[0, 2, 3]).is_ok());
    }
}
