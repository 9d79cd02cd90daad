"""Where a NumPy backend training step spends its time: ``python benchmarks/step_budget.py [--batch-size 32]``.

Runs the step of :class:`ffnn.backends.numpy_net.NeuralNetwork` operation by operation on full MNIST,
with a clock between groups (gathering, the eight products, the elementwise forward, the loss gradient,
the bias gradients, the activation derivatives, the SGD update), and prints microseconds per step, the
fastest of ``--epochs`` epochs. With ``--threads 1`` (the default) OpenBLAS runs on one thread and the
clock is the thread's own CPU time, so that other jobs on a shared machine do not count; with
``--threads 2`` (what ``ffnn train`` and the benchmark use on the 2-core machine) the clock is the wall
clock, and the table adds the same eight products run back to back with nothing between them (the
benchmark's matmul floor, per step), so that the step's products and the floor's can be compared.
The table in the README's Benchmark section compares the one-thread budget with the same grouping
applied to the step before issue 26 (commit 3872425).
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

try:
    import ffnn  # noqa: F401
except ImportError:  # a checkout that is not pip-installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

PARTS = ["gather", "products", "forward elementwise", "loss gradient", "bias gradients",
         "backward elementwise", "SGD update"]


def budget(batch_size: int, loss: str, epochs: int, threads: int = 1) -> dict:
    from threadpoolctl import threadpool_limits

    from ffnn.backends import numpy_net as N
    from ffnn.config import TrainConfig
    from ffnn.data import load_mnist, prepare_images
    from ffnn.functional import get_activation, get_loss, softmax

    threadpool_limits(threads)
    clock = time.thread_time if threads == 1 else time.perf_counter
    (x, y), _ = load_mnist()
    sizes = (784, 128, 64, 10)
    model = N.NeuralNetwork(config=TrainConfig(layer_sizes=sizes, batch_size=batch_size, seed=1, loss=loss))
    X, Y = model.prepare_data(prepare_images(x), y)
    ws = N._Workspace(sizes, batch_size, model.dtype)
    params, weights = model._flat_params(), model.weights_
    grad, act = get_loss(loss).grad, get_activation("sigmoid")
    order = np.random.default_rng(0).permutation(len(X))
    best = None
    for _ in range(epochs):
        T, steps = dict.fromkeys(PARTS, 0.0), 0
        for start in range(0, len(X) - batch_size + 1, batch_size):
            idx = order[start:start + batch_size]
            t0 = clock()
            xb = np.take(X, idx, axis=0, out=ws.x, mode="clip")
            yb = np.take(Y, idx, axis=0, out=ws.y, mode="clip")
            t1 = clock(); T["gather"] += t1 - t0  # noqa: E702
            a, acts = xb, ws.activations
            for l, (W, b) in enumerate(weights):
                t0 = clock(); z = np.matmul(a, W, out=acts[l]); t1 = clock(); T["products"] += t1 - t0  # noqa: E702
                z += b
                a = softmax(z, out=z, col=ws.col) if l == len(weights) - 1 else act.forward(z, out=z)
                T["forward elementwise"] += clock() - t1
            t0 = clock()
            dz = grad(acts[-1], yb, out=ws.deltas[-1], tmp=ws.scratch[-1], col=ws.col)
            T["loss gradient"] += clock() - t0
            for l in range(len(weights) - 1, -1, -1):
                a_prev, (dW, db) = (xb if l == 0 else acts[l - 1]), ws.coef_grads[l]
                t0 = clock(); np.dot(a_prev.T, dz, out=dW); t1 = clock(); T["products"] += t1 - t0  # noqa: E702
                np.dot(ws.ones, dz, out=db); t0 = clock(); T["bias gradients"] += t0 - t1  # noqa: E702
                if l:
                    da = np.matmul(dz, weights[l][0].T, out=ws.deltas[l - 1])
                    t1 = clock(); T["products"] += t1 - t0  # noqa: E702
                    dz = act.backward(da, a_prev, out=da, tmp=ws.scratch[l - 1])
                    T["backward elementwise"] += clock() - t1
            t0 = clock(); model.optimizer.step([params], [ws.grads], 0.1); T["SGD update"] += clock() - t0  # noqa: E702
            steps += 1
        per_step = {k: 1e6 * v / steps for k, v in T.items()}
        if best is None or sum(per_step.values()) < sum(best.values()):
            best = per_step
    best["the floor's products (nothing between them)"] = _products_alone(X, batch_size, epochs, clock)
    return best


def call_overhead(batch_size: int, loss: str, epochs: int) -> float:
    """Microseconds per step of the NumPy backend's own ``train_epoch`` on a 4-3-3-2 network at ``batch_size``:
    the same NumPy calls and Python as a 784-128-64-10 step with next to no arithmetic in them (one thread's
    CPU time, fastest epoch), which no step of this backend can go below."""
    from ffnn.backends import numpy_net as N
    from ffnn.config import TrainConfig

    sizes, n = (4, 3, 3, 2), 200 * batch_size
    model = N.NeuralNetwork(config=TrainConfig(layer_sizes=sizes, batch_size=batch_size, seed=1, loss=loss))
    rng = np.random.default_rng(0)
    data = model.prepare_data(rng.random((n, sizes[0]), dtype=np.float32), rng.integers(0, sizes[-1], n))
    schedule, order, best = model.train_config.make_schedule(), np.arange(n), None
    for _ in range(epochs + 1):
        t0 = time.thread_time()
        model.train_epoch(data, order, batch_size, schedule, 0, lambda m: None)
        per_step = 1e6 * (time.thread_time() - t0) / (n // batch_size)
        best = per_step if best is None else min(best, per_step)
    return best


def _products_alone(x, batch_size, epochs, clock) -> float:
    """Microseconds per step of the benchmark's matmul floor (:func:`ffnn.bench._floor_epoch`: the step's
    eight products back to back into preallocated outputs) on the same rows, fastest epoch."""
    from ffnn.bench import _floor_epoch

    run_epoch, steps, best = _floor_epoch(x, batch_size), -(-len(x) // batch_size), None
    for _ in range(epochs):
        t0 = clock()
        run_epoch(None)
        per_step = 1e6 * (clock() - t0) / steps
        best = per_step if best is None else min(best, per_step)
    return best


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch-size", type=int, default=32, help="samples per step (default: %(default)s)")
    p.add_argument("--loss", default="cross-entropy", help="loss (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=2, help="epochs; the fastest is shown (default: %(default)s)")
    p.add_argument("--threads", type=int, default=1,
                   help="OpenBLAS threads; 1 times CPU time, more the wall clock (default: %(default)s)")
    args = p.parse_args(argv)
    if args.threads < 1:
        p.error(f"--threads must be at least 1, got {args.threads}")
    parts = budget(args.batch_size, args.loss, args.epochs, args.threads)
    floor = parts.pop("the floor's products (nothing between them)")
    clock = "CPU microseconds per step (one BLAS thread)" if args.threads == 1 else \
        f"wall-clock microseconds per step ({args.threads} BLAS threads)"
    print(f"batch {args.batch_size}, {args.loss}: {clock}\n")
    print("| part | us/step |\n|---|---:|")
    for k, v in parts.items():
        print(f"| {k} | {v:.1f} |")
    rest = sum(v for k, v in parts.items() if k != "products")
    total = sum(parts.values())
    print(f"| everything but the products | {rest:.1f} |\n| total | {total:.1f} |")
    print(f"| the same products back to back (the floor) | {floor:.1f} |")
    print(f"\nstep / floor: {total / floor:.2f}x")
    overhead = call_overhead(args.batch_size, args.loss, args.epochs)
    print(f"the backend's train_epoch on a 4-3-3-2 network at batch {args.batch_size} (its NumPy calls and "
          f"Python, next to no arithmetic): {overhead:.1f} us/step of CPU time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
