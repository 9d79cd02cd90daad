"""Training jobs started from the page: the request, its bounds, and the child process that runs it.

- :class:`TrainLimits`: what this server lets a page train (``ffnn serve
  --max-epochs --max-train --max-width --runs-dir``).
- :func:`parse_request`: the flat JSON object of ``POST /api/train`` as a
  :class:`TrainRequest`, checked as ``ffnn train`` checks its flags (one
  :class:`~ffnn.config.TrainConfig` and :class:`~ffnn.experiment.DataSpec`)
  plus the bounds; a bad field is a :class:`~ffnn.errors.ConfigError` naming it.
- :class:`Job`: one run's events, every one kept with an increasing id, so a
  client that reconnects resumes after the last one it saw.
- :class:`Trainer`: at most one running job; each runs ``python -m
  ffnn.web.worker`` in a session of its own, so the server stays responsive
  and a Ctrl-C in the server's terminal reaches the child only through
  :meth:`Trainer.close`, which sends it SIGINT and waits until its run
  directory is written.
"""
from __future__ import annotations

import asyncio
import importlib.util
import json
import numbers
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from ..config import ACTIVATIONS, LOSSES, SCHEDULES, TrainConfig
from ..errors import ConfigError, FfnnError
from ..functional import get_loss

__all__ = ["TrainLimits", "TrainRequest", "parse_request", "installed_backends", "options", "Job", "Trainer",
           "Busy", "UnknownJob", "FIELDS", "N_INPUTS", "N_CLASSES", "MNIST_TRAIN"]

N_INPUTS, N_CLASSES = 784, 10  # the page trains on MNIST: 28x28 images, 10 digits
MNIST_TRAIN = 60_000
#: The fields of ``POST /api/train``: the backend, the data's, and TrainConfig's own that ``ffnn train`` sets.
FIELDS = ("backend", "n_train", "val_size", "layer_sizes", "epochs", "batch_size", "learning_rate", "loss",
          "activation", "momentum", "schedule", "seed", "early_stopping")
_FRAMEWORKS = {"numpy": "numpy", "torch": "torch", "tensorflow": "tensorflow"}
_KEEP_FINISHED = 20  # finished jobs (and their events) a server remembers
_STOP_WAIT = 300.0  # seconds a closing server waits for a stopped job to write its run


class Busy(FfnnError, RuntimeError):
    """No job can start now (409): ``job`` is running, or the server is stopping (``job`` None)."""

    def __init__(self, job: "Job | None"):
        self.job = job
        super().__init__(f"a training job is running: {job.id} (stop it with DELETE /api/train/{job.id}); "
                         f"one job at a time" if job is not None else "the server is stopping")


class UnknownJob(FfnnError, LookupError):
    """No job of that id (404)."""


@dataclass(frozen=True)
class TrainLimits:
    """The bounds of what the page may train, and where finished runs go.

    Parameters
    ----------
    max_epochs : int, default 100
    max_train : int, default 60000
        Most training images (before the validation split); MNIST has 60,000.
    max_width : int, default 1024
        Most units in one hidden layer.
    runs_dir : path, default "runs"
        Folder of the run directories of finished jobs.
    """

    max_epochs: int = 100
    max_train: int = MNIST_TRAIN
    max_width: int = 1024
    runs_dir: Path = Path("runs")

    def __post_init__(self):
        for name in ("max_epochs", "max_train", "max_width"):
            value = getattr(self, name)
            if not (isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0):
                raise ConfigError(name, f"must be a positive integer, got {value!r}")
        object.__setattr__(self, "runs_dir", Path(self.runs_dir))


def installed_backends() -> tuple:
    """The backends whose framework is installed here, in ffnn's order (numpy always)."""
    from ..backends import BACKENDS

    return tuple(b for b in BACKENDS if importlib.util.find_spec(_FRAMEWORKS.get(b, b)) is not None)


