#!/usr/bin/env python3
"""Execute the notebooks headlessly with the evcxr Rust kernel.

A notebook is a test: the run fails on the first cell that does not compile,
panics (a failed assert! included), writes to stderr (evcxr reports an
`Err` returned with `?` only by printing it to stderr and carrying on), or
kills the kernel (an abort, a kill for memory): then the run names the
notebook, the cell and says "the kernel died". The failing notebook, the
cell's source and the real diagnostic are printed.

    run_notebooks.py [--pdf] [--html] [--out DIR] [NOTEBOOK ...]
    run_notebooks.py --from DIR --pdf --html   # report from executed notebooks
    run_notebooks.py --self-test               # the runner's own fault tests

Executed notebooks go to DIR (default report/). --pdf assembles them into one
document, DIR/report.pdf (cover page, contents, one chapter per problem set,
through nbconvert's LaTeX export and xelatex); --html writes DIR/report.html
(images and MathJax 3 embedded: one self-contained file). Every file
is written under a temporary name and renamed when complete, so an interrupted
run leaves no complete-looking file. scripts/check_report.py checks both.
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

    current_cell = None  # (index among all cells, cell) being executed: named when the kernel dies

    async def async_execute_cell(self, cell, cell_index, *args, **kwargs):
        self.current_cell = (cell_index, cell)
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


LAST_FAILURE = []  # the text of each failure reported, for --self-test


def report_failure(nb_path, index, cell, diagnostic, log=None):
    bar = "=" * 78
    log = log or ROOT / "target" / "evcxr" / nb_path.stem / "kernel.log"
    text = "\n".join([
        f"\n{bar}\nFAILED: {cell_label(nb_path, index, cell)}\n{bar}",
        "--- cell source ---",
        cell.source,
        "--- diagnostic ---",
        condense(ANSI.sub("", diagnostic)),
        f"(the kernel's own log: {rel(log)})",
        bar,
    ])
    LAST_FAILURE.append(text)
    say(text)


# evcxr runs the cells' code in a child process; when that process dies (abort,
# SIGKILL from the OOM killer, stack overflow) the cell's error says so.
CHILD_DIED = re.compile(r"(Child process terminated|Subprocess terminated|child process (died|exited))", re.I)


def kernel_died_message(detail):
    return (
        "the kernel died while running this cell (" + detail.strip() + "): the process running the "
        "notebook's code ended (an abort, a stack overflow, or a kill, e.g. by the out-of-memory "
        "killer), so every variable of the notebook was lost. Run the cell in JupyterLab to see it, "
        "and check its memory use."
    )


PANICKED = re.compile(r"panicked at [^\n]*\n([^\n]*)")


def died_diagnostic(text, detail):
    """A child process that died after a panic (evcxr aborts on a panic when
    preserve_vars_on_panic is off) is a failed assert! or unwrap: say that, with its
    message; otherwise it is a real death (abort, kill, stack overflow)."""
    m = PANICKED.search(ANSI.sub("", text))
    if m and "cannot unwind" not in m.group(1):
        where = ANSI.sub("", text)[m.start():].splitlines()[0]
        return f"the cell panicked: {m.group(1).strip()}\n({where}; the kernel then stopped: {detail.strip()})"
    return kernel_died_message(detail)


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


def write_atomic(path, data):
    """Write bytes or text to path through a temporary name in the same folder, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def execute(nb_path, out_dir, build_root=None):
    nb = nbformat.read(nb_path, as_version=4)
    stem = nb_path.stem
    # one build folder per notebook: concurrent kernels never share one
    tmp = (build_root or ROOT / "target" / "evcxr") / stem
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
    died = None
    log = tmp / "kernel.log"  # the kernel's own stderr: cargo's build progress, evcxr's messages
    try:
        with open(log, "w") as log_file:
            client.execute(stdout=log_file, stderr=log_file)
    except DeadKernelError as e:
        died = f"nbclient: {str(e).splitlines()[0] if str(e) else 'DeadKernelError'}"
    except (CellExecutionError, CellTimeoutError) as e:
        failed = str(e)
    executed = out_dir / nb_path.name
    failed_copy = out_dir / f"{stem}.FAILED.ipynb"  # never under the name of a complete notebook
    cells = code_cells(nb)
    code_index = {id(c): i for i, c in cells}

    def fail(i, c, diagnostic):
        write_atomic(failed_copy, nbformat.writes(nb))
        executed.unlink(missing_ok=True)
        report_failure(nb_path, i, c, diagnostic + f"\n(the notebook as far as it ran: {rel(failed_copy)})", log)
        return None

    if died is not None:
        cur = client.current_cell
        c = cur[1] if cur else nbformat.v4.new_code_cell("")
        return fail(code_index.get(id(c), -1), c, died_diagnostic(error_text(c), died))
    if failed is not None:
        # the failing cell is the last one that has outputs or an error
        for i, c in cells:
            if any(o.output_type == "error" for o in c.get("outputs", [])):
                text = error_text(c) or failed
                if CHILD_DIED.search(ANSI.sub("", text)):
                    m = CHILD_DIED.search(ANSI.sub("", text))
                    line = ANSI.sub("", text)[m.start():].splitlines()[0]
                    return fail(i, c, died_diagnostic(text, line))
                return fail(i, c, text)
        return fail(-1, nbformat.v4.new_code_cell(""), failed)
    for i, c in cells:
        if "allow-stderr" in c.metadata.get("tags", []):
            continue
        err = "".join(o.text for o in c.get("outputs", []) if o.output_type == "stream" and o.name == "stderr")
        if CHILD_DIED.search(ANSI.sub("", err)):
            return fail(i, c, died_diagnostic(err, ANSI.sub("", err).strip().splitlines()[-1]))
        if err.strip():
            return fail(i, c, "the cell wrote to stderr (an Err from `?`, a panic, or a warning):\n" + err)
        for o in c.get("outputs", []):
            plain = o.get("data", {}).get("text/plain", "") if o.output_type == "execute_result" else ""
            if re.match(r"(Figure\(\d+x\d+ PNG|Table \{)", plain) and "image/png" not in o.get("data", {}):
                return fail(
                    i, c,
                    "evcxr showed the Debug text of a Figure/Table instead of displaying it (it does so when a cell "
                    "defines a new variable and ends in `expr?`): end the cell with a variable, `let fig = ...?; fig`",
                )
    write_atomic(executed, nbformat.writes(nb))
    failed_copy.unlink(missing_ok=True)
    times = [(seconds(c) or 0.0, i, c) for i, c in cells]
    slow = max(times, key=lambda t: t[0]) if times else (0, 0, None)
    say(
        f"ok:  {nb_path.name}: {len(cells)} code cells in {time.time() - t0:.1f} s; "
        f"slowest: {cell_label(nb_path, slow[1], slow[2]) if slow[2] else '-'} {slow[0]:.1f} s"
    )
    return nb, executed


