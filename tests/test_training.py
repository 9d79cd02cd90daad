"""The shared training loop, driven by a tiny softmax-regression test double.

The double's arithmetic is the textbook one (P - Y for softmax with
cross-entropy), so what is checked here is the loop's behaviour: epochs and
batches, history, progress lines, early stopping, divergence and Ctrl-C.
"""
import io

import numpy as np
import pytest

from ffnn import TrainConfig
from ffnn.training import TrainingDiverged, fit_arrays


class SoftmaxRegression:
    """A one-layer network (784 -> k) implementing the Trainable protocol."""

    def __init__(self, config, interrupt_at_epoch=None):
        self.train_config = config
        n_in, n_out = config.layer_sizes
        self.W = np.zeros((n_in, n_out), np.float32)
        self.b = np.zeros(n_out, np.float32)
        self.batches = []
        self.epochs_run = 0
        self.interrupt_at_epoch = interrupt_at_epoch

    def prepare_data(self, x, y):
        return x, y

    def _proba(self, x):
        z = x @ self.W + self.b
        e = np.exp(z - z.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    def train_epoch(self, data, order, batch_size, schedule, step, on_batch):
        self.epochs_run += 1
        if self.epochs_run == self.interrupt_at_epoch:
            raise KeyboardInterrupt
        x, y = data
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            self.batches.append(idx)
            p = self._proba(x[idx])
            p[np.arange(len(idx)), y[idx]] -= 1  # dL/dZ = P - Y
            lr = schedule(step)
            self.W -= lr * x[idx].T @ p / len(idx)
            self.b -= lr * p.mean(0)
            step += 1
            on_batch(len(idx))
        return step

    def loss_and_accuracy(self, data):
        x, y = data
        p = self._proba(x)
        return float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None)).mean()), float((p.argmax(1) == y).mean())

    def export_weights(self):
        return [(self.W.copy(), self.b.copy())]

    def import_weights(self, weights):
        (self.W, self.b), = [(np.array(W), np.array(b)) for W, b in weights]


def small(mnist_small, n=400):
    x, y, xt, yt = mnist_small
    return x[:n], y[:n], xt[:200], yt[:200]


def test_history_progress_and_batches(mnist_small):
    x, y, xv, yv = small(mnist_small)
    cfg = TrainConfig(layer_sizes=(784, 10), epochs=3, batch_size=128, learning_rate=0.5, seed=7)
    model = SoftmaxRegression(cfg)
    out = io.StringIO()
    hist = fit_arrays(model, x, y, xv, yv, stream=out)
    assert hist["epoch"] == [1, 2, 3] and len(hist["val_accuracy"]) == 3
    assert hist["accuracy"][-1] > 0.8 and hist["val_accuracy"][-1] > 0.6
    assert all(s > 0 for s in hist["seconds"]) and hist["learning_rate"] == [0.5] * 3
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("Epoch: 1, Training Time: ") and "Validation Accuracy: " in lines[0]
    assert lines[0].endswith("%")
    # 400 samples in batches of 128: 4 batches an epoch, each epoch a permutation.
    assert [len(b) for b in model.batches[:4]] == [128, 128, 128, 16]
    epoch1 = np.concatenate(model.batches[:4])
    epoch2 = np.concatenate(model.batches[4:8])
    assert sorted(epoch1) == list(range(400)) and not np.array_equal(epoch1, epoch2)
    # Same seed, same batches; one-hot labels and (n, 28, 28) images are accepted.
    again = SoftmaxRegression(cfg)
    fit_arrays(again, (x.reshape(-1, 28, 28) * 255).round().astype(np.uint8), np.eye(10)[y], verbose=0)
    np.testing.assert_array_equal(np.concatenate(again.batches), np.concatenate(model.batches))


def test_time_based_rate_is_recorded_per_epoch(mnist_small):
    x, y, _, _ = small(mnist_small, 200)
    cfg = TrainConfig(layer_sizes=(784, 10), epochs=3, batch_size=50, schedule="time-based", learning_rate=6)
    hist = fit_arrays(SoftmaxRegression(cfg), x, y, verbose=0)
    # 4 steps an epoch: epoch 1 starts at step 0 (rate 6), epoch 2 at step 4 (rate 2), epoch 3 at 8 (1).
    assert hist["learning_rate"] == [6.0, 2.0, 1.0]


