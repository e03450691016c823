//! Short tables in place of long outputs: a gradient check per parameter instead of
//! one row per scalar, a training run as its first, best and last epochs. The full
//! data go to a CSV file ([`write_gradcheck_csv`]; the trainer's own `log` for runs); a
//! check small enough to read whole is shown entry by entry ([`gradcheck_entries`]).

use crate::display::{fmt_num, fmt_sci, Table};
use crate::error::{Error, Result};
use crate::gradcheck::GradCheck;
use crate::train::EpochMetrics;
use std::path::Path;

/// One row per parameter of a gradient check: how many entries, the largest |backprop|,
/// the largest |backprop − finite difference|, how far the ratios backprop / finite
/// difference stray from 1 (max |ratio − 1|; entries where both are ~0 left out, and counted),
/// the largest per-entry relative error; then a row "all" over every entry.
pub fn gradcheck_table(check: &GradCheck) -> Table {
    let mut t = Table::new(&["parameter", "entries", "max |backprop|", "max |difference|", "max |ratio − 1|", "both ~0", "max rel. error"]);
    let mut names: Vec<&str> = Vec::new();
    for r in &check.rows {
        if !names.contains(&r.name.as_str()) {
            names.push(&r.name);
        }
    }
    let mut row = |name: &str, rows: Vec<&crate::gradcheck::CheckRow>| {
        let ratios: Vec<f64> = rows.iter().filter_map(|r| r.ratio()).collect();
        let max = |f: &dyn Fn(&crate::gradcheck::CheckRow) -> f64| rows.iter().map(|r| f(r)).fold(0.0, f64::max);
        let stray = if ratios.is_empty() { "-".to_string() } else { fmt_sci(ratios.iter().map(|r| (r - 1.0).abs()).fold(0.0, f64::max)) };
        t.push_row(vec![
            name.to_string(),
            rows.len().to_string(),
            fmt_num(max(&|r| r.backprop.abs())),
            fmt_sci(max(&|r| (r.backprop - r.numeric).abs())),
            stray,
            (rows.len() - ratios.len()).to_string(),
            fmt_sci(max(&|r| r.rel_error())),
        ]);
    };
    for n in &names {
        row(n, check.rows.iter().filter(|r| r.name == *n).collect());
    }
    if names.len() > 1 {
        row("all", check.rows.iter().collect());
    }
    t
}

/// Every entry of a gradient check, one row each: the parameter and the entry's index
/// ("W1[0, 1]"), the backprop value, the finite-difference value and their ratio ("-" where
/// both are ~0), for checks small enough to show whole (the two values side by side).
pub fn gradcheck_entries(check: &GradCheck) -> Table {
    let mut t = Table::new(&["entry", "backprop", "finite difference", "ratio"]);
    for r in &check.rows {
        let ratio = r.ratio().map_or("-".to_string(), |x| format!("{x:.6}"));
        t.push_row(vec![r.label(), fmt_num(r.backprop), fmt_num(r.numeric), ratio]);
    }
    t
}

/// Writes every entry of a gradient check as CSV: parameter, index, backprop,
/// finite difference, ratio (empty when both are ~0), relative error, full precision.
pub fn write_gradcheck_csv(check: &GradCheck, path: impl AsRef<Path>) -> Result<()> {
    let p = path.as_ref();
    let mut s = String::from("parameter,index,backprop,finite_difference,ratio,rel_error\n");
    for r in &check.rows {
        let idx = r.index.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(" ");
        let ratio = r.ratio().map_or(String::new(), |x| format!("{x:e}"));
        s += &format!("{},{idx},{:e},{:e},{ratio},{:e}\n", r.name, r.backprop, r.numeric, r.rel_error());
    }
    std::fs::write(p, s).map_err(|source| Error::Io { path: p.display().to_string(), source })
}

