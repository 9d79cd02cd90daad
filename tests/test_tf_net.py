"""The Keras backend: the problem set's three repairs, the shared interface, saving.

Oracles are independent of Keras: a NumPy forward pass and a NumPy SGD step
written out here (sigmoid hidden layers, softmax output, mean cross-entropy,
whose gradient at the logits is (P - Y) / n).
"""
import importlib.util
import io

import numpy as np
import pytest

from ffnn import TrainConfig
from ffnn.data import one_hot
from ffnn.schedules import TimeBased
from ffnn.weights import init_weights

pytestmark = [pytest.mark.tf, pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None,
                                                 reason="needs TensorFlow: pip install 'ffnn[tf]'")]
keras = tf_net = NeuralNetworkTf = TimeBasedLearningRate = None  # set by _keras, when the first test here runs


@pytest.fixture(scope="module", autouse=True)
def _keras():
    """Import Keras for this file's tests, not while pytest collects the whole suite (TensorFlow takes seconds)."""
    global keras, tf_net, NeuralNetworkTf, TimeBasedLearningRate
    keras = pytest.importorskip("keras")
    from ffnn import NeuralNetworkTf, TimeBasedLearningRate
    from ffnn.backends import tf_net


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def numpy_forward(weights, x):
    """Activations ``[X, A_1, ..., P]`` in float64."""
    acts = [np.asarray(x, np.float64)]
    for i, (W, b) in enumerate(weights):
        z = acts[-1] @ W.astype(np.float64) + b
        if i < len(weights) - 1:
            acts.append(sigmoid(z))
        else:
            e = np.exp(z - z.max(axis=1, keepdims=True))
            acts.append(e / e.sum(axis=1, keepdims=True))
    return acts


def numpy_sgd_step(weights, x, y, lr):
    """One SGD step on the batch's mean cross-entropy, by hand."""
    acts = numpy_forward(weights, x)
    dz = (acts[-1] - one_hot(y, acts[-1].shape[1], np.float64)) / len(x)
    new = list(weights)
    for l in range(len(weights) - 1, -1, -1):
        W, b = (w.astype(np.float64) for w in weights[l])
        new[l] = (W - lr * acts[l].T @ dz, b - lr * dz.sum(axis=0))
        dz = (dz @ W.T) * acts[l] * (1 - acts[l])
    return new


# ------------------------------------------------------------ the three repairs


def test_sizes_0_is_the_input_and_images_are_flattened(mnist):
    (x, _), _ = mnist
    model = NeuralNetworkTf(sizes=[784, 128, 32, 10])
    assert model.input_shape == (None, 784)
    assert [tuple(layer.kernel.shape) for layer in model.layers] == [(784, 128), (128, 32), (32, 10)]
    images = x[:5]  # uint8 (5, 28, 28)
    p = model.predict_proba(images)
    assert p.shape == (5, 10)
    np.testing.assert_allclose(p, model.predict_proba(images.reshape(5, 784) / 255.0), rtol=1e-6)


def test_hidden_sigmoid_output_softmax_same_start_as_numpy(mnist_small):
    x = mnist_small[0][:20]
    weights = init_weights((784, 16, 8, 10), seed=5)
    model = NeuralNetworkTf([784, 16, 8, 10], random_state=5)
    for (W, b), (W0, b0) in zip(model.export_weights(), weights):  # the shared initial weights
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b, b0)
    p = model.predict_proba(x)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(p, numpy_forward(weights, x)[-1], rtol=1e-5, atol=1e-7)
    assert [layer.activation.__name__ for layer in model.layers] == ["sigmoid", "sigmoid", "softmax"]


