//! The folds of a search, cut from rows already in canonical order: k-fold (optionally
//! stratified), a fold column, scikit-learn's `TimeSeriesSplit` over distinct time values, and
//! one train/validation split. docs/native-interface.md ("foldsJson") is the contract.
//!
//! Folds depend only on the rows' content and the seed: the canonical order makes them
//! independent of the order Spark delivered the rows in, and the generator is
//! [`crate::rng::Rng`], whose stream depends on nothing else.

use std::cmp::Ordering;

use serde::Deserialize;

use crate::batch::TrainBatch;
use crate::error::{Error, Result};
use crate::rng::Rng;

/// How the folds are cut, checked.
#[derive(Debug, Clone, PartialEq)]
pub enum FoldSpec {
    /// `k` folds of shuffled rows, per class when `stratified`.
    KFold { k: usize, seed: u64, stratified: bool },
    /// The `fold` column gives each row's validation fold, `0..k-1`.
    Column { k: usize },
    /// scikit-learn's `TimeSeriesSplit` over the distinct time values (0 = its default or none).
    TimeSeries { n_splits: usize, test_size: usize, gap: usize, max_train_size: usize },
    /// One split: `train_ratio` of the shuffled rows (per class when `stratified`) to training.
    TrainValidation { train_ratio: f64, seed: u64, stratified: bool },
}

/// One split: batch row indices of each side, both in canonical order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub train: Vec<u32>,
    pub validation: Vec<u32>,
}

/// foldsJson as it crosses JNI; integers signed so that a negative value is refused naming the
/// param rather than by serde's type message.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
enum RawSpec {
    Kfold {
        #[serde(default = "default_k")]
        k: i64,
        #[serde(default)]
        seed: Seed,
        #[serde(default)]
        stratified: bool,
    },
    Column {
        #[serde(default = "default_k")]
        k: i64,
    },
    #[serde(rename_all = "camelCase")]
    TimeSeries {
        #[serde(default = "default_n_splits")]
        n_splits: i64,
        #[serde(default)]
        test_size: i64,
        #[serde(default)]
        gap: i64,
        #[serde(default)]
        max_train_size: i64,
    },
    #[serde(rename_all = "camelCase")]
    TrainValidation {
        #[serde(default = "default_train_ratio")]
        train_ratio: f64,
        #[serde(default)]
        seed: Seed,
        #[serde(default)]
        stratified: bool,
    },
}

/// Spark's seeds are `Long`s; the Scala side sends them as unsigned (`Long.toUnsignedString`),
/// a hand-written JSON may send them signed: both name the same 64 bits.
#[derive(Deserialize, Default)]
#[serde(untagged)]
enum Seed {
    #[default]
    Zero,
    Unsigned(u64),
    Signed(i64),
}

impl Seed {
    fn bits(&self) -> u64 {
        match *self {
            Seed::Zero => 0,
            Seed::Unsigned(v) => v,
            Seed::Signed(v) => v as u64,
        }
    }
}

// Spark's numFolds and trainRatio defaults, scikit-learn's n_splits.
fn default_k() -> i64 {
    3
}
fn default_n_splits() -> i64 {
    5
}
fn default_train_ratio() -> f64 {
    0.75
}

fn count(name: &str, v: i64, min: i64) -> Result<usize> {
    if v < min {
        return Err(Error::invalid_param(name, format!("must be >= {min}, got {v}")));
    }
    usize::try_from(v).map_err(|_| Error::invalid_param(name, format!("too large: {v}")))
}

