"""The data layer (ffnn.data): bundled MNIST, the IDX reader, the array helpers and the class names.

Every example-based test of data.py is here. The Hypothesis fuzz campaigns stay in their own files, named
after the input they fuzz: ``test_fuzz_idx.py`` (the IDX reader) and ``test_fuzz_config.py`` (labels, with
the configuration); they share helpers and settings of their own and run many examples per test.
"""
import gzip
import hashlib
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from ffnn import TrainConfig, data
from ffnn.data import DIGITS, DatasetError, IDX_FILES, class_names, one_hot, read_class_names
from helpers.files import idx_bytes


BUNDLED = Path(str(resources.files("ffnn.datasets.mnist")))
OFFICIAL = {  # the canonical sums, typed here independently of the bundled SHA256SUMS
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}


def write_dataset(directory: Path, n_train=20, n_test=10, gz=True, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test),
    }
    directory.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        raw = idx_bytes(array)
        if gz:
            (directory / (name + ".gz")).write_bytes(gzip.compress(raw))
        else:
            (directory / name).write_bytes(raw)
    return arrays


# ------------------------------------------------------------------ bundled MNIST


def test_load_mnist_shapes_and_types(mnist):
    (x, y), (xt, yt) = mnist
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (60000,) and y.dtype == np.uint8
    assert xt.shape == (10000, 28, 28) and yt.shape == (10000,)
    assert set(np.unique(y)) == set(range(10))
    # Well-known facts about MNIST: the first training label is 5, the first test label 7.
    assert y[0] == 5 and yt[0] == 7
    assert np.bincount(y).tolist()[:2] == [5923, 6742]


def test_loaded_arrays_match_official_sums(mnist):
    (x, y), (xt, yt) = mnist
    for name, array in [("train-images-idx3-ubyte", x), ("train-labels-idx1-ubyte", y),
                        ("t10k-images-idx3-ubyte", xt), ("t10k-labels-idx1-ubyte", yt)]:
        assert hashlib.sha256(idx_bytes(array)).hexdigest() == OFFICIAL[name], name


def test_bundled_sha256sums_are_the_official_ones():
    text = (BUNDLED / "SHA256SUMS").read_text()
    listed = {name: digest for digest, name in (line.split() for line in text.splitlines())}
    assert listed == OFFICIAL


@pytest.mark.parametrize("name", sorted(OFFICIAL))
def test_corrupted_copy_is_refused(tmp_path, name):
    raw = gzip.decompress((BUNDLED / (name + ".gz")).read_bytes())
    corrupted = bytearray(raw)
    corrupted[len(raw) // 2] ^= 0xFF
    path = tmp_path / (name + ".gz")
    path.write_bytes(gzip.compress(bytes(corrupted), compresslevel=1))
    with pytest.raises(DatasetError, match=f"{name}.gz: SHA-256"):
        data.read_verified(path, OFFICIAL[name])
    path.write_bytes(b"not gzip at all")
    with pytest.raises(DatasetError, match="cannot decompress"):
        data.read_verified(path, OFFICIAL[name])


def test_load_mnist_fills_and_uses_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FFNN_CACHE_DIR", str(tmp_path))
    (x, y), _ = data.load_mnist()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 4 and all(f.endswith(".npy") for f in files)
    # A damaged cache entry is ignored and rebuilt, never trusted.
    victim = next(tmp_path.glob("mnist-train-labels*"))
    victim.write_bytes(b"garbage")
    (_, y2), _ = data.load_mnist()
    np.testing.assert_array_equal(y, y2)
    assert np.load(victim).shape == (60000,)


def test_import_and_load_do_not_import_frameworks():
    code = ("import ffnn, sys; ffnn.data.load_mnist(); "
            "assert 'torch' not in sys.modules and 'tensorflow' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd="/")


# --------------------------------------------------------------------- IDX reader


def test_read_idx_gz_and_raw_agree_with_writer(tmp_path):
    arrays = write_dataset(tmp_path / "gz", gz=True)
    write_dataset(tmp_path / "raw", gz=False)
    for name, array in arrays.items():
        np.testing.assert_array_equal(data.read_idx(tmp_path / "gz" / (name + ".gz")), array)
        np.testing.assert_array_equal(data.read_idx(tmp_path / "raw" / name), array)


@pytest.mark.parametrize("mutate, message", [
    (lambda b: b[:-1], "truncated"),
    (lambda b: b[:6], "truncated header"),
    (lambda b: b + b"\0", "unexpected bytes"),
    (lambda b: b"\0\0\x08\x0d" + b[4:], "bad magic number 0x0000080d"),
    (lambda b: b[:4] + (0).to_bytes(4, "big") + b[8:], "zero dimension"),
])
def test_read_idx_rejects_broken_files(tmp_path, mutate, message):
    raw = idx_bytes(np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256)
    path = tmp_path / "x-idx3-ubyte"
    path.write_bytes(mutate(raw))
    with pytest.raises(DatasetError, match=message) as err:
        data.read_idx(path)
    assert "x-idx3-ubyte" in str(err.value)


def test_load_idx_dir_reads_any_dataset_directory(tmp_path):
    arrays = write_dataset(tmp_path, n_train=12, n_test=5)
    (x, y), (xt, yt) = data.load_idx_dir(tmp_path)
    np.testing.assert_array_equal(x, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(yt, arrays["t10k-labels-idx1-ubyte"])


def test_mismatched_counts_and_bad_labels_are_refused(tmp_path):
    write_dataset(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(19))))
    with pytest.raises(DatasetError, match="20 images but 19 labels"):
        data.load_idx_dir(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.full(20, 11))))
    with pytest.raises(DatasetError, match="label 11 outside 0-9"):
        data.load_idx_dir(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros((20, 28, 28)))))
    with pytest.raises(DatasetError, match="labels file holds images"):
        data.load_idx_dir(tmp_path)


