//! ps2's *loop version* of the minibatch gradient: every example's forward and backward pass on
//! its own — mat-vec products, and one rank-1 update ∂W1 += δᵢ xᵢᵀ per example — summed over
//! the minibatch and averaged. [`Mlp::loss_grad_matrix`](super::Mlp::loss_grad_matrix) is the same
//! maths in matrix products.
//!
//! What makes it fast without turning it into the matrix version:
//! * **zero pixels are skipped** (half of Fashion-MNIST's pixels are 0):
//!   h_a = b1 + Σ_{xⱼ≠0} xⱼ W1[:, j] reads the rows of W1ᵀ (copied once per minibatch), and
//!   the rank-1 update ∂W1ᵀ[j, :] += xⱼ δ touches only the rows with xⱼ ≠ 0;
//! * **loop tiling**: the pixels are cut into blocks whose rows of W1ᵀ (or of ∂W1ᵀ) fit in the
//!   L1 cache, and the loop over the examples runs inside the loop over the blocks, so a block
//!   comes from the slower caches once per minibatch instead of once per example. Each example
//!   keeps its own sums: its h_a is accumulated from its own pixels only, and its rank-1 update
//!   reaches ∂W1ᵀ on its own (no two examples are added together before that);
//! * rows padded to whole 64-byte vectors, starting on 64-byte boundaries, and buffers reused
//!   from one minibatch to the next ([`LoopScratch`]);
//! * with several threads, the examples are split into one group per thread, each with its own
//!   gradient sums, added at the end.

use super::{ElasticNet, Grads, Mlp};
use crate::activation::{relu, relu_prime as step};
use crate::error::{ensure_shape, Error, Result};
use crate::{kernels, parallel, Real};
use ndarray::{Array1, Array2, ArrayView2};
use std::mem::size_of;

/// Bytes of W1ᵀ (or ∂W1ᵀ) rows per block of pixels: inside a 48 KiB L1 data cache (24 and 32 KiB
/// measured 3–5 % slower in f64 on the machine of BENCHMARKS.md),
/// leaving room for the example rows streaming past.
const BLOCK_BYTES: usize = 28 * 1024;

/// Row length of the padded buffers: d_h rounded up to whole 64-byte vectors.
fn padded<F>(dh: usize) -> usize {
    dh.next_multiple_of((64 / size_of::<F>()).max(1))
}

/// A rows × cols buffer whose first entry sits on a 64-byte boundary.
struct Aligned<F> {
    buf: Vec<F>,
    off: usize,
    shape: (usize, usize),
}

impl<F> Default for Aligned<F> {
    fn default() -> Self {
        Aligned { buf: Vec::new(), off: 0, shape: (0, 0) }
    }
}

impl<F: Real> Aligned<F> {
    /// Makes the shape rows × cols: a new shape gets a new zero-filled buffer, the same shape
    /// keeps the buffer as it is (callers overwrite what they use; the padding columns stay 0).
    fn resize(&mut self, rows: usize, cols: usize) {
        if (rows, cols) == self.shape && !self.buf.is_empty() {
            return;
        }
        let extra = (64 / size_of::<F>()).max(1);
        self.buf = vec![F::zero(); rows * cols + extra];
        let addr = self.buf.as_ptr() as usize;
        self.off = if 64 % size_of::<F>() == 0 { ((64 - addr % 64) % 64) / size_of::<F>() } else { 0 };
        self.shape = (rows, cols);
    }

    fn get(&self) -> &[F] {
        &self.buf[self.off..self.off + self.shape.0 * self.shape.1]
    }

    fn get_mut(&mut self) -> &mut [F] {
        &mut self.buf[self.off..self.off + self.shape.0 * self.shape.1]
    }
}

/// One thread's share of a minibatch: its examples' activations, δs and gradient sums.
struct Group<F> {
    /// Row i (of `n` entries) = example i's h_a.
    h_a: Aligned<F>,
    /// Row i = example i's δ = ∂L/∂h_a.
    delta: Aligned<F>,
    /// Σᵢ xᵢ δᵢᵀ = ∂W1ᵀ summed over the group's examples, d rows of `n`.
    gw1t: Aligned<F>,
    /// The nonzero pixels (j, xⱼ) = (idx[t], val[t]), example after example and block after
    /// block: example i's pixels in block b are t ∈ bounds[i·B + b]..bounds[i·B + b + 1] (B blocks).
    idx: Vec<u32>,
    val: Vec<F>,
    bounds: Vec<usize>,
    gw2: Vec<F>,
    gb1: Vec<F>,
    gb2: Vec<F>,
    h_s: Vec<F>,
    o_a: Vec<F>,
}

