"""The shared weight layout: initialisation and the .npz file."""
import numpy as np
import pytest

from ffnn.weights import check_weights, init_weights, layer_sizes_of, load_weights, save_weights


def test_glorot_uniform_bounds_and_zero_biases():
    weights = init_weights((784, 128, 10), seed=3)
    assert layer_sizes_of(weights) == (784, 128, 10)
    for (W, b), (n_in, n_out) in zip(weights, [(784, 128), (128, 10)]):
        limit = np.sqrt(6 / (n_in + n_out))  # Glorot & Bengio (2010), uniform variant
        assert W.dtype == np.float32 and np.abs(W).max() <= limit and np.abs(W).max() > 0.95 * limit
        assert abs(W.std() - limit / np.sqrt(3)) < 0.05 * limit  # U(-a, a) has std a / sqrt(3)
        assert not b.any()
    again = init_weights((784, 128, 10), seed=3)
    np.testing.assert_array_equal(weights[0][0], again[0][0])
    assert not np.array_equal(weights[0][0], init_weights((784, 128, 10), seed=4)[0][0])


def test_he_uniform_for_relu_hidden_layers_glorot_for_the_output():
    weights = init_weights((784, 128, 64, 10), seed=3, activation="relu")
    limits = [np.sqrt(6 / 784), np.sqrt(6 / 128), np.sqrt(6 / (64 + 10))]  # He, He, Glorot (softmax output)
    for (W, _), limit in zip(weights, limits):
        assert np.abs(W).max() <= limit and np.abs(W).max() > 0.95 * limit
    # tanh and sigmoid share Glorot's rule: the same numbers as the default
    for activation in ("sigmoid", "tanh"):
        for (W, _), (W0, _) in zip(init_weights((784, 128, 64, 10), 3, activation=activation),
                                   init_weights((784, 128, 64, 10), 3)):
            np.testing.assert_array_equal(W, W0)


def test_save_and_load_with_and_without_meta(tmp_path):
    weights = init_weights((5, 4, 3), seed=0, dtype="float64")
    save_weights(tmp_path / "w.npz", weights)
    back = load_weights(tmp_path / "w.npz")
    for (W, b), (W2, b2) in zip(weights, back):
        np.testing.assert_array_equal(W, W2)
        np.testing.assert_array_equal(b, b2)
    meta = {"backend": "numpy", "config": {"layer_sizes": [5, 4, 3]}}
    save_weights(tmp_path / "m.npz", weights, meta=meta)
    _, meta_back = load_weights(tmp_path / "m.npz", with_meta=True)
    assert meta_back == meta
    assert load_weights(tmp_path / "w.npz", with_meta=True)[1] is None


def test_bad_files_and_layouts_are_named(tmp_path):
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="other.npz: not an ffnn weight file"):
        load_weights(tmp_path / "other.npz")
    (tmp_path / "broken.npz").write_bytes(b"PK not really a zip")
    with pytest.raises(ValueError, match="broken.npz: cannot read weights"):
        load_weights(tmp_path / "broken.npz")
    with pytest.raises(ValueError, match="missing.npz: file not found"):
        load_weights(tmp_path / "missing.npz")
    with pytest.raises(ValueError, match="layer 1: W has 3 inputs, previous layer has 4 outputs"):
        check_weights([(np.zeros((5, 4)), np.zeros(4)), (np.zeros((3, 2)), np.zeros(2))])
    with pytest.raises(ValueError, match=r"expected \(5, 4, 2\)"):
        check_weights([(np.zeros((5, 4)), np.zeros(4)), (np.zeros((4, 3)), np.zeros(3))], (5, 4, 2))
