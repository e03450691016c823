#!/usr/bin/env bash
# One-time (idempotent) set-up for the notebooks: Debian packages for the PDF
# report and Fashion-MNIST, the evcxr Jupyter kernel at a pinned version, a
# Python venv with pinned Jupyter packages, and the Rust kernel registered
# inside that venv. Each step is skipped when already done; each prints its time.
# `setup.sh --bench` (what `make bench` runs) installs only what the benchmark needs:
# python3-venv, Fashion-MNIST, and .venv-bench from bench/requirements.txt (the numpy peer).
set -euo pipefail
BENCH_ONLY=0
[ "${1:-}" = "--bench" ] && BENCH_ONLY=1

EVCXR_VERSION=0.22.0
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
# The Debian packages the PDF report needs (LaTeX route of nbconvert), plus the data set.
APT_PACKAGES=(texlive-xetex texlive-fonts-recommended texlive-plain-generic pandoc fonts-dejavu-core python3-venv)
# The report's checks (scripts/check_report.py): pdftotext/pdftoppm, and a headless browser for report.html.
APT_PACKAGES+=(poppler-utils chromium)
[ $BENCH_ONLY = 1 ] && APT_PACKAGES=(python3-venv)
FMNIST_FILES=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"

die() { echo "setup: error: $*" >&2; exit 1; }
step_start() { STEP_T0=$(date +%s); echo "setup: $*"; }
step_end() { echo "setup:   done in $(( $(date +%s) - STEP_T0 )) s${1:+ ($1)}"; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "not root and sudo is missing: run as root, or install sudo, to install Debian packages"
  SUDO=(sudo)
fi

command -v cargo >/dev/null || die "cargo is missing: install Rust with rustup (https://rustup.rs), then rerun"
command -v python3 >/dev/null || die "python3 is missing: apt-get install python3"

# --- Debian packages ---------------------------------------------------------
step_start "Debian packages: ${APT_PACKAGES[*]}"
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
have_fmnist() {
  local d
  for d in "${FASHION_MNIST_DIR:-}" "$ROOT/data/fashion-mnist" /usr/share/datasets/fashion-mnist; do
    [ -n "$d" ] || continue
    local ok=1 f
    for f in "${FMNIST_FILES[@]}"; do [ -e "$d/$f.gz" ] || [ -e "$d/$f" ] || ok=0; done
    [ $ok = 1 ] && return 0
  done
  return 1
}
have_fmnist || missing+=(dataset-fashion-mnist)
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "apt-get is missing; install by hand: ${missing[*]}"
  echo "setup:   installing ${missing[*]}"
  "${SUDO[@]}" apt-get update -q >/dev/null || die "apt-get update failed (network or sources.list)"
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
  step_end "installed"
else
  step_end "all present"
fi

# make_venv DIR REQUIREMENTS: a venv with the pinned packages, rebuilt only when the file changed
make_venv() {
  local dir=$1 req=$2 stamp want
  step_start "Python venv ${dir#$ROOT/} from ${req#$ROOT/}"
  stamp="$dir/.requirements.sha256"
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ -x "$dir/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    step_end "up to date"
    return
  fi
  python3 -m venv "$dir" || die "python3 -m venv failed: apt-get install python3-venv"
  "$dir/bin/pip" install -q --disable-pip-version-check -r "$req" || die "pip install -r ${req#$ROOT/} failed (network, or PyPI unreachable)"
  echo "$want" > "$stamp"
  step_end "installed"
}

# --- the benchmark's numpy peer (only with --bench) ----------------------------
if [ $BENCH_ONLY = 1 ]; then
  make_venv "$ROOT/.venv-bench" "$ROOT/bench/requirements.txt"
  echo "setup: ready for make bench"
  exit 0
fi

# --- evcxr_jupyter -----------------------------------------------------------
step_start "evcxr_jupyter $EVCXR_VERSION"
if cargo install --list | grep -q "^evcxr_jupyter v$EVCXR_VERSION:"; then
  step_end "already installed"
else
  echo "setup:   building with cargo install --locked (about 10-16 min on 2 cores)"
  cargo install evcxr_jupyter --version "$EVCXR_VERSION" --locked || die "cargo install evcxr_jupyter failed"
  step_end "built"
fi
EVCXR_BIN=$(command -v evcxr_jupyter) || die "evcxr_jupyter is not on PATH after install (add ~/.cargo/bin to PATH)"

# --- Python venv ---------------------------------------------------------------
make_venv "$VENV" "$ROOT/requirements.txt"

# --- Rust kernel inside the venv --------------------------------------------------
step_start "Rust kernel spec in .venv/share/jupyter"
# evcxr_jupyter --install writes the spec (and logos); its argv then starts
# scripts/evcxr-kernel, which picks the notebook's build folder target/evcxr/<notebook>/
# (from JPY_SESSION_NAME, which JupyterLab sets) and execs evcxr_jupyter.
spec="$VENV/share/jupyter/kernels/rust/kernel.json"
LAUNCHER="$ROOT/scripts/evcxr-kernel"
if [ -f "$spec" ] && grep -q "\"$LAUNCHER\"" "$spec"; then
  step_end "already registered"
else
  JUPYTER_PATH="$VENV/share/jupyter" "$EVCXR_BIN" --install >/dev/null || die "evcxr_jupyter --install failed"
  "$VENV/bin/python" - "$spec" "$LAUNCHER" <<'PY' || die "could not point $spec at scripts/evcxr-kernel"
import json, sys
path, launcher = sys.argv[1], sys.argv[2]
spec = json.load(open(path))
spec["argv"][0] = launcher
json.dump(spec, open(path, "w"), indent=2)
PY
  step_end "registered (launcher scripts/evcxr-kernel)"
fi
echo "setup: ready"
