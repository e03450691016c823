//! ps2's one-hidden-layer classifier, in ps2's notation.
//!
//! For one example x ∈ ℝᵈ with class y ∈ {0, …, m−1}:
//!
//! * h_a = W1 x + b1 (d_h), h_s = rect(h_a)
//! * o_a = W2 h_s + b2 (m), o_s = softmax(o_a)
//! * L(x, y) = −log o_s\[y\] = −o_a\[y\] + log Σₖ exp(o_a\[k\])
//!
//! with W1: d_h × d, b1: d_h, W2: m × d_h, b2: m. Backprop (ps2 part b):
//! ∂L/∂o_a = o_s − onehot(y); ∂L/∂W2 = ∂L/∂o_a h_sᵀ; ∂L/∂b2 = ∂L/∂o_a;
//! ∂L/∂h_s = W2ᵀ ∂L/∂o_a; ∂L/∂h_a = ∂L/∂h_s ⊙ 1\[h_a > 0\];
//! ∂L/∂W1 = ∂L/∂h_a xᵀ; ∂L/∂b1 = ∂L/∂h_a; ∂L/∂x = W1ᵀ ∂L/∂h_a.
//!
//! A minibatch of K examples is a K × d matrix X (one example per row); its loss is the
//! mean of the K losses plus the elastic-net penalty. Two versions compute its gradient,
//! written to be read side by side:
//!
//! * the **loop version** [`Mlp::loss_grad_loop`]: [`Mlp::fprop`] and [`Mlp::bprop`] on
//!   each example, the mean of the K results, plus [`Mlp::penalty_grad`];
//! * the **matrix version** [`Mlp::loss_grad_matrix`]: the same steps on the whole
//!   minibatch, [`Mlp::fprop_batch`] and [`Mlp::bprop_batch`], where each vector of one
//!   example becomes a matrix with one row per example (h_a: d_h becomes H_a: K × d_h).
//!
//! They agree to rounding (tests: 1e-12 in f64). The trainer runs the matrix version
//! through [`crate::engine`], which computes the same products on both cores.

use crate::core::activation::{relu, relu_prime as step, sign};
use crate::core::error::{ensure_finite, ensure_param, ensure_shape, to_ix1, to_ix2, Error, Result};
use crate::core::loss::{log_softmax, log_softmax_rows, onehot, onehot_rows, softmax, softmax_rows};
use crate::core::network::outer;
use crate::core::Real;
use ndarray::{Array1, Array2, ArrayD, ArrayView1, ArrayView2, Axis};
use rand::distributions::{Distribution, Uniform};

/// The elastic-net penalty λ11‖W1‖₁ + λ12‖W1‖₂² + λ21‖W2‖₁ + λ22‖W2‖₂² (biases are not penalised).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct ElasticNet<F> {
    /// λ11: L1 weight on W1.
    pub l11: F,
    /// λ12: squared-L2 weight on W1.
    pub l12: F,
    /// λ21: L1 weight on W2.
    pub l21: F,
    /// λ22: squared-L2 weight on W2.
    pub l22: F,
}

impl<F: Real> ElasticNet<F> {
    /// No regularisation.
    pub fn none() -> Self {
        ElasticNet { l11: F::zero(), l12: F::zero(), l21: F::zero(), l22: F::zero() }
    }

    /// Checked constructor: every λ must be finite and ≥ 0.
    pub fn new(l11: F, l12: F, l21: F, l22: F) -> Result<Self> {
        for (name, v) in [("lambda11", l11), ("lambda12", l12), ("lambda21", l21), ("lambda22", l22)] {
            ensure_param(v.is_finite() && v >= F::zero(), name, v, "must be finite and >= 0")?;
        }
        Ok(ElasticNet { l11, l12, l21, l22 })
    }

    /// Only weight decay: λ12 = λ22 = `l2`.
    pub fn weight_decay(l2: F) -> Result<Self> {
        Self::new(F::zero(), l2, F::zero(), l2)
    }

    /// True when every λ is 0.
    pub fn is_zero(&self) -> bool {
        self.l11 == F::zero() && self.l12 == F::zero() && self.l21 == F::zero() && self.l22 == F::zero()
    }
}

/// The network's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp<F> {
    /// W1: d_h × d.
    pub w1: Array2<F>,
    /// b1: d_h.
    pub b1: Array1<F>,
    /// W2: m × d_h.
    pub w2: Array2<F>,
    /// b2: m.
    pub b2: Array1<F>,
}

/// What [`Mlp::bprop`] needs from [`Mlp::fprop`] for one example.
#[derive(Clone, Debug, PartialEq)]
pub struct Cache<F> {
    /// h_a = W1 x + b1: d_h.
    pub h_a: Array1<F>,
    /// h_s = rect(h_a): d_h.
    pub h_s: Array1<F>,
    /// o_a = W2 h_s + b2: m.
    pub o_a: Array1<F>,
    /// o_s = softmax(o_a): m.
    pub o_s: Array1<F>,
}

