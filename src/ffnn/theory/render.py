"""``theory.md`` from the report's data (``theory.json``): every number and every verdict chosen here.

Each part is one function of its slice of the data. The sentences that make a
claim about measured numbers come from the small ``*_claims`` functions,
which decide by comparing the numbers (with their standard errors) and are
tested against hand-made cases and the committed data.
"""
from __future__ import annotations

import math

import numpy as np

from .figures import FIGURES
from .overfitting import standard_error

__all__ = ["markdown", "trend", "size_claims", "complexity_claims", "early_stopping_claims", "TESTS"]

TESTS = "tests/test_theory.py"
TERM_TEX = {"1": "1", "x1": "x_1", "x2": "x_2", "x1^2": "x_1^2", "x2^2": "x_2^2", "x1*x2": "x_1x_2"}


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _sci(x: float) -> str:
    if x == 0:
        return "0"
    e = int(math.floor(math.log10(abs(x))))
    return f"{x / 10**e:.1f}\\times 10^{{{e}}}"


def _check(*refs: str) -> str:
    return " ".join(f"*Checked by `{TESTS}::{ref}`.*" for ref in refs)


def trend(first: float, last: float, tol: float) -> str:
    """``"rises"``, ``"falls"`` or ``"stays level"``: how ``last`` compares with ``first``, ``tol`` apart."""
    if last > first + tol:
        return "rises"
    if last < first - tol:
        return "falls"
    return "stays level"


# ---------------------------------------------------------------- claims, 1.3


def size_claims(r: dict, n_test: int) -> list[str]:
    """What (a)'s numbers show: the trend of each curve and of the gap between them."""
    tr, te, n = r["train_error"], r["test_error"], r["sizes"]
    tol = 2 * standard_error(max(te[-1], 1e-3), n_test)
    t_tr, t_te = trend(tr[0], tr[-1], tol), trend(te[0], te[-1], tol)
    gap0, gap1 = te[0] - tr[0], te[-1] - tr[-1]
    out = [f"The training error {t_tr} from {_pct(tr[0])} at $n = {n[0]:,}$ to {_pct(tr[-1])} at $n = {n[-1]:,}$ "
           f"(highest {_pct(max(tr))}); the test error {t_te} from {_pct(te[0])} to {_pct(te[-1])}; the gap "
           f"between them {'closes' if gap1 < gap0 - tol else 'does not close'}, from {_pct(gap0)} to {_pct(gap1)}."]
    if t_tr != "falls" and t_te == "falls":
        out.append("This is the textbook shape: a few images are easy to fit and say little about new ones; "
                   "many are harder to fit and more like the test set.")
    else:
        out.append("This is not the textbook shape (training error rising, test error falling): with this "
                   "budget the measurement does not show it.")
    return out


def complexity_claims(r: dict, n_test: int) -> list[str]:
    """What (b)'s numbers show: the shape of the test error, where training error hits 0, right of the line."""
    w, tr, te, c = r["widths"], r["train_error"], r["test_error"], r["chosen_index"]
    lo = int(np.argmin(te))
    se = standard_error(te[lo], n_test)
    out = []
    if 0 < lo < len(w) - 1 and te[-1] > te[lo] + 2 * se:
        out.append(f"The test error is U-shaped: it falls from {_pct(te[0])} at $h = {w[0]}$ to its lowest, "
                   f"{_pct(te[lo])} at $h = {w[lo]}$, then rises to {_pct(te[-1])} at $h = {w[-1]}$, "
                   f"{(te[-1] - te[lo]) / se:.1f} standard errors ({_pct(se)}) above the lowest.")
    else:
        out.append(f"The test error is not U-shaped: its lowest is {_pct(te[lo])} at $h = {w[lo]}$ and at "
                   f"$h = {w[-1]}$ it is {_pct(te[-1])}, within two standard errors ({_pct(se)}) of it.")
    zero = [h for h, e in zip(w, tr) if e == 0]
    out.append(f"From $h = {zero[0]}$ on the training error is 0: the network fits every training label, the "
               "wrong ones included." if zero else f"The training error falls to {_pct(min(tr))}, never 0.")
    if te[-1] > te[c] + 2 * se:
        fit = (f"lower the training error from {_pct(tr[c])} to {_pct(tr[-1])} but" if tr[c] > tr[-1] + 1e-9 else
               f"cannot lower the training error (already {_pct(tr[c])}) and")
        out.append(f"Right of the line, extra units {fit} raise the test error from {_pct(te[c])} to "
                   f"{_pct(te[-1])}: that is overfitting.")
    elif tr[c] > tr[-1] + 1e-9:
        out.append(f"Right of the line, extra units lower the training error from {_pct(tr[c])} to "
                   f"{_pct(tr[-1])} but not the test error ({_pct(te[c])} and {_pct(te[-1])}).")
    else:
        out.append(f"Right of the line, the training error is already {_pct(tr[c])} and extra units change the "
                   f"test error by less than two standard errors ({_pct(te[c])} to {_pct(te[-1])}).")
    return out