def test_missing_directory_and_file(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        data.load_idx_dir(tmp_path / "nope")
    write_dataset(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DatasetError, match="no t10k-images-idx3-ubyte"):
        data.load_idx_dir(tmp_path)


def test_load_dataset_names(tmp_path):
    write_dataset(tmp_path, n_train=8, n_test=4)
    (x, _), _ = data.load_dataset("fashion-mnist", data_dir=tmp_path)
    assert x.shape == (8, 28, 28)
    with pytest.raises(DatasetError, match="unknown dataset 'cifar'"):
        data.load_dataset("cifar")


@pytest.mark.skipif(not data.FASHION_MNIST_DIR.is_dir(), reason="dataset-fashion-mnist not installed")
def test_fashion_mnist_from_debian_package():
    (x, y), (xt, yt) = data.load_dataset("fashion-mnist")
    assert x.shape == (60000, 28, 28) and xt.shape == (10000, 28, 28)
    assert np.bincount(y).tolist() == [6000] * 10


# ------------------------------------------------------------------------ helpers


def test_to_float_and_flatten():
    images = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    out = data.prepare_images(images)
    assert out.dtype == np.float32 and out.shape == (1, 4)
    np.testing.assert_allclose(out, [[0.0, 1.0, 0.2, 0.4]], rtol=1e-6)
    assert data.flatten(np.zeros((3, 1, 28, 28))).shape == (3, 784)


def test_one_hot_and_back():
    y = np.array([3, 0, 9])
    oh = data.one_hot(y)
    assert oh.shape == (3, 10) and oh[0, 3] == 1 and oh.sum() == 3
    np.testing.assert_array_equal(data.to_labels(oh), y)
    np.testing.assert_array_equal(data.to_labels(y.astype(np.uint8)), y)
    with pytest.raises(ValueError, match="one-hot"):
        data.to_labels(np.array([[0.5, 0.5]]))
    with pytest.raises(ValueError, match=r"0\.\.9"):
        data.one_hot(np.array([10]))
    with pytest.raises(ValueError, match="integers"):
        data.to_labels(np.array([1.5]))


def test_train_val_split_is_stratified_seeded_and_disjoint():
    y = np.repeat(np.arange(10), [100, 200, 50, 50, 100, 100, 100, 100, 100, 100])
    x = np.arange(len(y))  # sample ids, to check disjointness
    xtr, xva, ytr, yva = data.train_val_split(x, y, val_size=0.1, seed=3)
    assert len(xva) == 100 and len(xtr) == 900
    assert set(xtr).isdisjoint(xva) and len(set(xtr) | set(xva)) == 1000
    np.testing.assert_array_equal(np.bincount(yva), [10, 20, 5, 5, 10, 10, 10, 10, 10, 10])
    np.testing.assert_array_equal(y[xva], yva)
    again = data.train_val_split(x, y, val_size=0.1, seed=3)
    np.testing.assert_array_equal(again[1], xva)
    other = data.train_val_split(x, y, val_size=0.1, seed=4)
    assert not np.array_equal(other[1], xva)
    assert len(data.train_val_split(x, y, val_size=37, seed=0)[1]) == 37


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, 0, 1000, "0.1", True])
def test_train_val_split_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="val_size"):
        data.train_val_split(np.zeros(1000), np.zeros(1000, int), val_size=bad)


def test_first_n():
    x, y = np.arange(10), np.arange(10) % 3
    xs, ys = data.first_n(x, y, 4)
    np.testing.assert_array_equal(xs, [0, 1, 2, 3])
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="positive integer"):
            data.first_n(x, y, bad)
    with pytest.raises(ValueError, match="larger than the 10 samples"):
        data.first_n(x, y, 11)


def test_as_rows_batches_and_single_images():
    batch = np.arange(3 * 28 * 28).reshape(3, 28, 28) % 256
    rows, single = data.as_rows(batch.astype(np.uint8), 784)
    assert rows.shape == (3, 784) and rows.dtype == np.float32 and not single
    for one in (batch[0].astype(np.uint8), batch[0].reshape(784).astype(np.uint8), batch[:1].astype(np.uint8)):
        rows1, single1 = data.as_rows(one, 784)
        np.testing.assert_array_equal(rows1, rows[:1])
        assert single1 == (one.ndim < 3)
    with pytest.raises(ValueError, match="x has 100 features per sample, the network expects 784"):
        data.as_rows(np.zeros((2, 100)), 784)


