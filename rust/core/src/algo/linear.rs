//! Linear regression as Spark's `LinearRegression` (its default normal-equation solver):
//! ordinary least squares, ridge, lasso and elastic net, with sample weights.
//!
//! The objective, on the original scale, for weights `w_i` summing to `W`:
//!
//! `1/(2W) sum_i w_i (y_i - x_i.b - b0)^2 + regParam * (alpha sum_j c_j |b_j|
//!  + (1 - alpha)/(2 d) sum_j c_j^2 b_j^2)`
//!
//! with `alpha = elasticNetParam`, `c_j` feature j's weighted population std
//! (`sqrt(sum_i w_i (x_ij - mean_j)^2 / W)`) when `standardization` is on, else 1, and `d` the
//! label's weighted population std (its absolute mean when the label is constant). That is what
//! Spark's `WeightedLeastSquares` solves: it standardizes features and label with population
//! stds and applies `regParam / d` to the standardized coefficients, so that after scaling back
//! the L1 part is `regParam * alpha` on `c_j b_j` and the L2 part is divided by `d` (glmnet's
//! convention). scikit-learn's `ElasticNet(alpha = regParam * (alpha + (1 - alpha) / d),
//! l1_ratio = regParam * alpha / that)` on `X / c` with `sample_weight` is the same problem;
//! `regParam = 0` is `LinearRegression`. Measured (tests/elastic_net.rs, fixtures from
//! tests/reference/make_enet_fixtures.py), relative: about 1e-14 of Spark 3.5.7 on ridge and
//! OLS, within 4e-8 on elastic net and lasso (where Spark's OWL-QN stops), within 3e-8 of
//! scikit-learn's ElasticNet/Lasso and 1e-14 of its weighted LinearRegression.
//!
//! Solvers. Both start from one pass over the rows, read in place, that accumulates the
//! weighted, centered (with an intercept) Gram matrix `X'WX/W`, `X'Wy/W` and the centered
//! squares for the stds (`O(n p^2)`).
//! - No L1 part: the closed form `(G + diag(l2)) b = r`, Cholesky on its Jacobi-scaled form, so
//!   that a feature a thousand times larger than the others costs no accuracy. It reports
//!   converged after 0 iterations, as Spark's normal solver. When the system is singular
//!   (collinear features with `regParam = 0`), the minimum-norm least-squares solution, as
//!   scikit-learn's `LinearRegression` (lstsq) returns it, through an eigen-decomposition
//!   ([`super::linalg::solve_min_norm`]); Spark instead retries with L-BFGS, whose answer
//!   depends on its starting point.
//! - An L1 part: cyclic coordinate descent on the Gram matrix ([`super::elastic_net`]), `maxIter`
//!   sweeps at most, stopping when no coefficient moves the fitted values by more than
//!   `tol * d`; `converged` says which happened.
//!
//! A constant feature (over the rows of positive weight) gets coefficient 0, as in Spark. A
//! constant label gives coefficients 0 and the label as intercept (0 without an intercept when
//! the label is 0), as Spark; with a nonzero constant label, no intercept and `regParam > 0`
//! Spark refuses to fit, and so does this. Values whose squares overflow fail the group naming
//! the column.

