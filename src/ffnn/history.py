"""The per-epoch record every backend returns from training."""
from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["History", "FIELDS"]

#: Per-epoch columns, in the order they are exported.
FIELDS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds")


def _clean(value):
    # JSON has no NaN; a missing validation set is recorded as null.
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


@dataclass
class History(Mapping):
    """Per-epoch training record: a read-only mapping of the per-epoch lists.

    ``history.history`` is a dict of per-epoch lists keyed by :data:`FIELDS`
    (``accuracy``, ``val_accuracy``, ... as in Keras), ``seconds`` is the time
    spent in the epoch's training steps (not evaluation) and
    ``learning_rate`` the rate of the epoch's first step. Accuracies are
    fractions in [0, 1], measured on the whole set after the epoch.

    The History itself reads like that dict, as course code written for
    Keras's ``History.history`` expects: ``history["accuracy"]``,
    ``"val_accuracy" in history``, ``for key in history``, ``keys()``,
    ``items()``, ``dict(history)``; ``len(history)`` counts the keys, as
    ``len(history.history)`` does. The number of finished epochs is
    :attr:`epochs`. There is no item assignment; :meth:`append` adds an epoch.

    Attributes
    ----------
    stopped_epoch : int or None
        Epoch at which early stopping ended training.
    best_epoch : int or None
        Epoch whose weights were restored by early stopping.
    interrupted : bool
        Training was stopped by Ctrl-C; the record holds the finished epochs.
    dynamics : dict
        Per-epoch lists of the probe-set statistics of :mod:`ffnn.dynamics`
        (``weight_norm_1``, ``grad_norm_1``, ``saturation_1``, ``predicted_0``, ...);
        empty when training had no probe set. Exported after :data:`FIELDS`.
    diagnosis : list of dict
        What :mod:`ffnn.diagnosis` found during training: ``{"code", "epoch", "message"}``.
    lr_range_test : dict or None
        The learning-rate range test (:mod:`ffnn.lrfind`) run when a diagnosis first wanted to advise a
        rate: ``{"recommended": [low, high], "suggested", "epoch", "seconds", ...}``; None if none ran.
    """

    history: dict = field(default_factory=lambda: {k: [] for k in FIELDS})
    stopped_epoch: int | None = None
    best_epoch: int | None = None
    interrupted: bool = False
    dynamics: dict = field(default_factory=dict)
    diagnosis: list = field(default_factory=list)
    lr_range_test: dict | None = None

    def append(self, **record) -> None:
        missing = set(FIELDS) - set(record)
        if missing:
            raise ValueError(f"history record lacks {sorted(missing)}")
        for key in FIELDS:
            self.history[key].append(record[key])

    def append_dynamics(self, stats: dict) -> None:
        """Add one epoch's probe statistics (call after :meth:`append`; the columns must not change)."""
        if self.dynamics and set(stats) != set(self.dynamics):
            raise ValueError(f"dynamics columns changed: {sorted(set(stats) ^ set(self.dynamics))}")
        for key, value in stats.items():
            self.dynamics.setdefault(key, []).append(value)

    def _dynamics_columns(self) -> list:
        # Only columns with a value for every epoch go into the table.
        return [k for k, v in self.dynamics.items() if len(v) == len(self.history["epoch"])]

    def __getitem__(self, key):
        return self.history[key]

    def __iter__(self):
        return iter(self.history)

    def __len__(self) -> int:
        return len(self.history)

    @property
    def epochs(self) -> int:
        """Number of finished epochs."""
        return len(self.history["epoch"])

    def last(self) -> dict:
        """The last epoch's record as a dict (empty if no epoch finished)."""
        return {k: v[-1] for k, v in self.history.items()} if self.epochs else {}

    def to_dict(self) -> dict:
        return {
            "history": {k: [_clean(v) for v in vals] for k, vals in self.history.items()},
            "stopped_epoch": self.stopped_epoch,
            "best_epoch": self.best_epoch,
            "interrupted": self.interrupted,
            "dynamics": {k: [_clean(v) for v in vals] for k, vals in self.dynamics.items()},
            "diagnosis": [dict(d) for d in self.diagnosis],
            "lr_range_test": self.lr_range_test,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "History":
        hist = {k: [float("nan") if v is None else v for v in data["history"].get(k, [])] for k in FIELDS}
        dyn = {k: [float("nan") if v is None else v for v in vals] for k, vals in data.get("dynamics", {}).items()}
        return cls(hist, data.get("stopped_epoch"), data.get("best_epoch"), data.get("interrupted", False),
                   dyn, list(data.get("diagnosis", [])), data.get("lr_range_test"))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "History":
        return cls.from_dict(json.loads(text))

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        extra = self._dynamics_columns()
        writer.writerow(FIELDS + tuple(extra))
        for i in range(self.epochs):
            row = [self.history[k][i] for k in FIELDS] + [self.dynamics[k][i] for k in extra]
            writer.writerow(["" if _clean(v) is None else v for v in row])
        return out.getvalue()
