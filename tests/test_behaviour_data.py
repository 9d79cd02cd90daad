"""The data layer's promises on the paths users take: the bundled MNIST is verified when loaded, and
labels are checked the same way whether they come as arrays or from a PyTorch DataLoader."""
import gzip
import shutil
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from ffnn import TrainConfig, data
from ffnn.data import DatasetError, IDX_FILES, one_hot
from helpers.files import idx_bytes

BUNDLED = Path(str(resources.files("ffnn.datasets.mnist")))


@pytest.fixture
def package_copy(tmp_path, monkeypatch):
    """A copy of the bundled MNIST package that load_mnist reads instead, with an empty cache."""
    copy = tmp_path / "mnist"
    copy.mkdir()
    for f in BUNDLED.iterdir():
        if f.suffix == ".gz" or f.name == "SHA256SUMS":
            (copy / f.name).symlink_to(f)
    real_files = resources.files
    monkeypatch.setattr(data.resources, "files",
                        lambda pkg: copy if pkg == "ffnn.datasets.mnist" else real_files(pkg))
    monkeypatch.setenv("FFNN_CACHE_DIR", str(tmp_path / "cache"))
    return copy


def _corrupt(copy: Path, name: str) -> None:
    raw = bytearray(gzip.decompress((BUNDLED / f"{name}.gz").read_bytes()))
    raw[-1] ^= 0x01  # one bit of the last label or pixel: still a well-formed IDX file
    (copy / f"{name}.gz").unlink()
    (copy / f"{name}.gz").write_bytes(gzip.compress(bytes(raw), compresslevel=1))


@pytest.mark.parametrize("role", ["train_labels", "test_labels"])
def test_load_mnist_refuses_a_corrupted_bundled_file(package_copy, tmp_path, role):
    name = IDX_FILES[role]
    _corrupt(package_copy, name)
    assert data.parse_idx(gzip.decompress((package_copy / f"{name}.gz").read_bytes())).size > 0  # parses fine
    with pytest.raises(DatasetError, match=f"{name}.gz: SHA-256 of the decompressed file is"):
        data.load_mnist()
    assert not list((tmp_path / "cache").glob(f"mnist-{name}-*"))  # nothing unverified is cached


def test_load_mnist_through_the_copy_loads_when_intact(package_copy, tmp_path):
    (x, y), (xt, yt) = data.load_mnist()
    assert x.shape == (60000, 28, 28) and yt.shape == (10000,)
    assert len(list((tmp_path / "cache").glob("mnist-*.npy"))) == 4


def test_train_val_split_refuses_multi_hot_labels():
    y = one_hot(np.arange(10) % 10)
    y[3, 5] = 1
    with pytest.raises(ValueError, match="one-hot rows"):
        data.train_val_split(np.zeros((10, 4)), y, val_size=2)


@pytest.mark.parametrize("bad", ["multi-hot", "all-zero"])
def test_dataloader_labels_are_checked_like_arrays(bad):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader, TensorDataset

    from ffnn.backends import build

    x = torch.rand(40, 784)
    y = torch.from_numpy(one_hot(np.arange(40) % 10))
    if bad == "multi-hot":
        y[7, (np.argmax(y[7].numpy()) + 1) % 10] = 1
    else:
        y[7] = 0
    model = build("torch", TrainConfig(layer_sizes=(784, 8, 10), epochs=1, batch_size=8), "cpu")
    with pytest.raises(ValueError, match="one-hot rows"):
        model.fit(DataLoader(TensorDataset(x, y), batch_size=8), verbose=0)
    good = torch.from_numpy(one_hot(np.arange(40) % 10))
    history = model.fit(DataLoader(TensorDataset(x, good), batch_size=8), verbose=0)
    assert history["epoch"] == [1]


# ----------------------------------------------------------- edges, written for surviving mutants

import gzip as _gzip  # noqa: E402
import re  # noqa: E402


def test_parse_idx_names_raw_bytes_by_default():
    with pytest.raises(DatasetError, match=r"^<bytes>: truncated header \(3 bytes\)$"):
        data.parse_idx(b"abc")


