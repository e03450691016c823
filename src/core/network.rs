//! A general feed-forward network of dense layers (ps1, ps3 Q1, ps4, ps5).
//!
//! Layer l maps its input x to the pre-activation a = W x + b and the output
//! s = φ(a); W is (outputs × inputs), as in ps2 and ps5. Each layer has a
//! `forward` that returns its output and a cache, and a `backward` that takes
//! the upstream gradient ∂L/∂s and the cache (CS231n style).
//!
//! Why ps2's MLP (`core/mlp.rs`) is a type of its own and not a `Network` of two `Dense`
//! layers: ps2 needs what the other problem sets do not (minibatches as K × d matrices,
//! f32 as well as f64 for training, softmax with cross-entropy fused, the elastic net,
//! dropout) and its code must read line by line beside ps2's own names W1, b1, h_a, h_s,
//! o_a, o_s. `Network` is the general case the other sets use: any depth, any activation,
//! one example at a time, f64.

use crate::core::activation::Activation;
use crate::core::error::{ensure_finite, ensure_shape, to_ix1, to_ix2, Result};
use ndarray::{Array1, Array2, ArrayD, ArrayView1};

/// One dense layer: s = φ(W x + b).
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    /// Weights, outputs × inputs.
    pub w: Array2<f64>,
    /// Biases (length = outputs), or `None` for a layer without biases (ps1, ps5).
    pub b: Option<Array1<f64>>,
    /// The element-wise non-linearity φ.
    pub activation: Activation,
}

/// What [`Dense::backward`] needs from the forward pass.
#[derive(Clone, Debug, PartialEq)]
pub struct DenseCache {
    /// The layer's input x (length = inputs).
    pub x: Array1<f64>,
    /// Pre-activation a = W x + b (h_a in ps2's names, z in ps1/ps4).
    pub a: Array1<f64>,
    /// Output s = φ(a) (h_s in ps2's names).
    pub s: Array1<f64>,
}

/// Gradients of one layer for one example.
#[derive(Clone, Debug, PartialEq)]
pub struct DenseGrads {
    /// δ = ∂L/∂a = ∂L/∂s ⊙ φ′(a).
    pub delta: Array1<f64>,
    /// ∂L/∂W = δ xᵀ (outputs × inputs).
    pub w: Array2<f64>,
    /// ∂L/∂b = δ, when the layer has biases.
    pub b: Option<Array1<f64>>,
    /// ∂L/∂x = Wᵀ δ, passed to the layer below.
    pub x: Array1<f64>,
}

impl Dense {
    /// A layer from its weights (outputs × inputs), optional biases and activation;
    /// checks that the bias length equals the number of outputs and that all values are finite.
    pub fn new(w: Array2<f64>, b: Option<Array1<f64>>, activation: Activation) -> Result<Self> {
        if let Some(b) = &b {
            ensure_shape(b.len() == w.nrows(), || {
                format!("bias has {} entries but W has {} rows (one per output)", b.len(), w.nrows())
            })?;
            ensure_finite(b.iter(), "bias")?;
        }
        ensure_finite(w.iter(), "weights")?;
        Ok(Dense { w, b, activation })
    }

    /// Number of inputs (columns of W).
    pub fn inputs(&self) -> usize {
        self.w.ncols()
    }

    /// Number of outputs (rows of W).
    pub fn outputs(&self) -> usize {
        self.w.nrows()
    }

    /// Forward: a = W x + b, s = φ(a). Returns (s, cache).
    pub fn forward(&self, x: ArrayView1<f64>) -> Result<(Array1<f64>, DenseCache)> {
        ensure_shape(x.len() == self.inputs(), || {
            format!("W has {} columns but x has {} features", self.inputs(), x.len())
        })?;
        let mut a = self.w.dot(&x);
        if let Some(b) = &self.b {
            a += b;
        }
        let s = self.activation.forward(&a);
        Ok((s.clone(), DenseCache { x: x.to_owned(), a, s }))
    }

    /// Backward: given ∂L/∂s, returns δ = ∂L/∂s ⊙ φ′(a), ∂L/∂W = δ xᵀ,
    /// ∂L/∂b = δ and ∂L/∂x = Wᵀ δ.
    pub fn backward(&self, d_s: ArrayView1<f64>, cache: &DenseCache) -> Result<DenseGrads> {
        ensure_shape(d_s.len() == self.outputs(), || {
            format!("upstream gradient has {} entries but the layer has {} outputs", d_s.len(), self.outputs())
        })?;
        let delta = self.activation.backward(&d_s.to_owned(), &cache.a);
        let w = outer(&delta, &cache.x);
        let x = self.w.t().dot(&delta);
        let b = self.b.as_ref().map(|_| delta.clone());
        Ok(DenseGrads { delta, w, b, x })
    }
}

