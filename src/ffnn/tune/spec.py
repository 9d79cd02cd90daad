"""What a search is, as data: :class:`TuneSpec`, a study's identity and ``best.json``.

A study and ``best.json`` record the model and the data, never the command
line: a :class:`~ffnn.config.TrainConfig` (by its field names), a
:class:`~ffnn.experiment.DataSpec`, the search :class:`Space`
and the backend, under a ``format`` number. Renaming a flag changes none of
them, and a field that a later ffnn adds to ``TrainConfig`` is compared at
its default with a study recorded before it existed, so the study resumes.

Formats: 1 was ffnn 0.1's first layout, keyed on the flags of ``ffnn tune``
(a study's ``settings`` attribute; ``best.json``'s ``train_flags``); both are
still read. 2 is :data:`FORMAT`.
"""
from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path

from ..config import TrainConfig
from ..errors import ConfigError, RunError, SearchError
from ..experiment import DataSpec

__all__ = ["FORMAT", "Space", "TuneSpec", "identity", "difference", "identity_from_v1", "best_record", "read_best"]

FORMAT = 2

#: Learning-rate range searched (log scale) for each loss; a loss not named here gets cross-entropy's.
LR_RANGES = {"cross-entropy": (0.01, 10.0), "mse": (0.1, 100.0)}
#: Starting rates searched (integers, log scale) with a schedule that needs an integer rate
#: (``integer_rate`` in its record: time-based, which drops by 1 per step).
INTEGER_LR_RANGE = (1, 20)
#: Batch sizes searched.
BATCH_SIZES = (8, 16, 32, 64, 128)
DEFAULT_STUDY = "ffnn"
STORAGE_FILE = "study.db"

#: Format 1's flag names (``ffnn tune``/``ffnn train``) -> TrainConfig's field; ``hidden`` is the middle of
#: ``layer_sizes``.
V1_CONFIG = {"hidden": "layer_sizes", "epochs": "epochs", "batch_size": "batch_size", "lr": "learning_rate",
             "loss": "loss", "activation": "activation", "momentum": "momentum", "schedule": "schedule",
             "seed": "seed", "early_stopping": "early_stopping"}
#: Format 1's flag names -> DataSpec's field.
V1_DATA = {"dataset": "dataset", "data_dir": "data_dir", "n_train": "n_train", "val_size": "val_size", "seed": "seed"}


def _plain(value):
    """``value`` as JSON gives it back (tuples become lists)."""
    return json.loads(json.dumps(value))


@dataclass(frozen=True)
class Space:
    """What the search varies: learning rate (log scale) and batch size, or fixed values."""

    lr_range: tuple
    batch_sizes: tuple
    integer_lr: bool = False
    fixed_lr: float | None = None
    fixed_batch_size: int | None = None

    @classmethod
    def make(cls, loss: str, schedule: str, lr_range=None, batch_sizes=None, lr=None, batch_size=None) -> "Space":
        """The space for ``loss`` and ``schedule``: ``lr_range`` and ``batch_sizes`` searched (``None``: the
        defaults, :data:`LR_RANGES` by loss and :data:`BATCH_SIZES`), unless ``lr`` or ``batch_size`` fix one."""
        from ..schedules import get_schedule

        integer_lr = get_schedule(schedule).integer_rate
        low, high = lr_range or (INTEGER_LR_RANGE if integer_lr else LR_RANGES.get(loss, LR_RANGES["cross-entropy"]))
        if integer_lr and not (float(low).is_integer() and float(high).is_integer()):
            raise ConfigError("lr_range", f"must be integers with the {schedule} schedule, got {low},{high}")
        return cls(lr_range=(low, high), batch_sizes=tuple(batch_sizes or BATCH_SIZES),
                   integer_lr=integer_lr, fixed_lr=lr, fixed_batch_size=batch_size)

    @classmethod
    def from_dict(cls, d: dict) -> "Space":
        return cls(**{**d, "lr_range": tuple(d["lr_range"]), "batch_sizes": tuple(d["batch_sizes"])})

    def start(self) -> tuple:
        """A (learning rate, batch size) to build the study's TrainConfig with: the fixed values, or the
        smallest rate and the first batch size searched (each trial replaces what is searched)."""
        lr = self.fixed_lr if self.fixed_lr is not None else self.lr_range[0]
        return lr, self.fixed_batch_size if self.fixed_batch_size is not None else self.batch_sizes[0]

    def suggest(self, trial) -> tuple:
        """The trial's (learning rate, batch size)."""
        if self.fixed_lr is not None:
            lr = self.fixed_lr
        elif self.integer_lr:
            lr = trial.suggest_int("learning_rate", int(self.lr_range[0]), int(self.lr_range[1]), log=True)
        else:
            lr = trial.suggest_float("learning_rate", *self.lr_range, log=True)
        if self.fixed_batch_size is not None:
            batch = self.fixed_batch_size
        else:
            batch = trial.suggest_categorical("batch_size", list(self.batch_sizes))
        return lr, batch

    def to_dict(self) -> dict:
        return _plain(asdict(self))