def early_stopping_claims(r: dict, n_val: int) -> list[str]:
    """What (c)'s numbers show: whether the validation error rises, and whether early stopping paid here."""
    val = 1 - np.array(r["full"]["val_accuracy"])
    lo = int(np.argmin(val))
    se_val = standard_error(val[lo], n_val)
    rise = val[-1] - val[lo]
    out = [f"The validation error falls to {_pct(val[lo])} at epoch {lo + 1} and "
           + (f"then rises to {_pct(val[-1])} after epoch {len(val)}, as the network learns the wrong labels."
              if rise > 2 * se_val else f"ends at {_pct(val[-1])} after epoch {len(val)}: it does not rise.")]
    e_es, e_full = r["restored_test_error"], r["full_last_test_error"]
    se = standard_error(e_es, r["n_test"])
    saved = len(val) - (r["stopped_epoch"] or len(val))
    if e_full - e_es > 2 * se:
        out.append(f"Here early stopping pays: the restored weights' test error is {_pct(e_es)}, against "
                   f"{_pct(e_full)} after all {len(val)} epochs, {(e_full - e_es) / se:.0f} standard errors "
                   f"lower, and training ended {saved} epochs sooner.")
    elif abs(e_full - e_es) <= 2 * se:
        out.append(f"Here early stopping changes the test error by less than two standard errors ({_pct(e_es)} "
                   f"against {_pct(e_full)} after all epochs): it saves {saved} epochs but regularises nothing "
                   "measurable.")
    else:
        out.append(f"Here early stopping hurts: the restored weights' test error is {_pct(e_es)}, against "
                   f"{_pct(e_full)} after all epochs.")
    return out


# ---------------------------------------------------------------- 1.1 and 1.2


def part_optimisation(d: dict) -> list[str]:
    pts = d["points"]
    rows = [f"| $({p['x']}, {p['y']})$ | ${p['value']}$ | ${p['hessian']}$ | ${p['det']}$ | ${p['f_xx']}$ "
            f"| {', '.join(f'{e:.3g}' for e in p['eigenvalues'])} | {p['kind']} |" for p in pts]
    by_kind = {k: [f"$({p['x']}, {p['y']})$" for p in pts if p["kind"] == k] for k in {p["kind"] for p in pts}}
    minima = [p for p in pts if p["kind"] == "local minimum"]
    verdicts = "; ".join(f"{', '.join(v)} {'is a' if len(v) == 1 else 'are'} {k}{'' if len(v) == 1 else 's'}"
                         for k, v in sorted(by_kind.items()))
    unbounded = (f"Along $x = y = t$, $f = {d['descent_path']}$, which tends to $-\\infty$ as $t \\to -\\infty$ "
                 "(sympy's limit), so $f$ has no global minimum"
                 + (f" and the local minimum ($f = {minima[0]['value']}$) is not a global one." if minima else ".")
                 if d["unbounded_below"] else "Along $x = y = t$, $f$ is bounded below.")
    return [
        "## 1. Optimisation: critical points of $f(x, y) = x^2y + xy^2 - 6xy$", "",
        "sympy differentiates $f$, solves $\\nabla f = 0$ and evaluates the Hessian at each solution. "
        "The gradient (factored) and the Hessian are", "",
        "$$", f"\\nabla f(x, y) = \\begin{{pmatrix}} {d['gradient'][0]} \\\\ {d['gradient'][1]} \\end{{pmatrix}},"
        f"\\qquad H(x, y) = {d['hessian']}.", "$$", "",
        f"Each component is a product, so $\\nabla f = 0$ has {len(pts)} solutions. The second-derivative test "
        "at a critical point: $\\det H < 0$ is a saddle point; $\\det H > 0$ with $f_{xx} > 0$ is a local "
        "minimum, with $f_{xx} < 0$ a local maximum; $\\det H = 0$ is inconclusive (the test says nothing; "
        "higher-order terms must be examined). "
        + ("No critical point here has $\\det H = 0$, so the test decides every one."
           if all(p["det_value"] != 0 for p in pts) else "Some critical point here has $\\det H = 0$."), "",
        "| point $(x, y)$ | $f$ | Hessian $H$ | $\\det H$ | $f_{xx}$ | eigenvalues of $H$ | classification |",
        "|---|---|---|---|---|---|---|", *rows, "",
        ("The eigenvalues (numerical) agree with every classification: both positive at the minimum, one of "
         "each sign at each saddle point." if all(
             (p["kind"] == "local minimum") == (p["eigenvalues"][0] > 0)
             and (p["kind"] == "saddle point") == (p["eigenvalues"][0] < 0 < p["eigenvalues"][-1]) for p in pts)
         else "The eigenvalues (numerical) disagree with a classification above."), "",
        f"So {verdicts}. {unbounded}", "",
        _check("test_optimisation_critical_points", "test_classify_second_derivative_test")
        + " The test substitutes each point into a gradient and a Hessian written out by hand.", "",
    ]


