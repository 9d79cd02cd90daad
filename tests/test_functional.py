"""The NumPy helpers of ffnn.functional (activations, softmax, losses and their gradients) against their
definitions and central differences, with the edge cases the larger tests reach only through validated
paths. Every test of functional.py is here.
"""
import tracemalloc

import numpy as np
import pytest

from ffnn import functional as fn


ORACLES = {  # each activation written from its definition, in float64
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": lambda z: (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z)),
    "relu": lambda z: np.where(z > 0, z, 0.0),
}


def _z(shape=(4, 5), seed=0):
    z = np.random.default_rng(seed).normal(0, 2, shape)
    return np.where(np.abs(z) < 0.1, 0.5, z)  # keep away from ReLU's kink for central differences


def test_the_activation_table_is_exactly_the_three_activations():
    assert set(fn.ACTIVATIONS) == set(ORACLES)
    for name, record in fn.ACTIVATIONS.items():
        assert record.name == name
        assert record.forward is getattr(fn, name) and record.backward is getattr(fn, name + "_backward")


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_activations_match_their_definitions_and_keep_the_dtype(name):
    f = fn.get_activation(name).forward
    z = _z()
    np.testing.assert_allclose(f(z), ORACLES[name](z), rtol=1e-12, atol=1e-15)
    z32 = z.astype(np.float32)
    out = np.empty_like(z32)
    result = f(z32, out=out)
    assert result is out and out.dtype == np.float32
    np.testing.assert_allclose(out, ORACLES[name](z), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_backward_is_the_derivative_by_central_differences(name):
    f, backward = fn.get_activation(name).forward, fn.get_activation(name).backward
    z, h = _z(), 1e-6
    da = np.random.default_rng(1).normal(size=z.shape)
    numeric = da * (ORACLES[name](z + h) - ORACLES[name](z - h)) / (2 * h)
    a = f(z)
    np.testing.assert_allclose(backward(da, a), numeric, rtol=1e-6, atol=1e-9)
    out, tmp = np.empty_like(z), np.empty_like(z)
    assert backward(da, a, out=out, tmp=tmp) is out
    np.testing.assert_allclose(out, numeric, rtol=1e-6, atol=1e-9)
    in_place = da.copy()
    backward(in_place, a, out=in_place, tmp=tmp)  # dZ may overwrite dA, as training does
    np.testing.assert_allclose(in_place, numeric, rtol=1e-6, atol=1e-9)


def test_relu_kink_and_sigmoid_extremes():
    z = np.array([[-1.0, 0.0, 2.0]])
    np.testing.assert_array_equal(fn.relu(z), [[0.0, 0.0, 2.0]])
    np.testing.assert_array_equal(fn.relu_backward(np.ones_like(z), fn.relu(z)), [[0.0, 0.0, 1.0]])
    with np.errstate(all="raise"):
        s = fn.sigmoid(np.array([[-1000.0, 0.0, 1000.0]], np.float32))
    np.testing.assert_array_equal(s, [[0.0, 0.5, 1.0]])
    np.testing.assert_allclose(fn.tanh(np.array([[20.0, -20.0]])), [[1.0, -1.0]])


@pytest.mark.parametrize("activation", sorted(ORACLES))
def test_forward_returns_every_layer_computed_by_hand(activation):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 4))
    weights = [(rng.normal(size=(4, 5)), rng.normal(size=5)), (rng.normal(size=(5, 2)), rng.normal(size=2)),
               (rng.normal(size=(2, 3)), rng.normal(size=3))]
    f = ORACLES[activation]
    a1 = f(x @ weights[0][0] + weights[0][1])
    a2 = f(a1 @ weights[1][0] + weights[1][1])
    z3 = a2 @ weights[2][0] + weights[2][1]
    p = np.exp(z3) / np.exp(z3).sum(axis=1, keepdims=True)
    acts = fn.forward(weights, x, activation)
    assert len(acts) == 3
    for got, want in zip(acts, [a1, a2, p], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fn.forward(weights, x)[0], ORACLES["sigmoid"](x @ weights[0][0] + weights[0][1]))


def test_softmax_is_exact_for_large_logits():
    z = np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]])
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(fn.softmax(z), [[1.0, 0.0, 0.0], e / e.sum()], rtol=1e-12, atol=0)
    out = np.empty_like(z)
    assert fn.softmax(z, out=out) is out and z[0, 0] == 1000.0  # the input is left alone


