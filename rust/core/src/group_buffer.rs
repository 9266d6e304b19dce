//! Grouped training without a sort: a Spark task streams its rows in any order, in chunks (each a
//! training batch whose `group` column holds per-task group ids), and the buffer copies every
//! chunk's values into per-group columns, so that the chunk's memory can be reused at once. When
//! the task has seen all its rows, one call trains (or searches) every buffered group, groups in
//! parallel, each exactly as `trainGroups` trains a group of a batch: the same checks, the same
//! canonical row order (which does not depend on the order rows arrived in), the same fit.
//!
//! Memory: a group's values are held once, in the columns the fit reads (a group's stored columns
//! become the arrays of a one-group batch without a copy), and each group's memory is freed as
//! soon as it is trained. A group that exceeds `max_rows_per_group` has its rows freed when it
//! does and stores no more; it fails.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use arrow_array::{Array, Float64Array, Int32Array};
use arrow_buffer::{Buffer, NullBufferBuilder, ScalarBuffer};
use rayon::prelude::*;

use crate::batch::{NamedColumn, NamedFoldColumn, TrainBatch};
use crate::error::{Error, Result};
use crate::pool;
use crate::registry::DynAlgorithm;
use crate::search::{FoldSpec, GroupSearch, SearchSpec};
use crate::stats;
use crate::train::{self, Fitted, GroupOutcome, Trainer};

/// The columns the chunks carry: the names of the optional columns and of the features. Every
/// chunk of a buffer must have the layout of the first.
#[derive(Debug, Clone, PartialEq)]
struct Layout {
    label: Option<String>,
    weight: Option<String>,
    time: Option<String>,
    fold: Option<String>,
    feature_names: Vec<String>,
}

impl Layout {
    fn of(batch: &TrainBatch) -> Self {
        let name = |c: &Option<NamedColumn>| c.as_ref().map(|c| c.name.clone());
        Layout {
            label: name(&batch.label),
            weight: name(&batch.weight),
            time: name(&batch.time),
            fold: batch.fold.as_ref().map(|f| f.name.clone()),
            feature_names: batch.feature_names.clone(),
        }
    }

    /// Float64 columns per row: label, weight, time (those present), then the features.
    fn floats(&self) -> usize {
        [&self.label, &self.weight, &self.time].iter().filter(|c| c.is_some()).count()
            + self.feature_names.len()
    }
}

/// One Float64 column of one group: values and (only once a null arrives) validity.
struct FloatStore {
    values: Vec<f64>,
    valid: NullBufferBuilder,
}

impl FloatStore {
    fn new() -> Self {
        FloatStore { values: Vec::new(), valid: NullBufferBuilder::new(0) }
    }

    fn into_array(mut self) -> Float64Array {
        self.values.shrink_to_fit();
        Float64Array::new(ScalarBuffer::from(self.values), self.valid.finish())
    }
}

/// The rows of one group received so far.
struct Stored {
    /// Rows received, including those of a group dropped for its size.
    received: u64,
    /// Over `max_rows_per_group`: its rows were freed and no more are kept.
    dropped: bool,
    floats: Vec<FloatStore>,
    fold: Option<(Vec<i32>, NullBufferBuilder)>,
}

impl Stored {
    fn new(layout: &Layout) -> Self {
        Stored {
            received: 0,
            dropped: false,
            floats: (0..layout.floats()).map(|_| FloatStore::new()).collect(),
            fold: layout.fold.as_ref().map(|_| (Vec::new(), NullBufferBuilder::new(0))),
        }
    }

    fn drop_rows(&mut self) {
        self.dropped = true;
        self.floats = Vec::new();
        self.fold = None;
    }

    /// The group as a one-group training batch (group index 0 on every row), moving its columns
    /// into the batch's arrays without a copy.
    fn into_batch(self, layout: &Layout) -> TrainBatch {
        let n = usize::try_from(self.received).unwrap_or(usize::MAX);
        let mut floats = self.floats.into_iter().map(FloatStore::into_array);
        let mut named = |name: &Option<String>| {
            name.as_ref().and_then(|name| {
                floats.next().map(|values| NamedColumn { name: name.clone(), values })
            })
        };
        let label = named(&layout.label);
        let weight = named(&layout.weight);
        let time = named(&layout.time);
        let features: Vec<Float64Array> = floats.collect();
        let fold = match (self.fold, &layout.fold) {
            (Some((mut values, mut valid)), Some(name)) => {
                values.shrink_to_fit();
                Some(NamedFoldColumn {
                    name: name.clone(),
                    values: Int32Array::new(ScalarBuffer::from(values), valid.finish()),
                })
            }
            _ => None,
        };
        TrainBatch {
            groups: Int32Array::from(vec![0; n]),
            label,
            weight,
            time,
            fold,
            features,
            feature_names: layout.feature_names.clone(),
        }
    }
}

