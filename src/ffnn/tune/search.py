"""The search: one Optuna study, maximising validation accuracy, run by one or more processes.

The study lives in Optuna's RDB storage: a SQLite file by default, or any
database SQLAlchemy reaches (``postgresql://...``), so that processes on
several machines share one study. Every trial trains the chosen backend on the
training split and reports the validation accuracy after each epoch; Optuna's
median pruner stops a trial whose accuracy falls below the median of earlier
trials at the same epoch. The test set is never touched here.

Search space (:class:`Space`): the learning rate on a log scale over a range
that depends on the loss (MSE's gradients pass through the softmax Jacobian
and need rates about ten times larger), and the batch size from a short list
of powers of two. ``--lr`` or ``--batch-size`` fix one of them instead.
"""
from __future__ import annotations

import json
import math
import os
import random
import signal
import socket
import sys
import time
from argparse import Namespace
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..errors import SearchError

__all__ = ["Space", "SearchError", "LR_RANGES", "BATCH_SIZES", "storage_url", "open_study", "search",
           "worker_id", "DEFAULT_STUDY"]

#: Learning-rate range searched (log scale) for each loss.
LR_RANGES = {"cross-entropy": (0.01, 10.0), "mse": (0.1, 100.0)}
#: Starting rates searched (integers, log scale) with the time-based schedule, which drops by 1 per step.
TIME_BASED_LR_RANGE = (1, 20)
#: Batch sizes searched.
BATCH_SIZES = (8, 16, 32, 64, 128)
DEFAULT_STUDY = "ffnn"
STORAGE_FILE = "study.db"
#: Median pruner: no pruning before 4 trials have finished; from then on a trial below the median of the
#: earlier trials at the same epoch stops, from epoch 1 on (Optuna prunes from step == n_warmup_steps), but
#: never after its last epoch.
PRUNER_STARTUP_TRIALS, PRUNER_WARMUP_EPOCHS = 4, 1
#: A new study starts with the spread points of :func:`initial_points`, then TPE samples at random up to
#: trial 5 and models good and bad regions from there on.
TPE_STARTUP_TRIALS = 5
#: A trial whose process has not written a heartbeat for GRACE seconds is marked failed by the next worker.
HEARTBEAT, GRACE = 10, 60
#: Flags that the search sets per trial; every other training flag is a setting of the whole study.
SEARCHED = ("lr", "batch_size")
#: Flags that do not change what a trial computes.
NOT_SETTINGS = ("trials", "jobs", "storage", "study", "out", "device", "command", "_run", "lr_range",
                "batch_sizes")


@dataclass(frozen=True)
class Space:
    """What the search varies: learning rate (log scale) and batch size, or fixed values."""

    lr_range: tuple
    batch_sizes: tuple
    integer_lr: bool = False
    fixed_lr: float | None = None
    fixed_batch_size: int | None = None

    @classmethod
    def from_args(cls, args: Namespace) -> "Space":
        integer_lr = args.schedule == "time-based"
        default = TIME_BASED_LR_RANGE if integer_lr else LR_RANGES[args.loss]
        low, high = args.lr_range or default
        if integer_lr and not (float(low).is_integer() and float(high).is_integer()):
            raise SearchError(f"--lr-range must be integers with --schedule time-based, got {low},{high}")
        return cls(lr_range=(low, high), batch_sizes=tuple(args.batch_sizes or BATCH_SIZES),
                   integer_lr=integer_lr, fixed_lr=args.lr, fixed_batch_size=args.batch_size)

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
        return json.loads(json.dumps(asdict(self)))


def initial_points(space: Space, n: int = 4) -> list:
    """Up to ``n`` spread starting points, tried before TPE takes over (fixed values left out).

    A Latin square on the quantiles 1/8, 3/8, 5/8, 7/8 of the log learning-rate
    range and of the batch sizes, paired off the diagonal (a small rate with
    a large batch, ...): a few random draws can land close together.
    """
    points = []
    for k, q in enumerate((2, 0, 3, 1)[:n]):
        point = {}
        if space.fixed_lr is None:
            low, high = space.lr_range
            lr = low * (high / low) ** ((2 * k + 1) / 8)
            point["learning_rate"] = int(round(lr)) if space.integer_lr else float(f"{lr:.3g}")
        if space.fixed_batch_size is None:
            sizes = sorted(space.batch_sizes)
            point["batch_size"] = sizes[int((2 * q + 1) / 8 * len(sizes))]
        if point and point not in points:
            points.append(point)
    return points


def storage_url(args) -> str:
    """``--storage``, or the SQLite file ``study.db`` in ``--out``."""
    if args.storage:
        return args.storage
    return f"sqlite:///{Path(args.out).resolve() / STORAGE_FILE}"