def test_early_stopping_restores_best_weights(mnist_small):
    x, y, xv, yv = small(mnist_small)
    cfg = TrainConfig(layer_sizes=(784, 10), epochs=30, batch_size=16, learning_rate=3.0,
                      early_stopping=2, monitor="val_loss")
    model = SoftmaxRegression(cfg)
    snapshots = []
    hist = fit_arrays(model, x, y, xv, yv, verbose=0,
                      on_epoch_end=lambda h: snapshots.append(model.export_weights()))
    assert hist.stopped_epoch is not None and hist.stopped_epoch < 30
    best = int(np.argmin(hist["val_loss"]))
    assert hist.best_epoch == best + 1
    assert hist.stopped_epoch == hist.best_epoch + 2
    np.testing.assert_array_equal(model.W, snapshots[best][0][0])
    assert not np.array_equal(model.W, snapshots[-1][0][0])


def test_early_stopping_needs_validation_data(mnist_small):
    x, y, _, _ = small(mnist_small)
    cfg = TrainConfig(layer_sizes=(784, 10), early_stopping=3)
    with pytest.raises(ValueError, match="no validation data"):
        fit_arrays(SoftmaxRegression(cfg), x, y, verbose=0)
    hist = fit_arrays(SoftmaxRegression(cfg.replace(monitor="accuracy", epochs=4, learning_rate=0.05)), x, y,
                      verbose=0)
    acc = hist["accuracy"]
    assert np.argmax(acc) != np.argmin(acc)  # the epochs differ, so the direction of "best" matters
    assert hist.best_epoch == int(np.argmax(acc)) + 1  # accuracy is maximised, not minimised


def test_ctrl_c_keeps_finished_epochs(mnist_small):
    x, y, xv, yv = small(mnist_small)
    cfg = TrainConfig(layer_sizes=(784, 10), epochs=5, learning_rate=0.5)
    hist = fit_arrays(SoftmaxRegression(cfg, interrupt_at_epoch=3), x, y, xv, yv, verbose=0)
    assert hist.interrupted and hist["epoch"] == [1, 2]


def test_divergence_is_reported_with_advice(mnist_small):
    x, y, _, _ = small(mnist_small)
    x = x * 1e30  # overflow: the loss becomes NaN/inf
    cfg = TrainConfig(layer_sizes=(784, 10), epochs=2, learning_rate=1e30)
    with np.errstate(all="ignore"), pytest.raises(TrainingDiverged, match="learning rate smaller than 1e"):
        fit_arrays(SoftmaxRegression(cfg), x, y, verbose=0)


def test_bad_inputs_are_named(mnist_small):
    x, y, _, _ = small(mnist_small)
    cfg = TrainConfig(layer_sizes=(784, 10))
    with pytest.raises(ValueError, match="x_train has 100 features per sample, the network expects 784"):
        fit_arrays(SoftmaxRegression(cfg), x[:, :100], y, verbose=0)
    with pytest.raises(ValueError, match="400 samples but its labels have 399"):
        fit_arrays(SoftmaxRegression(cfg), x, y[:-1], verbose=0)
    with pytest.raises(ValueError, match="go up to 9, the network has 5 classes"):
        fit_arrays(SoftmaxRegression(TrainConfig(layer_sizes=(784, 5))), x, y, verbose=0)
    with pytest.raises(ValueError, match="both x_val and y_val"):
        fit_arrays(SoftmaxRegression(cfg), x, y, x, verbose=0)


def test_progress_bar_in_a_terminal(mnist_small):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    x, y, _, _ = small(mnist_small, 200)
    out = Tty()
    fit_arrays(SoftmaxRegression(TrainConfig(layer_sizes=(784, 10), epochs=2)), x, y, stream=out)
    text = out.getvalue()
    assert "epoch 1/2" in text and "epoch 2/2" in text and "200/200" in text
    assert "acc " in text and "%" in text and "Training Accuracy:" not in text  # compact beside the bar