def part_activation(d: dict) -> list[str]:
    return [
        "## 2. Activation: the gradient of $\\mathrm{ReLU}(b + xw)$", "",
        "With $z = b + xw$ and $\\mathrm{ReLU}(z) = \\max(0, z)$, sympy's derivatives are", "",
        "$$", f"\\frac{{\\partial}}{{\\partial b}} \\max(0, b + xw) = {d['d_b']},\\qquad"
        f"\\frac{{\\partial}}{{\\partial w}} \\max(0, b + xw) = {d['d_w']},", "$$", "",
        "where $\\theta$ is the Heaviside step function (sympy's `Heaviside`), that is "
        "$\\partial/\\partial b = \\mathbf{1}[z > 0]$ and $\\partial/\\partial w = x\\,\\mathbf{1}[z > 0]$ for "
        "$z \\neq 0$ (for a vector input, $\\partial/\\partial w_j = x_j\\,\\mathbf{1}[z > 0]$).", "",
        f"**The kink.** At $z = 0$ ReLU has no derivative: the one-sided difference quotients tend to "
        f"${d['right_derivative']}$ from the right and ${d['left_derivative']}$ from the left (sympy's limits). "
        f"Numerically, with $h = 10^{{-6}}$ at $z = 0$, the forward difference gives {d['kink_right_difference']:g}, "
        f"the backward difference {d['kink_left_difference']:g} and the central difference "
        f"{d['kink_central_difference']:g}, a value that is neither one-sided derivative. The formula above is "
        f"therefore only a convention at $z = 0$: sympy's `Heaviside` uses $H(0) = {d['sympy_heaviside_at_0']}$; "
        "we use $0$, as PyTorch and TensorFlow do. Any value in $[0, 1]$ is a subgradient of the convex "
        "function ReLU, so each is a valid choice; $0$ keeps a unit that sits exactly at the kink silent, and "
        "with real-valued inputs $z = 0$ happens with probability zero.", "",
        f"**Check.** Against central differences ($h = 10^{{-6}}$) at {d['n_checks']} random points $(b, x, w)$ "
        f"with $x, w \\in \\mathbb{{R}}^{{{d['d']}}}$, all at least {d['min_distance_to_kink']:.3f} from the kink, "
        f"the largest absolute difference is ${_sci(d['max_abs_error'])}$.", "",
        _check("test_relu_gradient_matches_finite_differences", "test_relu_kink_has_no_derivative"), "",
    ]


# ------------------------------------------------------------------------ 1.3


def _schematic_text(key: str, what: str) -> list[str]:
    return [f"![schematic: {what}]({FIGURES[key]})", "",
            f"*Schematic:* the textbook shape of {what}, drawn by hand-chosen curves, not measured. "
            "Error points upward from a marked zero.", ""]


def part_overfitting_intro(s: dict, fast: bool) -> list[str]:
    test_set = ("the official 10,000-image test set" if s["n_test"] == 10000
                else f"the first {s['n_test']:,} test images")
    return [
        "## 3. Overfitting", "",
        "Each question gets two figures: a **schematic** with the shape the question describes, and a "
        "**measurement** from real training runs of the NumPy backend (`ffnn.backends.numpy_net`, built from a "
        "`TrainConfig`: sigmoid hidden layer, softmax output, cross-entropy, mini-batch SGD with batch size "
        f"{s['batch_size']} and learning rate {s['learning_rate']}, seed {s['seed']}), set up so that the effect "
        "has room to show, and described below by what its numbers show, shape or no shape. A training set of "
        "size $n$ is the first $n$ MNIST training images; the validation set is the last "
        f"{s['n_val']:,} training images with their true labels (never part of a training set); the test set is "
        f"{test_set}. Error means $1 - \\text{{accuracy}}$; a standard error is $\\sqrt{{e(1-e)/m}}$ for an error "
        "rate $e$ measured on $m$ images."
        + (" *This copy was built in fast mode (tiny subsets, few epochs): the curves show the mechanics, "
           "not the phenomena.*" if fast else ""), "",
    ]


