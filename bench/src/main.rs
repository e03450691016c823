//! The benchmark of issue 13: the fast engine's training epoch beside two peers run in the
//! same session on the same machine — numpy (`bench/numpy_mlp.py`, this repository) and candle
//! (`src/candle_peer.rs`) — with the machine's measured FMA peak, each library's GEMM at the
//! MLP's shapes, and the command line end to end. Rewrites the generated part of BENCHMARKS.md.
//!
//!     make bench                      # installs .venv-bench, builds, runs, rewrites BENCHMARKS.md
//!     cargo run --release --manifest-path bench/Cargo.toml -- --help
//!
//! Every peer runs in every bench run; one that cannot run stops the bench with the fix.

mod candle_peer;
mod gemm_probe;
mod peak;

use backprop::data::{self, Dataset};
use backprop::mlp::ElasticNet;
use backprop::train::{self, Impl, TrainConfig};
use clap::Parser;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

type R<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[derive(Parser, Debug)]
#[command(name = "backprop-bench")]
struct Args {
    /// Timed epochs per configuration and peer (the median is reported).
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    /// Minibatches timed for the loop versions (scaled to the 500 of an epoch, both peers alike).
    #[arg(long, default_value_t = 50)]
    loop_batches: usize,
    /// Python with the pinned bench/requirements.txt (default: .venv-bench/bin/python).
    #[arg(long)]
    python: Option<PathBuf>,
    /// The trainer binary for the end-to-end row (default: target/release/train).
    #[arg(long)]
    train_bin: Option<PathBuf>,
    /// Output file (default: BENCHMARKS.md); only the part between the bench markers is replaced.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the tables, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Internal: run one candle measurement in this process (`epoch` or `gemm`).
    #[arg(long, hide = true)]
    child: Option<String>,
    #[arg(long, hide = true, default_value = "f64")]
    dtype: String,
    #[arg(long, hide = true, default_value_t = 100)]
    hidden: usize,
}

const THREADS: [usize; 2] = [1, 2];
const CELLS: [(&str, usize); 4] = [("f64", 100), ("f32", 100), ("f64", 512), ("f32", 512)];

/// GFLOP of one epoch: 2·n·(2·d·d_h + 3·d_h·m), n = 50 000, d = 784, m = 10.
fn epoch_gflop(h: usize) -> f64 {
    2.0 * 50_000.0 * (2.0 * 784.0 * h as f64 + 3.0 * h as f64 * 10.0) / 1e9
}