use ndarray::{s, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use super::elastic_net::coordinate_descent;
use super::linalg::{
    for_each_row, label_mean, solve_min_norm, solve_spd, Dense, FeatureStats, Rows,
};
use super::{Algorithm, Convergence, FittedModel, GroupData, Prediction, Task};
use crate::error::{Error, Result};
use crate::params::{check_in_range, check_non_negative, deserialize_max_iter};

/// The plug-in: `"linear"`, model code 1.
pub struct Linear;

impl Algorithm for Linear {
    const NAME: &'static str = "linear";
    const CODE: u8 = 1;
    const TASK: Task = Task::Regression;
    const WEIGHTS: bool = true;
    const ITERATIVE: bool = true;
    type Params = LinearParams;
    type Model = LinearModel;

    fn check(params: &LinearParams) -> Result<()> {
        params.validate()
    }

    fn fit(params: &LinearParams, data: &GroupData<'_>) -> Result<LinearModel> {
        // Linear regression makes only a few passes over the rows: read them in place through
        // the group's order rather than gather an n x p copy (80 MB for 1M rows x 10).
        fit_rows(&data.columns()?, params, data.feature_names)
    }
}

/// Linear regression's hyperparameters, Spark's `LinearRegression` names and defaults; the
/// objective is in the module doc.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct LinearParams {
    /// Penalty strength, >= 0. Default 0.0.
    pub reg_param: f64,
    /// Elastic net mixing: 0 is ridge (L2), 1 is lasso (L1); in [0, 1]. Default 0.0.
    pub elastic_net_param: f64,
    /// Coordinate descent sweeps at most (with an L1 part only), >= 0. Default 100.
    #[serde(deserialize_with = "deserialize_max_iter")]
    pub max_iter: u32,
    /// Coordinate descent tolerance (with an L1 part only), >= 0. Default 1e-6.
    pub tol: f64,
    /// Fit an intercept. Default true.
    pub fit_intercept: bool,
    /// Penalize coefficients on the standardized scale (coefficients are always reported on
    /// the original scale). Default true.
    pub standardization: bool,
}

impl Default for LinearParams {
    fn default() -> Self {
        LinearParams {
            reg_param: 0.0,
            elastic_net_param: 0.0,
            max_iter: 100,
            tol: 1e-6,
            fit_intercept: true,
            standardization: true,
        }
    }
}

impl LinearParams {
    /// # Errors
    /// `InvalidParam` naming the out-of-range param.
    pub fn validate(&self) -> Result<()> {
        check_non_negative("regParam", self.reg_param)?;
        check_in_range("elasticNetParam", self.elastic_net_param, 0.0, 1.0)?;
        check_non_negative("tol", self.tol)
    }
}

/// A fitted linear regression, coefficients on the original feature scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinearModel {
    #[serde(with = "super::stored::linear")]
    pub params: LinearParams,
    pub coefficients: Vec<f64>,
    pub intercept: f64,
    /// Coordinate descent sweeps; 0 for the closed form (and absent from the bytes then, as in
    /// the models of format versions 1 and 2).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub iterations: u32,
    /// Whether coordinate descent met `tol`; the closed form always has (absent then).
    #[serde(default = "yes", skip_serializing_if = "is_yes")]
    pub converged: bool,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}
fn yes() -> bool {
    true
}
fn is_yes(v: &bool) -> bool {
    *v
}

impl LinearModel {
    /// Predicts one row of features (length = number of coefficients).
    pub fn predict_row(&self, x: &[f64]) -> f64 {
        self.intercept + self.coefficients.iter().zip(x).map(|(w, v)| w * v).sum::<f64>()
    }
}

impl FittedModel for LinearModel {
    fn num_features(&self) -> usize {
        self.coefficients.len()
    }
    fn is_finite(&self) -> bool {
        self.intercept.is_finite() && self.coefficients.iter().all(|v| v.is_finite())
    }
    fn shapes_ok(&self, p: usize) -> bool {
        self.coefficients.len() == p
    }
    fn predict(&self, x: &[f64]) -> Prediction {
        Prediction::Value(self.predict_row(x))
    }
    fn convergence(&self) -> Option<Convergence> {
        Some(Convergence { converged: self.converged, iterations: self.iterations })
    }
    fn through_origin(&self) -> bool {
        !self.params.fit_intercept
    }
    fn describe(&self) -> Result<serde_json::Value> {
        Ok(serde_json::json!({
            "coefficients": self.coefficients,
            "intercept": self.intercept,
            "params": self.params,
            "iterations": self.iterations,
            "converged": self.converged,
        }))
    }
}

/// Training metrics of a linear model on its own training data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegressionMetrics {
    pub rmse: f64,
    pub r2: f64,
}

/// Fits `params`' objective (see the module doc) on `x` (n rows x p features) and `y`.
///
/// # Errors
/// As [`fit_weighted`].
pub fn fit(x: ArrayView2<f64>, y: ArrayView1<f64>, params: &LinearParams) -> Result<LinearModel> {
    fit_weighted(x, y, None, params)
}