def part_size(r: dict, s: dict) -> list[str]:
    rows = "\n".join(f"| {n:,} | {k:,} | {_pct(tr)} | {_pct(te)} |" for n, k, tr, te in
                     zip(r["sizes"], r["repeats"], r["train_error"], r["test_error"]))
    return [
        "### (a) Error against the amount of training data", "",
        *_schematic_text("schematic_size", "training and test error against the training-set size"),
        f"![measured: training and test error against training-set size]({FIGURES['size']})", "",
        f"**Measured.** A 784-{r['hidden']}-10 network trained on $n$ = {r['sizes'][0]:,} to {r['sizes'][-1]:,} "
        f"images. The training budget is the same for every $n$, so the size is the only variable: "
        f"{r['steps']:,} SGD steps of {r['batch_size']} images ({r['presentations']:,} images shown), the $n$ "
        f"images repeated {r['presentations']:,}$/n$ times and shuffled.", "",
        "| $n$ | times each image is shown | training error | test error |", "|---:|---:|---:|---:|", rows, "",
        "**How to read it.** The horizontal axis is logarithmic; the gap between the curves is the "
        "generalisation gap. " + " ".join(size_claims(r, s["n_test"])), "",
    ]


def part_complexity(r: dict, s: dict) -> list[str]:
    rows = "\n".join(f"| {h} | {_pct(tr)} | {_pct(v)} | {_pct(te)} |" for h, tr, v, te in
                     zip(r["widths"], r["train_error"], r["val_error"], r["test_error"]))
    ch = r["choice"]
    where = ("It sits at an extreme of the widths tried, so the axis is too short to show where capacity "
             "stops paying." if ch["at_extreme"] else
             f"It sits inside the range tried ({r['widths'][0]} to {r['widths'][-1]}), not at either extreme.")
    return [
        "### (b) Error against model complexity", "",
        *_schematic_text("schematic_complexity", "training and test error against model complexity"),
        f"![measured: training, validation and test error against hidden units]({FIGURES['complexity']})", "",
        f"**Measured.** 784-$h$-10 networks for $h$ = {', '.join(map(str, r['widths']))}, each trained for "
        f"{r['epochs']} epochs on the same {r['n']:,} images, of which {_pct(r['noisy_fraction'])} carry a wrong "
        "label (replaced at random by another class): few images and wrong labels give a large network "
        "something to overfit, which clean MNIST with thousands of images barely does. The training error is "
        "measured against the labels trained on; validation and test labels are the true ones.", "",
        "| hidden units $h$ | training error | validation error | test error |", "|---:|---:|---:|---:|", rows, "",
        f"**The vertical line** marks the most complex model the data supports, chosen by a stated rule: the "
        f"{r['rule']} (the one-standard-error rule). The lowest validation error is "
        f"{_pct(r['val_error'][ch['best_index']])} at $h = {ch['best_width']}$, its standard error "
        f"{_pct(ch['se'])}; the widths within one standard error are {', '.join(map(str, ch['within_se']))}, so "
        f"the line is at $h = {r['chosen_width']}$ (test error {_pct(r['test_error'][r['chosen_index']])}). "
        f"{where} The test set plays no part in the choice.", "",
        "**How to read it.** Hidden units on a log scale. Left of the line the model is too small "
        f"(underfitting): training and validation error are both high ({_pct(r['train_error'][0])} and "
        f"{_pct(r['val_error'][0])} at $h = {r['widths'][0]}$). " + " ".join(complexity_claims(r, s["n_test"])), "",
    ]


def part_early_stopping(r: dict, s: dict) -> list[str]:
    best, stop = r["best_epoch"], r["stopped_epoch"]
    stop_text = (f"training stopped after epoch {stop}, {r['patience']} epochs without improvement"
                 if stop else f"patience never ran out within {r['epochs']} epochs")
    same = abs(r["restored_val_error"] - r["recorded_best_val_error"]) < 1e-9  # 1 - accuracy, rounded differently
    return [
        "### (c) Error against training time, and early stopping", "",
        *_schematic_text("schematic_early_stopping", "training and validation error against epochs"),
        f"![measured: training and validation error and loss against epochs]({FIGURES['early_stopping']})", "",
        f"**Measured.** A 784-{r['hidden']}-10 network on (b)'s {r['n']:,} images with "
        f"{_pct(r['label_noise'])} wrong labels, for up to {r['epochs']} epochs, with early stopping on the "
        f"validation loss (patience {r['patience']}, best weights restored), and the same run without early "
        "stopping (same initial weights, same batches), drawn in full; the early-stopped history is "
        f"{'identical to' if r['prefix_identical'] else 'NOT identical to'} its first {len(r['es']['loss'])} epochs. "
        f"The validation loss is lowest at epoch {best}; {stop_text}. The restored weights' validation error, "
        f"measured again, is {_pct(r['restored_val_error'])} (loss {r['restored_val_loss']:.4f}), "
        + ("equal to" if same else "NOT equal to") + f" the error recorded at epoch {best}: the weights kept "
        + ("are" if same else "are not") + " the best epoch's.", "",
        "**What the numbers show.** " + " ".join(early_stopping_claims(r, s["n_val"])), "",
        "**Is early stopping a reasonable regulariser?** In general yes, with two caveats. Why: SGD starts from small "
        "weights, and the number of steps bounds how far it can move them, so stopping early limits how "
        "complex a function the network can become, much as a penalty on the weights' size does (for a "
        "quadratic loss and gradient descent the two are equivalent, with the penalty about $1/(\\eta t)$ "
        "after $t$ steps; Goodfellow, Bengio and Courville, *Deep Learning*, section 7.8). It needs no change "
        "to the loss or the model, picks its strength (the epoch) on held-out data, and saves the epochs after "
        "the best one. The caveats: it spends images on a validation set that could have been trained on, and "
        "it ties the regularisation to the optimiser (learning rate, batch size, patience), so it is one knob "
        "where weight decay and the number of epochs would be two.", "",
        _check("test_overfitting_runs", "test_claims_follow_the_numbers", "test_committed_report_matches_json"), "",
    ]


