"""Edges of the MNIST-style preprocessing that the drawn digits of test_imaging do not reach: palette and
float images, the centre of mass of faint and blank images. Written for mutants that survived."""
import numpy as np
import pytest
from PIL import Image, ImageDraw

from ffnn.imaging import center_of_mass, mnist_like


def four(img, fill):
    d = ImageDraw.Draw(img)
    d.line([(50, 20), (20, 80), (90, 80)], fill=fill, width=8)
    d.line([(70, 40), (70, 110)], fill=fill, width=8)
    return img


@pytest.fixture(scope="module")
def reference():
    return mnist_like(four(Image.new("L", (120, 130), 255), 0))


def test_centre_of_mass_of_faint_and_blank_images():
    faint = np.zeros((5, 7))
    faint[1, 4] = 0.5  # total mass 0.5: still a centre
    assert center_of_mass(faint) == (1.0, 4.0)
    two = np.zeros((4, 4))
    two[0, 0], two[3, 1] = 1.0, 3.0
    assert center_of_mass(two) == pytest.approx((9 / 4, 3 / 4))
    with pytest.raises(ValueError, match=r"^the image is blank: no centre of mass$"):
        center_of_mass(np.zeros((3, 3)))


def test_a_palette_image_with_a_transparent_index(reference):
    # black ink on a transparent black background: only the transparency tells ink from paper
    img = Image.new("P", (120, 130), 0)
    img.putpalette([0, 0, 0] * 256)
    four(img, 1)
    img.info["transparency"] = 0
    np.testing.assert_allclose(mnist_like(img), reference, atol=1e-6)


def test_a_float_image_is_stretched_to_its_own_range(reference):
    # mode F with paper at 0.5 and ink at 0.0: far from 0-255, so only stretching lo..hi finds the digit
    img = four(Image.new("L", (120, 130), 255), 0)
    f = Image.fromarray(np.asarray(img, dtype=np.float32) / 510.0, mode="F")
    np.testing.assert_allclose(mnist_like(f), reference, atol=1e-5)
    flat = Image.fromarray(np.full((20, 20), 0.25, np.float32), mode="F")
    with pytest.raises(ValueError, match="no digit found"):
        mnist_like(flat, name="flat")


def _rgba_digit(levels, alphas):
    """A '4' on a fully transparent canvas, drawn in bands (each a pixel lower than the last) whose ink
    level and alpha are ``levels[i]`` and ``alphas[i]``: anti-aliased strokes with uneven ink."""
    mask = np.asarray(four(Image.new("L", (120, 130), 0), 255)) > 0
    rgba = np.zeros(mask.shape + (4,), np.uint8)
    rows, cols = np.nonzero(mask)
    for i in reversed(range(len(alphas))):  # the first band is drawn last, on top
        r = np.clip(rows + i, 0, mask.shape[0] - 1)
        rgba[r, cols, :3] = levels[i]
        rgba[r, cols, 3] = alphas[i]
    return Image.fromarray(rgba, mode="RGBA")


def _composited(img):
    """The documented rule by hand: fill transparency with the shade opposite to the (mostly opaque) ink."""
    la = np.asarray(img.convert("LA"), dtype=np.float64) / 255.0
    lum, alpha = la[..., 0], la[..., 1]
    opaque = alpha > 0.5
    ink = lum[opaque].mean() if opaque.any() else 0.0
    background = 1.0 if ink < 0.5 else 0.0
    return Image.fromarray((lum * alpha + background * (1.0 - alpha)).astype(np.float32), mode="F")


@pytest.mark.parametrize("levels, alphas", [
    ((0, 60, 120), (255, 200, 90)),     # dark ink: the transparency becomes white paper
    ((255, 200, 140), (255, 200, 90)),  # light ink: the transparency becomes black
    ((0, 60, 120), (100, 60, 30)),      # faint ink, nowhere more than half opaque: still dark ink on white
    ((255, 200, 140), (100, 60, 30)),   # faint light ink: no opaque pixel, so it too is put on white
])
def test_transparency_is_filled_as_documented(levels, alphas):
    img = _rgba_digit(levels, alphas)
    np.testing.assert_allclose(mnist_like(img), mnist_like(_composited(img)), atol=1e-5)


# ink and paper both above 255: clipping to 8 bits would leave a blank image; stretching finds the digit,
# whichever of ink and paper is the brighter
@pytest.mark.parametrize("mode, lo, hi, bright_ink", [("I;16", 600, 1000, False), ("I;16", 300, 1000, True),
                                                      ("I", 300, 100_000, False)])
