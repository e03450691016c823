#!/usr/bin/env python3
"""Execute the notebooks headlessly with the evcxr Rust kernel.

A notebook is a test: the run fails on the first cell that does not compile,
panics (a failed assert! included), or writes to stderr (evcxr reports an
`Err` returned with `?` only by printing it to stderr and carrying on).
The failing notebook, the cell's source and the real diagnostic are printed.

    run_notebooks.py [--pdf] [--out DIR] [NOTEBOOK ...]

Executed notebooks go to DIR (default report/); with --pdf each one is also
exported to PDF through nbconvert's LaTeX route (xelatex, offline), the PDFs
are merged into DIR/report.pdf, and each PDF is checked to hold at least as
many images as its notebook has image/png outputs.
"""
import argparse
import asyncio
import os
import queue
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
CELL_TIMEOUT = 1800  # s; the first cell builds the crate and its dependencies cold
STARTUP_TIMEOUT = 300  # s


class DrainingClient(NotebookClient):
    """evcxr forwards the kernel's stderr on its own thread, so the message of an
    `Err` returned with `?` can arrive after the cell's idle status, where nbclient
    would drop it. After each cell, wait briefly and collect late stderr into it."""

    async def async_execute_cell(self, cell, cell_index, *args, **kwargs):
        cell = await super().async_execute_cell(cell, cell_index, *args, **kwargs)
        if cell.cell_type != "code":
            return cell
        await asyncio.sleep(0.25)
        while True:
            try:
                msg = await self.kc.iopub_channel.get_msg(timeout=0.05)
            except queue.Empty:
                break
            if msg["msg_type"] == "stream" and msg["content"].get("name") == "stderr":
                cell.outputs.append(nbformat.v4.new_output("stream", name="stderr", text=msg["content"]["text"]))
        return cell


BACKTRACE_FRAME = re.compile(r"^\s+(\d+:\s|at\s|0x)")


def condense(text):
    """Drop blank lines, backtrace frames and repeats of an `Error:` block already shown."""
    keep = [l for l in text.splitlines() if l.strip() and not BACKTRACE_FRAME.match(l)]
    blocks, seen = [], set()
    for line in keep:
        if line.startswith("Error:") or not blocks:
            blocks.append([])
        blocks[-1].append(line)
    out = []
    for b in blocks:
        key = "\n".join(b)
        if key not in seen:
            seen.add(key)
            out.append(key)
    return "\n".join(out)


def say(msg):
    print(msg, flush=True)


def rel(p):
    """p relative to the repository when inside it, else absolute."""
    p = Path(p)
    return p.relative_to(ROOT) if p.is_relative_to(ROOT) else p


def cell_label(nb_path, index, cell):
    first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
    return f"{nb_path.name}, code cell {index} (`{first[:60]}`)"


def report_failure(nb_path, index, cell, diagnostic):
    bar = "=" * 78
    say(f"\n{bar}\nFAILED: {cell_label(nb_path, index, cell)}\n{bar}")
    say("--- cell source ---")
    say(cell.source)
    say("--- diagnostic ---")
    say(condense(ANSI.sub("", diagnostic)))
    say(f"(the kernel's own log: {rel(ROOT / 'target' / 'evcxr' / nb_path.stem / 'kernel.log')})")
    say(bar)


def error_text(cell):
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "error":
            parts.append(f"{out.get('ename', '')}: {out.get('evalue', '')}")
            parts.extend(out.get("traceback", []))
        elif out.output_type == "stream" and out.name == "stderr":
            parts.append(out.text)
    return "\n".join(p for p in parts if p.strip())


def code_cells(nb):
    return [(i, c) for i, c in enumerate(c for c in nb.cells if c.cell_type == "code")]


def seconds(cell):
    ex = cell.metadata.get("execution", {})
    t0, t1 = ex.get("iopub.execute_input"), ex.get("shell.execute_reply")
    if not (t0 and t1):
        return None
    from datetime import datetime

    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
    return (parse(t1) - parse(t0)).total_seconds()


