//! Linear models from sufficient statistics: each map task reduces its rows of a group to the
//! exact weighted moments `sum_i w_i z_i z_i'` of `z = (1, x_1..x_p, y)` (so the weight sum, the
//! weighted sums of the features and label, `X'WX`, `X'Wy` and `y'Wy`), only those cross the
//! shuffle, and the model is solved from their merge into the normal equations
//! ([`NormalEquations`]) by the algorithm's own solver: linear regression's
//! ([`crate::algo::linear::solve_normal`]) or, for the GLM's gaussian identity case, the GLM's
//! Newton iterations on the quadratic they define (`glm::fit_normal`, which the GLM's row path
//! fits that case with too).
//!
//! Exactness. Every product is summed exactly in fixed point ([`exact::ProductSums`]: integer dot
//! products of the columns at a scale each, or shifted integer mantissas into a window of digits
//! per entry) and encoded as an [`exact::Expansion`] of the exact sum, so a partial holds the exact
//! sum of its rows and merging partials is exact addition: the merged statistics are the same real numbers whatever the
//! partitioning and the order of the rows or partials, and everything computed from them rounds
//! those numbers correctly ([`exact::Expansion::round`]), so the model bytes are bit-identical
//! across partitionings and reruns. The centered cross products `W S_ab - S_a S_b` and the
//! residual sum of squares (a polynomial in the sums and the fitted coefficients) are evaluated
//! exactly before rounding, so large feature means cost no accuracy.
//!
//! Failure rules are those of the row path (rows.rs, then linear.rs or glm.rs), decided from flags
//! kept beside the sums: per column whether a null, NaN, +inf or -inf was seen, the smallest
//! negative weight, whether any weight is nonzero, the row counts and each column's range over the
//! rows of positive weight (a feature is active, the label varies, exactly when min < max). Two
//! rules depend on the row order in the row path and are made deterministic here: a column with
//! several kinds of bad values is reported as null, else NaN, else inf, else -inf (the row path
//! names the first bad row's kind), and a negative weight is reported with the smallest negative
//! value (the row path: the first). Overflow: the row path squares centered values, these
//! statistics raw values, so a column with values beyond about 1e154 in magnitude fails here
//! (naming it) even where centering would have kept the row path's squares finite.
//!
//! Layout of the statistics bytes: docs/native-interface.md, "Sufficient statistics".

pub mod exact;

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, BinaryArray, Float64Array, Int32Array};
use arrow_buffer::Buffer;
use rayon::prelude::*;

use crate::algo::glm::{self, Glm, GlmModel, GlmParams};
use crate::algo::linear::{
    check_row_count, overflow, solve_normal, Linear, LinearModel, LinearParams, NormalEquations,
};
use crate::algo::{Algorithm, Convergence};
use crate::batch::{read_stream, record_batch, write_stream, TrainBatch};
use crate::error::{Error, Result};
use crate::model::StoredModel;
use crate::params::parse_json;
use crate::pool;
use crate::train::{self, check_batch, panic_message, Fitted, Trainer};
use exact::{two_product, Expansion, Parts, ProductSums};

const MAGIC: &[u8; 4] = b"MNFS";
/// The statistics format this release writes and reads.
pub const STATS_VERSION: u16 = 1;
/// The kind of statistics: the weighted moments of linear regression.
const KIND_LINEAR: u8 = 1;
const HEADER_LEN: usize = 16;
/// A nonoverlapping expansion of doubles has at most about 40 components (2,100 bits of
/// exponent range / 53); more in a decoded entry means corrupt bytes.
const MAX_COMPONENTS: usize = 64;
/// The component count that marks an entry whose products or sums overflowed.
const OVERFLOWED: u8 = 255;

const NULL: u8 = 1;
const NAN: u8 = 2;
const POS_INF: u8 = 4;
const NEG_INF: u8 = 8;

/// Whether the sufficient statistics path fits this algorithm and params as the row path does:
/// linear regression without an L1 part (ordinary least squares and ridge), and the GLM's
/// gaussian family with the identity link (which both paths fit from the normal equations,
/// [`glm::fit_normal`]).
pub fn applies(algorithm: &str, params_json: &str) -> bool {
    model_params(algorithm, params_json).is_some()
}

/// The params of an algorithm the path applies to.
pub(crate) enum Params {
    Linear(LinearParams),
    Glm(GlmParams),
}

