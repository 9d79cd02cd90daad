"""The three backends give the same history: every activation x {no momentum, momentum} x {constant,
time-based} for cross-entropy, the loss all three train with (``mse`` is the NumPy backend's alone).

A small fixed run (200 images, 2 epochs of 8 batches, a 784-16-10 network) per configuration: the same
starting weights, the same batches, so the histories may differ only by float32 rounding. A wrong
momentum convention, a schedule that restarts each epoch, a missing bias or a layer in the wrong order
moves the loss by far more than the tolerance. Each model is built and trained once per configuration
(the module fixture); TensorFlow's share is one traced Keras fit per configuration.

The last test takes a long ReLU run with momentum (issue 27's): float32 products round differently in
NumPy's OpenBLAS, PyTorch's MKL and Keras's oneDNN, so a ReLU unit whose pre-activation sits within a
rounding error of 0 can be on in one backend and off in another, and the histories part. It checks that
where they part, that is what happened, rather than a difference in the arithmetic.
"""
import importlib.util
import itertools

import numpy as np
import pytest

# The frameworks are imported by the tests that run, never by collecting them (test_architecture checks).
MISSING = [m for m in ("torch", "tensorflow") if importlib.util.find_spec(m) is None]
pytestmark = [pytest.mark.torch, pytest.mark.tf,
              pytest.mark.skipif(bool(MISSING), reason=f"needs {' and '.join(MISSING)}")]

from ffnn import TrainConfig  # noqa: E402
from ffnn.backends import build  # noqa: E402

BACKENDS = ("numpy", "torch", "tensorflow")
ACTIVATIONS = ("sigmoid", "tanh", "relu")
LOSSES = ("cross-entropy",)  # the losses more than one backend trains with (mse: NumPy only)
CASES = [dict(activation=a, momentum=m, schedule=s, loss=loss, learning_rate=2 if s == "time-based" else 0.2)
         for a, m, s, loss in itertools.product(ACTIVATIONS, (0.0, 0.5), ("constant", "time-based"), LOSSES)]


def _id(case):
    return f"{case['activation']}-momentum{case['momentum']}-{case['schedule']}-{case['loss']}"


@pytest.fixture(scope="module")
def histories(mnist_small):
    """``{case id: {backend: History}}`` for every case, each model trained once."""
    x, y, xv, yv = mnist_small
    out = {}
    for case in CASES:
        config = TrainConfig(layer_sizes=(784, 16, 10), epochs=2, batch_size=25, seed=3, **case)
        out[_id(case)] = {name: build(name, config, device="cpu").fit_arrays(x[:200], y[:200], xv[:100],
                                                                             yv[:100], verbose=0)
                          for name in BACKENDS}
    return out


def test_the_matrix_covers_every_activation_schedule_and_shared_loss():
    from ffnn.functional import ACTIVATIONS as ALL, LOSSES as ALL_LOSSES
    from ffnn.schedules import SCHEDULES

    assert {c["activation"] for c in CASES} == set(ALL) and {c["schedule"] for c in CASES} == set(SCHEDULES)
    shared = {name for name, loss in ALL_LOSSES.items() if len(loss.backends) > 1}
    assert {c["loss"] for c in CASES} == shared
    assert len({_id(c) for c in CASES}) == len(CASES) == len(ALL) * 2 * len(SCHEDULES) * len(shared)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_three_backends_give_the_same_history(histories, case):
    runs = histories[_id(case)]
    numpy = runs["numpy"]
    assert numpy["epoch"] == [1, 2]
    if case["schedule"] == "time-based":  # 8 steps per epoch: epoch 2 starts at step 8, rate max(2 - 8, 1)
        assert numpy["learning_rate"] == [2.0, 1.0]
    for name in ("torch", "tensorflow"):
        other = runs[name]
        assert other["learning_rate"] == numpy["learning_rate"], name
        # float32 rounding, grown over 16 steps (tanh at rate 2 reaches 1e-5)
        np.testing.assert_allclose(other["loss"], numpy["loss"], rtol=1e-4, err_msg=name)
        np.testing.assert_allclose(other["val_loss"], numpy["val_loss"], rtol=1e-4, err_msg=name)
        # an image whose two best classes tie to the last bit may go either way: at most one of 200 / 100
        np.testing.assert_allclose(other["accuracy"], numpy["accuracy"], atol=1 / 200 + 1e-9, err_msg=name)
        np.testing.assert_allclose(other["val_accuracy"], numpy["val_accuracy"], atol=1 / 100 + 1e-9, err_msg=name)
    assert numpy["loss"][-1] < numpy["loss"][0] or case["activation"] == "relu"  # it trains (ReLU at rate 2 may not)


def _pre_activations(name, model, x):
    """Each hidden layer's ``Z = A @ W + b`` as the backend ``name`` computes it, in float32."""
    zs = []
    if name == "torch":  # torch_net.forward for ReLU layers (SPLIT_BIAS): the product, then the bias
        import torch

        a = torch.from_numpy(x)
        with torch.no_grad():
            for lin in model.linears[:-1]:
                z = torch.matmul(a, lin.weight.T) + lin.bias
                zs.append(z.numpy())
                a = torch.relu(z)
        return zs
    a = x
    for W, b in model.export_weights()[:-1]:
        z = a @ W + b
        zs.append(z)
        a = np.maximum(z, 0)
    return zs


@pytest.mark.slow
def test_relu_histories_part_only_where_a_unit_sits_at_zero(mnist):
    """Issue 27's run (momentum 0.9, rate 0.05, 3,000 images, compare's split), step by step, NumPy against
    PyTorch: while they agree, the weights differ by float32 rounding only; at the first step where they
    part, some ReLU pre-activation of that batch is within rounding of 0 and has opposite signs in the two."""
    import torch

    from ffnn.data import prepare_images, train_val_split

    (x, y), _ = mnist
    x, _, y, _ = train_val_split(prepare_images(x[:3000]), y[:3000].astype(np.int64), 0.1, seed=1)
    config = TrainConfig(layer_sizes=(784, 128, 64, 10), batch_size=32, learning_rate=0.05, activation="relu",
                         momentum=0.9, seed=1)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        models = {name: build(name, config, device="cpu") for name in ("numpy", "torch")}
        data = {name: m.prepare_data(x, y) for name, m in models.items()}
        order = np.random.default_rng([1, 1]).permutation(len(x))
        schedule = config.make_schedule()
        for step in range(len(x) // 32):
            batch = order[32 * step:32 * step + 32]
            z = {name: _pre_activations(name, m, x[batch]) for name, m in models.items()}
            for name, m in models.items():
                m.train_epoch(data[name], batch, 32, schedule, step, lambda n: None)
            after = {name: m.export_weights() for name, m in models.items()}
            gap = max(float(np.abs(a - b).max()) for (Wn, bn), (Wt, bt) in zip(after["numpy"], after["torch"])
                      for a, b in ((Wn, Wt), (bn, bt)))
            if gap > 1e-5:  # they parted in this step
                flipped = [(zn[(zn > 0) != (zt > 0)], zt[(zn > 0) != (zt > 0)]) for zn, zt in zip(z["numpy"], z["torch"])]
                assert any(len(zn) for zn, _ in flipped), f"step {step}: the backends parted with no ReLU flipped"
                for zn, zt in flipped:
                    assert np.all(np.abs(zn) < 1e-5) and np.all(np.abs(zt) < 1e-5), (step, zn, zt)
                return
            assert gap < 1e-6, (step, gap)
    finally:
        torch.set_num_threads(threads)
