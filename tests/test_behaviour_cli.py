"""The command line's success paths that the smoke tests do not run, each checked against what it promises.

``--n-train`` takes the first N images, ``--data-dir`` trains on (and ``evaluate`` scores on) a small IDX
dataset written here, ``--schedule time-based`` records the rates of the schedule, ``--loss mse`` reports
the mean squared error of the saved model, ``predict --top`` lists the model's own probabilities.
"""
import json

import numpy as np
import pytest
from PIL import Image

from ffnn.backends import load
from ffnn.cli import main
from ffnn.data import IDX_FILES, load_mnist, one_hot, prepare_images
from ffnn.imaging import load_digit
from helpers.cli import ffnn_ok
from helpers.files import write_idx

QUICK = ["--hidden", "16", "--epochs", "1", "--batch-size", "20"]


def blocks(n, rng):
    """Digits made of a bright 6x6 block whose place (one of 10) is the class: learnable in one epoch."""
    labels = rng.integers(0, 10, n)
    images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
    for img, c in zip(images, labels):
        r, col = 3 + (c // 5) * 13, 1 + (c % 5) * 5
        img[r:r + 6, col:col + 6] = 255
    return images, labels


@pytest.fixture(scope="module")
def blocks_dir(tmp_path_factory):
    """An IDX directory of 400 training and 60 test block digits."""
    d = tmp_path_factory.mktemp("blocks")
    rng = np.random.default_rng(7)
    (x, y), (xt, yt) = blocks(400, rng), blocks(60, rng)
    for role, array in {"train_images": x, "train_labels": y, "test_images": xt, "test_labels": yt}.items():
        write_idx(d / IDX_FILES[role], array)
    return d, (x, y), (xt, yt)


@pytest.fixture
def seen(monkeypatch):
    """Records the arrays the numpy backend is trained on."""
    from ffnn.backends import numpy_net

    record = {}
    real = numpy_net.NeuralNetwork.fit_arrays

    def fit_arrays(self, x, y, x_val=None, y_val=None, **kw):
        record.update(x=np.array(x), y=np.array(y), x_val=x_val, y_val=y_val)
        return real(self, x, y, x_val, y_val, **kw)

    monkeypatch.setattr(numpy_net.NeuralNetwork, "fit_arrays", fit_arrays)
    return record


def _rows(a):
    return sorted(r.tobytes() for r in np.asarray(a))


def test_n_train_takes_the_first_n_mnist_images(tmp_path, capsys, seen):
    ffnn_ok(capsys, "train", "--n-train", "300", *QUICK, "--out", tmp_path / "run")
    (x, y), _ = load_mnist()
    first = prepare_images(x[:300])
    assert len(seen["x"]) == 270 and len(seen["x_val"]) == 30  # the 10% split is taken from those 300
    assert _rows(np.concatenate([seen["x"], seen["x_val"]])) == _rows(first)
    assert sorted(np.concatenate([seen["y"], seen["y_val"]])) == sorted(y[:300])


def test_data_dir_trains_on_the_first_n_of_that_directory(blocks_dir, tmp_path, capsys, seen):
    d, (x, y), _ = blocks_dir
    out = tmp_path / "run"
    ffnn_ok(capsys, "train", "--data-dir", d, "--n-train", "250", "--val-size", "0", *QUICK, "--out", out)
    np.testing.assert_array_equal(seen["x"], prepare_images(x[:250]))  # no split: in order
    np.testing.assert_array_equal(seen["y"], y[:250])
    config = json.loads((out / "config.json").read_text())
    assert config["data"]["data_dir"] == str(d) and config["data"]["n_test"] == 60


def test_evaluate_scores_a_run_on_its_own_dataset(blocks_dir, tmp_path, capsys):
    d, _, (xt, yt) = blocks_dir
    out = tmp_path / "run"
    ffnn_ok(capsys, "train", "--data-dir", d, "--hidden", "16", "--epochs", "3", "--batch-size", "10", "--lr", "2",
         "--out", out)
    metrics = json.loads(ffnn_ok(capsys, "evaluate", out, "--json"))
    assert metrics["n_test"] == 60 and np.sum(metrics["confusion_matrix"]) == 60  # not MNIST's 10,000
    pred = load("numpy", out / "model.npz").predict_proba(prepare_images(xt)).argmax(1)
    assert metrics["test_accuracy"] == pytest.approx(np.mean(pred == yt))
    assert metrics["test_accuracy"] > 0.5  # the blocks are learnable: chance is 0.1
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["test_accuracy"] == pytest.approx(metrics["test_accuracy"])
    text = ffnn_ok(capsys, "evaluate", out)
    assert "on 60 images" in text


def test_time_based_schedule_records_its_rates(tmp_path, capsys):
    out = tmp_path / "run"
    # 300 images in batches of 100: 3 steps per epoch, so epochs start at steps 0, 3, 6 -> rates 7, 4, 1
    ffnn_ok(capsys, "train", "--n-train", "300", "--val-size", "0", "--hidden", "16", "--epochs", "3",
         "--batch-size", "100", "--schedule", "time-based", "--lr", "7", "--out", out)
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["schedule"] == "time-based" and config["learning_rate"] == 7
    history = json.loads((out / "history.json").read_text())["history"]
    assert history["learning_rate"] == [7.0, 4.0, 1.0]


def test_mse_loss_is_the_mean_squared_error_of_the_saved_model(tmp_path, capsys):
    out = tmp_path / "run"
    ffnn_ok(capsys, "train", "--n-train", "400", "--val-size", "0", "--hidden", "16", "--epochs", "2",
         "--batch-size", "16", "--lr", "8", "--loss", "mse", "--out", out)
    assert json.loads((out / "config.json").read_text())["config"]["loss"] == "mse"
    history = json.loads((out / "history.json").read_text())["history"]
    (x, y), _ = load_mnist()
    p = load("numpy", out / "model.npz").predict_proba(prepare_images(x[:400]))
    mse = np.mean((p - one_hot(y[:400])) ** 2)  # the mean over classes and samples
    assert history["loss"][-1] == pytest.approx(mse, rel=1e-5)
    assert history["loss"][1] < history["loss"][0]


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("predict") / "run"
    assert main(["train", "--n-train", "1000", "--hidden", "32", "--epochs", "1", "--batch-size", "20",
                 "--out", str(out)]) == 0
    _, (xt, _) = load_mnist()
    paths = []
    for i in range(3):
        path = out.parent / f"digit{i}.png"
        Image.fromarray(255 - xt[i]).resize((84, 84)).save(path)  # dark on light, three times the size
        paths.append(path)
    return out, paths


@pytest.mark.parametrize("top", [1, 5, 10, 25])
def test_predict_top_lists_the_models_probabilities(digits_run, capsys, top):
    out, paths = digits_run
    results = json.loads(ffnn_ok(capsys, "predict", out, *paths, "--top", top, "--json"))
    model = load("numpy", out / "model.npz")
    for path, r in zip(paths, results, strict=True):
        p = model.predict_proba(load_digit(path).reshape(1, -1))[0]
        expected = np.argsort(-p, kind="stable")[:min(top, 10)]
        assert [t["class"] for t in r["top"]] == list(expected)
        assert [t["probability"] for t in r["top"]] == pytest.approx(p[expected], rel=1e-6)
        assert r["prediction"] == int(np.argmax(p))
    text = ffnn_ok(capsys, "predict", out, paths[0], "--top", top)
    assert text.count("%)") == min(top, 10)
