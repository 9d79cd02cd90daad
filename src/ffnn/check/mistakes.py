r"""The catalogue of known backward-pass mistakes, computed by ffnn, and matching a team's gradient against it.

The template's network has no biases, weights ``W_l`` of shape
(n_out, n_in), sigmoid hidden layers, a softmax output :math:`\hat y` and the
loss :math:`L = \frac1k \sum_j (y_j - \hat y_j)^2` for one sample. With
:math:`g = \partial L / \partial \hat y = \frac2k(\hat y - y)` the output
layer's error is the full softmax Jacobian applied to :math:`g`,

.. math:: \delta_L = J^\top g,\qquad J_{ij} = \frac{\partial \hat y_i}{\partial z_j} = \hat y_i(\delta_{ij} - \hat y_j),

then :math:`\delta_{l} = (W_{l+1}^\top \delta_{l+1}) \odot a_l(1 - a_l)` and
:math:`\partial L / \partial W_l = \delta_l\, a_{l-1}^\top` (docs/theory/theory.md,
"Condensed into deltas"; :func:`ffnn.functional.mse_grad`).

Each entry of :data:`MISTAKES` changes one step of that recipe; a team's
gradient is compared with every entry, each also negated, transposed and
rescaled by the best constant, and the first that fits within the tolerance
names the mistake (several joined with ``+``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MISTAKES", "forward", "gradient", "candidates", "Match", "match", "layer_report"]

#: name -> (what the team's code does, what to change). The empty name is the true gradient.
MISTAKES = {
    "softmax-jacobian-diagonal": (
        "the output layer's error multiplies mse_deriv element-wise by the softmax derivative's diagonal "
        "ŷ(1 − ŷ), as if each output depended only on its own input",
        "apply the full softmax Jacobian: δ = J·mse_deriv with J[i, j] = ŷ_i(δ_ij − ŷ_j), i.e. "
        "δ = ŷ ⊙ (g − (g·ŷ)) for g = mse_deriv (docs/theory/theory.md, 'Common mistakes'; the "
        "template's utils.softmax_deriv returns only the diagonal)"),
    "output-sigmoid": (
        "the output layer applies a sigmoid instead of the softmax, so the gradient belongs to another network",
        "end the forward pass with utils.softmax on the last layer's input and use the softmax Jacobian "
        "ŷ_i(δ_ij − ŷ_j) in the backward pass"),
    "missing-output-derivative": (
        "the output layer's error is mse_deriv alone: the softmax's derivative is left out (that is only "
        "right for softmax with cross-entropy, where it cancels)",
        "multiply by the softmax Jacobian: δ = J·mse_deriv with J[i, j] = ŷ_i(δ_ij − ŷ_j) "
        "(docs/theory/theory.md, 'Common mistakes')"),
    "wrong-sign": (
        "the gradient points the other way (the derivative of (y − ŷ)² with respect to ŷ is 2(ŷ − y)/k, "
        "not 2(y − ŷ)/k)",
        "check the sign of mse_deriv and of each step of the chain rule; the update then subtracts the gradient"),
    "transposed": (
        "each gradient is the transpose of its weight matrix's shape",
        "return δ_l a_{l−1}ᵀ (np.outer(delta, a_prev)), of the same shape as self.weights[l]"),
    "scaled": (
        "the gradient has the right direction but is a constant factor off",
        "this only rescales the learning rate; the loss is the mean over the 10 outputs, so "
        "mse_deriv is 2(ŷ − y)/10"),
}


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def forward(weights, x, hidden: str = "sigmoid", output: str = "softmax"):
    """``(a, z)``: every layer's output ``[x, a_1, ..., ŷ]`` and input ``[z_1, ..., z_L]`` for one sample."""
    fns = {"sigmoid": _sigmoid, "softmax": _softmax, "identity": lambda z: z, "tanh": np.tanh,
           "relu": lambda z: np.maximum(z, 0.0)}
    a, z = [np.asarray(x, dtype=float)], []
    for l, W in enumerate(weights):
        z.append(W @ a[-1])
        a.append(fns[output if l == len(weights) - 1 else hidden](z[-1]))
    return a, z


