"""The data layer: bundled MNIST, the IDX reader and the array helpers."""
import gzip
import hashlib
import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from ffnn import data
from ffnn.data import DatasetError
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
