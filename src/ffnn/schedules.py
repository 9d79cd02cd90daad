"""Learning-rate schedules, as plain functions of the optimizer step, and the records naming them.

Every backend asks ``schedule(step)`` for the rate of optimizer step ``step``
(0-based, counted across epochs), so the three backends agree on the rate at
every step (the Keras backend looks the rates up in a table it fills from the
same function). :data:`SCHEDULES` maps a name to its :class:`Schedule`
record; the configuration's validation, the command line's ``--schedule``
choices and the tuner read it, so adding a schedule is one
:func:`register_schedule` call. :class:`ffnn.TimeBasedLearningRate` is the
problem set's Keras face of :class:`TimeBased`.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Callable

__all__ = ["Constant", "TimeBased", "Schedule", "SCHEDULES", "register_schedule", "unregister_schedule",
           "get_schedule", "make_schedule", "check_positive_int"]


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


@dataclass(frozen=True)
class Schedule:
    """Everything ffnn needs to know about one learning-rate schedule.

    Parameters
    ----------
    name : str
        What ``TrainConfig(schedule=...)`` and ``--schedule`` call it.
    make : callable ``make(learning_rate) -> schedule``
        Builds the schedule, a callable ``schedule(step) -> float`` (0-based
        optimizer steps), from the configured rate; raises ``ValueError`` for a
        rate it cannot start from.
    formula : str
        The rate at step ``step`` in terms of ``lr``, for help texts (``"max(lr - step, 1)"``).
    integer_rate : bool, default False
        Whether the starting rate must be an integer (the tuner then searches integers).
    """

    name: str
    make: Callable
    formula: str
    integer_rate: bool = False

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"a schedule's name must be a non-empty string, got {self.name!r}")
        if not callable(self.make):
            raise ValueError(f"schedule {self.name!r}: make must be callable, got {self.make!r}")


#: The registry: ``schedule name -> Schedule``, in the order the command line lists them.
SCHEDULES: dict = {}


def register_schedule(record: Schedule, *, replace: bool = False) -> Schedule:
    """Add ``record`` to :data:`SCHEDULES` (every backend, the configuration and the CLI then offer it)."""
    if not isinstance(record, Schedule):
        raise ValueError(f"register_schedule takes a Schedule, got {record!r}")
    if record.name in SCHEDULES and not replace:
        raise ValueError(f"schedule {record.name!r} is already registered; pass replace=True to replace it")
    SCHEDULES[record.name] = record
    return record


def unregister_schedule(name: str) -> None:
    """Remove the schedule called ``name`` from :data:`SCHEDULES`."""
    if name not in SCHEDULES:
        raise ValueError(f"no schedule {name!r} is registered")
    del SCHEDULES[name]


def get_schedule(name: str) -> Schedule:
    """The record of the schedule called ``name``; a ``ValueError`` naming the choices if there is none."""
    try:
        return SCHEDULES[name]
    except (KeyError, TypeError):  # TypeError: an unhashable name
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {name!r}") from None


def make_schedule(name: str, learning_rate):
    """Build the schedule called ``name`` (``"constant"``, ``"time-based"``, ...) for ``learning_rate``."""
    return get_schedule(name).make(learning_rate)


register_schedule(Schedule("constant", Constant, formula="lr"))
register_schedule(Schedule("time-based", TimeBased, formula="max(lr - step, 1)", integer_rate=True))
