"""MNIST-style preprocessing of digit images (ffnn.imaging) on synthetic and real digits."""
import numpy as np
import pytest
from PIL import Image, ImageDraw

from ffnn.imaging import CENTER, load_digit, mnist_like


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
