"""``theory.pdf`` from ``theory.md``: pandoc (from ``pypandoc-binary``) to Typst, Typst (the ``typst`` package) to PDF.

Both tools are pip wheels, so the PDF needs no LaTeX install and no browser.
pandoc reads the Markdown's TeX maths (``$...$`` and ``$$...$$``) and writes
Typst maths; Typst lays out the text, the tables and the PNG figures, which it
finds next to the Markdown.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["markdown_to_typst", "markdown_to_pdf"]

#: Page set-up prepended to pandoc's Typst body.
PREAMBLE = """#set page(paper: "a4", margin: (x: 1.8cm, y: 2cm), numbering: "1")
#set text(size: 10pt)
#set par(justify: false)
#set table(inset: 4pt, stroke: 0.5pt + gray)
#show table: set text(size: 8.5pt)
#show heading.where(level: 1): set text(size: 16pt)
#show heading.where(level: 2): set text(size: 13pt)
#set image(width: 85%)
#show link: set text(fill: blue)

"""


def markdown_to_typst(markdown: str) -> str:
    """The Typst source of ``markdown`` (TeX maths and pipe tables), with :data:`PREAMBLE`."""
    try:
        import pypandoc
    except ImportError as exc:  # pragma: no cover - a base dependency
        raise RuntimeError("theory.pdf needs pypandoc-binary: pip install pypandoc-binary typst") from exc
    body = pypandoc.convert_text(markdown, "typst", format="markdown+tex_math_dollars+pipe_tables",
                                 extra_args=["--wrap=none"])
    return PREAMBLE + body


def markdown_to_pdf(markdown_path, pdf_path) -> Path:
    """Convert ``markdown_path`` (its figures beside it) to ``pdf_path``; return ``pdf_path``."""
    import typst

    from ..atomic import atomic_write, atomic_write_text

    md = Path(markdown_path)
    source = md.with_suffix(".typ")
    atomic_write_text(source, markdown_to_typst(md.read_text()))
    try:
        # Typst's own fonts only and a fixed creation date: the same Markdown gives the same PDF bytes.
        pdf = typst.compile(str(source), root=str(md.parent.resolve()), ignore_system_fonts=True,
                            timestamp=int(os.environ.get("SOURCE_DATE_EPOCH", 0)))
    finally:
        source.unlink(missing_ok=True)
    return atomic_write(Path(pdf_path), lambda fh: fh.write(pdf), mode="wb")