/// The same quantities for a K-example minibatch, one row per example.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchCache<F> {
    /// H_a = X W1ᵀ + b1: K × d_h.
    pub h_a: Array2<F>,
    /// H_s = rect(H_a) [⊙ M]: K × d_h.
    pub h_s: Array2<F>,
    /// O_a = H_s W2ᵀ + b2: K × m.
    pub o_a: Array2<F>,
    /// O_s = softmax of each row of O_a: K × m.
    pub o_s: Array2<F>,
    /// Dropout mask M used in training (K × d_h, entries 0 or 1/(1 − p)); None at test time.
    pub mask: Option<Array2<F>>,
}

/// Gradients of the loss with respect to every parameter (same shapes) and, when asked, the input.
#[derive(Clone, Debug, PartialEq)]
pub struct Grads<F> {
    /// ∂/∂W1: d_h × d.
    pub w1: Array2<F>,
    /// ∂/∂b1: d_h.
    pub b1: Array1<F>,
    /// ∂/∂W2: m × d_h.
    pub w2: Array2<F>,
    /// ∂/∂b2: m.
    pub b2: Array1<F>,
    /// ∂/∂X: K × d, when computed.
    pub x: Option<Array2<F>>,
}

impl<F: Real> Grads<F> {
    /// Zero gradients shaped like `model`'s parameters (no input gradient).
    pub fn zeros_like(model: &Mlp<F>) -> Self {
        Grads {
            w1: Array2::zeros(model.w1.dim()),
            b1: Array1::zeros(model.b1.len()),
            w2: Array2::zeros(model.w2.dim()),
            b2: Array1::zeros(model.b2.len()),
            x: None,
        }
    }

    /// self ← self + a·other, for the four parameter gradients.
    pub fn add_scaled(&mut self, a: F, other: &Grads<F>) {
        self.w1.scaled_add(a, &other.w1);
        self.b1.scaled_add(a, &other.b1);
        self.w2.scaled_add(a, &other.w2);
        self.b2.scaled_add(a, &other.b2);
    }

    /// max |a − b| over all parameter gradients (and the input gradients when both have them).
    pub fn max_abs_diff(&self, other: &Grads<F>) -> F {
        fn d<F: Real, D: ndarray::Dimension>(a: &ndarray::Array<F, D>, b: &ndarray::Array<F, D>) -> F {
            a.iter().zip(b.iter()).fold(F::zero(), |m, (&x, &y)| m.max((x - y).abs()))
        }
        let mut m = d(&self.w1, &other.w1).max(d(&self.b1, &other.b1)).max(d(&self.w2, &other.w2)).max(d(&self.b2, &other.b2));
        if let (Some(a), Some(b)) = (&self.x, &other.x) {
            m = m.max(d(a, b));
        }
        m
    }

    /// ∂L/∂x of example `k` (length d): row `k` of the input gradient. An error when the
    /// input gradient was not computed (`bprop_batch(…, input_grad: false)`) or `k` ≥ K.
    pub fn input_of(&self, k: usize) -> Result<Array1<F>> {
        let gx = self.x.as_ref().ok_or_else(|| {
            Error::Shape("these gradients hold no input gradient: use bprop, or bprop_batch with input_grad = true".into())
        })?;
        ensure_shape(k < gx.nrows(), || format!("example {k} asked for, but the input gradient has {} rows (K)", gx.nrows()))?;
        Ok(gx.row(k).to_owned())
    }

    /// The parameter gradients as dynamic arrays in the order W1, b1, W2, b2.
    pub fn to_dyn(&self) -> Vec<ArrayD<F>> {
        vec![self.w1.clone().into_dyn(), self.b1.clone().into_dyn(), self.w2.clone().into_dyn(), self.b2.clone().into_dyn()]
    }
}

/// The parameter names in the order of [`Mlp::to_dyn`] and [`Grads::to_dyn`].
pub const PARAM_NAMES: [&str; 4] = ["W1", "b1", "W2", "b2"];

impl<F: Real> Mlp<F> {
    /// An MLP from explicit parameters; shapes and finiteness are checked.
    pub fn new(w1: Array2<F>, b1: Array1<F>, w2: Array2<F>, b2: Array1<F>) -> Result<Self> {
        ensure_shape(b1.len() == w1.nrows(), || format!("b1 has {} entries but W1 has {} rows (d_h)", b1.len(), w1.nrows()))?;
        ensure_shape(w2.ncols() == w1.nrows(), || format!("W2 has {} columns but W1 has {} rows (d_h)", w2.ncols(), w1.nrows()))?;
        ensure_shape(b2.len() == w2.nrows(), || format!("b2 has {} entries but W2 has {} rows (m)", b2.len(), w2.nrows()))?;
        ensure_shape(w1.ncols() > 0 && w1.nrows() > 0 && w2.nrows() > 0, || "d, d_h and m must all be at least 1".into())?;
        ensure_finite(w1.iter(), "W1")?;
        ensure_finite(w2.iter(), "W2")?;
        ensure_finite(b1.iter(), "b1")?;
        ensure_finite(b2.iter(), "b2")?;
        Ok(Mlp { w1, b1, w2, b2 })
    }