/// GFLOP of the two large products (forward X W1ᵀ, backward G_haᵀ X) in one epoch: the first term
/// of [`epoch_gflop`], 2·n·2·d·d_h (n/K minibatches of 2 × 2·K·d·d_h).
fn products_gflop(h: usize) -> f64 {
    2.0 * 50_000.0 * 2.0 * 784.0 * h as f64 / 1e9
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median seconds of a Rust training pass (the trainer's `train_epoch`: shuffle, gather, engine, SGD).
fn rust_epoch<F: train::Precompiled>(tr: &Dataset<F>, imp: Impl, hidden: usize, epochs: usize, max_batches: Option<usize>) -> R<f64> {
    let mut cfg = TrainConfig::new(hidden, F::from_f64(0.1).unwrap(), 100, 1);
    cfg.implementation = imp;
    cfg.verbose = false;
    cfg.reg = ElasticNet::none();
    // the training set itself, not a clone: a clone's rows would lose their 2 MiB pages (`data::large_vec`)
    let head;
    let sub = match max_batches {
        Some(b) => {
            head = tr.head(b * 100);
            &head
        }
        None => tr,
    };
    let scale = tr.len().div_ceil(100) as f64 / sub.len().div_ceil(100) as f64;
    let mut model = backprop::mlp::Mlp::<F>::init(tr.x.ncols(), hidden, 10, 1)?;
    let mut rng = backprop::rng::seeded(2);
    let mut times = Vec::new();
    for _ in 0..epochs {
        let t0 = Instant::now();
        let loss = train::train_epoch(&mut model, &mut None, &cfg, cfg.lr, sub, &mut rng)?;
        times.push(t0.elapsed().as_secs_f64() * scale);
        if !loss.is_finite() {
            return Err(format!("the Rust epoch diverged (loss {loss})").into());
        }
    }
    Ok(median(times))
}

/// The numpy peer: runs `numpy_mlp.py` with `args` and returns its JSON summary line.
struct Numpy {
    python: PathBuf,
    script: PathBuf,
}

impl Numpy {
    fn check(python: PathBuf) -> R<Numpy> {
        let script = root().join("bench").join("numpy_mlp.py");
        let fix = "fix: `make bench` (creates .venv-bench from bench/requirements.txt), or \
                   `python3 -m venv .venv-bench && .venv-bench/bin/pip install -r bench/requirements.txt`, or pass --python";
        if !python.exists() {
            return Err(format!("numpy peer: {} does not exist; {fix}", python.display()).into());
        }
        let out = Command::new(&python).args(["-c", "import numpy, threadpoolctl"]).output()?;
        if !out.status.success() {
            return Err(format!("numpy peer: {} cannot import numpy and threadpoolctl ({}); {fix}", python.display(), String::from_utf8_lossy(&out.stderr).trim()).into());
        }
        Ok(Numpy { python, script })
    }

    fn run(&self, args: &[String]) -> R<(String, f64, Option<i64>)> {
        let t0 = Instant::now();
        let (out, rss) = run_measured(Command::new(&self.python).arg(&self.script).args(args))?;
        let wall = t0.elapsed().as_secs_f64();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        if !out.status.success() {
            return Err(format!("numpy peer failed: {} {} :\n{}", self.script.display(), args.join(" "), String::from_utf8_lossy(&out.stderr)).into());
        }
        let json = text.lines().find_map(|l| l.strip_prefix("JSON ")).ok_or("numpy peer printed no JSON line")?.to_string();
        Ok((json, wall, rss))
    }
}

/// A number field of a flat JSON object (`"key": 1.5`).
fn json_num(json: &str, key: &str) -> R<f64> {
    let k = format!("\"{key}\": ");
    let at = json.find(&k).ok_or_else(|| format!("no {key} in {json}"))? + k.len();
    Ok(json[at..].split([',', '}']).next().unwrap_or("").trim().parse()?)
}

fn json_str(json: &str, key: &str) -> String {
    let k = format!("\"{key}\": \"");
    json.find(&k).map(|at| json[at + k.len()..].split('"').next().unwrap_or("").to_string()).unwrap_or_default()
}

/// Runs a command to its end and returns its output and peak RSS in KiB (wait4's ru_maxrss).
fn run_measured(cmd: &mut Command) -> R<(std::process::Output, Option<i64>)> {
    use std::io::Read;
    let mut child = cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn()?;
    let (mut so, mut se) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        se.read_to_end(&mut v).map(|_| v)
    });
    let mut stdout = Vec::new();
    so.read_to_end(&mut stdout)?;
    let stderr = err_reader.join().expect("stderr reader")?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for (std's Child is never waited below);
    // `status` and `ru` are valid, writable locals.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    if r != pid {
        return Err(format!("wait4 failed: {}", std::io::Error::last_os_error()).into());
    }
    use std::os::unix::process::ExitStatusExt;
    let status = std::process::ExitStatus::from_raw(status);
    Ok((std::process::Output { status, stdout, stderr }, Some(ru.ru_maxrss)))
}

/// The candle peer, in a child process with RAYON_NUM_THREADS = threads.
fn candle(what: &str, dtype: &str, hidden: usize, threads: usize, epochs: usize) -> R<Vec<f64>> {
    let exe = std::env::current_exe()?;
    let out = Command::new(exe)
        .args(["--child", what, "--dtype", dtype, "--hidden", &hidden.to_string(), "--epochs", &epochs.to_string()])
        .env("RAYON_NUM_THREADS", threads.to_string())
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find_map(|l| l.strip_prefix("RESULT "));
    match (out.status.success(), line) {
        (true, Some(l)) => Ok(l.split_whitespace().map(|v| v.parse::<f64>()).collect::<Result<_, _>>()?),
        _ => Err(format!("candle peer ({what} {dtype} d_h={hidden} threads={threads}) failed: {}", String::from_utf8_lossy(&out.stderr)).into()),
    }
}