/// The rows of one Spark task, by group, until they are trained.
pub struct GroupBuffer {
    max_rows: u64,
    layout: Option<Layout>,
    groups: Vec<Stored>,
    trained: bool,
}

impl GroupBuffer {
    /// An empty buffer; a group of more than `max_rows_per_group` rows fails.
    ///
    /// # Errors
    /// `InvalidParam` for `max_rows_per_group` 0.
    pub fn new(max_rows_per_group: u64) -> Result<Self> {
        if max_rows_per_group == 0 {
            return Err(Error::invalid_param("maxRowsPerGroup", "must be >= 1, got 0"));
        }
        Ok(GroupBuffer {
            max_rows: max_rows_per_group,
            layout: None,
            groups: Vec::new(),
            trained: false,
        })
    }

    /// Distinct groups received so far.
    pub fn num_groups(&self) -> usize {
        self.groups.len()
    }

    /// Appends one chunk (an IPC training batch); nothing of `chunk` is kept.
    ///
    /// # Errors
    /// As [`TrainBatch::from_ipc`]; `Schema` for a chunk whose columns differ from the first
    /// chunk's, or a group id beyond the ids seen so far plus the chunk's rows (ids are given in
    /// order of first appearance); `InvalidParam` after the buffer was trained.
    pub fn append_ipc(&mut self, chunk: Buffer) -> Result<()> {
        let bound = self.groups.len();
        let batch = TrainBatch::from_ipc_with_groups(chunk, |rows| bound + rows)?;
        self.append(&batch)
    }

    /// Appends one chunk whose `group` column holds indices into `ids` (a packed shuffle record's
    /// own numbering of its groups): row `r` goes to the buffer's group `ids[group[r]]`. Nothing of
    /// `chunk` is kept.
    ///
    /// # Errors
    /// As [`GroupBuffer::append_ipc`], and `Schema` for a `group` value outside `ids`.
    pub fn append_ipc_mapped(&mut self, chunk: Buffer, ids: &[i32]) -> Result<()> {
        let mut batch = TrainBatch::from_ipc_with_groups(chunk, |_| ids.len())?;
        let mapped: Vec<i32> = batch.groups.values().iter().map(|&g| ids[g as usize]).collect();
        batch.groups = Int32Array::from(mapped);
        self.append(&batch)
    }

    /// Appends one decoded chunk. Group ids must be below the ids seen so far plus the chunk's
    /// rows.
    ///
    /// # Errors
    /// As [`GroupBuffer::append_ipc`].
    pub fn append(&mut self, chunk: &TrainBatch) -> Result<()> {
        self.check_open()?;
        let layout = Layout::of(chunk);
        match &self.layout {
            None => self.layout = Some(layout.clone()),
            Some(first) if *first != layout => {
                return Err(Error::schema(
                    "a chunk of the group buffer has other columns than the first chunk",
                ))
            }
            Some(_) => {}
        }
        let n = chunk.num_rows();
        let ids = chunk.groups.values();
        let limit = self.groups.len() + n;
        if chunk.groups.null_count() > 0 || ids.iter().any(|&g| g < 0 || g as usize >= limit) {
            return Err(Error::schema(
                "group id column has a null, negative or out-of-range value",
            ));
        }
        let groups = ids.iter().map(|&g| g as usize + 1).max().unwrap_or(0);
        if groups > self.groups.len() {
            self.groups.resize_with(groups, || Stored::new(&layout));
        }
        // Count first: a group that goes over its limit is dropped before any of its rows of
        // this chunk is stored; the others reserve room for theirs.
        let mut counts = vec![0u64; self.groups.len()];
        for &g in ids {
            counts[g as usize] += 1;
        }
        for (stored, &count) in self.groups.iter_mut().zip(&counts) {
            if count == 0 {
                continue;
            }
            stored.received += count;
            if stored.dropped {
                continue;
            }
            if stored.received > self.max_rows {
                stored.drop_rows();
                continue;
            }
            let count = usize::try_from(count).unwrap_or(usize::MAX);
            stored.floats.iter_mut().for_each(|f| f.values.reserve(count));
            if let Some((values, _)) = &mut stored.fold {
                values.reserve(count);
            }
        }
        let columns: Vec<&Float64Array> = [&chunk.label, &chunk.weight, &chunk.time]
            .into_iter()
            .flatten()
            .map(|c| &c.values)
            .chain(&chunk.features)
            .collect();
        for (c, column) in columns.into_iter().enumerate() {
            let values = column.values();
            let has_nulls = column.null_count() > 0;
            for (r, &g) in ids.iter().enumerate() {
                let stored = &mut self.groups[g as usize];
                if stored.dropped {
                    continue;
                }
                let store = &mut stored.floats[c];
                store.values.push(values[r]);
                if has_nulls {
                    store.valid.append(column.is_valid(r));
                } else {
                    store.valid.append_non_null();
                }
            }
        }
        if let Some(fold) = &chunk.fold {
            let values = fold.values.values();
            for (r, &g) in ids.iter().enumerate() {
                if let Some((stored, valid)) = &mut self.groups[g as usize].fold {
                    stored.push(values[r]);
                    valid.append(fold.values.is_valid(r));
                }
            }
        }
        Ok(())
    }

