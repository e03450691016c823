//! A seeded mutation fuzzer, on stable Rust, for the two places where a user's bytes and words
//! enter the crate: the IDX loader (headers and payloads, plain and gzip-compressed) and the
//! `train` binary's argument handling (parsing, configuration, validation, memory check, the
//! two-circles data). Every input starts from a real one (the first images and labels of
//! Fashion-MNIST when installed, and small valid files and argument lists) and gets one to four
//! mutations: bit flips, bytes, header fields set to edge values, insertions, deletions,
//! truncations, duplicated pieces; flags swapped, dropped, repeated, values replaced by edge cases.
//!
//! A panic is a crash: the input is saved under `target/fuzz-crashes/` and the run exits 1.
//! Errors are the expected outcome. Build without `--release` so that arithmetic overflow panics.
//!
//! `cargo run --bin fuzz -- --seconds 30 [--seed 1]`

#[allow(dead_code)]
#[path = "train.rs"]
mod train_cli;

use backprop::data::{load_idx_pair, parse_idx, read_idx};
use clap::Parser;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::{Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Inputs that got through: IDX parsed, arguments parsed, configurations accepted.
static IDX_OK: AtomicU64 = AtomicU64::new(0);
static ARGS_OK: AtomicU64 = AtomicU64::new(0);
static CONFIG_OK: AtomicU64 = AtomicU64::new(0);

/// Fuzz the IDX loader and the train binary's arguments for a given time.
#[derive(Parser, Debug)]
#[command(name = "fuzz")]
struct Opts {
    /// How long to run, in seconds.
    #[arg(long, default_value_t = 30.0)]
    seconds: f64,
    /// Seed of the mutations (the same seed replays the same inputs).
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn be(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}

fn idx_images(n: u32, rows: u32, cols: u32) -> Vec<u8> {
    let mut b: Vec<u8> = [2051, n, rows, cols].into_iter().flat_map(be).collect();
    b.extend((0..n * rows * cols).map(|i| (i * 37 % 256) as u8));
    b
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut b: Vec<u8> = [2049, labels.len() as u32].into_iter().flat_map(be).collect();
    b.extend_from_slice(labels);
    b
}

/// The first `n` images (and labels) of the installed Fashion-MNIST, as valid IDX files of `n`
/// items, plus the untouched prefix (its header still announces 60 000).
fn real_seeds(n: usize) -> Vec<(bool, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in backprop::data::fashion_mnist_dirs() {
        for (name, images, item) in [("train-images-idx3-ubyte.gz", true, 784), ("train-labels-idx1-ubyte.gz", false, 1)] {
            let Ok(f) = std::fs::File::open(dir.join(name)) else { continue };
            let header = if images { 16 } else { 8 };
            let mut b = Vec::new();
            if flate2::read::GzDecoder::new(f).take((header + n * item) as u64).read_to_end(&mut b).is_err() {
                continue;
            }
            out.push((images, b.clone()));
            if b.len() >= header {
                let count = be(((b.len() - header) / item) as u32);
                b[4..8].copy_from_slice(&count);
                out.push((images, b));
            }
        }
        if !out.is_empty() {
            break;
        }
    }
    out
}

const EDGE_U32: [u32; 12] = [0, 1, 2, 9, 10, 28, 784, 60_000, 2049, 2051, 0x7fff_ffff, u32::MAX];

fn mutate_bytes(b: &mut Vec<u8>, r: &mut ChaCha8Rng) {
    for _ in 0..r.gen_range(1..=4) {
        let len = b.len();
        match r.gen_range(0..9) {
            0 if len > 0 => {
                let i = r.gen_range(0..len);
                b[i] ^= 1 << r.gen_range(0..8);
            }
            1 if len > 0 => {
                let i = r.gen_range(0..len);
                b[i] = [0, 1, 9, 10, 0x7f, 0x80, 0xff, r.gen()][r.gen_range(0..8)];
            }
            2 if len >= 4 => {
                // a header field (or any aligned word) set to an edge value
                let at = 4 * r.gen_range(0..(len / 4).min(4));
                b[at..at + 4].copy_from_slice(&be(EDGE_U32[r.gen_range(0..EDGE_U32.len())]));
            }
            3 => {
                let at = r.gen_range(0..=len);
                let extra: Vec<u8> = (0..r.gen_range(1..64)).map(|_| r.gen()).collect();
                b.splice(at..at, extra);
            }
            4 if len > 0 => {
                let a = r.gen_range(0..len);
                let e = (a + r.gen_range(1..=64)).min(len);
                b.drain(a..e);
            }
            5 => b.truncate(r.gen_range(0..=len)),
            6 => b.extend(std::iter::repeat_n(0u8, r.gen_range(1..4096))),
            7 if len > 0 => {
                let a = r.gen_range(0..len);
                let e = (a + r.gen_range(1..=256)).min(len);
                let piece = b[a..e].to_vec();
                let at = r.gen_range(0..=b.len());
                b.splice(at..at, piece);
            }
            _ => {}
        }
    }
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

/// One IDX input through the in-memory reader and parser, plain and gzip, and now and then
/// through files on disk (the loader of an image/label pair).
fn idx_case(images: bool, bytes: &[u8], r: &mut ChaCha8Rng, dir: &Path, pair_labels: &[u8]) {
    if parse_idx(Path::new("x"), bytes, images, None).is_ok() {
        IDX_OK.fetch_add(1, Relaxed);
    }
    let _ = parse_idx(Path::new("x"), bytes, images, Some("00"));
    if let Ok(b) = read_idx(Path::new("x"), bytes, images) {
        let _ = parse_idx(Path::new("x"), &b, images, None);
    }
    let mut gz = gzip(bytes);
    if r.gen_bool(0.5) {
        mutate_bytes(&mut gz, r);
    }
    if let Ok(b) = read_idx(Path::new("x.gz"), flate2::read::GzDecoder::new(&gz[..]), images) {
        let _ = parse_idx(Path::new("x.gz"), &b, images, None);
    }
    if r.gen_ratio(1, 16) {
        let (img, lab) = if images { (bytes, pair_labels) } else { (pair_labels, bytes) };
        let _ = std::fs::remove_file(dir.join("i.gz"));
        let _ = std::fs::remove_file(dir.join("i"));
        if r.gen_bool(0.5) {
            std::fs::write(dir.join("i.gz"), gzip(img)).unwrap();
        } else {
            std::fs::write(dir.join("i"), img).unwrap();
        }
        std::fs::write(dir.join("l"), lab).unwrap();
        let _ = load_idx_pair::<f32>(dir, "i", "l");
    }
}

const FLAGS: [&str; 24] = [
    "--data", "--hidden", "--lr", "--batch", "--epochs", "--impl", "--dtype", "--l11", "--l12", "--l21", "--l22", "--patience", "--momentum",
    "--lr-decay", "--dropout", "--input-dropout", "--seed", "--data-dir", "--n-valid", "--circles-n", "--circles-noise", "--circles-factor", "--log",
    "--threads",
];
const VALUES: [&str; 30] = [
    "-1", "0", "1", "-0", "0.5", "1e308", "1e-400", "-1e308", "NaN", "inf", "-inf", "", "--", "-", "18446744073709551615", "18446744073709551616",
    "2000000", "circles", "fashion-mnist", "loop", "matrix", "f32", "f64", "0x10", "1_000", " 1", "１", "é", "--lr", "-h",
];

fn base_argvs() -> Vec<Vec<String>> {
    let v = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    vec![
        v("train --data circles --circles-n 40 --hidden 3 --epochs 1"),
        v("train --data circles --lr 0.5 --batch 10 --momentum 0.9 --patience 2 --dtype f32"),
        v("train --data circles --impl loop --l11 0.001 --l22 0.01 --lr-decay 0.1 --seed 7"),
        v("train --data circles --dropout 0.2 --input-dropout 0.1 --circles-noise 0.1 --circles-factor 0.3"),
        v("train --hidden 100 --lr=0.1 --batch 100 --epochs 10 --n-valid 10000"),
    ]
}

fn mutate_argv(a: &mut Vec<String>, r: &mut ChaCha8Rng) {
    // one mutation half of the time, so that many lists still parse and reach the configuration
    for _ in 0..if r.gen_bool(0.5) { 1 } else { r.gen_range(2..=4) } {
        let len = a.len();
        match r.gen_range(0..8) {
            0 if len > 1 => {
                // a value replaced (a flag's value when the list has one)
                let i = r.gen_range(1..len);
                let i = if a[i].starts_with("--") && i + 1 < len { i + 1 } else { i };
                a[i] = VALUES[r.gen_range(0..VALUES.len())].into();
            }
            1 if len > 1 => {
                a.remove(r.gen_range(1..len));
            }
            2 => {
                // a flag, with a value half of the time
                let at = r.gen_range(1..=len);
                if r.gen_bool(0.5) {
                    a.insert(at, VALUES[r.gen_range(0..VALUES.len())].into());
                }
                a.insert(at, FLAGS[r.gen_range(0..FLAGS.len())].into());
            }
            3 => {
                let at = r.gen_range(1..=len);
                a.insert(at, format!("{}={}", FLAGS[r.gen_range(0..FLAGS.len())], VALUES[r.gen_range(0..VALUES.len())]));
            }
            4 if len > 2 => {
                let (i, j) = (r.gen_range(1..len), r.gen_range(1..len));
                a.swap(i, j);
            }
            5 if len > 1 => {
                // one byte of one argument changed (kept valid UTF-8)
                let i = r.gen_range(1..len);
                let mut b = a[i].clone().into_bytes();
                if !b.is_empty() {
                    let k = r.gen_range(0..b.len());
                    b[k] = r.gen_range(0x20..0x7f);
                }
                a[i] = String::from_utf8_lossy(&b).into_owned();
            }
            6 => a.push(VALUES[r.gen_range(0..VALUES.len())].into()),
            _ => {
                let n: u64 = r.gen_range(0..u64::MAX) >> r.gen_range(0..64);
                let at = r.gen_range(1..=len);
                a.insert(at, format!("{}{n}", if r.gen_bool(0.3) { "-" } else { "" }));
            }
        }
    }
}

/// One argument vector through the parser, the configuration (f32 and f64), and for small
/// two-circles runs the data preparation. Never trains and never loads Fashion-MNIST.
fn cli_case(argv: &[String]) {
    let Ok(a) = train_cli::Args::try_parse_from(argv) else { return };
    ARGS_OK.fetch_add(1, Relaxed);
    let _ = train_cli::config::<f32>(&a);
    if let Ok(cfg) = train_cli::config::<f64>(&a) {
        CONFIG_OK.fetch_add(1, Relaxed);
        // two features: the two circles
        let (d, _, rows) = train_cli::data_shape(&a);
        if d == 2 && rows <= 5_000 && cfg.log.is_none() {
            let _ = train_cli::datasets::<f64>(&a);
        }
    }
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

fn main() -> std::process::ExitCode {
    let o = Opts::parse();
    let mut r = ChaCha8Rng::seed_from_u64(o.seed);
    let mut idx_seeds: Vec<(bool, Vec<u8>)> = vec![
        (true, idx_images(3, 2, 2)),
        (true, idx_images(2, 28, 28)),
        (true, idx_images(0, 28, 28)),
        (false, idx_labels(&[0, 9, 4])),
        (false, idx_labels(&[])),
    ];
    let real = real_seeds(4);
    let n_real = real.len();
    idx_seeds.extend(real);
    let argvs = base_argvs();
    let crash_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("fuzz-crashes");
    let work = std::env::temp_dir().join(format!("backprop-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    // a crash is counted and saved, not printed once per panic
    std::panic::set_hook(Box::new(|_| {}));
    let (mut n_idx, mut n_cli, mut crashes) = (0u64, 0u64, 0u64);
    let t0 = Instant::now();
    let limit = Duration::from_secs_f64(o.seconds.max(0.0));
    while t0.elapsed() < limit {
        for _ in 0..64 {
            if r.gen_bool(0.5) {
                let (images, mut b) = idx_seeds[r.gen_range(0..idx_seeds.len())].clone();
                mutate_bytes(&mut b, &mut r);
                let labels = idx_labels(&[1, 2, 3]);
                let res = catch_unwind(AssertUnwindSafe(|| idx_case(images, &b, &mut r, &work, &labels)));
                n_idx += 1;
                if res.is_err() {
                    crashes += 1;
                    std::fs::create_dir_all(&crash_dir).unwrap();
                    let p = crash_dir.join(format!("idx-{}-{crashes}.bin", if images { "images" } else { "labels" }));
                    std::fs::write(&p, &b).unwrap();
                    eprintln!("crash: IDX input saved to {}", p.display());
                }
            } else {
                let mut a = argvs[r.gen_range(0..argvs.len())].clone();
                mutate_argv(&mut a, &mut r);
                let res = catch_unwind(AssertUnwindSafe(|| cli_case(&a)));
                n_cli += 1;
                if res.is_err() {
                    crashes += 1;
                    std::fs::create_dir_all(&crash_dir).unwrap();
                    let p = crash_dir.join(format!("argv-{crashes}.txt"));
                    std::fs::write(&p, format!("{a:?}\n")).unwrap();
                    eprintln!("crash: arguments {a:?} saved to {}", p.display());
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    println!(
        "fuzz: {} executions in {:.1} s ({n_idx} IDX inputs from {} seeds, {n_real} of them from Fashion-MNIST, {} parsed as valid; {n_cli} argument lists, {} parsed, {} valid configurations), {crashes} crashes, peak RSS {:.1} MB, seed {}",
        n_idx + n_cli,
        t0.elapsed().as_secs_f64(),
        idx_seeds.len(),
        IDX_OK.load(Relaxed),
        ARGS_OK.load(Relaxed),
        CONFIG_OK.load(Relaxed),
        peak_rss_kb() as f64 / 1024.0,
        o.seed
    );
    if crashes == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
