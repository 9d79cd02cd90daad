"""One validated configuration that flows from the CLI to every backend."""
from __future__ import annotations

import inspect
import math
import numbers
from dataclasses import asdict, dataclass, fields

from .errors import ConfigError
from .functional import ACTIVATIONS, LOSSES
from .schedules import SCHEDULES, make_schedule

__all__ = ["TrainConfig", "ConfigError", "LOSSES", "ACTIVATIONS", "SCHEDULES", "MONITORS", "DTYPES", "DEVICES"]

# LOSSES, ACTIVATIONS and SCHEDULES are the registries themselves (name -> record), read at every check,
# so a record registered at run time is a valid choice from then on; the CLI offers exactly these.
DEVICES = ("auto", "cpu", "cuda")  # where torch and tensorflow compute; numpy runs on the CPU
MONITORS = ("val_loss", "val_accuracy", "loss", "accuracy")
DTYPES = ("float32", "float64")


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_real(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _same(a, b) -> bool:
    """Whether an argument equals its default (sequences compare as tuples)."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return tuple(a) == tuple(b)
    if _is_real(a) and _is_real(b):
        return a == b
    return type(a) is type(b) and a == b


def _finite(v) -> bool:
    try:
        return math.isfinite(float(v))
    except OverflowError:  # an integer beyond float range (10**400) cannot be a rate
        return False


def _one_of(table: dict):
    """A rule's check and requirement for a choice from a registry, both read when a config is checked."""
    return (lambda v: isinstance(v, str) and v in table, lambda: "one of " + ", ".join(table))


# name: (check, requirement shown in the error, a string or a function giving one)
_RULES = {
    "epochs": (lambda v: _is_int(v) and v > 0, "a positive integer"),
    "batch_size": (lambda v: _is_int(v) and v > 0, "a positive integer"),
    "learning_rate": (lambda v: _is_real(v) and _finite(v) and v > 0, "a positive number"),
    "loss": _one_of(LOSSES),
    "activation": _one_of(ACTIVATIONS),
    "momentum": (lambda v: _is_real(v) and _finite(v) and 0 <= v < 1, "a number in [0, 1)"),
    "schedule": _one_of(SCHEDULES),
    "seed": (lambda v: _is_int(v) and v >= 0, "a non-negative integer"),
    "early_stopping": (lambda v: v is None or (_is_int(v) and v > 0), "None or a positive integer (patience)"),
    "monitor": (lambda v: v in MONITORS, "one of " + ", ".join(MONITORS)),
    "min_delta": (lambda v: _is_real(v) and _finite(v) and v >= 0, "a non-negative number"),
    "shuffle": (lambda v: isinstance(v, bool), "True or False"),
    "dtype": (lambda v: v in DTYPES, "one of " + ", ".join(DTYPES)),
}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run, validated on construction.

    Parameters
    ----------
    layer_sizes : tuple of int
        ``(n_inputs, hidden_1, ..., n_classes)``, e.g. ``(784, 128, 64, 10)``;
        at least two entries, all positive.
    epochs : int, default 10
    batch_size : int, default 32
        ``1`` gives per-sample updates (the problem set's protocol).
    learning_rate : float, default 1.0
        For ``schedule="time-based"`` the starting rate, a positive integer.
    loss : {"mse", "cross-entropy"}, default "cross-entropy"
        A name in :data:`ffnn.functional.LOSSES`; ``"mse"`` only in the NumPy backend.
    activation : {"sigmoid", "tanh", "relu"}, default "sigmoid"
        The hidden layers' activation, a name in :data:`ffnn.functional.ACTIVATIONS`.
    momentum : float in [0, 1), default 0.0
        SGD momentum in PyTorch's convention, ``v = momentum * v + g``,
        ``w -= learning_rate * v``; 0 is plain SGD.
    schedule : {"constant", "time-based"}, default "constant"
        A name in :data:`ffnn.schedules.SCHEDULES`.
    seed : int, default 1
        Seeds weight initialisation and the shuffling of every epoch.
    early_stopping : int or None, default None
        Patience in epochs; ``None`` trains for all ``epochs``.
    monitor : {"val_loss", "val_accuracy", "loss", "accuracy"}, default "val_loss"
    min_delta : float, default 0.0
        Smallest change of ``monitor`` that counts as an improvement.
    shuffle : bool, default True
    dtype : {"float32", "float64"}, default "float32"
    """

    layer_sizes: tuple = (784, 128, 64, 10)
    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 1.0
    loss: str = "cross-entropy"
    activation: str = "sigmoid"
    momentum: float = 0.0
    schedule: str = "constant"
    seed: int = 1
    early_stopping: int | None = None
    monitor: str = "val_loss"
    min_delta: float = 0.0
    shuffle: bool = True
    dtype: str = "float32"

    def __post_init__(self):
        sizes = self.layer_sizes
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
            raise ConfigError("layer_sizes", f"must be a sequence of positive integers, got {sizes!r}")
        sizes = tuple(sizes)
        if len(sizes) < 2:
            raise ConfigError("layer_sizes", f"needs at least an input and an output size, got {sizes!r}")
        for s in sizes:
            if not (_is_int(s) and s > 0):
                raise ConfigError("layer_sizes", f"must be positive integers, got {s!r} in {sizes!r}")
        object.__setattr__(self, "layer_sizes", tuple(int(s) for s in sizes))
        for f in fields(self):
            if f.name in _RULES:
                check, need = _RULES[f.name]
                value = getattr(self, f.name)
                if not check(value):
                    raise ConfigError(f.name, f"must be {need() if callable(need) else need}, got {value!r}")
        make_schedule(self.schedule, self.learning_rate)  # time-based needs an integer rate

    @property
    def n_inputs(self) -> int:
        return self.layer_sizes[0]

    @property
    def n_classes(self) -> int:
        return self.layer_sizes[-1]

    @property
    def hidden(self) -> tuple:
        return self.layer_sizes[1:-1]

    def make_schedule(self):
        """The learning-rate schedule this config names."""
        return make_schedule(self.schedule, self.learning_rate)

    @classmethod
    def from_names(cls, names: dict, **values) -> "TrainConfig":
        """Build from arguments some of which go by other names (``names``: field -> name).

        The problem set's classes call ``layer_sizes`` ``layer_shapes`` or
        ``sizes`` and ``seed`` ``random_state``; errors then use their names.
        """
        fields_of = {name: field for field, name in names.items()}
        try:
            return cls(**{fields_of.get(k, k): v for k, v in values.items()})
        except ConfigError as exc:
            raise exc.renamed(names) from None

    @classmethod
    def for_class(cls, config, names: dict, values: dict, defaults) -> "TrainConfig":
        """The configuration of a problem-set class: ``config``, or one built from its arguments.

        ``values`` are the class's arguments by its own names (``names``:
        field -> name), ``defaults`` their defaults. Given a ``config``, every
        argument must keep its default (passing both is ambiguous); without
        one, the arguments become a config as in :meth:`from_names`.
        ``defaults`` may be a dict or the class's ``__init__`` (whose signature has them).
        """
        if callable(defaults):
            defaults = {k: p.default for k, p in inspect.signature(defaults).parameters.items()}
        if config is None:
            return cls.from_names(names, **values)
        if not isinstance(config, cls):
            raise ValueError(f"config must be a TrainConfig, got {config!r}")
        changed = [k for k, v in values.items() if k in defaults and not _same(v, defaults[k])]
        if changed:
            raise ValueError(f"give either config or {', '.join(changed)}, not both")
        return config

    def replace(self, **changes) -> "TrainConfig":
        """A copy with some fields changed (validated again)."""
        return TrainConfig(**{**asdict(self), **changes})

    def to_dict(self) -> dict:
        d = asdict(self)
        d["layer_sizes"] = list(self.layer_sizes)
        return d

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown config keys {sorted(unknown)}")
        return cls(**data)