fn child(a: &Args) -> R<()> {
    let fm = data::fashion_mnist::<f64>(None, 10_000, 1234);
    let r = match (a.child.as_deref(), a.dtype.as_str()) {
        (Some("epoch"), "f64") => vec![candle_peer::epoch_seconds(&fm?.train, a.hidden, a.epochs)?],
        (Some("epoch"), "f32") => vec![candle_peer::epoch_seconds(&fm?.train.cast::<f32>(), a.hidden, a.epochs)?],
        (Some("gemm"), "f64") => {
            let (f, b) = candle_peer::mlp_shapes::<f64>(a.hidden)?;
            vec![f, b]
        }
        (Some("gemm"), "f32") => {
            let (f, b) = candle_peer::mlp_shapes::<f32>(a.hidden)?;
            vec![f, b]
        }
        (c, d) => return Err(format!("unknown child {c:?} / dtype {d}").into()),
    };
    println!("RESULT {}", r.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" "));
    Ok(())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_else(|_| "?".into())
}

fn cpu_name() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    cpu.lines().find_map(|l| l.strip_prefix("model name")).map(|s| s.trim_start_matches([' ', '\t', ':']).to_string()).unwrap_or_else(|| "unknown CPU".into())
}

fn f2(v: f64) -> String {
    format!("{v:.2}")
}

