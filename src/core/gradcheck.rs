//! Finite-difference checks of gradients and Jacobians.
//!
//! Centred differences ∂f/∂θᵢ ≈ (f(θ + h eᵢ) − f(θ − h eᵢ)) / 2h, error O(h²)
//! (ps2 describes the one-sided (f(θ + ε) − f(θ))/ε, error O(ε); the centred
//! form is the more accurate of the two at the same cost order).
//! Comparison: one relative error, CS231n's |a − b| / max(1e-8, |a| + |b|).
//! For one pair it is [`rel_error_scalar`] (the last column of a check table);
//! over whole arrays it is [`rel_error`], the largest |a − b| over the largest
//! |a| + |b| (so an entry of 1e-9 that differs by 1e-13, the finite-difference
//! noise floor, does not dominate). ps2's own test is the ratio
//! backprop / finite difference ∈ [0.99, 1.01] ([`CheckRow::ratio_ok`]).

use crate::core::error::{ensure_param, ensure_shape, Result};
use ndarray::{Array1, ArrayD, Dimension, IxDyn};

/// Which centred-difference formula to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stencil {
    /// (f(θ+h) − f(θ−h)) / 2h, error O(h²); use h ≈ 1e-5.
    Two,
    /// (−f(θ+2h) + 8f(θ+h) − 8f(θ−h) + f(θ−2h)) / 12h, error O(h⁴); use h ≈ 1e-3.
    Four,
}

impl Stencil {
    /// (k, weight) pairs; the derivative is Σ weight·(f(θ + k h) − f(θ − k h)) / h.
    /// Differencing symmetric pairs first makes a constant f give exactly 0.
    fn taps(self) -> &'static [(f64, f64)] {
        match self {
            Stencil::Two => &[(1.0, 0.5)],
            Stencil::Four => &[(1.0, 8.0 / 12.0), (2.0, -1.0 / 12.0)],
        }
    }
}

/// Finite-difference Jacobian of a vector function f: θ ↦ ℝᵐ with respect to
/// each parameter array: for a parameter of shape S the result has shape (m, S…),
/// entry [k, i…] = ∂fₖ/∂θᵢ.
pub fn numerical_jacobian(
    params: &[ArrayD<f64>],
    h: f64,
    stencil: Stencil,
    f: impl Fn(&[ArrayD<f64>]) -> Array1<f64>,
) -> Result<Vec<ArrayD<f64>>> {
    ensure_param(h > 0.0 && h.is_finite(), "h", h, "the step must be positive and finite")?;
    let m = f(params).len();
    let mut work: Vec<ArrayD<f64>> = params.to_vec();
    let mut out = Vec::with_capacity(params.len());
    for p in 0..params.len() {
        let mut shape = vec![m];
        shape.extend_from_slice(params[p].shape());
        let mut jac = ArrayD::zeros(IxDyn(&shape));
        let indices: Vec<IxDyn> = params[p].indexed_iter().map(|(i, _)| i).collect();
        for idx in indices {
            let orig = work[p][&idx];
            let mut d = Array1::<f64>::zeros(m);
            for &(k, weight) in stencil.taps() {
                work[p][&idx] = orig + k * h;
                let up = f(&work);
                work[p][&idx] = orig - k * h;
                let down = f(&work);
                d.scaled_add(weight / h, &(up - down));
            }
            work[p][&idx] = orig;
            for k in 0..m {
                let mut full = vec![k];
                full.extend_from_slice(idx.slice());
                jac[IxDyn(&full)] = d[k];
            }
        }
        out.push(jac);
    }
    Ok(out)
}

/// Finite-difference gradient of a scalar function of several parameter arrays:
/// one array per parameter, of the same shape, holding ∂f/∂θ.
pub fn numerical_gradient(
    params: &[ArrayD<f64>],
    h: f64,
    stencil: Stencil,
    f: impl Fn(&[ArrayD<f64>]) -> f64,
) -> Result<Vec<ArrayD<f64>>> {
    let jac = numerical_jacobian(params, h, stencil, |p| Array1::from_elem(1, f(p)))?;
    Ok(jac.into_iter().map(|j| j.index_axis_move(ndarray::Axis(0), 0)).collect())
}

