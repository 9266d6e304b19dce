//! libsvm's SMO solver for the C-SVC dual (Fan, Chen and Lin, JMLR 6, 2005), step for step.
//!
//! Solves `min 1/2 a'Qa - e'a` subject to `y'a = 0` and `0 <= a_i <= C_i`. Each step picks the
//! pair of the maximal violation on one side and, on the other, the largest second-order
//! decrease of the objective (WSS3), solves the two-variable problem exactly and clips it to the
//! box. Shrinking (every `min(l, 1000)` steps) moves variables that sit at a bound and are
//! unlikely to move out of the active prefix; `G_bar`, the gradient part from variables at their
//! upper bound, lets the full gradient be rebuilt when they come back. The stop test is libsvm's:
//! the maximal violation `m(a) - M(a)` below `tol`.
//!
//! Kept exactly as libsvm: the order of comparisons (`>=` picks the last maximum), the `f32`
//! kernel rows, the clipping branches, the `TAU` guard, when shrinking happens and the rho
//! formula, so that the iterates, not only the optimum, follow libsvm's.

use super::kernel::QMatrix;

const TAU: f64 = 1e-12;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Lower,
    Upper,
    Free,
}

/// A solved binary problem.
pub(crate) struct Solution {
    /// `a_i`, in the input order, not multiplied by `y_i`.
    pub alpha: Vec<f64>,
    pub rho: f64,
    pub iterations: u64,
    /// Stopped by the iteration limit rather than the tolerance.
    pub timed_out: bool,
}

struct Solver<'a> {
    q: &'a mut QMatrix,
    l: usize,
    active_size: usize,
    y: Vec<i8>,
    g: Vec<f64>,
    status: Vec<Bound>,
    alpha: Vec<f64>,
    c: Vec<f64>,
    active_set: Vec<usize>,
    g_bar: Vec<f64>,
    eps: f64,
    unshrink: bool,
}

/// Solves the C-SVC dual for labels `y` (+1/-1) and box bounds `c`, from `a = 0`.
/// `max_iter = None` means no limit.
pub(crate) fn solve(
    q: &mut QMatrix,
    y: &[i8],
    c: &[f64],
    eps: f64,
    shrinking: bool,
    max_iter: Option<u64>,
) -> Solution {
    let l = y.len();
    let mut s = Solver {
        q,
        l,
        active_size: l,
        y: y.to_vec(),
        // a = 0: the gradient is the linear term (-1) and no variable is at its upper bound.
        g: vec![-1.0; l],
        status: vec![Bound::Lower; l],
        alpha: vec![0.0; l],
        c: c.to_vec(),
        active_set: (0..l).collect(),
        g_bar: vec![0.0; l],
        eps,
        unshrink: false,
    };
    // A bound of 0 (never, since zero weights are dropped before) would start at both bounds.
    for i in 0..l {
        s.update_status(i);
    }
    let (iterations, timed_out) = s.run(shrinking, max_iter);
    let rho = s.rho();
    let mut alpha = vec![0.0; l];
    for (i, &orig) in s.active_set.iter().enumerate() {
        alpha[orig] = s.alpha[i];
    }
    Solution { alpha, rho, iterations, timed_out }
}

