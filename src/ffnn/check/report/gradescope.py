"""Gradescope's autograder ``results.json``, with points per check from an optional rubric.

Every check that ran is a test: ``passed`` earns its points, ``failed`` and
``error`` (could not run) earn none, and the test's output holds the
sentence, the evidence and the hint. Checks not run (``skip``) are no test:
they are listed in the top-level output and cost no points. A check is worth
1 point unless a rubric (TOML) says otherwise::

    default = 1                    # points of a check the table does not list
    [weights]
    "scratch.gradient" = 4
    "notebook.team" = 0.5

A rubric with another key, an unknown check id or a weight that is not a
number ≥ 0 is refused (:class:`RubricError`, one line naming the key and the
value).
"""
from __future__ import annotations

import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ...atomic import atomic_write_text
from .terminal import format_evidence

__all__ = ["Rubric", "RubricError", "load_rubric", "gradescope_results", "write_gradescope"]


class RubricError(ValueError):
    """A rubric file that cannot be used; the message names the file and the bad key or value."""


@dataclass(frozen=True)
class Rubric:
    """Points per check id; ``default`` for the ids ``weights`` does not list."""

    weights: dict = field(default_factory=dict)
    default: float = 1.0

    def points(self, check_id: str) -> float:
        return self.weights.get(check_id, self.default)


def _weight(value, where: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise RubricError(f"{where}: {name} must be a number >= 0, got {value!r}")
    return float(value)


def load_rubric(path, known_ids) -> Rubric:
    """Read a rubric file, refusing keys other than ``default`` and ``weights`` and ids not in ``known_ids``."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RubricError(f"{path}: cannot read the rubric ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise RubricError(f"{path}: not a UTF-8 text file") from None
    except tomllib.TOMLDecodeError as exc:
        raise RubricError(f"{path}: not valid TOML ({exc})") from None
    unknown = sorted(set(data) - {"default", "weights"})
    if unknown:
        raise RubricError(f"{path}: unknown key {unknown[0]!r} (a rubric has 'default' and a [weights] table)")
    default = _weight(data.get("default", 1), str(path), "default")
    table = data.get("weights", {})
    if not isinstance(table, dict):
        raise RubricError(f"{path}: weights must be a table of check id = points, got {table!r}")
    weights = {}
    known = set(known_ids)
    for check_id, value in table.items():
        if check_id not in known:
            raise RubricError(f"{path}: unknown check id {check_id!r} in [weights]")
        weights[check_id] = _weight(value, str(path), f'weights."{check_id}"')
    return Rubric(weights, default)


def _points(x: float):
    return int(x) if float(x).is_integer() else x


def _output(check) -> str:
    parts = [("Could not run: " if check.status == "error" else "") + check.message]
    if check.mistake:
        parts.append(f"Recognised mistake: {check.mistake}")
    evidence = format_evidence(check.evidence)
    if evidence:
        parts.append(f"Evidence: {evidence}")
    if check.hint and check.status != "pass":
        parts.append(f"What to change: {check.hint}")
    return "\n".join(parts)


def gradescope_results(result, rubric: Rubric | None = None) -> dict:
    """The ``results.json`` document for one SubmissionResult."""
    rubric = rubric or Rubric()
    tests, skipped = [], []
    for number, check in enumerate(result.checks, start=1):
        if check.status == "skip":
            skipped.append(check)
            continue
        worth = rubric.points(check.id)
        passed = check.status == "pass"
        tests.append({"name": check.id,
                      "number": str(number), "status": "passed" if passed else "failed",
                      "score": _points(worth if passed else 0), "max_score": _points(worth),
                      "output": _output(check), "visibility": "visible"})
    summary = result.summary
    output = (f"ffnn check: {summary['pass']} passed, {summary['fail']} failed, "
              f"{summary['error']} could not run, {summary['skip']} not checked.")
    if skipped:
        output += "\nNot checked: " + "; ".join(f"{c.id} ({c.message})" for c in skipped)
    return {"score": _points(sum(t["score"] for t in tests)), "output": output,
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def write_gradescope(result, path, rubric: Rubric | None = None) -> None:
    """Write Gradescope's ``results.json`` for one submission to ``path``."""
    from .machine import plain
    atomic_write_text(path, json.dumps(plain(gradescope_results(result, rubric)), indent=2,
                                       allow_nan=False, ensure_ascii=False) + "\n")
