#!/usr/bin/env python3
"""Student edition and autograder for the problem-set notebooks.

    grader.py student [--out student/]            # write the student edition
    grader.py grade SUBMISSION_DIR [--out DIR]    # grade a folder of submitted notebooks

Markers (in the instructor notebooks, notebooks/ps*.ipynb; README "For teachers"):

  // BEGIN SOLUTION ps4-q3: what the student writes
  ...solution code: `fn` items and `let name: Type = ...;` lines...
  // END SOLUTION
      The student edition keeps both marker lines and replaces each `fn` body
      by `todo!("ps4-q3: what the student writes")` (signature and doc comment
      kept, so later cells compile) and each typed `let` by `= todo!(...)`.

  // CHECK ps4-q3 (2 points)          a graded check, shown to the student
  // HIDDEN CHECK ps4-q3 (1 point)    a graded check the student edition removes
  ...assert lines...
  // END CHECK                        (optional when the check ends the cell)

  Markdown cell tagged `solution`     a worked derivation: the student edition
                                      keeps its heading line and asks for the derivation.

Grading runs the submission cell by cell with the Rust kernel (evcxr, with
preserve_vars_on_panic on, so a panic loses only that cell's new variables).
Every check, visible or hidden, is taken from the instructor notebook and run
as its own execution (a failed assert does not stop the next check), after the
submitted cell that carries the same marker lines (matched by question id, not
position). When a question's cell fails (does not compile, panics, a check
fails), the instructor's code of that cell is run in its place, so the later
questions are graded on correct inputs: one question's failure costs only that
question. Later checks of a question that already failed are not run.
"""
import argparse
import csv
import os
import re
import sys
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_notebooks as rn  # noqa: E402  (kernel client, ANSI stripping, atomic writes)

ROOT = rn.ROOT
INSTRUCTOR_DIR = ROOT / "notebooks"
CONFIG_DIR = ROOT / "scripts" / "evcxr-grader"

BEGIN = re.compile(r"^\s*// BEGIN SOLUTION (?P<q>ps\d+-q[\w.]+)(?::\s*(?P<what>.*?))?\s*$")
END = re.compile(r"^\s*// END SOLUTION\s*$")
CHECK = re.compile(r"^\s*// (?P<hidden>HIDDEN )?CHECK (?P<q>ps\d+-q[\w.]+) \((?P<pts>\d+) points?\)\s*$")
END_CHECK = re.compile(r"^\s*// END CHECK\s*$")
ANY_MARKER = re.compile(r"^\s*// (BEGIN SOLUTION|END SOLUTION|(HIDDEN )?CHECK|END CHECK)\b")
SOLUTION_TAG = "solution"
PROMPT_TAG = "answer"


class MarkerError(Exception):
    pass


class CannotGrade(Exception):
    """The notebook could not be graded at all (no crate, no kernel): make grade exits non-zero."""


# --- parsing ------------------------------------------------------------------

def parse_cell(src, where="cell"):
    """Split a code cell into segments, in order:
    ("code", text), ("solution", qid, what, text), ("check", qid, points, hidden, text)."""
    segs, buf, mode, cur = [], [], "code", None
    lines = src.split("\n")

    def flush():
        nonlocal buf
        if mode == "code" and buf:
            segs.append(("code", "\n".join(buf)))
        elif mode == "solution":
            segs.append(("solution", cur[0], cur[1], "\n".join(buf)))
        elif mode == "check":
            segs.append(("check", cur[0], cur[1], cur[2], "\n".join(buf)))
        buf = []

    for n, line in enumerate(lines, 1):
        m_b, m_e, m_c, m_ec = BEGIN.match(line), END.match(line), CHECK.match(line), END_CHECK.match(line)
        if m_b:
            if mode == "solution":
                raise MarkerError(f"{where}, line {n}: BEGIN SOLUTION inside a solution region: add `// END SOLUTION` before it")
            flush()
            mode, cur = "solution", (m_b["q"], m_b["what"] or "write this part")
        elif m_e:
            if mode != "solution":
                raise MarkerError(f"{where}, line {n}: END SOLUTION without BEGIN SOLUTION")
            flush()
            mode = "code"
        elif m_c:
            if mode == "solution":
                raise MarkerError(f"{where}, line {n}: CHECK inside a solution region: end the region first")
            flush()
            mode, cur = "check", (m_c["q"], int(m_c["pts"]), bool(m_c["hidden"]))
        elif m_ec:
            if mode != "check":
                raise MarkerError(f"{where}, line {n}: END CHECK without CHECK")
            flush()
            mode = "code"
        else:
            if ANY_MARKER.match(line):
                raise MarkerError(f"{where}, line {n}: malformed marker {line.strip()!r}: write "
                                  "`// BEGIN SOLUTION psN-qM: text`, `// CHECK psN-qM (2 points)` or `// HIDDEN CHECK psN-qM (1 point)`")
            buf.append(line)
    if mode == "solution":
        raise MarkerError(f"{where}: BEGIN SOLUTION {cur[0]} has no `// END SOLUTION`")
    flush()
    return segs


