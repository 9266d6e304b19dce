//! Searches: many (parameter set, fold) fits over one data set. The data set is decoded, checked,
//! ordered and cut into folds once ([`SearchData`]); fits then run on views of it, in parallel,
//! each on its fold's training rows, evaluated on its validation rows. Per-group search
//! ([`search_groups`]) runs a whole search inside each group of a training batch.
//! docs/native-interface.md ("Search") is the contract.
//!
//! - [`folds`]: foldsJson and the splits it cuts.
//! - [`spec`]: searchJson: trainers, prediction options, metric.
//! - [`data`]: the opened data set and `describeSplits`.
//! - [`fits`]: running fits and the fits batch.
//! - [`groups`]: per-group search and the choice of the best parameter set.

pub mod data;
pub mod fits;
pub mod folds;
pub mod groups;
pub mod spec;

pub use data::SearchData;
pub use fits::{FitOutcome, FoldFit};
pub use folds::{FoldSpec, Split};
pub use groups::{best_set, search_groups, search_groups_ipc, GroupSearch};
pub(crate) use groups::{search_group, search_results_batch};
pub use spec::SearchSpec;
