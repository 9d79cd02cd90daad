"""Judge ``network_tensorflow.py`` from what :mod:`ffnn.check.probe_tf` measured.

``tf.activations`` recomputes each Dense layer from its own kernel, bias and
input and names the activation that reproduces its output; ``tf.loss``
evaluates the compiled loss on fixed (one-hot, probabilities) pairs and names
the loss whose values it gives; ``tf.schedule`` compares the rates with
``max(n − t, 1)``.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

from ..config import TrainConfig
from .learning import judge_learning, point_hint
from .outcome import run_checks, version_difference
from .protocol import (N_TRAIN, SCHEDULE_START, SCHEDULE_STEPS, TF_BATCH, TF_EPOCHS, TF_RATE, TF_SIZES,
                       learning_data, one_hot, probe_samples)
from .result import Check

__all__ = ["FILE", "inputs", "judge"]

FILE = "network_tensorflow.py"
NOTEBOOK = "MNIST_classification.ipynb"


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


_ACTIVATIONS = {"sigmoid": lambda z: 0.5 * (1 + np.tanh(0.5 * z)), "softmax": _softmax,
                "relu": lambda z: np.maximum(z, 0), "tanh": np.tanh, "linear": lambda z: z}


def _eps_log(p):
    return np.log(np.clip(p, 1e-7, 1 - 1e-7))


#: loss name -> its value for one (one-hot y, probabilities p) pair, as Keras computes it (p clipped to 1e-7).
LOSSES = {
    "CategoricalCrossentropy": lambda y, p: float(-(y * _eps_log(p / p.sum())).sum()),
    "BinaryCrossentropy": lambda y, p: float(-(y * _eps_log(p) + (1 - y) * _eps_log(1 - p)).mean()),
    "MeanSquaredError": lambda y, p: float(((y - p) ** 2).mean()),
}


def inputs() -> dict:
    x, labels = probe_samples(6)
    rng = np.random.default_rng(1)
    pred = rng.uniform(0.02, 1.0, (6, 10))
    data_x, data_y = learning_data()
    return {"x": x, "loss_true": one_hot(labels), "loss_pred": pred / pred.sum(axis=1, keepdims=True),
            "train_x": data_x[:N_TRAIN], "train_y": one_hot(data_y[:N_TRAIN]), "val_x": data_x[N_TRAIN:]}


def _activation_of(z, out) -> str | None:
    for name, f in _ACTIVATIONS.items():
        with np.errstate(all="ignore"):
            if out.shape == z.shape and np.max(np.abs(f(z) - out)) <= 1e-5:
                return name
    return None


def _check_activations(outcome, given) -> Check:
    cid = "tf.activations"
    facts, arrays = outcome.need("activations")
    found = []
    for i, kind in enumerate(facts.get("layers", [])):
        if f"kernel{i}" not in arrays:
            continue
        z = arrays[f"in{i}"] @ arrays[f"kernel{i}"] + arrays.get(f"bias{i}", 0.0)
        found.append(_activation_of(z, arrays[f"out{i}"]) or "unknown")
    evidence = {"layers": facts.get("layers", []), "dense_activations": found}
    if len(found) < 2:
        return Check(cid, "fail", f"the model has {len(found)} Dense layer(s); it needs one per entry of sizes",
                     evidence, hint="add one Dense layer per entry of sizes")
    hidden, output = found[:-1], found[-1]
    hint = ("give every hidden Dense layer activation='sigmoid' and the last one activation='softmax', so the "
            "10 outputs are class probabilities")
    if all(h == "sigmoid" for h in hidden) and output == "softmax":
        return Check(cid, "pass", f"the {len(hidden)} hidden Dense layers apply the sigmoid and the output layer "
                                  f"the softmax", evidence)
    wrong_hidden = sorted({h for h in hidden if h != "sigmoid"})
    if "softmax" in wrong_hidden and output == "sigmoid":
        return Check(cid, "fail", "the activations are swapped: the hidden layers apply the softmax and the output "
                                  "layer the sigmoid", evidence, hint=hint, mistake="swapped-activations")
    problems = []
    if wrong_hidden:
        problems.append(f"hidden layers apply {', '.join(wrong_hidden)} instead of the sigmoid")
    if output != "softmax":
        problems.append(f"the output layer applies {output} instead of the softmax")
    mistake = "output-sigmoid" if output == "sigmoid" and not wrong_hidden else \
        "hidden-softmax" if wrong_hidden == ["softmax"] and output == "softmax" else None
    return Check(cid, "fail", "; ".join(problems), evidence, hint=hint, mistake=mistake)


def _check_loss(outcome, given) -> Check:
    cid = "tf.loss"
    facts, arrays = outcome.need("loss")
    values = arrays["values"]
    y, p = given["loss_true"], given["loss_pred"]
    fits = [name for name, f in LOSSES.items()
            if np.allclose(values, [f(y[i], p[i]) for i in range(len(y))], rtol=1e-3, atol=1e-5)]
    evidence = {"compiled_loss": facts.get("loss"), "values": [round(float(v), 6) for v in values],
                "matches": fits}
    hint = ("compile with loss=tf.keras.losses.CategoricalCrossentropy(): the labels are one-hot over 10 "
            "classes and the output is a softmax over them")
    if fits[:1] == ["CategoricalCrossentropy"]:
        return Check(cid, "pass", "the compiled loss gives the categorical cross-entropy's values for one-hot "
                                  "labels", evidence)
    if fits[:1] == ["BinaryCrossentropy"]:
        return Check(cid, "fail", "the model is compiled with BinaryCrossentropy: with one-hot labels over 10 "
                                  "classes it scores each class as a separate yes/no question and averages over "
                                  "the 10, so the loss (and the accuracy Keras reports with it) is not the "
                                  "classification's", evidence, hint=hint, mistake="binary-crossentropy")
    what = "the mean squared error" if fits else "none of the categorical cross-entropy, binary cross-entropy or MSE"
    return Check(cid, "fail", f"the compiled loss gives the values of {what}, not the categorical cross-entropy",
                 evidence, hint=hint)


def _notebook_feeds_images(folder: Path) -> bool:
    """Whether the team's notebook feeds (n, 28, 28) images: it loads keras' MNIST and never flattens to 784."""
    try:
        cells = json.loads((folder / NOTEBOOK).read_text(encoding="utf-8")).get("cells", [])
        code = "\n".join("".join(c.get("source", "")) for c in cells if c.get("cell_type") == "code")
    except (OSError, ValueError, AttributeError, TypeError):
        return False
    flattens = any(s in code.replace(" ", "") for s in ("784", "28*28", "Flatten"))
    return "load_data" in code and not flattens


def _check_input(outcome, given, folder) -> Check:
    cid = "tf.input"
    facts, arrays = outcome.need("input")
    accepted = facts.get("accepted", [])
    evidence = {"accepted": accepted}
    n = len(given["x"])
    shape_ok = {form: list(arrays[f"out_{form}"].shape) == [n, 10] for form in accepted}
    if shape_ok.get("flat"):
        return Check(cid, "pass", f"the model takes flat 784-pixel vectors, as the template's notebook feeds them "
                                  f"({'and also' if shape_ok.get('images') else 'not'} 28x28 images)", evidence)
    images = _notebook_feeds_images(folder)
    evidence["notebook_feeds_images"] = images
    if shape_ok.get("images") and images:
        return Check(cid, "pass", "the model takes 28x28 images, as the team's notebook feeds them", evidence)
    errors = [facts[f"error_{f}"] for f in ("flat", "images") if f"error_{f}" in facts]
    for error in errors:
        change = version_difference(error)
        if change is not None:
            return Check(cid, "error", f"could not run because of a version difference, not the team's mistake: "
                                       f"{change} ({error})", evidence)
    wrong = {f: arrays[f"out_{f}"].shape for f in accepted if not shape_ok[f]}
    details = "; ".join([f"{f} input gives outputs of shape {list(s)}" for f, s in wrong.items()] +
                        [f"{f} input fails: {e}" for f, e in zip(("flat", "images"), errors)])
    return Check(cid, "fail", f"the model does not give 10 outputs per image for the input the notebook feeds "
                              f"({'28x28 images' if images else 'flat 784-pixel vectors'}): {details}", evidence,
                 hint="for 28x28 images put a tf.keras.layers.Flatten() first; the template feeds flat vectors "
                      "of 784 floats in [0, 1]")


def _check_schedule(outcome, given) -> Check:
    cid = "tf.schedule"
    facts, arrays = outcome.need("schedule")
    n = SCHEDULE_START
    expected = np.array([max(n - t, 1) for t in range(SCHEDULE_STEPS)], dtype=float)
    problems, errors = [], []
    for kind, what in (("int", "Python ints"), ("int32", "int32 tensors"),
                       ("int64", "int64 tensors (Keras 2 optimizers pass their iteration count so)"),
                       ("from_config", "a copy made by from_config(get_config())")):
        key = f"error_{'config' if kind == 'from_config' else kind}"
        if key in facts:
            errors.append(facts[key])
            problems.append(f"with steps as {what} it fails: {facts[key]}")
            continue
        got = arrays.get(f"rate_{kind}")
        if got is None or not np.allclose(got, expected, atol=1e-6):
            problems.append(f"with steps as {what} it gives {[round(float(v), 4) for v in got]}")
    if "error_optimizer" in facts:
        errors.append(facts["error_optimizer"])
        problems.append(f"as an SGD optimizer's learning_rate it fails: {facts['error_optimizer']}")
    else:
        values = arrays["optimizer_values"]
        used = -np.diff(np.concatenate([[0.0], values]))
        if not np.allclose(used, expected, atol=1e-4):
            problems.append(f"an SGD optimizer using it takes steps of {[round(float(v), 4) for v in used]}")
    evidence = {"initial_learning_rate": n, "expected": expected.tolist()}
    if not problems:
        return Check(cid, "pass", f"TimeBasedLearningRate({n}) gives max({n} − t, 1) for t = 0 … "
                                  f"{SCHEDULE_STEPS - 1} "
                                  f"with steps as Python ints, int32 and int64 tensors, drives an optimizer and "
                                  f"survives get_config/from_config", evidence)
    evidence["problems"] = problems
    changes = [c for c in map(version_difference, errors) if c]
    if changes and len(changes) == len(problems):
        return Check(cid, "error", f"could not run because of a version difference, not the team's mistake: "
                                   f"{changes[0]} ({errors[0]})", evidence)
    hint = ("in __call__, cast the step first (step = tf.cast(step, tf.float32)) and return "
            "tf.maximum(initial_learning_rate − step, 1.0); give get_config() returning "
            "{'initial_learning_rate': ...}")
    return Check(cid, "fail", f"TimeBasedLearningRate({n}) should give max({n} − t, 1): " + "; ".join(problems),
                 evidence, hint=hint)


def _check_learns(outcome, given) -> Check:
    facts, arrays = outcome.need("learns")
    epochs = facts.get("epochs", 0)
    config = TrainConfig(layer_sizes=TF_SIZES, epochs=TF_EPOCHS, batch_size=TF_BATCH, learning_rate=TF_RATE,
                         shuffle=False)
    return judge_learning("tf.learns", f"NeuralNetworkTf({list(TF_SIZES)}) with compile_and_fit("
                                       f"learning_rate={TF_RATE}, batch_size={TF_BATCH})",
                          [arrays[f"train_out{e}"] for e in range(epochs)],
                          [arrays[f"val_out{e}"] for e in range(epochs)], config)


def judge(outcome, given, folder) -> list:
    """The checks of the tf part, in report order."""
    judges = [("tf.activations", _check_activations), ("tf.loss", _check_loss),
              ("tf.input", functools.partial(_check_input, folder=Path(folder))),
              ("tf.schedule", _check_schedule), ("tf.learns", _check_learns)]
    checks = run_checks(outcome, [(cid, functools.partial(fn, given=given)) for cid, fn in judges])
    return point_hint(checks, "tf.learns", "a correct model reaches about 70% here")
