"""The ffnn command line: smoke runs of every command and backend, run-directory contents, errors, Ctrl-C,
and the success paths the smoke runs do not take, each checked against what it promises.

Commands whose logic lives in a module of its own (check, bench, inspect, tune, theory, ...) are also run from
that module's test file.
"""
import argparse
import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ffnn.backends import load
from ffnn.cli import COMMANDS, build_parser, main
from ffnn.data import IDX_FILES, load_mnist, one_hot, prepare_images
from ffnn.imaging import load_digit
from helpers.cli import ffnn, ffnn_ok
from helpers.files import write_idx


TINY = ["--n-train", "500", "--epochs", "1", "--batch-size", "50"]
RUN_FILES = {"config.json", "history.json", "history.csv", "metrics.json", "accuracy.png", "loss.png",
             "confusion.png", "misclassified.png"}
MODEL_FILES = {"numpy": "model.npz", "torch": "model.pt", "tensorflow": "model.keras"}
FRAMEWORK = {"torch": "torch", "tensorflow": "tensorflow"}


def needs(backend):
    if backend in FRAMEWORK:
        pytest.importorskip(FRAMEWORK[backend])


def reference_accuracy(run_dir, backend, mnist):
    """test_accuracy of metrics.json, recomputed from the saved model and the official test set."""
    from ffnn.backends import load

    model = load(backend, run_dir / MODEL_FILES[backend])
    _, (x_test, y_test) = mnist
    pred = np.asarray(model.predict_proba(prepare_images(x_test))).argmax(1)
    return float(np.mean(pred == y_test))


@pytest.fixture(scope="module")
def numpy_run(tmp_path_factory):
    """Two quick epochs on 1,800 samples: about 78% test accuracy, enough to read digits."""
    out = tmp_path_factory.mktemp("cli") / "numpy-run"
    argv = ["train", "--backend", "numpy", "--n-train", "2000", "--epochs", "2", "--batch-size", "20", "--lr", "1"]
    assert main([*argv, "--out", str(out)]) == 0
    return out


# ------------------------------------------------------------------- train


def test_train_writes_the_run_directory(numpy_run, mnist):
    assert RUN_FILES | {"model.npz"} <= {p.name for p in numpy_run.iterdir()}
    config = json.loads((numpy_run / "config.json").read_text())
    assert config["backend"] == "numpy"
    assert config["config"]["layer_sizes"] == [784, 128, 64, 10]
    assert config["config"]["epochs"] == 2 and config["config"]["batch_size"] == 20
    assert config["config"]["learning_rate"] == 1 and config["config"]["loss"] == "cross-entropy"
    # --n-train 2000 with the default 10% validation split
    assert config["data"]["n_train"] == 1800 and config["data"]["n_val"] == 200
    assert config["data"]["n_test"] == 10000

    history = json.loads((numpy_run / "history.json").read_text())
    assert history["history"]["epoch"] == [1, 2] and history["interrupted"] is False
    rows = list(csv.DictReader(io.StringIO((numpy_run / "history.csv").read_text())))
    assert len(rows) == 2
    assert [float(r["accuracy"]) for r in rows] == pytest.approx(history["history"]["accuracy"])
    for key in ("loss", "val_loss", "val_accuracy", "learning_rate", "seconds"):
        assert rows[1][key] != ""

    metrics = json.loads((numpy_run / "metrics.json").read_text())
    assert metrics["test_accuracy"] == pytest.approx(reference_accuracy(numpy_run, "numpy", mnist))
    cm = np.array(metrics["confusion_matrix"])
    assert cm.shape == (10, 10) and cm.sum() == 10000
    assert np.trace(cm) / 10000 == pytest.approx(metrics["test_accuracy"])
    assert len(metrics["per_class"]) == 10
    for name in ("accuracy.png", "loss.png", "confusion.png", "misclassified.png"):
        with Image.open(numpy_run / name) as img:
            assert img.format == "PNG" and img.width > 200 and img.height > 200


