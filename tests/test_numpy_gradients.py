"""Backpropagation of the NumPy network against independent oracles.

The oracles: central differences of a forward pass written here from the
formulas (not the backend's), PyTorch autograd, and arithmetic done by hand.
"""
import math

import numpy as np
import pytest

from ffnn.backends.numpy_net import NeuralNetwork
from ffnn.theory.numeric import central_difference

ARCHS = [(5, 4, 3), (5, 4, 3, 3), (5, 6, 4, 3, 3)]  # 1, 2 and 3 hidden layers
LOSSES = ["mse", "cross-entropy"]


# The hidden activations written out plainly, independently of ffnn.functional.
REFERENCE_ACTIVATIONS = {"sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)), "tanh": np.tanh,
                         "relu": lambda z: np.maximum(z, 0.0)}
ACTIVATIONS = list(REFERENCE_ACTIVATIONS)


def reference_loss(weights, x, labels, loss, activation="sigmoid"):
    """The network's mean loss, written out plainly in float64."""
    f = REFERENCE_ACTIVATIONS[activation]
    a = x
    for W, b in weights[:-1]:
        a = f(a @ W + b)
    z = a @ weights[-1][0] + weights[-1][1]
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    y = np.eye(p.shape[1])[labels]
    if loss == "mse":
        return np.mean(np.mean((y - p) ** 2, axis=1))
    return -np.mean(np.log(p[np.arange(len(p)), labels]))


def random_problem(sizes, n=7, seed=0):
    """Weights of scale ~1 (so no unit saturates and no gradient vanishes), a batch and its labels."""
    rng = np.random.default_rng(seed)
    weights = [(rng.normal(size=(i, o)), rng.normal(size=o)) for i, o in zip(sizes[:-1], sizes[1:])]
    return weights, rng.normal(size=(n, sizes[0])), rng.integers(0, sizes[-1], size=n)


def numeric_gradients(weights, x, labels, loss, activation="sigmoid"):
    """Central differences (:func:`ffnn.theory.numeric.central_difference`) of :func:`reference_loss`
    for every weight and bias."""
    def loss_with(layer, which):
        def fun(param):
            changed = [list(pair) for pair in weights]
            changed[layer][which] = param
            return reference_loss(changed, x, labels, loss, activation)
        return fun

    return [tuple(central_difference(loss_with(l, k), weights[l][k]) for k in (0, 1)) for l in range(len(weights))]


def rel_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300)


def model_for(weights, loss, **kwargs):
    sizes = (weights[0][0].shape[0],) + tuple(W.shape[1] for W, _ in weights)
    model = NeuralNetwork(sizes, loss=loss, dtype="float64", **kwargs)
    model.import_weights(weights)
    return model


@pytest.mark.parametrize("sizes", ARCHS, ids=["1-hidden", "2-hidden", "3-hidden"])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_backprop_matches_central_differences(sizes, loss, activation):
    weights, x, labels = random_problem(sizes)
    model_loss, grads = model_for(weights, loss, activation=activation).loss_and_gradients(x, labels)
    assert model_loss == pytest.approx(reference_loss(weights, x, labels, loss, activation), rel=1e-12)
    numeric = numeric_gradients(weights, x, labels, loss, activation)
    for layer, ((dW, db), (nW, nb)) in enumerate(zip(grads, numeric)):
        assert dW.shape == nW.shape and db.shape == nb.shape
        assert rel_error(dW, nW) < 1e-6, f"layer {layer} dW"
        assert rel_error(db, nb) < 1e-6, f"layer {layer} db"


def test_mse_needs_the_full_softmax_jacobian():
    """The Jacobian's diagonal alone gives a gradient that central differences reject."""
    weights, x, labels = random_problem((5, 3), n=4, seed=3)
    _, [(dW, db)] = model_for(weights, "mse").loss_and_gradients(x, labels)
    [(nW, nb)] = numeric_gradients(weights, x, labels, "mse")
    z = x @ weights[0][0] + weights[0][1]
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    diagonal_only = 2 / p.size * (p - np.eye(3)[labels]) * p * (1 - p)
    assert rel_error(db, nb) < 1e-6
    assert rel_error(diagonal_only.sum(axis=0), nb) > 1e-2


def torch_loss(torch, params, x, labels, loss, activation):
    """The mean loss of ``params`` (torch leaf tensors, (W, b) pairs) written with torch's own functions."""
    f = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[activation]
    a = torch.as_tensor(x)
    for W, b in params[:-1]:
        a = f(a @ W + b)
    z = a @ params[-1][0] + params[-1][1]
    target = torch.as_tensor(labels)
    if loss == "mse":
        return torch.nn.functional.mse_loss(torch.softmax(z, dim=1),
                                            torch.nn.functional.one_hot(target, z.shape[1]).to(z.dtype))
    return torch.nn.functional.cross_entropy(z, target)


