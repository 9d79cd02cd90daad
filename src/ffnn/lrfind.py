r"""The learning-rate range test: which rates make the loss fall fastest, measured before advising one.

Leslie Smith's test ("Cyclical Learning Rates for Training Neural Networks", 2017), as fastai's
``lr_find`` and Lightning's tuner run it: from a copy of the network's weights, take a few hundred SGD
steps while the rate grows geometrically from ``lr_min`` to ``lr_max``,

.. math:: \eta_i = \eta_{min} \left(\eta_{max} / \eta_{min}\right)^{i / (n - 1)}, \qquad i = 0, \dots, n - 1,

and after each step measure the loss on a fixed evaluation sample. The loss first barely moves (the
rates are too small to matter), then falls, then climbs or blows up (too large). The rates where it fell
fastest, the steepest descent of the smoothed loss against :math:`\log_{10} \eta`, are the ones to train
with: :func:`range_test` returns them as a range, the rates around the steepest point where the loss
still fell at least half as fast.

The test always runs the NumPy reference arithmetic (:func:`ffnn.functional.forward` and
:func:`ffnn.dynamics.gradients`, SGD with momentum in PyTorch's convention, in float32), with the
run's loss, activation, momentum and batch size, on a sample of the run's own training data, so its
answer does not depend on the backend that asked. The plot is :func:`ffnn.plots.plot_range_test`.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

__all__ = ["RangeTest", "range_test", "steepest_range", "SAMPLE", "LR_MIN", "LR_MAX", "PER_DECADE", "STEPS_PER_RATE",
           "EVAL_SIZE", "TIME_LIMIT", "MIN_SECONDS", "MIN_STEPS", "MIN_SAMPLES_PER_RATE", "MIN_SAMPLE"]

LR_MIN, LR_MAX = 1e-4, 100.0  # the sweep: six decades, from no visible change to divergence for any loss
PER_DECADE = 5  # rates per decade: 31 in all
STEPS_PER_RATE = 10  # SGD steps at each rate: 310 steps in all
EVAL_SIZE = 200  # images the loss is measured on after each rate
SAMPLE = 1200  # training images a run's test draws on (EVAL_SIZE of them held for the loss)
MIN_SAMPLE = 20  # a run with fewer training images gets no range test
TIME_LIMIT = 3.0  # seconds the sweep should take at most (it takes fewer steps per rate to keep to it)
MIN_SECONDS = 1.0  # the least time a run's share gives the test (a tenth of a run of a few seconds is too little)
MIN_STEPS = 310  # the least number of steps a run's share gives the test (31 rates, 10 steps each)
_DIVERGED = 4.0  # stop once the loss is this many times its lowest value
_HALF = 0.5  # the range: the rates that made the loss fall at least half as fast as the steepest one
_WINDOW = 2  # the smoothing: a centred mean over 2 rates either side
MIN_SAMPLES_PER_RATE = 64  # small batches take more steps at each rate (batch 1: 64 steps)


@dataclass(frozen=True)
class RangeTest:
    """The outcome of :func:`range_test`.

    Attributes
    ----------
    rates, losses : tuple of float
        The rates of the sweep and the loss on the evaluation sample after the steps at each.
    recommended : (float, float) or None
        The range of rates where the loss fell fastest; None if it never fell.
    steepest : float or None
        The rate at which it fell fastest.
    batch_size, steps, initial_loss, seconds, sample, held : int, int, float, float, int, int
        The batch size and number of the steps, the loss before them, the time the test took, the
        training images it drew on and how many of those it held out to measure the loss.
    """

    rates: tuple
    losses: tuple
    recommended: tuple | None
    steepest: float | None
    batch_size: int
    steps: int
    initial_loss: float
    seconds: float
    sample: int
    held: int

    @property
    def suggested(self) -> float | None:
        """One rate to train with: the geometric middle of the recommended range, to 2 significant digits."""
        if self.recommended is None:
            return None
        return float(f"{math.sqrt(self.recommended[0] * self.recommended[1]):.2g}")

    def to_dict(self) -> dict:
        return {"recommended": None if self.recommended is None else [float(v) for v in self.recommended],
                "steepest": self.steepest, "suggested": self.suggested, "steps": self.steps,
                "batch_size": self.batch_size, "initial_loss": float(f"{self.initial_loss:.5g}"),
                "sample": self.sample, "held": self.held, "seconds": round(self.seconds, 4),
                "rates": [float(f"{r:.4g}") for r in self.rates],
                "losses": [float(f"{v:.5g}") for v in self.losses]}


def range_test(config, x, y, weights, *, lr_min: float = LR_MIN, lr_max: float = LR_MAX,
               per_decade: int = PER_DECADE, steps_per_rate: int = STEPS_PER_RATE, max_steps: int | None = None,
               eval_size: int = EVAL_SIZE, time_limit: float = TIME_LIMIT) -> RangeTest:
    """Run the range test for ``config`` from ``weights`` on images ``x`` (n, d) and int labels ``y``.

    Parameters
    ----------
    config : TrainConfig
        The run's: its layer sizes, loss, activation, momentum, batch size and seed are used; its rate and
        schedule are not (the test sweeps the rate).
    x, y : arrays
        A sample of the run's training data; the last ``eval_size`` images (at most half of them) are
        the evaluation sample, the others are stepped through (again from the start if the steps need more).
    weights : list of (W, b)
        Where the steps start (copied; the caller's weights are not touched).
    lr_min, lr_max, per_decade, steps_per_rate
        The sweep: rates ``per_decade`` to a decade from ``lr_min`` to ``lr_max``, each held for
        ``steps_per_rate`` steps (more if they would see fewer than :data:`MIN_SAMPLES_PER_RATE`
        images, but no more than ``max_steps`` in all), after which the loss is measured.
    time_limit : float
        Seconds the sweep should take: where the steps so far say it would take longer, the remaining
        rates get fewer steps each (at least one). It stops early once the loss has diverged.
    """
    from .data import one_hot, to_labels
    from .dynamics import gradients
    from .functional import forward, get_loss

    start = time.perf_counter()
    x = np.asarray(x, dtype=np.float32)
    y = to_labels(y)
    if len(x) != len(y) or len(x) < 2:
        raise ValueError(f"the range test needs at least 2 images with labels, got {len(x)} and {len(y)}")
    if not 0 < lr_min < lr_max:
        raise ValueError(f"the range test needs 0 < lr_min < lr_max, got {lr_min} and {lr_max}")
    n_eval = min(eval_size, len(x) // 2)
    k = config.n_classes
    x_train, y_train = x[:-n_eval], one_hot(y[:-n_eval], k)
    x_held, y_held = x[-n_eval:], one_hot(y[-n_eval:], k)
    loss_of = get_loss(config.loss).loss
    weights = [(np.array(W, dtype=np.float32), np.array(b, dtype=np.float32)) for W, b in weights]  # copies
    velocities = [(np.zeros_like(W), np.zeros_like(b)) for W, b in weights]

    def held_loss() -> float:
        return float(loss_of(forward(weights, x_held, config.activation)[-1], y_held))

    def sgd_step(idx, rate) -> None:
        """One step of SGD with momentum (PyTorch's convention, as every backend): v = mu v + g, w -= rate v."""
        for (W, b), (vW, vb), (dW, db) in zip(weights, velocities, gradients(
                weights, x_train[idx], y_train[idx], config.activation, config.loss)):
            for w, v, g in ((W, vW, dW), (b, vb, db)):
                v *= config.momentum
                v += g
                w -= rate * v

    order = np.random.default_rng([config.seed, 3]).permutation(len(x_train))
    batch = config.batch_size
    n_rates = int(round(per_decade * math.log10(lr_max / lr_min))) + 1
    sweep = lr_min * (lr_max / lr_min) ** (np.arange(n_rates) / (n_rates - 1))
    per_rate = max(steps_per_rate, -(-MIN_SAMPLES_PER_RATE // batch))
    if max_steps is not None:
        per_rate = max(1, min(per_rate, max_steps // n_rates))
    tick = time.perf_counter()
    initial = held_loss()
    eval_seconds = time.perf_counter() - tick
    rates, losses = [], []
    step, best = 0, initial
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for i, rate in enumerate(sweep):
            tick = time.perf_counter()
            for _ in range(per_rate):
                first = (step * batch) % len(order)
                sgd_step(np.take(order, np.arange(first, first + batch), mode="wrap"), float(rate))
                step += 1
            step_seconds = (time.perf_counter() - tick) / per_rate
            loss = held_loss()
            if not math.isfinite(loss):
                break
            rates.append(float(rate))
            losses.append(float(loss))
            best = min(best, loss)
            if loss > _DIVERGED * best:
                break
            # Fewer steps at each remaining rate if that is what it takes to reach lr_max within time_limit.
            left = time_limit - (time.perf_counter() - start)
            n_left = n_rates - i - 1
            if n_left and left < n_left * (per_rate * step_seconds + eval_seconds):
                per_rate = max(1, int((left / n_left - eval_seconds) / step_seconds))
    recommended, steepest = steepest_range(initial, np.array(rates), np.array(losses))
    return RangeTest(tuple(rates), tuple(losses), recommended, steepest, batch, step, float(initial),
                     time.perf_counter() - start, len(x), n_eval)


def steepest_range(initial: float, rates: np.ndarray, losses: np.ndarray):
    """((low, high), steepest rate) where the smoothed loss falls fastest against log10(rate), and the
    rates around it where it falls at least half as fast; (None, None) if it never fell.

    The curve is noisy (at batch 1 especially): each loss is averaged with its neighbours within
    ``_WINDOW`` rates either side (a centred mean, which moves no feature to another rate), and only
    the part up to the lowest smoothed loss counts (after that the rates are too large).
    """
    curve = np.concatenate([[initial], losses])
    if len(curve) < 4:
        return None, None
    kernel = np.ones(2 * _WINDOW + 1)
    padded = np.pad(curve, _WINDOW, mode="edge")
    smooth = np.convolve(padded, kernel / kernel.sum(), mode="valid")
    lowest = int(np.argmin(smooth))
    if lowest == 0:
        return None, None
    levels = np.log10(np.concatenate([[rates[0] / 10 ** (1 / PER_DECADE)], rates]))[:lowest + 1]
    slope = np.gradient(smooth[:lowest + 1], levels)
    i = int(np.argmin(slope[1:])) + 1  # index 0 is the loss before the sweep
    if not slope[i] < 0:
        return None, None
    falling = slope <= _HALF * slope[i]
    lo = hi = i
    while lo > 1 and falling[lo - 1]:
        lo -= 1
    while hi < len(falling) - 1 and falling[hi + 1]:
        hi += 1
    rate = lambda k: float(f"{rates[k - 1]:.3g}")  # noqa: E731
    return (rate(lo), rate(hi)), rate(i)

