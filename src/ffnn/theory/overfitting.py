r"""Part 1.3: overfitting, measured on MNIST with the NumPy backend.

Three experiments, each a set of real training runs (sigmoid hidden layer,
softmax output, cross-entropy, mini-batch SGD), each designed so that the
effect the problem set asks about has room to show:

(a) :func:`size_curve`: training and test error against the training-set size
    ``n``, for one model and one training budget: every run makes the same
    number of SGD steps of the same batch size (the ``n`` images are repeated
    ``presentations / n`` times), so a small ``n`` is passed over many times
    and the largest only a few;
(b) :func:`complexity_curve`: training, validation and test error against the
    number of hidden units, on a small training set with a fraction of its
    labels replaced by wrong ones (label noise), trained long enough for the
    large networks to memorise the wrong labels; :func:`chosen_width` places
    the vertical line at the largest width within one standard error of the
    lowest validation error;
(c) :func:`early_stopping_run`: training and validation error and loss
    against epochs on the same noisy training set, with early stopping on
    the validation loss, and the same run without it.

The training set is the first ``n`` MNIST training images (the problem set's
protocol); the validation set is the last ``n_val`` training images with
their true labels, disjoint from the training sets of (b) and (c) (part (a)
uses no validation set, and its largest training set includes them); the test set is the first
``n_test`` official test images. Error is ``1 - accuracy``.

Every run's result is a JSON-able dict, cached under
``ffnn.data.cache_dir() / "theory"`` with a key made from all of the run's
parameters, so a report is rebuilt in seconds once its runs exist. Models
are built and trained through the NumPy backend's public API only
(``build(TrainConfig)``, ``fit_arrays``, ``predict_proba``).
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import atomic_write_text

__all__ = ["Settings", "FULL", "FAST", "load_sets", "noisy_labels", "size_curve", "complexity_curve",
           "chosen_width", "early_stopping_run", "cached", "standard_error"]

#: Bump when the meaning of a cached result changes.
CACHE_VERSION = 2


@dataclass(frozen=True)
class Settings:
    """Everything the three experiments depend on (and the cache key is made of)."""

    sizes: tuple = (10, 30, 100, 300, 1000, 3000, 10000, 30000, 60000)
    size_hidden: int = 64
    size_presentations: int = 120000  # samples shown per run in (a), a multiple of every size
    hidden: tuple = (1, 2, 4, 8, 16, 32, 64, 128, 256)
    complexity_n: int = 500
    complexity_epochs: int = 200
    label_noise: float = 0.2          # fraction of (b) and (c)'s training labels replaced by a wrong one
    es_hidden: int = 32
    es_patience: int = 10
    n_val: int = 5000
    n_test: int = 10000
    batch_size: int = 32
    learning_rate: float = 0.5
    seed: int = 1

    def __post_init__(self):
        for n in self.sizes:
            if n < 1 or self.size_presentations % n:
                raise ValueError(f"size_presentations ({self.size_presentations}) must be a multiple of "
                                 f"every training-set size, got size {n}")
        if not 0 <= self.label_noise < 0.9:
            raise ValueError(f"label_noise must be in [0, 0.9), got {self.label_noise}")

    def key(self, part: str, **params) -> str:
        data = {"version": CACHE_VERSION, "part": part, **params}
        return part + "-" + hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


FULL = Settings()
FAST = Settings(sizes=(10, 100, 400), size_hidden=16, size_presentations=4000, hidden=(2, 8, 32),
                complexity_n=300, complexity_epochs=30, es_hidden=16, es_patience=3, n_val=500, n_test=1000)


# ----------------------------------------------------------------- data, cache


def load_sets(settings: Settings):
    """``(x_train, y_train), (x_val, y_val), (x_test, y_test)``: prepared float32 rows, int64 labels."""
    from ..data import load_mnist, prepare_images

    (x, y), (xt, yt) = load_mnist()
    largest = max(max(settings.sizes), settings.complexity_n)
    if largest > len(x):
        raise ValueError(f"a training set of {largest} samples is larger than MNIST's {len(x)}")
    return ((prepare_images(x), y.astype(np.int64)),
            (prepare_images(x[-settings.n_val:]), y[-settings.n_val:].astype(np.int64)),
            (prepare_images(xt[:settings.n_test]), yt[:settings.n_test].astype(np.int64)))


def noisy_labels(y: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A copy of ``y`` with round(fraction * n) labels, chosen at random, replaced by a different class."""
    rng = np.random.default_rng([seed, 13])
    y = np.array(y, dtype=np.int64, copy=True)
    idx = rng.choice(len(y), size=int(round(fraction * len(y))), replace=False)
    y[idx] = (y[idx] + rng.integers(1, 10, len(idx))) % 10  # never the true class
    return y