# ------------------------------------------------------------------------ 1.4


def _curvature_sentence(i: int, d: dict) -> str:
    c, loss = d["restart_curvature"][i], d["restart_losses"][i]
    eig = c["eigenvalues"]
    if c["kind"] == "saddle point":
        return (f"Start {i + 1} ends at loss {loss:.4f} with gradient norm ${_sci(c['grad_norm'])}$ and "
                f"{c['n_negative']} negative Hessian eigenvalue{'s' if c['n_negative'] > 1 else ''} (smallest "
                f"${_sci(eig[0])}$): a direction of descent, so it is not a local minimum but a saddle point: a "
                "nearly flat region where gradient descent barely moves.")
    if c["kind"] == "minimum up to flat directions":
        return (f"Start {i + 1} ends at loss {loss:.4f} with gradient norm ${_sci(c['grad_norm'])}$, {c['n_zero']} "
                f"zero eigenvalues (at most $|\\lambda| = {_sci(max(abs(v) for v in eig[:c['n_zero']]))}$, the "
                f"{d['flat_directions']} flat directions) and the others positive (smallest "
                f"${_sci(eig[c['n_zero']])}$): a minimum.")
    return (f"Start {i + 1} ends at loss {loss:.4f}, gradient norm ${_sci(c['grad_norm'])}$, smallest eigenvalue "
            f"${_sci(eig[0])}$: {c['kind']}.")


def part_capacity_construction(d: dict) -> list[str]:
    return [
        "## 4. Capacity: a two-unit network with $g(z) = z^2$ is logistic regression on $x_1x_2$", "",
        "The network has inputs $x = (x_1, x_2)$, two hidden units with activation $g(z) = z^2$ and a sigmoid "
        "output:", "", "$$", "h_j = \\big(w^{[1]}_{1j}x_1 + w^{[1]}_{2j}x_2 + b^{[1]}_j\\big)^2,\\qquad "
        "\\hat y = \\sigma\\big(v_1 h_1 + v_2 h_2 + c\\big).", "$$", "",
        "**Construction.** Since $(x_1 + x_2)^2 - (x_1 - x_2)^2 = 4x_1x_2$, take", "", "$$",
        "W^{[1]} = \\begin{pmatrix} 1 & 1 \\\\ 1 & -1 \\end{pmatrix},\\quad b^{[1]} = 0,\\quad "
        "v = \\left(\\tfrac{\\beta_1}{4}, -\\tfrac{\\beta_1}{4}\\right),\\quad c = \\beta_0,", "$$", "",
        "so $h_1 = (x_1 + x_2)^2$, $h_2 = (x_1 - x_2)^2$ and $v_1h_1 + v_2h_2 + c = \\beta_0 + \\beta_1x_1x_2$: the "
        "network outputs $\\sigma(\\beta_0 + \\beta_1 x_1 x_2)$ exactly. sympy simplifies the logit minus "
        f"$\\beta_0 + \\beta_1x_1x_2$ to ${d['symbolic_residual']}$; numerically, for {d['n_construction_checks']} "
        "random $(\\beta_0, \\beta_1)$ and 1,000 random inputs each, the largest difference between the network "
        f"and $\\sigma(\\beta_0 + \\beta_1x_1x_2)$ is ${_sci(d['construction_max_error'])}$ (rounding).", "",
    ]


