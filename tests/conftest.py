"""Shared fixtures: MNIST is loaded once per session (from the user cache)."""
import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from ffnn.data import load_mnist, prepare_images


@pytest.fixture(scope="session")
def mnist():
    """The official MNIST: (x_train, y_train), (x_test, y_test), uint8."""
    return load_mnist()


@pytest.fixture(scope="session")
def mnist_small(mnist):
    """First 1,000 training and 1,000 test samples, prepared: float32 (n, 784), int64 labels."""
    (x, y), (xt, yt) = mnist
    return (prepare_images(x[:1000]), y[:1000].astype(np.int64),
            prepare_images(xt[:1000]), yt[:1000].astype(np.int64))
