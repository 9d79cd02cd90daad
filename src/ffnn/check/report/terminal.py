"""The terminal report: one block per submission, one line per check.

A line holds the status, the check id (with the catalogue name of a
recognised mistake), the sentence and the evidence; a failed check (or one
that could not run) adds its hint on the next line. Colours only when the
stream is a terminal and ``NO_COLOR`` is not set (https://no-color.org).
"""
from __future__ import annotations

import math
import os

__all__ = ["render_terminal", "submission_line", "format_evidence", "use_colour", "group_checks"]

_COLOURS = {"pass": "32", "fail": "31", "error": "33", "skip": "2"}  # green, red, yellow, dim
_LABELS = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "skip": "SKIP"}
EVIDENCE_CHARS = 240  # the terminal shows this much evidence per check; the JSON holds all of it


def use_colour(stream) -> bool:
    """Whether ``stream`` is a terminal that should get colours."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR")


def _value(value) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).lower() if value is not None else "none"
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_value(v)}" for k, v in value.items()) + "}"
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:  # a NumPy scalar
        return _value(value.item())
    return str(value)


def format_evidence(evidence: dict, limit: int | None = None) -> str:
    """``key=value, ...`` with numbers to 4 significant digits, cut to ``limit`` characters."""
    text = ", ".join(f"{key}={_value(value)}" for key, value in (evidence or {}).items())
    if limit is not None and len(text) > limit:
        text = text[:limit - 1] + "…"
    return text


def _paint(text: str, status: str, colour: bool) -> str:
    return f"\033[{_COLOURS[status]}m{text}\033[0m" if colour else text


def summary_text(summary: dict) -> str:
    return (f"{summary['pass']} passed, {summary['fail']} failed, {summary['error']} could not run, "
            f"{summary['skip']} skipped")


def submission_line(result) -> str:
    """One line for a finished submission (the progress line): its path and its counts."""
    return f"checked {result.path}: {summary_text(result.summary)}"


def _same(a, b) -> bool:
    return (a.status, a.message, a.hint, a.mistake, a.evidence) == (b.status, b.message, b.hint, b.mistake,
                                                                    b.evidence)


def group_checks(checks) -> list:
    """``(name, checks)`` per report line: checks in a row that say the same thing share one line.

    The checks of a part not asked for, or the three notebook checks of a
    missing notebook, become ``"torch.* (5 checks)"``; a single check is
    named by its id and the catalogue name of its mistake, if any.
    """
    groups = []
    for check in checks:
        if groups and _same(groups[-1][-1], check):
            groups[-1].append(check)
        else:
            groups.append([check])
    named = []
    for group in groups:
        c = group[0]
        if len(group) == 1:
            named.append((c.id + (f" [{c.mistake}]" if c.mistake else ""), group))
        else:
            prefixes = {g.id.split(".")[0] for g in group}
            first = f"{prefixes.pop()}.*" if len(prefixes) == 1 else f"{c.id}…"
            named.append((f"{first} ({len(group)} checks)", group))
    return named


def render_terminal(results, colour: bool = False) -> str:
    """The terminal report of ``results`` (a list of SubmissionResult) as one string."""
    blocks = []
    for result in results:
        rows = group_checks(result.checks)
        width = max((len(name) for name, _ in rows), default=0)
        lines = [f"{result.path}"]
        for name, (check, *_) in rows:
            status = check.status
            label = _paint(f"{_LABELS[status]:<5}", status, colour)
            line = f"  {label}  {name:<{width}}  {check.message}"
            evidence = format_evidence(check.evidence, EVIDENCE_CHARS)
            if evidence:
                line += f"  ({evidence})"
            lines.append(line)
            if check.hint and status in ("fail", "error"):
                lines.append(f"  {'':5}  {'':<{width}}  hint: {check.hint}")
        lines.append(f"  {summary_text(result.summary)}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")
