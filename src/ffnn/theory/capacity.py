r"""Part 1.4: a two-unit network with :math:`g(z) = z^2` that is logistic regression on :math:`x_1 x_2`.

The network (samples as rows, the layout of :mod:`ffnn.weights`) is

.. math::
    u = x W^{[1]} + b^{[1]}, \quad h = u \odot u, \quad
    \hat y = \sigma\!\left(h\, v + c\right),

with :math:`x \in \mathbb R^2`, :math:`W^{[1]} \in \mathbb R^{2\times 2}`,
:math:`v \in \mathbb R^2`. Because :math:`(x_1 + x_2)^2 - (x_1 - x_2)^2 = 4 x_1 x_2`,
the weights

.. math::
    W^{[1]} = \begin{pmatrix} 1 & 1 \\ 1 & -1 \end{pmatrix},\quad b^{[1]} = 0,\quad
    v = \left(\tfrac{\beta_1}{4}, -\tfrac{\beta_1}{4}\right),\quad c = \beta_0

make :math:`\hat y = \sigma(\beta_0 + \beta_1 x_1 x_2)` exactly. Conversely the
logit of any such network is a quadratic form in :math:`x`, so the trained
weights can be read back as coefficients (:func:`implied_coefficients`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

__all__ = ["sigmoid", "forward", "construction", "implied_coefficients", "log_loss_grads",
           "train_gd", "logistic_mle", "CapacityResult", "analyse", "symbolic_check", "flatten", "unflatten",
           "hessian", "curvature"]


def sigmoid(s):
    """Logistic function, stable for large ``|s|``."""
    s = np.asarray(s, dtype=float)
    e = np.exp(-np.abs(s))
    return np.where(s >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def forward(params: dict, x: np.ndarray) -> np.ndarray:
    """Output :math:`\\hat y` of shape (n,) for inputs ``x`` of shape (n, 2)."""
    u = x @ params["W1"] + params["b1"]  # (n, 2)
    return sigmoid((u * u) @ params["v"] + params["c"])


def construction(beta0: float, beta1: float) -> dict:
    """The weights that make the network equal :math:`\\sigma(\\beta_0 + \\beta_1 x_1 x_2)`."""
    return {"W1": np.array([[1.0, 1.0], [1.0, -1.0]]), "b1": np.zeros(2),
            "v": np.array([beta1 / 4.0, -beta1 / 4.0]), "c": float(beta0)}


def symbolic_check() -> sp.Expr:
    """sympy's simplification of logit(construction) minus :math:`\\beta_0 + \\beta_1 x_1 x_2` (0 if exact)."""
    x1, x2, b0, b1 = sp.symbols("x1 x2 beta0 beta1", real=True)
    u = (x1 + x2, x1 - x2)
    logit = b0 + b1 / 4 * u[0] ** 2 - b1 / 4 * u[1] ** 2
    return sp.simplify(logit - (b0 + b1 * x1 * x2))


def implied_coefficients(params: dict) -> dict:
    r"""Expand the network's logit :math:`c + \sum_j v_j (w_{1j} x_1 + w_{2j} x_2 + b_j)^2`.

    Returns the coefficients of ``1, x1, x2, x1^2, x2^2, x1*x2``; the first and
    last are the network's :math:`\hat\beta_0` and :math:`\hat\beta_1`.
    """
    W, b, v, c = params["W1"], params["b1"], params["v"], params["c"]
    return {
        "1": float(c + v @ (b * b)),
        "x1": float(2 * v @ (b * W[0])),
        "x2": float(2 * v @ (b * W[1])),
        "x1^2": float(v @ (W[0] * W[0])),
        "x2^2": float(v @ (W[1] * W[1])),
        "x1*x2": float(2 * v @ (W[0] * W[1])),
    }


def log_loss_grads(params: dict, x: np.ndarray, y: np.ndarray):
    r"""Mean log-loss and its gradient with respect to every parameter.

    With :math:`s = h v + c` and :math:`\partial L/\partial s = (\hat y - y)/n`
    (the sigmoid + log-loss shortcut), the chain rule through :math:`h = u^2`
    gives :math:`\partial L/\partial u = (\partial L/\partial s)\, v^\top \odot 2u`.
    """
    u = x @ params["W1"] + params["b1"]
    h = u * u
    s = h @ params["v"] + params["c"]
    p = sigmoid(s)
    # -y log p - (1 - y) log(1 - p) = log(1 + e^s) - y s, exact for any s.
    loss = np.mean(np.logaddexp(0.0, s) - y * s)
    ds = (p - y) / len(y)  # (n,)
    du = ds[:, None] * params["v"][None, :] * 2 * u  # (n, 2)
    grads = {"W1": x.T @ du, "b1": du.sum(0), "v": h.T @ ds, "c": float(ds.sum())}
    return float(loss), grads