def part_capacity_learning(d: dict) -> list[str]:
    c, mle6, bt = d["coefficients"], d["beta_mle_quadratic"], d["beta_true"]
    rows = "\n".join(f"| ${TERM_TEX[t]}$ | {({'1': bt[0], 'x1*x2': bt[1]}.get(t, 0.0)):.3f} | {c[t]:.3f} "
                     f"| {mle6[t]:.3f} |" for t in d["terms"])
    kinds = [cv["kind"] for cv in d["restart_curvature"]]
    return [
        "**Learning it.** Any such network's logit is a quadratic in $x$, $c + \\sum_j v_j(w^{[1]}_{1j}x_1 + "
        "w^{[1]}_{2j}x_2 + b_j)^2$, whose six coefficients can be read off the weights. We draw "
        f"{d['n_samples']:,} inputs $x \\sim \\mathcal N(0, I_2)$ and labels $y \\sim \\text{{Bernoulli}}"
        f"(\\sigma(\\beta_0 + \\beta_1x_1x_2))$ with $\\beta = ({bt[0]:g}, {bt[1]:g})$, and train all "
        f"{d['n_parameters']} weights by full-batch gradient descent on the mean log-loss ({d['steps']:,} steps, "
        f"learning rate {d['learning_rate']}) from {len(d['restart_losses'])} random starts. Final training "
        f"losses: {', '.join(f'{v:.4f}' for v in d['restart_losses'])}; the lowest (start {d['best_restart'] + 1}) "
        "is read back. Output weights $(v_1, v_2)$ of each start: "
        + ", ".join(f"$({v[0]:.2f}, {v[1]:.2f})$" for v in d["restart_v"]) + ".", "",
        "| term of the logit | true model | network after GD | logistic regression on all six terms (Newton) |",
        "|---|---:|---:|---:|", rows, "",
        f"The network recovers $\\hat\\beta_0 = {c['1']:.3f}$ and $\\hat\\beta_1 = {c['x1*x2']:.3f}$ against the "
        f"true $({bt[0]:g}, {bt[1]:g})$. It matches the maximum-likelihood logistic regression on the same six "
        "quadratic features, the best any weights can do on this sample; the remaining distance from the true "
        f"$\\beta$ is sampling noise (logistic regression on $(1, x_1x_2)$ alone gives "
        f"$({d['beta_mle'][0]:.3f}, {d['beta_mle'][1]:.3f})$).", "",
        f"**Where each start ends: the Hessian.** The loss is not convex in the weights. At each end point the "
        f"{d['n_parameters']}x{d['n_parameters']} Hessian (central differences of the exact gradient) is "
        "diagonalised; an eigenvalue counts as zero below $10^{-7}$ times the largest. The loss depends on the "
        f"{d['n_parameters']} weights only through the 6 coefficients of the logit, so at a minimum "
        f"{d['flat_directions']} directions are flat. "
        + " ".join(_curvature_sentence(i, d) for i in range(len(kinds)))
        + (" A start whose output weights share a sign gives a semidefinite quadratic form, which cannot "
           "represent $x_1x_2$: that is where such a start stalls." if any(
               k == "saddle point" and v[0] * v[1] > 0 for k, v in zip(kinds, d["restart_v"])) else ""), "",
        f"![gradient-descent loss of the z-squared network]({FIGURES['capacity']})", "",
        "**How to read it.** Training loss against gradient-descent steps (log scale), one curve per random "
        "start, labelled with its Hessian's verdict; the dashed line is the loss of the maximum-likelihood "
        f"quadratic logistic regression, {d['loss_mle_quadratic']:.5f}; the start read back ends at "
        f"{d['loss_end']:.5f}.", "",
        _check("test_capacity_construction", "test_capacity_recovers_beta", "test_capacity_hessian"), "",
    ]


# ------------------------------------------------------------------------ 1.5


