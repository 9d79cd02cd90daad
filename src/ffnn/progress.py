"""Progress of training: a bar per epoch in a terminal, a line per epoch elsewhere.

The line is the problem set's format::

    Epoch: 3, Training Time: 1.52s, Training Accuracy: 91.20%, Validation Accuracy: 90.10%
"""
from __future__ import annotations

import sys

from .format import pct

__all__ = ["Progress", "epoch_line"]


def epoch_line(record: dict) -> str:
    """The problem set's one-line summary of an epoch ``record``."""
    parts = [
        f"Epoch: {record['epoch']}",
        f"Training Time: {record['seconds']:.2f}s",
        f"Training Accuracy: {pct(record['accuracy'])}",
    ]
    val = record.get("val_accuracy")
    if val is not None and val == val:
        parts.append(f"Validation Accuracy: {pct(val)}")
    return ", ".join(parts)


def _bar_summary(record: dict) -> str:
    """The end-of-epoch summary short enough to sit beside a bar: accuracies, and loss."""
    text = f"loss {record['loss']:.4f}, acc {pct(record['accuracy'])}"
    val = record.get("val_accuracy")
    if val is not None and val == val:
        text += f", val acc {pct(val)}"
    return text


def _noop(n: int) -> None:
    pass


class Progress:
    """Reports epochs as they run.

    Parameters
    ----------
    epochs : int
        Planned number of epochs (shown in the bar).
    verbose : int, default 1
        0: silent; 1: a bar per epoch when ``stream`` is a terminal, else one
        line per epoch; 2: one line per epoch always.
    stream : file, default sys.stdout
    label : str, optional
        Prefix for the bar (e.g. the backend's name).
    """

    def __init__(self, epochs: int, verbose: int = 1, stream=None, label: str = ""):
        self.epochs = epochs
        self.verbose = verbose
        self.stream = stream if stream is not None else sys.stdout
        self.label = label
        isatty = getattr(self.stream, "isatty", lambda: False)
        self.bar_mode = verbose == 1 and bool(isatty())
        self._bar = None

    def start_epoch(self, epoch: int, n_samples: int):
        """Begin an epoch; return the per-batch callback ``update(n_samples_done)``."""
        if not self.bar_mode:
            return _noop
        from tqdm import tqdm

        prefix = f"{self.label} " if self.label else ""
        self._bar = tqdm(total=n_samples, desc=f"{prefix}epoch {epoch}/{self.epochs}",
                         unit="img", unit_scale=True, file=self.stream, leave=True,
                         dynamic_ncols=True, mininterval=0.2)
        return self._bar.update

    def end_epoch(self, record: dict) -> None:
        """Finish the epoch with its history ``record``."""
        if self.verbose == 0:
            return
        if self._bar is not None:
            self._bar.set_postfix_str(_bar_summary(record), refresh=False)
            self._bar.close()
            self._bar = None
        else:
            print(epoch_line(record), file=self.stream, flush=True)

    def note(self, text: str) -> None:
        """Print a line of its own between epochs (a diagnosis), unless silent."""
        if self.verbose:
            self.close()
            print(text, file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
