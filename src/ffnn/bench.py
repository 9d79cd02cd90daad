r"""How fast and how good is each implementation: one benchmark, one table.

``ffnn bench`` (or ``python benchmarks/bench.py``) trains the same network
(784-128-64-10, sigmoid hidden layers, softmax output, cross-entropy, plain
SGD, float32) on MNIST with

- the three backends (:mod:`ffnn.backends`: numpy, torch, tensorflow), the
  NumPy backend with the mean squared error as well (the problem set's loss),
- the references: a plain hand-written PyTorch loop, a plain
  ``keras.Model.fit``, scikit-learn's ``MLPClassifier`` (logistic
  activation, SGD without momentum or L2, the same batch size), at batch 1
  the problem set's per-sample loop written with ``np.dot`` and ``np.outer``,
  and a plain ``ffnn train`` epoch (the NumPy backend through ``fit_arrays``),
- the *matmul floor*: only the matrix products one epoch needs, in float32,
  into preallocated outputs; its time is its fastest epoch,

and reports seconds per training epoch at several batch sizes, ratios
between them, test accuracy after a fixed budget of epochs, the peak
memory (RSS) of each backend and the bytes a NumPy backend epoch allocates.

The floor for layer sizes :math:`n_0, \dots, n_L` and a batch ``A_0`` of
:math:`m` rows is, per batch, the forward products
:math:`Z_l = A_{l-1} W_l`, the weight gradients :math:`dW_l = A_{l-1}^T dZ_l`
and the backpropagated :math:`dA_{l-1} = dZ_l W_l^T` for :math:`l > 1`, that
is :math:`2m\,(2\sum_l n_{l-1} n_l + \sum_{l>1} n_{l-1} n_l)` floating-point
operations; for 784-128-64-10 about 0.45 MFLOP per sample, 27 GFLOP per
epoch of 60,000 samples.

Every measurement runs in a child process, so that each backend's peak RSS
is that of a process which imported only its own framework, and so that
frameworks do not share a process (and its threads) with the ones they are
compared against unless the comparison needs it:

- ``numpy`` process: the NumPy backend's accuracy run (its peak RSS is read
  before anything else is imported), then the floor, the NumPy backend
  (cross-entropy and mse), the ``ffnn train`` epoch and the per-sample loops;
  nothing but NumPy is imported, as in ``ffnn train --backend numpy``;
- ``torch`` process: the PyTorch backend's accuracy run and peak RSS, then
  the PyTorch backend, plain PyTorch and scikit-learn timings;
- ``tensorflow`` process: the Keras backend's accuracy run and peak RSS,
  then the Keras backend and plain Keras timings.

So "numpy vs floor", "numpy vs ``ffnn train``", "torch backend vs plain
PyTorch" and "Keras backend vs plain Keras" are each measured within one
process; ratios across processes (numpy vs torch) are marked in the table.
Within a process the implementations take turns epoch by epoch, in forward
and reverse order by turns and each after a short untimed pause
(:func:`_interleaved`), so a change in the machine's load slows them alike
and none pays for the one before it. Plain Keras runs as one ``fit`` call of
all its epochs, and the Keras backend's epochs take their turns from inside
it, between its epochs (:func:`_time_keras_plain`).
"""
from __future__ import annotations

import argparse
import collections
import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .format import pct

__all__ = ["MODES", "run", "render_markdown", "matmul_flops", "compute_ratios"]

LAYER_SIZES = (784, 128, 64, 10)
EPOCH_SAMPLES = 60_000  # one epoch of full MNIST: every time is reported per this many samples
TIMING_LR = 0.1  # the learning rate of the timing runs (it does not change their cost)

#: Settings of each mode. ``timing_samples``: training samples timed per
#: batch size (times are scaled to ``EPOCH_SAMPLES``); ``accuracy``: the budget
#: every backend trains for before its test accuracy is measured.
MODES = {
    "full": dict(
        batch_sizes=(1, 32, 128),
        timing_samples={1: 2_000, 32: 60_000, 128: 60_000},
        warmup_epochs=1, timed_epochs=6, settle_seconds=0.25,  # an even number: see _interleaved
        accuracy=dict(epochs=25, batch_size=64, learning_rate=1.0, train_samples=60_000, test_samples=10_000),
    ),
    "quick": dict(
        batch_sizes=(1, 32, 128),
        timing_samples={1: 300, 32: 3_000, 128: 6_000},
        warmup_epochs=1, timed_epochs=2, settle_seconds=0.1,
        accuracy=dict(epochs=1, batch_size=64, learning_rate=1.0, train_samples=10_000, test_samples=10_000),
    ),
}

#: Implementation key -> (label in the table, process it is timed in).
IMPLEMENTATIONS = {
    "floor": ("matmul floor", "numpy"),
    "numpy": ("ffnn numpy backend", "numpy"),
    "numpy_mse": ("ffnn numpy backend, mse", "numpy"),
    "numpy_train": ("plain `ffnn train` epoch (numpy)", "numpy"),
    "per_sample": ("per-sample np.dot/np.outer loop", "numpy"),
    "per_sample_mse": ("per-sample np.dot/np.outer loop, mse", "numpy"),
    "torch": ("ffnn torch backend", "torch"),
    "torch_plain": ("plain PyTorch loop", "torch"),
    "sklearn": ("scikit-learn MLPClassifier", "torch"),
    "tensorflow": ("ffnn tensorflow backend", "tensorflow"),
    "keras_plain": ("plain keras.Model.fit", "tensorflow"),
}
#: What each process times, taking turns, in this order (``per_sample*`` at batch 1 only).
PLAN = {"numpy": ["floor", "numpy", "numpy_mse", "numpy_train", "per_sample", "per_sample_mse"],
        "torch": ["torch", "torch_plain", "sklearn"],
        "tensorflow": ["tensorflow", "keras_plain"]}
PER_SAMPLE_ONLY = ("per_sample", "per_sample_mse")
#: The plain reference each implementation is compared with (where both were timed at a batch size).
REFERENCE = {"torch": "torch_plain", "tensorflow": "keras_plain", "numpy": "per_sample",
             "numpy_mse": "per_sample_mse"}
