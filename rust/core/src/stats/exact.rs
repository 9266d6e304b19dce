//! Exact sums of doubles: error-free transformations, Shewchuk's nonoverlapping expansions and a
//! fixed-point accumulator that rounds an exact sum correctly.
//!
//! An [`Expansion`] holds a real number exactly as a sum of doubles, nonoverlapping and in
//! increasing magnitude, zeros eliminated (Shewchuk, "Adaptive Precision Floating-Point
//! Arithmetic", 1997: Grow-Expansion with zero elimination). Adding a double or another expansion
//! is exact, so sums do not depend on the order of their terms. Two expansions of the same value
//! may differ in their components; [`Expansion::round`] and [`Expansion::canonical`] depend only on
//! the value: they go through [`Fixed`], the value as a two's complement integer multiple of
//! 2^-1074 (every double is one), which rounds to nearest, ties to even, as IEEE addition does.
//!
//! Exact as long as no product overflows or underflows: a product whose error term falls below
//! 2^-1022 (factors whose exponents sum below about -969) loses that error term. Overflow gives
//! non-finite components, which [`Expansion::is_finite`] reports; the caller must not round those.

/// `a + b` as `(s, e)` with `s = fl(a + b)` and `a + b = s + e` exactly (Knuth's TwoSum).
#[inline(always)]
pub fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// 2^27 + 1, Veltkamp's splitter for doubles.
const SPLITTER: f64 = 134_217_729.0;
/// Below this magnitude Veltkamp's split cannot overflow.
const SPLIT_SAFE: f64 = 6.696_928_794_914_171e299; // 2^996

#[inline(always)]
fn split(a: f64) -> (f64, f64) {
    let c = SPLITTER * a;
    let hi = c - (c - a);
    (hi, a - hi)
}

/// `a * b` as `(p, e)` with `p = fl(a b)` and `a b = p + e` exactly (Dekker's product; the fused
/// multiply-add for factors too large to split).
#[inline(always)]
pub fn two_product(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    if a.abs() < SPLIT_SAFE && b.abs() < SPLIT_SAFE {
        let (ah, al) = split(a);
        let (bh, bl) = split(b);
        (p, al * bl - (((p - ah * bh) - al * bh) - ah * bl))
    } else {
        (p, a.mul_add(b, -p))
    }
}

/// A real number held exactly as a sum of nonoverlapping doubles, increasing in magnitude, no
/// zeros (empty is 0).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expansion(pub(crate) Vec<f64>);

impl Expansion {
    pub fn zero() -> Self {
        Expansion(Vec::new())
    }

    pub fn from_f64(v: f64) -> Self {
        let mut e = Expansion::zero();
        e.add(v);
        e
    }

    /// The components, increasing in magnitude.
    pub fn components(&self) -> &[f64] {
        &self.0
    }

    /// Adds `b` exactly (Grow-Expansion with zero elimination, in place).
    #[inline]
    pub fn add(&mut self, b: f64) {
        if b == 0.0 {
            return;
        }
        let e = &mut self.0;
        let mut q = b;
        let mut k = 0;
        for i in 0..e.len() {
            let (s, h) = two_sum(q, e[i]);
            q = s;
            if h != 0.0 {
                e[k] = h;
                k += 1;
            }
        }
        e.truncate(k);
        if q != 0.0 {
            e.push(q);
        }
    }

    /// Adds `a * b` exactly.
    #[inline]
    pub fn add_product(&mut self, a: f64, b: f64) {
        let (p, e) = two_product(a, b);
        self.add(e);
        self.add(p);
    }

    /// Adds `a * b * c` exactly (up to four doubles).
    #[inline]
    pub fn add_product3(&mut self, a: f64, b: f64, c: f64) {
        let (p, e) = two_product(a, b);
        if e != 0.0 {
            self.add_product(e, c);
        }
        self.add_product(p, c);
    }

    /// Adds another expansion exactly.
    pub fn add_expansion(&mut self, other: &Expansion) {
        for &c in &other.0 {
            self.add(c);
        }
    }

    /// Adds `self * b` for a double `b` into `out`, exactly (non-finite when beyond doubles).
    pub fn add_scaled_into(&self, b: f64, out: &mut Expansion) {
        out.sum_products(self.0.iter().rev().map(|&c| (c, b)));
    }

    /// Replaces `self` by `self + sum a_i b_i`, exactly, through a fixed-point [`Window`]: one
    /// normalization for all the terms instead of growing the expansion term by term. The result
    /// is an infinity when it is beyond doubles or anything was not finite.
    fn sum_products(&mut self, terms: impl Iterator<Item = (f64, f64)> + Clone) {
        if !self.is_finite() || !terms.clone().all(|(a, b)| a.is_finite() && b.is_finite()) {
            *self = Expansion(vec![f64::INFINITY]);
            return;
        }
        let mut acc = Window::<WIDE_WINDOW>::ZERO;
        let one = Parts::of(1.0);
        // Largest first: the window is placed around the first term.
        for &c in self.0.iter().rev() {
            acc.add_product(Parts::of(c), one);
        }
        for (a, b) in terms {
            acc.add_product(Parts::of(a), Parts::of(b));
        }
        *self = acc.expansion().unwrap_or_else(|| Expansion(vec![f64::INFINITY]));
    }

