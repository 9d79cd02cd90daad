"""The judges of ffnn check on measurements made up by hand, without running any submission.

Each test hands a judge what a child would have measured for a mistake no
fixture plants (a schedule without the floor, an MSE loss, a predict that
cannot take images, an update returned instead of stored, ...) and checks the
verdict and the sentence.
"""
import json
from pathlib import Path

import numpy as np
import pytest

from ffnn.check import protocol, scratch, tf_part, torch_part
from ffnn.check.outcome import Outcome
from ffnn.check.sandbox import ChildRun


def _outcome(tmp_path, probes: dict, arrays: dict) -> Outcome:
    """An Outcome as the child would leave it: result.json and one .npz per probe."""
    entries = {}
    for name, facts in probes.items():
        entry = {"ok": True, "facts": facts}
        if name in arrays:
            np.savez(tmp_path / f"{name}.npz", **arrays[name])
            entry["arrays"] = sorted(arrays[name])
        entries[name] = entry
    (tmp_path / "result.json").write_text(json.dumps({"probes": entries}))
    return Outcome(tmp_path, ChildRun(0, False, "", 0), 120, 4 << 30, "x.py")


def _judged(module, check_id, outcome, given=None, folder="."):
    """The verdict of ``check_id`` from the part's public judge (the other checks lack their probes)."""
    return next(c for c in module.judge(outcome, given or {}, Path(folder)) if c.id == check_id)


def _schedule_arrays(rate):
    steps = range(protocol.SCHEDULE_STEPS)
    values = np.array([float(rate(t)) for t in steps])
    return {"rate_int": values, "rate_int32": values, "rate_int64": values, "rate_from_config": values,
            "optimizer_values": -np.cumsum(values)}


def test_schedule_passes_with_the_floor_and_fails_without(tmp_path):
    n = protocol.SCHEDULE_START
    good = _outcome(tmp_path, {"schedule": {}}, {"schedule": _schedule_arrays(lambda t: max(n - t, 1))})
    assert _judged(tf_part, "tf.schedule", good).status == "pass"
    bad = _outcome(tmp_path, {"schedule": {}}, {"schedule": _schedule_arrays(lambda t: n - t)})
    found = _judged(tf_part, "tf.schedule", bad)
    assert found.status == "fail" and "max(5 − t, 1)" in found.message and "tf.maximum" in found.hint


def test_schedule_that_fails_on_int64_steps_says_which_steps(tmp_path):
    n = protocol.SCHEDULE_START
    arrays = _schedule_arrays(lambda t: max(n - t, 1))
    del arrays["rate_int64"]
    facts = {"error_int64": "TypeError: Input 'y' of 'Sub' Op has type int64 that does not match type float32"}
    found = _judged(tf_part, "tf.schedule", _outcome(tmp_path, {"schedule": facts}, {"schedule": arrays}))
    assert found.status == "fail" and "int64 tensors" in found.message


def test_a_mean_squared_error_loss_is_named(tmp_path):
    given = tf_part.inputs()
    y, p = given["loss_true"], given["loss_pred"]
    values = ((y - p) ** 2).mean(axis=1)
    outcome = _outcome(tmp_path, {"loss": {"loss": "mse"}}, {"loss": {"values": values}})
    found = _judged(tf_part, "tf.loss", outcome, given)
    assert found.status == "fail" and "mean squared error" in found.message


def test_images_only_model_passes_when_the_notebook_feeds_images(tmp_path):
    given = {"x": np.zeros((6, 784))}
    folder = tmp_path / "team"
    folder.mkdir()
    facts = {"accepted": ["images"], "error_flat": "ValueError: Input 0 of layer is incompatible"}
    arrays = {"input": {"out_images": np.zeros((6, 10))}}
    outcome = _outcome(tmp_path, {"input": facts}, arrays)
    assert _judged(tf_part, "tf.input", outcome, given, folder).status == "fail"
    notebook = {"cells": [{"cell_type": "code", "source": ["(x, y), _ = keras.datasets.mnist.load_data()\n"]}]}
    (folder / "MNIST_classification.ipynb").write_text(json.dumps(notebook))
    assert _judged(tf_part, "tf.input", outcome, given, folder).status == "pass"


