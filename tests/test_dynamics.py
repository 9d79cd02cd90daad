"""Probe-set dynamics: hand-worked statistics, gradients against two oracles, the history's new columns,
and the same numbers from all three backends."""
import csv
import io

import numpy as np
import pytest

from ffnn import NeuralNetwork, TrainConfig
from ffnn import dynamics as D
from ffnn.history import FIELDS, History
from ffnn.theory.numeric import central_difference
from ffnn.weights import init_weights


def _tiny(seed=0, sizes=(4, 3, 3, 2)):
    rng = np.random.default_rng(seed)
    weights = [(rng.normal(0, 1, (a, b)), rng.normal(0, 0.5, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    x = rng.uniform(0, 1, (5, sizes[0]))
    labels = rng.integers(0, sizes[-1], 5)
    return weights, x, labels


# ------------------------------------------------------------------ hand-worked


def test_saturation_sigmoid_and_tanh_count_outputs_within_the_margin():
    # 0.005 and 0.995 are within 0.01 of a bound; 0.011, 0.5 and 0.989 are not: 2 of 6.
    a = np.array([[0.005, 0.5, 0.011], [0.995, 0.989, 0.5]])
    assert D.saturation(a, "sigmoid") == pytest.approx(2 / 6)
    # tanh's bounds are -1 and 1: -0.995 and 0.999 saturate, 0.005 (near 0) does not.
    assert D.saturation(np.array([[-0.995, 0.005], [0.999, 0.5]]), "tanh") == pytest.approx(2 / 4)


def test_saturation_relu_counts_units_dead_on_every_image():
    # Unit 0 is 0 everywhere (dead); unit 1 fires once; unit 2 always: 1 of 3 units dead.
    a = np.array([[0.0, 0.0, 2.0], [0.0, 0.3, 1.0], [0.0, 0.0, 0.5]])
    assert D.saturation(a, "relu") == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="'softplus'"):
        D.saturation(a, "softplus")


def test_measure_weight_norms_and_predicted_classes_by_hand():
    # One hidden unit; W1 = [[3], [4]] has Frobenius norm 5. The output bias makes class 2 win for
    # every image, so predicted_2 = 1 and the other shares are 0.
    weights = [(np.array([[3.0], [4.0]]), np.zeros(1)),
               (np.array([[0.0, 0.0, 0.0]]), np.array([0.0, 0.0, 5.0]))]
    x = np.array([[0.1, 0.2], [0.9, 0.0], [0.5, 0.5], [0.0, 0.0]])
    stats = D.measure(weights, x, np.array([0, 1, 2, 2]))
    assert stats["weight_norm_1"] == pytest.approx(5.0)
    assert stats["weight_norm_2"] == 0.0  # the bias (0, 0, 5) is not part of the norm: ||W2|| = 0
    assert [stats[f"predicted_{c}"] for c in range(3)] == [0.0, 0.0, 1.0]
    assert list(stats) == list(D.columns((2, 1, 3)))


# ------------------------------------------------------------------ gradients


@pytest.mark.parametrize("loss", ["cross-entropy", "mse"])
def test_gradients_match_the_numpy_backend(loss, mnist_small):
    """Oracle 1: the NumPy backend's own backpropagation (sigmoid), in float64."""
    x, y = mnist_small[0][:200].astype(np.float64), mnist_small[1][:200]
    net = NeuralNetwork((784, 16, 8, 10), loss=loss, dtype="float64", random_state=3)
    _, expected = net.loss_and_gradients(x, y)
    onehot = np.eye(10)[y]
    got = D.gradients(net.export_weights(), x, onehot, "sigmoid", loss)
    for (dW, db), (eW, eb) in zip(got, expected):
        np.testing.assert_allclose(dW, eW, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(db, eb, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("loss", ["cross-entropy", "mse"])
def test_gradients_match_central_differences(activation, loss):
    """Oracle 2: central differences of the loss, for every weight of a 4-3-3-2 network."""
    from ffnn.functional import forward, get_loss

    weights, x, labels = _tiny(seed=1)
    y = np.eye(2)[labels]
    grads = D.gradients(weights, x, y, activation, loss)
    for l, (W, b) in enumerate(weights):
        def loss_at(W_new, l=l):
            trial = [(W_new if i == l else Wi, bi) for i, (Wi, bi) in enumerate(weights)]
            return get_loss(loss).loss(forward(trial, x, activation)[-1], y)
        np.testing.assert_allclose(grads[l][0], central_difference(loss_at, W), rtol=1e-5, atol=1e-9)


def test_measure_reports_the_gradient_norms():
    weights, x, labels = _tiny(seed=2)
    grads = D.gradients(weights, x, np.eye(2)[labels], "tanh", "cross-entropy")
    stats = D.measure(weights, x, labels, "tanh", "cross-entropy")
    for l, (dW, _) in enumerate(grads, start=1):
        assert stats[f"grad_norm_{l}"] == pytest.approx(np.sqrt((dW ** 2).sum()))


# ------------------------------------------------------------------ the probe set and the history


def test_probe_indices_are_seeded_sorted_and_distinct():
    a, b = D.probe_indices(5000, seed=3), D.probe_indices(5000, seed=3)
    assert np.array_equal(a, b) and len(a) == D.PROBE_SIZE == len(np.unique(a))
    assert np.all(np.diff(a) > 0) and not np.array_equal(a, D.probe_indices(5000, seed=4))
    assert np.array_equal(D.probe_indices(20, seed=3), np.arange(20))  # fewer images than the probe: all
    with pytest.raises(ValueError, match="n=0"):
        D.probe_indices(0, seed=1)


def test_history_keeps_dynamics_in_json_and_csv():
    h = History()
    for epoch in (1, 2):
        h.append(epoch=epoch, loss=1.0 / epoch, accuracy=0.5, val_loss=float("nan"), val_accuracy=float("nan"),
                 learning_rate=1.0, seconds=0.1)
        h.append_dynamics({"grad_norm_1": 0.1 * epoch, "saturation_1": float("nan")})
    h.diagnosis.append({"code": "flat-loss", "epoch": 2, "message": "m"})
    back = History.from_json(h.to_json())
    assert back.dynamics["grad_norm_1"] == [0.1, 0.2] and np.isnan(back.dynamics["saturation_1"]).all()
    assert back.diagnosis == h.diagnosis
    rows = list(csv.DictReader(io.StringIO(h.to_csv())))
    assert list(rows[0]) == [*FIELDS, "grad_norm_1", "saturation_1"]
    assert [float(r["grad_norm_1"]) for r in rows] == [0.1, 0.2] and rows[0]["saturation_1"] == ""
    with pytest.raises(ValueError, match="columns changed"):
        h.append_dynamics({"grad_norm_2": 1.0})
    old = History.from_dict({"history": h.to_dict()["history"]})  # a history.json from before dynamics
    assert old.dynamics == {} and old.diagnosis == []


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_training_records_the_dynamics_of_each_epochs_weights(activation, mnist_small):
    x, y = mnist_small[0][:600], mnist_small[1][:600]
    weights_after = []
    net = NeuralNetwork((784, 32, 16, 10), epochs=2, learning_rate=0.5, batch_size=32, loss="cross-entropy",
                        activation=activation)
    history = net.fit_arrays(x, y, verbose=0, on_epoch_end=lambda h: weights_after.append(net.export_weights()))
    assert tuple(history.dynamics) == D.columns((784, 32, 16, 10))
    assert all(len(v) == 2 for v in history.dynamics.values())
    idx = D.probe_indices(len(x), seed=1)
    for epoch, weights in enumerate(weights_after):
        expected = D.measure(weights, x[idx], y[idx], activation, "cross-entropy")
        assert {k: v[epoch] for k, v in history.dynamics.items()} == pytest.approx(expected)
    assert sum(history.dynamics[f"predicted_{c}"][-1] for c in range(10)) == pytest.approx(1.0)


# ------------------------------------------------------------------ the same numbers from every backend


@pytest.mark.torch
@pytest.mark.tf
def test_backends_record_the_same_dynamics(mnist_small):
    pytest.importorskip("torch")
    pytest.importorskip("tensorflow")
    from ffnn.backends import build

    x, y = mnist_small[0][:400], mnist_small[1][:400]
    config = TrainConfig(layer_sizes=(784, 24, 12, 10), epochs=2, batch_size=32, learning_rate=0.5)
    dyn = {name: build(name, config, "cpu").fit_arrays(x, y, verbose=0).dynamics
           for name in ("numpy", "torch", "tensorflow")}
    for name in ("torch", "tensorflow"):
        assert dyn[name].keys() == dyn["numpy"].keys()
        for key, values in dyn["numpy"].items():
            np.testing.assert_allclose(dyn[name][key], values, rtol=1e-3, atol=1e-6, err_msg=f"{name} {key}")
