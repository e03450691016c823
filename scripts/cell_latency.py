#!/usr/bin/env python3
"""Cell latency of the notebooks, measured with a real Jupyter client.

Starts the Rust kernel as JupyterLab does (jupyter_client, the kernel spec in
.venv/share/jupyter, so through scripts/evcxr-kernel; working directory
notebooks/; JPY_SESSION_NAME = the notebook's path; no EVCXR_TMPDIR), then:

  cold   empties the notebook's build folder target/evcxr/<notebook>/ first, runs
         every code cell in order, reruns each once, then times a trivial cell;
  warm   the same with the folder as it is (run after cold, or after make notebooks);
  lab    the folder as it is: the first cell, a trivial cell, then a kernel restart
         (as JupyterLab's Restart Kernel) and the first cell and a trivial cell again.

Each cell's wall time runs from the execute request to the kernel's idle status.
Compile time is the part of it during which cargo runs in the kernel's process
tree (sampled every 50 ms); the rest is the cell's own work plus evcxr's
overhead ("run"). Results are kept in target/cell_latency.json (one entry per
notebook and mode; a rerun replaces it) and, with --write, rendered into
BENCHMARKS.md between the cells:begin / cells:end markers.

    cell_latency.py [--mode cold|warm|lab ...] [--write] [NOTEBOOK ...]
"""
import argparse
import json
import os
import queue
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

import nbformat
import psutil
from jupyter_client.manager import KernelManager

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "target" / "cell_latency.json"
BENCH = ROOT / "BENCHMARKS.md"
BEGIN, END = "<!-- cells:begin -->", "<!-- cells:end -->"
TRIVIAL = "let trivial_cell = 1 + 1;"
CELL_TIMEOUT = 1800


def say(msg):
    print(msg, flush=True)


class CargoSampler:
    """Samples the kernel's process tree; sums the time during which a cargo process is alive."""

    def __init__(self, pid, period=0.05):
        self.pid, self.period = pid, period
        self.busy = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _cargo_alive(self):
        try:
            for p in psutil.Process(self.pid).children(recursive=True):
                try:
                    if p.name() in ("cargo", "mold"):
                        return True
                except psutil.Error:
                    continue
        except psutil.Error:
            pass
        return False

    def _run(self):
        last = time.perf_counter()
        while not self._stop.is_set():
            alive = self._cargo_alive()
            now = time.perf_counter()
            if alive:
                self.busy += now - last
            last = now
            self._stop.wait(self.period)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


class Kernel:
    def __init__(self, nb_path):
        env = {k: v for k, v in os.environ.items() if k not in ("EVCXR_TMPDIR", "EVCXR_CONFIG_DIR")}
        env["JPY_SESSION_NAME"] = str(nb_path)  # what jupyter_server passes: the notebook's absolute path
        self.km = KernelManager(kernel_name="rust")
        self.km.start_kernel(cwd=str(nb_path.parent), env=env)
        self._connect()

    def _connect(self):
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=300)

    def pid(self):
        return self.km.provisioner.process.pid

    def restart(self):
        self.kc.stop_channels()
        self.km.restart_kernel(now=False)
        self._connect()

    def run(self, code):
        """Executes code; returns (wall s, compile s, error text or None)."""
        t0 = time.perf_counter()
        with CargoSampler(self.pid()) as sampler:
            msg_id = self.kc.execute(code, store_history=True, allow_stdin=False)
            error = None
            while True:
                try:
                    msg = self.kc.get_iopub_msg(timeout=CELL_TIMEOUT)
                except queue.Empty:
                    error = "timeout"
                    break
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                kind, content = msg["msg_type"], msg["content"]
                if kind == "error":
                    error = (content.get("ename", "") + ": " + content.get("evalue", "")).strip()
                elif kind == "status" and content["execution_state"] == "idle":
                    break
            wall = time.perf_counter() - t0
        reply = self.kc.get_shell_msg(timeout=60)
        if reply["content"].get("status") != "ok" and error is None:
            error = reply["content"].get("status")
        return wall, min(sampler.busy, wall), error

    def shutdown(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)