    /// `self * b` exactly.
    pub fn scaled(&self, b: f64) -> Expansion {
        let mut out = Expansion::zero();
        self.add_scaled_into(b, &mut out);
        out
    }

    /// `self * other` exactly.
    pub fn mul(&self, other: &Expansion) -> Expansion {
        let mut out = Expansion::zero();
        out.sum_products(
            other.0.iter().rev().flat_map(|&c| self.0.iter().rev().map(move |&d| (d, c))),
        );
        out
    }

    /// `-self`, exactly.
    pub fn neg(&self) -> Expansion {
        Expansion(self.0.iter().map(|v| -v).collect())
    }

    /// Whether every component is finite (no product or sum overflowed).
    pub fn is_finite(&self) -> bool {
        self.0.iter().all(|v| v.is_finite())
    }

    /// The value rounded to the nearest double, ties to even: a function of the value alone.
    /// Components must be finite.
    pub fn round(&self) -> f64 {
        match self.0.as_slice() {
            [] => 0.0,
            [v] => *v,
            [a, b] => two_sum(*b, *a).0,
            many => Fixed::of(many).round(),
        }
    }

    /// The canonical components of the value, increasing in magnitude: `c1 = round(v)`, `c2 =
    /// round(v - c1)`, ... until nothing is left. Equal values give equal components, whatever
    /// the order of the sums that made them. Components must be finite.
    pub fn canonical(&self) -> Expansion {
        match self.0.as_slice() {
            [] | [_] => self.clone(),
            [a, b] => {
                let (s, e) = two_sum(*b, *a);
                Expansion(if e == 0.0 { vec![s] } else { vec![e, s] })
            }
            many => {
                let mut fixed = Fixed::of(many);
                let mut out = Vec::new();
                loop {
                    let r = fixed.round();
                    if r == 0.0 {
                        break;
                    }
                    out.push(r);
                    fixed.add(-r);
                }
                out.reverse();
                Expansion(out)
            }
        }
    }
}

/// Words of [`Fixed`]: 2,304 bits, bit 0 worth 2^-1074. A finite double reaches bit 2,097; the
/// rest leaves room for the sign and the carries of 2^200 terms.
const WORDS: usize = 36;

/// An exact sum of finite doubles as a two's complement integer times 2^-1074.
#[derive(Clone)]
pub struct Fixed([u64; WORDS]);

impl Fixed {
    pub fn zero() -> Self {
        Fixed([0; WORDS])
    }

    /// The exact sum of finite `values`.
    pub fn of(values: &[f64]) -> Self {
        let mut f = Fixed::zero();
        for &v in values {
            f.add(v);
        }
        f
    }

    /// Adds a finite double exactly.
    pub fn add(&mut self, v: f64) {
        debug_assert!(v.is_finite());
        let bits = v.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as usize;
        let frac = bits & ((1u64 << 52) - 1);
        let (mant, shift) = if exp == 0 { (frac, 0) } else { (frac | (1u64 << 52), exp - 1) };
        if mant == 0 {
            return;
        }
        let (word, bit) = (shift / 64, shift % 64);
        let wide = u128::from(mant) << bit;
        let parts = [wide as u64, (wide >> 64) as u64];
        if v > 0.0 {
            let mut carry = false;
            for (k, w) in self.0[word..].iter_mut().enumerate() {
                let add = parts.get(k).copied().unwrap_or(0);
                let (s1, c1) = w.overflowing_add(add);
                let (s2, c2) = s1.overflowing_add(u64::from(carry));
                *w = s2;
                carry = c1 || c2;
                if k >= 1 && !carry {
                    break;
                }
            }
        } else {
            let mut borrow = false;
            for (k, w) in self.0[word..].iter_mut().enumerate() {
                let sub = parts.get(k).copied().unwrap_or(0);
                let (s1, b1) = w.overflowing_sub(sub);
                let (s2, b2) = s1.overflowing_sub(u64::from(borrow));
                *w = s2;
                borrow = b1 || b2;
                if k >= 1 && !borrow {
                    break;
                }
            }
        }
    }

    fn negative(&self) -> bool {
        self.0[WORDS - 1] >> 63 == 1
    }

    fn bit(&self, i: usize) -> bool {
        (self.0[i / 64] >> (i % 64)) & 1 == 1
    }