@dataclass(frozen=True)
class TrainRequest:
    """A checked request: the backend, the images (:class:`DataSpec`) and the :class:`TrainConfig`."""

    backend: str
    spec: object
    config: TrainConfig

    def to_job(self, runs_dir: Path) -> dict:
        """What :mod:`ffnn.web.worker` reads on its standard input."""
        return {"backend": self.backend, "spec": self.spec.to_dict(), "config": self.config.to_dict(),
                "runs_dir": str(runs_dir), "device": "auto"}

    def describe(self) -> dict:
        """The request as its flat JSON object, every field filled in."""
        c = self.config
        return {"backend": self.backend, "n_train": self.spec.n_train, "val_size": self.spec.val_size,
                "layer_sizes": list(c.layer_sizes), "epochs": c.epochs, "batch_size": c.batch_size,
                "learning_rate": c.learning_rate, "loss": c.loss, "activation": c.activation,
                "momentum": c.momentum, "schedule": c.schedule, "seed": c.seed,
                "early_stopping": c.early_stopping}


class _Shapes:
    """What :func:`ffnn.experiment.make_config` reads of a split (the input width, whether there is a
    validation set), known before the child loads it."""

    def __init__(self, has_val: bool):
        self.x = np.empty((0, N_INPUTS), dtype=np.float32)
        self.x_val = self.x if has_val else None


def defaults() -> dict:
    """``ffnn train``'s defaults, as the fields of ``POST /api/train``."""
    from ..experiment import DataSpec

    spec, config = DataSpec(), TrainConfig()
    return {"backend": "numpy", "n_train": spec.n_train, "val_size": spec.val_size,
            **{f.name: getattr(config, f.name) for f in fields(TrainConfig) if f.name in FIELDS},
            "layer_sizes": list(config.layer_sizes)}


def parse_request(body, limits: TrainLimits) -> TrainRequest:
    """The :class:`TrainRequest` of a ``POST /api/train`` body; a :class:`ConfigError` naming a bad field.

    ``layer_sizes`` is TrainConfig's own: the whole network, ``[784, hidden..., 10]``.
    A missing field (or null, except ``n_train`` and ``early_stopping``, where
    null is the default) takes ``ffnn train``'s default.
    """
    from ..experiment import DataSpec, make_config

    if not isinstance(body, dict):
        raise ConfigError("body", f"must be a JSON object of training settings, got {type(body).__name__}")
    for key in body:
        if key not in FIELDS:
            raise ConfigError(str(key), f"is not a training setting; known: {', '.join(FIELDS)}")
    values = {**defaults(), **{k: v for k, v in body.items() if v is not None}}
    backend = values["backend"]
    available = installed_backends()
    if backend not in available:
        raise ConfigError("backend", f"must be one of {', '.join(available)} (installed here), got {backend!r}")
    n_train = values["n_train"]
    spec = DataSpec(n_train=n_train, val_size=values["val_size"], seed=values["seed"])
    if (MNIST_TRAIN if n_train is None else n_train) > limits.max_train:
        raise ConfigError("n_train", f"must be at most {limits.max_train} on this server "
                                     f"(ffnn serve --max-train), got {n_train or 'all 60000'}")
    sizes = values["layer_sizes"]
    if not isinstance(sizes, list) or len(sizes) < 2 or sizes[0] != N_INPUTS or sizes[-1] != N_CLASSES:
        raise ConfigError("layer_sizes", f"must be a list [{N_INPUTS}, hidden sizes..., {N_CLASSES}] "
                                         f"(MNIST's pixels and digits), got {sizes!r}")
    # The loss rule of ffnn.experiment.check_backends, read from the same record, without importing a
    # framework into the server; the worker calls check_backends itself.
    loss = values["loss"]
    if isinstance(loss, str) and loss in LOSSES and backend not in get_loss(loss).backends:
        can = get_loss(loss).backends
        raise ConfigError("loss", f"{loss} is available in the {' and '.join(can)} "
                                  f"backend{'s' if len(can) > 1 else ''} only, not in {backend}")
    settings = {k: values[k] for k in ("epochs", "batch_size", "learning_rate", "loss", "activation",
                                      "momentum", "schedule", "seed", "early_stopping")}
    config = make_config(_Shapes(bool(spec.val_size)), hidden=tuple(sizes[1:-1]), **settings)
    if config.epochs > limits.max_epochs:
        raise ConfigError("epochs", f"must be at most {limits.max_epochs} on this server "
                                    f"(ffnn serve --max-epochs), got {config.epochs}")
    widest = max(config.hidden, default=0)
    if widest > limits.max_width:
        raise ConfigError("layer_sizes", f"hidden layers must have at most {limits.max_width} units on this "
                                         f"server (ffnn serve --max-width), got {widest}")
    return TrainRequest(backend, spec, config)