impl FoldSpec {
    /// Parses and checks foldsJson.
    ///
    /// # Errors
    /// `InvalidParam` naming the param: malformed JSON or an unknown kind or field (`folds`),
    /// `k` or `nSplits` below 2, a negative `testSize`, `gap` or `maxTrainSize`, `trainRatio`
    /// outside (0, 1).
    pub fn from_json(json: &str) -> Result<Self> {
        let raw: RawSpec =
            serde_json::from_str(json).map_err(|e| Error::invalid_param("folds", e.to_string()))?;
        Ok(match raw {
            RawSpec::Kfold { k, seed, stratified } => {
                FoldSpec::KFold { k: count("k", k, 2)?, seed: seed.bits(), stratified }
            }
            RawSpec::Column { k } => FoldSpec::Column { k: count("k", k, 2)? },
            RawSpec::TimeSeries { n_splits, test_size, gap, max_train_size } => {
                FoldSpec::TimeSeries {
                    n_splits: count("nSplits", n_splits, 2)?,
                    test_size: count("testSize", test_size, 0)?,
                    gap: count("gap", gap, 0)?,
                    max_train_size: count("maxTrainSize", max_train_size, 0)?,
                }
            }
            RawSpec::TrainValidation { train_ratio, seed, stratified } => {
                if !(train_ratio > 0.0 && train_ratio < 1.0) {
                    return Err(Error::invalid_param(
                        "trainRatio",
                        format!("must be in (0, 1), got {train_ratio}"),
                    ));
                }
                FoldSpec::TrainValidation { train_ratio, seed: seed.bits(), stratified }
            }
        })
    }

    /// Cuts the splits of `order` (batch rows, checked and in canonical order).
    ///
    /// # Errors
    /// `InvalidParam` naming the param (more folds than rows, a class with fewer rows than folds
    /// when stratified, too few distinct times, an empty side) or `Schema` naming the column (a
    /// fold value outside `0..k-1`, a fold with no rows, a missing label, time or fold column).
    pub fn splits(&self, batch: &TrainBatch, order: &[u32]) -> Result<Vec<Split>> {
        let n = order.len();
        if n == 0 {
            return Err(Error::schema("the data set is empty: no row to cut folds from"));
        }
        let splits = match *self {
            FoldSpec::KFold { k, seed, stratified } => {
                if k > n {
                    return Err(Error::invalid_param(
                        "k",
                        format!("{k} folds but the data has only {n} rows"),
                    ));
                }
                let strata = strata(batch, order, stratified, k)?;
                let mut fold_of = vec![0; n];
                let mut rng = Rng::new(seed);
                // Each class shuffled, then the classes one after another dealt to the folds in
                // turn: every fold holds each class to within one row, and the fold sizes differ
                // by at most one.
                let mut dealt = 0;
                for mut positions in strata {
                    rng.shuffle(&mut positions);
                    for p in positions {
                        fold_of[p] = dealt % k;
                        dealt += 1;
                    }
                }
                by_fold(order, &fold_of, k)
            }
            FoldSpec::Column { k } => {
                let fold = batch
                    .fold
                    .as_ref()
                    .ok_or_else(|| Error::schema("folds of kind 'column' need a fold column"))?;
                let mut fold_of = Vec::with_capacity(n);
                for &r in order {
                    let v = fold.values.value(r as usize);
                    match usize::try_from(v).ok().filter(|f| *f < k) {
                        Some(f) => fold_of.push(f),
                        None => {
                            return Err(Error::schema(format!(
                                "fold column '{}' has the value {v}, outside 0..{} (k = {k})",
                                fold.name,
                                k - 1
                            )))
                        }
                    }
                }
                let splits = by_fold(order, &fold_of, k);
                if let Some(f) = splits.iter().position(|s| s.validation.is_empty()) {
                    return Err(Error::schema(format!(
                        "fold column '{}' has no row of fold {f} (k = {k})",
                        fold.name
                    )));
                }
                splits
            }
            FoldSpec::TimeSeries { n_splits, test_size, gap, max_train_size } => {
                time_series(batch, order, n_splits, test_size, gap, max_train_size)?
            }
            FoldSpec::TrainValidation { train_ratio, seed, stratified } => {
                let mut rng = Rng::new(seed);
                let mut in_train = vec![false; n];
                for mut positions in strata(batch, order, stratified, 1)? {
                    rng.shuffle(&mut positions);
                    let take = (train_ratio * positions.len() as f64).round() as usize;
                    positions.iter().take(take).for_each(|&p| in_train[p] = true);
                }
                let fold_of: Vec<usize> = in_train.iter().map(|t| usize::from(*t)).collect();
                // "fold 0" of `by_fold` is the validation side.
                vec![by_fold(order, &fold_of, 2).swap_remove(0)]
            }
        };
        for (f, s) in splits.iter().enumerate() {
            let side = match (s.train.is_empty(), s.validation.is_empty()) {
                (true, _) => "training",
                (_, true) => "validation",
                _ => continue,
            };
            let (name, detail) = self.name_and_detail();
            return Err(Error::invalid_param(
                name,
                format!("split {f} has no {side} row ({detail}, {n} rows)"),
            ));
        }
        Ok(splits)
    }

