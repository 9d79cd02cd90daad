"""Plain-language diagnoses of a training run, checked after every epoch.

:data:`RULES` is the one table: each :class:`Rule` has a code, a threshold,
the sentence that says what it watches, a check that reads the history (and
its probe-set dynamics, :mod:`ffnn.dynamics`) and returns the cause it found
with the numbers that show it, and an adviser that picks what to change from
the configuration and the same numbers. :func:`check` runs the table; a rule
reports at most once per run, at the first epoch it fires.

Advice about the learning rate is measured, not guessed: the first time a rule
wants to advise a rate, the caller's learning-rate range test
(:mod:`ffnn.lrfind`) runs once, and the advice is its range, with its numbers.
Every later rule of the run refers back to that one recommendation, so a run
never hears "larger" and then "smaller".
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from .dynamics import SATURATION_MARGIN, series
from .functional import ACTIVATIONS, get_activation

__all__ = ["Rule", "RULES", "check", "format_line", "divergence", "rate_advice", "rate_direction"]

MINI_BATCH = 32  # the batch size the advice suggests instead of 1
#: Share of saturated outputs above which a hidden layer counts as saturated. The demo's healthy sigmoid
#: network (784-128-64-10, batch 32, rate 1) reaches 46% in its first layer after 10 epochs of full MNIST;
#: the problem set's batch-1 protocol at rates 10, 9, ... saturates its second layer fully in the first epoch.
SATURATED = 0.9


@dataclass(frozen=True)
class Rule:
    """One diagnosis: ``check(history, config, threshold)`` returns the cause (or None),
    ``advise(history, config, rate)`` what to change (``rate()`` runs the learning-rate range test)."""

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
    """Whether the numbers point at steps that are too large rather than too small (used only when no
    range test can run: no training data at hand).

    A saturated hidden layer (more than :data:`SATURATED` of its outputs) or a
    loss that rose since the first epoch mean the steps overshoot; otherwise they are too small.
    """
    if _saturated_layer(history, SATURATED) is not None:
        return True
    loss = history["loss"]
    return len(loss) > 1 and loss[-1] > loss[0]


def _rate_now(config) -> str:
    if config.schedule == "time-based":
        return f"the time-based rate ({config.learning_rate} falling to 1)"
    return f"the rate {config.learning_rate}"


def rate_advice(test: dict, config) -> str:
    """The learning-rate advice of a range test (``History.lr_range_test``, :mod:`ffnn.lrfind`) for
    ``config``: the range it found, what it cost, and the way it points from the configured rate."""
    where = (f"{test['steps']} steps on {test['sample'] - test['held']} of the run's training images from its "
             f"starting weights, the loss measured on {test['held']} others")
    if test["recommended"] is None:
        return (f"a learning-rate range test ({where}, {test['seconds']:.1f} s) found no rate from "
                f"{test['rates'][0]:g} to {test['rates'][-1]:g} at which the loss fell, so the rate is not "
                f"what holds this run back{_other_causes(config)}")
    low, high = test["recommended"]
    found = (f"a learning-rate range test ({where}, {test['seconds']:.1f} s) found the loss fell fastest at "
             f"rates {low:g} to {high:g}")
    way = rate_direction(test, config)
    if way == "within":
        return f"{found}, which holds {_rate_now(config)}: the rate is not the problem{_other_causes(config)}"
    if config.loss == "mse" and way == "larger":
        also = ", or cross-entropy (--loss cross-entropy): the softmax Jacobian shrinks MSE's gradients"
    elif config.batch_size == 1 and way == "smaller":
        also = f", or train on mini-batches (--batch-size {MINI_BATCH}) instead of one sample per step"
    else:
        also = ""
    if config.schedule == "time-based":
        return (f"{found}: use a constant rate {way} than the 1 the time-based schedule soon falls to, about "
                f"{test['suggested']:g} (--schedule constant --lr {test['suggested']:g}){also}")
    return (f"{found}: use a learning rate {way} than {config.learning_rate}, about {test['suggested']:g} "
            f"(--lr {test['suggested']:g}){also}")


def rate_direction(test: dict, config) -> str:
    """``"smaller"``, ``"larger"`` or ``"within"``: where ``config``'s rate lies against the test's range.

    A time-based schedule runs at ``max(rate - t, 1)``, so after its first few steps at rate 1.
    """
    if test["recommended"] is None:
        return "within"
    low, high = test["recommended"]
    rate = 1.0 if config.schedule == "time-based" else config.learning_rate
    return "smaller" if rate > high else "larger" if rate < low else "within"


def _other_causes(config) -> str:
    if config.loss == "mse":
        return "; cross-entropy (--loss cross-entropy) gives larger gradients than MSE"
    if config.batch_size == 1:
        return f"; mini-batches (--batch-size {MINI_BATCH}) give steadier steps than single samples"
    return ""


def _step_advice(history, config, rate) -> str:
    return rate()


class _RateAdvice:
    """The run's one learning-rate recommendation, given by the first rule that asks for it.

    Calling it gives the advice: from the range test (``range_test()``, run at
    most once, the first time), or without one from the numbers of the
    history; every later call, in this epoch or a later one, refers back to it.
    """

    def __init__(self, history, config, range_test, epoch):
        self.history, self.config, self.range_test, self.epoch = history, config, range_test, epoch
        self.given = next((d["epoch"] for d in history.diagnosis if d.get("rate")), None)
        self.asked = False  # by the rule being checked (reset for each rule)

    def __call__(self) -> str:
        self.asked = True
        if self.given is not None:
            return f"the learning-rate advice of epoch {self.given} stands"
        self.given = self.epoch
        test = self.history.lr_range_test
        if test is None and self.range_test is not None:
            test = self.range_test()
        if test is not None:
            return rate_advice(test, self.config)
        too_large = _steps_too_large(self.history, self.config)
        return _smaller_steps(self.config) if too_large else _larger_steps(self.config)


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


def _advise_overfitting(history, config, rate) -> str:
    if config.early_stopping:
        return (f"early stopping (patience {config.early_stopping}) will restore the best epoch's weights; "
                f"more training images or a smaller network would help further")
    return "stop early (--early-stopping 3 keeps the best epoch's weights), or train on more images"


def _advise_saturation(history, config, rate) -> str:
    other = " or ".join(name for name in ACTIVATIONS if name != config.activation)
    return f"{rate()}; a different activation ({other}) may also help"


def _advise_vanishing(history, config, rate) -> str:
    if get_activation(config.activation).dies:
        return f"{rate()}; fewer hidden layers may also help"
    rectifiers = " or ".join(name for name, record in ACTIVATIONS.items() if record.dies)
    return f"{rate()}; the {rectifiers} activation or fewer hidden layers may also help"


#: The rule table, in the order the rules are checked and reported.
RULES = (
    Rule("divergence", None, "the training loss became NaN or infinite (training stops)",
         _check_divergence, lambda h, c, rate: _smaller_steps(c)),
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


def check(history, config, seen=(), range_test=None) -> list:
    """The rules that fire on ``history`` (after its last epoch), skipping the codes in ``seen``.

    ``range_test``, a callable returning the learning-rate range test as a dict (which it also
    stores as ``history.lr_range_test``), is called the first time in the run a rule advises a rate;
    without it that advice follows the numbers of the history. Returns a list of ``{"code", "epoch",
    "message"}`` (plus ``"rate": True`` on the one finding that gave the run's learning-rate advice);
    the message is the cause with its numbers, then what to change.
    """
    epoch = int(history["epoch"][-1])
    rate = _RateAdvice(history, config, range_test, epoch)
    found = []
    for rule in RULES:
        if rule.code in seen:
            continue
        cause = rule.check(history, config, rule.threshold)
        if cause is not None:
            first = rate.given is None
            rate.asked = False
            finding = {"code": rule.code, "epoch": epoch, "message": f"{cause}; {rule.advise(history, config, rate)}"}
            if first and rate.asked:
                finding["rate"] = True
            found.append(finding)
    return found


def format_line(finding: dict) -> str:
    """The one line printed during training for a finding of :func:`check`."""
    return f"diagnosis [{finding['code']}] epoch {finding['epoch']}: {finding['message']}"
