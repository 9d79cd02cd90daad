"""The shared training loop (ffnn.training), driven by test doubles: every test of training.py is here.

A tiny softmax-regression double does the textbook arithmetic (P - Y for softmax with cross-entropy), so
what is checked is the loop's behaviour: epochs and batches, history, progress lines, early stopping,
divergence and Ctrl-C. A scripted double, whose losses are given in advance, pins down early stopping and
Ctrl-C; the last section checks the loop's wiring of the dynamics and the diagnoses.
"""
import io
import math
import re

import numpy as np
import pytest

from ffnn import TrainConfig, diagnosis, dynamics
from ffnn.backends.numpy_net import NeuralNetwork
from ffnn.training import EarlyStopping, TrainingDiverged, check_xy, fit_arrays, fit_loop


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


# -------------------------------------------------------- early stopping and Ctrl-C, by a scripted model
#
# Early stopping and Ctrl-C in the shared loop, driven by a scripted model whose losses are given in
# advance.
#
# The scripted model's weights after epoch ``e`` are ``e`` everywhere, so which epoch's weights it ends with
# can be read off directly.


TRAIN, VAL = "train set", "validation set"  # the data sets fit_loop hands back to ``evaluate``


class Scripted:
    """Reports ``val_losses[e - 1]`` after epoch ``e``; raises KeyboardInterrupt in epoch ``interrupt_at``.

    It counts its own epochs (``train_epoch`` is called once per epoch) and scores only the two sets above,
    so the validation numbers can only come from ``VAL``.
    """

    def __init__(self, val_losses, interrupt_at=None):
        self.val_losses = val_losses
        self.interrupt_at = interrupt_at
        self.epoch = 0
        self.weights = [(np.zeros((2, 2)), np.zeros(2))]

    def export_weights(self):
        return [(W.copy(), b.copy()) for W, b in self.weights]

    def import_weights(self, weights):
        self.weights = [(np.array(W), np.array(b)) for W, b in weights]

    def train_epoch(self, step, schedule, on_batch):
        epoch = self.epoch + 1
        if epoch == self.interrupt_at:
            raise KeyboardInterrupt
        self.epoch = epoch
        self.weights = [(np.full((2, 2), float(epoch)), np.full(2, float(epoch)))]
        return step + 1

    def evaluate(self, data):
        assert data in (TRAIN, VAL), data
        loss = self.val_losses[self.epoch - 1]
        return (loss, 1.0 - loss) if data == VAL else (1.0, 0.5)


def run(val_losses, interrupt_at=None, **config):
    cfg = TrainConfig(layer_sizes=(2, 2), epochs=len(val_losses), **config)
    model = Scripted(val_losses, interrupt_at)
    history = fit_loop(model, cfg, 10, model.train_epoch, model.evaluate, TRAIN, VAL, verbose=0)
    return model, history


def weights_epoch(model):
    """Which epoch's weights the scripted model holds."""
    (W, b), = model.weights
    assert (W == W.flat[0]).all() and (b == W.flat[0]).all()
    return int(W.flat[0])


def test_min_delta_improvements_smaller_than_it_do_not_count():
    # val_loss drops by 0.05 per epoch: with min_delta 0.1 that is no improvement, so patience 2 runs out at 3
    model, hist = run([1.0, 0.95, 0.90, 0.85, 0.80, 0.75], early_stopping=2, min_delta=0.1)
    assert hist.stopped_epoch == 3 and hist.best_epoch == 1 and weights_epoch(model) == 1
    # the same losses with min_delta 0 improve every epoch: no stop, the last epoch is the best
    model, hist = run([1.0, 0.95, 0.90, 0.85, 0.80, 0.75], early_stopping=2, min_delta=0.0)
    assert hist.stopped_epoch is None and hist.best_epoch == 6 and weights_epoch(model) == 6


def test_min_delta_counts_a_large_enough_improvement():
    # 1.0 -> 0.95 (too small) -> 0.8 (0.2 below the best: counts) -> flat: stops 2 epochs after epoch 3
    model, hist = run([1.0, 0.95, 0.8, 0.79, 0.78, 0.5], early_stopping=2, min_delta=0.1)
    assert hist.best_epoch == 3 and hist.stopped_epoch == 5 and weights_epoch(model) == 3


