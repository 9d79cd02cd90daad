"""The diagnosis rules: each fires on the numbers it watches and not just short of its threshold; real runs
that are stuck are diagnosed during training, and a healthy run gets no diagnosis."""
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest

from ffnn import NeuralNetwork, TrainConfig
from ffnn.diagnosis import RULES, SATURATED, check, divergence, format_line
from ffnn.history import History

CONFIG = TrainConfig(layer_sizes=(784, 16, 8, 10))
README = Path(__file__).resolve().parents[1] / "README.md"


def _history(loss, accuracy=None, val_loss=None, **dynamics) -> History:
    """A history of ``len(loss)`` epochs; ``dynamics`` columns as per-epoch lists."""
    h = History()
    n = len(loss)
    accuracy = accuracy or [0.8] * n
    val_loss = val_loss or [float("nan")] * n
    for i in range(n):
        h.append(epoch=i + 1, loss=loss[i], accuracy=accuracy[i], val_loss=val_loss[i],
                 val_accuracy=float("nan"), learning_rate=1.0, seconds=0.1)
        h.append_dynamics({k: v[i] for k, v in dynamics.items()})
    return h


def _shares(top: float, cls: int = 3) -> dict:
    """predicted_0..9 columns of one epoch: ``top`` on ``cls``, the rest spread evenly."""
    return {f"predicted_{c}": [top if c == cls else (1 - top) / 9] for c in range(10)}


def _codes(history, config=CONFIG) -> list:
    return [d["code"] for d in check(history, config)]


# ------------------------------------------------------------------ one rule at a time


def test_collapse_fires_above_90_percent_in_one_class():
    assert _codes(_history([1.0], **_shares(0.95))) == ["collapse"]
    assert _codes(_history([1.0], **_shares(0.90))) == []  # "more than 90%"
    [finding] = check(_history([1.0], **_shares(0.95)), CONFIG)
    assert "class 3 for 95% of the probe images" in finding["message"] and finding["epoch"] == 1


def test_saturation_fires_when_most_of_a_layer_is_saturated():
    h = _history([1.0], saturation_1=[0.2], saturation_2=[0.95])
    [finding] = check(h, CONFIG)
    assert finding["code"] == "saturation" and "95% of hidden layer 2's sigmoid outputs" in finding["message"]
    assert _codes(_history([1.0], saturation_1=[SATURATED], saturation_2=[0.2])) == []
    relu = CONFIG.replace(activation="relu")
    [finding] = check(_history([1.0], saturation_1=[0.97]), relu)
    assert "97% of the relu units of hidden layer 1 are dead" in finding["message"]
    assert "sigmoid or tanh" in finding["message"]


def test_vanishing_gradient_compares_the_first_layer_with_the_last():
    assert _codes(_history([1.0], grad_norm_1=[1e-5], grad_norm_2=[0.5], grad_norm_3=[0.2])) == ["vanishing-gradient"]
    assert _codes(_history([1.0], grad_norm_1=[1e-3], grad_norm_2=[0.5], grad_norm_3=[0.5])) == []  # ratio 2e-3
    # An output gradient of 0 (a perfect fit) says nothing about vanishing.
    assert _codes(_history([1.0], grad_norm_1=[0.0], grad_norm_2=[0.0])) == []
    [finding] = check(_history([1.0], grad_norm_1=[0.0], grad_norm_2=[2.8]), CONFIG)
    assert "0.0e+00 times the last layer's" in finding["message"] and "relu" in finding["message"]


def test_chance_accuracy_from_epoch_2():
    assert _codes(_history([2.3], accuracy=[0.1])) == []  # one epoch is too early to judge
    assert _codes(_history([2.3, 2.2], accuracy=[0.1, 0.15])) == ["chance-accuracy"]  # 1.5 x 10%
    assert _codes(_history([2.3, 2.2], accuracy=[0.1, 0.151])) == []