def train_gd(x, y, steps: int = 3000, learning_rate: float = 0.5, seed: int = 0, init_scale: float = 0.5):
    """Full-batch gradient descent from random weights; returns (params, losses)."""
    rng = np.random.default_rng(seed)
    params = {"W1": rng.normal(0, init_scale, (2, 2)), "b1": rng.normal(0, init_scale, 2),
              "v": rng.normal(0, init_scale, 2), "c": 0.0}
    losses = []
    for _ in range(steps):
        loss, grads = log_loss_grads(params, x, y)
        losses.append(loss)
        for k in params:
            params[k] = params[k] - learning_rate * grads[k]
    losses.append(log_loss_grads(params, x, y)[0])
    return params, np.array(losses)


def logistic_mle(features: np.ndarray, y: np.ndarray, iterations: int = 50) -> np.ndarray:
    """Maximum-likelihood logistic regression by Newton's method (no penalty)."""
    beta = np.zeros(features.shape[1])
    for _ in range(iterations):
        p = sigmoid(features @ beta)
        hess = features.T @ (features * (p * (1 - p))[:, None])
        step = np.linalg.solve(hess, features.T @ (y - p))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-12:
            break
    return beta


PARAMETERS = (("W1", (2, 2)), ("b1", (2,)), ("v", (2,)), ("c", ()))

#: Nine weights map onto six coefficients of a quadratic logit: three directions leave the loss unchanged.
FLAT_DIRECTIONS = 9 - 6


def flatten(params: dict) -> np.ndarray:
    """The nine parameters as one vector: ``W1`` (row-major), ``b1``, ``v``, ``c``."""
    return np.concatenate([np.ravel(params[k]).astype(float) for k, _ in PARAMETERS])


def unflatten(theta: np.ndarray) -> dict:
    """The inverse of :func:`flatten`."""
    out, i = {}, 0
    for k, shape in PARAMETERS:
        size = int(np.prod(shape))
        out[k] = theta[i:i + size].reshape(shape) if shape else float(theta[i])
        i += size
    return out


