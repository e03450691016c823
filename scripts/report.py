"""Assemble the executed notebooks into one report: report.pdf and report.html.

PDF: each notebook is exported to LaTeX with scripts/latex/backprop.tex.j2; the
preamble of the first and the body of every one are put into one report-class
document (cover page, table of contents, one chapter per problem set, section
and page numbers running through), compiled with xelatex in target/report-build/.
HTML: the notebooks' cells are joined into one notebook, preceded by a cover and
contents cell, exported with images embedded and maths typeset by MathJax 3
(tex-svg, from the pinned django-static-mathjax package) inlined in the file.
Both files are written under a temporary name and renamed when complete.
"""
import copy
import datetime
import html as htmllib
import re
import shutil
import subprocess
from pathlib import Path

import nbformat

from grader import ANY_MARKER as GRADER_MARKER  # the grader's own marker pattern (scripts/grader.py)

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "target" / "report-build"
TITLE = "Backpropagation, worked in Rust"
SUBTITLE = "Solutions to five neural-network problem sets"
WHAT = (
    "Each chapter is one Jupyter notebook, executed from scratch with the evcxr Rust kernel "
    "and the project's backprop crate when this report was made. Every computed result printed "
    "in it is checked by an assertion in the cell that prints it; measured times, and ratios of "
    "them, are shown but not asserted (they depend on the machine)."
)


def say(msg):
    print(msg, flush=True)


def git_commit():
    try:
        sha = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        return sha + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


def today():
    return datetime.date.today().isoformat()


def chapter_title(nb):
    for c in nb.cells:
        if c.cell_type == "markdown":
            for line in c.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return "?"


def count_png_outputs(nb):
    return sum(
        1
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.output_type in ("display_data", "execute_result") and "image/png" in o.get("data", {})
    )


def opt_echo(o):
    """True for evcxr's answer to `:opt 0` ("Optimization: 0"): session talk, not report."""
    text = o.get("text") if o.output_type == "stream" else o.get("data", {}).get("text/plain")
    only_plain = o.output_type == "stream" or set(o.get("data", {})) == {"text/plain"}
    return only_plain and isinstance(text, str) and re.fullmatch(r"(Optimization: \d+\s*)+", text)


def coalesced(nb):
    """A copy of nb in which consecutive stream outputs of a cell are one (evcxr sends each
    println! apart; exported apart they print as lines with gaps between them), and the
    grader's marker lines (scripts/grader.py) are left out of the code."""
    nb = copy.deepcopy(nb)
    for c in nb.cells:
        outs = []
        for o in c.get("outputs", []):
            if o.output_type == "stream" and outs and outs[-1].output_type == "stream" and outs[-1].name == o.name:
                outs[-1].text += o.text
            else:
                outs.append(o)
        if c.cell_type == "code":
            outs = [o for o in outs if not opt_echo(o)]
            c.outputs = outs
            # the grader's marker comments are for the student edition, not for the reader
            c.source = "\n".join(l for l in c.source.split("\n") if not GRADER_MARKER.match(l))
    return nb


# Heights for with_needspace(), in points, as the template sets them: code and text outputs
# at \footnotesize (11 pt a line, about 118 characters fit), figures at most the text width
# (17 cm) and 0.42 of the text height (24.7 cm), Markdown tables about 14 pt a row.
LINE_PT, LINE_CHARS, BOX_PT, ROW_PT = 11.0, 118, 14.0, 14.0
TEXT_W_PT, TEXT_H_PT = 482.0, 700.0
FIG_H = 0.42  # a figure's largest height, as a fraction of the text height (backprop.tex.j2)
# what a moved cell may leave blank: less than half a page (a figure's cell fits: 14 + 11 + 20 + 294 pt)
NEEDSPACE_MAX_PT = 0.49 * TEXT_H_PT