def _dataset(directory, train_labels, test_labels=(1, 2), images_as_labels=False):
    n, m = len(train_labels), len(test_labels)
    files = {"train_images": np.zeros((n, 2, 2)), "train_labels": np.array(train_labels),
             "test_images": np.zeros((m, 2, 2)), "test_labels": np.array(test_labels)}
    if images_as_labels:
        files["train_images"] = np.zeros(n)
    for role, array in files.items():
        (directory / IDX_FILES[role]).write_bytes(idx_bytes(array))


def test_idx_directories_report_the_set_and_the_first_bad_label(tmp_path):
    for labels in ([9, 10, 12], [9, 10]):  # the first label above 9 is named, and 10 is already one too many
        _dataset(tmp_path, labels)
        with pytest.raises(DatasetError, match=rf"^{re.escape(str(tmp_path))} train: label 10 outside 0-9$"):
            data.load_idx_dir(tmp_path)
    _dataset(tmp_path, [1, 2], test_labels=[3])
    (tmp_path / IDX_FILES["test_images"]).write_bytes(idx_bytes(np.zeros((2, 2, 2))))
    with pytest.raises(DatasetError, match=rf"^{re.escape(str(tmp_path))} test: 2 images but 1 labels$"):
        data.load_idx_dir(tmp_path)
    _dataset(tmp_path, [1, 2], images_as_labels=True)
    with pytest.raises(DatasetError, match=r" train: images file holds labels \(shape \(2,\)\)$"):
        data.load_idx_dir(tmp_path)


def test_cache_dir_follows_xdg_then_home(tmp_path, monkeypatch):
    monkeypatch.delenv("FFNN_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.cache_dir() == tmp_path / "xdg" / "ffnn"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data.cache_dir() == tmp_path / "home" / ".cache" / "ffnn"


def test_a_filled_cache_is_read_instead_of_the_bundled_files(tmp_path, monkeypatch):
    monkeypatch.setenv("FFNN_CACHE_DIR", str(tmp_path))
    (x, y), _ = data.load_mnist()

    def refuse(*args):
        raise AssertionError("the bundled files were read although the cache holds them")

    monkeypatch.setattr(data, "read_verified", refuse)
    (x2, y2), _ = data.load_mnist()
    np.testing.assert_array_equal(y2, y)


def test_load_dataset_defaults_and_messages(tmp_path, monkeypatch):
    (x, _), _ = data.load_dataset()
    assert x.shape == (60000, 28, 28)
    with pytest.raises(DatasetError, match=r"^unknown dataset 'cifar': not a directory; choose from mnist, fashion-mnist, "
                                              r"give a directory of the four IDX files, or pass data_dir=$"):
        data.load_dataset("cifar")
    monkeypatch.setitem(data.DATASETS, "fashion-mnist", tmp_path / "absent")
    with pytest.raises(DatasetError, match=rf"^{re.escape(str(tmp_path / 'absent'))}: data directory does not "
                                           r"exist \(install it with 'apt-get install dataset-fashion-mnist' "
                                           r"or pass data_dir\)$"):
        data.load_dataset("fashion-mnist")


def test_to_float_always_gives_float32():
    for images in (np.zeros((2, 3), np.float64), np.zeros((2, 3), np.int16), np.zeros((2, 3), np.float16)):
        assert data.to_float(images).dtype == np.float32


def test_train_val_split_defaults_bounds_and_remainders():
    y = np.repeat([0, 1, 2], [7, 5, 3])
    x = np.arange(15)
    # quotas 7/3, 5/3, 1 -> 2, 1, 1 and the one left over goes to the largest remainder (class 1)
    _, _, _, yva = data.train_val_split(x, y, val_size=5, seed=0)
    assert np.bincount(yva, minlength=3).tolist() == [2, 2, 1]
    default = data.train_val_split(np.arange(100), np.arange(100) % 10)
    explicit = data.train_val_split(np.arange(100), np.arange(100) % 10, val_size=0.1, seed=0)
    for a, b in zip(default, explicit, strict=True):
        np.testing.assert_array_equal(a, b)
    assert len(data.train_val_split(x, y, val_size=1)[1]) == 1  # a single validation sample is allowed
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match=rf"^val_size must be in \(0, 1\) as a fraction, got {bad}$"):
            data.train_val_split(x, y, val_size=bad)
    with pytest.raises(ValueError, match=r"^x has 14 samples but y has 15$"):
        data.train_val_split(x[:14], y)


