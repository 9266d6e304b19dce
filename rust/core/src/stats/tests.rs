#![allow(clippy::unwrap_used)] // a test should fail loudly at the first surprise

use super::*;
use crate::algo::linear::fit_weighted;
use crate::batch::NamedColumn;
use crate::rng::Rng;
use crate::train::{train_groups, TrainOptions};
use ndarray::{Array1, Array2};

fn uniform(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 - 0.5
}

/// `n` rows of `p` features around `offset`, a noisy linear label, optional weights in [0, 2).
fn data(
    seed: u64,
    n: usize,
    p: usize,
    offset: f64,
    weighted: bool,
) -> (Array2<f64>, Array1<f64>, Option<Array1<f64>>) {
    let mut rng = Rng::new(seed);
    let x = Array2::from_shape_fn((n, p), |(_, j)| offset + (j as f64 + 1.0) * uniform(&mut rng));
    let y = (0..n)
        .map(|i| {
            3.0 + (0..p).map(|j| (j as f64 - 1.5) * (x[[i, j]] - offset)).sum::<f64>()
                + 0.1 * uniform(&mut rng)
        })
        .collect();
    let w = weighted.then(|| (0..n).map(|_| 2.0 * (uniform(&mut rng) + 0.5)).collect());
    (x, y, w)
}

fn batch(x: &Array2<f64>, y: &Array1<f64>, w: Option<&Array1<f64>>) -> TrainBatch {
    let cols = |v: Vec<f64>| Float64Array::from(v);
    TrainBatch {
        groups: Int32Array::from(vec![0; x.nrows()]),
        label: Some(NamedColumn { name: "y".into(), values: cols(y.to_vec()) }),
        weight: w.map(|w| NamedColumn { name: "w".into(), values: cols(w.to_vec()) }),
        time: None,
        fold: None,
        features: x.columns().into_iter().map(|c| cols(c.to_vec())).collect(),
        feature_names: (0..x.ncols()).map(|j| format!("x{j}")).collect(),
    }
}

fn stats_of(b: &TrainBatch, rows: &[u32]) -> GroupStats {
    GroupStats::of_rows(b, b.label.as_ref().unwrap(), rows)
}

fn params(reg: f64, intercept: bool, standardization: bool) -> LinearParams {
    LinearParams {
        reg_param: reg,
        fit_intercept: intercept,
        standardization,
        ..LinearParams::default()
    }
}

fn model_bytes(s: &GroupStats, p: &LinearParams) -> Vec<u8> {
    fit_stats(s, &Params::Linear(p.clone()), u64::MAX).unwrap().bytes
}

fn glm(reg: f64, intercept: bool) -> GlmParams {
    GlmParams { reg_param: reg, fit_intercept: intercept, ..GlmParams::default() }
}

fn glm_bytes(s: &GroupStats, p: &GlmParams) -> Vec<u8> {
    fit_stats(s, &Params::Glm(p.clone()), u64::MAX).unwrap().bytes
}