def cached(directory: Path | None, key: str, compute):
    """``compute()``'s JSON-able result, read from ``directory/key.json`` if it is there.

    ``directory=None`` always computes. A cache that cannot be read or
    written only costs time.
    """
    if directory is None:
        return compute()
    path = Path(directory) / f"{key}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        pass
    result = compute()
    try:
        atomic_write_text(path, json.dumps(result))
    except OSError:
        pass
    return result


def standard_error(error: float, n: int) -> float:
    r"""Binomial standard error :math:`\sqrt{e(1-e)/n}` of an error rate measured on ``n`` samples."""
    return math.sqrt(error * (1 - error) / n)


def _model(settings: Settings, hidden: int, epochs: int, early_stopping: int | None = None):
    from ..backends.numpy_net import build
    from ..config import TrainConfig

    return build(TrainConfig(layer_sizes=(784, hidden, 10), epochs=epochs, batch_size=settings.batch_size,
                             learning_rate=settings.learning_rate, loss="cross-entropy", seed=settings.seed,
                             early_stopping=early_stopping, monitor="val_loss"))


def _error(model, x, y) -> float:
    return float(np.mean(model.predict_proba(x).argmax(axis=1) != y))


def _check_n(n: int, settings: Settings, val_used: bool) -> None:
    limit = 60000 - settings.n_val if val_used else 60000
    if n > limit:
        raise ValueError(f"training set size {n} overlaps the validation set (at most {limit})")


# ------------------------------------------------------------- (a) data size