impl<F> Default for Group<F> {
    fn default() -> Self {
        Group {
            h_a: Aligned::default(),
            delta: Aligned::default(),
            gw1t: Aligned::default(),
            idx: Vec::new(),
            val: Vec::new(),
            bounds: Vec::new(),
            gw2: Vec::new(),
            gb1: Vec::new(),
            gb2: Vec::new(),
            h_s: Vec::new(),
            o_a: Vec::new(),
        }
    }
}

/// Working buffers of [`Mlp::loss_grad_loop_into`], kept from one minibatch to the next
/// (a training epoch makes one; allocating ≈ 2 MB per minibatch cost page faults).
pub struct LoopScratch<F> {
    /// W1ᵀ: d rows of `n` entries (the d_h weights of pixel j, then zero padding).
    w1t: Aligned<F>,
    groups: Vec<Group<F>>,
}

impl<F> Default for LoopScratch<F> {
    fn default() -> Self {
        LoopScratch { w1t: Aligned::default(), groups: Vec::new() }
    }
}

impl<F: Real> Group<F> {
    /// The per-example loop over this group's examples, rows `rows` of `x` with labels `y`:
    /// fills h_a, δ, the b1/W2/b2 sums and ∂W1ᵀ; returns the summed loss.
    fn run(&mut self, net: &Mlp<F>, x: ArrayView2<F>, rows: &[usize], y: &[usize], w1t: &[F], n: usize) -> F {
        let (d, dh, m) = net.dims();
        let kg = rows.len();
        // pixel rows per block: whole vectors of pixels, so the compaction runs whole vectors
        let lanes = (64 / size_of::<F>()).max(1);
        let rows_per_block = (BLOCK_BYTES / (n * size_of::<F>()) / lanes * lanes).max(lanes);
        let blocks = d.div_ceil(rows_per_block);

        // the nonzero pixels of each example, block by block
        let room = kg * d + kernels::COMPACT_SLACK;
        if self.idx.len() < room {
            self.idx.resize(room, 0);
            self.val.resize(room, F::zero());
        }
        self.bounds.clear();
        let mut end = 0;
        let mut copy = Vec::new();
        for (e, &ri) in rows.iter().enumerate() {
            // the rows come from anywhere in a large training matrix: the next one is fetched
            // while this one is compacted, block by block (all at once would stall on the
            // CPU's limited number of outstanding loads)
            let next = rows.get(e + 1).and_then(|&r| x.row(r).to_slice());
            let row = x.row(ri);
            let row = match row.as_slice() {
                Some(r) => r,
                None => {
                    copy.clear();
                    copy.extend(row.iter().copied());
                    &copy
                }
            };
            for (b, block) in row.chunks(rows_per_block).enumerate() {
                let j0 = b * rows_per_block;
                if let Some(next) = next {
                    kernels::prefetch(&next[j0..j0 + block.len()]);
                }
                self.bounds.push(end);
                end = kernels::compact_nonzero(block, j0 as u32, &mut self.idx, &mut self.val, end);
            }
        }
        self.bounds.push(end);
        let (idx, val, bounds) = (&self.idx[..], &self.val[..], &self.bounds[..]);

        // h_a = b1 + Σ_{xⱼ ≠ 0} xⱼ W1ᵀ[j, :], block of pixels by block, each example on its own
        self.h_a.resize(kg, n);
        let h_a = self.h_a.get_mut();
        for row in h_a.chunks_exact_mut(n) {
            row[..dh].iter_mut().zip(&net.b1).for_each(|(h, &b)| *h = b);
        }
        for_blocks(bounds, kg, blocks, |i, t| kernels::axpy_rows(&idx[t.clone()], &val[t], w1t, &mut h_a[i * n..(i + 1) * n]));

        // per example: h_s, o_a, the loss, ∂L/∂o_a, the W2 and b2 gradients, δ
        let w2 = net.w2.as_standard_layout();
        let w2 = w2.as_slice().expect("standard layout");
        self.gw2.clear();
        self.gw2.resize(m * dh, F::zero());
        self.gb1.clear();
        self.gb1.resize(dh, F::zero());
        self.gb2.clear();
        self.gb2.resize(m, F::zero());
        self.h_s.resize(dh, F::zero());
        self.o_a.resize(m, F::zero());
        self.delta.resize(kg, n);
        let delta_all = self.delta.get_mut();
        let mut total = F::zero();
        for (i, &yi) in y.iter().enumerate() {
            let h_a = &h_a[i * n..i * n + dh];
            // h_s = rect(h_a)
            for (s, &a) in self.h_s.iter_mut().zip(h_a) {
                *s = relu(a);
            }
            // o_a = W2 h_s + b2;  loss = log Σ exp(o_a) − o_a[y]
            for (c, o) in self.o_a.iter_mut().enumerate() {
                *o = net.b2[c] + kernels::dot(&w2[c * dh..(c + 1) * dh], &self.h_s);
            }
            let max = self.o_a.iter().fold(F::neg_infinity(), |mx, &v| mx.max(v));
            let lse = max + self.o_a.iter().fold(F::zero(), |acc, &v| acc + (v - max).exp()).ln();
            total += lse - self.o_a[yi];
            // ∂L/∂o_a = o_s − onehot(y);  ∂W2 += (∂L/∂o_a) h_sᵀ;  ∂b2 += ∂L/∂o_a;  δ = W2ᵀ ∂L/∂o_a
            let delta = &mut delta_all[i * n..i * n + dh];
            delta.fill(F::zero());
            for c in 0..m {
                let go = (self.o_a[c] - lse).exp() - if c == yi { F::one() } else { F::zero() };
                kernels::axpy(go, &self.h_s, &mut self.gw2[c * dh..(c + 1) * dh]);
                self.gb2[c] += go;
                kernels::axpy(go, &w2[c * dh..(c + 1) * dh], delta);
            }
            // δ ⊙ rect'(h_a);  ∂b1 += δ
            for ((dv, &a), gb) in delta.iter_mut().zip(h_a).zip(self.gb1.iter_mut()) {
                *dv *= step(a);
                *gb += *dv;
            }
        }

        // ∂W1ᵀ[j, :] += xᵢⱼ δᵢ: every example's own rank-1 update, block of pixel rows by block
        self.gw1t.resize(d, n);
        let gw1t = self.gw1t.get_mut();
        gw1t.fill(F::zero());
        let delta_all = self.delta.get();
        for_blocks(bounds, kg, blocks, |i, t| kernels::rank1_rows(&idx[t.clone()], &val[t], &delta_all[i * n..(i + 1) * n], gw1t));
        total
    }
}

