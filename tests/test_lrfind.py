"""The learning-rate range test (ffnn.lrfind) and the one piece of rate advice a run gets from it.

The oracle for the test's answer is training itself: short runs at the suggested rate against runs at
rates far below and far above it, from the same start on the same batches.
"""
import json

import numpy as np
import pytest

from ffnn import NeuralNetwork, TrainConfig, diagnosis
from ffnn.history import History
from ffnn.lrfind import MIN_STEPS, range_test
from ffnn.weights import init_weights


def _steepest(initial, rates, losses):
    from ffnn.lrfind import steepest_range

    return steepest_range(initial, np.asarray(rates, float), np.asarray(losses, float))


def test_the_range_is_where_the_smoothed_loss_falls_fastest():
    # 5 rates a decade from 1e-4 (index i: 1e-4 * 10**(i/5)); flat to 0.004, then falling while 0.0063,
    # 0.01, 0.016, 0.025 and 0.04 are held (by 0.3, 0.5, 0.5, 0.5, 0.1), then blowing up at 0.063 and 0.1
    rates = 1e-4 * 10 ** (np.arange(16) / 5)
    losses = [2.3] * 9 + [2.0, 1.5, 1.0, 0.5, 0.4, 3.0, 9.0]
    (low, high), steepest = _steepest(2.3, rates, losses)
    assert rates[8] * 0.999 <= low <= steepest <= high <= rates[13] * 1.001  # (3 significant digits)
    assert low <= 0.01 <= high  # the fastest fall is inside, the rates that blew it up are not
    # a loss that never falls recommends nothing
    assert _steepest(2.3, rates[:5], [2.3, 2.31, 2.4, 3.0, 5.0]) == (None, None)


@pytest.fixture(scope="module")
def small(mnist_small):
    x, y = mnist_small[0][:600], mnist_small[1][:600]
    return x, y


def _loss_after(config, x, y, rate, epochs=2):
    net = NeuralNetwork(config=config.replace(learning_rate=rate, epochs=epochs))
    net.fit_arrays(x, y, verbose=0)
    return net.loss_and_accuracy(net.prepare_data(x, y))[0]


def test_the_suggested_rate_trains_better_than_rates_far_from_it(small):
    x, y = small
    config = TrainConfig(layer_sizes=(784, 32, 10), batch_size=16, seed=3)
    test = range_test(config, x, y, init_weights(config.layer_sizes, 3, "float32", "sigmoid"))
    assert test.recommended is not None and test.recommended[0] <= test.suggested <= test.recommended[1] * 1.01
    suggested = _loss_after(config, x, y, test.suggested)
    assert suggested < _loss_after(config, x, y, test.suggested / 30)
    assert suggested < _loss_after(config, x, y, test.suggested * 30)


def test_the_steps_stay_within_the_budget_and_the_callers_weights_are_untouched(small):
    x, y = small
    config = TrainConfig(layer_sizes=(784, 16, 10), batch_size=1, seed=1)
    weights = init_weights(config.layer_sizes, 1, "float32", "sigmoid")
    before = [(W.copy(), b.copy()) for W, b in weights]
    test = range_test(config, x, y, weights, max_steps=200)
    assert 0 < test.steps <= 200 and test.held == 200 and test.sample == 600
    assert all(np.array_equal(W, W0) and np.array_equal(b, b0) for (W, b), (W0, b0) in zip(weights, before))
    assert list(test.rates) == sorted(test.rates) and test.rates[0] == pytest.approx(1e-4)


# ------------------------------------------------------------------ one recommendation per run


def _history(losses, accuracies):
    h = History()
    for e, (loss, acc) in enumerate(zip(losses, accuracies), start=1):
        h.append(epoch=e, loss=loss, accuracy=acc, val_loss=loss, val_accuracy=acc, learning_rate=1.5, seconds=1.0)
    return h


