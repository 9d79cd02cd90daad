"""The child process that trains one job of the page: ``python -m ffnn.web.worker FD``.

The server (:mod:`ffnn.web.jobs`) starts it in a session of its own, writes
the job as one JSON object on its standard input and reads its events, one
JSON object a line, from the pipe ``FD``::

    {"type": "ready"}                        the SIGINT handler is in place
    {"type": "start", "data": {...}}         the split is loaded, the model built
    {"type": "progress", "data": {...}}      every few batches
    {"type": "epoch", "data": {...}}         after every epoch, with the weights picture and dynamics
    {"type": "diagnosis", "data": {...}}     each diagnosis, the epoch it first fires
    {"type": "saved", "data": {...}}         the run directory is complete and in place
    {"type": "error", "data": {"message", "field"}}

Training goes through :func:`ffnn.experiment.train_run`, exactly as ``ffnn
train`` does, into a hidden directory ``.<name>.partial`` beside the final
one, renamed when every file is written: a run directory under the runs
folder is always complete.

SIGINT acts as Ctrl-C in a terminal, and only where Ctrl-C would stop
training: it sets a flag that the next batch turns into the
KeyboardInterrupt the training loop catches (keeping the finished epochs,
restoring early stopping's best weights), so the run is then saved as
usual. A signal that comes while the data load or the run is being written
waits for the next batch or is not needed. A server that goes away (the
pipe breaks) stops the job the same way.
"""
from __future__ import annotations

import base64
import io
import json
import math
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["UPDATES_PER_EPOCH", "MIN_SCORED", "main", "weights_png"]

#: Progress events per epoch: one every ``batches // UPDATES_PER_EPOCH`` batches (at least every batch).
UPDATES_PER_EPOCH = 10
#: A progress event scores the network on the latest batch, or on the latest this many samples if more.
#: Scoring is a forward pass, about a third of a training step's work, so with an update every K batches of
#: b samples it costs about max(b, 32) / (3 K b) of the training time: 7% on 1,800 images in batches of 32
#: (K = 5), under 0.3% on MNIST's 54,000 (K = 168).
MIN_SCORED = 32


class _Events:
    """Writes events to the server's pipe. ``stop``: SIGINT came, or the pipe broke (the server is gone)."""

    def __init__(self, fd: int):
        self.out = os.fdopen(fd, "w", encoding="utf-8", buffering=1)
        self.stop = False

    def __call__(self, kind: str, data: dict | None = None) -> None:
        line = json.dumps({"type": kind, "data": {**(data or {}), "time": time.time()}}, allow_nan=False)
        try:
            self.out.write(line + "\n")
        except (BrokenPipeError, OSError):
            self.stop = True


def _finite(value):
    return value if isinstance(value, (int, float)) and math.isfinite(value) else None


def weights_png(W, max_units: int = 64) -> str:
    """The first layer's incoming weights (``W`` of shape (784, units)) as tiles: a PNG data URL.

    Red positive, blue negative, white 0, on one symmetric scale; grey between the tiles.
    """
    from PIL import Image

    from ..plots import weight_tiles

    mosaic, _ = weight_tiles(W, max_units=max_units)
    finite = np.isfinite(mosaic)
    scale = float(np.abs(mosaic[finite]).max()) if finite.any() else 1.0
    t = np.clip(np.abs(np.where(finite, mosaic, 0.0)) / (scale or 1.0), 0, 1)
    fade = np.round(255 * (1 - t)).astype(np.uint8)
    full = np.full_like(fade, 255)
    positive = np.where(finite, mosaic, 0.0) >= 0
    rgb = np.stack([np.where(positive, full, fade), fade, np.where(positive, fade, full)], axis=-1)
    rgb[~finite] = 200
    buf = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