#: The NumPy backend timed by the benchmark against the same backend trained as ``ffnn train`` trains it.
TRAIN_REFERENCE = {"numpy": "numpy_train"}
#: The backend a reference belongs to: timed only when that backend is asked for.
OWNER = {"torch_plain": "torch", "sklearn": "torch", "keras_plain": "tensorflow"}
BACKEND_NAMES = ("numpy", "torch", "tensorflow")

#: The issue's targets: (numerator, denominator, batch sizes (None: every one), at least, at most).
TARGETS = [
    ("numpy", "floor", (32,), None, 1.5),
    ("numpy", "floor", (128,), None, 1.3),
    ("numpy_mse", "floor", (32,), None, 1.5),
    ("numpy_mse", "floor", (128,), None, 1.3),
    ("numpy", "per_sample", (1,), None, 1.2),
    ("numpy_mse", "per_sample_mse", (1,), None, 1.2),
    ("numpy", "numpy_train", None, 0.9, 1.1),
    ("numpy", "torch", None, None, 1.0),
    ("numpy", "torch", (1,), None, 0.5),
    ("torch", "torch_plain", None, None, 1.1),
    ("tensorflow", "keras_plain", None, None, 1.2),
]
#: Bytes a batch-128 epoch of the NumPy backend allocates at its peak (tracemalloc), cross-entropy, measured on
#: main before issue 26 (2026-12-02): the workspace and the gradients of 784-128-64-10, plus small temporaries.
MEMORY_BATCH = 128
MEMORY_TARGET_BYTES = 1_192_444
TARGET_ACCURACY = 0.98
#: A quick run judges a speed target only at batch sizes where it timed at least this many samples: on
#: fewer, the costs paid once per epoch (that the full run spreads over 60,000 samples) are scaled up with
#: the rest. Quick runs never judge the test accuracy (one epoch on 10,000 images is not the full budget).
QUICK_JUDGED_SAMPLES = 5_000


# ------------------------------------------------------------------ measuring


def matmul_flops(layer_sizes, n_samples: int) -> int:
    """Floating-point operations of the matrix products of one epoch over ``n_samples``.

    Forward ``A @ W`` and ``dW = A.T @ dZ`` for every layer, ``dA = dZ @ W.T``
    for every layer but the first; a product of (m, k) and (k, n) counts
    ``2 m k n``.
    """
    pairs = [a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:])]
    return 2 * n_samples * (2 * sum(pairs) + sum(pairs[1:]))


def _peak_rss_mb():
    """This process's peak resident set size in MiB (None where it cannot be read)."""
    try:
        import resource
    except ImportError:
        try:
            import psutil
        except ImportError:
            return None
        info = psutil.Process().memory_info()
        return getattr(info, "peak_wset", info.rss) / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB on Linux


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _interleaved(runners: dict, n: int, epochs: int, warmup: int, settle: float = 0.0) -> dict:
    """Seconds of each runner's epochs, the runners taking turns epoch by epoch.

    ``runners`` maps a name to ``run_epoch(order)``; every runner gets the same
    random ``order`` of the ``n`` samples in an epoch (drawn outside the timed
    region; runners that shuffle by themselves ignore it). Taking turns means
    a change in the machine's load hits all of them alike, which keeps the
    ratios between them honest on a busy machine. The first ``warmup`` epochs
    are not recorded.

    What runs right after the NumPy backend pays for it: on the 2-core
    development machine a plain PyTorch epoch at batch 128 took 0.50 s right
    after a NumPy backend epoch and 0.40 s right after a PyTorch backend
    epoch (medians of 6; OpenBLAS's threads spin for a while after a
    product). In a fixed order the PyTorch backend, always right after
    NumPy, looked 1.17-1.27x slower than plain PyTorch. So every turn starts
    after a pause of ``settle`` seconds (not timed), which lets the previous
    implementation's threads go idle, and every other round runs the turns in
    reverse order, so that of two neighbours each runs first as often as the
    other (with an even number of timed epochs).
    """
    rng = np.random.default_rng(0)
    seconds = {name: [] for name in runners}
    names = list(runners)
    for epoch in range(warmup + epochs):
        order = rng.permutation(n)
        for name in names if epoch % 2 == 0 else names[::-1]:
            elapsed = _turn(runners[name], order, settle)
            if epoch >= warmup:
                seconds[name].append(elapsed)
    return seconds


def _turn(run_epoch, order, settle: float) -> float:
    """Seconds of ``run_epoch(order)``, run after an untimed pause of ``settle`` seconds.

    A runner that times itself (the ``ffnn train`` epoch reads its History) returns its seconds.
    """
    time.sleep(settle)
    start = time.perf_counter()
    own = run_epoch(order)
    elapsed = time.perf_counter() - start
    return elapsed if own is None else own


def _row(impl, batch_size, n, seconds, **extra):
    """A timing row; the floor's time is its fastest epoch (the best achievable), any other's the median."""
    scale = EPOCH_SAMPLES / n
    typical = min(seconds) if impl == "floor" else statistics.median(seconds)
    return dict(implementation=impl, label=IMPLEMENTATIONS[impl][0], process=IMPLEMENTATIONS[impl][1],
                batch_size=batch_size, samples_timed=n, scale=scale, epoch_seconds=seconds,
                seconds_per_epoch=typical * scale, min_seconds_per_epoch=min(seconds) * scale,
                median_seconds_per_epoch=statistics.median(seconds) * scale,
                gflops=matmul_flops(LAYER_SIZES, n) / typical / 1e9, **extra)


