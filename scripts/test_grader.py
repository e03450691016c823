#!/usr/bin/env python3
"""Tests of the student edition and the grader (part of `make test`).

1. `grader.py student` output: no hidden check, no solution body, no output, stubs compile.
2. The untouched student edition of every notebook scores 0, every check "not implemented",
   no cell without a question fails.
3. The instructor notebooks score full points, no cell fails (this is also `make test`'s
   run of every notebook).
4. ps4 with exactly one question (q4) pasted back scores exactly q4's points.
5. ps4 with q1 not compiling, q4 giving a wrong number, q3 and q7 pasted back: q1 and q4
   lose their points with the compiler's and the assert's message; q3 and q7 keep theirs.

    test_grader.py [--quick]   # --quick: only ps4 for 2. and 3.
"""
import argparse
import shutil
import sys
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import grader as g  # noqa: E402

ROOT = g.ROOT
WORK = ROOT / "target" / "grader-test"
PS4 = "ps4_inf264_gradient_descent_by_hand.ipynb"
problems = []


def expect(ok, what):
    g.rn.say(f"  {'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        problems.append(what)


def paste(student_nb, instructor_nb, qid, edit=None):
    """Replace the student's region of qid by the instructor's solution (edited by edit(text))."""
    sol = None
    for c in instructor_nb.cells:
        if c.cell_type == "code":
            for s in g.parse_cell(c.source):
                if s[0] == "solution" and s[1] == qid:
                    sol = s[3]
    assert sol is not None, qid
    if edit:
        new = edit(sol)
        assert new != sol, f"the edit of {qid} changed nothing"
        sol = new
    for c in student_nb.cells:
        if c.cell_type != "code" or f"// BEGIN SOLUTION {qid}" not in c.source:
            continue
        lines = c.source.split("\n")
        b = next(i for i, l in enumerate(lines) if l.startswith(f"// BEGIN SOLUTION {qid}"))
        e = next(i for i in range(b, len(lines)) if lines[i].startswith("// END SOLUTION"))
        c.source = "\n".join(lines[: b + 1] + [sol] + lines[e:])
        return
    raise AssertionError(f"no region {qid} in the student edition")


def through_last_question(nb):
    """The notebook up to its last cell that carries a question (a solution region, a check or a
    derivation tagged `solution`). The cells after it grade nothing; in ps2 they are the long
    training runs (practicals 7-10, most of its 10 min under the grader), so the tests of the grader
    leave them out. `make grade` itself runs every cell of a submission."""
    def is_question(c):
        if c.cell_type == "code":
            return any(g.ANY_MARKER.match(line) for line in c.source.split("\n"))
        return g.SOLUTION_TAG in c.metadata.get("tags", [])
    last = max(i for i, c in enumerate(nb.cells) if is_question(c))
    nb.cells = nb.cells[:last + 1]
    return nb


def grade(folder, names):
    sub = WORK / folder
    shutil.rmtree(sub, ignore_errors=True)
    sub.mkdir(parents=True)
    return sub


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="only ps4 for the whole-edition tests")
    args = ap.parse_args()
    t0 = time.time()
    shutil.rmtree(WORK, ignore_errors=True)
    student = WORK / "student"
    rows = g.make_student(student)
    names = [n for n, _ in rows]
    if args.quick:
        names = [PS4]

    g.rn.say("\n1. the student edition")
    for name, pts in rows:
        inst = nbformat.read(g.INSTRUCTOR_DIR / name, as_version=4)
        stud = nbformat.read(student / name, as_version=4)
        text = "\n".join(c.source for c in stud.cells)
        expect("HIDDEN CHECK" not in text, f"{name}: no hidden check left")
        bodies = [s for c in inst.cells if c.cell_type == "code" for s in g.parse_cell(c.source)]
        # every line of a solution (fn bodies and typed lets alike) except the lines its stub
        # keeps on purpose (comments outside fn bodies, fn signatures, also those written over
        # several lines), and except lines the instructor notebook also has outside its solutions
        outside = {l.strip() for s in bodies if s[0] != "solution" for l in s[-1].split("\n")}
        outside |= {l.strip() for c in inst.cells if c.cell_type != "code" for l in c.source.split("\n")}
        shown = {l.strip() for l in text.split("\n")}
        kept = {}
        for s in bodies:
            if s[0] == "solution":
                kept.setdefault(s[1], set()).update(l.strip() for l in g.stub_region(s[1], s[2], s[3], name).split("\n"))
        leaked = [s[1] for s in bodies if s[0] == "solution" for line in s[3].split("\n")
                  if len(line.strip()) > 25
                  and line.strip() in shown and line.strip() not in outside and line.strip() not in kept[s[1]]]
        expect(not leaked, f"{name}: no solution body line left ({sorted(set(leaked))})")
        hidden = [s[4] for s in bodies if s[0] == "check" and s[3]]
        expect(not any(h.strip() and h.strip() in text for h in hidden), f"{name}: no hidden check's code left")
        expect(all(not c.get("outputs") for c in stud.cells if c.cell_type == "code"), f"{name}: outputs cleared")
        tagged = [c for c in inst.cells if "solution" in c.metadata.get("tags", [])]
        prompts = [c for c in stud.cells if "answer" in c.metadata.get("tags", [])]
        expect(len(prompts) == len(tagged) and all("Your derivation" in c.source for c in prompts),
               f"{name}: {len(tagged)} derivation(s) replaced by a prompt")
        expect(sum(pts.values()) > 0, f"{name}: {len(pts)} questions, {sum(pts.values())} points")

    g.rn.say("\n1b. bad markers are refused with a message naming the fix")
    for src, want in [
        ("// BEGIN SOLUTION ps9-q1: f\nfn f() -> i32 { 1 }", "has no `// END SOLUTION`"),
        ("// CHECK ps9-q1 (two points)\nassert!(true);", "malformed marker"),
        ("// BEGIN SOLUTION ps9-q1: x\nlet x = 1;\n// END SOLUTION", "give the let a type"),
    ]:
        try:
            for seg in g.parse_cell(src, "test cell"):
                if seg[0] == "solution":
                    g.stub_region(seg[1], seg[2], seg[3], "test cell")
            got = "no error"
        except g.MarkerError as e:
            got = str(e)
        expect(want in got, f"{src.splitlines()[0]!r}: {got}")
    stub = g.stub_region("ps9-q1", "f", "/// doc\nfn f(a: &[f64]) -> Result<Vec<f64>> {\n    let v = vec![{ 1.0 }];\n    Ok(v)\n}\nlet y: f64 = 2.0;", "t")
    expect(stub == '/// doc\n#[allow(unused_variables, unused_mut)]\nfn f(a: &[f64]) -> Result<Vec<f64>> {\n    todo!("ps9-q1: f")\n}\nlet y: f64 = todo!("ps9-q1: f");',
           f"stub keeps the doc comment and signature: {stub!r}")

    braces = g.stub_region("ps9-q1", 'h_{l+1} "x"', "fn f() -> i32 { 1 }", "t")
    expect('todo!("ps9-q1: h_{{l+1}} \\"x\\"")' in braces, f"braces and quotes of the message escaped for todo!(): {braces!r}")

    g.rn.say("\n2. the untouched student edition scores 0, every check not implemented")
    sub = grade("sub-student", names)
    for n in names:
        nbformat.write(through_last_question(nbformat.read(student / n, as_version=4)), sub / n)
    res = g.grade_dir(sub, WORK / "grades-student")
    for n in names:
        r = res[n]
        expect(all(v["points"] == 0 for v in r.values()), f"{n}: 0 points")
        expect(all(v["messages"] and v["messages"][0].startswith("not implemented") for v in r.values()),
               f"{n}: every question 'not implemented' ({[v['messages'][:1] for v in r.values()]})")

    g.rn.say("\n3. the instructor version scores full points")
    sub = grade("sub-instructor", names)
    for n in names:
        nbformat.write(through_last_question(nbformat.read(g.INSTRUCTOR_DIR / n, as_version=4)), sub / n)
    notes_before = []
    orig = g.print_table

    def spy(name, results, notes, secs):
        notes_before.extend(f"{name}: {x}" for x in notes)
        return orig(name, results, notes, secs)

    g.print_table = spy
    res = g.grade_dir(sub, WORK / "grades-instructor")
    g.print_table = orig
    for n in names:
        r = res[n]
        expect(all(v["points"] == v["max"] and v["passed"] == v["checks"] for v in r.values()),
               f"{n}: full points ({sum(v['points'] for v in r.values())}/{sum(v['max'] for v in r.values())})")
    expect(not notes_before, f"no cell of the instructor notebooks failed ({notes_before})")

    inst4 = nbformat.read(g.INSTRUCTOR_DIR / PS4, as_version=4)
    g.rn.say("\n4. ps4 with only q4 pasted back scores exactly q4")
    nb = nbformat.read(student / PS4, as_version=4)
    paste(nb, inst4, "ps4-q4")
    sub = grade("sub-one-question", [PS4])
    nbformat.write(nb, sub / PS4)
    r = g.grade_dir(sub, WORK / "grades-one-question")[PS4]
    expect(r["ps4-q4"]["points"] == r["ps4-q4"]["max"] == 3, f"q4: {r['ps4-q4']['points']}/3")
    expect(all(v["points"] == 0 and v["messages"][0].startswith("not implemented") for q, v in r.items() if q != "ps4-q4"),
           "every other question 0, not implemented")

    g.rn.say("\n5. ps4: q1 does not compile, q4 gives a wrong number, q3 and q7 correct")
    nb = nbformat.read(student / PS4, as_version=4)
    paste(nb, inst4, "ps4-q1", lambda s: s.replace("fn flatten(arrays: &[ArrayD<f64>]) -> Array1<f64> {",
                                                    "fn flatten(arrays: &[ArrayD<f64>]) -> Array1<f64> {\n    let oops: usize = 1.5;"))
    paste(nb, inst4, "ps4-q3")
    paste(nb, inst4, "ps4-q4", lambda s: s.replace("Ok((total / n, grad / n))", "Ok((total, grad / n))"))
    paste(nb, inst4, "ps4-q7")
    sub = grade("sub-mixed", [PS4])
    nbformat.write(nb, sub / PS4)
    r = g.grade_dir(sub, WORK / "grades-mixed")[PS4]
    m1 = r["ps4-q1"]["messages"][0] if r["ps4-q1"]["messages"] else ""
    m4 = r["ps4-q4"]["messages"][0] if r["ps4-q4"]["messages"] else ""
    expect(r["ps4-q1"]["points"] == 0 and m1.startswith("does not compile: mismatched types"), f"q1: 0, compiler message ({m1})")
    expect(r["ps4-q4"]["points"] == 0 and "assert_close failed: l0 = 6.5" in m4, f"q4: 0, the assert's message ({m4})")
    expect(r["ps4-q3"]["points"] == 2, f"q3 keeps 2/2 ({r['ps4-q3']})")
    expect(r["ps4-q7"]["points"] == 2, f"q7 keeps 2/2 after q4's failure ({r['ps4-q7']})")

    g.rn.say(f"\ngrader tests: {'FAILED: ' + '; '.join(problems) if problems else 'all passed'} ({time.time() - t0:.0f} s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
