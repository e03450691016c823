//! Times training epochs of one configuration, for profiling (`perf record`) without the
//! numpy peer: `BACKPROP_THREADS=2 [F32=1] [EPOCHS=6] [N=20000] cargo run --release --example matrix_probe -- 512 [loop]`
//! (hidden units, then `loop` for the loop version on the first N images; EPOCHS timed epochs,
//! the minimum and the median printed).
use backprop::data::Dataset;
use backprop::prelude::*;
use backprop::train::{self, Impl, TrainConfig};

fn main() {
    let hidden: usize = std::env::args().nth(1).map(|s| s.parse().unwrap()).unwrap_or(512);
    let imp = if std::env::args().nth(2).as_deref() == Some("loop") { Impl::Loop } else { Impl::Matrix };
    let ds = backprop::data::fashion_mnist::<f64>(None, 10_000, 1234).unwrap();
    let n_loop = std::env::var("N").ok().and_then(|v| v.parse().ok()).unwrap_or(20000);
    let tr = if imp == Impl::Loop { ds.train.head(n_loop) } else { ds.train };
    if std::env::var_os("F32").is_some() {
        run(tr.cast::<f32>(), hidden, imp, "f32")
    } else {
        run(tr, hidden, imp, "f64")
    }
}

fn run<F: train::Precompiled>(tr: Dataset<F>, hidden: usize, imp: Impl, dtype: &str) {
    let mut cfg = TrainConfig::new(hidden, F::from_f64(0.1).unwrap(), 100, 1);
    cfg.implementation = imp;
    cfg.verbose = false;
    let mut model = Mlp::<F>::init(784, hidden, 10, 1).unwrap();
    let mut rng = backprop::rng::seeded(2);
    let mut times = vec![];
    let mut l = 0.0;
    let epochs: usize = std::env::var("EPOCHS").ok().and_then(|v| v.parse().ok()).unwrap_or(6);
    for _ in 0..epochs {
        let t = std::time::Instant::now();
        l = train::train_epoch(&mut model, &mut None, &cfg, cfg.lr, &tr, &mut rng).unwrap();
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!("{dtype} threads {} h {hidden}: min {:.3} median {:.3} s (last loss {l:.5})", backprop::engine::threads(), times[0], times[times.len() / 2]);
}
