"""Part 1 of the problem set, derived, checked and measured: ``ffnn theory --out DIR``.

Five modules each compute one answer (:mod:`.optimisation` with sympy,
:mod:`.activation`, :mod:`.overfitting` from real NumPy-backend MNIST runs,
:mod:`.capacity`, :mod:`.backprop`); :mod:`.report` gathers them into one
JSON-able dict and writes ``theory.json``, the figures (:mod:`.figures`),
``theory.md`` (:mod:`.render`: Markdown with LaTeX maths) and ``theory.pdf``
(:mod:`.pdf`), each from that data alone.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["build_report", "add_arguments", "run", "main", "DESCRIPTION"]

DESCRIPTION = ("derive, check and measure part 1 of the problem set; "
               "write DIR/theory.md, theory.pdf, theory.json and the figures")


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
        Typst otherwise. ``"latex"`` without one raises ``ValueError`` at once.
    """
    from ..data import cache_dir
    from .pdf import resolve_engine
    from .report import collect, write_report

    engine = resolve_engine(engine) if pdf else None
    Path(out_dir).mkdir(parents=True, exist_ok=True)  # fail on a bad path before minutes of work
    results = collect(fast=fast, cache_dir=cache_dir() / "theory" if cache else None, verbose=verbose)
    return write_report(results, out_dir, pdf=pdf, engine=engine)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``ffnn theory`` (shared by ``python -m ffnn.theory``)."""
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory, created if missing (required: no default)")
    parser.add_argument("--fast", action="store_true",
                        help="tiny subsets and few epochs, seconds instead of minutes (default: off)")
    parser.add_argument("--no-cache", action="store_true",
                        help="rerun the training runs instead of reusing cached results (default: use the cache)")
    parser.add_argument("--no-pdf", action="store_true", help="skip theory.pdf (default: write it)")
    parser.add_argument("--engine", choices=("latex", "typst"), default=None,
                        help="what typesets theory.pdf (default: latex when a LaTeX engine is installed, else typst)")
    parser.add_argument("--quiet", action="store_true", help="print only the path written (default: off)")


def run(args) -> int:
    """Build the report for parsed ``args``; print the path written; return 0."""
    path = build_report(args.out, fast=args.fast, cache=not args.no_cache, verbose=0 if args.quiet else 1,
                        pdf=not args.no_pdf, engine=args.engine)
    print(path)
    return 0


def main(argv=None) -> int:
    """``python -m ffnn.theory``: build the report; returns the exit status."""
    parser = argparse.ArgumentParser(prog="ffnn theory", description=DESCRIPTION)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except (OSError, ValueError) as exc:
        print(f"ffnn theory: error: {exc}", file=sys.stderr)
        return 1
