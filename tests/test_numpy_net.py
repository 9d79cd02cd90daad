"""The NumPy network's behaviour: learning, its interface, bad input, stability, files."""
import warnings

import numpy as np
import pytest

import ffnn
from ffnn import functional as F
from ffnn.backends import numpy_net
from ffnn.backends.numpy_net import NeuralNetwork
from ffnn.config import TrainConfig
from ffnn.data import one_hot
from ffnn.training import TrainingDiverged
from ffnn.weights import init_weights


def small_net(**kwargs):
    kwargs = {"epochs": 2, "learning_rate": 0.5, "batch_size": 32, "loss": "cross-entropy", **kwargs}
    return NeuralNetwork((784, 32, 10), **kwargs)


# ------------------------------------------------------------------ learning


@pytest.mark.slow
# MSE learns more slowly at first: the softmax Jacobian shrinks its gradients.
@pytest.mark.parametrize("loss, batch_size, rate, floor", [("cross-entropy", 16, 0.5, 0.75), ("mse", 8, 8.0, 0.6)])
def test_learns_mnist_subset(mnist_small, loss, batch_size, rate, floor):
    x, y, xt, yt = mnist_small
    model = NeuralNetwork((784, 128, 64, 10), epochs=4, learning_rate=rate, batch_size=batch_size, loss=loss)
    history = model.fit(x, y, xt, yt, verbose=0)
    assert len(history["accuracy"]) == len(history["val_accuracy"]) == 4
    assert history["val_accuracy"][-1] > floor  # chance is 0.10
    assert history["loss"][-1] < history["loss"][0]
    assert model.compute_accuracy(xt, yt) == pytest.approx(history["val_accuracy"][-1])


def test_float32_throughout(mnist_small):
    x, y, xt, _ = mnist_small
    model = small_net(epochs=1)
    model.fit(x[:200], y[:200], verbose=0)
    assert all(W.dtype == np.float32 and b.dtype == np.float32 for W, b in model.weights_)
    assert model.predict_proba(xt[:5]).dtype == np.float32


def test_same_seed_same_weights_and_one_hot_equals_int_labels(mnist_small):
    x, y, _, _ = mnist_small
    a, b, c = small_net(), small_net(), small_net(random_state=2)
    a.fit(x[:300], y[:300], verbose=0)
    b.fit(x[:300], one_hot(y[:300]), verbose=0)
    c.fit(x[:300], y[:300], verbose=0)
    for (Wa, ba), (Wb, bb) in zip(a.weights_, b.weights_):
        np.testing.assert_array_equal(Wa, Wb)
        np.testing.assert_array_equal(ba, bb)
    assert not np.array_equal(a.weights_[0][0], c.weights_[0][0])


def test_predict_shapes(mnist):
    (x, _), _ = mnist
    model = small_net()
    label = model.predict(x[0])  # one (28, 28) image
    assert isinstance(label, int) and 0 <= label < 10
    assert model.predict(x[0].reshape(-1)) == label
    batch = model.predict(x[:4])
    assert batch.shape == (4,) and batch[0] == label
    proba = model.predict_proba(x[:4])
    assert proba.shape == (4, 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)


def test_build_starts_from_the_shared_initial_weights():
    config = TrainConfig(layer_sizes=(20, 7, 3), seed=5, loss="mse")
    model = numpy_net.build(config)
    assert model.train_config == config
    for (W, b), (W0, b0) in zip(model.export_weights(), init_weights((20, 7, 3), 5)):
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b, b0)
    relu = numpy_net.build(config.replace(activation="relu", momentum=0.9))
    assert relu.train_config.activation == "relu" and relu.optimizer.momentum == 0.9
    for (W, _), (W0, _) in zip(relu.export_weights(), init_weights((20, 7, 3), 5, activation="relu")):
        np.testing.assert_array_equal(W, W0)
    # The problem set's names and the config give the same network.
    same = NeuralNetwork((20, 7, 3), random_state=5, activation="relu", momentum=0.9, epochs=10, batch_size=32,
                         learning_rate=1.0, loss="mse")
    assert same.train_config == relu.train_config


