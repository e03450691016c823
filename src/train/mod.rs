//! Minibatch training of the [`Mlp`] (ps2): seeded shuffling, plain gradient
//! descent (optional momentum and learning-rate decay), early stopping on the
//! validation error that restores the best parameters, per-epoch metrics on
//! train/valid/test, a progress line per epoch and a CSV log.
//!
//! The matrix version runs on the fast [`crate::engine`]; the loop version is the core's
//! [`Mlp::loss_grad_loop`], exactly as a notebook shows it.

use crate::data::Dataset;
use crate::core::error::{ensure_param, Error, Result};
use crate::core::mlp::{ElasticNet, Grads, Mlp};
use crate::engine::Engine;
use crate::core::Real;
use ndarray::s;
use rand::seq::SliceRandom;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;
pub mod guard;

/// Which gradient implementation a training run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impl {
    /// Per example, then averaged: the core's [`Mlp::loss_grad_loop`].
    Loop,
    /// Whole minibatch in matrix products: [`Mlp::loss_grad_matrix`], run by [`crate::engine::Engine`].
    Matrix,
    /// The same matrix products as the core writes them: [`Mlp::loss_grad_matrix`] itself and
    /// [`Mlp::sgd_step`], on one thread (ps2 item 8 times it beside the other two).
    CoreMatrix,
}

/// Hyperparameters of a training run (d2l's vocabulary). Build with [`TrainConfig::new`] and
/// adjust fields; [`train`] validates them before the first step.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig<F> {
    /// Hidden units d_h.
    pub hidden: usize,
    /// Learning rate η.
    pub lr: F,
    /// Minibatch size K.
    pub batch: usize,
    /// Maximum number of epochs.
    pub epochs: usize,
    /// Elastic-net penalty.
    pub reg: ElasticNet<F>,
    /// Stop after this many epochs without a better validation error (None: never stop early).
    pub patience: Option<usize>,
    /// Momentum μ in v ← μv − η∇, θ ← θ + v (0: plain gradient descent).
    pub momentum: F,
    /// Learning-rate decay: η_t = η / (1 + decay · t) at epoch t (0: constant).
    pub lr_decay: F,
    /// Inverted dropout on the hidden layer: each hidden output is dropped with this
    /// probability in every training minibatch (0: off; matrix implementation only).
    pub dropout: F,
    /// Input dropout: each pixel of a training example is dropped (set to 0, the others scaled
    /// by 1/(1 − p)) with this probability in every minibatch (0: off; matrix implementation only).
    pub input_dropout: F,
    /// Seed of the initialisation and of the shuffling.
    pub seed: u64,
    /// Gradient implementation.
    pub implementation: Impl,
    /// CSV log file, one row per epoch.
    pub log: Option<PathBuf>,
    /// Print a progress line per epoch.
    pub verbose: bool,
    /// Bytes the run may plan to allocate (None: `$BACKPROP_MEMORY_LIMIT`, else MemAvailable); see [`crate::guard`].
    pub memory_limit: Option<u64>,
}

impl<F: Real> TrainConfig<F> {
    /// Plain minibatch gradient descent with the matrix implementation, no regularisation,
    /// no early stopping, seed 0, progress lines on.
    pub fn new(hidden: usize, lr: F, batch: usize, epochs: usize) -> Self {
        TrainConfig {
            hidden,
            lr,
            batch,
            epochs,
            reg: ElasticNet::none(),
            patience: None,
            momentum: F::zero(),
            lr_decay: F::zero(),
            dropout: F::zero(),
            input_dropout: F::zero(),
            seed: 0,
            implementation: Impl::Matrix,
            log: None,
            verbose: true,
            memory_limit: None,
        }
    }

