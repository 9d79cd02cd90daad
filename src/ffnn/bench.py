r"""How fast and how good is each implementation: one benchmark, one table.

``ffnn bench`` (or ``python benchmarks/bench.py``) trains the same network
(784-128-64-10, sigmoid hidden layers, softmax output, cross-entropy, plain
SGD, float32) on MNIST with

- the three backends (:mod:`ffnn.backends`: numpy, torch, tensorflow),
- the references: a plain hand-written PyTorch loop, a plain
  ``keras.Model.fit`` and scikit-learn's ``MLPClassifier`` (logistic
  activation, SGD without momentum or L2, the same batch size),
- the *matmul floor*: only the matrix products one epoch needs, in float32,

and reports seconds per training epoch at several batch sizes, ratios
between them, test accuracy after a fixed budget of epochs and the peak
memory (RSS) of each backend.

The floor for layer sizes :math:`n_0, \dots, n_L` and a batch ``A_0`` of
:math:`m` rows is, per batch, the forward products
:math:`Z_l = A_{l-1} W_l`, the weight gradients :math:`dW_l = A_{l-1}^T dZ_l`
and the backpropagated :math:`dA_{l-1} = dZ_l W_l^T` for :math:`l > 1`, that
is :math:`2m\,(2\sum_l n_{l-1} n_l + \sum_{l>1} n_{l-1} n_l)` floating-point
operations; for 784-128-64-10 about 0.45 MFLOP per sample, 27 GFLOP per
epoch of 60,000 samples.

Every measurement runs in a child process, so that each backend's peak RSS
is that of a process which imported only its own framework, and so that
frameworks do not share a process with the ones they are compared against
unless the comparison needs it:

- ``numpy`` process: the NumPy backend's accuracy run (its peak RSS is read
  before anything else is imported), then the matmul floor, the NumPy and
  PyTorch backends, plain PyTorch and scikit-learn timings;
- ``torch`` process: the PyTorch backend's accuracy run and peak RSS;
- ``tensorflow`` process: the Keras backend's accuracy run and peak RSS,
  then the Keras backend and plain Keras timings.

So "numpy vs torch backend", "numpy vs floor" and "torch backend vs plain
PyTorch" are measured in one process, as are "Keras backend vs plain Keras";
ratios across processes are marked in the table. In the numpy process the
implementations take turns epoch by epoch, in forward and reverse order by
turns and each after a short untimed pause (:func:`_interleaved`), so a
change in the machine's load slows them alike and none pays for the one
before it. Plain Keras runs as one ``fit`` call of all its epochs, and the
Keras backend's epochs take their turns from inside it, between its epochs
(:func:`_time_keras_plain`).
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

__all__ = ["MODES", "main", "run", "render_markdown", "matmul_flops", "compute_ratios"]

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
        warmup_epochs=1, timed_epochs=10, settle_seconds=0.25,  # an even number: see _interleaved
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
    "torch": ("ffnn torch backend", "numpy"),
    "torch_plain": ("plain PyTorch loop", "numpy"),
    "sklearn": ("scikit-learn MLPClassifier", "numpy"),
    "tensorflow": ("ffnn tensorflow backend", "tensorflow"),
    "keras_plain": ("plain keras.Model.fit", "tensorflow"),
}
#: The plain reference each backend is compared with.
REFERENCE = {"torch": "torch_plain", "tensorflow": "keras_plain"}
BACKEND_NAMES = ("numpy", "torch", "tensorflow")

#: The issue's targets: (numerator, denominator, batch sizes, at most).
TARGETS = [
    ("numpy", "torch", (128,), 1.0),
    ("numpy", "floor", (128,), 2.0),
    ("numpy", "torch", (1,), 0.5),
    ("torch", "torch_plain", None, 1.1),
    ("tensorflow", "keras_plain", None, 1.2),
]
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
    """Seconds of ``run_epoch(order)``, run after an untimed pause of ``settle`` seconds."""
    time.sleep(settle)
    start = time.perf_counter()
    run_epoch(order)
    return time.perf_counter() - start


def _row(impl, batch_size, n, seconds, **extra):
    scale = EPOCH_SAMPLES / n
    median = statistics.median(seconds)
    return dict(implementation=impl, label=IMPLEMENTATIONS[impl][0], process=IMPLEMENTATIONS[impl][1],
                batch_size=batch_size, samples_timed=n, scale=scale, epoch_seconds=seconds,
                seconds_per_epoch=median * scale, min_seconds_per_epoch=min(seconds) * scale,
                gflops=matmul_flops(LAYER_SIZES, n) / median / 1e9, **extra)


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


def _backend_epoch(name, x, y, batch_size):
    """A backend's ``train_epoch`` (the training steps only, as ``History["seconds"]``)."""
    from . import backends
    from .config import TrainConfig

    config = TrainConfig(layer_sizes=LAYER_SIZES, batch_size=batch_size, learning_rate=TIMING_LR, seed=1)
    model = backends.build(name, config, device="cpu")
    data = model.prepare_data(x, y)
    schedule = config.make_schedule()
    state = {"step": 0}

    def run_epoch(order):
        state["step"] = model.train_epoch(data, order, batch_size, schedule, state["step"], lambda m: None)

    return run_epoch


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
    return lambda _order: clf.partial_fit(x, y, classes=classes)


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
    """Whether to time ``impl``: its backend (or the backend it is the reference of) is asked for and installed."""
    owner = next((b for b, ref in REFERENCE.items() if ref == impl), impl)
    if owner in BACKEND_NAMES and owner not in backends:
        return False
    if impl in _NEEDS and not _available(_NEEDS[impl]):
        skipped.append(dict(item=IMPLEMENTATIONS[impl][0], reason=f"{_NEEDS[impl]} is not installed"))
        return False
    return True


