"""How ffnn writes a number for a person, in one place."""
from __future__ import annotations

import math

__all__ = ["pct"]


def pct(value, digits: int = 2) -> str:
    """``0.9782`` -> ``"97.82%"``; ``"-"`` for a missing or NaN value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{100 * value:.{digits}f}%"
