//! Guards against faults that cost more than an error message: a training run that would not fit
//! in memory (refused before anything is allocated), and a run that does not learn (reported,
//! with the likely cause).
//!
//! The memory estimate counts what [`crate::train::train`] allocates: the model, its gradients,
//! the momentum velocity, the copy of the best epoch (early stopping), the minibatch buffers and
//! caches, the evaluation caches (2000 rows at a time), and the data when it is still to be
//! loaded. It is compared with, in order of precedence, [`TrainConfig::memory_limit`], the
//! environment variable `BACKPROP_MEMORY_LIMIT` (bytes, or with a K/M/G/T suffix: `512M`, `8G`),
//! or `MemAvailable` in `/proc/meminfo`. Where none is known the check is skipped.

use crate::error::{Error, Result};
use crate::train::{EpochMetrics, Impl, TrainConfig};
use crate::Real;

/// The environment variable that caps the memory a training run may plan to use.
pub const MEMORY_LIMIT_VAR: &str = "BACKPROP_MEMORY_LIMIT";

/// Rows evaluated at a time by [`crate::train::evaluate`].
const EVAL_ROWS: u128 = 2000;

/// Bytes a training run will allocate, by part.
#[derive(Clone, Debug, PartialEq)]
pub struct MemoryEstimate {
    /// (part, bytes), in a fixed order; parts that are absent (no momentum, …) are left out.
    pub parts: Vec<(&'static str, u128)>,
}

impl MemoryEstimate {
    /// Total bytes.
    pub fn total(&self) -> u128 {
        self.parts.iter().map(|p| p.1).fold(0, u128::saturating_add)
    }

    /// The hyperparameter that drives the largest part: `hidden` for the parameters and their
    /// copies, `batch` for the minibatch caches, `data rows` for the data.
    pub fn driver(&self) -> &'static str {
        match self.parts.iter().max_by_key(|p| p.1).map(|p| p.0) {
            Some("minibatch buffers and caches") => "batch",
            Some("data") => "data rows",
            _ => "hidden",
        }
    }
}

/// The estimate for training `cfg` on `d` features and `classes` classes; `data_rows` examples
/// are counted as data still to be loaded (0 when they are already in memory).
pub fn estimate<F: Real>(d: usize, classes: usize, data_rows: usize, cfg: &TrainConfig<F>) -> MemoryEstimate {
    let s = std::mem::size_of::<F>() as u128;
    let (d, h, m, k) = (d as u128, cfg.hidden as u128, classes as u128, cfg.batch as u128);
    let mul = |a: u128, b: u128| a.saturating_mul(b);
    let add = |a: u128, b: u128| a.saturating_add(b);
    // W1 (h × d), b1, W2 (m × h), b2
    let param_count = add(add(mul(h, d), h), add(mul(m, h), m));
    let params = mul(s, param_count);
    let mut parts = vec![("model", params), ("gradients", params)];
    if cfg.momentum > F::zero() {
        parts.push(("momentum velocity", params));
    }
    if cfg.patience.is_some() {
        parts.push(("best-epoch copy", params));
    }
    // matrix version: the K × d minibatch, h_a, h_s and δ (K × h), o_a, o_s and δ (K × m), the masks
    let batch_matrices = add(mul(k, d), add(mul(3, mul(k, h)), mul(3, mul(k, m))));
    let caches = match cfg.implementation {
        Impl::Matrix => {
            let mut e = batch_matrices;
            if cfg.dropout > F::zero() {
                e = add(e, mul(k, h));
            }
            if cfg.input_dropout > F::zero() {
                e = add(e, mul(k, d));
            }
            e
        }
        // the core's matrix version: the same matrices, plus the new gradient it returns per minibatch
        Impl::CoreMatrix => add(batch_matrices, param_count),
        // the loop version works one example at a time
        Impl::Loop => add(mul(4, h), mul(4, m)),
    };
    parts.push(("minibatch buffers and caches", mul(s, caches)));
    parts.push(("evaluation caches", mul(s, mul(EVAL_ROWS, add(mul(2, h), mul(2, m))))));
    if data_rows > 0 {
        // features plus one usize label per row
        parts.push(("data", mul(data_rows as u128, add(mul(s, d), 8))));
    }
    MemoryEstimate { parts }
}

