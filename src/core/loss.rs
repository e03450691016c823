//! Losses and the softmax (ps1, ps2, ps3, ps4).
//!
//! Softmax and log-softmax subtract the maximum first, so logits of ±1000 are
//! fine. Matrix versions work row by row: a minibatch is K × m.

use crate::core::error::{ensure_shape, Error, Result};
use crate::core::Real;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

/// ½(ŷ − y)² for one prediction (ps1).
pub fn half_squared_error<F: Real>(y_hat: F, y: F) -> F {
    let d = y_hat - y;
    F::from_f64(0.5).unwrap() * d * d
}

/// ∂/∂ŷ of ½(ŷ − y)²: ŷ − y.
pub fn half_squared_error_grad<F: Real>(y_hat: F, y: F) -> F {
    y_hat - y
}

/// (ŷ − y)² for one prediction (ps4).
pub fn squared_error<F: Real>(y_hat: F, y: F) -> F {
    (y_hat - y) * (y_hat - y)
}

/// ∂/∂ŷ of (ŷ − y)²: 2(ŷ − y).
pub fn squared_error_grad<F: Real>(y_hat: F, y: F) -> F {
    (y_hat - y) + (y_hat - y)
}

fn same_len<F>(a: &ArrayView1<F>, b: &ArrayView1<F>, what: &str) -> Result<()> {
    ensure_shape(a.len() == b.len(), || {
        format!("{what}: {} predictions but {} targets", a.len(), b.len())
    })?;
    if a.is_empty() {
        return Err(Error::Empty(format!("{what}: no predictions")));
    }
    Ok(())
}

/// ½ Σₖ (ŷₖ − tₖ)² over a set of predictions (ps3 Q1).
pub fn half_sum_squared_error<F: Real>(y_hat: ArrayView1<F>, t: ArrayView1<F>) -> Result<F> {
    same_len(&y_hat, &t, "half_sum_squared_error")?;
    let d = &y_hat - &t;
    Ok(F::from_f64(0.5).unwrap() * d.dot(&d))
}

/// (1/N) Σₙ (ŷₙ − yₙ)² (ps4's loss over the data set).
pub fn mean_squared_error<F: Real>(y_hat: ArrayView1<F>, y: ArrayView1<F>) -> Result<F> {
    same_len(&y_hat, &y, "mean_squared_error")?;
    let d = &y_hat - &y;
    Ok(d.dot(&d) / F::from_usize(d.len()).unwrap())
}

/// softmax(o_a)ₖ = exp(o_aₖ − max) / Σⱼ exp(o_aⱼ − max): positive, sums to 1.
pub fn softmax<F: Real>(o_a: ArrayView1<F>) -> Array1<F> {
    let max = o_a.fold(F::neg_infinity(), |m, &v| m.max(v));
    let e = o_a.mapv(|v| (v - max).exp());
    let s = e.sum();
    e / s
}

/// log softmax(o_a)ₖ = o_aₖ − max − ln Σⱼ exp(o_aⱼ − max).
pub fn log_softmax<F: Real>(o_a: ArrayView1<F>) -> Array1<F> {
    let max = o_a.fold(F::neg_infinity(), |m, &v| m.max(v));
    let lse = o_a.mapv(|v| (v - max).exp()).sum().ln() + max;
    o_a.mapv(|v| v - lse)
}

/// Row-wise softmax of a K × m matrix of logits.
pub fn softmax_rows<F: Real>(o_a: ArrayView2<F>) -> Array2<F> {
    let mut out = o_a.to_owned();
    for mut row in out.axis_iter_mut(Axis(0)) {
        let max = row.fold(F::neg_infinity(), |m, &v| m.max(v));
        row.mapv_inplace(|v| (v - max).exp());
        let s = row.sum();
        row.mapv_inplace(|v| v / s);
    }
    out
}

/// Row-wise log-softmax of a K × m matrix of logits.
pub fn log_softmax_rows<F: Real>(o_a: ArrayView2<F>) -> Array2<F> {
    let mut out = o_a.to_owned();
    for mut row in out.axis_iter_mut(Axis(0)) {
        let max = row.fold(F::neg_infinity(), |m, &v| m.max(v));
        let lse = row.mapv(|v| (v - max).exp()).sum().ln() + max;
        row.mapv_inplace(|v| v - lse);
    }
    out
}

fn check_class(y: usize, m: usize) -> Result<()> {
    ensure_shape(y < m, || format!("class label {y} is out of range for {m} classes (labels are 0..{m})"))
}

/// onehot_m(y): the m-vector with a 1 at index y (classes numbered 0..m).
pub fn onehot<F: Real>(y: usize, m: usize) -> Result<Array1<F>> {
    check_class(y, m)?;
    let mut v = Array1::zeros(m);
    v[y] = F::one();
    Ok(v)
}

/// K × m matrix whose row i is onehot_m(ys\[i\]).
pub fn onehot_rows<F: Real>(ys: &[usize], m: usize) -> Result<Array2<F>> {
    let mut out = Array2::zeros((ys.len(), m));
    for (i, &y) in ys.iter().enumerate() {
        check_class(y, m)?;
        out[[i, y]] = F::one();
    }
    Ok(out)
}

