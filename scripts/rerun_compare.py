#!/usr/bin/env python3
"""Execute every notebook twice and compare the text outputs of the two runs.

    rerun_compare.py [--against DIR] [NOTEBOOK ...]
    rerun_compare.py --compare DIR1 DIR2       # only compare two folders of executed notebooks

Each notebook runs in a fresh kernel into target/rerun/a/ and target/rerun/b/
(with --against DIR, the executed notebooks already in DIR, e.g. report/, are
the first run and only one more run is made). The text outputs (streams and
text/plain results, cell by cell) must be identical, except lines that report
times (seconds, ms, µs, "elapsed", "took"), which are dropped before comparing,
and two kinds of measured times that are not on a line of their own: in a cell
tagged `timings` (cell metadata) every number is masked, so only the words and
the table's shape are compared; and in CSV text whose header names a `seconds`
column, that column is masked.
Images are not compared (a PNG encoder may differ in bytes for the same picture);
their count per cell is. Exits non-zero and prints a diff on any difference.
Long: twice the time of `make notebooks`.
"""
import argparse
import difflib
import re
import sys
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_notebooks  # noqa: E402

ROOT = run_notebooks.ROOT
# a number followed by a time unit, or a word that announces a duration
TIME_LINE = re.compile(r"\d(\.\d+)?\s*(s|ms|µs|us|ns|min|sec|seconds?)\b|elapsed|took\b|per second|/s\b", re.I)


NUMBER = re.compile(r"[-+−]?\d+(\.\d+)?(e[-+]?\d+)?", re.I)


def mask_csv_seconds(lines):
    """Lines of CSV text with a `seconds` header: that column replaced by `#`."""
    out, col, width = [], None, 0
    for line in lines:
        # each println! is its own stream output, so a CSV row may carry the "[stdout] " tag
        tag = re.match(r"(\[\w+\]\s*)?\s*", line).group(0)
        fields = line[len(tag):].split(",")
        if not line[len(tag):].strip():
            pass  # the blank line between two stream outputs does not end the CSV text
        elif "seconds" in fields:
            col, width = fields.index("seconds"), len(fields)
        elif col is not None and len(fields) == width:
            fields[col] = "#"
            line = tag + ",".join(fields)
        else:
            col = None
        out.append(line)
    return out


def text_outputs(nb):
    """[(code cell number, normalised text lines, number of time lines dropped)] for every code cell."""
    out = []
    for i, c in enumerate(c for c in nb.cells if c.cell_type == "code"):
        timings = "timings" in c.get("metadata", {}).get("tags", [])
        parts = []
        for o in c.get("outputs", []):
            if o.output_type == "stream":
                parts.append(f"[{o.name}] " + o.text)
            elif o.output_type in ("execute_result", "display_data"):
                data = o.get("data", {})
                if "text/plain" in data and "image/png" not in data:
                    parts.append("[result] " + data["text/plain"])
                if "text/html" in data:
                    parts.append("[html] " + data["text/html"])
                if "image/png" in data:
                    parts.append("[image/png]")
            elif o.output_type == "error":
                parts.append(f"[error] {o.get('ename')}: {o.get('evalue')}")
        lines = mask_csv_seconds("\n".join(parts).splitlines())
        kept = [l for l in lines if not TIME_LINE.search(re.sub(r"<[^>]+>", " ", l))]
        if timings:
            kept = [NUMBER.sub("#", l) for l in kept]
        out.append((i, kept, len(lines) - len(kept)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--against", help="folder of executed notebooks to use as the first run")
    ap.add_argument("--compare", nargs=2, metavar="DIR", help="execute nothing: compare two folders of executed notebooks")
    ap.add_argument("notebooks", nargs="*")
    args = ap.parse_args()
    paths = [Path(p).resolve() for p in args.notebooks] or sorted((ROOT / "notebooks").glob("ps*.ipynb"))
    runs = [] if args.compare else ["b"] if args.against else ["a", "b"]
    dirs = {"a": Path(args.against).resolve() if args.against else ROOT / "target" / "rerun" / "a", "b": ROOT / "target" / "rerun" / "b"}
    if args.compare:
        dirs = {"a": Path(args.compare[0]).resolve(), "b": Path(args.compare[1]).resolve()}
    t0 = time.time()
    for r in runs:
        for p in paths:
            if run_notebooks.execute(p, dirs[r], build_root=ROOT / "target" / "evcxr") is None:
                print(f"rerun: run {r} of {p.name} failed", flush=True)
                return 1
    differ, dropped, compared = 0, 0, 0
    for p in paths:
        a = text_outputs(nbformat.read(dirs["a"] / p.name, as_version=4))
        b = text_outputs(nbformat.read(dirs["b"] / p.name, as_version=4))
        for (i, la, da), (_, lb, db) in zip(a, b):
            compared += len(la)
            dropped += da
            if la != lb:
                differ += 1
                print(f"rerun: {p.name}, code cell {i} differs:")
                sys.stdout.writelines(difflib.unified_diff([l + "\n" for l in la], [l + "\n" for l in lb], "run 1", "run 2", n=1))
        if len(a) != len(b):
            differ += 1
            print(f"rerun: {p.name}: {len(a)} vs {len(b)} code cells")
    print(f"rerun: {len(paths)} notebooks, {compared} text lines compared, {dropped} time lines ignored, "
          f"{differ} cells differ ({time.time() - t0:.0f} s)", flush=True)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
