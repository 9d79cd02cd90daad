"""``ffnn inspect``: one image through a saved run, the pictures of every run, and their errors."""
import json

import numpy as np
import pytest
from PIL import Image

from ffnn.cli import main
from ffnn.functional import sigmoid, softmax
from ffnn.imaging import load_digit
from ffnn.inspect import inspect_digit
from helpers.cli import ffnn

TINY = ["--n-train", "300", "--epochs", "1", "--batch-size", "50", "--hidden", "16,8"]
FRAMEWORK = {"torch": "torch", "tensorflow": "tensorflow"}


@pytest.fixture(scope="module")
def digit_file(tmp_path_factory, mnist):
    """The first MNIST test digit (a 7), blown up and dark on light, as a PNG."""
    _, (x_test, _) = mnist
    path = tmp_path_factory.mktemp("digits") / "seven.png"
    Image.fromarray(255 - x_test[0]).resize((140, 140), Image.Resampling.BILINEAR).save(path)
    return path


@pytest.fixture(scope="module")
def numpy_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("inspect") / "numpy-run"
    assert main(["train", "--backend", "numpy", *TINY, "--out", str(out)]) == 0
    return out


def test_inspect_digit_by_hand():
    # 2 inputs -> 1 sigmoid unit -> 2 classes. x = (1, 0): z1 = 2 * 1 + 0 = 2, a1 = sigmoid(2);
    # logits (a1, -a1), so p = softmax(a1, -a1).
    weights = [(np.array([[2.0], [5.0]]), np.array([0.0])), (np.array([[1.0, -1.0]]), np.array([0.0, 0.0]))]
    result = inspect_digit(weights, np.array([1.0, 0.0]))
    a1 = float(sigmoid(np.array([2.0]))[0])
    assert result["hidden"] == [{"layer": 1, "units": 1, "values": [pytest.approx(a1)], "saturation": 0.0}]
    assert result["probabilities"] == pytest.approx(softmax(np.array([[a1, -a1]]))[0])
    assert result["prediction"] == 0 and result["activation"] == "sigmoid"
    with pytest.raises(ValueError, match="3 pixels, the model expects 2"):
        inspect_digit(weights, np.ones(3))


def test_weight_tiles_put_each_unit_in_its_own_tile():
    from ffnn.plots import weight_tiles

    W = np.arange(4 * 5, dtype=float).reshape(4, 5)  # 4 inputs (2x2 tiles), 5 units -> 3 columns, 2 rows
    mosaic, n = weight_tiles(W, gap=1)
    assert n == 5 and mosaic.shape == (2 * 3 - 1, 3 * 3 - 1)
    np.testing.assert_array_equal(mosaic[0:2, 3:5], W[:, 1].reshape(2, 2))  # unit 1: row 0, column 1
    np.testing.assert_array_equal(mosaic[3:5, 3:5], W[:, 4].reshape(2, 2))  # unit 4: row 1, column 1
    assert np.isnan(mosaic[3:5, 6:8]).all() and np.isnan(mosaic[2]).all()  # the empty tile and a gap
    assert weight_tiles(np.zeros((784, 100)))[1] == 64
    with pytest.raises(ValueError, match="square number of inputs, got 5"):
        weight_tiles(np.zeros((5, 2)))


def test_every_run_has_the_pictures_and_the_diagnosis(numpy_run):
    for name in ("weights.png", "dynamics.png"):
        with Image.open(numpy_run / name) as img:
            assert img.format == "PNG" and img.width > 300
    metrics = json.loads((numpy_run / "metrics.json").read_text())
    assert isinstance(metrics["diagnosis"], list)
    history = json.loads((numpy_run / "history.json").read_text())
    assert len(history["dynamics"]["grad_norm_1"]) == 1 and "saturation_2" in history["dynamics"]


def test_inspect_cli_matches_the_saved_model(numpy_run, digit_file, mnist, capsys):
    from ffnn.backends import load

    rc, out, err = ffnn(capsys, "inspect", numpy_run, "--image", digit_file, "--json")
    assert rc == 0 and err == ""
    data = json.loads(out)
    model = load("numpy", numpy_run / "model.npz")
    digit = load_digit(digit_file)
    np.testing.assert_allclose(data["probabilities"], model.predict_proba(digit.reshape(1, -1))[0], rtol=1e-5)
    np.testing.assert_allclose(data["input"], digit, atol=1e-6)
    assert [h["units"] for h in data["hidden"]] == [16, 8] and len(data["hidden"][0]["values"]) == 16
    figure = numpy_run / "inspect-seven.png"
    assert data["figure"] == str(figure) and figure.is_file()
    rc, out, _ = ffnn(capsys, "inspect", numpy_run, "--image", digit_file, "--out", numpy_run / "sub" / "x.png")
    assert rc == 0 and f"({100 * max(data['probabilities']):.1f}%)" in out and "hidden layer 2: 8 sigmoid" in out
    with Image.open(numpy_run / "sub" / "x.png") as img:
        assert img.format == "PNG"


@pytest.mark.parametrize("backend", ["torch", "tensorflow"])
def test_inspect_works_on_framework_runs(backend, tmp_path, digit_file, capsys):
    pytest.importorskip(FRAMEWORK[backend])
    from ffnn.backends import load

    out = tmp_path / backend
    assert main(["train", "--backend", backend, *TINY, "--out", str(out)]) == 0
    capsys.readouterr()
    assert {"weights.png", "dynamics.png"} <= {p.name for p in out.iterdir()}
    rc, text, err = ffnn(capsys, "inspect", out, "--image", digit_file, "--json")
    assert rc == 0 and err == ""
    model = load(backend, out / {"torch": "model.pt", "tensorflow": "model.keras"}[backend])
    expected = np.asarray(model.predict_proba(load_digit(digit_file).reshape(1, -1)))[0]
    np.testing.assert_allclose(json.loads(text)["probabilities"], expected, rtol=1e-4, atol=1e-6)


def test_inspect_errors_are_one_line(numpy_run, digit_file, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("not an image")
    cases = [
        (["inspect", numpy_run, "--image", tmp_path / "missing.png"], "missing.png: file not found"),
        (["inspect", numpy_run, "--image", tmp_path / "notes.txt"], "not an image"),
        (["inspect", tmp_path / "nowhere", "--image", digit_file], "run directory does not exist"),
        (["inspect", tmp_path, "--image", digit_file], "not an ffnn run directory"),
        (["inspect", numpy_run, "--image", digit_file, "--out", tmp_path / "x.jpg"], "--out must name a .png"),
    ]
    for argv, expected in cases:
        rc, out, err = ffnn(capsys, *argv)
        assert rc == 1 and expected in err and err.count("\n") == 1, (argv, err)
    rc, _, err = ffnn(capsys, "inspect", numpy_run)
    assert rc == 2 and "--image" in err


def test_dynamics_figure_without_dynamics_says_so(tmp_path):
    from ffnn.history import History
    from ffnn.plots import plot_dynamics

    h = History()
    h.append(epoch=1, loss=1.0, accuracy=0.5, val_loss=1.1, val_accuracy=0.4, learning_rate=1.0, seconds=0.1)
    with Image.open(plot_dynamics(h, tmp_path / "dynamics.png")) as img:  # e.g. torch's fit(loaders): no probe set
        assert img.format == "PNG" and img.width > 300