fn main() -> std::process::ExitCode {
    let a = Args::parse();
    let res = if a.child.is_some() { child(&a) } else { bench(&a) };
    match res {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn bench(a: &Args) -> R<()> {
    if a.epochs == 0 || a.loop_batches == 0 {
        return Err("--epochs and --loop-batches must be at least 1".into());
    }
    let numpy = Numpy::check(a.python.clone().unwrap_or_else(|| root().join(".venv-bench").join("bin").join("python")))?;
    let train_bin = a.train_bin.clone().unwrap_or_else(|| root().join("target").join("release").join("train"));
    if !train_bin.exists() {
        return Err(format!("the trainer {} does not exist; fix: `cargo build --release --bin train` in the repository (make bench does it)", train_bin.display()).into());
    }
    let load_start = load_average();
    let t_all = Instant::now();
    eprintln!("bench: load average {load_start}; FMA peak probe ({})", peak::unit());
    // 0. the command line end to end, first: a child inherits its parent's peak RSS at fork, so it runs
    // while this process is still small (no data loaded): 2 epochs, evaluation on 70 000 images before and after each, CSV log
    let dir = std::env::temp_dir().join(format!("backprop-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut e2e = Vec::new();
    let mut logs = Vec::new();
    for run in 0..2 {
        let log = dir.join(format!("rust{run}.csv"));
        let t0 = Instant::now();
        let (out, rss) = run_measured(
            Command::new(&train_bin)
                .args(["--data", "fashion-mnist", "--impl", "matrix", "--dtype", "f64", "--hidden", "512", "--batch", "100", "--epochs", "2", "--threads", "2", "--log"])
                .arg(&log),
        )?;
        let wall = t0.elapsed().as_secs_f64();
        if !out.status.success() {
            return Err(format!("{} failed: {}", train_bin.display(), String::from_utf8_lossy(&out.stderr)).into());
        }
        let csv = std::fs::read_to_string(&log)?;
        // every column but the last (seconds)
        logs.push(csv.lines().map(|l| l.rsplit_once(',').map_or(l, |(a, _)| a).to_string()).collect::<Vec<_>>());
        e2e.push((wall, rss.unwrap_or(0)));
    }
    let identical = logs[0] == logs[1];
    let mut np_e2e = Vec::new();
    for _ in 0..2 {
        let log = dir.join("numpy.csv");
        let args: Vec<String> = ["--impl", "matrix", "--dtype", "float64", "--hidden", "512", "--K", "100", "--epochs", "2", "--threads", "2", "--log"].iter().map(|s| s.to_string()).chain([log.display().to_string()]).collect();
        let (_, wall, rss) = numpy.run(&args)?;
        np_e2e.push((wall, rss.unwrap_or(0)));
    }
    let _ = std::fs::remove_dir_all(&dir);
    let best = |v: &[(f64, i64)]| v.iter().map(|x| x.0).fold(f64::INFINITY, f64::min);
    let (rust_wall, np_wall) = (best(&e2e), best(&np_e2e));
    let rss_gib = e2e.iter().map(|x| x.1).max().unwrap_or(0) as f64 / (1u64 << 20) as f64;
    let np_rss_gib = np_e2e.iter().map(|x| x.1).max().unwrap_or(0) as f64 / (1u64 << 20) as f64;
    eprintln!("bench: end to end: rust {:?}, numpy {:?}; identical logs {identical}", e2e, np_e2e);

    // 1. the FMA peak per thread count
    let mut peak = std::collections::HashMap::new();
    for t in THREADS {
        for dt in ["f64", "f32"] {
            let p = peak::gflops(t, dt == "f32")?;
            eprintln!("bench: peak {dt} {t} thread(s): {p:.1} GFLOP/s");
            peak.insert((dt, t), p);
        }
    }
    // 2. the data, once (the Rust rows); numpy and candle load their own in their processes
    let t0 = Instant::now();
    let fm = data::fashion_mnist::<f64>(None, 10_000, 1234)?;
    let load_s = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    for ds in [&fm.train, &fm.valid, &fm.test] {
        backprop::engine::with_threads(2, || train::evaluate(&backprop::mlp::Mlp::<f64>::init(784, 512, 10, 1).unwrap(), ds))??;
    }
    let eval_s = t0.elapsed().as_secs_f64();
    // the training set itself, not a clone: its rows live in 2 MiB pages (`data::large_vec`)
    let tr32 = fm.train.cast::<f32>();
    let tr64 = fm.train;
    // 3. matrix epochs, the three peers side by side per cell
    let mut rows = String::new();
    let mut ratios = Vec::new();
    let mut epochs = std::collections::HashMap::new();
    for t in THREADS {
        for (dt, h) in CELLS {
            let rs = backprop::engine::with_threads(t, || if dt == "f64" { rust_epoch(&tr64, Impl::Matrix, h, a.epochs, None) } else { rust_epoch(&tr32, Impl::Matrix, h, a.epochs, None) })?.map_err(|e| e.to_string())?;
            let np_args: Vec<String> = ["--impl", "matrix", "--dtype", if dt == "f64" { "float64" } else { "float32" }, "--hidden", &h.to_string(), "--threads", &t.to_string(), "--epochs", &a.epochs.to_string(), "--no-eval"].iter().map(|s| s.to_string()).collect();
            let (json, _, _) = numpy.run(&np_args)?;
            let np = json_num(&json, "epoch_median")?;
            let cd = candle("epoch", dt, h, t, a.epochs)?[0];
            let gf = epoch_gflop(h) / rs;
            let pk = peak[&(dt, t)];
            eprintln!("bench: matrix {dt} d_h={h} threads={t}: rust {rs:.3} s, numpy {np:.3} s, candle {cd:.3} s");
            ratios.push((dt, h, t, rs / np, rs / cd, 100.0 * gf / pk));
            epochs.insert((dt, h, t), (rs, np));
            rows += &format!("| {dt} | {h} | {t} | {rs:.3} | {np:.3} | {cd:.3} | **{}** | **{}** | {gf:.0} | {:.0} % |\n", f2(rs / np), f2(rs / cd), 100.0 * gf / pk);
        }
    }
    // loop versions (Rust's readable core against numpy's per-example loop), one and two threads
    let mut loop_rows = String::new();
    for t in THREADS {
        for dt in ["f64", "f32"] {
            let rs = backprop::engine::with_threads(t, || if dt == "f64" { rust_epoch(&tr64, Impl::Loop, 100, 1, Some(a.loop_batches)) } else { rust_epoch(&tr32, Impl::Loop, 100, 1, Some(a.loop_batches)) })?.map_err(|e| e.to_string())?;
            let np_args: Vec<String> = ["--impl", "loop", "--dtype", if dt == "f64" { "float64" } else { "float32" }, "--hidden", "100", "--threads", &t.to_string(), "--epochs", "1", "--no-eval", "--max-batches", &a.loop_batches.to_string()].iter().map(|s| s.to_string()).collect();
            let np = json_num(&numpy.run(&np_args)?.0, "epoch_median")?;
            eprintln!("bench: loop {dt} d_h=100 threads={t}: rust {rs:.3} s, numpy {np:.3} s");
            loop_rows += &format!("| {dt} | 100 | {t} | {rs:.3} | {np:.3} | {} |\n", f2(rs / np));
        }
    }
    // 4. GEMM at the MLP's shapes
    let mut gemm_rows = String::new();
    let mut bound_rows = String::new();
    let mut blas = String::new();
    let engine_probe = |dt: &str| {
        let gemm = if dt == "f64" { backprop::engine::backend::<f64>() } else { backprop::engine::backend::<f32>() } == backprop::engine::Backend::GemmCrate;
        if gemm { gemm_probe::Backend::GemmCrateSharded } else { gemm_probe::Backend::MatrixmultiplySharded }
    };
    for t in THREADS {
        for (dt, h) in CELLS {
            let mut cells = Vec::new();
            for b in gemm_probe::Backend::ALL {
                let (f, bk) = if dt == "f64" { gemm_probe::mlp_shapes::<f64>(b, h, t) } else { gemm_probe::mlp_shapes::<f32>(b, h, t) };
                cells.push(format!("{f:.0} / {bk:.0}"));
                if b == engine_probe(dt) {
                    // the epoch's two large products alone, at the rates the engine's GEMM reaches here
                    let (rs, np) = epochs[&(dt, h, t)];
                    // half the products' flops at the forward rate, half at the backward rate
                    let prod = products_gflop(h) / 2.0 * (1.0 / f + 1.0 / bk);
                    let pk = peak[&(dt, t)];
                    bound_rows += &format!(
                        "| {dt} | {h} | {t} | {prod:.3} | {rs:.3} | {:.3} | **{}** | {:.0} % | {:.0} % |\n",
                        rs - prod,
                        f2(prod / np),
                        100.0 * products_gflop(h) / prod / pk,
                        100.0 * epoch_gflop(h) / rs / pk
                    );
                }
            }
            let c = candle("gemm", dt, h, t, 1)?;
            cells.push(format!("{:.0} / {:.0}", c[0], c[1]));
            let (json, _, _) = numpy.run(&["--gemm".into(), "--dtype".into(), (if dt == "f64" { "float64" } else { "float32" }).into(), "--hidden".into(), h.to_string(), "--threads".into(), t.to_string()])?;
            cells.push(format!("{:.0} / {:.0}", json_num(&json, "forward")?, json_num(&json, "backward")?));
            blas = format!("numpy {} with OpenBLAS {} ({} kernels)", json_str(&json, "numpy"), json_str(&json, "version"), json_str(&json, "architecture"));
            eprintln!("bench: gemm {dt} d_h={h} threads={t}: {}", cells.join(", "));
            gemm_rows += &format!("| {dt} | {h} | {t} | {:.0} | {} |\n", peak[&(dt, t)], cells.join(" | "));
        }
    }
    let load_end = load_average();
    let backend_name = |b: backprop::engine::Backend| match b {
        backprop::engine::Backend::Matrixmultiply => "matrixmultiply",
        backprop::engine::Backend::GemmCrate => "the gemm crate",
    };
    let (backend64, backend32) = (backend_name(backprop::engine::backend::<f64>()), backend_name(backprop::engine::backend::<f32>()));
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let md = format!(
        "## Generated by `make bench`\n\n\
         Machine: **{cpu}**, {cores} cores, FMA probe on {unit}. Load average (1, 5, 15 min) {load_start} at the start, {load_end} at the end; \
         the bench took {mins:.1} min. The engine's GEMM here (`engine::backend`): {backend64} for f64, {backend32} for f32 (AVX-512: {avx512}). Peers: {blas}; candle-core 0.9 (CPU, its matmul is the gemm crate 0.19, in this build with the engine's `x86-v4` feature, which Cargo unifies, so it runs the same kernels). \
         Each epoch figure is the median of {e} epochs (50 000 images, K = 100, plain SGD, no evaluation), every peer run side by side, cell by cell. \
         Ratio = Rust / peer (below 1: Rust is faster). GFLOP per epoch: 2·n·(2·d·d_h + 3·d_h·m) = {g100:.1} at d_h = 100, {g512:.1} at d_h = 512; \
         % of peak = the Rust epoch's GFLOP/s over the FMA peak of the same dtype and threads, below.\n\n\
         ### Matrix version: one training epoch (seconds)\n\n\
         | dtype | d_h | threads | Rust | numpy | candle | Rust / numpy | Rust / candle | Rust GFLOP/s | % of FMA peak |\n|---|---|---|---|---|---|---|---|---|---|\n{rows}\n\
         ### Loop version (per example; Rust = the teaching core's `loss_grad_loop`), d_h = 100, {lb} minibatches scaled to 500\n\n\
         | dtype | d_h | threads | Rust s/epoch | numpy s/epoch | Rust / numpy |\n|---|---|---|---|---|---|\n{loop_rows}\n\
         ### FMA peak and each library's GEMM at the MLP's shapes (GFLOP/s)\n\n\
         Forward / backward: X W1ᵀ (100 × 784 · 784 × d_h) / G_haᵀ X (d_h × 100 · 100 × 784), best of 6 rounds of ≈ 4 GFLOP. \
         \"As the engine\": the d_h hidden units cut into one shard per thread, H_a and G_ha column-major, the backward product fused with the SGD step \
         (W1 ← W1 − η G_haᵀ X), as the engine's epoch computes them; the other columns: the library's own call, row-major.\n\n\
         | dtype | d_h | threads | FMA peak | {b0} | {b1} | {b2} | candle matmul | numpy `@` |\n|---|---|---|---|---|---|---|---|---|\n{gemm_rows}\n\
         ### The two large products alone\n\n\
         The forward and backward products above are 2 × 2·K·d·d_h flops per minibatch, {p100:.1} of the epoch's {g100:.1} GFLOP at d_h = 100 and {p512:.1} of {g512:.1} at d_h = 512. \
         \"Products alone\": 500 minibatches of both at the engine's measured GEMM rates (its column above), everything else free; \
         \"the rest\": the Rust epoch minus that (the thin products with W2, softmax, ReLU, the minibatch gather, the synchronisation). \
         Products alone / numpy is the ratio the engine would reach if the rest cost nothing: a bound on Rust / numpy with this GEMM.\n\n\
         | dtype | d_h | threads | products alone (s) | Rust epoch (s) | the rest (s) | products alone / numpy epoch | products alone, % of FMA peak | Rust epoch, % of FMA peak |\n|---|---|---|---|---|---|---|---|---|\n{bound_rows}\n\
         ### The command line end to end (d_h = 512, f64, 2 epochs, 2 threads, evaluation of 70 000 images before training and after each epoch, CSV log)\n\n\
         | process | wall s (best of 2) | peak RSS |\n|---|---|---|\n\
         | `target/release/train --data fashion-mnist --impl matrix --dtype f64 --hidden 512 --batch 100 --epochs 2 --threads 2 --log …` | {rust_wall:.2} | {rss_gib:.2} GiB |\n\
         | `bench/numpy_mlp.py --impl matrix --dtype float64 --hidden 512 --K 100 --epochs 2 --threads 2 --log …` | {np_wall:.2} | {np_rss_gib:.2} GiB |\n\n\
         Rust / numpy, whole process: **{e2e_ratio}**. The two Rust runs' CSV logs (every column but the seconds) are {same}. \
         Phases inside the Rust process, measured by the bench: loading Fashion-MNIST (gunzip, SHA-256 of the four files, scaling to f64, the split) {load_s:.2} s; \
         one evaluation of all 70 000 images at d_h = 512 on 2 threads {eval_s:.2} s (the run above does three).\n\n",
        cpu = cpu_name(),
        unit = peak::unit(),
        mins = t_all.elapsed().as_secs_f64() / 60.0,
        e = a.epochs,
        lb = a.loop_batches,
        g100 = epoch_gflop(100),
        g512 = epoch_gflop(512),
        p100 = products_gflop(100),
        p512 = products_gflop(512),
        avx512 = if backprop::engine::has_avx512() { "yes, the gemm crate runs its AVX-512 kernels" } else { "no" },
        b0 = gemm_probe::Backend::ALL[0].name(),
        b1 = gemm_probe::Backend::ALL[1].name(),
        b2 = gemm_probe::Backend::ALL[2].name(),
        e2e_ratio = f2(rust_wall / np_wall),
        same = if identical { "identical" } else { "**different**" },
    );
    let ratio_line = ratios.iter().map(|(dt, h, t, n, c, p)| format!("{dt} h{h} t{t}: numpy {n:.2} candle {c:.2} peak {p:.0}%")).collect::<Vec<_>>().join("\n");
    eprintln!("bench: ratios\n{ratio_line}\nbench: end to end {:.2}", rust_wall / np_wall);
    if a.dry_run {
        println!("{md}");
        return Ok(());
    }
    let out = a.out.clone().unwrap_or_else(|| root().join("BENCHMARKS.md"));
    let (begin, end) = ("<!-- bench:begin -->", "<!-- bench:end -->");
    let old = std::fs::read_to_string(&out).unwrap_or_default();
    let new = match (old.find(begin), old.find(end)) {
        (Some(b), Some(e)) if b < e => format!("{}{begin}\n{md}{}", &old[..b], &old[e..]),
        _ => format!("{old}\n{begin}\n{md}{end}\n"),
    };
    std::fs::write(&out, new)?;
    println!("bench: wrote {}", out.display());
    Ok(())
}
