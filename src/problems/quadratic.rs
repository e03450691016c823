//! Quadratic models: L2 regularisation through the Hessian's eigendecomposition
//! (ps1 problem 3) and gradient descent on a quadratic (ps3 question 3).
//!
//! Near a minimum w*, L(w) ≈ L(w*) + ½ (w − w*)ᵀ H (w − w*). Adding ½μ‖w‖²
//! moves the minimum to w̃ = (H + μI)⁻¹ H w* = Q (Λ + μI)⁻¹ Λ Qᵀ w*, where
//! H = Q Λ Qᵀ: along eigenvector qᵢ the component of w* is scaled by λᵢ/(λᵢ + μ).
//! The eigendecomposition comes from nalgebra's `SymmetricEigen`.

use crate::core::error::{ensure_param, ensure_shape, Error, Result};
use ndarray::{Array1, Array2};

fn to_na(a: &Array2<f64>) -> nalgebra::DMatrix<f64> {
    nalgebra::DMatrix::from_fn(a.nrows(), a.ncols(), |i, j| a[[i, j]])
}

fn check_symmetric(h: &Array2<f64>) -> Result<()> {
    ensure_shape(h.is_square() && h.nrows() > 0, || format!("H must be a non-empty square matrix, got {:?}", h.dim()))?;
    let scale = h.iter().fold(0.0_f64, |m, v| m.max(v.abs())).max(1.0);
    for i in 0..h.nrows() {
        for j in 0..i {
            if (h[[i, j]] - h[[j, i]]).abs() > 1e-10 * scale {
                return Err(Error::Shape(format!("H is not symmetric: H[{i},{j}] = {} but H[{j},{i}] = {}", h[[i, j]], h[[j, i]])));
            }
        }
    }
    crate::core::error::ensure_finite(h.iter(), "H")
}

/// H = Q Λ Qᵀ for a symmetric H.
#[derive(Clone, Debug, PartialEq)]
pub struct SymEigen {
    /// Eigenvalues λ₁ ≥ λ₂ ≥ … (decreasing).
    pub values: Array1<f64>,
    /// Q: column i is the unit eigenvector of `values[i]`.
    pub vectors: Array2<f64>,
}

/// The eigendecomposition of a symmetric matrix, eigenvalues sorted in decreasing order.
pub fn sym_eigen(h: &Array2<f64>) -> Result<SymEigen> {
    check_symmetric(h)?;
    let e = nalgebra::SymmetricEigen::new(to_na(h));
    let n = h.nrows();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| e.eigenvalues[b].total_cmp(&e.eigenvalues[a]));
    let values = Array1::from_iter(order.iter().map(|&i| e.eigenvalues[i]));
    let vectors = Array2::from_shape_fn((n, n), |(r, c)| e.eigenvectors[(r, order[c])]);
    Ok(SymEigen { values, vectors })
}

/// Solves A x = b for a symmetric positive definite A (Cholesky).
pub fn solve_spd(a: &Array2<f64>, b: &Array1<f64>) -> Result<Array1<f64>> {
    check_symmetric(a)?;
    ensure_shape(b.len() == a.nrows(), || format!("A is {0}x{0} but b has {1} entries", a.nrows(), b.len()))?;
    let chol = nalgebra::Cholesky::new(to_na(a))
        .ok_or_else(|| Error::Shape("the matrix is not positive definite (Cholesky failed); add regularisation".into()))?;
    let x = chol.solve(&nalgebra::DVector::from_iterator(b.len(), b.iter().copied()));
    Ok(Array1::from_iter(x.iter().copied()))
}

fn check_mu(mu: f64) -> Result<()> {
    ensure_param(mu.is_finite() && mu > 0.0, "mu", mu, "the regularisation strength must be positive and finite")
}

/// w̃ = (H + μI)⁻¹ H w*, by a direct solve (H positive semi-definite, μ > 0).
pub fn regularised_optimum_direct(h: &Array2<f64>, w_star: &Array1<f64>, mu: f64) -> Result<Array1<f64>> {
    check_mu(mu)?;
    check_symmetric(h)?;
    ensure_shape(w_star.len() == h.nrows(), || format!("H is {0}x{0} but w* has {1} entries", h.nrows(), w_star.len()))?;
    let mut a = h.clone();
    for i in 0..a.nrows() {
        a[[i, i]] += mu;
    }
    solve_spd(&a, &h.dot(w_star))
}

/// λᵢ/(λᵢ + μ) for each eigenvalue: the diagonal of (Λ + μI)⁻¹Λ.
pub fn shrink_factors(values: &Array1<f64>, mu: f64) -> Result<Array1<f64>> {
    check_mu(mu)?;
    Ok(values.mapv(|l| l / (l + mu)))
}

/// w̃ = Q (Λ + μI)⁻¹ Λ Qᵀ w*, through the eigendecomposition of H.
pub fn regularised_optimum_eigen(h: &Array2<f64>, w_star: &Array1<f64>, mu: f64) -> Result<Array1<f64>> {
    ensure_shape(w_star.len() == h.nrows(), || format!("H is {0}x{0} but w* has {1} entries", h.nrows(), w_star.len()))?;
    let e = sym_eigen(h)?;
    let s = shrink_factors(&e.values, mu)?;
    let coords = e.vectors.t().dot(w_star); // Qᵀ w*: w* in the eigenbasis
    Ok(e.vectors.dot(&(&coords * &s)))
}