def split_slots(segs):
    """(code chunks, check slots), len(chunks) == len(slots) + 1: a slot is a run of checks with only
    blank lines between them; a chunk is the code (solutions included) between two slots."""
    chunks, slots, cur_code, cur_slot = [], [], [], None
    for s in segs:
        if s[0] == "check":
            if cur_slot is None:
                chunks.append("\n".join(cur_code))
                cur_code, cur_slot = [], []
                slots.append(cur_slot)
            cur_slot.append(s)
        else:
            if cur_slot is not None and not s[-1].strip():
                continue
            cur_slot = None
            cur_code.append(s[-1])
    chunks.append("\n".join(cur_code))
    return chunks, slots


def marker_key(src):
    """The visible marker lines of a cell (BEGIN SOLUTION and CHECK): how a submitted cell is matched."""
    out = []
    for line in src.split("\n"):
        m_b, m_c = BEGIN.match(line), CHECK.match(line)
        if m_b:
            out.append(f"BEGIN SOLUTION {m_b['q']}")
        elif m_c and not m_c["hidden"]:
            out.append(f"CHECK {m_c['q']}")
    return tuple(out)


def strip_comment(line):
    i = line.find("//")
    return line if i < 0 else line[:i]


def stub_region(qid, what, text, where):
    """fn items -> signature + todo!(); `let name: Type = ...;` -> `= todo!(...)`; comments kept."""
    # a Rust string literal that todo!() reads as a format string: escape \\, " and the braces
    msg = f"{qid}: {what}".replace("\\", "\\\\").replace('"', '\\"').replace("{", "{{").replace("}", "}}")
    lines, out, i = text.split("\n"), [], 0
    while i < len(lines):
        line = lines[i]
        s = line.strip()
        if not s or s.startswith("//"):
            out.append(line)
            i += 1
            continue
        if re.match(r"^(pub\s+)?fn\s", s):
            indent = line[: len(line) - len(line.lstrip())]
            sig, depth_p, j, body_start = [], 0, i, None
            while j < len(lines):
                code = strip_comment(lines[j])
                for k, ch in enumerate(code):
                    if ch in "(<[":
                        depth_p += 1
                    elif ch in ")>]" and not (ch == ">" and k > 0 and code[k - 1] == "-"):
                        depth_p -= 1
                    elif ch == "{" and depth_p == 0:
                        body_start = (j, k)
                        break
                if body_start:
                    break
                sig.append(lines[j])
                j += 1
            if not body_start:
                raise MarkerError(f"{where}: cannot find the body of `{s[:60]}` in solution {qid}")
            bj, bk = body_start
            sig.append(lines[bj][:bk].rstrip())
            depth, j, k = 0, bj, bk
            while j < len(lines):
                code = strip_comment(lines[j])
                rng = range(k, len(code)) if j == bj else range(len(code))
                done = False
                for kk in rng:
                    if code[kk] == "{":
                        depth += 1
                    elif code[kk] == "}":
                        depth -= 1
                        if depth == 0:
                            done = True
                            break
                if done:
                    break
                j += 1
            if j >= len(lines):
                raise MarkerError(f"{where}: unbalanced braces in `{s[:60]}` (solution {qid})")
            out.append(f"{indent}#[allow(unused_variables, unused_mut)]")
            out.extend(sig[:-1])
            out.append(sig[-1] + " {")
            out.append(f'{indent}    todo!("{msg}")')
            out.append(f"{indent}}}")
            i = j + 1
            continue
        m = re.match(r"^(\s*let\s+(mut\s+)?\w+\s*:\s*[^=]+=)\s*(.*);\s*(//.*)?$", line)
        if m:
            out.append(f'{m.group(1)} todo!("{msg}");')
            i += 1
            continue
        raise MarkerError(f"{where}: solution {qid} line {s[:60]!r} cannot be stubbed: a solution region may hold only "
                          "`fn` items and one-line `let name: Type = ...;` statements (give the let a type, or move the code into a fn)")
    return "\n".join(out)


