"""Check one submission folder, or many: copy, run each part in its child, judge, collect.

For each code part (scratch, torch, tf) :func:`check_submission` copies the
submission's Python files into a fresh private folder, writes the part's
inputs there (:mod:`ffnn.check.protocol`), runs ``python -m ffnn.check.child``
under the limits of :mod:`ffnn.check.sandbox`, and hands what came back to the
part's judge (:mod:`ffnn.check.scratch`, :mod:`ffnn.check.torch_part`,
:mod:`ffnn.check.tf_part`). The notebook is read, never run
(:mod:`ffnn.check.notebook`), and ``submission.scope`` reads the code without
running it (:mod:`ffnn.check.scope`).
"""
from __future__ import annotations

import importlib
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from . import protocol, scope
from .ids import CHECK_IDS, PARTS
from .outcome import Outcome
from .result import Check, SubmissionResult
from .sandbox import interpreter, python_env, resolve, run_child

__all__ = ["OUTPUT_LIMIT", "check_submission", "check_submissions"]

#: Bytes of a part's printed output that are kept (its last ones); the rest is counted and dropped.
OUTPUT_LIMIT = 1 << 20

#: The judge module of each code part.
JUDGES = {"scratch": "ffnn.check.scratch", "torch": "ffnn.check.torch_part", "tf": "ffnn.check.tf_part"}

_COPY_LIMIT = 5 << 20  # a larger .py file is not a network: left out of the copy


def _copy_code(folder: Path, dest: Path) -> None:
    """Copy the submission's Python files and packages (not its data folders or PDFs) into ``dest``."""
    dest.mkdir()
    for item in sorted(folder.iterdir()):
        if item.is_symlink():
            continue
        if item.is_file() and item.suffix == ".py" and item.stat().st_size <= _COPY_LIMIT:
            shutil.copyfile(item, dest / item.name)
        elif item.is_dir() and (item / "__init__.py").is_file():
            shutil.copytree(item, dest / item.name, symlinks=False,
                            ignore=lambda d, names: [n for n in names
                                                     if not (n.endswith(".py") or (Path(d) / n).is_dir())])


def _skips(part: str, message: str) -> list:
    return [Check(i, "skip", message) for i in CHECK_IDS[part]]


def run_part(part: str, folder: Path, *, timeout: float, memory_bytes: int, sandboxed: bool,
             output_limit: int, log=None) -> list:
    """The checks of one code part: run its probes in a child, then judge them here."""
    judge = importlib.import_module(JUDGES[part])
    if not (folder / judge.FILE).is_file():
        return _skips(part, f"{judge.FILE} is missing from the submission, so this part was not checked")
    with tempfile.TemporaryDirectory(prefix="ffnn-check-", ignore_cleanup_errors=True) as tmp:
        work = Path(tmp).resolve()
        code, io = work / "submission", work / "io"
        _copy_code(folder, code)
        io.mkdir()
        inputs = judge.inputs()
        np.savez(io / "inputs.npz", **inputs)
        argv = [interpreter(), "-m", "ffnn.check.child", part, str(io), str(code), str(int(memory_bytes))]
        run = run_child(argv, work, timeout=timeout, sandboxed=sandboxed, output_limit=output_limit,
                        env=python_env(work))
        outcome = Outcome(io, run, timeout, memory_bytes, judge.FILE)
        checks = judge.judge(outcome, inputs, folder)
    if run.output_cut:
        if log is not None:
            log(f"{folder}: the {part} part printed {run.output_bytes:,} bytes; only the last "
                f"{output_limit:,} were kept")
        for c in checks:
            c.evidence.setdefault("printed_bytes", run.output_bytes)
    return checks


def _notebook_checks(folder: Path) -> list:
    try:
        notebook = importlib.import_module("ffnn.check.notebook")
    except ModuleNotFoundError as exc:
        if exc.name != "ffnn.check.notebook":
            raise
        return _skips("notebook", "the notebook checks are not part of this ffnn version")
    return list(notebook.check_notebook(folder))


def check_submission(path, parts=("scratch", "torch", "tf", "notebook"), timeout: float = 120.0,
                     memory_bytes: int = 4 << 30,
                     sandbox: str = "auto", output_limit: int = OUTPUT_LIMIT, log=None) -> SubmissionResult:
    """Check one submission folder; every check id of :data:`ffnn.check.CHECK_IDS` is reported, in order.

    Parameters
    ----------
    path : path of the submission folder (the course template's layout)
    parts : iterable of str (or one comma-separated str), default all of :data:`ffnn.check.PARTS`
        The parts not asked for are reported as ``skip``.
    timeout : float
        Wall-clock seconds each code part may run.
    memory_bytes : int
        Address-space limit of each part's child process.
    sandbox : {"auto", "required", "off"}
        ``"required"`` raises :class:`ffnn.check.SandboxUnavailable` before
        running anything when bubblewrap is missing; ``"auto"`` then runs
        without it after one ``log`` line.
    output_limit : int
        Bytes of each part's printed output that are kept (the last ones).
    log : callable taking one str, optional
    """
    parts = tuple(p.strip() for p in parts.split(",")) if isinstance(parts, str) else tuple(parts)
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise ValueError(f"parts must be among {', '.join(PARTS)}, got {unknown[0]!r}")
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if not memory_bytes > 0:
        raise ValueError(f"memory_bytes must be positive, got {memory_bytes!r}")
    sandboxed = resolve(sandbox, log)
    folder = Path(path)
    if not folder.is_dir():
        raise NotADirectoryError(f"{path}: not a submission folder")
    code_parts = [p for p in parts if p in JUDGES]
    checks = [scope.check_scope(folder, code_parts)]
    for part in PARTS:
        if part not in parts:
            checks += _skips(part, f"the {part} part was not asked for (--parts {','.join(parts)})")
        elif part == "notebook":
            checks += _notebook_checks(folder)
        else:
            checks += run_part(part, folder, timeout=timeout, memory_bytes=memory_bytes, sandboxed=sandboxed,
                               output_limit=output_limit, log=log)
    order = {i: n for n, i in enumerate(j for ids in CHECK_IDS.values() for j in ids)}
    checks.sort(key=lambda c: order.get(c.id, len(order)))
    return SubmissionResult(str(path), checks)


def check_submissions(paths, jobs: int = 1, on_result=None, **kwargs) -> list:
    """:func:`check_submission` for each path, ``jobs`` at a time; results in the order of ``paths``.

    Every part of every submission runs in its own child with fixed seeds and
    inputs, so the results do not depend on ``jobs``. ``on_result``, if
    given, is called with each :class:`SubmissionResult` as soon as it is
    finished (the progress line of ``ffnn check``), from the thread that
    checked it, one call at a time.
    """
    paths = list(paths)
    if not (isinstance(jobs, int) and jobs >= 1):
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    kwargs = {**kwargs, "log": _once(kwargs.get("log"))}
    resolve(kwargs.get("sandbox", "auto"), kwargs["log"])  # refuses (or says so) once, before any run
    protocol.learning_data()  # loaded once here, not by each thread
    lock = threading.Lock()

    def one(path):
        result = check_submission(path, **kwargs)
        if on_result is not None:
            with lock:
                on_result(result)
        return result
    if jobs == 1 or len(paths) < 2:
        return [one(p) for p in paths]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, paths))


def _once(log):
    """``log`` that says each distinct line once (the sandbox notice of many submissions)."""
    if log is None:
        return None
    seen = set()

    def say(line):
        if line not in seen:
            seen.add(line)
            log(line)
    return say
