"""The child process that runs one part's probes on a submission (``python -m ffnn.check.child``).

This module and the ``probe_*`` modules are the only ffnn code that runs
next to the submission's code; they measure, they never judge. Usage::

    python -m ffnn.check.child PART IO_DIR SUBMISSION_DIR MEMORY_BYTES

The child caps its own address space first (soft and hard ``RLIMIT_AS``,
which the submission cannot raise again) and the size of the files it writes, puts the submission's folder first
on ``sys.path``, reads its inputs from ``IO_DIR/inputs.npz`` and runs
``ffnn.check.probe_PART.run(recorder, inputs)``. Each probe hands back plain
arrays in ``IO_DIR/NAME.npz`` and a line of JSON-able facts; after every probe
``IO_DIR/result.json`` is rewritten, so the probes that finished before a
crash or a time-out still count. The checking process loads the arrays with
``allow_pickle=False`` and compares them itself.
"""
from __future__ import annotations

import contextlib
import importlib
import json
import os
import resource
import sys
import traceback

__all__ = ["Recorder", "last_line", "main", "FILE_LIMIT"]

#: The largest file the child may write (``RLIMIT_FSIZE``).
FILE_LIMIT = 1 << 30


def last_line(exc: BaseException) -> str:
    """The last line of the traceback (``KeyError: 'w'``), or what ``sys.exit`` was called with."""
    if isinstance(exc, SystemExit):
        return f"the code called sys.exit({exc.code!r})"
    if isinstance(exc, KeyboardInterrupt):
        return "KeyboardInterrupt"
    if isinstance(exc, SyntaxError):
        return f"{type(exc).__name__}: {exc.msg} ({os.path.basename(exc.filename or '?')}, line {exc.lineno})"
    return traceback.format_exception_only(type(exc), exc)[-1].strip()


def _where(exc: BaseException, folder: str) -> str | None:
    """``file.py, line N, in name`` of the innermost frame in the submission's folder."""
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.isabs(frame.filename) and frame.filename.startswith(folder + os.sep):
            found = f"{os.path.basename(frame.filename)}, line {frame.lineno}, in {frame.name}"
    return found


class Recorder:
    """Collects what each probe measured and writes it to the I/O folder as it goes."""

    def __init__(self, io_dir: str, folder: str):
        self.io_dir, self.folder = io_dir, folder
        self.probes = {}

    @contextlib.contextmanager
    def probe(self, name: str, **facts):
        """Run a block as probe ``name``; an exception (even ``SystemExit``) ends only this probe.

        Inside, ``facts`` (a dict) takes JSON-able values and ``arrays`` (a dict)
        takes NumPy arrays; both are saved when the block ends.
        """
        entry = {"ok": False, "facts": dict(facts)}
        arrays = {}
        self.probes[name] = entry
        try:
            yield entry["facts"], arrays
            entry["ok"] = True
        except BaseException as exc:  # noqa: BLE001 - whatever the submission raises is a finding
            entry["error"] = last_line(exc)
            entry["type"] = type(exc).__name__
            entry["where"] = _where(exc, self.folder)
        finally:
            if arrays:
                import numpy as np

                np.savez(os.path.join(self.io_dir, f"{name}.npz"),
                         **{k: np.asarray(v) for k, v in arrays.items()})
                entry["arrays"] = sorted(arrays)
            self._save()

    def failed(self, name: str, after: str) -> None:
        """Record probe ``name`` as not run because probe ``after`` failed (with ``after``'s error)."""
        cause = self.probes[after]
        self.probes[name] = {"ok": False, "facts": {}, "error": cause.get("error"), "type": cause.get("type"),
                             "where": cause.get("where"), "after": after}
        self._save()

    def _save(self) -> None:
        path = os.path.join(self.io_dir, "result.json")
        with open(path + ".tmp", "w") as f:
            json.dump({"probes": self.probes}, f, default=repr)
        os.replace(path + ".tmp", path)


def main(argv=None) -> int:
    part, io_dir, folder, memory = (argv or sys.argv[1:])[:4]
    memory = int(memory)
    if memory > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # No file it writes (in its folder or its /tmp, which lives in memory) may grow past this.
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))
    folder = os.path.abspath(folder)
    sys.path.insert(0, folder)
    os.chdir(folder)
    import numpy as np

    with np.load(os.path.join(io_dir, "inputs.npz"), allow_pickle=False) as data:
        inputs = {k: data[k] for k in data.files}
    recorder = Recorder(os.path.abspath(io_dir), folder)
    probe = importlib.import_module(f"ffnn.check.probe_{part}")
    probe.run(recorder, inputs)
    return 0


if __name__ == "__main__":
    # os._exit: a submission's atexit handlers or lingering threads do not get the last word.
    sys.stdout.flush()
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