def test_evaluate(numpy_run, capsys):
    rc, out, err = ffnn(capsys, "evaluate", numpy_run)
    assert rc == 0 and err == ""
    acc = json.loads((numpy_run / "metrics.json").read_text())["test_accuracy"]
    assert f"test accuracy {100 * acc:.2f}%" in out
    assert "precision" in out and "confusion matrix" in out
    rc, out, _ = ffnn(capsys, "evaluate", numpy_run, "--json")
    data = json.loads(out)
    assert rc == 0 and data["test_accuracy"] == pytest.approx(acc)
    assert sum(c["support"] for c in data["per_class"]) == 10000


def _digit_files(directory, mnist, n):
    """MNIST test digits blown up and inverted (dark on light), as PNG files; and their labels."""
    _, (x_test, y_test) = mnist
    paths = []
    for i in range(n):
        big = Image.fromarray(255 - x_test[i]).resize((140, 140), Image.Resampling.BILINEAR)
        paper = Image.new("L", (200, 180), 255)
        paper.paste(big, (50, 10))
        paths.append(directory / f"digit{i}.png")
        paper.save(paths[-1])
    return paths, y_test[:n]


def test_predict(numpy_run, mnist, tmp_path, capsys):
    paths, _ = _digit_files(tmp_path, mnist, 3)
    rc, out, err = ffnn(capsys, "predict", numpy_run, *paths)
    assert rc == 0 and err == ""
    lines = out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith(f"{paths[0]}: ")
    rc, out, _ = ffnn(capsys, "predict", numpy_run, *paths, "--json")
    results = json.loads(out)
    assert rc == 0 and [r["image"] for r in results] == [str(p) for p in paths]
    for r in results:
        probs = [t["probability"] for t in r["top"]]
        assert len(r["top"]) == 3 and probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-6
        assert r["prediction"] == r["top"][0]["class"]
        assert len({t["class"] for t in r["top"]}) == 3


def test_predict_reads_digits_as_mnist_made_them(numpy_run, tmp_path, mnist, capsys):
    """Blown-up, inverted, off-centre test digits get the class the model gives the original digits."""
    from ffnn.backends import load

    paths, labels = _digit_files(tmp_path, mnist, 20)
    rc, text, _ = ffnn(capsys, "predict", numpy_run, *paths, "--json")
    predicted = np.array([r["prediction"] for r in json.loads(text)])
    _, (x_test, _) = mnist
    on_originals = load("numpy", numpy_run / "model.npz").predict(prepare_images(x_test[:20]))
    assert rc == 0
    assert np.mean(predicted == on_originals) >= 0.9
    assert np.mean(predicted == labels) >= 0.6  # chance is 0.1


@pytest.mark.parametrize("backend", ["torch", "tensorflow"])
def test_framework_backends(backend, tmp_path, mnist, capsys):
    needs(backend)
    out = tmp_path / backend
    rc, text, err = ffnn(capsys, "train", "--backend", backend, *TINY, "--device", "cpu", "--out", out)
    assert rc == 0, err
    assert RUN_FILES | {MODEL_FILES[backend]} <= {p.name for p in out.iterdir()}
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_accuracy"] == pytest.approx(reference_accuracy(out, backend, mnist), abs=1e-4)
    assert metrics["initial_weights_match_shared_init"] is True
    rc, text, _ = ffnn(capsys, "evaluate", out, "--json")
    assert rc == 0 and json.loads(text)["test_accuracy"] == pytest.approx(metrics["test_accuracy"], abs=1e-4)
    paths, _ = _digit_files(tmp_path, mnist, 2)
    rc, text, _ = ffnn(capsys, "predict", out, *paths, "--json")
    assert rc == 0 and len(json.loads(text)) == 2


# ----------------------------------------------------------------- compare


