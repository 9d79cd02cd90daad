"""History reads like Keras's ``History.history``: a read-only mapping of the per-epoch lists."""
import json
from collections.abc import Mapping

import pytest

from ffnn.history import FIELDS, History


def _history(n=2):
    h = History()
    for e in range(1, n + 1):
        h.append(epoch=e, loss=1.0 / e, accuracy=0.5 + e / 10, val_loss=2.0 / e, val_accuracy=0.4 + e / 10,
                 learning_rate=0.1, seconds=0.5)
    return h


def test_history_is_a_mapping_like_keras_history_dict():
    h = _history()
    # The oracle: the plain dict Keras would hand out, built from the same lists.
    keras_like = {k: list(v) for k, v in h.history.items()}
    assert isinstance(h, Mapping)
    assert "val_accuracy" in h and "accuracy" in h and "precision" not in h and 0 not in h
    assert list(h) == list(keras_like) == list(FIELDS)
    assert list(h.keys()) == list(keras_like.keys())
    assert dict(h.items()) == keras_like and dict(h) == keras_like
    assert len(h) == len(keras_like) == 7
    assert h.get("val_loss") == [2.0, 1.0] and h.get("missing") is None
    assert [k for k in h if k.startswith("val_")] == ["val_loss", "val_accuracy"]


def test_history_is_read_only_and_keeps_its_attributes():
    h = _history(3)
    with pytest.raises(TypeError):
        h["accuracy"] = [1.0]
    with pytest.raises(TypeError):
        del h["accuracy"]
    with pytest.raises(KeyError):
        h["nope"]
    assert h.epochs == 3 and h.last()["epoch"] == 3
    h.best_epoch, h.stopped_epoch, h.interrupted = 2, 3, True
    back = History.from_json(h.to_json())
    assert (back.best_epoch, back.stopped_epoch, back.interrupted) == (2, 3, True)
    assert dict(back) == dict(h) and back == h
    assert json.loads(h.to_json())["history"]["accuracy"] == pytest.approx([0.6, 0.7, 0.8])
    assert h.to_csv().splitlines()[0] == ",".join(FIELDS) and len(h.to_csv().splitlines()) == 4


def test_empty_history_has_keys_but_no_epochs():
    h = History()
    assert h.epochs == 0 and h.last() == {}
    assert len(h) == len(FIELDS) and all(h[k] == [] for k in h)