/// |a − b| / max(1e-8, |a| + |b|) for one pair.
pub fn rel_error_scalar(a: f64, b: f64) -> f64 {
    (a - b).abs() / (a.abs() + b.abs()).max(1e-8)
}

/// max|a − b| / max(1e-8, max(|a| + |b|)) over all entries of two arrays of the same shape.
pub fn rel_error(a: &ArrayD<f64>, b: &ArrayD<f64>) -> Result<f64> {
    ensure_shape(a.shape() == b.shape(), || format!("rel_error: shapes {:?} and {:?} differ", a.shape(), b.shape()))?;
    Ok(pairs_rel_error(a.iter().copied().zip(b.iter().copied())))
}

fn pairs_rel_error(pairs: impl Iterator<Item = (f64, f64)>) -> f64 {
    let (diff, scale) = pairs.fold((0.0_f64, 0.0_f64), |(d, s), (x, y)| (d.max((x - y).abs()), s.max(x.abs() + y.abs())));
    diff / scale.max(1e-8)
}

/// One scalar parameter in a check.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckRow {
    /// Parameter name, e.g. "W1".
    pub name: String,
    /// Index inside the parameter.
    pub index: Vec<usize>,
    /// The value from backpropagation.
    pub backprop: f64,
    /// The finite-difference estimate.
    pub numeric: f64,
}

/// Below this magnitude both values count as zero in the ratio test
/// (a ratio of two rounding errors means nothing).
pub const ZERO_TOL: f64 = 1e-7;

impl CheckRow {
    /// backprop / finite difference, or `None` when both are below [`ZERO_TOL`].
    pub fn ratio(&self) -> Option<f64> {
        if self.backprop.abs() < ZERO_TOL && self.numeric.abs() < ZERO_TOL {
            None
        } else {
            Some(self.backprop / self.numeric)
        }
    }

    /// The entry's name: the parameter and its index, e.g. "W1[0, 1]".
    pub fn label(&self) -> String {
        format!("{}{:?}", self.name, self.index)
    }

    /// ps2's test: ratio in [lo, hi], or both values ~0.
    pub fn ratio_ok(&self, lo: f64, hi: f64) -> bool {
        match self.ratio() {
            None => true,
            Some(r) => r >= lo && r <= hi,
        }
    }

    /// |a − b| / max(1e-8, |a| + |b|).
    pub fn rel_error(&self) -> f64 {
        rel_error_scalar(self.backprop, self.numeric)
    }
}

/// Backprop against finite differences, entry by entry.
#[derive(Clone, Debug, PartialEq)]
pub struct GradCheck {
    /// One row per scalar parameter, in parameter order then row-major index order.
    pub rows: Vec<CheckRow>,
}

impl GradCheck {
    /// Pairs analytic and numeric arrays (same names order and shapes).
    pub fn compare(names: &[impl AsRef<str>], analytic: &[ArrayD<f64>], numeric: &[ArrayD<f64>]) -> Result<Self> {
        ensure_shape(names.len() == analytic.len() && analytic.len() == numeric.len(), || {
            format!("{} names, {} analytic and {} numeric arrays", names.len(), analytic.len(), numeric.len())
        })?;
        let mut rows = Vec::new();
        for ((name, a), n) in names.iter().zip(analytic).zip(numeric) {
            ensure_shape(a.shape() == n.shape(), || {
                format!("{}: backprop shape {:?} but finite-difference shape {:?}", name.as_ref(), a.shape(), n.shape())
            })?;
            for ((idx, &av), &nv) in a.indexed_iter().zip(n.iter()) {
                rows.push(CheckRow { name: name.as_ref().to_string(), index: idx.slice().to_vec(), backprop: av, numeric: nv });
            }
        }
        Ok(GradCheck { rows })
    }

    /// max|backprop − numeric| / max(1e-8, max(|backprop| + |numeric|)) over all rows.
    pub fn rel_error(&self) -> f64 {
        pairs_rel_error(self.rows.iter().map(|r| (r.backprop, r.numeric)))
    }

    /// Largest absolute difference.
    pub fn max_abs_diff(&self) -> f64 {
        self.rows.iter().map(|r| (r.backprop - r.numeric).abs()).fold(0.0, f64::max)
    }

