//! The maths of single problem sets, built on the core: [`jacobian`] (ps5's Jacobian
//! tensors by backprop), [`logistic`] (ps5's regularised logistic regression: loss,
//! gradient, Hessian, Newton step) and [`quadratic`] (ps1's eigendecomposition route to
//! the regularised optimum, gradient descent on quadratics).

pub mod jacobian;
pub mod logistic;
pub mod quadratic;
