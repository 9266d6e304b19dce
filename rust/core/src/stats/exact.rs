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

    /// Adds `self_other * b` for a double `b` into `out`, exactly.
    pub fn add_scaled_into(&self, b: f64, out: &mut Expansion) {
        for &c in &self.0 {
            out.add_product(c, b);
        }
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
        for &c in &other.0 {
            self.add_scaled_into(c, &mut out);
        }
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
