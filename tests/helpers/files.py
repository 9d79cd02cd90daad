"""Writers of the files ffnn reads, independent of ffnn's own readers: IDX datasets and tiny PNGs."""
from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np


def idx_bytes(array) -> bytes:
    """An IDX file of uint8 ``array``: magic 0x0801 (1-D labels) or 0x0803 (3-D images), big-endian sizes."""
    array = np.asarray(array)
    magic = 0x803 if array.ndim == 3 else 0x801
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx(path, array, gz: bool = False) -> Path:
    """Write ``array`` as an IDX file at ``path`` (gzip-compressed if ``gz``)."""
    raw = idx_bytes(array)
    path = Path(path)
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims ``width`` x ``height`` and whose pixel data is a few bytes."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) \
        + chunk(b"IEND", b"")