    /// ps2's initialisation: each weight uniform in [−1/√n_c, 1/√n_c] where n_c is the
    /// layer's number of inputs (d for W1, d_h for W2); biases 0. Same seed, same network.
    pub fn init(d: usize, d_h: usize, m: usize, seed: u64) -> Result<Self> {
        ensure_param(d > 0, "d (input features)", d, "must be at least 1")?;
        ensure_param(d_h > 0, "d_h (hidden units)", d_h, "must be at least 1")?;
        ensure_param(m > 1, "m (classes)", m, "must be at least 2")?;
        let mut rng = crate::core::rng::seeded(seed);
        let mut layer = |rows: usize, cols: usize| {
            let r = 1.0 / (cols as f64).sqrt();
            let u = Uniform::new_inclusive(-r, r);
            Array2::from_shape_simple_fn((rows, cols), || F::from_f64(u.sample(&mut rng)).unwrap())
        };
        let w1 = layer(d_h, d);
        let w2 = layer(m, d_h);
        Mlp::new(w1, Array1::zeros(d_h), w2, Array1::zeros(m))
    }

    /// (d, d_h, m).
    pub fn dims(&self) -> (usize, usize, usize) {
        (self.w1.ncols(), self.w1.nrows(), self.w2.nrows())
    }

    /// n_θ = d_h·d + d_h + m·d_h + m.
    pub fn n_params(&self) -> usize {
        let (d, dh, m) = self.dims();
        dh * d + dh + m * dh + m
    }

    /// The parameters as dynamic arrays in the order W1, b1, W2, b2 (for finite differences).
    pub fn to_dyn(&self) -> Vec<ArrayD<F>> {
        vec![self.w1.clone().into_dyn(), self.b1.clone().into_dyn(), self.w2.clone().into_dyn(), self.b2.clone().into_dyn()]
    }

    /// An MLP from arrays in the order of [`Mlp::to_dyn`].
    pub fn from_dyn(p: &[ArrayD<F>]) -> Result<Self> {
        ensure_shape(p.len() == 4, || format!("expected 4 parameter arrays (W1, b1, W2, b2), got {}", p.len()))?;
        Mlp::new(to_ix2(&p[0], "W1")?, to_ix1(&p[1], "b1")?, to_ix2(&p[2], "W2")?, to_ix1(&p[3], "b2")?)
    }

    fn check_x(&self, d: usize) -> Result<()> {
        ensure_shape(d == self.w1.ncols(), || format!("W1 has {} columns but x has {d} features", self.w1.ncols()))
    }

    /// Checks a minibatch X: K × d with K labels, each one of the m classes.
    pub(crate) fn check_batch(&self, x: &ArrayView2<F>, y: &[usize]) -> Result<()> {
        if x.nrows() == 0 {
            return Err(Error::Empty("the minibatch has no examples".into()));
        }
        self.check_x(x.ncols())?;
        ensure_shape(y.len() == x.nrows(), || format!("the minibatch has {} examples but {} labels", x.nrows(), y.len()))?;
        let m = self.w2.nrows();
        if let Some(&bad) = y.iter().find(|&&c| c >= m) {
            return Err(Error::Shape(format!("class label {bad} is out of range for {m} classes (labels are 0..{m})")));
        }
        Ok(())
    }

    // ---- one example ------------------------------------------------------------------

    /// Forward pass for one example x: d with class y. Returns the cache and
    /// L(x, y) = −log o_s\[y\] (computed from o_a, stably).
    pub fn fprop(&self, x: ArrayView1<F>, y: usize) -> Result<(Cache<F>, F)> {
        self.check_x(x.len())?;
        let m = self.w2.nrows();
        ensure_shape(y < m, || format!("class label {y} is out of range for {m} classes (labels are 0..{m})"))?;
        let h_a = self.w1.dot(&x) + &self.b1; //         d_h = (d_h × d)(d) + d_h
        let h_s = h_a.mapv(relu); //                     d_h
        let o_a = self.w2.dot(&h_s) + &self.b2; //       m = (m × d_h)(d_h) + m
        let o_s = softmax(o_a.view()); //                m
        let loss = -log_softmax(o_a.view())[y];
        Ok((Cache { h_a, h_s, o_a, o_s }, loss))
    }

    /// Backward pass for one example, from the cache of [`Mlp::fprop`]; unregularised.
    /// The input gradient ∂L/∂x is returned as a 1 × d matrix.
    pub fn bprop(&self, x: ArrayView1<F>, y: usize, cache: &Cache<F>) -> Result<Grads<F>> {
        self.check_x(x.len())?;
        let grad_oa = &cache.o_s - &onehot::<F>(y, self.w2.nrows())?; // m
        let grad_w2 = outer(&grad_oa, &cache.h_s); //                     m × d_h = (m)(d_h)ᵀ
        let grad_b2 = grad_oa.clone(); //                                 m
        let grad_hs = self.w2.t().dot(&grad_oa); //                       d_h = (d_h × m)(m)
        let grad_ha = &grad_hs * &cache.h_a.mapv(step); //                d_h
        let grad_w1 = outer(&grad_ha, &x.to_owned()); //                  d_h × d = (d_h)(d)ᵀ
        let grad_b1 = grad_ha.clone(); //                                 d_h
        let grad_x = self.w1.t().dot(&grad_ha); //                        d = (d × d_h)(d_h)
        Ok(Grads { w1: grad_w1, b1: grad_b1, w2: grad_w2, b2: grad_b2, x: Some(grad_x.insert_axis(Axis(0))) })
    }

    // ---- the penalty ------------------------------------------------------------------