@pytest.mark.torch
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_parity_with_pytorch_autograd(loss, activation):
    torch = pytest.importorskip("torch")
    weights, x, labels = random_problem((12, 8, 6, 4), n=9, seed=1)
    model_loss, grads = model_for(weights, loss, activation=activation).loss_and_gradients(x, labels)

    params = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)) for W, b in weights]
    t_loss = torch_loss(torch, params, x, labels, loss, activation)
    t_loss.backward()

    assert model_loss == pytest.approx(t_loss.item(), rel=1e-12)
    for (dW, db), (W, b) in zip(grads, params):
        assert rel_error(dW, W.grad.numpy()) < 1e-6 and rel_error(db, b.grad.numpy()) < 1e-6
        np.testing.assert_allclose(dW, W.grad.numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(db, b.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.torch
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_momentum_steps_match_torch_optim_sgd(activation):
    """Six steps of momentum 0.9 at the time-based rates 3, 2, 1, 1, 1, 1 against ``torch.optim.SGD``."""
    torch = pytest.importorskip("torch")
    weights, x, labels = random_problem((5, 4, 3, 3), n=6, seed=4)
    x = x.astype(np.float32).astype(np.float64)  # fit takes images as float32
    model = model_for([(W / 4, b / 4) for W, b in weights], "cross-entropy", activation=activation,
                      momentum=0.9, learning_rate=3, schedule="time-based", batch_size=2, epochs=2, shuffle=False)
    params = [(torch.tensor(W / 4, requires_grad=True), torch.tensor(b / 4, requires_grad=True))
              for W, b in weights]
    optimizer = torch.optim.SGD([p for pair in params for p in pair], lr=3.0, momentum=0.9)
    for step in range(6):
        optimizer.param_groups[0]["lr"] = max(3 - step, 1)
        optimizer.zero_grad()
        batch = slice(2 * (step % 3), 2 * (step % 3) + 2)
        torch_loss(torch, params, x[batch], labels[batch], "cross-entropy", activation).backward()
        optimizer.step()
    model.fit(x, labels, verbose=0)
    for (W, b), (tW, tb) in zip(model.weights_, params):
        np.testing.assert_allclose(W, tW.detach().numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(b, tb.detach().numpy(), rtol=1e-9, atol=1e-12)


def test_sgd_momentum_by_hand():
    # w = 1, gradient 1 at every step, momentum 0.5, rate 0.1:
    # step 1: v = 1, w = 1 - 0.1 = 0.9; step 2: v = 0.5 + 1 = 1.5, w = 0.9 - 0.15 = 0.75;
    # step 3 at rate 0.2: v = 0.75 + 1 = 1.75, w = 0.75 - 0.35 = 0.4.
    from ffnn.backends.numpy_net import SGD

    weights, optimizer = [(np.array([1.0]), np.array([0.0]))], SGD(momentum=0.5)
    for rate, expected in [(0.1, 0.9), (0.1, 0.75), (0.2, 0.4)]:
        optimizer.step(weights, [(np.array([1.0]), np.array([0.0]))], rate)
        assert weights[0][0][0] == pytest.approx(expected, abs=1e-15)
    # without momentum no velocity is kept: w -= rate * g
    plain = [(np.array([1.0]), np.array([0.0]))]
    SGD().step(plain, [(np.array([2.0]), np.array([1.0]))], 0.25)
    assert plain[0][0][0] == 0.5 and plain[0][1][0] == -0.25


# A 2-1-2 network small enough to do by hand. The hidden unit gets
# z1 = 1 * 0.5 + 2 * (-0.25) + 0 = 0, so a1 = sigmoid(0) = 0.5. The output
# logits are z2 = a1 * [1, -1] + [ln 3 - 1, 0] = [ln 3 - 0.5, -0.5], which
# differ by ln 3, so p = softmax(z2) = [3/4, 1/4]. The label is class 1, y = [0, 1].
TINY_WEIGHTS = [(np.array([[0.5], [-0.25]]), np.array([0.0])),
                (np.array([[1.0, -1.0]]), np.array([math.log(3) - 1, 0.0]))]
TINY_X, TINY_Y = np.array([[1.0, 2.0]]), np.array([1])

TINY_CASES = {
    # Cross-entropy: loss = -ln(1/4) = ln 4; dZ2 = p - y = [0.75, -0.75];
    # dW2 = a1 * dZ2 = [[0.375, -0.375]]; db2 = dZ2;
    # dA1 = dZ2 @ W2.T = 0.75 * 1 + (-0.75) * (-1) = 1.5;
    # dZ1 = dA1 * a1 * (1 - a1) = 1.5 * 0.25 = 0.375;
    # dW1 = x.T * dZ1 = [[0.375], [0.75]]; db1 = [0.375].
    "cross-entropy": (math.log(4), [([[0.375], [0.75]], [0.375]), ([[0.375, -0.375]], [0.75, -0.75])]),
    # MSE: loss = ((3/4 - 0)^2 + (1/4 - 1)^2) / 2 = 0.5625.
    # G = dL/dp = 2 / (n k) * (p - y) = [0.75, -0.75];
    # through the softmax Jacobian dZ2 = p * (G - sum(G * p)), sum(G * p) = 0.5625 - 0.1875 = 0.375:
    # dZ2 = [0.75 * 0.375, 0.25 * (-1.125)] = [0.28125, -0.28125]
    # (the diagonal alone, G * p * (1 - p), would give half of it: [0.140625, -0.140625]);
    # dW2 = 0.5 * dZ2 = [[0.140625, -0.140625]]; dA1 = 0.28125 + 0.28125 = 0.5625;
    # dZ1 = 0.5625 * 0.25 = 0.140625; dW1 = [[0.140625], [0.28125]]; db1 = [0.140625].
    "mse": (0.5625, [([[0.140625], [0.28125]], [0.140625]), ([[0.140625, -0.140625]], [0.28125, -0.28125])]),
}


@pytest.mark.parametrize("loss", LOSSES)
def test_worked_example_by_hand(loss):
    expected_loss, expected_grads = TINY_CASES[loss]
    model = model_for(TINY_WEIGHTS, loss, learning_rate=0.1, epochs=1, shuffle=False)
    got_loss, grads = model.loss_and_gradients(TINY_X, TINY_Y)
    assert got_loss == pytest.approx(expected_loss, abs=1e-15)
    for (dW, db), (eW, eb) in zip(grads, expected_grads):
        np.testing.assert_allclose(dW, eW, atol=1e-15)
        np.testing.assert_allclose(db, eb, atol=1e-15)
    # One SGD step at rate 0.1: W <- W - 0.1 * dW, e.g. for cross-entropy W1 = [[0.4625], [-0.325]].
    model.fit(TINY_X, TINY_Y, verbose=0)
    for (W, b), (W0, b0), (eW, eb) in zip(model.weights_, TINY_WEIGHTS, expected_grads):
        np.testing.assert_allclose(W, W0 - 0.1 * np.array(eW), atol=1e-15)
        np.testing.assert_allclose(b, b0 - 0.1 * np.array(eb), atol=1e-15)


@pytest.mark.parametrize("loss", LOSSES)
def test_batch_size_one_is_per_sample_sgd(loss):
    """Three per-sample steps with the time-based rates 3, 2, 1, recomputed from central differences."""
    weights, x, labels = random_problem((4, 3, 3), n=3, seed=2)
    x = x.astype(np.float32).astype(np.float64)  # fit takes images as float32
    model = model_for(weights, loss, learning_rate=3, schedule="time-based", batch_size=1, epochs=1,
                      shuffle=False)
    model.fit(x, labels, verbose=0)
    expected = [(W.copy(), b.copy()) for W, b in weights]
    for step in range(3):
        rate = 3 - step
        grads = numeric_gradients(expected, x[step:step + 1], labels[step:step + 1], loss)
        expected = [(W - rate * gW, b - rate * gb) for (W, b), (gW, gb) in zip(expected, grads)]
    for (W, b), (eW, eb) in zip(model.weights_, expected):
        np.testing.assert_allclose(W, eW, rtol=0, atol=1e-8)
        np.testing.assert_allclose(b, eb, rtol=0, atol=1e-8)


def test_nll_is_cross_entropy_for_integer_labels():
    from ffnn import functional as F

    p = np.array([[0.5, 0.5], [0.25, 0.75], [1.0, 0.0]])
    labels = np.array([0, 1, 1])
    # -(ln 0.5 + ln 0.75 + ln tiny) / 3: the underflowed probability costs a large finite loss, not inf
    # (tiny is float32's smallest normal number, the floor also for float64 probabilities)
    expected = -(np.log(0.5) + np.log(0.75) + np.log(np.finfo(np.float32).tiny)) / 3
    assert F.nll(p, labels) == pytest.approx(expected)
    assert F.nll(p, labels) == pytest.approx(F.cross_entropy(p, np.eye(2)[labels]))
