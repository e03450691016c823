//! A whole SGD epoch of the matrix version with each thread holding its shard of hidden units
//! from the first minibatch to the last: the same arithmetic as calling
//! [`Engine::loss_grad`](super::Engine::loss_grad) and [`sgd_step`] once per
//! minibatch, with the same shards, so the result is bit for bit the same at the same thread
//! count (tested), but with one meeting of the threads per minibatch instead of four. One
//! exception: plain SGD without a penalty (no momentum, every λ 0) steps W1 inside the product
//! that computes its gradient (`W1Grad::Step`), W1\[s, :\] ← W1\[s, :\] − η G_ha\[:, s\]ᵀ X, so the
//! gradient, as large as W1, is never written and read back (1.30 → 1.17 s per epoch at d_h = 512
//! in f64 on one thread, BENCHMARKS.md); that step rounds once where the separate step rounds
//! twice, and the two paths' models agree to 1e-12 in f64 and 1e-5 in f32 after two epochs (tested).
//!
//! Why: on a virtual machine an idle core sleeps, and waking it for each of the four parallel
//! regions of a minibatch (forward, backward, two updates) costs 0.1–0.3 ms, as much as the
//! products themselves at d_h = 100. Here every thread of the pool runs the epoch's loop
//! ([`rayon::broadcast`]); per minibatch, thread s
//! 1. gathers the minibatch X (K × d) into its own buffer;
//! 2. computes H_a\[:, s\], H_s\[:, s\] and its share P_s = H_s\[:, s\] W2\[:, s\]ᵀ of O_a (K × m),
//!    and its share of the penalty, into its slot;
//! 3. waits until every thread has filled its slot (the one meeting point, a spinning barrier);
//! 4. sums the slots in shard order, O_a = Σ_s P_s + b2, and computes the loss and
//!    G_oa = (softmax(O_a) − onehot(y)) / K itself (K × m numbers: cheaper to compute on every
//!    thread than to share), each thread with its own copy of b2, updated identically;
//! 5. computes ∂W2\[:, s\], G_ha\[:, s\], ∂W1\[s, :\], ∂b1\[s\] and updates its shard of W1, b1, W2
//!    (and of the velocity).
//!
//! The slots are double-buffered (minibatch t uses set t mod 2): a thread can only write set t mod 2
//! again at minibatch t + 2, after every thread has passed the meeting of t + 1 and so has finished
//! reading set t mod 2 at t. Dropout needs random masks drawn in order, so the trainer uses the
//! per-minibatch path for it.

use super::{add_shard_penalty_grad, backward_shard, cross_entropy_head, forward_shard, sgd_step, shard_len, shard_penalty, Engine, ShardParams, W1Grad};
use crate::core::error::{ensure_param, ensure_shape, Result};
use crate::core::mlp::{ElasticNet, Grads, Mlp};
use crate::core::Real;
use ndarray::{s, Array1, Array2, ArrayView, ArrayViewMut, ArrayViewMut1, ArrayViewMut2, Axis, Dimension, ShapeBuilder, Zip};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The hyperparameters of one epoch's update.
#[derive(Clone, Copy, Debug)]
pub struct Update<'a, F> {
    /// η.
    pub lr: F,
    /// μ (0: plain SGD; then no velocity is read or written).
    pub momentum: F,
    /// The elastic-net penalty.
    pub reg: &'a ElasticNet<F>,
}

/// One thread's part of the network: rows s of W1 (and of its velocity), b1\[s\], columns s of W2.
struct Shard<'a, F> {
    w1: ArrayViewMut2<'a, F>,
    b1: ArrayViewMut1<'a, F>,
    w2: ArrayViewMut2<'a, F>,
    velocity: Option<(ArrayViewMut2<'a, F>, ArrayViewMut1<'a, F>, ArrayViewMut2<'a, F>)>,
}

/// A barrier for `n` threads that spins (then yields) instead of sleeping: the threads meet
/// every few hundred microseconds, and a sleeping core takes longer than that to wake.
struct SpinBarrier {
    n: usize,
    arrived: AtomicUsize,
    generation: AtomicUsize,
}

impl SpinBarrier {
    fn new(n: usize) -> Self {
        SpinBarrier { n, arrived: AtomicUsize::new(0), generation: AtomicUsize::new(0) }
    }

