"""What the per-epoch dynamics cost: ``python benchmarks/dynamics_cost.py [--backends numpy,torch] [--epochs 3]``.

Times, taking turns epoch by epoch (so a change in the machine's load hits
both alike), a backend's training epoch at batch 32 on the full MNIST
training set (60,000 images, 784-128-64-10) and what the training loop adds
after each epoch for the dynamics: exporting the weights and
:func:`ffnn.dynamics.measure` on the 1,000-image probe set. Prints the
median of each and their ratio; the issue's target is at most 5%.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

try:
    import ffnn  # noqa: F401
except ImportError:  # a checkout that is not pip-installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ffnn import dynamics
from ffnn.backends import build
from ffnn.config import TrainConfig
from ffnn.data import load_mnist, prepare_images

TARGET = 0.05


def measure_cost(backend: str, x, y, epochs: int, batch_size: int = 32) -> dict:
    """Median seconds of a training epoch and of the epoch's dynamics, after one warm-up epoch."""
    config = TrainConfig(layer_sizes=(784, 128, 64, 10), batch_size=batch_size, learning_rate=0.1)
    model = build(backend, config, "cpu")
    data = model.prepare_data(x, y)
    idx = dynamics.probe_indices(len(x), config.seed)
    probe = (x[idx], y[idx])
    schedule, step, rng = config.make_schedule(), 0, np.random.default_rng(0)
    train, dyn = [], []
    for epoch in range(epochs + 1):
        start = time.perf_counter()
        step = model.train_epoch(data, rng.permutation(len(x)), batch_size, schedule, step, lambda m: None)
        middle = time.perf_counter()
        dynamics.measure(model.export_weights(), *probe, config.activation, config.loss)
        end = time.perf_counter()
        if epoch:
            train.append(middle - start)
            dyn.append(end - middle)
    epoch_s, dyn_s = statistics.median(train), statistics.median(dyn)
    return {"backend": backend, "epoch_seconds": epoch_s, "dynamics_seconds": dyn_s, "ratio": dyn_s / epoch_s}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="numpy", help="comma-separated backends (default: numpy, the "
                                                             "fastest epoch, so the largest share)")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs after one warm-up (default: 3)")
    args = parser.parse_args(argv)
    (x, y), _ = load_mnist()
    x, y = prepare_images(x), y.astype(np.int64)
    worst = 0.0
    for backend in args.backends.split(","):
        r = measure_cost(backend.strip(), x, y, args.epochs)
        worst = max(worst, r["ratio"])
        print(f"{r['backend']:<11} epoch at batch 32: {r['epoch_seconds']:.3f} s, dynamics: "
              f"{1000 * r['dynamics_seconds']:.1f} ms, {r['ratio']:.1%} of the epoch "
              f"({'within' if r['ratio'] <= TARGET else 'over'} the {TARGET:.0%} target)")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