def _floor_epoch(x, batch_size):
    """The matrix products of an epoch over ``x``, nothing else: float32, buffers allocated up front."""
    rng = np.random.default_rng(0)
    sizes = LAYER_SIZES
    W = [rng.standard_normal((a, b), dtype=np.float32) * 0.05 for a, b in zip(sizes[:-1], sizes[1:])]
    x = np.ascontiguousarray(x, dtype=np.float32)
    n, m = len(x), min(batch_size, len(x))
    A = [np.empty((m, s), np.float32) for s in sizes[1:]]
    dZ = [rng.standard_normal((m, s), dtype=np.float32) for s in sizes[1:]]
    dA = [np.empty((m, s), np.float32) for s in sizes[1:]]
    dW = [np.empty_like(w) for w in W]
    L = len(W)

    def run_epoch(_order):
        for start in range(0, n, batch_size):
            xb = x[start:start + batch_size]  # contiguous slices: gathering a batch is not a product
            k = len(xb)
            a = xb
            for l in range(L):
                a = np.matmul(a, W[l], out=A[l][:k])
            for l in range(L - 1, -1, -1):
                prev = xb if l == 0 else A[l - 1][:k]
                # np.dot calls BLAS also for a single row, where matmul's transposed case loops.
                np.dot(prev.T, dZ[l][:k], out=dW[l])
                if l:
                    np.matmul(dZ[l][:k], W[l].T, out=dA[l - 1][:k])

    return run_epoch


def _backend_epoch(name, x, y, batch_size, loss="cross-entropy"):
    """A backend's ``train_epoch`` (the training steps only, as ``History["seconds"]``)."""
    from . import backends
    from .config import TrainConfig

    config = TrainConfig(layer_sizes=LAYER_SIZES, batch_size=batch_size, learning_rate=TIMING_LR, seed=1, loss=loss)
    model = backends.build(name, config, device="cpu")
    data = model.prepare_data(x, y)
    schedule = config.make_schedule()
    state = {"step": 0}

    def run_epoch(order):
        state["step"] = model.train_epoch(data, order, batch_size, schedule, state["step"], lambda m: None)

    return run_epoch


def _train_epoch(x, y, batch_size):
    """An epoch as ``ffnn train`` runs it: the numpy backend's ``fit_arrays`` (the training loop every
    command shares: shuffling, progress, evaluation after the epoch), one epoch per call, continuing
    from the weights of the last; returns ``History["seconds"]``, the time ``ffnn train`` reports."""
    from . import backends
    from .config import TrainConfig

    config = TrainConfig(layer_sizes=LAYER_SIZES, batch_size=batch_size, learning_rate=TIMING_LR, seed=1, epochs=1)
    model = backends.build("numpy", config)
    return lambda _order: model.fit_arrays(x, y, verbose=0)["seconds"][-1]


def _per_sample_epoch(x, y, loss="cross-entropy"):
    """Per-sample SGD written directly with 1-D vectors, ``np.dot`` and ``np.outer``: the problem set's loop.

    The same network, initial weights, loss and steps as the NumPy backend at batch 1, as a student
    writes it: every operation returns a new vector or matrix.
    """
    from .weights import init_weights

    W, b = map(list, zip(*init_weights(LAYER_SIZES, 1, "float32")))  # W[0], b[0]: the first layer's
    Y = np.eye(LAYER_SIZES[-1], dtype=np.float32)[y]
    eta, k = np.float32(TIMING_LR), LAYER_SIZES[-1]

    def sigmoid(z):
        return 0.5 * np.tanh(0.5 * z) + 0.5

    def run_epoch(order):
        for i in order:
            a0 = x[i]
            a1 = sigmoid(np.dot(a0, W[0]) + b[0])
            a2 = sigmoid(np.dot(a1, W[1]) + b[1])
            z3 = np.dot(a2, W[2]) + b[2]
            e = np.exp(z3 - z3.max())
            p = e / e.sum()
            if loss == "mse":  # through the softmax Jacobian: dz = p * (g - g.p)
                g = 2 / k * (p - Y[i])
                dz3 = p * (g - np.dot(g, p))
            else:
                dz3 = p - Y[i]
            dz2 = np.dot(W[2], dz3) * a2 * (1 - a2)
            dz1 = np.dot(W[1], dz2) * a1 * (1 - a1)
            W[2] -= eta * np.outer(a2, dz3)
            b[2] -= eta * dz3
            W[1] -= eta * np.outer(a1, dz2)
            b[1] -= eta * dz2
            W[0] -= eta * np.outer(a0, dz1)
            b[0] -= eta * dz1

    run_epoch.weights = W, b  # updated in place, for tests
    return run_epoch