/// Parses a size: bytes, or a number with a K, M, G or T suffix (powers of 1024; a trailing B or iB is allowed).
pub fn parse_size(text: &str) -> Option<u128> {
    let t = text.trim().to_ascii_uppercase();
    let t = t.strip_suffix("IB").or_else(|| t.strip_suffix('B')).unwrap_or(&t);
    let (num, unit) = match t.chars().last()? {
        'K' => (&t[..t.len() - 1], 1u128 << 10),
        'M' => (&t[..t.len() - 1], 1 << 20),
        'G' => (&t[..t.len() - 1], 1 << 30),
        'T' => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let v: f64 = num.trim().parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some((v * unit as f64) as u128)
}

/// `MemAvailable` of `/proc/meminfo` in bytes, when readable.
pub fn mem_available() -> Option<u128> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u128 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The memory limit in bytes and where it comes from: `configured`, else `$BACKPROP_MEMORY_LIMIT`,
/// else `MemAvailable`; `None` when none is known. A malformed variable is an error.
pub fn memory_limit(configured: Option<u64>) -> Result<Option<(u128, String)>> {
    if let Some(b) = configured {
        return Ok(Some((b as u128, "the configured memory_limit".into())));
    }
    if let Ok(v) = std::env::var(MEMORY_LIMIT_VAR) {
        return match parse_size(&v) {
            Some(b) => Ok(Some((b, format!("{MEMORY_LIMIT_VAR}={v}")))),
            None => Err(Error::Hyperparameter {
                name: MEMORY_LIMIT_VAR.into(),
                value: v,
                reason: "is not a size; give bytes or a number with K, M, G or T (e.g. 8G, 500M)".into(),
            }),
        };
    }
    Ok(mem_available().map(|b| (b, "MemAvailable in /proc/meminfo".into())))
}

/// Bytes as "12.5 GB", "310.2 MB", "20.0 kB" or "512 bytes" (powers of 1000).
pub fn fmt_bytes(b: u128) -> String {
    let f = b as f64;
    if f >= 1e9 {
        format!("{:.1} GB", f / 1e9)
    } else if f >= 1e6 {
        format!("{:.1} MB", f / 1e6)
    } else if f >= 1e3 {
        format!("{:.1} kB", f / 1e3)
    } else {
        format!("{b} bytes")
    }
}

/// `Ok` when the [`estimate`] fits in the [`memory_limit`]; else an [`Error::Hyperparameter`]
/// naming the hyperparameter that drives the largest part, with both numbers and the parts.
pub fn check_memory<F: Real>(d: usize, classes: usize, data_rows: usize, cfg: &TrainConfig<F>) -> Result<()> {
    let Some((limit, source)) = memory_limit(cfg.memory_limit)? else { return Ok(()) };
    let est = estimate(d, classes, data_rows, cfg);
    let need = est.total();
    if need <= limit {
        return Ok(());
    }
    let parts = est.parts.iter().map(|(n, b)| format!("{n} {}", fmt_bytes(*b))).collect::<Vec<_>>().join(", ");
    let driver = est.driver();
    let value = match driver {
        "batch" => cfg.batch.to_string(),
        "data rows" => data_rows.to_string(),
        _ => cfg.hidden.to_string(),
    };
    let flag = match driver {
        "batch" => " (--batch of the train binary)",
        "data rows" => "",
        _ => " (--hidden of the train binary)",
    };
    Err(Error::Hyperparameter {
        name: driver.into(),
        value,
        reason: format!(
            "training would need about {} ({parts}) but only {} are available ({source}); choose a smaller {driver}{flag}, \
             or raise the limit with {MEMORY_LIMIT_VAR} or TrainConfig::memory_limit",
            fmt_bytes(need),
            fmt_bytes(limit)
        ),
    })
}

/// Epochs after which [`not_learning`] first looks.
pub const FEW_EPOCHS: usize = 3;

/// A warning when training is not learning, judged at the last epoch of `history` (from epoch
/// [`FEW_EPOCHS`] on): the training loss is not below its epoch-0 value, or the training error
/// has been no better than chance (always guessing the most common class of `train_y`) at
/// every epoch so far. The warning states the numbers and suggests a learning rate below `lr`.
pub fn not_learning(history: &[EpochMetrics], train_y: &[usize], classes: usize, lr: f64) -> Option<String> {
    let last = history.last()?;
    let first = history.first()?;
    if last.epoch < FEW_EPOCHS || train_y.is_empty() {
        return None;
    }
    let mut counts = vec![0usize; classes.max(1)];
    for &c in train_y {
        if c < counts.len() {
            counts[c] += 1;
        }
    }
    let chance = 1.0 - *counts.iter().max().unwrap() as f64 / train_y.len() as f64;
    let e = last.epoch;
    let lr = crate::display::fmt_num(lr);
    if last.train_loss >= first.train_loss {
        Some(format!(
            "the network is not learning: after {e} epochs the training loss {:.4} is not below its epoch-0 value {:.4} \
             (training error {:.2}%, chance {:.2}%); try a smaller learning rate than {lr}",
            last.train_loss,
            first.train_loss,
            100.0 * last.train_error,
            100.0 * chance
        ))
    } else if history[1..].iter().all(|m| m.train_error >= chance) {
        Some(format!(
            "the network is not learning: after {e} epochs the training error {:.2}% is still no better than chance \
             ({:.2}%, always guessing the most common class); try a smaller learning rate than {lr}",
            100.0 * last.train_error,
            100.0 * chance
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("1000"), Some(1000));
        assert_eq!(parse_size("512M"), Some(512 << 20));
        assert_eq!(parse_size("1.5g"), Some(3 << 29));
        assert_eq!(parse_size("8GiB"), Some(8 << 30));
        assert_eq!(parse_size("2kb"), Some(2048));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("-1G"), None);
        assert_eq!(fmt_bytes(12_544_000_000), "12.5 GB");
        assert_eq!(fmt_bytes(512), "512 bytes");
    }

    #[test]
    fn the_estimate_counts_parameters_and_copies() {
        let mut cfg = TrainConfig::new(100, 0.1f64, 100, 1);
        let p = 8 * (100 * 784 + 100 + 10 * 100 + 10) as u128;
        let e = estimate(784, 10, 0, &cfg);
        assert_eq!(e.parts[0], ("model", p));
        assert_eq!(e.parts[1], ("gradients", p));
        assert_eq!(e.parts[2], ("minibatch buffers and caches", 8 * (100 * 784 + 3 * 100 * 100 + 3 * 100 * 10)));
        assert_eq!(e.parts.len(), 4);
        cfg.momentum = 0.9;
        cfg.patience = Some(2);
        let e = estimate(784, 10, 70_000, &cfg);
        assert_eq!(e.parts.iter().map(|p| p.0).collect::<Vec<_>>(), ["model", "gradients", "momentum velocity", "best-epoch copy", "minibatch buffers and caches", "evaluation caches", "data"]);
        assert_eq!(e.parts[6].1, 70_000 * (8 * 784 + 8));
        assert_eq!(e.driver(), "data rows");
        // the typo: W1 alone is 12.5 GB in f64
        cfg.hidden = 2_000_000;
        let e = estimate(784, 10, 0, &cfg);
        assert_eq!(fmt_bytes(e.parts[0].1), "12.7 GB");
        assert_eq!(e.driver(), "hidden");
        // sizes that overflow 64 bits saturate instead of wrapping
        cfg.hidden = usize::MAX;
        assert!(estimate(784, 10, 0, &cfg).total() >= u64::MAX as u128);
    }

    #[test]
    fn a_tiny_limit_refuses_with_both_numbers_and_the_hyperparameter() {
        let mut cfg = TrainConfig::new(100, 0.1f32, 100, 1);
        cfg.memory_limit = Some(1_000_000);
        let e = check_memory(784, 10, 0, &cfg).unwrap_err().to_string();
        assert!(e.starts_with("invalid hyperparameter hidden = 100: training would need about 2.8 MB (model 318.0 kB, gradients 318.0 kB, "), "{e}");
        assert!(e.contains("but only 1.0 MB are available (the configured memory_limit); choose a smaller hidden (--hidden of the train binary)"), "{e}");
        cfg.batch = 100_000;
        let e = check_memory(784, 10, 0, &cfg).unwrap_err().to_string();
        assert!(e.starts_with("invalid hyperparameter batch = 100000: training would need about"), "{e}");
        cfg.batch = 100;
        cfg.memory_limit = Some(10_000_000);
        check_memory(784, 10, 0, &cfg).unwrap();
    }

    fn m(epoch: usize, train_error: f64, train_loss: f64) -> EpochMetrics {
        EpochMetrics { epoch, train_error, train_loss, train_reg_loss: train_loss, valid_error: train_error, valid_loss: train_loss, test_error: f64::NAN, test_loss: f64::NAN, seconds: 0.0 }
    }

    #[test]
    fn not_learning_is_judged_from_epoch_three() {
        let y = [0, 0, 1, 1];
        let stuck = [m(0, 0.5, 0.69), m(1, 0.5, 14.3), m(2, 0.5, 14.3), m(3, 0.5, 14.3)];
        assert_eq!(not_learning(&stuck[..3], &y, 2, 50.0), None, "too early to tell");
        let w = not_learning(&stuck, &y, 2, 50.0).unwrap();
        assert_eq!(w, "the network is not learning: after 3 epochs the training loss 14.3000 is not below its epoch-0 value 0.6900 (training error 50.00%, chance 50.00%); try a smaller learning rate than 50");
        let chance = [m(0, 0.5, 0.69), m(1, 0.5, 0.68), m(2, 0.5, 0.68), m(3, 0.5, 0.68)];
        assert!(not_learning(&chance, &y, 2, 1.0).unwrap().contains("the training error 50.00% is still no better than chance (50.00%"));
        let learning = [m(0, 0.5, 0.69), m(1, 0.4, 0.6), m(2, 0.3, 0.5), m(3, 0.2, 0.4)];
        assert_eq!(not_learning(&learning, &y, 2, 0.1), None);
    }
}