@pytest.mark.parametrize("activation, floor", [("tanh", 0.75), ("relu", 0.75)])
def test_learns_with_other_activations_and_momentum(mnist_small, activation, floor):
    x, y, xt, yt = mnist_small
    model = NeuralNetwork((784, 32, 10), epochs=3, learning_rate=0.05, batch_size=16, loss="cross-entropy",
                          activation=activation, momentum=0.9)
    model.fit(x, y, verbose=0)
    assert model.compute_accuracy(xt, yt) > floor


# ----------------------------------------------------------------- bad input


@pytest.mark.parametrize("kwargs, words", [
    ({"layer_shapes": (784, 0, 10)}, ["layer_shapes", "0"]),
    ({"layer_shapes": (784,)}, ["layer_shapes", "(784,)"]),
    ({"epochs": 0}, ["epochs", "0"]),
    ({"learning_rate": -0.1}, ["learning_rate", "-0.1"]),
    ({"learning_rate": float("nan")}, ["learning_rate", "nan"]),
    ({"batch_size": 2.5}, ["batch_size", "2.5"]),
    ({"random_state": -3}, ["random_state", "-3"]),
    ({"loss": "hinge"}, ["loss", "hinge"]),
    ({"schedule": "time-based", "learning_rate": 0.5}, ["0.5"]),
    ({"dtype": "float16"}, ["dtype", "float16"]),
    ({"activation": "gelu"}, ["activation", "gelu"]),
    ({"momentum": 1.0}, ["momentum", "1.0"]),
    ({"config": TrainConfig(), "layer_shapes": (784, 5, 10)}, ["config", "layer_shapes"]),
])
def test_invalid_parameters_name_the_value(kwargs, words):
    kwargs = {"layer_shapes": (784, 16, 10), **kwargs}
    with pytest.raises(ValueError) as info:
        NeuralNetwork(**kwargs)
    for word in words:
        assert word in str(info.value)


def test_bad_data_and_device_are_named(mnist_small):
    x, y, _, _ = mnist_small
    model = small_net()
    with pytest.raises(ValueError, match="783"):
        model.fit(x[:10, :783], y[:10], verbose=0)
    with pytest.raises(ValueError, match="10 samples .* 9"):
        model.fit(x[:10], y[:9], verbose=0)
    with pytest.raises(ValueError, match="783"):
        model.predict(x[:3, :783])
    with pytest.raises(ValueError, match="'cuda'"):
        numpy_net.build(TrainConfig(), device="cuda")


# ----------------------------------------------------------------- stability


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_raise_no_warning(dtype):
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]], dtype=dtype)
    y = np.eye(3, dtype=dtype)[[1, 0]]
    # Underflow to 0 (exp(-2000)) is the right answer, not an error; overflow and NaN are.
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        np.testing.assert_array_equal(F.sigmoid(z), [[1, 0, 0.5], [0, 0, 0]])
        p = F.softmax(z)
        np.testing.assert_array_equal(p[0], [1, 0, 0])
        np.testing.assert_allclose(p[1], [1 / 3] * 3)
        np.testing.assert_array_equal(F.tanh(z)[0], [1, -1, 0])
        np.testing.assert_array_equal(F.relu(z)[0], [1000, 0, 0])
        # Row 0 puts p = 0 on its label: -log clips to -log(PROB_FLOOR), large but finite, in either dtype.
        tiny = np.finfo(np.float32).tiny
        assert F.cross_entropy(p, y) == pytest.approx((-np.log(tiny) + np.log(3)) / 2, rel=1e-6)
        assert F.mse(p, y) == pytest.approx((2 + 2 * (1 / 3) ** 2 + (2 / 3) ** 2) / 6)
        for grad in (F.mse_grad, F.cross_entropy_grad):
            assert np.isfinite(grad(p, y)).all()

        # The whole network, with weights that drive hidden and output units to +-1000.
        model = NeuralNetwork((2, 2, 3), dtype=np.dtype(dtype).name)
        model.import_weights([(np.array([[1000.0, -1000.0], [0.0, 0.0]]), np.zeros(2)),
                              (np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0]]), np.zeros(3))])
        x = np.array([[1.0, 0.0], [-1.0, 0.0]])
        np.testing.assert_array_equal(model.predict_proba(x), [[1, 0, 0], [0, 1, 0]])
        for loss in ("mse", "cross-entropy"):
            model.train_config = model.train_config.replace(loss=loss)
            value, grads = model.loss_and_gradients(x, [2, 2])
            assert np.isfinite(value) and all(np.isfinite(g).all() for pair in grads for g in pair)


