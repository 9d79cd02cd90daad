r"""The network's mathematics as plain NumPy functions, samples as rows, and the records naming them.

Two registries name everything a backend can choose. :data:`ACTIVATIONS`
maps a hidden activation's name to its :class:`Activation` record: the
function, its backward rule, its initialisation, its PyTorch and Keras
spellings and how it saturates. :data:`LOSSES` maps a loss's name to its
:class:`Loss` record: the function, its gradient with respect to the output
layer's pre-activations (the logits ``Z`` of shape ``(n_samples,
n_classes)``) and the frameworks' spellings, which say the backends that can
train with it. Targets ``Y`` are one-hot rows of the same shape. Every part of
ffnn reads these records (the three backends, :mod:`ffnn.weights`,
:mod:`ffnn.dynamics`, :mod:`ffnn.diagnosis`, :mod:`ffnn.inspect`, the
configuration's validation and the command line's choices), so adding an
activation is one :func:`register_activation` call::

    register_activation(Activation("softplus", softplus, softplus_backward, init="glorot",
                                   torch="Softplus", keras="softplus", saturation=(0.0, math.inf)))
Every function keeps the dtype of its input (float32 stays float32), and
those that take ``out=`` write their result there, so the training loop can
reuse its buffers.

Both losses are means over the batch, so a batch's gradient is the average of
its samples' gradients and the learning rate does not depend on the batch size.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["sigmoid", "sigmoid_backward", "tanh", "tanh_backward", "relu", "relu_backward",
           "Activation", "ACTIVATIONS", "register_activation", "unregister_activation", "get_activation",
           "softmax", "forward", "mse", "mse_grad", "cross_entropy", "cross_entropy_grad", "nll", "PROB_FLOOR",
           "Loss", "LOSSES", "register_loss", "unregister_loss", "get_loss"]


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
    TensorFlow take it; :math:`a > 0` exactly when :math:`z > 0`.
    """
    return np.multiply(da, a > 0, out=out)


@dataclass(frozen=True)
class Activation:
    """Everything ffnn needs to know about one hidden activation.

    Parameters
    ----------
    name : str
        What ``TrainConfig(activation=...)`` and ``--activation`` call it.
    forward : callable ``f(Z, out=None) -> A``
        Elementwise, keeping the dtype; writes into ``out`` when given.
    backward : callable ``backward(dA, A, out=None, tmp=None) -> dZ``
        ``dA * f'(Z)`` computed from the layer's output ``A`` alone (training
        overwrites ``Z`` with ``A``); ``tmp`` is scratch shaped like ``A``.
    init : {"glorot", "he"}
        The initialisation of the layers it follows (:func:`ffnn.weights.init_weights`):
        He's for rectifiers, whose zero half would otherwise shrink the signal.
    torch : str
        The ``torch.nn`` module class computing it (``"Sigmoid"``).
    keras : str
        The Keras activation of that name (``"sigmoid"``).
    saturation : (lo, hi) or "dies"
        How a unit stops learning (:func:`ffnn.dynamics.saturation`): near a
        bound of its range, where the derivative nearly vanishes (``hi`` may be
        ``math.inf``), or, for a rectifier, by dying: 0 for every input.
    kink : bool, default False
        Whether the derivative jumps (ReLU at 0), so that a last-bit rounding
        difference in ``Z`` can flip it; the PyTorch backend then adds the bias
        in a step of its own, rounding as the other backends do.
    """

    name: str
    forward: Callable
    backward: Callable
    init: str
    torch: str
    keras: str
    saturation: tuple | str
    kink: bool = False

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"an activation's name must be a non-empty string, got {self.name!r}")
        for field in ("forward", "backward"):
            if not callable(getattr(self, field)):
                raise ValueError(f"activation {self.name!r}: {field} must be callable, got {getattr(self, field)!r}")
        if self.init not in ("glorot", "he"):
            raise ValueError(f"activation {self.name!r}: init must be 'glorot' or 'he', got {self.init!r}")
        for field in ("torch", "keras"):
            if not isinstance(getattr(self, field), str) or not getattr(self, field):
                raise ValueError(f"activation {self.name!r}: {field} must name the framework's activation, "
                                 f"got {getattr(self, field)!r}")
        sat = self.saturation
        if sat != "dies":
            if not (isinstance(sat, tuple) and len(sat) == 2 and all(isinstance(v, (int, float)) for v in sat)
                    and sat[0] < sat[1]):
                raise ValueError(f"activation {self.name!r}: saturation must be 'dies' or bounds (lo, hi) "
                                 f"with lo < hi, got {sat!r}")
            object.__setattr__(self, "saturation", (float(sat[0]), float(sat[1])))

    @property
    def dies(self) -> bool:
        """Whether units saturate by dying (always 0) rather than near bounds."""
        return self.saturation == "dies"


