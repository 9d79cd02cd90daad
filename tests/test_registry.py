"""One record per extension point: an activation or a schedule registered at run time is offered and
trained everywhere, with no other file touched.

The new activation is softplus, :math:`\\log(1 + e^z)`, whose derivative is the
sigmoid; its backward rule is checked against central differences of a
formula written out here, and its training against the two frameworks'
own softplus (``torch.nn.Softplus``, Keras's ``"softplus"``): the three
backends must produce the same history. The new schedule halves the rate every
five steps. Each record is unregistered in its fixture's teardown, so the
other tests see the built-in tables.
"""
import math

import numpy as np
import pytest

from ffnn import functional as fn
from ffnn import schedules
from ffnn.config import TrainConfig
from ffnn.errors import ConfigError


def softplus(z, out=None):
    """``log(1 + e^z)`` as ``logaddexp(0, z)``: no overflow for large ``z``."""
    return np.logaddexp(0, z, out=out)


def softplus_backward(da, a, out=None, tmp=None):
    """``dA * sigmoid(z)``, from the output alone: ``sigmoid(z) = 1 - e^{-a}``, as ``-expm1(-a)``."""
    tmp = np.negative(a, out=tmp)
    np.expm1(tmp, out=tmp)
    np.negative(tmp, out=tmp)
    return np.multiply(da, tmp, out=out)