fn model_params(algorithm: &str, params_json: &str) -> Option<Params> {
    match algorithm {
        Linear::NAME => parse_json::<LinearParams>(params_json)
            .ok()
            .filter(|p| p.validate().is_ok() && p.reg_param * p.elastic_net_param <= 0.0)
            .map(Params::Linear),
        Glm::NAME => parse_json::<GlmParams>(params_json)
            .ok()
            .filter(|p| p.validate().is_ok() && p.is_gaussian_identity())
            .map(Params::Glm),
        _ => None,
    }
}

/// The sufficient statistics of one group's rows (or of part of them).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupStats {
    label_name: String,
    /// The weight column's name; `None` when unweighted (every weight 1).
    weight_name: Option<String>,
    feature_names: Vec<String>,
    /// All rows, whatever their values.
    rows: u64,
    /// Rows of positive weight without a bad value.
    positive_rows: u64,
    /// Whether any row has a finite, nonzero weight.
    any_nonzero_weight: bool,
    /// The smallest negative weight seen, 0 when none.
    min_negative_weight: f64,
    /// Flags of bad values, per column: label, weight, features.
    flags: Vec<u8>,
    /// Min and max over the rows of positive weight: label, then features (`+inf, -inf` when none).
    ranges: Vec<(f64, f64)>,
    /// `sum_i w_i z_a z_b` for `a <= b` in row-major upper-triangle order, `z = (1, x, y)`.
    sums: Vec<Expansion>,
    /// Entries whose products or sums overflowed (their sums are then meaningless).
    overflowed: Vec<bool>,
}

impl GroupStats {
    fn empty(label_name: &str, weight_name: Option<&str>, feature_names: &[String]) -> Self {
        let p = feature_names.len();
        let d = p + 2;
        let entries = d * (d + 1) / 2;
        GroupStats {
            label_name: label_name.to_string(),
            weight_name: weight_name.map(str::to_string),
            feature_names: feature_names.to_vec(),
            rows: 0,
            positive_rows: 0,
            any_nonzero_weight: false,
            min_negative_weight: 0.0,
            flags: vec![0; p + 2],
            ranges: vec![(f64::INFINITY, f64::NEG_INFINITY); p + 1],
            sums: vec![Expansion::zero(); entries],
            overflowed: vec![false; entries],
        }
    }

    fn p(&self) -> usize {
        self.feature_names.len()
    }

    fn d(&self) -> usize {
        self.p() + 2
    }

    /// The index of entry `(a, b)`, `a <= b < d`.
    fn entry(&self, a: usize, b: usize) -> usize {
        let d = self.d();
        a * d - a * a.saturating_sub(1) / 2 + (b - a)
    }

    /// The statistics of `rows` of a training batch.
    fn of_rows(batch: &TrainBatch, label: &crate::batch::NamedColumn, rows: &[u32]) -> Self {
        let weight = batch.weight.as_ref();
        let mut s =
            GroupStats::empty(&label.name, weight.map(|w| w.name.as_str()), &batch.feature_names);
        let p = s.p();
        let d = p + 2;
        let features: Vec<&Float64Array> = batch.features.iter().collect();
        let mut sums = ProductSums::new(s.sums.len());
        let mut z = vec![1.0; d];
        let mut parts = vec![Parts::of(1.0); d];
        // Unweighted: the clean rows' columns x_1..x_p, y, added at the end by dot products.
        let mut cols: Vec<Vec<f64>> = vec![Vec::new(); if weight.is_some() { 0 } else { d - 1 }];
        for &r in rows {
            let r = r as usize;
            s.rows += 1;
            let mut row_ok = true;
            let (y, ok) = read(&label.values, r, &mut s.flags[0]);
            z[d - 1] = y;
            row_ok &= ok;
            let w = match weight {
                Some(wc) => {
                    let (w, ok) = read(&wc.values, r, &mut s.flags[1]);
                    row_ok &= ok;
                    if ok && w != 0.0 {
                        s.any_nonzero_weight = true;
                    }
                    if ok && w < 0.0 {
                        s.min_negative_weight = s.min_negative_weight.min(w);
                        row_ok = false;
                    }
                    w
                }
                None => {
                    s.any_nonzero_weight = true;
                    1.0
                }
            };
            for (j, col) in features.iter().enumerate() {
                let (v, ok) = read(col, r, &mut s.flags[2 + j]);
                z[1 + j] = v;
                row_ok &= ok;
            }
            if !row_ok || w == 0.0 {
                continue;
            }
            s.positive_rows += 1;
            s.ranges[0] = widen(s.ranges[0], z[d - 1]);
            for j in 0..p {
                s.ranges[1 + j] = widen(s.ranges[1 + j], z[1 + j]);
            }
            if weight.is_none() {
                for (col, &v) in cols.iter_mut().zip(&z[1..]) {
                    col.push(v);
                }
                continue;
            }
            for (part, &v) in parts.iter_mut().zip(&z).skip(1) {
                *part = Parts::of(v);
            }
            sums.add_row(&parts, Some(Parts::of(w)));
        }
        if weight.is_none() {
            sums.add_moments(&cols);
        }
        for (k, (sum, over)) in s.sums.iter_mut().zip(s.overflowed.iter_mut()).enumerate() {
            match sums.expansion(k) {
                Some(e) => *sum = e,
                None => *over = true,
            }
        }
        s
    }

