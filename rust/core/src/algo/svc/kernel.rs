//! Kernels and the kernel matrix the SMO solver reads, with libsvm's LRU row cache.
//!
//! The solver sees `Q_ij = y_i y_j K(x_i, x_j)` one row at a time. Rows are cached as `f32` like
//! libsvm's `Qfloat`: half the memory of `f64`, so twice the rows fit in the budget, and the
//! solver only needs them to the precision of its stopping tolerance. Shrinking swaps variables
//! so that the active ones form a prefix; the matrix swaps its training rows (and the cache its
//! cached entries) along, so a row is always computed over one contiguous block of memory.

use super::math::{dot, dots_into, exp_in_place, powi, squared_distance, tanh_in_place};

/// The four kernel families of scikit-learn's `SVC` (no "precomputed").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Linear,
    Poly,
    Rbf,
    Sigmoid,
}

impl Kind {
    pub(crate) fn parse(name: &str) -> Option<Self> {
        match name {
            "linear" => Some(Kind::Linear),
            "poly" => Some(Kind::Poly),
            "rbf" => Some(Kind::Rbf),
            "sigmoid" => Some(Kind::Sigmoid),
            _ => None,
        }
    }
}

/// A kernel with its resolved parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Kernel {
    pub kind: Kind,
    pub gamma: f64,
    pub coef0: f64,
    pub degree: u32,
}

impl Kernel {
    /// The kernel from a dot product and, for rbf, both squared norms: libsvm's training-time
    /// form, which reuses the norms instead of forming `x_i - x_j`. Used, with libm, for the
    /// diagonal `Q_ii`, which libsvm keeps in `f64`; rows go through the slice functions.
    #[inline(always)]
    fn of_dot(&self, dot: f64, sq_a: f64, sq_b: f64) -> f64 {
        match self.kind {
            Kind::Linear => dot,
            Kind::Poly => powi(self.gamma * dot + self.coef0, self.degree),
            Kind::Rbf => (-self.gamma * (sq_a + sq_b - 2.0 * dot)).exp(),
            Kind::Sigmoid => (self.gamma * dot + self.coef0).tanh(),
        }
    }

    /// `K(x, r)` for each row `r` of `rows` (row-major, `p` values each) into `out`, as libsvm
    /// evaluates kernels at prediction (rbf from the squared difference, which does not cancel
    /// for nearby points).
    pub(crate) fn values(&self, x: &[f64], rows: &[f64], p: usize, out: &mut Vec<f64>) {
        out.clear();
        let rows = rows.chunks_exact(p.max(1));
        let (g, c0) = (self.gamma, self.coef0);
        match self.kind {
            Kind::Linear => out.extend(rows.map(|r| dot(x, r))),
            Kind::Poly => out.extend(rows.map(|r| powi(g * dot(x, r) + c0, self.degree))),
            Kind::Rbf => {
                out.extend(rows.map(|r| -g * squared_distance(x, r)));
                exp_in_place(out);
            }
            Kind::Sigmoid => {
                out.extend(rows.map(|r| g * dot(x, r) + c0));
                tanh_in_place(out);
            }
        }
    }
}

/// The matrix `Q_ij = y_i y_j K(x_i, x_j)` of one binary problem, by rows, cached.
pub(crate) struct QMatrix {
    kernel: Kernel,
    p: usize,
    /// Training rows, row-major, in the solver's current order (swapped along with it).
    x: Vec<f64>,
    sq: Vec<f64>,
    y: Vec<i8>,
    qd: Vec<f64>,
    cache: Cache,
    /// Scratch for a row's dot products before the kernel is applied.
    dots: Vec<f64>,
}