def test_compare(tmp_path, capsys):
    names = ["numpy"] + [b for b in ("torch", "tensorflow") if _importable(FRAMEWORK[b])]
    out = tmp_path / "cmp"
    # settings at which the networks learn (about 79% test accuracy), so agreement means something
    learns = ["--n-train", "1000", "--epochs", "2", "--batch-size", "20", "--hidden", "32"]
    rc, text, err = ffnn(capsys, "compare", "--backends", ",".join(names), *learns, "--device", "cpu",
                         "--out", out)
    assert rc == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["backends"]) == names
    with Image.open(out / "accuracy.png") as img:  # a real plot, not an empty canvas
        assert img.format == "PNG" and len(img.convert("L").getcolors(2**16)) > 10
    for name in names:
        assert RUN_FILES | {MODEL_FILES[name]} <= {p.name for p in (out / name).iterdir()}
        entry = summary["backends"][name]
        assert entry["history"]["epoch"] == [1, 2]
        assert entry["seconds_per_epoch"] > 0
        assert entry["test_accuracy"] == json.loads((out / name / "metrics.json").read_text())["test_accuracy"]
        assert entry["initial_weights_match_shared_init"] is True
    # the table: a header and one row per backend with the test accuracy in percent
    for name in names:
        row = next(line for line in text.splitlines() if line.startswith(name + " "))
        assert f"{100 * summary['backends'][name]['test_accuracy']:.2f}%" in row
    assert str(out / "accuracy.png") in text
    # same data, split, batches and starting weights: the histories agree to float32 rounding (about 1e-7)
    ref = summary["backends"]["numpy"]
    assert ref["test_accuracy"] > 0.6 and ref["history"]["loss"][1] < ref["history"]["loss"][0]  # it learned
    for name in names[1:]:
        entry = summary["backends"][name]
        for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
            np.testing.assert_allclose(entry["history"][key], ref["history"][key], rtol=1e-5, atol=1e-6,
                                       err_msg=f"{name} {key}")
        assert abs(entry["test_accuracy"] - ref["test_accuracy"]) <= 2e-4  # at most 2 of 10,000 digits


def _importable(module):
    try:
        __import__(module)
    except ImportError:
        return False
    return True


# ------------------------------------------------------------------ Ctrl-C


def test_ctrl_c_keeps_the_finished_epochs(tmp_path, monkeypatch, capsys, mnist):
    from ffnn.backends import numpy_net

    out = tmp_path / "run"
    real = numpy_net.NeuralNetwork.train_epoch
    seen = {}

    def train_epoch(self, data, order, *args):
        if self is not seen.setdefault("model", self):  # the learning-rate range test's own network
            return real(self, data, order, *args)
        if "calls" in seen:
            # the history of epoch 1 is on disk before epoch 2 starts
            seen["on_disk"] = json.loads((out / "history.json").read_text())["history"]["epoch"]
            seen["weights"] = self.export_weights()  # what epoch 1 left
            raise KeyboardInterrupt
        seen["calls"] = 1
        return real(self, data, order, *args)

    monkeypatch.setattr(numpy_net.NeuralNetwork, "train_epoch", train_epoch)
    rc, text, err = ffnn(capsys, "train", "--n-train", "300", "--epochs", "5", "--out", out)
    assert rc == 130
    assert seen["on_disk"] == [1]
    assert "interrupted after 1 of 5 epochs" in err and "Traceback" not in err
    history = json.loads((out / "history.json").read_text())
    assert history["interrupted"] is True and history["history"]["epoch"] == [1]
    from ffnn.weights import load_weights

    saved = load_weights(out / "model.npz")  # the model saved is the one epoch 1 trained
    for (W, b), (W1, b1) in zip(saved, seen["weights"], strict=True):
        np.testing.assert_array_equal(W, W1)
        np.testing.assert_array_equal(b, b1)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["interrupted"] is True and metrics["epochs"] == 1
    assert metrics["train_accuracy"] == history["history"]["accuracy"][0]
    assert metrics["test_accuracy"] == pytest.approx(reference_accuracy(out, "numpy", mnist))
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_ctrl_c_in_compare_stops_and_keeps_the_summary(tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch")
    from ffnn.backends import numpy_net

    def train_epoch(self, *args):
        raise KeyboardInterrupt

    monkeypatch.setattr(numpy_net.NeuralNetwork, "train_epoch", train_epoch)
    out = tmp_path / "cmp"
    rc, text, err = ffnn(capsys, "compare", "--backends", "numpy,torch", *TINY, "--device", "cpu", "--out", out)
    assert rc == 130 and "interrupted after 0 of 1 epochs" in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True and list(summary["backends"]) == ["numpy"]
    assert not (out / "torch").exists()
    from ffnn.weights import init_weights, load_weights

    # interrupted before any epoch ended: the saved numpy model holds the shared initial weights
    saved = load_weights(out / "numpy" / "model.npz")
    for (W, b), (W0, b0) in zip(saved, init_weights((784, 128, 64, 10), 1, "float32"), strict=True):
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b, b0)
    metrics = json.loads((out / "numpy" / "metrics.json").read_text())
    assert metrics["interrupted"] is True and metrics["epochs"] == 0


