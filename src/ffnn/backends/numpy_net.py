r"""The network from scratch in NumPy: forward pass, backpropagation and SGD by hand.

For layer :math:`l` with input :math:`A_{l-1}` (samples as rows; :math:`A_0 = X`)
and hidden activation :math:`f` (sigmoid, tanh, ReLU or any other record in
:data:`ffnn.functional.ACTIVATIONS`)::

    Z_l = A_{l-1} @ W_l + b_l          # (n, n_l)
    A_l = f(Z_l)                        # hidden layers
    P   = softmax(Z_L)                  # output layer

backwards, starting from ``dZ_L = dLoss/dZ_L`` (:data:`ffnn.functional.LOSSES`)::

    dW_l = A_{l-1}.T @ dZ_l            # (n_{l-1}, n_l)
    db_l = dZ_l.sum(0)
    dA_{l-1} = dZ_l @ W_l.T
    dZ_{l-1} = dA_{l-1} * f'(Z_{l-1})  # f' computed from A_{l-1}

which are the true gradients of the mean loss on the batch; then the
optimizer (:class:`SGD`) takes the step, in PyTorch's convention::

    V_l = momentum * V_l + dW_l        # (V_l = dW_l when momentum is 0)
    W_l -= learning_rate * V_l         # and the same for b_l

Everything is vectorised over the batch and computed in the model's dtype
(float32 by default) in buffers allocated once per epoch; ``batch_size=1`` is
the problem set's per-sample SGD.
"""
from __future__ import annotations

from itertools import chain

import numpy as np

from ..config import TrainConfig
from ..data import as_rows, one_hot
from ..functional import get_activation, get_loss, softmax
from ..training import check_xy
from ..weights import check_weights, init_weights, load_weights, save_weights
from . import model_path
from .common import ArrayAPI, chunks, device_name, problem_set_names

__all__ = ["BACKEND", "MODEL_FILE", "NeuralNetwork", "SGD", "build", "load"]

BACKEND = "numpy"
MODEL_FILE = "model.npz"

_RENAMED = problem_set_names("layer_shapes")


class SGD:
    r"""Stochastic gradient descent with momentum, in PyTorch's convention.

    For each parameter :math:`w` with gradient :math:`g` and velocity :math:`v`
    (zero at the start), at learning rate :math:`\eta` and momentum :math:`\mu`:

    .. math:: v \leftarrow \mu v + g, \qquad w \leftarrow w - \eta v

    so the first step is :math:`w \leftarrow w - \eta g`, and ``momentum=0``
    is plain SGD (no velocities kept). ``torch.optim.SGD(momentum=mu)`` and
    :class:`ffnn.backends.tf_net.MomentumSGD` take the same steps.
    """

    def __init__(self, momentum: float = 0.0):
        self.momentum = momentum
        self.velocities = None  # one per parameter, allocated at the first step

    def step(self, weights, grads, learning_rate: float) -> None:
        """Update ``weights`` (``(W, b)`` pairs) in place from ``grads`` (pairs alike), which serve as scratch."""
        params, gradients = list(chain.from_iterable(weights)), list(chain.from_iterable(grads))
        if self.momentum and self.velocities is None:
            self.velocities = [np.zeros_like(w) for w in params]
        for i, (w, g) in enumerate(zip(params, gradients)):
            if self.momentum:
                v = self.velocities[i]
                v *= self.momentum
                v += g
                np.multiply(v, learning_rate, out=g)
            else:
                g *= learning_rate
            w -= g


class _Workspace:
    """Named work arrays for batches of up to ``n`` samples, allocated once and reused for every batch.

    ``activations[l]`` first receives ``Z_{l+1}``, which the forward pass then
    overwrites in place with ``A_{l+1}`` (every backward rule needs only ``A``);
    ``deltas[l]`` receives ``dA_{l+1}``, overwritten in place with ``dZ_{l+1}``;
    ``coef_grads`` holds ``(dW_l, db_l)`` pairs shaped like the weights.
    """

    def __init__(self, layer_sizes, n: int, dtype, train: bool = True):
        new = lambda *shape: np.empty(shape, dtype=dtype)  # noqa: E731
        self.activations = [new(n, s) for s in layer_sizes[1:]]  # A_1 .. A_L, where A_L = P
        if train:
            self.x, self.y = new(n, layer_sizes[0]), new(n, layer_sizes[-1])
            self.deltas = [new(n, s) for s in layer_sizes[1:]]
            self.scratch = [new(n, s) for s in layer_sizes[1:]]
            self.coef_grads = [(new(n_in, n_out), new(n_out)) for n_in, n_out in zip(layer_sizes, layer_sizes[1:])]