def redacted(url: str) -> str:
    """The storage URL without its password, for files and messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def settings_of(args) -> dict:
    """What every trial of one study must share: the backend and the training flags not searched."""
    skip = set(NOT_SETTINGS) | {k for k in SEARCHED if getattr(args, k) is None}
    settings = {k: v for k, v in sorted(vars(args).items()) if k not in skip}
    settings["search_space"] = Space.from_args(args).to_dict()
    return json.loads(json.dumps(settings))


def _is_race(exc: BaseException) -> bool:
    """An error of two processes creating the same schema or study at once (worth retrying)."""
    import optuna
    from sqlalchemy.exc import IntegrityError, ProgrammingError

    while exc is not None:
        if isinstance(exc, (IntegrityError, ProgrammingError, optuna.exceptions.DuplicatedStudyError)):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _retrying(create, what: str, attempts: int = 12):
    """``create()``, retried after a random pause while another process is creating the same thing."""
    for attempt in range(1, attempts + 1):
        try:
            return create()
        except Exception as exc:
            if not _is_race(exc) or attempt == attempts:
                raise SearchError(f"cannot open {what}: {' '.join(str(exc).split())[:300]}") from None
            time.sleep(random.uniform(0.05, 0.3) * attempt)


def open_storage(url: str):
    """Optuna's RDB storage at ``url``; its tables are created (or waited for) safely."""
    import warnings

    import optuna

    # SQLite: wait for a busy file instead of failing; PostgreSQL: notice dropped connections.
    kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {"pool_pre_ping": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return _retrying(lambda: optuna.storages.RDBStorage(url, engine_kwargs=kwargs, heartbeat_interval=HEARTBEAT,
                                                            grace_period=GRACE),
                         f"the storage {redacted(url)}")


def _sampler(seed: int | None):
    import warnings

    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        # Budgets here are tens of trials: leave random sampling after 5; the constant liar keeps parallel
        # workers from proposing the same point while a trial runs.
        return optuna.samplers.TPESampler(n_startup_trials=TPE_STARTUP_TRIALS, constant_liar=True, seed=seed)


def open_study(args, sampler_seed: int | None = None):
    """Create the study, or load it if it exists; refuse one made with other settings."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # each trial gets one line from _print_trial
    storage = open_storage(storage_url(args))
    pruner = optuna.pruners.MedianPruner(n_startup_trials=PRUNER_STARTUP_TRIALS,
                                         n_warmup_steps=PRUNER_WARMUP_EPOCHS)
    sampler = _sampler(sampler_seed)
    study = _retrying(lambda: optuna.create_study(storage=storage, study_name=args.study, direction="maximize",
                                                  sampler=sampler, pruner=pruner, load_if_exists=True),
                      f"the study {args.study!r}")
    settings = settings_of(args)
    recorded = study.user_attrs.get("settings")
    if recorded is None:
        study.set_user_attr("settings", settings)
    elif recorded != settings:
        diff = next(k for k in sorted(set(recorded) | set(settings)) if recorded.get(k) != settings.get(k))
        raise SearchError(f"study {args.study!r} in {redacted(storage_url(args))} was run with {diff} = "
                          f"{recorded.get(diff)!r}, this command has {settings.get(diff)!r}; "
                          f"use another --study or --out to search with other settings")
    return study


def objective_for(args, data, base_config):
    """The trial function: train on the training split, report validation accuracy per epoch."""
    import optuna

    from ..backends import build
    from ..training import TrainingDiverged

    space = Space.from_args(args)

    def objective(trial):
        # Ctrl-C lands here, inside a trial, where Optuna marks the trial failed (see ``_sigint_in_trials_only``).
        held = signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        try:
            return train(trial)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def train(trial):
        trial.set_user_attr("worker", worker_id())
        lr, batch = space.suggest(trial)
        config = base_config.replace(learning_rate=lr, batch_size=batch)
        model = build(args.backend, config, args.device)

        def on_epoch_end(history):
            epoch, acc = history.epochs, history["val_accuracy"][-1]
            trial.report(acc, epoch)
            trial.set_user_attr("epochs", epoch)
            if epoch < config.epochs and trial.should_prune():
                raise optuna.TrialPruned(f"validation accuracy {acc:.4f} after epoch {epoch}")

        try:
            history = model.fit_arrays(data.x, data.y, data.x_val, data.y_val, verbose=0,
                                       on_epoch_end=on_epoch_end)
        except TrainingDiverged as exc:
            trial.set_user_attr("diverged", " ".join(str(exc).split()))
            raise
        if history.interrupted:
            raise KeyboardInterrupt  # Optuna marks the trial failed and passes this on
        return history["val_accuracy"][(history.best_epoch or history.epochs) - 1]

    return objective


@contextmanager
def _sigint_in_trials_only():
    """Hold Ctrl-C back outside the objective (while Optuna creates, records or samples a trial).

    Otherwise Ctrl-C between Optuna creating a trial and calling the
    objective would leave that trial RUNNING for good. A Ctrl-C held back
    between two trials is taken when the next one starts (it is then marked
    failed) or when the search ends.
    """
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _print_trial(study, trial) -> None:
    params = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in trial.params.items())
    value = trial.value if trial.value is not None else (trial.intermediate_values or {}).get(
        max(trial.intermediate_values or [0]), math.nan)
    print(f"trial {trial.number} {trial.state.name.lower()}: {params}: validation accuracy "
          f"{100 * value:.2f}% after {trial.user_attrs.get('epochs', 0)} epochs", flush=True)


def _sampler_seed(args, n_before: int, index: int) -> int:
    """Distinct per worker and per resumed run, so workers do not propose the same points."""
    return int(np.random.SeedSequence([args.seed, n_before, index]).generate_state(1)[0])


def run_worker(spec: dict, n_trials: int, index: int, n_before: int, study=None) -> None:
    """Run ``n_trials`` trials of the study (opened here unless given) in this process."""
    from ..experiment import load_split
    from ..training import TrainingDiverged
    from . import base_config, data_spec

    args = Namespace(**spec)
    seed = _sampler_seed(args, n_before, index)
    if study is None:
        study = open_study(args, seed)
    else:
        study.sampler = _sampler(seed)
    split = load_split(data_spec(args))
    objective = objective_for(args, split, base_config(args, split))
    with _sigint_in_trials_only():
        study.optimize(objective, n_trials=n_trials, catch=(TrainingDiverged,), callbacks=[_print_trial])


def _worker_main(spec: dict, n_trials: int, index: int, n_before: int) -> None:
    """Entry point of a worker process (``--jobs`` > 1)."""
    # Its own process group: Ctrl-C reaches the parent only, which passes it on exactly once, so the
    # child takes SIGINT as KeyboardInterrupt even where a shell started the parent with SIGINT ignored.
    os.setpgrp()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        run_worker(spec, n_trials, index, n_before)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        print(f"ffnn: error: worker {index}: {' '.join(str(exc).split())}", file=sys.stderr, flush=True)
        sys.exit(1)


def shares(n_trials: int, jobs: int) -> list:
    """``n_trials`` split over ``jobs`` workers as evenly as possible (workers with none are left out)."""
    return [s for s in (n_trials // jobs + (i < n_trials % jobs) for i in range(jobs)) if s]


def _run_processes(spec: dict, parts: list, n_before: int) -> tuple:
    """Start one spawned process per share, wait for them; return (interrupted, worker ids, failures)."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")  # a clean interpreter: no inherited threads or framework state
    procs = [ctx.Process(target=_worker_main, args=(spec, n, i, n_before), daemon=False)
             for i, n in enumerate(parts)]
    for p in procs:
        p.start()
    interrupted = False
    try:
        for p in procs:
            p.join()
    except KeyboardInterrupt:
        interrupted = True
        for p in procs:
            if p.is_alive():
                os.kill(p.pid, signal.SIGINT)
        for p in procs:
            p.join()
    ids = [f"{socket.gethostname()}:{p.pid}" for p in procs]
    failed = [i for i, p in enumerate(procs) if p.exitcode not in (0, 130)]
    interrupted = interrupted or any(p.exitcode == 130 for p in procs)
    return interrupted, ids, failed


def _fail_orphans(study, workers: list) -> list:
    """Mark failed the trials our (now finished) workers left running; return their numbers."""
    from optuna.trial import TrialState

    orphans = [t for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
               if t.user_attrs.get("worker") in workers]
    for t in orphans:
        study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
    return [t.number for t in orphans]


def search(args, study) -> bool:
    """Run ``args.trials`` more trials with ``args.jobs`` processes; return True if Ctrl-C stopped it."""
    spec = {k: v for k, v in vars(args).items() if k != "_run"}
    if not study.trials:
        for point in initial_points(Space.from_args(args), min(4, args.trials)):
            study.enqueue_trial(point, skip_if_exists=True)
    n_before = len(study.trials)
    parts = shares(args.trials, args.jobs)
    if not parts:
        return False
    if len(parts) == 1:
        try:
            run_worker(spec, parts[0], 0, n_before, study)
            interrupted = False
        except KeyboardInterrupt:
            interrupted = True
        _fail_orphans(study, [worker_id()])
        return interrupted
    interrupted, ids, failed = _run_processes(spec, parts, n_before)
    _fail_orphans(study, ids)
    if failed and not interrupted:
        raise SearchError(f"worker {', '.join(map(str, failed))} failed (its error is printed above)")
    return interrupted
