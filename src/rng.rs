//! Seeded random numbers. ChaCha8 gives the same stream on every platform and
//! rand version, so a notebook prints the same numbers on every run.

use ndarray::{Array, Dimension, ShapeBuilder};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal, Uniform};

/// The generator used everywhere in the crate.
pub type Rng = rand_chacha::ChaCha8Rng;

/// A generator from an explicit seed.
pub fn seeded(seed: u64) -> Rng {
    Rng::seed_from_u64(seed)
}

/// An array of independent N(0, 1) draws.
pub fn randn<Sh: ShapeBuilder<Dim = D>, D: Dimension>(shape: Sh, rng: &mut Rng) -> Array<f64, D> {
    Array::from_shape_simple_fn(shape, || StandardNormal.sample(rng))
}

/// An array of independent U[lo, hi) draws.
pub fn uniform<Sh: ShapeBuilder<Dim = D>, D: Dimension>(shape: Sh, lo: f64, hi: f64, rng: &mut Rng) -> Array<f64, D> {
    let u = Uniform::new(lo, hi);
    Array::from_shape_simple_fn(shape, || u.sample(rng))
}