    fn check_open(&self) -> Result<()> {
        if self.trained {
            return Err(Error::invalid_param("handle", "the group buffer was trained already"));
        }
        Ok(())
    }

    /// Takes the buffered groups out (the buffer is left empty and trained).
    fn take(&mut self) -> Result<(Option<Layout>, Vec<Stored>)> {
        self.check_open()?;
        self.trained = true;
        Ok((self.layout.take(), std::mem::take(&mut self.groups)))
    }

    /// Trains every buffered group as `trainGroups` trains a group of a batch; one outcome per
    /// group id, in id order. The groups' memory is freed as they are trained.
    ///
    /// # Errors
    /// `Schema` if the rows do not fit the algorithm (no label for a supervised one, weights for
    /// one that takes none); `InvalidParam` for a bad thread count or a buffer trained already.
    pub fn train(&mut self, trainer: &Trainer, threads: usize) -> Result<Vec<GroupOutcome>> {
        let max = self.max_rows;
        let (layout, groups) = self.take()?;
        let Some(layout) = layout else { return Ok(Vec::new()) };
        check_layout(trainer.algorithm(), &layout)?;
        let outcomes = per_stored_group(&layout, groups, max, threads, |batch, rows| {
            train::train_group(trainer, batch, rows, max).map(|fitted| (fitted, ()))
        })?;
        Ok(outcomes.into_iter().map(|(outcome, _)| outcome).collect())
    }

    /// [`GroupBuffer::train`] as a results batch (IPC), that of `trainGroups`.
    ///
    /// # Errors
    /// As [`GroupBuffer::train`].
    pub fn train_ipc(&mut self, trainer: &Trainer, threads: usize) -> Result<Vec<u8>> {
        let outcomes = self.train(trainer, threads)?;
        train::results_batch(trainer, &outcomes)
    }

    /// Searches every buffered group as `searchGroups` searches a group of a batch; one result
    /// per group id, in id order.
    ///
    /// # Errors
    /// As [`GroupBuffer::train`].
    pub fn search(
        &mut self,
        spec: &SearchSpec,
        folds: &FoldSpec,
        threads: usize,
    ) -> Result<Vec<GroupSearch>> {
        let max = self.max_rows;
        let (layout, groups) = self.take()?;
        let Some(layout) = layout else { return Ok(Vec::new()) };
        check_layout(spec.algorithm, &layout)?;
        let outcomes = per_stored_group(&layout, groups, max, threads, |batch, rows| {
            crate::search::search_group(spec, folds, batch, rows, max)
        })?;
        Ok(outcomes.into_iter().map(|(outcome, best)| GroupSearch { outcome, best }).collect())
    }

    /// [`GroupBuffer::search`] as the results batch of `searchGroups` (IPC).
    ///
    /// # Errors
    /// As [`SearchSpec::from_json`], [`FoldSpec::from_json`] and [`GroupBuffer::search`].
    pub fn search_ipc(
        &mut self,
        search_json: &str,
        folds_json: &str,
        threads: usize,
    ) -> Result<Vec<u8>> {
        let spec = SearchSpec::from_json(search_json)?;
        let folds = FoldSpec::from_json(folds_json)?;
        let searches = self.search(&spec, &folds, threads)?;
        crate::search::search_results_batch(&spec, searches)
    }
}

