"""What a part's child process handed back, read safely, and the sentences for what went wrong.

:class:`Outcome` loads ``result.json`` and each probe's ``.npz`` (with
``allow_pickle=False``: nothing the child wrote can run code here).
:meth:`Outcome.need` returns a probe's facts and arrays or raises
:class:`Unavailable` with the sentence a check reports as its ``error``: the
last line of the traceback, "stopped after N s", the exit status, the memory
limit, or a Keras/PyTorch version difference that is not the team's fault.
"""
from __future__ import annotations

import json
import re
import signal
from pathlib import Path

import numpy as np

from ..runs import jsonable
from .result import Check

__all__ = ["Unavailable", "Outcome", "version_difference", "run_checks"]

#: Errors that come from an API change between the framework versions the course used (TensorFlow 2.14 with
#: Keras 2, older PyTorch) and the ones ffnn runs, not from a mistake of the team: (pattern, what changed).
VERSION_CHANGES = (
    (r"keras\.optimizers\.legacy|has no attribute 'legacy'|optimizers\.legacy",
     "keras.optimizers.legacy no longer exists in Keras 3 (use keras.optimizers.SGD)"),
    (r"unexpected keyword argument 'lr'|Argument\(s\) not recognized: \{'lr'|'lr' is not",
     "Keras 3 no longer accepts lr= (it is learning_rate=)"),
    (r"backend' has no attribute '(get_value|set_value)'|backend\.(get_value|set_value)",
     "tf.keras.backend.get_value/set_value changed in Keras 3"),
    (r"Unrecognized keyword arguments passed to (Dense|Flatten|InputLayer|Sequential)",
     "Keras 3 layers no longer take some keyword arguments of Keras 2 (e.g. input_shape=; use keras.Input)"),
    (r"keras\.engine|tensorflow\.python\.keras|keras\.src\.engine|No module named 'keras\.(engine|layers\.core)'",
     "Keras 2 internal modules no longer exist in Keras 3"),
    (r"experimental_run_tf_function|run_eagerly.*unexpected|steps_per_execution",
     "a compile() argument of Keras 2 changed in Keras 3"),
    (r"KerasTensor|Invalid dtype: (int|float)|Cannot convert .*Variable",
     "tensors and variables behave differently in Keras 3"),
    (r"torch\._six|torch\.autograd\.Variable\(.*volatile|No module named 'torch\._six'",
     "an API that newer PyTorch versions removed"),
)


def version_difference(error: str | None) -> str | None:
    """What changed between framework versions if ``error`` looks like such a change, else None."""
    if not error:
        return None
    for pattern, change in VERSION_CHANGES:
        if re.search(pattern, error):
            return change
    return None


class Unavailable(Exception):
    """A check cannot be judged: its probe did not run to the end. ``str()`` is the sentence to report."""

    def __init__(self, message: str, evidence: dict | None = None):
        super().__init__(message)
        self.evidence = evidence or {}


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


class Outcome:
    """The probes of one part's child: ``need(name)`` gives ``(facts, arrays)`` or raises :class:`Unavailable`."""

    def __init__(self, io_dir, run, timeout: float, memory_bytes: int, file: str):
        self.io_dir, self.run, self.timeout, self.memory_bytes, self.file = Path(io_dir), run, timeout, \
            memory_bytes, file
        try:
            self.probes = json.loads((self.io_dir / "result.json").read_text())["probes"]
        except (OSError, ValueError, KeyError, TypeError):
            self.probes = {}
        if not isinstance(self.probes, dict):
            self.probes = {}

    def _ended(self) -> str:
        """Why the child stopped before a probe ran."""
        run = self.run
        if run.timed_out:
            return f"stopped after {self.timeout:g} s (the time limit) before this check finished"
        lines = [l.strip() for l in run.output_tail.splitlines() if l.strip()]
        last = f": {lines[-1][:300]}" if lines else ""
        if run.returncode is not None and run.returncode < 0:
            return f"the program was killed by {_signal_name(run.returncode)} before this check finished{last}"
        if run.returncode not in (0, None):
            return f"the program ended with exit status {run.returncode} before this check finished{last}"
        return f"the program ended before this check finished{last}"

    def _failure(self, entry: dict) -> str:
        error = str(entry.get("error", "failed"))[:500]
        where = f" ({entry['where']})" if entry.get("where") else ""
        kind = entry.get("type")
        if kind == "MemoryError":
            return (f"ran out of memory: the limit is {self.memory_bytes / (1 << 30):g} GiB ({error}){where}; "
                    f"the team's code asks for more than a network this size needs")
        change = version_difference(error)
        if change is not None:
            return (f"could not run because of a version difference, not the team's mistake: {change} "
                    f"({error}){where}")
        return f"{error}{where}"

    def need(self, *names: str):
        """``(facts, arrays)`` of the first of ``names`` (or a tuple of pairs for several), else Unavailable."""
        found = []
        for name in names:
            entry = self.probes.get(name)
            if not isinstance(entry, dict):
                raise Unavailable(self._ended(), self._output_evidence())
            if not entry.get("ok"):
                message = self._failure(entry)
                if entry.get("after") == "import":
                    message = f"{self.file} could not be imported: {message}"
                elif entry.get("after") == "build":
                    message = f"the network could not be built: {message}"
                raise Unavailable(message, {"error_type": entry.get("type"), "where": entry.get("where")})
            arrays = {}
            if entry.get("arrays"):
                try:
                    with np.load(self.io_dir / f"{name}.npz", allow_pickle=False) as data:
                        arrays = {k: data[k] for k in data.files}
                except (OSError, ValueError) as exc:
                    raise Unavailable(f"the values the check needs could not be read back ({exc})") from None
            facts = entry.get("facts") if isinstance(entry.get("facts"), dict) else {}
            found.append((facts, arrays))
        return found[0] if len(found) == 1 else tuple(found)

    def _output_evidence(self) -> dict:
        evidence = {"exit_status": self.run.returncode}
        if self.run.output_cut:
            evidence["output_bytes"] = self.run.output_bytes
        return evidence


def run_checks(outcome: Outcome, judges) -> list:
    """Call each ``(check_id, judge)``: a judge returns a :class:`Check`; :class:`Unavailable` becomes an error."""
    checks = []
    for check_id, judge in judges:
        try:
            found = judge(outcome)
            found.evidence = jsonable(found.evidence)
            checks.append(found)
        except Unavailable as exc:
            evidence = {k: v for k, v in exc.evidence.items() if v is not None}
            message = str(exc) if str(exc).startswith("could not") else f"could not be checked: {exc}"
            checks.append(Check(check_id, "error", message, evidence))
    return checks