def test_first_n_bounds():
    x, y = np.arange(5), np.arange(5)
    assert data.first_n(x, y, 1)[0].tolist() == [0]
    assert data.first_n(x, y, 5)[0].tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("raw, message", [
    ((0x801).to_bytes(4, "big") + (1).to_bytes(4, "big"), r"truncated, header says 1 data bytes, found 0$"),
    ((0x803).to_bytes(4, "big") + b"".join((1).to_bytes(4, "big") for _ in range(3)),
     r"truncated, header says 1 data bytes, found 0$"),
    ((0x801).to_bytes(4, "big") + (1).to_bytes(4, "big") + b"\x01\x02\x03", r"2 unexpected bytes after the data$"),
    ((0x801).to_bytes(4, "big")[:3], r"truncated header \(3 bytes\)$"),
])
def test_parse_idx_messages_at_the_boundaries(raw, message):
    with pytest.raises(DatasetError, match=r"^f\.idx: " + message):
        data.parse_idx(raw, "f.idx")


def test_read_verified_and_read_idx_name_the_file(tmp_path):
    import hashlib

    path = tmp_path / "x.idx.gz"
    path.write_bytes(_gzip.compress(b"garbage!"))
    with pytest.raises(DatasetError, match=r"^x\.idx\.gz: bad magic number 0x67617262 "):
        data.read_verified(path, hashlib.sha256(b"garbage!").hexdigest())  # the sum matches, the format not
    with pytest.raises(DatasetError, match=rf"^{re.escape(str(tmp_path / 'missing.gz'))}: file not found$"):
        data.read_idx(tmp_path / "missing.gz")


def test_one_hot_dtype_and_shape_errors():
    assert data.one_hot(np.array([1, 0])).dtype == np.float32
    assert data.one_hot(np.array([1, 0]), 3, dtype=np.float64).dtype == np.float64
    np.testing.assert_array_equal(data.one_hot(np.array([2]), 3, dtype=np.int8), [[0, 0, 1]])
    with pytest.raises(ValueError, match=r"^labels must have shape \(n,\), got \(1, 2\)$"):
        data.one_hot(np.array([[1, 0]]))


def test_labels_too_large_for_int64_raise_no_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="fit in int64"):
            data.to_labels(np.array([1e30]))


def test_train_val_split_of_one_hot_labels_is_the_split_of_their_integer_labels():
    # the docstring accepts one-hot y: classes are counted from the labels, not from the 0/1 entries of y
    labels = np.repeat(np.arange(10), [30, 60, 15, 15, 30, 30, 30, 30, 30, 30])
    x = np.arange(len(labels))
    as_int = data.train_val_split(x, labels, val_size=0.1, seed=3)
    as_one_hot = data.train_val_split(x, one_hot(labels), val_size=0.1, seed=3)
    np.testing.assert_array_equal(as_one_hot[0], as_int[0])
    np.testing.assert_array_equal(as_one_hot[1], as_int[1])
    np.testing.assert_array_equal(as_one_hot[3], one_hot(as_int[3]))
    np.testing.assert_array_equal(np.bincount(as_int[3]), [3, 6, 2, 1, 3, 3, 3, 3, 3, 3])  # largest remainders


@pytest.mark.parametrize("k", [3, 10])
def test_a_label_equal_to_the_number_of_classes_is_refused_by_name(k):
    # labels run 0..k-1: k itself is one too many, and every check says so in its own words (a bare
    # IndexError from numpy would mean the check let it through)
    from ffnn.metrics import confusion_matrix
    from ffnn.training import check_xy

    fine = np.arange(k)
    assert one_hot(fine, k).shape == (k, k) and confusion_matrix(fine, fine, k).trace() == k
    bad = np.array([0, k])
    with pytest.raises(ValueError, match=rf"^labels must be in 0\.\.{k - 1}, got 0\.\.{k}$"):
        one_hot(bad, k)
    with pytest.raises(ValueError, match=rf"^y_true must be in 0\.\.{k - 1}, got 0\.\.{k}$"):
        confusion_matrix(bad, np.zeros(2, int), k)
    with pytest.raises(ValueError, match=rf"^labels of x go up to {k}, the network has {k} classes$"):
        check_xy(np.zeros((2, 4), np.float32), bad, 4, k)
