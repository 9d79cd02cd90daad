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
