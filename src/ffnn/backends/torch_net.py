"""The network in PyTorch: the problem set's ``NeuralNetworkTorch``.

The same model as :mod:`ffnn.backends.numpy_net` (hidden layers with an
activation of :data:`ffnn.functional.ACTIVATIONS`, whose record names its
``torch.nn`` module; softmax output; a loss whose record names its
``torch.nn.functional`` function, cross-entropy; SGD with optional momentum),
built from ``nn.Linear`` layers and trained by autograd and
``torch.optim.SGD``, whose momentum convention (``v = mu * v + g``,
``w -= lr * v``) the other backends copy. It starts from
:func:`ffnn.weights.init_weights`, so for the same seed it holds exactly the
NumPy backend's initial weights (``nn.Linear.weight`` is ``W.T``).

Two ways to train, one loop underneath (:mod:`ffnn.training`):

- ``fit(train_loader, val_loader)``, the problem set's: PyTorch ``DataLoader``
  objects yielding ``(images, labels)``; the order of the samples is the
  loader's (seed it with ``DataLoader(..., shuffle=True,
  generator=torch.Generator().manual_seed(seed))``).
- ``fit_arrays(x, y, x_val, y_val)``, the shared interface: the arrays are
  moved to the device once and batches are sliced from them in the order
  :func:`ffnn.training.fit_arrays` draws, so every backend sees the same
  batches and no per-sample ``Dataset`` overhead is paid.
"""
from __future__ import annotations


import numpy as np
import torch
from torch import nn

from ..atomic import atomic_write
from ..config import TrainConfig
from ..data import as_rows, to_labels
from ..functional import get_activation, get_loss
from ..training import LR_SAMPLE, check_xy, fit_loop
from ..weights import check_weights, init_weights
from . import model_path
from .common import ArrayAPI, chunks, device_name, problem_set_names, scale_uint8

__all__ = ["BACKEND", "MODEL_FILE", "NeuralNetworkTorch", "build", "load", "resolve_device"]

BACKEND = "torch"
MODEL_FILE = "model.pt"
_RENAMED = problem_set_names("sizes")


def resolve_device(device: str = "auto") -> torch.device:
    """``"auto"`` (CUDA if available, else CPU), ``"cpu"`` or ``"cuda"`` (also called ``"gpu"``)."""
    device = device_name(device)
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but PyTorch sees no CUDA GPU; use 'cpu' or 'auto'")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)


