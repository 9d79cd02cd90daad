"""Run directories: what ``ffnn train`` and ``ffnn compare`` leave behind.

A training run directory holds::

    config.json     format, backend, device, data and the TrainConfig
    history.json    per-epoch record (rewritten after every epoch)
    history.csv     the same as a table
    metrics.json    test accuracy, loss, per-class precision/recall, confusion matrix, diagnosis
    model.npz | model.pt | model.keras   the model in its backend's safe format
    accuracy.png, loss.png, confusion.png, misclassified.png
    weights.png, dynamics.png   the first layer's weights, per-layer saturation and gradients

A comparison directory holds ``summary.json``, ``accuracy.png`` and one run
directory per backend (:func:`open_comparison`). Every file is written atomically: to a temporary file
in the same directory, flushed to disk, then renamed over the target, so a
crash or Ctrl-C leaves either the old file or the new one, never half of one.

``config.json`` carries a ``format`` (:data:`CONFIG_FORMAT`); a file without
one was written before formats were numbered and reads as format 1, which
has the same fields. A newer format is refused by name rather than misread.
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np

from .atomic import atomic_write, atomic_write_text
from .errors import RunError
from .history import History

__all__ = ["CONFIG_FORMAT", "RunError", "jsonable",
           "atomic_write", "atomic_write_text", "write_json", "read_json", "Run",
           "default_run_dir", "open_run", "is_comparison", "open_comparison", "open_runs", "COMPARE_SUMMARY"]

CONFIG = "config.json"
HISTORY_JSON = "history.json"
HISTORY_CSV = "history.csv"
METRICS = "metrics.json"
COMPARE_SUMMARY = "summary.json"
#: The layout of ``config.json``; 1 (no ``format`` field) had the same fields.
CONFIG_FORMAT = 2


def jsonable(value):
    """Numpy scalars and arrays as Python values; NaN and infinities as null."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(path, data) -> Path:
    """Write ``data`` as indented JSON, atomically (NaN becomes null)."""
    return atomic_write_text(path, json.dumps(jsonable(data), indent=2, allow_nan=False) + "\n")