    fn wait(&self) {
        let gen = self.generation.load(Ordering::Acquire);
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.n {
            self.arrived.store(0, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::Release);
            return;
        }
        let mut spins = 0u32;
        while self.generation.load(Ordering::Acquire) == gen {
            if spins < 20_000 {
                std::hint::spin_loop();
                spins += 1;
            } else {
                std::thread::yield_now(); // more threads than cores: let the others run
            }
        }
    }
}

/// Shard s's share P_s of O_a (K × m) and its share of the penalty, for one minibatch.
type Slot<F> = Mutex<(Array2<F>, F)>;

/// What a thread ends with: its mean loss, its copy of b2 and of b2's velocity.
type ThreadResult<F> = (f64, Array1<F>, Option<Array1<F>>);

/// Only one broadcast epoch at a time: two at once on the same pool could each hold one thread
/// waiting for the other's.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Trains `model` for one epoch on the minibatches `batches` (row indices into `x` (n × d) and
/// `y` (n)), velocity (shapes of the model) used when `update.momentum > 0`. Returns the mean
/// minibatch loss, or the first non-finite loss (the update of that minibatch not applied),
/// like the trainer's `train_epoch`. Runs on the engine's pool (or the pool it is called in).
pub fn sgd_epoch<F: Real>(model: &mut Mlp<F>, velocity: Option<&mut Grads<F>>, x: &Array2<F>, y: &[usize], batches: &[Vec<usize>], update: Update<F>) -> Result<f64> {
    let d = model.w1.ncols();
    ensure_shape(x.ncols() == d && x.nrows() == y.len(), || format!("x is {:?} with {} labels; the network needs n × {d} and n labels", x.dim(), y.len()))?;
    ensure_shape(batches.iter().flatten().all(|&i| i < y.len()), || "a minibatch index is past the end of the data".into())?;
    let momentum = update.momentum > F::zero();
    ensure_param(update.lr.is_finite() && update.lr > F::zero(), "lr", update.lr, "the learning rate must be positive and finite")?;
    ensure_param(!momentum || velocity.is_some(), "momentum", update.momentum, "momentum needs a velocity (Grads::zeros_like(model) at the start)")?;
    if let Some(v) = &velocity {
        ensure_shape(v.w1.dim() == model.w1.dim() && v.w2.dim() == model.w2.dim(), || "velocity shapes do not match the network's parameters".into())?;
    }
    if super::can_broadcast() {
        broadcast_epoch(model, velocity, x, y, batches, update)
    } else {
        per_minibatch_epoch(model, velocity, x, y, batches, update)
    }
}

/// The same epoch as one [`Engine::loss_grad`] and one [`sgd_step`] per minibatch: the reference
/// the broadcast epoch is tested against, and the path taken inside a parallel iterator, where
/// the pool's threads may be busy with other work and could never meet.
pub(crate) fn per_minibatch_epoch<F: Real>(model: &mut Mlp<F>, mut velocity: Option<&mut Grads<F>>, x: &Array2<F>, y: &[usize], batches: &[Vec<usize>], update: Update<F>) -> Result<f64> {
    let (mut engine, mut g) = (Engine::new(), Grads::zeros_like(model));
    let mut total = 0.0;
    for idx in batches {
        let yb: Vec<usize> = idx.iter().map(|&i| y[i]).collect();
        let l = engine.loss_grad(model, x.select(Axis(0), idx).view(), &yb, update.reg, None, &mut g)?.to_f64().unwrap();
        if !l.is_finite() {
            return Ok(l);
        }
        total += l;
        let v = velocity.as_deref_mut().filter(|_| update.momentum > F::zero()).map(|v| (v, update.momentum));
        sgd_step(model, &g, v, update.lr)?;
    }
    Ok(total / batches.len().max(1) as f64)
}

