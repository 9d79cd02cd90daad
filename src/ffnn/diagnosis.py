"""Plain-language diagnoses of a training run, checked after every epoch.

:data:`RULES` is the one table: each :class:`Rule` has a code, a threshold,
the sentence that says what it watches, a check that reads the history (and
its probe-set dynamics, :mod:`ffnn.dynamics`) and returns the cause it found
with the numbers that show it, and an adviser that picks what to change from
the configuration and the same numbers. :func:`check` runs the table; a rule
reports at most once per run, at the first epoch it fires.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from .dynamics import SATURATION_MARGIN, series
from .functional import ACTIVATIONS, get_activation

__all__ = ["Rule", "RULES", "check", "format_line", "divergence"]

MINI_BATCH = 32  # the batch size the advice suggests instead of 1
#: Share of saturated outputs above which a hidden layer counts as saturated. The demo's healthy sigmoid
#: network (784-128-64-10, batch 32, rate 1) reaches 46% in its first layer after 10 epochs of full MNIST;
#: the problem set's batch-1 protocol at rates 10, 9, ... saturates its second layer fully in the first epoch.
SATURATED = 0.9


@dataclass(frozen=True)
class Rule:
    """One diagnosis: ``check(history, config, threshold)`` returns the cause (or None),
    ``advise(history, config)`` what to change."""

    code: str
    threshold: float | None
    meaning: str  # a template: {t} is the threshold, {t:.0%} as a percentage
    check: Callable
    advise: Callable

    def describe(self) -> str:
        """What the rule watches, with its threshold filled in."""
        return self.meaning.format(t=self.threshold, margin=SATURATION_MARGIN)


def _latest(history, name: str) -> list:
    """The last epoch's value of ``name_1, name_2, ...`` from the history's dynamics."""
    return [values[-1] for values in series(history.dynamics, name) if values]


def _saturated_layer(history, threshold: float):
    """(layer, share) of the most saturated hidden layer if its share exceeds ``threshold``, else None."""
    shares = _latest(history, "saturation")
    if not shares or max(shares) <= threshold:
        return None
    layer = max(range(len(shares)), key=shares.__getitem__)
    return layer + 1, shares[layer]


def _smaller_steps(config) -> str:
    if config.batch_size == 1:
        return (f"train on mini-batches (--batch-size {MINI_BATCH}) instead of one sample per step, "
                f"or use a learning rate smaller than {config.learning_rate}")
    return f"use a learning rate smaller than {config.learning_rate}"


def _larger_steps(config) -> str:
    lr = config.learning_rate
    if config.loss == "mse" and lr < 1:
        return (f"use cross-entropy instead of MSE (--loss cross-entropy), or a much larger rate for MSE "
                f"(1 and more, not {lr}): the softmax Jacobian shrinks MSE's gradients")
    if config.loss == "mse":
        return f"use cross-entropy instead of MSE (--loss cross-entropy), or a learning rate larger than {lr}"
    return f"use a learning rate larger than {lr}"


def _steps_too_large(history, config) -> bool:
    """Whether the numbers point at steps that are too large rather than too small.

    A saturated hidden layer (more than :data:`SATURATED` of its outputs) or a
    loss that rose since the first epoch mean the steps overshoot; otherwise they are too small.
    """
    if _saturated_layer(history, SATURATED) is not None:
        return True
    loss = history["loss"]
    return len(loss) > 1 and loss[-1] > loss[0]


def _step_advice(history, config) -> str:
    return _smaller_steps(config) if _steps_too_large(history, config) else _larger_steps(config)


# ---------------------------------------------------------------- the checks


def divergence(epoch: int, loss: float, config) -> str:
    """The message of :class:`ffnn.training.TrainingDiverged` (the ``divergence`` rule, which stops training)."""
    return f"training diverged in epoch {epoch} (training loss is {loss}); {_smaller_steps(config)}"


def _check_divergence(history, config, threshold):
    loss = history["loss"][-1]
    return None if math.isfinite(loss) else f"the training loss is {loss}"


def _check_collapse(history, config, threshold):
    shares = _latest(history, "predicted")
    if not shares or max(shares) <= threshold:
        return None
    c = max(range(len(shares)), key=shares.__getitem__)
    return f"the network predicts class {c} for {shares[c]:.0%} of the probe images"


def _check_saturation(history, config, threshold):
    found = _saturated_layer(history, threshold)
    if found is None:
        return None
    layer, share = found
    if get_activation(config.activation).dies:
        return f"{share:.0%} of the {config.activation} units of hidden layer {layer} are dead (0 on every probe image)"
    return (f"{share:.0%} of hidden layer {layer}'s {config.activation} outputs are within {SATURATION_MARGIN} "
            f"of their bounds, where the gradient nearly vanishes")


def _check_vanishing(history, config, threshold):
    norms = _latest(history, "grad_norm")
    if len(norms) < 2 or not norms[-1] > 0 or not math.isfinite(norms[0]):
        return None
    ratio = norms[0] / norms[-1]
    if ratio >= threshold:
        return None
    return (f"the first layer's gradient norm is {ratio:.1e} times the last layer's "
            f"({norms[0]:.2e} against {norms[-1]:.2e})")


def _check_chance(history, config, threshold):
    acc, k = history["accuracy"], config.n_classes
    if len(acc) < 2 or acc[-1] > threshold / k:
        return None
    return f"training accuracy is {acc[-1]:.1%} after {len(acc)} epochs, near chance ({1 / k:.0%})"


def _check_flat(history, config, threshold):
    loss = history["loss"]
    if len(loss) < 2 or not loss[0] > 0 or not math.isfinite(loss[-1]):
        return None
    change = abs(loss[-1] - loss[0]) / loss[0]
    if change >= threshold:
        return None
    return (f"the training loss moved by {change:.2%} in {len(loss) - 1} epoch{'s' if len(loss) > 2 else ''} "
            f"({loss[0]:.4g} to {loss[-1]:.4g})")


def _check_overfitting(history, config, threshold):
    n = int(threshold)
    val, train = history["val_loss"][-(n + 1):], history["loss"][-(n + 1):]
    if len(val) < n + 1 or any(v != v for v in val):
        return None
    if all(b > a for a, b in zip(val, val[1:])) and all(b < a for a, b in zip(train, train[1:])):
        return (f"the validation loss rose for {n} epochs in a row ({val[0]:.4g} to {val[-1]:.4g}) "
                f"while the training loss fell")
    return None


# ---------------------------------------------------------------- the advice


def _advise_overfitting(history, config) -> str:
    if config.early_stopping:
        return (f"early stopping (patience {config.early_stopping}) will restore the best epoch's weights; "
                f"more training images or a smaller network would help further")
    return "stop early (--early-stopping 3 keeps the best epoch's weights), or train on more images"


def _advise_saturation(history, config) -> str:
    other = " or ".join(name for name in ACTIVATIONS if name != config.activation)
    return f"{_smaller_steps(config)}; a different activation ({other}) may also help"


def _advise_vanishing(history, config) -> str:
    if get_activation(config.activation).dies:
        return f"{_smaller_steps(config)}, or use fewer hidden layers"
    rectifiers = " or ".join(name for name, record in ACTIVATIONS.items() if record.dies)
    return f"{_step_advice(history, config)}; the {rectifiers} activation or fewer hidden layers may also help"


#: The rule table, in the order the rules are checked and reported.
RULES = (
    Rule("divergence", None, "the training loss became NaN or infinite (training stops)",
         _check_divergence, lambda h, c: _smaller_steps(c)),
    Rule("collapse", 0.9, "more than {t:.0%} of the probe images are predicted as one class",
         _check_collapse, _step_advice),
    Rule("saturation", SATURATED, "more than {t:.0%} of a hidden layer is saturated: sigmoid or tanh outputs "
                                 "within {margin} of a bound, or ReLU units that are 0 on every probe image",
         _check_saturation, _advise_saturation),
    Rule("vanishing-gradient", 1e-3, "the first layer's gradient norm is below {t:g} times the last layer's",
         _check_vanishing, _advise_vanishing),
    Rule("chance-accuracy", 1.5, "from epoch 2, the training accuracy is at most {t:g} times chance "
                                 "(1 / number of classes)",
         _check_chance, _step_advice),
    Rule("flat-loss", 0.01, "from epoch 2, the training loss has moved by less than {t:.0%} since epoch 1",
         _check_flat, _step_advice),
    Rule("overfitting", 3, "the validation loss rose for {t} epochs in a row while the training loss fell",
         _check_overfitting, _advise_overfitting),
)


def check(history, config, seen=()) -> list:
    """The rules that fire on ``history`` (after its last epoch), skipping the codes in ``seen``.

    Returns a list of ``{"code", "epoch", "message"}``; the message is the
    cause with its numbers, then what to change.
    """
    epoch = history["epoch"][-1]
    found = []
    for rule in RULES:
        if rule.code in seen:
            continue
        cause = rule.check(history, config, rule.threshold)
        if cause is not None:
            found.append({"code": rule.code, "epoch": int(epoch),
                          "message": f"{cause}; {rule.advise(history, config)}"})
    return found


def format_line(finding: dict) -> str:
    """The one line printed during training for a finding of :func:`check`."""
    return f"diagnosis [{finding['code']}] epoch {finding['epoch']}: {finding['message']}"
