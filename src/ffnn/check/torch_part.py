r"""Judge ``network_pytorch.py`` from what :mod:`ffnn.check.probe_torch` measured.

``torch.output_loss`` is judged by what the (output function, loss) pair does,
not by the names in the code: the child hands back the last ``nn.Linear``'s
output ``z`` (the logits) for a batch of ``n`` samples and the gradient
:math:`\partial L/\partial z` that the team's ``_backward_pass`` put there;
here that gradient is compared, up to a constant factor (the loss's
reduction), with the gradient of every pair ffnn knows. With
:math:`P = \mathrm{softmax}(z)` row-wise, :math:`Y` one-hot and
:math:`J^\top g = P \odot (g - (g \cdot P)\mathbf 1)` the softmax Jacobian
applied row by row:

================================================  ====================================
pair                                              :math:`\partial L/\partial z \propto`
================================================  ====================================
logits → CrossEntropyLoss (and the equivalent      :math:`P - Y`
log-softmax → NLLLoss, softmax → explicit CE)
softmax → MSE                                      :math:`J^\top (P - Y)`
softmax → BCEWithLogitsLoss (wrong)                :math:`J^\top (\sigma(P) - Y)`
softmax → CrossEntropyLoss (wrong: softmax twice)  :math:`J^\top (\mathrm{softmax}(P) - Y)`
softmax → NLLLoss (wrong: wants log-probabilities) :math:`J^\top (-Y)`
logits → BCEWithLogitsLoss (no softmax)            :math:`\sigma(z) - Y`
================================================  ====================================
"""
from __future__ import annotations

import functools
import itertools

import numpy as np

from ..config import TrainConfig
from .learning import judge_learning, point_hint
from .outcome import Unavailable, run_checks
from .protocol import (N_TRAIN, PROBE_SIZES, SPREAD_CLASSES, TORCH_EPOCHS, TORCH_RATES, TORCH_SIZES, learning_data,
                       probe_samples, spread_weights)
from .result import Check

__all__ = ["FILE", "inputs", "judge", "PAIRS"]

FILE = "network_pytorch.py"
#: Relative error within which a float32 gradient counts as a pair's (after the best constant factor).
TOLERANCE = 1e-3

_CORRECTIVE = ("return the last nn.Linear's output (the logits) from _forward_pass and use nn.CrossEntropyLoss "
               "with class indices (y.argmax(dim=1)); or keep the softmax and write the cross-entropy "
               "-(y * torch.log(output)).sum(dim=1).mean() (or MSE) yourself")

#: name -> (correct?, what the pair is, the gradient on the logits up to a factor, from (P, Y, z)).
PAIRS = {
    "cross-entropy": (True, "the logits with CrossEntropyLoss (or log-softmax with NLLLoss, or a softmax with an "
                            "explicit cross-entropy)", lambda P, Y, z: P - Y),
    "softmax-mse": (True, "a softmax with the mean squared error", lambda P, Y, z: _jt(P, P - Y)),
    "softmax-bce-with-logits": (False, "the softmax output fed to BCEWithLogitsLoss, which puts a sigmoid on top "
                                       "of the softmax and scores each class as a separate yes/no question",
                                lambda P, Y, z: _jt(P, _sigmoid(P) - Y)),
    "softmax-cross-entropy": (False, "the softmax output fed to CrossEntropyLoss, which applies a softmax itself: "
                                     "the softmax is applied twice and the gradients shrink",
                              lambda P, Y, z: _jt(P, _softmax(P) - Y)),
    "softmax-nll": (False, "the softmax output fed to NLLLoss, which expects log-probabilities (log_softmax)",
                    lambda P, Y, z: _jt(P, -Y)),
    "logits-bce-with-logits": (False, "the logits fed to BCEWithLogitsLoss: ten independent sigmoids instead of one "
                                      "softmax over the ten classes", lambda P, Y, z: _sigmoid(z) - Y),
}


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _log_softmax(z):
    s = z - z.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


def _jt(P, g):
    """The softmax Jacobian (transposed) applied to each row: ``P * (g - (g * P).sum(1))``."""
    return P * (g - (g * P).sum(axis=1, keepdims=True))


def _cos(u, v) -> float:
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    return float(u.ravel() @ v.ravel() / (nu * nv)) if nu > 0 and nv > 0 else float("nan")


def inputs() -> dict:
    x, labels = probe_samples(len(SPREAD_CLASSES))
    data_x, data_y = learning_data()
    return {"x": x, "labels": labels, **spread_weights(x, np.random.default_rng(0)),
            "train_x": data_x[:N_TRAIN], "train_labels": data_y[:N_TRAIN], "val_x": data_x[N_TRAIN:]}


_OUTPUTS = {"logits": lambda z: z, "softmax": _softmax, "log-softmax": _log_softmax, "sigmoid": _sigmoid}
_HIDDEN = {"sigmoid": _sigmoid, "relu": lambda z: np.maximum(z, 0), "tanh": np.tanh, "identity": lambda z: z,
           "softmax": _softmax}