    /// Checks every hyperparameter, naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        ensure_param(self.hidden > 0, "hidden", self.hidden, "at least one hidden unit is needed")?;
        ensure_param(self.lr.is_finite() && self.lr > F::zero(), "lr", self.lr, "the learning rate must be positive and finite")?;
        ensure_param(self.batch > 0, "batch", self.batch, "the minibatch size K must be at least 1")?;
        ensure_param(self.epochs > 0, "epochs", self.epochs, "at least one epoch")?;
        ensure_param(self.momentum >= F::zero() && self.momentum < F::one(), "momentum", self.momentum, "must lie in [0, 1)")?;
        ensure_param(self.lr_decay >= F::zero() && self.lr_decay.is_finite(), "lr_decay", self.lr_decay, "must be finite and >= 0")?;
        ensure_param(self.dropout >= F::zero() && self.dropout < F::one(), "dropout", self.dropout, "the drop probability must lie in [0, 1)")?;
        ensure_param(self.dropout == F::zero() || self.implementation == Impl::Matrix, "dropout", self.dropout, "dropout is implemented in the matrix version only (use --impl matrix)")?;
        ensure_param(self.input_dropout >= F::zero() && self.input_dropout < F::one(), "input_dropout", self.input_dropout, "the drop probability must lie in [0, 1)")?;
        ensure_param(self.input_dropout == F::zero() || self.implementation == Impl::Matrix, "input_dropout", self.input_dropout, "dropout is implemented in the matrix version only (use --impl matrix)")?;
        if let Some(p) = self.patience {
            ensure_param(p > 0, "patience", p, "must be at least 1 epoch")?;
        }
        ElasticNet::new(self.reg.l11, self.reg.l12, self.reg.l21, self.reg.l22).map(|_| ())
    }
}

/// Metrics after one epoch (epoch 0: the initial network).
#[derive(Clone, Debug, PartialEq)]
pub struct EpochMetrics {
    /// Epoch number, 0 for the untrained network.
    pub epoch: usize,
    /// Error rate on the training set.
    pub train_error: f64,
    /// Average cross-entropy on the training set.
    pub train_loss: f64,
    /// Average cross-entropy plus the elastic-net penalty (the regularised objective).
    pub train_reg_loss: f64,
    /// Error rate on the validation set.
    pub valid_error: f64,
    /// Average cross-entropy on the validation set.
    pub valid_loss: f64,
    /// Error rate on the test set (NaN when no test set was given).
    pub test_error: f64,
    /// Average cross-entropy on the test set (NaN when no test set was given).
    pub test_loss: f64,
    /// Seconds spent in the epoch's training pass (0 for epoch 0).
    pub seconds: f64,
}

impl EpochMetrics {
    /// The CSV header matching [`EpochMetrics::csv_row`].
    pub const CSV_HEADER: &'static str = "epoch,train_error,train_loss,train_reg_loss,valid_error,valid_loss,test_error,test_loss,seconds";

    /// One CSV row.
    pub fn csv_row(&self) -> String {
        format!(
            "{},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6},{:.3}",
            self.epoch, self.train_error, self.train_loss, self.train_reg_loss, self.valid_error, self.valid_loss, self.test_error, self.test_loss, self.seconds
        )
    }

    /// The progress line printed after each epoch.
    pub fn progress_line(&self) -> String {
        format!(
            "epoch {:3}  train err {:6.2}% loss {:.4} | valid err {:6.2}% loss {:.4} | test err {:6.2}% loss {:.4} | {:.2} s",
            self.epoch,
            100.0 * self.train_error,
            self.train_loss,
            100.0 * self.valid_error,
            self.valid_loss,
            100.0 * self.test_error,
            self.test_loss,
            self.seconds
        )
    }
}

/// The outcome of [`train`].
#[derive(Clone, Debug, PartialEq)]
pub struct TrainResult<F> {
    /// The parameters of the best epoch (lowest validation error; the last epoch without early stopping).
    pub model: Mlp<F>,
    /// Metrics of epoch 0, 1, …
    pub history: Vec<EpochMetrics>,
    /// The epoch whose parameters `model` holds.
    pub best_epoch: usize,
    /// True when patience ran out before `epochs`.
    pub stopped_early: bool,
    /// Set when the run did not learn (see [`crate::guard::not_learning`]), with the likely cause.
    pub warning: Option<String>,
}

impl<F> TrainResult<F> {
    /// Mean seconds of the training passes.
    pub fn seconds_per_epoch(&self) -> f64 {
        let e: Vec<f64> = self.history.iter().skip(1).map(|m| m.seconds).collect();
        e.iter().sum::<f64>() / e.len().max(1) as f64
    }

    /// The metrics of the best epoch.
    pub fn best(&self) -> &EpochMetrics {
        &self.history[self.best_epoch]
    }
}

