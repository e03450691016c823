//! Notebook plumbing kept out of the cells: a vector as a one-row minibatch,
//! dynamic-dimensional parameter arrays back to vectors and matrices, and
//! finite differences of functions of one vector that may fail (their first
//! error is returned instead of a panic inside the closure).

use crate::error::{Error, Result};
use crate::gradcheck::{self, Stencil};
use ndarray::{Array1, Array2, ArrayD, ArrayView1, ArrayView2, Axis, Ix1, Ix2};
use std::cell::RefCell;

/// The vector `x` as a 1 × n matrix (a minibatch of one example).
pub fn as_row<F: Clone>(x: ArrayView1<F>) -> Array2<F> {
    x.to_owned().insert_axis(Axis(0))
}

/// The vector `x` as an n × 1 matrix.
pub fn as_column<F: Clone>(x: ArrayView1<F>) -> Array2<F> {
    x.to_owned().insert_axis(Axis(1))
}

/// A dynamic-dimensional array seen as a vector; `Err` naming its shape otherwise.
pub fn view1(a: &ArrayD<f64>) -> Result<ArrayView1<'_, f64>> {
    a.view().into_dimensionality::<Ix1>().map_err(|_| Error::Shape(format!("expected a vector, got an array of shape {:?}", a.shape())))
}

/// A dynamic-dimensional array seen as a matrix; `Err` naming its shape otherwise.
pub fn view2(a: &ArrayD<f64>) -> Result<ArrayView2<'_, f64>> {
    a.view().into_dimensionality::<Ix2>().map_err(|_| Error::Shape(format!("expected a matrix, got an array of shape {:?}", a.shape())))
}

/// Runs `f` on the finite-difference points; the first `Err` it returns is kept and
/// handed back after the sweep (NaN stands in for the failed value meanwhile).
fn capture<T>(first: &RefCell<Option<Error>>, nan: T, r: Result<T>) -> T {
    r.unwrap_or_else(|e| {
        first.borrow_mut().get_or_insert(e);
        nan
    })
}

/// Centred differences of a scalar function of several parameter arrays, like
/// [`gradcheck::numerical_gradient`] with the two-point stencil, for a closure that returns a
/// [`Result`] (the first `Err` is returned after the sweep).
pub fn centred_differences(params: &[ArrayD<f64>], h: f64, f: impl Fn(&[ArrayD<f64>]) -> Result<f64>) -> Result<Vec<ArrayD<f64>>> {
    let first = RefCell::new(None);
    let g = gradcheck::numerical_gradient(params, h, Stencil::Two, |p| capture(&first, f64::NAN, f(p)))?;
    first.into_inner().map_or(Ok(g), Err)
}

/// Centred-difference gradient (f(x + h eᵢ) − f(x − h eᵢ)) / 2h of a scalar function of one vector.
pub fn gradient_1d(x: ArrayView1<f64>, h: f64, f: impl Fn(ArrayView1<f64>) -> Result<f64>) -> Result<Array1<f64>> {
    let g = centred_differences(&[x.to_owned().into_dyn()], h, |p| f(view1(&p[0])?))?;
    Ok(view1(&g[0])?.to_owned())
}

/// Centred-difference Jacobian (m × n, entry [k, i] = ∂fₖ/∂xᵢ) of a vector function of one vector.
pub fn jacobian_1d(x: ArrayView1<f64>, h: f64, f: impl Fn(ArrayView1<f64>) -> Result<Array1<f64>>) -> Result<Array2<f64>> {
    let first = RefCell::new(None);
    let j = gradcheck::numerical_jacobian(&[x.to_owned().into_dyn()], h, Stencil::Two, |p| {
        capture(&first, Array1::from_elem(1, f64::NAN), view1(&p[0]).and_then(&f))
    })?;
    if let Some(e) = first.into_inner() {
        return Err(e);
    }
    Ok(view2(&j[0])?.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn plumbing_and_differences() {
        let x = array![1.0, -2.0];
        assert_eq!(as_row(x.view()).dim(), (1, 2));
        assert_eq!(as_column(x.view()).dim(), (2, 1));
        let g = gradient_1d(x.view(), 1e-5, |v| Ok(v[0] * v[0] + 3.0 * v[1])).unwrap();
        assert!((g[0] - 2.0).abs() < 1e-9 && (g[1] - 3.0).abs() < 1e-9);
        let j = jacobian_1d(x.view(), 1e-5, |v| Ok(array![v[0] * v[1], v[1]])).unwrap();
        assert_eq!(j.dim(), (2, 2));
        assert!((j[[0, 0]] + 2.0).abs() < 1e-9 && (j[[0, 1]] - 1.0).abs() < 1e-9 && (j[[1, 1]] - 1.0).abs() < 1e-9);
        let e = gradient_1d(x.view(), 1e-5, |_| Err(Error::Empty("no data".into()))).unwrap_err().to_string();
        assert!(e.contains("no data"), "{e}");
        let e = view1(&Array2::<f64>::zeros((2, 2)).into_dyn()).unwrap_err().to_string();
        assert_eq!(e, "shape mismatch: expected a vector, got an array of shape [2, 2]");
    }
}
