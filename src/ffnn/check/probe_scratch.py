"""Probes of ``network_scratch.py`` (runs in the child, next to the team's code; measures, never judges).

Each probe restores the weights the constructor drew before it starts, so
one probe's changes do not leak into the next. Inputs (from
:func:`ffnn.check.scratch.inputs`): ``x``, ``y`` the probe samples (flat,
one-hot), ``g_*`` the gradients handed to ``_update_weights``, ``train_x``,
``train_y``, ``val_x`` the learning protocol's data.
"""
from __future__ import annotations

import importlib

import numpy as np

from .protocol import PROBE_RATE, PROBE_SIZES, SCRATCH_EPOCHS, SCRATCH_RATE, SCRATCH_SIZES


def _weights(net) -> list:
    return [np.array(w, dtype=float, copy=True) for w in net.weights]


def _restore(net, weights) -> None:
    net.weights = [w.copy() for w in weights]


def _layers(values) -> dict:
    """``{"0": a, "1": b, ...}`` for a list of arrays (what the team's self.A / self.Z hold)."""
    if not isinstance(values, (list, tuple)):
        return {}
    return {str(i): np.asarray(v, dtype=float) for i, v in enumerate(values)
            if v is not None and np.asarray(v).dtype.kind in "fiu"}


def run(rec, inputs) -> None:
    with rec.probe("import") as (facts, arrays):
        module = importlib.import_module("network_scratch")
        NeuralNetwork = module.NeuralNetwork
    if not rec.probes["import"]["ok"]:
        for name in ("build", "forward", "backward", "update", "predict", "learns"):
            rec.failed(name, "import")
        return
    with rec.probe("build") as (facts, arrays):
        net = NeuralNetwork(list(PROBE_SIZES), epochs=1, learning_rate=PROBE_RATE, random_state=1)
        w0 = _weights(net)
        for i, w in enumerate(w0):
            arrays[f"w{i}"] = w
        facts["n_weights"] = len(w0)
    if not rec.probes["build"]["ok"]:
        for name in ("forward", "backward", "update", "predict"):
            rec.failed(name, "build")
    else:
        x, y = inputs["x"], inputs["y"]
        with rec.probe("forward") as (facts, arrays):
            _restore(net, w0)
            for s in range(len(x)):
                arrays[f"out{s}"] = np.asarray(net._forward_pass(x[s].copy()), dtype=float)
            for i, a in _layers(getattr(net, "A", None)).items():
                arrays[f"A{i}"] = a
        with rec.probe("backward") as (facts, arrays):
            _restore(net, w0)
            output = net._forward_pass(x[0].copy())
            arrays["output"] = np.asarray(output, dtype=float)
            grads = net._backward_pass(y[0].copy(), output)
            facts["n_grads"] = len(grads)
            for i, g in enumerate(grads):
                arrays[f"g{i}"] = np.asarray(g, dtype=float)
        with rec.probe("update") as (facts, arrays):
            _restore(net, w0)
            given = [inputs[f"g_{i}"].copy() for i in range(len(w0))]
            returned = net._update_weights(given)
            for i, w in enumerate(net.weights):
                arrays[f"w{i}"] = np.asarray(w, dtype=float)
            facts["returned_list"] = isinstance(returned, (list, tuple)) and len(returned) == len(w0)
            if facts["returned_list"]:
                for i, w in enumerate(returned):
                    arrays[f"r{i}"] = np.asarray(w, dtype=float)
        with rec.probe("predict") as (facts, arrays):
            _restore(net, [inputs[f"pw_{i}"] for i in range(len(w0))])
            answers = [net.predict(x[s].copy()) for s in range(len(x))]
            facts["types"] = [type(a).__name__ for a in answers]
            facts["shapes"] = [list(np.shape(a)) for a in answers]
            if all(np.size(a) == 1 and np.asarray(a).dtype.kind in "iufb" for a in answers):
                arrays["answers"] = np.array([np.asarray(a, dtype=float).item() for a in answers])
            for s in range(len(x)):
                arrays[f"out{s}"] = np.asarray(net._forward_pass(x[s].copy()), dtype=float)
    with rec.probe("learns") as (facts, arrays):
        net = NeuralNetwork(list(SCRATCH_SIZES), epochs=SCRATCH_EPOCHS, learning_rate=SCRATCH_RATE,
                            random_state=1)
        train_x, train_y, val_x = inputs["train_x"], inputs["train_y"], inputs["val_x"]
        for epoch in range(SCRATCH_EPOCHS):
            for xs, ys in zip(train_x, train_y):
                output = net._forward_pass(xs.copy())
                net._update_weights(net._backward_pass(ys.copy(), output))
            arrays[f"train_out{epoch}"] = np.array([net._forward_pass(xs.copy()) for xs in train_x], dtype=float)
            arrays[f"val_out{epoch}"] = np.array([net._forward_pass(xs.copy()) for xs in val_x], dtype=float)
            for i, w in enumerate(net.weights):
                arrays[f"w{epoch}_{i}"] = np.asarray(w, dtype=float)
            facts["epochs"] = epoch + 1
