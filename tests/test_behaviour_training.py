"""Early stopping and Ctrl-C in the shared loop, driven by a scripted model whose losses are given in advance.

The scripted model's weights after epoch ``e`` are ``e`` everywhere, so which epoch's weights it ends
with can be read off directly.
"""
import numpy as np
import pytest

from ffnn import TrainConfig
from ffnn.training import EarlyStopping, fit_loop


class Scripted:
    """Reports ``val_losses[e - 1]`` after epoch ``e``; raises KeyboardInterrupt in epoch ``interrupt_at``."""

    def __init__(self, val_losses, interrupt_at=None):
        self.val_losses = val_losses
        self.interrupt_at = interrupt_at
        self.epoch = 0
        self.weights = [(np.zeros((2, 2)), np.zeros(2))]

    def export_weights(self):
        return [(W.copy(), b.copy()) for W, b in self.weights]

    def import_weights(self, weights):
        self.weights = [(np.array(W), np.array(b)) for W, b in weights]

    def train_epoch(self, epoch, step, schedule, on_batch):
        if epoch == self.interrupt_at:
            raise KeyboardInterrupt
        self.epoch = epoch
        self.weights = [(np.full((2, 2), float(epoch)), np.full(2, float(epoch)))]
        return step + 1

    def evaluate(self, which):
        loss = self.val_losses[self.epoch - 1]
        return (loss, 1.0 - loss) if which == "val" else (1.0, 0.5)


def run(val_losses, interrupt_at=None, **config):
    cfg = TrainConfig(layer_sizes=(2, 2), epochs=len(val_losses), **config)
    model = Scripted(val_losses, interrupt_at)
    history = fit_loop(model, cfg, 10, model.train_epoch, model.evaluate, True, verbose=0)
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
