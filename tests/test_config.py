"""TrainConfig validation (ffnn.config), schedules and History export.

Every example-based test of config.py is here. The Hypothesis fuzz campaign of the configuration (and of
the labels it is trained on) stays in ``test_fuzz_config.py``, named after the input it fuzzes, with its own
settings and many examples per test.
"""
import csv
import io
import json
import math

import pytest

from ffnn import TrainConfig
from ffnn.history import FIELDS, History
from ffnn.schedules import Constant, TimeBased, make_schedule


def test_defaults_and_round_trip():
    cfg = TrainConfig()
    assert cfg.layer_sizes == (784, 128, 64, 10) and cfg.hidden == (128, 64)
    assert TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    assert cfg.replace(epochs=3).epochs == 3
    assert TrainConfig(layer_sizes=[4, 3]).layer_sizes == (4, 3)


@pytest.mark.parametrize("field, value, message", [
    ("layer_sizes", (784,), "at least an input and an output"),
    ("layer_sizes", (784, 0, 10), "positive integers, got 0"),
    ("layer_sizes", (784, -5, 10), "got -5"),
    ("layer_sizes", (784, 2.5, 10), "got 2.5"),
    ("layer_sizes", "784,10", "sequence of positive integers"),
    ("epochs", 0, "epochs must be a positive integer, got 0"),
    ("epochs", 2.0, "epochs must be a positive integer, got 2.0"),
    ("batch_size", -1, "batch_size must be a positive integer, got -1"),
    ("learning_rate", 0, "learning_rate must be a positive number, got 0"),
    ("learning_rate", float("nan"), "learning_rate must be a positive number, got nan"),
    ("learning_rate", True, "learning_rate must be a positive number, got True"),
    ("loss", "hinge", "loss must be one of mse, cross-entropy, got 'hinge'"),
    ("schedule", "cosine", "schedule must be one of constant, time-based, got 'cosine'"),
    ("seed", -1, "seed must be a non-negative integer, got -1"),
    ("early_stopping", 0, "early_stopping must be None or a positive integer"),
    ("monitor", "val_f1", "monitor must be one of"),
    ("min_delta", -0.1, "min_delta must be a non-negative number, got -0.1"),
    ("dtype", "float16", "dtype must be one of float32, float64, got 'float16'"),
])
def test_invalid_values_are_named(field, value, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        TrainConfig(**{field: value})


def test_time_based_needs_an_integer_rate():
    assert TrainConfig(schedule="time-based", learning_rate=10).make_schedule()(3) == 7.0
    with pytest.raises(ValueError, match="initial_learning_rate must be a positive integer, got 0.5"):
        TrainConfig(schedule="time-based", learning_rate=0.5)


def test_config_is_frozen():
    with pytest.raises(AttributeError):
        TrainConfig().epochs = 5


def test_schedules():
    # eta(t) = max(eta0 - t, 1): 10, 9, ..., 2, 1, 1, ...
    sched = TimeBased(10)
    assert [sched(t) for t in (0, 1, 5, 9, 10, 1000)] == [10, 9, 5, 1, 1, 1]
    assert TimeBased(1)(0) == 1
    assert Constant(0.3)(12345) == 0.3
    assert make_schedule("constant", 0.1)(0) == 0.1
    for bad in (0, -3, 2.5, "10", True):
        with pytest.raises(ValueError, match="positive integer"):
            TimeBased(bad)
    with pytest.raises(ValueError, match="positive number"):
        Constant(-1.0)


def _history(n=3):
    h = History()
    for e in range(1, n + 1):
        h.append(epoch=e, loss=1.0 / e, accuracy=0.5 + e / 10, val_loss=float("nan"),
                 val_accuracy=float("nan"), learning_rate=0.1, seconds=0.25 * e)
    return h


def test_history_keras_like_access_and_exports():
    h = _history()
    assert h["accuracy"] == pytest.approx([0.6, 0.7, 0.8])
    assert h.history["epoch"] == [1, 2, 3] and h.epochs == 3
    assert h.last()["seconds"] == 0.75
    data = json.loads(h.to_json())
    assert data["history"]["val_loss"] == [None, None, None]  # NaN is not JSON
    back = History.from_json(h.to_json())
    assert back["loss"] == h["loss"] and math.isnan(back["val_loss"][0])
    rows = list(csv.reader(io.StringIO(h.to_csv())))
    assert rows[0] == list(FIELDS) and len(rows) == 4
    assert rows[2][FIELDS.index("accuracy")] == "0.7" and rows[2][FIELDS.index("val_loss")] == ""
    with pytest.raises(ValueError, match="lacks"):
        h.append(epoch=4)


def test_from_names_uses_the_callers_names():
    cfg = TrainConfig.from_names({"layer_sizes": "sizes", "seed": "random_state"}, sizes=[4, 2], random_state=3)
    assert cfg.layer_sizes == (4, 2) and cfg.seed == 3
    with pytest.raises(ValueError, match=r"^sizes must be positive integers, got 0 in \(4, 0\)$"):
        TrainConfig.from_names({"layer_sizes": "sizes"}, sizes=[4, 0])
    with pytest.raises(ValueError, match="^epochs must be a positive integer, got -2$"):
        TrainConfig.from_names({"layer_sizes": "sizes"}, sizes=[4, 2], epochs=-2)


def test_for_class_takes_a_config_or_the_arguments_not_both():
    names = {"layer_sizes": "sizes", "seed": "random_state"}

    def init(sizes=(4, 2), random_state=1, momentum=0.0):  # a problem-set signature
        pass

    config = TrainConfig(layer_sizes=(6, 3), momentum=0.5)
    assert TrainConfig.for_class(config, names, dict(sizes=(4, 2), random_state=1, momentum=0), init) is config
    built = TrainConfig.for_class(None, names, dict(sizes=[4, 2], random_state=7, momentum=0.5), init)
    assert built == TrainConfig(layer_sizes=(4, 2), seed=7, momentum=0.5)
    with pytest.raises(ValueError, match="^give either config or random_state, momentum, not both$"):
        TrainConfig.for_class(config, names, dict(sizes=[4, 2], random_state=7, momentum=0.5), init)
    with pytest.raises(ValueError, match="config must be a TrainConfig"):
        TrainConfig.for_class({"layer_sizes": (4, 2)}, names, {}, init)


def test_choices_come_from_the_tables():
    from ffnn import config, functional, schedules

    # The registries themselves, so a record registered at run time is a choice from then on.
    assert config.ACTIVATIONS is functional.ACTIVATIONS and tuple(config.ACTIVATIONS) == ("sigmoid", "tanh", "relu")
    assert config.LOSSES is functional.LOSSES and tuple(config.LOSSES) == ("mse", "cross-entropy")
    assert config.SCHEDULES is schedules.SCHEDULES and tuple(config.SCHEDULES) == ("constant", "time-based")


# --------------------------------------------- TrainConfig.for_class: what counts as kept at its default
#
# TrainConfig.for_class: which arguments count as "kept at their default" when a config is given too.
#
# Written for the mutants of ``_same`` that survived the mutation run of 2026-11-26 on the merged config.py
# (tools/mutation_notes.toml). The rule: sequences compare as tuples, real numbers by value, anything else
# must be of the default's own type and equal to it (so a bool never stands for an int, nor an int for a
# bool).


NAMES = {"layer_sizes": "sizes", "seed": "random_state"}


def init(sizes=(4, 2), random_state=1, loss="mse", early_stopping=None, shuffle=True, min_delta=0.0):
    """A problem-set signature: its defaults are what "kept" means."""


CONFIG = TrainConfig(layer_sizes=(6, 3), loss="cross-entropy", shuffle=False)


def test_arguments_equal_to_their_defaults_are_kept():
    kept = dict(sizes=[4, 2], random_state=1.0, loss="mse", early_stopping=None, shuffle=True, min_delta=0)
    assert TrainConfig.for_class(CONFIG, NAMES, kept, init) is CONFIG
    assert TrainConfig.for_class(CONFIG, NAMES, dict(loss="mse"), init) is CONFIG  # an equal string


@pytest.mark.parametrize("name, value", [
    ("loss", "cross-entropy"),  # a string of the same type, not equal
    ("shuffle", False),
    ("shuffle", 1),             # equal to True in Python, but an int is not the bool default
    ("random_state", True),     # equal to 1 in Python, but a bool is not the int default
    ("sizes", None),            # not a sequence: compared as it is, never as a tuple
    ("early_stopping", [5]),    # a sequence against a default of None
    ("early_stopping", 0),      # a number against a default of None
])
def test_an_argument_that_differs_from_its_default_is_refused_with_a_config(name, value):
    with pytest.raises(ValueError, match=rf"^give either config or {name}, not both$"):
        TrainConfig.for_class(CONFIG, NAMES, {name: value}, init)
