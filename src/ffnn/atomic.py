"""Atomic file writes: a reader (or a crash, or Ctrl-C) sees the old file or
the complete new one, never half of one.

Everything ffnn writes (cached arrays, weights, models, run files, plots)
goes through :func:`replacing`: the new content is written to a temporary
file in the target's directory, flushed, and renamed over the target.
"""
from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

__all__ = ["replacing", "atomic_write", "atomic_write_text"]


def _create_beside(path: Path, suffix: str) -> Path:
    """A new, empty, uniquely named file in ``path``'s directory, with the permissions the umask gives.

    Created as ``open(..., O_CREAT | O_EXCL, 0o666)`` does, so the kernel
    applies the process's umask (and a directory's default ACL): the result
    has the permissions any new file would get, without reading or changing
    the umask (``tempfile.mkstemp`` makes 0600 files).
    """
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp{suffix}"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(f"{path.parent}: cannot create a temporary file beside {path.name}")


@contextlib.contextmanager
def replacing(path, suffix: str = ""):
    """Yield a temporary path beside ``path``; when the block succeeds, rename it to ``path``.

    ``suffix`` ends the temporary name, for writers that insist on one (Keras
    wants ``.keras``). If the block raises, or is interrupted, the temporary
    file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _create_beside(path, suffix)
    try:
        yield tmp
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