    fn name_and_detail(&self) -> (&'static str, String) {
        match self {
            FoldSpec::KFold { k, .. } => ("k", format!("k = {k}")),
            FoldSpec::Column { k } => ("k", format!("k = {k}")),
            FoldSpec::TimeSeries { n_splits, .. } => ("nSplits", format!("nSplits = {n_splits}")),
            FoldSpec::TrainValidation { train_ratio, .. } => {
                ("trainRatio", format!("trainRatio = {train_ratio}"))
            }
        }
    }
}

/// Positions (into `order`) of each class in label order, or one stratum of every position.
/// `folds`: a class with fewer rows is refused.
fn strata(
    batch: &TrainBatch,
    order: &[u32],
    stratified: bool,
    folds: usize,
) -> Result<Vec<Vec<usize>>> {
    if !stratified {
        return Ok(vec![(0..order.len()).collect()]);
    }
    let label = batch
        .label
        .as_ref()
        .ok_or_else(|| Error::schema("stratified folds need a label column"))?;
    let y = label.values.values();
    let mut positions: Vec<usize> = (0..order.len()).collect();
    // Stable: each class keeps the canonical order before its shuffle.
    positions.sort_by(|&a, &b| y[order[a] as usize].total_cmp(&y[order[b] as usize]));
    let mut out: Vec<Vec<usize>> = Vec::new();
    for p in positions {
        let v = y[order[p] as usize];
        match out.last_mut() {
            Some(last) if y[order[last[0]] as usize].total_cmp(&v) == Ordering::Equal => {
                last.push(p)
            }
            _ => out.push(vec![p]),
        }
    }
    if let Some(small) = out.iter().find(|c| c.len() < folds) {
        return Err(Error::invalid_param(
            "k",
            format!(
                "class {} of label column '{}' has {} row{}, fewer than the {folds} folds \
                 (stratified)",
                y[order[small[0]] as usize],
                label.name,
                small.len(),
                if small.len() == 1 { "" } else { "s" }
            ),
        ));
    }
    Ok(out)
}

/// The k splits of a fold assignment by position: fold f validates its own rows and trains on
/// the rest, both in canonical order.
fn by_fold(order: &[u32], fold_of: &[usize], k: usize) -> Vec<Split> {
    (0..k)
        .map(|f| {
            let (mut train, mut validation) = (Vec::new(), Vec::new());
            for (&r, &g) in order.iter().zip(fold_of) {
                if g == f {
                    validation.push(r);
                } else {
                    train.push(r);
                }
            }
            Split { train, validation }
        })
        .collect()
}

