//! # backprop — the helper crate of the backprop notebooks
//!
//! Activations, losses, networks with forward and backward passes,
//! finite-difference checks, and the figures and tables the notebooks show.
//! Names follow the problem sets: W1, b1, W2, b2, h_a (pre-activation),
//! h_s (hidden output), o_a, o_s, δ.
//!
//! The crate re-exports `ndarray` and `plotters` so that a notebook (and
//! evcxr's type inference) can name every type it returns.

pub use ndarray;
pub use plotters;

pub mod activation;
pub mod display;
pub mod error;
pub mod gradcheck;
pub mod loss;
pub mod network;
pub mod plot;
pub mod rng;

pub use display::{Figure, Table};
pub use error::{Error, Result};

/// The float types the MLP and the trainer work in: `f32` and `f64`.
pub trait Real: ndarray::NdFloat + num_traits::FromPrimitive {}
impl<T: ndarray::NdFloat + num_traits::FromPrimitive> Real for T {}

/// Everything a notebook needs: `use backprop::prelude::*;`.
pub mod prelude {
    pub use crate::activation::{self, Activation};
    pub use crate::display::{fmt_num, Figure, Table};
    pub use crate::error::{Error, Result};
    pub use crate::gradcheck::{self, GradCheck};
    pub use crate::loss;
    pub use crate::network::{Dense, Network};
    pub use crate::plot::{self, Chart};
    pub use crate::rng;
    pub use ndarray::{array, s, Array1, Array2, Array3, ArrayD, Axis};
}
