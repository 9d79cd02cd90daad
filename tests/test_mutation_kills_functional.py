"""The backward functions use the scratch space they are given instead of allocating.

Written for the mutants of functional.py that survived the mutation run of 2026-11-26 on the merged code
(tools/mutation_notes.toml): passing ``tmp`` to ``sigmoid_backward`` or ``tanh_backward`` is the way the NumPy
backend avoids allocating a batch-sized array per layer per step, so with ``out`` and ``tmp`` given they
allocate nothing of that size (NumPy reports its array allocations to tracemalloc).
"""
import tracemalloc

import numpy as np
import pytest

from ffnn import functional as F


@pytest.mark.parametrize("backward, forward", [(F.sigmoid_backward, F.sigmoid), (F.tanh_backward, np.tanh)])
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