/// Walks the blocks of pixels and, inside each block, the `kg` examples: calls `f(i, range)`
/// with the range of example i's nonzero pixels in that block (skipped when there are none).
fn for_blocks(bounds: &[usize], kg: usize, blocks: usize, mut f: impl FnMut(usize, std::ops::Range<usize>)) {
    for b in 0..blocks {
        for i in 0..kg {
            let (s, e) = (bounds[i * blocks + b], bounds[i * blocks + b + 1]);
            if e > s {
                f(i, s..e);
            }
        }
    }
}

impl<F: Real> Mlp<F> {
    /// Minibatch loss (mean over the K examples, plus the penalty) and its gradient, looping
    /// over the examples one at a time (mat-vec products and one rank-1 update per example,
    /// see [the module](self)): per example the forward pass, the backward pass down to
    /// δᵢ = ∂L/∂h_a (the same maths as [`Mlp::fprop`] + [`Mlp::bprop`]) and its gradients,
    /// ∂W1 = (1/K) Σᵢ δᵢ xᵢᵀ. `input_grad` also returns ∂/∂X, row i = W1ᵀ δᵢ / K.
    pub fn loss_grad_loop(&self, x: ArrayView2<F>, y: &[usize], reg: &ElasticNet<F>, input_grad: bool) -> Result<(F, Grads<F>)> {
        let mut g = Grads::zeros_like(self);
        let mut scratch = LoopScratch::default();
        let loss = self.loss_grad_loop_into(x, y, reg, &mut scratch, &mut g)?;
        if input_grad {
            // ∂L/∂xᵢ[j] = W1ᵀ[j, :] · δᵢ / K
            let (d, dh, _) = self.dims();
            let n = padded::<F>(dh);
            let inv = F::one() / F::from_usize(x.nrows()).unwrap();
            let w1t = scratch.w1t.get();
            let mut gx = Array2::zeros((x.nrows(), d));
            let deltas = scratch.groups.iter().flat_map(|grp| grp.delta.get().chunks_exact(n));
            for (mut row, delta) in gx.rows_mut().into_iter().zip(deltas) {
                for (j, v) in row.iter_mut().enumerate() {
                    *v = inv * kernels::dot(&w1t[j * n..(j + 1) * n], delta);
                }
            }
            g.x = Some(gx);
        }
        Ok((loss, g))
    }