/// Outer product u vᵀ.
pub fn outer<F: crate::core::Real>(u: &Array1<F>, v: &Array1<F>) -> Array2<F> {
    let uc = u.view().insert_axis(ndarray::Axis(1));
    let vr = v.view().insert_axis(ndarray::Axis(0));
    uc.dot(&vr)
}

/// A stack of dense layers; layer l's outputs feed layer l+1.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    /// The layers, input side first.
    pub layers: Vec<Dense>,
}

/// Gradients of the whole network for one example.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkGrads {
    /// One entry per layer, input side first.
    pub layers: Vec<DenseGrads>,
    /// ∂L/∂x for the network's input.
    pub x: Array1<f64>,
}

impl Network {
    /// A network from its layers; checks that each layer's inputs equal the previous layer's outputs.
    pub fn new(layers: Vec<Dense>) -> Result<Self> {
        ensure_shape(!layers.is_empty(), || "a network needs at least one layer".into())?;
        for (i, pair) in layers.windows(2).enumerate() {
            ensure_shape(pair[1].inputs() == pair[0].outputs(), || {
                format!(
                    "layer {} has {} outputs but layer {} takes {} inputs",
                    i + 1,
                    pair[0].outputs(),
                    i + 2,
                    pair[1].inputs()
                )
            })?;
        }
        Ok(Network { layers })
    }

    /// Input size of the first layer.
    pub fn inputs(&self) -> usize {
        self.layers[0].inputs()
    }

    /// Output size of the last layer.
    pub fn outputs(&self) -> usize {
        self.layers[self.layers.len() - 1].outputs()
    }

    /// Forward through every layer. Returns (output, one cache per layer).
    pub fn forward(&self, x: ArrayView1<f64>) -> Result<(Array1<f64>, Vec<DenseCache>)> {
        let mut caches = Vec::with_capacity(self.layers.len());
        let mut h = x.to_owned();
        for (i, layer) in self.layers.iter().enumerate() {
            let (s, cache) = layer.forward(h.view()).map_err(|e| match e {
                crate::core::error::Error::Shape(m) => crate::core::error::Error::Shape(format!("layer {}: {m}", i + 1)),
                other => other,
            })?;
            caches.push(cache);
            h = s;
        }
        Ok((h, caches))
    }

    /// The output only.
    pub fn predict(&self, x: ArrayView1<f64>) -> Result<Array1<f64>> {
        Ok(self.forward(x)?.0)
    }

    /// Backward from ∂L/∂output through every layer, using the caches of [`Network::forward`].
    pub fn backward(&self, d_out: ArrayView1<f64>, caches: &[DenseCache]) -> Result<NetworkGrads> {
        ensure_shape(caches.len() == self.layers.len(), || {
            format!("{} caches for {} layers", caches.len(), self.layers.len())
        })?;
        let mut grads = Vec::with_capacity(self.layers.len());
        let mut d = d_out.to_owned();
        for (layer, cache) in self.layers.iter().zip(caches).rev() {
            let g = layer.backward(d.view(), cache)?;
            d = g.x.clone();
            grads.push(g);
        }
        grads.reverse();
        Ok(NetworkGrads { layers: grads, x: d })
    }

    /// Names and values of every parameter, as `W{k}` and `b{k}` with k counted from `first`
    /// (ps2 and ps1 count from 1, ps5 from 0). Biases are listed after their weights.
    pub fn params(&self, first: usize) -> (Vec<String>, Vec<ArrayD<f64>>) {
        let mut names = Vec::new();
        let mut values = Vec::new();
        for (i, layer) in self.layers.iter().enumerate() {
            names.push(format!("W{}", i + first));
            values.push(layer.w.clone().into_dyn());
            if let Some(b) = &layer.b {
                names.push(format!("b{}", i + first));
                values.push(b.clone().into_dyn());
            }
        }
        (names, values)
    }