/// The minibatches of one epoch: the indices 0..n shuffled, cut into chunks of `k`
/// (the last chunk keeps the remainder).
pub fn minibatches(n: usize, k: usize, rng: &mut crate::core::rng::Rng) -> Vec<Vec<usize>> {
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(rng);
    idx.chunks(k.max(1)).map(|c| c.to_vec()).collect()
}

/// (error rate, average cross-entropy) of a model on a data set, in chunks of 2000 rows.
pub fn evaluate<F: Real>(model: &Mlp<F>, data: &Dataset<F>) -> Result<(f64, f64)> {
    if data.is_empty() {
        return Err(Error::Empty("cannot evaluate on an empty data set".into()));
    }
    let (mut wrong, mut loss) = (0usize, 0.0f64);
    let mut engine = Engine::new();
    for start in (0..data.len()).step_by(2000) {
        let end = (start + 2000).min(data.len());
        let x = data.x.slice(s![start..end, ..]);
        let y = &data.y[start..end];
        let o_a = engine.scores(model, x)?;
        let log_p = crate::core::loss::log_softmax_rows(o_a.view());
        for (i, &c) in y.iter().enumerate() {
            crate::core::error::ensure_shape(c < log_p.ncols(), || format!("class label {c} is out of range for {} classes", log_p.ncols()))?;
            loss -= log_p[[i, c]].to_f64().unwrap();
            wrong += (crate::core::mlp::argmax(o_a.row(i)) != c) as usize;
        }
    }
    Ok((wrong as f64 / data.len() as f64, loss / data.len() as f64))
}

fn metrics<F: Real>(epoch: usize, model: &Mlp<F>, reg: &ElasticNet<F>, train: &Dataset<F>, valid: &Dataset<F>, test: Option<&Dataset<F>>, seconds: f64) -> Result<EpochMetrics> {
    let (train_error, train_loss) = evaluate(model, train)?;
    let (valid_error, valid_loss) = evaluate(model, valid)?;
    let (test_error, test_loss) = match test {
        Some(t) => evaluate(model, t)?,
        None => (f64::NAN, f64::NAN),
    };
    let train_reg_loss = train_loss + model.penalty(reg).to_f64().unwrap();
    Ok(EpochMetrics { epoch, train_error, train_loss, train_reg_loss, valid_error, valid_loss, test_error, test_loss, seconds })
}

/// The float types [`train`] and [`train_epoch`] are compiled for in this crate: `f32` and `f64`.
///
/// A generic function is compiled anew in every crate that calls it with a concrete type, and
/// every evcxr cell is a new crate: a ps2 cell that called a generic trainer compiled all of it,
/// the engine included, at the notebook's `:opt 2`. The two functions below are generic only on
/// the surface; each calls this trait's method for its type, and those two impls are compiled
/// once, here, so a cell compiles only the call (BENCHMARKS.md, issue 14's levers).
pub trait Precompiled: Real {
    #[doc(hidden)]
    fn train_here(cfg: &TrainConfig<Self>, train: &Dataset<Self>, valid: &Dataset<Self>, test: Option<&Dataset<Self>>) -> Result<TrainResult<Self>>;
    #[doc(hidden)]
    fn train_epoch_here(
        model: &mut Mlp<Self>,
        velocity: &mut Option<Grads<Self>>,
        cfg: &TrainConfig<Self>,
        lr: Self,
        train: &Dataset<Self>,
        rng: &mut crate::core::rng::Rng,
    ) -> Result<f64>;
}

macro_rules! precompiled {
    ($($t:ty),*) => {$(
        impl Precompiled for $t {
            // never inlined into a caller's crate, which would then compile the generic body again
            #[inline(never)]
            fn train_here(cfg: &TrainConfig<$t>, train: &Dataset<$t>, valid: &Dataset<$t>, test: Option<&Dataset<$t>>) -> Result<TrainResult<$t>> {
                train_any(cfg, train, valid, test)
            }
            #[inline(never)]
            fn train_epoch_here(
                model: &mut Mlp<$t>,
                velocity: &mut Option<Grads<$t>>,
                cfg: &TrainConfig<$t>,
                lr: $t,
                train: &Dataset<$t>,
                rng: &mut crate::core::rng::Rng,
            ) -> Result<f64> {
                train_epoch_any(model, velocity, cfg, lr, train, rng)
            }
        }
    )*};
}
precompiled!(f32, f64);