SELF_TEST_CASES = [
    # (name, cells, code cell that must be named, words the report must contain)
    ("abort", ["let x = 1;", "std::process::abort();", "println!(\"never {}\", x);"], 1),
    (
        "killed",
        [
            "let x = 1;",
            # SIGKILL to the kernel process itself (evcxr's parent of this code), as the OOM killer would
            "std::process::Command::new(\"kill\").args([\"-9\", &std::os::unix::process::parent_id().to_string()])"
            ".status().unwrap(); std::thread::sleep(std::time::Duration::from_secs(30));",
            "println!(\"never {}\", x);",
        ],
        1,
    ),
]


def self_test():
    """Throwaway notebooks whose kernel dies mid-run: each must fail, naming the
    notebook and the cell, with "the kernel died" (not a time-out or a traceback),
    and leave no complete-looking executed notebook."""
    import tempfile

    problems = []
    with tempfile.TemporaryDirectory(prefix="runner-self-test-") as d:
        d = Path(d)
        for name, sources, want_cell in SELF_TEST_CASES:
            nb = nbformat.v4.new_notebook()
            nb.metadata["kernelspec"] = {"name": "rust", "display_name": "Rust", "language": "rust"}
            nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
            path = d / f"self_test_{name}.ipynb"
            nbformat.write(nb, path)
            LAST_FAILURE.clear()
            t0 = time.time()
            res = execute(path, d / "out", build_root=ROOT / "target" / "evcxr-self-test")
            text = "\n".join(LAST_FAILURE)
            label = f"{path.name}, code cell {want_cell} ("
            checks = [
                (res is None, "the run did not fail"),
                ("the kernel died" in text, 'the report does not say "the kernel died"'),
                (label in text, f"the report does not name {label[:-2]}"),
                ("Traceback" not in text and "timed out" not in text.lower(), "the report is a traceback or a time-out"),
                (not (d / "out" / path.name).exists(), "a complete-looking executed notebook was written"),
            ]
            bad = [msg for ok, msg in checks if not ok]
            say(f"self-test {name}: {'ok' if not bad else 'FAILED: ' + '; '.join(bad)} ({time.time() - t0:.0f} s)")
            problems += [f"{name}: {m}" for m in bad]
    if problems:
        say("self-test: FAILED\n  " + "\n  ".join(problems))
        return 1
    say(f"self-test: {len(SELF_TEST_CASES)} dead-kernel cases reported as such")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pdf", action="store_true", help="also assemble the executed notebooks into DIR/report.pdf")
    ap.add_argument("--html", action="store_true", help="also write DIR/report.html (offline maths, embedded images)")
    ap.add_argument("--out", default=str(ROOT / "report"), help="output folder (default: report/)")
    ap.add_argument("--from", dest="from_dir", help="do not execute: build the report from the executed notebooks in this folder")
    ap.add_argument("--self-test", action="store_true", help="run the runner's own dead-kernel tests and exit")
    ap.add_argument("notebooks", nargs="*", help="notebooks to run (default: notebooks/ps*.ipynb)")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    paths = [Path(p).resolve() for p in args.notebooks] or sorted((ROOT / "notebooks").glob("ps*.ipynb"))
    if not paths:
        raise SystemExit("run: no notebooks/ps*.ipynb found")
    out_dir = Path(args.out).resolve()
    t0 = time.time()
    if not args.from_dir:
        # a report from an earlier run would look like this run's if this one fails or is interrupted
        for name in (["report.pdf"] if args.pdf else []) + (["report.html"] if args.html else []):
            (out_dir / name).unlink(missing_ok=True)
    executed = []
    for p in paths:
        if args.from_dir:
            e = Path(args.from_dir).resolve() / p.name
            if not e.exists():
                raise SystemExit(f"run: {e} does not exist (run the notebooks first)")
            executed.append((nbformat.read(e, as_version=4), e))
            continue
        if not p.exists():
            raise SystemExit(f"run: {p} does not exist")
        res = execute(p, out_dir)
        if res is None:
            say(f"run: FAILED after {time.time() - t0:.0f} s")
            return 1
        executed.append(res)
    if args.pdf or args.html:
        import report

        if args.pdf:
            report.build_pdf(executed, out_dir)
        if args.html:
            report.build_html(executed, out_dir)
    say(f"run: {len(paths)} notebooks {'passed' if not args.from_dir else 'read'} in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