impl QMatrix {
    /// `x` is `y.len()` rows of `p` values, row-major; `cache_bytes` bounds the row cache.
    pub(crate) fn new(
        kernel: Kernel,
        x: Vec<f64>,
        p: usize,
        y: Vec<i8>,
        cache_bytes: usize,
    ) -> Self {
        let l = y.len();
        let sq: Vec<f64> = if kernel.kind == Kind::Rbf {
            x.chunks_exact(p.max(1)).map(|r| dot(r, r)).collect()
        } else {
            vec![0.0; l]
        };
        let qd = (0..l)
            .map(|i| {
                let r = &x[i * p..(i + 1) * p];
                kernel.of_dot(dot(r, r), sq[i], sq[i])
            })
            .collect();
        QMatrix { kernel, p, x, sq, y, qd, cache: Cache::new(l, cache_bytes), dots: Vec::new() }
    }

    /// The diagonal `Q_ii`, in the current order.
    pub(crate) fn qd(&self) -> &[f64] {
        &self.qd
    }

    /// Makes entries `[0, len)` of row `i` available to [`row`](Self::row).
    pub(crate) fn ensure(&mut self, i: usize, len: usize) {
        let start = self.cache.get_data(i, len);
        if start >= len {
            return;
        }
        let p = self.p;
        let xi = &self.x[i * p..(i + 1) * p];
        // Dot products first, in a loop without transcendental calls, then the kernel: keeps
        // the arithmetic-heavy part free to vectorize.
        dots_into(xi, &self.x[start * p..len * p], p, &mut self.dots);
        let (yi, sqi, k) = (f64::from(self.y[i]), self.sq[i], self.kernel);
        let (g, c0) = (k.gamma, k.coef0);
        let values = &mut self.dots;
        match k.kind {
            Kind::Linear => {}
            Kind::Poly => values.iter_mut().for_each(|d| *d = powi(g * *d + c0, k.degree)),
            Kind::Rbf => {
                for (d, &sqj) in values.iter_mut().zip(&self.sq[start..len]) {
                    *d = -g * (sqi + sqj - 2.0 * *d);
                }
                exp_in_place(values);
            }
            Kind::Sigmoid => {
                values.iter_mut().for_each(|d| *d = g * *d + c0);
                tanh_in_place(values);
            }
        }
        let row = &mut self.cache.rows[i][start..len];
        for ((out, &kv), &yj) in row.iter_mut().zip(&*values).zip(&self.y[start..len]) {
            *out = (yi * f64::from(yj) * kv) as f32;
        }
    }

    /// Row `i` as far as it was last [`ensure`](Self::ensure)d (which the solver tracks).
    #[inline]
    pub(crate) fn row(&self, i: usize) -> &[f32] {
        &self.cache.rows[i]
    }

    pub(crate) fn swap_index(&mut self, i: usize, j: usize) {
        if i == j {
            return;
        }
        self.cache.swap_index(i, j);
        let p = self.p;
        let (lo, hi) = (i.min(j), i.max(j));
        let (head, tail) = self.x.split_at_mut(hi * p);
        head[lo * p..(lo + 1) * p].swap_with_slice(&mut tail[..p]);
        self.sq.swap(i, j);
        self.y.swap(i, j);
        self.qd.swap(i, j);
    }
}

/// libsvm's cache: whole row prefixes, least recently used evicted first, at least two rows'
/// worth of room so that the two rows of one SMO step never evict each other.
struct Cache {
    rows: Vec<Vec<f32>>,
    /// A circular doubly linked LRU list over the cached rows; index `l` is the list head.
    prev: Vec<usize>,
    next: Vec<usize>,
    /// Room left, in entries.
    free: usize,
}

/// What libsvm charges per row for its bookkeeping (`sizeof(head_t)` on 64-bit).
const HEAD_BYTES: usize = 32;

impl Cache {
    fn new(l: usize, bytes: usize) -> Self {
        let entries = (bytes / 4).saturating_sub(l * HEAD_BYTES / 4).max(2 * l);
        Cache {
            rows: vec![Vec::new(); l],
            prev: vec![l; l + 1],
            next: vec![l; l + 1],
            free: entries,
        }
    }

    fn lru_delete(&mut self, h: usize) {
        let (p, n) = (self.prev[h], self.next[h]);
        self.next[p] = n;
        self.prev[n] = p;
    }