@pytest.mark.parametrize("monitor", ["val_loss", "val_accuracy"])
def test_losses_are_minimised_and_accuracies_maximised(monitor):
    # Scripted reports val_accuracy = 1 - val_loss: lowest loss and highest accuracy are both epoch 2,
    # while the wrong direction would pick epoch 1 (highest loss, lowest accuracy)
    model, hist = run([0.9, 0.2, 0.7, 0.8], early_stopping=5, monitor=monitor)
    assert hist.best_epoch == 2 and weights_epoch(model) == 2


def test_ctrl_c_with_early_stopping_restores_the_best_weights():
    # best at epoch 2; Ctrl-C during epoch 4 leaves epoch 3's weights in the model unless they are restored
    model, hist = run([0.9, 0.4, 0.6, 0.5, 0.3], interrupt_at=4, early_stopping=3)
    assert hist.interrupted and hist["epoch"] == [1, 2, 3]
    assert hist.best_epoch == 2 and weights_epoch(model) == 2


def test_ctrl_c_without_early_stopping_keeps_the_last_weights():
    model, hist = run([0.9, 0.4, 0.6, 0.5], interrupt_at=4)
    assert hist.interrupted and hist.best_epoch is None and weights_epoch(model) == 3


def test_early_stopping_unit():
    stop = EarlyStopping("val_loss", patience=2, min_delta=0.25)
    w = iter(range(10))
    export = lambda: [(np.full(1, next(w)), np.zeros(1))]  # noqa: E731
    assert stop.update(1, {"val_loss": 1.0}, export) is False and stop.best_epoch == 1
    assert stop.update(2, {"val_loss": 0.8}, export) is False and stop.wait == 1  # 0.2 < 0.25
    assert stop.update(3, {"val_loss": 0.7}, export) is False and stop.best_epoch == 3  # 0.3 below the best
    assert stop.update(4, {"val_loss": 0.6}, export) is False and stop.wait == 1
    assert stop.update(5, {"val_loss": 0.6}, export) is True and stop.best_epoch == 3
    assert stop.best_weights[0][0][0] == 1  # the copy taken at epoch 3 (the second export)
    with pytest.raises(ValueError, match="'val_loss', which is not available"):
        EarlyStopping("val_loss").update(1, {"val_loss": float("nan")}, export)


# ------------------------------------------------------------- edges of EarlyStopping and fit_loop


def test_default_early_stopping_is_val_loss_with_patience_5_and_no_min_delta():
    stop = EarlyStopping()
    export = lambda: [(np.zeros(1), np.zeros(1))]  # noqa: E731
    assert stop.update(1, {"val_loss": 1.0, "loss": 0.0}, export) is False
    assert stop.update(2, {"val_loss": 1.0 - 1e-12, "loss": 5.0}, export) is False and stop.best_epoch == 2
    assert [stop.update(e, {"val_loss": 2.0, "loss": 0.0}, export) for e in range(3, 8)] == [False] * 4 + [True]
    assert stop.best_epoch == 2


def test_an_infinite_monitor_is_never_an_improvement():
    stop = EarlyStopping("val_loss", patience=2)
    export = lambda: [(np.zeros(1), np.zeros(1))]  # noqa: E731
    assert stop.update(1, {"val_loss": math.inf}, export) is False and stop.wait == 1
    assert stop.update(2, {"val_loss": math.inf}, export) is True
    assert stop.best_epoch is None and stop.best_weights is None
    model, hist = run([math.inf, math.inf, math.inf], early_stopping=5)
    assert hist.best_epoch is None and weights_epoch(model) == 3  # nothing to restore: the last weights stay


def test_min_delta_applies_to_accuracy_in_its_own_units():
    # val_accuracy 0.60 -> 0.66 is a rise of 0.06, below min_delta 0.1: not an improvement
    model, hist = run([0.40, 0.34, 0.33], early_stopping=2, monitor="val_accuracy", min_delta=0.1)
    assert hist.best_epoch == 1 and hist.stopped_epoch == 3 and weights_epoch(model) == 1