    /// The value rounded to the nearest double, ties to even (infinity beyond the largest).
    pub fn round(&self) -> f64 {
        let negative = self.negative();
        let mag = if negative {
            let mut m = Fixed([0; WORDS]);
            let mut carry = true;
            for (o, &w) in m.0.iter_mut().zip(&self.0) {
                let (s, c) = (!w).overflowing_add(u64::from(carry));
                *o = s;
                carry = c;
            }
            m
        } else {
            self.clone()
        };
        let Some(top_word) = (0..WORDS).rev().find(|&k| mag.0[k] != 0) else {
            return 0.0;
        };
        let h = top_word * 64 + 63 - mag.0[top_word].leading_zeros() as usize;
        let magnitude = if h <= 52 {
            // Below 2^-1021: exactly a (sub)normal double.
            let m = mag.0[0];
            m as f64 * f64::from_bits(1)
        } else {
            let low = h - 52; // the lowest bit kept
            let mut top = 0u64;
            for i in (low..=h).rev() {
                top = (top << 1) | u64::from(mag.bit(i));
            }
            let round = mag.bit(low - 1);
            let sticky = low >= 2 && mag.lower_bits_set(low - 1);
            let mut exp = low as i64 - 1074; // value = top * 2^exp
            if round && (sticky || top & 1 == 1) {
                top += 1;
                if top == 1u64 << 53 {
                    top >>= 1;
                    exp += 1;
                }
            }
            let biased = exp + 52 + 1023;
            if biased >= 2047 {
                f64::INFINITY
            } else {
                f64::from_bits(((biased as u64) << 52) | (top & ((1u64 << 52) - 1)))
            }
        };
        if negative {
            -magnitude
        } else {
            magnitude
        }
    }

    /// Whether any bit below bit `i` is set.
    fn lower_bits_set(&self, i: usize) -> bool {
        let (word, bit) = (i / 64, i % 64);
        self.0[..word].iter().any(|&w| w != 0)
            || (bit > 0 && self.0[word] & ((1u64 << bit) - 1) != 0)
    }
}

/// A finite double as `(-1)^neg * m * 2^e`, `m` an integer below 2^53, `e >= -1074`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    m: u64,
    e: i32,
    neg: bool,
}

impl Parts {
    /// The parts of a finite double (zero has `m = 0`).
    #[inline(always)]
    pub fn of(v: f64) -> Parts {
        let bits = v.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as i32;
        let frac = bits & ((1u64 << 52) - 1);
        let (m, e) = if exp == 0 { (frac, -1074) } else { (frac | (1u64 << 52), exp - 1075) };
        Parts { m, e, neg: bits >> 63 == 1 }
    }
}

/// The exact product of two finite doubles, `(-1)^neg * m * 2^e` with `m < 2^106`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Product {
    m: u128,
    e: i32,
    neg: bool,
}

impl Product {
    #[inline(always)]
    pub fn of(a: Parts, b: Parts) -> Product {
        Product { m: u128::from(a.m) * u128::from(b.m), e: a.e + b.e, neg: a.neg != b.neg }
    }
}

/// Digits of an entry's window in [`ProductSums`]: 64-bit positions held in `i128`s, so that
/// carries wait.
const WINDOW: usize = 10;
/// Digits of the window of one [`Expansion`] operation, whose terms spread wider.
const WIDE_WINDOW: usize = 24;
/// Absolute bit 0 is worth 2^-3222, the smallest bit of a product of three doubles.
const ORIGIN: i32 = 3 * 1074;
/// Digits of the whole range: a window's base is at most bit 6,135 (the largest product of three
/// doubles), its digits must fit above it, and the top digit stays free for the sign.
const SPILL_DIGITS: usize = 6_135 / 64 + WIDE_WINDOW + 2;
/// The base of an entry that has no term yet.
const UNSET: i32 = i32::MIN;

/// One exact sum of [`ProductSums`]: a window of fixed-point digits at `base`, the absolute bit
/// of its digit 0 (a multiple of 64), and the digits of the whole range once a term falls outside.
#[derive(Clone)]
struct Window<const W: usize> {
    base: i32,
    digits: [i128; W],
    spill: Option<Box<[i128; SPILL_DIGITS]>>,
}

impl<const W: usize> Window<W> {
    const ZERO: Self = Window { base: UNSET, digits: [0; W], spill: None };
    /// Offsets (bits above the base) at which a term of up to 4 words, the word above it, and the
    /// free top digit fit.
    const REACH: i32 = 64 * (W as i32 - 5);
    /// Bits below the first term that the window holds (as many as above).
    const ANCHOR: i32 = Self::REACH / 2;

    /// Adds `a * b` exactly.
    #[inline(always)]
    fn add_product(&mut self, a: Parts, b: Parts) {
        let m = u128::from(a.m) * u128::from(b.m);
        if m == 0 {
            return;
        }
        let pos = a.e + b.e + ORIGIN;
        self.add_words::<3>(pos, a.neg != b.neg, [m as u64, (m >> 64) as u64, 0]);
    }