/// The epoch on every thread of the pool at once (the module's doc).
pub(crate) fn broadcast_epoch<F: Real>(model: &mut Mlp<F>, velocity: Option<&mut Grads<F>>, x: &Array2<F>, y: &[usize], batches: &[Vec<usize>], update: Update<F>) -> Result<f64> {
    let momentum = update.momentum > F::zero();
    // plain SGD without a penalty steps W1 inside the product that computes its gradient
    let fused = !momentum && update.reg.is_zero();
    let (d_h, d) = model.w1.dim();
    let m = model.b2.len();
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    super::run(|| {
        let len = shard_len(d_h);
        let n_shards = d_h.div_ceil(len);
        let mut vel = velocity.filter(|_| momentum);
        let b2_start = model.b2.clone();
        let vb2_start = vel.as_ref().map(|v| v.b2.clone());
        let mut v_shards: Vec<_> = match vel.as_deref_mut() {
            Some(v) => v.w1.axis_chunks_iter_mut(Axis(0), len).zip(v.b1.axis_chunks_iter_mut(Axis(0), len)).zip(v.w2.axis_chunks_iter_mut(Axis(1), len)).map(|((a, b), c)| Some((a, b, c))).collect(),
            None => (0..n_shards).map(|_| None).collect(),
        };
        let shards: Vec<Mutex<Option<Shard<F>>>> = model
            .w1
            .axis_chunks_iter_mut(Axis(0), len)
            .zip(model.b1.axis_chunks_iter_mut(Axis(0), len))
            .zip(model.w2.axis_chunks_iter_mut(Axis(1), len))
            .zip(v_shards.drain(..))
            .map(|(((w1, b1), w2), velocity)| Mutex::new(Some(Shard { w1, b1, w2, velocity })))
            .collect();
        // slot[t % 2][s]: P_s (K × m) and shard s's penalty, for minibatch t
        let slots: [Vec<Slot<F>>; 2] = std::array::from_fn(|_| (0..n_shards).map(|_| Mutex::new((Array2::zeros((0, m)), F::zero()))).collect());
        let barrier = SpinBarrier::new(n_shards);
        let results: Vec<Option<ThreadResult<F>>> = rayon::broadcast(|ctx| {
            let s = ctx.index();
            if s >= n_shards {
                return None;
            }
            let mut shard = shards[s].lock().unwrap().take().expect("each shard is taken once");
            let mut b2 = b2_start.clone();
            let mut vb2 = vb2_start.clone();
            let cols = shard.w1.nrows();
            let k_max = batches.iter().map(Vec::len).max().unwrap_or(0);
            let mut xb_buf = Array2::<F>::zeros((k_max, d));
            // column-major, as the Engine's (its doc says why)
            let (mut h_a, mut h_s, mut g_ha) = (Array2::<F>::zeros((k_max, cols).f()), Array2::<F>::zeros((k_max, cols).f()), Array2::<F>::zeros((k_max, cols).f()));
            // ∂W1[s, :] is only stored when the step is not fused
            let (mut gw1, mut gw2) = (Array2::<F>::zeros(if fused { (0, 0) } else { (cols, d) }), Array2::<F>::zeros((m, cols)));
            let mut total = 0.0;
            for (t, idx) in batches.iter().enumerate() {
                let kb = idx.len();
                let mut xb = xb_buf.slice_mut(s![..kb, ..]);
                gather_rows(x, idx, &mut xb);
                {
                    let mut slot = slots[t % 2][s].lock().unwrap();
                    if slot.0.nrows() != kb {
                        slot.0 = Array2::zeros((kb, m));
                    }
                    let params = ShardParams { w1: shard.w1.view(), b1: shard.b1.view(), w2: shard.w2.view() };
                    forward_shard(&xb.view(), params, None, h_a.slice_mut(s![..kb, ..]), h_s.slice_mut(s![..kb, ..]), &mut slot.0.view_mut());
                    slot.1 = if update.reg.is_zero() { F::zero() } else { shard_penalty(shard.w1.view(), shard.w2.view(), update.reg) };
                }
                barrier.wait();
                // every thread: O_a = Σ_s P_s + b2, the loss and G_oa
                let mut o_a = Array2::<F>::zeros((kb, m));
                let mut pen = F::zero();
                for slot in &slots[t % 2] {
                    let slot = slot.lock().unwrap();
                    o_a += &slot.0;
                    pen += slot.1;
                }
                let o_a = o_a + &b2;
                let (loss, g_oa) = cross_entropy_head(&o_a, idx.iter().map(|&i| y[i]));
                let l = (loss + pen).to_f64().unwrap();
                if !l.is_finite() {
                    return Some((l, b2, vb2));
                }
                total += l;
                let gb2 = g_oa.sum_axis(Axis(0));
                // backward, shard s
                let (lr, mu) = (update.lr, update.momentum);
                let mut gb1 = Array1::<F>::zeros(cols);
                let bufs = (h_a.slice(s![..kb, ..]), h_s.slice(s![..kb, ..]), g_ha.slice_mut(s![..kb, ..]));
                let w1_grad = if fused { W1Grad::Step(shard.w1.view_mut(), lr) } else { W1Grad::Store(gw1.view_mut()) };
                backward_shard(&xb.view(), &g_oa, shard.w2.view(), None, bufs, (w1_grad, &mut gb1.view_mut(), &mut gw2.view_mut()));
                add_shard_penalty_grad(shard.w1.view(), shard.w2.view(), update.reg, &mut gw1, &mut gw2);
                // the rest of the update of shard s (and of this thread's copy of b2), as in `sgd_step`
                let (vw1, vb1, vw2) = match shard.velocity.as_mut() {
                    Some((a, b, c)) => (Some(a), Some(b), Some(c)),
                    None => (None, None, None),
                };
                if !fused {
                    descend(shard.w1.view_mut(), vw1.map(|v| (v.view_mut(), mu)), gw1.view(), lr);
                }
                descend(shard.w2.view_mut(), vw2.map(|v| (v.view_mut(), mu)), gw2.view(), lr);
                descend(shard.b1.view_mut(), vb1.map(|v| (v.view_mut(), mu)), gb1.view(), lr);
                descend(b2.view_mut(), vb2.as_mut().map(|v| (v.view_mut(), mu)), gb2.view(), lr);
            }
            Some((total / batches.len().max(1) as f64, b2, vb2))
        });
        drop(shards);
        // every thread holds the same b2 (and velocity of b2); shard 0's is written back
        let (loss, b2, vb2) = results.into_iter().flatten().next().expect("at least one shard");
        model.b2.assign(&b2);
        if let (Some(v), Some(vb2)) = (vel, vb2) {
            v.b2.assign(&vb2);
        }
        Ok(loss)
    })
}