def test_torch_predict_that_cannot_take_images_fails(tmp_path):
    out = np.eye(10)[[3, 7, 0]]
    facts = {"error_images": "RuntimeError: mat1 and mat2 shapes cannot be multiplied (84x28 and 784x16)"}
    arrays = {"predict": {"out": out, "pred_flat": np.array([3.0, 7.0, 0.0])}}
    found = _judged(torch_part, "torch.predict", _outcome(tmp_path, {"predict": facts}, arrays))
    assert found.status == "fail" and "(batch, 1, 28, 28)" in found.message and "_flatten" in found.hint


def _scratch_weights():
    return {f"w{i}": np.full((o, n), 0.1) for i, (n, o) in
            enumerate(zip(protocol.PROBE_SIZES[:-1], protocol.PROBE_SIZES[1:]))}


def test_update_returned_instead_of_stored_is_named(tmp_path):
    given = scratch.inputs()
    weights = _scratch_weights()
    update = {f"w{i}": w for i, w in enumerate(weights.values())}
    update.update({f"r{i}": w - protocol.PROBE_RATE * given[f"g_{i}"] for i, w in enumerate(weights.values())})
    probes = {"build": {"n_weights": 3}, "update": {"returned_list": True}}
    outcome = _outcome(tmp_path, probes, {"build": weights, "update": update})
    found = _judged(scratch, "scratch.update_rule", outcome, given)
    assert found.status == "fail" and "returns the new weights" in found.message


def test_update_without_the_rate_is_named_per_layer(tmp_path):
    given = scratch.inputs()
    weights = _scratch_weights()
    update = {f"w{i}": w - given[f"g_{i}"] for i, w in enumerate(weights.values())}
    update["w2"] = weights["w2"] - protocol.PROBE_RATE * given["g_2"]
    probes = {"build": {"n_weights": 3}, "update": {"returned_list": False}}
    outcome = _outcome(tmp_path, probes, {"build": weights, "update": update})
    found = _judged(scratch, "scratch.update_rule", outcome, given)
    assert found.status == "fail"
    assert "layer 1: w − g (without the learning rate)" in found.message and "layer 3" not in found.message


def test_missing_probe_after_a_time_out_is_an_error_with_the_limit(tmp_path):
    (tmp_path / "result.json").write_text(json.dumps({"probes": {}}))
    outcome = Outcome(tmp_path, ChildRun(None, True, "", 0), 7, 4 << 30, "network_scratch.py")
    checks = scratch.judge(outcome, scratch.inputs(), Path(tmp_path))
    assert [c.status for c in checks] == ["error"] * 6
    assert all("stopped after 7 s" in c.message for c in checks)


@pytest.mark.parametrize("returncode, words", [(-9, "SIGKILL"), (3, "exit status 3")])
def test_a_child_that_died_says_how(tmp_path, returncode, words):
    (tmp_path / "result.json").write_text("{not json")
    outcome = Outcome(tmp_path, ChildRun(returncode, False, "Traceback ...\nSegmentation fault\n", 40), 7,
                      4 << 30, "network_pytorch.py")
    checks = torch_part.judge(outcome, {}, Path(tmp_path))
    assert all(c.status == "error" and words in c.message and "Segmentation fault" in c.message for c in checks)


def test_a_run_that_does_not_learn_is_pointed_at_the_failed_checks_or_past_them():
    from ffnn.check import Check
    from ffnn.check.learning import point_hint

    def part(gradient_status):
        return [Check("scratch.gradient", gradient_status, "..."), Check("scratch.learns", "fail", "...")]

    assert point_hint(part("fail"), "scratch.learns", "x")[1].hint.startswith("fix scratch.gradient first")
    alone = point_hint(part("pass"), "scratch.learns", "x")[1].hint
    assert alone.startswith("every other check of this part passes") and "initial weights" in alone