    /// Adds `(-1)^neg * t * 2^(pos - ORIGIN)` (`t` of at most `N` words once shifted).
    #[inline(always)]
    fn add_words<const N: usize>(&mut self, pos: i32, neg: bool, t: [u64; 3]) {
        if self.base == UNSET {
            self.base = (pos - Self::ANCHOR).max(0) & !63;
        }
        let rel = pos - self.base;
        if (0..Self::REACH).contains(&rel) {
            add_at::<N>(&mut self.digits, rel, neg, t);
        } else {
            let spill = self.spill.get_or_insert_with(|| Box::new([0; SPILL_DIGITS]));
            add_at::<N>(&mut spill[..], pos, neg, t);
        }
    }

    /// See [`ProductSums::expansion`].
    fn expansion(&self) -> Option<Expansion> {
        if self.base == UNSET {
            return Some(Expansion::zero());
        }
        match &self.spill {
            None => to_expansion(&self.digits, self.base),
            Some(spill) => {
                let mut all = spill.clone();
                let first = (self.base / 64) as usize;
                for (a, d) in all[first..].iter_mut().zip(&self.digits) {
                    *a += d;
                }
                to_expansion(&all, 0)
            }
        }
    }
}

/// Exact sums of products of two or three doubles, one per entry, in fixed point: every product
/// is an integer times 2^-3222. Each entry keeps a window of ten 64-bit digits around the
/// exponents of its first term (160 bits below it, 160 above); a product is added as its
/// shifted integer mantissa, a few integer additions into the window's digits with the carries
/// left for later (a digit is an `i128`, room for 2^62 additions). The rare term outside the
/// window goes into a digit array over the whole range, kept for that entry alone. Nothing is
/// rounded, so a sum is the same whatever the order of its terms; [`ProductSums::expansion`]
/// gives it as an [`Expansion`] that depends on the value only.
#[derive(Clone)]
pub struct ProductSums {
    windows: Vec<Window<WINDOW>>,
}

impl ProductSums {
    /// `entries` sums of zero.
    pub fn new(entries: usize) -> Self {
        ProductSums { windows: vec![Window::ZERO; entries] }
    }

    /// Adds `a * b` to entry `k` exactly.
    #[inline(always)]
    pub fn add_product(&mut self, k: usize, a: Parts, b: Parts) {
        self.windows[k].add_product(a, b);
    }

    /// Adds `a * b` to entry `k` exactly, `a` itself an exact product.
    #[inline(always)]
    pub fn add_product3(&mut self, k: usize, a: Product, b: Parts) {
        let lo = u128::from(a.m as u64) * u128::from(b.m);
        let hi = (a.m >> 64) * u128::from(b.m); // below 2^95
        if lo == 0 && hi == 0 {
            return;
        }
        let (t1, carry) = ((lo >> 64) as u64).overflowing_add(hi as u64);
        let t2 = ((hi >> 64) as u64) + u64::from(carry);
        self.add_words::<4>(k, a.e + b.e + ORIGIN, a.neg != b.neg, [lo as u64, t1, t2]);
    }

    /// Adds one row's `w z_a z_b` for every `a <= b`, entry `k` the `k`-th pair in row-major
    /// upper-triangle order (`w`: `None` for 1).
    #[inline]
    pub fn add_row(&mut self, z: &[Parts], w: Option<Parts>) {
        let mut k = 0;
        match w {
            None => {
                for (a, &za) in z.iter().enumerate() {
                    for &zb in &z[a..] {
                        self.add_product(k, za, zb);
                        k += 1;
                    }
                }
            }
            Some(w) => {
                for (a, &za) in z.iter().enumerate() {
                    let wa = Product::of(w, za);
                    for &zb in &z[a..] {
                        self.add_product3(k, wa, zb);
                        k += 1;
                    }
                }
            }
        }
    }

