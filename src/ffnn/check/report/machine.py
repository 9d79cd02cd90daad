"""The machine-readable reports: JSON (every field of every check) and CSV (the class overview).

JSON: ``{"submissions": [{"path", "checks": [{"id", "status", "message",
"evidence", "hint", "mistake"}], "summary": {"pass", "fail", "error",
"skip"}}]}``. Evidence is plain JSON: NumPy numbers become Python numbers,
and NaN and infinities (a diverged gradient) the strings ``"NaN"``,
``"Infinity"`` and ``"-Infinity"``, since strict JSON has no such numbers.

CSV: one row per submission (``path``, the four counts, one column per check
id with its status, and ``mistakes``: ``id=mistake`` pairs joined by ``; ``).
"""
from __future__ import annotations

import csv
import io
import json
import math
import sys

from ...atomic import atomic_write_text

__all__ = ["plain", "to_json", "write_json", "check_columns", "write_csv"]

STATUSES = ("pass", "fail", "error", "skip")


def plain(value):
    """``value`` as JSON-able builtins (NumPy scalars and arrays, tuples, non-finite floats)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "tolist"):  # NumPy arrays and scalars
        return plain(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def to_json(results) -> str:
    """The JSON report of ``results``."""
    document = {"submissions": [plain(result.to_dict()) for result in results]}
    return json.dumps(document, indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def write_json(results, path) -> None:
    """Write the JSON report to ``path`` (``"-"``: standard output)."""
    text = to_json(results)
    if str(path) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        atomic_write_text(path, text)


def check_columns(results, order=()) -> list:
    """The check ids of ``results``: those of ``order`` first (report order), then any others as met."""
    seen = [i for i in order]
    for result in results:
        for check in result.checks:
            if check.id not in seen:
                seen.append(check.id)
    present = {c.id for r in results for c in r.checks}
    return [i for i in seen if i in present]


def _cell(text: str) -> str:
    """Keep a spreadsheet from reading a cell as a formula (a folder named ``=cmd|...``)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(results, order=()) -> str:
    columns = check_columns(results, order)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["path", *STATUSES, *columns, "mistakes"])
    for result in results:
        status = {c.id: c.status for c in result.checks}
        summary = result.summary
        mistakes = "; ".join(f"{c.id}={c.mistake}" for c in result.checks if c.mistake)
        writer.writerow([_cell(result.path), *(summary[s] for s in STATUSES),
                         *(status.get(i, "") for i in columns), _cell(mistakes)])
    return out.getvalue()


def write_csv(results, path, order=()) -> None:
    """Write the class overview to ``path``: a row per submission, a column per check id."""
    atomic_write_text(path, to_csv(results, order))
