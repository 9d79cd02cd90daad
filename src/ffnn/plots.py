"""The PNG plots of a run: accuracy and loss per epoch, confusion matrix, misclassified images,
the first layer's weights and the per-layer dynamics.

Figures are drawn with matplotlib's object API (no pyplot, no global state, no
display needed) and saved atomically.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.colors import SymLogNorm
from matplotlib.figure import Figure

from .atomic import atomic_write

__all__ = ["save_png", "plot_range_test", "plot_accuracy", "plot_loss", "plot_confusion", "plot_misclassified", "plot_weights", "plot_dynamics",
           "weight_tiles"]

DPI = 110


def save_png(fig: Figure, path, dpi: int = DPI) -> Path:
    """Write ``fig`` (a :class:`matplotlib.figure.Figure`, no pyplot) to ``path`` as PNG, atomically."""
    return atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=dpi, bbox_inches="tight"))


def _curves(histories: dict, key: str, ylabel: str, title: str, path, percent: bool) -> Path:
    """Train (solid) and validation (dashed) ``key`` per epoch, one colour per history."""
    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.add_subplot()
    scale = 100.0 if percent else 1.0
    n = len(histories)
    for i, (label, history) in enumerate(histories.items()):
        # Earlier curves drawn wider, so identical curves (same start, same batches) all stay visible.
        style = dict(color=f"C{i}", lw=1.5 + 2.5 * (n - 1 - i), ms=3 + 2.5 * (n - 1 - i),
                     alpha=0.9 if i == n - 1 else 0.6)
        epochs = history["epoch"]
        prefix = f"{label} " if n > 1 else ""
        ax.plot(epochs, np.asarray(history[key], dtype=float) * scale, "-o", label=f"{prefix}train", **style)
        val = np.asarray(history[f"val_{key}"], dtype=float)
        if np.isfinite(val).any():
            ax.plot(epochs, val * scale, "--s", label=f"{prefix}validation", **style)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")
    if len(histories) and max(h.epochs for h in histories.values()) <= 20:
        ax.set_xticks(range(1, max(h.epochs for h in histories.values()) + 1))
    return save_png(fig, path)


def plot_accuracy(histories: dict, path, title: str = "Accuracy per epoch") -> Path:
    """Training and validation accuracy (%) per epoch for ``{label: History}``; write a PNG to ``path``."""
    return _curves(histories, "accuracy", "accuracy (%)", title, path, percent=True)


def plot_loss(histories: dict, path, title: str = "Loss per epoch") -> Path:
    """Training and validation loss per epoch for ``{label: History}``; write a PNG to ``path``."""
    return _curves(histories, "loss", "loss", title, path, percent=False)


def _class_labels(classes, k: int) -> list:
    """``classes`` as k strings; the class numbers if None."""
    labels = [str(c) for c in range(k)] if classes is None else [str(c) for c in classes]
    if len(labels) != k:
        raise ValueError(f"classes names {len(labels)} classes, the data has {k}")
    return labels


def plot_confusion(cm, path, title: str = "Confusion matrix (test set)", classes=None) -> Path:
    """The confusion matrix ``cm`` (true class in rows, predicted in columns) with its counts.

    ``classes`` names the classes on the axes (default: their numbers).
    """
    cm = np.asarray(cm)
    k = len(cm)
    classes = _class_labels(classes, k)
    fig = Figure(figsize=(5.6, 5.0))
    ax = fig.add_subplot()
    # Logarithmic colours (linear below 1, so zeros work): the diagonal (thousands) would
    # otherwise drown the errors (tens).
    norm = SymLogNorm(linthresh=1, vmin=0, vmax=max(int(cm.max()), 1))
    im = ax.imshow(cm, cmap="Blues", norm=norm)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=7,
                    color="white" if norm(cm[i, j]) > 0.6 else "black")
    long = max(len(c) for c in classes) > 2
    ax.set_xticks(range(k), classes, rotation=45 if long else 0, ha="right" if long else "center")
    ax.set_yticks(range(k), classes)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="count (log scale)")
    return save_png(fig, path)


def plot_misclassified(images, y_true, y_pred, path, max_images: int = 25,
                       title: str = "Misclassified test digits (true -> predicted)", classes=None) -> Path:
    """A grid of the first ``max_images`` images where ``y_pred != y_true``.

    ``images`` of shape (n, 28, 28) or (n, 784). The images are tiled into one
    picture (one ``imshow``, far faster than an axes per image), each under a
    band with ``true -> predicted``, in the names of ``classes`` (default:
    the class numbers; names longer than a digit take two lines). With no
    mistakes the figure says so.
    """
    images = np.asarray(images)
    images = images.reshape(len(images), 28, 28) if images.ndim == 2 else images
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    names = None if classes is None else [str(c) for c in classes]
    long = names is not None and max(len(n) for n in names) > 2
    wrong = np.flatnonzero(y_true != y_pred)[:max_images]
    cols = 5
    rows = max(1, int(np.ceil(len(wrong) / cols)))
    band, gap, side = (16 if long else 9), 2, 28  # label band above each tile, gap between tiles (pixels)
    cell_w, cell_h = side + gap, band + side + gap
    mosaic = np.zeros((rows * cell_h, cols * cell_w))
    fig = Figure(figsize=(cols * (1.5 if long else 1.2), rows * (1.75 if long else 1.45) + 0.3))
    ax = fig.add_subplot()
    for n, i in enumerate(wrong):
        r, c = divmod(n, cols)
        top, left = r * cell_h + band, c * cell_w
        mosaic[top:top + side, left:left + side] = images[i]
        true, pred = (int(y_true[i]), int(y_pred[i])) if names is None else (names[y_true[i]], names[y_pred[i]])
        label = f"{true}\n-> {pred}" if long else f"{true} -> {pred}"
        ax.text(left + side / 2, top - 1.5, label, ha="center", va="bottom", fontsize=7 if long else 8,
                color="C3", linespacing=1.0)
    ax.imshow(mosaic, cmap="gray_r", interpolation="nearest")
    if len(wrong) == 0:
        ax.text(0.5, 0.5, "no misclassified images", ha="center", va="center", transform=ax.transAxes)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
    return save_png(fig, path)


def weight_tiles(W, max_units: int = 64, gap: int = 1):
    """The incoming weights of the first ``max_units`` units, ``W[:, j]``, as square tiles in one mosaic.

    ``W`` of shape (n_inputs, n_units) with ``n_inputs`` a square (784 = 28x28);
    the tiles fill a grid of ``ceil(sqrt(units))`` columns, row by row, with
    NaN in the gaps. Returns ``(mosaic, n_shown)``.
    """
    W = np.asarray(W, dtype=float)
    side = int(round(np.sqrt(W.shape[0])))
    if side * side != W.shape[0]:
        raise ValueError(f"weight tiles need a square number of inputs, got {W.shape[0]}")
    n = min(max_units, W.shape[1])
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    cell = side + gap
    mosaic = np.full((rows * cell - gap, cols * cell - gap), np.nan)
    for j in range(n):
        r, c = divmod(j, cols)
        mosaic[r * cell:r * cell + side, c * cell:c * cell + side] = W[:, j].reshape(side, side)
    return mosaic, n


def plot_weights(weights, path, title: str = "First layer: incoming weights of each hidden unit") -> Path:
    """``weights[0][0]``'s columns (up to 64 units) as 28x28 tiles; red positive, blue negative, white 0.

    A first layer without a square number of inputs is drawn as one
    (inputs x units) matrix instead.
    """
    W = np.asarray(weights[0][0], dtype=float)
    try:
        mosaic, n = weight_tiles(W)
        subtitle = f"{n} of {W.shape[1]} units, one tile each"
    except ValueError:
        mosaic, subtitle = W, f"{W.shape[0]} inputs (rows) x {W.shape[1]} units"
    finite = np.abs(mosaic[np.isfinite(mosaic)])
    limit = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    fig = Figure(figsize=(6.4, 6.0))
    ax = fig.add_subplot()
    # Symmetric limits put zero at the centre of the diverging map.
    im = ax.imshow(np.ma.masked_invalid(mosaic), cmap="RdBu_r", vmin=-limit, vmax=limit,
                   interpolation="nearest", aspect="auto" if mosaic is W else "equal")
    ax.set_title(f"{title}\n({subtitle})", fontsize=9)
    ax.axis("off")
    fig.colorbar(im, ax=ax, label="weight", shrink=0.8)
    return save_png(fig, path)


def plot_dynamics(history, path, title: str = "Inside the network, per epoch") -> Path:
    """Saturation of each hidden layer (%) and gradient norm of each layer against epochs.

    Reads ``history.dynamics`` (:mod:`ffnn.dynamics`); a history without
    dynamics gives a figure that says so. The gradient axis is logarithmic,
    and linear near 0 if some gradient is exactly 0 (dead layers), so it stays visible.
    """
    from .dynamics import series

    fig = Figure(figsize=(10.0, 4.0), layout="constrained")
    ax_sat, ax_grad = fig.subplots(1, 2)
    epochs = list(history["epoch"])
    saturation, grads = series(history.dynamics, "saturation"), series(history.dynamics, "grad_norm")
    for l, values in enumerate(saturation, start=1):
        if len(values) == len(epochs):
            ax_sat.plot(epochs, 100 * np.asarray(values, dtype=float), "-o", ms=3, label=f"hidden layer {l}")
    finite = [v for values in grads for v in values if v == v]
    positive = [v for v in finite if v > 0]
    for l, values in enumerate(grads, start=1):
        if len(values) == len(epochs):
            ax_grad.plot(epochs, values, "-o", ms=3, label=f"layer {l}" + (" (output)" if l == len(grads) else ""))
    if positive:
        if len(positive) == len(finite):
            ax_grad.set_yscale("log")
        else:  # linear near 0, so a gradient of exactly 0 (a dead layer) stays on the plot
            ax_grad.set_yscale("symlog", linthresh=min(positive))
    for ax, ylabel, name in ((ax_sat, "saturated (%)", "saturation"),
                             (ax_grad, "gradient norm ||dL/dW||", "gradient norm")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
        else:
            ax.text(0.5, 0.5, f"no {name} recorded", ha="center", va="center", transform=ax.transAxes)
        if 0 < len(epochs) <= 20:
            ax.set_xticks(epochs)
    ax_sat.set_ylim(-2, 102)
    ax_sat.set_title("outputs at a bound (sigmoid, tanh) or dead units (ReLU)", fontsize=9)
    ax_grad.set_title("gradient of the training loss, per layer", fontsize=9)
    fig.suptitle(title)
    return save_png(fig, path)


def plot_range_test(test: dict, path, current: float | None = None, title: str = "Learning-rate range test") -> Path:
    """The loss after each rate of a learning-rate range test (``RangeTest.to_dict()``, :mod:`ffnn.lrfind`)
    against the rate (log scale), the recommended range shaded and ``current`` (the run's rate) marked."""
    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.add_subplot()
    ax.plot(test["rates"], test["losses"], "-o", ms=3, color="C0", label="loss on the held images")
    ax.axhline(test["initial_loss"], color="0.6", lw=1, ls=":", label="before the sweep")
    if test["recommended"] is not None:
        low, high = test["recommended"]
        ax.axvspan(low, high, color="C2", alpha=0.25,
                   label=f"fastest fall: {low:g} to {high:g} (about {test['suggested']:g})")
    if current is not None:
        ax.axvline(current, color="C3", ls="--", label=f"the run's rate {current:g}")
    ax.set_xscale("log")
    ax.set_xlabel(f"learning rate ({test['steps']} steps of batch {test['batch_size']} in all)")
    ax.set_ylabel("loss")
    ax.set_title(f"{title} ({test['seconds']:.1f} s)")
    ax.legend(fontsize=8)
    return save_png(fig, path)
