r"""Part 1.2: the gradient of :math:`\mathrm{ReLU}(b + x^\top w)` and its kink.

For :math:`z = b + x^\top w`,

.. math::
    \frac{\partial}{\partial b}\mathrm{ReLU}(z) = \mathbf 1[z > 0], \qquad
    \frac{\partial}{\partial w_j}\mathrm{ReLU}(z) = x_j\,\mathbf 1[z > 0]
    \qquad (z \ne 0).

At :math:`z = 0` ReLU has no derivative: the one-sided derivatives are 0 and
1. Any value in :math:`[0, 1]` is a subgradient; we use 0, as PyTorch and
TensorFlow do, so a unit that sits exactly at the kink passes no gradient.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from .numeric import central_difference

__all__ = ["relu", "relu_grad", "ActivationResult", "analyse", "central_difference"]


def relu(z):
    """:math:`\\max(0, z)`, elementwise."""
    return np.maximum(0.0, z)


def relu_grad(b: float, x: np.ndarray, w: np.ndarray, at_kink: float = 0.0):
    r"""Gradient of :math:`\mathrm{ReLU}(b + x^\top w)` with respect to ``b`` and ``w``.

    Parameters
    ----------
    b : float
    x, w : arrays of shape (d,)
    at_kink : float, default 0.0
        The value used for :math:`\partial\,\mathrm{ReLU}/\partial z` at
        :math:`z = 0`, where no derivative exists (any value in [0, 1] is a
        subgradient).

    Returns
    -------
    (d_b, d_w) : float and array of shape (d,)
    """
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    if x.shape != w.shape or x.ndim != 1:
        raise ValueError(f"x and w must be vectors of one length, got shapes {x.shape} and {w.shape}")
    if not 0.0 <= at_kink <= 1.0:
        raise ValueError(f"at_kink must be a subgradient value in [0, 1], got {at_kink}")
    z = b + x @ w
    slope = 1.0 if z > 0 else (at_kink if z == 0 else 0.0)
    return slope, slope * x


@dataclass(frozen=True)
class ActivationResult:
    d_b: sp.Expr                 # sympy's derivative with respect to b
    d_w: sp.Expr                 # sympy's derivative with respect to w (scalar x, w)
    sympy_heaviside_at_0: sp.Expr
    right_derivative: sp.Expr   # one-sided derivatives of ReLU at 0, by sympy limits
    left_derivative: sp.Expr
    n_checks: int
    d: int
    max_abs_error: float        # ours vs central differences, away from the kink
    min_distance_to_kink: float
    kink_central_difference: float  # what a central difference returns at z = 0
    kink_right_difference: float
    kink_left_difference: float


def analyse(n_checks: int = 200, d: int = 5, seed: int = 0, h: float = 1e-6) -> ActivationResult:
    """Derive the gradient with sympy and check it against central differences.

    Random ``(b, x, w)`` with :math:`|z| < 10h` are redrawn, so every check is
    away from the kink (the finite difference straddles it otherwise).
    """
    b, x, w, z, t = sp.symbols("b x w z t", real=True)
    expr = sp.Max(0, b + x * w)
    d_b, d_w = sp.diff(expr, b), sp.diff(expr, w)
    relu_z = sp.Max(0, z)
    right = sp.limit((relu_z.subs(z, t) - relu_z.subs(z, 0)) / t, t, 0, "+")
    left = sp.limit((relu_z.subs(z, t) - relu_z.subs(z, 0)) / t, t, 0, "-")

    rng = np.random.default_rng(seed)
    worst, nearest, done = 0.0, np.inf, 0
    while done < n_checks:
        bb, xx, ww = rng.normal(), rng.normal(size=d), rng.normal(size=d)
        zz = bb + xx @ ww
        if abs(zz) < 10 * h * (1 + np.abs(xx).sum()):
            continue
        theta = np.concatenate([[bb], ww])
        numeric = central_difference(lambda th: relu(th[0] + xx @ th[1:]), theta, h)
        g_b, g_w = relu_grad(bb, xx, ww)
        worst = max(worst, float(np.max(np.abs(numeric - np.concatenate([[g_b], g_w])))))
        nearest = min(nearest, abs(float(zz)))
        done += 1
    # At the kink: b = 0, x^T w = 0.
    kink = lambda bb: float(relu(bb))  # noqa: E731
    return ActivationResult(
        d_b=d_b, d_w=d_w, sympy_heaviside_at_0=sp.Heaviside(0), right_derivative=right,
        left_derivative=left, n_checks=n_checks, d=d, max_abs_error=worst, min_distance_to_kink=nearest,
        kink_central_difference=(kink(h) - kink(-h)) / (2 * h),
        kink_right_difference=(kink(h) - kink(0.0)) / h,
        kink_left_difference=(kink(0.0) - kink(-h)) / h,
    )
