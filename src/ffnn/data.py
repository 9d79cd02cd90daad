"""Datasets in the IDX format (MNIST and its look-alikes) and the array helpers
the backends share.

The four official MNIST files ship inside the package. On first use they are
decompressed, checked against the SHA-256 sums of the official decompressed
files, and cached as ``.npy`` in the user's cache directory (``$FFNN_CACHE_DIR``,
else ``$XDG_CACHE_HOME/ffnn``, else ``~/.cache/ffnn``), so later loads take a
few milliseconds and never touch the network.

Conventions used everywhere in ffnn: images are rows (``(n_samples, 784)``
float32 in [0, 1] once prepared), labels are integers 0-9 of shape
``(n_samples,)``; one-hot labels are accepted at the edges and converted.
"""
from __future__ import annotations

import gzip
import hashlib
import math
import os
from importlib import resources
from pathlib import Path

import numpy as np

from .atomic import atomic_write
from .errors import DatasetError

__all__ = [
    "DatasetError",
    "read_idx",
    "parse_idx",
    "read_verified",
    "cache_dir",
    "load_mnist",
    "load_dataset",
    "load_idx_dir",
    "class_names",
    "read_class_names",
    "item_noun",
    "DATASETS",
    "DIGITS",
    "FASHION_MNIST_CLASSES",
    "CLASSES_FILE",
    "FASHION_MNIST_DIR",
    "IDX_FILES",
    "to_float",
    "flatten",
    "prepare_images",
    "as_rows",
    "one_hot",
    "to_labels",
    "train_val_split",
    "first_n",
]

#: The four files of an IDX dataset, by role.
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

#: Where Debian's ``dataset-fashion-mnist`` package installs its files.
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

_MAGIC_IMAGES = 0x00000803
_MAGIC_LABELS = 0x00000801


# --------------------------------------------------------------------------- IDX


