//! Activation functions and their derivatives (ps2 part a, ps1, ps3, ps4, ps5).
//!
//! Scalar functions are generic over `f32`/`f64`; apply them to arrays with
//! `a.mapv(sigmoid)` or through [`Activation::forward`]. Where a derivative is
//! undefined (ReLU and |x| at 0) it is taken as 0, as the problem sets allow.

use ndarray::{Array, Dimension};
use num_traits::Float;

/// Indicator 1_S: 1 when `condition` holds, else 0.
pub fn indicator<F: Float>(condition: bool) -> F {
    if condition {
        F::one()
    } else {
        F::zero()
    }
}

/// sigmoid(x) = 1 / (1 + exp(−x)), evaluated so that it never overflows:
/// for x < 0 it uses exp(x) / (1 + exp(x)).
pub fn sigmoid<F: Float>(x: F) -> F {
    if x >= F::zero() {
        F::one() / (F::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (F::one() + e)
    }
}

/// sigmoid′(x) = sigmoid(x)(1 − sigmoid(x)).
pub fn sigmoid_prime<F: Float>(x: F) -> F {
    let s = sigmoid(x);
    s * (F::one() - s)
}

/// ln sigmoid(x) = −softplus(−x), exact for large |x| (no log of 0).
pub fn log_sigmoid<F: Float>(x: F) -> F {
    -softplus(-x)
}

/// tanh(x) = (eˣ − e⁻ˣ)/(eˣ + e⁻ˣ).
pub fn tanh<F: Float>(x: F) -> F {
    x.tanh()
}

/// tanh′(x) = 1 − tanh²(x).
pub fn tanh_prime<F: Float>(x: F) -> F {
    let t = x.tanh();
    F::one() - t * t
}

/// softplus(x) = ln(1 + eˣ), computed as max(x, 0) + ln(1 + e^{−|x|}) so that
/// it neither overflows for large x nor loses precision for very negative x.
pub fn softplus<F: Float>(x: F) -> F {
    x.max(F::zero()) + (-x.abs()).exp().ln_1p()
}

/// softplus′(x) = sigmoid(x).
pub fn softplus_prime<F: Float>(x: F) -> F {
    sigmoid(x)
}

/// rect(x) = ReLU(x) = max(0, x) = x · 1_{x>0}.
pub fn relu<F: Float>(x: F) -> F {
    if x > F::zero() {
        x
    } else {
        F::zero()
    }
}

/// rect′(x) = 1_{x>0} (0 at x = 0).
pub fn relu_prime<F: Float>(x: F) -> F {
    indicator(x > F::zero())
}

/// sign(x) = 1_{x>0} − 1_{x<0}: +1, −1, or 0 at 0.
pub fn sign<F: Float>(x: F) -> F {
    indicator::<F>(x > F::zero()) - indicator::<F>(x < F::zero())
}

/// abs(x) = |x|.
pub fn abs<F: Float>(x: F) -> F {
    x.abs()
}

/// abs′(x) = sign(x) (0 at x = 0).
pub fn abs_prime<F: Float>(x: F) -> F {
    sign(x)
}

/// The element-wise non-linearity φ of a layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// φ(a) = a.
    Identity,
    /// φ(a) = sigmoid(a).
    Sigmoid,
    /// φ(a) = tanh(a).
    Tanh,
    /// φ(a) = max(0, a).
    Relu,
    /// φ(a) = ln(1 + eᵃ).
    Softplus,
}

impl Activation {
    /// φ(x) for one scalar.
    pub fn apply<F: Float>(self, x: F) -> F {
        match self {
            Activation::Identity => x,
            Activation::Sigmoid => sigmoid(x),
            Activation::Tanh => tanh(x),
            Activation::Relu => relu(x),
            Activation::Softplus => softplus(x),
        }
    }

    /// φ′(x) for one scalar.
    pub fn derivative<F: Float>(self, x: F) -> F {
        match self {
            Activation::Identity => F::one(),
            Activation::Sigmoid => sigmoid_prime(x),
            Activation::Tanh => tanh_prime(x),
            Activation::Relu => relu_prime(x),
            Activation::Softplus => softplus_prime(x),
        }
    }