class Halving:
    """``lr / 2**(step // 5)``."""

    def __init__(self, learning_rate):
        self.learning_rate = schedules.Constant(learning_rate).learning_rate  # Constant checks the rate

    def __call__(self, step):
        return self.learning_rate / 2 ** (int(step) // 5)


@pytest.fixture
def with_softplus():
    record = fn.register_activation(fn.Activation("softplus", softplus, softplus_backward, init="glorot",
                                                  torch="Softplus", keras="softplus", saturation=(0.0, math.inf)))
    yield record
    fn.unregister_activation("softplus")


@pytest.fixture
def with_halving():
    record = schedules.register_schedule(schedules.Schedule("halving", Halving, formula="lr / 2**(step // 5)"))
    yield record
    schedules.unregister_schedule("halving")


def _three_histories(config, mnist_small, n=600):
    pytest.importorskip("torch")
    pytest.importorskip("tensorflow")
    from ffnn.backends import build

    x, y, xv, yv = mnist_small
    return {name: build(name, config, device="cpu").fit_arrays(x[:n], y[:n], xv[:300], yv[:300], verbose=0)
            for name in ("numpy", "torch", "tensorflow")}


def _assert_same(histories):
    numpy = histories["numpy"]
    for name in ("torch", "tensorflow"):
        h = histories[name]
        assert h["accuracy"] == numpy["accuracy"] and h["val_accuracy"] == numpy["val_accuracy"], name
        assert h["learning_rate"] == numpy["learning_rate"], name
        for key in ("loss", "val_loss"):  # float32 arithmetic in different orders
            np.testing.assert_allclose(h[key], numpy[key], rtol=2e-6, err_msg=f"{name} {key}")


# ------------------------------------------------------------------ activations


def test_softplus_backward_is_the_derivative_by_central_differences():
    z = np.random.default_rng(0).normal(0, 3, (5, 4))
    oracle = lambda v: np.log(1 + np.exp(v))  # noqa: E731
    h, da = 1e-6, np.random.default_rng(1).normal(size=z.shape)
    numeric = da * (oracle(z + h) - oracle(z - h)) / (2 * h)
    np.testing.assert_allclose(softplus(z), oracle(z), rtol=1e-12)
    np.testing.assert_allclose(softplus_backward(da, softplus(z)), numeric, rtol=1e-6, atol=1e-9)


def test_a_registered_activation_is_a_choice_everywhere(with_softplus):
    from ffnn import dynamics, weights
    from ffnn.cli import build_parser

    config = TrainConfig(layer_sizes=(6, 4, 3), activation="softplus")
    args = build_parser().parse_args(["train", "--activation", "softplus"])
    assert args.activation == "softplus"
    # Glorot's range for the hidden layer: sqrt(6 / (6 + 4))
    assert np.abs(weights.init_weights(config.layer_sizes, 1, activation="softplus")[0][0]).max() <= math.sqrt(0.6)
    # outputs within 0.01 of the lower bound 0 are saturated; there is no upper bound
    a = np.array([[0.005, 3.0], [1000.0, 0.5]])
    assert dynamics.saturation(a, "softplus") == 0.25


def test_an_unregistered_activation_is_refused_by_name(with_softplus):
    fn.unregister_activation("softplus")
    try:
        with pytest.raises(ConfigError, match=r"activation must be one of sigmoid, tanh, relu, got 'softplus'"):
            TrainConfig(activation="softplus")
        with pytest.raises(ValueError, match="activation must be one of sigmoid, tanh, relu, got 'softplus'"):
            fn.get_activation("softplus")
    finally:
        fn.register_activation(with_softplus)  # the fixture unregisters it


def test_records_are_checked_and_names_are_not_taken_twice(with_softplus):
    with pytest.raises(ValueError, match="'softplus' is already registered"):
        fn.register_activation(with_softplus)
    with pytest.raises(ValueError, match="init must be 'glorot' or 'he', got 'lecun'"):
        fn.Activation("x", softplus, softplus_backward, init="lecun", torch="Softplus", keras="softplus",
                      saturation="dies")
    with pytest.raises(ValueError, match=r"saturation must be 'dies' or bounds \(lo, hi\) with lo < hi, got \(1, 0\)"):
        fn.Activation("x", softplus, softplus_backward, init="he", torch="Softplus", keras="softplus",
                      saturation=(1, 0))


def test_a_registered_activation_trains_identically_in_the_three_backends(with_softplus, mnist_small):
    config = TrainConfig(layer_sizes=(784, 24, 16, 10), epochs=2, batch_size=32, learning_rate=0.3,
                         activation="softplus", momentum=0.5, seed=3)
    histories = _three_histories(config, mnist_small)
    _assert_same(histories)
    assert histories["numpy"]["val_accuracy"][-1] > 0.6  # it learns (chance is 0.1)
    assert set(histories["tensorflow"].dynamics) >= {"saturation_1", "saturation_2"}  # dynamics read the record


# ------------------------------------------------------------------ schedules


def test_a_registered_schedule_is_a_choice_everywhere(with_halving):
    from ffnn.cli import build_parser

    args = build_parser().parse_args(["train", "--schedule", "halving", "--lr", "0.4"])
    assert args.schedule == "halving"
    schedule = TrainConfig(schedule="halving", learning_rate=0.4).make_schedule()
    assert [schedule(t) for t in (0, 4, 5, 10)] == [0.4, 0.4, 0.2, 0.1]
    with pytest.raises(ValueError, match="learning_rate must be a positive number, got -1"):
        TrainConfig(schedule="halving", learning_rate=-1)


def test_a_registered_schedule_trains_identically_in_the_three_backends(with_halving, mnist_small):
    # 300 samples at batch 50: 6 steps per epoch, so the rate halves inside the first epoch and again in the second
    config = TrainConfig(layer_sizes=(784, 16, 10), epochs=2, batch_size=50, learning_rate=2.0, schedule="halving",
                         momentum=0.9, seed=4)
    histories = _three_histories(config, mnist_small, n=300)
    _assert_same(histories)
    assert histories["numpy"]["learning_rate"] == [2.0, 1.0]  # steps 0 and 6


# ------------------------------------------------------------------ losses


def test_a_loss_names_the_backends_that_train_with_it():
    from ffnn.experiment import check_backends

    with pytest.raises(ConfigError, match="mse is available in the numpy backend only, not in torch"):
        check_backends(["numpy", "torch"], "mse")
    record = fn.register_loss(fn.Loss("mse-numpy", fn.mse, fn.mse_grad))
    try:
        assert record.backends == ("numpy",)
        assert TrainConfig(loss="mse-numpy").loss == "mse-numpy"
        with pytest.raises(ConfigError, match="mse-numpy is available in the numpy backend only, not in tensorflow"):
            check_backends(["tensorflow"], "mse-numpy")
    finally:
        fn.unregister_loss("mse-numpy")
    with pytest.raises(ConfigError, match="loss must be one of mse, cross-entropy, got 'mse-numpy'"):
        TrainConfig(loss="mse-numpy")