class LiveWeights(Scripted):
    """Exports its live arrays (no copies) and updates them in place, as a framework's parameters do."""

    def export_weights(self):
        return self.weights

    def train_epoch(self, step, schedule, on_batch):
        epoch = self.epoch + 1
        if epoch == 1:
            self.weights = [(np.zeros((2, 2)), np.zeros(2))]
        self.epoch = epoch
        for W, b in self.weights:
            W[...] = epoch
            b[...] = epoch
        return step + 1


def test_the_best_weights_are_copies_not_views_of_live_parameters():
    cfg = TrainConfig(layer_sizes=(2, 2), epochs=4, early_stopping=3)
    model = LiveWeights([0.9, 0.2, 0.5, 0.6])
    history = fit_loop(model, cfg, 10, model.train_epoch, model.evaluate, TRAIN, VAL, verbose=0)
    assert history.best_epoch == 2 and weights_epoch(model) == 2


def test_weights_that_stop_being_finite_are_reported():
    class NanBias(Scripted):
        def train_epoch(self, step, schedule, on_batch):
            step = super().train_epoch(step, schedule, on_batch)
            self.weights = [(W, np.full_like(b, np.nan)) for W, b in self.weights]  # finite W, NaN b
            return step

    cfg = TrainConfig(layer_sizes=(2, 2), epochs=2)
    model = NanBias([0.5, 0.4])
    with pytest.raises(TrainingDiverged, match="weights are not finite"):
        fit_loop(model, cfg, 10, model.train_epoch, model.evaluate, TRAIN, VAL, verbose=0)


class Recorder:
    """A Trainable that learns nothing and records the order of the samples it is given."""

    def __init__(self, config):
        self.train_config = config
        self.orders = []

    def prepare_data(self, x, y):
        return x, y

    def train_epoch(self, data, order, batch_size, schedule, step, on_batch):
        self.orders.append(np.array(order))
        on_batch(len(order))
        return step + math.ceil(len(order) / batch_size)

    def loss_and_accuracy(self, data):
        return 1.0, 0.5

    def export_weights(self):
        sizes = self.train_config.layer_sizes
        return [(np.zeros((a, b)), np.zeros(b)) for a, b in zip(sizes, sizes[1:])]

    def import_weights(self, weights):
        pass


def _xy(n=12, classes=3):
    rng = np.random.default_rng(0)
    return rng.random((n, 4)).astype(np.float32), np.arange(n) % classes


def test_shuffling_is_seeded_and_can_be_turned_off():
    x, y = _xy()
    cfg = TrainConfig(layer_sizes=(4, 3), epochs=2, seed=5)
    model = Recorder(cfg)
    fit_arrays(model, x, y, verbose=0)
    rng = np.random.default_rng([5, 1])
    np.testing.assert_array_equal(model.orders[0], rng.permutation(12))
    np.testing.assert_array_equal(model.orders[1], rng.permutation(12))
    model = Recorder(cfg.replace(shuffle=False))
    fit_arrays(model, x, y, verbose=0)
    for order in model.orders:
        np.testing.assert_array_equal(order, np.arange(12))


def test_a_config_given_to_fit_arrays_wins_over_the_models():
    x, y = _xy()
    model = Recorder(TrainConfig(layer_sizes=(4, 3), epochs=5))
    history = fit_arrays(model, x, y, config=TrainConfig(layer_sizes=(4, 3), epochs=2), verbose=0)
    assert history["epoch"] == [1, 2] and len(model.orders) == 2


def test_labels_are_checked_against_the_output_layer_not_a_hidden_one():
    x, y = _xy()
    model = Recorder(TrainConfig(layer_sizes=(4, 16, 3)))
    with pytest.raises(ValueError, match=r"^labels of x_train go up to 5, the network has 3 classes$"):
        fit_arrays(model, x, np.arange(12) % 6, verbose=0)
    with pytest.raises(ValueError, match=r"^labels of x_train go up to 3, the network has 3 classes$"):
        fit_arrays(model, x, np.arange(12) % 4, verbose=0)  # label 3 is one too many for classes 0-2
    fit_arrays(model, x, y, verbose=0)