def hessian(params: dict, x: np.ndarray, y: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """The 9x9 Hessian of the mean log-loss: central differences of the exact gradient, symmetrised."""
    theta = flatten(params)

    def grad(t):
        return flatten(log_loss_grads(unflatten(t), x, y)[1])

    cols = []
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = h
        cols.append((grad(theta + e) - grad(theta - e)) / (2 * h))
    H = np.column_stack(cols)
    return (H + H.T) / 2


def curvature(params: dict, x: np.ndarray, y: np.ndarray, rel_tol: float = 1e-7) -> dict:
    r"""Where gradient descent ended: gradient norm, Hessian eigenvalues and what they say.

    An eigenvalue counts as zero when :math:`|\lambda| \le` ``rel_tol`` times
    the largest :math:`|\lambda|` (the finite differences' own error is far
    below that). The loss depends on the nine weights only through the six
    coefficients of the quadratic logit (:func:`implied_coefficients`), so
    at a minimum three directions are flat: three eigenvalues are zero.
    ``kind`` is ``"saddle point"`` when an eigenvalue is negative (a direction
    of descent, so not a minimum: a saddle or the edge of a plateau),
    ``"local minimum"`` when all are positive, ``"minimum up to flat
    directions"`` when the rest are positive and at most three are zero, and
    ``"inconclusive"`` otherwise.
    """
    eig = np.linalg.eigvalsh(hessian(params, x, y))
    tol = rel_tol * float(np.max(np.abs(eig)))
    negative, zero = int(np.sum(eig < -tol)), int(np.sum(np.abs(eig) <= tol))
    if negative:
        kind = "saddle point"
    elif zero == 0:
        kind = "local minimum"
    else:
        kind = "minimum up to flat directions" if zero <= FLAT_DIRECTIONS else "inconclusive"
    grad = flatten(log_loss_grads(params, x, y)[1])
    return {"eigenvalues": [float(v) for v in eig], "grad_norm": float(np.linalg.norm(grad)),
            "n_negative": negative, "n_zero": zero, "tol": tol, "kind": kind}


@dataclass(frozen=True)
class CapacityResult:
    symbolic_residual: sp.Expr
    n_construction_checks: int
    construction_max_error: float
    beta_true: tuple
    n_samples: int
    steps: int
    learning_rate: float
    loss_start: float
    loss_end: float
    coefficients: dict       # the best restart's logit, expanded
    restart_losses: tuple    # final training loss of each random start
    restart_v: tuple         # each start's output weights v (their signs tell the local minimum)
    best_restart: int
    beta_mle: tuple          # logistic regression on (1, x1*x2) fitted to the same sample
    beta_mle_quadratic: dict  # logistic regression on all six quadratic terms: what GD should reach
    loss_mle_quadratic: float  # its mean log-loss, the lowest any weights can reach on this sample
    losses: np.ndarray       # the best restart's loss before each step and after the last
    restart_curves: tuple    # every restart's losses
    restart_curvature: tuple  # :func:`curvature` where each restart ended


def draw_sample(beta, n_samples: int, seed: int = 0):
    """Inputs ``x`` (n, 2) from N(0, I) and labels ``y`` (n,) in {0., 1.} from Bernoulli(σ(β0 + β1 x1 x2))."""
    if n_samples < 10:
        raise ValueError(f"n_samples must be at least 10, got {n_samples}")
    rng = np.random.default_rng([seed, 2])
    x = rng.normal(size=(n_samples, 2))
    y = (rng.random(n_samples) < sigmoid(beta[0] + beta[1] * x[:, 0] * x[:, 1])).astype(float)
    return x, y


QUADRATIC_TERMS = ("1", "x1", "x2", "x1^2", "x2^2", "x1*x2")


def quadratic_features(x: np.ndarray) -> np.ndarray:
    """Columns ``1, x1, x2, x1^2, x2^2, x1*x2`` of shape (n, 6)."""
    x1, x2 = x[:, 0], x[:, 1]
    return np.column_stack([np.ones(len(x)), x1, x2, x1 * x1, x2 * x2, x1 * x2])


def analyse(beta=(-0.5, 2.0), n_samples: int = 5000, steps: int = 3000, learning_rate: float = 0.5,
            seed: int = 0, n_construction_checks: int = 20, restarts: int = 4) -> CapacityResult:
    """Verify the construction numerically, then recover ``beta`` by gradient descent.

    Gradient descent runs from ``restarts`` random starts and the run with the
    lowest training loss is read back: the loss is not convex in the weights,
    and a start whose two output weights share a sign can settle where the
    quadratic form is semidefinite, which :math:`x_1 x_2` is not.
    """
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(n_construction_checks):
        b0, b1 = rng.normal(0, 3, 2)
        x = rng.normal(0, 2, (1000, 2))
        target = sigmoid(b0 + b1 * x[:, 0] * x[:, 1])
        worst = max(worst, float(np.max(np.abs(forward(construction(b0, b1), x) - target))))

    x, y = draw_sample(beta, n_samples, seed)
    runs = [train_gd(x, y, steps=steps, learning_rate=learning_rate, seed=seed + 1 + r) for r in range(restarts)]
    best = int(np.argmin([losses[-1] for _, losses in runs]))
    params, losses = runs[best]
    mle2 = logistic_mle(np.column_stack([np.ones(n_samples), x[:, 0] * x[:, 1]]), y)
    mle6 = logistic_mle(quadratic_features(x), y)
    s6 = quadratic_features(x) @ mle6
    loss6 = float(np.mean(np.logaddexp(0.0, s6) - y * s6))
    return CapacityResult(
        symbolic_residual=symbolic_check(), n_construction_checks=n_construction_checks,
        construction_max_error=worst, beta_true=tuple(float(b) for b in beta), n_samples=n_samples,
        steps=steps, learning_rate=learning_rate, loss_start=float(losses[0]), loss_end=float(losses[-1]),
        coefficients=implied_coefficients(params),
        restart_losses=tuple(float(l[-1]) for _, l in runs), restart_v=tuple(tuple(map(float, p["v"])) for p, _ in runs),
        best_restart=best, beta_mle=(float(mle2[0]), float(mle2[1])),
        beta_mle_quadratic=dict(zip(QUADRATIC_TERMS, map(float, mle6))), loss_mle_quadratic=loss6, losses=losses,
        restart_curves=tuple(l for _, l in runs),
        restart_curvature=tuple(curvature(p, x, y) for p, _ in runs),
    )
