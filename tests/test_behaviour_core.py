"""Small behaviours of the core that the larger tests reach only through validated paths: the schedules
used directly (as the Keras face and the problem set do), and the NumPy helpers' edge cases.

Written to kill the mutants ``make mutation`` found surviving (docs/testing.md names them).
"""
import math

import numpy as np
import pytest

from ffnn.schedules import Constant, TimeBased, check_positive_int, make_schedule


def test_make_schedule_refuses_an_unknown_name_listing_the_choices():
    with pytest.raises(ValueError, match=r"^schedule must be one of constant, time-based, got 'cosine'$"):
        make_schedule("cosine", 1.0)
    assert isinstance(make_schedule("constant", 0.5), Constant)
    assert isinstance(make_schedule("time-based", 3), TimeBased)


@pytest.mark.parametrize("bad", [0, 0.0, -1, -0.5, True, False, math.inf, math.nan, 10**400, "1", None])
def test_constant_refuses_what_is_not_a_positive_number(bad):
    with pytest.raises(ValueError, match=r"^learning_rate must be a positive number, got "):
        Constant(bad)


@pytest.mark.parametrize("good", [1e-300, 0.5, 1, 7, np.float32(0.25), np.int64(3)])
def test_constant_keeps_a_positive_rate_at_every_step(good):
    schedule = Constant(good)
    assert [schedule(step) for step in (0, 1, 10**6)] == [float(good)] * 3
    assert isinstance(schedule(0), float) and repr(schedule) == f"Constant({float(good)!r})"


@pytest.mark.parametrize("bad", [0, -2, 2.0, True, "3", None])
def test_time_based_needs_a_positive_integer(bad):
    with pytest.raises(ValueError, match=r"^initial_learning_rate must be a positive integer, got "):
        TimeBased(bad)
    with pytest.raises(ValueError, match=r"^batch_size must be a positive integer"):
        check_positive_int(bad, "batch_size")


def test_time_based_drops_by_one_per_step_to_one():
    schedule = TimeBased(4)
    assert [schedule(s) for s in range(6)] == [4.0, 3.0, 2.0, 1.0, 1.0, 1.0]
    assert TimeBased(1)(0) == 1.0 and repr(schedule) == "TimeBased(4)"
    assert check_positive_int(np.int64(5), "n") == 5 and type(check_positive_int(np.int64(5), "n")) is int
