"""Judge ``network_scratch.py`` from what :mod:`ffnn.check.probe_scratch` measured, against ffnn's reference.

Every check compares on the network's own weights (drawn by the team's
constructor for ``NeuralNetwork([784, 16, 12, 10])``), one sample at a time,
as the template does.
"""
from __future__ import annotations

import functools
import itertools

import numpy as np

from ..config import TrainConfig
from . import mistakes as M
from .learning import judge_learning, point_hint
from .outcome import Unavailable, run_checks
from .protocol import (N_TRAIN, PROBE_RATE, PROBE_SIZES, SCRATCH_EPOCHS, SCRATCH_RATE, SCRATCH_SIZES, SPREAD_CLASSES,
                       learning_data, one_hot, probe_samples, spread_weights)
from .result import Check

__all__ = ["FILE", "inputs", "judge"]

FILE = "network_scratch.py"
#: Relative error within which a float64 gradient counts as the true one.
TOLERANCE = 1e-6
#: Largest difference within which the forward pass's outputs (in [0, 1]) count as the reference's.
FORWARD_TOLERANCE = 1e-6
_HIDDEN = ("sigmoid", "softmax", "tanh", "relu", "identity")
_OUTPUT = ("softmax", "sigmoid", "identity")


def inputs() -> dict:
    """The arrays the child gets: probe samples, the gradients for ``_update_weights``, the learning data."""
    x, labels = probe_samples(len(SPREAD_CLASSES))
    rng = np.random.default_rng(0)
    given = {f"g_{i}": rng.standard_normal((n_out, n_in))
             for i, (n_in, n_out) in enumerate(zip(PROBE_SIZES[:-1], PROBE_SIZES[1:]))}
    data_x, data_y = learning_data()
    return {"x": x, "y": one_hot(labels), **given, **spread_weights(x, rng), "train_x": data_x[:N_TRAIN],
            "train_y": one_hot(data_y[:N_TRAIN]), "val_x": data_x[N_TRAIN:]}


def _weights(outcome) -> list:
    facts, arrays = outcome.need("build")
    weights = [arrays[f"w{i}"] for i in range(facts.get("n_weights", 0)) if f"w{i}" in arrays]
    expected = [(n_out, n_in) for n_in, n_out in zip(PROBE_SIZES[:-1], PROBE_SIZES[1:])]
    if [w.shape for w in weights] != expected:
        raise Unavailable(f"NeuralNetwork({list(PROBE_SIZES)}).weights has shapes "
                          f"{[list(w.shape) for w in weights]}, not {[list(s) for s in expected]} "
                          f"(weights[i] of shape (layer_shapes[i+1], layer_shapes[i])), so the passes "
                          f"cannot be compared with the reference")
    return weights


def _forward_fit(weights, x, outs):
    """``(hidden, output, difference)`` of the first activation pair that reproduces ``outs``, else Nones."""
    for hidden, output in itertools.product(_HIDDEN, _OUTPUT):
        with np.errstate(all="ignore"):
            diff = max(float(np.max(np.abs(np.ravel(out) - M.forward(weights, x[s], hidden, output)[0][-1])))
                       for s, out in enumerate(outs))
        if diff <= FORWARD_TOLERANCE:
            return hidden, output, diff
    return None, None, None


def _forward(outcome, given):
    weights = _weights(outcome)
    _, arrays = outcome.need("forward")
    x = given["x"]
    outs = [arrays[f"out{s}"] for s in range(len(x))]
    shapes = {tuple(np.shape(o)) for o in outs}
    if any(np.size(o) != 10 for o in outs):
        raise _Fail(f"_forward_pass returns an array of shape {sorted(shapes)[0]}, not 10 class scores",
                    "return the output layer's activations, a vector of 10 values, for one flat 784 input")
    fit = _forward_fit(weights, x, outs)
    ref = [M.forward(weights, x[s])[0][-1] for s in range(len(x))]
    diff = max(float(np.max(np.abs(np.ravel(o) - r))) for o, r in zip(outs, ref))
    return fit, diff, arrays


class _Fail(Exception):
    def __init__(self, message, hint):
        super().__init__(message)
        self.hint = hint


def _check_forward(outcome, given) -> Check:
    cid = "scratch.forward_softmax"
    try:
        (hidden, output, _), diff, _ = _forward(outcome, given)
    except _Fail as exc:
        return Check(cid, "fail", str(exc), hint=exc.hint)
    evidence = {"max_abs_difference": diff, "samples": len(given["x"])}
    if output == "softmax":
        return Check(cid, "pass", f"_forward_pass ends in the softmax of the last layer's input: it matches "
                                  f"ffnn's reference on the network's own weights (largest difference {diff:.1e})",
                     evidence)
    hint = ("apply utils.softmax to the last layer's input z_L = W_L a_{L-1}: ŷ_j = e^{z_j} / Σ_i e^{z_i}, "
            "so the 10 outputs are probabilities that sum to 1")
    if output == "sigmoid":
        return Check(cid, "fail", "_forward_pass ends in a sigmoid, not the softmax: the 10 outputs do not sum "
                                  "to 1 and the loss and its gradient belong to another network",
                     evidence, hint=hint, mistake="output-sigmoid")
    if output == "identity":
        return Check(cid, "fail", "_forward_pass returns the last layer's input z_L without the softmax",
                     evidence, hint=hint)
    return Check(cid, "fail", f"_forward_pass differs from the reference (sigmoid hidden layers, softmax output) "
                              f"by up to {diff:.3g}, and matches none of the usual variants", evidence,
                 hint="compute a_l = sigmoid(W_l a_{l-1}) for the hidden layers and ŷ = softmax(W_L a_{L-1}) "
                      "with self.weights as they are (no biases)")


