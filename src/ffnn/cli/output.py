"""Printing helpers that several commands share."""
from __future__ import annotations

import sys

from ..format import pct

__all__ = ["pct", "every", "report_interrupted", "one_line"]


def every(n: int) -> str:
    """``"Both backends"`` or ``"All 3 backends"``."""
    return "Both backends" if n == 2 else f"All {n} backends"


def report_interrupted(result: dict, planned: int) -> None:
    print(f"Training was interrupted after {result['epochs']} of {planned} epochs; the model, "
          f"the history so far and the plots are saved in {result['run_dir']}", file=sys.stderr)


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (its type's name if it has none)."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
