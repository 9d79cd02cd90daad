"""Run one part of a submission in a child process, with limits, under bubblewrap when present.

The child sees the whole file system read-only, except one private folder
(``workdir``: a copy of the submission, the data it is given and the files it
hands back) and an empty ``/tmp``; it has no network and its own PID namespace,
so every process it starts ends when it ends (``bwrap --unshare-pid
--die-with-parent``). Without bubblewrap (``sandbox="auto"`` after one log
line, or ``"off"``) it runs as a plain child process in its own process group.

Limits: the wall clock (``timeout``: the whole process group is killed), the
address space (``memory_bytes``, set by the child itself with
``resource.RLIMIT_AS`` before it imports anything of the submission, soft and
hard, so the submission cannot raise it), and the captured output (stdout and
stderr are drained as they come, and only the last ``output_limit`` bytes are
kept, so a submission that prints 100 MB costs no memory).
"""
from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SANDBOX_MODES", "SandboxUnavailable", "ChildRun", "bwrap", "resolve", "run_child"]

SANDBOX_MODES = ("auto", "required", "off")


class SandboxUnavailable(Exception):
    """``sandbox="required"`` but bubblewrap is missing or does not work here."""


@dataclass
class ChildRun:
    """How a child process ended and the tail of what it printed."""

    returncode: int | None  # None: killed after the time-out
    timed_out: bool
    output_tail: str
    output_bytes: int  # all it printed, of which only the tail was kept

    @property
    def output_cut(self) -> bool:
        return self.output_bytes > len(self.output_tail.encode("utf-8", "replace"))


@functools.lru_cache(maxsize=1)
def bwrap() -> str | None:
    """The path of a working ``bwrap``, or None (missing, or user namespaces are disabled)."""
    path = shutil.which("bwrap")
    if path is None:
        return None
    try:
        done = subprocess.run([path, "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid", "true"],
                              capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return path if done.returncode == 0 else None


def resolve(mode: str, log=None) -> bool:
    """Whether to run under bubblewrap for ``mode`` (see :data:`SANDBOX_MODES`).

    Raises :class:`SandboxUnavailable` for ``"required"`` without a working
    bubblewrap; ``"auto"`` without it calls ``log`` with one line saying so.
    """
    if mode not in SANDBOX_MODES:
        raise ValueError(f"sandbox must be one of {', '.join(SANDBOX_MODES)}, got {mode!r}")
    if mode == "off":
        return False
    if bwrap() is not None:
        return True
    if mode == "required":
        raise SandboxUnavailable("the sandbox is required but bubblewrap (bwrap) is not installed or does not "
                                 "work here; install the Debian package 'bubblewrap' or pass --sandbox auto")
    if log is not None:
        log("bubblewrap (bwrap) is not available: the submissions' code runs without the sandbox, "
            "only in child processes with time and memory limits")
    return False


def _code_paths() -> list:
    """Where the child's Python and ffnn live, when that is under /tmp (which the sandbox replaces)."""
    import ffnn

    found = []
    for p in (Path(ffnn.__file__).resolve().parent.parent, Path(sys.prefix), Path(sys.base_prefix),
              Path(sys.executable).resolve().parent):
        p = str(p)
        if (p == "/tmp" or p.startswith("/tmp/")) and p not in found:
            found.append(p)
    return found


def _command(argv: list, workdir: Path, sandboxed: bool) -> list:
    if not sandboxed:
        return list(argv)
    w = str(workdir)
    code = [arg for p in _code_paths() for arg in ("--ro-bind", p, p)]
    return [bwrap(), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", *code,
            "--bind", w, w, "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--die-with-parent", "--new-session", "--chdir", w, *argv]


def _drain(stream, keep: int, tail: bytearray, count: list) -> None:
    # Reads as it comes and keeps only the last ``keep`` bytes.
    for chunk in iter(lambda: stream.read1(1 << 16), b""):
        count[0] += len(chunk)
        tail += chunk
        if len(tail) > 2 * keep:
            del tail[:-keep]
    del tail[:-keep or len(tail)]


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_child(argv: list, workdir, *, timeout: float, sandboxed: bool, output_limit: int,
              env: dict) -> ChildRun:
    """Run ``argv`` in ``workdir`` (inside the sandbox if ``sandboxed``) and wait at most ``timeout`` seconds.

    stdout and stderr go to one pipe, of which the last ``output_limit`` bytes
    are returned. After the time-out, or when the child ends, its whole
    process group is killed (inside the sandbox: its PID namespace ends with it).
    """
    workdir = Path(workdir)
    process = subprocess.Popen(_command(argv, workdir, sandboxed), cwd=workdir, env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    tail, count = bytearray(), [0]
    reader = threading.Thread(target=_drain, args=(process.stdout, max(int(output_limit), 0), tail, count),
                              daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    timed_out = False
    try:
        process.wait(timeout=max(deadline - time.monotonic(), 0))
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        _kill(process)  # also whatever it started in its process group
        process.wait()
    reader.join(timeout=5)  # a process that left the group may still hold the pipe
    process.stdout.close()
    text = bytes(tail).decode("utf-8", "replace")
    return ChildRun(None if timed_out else process.returncode, timed_out, text, count[0])


def python_env(workdir: Path) -> dict:
    """The child's environment: this interpreter's ffnn first on the path, caches in ``workdir``, no GPU."""
    import ffnn

    src = str(Path(ffnn.__file__).resolve().parent.parent)
    home = workdir / "home"
    home.mkdir(exist_ok=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "TMPDIR": "/tmp",
           "PYTHONPATH": src, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "PYTHONUNBUFFERED": "1",
           "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(home), "TF_CPP_MIN_LOG_LEVEL": "2",
           "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "LANG": "C.UTF-8"}
    return env


def interpreter() -> str:
    """The Python that runs the children: this one (the virtual environment's)."""
    return sys.executable
