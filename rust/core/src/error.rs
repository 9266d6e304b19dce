//! The one error type of manyfold-core.
//!
//! Each variant maps to one Java exception in manyfold-jni: `InvalidParam` and `Schema` become
//! `IllegalArgumentException`, everything else `manyfold.jni.NativeException`.

/// Everything that can go wrong in manyfold-core.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum Error {
    /// A hyperparameter or option is out of range or unknown.
    #[error("invalid parameter {name}: {reason}")]
    InvalidParam { name: String, reason: String },
    /// The Arrow data does not have the columns or types the call needs.
    #[error("schema error: {reason}")]
    Schema { reason: String },
    /// One group's data cannot be trained on (NaN, one class, too few rows, ...).
    #[error("{reason}")]
    Data { reason: String },
    /// The numerical method failed (singular matrix, no convergence, non-finite result).
    #[error("numerical failure: {reason}")]
    Numerical { reason: String },
    /// Model bytes that are corrupt, truncated, of an unknown version or not a manyfold model.
    #[error("invalid model bytes: {reason}")]
    Model { reason: String },
    /// Arrow IPC bytes that cannot be read or written.
    #[error("arrow IPC error: {reason}")]
    Ipc { reason: String },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid_param(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidParam { name: name.into(), reason: reason.into() }
    }
    pub fn schema(reason: impl Into<String>) -> Self {
        Error::Schema { reason: reason.into() }
    }
    pub fn data(reason: impl Into<String>) -> Self {
        Error::Data { reason: reason.into() }
    }
    pub fn numerical(reason: impl Into<String>) -> Self {
        Error::Numerical { reason: reason.into() }
    }
    pub fn model(reason: impl Into<String>) -> Self {
        Error::Model { reason: reason.into() }
    }
}

impl From<arrow_schema::ArrowError> for Error {
    fn from(e: arrow_schema::ArrowError) -> Self {
        Error::Ipc { reason: e.to_string() }
    }
}
