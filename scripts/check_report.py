#!/usr/bin/env python3
"""Check report/report.pdf and report/report.html against the executed notebooks.

    check_report.py [--out DIR] [--no-html] [--screenshots DIR] [--wrapped]

PDF (pypdf, and pdftotext/pdftoppm from poppler-utils):
  - an outline (bookmarks) with one top-level entry per notebook, and a contents page;
  - as many images as the executed notebooks have PNG outputs;
  - no page more than half empty, except the last page of a chapter and the front matter;
  - no raw LaTeX ($, \\frac, \\(, \\begin{) and no replacement characters in the text;
  - reported, not failed: how many code and output lines wrap at the margin (the lines
    that continue on a line starting with fvextra's mark ↪ in pdftotext -layout), each
    named by notebook with --wrapped.
HTML (headless chromium, --dump-dom after the page's scripts ran):
  - no console errors and no failed loads;
  - as many <img> as PNG outputs, every one embedded (data: URI);
  - every equation MathJax found typeset (one <mjx-container> each, no
    MathJax error), none left as raw $...$ text in a Markdown cell.
Exits non-zero, naming each failed check.
"""
import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import chapter_title, count_png_outputs  # noqa: E402

RAW_LATEX = re.compile(r"\$|\\frac|\\\(|\\\[|\\begin\{|\\mathbf|\\sum|\ufffd")


def say(msg):
    print(msg, flush=True)


def executed_notebooks(out_dir):
    import nbformat

    paths = sorted(p for p in out_dir.glob("ps*.ipynb") if ".FAILED" not in p.name)
    return [(nbformat.read(p, as_version=4), p) for p in paths]


def need(tool, package):
    if shutil.which(tool) is None:
        raise SystemExit(f"check: {tool} is missing: apt-get install {package} (make setup installs it)")


def page_fill(pdf, page_no, tmp):
    """Fraction of the text block's height that holds something (from the top), at 25 dpi."""
    base = tmp / f"p{page_no}"
    subprocess.run(["pdftoppm", "-r", "25", "-gray", "-f", str(page_no), "-l", str(page_no), "-singlefile", str(pdf), str(base)], check=True)
    data = (base.with_suffix(".pgm")).read_bytes()
    # binary PGM: P5\n<w> <h>\n<max>\n<bytes>
    parts = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    w, h = int(parts.group(1)), int(parts.group(2))
    px = data[parts.end():]
    # text block of report.py's geometry: top 2.4 cm + header, bottom 2.6 cm of 29.7 cm
    top, bottom = int(h * 3.0 / 29.7), int(h * (29.7 - 2.6) / 29.7)
    last = top
    for y in range(top, bottom):
        row = px[y * w:(y + 1) * w]
        if min(row) < 160:
            last = y
    return (last - top) / (bottom - top)


WRAP_MARK = "\u21aa"  # ↪: fvextra's breaksymbolleft (scripts/latex/backprop.tex.j2) starts each continuation
NO_SPACE = re.compile(r"[\s\u2423]")  # whitespace, and the visible space ␣ a break at a space shows


def source_lines(notebooks):
    """(notebook name, kind, line) of every code line (grader markers left out, as report.py does)
    and every stream-output line of the executed notebooks."""
    from report import GRADER_MARKER

    out = []
    for nb, path in notebooks:
        for c in nb.cells:
            if c.cell_type != "code":
                continue
            out += [(path.name, "code", l) for l in c.source.split("\n") if not GRADER_MARKER.match(l)]
            for o in c.get("outputs", []):
                if o.output_type == "stream":
                    out += [(path.name, "output", l) for l in o.text.split("\n")]
    return out


def wrapped_lines(text, notebooks):
    """The lines of listings that wrap at the margin in the PDF: from pdftotext -layout text, each
    line followed by continuation lines (starting with ↪) is one wrapped line. Returns
    [(notebook, kind, source line, number of continuation lines)], the notebook and kind found by
    matching the joined text (spaces ignored) against the notebooks' code and output lines."""
    lines = text.splitlines()
    groups = []
    for i, l in enumerate(lines):
        if l.strip().startswith(WRAP_MARK):
            if groups and groups[-1][1] == i - 1:
                groups[-1][1] = i
                groups[-1][2].append(l)
            elif i > 0:
                groups.append([i - 1, i, [lines[i - 1], l]])
    index = {}
    for name, kind, l in source_lines(notebooks):
        key = NO_SPACE.sub("", l)
        if key:
            index.setdefault(key, (name, kind, l))
    found = []
    for _, _, parts in groups:
        key = NO_SPACE.sub("", "".join(p.replace(WRAP_MARK, "") for p in parts))
        hit = index.get(key) or next((v for k, v in index.items() if len(k) > 20 and (k in key or key in k)), None)
        name, kind, src = hit or ("?", "?", " ".join(p.strip() for p in parts))
        found.append((name, kind, src, len(parts) - 1))
    return found


