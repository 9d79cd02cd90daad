"""``theory.tex`` and ``theory.pdf`` from ``theory.md``, typeset by LaTeX or by Typst.

pandoc (the ``pypandoc-binary`` wheel) reads the Markdown's TeX maths
(``$...$`` and ``$$...$$``) and writes either LaTeX (``theory.tex``, always
written, the LaTeX version of the same source) or Typst. The PDF is set by

- ``"latex"``: a LaTeX engine on the ``PATH`` (xelatex, lualatex or pdflatex),
  through pandoc;
- ``"typst"``: the ``typst`` wheel, so the PDF needs no TeX install.

:func:`resolve_engine` picks LaTeX when an engine is installed and Typst
otherwise. Both lay out the page the same way: A4, 1.8 cm side margins, so
the figures (drawn at their printed size by :mod:`.figures`) keep their font
sizes.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["markdown_to_typst", "markdown_to_latex", "markdown_to_pdf", "latex_engine", "resolve_engine",
           "ENGINES"]

ENGINES = ("latex", "typst")
_LATEX_ENGINES = ("xelatex", "lualatex", "pdflatex")
_FORMAT = "markdown+tex_math_dollars+pipe_tables+link_attributes+implicit_figures"

#: Page set-up prepended to pandoc's Typst body. Figures (not tables) float to the top or bottom of a page,
#: as in LaTeX, so a figure that does not fit leaves no half-empty page behind.
PREAMBLE = """#set page(paper: "a4", margin: (x: 1.8cm, y: 2cm), numbering: "1")
#set text(size: 10pt)
#set par(justify: false)
#set table(inset: 4pt, stroke: 0.5pt + gray)
#show table: set text(size: 8.5pt)
#show heading.where(level: 1): set text(size: 16pt)
#show heading.where(level: 2): set text(size: 13pt)
#show figure.where(kind: image): set figure(placement: auto)
#show link: set text(fill: blue)

"""
#: pandoc's LaTeX template variables: the same page as :data:`PREAMBLE`.
LATEX_VARIABLES = ("geometry:a4paper", "geometry:hmargin=1.8cm", "geometry:vmargin=2cm", "fontsize=10pt",
                   "colorlinks=true")


def _pandoc(markdown: str, to: str, extra=()) -> str:
    try:
        import pypandoc
    except ImportError as exc:  # pragma: no cover - a base dependency
        raise RuntimeError("theory.tex and theory.pdf need pypandoc-binary: pip install pypandoc-binary") from exc
    return pypandoc.convert_text(markdown, to, format=_FORMAT, extra_args=["--wrap=none", *extra])


#: Inserted before the first heading that starts with :data:`LONG_TABLES_FROM`: from there on a table may
#: break across pages (1.5's and the appendix's are long); before it, a short table is never split.
BREAKABLE = "#show figure.where(kind: table): set block(breakable: true)\n"
LONG_TABLES_FROM = "1.5 "


def markdown_to_typst(markdown: str) -> str:
    """The Typst source of ``markdown`` (TeX maths and pipe tables), with :data:`PREAMBLE` and :data:`BREAKABLE`."""
    body = _pandoc(markdown, "typst")
    at = body.find(f"\n== {LONG_TABLES_FROM}")
    return PREAMBLE + (body if at < 0 else body[:at + 1] + BREAKABLE + body[at + 1:])


def markdown_to_latex(markdown: str) -> str:
    """A complete LaTeX document of ``markdown`` (pandoc's standard template, :data:`LATEX_VARIABLES`)."""
    return _pandoc(markdown, "latex", ["--standalone", *(f"--variable={v}" for v in LATEX_VARIABLES)])


def latex_engine() -> str | None:
    """The first LaTeX engine on the ``PATH`` (xelatex, lualatex, pdflatex), or None."""
    return next((e for e in _LATEX_ENGINES if shutil.which(e)), None)


def resolve_engine(engine: str | None) -> str:
    """``"latex"`` or ``"typst"``: ``None`` picks LaTeX when an engine is installed, else Typst.

    Raises :class:`~ffnn.errors.UsageError` (a ``ValueError``, one line) for an
    unknown name, or for ``"latex"`` when no LaTeX engine is installed.
    """
    from ..errors import UsageError

    if engine is None:
        return "latex" if latex_engine() else "typst"
    if engine not in ENGINES:
        raise UsageError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if engine == "latex" and not latex_engine():
        raise UsageError(f"engine 'latex' needs {', '.join(_LATEX_ENGINES)} on the PATH and none is installed; "
                         "use engine 'typst'")
    return engine


def _typst_pdf(md: Path) -> bytes:
    import typst

    from ..atomic import atomic_write_text

    source = md.with_suffix(".typ")
    atomic_write_text(source, markdown_to_typst(md.read_text()))
    try:
        # Typst's own fonts only and a fixed creation date: the same Markdown gives the same PDF bytes.
        return typst.compile(str(source), root=str(md.parent.resolve()), ignore_system_fonts=True,
                             timestamp=int(os.environ.get("SOURCE_DATE_EPOCH", 0)))
    finally:
        source.unlink(missing_ok=True)


def _latex_pdf(md: Path, tmp: Path) -> None:
    import pypandoc

    pypandoc.convert_file(str(md), "pdf", format=_FORMAT, outputfile=str(tmp),
                          extra_args=[f"--pdf-engine={latex_engine()}", f"--resource-path={md.parent}",
                                      *(f"--variable={v}" for v in LATEX_VARIABLES)])


def markdown_to_pdf(markdown_path, pdf_path, engine: str = "typst") -> Path:
    """Typeset ``markdown_path`` (its figures beside it) as ``pdf_path`` with ``engine``; return ``pdf_path``."""
    from ..atomic import atomic_write, replacing

    md, engine = Path(markdown_path), resolve_engine(engine)
    if engine == "typst":
        pdf = _typst_pdf(md)
        return atomic_write(Path(pdf_path), lambda fh: fh.write(pdf), mode="wb")
    with replacing(pdf_path, suffix=".pdf") as tmp:
        _latex_pdf(md, tmp)
    return Path(pdf_path)