def _lines(text):
    return sum(max(1, -(-len(l) // LINE_CHARS)) for l in text.rstrip("\n").split("\n")) if text.strip() else 0


def _png_height_pt(b64):
    import base64
    import struct

    head = base64.b64decode(b64[:64])
    w, h = struct.unpack(">II", head[16:24])  # the IHDR chunk
    return min(TEXT_W_PT / w, FIG_H * TEXT_H_PT / h) * h


def cell_height_pt(cell):
    """An estimate of the printed height of a code cell, its input box and its outputs."""
    h = BOX_PT + _lines(cell.source) * LINE_PT
    for o in cell.get("outputs", []):
        if o.output_type == "stream":
            h += BOX_PT + _lines(o.text) * LINE_PT
        elif o.output_type in ("display_data", "execute_result"):
            d = o.get("data", {})
            if "image/png" in d:
                h += 20 + _png_height_pt(d["image/png"])
            elif "text/markdown" in d:
                h += 24 + ROW_PT * sum(1 for l in d["text/markdown"].split("\n") if l.startswith("|"))
            elif "text/plain" in d:
                h += BOX_PT + _lines(d["text/plain"]) * LINE_PT
    return h


TRAILING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def split_trailing_result(cell):
    """[cell] or, for a cell too long for one \\Needspace whose last line is a bare variable
    (`fig`, `table`) that evcxr displays, [the cell without that line and its result, that
    line with its result]: the same code in two boxes, so the figure or table is printed right
    below the line that shows it, not a page after the cell's last visible line."""
    lines = cell.source.rstrip("\n").split("\n")
    results = [o for o in cell.get("outputs", []) if o.output_type == "execute_result"]
    if len(lines) < 2 or not TRAILING_NAME.match(lines[-1].strip()) or len(results) != 1 or cell_height_pt(cell) <= NEEDSPACE_MAX_PT:
        return [cell]
    head, tail = copy.deepcopy(cell), copy.deepcopy(cell)
    head.source, head.outputs = "\n".join(lines[:-1]), [o for o in cell.outputs if o.output_type != "execute_result"]
    tail.source, tail.outputs = lines[-1], results
    if "id" in tail:
        tail["id"] = (tail["id"] + "-result")[-64:]  # cell ids must stay unique
    return [head, tail]


def with_needspace(nb):
    """A copy of nb in which each code cell that fits in NEEDSPACE_MAX_PT is preceded by a raw
    LaTeX \\Needspace of its height: when the rest of the page cannot hold the cell and its
    output, both start on the next page instead of the output landing alone after the break.
    \\Needspace, not \\needspace: right after a code box that a page break had split, the
    lower-case one broke the page with 400 pt still free (a 105 pt table moved, leaving the page
    42 % filled); the capital one, which the package documents as the exact test, kept it there."""
    nb = copy.deepcopy(nb)
    cells = []
    for c in [part for c in nb.cells for part in (split_trailing_result(c) if c.cell_type == "code" else [c])]:
        if c.cell_type == "code" and c.get("outputs"):
            h = cell_height_pt(c)
            if h <= NEEDSPACE_MAX_PT:
                cells.append(nbformat.v4.new_raw_cell(f"\\Needspace{{{h:.0f}pt}}", metadata={"raw_mimetype": "text/latex"}))
        cells.append(c)
    nb.cells = cells
    return nb


def write_atomic(path, data):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    try:
        (tmp.write_bytes if isinstance(data, bytes) else tmp.write_text)(data)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


# ---------------------------------------------------------------- PDF --------
HEADING_SHIFT = {"section": "chapter", "subsection": "section", "subsubsection": "subsection", "paragraph": "subsubsection"}
HEADING = re.compile(r"\\(section|subsection|subsubsection|paragraph)(\*?)\{")
# an input cell's box (or a stream) followed by its output: keep them on one page where possible
INPUT_THEN_OUTPUT = re.compile(
    r"(\\end\{tcolorbox\}\n)(\s*\n)*(?=\s*(\\begin\{tcolorbox\}\[breakable, size=fbox, boxrule=\.5pt|\\begin\{Verbatim\}|\\begin\{center\}\s*\\adjustimage|\\prompt\{Out\}|\\begin\{(longtable|tabular)))"
)


def latex_of(nb, stem):
    from nbconvert import LatexExporter

    ex = LatexExporter(extra_template_paths=[str(ROOT / "scripts" / "latex")], template_file="backprop.tex.j2")
    ex.exclude_input_prompt = True   # no "In [4]:" / "[4]:" margins: a handed-in report, not a session
    ex.exclude_output_prompt = True
    body, res = ex.from_notebook_node(nb, resources={"metadata": {"name": stem}, "output_files_dir": f"{stem}_files"})
    for name, data in res.get("outputs", {}).items():
        (BUILD / name).parent.mkdir(parents=True, exist_ok=True)
        (BUILD / name).write_bytes(data)
    return body


def split(tex):
    pre, rest = tex.split("\\begin{document}", 1)
    body = rest.rsplit("\\end{document}", 1)[0]
    body = body.replace("\\maketitle", "")
    return pre, body


def frame_preamble(pre):
    pre = re.sub(r"\\documentclass(\[[^\]]*\])?\{article\}", r"\\documentclass[11pt,a4paper,openany]{report}", pre)
    pre = re.sub(r"\\title\{.*?\}\n", "", pre, flags=re.S)
    pre = pre.replace("\\usepackage{titling}", "")  # titling's \maketitle is not used: the cover is drawn here
    pre = re.sub(r"\\geometry\{[^}]*\}", "", pre)
    extra = r"""
\geometry{a4paper, margin=2.0cm, top=2.4cm, bottom=2.6cm, footskip=1.1cm}
\raggedbottom
\setcounter{secnumdepth}{0}% chapters are numbered; sections keep the problem sets' own question numbers
\setcounter{tocdepth}{1}
\usepackage{fancyhdr}
\pagestyle{fancy}
\fancyhf{}
\newcommand{\shortchapter}{}
\renewcommand{\chaptermark}[1]{\markboth{\thechapter.\ \shortchapter}{}}
\fancyhead[L]{\small\nouppercase{\leftmark}}
\fancyfoot[C]{\thepage}
\renewcommand{\headrulewidth}{0.3pt}
\fancypagestyle{plain}{\fancyhf{}\fancyfoot[C]{\thepage}\renewcommand{\headrulewidth}{0pt}}
\usepackage{titlesec}
\titleformat{\chapter}[display]{\normalfont\bfseries\Large}{\chaptertitlename\ \thechapter}{8pt}{\LARGE}
\titlespacing*{\chapter}{0pt}{0pt}{18pt}
\hypersetup{linkcolor=urlcolor, bookmarksnumbered=true, bookmarksopen=true, pdftitle={""" + TITLE + r"""}}
"""
    return pre.rstrip() + "\n" + extra


def cover(n_chapters):
    esc = lambda s: s.replace("_", r"\_").replace("%", r"\%").replace("&", r"\&")
    return rf"""
\begin{{titlepage}}
\centering
\vspace*{{4cm}}
{{\Huge\bfseries {esc(TITLE)}\par}}
\vspace{{1cm}}
{{\Large {esc(SUBTITLE)}\par}}
\vspace{{2cm}}
\begin{{minipage}}{{0.75\linewidth}}\centering
{esc(WHAT)}
\end{{minipage}}
\vfill
{{\large {n_chapters} notebook{"s" if n_chapters != 1 else ""} \quad·\quad {today()}\par}}
\vspace{{0.4cm}}
{{\ttfamily commit {esc(git_commit())}\par}}
\vspace{{1cm}}
\end{{titlepage}}
\pagenumbering{{roman}}
\tableofcontents
\clearpage
\pagenumbering{{arabic}}
"""


def run_xelatex(tex_path):
    log = tex_path.with_suffix(".log")
    for i in range(3):  # contents, outline and page references settle by the third pass
        r = subprocess.run(
            ["xelatex", "-interaction=nonstopmode", "-halt-on-error", tex_path.name],
            cwd=tex_path.parent, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace",
        )
        if r.returncode != 0:
            tail = "\n".join(r.stdout.splitlines()[-30:])
            raise SystemExit(f"pdf: xelatex failed on {tex_path} (pass {i + 1}); log {log}:\n{tail}")
    return tex_path.with_suffix(".pdf"), log


def build_pdf(executed, out_dir):
    """executed: [(notebook, path of the executed notebook)]. Writes out_dir/report.pdf."""
    shutil.rmtree(BUILD, ignore_errors=True)
    BUILD.mkdir(parents=True)
    preamble, bodies = None, []
    for nb, path in executed:
        tex = latex_of(with_needspace(coalesced(nb)), path.stem)
        pre, body = split(tex)
        preamble = preamble or pre
        body = HEADING.sub(lambda m: "\\" + HEADING_SHIFT[m.group(1)] + m.group(2) + "{", body)
        body = INPUT_THEN_OUTPUT.sub(r"\1\\nopagebreak\n", body)
        short = re.sub(r"\s*\(.*\)\s*$", "", chapter_title(nb))  # the running head: the title without its source
        short = re.sub(r"([_%&#$])", r"\\\1", short)
        bodies.append(f"% ---- {path.name}\n\\renewcommand{{\\shortchapter}}{{{short}}}\n" + body)
    doc = frame_preamble(preamble) + "\n\\begin{document}\n" + cover(len(executed)) + "\n".join(bodies) + "\n\\end{document}\n"
    tex_path = BUILD / "report.tex"
    tex_path.write_text(doc, encoding="utf-8")
    pdf, log = run_xelatex(tex_path)
    missing = sorted(set(re.findall(r"Missing character: There is no (.+?) in font", log.read_text(errors="replace"))))
    if missing:
        raise SystemExit(f"pdf: xelatex found no glyph for {', '.join(missing)} (see {log})")
    out = out_dir / "report.pdf"
    write_atomic(out, pdf.read_bytes())
    from pypdf import PdfReader

    say(f"pdf: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}: {len(PdfReader(out).pages)} pages, "
        f"{len(executed)} chapters (LaTeX in {BUILD.relative_to(ROOT)})")
    return out


# ---------------------------------------------------------------- HTML -------
MATHJAX_CONFIG = r"""<script>
window.MathJax = {
  tex: {inlineMath: [['$', '$'], ['\\(', '\\)']], displayMath: [['$$', '$$'], ['\\[', '\\]']],
        processEscapes: true, processEnvironments: true, tags: 'ams'},
  svg: {fontCache: 'global'},
  startup: {pageReady: () => MathJax.startup.defaultPageReady().then(() => {
    document.body.setAttribute('data-mathjax', 'done');
    document.body.setAttribute('data-math-found', String(Array.from(MathJax.startup.document.math).length));
  })}
};
</script>"""


def mathjax_js():
    """MathJax 3's tex-svg component (fonts as SVG paths: nothing else to load) from the pinned package."""
    try:
        import mathjax  # the django-static-mathjax package
    except ImportError:
        raise SystemExit("html: MathJax is missing: .venv/bin/pip install -r requirements.txt (django-static-mathjax)")
    f = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5" / "tex-svg.js"
    if not f.exists():
        raise SystemExit(f"html: {f} is missing: reinstall django-static-mathjax from requirements.txt")
    return f.read_text(encoding="utf-8")


def build_html(executed, out_dir):
    from nbconvert import HTMLExporter

    merged = nbformat.v4.new_notebook()
    merged.metadata = copy.deepcopy(executed[0][0].metadata)
    merged.metadata["title"] = TITLE
    toc = "\n".join(f"{i}. [{chapter_title(nb)}](#{anchor(chapter_title(nb))})" for i, (nb, _) in enumerate(executed, 1))
    merged.cells.append(nbformat.v4.new_markdown_cell(
        f"# {TITLE}\n\n**{SUBTITLE}.** {WHAT}\n\n{today()} · commit `{git_commit()}`\n\n## Contents\n\n{toc}"
    ))
    for nb, _ in executed:
        merged.cells.extend(coalesced(nb).cells)
    ex = HTMLExporter(template_name="lab", embed_images=True)
    ex.exclude_input_prompt = True   # as in the PDF: no In [4]: / Out[4]: margins
    ex.exclude_output_prompt = True
    html, _ = ex.from_notebook_node(merged, resources={"metadata": {"name": "report"}})
    # alt text: the figure's number and chapter instead of the template's "No description has been provided"
    state = {"h1": 0, "fig": 0}  # the first <h1> is the cover's, then one per chapter

    def alt(m):
        if m.group(0).startswith("<h1"):
            state["h1"] += 1
            return m.group(0)
        state["fig"] += 1
        ch = max(1, state["h1"] - 1)
        title = htmllib.escape(chapter_title(executed[min(ch, len(executed)) - 1][0]), quote=True)
        return f'alt="Figure {state["fig"]} (chapter {ch}, {title}): the output of the code above"'

    html = re.sub(r'<h1[ >]|alt="No description has been provided for this image"', alt, html)
    # replace the template's MathJax 2 from a CDN by MathJax 3, inlined: the file is self-contained
    a, b = html.find("<!-- Load mathjax -->"), html.find("<!-- End of mathjax configuration -->")
    if a < 0 or b < 0:
        raise SystemExit("html: nbconvert's MathJax block was not found (nbconvert version changed?)")
    js = mathjax_js().replace("</script", "<\\/script")
    html = html[:a] + MATHJAX_CONFIG + "\n<script>" + js + "</script>\n" + html[b + len("<!-- End of mathjax configuration -->"):]
    # the lab template's only other remote reference is require.js, used by widgets; none here
    html = re.sub(r'<script src="https://cdnjs[^"]*require\.js[^"]*"></script>', "", html)
    # long code and output lines wrap inside their box, as in the PDF, instead of being cut off
    html = html.replace("</head>", "<style>.jp-InputArea-editor pre, .jp-OutputArea-output pre, .highlight pre "
                        "{ white-space: pre-wrap; overflow-wrap: anywhere; }</style>\n</head>", 1)
    out = out_dir / "report.html"
    write_atomic(out, html)
    say(f"html: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}: {len(html) // 1024} KiB, "
        f"{sum(count_png_outputs(nb) for nb, _ in executed)} images embedded, MathJax 3 inlined")
    return out


def anchor(title):
    # nbconvert's heading ids: the text with spaces as '-', other characters kept
    return title.replace(" ", "-")