def size_curve(settings: Settings = FULL, sets=None, cache_dir: Path | None = None, verbose: int = 0) -> dict:
    """Training and test error of a ``(784, size_hidden, 10)`` network for each training-set size.

    Every run sees ``size_presentations`` samples in ``size_presentations / batch_size``
    SGD steps: the first ``n`` images repeated ``size_presentations / n`` times and
    shuffled, one epoch.
    """
    sets = sets or load_sets(settings)
    (x, y), _, (xt, yt) = sets
    out = {"sizes": [], "repeats": [], "train_error": [], "test_error": []}
    for n in settings.sizes:
        _check_n(n, settings, val_used=False)
        repeats = settings.size_presentations // n

        def run():
            model = _model(settings, settings.size_hidden, epochs=1)
            model.fit_arrays(np.tile(x[:n], (repeats, 1)), np.tile(y[:n], repeats), verbose=0)
            return {"train_error": _error(model, x[:n], y[:n]), "test_error": _error(model, xt, yt)}

        key = settings.key("size", n=n, hidden=settings.size_hidden, presentations=settings.size_presentations,
                           batch=settings.batch_size, lr=settings.learning_rate, seed=settings.seed,
                           n_test=settings.n_test)
        r = cached(cache_dir, key, run)
        if verbose:
            print(f"  (a) n={n}: x{repeats}, train error {r['train_error']:.3f}, test error {r['test_error']:.3f}")
        for k, v in (("sizes", n), ("repeats", repeats), ("train_error", r["train_error"]),
                     ("test_error", r["test_error"])):
            out[k].append(v)
    out.update(hidden=settings.size_hidden, presentations=settings.size_presentations,
               steps=settings.size_presentations // settings.batch_size, batch_size=settings.batch_size)
    return out


# -------------------------------------------------------- (b) model complexity


def chosen_width(widths, val_errors, n_val: int) -> dict:
    r"""The widths whose validation error is within one standard error of the lowest, and the two ends of them.

    ``se`` is :math:`\sqrt{e(1-e)/n_{val}}` at the lowest validation error
    ``e``; differences below one standard error are noise, so every width
    within one SE of the best is as good as the data can tell. The *largest*
    of them (``largest_index``, ``largest_width``) is the most complex model
    the data support; the *smallest* (``index``, ``width``) is the one the
    one-standard-error rule (Breiman et al. 1984; Hastie et al. 2009, 7.10)
    picks for prediction. Returns both, the best index, ``se`` and the widths
    within one SE.
    """
    if len(widths) != len(val_errors) or not widths:
        raise ValueError(f"need one validation error per width, got {len(widths)} widths and "
                         f"{len(val_errors)} errors")
    best = int(np.argmin(val_errors))
    se = standard_error(val_errors[best], n_val)
    within = [i for i, v in enumerate(val_errors) if v <= val_errors[best] + se]
    return {"index": within[0], "width": widths[within[0]], "best_index": best, "best_width": widths[best],
            "largest_index": within[-1], "largest_width": widths[within[-1]],
            "se": se, "within_se": [widths[i] for i in within],
            "at_extreme": within[-1] in (0, len(widths) - 1)}


def complexity_curve(settings: Settings = FULL, sets=None, cache_dir: Path | None = None, verbose: int = 0) -> dict:
    """Training (on the noisy labels), validation and test error for each hidden-layer width."""
    sets = sets or load_sets(settings)
    (x, y), (xv, yv), (xt, yt) = sets
    n = settings.complexity_n
    _check_n(n, settings, val_used=True)
    y_noisy = noisy_labels(y[:n], settings.label_noise, settings.seed)
    out = {"widths": [], "train_error": [], "val_error": [], "test_error": []}
    for h in settings.hidden:
        def run():
            model = _model(settings, h, settings.complexity_epochs)
            model.fit_arrays(x[:n], y_noisy, verbose=0)
            return {"train_error": _error(model, x[:n], y_noisy), "val_error": _error(model, xv, yv),
                    "test_error": _error(model, xt, yt)}

        key = settings.key("complexity", n=n, hidden=h, epochs=settings.complexity_epochs,
                           noise=settings.label_noise, batch=settings.batch_size, lr=settings.learning_rate,
                           seed=settings.seed, n_val=settings.n_val, n_test=settings.n_test)
        r = cached(cache_dir, key, run)
        if verbose:
            print(f"  (b) {h} hidden units: train {r['train_error']:.3f}, val {r['val_error']:.3f}, "
                  f"test {r['test_error']:.3f}")
        out["widths"].append(h)
        for k in ("train_error", "val_error", "test_error"):
            out[k].append(r[k])
    choice = chosen_width(out["widths"], out["val_error"], settings.n_val)
    out.update(n=n, epochs=settings.complexity_epochs, label_noise=settings.label_noise,
               noisy_fraction=float(np.mean(y_noisy != y[:n])), chosen_width=choice["width"],
               chosen_index=choice["index"], supported_width=choice["largest_width"],
               supported_index=choice["largest_index"], choice=choice)
    return out


# ---------------------------------------------------------- (c) early stopping


def early_stopping_run(settings: Settings = FULL, sets=None, cache_dir: Path | None = None, verbose: int = 0,
                       return_model: bool = False):
    """Train with early stopping on the validation loss, and the same run without it.

    The training set is (b)'s noisy one. Both runs start from the same
    weights and see the same batches, so the early-stopped history is a
    prefix of the full one (checked: ``prefix_identical``). After early
    stopping the model holds the restored weights; their validation error is
    measured again (``restored_val_error``) and compared with the error
    recorded at ``best_epoch``. With ``return_model`` (which bypasses the
    cache) returns ``(result, model)``, the model holding the restored weights.
    """
    sets = sets or load_sets(settings)
    (x, y), (xv, yv), (xt, yt) = sets
    n, epochs = settings.complexity_n, settings.complexity_epochs
    _check_n(n, settings, val_used=True)
    y_noisy = noisy_labels(y[:n], settings.label_noise, settings.seed)
    model_box = []
    curves = ("loss", "accuracy", "val_loss", "val_accuracy")

    def run():
        full = _model(settings, settings.es_hidden, epochs)
        h_full = full.fit_arrays(x[:n], y_noisy, xv, yv, verbose=0)
        es = _model(settings, settings.es_hidden, epochs, early_stopping=settings.es_patience)
        h_es = es.fit_arrays(x[:n], y_noisy, xv, yv, verbose=0)
        model_box.append(es)
        k, best = h_es.epochs, h_es.best_epoch
        p_val = es.predict_proba(xv)
        return {
            "n": n, "hidden": settings.es_hidden, "epochs": epochs, "patience": settings.es_patience,
            "label_noise": settings.label_noise,
            "full": {c: list(map(float, h_full[c])) for c in curves},
            "es": {c: list(map(float, h_es[c])) for c in curves},
            "best_epoch": best, "stopped_epoch": h_es.stopped_epoch,
            "prefix_identical": all(np.allclose(h_es[c], h_full[c][:k], rtol=0, atol=1e-12) for c in curves),
            "restored_val_error": float(np.mean(p_val.argmax(axis=1) != yv)),
            "restored_val_loss": float(-np.mean(np.log(np.clip(p_val[np.arange(len(yv)), yv], 1e-12, None)))),
            "recorded_best_val_error": 1 - h_es["val_accuracy"][best - 1],
            "recorded_best_val_loss": h_es["val_loss"][best - 1],
            "last_val_error": 1 - h_es["val_accuracy"][-1],
            "restored_test_error": _error(es, xt, yt),
            "full_last_test_error": _error(full, xt, yt),
            "full_last_train_error": _error(full, x[:n], y_noisy),
            "n_test": len(yt),
        }

    if return_model:
        return run(), model_box[0]
    key = settings.key("early-stopping", n=n, hidden=settings.es_hidden, epochs=epochs,
                       patience=settings.es_patience, noise=settings.label_noise, batch=settings.batch_size,
                       lr=settings.learning_rate, seed=settings.seed, n_val=settings.n_val, n_test=settings.n_test)
    r = cached(cache_dir, key, run)
    if verbose:
        print(f"  (c) best epoch {r['best_epoch']}, stopped at {r['stopped_epoch']}, "
              f"restored val error {r['restored_val_error']:.4f}")
    return r
