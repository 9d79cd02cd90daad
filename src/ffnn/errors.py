"""The exceptions ffnn raises for bad input, in one place.

Each carries a one-line message for a person: what was wrong and, where it
helps, what to do. The command line (:mod:`ffnn.cli`) is the one place that
turns them into ``ffnn: error: ...`` and an exit status; the web API turns
them into a 4xx answer with a JSON error. Library callers catch them by type:
every one is an :class:`FfnnError` and also the built-in type it refines, so
``except ValueError`` keeps working.
"""
from __future__ import annotations

__all__ = ["FfnnError", "UsageError", "ConfigError", "DatasetError", "RunError", "SearchError",
           "TrainingDiverged", "BackendUnavailable"]


class FfnnError(Exception):
    """Base of ffnn's own errors; the message is one line for a person."""


class UsageError(FfnnError, ValueError):
    """Settings that cannot work (a command's flags that contradict each other, ...)."""


class ConfigError(UsageError):
    """A bad setting of a run; the message starts with the field's name.

    ``field`` is the name of :class:`~ffnn.config.TrainConfig`'s field or of
    :class:`~ffnn.experiment.DataSpec`'s (``n_train``, ``val_size``), so the
    web API can name it as it was sent and the command line can name its flag
    (:meth:`renamed`).
    """

    def __init__(self, field: str, detail: str):
        self.field, self.detail = field, detail
        super().__init__(f"{field} {detail}")

    def renamed(self, names: dict) -> "ConfigError":
        """The same error under the caller's name for the field (``names``: field -> name)."""
        return ConfigError(names.get(self.field, self.field), self.detail)


class DatasetError(FfnnError, ValueError):
    """A dataset file or directory that cannot be used; the message names it."""


class RunError(FfnnError, ValueError):
    """A run directory that cannot be used; the message names it."""


class SearchError(FfnnError, ValueError):
    """A search that cannot start or go on; the message says why in one line."""


class TrainingDiverged(FfnnError, FloatingPointError):
    """The loss or the weights became NaN or infinite."""


class BackendUnavailable(FfnnError, ImportError):
    """The framework a backend needs is not installed."""
