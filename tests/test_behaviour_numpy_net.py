"""The NumPy backend's promises that the learning and gradient tests do not pin down: the problem set's
defaults, dtypes, steps per epoch, progress options, and the messages of a refused model file.
Written for mutants that survived ``make mutation``."""
import io
import math
import re
import warnings

import numpy as np
import pytest

from ffnn import NeuralNetwork, TrainConfig
from ffnn.backends import numpy_net
from ffnn.training import TrainingDiverged
from ffnn.weights import init_weights, save_weights


def _data(n=30, d=6, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, d)).astype(np.float32), np.arange(n) % k


def test_the_problem_sets_defaults():
    c = NeuralNetwork().train_config
    assert (c.layer_sizes, c.epochs, c.learning_rate, c.batch_size, c.loss) == ((784, 128, 64, 10), 50, 0.01, 1, "mse")
    assert (c.min_delta, c.schedule, c.early_stopping, c.shuffle, c.dtype) == (0.0, "constant", None, True, "float32")
    assert (c.activation, c.momentum) == ("sigmoid", 0.0)
    assert repr(NeuralNetwork()) == ("NeuralNetwork(layer_shapes=(784, 128, 64, 10), epochs=50, learning_rate=0.01, "
                                     "batch_size=1, loss='mse', activation='sigmoid', momentum=0.0)")


def test_an_epoch_takes_one_step_per_batch_and_reports_every_sample():
    x, y = _data(n=30)
    model = numpy_net.build(TrainConfig(layer_sizes=(6, 4, 3), batch_size=8))
    data = model.prepare_data(x, y)
    seen = []
    step = model.train_epoch(data, np.arange(30), 8, model.train_config.make_schedule(), 5, seen.append)
    assert step == 5 + math.ceil(30 / 8) and seen == [8, 8, 8, 6]


def test_weights_keep_the_models_dtype_whatever_is_imported():
    model = numpy_net.build(TrainConfig(layer_sizes=(6, 4, 3)))
    model.import_weights([(W.astype(np.float64), b.astype(np.float64)) for W, b in init_weights((6, 4, 3), 2)])
    assert all(W.dtype == np.float32 and b.dtype == np.float32 for W, b in model.export_weights())
    for x in (np.zeros((2, 6), np.uint8), np.zeros((2, 6), np.float64)):
        assert model.predict_proba(x).dtype == np.float32


def test_one_hot_and_integer_labels_give_the_same_gradients():
    x, y = _data(n=5)
    model = numpy_net.build(TrainConfig(layer_sizes=(6, 4, 3), loss="mse"))
    loss_int, grads_int = model.loss_and_gradients(x, y)
    loss_hot, grads_hot = model.loss_and_gradients(x, np.eye(3, dtype=np.float32)[y])
    assert loss_int == pytest.approx(loss_hot)
    for (dW, db), (dW2, db2) in zip(grads_int, grads_hot, strict=True):
        np.testing.assert_array_equal(dW, dW2)
        np.testing.assert_array_equal(db, db2)


def test_divergence_raises_without_numpy_warnings():
    # a rate beyond float32's range: the first SGD step overflows the weights to inf inside the backend's
    # train_epoch, which must not warn; the loop then finds the loss NaN and raises
    x, y = _data(n=40)
    model = numpy_net.build(TrainConfig(layer_sizes=(6, 4, 3), epochs=3, learning_rate=1e39, batch_size=4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow or invalid-value warning would surface as an error here
        with pytest.raises(TrainingDiverged):
            model.fit_arrays(x * 1e3, y, verbose=0)


def test_huge_but_finite_weights_diverge_without_numpy_warnings():
    # at 1e30 the weights stay finite after epoch 1 (the loss too: the softmax saturates), so the
    # per-epoch dynamics see them before the loop finds the weights non-finite later
    x, y = _data(n=40)
    model = numpy_net.build(TrainConfig(layer_sizes=(6, 4, 3), epochs=3, learning_rate=1e30, batch_size=4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TrainingDiverged):
            model.fit_arrays(x * 1e3, y, verbose=0)


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_options_reach_the_loop(capsys):
    x, y = _data()
    model = NeuralNetwork(layer_shapes=(6, 4, 3), epochs=1, batch_size=10)
    out = Tty()
    model.fit_arrays(x, y, stream=out)  # default verbose 1 in a terminal: a bar labelled with the backend
    assert "numpy epoch 1/1" in out.getvalue() and "Epoch: 1," not in out.getvalue()
    out = Tty()
    model.fit_arrays(x, y, verbose=0, stream=out)
    model.fit(x, y, verbose=0)
    assert out.getvalue() == "" and capsys.readouterr().out == ""
    model.fit(x, y)
    assert capsys.readouterr().out.startswith("Epoch: 1,")


def test_build_accepts_the_cpu_only():
    cfg = TrainConfig(layer_sizes=(6, 4, 3))
    assert numpy_net.build(cfg, device="cpu").train_config == cfg
    with pytest.raises(ValueError, match=r"device must be 'auto' or 'cpu', got 'cuda'$"):
        numpy_net.build(cfg, device="cuda")


def test_load_names_what_is_wrong(tmp_path):
    weights = init_weights((6, 4, 3), 1)
    path = tmp_path / "other.npz"
    save_weights(path, weights, meta={"backend": "torch", "config": {"layer_sizes": [6, 4, 3]}})
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}: not an ffnn numpy model \(backend 'torch'\)$"):
        numpy_net.load(path)
    save_weights(path, weights, meta=None)
    with pytest.raises(ValueError, match=r": not an ffnn numpy model \(backend None\)$"):
        numpy_net.load(path)
    save_weights(path, weights, meta={"backend": "numpy", "config": {"layer_sizes": [6, 5, 3]}})
    with pytest.raises(ValueError, match=r": the saved config does not fit its weights \(.+\)$"):
        numpy_net.load(path)


def test_every_keyword_reaches_the_config_and_nothing_is_fitted_yet():
    model = NeuralNetwork(layer_shapes=(6, 4, 3), monitor="accuracy", min_delta=0.25, activation="tanh",
                          momentum=0.5, dtype="float64")
    c = model.train_config
    assert (c.monitor, c.min_delta, c.activation, c.momentum, c.dtype) == ("accuracy", 0.25, "tanh", 0.5, "float64")
    assert all(W.dtype == np.float64 and b.dtype == np.float64 for W, b in model.export_weights())
    assert model.history_ is None
