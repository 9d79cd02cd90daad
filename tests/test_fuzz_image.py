"""Fuzzing the image loader (Hypothesis): any file ends in a ValueError naming it, or an MNIST-like digit.

Covers random bytes, real images in every Pillow mode that a file can hold, 1x1 and one-row images, and
a header claiming a huge size, which must be refused before Pillow decodes (or allocates) the pixels.
"""
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image

from ffnn.imaging import MAX_PIXELS, SIZE, load_digit, mnist_like
from helpers.files import png_header_only

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
MODES = ["1", "L", "LA", "P", "PA", "RGB", "RGBA", "CMYK", "YCbCr", "I", "I;16", "F", "LAB", "HSV", "RGBX"]


def check(path):
    """``load_digit(path)``: a (28, 28) float32 digit in [0, 1], or a ValueError that names ``path``."""
    try:
        out = load_digit(path)
    except ValueError as exc:
        assert str(exc).startswith(str(path) + ":"), exc
        return None
    assert out.shape == (SIZE, SIZE) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0 and out.sum() > 0
    return out


@FUZZ
@given(st.binary(max_size=200), st.sampled_from(["x.png", "x.jpg", "x.bmp", "x"]))
def test_random_bytes(tmp_path_factory, raw, name):
    path = tmp_path_factory.mktemp("img") / name
    path.write_bytes(raw)
    check(path)


def _png_bytes(img):
    buf = io.BytesIO()
    img.save(buf, format="TIFF" if img.mode in ("CMYK", "YCbCr", "LAB", "HSV", "RGBX", "I;16", "F")
             else "PNG")
    return buf.getvalue()


@FUZZ
@given(st.sampled_from(MODES), st.integers(1, 12), st.integers(1, 12), st.data())
def test_every_mode_and_tiny_sizes(tmp_path_factory, mode, w, h, data):
    pixels = data.draw(st.binary(min_size=w * h * 4, max_size=w * h * 4), label="pixels")
    img = Image.frombytes("RGBA", (w, h), pixels).convert("RGB")
    try:
        img = img.convert(mode)
    except ValueError:  # Pillow cannot build every mode from RGB; then build it from raw bytes
        img = Image.new(mode, (w, h))
    path = tmp_path_factory.mktemp("img") / "digit.img"
    try:
        raw = _png_bytes(img)
    except (OSError, ValueError, KeyError):  # no file format here can store this mode
        return
    path.write_bytes(raw)
    check(path)


@FUZZ
@given(st.sampled_from(MODES), st.integers(1, 6), st.integers(1, 6))
def test_mnist_like_on_images_of_every_mode(mode, w, h):
    img = Image.linear_gradient("L").resize((w, h)).convert("RGB")
    try:
        img = img.convert(mode)
    except ValueError:
        img = Image.new(mode, (w, h))
    try:
        out = mnist_like(img, name="fuzzed")
    except ValueError as exc:
        assert str(exc).startswith("fuzzed:"), exc
    else:
        assert out.shape == (SIZE, SIZE)


def test_one_pixel_images(tmp_path):
    for value, expect_digit in [(0, False), (255, False)]:
        path = tmp_path / f"p{value}.png"
        Image.new("L", (1, 1), value).save(path)
        assert (check(path) is not None) == expect_digit
    line = tmp_path / "line.png"
    Image.fromarray(np.array([[0, 255, 255, 0, 0, 0]], dtype=np.uint8)).save(line)
    out = check(line)  # a one-row stroke on a dark background is a (very flat) digit
    assert out is not None and out.sum() > 0


@pytest.mark.parametrize("width,height", [(9000, 9000), (100_000, 100_000), (2**31 - 1, 1), (1, 2**31 - 1)])
def test_huge_dimensions_in_the_header_are_refused_before_decoding(tmp_path, width, height):
    path = tmp_path / "huge.png"
    path.write_bytes(png_header_only(width, height))
    with pytest.raises(ValueError) as err:
        load_digit(path)
    assert str(err.value).startswith(f"{path}:")
    # ours names the size; beyond 2 * PIL.Image.MAX_IMAGE_PIXELS Pillow's own bomb check refuses it first
    assert f"{width}x{height} pixels" in str(err.value) or "exceeds limit" in str(err.value)


def test_the_limit_is_above_real_photos(tmp_path):
    assert MAX_PIXELS >= 48_000_000  # a 48-megapixel phone photo still loads
