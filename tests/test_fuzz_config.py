"""Fuzzing label and configuration validation (Hypothesis).

Every value either passes and means what the docs say (checked against an oracle written here), or raises
a ValueError whose message starts with the field's name; never another exception.
"""
import math
import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from ffnn import TrainConfig
from ffnn.config import ConfigError
from ffnn.data import one_hot, to_labels

FUZZ = settings(max_examples=150, deadline=None)

ANY = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.integers(), st.integers(10**300, 10**400),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["mse", "cross-entropy", "sigmoid", "tanh", "relu", "constant", "time-based", "val_loss",
                     "accuracy", "float32", "float64", "float16", ""]),
    st.lists(st.integers(-2, 800), max_size=4), st.builds(np.int64, st.integers(-5, 5)),
    st.builds(np.float32, st.floats(-5, 5, width=32)),
)


def _int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _real(v):
    return (_int(v) or isinstance(v, (float, np.floating))) and not isinstance(v, bool)


def _finite_float(v):
    try:
        return math.isfinite(float(v))
    except OverflowError:  # an int beyond float range is no usable rate
        return False


#: field -> the documented rule, written independently of config._RULES
ORACLE = {
    "epochs": lambda v: _int(v) and v > 0,
    "batch_size": lambda v: _int(v) and v > 0,
    "learning_rate": lambda v: _real(v) and _finite_float(v) and v > 0,
    "loss": lambda v: v in ("mse", "cross-entropy"),
    "activation": lambda v: v in ("sigmoid", "tanh", "relu"),
    "momentum": lambda v: _real(v) and _finite_float(v) and 0 <= v < 1,
    "schedule": lambda v: v in ("constant", "time-based"),
    "seed": lambda v: _int(v) and v >= 0,
    "early_stopping": lambda v: v is None or (_int(v) and v > 0),
    "monitor": lambda v: v in ("val_loss", "val_accuracy", "loss", "accuracy"),
    "min_delta": lambda v: _real(v) and _finite_float(v) and v >= 0,
    "shuffle": lambda v: isinstance(v, bool),
    "dtype": lambda v: v in ("float32", "float64"),
}


@FUZZ
@given(st.sampled_from(sorted(ORACLE)), ANY)
@example("schedule", "time-based")
def test_every_field_is_accepted_exactly_when_valid(field, value):
    valid = ORACLE[field](value)
    if field == "schedule" and value == "time-based":
        # valid on its own, but the default learning_rate 1.0 is no integer starting rate
        with pytest.raises(ValueError, match=r"^initial_learning_rate must be a positive integer, got 1\.0$"):
            TrainConfig(schedule=value)
        assert TrainConfig(schedule=value, learning_rate=1).schedule == value
        return
    try:
        cfg = TrainConfig(**{field: value})
    except ConfigError as exc:  # any other exception fails the test
        assert not valid, f"{field}={value!r} refused: {exc}"
        assert str(exc).startswith(field + " must be"), exc
        assert exc.field == field
    else:
        assert valid, f"{field}={value!r} accepted"
        assert getattr(cfg, field) == value or (value != value)


@FUZZ
@given(st.one_of(st.integers(-3, 3), st.floats(allow_nan=True), st.booleans(), st.text(max_size=3),
                 st.lists(st.one_of(st.integers(-3, 1000), st.floats(-2, 5), st.booleans(), st.text(max_size=2)),
                          max_size=5)))
def test_layer_sizes(value):
    ok = (isinstance(value, list) and len(value) >= 2 and all(_int(s) and s > 0 for s in value))
    try:
        cfg = TrainConfig(layer_sizes=value)
    except ConfigError as exc:
        assert not ok and str(exc).startswith("layer_sizes "), exc
    else:
        assert ok and cfg.layer_sizes == tuple(value)