def options(limits: TrainLimits) -> dict:
    """What the page's form offers: the installed backends, the choices, ``ffnn train``'s defaults, the bounds."""
    return {"backends": list(installed_backends()), "activations": list(ACTIVATIONS), "losses": list(LOSSES),
            "schedules": list(SCHEDULES), "defaults": defaults(),
            "limits": {"max_epochs": limits.max_epochs, "max_train": limits.max_train,
                       "max_width": limits.max_width}, "fields": list(FIELDS)}


@dataclass
class Event:
    id: int
    type: str
    data: dict


@dataclass
class Job:
    """One training run: its request, its state and every event, in order, ids from 1.

    ``state`` is ``starting``, ``running``, ``stopping``, then ``done``
    (trained to the end), ``stopped`` (stopped and saved) or ``failed``.
    The last event is ``done`` or ``error``.
    """

    id: str
    request: TrainRequest
    state: str = "starting"
    started: float = field(default_factory=time.time)
    finished: float | None = None
    name: str | None = None
    run_dir: str | None = None
    error: str | None = None
    events: list = field(default_factory=list)
    process: subprocess.Popen | None = field(default=None, repr=False)
    ready: bool = False
    stop_requested: bool = False
    partial: str | None = None  # the hidden directory the child writes the run into
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _waiters: set = field(default_factory=set, repr=False)

    @property
    def over(self) -> bool:
        return self.state in ("done", "stopped", "failed")

    def describe(self) -> dict:
        """The JSON record of ``GET /api/train``."""
        return {"id": self.id, "state": self.state, "settings": self.request.describe(), "started": self.started,
                "finished": self.finished, "events": len(self.events), "name": self.name, "run_dir": self.run_dir,
                "error": self.error}

    def add(self, kind: str, data: dict) -> None:
        """Keep an event (with the next id) and wake every stream waiting for one."""
        with self._lock:
            self.events.append(Event(len(self.events) + 1, kind, data))
            waiters = list(self._waiters)
        for loop, ready in waiters:
            loop.call_soon_threadsafe(ready.set)

    def finish(self, state: str, kind: str, data: dict) -> None:
        """Add the last event and end the job in one step, so that a stream that sees the job over has it."""
        with self._lock:
            self.events.append(Event(len(self.events) + 1, kind, data))
            self.state, self.finished = state, time.time()
            waiters = list(self._waiters)
        for loop, ready in waiters:
            loop.call_soon_threadsafe(ready.set)

    def after(self, last_id: int) -> list:
        """The events after id ``last_id``."""
        with self._lock:
            return self.events[max(0, last_id):]

    async def wait(self, last_id: int, timeout: float) -> None:
        """Return when there is an event after ``last_id``, or after ``timeout`` seconds."""
        ready = asyncio.Event()
        waiter = (asyncio.get_running_loop(), ready)
        with self._lock:
            if len(self.events) > last_id:
                return
            self._waiters.add(waiter)
        try:
            await asyncio.wait_for(ready.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiters.discard(waiter)


class Trainer:
    """Runs the page's training jobs, one at a time, each in a child process.

    A finished run joins ``registry`` (and so the page's answers) as soon as
    its directory is in place; ``on_new_run(run_dir)``, if given, is called
    first (the program's chance to set up the process for it, as ``ffnn
    serve`` puts PyTorch on one thread for a torch run).
    """

    def __init__(self, registry, limits: TrainLimits | None = None, on_new_run=None):
        self.registry = registry
        self.limits = limits or TrainLimits()
        self.on_new_run = on_new_run
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self.closing = False

    def running(self) -> Job | None:
        with self._lock:
            return next((j for j in self.jobs.values() if not j.over), None)

    def get(self, job_id: str) -> Job:
        try:
            return self.jobs[job_id]
        except KeyError:
            raise UnknownJob(f"no training job {job_id!r}; GET /api/train lists them") from None

    def start(self, body) -> Job:
        """Check ``body`` and start its job; a :class:`ConfigError` or :class:`Busy` otherwise."""
        request = parse_request(body, self.limits)
        with self._lock:
            if self.closing:
                raise Busy(None)
            running = next((j for j in self.jobs.values() if not j.over), None)
            if running is not None:
                raise Busy(running)
            job = Job(uuid.uuid4().hex[:12], request)
            self.jobs[job.id] = job
            self._forget_old()
        self._spawn(job)
        return job

    def _forget_old(self) -> None:
        finished = [j for j in self.jobs.values() if j.over]
        for job in finished[:max(0, len(finished) - _KEEP_FINISHED)]:
            del self.jobs[job.id]

    def _spawn(self, job: Job) -> None:
        read_fd, write_fd = os.pipe()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_source_root(),
                                                                         os.environ.get("PYTHONPATH")]))}
        try:
            job.process = subprocess.Popen(
                [sys.executable, "-m", "ffnn.web.worker", str(write_fd)], stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL, pass_fds=(write_fd,), start_new_session=True, env=env)
        except OSError as exc:
            os.close(read_fd)
            os.close(write_fd)
            self._fail(job, f"cannot start the training process: {exc}")
            return
        os.close(write_fd)
        job.state = "running"
        try:
            job.process.stdin.write(json.dumps(job.request.to_job(self.limits.runs_dir)).encode())
            job.process.stdin.close()
        except OSError:
            pass  # the child died at once; its reader reports how it ended
        threading.Thread(target=self._read, args=(job, read_fd), name=f"ffnn-train-{job.id}", daemon=True).start()

    def _read(self, job: Job, fd: int) -> None:
        """Relay the child's events into ``job`` until the pipe closes; then settle how it ended."""
        saved = errored = False
        with os.fdopen(fd, "rb") as pipe:
            for line in pipe:
                try:
                    event = json.loads(line)
                    kind, data = event["type"], event.get("data") or {}
                except (ValueError, KeyError, TypeError):
                    continue  # not one of ours
                if kind == "ready":
                    with job._lock:
                        job.ready = True
                        stop = job.stop_requested
                    if stop:
                        self._interrupt(job)
                elif kind == "partial":
                    job.partial = data.get("path")
                elif kind == "saved":
                    saved = True
                    self._saved(job, data)
                elif kind == "error":
                    errored = True
                    self._fail(job, data.get("message") or "training failed", data)
                else:
                    job.add(kind, data)
        status = job.process.wait()
        if not saved and not errored:
            self._fail(job, f"the training process ended with status {status} before saving its run")
        _remove(job.partial)

    def _saved(self, job: Job, data: dict) -> None:
        job.run_dir = data.get("run_dir")
        try:
            if self.on_new_run is not None:
                self.on_new_run(job.run_dir)
            model = self.registry.add(job.run_dir)
        except (FfnnError, ValueError, OSError, ImportError) as exc:
            self._fail(job, f"the run was saved in {job.run_dir} but cannot be served: {exc}")
            return
        job.name = model.name
        job.finish("stopped" if data.get("interrupted") else "done", "done",
                   {**data, "name": model.name, "model": model.describe(), "time": time.time()})

    def _fail(self, job: Job, message: str, data: dict | None = None) -> None:
        job.error = " ".join(str(message).split())
        job.finish("failed", "error", {"message": job.error, "field": (data or {}).get("field"), "time": time.time()})

    def stop(self, job_id: str) -> Job:
        """Stop a job as Ctrl-C stops ``ffnn train``: it keeps its finished epochs and is saved."""
        job = self.get(job_id)
        with job._lock:
            if job.over:
                return job
            job.stop_requested = True
            job.state = "stopping"
            ready = job.ready
        if ready:
            self._interrupt(job)
        return job

    @staticmethod
    def _interrupt(job: Job) -> None:
        try:
            job.process.send_signal(signal.SIGINT)
        except (OSError, AttributeError):
            pass  # gone already; its reader settles the job

    def close(self, timeout: float = _STOP_WAIT) -> None:
        """Stop the running job (if any) and wait until its run directory is written (the server is stopping)."""
        with self._lock:
            self.closing = True
        job = self.running()
        if job is None:
            return
        self.stop(job.id)
        deadline = time.monotonic() + timeout
        while not job.over and time.monotonic() < deadline:
            time.sleep(0.05)
        if not job.over and job.process is not None:
            job.process.kill()  # it did not finish writing in time; its reader removes the partial directory
            job.process.wait()


def _source_root() -> str:
    """The folder that holds this ``ffnn`` package, so the child imports the same code."""
    return str(Path(__file__).resolve().parents[2])


def _remove(partial: str | None) -> None:
    """Remove the hidden directory of a child that died before it renamed it into a run."""
    if partial is not None:
        shutil.rmtree(partial, ignore_errors=True)