# ----------------------------------------------------------------- parsing


def test_every_flag_states_its_default():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in COMMANDS:
        for action in sub.choices[name]._actions:
            if action.option_strings and action.dest != "help" and action.help != argparse.SUPPRESS:
                assert "default" in action.help, f"ffnn {name} {action.option_strings[0]}"


def test_learning_rate_keeps_integers():
    args = build_parser().parse_args(["train", "--lr", "3", "--schedule", "time-based"])
    assert args.lr == 3 and isinstance(args.lr, int)
    assert build_parser().parse_args(["train", "--lr", "0.25"]).lr == 0.25
    assert build_parser().parse_args(["train", "--hidden", "30, 20,10"]).hidden == (30, 20, 10)
    assert build_parser().parse_args(["train", "--val-size", "5000"]).val_size == 5000
    assert build_parser().parse_args(["train", "--val-size", "0.2"]).val_size == 0.2
    args = build_parser().parse_args(["compare", "--activation", "relu", "--momentum", "0.9"])
    assert (args.activation, args.momentum) == ("relu", 0.9)


def test_no_validation_set(tmp_path, capsys):
    rc, _, err = ffnn(capsys, "train", "--n-train", "200", "--epochs", "1", "--val-size", "0", "--out", tmp_path)
    history = json.loads((tmp_path / "history.json").read_text())["history"]
    assert rc == 0 and history["val_accuracy"] == [None] and history["accuracy"][0] is not None


# ------------------------------------------------------------------- errors


@pytest.fixture(scope="module")
def corrupt_data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("corrupt")
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (d / name).write_bytes(b"\x00\x00\x08\x03garbage")
    return d


@pytest.fixture(scope="module")
def run_without_model(numpy_run, tmp_path_factory):
    d = tmp_path_factory.mktemp("nomodel")
    shutil.copy(numpy_run / "config.json", d / "config.json")
    return d


ERRORS = [
    (["train", "--backend", "jax"], "'jax'"),
    (["compare", "--backends", "numpy,jax"], "'jax'"),
    (["train", "--hidden", "128,abc"], "'128,abc'"),
    (["train", "--hidden", "0"], "'0'"),
    (["train", "--hidden", "-5"], "'-5'"),
    (["train", "--epochs", "0"], "--epochs"),
    (["train", "--epochs", "-3"], "'-3'"),
    (["train", "--batch-size", "0"], "--batch-size"),
    (["train", "--lr", "0"], "--lr"),
    (["train", "--lr", "-0.1"], "'-0.1'"),
    (["train", "--lr", "abc"], "'abc'"),
    (["train", "--n-train", "70000"], "70000"),
    (["train", "--val-size", "1.5"], "'1.5'"),
    (["train", "--schedule", "time-based", "--lr", "0.5"], "0.5"),
    # 2.5 must be refused, not trained at int(2.5) = 2 (a small run, should that happen)
    (["train", "--schedule", "time-based", "--lr", "2.5", "--n-train", "100", "--epochs", "1", "--out", "{tmp}/r"],
     "got 2.5"),
    (["train", "--backend", "torch", "--loss", "mse"], "mse"),
    (["train", "--data-dir", "{tmp}/no-such-dir"], "no-such-dir"),
    (["train", "--data-dir", "{corrupt}"], "{corrupt}"),
    (["train", "--device", "cuda", "--n-train", "100"], "cuda"),
    (["train", "--n-train", "100", "--epochs", "1", "--lr", "1e40", "--out", "{tmp}/diverged"], "diverged"),
    (["train", "--activation", "elu"], "'elu'"),
    (["train", "--momentum", "1"], "'1'"),
    (["train", "--momentum", "-0.5"], "'-0.5'"),
    (["evaluate", "{tmp}/no-such-run"], "no-such-run"),
    (["evaluate", "{tmp}"], "no config.json"),
    (["evaluate", "{nomodel}"], "holds no model"),
    (["predict", "{nomodel}", "{image}"], "holds no model"),
    (["predict", "{run}", "{tmp}/not-an-image.png"], "not-an-image.png"),
    (["predict", "{run}", "{tmp}/missing.png"], "missing.png"),
    (["predict", "{run}"], "IMAGE"),
    (["theory"], "--out"),
    (["theory", "--out", "{tmp}/not-a-dir.txt/theory"], "not-a-dir.txt"),
    ([], "choose a command"),
]


