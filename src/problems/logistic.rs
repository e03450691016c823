//! Regularised logistic regression (ps5, part 2).
//!
//! L(β) = −Σᵢ [yᵢ log σ(xᵢᵀβ) + (1 − yᵢ) log(1 − σ(xᵢᵀβ))] + λ βᵀβ,
//! ∇L(β) = Xᵀ(σ(Xβ) − y) + 2λβ,  ∇²L(β) = Xᵀ S X + 2λ I with S = diag(σᵢ(1 − σᵢ)).
//! X is n × d (one example per row), y ∈ {0, 1}ⁿ, β ∈ ℝᵈ.

use crate::core::activation::{log_sigmoid, sigmoid};
use crate::core::error::{ensure_finite, ensure_param, ensure_shape, Error, Result};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

fn check(x: &ArrayView2<f64>, y: &ArrayView1<f64>, beta: &ArrayView1<f64>, lambda: f64) -> Result<()> {
    if x.nrows() == 0 {
        return Err(Error::Empty("X has no rows (examples)".into()));
    }
    ensure_shape(x.nrows() == y.len(), || format!("X has {} rows but y has {} labels", x.nrows(), y.len()))?;
    ensure_shape(x.ncols() == beta.len(), || format!("X has {} columns but beta has {} entries", x.ncols(), beta.len()))?;
    ensure_shape(y.iter().all(|&v| v == 0.0 || v == 1.0), || "y must contain only 0 and 1".into())?;
    ensure_param(lambda.is_finite() && lambda >= 0.0, "lambda", lambda, "must be finite and >= 0")?;
    ensure_finite(x.iter(), "X")?;
    ensure_finite(beta.iter(), "beta")
}

/// L(β), with log σ(z) and log(1 − σ(z)) = log σ(−z) evaluated stably (no log 0 for large |z|).
pub fn loss(x: ArrayView2<f64>, y: ArrayView1<f64>, beta: ArrayView1<f64>, lambda: f64) -> Result<f64> {
    check(&x, &y, &beta, lambda)?;
    let z = x.dot(&beta);
    let nll: f64 = z.iter().zip(y.iter()).map(|(&zi, &yi)| -(yi * log_sigmoid(zi) + (1.0 - yi) * log_sigmoid(-zi))).sum();
    Ok(nll + lambda * beta.dot(&beta))
}

/// ∇L(β) = Xᵀ(σ(Xβ) − y) + 2λβ.
pub fn gradient(x: ArrayView2<f64>, y: ArrayView1<f64>, beta: ArrayView1<f64>, lambda: f64) -> Result<Array1<f64>> {
    check(&x, &y, &beta, lambda)?;
    let p = x.dot(&beta).mapv(sigmoid);
    Ok(x.t().dot(&(&p - &y)) + &(&beta * (2.0 * lambda)))
}

/// ∇²L(β) = Xᵀ S X + 2λ I, S = diag(σ(xᵢᵀβ)(1 − σ(xᵢᵀβ))).
pub fn hessian(x: ArrayView2<f64>, y: ArrayView1<f64>, beta: ArrayView1<f64>, lambda: f64) -> Result<Array2<f64>> {
    check(&x, &y, &beta, lambda)?;
    let s = x.dot(&beta).mapv(|z| sigmoid(z) * (1.0 - sigmoid(z)));
    let sx = &x * &s.view().insert_axis(ndarray::Axis(1)); // S X, row i scaled by sᵢ
    let mut h = x.t().dot(&sx);
    for i in 0..h.nrows() {
        h[[i, i]] += 2.0 * lambda;
    }
    Ok(h)
}