def execute(nb_path, out_dir):
    nb = nbformat.read(nb_path, as_version=4)
    stem = nb_path.stem
    tmp = ROOT / "target" / "evcxr" / stem  # one build folder per notebook: concurrent kernels never share one
    tmp.mkdir(parents=True, exist_ok=True)
    os.environ["EVCXR_TMPDIR"] = str(tmp)
    os.environ["EVCXR_CONFIG_DIR"] = str(ROOT / "scripts" / "evcxr-headless")
    client = DrainingClient(
        nb,
        kernel_name="rust",
        timeout=CELL_TIMEOUT,
        startup_timeout=STARTUP_TIMEOUT,
        allow_errors=False,
        record_timing=True,
        resources={"metadata": {"path": str(nb_path.parent)}},
    )
    say(f"run: {rel(nb_path)} (build folder {rel(tmp)})")
    t0 = time.time()
    failed = None
    log = tmp / "kernel.log"  # the kernel's own stderr: cargo's build progress, evcxr's messages
    try:
        with open(log, "w") as log_file:
            client.execute(stdout=log_file, stderr=log_file)
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
        failed = str(e)
    out_dir.mkdir(parents=True, exist_ok=True)
    executed = out_dir / nb_path.name
    nbformat.write(nb, executed)
    cells = code_cells(nb)
    if failed is not None:
        # the failing cell is the last one that has outputs or an error
        for i, c in cells:
            if any(o.output_type == "error" for o in c.get("outputs", [])):
                report_failure(nb_path, i, c, error_text(c) or failed)
                return None
        report_failure(nb_path, -1, nbformat.v4.new_code_cell(""), failed)
        return None
    for i, c in cells:
        if "allow-stderr" in c.metadata.get("tags", []):
            continue
        err = "".join(o.text for o in c.get("outputs", []) if o.output_type == "stream" and o.name == "stderr")
        if err.strip():
            report_failure(nb_path, i, c, "the cell wrote to stderr (an Err from `?`, a panic, or a warning):\n" + err)
            return None
        for o in c.get("outputs", []):
            plain = o.get("data", {}).get("text/plain", "") if o.output_type == "execute_result" else ""
            if re.match(r"(Figure\(\d+x\d+ PNG|Table \{)", plain) and "image/png" not in o.get("data", {}):
                report_failure(
                    nb_path, i, c,
                    "evcxr showed the Debug text of a Figure/Table instead of displaying it (it does so when a cell "
                    "defines a new variable and ends in `expr?`): end the cell with a variable, `let fig = ...?; fig`",
                )
                return None
    times = [(seconds(c) or 0.0, i, c) for i, c in cells]
    slow = max(times, key=lambda t: t[0]) if times else (0, 0, None)
    say(
        f"ok:  {nb_path.name}: {len(cells)} code cells in {time.time() - t0:.1f} s; "
        f"slowest: {cell_label(nb_path, slow[1], slow[2]) if slow[2] else '-'} {slow[0]:.1f} s"
    )
    return nb, executed


def count_png_outputs(nb):
    return sum(
        1
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.output_type in ("display_data", "execute_result") and "image/png" in o.get("data", {})
    )


def to_pdf(nb, executed, out_dir):
    from nbconvert import PDFExporter
    from pypdf import PdfReader

    exporter = PDFExporter(extra_template_paths=[str(ROOT / "scripts" / "latex")], template_file="backprop.tex.j2")
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"path": str(executed.parent), "name": executed.stem}})
    pdf = out_dir / (executed.stem + ".pdf")
    pdf.write_bytes(body)
    reader = PdfReader(pdf)
    n_img = sum(len(p.images) for p in reader.pages)
    want = count_png_outputs(nb)
    if n_img < want:
        raise SystemExit(f"pdf: {pdf.name} holds {n_img} images but the notebook has {want} image outputs")
    say(f"pdf: {rel(pdf)}: {len(reader.pages)} pages, {n_img} images (notebook has {want})")
    return pdf


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pdf", action="store_true", help="also export PDFs and merge them into report.pdf")
    ap.add_argument("--out", default=str(ROOT / "report"), help="output folder (default: report/)")
    ap.add_argument("notebooks", nargs="*", help="notebooks to run (default: notebooks/ps*.ipynb)")
    args = ap.parse_args()
    paths = [Path(p).resolve() for p in args.notebooks] or sorted((ROOT / "notebooks").glob("ps*.ipynb"))
    if not paths:
        raise SystemExit("run: no notebooks/ps*.ipynb found")
    out_dir = Path(args.out).resolve()
    t0 = time.time()
    pdfs = []
    for p in paths:
        if not p.exists():
            raise SystemExit(f"run: {p} does not exist")
        res = execute(p, out_dir)
        if res is None:
            say(f"run: FAILED after {time.time() - t0:.0f} s")
            return 1
        if args.pdf:
            pdfs.append(to_pdf(res[0], res[1], out_dir))
    if args.pdf:
        from pypdf import PdfWriter

        writer = PdfWriter()
        for p in pdfs:
            writer.append(str(p))
        merged = out_dir / "report.pdf"
        with open(merged, "wb") as f:
            writer.write(f)
        say(f"pdf: {rel(merged)} merges {len(pdfs)} notebooks")
    say(f"run: {len(paths)} notebooks passed in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