/// [`fit`] with sample weights (finite, >= 0, positive sum; `None` means all 1).
///
/// # Errors
/// `InvalidParam` for out-of-range params; `Data` for fewer than 2 rows of positive weight,
/// fewer than unknowns when `regParam` is 0, `y` or `w` not of length n, values whose squares
/// overflow, or a constant nonzero label to regularize without an intercept; `Numerical` for a
/// non-finite result.
pub fn fit_weighted(
    x: ArrayView2<f64>,
    y: ArrayView1<f64>,
    w: Option<ArrayView1<f64>>,
    params: &LinearParams,
) -> Result<LinearModel> {
    params.validate()?;
    let n = x.nrows();
    if y.len() != n || w.is_some_and(|w| w.len() != n) {
        return Err(Error::data(format!("{n} feature rows but {} labels or weights", y.len())));
    }
    // Reborrowed: the views may live for different lifetimes, `Dense` wants one.
    let w = w.as_ref().map(|w| w.view());
    fit_rows(&Dense { x: x.view(), y: y.view(), w }, params, &[])
}

/// [`fit_weighted`] on any [`Rows`]; the same bits as on the rows gathered into a matrix.
/// `names` name the features in errors (empty: by index).
pub(crate) fn fit_rows(
    data: &impl Rows,
    params: &LinearParams,
    names: &[String],
) -> Result<LinearModel> {
    params.validate()?;
    let rows = (0..data.n()).filter(|&i| data.weight(i) > 0.0).count();
    check_row_count(rows as u64, data.p(), params)?;
    solve_normal(normal_equations(data, params.fit_intercept), params, names)
}

/// The weighted normal equations of `data` in one pass (after the means'): centered on the
/// weighted means with an intercept, raw without.
pub(crate) fn normal_equations(data: &impl Rows, fit_intercept: bool) -> NormalEquations {
    let (n, p) = (data.n(), data.p());
    let stats = FeatureStats::means(n, p, |i, out| data.read(i, out), |i| data.weight(i));
    let weight_sum = stats.weight_sum;
    let (y_mean, y_varies) = label_stats(data, weight_sum);
    let active = &stats.active;
    let q = active.len();
    let shift: Vec<f64> =
        active.iter().map(|&j| if fit_intercept { stats.mean[j] } else { 0.0 }).collect();
    let y_shift = if fit_intercept { y_mean } else { 0.0 };

    let mut gram = vec![0.0; q * q];
    let mut rhs = vec![0.0; q];
    // Centered squares of the active features for their stds, and of the label for its own,
    // summed here rather than in a pass of their own.
    let mut ss = vec![-0.0; q];
    let mut yy = -0.0;
    let mut row = vec![0.0; q];
    let mut wrow = vec![0.0; q];
    for_each_row(
        n,
        p,
        |i, out| data.read(i, out),
        |i, xi| {
            let w = data.weight(i);
            for (((r, wr), &j), s) in row.iter_mut().zip(&mut wrow).zip(active).zip(&shift) {
                *r = xi[j] - s;
                *wr = w * *r;
            }
            for (s, &j) in ss.iter_mut().zip(active) {
                *s += w * ((xi[j] - stats.mean[j]) * (xi[j] - stats.mean[j]));
            }
            let yi = data.label(i);
            yy += w * ((yi - y_mean) * (yi - y_mean));
            let yc = yi - y_shift;
            for (a, &ra) in wrow.iter().enumerate() {
                rhs[a] += ra * yc;
                for (g, &rb) in gram[a * q..=a * q + a].iter_mut().zip(&row) {
                    *g += ra * rb;
                }
            }
        },
    );
    NormalEquations {
        p,
        weight_sum,
        mean: stats.mean,
        active: stats.active,
        y_mean,
        y_varies,
        gram,
        rhs,
        ss,
        yy,
    }
}