/// One epoch of minibatch gradient descent over `train`. Returns the mean minibatch loss.
pub fn train_epoch<F: Precompiled>(
    model: &mut Mlp<F>,
    velocity: &mut Option<Grads<F>>,
    cfg: &TrainConfig<F>,
    lr: F,
    train: &Dataset<F>,
    rng: &mut crate::core::rng::Rng,
) -> Result<f64> {
    F::train_epoch_here(model, velocity, cfg, lr, train, rng)
}

fn train_epoch_any<F: Real>(
    model: &mut Mlp<F>,
    velocity: &mut Option<Grads<F>>,
    cfg: &TrainConfig<F>,
    lr: F,
    train: &Dataset<F>,
    rng: &mut crate::core::rng::Rng,
) -> Result<f64> {
    let mut total = 0.0;
    let batches = minibatches(train.len(), cfg.batch, rng);
    // checked here too: the benchmark calls this function directly (and the loop version has no dropout)
    cfg.validate()?;
    if cfg.implementation == Impl::Matrix && cfg.dropout == F::zero() && cfg.input_dropout == F::zero() {
        // the fast engine's whole epoch: the same numbers as the loop below, fewer thread meetings
        let momentum = cfg.momentum > F::zero();
        let v = if momentum { Some(velocity.get_or_insert_with(|| Grads::zeros_like(model))) } else { None };
        return crate::engine::sgd_epoch(model, v, &train.x, &train.y, &batches, crate::engine::Update { lr, momentum: cfg.momentum, reg: &cfg.reg });
    }
    // one set of gradient buffers and one minibatch buffer for the whole epoch, and the engine's buffers
    let mut g = Grads::zeros_like(model);
    let mut x_buf = ndarray::Array2::<F>::zeros((cfg.batch.min(train.len()), train.x.ncols()));
    let mut engine = Engine::new();
    for idx in &batches {
        let yb: Vec<usize> = idx.iter().map(|&i| train.y[i]).collect();
        let mut xb = x_buf.slice_mut(s![..idx.len(), ..]);
        crate::engine::gather_rows(&train.x, idx, &mut xb);
        let loss = match cfg.implementation {
            Impl::Loop => {
                let (loss, grads) = model.loss_grad_loop(xb.view(), &yb, &cfg.reg, false)?;
                g = grads;
                loss
            }
            Impl::CoreMatrix => {
                let (loss, grads) = model.loss_grad_matrix(xb.view(), &yb, &cfg.reg, false)?;
                g = grads;
                loss
            }
            Impl::Matrix => {
                if cfg.input_dropout > F::zero() {
                    xb *= &crate::core::mlp::dropout_mask(idx.len(), xb.ncols(), cfg.input_dropout, rng)?;
                }
                let mask = (cfg.dropout > F::zero()).then(|| crate::core::mlp::dropout_mask(idx.len(), cfg.hidden, cfg.dropout, rng)).transpose()?;
                engine.loss_grad(model, xb.view(), &yb, &cfg.reg, mask.as_ref(), &mut g)?
            }
        };
        let l = loss.to_f64().unwrap();
        if !l.is_finite() {
            return Ok(l);
        }
        total += l;
        let momentum = (cfg.momentum > F::zero()).then(|| (velocity.get_or_insert_with(|| Grads::zeros_like(model)), cfg.momentum));
        match (cfg.implementation, momentum) {
            // the readable version: the core's update, one thread
            (Impl::Loop | Impl::CoreMatrix, Some((v, mu))) => momentum_step(model, v, &g, mu, lr)?,
            (Impl::Loop | Impl::CoreMatrix, None) => model.sgd_step(&g, lr)?,
            // the same update on all threads (a serial pass over W1 each minibatch would cost
            // as much as a sixth of the epoch at d_h = 512)
            (Impl::Matrix, momentum) => crate::engine::sgd_step(model, &g, momentum, lr)?,
        }
    }
    Ok(total / batches.len() as f64)
}

