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
