//! The native floor: manyfold-core alone, no JVM and no Spark, on the shapes of the Spark
//! benchmark (bench/run.py), so that the cost of the Spark integration shows as a ratio.
//!
//! It times exactly what one `trainGroups` JNI call does (read the IPC training batch, check,
//! sort and fit every group, encode the models, write the results batch), on batches cut at a
//! group boundary after 256k rows as the Scala side cuts them. The data is generated here with
//! the same model as bench/run.py (x ~ N(0, 1), per-group coefficients, Gaussian noise or a
//! Bernoulli label) but from a different generator: the same shapes and distributions, not the
//! same numbers.
//!
//! ```text
//! cargo bench -p manyfold-core --bench native_floor -- \
//!     [--repeats N] [--threads T] [--case NAME:ALGO:GROUPS:ROWS:FEATURES]...
//! ```
//!
//! ALGO is a registered algorithm, or `linear_enet` (linear with regParam 0.1 and
//! elasticNetParam 0.5, so coordinate descent); `svc` fits with probability on.
//!
//! Prints one JSON object on stdout: per case the time of each repeat (after one untimed
//! warm-up), the median, the groups that failed, and the peak resident memory above the memory
//! held before the first call (Linux only; the input bytes are already resident then).

use std::sync::Arc;
use std::time::Instant;

use arrow_array::{Array, ArrayRef, Float64Array, Int32Array, RecordBatch, StringArray};
use arrow_buffer::Buffer;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{DataType, Schema};
use manyfold_core::batch::{read_stream, role_field, Role};
use manyfold_core::train::{train_ipc, TrainOptions, Trainer};

type BoxError = Box<dyn std::error::Error>;

/// Rows per native call, as `GroupedTraining.BatchRows` on the Scala side.
const BATCH_ROWS: usize = 256 * 1024;

struct Case {
    name: String,
    algorithm: String,
    groups: usize,
    rows: usize,
    features: usize,
}

impl Case {
    fn parse(spec: &str) -> Result<Self, BoxError> {
        let parts: Vec<&str> = spec.split(':').collect();
        let [name, algorithm, groups, rows, features] = parts[..] else {
            return Err(format!("--case wants NAME:ALGO:GROUPS:ROWS:FEATURES, got '{spec}'").into());
        };
        Ok(Case {
            name: name.to_string(),
            algorithm: algorithm.to_string(),
            groups: groups.parse()?,
            rows: rows.parse()?,
            features: features.parse()?,
        })
    }
}

fn default_cases() -> Vec<Case> {
    [
        "linear_10k:linear:10000:100:5",
        "linear_1k:linear:1000:1000:5",
        "logistic_1k:logistic:1000:1000:10",
        "memory_1m:linear:1:1000000:10",
    ]
    .iter()
    .map(|s| Case::parse(s).expect("the default cases parse"))
    .collect()
}

/// splitmix64: small, fast, deterministic; plenty for benchmark data.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in (0, 1].
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }
    /// Standard normal (Box-Muller; the second value is dropped for simplicity).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// The IPC training batches of a case: groups in order, each batch cut at a group boundary
/// after `BATCH_ROWS` rows, group indices `0..G-1` within each batch.
fn training_batches(case: &Case, seed: u64) -> Result<Vec<Buffer>, BoxError> {
    let p = case.features;
    let mut fields = vec![
        role_field("group", DataType::Int32, false, Role::Group),
        role_field("y", DataType::Float64, true, Role::Label),
    ];
    fields.extend(
        (0..p).map(|j| role_field(&format!("x{j}"), DataType::Float64, true, Role::Feature)),
    );
    let schema = Arc::new(Schema::new(fields));
    let groups_per_batch = BATCH_ROWS.div_ceil(case.rows).max(1);
    // Classifiers get the Bernoulli label.
    let logistic = matches!(case.algorithm.as_str(), "logistic" | "svc");
    let mut rng = Rng(seed);
    let mut out = Vec::new();
    for first in (0..case.groups).step_by(groups_per_batch) {
        let last = (first + groups_per_batch).min(case.groups);
        let n = (last - first) * case.rows;
        let mut g = Vec::with_capacity(n);
        let mut y = Vec::with_capacity(n);
        let mut xs = vec![Vec::with_capacity(n); p];
        for local in 0..(last - first) {
            // Same model as bench/run.py: linear y = x.w + b + N(0, 1), w_j, b ~ N(0, 1);
            // logistic P(y = 1) = sigmoid(x.w + b), w_j ~ N(0, 1.5^2 / p), b ~ N(0, 0.5^2).
            let scale = if logistic { 1.5 / (p as f64).sqrt() } else { 1.0 };
            let w: Vec<f64> = (0..p).map(|_| rng.normal() * scale).collect();
            let b = rng.normal() * if logistic { 0.5 } else { 1.0 };
            for _ in 0..case.rows {
                let mut margin = b;
                for (j, col) in xs.iter_mut().enumerate() {
                    let v = rng.normal();
                    margin += w[j] * v;
                    col.push(v);
                }
                let label = if logistic {
                    let prob = 1.0 / (1.0 + (-margin).exp());
                    if rng.uniform() <= prob {
                        1.0
                    } else {
                        0.0
                    }
                } else {
                    margin + rng.normal()
                };
                g.push(local as i32);
                y.push(label);
            }
        }
        let mut cols: Vec<ArrayRef> =
            vec![Arc::new(Int32Array::from(g)), Arc::new(Float64Array::from(y))];
        cols.extend(xs.into_iter().map(|x| Arc::new(Float64Array::from(x)) as ArrayRef));
        let batch = RecordBatch::try_new(schema.clone(), cols)?;
        let mut bytes = Vec::new();
        {
            let mut w = StreamWriter::try_new(&mut bytes, &schema)?;
            w.write(&batch)?;
            w.finish()?;
        }
        out.push(Buffer::from_vec(bytes));
    }
    Ok(out)
}

