//! Jacobians of a network's vector output by backpropagation (ps5).
//!
//! For f(x₀) = W₂ σ(W₁ σ(W₀ x₀)) (any [`Network`]), backpropagating the unit
//! vector e_k from the output gives row k of every Jacobian at once:
//! ∂f_k/∂x₀ and ∂f_k/∂W_l. With δ_l^{(k)} = ∂f_k/∂z_l (z_l = W_l x_l),
//! ∂f_k/∂W_l\[i, j\] = δ_l^{(k)}\[i\] · x_l\[j\], so df/dW_l is the 3-index array
//! J[k, i, j] of shape (h_out × h_{l+1} × h_l). For a scalar output (h_out = 1)
//! it reduces to the ordinary gradient matrix δ_l x_lᵀ.

use crate::core::error::Result;
use crate::core::network::Network;
use ndarray::{Array1, Array2, Array3, ArrayView1, Axis};

/// df/dx₀ and df/dW_l for every layer l, at input x.
#[derive(Clone, Debug, PartialEq)]
pub struct Jacobians {
    /// f(x), length h_out.
    pub f: Array1<f64>,
    /// df/dx₀: h_out × h_in.
    pub x: Array2<f64>,
    /// df/dW_l: one (h_out × h_{l+1} × h_l) array per layer, input side first.
    pub w: Vec<Array3<f64>>,
}

/// Computes f(x), df/dx and every df/dW_l with one forward pass and one backward pass per output unit.
pub fn jacobians(net: &Network, x: ArrayView1<f64>) -> Result<Jacobians> {
    let (f, caches) = net.forward(x)?;
    let m = f.len();
    let mut jx = Array2::zeros((m, x.len()));
    let mut jw: Vec<Array3<f64>> = net.layers.iter().map(|l| Array3::zeros((m, l.outputs(), l.inputs()))).collect();
    for k in 0..m {
        let mut e = Array1::zeros(m);
        e[k] = 1.0;
        let g = net.backward(e.view(), &caches)?;
        jx.row_mut(k).assign(&g.x);
        for (jl, gl) in jw.iter_mut().zip(&g.layers) {
            jl.index_axis_mut(Axis(0), k).assign(&gl.w);
        }
    }
    Ok(Jacobians { f, x: jx, w: jw })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::activation::Activation;
    use crate::core::gradcheck::{numerical_jacobian, rel_error, Stencil};
    use crate::core::network::Dense;
    use crate::core::rng;
    use ndarray::{ArrayD, Ix1, Ix2};
    use proptest::prelude::*;

    fn ps5_net(h: &[usize], seed: u64) -> Network {
        let mut r = rng::seeded(seed);
        let layers = h
            .windows(2)
            .enumerate()
            .map(|(l, p)| {
                let act = if l + 2 == h.len() { Activation::Identity } else { Activation::Sigmoid };
                Dense::new(rng::uniform((p[1], p[0]), 0.0, 1.0, &mut r) / (p[1] as f64).sqrt(), None, act).unwrap()
            })
            .collect();
        Network::new(layers).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn jacobians_match_finite_differences(h0 in 1usize..4, h1 in 1usize..6, h2 in 1usize..6, h3 in 1usize..4, seed in 0u64..5000) {
            let net = ps5_net(&[h0, h1, h2, h3], seed);
            let x = rng::randn(h0, &mut rng::seeded(seed + 1));
            let j = jacobians(&net, x.view()).unwrap();
            let nx = numerical_jacobian(&[x.clone().into_dyn()], 1e-3, Stencil::Four, |p| {
                net.predict(p[0].view().into_dimensionality::<Ix1>().unwrap()).unwrap()
            }).unwrap();
            prop_assert!(rel_error(&j.x.clone().into_dyn(), &nx[0]).unwrap() < 1e-7);
            let (_, params) = net.params(0);
            let nw = numerical_jacobian(&params, 1e-3, Stencil::Four, |p: &[ArrayD<f64>]| {
                net.with_params(p).unwrap().predict(x.view()).unwrap()
            }).unwrap();
            for (a, b) in j.w.iter().zip(&nw) {
                prop_assert!(rel_error(&a.clone().into_dyn(), b).unwrap() < 1e-7);
            }
        }
    }

    #[test]
    fn scalar_output_reduces_to_the_gradient() {
        let net = ps5_net(&[3, 4, 1], 9);
        let x = rng::randn(3, &mut rng::seeded(2));
        let j = jacobians(&net, x.view()).unwrap();
        let (y, caches) = net.forward(x.view()).unwrap();
        let g = net.backward(ndarray::array![1.0].view(), &caches).unwrap();
        assert_eq!(j.f, y);
        assert_eq!(j.w[0].index_axis(Axis(0), 0), g.layers[0].w);
        assert_eq!(j.x.row(0), g.x);
        assert_eq!(j.w[1].shape(), &[1, 1, 4]);
        let _ = j.w[0].view().into_shape_with_order((4, 3)).unwrap().into_dimensionality::<Ix2>().unwrap();
    }
}
