//! The fast engine: the matrix version of ps2's minibatch gradient
//! ([`crate::core::mlp::Mlp::loss_grad_matrix`]) as the trainer, the command line and the
//! benchmark run it. It imports the core and nothing else; the core never imports it.
//!
//! The same products as the core, with two differences that only change the speed:
//! * **both cores**: the d_h hidden units are cut into one shard per thread (rayon), and
//!   shard s computes H_a[:, s], H_s[:, s], its share H_s[:, s] W2[:, s]ᵀ of O_a, then
//!   ∂W2\[:, s\], G_ha\[:, s\], ∂W1\[s, :\] and ∂b1\[s\] with no communication between shards;
//! * **reused buffers**: H_a, H_s and G_ha (K × d_h each) live in the [`Engine`] and the
//!   gradients in a caller's [`Grads`], so an epoch allocates them once, not per minibatch;
//! * **one meeting per minibatch**: [`sgd_epoch`] (epoch.rs), which the trainer runs, keeps each
//!   thread on its shard for a whole epoch, bit for bit the same numbers as [`Engine::loss_grad`]
//!   plus [`sgd_step`] per minibatch (tested), without waking the pool four times per minibatch;
//!   for plain SGD without a penalty it also fuses W1's step into the product that computes
//!   ∂W1 (one rounding instead of two: equal to 1e-12 in f64, tested).
//!
//! Tested equal to the core's matrix version (1e-12 in f64, 1e-5 relative in f32) on random
//! shapes, thread counts and memory layouts of X and W1.
//!
//! Threads: all cores by default, `BACKPROP_THREADS=N` (read once, at the first use) or
//! [`set_threads`] before the first use; [`with_threads`] runs a closure on a pool of its own.

use crate::core::activation::{relu, relu_prime as step};
use crate::core::error::{ensure_param, ensure_shape, Result};
use crate::core::loss::{log_softmax_rows, softmax_rows};
use crate::core::mlp::{check_mask, ElasticNet, Grads, Mlp};
use crate::core::Real;
use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis, ShapeBuilder, Zip};
use rayon::prelude::*;
use std::sync::OnceLock;

mod epoch;
pub(crate) use epoch::gather_rows;
pub use epoch::{sgd_epoch, Update};

static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();

fn new_pool(n: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new().num_threads(n).build().map_err(|e| crate::core::error::Error::Hyperparameter {
        name: "threads".into(),
        value: n.to_string(),
        reason: format!("the thread pool could not start ({e}); try fewer threads"),
    })
}

fn pool() -> &'static rayon::ThreadPool {
    POOL.get_or_init(|| {
        let env = std::env::var("BACKPROP_THREADS").ok().and_then(|s| s.parse::<usize>().ok()).filter(|&n| n > 0);
        let n = env.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
        // a pool of 1 thread always starts; fall back to it if n threads cannot
        new_pool(n).or_else(|_| new_pool(1)).expect("a one-thread pool")
    })
}

/// Sets the number of threads of the engine's pool; only before its first use.
pub fn set_threads(n: usize) -> Result<()> {
    ensure_param(n >= 1, "threads", n, "at least one thread is needed")?;
    ensure_param(POOL.get().is_none(), "threads", n, "the thread count can only be set once, before the first training step")?;
    let _ = POOL.set(new_pool(n)?);
    Ok(())
}

/// The number of threads the engine uses here (inside [`with_threads`]: that pool's).
pub fn threads() -> usize {
    match rayon::current_thread_index() {
        Some(_) => rayon::current_num_threads(),
        None => pool().current_num_threads(),
    }
}

/// Runs `f` on a pool of `n` threads of its own (for tests and benchmarks; one training at a
/// time inside it, see [`sgd_epoch`]).
pub fn with_threads<R: Send>(n: usize, f: impl FnOnce() -> R + Send) -> Result<R> {
    ensure_param(n >= 1, "threads", n, "at least one thread is needed")?;
    Ok(new_pool(n)?.install(|| {
        OWN_POOL.with(|c| c.set(true));
        let r = f();
        OWN_POOL.with(|c| c.set(false));
        r
    }))
}

thread_local! {
    /// Set on the thread that runs a [`with_threads`] closure.
    static OWN_POOL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether every thread of the pool [`run`] uses is free to join a whole-epoch broadcast:
/// called from outside any pool (the trainer, the notebooks), or directly in [`with_threads`].
fn can_broadcast() -> bool {
    rayon::current_thread_index().is_none() || OWN_POOL.with(|c| c.get())
}

/// Runs `f` on the engine's pool unless already inside a rayon pool.
fn run<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    match rayon::current_thread_index() {
        Some(_) => f(),
        None => pool().install(f),
    }
}

