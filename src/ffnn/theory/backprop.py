r"""Part 1.5: backpropagation through two ReLU layers, a softmax and the quadratic loss.

The network (one sample as a column in the report; samples as rows here, the
layout of :mod:`ffnn.weights`, so ``W[j, i]`` is the report's :math:`w^{[l]}_{ij}`),
in the common notation (:math:`z` before, :math:`a` after each ReLU); the report
uses the problem set's (:math:`a^{[l]}` before each ReLU, :math:`a^{[3]}` the
softmax's input, :math:`f` its output) and :math:`h^{[l]}` after each ReLU:

.. math::
    z^{[1]} = x W^{[1]} + b^{[1]},\ a^{[1]} = \mathrm{ReLU}(z^{[1]}),\quad
    z^{[2]} = a^{[1]} W^{[2]} + b^{[2]},\ a^{[2]} = \mathrm{ReLU}(z^{[2]}),\quad
    z^{[3]} = a^{[2]} W^{[3]} + b^{[3]},\ \hat y = \mathrm{softmax}(z^{[3]}),

with the loss :math:`L = \tfrac12 \sum_k (y_k - \hat y_k)^2` per sample
(averaged over the batch). Writing :math:`\delta^{[l]} = \partial L/\partial z^{[l]}`,

.. math::
    \delta^{[3]} = J^\top(\hat y - y),\quad J = \mathrm{diag}(\hat y) - \hat y \hat y^\top,
    \quad\text{i.e.}\quad
    \delta^{[3]}_k = \hat y_k\Big((\hat y_k - y_k) - \sum_{c} \hat y_c(\hat y_c - y_c)\Big),

    \delta^{[2]} = \big(\delta^{[3]} W^{[3]\top}\big) \odot \mathbf 1[z^{[2]} > 0],\qquad
    \delta^{[1]} = \big(\delta^{[2]} W^{[2]\top}\big) \odot \mathbf 1[z^{[1]} > 0],

    \frac{\partial L}{\partial W^{[l]}} = a^{[l-1]\top}\delta^{[l]},\quad
    \frac{\partial L}{\partial b^{[l]}} = \textstyle\sum_{\text{batch}} \delta^{[l]},
    \quad a^{[0]} = x.

``softmax="identity"`` and ``softmax="diagonal"`` implement the two common
mistakes (the softmax's derivative taken as 1, so :math:`\delta^{[3]} = \hat y - y`;
the Jacobian's off-diagonal terms dropped, so
:math:`\delta^{[3]}_k = \hat y_k(1 - \hat y_k)(\hat y_k - y_k)`), to show
that they disagree with finite differences.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .numeric import central_difference

__all__ = ["init", "softmax", "softmax_jacobian", "forward", "loss", "gradients", "numerical_gradients",
           "relative_error", "sgd_step_first_layer", "first_layer_gradient_explicit", "BackpropResult", "analyse",
           "VARIANTS"]

#: How :func:`gradients` treats the softmax: the correct Jacobian and two mistakes.
VARIANTS = ("full", "identity", "diagonal")


def init(sizes, seed: int = 0):
    """Random float64 weights ``[(W, b), ...]`` for ``sizes = (n_in, h1, h2, K)``."""
    if len(sizes) != 4 or any(int(s) != s or s < 1 for s in sizes):
        raise ValueError(f"sizes must be four positive integers (n_in, h1, h2, K), got {sizes!r}")
    rng = np.random.default_rng(seed)
    return [(rng.normal(0, 1 / np.sqrt(n_in), (n_in, n_out)), rng.normal(0, 0.1, n_out))
            for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``z`` (n, K), shifted by the row max so it cannot overflow."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_jacobian(y_hat: np.ndarray) -> np.ndarray:
    r""":math:`J_{kc} = \partial \hat y_k / \partial z_c = \hat y_k(\delta_{kc} - \hat y_c)`, shape (n, K, K)."""
    return np.einsum("nk,kc->nkc", y_hat, np.eye(y_hat.shape[1])) - y_hat[:, :, None] * y_hat[:, None, :]


def forward(weights, x: np.ndarray):
    """Pre-activations ``[z1, z2, z3]`` and activations ``[x, a1, a2, y_hat]``."""
    acts, zs = [x], []
    for layer, (W, b) in enumerate(weights):
        z = acts[-1] @ W + b
        zs.append(z)
        acts.append(softmax(z) if layer == len(weights) - 1 else np.maximum(z, 0.0))
    return zs, acts


def loss(weights, x: np.ndarray, y: np.ndarray) -> float:
    """Batch mean of :math:`\\tfrac12\\sum_k (y_k - \\hat y_k)^2`; ``y`` one-hot (n, K)."""
    y_hat = forward(weights, x)[1][-1]
    return float(0.5 * np.sum((y - y_hat) ** 2) / len(x))


def gradients(weights, x: np.ndarray, y: np.ndarray, softmax: str = "full"):
    """``[(dW, db), ...]`` of :func:`loss` by the δ recursions (see the module docstring).

    ``softmax`` chooses :math:`\\delta^{[3]}`: ``"full"`` (correct),
    ``"identity"`` or ``"diagonal"`` (the two mistakes).
    """
    if softmax not in VARIANTS:
        raise ValueError(f"softmax must be one of {', '.join(VARIANTS)}, got {softmax!r}")
    zs, acts = forward(weights, x)
    y_hat, err = acts[-1], (acts[-1] - y) / len(x)  # the 1/n of the batch mean
    if softmax == "full":
        # J is symmetric; J^T err row by row without forming J: y_hat * (err - <y_hat, err>).
        delta = y_hat * (err - np.sum(y_hat * err, axis=1, keepdims=True))
    elif softmax == "identity":
        delta = err
    else:
        delta = y_hat * (1 - y_hat) * err
    grads = [None] * len(weights)
    for layer in range(len(weights) - 1, -1, -1):
        W = weights[layer][0]
        grads[layer] = (acts[layer].T @ delta, delta.sum(axis=0))
        if layer:
            delta = (delta @ W.T) * (zs[layer - 1] > 0)
    return grads


def first_layer_gradient_explicit(weights, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r""":math:`\partial L/\partial w^{[1]}_{ij}` as the report writes it: the chain rule's explicit sums, no deltas.

    In the report's notation (:math:`a` before, :math:`h` after each ReLU,
    :math:`a^{[3]}` the softmax's input, :math:`\hat y` here its output :math:`f`),

    .. math::
        \frac{\partial L}{\partial w^{[1]}_{ij}} = \sum_{c}\sum_{k}\sum_{m}
        \underbrace{(\hat y_c - y_c)}_{\partial L/\partial \hat y_c}\,
        \underbrace{\hat y_c(\mathbf 1[c=k] - \hat y_k)}_{\partial \hat y_c/\partial a^{[3]}_k}\,
        \underbrace{w^{[3]}_{km}}_{\partial a^{[3]}_k/\partial h^{[2]}_m}\,
        \underbrace{\mathbf 1[a^{[2]}_m > 0]}_{\partial h^{[2]}_m/\partial a^{[2]}_m}\,
        \underbrace{w^{[2]}_{mi}}_{\partial a^{[2]}_m/\partial h^{[1]}_i}\,
        \underbrace{\mathbf 1[a^{[1]}_i > 0]}_{\partial h^{[1]}_i/\partial a^{[1]}_i}\,
        \underbrace{x_j}_{\partial a^{[1]}_i/\partial w^{[1]}_{ij}},

    averaged over the batch. One ``einsum`` over those seven factors, so it
    checks the displayed formula independently of :func:`gradients`. Returns
    shape (n_in, h1), the layout of ``weights[0][0]``.
    """
    zs, acts = forward(weights, x)
    y_hat = acts[-1]
    (W2, _), (W3, _) = weights[1], weights[2]
    factors = (y_hat - y, softmax_jacobian(y_hat), W3, zs[1] > 0, W2, zs[0] > 0, x)
    return np.einsum("nc,nck,mk,nm,im,ni,nj->ji", *factors) / len(x)


def sgd_step_first_layer(weights, x, y, learning_rate: float):
    r"""The update :math:`w^{[1]}_{ij} \leftarrow w^{[1]}_{ij} - \eta\,\delta^{[1]}_i x_j` (batch-averaged)."""
    dW1, db1 = gradients(weights, x, y)[0]
    W1, b1 = weights[0]
    return W1 - learning_rate * dW1, b1 - learning_rate * db1


def numerical_gradients(weights, x, y, h: float = 1e-6):
    """Central differences of :func:`loss` for every weight and bias."""
    def loss_with(layer, k):
        def f(param):
            trial = [list(pair) for pair in weights]
            trial[layer][k] = param
            return loss(trial, x, y)
        return f

    return [tuple(central_difference(loss_with(layer, k), param, h) for k, param in enumerate(pair))
            for layer, pair in enumerate(weights)]


def relative_error(a, b) -> float:
    """:math:`\\|a - b\\| / (\\|a\\| + \\|b\\|)` over all arrays of two gradient lists."""
    fa = np.concatenate([g.ravel() for pair in a for g in pair])
    fb = np.concatenate([g.ravel() for pair in b for g in pair])
    return float(np.linalg.norm(fa - fb) / max(np.linalg.norm(fa) + np.linalg.norm(fb), 1e-300))


def random_problem(rng: np.random.Generator, sizes=None, n: int | None = None):
    """A random network, batch and one-hot targets, redrawn until no pre-activation is near the kink."""
    while True:
        s = tuple(int(v) for v in rng.integers(2, 7, 4)) if sizes is None else tuple(sizes)
        m = int(rng.integers(1, 6)) if n is None else n
        weights = init(s, seed=int(rng.integers(2**31)))
        x = rng.normal(size=(m, s[0]))
        y = np.eye(s[-1])[rng.integers(0, s[-1], m)]
        zs, _ = forward(weights, x)
        if min(np.abs(z).min() for z in zs[:-1]) > 1e-3:
            return s, weights, x, y


def torch_gradients(weights, x, y):
    """The same loss differentiated by PyTorch autograd (float64); needs torch."""
    import torch

    params = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)) for W, b in weights]
    a = torch.tensor(x)
    for layer, (W, b) in enumerate(params):
        z = a @ W + b
        a = torch.softmax(z, dim=1) if layer == len(params) - 1 else torch.relu(z)
    value = 0.5 * ((torch.tensor(y) - a) ** 2).sum() / len(x)
    value.backward()
    return [(W.grad.numpy(), b.grad.numpy()) for W, b in params]


@dataclass(frozen=True)
class BackpropResult:
    n_problems: int
    shapes: tuple            # (sizes, batch) of each random problem
    errors: dict             # variant -> relative error vs central differences, per problem
    torch_errors: tuple | None  # full variant vs PyTorch autograd, per problem (None without torch)
    update_example: dict     # one worked SGD step on the first layer
    explicit_sum_error: float  # the explicit-sum formula vs the deltas, largest relative error


def analyse(n_problems: int = 8, seed: int = 0) -> BackpropResult:
    """Compare the three δ^[3] variants with central differences (and PyTorch) on random shapes."""
    rng = np.random.default_rng(seed)
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
    errors = {v: [] for v in VARIANTS}
    shapes, torch_errors, explicit = [], [], []
    for _ in range(n_problems):
        sizes, weights, x, y = random_problem(rng)
        shapes.append((sizes, len(x)))
        numeric = numerical_gradients(weights, x, y)
        for v in VARIANTS:
            errors[v].append(relative_error(gradients(weights, x, y, v), numeric))
        explicit.append(relative_error([(first_layer_gradient_explicit(weights, x, y),)],
                                       [(gradients(weights, x, y)[0][0],)]))
        if have_torch:
            torch_errors.append(relative_error(gradients(weights, x, y), torch_gradients(weights, x, y)))
    sizes, weights, x, y = random_problem(rng, sizes=(3, 4, 4, 3), n=1)
    eta = 0.5
    W1_new, _ = sgd_step_first_layer(weights, x, y, eta)
    example = {"sizes": sizes, "eta": eta, "loss_before": loss(weights, x, y),
               "loss_after": loss([(W1_new, weights[0][1])] + weights[1:], x, y),
               "dW1": gradients(weights, x, y)[0][0]}
    return BackpropResult(n_problems, tuple(shapes), {k: tuple(v) for k, v in errors.items()},
                          tuple(torch_errors) if have_torch else None, example, max(explicit))


def symbolic_delta3_residual(n_classes: int = 3) -> list:
    r"""sympy's :math:`\partial L/\partial z_k` minus the formula's :math:`\delta^{[3]}_k`, simplified (all 0 if right)."""
    import sympy as sp

    z = sp.symbols(f"z1:{n_classes + 1}", real=True)
    y = sp.symbols(f"y1:{n_classes + 1}", real=True)
    denom = sum(sp.exp(zc) for zc in z)
    y_hat = [sp.exp(zk) / denom for zk in z]
    L = sp.Rational(1, 2) * sum((yk - pk) ** 2 for yk, pk in zip(y, y_hat))
    inner = sum(pc * (pc - yc) for pc, yc in zip(y_hat, y))
    return [sp.simplify(sp.diff(L, z[k]) - y_hat[k] * ((y_hat[k] - y[k]) - inner)) for k in range(n_classes)]