    /// True when every row passes ps2's ratio test with bounds [lo, hi].
    pub fn ratios_ok(&self, lo: f64, hi: f64) -> bool {
        self.rows.iter().all(|r| r.ratio_ok(lo, hi))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn differences_of_a_known_function() {
        // f(a, b) = a0² b + sin(a1), ∂f/∂a = [2 a0 b, cos a1], ∂f/∂b = a0²
        let a = array![1.5, -0.3].into_dyn();
        let b = array![2.0].into_dyn();
        let g = numerical_gradient(&[a.clone(), b.clone()], 1e-5, Stencil::Two, |p| p[0][[0]].powi(2) * p[1][[0]] + p[0][[1]].sin()).unwrap();
        assert!((g[0][[0]] - 2.0 * 1.5 * 2.0).abs() < 1e-9);
        assert!((g[0][[1]] - (-0.3_f64).cos()).abs() < 1e-9);
        assert!((g[1][[0]] - 2.25).abs() < 1e-9);
        let j = numerical_jacobian(std::slice::from_ref(&a), 1e-5, Stencil::Two, |p| array![p[0][[0]] * p[0][[1]], p[0][[0]]]).unwrap();
        assert_eq!(j[0].shape(), &[2, 2]);
        assert!((j[0][[0, 0]] + 0.3).abs() < 1e-9 && (j[0][[0, 1]] - 1.5).abs() < 1e-9);
        assert!((j[0][[1, 0]] - 1.0).abs() < 1e-9 && j[0][[1, 1]].abs() < 1e-9);
        // the fourth-order stencil is exact to ~1e-12 on a smooth function
        let g4 = numerical_gradient(&[a], 1e-3, Stencil::Four, |p| p[0][[0]].exp() * p[0][[1]].sin()).unwrap();
        assert!((g4[0][[0]] - 1.5_f64.exp() * (-0.3_f64).sin()).abs() < 1e-11);
        assert!((g4[0][[1]] - 1.5_f64.exp() * (-0.3_f64).cos()).abs() < 1e-11);
    }

    #[test]
    fn relative_errors() {
        // powers of two, so every difference below is exact
        let (e20, e33, e40) = (0.5f64.powi(20), 0.5f64.powi(33), 0.5f64.powi(40));
        let a = ndarray::array![1.0, e20].into_dyn();
        let b = ndarray::array![1.0 + e33, e20 + e40].into_dyn();
        assert_eq!(rel_error(&a, &b).unwrap(), e33 / (2.0 + e33));
        let c = GradCheck::compare(&["a"], &[a], &[b]).unwrap();
        assert_eq!(c.rel_error(), e33 / (2.0 + e33));
        // per entry, the small second entry would dominate: 2^-40 / (2^-19 + 2^-40) ≈ 4.8e-7
        assert_eq!(c.rows[1].rel_error(), e40 / (2.0 * e20 + e40));
        assert_eq!(c.rows[1].label(), "a[1]");
        assert_eq!(rel_error_scalar(1.0, 3.0), 0.5);
    }

    #[test]
    fn ratio_rules() {
        let r = CheckRow { name: "W".into(), index: vec![0], backprop: 1.0, numeric: 1.005 };
        assert!(r.ratio_ok(0.99, 1.01));
        let r = CheckRow { name: "W".into(), index: vec![0], backprop: 1.0, numeric: 1.05 };
        assert!(!r.ratio_ok(0.99, 1.01));
        let r = CheckRow { name: "W".into(), index: vec![0], backprop: 0.0, numeric: 1e-11 };
        assert!(r.ratio().is_none() && r.ratio_ok(0.99, 1.01));
        let r = CheckRow { name: "W".into(), index: vec![0], backprop: 0.0, numeric: 1e-3 };
        assert!(!r.ratio_ok(0.99, 1.01));
    }

    #[test]
    fn errors() {
        let e = numerical_gradient(&[], 0.0, Stencil::Two, |_| 0.0).unwrap_err().to_string();
        assert_eq!(e, "invalid hyperparameter h = 0: the step must be positive and finite");
        let e = GradCheck::compare(&["W"], &[array![1.0].into_dyn()], &[array![1.0, 2.0].into_dyn()]).unwrap_err().to_string();
        assert_eq!(e, "shape mismatch: W: backprop shape [1] but finite-difference shape [2]");
    }
}