/// C ← A B (β = 0): every matrix product of the engine goes through this function or
/// [`matmul_add`], so the GEMM backend is chosen in [`product`] and nowhere else, once per process
/// ([`backend`]), always the same on one machine (so a seed gives the same numbers run to run):
/// with the `gemm` feature (default, off in the notebooks) on x86-64, the gemm crate 0.19 with its
/// AVX-512 kernels (`x86-v4`) where the CPU has them, single-threaded, one call per shard of hidden
/// units, when every side is ≥ 16; otherwise matrixmultiply 0.3 through ndarray's
/// `general_mat_mul`, also one call per shard. Chosen by measurement on two CPU families
/// (BENCHMARKS.md, "GEMM backend"). Shapes: A m × k, B k × n, C m × n, any strides.
fn matmul<F: Real>(a: &ArrayView2<F>, b: &ArrayView2<F>, c: &mut ArrayViewMut2<F>) {
    product(a, b, None, c)
}

/// C ← C + s A B: the plain SGD step fused into the product that makes the gradient
/// (C = W1's shard, s = −η), so the gradient is never written to memory and read back.
fn matmul_add<F: Real>(a: &ArrayView2<F>, b: &ArrayView2<F>, s: F, c: &mut ArrayViewMut2<F>) {
    product(a, b, Some(s), c)
}

/// C ← A B, or C ← C + s A B with `add = Some(s)`, on the backend of this machine.
fn product<F: Real>(a: &ArrayView2<F>, b: &ArrayView2<F>, add: Option<F>, c: &mut ArrayViewMut2<F>) {
    // gemm's special paths for small or thin products round differently with the operands'
    // strides, so those (cheap) stay on matrixmultiply: the broadcast and the per-minibatch
    // epoch then agree bit for bit (tested in epoch.rs)
    #[cfg(feature = "gemm")]
    if backend::<F>() == Backend::GemmCrate && a.nrows().min(a.ncols()).min(b.ncols()) >= GEMM_MIN_DIM {
        return gemm_crate(a, b, add, c);
    }
    match add {
        Some(s) => general_mat_mul(s, a, b, F::one(), c),
        None => general_mat_mul(F::one(), a, b, F::zero(), c),
    }
}

/// Products with a side shorter than this stay on matrixmultiply (see [`matmul`]).
#[cfg(feature = "gemm")]
const GEMM_MIN_DIM: usize = 16;

/// The two GEMM backends `matmul` can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// matrixmultiply 0.3 (through ndarray's `general_mat_mul`).
    Matrixmultiply,
    /// The gemm crate 0.19 (feature `gemm`).
    GemmCrate,
}

/// The backend `matmul` uses on this machine: the gemm crate when the `gemm` feature is on and
/// the CPU is x86-64 (f32 and f64 alike), else matrixmultiply. Measured (BENCHMARKS.md): on an
/// AVX2-only AMD Zen 1 the gemm crate ran f64 1.6–2× and f32 1.0–1.1× as fast as matrixmultiply
/// at the MLP's shapes; on an AVX-512 Intel Xeon (Sapphire Rapids) with its `x86-v4` kernels
/// 1.2–1.4× (f64) and 1.1–1.3× (f32). Element type `F` is kept in the signature so that a rule
/// per type stays a one-line change.
pub fn backend<F: Real>() -> Backend {
    if cfg!(all(feature = "gemm", target_arch = "x86_64")) {
        Backend::GemmCrate
    } else {
        Backend::Matrixmultiply
    }
}