/// One Newton step β − (∇²L)⁻¹ ∇L, solved by Cholesky (the Hessian is positive definite when λ > 0).
pub fn newton_step(x: ArrayView2<f64>, y: ArrayView1<f64>, beta: ArrayView1<f64>, lambda: f64) -> Result<Array1<f64>> {
    let g = gradient(x, y, beta, lambda)?;
    let h = hessian(x, y, beta, lambda)?;
    let step = crate::problems::quadratic::solve_spd(&h, &g)?;
    Ok(&beta - &step)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::gradcheck::{numerical_gradient, numerical_jacobian, rel_error, Stencil};
    use crate::core::rng;
    use ndarray::Ix1;
    use proptest::prelude::*;

    fn data(n: usize, d: usize, seed: u64) -> (Array2<f64>, Array1<f64>, Array1<f64>) {
        let mut r = rng::seeded(seed);
        let x = rng::randn((n, d), &mut r);
        let y = rng::uniform(n, 0.0, 1.0, &mut r).mapv(|u| if u < 0.5 { 0.0 } else { 1.0 });
        let beta = rng::randn(d, &mut r);
        (x, y, beta)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn gradient_and_hessian_match_finite_differences(n in 1usize..20, d in 1usize..5, seed in 0u64..5000, lambda in 0.0..2.0f64) {
            let (x, y, beta) = data(n, d, seed);
            let g = gradient(x.view(), y.view(), beta.view(), lambda).unwrap();
            let ng = numerical_gradient(&[beta.clone().into_dyn()], 1e-3, Stencil::Four, |p| {
                loss(x.view(), y.view(), p[0].view().into_dimensionality::<Ix1>().unwrap(), lambda).unwrap()
            }).unwrap();
            prop_assert!(rel_error(&g.clone().into_dyn(), &ng[0]).unwrap() < 1e-7);
            let h = hessian(x.view(), y.view(), beta.view(), lambda).unwrap();
            let nh = numerical_jacobian(&[beta.clone().into_dyn()], 1e-3, Stencil::Four, |p| {
                gradient(x.view(), y.view(), p[0].view().into_dimensionality::<Ix1>().unwrap(), lambda).unwrap()
            }).unwrap();
            prop_assert!(rel_error(&h.clone().into_dyn(), &nh[0]).unwrap() < 1e-7);
            // symmetric and positive semi-definite (definite by at least 2λ)
            prop_assert!((&h - &h.t()).iter().all(|v| v.abs() < 1e-12));
            let ev = crate::problems::quadratic::sym_eigen(&h).unwrap();
            prop_assert!(ev.values.iter().all(|&l| l >= 2.0 * lambda - 1e-9));
        }
    }

    #[test]
    fn loss_is_stable_for_huge_margins() {
        let x = ndarray::array![[1000.0], [-1000.0]];
        let y = ndarray::array![1.0, 0.0];
        let l = loss(x.view(), y.view(), ndarray::array![1.0].view(), 0.0).unwrap();
        assert!(l.is_finite() && l < 1e-300);
        let l = loss(x.view(), y.view(), ndarray::array![-1.0].view(), 0.0).unwrap();
        assert_eq!(l, 2000.0);
    }

    #[test]
    fn newton_converges_quadratically() {
        let (x, y, _) = data(50, 3, 4);
        let mut beta = Array1::zeros(3);
        let mut gnorm = Vec::new();
        for _ in 0..6 {
            beta = newton_step(x.view(), y.view(), beta.view(), 0.5).unwrap();
            let g = gradient(x.view(), y.view(), beta.view(), 0.5).unwrap();
            gnorm.push(g.dot(&g).sqrt());
        }
        assert!(gnorm[4] < 1e-10, "{gnorm:?}");
        // quadratic: the gradient norm roughly squares from step to step once close
        assert!(gnorm[2] < 10.0 * gnorm[1] * gnorm[1], "{gnorm:?}");
    }

    #[test]
    fn errors() {
        let x = Array2::<f64>::zeros((3, 2));
        let e = loss(x.view(), ndarray::array![0.0, 1.0].view(), ndarray::array![0.0, 0.0].view(), 0.1).unwrap_err().to_string();
        assert_eq!(e, "shape mismatch: X has 3 rows but y has 2 labels");
        let e = gradient(x.view(), ndarray::array![0.0, 1.0, 2.0].view(), ndarray::array![0.0, 0.0].view(), 0.1).unwrap_err().to_string();
        assert_eq!(e, "shape mismatch: y must contain only 0 and 1");
        let e = hessian(x.view(), ndarray::array![0.0, 1.0, 1.0].view(), ndarray::array![0.0].view(), 0.1).unwrap_err().to_string();
        assert_eq!(e, "shape mismatch: X has 2 columns but beta has 1 entries");
        let e = loss(x.view(), ndarray::array![0.0, 1.0, 1.0].view(), ndarray::array![0.0, 0.0].view(), -1.0).unwrap_err().to_string();
        assert_eq!(e, "invalid hyperparameter lambda = -1: must be finite and >= 0");
    }
}