    /// Adds `other`'s rows to these statistics: exact, so the order of merges does not matter.
    ///
    /// # Errors
    /// `Schema` when the two are of different columns.
    pub fn merge(&mut self, other: &GroupStats) -> Result<()> {
        if self.label_name != other.label_name
            || self.weight_name != other.weight_name
            || self.feature_names != other.feature_names
        {
            return Err(Error::schema(
                "statistics of different columns (label, weight or features) cannot be merged",
            ));
        }
        self.rows = self.rows.saturating_add(other.rows);
        self.positive_rows = self.positive_rows.saturating_add(other.positive_rows);
        self.any_nonzero_weight |= other.any_nonzero_weight;
        self.min_negative_weight = self.min_negative_weight.min(other.min_negative_weight);
        for (f, o) in self.flags.iter_mut().zip(&other.flags) {
            *f |= o;
        }
        for (r, o) in self.ranges.iter_mut().zip(&other.ranges) {
            *r = (r.0.min(o.0), r.1.max(o.1));
        }
        for k in 0..self.sums.len() {
            if other.overflowed[k] {
                self.overflowed[k] = true;
            }
            if self.overflowed[k] {
                self.sums[k] = Expansion::zero();
                continue;
            }
            self.sums[k].add_expansion(&other.sums[k]);
            if !self.sums[k].is_finite() {
                self.overflowed[k] = true;
                self.sums[k] = Expansion::zero();
            }
        }
        Ok(())
    }

    /// These statistics with every sum in its canonical components: equal for equal rows however
    /// they were split and merged (tests compare them).
    pub fn canonical(&self) -> GroupStats {
        GroupStats { sums: self.sums.iter().map(Expansion::canonical).collect(), ..self.clone() }
    }

