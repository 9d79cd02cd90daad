"""How the report writes numbers, and the sentences of part 1.3 that the measured numbers decide.

Every number in the prose goes through :func:`pct`, :func:`points`,
:func:`num` or :func:`sci`: two decimals at most (scientific notation for
very small numbers). A difference between two stated numbers is computed
from the numbers as printed, so the prose never contradicts its own tables.

Each ``*_claims`` function compares measured numbers (with their standard
errors) and returns the sentences they call for; the tests feed them
hand-made cases and the committed data.
"""
from __future__ import annotations

import math

import numpy as np

from .overfitting import standard_error

__all__ = ["pct", "points", "num", "sci", "shown", "trend", "size_claims", "complexity_claims",
           "early_stopping_claims", "patience_stop", "shape_of"]


def shown(x: float) -> float:
    """``x`` (a fraction) as a percentage rounded as :func:`pct` prints it."""
    return round(100 * x, 2)


def pct(x: float) -> str:
    """A fraction as a percentage with two decimals: ``0.14488`` gives ``14.49%``."""
    return f"{shown(x):.2f}%"


def points(a: float, b: float) -> str:
    """``|a - b|`` in percentage points, from the two numbers as :func:`pct` prints them."""
    return f"{abs(shown(a) - shown(b)):.2f} points"


def num(x: float) -> str:
    """Two decimals."""
    return f"{x:.2f}"


def sci(x: float) -> str:
    """LaTeX scientific notation with one decimal: ``1.3\\times 10^{-5}``."""
    if x == 0:
        return "0"
    e = int(math.floor(math.log10(abs(x))))
    m = round(x / 10**e, 1)
    if abs(m) >= 10:
        m, e = m / 10, e + 1
    return f"{m:.1f}\\times 10^{{{e}}}"


def trend(first: float, last: float, tol: float) -> str:
    """``"rises"``, ``"falls"`` or ``"stays level"``: how ``last`` compares with ``first``, ``tol`` apart."""
    if last > first + tol:
        return "rises"
    if last < first - tol:
        return "falls"
    return "stays level"


# ------------------------------------------------------------------- 1.3.1


def size_claims(r: dict, n_test: int) -> list[str]:
    """What 1.3.1's numbers show: each curve's trend, the gap's, and where under-training enters."""
    tr, te, n, k = r["train_error"], r["test_error"], r["sizes"], r["repeats"]
    tol = 2 * standard_error(max(te[-1], 1e-3), n_test)
    t_tr, t_te = trend(tr[0], tr[-1], tol), trend(te[0], te[-1], tol)
    gap0, gap1 = te[0] - tr[0], te[-1] - tr[-1]
    out = [f"The training error {t_tr} from {pct(tr[0])} at $n = {n[0]:,}$ to {pct(tr[-1])} at $n = {n[-1]:,}$; "
           f"the test error {t_te} from {pct(te[0])} to {pct(te[-1])}; the gap between them "
           f"{'closes' if gap1 < gap0 - tol else 'does not close'}, from {points(te[0], tr[0])} to "
           f"{points(te[-1], tr[-1])}."]
    if t_tr != "falls" and t_te == "falls":
        out.append("This is the shape of Figure 1; a few images are easy to fit and say little about new ones; "
                   "many are harder to fit and more like the test set.")
    else:
        out.append("This is not the shape of Figure 1 (training error rising, test error falling): with this "
                   "budget the measurement does not show it.")
    fitted = [i for i, e in enumerate(tr) if e > 0]
    if fitted:
        out.append(f"The budget is fixed, so the training error's rise is partly under-training: it is above 0 "
                   f"only for $n \\ge {n[fitted[0]]:,}$, where each image is shown "
                   f"{', '.join(f'{k[i]:,}' for i in fitted[:-1])}{' and ' if len(fitted) > 1 else ''}"
                   f"{k[fitted[-1]]:,} times; more passes would fit those sets better. The measurement shows "
                   "the direction of the rise, not how much of it more data alone would cause.")
    return out


# ------------------------------------------------------------------- 1.3.2


def shape_of(fall: float, rise: float, se: float) -> str:
    """``"U"``, ``"L"`` or ``"level"``: a curve that falls by ``fall``, then rises by ``rise`` (``se`` its noise).

    A rise within two standard errors is noise (``"level"``); a real rise
    under a quarter of the fall is an L (a steep fall, a slight rise), a
    larger one a U.
    """
    if rise <= 2 * se:
        return "level"
    return "L" if rise < fall / 4 else "U"


