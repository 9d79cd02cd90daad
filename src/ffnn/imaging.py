"""Turn a photo or scan of a handwritten digit into an MNIST-style 28x28 image.

MNIST was made this way (LeCun et al.): the digit, light on a dark
background, was size-normalised to fit a 20x20 box keeping its aspect ratio
(anti-aliased, hence grey levels), then placed in a 28x28 field so that its
centre of mass sits at the field's centre. In the training set the centre of
mass is at pixel (14, 14) (row, column; pixel ``i`` has its centre at
coordinate ``i``), give or take half a pixel: the shift was a whole
number of pixels. :func:`mnist_like` repeats those steps on any image:

1. grayscale (a transparent background is filled with the colour that
   contrasts with the strokes);
2. invert if the background is light (estimated from the border pixels);
3. subtract the background level and stretch the strokes to full intensity;
4. crop to the bounding box of the ink;
5. resize so the longer side is 20 pixels (Lanczos, keeping the aspect ratio);
6. paste into 28x28 shifted by whole pixels to put the centre of mass at (14, 14).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["mnist_like", "mnist_steps", "Steps", "open_image", "load_digit", "center_of_mass", "ImageError",
           "ImageTooLarge", "BOX", "SIZE", "CENTER", "MAX_PIXELS"]

SIZE = 28       # side of the output field
BOX = 20        # side of the box the digit is fitted into
CENTER = 14.0   # where MNIST puts the centre of mass (row and column)
_NOISE = 0.1    # ink below this fraction of full intensity is treated as background
#: Largest image :func:`load_digit` decodes (a 64-megapixel photo); checked from the header, before decoding.
MAX_PIXELS = 64_000_000


class ImageError(ValueError):
    """An image file that cannot be read; the message names it and says why, on one line."""


class ImageTooLarge(ImageError):
    """An image whose header declares more pixels than the reader decodes."""


def center_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of the intensity-weighted mean pixel position of a 2-D ``image``."""
    image = np.asarray(image, dtype=np.float64)
    total = image.sum()
    if total <= 0:
        raise ValueError("the image is blank: no centre of mass")
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / total), float((cols * image).sum() / total)


def _grayscale(img: Image.Image) -> np.ndarray:
    """Luminance in [0, 1] as float (h, w); transparency filled with a contrasting background."""
    img = ImageOps.exif_transpose(img)
    if img.mode in ("P", "PA"):
        img = img.convert("RGBA")
    if "A" in img.getbands():
        rgba = img.convert("LA")
        lum = np.asarray(rgba.getchannel("L"), dtype=np.float64) / 255.0
        alpha = np.asarray(rgba.getchannel("A"), dtype=np.float64) / 255.0
        if alpha.min() < 1.0:
            opaque = alpha > 0.5
            # Strokes drawn on a transparent canvas: put them on the opposite shade.
            ink = lum[opaque].mean() if opaque.any() else 0.0
            background = 1.0 if ink < 0.5 else 0.0
            return lum * alpha + background * (1.0 - alpha)
        return lum
    if img.mode not in ("L", "I", "I;16", "F"):
        img = img.convert("L")
    arr = np.asarray(img, dtype=np.float64)
    if img.mode == "L":
        return arr / 255.0
    lo, hi = arr.min(), arr.max()  # 16-bit or float images: stretch to [0, 1]
    return (arr - lo) / (hi - lo) if hi > lo else np.zeros_like(arr)


def _border(a: np.ndarray) -> np.ndarray:
    return np.concatenate([a[0], a[-1], a[1:-1, 0], a[1:-1, -1]])


@dataclass(frozen=True)
class Steps:
    """The intermediate images of :func:`mnist_steps`, each a float array in [0, 1], light ink on dark.

    Attributes
    ----------
    gray : ndarray of shape (h, w)
        The whole image after steps 1-3: grayscale, inverted if needed, background subtracted.
    crop : ndarray
        Step 4: ``gray`` cropped to the bounding box of the ink.
    fitted : ndarray, at most (20, 20)
        Step 5: ``crop`` resized so that its longer side is 20 pixels.
    center : (float, float)
        Centre of mass (row, column) of ``fitted``, in its own coordinates.
    offset : (int, int)
        Step 6: (top, left) where ``fitted`` is pasted into the 28x28 ``output``.
    output : ndarray of shape (28, 28), float32
        What the networks see (:func:`mnist_like`).
    """

    gray: np.ndarray
    crop: np.ndarray
    fitted: np.ndarray
    center: tuple
    offset: tuple
    output: np.ndarray


def mnist_like(image, name: str = "image") -> np.ndarray:
    """An MNIST-style digit from ``image`` (a PIL image or a 2-D/3-D array).

    Parameters
    ----------
    image : PIL.Image.Image or array of shape (h, w) or (h, w, 3|4)
        Any size; dark ink on a light background or light on dark. Arrays
        of integers are read as 0-255, floats as 0-1.
    name : str
        Used in error messages.

    Returns
    -------
    ndarray of shape (28, 28), float32 in [0, 1]
        Light digit on a black background, its longer side 20 pixels, its
        centre of mass within half a pixel of (14, 14).

    Raises
    ------
    ValueError
        If the image holds no digit (it is blank or a single flat colour).
    """
    return mnist_steps(image, name).output