/// scikit-learn's `TimeSeriesSplit._split` on the distinct time values, each value's rows kept
/// together (they are contiguous in the canonical order, which sorts by time first).
fn time_series(
    batch: &TrainBatch,
    order: &[u32],
    n_splits: usize,
    test_size: usize,
    gap: usize,
    max_train_size: usize,
) -> Result<Vec<Split>> {
    let time =
        batch.time.as_ref().ok_or_else(|| Error::schema("timeSeries folds need a time column"))?;
    let t = time.values.values();
    // starts[i]..starts[i + 1]: the positions of the i-th distinct time.
    let mut starts: Vec<usize> = Vec::new();
    for (p, &r) in order.iter().enumerate() {
        if p == 0 || t[r as usize] != t[order[p - 1] as usize] {
            starts.push(p);
        }
    }
    let n = starts.len();
    starts.push(order.len());
    let test_size = if test_size == 0 { n / (n_splits + 1) } else { test_size };
    let needed = (n_splits + 1).max(gap + test_size * n_splits + 1);
    if n < needed {
        return Err(Error::invalid_param(
            "nSplits",
            format!(
                "timeSeries folds (nSplits = {n_splits}, testSize = {test_size}, gap = {gap}) \
                 need at least {needed} distinct values of time column '{}', there are {n}",
                time.name
            ),
        ));
    }
    let rows = |from: usize, to: usize| order[starts[from]..starts[to]].to_vec();
    let first_test = n - n_splits * test_size;
    Ok((0..n_splits)
        .map(|s| {
            let test_start = first_test + s * test_size;
            let train_end = test_start - gap;
            let train_start = if max_train_size > 0 && max_train_size < train_end {
                train_end - max_train_size
            } else {
                0
            };
            Split {
                train: rows(train_start, train_end),
                validation: rows(test_start, test_start + test_size),
            }
        })
        .collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_with_the_documented_names() {
        let spec = |j: &str| FoldSpec::from_json(j).unwrap();
        assert_eq!(
            spec(r#"{"kind": "kfold", "k": 3, "seed": 42, "stratified": true}"#),
            FoldSpec::KFold { k: 3, seed: 42, stratified: true }
        );
        assert_eq!(spec(r#"{"kind": "column", "k": 4}"#), FoldSpec::Column { k: 4 });
        assert_eq!(
            spec(
                r#"{"kind": "timeSeries", "nSplits": 5, "testSize": 2, "gap": 1, "maxTrainSize": 3}"#
            ),
            FoldSpec::TimeSeries { n_splits: 5, test_size: 2, gap: 1, max_train_size: 3 }
        );
        assert_eq!(
            spec(r#"{"kind": "trainValidation", "trainRatio": 0.8, "seed": -1}"#),
            FoldSpec::TrainValidation { train_ratio: 0.8, seed: u64::MAX, stratified: false }
        );
        assert_eq!(
            spec(r#"{"kind": "kfold", "seed": 18446744073709551615}"#),
            FoldSpec::KFold { k: 3, seed: u64::MAX, stratified: false }
        );
    }

    #[test]
    fn bad_specs_name_the_param() {
        for (json, name) in [
            (r#"{"kind": "kfold", "k": 1}"#, "k"),
            (r#"{"kind": "column", "k": -3}"#, "k"),
            (r#"{"kind": "timeSeries", "nSplits": 1}"#, "nSplits"),
            (r#"{"kind": "timeSeries", "gap": -1}"#, "gap"),
            (r#"{"kind": "timeSeries", "testSize": -2}"#, "testSize"),
            (r#"{"kind": "timeSeries", "maxTrainSize": -2}"#, "maxTrainSize"),
            (r#"{"kind": "trainValidation", "trainRatio": 1.0}"#, "trainRatio"),
            (r#"{"kind": "trainValidation", "trainRatio": 0.0}"#, "trainRatio"),
            (r#"{"kind": "trainValidation", "trainRatio": -0.5}"#, "trainRatio"),
            (r#"{"kind": "leaveOneOut"}"#, "folds"),
            (r#"{"kind": "kfold", "folds": 3}"#, "folds"),
            (r#"{"k": 3}"#, "folds"),
        ] {
            let e = FoldSpec::from_json(json).unwrap_err();
            assert!(matches!(&e, Error::InvalidParam { name: n, .. } if n == name), "{json}: {e}");
        }
    }
}