def complexity_claims(r: dict, n_test: int) -> list[str]:
    """What 1.3.2's numbers show: the test error's shape, where training error hits 0, right of the line."""
    w, tr, te, c = r["widths"], r["train_error"], r["test_error"], r["supported_index"]
    lo = int(np.argmin(te))
    se = standard_error(te[lo], n_test)
    fall, rise = te[0] - te[lo], te[-1] - te[lo]
    shape = shape_of(fall, rise, se)
    head = (f"The test error falls by {points(te[0], te[lo])} from $H = {w[0]}$ to its lowest, {pct(te[lo])} at "
            f"$H = {w[lo]}$, then")
    if shape == "level":
        out = [f"{head} stays within two standard errors (one is {num(100 * se)} points) of it up to "
               f"$H = {w[-1]}$ ({pct(te[-1])}): it falls and levels off, with no measurable rise."]
    else:
        out = [f"{head} rises by {points(te[-1], te[lo])} to {pct(te[-1])} at $H = {w[-1]}$, "
               f"{num(rise / se)} standard errors (one is {num(100 * se)} points): "
               + ("a real but slight rise after a steep fall, an L more than a U." if shape == "L" else
                  "a U: it falls, then rises.")]
    zero = [h for h, e in zip(w, tr) if e == 0]
    out.append(f"From $H = {zero[0]}$ on the training error is 0: the network fits every training label, the "
               "wrong ones included." if zero else f"The training error falls to {pct(min(tr))}, never 0.")
    if c == len(w) - 1:
        out.append("The line is at the widest network tried, so the data support every width measured.")
    elif te[-1] > te[c] + 2 * standard_error(te[c], n_test):
        fit = (f"lower the training error from {pct(tr[c])} to {pct(tr[-1])} but" if shown(tr[c]) > shown(tr[-1])
               else f"cannot lower the training error (already {pct(tr[c])}) and")
        out.append(f"Right of the line, extra units {fit} raise the test error from {pct(te[c])} to "
                   f"{pct(te[-1])}: that is overfitting.")
    else:
        out.append(f"Right of the line, extra units change the test error by less than two standard errors "
                   f"({pct(te[c])} to {pct(te[-1])}).")
    return out


# ------------------------------------------------------------------- 1.3.3


def patience_stop(scores, patience: int) -> tuple[int, int | None]:
    """Early stopping replayed on a recorded curve (lower is better): ``(best epoch, stopped epoch or None)``.

    Epochs count from 1; training stops after ``patience`` epochs without a
    strictly lower score than the best so far.
    """
    best, since = 0, 0
    for i in range(1, len(scores)):
        if scores[i] < scores[best]:
            best, since = i, 0
        else:
            since += 1
            if since == patience:
                return best + 1, i + 1
    return best + 1, None


def early_stopping_claims(r: dict, n_val: int) -> list[str]:
    """What 1.3.3's numbers show: whether the validation error rises, and whether early stopping paid here."""
    val = 1 - np.array(r["full"]["val_accuracy"])
    lo = int(np.argmin(val))
    rise = val[-1] - val[lo]
    out = [f"The validation error falls to {pct(val[lo])} at epoch {lo + 1} and "
           + (f"then rises to {pct(val[-1])} after epoch {len(val)}, as the network learns the wrong labels."
              if rise > 2 * standard_error(val[lo], n_val) else
              f"ends at {pct(val[-1])} after epoch {len(val)}: it does not rise.")]
    e_es, e_full = r["restored_test_error"], r["full_last_test_error"]
    se = standard_error(e_es, r["n_test"])
    stop = r["stopped_epoch"] or len(val)
    if e_full - e_es > 2 * se:
        out.append(f"Here early stopping pays: the restored weights' test error is {pct(e_es)}, against "
                   f"{pct(e_full)} after all {len(val)} epochs, {points(e_full, e_es)} or {num((e_full - e_es) / se)} "
                   f"standard errors lower, and training ended after epoch {stop} instead of {len(val)}.")
    elif abs(e_full - e_es) <= 2 * se:
        out.append(f"Here early stopping changes the test error by less than two standard errors ({pct(e_es)} "
                   f"against {pct(e_full)} after all epochs): it saves {len(val) - stop} epochs but regularises "
                   "nothing measurable.")
    else:
        out.append(f"Here early stopping hurts: the restored weights' test error is {pct(e_es)}, against "
                   f"{pct(e_full)} after all epochs.")
    return out