def _empty_optimizer(outcome) -> bool:
    entry = outcome.probes.get("build") or {}
    return "empty parameter list" in str(entry.get("error", ""))


def _check_architecture(outcome, given) -> Check:
    cid = "torch.architecture"
    facts, arrays = outcome.need("architecture")
    linears = facts.get("linears", [])
    expected = list(zip(PROBE_SIZES[:-1], PROBE_SIZES[1:]))
    got = [(int(i), int(o)) for _, i, o, _ in linears]
    hint = ("create one nn.Linear(sizes[i], sizes[i + 1]) per pair of consecutive sizes in __init__ and apply "
            "torch.sigmoid between them")
    evidence = {"linear_layers": [f"Linear({i}, {o})" for i, o in got], "sizes": list(PROBE_SIZES)}
    if got != expected:
        return Check(cid, "fail", f"NeuralNetworkTorch({list(PROBE_SIZES)}) has the layers "
                                  f"{', '.join(evidence['linear_layers']) or 'none'}, not "
                                  f"{', '.join(f'Linear({i}, {o})' for i, o in expected)}", evidence, hint=hint)
    out = arrays["out"]
    if out.shape != (len(given["x"]), PROBE_SIZES[-1]):
        return Check(cid, "fail", f"the forward pass returns shape {list(out.shape)} for a batch of "
                                  f"{len(given['x'])}, not ({len(given['x'])}, {PROBE_SIZES[-1]})", evidence,
                     hint=hint)
    Ws = [arrays[f"W{i}"] for i in range(len(got))]
    bs = [arrays.get(f"b{i}", np.zeros(w.shape[0])) for i, w in enumerate(Ws)]
    for (hname, h), (oname, o) in itertools.product(_HIDDEN.items(), _OUTPUTS.items()):
        a = given["x"]
        with np.errstate(all="ignore"):
            for l, (W, b) in enumerate(zip(Ws, bs)):
                z = a @ W.T + b
                a = o(z) if l == len(Ws) - 1 else h(z)
            diff = float(np.max(np.abs(a - out)))
        if diff <= 1e-4:
            evidence.update(hidden=hname, output=oname, max_abs_difference=diff)
            if hname == "sigmoid":
                return Check(cid, "pass", f"{len(Ws)} nn.Linear layers from sizes, the sigmoid between them, "
                                          f"{PROBE_SIZES[-1]} outputs ({oname})", evidence)
            return Check(cid, "fail", f"the layers between the nn.Linear layers apply {hname}, not the sigmoid",
                         evidence, hint=hint)
    return Check(cid, "fail", "the forward pass does not compute the nn.Linear layers with a sigmoid between them "
                              "(it matches no combination of hidden activation and output function)", evidence,
                 hint=hint)


def _check_output_loss(outcome, given) -> Check:
    cid = "torch.output_loss"
    entry = outcome.probes.get("output_loss") or {}
    error = str(entry.get("error", ""))
    if entry and not entry.get("ok") and entry.get("after") is None and any(
            s in error for s in ("Long", "Float", "scalar type", "dtype", "one_hot", "0D or 1D target")):
        return Check(cid, "fail", f"the loss fails on the one-hot integer targets the template's fit passes: "
                                  f"{error}", {"error": error},
                     hint="convert y in _backward_pass: y.float() for MSE or BCE losses, y.argmax(dim=1) for "
                          "CrossEntropyLoss or NLLLoss", mistake="integer-targets")
    facts, arrays = outcome.need("output_loss")
    if "dlogits" not in arrays:
        return Check(cid, "fail", "after _backward_pass no gradient reached the last nn.Linear layer",
                     hint="compute the loss from the forward pass's output and call loss.backward() in "
                          "_backward_pass")
    z, dz = arrays["logits"], arrays["dlogits"]
    P, Y = _softmax(z), np.eye(10)[given["labels"]]
    evidence = {"batch": len(z)}
    fits = {}
    for name, (ok, what, grad) in PAIRS.items():
        with np.errstate(all="ignore"):
            c = grad(P, Y, z)
            den = float(c.ravel() @ c.ravel())
            s = float(dz.ravel() @ c.ravel()) / den if den > 0 else 0.0
            err = float(np.linalg.norm(dz - s * c) / np.linalg.norm(s * c)) if s else float("inf")
        fits[name] = (err, s, _cos(dz, c))
    evidence["cosine_to_cross_entropy"] = round(fits["cross-entropy"][2], 6)
    evidence["cosine_to_softmax_mse"] = round(fits["softmax-mse"][2], 6)
    name = min(fits, key=lambda n: fits[n][0])
    err, scale, cos = fits[name]
    if err > TOLERANCE or scale <= 0:
        return Check(cid, "fail", f"the gradient the output function and the loss put on the output layer matches "
                                  f"no correct pair (cosine {fits['cross-entropy'][2]:.3f} to the cross-entropy's "
                                  f"(softmax(z) − y)/n)", evidence, hint=_CORRECTIVE, mistake="other")
    ok, what, _ = PAIRS[name]
    evidence.update(pair=name, relative_error=err)
    if ok:
        return Check(cid, "pass", f"the output function and the loss form a correct pair: the gradient on the "
                                  f"output layer is that of {what} (relative error {err:.1e})", evidence)
    return Check(cid, "fail", f"the output function and the loss do not fit together: the gradient on the output "
                              f"layer is that of {what} (cosine {fits['cross-entropy'][2]:.3f} to the correct "
                              f"(softmax(z) − y)/n)", evidence, hint=_CORRECTIVE, mistake=name)