def _read_bytes(path: Path) -> bytes:
    """Return the decompressed bytes of ``path`` (``.gz`` or raw)."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found") from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DatasetError(f"{path}: cannot decompress ({exc})") from None


def parse_idx(raw: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse IDX bytes (images or labels, unsigned bytes) into a uint8 array.

    Raises
    ------
    DatasetError
        If the magic number is not that of a uint8 image (0x803) or label
        (0x801) file, a dimension is zero, or the payload is shorter or longer
        than the header says.
    """
    if len(raw) < 8:
        raise DatasetError(f"{name}: truncated header ({len(raw)} bytes)")
    magic = int.from_bytes(raw[:4], "big")
    if magic == _MAGIC_IMAGES:
        ndim = 3
    elif magic == _MAGIC_LABELS:
        ndim = 1
    else:
        raise DatasetError(
            f"{name}: bad magic number 0x{magic:08x} "
            f"(expected 0x{_MAGIC_IMAGES:08x} images or 0x{_MAGIC_LABELS:08x} labels)"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"{name}: truncated header ({len(raw)} bytes)")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if any(d == 0 for d in dims):
        raise DatasetError(f"{name}: zero dimension in header {dims}")
    expected = math.prod(dims)  # Python ints: a header claiming 10^9 images cannot overflow
    got = len(raw) - header
    if got < expected:
        raise DatasetError(f"{name}: truncated, header says {expected} data bytes, found {got}")
    if got > expected:
        raise DatasetError(f"{name}: {got - expected} unexpected bytes after the data")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (gzip-compressed if it ends in ``.gz``) as uint8.

    Examples
    --------
    >>> labels = read_idx(path_to("train-labels-idx1-ubyte.gz"))  # doctest: +SKIP
    """
    path = Path(path)
    return parse_idx(_read_bytes(path), str(path)).copy()


def _check_pair(images: np.ndarray, labels: np.ndarray, where: str) -> None:
    if images.ndim != 3:
        raise DatasetError(f"{where}: images file holds labels (shape {images.shape})")
    if labels.ndim != 1:
        raise DatasetError(f"{where}: labels file holds images (shape {labels.shape})")
    if len(images) != len(labels):
        raise DatasetError(
            f"{where}: {len(images)} images but {len(labels)} labels"
        )
    if labels.size and labels.max() > 9:
        bad = int(labels[labels > 9][0])
        raise DatasetError(f"{where}: label {bad} outside 0-9")


# ----------------------------------------------------------------------- caching


def cache_dir() -> Path:
    """Directory for decoded arrays: ``$FFNN_CACHE_DIR`` or the user cache."""
    if os.environ.get("FFNN_CACHE_DIR"):
        return Path(os.environ["FFNN_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ffnn"


def _load_cached(path: Path) -> np.ndarray | None:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None


# ------------------------------------------------------------------------- MNIST


def _mnist_sums() -> dict[str, str]:
    text = resources.files("ffnn.datasets.mnist").joinpath("SHA256SUMS").read_text()
    sums = {}
    for line in text.splitlines():
        if line.strip():
            digest, name = line.split()
            sums[name.lstrip("*")] = digest
    return sums


def read_verified(path: str | os.PathLike, sha256: str) -> np.ndarray:
    """Read an IDX file whose decompressed bytes must have SHA-256 ``sha256``."""
    path = Path(path)
    raw = _read_bytes(path)
    actual = hashlib.sha256(raw).hexdigest()
    if actual != sha256:
        raise DatasetError(
            f"{path.name}: SHA-256 of the decompressed file is {actual}, expected {sha256} "
            f"(the file is corrupt; reinstall ffnn)"
        )
    return parse_idx(raw, path.name)


def _load_mnist_file(name: str, sums: dict[str, str]) -> np.ndarray:
    """Return one bundled MNIST file as an array, via the cache."""
    digest = sums[name]
    cached = cache_dir() / f"mnist-{name}-{digest[:16]}.npy"
    array = _load_cached(cached) if cached.exists() else None
    if array is not None:
        return array
    resource = resources.files("ffnn.datasets.mnist").joinpath(name + ".gz")
    with resources.as_file(resource) as path:
        array = read_verified(path, digest)
    try:
        atomic_write(cached, lambda fh: np.save(fh, array))
    except OSError:
        pass  # a read-only cache only costs speed
    return array


def load_mnist():
    """Load the bundled official MNIST, like ``keras.datasets.mnist.load_data()``.

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        uint8 images of shape (60000, 28, 28) and (10000, 28, 28), uint8
        labels of shape (60000,) and (10000,).
    """
    sums = _mnist_sums()
    arrays = {role: _load_mnist_file(name, sums) for role, name in IDX_FILES.items()}
    _check_pair(arrays["train_images"], arrays["train_labels"], "mnist train")
    _check_pair(arrays["test_images"], arrays["test_labels"], "mnist test")
    return (arrays["train_images"], arrays["train_labels"]), (
        arrays["test_images"],
        arrays["test_labels"],
    )


# ---------------------------------------------------------------- other datasets


def _find_idx(directory: Path, name: str) -> Path:
    for candidate in (directory / (name + ".gz"), directory / name):
        if candidate.exists():
            return candidate
    raise DatasetError(f"{directory}: no {name} or {name}.gz")


def load_idx_dir(data_dir: str | os.PathLike):
    """Load any directory that holds the four IDX files (``.gz`` or raw).

    Returns the same structure as :func:`load_mnist`.
    """
    directory = Path(data_dir)
    if not directory.is_dir():
        raise DatasetError(f"{directory}: data directory does not exist")
    arrays = {role: read_idx(_find_idx(directory, name)) for role, name in IDX_FILES.items()}
    _check_pair(arrays["train_images"], arrays["train_labels"], f"{directory} train")
    _check_pair(arrays["test_images"], arrays["test_labels"], f"{directory} test")
    return (arrays["train_images"], arrays["train_labels"]), (
        arrays["test_images"],
        arrays["test_labels"],
    )


#: Known dataset names and their default directory (None: bundled).
DATASETS = {"mnist": None, "fashion-mnist": FASHION_MNIST_DIR}

#: MNIST's classes: the digits, by label.
DIGITS = tuple(str(d) for d in range(10))
#: Fashion-MNIST's classes by label, as Zalando's README names them.
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                         "Bag", "Ankle boot")
#: Optional file of an IDX directory: one class name per line, label 0 first.
CLASSES_FILE = "classes.txt"


def read_class_names(path: str | os.PathLike, n_classes: int = 10) -> tuple:
    """The class names in ``path``: ``n_classes`` non-blank lines, label 0 first, each name once."""
    path = Path(path)
    try:
        names = tuple(line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read class names ({exc})") from None
    if len(names) != n_classes:
        raise DatasetError(f"{path}: expected {n_classes} class names, one per line, found {len(names)}")
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise DatasetError(f"{path}: class name {twice!r} is given twice")
    return names


def class_names(name: str = "mnist", data_dir: str | os.PathLike | None = None) -> tuple:
    """The names of a dataset's ten classes, by label.

    A data directory's ``classes.txt`` (one name per line) comes first; else
    Fashion-MNIST's garment names for ``"fashion-mnist"``, else the label
    numbers, which for MNIST are the digits. ``name`` may be a directory, as
    in :func:`load_dataset`.
    """
    if data_dir is None and name not in DATASETS:
        data_dir = name
    if data_dir is not None and (Path(data_dir) / CLASSES_FILE).is_file():
        return read_class_names(Path(data_dir) / CLASSES_FILE)
    return FASHION_MNIST_CLASSES if name == "fashion-mnist" else DIGITS


def item_noun(classes) -> str:
    """What a dataset's samples are called in titles: "digits" if its classes are the digits, else "images"."""
    return "digits" if tuple(classes) == DIGITS else "images"