/// `Data` for fewer than 2 rows of positive weight, or fewer than unknowns when `regParam` is 0.
pub(crate) fn check_row_count(rows: u64, p: usize, params: &LinearParams) -> Result<()> {
    if rows < 2 {
        return Err(Error::data(format!(
            "linear regression needs at least 2 rows of positive weight, got {rows}"
        )));
    }
    let fit_intercept = params.fit_intercept;
    let unknowns = p as u64 + u64::from(fit_intercept);
    if params.reg_param == 0.0 && rows < unknowns {
        let what = if fit_intercept { " and an intercept" } else { "" };
        return Err(Error::data(format!(
            "ordinary least squares (regParam 0) with {p} features{what} needs at least \
             {unknowns} rows, got {rows}"
        )));
    }
    Ok(())
}

/// A group's weighted normal equations, what both the row pass of [`fit_rows`] and the
/// sufficient statistics of [`crate::stats`] reduce the rows to; [`solve_normal`] fits them.
pub(crate) struct NormalEquations {
    /// Features in all.
    pub p: usize,
    /// Sum of the weights.
    pub weight_sum: f64,
    /// Weighted mean of every feature (length `p`).
    pub mean: Vec<f64>,
    /// The features that vary over the rows of positive weight, increasing.
    pub active: Vec<usize>,
    /// Weighted mean of the label, and whether it varies over the rows of positive weight.
    pub y_mean: f64,
    pub y_varies: bool,
    /// `sum_i w_i r_ia r_ib` over the active features (`q x q` row-major, lower triangle), `r`
    /// centered on the means with an intercept, raw without.
    pub gram: Vec<f64>,
    /// `sum_i w_i r_ia (y_i - shift)`, the label centered on its mean with an intercept.
    pub rhs: Vec<f64>,
    /// `sum_i w_i (x_ij - mean_j)^2` of the active features (always centered: their stds).
    pub ss: Vec<f64>,
    /// `sum_i w_i (y_i - y_mean)^2`.
    pub yy: f64,
}

impl NormalEquations {
    /// `Data` naming the first active feature (else the label) whose sums overflowed: squares of
    /// values near 1e155 and beyond do, and infinities must not pass for collinearity.
    /// `names` name the features (empty: by index).
    pub(crate) fn check_finite(&self, names: &[String]) -> Result<()> {
        let q = self.active.len();
        for (a, &j) in self.active.iter().enumerate() {
            if !(self.mean[j].is_finite()
                && self.ss[a].is_finite()
                && self.gram[a * q + a].is_finite())
            {
                let feature = names.get(j).map_or(format!("feature {j}"), |s| format!("'{s}'"));
                return Err(overflow(&feature));
            }
        }
        if !(self.y_mean.is_finite()
            && self.yy.is_finite()
            && self.rhs.iter().all(|v| v.is_finite()))
        {
            return Err(overflow("the label"));
        }
        Ok(())
    }
}