def _output_errors(y, a_soft, z_last) -> dict:
    """The output layer's error δ_L of each catalogue entry (the true one under "")."""
    k = len(y)
    p = a_soft
    g = 2.0 / k * (p - y)
    s = _sigmoid(z_last)
    gs = 2.0 / k * (s - y)
    return {
        "": [p * (g - g @ p)],
        "softmax-jacobian-diagonal": [g * p * (1 - p)],
        "missing-output-derivative": [g],
        # A sigmoid output with the sigmoid's derivative, or with the softmax's (diagonal or full) taken at z_L
        # or at the sigmoid's output.
        "output-sigmoid": [gs * s * (1 - s), gs * p * (1 - p), p * (gs - gs @ p), s * (gs - gs @ s)],
        "output-sigmoid+missing-output-derivative": [gs],
    }


def _backprop(weights, a, delta) -> list:
    grads = [None] * len(weights)
    for l in range(len(weights) - 1, -1, -1):
        grads[l] = np.outer(delta, a[l])
        if l:
            delta = (weights[l].T @ delta) * a[l] * (1 - a[l])
    return grads


def gradient(weights, x, y) -> list:
    """The true gradient of the template's loss for one sample, one array per weight matrix."""
    a, z = forward(weights, x)
    return _backprop(weights, a, _output_errors(np.asarray(y, float), a[-1], z[-1])[""][0])


def candidates(weights, x, y) -> list:
    """``[(name, gradient)]``: the true gradient (name "") first, then every catalogue variant."""
    weights = [np.asarray(W, dtype=float) for W in weights]
    a, z = forward(weights, x)
    found = []
    for name, deltas in _output_errors(np.asarray(y, float), a[-1], z[-1]).items():
        for delta in deltas:
            found.append((name, _backprop(weights, a, delta)))
    return found


def _cos(u, v) -> float:
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    return float(u.ravel() @ v.ravel() / (nu * nv)) if nu > 0 and nv > 0 else float("nan")


def _rel(u, v) -> float:
    nv = np.linalg.norm(v)
    return float(np.linalg.norm(u - v) / nv) if nv > 0 else float(np.linalg.norm(u))


def layer_report(grads, true) -> list:
    """Per layer: the relative error ``‖g − t‖/‖t‖`` and the cosine of the team's gradient to the true one.

    A gradient of the transposed shape is compared transposed; one of another shape gets no numbers.
    """
    rows = []
    for l, t in enumerate(true):
        g = grads[l] if l < len(grads) else None
        row = {"layer": l + 1, "shape": list(t.shape)}
        if g is not None and g.shape != t.shape and g.T.shape == t.shape:
            g = g.T
        if g is None or g.shape != t.shape:
            row["got_shape"] = None if g is None else list(np.shape(grads[l]))
        else:
            row["relative_error"] = _rel(g, t)
            cos = _cos(g, t)
            row["cosine"] = cos if np.isfinite(cos) else None  # JSON has no NaN
        rows.append(row)
    return rows


@dataclass
class Match:
    """The best fit of a team's gradient: ``names`` of the mistakes ([] for the true gradient), the scale."""

    names: list
    scale: float
    error: float  # the largest per-layer relative error of the fit

    @property
    def mistake(self) -> str:
        return "+".join(self.names) if self.names else ""


def match(grads, weights, x, y, tol: float = 1e-6) -> Match | None:
    """The catalogue entry that ``grads`` equals within ``tol`` (relative, per layer), or None for "other".

    Each entry is tried as it is and transposed, with the constant ``s`` that
    fits best (least squares over all layers); ``s < 0`` adds ``wrong-sign``
    and ``|s| ≠ 1`` adds ``scaled``. The true gradient is tried first, so a
    correct gradient is never named a mistake.
    """
    grads = [np.asarray(g, dtype=float) for g in grads]
    for name, cand in candidates(weights, x, y):
        if len(cand) != len(grads):
            return None
        for transposed in (False, True):
            g = [gi.T if transposed else gi for gi in grads]
            if any(gi.shape != ci.shape for gi, ci in zip(g, cand)):
                continue
            den = sum(float(ci.ravel() @ ci.ravel()) for ci in cand)
            if den == 0 or not all(np.all(np.isfinite(gi)) for gi in g):
                continue
            s = sum(float(gi.ravel() @ ci.ravel()) for gi, ci in zip(g, cand)) / den
            if s == 0:
                continue
            error = max(_rel(gi, s * ci) for gi, ci in zip(g, cand))
            if error <= tol:
                names = [n for n in name.split("+") if n]
                if s < 0:
                    names.append("wrong-sign")
                if transposed:
                    names.append("transposed")
                if abs(abs(s) - 1) > tol:
                    names.append("scaled")
                return Match(names, s, error)
    return None
