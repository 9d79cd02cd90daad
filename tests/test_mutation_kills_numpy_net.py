"""The NumPy backend's memory discipline and edges of its API that the other tests do not reach.

Written for the mutants of backends/numpy_net.py that survived the mutation run of 2026-11-26 on the merged
code (tools/mutation_notes.toml). The module promises that an epoch computes "in buffers allocated once
per epoch": its workspace (x, y, then activations, deltas, scratch and gradients per layer) and nothing
batch-sized per step. NumPy reports its array allocations to tracemalloc, so the peak says whether a step
allocated an array of its own.
"""
import tracemalloc
import warnings

import numpy as np
import pytest

from ffnn.backends.numpy_net import SGD, NeuralNetwork

SIZES = (300, 200, 100, 10)


def _peak(call):
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("loss", ["cross-entropy", "mse"])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_an_epoch_allocates_its_workspace_once_and_nothing_per_batch(activation, loss):
    b = 4096  # a batch-sized array of the narrowest layer (b x 10 float32) is 160 kB
    net = NeuralNetwork(layer_shapes=SIZES, batch_size=b, loss=loss, activation=activation)
    rng = np.random.default_rng(0)
    x, y = rng.random((2 * b + 7, SIZES[0])).astype(np.float32), rng.integers(0, 10, 2 * b + 7)
    data, order = net.prepare_data(x, y), rng.permutation(2 * b + 7)  # two full batches and one of 7
    epoch = lambda: net.train_epoch(data, order, b, lambda step: 0.01, 0, lambda m: None)  # noqa: E731
    epoch()  # warm up
    hidden = sum(SIZES[1:])
    workspace = 4 * (b * SIZES[0] + b * SIZES[-1] + 2 * b * hidden  # x, y; activations, deltas
                     + b * max(SIZES[1:]) + 2 * b  # the scratch all layers share; the softmax column, ones
                     + sum(i * o + o for i, o in zip(SIZES, SIZES[1:])))  # the gradients
    extra = _peak(epoch) - workspace
    assert extra < 4 * b * SIZES[-1] / 2, f"an epoch allocated {extra} bytes beyond its workspace"


def test_prediction_allocates_no_training_buffers():
    n = 4096
    net = NeuralNetwork(layer_shapes=SIZES)
    x = np.random.default_rng(1).random((n, SIZES[0])).astype(np.float32)
    net.predict_proba(x)
    activations = 4 * n * sum(SIZES[1:])
    output = 4 * n * SIZES[-1]  # the probabilities handed back
    extra = _peak(lambda: net.predict_proba(x)) - activations - output
    assert extra < output, f"prediction allocated {extra} bytes beyond the activations"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_loss_and_gradients_are_computed_in_the_models_dtype(dtype):
    net = NeuralNetwork(layer_shapes=(6, 4, 3), dtype=dtype)
    rng = np.random.default_rng(2)
    loss, grads = net.loss_and_gradients(rng.random((5, 6)), rng.integers(0, 3, 5))
    assert np.isfinite(loss)
    assert all(dW.dtype == dtype and db.dtype == dtype for dW, db in grads)


def test_sgd_without_arguments_has_no_momentum():
    w, g = np.ones(3), np.full(3, 2.0)
    sgd = SGD()
    for _ in range(2):  # plain SGD: the same step twice; with momentum the second would be larger
        sgd.step([w], [g.copy()], 0.25)
    np.testing.assert_array_equal(w, [0.0, 0.0, 0.0])  # 1 - 2 * 0.25 * 2


def test_evaluating_weights_that_overflow_warns_nothing():
    # what fit_loop evaluates right after a diverging epoch: the activations overflow to inf and the
    # softmax of inf - inf is NaN; the loss says so (fit_loop then raises TrainingDiverged), without warnings
    net = NeuralNetwork(layer_shapes=(4, 3, 2))
    net.weights_ = [(np.full((4, 3), 3e38, np.float32), np.zeros(3, np.float32)),
                    (np.array([[3e38, -3e38]] * 3, np.float32), np.zeros(2, np.float32))]
    x = np.ones((5, 4), np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, _ = net.loss_and_accuracy(net.prepare_data(x, np.zeros(5, int)))
    assert not np.isfinite(loss) or loss != loss
