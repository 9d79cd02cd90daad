"""MNIST-style preprocessing of digit images (ffnn.imaging) on synthetic and real digits, and its edges.

Every example-based test of imaging.py is here. The Hypothesis fuzz campaign of the image loader stays in
``test_fuzz_image.py``, named after the input it fuzzes, with its own settings and many examples per test.
"""
import numpy as np
import pytest
from PIL import Image, ImageDraw

from ffnn.imaging import CENTER, center_of_mass, load_digit, mnist_like
from helpers.files import png_header_only


def draw_four(size=(400, 300), box=(60, 40, 200, 260), width=18, ink=0, paper=255, mode="L"):
    """A '4' (three strokes) drawn in ``box`` (left, top, right, bottom) on a ``size`` canvas."""
    img = Image.new(mode, size, paper)
    d = ImageDraw.Draw(img)
    l, t, r, b = box
    w, h = r - l, b - t
    d.line([(l + 0.6 * w, t), (l, t + 0.65 * h), (r, t + 0.65 * h)], fill=ink, width=width)
    d.line([(l + 0.75 * w, t + 0.3 * h), (l + 0.75 * w, b)], fill=ink, width=width)
    return img


def bbox(a):
    rows, cols = np.flatnonzero(a.any(1)), np.flatnonzero(a.any(0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def mass_centre(a):
    # written out here rather than taken from ffnn.imaging
    r, c = np.indices(a.shape)
    return (r * a).sum() / a.sum(), (c * a).sum() / a.sum()


def check_mnist_shape(out):
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1 and out.max() > 0.9
    cy, cx = mass_centre(out)
    assert abs(cy - CENTER) <= 0.5 and abs(cx - CENTER) <= 0.5
    h, w = bbox(out > 0)
    assert max(h, w) in (19, 20, 21) and h <= 21 and w <= 21  # Lanczos may leave a faint 1-pixel fringe
    assert bbox(out > 0.05)[0] <= 20 and bbox(out > 0.05)[1] <= 20
    # the four corners of the field are background, as in MNIST
    assert out[:4, :4].max() == out[-4:, -4:].max() == 0


def test_dark_on_light_large_off_centre():
    img = draw_four(size=(900, 700), box=(620, 330, 820, 670), width=40)  # bottom-right corner, 340 px tall
    out = mnist_like(img)
    check_mnist_shape(out)
    h, w = bbox(out > 0.05)
    assert abs(h - 20) <= 1 and w <= 16  # taller than wide: the height fills the box


def test_inverted_gives_the_same_digit():
    dark_on_light = mnist_like(draw_four(ink=0, paper=255))
    light_on_dark = mnist_like(draw_four(ink=255, paper=0))
    np.testing.assert_allclose(dark_on_light, light_on_dark, atol=1e-6)


def test_position_does_not_matter():
    a = mnist_like(draw_four(box=(20, 20, 160, 240)))
    b = mnist_like(draw_four(box=(230, 50, 370, 270)))
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_scale_barely_matters():
    small = mnist_like(draw_four(size=(200, 150), box=(30, 20, 100, 130), width=9))
    large = mnist_like(draw_four(size=(800, 600), box=(120, 80, 400, 520), width=36))
    check_mnist_shape(small)
    assert np.corrcoef(small.ravel(), large.ravel())[0, 1] > 0.95


def test_tiny_digit_is_enlarged_and_aspect_is_kept():
    img = Image.new("L", (100, 100), 255)
    ImageDraw.Draw(img).rectangle((40, 45, 47, 46), fill=0)  # 8 x 2 bar
    out = mnist_like(img)
    h, w = bbox(out > 0.5)
    assert w == 20 and h in (5, 6)
    cy, cx = mass_centre(out)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_grey_paper_rgb_and_transparent_backgrounds():
    reference = mnist_like(draw_four())
    grey_rgb = draw_four(ink=(40, 40, 60), paper=(190, 185, 180), mode="RGB")
    assert np.corrcoef(mnist_like(grey_rgb).ravel(), reference.ravel())[0, 1] > 0.98
    transparent = draw_four(ink=(0, 0, 0, 255), paper=(0, 0, 0, 0), mode="RGBA")
    np.testing.assert_allclose(mnist_like(transparent), reference, atol=1e-6)
    white_on_transparent = draw_four(ink=(255, 255, 255, 255), paper=(255, 255, 255, 0), mode="RGBA")
    np.testing.assert_allclose(mnist_like(white_on_transparent), reference, atol=1e-6)


def test_recovers_real_mnist_digits(mnist):
    """Blow MNIST test digits up 10x, invert them, put them off-centre on paper: the result is the digit."""
    _, (x_test, _) = mnist
    corr = []
    for digit in x_test[:20]:
        big = np.asarray(Image.fromarray(digit).resize((280, 280), Image.Resampling.BILINEAR))
        paper = np.full((500, 400), 255, np.uint8)
        paper[37:317, 91:371] = 255 - big
        out = mnist_like(paper)
        corr.append(np.corrcoef(out.ravel(), digit.ravel())[0, 1])
    assert np.mean(corr) > 0.9 and min(corr) > 0.7


def test_arrays_are_accepted():
    img = draw_four()
    as_uint8 = mnist_like(np.asarray(img))
    as_float = mnist_like(np.asarray(img) / 255.0)
    np.testing.assert_allclose(as_uint8, mnist_like(img), atol=1e-6)
    np.testing.assert_allclose(as_float, as_uint8, atol=1e-6)
    with pytest.raises(ValueError, match=r"expected an image array .* got shape \(2, 3, 5\)"):
        mnist_like(np.zeros((2, 3, 5)))


def test_blank_image_is_an_error():
    with pytest.raises(ValueError, match="blank.png: no digit found"):
        mnist_like(Image.new("L", (50, 50), 200), name="blank.png")


def test_load_digit_files(tmp_path):
    png, jpg = tmp_path / "four.png", tmp_path / "four.jpg"
    draw_four().save(png)
    draw_four().convert("RGB").save(jpg, quality=90)
    a, b = load_digit(png), load_digit(jpg)
    check_mnist_shape(b)
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.98
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(ValueError, match="notes.png: not an image"):
        load_digit(tmp_path / "notes.png")
    with pytest.raises(ValueError, match="missing.png: file not found"):
        load_digit(tmp_path / "missing.png")
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(png.read_bytes()[:200])
    with pytest.raises(ValueError, match="truncated.png: cannot read the image"):
        load_digit(truncated)


def test_open_image_is_the_one_opener_with_each_callers_limits(tmp_path):
    import io
    import warnings

    from ffnn.imaging import ImageError, ImageTooLarge, open_image
    from ffnn.web import upload
    from helpers.files import png_header_only

    path = tmp_path / "four.png"
    draw_four(size=(40, 30), box=(5, 4, 20, 26), width=3).save(path)
    with open_image(path, max_pixels=40 * 30) as by_path, open_image(io.BytesIO(path.read_bytes())) as by_bytes:
        assert by_path.size == (40, 30) and np.array_equal(np.asarray(by_path), np.asarray(by_bytes))
    with pytest.raises(ImageTooLarge, match=r"four.png: the image is 40x30 pixels, more than the 1,199 "):
        open_image(path, max_pixels=40 * 30 - 1)
    # Only the formats asked for: EPS would run Ghostscript.
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"
    with pytest.raises(ImageError, match=r"^upload: not an image \(PNG, JPEG are accepted\)$"):
        open_image(io.BytesIO(eps), formats=("PNG", "JPEG"), name="upload")
    # 144 megapixels declared in a few bytes: refused from the header in one line, without Pillow's warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ImageTooLarge, match="12000x12000 pixels"):
            open_image(io.BytesIO(png_header_only(12000, 12000)), name="bomb")
    # The web upload uses it with its own limit (16 MP) and formats, and keeps its own error types (413, 400).
    with pytest.raises(upload.TooLarge, match="5000x4000 pixels, more than the 16,000,000"):
        upload.decode(png_header_only(5000, 4000), name="big.png")
    with pytest.raises(upload.UploadError, match="not an image \\(PNG, JPEG, GIF, BMP, WEBP, TIFF are accepted\\)"):
        upload.decode(eps)


# ------------------------------------------ palette and float images, the centre of mass, the background
#
# Edges of the MNIST-style preprocessing that the drawn digits above do not reach: palette and
# float images, the centre of mass of faint and blank images. Written for mutants that survived.


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
    from ffnn.imaging import MAX_PIXELS, load_digit

    side = int(MAX_PIXELS ** 0.5)
    assert side * side == MAX_PIXELS  # 8000 x 8000: exactly the limit is decoded (and fails as truncated)
    path = tmp_path / "limit.png"
    path.write_bytes(png_header_only(side, side))
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


# ----------------------------------------------------------------------------------------------------
# Written for the mutants of the 2026-11-26 run noted as gaps (tools/mutation_notes.toml): the background
# is the median of every border pixel, 8-bit pixels are read on their absolute 0-255 scale, the crop is
# the ink's bounding box, the resampling filter is Lanczos, and wide or narrow dtypes are computed in
# float64.


def test_the_background_is_the_median_of_every_border_pixel():
    from ffnn.imaging import mnist_steps

    # a 10x10 image whose 36 border pixels are split exactly in half: the top row and the left column
    # at 51, the bottom row and the right column at 102, so the median is 76.5 / 255 = 0.3. Leaving out
    # any border pixel, or a whole side, moves it to 0.2 or 0.4.
    a = np.full((10, 10), 51, np.uint8)
    a[-1, :] = 102
    a[1:-1, -1] = 102
    a[4:6, 4:6] = 255  # the digit
    assert np.median(np.concatenate([a[0], a[-1], a[1:-1, 0], a[1:-1, -1]])) == 76.5
    background = 76.5 / 255
    expected = np.clip((a / 255.0 - background) / (1.0 - background), 0.0, 1.0)
    expected[expected < 0.1] = 0.0  # 102 is 0.1 / 0.7 of full ink above the background: kept
    np.testing.assert_allclose(mnist_steps(a).gray, expected, atol=1e-12)


def test_half_transparent_light_ink_on_a_transparent_canvas_is_light_ink():
    # white strokes at alpha 128: just over half opaque (128 / 255 > 0.5), so they are the ink and the
    # canvas is filled black; read as any less opaque, the canvas would be filled white, the same shade as
    # the composited strokes, and nothing would be left of the digit
    mask = np.asarray(four(Image.new("L", (120, 130), 0), 255)) > 0
    rgba = np.zeros(mask.shape + (4,), np.uint8)
    rgba[mask] = (255, 255, 255, 128)
    light = mnist_like(four(Image.new("L", (120, 130), 0), 255))
    np.testing.assert_allclose(mnist_like(Image.fromarray(rgba, mode="RGBA")), light, atol=1e-6)


def test_eight_bit_images_are_read_on_the_absolute_scale_not_stretched():
    # 10 levels of 255 between ink and paper is a flat image (under the 5% contrast the loader needs);
    # stretched to its own range, as 16-bit and float images are, it would become a full-contrast digit
    img = four(Image.new("L", (120, 130), 0), 10)
    with pytest.raises(ValueError, match=r"^faint: no digit found \(the image is a single flat shade\)$"):
        mnist_like(img, name="faint")
    assert mnist_like(four(Image.new("L", (120, 130), 0), 20)).max() == 1.0  # 20 levels are enough


def test_paper_at_128_of_255_is_light_and_is_inverted(reference):
    # 128 / 255 is over half grey: black ink on it is dark ink on light paper, the same digit as on white.
    # Read as 128 / 256 = 0.5 the paper would not count as light and the image would hold no light ink.
    np.testing.assert_allclose(mnist_like(four(Image.new("L", (120, 130), 128), 0)), reference, atol=1e-6)


def test_float_paper_at_exactly_one_half_is_not_light():
    # float pixels map to 8 bits as 255 * p: paper at 0.5 is 127 of 255, under half, so the white strokes
    # are the digit (mapped as 256 * p it would be 128, over half, and the image inverted to nothing)
    light = mnist_like(four(Image.new("L", (120, 130), 0), 255))
    arr = np.where(np.asarray(four(Image.new("L", (120, 130), 0), 255)) > 0, 1.0, 0.5)
    np.testing.assert_allclose(mnist_like(arr), light, atol=1e-6)


def test_the_crop_is_the_bounding_box_of_the_ink():
    from ffnn.imaging import mnist_steps

    a = np.zeros((50, 40), np.uint8)
    a[10:30, 5:15] = 255  # 20 rows, 10 columns, away from every edge
    steps = mnist_steps(a)
    assert steps.crop.shape == (20, 10) and (steps.crop == 1.0).all()
    assert steps.fitted.shape == (20, 10)
    tall = np.zeros((50, 40), np.uint8)
    tall[5:45, 20:22] = 255  # 40 x 2: scaled by exactly 1/2
    assert mnist_steps(tall).crop.shape == (40, 2) and mnist_steps(tall).fitted.shape == (20, 1)


def test_the_crop_is_resized_with_lanczos():
    from ffnn.imaging import mnist_steps

    # a 7x5 checker-like block upscaled to 20 pixels: Lanczos (3 lobes) and bicubic (Pillow's default)
    # differ by far more than rounding
    a = np.zeros((30, 30), np.uint8)
    block = (np.indices((7, 5)).sum(axis=0) % 2) * 200 + 55
    a[10:17, 10:15] = block
    steps = mnist_steps(a)
    crop = Image.fromarray(steps.crop.astype(np.float32), mode="F")
    size = steps.fitted.shape[::-1]
    lanczos = np.clip(np.asarray(crop.resize(size, Image.Resampling.LANCZOS), dtype=np.float64), 0, 1)
    bicubic = np.clip(np.asarray(crop.resize(size, Image.Resampling.BICUBIC), dtype=np.float64), 0, 1)
    assert np.abs(lanczos - bicubic).max() > 0.01
    np.testing.assert_allclose(steps.fitted, lanczos, atol=1e-6)


def test_a_long_thin_faint_digit_is_kept_however_little_ink_survives_resizing():
    # two dots 2000 pixels apart: resized to 20 pixels, under 0.02 of a pixel's worth of ink is left, and
    # that is still a digit (only an image with no ink at all after resizing is refused)
    a = np.zeros((5, 2020), np.uint8)
    a[2, 10] = a[2, 2009] = 255
    out = mnist_like(a)
    assert 0 < out.sum() < 1


def test_centre_of_mass_is_computed_in_float64_whatever_the_dtype():
    ones = np.ones((300, 300), np.float16)  # the sum, 90000, does not fit in float16
    assert center_of_mass(ones) == pytest.approx((149.5, 149.5))


def test_a_32_bit_image_spanning_the_int32_range_reads_like_its_float_version():
    # paper at -2e9, ink at +2e9 and grey at 0: the range, 4e9, does not fit in int32; computed in
    # float64 the grey is half ink, as in the float image of the same values
    mask = np.asarray(four(Image.new("L", (120, 130), 0), 255)) > 0
    arr = np.where(mask, 2_000_000_000, -2_000_000_000).astype(np.int32)
    arr[::2] = np.where(mask[::2], 0, arr[::2])  # every other row of the strokes grey
    wide = Image.fromarray(arr)
    assert wide.mode == "I"
    as_float = Image.fromarray(arr.astype(np.float32), mode="F")
    np.testing.assert_allclose(mnist_like(wide), mnist_like(as_float), atol=1e-6)


def test_mnist_steps_records_where_the_fitted_digit_went_and_names_the_image():
    from ffnn.imaging import mnist_steps

    steps = mnist_steps(_lopsided("bottom"))
    top, left = steps.offset
    h, w = steps.fitted.shape
    np.testing.assert_array_equal(steps.output[top:top + h, left:left + w], steps.fitted.astype(np.float32))
    assert steps.output.sum() == pytest.approx(steps.fitted.sum(), rel=1e-5)  # nothing outside it
    assert steps.center == pytest.approx(center_of_mass(steps.fitted))
    with pytest.raises(ValueError, match=r"^image: expected an image array"):
        mnist_steps(np.zeros(5))  # the default name, as in mnist_like


def test_a_144_megapixel_png_is_refused_in_one_line_without_pillows_warning(tmp_path):
    # issue 27: Pillow warns (DecompressionBombWarning, two lines on stderr) above 89 megapixels; ours
    # refuses anything above MAX_PIXELS itself, so the refusal must be the only thing said
    import warnings

    from helpers.files import png_header_only

    from ffnn.imaging import load_digit

    path = tmp_path / "big.png"
    path.write_bytes(png_header_only(12_000, 12_000))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError) as err:
            load_digit(path)
    assert [str(w.message) for w in caught] == []
    assert str(err.value) == f"{path}: the image is 12000x12000 pixels, more than the 64,000,000 this loader decodes"
