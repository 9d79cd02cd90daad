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
of powers of two; either can be fixed instead.

Every function here takes a :class:`~ffnn.tune.spec.TuneSpec` (worker
processes get it as a plain dict); none reads a command line or changes
Optuna's global settings (its log level is the calling program's choice, and
worker processes take the parent's).
"""
from __future__ import annotations

import math
import os
import random
import signal
import socket
import sys
import time
from contextlib import contextmanager

import numpy as np

from ..errors import SearchError
from ..format import pct
from .spec import BATCH_SIZES, DEFAULT_STUDY, LR_RANGES, Space, difference, identity, identity_from_v1

__all__ = ["Space", "SearchError", "LR_RANGES", "BATCH_SIZES", "open_study", "search", "worker_id",
           "DEFAULT_STUDY"]

#: Median pruner: no pruning before 4 trials have finished; from then on a trial below the median of the
#: earlier trials at the same epoch stops, from epoch 1 on (Optuna prunes from step == n_warmup_steps), but
#: never after its last epoch.
PRUNER_STARTUP_TRIALS, PRUNER_WARMUP_EPOCHS = 4, 1
#: A new study starts with the spread points of :func:`initial_points`, then TPE samples at random up to
#: trial 5 and models good and bad regions from there on.
TPE_STARTUP_TRIALS = 5
#: A trial whose process has not written a heartbeat for GRACE seconds is marked failed by the next worker.
HEARTBEAT, GRACE = 10, 60


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


def redacted(url: str) -> str:
    """The storage URL without its password, for files and messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


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

    sqlite = url.startswith("sqlite")
    # SQLite: wait for a busy file instead of failing, and begin transactions ourselves (isolation_level None
    # turns off the driver's own, lazy BEGIN); PostgreSQL: notice dropped connections.
    kwargs = {"connect_args": {"timeout": 60, "isolation_level": None}} if sqlite else {"pool_pre_ping": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        storage = _retrying(lambda: optuna.storages.RDBStorage(url, engine_kwargs=kwargs,
                                                               heartbeat_interval=HEARTBEAT, grace_period=GRACE),
                            f"the storage {redacted(url)}")
    if sqlite:
        from sqlalchemy import event

        # Optuna takes a waiting trial by reading its state and then writing RUNNING, in one transaction that
        # locks the row on PostgreSQL; SQLite ignores the row lock and the driver begins the transaction only
        # at the write, so two workers could both take the same trial. BEGIN IMMEDIATE takes the file's
        # write lock first: one worker at a time reads and writes (SQLite writes one at a time anyway).
        event.listen(storage.engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    return storage


def _sampler(seed: int | None):
    import warnings

    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        # Budgets here are tens of trials: leave random sampling after 5; the constant liar keeps parallel
        # workers from proposing the same point while a trial runs.
        return optuna.samplers.TPESampler(n_startup_trials=TPE_STARTUP_TRIALS, constant_liar=True, seed=seed)


def open_study(spec, sampler_seed: int | None = None):
    """Create the study of ``spec``, or load it if it exists; refuse one made with other settings.

    The study's ``identity`` attribute (:func:`ffnn.tune.spec.identity`)
    records what its trials share; a study recorded in format 1 (its
    ``settings`` attribute, the flags of ``ffnn tune``) is compared the same way.
    """
    import optuna

    url = spec.storage_url()
    storage = open_storage(url)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=PRUNER_STARTUP_TRIALS,
                                         n_warmup_steps=PRUNER_WARMUP_EPOCHS)
    sampler = _sampler(sampler_seed)
    study = _retrying(lambda: optuna.create_study(storage=storage, study_name=spec.study, direction="maximize",
                                                  sampler=sampler, pruner=pruner, load_if_exists=True),
                      f"the study {spec.study!r}")
    current = identity(spec)
    recorded = study.user_attrs.get("identity")
    where = f"study {spec.study!r} in {redacted(url)}"
    try:
        if recorded is None and "settings" in study.user_attrs:
            recorded = identity_from_v1(study.user_attrs["settings"], current)
        diff = None if recorded is None else difference(recorded, current)
    except SearchError as exc:
        raise SearchError(f"{where} {exc}") from None
    if diff is not None:
        field, was, now = diff
        raise SearchError(f"{where} was run with {field} = {was!r}, this command has {now!r}; "
                          f"use another --study or --out to search with other settings")
    if "identity" not in study.user_attrs:
        study.set_user_attr("identity", current)
    return study


def objective_for(spec, data):
    """The trial function: train on the training split ``data``, report validation accuracy per epoch."""
    import optuna

    from ..backends import build
    from ..training import TrainingDiverged

    def objective(trial):
        # Ctrl-C lands here, inside a trial, where Optuna marks the trial failed (see ``_sigint_in_trials_only``).
        held = signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        try:
            return train(trial)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def train(trial):
        trial.set_user_attr("worker", worker_id())
        config = spec.trial_config(*spec.space.suggest(trial))
        model = build(spec.backend, config, spec.device)

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
          f"{pct(value)} after {trial.user_attrs.get('epochs', 0)} epochs", flush=True)


