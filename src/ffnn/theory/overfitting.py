r"""Part 1.3: overfitting, measured on MNIST with the NumPy backend.

Three experiments, each a set of real training runs (sigmoid hidden layer,
softmax output, cross-entropy, mini-batch SGD):

(a) :func:`size_curve`: training and test error against the training-set size,
    for one model;
(b) :func:`complexity_curve`: training, validation and test error against the
    number of hidden units, for one training set; the most complex model the
    data supports is the width with the lowest *validation* error;
(c) :func:`early_stopping_run`: training and validation error against
    epochs, with early stopping on the validation loss; the restored weights
    are checked to be the best epoch's.

The training set is the first ``n`` MNIST training images (the problem set's
protocol); the validation set is the last ``n_val`` training images (never
in a training set here, since every ``n`` used with it is below
``60000 - n_val``); the test set is the official test set. Error is
``1 - accuracy``.

Every run's result is a JSON-able dict, cached under
``ffnn.data.cache_dir() / "theory"`` with a key made from all of the run's
parameters, so a report is rebuilt in seconds once its runs exist.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..atomic import atomic_write_text

__all__ = ["Settings", "FULL", "FAST", "load_sets", "size_curve", "complexity_curve", "early_stopping_run",
           "plot_size_curve", "plot_complexity_curve", "plot_early_stopping", "cached"]

#: Bump when the meaning of a cached result changes.
CACHE_VERSION = 1


@dataclass(frozen=True)
class Settings:
    """Everything the three experiments depend on (and the cache key is made of)."""

    sizes: tuple = (10, 30, 100, 300, 1000, 3000, 10000, 30000, 60000)
    size_hidden: int = 64
    size_steps: int = 2000          # SGD steps per run in (a), at least min_epochs epochs
    size_max_epochs: int = 300
    min_epochs: int = 3
    hidden: tuple = (1, 2, 4, 8, 16, 32, 64, 128, 256)
    complexity_n: int = 1000
    complexity_epochs: int = 40
    es_n: int = 1000
    es_hidden: int = 64
    es_epochs: int = 60
    es_patience: int = 10
    n_val: int = 5000
    n_test: int = 10000
    batch_size: int = 32
    learning_rate: float = 0.5
    seed: int = 1
    extra: dict = field(default_factory=dict)

    def key(self, part: str, **params) -> str:
        data = {"version": CACHE_VERSION, "part": part, **params}
        return part + "-" + hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


FULL = Settings()
FAST = Settings(sizes=(10, 100, 400), size_hidden=16, size_steps=60, size_max_epochs=20, min_epochs=2,
                hidden=(2, 8, 32), complexity_n=300, complexity_epochs=8, es_n=300, es_hidden=32, es_epochs=40,
                es_patience=3, n_val=500, n_test=1000)


# ----------------------------------------------------------------- data, cache


def load_sets(settings: Settings):
    """``(x_train, y_train), (x_val, y_val), (x_test, y_test)``: prepared float32 rows, int64 labels."""
    from ..data import load_mnist, prepare_images

    (x, y), (xt, yt) = load_mnist()
    largest = max(max(settings.sizes), settings.complexity_n, settings.es_n)
    if largest > len(x):
        raise ValueError(f"a training set of {largest} samples is larger than MNIST's {len(x)}")
    return ((prepare_images(x), y.astype(np.int64)),
            (prepare_images(x[-settings.n_val:]), y[-settings.n_val:].astype(np.int64)),
            (prepare_images(xt[:settings.n_test]), yt[:settings.n_test].astype(np.int64)))


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


def _model(settings: Settings, hidden: int, epochs: int, batch_size: int | None = None, **kwargs):
    from ..backends.numpy_net import NeuralNetwork

    return NeuralNetwork((784, hidden, 10), epochs=epochs, learning_rate=settings.learning_rate,
                         random_state=settings.seed, batch_size=batch_size or settings.batch_size,
                         loss="cross-entropy", **kwargs)


def _check_n(n: int, settings: Settings, val_used: bool) -> None:
    limit = 60000 - settings.n_val if val_used else 60000
    if n > limit:
        raise ValueError(f"training set size {n} overlaps the validation set (at most {limit})")


# ------------------------------------------------------------- (a) data size


def size_epochs(n: int, settings: Settings) -> tuple[int, int]:
    """(epochs, batch size) for a training set of ``n``: about ``size_steps`` SGD steps."""
    batch = min(settings.batch_size, n)
    epochs = math.ceil(settings.size_steps * batch / n)
    return min(max(epochs, settings.min_epochs), settings.size_max_epochs), batch


def size_curve(settings: Settings = FULL, sets=None, cache_dir: Path | None = None, verbose: int = 0) -> dict:
    """Training and test error of a ``(784, size_hidden, 10)`` network for each training-set size."""
    sets = sets or load_sets(settings)
    (x, y), _, (xt, yt) = sets
    out = {"sizes": [], "epochs": [], "train_error": [], "test_error": []}
    for n in settings.sizes:
        _check_n(n, settings, val_used=False)
        epochs, batch = size_epochs(n, settings)

        def run():
            model = _model(settings, settings.size_hidden, epochs, batch)
            model.fit(x[:n], y[:n], verbose=0)
            return {"train_error": 1 - model.compute_accuracy(x[:n], y[:n]),
                    "test_error": 1 - model.compute_accuracy(xt, yt)}

        key = settings.key("size", n=n, hidden=settings.size_hidden, epochs=epochs, batch=batch,
                           lr=settings.learning_rate, seed=settings.seed, n_test=settings.n_test)
        r = cached(cache_dir, key, run)
        if verbose:
            print(f"  (a) n={n}: {epochs} epochs, train error {r['train_error']:.3f}, test error {r['test_error']:.3f}")
        out["sizes"].append(n)
        out["epochs"].append(epochs)
        out["train_error"].append(r["train_error"])
        out["test_error"].append(r["test_error"])
    out["hidden"] = settings.size_hidden
    return out


# -------------------------------------------------------- (b) model complexity


def complexity_curve(settings: Settings = FULL, sets=None, cache_dir: Path | None = None, verbose: int = 0) -> dict:
    r"""Training, validation and test error for each hidden-layer width, one training set.

    The most complex model the data supports is the width with the lowest
    validation error (ties go to the smaller width): beyond it, extra units
    no longer lower the error on data the model was not fitted to, they
    only fit the training set better. ``val_se`` is the standard error
    :math:`\sqrt{e(1-e)/n_{val}}` of that minimum; ``within_se`` lists the
    widths whose validation error is within one standard error of it.
    """
    sets = sets or load_sets(settings)
    (x, y), (xv, yv), (xt, yt) = sets
    n = settings.complexity_n
    _check_n(n, settings, val_used=True)
    out = {"hidden": [], "train_error": [], "val_error": [], "test_error": []}
    for h in settings.hidden:
        def run():
            model = _model(settings, h, settings.complexity_epochs)
            model.fit(x[:n], y[:n], verbose=0)
            return {"train_error": 1 - model.compute_accuracy(x[:n], y[:n]),
                    "val_error": 1 - model.compute_accuracy(xv, yv),
                    "test_error": 1 - model.compute_accuracy(xt, yt)}

        key = settings.key("complexity", n=n, hidden=h, epochs=settings.complexity_epochs,
                           batch=settings.batch_size, lr=settings.learning_rate, seed=settings.seed,
                           n_val=settings.n_val, n_test=settings.n_test)
        r = cached(cache_dir, key, run)
        if verbose:
            print(f"  (b) {h} hidden units: train {r['train_error']:.3f}, val {r['val_error']:.3f}, "
                  f"test {r['test_error']:.3f}")
        out["hidden"].append(h)
        for k in ("train_error", "val_error", "test_error"):
            out[k].append(r[k])
    best = int(np.argmin(out["val_error"]))  # argmin returns the first, i.e. smallest, width on ties
    e = out["val_error"][best]
    se = math.sqrt(e * (1 - e) / settings.n_val)
    out.update(n=n, epochs=settings.complexity_epochs, best_index=best, best_hidden=out["hidden"][best],
               val_se=se, within_se=[h for h, v in zip(out["hidden"], out["val_error"]) if v <= e + se])
    return out


# ---------------------------------------------------------- (c) early stopping


def early_stopping_run(settings: Settings = FULL, sets=None, cache_dir: Path | None = None, verbose: int = 0,
                       return_model: bool = False):
    """Train with early stopping on the validation loss, and the same run without it.

    Both runs start from the same weights and see the same batches, so the
    early-stopped history is a prefix of the full one (checked:
    ``prefix_identical``). After early stopping the model holds the restored
    weights; their validation error is measured again from scratch
    (``restored_val_error``) and compared with the error recorded at
    ``best_epoch`` (``recorded_best_val_error``) and at the last epoch.

    With ``return_model`` (which bypasses the cache) returns ``(result, model)``,
    the model holding the restored weights.
    """
    sets = sets or load_sets(settings)
    (x, y), (xv, yv), (xt, yt) = sets
    n = settings.es_n
    _check_n(n, settings, val_used=True)
    model_box = []

    def run():
        full = _model(settings, settings.es_hidden, settings.es_epochs)
        h_full = full.fit(x[:n], y[:n], xv, yv, verbose=0)
        es = _model(settings, settings.es_hidden, settings.es_epochs, early_stopping=settings.es_patience,
                    monitor="val_loss")
        h_es = es.fit(x[:n], y[:n], xv, yv, verbose=0)
        model_box.append(es)
        k = len(h_es)
        prefix = all(np.allclose(h_es[c], h_full[c][:k], rtol=0, atol=1e-12)
                     for c in ("loss", "accuracy", "val_loss", "val_accuracy"))
        best = h_es.best_epoch
        return {
            "n": n, "hidden": settings.es_hidden, "epochs": settings.es_epochs, "patience": settings.es_patience,
            "full": {c: list(map(float, h_full[c])) for c in ("loss", "accuracy", "val_loss", "val_accuracy")},
            "es": {c: list(map(float, h_es[c])) for c in ("loss", "accuracy", "val_loss", "val_accuracy")},
            "best_epoch": best, "stopped_epoch": h_es.stopped_epoch, "prefix_identical": bool(prefix),
            "restored_val_error": 1 - es.compute_accuracy(xv, yv),
            "restored_val_loss": float(es.loss_and_accuracy(es.prepare_data(xv, yv))[0]),
            "recorded_best_val_error": 1 - h_es["val_accuracy"][best - 1] if best else None,
            "recorded_best_val_loss": h_es["val_loss"][best - 1] if best else None,
            "last_val_error": 1 - h_es["val_accuracy"][-1],
            "full_last_val_error": 1 - h_full["val_accuracy"][-1],
            "restored_test_error": 1 - es.compute_accuracy(xt, yt),
            "full_last_test_error": 1 - full.compute_accuracy(xt, yt),
        }

    if return_model:
        return run(), model_box[0]
    key = settings.key("early-stopping", n=n, hidden=settings.es_hidden, epochs=settings.es_epochs,
                       patience=settings.es_patience, batch=settings.batch_size, lr=settings.learning_rate,
                       seed=settings.seed, n_val=settings.n_val, n_test=settings.n_test)
    r = cached(cache_dir, key, run)
    if verbose:
        print(f"  (c) best epoch {r['best_epoch']}, stopped at {r['stopped_epoch']}, "
              f"restored val error {r['restored_val_error']:.4f}")
    return r


# ------------------------------------------------------------------- figures


def _figure():
    import matplotlib

    if not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    return plt, fig, ax


def _save(plt, fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_size_curve(r: dict, path: Path) -> Path:
    plt, fig, ax = _figure()
    ax.plot(r["sizes"], 100 * np.array(r["train_error"]), "o-", label="training error")
    ax.plot(r["sizes"], 100 * np.array(r["test_error"]), "s-", label="test error")
    ax.set_xscale("log")
    ax.set_xlabel("training-set size (first n MNIST training images)")
    ax.set_ylabel("error (%)")
    ax.set_title(f"(a) Error against training-set size, 784-{r['hidden']}-10 network")
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(plt, fig, path)


def plot_complexity_curve(r: dict, path: Path) -> Path:
    plt, fig, ax = _figure()
    ax.plot(r["hidden"], 100 * np.array(r["train_error"]), "o-", label="training error")
    ax.plot(r["hidden"], 100 * np.array(r["val_error"]), "^-", label="validation error")
    ax.plot(r["hidden"], 100 * np.array(r["test_error"]), "s-", label="test error")
    ax.axvline(r["best_hidden"], color="k", ls="--", lw=1,
               label=f"lowest validation error: {r['best_hidden']} units")
    ax.set_xscale("log", base=2)
    ax.set_xticks(r["hidden"], [str(h) for h in r["hidden"]])
    ax.minorticks_off()
    ax.set_xlabel("hidden units (one hidden layer)")
    ax.set_ylabel("error (%)")
    ax.set_title(f"(b) Error against model size, {r['n']} training images")
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(plt, fig, path)


def plot_early_stopping(r: dict, path: Path) -> Path:
    import matplotlib

    if not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.0), dpi=110)
    epochs = np.arange(1, len(r["full"]["loss"]) + 1)
    ax1.plot(epochs, 100 * (1 - np.array(r["full"]["accuracy"])), label="training error")
    ax1.plot(epochs, 100 * (1 - np.array(r["full"]["val_accuracy"])), label="validation error")
    ax2.plot(epochs, r["full"]["loss"], label="training loss")
    ax2.plot(epochs, r["full"]["val_loss"], label="validation loss")
    for ax in (ax1, ax2):
        ax.axvline(r["best_epoch"], color="k", ls="--", lw=1, label=f"best epoch {r['best_epoch']} (restored)")
        if r["stopped_epoch"]:
            ax.axvline(r["stopped_epoch"], color="r", ls=":", lw=1, label=f"stopped at epoch {r['stopped_epoch']}")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    ax1.plot([r["best_epoch"]], [100 * r["restored_val_error"]], "k*", ms=12,
             label="restored weights, re-measured")
    ax1.set_ylabel("error (%)")
    ax2.set_ylabel("cross-entropy")
    ax1.set_title(f"(c) Error, {r['n']} images, 784-{r['hidden']}-10")
    ax2.set_title("(c) Loss (early stopping monitors val. loss)")
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=8)
    return _save(plt, fig, path)


def settings_dict(settings: Settings) -> dict:
    return asdict(settings)