@FUZZ
@given(ANY, st.sampled_from(["constant", "time-based"]))
def test_learning_rate_under_each_schedule(lr, schedule):
    ok = ORACLE["learning_rate"](lr) and (schedule == "constant" or _int(lr))
    try:
        cfg = TrainConfig(learning_rate=lr, schedule=schedule)
    except ValueError as exc:
        assert not ok, f"{lr!r} refused under {schedule}: {exc}"
        assert "learning_rate" in str(exc).split(" ")[0], exc
    else:
        assert ok, f"learning_rate={lr!r} accepted under {schedule}"
        assert cfg.make_schedule()(0) == float(lr)


@FUZZ
@given(st.dictionaries(st.sampled_from(sorted(ORACLE) + ["layer_sizes", "lr", "hidden", ""]), ANY, max_size=4))
def test_from_dict_never_raises_anything_but_value_error(data):
    try:
        TrainConfig.from_dict(data)
    except ValueError as exc:
        first = str(exc).split(" ")[0]
        assert first in {*ORACLE, "layer_sizes", "unknown", "initial_learning_rate"}, exc


# ------------------------------------------------------------------------------- labels

LABEL_ARRAYS = hnp.arrays(
    dtype=st.sampled_from([np.int8, np.int64, np.uint8, np.uint64, np.float32, np.float64, np.bool_]),
    shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5),
)


@FUZZ
@given(LABEL_ARRAYS)
def test_to_labels_returns_true_labels_or_refuses(y):
    try:
        out = to_labels(y)
    except ValueError as exc:
        assert str(exc).startswith(("labels", "2-D labels")), exc
        return
    assert out.dtype == np.int64 and out.ndim == 1 and (out >= 0).all()
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot rows: exactly one 1 each, and it is the label
        assert ((y == 0) | (y == 1)).all() and (y.sum(axis=1) == 1).all()
        np.testing.assert_array_equal(one_hot(out, y.shape[1], dtype=y.dtype), y)
    else:  # integer labels (n,) or (n, 1): the same numbers
        np.testing.assert_array_equal(out.astype(np.float64), y.reshape(len(out)).astype(np.float64))
        assert (out.astype(y.dtype) == y.reshape(len(out))).all()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_to_labels_refuses_nan_and_inf_by_name_without_a_warning(bad):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # np.mod(inf, 1) would warn "invalid value encountered"
        with pytest.raises(ValueError, match=f"labels must be finite numbers, got {bad}"):
            to_labels(np.array([1.0, bad, 2.0]))
        with pytest.raises(ValueError, match="finite"):
            to_labels(np.array([[bad], [1.0]]))


@pytest.mark.parametrize("rows", [
    [[1, 1, 0], [0, 0, 1]],   # multi-hot
    [[0, 0, 0], [0, 1, 0]],   # all zero
    [[1, 0, 0], [0, 2, 0]],   # a 2
    [[1.0, 0.0], [0.5, 0.5]],  # soft labels
])
def test_to_labels_refuses_rows_that_are_not_one_hot(rows):
    with pytest.raises(ValueError, match="one-hot rows"):
        to_labels(np.array(rows))


@pytest.mark.parametrize("y, message", [
    (np.array([2**63], dtype=np.uint64), "fit in int64"),
    (np.array([1e30]), "fit in int64"),
    (np.array(["1", "2"]), "must be numbers"),
    (np.array([1, None], dtype=object), "must be numbers"),
    (np.array([np.nan]), "finite numbers, got nan"),
    (np.array([-1]), "non-negative"),
])
def test_to_labels_refuses_what_does_not_fit(y, message):
    with pytest.raises(ValueError, match=message):
        to_labels(y)


def test_the_smallest_layers_are_accepted():
    # one input, one hidden unit, one class: every size is positive, so the config is valid
    assert TrainConfig(layer_sizes=(1, 1, 1)).layer_sizes == (1, 1, 1)
    assert TrainConfig(layer_sizes=[np.int64(1), 2]).layer_sizes == (1, 2)