impl GroupBuffer {
    /// Fits every group by the sufficient statistics path from its buffered rows and the
    /// statistics partials of its other rows (`partials`: an IPC batch of `group` Int32, this
    /// buffer's group ids, which may go beyond the buffered groups, and `stats` Binary, as
    /// `accumulateStats` makes them), each as [`stats::fit_group`] decides with `min_rows`: the
    /// results batch of `trainGroups`, one row per group that has rows or partials, in id order.
    /// The buffer is emptied, as by [`GroupBuffer::train`].
    ///
    /// # Errors
    /// `InvalidParam` when the statistics path does not apply to the algorithm and params or the
    /// buffer was trained already; as [`stats::read_partials`]; `Model`/`Schema` for partials that
    /// do not decode or do not match the rows' columns.
    pub fn solve_stats_ipc(
        &mut self,
        algorithm: &str,
        params_json: &str,
        partials: Buffer,
        min_rows: u64,
        threads: usize,
    ) -> Result<Vec<u8>> {
        let params = stats::checked_params(algorithm, params_json)?;
        let trainer = Trainer::new(algorithm, params_json)?;
        let bound = self.groups.len();
        let (bytes, by_group) = stats::read_partials(partials, |rows| bound + rows)?;
        let max = self.max_rows;
        let (layout, groups) = self.take()?;
        if let Some(layout) = &layout {
            check_layout(trainer.algorithm(), layout)?;
        }
        let n = groups.len().max(by_group.len());
        let mut stored: Vec<Option<Stored>> = groups.into_iter().map(Some).collect();
        stored.resize_with(n, || None);
        let mut by_group = by_group;
        by_group.resize_with(n, Vec::new);
        let outcomes: Vec<GroupOutcome> = pool::install(threads, || {
            stored
                .into_par_iter()
                .zip(by_group)
                .enumerate()
                .filter(|(_, (s, p))| s.as_ref().is_some_and(|s| s.received > 0) || !p.is_empty())
                .map(|(g, (s, rows))| {
                    let start = Instant::now();
                    let partials: Vec<&[u8]> = rows.iter().map(|&r| bytes.value(r)).collect();
                    let (batch, dropped) = match (s, &layout) {
                        (Some(s), _) if s.dropped => (None, s.received),
                        (Some(s), Some(layout)) if s.received > 0 => {
                            (Some(s.into_batch(layout)), 0)
                        }
                        _ => (None, 0),
                    };
                    let received = match &batch {
                        Some(b) => Some(stats::Received::Rows(b)),
                        None if dropped > 0 => Some(stats::Received::Dropped(dropped)),
                        None => None,
                    };
                    let (rows, outcome) =
                        stats::fit_group(&trainer, &params, received, &partials, max, min_rows)?;
                    Ok(GroupOutcome {
                        group: i32::try_from(g).unwrap_or(i32::MAX),
                        rows: usize::try_from(rows).unwrap_or(usize::MAX),
                        millis: start.elapsed().as_secs_f64() * 1e3,
                        outcome,
                    })
                })
                .collect::<Result<Vec<_>>>()
        })??;
        train::results_batch(&trainer, &outcomes)
    }
}

/// [`train::check_batch`] for the buffered columns.
fn check_layout(algorithm: &dyn DynAlgorithm, layout: &Layout) -> Result<()> {
    train::check_roles(algorithm, layout.label.is_some(), layout.weight.is_some())
}

/// Runs `work` on every stored group as a one-group batch (all its rows), groups in parallel on a
/// pool of `threads`, each group's memory freed when its work is done; a panic fails its group
/// only. A group dropped for its size fails with `check_group_size`'s reason.
fn per_stored_group<T: Send>(
    layout: &Layout,
    groups: Vec<Stored>,
    max_rows: u64,
    threads: usize,
    work: impl Fn(&TrainBatch, &[u32]) -> Result<(Fitted, T)> + Sync,
) -> Result<Vec<(GroupOutcome, Option<T>)>> {
    pool::install(threads, || {
        groups
            .into_par_iter()
            .enumerate()
            .filter(|(_, stored)| stored.received > 0)
            .map(|(g, stored)| {
                let start = Instant::now();
                let received = stored.received;
                let rows = usize::try_from(received).unwrap_or(usize::MAX);
                let result = if stored.dropped {
                    Err(train::check_group_size(rows, max_rows).err().unwrap_or_else(|| {
                        Error::data(format!("group over maxRowsPerGroup={max_rows}"))
                    }))
                } else {
                    let batch = stored.into_batch(layout);
                    let all: Vec<u32> = (0..batch.num_rows() as u32).collect();
                    catch_unwind(AssertUnwindSafe(|| work(&batch, &all)))
                        .unwrap_or_else(|panic| Err(Error::numerical(train::panic_message(&panic))))
                };
                let (outcome, extra) = match result {
                    Ok((fitted, extra)) => (Ok(fitted), Some(extra)),
                    Err(e) => (Err(e), None),
                };
                let outcome = GroupOutcome {
                    group: i32::try_from(g).unwrap_or(i32::MAX),
                    rows,
                    millis: start.elapsed().as_secs_f64() * 1e3,
                    outcome,
                };
                (outcome, extra)
            })
            .collect()
    })
}