def _check_optimizer(outcome, given) -> Check:
    cid = "torch.optimizer_params"
    hint = ("create self.optimizer = optim.SGD(self.parameters(), lr=learning_rate) at the end of __init__, "
            "after every layer: the optimizer only updates the parameters that exist when it is created")
    if _empty_optimizer(outcome):
        return Check(cid, "fail", "the optimizer is created before the layers: PyTorch refuses an optimizer with "
                                  "an empty parameter list", hint=hint)
    facts, arrays = outcome.need("optimizer_params")
    names = list(facts.get("parameters", []))
    if not facts.get("has_optimizer"):
        return Check(cid, "fail", "the network has no self.optimizer with parameter groups",
                     hint=hint)
    missing = list(facts.get("not_in_optimizer", []))
    unchanged = [n for k, n in enumerate(names)
                 if f"before{k}" in arrays and np.array_equal(arrays[f"before{k}"], arrays[f"after{k}"])]
    evidence = {"parameters": len(names), "not_in_optimizer": missing, "unchanged_after_a_step": unchanged}
    if missing:
        return Check(cid, "fail", f"the optimizer does not hold {len(missing)} of the network's {len(names)} "
                                  f"parameters ({', '.join(missing)}): they never change; the layers were "
                                  f"probably created after the optimizer", evidence, hint=hint)
    if unchanged:
        return Check(cid, "fail", f"one training step leaves {', '.join(unchanged)} unchanged", evidence,
                     hint="call self.optimizer.step() in _update_weights after loss.backward() in _backward_pass")
    return Check(cid, "pass", f"the optimizer holds all {len(names)} parameters of the network and one step "
                              f"changes each of them", evidence)


def _check_predict(outcome, given) -> Check:
    cid = "torch.predict"
    facts, arrays = outcome.need("predict")
    expected = np.argmax(arrays["out"], axis=1)
    hint = ("return self._forward_pass(self._flatten(x)).argmax(dim=1): flatten first, since the template's "
            "compute_accuracy passes the loader's (batch, 1, 28, 28) images")
    problems = []
    for shape_name, shape in (("flat", "(batch, 784)"), ("images", "(batch, 1, 28, 28)")):
        if f"error_{shape_name}" in facts:
            problems.append(f"predict fails on {shape} input: {facts[f'error_{shape_name}']}")
            continue
        got = arrays.get(f"pred_{shape_name}")
        if got is None or np.shape(got) != expected.shape or not np.array_equal(np.asarray(got, float), expected):
            problems.append(f"predict on {shape} input returns {np.asarray(got).tolist() if got is not None else None}"
                            f", not the arg-max classes {expected.tolist()}")
    evidence = {"expected": expected.tolist()}
    if problems:
        return Check(cid, "fail", "; ".join(problems), evidence, hint=hint)
    return Check(cid, "pass", f"predict returns the arg-max class indices for a batch of {len(expected)}, flat "
                              f"and as (batch, 1, 28, 28) images", evidence)


def _check_learns(outcome, given) -> Check:
    facts, arrays = outcome.need("learns")
    runs = []
    for r, rate in enumerate(TORCH_RATES[:facts.get("rates", 0)]):
        trains = [arrays[f"train_out{r}_{e}"] for e in range(TORCH_EPOCHS)]
        vals = [arrays[f"val_out{r}_{e}"] for e in range(TORCH_EPOCHS)]
        config = TrainConfig(layer_sizes=TORCH_SIZES, epochs=TORCH_EPOCHS, batch_size=1, learning_rate=rate,
                             shuffle=False)
        check = judge_learning("torch.learns", f"NeuralNetworkTorch({list(TORCH_SIZES)}, learning_rate={rate})",
                               trains, vals, config)
        runs.append(check)
    if not runs:
        raise Unavailable("the learning run finished no rate")
    best = max(runs, key=lambda c: (c.status == "pass", c.evidence.get("val_accuracy", [0])[-1]))
    best.evidence["rates"] = list(TORCH_RATES)
    return best


def judge(outcome, given, folder) -> list:
    """The checks of the torch part, in report order."""
    judges = [("torch.architecture", _check_architecture), ("torch.output_loss", _check_output_loss),
              ("torch.optimizer_params", _check_optimizer), ("torch.predict", _check_predict),
              ("torch.learns", _check_learns)]
    checks = run_checks(outcome, [(cid, functools.partial(fn, given=given)) for cid, fn in judges])
    return point_hint(checks, "torch.learns", "a correct network reaches about 80% here at one of the two rates")