/// v ← μ v + ∇ ; θ ← θ − η v (the same as v ← μv − η∇, θ ← θ + v with η folded in).
fn momentum_step<F: Real>(model: &mut Mlp<F>, v: &mut Grads<F>, g: &Grads<F>, mu: F, lr: F) -> Result<()> {
    v.w1.zip_mut_with(&g.w1, |a, &b| *a = mu * *a + b);
    v.b1.zip_mut_with(&g.b1, |a, &b| *a = mu * *a + b);
    v.w2.zip_mut_with(&g.w2, |a, &b| *a = mu * *a + b);
    v.b2.zip_mut_with(&g.b2, |a, &b| *a = mu * *a + b);
    model.sgd_step(v, lr)
}

/// Trains an MLP of `cfg.hidden` units on `train`, evaluating on `valid` (and `test`) after every epoch.
/// A non-finite loss stops training with [`Error::Diverged`] naming the epoch; a run whose memory
/// estimate exceeds the limit is refused before anything is allocated ([`crate::guard::check_memory`]);
/// a run that does not learn gets a warning, printed and kept in [`TrainResult::warning`].
pub fn train<F: Precompiled>(cfg: &TrainConfig<F>, train: &Dataset<F>, valid: &Dataset<F>, test: Option<&Dataset<F>>) -> Result<TrainResult<F>> {
    F::train_here(cfg, train, valid, test)
}