def test_errors_name_the_set_they_are_about():
    x, y = _xy()
    model = Recorder(TrainConfig(layer_sizes=(4, 3), epochs=1))
    with pytest.raises(ValueError, match=r"^x_val has 5 features per sample, the network expects 4$"):
        fit_arrays(model, x, y, np.zeros((3, 5)), np.zeros(3, int), verbose=0)
    with pytest.raises(ValueError, match=r"^give both x_val and y_val, or neither$"):
        fit_arrays(model, x, y, None, y, verbose=0)
    with pytest.raises(ValueError, match=r"^x_train is empty$"):
        fit_arrays(model, x[:0], y[:0], verbose=0)
    with pytest.raises(ValueError, match=r"^x has 4 features per sample, the network expects 5$"):
        check_xy(x, y, 5, 3)
    xs, ys = check_xy(x[:1], y[:1], 4, 3)  # a single sample is a valid set
    assert xs.shape == (1, 4) and ys.tolist() == [0]


def test_the_progress_bar_has_no_label_unless_given():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    x, y = _xy()
    out = Tty()
    fit_arrays(Recorder(TrainConfig(layer_sizes=(4, 3), epochs=1)), x, y, stream=out)
    assert re.search(r"(^|\r)epoch 1/1", out.getvalue()), out.getvalue()
    out = Tty()
    fit_arrays(Recorder(TrainConfig(layer_sizes=(4, 3), epochs=1)), x, y, stream=out, label="numpy")
    assert "numpy epoch 1/1" in out.getvalue()


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_verbose_0_is_silent_and_fit_loop_defaults_to_an_unlabelled_bar():
    x, y = _xy()
    out = Tty()
    fit_arrays(Recorder(TrainConfig(layer_sizes=(4, 3), epochs=2)), x, y, verbose=0, stream=out)
    assert out.getvalue() == ""
    model, out = Scripted([0.5, 0.4]), Tty()
    fit_loop(model, TrainConfig(layer_sizes=(2, 2), epochs=2), 10, model.train_epoch, model.evaluate, TRAIN, VAL,
             stream=out)
    text = out.getvalue()
    assert re.search(r"(^|\r)epoch 2/2", text) and "Epoch: 1," not in text, text  # a bar, not lines


def test_on_epoch_end_sees_the_history_so_far_and_seconds_are_durations():
    import time

    seen = []
    model = Scripted([0.5, 0.4, 0.3])
    start = time.perf_counter()
    history = fit_loop(model, TrainConfig(layer_sizes=(2, 2), epochs=3), 10, model.train_epoch, model.evaluate,
                       TRAIN, VAL, verbose=0, on_epoch_end=lambda h: seen.append(list(h["epoch"])))
    wall = time.perf_counter() - start
    assert seen == [[1], [1, 2], [1, 2, 3]]
    assert all(0 <= s <= wall for s in history["seconds"])


class _Interrupt:
    """Raises KeyboardInterrupt when called after epoch ``at`` was recorded (as a Ctrl-C landing there would)."""

    def __init__(self, at):
        self.at = at

    def __call__(self, history, *args):
        if history["epoch"][-1] == self.at:
            raise KeyboardInterrupt


@pytest.mark.parametrize("where", ["on_epoch_end", "diagnosis", "progress"])
def test_ctrl_c_after_an_epoch_was_recorded_restores_the_best_epoch_of_the_history(where, monkeypatch):
    # issue 27: val_loss is lowest at epoch 6 (0.762); the interrupt lands after epoch 6 was recorded but
    # before the loop went on. The weights restored and best_epoch must be epoch 6's, not epoch 4's.
    from ffnn import diagnosis, progress

    losses = [1.2, 1.1, 1.0, 0.9725, 0.98, 0.762, 0.7, 0.6]
    interrupt = _Interrupt(6)
    if where == "diagnosis":
        monkeypatch.setattr(diagnosis, "check", lambda history, *a, **k: interrupt(history) or [])
    if where == "progress":
        real = progress.Progress.end_epoch

        def end_epoch(self, record):
            real(self, record)
            if record["epoch"] == 6:
                raise KeyboardInterrupt

        monkeypatch.setattr(progress.Progress, "end_epoch", end_epoch)
    cfg = TrainConfig(layer_sizes=(2, 2), epochs=len(losses), early_stopping=5)
    model = Scripted(losses)
    history = fit_loop(model, cfg, 10, model.train_epoch, model.evaluate, TRAIN, VAL, verbose=0,
                       on_epoch_end=interrupt if where == "on_epoch_end" else None)
    assert history.interrupted and history["epoch"] == [1, 2, 3, 4, 5, 6]
    best = int(np.argmin(history["val_loss"])) + 1
    assert best == 6 and history.best_epoch == best and weights_epoch(model) == best


