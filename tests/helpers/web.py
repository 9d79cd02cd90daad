"""What the web tests share: tiny trained runs, one loaded registry, and a real uvicorn server.

The runs are trained once per test process (``ffnn compare`` on 2,000
images for 2 epochs, a few seconds) and the registry is loaded once, so the
API, load and browser tests do not each pay for TensorFlow's start-up.
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import importlib.util
import io
import shutil
import tempfile
from pathlib import Path

import numpy as np


def backends() -> tuple:
    """numpy, and torch and tensorflow where they are installed."""
    names = [("numpy", "numpy"), ("torch", "torch"), ("tensorflow", "tensorflow")]
    return tuple(b for b, module in names if importlib.util.find_spec(module) is not None)


@functools.lru_cache(maxsize=None)
def compare_dir() -> Path:
    """A comparison directory with one tiny run per available backend."""
    from ffnn.cli import main

    out = Path(tempfile.mkdtemp(prefix="ffnn-web-")) / "compare"
    atexit.register(shutil.rmtree, out.parent, True)
    status = main(["compare", "--backends", ",".join(backends()), "--n-train", "2000", "--epochs", "2",
                   "--val-size", "200", "--out", str(out)])
    if status != 0:
        raise RuntimeError(f"ffnn compare for the web tests exited with {status}")
    return out


@functools.lru_cache(maxsize=None)
def registry():
    from ffnn.web.registry import Registry

    return Registry.from_paths([compare_dir()])


def png(image) -> bytes:
    """PNG bytes of a PIL image or a uint8 array."""
    from PIL import Image

    if not isinstance(image, Image.Image):
        image = Image.fromarray(np.asarray(image, dtype=np.uint8))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def stroke_png(size: int = 280) -> bytes:
    """Black vertical stroke on white, as drawn on the page's pad: a 1."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (size, size), 255)
    ImageDraw.Draw(img).line([(size // 2, size // 7), (size // 2, size - size // 7)], fill=0, width=18)
    return png(img)


def live_server(reg=None):
    """A real uvicorn serving ``reg`` (default :func:`registry`) on 127.0.0.1 and a free port; yields the URL."""
    from ffnn.web.serve import background

    return background(reg or registry())


#: Debian's Chromium (Playwright cannot download its own browsers here).
CHROMIUM = "/usr/bin/chromium"


@contextlib.contextmanager
def chromium():
    """Headless Chromium driven by Playwright; yields the browser."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def open_page(browser, url, height: int, timeout_ms: int, ready=("body[data-ready=true]",)):
    """A page of ``url`` once every selector in ``ready`` is there; yields ``(page, JavaScript errors)``."""
    page = browser.new_page(viewport={"width": 1280, "height": height})
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(timeout_ms)
    page.goto(url)
    for selector in ready:
        page.wait_for_selector(selector)
    try:
        yield page, errors
    finally:
        page.close()