@pytest.mark.parametrize("argv,expected", ERRORS, ids=[" ".join(a) or "no-command" for a, _ in ERRORS])
def test_errors_are_one_line(argv, expected, tmp_path, numpy_run, corrupt_data_dir, run_without_model, capsys):
    (tmp_path / "not-an-image.png").write_text("hello")
    (tmp_path / "not-a-dir.txt").write_text("a file where the report's parent directory should be")
    image = tmp_path / "digit.png"
    Image.new("L", (30, 30), 255).save(image)
    where = {"tmp": tmp_path, "corrupt": corrupt_data_dir, "nomodel": run_without_model, "run": numpy_run,
             "image": image}
    argv = [a.format(**where) for a in argv]
    rc, _, err = ffnn(capsys, *argv)
    assert rc != 0
    assert err.count("\n") == 1 and err.startswith("ffnn: error: "), err
    assert expected.format(**where) in err


def test_missing_framework_is_one_line(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    monkeypatch.delitem(sys.modules, "ffnn.backends.torch_net", raising=False)
    rc, _, err = ffnn(capsys, "train", "--backend", "torch", "--n-train", "100")
    assert rc == 1 and err.count("\n") == 1
    assert "ffnn: error: the torch backend needs torch: pip install 'ffnn[torch]'" in err


# --------------------------------------------------------- the real entry point


def _entry_point():
    exe = Path(sys.executable).with_name("ffnn")
    return str(exe) if exe.exists() else shutil.which("ffnn")


def test_console_script(tmp_path):
    exe = _entry_point()
    if exe is None:
        pytest.skip("the ffnn console script is not installed")
    out = tmp_path / "run"
    done = subprocess.run([exe, "train", "--n-train", "200", "--epochs", "2", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    # not a terminal: one problem-set line per epoch
    assert [line.split(",")[0] for line in done.stdout.splitlines() if line.startswith("Epoch:")] == \
        ["Epoch: 1", "Epoch: 2"]
    assert "Validation Accuracy:" in done.stdout
    assert (out / "model.npz").is_file()
    bad = subprocess.run([exe, "train", "--hidden", "128,abc"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.splitlines() == [
        "ffnn: error: argument --hidden: must be comma-separated positive integers such as 128,64, "
        "got '128,abc' ('abc')"]


def test_closed_pipe_ends_quietly(numpy_run, monkeypatch, capsys):
    """`ffnn evaluate RUN | head -1`: once the reader has gone, stop with no error and no traceback."""
    read_end, write_end = os.pipe()

    class ClosedPipe:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            pass

        def fileno(self):
            return write_end

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    try:
        rc = main(["evaluate", str(numpy_run)])
    finally:
        os.close(read_end)
        os.close(write_end)
    assert rc == 141
    assert capsys.readouterr().err == ""


def test_early_stopping_reports_the_restored_epoch(tmp_path, capsys):
    out = tmp_path / "es"
    rc, _, _ = ffnn(capsys, "train", "--n-train", "300", "--epochs", "8", "--early-stopping", "2",
                    "--lr", "3", "--batch-size", "16", "--out", out)
    assert rc == 0
    history = json.loads((out / "history.json").read_text())
    metrics = json.loads((out / "metrics.json").read_text())
    best = history["best_epoch"]
    assert best is not None and best < len(history["history"]["epoch"])  # the last epoch is not the best
    # The saved model holds the best epoch's weights, so its numbers are reported, not the last epoch's.
    assert metrics["val_accuracy"] == history["history"]["val_accuracy"][best - 1]
    assert metrics["train_accuracy"] == history["history"]["accuracy"][best - 1]


def test_early_stopping_without_validation_fails_before_writing(tmp_path, capsys):
    out = tmp_path / "es"
    rc, _, err = ffnn(capsys, "train", "--n-train", "300", "--val-size", "0", "--early-stopping", "2",
                      "--out", out)
    assert rc != 0 and err.startswith("ffnn: error: --early-stopping needs a validation set")
    assert not out.exists()


# ------------------------------------------------- comparisons, class names


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    """numpy and torch trained side by side by ``ffnn compare`` (one epoch on 500 images)."""
    pytest.importorskip("torch")
    out = tmp_path_factory.mktemp("comparison") / "cmp"
    assert main(["compare", "--backends", "numpy,torch", *TINY, "--device", "cpu", "--out", str(out)]) == 0
    return out


def test_evaluate_a_comparison_side_by_side(comparison, capsys):
    rc, out, err = ffnn(capsys, "evaluate", comparison)
    assert rc == 0 and err == ""
    lines = out.splitlines()
    assert lines[2].split() == ["numpy", "torch"]
    metrics = {b: json.loads((comparison / b / "metrics.json").read_text()) for b in ("numpy", "torch")}
    accuracy = next(line for line in lines if line.startswith("test accuracy"))
    assert accuracy.split()[2:] == [f"{100 * metrics[b]['test_accuracy']:.2f}%" for b in ("numpy", "torch")]
    for c in range(10):  # the recall of each class, as each run's metrics.json has it
        row = next(line for line in lines if line.startswith(f"  {c} "))
        assert row.split()[1:] == [f"{100 * metrics[b]['per_class'][c]['recall']:.2f}%" for b in ("numpy", "torch")]
    rc, out, _ = ffnn(capsys, "evaluate", comparison, "--json")
    side_by_side = json.loads(out)
    assert rc == 0 and list(side_by_side) == ["numpy", "torch"]
    for backend in ("numpy", "torch"):  # the same as evaluating each backend's run by itself
        rc, out, _ = ffnn(capsys, "evaluate", comparison / backend, "--json")
        assert rc == 0 and side_by_side[backend] == json.loads(out)


def test_predict_a_comparison_side_by_side(comparison, mnist, tmp_path, capsys):
    paths, _ = _digit_files(tmp_path, mnist, 3)
    rc, out, err = ffnn(capsys, "predict", comparison, *paths, "--json")
    side_by_side = json.loads(out)
    assert rc == 0 and err == "" and list(side_by_side) == ["numpy", "torch"]
    for backend in ("numpy", "torch"):
        rc, out, _ = ffnn(capsys, "predict", comparison / backend, *paths, "--json")
        assert rc == 0 and side_by_side[backend] == json.loads(out)
    rc, out, _ = ffnn(capsys, "predict", comparison, *paths)
    lines = out.strip().splitlines()
    assert rc == 0 and len(lines) == 4
    for path, line, i in zip(paths, lines, range(3)):
        answers = " ".join(f"{b} {side_by_side[b][i]['name']} ({100 * side_by_side[b][i]['top'][0]['probability']:.1f}%)"
                           for b in ("numpy", "torch"))
        assert line.split() == f"{path}: {answers}".split()
    same = sum(side_by_side["numpy"][i]["prediction"] == side_by_side["torch"][i]["prediction"] for i in range(3))
    assert lines[3] == ("Both backends give the same answer for every image." if same == 3
                        else f"Both backends give the same answer for {same} of 3 images.")


def test_comparison_with_a_missing_run_is_one_line(comparison, tmp_path, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(comparison, broken)
    shutil.rmtree(broken / "torch")
    rc, _, err = ffnn(capsys, "evaluate", broken)
    assert rc == 1 and err.count("\n") == 1 and "the torch run listed in summary.json is missing" in err


NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@pytest.fixture(scope="module")
def named_data_dir(mnist, tmp_path_factory):
    """The first 300 MNIST training and 200 test images as IDX files, with a classes.txt of the digits' words."""
    d = tmp_path_factory.mktemp("named")
    (x, y), (xt, yt) = mnist
    for name, array in [("train-images-idx3-ubyte", x[:300]), ("train-labels-idx1-ubyte", y[:300]),
                        ("t10k-images-idx3-ubyte", xt[:200]), ("t10k-labels-idx1-ubyte", yt[:200])]:
        write_idx(d / f"{name}.gz", array, gz=True)
    (d / "classes.txt").write_text("\n".join(NAMES) + "\n")
    return d


@pytest.mark.parametrize("backend", ["numpy", "torch", "tensorflow"])
def test_class_names_survive_save_and_load(backend, named_data_dir, mnist, tmp_path, capsys):
    needs(backend)
    out = tmp_path / backend
    rc, _, err = ffnn(capsys, "train", "--backend", backend, "--data-dir", named_data_dir, "--epochs", "1",
                      "--batch-size", "30", "--device", "cpu", "--out", out)
    assert rc == 0, err
    assert json.loads((out / "config.json").read_text())["data"]["classes"] == NAMES
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["classes"] == NAMES and [r["name"] for r in metrics["per_class"]] == NAMES
    rc, text, _ = ffnn(capsys, "evaluate", out)
    assert rc == 0 and "3 three" in text and "on 200 images" in text
    rc, text, _ = ffnn(capsys, "evaluate", out, "--json")
    assert json.loads(text)["per_class"][7]["name"] == "seven"
    paths, _ = _digit_files(tmp_path, mnist, 2)
    rc, text, _ = ffnn(capsys, "predict", out, *paths, "--json")
    for r in json.loads(text):
        assert r["name"] == NAMES[r["prediction"]] and all(t["name"] == NAMES[t["class"]] for t in r["top"])


def test_plots_use_class_names(monkeypatch, tmp_path):
    from ffnn import plots
    from ffnn.data import FASHION_MNIST_CLASSES

    figures = []
    monkeypatch.setattr(plots, "save_png", lambda fig, path: figures.append(fig))
    images = np.zeros((4, 784))
    plots.plot_misclassified(images, [7, 5, 1, 9], [5, 5, 3, 7], tmp_path / "m.png",
                             title="Misclassified test images (true -> predicted)", classes=FASHION_MNIST_CLASSES)
    plots.plot_misclassified(images, [7, 5], [5, 5], tmp_path / "d.png")
    plots.plot_confusion(np.eye(10, dtype=int), tmp_path / "c.png", classes=FASHION_MNIST_CLASSES)
    ax = figures[0].axes[0]
    assert ax.get_title() == "Misclassified test images (true -> predicted)"
    assert [t.get_text() for t in ax.texts] == ["Sneaker\n-> Sandal", "Trouser\n-> Dress", "Ankle boot\n-> Sneaker"]
    digits = figures[1].axes[0]
    assert digits.get_title() == "Misclassified test digits (true -> predicted)"
    assert [t.get_text() for t in digits.texts] == ["7 -> 5"]
    confusion = figures[2].axes[0]
    assert [t.get_text() for t in confusion.get_xticklabels()] == list(FASHION_MNIST_CLASSES)
    assert [t.get_text() for t in confusion.get_yticklabels()] == list(FASHION_MNIST_CLASSES)


@pytest.mark.skipif(not Path("/usr/share/datasets/fashion-mnist").is_dir(),
                    reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
def test_fashion_mnist_speaks_of_garments(tmp_path, capsys):
    out = tmp_path / "fashion"
    rc, _, err = ffnn(capsys, "train", "--dataset", "fashion-mnist", *TINY, "--out", out)
    assert rc == 0, err
    assert json.loads((out / "config.json").read_text())["data"]["classes"][7] == "Sneaker"
    rc, text, _ = ffnn(capsys, "evaluate", out)
    assert rc == 0 and "7 Sneaker" in text and "9 Ankle boot" in text


# -------------------------------------------------------------- success paths the smoke runs do not take
#
# The command line's success paths that the smoke tests do not run, each checked against what it promises.
#
# ``--n-train`` takes the first N images, ``--data-dir`` trains on (and ``evaluate`` scores on) a small IDX
# dataset written here, ``--schedule time-based`` records the rates of the schedule, ``--loss mse`` reports
# the mean squared error of the saved model, ``predict --top`` lists the model's own probabilities.


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
