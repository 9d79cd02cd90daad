"""Part 1 of the problem set, derived, checked and measured: ``ffnn theory --out DIR``.

Five modules each compute one answer (:mod:`.optimisation` with sympy,
:mod:`.activation`, :mod:`.overfitting` from real NumPy-backend MNIST runs,
:mod:`.capacity`, :mod:`.backprop`); :mod:`.report` gathers them into one
JSON-able dict and writes ``theory.json``, the figures (:mod:`.figures`),
``theory.md`` (:mod:`.render`: Markdown with LaTeX maths), ``theory.tex`` and
``theory.pdf`` (:mod:`.pdf`), each from that data alone.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["build_report"]


def build_report(out_dir, fast: bool = False, cache: bool = True, verbose: int = 1, pdf: bool = True,
                 engine: str | None = None) -> Path:
    """Compute every part and write ``theory.json``, ``theory.md``, ``theory.tex``, ``theory.pdf`` and the figures.

    Returns the Markdown file's path.

    Parameters
    ----------
    out_dir : path
        Created if missing; existing files of the same names are replaced.
    fast : bool, default False
        Tiny subsets and few epochs (seconds instead of minutes): the
        mechanics of every part, not the phenomena of part 3.
    cache : bool, default True
        Reuse the training runs of part 3 cached as JSON in
        ``ffnn.data.cache_dir() / "theory"`` (keyed by every parameter of the run).
    verbose : int, default 1
        0 is silent; 1 prints each part and each training run.
    pdf : bool, default True
        Also typeset ``theory.pdf`` (:mod:`.pdf`).
    engine : {"latex", "typst"} or None, default None
        What typesets the PDF; None is LaTeX when a LaTeX engine is installed,
        Typst otherwise. ``"latex"`` without one raises ``UsageError`` at once.
    """
    from ..data import cache_dir
    from .pdf import resolve_engine
    from .report import collect, write_report

    engine = resolve_engine(engine) if pdf else None
    Path(out_dir).mkdir(parents=True, exist_ok=True)  # fail on a bad path before minutes of work
    results = collect(fast=fast, cache_dir=cache_dir() / "theory" if cache else None, verbose=verbose)
    return write_report(results, out_dir, pdf=pdf, engine=engine)