    /// Adds the unweighted moments of the rows of `cols` (finite values, equal lengths): for every
    /// `a <= b` in row-major upper-triangle order, `sum_i z_a z_b` with `z = (1, cols[0][i], ..)`.
    ///
    /// Each column is put in fixed point at a scale of its own, 2^10 below its largest value's
    /// last bit: a value is then an integer `M` with `|M| < 2^63` unless it is more than 2^10 times
    /// smaller than that value's magnitude (roughly). A row with such a value is added term by term
    /// ([`ProductSums::add_row`]); the others by integer dot products of the columns (`i64 * i64`
    /// into 192 bits), one sum per entry at the product of the scales.
    pub fn add_moments(&mut self, cols: &[Vec<f64>]) {
        let n = cols.first().map_or(0, Vec::len);
        let scales: Vec<i32> = cols
            .iter()
            .map(|col| {
                let top = col.iter().filter(|v| **v != 0.0).map(|&v| Parts::of(v).e).max();
                top.unwrap_or(0) - 10
            })
            .collect();
        let mut slow = vec![false; n];
        for (col, &scale) in cols.iter().zip(&scales) {
            for (s, &v) in slow.iter_mut().zip(col) {
                *s |= v != 0.0 && Parts::of(v).e < scale;
            }
        }
        let ints: Vec<Vec<i64>> = cols
            .iter()
            .zip(&scales)
            .map(|(col, &scale)| {
                col.iter()
                    .zip(&slow)
                    .map(|(&v, &s)| {
                        let p = Parts::of(v);
                        if s || p.m == 0 {
                            return 0;
                        }
                        let m = (p.m << (p.e - scale)) as i64;
                        if p.neg {
                            -m
                        } else {
                            m
                        }
                    })
                    .collect()
            })
            .collect();
        let mut parts = vec![Parts::of(1.0); cols.len() + 1];
        let mut fast = 0i64;
        for (i, &s) in slow.iter().enumerate() {
            if !s {
                fast += 1;
                continue;
            }
            for (part, col) in parts[1..].iter_mut().zip(cols) {
                *part = Parts::of(col[i]);
            }
            self.add_row(&parts, None);
        }
        let mut k = 0;
        self.add_int(k, 0, fast as u128, 0);
        k += 1;
        for (col, &scale) in ints.iter().zip(&scales) {
            let sum: i128 = col.iter().map(|&v| i128::from(v)).sum();
            self.add_int(k, (sum >> 127) as i64, sum as u128, scale);
            k += 1;
        }
        for (a, (xa, &sa)) in ints.iter().zip(&scales).enumerate() {
            for (xb, &sb) in ints[a..].iter().zip(&scales[a..]) {
                let (hi, lo) = dot(xa, xb);
                self.add_int(k, hi, lo, sa + sb);
                k += 1;
            }
        }
    }

    /// Adds `(hi 2^128 + lo) * 2^e`, a 192-bit two's complement integer below 2^190 in magnitude,
    /// to entry `k`.
    #[inline]
    fn add_int(&mut self, k: usize, hi: i64, lo: u128, e: i32) {
        if hi == 0 && lo == 0 {
            return;
        }
        let neg = hi < 0;
        let (lo, hi) = if neg {
            let (l, c) = (!lo).overflowing_add(1);
            (l, (!hi as u64).wrapping_add(u64::from(c)))
        } else {
            (lo, hi as u64)
        };
        self.add_words::<4>(k, e + ORIGIN, neg, [lo as u64, (lo >> 64) as u64, hi]);
    }

    /// Adds `(-1)^neg * t * 2^(pos - ORIGIN)` (`t` of at most `N` words once shifted) to entry `k`.
    #[inline(always)]
    fn add_words<const N: usize>(&mut self, k: usize, pos: i32, neg: bool, t: [u64; 3]) {
        self.windows[k].add_words::<N>(pos, neg, t);
    }

    /// The exact sum of entry `k` as an expansion: its bits cut into runs of 53 from the top,
    /// each run a double, so a function of the value alone. Bits below 2^-1074, which no double
    /// holds, are dropped. `None` when the sum's magnitude is 2^1024 or more.
    pub fn expansion(&self, k: usize) -> Option<Expansion> {
        self.windows[k].expansion()
    }
}

/// `sum_i x_i y_i` exactly, as a 192-bit two's complement integer `hi 2^128 + lo` (at most 2^62
/// terms).
#[inline]
fn dot(x: &[i64], y: &[i64]) -> (i64, u128) {
    let (mut hi, mut lo) = (0i64, 0u128);
    for (&a, &b) in x.iter().zip(y) {
        let p = i128::from(a) * i128::from(b);
        let (s, c) = lo.overflowing_add(p as u128);
        lo = s;
        hi += i64::from(c) - i64::from(p < 0);
    }
    (hi, lo)
}

/// Adds `(-1)^neg * (t << rel)` into `digits` at word `rel / 64`: `N` words and the one above.
/// Without a branch on the sign, which is random in data: `-x` is added as the complement of
/// each word, plus one, minus `2^(64 N)`.
#[inline(always)]
fn add_at<const N: usize>(digits: &mut [i128], rel: i32, neg: bool, t: [u64; 3]) {
    let word = (rel >> 6) as usize;
    let bit = (rel & 63) as u32;
    let lo = ((u128::from(t[1]) << 64) | u128::from(t[0])) << bit;
    let hi = ((u128::from(t[2]) << 64) | u128::from(t[1])) << bit;
    let top = (u128::from(t[2]) << bit) >> 64;
    let words = [lo as u64, (lo >> 64) as u64, (hi >> 64) as u64, top as u64];
    let mask = 0u64.wrapping_sub(u64::from(neg));
    let one = i128::from(neg);
    let d = &mut digits[word..=word + N];
    for (d, &s) in d.iter_mut().zip(&words[..N]) {
        *d += i128::from(s ^ mask);
    }
    d[0] += one;
    d[N] -= one;
}

