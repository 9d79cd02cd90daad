"""The finite-difference oracle the theory checks share."""
from __future__ import annotations

import numpy as np

__all__ = ["central_difference"]


def central_difference(fun, theta: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar ``fun`` at ``theta`` (any shape, float64)."""
    theta = np.array(theta, dtype=float)
    grad = np.empty_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e.flat[i] = h
        grad.flat[i] = (fun(theta + e) - fun(theta - e)) / (2 * h)
    return grad