/// Fits `params`' objective (elastic net included) from the normal equations: the overflow
/// checks, a constant label, the standardization and penalty, and the solve.
///
/// # Errors
/// As [`fit_weighted`] after its row counts.
pub(crate) fn solve_normal(
    normal: NormalEquations,
    params: &LinearParams,
    names: &[String],
) -> Result<LinearModel> {
    normal.check_finite(names)?;
    let NormalEquations {
        p,
        weight_sum,
        mean,
        active,
        y_mean,
        y_varies,
        mut gram,
        mut rhs,
        ss,
        yy,
    } = normal;
    let fit_intercept = params.fit_intercept;
    let q = active.len();
    let shift: Vec<f64> =
        active.iter().map(|&j| if fit_intercept { mean[j] } else { 0.0 }).collect();
    let y_shift = if fit_intercept { y_mean } else { 0.0 };

    let constant = |intercept: f64| LinearModel {
        params: params.clone(),
        coefficients: vec![0.0; p],
        intercept,
        iterations: 0,
        converged: true,
    };
    let label_std = (yy / weight_sum).sqrt();
    if !y_varies {
        if fit_intercept || y_mean == 0.0 {
            return Ok(constant(if fit_intercept { y_mean } else { 0.0 }));
        }
        if params.reg_param > 0.0 {
            return Err(Error::data(
                "the label is constant and fitIntercept is false: its standard deviation is 0, \
                 and the penalty is relative to it (as in Spark); set fitIntercept or regParam 0",
            ));
        }
    }
    let label_scale = if y_varies { label_std } else { y_mean.abs() };

    let inv_w = 1.0 / weight_sum;
    for a in 0..q {
        rhs[a] *= inv_w;
        for b in 0..=a {
            let v = gram[a * q + b] * inv_w;
            gram[a * q + b] = v;
            gram[b * q + a] = v;
        }
    }
    let feature_scale: Vec<f64> =
        ss.iter().map(|&s| if params.standardization { (s * inv_w).sqrt() } else { 1.0 }).collect();
    let (lambda, alpha) = (params.reg_param, params.elastic_net_param);
    let l2: Vec<f64> = feature_scale
        .iter()
        .map(|c| if lambda > 0.0 { lambda * (1.0 - alpha) / label_scale * c * c } else { 0.0 })
        .collect();

    let (solution, iterations, converged) = if lambda * alpha > 0.0 {
        let l1: Vec<f64> = feature_scale.iter().map(|c| lambda * alpha * c).collect();
        let s =
            coordinate_descent(&gram, &rhs, &l1, &l2, params.max_iter, params.tol * label_scale);
        (s.coefficients, s.sweeps, s.converged)
    } else {
        let mut system = gram.clone();
        for (a, l) in l2.iter().enumerate() {
            system[a * q + a] += l;
        }
        let mut b = rhs.clone();
        if solve_spd(&mut system, &mut b, q).is_err() {
            // Collinear features: as lstsq, the solution of least norm.
            for (a, l) in l2.iter().enumerate() {
                gram[a * q + a] += l;
            }
            b = solve_min_norm(&gram, &rhs, q);
        }
        (b, 0, true)
    };

    let mut coefficients = vec![0.0; p];
    for (&j, &w) in active.iter().zip(&solution) {
        coefficients[j] = w;
    }
    let intercept = y_shift - shift.iter().zip(&solution).map(|(m, w)| m * w).sum::<f64>();
    if !intercept.is_finite() || coefficients.iter().any(|w| !w.is_finite()) {
        return Err(Error::numerical("linear regression produced non-finite coefficients"));
    }
    Ok(LinearModel { params: params.clone(), coefficients, intercept, iterations, converged })
}

/// The weighted mean of the label and whether it varies over the rows of positive weight.
fn label_stats(data: &impl Rows, weight_sum: f64) -> (f64, bool) {
    let (mut sum, mut first, mut varies) = (-0.0, None, false);
    for i in 0..data.n() {
        let (w, y) = (data.weight(i), data.label(i));
        sum += w * y;
        if w > 0.0 {
            varies |= *first.get_or_insert(y) != y;
        }
    }
    (sum / weight_sum, varies)
}

pub(crate) fn overflow(column: &str) -> Error {
    Error::data(format!(
        "{column} has values too large to square in double precision (beyond about 1e154): \
         rescale the column"
    ))
}

/// RMSE and R^2 of `model` on `x`, `y`. R^2 is Spark's: residuals against the mean of `y`, or
/// against 0 when the model has no intercept; NaN when that total is 0 (a constant label).
/// Rows beyond the shorter of `x` and `y` are ignored.
pub fn metrics(model: &LinearModel, x: ArrayView2<f64>, y: ArrayView1<f64>) -> RegressionMetrics {
    let n = x.nrows().min(y.len());
    metrics_rows(model, &Dense { x: x.slice(s![..n, ..]), y: y.slice(s![..n]), w: None })
}