def _sampler_seed(spec, n_before: int, index: int) -> int:
    """Distinct per worker and per resumed run, so workers do not propose the same points."""
    return int(np.random.SeedSequence([spec.config.seed, n_before, index]).generate_state(1)[0])


def run_worker(spec, n_trials: int, index: int, n_before: int, study=None, split=None) -> None:
    """Run ``n_trials`` trials of the study of ``spec`` (opened here unless given) in this process."""
    from ..experiment import load_split
    from ..training import TrainingDiverged

    seed = _sampler_seed(spec, n_before, index)
    if study is None:
        study = open_study(spec, seed)
    else:
        study.sampler = _sampler(seed)
    objective = objective_for(spec, split if split is not None else load_split(spec.data))
    with _sigint_in_trials_only():
        study.optimize(objective, n_trials=n_trials, catch=(TrainingDiverged,), callbacks=[_print_trial])


def _worker_main(spec: dict, n_trials: int, index: int, n_before: int, log_level: int) -> None:
    """Entry point of a worker process (``--jobs`` > 1): ``spec`` is :meth:`TuneSpec.to_dict`, ``log_level``
    the parent's Optuna log level (this process is the worker's whole program, so it may set it)."""
    import optuna

    from .spec import TuneSpec

    optuna.logging.set_verbosity(log_level)
    # Its own process group: Ctrl-C reaches the parent only, which passes it on exactly once, so the
    # child takes SIGINT as KeyboardInterrupt even where a shell started the parent with SIGINT ignored.
    os.setpgrp()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        run_worker(TuneSpec.from_dict(spec), n_trials, index, n_before)
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

    import optuna

    ctx = multiprocessing.get_context("spawn")  # a clean interpreter: no inherited threads or framework state
    level = optuna.logging.get_verbosity()
    procs = [ctx.Process(target=_worker_main, args=(spec, n, i, n_before, level), daemon=False)
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
        study.tell(t.number, state=TrialState.FAIL, skip_if_finished=True)
    return [t.number for t in orphans]


def search(spec, study, split=None) -> bool:
    """Run ``spec.trials`` more trials with ``spec.jobs`` processes; return True if Ctrl-C stopped it.

    ``split`` (the arrays of ``spec.data``) saves loading them again when the
    trials run in this process.
    """
    if not study.trials:
        for point in initial_points(spec.space, min(4, spec.trials)):
            study.enqueue_trial(point, skip_if_exists=True)
    n_before = len(study.trials)
    parts = shares(spec.trials, spec.jobs)
    if not parts:
        return False
    if len(parts) == 1:
        try:
            run_worker(spec, parts[0], 0, n_before, study, split)
            interrupted = False
        except KeyboardInterrupt:
            interrupted = True
        _fail_orphans(study, [worker_id()])
        return interrupted
    interrupted, ids, failed = _run_processes(spec.to_dict(), parts, n_before)
    _fail_orphans(study, ids)
    if failed and not interrupted:
        raise SearchError(f"worker {', '.join(map(str, failed))} failed (its error is printed above)")
    return interrupted