@dataclass(frozen=True)
class TuneSpec:
    """One ``ffnn tune`` run: what every trial trains, what is searched, where the study lives.

    Parameters
    ----------
    backend : str
        A name of :data:`ffnn.backends.BACKENDS`.
    config : TrainConfig
        The settings every trial shares; its ``learning_rate`` and
        ``batch_size`` are replaced per trial unless ``space`` fixes them.
    data : DataSpec
        The images; the search selects on its validation split.
    space : Space
        The learning rates and batch sizes searched.
    out : str
        Directory of ``study.db`` (unless ``storage``), ``trials.csv``,
        ``tune.png``, ``best.json`` and ``best/``.
    study : str
        The study's name in the storage.
    storage : str or None
        An Optuna RDB storage URL; ``None`` for ``sqlite:///OUT/study.db``.
    trials, jobs : int
        Trials to add, and the worker processes that share them.
    device : str
        Where torch and tensorflow compute (not part of the study's identity).
    """

    backend: str
    config: TrainConfig
    data: DataSpec
    space: Space
    out: str
    study: str = DEFAULT_STUDY
    storage: str | None = None
    trials: int = 20
    jobs: int = 1
    device: str = "auto"

    def storage_url(self) -> str:
        """``storage``, or the SQLite file ``study.db`` in ``out``."""
        return self.storage or f"sqlite:///{Path(self.out).resolve() / STORAGE_FILE}"

    def trial_config(self, learning_rate, batch_size) -> TrainConfig:
        """The TrainConfig of the trial with this rate and batch size (what ``space`` fixes stays as it is)."""
        changes = {}
        if self.space.fixed_lr is None:
            changes["learning_rate"] = learning_rate
        if self.space.fixed_batch_size is None:
            changes["batch_size"] = batch_size
        return self.config.replace(**changes) if changes else self.config

    def to_dict(self) -> dict:
        """Plain JSON values, for a worker process (:meth:`from_dict` rebuilds the spec)."""
        return _plain({"backend": self.backend, "config": self.config.to_dict(), "data": self.data.to_dict(),
                       "space": self.space.to_dict(), "out": str(self.out), "study": self.study,
                       "storage": self.storage, "trials": self.trials, "jobs": self.jobs, "device": self.device})

    @classmethod
    def from_dict(cls, d: dict) -> "TuneSpec":
        return cls(**{**d, "config": TrainConfig.from_dict(d["config"]), "data": DataSpec.from_dict(d["data"]),
                      "space": Space.from_dict(d["space"])})


#: TrainConfig's fields that the search space holds (searched, or fixed as ``fixed_lr``/``fixed_batch_size``).
SEARCHED = ("learning_rate", "batch_size")


def identity(spec: TuneSpec) -> dict:
    """What every trial of a study shares: the backend, the TrainConfig but for the learning rate and the
    batch size (the space records them, searched or fixed), the DataSpec and the space."""
    config = {k: v for k, v in spec.config.to_dict().items() if k not in SEARCHED}
    return _plain({"format": FORMAT, "backend": spec.backend, "config": config, "data": spec.data.to_dict(),
                   "space": spec.space.to_dict()})


