"""The training loop all three backends share: epochs, evaluation, history,
progress, early stopping, divergence checks, per-epoch dynamics and diagnoses, and Ctrl-C.

A backend supplies the arithmetic through a small protocol (:class:`Trainable`);
this module decides everything else, so the backends cannot drift apart on
what an epoch, a history record or early stopping means.
"""
from __future__ import annotations

import math
import time
from typing import Callable, Protocol

import numpy as np

from . import diagnosis, dynamics
from .config import TrainConfig
from .data import prepare_images, to_labels
from .errors import TrainingDiverged
from .history import History
from .progress import Progress

__all__ = ["Trainable", "EarlyStopping", "TrainingDiverged", "fit_arrays", "fit_loop", "check_xy", "LR_SAMPLE"]

LR_SAMPLE = 1200  # training images the learning-rate range test draws on (ffnn.lrfind.SAMPLE; 200 held for its loss)


class Trainable(Protocol):
    """What a backend implements so that :func:`fit_arrays` can train it.

    ``x`` is float32 (n, n_inputs), ``y`` int64 labels (n,); ``prepare_data``
    turns them into whatever the backend computes on (called once per set).
    The method names avoid those of ``nn.Module`` and ``keras.Model``.
    """

    train_config: TrainConfig

    def prepare_data(self, x: np.ndarray, y: np.ndarray): ...

    def train_epoch(self, data, order: np.ndarray, batch_size: int, schedule, step: int,
                    on_batch: Callable[[int], None]) -> int:
        """Run one epoch of SGD over ``data`` in ``order``; return the new step count."""

    def loss_and_accuracy(self, data) -> tuple[float, float]:
        """Mean loss and accuracy (fraction) on ``data``."""

    def export_weights(self) -> list:
        """Weights as NumPy ``(W, b)`` pairs in the layout of :mod:`ffnn.weights`."""

    def import_weights(self, weights) -> None: ...


class EarlyStopping:
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    The best weights are kept (as copies) so the caller can restore them
    however training ends. Losses improve downwards, accuracies upwards.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0):
        self.monitor = monitor
        self.patience = patience
        self.min_delta = min_delta
        self.sign = -1.0 if "accuracy" in monitor else 1.0  # minimise sign * value
        self.best = math.inf
        self.best_epoch = None
        self.best_weights = None
        self.last_epoch = None  # the last epoch update() was given
        self.wait = 0

    def update(self, epoch: int, record: dict, export_weights: Callable[[], list]) -> bool:
        """Take an epoch's ``record``; return True when training should stop."""
        value = record[self.monitor]
        if value is None or value != value:
            raise ValueError(f"early stopping monitors {self.monitor!r}, which is not available")
        score = self.sign * value
        if score < self.best - self.min_delta:
            weights = [(np.array(W, copy=True), np.array(b, copy=True)) for W, b in export_weights()]
            # One assignment, so that an interrupt never leaves a best epoch with another epoch's weights.
            self.best, self.best_epoch, self.best_weights, self.wait, self.last_epoch = score, epoch, weights, 0, epoch
            return False
        self.last_epoch = epoch
        self.wait += 1
        return self.wait >= self.patience


def check_xy(x, y, n_inputs: int, n_classes: int, name: str = "x"):
    """Prepare and validate a set: (n, n_inputs) float32 images and int64 labels."""
    x = prepare_images(x)
    y = to_labels(y)
    if x.shape[1] != n_inputs:
        raise ValueError(f"{name} has {x.shape[1]} features per sample, the network expects {n_inputs}")
    if len(x) != len(y):
        raise ValueError(f"{name} has {len(x)} samples but its labels have {len(y)}")
    if len(y) == 0:
        raise ValueError(f"{name} is empty")
    if y.max() >= n_classes:
        raise ValueError(f"labels of {name} go up to {y.max()}, the network has {n_classes} classes")
    return x, y


def _finite_weights(weights) -> bool:
    return all(np.isfinite(W).all() and np.isfinite(b).all() for W, b in weights)