def _epoch_memory(x, y, batch_size, loss="cross-entropy"):
    """Bytes the NumPy backend allocates at the peak of one epoch (tracemalloc), after a warm-up epoch."""
    import tracemalloc

    run_epoch = _backend_epoch("numpy", x, y, batch_size, loss)
    order = np.random.default_rng(0).permutation(len(x))
    run_epoch(order)
    tracemalloc.start()
    try:
        run_epoch(order)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _torch_plain_epoch(x, y, batch_size):
    """The textbook PyTorch loop: ``nn.Sequential``, ``optim.SGD``, index a ``randperm``."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    from .weights import init_weights

    model = nn.Sequential(nn.Linear(784, 128), nn.Sigmoid(), nn.Linear(128, 64), nn.Sigmoid(), nn.Linear(64, 10))
    with torch.no_grad():
        linears = [m for m in model if isinstance(m, nn.Linear)]
        for lin, (W, b) in zip(linears, init_weights(LAYER_SIZES, 1, "float32")):
            lin.weight.copy_(torch.from_numpy(W.T.copy()))
            lin.bias.copy_(torch.from_numpy(b))
    optimizer = torch.optim.SGD(model.parameters(), lr=TIMING_LR)
    X, Y = torch.from_numpy(x), torch.from_numpy(y)
    generator = torch.Generator().manual_seed(0)

    def run_epoch(_order):
        perm = torch.randperm(len(X), generator=generator)
        for start in range(0, len(X), batch_size):
            idx = perm[start:start + batch_size]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(X[idx]), Y[idx])
            loss.backward()
            optimizer.step()

    return run_epoch


def _sklearn_epoch(x, y, batch_size):
    """``MLPClassifier.partial_fit``: one pass of SGD over ``x`` (shuffled by sklearn) per call."""
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=LAYER_SIZES[1:-1], activation="logistic", solver="sgd",
                        batch_size=batch_size, learning_rate_init=TIMING_LR, learning_rate="constant",
                        momentum=0.0, nesterovs_momentum=False, alpha=0.0, shuffle=True, random_state=0)
    classes = np.arange(LAYER_SIZES[-1])

    def run_epoch(_order):
        clf.partial_fit(x, y, classes=classes)

    return run_epoch


def _time_keras_plain(x, y, batch_size, epochs, warmup, settle=0.0, others=None):
    """One ``keras.Model.fit`` call of ``warmup + epochs`` epochs; a callback times each epoch.

    ``others`` (name -> ``run_epoch(order)``) take turns with plain Keras from
    that callback, after each of its epochs, every turn after an untimed pause
    of ``settle`` seconds as in :func:`_interleaved`. So plain Keras stays the
    one ``fit`` call a user writes, a change in load slows both alike, and
    with one other each always follows the other. (Running the other right
    before plain Keras's epoch, from ``on_epoch_begin``, slowed that epoch
    from 0.15 to 0.4-0.6 s on 3,000 samples; from ``on_epoch_end`` plain
    Keras's epochs take the time they take alone.) Returns the seconds of
    each, plain Keras's under ``"keras_plain"``.
    """
    import keras

    from .weights import init_weights

    model = keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(128, activation="sigmoid"),
                              keras.layers.Dense(64, activation="sigmoid"),
                              keras.layers.Dense(10, activation="softmax")])
    for layer, (W, b) in zip(model.layers, init_weights(LAYER_SIZES, 1, "float32")):
        layer.set_weights([W, b])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=TIMING_LR),
                  loss=keras.losses.SparseCategoricalCrossentropy())
    others = others or {}
    seconds = {"keras_plain": [], **{name: [] for name in others}}
    rng = np.random.default_rng(0)

    def run_others(epoch):
        order = rng.permutation(len(x))
        for name, run_epoch in others.items():
            elapsed = _turn(run_epoch, order, settle)
            if epoch >= warmup:
                seconds[name].append(elapsed)

    class Turns(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            time.sleep(settle)
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            if epoch >= warmup:
                seconds["keras_plain"].append(time.perf_counter() - self.start)
            run_others(epoch)

    keras.utils.set_random_seed(0)
    model.fit(x, y, batch_size=batch_size, epochs=warmup + epochs, shuffle=True, verbose=0, callbacks=[Turns()])
    return seconds


def _accuracy_run(name, x, y, xt, yt, budget):
    """Train backend ``name`` for the budget with ``fit_arrays``; its test accuracy and times."""
    from . import backends
    from .config import TrainConfig

    config = TrainConfig(layer_sizes=LAYER_SIZES, epochs=budget["epochs"], batch_size=budget["batch_size"],
                         learning_rate=budget["learning_rate"], seed=1)
    model = backends.build(name, config, device="cpu")
    start = time.perf_counter()
    history = model.fit_arrays(x, y, verbose=0)
    wall = time.perf_counter() - start
    accuracy = float(np.mean(np.asarray(model.predict_proba(xt)).argmax(axis=1) == yt))
    return dict(backend=name, **budget, epochs_trained=history.epochs, test_accuracy=accuracy,
                train_accuracy=float(history["accuracy"][-1]), train_seconds=float(sum(history["seconds"])),
                wall_seconds=wall)


def _framework_info(name):
    """Version and threading of a framework, or None if it is not installed."""
    try:
        if name == "torch":
            import torch
            return dict(version=torch.__version__, threads=torch.get_num_threads(),
                        interop_threads=torch.get_num_interop_threads())
        if name == "tensorflow":
            import keras
            import tensorflow as tf
            return dict(version=tf.__version__, keras=keras.__version__,
                        intra_op_threads=tf.config.threading.get_intra_op_parallelism_threads(),
                        inter_op_threads=tf.config.threading.get_inter_op_parallelism_threads())
        if name == "sklearn":
            import sklearn
            return dict(version=sklearn.__version__)
    except ImportError:
        return None
    raise ValueError(f"unknown framework {name!r}")


def _available(module: str) -> bool:
    import importlib.util
    return importlib.util.find_spec(module) is not None


# ------------------------------------------------------------------ processes


def _load_data(accuracy):
    from .data import load_mnist, prepare_images

    (x, y), (xt, yt) = load_mnist()
    n, nt = accuracy["train_samples"], accuracy["test_samples"]
    x = prepare_images(x[:max(n, EPOCH_SAMPLES)])
    return x, y.astype(np.int64), prepare_images(xt[:nt]), yt[:nt].astype(np.int64)


_NEEDS = {"torch": "torch", "torch_plain": "torch", "sklearn": "sklearn", "tensorflow": "tensorflow",
          "keras_plain": "tensorflow"}


def _wanted(impl, backends, skipped) -> bool:
    """Whether to time ``impl``: the backend it is (or belongs to) is asked for, and its framework installed."""
    owner = OWNER.get(impl, IMPLEMENTATIONS[impl][1])
    if owner not in backends:
        return False
    if impl in _NEEDS and not _available(_NEEDS[impl]):
        skipped.append(dict(item=IMPLEMENTATIONS[impl][0], reason=f"{_NEEDS[impl]} is not installed"))
        return False
    return True


def _runner(impl, x, y, batch_size):
    """``run_epoch(order)`` of implementation ``impl`` on ``(x, y)`` at ``batch_size``."""
    if impl == "floor":
        return _floor_epoch(x, batch_size)
    if impl in ("numpy", "numpy_mse"):
        return _backend_epoch("numpy", x, y, batch_size, "mse" if impl == "numpy_mse" else "cross-entropy")
    if impl == "numpy_train":
        return _train_epoch(x, y, batch_size)
    if impl in PER_SAMPLE_ONLY:
        return _per_sample_epoch(x, y, "mse" if impl == "per_sample_mse" else "cross-entropy")
    if impl == "torch_plain":
        return _torch_plain_epoch(x, y, batch_size)
    if impl == "sklearn":
        return _sklearn_epoch(x, y, batch_size)
    return _backend_epoch(impl, x, y, batch_size)


def _worker(process: str, spec: dict) -> dict:
    """Everything measured in one child process (see the module docstring)."""
    wanted = set(spec["backends"])
    out = {"process": process, "timings": [], "accuracy": [], "memory": [], "skipped": [], "frameworks": {}}
    out["numpy_blas"] = _blas_info()  # before torch or scipy bring BLAS libraries of their own
    x, y, xt, yt = _load_data(spec["accuracy"])
    rss_data = _peak_rss_mb()
    budget = spec["accuracy"]
    if process in wanted:
        _log(f"{process}: accuracy run ({budget['epochs']} epochs at batch {budget['batch_size']})")
        n = budget["train_samples"]
        try:
            acc = _accuracy_run(process, x[:n], y[:n], xt, yt, budget)
        except ImportError as exc:
            out["skipped"].append(dict(item=f"{process} accuracy", reason=str(exc)))
        else:
            acc.update(peak_rss_mb=_peak_rss_mb(), data_rss_mb=rss_data)
            out["accuracy"].append(acc)

    plan = [impl for impl in PLAN.get(process, []) if _wanted(impl, wanted, out["skipped"])]
    epochs, warmup, settle = spec["timed_epochs"], spec["warmup_epochs"], spec["settle_seconds"]
    for bs in spec["batch_sizes"] if plan else ():
        n = min(spec["timing_samples"][str(bs)], len(x))
        xb, yb = x[:n], y[:n]
        timed = [impl for impl in plan if bs == 1 or impl not in PER_SAMPLE_ONLY]
        _log(f"{process}: timing {', '.join(timed)} at batch {bs} on {n} samples")
        runners = {impl: _runner(impl, xb, yb, bs) for impl in timed if impl != "keras_plain"}
        if "keras_plain" in timed:  # the Keras backend takes turns with plain Keras inside its fit call
            times = _time_keras_plain(xb, yb, bs, epochs, warmup, settle, runners)
        else:
            times = _interleaved(runners, n, epochs, warmup, settle) if runners else {}
        for impl in timed:
            out["timings"].append(_row(impl, bs, n, times[impl]))
    if process == "numpy" and "numpy" in wanted:
        n = min(spec["timing_samples"][str(MEMORY_BATCH)], len(x))
        for loss in ("cross-entropy", "mse"):
            out["memory"].append(dict(backend="numpy", loss=loss, batch_size=MEMORY_BATCH, samples=n,
                                      peak_bytes=_epoch_memory(x[:n], y[:n], MEMORY_BATCH, loss)))
    for fw in ("torch", "tensorflow", "sklearn"):
        if process == fw or (process == "torch" and fw == "sklearn"):
            out["frameworks"][fw] = _framework_info(fw) if _available(fw) else None
    return out


def _run_child(process: str, spec: dict, workdir: Path) -> dict:
    spec_path, result_path = workdir / f"{process}-spec.json", workdir / f"{process}-result.json"
    spec_path.write_text(json.dumps(spec))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"))
    # The child imports this very package, wherever it was imported from.
    src = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p)
    cmd = [sys.executable, "-m", "ffnn.bench", "--worker", process, "--spec", str(spec_path),
           "--result", str(result_path)]
    start = time.perf_counter()
    tail = collections.deque(maxlen=15)
    # Progress lines go on to stderr; the frameworks' chatter is kept only to explain a failure.
    with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        for line in proc.stdout:
            if line.startswith("[bench]"):
                sys.stderr.write(line)
            else:
                tail.append(line.rstrip())
    wall = time.perf_counter() - start
    if proc.returncode != 0 or not result_path.exists():
        return dict(process=process, error=f"exit status {proc.returncode}:\n" + "\n".join(tail), wall_seconds=wall)
    result = json.loads(result_path.read_text())
    result["wall_seconds"] = wall
    return result


# ------------------------------------------------------------------ the report


def _blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        threadpool_info = None
    if threadpool_info is not None:
        pools = [dict(api=p.get("internal_api"), version=p.get("version"), threads=p.get("num_threads"),
                      architecture=p.get("architecture"), library=Path(p.get("filepath", "")).name)
                 for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            return pools
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return [dict(api=blas.get("name"), version=blas.get("version"), threads=None)]
    except Exception:  # show_config's layout differs between NumPy versions
        return None


def machine_info() -> dict:
    """The machine the numbers come from: CPU, cores, Python and NumPy."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return dict(cpu=cpu, logical_cores=os.cpu_count(), usable_cores=usable,
                platform=platform.platform(), python=platform.python_version(), numpy=np.__version__,
                load_average=list(os.getloadavg()) if hasattr(os, "getloadavg") else None)


