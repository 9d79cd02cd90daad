"""The one weight layout all backends exchange, its initialisation and its file.

Layout: a list with one ``(W, b)`` pair per layer, ``W`` of shape
``(n_in, n_out)`` and ``b`` of shape ``(n_out,)``, so a layer computes
``Z = A @ W + b`` with samples as rows. PyTorch's ``nn.Linear.weight`` is
``W.T``; a Keras ``Dense`` kernel is ``W`` as it is.

On disk (``.npz``, loaded with ``allow_pickle=False``): arrays ``W0, b0, W1,
b1, ...`` in layer order, and optionally ``meta``, a JSON string (the NumPy
backend keeps its config there).
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from .atomic import atomic_write
from .functional import get_activation

__all__ = ["init_weights", "check_weights", "save_weights", "load_weights", "layer_sizes_of"]


def init_weights(layer_sizes, seed: int = 1, dtype="float32", activation: str = "sigmoid"):
    r"""Uniform random weights and zero biases, from ``np.random.default_rng(seed)``.

    A layer followed by ``activation`` (a hidden layer) draws from
    :math:`U(-r, r)` with Glorot's :math:`r = \sqrt{6/(n_{in}+n_{out})}`, or,
    for an activation whose record says ``init="he"``
    (:class:`ffnn.functional.Activation`; ReLU), He's :math:`r = \sqrt{6/n_{in}}`,
    which keeps the variance of the pre-activations from layer to layer when
    half the units are zero. The softmax output layer is always Glorot.

    The same ``(layer_sizes, seed, activation)`` gives the same weights in every backend.
    """
    hidden_he = get_activation(activation).init == "he"
    rng = np.random.default_rng(seed)
    weights = []
    n_layers = len(layer_sizes) - 1
    for l, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:])):
        he = hidden_he and l < n_layers - 1
        limit = np.sqrt(6.0 / n_in) if he else np.sqrt(6.0 / (n_in + n_out))
        W = rng.uniform(-limit, limit, size=(n_in, n_out)).astype(dtype)
        weights.append((W, np.zeros(n_out, dtype=dtype)))
    return weights


def layer_sizes_of(weights) -> tuple:
    """``(n_inputs, ..., n_classes)`` of a weight list."""
    return (weights[0][0].shape[0],) + tuple(W.shape[1] for W, _ in weights)


def check_weights(weights, layer_sizes=None):
    """Validate the layout (and optionally the sizes); return it as float arrays."""
    if not isinstance(weights, (list, tuple)) or not weights:
        raise ValueError("weights must be a non-empty list of (W, b) pairs")
    out = []
    for i, pair in enumerate(weights):
        if len(pair) != 2:
            raise ValueError(f"layer {i}: expected a (W, b) pair")
        W, b = (np.asarray(a) for a in pair)
        if W.ndim != 2 or b.shape != (W.shape[1],):
            raise ValueError(f"layer {i}: W must be (n_in, n_out) and b (n_out,), got {W.shape} and {b.shape}")
        if i and W.shape[0] != out[-1][0].shape[1]:
            raise ValueError(f"layer {i}: W has {W.shape[0]} inputs, previous layer has {out[-1][0].shape[1]} outputs")
        out.append((W, b))
    if layer_sizes is not None and layer_sizes_of(out) != tuple(layer_sizes):
        raise ValueError(f"weights have layer sizes {layer_sizes_of(out)}, expected {tuple(layer_sizes)}")
    return out


def save_weights(path, weights, meta: dict | None = None) -> Path:
    """Write ``weights`` (and an optional JSON-able ``meta``, e.g. a model's config) to ``path`` atomically."""
    weights = check_weights(weights)
    arrays = {}
    for i, (W, b) in enumerate(weights):
        arrays[f"W{i}"], arrays[f"b{i}"] = W, b
    if meta is not None:
        arrays["meta"] = np.array(json.dumps(meta))  # a unicode array: loads without pickle
    return atomic_write(path, lambda fh: np.savez(fh, **arrays))


def load_weights(path, with_meta: bool = False):
    """Read weights written by :func:`save_weights` (never unpickles).

    Returns the weights, or ``(weights, meta)`` with ``with_meta=True``
    (``meta`` is None if none was saved). A file that is missing, unreadable or
    not in this layout raises ``ValueError`` naming it.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads(str(arrays.pop("meta"))) if "meta" in arrays else None
    except FileNotFoundError:
        raise ValueError(f"{path}: file not found") from None
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:  # ValueError: not .npz, or bad JSON
        raise ValueError(f"{path}: cannot read weights ({exc})") from None
    n = len([k for k in arrays if k.startswith("W")])
    if n == 0 or set(arrays) != {f"{p}{i}" for i in range(n) for p in "Wb"}:
        raise ValueError(f"{path}: not an ffnn weight file (arrays {sorted(arrays)})")
    weights = [(arrays[f"W{i}"], arrays[f"b{i}"]) for i in range(n)]
    weights = check_weights(weights)
    return (weights, meta) if with_meta else weights