def mnist_steps(image, name: str = "image") -> Steps:
    """:func:`mnist_like`, keeping every intermediate image (:class:`Steps`); same arguments and errors."""
    if not isinstance(image, Image.Image):
        arr = np.asarray(image)
        if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
            raise ValueError(f"{name}: expected an image array (h, w) or (h, w, 3|4), got shape {arr.shape}")
        if arr.dtype.kind == "f":
            arr = np.clip(arr, 0.0, 1.0) * 255.0
        image = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    try:
        gray = _grayscale(image)
    except ValueError as exc:  # a colour mode Pillow cannot turn into grey (LAB, HSV)
        raise ValueError(f"{name}: cannot read {image.mode} pixels as grey ({exc})") from None
    # A light border means dark ink on light paper: invert to MNIST's light-on-dark.
    background = float(np.median(_border(gray)))
    if background > 0.5:
        gray, background = 1.0 - gray, 1.0 - background
    peak = gray.max()
    if peak - background < 0.05:
        raise ValueError(f"{name}: no digit found (the image is a single flat shade)")
    ink = np.clip((gray - background) / (peak - background), 0.0, 1.0)
    ink[ink < _NOISE] = 0.0
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    whole = ink  # Steps.gray; the crop below is a view of it
    ink = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]

    h, w = ink.shape
    scale = BOX / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    resized = Image.fromarray(ink.astype(np.float32), mode="F").resize((new_w, new_h), Image.Resampling.LANCZOS)
    digit = np.clip(np.asarray(resized, dtype=np.float64), 0.0, 1.0)
    if digit.sum() <= 0:
        raise ValueError(f"{name}: no digit found (too thin to survive resizing)")

    cy, cx = center_of_mass(digit)
    # Whole-pixel shift that puts the centre of mass nearest (14, 14), kept inside the field.
    top = int(np.clip(round(CENTER - cy), 0, SIZE - new_h))
    left = int(np.clip(round(CENTER - cx), 0, SIZE - new_w))
    out = np.zeros((SIZE, SIZE), dtype=np.float32)
    out[top:top + new_h, left:left + new_w] = digit
    return Steps(gray=whole, crop=ink, fitted=digit, center=(cy, cx), offset=(top, left), output=out)


def open_image(source, max_pixels: int = MAX_PIXELS, formats=None, name: str | None = None) -> Image.Image:
    """Open the image file ``source`` and decode its pixels, refusing a large one before decoding.

    Parameters
    ----------
    source : str, Path or binary file object
    max_pixels : int
        Largest width x height decoded; the header is read first, so a small
        file that declares a huge image (a decompression bomb) costs nothing.
    formats : sequence of str or None
        Pillow format names to try (``("PNG", "JPEG")``); ``None`` for any
        format Pillow opens, including those that run other programs (EPS
        calls Ghostscript): only for files the user chose.
    name : str
        The image's name in messages (default: ``source`` if it is a path).

    Returns
    -------
    PIL.Image.Image
        Loaded; close it (``with open_image(...) as img``).

    Raises
    ------
    ImageTooLarge
        If the header declares more than ``max_pixels`` pixels (or more than
        Pillow's own limit, twice ``PIL.Image.MAX_IMAGE_PIXELS``).
    ImageError
        If ``source`` is missing, a directory, not an image of ``formats``, or damaged.
    """
    name = name if name is not None else str(source)

    def why(exc) -> str:
        return " ".join(str(exc).split())

    try:
        with warnings.catch_warnings():
            # Pillow warns above 89 megapixels; the limit below refuses those in one line of our own.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(source, formats=formats)
    except FileNotFoundError:
        raise ImageError(f"{name}: file not found") from None
    except IsADirectoryError:
        raise ImageError(f"{name}: is a directory, not an image") from None
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(f"{name}: {why(exc)}") from None
    except UnidentifiedImageError:
        accepted = f"{', '.join(formats)} are accepted" if formats else "Pillow cannot identify it"
        raise ImageError(f"{name}: not an image ({accepted})") from None
    except (OSError, SyntaxError) as exc:
        raise ImageError(f"{name}: cannot read the image ({why(exc)})") from None
    try:
        width, height = img.size
        if width * height > max_pixels:
            raise ImageTooLarge(f"{name}: the image is {width}x{height} pixels, more than the {max_pixels:,} "
                                f"this loader decodes")
        try:
            img.load()
        except (OSError, SyntaxError, Image.DecompressionBombError) as exc:
            raise ImageError(f"{name}: cannot read the image ({why(exc)})") from None
    except BaseException:
        img.close()
        raise
    return img


def load_digit(path) -> np.ndarray:
    """Read the image file at ``path`` (any format Pillow opens) and return :func:`mnist_like` of it.

    Raises
    ------
    ValueError
        Naming ``path`` if it does not exist, is not an image, is larger than
        :data:`MAX_PIXELS` (read from the header, before decoding), or holds no digit.
    """
    with open_image(Path(path), MAX_PIXELS) as img:
        return mnist_like(img, name=str(path))