    /// [`Mlp::loss_grad_loop`] without ∂X, writing the gradient into `g` (its arrays are reused
    /// when they have the parameters' shapes) and using `scratch`'s buffers, so that a training
    /// loop allocates nothing per minibatch.
    pub fn loss_grad_loop_into(&self, x: ArrayView2<F>, y: &[usize], reg: &ElasticNet<F>, scratch: &mut LoopScratch<F>, g: &mut Grads<F>) -> Result<F> {
        // every row once, in order; the checks (and their messages) are those of `check_batch`
        let rows: Vec<usize> = (0..x.nrows()).collect();
        self.loss_grad_loop_rows_into(x, &rows, y, reg, scratch, g)
    }

    /// [`Mlp::loss_grad_loop_into`] for the minibatch made of the rows `rows` of `x` (row
    /// `rows[i]` has label `y[i]`): the examples are read where they are, one at a time, so a
    /// training epoch need not copy its minibatches out of the training set first.
    pub fn loss_grad_loop_rows_into(&self, x: ArrayView2<F>, rows: &[usize], y: &[usize], reg: &ElasticNet<F>, scratch: &mut LoopScratch<F>, g: &mut Grads<F>) -> Result<F> {
        if rows.is_empty() {
            return Err(Error::Empty("the minibatch has no examples".into()));
        }
        self.check_x(x.ncols())?;
        ensure_shape(y.len() == rows.len(), || format!("the minibatch has {} examples but {} labels", rows.len(), y.len()))?;
        if let Some(&bad) = rows.iter().find(|&&r| r >= x.nrows()) {
            return Err(Error::Shape(format!("minibatch row {bad} is out of range for a matrix of {} rows", x.nrows())));
        }
        self.check_labels(y)?;
        let (d, dh, m) = self.dims();
        let k = rows.len();
        let n = padded::<F>(dh);
        // W1ᵀ with padded rows (the padding is zero from the allocation and never written):
        // row copies when W1 is stored column-major, as `Mlp::new` stores it, else a transpose
        scratch.w1t.resize(d, n);
        let w1t_view = self.w1.t();
        match w1t_view.as_slice() {
            Some(w1t) => parallel::rows_sum_into(&[w1t], d, dh, dh, scratch.w1t.get_mut(), n, F::one()),
            None => {
                let w1 = self.w1.as_standard_layout();
                parallel::transpose_sum_into(&[w1.as_slice().expect("standard layout")], dh, d, d, scratch.w1t.get_mut(), n, F::one());
            }
        }
        // one group of examples per thread (at least 16 examples per group)
        let per = k.div_ceil(parallel::threads().min(k.div_ceil(16)).max(1));
        scratch.groups.resize_with(k.div_ceil(per), Group::default);
        let w1t = scratch.w1t.get();
        let jobs: Vec<_> = scratch.groups.iter_mut().zip(rows.chunks(per)).zip(y.chunks(per)).collect();
        let losses = parallel::map_shards(jobs, |((grp, rg), yg)| grp.run(self, x, rg, yg, w1t, n));

        // averages over the minibatch; ∂W1 = (1/K) Σ_groups (∂W1ᵀ)ᵀ
        let inv = F::one() / F::from_usize(k).unwrap();
        if g.w1.dim() != (dh, d) || !(g.w1.is_standard_layout() || g.w1.t().is_standard_layout()) {
            g.w1 = super::zeros_in_layout_of(&self.w1);
        }
        let parts: Vec<&[F]> = scratch.groups.iter().map(|grp| grp.gw1t.get()).collect();
        if g.w1.is_standard_layout() {
            parallel::transpose_sum_into(&parts, d, dh, n, g.w1.as_slice_mut().expect("standard layout"), d, inv);
        } else {
            // column-major ∂W1: its columns are the rows of ∂W1ᵀ
            let mut gt = g.w1.view_mut().reversed_axes();
            parallel::rows_sum_into(&parts, d, dh, n, gt.as_slice_mut().expect("column-major ∂W1"), dh, inv);
        }
        let groups = &scratch.groups;
        let sum = |len: usize, part: fn(&Group<F>) -> &[F]| Array1::from_shape_fn(len, |l| inv * groups.iter().fold(F::zero(), |s, grp| s + part(grp)[l]));
        g.b1 = sum(dh, |grp| &grp.gb1);
        g.b2 = sum(m, |grp| &grp.gb2);
        g.w2 = sum(m * dh, |grp| &grp.gw2).into_shape_with_order((m, dh)).expect("m × d_h entries");
        g.x = None;
        self.add_penalty_grad(g, reg);
        let total = losses.into_iter().fold(F::zero(), |s, l| s + l);
        Ok(total * inv + self.penalty(reg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;
    use ndarray::Axis;

    /// A data matrix like images: 60 % of the entries exactly 0, whole runs of zero pixels,
    /// and one all-zero row.
    fn sparse_images(n: usize, d: usize, seed: u64) -> Array2<f64> {
        let mut x = rng::uniform((n, d), 0.0, 1.0, &mut rng::seeded(seed));
        x.indexed_iter_mut().filter(|((i, j), _)| (i * 7 + j * 3) % 5 < 3 || j % 97 < 40).for_each(|(_, v)| *v = 0.0);
        x.row_mut(3).fill(0.0);
        x
    }

    #[test]
    fn tiled_loop_version_on_rows_of_a_larger_matrix_equals_the_reference() {
        // d_h = 100 in f64: rows padded to 104 (chunks of 56 and 48 entries), 29 pixel rows per
        // block, so d = 300 pixels make 11 blocks; the minibatch is scattered rows of a 90-row matrix
        let (d, m) = (300, 10);
        let all = sparse_images(90, d, 4);
        let reg = ElasticNet::new(1e-3, 2e-3, 3e-3, 4e-3).unwrap();
        let mut scratch = LoopScratch::default();
        for (threads, dh, k) in [(1, 100, 37), (2, 100, 37), (2, 100, 17), (3, 20, 50), (1, 100, 5)] {
            parallel::with_threads(threads, || {
                let net = Mlp::<f64>::init(d, dh, m, 9).unwrap();
                let rows: Vec<usize> = (0..k).map(|i| (i * 31 + 7) % 90).collect();
                let y: Vec<usize> = (0..k).map(|i| (i * 3) % m).collect();
                let mut g = Grads::zeros_like(&net);
                // the same scratch throughout: buffers resized between calls, stale contents must not leak
                let loss = net.loss_grad_loop_rows_into(all.view(), &rows, &y, &reg, &mut scratch, &mut g).unwrap();
                let xb = all.select(Axis(0), &rows);
                let (lr, gr) = net.loop_free_reference(xb.view(), &y, &reg);
                assert!((loss - lr).abs() < 1e-12, "threads {threads}, d_h {dh}, K {k}: loss {loss} vs {lr}");
                g.x = gr.x.clone();
                assert!(g.max_abs_diff(&gr) < 1e-12, "threads {threads}, d_h {dh}, K {k}: max |Δ∇| = {}", g.max_abs_diff(&gr));
                // the input gradient of the allocating version, from the rows of W1ᵀ
                let (_, gl) = net.loss_grad_loop(xb.view(), &y, &reg, true).unwrap();
                assert!(gl.max_abs_diff(&gr) < 1e-12);
            });
        }
    }

    #[test]
    fn loop_version_reads_a_transposed_matrix_and_f32() {
        let (d, dh, m, k) = (120, 100, 4, 12);
        let xt = sparse_images(d, k, 5).reversed_axes(); // k × d, column-major: rows are not contiguous
        let xt = xt.t().to_owned().reversed_axes();
        assert!(xt.row(0).as_slice().is_none());
        let y: Vec<usize> = (0..k).map(|i| i % m).collect();
        let net = Mlp::<f64>::init(d, dh, m, 2).unwrap();
        let (l, g) = net.loss_grad_loop(xt.view(), &y, &ElasticNet::none(), false).unwrap();
        let (lr, gr) = net.loop_free_reference(xt.view(), &y, &ElasticNet::none());
        assert!((l - lr).abs() < 1e-12 && g.w1.iter().zip(&gr.w1).all(|(a, b)| (a - b).abs() < 1e-12));
        // f32: rows of 112 entries, one chunk of 7 vectors
        let net32 = Mlp::<f32>::new(net.w1.mapv(|v| v as f32), net.b1.mapv(|v| v as f32), net.w2.mapv(|v| v as f32), net.b2.mapv(|v| v as f32)).unwrap();
        let (l32, g32) = net32.loss_grad_loop(xt.mapv(|v| v as f32).view(), &y, &ElasticNet::none(), false).unwrap();
        assert!((l32 as f64 - lr).abs() < 1e-5, "{l32} vs {lr}");
        let worst = g32.w1.iter().zip(&gr.w1).map(|(&a, b)| (a as f64 - b).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-5, "f32 ∂W1 off by {worst}");
    }

    #[test]
    fn both_layouts_of_w1_give_the_same_gradients() {
        // Mlp::new stores W1 column-major (d_h = 100: 800-byte columns) or row-major (d_h = 512
        // in f64: 4 KiB columns); a user may also assign either layout to `w1` directly
        let (d, m, k) = (200, 10, 30);
        let x = sparse_images(k, d, 6);
        let y: Vec<usize> = (0..k).map(|i| (i * 7) % m).collect();
        let reg = ElasticNet::new(1e-3, 2e-3, 3e-3, 4e-3).unwrap();
        for (dh, column_major) in [(100, true), (512, false)] {
            let net = Mlp::<f64>::init(d, dh, m, 3).unwrap();
            assert_eq!(net.w1.t().is_standard_layout(), column_major, "d_h = {dh}");
            let mut other = net.clone();
            other.w1 = if column_major { net.w1.as_standard_layout().into_owned() } else { net.w1.t().as_standard_layout().into_owned().reversed_axes() };
            assert_ne!(other.w1.is_standard_layout(), net.w1.is_standard_layout());
            for threads in [1, 2] {
                parallel::with_threads(threads, || {
                    for n in [&net, &other] {
                        let (ll, gl) = n.loss_grad_loop(x.view(), &y, &reg, true).unwrap();
                        let (lm, gm) = n.loss_grad_matrix(x.view(), &y, &reg, true).unwrap();
                        let (lr, gr) = net.loop_free_reference(x.view(), &y, &reg);
                        assert!((ll - lr).abs() < 1e-12 && (lm - lr).abs() < 1e-12);
                        assert!(gl.max_abs_diff(&gr) < 1e-12 && gm.max_abs_diff(&gr) < 1e-12, "d_h {dh}, threads {threads}");
                        // an SGD step through the training path's buffers keeps W1's layout
                        let mut g = Grads::zeros_like(n);
                        let mut moved = n.clone();
                        moved.loss_grad_loop_into(x.view(), &y, &reg, &mut LoopScratch::default(), &mut g).unwrap();
                        moved.sgd_step(&g, 0.5).unwrap();
                        assert_eq!(moved.w1.is_standard_layout(), n.w1.is_standard_layout());
                        let want = &n.w1 - &(&gr.w1 * 0.5);
                        assert!(moved.w1.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-12));
                    }
                });
            }
        }
    }

    #[test]
    fn bad_rows_and_labels_are_named() {
        let net = Mlp::<f64>::init(6, 4, 3, 1).unwrap();
        let x = Array2::<f64>::zeros((5, 6));
        let (mut s, mut g) = (LoopScratch::default(), Grads::zeros_like(&net));
        let e = net.loss_grad_loop_rows_into(x.view(), &[0, 5], &[0, 1], &ElasticNet::none(), &mut s, &mut g).unwrap_err().to_string();
        assert!(e.contains("minibatch row 5 is out of range for a matrix of 5 rows"), "{e}");
        let e = net.loss_grad_loop_rows_into(x.view(), &[0, 1], &[0], &ElasticNet::none(), &mut s, &mut g).unwrap_err().to_string();
        assert!(e.contains("2 examples but 1 labels"), "{e}");
        let e = net.loss_grad_loop_rows_into(x.view(), &[], &[], &ElasticNet::none(), &mut s, &mut g).unwrap_err().to_string();
        assert!(e.contains("no examples"), "{e}");
        let e = net.loss_grad_loop_rows_into(x.view(), &[1], &[3], &ElasticNet::none(), &mut s, &mut g).unwrap_err().to_string();
        assert!(e.contains("class label 3 is out of range"), "{e}");
    }
}
