"""Shared fixtures: MNIST is loaded once per session (from the user cache).

Collecting the tests imports no framework (``tests/test_architecture.py`` checks): each test file imports
PyTorch or TensorFlow inside the fixtures and tests that use them, so a worker that runs none of them
never pays for their start-up.
"""
import os
import sys

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# One thread per BLAS, OpenMP and TensorFlow pool, here and in the processes the tests start (set before
# NumPy is imported; PyTorch reads OMP_NUM_THREADS when it is imported, so no test sets its threads for speed). `make test` runs two workers on two cores, and the tests' matrices are small: the
# libraries' own threads (one per core in each process) only spin waiting for each other. Measured on
# 2 cores, 2026-12-03, busy core-seconds: tests/test_bench.py by itself 47 with the defaults, 34 with one
# thread; tests/test_tf_net.py 29, 21.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
             "TF_NUM_INTEROP_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np
import pytest

from ffnn.data import load_mnist, prepare_images

#: Modules that collecting the tests must not import.
FRAMEWORKS = ("torch", "tensorflow", "keras")
_COLLECTED = pytest.StashKey[tuple]()


def pytest_collection_finish(session):
    """Note the frameworks imported by now, before any test ran, and the files the tests came from."""
    imported = sorted(m for m in FRAMEWORKS if m in sys.modules)
    session.config.stash[_COLLECTED] = (FRAMEWORKS, imported, {item.path for item in session.items})


#: Seconds each of the longer test files took in `make test` (2 workers on 2 cores, 2026-12-03). The
#: workers take whole files (``--dist loadfile``) in collection order: the longest go first, so that
#: neither worker is left with a long file at the end while the other has finished. Others count 0 s.
FILE_SECONDS = {
    "test_cli.py": 49, "test_check_submissions.py": 45, "test_bench.py": 30, "test_web_browser.py": 25,
    "test_tune.py": 17, "test_theory.py": 17, "test_web_train_browser.py": 15, "test_notebook.py": 14,
    "test_tf_net.py": 11, "test_web_train_api.py": 9, "test_tune_postgres.py": 8, "test_inspect.py": 7,
    "test_data.py": 7, "test_web_api.py": 6, "test_lrfind.py": 5, "test_web_load.py": 5, "test_schedules.py": 5,
    "test_parity.py": 3, "test_tune_formats.py": 3, "test_diagnosis.py": 3, "test_torch_net.py": 2,
}


def pytest_configure(config):
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False  # xdist would order the files by their number of tests


def pytest_collection_modifyitems(items):
    """The longest files first (a stable sort: each file's tests keep their order)."""
    items.sort(key=lambda item: -FILE_SECONDS.get(item.path.name, 0))


@pytest.fixture
def collection(request):
    """``(FRAMEWORKS, those that collecting this session's tests imported, the test files collected)``."""
    return request.config.stash[_COLLECTED]


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
