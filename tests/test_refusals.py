"""Saved models are never unpickled: a pickle hidden in a ``.npz`` or a ``.pt`` is refused with one line.

Each planted pickle would create a marker file if it were ever unpickled; the marker must not appear.
"""
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from ffnn.cli import main
from ffnn.weights import load_weights


class Trap:
    """Unpickling this object touches ``marker`` (a stand-in for arbitrary code)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_the_trap_springs_when_unpickled(tmp_path):
    marker = tmp_path / "sprung"
    pickle.loads(pickle.dumps(Trap(marker)))  # the positive control: unpickling does run it
    assert marker.exists()


def _run_dir(tmp_path, backend):
    run = tmp_path / f"{backend}-run"
    run.mkdir()
    config = {"layer_sizes": [784, 8, 10], "epochs": 1}
    (run / "config.json").write_text(json.dumps({"backend": backend, "config": config,
                                                 "data": {"dataset": "mnist", "data_dir": None}}))
    return run, config


def _cli_refuses(capsys, run, model_name, marker, *extra):
    for argv in (["evaluate", str(run)], ["predict", str(run), *extra]):
        rc = main(argv)
        out, err = capsys.readouterr()
        assert rc == 1, (argv, out, err)
        assert err.startswith("ffnn: error: ") and err.count("\n") == 1 and model_name in err, err
        assert not marker.exists(), f"{argv}: the pickle was loaded"


@pytest.fixture
def digit(tmp_path):
    from PIL import Image

    path = tmp_path / "digit.png"
    img = np.zeros((28, 28), np.uint8)
    img[6:22, 12:16] = 255
    Image.fromarray(img).save(path)
    return path


def test_npz_with_a_pickled_object_array_is_refused(tmp_path, capsys, digit):
    marker = tmp_path / "npz-sprung"
    run, config = _run_dir(tmp_path, "numpy")
    meta = json.dumps({"backend": "numpy", "config": config})
    np.savez(run / "model.npz", W0=np.array([Trap(marker)], dtype=object), b0=np.zeros(8), meta=np.array(meta))
    with pytest.raises(ValueError, match="model.npz") as err:
        load_weights(run / "model.npz")
    assert "\n" not in str(err.value) and not marker.exists()
    _cli_refuses(capsys, run, "model.npz", marker, str(digit))


def test_pt_with_an_arbitrary_pickled_object_is_refused(tmp_path, capsys, digit):
    torch = pytest.importorskip("torch")
    from ffnn.backends import load

    marker = tmp_path / "pt-sprung"
    run, config = _run_dir(tmp_path, "torch")
    torch.save({"backend": "torch", "config": config, "state_dict": Trap(marker)}, run / "model.pt")
    with pytest.raises(ValueError, match="model.pt: cannot read the model"):
        load("torch", run / "model.pt")
    assert not marker.exists()
    _cli_refuses(capsys, run, "model.pt", marker, str(digit))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_pt_that_is_only_a_pickle_is_refused(tmp_path, capsys, digit):
    pytest.importorskip("torch")
    marker = tmp_path / "plain-sprung"
    run, _ = _run_dir(tmp_path, "torch")
    (run / "model.pt").write_bytes(pickle.dumps(Trap(marker)))  # not even a zip archive
    _cli_refuses(capsys, run, "model.pt", marker, str(digit))