/// [`metrics`] on any [`Rows`]: one pass for the mean of the labels, one for the residuals.
pub(crate) fn metrics_rows(model: &LinearModel, data: &impl Rows) -> RegressionMetrics {
    let n = data.n();
    let center = if model.params.fit_intercept { label_mean(data) } else { 0.0 };
    let (mut ss_res, mut ss_tot) = (0.0, 0.0);
    for_each_row(
        n,
        data.p(),
        |i, out| data.read(i, out),
        |i, xi| {
            let yi = data.label(i);
            let pred = model.intercept
                + model.coefficients.iter().zip(xi).map(|(w, v)| w * v).sum::<f64>();
            ss_res += (yi - pred) * (yi - pred);
            ss_tot += (yi - center) * (yi - center);
        },
    );
    let rmse = (ss_res / n as f64).sqrt();
    let r2 = if ss_tot > 0.0 { 1.0 - ss_res / ss_tot } else { f64::NAN };
    RegressionMetrics { rmse, r2 }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test should fail loudly at the first surprise
mod tests {
    use super::*;
    use ndarray::{array, Array1, Array2};

    fn params(reg_param: f64, fit_intercept: bool, standardization: bool) -> LinearParams {
        LinearParams { reg_param, fit_intercept, standardization, ..LinearParams::default() }
    }

    fn data() -> (Array2<f64>, Array1<f64>) {
        let x = Array2::from_shape_fn((20, 3), |(i, j)| {
            let t = i as f64;
            [t.sin() * 3.0, (t * 0.7).cos() * 1000.0 + 50.0, (t * 1.3).sin() + 0.1 * t][j]
        });
        let y = x.rows().into_iter().map(|r| 1.5 + 2.0 * r[0] - 0.003 * r[1] + r[2]).collect();
        (x, y)
    }

    #[test]
    fn ols_recovers_an_exact_linear_relation() {
        let (x, y) = data();
        let m = fit(x.view(), y.view(), &LinearParams::default()).unwrap();
        for (w, e) in m.coefficients.iter().zip([2.0, -0.003, 1.0]) {
            assert!((w - e).abs() < 1e-10 * e.abs(), "{w} vs {e}");
        }
        assert!((m.intercept - 1.5).abs() < 1e-9, "{}", m.intercept);
        let r = metrics(&m, x.view(), y.view());
        assert!(r.rmse < 1e-9 && (r.r2 - 1.0).abs() < 1e-12, "{r:?}");
    }

    #[test]
    fn too_few_rows_is_a_data_error() {
        let x = array![[1.0, 2.0], [2.0, 1.0]];
        let y = array![1.0, 2.0];
        let e = fit(x.view(), y.view(), &LinearParams::default()).unwrap_err();
        assert!(matches!(e, Error::Data { .. }), "{e:?}");
        assert!(e.to_string().contains("at least 3 rows, got 2"), "{e}");
        // A penalty makes two rows enough, one row never is.
        fit(x.view(), y.view(), &params(0.1, true, true)).unwrap();
        let e =
            fit(x.slice(ndarray::s![..1, ..]), y.slice(ndarray::s![..1]), &params(0.1, true, true))
                .unwrap_err();
        assert!(e.to_string().contains("at least 2 rows of positive weight, got 1"), "{e}");
    }

    #[test]
    fn constant_feature_gets_coefficient_zero() {
        let (mut x, y) = data();
        x.column_mut(1).fill(0.1);
        for p in [params(0.0, true, true), params(0.5, true, true), params(0.5, false, true)] {
            let m = fit(x.view(), y.view(), &p).unwrap();
            assert_eq!(m.coefficients[1], 0.0, "{p:?}");
            assert!(m.coefficients[0] != 0.0 && m.coefficients[2] != 0.0, "{p:?}");
        }
    }

    #[test]
    fn collinear_features_give_the_minimum_norm_solution() {
        let (mut x, y) = data();
        let sum = &x.column(0) * 2.0 - x.column(1);
        x.column_mut(2).assign(&sum);
        let m = fit(x.view(), y.view(), &LinearParams::default()).unwrap();
        // Any solution fits as well; the one of least norm has no component along the null
        // direction (2, -1, -1).
        let along = 2.0 * m.coefficients[0] - m.coefficients[1] - m.coefficients[2];
        assert!(along.abs() < 1e-9 * m.coefficients[0].abs(), "{m:?}");
        // Ridge is well-posed on the same data and takes the closed form.
        fit(x.view(), y.view(), &params(0.01, true, true)).unwrap();
    }

    #[test]
    fn bad_params_are_refused_by_name() {
        let bad = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.1, 1.1];
        for v in bad {
            let p = LinearParams { elastic_net_param: v, ..LinearParams::default() };
            let e = p.validate().unwrap_err();
            assert!(matches!(e, Error::InvalidParam { ref name, .. } if name == "elasticNetParam"));
        }
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.1, -1.0] {
            for (name, p) in [
                ("tol", LinearParams { tol: v, ..LinearParams::default() }),
                ("regParam", LinearParams { reg_param: v, ..LinearParams::default() }),
            ] {
                let e = p.validate().unwrap_err();
                assert!(matches!(e, Error::InvalidParam { name: ref n, .. } if n == name), "{e}");
            }
        }
        for json in [r#"{"maxIter": -1}"#, r#"{"maxIter": 1.5}"#, r#"{"maxIter": 1e300}"#] {
            let e = crate::params::parse_json::<LinearParams>(json).unwrap_err();
            assert!(matches!(e, Error::InvalidParam { .. }), "{e:?}");
            assert!(e.to_string().contains("maxIter must be an integer"), "{e}");
        }
        // Spark allows maxIter 0: no sweep, so not converged with an L1 part.
        let (x, y) = data();
        let p = LinearParams {
            reg_param: 0.1,
            elastic_net_param: 1.0,
            max_iter: 0,
            ..params(0.1, true, true)
        };
        let m = fit(x.view(), y.view(), &p).unwrap();
        assert_eq!((m.iterations, m.converged), (0, false));
    }

    #[test]
    fn overflowing_squares_name_the_column() {
        let (mut x, y) = data();
        x[[3, 1]] = 1e200;
        let e = fit(x.view(), y.view(), &LinearParams::default()).unwrap_err();
        assert!(e.to_string().contains("feature 1 has values too large to square"), "{e}");
        let (x, mut y) = data();
        y[4] = -1e200;
        let e = fit(x.view(), y.view(), &LinearParams::default()).unwrap_err();
        assert!(e.to_string().contains("the label has values too large to square"), "{e}");
    }

    #[test]
    fn fitting_twice_gives_identical_bits() {
        let (x, y) = data();
        let p = params(0.3, true, false);
        let (a, b) = (fit(x.view(), y.view(), &p).unwrap(), fit(x.view(), y.view(), &p).unwrap());
        let bits = |m: &LinearModel| {
            m.coefficients.iter().chain([&m.intercept]).map(|v| v.to_bits()).collect::<Vec<_>>()
        };
        assert_eq!(bits(&a), bits(&b));
    }

    #[test]
    fn column_major_input_gives_the_same_model() {
        let (x, y) = data();
        let xt = x.t().as_standard_layout().to_owned();
        let p = params(0.2, true, true);
        assert_eq!(fit(x.view(), y.view(), &p).unwrap(), fit(xt.t(), y.view(), &p).unwrap());
    }

    #[test]
    fn columns_through_an_order_give_the_bits_of_the_gathered_matrix() {
        use crate::algo::linalg::Columns;
        let (x, y) = data();
        // Stored in one order, read in another, as train_group does with the canonical order.
        let order: Vec<u32> = (0..20).map(|i| (i * 7 + 3) % 20).collect();
        let mut cols = vec![vec![0.0; 20]; 3];
        let mut label = vec![0.0; 20];
        for (i, &r) in order.iter().enumerate() {
            for (j, c) in cols.iter_mut().enumerate() {
                c[r as usize] = x[[i, j]];
            }
            label[r as usize] = y[i];
        }
        let features: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
        let data = Columns { features: &features, label: &label, weight: None, order: &order };
        for p in [params(0.0, true, true), params(0.3, true, false), params(0.5, false, true)] {
            let (a, b) = (fit(x.view(), y.view(), &p).unwrap(), fit_rows(&data, &p, &[]).unwrap());
            let bits = |m: &LinearModel| {
                m.coefficients.iter().chain([&m.intercept]).map(|v| v.to_bits()).collect::<Vec<_>>()
            };
            assert_eq!(bits(&a), bits(&b), "{p:?}");
            let (ma, mb) = (metrics(&a, x.view(), y.view()), metrics_rows(&b, &data));
            assert_eq!((ma.rmse.to_bits(), ma.r2.to_bits()), (mb.rmse.to_bits(), mb.r2.to_bits()));
        }
    }
}