    /// Rows in all.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The statistics as bytes (layout: docs/native-interface.md).
    ///
    /// # Errors
    /// `Numerical` for names or counts beyond the format's limits (4 GiB).
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut body = Vec::with_capacity(64 + self.sums.len() * 32);
        put_str(&mut body, &self.label_name)?;
        put_str(&mut body, self.weight_name.as_deref().unwrap_or(""))?;
        body.extend_from_slice(&len_u32(self.p())?.to_le_bytes());
        for name in &self.feature_names {
            put_str(&mut body, name)?;
        }
        body.extend_from_slice(&self.rows.to_le_bytes());
        body.extend_from_slice(&self.positive_rows.to_le_bytes());
        body.push(u8::from(self.any_nonzero_weight));
        body.extend_from_slice(&self.min_negative_weight.to_le_bytes());
        body.extend_from_slice(&self.flags);
        for (lo, hi) in &self.ranges {
            body.extend_from_slice(&lo.to_le_bytes());
            body.extend_from_slice(&hi.to_le_bytes());
        }
        for (e, &over) in self.sums.iter().zip(&self.overflowed) {
            if over {
                body.push(OVERFLOWED);
                continue;
            }
            let c = e.components();
            if c.len() > MAX_COMPONENTS {
                return Err(Error::numerical("an exact sum has too many components"));
            }
            body.push(c.len() as u8);
            for v in c {
                body.extend_from_slice(&v.to_le_bytes());
            }
        }
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&STATS_VERSION.to_le_bytes());
        out.push(KIND_LINEAR);
        out.push(u8::from(self.weight_name.is_some()));
        out.extend_from_slice(&len_u32(body.len())?.to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Decodes statistics bytes written by [`GroupStats::encode`].
    ///
    /// # Errors
    /// `Model` for anything else: foreign bytes, truncation, trailing bytes, an unknown version or
    /// kind, a checksum mismatch, inconsistent contents. Nothing is allocated beyond what the
    /// bytes present can fill.
    pub fn decode(bytes: &[u8]) -> Result<GroupStats> {
        let bad = |why: &str| Error::model(format!("invalid sufficient statistics: {why}"));
        if bytes.len() < HEADER_LEN {
            return Err(bad("shorter than the 16-byte header (truncated?)"));
        }
        if &bytes[0..4] != MAGIC {
            return Err(bad("bad magic bytes (not manyfold statistics)"));
        }
        let version = u16::from_le_bytes([bytes[4], bytes[5]]);
        if version != STATS_VERSION {
            return Err(bad(&format!(
                "unsupported version {version} (this release reads {STATS_VERSION})"
            )));
        }
        if bytes[6] != KIND_LINEAR {
            return Err(bad(&format!("unknown kind {}", bytes[6])));
        }
        let weighted = match bytes[7] {
            0 => false,
            1 => true,
            f => return Err(bad(&format!("unknown flags {f}"))),
        };
        let len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
        let crc = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]);
        let body = &bytes[HEADER_LEN..];
        if body.len() != len {
            return Err(bad(&format!("body of {} bytes, header says {len}", body.len())));
        }
        if crc32fast::hash(body) != crc {
            return Err(bad("checksum mismatch (corrupt bytes)"));
        }
        let mut r = Reader { bytes: body, at: 0 };
        let label_name = r.string()?;
        let weight_name = r.string()?;
        let p = r.u32()? as usize;
        // Every feature costs at least 4 bytes of name length: a bound before allocating.
        if p == 0 || p > r.remaining() / 4 {
            return Err(bad(&format!("{p} features do not fit the bytes")));
        }
        let mut feature_names = Vec::with_capacity(p);
        for _ in 0..p {
            feature_names.push(r.string()?);
        }
        let d = p + 2;
        let entries = d * (d + 1) / 2;
        // The fixed part after the names, and at least one byte per entry.
        if r.remaining() < 8 + 8 + 1 + 8 + (p + 2) + 16 * (p + 1) + entries {
            return Err(bad("truncated"));
        }
        let weight_name = weighted.then_some(weight_name);
        let mut s = GroupStats::empty(&label_name, weight_name.as_deref(), &feature_names);
        s.rows = r.u64()?;
        s.positive_rows = r.u64()?;
        s.any_nonzero_weight = match r.u8()? {
            0 => false,
            1 => true,
            _ => return Err(bad("bad flag byte")),
        };
        s.min_negative_weight = r.f64()?;
        if s.min_negative_weight.is_nan() || s.min_negative_weight > 0.0 || s.positive_rows > s.rows
        {
            return Err(bad("inconsistent counts"));
        }
        for f in s.flags.iter_mut() {
            *f = r.u8()?;
            if *f >= 16 {
                return Err(bad("bad column flags"));
            }
        }
        for range in s.ranges.iter_mut() {
            *range = (r.f64()?, r.f64()?);
            if range.0.is_nan() || range.1.is_nan() {
                return Err(bad("NaN in a column range"));
            }
        }
        for k in 0..entries {
            let count = r.u8()?;
            if count == OVERFLOWED {
                s.overflowed[k] = true;
                continue;
            }
            let count = count as usize;
            if count > MAX_COMPONENTS {
                return Err(bad("an exact sum has too many components"));
            }
            let mut e = Expansion::zero();
            for _ in 0..count {
                let v = r.f64()?;
                if !v.is_finite() {
                    return Err(bad("a non-finite component"));
                }
                // Re-added rather than trusted: whatever the bytes, the expansion stays valid.
                e.add(v);
            }
            s.sums[k] = e;
        }
        if r.remaining() != 0 {
            return Err(bad(&format!("{} trailing bytes", r.remaining())));
        }
        Ok(s)
    }

    /// The row path's checks, in its order: group size, then the label, weight and feature
    /// columns (rows.rs).
    fn check(&self, max_rows: u64) -> Result<()> {
        if self.rows > max_rows {
            return Err(too_many_rows(max_rows));
        }
        let column_error = |name: &str, flags: u8| -> Result<()> {
            if flags & NULL != 0 {
                Err(Error::data(format!("column '{name}' has a null value")))
            } else if flags & NAN != 0 {
                Err(Error::data(format!("column '{name}' has a NaN value")))
            } else if flags & POS_INF != 0 {
                Err(Error::data(format!("column '{name}' has an infinite value (inf)")))
            } else if flags & NEG_INF != 0 {
                Err(Error::data(format!("column '{name}' has an infinite value (-inf)")))
            } else {
                Ok(())
            }
        };
        column_error(&self.label_name, self.flags[0])?;
        if let Some(w) = &self.weight_name {
            column_error(w, self.flags[1])?;
            if self.min_negative_weight < 0.0 {
                return Err(Error::data(format!(
                    "weight column '{w}' has a negative value ({})",
                    self.min_negative_weight
                )));
            }
            if !self.any_nonzero_weight {
                return Err(Error::data(format!(
                    "weight column '{w}' is 0 for every row of the group"
                )));
            }
        }
        for (j, name) in self.feature_names.iter().enumerate() {
            column_error(name, self.flags[2 + j])?;
        }
        Ok(())
    }

    /// The weighted normal equations of the statistics (centered on the means with an
    /// intercept, raw without), to be called after [`GroupStats::check`].
    ///
    /// # Errors
    /// `Data` naming a column whose sums overflowed.
    fn normal_equations(&self, fit_intercept: bool) -> Result<NormalEquations> {
        let p = self.p();
        let y = p + 1;
        let names = &self.feature_names;
        let feature = |j: usize| format!("'{}'", names[j]);
        let active: Vec<usize> =
            (0..p).filter(|&j| self.ranges[1 + j].0 < self.ranges[1 + j].1).collect();
        // Entries among the intercept, the active features and the label must be finite.
        let used = self.used(&active);
        for &a in &used {
            for &b in &used {
                if a <= b && self.overflowed[self.entry(a, b)] {
                    let blame = [a, b].into_iter().find(|&c| c > 0 && c < y);
                    return Err(overflow(&blame.map_or("the label".into(), |c| feature(c - 1))));
                }
            }
        }
        let sum = |a: usize, b: usize| self.sum(a, b);
        let weight_sum = sum(0, 0).round();
        let blame =
            |a: usize| if a == y { overflow("the label") } else { overflow(&feature(a - 1)) };
        let centered = |a: usize, b: usize| self.centered(a, b).ok_or_else(|| blame(a));
        let mean: Vec<f64> = (0..p).map(|j| sum(0, j + 1).round() / weight_sum).collect();
        let y_mean = sum(0, y).round() / weight_sum;
        let q = active.len();
        let mut gram = vec![0.0; q * q];
        let mut rhs = vec![0.0; q];
        let mut ss = vec![0.0; q];
        for (a, &ja) in active.iter().enumerate() {
            let za = ja + 1;
            ss[a] = centered(za, za)? / weight_sum;
            for (b, &jb) in active.iter().enumerate().take(a + 1) {
                let zb = jb + 1;
                gram[a * q + b] = if fit_intercept {
                    centered(za, zb)? / weight_sum
                } else {
                    sum(za, zb).round()
                };
            }
            rhs[a] = if fit_intercept { centered(za, y)? / weight_sum } else { sum(za, y).round() };
        }
        let yy = centered(y, y)? / weight_sum;
        Ok(NormalEquations {
            p,
            weight_sum,
            mean,
            active,
            y_mean,
            y_varies: self.ranges[0].0 < self.ranges[0].1,
            gram,
            rhs,
            ss,
            yy,
        })
    }

    /// The entries of `z = (1, x, y)` a fit reads: the intercept, the `active` features, the
    /// label.
    fn used(&self, active: &[usize]) -> Vec<usize> {
        let y = self.p() + 1;
        std::iter::once(0).chain(active.iter().map(|j| j + 1)).chain([y]).collect()
    }

    /// `sum_i w_i z_a z_b`, exactly.
    fn sum(&self, a: usize, b: usize) -> &Expansion {
        &self.sums[self.entry(a.min(b), a.max(b))]
    }

    /// `W S_ab - S_a S_b`, W times the centered cross product, exactly, then rounded; `None`
    /// when not finite.
    fn centered(&self, a: usize, b: usize) -> Option<f64> {
        let mut e = self.sum(0, 0).mul(self.sum(a, b));
        e.add_expansion(&self.sum(0, a).mul(self.sum(0, b)).neg());
        e.is_finite().then(|| e.round())
    }

    /// The training rmse and r2 of the line `intercept + coefficients' x`, as
    /// [`crate::metrics::training`] defines them (r2 about the mean with an intercept, about 0
    /// without; `None` for a constant label), from the exact residual sum of squares
    /// `c' M c`, `c = (-intercept, -coefficients, 1)`.
    fn metrics(
        &self,
        intercept: f64,
        coefficients: &[f64],
        fit_intercept: bool,
    ) -> (f64, Option<f64>) {
        let d = self.d();
        let y = d - 1;
        let active: Vec<usize> = (0..self.p()).filter(|&j| coefficients[j] != 0.0).collect();
        let used = self.used(&active);
        let mut c = vec![0.0; d];
        c[0] = -intercept;
        for &j in &active {
            c[j + 1] = -coefficients[j];
        }
        c[y] = 1.0;
        let mut rss = Expansion::zero();
        for &a in &used {
            for &b in &used {
                if a > b || c[a] == 0.0 || c[b] == 0.0 {
                    continue;
                }
                let (hi, lo) = two_product(c[a], c[b]);
                let twice = if a == b { 1.0 } else { 2.0 };
                self.sum(a, b).add_scaled_into(hi * twice, &mut rss);
                self.sum(a, b).add_scaled_into(lo * twice, &mut rss);
            }
        }
        let weight_sum = self.sum(0, 0).round();
        let rss = if rss.is_finite() { rss.round().max(0.0) } else { f64::INFINITY };
        let rmse = (rss / weight_sum).sqrt();
        let total = if fit_intercept {
            self.centered(y, y).map(|v| v / weight_sum)
        } else {
            Some(self.sum(y, y).round())
        };
        let r2 = total.filter(|t| *t > 0.0).map(|t| 1.0 - rss / t);
        (rmse, r2)
    }

    /// Fits linear regression from the statistics: the model and its training rmse and r2.
    ///
    /// # Errors
    /// The row path's `Data` errors, in its order, and its `Numerical` ones.
    pub fn solve(
        &self,
        params: &LinearParams,
        max_rows: u64,
    ) -> Result<(LinearModel, f64, Option<f64>)> {
        params.validate()?;
        self.check(max_rows)?;
        check_row_count(self.positive_rows, self.p(), params)?;
        let normal = self.normal_equations(params.fit_intercept)?;
        let model = solve_normal(normal, params, &self.feature_names)?;
        let (rmse, r2) = self.metrics(model.intercept, &model.coefficients, params.fit_intercept);
        Ok((model, rmse, r2))
    }

    /// Fits the GLM's gaussian identity case from the statistics: the model and its training
    /// rmse and r2.
    ///
    /// # Errors
    /// The row path's `Data` errors, in its order, and its `Numerical` ones; `InvalidParam`
    /// for another family or link.
    pub fn solve_glm(
        &self,
        params: &GlmParams,
        max_rows: u64,
    ) -> Result<(GlmModel, f64, Option<f64>)> {
        params.validate()?;
        self.check(max_rows)?;
        let normal = self.normal_equations(params.fit_intercept)?;
        let model = glm::fit_normal(normal, params, &self.feature_names)?;
        let (rmse, r2) = self.metrics(model.intercept, &model.coefficients, params.fit_intercept);
        Ok((model, rmse, r2))
    }
}