def test_wide_integer_images_are_stretched_not_clipped(reference, mode, lo, hi, bright_ink):
    arr = np.asarray(four(Image.new("L", (120, 130), 255), 0), dtype=np.float64) / 255.0
    arr = 1.0 - arr if bright_ink else arr
    wide = (lo + arr * (hi - lo)).astype(np.int32)
    img = Image.fromarray(wide.astype(np.uint16) if mode == "I;16" else wide)
    assert img.mode == mode
    np.testing.assert_allclose(mnist_like(img), reference, atol=1e-6)


def test_load_digit_limit_is_inclusive_and_directories_are_named(tmp_path):
    from test_fuzz_image import _png_header_only

    from ffnn.imaging import MAX_PIXELS, load_digit

    side = int(MAX_PIXELS ** 0.5)
    assert side * side == MAX_PIXELS  # 8000 x 8000: exactly the limit is decoded (and fails as truncated)
    path = tmp_path / "limit.png"
    path.write_bytes(_png_header_only(side, side))
    with pytest.raises(ValueError, match="cannot read the image"):
        load_digit(path)
    with pytest.raises(ValueError, match=rf"^{tmp_path}: is a directory, not an image$"):
        load_digit(tmp_path)


def _lopsided(where):
    """A thin 60-pixel bar with a heavy 20x40 block at one end: the centre of mass lies far from the middle."""
    img = np.zeros((100, 100), np.uint8)
    img[20:80, 49:51] = 255
    if where in ("bottom", "right"):
        img[60:80, 30:70] = 255
    else:
        img[20:40, 30:70] = 255
    return img.T.copy() if where in ("left", "right") else img


@pytest.mark.parametrize("where, edge", [("bottom", (0, None)), ("top", (-1, None)), ("right", (None, 0)),
                                         ("left", (None, -1))])
def test_a_lopsided_digit_is_shifted_as_far_as_the_field_allows(where, edge):
    out = mnist_like(_lopsided(where))
    rows, cols = np.flatnonzero(out.any(axis=1)), np.flatnonzero(out.any(axis=0))
    # the 20-pixel side fits, whole: clipped to the field's edge, not cut off and not one pixel short of it
    assert out.shape == (28, 28) and max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 >= 20
    row, col = edge
    if row is not None:
        assert out[row].any(), (where, rows)
    if col is not None:
        assert out[:, col].any(), (where, cols)


def test_arrays_of_every_accepted_shape(reference):
    gray = np.asarray(four(Image.new("L", (120, 130), 255), 0))
    rgb = np.stack([gray] * 3, axis=-1)
    rgba = np.concatenate([rgb, np.full(gray.shape + (1,), 255, np.uint8)], axis=-1)
    for arr in (gray, rgb, rgba, gray / 255.0, gray / 127.5 - 0.5):  # floats clipped to [0, 1]
        np.testing.assert_allclose(mnist_like(arr), reference, atol=1e-6)
    for bad in (np.zeros((4, 4, 2)), np.zeros((2, 4, 4, 3)), np.zeros(5)):
        with pytest.raises(ValueError, match=rf"^image: expected an image array \(h, w\) or \(h, w, 3\|4\), "):
            mnist_like(bad)


def test_integer_arrays_are_clipped_to_0_255_and_one_pixel_strokes_stay_one_pixel(reference):
    gray = np.asarray(four(Image.new("L", (120, 130), 255), 0)).astype(np.int32)
    wide = np.where(gray > 0, np.where(np.arange(120) < 60, 300, 600), np.where(np.arange(130)[:, None] < 65,
                                                                                 -50, -200))
    # ink at -50 and -200, paper at 300 and 600: clipped to 0 and 255 it is the plain digit; wrapped round
    # in uint8 it would be two inks on two papers
    np.testing.assert_allclose(mnist_like(wide), reference, atol=1e-6)
    line = np.zeros((60, 60), np.uint8)
    line[10:50, 30] = 255  # 40 tall, 1 wide: scaled by 1/2, the width rounds to 0 and is kept at 1
    assert np.flatnonzero(mnist_like(line).any(axis=0)).size == 1
    assert np.flatnonzero(mnist_like(line.T.copy()).any(axis=1)).size == 1  # and 1 tall, lying down


def test_light_ink_on_dim_paper(reference):
    img = four(Image.new("L", (120, 130), 50), 200)  # an 8-bit image is read on its absolute scale
    np.testing.assert_allclose(mnist_like(img), reference, atol=1e-6)