def _measure_and_diagnose(history: History, model, config: TrainConfig, probe, progress: Progress,
                          range_test=None) -> None:
    """Record the epoch's probe dynamics, then report each diagnosis that fires for the first time."""
    if probe is not None:
        history.append_dynamics(dynamics.measure(model.export_weights(), *probe, config.activation, config.loss))
    seen = {d["code"] for d in history.diagnosis}
    for finding in diagnosis.check(history, config, seen, range_test):
        history.diagnosis.append(finding)
        progress.note(diagnosis.format_line(finding))


class _RangeTest:
    """The learning-rate range test of a run (:mod:`ffnn.lrfind`), run at most once, when a diagnosis first
    advises a rate: from the run's starting weights on ``sample()``'s images, within a tenth of the run's
    expected time (its epochs so far, times the number of epochs) and :data:`ffnn.lrfind.TIME_LIMIT`.
    None (no test) when the sample has fewer than :data:`ffnn.lrfind.MIN_SAMPLE` images."""

    def __init__(self, history: History, config: TrainConfig, start_weights, sample, n_train):
        self.history, self.config, self.start, self.sample, self.n_train = (history, config, start_weights,
                                                                            sample, n_train)

    def __call__(self):
        from . import lrfind

        if self.history.lr_range_test is None:
            x, y = self.sample()
            if len(x) < lrfind.MIN_SAMPLE:  # too few images to measure on: the advice follows the history
                return None
            seconds = self.history["seconds"]
            expected = sum(seconds) / len(seconds) * self.config.epochs
            steps = self.config.epochs * -(-(self.n_train or len(x)) // self.config.batch_size)
            result = lrfind.range_test(self.config, x, y, self.start, max_steps=max(steps // 10, lrfind.MIN_STEPS),
                                       time_limit=min(lrfind.TIME_LIMIT, max(0.1 * expected, lrfind.MIN_SECONDS)))
            self.history.lr_range_test = {**result.to_dict(), "epoch": int(self.history["epoch"][-1])}
        return self.history.lr_range_test


def fit_loop(model, config: TrainConfig, n_train: int, train_epoch, evaluate, train_set, val_set=None,
             *, verbose: int = 1, label: str = "", on_epoch_end=None, stream=None, probe=None,
             sample=None) -> History:
    """Run ``config.epochs`` epochs and return the :class:`History`.

    Parameters
    ----------
    model : object with ``export_weights`` and ``import_weights``
    n_train : int
        Samples per epoch (for the progress bar).
    train_epoch : callable ``(step, schedule, on_batch) -> step``
        Runs one epoch's SGD steps on the training set, starting at optimizer
        step ``step`` with the rate ``schedule(step)``; ``on_batch(n)`` after
        each batch of n.
    evaluate : callable ``(data) -> (loss, accuracy)``
        Scores ``train_set`` or ``val_set`` (the model's own data format).
    train_set, val_set
        The data sets, as ``evaluate`` takes them; ``val_set`` None for no validation.
    on_epoch_end : callable ``(history) -> None``, optional
        Called after each finished epoch (e.g. to save the history so far).
    probe : (x, labels), optional
        Training images (n, n_inputs) and their int labels on which the
        per-epoch dynamics (:mod:`ffnn.dynamics`) are measured; without it the
        history has none. The diagnoses (:mod:`ffnn.diagnosis`) are checked
        after every epoch either way, and each one printed once.
    sample : callable ``() -> (x, labels)``, optional
        Training images (n, n_inputs) and int labels for the learning-rate
        range test (:mod:`ffnn.lrfind`), called only if a diagnosis advises a
        rate; the test starts from the weights the model has before epoch 1.
        Without it, that advice follows the numbers of the history.

    Early stopping restores the best weights however training ends: after
    ``epochs``, on patience running out, or on Ctrl-C (which stops training
    and sets ``history.interrupted``; the finished epochs are kept).
    """
    if config.early_stopping and config.monitor.startswith("val_") and val_set is None:
        raise ValueError(f"early stopping monitors {config.monitor!r} but no validation data was given")
    schedule = config.make_schedule()
    stopper = (EarlyStopping(config.monitor, config.early_stopping, config.min_delta)
               if config.early_stopping else None)
    progress = Progress(config.epochs, verbose=verbose, stream=stream, label=label)
    history = History()
    range_test = (_RangeTest(history, config, model.export_weights(), sample, n_train)
                  if sample is not None else None)
    step = 0
    try:
        for epoch in range(1, config.epochs + 1):
            lr = schedule(step)
            on_batch = progress.start_epoch(epoch, n_train)
            start = time.perf_counter()
            step = train_epoch(step, schedule, on_batch)
            seconds = time.perf_counter() - start
            record = _epoch_record(epoch, evaluate, train_set, val_set, lr, seconds)
            if not math.isfinite(record["loss"]):
                progress.close()
                raise TrainingDiverged(diagnosis.divergence(epoch, record["loss"], config))
            history.append(**record)
            # The stopper sees the epoch before anything else runs, so an interrupt from here on finds the
            # epoch's weights kept if they are the best (the next epoch's training has not started).
            stop = stopper is not None and stopper.update(epoch, record, model.export_weights)
            progress.end_epoch(record)
            _measure_and_diagnose(history, model, config, probe, progress, range_test)
            if on_epoch_end is not None:
                on_epoch_end(history)
            if stop:
                history.stopped_epoch = epoch
                break
    except KeyboardInterrupt:
        history.interrupted = True
        if stopper is not None and history.epochs and stopper.last_epoch != history["epoch"][-1]:
            # Interrupted between recording an epoch and showing it to the stopper: the model still
            # holds that epoch's weights.
            stopper.update(history["epoch"][-1], history.last(), model.export_weights)
    finally:
        progress.close()
        _restore_best(model, stopper, history)
        if history.lr_range_test is not None and sum(history["seconds"]) > 0:
            history.lr_range_test["share_of_training"] = round(history.lr_range_test["seconds"]
                                                               / sum(history["seconds"]), 4)
    if not _finite_weights(model.export_weights()):
        raise TrainingDiverged(
            f"training diverged (weights are not finite); try a learning rate smaller than {config.learning_rate}"
        )
    return history


def _epoch_record(epoch, evaluate, train_set, val_set, lr, seconds) -> dict:
    """The history record of a finished epoch: loss and accuracy on both sets, the rate, the time."""
    loss, acc = evaluate(train_set)
    val_loss, val_acc = evaluate(val_set) if val_set is not None else (float("nan"), float("nan"))
    return dict(epoch=epoch, loss=float(loss), accuracy=float(acc), val_loss=float(val_loss),
                val_accuracy=float(val_acc), learning_rate=float(lr), seconds=seconds)


def _restore_best(model, stopper, history) -> None:
    """Put the early-stopping's best weights back into ``model``, if it kept any."""
    if stopper is not None and stopper.best_weights is not None:
        model.import_weights(stopper.best_weights)
        history.best_epoch = stopper.best_epoch


def fit_arrays(model: Trainable, x, y, x_val=None, y_val=None, *, config: TrainConfig | None = None,
               verbose: int = 1, label: str = "", on_epoch_end=None, stream=None) -> History:
    """Train ``model`` on arrays: images (n, 28, 28) or (n, d), labels int or one-hot.

    ``config`` defaults to ``model.train_config``. Every epoch visits the training set in an order drawn from
    ``np.random.default_rng([config.seed, 1])`` (or in order if
    ``config.shuffle`` is False), so all backends see the same batches.
    """
    config = model.train_config if config is None else config
    n_in, n_out = config.layer_sizes[0], config.layer_sizes[-1]
    x, y = check_xy(x, y, n_in, n_out, "x_train")
    if (x_val is None) != (y_val is None):
        raise ValueError("give both x_val and y_val, or neither")
    train = model.prepare_data(x, y)
    val = model.prepare_data(*check_xy(x_val, y_val, n_in, n_out, "x_val")) if x_val is not None else None
    rng = np.random.default_rng([config.seed, 1])
    n = len(x)
    probe_idx = dynamics.probe_indices(n, config.seed)

    def train_epoch(step, schedule, on_batch):
        order = rng.permutation(n) if config.shuffle else np.arange(n)
        return model.train_epoch(train, order, config.batch_size, schedule, step, on_batch)

    def sample():
        idx = np.random.default_rng([config.seed, 4]).permutation(n)[:LR_SAMPLE]
        return x[idx], y[idx]

    return fit_loop(model, config, n, train_epoch, model.loss_and_accuracy, train, val, verbose=verbose,
                    label=label, on_epoch_end=on_epoch_end, stream=stream, probe=(x[probe_idx], y[probe_idx]),
                    sample=sample)