#: The registry: ``activation name -> Activation``, in the order the command line lists them.
ACTIVATIONS: dict = {}


def _register(table: dict, kind: str, record, replace: bool):
    if record.name in table and not replace:
        raise ValueError(f"{kind} {record.name!r} is already registered; pass replace=True to replace it")
    table[record.name] = record
    return record


def _unregister(table: dict, kind: str, name: str) -> None:
    if name not in table:
        raise ValueError(f"no {kind} {name!r} is registered")
    del table[name]


def _get(table: dict, kind: str, name):
    try:
        return table[name]
    except (KeyError, TypeError):  # TypeError: an unhashable name
        raise ValueError(f"{kind} must be one of {', '.join(table)}, got {name!r}") from None


def register_activation(record: Activation, *, replace: bool = False) -> Activation:
    """Add ``record`` to :data:`ACTIVATIONS` (every backend, the configuration and the CLI then offer it)."""
    if not isinstance(record, Activation):
        raise ValueError(f"register_activation takes an Activation, got {record!r}")
    return _register(ACTIVATIONS, "activation", record, replace)


def unregister_activation(name: str) -> None:
    """Remove the activation called ``name`` from :data:`ACTIVATIONS`."""
    _unregister(ACTIVATIONS, "activation", name)


def get_activation(name: str) -> Activation:
    """The record of the activation called ``name``; a ``ValueError`` naming the choices if there is none."""
    return _get(ACTIVATIONS, "activation", name)


register_activation(Activation("sigmoid", sigmoid, sigmoid_backward, init="glorot", torch="Sigmoid",
                               keras="sigmoid", saturation=(0.0, 1.0)))
register_activation(Activation("tanh", tanh, tanh_backward, init="glorot", torch="Tanh", keras="tanh",
                               saturation=(-1.0, 1.0)))
register_activation(Activation("relu", relu, relu_backward, init="he", torch="ReLU", keras="relu",
                               saturation="dies", kink=True))


