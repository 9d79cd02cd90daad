"""``ffnn inspect RUN_DIR --image IMG``: one image through a saved model, layer by layer.

The image is preprocessed as ``ffnn predict`` does (:func:`ffnn.imaging.load_digit`),
then sent through the model's exported weights with the NumPy math of
:func:`ffnn.functional.forward`, so the numbers are the same whichever
backend trained the run. One figure shows the 28x28 input, every hidden
layer's activations (one cell per unit) and the output probabilities;
``ffnn inspect --json`` prints the numbers.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .dynamics import saturation
from .functional import get_activation

__all__ = ["inspect_digit", "plot_inspection"]


def inspect_digit(weights, digit, activation: str = "sigmoid") -> dict:
    """Every layer's output for one 28x28 ``digit`` (float in [0, 1]) through ``weights``.

    Returns ``{"activation", "prediction", "probabilities", "hidden": [{"layer",
    "units", "values", "saturation"}, ...]}``; ``saturation`` as in
    :func:`ffnn.dynamics.saturation` (for ReLU: the share of units that are 0).
    """
    from .functional import forward

    x = np.asarray(digit, dtype=np.float64).reshape(1, -1)
    if x.shape[1] != weights[0][0].shape[0]:
        raise ValueError(f"the image has {x.shape[1]} pixels, the model expects {weights[0][0].shape[0]} inputs")
    acts = forward([(np.asarray(W, np.float64), np.asarray(b, np.float64)) for W, b in weights], x, activation)
    p = acts[-1][0]
    hidden = [{"layer": l, "units": int(a.shape[1]), "values": a[0].tolist(), "saturation": saturation(a, activation)}
              for l, a in enumerate(acts[:-1], start=1)]
    return {"activation": activation, "prediction": int(p.argmax()), "probabilities": p.tolist(), "hidden": hidden}


def _grid(values) -> np.ndarray:
    """Unit activations as a near-square grid (rows x cols), NaN past the last unit."""
    values = np.asarray(values, dtype=float)
    cols = int(np.ceil(np.sqrt(len(values))))
    rows = int(np.ceil(len(values) / cols))
    grid = np.full(rows * cols, np.nan)
    grid[:len(values)] = values
    return grid.reshape(rows, cols)


def plot_inspection(digit, result: dict, path, title: str = "") -> Path:
    """The input, each hidden layer's activations and the output probabilities, side by side."""
    from matplotlib.figure import Figure

    from .plots import save_png

    hidden = result["hidden"]
    fig = Figure(figsize=(3.2 * (len(hidden) + 2), 3.6), layout="constrained")
    axes = fig.subplots(1, len(hidden) + 2)
    axes[0].imshow(np.asarray(digit).reshape(28, 28), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    axes[0].set_title("input (MNIST-style, 28x28)", fontsize=9)
    record = get_activation(result["activation"])
    lo, hi = (0.0, math.inf) if record.dies else record.saturation
    for ax, layer in zip(axes[1:-1], hidden):
        top = hi if math.isfinite(hi) else max(max(layer["values"]), lo + 1e-12)
        im = ax.imshow(np.ma.masked_invalid(_grid(layer["values"])), cmap="viridis", vmin=lo, vmax=top,
                       interpolation="nearest")
        ax.set_title(f"hidden layer {layer['layer']}: {layer['units']} {result['activation']}\n"
                     f"units, {layer['saturation']:.0%} saturated", fontsize=9)
        fig.colorbar(im, ax=ax, shrink=0.7)
    for ax in axes[:-1]:
        ax.axis("off")
    p = np.asarray(result["probabilities"])
    bars = axes[-1].bar(range(len(p)), p, color="C0")
    bars[result["prediction"]].set_color("C3")
    axes[-1].set_xticks(range(len(p)))
    axes[-1].set_ylim(0, 1)
    axes[-1].set_title(f"output: {result['prediction']} ({p[result['prediction']]:.1%})", fontsize=9)
    axes[-1].set_xlabel("class")
    if title:
        fig.suptitle(title, fontsize=10)
    return save_png(fig, path)