/// A group over `max_rows` rows: the message of the Scala row path, which counts a group's rows as
/// they stream by.
fn too_many_rows(max_rows: u64) -> Error {
    Error::data(format!("group has more than maxRowsPerGroup={max_rows} rows"))
}

/// Row `r` of a column and whether it is a finite value; a null or non-finite one sets its flag.
#[inline]
fn read(col: &Float64Array, r: usize, flags: &mut u8) -> (f64, bool) {
    if col.is_null(r) {
        *flags |= NULL;
        return (0.0, false);
    }
    let v = col.value(r);
    if v.is_finite() {
        return (v, true);
    }
    *flags |= if v.is_nan() {
        NAN
    } else if v > 0.0 {
        POS_INF
    } else {
        NEG_INF
    };
    (v, false)
}

fn widen(r: (f64, f64), v: f64) -> (f64, f64) {
    (r.0.min(v), r.1.max(v))
}

fn len_u32(n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|_| Error::numerical("statistics larger than 4 GiB"))
}

fn put_str(out: &mut Vec<u8>, s: &str) -> Result<()> {
    out.extend_from_slice(&len_u32(s.len())?.to_le_bytes());
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn take(&mut self, n: usize) -> Result<&[u8]> {
        if n > self.remaining() {
            return Err(Error::model("invalid sufficient statistics: truncated"));
        }
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }

    fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_bits(self.u64()?))
    }

    fn string(&mut self) -> Result<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec())
            .map_err(|_| Error::model("invalid sufficient statistics: a name is not UTF-8"))
    }
}