def load_dataset(name: str = "mnist", data_dir: str | os.PathLike | None = None):
    """Load a dataset by name, or from ``data_dir`` if given.

    ``"mnist"`` without ``data_dir`` is the bundled, verified copy.
    ``"fashion-mnist"`` defaults to Debian's ``dataset-fashion-mnist``
    install directory (``apt-get install dataset-fashion-mnist``). A
    directory of the four IDX files may be given in place of a name
    (``load_dataset("some/dir")`` is ``load_idx_dir("some/dir")``); its class
    names come from :func:`class_names`.
    """
    if name not in DATASETS:
        if data_dir is None and Path(name).is_dir():
            return load_idx_dir(name)
        raise DatasetError(f"unknown dataset {name!r}: not a directory; choose from {', '.join(DATASETS)}, "
                           f"give a directory of the four IDX files, or pass data_dir=")
    if data_dir is None:
        if DATASETS[name] is None:
            return load_mnist()
        data_dir = DATASETS[name]
        if not Path(data_dir).is_dir():
            raise DatasetError(
                f"{data_dir}: data directory does not exist "
                f"(install it with 'apt-get install dataset-{name}' or pass data_dir)"
            )
    return load_idx_dir(data_dir)


# ----------------------------------------------------------------------- helpers


def to_float(images: np.ndarray) -> np.ndarray:
    """Scale uint8 pixels to float32 in [0, 1]; float input is cast to float32."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype(np.float32) / np.float32(255.0)
    return images.astype(np.float32, copy=False)


def flatten(images: np.ndarray) -> np.ndarray:
    """Reshape (n, 28, 28) or (n, 1, 28, 28) images to rows of shape (n, 784)."""
    images = np.asarray(images)
    return images.reshape(len(images), math.prod(images.shape[1:]))  # not -1: an empty set keeps its width


def prepare_images(images: np.ndarray) -> np.ndarray:
    """Flatten and scale: the input every backend trains on, (n, d) float32."""
    return np.ascontiguousarray(flatten(to_float(images)))


def as_rows(x, n_inputs: int):
    """Images to prediction input: ``(rows, single)``.

    ``x`` is a batch of images ((n, 28, 28), (n, 1, 28, 28) or (n, n_inputs)) or
    one image ((28, 28) or (n_inputs,)); ``rows`` is float32 of shape
    (n, n_inputs) (:func:`prepare_images`) and ``single`` says whether ``x``
    was one image, so a caller can answer with one result.
    """
    x = np.asarray(x)
    single = x.ndim == 1 or (x.ndim == 2 and x.shape[1] != n_inputs and x.size == n_inputs)
    rows = prepare_images(x.reshape(1, -1) if single else x)
    if rows.shape[1] != n_inputs:
        raise ValueError(f"x has {rows.shape[1]} features per sample, the network expects {n_inputs}")
    return rows, single


def one_hot(labels: np.ndarray, n_classes: int = 10, dtype=np.float32) -> np.ndarray:
    """Integer labels of shape (n,) to one-hot rows of shape (n, n_classes)."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must have shape (n,), got {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must be in 0..{n_classes - 1}, got {labels.min()}..{labels.max()}")
    out = np.zeros((len(labels), n_classes), dtype=dtype)
    out[np.arange(len(labels)), labels.astype(np.intp)] = 1
    return out


