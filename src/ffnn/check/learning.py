"""Judge a ``*.learns`` run from the outputs the team's network gave after each epoch.

The child hands back, per epoch, the network's outputs for the protocol's
training and validation images (and, where the network has the template's
weight layout, its weights); here they become an :class:`ffnn.history.History`
with accuracies computed by ffnn, and a run that stays below
:data:`ffnn.check.protocol.LEARNS_ACCURACY` is explained by the rules of
:mod:`ffnn.diagnosis` that fire on it.
"""
from __future__ import annotations

import math

import numpy as np

from .. import diagnosis
from ..config import TrainConfig
from ..history import History
from .protocol import LEARNS_ACCURACY, N_TRAIN, learning_data
from .result import Check

__all__ = ["judge_learning", "probabilities", "point_hint"]


def probabilities(out) -> np.ndarray:
    """The outputs as class probabilities: as they are when every row is a distribution, else their softmax.

    Logits and log-probabilities both become the softmax's probabilities (the
    softmax of ``log p`` is ``p``); the arg-max never changes.
    """
    out = np.asarray(out, dtype=float)
    with np.errstate(all="ignore"):
        if np.all(out >= 0) and np.allclose(out.sum(axis=1), 1.0, atol=1e-3):
            return out
        e = np.exp(out - out.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


def _mse(out, labels) -> float:
    y = np.zeros_like(out)
    y[np.arange(len(out)), labels] = 1.0
    with np.errstate(all="ignore"):
        return float(np.mean((out - y) ** 2))


def _accuracy(out, labels) -> float:
    out = np.nan_to_num(np.asarray(out, dtype=float), nan=-np.inf)
    return float(np.mean(out.argmax(axis=1) == labels))


def judge_learning(check_id: str, what: str, train_outs: list, val_outs: list, config: TrainConfig,
                   weights_per_epoch=None, hint: str = "") -> Check:
    """The ``*.learns`` check from per-epoch outputs of shape (n, 10).

    ``weights_per_epoch`` (ffnn's layout, list of ``(W, b)`` per epoch) adds
    the probe statistics (saturation, predicted classes) the diagnosis reads.
    """
    x, labels = learning_data()
    train_labels, val_labels = labels[:N_TRAIN], labels[N_TRAIN:]
    history = History()
    for epoch, (tr, va) in enumerate(zip(train_outs, val_outs), start=1):
        tr, va = np.asarray(tr, dtype=float), np.asarray(va, dtype=float)
        if tr.ndim == va.ndim == 2 and tr.shape[1] == va.shape[1] == 10:
            tr, va = probabilities(tr), probabilities(va)
        if tr.shape != (len(train_labels), 10) or va.shape != (len(val_labels), 10):
            return Check(check_id, "fail", f"the network's outputs have shape {va.shape}, not "
                                           f"({len(val_labels)}, 10): one row of 10 class scores per image",
                         {"shape": list(va.shape)}, hint=hint)
        history.append(epoch=epoch, loss=_mse(tr, train_labels), accuracy=_accuracy(tr, train_labels),
                       val_loss=_mse(va, val_labels), val_accuracy=_accuracy(va, val_labels),
                       learning_rate=config.learning_rate, seconds=0.0)
        if weights_per_epoch is not None:
            from ..dynamics import measure

            history.append_dynamics(measure(weights_per_epoch[epoch - 1], x[:N_TRAIN], train_labels,
                                            config.activation, config.loss))
    if not history.epochs:
        return Check(check_id, "error", "the learning run finished no epoch")
    val = history["val_accuracy"]
    evidence = {"epochs": history.epochs, "train_accuracy": [round(a, 4) for a in history["accuracy"]],
                "val_accuracy": [round(a, 4) for a in val], "threshold": LEARNS_ACCURACY,
                "train_images": len(train_labels), "val_images": len(val_labels)}
    if val[-1] >= LEARNS_ACCURACY:
        return Check(check_id, "pass", f"{what} learns: {val[-1]:.1%} validation accuracy after "
                                       f"{history.epochs} epochs of the check's short run (chance is 10%)",
                     evidence)
    # The rules' causes only: their advice names ffnn's own options, which a team's code does not have.
    found = [(rule.code, cause) for rule in diagnosis.RULES
             if (cause := rule.check(history, config, rule.threshold)) is not None]
    evidence["diagnosis"] = [code for code, _ in found]
    why = "; ".join(cause for code, cause in found if code != "chance-accuracy") or \
        "; ".join(cause for _, cause in found)
    loss = history["loss"][-1]
    if not math.isfinite(loss) and not found:
        why = f"the outputs became {loss}"
    message = (f"{what} does not learn: {val[-1]:.1%} validation accuracy after {history.epochs} epochs "
               f"of the check's short run, below {LEARNS_ACCURACY:.0%} (chance is 10%)")
    if why:
        message += f"; the diagnosis: {why}"
    return Check(check_id, "fail", message, evidence, hint=hint or None)


def point_hint(checks: list, learns_id: str, typical: str) -> list:
    """Give a failed ``learns_id`` the hint its part's other verdicts call for.

    When other checks of the part failed, the hint names them (a wrong
    gradient or update is the likely cause); when they all passed, the parts
    are right one by one, so the hint points at what they do not cover.
    """
    for c in checks:
        if c.id == learns_id and c.status == "fail":
            others = [o.id for o in checks if o.id != learns_id and o.status in ("fail", "error")]
            if others:
                c.hint = f"fix {', '.join(others)} first; {typical}"
            else:
                c.hint = (f"every other check of this part passes, so look at what they do not cover: the "
                          f"initial weights, the learning rate the class keeps, and state carried from one "
                          f"sample to the next; {typical}")
    return checks