/// Whether this CPU has AVX-512 (the gemm crate then runs its `x86-v4` kernels); for reports.
pub fn has_avx512() -> bool {
    // the standard library caches the CPUID answer
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// C ← A B, or C ← C + s A B with `add = Some(s)`, with the gemm crate, single-threaded (the
/// engine's threads are its shards).
#[cfg(feature = "gemm")]
fn gemm_crate<F: Real>(a: &ArrayView2<F>, b: &ArrayView2<F>, add: Option<F>, c: &mut ArrayViewMut2<F>) {
    let ((m, k), n) = (a.dim(), b.ncols());
    assert_eq!((b.nrows(), c.dim()), (k, (m, n)), "matmul: shapes (m x k)(k x n) -> m x n");
    // SAFETY: the pointers and strides come from live ndarray views of the shapes checked
    // above; C is borrowed mutably, so it aliases neither A nor B; F is f32 or f64, the
    // element types gemm dispatches on (by TypeId) when the conjugation flags are false.
    // gemm computes dst ← α dst + β A B (α is ignored and dst not read without `read_dst`)
    let (alpha, beta) = match add {
        Some(s) => (F::one(), s),
        None => (F::zero(), F::one()),
    };
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            c.strides()[1],
            c.strides()[0],
            add.is_some(), // read dst
            a.as_ptr(),
            a.strides()[1],
            a.strides()[0],
            b.as_ptr(),
            b.strides()[1],
            b.strides()[0],
            alpha,
            beta,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

/// The hidden units per shard: one shard per thread.
fn shard_len(d_h: usize) -> usize {
    d_h.div_ceil(threads()).max(1)
}

/// The columns of a K × d_h matrix in shards of `len` hidden units (all `None` without it).
fn column_shards<F: Real>(a: Option<&Array2<F>>, d_h: usize, len: usize) -> Vec<Option<ArrayView2<'_, F>>> {
    match a {
        Some(a) => a.axis_chunks_iter(Axis(1), len).map(Some).collect(),
        None => vec![None; d_h.div_ceil(len)],
    }
}

/// The working buffers of the fast matrix version; keep one per training run. Column-major (the
/// K examples of one hidden unit side by side): the gemm crate then computes H_a = X W1ᵀ reading
/// W1's rows in place, where with row-major buffers it transposes the product and copies (packs)
/// all of W1, 3.2 MB at d_h = 512 in f64, for every minibatch (1.26 → 1.14 s per epoch there on
/// one thread, BENCHMARKS.md); G_ha likewise for ∂W1 = G_haᵀ X.
#[derive(Clone, Debug, Default)]
pub struct Engine<F> {
    /// H_a: K × d_h.
    h_a: Array2<F>,
    /// H_s: K × d_h.
    h_s: Array2<F>,
    /// G_ha = ∂L/∂H_a: K × d_h.
    grad_ha: Array2<F>,
}

impl<F: Real> Engine<F> {
    /// An engine with empty buffers (they take their size at the first minibatch).
    pub fn new() -> Self {
        Engine { h_a: Array2::zeros((0, 0)), h_s: Array2::zeros((0, 0)), grad_ha: Array2::zeros((0, 0)) }
    }

    fn resize(&mut self, k: usize, d_h: usize) {
        if self.h_a.dim() != (k, d_h) {
            self.h_a = Array2::zeros((k, d_h).f());
            self.h_s = Array2::zeros((k, d_h).f());
            self.grad_ha = Array2::zeros((k, d_h).f());
        }
    }

    /// The forward pass on all threads: fills H_a and H_s (K × d_h, H_s masked by dropout
    /// when `mask` is given) and returns O_a = H_s W2ᵀ + b2 (K × m).
    fn forward(&mut self, model: &Mlp<F>, x: ArrayView2<F>, mask: Option<&Array2<F>>) -> Array2<F> {
        let (m, d_h) = model.w2.dim();
        self.resize(x.nrows(), d_h);
        let len = shard_len(d_h);
        let shards: Vec<_> = self
            .h_a
            .axis_chunks_iter_mut(Axis(1), len)
            .zip(self.h_s.axis_chunks_iter_mut(Axis(1), len))
            .zip(model.w1.axis_chunks_iter(Axis(0), len).zip(model.b1.axis_chunks_iter(Axis(0), len)))
            .zip(model.w2.axis_chunks_iter(Axis(1), len).zip(column_shards(mask, d_h, len)))
            .collect();
        let parts: Vec<Array2<F>> = run(|| {
            shards
                .into_par_iter()
                .map(|(((h_a, h_s), (w1, b1)), (w2, mask))| {
                    let mut part = Array2::zeros((x.nrows(), w2.nrows()));
                    forward_shard(&x, ShardParams { w1, b1, w2 }, mask, h_a, h_s, &mut part.view_mut());
                    part
                })
                .collect()
        });
        let mut o_a = Array2::zeros((x.nrows(), m));
        for p in &parts {
            o_a += p;
        }
        o_a + &model.b2
    }

    /// Class scores O_a = H_s W2ᵀ + b2 (K × m) of each row of X: K × d, on all threads.
    pub fn scores(&mut self, model: &Mlp<F>, x: ArrayView2<F>) -> Result<Array2<F>> {
        ensure_shape(x.ncols() == model.w1.ncols(), || format!("W1 has {} columns but x has {} features", model.w1.ncols(), x.ncols()))?;
        Ok(self.forward(model, x, None))
    }

    /// The matrix version's minibatch loss (mean cross-entropy plus the penalty), returned,
    /// and its gradient, written into `g` (overwritten; `g.x` untouched). X: K × d with
    /// labels y (K); `mask`: a K × d_h dropout mask on the hidden layer.
    pub fn loss_grad(&mut self, model: &Mlp<F>, x: ArrayView2<F>, y: &[usize], reg: &ElasticNet<F>, mask: Option<&Array2<F>>, g: &mut Grads<F>) -> Result<F> {
        model.check_batch(&x, y)?;
        check_mask(mask, x.nrows(), model.b1.len())?;
        ensure_shape(g.w1.dim() == model.w1.dim() && g.w2.dim() == model.w2.dim() && g.b1.len() == model.b1.len() && g.b2.len() == model.b2.len(), || {
            "gradient buffers do not match the network's parameters".into()
        })?;
        let o_a = self.forward(model, x, mask);
        let (loss, grad_oa) = cross_entropy_head(&o_a, y.iter().copied());
        g.b2.assign(&grad_oa.sum_axis(Axis(0)));
        self.backward(model, x, &grad_oa, mask, g);
        add_penalty_grad(model, reg, g);
        Ok(loss + penalty(model, reg))
    }

    /// The backward pass on all threads, shard s of the hidden units: ∂W2\[:, s\] = G_oaᵀ H_s\[:, s\],
    /// G_ha\[:, s\] = (G_oa W2\[:, s\]) ⊙ 1\[H_a\[:, s\] > 0\] \[⊙ M\], ∂W1\[s, :\] = G_ha\[:, s\]ᵀ X, ∂b1\[s\] = Σᵢ G_ha\[i, s\].
    fn backward(&mut self, model: &Mlp<F>, x: ArrayView2<F>, grad_oa: &Array2<F>, mask: Option<&Array2<F>>, g: &mut Grads<F>) {
        let d_h = model.b1.len();
        let len = shard_len(d_h);
        let shards: Vec<_> = g
            .w1
            .axis_chunks_iter_mut(Axis(0), len)
            .zip(g.b1.axis_chunks_iter_mut(Axis(0), len))
            .zip(g.w2.axis_chunks_iter_mut(Axis(1), len))
            .zip(
                (model.w2.axis_chunks_iter(Axis(1), len).zip(column_shards(mask, d_h, len)))
                    .zip(self.h_a.axis_chunks_iter(Axis(1), len).zip(self.h_s.axis_chunks_iter(Axis(1), len)))
                    .zip(self.grad_ha.axis_chunks_iter_mut(Axis(1), len)),
            )
            .collect();
        run(|| {
            shards.into_par_iter().for_each(|(((gw1, mut gb1), mut gw2), (((w2, mask), (h_a, h_s)), grad_ha))| {
                backward_shard(&x, grad_oa, w2, mask, (h_a, h_s, grad_ha), (W1Grad::Store(gw1), &mut gb1, &mut gw2));
            })
        });
    }
}

/// The mean cross-entropy of the scores O_a (K × m) for the labels y (K of them), and its
/// gradient G_oa = ∂L/∂O_a = (softmax(O_a) − onehot(y)) / K (K × m).
pub(crate) fn cross_entropy_head<F: Real>(o_a: &Array2<F>, y: impl Iterator<Item = usize> + Clone) -> (F, Array2<F>) {
    let k = F::from_usize(o_a.nrows()).unwrap();
    let log_p = log_softmax_rows(o_a.view());
    let loss = y.clone().enumerate().fold(F::zero(), |s, (i, c)| s - log_p[[i, c]]) / k;
    let mut grad_oa = softmax_rows(o_a.view());
    for (i, c) in y.enumerate() {
        grad_oa[[i, c]] -= F::one();
    }
    grad_oa.mapv_inplace(|v| v / k);
    (loss, grad_oa)
}

/// One shard s of hidden units of the network: W1\[s, :\] (s × d), b1\[s\] (s), W2\[:, s\] (m × s).
pub(crate) struct ShardParams<'a, F> {
    pub w1: ArrayView2<'a, F>,
    pub b1: ArrayView1<'a, F>,
    pub w2: ArrayView2<'a, F>,
}

