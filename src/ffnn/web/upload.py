"""Uploaded images: size limits, safe decoding, and the MNIST preprocessing of ``ffnn predict``.

Two limits protect the server: the request body is counted while it is read
(:class:`BodyLimit`, an ASGI middleware) and refused past ``MAX_UPLOAD_BYTES``;
an image's pixel count is read from its header, before any pixel is decoded,
and refused past ``MAX_PIXELS`` (a small compressed file can hold a huge
image: a decompression bomb). Only common raster formats are opened, never
formats that run external programs (Pillow's EPS calls Ghostscript).
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

from ..imaging import ImageTooLarge, Steps, mnist_steps, open_image

__all__ = ["MAX_UPLOAD_BYTES", "MAX_PIXELS", "FORMATS", "UploadError", "TooLarge", "BodyLimit",
           "decode", "preview"]

MAX_UPLOAD_BYTES = 5 * 2**20   # 5 MiB: a phone photo fits, a flood does not
MAX_PIXELS = 16_000_000        # 16 megapixels: a 4000x4000 image decodes to 16 MB of grayscale
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")
PREVIEW = 56                   # the longer side of the step images sent to the page


class UploadError(ValueError):
    """A bad upload: answered with 400 and this one-line message."""


class TooLarge(ValueError):
    """An upload over a limit: answered with 413 and this one-line message."""


def decode(data: bytes, name: str = "image") -> Steps:
    """The preprocessing steps (:func:`ffnn.imaging.mnist_steps`) of the image file ``data``.

    Opened by :func:`ffnn.imaging.open_image`, as :func:`ffnn.imaging.load_digit`
    opens a file (here with the limits above), and preprocessed the same way,
    so the 28x28 result is the one ``ffnn predict`` gets for the same bytes.

    Raises
    ------
    TooLarge
        If the header declares more than ``MAX_PIXELS`` pixels.
    UploadError
        If ``data`` is not an image of a listed format, is damaged, or holds no digit.
    """
    try:
        img = open_image(io.BytesIO(data), MAX_PIXELS, FORMATS, name=name)
    except ImageTooLarge as exc:
        raise TooLarge(str(exc)) from None
    except ValueError as exc:
        raise UploadError(str(exc)) from None
    with img:
        try:
            return mnist_steps(img, name=name)
        except ValueError as exc:
            raise UploadError(str(exc)) from None


def preview(a: np.ndarray, side: int = PREVIEW) -> list:
    """``a`` (h, w) in [0, 1] shrunk (area average) so that its longer side is at most ``side``, as lists."""
    a = np.asarray(a, dtype=np.float32)
    h, w = a.shape
    scale = min(1.0, side / max(h, w))
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        a = np.asarray(Image.fromarray(a, mode="F").resize(size, Image.Resampling.BOX))
    return np.round(np.clip(a, 0.0, 1.0), 4).tolist()


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes is refused with 413.

    A declared ``Content-Length`` over the limit is refused before reading;
    otherwise the bytes are counted as they arrive and :class:`TooLarge` is
    raised inside whoever reads past the limit (the app turns it into 413).
    """

    def __init__(self, app, limit: int = MAX_UPLOAD_BYTES):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await _send_413(send, self._message(int(declared)))
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise TooLarge(self._message(seen, at_least=True))
            return message

        return await self.app(scope, counted, send)

    def _message(self, size: int, at_least: bool = False) -> str:
        more = "more than " if at_least else ""
        return f"upload of {more}{size:,} bytes is over the limit of {self.limit:,} bytes"


async def _send_413(send, message: str) -> None:
    import json

    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
