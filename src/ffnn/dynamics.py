r"""What happens inside a network while it trains, measured on a fixed probe set.

After every epoch the training loop hands the exported weights to
:func:`measure`, which recomputes, with the NumPy math of
:mod:`ffnn.functional` (so every backend reports the same numbers for the
same weights), on a probe set of up to :data:`PROBE_SIZE` training images:

``weight_norm_l``
    Frobenius norm :math:`\lVert W_l \rVert_F` of layer ``l``'s weights (layers count from 1).
``grad_norm_l``
    Frobenius norm of :math:`\partial L / \partial W_l`, the gradient of the
    training loss (mean over the probe set) with respect to those weights.
``saturation_l`` (hidden layers only)
    Share of saturated units, as the activation's record says it saturates
    (:attr:`ffnn.functional.Activation.saturation`): for bounds (sigmoid,
    tanh), the share of (sample, unit) outputs within :data:`SATURATION_MARGIN`
    of them, where the derivative nearly vanishes; for an activation that dies
    (ReLU), the share of units that output 0 for every probe image (no
    gradient ever reaches them).
``predicted_c``
    Share of probe images the network assigns to class ``c`` (classes count from 0).
"""
from __future__ import annotations

import numpy as np

from .functional import forward, get_activation, get_loss

__all__ = ["PROBE_SIZE", "SATURATION_MARGIN", "probe_indices", "saturation", "gradients", "measure",
           "columns", "series"]

#: Training images in the probe set (all of them if there are fewer).
PROBE_SIZE = 1000
#: An output this close to a bound of a bounded activation counts as saturated.
SATURATION_MARGIN = 0.01


def probe_indices(n: int, seed: int, size: int = PROBE_SIZE) -> np.ndarray:
    """Sorted indices of ``min(size, n)`` distinct training samples drawn by ``default_rng([seed, 2])``."""
    if n <= 0 or size <= 0:
        raise ValueError(f"a probe set needs a positive number of samples, got n={n}, size={size}")
    rng = np.random.default_rng([seed, 2])
    return np.sort(rng.choice(n, size=min(size, n), replace=False))


def saturation(a, activation: str) -> float:
    """Share of saturated units in a hidden layer's output ``a`` of shape (n_samples, n_units).

    An activation with bounds (sigmoid, tanh): share of entries within
    :data:`SATURATION_MARGIN` of them. One that dies (ReLU): share of columns
    that are 0 for every sample.
    """
    record = get_activation(activation)
    if record.dies:
        return float(np.mean(~(a > 0).any(axis=0)))
    lo, hi = record.saturation
    return float(np.mean((a < lo + SATURATION_MARGIN) | (a > hi - SATURATION_MARGIN)))


def gradients(weights, x, y, activation: str = "sigmoid", loss: str = "cross-entropy", acts=None) -> list:
    """Gradients ``[(dW_1, db_1), ...]`` of the mean ``loss`` on ``(x, y)``, by textbook backpropagation.

    ``x`` of shape (n, n_inputs), ``y`` one-hot (n, n_classes); ``acts`` is
    :func:`ffnn.functional.forward`'s output for ``x`` if already computed.
    ``dZ_L`` comes from the loss table, then for each layer, from the last:
    ``dW = A_prev.T @ dZ``, ``db = dZ.sum(0)``, ``dA_prev = dZ @ W.T`` and
    ``dZ_prev = backward(dA_prev, A_prev)``.
    """
    backward = get_activation(activation).backward
    acts = forward(weights, x, activation) if acts is None else acts
    dz = get_loss(loss).grad(acts[-1], y)
    grads = [None] * len(weights)
    for l in range(len(weights) - 1, -1, -1):
        a_prev = x if l == 0 else acts[l - 1]
        grads[l] = (a_prev.T @ dz, dz.sum(axis=0))
        if l:
            dz = backward(dz @ weights[l][0].T, a_prev)
    return grads


def measure(weights, x, labels, activation: str = "sigmoid", loss: str = "cross-entropy") -> dict:
    """The probe statistics of ``weights`` as flat columns (see the module docstring).

    Parameters
    ----------
    weights : list of (W, b)
        In the layout of :mod:`ffnn.weights`.
    x : array of shape (n, n_inputs)
        The probe images, prepared (float in [0, 1]).
    labels : int array of shape (n,)
    """
    weights = [(np.asarray(W), np.asarray(b)) for W, b in weights]
    x = np.asarray(x, dtype=weights[0][0].dtype)
    k = weights[-1][0].shape[1]
    y = np.zeros((len(x), k), dtype=x.dtype)
    y[np.arange(len(x)), np.asarray(labels, dtype=np.intp)] = 1
    stats = {}
    # A diverging run's huge weights overflow here; the loop reports the divergence, not numpy.
    with np.errstate(all="ignore"):
        acts = forward(weights, x, activation)
        grads = gradients(weights, x, y, activation, loss, acts)
        for l, ((W, _), (dW, _)) in enumerate(zip(weights, grads), start=1):
            stats[f"weight_norm_{l}"] = float(np.linalg.norm(W))
            stats[f"grad_norm_{l}"] = float(np.linalg.norm(dW))
    for l, a in enumerate(acts[:-1], start=1):
        stats[f"saturation_{l}"] = saturation(a, activation)
    counts = np.bincount(acts[-1].argmax(axis=1), minlength=k)
    for c in range(k):
        stats[f"predicted_{c}"] = float(counts[c] / len(x))
    return stats


def columns(layer_sizes) -> tuple:
    """The column names :func:`measure` returns for a network of ``layer_sizes``, in order."""
    n_layers, k = len(layer_sizes) - 1, layer_sizes[-1]
    return (tuple(f"{name}_{l}" for l in range(1, n_layers + 1) for name in ("weight_norm", "grad_norm"))
            + tuple(f"saturation_{l}" for l in range(1, n_layers))
            + tuple(f"predicted_{c}" for c in range(k)))


def series(dynamics: dict, name: str) -> list:
    """``[values of name_1 per epoch, name_2 ...]`` from a dict of per-epoch columns (e.g. ``history.dynamics``)."""
    prefix = f"{name}_"
    keys = sorted((k for k in dynamics if k.startswith(prefix) and k[len(prefix):].isdigit()),
                  key=lambda k: int(k[len(prefix):]))
    return [list(dynamics[k]) for k in keys]