/// The forward pass of shard s: H_a\[:, s\] = X W1\[s, :\]ᵀ + b1\[s\], H_s\[:, s\] = relu(H_a\[:, s\])
/// \[⊙ M\[:, s\]\] (K × s each, written into `h_a`, `h_s`), and the shard's share
/// P_s = H_s\[:, s\] W2\[:, s\]ᵀ of O_a (K × m) written into `part`. X: K × d.
pub(crate) fn forward_shard<F: Real>(x: &ArrayView2<F>, p: ShardParams<F>, mask: Option<ArrayView2<F>>, mut h_a: ArrayViewMut2<F>, mut h_s: ArrayViewMut2<F>, part: &mut ArrayViewMut2<F>) {
    matmul(x, &p.w1.t(), &mut h_a); //   K × s = (K × d)(d × s)
    h_a += &p.b1;
    h_s.zip_mut_with(&h_a, |s, &a| *s = relu(a));
    if let Some(mk) = mask {
        h_s *= &mk;
    }
    matmul(&h_s.view(), &p.w2.t(), part); // K × m = (K × s)(s × m)
}

/// Where [`backward_shard`] puts ∂W1\[s, :\] (s × d).
pub(crate) enum W1Grad<'a, F> {
    /// Written into this buffer.
    Store(ArrayViewMut2<'a, F>),
    /// Applied at once, the plain SGD step W1\[s, :\] ← W1\[s, :\] − η ∂W1\[s, :\] (the shard of W1
    /// and η) fused into the product ([`matmul_add`]): the gradient, as large as W1, is never
    /// stored and read back. The step rounds once (a fused multiply-add) where the separate step
    /// rounds twice.
    Step(ArrayViewMut2<'a, F>, F),
}

/// The backward pass of shard s, from G_oa = ∂L/∂O_a (K × m) and the shard's H_a, H_s:
/// ∂W2\[:, s\] = G_oaᵀ H_s\[:, s\] (m × s), G_ha\[:, s\] = (G_oa W2\[:, s\]) ⊙ 1\[H_a\[:, s\] > 0\] \[⊙ M\[:, s\]\]
/// (K × s, written into the third buffer), ∂W1\[s, :\] = G_ha\[:, s\]ᵀ X (s × d, see [`W1Grad`]),
/// ∂b1\[s\] = Σᵢ G_ha\[i, s\].
pub(crate) fn backward_shard<F: Real>(
    x: &ArrayView2<F>,
    grad_oa: &Array2<F>,
    w2: ArrayView2<F>,
    mask: Option<ArrayView2<F>>,
    (h_a, h_s, mut grad_ha): (ArrayView2<F>, ArrayView2<F>, ArrayViewMut2<F>),
    (gw1, gb1, gw2): (W1Grad<F>, &mut ArrayViewMut1<F>, &mut ArrayViewMut2<F>),
) {
    matmul(&grad_oa.t(), &h_s, gw2); //          m × s = (m × K)(K × s)
    matmul(&grad_oa.view(), &w2, &mut grad_ha); // K × s = (K × m)(m × s)
    grad_ha.zip_mut_with(&h_a, |g, &a| *g *= step(a));
    if let Some(mk) = mask {
        grad_ha *= &mk;
    }
    match gw1 {
        W1Grad::Store(mut gw1) => matmul(&grad_ha.t(), x, &mut gw1), // s × d = (s × K)(K × d)
        W1Grad::Step(mut w1, lr) => matmul_add(&grad_ha.t(), x, -lr, &mut w1),
    }
    // one column sum per hidden unit: the same order of additions whatever the view's strides
    // (`sum_axis` picks its order from them, and a K × 1 slice and a K × 1 shard of a wider
    // matrix can differ in the stride of their length-1 axis)
    for (b, col) in gb1.iter_mut().zip(grad_ha.columns()) {
        *b = col.sum();
    }
}

/// The elastic-net penalty, [`Mlp::penalty`], on all threads (one shard of hidden units each,
/// summed in shard order, so the same number every run) and skipped when every λ is 0: a serial
/// sum over W1 costs as much as a quarter of the minibatch's products at d_h = 512.
fn penalty<F: Real>(model: &Mlp<F>, reg: &ElasticNet<F>) -> F {
    if reg.is_zero() {
        return F::zero();
    }
    let len = shard_len(model.b1.len());
    let shards: Vec<_> = model.w1.axis_chunks_iter(Axis(0), len).zip(model.w2.axis_chunks_iter(Axis(1), len)).collect();
    let parts: Vec<F> = run(|| shards.into_par_iter().map(|(w1, w2)| shard_penalty(w1, w2, reg)).collect());
    parts.into_iter().fold(F::zero(), |a, b| a + b)
}

/// The penalty of one shard s of hidden units: Σ over W1\[s, :\] and W2\[:, s\] of λ1 |w| + λ2 w².
fn shard_penalty<F: Real>(w1: ArrayView2<F>, w2: ArrayView2<F>, reg: &ElasticNet<F>) -> F {
    let sum = |w: ArrayView2<F>, l1: F, l2: F| w.fold(F::zero(), |s, &v| s + l1 * v.abs() + l2 * v * v);
    sum(w1, reg.l11, reg.l12) + sum(w2, reg.l21, reg.l22)
}

/// One step of minibatch SGD on all threads, the same update as [`Mlp::sgd_step`]:
/// θ ← θ − η g; with `velocity` = (v, μ) the momentum step v ← μ v + g, θ ← θ − η v.
pub fn sgd_step<F: Real>(model: &mut Mlp<F>, g: &Grads<F>, velocity: Option<(&mut Grads<F>, F)>, lr: F) -> Result<()> {
    ensure_param(lr.is_finite() && lr > F::zero(), "lr", lr, "the learning rate must be positive and finite")?;
    let same = |a: &Grads<F>| a.w1.dim() == model.w1.dim() && a.w2.dim() == model.w2.dim() && a.b1.len() == model.b1.len() && a.b2.len() == model.b2.len();
    ensure_shape(same(g), || "gradient shapes do not match the network's parameters".into())?;
    let step = match velocity {
        Some((v, mu)) => {
            ensure_shape(same(v), || "velocity shapes do not match the network's parameters".into())?;
            run(|| {
                Zip::from(&mut v.w1).and(&g.w1).par_for_each(|v, &g| *v = mu * *v + g);
                Zip::from(&mut v.w2).and(&g.w2).par_for_each(|v, &g| *v = mu * *v + g);
            });
            v.b1.zip_mut_with(&g.b1, |v, &g| *v = mu * *v + g);
            v.b2.zip_mut_with(&g.b2, |v, &g| *v = mu * *v + g);
            &*v
        }
        None => g,
    };
    run(|| {
        Zip::from(&mut model.w1).and(&step.w1).par_for_each(|w, &d| *w -= lr * d);
        Zip::from(&mut model.w2).and(&step.w2).par_for_each(|w, &d| *w -= lr * d);
    });
    model.b1.scaled_add(-lr, &step.b1);
    model.b2.scaled_add(-lr, &step.b2);
    Ok(())
}

/// g ← g + the penalty's subgradient, in place ([`Mlp::penalty_grad`] without a copy of W1).
fn add_penalty_grad<F: Real>(model: &Mlp<F>, reg: &ElasticNet<F>, g: &mut Grads<F>) {
    add_shard_penalty_grad(model.w1.view(), model.w2.view(), reg, &mut g.w1, &mut g.w2);
}

/// The same for one shard: ∂W1 += λ11 sign(W1) + 2λ12 W1, ∂W2 += λ21 sign(W2) + 2λ22 W2.
fn add_shard_penalty_grad<F: Real>(w1: ArrayView2<F>, w2: ArrayView2<F>, reg: &ElasticNet<F>, g_w1: &mut Array2<F>, g_w2: &mut Array2<F>) {
    if reg.is_zero() {
        return;
    }
    let two = F::from_f64(2.0).unwrap();
    let sign = crate::core::activation::sign::<F>;
    g_w1.zip_mut_with(&w1, |gv, &w| *gv += reg.l11 * sign(w) + two * reg.l12 * w);
    g_w2.zip_mut_with(&w2, |gv, &w| *gv += reg.l21 * sign(w) + two * reg.l22 * w);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::mlp::dropout_mask;
    use crate::core::rng;
    use ndarray::ShapeBuilder;
    use proptest::prelude::*;

    fn batch(k: usize, d: usize, m: usize, seed: u64) -> (Array2<f64>, Vec<usize>) {
        let x = rng::randn((k, d), &mut rng::seeded(seed));
        let y = (0..k).map(|i| (i * 7 + seed as usize) % m).collect();
        (x, y)
    }

    /// The same matrix in column-major memory order.
    fn column_major(a: &Array2<f64>) -> Array2<f64> {
        let mut out = Array2::zeros(a.raw_dim().f());
        out.assign(a);
        out
    }

    fn to32(net: &Mlp<f64>) -> Mlp<f32> {
        Mlp::new(net.w1.mapv(|v| v as f32), net.b1.mapv(|v| v as f32), net.w2.mapv(|v| v as f32), net.b2.mapv(|v| v as f32)).unwrap()
    }

    /// The backend rule: the gemm crate for both element types exactly when the feature is on
    /// and the target is x86-64.
    #[test]
    fn backend_rule() {
        let gemm = cfg!(all(feature = "gemm", target_arch = "x86_64"));
        assert_eq!(backend::<f64>() == Backend::GemmCrate, gemm);
        assert_eq!(backend::<f32>(), backend::<f64>());
    }

    /// The gemm crate's product equals matrixmultiply's on every memory layout the engine
    /// passes (row-major, transposed views, column slices), whichever backend this CPU uses.
    #[cfg(feature = "gemm")]
    #[test]
    fn gemm_crate_matches_matrixmultiply() {
        let a = rng::randn((13, 70), &mut rng::seeded(3));
        let b = rng::randn((70, 29), &mut rng::seeded(4));
        let bt = column_major(&b);
        let at = a.t().to_owned();
        for (av, bv) in [(a.view(), b.view()), (at.t(), bt.view()), (a.view(), b.slice(ndarray::s![.., 5..17]))] {
            let mut want = Array2::zeros((av.nrows(), bv.ncols()));
            general_mat_mul(1.0, &av, &bv, 0.0, &mut want);
            let mut got = Array2::from_elem(want.raw_dim(), f64::NAN);
            gemm_crate(&av, &bv, None, &mut got.view_mut());
            let gap = (&got - &want).iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(gap < 1e-12, "gemm crate vs matrixmultiply: {gap:e}");
        }
        let (a32, b32) = (a.mapv(|v| v as f32), b.mapv(|v| v as f32));
        let mut want = Array2::zeros((13, 29));
        general_mat_mul(1.0f32, &a32.view(), &b32.view(), 0.0, &mut want);
        let mut got = Array2::from_elem((13, 29), f32::NAN);
        gemm_crate(&a32.view(), &b32.view(), None, &mut got.view_mut());
        assert!((&got - &want).iter().all(|v| v.abs() < 1e-4));
    }

    /// C ← C + s A B (the fused SGD step) equals the explicit sum on this machine's backend, at a
    /// small shape (matrixmultiply) and at the MLP's (the gemm crate with the `gemm` feature), for
    /// a transposed A as the engine passes it; f32 too.
    #[test]
    fn matmul_add_is_c_plus_s_times_ab() {
        for (m, k, n) in [(5usize, 7usize, 3usize), (64, 100, 784)] {
            let a = rng::randn((k, m), &mut rng::seeded(3));
            let b = rng::randn((k, n), &mut rng::seeded(4));
            let c0 = rng::randn((m, n), &mut rng::seeded(5));
            let want = &c0 - &(a.t().dot(&b) * 0.1);
            let mut got = c0.clone();
            matmul_add(&a.t(), &b.view(), -0.1, &mut got.view_mut());
            let gap = (&got - &want).iter().fold(0.0f64, |g, v| g.max(v.abs()));
            assert!(gap < 1e-12, "{m} x {k} x {n}: {gap:e}");
            let (a32, b32, c32) = (a.mapv(|v| v as f32), b.mapv(|v| v as f32), c0.mapv(|v| v as f32));
            let mut got = c32.clone();
            matmul_add(&a32.t(), &b32.view(), -0.1, &mut got.view_mut());
            assert!(got.iter().zip(want.iter()).all(|(g, w)| (*g as f64 - w).abs() < 1e-4));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(30))]
        #[test]
        fn engine_equals_the_core_matrix_version(
            d in 1usize..12, dh in 1usize..40, m in 2usize..6, k in 1usize..20, seed in 0u64..10_000,
            threads in 1usize..4, col_x: bool, col_w1: bool, with_reg: bool, with_mask: bool,
        ) {
            let mut net = Mlp::<f64>::init(d, dh, m, seed).unwrap();
            net.b1 = rng::randn(dh, &mut rng::seeded(seed + 1)) * 0.3;
            if col_w1 { net.w1 = column_major(&net.w1); }
            let (mut x, y) = batch(k, d, m, seed + 2);
            if col_x { x = column_major(&x); }
            let reg = if with_reg { ElasticNet::new(0.01, 0.02, 0.03, 0.04).unwrap() } else { ElasticNet::none() };
            let mask = with_mask.then(|| dropout_mask::<f64>(k, dh, 0.3, &mut rng::seeded(seed + 3)).unwrap());
            let (lc, gc) = net.loss_grad_matrix_masked(x.view(), &y, &reg, mask.clone(), false).unwrap();
            let mut g = Grads::zeros_like(&net);
            g.w1.fill(7.0); // overwritten, not accumulated
            let mut engine = Engine::new();
            let le = with_threads(threads, || engine.loss_grad(&net, x.view(), &y, &reg, mask.as_ref(), &mut g)).unwrap().unwrap();
            prop_assert!((lc - le).abs() < 1e-12, "loss {lc} vs {le}");
            prop_assert!(gc.max_abs_diff(&g) < 1e-12, "max |Δ∇| = {}", gc.max_abs_diff(&g));
            // twice with the same buffers: the same result
            let le2 = engine.loss_grad(&net, x.view(), &y, &reg, mask.as_ref(), &mut g).unwrap();
            prop_assert!((le2 - le).abs() < 1e-12);
            // f32: 1e-5 relative
            let (n32, x32) = (to32(&net), x.mapv(|v| v as f32));
            let reg32 = ElasticNet { l11: reg.l11 as f32, l12: reg.l12 as f32, l21: reg.l21 as f32, l22: reg.l22 as f32 };
            let mask32 = mask.map(|mk| mk.mapv(|v| v as f32));
            let (lc, gc) = n32.loss_grad_matrix_masked(x32.view(), &y, &reg32, mask32.clone(), false).unwrap();
            let mut g32 = Grads::zeros_like(&n32);
            let le = with_threads(threads, || Engine::new().loss_grad(&n32, x32.view(), &y, &reg32, mask32.as_ref(), &mut g32)).unwrap().unwrap();
            prop_assert!((lc - le).abs() <= 1e-5 * lc.abs().max(1.0));
            let scale = gc.to_dyn().iter().flat_map(|a| a.iter().map(|v| v.abs()).collect::<Vec<_>>()).fold(1e-3f32, f32::max);
            prop_assert!(gc.max_abs_diff(&g32) <= 1e-5 * scale, "f32 max |Δ∇| = {} (scale {scale})", gc.max_abs_diff(&g32));
        }
    }

    #[test]
    fn sgd_step_equals_the_core_update_with_and_without_momentum() {
        let net = Mlp::<f64>::init(7, 33, 3, 4).unwrap();
        let (x, y) = batch(9, 7, 3, 6);
        let (_, g) = net.loss_grad_matrix(x.view(), &y, &ElasticNet::none(), false).unwrap();
        let (mut a, mut b) = (net.clone(), net.clone());
        b.sgd_step(&g, 0.2).unwrap();
        with_threads(3, || sgd_step(&mut a, &g, None, 0.2)).unwrap().unwrap();
        assert!(a.w1 == b.w1 && a.b1 == b.b1 && a.w2 == b.w2 && a.b2 == b.b2);
        // momentum: v ← μ v + g, θ ← θ − η v, twice from v = 0
        let (mut a, mut b) = (net.clone(), net.clone());
        let (mut va, mut vb) = (Grads::zeros_like(&net), Grads::zeros_like(&net));
        for _ in 0..2 {
            with_threads(2, || sgd_step(&mut a, &g, Some((&mut va, 0.9)), 0.2)).unwrap().unwrap();
            for (v, gv) in [(&mut vb.w1, &g.w1), (&mut vb.w2, &g.w2)] {
                v.zip_mut_with(gv, |v, &g| *v = 0.9 * *v + g);
            }
            for (v, gv) in [(&mut vb.b1, &g.b1), (&mut vb.b2, &g.b2)] {
                v.zip_mut_with(gv, |v, &g| *v = 0.9 * *v + g);
            }
            b.sgd_step(&vb, 0.2).unwrap();
        }
        assert!(a.w1 == b.w1 && a.b1 == b.b1 && a.w2 == b.w2 && a.b2 == b.b2 && va.w1 == vb.w1);
        let wrong = Grads::zeros_like(&Mlp::<f64>::init(7, 2, 3, 0).unwrap());
        assert_eq!(sgd_step(&mut a, &wrong, None, 0.2).unwrap_err().to_string(), "shape mismatch: gradient shapes do not match the network's parameters");
    }

    #[test]
    fn scores_equal_the_core_forward_pass() {
        let net = Mlp::<f64>::init(9, 70, 4, 3).unwrap();
        let (x, _) = batch(13, 9, 4, 5);
        let o_a = with_threads(3, || Engine::new().scores(&net, x.view())).unwrap().unwrap();
        let core = net.fprop_batch(x.view()).unwrap().o_a;
        assert!((&o_a - &core).iter().all(|v| v.abs() < 1e-12));
    }

    #[test]
    fn bad_inputs_are_clear_errors() {
        let net = Mlp::<f64>::init(4, 3, 2, 0).unwrap();
        let (x, y) = batch(5, 4, 2, 1);
        let mut g = Grads::zeros_like(&net);
        let mut e = Engine::new();
        let bad = Array2::<f64>::zeros((5, 2));
        let msg = e.loss_grad(&net, bad.view(), &y, &ElasticNet::none(), None, &mut g).unwrap_err().to_string();
        assert_eq!(msg, "shape mismatch: W1 has 4 columns but x has 2 features");
        let mask = Array2::<f64>::ones((5, 4));
        let msg = e.loss_grad(&net, x.view(), &y, &ElasticNet::none(), Some(&mask), &mut g).unwrap_err().to_string();
        assert_eq!(msg, "shape mismatch: the dropout mask is (5, 4) but the minibatch needs (5, 3) (K × d_h)");
        let mut small = Grads::zeros_like(&Mlp::<f64>::init(4, 2, 2, 0).unwrap());
        let msg = e.loss_grad(&net, x.view(), &y, &ElasticNet::none(), None, &mut small).unwrap_err().to_string();
        assert_eq!(msg, "shape mismatch: gradient buffers do not match the network's parameters");
        assert!(with_threads(0, || ()).is_err());
    }
}
