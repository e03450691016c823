//! Both cores for the minibatch products: the hidden units are cut into contiguous
//! *shards*, one per thread, and each thread computes the forward and backward pass of
//! its shard (the maths is per hidden unit, so the shards are independent; only the
//! K × m output pre-activation O_a = Σ_shards H_s[:, s] W2[:, s]ᵀ + b2 is summed).
//!
//! Threads come from rayon's global pool: as many as the machine has cores unless
//! `RAYON_NUM_THREADS` or [`set_threads`] says otherwise. The matrix products inside a
//! shard are single-threaded (matrixmultiply without its threading feature), so the
//! two levels never compete for cores.

use crate::error::{ensure_param, Error, Result};
use rayon::prelude::*;

/// Hidden units per shard below which a layer is not split (the thread hand-off would cost
/// more than it saves).
pub const MIN_SHARD: usize = 32;

/// Threads the minibatch products use.
pub fn threads() -> usize {
    rayon::current_num_threads()
}

/// Sets the number of threads once per process, before any training (as `--threads` does).
/// Fails if the pool already exists with another size.
pub fn set_threads(n: usize) -> Result<()> {
    ensure_param(n >= 1, "threads", n, "at least one thread")?;
    match rayon::ThreadPoolBuilder::new().num_threads(n).build_global() {
        Ok(()) => Ok(()),
        Err(_) if threads() == n => Ok(()),
        Err(_) => Err(Error::Hyperparameter {
            name: "threads".into(),
            value: n.to_string(),
            reason: format!("the thread pool already runs {} threads; set RAYON_NUM_THREADS={n} before the first training instead", threads()),
        }),
    }
}

/// Shard length for `units` hidden units: the units split evenly over the threads,
/// rounded up to a multiple of 16 (a SIMD-friendly block), never below [`MIN_SHARD`].
pub fn shard_len(units: usize) -> usize {
    let shards = threads().min(units / MIN_SHARD).max(1);
    if shards == 1 {
        return units.max(1);
    }
    units.div_ceil(shards).next_multiple_of(16)
}

/// Applies `f` to every shard, in parallel when there is more than one; results in order.
pub fn map_shards<T: Send, R: Send>(shards: Vec<T>, f: impl Fn(T) -> R + Sync + Send) -> Vec<R> {
    if shards.len() <= 1 {
        shards.into_iter().map(f).collect()
    } else {
        shards.into_par_iter().map(f).collect()
    }
}

/// `f(a, b)` for every pair of entries of two equally shaped matrices, the rows split over the
/// threads (for elementwise passes over W1 such as the SGD and momentum updates).
pub fn zip_rows_mut<F: Send + Sync>(a: &mut ndarray::Array2<F>, b: &ndarray::Array2<F>, f: impl Fn(&mut F, &F) + Sync + Send) {
    assert_eq!(a.dim(), b.dim(), "zip_rows_mut: callers check the shapes");
    let len = shard_len(a.nrows());
    let shards: Vec<_> = a.axis_chunks_iter_mut(ndarray::Axis(0), len).zip(b.axis_chunks_iter(ndarray::Axis(0), len)).collect();
    map_shards(shards, |(mut a, b)| a.zip_mut_with(&b, |x, y| f(x, y)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_unit_once() {
        for units in [1, 10, 31, 64, 100, 512, 1000] {
            let len = shard_len(units);
            let n = units.div_ceil(len);
            assert!(n >= 1 && n <= threads().max(1), "{units} units in {n} shards of {len}");
            assert!((n - 1) * len < units && units <= n * len);
        }
    }

    #[test]
    fn zip_rows_mut_visits_every_entry() {
        let mut a = ndarray::Array2::<f64>::from_shape_fn((100, 7), |(i, j)| (i * 7 + j) as f64);
        let b = a.mapv(|v| 2.0 * v + 1.0);
        zip_rows_mut(&mut a, &b, |x, y| *x = *y - *x);
        assert!(a.indexed_iter().all(|((i, j), &v)| v == (i * 7 + j) as f64 + 1.0));
    }

    #[test]
    fn map_shards_keeps_order() {
        let out = map_shards((0..8).collect(), |i: i32| i * i);
        assert_eq!(out, vec![0, 1, 4, 9, 16, 25, 36, 49]);
    }
}
