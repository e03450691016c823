//! Times one Fashion-MNIST training epoch (K = 100) of the Rust MLP, loop and matrix,
//! f64 and f32, hidden 100 and 512, on 1 and 2 threads, beside the numpy reference
//! (`../shared/bench/numpy_mlp.py`) run on the same machine in the same session, and
//! writes the table to BENCHMARKS.md.
//!
//!     cargo run --release --bin bench -- --python /tmp/peer/bin/python
//!
//! Each figure is the median of `--epochs` training passes (shuffle + all minibatch
//! updates, no evaluation). The matrix version runs on the fast engine (`backprop::engine`),
//! the loop version is the core's readable `Mlp::loss_grad_loop`; it is timed on
//! `--loop-batches` minibatches and extrapolated to the 500 of an epoch, as the numpy reference does.

use backprop::data::{self, Dataset};
use backprop::mlp::ElasticNet;
use backprop::train::{self, Impl, TrainConfig};
use backprop::{Real, Result};
use clap::Parser;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

#[derive(Parser, Debug)]
#[command(name = "bench")]
struct Args {
    /// Python interpreter with numpy and threadpoolctl for the reference (omit to skip numpy).
    #[arg(long)]
    python: Option<PathBuf>,
    /// The numpy reference script.
    #[arg(long, default_value = "../shared/bench/numpy_mlp.py")]
    script: PathBuf,
    /// Timed epochs per configuration (the median is reported).
    #[arg(long, default_value_t = 5)]
    epochs: usize,
    /// Minibatches timed for the loop version (extrapolated to a full epoch).
    #[arg(long, default_value_t = 200)]
    loop_batches: usize,
    /// Output file.
    #[arg(long, default_value = "BENCHMARKS.md")]
    out: PathBuf,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median seconds of one training pass over `tr` (extrapolated when only `max_batches` are run).
fn rust_epoch<F: Real>(tr: &Dataset<F>, imp: Impl, hidden: usize, epochs: usize, max_batches: Option<usize>) -> Result<f64> {
    let mut cfg = TrainConfig::new(hidden, F::from_f64(0.1).unwrap(), 100, 1);
    cfg.implementation = imp;
    cfg.verbose = false;
    cfg.reg = ElasticNet::none();
    let n_batches = tr.len().div_ceil(100);
    let sub = match max_batches {
        Some(b) => tr.head(b * 100),
        None => tr.clone(),
    };
    let mut model = backprop::mlp::Mlp::<F>::init(tr.x.ncols(), hidden, 10, 1)?;
    let mut rng = backprop::rng::seeded(2);
    let mut times = Vec::new();
    for _ in 0..epochs {
        let t0 = Instant::now();
        train::train_epoch(&mut model, &mut None, &cfg, cfg.lr, &sub, &mut rng)?;
        let t = t0.elapsed().as_secs_f64();
        times.push(t * n_batches as f64 / sub.len().div_ceil(100) as f64);
    }
    Ok(median(times))
}

fn numpy_epoch(a: &Args, imp: &str, dtype: &str, hidden: usize, threads: usize) -> Option<f64> {
    let py = a.python.as_ref()?;
    let mut cmd = Command::new(py);
    cmd.arg(&a.script)
        .args(["--impl", imp, "--dtype", dtype, "--hidden", &hidden.to_string(), "--K", "100", "--no-eval"])
        .args(["--threads", &threads.to_string(), "--epochs", &a.epochs.to_string()]);
    if imp == "loop" {
        cmd.args(["--max-batches", &a.loop_batches.to_string()]);
    }
    let out = cmd.output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let json = text.lines().find_map(|l| l.strip_prefix("JSON "))?;
    let key = "\"epoch_median\": ";
    let at = json.find(key)? + key.len();
    json[at..].split([',', '}']).next()?.trim().parse().ok()
}

fn gemm_gflops<F: Real>() -> f64 {
    // a 1024^3 product C = A B through ndarray (matrixmultiply), the columns of C split
    // over this process's threads (rayon) as the engine splits its hidden units
    use backprop::ndarray::{linalg::general_mat_mul, Array2, Axis};
    use rayon::prelude::*;
    let n = 1024;
    let a = Array2::<F>::from_shape_fn((n, n), |(i, j)| F::from_usize((i + 2 * j) % 7).unwrap());
    let mut c = Array2::<F>::zeros((n, n));
    let threads = backprop::engine::threads();
    let len = n.div_ceil(threads);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool");
    let mut run = || {
        let shards: Vec<_> = c.axis_chunks_iter_mut(Axis(1), len).zip(a.axis_chunks_iter(Axis(1), len)).collect();
        pool.install(|| shards.into_par_iter().for_each(|(mut c, b)| general_mat_mul(F::one(), &a, &b, F::zero(), &mut c)));
    };
    run();
    let t0 = Instant::now();
    let reps = 4;
    for _ in 0..reps {
        run();
    }
    std::hint::black_box(&c);
    2.0 * (n * n * n * reps) as f64 / t0.elapsed().as_secs_f64() / 1e9
}

fn numpy_gemm(a: &Args, threads: usize, dtype: &str) -> Option<f64> {
    let py = a.python.as_ref()?;
    let code = format!(
        "import numpy as np, time\nfrom threadpoolctl import threadpool_limits\nthreadpool_limits({threads})\n\
         a = np.random.rand(2048, 2048).astype(np.{dtype}); a @ a\nt = time.perf_counter()\nfor _ in range(5): a @ a\n\
         print(2 * 2048**3 * 5 / (time.perf_counter() - t) / 1e9)"
    );
    let out = Command::new(py).args(["-c", &code]).output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn main() -> Result<()> {
    let a = Args::parse();
    let cpu = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpu.lines().find_map(|l| l.strip_prefix("model name")).map(|s| s.trim_start_matches([' ', '\t', ':']).to_string()).unwrap_or_default();
    let avx512 = cpu.contains("avx512f");
    let f64_data = data::fashion_mnist::<f64>(None, 10_000, 1234)?;
    let f32_data = f64_data.train.cast::<f32>();
    let tr64 = f64_data.train;
    let flops = |h: usize| 2.0 * 50_000.0 * (2.0 * 784.0 * h as f64 + 3.0 * h as f64 * 10.0);
    let mut rows = Vec::new();
    // the thread pool is sized once per process: re-run ourselves per thread count
    let threads_here: usize = std::env::var("BACKPROP_THREADS").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    if threads_here == 0 {
        let exe = std::env::current_exe().expect("own path");
        let mut all = String::new();
        let mut rust_peak = Vec::new();
        for t in [1, 2] {
            let out = Command::new(&exe).args(std::env::args().skip(1)).env("BACKPROP_THREADS", t.to_string()).output().expect("run bench");
            eprint!("{}", String::from_utf8_lossy(&out.stderr));
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            let peak: Vec<f64> = text.lines().find_map(|l| l.strip_prefix("peak ")).map(|v| v.split_whitespace().filter_map(|x| x.parse().ok()).collect()).unwrap_or_default();
            rust_peak.push((peak.first().copied().unwrap_or(f64::NAN), peak.get(1).copied().unwrap_or(f64::NAN)));
            all += &text.lines().filter(|l| l.starts_with('|')).map(|l| format!("{l}\n")).collect::<String>();
        }
        let mut peaks = String::new();
        for t in [1, 2] {
            peaks += &format!(
                "| {t} | {:.0} | {:.0} | {} | {} |\n",
                rust_peak[t - 1].0,
                rust_peak[t - 1].1,
                numpy_gemm(&a, t, "float64").map_or("—".into(), |g| format!("{g:.0}")),
                numpy_gemm(&a, t, "float32").map_or("—".into(), |g| format!("{g:.0}"))
            );
        }
        let md = format!(
            "## One training epoch, Rust beside numpy\n\n\
             One Fashion-MNIST training epoch (50 000 images, K = 100, plain SGD, no evaluation) of ps2's MLP, \
             Rust (`backprop`, this repository) beside the numpy reference `../shared/bench/numpy_mlp.py` run on the \
             same machine in the same session. Median of {e} epochs; loop versions timed on {lb} minibatches and \
             extrapolated (both peers alike). Ratio = Rust / numpy (below 1: Rust is faster).\n\n\
             Machine: {model}, {cores} cores{avx}. Regenerate: `cargo run --release --bin bench -- --python <python with numpy>`.\n\n\
             | impl | dtype | hidden | threads | Rust s/epoch | numpy s/epoch | ratio | Rust GFLOP/s |\n|---|---|---|---|---|---|---|---|\n{all}\n\
             GFLOP per epoch: 2·n·(2·d·h + 3·h·m) = {f100:.1} at h = 100, {f512:.1} at h = 512.\n\n\
             ## Matrix-multiply peak on this machine (GFLOP/s)\n\n\
             Rust: ndarray → matrixmultiply, the columns of C split over the threads as the MLP splits its hidden units.\n\n\
             | threads | Rust f64, 1024³ | Rust f32, 1024³ | numpy OpenBLAS f64, 2048³ | numpy OpenBLAS f32, 2048³ |\n|---|---|---|---|---|\n{peaks}",
            e = a.epochs,
            lb = a.loop_batches,
            cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            avx = if avx512 { ", AVX-512" } else { "" },
            f100 = flops(100) / 1e9,
            f512 = flops(512) / 1e9,
        );
        // replace only the generated section, keeping hand-written notes around it
        let (begin, end) = ("<!-- bench:begin -->", "<!-- bench:end -->");
        let old = std::fs::read_to_string(&a.out).unwrap_or_default();
        let new = match (old.find(begin), old.find(end)) {
            (Some(b), Some(e)) if b < e => format!("{}{begin}\n{md}{}", &old[..b], &old[e..]),
            _ => format!("{begin}\n{md}{end}\n"),
        };
        std::fs::write(&a.out, new).map_err(|source| backprop::Error::Io { path: a.out.display().to_string(), source })?;
        println!("wrote {}", a.out.display());
        return Ok(());
    }
    let t = threads_here;
    let configs: Vec<(&str, &str, usize)> = vec![("matrix", "f64", 100), ("matrix", "f32", 100), ("matrix", "f64", 512), ("matrix", "f32", 512), ("loop", "f64", 100), ("loop", "f32", 100)];
    for (imp, dt, h) in configs {
        let (imp_e, lb) = if imp == "loop" { (Impl::Loop, Some(a.loop_batches)) } else { (Impl::Matrix, None) };
        let rs = if dt == "f64" { rust_epoch(&tr64, imp_e, h, a.epochs, lb)? } else { rust_epoch(&f32_data, imp_e, h, a.epochs, lb)? };
        let np = numpy_epoch(&a, imp, if dt == "f64" { "float64" } else { "float32" }, h, t);
        eprintln!("bench: {imp} {dt} h={h} threads={t}: rust {rs:.3} s, numpy {np:?}");
        rows.push(format!(
            "| {imp} | {dt} | {h} | {t} | {rs:.3} | {} | {} | {:.0} |",
            np.map_or("—".into(), |v| format!("{v:.3}")),
            np.map_or("—".into(), |v| format!("{:.2}", rs / v)),
            flops(h) / rs / 1e9
        ));
    }
    println!("{}", rows.join("\n"));
    println!("peak {:.1} {:.1}", gemm_gflops::<f64>(), gemm_gflops::<f32>());
    Ok(())
}