# ------------------------------------------------------------------ class names


def test_load_dataset_takes_a_directory_in_place_of_a_name(tmp_path):
    arrays = write_dataset(tmp_path / "idx", n_train=8, n_test=4)
    (x, y), (xt, yt) = data.load_dataset(str(tmp_path / "idx"))
    assert x.shape == (8, 28, 28) and xt.shape == (4, 28, 28)
    assert y.tolist() == arrays["train-labels-idx1-ubyte"].tolist()
    assert yt.tolist() == arrays["t10k-labels-idx1-ubyte"].tolist()
    with pytest.raises(DatasetError, match=r"unknown dataset 'some/dir': not a directory.*data_dir="):
        data.load_dataset("some/dir")


def test_class_names_of_each_kind_of_dataset(tmp_path):
    assert data.class_names("mnist") == tuple("0123456789")
    fashion = data.class_names("fashion-mnist")
    assert len(fashion) == 10 and fashion[5] == "Sandal" and fashion[7] == "Sneaker" and fashion[9] == "Ankle boot"
    write_dataset(tmp_path, n_train=8, n_test=4)
    assert data.class_names(str(tmp_path)) == data.DIGITS  # an IDX directory without classes.txt: numbers
    names = [f"kana {i}" for i in range(10)]
    (tmp_path / "classes.txt").write_text("\n".join(names) + "\n\n")
    assert data.class_names(str(tmp_path)) == tuple(names)
    assert data.class_names("fashion-mnist", tmp_path) == tuple(names)  # the directory's file wins
    assert data.item_noun(data.DIGITS) == "digits"
    assert data.item_noun(fashion) == "images" and data.item_noun(names) == "images"


@pytest.mark.parametrize("text, message", [("a\nb\n", "expected 10 class names, one per line, found 2"),
                                           ("\n".join(["x"] * 10), "class name 'x' is given twice")])
def test_bad_classes_file_is_refused(tmp_path, text, message):
    (tmp_path / "classes.txt").write_text(text)
    with pytest.raises(DatasetError, match=message):
        data.class_names("mnist", tmp_path)


# ------------------------------------------------- the bundled copy and label checks on the users' paths
#
# The data layer's promises on the paths users take: the bundled MNIST is verified when loaded, and labels
# are checked the same way whether they come as arrays or from a PyTorch DataLoader.


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
    path.write_bytes(gzip.compress(b"garbage!"))
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


# ----------------------------------------------------------------- class names and the bundled checksums
#
# Class names and the bundled checksums: edges the other data tests do not reach.
#
# Written for the mutants of data.py that survived the mutation run of 2026-11-26 on the merged code
# (tools/mutation_notes.toml).


LETTERS = tuple("abcdefghij")


def _classes(directory, names):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "classes.txt").write_text("\n".join(names) + "\n", encoding="utf-8")
    return directory


def test_a_data_dir_gives_the_class_names_whatever_the_name(tmp_path):
    d = _classes(tmp_path / "letters", LETTERS)
    assert class_names("letters", data_dir=d) == LETTERS  # a name that is no bundled dataset
    assert class_names("mnist", data_dir=d) == LETTERS    # nor is the bundled one's
    assert class_names(str(d)) == LETTERS                 # the name is the directory
    assert class_names("mnist") == DIGITS


def test_a_name_given_twice_is_the_one_named(tmp_path):
    names = ("a", "b", "c", "d", "c", "e", "f", "g", "h", "i")  # 'a' is first and unique; 'c' is there twice
    path = _classes(tmp_path, names) / "classes.txt"
    with pytest.raises(DatasetError, match=rf"^{path}: class name 'c' is given twice$"):
        read_class_names(path)


def test_unreadable_class_names_are_named_with_the_reason(tmp_path):
    path = tmp_path / "classes.txt"
    path.write_bytes(b"\xff\xfe not utf-8\n" * 10)
    with pytest.raises(DatasetError, match=rf"^{path}: cannot read class names \(.*utf-8.*\)$"):
        read_class_names(path)
    with pytest.raises(DatasetError, match=rf"^{tmp_path}: cannot read class names \("):
        read_class_names(tmp_path)  # a directory


def test_sums_written_in_binary_mode_are_read(monkeypatch):
    # `sha256sum -b` marks each name with '*'; the name is what follows it
    class Sums:
        def joinpath(self, name):
            return self

        def read_text(self):
            return "aa11  *train-images-idx3-ubyte.gz\n\nbb22  t10k-labels-idx1-ubyte.gz\n"

    monkeypatch.setattr(data.resources, "files", lambda package: Sums())
    assert data._mnist_sums() == {"train-images-idx3-ubyte.gz": "aa11", "t10k-labels-idx1-ubyte.gz": "bb22"}
