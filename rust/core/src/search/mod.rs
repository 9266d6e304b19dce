//! Searches: many (parameter set, fold) fits over one data set. The data set is decoded, checked,
//! ordered and cut into folds once ([`SearchData`]); fits then run on views of it, in parallel,
//! each on its fold's training rows, evaluated on its validation rows. Per-group search runs a
//! whole search inside each group of a training batch. docs/native-interface.md ("Search") is
//! the contract.

pub mod folds;

pub use folds::{FoldSpec, Split};
