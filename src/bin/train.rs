//! Train ps2's MLP from the command line: `cargo run --release --bin train -- --help`.

use backprop::data::{self, Dataset};
use backprop::mlp::ElasticNet;
use backprop::train::{self, Impl, TrainConfig};
use backprop::{Error, Real, Result};
use clap::{Parser, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum DataName {
    /// Fashion-MNIST (784 pixels, 10 classes).
    FashionMnist,
    /// ps2's two concentric circles (2 features, 2 classes).
    Circles,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ImplName {
    /// Per example, then averaged.
    Loop,
    /// The whole minibatch in matrix products (the fast engine, all cores).
    Matrix,
    /// The same products as the teaching core writes them (one thread; for comparison).
    CoreMatrix,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Dtype {
    F32,
    F64,
}

/// Train the one-hidden-layer MLP of ps2 (ReLU, softmax, cross-entropy, elastic net) with minibatch
/// gradient descent. Prints one progress line per epoch and a summary line.
#[derive(Parser, Debug)]
#[command(name = "train", version, allow_negative_numbers = true)]
pub(crate) struct Args {
    /// Data set.
    #[arg(long, value_enum, default_value = "fashion-mnist")]
    data: DataName,
    /// Hidden units d_h.
    #[arg(long, default_value_t = 100)]
    hidden: usize,
    /// Learning rate (positive).
    #[arg(long, default_value_t = 0.1, value_parser = positive_lr)]
    lr: f64,
    /// Minibatch size K.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Maximum number of epochs.
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// Gradient implementation.
    #[arg(long = "impl", value_enum, default_value = "matrix")]
    implementation: ImplName,
    /// Float type of the parameters and data.
    #[arg(long, value_enum, default_value = "f64")]
    dtype: Dtype,
    /// L1 penalty on W1 (lambda11).
    #[arg(long, default_value_t = 0.0)]
    l11: f64,
    /// Squared-L2 penalty on W1 (lambda12).
    #[arg(long, default_value_t = 0.0)]
    l12: f64,
    /// L1 penalty on W2 (lambda21).
    #[arg(long, default_value_t = 0.0)]
    l21: f64,
    /// Squared-L2 penalty on W2 (lambda22).
    #[arg(long, default_value_t = 0.0)]
    l22: f64,
    /// Early stopping: stop after this many epochs without a better validation error and keep the best epoch.
    #[arg(long)]
    patience: Option<usize>,
    /// Momentum in [0, 1) (0: plain gradient descent, as ps2 asks).
    #[arg(long, default_value_t = 0.0)]
    momentum: f64,
    /// Learning-rate decay: lr / (1 + decay * epoch).
    #[arg(long, default_value_t = 0.0)]
    lr_decay: f64,
    /// Dropout: probability in [0, 1) of dropping each hidden output in a training minibatch (matrix version).
    #[arg(long, default_value_t = 0.0)]
    dropout: f64,
    /// Input dropout: probability in [0, 1) of dropping each input pixel in a training minibatch (matrix version).
    #[arg(long, default_value_t = 0.0)]
    input_dropout: f64,
    /// Seed of the initialisation, the shuffling and the train/valid split.
    #[arg(long, default_value_t = 1234)]
    seed: u64,
    /// Folder holding the four Fashion-MNIST IDX files (default: $FASHION_MNIST_DIR, data/fashion-mnist/, /usr/share/datasets/fashion-mnist/).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Number of the 60 000 training images held out for validation.
    #[arg(long, default_value_t = 10_000)]
    n_valid: usize,
    /// Number of two-circles points (split 60/20/20 into train/valid/test).
    #[arg(long, default_value_t = 1000)]
    circles_n: usize,
    /// Standard deviation of the two-circles noise.
    #[arg(long, default_value_t = 0.08)]
    circles_noise: f64,
    /// Inner radius / outer radius of the two circles.
    #[arg(long, default_value_t = 0.5)]
    circles_factor: f64,
    /// Write one CSV row of metrics per epoch to this file.
    #[arg(long)]
    log: Option<PathBuf>,
    /// Threads for the matrix version (hidden units split over them; default: every core, or $BACKPROP_THREADS).
    #[arg(long)]
    threads: Option<usize>,
}

/// The learning rate: a positive finite number, with the reason when it is not.
fn positive_lr(text: &str) -> std::result::Result<f64, String> {
    let v: f64 = text.parse().map_err(|_| format!("'{text}' is not a number; give a positive learning rate such as 0.1"))?;
    if v.is_nan() || v.is_infinite() {
        Err(format!("{text} is not a finite number; give a positive learning rate such as 0.1"))
    } else if v <= 0.0 {
        Err(format!("a learning rate of {text} is refused: the step W <- W - lr * gradient then goes up the slope, so the loss grows instead of falling (and 0 never moves); give a positive rate such as 0.1"))
    } else {
        Ok(v)
    }
}

/// (features, classes, rows) of the chosen data set, known before it is loaded.
pub(crate) fn data_shape(a: &Args) -> (usize, usize, usize) {
    match a.data {
        DataName::FashionMnist => (784, 10, 70_000),
        DataName::Circles => (2, 2, a.circles_n),
    }
}

pub(crate) fn datasets<F: Real>(a: &Args) -> Result<(Dataset<F>, Dataset<F>, Dataset<F>)> {
    match a.data {
        DataName::FashionMnist => {
            let f = data::fashion_mnist::<F>(a.data_dir.as_deref(), a.n_valid, a.seed)?;
            eprintln!("data: Fashion-MNIST from {} ({} train, {} valid, {} test)", f.dir.display(), f.train.len(), f.valid.len(), f.test.len());
            Ok((f.train, f.valid, f.test))
        }
        DataName::Circles => {
            let n = a.circles_n;
            let d = data::two_circles(n, a.circles_noise, a.circles_factor, a.seed)?.cast::<F>();
            let (ntr, nva) = (n * 6 / 10, n * 2 / 10);
            let mut p = d.split(&[ntr, nva, n - ntr - nva], a.seed)?;
            let te = p.pop().unwrap();
            let va = p.pop().unwrap();
            Ok((p.pop().unwrap(), va, te))
        }
    }
}

/// The training configuration the arguments ask for, validated, and checked against the memory
/// limit (data included) before anything is loaded.
pub(crate) fn config<F: Real>(a: &Args) -> Result<TrainConfig<F>> {
    let f = |v: f64| F::from_f64(v).unwrap();
    let mut cfg = TrainConfig::new(a.hidden, f(a.lr), a.batch, a.epochs);
    cfg.reg = ElasticNet::new(f(a.l11), f(a.l12), f(a.l21), f(a.l22))?;
    cfg.patience = a.patience;
    cfg.momentum = f(a.momentum);
    cfg.lr_decay = f(a.lr_decay);
    cfg.dropout = f(a.dropout);
    cfg.input_dropout = f(a.input_dropout);
    cfg.seed = a.seed;
    cfg.implementation = match a.implementation {
        ImplName::Loop => Impl::Loop,
        ImplName::Matrix => Impl::Matrix,
        ImplName::CoreMatrix => Impl::CoreMatrix,
    };
    cfg.log = a.log.clone();
    cfg.validate()?;
    let (d, classes, rows) = data_shape(a);
    backprop::guard::check_memory(d, classes, rows, &cfg)?;
    Ok(cfg)
}

fn run<F: train::Precompiled>(a: &Args) -> Result<()> {
    let cfg = config::<F>(a)?;
    let (tr, va, te) = datasets::<F>(a)?;
    let t0 = std::time::Instant::now();
    let r = train::train(&cfg, &tr, &va, Some(&te))?;
    let best = r.best();
    println!(
        "summary: best epoch {} of {}: test error {:.2}% (valid {:.2}%, train {:.2}%), {:.3} s per epoch (training pass), {:.1} s in all{}",
        r.best_epoch,
        r.history.len() - 1,
        100.0 * best.test_error,
        100.0 * best.valid_error,
        100.0 * best.train_error,
        r.seconds_per_epoch(),
        t0.elapsed().as_secs_f64(),
        if r.stopped_early { " (stopped early)" } else { "" }
    );
    if let Some(w) = &r.warning {
        println!("summary: warning: {w}");
    }
    Ok(())
}

fn main() -> ExitCode {
    let a = Args::parse();
    if let Some(t) = a.threads {
        if let Err(e) = backprop::engine::set_threads(t) {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    let res = match a.dtype {
        Dtype::F32 => run::<f32>(&a),
        Dtype::F64 => run::<f64>(&a),
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            if matches!(e, Error::Data { .. }) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