    /// The elastic-net penalty λ11‖W1‖₁ + λ12‖W1‖₂² + λ21‖W2‖₁ + λ22‖W2‖₂² of these weights.
    pub fn penalty(&self, reg: &ElasticNet<F>) -> F {
        let l1 = |w: &Array2<F>| w.iter().fold(F::zero(), |s, &v| s + v.abs());
        let l2 = |w: &Array2<F>| w.iter().fold(F::zero(), |s, &v| s + v * v);
        reg.l11 * l1(&self.w1) + reg.l12 * l2(&self.w1) + reg.l21 * l1(&self.w2) + reg.l22 * l2(&self.w2)
    }

    /// The penalty's (sub)gradient: ∂/∂W1 = λ11 sign(W1) + 2λ12 W1 (d_h × d),
    /// ∂/∂W2 = λ21 sign(W2) + 2λ22 W2 (m × d_h), zero for the biases; sign(0) = 0.
    pub fn penalty_grad(&self, reg: &ElasticNet<F>) -> Grads<F> {
        let two = F::from_f64(2.0).unwrap();
        let mut g = Grads::zeros_like(self);
        g.w1 = self.w1.mapv(|w| reg.l11 * sign(w) + two * reg.l12 * w);
        g.w2 = self.w2.mapv(|w| reg.l21 * sign(w) + two * reg.l22 * w);
        g
    }

    // ---- a minibatch: the loop version ------------------------------------------------

    /// The loop version: for a minibatch X: K × d with labels y (K), the mean over the K
    /// examples of [`Mlp::fprop`] + [`Mlp::bprop`], plus the penalty and its gradient.
    /// `input_grad`: also return ∂X (K × d, row i = ∂L/∂x⁽ⁱ⁾ / K).
    pub fn loss_grad_loop(&self, x: ArrayView2<F>, y: &[usize], reg: &ElasticNet<F>, input_grad: bool) -> Result<(F, Grads<F>)> {
        self.check_batch(&x, y)?;
        let k = F::from_usize(y.len()).unwrap();
        let (mut loss, mut g) = (F::zero(), Grads::zeros_like(self));
        let mut grad_x = Array2::zeros(x.dim());
        for (i, &y_i) in y.iter().enumerate() {
            let (cache, loss_i) = self.fprop(x.row(i), y_i)?;
            let g_i = self.bprop(x.row(i), y_i, &cache)?;
            loss += loss_i / k;
            g.add_scaled(F::one() / k, &g_i);
            grad_x.row_mut(i).assign(&(g_i.x.unwrap().row(0).mapv(|v| v / k)));
        }
        g.add_scaled(F::one(), &self.penalty_grad(reg));
        g.x = input_grad.then_some(grad_x);
        Ok((loss + self.penalty(reg), g))
    }

    // ---- a minibatch: the matrix version ----------------------------------------------

    /// Forward pass for a minibatch X: K × d, [`Mlp::fprop`] with one row per example:
    /// H_a = X W1ᵀ + b1, H_s = rect(H_a), O_a = H_s W2ᵀ + b2, O_s = row-wise softmax(O_a).
    pub fn fprop_batch(&self, x: ArrayView2<F>) -> Result<BatchCache<F>> {
        self.fprop_batch_masked(x, None)
    }

    /// [`Mlp::fprop_batch`] with inverted dropout on the hidden layer: H_s = rect(H_a) ⊙ M,
    /// where each entry of the K × d_h mask M is 0 (dropped) or 1/(1 − p) (kept), so that
    /// E\[H_s\] is the test-time rect(H_a). See [`dropout_mask`].
    pub fn fprop_batch_masked(&self, x: ArrayView2<F>, mask: Option<Array2<F>>) -> Result<BatchCache<F>> {
        self.check_x(x.ncols())?;
        check_mask(mask.as_ref(), x.nrows(), self.b1.len())?;
        let h_a = x.dot(&self.w1.t()) + &self.b1; //     K × d_h = (K × d)(d × d_h) + d_h
        let mut h_s = h_a.mapv(relu); //                 K × d_h
        if let Some(mk) = &mask {
            h_s *= mk; //                                K × d_h
        }
        let o_a = h_s.dot(&self.w2.t()) + &self.b2; //   K × m = (K × d_h)(d_h × m) + m
        let o_s = softmax_rows(o_a.view()); //           K × m
        Ok(BatchCache { h_a, h_s, o_a, o_s, mask })
    }

    /// Mean cross-entropy −(1/K) Σᵢ log O_s[i, yᵢ] of the minibatch from its cache (no penalty).
    pub fn batch_loss(&self, cache: &BatchCache<F>, y: &[usize]) -> Result<F> {
        ensure_shape(y.len() == cache.o_a.nrows(), || format!("{} labels for {} examples", y.len(), cache.o_a.nrows()))?;
        let ls = log_softmax_rows(cache.o_a.view());
        let mut total = F::zero();
        for (i, &c) in y.iter().enumerate() {
            ensure_shape(c < ls.ncols(), || format!("class label {c} is out of range for {} classes", ls.ncols()))?;
            total -= ls[[i, c]];
        }
        Ok(total / F::from_usize(y.len()).unwrap())
    }

