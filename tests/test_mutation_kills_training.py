"""The loop's wiring of the per-epoch dynamics, the diagnoses and the divergence message.

Written for the mutants of training.py that survived the mutation run of 2026-11-26 on the merged code
(tools/mutation_notes.toml).
"""
import io

import numpy as np
import pytest

from ffnn import TrainConfig, diagnosis, dynamics
from ffnn.backends.numpy_net import NeuralNetwork
from ffnn.training import TrainingDiverged, fit_loop


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
