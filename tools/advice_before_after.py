"""The course notebook's three settings, before and after following ffnn's learning-rate advice.

``python tools/advice_before_after.py [--epochs N]`` trains each setting on the first 1,000 MNIST
training images (20% held out for validation, stratified), prints every diagnosis and the range test's
numbers, then trains the setting again at the rate the advice suggests (a constant rate) and prints both
runs' validation accuracy per epoch. The settings, with the problem set's classes:

- scratch: ``NeuralNetwork([784, 128, 64, 10])``, MSE, rate 1.5, batch 1 (50 epochs in the notebook);
- torch: ``NeuralNetworkTorch([784, 128, 64, 10])``, rate 1.5, batch 1, inputs normalised to [-1, 1];
- keras: ``NeuralNetworkTf(sizes=[784, 128, 32, 10])``, ``TimeBasedLearningRate(10)``, batch 1, through the
  shared loop (``fit_arrays``, as the notebook's diagnosis section does).
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np


def _data():
    from ffnn.data import load_mnist, prepare_images, train_val_split

    (x, y), _ = load_mnist()
    return train_val_split(prepare_images(x[:1000]), y[:1000].astype(np.int64), 0.2, seed=1)


def _train(setting: str, epochs: int, rate=None):
    """Train ``setting`` (at ``rate``, a constant, if given); return its History and seconds."""
    import ffnn

    x, x_val, y, y_val = _data()
    start = time.perf_counter()
    if setting == "scratch":
        net = ffnn.NeuralNetwork([784, 128, 64, 10], epochs=epochs, learning_rate=rate or 1.5)
        history = net.fit(x, ffnn.data.one_hot(y), x_val, ffnn.data.one_hot(y_val), verbose=0)
    elif setting == "torch":
        import torch
        from torch.utils.data import DataLoader, TensorDataset

        def loader(images, labels, batch, shuffle):
            data = TensorDataset(torch.from_numpy(images * 2 - 1).reshape(-1, 1, 28, 28), torch.from_numpy(labels))
            return DataLoader(data, batch_size=batch, shuffle=shuffle, generator=torch.Generator().manual_seed(1))

        net = ffnn.NeuralNetworkTorch([784, 128, 64, 10], epochs=epochs, learning_rate=rate or 1.5, batch_size=1)
        history = net.fit(loader(x, y, 1, True), loader(x_val, y_val, 200, False), verbose=0)
    else:
        from ffnn.backends import tf_net

        config = (ffnn.TrainConfig(layer_sizes=(784, 128, 32, 10), epochs=epochs, batch_size=1, learning_rate=10,
                                   schedule="time-based") if rate is None else
                  ffnn.TrainConfig(layer_sizes=(784, 128, 32, 10), epochs=epochs, batch_size=1, learning_rate=rate))
        history = tf_net.build(config).fit_arrays(x, y, x_val, y_val, verbose=0)
    return history, time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("settings", nargs="*", default=["scratch", "torch", "keras"])
    parser.add_argument("--epochs", type=int, default=10, help="epochs of every run (default: 10)")
    args = parser.parse_args(argv)
    try:
        import torch

        torch.set_num_threads(1)  # batch 1 on a shared machine: more threads only spin
    except ImportError:
        pass
    results = {}
    for setting in args.settings:
        before, seconds = _train(setting, args.epochs)
        test = before.lr_range_test
        row = {"before": {"val_accuracy": before["val_accuracy"], "seconds": round(seconds, 1),
                          "diagnosis": before.diagnosis, "lr_range_test": test and {k: v for k, v in test.items()
                                                                                    if k not in ("rates", "losses")}}}
        print(f"== {setting}: {args.epochs} epochs, {seconds:.0f} s; validation accuracy "
              f"{', '.join(f'{v:.3f}' for v in before['val_accuracy'])}")
        for d in before.diagnosis:
            print(f"   [{d['code']}] epoch {d['epoch']}: {d['message']}")
        if test and test["recommended"]:
            after, seconds = _train(setting, args.epochs, test["suggested"])
            row["after"] = {"rate": test["suggested"], "val_accuracy": after["val_accuracy"],
                            "seconds": round(seconds, 1), "diagnosis": after.diagnosis}
            print(f"   rerun at {test['suggested']:g}: validation accuracy "
                  f"{', '.join(f'{v:.3f}' for v in after['val_accuracy'])}; diagnoses: "
                  f"{', '.join(d['code'] for d in after.diagnosis) or 'none'}")
        results[setting] = row
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