fn train_any<F: Real>(cfg: &TrainConfig<F>, train: &Dataset<F>, valid: &Dataset<F>, test: Option<&Dataset<F>>) -> Result<TrainResult<F>> {
    cfg.validate()?;
    if train.is_empty() || valid.is_empty() {
        return Err(Error::Empty("the training and validation sets need at least one example each".into()));
    }
    let d = train.x.ncols();
    for (name, ds) in [("valid", Some(valid)), ("test", test)] {
        if let Some(ds) = ds {
            if ds.x.ncols() != d {
                return Err(Error::Shape(format!("the {name} set has {} features but the training set has {d}", ds.x.ncols())));
            }
        }
    }
    let classes = train.classes.max(valid.classes).max(test.map_or(0, |t| t.classes));
    crate::guard::check_memory(d, classes, 0, cfg)?;
    let mut model = Mlp::<F>::init(d, cfg.hidden, classes, cfg.seed)?;
    let mut rng = crate::core::rng::seeded(cfg.seed.wrapping_add(1));
    let mut log = match &cfg.log {
        Some(p) => {
            let mut f = std::fs::File::create(p).map_err(|source| Error::Io { path: p.display().to_string(), source })?;
            writeln!(f, "{}", EpochMetrics::CSV_HEADER).map_err(|source| Error::Io { path: p.display().to_string(), source })?;
            Some((p.clone(), f))
        }
        None => None,
    };
    let emit = |m: &EpochMetrics, log: &mut Option<(PathBuf, std::fs::File)>| -> Result<()> {
        if cfg.verbose {
            println!("{}", m.progress_line());
        }
        if let Some((p, f)) = log {
            writeln!(f, "{}", m.csv_row()).map_err(|source| Error::Io { path: p.display().to_string(), source })?;
        }
        Ok(())
    };
    let m0 = metrics(0, &model, &cfg.reg, train, valid, test, 0.0)?;
    emit(&m0, &mut log)?;
    let mut history = vec![m0];
    // (epoch, validation error, parameters) of the best epoch so far; kept only with early stopping
    let mut best = cfg.patience.map(|_| (0usize, history[0].valid_error, model.clone()));
    let mut velocity = None;
    let mut stopped_early = false;
    let mut warning = None;
    for epoch in 1..=cfg.epochs {
        let lr = cfg.lr / (F::one() + cfg.lr_decay * F::from_usize(epoch - 1).unwrap());
        let t0 = Instant::now();
        let mean_loss = train_epoch_any(&mut model, &mut velocity, cfg, lr, train, &mut rng)?;
        let seconds = t0.elapsed().as_secs_f64();
        if !mean_loss.is_finite() || model.w1.iter().chain(model.w2.iter()).any(|v| !v.is_finite()) {
            let lr = crate::show::display::fmt_num(cfg.lr.to_f64().unwrap());
            return Err(Error::Diverged { at: format!("epoch {epoch}"), loss: format!("{mean_loss}"), lr });
        }
        let m = metrics(epoch, &model, &cfg.reg, train, valid, test, seconds)?;
        emit(&m, &mut log)?;
        let valid_error = m.valid_error;
        history.push(m);
        if warning.is_none() {
            warning = crate::guard::not_learning(&history, &train.y, classes, cfg.lr.to_f64().unwrap());
            if let (Some(w), true) = (&warning, cfg.verbose) {
                println!("warning: {w}");
            }
        }
        if let (Some(p), Some(b)) = (cfg.patience, best.as_mut()) {
            if valid_error < b.1 {
                *b = (epoch, valid_error, model.clone());
            } else if epoch - b.0 >= p {
                stopped_early = true;
                break;
            }
        }
    }
    // without early stopping, the model is the last one; with it, the best one
    let (best_epoch, model) = match best {
        Some((epoch, _, best_model)) => (epoch, best_model),
        None => (history.len() - 1, model),
    };
    Ok(TrainResult { model, history, best_epoch, stopped_early, warning })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::two_circles;

    fn circles() -> (Dataset<f64>, Dataset<f64>, Dataset<f64>) {
        let mut p = two_circles(600, 0.08, 0.5, 7).unwrap().split(&[400, 100, 100], 1).unwrap();
        let te = p.pop().unwrap();
        let va = p.pop().unwrap();
        (p.pop().unwrap(), va, te)
    }

    #[test]
    fn every_example_once_per_epoch() {
        let mut r = crate::core::rng::seeded(3);
        let b = minibatches(103, 10, &mut r);
        assert_eq!(b.len(), 11);
        assert_eq!(b.last().unwrap().len(), 3);
        let mut all: Vec<usize> = b.concat();
        assert_ne!(all, (0..103).collect::<Vec<_>>(), "shuffled");
        all.sort();
        assert_eq!(all, (0..103).collect::<Vec<_>>());
        assert_ne!(minibatches(103, 10, &mut r), b, "a new order each epoch");
    }

    #[test]
    fn learns_two_circles_and_logs() {
        let (tr, va, te) = circles();
        let log = std::env::temp_dir().join(format!("backprop-train-{}.csv", std::process::id()));
        let mut cfg = TrainConfig::new(20, 0.5, 10, 60);
        cfg.log = Some(log.clone());
        cfg.verbose = false;
        cfg.momentum = 0.5;
        let r = train(&cfg, &tr, &va, Some(&te)).unwrap();
        assert_eq!(r.history.len(), 61);
        assert!(r.history[0].valid_error > 0.3, "untrained is near chance");
        assert!(r.best().test_error < 0.05, "test error {}", r.best().test_error);
        let text = std::fs::read_to_string(&log).unwrap();
        assert_eq!(text.lines().count(), 62);
        assert!(text.starts_with(EpochMetrics::CSV_HEADER));
        assert_eq!(text.lines().nth(61).unwrap(), r.history[60].csv_row());
    }

    #[test]
    fn early_stopping_restores_the_best_parameters() {
        let (tr, va, te) = circles();
        let mut cfg = TrainConfig::new(3, 0.3, 50, 200);
        cfg.patience = Some(3);
        cfg.verbose = false;
        let r = train(&cfg, &tr, &va, Some(&te)).unwrap();
        let best_valid = r.history.iter().map(|m| m.valid_error).fold(f64::INFINITY, f64::min);
        assert_eq!(r.history[r.best_epoch].valid_error, best_valid);
        assert!(r.history.iter().take(r.best_epoch).all(|m| m.valid_error > best_valid), "first epoch reaching the best");
        // the returned model is the best epoch's: its validation error is the best one
        assert_eq!(evaluate(&r.model, &va).unwrap().0, best_valid);
        if r.stopped_early {
            assert_eq!(r.history.len() - 1, r.best_epoch + 3);
        }
    }

    #[test]
    fn divergence_is_an_error_naming_the_epoch() {
        let (tr, va, _) = circles();
        let mut cfg = TrainConfig::new(20, 1e200, 10, 5); // overflows to inf within the first epoch
        cfg.verbose = false;
        let e = train(&cfg, &tr, &va, None).unwrap_err().to_string();
        assert!(e.starts_with("training diverged at epoch 1: the loss became"), "{e}");
        assert!(e.ends_with("try a smaller learning rate than 1.0000e200"), "{e}");
    }

    #[test]
    fn a_huge_learning_rate_that_does_not_diverge_is_reported() {
        let (tr, va, _) = circles();
        let mut cfg = TrainConfig::new(20, 1e3, 10, 5);
        cfg.verbose = false;
        let r = train(&cfg, &tr, &va, None).unwrap();
        let w = r.warning.expect("a warning");
        assert!(w.starts_with("the network is not learning: after 3 epochs the training"), "{w}");
        assert!(w.ends_with("try a smaller learning rate than 1000"), "{w}");
        cfg.lr = 0.5;
        assert_eq!(train(&cfg, &tr, &va, None).unwrap().warning, None);
    }

    #[test]
    fn a_run_over_the_memory_limit_is_refused_before_allocating() {
        let (tr, va, _) = circles();
        let mut cfg = TrainConfig::new(20, 0.1, 10, 5);
        cfg.memory_limit = Some(1000);
        let e = train(&cfg, &tr, &va, None).unwrap_err().to_string();
        assert!(e.starts_with("invalid hyperparameter hidden = 20: training would need about"), "{e}");
        assert!(e.contains("but only 1.0 kB are available (the configured memory_limit)"), "{e}");
        // the typo on Fashion-MNIST's shapes: refused, not allocated (W1 alone would be 12.5 GB)
        let x = ndarray::Array2::<f64>::zeros((2, 784));
        let ds = Dataset::new(x, vec![0, 1], 10).unwrap();
        cfg.hidden = 2_000_000;
        cfg.memory_limit = Some(1 << 30);
        let e = train(&cfg, &ds, &ds, None).unwrap_err().to_string();
        assert!(e.starts_with("invalid hyperparameter hidden = 2000000: training would need about 89.9 GB (model 12.7 GB, gradients 12.7 GB"), "{e}");
    }

    #[test]
    fn bad_hyperparameters() {
        let (tr, va, _) = circles();
        let mut cfg = TrainConfig::new(0, 0.1, 10, 5);
        assert_eq!(train(&cfg, &tr, &va, None).unwrap_err().to_string(), "invalid hyperparameter hidden = 0: at least one hidden unit is needed");
        cfg.hidden = 5;
        cfg.batch = 0;
        assert_eq!(train(&cfg, &tr, &va, None).unwrap_err().to_string(), "invalid hyperparameter batch = 0: the minibatch size K must be at least 1");
        cfg.batch = 10;
        cfg.momentum = 1.0;
        assert_eq!(train(&cfg, &tr, &va, None).unwrap_err().to_string(), "invalid hyperparameter momentum = 1: must lie in [0, 1)");
        cfg.momentum = 0.0;
        cfg.reg.l22 = -1.0;
        assert_eq!(train(&cfg, &tr, &va, None).unwrap_err().to_string(), "invalid hyperparameter lambda22 = -1: must be finite and >= 0");
    }

    #[test]
    fn loop_and_matrix_train_identically_f32_too() {
        let (tr, va, _) = circles();
        let mut cfg = TrainConfig::new(8, 0.2, 10, 3);
        cfg.verbose = false;
        let a = train(&cfg, &tr, &va, None).unwrap();
        cfg.implementation = Impl::Loop;
        let b = train(&cfg, &tr, &va, None).unwrap();
        let w1_gap = |p: &Mlp<f64>, q: &Mlp<f64>| p.w1.iter().zip(q.w1.iter()).fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
        let diff = w1_gap(&a.model, &b.model);
        assert!(diff < 1e-10, "{diff}");
        cfg.implementation = Impl::CoreMatrix;
        cfg.momentum = 0.5; // the core's momentum step, shared with the loop version
        let c = train(&cfg, &tr, &va, None).unwrap();
        cfg.implementation = Impl::Matrix;
        let d = train(&cfg, &tr, &va, None).unwrap();
        let diff = w1_gap(&c.model, &d.model);
        assert!(diff < 1e-10 && c.history[3].train_loss != a.history[3].train_loss, "{diff}");
        let cfg32 = TrainConfig::new(8, 0.2f32, 10, 3);
        let r32 = train(&TrainConfig { verbose: false, ..cfg32 }, &tr.cast::<f32>(), &va.cast::<f32>(), None).unwrap();
        assert!((r32.history[3].valid_error - a.history[3].valid_error).abs() <= 0.02);
    }
}
