"""Learning-rate schedules, as plain functions of the optimizer step.

Every backend asks ``schedule(step)`` for the rate of optimizer step ``step``
(0-based, counted across epochs), so the three backends agree on the rate at
every step. :class:`ffnn.TimeBasedLearningRate` is the Keras face of
:class:`TimeBased`.
"""
from __future__ import annotations

import math
import numbers

__all__ = ["Constant", "TimeBased", "make_schedule", "SCHEDULES", "check_positive_int"]


def check_positive_int(value, name: str) -> int:
    """Return ``value`` if it is a positive integer (not a bool), else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _as_float(value) -> float:
    """``float(value)``, or infinity for an integer too large for a float."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


class Constant:
    """The same rate at every step: ``lr(step) = learning_rate``."""

    def __init__(self, learning_rate: float):
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real) \
                or not learning_rate > 0 or not math.isfinite(_as_float(learning_rate)):
            raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
        self.learning_rate = float(learning_rate)

    def __call__(self, step: int) -> float:
        return self.learning_rate

    def __repr__(self) -> str:
        return f"Constant({self.learning_rate!r})"


class TimeBased:
    r"""The problem set's time-based decay.

    .. math:: \eta(t) = \max(\eta_0 - t, 1)

    ``initial_learning_rate`` (:math:`\eta_0`) must be a positive integer: the
    rate is :math:`\eta_0` at step 0, drops by 1 at each optimizer step, and
    stays at 1 once it gets there.
    """

    def __init__(self, initial_learning_rate: int):
        self.initial_learning_rate = check_positive_int(initial_learning_rate, "initial_learning_rate")

    def __call__(self, step: int) -> float:
        return float(max(self.initial_learning_rate - int(step), 1))

    def __repr__(self) -> str:
        return f"TimeBased({self.initial_learning_rate!r})"


SCHEDULES = {"constant": Constant, "time-based": TimeBased}


def make_schedule(name: str, learning_rate):
    """Build a schedule by name (``"constant"`` or ``"time-based"``)."""
    if name not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {name!r}")
    return SCHEDULES[name](learning_rate)