/// The first trained epoch, the kept epoch `best` and the last epoch of a run (each once,
/// in epoch order), with error rates in % and average losses (train, valid and, when the
/// run has them, test: the header names each group once). The epoch column says which
/// row is which: "(first)", "(kept)" (the best valid error) and "(last)". Short headers and
/// numbers (errors to 2 decimals, losses to 4) keep every row on one line of the PDF.
pub fn history_table(history: &[EpochMetrics], best: usize) -> Result<Table> {
    let last = history.last().ok_or_else(|| Error::Empty("the training history is empty".into()))?.epoch;
    if !history.iter().any(|m| m.epoch == best) {
        return Err(Error::Hyperparameter { name: "best".into(), value: best.to_string(), reason: format!("the history has epochs up to {last}") });
    }
    let first = history.iter().find(|m| m.epoch >= 1).map_or(history[0].epoch, |m| m.epoch);
    let mut epochs = vec![first, best, last];
    epochs.sort_unstable();
    epochs.dedup();
    let has_test = history.iter().any(|m| !m.test_error.is_nan());
    // "error %: train | valid | test | loss: train | valid | test": each group named once
    let mut header = vec!["epoch", "error %: train", "valid"];
    if has_test {
        header.push("test");
    }
    header.extend(["loss: train", "valid"]);
    if has_test {
        header.push("test");
    }
    let mut t = Table::new(&header);
    let pct = |v: f64| format!("{:.2}", 100.0 * v);
    let loss = |v: f64| format!("{v:.4}");
    for e in epochs {
        let m = history.iter().find(|m| m.epoch == e).expect("epoch taken from the history");
        let what = [(first, "first"), (best, "kept"), (last, "last")]
            .iter()
            .filter(|(k, _)| *k == e)
            .map(|(_, w)| *w)
            .collect::<Vec<_>>()
            .join(", ");
        let mut r = vec![format!("{e} ({what})"), pct(m.train_error), pct(m.valid_error)];
        if has_test {
            r.push(pct(m.test_error));
        }
        r.extend([loss(m.train_loss), loss(m.valid_loss)]);
        if has_test {
            r.push(loss(m.test_loss));
        }
        t.push_row(r);
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn gradcheck_summary_and_csv() {
        let c = GradCheck::compare(&["W", "b"], &[array![1.0, 2.0, 0.0].into_dyn(), array![0.5].into_dyn()], &[array![1.0, 2.0, 1e-12].into_dyn(), array![0.5].into_dyn()]).unwrap();
        let t = gradcheck_table(&c);
        assert_eq!(t.rows.len(), 3);
        assert_eq!(t.rows[0][..2], ["W".to_string(), "3".to_string()]);
        assert_eq!(t.rows[0][4], "0"); // the ratios 1 and 1 (the third entry is ~0 in both)
        assert_eq!(t.rows[0][5], "1");
        let off = GradCheck::compare(&["W"], &[array![1.0, 2.0].into_dyn()], &[array![1.0, 2.5].into_dyn()]).unwrap();
        assert_eq!(gradcheck_table(&off).rows[0][4], "2.0e-1"); // 2 / 2.5 = 0.8
        assert_eq!(t.rows[2][0], "all");
        let path = std::env::temp_dir().join("backprop_summary_test.csv");
        write_gradcheck_csv(&c, &path).unwrap();
        let s = std::fs::read_to_string(&path).unwrap();
        assert_eq!(s.lines().count(), 5);
        assert!(s.lines().nth(3).unwrap().starts_with("W,2,0e0,1e-12,,"));
        let e = gradcheck_entries(&c);
        assert_eq!(e.rows.len(), 4);
        assert_eq!(e.rows[1], ["W[1]", "2", "2", "1.000000"]);
        assert_eq!(e.rows[2][3], "-"); // both ~0
        assert_eq!(e.rows[3][0], "b[0]");
        assert_eq!(gradcheck_entries(&off).rows[1][3], "0.800000");
    }

    #[test]
    fn history_rows() {
        let m = |epoch: usize, v: f64| EpochMetrics { epoch, train_error: v, train_loss: v, train_reg_loss: v, valid_error: v, valid_loss: v, test_error: f64::NAN, test_loss: f64::NAN, seconds: 0.0 };
        let h = vec![m(0, 0.9), m(1, 0.5), m(2, 0.2), m(3, 0.3)];
        let t = history_table(&h, 2).unwrap();
        assert_eq!(t.rows.iter().map(|r| r[0].clone()).collect::<Vec<_>>(), ["1 (first)", "2 (kept)", "3 (last)"]);
        assert_eq!(t.rows[1][1], "20.00");
        assert_eq!(t.header.len(), 5);
        assert_eq!(history_table(&h, 1).unwrap().rows[0][0], "1 (first, kept)");
        // one row of the PDF: the Markdown rows, header included, fit pandoc's 72 columns (no wrapping)
        let mut full = h.clone();
        for r in full.iter_mut() {
            (r.test_error, r.test_loss) = (0.1234, 0.5678);
        }
        full.push(m(100, 0.123456));
        let md = history_table(&full, 2).unwrap().to_markdown();
        assert!(md.lines().all(|l| l.chars().count() <= 72), "{md}");
        assert!(history_table(&h, 7).is_err());
        assert!(history_table(&[], 0).is_err());
    }
}