def student_source(src, where):
    out = []
    for seg in parse_cell(src, where):
        if seg[0] == "code":
            out.append(seg[1])
        elif seg[0] == "solution":
            _, qid, what, text = seg
            out.append(f"// BEGIN SOLUTION {qid}: {what}\n// your code: replace each todo!() below (keep the signatures)")
            out.append(stub_region(qid, what, text, where))
            out.append("// END SOLUTION")
        else:
            _, qid, pts, hidden, text = seg
            if not hidden:
                out.append(f"// CHECK {qid} ({pts} point{'s' if pts != 1 else ''})\n{text}\n// END CHECK")
    return "\n".join(out).rstrip("\n")


def notebook_questions(nb, name):
    """{qid: max points} over the notebook's checks; raises MarkerError on inconsistent markers."""
    pts, has_solution, keys = {}, set(), {}
    for i, c in enumerate(nb.cells):
        if c.cell_type != "code":
            continue
        segs = parse_cell(c.source, f"{name}, cell {i}")
        for s in segs:
            if s[0] == "solution":
                has_solution.add(s[1])
            elif s[0] == "check":
                pts[s[1]] = pts.get(s[1], 0) + s[2]
        if any(s[0] == "check" for s in segs):
            key = marker_key(c.source)
            if not key:
                raise MarkerError(f"{name}, cell {i}: a cell with only hidden checks cannot be found in a submission: "
                                  "give it a visible CHECK or the BEGIN SOLUTION of its question")
            if key in keys:
                raise MarkerError(f"{name}, cells {keys[key]} and {i} carry the same markers {key}: give one of them another check")
            keys[key] = i
    for q in pts:
        if q not in has_solution:
            raise MarkerError(f"{name}: checks of {q} but no `// BEGIN SOLUTION {q}`: the student edition would pass them for free")
    return pts


# --- student edition ------------------------------------------------------------

PROMPT = ("*Your derivation ({q}):* replace this text with your own derivation in Markdown and LaTeX "
          "(`$...$`). It is not auto-graded.")