impl Solver<'_> {
    fn update_status(&mut self, i: usize) {
        self.status[i] = if self.alpha[i] >= self.c[i] {
            Bound::Upper
        } else if self.alpha[i] <= 0.0 {
            Bound::Lower
        } else {
            Bound::Free
        };
    }

    fn run(&mut self, shrinking: bool, max_iter: Option<u64>) -> (u64, bool) {
        let l = self.l;
        let mut iter: u64 = 0;
        let mut counter = l.min(1000) + 1;
        loop {
            if max_iter.is_some_and(|m| iter >= m) {
                return (iter, true);
            }
            counter -= 1;
            if counter == 0 {
                counter = l.min(1000);
                if shrinking {
                    self.do_shrinking();
                }
            }
            let (i, j) = match self.select_working_set() {
                Some(pair) => pair,
                None => {
                    // Optimal on the active set: check again on all variables.
                    self.reconstruct_gradient();
                    self.active_size = l;
                    match self.select_working_set() {
                        Some(pair) => {
                            counter = 1;
                            pair
                        }
                        None => return (iter, false),
                    }
                }
            };
            iter += 1;
            self.step(i, j);
        }
    }

    /// The two-variable update of `a_i`, `a_j`, then the gradient and `G_bar`.
    fn step(&mut self, i: usize, j: usize) {
        let active = self.active_size;
        self.q.ensure(i, active);
        self.q.ensure(j, active);
        let (c_i, c_j) = (self.c[i], self.c[j]);
        let (old_i, old_j) = (self.alpha[i], self.alpha[j]);
        {
            let (qd, q_ij) = (self.q.qd(), f64::from(self.q.row(i)[j]));
            let a = &mut self.alpha;
            if self.y[i] != self.y[j] {
                let mut quad = qd[i] + qd[j] + 2.0 * q_ij;
                if quad <= 0.0 {
                    quad = TAU;
                }
                let delta = (-self.g[i] - self.g[j]) / quad;
                let diff = a[i] - a[j];
                a[i] += delta;
                a[j] += delta;
                if diff > 0.0 {
                    if a[j] < 0.0 {
                        a[j] = 0.0;
                        a[i] = diff;
                    }
                } else if a[i] < 0.0 {
                    a[i] = 0.0;
                    a[j] = -diff;
                }
                if diff > c_i - c_j {
                    if a[i] > c_i {
                        a[i] = c_i;
                        a[j] = c_i - diff;
                    }
                } else if a[j] > c_j {
                    a[j] = c_j;
                    a[i] = c_j + diff;
                }
            } else {
                let mut quad = qd[i] + qd[j] - 2.0 * q_ij;
                if quad <= 0.0 {
                    quad = TAU;
                }
                let delta = (self.g[i] - self.g[j]) / quad;
                let sum = a[i] + a[j];
                a[i] -= delta;
                a[j] += delta;
                if sum > c_i {
                    if a[i] > c_i {
                        a[i] = c_i;
                        a[j] = sum - c_i;
                    }
                } else if a[j] < 0.0 {
                    a[j] = 0.0;
                    a[i] = sum;
                }
                if sum > c_j {
                    if a[j] > c_j {
                        a[j] = c_j;
                        a[i] = sum - c_j;
                    }
                } else if a[i] < 0.0 {
                    a[i] = 0.0;
                    a[j] = sum;
                }
            }
        }
        let (d_i, d_j) = (self.alpha[i] - old_i, self.alpha[j] - old_j);
        let (q_i, q_j) = (&self.q.row(i)[..active], &self.q.row(j)[..active]);
        for ((g, &a), &b) in self.g[..active].iter_mut().zip(q_i).zip(q_j) {
            *g += f64::from(a) * d_i + f64::from(b) * d_j;
        }

        let (was_upper_i, was_upper_j) =
            (self.status[i] == Bound::Upper, self.status[j] == Bound::Upper);
        self.update_status(i);
        self.update_status(j);
        for (k, was_upper, c_k) in [(i, was_upper_i, c_i), (j, was_upper_j, c_j)] {
            if was_upper != (self.status[k] == Bound::Upper) {
                let l = self.l;
                self.q.ensure(k, l);
                let sign = if was_upper { -c_k } else { c_k };
                for (gb, &qv) in self.g_bar.iter_mut().zip(&self.q.row(k)[..l]) {
                    *gb += sign * f64::from(qv);
                }
            }
        }
    }

    /// WSS3: `i` maximizes `-y_i G_i` over I_up, `j` the second-order decrease over I_low.
    /// `None` when the maximal violation is below `eps` (optimal).
    fn select_working_set(&mut self) -> Option<(usize, usize)> {
        let active = self.active_size;
        // Slices of the active length let the compiler drop the bounds checks in both loops.
        let (y, g, status) = (&self.y[..active], &self.g[..active], &self.status[..active]);
        let (mut gmax, mut gmax2) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        let mut gmax_idx = None;
        for (t, ((&yt, &gt), &st)) in y.iter().zip(g).zip(status).enumerate() {
            if yt == 1 {
                if st != Bound::Upper && -gt >= gmax {
                    gmax = -gt;
                    gmax_idx = Some(t);
                }
            } else if st != Bound::Lower && gt >= gmax {
                gmax = gt;
                gmax_idx = Some(t);
            }
        }
        let i = gmax_idx?;
        self.q.ensure(i, active);
        let (y, g, status) = (&self.y[..active], &self.g[..active], &self.status[..active]);
        let q_i = &self.q.row(i)[..active];
        let qd = &self.q.qd()[..active];
        let (yi, qd_i) = (f64::from(y[i]), qd[i]);
        let mut gmin_idx = None;
        let mut obj_diff_min = f64::INFINITY;
        let rows = y.iter().zip(g).zip(status).zip(q_i).zip(qd);
        for (j, ((((&yj, &gj), &st), &q_ij), &qd_j)) in rows.enumerate() {
            let (grad_diff, quad) = if yj == 1 {
                if st == Bound::Lower {
                    continue;
                }
                if gj >= gmax2 {
                    gmax2 = gj;
                }
                (gmax + gj, qd_i + qd_j - 2.0 * yi * f64::from(q_ij))
            } else {
                if st == Bound::Upper {
                    continue;
                }
                if -gj >= gmax2 {
                    gmax2 = -gj;
                }
                (gmax - gj, qd_i + qd_j + 2.0 * yi * f64::from(q_ij))
            };
            if grad_diff > 0.0 {
                let obj_diff = -(grad_diff * grad_diff) / if quad > 0.0 { quad } else { TAU };
                if obj_diff <= obj_diff_min {
                    gmin_idx = Some(j);
                    obj_diff_min = obj_diff;
                }
            }
        }
        if gmax + gmax2 < self.eps {
            return None;
        }
        gmin_idx.map(|j| (i, j))
    }

    fn be_shrunk(&self, i: usize, gmax1: f64, gmax2: f64) -> bool {
        match self.status[i] {
            Bound::Upper if self.y[i] == 1 => -self.g[i] > gmax1,
            Bound::Upper => -self.g[i] > gmax2,
            Bound::Lower if self.y[i] == 1 => self.g[i] > gmax2,
            Bound::Lower => self.g[i] > gmax1,
            Bound::Free => false,
        }
    }

    fn do_shrinking(&mut self) {
        let (mut gmax1, mut gmax2) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        for i in 0..self.active_size {
            // -y_i G_i over I_up and y_i G_i over I_low; for y = -1 the bounds swap roles.
            let (up, low) =
                if self.y[i] == 1 { (-self.g[i], self.g[i]) } else { (self.g[i], -self.g[i]) };
            let (in_up, in_low) = if self.y[i] == 1 {
                (self.status[i] != Bound::Upper, self.status[i] != Bound::Lower)
            } else {
                (self.status[i] != Bound::Lower, self.status[i] != Bound::Upper)
            };
            if in_up && up >= gmax1 {
                gmax1 = up;
            }
            if in_low && low >= gmax2 {
                gmax2 = low;
            }
        }
        if !self.unshrink && gmax1 + gmax2 <= self.eps * 10.0 {
            self.unshrink = true;
            self.reconstruct_gradient();
            self.active_size = self.l;
        }
        let mut i = 0;
        while i < self.active_size {
            if self.be_shrunk(i, gmax1, gmax2) {
                self.active_size -= 1;
                while self.active_size > i {
                    if !self.be_shrunk(self.active_size, gmax1, gmax2) {
                        self.swap_index(i, self.active_size);
                        break;
                    }
                    self.active_size -= 1;
                }
            }
            i += 1;
        }
    }

    fn swap_index(&mut self, i: usize, j: usize) {
        self.q.swap_index(i, j);
        self.y.swap(i, j);
        self.g.swap(i, j);
        self.status.swap(i, j);
        self.alpha.swap(i, j);
        self.active_set.swap(i, j);
        self.g_bar.swap(i, j);
        self.c.swap(i, j);
    }

    /// Rebuilds the gradient of the shrunk variables from `G_bar` and the free variables,
    /// by whichever loop touches fewer kernel entries (libsvm's rule).
    fn reconstruct_gradient(&mut self) {
        let (l, active) = (self.l, self.active_size);
        if active == l {
            return;
        }
        for j in active..l {
            self.g[j] = self.g_bar[j] - 1.0;
        }
        let nr_free = (0..active).filter(|&j| self.status[j] == Bound::Free).count();
        if nr_free * l > 2 * active * (l - active) {
            for i in active..l {
                self.q.ensure(i, active);
                let q_i = &self.q.row(i)[..active];
                let mut g_i = self.g[i];
                for ((st, a), &qv) in self.status.iter().zip(&self.alpha).zip(q_i) {
                    if *st == Bound::Free {
                        g_i += a * f64::from(qv);
                    }
                }
                self.g[i] = g_i;
            }
        } else {
            for i in 0..active {
                if self.status[i] == Bound::Free {
                    self.q.ensure(i, l);
                    let a_i = self.alpha[i];
                    for (g, &qv) in self.g[active..l].iter_mut().zip(&self.q.row(i)[active..l]) {
                        *g += a_i * f64::from(qv);
                    }
                }
            }
        }
    }

    /// rho = the mean of `y_i G_i` over free variables, else the middle of the feasible range.
    fn rho(&self) -> f64 {
        let (mut ub, mut lb, mut sum_free, mut nr_free) =
            (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0usize);
        for i in 0..self.active_size {
            let yg = f64::from(self.y[i]) * self.g[i];
            match (self.status[i], self.y[i] == 1) {
                (Bound::Upper, false) | (Bound::Lower, true) => ub = ub.min(yg),
                (Bound::Upper, true) | (Bound::Lower, false) => lb = lb.max(yg),
                (Bound::Free, _) => {
                    nr_free += 1;
                    sum_free += yg;
                }
            }
        }
        if nr_free > 0 {
            sum_free / nr_free as f64
        } else {
            (ub + lb) / 2.0
        }
    }
}