#: The ratio columns: kind -> the denominator of an implementation (None: no such ratio).
RATIO_KINDS = {
    "floor": lambda impl: "floor",
    "torch": lambda impl: None if impl == "floor" else "torch",
    "reference": REFERENCE.get,
    "train": TRAIN_REFERENCE.get,
}


def paired_ratio(a: dict, b: dict):
    """The median of ``a``'s epoch divided by ``b``'s epoch of the same round, or None where the two rows
    were not timed in the same rounds (another process, or a different number of epochs).

    Two implementations that take turns in one process share each round's machine: on the 2-core
    development machine an epoch is either fast or, while the second core is busy elsewhere, up to
    twice as slow, so the medians of six epochs can land in different states (``ffnn train`` 0.746 s
    against the backend's 0.504 s at batch 32, 2026-12-02, three of its six epochs slow) while the
    quotient of the two epochs of one round stays near 1."""
    sa, sb = a.get("epoch_seconds"), b.get("epoch_seconds")
    if not sa or not sb or len(sa) != len(sb) or a["process"] != b["process"]:
        return None
    return statistics.median(x / y for x, y in zip(sa, sb))


def compute_ratios(timings) -> list:
    """Each time divided by the floor's, the torch backend's, its plain reference's and its ``ffnn train``
    epoch's at its batch size, wherever both were timed.

    The ratio to ``ffnn train`` (the two are the same code, so it measures the measurement) is the
    median of the two epochs' quotients round by round (:func:`paired_ratio`) where they took turns;
    every other ratio is the quotient of the two reported times."""
    by = {(t["implementation"], t["batch_size"]): t for t in timings}
    ratios = []
    for t in timings:
        impl, bs = t["implementation"], t["batch_size"]
        for kind, denominator in RATIO_KINDS.items():
            ref = denominator(impl)
            if ref is None or ref == impl or (ref, bs) not in by:
                continue
            other = by[(ref, bs)]
            value = t["seconds_per_epoch"] / other["seconds_per_epoch"]
            paired = paired_ratio(t, other) if kind == "train" else None
            ratios.append(dict(numerator=impl, denominator=ref, kind=kind, batch_size=bs,
                               value=value if paired is None else paired,
                               same_process=t["process"] == other["process"],
                               **({"quotient_of_medians": value} if paired is not None else {})))
    return ratios