def softmax(z, out=None):
    r"""Row-wise softmax, :math:`p_j = e^{z_j} / \sum_i e^{z_i}`.

    The row maximum is subtracted first (this leaves :math:`p` unchanged), so
    the largest exponent is :math:`e^0 = 1`: no overflow, and the sum is at
    least 1, so no division by zero, whatever the logits.
    """
    out = np.subtract(z, z.max(axis=1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)
    return out


def forward(weights, x, activation: str = "sigmoid") -> list:
    """Every layer's output ``[A_1, ..., A_L]`` for ``x`` of shape (n, n_inputs); ``A_L`` is the softmax P.

    ``weights`` in the layout of :mod:`ffnn.weights`. A plain, allocating pass
    for looking inside a network (the backends train with their own buffers).
    """
    f = get_activation(activation).forward
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


def mse_grad(p, y, out=None):
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

    Returns an array of shape (n_samples, n_classes).
    """
    n, k = p.shape
    g = np.subtract(p, y, out=out)
    g *= 2.0 / (n * k)
    g -= (g * p).sum(axis=1, keepdims=True)
    g *= p
    return g


#: The smallest probability the losses take the log of: float32's smallest normal number, so a probability
#: that underflowed to 0 costs -log(PROB_FLOOR), about 87.3, whether it is held in float32 (the backends'
#: histories) or float64 (:func:`ffnn.metrics.classification_metrics`).
PROB_FLOOR = float(np.finfo(np.float32).tiny)


def cross_entropy(p, y) -> float:
    r"""Mean categorical cross-entropy, :math:`L = -\frac1n \sum_s \sum_j y_{sj} \log p_{sj}`.

    Probabilities are clipped to :data:`PROB_FLOOR` inside the log, so a
    probability that underflowed to 0 costs a large finite loss (about 87.3)
    instead of infinity, the same in float32 and float64.
    """
    return float(-(y * np.log(np.clip(p, PROB_FLOOR, 1.0))).sum(axis=1).mean())


def nll(p, labels) -> float:
    r"""Mean cross-entropy for integer labels: :math:`-\frac1n \sum_s \log p_{s, y_s}`.

    The same number as :func:`cross_entropy` with one-hot rows, clipped the same way.
    """
    labels = np.asarray(labels, dtype=np.intp)
    return float(-np.log(np.clip(p[np.arange(len(labels)), labels], PROB_FLOOR, 1.0)).mean())


def cross_entropy_grad(p, y, out=None):
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
    """
    g = np.subtract(p, y, out=out)
    g *= 1.0 / len(p)
    return g


@dataclass(frozen=True)
class Loss:
    """Everything ffnn needs to know about one loss.

    Parameters
    ----------
    name : str
        What ``TrainConfig(loss=...)`` and ``--loss`` call it.
    loss : callable ``loss(P, Y) -> float``
        The mean loss for probabilities ``P`` and one-hot targets ``Y``, both (n, k).
    grad : callable ``grad(P, Y, out=None) -> dZ``
        Its gradient with respect to the logits, ``P = softmax(Z)``.
    torch : str or None
        The ``torch.nn.functional`` function taking logits and integer labels
        (``"cross_entropy"``); None if the PyTorch backend cannot train with it.
    keras : str or None
        The Keras loss taking probabilities and integer labels
        (``"SparseCategoricalCrossentropy"``); None if the Keras backend cannot.
    """

    name: str
    loss: Callable
    grad: Callable
    torch: str | None = None
    keras: str | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"a loss's name must be a non-empty string, got {self.name!r}")
        for field in ("loss", "grad"):
            if not callable(getattr(self, field)):
                raise ValueError(f"loss {self.name!r}: {field} must be callable, got {getattr(self, field)!r}")

    @property
    def backends(self) -> tuple:
        """The backends that can train with this loss (NumPy always can)."""
        return ("numpy",) + (("torch",) if self.torch else ()) + (("tensorflow",) if self.keras else ())


#: The registry: ``loss name -> Loss``, in the order the command line lists them.
LOSSES: dict = {}


def register_loss(record: Loss, *, replace: bool = False) -> Loss:
    """Add ``record`` to :data:`LOSSES`."""
    if not isinstance(record, Loss):
        raise ValueError(f"register_loss takes a Loss, got {record!r}")
    return _register(LOSSES, "loss", record, replace)


def unregister_loss(name: str) -> None:
    """Remove the loss called ``name`` from :data:`LOSSES`."""
    _unregister(LOSSES, "loss", name)


def get_loss(name: str) -> Loss:
    """The record of the loss called ``name``; a ``ValueError`` naming the choices if there is none."""
    return _get(LOSSES, "loss", name)


register_loss(Loss("mse", mse, mse_grad))
register_loss(Loss("cross-entropy", cross_entropy, cross_entropy_grad, torch="cross_entropy",
                   keras="SparseCategoricalCrossentropy"))