    /// Backward pass for a minibatch, [`Mlp::bprop`] with one row per example, averaged
    /// over the K examples (no penalty). `input_grad`: also ∂X = G_ha W1 (K × d).
    pub fn bprop_batch(&self, x: ArrayView2<F>, y: &[usize], cache: &BatchCache<F>, input_grad: bool) -> Result<Grads<F>> {
        self.check_batch(&x, y)?;
        let k = F::from_usize(y.len()).unwrap();
        let grad_oa = (&cache.o_s - &onehot_rows::<F>(y, self.w2.nrows())?).mapv(|v| v / k); // K × m
        let grad_w2 = grad_oa.t().dot(&cache.h_s); //          m × d_h = (m × K)(K × d_h)
        let grad_b2 = grad_oa.sum_axis(Axis(0)); //            m
        let grad_hs = grad_oa.dot(&self.w2); //                K × d_h = (K × m)(m × d_h)
        let mut grad_ha = &grad_hs * &cache.h_a.mapv(step); // K × d_h
        if let Some(mk) = &cache.mask {
            grad_ha *= mk; //                                  K × d_h
        }
        let grad_w1 = grad_ha.t().dot(&x); //                  d_h × d = (d_h × K)(K × d)
        let grad_b1 = grad_ha.sum_axis(Axis(0)); //            d_h
        let grad_x = input_grad.then(|| grad_ha.dot(&self.w1)); // K × d = (K × d_h)(d_h × d)
        Ok(Grads { w1: grad_w1, b1: grad_b1, w2: grad_w2, b2: grad_b2, x: grad_x })
    }

    /// The matrix version: minibatch loss (mean plus penalty) and gradient from
    /// [`Mlp::fprop_batch`] and [`Mlp::bprop_batch`], plus the penalty gradient.
    pub fn loss_grad_matrix(&self, x: ArrayView2<F>, y: &[usize], reg: &ElasticNet<F>, input_grad: bool) -> Result<(F, Grads<F>)> {
        self.loss_grad_matrix_masked(x, y, reg, None, input_grad)
    }

    /// [`Mlp::loss_grad_matrix`] with a dropout mask on the hidden layer ([`Mlp::fprop_batch_masked`]).
    pub fn loss_grad_matrix_masked(&self, x: ArrayView2<F>, y: &[usize], reg: &ElasticNet<F>, mask: Option<Array2<F>>, input_grad: bool) -> Result<(F, Grads<F>)> {
        self.check_batch(&x, y)?;
        let cache = self.fprop_batch_masked(x, mask)?;
        let loss = self.batch_loss(&cache, y)?;
        let mut g = self.bprop_batch(x, y, &cache, input_grad)?;
        g.add_scaled(F::one(), &self.penalty_grad(reg));
        Ok((loss + self.penalty(reg), g))
    }

    // ---- training and prediction ------------------------------------------------------

    /// One gradient-descent step θ ← θ − η ∂θ.
    pub fn sgd_step(&mut self, g: &Grads<F>, lr: F) -> Result<()> {
        ensure_param(lr.is_finite() && lr > F::zero(), "lr", lr, "the learning rate must be positive and finite")?;
        ensure_shape(g.w1.dim() == self.w1.dim() && g.w2.dim() == self.w2.dim() && g.b1.len() == self.b1.len() && g.b2.len() == self.b2.len(), || {
            "gradient shapes do not match the network's parameters".into()
        })?;
        self.w1.scaled_add(-lr, &g.w1);
        self.b1.scaled_add(-lr, &g.b1);
        self.w2.scaled_add(-lr, &g.w2);
        self.b2.scaled_add(-lr, &g.b2);
        Ok(())
    }

    /// Class scores O_s for each row of X: K × m.
    pub fn predict_proba(&self, x: ArrayView2<F>) -> Result<Array2<F>> {
        Ok(self.fprop_batch(x)?.o_s)
    }

    /// The predicted class (argmax of o_a) for each row of X: K labels.
    pub fn predict(&self, x: ArrayView2<F>) -> Result<Vec<usize>> {
        let c = self.fprop_batch(x)?;
        Ok(c.o_a.rows().into_iter().map(|r| argmax(r)).collect())
    }

    /// Fraction of misclassified rows.
    pub fn error_rate(&self, x: ArrayView2<F>, y: &[usize]) -> Result<f64> {
        self.check_batch(&x, y)?;
        let p = self.predict(x)?;
        Ok(p.iter().zip(y).filter(|(a, b)| a != b).count() as f64 / y.len() as f64)
    }
}

/// A dropout mask must be K × d_h.
pub(crate) fn check_mask<F>(mask: Option<&Array2<F>>, k: usize, d_h: usize) -> Result<()> {
    match mask {
        Some(mk) => ensure_shape(mk.dim() == (k, d_h), || format!("the dropout mask is {:?} but the minibatch needs {:?} (K × d_h)", mk.dim(), (k, d_h))),
        None => Ok(()),
    }
}

/// A K × d_h inverted-dropout mask: each entry independently 0 with probability `p`,
/// else 1/(1 − p). `p` must lie in [0, 1).
pub fn dropout_mask<F: Real>(k: usize, d_h: usize, p: F, rng: &mut crate::core::rng::Rng) -> Result<Array2<F>> {
    ensure_param(p >= F::zero() && p < F::one(), "dropout", p, "the drop probability must lie in [0, 1)")?;
    let keep = F::one() / (F::one() - p);
    let p = p.to_f64().unwrap();
    let u = Uniform::new(0.0f64, 1.0);
    Ok(Array2::from_shape_simple_fn((k, d_h), || if u.sample(rng) < p { F::zero() } else { keep }))
}

