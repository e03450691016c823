//! The MLP's two large products, timed alone for each GEMM library in the Rust build:
//! forward  H_a = X W1ᵀ      (K × d)(d × d_h),  X row-major, W1 row-major d_h × d;
//! backward ∂W1 = G_haᵀ X    (d_h × K)(K × d).
//! The two "sharded" backends compute them as the engine's broadcast epoch does: H_a and G_ha
//! column-major (K × d_h), and the backward as the fused plain-SGD step W1 ← W1 − η G_haᵀ X
//! (C ← C + s A B) into W1's rows; the whole-product backend (gemm with its own threads) uses
//! row-major H_a, G_ha and ∂W1 = G_haᵀ X (β = 0), the natural layout of a library call.
//! Each is 2·K·d·d_h flops; the figure is the best of many repetitions (GFLOP/s).

use backprop::ndarray::{linalg::general_mat_mul, Array2, ArrayView2, ArrayViewMut2, Axis, ShapeBuilder};
use backprop::Real;
use rayon::prelude::*;
use std::time::Instant;

/// The backends timed. `Engine` is whatever `backprop::engine::matmul` uses, split over the
/// hidden units as the engine splits them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backend {
    /// ndarray → matrixmultiply, hidden units split over the threads (one shard per thread).
    MatrixmultiplySharded,
    /// The `gemm` crate on the whole product, its own rayon parallelism over the threads.
    GemmCrate,
    /// The `gemm` crate, one single-threaded product per shard of hidden units.
    GemmCrateSharded,
}

impl Backend {
    pub const ALL: [Backend; 3] = [Backend::MatrixmultiplySharded, Backend::GemmCrate, Backend::GemmCrateSharded];
    pub fn name(self) -> &'static str {
        match self {
            Backend::MatrixmultiplySharded => "matrixmultiply 0.3, as the engine (sharded)",
            Backend::GemmCrate => "gemm 0.19 (x86-v4), its own threads",
            Backend::GemmCrateSharded => "gemm 0.19 (x86-v4), as the engine (sharded)",
        }
    }
}

/// C = A B, or C ← C + s A B with `add = Some(s)`, with the gemm crate; any strides.
pub fn gemm_crate<F: Real>(a: ArrayView2<F>, b: ArrayView2<F>, mut c: ArrayViewMut2<F>, add: Option<F>, threads: usize) {
    let (m, k) = a.dim();
    let n = b.ncols();
    assert_eq!((b.nrows(), c.dim()), (k, (m, n)));
    let par = if threads > 1 { gemm::Parallelism::Rayon(threads) } else { gemm::Parallelism::None };
    let s = |v: isize| v;
    // gemm computes dst ← α dst + β A B, reading dst only with `read_dst`
    let (alpha, beta) = match add {
        Some(s) => (F::one(), s),
        None => (F::zero(), F::one()),
    };
    // SAFETY: the pointers and strides come from live ndarray views of the stated shapes
    // (checked above), C does not alias A or B (it is borrowed mutably), and F is f32 or f64,
    // the element types gemm dispatches on (TypeId) for these arguments.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            s(c.strides()[1]),
            s(c.strides()[0]),
            add.is_some(),
            a.as_ptr(),
            s(a.strides()[1]),
            s(a.strides()[0]),
            b.as_ptr(),
            s(b.strides()[1]),
            s(b.strides()[0]),
            alpha,
            beta,
            false,
            false,
            false,
            par,
        )
    }
}

/// C ← A B, or C ← C + s A B with `add = Some(s)`, on `backend`.
fn product<F: Real>(backend: Backend, a: ArrayView2<F>, b: ArrayView2<F>, c: &mut Array2<F>, add: Option<F>, threads: usize, split_cols: bool) {
    // the engine splits the hidden units: columns of C in the forward product, rows in the backward
    let shard = |a: ArrayView2<F>, b: ArrayView2<F>, c: ArrayViewMut2<F>| match backend {
        Backend::GemmCrateSharded => gemm_crate(a, b, c, add, 1),
        _ => {
            let mut c = c;
            match add {
                Some(s) => general_mat_mul(s, &a, &b, F::one(), &mut c),
                None => general_mat_mul(F::one(), &a, &b, F::zero(), &mut c),
            }
        }
    };
    match backend {
        Backend::GemmCrate => gemm_crate(a, b, c.view_mut(), add, threads),
        _ => {
            if split_cols {
                let len = c.ncols().div_ceil(threads);
                let parts: Vec<_> = c.axis_chunks_iter_mut(Axis(1), len).zip(b.axis_chunks_iter(Axis(1), len)).collect();
                parts.into_par_iter().for_each(|(c, b)| shard(a, b, c));
            } else {
                let len = c.nrows().div_ceil(threads);
                let parts: Vec<_> = c.axis_chunks_iter_mut(Axis(0), len).zip(a.axis_chunks_iter(Axis(0), len)).collect();
                parts.into_par_iter().for_each(|(c, a)| shard(a, b, c));
            }
        }
    }
}

/// (forward, backward) GFLOP/s of `backend` at K = 100, d = 784, d_h = `hidden` on `threads` threads.
pub fn mlp_shapes<F: Real>(backend: Backend, hidden: usize, threads: usize) -> (f64, f64) {
    let (k, d) = (100, 784);
    let x = Array2::<F>::from_shape_fn((k, d), |(i, j)| F::from_f64(((i * 7 + j * 3) % 11) as f64 * 0.01).unwrap());
    let w1 = Array2::<F>::from_shape_fn((hidden, d), |(i, j)| F::from_f64(((i + j) % 5) as f64 * 0.01).unwrap());
    // the sharded backends stand for the engine: its layouts and its fused step (see the module's doc)
    let engine = backend != Backend::GemmCrate;
    let g = Array2::<F>::from_shape_fn((k, hidden).set_f(engine), |(i, j)| F::from_f64(((i + 2 * j) % 3) as f64 * 0.01).unwrap());
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool");
    let flops = 2.0 * (k * d * hidden) as f64;
    let time = |a: ArrayView2<F>, b: ArrayView2<F>, c: &mut Array2<F>, add: Option<F>, split_cols: bool| {
        let reps = (4e9 / flops).ceil() as usize; // ≈ 4 GFLOP per round
        let mut best = f64::INFINITY;
        for _ in 0..6 {
            let t0 = Instant::now();
            pool.install(|| {
                for _ in 0..reps {
                    product(backend, a, b, c, add, threads, split_cols);
                }
            });
            best = best.min(t0.elapsed().as_secs_f64() / reps as f64);
        }
        std::hint::black_box(&c);
        flops / best / 1e9
    };
    let mut h = Array2::<F>::zeros((k, hidden).set_f(engine));
    let fwd = time(x.view(), w1.t(), &mut h, None, true);
    let back = if engine {
        // W1 ← W1 − η G_haᵀ X with a tiny η: W1 stays finite over the repetitions
        let mut w = w1.clone();
        time(g.t(), x.view(), &mut w, Some(F::from_f64(-1e-9).unwrap()), false)
    } else {
        let mut gw1 = Array2::<F>::zeros((hidden, d));
        time(g.t(), x.view(), &mut gw1, None, false)
    };
    (fwd, back)
}