def check_pdf(out_dir, notebooks, problems, list_wrapped=False):
    from pypdf import PdfReader

    need("pdftotext", "poppler-utils")
    pdf = out_dir / "report.pdf"
    if not pdf.exists():
        problems.append(f"{pdf} does not exist")
        return
    reader = PdfReader(pdf)
    n = len(reader.pages)
    # outline: one top-level entry per notebook, pointing at increasing pages
    top = [e for e in reader.outline if not isinstance(e, list)]
    starts = [reader.get_destination_page_number(e) for e in top]
    chapters = [(e.title, s) for e, s in zip(top, starts)]
    nb_titles = [chapter_title(nb) for nb, _ in notebooks]
    if len(chapters) != len(notebooks) or any(t not in e for (e, _), t in zip(chapters, nb_titles)):
        problems.append(f"pdf outline has {[t for t, _ in chapters]}, expected one chapter per notebook {nb_titles}")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")
    wrapped = wrapped_lines(text, notebooks)
    if list_wrapped:
        for name, kind, src, extra in wrapped:
            say(f"wrapped ({kind}, {len(src.rstrip())} chars, {extra + 1} PDF lines) {name}: {src.strip()}")
    if not any("Contents" in p for p in pages[:4]):
        problems.append("pdf: no table of contents in the first pages")
    # images
    n_img = sum(len(p.images) for p in reader.pages)
    want = sum(count_png_outputs(nb) for nb, _ in notebooks)
    if n_img != want:
        problems.append(f"pdf holds {n_img} images, the executed notebooks have {want} PNG outputs")
    # raw LaTeX, replacement characters
    raw = []
    for i, p in enumerate(pages, 1):
        for line in p.splitlines():
            if RAW_LATEX.search(line):
                raw.append(f"p. {i}: {line.strip()[:100]}")
    if raw:
        problems.append(f"pdf text has raw LaTeX or replacement characters on {len(raw)} lines:\n    " + "\n    ".join(raw[:15]))
    # half-empty pages
    chapter_last = {s - 1 for s in starts[1:]} | {n - 1}
    first_chapter = starts[0] if starts else 0
    half = []
    fills = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n):
            if i < first_chapter or i in chapter_last:
                continue
            f = page_fill(pdf, i + 1, Path(tmp))
            fills.append(f)
            if f < 0.5:
                half.append(f"p. {i + 1} ({f:.0%} filled)")
    if half:
        problems.append("pdf pages more than half empty (not a chapter's last): " + ", ".join(half))
    say(f"check: pdf {n} pages, {len(chapters)} chapters starting on pages {[s + 1 for s in starts]}, "
        f"{n_img}/{want} images, {len(raw)} raw-LaTeX lines, {len(half)} half-empty pages, "
        f"{sum(k == 'code' for _, k, _, _ in wrapped)} code and {sum(k != 'code' for _, k, _, _ in wrapped)} other lines wrapped at the margin "
        f"(least-filled checked page {min(fills, default=1):.0%})")


DOM_PROBE = """
<script>
window.__errors = [];
window.addEventListener('error', e => window.__errors.push(String(e.message || e.target && (e.target.src || e.target.href))), true);
</script>
"""


