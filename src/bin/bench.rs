//! `cargo run --release --bin bench` still works: the benchmark lives in its own crate,
//! `bench/` (its peers, candle and the gemm crate, must not enter this crate's build), and
//! this launcher builds the trainer it times end to end, then runs that crate with the same
//! arguments. Prefer `make bench`, which also installs the numpy peer's pinned venv.

use std::path::Path;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let steps: [Vec<String>; 2] = [
        vec!["build".into(), "--release".into(), "--bin".into(), "train".into()],
        ["run", "--release", "--manifest-path"].iter().map(|s| s.to_string()).chain([root.join("bench/Cargo.toml").display().to_string(), "--".into()]).chain(std::env::args().skip(1)).collect(),
    ];
    for args in steps {
        match Command::new(&cargo).args(&args).current_dir(root).status() {
            Ok(s) if s.success() => {}
            Ok(_) => return ExitCode::FAILURE,
            Err(e) => {
                eprintln!("bench: error: cannot run {} {} ({e}); fix: put cargo on PATH", cargo.to_string_lossy(), args.join(" "));
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