/// Trains every batch once; returns the number of failed groups.
fn train_all(
    trainer: &Trainer,
    options: TrainOptions,
    batches: &[Buffer],
) -> Result<usize, BoxError> {
    let mut failed = 0;
    for batch in batches {
        // In production the batch is read in place from the JVM's direct ByteBuffer; here from
        // a buffer made before the timing starts (a clone shares it): no copy in either case.
        let results = read_stream(Buffer::from(train_ipc(trainer, options, batch.clone())?))?;
        let status = results
            .column_by_name("status")
            .and_then(|c| c.as_any().downcast_ref::<StringArray>())
            .ok_or("the results batch has no status column")?;
        failed += (0..status.len()).filter(|&i| status.value(i) != "ok").count();
    }
    Ok(failed)
}

/// A field of /proc/self/status in bytes (Linux); None elsewhere.
fn proc_status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Resets the peak resident set (VmHWM) to the current one; false if the kernel refuses.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn median(times: &[f64]) -> f64 {
    let mut t = times.to_vec();
    t.sort_by(f64::total_cmp);
    let n = t.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        t[n / 2]
    } else {
        (t[n / 2 - 1] + t[n / 2]) / 2.0
    }
}

fn run_case(case: &Case, repeats: usize, threads: usize) -> Result<serde_json::Value, BoxError> {
    // `linear_enet` is linear regression with an L1 part (coordinate descent), on the same data.
    let (algorithm, params) = match case.algorithm.as_str() {
        "linear" => ("linear", r#"{"regParam": 0.0}"#),
        "linear_enet" => ("linear", r#"{"regParam": 0.1, "elasticNetParam": 0.5}"#),
        "svc" => ("svc", r#"{"probability": true}"#),
        other => (other, r#"{"regParam": 0.0, "maxIter": 100}"#),
    };
    let trainer = Trainer::new(algorithm, params)?;
    let options = TrainOptions { threads, max_rows_per_group: u64::MAX };
    let batches = training_batches(case, 42)?;
    let input_bytes: usize = batches.iter().map(Buffer::len).sum();

    let idle = proc_status_bytes("VmRSS:");
    let reset = reset_peak_rss();
    let failed = train_all(&trainer, options, &batches)?; // warm-up, untimed
    let peak = if reset { proc_status_bytes("VmHWM:") } else { None };
    let peak_above_idle = match (idle, peak) {
        (Some(i), Some(p)) => serde_json::json!(p.saturating_sub(i)),
        _ => serde_json::Value::Null,
    };

    let mut times = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let start = Instant::now();
        train_all(&trainer, options, &batches)?;
        times.push(start.elapsed().as_secs_f64());
    }
    Ok(serde_json::json!({
        "name": case.name,
        "algorithm": case.algorithm,
        "groups": case.groups,
        "rows_per_group": case.rows,
        "features": case.features,
        "batches": batches.len(),
        "input_ipc_bytes": input_bytes,
        "failed_groups": failed,
        "times_s": times,
        "median_s": median(&times),
        "peak_rss_above_idle_bytes": peak_above_idle,
    }))
}

fn main() -> Result<(), BoxError> {
    let mut repeats = 5;
    let mut threads = 2;
    let mut cases = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--repeats" => repeats = value()?.parse()?,
            "--threads" => threads = value()?.parse()?,
            "--case" => cases.push(Case::parse(&value()?)?),
            // `cargo bench` passes --bench to every bench binary.
            "--bench" => {}
            other => return Err(format!("unknown argument '{other}'").into()),
        }
    }
    if cases.is_empty() {
        cases = default_cases();
    }
    let mut results = Vec::new();
    for case in &cases {
        eprintln!(
            "native floor: {} ({} groups x {} rows x {} features, {})",
            case.name, case.groups, case.rows, case.features, case.algorithm
        );
        results.push(run_case(case, repeats, threads)?);
    }
    let report = serde_json::json!({
        "manyfold_core_version": manyfold_core::VERSION,
        "threads": threads,
        "repeats": repeats,
        "batch_rows": BATCH_ROWS,
        "cases": results,
    });
    println!("{report}");
    Ok(())
}