def test_nll_is_cross_entropy_of_one_hot_rows_and_stays_finite():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.25, 0.5, 0.25]])
    labels = np.array([0, 2, 1])
    expected = -(np.log(0.7) + np.log(0.8) + np.log(0.5)) / 3
    assert fn.nll(p, labels) == pytest.approx(expected, rel=1e-12)
    assert fn.cross_entropy(p, np.eye(3)[labels]) == pytest.approx(expected, rel=1e-12)
    zero = np.array([[1.0, 0.0]], np.float32)
    tiny = float(np.finfo(np.float32).tiny)
    assert fn.nll(zero, [1]) == pytest.approx(-np.log(tiny), rel=1e-6)  # about 87.3, not infinity
    assert fn.cross_entropy(zero, np.array([[0.0, 1.0]], np.float32)) == pytest.approx(-np.log(tiny), rel=1e-6)
    # one floor whatever the dtype, so float64 metrics agree with float32 histories
    assert fn.PROB_FLOOR == tiny
    assert fn.nll(np.array([[1.0, 0.0]]), [1]) == pytest.approx(-np.log(tiny), rel=1e-12)


def test_losses_table_and_gradients_against_central_differences():
    assert {name: (r.loss, r.grad) for name, r in fn.LOSSES.items()} == {
        "mse": (fn.mse, fn.mse_grad), "cross-entropy": (fn.cross_entropy, fn.cross_entropy_grad)}
    assert fn.get_loss("mse").backends == ("numpy",)
    assert fn.get_loss("cross-entropy").backends == ("numpy", "torch", "tensorflow")
    rng = np.random.default_rng(3)
    z = rng.normal(size=(4, 3))
    y = np.eye(3)[[0, 2, 1, 1]]
    for loss, grad in ((r.loss, r.grad) for r in fn.LOSSES.values()):
        numeric = np.zeros_like(z)
        for idx in np.ndindex(*z.shape):
            d = np.zeros_like(z)
            d[idx] = 1e-6
            numeric[idx] = (loss(fn.softmax(z + d), y) - loss(fn.softmax(z - d), y)) / 2e-6
        np.testing.assert_allclose(grad(fn.softmax(z), y), numeric, rtol=1e-5, atol=1e-10)
    p = fn.softmax(z)
    assert fn.mse(p, y) == pytest.approx(((p - y) ** 2).sum() / 12)


def test_losses_of_exact_integer_probabilities_and_float_labels():
    # probabilities given as integers (exact one-hot predictions): clipped at the same floor as floats
    p = np.array([[1, 0], [0, 1]])
    miss = -np.log(np.finfo(np.float32).tiny)  # about 87.3 for the one wrong row
    assert fn.nll(p, [1, 1]) == pytest.approx(miss / 2, rel=1e-12)
    assert fn.cross_entropy(p, np.array([[0, 1], [0, 1]])) == pytest.approx(miss / 2, rel=1e-12)
    # labels that arrive as floats holding integers (as Keras passes them) index like integers
    assert fn.nll(np.array([[0.25, 0.75]]), np.array([1.0])) == pytest.approx(-np.log(0.75), rel=1e-12)


@pytest.mark.parametrize("loss", ["mse", "cross-entropy"])
def test_loss_gradients_write_into_out(loss):
    grad = fn.get_loss(loss).grad
    p = fn.softmax(np.random.default_rng(4).normal(size=(3, 4)))
    y = np.eye(4)[[0, 1, 3]]
    expected = grad(p, y)
    out = np.empty_like(p)
    assert grad(p, y, out=out) is out
    np.testing.assert_array_equal(out, expected)


# ------------------------------------------- the backward functions use the scratch space they are given
#
# The backward functions use the scratch space they are given instead of allocating.
#
# Written for the mutants of functional.py that survived the mutation run of 2026-11-26 on the merged code
# (tools/mutation_notes.toml): passing ``tmp`` to ``sigmoid_backward`` or ``tanh_backward`` is the way the
# NumPy backend avoids allocating a batch-sized array per layer per step, so with ``out`` and ``tmp`` given
# they allocate nothing of that size (NumPy reports its array allocations to tracemalloc).


@pytest.mark.parametrize("backward, forward", [(fn.sigmoid_backward, fn.sigmoid), (fn.tanh_backward, np.tanh)])
def test_backward_with_out_and_tmp_allocates_no_array(backward, forward):
    rng = np.random.default_rng(0)
    a = forward(rng.standard_normal((500, 200)))
    da = rng.standard_normal(a.shape)
    expected = backward(da, a)  # allocating freely
    out, tmp = np.empty_like(a), np.empty_like(a)
    tracemalloc.start()
    try:
        result = backward(da, a, out=out, tmp=tmp)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result is out
    np.testing.assert_array_equal(out, expected)
    assert peak < a.nbytes / 10, f"{backward.__name__} allocated {peak} bytes with out and tmp given"
