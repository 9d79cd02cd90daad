"""The three backends behind one interface.

Each module ``numpy_net``, ``torch_net``, ``tf_net`` defines, in the same order:

- ``BACKEND`` (its name) and ``MODEL_FILE`` (its safe file name in a run
  directory: ``model.npz``, ``model.pt`` state_dict, ``model.keras``);
- the problem set's class (``NeuralNetwork``, ``NeuralNetworkTorch``,
  ``NeuralNetworkTf``), which implements :class:`ffnn.training.Trainable`
  (``prepare_data``, ``train_epoch``, ``loss_and_accuracy``,
  ``export_weights``, ``import_weights``) plus ``train_config``,
  ``fit_arrays(x, y, x_val=None, y_val=None, verbose=1, on_epoch_end=None)``,
  ``predict_proba(x)`` (n, k) and ``save_model(path)``;
- ``build(config, device="auto")``: a model for a :class:`ffnn.TrainConfig`,
  initialised with :func:`ffnn.weights.init_weights` so that every backend
  starts from the same weights for the same seed;
- ``load(path)``: the model saved by ``save_model`` (never unpickles).

Only this registry knows the module names; torch and tensorflow are imported
when their backend is first asked for.
"""
from __future__ import annotations

import importlib

from pathlib import Path

from ..errors import BackendUnavailable

__all__ = ["BACKENDS", "get_backend", "build", "load", "model_path", "BackendUnavailable"]

BACKENDS = {"numpy": "ffnn.backends.numpy_net", "torch": "ffnn.backends.torch_net",
            "tensorflow": "ffnn.backends.tf_net"}

_EXTRAS = {"torch": "torch", "tensorflow": "tensorflow"}


def get_backend(name: str):
    """The backend module called ``name`` (``numpy``, ``torch`` or ``tensorflow``)."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose from {', '.join(BACKENDS)}")
    try:
        return importlib.import_module(BACKENDS[name])
    except ModuleNotFoundError as exc:
        if name in _EXTRAS and exc.name and exc.name.split(".")[0] in ("torch", "tensorflow", "keras"):
            raise BackendUnavailable(
                f"the {name} backend needs {exc.name}: pip install 'ffnn[{_EXTRAS[name]}]'"
            ) from None
        raise


def model_path(path, model_file: str) -> Path:
    """Where a model given as ``path`` lives: a directory, or a path without a suffix, holds ``model_file``."""
    path = Path(path)
    return path / model_file if path.is_dir() or not path.suffix else path


def build(name: str, config, device: str = "auto"):
    """A fresh model of backend ``name`` for ``config``."""
    return get_backend(name).build(config, device=device)


def load(name: str, path):
    """The model of backend ``name`` saved at ``path``."""
    return get_backend(name).load(path)
