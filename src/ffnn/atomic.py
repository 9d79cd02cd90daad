"""Atomic file writes: a reader (or a crash, or Ctrl-C) sees the old file or
the complete new one, never half of one.

Everything ffnn writes (cached arrays, weights, models, run files, plots)
goes through :func:`replacing`: the new content is written to a temporary
file in the target's directory, flushed, and renamed over the target.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["replacing", "atomic_write", "atomic_write_text"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()


@contextlib.contextmanager
def replacing(path, suffix: str = ""):
    """Yield a temporary path beside ``path``; when the block succeeds, rename it to ``path``.

    ``suffix`` ends the temporary name, for writers that insist on one (Keras
    wants ``.keras``). If the block raises, or is interrupted, the temporary
    file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp" + suffix)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual permissions
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path, write, mode: str = "wb") -> Path:
    """Create or replace ``path`` with what ``write(fh)`` writes to an open file in ``mode`` ("wb" or "w")."""
    with replacing(path) as tmp:
        with open(tmp, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": ""})) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
    return Path(path)


def atomic_write_text(path, text: str) -> Path:
    """Create or replace ``path`` with ``text`` (UTF-8)."""
    return atomic_write(path, lambda fh: fh.write(text), mode="w")
