//! Linear regression, ordinary least squares and ridge, in closed form.
//!
//! Own code, not linfa. linfa-elasticnet 0.8.1 is wrong for ridge here (measured, see
//! DESIGN.md): it ignores centering when it fits an intercept, and with `l1_ratio = 0` it never
//! meets its stop test. linfa-linear would only cover the OLS half, and ridge needs the same
//! normal equations plus a diagonal, so one closed form serves both:
//!
//! `(Xc'Xc/n + regParam * D^2) w = Xc'yc/n`, `intercept = mean(y) - mean(x) . w`
//!
//! where `Xc`, `yc` are centered when fitting an intercept (not otherwise) and `D` holds the
//! features' sample standard deviations (ddof 1) when `standardization` is on, else ones. The
//! products are accumulated after centering (two passes, not `sum x^2 - n mean^2`) and the
//! system is solved by Cholesky on its Jacobi-scaled form, so a feature a thousand times larger
//! than the others costs no accuracy and the singularity test does not depend on units: on the
//! reference fixtures the results agree with scikit-learn to about 1e-12. A group costs
//! `O(n p^2 + p^3)` and a handful of `p`- and `p^2`-sized buffers.
//!
//! A constant feature gets coefficient 0, as Spark does: with an intercept the intercept
//! already spans it, and without one Spark (like glmnet) also zeroes it rather than let it act
//! as an intercept; its standard deviation, needed for standardization, is 0 anyway.

