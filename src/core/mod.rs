//! The teaching core: what a notebook shows and a student reads beside the maths.
//! Plain ndarray code: no raw pointers or intrinsics, no threads of its own.
//!
//! * [`activation`]: sigmoid, tanh, ReLU, softplus, sign, abs and their derivatives
//! * [`loss`]: squared errors, the stable softmax (a vector, or a minibatch row by row), one-hot, cross-entropy
//! * [`network`]: dense layers with forward/backward (CS231n style) and a feed-forward network of them (ps1, ps4, ps5)
//! * [`mlp`]: ps2's ReLU–softmax MLP: per-example fprop/bprop, the loop version and the
//!   matrix version of the minibatch gradient side by side, the elastic-net penalty, dropout
//! * [`gradcheck`]: centred finite differences, relative error, ps2's ratio test
//! * [`optim`]: gradient descent with its loss history
//! * [`rng`], [`error`]: seeded random numbers; the crate's error type
//!
//! The core imports nothing else from the crate: the fast engine, data, training and
//! display build on it.
//!
//! Why two network types: [`network::Network`] is a stack of any number of dense layers with
//! any activation, in f64, for the small hand-computed nets of ps1, ps3, ps4 and ps5;
//! [`mlp::Mlp`] is ps2's fixed ReLU–softmax network with its own names (W1, b1, W2, b2,
//! h_a, h_s, o_a, o_s), minibatches and f32/f64, which is what the trainer needs.

pub mod activation;
pub mod error;
pub mod gradcheck;
pub mod loss;
pub mod mlp;
pub mod network;
pub mod optim;
pub mod rng;

/// The float types the MLP and the trainer work in: `f32` and `f64`.
pub trait Real: ndarray::NdFloat + num_traits::FromPrimitive {}
impl<T: ndarray::NdFloat + num_traits::FromPrimitive> Real for T {}