def part_backprop_derivation(d: dict) -> list[str]:
    return [
        "## 5. Backpropagation through two ReLU layers, a softmax and the quadratic loss", "",
        "**Notation (the problem set's).** One sample $x \\in \\mathbb{R}^{n_0}$ (a column), $h^{[0]} = x$; "
        "$w^{[l]}_{ij}$ is the weight from unit $j$ of layer $l-1$ to unit $i$ of layer $l$:", "", "$$",
        "a^{[l]} = W^{[l]}h^{[l-1]} + b^{[l]},\\quad h^{[l]} = \\mathrm{ReLU}(a^{[l]})\\ (l = 1, 2),\\qquad "
        "z = W^{[3]}h^{[2]} + b^{[3]},\\quad \\hat y = \\mathrm{softmax}(z),\\qquad "
        "L = \\tfrac12 \\sum_{k=1}^{K} (y_k - \\hat y_k)^2 .", "$$", "",
        "| this report and the problem set | common textbook notation | `ffnn.theory.backprop` |",
        "|---|---|---|",
        "| $a^{[l]}$, before the ReLU | $z^{[l]}$ | `zs[l-1]` |",
        "| $h^{[l]}$, after the ReLU | $a^{[l]}$ | `acts[l]` |",
        "| $z$, the softmax's input | $z^{[3]}$ | `zs[2]` |",
        "| $w^{[l]}_{ij}$ | $w^{[l]}_{ij}$ | `weights[l-1][0][j, i]` |",
        "", "**The update.** Gradient descent with learning rate $\\eta$ moves every weight against its gradient, "
        "evaluated at the current parameters $\\theta^{(r)}$:", "", "$$",
        "w^{[1](r+1)}_{ij} = w^{[1](r)}_{ij} - \\eta\\,\\frac{\\partial L}{\\partial w^{[1]}_{ij}}\\bigg|_{\\theta = "
        "\\theta^{(r)}} .", "$$", "",
        "**The chain rule, every sum written out.** $w^{[1]}_{ij}$ reaches $L$ through $a^{[1]}_i$ only, then "
        "through every unit $m$ of layer 2, every input $z_k$ of the softmax and every output $\\hat y_c$:", "",
        "$$", "\\frac{\\partial L}{\\partial w^{[1]}_{ij}} = \\sum_{c=1}^{K}\\sum_{k=1}^{K}\\sum_{m}"
        "\\frac{\\partial L}{\\partial \\hat y_c}\\,\\frac{\\partial \\hat y_c}{\\partial z_k}\\,"
        "\\frac{\\partial z_k}{\\partial h^{[2]}_m}\\,\\frac{\\partial h^{[2]}_m}{\\partial a^{[2]}_m}\\,"
        "\\frac{\\partial a^{[2]}_m}{\\partial h^{[1]}_i}\\,\\frac{\\partial h^{[1]}_i}{\\partial a^{[1]}_i}\\,"
        "\\frac{\\partial a^{[1]}_i}{\\partial w^{[1]}_{ij}},", "$$", "", "with the seven factors", "", "$$",
        "\\frac{\\partial L}{\\partial \\hat y_c} = \\hat y_c - y_c,\\quad "
        "\\frac{\\partial \\hat y_c}{\\partial z_k} = \\hat y_c(\\mathbf{1}[c = k] - \\hat y_k),\\quad "
        "\\frac{\\partial z_k}{\\partial h^{[2]}_m} = w^{[3]}_{km},\\quad "
        "\\frac{\\partial h^{[2]}_m}{\\partial a^{[2]}_m} = \\mathbf{1}[a^{[2]}_m > 0],", "$$", "", "$$",
        "\\frac{\\partial a^{[2]}_m}{\\partial h^{[1]}_i} = w^{[2]}_{mi},\\quad "
        "\\frac{\\partial h^{[1]}_i}{\\partial a^{[1]}_i} = \\mathbf{1}[a^{[1]}_i > 0],\\quad "
        "\\frac{\\partial a^{[1]}_i}{\\partial w^{[1]}_{ij}} = x_j .", "$$", "",
        "The softmax factor is the full Jacobian $J = \\mathrm{diag}(\\hat y) - \\hat y\\hat y^\\top$: every "
        "output depends on every input through the shared normaliser. So the update is", "", "$$",
        "w^{[1](r+1)}_{ij} = w^{[1](r)}_{ij} - \\eta\\, x_j\\, \\mathbf{1}[a^{[1]}_i > 0] \\sum_m w^{[2]}_{mi}\\,"
        "\\mathbf{1}[a^{[2]}_m > 0] \\sum_k w^{[3]}_{km} \\sum_c (\\hat y_c - y_c)\\,\\hat y_c(\\mathbf{1}[c = k] - "
        "\\hat y_k),", "$$", "",
        "every quantity on the right evaluated at $\\theta^{(r)}$ (averaged over the samples of a mini-batch). "
        "The ReLU derivative at $a = 0$ is taken as $0$ (part 2). This triple sum is implemented as written "
        "(`ffnn.theory.backprop.first_layer_gradient_explicit`, one `einsum` over the seven factors) and agrees "
        f"with the recursion below to ${_sci(d['explicit_sum_error'])}$ (relative, rounding).", "",
    ]


def part_backprop_deltas(d: dict) -> list[str]:
    return [
        "**Condensed into deltas.** Name the partial sums $\\delta_k = \\partial L/\\partial z_k$ and "
        "$\\delta^{[l]}_i = \\partial L/\\partial a^{[l]}_i$; the sums above nest, so each layer reuses the "
        "next one's:", "", "$$",
        "\\delta_k = \\sum_{c=1}^{K} (\\hat y_c - y_c)\\,\\hat y_c(\\mathbf{1}[c = k] - \\hat y_k) "
        "= \\hat y_k\\Big((\\hat y_k - y_k) - \\sum_{c=1}^{K}\\hat y_c(\\hat y_c - y_c)\\Big),", "$$", "", "$$",
        "\\delta^{[2]}_m = \\mathbf{1}[a^{[2]}_m > 0]\\sum_{k} w^{[3]}_{km}\\,\\delta_k,\\qquad "
        "\\delta^{[1]}_i = \\mathbf{1}[a^{[1]}_i > 0]\\sum_{m} w^{[2]}_{mi}\\,\\delta^{[2]}_m,\\qquad "
        "\\frac{\\partial L}{\\partial w^{[1]}_{ij}} = \\delta^{[1]}_i\\, x_j,", "$$", "",
        "so $w^{[1](r+1)}_{ij} = w^{[1](r)}_{ij} - \\eta\\,\\delta^{[1]}_i x_j$ and "
        "$b^{[1](r+1)}_i = b^{[1](r)}_i - \\eta\\,\\delta^{[1]}_i$. sympy confirms the $\\delta_k$ formula for "
        "$K = 3$: $\\partial L/\\partial z_k$ minus the formula simplifies to "
        f"${', '.join(d['delta3_residual'])}$ for $k = 1, 2, 3$.", "",
        "**Common mistakes.** Two hand derivations go wrong at the softmax:", "",
        "- *Treating the softmax's derivative as 1*, i.e. $\\delta = \\hat y - y$. That is the right $\\delta$ "
        "for softmax with **cross-entropy**, where the Jacobian cancels; with the quadratic loss it does not.",
        "- *Dropping the sum over classes*, i.e. using only the diagonal of $J$: "
        "$\\delta_k = \\hat y_k(1 - \\hat y_k)(\\hat y_k - y_k)$, as for independent sigmoid outputs; the "
        "off-diagonal terms $-\\hat y_c\\hat y_k$ matter.", "",
    ]