/// L(o_a, y) = −log softmax(o_a)_y = −o_a_y + log Σₖ exp(o_aₖ).
pub fn cross_entropy<F: Real>(o_a: ArrayView1<F>, y: usize) -> Result<F> {
    check_class(y, o_a.len())?;
    Ok(-log_softmax(o_a)[y])
}

/// ∂L/∂o_a = softmax(o_a) − onehot_m(y).
pub fn cross_entropy_grad<F: Real>(o_a: ArrayView1<F>, y: usize) -> Result<Array1<F>> {
    Ok(softmax(o_a) - onehot::<F>(y, o_a.len())?)
}

/// Cross-entropy with any target vector t (ps3 Q2):
/// E = −Σₖ tₖ log softmax(o_a)ₖ, and ∂E/∂o_aᵢ = softmax(o_a)ᵢ Σₖ tₖ − tᵢ,
/// which is softmax(o_a) − t when t sums to 1. Returns (E, ∂E/∂o_a).
pub fn softmax_cross_entropy_any_target<F: Real>(
    o_a: ArrayView1<F>,
    t: ArrayView1<F>,
) -> Result<(F, Array1<F>)> {
    same_len(&o_a, &t, "softmax_cross_entropy_any_target")?;
    let e = -log_softmax(o_a).dot(&t);
    let grad = softmax(o_a) * t.sum() - t;
    Ok((e, grad))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn softmax_is_stable_and_normalised() {
        let o = array![1000.0, 999.0, -1000.0];
        let s = softmax(o.view());
        assert!((s.sum() - 1.0_f64).abs() < 1e-15);
        assert!(s.iter().all(|&p| p >= 0.0));
        let e = (-1.0_f64).exp();
        assert!((s[0] - 1.0 / (1.0 + e)).abs() < 1e-15);
        let ls = log_softmax(o.view());
        assert!((ls[0] + (1.0 + e).ln()).abs() < 1e-12);
        assert!(ls[2].is_finite());
    }

    #[test]
    fn rows_agree_with_vectors() {
        let m: Array2<f64> = array![[1.0, 2.0, 3.0], [-500.0, 0.0, 500.0]];
        let s = softmax_rows(m.view());
        let l = log_softmax_rows(m.view());
        for i in 0..2 {
            let sv = softmax(m.row(i));
            let lv = log_softmax(m.row(i));
            for k in 0..3 {
                assert!((s[[i, k]] - sv[k]).abs() < 1e-15);
                assert!((l[[i, k]] - lv[k]).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn cross_entropy_gradient_matches_differences() {
        let o: Array1<f64> = array![0.3, -1.2, 2.0, 0.1];
        let g = cross_entropy_grad(o.view(), 2).unwrap();
        for k in 0..4 {
            let mut p = o.clone();
            let mut m = o.clone();
            p[k] += 1e-6;
            m[k] -= 1e-6;
            let num = (cross_entropy(p.view(), 2).unwrap() - cross_entropy(m.view(), 2).unwrap()) / 2e-6;
            assert!((num - g[k]).abs() < 1e-8);
        }
        let t = array![0.2, 0.5, 0.0, 0.7];
        let (_, ga) = softmax_cross_entropy_any_target(o.view(), t.view()).unwrap();
        for k in 0..4 {
            let mut p = o.clone();
            let mut m = o.clone();
            p[k] += 1e-6;
            m[k] -= 1e-6;
            let ep = softmax_cross_entropy_any_target(p.view(), t.view()).unwrap().0;
            let em = softmax_cross_entropy_any_target(m.view(), t.view()).unwrap().0;
            assert!(((ep - em) / 2e-6 - ga[k]).abs() < 1e-8);
        }
    }

    #[test]
    fn squared_errors() {
        assert_eq!(half_squared_error(3.0, 1.0), 2.0);
        assert_eq!(squared_error(3.0, 1.0), 4.0);
        assert_eq!(squared_error_grad(3.0, 1.0), 4.0);
        let mse = mean_squared_error(array![1.0, 3.0].view(), array![0.0, 0.0].view()).unwrap();
        assert_eq!(mse, 5.0);
        let h = half_sum_squared_error(array![1.0, 3.0].view(), array![0.0, 0.0].view()).unwrap();
        assert_eq!(h, 5.0);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let e = onehot::<f64>(3, 3).unwrap_err().to_string();
        assert_eq!(e, "shape mismatch: class label 3 is out of range for 3 classes (labels are 0..3)");
        let e = mean_squared_error(array![1.0].view(), array![1.0, 2.0].view()).unwrap_err().to_string();
        assert_eq!(e, "shape mismatch: mean_squared_error: 1 predictions but 2 targets");
        let empty = Array1::<f64>::zeros(0);
        let e = mean_squared_error(empty.view(), empty.view()).unwrap_err().to_string();
        assert_eq!(e, "empty input: mean_squared_error: no predictions");
    }
}
