//! Plain gradient descent θ ← θ − η ∇L(θ), with the loss and the iterate recorded at every step.
//!
//! The one descent loop of the crate: ps3's quadratic (`problems::quadratic::gd_quadratic`), ps4's
//! five-parameter net and ps5's logistic regression all run through [`gradient_descent`]. The
//! MLP's trainer applies the same update to its four arrays W1, b1, W2, b2 with
//! `Mlp::sgd_step` (one step per minibatch, inside `train::train_epoch`), because its gradient is
//! those four arrays, not one flat vector.

use crate::core::error::{ensure_param, Error, Result};
use ndarray::{Array1, ArrayView1};

/// A gradient-descent trajectory.
#[derive(Clone, Debug, PartialEq)]
pub struct GdRun {
    /// Parameters after the last step taken.
    pub params: Array1<f64>,
    /// L(θ₀), L(θ₁), …: the loss before each step and after the last one.
    pub losses: Vec<f64>,
    /// θ₀, θ₁, …: the iterate at which each loss was evaluated (same length as `losses`).
    pub path: Vec<Array1<f64>>,
    /// The first step whose loss was not finite, if the run diverged (the run stops there).
    pub diverged_at: Option<usize>,
}

impl GdRun {
    /// The last recorded loss.
    pub fn final_loss(&self) -> f64 {
        *self.losses.last().expect("a run records at least L(θ₀)")
    }

    /// `Err(Error::Diverged)` when the run diverged, naming the step and the learning rate.
    pub fn check_finite(&self, eta: f64) -> Result<()> {
        match self.diverged_at {
            None => Ok(()),
            Some(step) => Err(Error::Diverged { at: format!("step {step}"), loss: format!("{}", self.final_loss()), lr: format!("{eta}") }),
        }
    }
}

/// Runs `steps` steps of θ ← θ − η ∇L(θ) from `theta0`. `loss_grad(θ)` returns (L(θ), ∇L(θ)).
/// Stops early, with [`GdRun::diverged_at`] set, when the loss stops being finite.
pub fn gradient_descent(
    theta0: ArrayView1<f64>,
    eta: f64,
    steps: usize,
    mut loss_grad: impl FnMut(&Array1<f64>) -> Result<(f64, Array1<f64>)>,
) -> Result<GdRun> {
    ensure_param(eta > 0.0 && eta.is_finite(), "eta", eta, "the learning rate must be positive and finite")?;
    let mut theta = theta0.to_owned();
    let mut losses = Vec::with_capacity(steps + 1);
    let mut path = Vec::with_capacity(steps + 1);
    for step in 0..=steps {
        let (loss, grad) = loss_grad(&theta)?;
        losses.push(loss);
        path.push(theta.clone());
        if !loss.is_finite() || grad.iter().any(|g| !g.is_finite()) {
            return Ok(GdRun { params: theta, losses, path, diverged_at: Some(step) });
        }
        if step == steps {
            break;
        }
        if grad.len() != theta.len() {
            return Err(Error::Shape(format!("the gradient has {} entries but θ has {}", grad.len(), theta.len())));
        }
        theta.scaled_add(-eta, &grad);
    }
    Ok(GdRun { params: theta, losses, path, diverged_at: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn quadratic_contracts_by_one_minus_two_a_eta() {
        // L = a x², ∇L = 2 a x; x_{n+1} = (1 − 2aη) x_n
        let a = 5.0;
        let run = gradient_descent(array![1.0].view(), 0.05, 10, |x| Ok((a * x[0] * x[0], array![2.0 * a * x[0]]))).unwrap();
        assert_eq!(run.losses.len(), 11);
        assert_eq!(run.path.len(), 11);
        assert_eq!(run.path[1][0], 0.5); // 1 − 2·5·0.05 = 0.5
        assert_eq!(run.path[10], run.params);
        assert!((run.params[0] - 0.5_f64.powi(10)).abs() < 1e-15);
        assert!(run.diverged_at.is_none());
        let run = gradient_descent(array![1.0].view(), 1.0, 2000, |x| Ok((a * x[0] * x[0], array![2.0 * a * x[0]]))).unwrap();
        assert!(run.diverged_at.is_some());
        let e = run.check_finite(1.0).unwrap_err().to_string();
        assert!(e.starts_with("training diverged at step "), "{e}");
        assert!(e.ends_with("try a smaller learning rate than 1"), "{e}");
    }

    #[test]
    fn bad_learning_rate() {
        let e = gradient_descent(array![1.0].view(), -0.1, 1, |x| Ok((0.0, x.clone()))).unwrap_err().to_string();
        assert_eq!(e, "invalid hyperparameter eta = -0.1: the learning rate must be positive and finite");
    }
}
