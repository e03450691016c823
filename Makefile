# The two commands: `make report` (main job) and `make test` (tests).
# Both run `make setup` first, which installs what is missing and skips the rest.
SHELL := /bin/bash
PY := .venv/bin/python
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: setup report rerun test notebooks lab bench bench-setup bench-cells clean

setup:
	@scripts/setup.sh

## report: execute every notebook, write report/*.ipynb, report/report.pdf and report/report.html, check both
report: setup
	$(PY) scripts/run_notebooks.py --pdf --html
	$(PY) scripts/check_report.py

## rerun: execute every notebook twice and compare the text outputs (long: twice `make notebooks`)
rerun: setup
	$(PY) scripts/rerun_compare.py

## test: crate tests, clippy, 30 s of fuzzing (src/bin/fuzz.rs), then every notebook (a failing assert in a cell fails the run)
test: setup
	cargo test
	cargo clippy --all-targets -- -D warnings
	cargo run --quiet --bin fuzz -- --seconds 30
	$(PY) scripts/run_notebooks.py --self-test
	$(PY) scripts/run_notebooks.py

## notebooks: only execute the notebooks (no setup, no crate tests)
notebooks:
	$(PY) scripts/run_notebooks.py

## lab: JupyterLab with the Rust kernel on notebooks/
lab: setup
	.venv/bin/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

## bench: the engine against numpy and candle, FMA peak, GEMMs, CLI end to end; rewrites BENCHMARKS.md (5-10 min)
bench: bench-setup
	cargo build --release --bin train
	cargo run --release --manifest-path bench/Cargo.toml

## bench-setup: what the benchmark needs beyond a Rust toolchain: Fashion-MNIST (scripts/setup.sh) and .venv-bench
bench-setup:
	@scripts/setup.sh --bench

## bench-cells: time every notebook cell with a real kernel client (cold, warm, lab), into BENCHMARKS.md
bench-cells: setup
	$(PY) scripts/cell_latency.py --write

clean:
	rm -rf report target/evcxr target/evcxr-self-test target/report-build target/rerun
