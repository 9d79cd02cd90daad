"""The trained runs a server shows: found, named, loaded once, and asked for predictions.

A run directory of ``ffnn train`` is one model; a directory of ``ffnn
compare`` stands for each backend run in it. Each model is named after its
backend (``numpy``, ``torch``, ``tensorflow``); when two runs share a backend
the later ones get ``-2``, ``-3``, ... so that every name is unique.

Predictions come from the backend's own ``predict_proba`` on the model loaded
with its safe loader (:meth:`ffnn.runs.Run.load_model`), exactly as ``ffnn
predict`` computes them. Hidden activations come from the exported weights
through :func:`ffnn.functional.forward` with the run's activation.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..runs import CONFIG, RunError, is_comparison, open_comparison, open_run

__all__ = ["Model", "Registry", "UnknownModel", "find_runs", "unique_names"]


class UnknownModel(LookupError):
    """No such model (or unit of a model): answered with 404 and this one-line message."""


def find_runs(paths) -> list[Path]:
    """The training run directories meant by ``paths``: each a run, or a comparison standing for its runs.

    Comparisons are read as ``ffnn evaluate`` and ``ffnn predict`` read them
    (:func:`ffnn.runs.open_comparison`: the runs ``summary.json`` lists, in its order).

    Raises
    ------
    RunError
        Naming the path that is neither (or a comparison whose runs are missing).
    """
    found = []
    for path in map(Path, paths):
        if is_comparison(path):
            found.extend(run.path for run in open_comparison(path).values())
        else:
            found.append(open_run(path).path)
    return found


def unique_names(backends) -> list[str]:
    """``["numpy", "torch", "numpy"]`` -> ``["numpy", "torch", "numpy-2"]``."""
    seen: dict[str, int] = {}
    names = []
    for backend in backends:
        seen[backend] = seen.get(backend, 0) + 1
        names.append(backend if seen[backend] == 1 else f"{backend}-{seen[backend]}")
    return names


def _finite(values) -> list:
    return [v if isinstance(v, (int, float)) and math.isfinite(v) else None for v in values]


@dataclass
class Model:
    """One loaded run: its model, exported weights and what the page shows about it."""

    name: str
    backend: str
    run_dir: Path
    model: object
    weights: list
    activation: str
    layer_sizes: list
    test_accuracy: float | None
    history: dict
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def load(cls, name: str, run_dir: Path) -> "Model":
        from ..functional import ACTIVATIONS

        run = open_run(run_dir)
        backend, model = run.load_model()
        config = run.read_config().get("config", {})
        activation = config.get("activation", "sigmoid")
        if activation not in ACTIVATIONS:
            raise RunError(f"{run.file(CONFIG)}: unknown activation {activation!r}; "
                           f"choose from {', '.join(ACTIVATIONS)}")
        metrics = run.read_metrics() if run.file("metrics.json").is_file() else {}
        history = run.read_history().history if run.file("history.json").is_file() else {}
        weights = [(np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64))
                   for W, b in model.export_weights()]
        sizes = [weights[0][0].shape[0]] + [W.shape[1] for W, _ in weights]
        accuracy = metrics.get("test_accuracy")
        return cls(name=name, backend=backend, run_dir=Path(run_dir), model=model, weights=weights,
                   activation=activation, layer_sizes=sizes,
                   test_accuracy=accuracy if isinstance(accuracy, (int, float)) else None,
                   history={k: _finite(history.get(k, [])) for k in ("accuracy", "val_accuracy")})

    def describe(self) -> dict:
        """The JSON record of ``GET /api/models``."""
        return {"name": self.name, "backend": self.backend, "layer_sizes": self.layer_sizes,
                "activation": self.activation, "test_accuracy": self.test_accuracy,
                "run": self.run_dir.name, "history": self.history}

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities (10,) of one prepared image ``x`` of shape (784,), as ``ffnn predict`` gets them."""
        with self.lock:  # a framework model is not promised to be safe under concurrent calls
            return np.asarray(self.model.predict_proba(x.reshape(1, -1)))[0]

    def hidden(self, x: np.ndarray) -> list[list[float]]:
        """Every hidden layer's output for one prepared image ``x`` (784,): a list per layer."""
        from ..functional import forward

        acts = forward(self.weights, x.reshape(1, -1).astype(np.float64), self.activation)
        return [a[0].tolist() for a in acts[:-1]]

    def unit_weights(self, unit: int) -> np.ndarray:
        """The incoming weights of first-layer ``unit`` as the input image's shape (28, 28) when square."""
        n_in, n_units = self.weights[0][0].shape
        if not 0 <= unit < n_units:
            raise UnknownModel(f"model {self.name} has {n_units} first-layer units (0-{n_units - 1}), got {unit}")
        column = self.weights[0][0][:, unit]
        side = math.isqrt(n_in)
        return column.reshape(side, side) if side * side == n_in else column.reshape(1, n_in)


class Registry:
    """The models a server shows, by name, in the order given."""

    def __init__(self, models):
        self.models = {m.name: m for m in models}

    @classmethod
    def from_paths(cls, paths) -> "Registry":
        """Load every run meant by ``paths`` (see :func:`find_runs`)."""
        runs = find_runs(paths)
        backends = [open_run(r).saved_model()[0] for r in runs]  # fail on a bad run before loading any
        return cls(Model.load(name, r) for name, r in zip(unique_names(backends), runs))

    def add(self, run_dir) -> Model:
        """Load the run in ``run_dir`` and serve it too, under its backend's next free name; returns it.

        The dict of models is replaced, not changed, so a request that is
        going through the models meanwhile sees the old one whole.
        """
        backend = open_run(run_dir).saved_model()[0]
        taken, i = set(self.models), 1
        name = backend
        while name in taken:
            i += 1
            name = f"{backend}-{i}"
        model = Model.load(name, Path(run_dir))
        self.models = {**self.models, name: model}
        return model

    def __len__(self):
        return len(self.models)

    def get(self, name: str) -> Model:
        """The model called ``name``; an :class:`UnknownModel` naming the served ones otherwise."""
        try:
            return self.models[name]
        except KeyError:
            raise UnknownModel(f"no model {name!r}; served: {', '.join(self.models)}") from None

    def predict(self, x: np.ndarray) -> list[dict]:
        """Every model's answer for one prepared image ``x`` (784,)."""
        out = []
        for m in self.models.values():
            p = m.probabilities(x)
            out.append({"name": m.name, "backend": m.backend, "prediction": int(np.argmax(p)),
                        "probabilities": [float(v) for v in p]})
        return out