def test_ctrl_c_during_the_next_epoch_keeps_the_best_recorded_epoch():
    # the interrupt lands inside epoch 7's training: the model holds half-trained weights, epoch 6 is the best
    model, hist = run([1.2, 1.1, 1.0, 0.9725, 0.98, 0.762, 0.7], interrupt_at=7, early_stopping=5)
    assert hist["epoch"] == [1, 2, 3, 4, 5, 6] and hist.best_epoch == 6 and weights_epoch(model) == 6


# ------------------------------------------ the wiring of dynamics, diagnoses and the divergence message
#
# The loop's wiring of the per-epoch dynamics, the diagnoses and the divergence message.
#
# Written for the mutants of training.py that survived the mutation run of 2026-11-26 on the merged code
# (tools/mutation_notes.toml).


class Constant:
    """A model whose scores are given per epoch: training (loss, accuracy) = ``scores[epoch - 1]``."""

    def __init__(self, scores):
        self.scores, self.epoch = scores, 0
        self.weights = [(np.zeros((2, 10)), np.zeros(10))]

    def export_weights(self):
        return [(W.copy(), b.copy()) for W, b in self.weights]

    def import_weights(self, weights):
        self.weights = weights

    def train_epoch(self, step, schedule, on_batch):
        self.epoch += 1
        on_batch(10)
        return step + 1

    def evaluate(self, data):
        return self.scores[self.epoch - 1]


def test_each_diagnosis_is_recorded_and_printed_once():
    # the loss never moves and the accuracy stays at chance: both rules fire from epoch 2 on, every epoch
    model = Constant([(2.3, 0.1)] * 4)
    stream = io.StringIO()
    history = fit_loop(model, TrainConfig(layer_sizes=(2, 10), epochs=4), 10, model.train_epoch, model.evaluate,
                       "train", stream=stream)
    codes = [d["code"] for d in history.diagnosis]
    assert sorted(codes) == ["chance-accuracy", "flat-loss"]
    assert all(d["epoch"] == 2 for d in history.diagnosis)
    printed = [ln for ln in stream.getvalue().splitlines() if "diagnosis [" in ln]
    assert [ln[ln.index("diagnosis ["):] for ln in printed] == [diagnosis.format_line(d) for d in history.diagnosis]


def test_the_divergence_message_names_the_epoch_and_the_loss():
    model = Constant([(2.3, 0.5), (float("inf"), 0.5)])
    with pytest.raises(TrainingDiverged, match=r"^training diverged in epoch 2 \(training loss is inf\); "):
        fit_loop(model, TrainConfig(layer_sizes=(2, 10), epochs=3), 10, model.train_epoch, model.evaluate, "train",
                 verbose=0)


def test_fit_arrays_measures_the_dynamics_every_epoch_on_the_probe_with_the_configs_loss():
    rng = np.random.default_rng(0)
    x = rng.random((40, 4)).astype(np.float32)
    y = rng.integers(0, 3, 40)
    # the mean squared error: the dynamics' own default loss is cross-entropy, whose gradients differ
    net = NeuralNetwork(layer_shapes=(4, 5, 3), epochs=2, batch_size=8, learning_rate=0.5, loss="mse",
                        random_state=3)
    history = net.fit_arrays(x, y, verbose=0)
    assert history.dynamics and all(len(v) == 2 for v in history.dynamics.values())
    probe = dynamics.probe_indices(len(x), 3)
    expected = dynamics.measure(net.export_weights(), x[probe], y[probe], "sigmoid", "mse")  # after the last epoch
    assert set(history.dynamics) == set(expected)
    for key, value in expected.items():
        assert history.dynamics[key][-1] == pytest.approx(value, rel=1e-5, abs=1e-9), key
