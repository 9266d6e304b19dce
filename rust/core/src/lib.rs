//! manyfold-core: many models at once on Arrow data, with no JNI in sight.
//!
//! - [`params`]: hyperparameters as they cross the JNI boundary (serde, Spark's names).
//! - [`algo`]: the algorithms (linear and logistic regression) on dense matrices.
//! - [`model`]: the model format: header, checksum, serde payload; safe to decode.
//! - [`batch`]: Arrow IPC batches in and out (layouts in docs/native-interface.md).
//! - [`train`]: one model per group of a training batch, groups in parallel on rayon.
//! - [`predict`]: decoded model sets and vectorized prediction of a batch.
//! - [`error`]: the one error enum.

pub mod algo;
pub mod batch;
pub mod describe;
pub mod error;
pub mod model;
pub mod params;
pub mod pool;
pub mod predict;
pub mod train;

pub use error::{Error, Result};

/// The crate version, reported through JNI so that the jar and the library can be matched.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
