"""Running the ``ffnn`` command line from a test: in this process, or in a fresh interpreter."""
from __future__ import annotations

import os
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

#: ``ffnn`` in a fresh interpreter (``subprocess``), taking SIGINT as KeyboardInterrupt even when the tests run
#: in a background job (whose children ignore it); run it with :func:`env`.
FFNN = [sys.executable, "-c", "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
                              "from ffnn.cli import main; sys.exit(main())"]


def env() -> dict:
    """The environment for :data:`FFNN`: this checkout's sources first on the path."""
    return {**os.environ, "PYTHONPATH": str(SRC)}


def ffnn(capsys, *argv):
    """Run ``ffnn argv`` in this process; return ``(exit status, stdout, stderr)``."""
    from ffnn.cli import main

    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def ffnn_ok(capsys, *argv) -> str:
    """Run ``ffnn argv`` in this process, which must succeed; return its stdout."""
    rc, out, err = ffnn(capsys, *argv)
    assert rc == 0, err
    return out