def test_flat_loss_from_epoch_2():
    assert _codes(_history([0.5, 0.496])) == ["flat-loss"]  # 0.8%
    assert _codes(_history([0.5, 0.49])) == []  # 2%
    [finding] = check(_history([0.5, 0.6, 0.498]), CONFIG)
    assert "moved by 0.40% in 2 epochs (0.5 to 0.498)" in finding["message"]


def test_overfitting_needs_three_rises_of_the_validation_loss_while_training_loss_falls():
    rising = dict(loss=[0.5, 0.4, 0.3, 0.2], val_loss=[0.40, 0.41, 0.42, 0.43])
    assert _codes(_history(**rising)) == ["overfitting"]
    assert _codes(_history(loss=[0.5, 0.4, 0.3, 0.2], val_loss=[0.40, 0.41, 0.42, 0.42])) == []  # flat once
    assert _codes(_history(loss=[0.5, 0.4, 0.45, 0.2], val_loss=[0.40, 0.41, 0.42, 0.43])) == []  # train rose once
    assert _codes(_history(loss=[0.5, 0.4, 0.3], val_loss=[0.40, 0.41, 0.42])) == []  # only two rises
    [finding] = check(_history(**rising), CONFIG)
    assert "--early-stopping" in finding["message"]
    [finding] = check(_history(**rising), CONFIG.replace(early_stopping=5))
    assert "patience 5" in finding["message"]


def test_divergence_fires_on_a_non_finite_loss_and_says_what_to_change():
    assert _codes(_history([1.0, float("nan")])) == ["divergence"]
    assert "smaller than 1.0" in divergence(3, float("inf"), CONFIG)
    assert "--batch-size 32" in divergence(3, float("inf"), CONFIG.replace(batch_size=1))


# ------------------------------------------------------------------ advice chosen from the numbers


def test_advice_depends_on_whether_the_steps_are_too_large_or_too_small():
    blown_up = _history([2.3], saturation_1=[1.0], **_shares(1.0))
    batch1 = CONFIG.replace(batch_size=1, learning_rate=10, schedule="time-based")
    collapse = check(blown_up, batch1)[0]
    assert collapse["code"] == "collapse" and "mini-batches (--batch-size 32)" in collapse["message"]
    assert "smaller than 10" in collapse["message"]
    stuck = _history([0.0960, 0.0959], accuracy=[0.1, 0.1], saturation_1=[0.0, 0.0],
                     **{k: v * 2 for k, v in _shares(1.0).items()})
    mse = CONFIG.replace(loss="mse", learning_rate=0.01)
    found = check(stuck, mse)
    assert [d["code"] for d in found] == ["collapse", "chance-accuracy", "flat-loss"]
    # one learning-rate recommendation per run: the first rule gives it, the others refer back to it
    assert "--loss cross-entropy" in found[0]["message"] and "not 0.01" in found[0]["message"] and found[0]["rate"]
    assert all(d["message"].endswith("; the learning-rate advice of epoch 2 stands") and "rate" not in d
               for d in found[1:])
    assert "larger than 0.01" in check(stuck, CONFIG.replace(learning_rate=0.01))[0]["message"]
    assert "or a learning rate larger than 8" in check(stuck, mse.replace(learning_rate=8))[0]["message"]


def test_check_skips_codes_already_reported():
    h = _history([1.0, 0.999], accuracy=[0.1, 0.1], **{k: v * 2 for k, v in _shares(0.99).items()})
    assert _codes(h) == ["collapse", "chance-accuracy", "flat-loss"]
    assert [d["code"] for d in check(h, CONFIG, seen={"collapse", "flat-loss"})] == ["chance-accuracy"]


def test_rule_table_is_documented():
    codes = [r.code for r in RULES]
    assert len(set(codes)) == len(codes)
    text = README.read_text(encoding="utf-8")
    for rule in RULES:
        assert "{" not in rule.describe()
        row = re.search(rf"^\| `{re.escape(rule.code)}` \|(.+)$", text, re.MULTILINE)
        assert row, f"README's diagnosis table has no row for {rule.code}"
        assert rule.describe() in row.group(1), f"README's row for {rule.code} does not match the rule"