@pytest.mark.parametrize("labels", ["one-hot", "int"])
def test_loss_is_categorical_cross_entropy(mnist_small, labels):
    x, y, xv, yv = mnist_small
    model = NeuralNetworkTf([784, 32, 10])
    to = (lambda v: one_hot(v, 10)) if labels == "one-hot" else (lambda v: v)
    model.compile_and_fit(x[:200], to(y[:200]), epochs=1, learning_rate=0.5, batch_size=50, verbose=0)
    assert model.loss == {"one-hot": "categorical_crossentropy", "int": "sparse_categorical_crossentropy"}[labels]
    keras_loss, keras_acc = model.evaluate(xv, to(yv), verbose=0)
    p = numpy_forward(model.export_weights(), xv)[-1]
    by_hand = -np.log(p[np.arange(len(yv)), yv]).mean()  # -(1/n) sum_s log p_{s, y_s}
    binary = -(one_hot(yv, 10) * np.log(p) + (1 - one_hot(yv, 10)) * np.log(1 - p)).mean()
    assert keras_loss == pytest.approx(by_hand, rel=1e-5)
    assert abs(binary - by_hand) > 0.5  # the supplied class's binary_crossentropy is another quantity
    assert keras_acc == pytest.approx(np.mean(p.argmax(1) == yv))
    assert model.loss_and_accuracy(model.prepare_data(xv, yv)) == pytest.approx((by_hand, keras_acc), rel=1e-5)


# ------------------------------------------------------------ the problem set's usage


@pytest.mark.slow
def test_problem_set_usage_learns_with_batches_of_16(mnist):
    (x, y), (xt, yt) = mnist
    model = NeuralNetworkTf(sizes=[784, 128, 32, 10])
    schedule = TimeBasedLearningRate(10)
    history = model.compile_and_fit(x[:5000] / 255.0, one_hot(y[:5000]), epochs=5, learning_rate=schedule,
                                    batch_size=16, validation_data=(xt[:1000] / 255.0, one_hot(yt[:1000])),
                                    verbose=0)
    assert len(history.history["accuracy"]) == len(history.history["val_accuracy"]) == 5
    # 0.88 when written (0.64 to 0.88 over random_state 1-3); a network stuck in saturation scores 0.1.
    assert history.history["val_accuracy"][-1] >= 0.5
    assert float(model.optimizer.learning_rate) == 1.0


def test_batch_size_1_with_time_based_rates_does_not_learn(mnist):
    # The problem set's batch_size=1: rates 10, 9, ... saturate every sigmoid unit of the
    # second hidden layer in a few single-sample steps, and the network never recovers.
    (x, y), (xt, yt) = mnist
    from ffnn.functional import forward

    model = NeuralNetworkTf(sizes=[784, 128, 32, 10])
    x_val = xt[:1000].reshape(1000, -1) / 255.0

    def saturated():  # fraction of the second hidden layer's outputs within 0.01 of 0 or 1
        a2 = forward(model.export_weights(), x_val)[1]
        return float(np.mean((a2 < 0.01) | (a2 > 0.99)))

    before = saturated()
    history = model.compile_and_fit(x[:300] / 255.0, one_hot(y[:300]), epochs=1,
                                    learning_rate=TimeBasedLearningRate(10), batch_size=1,
                                    validation_data=(xt[:1000] / 255.0, one_hot(yt[:1000])), verbose=0)
    assert history.history["val_accuracy"][-1] < 0.25
    # The positive control: it did train, and failed for the reason given. A backend that never
    # updated its weights would also score ~0.1, but its units would stay unsaturated (0.0 at the start).
    assert before < 0.05 and saturated() > 0.95


# ------------------------------------------------------------ the shared interface


def test_train_epoch_is_sgd_with_the_shared_schedule(mnist_small):
    x, y = mnist_small[0][:40], mnist_small[1][:40]
    model = tf_net.build(TrainConfig(layer_sizes=(784, 16, 8, 10), seed=3))
    order = np.random.default_rng(0).permutation(40)
    sizes = []
    step = model.train_epoch(model.prepare_data(x, y), order, 16, TimeBased(3), 1, sizes.append)
    assert step == 4 and int(model.optimizer.iterations.numpy()) == 4
    assert sizes == [16, 16, 8]
    expected = init_weights((784, 16, 8, 10), seed=3)
    for start, lr in zip((0, 16, 32), (2.0, 1.0, 1.0)):  # steps 1, 2, 3 of max(3 - t, 1)
        idx = order[start:start + 16]
        expected = numpy_sgd_step(expected, x[idx], y[idx], lr)
    for (W, b), (We, be) in zip(model.export_weights(), expected):
        np.testing.assert_allclose(W, We, atol=2e-5)
        np.testing.assert_allclose(b, be, atol=2e-5)


