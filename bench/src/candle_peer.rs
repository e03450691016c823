//! The candle peer: ps2's MLP as a Rust user would write it with candle (CPU): the same
//! initialisation ranges, the same minibatches (`backprop::train::minibatches` with the same
//! seed), candle's autograd for the gradient and candle-nn's plain SGD. Run in its own
//! process: candle sizes its matrix-product threads from `RAYON_NUM_THREADS`.

use backprop::data::Dataset;
use backprop::Real;
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{Optimizer, SGD};
use std::time::Instant;

type R<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn tensor<F: Real + candle_core::WithDType>(x: &backprop::ndarray::Array2<F>, dev: &Device) -> R<Tensor> {
    let x = x.as_standard_layout();
    Ok(Tensor::from_slice(x.as_slice().expect("standard layout"), x.dim(), dev)?)
}

/// Median seconds of `epochs` training passes (gather, forward, backward, SGD step over all
/// minibatches of K = 100) of a d_h = `hidden` MLP on `tr`.
pub fn epoch_seconds<F: Real + candle_core::WithDType>(tr: &Dataset<F>, hidden: usize, epochs: usize) -> R<f64> {
    let dev = Device::Cpu;
    let net = backprop::mlp::Mlp::<F>::init(tr.x.ncols(), hidden, 10, 1)?;
    let w1 = Var::from_tensor(&tensor(&net.w1, &dev)?)?;
    let w2 = Var::from_tensor(&tensor(&net.w2, &dev)?)?;
    let b1 = Var::from_tensor(&Tensor::zeros(hidden, F::DTYPE, &dev)?)?;
    let b2 = Var::from_tensor(&Tensor::zeros(10, F::DTYPE, &dev)?)?;
    let mut sgd = SGD::new(vec![w1.clone(), b1.clone(), w2.clone(), b2.clone()], 0.1)?;
    let x = tensor(&tr.x, &dev)?;
    let y = Tensor::from_vec(tr.y.iter().map(|&c| c as u32).collect::<Vec<_>>(), tr.len(), &dev)?;
    let mut rng = backprop::rng::seeded(2);
    let mut times = Vec::new();
    let mut last = 0.0;
    for _ in 0..epochs {
        let t0 = Instant::now();
        for idx in backprop::train::minibatches(tr.len(), 100, &mut rng) {
            let idx = Tensor::from_vec(idx.iter().map(|&i| i as u32).collect::<Vec<_>>(), idx.len(), &dev)?;
            let (xb, yb) = (x.index_select(&idx, 0)?, y.index_select(&idx, 0)?);
            let h_s = xb.matmul(&w1.as_tensor().t()?)?.broadcast_add(b1.as_tensor())?.relu()?;
            let o_a = h_s.matmul(&w2.as_tensor().t()?)?.broadcast_add(b2.as_tensor())?;
            let loss = candle_nn::loss::cross_entropy(&o_a, &yb)?;
            sgd.backward_step(&loss)?;
            last = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        }
        times.push(t0.elapsed().as_secs_f64());
    }
    if !last.is_finite() {
        return Err(format!("candle's training diverged (loss {last})").into());
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// (forward, backward) GFLOP/s of candle's matmul at the MLP's shapes (see `gemm_probe`).
pub fn mlp_shapes<F: Real + candle_core::WithDType>(hidden: usize) -> R<(f64, f64)> {
    let dev = Device::Cpu;
    let (k, d) = (100usize, 784usize);
    let x = Tensor::rand(0f32, 1f32, (k, d), &dev)?.to_dtype(F::DTYPE)?;
    let w1 = Tensor::rand(0f32, 1f32, (hidden, d), &dev)?.to_dtype(F::DTYPE)?;
    let g = Tensor::rand(0f32, 1f32, (k, hidden), &dev)?.to_dtype(F::DTYPE)?;
    let flops = 2.0 * (k * d * hidden) as f64;
    let time = |a: &Tensor, b: &Tensor| -> R<f64> {
        let reps = (4e9 / flops).ceil() as usize;
        let mut best = f64::INFINITY;
        for _ in 0..6 {
            let t0 = Instant::now();
            for _ in 0..reps {
                std::hint::black_box(a.matmul(b)?);
            }
            best = best.min(t0.elapsed().as_secs_f64() / reps as f64);
        }
        Ok(flops / best / 1e9)
    };
    Ok((time(&x, &w1.t()?)?, time(&g.t()?, &x)?))
}