def _check_hidden(outcome, given) -> Check:
    cid = "scratch.hidden_sigmoid"
    try:
        (hidden, output, _), diff, arrays = _forward(outcome, given)
    except _Fail as exc:
        return Check(cid, "fail", f"the hidden layers cannot be checked: {exc}", hint=exc.hint)
    hint = "apply utils.sigmoid, σ(z) = 1 / (1 + e^{-z}), to every hidden layer's input z_l = W_l a_{l-1}"
    if hidden == "sigmoid":
        return Check(cid, "pass", "the hidden layers apply the sigmoid")
    if hidden is not None:
        return Check(cid, "fail", f"the hidden layers apply {hidden if hidden != 'identity' else 'no activation'}"
                                  f", not the sigmoid", {"found": hidden}, hint=hint)
    # The output matches no variant: look at the hidden activations the team stored in self.A.
    weights = _weights(outcome)
    acts = [arrays.get(f"A{i}") for i in range(len(weights) + 1)]
    if any(a is None for a in acts[:-1]):
        return Check(cid, "fail", "the forward pass's output matches no variant and self.A does not hold the "
                                  "layers' activations, so the hidden layers could not be told apart", hint=hint)
    bad = [l for l in range(1, len(weights))
           if np.ravel(acts[l]).shape != (weights[l - 1].shape[0],)
           or not np.allclose(np.ravel(acts[l]), M.forward([weights[l - 1]], np.ravel(acts[l - 1]),
                                                            output="sigmoid")[0][-1], rtol=1e-6, atol=1e-9)]
    if bad:
        return Check(cid, "fail", f"self.A[{bad[0]}] is not the sigmoid of W_{bad[0]} · self.A[{bad[0] - 1}]",
                     {"layers": bad}, hint=hint)
    return Check(cid, "pass", "the hidden layers apply the sigmoid (read from self.A; the output layer differs, "
                              "see scratch.forward_softmax)")


def _check_gradient(outcome, given) -> Check:
    cid = "scratch.gradient"
    weights = _weights(outcome)
    facts, arrays = outcome.need("backward")
    data = given
    x, y = data["x"][0], data["y"][0]
    grads = [arrays[f"g{i}"] for i in range(facts.get("n_grads", 0)) if f"g{i}" in arrays]
    true = M.gradient(weights, x, y)
    layers = M.layer_report(grads, true)
    evidence = {"layers": layers, "tolerance": TOLERANCE}
    if len(grads) != len(true) or any("relative_error" not in row for row in layers):
        return Check(cid, "fail", f"_backward_pass returns {len(grads)} gradients of shapes "
                                  f"{[list(g.shape) for g in grads]}; the network has {len(true)} weight "
                                  f"matrices of shapes {[list(t.shape) for t in true]}",
                     evidence, hint="return one gradient per weight matrix, in the order of self.weights, "
                                    "each of the same shape as its matrix", mistake="other")
    found = M.match(grads, weights, x, y, TOLERANCE)
    worst = max(row["relative_error"] for row in layers)
    per_layer = ", ".join(f"layer {r['layer']}: relative error {r['relative_error']:.2g}, cosine "
                          f"{'undefined' if r['cosine'] is None else format(r['cosine'], '.4f')}" for r in layers)
    if found is not None:
        evidence["scale"] = found.scale
    if found is not None and not found.names:
        return Check(cid, "pass", f"_backward_pass returns the true gradient of the mean squared error of the "
                                  f"softmax (largest relative error {worst:.1e}, within {TOLERANCE:g})", evidence)
    if found is not None and found.names == ["scaled"]:
        return Check(cid, "pass", f"_backward_pass returns the true gradient times {found.scale:.4g}: the "
                                  f"direction is right (cosine 1), a constant factor is off, which only "
                                  f"rescales the learning rate", evidence, hint=M.MISTAKES["scaled"][1],
                     mistake="scaled")
    if found is None:
        return Check(cid, "fail", f"_backward_pass does not return the true gradient and matches none of the "
                                  f"known mistakes ({per_layer})", evidence,
                     hint="derive δ_L = J·mse_deriv with the softmax Jacobian J[i, j] = ŷ_i(δ_ij − ŷ_j), then "
                          "δ_l = (W_{l+1}ᵀ δ_{l+1}) ⊙ σ'(z_l) and ∂L/∂W_l = δ_l a_{l−1}ᵀ (docs/theory/theory.md, "
                          "'Condensed into deltas'); compare with finite differences on a small network",
                     mistake="other")
    what = "; ".join(M.MISTAKES[n][0] for n in found.names)
    hint = "; ".join(M.MISTAKES[n][1] for n in found.names if n != "scaled")
    return Check(cid, "fail", f"_backward_pass returns a wrong gradient: {what} ({per_layer})", evidence,
                 hint=hint, mistake=found.mistake)