/// Index of the largest entry (the first one on ties).
pub(crate) fn argmax<F: Real>(r: ArrayView1<F>) -> usize {
    let mut best = 0;
    for (i, &v) in r.iter().enumerate() {
        if v > r[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::core::gradcheck::{numerical_gradient, GradCheck, Stencil};
    use crate::core::rng;
    use ndarray::Ix2;
    use proptest::prelude::*;

    fn batch(k: usize, d: usize, m: usize, seed: u64) -> (Array2<f64>, Vec<usize>) {
        let mut r = rng::seeded(seed);
        let x = rng::randn((k, d), &mut r);
        let y = (0..k).map(|i| (i * 7 + seed as usize) % m).collect();
        (x, y)
    }

    fn no_kinks(net: &Mlp<f64>, x: &Array2<f64>) -> bool {
        net.fprop_batch(x.view()).unwrap().h_a.iter().all(|v| v.abs() > 1e-2)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(40))]
        #[test]
        fn matrix_gradient_matches_finite_differences(
            d in 1usize..5, dh in 1usize..6, m in 2usize..4, k in 1usize..6, seed in 0u64..10_000,
            l11 in 0.0..0.1f64, l12 in 0.0..0.1f64, l21 in 0.0..0.1f64, l22 in 0.0..0.1f64,
        ) {
            let mut net = Mlp::<f64>::init(d, dh, m, seed).unwrap();
            // non-zero biases so that every code path is exercised
            net.b1 = rng::randn(dh, &mut rng::seeded(seed + 7)) * 0.3;
            net.b2 = rng::randn(m, &mut rng::seeded(seed + 8)) * 0.3;
            let (x, y) = batch(k, d, m, seed);
            prop_assume!(no_kinks(&net, &x));
            // |W| entries away from 0 so the L1 term is differentiable within the stencil
            prop_assume!(net.w1.iter().chain(net.w2.iter()).all(|w| w.abs() > 1e-2));
            let reg = ElasticNet::new(l11, l12, l21, l22).unwrap();
            let (_, g) = net.loss_grad_matrix(x.view(), &y, &reg, true).unwrap();
            let numeric = numerical_gradient(&net.to_dyn(), 1e-3, Stencil::Four, |p| {
                Mlp::from_dyn(p).unwrap().loss_grad_matrix(x.view(), &y, &reg, false).unwrap().0
            }).unwrap();
            let check = GradCheck::compare(&PARAM_NAMES, &g.to_dyn(), &numeric).unwrap();
            prop_assert!(check.rel_error() < 1e-7, "params: {}", check.rel_error());
            let nx = numerical_gradient(&[x.clone().into_dyn()], 1e-3, Stencil::Four, |p| {
                let xv = p[0].view().into_dimensionality::<Ix2>().unwrap();
                net.loss_grad_matrix(xv, &y, &reg, false).unwrap().0
            }).unwrap();
            let cx = GradCheck::compare(&["X"], &[g.x.unwrap().into_dyn()], &nx).unwrap();
            prop_assert!(cx.rel_error() < 1e-7, "X: {}", cx.rel_error());
        }

        #[test]
        fn loop_equals_matrix(d in 1usize..6, dh in 1usize..8, m in 2usize..5, seed in 0u64..10_000, k in prop_oneof![Just(1usize), Just(10usize)], with_reg: bool) {
            let net = Mlp::<f64>::init(d, dh, m, seed).unwrap();
            let (x, y) = batch(k, d, m, seed);
            let reg = if with_reg { ElasticNet::new(0.01, 0.02, 0.03, 0.04).unwrap() } else { ElasticNet::none() };
            let (la, ga) = net.loss_grad_loop(x.view(), &y, &reg, true).unwrap();
            let (lb, gb) = net.loss_grad_matrix(x.view(), &y, &reg, true).unwrap();
            prop_assert!((la - lb).abs() < 1e-12);
            prop_assert!(ga.max_abs_diff(&gb) < 1e-12, "max diff {}", ga.max_abs_diff(&gb));
            // f32: the same two versions agree to f32 rounding
            let n32 = Mlp::<f32>::new(net.w1.mapv(|v| v as f32), net.b1.mapv(|v| v as f32), net.w2.mapv(|v| v as f32), net.b2.mapv(|v| v as f32)).unwrap();
            let reg32 = ElasticNet { l11: reg.l11 as f32, l12: reg.l12 as f32, l21: reg.l21 as f32, l22: reg.l22 as f32 };
            let x32 = x.mapv(|v| v as f32);
            let (la, ga) = n32.loss_grad_loop(x32.view(), &y, &reg32, true).unwrap();
            let (lb, gb) = n32.loss_grad_matrix(x32.view(), &y, &reg32, true).unwrap();
            prop_assert!((la - lb).abs() < 1e-5 * la.abs().max(1.0));
            prop_assert!(ga.max_abs_diff(&gb) < 1e-5, "f32 max diff {}", ga.max_abs_diff(&gb));
        }
    }

    #[test]
    fn loop_equals_mean_of_fprop_bprop() {
        let net = Mlp::<f64>::init(5, 7, 3, 4).unwrap();
        let (x, y) = batch(6, 5, 3, 9);
        let (l, g) = net.loss_grad_loop(x.view(), &y, &ElasticNet::none(), true).unwrap();
        let (mut lsum, mut w1) = (0.0, Array2::<f64>::zeros((7, 5)));
        for (i, &c) in y.iter().enumerate() {
            let (cache, li) = net.fprop(x.row(i), c).unwrap();
            lsum += li;
            let gi = net.bprop(x.row(i), c, &cache).unwrap();
            w1 += &gi.w1;
            let gx = gi.input_of(0).unwrap();
            assert!((gx / 6.0 - g.input_of(i).unwrap()).iter().all(|v| v.abs() < 1e-15));
        }
        assert!((lsum / 6.0 - l).abs() < 1e-14);
        assert!((w1 / 6.0 - &g.w1).iter().all(|v| v.abs() < 1e-15));
    }

    #[test]
    fn input_of_names_what_is_missing() {
        let net = Mlp::<f64>::init(5, 7, 3, 4).unwrap();
        let (x, y) = batch(6, 5, 3, 9);
        let (_, without) = net.loss_grad_loop(x.view(), &y, &ElasticNet::none(), false).unwrap();
        assert!(without.input_of(0).unwrap_err().to_string().contains("input_grad = true"));
        let (_, with) = net.loss_grad_loop(x.view(), &y, &ElasticNet::none(), true).unwrap();
        assert_eq!(with.input_of(5).unwrap(), with.x.as_ref().unwrap().row(5));
        assert!(with.input_of(6).unwrap_err().to_string().contains("6 rows"));
    }

    #[test]
    fn dropout_gradient_matches_finite_differences() {
        // a fixed mask: the masked loss is an ordinary function of the parameters;
        // the first seed whose h_a stays away from the ReLU kink (so that finite differences are valid)
        let (net, x, y) = (0..200u64)
            .map(|seed| {
                let mut net = Mlp::<f64>::init(6, 64, 3, seed).unwrap();
                net.b1 = rng::randn(64, &mut rng::seeded(seed + 1)) * 0.3;
                let (x, y) = batch(3, 6, 3, seed + 2);
                (net, x, y)
            })
            .find(|(net, x, _)| no_kinks(net, x))
            .expect("a seed without kinks");
        let mask = dropout_mask::<f64>(3, 64, 0.5, &mut rng::seeded(14)).unwrap();
        assert!(mask.iter().all(|&v| v == 0.0 || v == 2.0) && mask.iter().any(|&v| v == 0.0) && mask.iter().any(|&v| v == 2.0));
        let reg = ElasticNet::none();
        let (loss, g) = net.loss_grad_matrix_masked(x.view(), &y, &reg, Some(mask.clone()), false).unwrap();
        let masked_loss = |n: &Mlp<f64>| n.batch_loss(&n.fprop_batch_masked(x.view(), Some(mask.clone())).unwrap(), &y).unwrap();
        assert_eq!(loss, masked_loss(&net));
        let numeric = numerical_gradient(&net.to_dyn(), 1e-3, Stencil::Four, |p| masked_loss(&Mlp::from_dyn(p).unwrap())).unwrap();
        let check = GradCheck::compare(&PARAM_NAMES, &g.to_dyn(), &numeric).unwrap();
        assert!(check.rel_error() < 1e-7, "rel error {}", check.rel_error());
        // and it differs from the unmasked gradient
        let (_, plain) = net.loss_grad_matrix(x.view(), &y, &reg, false).unwrap();
        assert!(plain.max_abs_diff(&g) > 1e-3);
        assert!(dropout_mask::<f64>(2, 2, 1.0, &mut rng::seeded(1)).is_err());
    }

    #[test]
    fn penalty_gradient_is_the_difference_of_the_two_gradients() {
        let net = Mlp::<f64>::init(4, 5, 3, 2).unwrap();
        let (x, y) = batch(6, 4, 3, 1);
        let reg = ElasticNet::new(0.1, 0.2, 0.3, 0.4).unwrap();
        let (_, with) = net.loss_grad_matrix(x.view(), &y, &reg, false).unwrap();
        let (_, without) = net.loss_grad_matrix(x.view(), &y, &ElasticNet::none(), false).unwrap();
        let pg = net.penalty_grad(&reg);
        assert!((&with.w1 - &without.w1 - &pg.w1).iter().all(|v| v.abs() < 1e-15));
        assert_eq!(pg.w2[[0, 0]], 0.3 * net.w2[[0, 0]].signum() + 0.8 * net.w2[[0, 0]]);
        assert!(pg.b1.iter().chain(pg.b2.iter()).all(|&v| v == 0.0));
    }

    #[test]
    fn f32_agrees_with_f64() {
        let net64 = Mlp::<f64>::init(4, 5, 3, 1).unwrap();
        let net32 = Mlp::<f32>::new(net64.w1.mapv(|v| v as f32), net64.b1.mapv(|v| v as f32), net64.w2.mapv(|v| v as f32), net64.b2.mapv(|v| v as f32)).unwrap();
        let (x, y) = batch(6, 4, 3, 2);
        let x32 = x.mapv(|v| v as f32);
        let (l64, g64) = net64.loss_grad_matrix(x.view(), &y, &ElasticNet::none(), false).unwrap();
        let (l32, g32) = net32.loss_grad_matrix(x32.view(), &y, &ElasticNet::none(), false).unwrap();
        assert!((l64 - l32 as f64).abs() < 1e-5);
        let d = g64.w1.iter().zip(g32.w1.iter()).map(|(a, &b)| (a - b as f64).abs()).fold(0.0, f64::max);
        assert!(d < 1e-5);
    }

    #[test]
    fn init_is_seeded_and_within_bounds() {
        let a = Mlp::<f64>::init(784, 100, 10, 42).unwrap();
        let b = Mlp::<f64>::init(784, 100, 10, 42).unwrap();
        assert_eq!(a, b);
        let r1 = 1.0 / 784f64.sqrt();
        let r2 = 1.0 / 100f64.sqrt();
        assert!(a.w1.iter().all(|v| v.abs() <= r1) && a.w2.iter().all(|v| v.abs() <= r2));
        // the draws fill the interval: the extremes come within 1 % of the bound
        assert!(a.w1.iter().fold(0.0f64, |m, v| m.max(v.abs())) > 0.99 * r1);
        assert!(a.b1.iter().all(|&v| v == 0.0) && a.b2.iter().all(|&v| v == 0.0));
        assert_eq!(a.n_params(), 100 * 784 + 100 + 10 * 100 + 10);
        assert_ne!(a, Mlp::<f64>::init(784, 100, 10, 43).unwrap());
    }

    #[test]
    fn softmax_outputs_and_prediction() {
        let net = Mlp::<f64>::init(3, 4, 5, 0).unwrap();
        let (x, y) = batch(8, 3, 5, 1);
        let p = net.predict_proba(x.view()).unwrap();
        for r in p.rows() {
            assert!((r.sum() - 1.0).abs() < 1e-12 && r.iter().all(|&v| v > 0.0));
        }
        let pred = net.predict(x.view()).unwrap();
        let err = net.error_rate(x.view(), &y).unwrap();
        let manual = pred.iter().zip(&y).filter(|(a, b)| a != b).count() as f64 / 8.0;
        assert_eq!(err, manual);
        // one example: fprop's loss is −log o_s[y]
        let (c, l) = net.fprop(x.row(0), y[0]).unwrap();
        assert!((l + c.o_s[y[0]].ln()).abs() < 1e-12);
    }

    #[test]
    fn bad_inputs_are_clear_errors() {
        let net = Mlp::<f64>::init(784, 10, 10, 0).unwrap();
        let x = Array2::<f64>::zeros((3, 2));
        let e = net.loss_grad_matrix(x.view(), &[0, 1, 2], &ElasticNet::none(), false).unwrap_err().to_string();
        assert_eq!(e, "shape mismatch: W1 has 784 columns but x has 2 features");
        let x = Array2::<f64>::zeros((3, 784));
        let e = net.loss_grad_loop(x.view(), &[0, 1], &ElasticNet::none(), false).unwrap_err().to_string();
        assert_eq!(e, "shape mismatch: the minibatch has 3 examples but 2 labels");
        let e = net.loss_grad_loop(x.view(), &[0, 1, 10], &ElasticNet::none(), false).unwrap_err().to_string();
        assert_eq!(e, "shape mismatch: class label 10 is out of range for 10 classes (labels are 0..10)");
        let empty = Array2::<f64>::zeros((0, 784));
        let e = net.error_rate(empty.view(), &[]).unwrap_err().to_string();
        assert_eq!(e, "empty input: the minibatch has no examples");
        let e = Mlp::<f64>::init(784, 0, 10, 0).unwrap_err().to_string();
        assert_eq!(e, "invalid hyperparameter d_h (hidden units) = 0: must be at least 1");
        let e = ElasticNet::new(0.0, -0.1, 0.0, 0.0).unwrap_err().to_string();
        assert_eq!(e, "invalid hyperparameter lambda12 = -0.1: must be finite and >= 0");
        let e = Mlp::new(Array2::<f64>::zeros((3, 2)), Array1::zeros(2), Array2::zeros((4, 3)), Array1::zeros(4)).unwrap_err().to_string();
        assert_eq!(e, "shape mismatch: b1 has 2 entries but W1 has 3 rows (d_h)");
        let mut n2 = net.clone();
        let (_, g) = net.loss_grad_matrix(x.view(), &[0, 1, 2], &ElasticNet::none(), false).unwrap();
        let e = n2.sgd_step(&g, f64::NAN).unwrap_err().to_string();
        assert_eq!(e, "invalid hyperparameter lr = NaN: the learning rate must be positive and finite");
        let mut p = net.to_dyn();
        p.swap(0, 1);
        let e = Mlp::from_dyn(&p).unwrap_err().to_string();
        assert_eq!(e, "shape mismatch: W1 must be a matrix, got an array of shape [10]");
        let mut w1 = Array2::<f64>::zeros((2, 2));
        w1[[0, 0]] = f64::INFINITY;
        let e = Mlp::new(w1, Array1::zeros(2), Array2::zeros((2, 2)), Array1::zeros(2)).unwrap_err().to_string();
        assert_eq!(e, "non-finite value: W1 contains NaN or infinity");
    }
}