def _not_judged(mode: str, batch_size=None):
    """Why a run of ``mode`` cannot judge a target (None: it can); ``batch_size`` None: the accuracy target.

    The full run judges every target. A quick run judges a speed ratio only
    where it timed at least :data:`QUICK_JUDGED_SAMPLES` samples, and never
    the test accuracy, whose budget is the full run's.
    """
    if mode != "quick":
        return None
    quick, full = MODES["quick"], MODES["full"]
    if batch_size is None:
        a, b = quick["accuracy"], full["accuracy"]
        return (f"test accuracy after {a['epochs']} epoch(s) on {a['train_samples']:,} images; the target is "
                f"for {b['epochs']} epochs on {b['train_samples']:,}")
    n = quick["timing_samples"].get(batch_size, 0)
    if n < QUICK_JUDGED_SAMPLES:
        return (f"batch {batch_size} timed on {n:,} samples (fewer than {QUICK_JUDGED_SAMPLES:,}, the "
                f"full run {full['timing_samples'].get(batch_size, EPOCH_SAMPLES):,})")
    return None


def _target(what, batch_size, value, goal, met, reason) -> dict:
    """One row of the targets table; ``met`` is None where the run does not judge it (``reason`` says why)."""
    return dict(what=what, batch_size=batch_size, value=value, **goal, judged=reason is None,
                met=bool(met) if reason is None else None, **({"not_judged": reason} if reason else {}))


def _within(value, goal: dict) -> bool:
    """Whether ``value`` meets ``goal`` (``at_least`` and/or ``at_most``)."""
    return goal.get("at_least", -np.inf) <= value <= goal.get("at_most", np.inf)


def _targets(ratios, accuracy, mode: str = "full", memory=()) -> list:
    """Every target with its measured value and whether it is met (None: not judged in this mode)."""
    rows = []
    for num, den, sizes, low, high in TARGETS:
        goal = {k: v for k, v in (("at_least", low), ("at_most", high)) if v is not None}
        for r in ratios:
            if r["numerator"] == num and r["denominator"] == den and (sizes is None or r["batch_size"] in sizes):
                rows.append(_target(f"{IMPLEMENTATIONS[num][0]} / {IMPLEMENTATIONS[den][0]}", r["batch_size"],
                                    r["value"], goal, _within(r["value"], goal), _not_judged(mode, r["batch_size"])))
    for m in memory:
        if MEMORY_TARGET_BYTES and m["loss"] == "cross-entropy":
            rows.append(_target(f"{m['backend']} backend, bytes allocated at the peak of an epoch", m["batch_size"],
                                m["peak_bytes"], dict(at_most_bytes=MEMORY_TARGET_BYTES),
                                m["peak_bytes"] <= MEMORY_TARGET_BYTES, None))
    for a in accuracy:
        rows.append(_target(f"{a['backend']} backend test accuracy", a["batch_size"], a["test_accuracy"],
                            dict(at_least=TARGET_ACCURACY), a["test_accuracy"] >= TARGET_ACCURACY,
                            _not_judged(mode)))
    return rows