def test_fit_arrays_through_the_shared_loop(mnist):
    (x, y), (xt, yt) = mnist
    config = TrainConfig(layer_sizes=(784, 32, 10), epochs=2, batch_size=50, learning_rate=3,
                         schedule="time-based", early_stopping=2)
    model = tf_net.build(config, device="cpu")
    out = io.StringIO()
    history = model.fit_arrays(x[:1000], y[:1000], xt[:500], one_hot(yt[:500]), verbose=2, stream=out)
    assert model.history_ is history
    assert history["epoch"] == [1, 2]
    assert history["learning_rate"] == [3.0, 1.0]  # the rate of each epoch's first step: 0 and 20
    assert int(model.optimizer.iterations.numpy()) == 40
    assert history["val_accuracy"][-1] > 0.6
    assert out.getvalue().startswith("Epoch: 1, Training Time: ")
    assert model.compute_accuracy(xt[:500], yt[:500]) == pytest.approx(history["val_accuracy"][history.best_epoch - 1])


def test_float64(mnist_small):
    model = tf_net.build(TrainConfig(layer_sizes=(784, 8, 10), dtype="float64", epochs=1, batch_size=100))
    model.fit_arrays(mnist_small[0], mnist_small[1], verbose=0)
    assert model.predict_proba(mnist_small[0][:3]).dtype == np.float64
    assert all(W.dtype == np.float64 for W, _ in model.export_weights())