class NeuralNetwork(ArrayAPI):
    """A fully-connected classifier: sigmoid (or tanh, ReLU) hidden layers, softmax output.

    Parameters
    ----------
    layer_shapes : sequence of int, default (784, 128, 64, 10)
        ``(n_inputs, hidden_1, ..., n_classes)``.
    epochs : int, default 50
    learning_rate : float, default 0.01
        With ``loss="mse"`` the gradients are small (the softmax Jacobian
        shrinks them), so it takes rates of 1 and more (``docs/backends.md``).
    random_state : int, default 1
        Seeds the initial weights (:func:`ffnn.weights.init_weights`) and the
        order of the samples in each epoch.
    batch_size : int, default 1
        ``1`` updates after every sample, as the problem set does.
    loss : {"mse", "cross-entropy"}, default "mse"
    schedule, early_stopping, monitor, min_delta, shuffle, dtype
        As in :class:`ffnn.TrainConfig`.
    activation : {"sigmoid", "tanh", "relu"}, default "sigmoid"
        The hidden layers' activation.
    momentum : float in [0, 1), default 0.0
        SGD momentum (:class:`SGD`); 0 is the problem set's plain SGD.
    config : TrainConfig, optional
        Build from this configuration instead of the arguments above (which
        must then keep their defaults); :func:`build` does this.

    Attributes
    ----------
    weights_ : list of (W, b)
        ``W`` of shape (n_in, n_out), ``b`` of shape (n_out,), in ``dtype``;
        initialised on construction, updated in place by training. Calling
        ``fit`` again continues from them (and from the optimizer's velocities).
    history_ : History or None
        The record of the last ``fit``.
    """

    BACKEND = BACKEND

    def __init__(self, layer_shapes=(784, 128, 64, 10), epochs=50, learning_rate=0.01, random_state=1,
                 batch_size=1, loss="mse", schedule="constant", early_stopping=None, monitor="val_loss",
                 min_delta=0.0, shuffle=True, dtype="float32", activation="sigmoid", momentum=0.0, *,
                 config=None):
        self.train_config = cfg = TrainConfig.for_class(config, _RENAMED, dict(
            layer_shapes=layer_shapes, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
            loss=loss, schedule=schedule, random_state=random_state, early_stopping=early_stopping,
            monitor=monitor, min_delta=min_delta, shuffle=shuffle, dtype=dtype, activation=activation,
            momentum=momentum), NeuralNetwork.__init__)
        self.dtype = np.dtype(cfg.dtype)
        self.optimizer = SGD(cfg.momentum)
        self.weights_ = init_weights(cfg.layer_sizes, cfg.seed, cfg.dtype, cfg.activation)
        self.history_ = None

    def __repr__(self):
        c = self.train_config
        return (f"NeuralNetwork(layer_shapes={c.layer_sizes}, epochs={c.epochs}, "
                f"learning_rate={c.learning_rate}, batch_size={c.batch_size}, loss={c.loss!r}, "
                f"activation={c.activation!r}, momentum={c.momentum})")

    # ------------------------------------------------------------ Trainable

    def prepare_data(self, x, y):
        """Images ``x`` (n, d) and int labels ``y`` as the training loop uses them: (X, one-hot Y) in ``dtype``."""
        k = self.train_config.n_classes
        return np.ascontiguousarray(x, dtype=self.dtype), one_hot(y, k, dtype=self.dtype)

    def train_epoch(self, data, order, batch_size, schedule, step, on_batch):
        """One epoch of SGD over ``data`` in ``order``; returns the new step count."""
        x, y = data
        n = len(order)
        ws = _Workspace(self.train_config.layer_sizes, min(batch_size, n), self.dtype)
        # A diverging run overflows to inf/NaN; fit_loop detects that and raises TrainingDiverged.
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                m = len(idx)
                # mode="clip" lets np.take write straight into the buffer (indices are valid).
                xb = np.take(x, idx, axis=0, out=ws.x[:m], mode="clip")
                yb = np.take(y, idx, axis=0, out=ws.y[:m], mode="clip")
                grads = self._backward(xb, yb, self._forward(xb, ws.activations), ws)
                self.optimizer.step(self.weights_, grads, schedule(step))
                step += 1
                on_batch(m)
        return step

    def loss_and_accuracy(self, data):
        """Mean loss and accuracy (fraction) on prepared ``data``."""
        x, y = data
        with np.errstate(over="ignore", invalid="ignore"):
            p = self._probabilities(x)
            loss = get_loss(self.train_config.loss).loss(p, y)
        return loss, float(np.mean(p.argmax(axis=1) == y.argmax(axis=1)))

    def export_weights(self):
        """Copies of the weights as ``(W, b)`` pairs in the layout of :mod:`ffnn.weights`."""
        return [(W.copy(), b.copy()) for W, b in self.weights_]

    def import_weights(self, weights):
        """Replace the weights by ``weights`` (layout of :mod:`ffnn.weights`), cast to ``dtype``."""
        weights = check_weights(weights, self.train_config.layer_sizes)
        self.weights_ = [(np.array(W, dtype=self.dtype, order="C"), np.array(b, dtype=self.dtype))
                         for W, b in weights]

    # ------------------------------------------------------ forward, backward

    def _probabilities(self, x):
        """P for ``x`` (n, n_inputs), computed in chunks so the hidden activations stay small."""
        sizes = self.train_config.layer_sizes
        parts = (x[rows] for rows in chunks(len(x)))
        return np.concatenate([self._forward(c, _Workspace(sizes, len(c), self.dtype, train=False).activations)[-1]
                               for c in parts])

    def _forward(self, x, activations):
        """Outputs ``[A_1, ..., A_L]`` of every layer for ``x`` of shape (m, n_inputs), written into
        ``activations`` (one buffer per layer, at least m rows); ``A_L`` is P."""
        m, last = len(x), len(self.weights_) - 1
        f = get_activation(self.train_config.activation).forward
        acts, a = [], x
        for l, (W, b) in enumerate(self.weights_):
            z = np.matmul(a, W, out=activations[l][:m])
            z += b
            a = softmax(z, out=z) if l == last else f(z, out=z)  # Z_l overwritten by A_l
            acts.append(a)
        return acts

    def _backward(self, x, y, acts, ws):
        """Gradients ``[(dW_1, db_1), ...]`` of the mean loss on the batch ``(x, y)``, given its ``acts``.

        Written into ``ws.coef_grads``, using ``ws.deltas`` and ``ws.scratch``.
        """
        m, grads = len(x), ws.coef_grads
        dz = get_loss(self.train_config.loss).grad(acts[-1], y, out=ws.deltas[-1][:m])
        backward = get_activation(self.train_config.activation).backward
        for l in range(len(self.weights_) - 1, -1, -1):
            a_prev = x if l == 0 else acts[l - 1]
            dW, db = grads[l]
            # np.dot calls BLAS also for a batch of one row, where np.matmul's A.T @ dZ takes a slow loop.
            np.dot(a_prev.T, dz, out=dW)
            dz.sum(axis=0, out=db)
            if l:
                da = np.matmul(dz, self.weights_[l][0].T, out=ws.deltas[l - 1][:m])
                dz = backward(da, a_prev, out=da, tmp=ws.scratch[l - 1][:m])  # dA overwritten by dZ
        return grads

    def loss_and_gradients(self, x, y):
        """The mean loss on the batch ``(x, y)`` and its gradients ``[(dW, db), ...]``, without a step.

        ``x`` of shape (n, n_inputs) (cast to ``dtype``), ``y`` int labels (n,) or one-hot (n, k).
        """
        x = np.ascontiguousarray(x, dtype=self.dtype)
        y = np.asarray(y)
        y = y.astype(self.dtype) if y.ndim == 2 else one_hot(y, self.train_config.n_classes, self.dtype)
        ws = _Workspace(self.train_config.layer_sizes, len(x), self.dtype)
        acts = self._forward(x, ws.activations)
        return get_loss(self.train_config.loss).loss(acts[-1], y), self._backward(x, y, acts, ws)

    # ------------------------------------------------------------- the API

    def fit(self, x_train, y_train, x_val=None, y_val=None, verbose=1):
        """Train (the problem set's name); labels int or one-hot. Returns the History."""
        return self.fit_arrays(x_train, y_train, x_val, y_val, verbose=verbose)

    def predict_proba(self, x):
        """Class probabilities of shape (n, n_classes) for images ``x`` (n, d) or (n, 28, 28)."""
        x, single = as_rows(x, self.train_config.n_inputs)
        p = self._probabilities(x.astype(self.dtype, copy=False))
        return p[0] if single else p

    def predict(self, x):
        """The most likely class: an int for one sample, an int64 array (n,) for a batch."""
        p = self.predict_proba(x)
        return int(p.argmax()) if p.ndim == 1 else p.argmax(axis=1)

    def compute_accuracy(self, x, y):
        """Fraction of samples in ``x`` classified as their label ``y`` (int or one-hot)."""
        c = self.train_config
        x, y = check_xy(x, y, c.n_inputs, c.n_classes)
        return float(np.mean(self.predict(x) == y))

    score = compute_accuracy

    def save_model(self, path):
        """Write the weights and config to ``path`` (``.npz``, :func:`ffnn.weights.save_weights`); return its path.

        A directory, or a path without a suffix, gets the file ``MODEL_FILE`` inside it.
        """
        meta = {"backend": BACKEND, "config": self.train_config.to_dict()}
        return save_weights(model_path(path, MODEL_FILE), self.weights_, meta=meta)


def build(config: TrainConfig, device: str = "auto") -> NeuralNetwork:
    """A fresh :class:`NeuralNetwork` for ``config``; ``device`` must be ``"auto"`` or ``"cpu"``."""
    if device_name(device) == "cuda":
        raise ValueError(f"the numpy backend runs on the CPU only: device must be 'auto' or 'cpu', got {device!r}")
    return NeuralNetwork(config=config)


def load(path) -> NeuralNetwork:
    """The model written by :meth:`NeuralNetwork.save_model` to ``path`` (a file or its directory); never unpickles."""
    path = model_path(path, MODEL_FILE)
    weights, meta = load_weights(path, with_meta=True)
    if not isinstance(meta, dict) or meta.get("backend") != BACKEND:
        found = meta.get("backend") if isinstance(meta, dict) else None
        raise ValueError(f"{path}: not an ffnn numpy model (backend {found!r})")
    try:
        model = build(TrainConfig.from_dict(meta["config"]))
        model.import_weights(weights)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: the saved config does not fit its weights ({exc})") from None
    return model