def test_divergence_raises_and_suggests_a_smaller_rate(mnist_small):
    x, y, _, _ = mnist_small
    # lr * dW overflows float32 (max 3.4e38): the weights become infinite.
    model = small_net(learning_rate=1e40, batch_size=10)
    with pytest.raises(TrainingDiverged, match="smaller than 1e\\+40"):
        model.fit(x[:200], y[:200], verbose=0)


# ------------------------------------------------------ early stopping, files


def test_early_stopping_restores_the_best_weights(mnist_small):
    # Validation labels shifted by one: the better the network learns the
    # digits, the worse its validation loss, so the best epoch is an early one.
    x, y, xt, yt = mnist_small
    model = small_net(epochs=10, early_stopping=2, monitor="val_loss")
    snapshots = []
    history = model.fit_arrays(x[:500], y[:500], xt[:200], (yt[:200] + 1) % 10, verbose=0,
                               on_epoch_end=lambda h: snapshots.append(model.export_weights()))
    val_loss = history["val_loss"]
    assert history.best_epoch == int(np.argmin(val_loss)) + 1
    assert history.stopped_epoch == history.best_epoch + 2 == len(snapshots)
    for (W, b), (sW, sb) in zip(model.weights_, snapshots[history.best_epoch - 1]):
        np.testing.assert_array_equal(W, sW)
        np.testing.assert_array_equal(b, sb)
    assert not np.array_equal(model.weights_[0][0], snapshots[-1][0][0])


def test_save_load_round_trip(tmp_path, mnist_small):
    x, y, xt, _ = mnist_small
    model = small_net(epochs=1, loss="mse", learning_rate=4.0)
    model.fit(x[:200], y[:200], verbose=0)
    path = model.save_model(tmp_path / "run")  # a directory gets MODEL_FILE
    assert path == tmp_path / "run" / numpy_net.MODEL_FILE
    with np.load(path, allow_pickle=False) as data:  # no pickled objects inside
        assert {"W0", "b0", "W1", "b1", "meta"} <= set(data.files)
    for loaded in (numpy_net.load(path), ffnn.backends.load("numpy", tmp_path / "run")):
        assert loaded.train_config == model.train_config
        for (W, b), (lW, lb) in zip(model.weights_, loaded.weights_):
            np.testing.assert_array_equal(W, lW)
            np.testing.assert_array_equal(b, lb)
        np.testing.assert_array_equal(loaded.predict_proba(xt[:20]), model.predict_proba(xt[:20]))


def test_load_rejects_other_files(tmp_path):
    bad = tmp_path / "weights.npz"
    np.savez(bad, W0=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="weights.npz"):
        numpy_net.load(bad)
    with pytest.raises(ValueError, match="missing.npz"):
        numpy_net.load(tmp_path / "missing.npz")


def test_import_weights_checks_the_layout():
    model = NeuralNetwork((4, 3, 2))
    with pytest.raises(ValueError, match=r"\(4, 5, 2\)"):
        model.import_weights(init_weights((4, 5, 2)))