#[test]
fn any_split_and_merge_order_gives_the_same_stats_and_model_bytes() {
    for (seed, weighted, offset) in [(1, false, 0.0), (2, true, 1e6), (3, true, -40.0)] {
        let (x, y, w) = data(seed, 300, 4, offset, weighted);
        let b = batch(&x, &y, w.as_ref());
        let all: Vec<u32> = (0..300).collect();
        let whole = stats_of(&b, &all);
        let mut rng = Rng::new(seed + 100);
        for parts in [2, 3, 7] {
            let mut order = all.clone();
            rng.shuffle(&mut order);
            let mut chunks: Vec<GroupStats> =
                order.chunks(300 / parts + 1).map(|c| stats_of(&b, c)).collect();
            rng.shuffle(&mut chunks);
            // Through the bytes, as across the shuffle.
            let mut merged = GroupStats::decode(&chunks[0].encode().unwrap()).unwrap();
            for c in &chunks[1..] {
                merged.merge(&GroupStats::decode(&c.encode().unwrap()).unwrap()).unwrap();
            }
            assert_eq!(merged.canonical(), whole.canonical(), "seed {seed}, {parts} parts");
            assert_eq!(merged.canonical().encode().unwrap(), whole.canonical().encode().unwrap());
            for p in [params(0.0, true, true), params(0.3, false, true), params(0.1, true, false)] {
                assert_eq!(model_bytes(&merged, &p), model_bytes(&whole, &p), "{p:?}");
            }
            for p in [glm(0.0, true), glm(0.2, false), glm(0.05, true)] {
                assert_eq!(glm_bytes(&merged, &p), glm_bytes(&whole, &p), "{p:?}");
            }
        }
    }
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

#[test]
fn coefficients_and_metrics_agree_with_the_row_path() {
    let mut worst = 0.0f64;
    for (seed, weighted, offset) in
        [(11, false, 0.0), (12, true, 0.0), (13, false, 1e6), (14, true, 1e6), (15, true, -3e3)]
    {
        let (x, y, w) = data(seed, 200, 5, offset, weighted);
        let b = batch(&x, &y, w.as_ref());
        let s = stats_of(&b, &(0..200).collect::<Vec<_>>());
        for p in [
            params(0.0, true, true),
            params(0.0, false, true),
            params(0.5, true, true),
            params(0.5, true, false),
            params(0.05, false, false),
            params(0.2, false, true),
        ] {
            let row = fit_weighted(x.view(), y.view(), w.as_ref().map(|w| w.view()), &p).unwrap();
            let (m, rmse, r2) = s.solve(&p, u64::MAX).unwrap();
            for (a, e) in m
                .coefficients
                .iter()
                .chain([&m.intercept])
                .zip(row.coefficients.iter().chain([&row.intercept]))
            {
                let r = rel(*a, *e);
                // Without an intercept, features far from 0 make X'WX ill-conditioned (about 1e8
                // at offset 3e3): the row path's own rounding then exceeds 1e-9.
                let tolerance = if !p.fit_intercept && offset.abs() > 1.0 { 1e-6 } else { 1e-9 };
                if tolerance == 1e-9 {
                    worst = worst.max(r);
                }
                assert!(r < tolerance, "seed {seed} {p:?}: {a} vs {e}");
            }
            // Metrics from the rows, in plain doubles, weighted as the row path's.
            let wv = |i: usize| w.as_ref().map_or(1.0, |w| w[i]);
            let tw: f64 = (0..200).map(wv).sum();
            let center = if p.fit_intercept {
                (0..200).map(|i| wv(i) * y[i]).sum::<f64>() / tw
            } else {
                0.0
            };
            let (mut res, mut tot) = (0.0, 0.0);
            for i in 0..200 {
                let pred = m.predict_row(x.row(i).as_slice().unwrap());
                res += wv(i) * (y[i] - pred) * (y[i] - pred);
                tot += wv(i) * (y[i] - center) * (y[i] - center);
            }
            assert!(rel(rmse, (res / tw).sqrt()) < 1e-6, "rmse {rmse} vs {}", (res / tw).sqrt());
            assert!((r2.unwrap() - (1.0 - res / tot)).abs() < 1e-9, "{r2:?}");
        }
    }
    eprintln!("worst relative difference from the row path: {worst:e}");
}

/// The message of the row path (train_groups) and of the stats path on the same rows.
fn both_errors(b: &TrainBatch, p: &Params) -> (String, String) {
    let (name, json) = match p {
        Params::Linear(p) => ("linear", serde_json::to_string(p).unwrap()),
        Params::Glm(p) => ("glm", serde_json::to_string(p).unwrap()),
    };
    let trainer = Trainer::new(name, &json).unwrap();
    let options = TrainOptions { threads: 1, max_rows_per_group: u64::MAX };
    let row = train_groups(&trainer, options, b).unwrap();
    let row = row[0].outcome.as_ref().err().map(|e| e.to_string()).unwrap_or_default();
    let s = stats_of(b, &(0..b.num_rows() as u32).collect::<Vec<_>>());
    let stats = fit_stats(&s, p, u64::MAX).err().map(|e| e.to_string()).unwrap_or_default();
    (row, stats)
}

/// Sets row `row` of the label (`"y"`), the weight (`"w"`) or the second feature to `v`.
fn set(b: &mut TrainBatch, which: &str, row: usize, v: Option<f64>) {
    let col = match which {
        "y" => &mut b.label.as_mut().unwrap().values,
        "w" => &mut b.weight.as_mut().unwrap().values,
        _ => &mut b.features[1],
    };
    let mut vals: Vec<Option<f64>> = col.iter().collect();
    vals[row] = v;
    *col = Float64Array::from(vals);
}

#[test]
fn every_failure_rule_gives_the_row_paths_message() {
    let (x, y, w) = data(5, 12, 3, 0.0, true);
    let base = || batch(&x, &y, w.as_ref());
    let mut cases: Vec<(TrainBatch, LinearParams)> = Vec::new();
    for (col, v) in [
        ("y", None),
        ("y", Some(f64::NAN)),
        ("w", Some(f64::INFINITY)),
        ("x", Some(f64::NEG_INFINITY)),
        ("x", None),
        ("w", Some(-2.0)),
    ] {
        let mut b = base();
        set(&mut b, col, 4, v);
        // A bad label and a bad feature: the label is named (checked first).
        if col == "y" {
            set(&mut b, "x", 7, Some(f64::NAN));
        }
        cases.push((b, params(0.0, true, true)));
    }
    let mut zero = base();
    zero.weight.as_mut().unwrap().values = Float64Array::from(vec![0.0; 12]);
    cases.push((zero, params(0.0, true, true)));
    // One row of positive weight; too few rows for OLS with an intercept.
    let mut one = base();
    let mut ws = vec![0.0; 12];
    ws[3] = 1.0;
    one.weight.as_mut().unwrap().values = Float64Array::from(ws.clone());
    cases.push((one, params(0.5, true, true)));
    let mut three = base();
    ws[5] = 1.0;
    ws[8] = 2.0;
    three.weight.as_mut().unwrap().values = Float64Array::from(ws);
    cases.push((three, params(0.0, true, true)));
    // A constant nonzero label without intercept, penalized.
    let mut constant = base();
    constant.label.as_mut().unwrap().values = Float64Array::from(vec![2.5; 12]);
    cases.push((constant, params(0.3, false, true)));
    // Squares that overflow.
    let mut huge = base();
    set(&mut huge, "x", 2, Some(1e200));
    cases.push((huge, params(0.0, true, true)));
    for (k, (b, p)) in cases.iter().enumerate() {
        let (row, stats) = both_errors(b, &Params::Linear(p.clone()));
        assert!(!row.is_empty(), "case {k}: the row path fitted");
        assert_eq!(stats, row, "case {k}");
    }
    // Group size: the message of the Scala row path.
    let s = stats_of(&base(), &(0..12).collect::<Vec<_>>());
    let e = s.solve(&params(0.0, true, true), 11).unwrap_err().to_string();
    assert_eq!(e, "group has more than maxRowsPerGroup=11 rows");
    assert!(s.solve(&params(0.0, true, true), 12).is_ok());
}

#[test]
fn constant_columns_and_labels_fit_as_the_row_path() {
    let (mut x, mut y, _) = data(8, 30, 3, 0.0, false);
    x.column_mut(1).fill(7.0);
    let b = batch(&x, &y, None);
    let s = stats_of(&b, &(0..30).collect::<Vec<_>>());
    for p in [params(0.0, true, true), params(0.4, false, true)] {
        let row = fit_weighted(x.view(), y.view(), None, &p).unwrap();
        let (m, _, _) = s.solve(&p, u64::MAX).unwrap();
        assert_eq!(m.coefficients[1], 0.0);
        for (a, e) in m.coefficients.iter().zip(&row.coefficients) {
            assert!(rel(*a, *e) < 1e-9 || (a - e).abs() < 1e-12, "{a} vs {e}");
        }
    }
    y.fill(4.0);
    let b = batch(&x, &y, None);
    let s = stats_of(&b, &(0..30).collect::<Vec<_>>());
    let (m, rmse, r2) = s.solve(&params(0.0, true, true), u64::MAX).unwrap();
    assert_eq!((m.intercept, m.coefficients.clone(), rmse, r2), (4.0, vec![0.0; 3], 0.0, None));
}

#[test]
fn foreign_corrupt_and_truncated_bytes_are_clean_errors() {
    let (x, y, w) = data(9, 20, 2, 0.0, true);
    let b = batch(&x, &y, w.as_ref());
    let good = stats_of(&b, &(0..20).collect::<Vec<_>>()).encode().unwrap();
    assert!(GroupStats::decode(&good).is_ok());
    let mut cases: Vec<Vec<u8>> =
        vec![Vec::new(), b"MNFD".to_vec(), good[..good.len() - 1].to_vec()];
    for cut in [3, 15, 16, 40] {
        cases.push(good[..cut].to_vec());
    }
    let mut flipped = good.clone();
    flipped[60] ^= 1;
    cases.push(flipped);
    let mut version = good.clone();
    version[4] = 9;
    cases.push(version);
    let mut longer = good.clone();
    longer.push(0);
    cases.push(longer);
    // A header claiming a huge body: refused before any allocation.
    let mut huge = good[..16].to_vec();
    huge[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    cases.push(huge);
    let mut rng = Rng::new(3);
    for _ in 0..200 {
        let n = rng.below(good.len());
        cases.push((0..n).map(|_| rng.next_u64() as u8).collect());
    }
    for c in cases {
        let e = GroupStats::decode(&c).unwrap_err();
        assert!(matches!(e, Error::Model { .. }), "{e:?}");
        assert!(e.to_string().contains("invalid sufficient statistics"), "{e}");
    }
}

#[test]
fn the_ipc_calls_train_like_train_groups() {
    use crate::batch::{role_field, Role};
    use arrow_schema::DataType;
    // Two groups, rows interleaved, one of them bad.
    let (x, y, _) = data(21, 40, 2, 5.0, false);
    let mut fields = vec![
        role_field("g", DataType::Int32, false, Role::Group),
        role_field("y", DataType::Float64, true, Role::Label),
    ];
    fields.push(role_field("a", DataType::Float64, true, Role::Feature));
    fields.push(role_field("b", DataType::Float64, true, Role::Feature));
    let groups: Int32Array = (0..40).map(|i| Some(i % 2)).collect();
    let mut yv: Vec<Option<f64>> = y.iter().map(|v| Some(*v)).collect();
    yv[5] = Some(f64::NAN); // group 1
    let arrays: Vec<ArrayRef> = vec![
        Arc::new(groups),
        Arc::new(Float64Array::from(yv)),
        Arc::new(Float64Array::from(x.column(0).to_vec())),
        Arc::new(Float64Array::from(x.column(1).to_vec())),
    ];
    let rb = arrow_array::RecordBatch::try_new(Arc::new(arrow_schema::Schema::new(fields)), arrays)
        .unwrap();
    let ipc = write_stream(&rb).unwrap();
    let json = r#"{"regParam": 0.1}"#;
    let stats = accumulate_ipc("linear", json, 2, Buffer::from(ipc.clone())).unwrap();
    // Partials only: a group buffer that received no rows.
    let mut buffer = crate::group_buffer::GroupBuffer::new(1000).unwrap();
    let solved = buffer.solve_stats_ipc("linear", json, Buffer::from(stats), 1, 2).unwrap();
    let rows = crate::train::train_ipc(
        &Trainer::new("linear", json).unwrap(),
        TrainOptions { threads: 1, max_rows_per_group: 1000 },
        Buffer::from(ipc.clone()),
    )
    .unwrap();
    let (a, b) =
        (read_stream(Buffer::from(solved)).unwrap(), read_stream(Buffer::from(rows)).unwrap());
    assert_eq!(a.schema(), b.schema());
    assert_eq!(a.num_rows(), 2);
    for name in ["group", "status", "error", "rows", "converged", "iterations"] {
        assert_eq!(
            a.column_by_name(name).unwrap().to_data(),
            b.column_by_name(name).unwrap().to_data(),
            "{name}"
        );
    }
    // The model of group 0 predicts as the row path's, within rounding.
    let model = |batch: &arrow_array::RecordBatch| {
        let m = batch
            .column_by_name("model")
            .unwrap()
            .as_any()
            .downcast_ref::<BinaryArray>()
            .unwrap()
            .value(0)
            .to_vec();
        StoredModel::decode(&m).unwrap()
    };
    let (ma, mb) = (model(&a), model(&b));
    let (la, lb) = (ma.get::<Linear>().unwrap(), mb.get::<Linear>().unwrap());
    for (u, v) in la.coefficients.iter().zip(&lb.coefficients) {
        assert!(rel(*u, *v) < 1e-9, "{u} vs {v}");
    }
    assert_eq!(ma.feature_names, vec!["a".to_string(), "b".to_string()]);
    // Params the path does not take, and bad ones, are refused by name.
    let other_glms = [
        r#"{"family": "poisson"}"#,
        r#"{"link": "log"}"#,
        r#"{"family": "tweedie", "variancePower": 1.5, "link": "identity"}"#,
    ];
    for (alg, json) in
        [("linear", r#"{"regParam": 0.1, "elasticNetParam": 0.5}"#), ("kmeans", "{}")]
            .into_iter()
            .chain(other_glms.map(|j| ("glm", j)))
    {
        assert!(!applies(alg, json));
        let e = accumulate_ipc(alg, json, 1, Buffer::from(ipc.clone())).unwrap_err();
        assert!(matches!(e, Error::InvalidParam { .. }), "{e:?}");
    }
    assert!(applies("linear", r#"{"regParam": 0.0, "elasticNetParam": 0.5}"#));
    assert!(applies("glm", "{}"));
    assert!(applies("glm", r#"{"family": "tweedie", "variancePower": 0, "regParam": 0.3}"#));
    let e = accumulate_ipc("glm", r#"{"family": "binomial"}"#, 1, Buffer::from(ipc.clone()));
    assert!(e.unwrap_err().to_string().contains("family"));
    let e = accumulate_ipc("linear", r#"{"regParam": -1}"#, 1, Buffer::from(ipc)).unwrap_err();
    assert!(e.to_string().contains("regParam"), "{e}");
}

/// The GLM's gaussian identity case: the model of the rows (the plug-in's fit, through
/// train_groups) and of their statistics agree to 1e-9, as do the iterations and convergence,
/// and both agree with Newton's method on the rows with an independent objective check: the
/// gradient of the module's objective at the stats path's solution, from the rows, is ~0.
#[test]
fn glm_gaussian_identity_agrees_with_the_row_path() {
    let mut worst = 0.0f64;
    for (seed, weighted, offset) in
        [(31, false, 0.0), (32, true, 0.0), (33, false, 1e6), (34, true, 1e6), (35, true, -3e3)]
    {
        let (x, y, w) = data(seed, 200, 5, offset, weighted);
        let b = batch(&x, &y, w.as_ref());
        let s = stats_of(&b, &(0..200).collect::<Vec<_>>());
        for p in [glm(0.0, true), glm(0.0, false), glm(0.5, true), glm(0.05, false)] {
            let json = serde_json::to_string(&p).unwrap();
            let trainer = Trainer::new("glm", &json).unwrap();
            let options = TrainOptions { threads: 1, max_rows_per_group: u64::MAX };
            let fitted = train_groups(&trainer, options, &b).unwrap().remove(0).outcome.unwrap();
            let stored = StoredModel::decode(&fitted.bytes).unwrap();
            let row = stored.get::<Glm>().unwrap();
            let (m, rmse, r2) = s.solve_glm(&p, u64::MAX).unwrap();
            assert_eq!((m.iterations, m.converged), (row.iterations, row.converged), "{p:?}");
            // Without an intercept, features far from 0 make the problem ill-conditioned (X'X's
            // condition number about 1e8 at offset -3e3, 1e13 at 1e6): rounding moves the
            // coefficients beyond 1e-9 (as for linear regression), and at 1e6 the gradient's
            // rounding stays above `tol`, so neither path converges (the same 25 steps, asserted
            // above) and each stops where its own rounding left it. There the fitted values are
            // compared: to 1e-6 when converged, else 1e-3.
            if !p.fit_intercept && offset.abs() > 1.0 {
                let tolerance = if m.converged { 1e-6 } else { 1e-3 };
                for i in 0..200 {
                    let xi = x.row(i);
                    let (a, e) = (
                        m.predict_row(xi.as_slice().unwrap()),
                        row.predict_row(xi.as_slice().unwrap()),
                    );
                    assert!(rel(a, e) < tolerance, "seed {seed} {p:?} row {i}: {a} vs {e}");
                }
                continue;
            }
            for (a, e) in m
                .coefficients
                .iter()
                .chain([&m.intercept])
                .zip(row.coefficients.iter().chain([&row.intercept]))
            {
                let r = rel(*a, *e);
                worst = worst.max(r);
                assert!(r < 1e-9, "seed {seed} {p:?}: {a} vs {e}");
            }
            // The metrics of the row path, which computes them from predictions.
            assert!(rel(rmse, fitted.metrics[0].unwrap()) < 1e-6, "{rmse} vs {:?}", fitted.metrics);
            assert!((r2.unwrap() - fitted.metrics[1].unwrap()).abs() < 1e-9);
            // Optimality from the rows, in plain doubles: the objective's gradient
            // sum_i w_i (mu_i - y_i) (1, x_i) / W + regParam * (0, coefficients) vanishes.
            let wv = |i: usize| w.as_ref().map_or(1.0, |w| w[i]);
            let tw: f64 = (0..200).map(wv).sum();
            let mut grad = vec![0.0; 6];
            for i in 0..200 {
                let res = m.predict_row(x.row(i).as_slice().unwrap()) - y[i];
                grad[5] += wv(i) * res / tw;
                for j in 0..5 {
                    grad[j] += wv(i) * res * (x[[i, j]] - offset) / tw;
                }
            }
            for (g, c) in grad.iter_mut().zip(&m.coefficients) {
                *g += p.reg_param * c;
            }
            let scale = y.iter().map(|v| v.abs()).fold(0.0, f64::max);
            let skip = if p.fit_intercept { 6 } else { 5 };
            for g in grad.iter().take(skip) {
                assert!(g.abs() < 1e-8 * scale, "seed {seed} {p:?}: gradient {grad:?}");
            }
        }
    }
    eprintln!("GLM: worst relative difference from the row path: {worst:e}");
}

#[test]
fn glm_failure_rules_give_the_row_paths_message() {
    let (x, y, w) = data(6, 12, 3, 0.0, true);
    let base = || batch(&x, &y, w.as_ref());
    let mut cases: Vec<TrainBatch> = Vec::new();
    for (col, v) in [
        ("y", None),
        ("y", Some(f64::NAN)),
        ("w", Some(f64::INFINITY)),
        ("x", Some(f64::NEG_INFINITY)),
        ("x", None),
        ("w", Some(-2.0)),
        ("x", Some(1e200)),
    ] {
        let mut b = base();
        set(&mut b, col, 4, v);
        cases.push(b);
    }
    let mut zero = base();
    zero.weight.as_mut().unwrap().values = Float64Array::from(vec![0.0; 12]);
    cases.push(zero);
    for (k, b) in cases.iter().enumerate() {
        for p in [glm(0.0, true), glm(0.1, false)] {
            let (row, stats) = both_errors(b, &Params::Glm(p));
            assert!(!row.is_empty(), "case {k}: the row path fitted");
            assert_eq!(stats, row, "case {k}");
        }
    }
    // The GLM has no minimum row count: one row of positive weight fits on both paths, to its
    // label (the intercept) with every coefficient 0.
    let mut one = base();
    let mut ws = vec![0.0; 12];
    ws[3] = 1.5;
    one.weight.as_mut().unwrap().values = Float64Array::from(ws);
    let s = stats_of(&one, &(0..12).collect::<Vec<_>>());
    let (m, rmse, r2) = s.solve_glm(&glm(0.0, true), u64::MAX).unwrap();
    assert_eq!((m.intercept, m.coefficients.clone(), rmse, r2), (y[3], vec![0.0; 3], 0.0, None));
    assert_eq!(both_errors(&one, &Params::Glm(glm(0.0, true))), (String::new(), String::new()));
    // Group size: the message of the Scala row path.
    let s = stats_of(&base(), &(0..12).collect::<Vec<_>>());
    let e = s.solve_glm(&glm(0.0, true), 11).unwrap_err().to_string();
    assert_eq!(e, "group has more than maxRowsPerGroup=11 rows");
}

/// Groups of `sizes` rows (group g has `sizes[g]`), interleaved in a random order, two features
/// around 5, a noisy linear label, weights in (0, 2) when `weighted`; the rows of a group with an
/// entry in `bad` get that (column, row within the group, value) set.
fn grouped_batch(
    seed: u64,
    sizes: &[usize],
    weighted: bool,
    bad: &[(usize, &str, usize, Option<f64>)],
) -> arrow_array::RecordBatch {
    use crate::batch::{role_field, Role};
    use arrow_schema::DataType;
    let mut rng = Rng::new(seed);
    let mut order: Vec<(usize, usize)> =
        sizes.iter().enumerate().flat_map(|(g, &n)| (0..n).map(move |i| (g, i))).collect();
    rng.shuffle(&mut order);
    let mut cols: Vec<Vec<Option<f64>>> = vec![Vec::new(); 4]; // y, w, a, b
    for &(g, i) in &order {
        let a = 5.0 + uniform(&mut rng);
        let b = 5.0 + 2.0 * uniform(&mut rng);
        let mut row =
            [g as f64 + 2.0 * a - b + 0.1 * uniform(&mut rng), 1.0 + 1.9 * uniform(&mut rng), a, b]
                .map(Some);
        for &(bg, col, bi, v) in bad {
            if (bg, bi) == (g, i) {
                row[["y", "w", "a", "b"].iter().position(|c| *c == col).unwrap()] = v;
            }
        }
        for (c, v) in cols.iter_mut().zip(row) {
            c.push(v);
        }
    }
    let mut fields = vec![
        role_field("g", DataType::Int32, false, Role::Group),
        role_field("y", DataType::Float64, true, Role::Label),
    ];
    let groups: Int32Array = order.iter().map(|&(g, _)| Some(g as i32)).collect();
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(groups)];
    for (k, c) in cols.into_iter().enumerate() {
        if k == 1 && !weighted {
            continue;
        }
        if k == 1 {
            fields.push(role_field("w", DataType::Float64, true, Role::Weight));
        } else if k > 1 {
            let name = if k == 2 { "a" } else { "b" };
            fields.push(role_field(name, DataType::Float64, true, Role::Feature));
        }
        arrays.push(Arc::new(Float64Array::from(c)));
    }
    arrow_array::RecordBatch::try_new(Arc::new(arrow_schema::Schema::new(fields)), arrays).unwrap()
}

/// The statistics path as Spark runs it: the batch's rows split at random into `parts` map tasks;
/// in each, the rows of a group it has at least `min_rows` of are reduced to a statistics partial
/// (accumulate_ipc), the others sent as rows; the reduce side buffers the rows (in a random
/// order) and solves every group with the partials (in a random order): the results batch.
fn solve_split(
    alg: &str,
    json: &str,
    rb: &arrow_array::RecordBatch,
    parts: usize,
    seed: u64,
    min_rows: u64,
    max_rows: u64,
) -> arrow_array::RecordBatch {
    use arrow_select::take::take_record_batch;
    let take = |rows: &[u32]| {
        take_record_batch(rb, &arrow_array::UInt32Array::from(rows.to_vec())).unwrap()
    };
    let groups = rb.column(0).as_any().downcast_ref::<Int32Array>().unwrap();
    let mut rng = Rng::new(seed);
    let mut part_rows: Vec<Vec<u32>> = vec![Vec::new(); parts];
    for r in 0..rb.num_rows() as u32 {
        part_rows[rng.below(parts)].push(r);
    }
    let mut raw: Vec<u32> = Vec::new();
    let mut partials: Vec<(i32, Vec<u8>)> = Vec::new();
    for rows in &part_rows {
        let mut count = std::collections::HashMap::new();
        for &r in rows {
            *count.entry(groups.value(r as usize)).or_insert(0u64) += 1;
        }
        let (big, small): (Vec<u32>, Vec<u32>) =
            rows.iter().partition(|&&r| count[&groups.value(r as usize)] >= min_rows);
        raw.extend(small);
        if big.is_empty() {
            continue;
        }
        let out = accumulate_ipc(alg, json, 2, Buffer::from(write_stream(&take(&big)).unwrap()));
        let out = read_stream(Buffer::from(out.unwrap())).unwrap();
        let g = out.column(0).as_any().downcast_ref::<Int32Array>().unwrap();
        let s = out.column(1).as_any().downcast_ref::<BinaryArray>().unwrap();
        partials.extend((0..out.num_rows()).map(|i| (g.value(i), s.value(i).to_vec())));
    }
    rng.shuffle(&mut raw);
    rng.shuffle(&mut partials);
    let mut buffer = crate::group_buffer::GroupBuffer::new(max_rows).unwrap();
    if !raw.is_empty() {
        buffer.append_ipc(Buffer::from(write_stream(&take(&raw)).unwrap())).unwrap();
    }
    let group: Int32Array = partials.iter().map(|(g, _)| Some(*g)).collect();
    let stats: BinaryArray = partials.iter().map(|(_, b)| Some(b.as_slice())).collect();
    let input =
        record_batch(vec![("group", Arc::new(group) as ArrayRef), ("stats", Arc::new(stats))])
            .unwrap();
    let input = Buffer::from(write_stream(&input).unwrap());
    let solved = buffer.solve_stats_ipc(alg, json, input, min_rows, 2).unwrap();
    read_stream(Buffer::from(solved)).unwrap()
}

/// The row path's results batch (train_groups) for the same rows.
fn row_path(
    alg: &str,
    json: &str,
    rb: &arrow_array::RecordBatch,
    max_rows: u64,
) -> arrow_array::RecordBatch {
    let out = crate::train::train_ipc(
        &Trainer::new(alg, json).unwrap(),
        TrainOptions { threads: 1, max_rows_per_group: max_rows },
        Buffer::from(write_stream(rb).unwrap()),
    )
    .unwrap();
    read_stream(Buffer::from(out)).unwrap()
}

fn models(rb: &arrow_array::RecordBatch) -> Vec<Option<Vec<u8>>> {
    let m = rb.column_by_name("model").unwrap().as_any().downcast_ref::<BinaryArray>().unwrap();
    m.iter().map(|b| b.map(<[u8]>::to_vec)).collect()
}

/// Groups of fewer than `minRows` rows (64 here) never have a partial and are fitted from their
/// rows by the row path's own fit: their results row, model bytes included, is the row path's bit
/// for bit, failures too. Larger groups are solved from the exact merge of partials and of their
/// rows' statistics, however the split mixed the two: their bytes are those of the
/// all-statistics run (`minRows` 1) for every split, and their coefficients the row path's to
/// 1e-9.
#[test]
fn groups_under_min_rows_fit_as_the_row_path_and_larger_ones_from_exact_statistics() {
    // Sizes around the threshold; group 2 has a NaN label (rows), group 6 a null feature
    // (statistics), group 7 a negative weight.
    let sizes = [1, 5, 30, 63, 64, 65, 200, 90, 700];
    let bad = [(2, "y", 3, Some(f64::NAN)), (6, "b", 10, None), (7, "w", 0, Some(-1.0))];
    for (alg, json) in [("linear", r#"{"regParam": 0.1}"#), ("linear", "{}"), ("glm", "{}")] {
        for weighted in [false, true] {
            let bad = if weighted { &bad[..] } else { &bad[..2] };
            let rb = grouped_batch(41, &sizes, weighted, bad);
            let rows = row_path(alg, json, &rb, u64::MAX);
            let all_stats = solve_split(alg, json, &rb, 1, 1, 1, u64::MAX);
            let row_models = models(&rows);
            let stats_models = models(&all_stats);
            for (parts, seed) in [(1, 2), (3, 3), (7, 4), (40, 5)] {
                let hybrid = solve_split(alg, json, &rb, parts, seed, 64, u64::MAX);
                let ctx = format!("{alg} {json} weighted {weighted} parts {parts}");
                for name in ["group", "status", "error", "rows"] {
                    let column =
                        |rb: &arrow_array::RecordBatch| rb.column_by_name(name).unwrap().to_data();
                    assert_eq!(column(&hybrid), column(&rows), "{ctx} {name}");
                }
                for (g, &n) in sizes.iter().enumerate() {
                    let got = &models(&hybrid)[g];
                    let want = if n < 64 { &row_models[g] } else { &stats_models[g] };
                    assert_eq!(got, want, "{ctx}: group {g} of {n} rows");
                }
            }
            // The statistics' models agree with the row path's within 1e-9.
            for (g, (a, b)) in stats_models.iter().zip(&row_models).enumerate() {
                let (Some(a), Some(b)) = (a, b) else { continue };
                let (a, b) = (StoredModel::decode(a).unwrap(), StoredModel::decode(b).unwrap());
                let coef = |m: &StoredModel| match alg {
                    "linear" => m.get::<Linear>().unwrap().coefficients.to_vec(),
                    _ => m.get::<Glm>().unwrap().coefficients.to_vec(),
                };
                for (u, v) in coef(&a).iter().zip(&coef(&b)) {
                    assert!(rel(*u, *v) < 1e-9, "group {g}: {u} vs {v}");
                }
            }
        }
    }
}

/// `minRows` moves the threshold; a group over `maxRowsPerGroup` fails with the row path's
/// message whether its rows crossed as rows, as partials or both.
#[test]
fn min_rows_moves_the_threshold_and_the_size_limit_holds_on_both_sides() {
    let rb = grouped_batch(42, &[9, 10, 11], false, &[]);
    let json = "{}";
    let rows = row_path("linear", json, &rb, u64::MAX);
    let all_stats = solve_split("linear", json, &rb, 1, 1, 1, u64::MAX);
    let hybrid = solve_split("linear", json, &rb, 4, 6, 10, u64::MAX);
    let (h, r, s) = (models(&hybrid), models(&rows), models(&all_stats));
    assert_eq!(h[0], r[0]);
    assert_eq!(h[1..], s[1..]);
    assert_ne!(r[1], s[1], "the row path's rounding differs from the exact statistics' here");
    for (min_rows, parts) in [(1, 1), (10, 1), (10, 5), (100, 2)] {
        let out = solve_split("linear", json, &rb, parts, 7, min_rows, 10);
        let errors = out.column_by_name("error").unwrap();
        let errors = errors.as_any().downcast_ref::<arrow_array::StringArray>().unwrap();
        assert!(errors.is_null(0) && errors.is_null(1), "min_rows {min_rows}");
        assert_eq!(errors.value(2), "group has more than maxRowsPerGroup=10 rows");
        let counts = out.column_by_name("rows").unwrap();
        let counts = counts.as_any().downcast_ref::<arrow_array::Int64Array>().unwrap();
        assert_eq!(counts.value(1), 10);
    }
}

/// Corrupt partials, partials of other columns than the buffered rows, and group ids beyond the
/// buffer's groups and the partials fail the call by name; the path refuses other algorithms.
#[test]
fn solving_a_buffer_refuses_bad_partials() {
    let rb = grouped_batch(43, &[70, 5], false, &[]);
    let ipc = |rb: &arrow_array::RecordBatch| Buffer::from(write_stream(rb).unwrap());
    let partials = |g: i32, bytes: &[u8]| {
        let group: Int32Array = vec![Some(g)].into_iter().collect();
        let stats: BinaryArray = vec![Some(bytes)].into_iter().collect();
        let b =
            record_batch(vec![("group", Arc::new(group) as ArrayRef), ("stats", Arc::new(stats))]);
        ipc(&b.unwrap())
    };
    let out =
        read_stream(Buffer::from(accumulate_ipc("linear", "{}", 1, ipc(&rb)).unwrap())).unwrap();
    let good = out.column(1).as_any().downcast_ref::<BinaryArray>().unwrap().value(0).to_vec();
    let solve = |bytes: &[u8], g: i32, alg: &str| {
        let mut buffer = crate::group_buffer::GroupBuffer::new(1000).unwrap();
        buffer.append_ipc(ipc(&rb)).unwrap();
        buffer.solve_stats_ipc(alg, "{}", partials(g, bytes), 64, 1)
    };
    assert!(solve(&good, 0, "linear").is_ok());
    let mut flipped = good.clone();
    flipped[40] ^= 4;
    let e = solve(&flipped, 0, "linear").unwrap_err();
    assert!(e.to_string().contains("invalid sufficient statistics"), "{e}");
    let e = solve(&good, 5, "linear").unwrap_err();
    assert!(e.to_string().contains("out-of-range"), "{e}");
    let e = solve(&good, 0, "kmeans").unwrap_err();
    assert!(matches!(e, Error::InvalidParam { .. }), "{e:?}");
    // Statistics of other feature names than the buffered rows.
    let other = grouped_batch(44, &[5], false, &[]);
    let renamed = arrow_array::RecordBatch::try_new(
        Arc::new(arrow_schema::Schema::new(
            other
                .schema()
                .fields()
                .iter()
                .map(|f| {
                    let f = f.as_ref().clone();
                    if f.name() == "a" {
                        f.with_name("c")
                    } else {
                        f
                    }
                })
                .collect::<Vec<_>>(),
        )),
        other.columns().to_vec(),
    )
    .unwrap();
    let out = read_stream(Buffer::from(accumulate_ipc("linear", "{}", 1, ipc(&renamed)).unwrap()));
    let foreign =
        out.unwrap().column(1).as_any().downcast_ref::<BinaryArray>().unwrap().value(0).to_vec();
    let e = solve(&foreign, 0, "linear").unwrap_err();
    assert!(matches!(e, Error::Schema { .. }), "{e:?}");
}