use ndarray::{s, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use super::linalg::{for_each_row, label_mean, sample_std, solve_spd, Dense, FeatureStats, Rows};
use super::{Algorithm, FittedModel, GroupData, Prediction, Task};
use crate::error::{Error, Result};
use crate::params::check_non_negative;

/// The plug-in: `"linear"`, model code 1.
pub struct Linear;

impl Algorithm for Linear {
    const NAME: &'static str = "linear";
    const CODE: u8 = 1;
    const TASK: Task = Task::Regression;
    const WEIGHTS: bool = false;
    const ITERATIVE: bool = false;
    type Params = LinearParams;
    type Model = LinearModel;

    fn check(params: &LinearParams) -> Result<()> {
        params.validate()
    }

    fn fit(params: &LinearParams, data: &GroupData<'_>) -> Result<LinearModel> {
        // Linear regression makes only a few passes over the rows: read them in place through
        // the group's order rather than gather an n x p copy (80 MB for 1M rows x 10).
        fit_rows(&data.columns()?, params)
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

impl LinearParams {
    /// # Errors
    /// `InvalidParam` naming the out-of-range param.
    pub fn validate(&self) -> Result<()> {
        check_non_negative("regParam", self.reg_param)
    }
}

/// A fitted linear regression, coefficients on the original feature scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinearModel {
    pub params: LinearParams,
    pub coefficients: Vec<f64>,
    pub intercept: f64,
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
    fn through_origin(&self) -> bool {
        !self.params.fit_intercept
    }
    fn describe(&self) -> Result<serde_json::Value> {
        Ok(serde_json::json!({
            "coefficients": self.coefficients,
            "intercept": self.intercept,
            "params": self.params,
        }))
    }
}

/// Training metrics of a linear model on its own training data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegressionMetrics {
    pub rmse: f64,
    pub r2: f64,
}

/// Fits `params`' objective (see [`LinearParams`]) on `x` (n rows x p features) and `y`.
///
/// # Errors
/// `InvalidParam` for out-of-range params; `Data` for fewer than 2 rows, fewer rows than
/// unknowns when `regParam` is 0, or `y` not of length n; `Numerical` for a singular system
/// (collinear features) or a non-finite result.
pub fn fit(x: ArrayView2<f64>, y: ArrayView1<f64>, params: &LinearParams) -> Result<LinearModel> {
    params.validate()?;
    let (n, labels) = (x.nrows(), y.len());
    if labels != n {
        return Err(Error::data(format!("{n} feature rows but {labels} labels")));
    }
    // Reborrowed: the two views may live for different lifetimes, `Dense` wants one.
    fit_rows(&Dense { x: x.view(), y: y.view() }, params)
}

/// [`fit`] on any [`Rows`]; the same bits as [`fit`] on the rows gathered into a matrix.
pub(crate) fn fit_rows(data: &impl Rows, params: &LinearParams) -> Result<LinearModel> {
    params.validate()?;
    let (n, p) = (data.n(), data.p());
    if n < 2 {
        return Err(Error::data(format!("linear regression needs at least 2 rows, got {n}")));
    }
    let fit_intercept = params.fit_intercept;
    let unknowns = p + usize::from(fit_intercept);
    if params.reg_param == 0.0 && n < unknowns {
        let what = if fit_intercept { " and an intercept" } else { "" };
        return Err(Error::data(format!(
            "ordinary least squares (regParam 0) with {p} features{what} needs at least \
             {unknowns} rows, got {n}"
        )));
    }

    let stats = FeatureStats::means(n, p, |i, out| data.read(i, out));
    let active = &stats.active;
    let q = active.len();
    let shift: Vec<f64> =
        active.iter().map(|&j| if fit_intercept { stats.mean[j] } else { 0.0 }).collect();
    let y_shift = if fit_intercept { label_mean(data) } else { 0.0 };

    let mut gram = vec![0.0; q * q];
    let mut rhs = vec![0.0; q];
    // Centered squares of the active features for their standard deviations, summed here
    // rather than in a pass of their own (the same sums as FeatureStats::of).
    let mut ss = vec![-0.0; if params.standardization { q } else { 0 }];
    let mut row = vec![0.0; q];
    for_each_row(
        n,
        p,
        |i, out| data.read(i, out),
        |i, xi| {
            for ((r, &j), s) in row.iter_mut().zip(active).zip(&shift) {
                *r = xi[j] - s;
            }
            for (s, &j) in ss.iter_mut().zip(active) {
                *s += (xi[j] - stats.mean[j]) * (xi[j] - stats.mean[j]);
            }
            let yc = data.label(i) - y_shift;
            for (a, &ra) in row.iter().enumerate() {
                rhs[a] += ra * yc;
                for (g, &rb) in gram[a * q..=a * q + a].iter_mut().zip(&row) {
                    *g += ra * rb;
                }
            }
        },
    );
    let inv_n = 1.0 / n as f64;
    for a in 0..q {
        rhs[a] *= inv_n;
        for b in 0..=a {
            let v = gram[a * q + b] * inv_n;
            gram[a * q + b] = v;
            gram[b * q + a] = v;
        }
        let d = if params.standardization { sample_std(ss[a], n) } else { 1.0 };
        gram[a * q + a] += params.reg_param * d * d;
    }
    solve_spd(&mut gram, &mut rhs, q).map_err(|a| {
        Error::numerical(format!(
            "singular matrix: collinear features? (feature {} is a linear combination of the \
             others)",
            active[a]
        ))
    })?;

    let mut coefficients = vec![0.0; p];
    for (&j, &w) in active.iter().zip(&rhs) {
        coefficients[j] = w;
    }
    let intercept = y_shift - shift.iter().zip(&rhs).map(|(m, w)| m * w).sum::<f64>();
    if !intercept.is_finite() || coefficients.iter().any(|w| !w.is_finite()) {
        return Err(Error::numerical("linear regression produced non-finite coefficients"));
    }
    Ok(LinearModel { params: params.clone(), coefficients, intercept })
}

/// RMSE and R^2 of `model` on `x`, `y`. R^2 is Spark's: residuals against the mean of `y`, or
/// against 0 when the model has no intercept; NaN when that total is 0 (a constant label).
/// Rows beyond the shorter of `x` and `y` are ignored.
pub fn metrics(model: &LinearModel, x: ArrayView2<f64>, y: ArrayView1<f64>) -> RegressionMetrics {
    let n = x.nrows().min(y.len());
    metrics_rows(model, &Dense { x: x.slice(s![..n, ..]), y: y.slice(s![..n]) })
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
        LinearParams { reg_param, fit_intercept, standardization }
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
        assert!(e.to_string().contains("at least 2 rows, got 1"), "{e}");
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
    fn collinear_features_are_a_numerical_error() {
        let (mut x, y) = data();
        let sum = &x.column(0) * 2.0 - x.column(1);
        x.column_mut(2).assign(&sum);
        let e = fit(x.view(), y.view(), &LinearParams::default()).unwrap_err();
        assert!(matches!(e, Error::Numerical { .. }), "{e:?}");
        assert!(e.to_string().contains("singular matrix: collinear features?"), "{e}");
        // Ridge is well-posed on the same data.
        fit(x.view(), y.view(), &params(0.01, true, true)).unwrap();
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
            let (a, b) = (fit(x.view(), y.view(), &p).unwrap(), fit_rows(&data, &p).unwrap());
            let bits = |m: &LinearModel| {
                m.coefficients.iter().chain([&m.intercept]).map(|v| v.to_bits()).collect::<Vec<_>>()
            };
            assert_eq!(bits(&a), bits(&b), "{p:?}");
            let (ma, mb) = (metrics(&a, x.view(), y.view()), metrics_rows(&b, &data));
            assert_eq!((ma.rmse.to_bits(), ma.r2.to_bits()), (mb.rmse.to_bits(), mb.r2.to_bits()));
        }
    }
}
