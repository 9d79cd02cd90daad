"""Every figure of the theory report, drawn from the report's JSON data (never from live objects).

Measured figures plot what ``theory.json`` holds, so a test can redraw them
from the committed JSON; the three schematics are pure functions of nothing
(the textbook shapes part 1.3 asks for), drawn in matplotlib's xkcd sketch
style so that no reader takes them for measurements. Every error axis starts
at 0, which is marked.

Each figure is drawn at the size it is printed (:data:`PRINT_WIDTH`, in
inches, against the page's :data:`TEXT_WIDTH`), so a font size in points here
is its size on the printed page. Figures are drawn with matplotlib's object
API (no pyplot figure, no global state) and saved atomically.
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np

__all__ = ["FIGURES", "SCHEMATICS", "MEASURED", "ORDER", "PRINT_WIDTH", "TEXT_WIDTH", "CAPTIONS", "width_percent",
           "ref", "markdown", "build", "save", "write_figures", "draw", "MIN_FONT_PT"]

#: The measured figures, by the key of their data in ``theory.json``.
MEASURED = {"size": "overfitting_size.png", "complexity": "overfitting_complexity.png",
            "early_stopping": "overfitting_early_stopping.png", "capacity": "capacity_gd.png"}
#: The schematics, one per question of part 1.3.
SCHEMATICS = {"schematic_size": "schematic_size.png", "schematic_complexity": "schematic_complexity.png",
              "schematic_early_stopping": "schematic_early_stopping.png"}
FIGURES = {**MEASURED, **SCHEMATICS}
#: The order the figures appear in the report: Figure 1 is ``ORDER[0]``.
ORDER = ("schematic_size", "size", "schematic_complexity", "complexity", "schematic_early_stopping",
         "early_stopping", "capacity")

#: The PDF's text width in inches (A4, 1.8 cm side margins), shared with :mod:`.pdf`.
TEXT_WIDTH = (21.0 - 2 * 1.8) / 2.54
#: Each figure's (width, height) on the printed page, in inches.
PRINT_WIDTH = {"schematic_size": (4.6, 2.45), "size": (5.6, 2.9), "schematic_complexity": (4.6, 2.45),
               "complexity": (5.6, 2.9), "schematic_early_stopping": (4.6, 2.45),
               "early_stopping": (TEXT_WIDTH, 3.2), "capacity": (5.6, 2.7)}
#: The smallest font, in points at print size, any figure uses.
MIN_FONT_PT = 7.0
#: Captions (the figures' alt text in the Markdown, "Figure N: ..." in the PDF).
CAPTIONS = {
    "schematic_size": "Schematic (a sketch, not measured): error against the amount of training data.",
    "size": "Measured: training and test error against the training-set size n.",
    "schematic_complexity": "Schematic (a sketch, not measured): error against model complexity.",
    "complexity": "Measured: training, validation and test error against the number of hidden units H.",
    "schematic_early_stopping": "Schematic (a sketch, not measured): early stopping on the validation error.",
    "early_stopping": "Measured: error (left) and cross-entropy loss (right) per epoch, with early stopping.",
    "capacity": "Measured: the training loss of the two-unit z-squared network from four random starts.",
}
_DPI = 150
_KIND = {"saddle point": "near a saddle point (gradient small, not 0)"}
_FONT = {"font.size": 8.0, "axes.titlesize": 8.5, "axes.labelsize": 8.0, "xtick.labelsize": 7.5,
         "ytick.labelsize": 7.5, "legend.fontsize": 7.5, "font.family": "DejaVu Sans"}


def ref(name: str) -> str:
    """How the text cites figure ``name``: ``"Figure 3"``."""
    return f"Figure {ORDER.index(name) + 1}"


def markdown(name: str) -> str:
    """The Markdown that places figure ``name``: its caption, file and printed width."""
    return f"![{CAPTIONS[name]}]({FIGURES[name]}){{width={width_percent(name)}%}}"


def width_percent(name: str) -> int:
    """Figure ``name``'s printed width as a percentage of the text width (the Markdown's ``{width=...}``)."""
    return round(100 * PRINT_WIDTH[name][0] / TEXT_WIDTH)


def _figure(name: str, ncols: int = 1):
    from matplotlib.figure import Figure

    w, h = PRINT_WIDTH[name]
    # The width in the Markdown is rounded to a percent: draw at exactly that width so points stay points.
    fig = Figure(figsize=(width_percent(name) / 100 * TEXT_WIDTH, h), layout="constrained")
    axes = fig.subplots(1, ncols)
    return fig, axes


def _save(fig, path: Path) -> Path:
    from ..atomic import atomic_write

    return atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=_DPI, metadata={"Software": None}))


def _error_axis(ax, label: str = "error (%)") -> None:
    """Error upward from a marked zero."""
    ax.set_ylim(bottom=0)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)


def _pct(values) -> np.ndarray:
    return 100 * np.asarray(values, dtype=float)


# ------------------------------------------------------------------ measured


def plot_size(r: dict):
    fig, ax = _figure("size")
    ax.plot(r["sizes"], _pct(r["train_error"]), "o-", ms=4, label="training error")
    ax.plot(r["sizes"], _pct(r["test_error"]), "s-", ms=4, label="test error")
    ax.set_xscale("log")
    ax.set_xlabel("training-set size n (the first n MNIST training images)")
    _error_axis(ax)
    top = ax.secondary_xaxis("top")
    top.set_xticks(r["sizes"], [f"{k:,}" for k in r["repeats"]])
    top.minorticks_off()
    top.set_xlabel("passes over each image (the same number of SGD steps for every n)")
    ax.set_title(f"784-{r['hidden']}-10 network, {r['steps']:,} SGD steps of {r['batch_size']} images", loc="left")
    ax.legend(loc="upper right")
    return fig


def plot_complexity(r: dict):
    fig, ax = _figure("complexity")
    ax.plot(r["widths"], _pct(r["train_error"]), "o-", ms=4, label="training error (noisy labels)")
    ax.plot(r["widths"], _pct(r["val_error"]), "^-", ms=4, label="validation error")
    ax.plot(r["widths"], _pct(r["test_error"]), "s-", ms=4, label="test error")
    within = r["choice"]["within_se"]
    ax.axvspan(min(within), max(within), color="0.85", zorder=0,
               label="validation error within one SE of the lowest")
    ax.axvline(r["supported_width"], color="k", ls="--", lw=1,
               label=f"most complex model the data support: H = {r['supported_width']}")
    ax.set_xscale("log", base=2)
    ax.set_xticks(r["widths"], [str(h) for h in r["widths"]])
    ax.minorticks_off()
    ax.set_xlabel("hidden units H (one hidden layer)")
    _error_axis(ax)
    ax.set_ylim(0, 100)
    ax.set_title(f"784-H-10 networks, {r['n']} images, {100 * r['label_noise']:.0f}% wrong labels, "
                 f"{r['epochs']} epochs", loc="left")
    ax.legend(loc="upper right", framealpha=1)
    return fig


def plot_early_stopping(r: dict):
    fig, (ax1, ax2) = _figure("early_stopping", ncols=2)
    epochs = np.arange(1, len(r["full"]["loss"]) + 1)
    val_error = 1 - np.array(r["full"]["val_accuracy"])
    ax1.plot(epochs, _pct(1 - np.array(r["full"]["accuracy"])), lw=1, label="training set (noisy labels)")
    ax1.plot(epochs, _pct(val_error), lw=1, label="validation set")
    ax2.plot(epochs, r["full"]["loss"], lw=1, label="training set (noisy labels)")
    ax2.plot(epochs, r["full"]["val_loss"], lw=1, label="validation set")
    best, stop = r["best_epoch"], r["stopped_epoch"]
    for ax in (ax1, ax2):
        if stop:
            ax.axvspan(best, stop, color="0.85", zorder=0, label=f"patience: {r['patience']} epochs")
            ax.axvline(stop, color="r", ls=":", lw=1, label=f"stopped after epoch {stop}")
        ax.axvline(best, color="k", ls="--", lw=1, label=f"lowest validation loss: epoch {best} (restored)")
        ax.set_xlabel("epoch")
    lo = int(np.argmin(val_error))
    ax1.plot([lo + 1], [100 * val_error[lo]], "v", color="C1", ms=6, label=f"lowest validation error: epoch {lo + 1}")
    ax1.plot([best], [100 * r["restored_val_error"]], "k*", ms=8, label="restored weights, re-measured")
    _error_axis(ax1)
    _error_axis(ax2, "cross-entropy")
    ax1.set_title(f"error, 784-{r['hidden']}-10, {r['n']} images", loc="left")
    ax2.set_title("loss (early stopping monitors the validation loss)", loc="left")
    handles = {}
    for ax in (ax1, ax2):  # one legend for both panels, below them, where it covers no curve
        handles.update(zip(*reversed(ax.get_legend_handles_labels())))
    fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncols=3)
    return fig


def plot_capacity(r: dict):
    fig, ax = _figure("capacity")
    for i, curve in enumerate(r["restart_curves"]):
        best, kind = i == r["best_restart"], r["restart_curvature"][i]["kind"]
        ax.plot(r["curve_steps"], curve, lw=2 if best else 1, alpha=1 if best else 0.7,
                label=f"start {i + 1}: {_KIND.get(kind, kind)}" + (" (read back)" if best else ""))
    ax.axhline(r["loss_mle_quadratic"], color="k", ls="--", lw=1,
               label=f"maximum-likelihood quadratic fit, {r['loss_mle_quadratic']:.2f}")
    ax.set_xscale("log")
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel("mean log-loss")
    b0, b1 = r["beta_true"]
    ax.set_title(rf"two-unit $z^2$ network, data from $\sigma(\beta_0 + \beta_1 x_1 x_2)$, $\beta = ({b0:g}, {b1:g})$",
                 loc="left")
    ax.grid(alpha=0.3)
    lo, hi = min(min(c) for c in r["restart_curves"]), max(max(c) for c in r["restart_curves"])
    ax.set_ylim(lo - 0.02, hi + 0.45 * (hi - lo))  # room above the curves for the legend
    ax.legend(loc="upper right")
    return fig


# ---------------------------------------------------------------- schematics


@contextlib.contextmanager
def _sketch():
    """matplotlib's xkcd style (wobbly lines), set in DejaVu Sans, which matplotlib ships.

    ``xkcd()`` asks for the xkcd and Comic fonts, which are not installed here;
    naming a font that is always there keeps the output the same on every
    machine and matplotlib from warning about each missing font.
    """
    import matplotlib
    import matplotlib.pyplot as plt

    with plt.xkcd(scale=0.8, length=120, randomness=2), matplotlib.rc_context({**_FONT, "lines.linewidth": 1.8}):
        yield


def _schematic(name: str, xlabel: str):
    fig, ax = _figure(name)
    ax.set_xlabel(xlabel)
    ax.set_xticks([])
    ax.set_yticks([0], ["0"])
    ax.set_ylim(0, 1.08)
    ax.set_xlim(0, 1)
    ax.axhline(0, color="k", lw=1)
    ax.set_ylabel("error")
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def schematic_size():
    fig, ax = _schematic("schematic_size", "amount of training data n  →")
    n = np.linspace(0.02, 1, 200)
    floor = 0.3
    ax.plot(n, floor * (1 - np.exp(-6 * n)) - 0.02 * (1 - n) ** 8, color="C0")
    ax.plot(n, floor + 0.75 * np.exp(-5 * n), color="C1")
    ax.axhline(floor, color="gray", ls=":", lw=1.2)
    ax.text(0.13, 0.83, "test error: falls", color="C1")
    ax.text(0.2, 0.06, "training error: 0 for a few images, rises", color="C0")
    ax.text(0.98, floor - 0.11, "both approach the lowest error\nthe model class can reach (dotted)",
            color="0.3", ha="right", fontsize=7.5)
    ax.annotate("", xy=(0.3, floor + 0.75 * np.exp(-1.5)), xytext=(0.3, floor * (1 - np.exp(-1.8))),
                arrowprops={"arrowstyle": "<->", "color": "k", "lw": 1})
    ax.text(0.28, 0.4, "gap", ha="right")
    return fig


def schematic_complexity():
    fig, ax = _schematic("schematic_complexity", "model complexity (e.g. hidden units)  →")
    c = np.linspace(0, 1, 200)
    train = 0.85 * np.exp(-4 * c)
    test = train + 0.12 + 0.9 * c ** 3
    best = c[np.argmin(test)]
    ax.plot(c, train, color="C0")
    ax.plot(c, test, color="C1")
    ax.axvline(best, color="k", ls="--", lw=1.2)
    ax.text(0.03, 0.1, "training error:\nfalls towards 0", color="C0")
    ax.text(0.86, 0.45, "test error:\nfalls, then rises", color="C1", ha="center")
    ax.text(best / 2, 1.0, "underfitting", ha="center")
    ax.text((1 + best) / 2 - 0.1, 1.0, "overfitting", ha="center")
    ax.text(best + 0.02, 0.55, "most complex\nmodel the data\nsupport", fontsize=7.5)
    return fig


def schematic_early_stopping():
    fig, ax = _schematic("schematic_early_stopping", "epochs of training  →")
    t = np.linspace(0, 1, 200)
    train = 0.85 * np.exp(-5 * t)
    val = train + 0.1 + 0.5 * t ** 2
    best = t[np.argmin(val)]
    stop = best + 0.22
    ax.plot(t, train, color="C0")
    ax.plot(t, val, color="C1")
    ax.axvspan(best, stop, color="0.88", zorder=0)
    ax.axvline(best, color="k", ls="--", lw=1.2)
    ax.axvline(stop, color="r", ls=":", lw=1.2)
    ax.text(0.03, 0.07, "training error: falls", color="C0")
    ax.text(0.8, 0.62, "validation error:\nfalls, then rises", color="C1", ha="center")
    ax.text(best - 0.02, 0.85, "1. lowest validation error\nso far: keep these weights", ha="right",
            fontsize=7.5)
    ax.text(best + 0.01, 0.52, "2. patience:\nno lower error", fontsize=7.5)
    ax.text(stop + 0.01, 0.95, "3. stop, and\nrestore 1.", color="r", fontsize=7.5, va="top")
    return fig


_DRAW = {"size": plot_size, "complexity": plot_complexity, "early_stopping": plot_early_stopping,
         "capacity": plot_capacity}
_SCHEMATIC = {"schematic_size": schematic_size, "schematic_complexity": schematic_complexity,
              "schematic_early_stopping": schematic_early_stopping}


def build(name: str, data: dict):
    """Figure ``name`` (a key of :data:`FIGURES`) drawn from the report's ``data``: a matplotlib ``Figure``."""
    with _style(name):
        if name in _SCHEMATIC:
            return _SCHEMATIC[name]()
        return _DRAW[name](data["capacity"] if name == "capacity" else data["overfitting"][name])


def _style(name: str):
    import matplotlib

    return _sketch() if name in _SCHEMATIC else matplotlib.rc_context(_FONT)


def save(fig, name: str, out_dir) -> Path:
    """Save ``fig``, figure ``name`` built by :func:`build`, as its PNG in ``out_dir``; return the path."""
    with _style(name):  # text laid out when saved (tick labels) takes the same style
        return _save(fig, Path(out_dir) / FIGURES[name])


def draw(name: str, data: dict, out_dir) -> Path:
    """Draw figure ``name`` from the report's ``data`` into ``out_dir``; return its path."""
    return save(build(name, data), name, out_dir)


def write_figures(data: dict, out_dir) -> list[Path]:
    """Every figure of the report into ``out_dir``; returns their paths."""
    return [draw(name, data, out_dir) for name in FIGURES]
