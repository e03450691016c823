# The two commands: `make report` (main job) and `make test` (tests).
# Both run `make setup` first, which installs what is missing and skips the rest.
SHELL := /bin/bash
PY := .venv/bin/python
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: setup report rerun test notebooks lab lab-student bench bench-setup bench-cells clean student grade

setup:
	@scripts/setup.sh

## report: execute every notebook, write report/*.ipynb, report/report.pdf and report/report.html, check both
report: setup
	$(PY) scripts/run_notebooks.py --pdf --html
	$(PY) scripts/check_report.py

## rerun: execute every notebook twice and compare the text outputs (long: twice `make notebooks`)
rerun: setup
	$(PY) scripts/rerun_compare.py

## test: crate tests, clippy, the API docs (rustdoc, every item, warnings as errors), 30 s of fuzzing (src/bin/fuzz.rs), the runner's self-test, every notebook
## (strict: a failing assert, an Err, a warning on stderr or a figure shown as Debug text fails it) with the
## report they make (PDF and HTML, checked by check_report.py, as `make report`), then the grader tests (student edition scores 0, instructor version full points, one-question and faulty submissions)
test: setup
	cargo test
	cargo clippy --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --document-private-items
	cargo run --quiet --bin fuzz -- --seconds 30
	$(PY) scripts/run_notebooks.py --self-test
	$(PY) scripts/run_notebooks.py --pdf --html
	$(PY) scripts/check_report.py
	$(PY) scripts/test_grader.py

## notebooks: only execute the notebooks (no setup, no crate tests)
notebooks:
	$(PY) scripts/run_notebooks.py

## lab: JupyterLab with the Rust kernel on notebooks/
lab: setup
	.venv/bin/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

## lab-student: JupyterLab with the Rust kernel on student/ (after make student)
lab-student: setup
	@test -d student || { echo "make lab-student: student/ does not exist: run make student first"; exit 2; }
	.venv/bin/jupyter lab --notebook-dir=student $(if $(filter 0,$(shell id -u)),--allow-root,)

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

## student: write the student edition student/ps*.ipynb and student/README.md (stubs, hidden checks removed)
student: setup
	$(PY) scripts/grader.py student

## grade: grade a folder of submitted notebooks: make grade SUBMISSION=dir [GRADES=dir] (table, grades.csv, executed notebooks)
grade: setup
	@test -n "$(SUBMISSION)" || { echo "make grade: say which folder: make grade SUBMISSION=path/to/submitted/notebooks"; exit 2; }
	$(PY) scripts/grader.py grade "$(SUBMISSION)" $(if $(GRADES),--out "$(GRADES)",)

clean:
	rm -rf report target/evcxr target/evcxr-self-test target/report-build target/rerun
