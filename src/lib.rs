//! # backprop — the helper crate of the backprop notebooks
//!
//! Activations, losses, networks with forward and backward passes,
//! finite-difference checks, and the figures and tables the notebooks show.
//! Names follow the problem sets: W1, b1, W2, b2, h_a (pre-activation),
//! h_s (hidden output), o_a, o_s, δ.
//!
//! Layout (each folder's `mod.rs` says what lives there): [`core`] (the teaching code),
//! [`problems`] (the maths of single problem sets), [`data`], [`train`], [`show`]
//! (figures and tables) and [`engine`] (the fast minibatch gradient the trainer runs).
//! The core imports none of the others; the engine imports only the core.
//!
//! The crate re-exports `ndarray` and `plotters` so that a notebook (and
//! evcxr's type inference) can name every type it returns.

pub use ndarray;
pub use plotters;

pub mod core;
pub mod data;
pub mod engine;
pub mod problems;
pub mod show;
pub mod train;

// Short paths (`backprop::mlp::Mlp`, `backprop::plot::Chart`, …) for the binaries, examples and notebooks.
pub use crate::core::{activation, error, gradcheck, loss, mlp, network, optim, rng, Real};
pub use crate::problems::{jacobian, logistic, quadratic};
pub use crate::train::guard;
pub use crate::show::{display, helpers, plot, summary};
pub use display::{Figure, Table};
pub use error::{Error, Result};

/// Asserts |a − b| ≤ tol for two `f64`s, printing both expressions and values when it fails.
#[macro_export]
macro_rules! assert_close {
    ($a:expr, $b:expr, $tol:expr) => {{
        let (a, b, tol): (f64, f64, f64) = ($a, $b, $tol);
        assert!(
            (a - b).abs() <= tol,
            "assert_close failed: {} = {a} but expected {} = {b} (|diff| = {:.3e} > tol {tol:.1e})",
            stringify!($a),
            stringify!($b),
            (a - b).abs()
        );
    }};
}

/// Asserts max |aᵢ − bᵢ| ≤ tol for two sequences of `f64` with `.iter()` (arrays, Vecs, slices).
#[macro_export]
macro_rules! assert_all_close {
    ($a:expr, $b:expr, $tol:expr) => {{
        let a: Vec<f64> = $a.iter().copied().collect();
        let b: Vec<f64> = $b.iter().copied().collect();
        let tol: f64 = $tol;
        assert_eq!(a.len(), b.len(), "assert_all_close: {} has {} values but {} has {}", stringify!($a), a.len(), stringify!($b), b.len());
        let d = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0_f64, f64::max);
        assert!(
            d <= tol,
            "assert_all_close failed: {} = {a:?} but expected {} = {b:?} (max |diff| = {d:.3e} > tol {tol:.1e})",
            stringify!($a),
            stringify!($b)
        );
    }};
}

/// Everything a notebook needs: `use backprop::prelude::*;`.
pub mod prelude {
    pub use crate::activation::{self, Activation};
    pub use crate::data::{self, Dataset};
    pub use crate::display::{fmt_digits, fmt_list, fmt_num, fmt_sci, Figure, Table};
    pub use crate::error::{Error, Result};
    pub use crate::gradcheck::{self, GradCheck, Stencil};
    pub use crate::helpers::{self, as_row, view1, view2};
    pub use crate::jacobian::{self, Jacobians};
    pub use crate::logistic;
    pub use crate::loss;
    pub use crate::mlp::{ElasticNet, Grads, Mlp, PARAM_NAMES};
    pub use crate::network::{Dense, Network};
    pub use crate::optim::{self, GdRun};
    pub use crate::plot::{self, Chart, Legend};
    pub use crate::quadratic::{self, SymEigen};
    pub use crate::rng;
    pub use crate::summary;
    pub use crate::train::{self, TrainConfig};
    pub use crate::{assert_all_close, assert_close};
    pub use ndarray::{self, array, s, Array1, Array2, Array3, ArrayD, ArrayView1, ArrayView2, Axis, Ix1, Ix2};
}

#[cfg(test)]
mod tests {
    #[test]
    fn close_macros_pass_and_fail_with_values() {
        assert_close!(0.1 + 0.2, 0.3, 1e-15);
        assert_all_close!(ndarray::array![1.0, 2.0], [1.0, 2.0 + 1e-13], 1e-12);
        let r = std::panic::catch_unwind(|| assert_close!(1.0, 2.0, 1e-3));
        let msg = *r.unwrap_err().downcast::<String>().unwrap();
        assert_eq!(msg, "assert_close failed: 1.0 = 1 but expected 2.0 = 2 (|diff| = 1.000e0 > tol 1.0e-3)");
        let r = std::panic::catch_unwind(|| assert_all_close!([1.0, 5.0], [1.0, 2.0], 1e-3));
        assert!(r.unwrap_err().downcast::<String>().unwrap().contains("max |diff| = 3.000e0"));
    }
}