# ------------------------------------------------------------------ during training


def test_mse_at_a_small_rate_is_diagnosed_during_training(mnist_small):
    x, y = mnist_small[0][:500], mnist_small[1][:500]
    net = NeuralNetwork((784, 32, 16, 10), epochs=2, learning_rate=0.01, batch_size=32, loss="mse")
    out = io.StringIO()
    history = net.fit_arrays(x, y, verbose=2, stream=out)
    codes = [d["code"] for d in history.diagnosis]
    assert "flat-loss" in codes and "chance-accuracy" in codes
    lines = out.getvalue().splitlines()
    for finding in history.diagnosis:
        assert format_line(finding) in lines
    # one learning-rate advice, from the range test: larger, or cross-entropy; the other rules refer to it
    [advice] = [d for d in history.diagnosis if d.get("rate")]
    assert "use a learning rate larger than 0.01" in advice["message"] and "--loss cross-entropy" in advice["message"]
    low, high = history.lr_range_test["recommended"]
    assert 0.01 < low <= high and history.lr_range_test["epoch"] == advice["epoch"]
    assert lines[0].startswith("Epoch: 1") and lines[-1].startswith("diagnosis [")
    assert net.fit_arrays(x, y, verbose=0, stream=out).diagnosis  # silent with verbose=0, still recorded
    assert out.getvalue().splitlines() == lines


def test_per_sample_steps_at_the_time_based_rate_are_diagnosed(mnist_small):
    """The problem set's Keras protocol (784-128-32-10, TimeBasedLearningRate(10), batch 1), in NumPy."""
    x, y = mnist_small[0][:300], mnist_small[1][:300]
    net = NeuralNetwork((784, 128, 32, 10), epochs=2, learning_rate=10, batch_size=1, loss="cross-entropy",
                        schedule="time-based")
    history = net.fit_arrays(x, y, verbose=0)
    found = {d["code"]: d["message"] for d in history.diagnosis}
    assert {"collapse", "saturation"} & set(found)
    [advice] = [d["message"] for d in history.diagnosis if d.get("rate")]
    assert "use a constant rate smaller than the 1" in advice and "mini-batches (--batch-size 32)" in advice


@pytest.mark.slow
def test_a_healthy_run_has_no_diagnosis(mnist):
    from ffnn.data import prepare_images, train_val_split

    (x, y), _ = mnist
    x, x_val, y, y_val = train_val_split(prepare_images(x[:3000]), y[:3000].astype(np.int64), 0.1, seed=1)
    net = NeuralNetwork(epochs=3, learning_rate=1.0, batch_size=32, loss="cross-entropy")
    history = net.fit_arrays(x, y, x_val, y_val, verbose=0)
    assert history.diagnosis == []
    assert history["val_accuracy"][-1] > 0.7  # learning: 77% after 3 epochs of 2,700 images


@pytest.mark.tf
def test_keras_protocol_is_diagnosed_by_the_cli(tmp_path, capsys):
    pytest.importorskip("tensorflow")
    from ffnn.cli import main

    out = tmp_path / "keras-protocol"
    argv = ["train", "--backend", "tensorflow", "--hidden", "128,32", "--batch-size", "1", "--schedule",
            "time-based", "--lr", "10", "--n-train", "300", "--epochs", "2", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    diagnosis = json.loads((out / "metrics.json").read_text())["diagnosis"]
    advised = [d for d in diagnosis if d["code"] in ("collapse", "saturation") and "mini-batches" in d["message"]]
    assert advised and all(format_line(d) in printed for d in diagnosis)
    assert {"weights.png", "dynamics.png"} <= {p.name for p in out.iterdir()}