def run(mode: str = "full", backends=BACKEND_NAMES, note: str = "") -> dict:
    """Run the benchmark in child processes and return the results as a dict (the JSON)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    backends = tuple(backends)
    for b in backends:
        if b not in BACKEND_NAMES:
            raise ValueError(f"unknown backend {b!r}; choose from {', '.join(BACKEND_NAMES)}")
    settings = MODES[mode]
    spec = dict(backends=list(backends), batch_sizes=list(settings["batch_sizes"]),
                timing_samples={str(k): v for k, v in settings["timing_samples"].items()},
                warmup_epochs=settings["warmup_epochs"], timed_epochs=settings["timed_epochs"],
                settle_seconds=settings["settle_seconds"], accuracy=settings["accuracy"])
    info = machine_info()
    started = time.perf_counter()
    processes = ["numpy"] + [p for p in ("torch", "tensorflow") if p in backends]
    children = []
    with tempfile.TemporaryDirectory(prefix="ffnn-bench-") as tmp:
        for process in processes:
            _log(f"process {process} starting")
            children.append(_run_child(process, spec, Path(tmp)))
    info["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    info["numpy_blas"] = next((c.get("numpy_blas") for c in children if c.get("numpy_blas")), None)
    for c in children:
        info.update({k: v for k, v in c.get("frameworks", {}).items()})
    timings = [t for c in children for t in c.get("timings", [])]
    accuracy = [a for c in children for a in c.get("accuracy", [])]
    memory = [m for c in children for m in c.get("memory", [])]
    ratios = compute_ratios(timings)
    return dict(
        date=_dt.datetime.now().astimezone().isoformat(timespec="seconds"), mode=mode, note=note,
        machine=info, layer_sizes=list(LAYER_SIZES), epoch_samples=EPOCH_SAMPLES, timing_learning_rate=TIMING_LR,
        settings=spec, timings=timings, ratios=ratios, accuracy=accuracy, memory=memory,
        targets=_targets(ratios, accuracy, mode, memory),
        skipped=[s for c in children for s in c.get("skipped", [])],
        errors=[dict(process=c["process"], error=c["error"]) for c in children if "error" in c],
        processes={c["process"]: round(c["wall_seconds"], 1) for c in children},
        total_seconds=time.perf_counter() - started,
    )


def _fmt(v, digits=2):
    if v is None:
        return ""
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v < 0.1:
        return f"{v:.2g}"  # 0.0046, not 0.00
    return f"{v:.{digits}f}"


def _md_header(results: dict) -> list:
    """Title, date, machine, libraries and the network."""
    m = results["machine"]
    lines = [f"# ffnn benchmark ({results['mode']} mode)", "", f"- date: {results['date']}"]
    if results.get("note"):
        lines.append(f"- note: {results['note']}")
    lines.append(f"- machine: {m['cpu']}, {m['usable_cores']} usable of {m['logical_cores']} logical cores, "
                 f"{m['platform']}")
    load = m.get("load_average")
    if load:
        end = m.get("load_average_end") or load
        lines.append(f"- load average (1 min) at start {load[0]:.2f}, at end {end[0]:.2f}")
        if load[0] >= m["usable_cores"]:
            lines.append(f"- the machine was busy before the run began (load {load[0]:.1f} on {m['usable_cores']} "
                         f"usable cores): other work shared the CPUs, so these times are not worth keeping")
    blas = ", ".join(f"{b['api']} {b['version']} ({b['threads']} threads)" for b in (m.get("numpy_blas") or []))
    lines.append(f"- Python {m['python']}, NumPy {m['numpy']}" + (f" with {blas}" if blas else ""))
    if m.get("torch"):
        lines.append(f"- PyTorch {m['torch']['version']} ({m['torch']['threads']} threads), CPU")
    if m.get("tensorflow"):
        lines.append(f"- TensorFlow {m['tensorflow']['version']}, Keras {m['tensorflow']['keras']}, CPU")
    if m.get("sklearn"):
        lines.append(f"- scikit-learn {m['sklearn']['version']}")
    sizes = "-".join(map(str, results["layer_sizes"]))
    return lines + ["", f"Network {sizes}, sigmoid hidden layers, softmax output, cross-entropy, plain SGD, "
                        f"float32.", ""]


def _md_timings(results: dict) -> list:
    """Seconds per epoch of every implementation and batch size, with their ratios."""
    settings = results["settings"]
    lines = [f"## Seconds per training epoch ({results['epoch_samples']:,} samples)", "",
             f"Median of {settings['timed_epochs']} epochs after {settings['warmup_epochs']} warm-up "
             f"epoch(s), except the matmul floor: its fastest epoch, the best the machine achieved for the "
             f"products alone. Training steps only (no evaluation). In the numpy and torch processes the "
             f"implementations take turns epoch by epoch, in reverse order every other round; in the "
             f"tensorflow process the Keras backend runs an epoch after each of plain Keras's, from inside "
             f"its one fit call. Every turn starts after an untimed pause of {settings.get('settle_seconds', 0)} "
             f"s. GFLOP/s: the matmul floor's operation count divided by the time.", "",
             "| batch | implementation | process | s/epoch | GFLOP/s | x floor | x torch backend "
             "| x plain reference | x `ffnn train` |",
             "|---:|---|---|---:|---:|---:|---:|---:|---:|"]
    ratios = {(r["numerator"], r["kind"], r["batch_size"]): r for r in results["ratios"]}
    scaled_notes = set()
    order = list(IMPLEMENTATIONS)
    for t in sorted(results["timings"], key=lambda t: (t["batch_size"], order.index(t["implementation"]))):
        impl, bs = t["implementation"], t["batch_size"]
        cells = []
        for kind in RATIO_KINDS:
            r = ratios.get((impl, kind, bs))
            cells.append("" if r is None else _fmt(r["value"]) + ("" if r["same_process"] else " †"))
        if t["scale"] != 1:
            scaled_notes.add((bs, t["samples_timed"]))
        lines.append(f"| {bs}{' *' if t['scale'] != 1 else ''} | {t['label']} | {t['process']} | "
                     f"{_fmt(t['seconds_per_epoch'], 3)} | {_fmt(t['gflops'])} | " + " | ".join(cells) + " |")
    lines.append("")
    for bs, n in sorted(scaled_notes):
        lines.append(f"\\* batch {bs}: timed on the first {n:,} samples, scaled to {results['epoch_samples']:,}.  ")
    return lines + ["† a ratio across two processes (the reference ran in another child process)."]


def _md_numpy(results: dict) -> list:
    """The NumPy backend beside ``ffnn train``, the per-sample loop and the floor; its memory per epoch."""
    rows = {(t["implementation"], t["batch_size"]): t for t in results["timings"]}
    sizes = sorted({bs for impl, bs in rows if impl == "numpy"})
    lines = []
    if any(("numpy_train", bs) in rows for bs in sizes):
        lines += ["", "## The benchmark and `ffnn train`", "",
                  "The NumPy backend's epoch as timed here (`train_epoch`, what `History[\"seconds\"]` records) "
                  "and a plain `ffnn train` epoch on the same rows: the backend trained by `fit_arrays`, the "
                  "training loop `ffnn train` runs, one epoch per turn, its time read from its History. The "
                  "two take turns with the others in one process; the ratio is the median of the two epochs' "
                  "quotients round by round (each round's pair shares the machine's state), the quotient of "
                  "the two medians beside it.", "",
                  "| batch | benchmark's numpy epoch (s) | plain `ffnn train` epoch (s) | ratio, round by round "
                  "| quotient of the medians | rounds |", "|---:|---:|---:|---:|---:|---|"]
        paired = {r["batch_size"]: r for r in results["ratios"]
                  if r["numerator"] == "numpy" and r["denominator"] == "numpy_train"}
        for bs in sizes:
            a, b = rows.get(("numpy", bs)), rows.get(("numpy_train", bs))
            if a and b and bs in paired:
                rounds = ", ".join(f"{x / y:.2f}" for x, y in zip(a["epoch_seconds"], b["epoch_seconds"]))
                quotient = a["seconds_per_epoch"] / b["seconds_per_epoch"]
                lines.append(f"| {bs} | {_fmt(a['seconds_per_epoch'], 3)} | {_fmt(b['seconds_per_epoch'], 3)} | "
                             f"{paired[bs]['value']:.3f} | {quotient:.3f} | {rounds} |")
    if any(k in rows for k in (("per_sample", 1), ("per_sample_mse", 1))):
        lines += ["", "## Per-sample mode (batch 1)", "",
                  "Microseconds per training sample: the NumPy backend at batch 1 (the problem set's protocol) "
                  "against the same steps written with `np.dot` and `np.outer` on 1-D vectors.", "",
                  "| loss | numpy backend (µs/sample) | np.dot/np.outer loop (µs/sample) | ratio |",
                  "|---|---:|---:|---:|"]
        for loss, impl, ref in (("cross-entropy", "numpy", "per_sample"), ("mse", "numpy_mse", "per_sample_mse")):
            a, b = rows.get((impl, 1)), rows.get((ref, 1))
            if a and b:
                us = lambda t: 1e6 * t["seconds_per_epoch"] / results["epoch_samples"]  # noqa: E731
                lines.append(f"| {loss} | {us(a):.1f} | {us(b):.1f} | {us(a) / us(b):.3f} |")
    if results.get("memory"):
        lines += ["", "## Memory of a NumPy backend epoch", "",
                  "Bytes the backend allocates at the peak of one training epoch (tracemalloc, after a warm-up "
                  "epoch): its workspace, gradients and anything it allocates per step.", "",
                  "| loss | batch | samples | peak bytes |", "|---|---:|---:|---:|"]
        lines += [f"| {m['loss']} | {m['batch_size']} | {m['samples']:,} | {m['peak_bytes']:,} |"
                  for m in results["memory"]]
    return lines


def _md_targets(results: dict) -> list:
    """The targets table, then what it says: how many were judged and met, and why the others were not."""
    lines = ["", "## Targets", "", "| target | batch | measured | goal | met |", "|---|---:|---:|---|---|"]
    targets = results["targets"]
    for t in targets:
        if "at_most_bytes" in t:
            goal, value = f"at most {t['at_most_bytes']:,} bytes", f"{t['value']:,} bytes"
        elif "at_most" in t and "at_least" in t:
            goal, value = f"within {t['at_least']:.1f}-{t['at_most']:.1f}x", f"{t['value']:.3f}x"
        elif "at_most" in t:
            goal, value = f"at most {t['at_most']:.1f}x", f"{t['value']:.3f}x"
        else:
            goal, value = f"at least {pct(t['at_least'], 1)}", pct(t['value'])
        met = "yes" if t["met"] else "no" if t.get("judged", True) else f"not judged in {results['mode']} mode"
        lines.append(f"| {t['what']} | {t['batch_size']} | {value} | {goal} | {met} |")
    judged = [t for t in targets if t.get("judged", True)]
    met = sum(bool(t["met"]) for t in judged)
    lines.append("")
    if len(judged) < len(targets):
        lines.append(f"This {results['mode']} run judges {len(judged)} of {len(targets)} targets; the others "
                     f"are for the full run (`ffnn bench`):")
        reasons = collections.Counter(t["not_judged"] for t in targets if not t.get("judged", True))
        lines += [f"- {reason} ({n} target{'s' if n > 1 else ''})" for reason, n in reasons.items()]
        lines.append("")
    if judged:
        which = "judged targets" if len(judged) < len(targets) else "targets"
        lines.append(f"All {len(judged)} {which} are met." if met == len(judged)
                     else f"{met} of {len(judged)} {which} are met.")
    return lines


def _md_accuracy(results: dict) -> list:
    """Test accuracy, training time and peak memory of each backend."""
    budget = results["settings"]["accuracy"]
    lines = ["", "## Test accuracy and memory", "",
             f"Each backend trains with `fit_arrays` for {budget['epochs']} epoch(s) on the first "
             f"{budget['train_samples']:,} training samples, batch {budget['batch_size']}, learning rate "
             f"{budget['learning_rate']}, seed 1, then is scored on the first {budget['test_samples']:,} "
             f"test samples. Peak RSS: the child process that loaded MNIST, imported only this "
             f"backend's framework and trained it (data only: its peak before importing the backend).",
             "", "| backend | test accuracy | final training accuracy | training s (sum of epochs) | "
                 "peak RSS MiB | data only MiB |", "|---|---:|---:|---:|---:|---:|"]
    for a in results["accuracy"]:
        lines.append(f"| {a['backend']} | {pct(a['test_accuracy'])} | {pct(a['train_accuracy'])} | "
                     f"{_fmt(a['train_seconds'], 1)} | {_fmt(a['peak_rss_mb'], 0)} | {_fmt(a['data_rss_mb'], 0)} |")
    return lines


def render_markdown(results: dict) -> str:
    """The results as a Markdown report: machine, times and ratios, targets, accuracy and memory."""
    lines = (_md_header(results) + _md_timings(results) + _md_numpy(results) + _md_targets(results)
             + _md_accuracy(results))
    if results["skipped"] or results["errors"]:
        lines += ["", "## Not measured", ""]
        lines += [f"- {s['item']}: {s['reason']}" for s in results["skipped"]]
        lines += [f"- process {e['process']} failed: {e['error'].splitlines()[0]}" for e in results["errors"]]
    lines += ["", f"Total run time {results['total_seconds']:.0f} s "
                  f"({', '.join(f'{k} {v:.0f} s' for k, v in results['processes'].items())}).", ""]
    return "\n".join(lines)


# ------------------------------------------------------------------ a measuring process


def worker_main(argv=None) -> int:
    """``python -m ffnn.bench --worker P --spec S --result R``: one measuring process of :func:`_run_child`."""
    p = argparse.ArgumentParser(prog="python -m ffnn.bench", description="one measuring process of ffnn bench")
    p.add_argument("--worker", required=True, choices=("numpy", "torch", "tensorflow"))
    p.add_argument("--spec", required=True)
    p.add_argument("--result", required=True)
    args = p.parse_args(argv)
    spec = json.loads(Path(args.spec).read_text())
    Path(args.result).write_text(json.dumps(_worker(args.worker, spec)))
    return 0


if __name__ == "__main__":
    sys.exit(worker_main())