def to_labels(y: np.ndarray) -> np.ndarray:
    """Accept integer labels (n,) or one-hot rows (n, k); return int64 (n,).

    Raises ``ValueError`` for anything else: rows with no 1 or several, values
    other than 0 and 1 in 2-D labels, negative, fractional, NaN, infinite or non-numeric labels.
    """
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise ValueError(f"labels must be numbers, got dtype {y.dtype}")
    if y.ndim == 2:
        if y.shape[1] == 0:
            raise ValueError(f"2-D labels must be one-hot rows, got shape {y.shape}")
        if y.shape[1] == 1:
            y = y[:, 0]
        else:
            rows = y.sum(axis=1)
            if not (np.all((y == 0) | (y == 1)) and np.all(rows == 1)):
                raise ValueError("2-D labels must be one-hot rows (a single 1 per row)")
            return y.argmax(axis=1).astype(np.int64)
    if y.ndim != 1:
        raise ValueError(f"labels must have shape (n,) or (n, k), got {y.shape}")
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError(f"labels must be finite numbers, got {y[~np.isfinite(y)][0]}")
    if y.size and not np.all(np.equal(np.mod(y, 1), 0)):
        raise ValueError("labels must be integers")
    if y.size and y.min() < 0:
        raise ValueError(f"labels must be non-negative, got {y.min()}")
    with np.errstate(invalid="ignore"):  # 1e30 does not fit; the comparison below says so
        out = y.astype(np.int64)
    if y.size and not np.array_equal(out, y):
        raise ValueError(f"labels must be integers that fit in int64, got up to {y.max()}")
    return out


def train_val_split(x, y, val_size=0.1, seed: int = 0):
    """Seeded stratified split into train and validation parts.

    Parameters
    ----------
    x, y : arrays of n samples (``y`` integer labels or one-hot)
    val_size : float in (0, 1) as a fraction, or int number of samples
    seed : int

    Returns
    -------
    x_train, x_val, y_train, y_val
        Each class keeps (almost exactly) its share in both parts; the order
        within each part is shuffled by ``np.random.default_rng(seed)``.
    """
    x = np.asarray(x)
    y = np.asarray(y)
    n = len(y)
    if len(x) != n:
        raise ValueError(f"x has {len(x)} samples but y has {n}")
    if isinstance(val_size, (bool, np.bool_)) or not isinstance(val_size, (int, float, np.integer, np.floating)):
        raise ValueError(f"val_size must be a fraction in (0, 1) or a count, got {val_size!r}")
    if isinstance(val_size, (float, np.floating)):
        if not 0 < val_size < 1:
            raise ValueError(f"val_size must be in (0, 1) as a fraction, got {val_size}")
        n_val = int(round(val_size * n))
    else:
        n_val = int(val_size)
    if not 0 < n_val < n:
        raise ValueError(f"val_size must leave both parts non-empty, got {val_size} of {n} samples")
    labels = to_labels(y)
    rng = np.random.default_rng(seed)
    # Largest-remainder allocation so the class shares match and sum to n_val.
    classes, counts = np.unique(labels, return_counts=True)
    quota = counts * n_val / n
    take = np.floor(quota).astype(int)
    rest = n_val - take.sum()
    take[np.argsort(-(quota - take), kind="stable")[:rest]] += 1
    val_idx = []
    for cls, k in zip(classes, take):
        members = np.flatnonzero(labels == cls)
        val_idx.append(rng.choice(members, size=k, replace=False))
    val_idx = np.concatenate(val_idx)
    mask = np.zeros(n, dtype=bool)
    mask[val_idx] = True
    train_idx = rng.permutation(np.flatnonzero(~mask))
    val_idx = rng.permutation(val_idx)
    return x[train_idx], x[val_idx], y[train_idx], y[val_idx]


def first_n(x, y, n: int):
    """The problem set's subset protocol: the first ``n`` samples, in order."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n <= 0:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if n > len(x):
        raise ValueError(f"n={n} is larger than the {len(x)} samples available")
    return x[:n], y[:n]
