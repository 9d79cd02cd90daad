r"""The network's mathematics as plain NumPy functions, samples as rows.

Two tables name everything a backend can choose: :data:`ACTIVATIONS` (hidden
activation -> function and its backward rule) and :data:`LOSSES` (loss ->
function and its gradient with respect to the output layer's pre-activations,
the logits ``Z`` of shape ``(n_samples, n_classes)``). Targets ``Y`` are
one-hot rows of the same shape. :mod:`ffnn.config` and the command line take
their choices from these tables; the frameworks map the same names to their
own layers.
Every function keeps the dtype of its input (float32 stays float32), and
those that take ``out=`` write their result there, so the training loop can
reuse its buffers.

Both losses are means over the batch, so a batch's gradient is the average of
its samples' gradients and the learning rate does not depend on the batch size.
"""
from __future__ import annotations

import numpy as np

__all__ = ["sigmoid", "sigmoid_backward", "tanh", "tanh_backward", "relu", "relu_backward", "ACTIVATIONS", "HE_INIT",
           "softmax", "forward", "mse", "mse_grad", "cross_entropy", "cross_entropy_grad", "nll",
           "LOSSES"]


def sigmoid(z, out=None):
    r"""The logistic function, elementwise.

    .. math:: \sigma(z) = \frac{1}{1 + e^{-z}} = \tfrac12\left(1 + \tanh\tfrac z2\right)

    The tanh form never overflows (``1 + exp(1000)`` would), so it is exact
    for any finite ``z``; at :math:`|z| = 1000` it gives exactly 0 or 1.
    """
    out = np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def sigmoid_backward(da, a, out=None, tmp=None):
    r"""Backpropagate through a sigmoid layer: ``dZ = dA * a * (1 - a)``.

    Uses :math:`\sigma'(z) = \sigma(z)(1 - \sigma(z))`, so only the layer's
    output ``a`` is needed, not ``z``.

    Parameters
    ----------
    da : array of shape (n_samples, n_units)
        Gradient of the loss with respect to the layer's output.
    a : array of shape (n_samples, n_units)
        The layer's output :math:`\sigma(Z)`.
    out, tmp : arrays like ``a``, optional
        Where to write the result (may be ``da``) and scratch space.
    """
    tmp = np.subtract(1, a, out=tmp)
    tmp *= a
    return np.multiply(da, tmp, out=out)


def tanh(z, out=None):
    r"""The hyperbolic tangent, elementwise: :math:`\tanh(z) = (e^z - e^{-z}) / (e^z + e^{-z})`, in (-1, 1)."""
    return np.tanh(z, out=out)


def tanh_backward(da, a, out=None, tmp=None):
    r"""Backpropagate through a tanh layer: ``dZ = dA * (1 - a**2)``, from :math:`\tanh' = 1 - \tanh^2`."""
    tmp = np.multiply(a, a, out=tmp)
    np.subtract(1, tmp, out=tmp)
    return np.multiply(da, tmp, out=out)


def relu(z, out=None):
    r"""The rectifier, elementwise: :math:`\max(z, 0)`."""
    return np.maximum(z, 0, out=out)


def relu_backward(da, a, out=None, tmp=None):
    r"""Backpropagate through a ReLU layer: ``dZ = dA * 1[a > 0]``.

    The derivative at the kink :math:`z = 0` is taken as 0, as PyTorch and
    TensorFlow take it; :math:`a > 0` exactly when :math:`z > 0`. ``tmp``
    (like ``a``) receives the mask as 0s and 1s instead of a new boolean array.
    """
    return np.multiply(da, np.greater(a, 0, out=tmp), out=out)


#: ``activation name -> (f(Z, out=None), backward(dA, A, out=None, tmp=None))`` for hidden layers.
#: Each backward needs only the layer's output ``A``, so training may overwrite ``Z`` with ``A``.
ACTIVATIONS = {"sigmoid": (sigmoid, sigmoid_backward), "tanh": (tanh, tanh_backward),
               "relu": (relu, relu_backward)}

#: Hidden activations whose layers start from He's initialisation (:func:`ffnn.weights.init_weights`);
#: the others start from Glorot's.
HE_INIT = frozenset({"relu"})


def softmax(z, out=None, col=None):
    r"""Row-wise softmax, :math:`p_j = e^{z_j} / \sum_i e^{z_i}`.

    The row maximum is subtracted first (this leaves :math:`p` unchanged), so
    the largest exponent is :math:`e^0 = 1`: no overflow, and the sum is at
    least 1, so no division by zero, whatever the logits. ``col``, of shape
    (n_samples, 1), takes the row maxima and then the row sums (scratch).
    """
    col = np.max(z, axis=1, keepdims=True, out=col)
    out = np.subtract(z, col, out=out)
    np.exp(out, out=out)
    out /= np.sum(out, axis=1, keepdims=True, out=col)
    return out


