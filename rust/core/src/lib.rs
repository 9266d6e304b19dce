//! manyfold-core: many models at once on Arrow data, with no JNI in sight.
//!
//! - [`algo`]: the [`algo::Algorithm`] trait and the algorithms, one file each.
//! - [`registry`]: the algorithms by name and model code; the object-safe faces generic code uses.
//! - [`model`]: the model format: header, checksum, serde payload; safe to decode.
//! - [`batch`]: Arrow IPC batches in and out, columns found by role (docs/native-interface.md).
//! - `rows`: a group's rows checked and put in the canonical order (training and searches).
//! - [`search`]: many (parameter set, fold) fits over one data set; per-group search.
//! - [`group_buffer`]: a task's rows by group, in any order, trained in one call.
//! - [`train`]: one model per group of a training batch, groups in parallel on rayon.
//! - [`metrics`]: training metrics by task, from each model's predictions.
//! - [`evaluate`]: validation metrics of a search, equal to Spark's evaluators.
//! - [`predict`]: decoded model sets and vectorized prediction of a batch.
//! - [`describe`]: a model as JSON for the Scala side.
//! - [`rng`]: the seeded generator of every shuffle (SplitMix64).
//! - [`params`]: checks shared by the algorithms' params.
//! - [`error`]: the one error enum.

pub mod algo;
pub mod batch;
pub mod describe;
pub mod error;
pub mod evaluate;
pub mod group_buffer;
pub mod metrics;
pub mod model;
pub mod params;
pub mod pool;
pub mod predict;
pub mod registry;
pub mod rng;
mod rows;
pub mod search;
pub mod stats;
pub mod train;

pub use error::{Error, Result};

/// The crate version, reported through JNI so that the jar and the library can be matched.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
