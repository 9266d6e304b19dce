//! manyfold's side of the SVC speed comparison with scikit-learn (bench/svc_sklearn.py, which
//! writes the data read here and times sklearn on it; run it first).
//!
//! ```text
//! cargo bench -p manyfold-core --bench svc_fit -- [--repeats N] [--grid-repeats N] [--dir D]
//!     [--only single|grid]
//! ```
//!
//! Times, after one untimed warm-up, one fit (rbf, C=1, gamma "scale") on the 2000 x 20 data
//! and the 48-fit grid (C x kernel x shrinking, gamma "auto", probability on) on the 1000 x 20
//! data, one thread. Checks first that the single fit's decision values are scikit-learn's
//! (within 1e-3 relative). Prints one JSON object with each repeat and the median, in seconds.

use std::path::{Path, PathBuf};
use std::time::Instant;

use manyfold_core::algo::svc::{fit, SvcParams};
use ndarray::{Array1, Array2};

type BoxError = Box<dyn std::error::Error>;

/// A CSV of label, then features, one row per line.
fn read_csv(path: &Path) -> Result<(Array2<f64>, Array1<f64>), BoxError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: {e} (run bench/svc_sklearn.py first)", path.display()))?;
    let (mut y, mut x, mut p) = (Vec::new(), Vec::new(), 0);
    for line in text.lines().filter(|l| !l.is_empty()) {
        let values: Vec<f64> = line.split(',').map(str::parse).collect::<Result<_, _>>()?;
        p = values.len() - 1;
        y.push(values[0]);
        x.extend_from_slice(&values[1..]);
    }
    Ok((Array2::from_shape_vec((y.len(), p), x)?, Array1::from(y)))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs `f` once untimed, then `repeats` times timed; nothing at all for 0 repeats.
fn timed(repeats: usize, mut f: impl FnMut() -> Result<(), BoxError>) -> Result<String, BoxError> {
    if repeats == 0 {
        return Ok("null".to_string());
    }
    f()?;
    let mut times = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64());
    }
    let min = times.iter().copied().fold(f64::INFINITY, f64::min);
    Ok(format!("{{\"times\": {times:?}, \"median\": {}, \"min\": {min}}}", median(times.clone())))
}

fn main() -> Result<(), BoxError> {
    let mut repeats = 7;
    let mut grid_repeats = 3;
    let mut only = String::new();
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/out/svc");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--repeats" => repeats = args.next().ok_or("--repeats N")?.parse()?,
            "--grid-repeats" => grid_repeats = args.next().ok_or("--grid-repeats N")?.parse()?,
            "--dir" => dir = PathBuf::from(args.next().ok_or("--dir D")?),
            "--only" => only = args.next().ok_or("--only single|grid")?,
            "--bench" => {}
            other => return Err(format!("unknown argument {other}").into()),
        }
    }

    let (xs, ys) = read_csv(&dir.join("single.csv"))?;
    let params = SvcParams::default();
    let model = fit(xs.view(), ys.view(), None, &params)?;
    let want: Vec<f64> = std::fs::read_to_string(dir.join("single_decision.csv"))?
        .lines()
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let mut worst = 0.0f64;
    for (row, w) in xs.rows().into_iter().zip(&want) {
        let d = model.decision_values(&row.to_vec())[0];
        worst = worst.max((d - w).abs() / w.abs().max(1.0));
    }
    if worst > 1e-3 {
        return Err(format!("decision values differ from scikit-learn's by {worst:e}").into());
    }
    let (repeats, grid_repeats) = match only.as_str() {
        "single" => (repeats, 0),
        "grid" => (0, grid_repeats),
        _ => (repeats, grid_repeats),
    };
    let single = timed(repeats, || {
        fit(xs.view(), ys.view(), None, &params)?;
        Ok(())
    })?;

    let (xg, yg) = read_csv(&dir.join("grid.csv"))?;
    let grid = timed(grid_repeats, || {
        for cost in [0.001, 0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0] {
            for kernel in ["rbf", "poly", "sigmoid"] {
                for shrinking in [true, false] {
                    let p = SvcParams {
                        cost,
                        kernel: kernel.to_string(),
                        gamma: "auto".to_string(),
                        shrinking,
                        probability: true,
                        ..SvcParams::default()
                    };
                    fit(xg.view(), yg.view(), None, &p)?;
                }
            }
        }
        Ok(())
    })?;
    println!(
        "{{\n \"singleMaxDecisionGap\": {worst:e},\n \"single\": {single},\n \"grid\": {grid}\n}}"
    );
    Ok(())
}