def forward(weights, x, activation: str = "sigmoid") -> list:
    """Every layer's output ``[A_1, ..., A_L]`` for ``x`` of shape (n, n_inputs); ``A_L`` is the softmax P.

    ``weights`` in the layout of :mod:`ffnn.weights`. A plain, allocating pass
    for looking inside a network (the backends train with their own buffers).
    """
    f = ACTIVATIONS[activation][0]
    acts, a = [], np.asarray(x)
    for l, (W, b) in enumerate(weights):
        z = a @ W + b
        a = softmax(z) if l == len(weights) - 1 else f(z)
        acts.append(a)
    return acts


def mse(p, y) -> float:
    r"""Mean squared error as the problem set defines it.

    .. math:: L = \frac1n \sum_{s=1}^{n} \frac1k \sum_{j=1}^{k} (y_{sj} - p_{sj})^2

    the mean over the ``k`` classes, then over the ``n`` samples.
    """
    d = p - y
    return float(np.mean(d * d))


def mse_grad(p, y, out=None, tmp=None, col=None):
    r"""Gradient of :func:`mse` with respect to the logits ``Z`` (with ``p = softmax(Z)``).

    The derivative of :math:`L` with respect to the probabilities is

    .. math:: G_{sj} = \frac{\partial L}{\partial p_{sj}} = \frac{2}{nk}(p_{sj} - y_{sj}).

    Each probability depends on every logit of its row, through the softmax
    Jacobian (a full :math:`k \times k` matrix, not only its diagonal):

    .. math:: \frac{\partial p_{si}}{\partial z_{sj}} = p_{si}(\delta_{ij} - p_{sj}).

    By the chain rule,

    .. math::
        \frac{\partial L}{\partial z_{sj}} = \sum_i G_{si}\, p_{si}(\delta_{ij} - p_{sj})
        = p_{sj}\Big(G_{sj} - \sum_i G_{si}\, p_{si}\Big),

    that is ``dZ = P * (G - (G * P).sum(1, keepdims=True))``, the Jacobian
    applied in :math:`O(k)` per sample without forming it. Keeping only the
    diagonal, :math:`G_{sj}\, p_{sj}(1 - p_{sj})`, would drop the second term
    and give a wrong gradient.

    Returns an array of shape (n_samples, n_classes); ``tmp`` (shaped like
    ``p``) and ``col`` (n_samples, 1) are scratch space.
    """
    n, k = p.shape
    g = np.subtract(p, y, out=out)
    g *= 2.0 / (n * k)
    g -= np.sum(np.multiply(g, p, out=tmp), axis=1, keepdims=True, out=col)
    g *= p
    return g


def cross_entropy(p, y) -> float:
    r"""Mean categorical cross-entropy, :math:`L = -\frac1n \sum_s \sum_j y_{sj} \log p_{sj}`.

    Probabilities are clipped to the dtype's smallest normal number inside
    the log, so a probability that underflowed to 0 costs a large finite
    loss (about 87 in float32) instead of infinity.
    """
    tiny = np.finfo(p.dtype).tiny if np.issubdtype(p.dtype, np.floating) else 1e-300
    return float(-(y * np.log(np.clip(p, tiny, 1.0))).sum(axis=1).mean())


def nll(p, labels) -> float:
    r"""Mean cross-entropy for integer labels: :math:`-\frac1n \sum_s \log p_{s, y_s}`.

    The same number as :func:`cross_entropy` with one-hot rows, clipped the same way.
    """
    labels = np.asarray(labels, dtype=np.intp)
    tiny = np.finfo(p.dtype).tiny if np.issubdtype(p.dtype, np.floating) else 1e-300
    return float(-np.log(np.clip(p[np.arange(len(labels)), labels], tiny, 1.0)).mean())


def cross_entropy_grad(p, y, out=None, tmp=None, col=None):
    r"""Gradient of :func:`cross_entropy` with respect to the logits: ``(P - Y) / n``.

    With :math:`\partial L / \partial p_{si} = -y_{si} / (n\, p_{si})` and the
    softmax Jacobian :math:`p_{si}(\delta_{ij} - p_{sj})`,

    .. math::
        \frac{\partial L}{\partial z_{sj}}
        = -\frac1n \sum_i \frac{y_{si}}{p_{si}}\, p_{si}(\delta_{ij} - p_{sj})
        = \frac1n\Big(p_{sj} \sum_i y_{si} - y_{sj}\Big)
        = \frac{p_{sj} - y_{sj}}{n},

    because each row of ``Y`` sums to 1. The :math:`1/p` of the log cancels
    the :math:`p` of the Jacobian, which is why this pair is computed
    together: no division, and it stays exact when ``p`` underflows to 0.
    It needs no scratch space: ``tmp`` and ``col`` are accepted (and unused)
    so that both gradients take the same arguments.
    """
    g = np.subtract(p, y, out=out)
    g *= 1.0 / len(p)
    return g


#: ``loss name -> (loss(P, Y), gradient with respect to the logits(P, Y, out=None, tmp=None, col=None))``.
LOSSES = {"mse": (mse, mse_grad), "cross-entropy": (cross_entropy, cross_entropy_grad)}