    /// φ applied element-wise: h_s = φ(h_a).
    pub fn forward<F: Float, D: Dimension>(self, a: &Array<F, D>) -> Array<F, D> {
        a.mapv(|x| self.apply(x))
    }

    /// Back through φ: ∂L/∂h_a = ∂L/∂h_s ⊙ φ′(h_a) (same shapes).
    pub fn backward<F: Float, D: Dimension>(self, d_out: &Array<F, D>, a: &Array<F, D>) -> Array<F, D> {
        let mut d = d_out.clone();
        d.zip_mut_with(a, |g, &x| *g = *g * self.derivative(x));
        d
    }

    /// The name used in tables and figures.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::Softplus => "softplus",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn centred(f: fn(f64) -> f64, x: f64) -> f64 {
        let h = 1e-6;
        (f(x + h) - f(x - h)) / (2.0 * h)
    }

    #[test]
    fn derivatives_match_centred_differences_away_from_kinks() {
        type Pair = (fn(f64) -> f64, fn(f64) -> f64);
        let pairs: [Pair; 6] = [
            (sigmoid, sigmoid_prime),
            (tanh, tanh_prime),
            (softplus, softplus_prime),
            (relu, relu_prime),
            (abs, abs_prime),
            (log_sigmoid, |x| 1.0 - sigmoid(x)),
        ];
        for (f, df) in pairs {
            for i in -40..=40 {
                let x = i as f64 * 0.1 + 0.05; // never exactly 0
                let err = (df(x) - centred(f, x)).abs();
                assert!(err < 1e-7, "x = {x}: analytic {} vs numeric {}", df(x), centred(f, x));
            }
        }
    }

    #[test]
    fn stable_at_plus_minus_800() {
        assert_eq!(sigmoid(800.0_f64), 1.0);
        assert_eq!(sigmoid(-800.0_f64), 0.0);
        assert_eq!(softplus(800.0_f64), 800.0);
        assert_eq!(softplus(-800.0_f64), 0.0);
        assert_eq!(log_sigmoid(-800.0_f64), -800.0);
        assert_eq!(log_sigmoid(800.0_f64), 0.0);
        // precision for moderately negative x: sigmoid(-40) = e^-40 / (1 + e^-40)
        let want = (-40.0_f64).exp() / (1.0 + (-40.0_f64).exp());
        assert!((sigmoid(-40.0_f64) / want - 1.0).abs() < 1e-15);
        assert!((softplus(-40.0_f64) / (-40.0_f64).exp() - 1.0).abs() < 1e-15);
        assert!(sigmoid(-800.0_f32).is_finite() && softplus(800.0_f32) == 800.0);
    }

    #[test]
    fn kinks_take_derivative_zero() {
        assert_eq!(relu_prime(0.0_f64), 0.0);
        assert_eq!(abs_prime(0.0_f64), 0.0);
        assert_eq!(sign(0.0_f64), 0.0);
        assert_eq!(sign(-3.0_f64), -1.0);
        assert_eq!(sign(2.0_f64), 1.0);
    }

    #[test]
    fn identities_of_part_a() {
        for i in -50..=50 {
            let x = i as f64 * 0.37;
            assert!((sigmoid(x) - 0.5 * (tanh(0.5 * x) + 1.0)).abs() < 1e-15);
            assert!((sigmoid(x).ln() - (-softplus(-x))).abs() < 1e-13);
        }
    }

    #[test]
    fn array_forward_backward() {
        let a = ndarray::array![-1.0, 0.0, 2.0];
        let s = Activation::Relu.forward(&a);
        assert_eq!(s, ndarray::array![0.0, 0.0, 2.0]);
        let d = Activation::Relu.backward(&ndarray::array![5.0, 5.0, 5.0], &a);
        assert_eq!(d, ndarray::array![0.0, 0.0, 5.0]);
    }
}