    /// The same network with parameters replaced, in the order of [`Network::params`].
    pub fn with_params(&self, values: &[ArrayD<f64>]) -> Result<Network> {
        let expected: usize = self.layers.iter().map(|l| 1 + l.b.is_some() as usize).sum();
        ensure_shape(values.len() == expected, || {
            format!("{} parameter arrays given but the network has {expected}", values.len())
        })?;
        let mut it = values.iter();
        let mut layers = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let w = to_ix2(it.next().unwrap(), "weights")?;
            ensure_shape(w.dim() == layer.w.dim(), || {
                format!("new weights are {:?} but the layer's are {:?}", w.dim(), layer.w.dim())
            })?;
            let b = match &layer.b {
                Some(old) => {
                    let b = to_ix1(it.next().unwrap(), "bias")?;
                    ensure_shape(b.len() == old.len(), || {
                        format!("new bias has {} entries but the layer's has {}", b.len(), old.len())
                    })?;
                    Some(b)
                }
                None => None,
            };
            layers.push(Dense::new(w, b, layer.activation)?);
        }
        Network::new(layers)
    }

    /// The gradients in the order of [`Network::params`].
    pub fn grads_as_params(grads: &NetworkGrads) -> Vec<ArrayD<f64>> {
        let mut out = Vec::new();
        for g in &grads.layers {
            out.push(g.w.clone().into_dyn());
            if let Some(b) = &g.b {
                out.push(b.clone().into_dyn());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::gradcheck;
    use crate::core::rng;
    use ndarray::{array, Ix1};
    use proptest::prelude::*;

    fn random_net(sizes: &[usize], act: Activation, bias: bool, seed: u64) -> Network {
        let mut r = rng::seeded(seed);
        let layers = sizes
            .windows(2)
            .enumerate()
            .map(|(i, p)| {
                let last = i + 2 == sizes.len();
                Dense::new(
                    rng::randn((p[1], p[0]), &mut r),
                    bias.then(|| rng::randn(p[1], &mut r)),
                    if last { Activation::Identity } else { act },
                )
                .unwrap()
            })
            .collect();
        Network::new(layers).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn backward_matches_centred_differences(
            d in 1usize..5, h in 1usize..6, o in 1usize..4, seed in 0u64..10_000,
            act in prop_oneof![Just(Activation::Sigmoid), Just(Activation::Tanh), Just(Activation::Softplus), Just(Activation::Relu)],
            bias in any::<bool>(),
        ) {
            let net = random_net(&[d, h, o], act, bias, seed);
            let mut r = rng::seeded(seed + 1);
            let x = rng::randn(d, &mut r);
            let t = rng::randn(o, &mut r);
            let (y, caches) = net.forward(x.view()).unwrap();
            // ReLU is not differentiable at 0: skip draws with a pre-activation near the kink.
            prop_assume!(act != Activation::Relu || caches.iter().all(|c| c.a.iter().all(|v| v.abs() > 1e-2)));
            let g = net.backward((&y - &t).view(), &caches).unwrap();
            let (names, params) = net.params(1);
            let loss = |p: &[ArrayD<f64>]| {
                let y = net.with_params(p).unwrap().predict(x.view()).unwrap();
                0.5 * (&y - &t).mapv(|v| v * v).sum()
            };
            let numeric = gradcheck::numerical_gradient(&params, 1e-3, gradcheck::Stencil::Four, loss).unwrap();
            let check = gradcheck::GradCheck::compare(&names, &Network::grads_as_params(&g), &numeric).unwrap();
            // a saturated tanh/sigmoid can make every gradient ~1e-8, at the finite differences'
            // noise floor (~1e-14 absolute), where the relative error means nothing: accept those by
            // their absolute error
            prop_assert!(check.rel_error() < 1e-7 || check.max_abs_diff() < 1e-12, "max rel error {}", check.rel_error());
            // and the input gradient
            let nx = gradcheck::numerical_gradient(&[x.clone().into_dyn()], 1e-3, gradcheck::Stencil::Four, |p| {
                let y = net.predict(p[0].view().into_dimensionality::<Ix1>().unwrap()).unwrap();
                0.5 * (&y - &t).mapv(|v| v * v).sum()
            }).unwrap();
            let cx = gradcheck::GradCheck::compare(&["x"], &[g.x.into_dyn()], &nx).unwrap();
            prop_assert!(cx.rel_error() < 1e-7 || cx.max_abs_diff() < 1e-12, "x: max rel error {}", cx.rel_error());
        }
    }

    #[test]
    fn shape_errors_name_the_mismatch() {
        let l = Dense::new(Array2::zeros((3, 2)), None, Activation::Relu).unwrap();
        let e = l.forward(array![1.0, 2.0, 3.0].view()).unwrap_err().to_string();
        assert_eq!(e, "shape mismatch: W has 2 columns but x has 3 features");
        let e = Dense::new(Array2::zeros((3, 2)), Some(array![0.0]), Activation::Relu).unwrap_err().to_string();
        assert_eq!(e, "shape mismatch: bias has 1 entries but W has 3 rows (one per output)");
        let a = Dense::new(Array2::zeros((3, 2)), None, Activation::Relu).unwrap();
        let b = Dense::new(Array2::zeros((1, 4)), None, Activation::Identity).unwrap();
        let e = Network::new(vec![a, b]).unwrap_err().to_string();
        assert_eq!(e, "shape mismatch: layer 1 has 3 outputs but layer 2 takes 4 inputs");
        let e = Dense::new(array![[f64::NAN]], None, Activation::Relu).unwrap_err().to_string();
        assert_eq!(e, "non-finite value: weights contains NaN or infinity");
        let e = Network::new(vec![]).unwrap_err().to_string();
        assert_eq!(e, "shape mismatch: a network needs at least one layer");
    }
}
