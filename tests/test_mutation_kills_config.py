"""TrainConfig.for_class: which arguments count as "kept at their default" when a config is given too.

Written for the mutants of ``_same`` that survived the mutation run of 2026-11-26 on the merged config.py
(tools/mutation_notes.toml). The rule: sequences compare as tuples, real numbers by value, anything else
must be of the default's own type and equal to it (so a bool never stands for an int, nor an int for a bool).
"""
import pytest

from ffnn.config import TrainConfig

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