/// `c * 2^k` for `c < 2^53` and `-1074 <= k`, `c * 2^k < 2^1024`: exact.
fn scaled(c: u64, k: i32) -> f64 {
    let pow2 = |k: i32| f64::from_bits(((k + 1023) as u64) << 52);
    if k >= -1022 {
        c as f64 * pow2(k)
    } else {
        c as f64 * pow2(k + 1074) * f64::from_bits(1)
    }
}

/// The value `sum digits[i] 2^(64 i) * 2^(base - ORIGIN)` as an expansion (see
/// [`ProductSums::expansion`]).
/// The top digit is free (no term reaches it), so that it takes the sign.
fn to_expansion<const N: usize>(digits: &[i128; N], base: i32) -> Option<Expansion> {
    let n = N;
    let mut words = [0u64; N];
    let mut carry: i128 = 0;
    for (w, &d) in words.iter_mut().zip(digits) {
        let s = d + carry;
        *w = s as u64;
        carry = s >> 64;
    }
    // The digits hold far less than 2^126 each and the top one nothing: what carries out of it
    // is the sign, which its bits already hold.
    let negative = carry < 0;
    if negative {
        let mut c = true;
        for w in words.iter_mut() {
            let (s, o) = (!*w).overflowing_add(u64::from(c));
            *w = s;
            c = o;
        }
    }
    let off = base - ORIGIN; // the value is the words' integer times 2^off
    let mut out = Vec::new();
    let mut top = n - 1;
    loop {
        while top > 0 && words[top] == 0 {
            top -= 1;
        }
        if words[top] == 0 {
            break;
        }
        let h = (top * 64 + 63 - words[top].leading_zeros() as usize) as i32;
        if h + off >= 1024 {
            return None;
        }
        if h + off < -1074 {
            break;
        }
        let low = (h - 52).max(-1074 - off).max(0) as usize;
        let (wl, bl) = (low / 64, low % 64);
        let mut c = words[wl] >> bl;
        if bl > 0 && wl < top {
            c |= words[wl + 1] << (64 - bl);
        }
        c &= (1u64 << (h as usize - low + 1)) - 1;
        words[wl] &= (1u64 << bl) - 1;
        for w in &mut words[wl + 1..=top] {
            *w = 0;
        }
        let v = scaled(c, low as i32 + off);
        out.push(if negative { -v } else { v });
    }
    out.reverse();
    Some(Expansion(out))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// Small dyadic numbers `k / 2^s` with `|k| < 2^20`, `s < 20`: their products of three and
    /// sums fit an i128 at scale 2^-60, an independent exact reference.
    fn dyadic(rng: &mut Rng) -> (f64, i128) {
        let k = (rng.next_u64() % (1 << 20)) as i64 - (1 << 19);
        let s = rng.next_u64() % 20;
        (k as f64 / (1u64 << s) as f64, i128::from(k) << (20 - s))
    }

    /// `v * 2^-scale` rounded to the nearest double, ties to even, by integer arithmetic.
    fn reference_round(v: i128, scale: i32) -> f64 {
        // v * 2^-scale; |v| < 2^126. Round by hand: find the top bit, keep 53 bits, ties to even.
        if v == 0 {
            return 0.0;
        }
        let neg = v < 0;
        let m = v.unsigned_abs();
        let h = 127 - m.leading_zeros() as i32;
        let (mut top, mut exp) = if h <= 52 {
            (m as u64, -scale)
        } else {
            let low = h - 52;
            let top = (m >> low) as u64;
            let rem = m & ((1u128 << low) - 1);
            let half = 1u128 << (low - 1);
            let up = rem > half || (rem == half && top & 1 == 1);
            (top + u64::from(up), low - scale)
        };
        if top == 1 << 53 {
            top >>= 1;
            exp += 1;
        }
        let r = top as f64 * 2f64.powi(exp);
        if neg {
            -r
        } else {
            r
        }
    }

    #[test]
    fn sums_of_products_match_an_integer_reference_in_any_order() {
        let mut rng = Rng::new(7);
        for trial in 0..300 {
            let n = 1 + (rng.next_u64() % 60) as usize;
            let terms: Vec<[(f64, i128); 3]> =
                (0..n).map(|_| [dyadic(&mut rng), dyadic(&mut rng), dyadic(&mut rng)]).collect();
            // scale: each factor at 2^-20, three factors: 2^-60.
            let exact: i128 = terms.iter().map(|t| t[0].1 * t[1].1 * t[2].1).sum();
            let mut forward = Expansion::zero();
            for t in &terms {
                forward.add_product3(t[0].0, t[1].0, t[2].0);
            }
            let mut backward = Expansion::zero();
            for t in terms.iter().rev() {
                backward.add_product3(t[2].0, t[0].0, t[1].0);
            }
            let want = reference_round(exact, 60);
            assert_eq!(forward.round().to_bits(), want.to_bits(), "trial {trial}");
            assert_eq!(backward.round().to_bits(), want.to_bits(), "trial {trial}");
            assert_eq!(forward.canonical(), backward.canonical(), "trial {trial}");
            // The canonical components sum back to the value.
            let back: i128 = forward
                .canonical()
                .components()
                .iter()
                .map(|c| {
                    let scaled = c * 2f64.powi(60);
                    assert_eq!(scaled.fract(), 0.0);
                    scaled as i128
                })
                .sum();
            assert_eq!(back, exact, "trial {trial}");
        }
    }

    /// Doubles of every kind a column may hold: mixed signs, zeros, magnitudes from subnormal to
    /// 1e300, and runs of similar values (so that the dot products and the windows both work).
    fn wild(rng: &mut Rng) -> f64 {
        let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let sign = if rng.next_u64() & 1 == 0 { 1.0 } else { -1.0 };
        sign * match rng.next_u64() % 10 {
            0 => 0.0,
            1 => u * 1e-3,
            2 => u * 2f64.powi(-1060), // subnormal products: bits below 2^-1074
            3 => u * 1e150,
            4 => (rng.next_u64() % 1000) as f64,
            _ => 1.0 + u,
        }
    }

    /// An expansion's exact value as a `Fixed` (the reference: Grow-Expansion sums, in `Fixed`).
    fn reference(rows: &[Vec<f64>], w: Option<&[f64]>) -> Vec<Expansion> {
        let d = rows[0].len();
        let mut out = vec![Expansion::zero(); d * (d + 1) / 2];
        for (i, z) in rows.iter().enumerate() {
            let mut k = 0;
            for a in 0..d {
                for b in a..d {
                    match w {
                        None => out[k].add_product(z[a], z[b]),
                        Some(w) => out[k].add_product3(w[i], z[a], z[b]),
                    }
                    k += 1;
                }
            }
        }
        out
    }

    #[test]
    fn product_sums_are_exact_whatever_the_path_and_order() {
        let mut rng = Rng::new(11);
        for trial in 0..200 {
            let n = 1 + (rng.next_u64() % 40) as usize;
            let q = 1 + (rng.next_u64() % 4) as usize;
            // Columns of one kind each, or wild: the fast dot products, the slow rows, the spills.
            let kinds: Vec<u64> = (0..q).map(|_| rng.next_u64() % 3).collect();
            let rows: Vec<Vec<f64>> = (0..n)
                .map(|_| {
                    let mut z = vec![1.0];
                    for &kind in &kinds {
                        let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                        z.push(match kind {
                            0 => u - 0.5,
                            1 => (u - 0.5) * 1e6,
                            _ => wild(&mut rng),
                        });
                    }
                    z
                })
                .collect();
            let w: Vec<f64> = (0..n).map(|_| wild(&mut rng).abs()).collect();
            let entries = (q + 1) * (q + 2) / 2;
            let cols: Vec<Vec<f64>> =
                (1..=q).map(|c| rows.iter().map(|z| z[c]).collect()).collect();
            let mut moments = ProductSums::new(entries);
            moments.add_moments(&cols);
            let (mut forward, mut backward) =
                (ProductSums::new(entries), ProductSums::new(entries));
            let (mut weighted, mut weighted_back) =
                (ProductSums::new(entries), ProductSums::new(entries));
            let parts = |z: &Vec<f64>| z.iter().map(|&v| Parts::of(v)).collect::<Vec<_>>();
            for (z, &wi) in rows.iter().zip(&w) {
                forward.add_row(&parts(z), None);
                weighted.add_row(&parts(z), Some(Parts::of(wi)));
            }
            for (z, &wi) in rows.iter().zip(&w).rev() {
                backward.add_row(&parts(z), None);
                weighted_back.add_row(&parts(z), Some(Parts::of(wi)));
            }
            let plain = reference(&rows, None);
            let heavy = reference(&rows, Some(&w));
            for k in 0..entries {
                let e = moments.expansion(k).unwrap();
                // A function of the value: the same components on every path and order.
                assert_eq!(Some(&e), forward.expansion(k).as_ref(), "trial {trial} entry {k}");
                assert_eq!(Some(&e), backward.expansion(k).as_ref(), "trial {trial} entry {k}");
                // Weights up to 1e150 times squares up to 1e300 may be beyond doubles: `None`.
                let ew = weighted.expansion(k);
                assert_eq!(ew, weighted_back.expansion(k), "trial {trial} {k}");
                // Against the expansions, which lose only error terms below 2^-1022: the same
                // rounded value whenever no product is that small.
                let tiny = |v: f64| v != 0.0 && v.abs() < 1e-280;
                if !rows.iter().flatten().any(|&v| tiny(v)) {
                    assert_eq!(e.round().to_bits(), plain[k].round().to_bits(), "{trial} {k}");
                    assert_eq!(e.canonical(), plain[k].canonical(), "trial {trial} entry {k}");
                    match &ew {
                        Some(ew) if !w.iter().any(|&v| tiny(v)) => {
                            assert_eq!(ew.canonical(), heavy[k].canonical(), "trial {trial} {k}")
                        }
                        Some(_) => {}
                        None => assert!(!heavy[k].is_finite(), "trial {trial} entry {k}"),
                    }
                }
                // Nonoverlapping components, increasing in magnitude.
                for pair in e.components().windows(2) {
                    assert!(pair[0].abs() < pair[1].abs() * f64::EPSILON, "{:?}", e);
                }
            }
        }
    }

    #[test]
    fn product_sums_of_integers_match_an_integer_reference() {
        let mut rng = Rng::new(5);
        for _ in 0..100 {
            let n = 1 + (rng.next_u64() % 300) as usize;
            let terms: Vec<[(f64, i128); 2]> =
                (0..n).map(|_| [dyadic(&mut rng), dyadic(&mut rng)]).collect();
            let exact: i128 = terms.iter().map(|t| t[0].1 * t[1].1).sum();
            let cols = vec![
                terms.iter().map(|t| t[0].0).collect(),
                terms.iter().map(|t| t[1].0).collect(),
            ];
            let mut s = ProductSums::new(6);
            s.add_moments(&cols);
            // Entry (1, 2): sum of x y, at scale 2^-40.
            assert_eq!(
                s.expansion(4).unwrap().round().to_bits(),
                reference_round(exact, 40).to_bits()
            );
            assert_eq!(s.expansion(0).unwrap().components(), &[n as f64]);
        }
    }

    #[test]
    fn product_sums_report_magnitudes_beyond_doubles_and_drop_bits_below_them() {
        let mut s = ProductSums::new(3);
        s.add_moments(&[vec![1e200, 1.0]]);
        assert_eq!(s.expansion(1).unwrap().round(), 1e200 + 1.0);
        assert_eq!(s.expansion(2), None, "1e400 is no double");
        // Squares that cancel: exact, whatever they pass through.
        let mut s = ProductSums::new(3);
        s.add_row(&[Parts::of(1.0), Parts::of(1e200)], None);
        s.add_row(&[Parts::of(1.0), Parts::of(-1e200)], Some(Parts::of(-1.0)));
        assert_eq!(s.expansion(2), Some(Expansion::zero()));
        assert_eq!(s.expansion(1).unwrap().round(), 2e200);
        // 2^-1074 squared: below every double, dropped.
        let mut s = ProductSums::new(3);
        s.add_moments(&[vec![f64::from_bits(1), 0.5]]);
        assert_eq!(s.expansion(2).unwrap().components(), &[0.25]);
    }

    #[test]
    fn cancellation_is_exact() {
        let mut e = Expansion::zero();
        e.add(1e300);
        e.add(1.0);
        e.add(-1e300);
        e.add(1e-300);
        assert_eq!(e.round(), 1.0);
        assert_eq!(e.canonical().components(), &[1e-300, 1.0]);
        let mut sq = Expansion::zero();
        // (1e8 + 1)^2 - 1e16 - 2e8 = 1, which plain doubles lose.
        sq.add_product(1e8 + 1.0, 1e8 + 1.0);
        sq.add(-1e16);
        sq.add(-2e8);
        assert_eq!(sq.round(), 1.0);
    }

    #[test]
    fn rounding_ties_go_to_even_and_overflow_to_infinity() {
        // 1 + 2^-53 is a tie between 1 and 1 + 2^-52: even is 1. With 2^-100 more, up.
        let t = Fixed::of(&[1.0, 2f64.powi(-53)]);
        assert_eq!(t.round(), 1.0);
        let t = Fixed::of(&[1.0, 2f64.powi(-53), 2f64.powi(-100)]);
        assert_eq!(t.round(), 1.0 + f64::EPSILON);
        let t = Fixed::of(&[1.0 + f64::EPSILON, 2f64.powi(-53)]);
        assert_eq!(t.round(), 1.0 + 2.0 * f64::EPSILON);
        assert_eq!(Fixed::of(&[-1.0, -(2f64.powi(-53))]).round(), -1.0);
        assert_eq!(Fixed::of(&[f64::MAX, f64::MAX]).round(), f64::INFINITY);
        assert_eq!(Fixed::of(&[-f64::MAX, -f64::MAX]).round(), f64::NEG_INFINITY);
        assert_eq!(Fixed::of(&[f64::MAX, -f64::MAX]).round(), 0.0);
        let tiny = f64::from_bits(3);
        assert_eq!(Fixed::of(&[tiny, -f64::from_bits(1)]).round(), f64::from_bits(2));
        assert_eq!(Fixed::of(&[-0.5, 0.25]).round(), -0.25);
    }
}