/// A seeded symmetric positive semi-definite matrix Q diag(λ) Qᵀ with the given
/// eigenvalues (≥ 0) and a random orthonormal Q (QR of a Gaussian matrix).
pub fn random_psd(eigenvalues: &Array1<f64>, seed: u64) -> Result<Array2<f64>> {
    let n = eigenvalues.len();
    ensure_shape(n > 0, || "at least one eigenvalue is needed".into())?;
    ensure_param(eigenvalues.iter().all(|&l| l >= 0.0 && l.is_finite()), "eigenvalues", format!("{eigenvalues}"), "must be finite and >= 0")?;
    let g = crate::core::rng::randn((n, n), &mut crate::core::rng::seeded(seed));
    let q = nalgebra::QR::new(to_na(&g)).q();
    let q = Array2::from_shape_fn((n, n), |(i, j)| q[(i, j)]);
    let h = q.dot(&Array2::from_diag(eigenvalues)).dot(&q.t());
    Ok((&h + &h.t()) / 2.0) // exactly symmetric
}

/// Gradient descent on f(x) = ½ xᵀ H x, ∇f = H x: x_{n+1} = x_n − η H x_n = (I − ηH) x_n,
/// run by the crate's one descent loop [`crate::core::optim::gradient_descent`].
/// Returns x₀, x₁, …, x_steps (H: n × n symmetric, x0: n).
pub fn gd_quadratic(h: &Array2<f64>, x0: &Array1<f64>, eta: f64, steps: usize) -> Result<Vec<Array1<f64>>> {
    check_symmetric(h)?;
    ensure_shape(x0.len() == h.nrows(), || format!("H is {0}x{0} but x0 has {1} entries", h.nrows(), x0.len()))?;
    let run = crate::core::optim::gradient_descent(x0.view(), eta, steps, |x| {
        let hx = h.dot(x);
        Ok((0.5 * x.dot(&hx), hx))
    })?;
    Ok(run.path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn eigen_route_equals_direct_solve() {
        let lambdas = Array1::from_iter((0..8).map(|i| 10f64.powi(3 - i)));
        let h = random_psd(&lambdas, 3).unwrap();
        let e = sym_eigen(&h).unwrap();
        for (a, b) in e.values.iter().zip(lambdas.iter()) {
            assert!((a - b).abs() < 1e-10 * b.max(1.0), "{a} vs {b}");
        }
        // Q orthonormal and H = Q Λ Qᵀ
        let qtq = e.vectors.t().dot(&e.vectors);
        assert!((&qtq - &Array2::<f64>::eye(8)).iter().all(|v| v.abs() < 1e-12));
        let back = e.vectors.dot(&Array2::from_diag(&e.values)).dot(&e.vectors.t());
        assert!((&back - &h).iter().all(|v| v.abs() < 1e-10));
        let w = crate::core::rng::randn(8, &mut crate::core::rng::seeded(5));
        for mu in [1e-3, 0.1, 10.0] {
            let a = regularised_optimum_direct(&h, &w, mu).unwrap();
            let b = regularised_optimum_eigen(&h, &w, mu).unwrap();
            assert!((&a - &b).iter().all(|v| v.abs() < 1e-9), "mu = {mu}");
            // in the eigenbasis each component is scaled by λ/(λ+μ)
            let s = shrink_factors(&e.values, mu).unwrap();
            let ca = e.vectors.t().dot(&a);
            let cw = e.vectors.t().dot(&w);
            for i in 0..8 {
                assert!((ca[i] - s[i] * cw[i]).abs() < 1e-9);
                assert!((s[i] - e.values[i] / (e.values[i] + mu)).abs() < 1e-15);
            }
        }
    }

    #[test]
    fn gd_on_5x2_converges_iff_eta_below_one_fifth() {
        // f(x) = 5x² = ½·10·x², x_{n+1} = (1 − 10η) x_n
        let h = array![[10.0]];
        let x0 = array![1.0];
        let run = |eta: f64| gd_quadratic(&h, &x0, eta, 200).unwrap().last().unwrap()[0];
        assert!((run(0.05) / 0.5f64.powi(200) - 1.0).abs() < 1e-12); // factor 1 − 10·0.05 = 0.5
        assert_eq!(gd_quadratic(&h, &x0, 0.1, 1).unwrap()[1][0], 0.0); // one step lands on 0
        assert!(run(0.19).abs() < 1e-8);
        assert!((run(0.2).abs() - 1.0).abs() < 1e-12); // |1 − 2| = 1: oscillates forever
        assert!(run(0.21).abs() > 1e7);
    }

    #[test]
    fn errors() {
        let e = sym_eigen(&array![[1.0, 2.0], [0.0, 1.0]]).unwrap_err().to_string();
        assert_eq!(e, "shape mismatch: H is not symmetric: H[1,0] = 0 but H[0,1] = 2");
        let e = regularised_optimum_direct(&array![[1.0]], &array![1.0], 0.0).unwrap_err().to_string();
        assert_eq!(e, "invalid hyperparameter mu = 0: the regularisation strength must be positive and finite");
        let e = solve_spd(&array![[-1.0]], &array![1.0]).unwrap_err().to_string();
        assert_eq!(e, "shape mismatch: the matrix is not positive definite (Cholesky failed); add regularisation");
        let e = gd_quadratic(&array![[1.0]], &array![1.0, 2.0], 0.1, 3).unwrap_err().to_string();
        assert_eq!(e, "shape mismatch: H is 1x1 but x0 has 2 entries");
        let e = sym_eigen(&Array2::zeros((2, 3))).unwrap_err().to_string();
        assert_eq!(e, "shape mismatch: H must be a non-empty square matrix, got (2, 3)");
    }
}