def test_a_run_gets_one_learning_rate_direction_however_many_rules_fire():
    """Issue 27: the notebook's torch settings heard "larger than 1.5" (chance-accuracy, epoch 2) and then
    "smaller than 1.5" (flat-loss, epoch 4, once the loss had come back above epoch 1's)."""
    config = TrainConfig(layer_sizes=(784, 128, 64, 10), batch_size=1, learning_rate=1.5)
    losses, accuracies = [2.9699, 2.4613, 2.8435, 2.9832], [0.096, 0.096, 0.1, 0.099]
    h = History()
    for epoch in range(4):  # as the training loop checks, epoch by epoch
        for k in h.history:
            h.history[k].append(_history(losses, accuracies).history[k][epoch])
        h.diagnosis += diagnosis.check(h, config, {d["code"] for d in h.diagnosis})
    codes = [d["code"] for d in h.diagnosis]
    assert "chance-accuracy" in codes and "flat-loss" in codes
    said = " ".join(d["message"] for d in h.diagnosis)
    assert ("larger than 1.5" in said) != ("smaller than 1.5" in said), said
    advice = [d for d in h.diagnosis if d.get("rate")]
    assert len(advice) == 1
    assert all(d["message"].endswith(f"the learning-rate advice of epoch {advice[0]['epoch']} stands")
               for d in h.diagnosis if d is not advice[0] and d["code"] in ("chance-accuracy", "flat-loss"))


@pytest.mark.torch
def test_the_notebooks_torch_settings_get_one_measured_direction(mnist_small):
    """NeuralNetworkTorch, rate 1.5, batch 1, inputs normalised to [-1, 1] (a short run: 400 images, 3
    epochs): the range test runs once, from the DataLoader's own samples, and says smaller."""
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader, TensorDataset

    from ffnn import NeuralNetworkTorch

    x, y = mnist_small[0][:400], mnist_small[1][:400]
    data = TensorDataset(torch.from_numpy(x * 2 - 1).reshape(-1, 1, 28, 28), torch.from_numpy(y))
    loader = DataLoader(data, batch_size=1, shuffle=True, generator=torch.Generator().manual_seed(1))
    net = NeuralNetworkTorch([784, 128, 64, 10], epochs=3, learning_rate=1.5, batch_size=1)
    history = net.fit(loader, verbose=0)
    test = history.lr_range_test
    assert test is not None and test["sample"] == 400 and test["held"] == 200
    low, high = test["recommended"]
    assert low <= test["suggested"] <= high < 1.5
    [advice] = [d for d in history.diagnosis if d.get("rate")]
    assert f"rates {low:g} to {high:g}: use a learning rate smaller than 1.5" in advice["message"]
    assert advice["epoch"] == test["epoch"]
    assert not any("larger than" in d["message"] for d in history.diagnosis)


# ------------------------------------------------------------------ where the advice is shown


def test_train_writes_the_range_test_to_metrics_json_and_its_plot_and_inspect_shows_it(tmp_path, capsys):
    from PIL import Image

    from ffnn.cli import main

    out = tmp_path / "run"
    # MSE at rate 0.01: stuck at chance, so the diagnosis asks for a rate
    assert main(["train", "--n-train", "500", "--epochs", "2", "--loss", "mse", "--lr", "0.01", "--hidden", "32",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    test = metrics["lr_range_test"]
    low, high = test["recommended"]
    assert 0.01 < low <= high and test["seconds"] > 0 and test["share_of_training"] > 0
    assert json.loads((out / "history.json").read_text())["lr_range_test"]["recommended"] == [low, high]
    assert (out / "lr_find.png").stat().st_size > 1000
    assert f"found the loss fell fastest at rates {low:g} to {high:g}: use a learning rate larger than 0.01" in printed
    image = tmp_path / "digit.png"
    img = Image.new("L", (40, 40), 0)
    img.paste(255, (15, 5, 25, 35))
    img.save(image)
    assert main(["inspect", str(out), "--image", str(image)]) == 0
    assert f"rates {low:g} to {high:g}" in capsys.readouterr().out


def test_lr_find_writes_its_plot_and_numbers(tmp_path, capsys):
    from ffnn.cli import main

    assert main(["lr-find", "--n-train", "400", "--hidden", "32", "--lr", "50", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    test = json.loads((tmp_path / "lr_find.json").read_text())
    low, high = test["recommended"]
    assert high < 50 and f"rates {low:g} to {high:g}" in printed and "smaller than 50" in printed
    assert (tmp_path / "lr_find.png").stat().st_size > 1000
    assert test["config"]["learning_rate"] == 50 and 0 < test["steps"] <= MIN_STEPS