def code_cells(nb_path):
    nb = nbformat.read(nb_path, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code"]


def first_line(src):
    lines = [l for l in src.strip().splitlines() if l.strip()]
    return lines[0][:48] if lines else ""


def measure(nb_path, mode, max_cells=None, rerun_max_run=None):
    stem = nb_path.stem
    folder = ROOT / "target" / "evcxr" / stem
    if mode == "cold":
        shutil.rmtree(folder, ignore_errors=True)
    cells = code_cells(nb_path)[:max_cells]
    say(f"bench: {nb_path.name} [{mode}] ({len(cells)} code cells, folder {folder.relative_to(ROOT)})")
    t0 = time.perf_counter()
    k = Kernel(nb_path)
    res = {"mode": mode, "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cells": []}
    try:
        res["startup_s"] = round(time.perf_counter() - t0, 2)
        res["load"] = os.getloadavg()[0]

        def timed(label, code):
            wall, comp, err = k.run(code)
            say(f"  {label:<28} {wall:7.2f} s (cargo {comp:6.2f} s){'  ERROR ' + err[:80] if err else ''}")
            return {"wall": round(wall, 3), "compile": round(comp, 3), "error": err}

        if mode == "lab":
            res["first"] = timed("first cell", cells[0])
            res["trivial"] = timed("trivial cell", TRIVIAL)
            t_restart = time.perf_counter()
            k.restart()
            res["restart_s"] = round(time.perf_counter() - t_restart, 2)
            res["first_after_restart"] = timed("first cell after restart", cells[0])
            res["restart_to_first_s"] = round(time.perf_counter() - t_restart, 2)
            res["trivial_after_restart"] = timed("trivial cell after restart", TRIVIAL)
        else:
            for i, src in enumerate(cells):
                r = timed(f"cell {i}", src)
                r["line"] = first_line(src)
                res["cells"].append(r)
                if r["error"]:
                    break
            for i, src in enumerate(cells[: len(res["cells"])]):
                c = res["cells"][i]
                if rerun_max_run is not None and c["wall"] - c["compile"] > rerun_max_run:
                    say(f"  rerun cell {i}: skipped (its run part took {c['wall'] - c['compile']:.1f} s)")
                    continue
                c["rerun"] = timed(f"rerun cell {i}", src)
            res["trivial"] = timed("trivial cell", TRIVIAL)
            res["trivial2"] = timed("trivial cell again", TRIVIAL)
    finally:
        k.shutdown()
    res["total_s"] = round(time.perf_counter() - t0, 1)
    res["load_end"] = os.getloadavg()[0]
    return res


def load():
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else {}


def fmt(r):
    if not r:
        return "–"
    s = f"{r['wall']:.1f} ({r['compile']:.1f})"
    return s + " error" if r.get("error") else s


def render(data):
    out = [
        BEGIN,
        "## Cell latency in the notebooks (scripts/cell_latency.py)",
        "",
        "Measured with `make bench-cells` (jupyter_client driving the kernel as JupyterLab does: the kernel",
        "spec in .venv/share/jupyter, so scripts/evcxr-kernel; working directory notebooks/; JPY_SESSION_NAME",
        "set). Each value is wall seconds from the execute request to the kernel's idle status, with the part",
        "during which cargo ran (compile and link) in brackets; the difference is the cell's own work plus",
        "evcxr's overhead. *cold*: empty build folder; *warm*: the folder of an earlier run; *rerun*: the same",
        "cell again right after the whole notebook ran; *lab*: the first cell after a kernel restart. The",
        "load average at each run's start and end is given: with other jobs on the 2 cores the same cell",
        "varies by ±30 % or more. A rerun shown as – was skipped",
        "(`--rerun-max-run S`: the cell's first run spent more than S s outside cargo, e.g. a training cell).",
        "",
    ]
    reruns = []
    for stem in sorted(data):
        modes = data[stem]
        out.append(f"### {stem}")
        out.append("")
        lines = []
        for mode in ("cold", "warm", "lab"):
            r = modes.get(mode)
            if not r:
                continue
            if mode == "lab":
                extra = ""
                if "restart_s" in r:
                    extra = (f" (kernel start {r['startup_s']:.1f} s, restart {r['restart_s']:.1f} s; "
                             f"load average {r.get('load', 0):.1f} → {r.get('load_end', 0):.1f})")
                lines.append(
                    f"- lab ({r['when']}): first cell {fmt(r['first'])} s, after a kernel restart "
                    f"{fmt(r['first_after_restart'])} s; the first variable-binding cell after it, `{TRIVIAL}`, "
                    f"{fmt(r['trivial_after_restart'])} s{extra}"
                )
            else:
                lines.append(
                    f"- {mode} ({r['when']}): kernel start {r['startup_s']:.1f} s, whole run {r['total_s']:.0f} s, "
                    f"trivial cell `{TRIVIAL}` after all cells {fmt(r.get('trivial2') or r.get('trivial'))} s"
                    + (f" (load average {r['load']:.1f} → {r['load_end']:.1f})" if "load" in r else "")
                )
        out.extend(lines)
        out.append("")
        runs = [m for m in ("cold", "warm") if m in modes]
        if runs:
            head = "| cell | first line | " + " | ".join(f"{m} s" for m in runs) + " | rerun s |"
            out += [head, "|" + "---|" * (3 + len(runs))]
            base = modes[runs[-1]]["cells"]
            for i, c in enumerate(base):
                vals = []
                for m in runs:
                    cs = modes[m]["cells"]
                    vals.append(fmt(cs[i]) if i < len(cs) else "–")
                rr = c.get("rerun")
                line = c["line"].replace("|", "\\|")
                out.append(f"| {i} | `{line}` | " + " | ".join(vals) + f" | {fmt(rr)} |")
                if rr and not rr.get("error") and i > 0 and rr["wall"] - rr["compile"] < 0.2:
                    reruns.append(rr["wall"])
            out.append("")
    if reruns:
        out.append(
            f"Reruns of cells (first cell excluded) whose run part is < 0.2 s, all notebooks: {len(reruns)} cells, "
            f"median {statistics.median(reruns):.2f} s, max {max(reruns):.2f} s."
        )
        out.append("")
    out.append(END)
    return "\n".join(out)


def write_bench(data):
    text = BENCH.read_text()
    section = render(data)
    if BEGIN in text and END in text:
        pre, rest = text.split(BEGIN, 1)
        post = rest.split(END, 1)[1]
        text = pre + section + post
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    BENCH.write_text(text)
    say(f"bench: wrote the cell-latency section of {BENCH.relative_to(ROOT)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", action="append", choices=["cold", "warm", "lab"],
                    help="repeatable; default: cold, warm, lab in that order")
    ap.add_argument("--write", action="store_true", help="render all stored results into BENCHMARKS.md")
    ap.add_argument("--cells", type=int, help="run only the first N code cells (a quick first-cell check)")
    ap.add_argument("--rerun-max-run", type=float, metavar="S",
                    help="rerun only cells whose first run spent at most S s outside cargo (skips long training cells)")
    ap.add_argument("notebooks", nargs="*", help="default: notebooks/ps*.ipynb")
    args = ap.parse_args()
    paths = [Path(p).resolve() for p in args.notebooks] or sorted((ROOT / "notebooks").glob("ps*.ipynb"))
    modes = args.mode or ["cold", "warm", "lab"]
    data = load()
    for p in paths:
        if not p.exists():
            raise SystemExit(f"bench: {p} does not exist")
        for mode in modes:
            data.setdefault(p.stem, {})[mode] = measure(p, mode, args.cells, args.rerun_max_run)
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            RESULTS.write_text(json.dumps(data, indent=1))
    if args.write:
        write_bench(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