def _check_update(outcome, given) -> Check:
    cid = "scratch.update_rule"
    weights = _weights(outcome)
    facts, arrays = outcome.need("update")
    given = [given[f"g_{i}"] for i in range(len(weights))]
    after = [arrays.get(f"w{i}") for i in range(len(weights))]
    eta = PROBE_RATE
    hint = "in _update_weights, set self.weights[i] = self.weights[i] - self.learning_rate * weight_gradients[i] " \
           "for every layer i"
    if any(a is None or a.shape != w.shape for a, w in zip(after, weights)):
        return Check(cid, "fail", "after _update_weights, self.weights no longer has the shapes it had", hint=hint)
    rule = {"w − η·g": -eta, "w + η·g": eta, "w − g (without the learning rate)": -1.0, "w (unchanged)": 0.0}
    fits = {}
    for l, (w, g, a) in enumerate(zip(weights, given, after), start=1):
        for name, c in rule.items():
            if np.allclose(a, w + c * g, rtol=1e-9, atol=1e-12):
                fits[l] = name
                break
        else:
            fits[l] = "something else"
    evidence = {"learning_rate": eta, "per_layer": fits}
    if all(v == "w − η·g" for v in fits.values()):
        return Check(cid, "pass", f"_update_weights does w ← w − η·g on every layer (η = {eta})", evidence)
    if all(v == "w (unchanged)" for v in fits.values()) and facts.get("returned_list"):
        returned = [arrays.get(f"r{i}") for i in range(len(weights))]
        if all(r is not None and r.shape == w.shape and np.allclose(r, w - eta * g, rtol=1e-9, atol=1e-12)
               for r, w, g in zip(returned, weights, given)):
            return Check(cid, "fail", "_update_weights returns the new weights but leaves self.weights unchanged, "
                                      "and the template's fit ignores the returned value", evidence, hint=hint)
    wrong = {l: v for l, v in fits.items() if v != "w − η·g"}
    listing = ", ".join(f"layer {l}: {v}" for l, v in wrong.items())
    return Check(cid, "fail", f"_update_weights does not do w ← w − η·g on every layer ({listing})", evidence,
                 hint=hint)


def _check_predict(outcome, given) -> Check:
    cid = "scratch.predict"
    facts, arrays = outcome.need("predict")
    n = len(given["x"])
    outs = [np.ravel(arrays[f"out{s}"]) for s in range(n)]
    expected = [int(np.argmax(o)) for o in outs]
    hint = "return int(np.argmax(self._forward_pass(x))), the index of the largest output"
    if "answers" not in arrays:
        return Check(cid, "fail", f"predict returns {facts.get('types', ['?'])[0]} of shape "
                                  f"{facts.get('shapes', [[]])[0]}, not one class index", hint=hint)
    got = arrays["answers"]
    if np.array_equal(got, expected):
        return Check(cid, "pass", f"predict returns the arg-max class index ({n} samples)",
                     {"predicted": [int(v) for v in got]})
    return Check(cid, "fail", f"predict returns {[float(v) for v in got]} where the arg-max of the forward pass "
                              f"is {expected}", {"predicted": [float(v) for v in got], "argmax": expected},
                 hint=hint)


def _check_learns(outcome, given) -> Check:
    facts, arrays = outcome.need("learns")
    epochs = facts.get("epochs", 0)
    trains = [arrays[f"train_out{e}"] for e in range(epochs)]
    vals = [arrays[f"val_out{e}"] for e in range(epochs)]
    per_epoch = []
    for e in range(epochs):
        ws = [arrays.get(f"w{e}_{i}") for i in range(len(SCRATCH_SIZES) - 1)]
        if any(w is None for w in ws):
            per_epoch = None
            break
        per_epoch.append([(w.T, np.zeros(w.shape[0])) for w in ws])
    config = TrainConfig(layer_sizes=SCRATCH_SIZES, epochs=SCRATCH_EPOCHS, batch_size=1, learning_rate=SCRATCH_RATE,
                         loss="mse", dtype="float64", shuffle=False)
    return judge_learning("scratch.learns", f"NeuralNetwork({list(SCRATCH_SIZES)}, learning_rate={SCRATCH_RATE})",
                          trains, vals, config, per_epoch)


def judge(outcome, given, folder) -> list:
    """The checks of the scratch part, in report order."""
    judges = [("scratch.forward_softmax", _check_forward), ("scratch.hidden_sigmoid", _check_hidden),
              ("scratch.gradient", _check_gradient), ("scratch.update_rule", _check_update),
              ("scratch.predict", _check_predict), ("scratch.learns", _check_learns)]
    checks = run_checks(outcome, [(cid, functools.partial(fn, given=given)) for cid, fn in judges])
    return point_hint(checks, "scratch.learns", "a correct network of this size reaches about 80% here")