def _worker(process: str, spec: dict) -> dict:
    """Everything measured in one child process (see the module docstring)."""
    wanted = set(spec["backends"])
    out = {"process": process, "timings": [], "accuracy": [], "skipped": [], "frameworks": {}}
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

    plan = {"numpy": ["floor", "numpy", "torch", "torch_plain", "sklearn"],
            "tensorflow": ["tensorflow", "keras_plain"]}.get(process, [])
    plan = [impl for impl in plan if _wanted(impl, wanted, out["skipped"])]
    epochs, warmup, settle = spec["timed_epochs"], spec["warmup_epochs"], spec["settle_seconds"]
    makers = {"floor": lambda x, y, bs: _floor_epoch(x, bs), "torch_plain": _torch_plain_epoch,
              "sklearn": _sklearn_epoch}
    for bs in spec["batch_sizes"] if plan else ():
        n = min(spec["timing_samples"][str(bs)], len(x))
        xb, yb = x[:n], y[:n]
        turns = [impl for impl in plan if impl != "keras_plain"]
        _log(f"{process}: timing {', '.join(plan)} at batch {bs} on {n} samples")
        runners = {impl: makers[impl](xb, yb, bs) if impl in makers else _backend_epoch(impl, xb, yb, bs)
                   for impl in turns}
        if "keras_plain" in plan:  # the Keras backend takes turns with plain Keras inside its fit call
            times = _time_keras_plain(xb, yb, bs, epochs, warmup, settle, runners)
        else:
            times = _interleaved(runners, n, epochs, warmup, settle) if runners else {}
        for impl in plan:
            out["timings"].append(_row(impl, bs, n, times[impl]))
    for fw in ("torch", "tensorflow", "sklearn"):
        if (process == "numpy" and fw != "tensorflow") or process == fw:
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


def compute_ratios(timings) -> list:
    """Each time divided by the matmul floor, the torch backend and the plain reference at its batch size."""
    by = {(t["implementation"], t["batch_size"]): t for t in timings}
    ratios = []
    for t in timings:
        impl, bs = t["implementation"], t["batch_size"]
        for kind, ref in (("floor", "floor"), ("torch", "torch"), ("reference", REFERENCE.get(impl))):
            if ref is None or ref == impl or (ref, bs) not in by or (kind == "torch" and impl == "floor"):
                continue
            other = by[(ref, bs)]
            ratios.append(dict(numerator=impl, denominator=ref, kind=kind, batch_size=bs,
                               value=t["seconds_per_epoch"] / other["seconds_per_epoch"],
                               same_process=t["process"] == other["process"]))
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


def _targets(ratios, accuracy, mode: str = "full") -> list:
    """Every target with its measured value and whether it is met (None: not judged in this mode)."""
    rows = []
    for num, den, sizes, goal in TARGETS:
        for r in ratios:
            if r["numerator"] == num and r["denominator"] == den and (sizes is None or r["batch_size"] in sizes):
                rows.append(_target(f"{IMPLEMENTATIONS[num][0]} / {IMPLEMENTATIONS[den][0]}", r["batch_size"],
                                    r["value"], dict(at_most=goal), r["value"] <= goal,
                                    _not_judged(mode, r["batch_size"])))
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
    ratios = compute_ratios(timings)
    return dict(
        date=_dt.datetime.now().astimezone().isoformat(timespec="seconds"), mode=mode, note=note,
        machine=info, layer_sizes=list(LAYER_SIZES), epoch_samples=EPOCH_SAMPLES, timing_learning_rate=TIMING_LR,
        settings=spec, timings=timings, ratios=ratios, accuracy=accuracy,
        targets=_targets(ratios, accuracy, mode),
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
             f"epoch(s); training steps only (no evaluation). In the numpy process the implementations take "
             f"turns epoch by epoch, in reverse order every other round; in the tensorflow process the Keras "
             f"backend runs an epoch after each of plain Keras's, from inside its one fit call. Every turn "
             f"starts after an untimed pause of {settings.get('settle_seconds', 0)} s. GFLOP/s: the matmul "
             f"floor's operation count "
             f"divided by the time.", "",
             "| batch | implementation | process | s/epoch | GFLOP/s | x floor | x torch backend | x plain reference |",
             "|---:|---|---|---:|---:|---:|---:|---:|"]
    ratios = {(r["numerator"], r["kind"], r["batch_size"]): r for r in results["ratios"]}
    scaled_notes = set()
    order = list(IMPLEMENTATIONS)
    for t in sorted(results["timings"], key=lambda t: (t["batch_size"], order.index(t["implementation"]))):
        impl, bs = t["implementation"], t["batch_size"]
        cells = []
        for kind in ("floor", "torch", "reference"):
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


def _md_targets(results: dict) -> list:
    """The targets table, then what it says: how many were judged and met, and why the others were not."""
    lines = ["", "## Targets", "", "| target | batch | measured | goal | met |", "|---|---:|---:|---|---|"]
    targets = results["targets"]
    for t in targets:
        if "at_most" in t:
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
    lines = _md_header(results) + _md_timings(results) + _md_targets(results) + _md_accuracy(results)
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