/// out\[r, :\] = x\[idx\[r\], :\] for every r (out: idx.len() × d): one `memcpy` per row when both
/// are contiguous (0.036 s per epoch of 50 000 images at d = 784 in f64, against 0.052 s for
/// ndarray's element-wise `assign`, which copies 16 bytes at a time).
pub(crate) fn gather_rows<F: Real>(x: &Array2<F>, idx: &[usize], out: &mut ArrayViewMut2<F>) {
    for (mut row, &i) in out.rows_mut().into_iter().zip(idx) {
        match (row.as_slice_mut(), x.row(i).to_slice()) {
            (Some(dst), Some(src)) => dst.copy_from_slice(src),
            _ => row.assign(&x.row(i)),
        }
    }
}

/// The update of [`sgd_step`] for one array: θ ← θ − η g, or with a velocity (v, μ) the
/// momentum step v ← μ v + g, θ ← θ − η v.
fn descend<F: Real, D: Dimension>(mut w: ArrayViewMut<F, D>, velocity: Option<(ArrayViewMut<F, D>, F)>, g: ArrayView<F, D>, lr: F) {
    match velocity {
        Some((mut v, mu)) => {
            Zip::from(&mut v).and(&g).for_each(|v, &g| *v = mu * *v + g);
            Zip::from(&mut w).and(&v).for_each(|w, &d| *w -= lr * d);
        }
        None => Zip::from(&mut w).and(&g).for_each(|w, &d| *w -= lr * d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rng;
    use crate::engine::with_threads;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// The broadcast epoch gives bit for bit the per-minibatch epoch's model, velocity and loss;
        /// for plain SGD without a penalty, where it fuses W1's step into the product, equal to 1e-12.
        #[test]
        fn broadcast_epoch_equals_per_minibatch(
            d in 1usize..10, dh in 1usize..30, m in 2usize..5, n in 1usize..40, k in 1usize..12,
            threads in 1usize..4, with_reg: bool, with_momentum: bool, seed in 0u64..1000,
        ) {
            let net = Mlp::<f64>::init(d, dh, m, seed).unwrap();
            let x = rng::randn((n, d), &mut rng::seeded(seed + 1));
            let y: Vec<usize> = (0..n).map(|i| (i * 5 + seed as usize) % m).collect();
            let idx: Vec<usize> = (0..n).rev().collect();
            let batches: Vec<Vec<usize>> = idx.chunks(k).map(|c| c.to_vec()).collect();
            let reg = if with_reg { ElasticNet::new(0.01, 0.02, 0.03, 0.04).unwrap() } else { ElasticNet::none() };
            let update = Update { lr: 0.3, momentum: if with_momentum { 0.9 } else { 0.0 }, reg: &reg };
            let run = |broadcast: bool| {
                let (mut model, mut v) = (net.clone(), Grads::zeros_like(&net));
                let mut losses = vec![];
                for _ in 0..2 {
                    let l = with_threads(threads, || if broadcast {
                        broadcast_epoch(&mut model, Some(&mut v), &x, &y, &batches, update)
                    } else {
                        per_minibatch_epoch(&mut model, Some(&mut v), &x, &y, &batches, update)
                    }).unwrap().unwrap();
                    losses.push(l);
                }
                (model, v, losses)
            };
            let (ma, va, la) = run(true);
            let (mb, vb, lb) = run(false);
            if with_reg || with_momentum {
                prop_assert_eq!(la, lb);
                prop_assert!(ma.w1 == mb.w1 && ma.b1 == mb.b1 && ma.w2 == mb.w2 && ma.b2 == mb.b2, "models differ: max |ΔW1| {}", max_gap(&ma.w1, &mb.w1));
                prop_assert!(va.w1 == vb.w1 && va.b2 == vb.b2);
            } else {
                prop_assert!(la.iter().zip(&lb).all(|(p, q)| (p - q).abs() <= 1e-12), "losses {la:?} vs {lb:?}");
                prop_assert!(model_gap(&ma, &mb) <= 1e-12, "models differ by {}", model_gap(&ma, &mb));
            }
        }

        /// The same at shapes where the large products (every side ≥ 16) take the gemm crate
        /// (`engine::backend`), with a short last minibatch, in f64: bit for bit with momentum,
        /// to 1e-12 with plain SGD (W1's step fused into the gemm crate's product), the model
        /// having moved far more than that.
        #[test]
        fn broadcast_epoch_equals_per_minibatch_at_gemm_shapes(
            d in 16usize..40, dh in 32usize..80, n in 40usize..70, k in 16usize..24, threads in 1usize..4, seed in 0u64..1000,
        ) {
            let ((ma, la), (mb, lb)) = epochs_at_gemm_shapes::<f64>(d, dh, n, k, threads, seed, 0.9);
            prop_assert_eq!(la, lb);
            prop_assert!(ma.w1 == mb.w1 && ma.b1 == mb.b1 && ma.w2 == mb.w2 && ma.b2 == mb.b2);
            let ((ma, la), (mb, lb)) = epochs_at_gemm_shapes::<f64>(d, dh, n, k, threads, seed, 0.0);
            prop_assert!((la - lb).abs() <= 1e-12 && model_gap(&ma, &mb) <= 1e-12, "loss {la} vs {lb}, models differ by {}", model_gap(&ma, &mb));
            let start = Mlp::<f64>::init(d, dh, 3, seed).unwrap();
            prop_assert!(max_gap(&ma.w1, &start.w1) > 1e-4, "W1 moved by {}", max_gap(&ma.w1, &start.w1));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20))]
        /// The f32 epoch at the same gemm shapes: the backend serves both element types (bit for
        /// bit with momentum, 1e-5 with plain SGD's fused step).
        #[test]
        fn broadcast_epoch_equals_per_minibatch_at_gemm_shapes_f32(
            d in 16usize..40, dh in 32usize..80, n in 40usize..70, k in 16usize..24, threads in 1usize..4, seed in 0u64..1000,
        ) {
            let ((ma, la), (mb, lb)) = epochs_at_gemm_shapes::<f32>(d, dh, n, k, threads, seed, 0.5);
            prop_assert_eq!(la, lb);
            prop_assert!(ma.w1 == mb.w1 && ma.b1 == mb.b1 && ma.w2 == mb.w2 && ma.b2 == mb.b2);
            let ((ma, la), (mb, lb)) = epochs_at_gemm_shapes::<f32>(d, dh, n, k, threads, seed, 0.0);
            prop_assert!((la - lb).abs() <= 1e-5 && model_gap(&ma, &mb) <= 1e-5, "loss {la} vs {lb}, models differ by {}", model_gap(&ma, &mb));
        }
    }

    /// The largest |a − b| over two arrays of the same shape.
    fn max_gap<F: Real, D: Dimension>(a: &ndarray::Array<F, D>, b: &ndarray::Array<F, D>) -> f64 {
        a.iter().zip(b.iter()).fold(0.0, |m, (p, q)| m.max((*p - *q).abs().to_f64().unwrap()))
    }

    /// The largest |Δ| over the four parameter arrays of two networks of the same shape.
    fn model_gap<F: Real>(a: &Mlp<F>, b: &Mlp<F>) -> f64 {
        max_gap(&a.w1, &b.w1).max(max_gap(&a.b1, &b.b1)).max(max_gap(&a.w2, &b.w2)).max(max_gap(&a.b2, &b.b2))
    }

    /// One epoch of a d → dh → 3 network on n random points in minibatches of k, broadcast and
    /// per minibatch on `threads` threads: ((model, loss) broadcast, (model, loss) per minibatch).
    fn epochs_at_gemm_shapes<F: Real>(d: usize, dh: usize, n: usize, k: usize, threads: usize, seed: u64, momentum: f64) -> ((Mlp<F>, f64), (Mlp<F>, f64)) {
        let net = Mlp::<F>::init(d, dh, 3, seed).unwrap();
        let x = rng::randn((n, d), &mut rng::seeded(seed + 1)).mapv(|v| F::from_f64(v).unwrap());
        let y: Vec<usize> = (0..n).map(|i| (i * 5 + seed as usize) % 3).collect();
        let batches: Vec<Vec<usize>> = (0..n).collect::<Vec<_>>().chunks(k).map(|c| c.to_vec()).collect();
        let reg = ElasticNet::none();
        let update = Update { lr: F::from_f64(0.1).unwrap(), momentum: F::from_f64(momentum).unwrap(), reg: &reg };
        let run = |broadcast: bool| {
            let (mut model, mut v) = (net.clone(), Grads::zeros_like(&net));
            let l = with_threads(threads, || if broadcast {
                broadcast_epoch(&mut model, Some(&mut v), &x, &y, &batches, update)
            } else {
                per_minibatch_epoch(&mut model, Some(&mut v), &x, &y, &batches, update)
            }).unwrap().unwrap();
            (model, l)
        };
        (run(true), run(false))
    }

    #[test]
    fn a_diverging_epoch_stops_at_the_first_non_finite_loss_in_both_paths() {
        let net = Mlp::<f64>::init(3, 8, 2, 1).unwrap();
        let x = rng::randn((20, 3), &mut rng::seeded(2)) * 1e150;
        let y: Vec<usize> = (0..20).map(|i| i % 2).collect();
        let batches: Vec<Vec<usize>> = (0..20).collect::<Vec<_>>().chunks(5).map(|c| c.to_vec()).collect();
        let reg = ElasticNet::none();
        let update = Update { lr: 1e10, momentum: 0.0, reg: &reg };
        let (mut a, mut b) = (net.clone(), net.clone());
        let la = with_threads(2, || broadcast_epoch(&mut a, None, &x, &y, &batches, update)).unwrap().unwrap();
        let lb = with_threads(2, || per_minibatch_epoch(&mut b, None, &x, &y, &batches, update)).unwrap().unwrap();
        assert!(!la.is_finite() && !lb.is_finite(), "{la} {lb}");
        assert!(a.w1.iter().zip(b.w1.iter()).all(|(p, q)| p == q || (p.is_nan() && q.is_nan())));
    }

    #[test]
    fn bad_arguments_are_clear_errors() {
        let mut net = Mlp::<f64>::init(3, 4, 2, 1).unwrap();
        let x = Array2::<f64>::zeros((5, 3));
        let y = vec![0, 1, 0, 1, 0];
        let reg = ElasticNet::none();
        let ok = Update { lr: 0.1, momentum: 0.0, reg: &reg };
        let msg = |r: Result<f64>| r.unwrap_err().to_string();
        assert_eq!(msg(sgd_epoch(&mut net, None, &x, &y[..4], &[vec![0]], ok)), "shape mismatch: x is (5, 3) with 4 labels; the network needs n × 3 and n labels");
        assert_eq!(msg(sgd_epoch(&mut net, None, &x, &y, &[vec![0, 5]], ok)), "shape mismatch: a minibatch index is past the end of the data");
        assert!(msg(sgd_epoch(&mut net, None, &x, &y, &[vec![0]], Update { lr: -1.0, ..ok })).contains("the learning rate must be positive"));
        assert!(msg(sgd_epoch(&mut net, None, &x, &y, &[vec![0]], Update { momentum: 0.9, ..ok })).contains("momentum needs a velocity"));
    }
}