@pytest.mark.parametrize("schedule, rate", [("constant", 0.5), ("time-based", 3)])
def test_momentum_is_pytorchs_convention_also_when_the_rate_changes(mnist_small, schedule, rate):
    """``MomentumSGD`` against v = mu v + g, w -= lr v written out here, at rates 3, 2, 1, 1, 1 or 0.5."""
    x, y = mnist_small[0][:50].astype(np.float64), mnist_small[1][:50]
    model = tf_net.build(TrainConfig(layer_sizes=(784, 12, 10), seed=5, dtype="float64", momentum=0.9,
                                     learning_rate=rate, schedule=schedule))
    step = model.train_epoch(model.prepare_data(x, y), np.arange(50), 10, model.train_config.make_schedule(), 0,
                             lambda n: None)
    assert step == 5
    weights = init_weights((784, 12, 10), seed=5, dtype="float64")
    velocities = [(np.zeros_like(W), np.zeros_like(b)) for W, b in weights]
    for t in range(5):
        lr = model.train_config.make_schedule()(t)
        # numpy_sgd_step at rate 1 gives w - g, so g = w - step(w)
        grads = [(W - W1, b - b1) for (W, b), (W1, b1)
                 in zip(weights, numpy_sgd_step(weights, x[10 * t:10 * t + 10], y[10 * t:10 * t + 10], 1.0))]
        velocities = [(0.9 * vW + gW, 0.9 * vb + gb) for (vW, vb), (gW, gb) in zip(velocities, grads)]
        weights = [(W - lr * vW, b - lr * vb) for (W, b), (vW, vb) in zip(weights, velocities)]
    # Keras clips probabilities to [1e-7, 1 - 1e-7] inside its cross-entropy, hence not 1e-12.
    for (W, b), (We, be) in zip(model.export_weights(), weights):
        np.testing.assert_allclose(W, We, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(b, be, rtol=1e-5, atol=1e-7)


@pytest.mark.torch
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_three_backends_agree_with_activation_and_momentum(mnist_small, activation):
    pytest.importorskip("torch")
    from ffnn.backends import build

    x, y, xv, yv = mnist_small
    config = TrainConfig(layer_sizes=(784, 32, 16, 10), epochs=2, batch_size=32, learning_rate=0.05,
                         activation=activation, momentum=0.9, seed=2)
    histories = {name: build(name, config, device="cpu").fit_arrays(x[:600], y[:600], xv[:300], yv[:300], verbose=0)
                 for name in ("numpy", "torch", "tensorflow")}
    for name in ("torch", "tensorflow"):
        np.testing.assert_allclose(histories[name]["val_accuracy"], histories["numpy"]["val_accuracy"], atol=0.002)
        np.testing.assert_allclose(histories[name]["loss"], histories["numpy"]["loss"], rtol=1e-3)
    assert histories["numpy"]["val_accuracy"][-1] > 0.6  # chance is 0.1


def test_activation_and_he_initialisation():
    model = NeuralNetworkTf([784, 16, 10], random_state=4, activation="relu")
    assert [layer.activation.__name__ for layer in model.layers] == ["relu", "softmax"]
    for (W, _), (W0, _) in zip(model.export_weights(), init_weights((784, 16, 10), 4, activation="relu")):
        np.testing.assert_array_equal(W, W0)
    assert np.abs(model.export_weights()[0][0]).max() > np.sqrt(6 / (784 + 16))  # He's range is wider


# ------------------------------------------------------------ the notebook's images


def test_keras_methods_take_28_by_28_images(mnist):
    (x, y), _ = mnist
    images, rows = x[:64], x[:64].reshape(64, 784).astype(np.float32) / 255  # uint8 (n, 28, 28) as keras gives them
    model = NeuralNetworkTf([784, 16, 10], random_state=1)
    model.compile(optimizer=tf_net.MomentumSGD(0.1), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    expected = model.predict(rows, verbose=0)
    np.testing.assert_allclose(model.predict(images, verbose=0), expected, rtol=1e-6)
    np.testing.assert_allclose(model.predict(images.astype(np.float32) / 255, verbose=0), expected, rtol=1e-6)
    np.testing.assert_allclose(model(images[:5]).numpy(), expected[:5], rtol=1e-6)
    np.testing.assert_allclose(model(images[:5, None]).numpy(), expected[:5], rtol=1e-6)  # (n, 1, 28, 28)
    np.testing.assert_allclose(model.evaluate(images, y[:64], verbose=0), model.evaluate(rows, y[:64], verbose=0),
                               rtol=1e-6)
    with pytest.raises(Exception, match="784|reshape"):
        model.predict(np.zeros((2, 20, 20), np.float32), verbose=0)


# ------------------------------------------------------------ saving


def test_step_rates_hold_any_schedule_and_save_as_runs():
    rates = tf_net.StepRates()
    rates.fill(TimeBased(4), 2, 5)  # steps 2..6 at max(4 - step, 1): 2, 1, 1, 1, 1
    assert [float(rates(t)) for t in range(2, 7)] == [2.0, 1.0, 1.0, 1.0, 1.0]
    assert float(rates(0)) == 2.0 and float(rates(100)) == 1.0  # outside the window: its nearest end
    config = rates.get_config()
    assert config == {"runs": [[2.0, 1], [1.0, 4]], "first_step": 2, "dtype": "float32"}
    again = tf_net.StepRates.from_config(config)
    assert [float(again(t)) for t in range(2, 7)] == [2.0, 1.0, 1.0, 1.0, 1.0]


def test_compile_and_fit_is_seeded_and_leaves_the_global_generators_alone(mnist_small):
    import random

    x, y, _, _ = mnist_small
    np.random.seed(5)
    random.seed(5)
    expected = (np.random.random(), random.random())
    np.random.seed(5)
    random.seed(5)
    weights = []
    for _ in range(2):
        model = NeuralNetworkTf([784, 8, 10], random_state=3)
        model.compile_and_fit(x[:64], y[:64], epochs=2, learning_rate=0.5, batch_size=16, verbose=0)
        weights.append(model.export_weights())
    assert (np.random.random(), random.random()) == expected  # keras.utils.set_random_seed would reseed both
    for (W, b), (W2, b2) in zip(*weights):  # the same shuffled order in both runs
        np.testing.assert_array_equal(W, W2)
        np.testing.assert_array_equal(b, b2)


def test_save_load_keeps_weights_and_schedule(tmp_path, mnist_small):
    x, y, xv, _ = mnist_small
    model = NeuralNetworkTf(sizes=[784, 16, 10], random_state=2, momentum=0.5)
    model.compile_and_fit(x[:100], one_hot(y[:100]), epochs=1, learning_rate=TimeBasedLearningRate(10),
                          batch_size=20, verbose=0)
    path = model.save_model(tmp_path)
    assert path == tmp_path / "model.keras"
    for loaded in (tf_net.load(tmp_path), keras.models.load_model(path)):  # safe_mode is on in both
        assert isinstance(loaded, NeuralNetworkTf)
        assert loaded.sizes == (784, 16, 10) and loaded.train_config == model.train_config
        lr = loaded.optimizer.get_config()["learning_rate"]
        assert lr["class_name"] == "TimeBasedLearningRate" and lr["config"] == {"initial_learning_rate": 10}
        assert int(loaded.optimizer.iterations.numpy()) == 5
        assert float(loaded.optimizer.learning_rate) == 5.0  # max(10 - 5, 1)
        assert isinstance(loaded.optimizer, tf_net.MomentumSGD) and loaded.optimizer.momentum == 0.5
        np.testing.assert_array_equal(loaded.predict_proba(xv[:50]), model.predict_proba(xv[:50]))


def test_import_export_round_trip():
    model = NeuralNetworkTf([784, 8, 10])
    weights = init_weights((784, 8, 10), seed=9)
    model.import_weights(weights)
    for (W, b), (W0, b0) in zip(model.export_weights(), weights):
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b, b0)
    with pytest.raises(ValueError, match=r"expected \(784, 8, 10\)"):
        model.import_weights(init_weights((784, 9, 10)))


# ------------------------------------------------------------ bad input


@pytest.mark.parametrize("call, message", [
    (lambda: NeuralNetworkTf([784]), "at least an input and an output"),
    (lambda: NeuralNetworkTf([784, 0, 10]), "sizes must be positive integers, got 0"),
    (lambda: NeuralNetworkTf([784, 10], random_state=-1), "random_state must be a non-negative integer, got -1"),
    (lambda: NeuralNetworkTf([784, 10], activation="elu"), "activation must be one of sigmoid, tanh, relu"),
    (lambda: NeuralNetworkTf([784, 10], momentum=1.0), "momentum must be a number in \\[0, 1\\)"),
    (lambda: NeuralNetworkTf([784, 10], config=TrainConfig()), "give either config or sizes, not both"),
    (lambda: NeuralNetworkTf(), "give sizes"),
    (lambda: tf_net.build(TrainConfig(loss="mse")), "cannot train with loss 'mse'; only numpy can"),
    (lambda: tf_net.build(TrainConfig(), device="tpu"), "got 'tpu'"),
    (lambda: NeuralNetworkTf([784, 10]).predict_proba(np.zeros((2, 100))), "100 features"),
    (lambda: NeuralNetworkTf([784, 10]).save_model("model.h5"), "must end in .keras"),
    (lambda: tf_net.load("no/such/model.keras"), "file not found"),
    (lambda: NeuralNetworkTf([784, 10]).compile_and_fit(np.zeros((2, 784)), [0, 1], validation_data=[1]),
     "an \\(x_val, y_val\\) pair"),
    (lambda: NeuralNetworkTf([784, 10]).compile_and_fit(np.zeros((2, 784)), [0, 12]), "go up to 12"),
])
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_load_rejects_other_files(tmp_path):
    (tmp_path / "text.keras").write_text("not a zip")
    with pytest.raises(ValueError, match="cannot read the model"):
        tf_net.load(tmp_path / "text.keras")
    keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save(tmp_path / "plain.keras")
    with pytest.raises(ValueError, match="a Sequential, not an ffnn NeuralNetworkTf"):
        tf_net.load(tmp_path / "plain.keras")


def test_predict_proba_takes_one_image_or_a_batch(mnist):
    (x, _), _ = mnist
    model = NeuralNetworkTf([784, 32, 10], random_state=2)
    batch = model.predict_proba(x[:3])
    assert batch.shape == (3, 10)
    for one in (x[0], x[0].reshape(784)):  # (28, 28) and (784,): one image, one row of probabilities
        np.testing.assert_allclose(model.predict_proba(one), batch[0], rtol=1e-6)