def make_student(out_dir):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for path in sorted(INSTRUCTOR_DIR.glob("ps*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        ps = path.name.split("_")[0]
        pts = notebook_questions(nb, path.name)
        for i, c in enumerate(nb.cells):
            if c.cell_type == "code":
                c.source = student_source(c.source, f"{path.name}, cell {i}")
                c.outputs = []
                c.execution_count = None
                c.metadata.pop("execution", None)
            elif SOLUTION_TAG in c.metadata.get("tags", []):
                first = c.source.split("\n", 1)[0]
                head = first + "\n\n" if first.startswith("#") else ""
                c.source = head + PROMPT.format(q=ps)
                c.metadata["tags"] = [t for t in c.metadata["tags"] if t != SOLUTION_TAG] + [PROMPT_TAG]
        rn.write_atomic(out_dir / path.name, nbformat.writes(nb))
        rows.append((path.name, pts))
        rn.say(f"student: {rel(out_dir / path.name)}: {len(pts)} question{'s' if len(pts) != 1 else ''}, {sum(pts.values())} points")
    rn.write_atomic(out_dir / "README.md", student_readme(rows))
    rn.say(f"student: {rel(out_dir / 'README.md')}")
    return rows


def rel(p):
    return rn.rel(p)


def student_readme(rows):
    lines = [
        "# Problem sets: student edition",
        "",
        "Written by `make student` from the worked notebooks; do not edit by hand.",
        "",
        "## Open and run",
        "",
        "1. In the repository root: `make setup` (once), then `make lab-student` opens JupyterLab on this folder.",
        "   (The notebooks load the `backprop` crate from `..`, the repository root: keep this folder inside it.)",
        "2. Pick the kernel **Rust**. The first cell compiles the `backprop` crate (a few minutes the first time).",
        "3. Work from top to bottom. Each question you answer sits between `// BEGIN SOLUTION psN-qM: ...` and",
        "   `// END SOLUTION`: replace every `todo!()` by your code, keep the signatures, and keep the two marker",
        "   lines (the grader finds your answer by them). A cell that calls a `todo!()` stops with",
        "   `not yet implemented: psN-qM: ...`: that question is not done yet.",
        "4. Cells marked `// CHECK psN-qM (n points)` are part of the grading: run them to see whether your answer",
        "   passes. The grader also runs checks you do not see, and it runs its own copy of every check, so",
        "   editing a check does not change your grade.",
        "5. Markdown cells that say *Your derivation* ask for a derivation: write it there (not auto-graded).",
        "",
        "## Hand in",
        "",
        "Hand in the `.ipynb` files (file names may change, the `psN_` prefix must stay). Outputs need not be cleared.",
        "",
        "## Questions and points",
        "",
        "| notebook | question | points |",
        "|---|---|---|",
    ]
    for name, pts in rows:
        for q, p in pts.items():
            lines.append(f"| {name} | {q} | {p} |")
    lines.append("")
    return "\n".join(lines)


# --- grading ----------------------------------------------------------------------

PREAMBLE = r'''// grader: a panic hook that reports on stdout, and the wrapper every check runs in
/// A panic's message on one line ("" when it carries none).
fn __grader_panic_message(p: &(dyn std::any::Any + Send)) -> String {
    let m = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
    m.replace('\n', " | ")
}
std::panic::set_hook(Box::new(|info| println!("@@GRADER PANIC {}", __grader_panic_message(info.payload()))));
/// A check's verdict, shown as the check cell's result: evcxr sends a result with the cell's end,
/// while printed lines stream and can arrive after the cell is idle, where they are lost.
struct __GraderVerdict(String);
impl __GraderVerdict {
    fn evcxr_display(&self) {
        println!("EVCXR_BEGIN_CONTENT text/plain\n{}\nEVCXR_END_CONTENT", self.0);
    }
}
fn __grader_check(id: &str, f: impl FnOnce() -> std::result::Result<(), Box<dyn std::error::Error>>) -> __GraderVerdict {
    __GraderVerdict(match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(())) => format!("@@GRADER PASS {id}"),
        Ok(Err(e)) => format!("@@GRADER FAIL {id} error: {}", e.to_string().replace('\n', " | ")),
        Err(p) => match __grader_panic_message(&*p) {
            m if m.is_empty() => format!("@@GRADER FAIL {id} panicked"),
            m => format!("@@GRADER FAIL {id} {m}"),
        },
    })
}'''

UNUSED = re.compile(r"^(unused|variable does not need|value assigned to)")


def outcome(cell):
    """(ok, message, stdout) of an executed cell."""
    stdout = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")
    stderr = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stderr")
    errs = [o for o in cell.outputs if o.output_type == "error"]
    real = [o for o in errs if not UNUSED.match(o.get("evalue", ""))] or errs
    if real:
        o = real[0]
        tb = rn.ANSI.sub("", "\n".join(o.get("traceback", []))).splitlines()
        detail = ""
        for k, line in enumerate(tb):
            m = re.match(r"^[\s│]*\^+\s+(.*)$", line)
            if m and k > 0:
                detail = f": {m.group(1).strip()} (at `{tb[k - 1].strip().lstrip('0123456789 │').strip()[:80]}`)"
                break
        return False, f"does not compile: {o.get('evalue', '')}{detail}", stdout
    panics = [l[len("@@GRADER PANIC "):] for l in stdout.splitlines() if l.startswith("@@GRADER PANIC ")]
    if panics:
        return False, "panicked: " + panics[0], stdout
    err = rn.ANSI.sub("", stderr).strip()
    if err and not err.startswith("evcxr"):
        return False, "error: " + " | ".join(l for l in err.splitlines() if l.strip())[:300], stdout
    return True, "", stdout


def nice_message(msg):
    m = re.search(r"not yet implemented: (.*)", msg)
    return f"not implemented ({m.group(1)})" if m else msg


class Grader:
    def __init__(self, nb_path, instructor_path, exec_dir):
        self.nb_path, self.instructor_path, self.exec_dir = nb_path, instructor_path, exec_dir
        self.ran = []  # executed cells, in order, for the executed notebook
        self.notes = []  # failures of cells without markers

    def run(self, source, label):
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["grader"] = label
        self.ran.append(cell)
        self.client.nb.cells.append(cell)
        try:
            self.client.execute_cell(cell, len(self.client.nb.cells) - 1)
        except rn.CellTimeoutError:
            return False, f"timed out after {rn.CELL_TIMEOUT} s (an endless loop?)", ""
        return outcome(cell)

    def run_check(self, q, pts, hidden, text):
        """One check in its own execution: (passed, failure message)."""
        # no `;` after the call: its verdict is the cell's result (see PREAMBLE)
        wrapped = (f'__grader_check("{q}", || -> std::result::Result<(), Box<dyn std::error::Error>> {{\n'
                   f"{text}\n    Ok(())\n}})")
        cok, cmsg, out = self.run(wrapped, f"{'hidden ' if hidden else ''}check {q} ({pts} point{'s' if pts != 1 else ''})")
        out += "".join("\n" + o.data.get("text/plain", "") for o in self.ran[-1].outputs
                       if o.output_type in ("execute_result", "display_data"))
        if cok and f"@@GRADER PASS {q}" in out:
            return True, ""
        # a failing verdict always carries its message (the error's or the panic's, see PREAMBLE)
        fail = [l for l in out.splitlines() if l.startswith(f"@@GRADER FAIL {q} ")]
        if fail:
            return False, fail[0][len(f"@@GRADER FAIL {q} "):]
        if not cok:
            return False, "check " + cmsg
        return False, "the check gave no result"

    def grade(self):
        inst = nbformat.read(self.instructor_path, as_version=4)
        name = self.instructor_path.name
        max_pts = notebook_questions(inst, name)
        # instructor cells by marker key: their checks and their code for the fallback
        by_key = {}
        for i, c in enumerate(inst.cells):
            if c.cell_type == "code" and marker_key(c.source):
                segs = parse_cell(c.source, f"{name}, cell {i}")
                by_key[marker_key(c.source)] = {
                    "checks": [s for s in segs if s[0] == "check"],
                    "slots": split_slots(segs)[1],
                    "code": "\n".join(s[-1] for s in segs if s[0] in ("code", "solution")),
                    "solutions": {s[1] for s in segs if s[0] == "solution"},
                }
        results = {q: {"points": 0, "max": p, "passed": 0, "checks": 0, "messages": []} for q, p in max_pts.items()}
        failed_q = {}
        sub = nbformat.read(self.nb_path, as_version=4)
        stem = self.nb_path.stem
        build = ROOT / "target" / "evcxr" / self.instructor_path.stem
        build.mkdir(parents=True, exist_ok=True)
        os.environ["EVCXR_TMPDIR"] = str(build)
        os.environ["EVCXR_CONFIG_DIR"] = str(CONFIG_DIR)
        nb = nbformat.v4.new_notebook()
        nb.metadata = sub.metadata
        self.client = rn.DrainingClient(nb, kernel_name="rust", timeout=rn.CELL_TIMEOUT, startup_timeout=rn.STARTUP_TIMEOUT,
                                        allow_errors=True, record_timing=True, interrupt_on_timeout=True,
                                        # the notebooks' `:dep backprop = { path = ".." }` is relative to
                                        # the kernel's folder: run it in notebooks/, wherever the submission is
                                        resources={"metadata": {"path": str(INSTRUCTOR_DIR)}})
        seen_keys = set()
        dead = None

        def record(q, pts, ok, msg):
            r = results[q]
            r["checks"] += 1
            if ok:
                r["passed"] += 1
                r["points"] += pts
            elif msg:
                r["messages"].append(msg)

        t0 = time.time()
        log = build / "grader-kernel.log"
        with open(log, "w") as log_file:
            try:
                with self.client.setup_kernel(stdout=log_file, stderr=log_file):
                    first = True
                    for i, c in enumerate(sub.cells):
                        if c.cell_type != "code":
                            self.ran.append(c)
                            continue
                        key = marker_key(c.source)
                        try:
                            segs = parse_cell(c.source, f"{self.nb_path.name}, cell {i}")
                        except MarkerError as e:
                            segs, key = [("code", c.source)], ()
                            self.notes.append(f"cell {i}: {e}; graded as a cell without markers")
                        inst_cell = by_key.get(key)
                        if inst_cell is None or key in seen_keys:
                            ok, msg, _ = self.run(c.source, f"cell {i}")
                            if not ok:
                                self.notes.append(f"cell {i} (no question): {msg}")
                                if first:
                                    raise CannotGrade(f"{self.nb_path.name}: the first code cell (the crate) failed: {msg}")
                            if first:
                                self.run(PREAMBLE, "grader preamble")
                                first = False
                            continue
                        seen_keys.add(key)
                        # the cell's code up to each visible check slot, then the instructor's checks of
                        # that slot (hidden ones included); checks run where they stand in the instructor
                        # cell, since later code of the cell may move or shadow what they use
                        chunks, sslots = split_slots(segs)
                        islots = inst_cell["slots"]
                        visible = [sl for sl in islots if any(not c[3] for c in sl)]
                        hidden_only = [sl for sl in islots if all(c[3] for c in sl)]
                        plan = []
                        for k, chunk in enumerate(chunks):
                            plan.append(("code", chunk))
                            if k < len(sslots) and k < len(visible):
                                plan.append(("slot", visible[k]))
                        plan += [("slot", sl) for sl in visible[len(sslots):] + hidden_only]
                        ok, msg, cell_failed = True, "", False
                        for kind, item in plan:
                            if kind == "code":
                                if not item.strip() or not ok:
                                    continue
                                ok, msg, _ = self.run(item, f"cell {i}: {', '.join(key)}")
                                cell_failed = cell_failed or not ok
                                continue
                            for _, q, pts, hidden, text in item:
                                if q in failed_q:
                                    record(q, pts, False, None)
                                    continue
                                if not ok:
                                    record(q, pts, False, nice_message(msg))
                                    failed_q[q] = msg
                                    continue
                                passed, m = self.run_check(q, pts, hidden, text)
                                record(q, pts, passed, None if passed else nice_message(m))
                                if not passed:
                                    failed_q[q] = m
                                    cell_failed = True
                        if cell_failed and inst_cell["solutions"]:
                            fok, fmsg, _ = self.run(inst_cell["code"], f"fallback: the instructor's cell for {', '.join(key)}")
                            if not fok:
                                self.notes.append(f"cell {i}: the instructor's code of this cell failed too: {fmsg}")
            except rn.DeadKernelError as e:
                dead = str(e).splitlines()[0] if str(e) else "DeadKernelError"
        for key, ic in by_key.items():
            if key not in seen_keys:
                for _, q, pts, hidden, text in ic["checks"]:
                    record(q, pts, False, f"no submitted cell carries the markers {' / '.join(key)} (keep the marker lines)")
        if dead:
            self.notes.append(f"the kernel died ({dead}); the checks after it count as failed")
            for q, r in results.items():
                if r["checks"] == 0:
                    r["messages"].append("not run: the kernel died")
        nb.cells = self.ran
        out = self.exec_dir / self.nb_path.name
        rn.write_atomic(out, nbformat.writes(nb))
        return results, self.notes, time.time() - t0, out


def print_table(name, results, notes, secs):
    rows = [("question", "points", "passed", "message")]
    for q, r in results.items():
        msg = r["messages"][0] if r["messages"] else ""
        rows.append((q, f"{r['points']}/{r['max']}", f"{r['passed']}/{max(r['checks'], 1) if r['checks'] else 0} checks", msg[:110]))
    w = [max(len(r[k]) for r in rows) for k in range(3)]
    rn.say(f"\n{name} ({secs:.0f} s)")
    for r in rows:
        rn.say(f"  {r[0]:<{w[0]}}  {r[1]:>{w[1]}}  {r[2]:<{w[2]}}  {r[3]}")
    tot, mx = sum(r["points"] for r in results.values()), sum(r["max"] for r in results.values())
    rn.say(f"  {'total':<{w[0]}}  {f'{tot}/{mx}':>{w[1]}}")
    for n in notes:
        rn.say(f"  note: {n}")
    return tot, mx


def instructor_for(path):
    ps = path.name.split("_")[0]
    found = sorted(INSTRUCTOR_DIR.glob(f"{ps}_*.ipynb"))
    return found[0] if found else None


def grade_dir(sub_dir, out_dir):
    """Grade every psN_*.ipynb in sub_dir; returns {notebook: results} (notebooks not submitted score 0)."""
    sub_dir, out_dir = Path(sub_dir), Path(out_dir)
    if not sub_dir.is_dir():
        raise SystemExit(f"grade: {sub_dir} is not a folder: pass SUBMISSION=<folder with the submitted .ipynb files>")
    kernel = ROOT / ".venv" / "share" / "jupyter" / "kernels" / "rust" / "kernel.json"
    if not kernel.exists():
        raise SystemExit(f"grade: the Rust kernel is not registered ({rel(kernel)} is missing): run make setup")
    subs = sorted(sub_dir.glob("ps*.ipynb"))
    if not subs:
        raise SystemExit(f"grade: no ps*.ipynb in {sub_dir}: the grader needs the notebooks with their psN_ prefix")
    for p in subs:
        try:
            nbformat.read(p, as_version=4)
        except Exception as e:  # noqa: BLE001 - any parse failure means we cannot grade
            raise SystemExit(f"grade: cannot read {p}: {e} (hand in the .ipynb file as saved by Jupyter)")
    (out_dir / "executed").mkdir(parents=True, exist_ok=True)
    all_rows, grand, grand_max, graded = [], 0, 0, {}
    done_inst = set()
    for p in subs:
        inst = instructor_for(p)
        if inst is None:
            rn.say(f"grade: {p.name}: no instructor notebook {p.name.split('_')[0]}_*.ipynb in notebooks/; skipped")
            continue
        if inst in done_inst:
            rn.say(f"grade: {p.name}: a second submission for {inst.name.split('_')[0]}; skipped")
            continue
        done_inst.add(inst)
        rn.say(f"grade: {rel(p)} against {rel(inst)}")
        results, notes, secs, executed = Grader(p, inst, out_dir / "executed").grade()
        tot, mx = print_table(p.name, results, notes, secs)
        grand, grand_max = grand + tot, grand_max + mx
        graded[p.name] = results
        for q, r in results.items():
            all_rows.append([p.name, q, r["points"], r["max"], r["passed"], r["checks"], " | ".join(r["messages"][:1])])
    for inst in sorted(INSTRUCTOR_DIR.glob("ps*.ipynb")):
        if inst not in done_inst:
            pts = notebook_questions(nbformat.read(inst, as_version=4), inst.name)
            rn.say(f"\n{inst.name.split('_')[0]}: not submitted: 0/{sum(pts.values())}")
            grand_max += sum(pts.values())
            for q, p in pts.items():
                all_rows.append([inst.name, q, 0, p, 0, 0, "notebook not submitted"])
    rn.say(f"\nTOTAL {grand}/{grand_max}")
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["notebook", "question", "points", "max_points", "checks_passed", "checks", "message"])
    w.writerows(all_rows)
    rn.write_atomic(out_dir / "grades.csv", buf.getvalue())
    rn.say(f"grade: {rel(out_dir / 'grades.csv')}, executed notebooks in {rel(out_dir / 'executed')}/")
    return graded


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sp = ap.add_subparsers(dest="cmd", required=True)
    s = sp.add_parser("student", help="write the student edition")
    s.add_argument("--out", default=str(ROOT / "student"))
    g = sp.add_parser("grade", help="grade a folder of submitted notebooks")
    g.add_argument("submission")
    g.add_argument("--out", help="where grades.csv and executed/ go (default: grades/<submission folder name>/)")
    args = ap.parse_args()
    try:
        if args.cmd == "student":
            make_student(args.out)
        else:
            sub = Path(args.submission).resolve()
            grade_dir(sub, Path(args.out).resolve() if args.out else ROOT / "grades" / sub.name)
    except (MarkerError, CannotGrade) as e:
        raise SystemExit(f"grader: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