def identity_from_v1(settings: dict, current: dict) -> dict:
    """The identity of a study recorded in format 1 (``settings``: its flags), for comparison with ``current``.

    Format 1 recorded no input and output sizes (they follow from the data,
    which it did record): ``current``'s are used. A flag this version cannot
    map is a :class:`SearchError` naming it.
    """
    config, data, result = {}, {}, {"format": FORMAT}
    for key, value in settings.items():
        if key == "backend":
            result["backend"] = value
        elif key == "search_space":
            result["space"] = value
        elif key in V1_CONFIG or key in V1_DATA:
            if key in V1_CONFIG and V1_CONFIG[key] not in SEARCHED:
                config[V1_CONFIG[key]] = value
            if key in V1_DATA:
                data[V1_DATA[key]] = value
        else:
            raise SearchError(f"records the setting {key!r}, which this version of ffnn does not know; use "
                              f"another --study or --out")
    if "layer_sizes" in config:
        sizes = current["config"]["layer_sizes"]
        config["layer_sizes"] = [sizes[0], *config["layer_sizes"], sizes[-1]]
    return _plain({**result, "config": config, "data": data})


def _flat(ident: dict, defaults: dict) -> dict:
    """``{(part, field): value}`` of an identity; missing fields at their ``defaults`` (added since it was written)."""
    flat = {("", "backend"): ident.get("backend")}
    for part in ("config", "data", "space"):
        values = dict(ident.get(part) or {})
        for k, v in defaults[part].items():
            values.setdefault(k, v)
        flat.update({(part, k): v for k, v in values.items()})
    return flat


def _defaults(current: dict) -> dict:
    """The default of each field of ``current``: a field missing from an older record had its default then."""
    def of(cls, names):
        return {f.name: _plain(f.default) for f in fields(cls) if f.name in names and f.default is not MISSING}

    return {"config": of(TrainConfig, current["config"]), "data": of(DataSpec, current["data"]),
            "space": of(Space, current["space"])}


def difference(recorded: dict, current: dict):
    """The first field where the ``recorded`` identity and the ``current`` one differ, as
    ``(field, recorded value, current value)`` (``"<unset>"`` where one has no such field); ``None`` if they
    match. A record of a newer format is a :class:`SearchError`."""
    fmt = recorded.get("format")
    if not isinstance(fmt, int) or fmt > FORMAT:
        raise SearchError(f"was written with format {fmt!r}, which this version of ffnn (format {FORMAT}) "
                          f"cannot read; use another --study or --out, or a newer ffnn")
    defaults = _defaults(current)
    old, new = _flat(recorded, defaults), _flat(current, defaults)
    for key in [*new, *(k for k in old if k not in new)]:
        if old.get(key, "<unset>") != new.get(key, "<unset>"):
            return key[1], old.get(key, "<unset>"), new.get(key, "<unset>")
    return None


def best_record(spec: TuneSpec, config: TrainConfig) -> dict:
    """The settings part of ``best.json`` for the best trial's ``config``."""
    return _plain({"format": FORMAT, "backend": spec.backend, "config": config.to_dict(),
                   "data": spec.data.to_dict()})


def read_best(path) -> dict:
    """``{"backend", "config": TrainConfig, "data": DataSpec}`` of a ``best.json`` (format 1 or 2).

    A file that is not one, or a field that cannot be read, is a
    :class:`~ffnn.errors.RunError` of one line naming the file and the field.
    """
    from ..runs import read_json

    record = read_json(path)
    fmt = record.get("format", 1)
    if fmt == 1:
        flags = record.get("train_flags")
        if not isinstance(flags, dict):
            raise RunError(f"{path}: holds neither format nor train_flags (write it with ffnn tune)")
        for key in flags:
            if key != "backend" and key not in V1_CONFIG and key not in V1_DATA:
                raise RunError(f"{path}: unknown training flag {key!r} in train_flags")
        record = {"backend": flags.get("backend", record.get("backend")), "config": record.get("config"),
                  "data": {field: flags[key] for key, field in V1_DATA.items() if key in flags}}
    elif fmt != FORMAT:
        raise RunError(f"{path}: format {fmt!r} is not one this version of ffnn reads (1 or {FORMAT})")
    for key in ("backend", "config", "data"):
        if not isinstance(record.get(key), str if key == "backend" else dict):
            raise RunError(f"{path}: {key} is missing or not valid")
    try:
        config = TrainConfig.from_dict(record["config"])
        data = DataSpec.from_dict(record["data"])
    except ConfigError as exc:
        raise RunError(f"{path}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise RunError(f"{path}: config {' '.join(str(exc).split())}") from None
    return {"backend": record["backend"], "config": config, "data": data}
