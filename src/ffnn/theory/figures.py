"""Every figure of the theory report, drawn from the report's JSON data (never from live objects).

Measured figures plot what ``theory.json`` holds, so a test can redraw them
from the committed JSON; the three schematics are pure functions of nothing
(the textbook shapes part 1.3 asks for), so a test can redraw and compare them.
Every error axis starts at 0, which is marked.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["FIGURES", "SCHEMATICS", "MEASURED", "write_figures", "draw"]

#: The measured figures, by the key of their data in ``theory.json``.
MEASURED = {"size": "overfitting_size.png", "complexity": "overfitting_complexity.png",
            "early_stopping": "overfitting_early_stopping.png", "capacity": "capacity_gd.png"}
#: The schematics, one per question of part 1.3.
SCHEMATICS = {"schematic_size": "schematic_size.png", "schematic_complexity": "schematic_complexity.png",
              "schematic_early_stopping": "schematic_early_stopping.png"}
FIGURES = {**MEASURED, **SCHEMATICS}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    plt = _plt()
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    return path


def _error_axis(ax, label: str = "error (%)") -> None:
    """Error upward from a marked zero."""
    ax.set_ylim(bottom=0)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)


def _pct(values) -> np.ndarray:
    return 100 * np.asarray(values, dtype=float)


# ------------------------------------------------------------------ measured


def plot_size(r: dict, path: Path) -> Path:
    fig, ax = _plt().subplots(figsize=(6.4, 4.0), dpi=110)
    ax.plot(r["sizes"], _pct(r["train_error"]), "o-", label="training error")
    ax.plot(r["sizes"], _pct(r["test_error"]), "s-", label="test error")
    ax.set_xscale("log")
    ax.set_xlabel("training-set size n (first n MNIST training images)")
    _error_axis(ax)
    ax.set_title(f"(a) measured: 784-{r['hidden']}-10, {r['steps']:,} SGD steps for every n", fontsize=10)
    ax.legend()
    return _save(fig, path)


def plot_complexity(r: dict, path: Path) -> Path:
    fig, ax = _plt().subplots(figsize=(6.4, 4.0), dpi=110)
    ax.plot(r["widths"], _pct(r["train_error"]), "o-", label="training error (noisy labels)")
    ax.plot(r["widths"], _pct(r["val_error"]), "^-", label="validation error")
    ax.plot(r["widths"], _pct(r["test_error"]), "s-", label="test error")
    ax.axvline(r["chosen_width"], color="k", ls="--", lw=1,
               label=f"chosen by the one-SE rule: {r['chosen_width']} units")
    ax.set_xscale("log", base=2)
    ax.set_xticks(r["widths"], [str(h) for h in r["widths"]])
    ax.minorticks_off()
    ax.set_xlabel("hidden units (one hidden layer)")
    _error_axis(ax)
    ax.set_title(f"(b) measured: {r['n']} images, {100 * r['label_noise']:.0f}% wrong labels, "
                 f"{r['epochs']} epochs", fontsize=10)
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_early_stopping(r: dict, path: Path) -> Path:
    fig, (ax1, ax2) = _plt().subplots(1, 2, figsize=(10, 4.0), dpi=110)
    epochs = np.arange(1, len(r["full"]["loss"]) + 1)
    ax1.plot(epochs, _pct(1 - np.array(r["full"]["accuracy"])), label="training error (noisy labels)")
    ax1.plot(epochs, _pct(1 - np.array(r["full"]["val_accuracy"])), label="validation error")
    ax2.plot(epochs, r["full"]["loss"], label="training loss")
    ax2.plot(epochs, r["full"]["val_loss"], label="validation loss")
    for ax in (ax1, ax2):
        ax.axvline(r["best_epoch"], color="k", ls="--", lw=1, label=f"best epoch {r['best_epoch']} (restored)")
        if r["stopped_epoch"]:
            ax.axvline(r["stopped_epoch"], color="r", ls=":", lw=1, label=f"stopped at epoch {r['stopped_epoch']}")
        ax.set_xlabel("epoch")
    ax1.plot([r["best_epoch"]], [100 * r["restored_val_error"]], "k*", ms=12, label="restored weights, re-measured")
    _error_axis(ax1)
    _error_axis(ax2, "cross-entropy")
    ax1.set_title(f"(c) measured: error, {r['n']} images, 784-{r['hidden']}-10", fontsize=10)
    ax2.set_title("(c) measured: loss (early stopping monitors val. loss)", fontsize=10)
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=8)
    return _save(fig, path)


def plot_capacity(r: dict, path: Path) -> Path:
    fig, ax = _plt().subplots(figsize=(6.4, 3.6), dpi=110)
    for i, curve in enumerate(r["restart_curves"]):
        best = i == r["best_restart"]
        ax.plot(r["curve_steps"], curve, lw=2 if best else 1, alpha=1 if best else 0.6,
                label=f"start {i + 1}: {r['restart_curvature'][i]['kind']}" + (" (read back)" if best else ""))
    ax.axhline(r["loss_mle_quadratic"], color="k", ls="--", lw=1,
               label=f"maximum-likelihood quadratic fit, {r['loss_mle_quadratic']:.4f}")
    ax.set_xscale("log")
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel("mean log-loss")
    ax.set_title("(4) z-squared network trained on data from logistic(b0 + b1 x1 x2)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


# ---------------------------------------------------------------- schematics


def _schematic(title: str, xlabel: str):
    fig, ax = _plt().subplots(figsize=(6.4, 3.8), dpi=110)
    ax.set_title(f"Schematic (textbook shape, not measured): {title}", fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_xticks([])
    ax.set_yticks([0], ["0"])
    ax.set_ylim(0, 1.05)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_ylabel("error")
    return fig, ax


def schematic_size(path: Path) -> Path:
    fig, ax = _schematic("(a) error against training-set size", "amount of training data  →")
    n = np.linspace(0, 1, 200)
    floor = 0.25
    ax.plot(n, floor - floor * np.exp(-5 * n), label="training error: 0 with few samples, rises")
    ax.plot(n, floor + 0.7 * np.exp(-5 * n), label="test error: falls")
    ax.axhline(floor, color="gray", ls=":", lw=1, label="the error neither can beat (noise)")
    ax.annotate("gap: overfitting", xy=(0.12, 0.5), fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, path)


def schematic_complexity(path: Path) -> Path:
    fig, ax = _schematic("(b) error against model complexity", "model complexity (e.g. hidden units)  →")
    c = np.linspace(0, 1, 200)
    train = 0.85 * np.exp(-4 * c)
    test = train + 0.12 + 0.9 * c ** 3
    best = c[np.argmin(test)]
    ax.plot(c, train, label="training error: falls towards 0")
    ax.plot(c, test, label="test (validation) error: U-shaped")
    ax.axvline(best, color="k", ls="--", lw=1, label="most complex model the data supports")
    ax.text(best / 2, 0.95, "underfitting", ha="center", fontsize=9)
    ax.text((1 + best) / 2, 0.95, "overfitting", ha="center", fontsize=9)
    ax.legend(fontsize=8, loc="center right")
    return _save(fig, path)


def schematic_early_stopping(path: Path) -> Path:
    fig, ax = _schematic("(c) error against training epochs", "epochs of training  →")
    t = np.linspace(0, 1, 200)
    train = 0.85 * np.exp(-5 * t)
    val = train + 0.1 + 0.5 * t ** 2
    best = t[np.argmin(val)]
    ax.plot(t, train, label="training error: falls towards 0")
    ax.plot(t, val, label="validation error: falls, then rises")
    ax.axvline(best, color="k", ls="--", lw=1, label="early stopping: keep these weights")
    ax.legend(fontsize=8)
    return _save(fig, path)


_DRAW = {"size": plot_size, "complexity": plot_complexity, "early_stopping": plot_early_stopping,
         "capacity": plot_capacity}
_SCHEMATIC = {"schematic_size": schematic_size, "schematic_complexity": schematic_complexity,
              "schematic_early_stopping": schematic_early_stopping}


def draw(name: str, data: dict, out_dir) -> Path:
    """Draw figure ``name`` (a key of :data:`FIGURES`) from the report's ``data`` into ``out_dir``."""
    path = Path(out_dir) / FIGURES[name]
    if name in _SCHEMATIC:
        return _SCHEMATIC[name](path)
    section = data["capacity"] if name == "capacity" else data["overfitting"][name]
    return _DRAW[name](section, path)


def write_figures(data: dict, out_dir) -> list[Path]:
    """Every figure of the report into ``out_dir``; returns their paths."""
    return [draw(name, data, out_dir) for name in FIGURES]