def check_html(out_dir, notebooks, problems, screenshots=None):
    html = out_dir / "report.html"
    if not html.exists():
        problems.append(f"{html} does not exist")
        return
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("check: chromium is missing: apt-get install chromium (make setup installs it)")
    src = html.read_text(encoding="utf-8")
    if re.search(r'<(script|link|img)[^>]+(src|href)="https?://', src):
        problems.append("html loads something from the network: " + re.search(r'<(script|link|img)[^>]+(src|href)="https?://[^"]*', src).group(0)[:120])
    # a copy with an error probe (the page's own script marks the body when MathJax has typeset)
    probe = html.with_name(".report.check.html")
    marker = """<script>window.addEventListener('load', () => setTimeout(() =>
      document.body.setAttribute('data-errors', JSON.stringify(window.__errors)), 0));</script>"""
    probe.write_text(src.replace("<head>", "<head>" + DOM_PROBE, 1).replace("</body>", marker + "</body>"), encoding="utf-8")
    try:
        with tempfile.TemporaryDirectory() as profile:
            base = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={profile}",
                    "--enable-logging=stderr", "--v=0", "--virtual-time-budget=120000"]
            r = subprocess.run(["timeout", "300"] + base + ["--dump-dom", probe.as_uri()], capture_output=True, text=True, errors="replace")
            if screenshots:
                shots = Path(screenshots)
                shots.mkdir(parents=True, exist_ok=True)
                subprocess.run(["timeout", "300"] + base + ["--window-size=1280,1000", f"--screenshot={shots / 'html-first-screen.png'}", html.as_uri()],
                               capture_output=True)
                # the first figure: a copy of the page without the cells above the figure's cell
                fig = html.with_name(".report.figure.html")
                scroll = """<script>{ const cell = document.querySelector('.jp-OutputArea-output img').closest('.jp-Cell');
                  while (cell.previousElementSibling) cell.previousElementSibling.remove(); }</script>"""
                fig.write_text(src.replace("</body>", scroll + "</body>"), encoding="utf-8")
                try:
                    subprocess.run(["timeout", "300"] + base + ["--window-size=1280,1000", f"--screenshot={shots / 'html-figure.png'}", fig.as_uri()],
                                   capture_output=True)
                finally:
                    fig.unlink(missing_ok=True)
    finally:
        probe.unlink(missing_ok=True)
    dom = r.stdout
    if r.returncode != 0 or "<body" not in dom:
        problems.append(f"html: chromium exited {r.returncode} without a page:\n{r.stderr[-800:]}")
        return
    console = [l for l in r.stderr.splitlines() if "CONSOLE" in l or "ERR_FILE_NOT_FOUND" in l or "Failed to load" in l]
    body = re.search(r"<body([^>]*)>", dom).group(1)
    m = re.search(r'data-errors="([^"]*)"', body)
    errors = json.loads(m.group(1).replace("&quot;", '"')) if m else None
    if 'data-mathjax="done"' not in body:
        problems.append("html: MathJax did not finish typesetting (not loaded, or too slow)")
    if errors:
        problems.append(f"html: page errors {errors[:5]}")
    if console:
        problems.append("html: console messages:\n    " + "\n    ".join(console[:10]))
    imgs = re.findall(r"<img\b[^>]*>", dom)
    embedded = [i for i in imgs if 'src="data:image/png;base64,' in i]
    want = sum(count_png_outputs(nb) for nb, _ in notebooks)
    if len(embedded) != want or len(imgs) != want:
        problems.append(f"html shows {len(imgs)} images ({len(embedded)} embedded PNG), the notebooks have {want} PNG outputs")
    m = re.search(r'data-math-found="(\d+)"', body)
    found = int(m.group(1)) if m else 0
    shown = re.sub(r"<script\b.*?</script>|<style\b.*?</style>", "", dom, flags=re.S)  # MathJax's own code names its tags
    frames = len(re.findall(r"<mjx-container\b", shown))
    merr = len(re.findall(r"<mjx-merror\b|data-mjx-error", shown))
    if found == 0 or frames != found or merr:
        problems.append(f"html: {found} equations found by MathJax, {frames} rendered, {merr} MathJax errors")
    # raw maths left in the visible text of Markdown cells
    visible = re.sub(r"<mjx-container\b.*?</mjx-container>", "", shown, flags=re.S)
    md = re.findall(r'<div class="[^"]*jp-RenderedMarkdown[^"]*"[^>]*>(.*?)</div>', visible, flags=re.S)
    raw = [m for m in md if re.search(r"\$[^$]+\$|\\frac", re.sub(r"<[^>]+>", "", m))]
    if raw:
        problems.append(f"html: {len(raw)} Markdown cells still show raw maths, e.g. {re.sub(r'<[^>]+>', '', raw[0])[:120]!r}")
    ids = set(re.findall(r'\bid="([^"]+)"', shown))
    dangling = [h for h in re.findall(r'href="#([^"]+)"', shown) if h not in ids]
    if dangling:
        problems.append(f"html: {len(dangling)} links to missing anchors, e.g. #{dangling[0]}")
    tables = len(re.findall(r"<table\b", dom))
    say(f"check: html {len(imgs)}/{want} images embedded, {frames}/{found} equations typeset, {merr} MathJax errors, "
        f"{tables} HTML tables, {len(console)} console messages")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "report"), help="report folder (default: report/)")
    ap.add_argument("--no-html", action="store_true", help="check only the PDF")
    ap.add_argument("--no-pdf", action="store_true", help="check only the HTML")
    ap.add_argument("--screenshots", help="also save chromium screenshots of report.html in this folder")
    ap.add_argument("--wrapped", action="store_true", help="list every code or output line that wraps at the margin of the PDF")
    args = ap.parse_args()
    out_dir = Path(args.out).resolve()
    notebooks = executed_notebooks(out_dir)
    if not notebooks:
        raise SystemExit(f"check: no executed notebooks in {out_dir}")
    problems = []
    if not args.no_pdf:
        check_pdf(out_dir, notebooks, problems, args.wrapped)
    if not args.no_html:
        check_html(out_dir, notebooks, problems, args.screenshots)
    if problems:
        say("check: FAILED\n  - " + "\n  - ".join(problems))
        return 1
    say("check: report passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