/// The params of `algorithm` when the path applies; else `InvalidParam`, for bad params as
/// such, for good ones the path does not take by name.
pub(crate) fn checked_params(algorithm: &str, params_json: &str) -> Result<Params> {
    if let Some(params) = model_params(algorithm, params_json) {
        return Ok(params);
    }
    match algorithm {
        Linear::NAME => parse_json::<LinearParams>(params_json)?.validate()?,
        Glm::NAME => parse_json::<GlmParams>(params_json)?.validate()?,
        _ => {
            crate::registry::get(algorithm)?;
        }
    }
    Err(Error::invalid_param(
        "algorithm",
        format!(
            "sufficient statistics apply to linear regression without an L1 part and to the \
             gaussian identity GLM only, not {algorithm} with {params_json}"
        ),
    ))
}

/// The statistics of every group of a training batch (IPC), one row per group present: `group`
/// (Int32) and `stats` (Binary), by group index. Groups are reduced in parallel on `threads`.
///
/// # Errors
/// `InvalidParam` when the path does not apply to the algorithm and params; `Ipc`/`Schema` for
/// an unreadable batch, one without a label, or with a time or fold column.
pub fn accumulate_ipc(
    algorithm: &str,
    params_json: &str,
    threads: usize,
    batch: Buffer,
) -> Result<Vec<u8>> {
    checked_params(algorithm, params_json)?;
    let batch = TrainBatch::from_ipc(batch)?;
    let trainer = Trainer::new(algorithm, params_json)?;
    check_batch(trainer.algorithm(), &batch)?;
    if batch.time.is_some() || batch.fold.is_some() {
        return Err(Error::schema("sufficient statistics take no time or fold column"));
    }
    let label = batch.label.as_ref().ok_or_else(|| Error::schema("linear needs a label column"))?;
    let groups = batch.rows_by_group();
    let encoded: Vec<(i32, Vec<u8>)> = pool::install(threads, || {
        groups
            .par_iter()
            .enumerate()
            .filter(|(_, rows)| !rows.is_empty())
            .map(|(g, rows)| Ok((g as i32, GroupStats::of_rows(&batch, label, rows).encode()?)))
            .collect::<Result<Vec<_>>>()
    })??;
    let group: Int32Array = encoded.iter().map(|(g, _)| Some(*g)).collect();
    let stats: BinaryArray = encoded.iter().map(|(_, b)| Some(b.as_slice())).collect();
    let columns: Vec<(&str, ArrayRef)> =
        vec![("group", Arc::new(group)), ("stats", Arc::new(stats))];
    write_stream(&record_batch(columns)?)
}

