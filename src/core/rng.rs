//! Seeded random numbers. ChaCha8 gives the same stream on every platform and
//! rand version, so a notebook prints the same numbers on every run.

use ndarray::{Array, Dimension, ShapeBuilder};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal, Uniform};

/// The generator used everywhere in the crate: ChaCha8 behind a name of this
/// crate's own, so that evcxr can name the type of a variable holding one.
#[derive(Clone, Debug)]
pub struct Rng(rand_chacha::ChaCha8Rng);

impl rand::RngCore for Rng {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.0.try_fill_bytes(dest)
    }
}

/// A generator from an explicit seed.
pub fn seeded(seed: u64) -> Rng {
    Rng(rand_chacha::ChaCha8Rng::seed_from_u64(seed))
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

#[cfg(test)]
mod tests {
    #[test]
    fn same_seed_same_numbers() {
        let a = super::randn(5, &mut super::seeded(3));
        let b = super::randn(5, &mut super::seeded(3));
        assert_eq!(a, b);
        assert_ne!(a, super::randn(5, &mut super::seeded(4)));
        let u = super::uniform((100,), -2.0, 3.0, &mut super::seeded(1));
        assert!(u.iter().all(|&v| (-2.0..3.0).contains(&v)));
    }
}
