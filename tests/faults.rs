//! The `train` binary on bad input (issue 17): a negative learning rate, a run that does not fit
//! in the memory limit, a learning rate so large that the network does not learn.

use std::process::{Command, Output};

fn train(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_train"));
    c.args(args).env_remove("BACKPROP_MEMORY_LIMIT");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("the train binary runs")
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn a_negative_learning_rate_is_refused_with_the_reason() {
    for args in [["--data", "circles", "--lr", "-1"].as_slice(), &["--data", "circles", "--lr=-1"]] {
        let o = train(args, &[]);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("invalid value '-1' for '--lr <LR>': a learning rate of -1 is refused: the step W <- W - lr * gradient then goes up the slope"), "{args:?}: {err}");
    }
    let (_, err) = text(&train(&["--data", "circles", "--lr", "0"], &[]));
    assert!(err.contains("a learning rate of 0 is refused"), "{err}");
    // other negative values reach the hyperparameter checks instead of being read as flags
    let (_, err) = text(&train(&["--data", "circles", "--momentum", "-0.5"], &[]));
    assert!(err.contains("error: invalid hyperparameter momentum = -0.5: must lie in [0, 1)"), "{err}");
}

#[test]
fn a_run_over_the_memory_limit_is_refused_naming_hidden() {
    let o = train(&["--data", "circles", "--hidden", "20000", "--epochs", "1"], &[("BACKPROP_MEMORY_LIMIT", "1M")]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(err.starts_with("error: invalid hyperparameter hidden = 20000: training would need about"), "{err}");
    assert!(err.contains("but only 1.0 MB are available (BACKPROP_MEMORY_LIMIT=1M); choose a smaller hidden (--hidden of the train binary)"), "{err}");
    assert!(out.is_empty(), "nothing trained: {out}");
    let (_, err) = text(&train(&["--data", "circles"], &[("BACKPROP_MEMORY_LIMIT", "lots")]));
    assert!(err.contains("invalid hyperparameter BACKPROP_MEMORY_LIMIT = lots: is not a size"), "{err}");
}

#[test]
fn a_learning_rate_too_large_to_learn_is_reported() {
    let o = train(&["--data", "circles", "--lr", "1000", "--epochs", "5"], &[]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    // progress: the warning follows epoch 3's line
    let at = lines.iter().position(|l| l.starts_with("warning: the network is not learning: after 3 epochs")).unwrap_or_else(|| panic!("{out}"));
    assert!(lines[at - 1].starts_with("epoch   3"), "{out}");
    assert!(lines[at].ends_with("try a smaller learning rate than 1000"), "{out}");
    let summary = lines.iter().find(|l| l.starts_with("summary: warning: the network is not learning")).unwrap_or_else(|| panic!("{out}"));
    assert!(summary.ends_with("try a smaller learning rate than 1000"), "{summary}");
    // a rate that learns gets no warning
    let (out, _) = text(&train(&["--data", "circles", "--lr", "0.5", "--epochs", "5"], &[]));
    assert!(!out.contains("warning"), "{out}");
}