/// A batch of statistics partials (IPC: `group` Int32, `stats` Binary, several rows per group
/// allowed, group ids below `limit`): the batch's `stats` column and, per group id, its rows.
///
/// # Errors
/// `Ipc`/`Schema` for an unreadable batch or one without those columns, a null, negative or
/// out-of-range group id, a null partial.
pub(crate) fn read_partials(
    batch: Buffer,
    limit: impl Fn(usize) -> usize,
) -> Result<(BinaryArray, Vec<Vec<usize>>)> {
    let batch = read_stream(batch)?;
    let column = |name: &str| {
        batch
            .schema_ref()
            .index_of(name)
            .map(|i| batch.column(i).clone())
            .map_err(|_| Error::schema(format!("a statistics batch needs a '{name}' column")))
    };
    let (groups, stats) = (column("group")?, column("stats")?);
    let groups = groups
        .as_any()
        .downcast_ref::<Int32Array>()
        .ok_or_else(|| Error::schema("the group column must be Int32"))?;
    let stats = stats
        .as_any()
        .downcast_ref::<BinaryArray>()
        .ok_or_else(|| Error::schema("the stats column must be Binary"))?
        .clone();
    let n = limit(groups.len());
    if groups.null_count() > 0 || groups.values().iter().any(|g| *g < 0 || *g as usize >= n) {
        return Err(Error::schema("group index column has a null, negative or out-of-range value"));
    }
    if stats.null_count() > 0 {
        return Err(Error::schema("the stats column has a null value"));
    }
    let mut by_group: Vec<Vec<usize>> =
        vec![Vec::new(); groups.values().iter().map(|&g| g as usize + 1).max().unwrap_or(0)];
    for (row, g) in groups.values().iter().enumerate() {
        by_group[*g as usize].push(row);
    }
    Ok((stats, by_group))
}