def read_json(path) -> dict:
    """Read a JSON object; a missing or malformed file is a :class:`RunError` naming it."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunError(f"{path}: cannot read JSON ({exc})") from None
    if not isinstance(data, dict):
        raise RunError(f"{path}: expected a JSON object, found {type(data).__name__}")
    return data


def default_run_dir(label: str, root="runs") -> Path:
    """``runs/<YYYYmmdd-HHMMSS>-<label>``, with ``-2``, ``-3``... if that exists already."""
    base = Path(root) / f"{time.strftime('%Y%m%d-%H%M%S')}-{label}"
    path, i = base, 1
    while path.exists():
        i += 1
        path = base.with_name(f"{base.name}-{i}")
    return path


class Run:
    """One training run's directory.

    Parameters
    ----------
    path : str or Path
        Created (with parents) on first write.
    """

    def __init__(self, path):
        self.path = Path(path)

    def __repr__(self):
        return f"Run({str(self.path)!r})"

    def file(self, name: str) -> Path:
        return self.path / name

    # ---------------------------------------------------------------- writing

    def write_config(self, config: dict) -> Path:
        """``config.json``: ``config`` (backend, device, data, TrainConfig, ...) under the current ``format``."""
        return write_json(self.file(CONFIG), {"format": CONFIG_FORMAT, **config})

    def write_history(self, history: History) -> None:
        """``history.json`` and ``history.csv``; called after every epoch."""
        write_json(self.file(HISTORY_JSON), history.to_dict())
        atomic_write_text(self.file(HISTORY_CSV), history.to_csv())

    def write_metrics(self, metrics: dict) -> Path:
        return write_json(self.file(METRICS), metrics)

    def write_inside(self, history: History, weights, label: str = "") -> tuple:
        """``weights.png`` (first-layer weights as tiles) and ``dynamics.png`` (saturation, gradient norms)."""
        from . import plots

        prefix = f"{label}: " if label else ""
        return (plots.plot_weights(weights, self.file("weights.png"),
                                   title=f"{prefix}first layer, incoming weights of each hidden unit"),
                plots.plot_dynamics(history, self.file("dynamics.png"), title=f"{prefix}inside the network"))

    # ---------------------------------------------------------------- reading

    def read_config(self) -> dict:
        """``config.json``; one without a ``format`` is format 1; a format this version does not know is a
        :class:`RunError` naming it."""
        config = read_json(self.file(CONFIG))
        fmt = config.get("format", 1)
        if fmt not in (1, CONFIG_FORMAT):
            raise RunError(f"{self.file(CONFIG)}: format {fmt!r} is not one this version of ffnn reads "
                           f"(1 or {CONFIG_FORMAT}); a newer ffnn wrote it")
        return config

    def read_history(self) -> History:
        data = read_json(self.file(HISTORY_JSON))
        try:
            return History.from_dict(data)
        except (KeyError, TypeError, AttributeError) as exc:
            raise RunError(f"{self.file(HISTORY_JSON)}: not a training history ({exc})") from None

    def read_metrics(self) -> dict:
        return read_json(self.file(METRICS))

    def class_names(self) -> tuple:
        """The names of the classes the run was trained on, by label.

        ``config.json`` records them; a run written before it did gets those
        of the dataset it names (:func:`ffnn.data.class_names`).
        """
        from .data import class_names

        data = self.read_config().get("data") or {}
        names = data.get("classes")
        if isinstance(names, list) and names and all(isinstance(n, str) for n in names):
            return tuple(names)
        return class_names(data.get("dataset", "mnist"), data.get("data_dir"))

    def model_file(self, backend: str) -> Path:
        """Where the model of ``backend`` lives in this run (its module's ``MODEL_FILE``)."""
        from .backends import get_backend

        return self.file(get_backend(backend).MODEL_FILE)

    def saved_model(self) -> tuple[str, Path]:
        """The backend named in ``config.json`` and its model file, which must exist."""
        backend = self.read_config().get("backend")
        if not isinstance(backend, str):
            raise RunError(f"{self.file(CONFIG)}: names no backend")
        path = self.model_file(backend)
        if not path.is_file():
            raise RunError(f"{self.path}: holds no model ({path.name} is missing)")
        return backend, path

    def load_model(self):
        """The backend name and the saved model (loaded without unpickling)."""
        from .backends import load

        backend, path = self.saved_model()
        return backend, load(backend, path)


def open_run(path) -> Run:
    """The training run at ``path``; a clear :class:`RunError` if it is not one."""
    path = Path(path)
    if not path.exists():
        raise RunError(f"{path}: run directory does not exist")
    if not path.is_dir():
        raise RunError(f"{path}: not a directory")
    if not (path / CONFIG).is_file():
        if (path / COMPARE_SUMMARY).is_file():
            subs = sorted(p for p in path.iterdir() if (p / CONFIG).is_file())
            hint = ", ".join(str(p) for p in subs) or "none found"
            raise RunError(f"{path}: a comparison; give one of its backend runs ({hint})")
        raise RunError(f"{path}: not an ffnn run directory (no {CONFIG})")
    return Run(path)


def is_comparison(path) -> bool:
    """Whether ``path`` is a comparison directory written by ``ffnn compare``."""
    path = Path(path)
    return path.is_dir() and not (path / CONFIG).is_file() and (path / COMPARE_SUMMARY).is_file()


def open_comparison(path) -> dict:
    """The backend runs of the comparison at ``path``: ``{backend: Run}``, in the order ``summary.json`` lists them.

    ``ffnn compare`` writes each backend's run into ``path/<backend>``; they
    are found there, so a comparison directory can be moved or copied whole.
    """
    path = Path(path)
    summary_file = path / COMPARE_SUMMARY
    backends = read_json(summary_file).get("backends")
    if not isinstance(backends, dict) or not backends:
        raise RunError(f"{summary_file}: lists no backend runs")
    runs = {}
    for name in backends:
        run = Run(path / name)
        if not run.file(CONFIG).is_file():
            raise RunError(f"{path}: the {name} run listed in {COMPARE_SUMMARY} is missing ({run.path})")
        runs[name] = run
    return runs


def open_runs(path) -> tuple[bool, dict]:
    """``(is a comparison, {backend: Run})`` for a run or a comparison directory; a bad one fails here.

    Every run's model must be there before any work starts.
    """
    if not is_comparison(path):
        run = open_run(path)
        return False, {run.saved_model()[0]: run}
    runs = open_comparison(path)
    for run in runs.values():
        run.saved_model()
    return True, runs