class _Watch:
    """What the page sees of a run: the batch hook around ``model.train_epoch`` and the epoch callback."""

    def __init__(self, emit: _Events, model, split, config):
        self.emit, self.model, self.config = emit, model, config
        self.x, self.y = split.x, split.y
        self.epoch = 0
        self.reported = 0  # diagnoses already sent

    def watch_batches(self) -> None:
        """Wrap the model's ``train_epoch`` (the :class:`ffnn.training.Trainable` step) with the batch hook."""
        train_epoch = self.model.train_epoch

        def watched(data, order, batch_size, schedule, step, on_batch):
            self.epoch += 1
            return train_epoch(data, order, batch_size, schedule, step, self._hook(order, batch_size, on_batch))

        self.model.train_epoch = watched

    def _hook(self, order, batch_size: int, on_batch):
        batches = math.ceil(len(order) / batch_size)
        every = max(1, batches // UPDATES_PER_EPOCH)
        done = count = 0

        def hook(n: int) -> None:
            nonlocal done, count
            on_batch(n)
            done += n
            count += 1
            if self.emit.stop:  # SIGINT came, or the server is gone
                raise KeyboardInterrupt  # where Ctrl-C would land: the loop keeps the finished epochs
            if count % every == 0:
                loss, accuracy = self._score(order[max(0, done - max(n, MIN_SCORED)):done])
                self.emit("progress", {"epoch": self.epoch, "batch": count, "batches": batches,
                                       "samples": done, "loss": loss, "accuracy": accuracy})

        return hook

    def _score(self, idx) -> tuple:
        """Loss and accuracy of the current weights on the samples ``idx`` it trained on last."""
        from .. import functional as F

        weights = self.model.export_weights()
        x = self.x[idx].astype(weights[0][0].dtype, copy=False)
        labels = self.y[idx]
        with np.errstate(all="ignore"):
            p = F.forward(weights, x, self.config.activation)[-1]
            y = np.zeros_like(p)
            y[np.arange(len(idx)), labels] = 1
            loss = float(F.get_loss(self.config.loss).loss(p, y))
        return _finite(loss), float(np.mean(p.argmax(axis=1) == labels))

    def epoch_end(self, history) -> None:
        """After each epoch: its record, the latest dynamics per layer, the weights, the new diagnoses."""
        from ..diagnosis import format_line
        from ..dynamics import series

        record = {k: _finite(v[-1]) for k, v in history.history.items()}
        dynamics = {name: [_finite(values[-1]) for values in series(history.dynamics, name) if values]
                    for name in ("weight_norm", "grad_norm", "saturation")}
        picture = None
        try:
            picture = weights_png(self.model.export_weights()[0][0])
        except ValueError:
            pass  # not a square number of inputs: no tiles
        self.emit("epoch", {**record, "epochs": self.config.epochs, "dynamics": dynamics, "weights": picture})
        for finding in history.diagnosis[self.reported:]:
            self.emit("diagnosis", {**finding, "line": format_line(finding)})
        self.reported = len(history.diagnosis)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def run(job: dict, emit: _Events) -> int:
    """Train ``job`` (see :func:`ffnn.web.jobs.TrainRequest.to_job`) and report it through ``emit``."""
    import shutil

    from ..backends import build
    from ..config import TrainConfig
    from ..errors import FfnnError
    from ..experiment import DataSpec, check_backends, load_split, train_run
    from ..runs import default_run_dir

    def on_sigint(signum, frame):
        emit.stop = True

    signal.signal(signal.SIGINT, on_sigint)
    emit("ready")
    runs_dir = Path(job["runs_dir"])
    backend = job["backend"]
    partial = None
    try:
        config = TrainConfig.from_dict(job["config"])
        check_backends([backend], config.loss)
        split = load_split(DataSpec.from_dict(job["spec"]))
        model = build(backend, config, job.get("device", "auto"))
        watch = _Watch(emit, model, split, config)
        watch.watch_batches()
        runs_dir.mkdir(parents=True, exist_ok=True)
        name = default_run_dir(backend, runs_dir).name
        partial = runs_dir / f".{name}.partial"
        emit("partial", {"path": str(partial)})
        emit("start", {"backend": backend, "layer_sizes": list(config.layer_sizes), "epochs": config.epochs,
                       "n_train": split.info["n_train"], "n_val": split.info["n_val"],
                       "batches": math.ceil(split.info["n_train"] / config.batch_size)})
        result = train_run(backend, model, split, job.get("device", "auto"), partial, verbose=0,
                           on_epoch_end=watch.epoch_end)
        final = default_run_dir(backend, runs_dir)  # the name the run gets once complete
        os.rename(partial, final)
        partial = None
        emit("saved", {"run_dir": str(final),
                       **{k: _finite(result[k]) for k in ("test_accuracy", "train_accuracy", "val_accuracy",
                                                          "seconds_per_epoch", "best_epoch", "stopped_epoch")},
                       "epochs": result["epochs"], "interrupted": bool(result["interrupted"])})
        return 0
    except (FfnnError, ValueError, OSError, FloatingPointError, ImportError) as exc:
        emit("error", {"message": _one_line(exc), "field": getattr(exc, "field", None)})
        return 1
    except Exception as exc:  # noqa: BLE001 -- anything else still ends the job with a message
        emit("error", {"message": f"{type(exc).__name__}: {_one_line(exc)}", "field": None})
        raise
    finally:
        if partial is not None:
            shutil.rmtree(partial, ignore_errors=True)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    emit = _Events(int(argv[0]))
    job = json.loads(sys.stdin.read())
    return run(job, emit)


if __name__ == "__main__":
    sys.exit(main())