class NeuralNetworkTorch(nn.Module, ArrayAPI):
    """Fully-connected classifier: sigmoid (or tanh, ReLU) hidden layers, softmax output, SGD.

    Parameters
    ----------
    sizes : sequence of int
        ``(n_inputs, hidden_1, ..., n_classes)``; layer ``i`` is
        ``nn.Linear(sizes[i], sizes[i + 1])``.
    epochs, learning_rate, batch_size, schedule, early_stopping, monitor, min_delta, shuffle, dtype
        As in :class:`ffnn.TrainConfig` (``batch_size`` and ``shuffle`` apply
        to :meth:`fit_arrays`; with :meth:`fit` the loaders decide).
    random_state : int, default 1
        Seed of the initial weights (and of the shuffling in :meth:`fit_arrays`).
    device : {"auto", "cpu", "cuda"}, default "auto"
    activation : {"sigmoid", "tanh", "relu"}, default "sigmoid"
        The hidden layers' activation.
    momentum : float in [0, 1), default 0.0
        ``torch.optim.SGD``'s momentum; 0 is plain SGD.
    config : TrainConfig, optional
        Build from this configuration instead of ``sizes`` and the training
        arguments (which must then keep their defaults); :func:`build` does this.

    ``forward`` returns logits of shape (n_samples, n_classes); the loss is
    ``nn.functional.cross_entropy`` on them (log-softmax inside, stable for any
    logits) and :meth:`predict_proba` applies the softmax.
    """

    BACKEND = BACKEND

    def __init__(self, sizes=None, epochs=10, learning_rate=0.01, random_state=1, batch_size=128,
                 schedule="constant", early_stopping=None, monitor="val_loss", min_delta=0.0,
                 shuffle=True, dtype="float32", device="auto", activation="sigmoid", momentum=0.0, *, config=None):
        super().__init__()
        if sizes is None and config is None:
            raise ValueError("give sizes (the layer sizes) or a config")
        config = TrainConfig.for_class(config, _RENAMED, dict(
            sizes=sizes, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, loss="cross-entropy",
            schedule=schedule, random_state=random_state, early_stopping=early_stopping, monitor=monitor,
            min_delta=min_delta, shuffle=shuffle, dtype=dtype, activation=activation, momentum=momentum),
            NeuralNetworkTorch.__init__)
        loss = get_loss(config.loss)
        if loss.torch is None:
            raise ValueError(f"the torch backend cannot train with loss {config.loss!r}; "
                             f"only {' and '.join(loss.backends)} can")
        self.train_config = config
        self._loss = getattr(nn.functional, loss.torch)  # (logits, int labels, reduction=) -> loss
        self.history_ = None
        self.device = resolve_device(device)
        self.dtype = getattr(torch, config.dtype)
        activation = get_activation(config.activation)
        layers = []
        for n_in, n_out in zip(config.layer_sizes[:-1], config.layer_sizes[1:]):
            layers += [nn.Linear(n_in, n_out), getattr(nn, activation.torch)()]
        self.net = nn.Sequential(*layers[:-1])  # no activation after the output layer: logits
        self.linears = [m for m in self.net if isinstance(m, nn.Linear)]
        self._split_bias = activation.kink
        self.to(device=self.device, dtype=self.dtype)
        self.import_weights(init_weights(config.layer_sizes, config.seed, config.dtype, config.activation))
        self.optimizer = torch.optim.SGD(self.parameters(), lr=config.learning_rate, momentum=config.momentum)

    # ------------------------------------------------------------------ Trainable

    def prepare_data(self, x: np.ndarray, y: np.ndarray):
        """Prepared arrays to tensors on the device: ``(X, Y)``, ``X`` (n, n_inputs), ``Y`` int64 (n,)."""
        X = torch.as_tensor(x).to(self.device, self.dtype)
        Y = torch.as_tensor(y, dtype=torch.int64).to(self.device)
        return X, Y

    def train_epoch(self, data, order: np.ndarray, batch_size: int, schedule, step: int, on_batch) -> int:
        """One epoch of SGD over ``data`` in ``order``; returns the new step count."""
        X, Y = data
        order = torch.as_tensor(order, dtype=torch.int64).to(self.device)
        self.train()
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            self._sgd_step(X.index_select(0, idx), Y.index_select(0, idx), schedule(step))
            step += 1
            on_batch(len(idx))
        return step

    @torch.no_grad()
    def loss_and_accuracy(self, data) -> tuple[float, float]:
        """Mean loss and accuracy (fraction) on prepared ``data``."""
        X, Y = data
        return self._evaluate((X[rows], Y[rows]) for rows in chunks(len(X)))

    def export_weights(self) -> list:
        """Weights as NumPy ``(W, b)`` pairs, ``W`` (n_in, n_out): copies in the model's dtype."""
        return [(lin.weight.detach().T.cpu().numpy().copy(), lin.bias.detach().cpu().numpy().copy())
                for lin in self.linears]

    @torch.no_grad()
    def import_weights(self, weights) -> None:
        """Set the weights from ``(W, b)`` pairs in the layout of :mod:`ffnn.weights`."""
        for lin, (W, b) in zip(self.linears, check_weights(weights, self.train_config.layer_sizes)):
            lin.weight.copy_(torch.as_tensor(np.asarray(W).T))
            lin.bias.copy_(torch.as_tensor(np.asarray(b)))

    # ------------------------------------------------------------------ forward, backward

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of shape (n_samples, n_classes) for ``x`` of shape (n_samples, n_inputs).

        With an activation that has a kink (ReLU; ``kink=True`` in its
        :class:`~ffnn.functional.Activation` record) each layer computes
        ``Z = X @ W.T``, then adds ``b``, in two steps as the other backends do:
        ``nn.Linear``'s fused ``addmm`` rounds ``Z`` differently in the last
        bit, and where a unit sits that close to its kink the backends would
        take different steps, which momentum then carries on. Smooth
        activations keep the last-bit difference in the last bits, so their
        layers keep the fused ``nn.Linear``, which is faster
        (``docs/backends.md`` has the measurement).
        """
        for module in self.net:
            if self._split_bias and isinstance(module, nn.Linear):
                x = torch.matmul(x, module.weight.T) + module.bias
            else:
                x = module(x)
        return x

    def _sgd_step(self, xb: torch.Tensor, yb: torch.Tensor, lr: float) -> None:
        """One optimizer step at rate ``lr`` on the mean cross-entropy of the batch ``(xb, yb)``."""
        group = self.optimizer.param_groups[0]
        if group["lr"] != lr:
            group["lr"] = lr
        self.optimizer.zero_grad(set_to_none=True)
        self._loss(self.forward(xb), yb).backward()
        self.optimizer.step()

    def _evaluate(self, batches) -> tuple[float, float]:
        """Mean loss and accuracy over ``(x, y)`` batches, synchronising once at the end."""
        self.eval()
        loss = torch.zeros((), dtype=torch.float64, device=self.device)
        correct = torch.zeros((), dtype=torch.int64, device=self.device)
        n = 0
        for xb, yb in batches:
            logits = self.forward(xb)
            loss += self._loss(logits, yb, reduction="sum")
            correct += (logits.argmax(1) == yb).sum()
            n += len(yb)
        if n == 0:
            raise ValueError("cannot evaluate on an empty set")
        return loss.item() / n, correct.item() / n

    # ------------------------------------------------------------------ the API

    def fit(self, train_loader, val_loader=None, verbose=1, on_epoch_end=None, stream=None):
        """Train on ``DataLoader`` batches ``(images, labels)`` (the problem set's); returns the History.

        ``images`` of shape (B, 1, 28, 28), (B, 28, 28) or (B, n_inputs), float
        in [0, 1] or uint8; ``labels`` integer (B,) or one-hot (B, n_classes).
        The learning rate follows ``schedule`` step by step across epochs;
        ``batch_size`` and ``shuffle`` are the loader's own.
        """
        def train_epoch(step, schedule, on_batch):
            self.train()
            for images, labels in train_loader:
                xb, yb = self._batch(images, labels)
                self._sgd_step(xb, yb, schedule(step))
                step += 1
                on_batch(len(yb))
            return step

        try:
            n_train = len(train_loader.dataset)
        except (AttributeError, TypeError):  # an iterable without a sized dataset
            n_train = None
        self.history_ = fit_loop(self, self.train_config, n_train, train_epoch, self._evaluate_loader, train_loader,
                                 val_loader, verbose=verbose, label=BACKEND, on_epoch_end=on_epoch_end, stream=stream,
                                 sample=self._sampler(train_loader, n_train))
        return self.history_

    def _sampler(self, loader, n):
        """For the learning-rate range test: up to ``LR_SAMPLE`` of the loader's samples as the network sees them,
        read from its dataset by index (iterating the loader would move its shuffling on); None if it has
        no indexable dataset."""
        dataset = getattr(loader, "dataset", None)
        if n is None or not hasattr(dataset, "__getitem__"):
            return None

        def sample():
            idx = np.random.default_rng([self.train_config.seed, 4]).permutation(n)[:LR_SAMPLE]
            images, labels = zip(*(dataset[int(i)] for i in idx))
            x, y = self._batch(torch.stack([torch.as_tensor(a) for a in images]),
                               torch.stack([torch.as_tensor(b) for b in labels]))
            return x.cpu().numpy().astype(np.float32), y.cpu().numpy()

        return sample

    def _inputs(self, x):
        """``x`` (tensor or array) as rows on the device, and whether it was a single sample."""
        n_in = self.train_config.n_inputs
        if not isinstance(x, torch.Tensor):
            rows, single = as_rows(x, n_in)
            return torch.from_numpy(rows).to(self.device, self.dtype), single
        single = x.ndim == 1 or (x.ndim == 2 and x.shape[1] != n_in and x.numel() == n_in)
        if x.dtype == torch.uint8:
            x = scale_uint8(x, lambda t: t.to(torch.float32))
        x = x.reshape(1 if single else len(x), -1).to(self.device, self.dtype)  # (n, 1, 28, 28) -> (n, 784)
        if x.shape[1] != n_in:
            raise ValueError(f"x has {x.shape[1]} features per sample, the network expects {n_in}")
        return x, single

    def _batch(self, images, labels):
        """A loader's batch as (rows on the device, int64 labels on the device)."""
        labels = torch.as_tensor(labels)
        if labels.ndim == 2:  # one-hot rows, checked as array labels are
            labels = torch.from_numpy(to_labels(labels.cpu().numpy()))
        return self._inputs(images)[0], labels.to(self.device, torch.int64)

    def _evaluate_loader(self, loader) -> tuple[float, float]:
        with torch.no_grad():
            return self._evaluate(self._batch(images, labels) for images, labels in loader)

    @torch.no_grad()
    def predict_proba(self, x):
        """Class probabilities (n, n_classes), or (n_classes,) for one sample.

        A tensor ``x`` gives a tensor on the device, anything else a NumPy array.
        """
        self.eval()
        xt, single = self._inputs(x)
        p = torch.cat([nn.functional.softmax(self.forward(xt[rows]), dim=1) for rows in chunks(len(xt))])
        p = p[0] if single else p
        return p if isinstance(x, torch.Tensor) else p.cpu().numpy()

    def predict(self, x):
        """The most likely class: an int for one sample, else int64 (n,) (a tensor for a tensor ``x``)."""
        p = self.predict_proba(x)
        if p.ndim == 1:
            return int(p.argmax())
        return p.argmax(1) if isinstance(p, torch.Tensor) else p.argmax(axis=1)

    def compute_accuracy(self, loader, y=None) -> float:
        """Fraction classified correctly: of a ``DataLoader``'s samples, or of arrays ``(x, y)``."""
        if y is None:
            return self._evaluate_loader(loader)[1]
        c = self.train_config
        x, y = check_xy(loader, y, c.n_inputs, c.n_classes)
        return float(np.mean(self.predict(x) == y))

    def score(self, x, y) -> float:
        """Accuracy on arrays ``x`` and labels ``y`` (int or one-hot), as in scikit-learn."""
        return self.compute_accuracy(x, y)

    def save_model(self, path):
        """Write the config and ``state_dict`` to ``path`` (a directory, or a path without a suffix, gets
        ``MODEL_FILE``); returns the path.

        The file holds only tensors and plain types, so :func:`load` reads it
        with ``torch.load(..., weights_only=True)``.
        """
        path = model_path(path, MODEL_FILE)
        state = {k: v.detach().cpu() for k, v in self.state_dict().items()}
        payload = {"backend": BACKEND, "config": self.train_config.to_dict(), "state_dict": state}
        return atomic_write(path, lambda fh: torch.save(payload, fh))


def build(config: TrainConfig, device: str = "auto") -> NeuralNetworkTorch:
    """A fresh :class:`NeuralNetworkTorch` for ``config`` (whose loss must be cross-entropy)."""
    return NeuralNetworkTorch(config=config, device=device)


def load(path, device: str = "auto") -> NeuralNetworkTorch:
    """The model written by :meth:`NeuralNetworkTorch.save_model` (``weights_only=True``: never unpickles)."""
    path = model_path(path, MODEL_FILE)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ValueError(f"{path}: file not found") from None
    except Exception as exc:  # a bad file raises pickle, zip or runtime errors depending on how it is bad
        raise ValueError(f"{path}: cannot read the model ({exc})") from None
    if not isinstance(payload, dict) or payload.get("backend") != BACKEND or "state_dict" not in payload:
        raise ValueError(f"{path}: not an ffnn torch model")
    try:
        model = NeuralNetworkTorch(config=TrainConfig.from_dict(payload["config"]), device=device)
        model.load_state_dict(payload["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:  # RuntimeError: shapes that do not fit
        raise ValueError(f"{path}: the saved config does not fit its weights ({' '.join(str(exc).split())})") from None
    return model