/// The rows received of one group: all of them as a one-group batch, or only their count when
/// the group was dropped for its size.
pub(crate) enum Received<'a> {
    Rows(&'a TrainBatch),
    Dropped(u64),
}

/// Fits one group of the statistics path from the rows of it that crossed the shuffle as rows
/// (`rows`, `None` when none did) and the statistics partials of its other rows. Its row count
/// `N` (both together) decides, so that the result does not depend on how its rows were split:
/// over `max_rows` it fails with the row path's message; with `N < min_rows` (the caller's
/// threshold: Scala's `StatsTraining.defaultMinRows` unless set) and no partial, it is fitted
/// from its rows exactly as the row path fits them (the same checks, canonical order and fit:
/// the same model bytes); else its rows' exact
/// statistics are merged with the partials and the model solved from them. A partial exists only
/// for a group with at least `min_rows` rows in one map task, so a group of fewer rows in all
/// never has one. Returns `N` and the outcome; a panic fails the group only.
///
/// # Errors
/// `Model`/`Schema` for partials that do not decode or do not match the rows' columns (the whole
/// call fails: the bytes were made by this library, so they are corrupt).
pub(crate) fn fit_group(
    trainer: &Trainer,
    params: &Params,
    rows: Option<Received<'_>>,
    partials: &[&[u8]],
    max_rows: u64,
    min_rows: u64,
) -> Result<(u64, Result<Fitted>)> {
    let mut merged: Option<GroupStats> = None;
    for bytes in partials {
        let s = GroupStats::decode(bytes)?;
        match &mut merged {
            Some(m) => m.merge(&s)?,
            None => merged = Some(s),
        }
    }
    let received = match &rows {
        Some(Received::Rows(batch)) => batch.num_rows() as u64,
        Some(Received::Dropped(n)) => *n,
        None => 0,
    };
    let total = received + merged.as_ref().map_or(0, |m| m.rows);
    if total > max_rows {
        return Ok((total, Err(too_many_rows(max_rows))));
    }
    let fit = |work: &dyn Fn() -> Result<Fitted>| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
            .unwrap_or_else(|panic| Err(Error::numerical(panic_message(&panic))))
    };
    let batch = match rows {
        Some(Received::Rows(batch)) if batch.num_rows() > 0 => Some(batch),
        _ => None,
    };
    let all = |b: &TrainBatch| (0..b.num_rows() as u32).collect::<Vec<u32>>();
    if let (Some(batch), None) = (batch, &merged) {
        if total < min_rows {
            return Ok((total, fit(&|| train::train_group(trainer, batch, &all(batch), max_rows))));
        }
    }
    if let Some(batch) = batch {
        let label =
            batch.label.as_ref().ok_or_else(|| Error::schema("linear needs a label column"))?;
        let s = GroupStats::of_rows(batch, label, &all(batch));
        match &mut merged {
            Some(m) => m.merge(&s)?,
            None => merged = Some(s),
        }
    }
    let merged = merged.ok_or_else(|| Error::schema("a group without rows or statistics"))?;
    Ok((total, fit(&|| fit_stats(&merged, params, max_rows))))
}

/// One group's row of the results batch from its merged statistics.
fn fit_stats(stats: &GroupStats, params: &Params, max_rows: u64) -> Result<Fitted> {
    let names = stats.feature_names.clone();
    let (stored, rmse, r2) = match params {
        Params::Linear(params) => {
            let (model, rmse, r2) = stats.solve(params, max_rows)?;
            (StoredModel::new::<Linear>(names, model), rmse, r2)
        }
        Params::Glm(params) => {
            let (model, rmse, r2) = stats.solve_glm(params, max_rows)?;
            (StoredModel::new::<Glm>(names, model), rmse, r2)
        }
    };
    let convergence: Option<Convergence> = stored.model.convergence();
    Ok(Fitted { bytes: stored.encode()?, metrics: vec![Some(rmse), r2], convergence })
}

#[cfg(test)]
mod tests;