def part_backprop_checks(d: dict) -> list[str]:
    full, ident, diag = (d["errors"][v] for v in ("full", "identity", "diagonal"))
    torch = d["torch_errors"]
    rows = "\n".join(
        f"| {'-'.join(map(str, s['sizes']))} | {s['batch']} | ${_sci(full[i])}$ | ${_sci(ident[i])}$ | "
        f"${_sci(diag[i])}$ | " + (f"${_sci(torch[i])}$ |" if torch is not None else "n/a |")
        for i, s in enumerate(d["shapes"]))
    ex = d["update_example"]
    return [
        "All three versions are implemented (`ffnn.theory.backprop.gradients(..., softmax=\"full\" | "
        "\"identity\" | \"diagonal\")`) and compared, over every weight and bias of all three layers, with "
        "central differences ($h = 10^{-6}$, float64) on random networks $n_0$-$h_1$-$h_2$-$K$ and batches "
        "(relative error $\\lVert g - g_{fd}\\rVert / (\\lVert g\\rVert + \\lVert g_{fd}\\rVert)$), and the "
        "correct one also with PyTorch autograd:", "",
        "| shape | batch | correct vs FD | \"softmax' = 1\" vs FD | diagonal $J$ vs FD | correct vs PyTorch |",
        "|---|---:|---:|---:|---:|---:|", rows, "",
        f"The correct recursion agrees with finite differences to at most ${_sci(max(full))}$ (the finite "
        "differences' own error) and with autograd to "
        + (f"${_sci(max(torch))}$ (rounding)" if torch is not None else "(PyTorch not installed)")
        + f"; the two mistakes are off by ${_sci(min(ident))}$ to ${_sci(max(ident))}$ and ${_sci(min(diag))}$ "
        f"to ${_sci(max(diag))}$: wrong gradients, not rounding.", "",
        f"One update on a {'-'.join(map(str, ex['sizes']))} network and one sample with $\\eta = {ex['eta']}$ "
        f"changes only $W^{{[1]}}$ and {'lowers' if ex['loss_after'] < ex['loss_before'] else 'does not lower'} "
        f"the loss from {ex['loss_before']:.6f} to {ex['loss_after']:.6f}.", "",
        _check("test_backprop_matches_finite_differences", "test_backprop_matches_torch_autograd",
               "test_backprop_mistakes_disagree", "test_backprop_explicit_sums"), "",
    ]


# ---------------------------------------------------------------------- all


def markdown(data: dict) -> str:
    """The whole of ``theory.md`` for the report's ``data``."""
    over, s = data["overfitting"], data["overfitting"]["settings"]
    mode = "`ffnn theory --out DIR --fast`" if data["fast"] else "`ffnn theory --out DIR`"
    lines = [
        "# Theory: part 1 of the problem set, derived, checked and measured", "",
        f"Generated by {mode} (`make theory` for `docs/theory/`) from the numbers in `theory.json` beside this "
        "file. Every formula, number and verdict below is computed when the report is built: derived with "
        "sympy, checked numerically, or measured in real training runs, and each is checked against an "
        f"independently computed value in `{TESTS}`.", "",
        *part_optimisation(data["optimisation"]), *part_activation(data["activation"]),
        *part_overfitting_intro(s, data["fast"]), *part_size(over["size"], s),
        *part_complexity(over["complexity"], s), *part_early_stopping(over["early_stopping"], s),
        *part_capacity_construction(data["capacity"]), *part_capacity_learning(data["capacity"]),
        *part_backprop_derivation(data["backprop"]), *part_backprop_deltas(data["backprop"]),
        *part_backprop_checks(data["backprop"]),
    ]
    return "\n".join(lines)