    fn lru_insert(&mut self, h: usize) {
        let head = self.rows.len();
        let last = self.prev[head];
        self.next[h] = head;
        self.prev[h] = last;
        self.next[last] = h;
        self.prev[head] = h;
    }

    /// Makes row `index` at least `len` long and most recently used; returns where the caller
    /// must start filling (`>= len` if nothing is missing).
    fn get_data(&mut self, index: usize, len: usize) -> usize {
        let have = self.rows[index].len();
        if have > 0 {
            self.lru_delete(index);
        }
        let start = if len > have {
            let more = len - have;
            let head = self.rows.len();
            while self.free < more {
                let old = self.next[head];
                self.lru_delete(old);
                self.free += self.rows[old].len();
                self.rows[old] = Vec::new();
            }
            self.rows[index].resize(len, 0.0);
            self.free -= more;
            have
        } else {
            len
        };
        if !self.rows[index].is_empty() {
            self.lru_insert(index);
        }
        start
    }

    fn swap_index(&mut self, i: usize, j: usize) {
        for h in [i, j] {
            if !self.rows[h].is_empty() {
                self.lru_delete(h);
            }
        }
        self.rows.swap(i, j);
        for h in [i, j] {
            if !self.rows[h].is_empty() {
                self.lru_insert(h);
            }
        }
        let (lo, hi) = (i.min(j), i.max(j));
        let head = self.rows.len();
        let mut h = self.next[head];
        while h != head {
            let after = self.next[h];
            let len = self.rows[h].len();
            if len > lo {
                if len > hi {
                    self.rows[h].swap(lo, hi);
                } else {
                    // A row that holds one of the two entries but not the other cannot be
                    // kept consistent; libsvm drops it too.
                    self.lru_delete(h);
                    self.free += len;
                    self.rows[h] = Vec::new();
                }
            }
            h = after;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kernel(kind: Kind) -> Kernel {
        Kernel { kind, gamma: 0.3, coef0: 0.5, degree: 3 }
    }

    #[test]
    fn training_and_prediction_forms_agree() {
        let (a, b) = ([0.5, -1.0, 2.0, 0.25, 3.0], [1.5, 0.0, -2.0, 0.75, 1.0]);
        for kind in [Kind::Linear, Kind::Poly, Kind::Rbf, Kind::Sigmoid] {
            let k = kernel(kind);
            let via_dot = k.of_dot(dot(&a, &b), dot(&a, &a), dot(&b, &b));
            let mut out = Vec::new();
            k.values(&a, &b, 5, &mut out);
            assert!((via_dot - out[0]).abs() < 1e-12, "{kind:?}");
        }
    }

    #[test]
    fn rows_survive_swaps_and_a_tiny_cache() {
        let (l, p) = (7, 3);
        let x: Vec<f64> = (0..l * p).map(|v| ((v * 7 % 11) as f64) / 5.0 - 1.0).collect();
        let y: Vec<i8> = (0..l).map(|i| if i % 3 == 0 { -1 } else { 1 }).collect();
        let k = kernel(Kind::Rbf);
        // A budget below two rows is raised to two rows: evictions on nearly every request.
        let mut q = QMatrix::new(k, x.clone(), p, y.clone(), 0);
        let mut order: Vec<usize> = (0..l).collect();
        for (step, &(i, j)) in [(0, 6), (2, 3), (1, 5), (0, 4), (6, 2)].iter().enumerate() {
            for r in 0..l {
                let len = if (r + step) % 2 == 0 { l } else { l - 2 };
                q.ensure(r, len);
                for c in 0..len {
                    let (oi, oj) = (order[r], order[c]);
                    let mut kv = Vec::new();
                    k.values(&x[oi * p..(oi + 1) * p], &x[oj * p..(oj + 1) * p], p, &mut kv);
                    let expect = f64::from(y[oi] * y[oj]) * kv[0];
                    assert!((f64::from(q.row(r)[c]) - expect).abs() < 1e-6, "{r},{c}");
                }
            }
            q.swap_index(i, j);
            order.swap(i, j);
        }
    }
}
