"""Assemble ``theory.md`` and its figures from what the other modules compute.

Every number, formula and verdict below is formatted from a computed result
(sympy, a numerical check or a training run); the text around them only
explains. :func:`collect` computes, :func:`write_report` writes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sympy as sp

from . import activation, backprop, capacity, optimisation, overfitting

__all__ = ["Results", "collect", "write_report", "FIGURES"]

#: The figures written next to ``theory.md``.
FIGURES = {"size": "overfitting_size.png", "complexity": "overfitting_complexity.png",
           "early_stopping": "overfitting_early_stopping.png", "capacity": "capacity_gd.png"}

TESTS = "tests/test_theory.py"

TERM_TEX = {"1": "1", "x1": "x_1", "x2": "x_2", "x1^2": "x_1^2", "x2^2": "x_2^2", "x1*x2": "x_1x_2"}


@dataclass
class Results:
    fast: bool
    optimisation: optimisation.OptimisationResult
    activation: activation.ActivationResult
    size: dict
    complexity: dict
    early_stopping: dict
    capacity: capacity.CapacityResult
    backprop: backprop.BackpropResult
    delta3_residual: list
    settings: overfitting.Settings


def collect(fast: bool = False, cache_dir: Path | None = None, verbose: int = 1) -> Results:
    """Run every derivation, check and experiment; ``cache_dir=None`` reruns the trainings."""
    say = print if verbose else (lambda *a, **k: None)
    say("part 1: optimisation (sympy)")
    opt = optimisation.analyse()
    say("part 2: ReLU gradient")
    act = activation.analyse(n_checks=50 if fast else 500)
    settings = overfitting.FAST if fast else overfitting.FULL
    say(f"part 3: overfitting ({'fast' if fast else 'full'} runs; cache: {cache_dir or 'off'})")
    sets = overfitting.load_sets(settings)
    size = overfitting.size_curve(settings, sets, cache_dir, verbose)
    complexity = overfitting.complexity_curve(settings, sets, cache_dir, verbose)
    early = overfitting.early_stopping_run(settings, sets, cache_dir, verbose)
    say("part 4: capacity (z^2 network)")
    cap = (capacity.analyse(n_samples=3000, steps=1500, restarts=3) if fast
           else capacity.analyse(n_samples=10000, steps=2000, restarts=4))
    say("part 5: backpropagation")
    bp = backprop.analyse(n_problems=4 if fast else 12)
    return Results(fast, opt, act, size, complexity, early, cap, bp, backprop.symbolic_delta3_residual(3), settings)


# ------------------------------------------------------------------ formatting


def _l(expr) -> str:
    return sp.latex(expr)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _sci(x: float) -> str:
    if x == 0:
        return "0"
    e = int(math.floor(math.log10(abs(x))))
    return f"{x / 10**e:.1f}\\times 10^{{{e}}}"


def _check(ref: str) -> str:
    return f"*Checked by `{TESTS}::{ref}`.*"


# ---------------------------------------------------------------------- parts


def _part_optimisation(r: optimisation.OptimisationResult) -> list[str]:
    x, y = r.symbols
    rows = []
    for p in r.points:
        rows.append(f"| $({_l(p.x)}, {_l(p.y)})$ | ${_l(p.value)}$ | ${_l(p.hessian)}$ | ${_l(p.det)}$ "
                    f"| ${_l(p.f_xx)}$ | {p.kind} |")
    minima = [p for p in r.points if p.kind == "local minimum"]
    saddles = [p for p in r.points if p.kind == "saddle point"]
    t = sp.symbols("t", real=True)
    limit_text = "tends to $-\\infty$ as $t \\to -\\infty$" if r.unbounded_below else "is bounded below"
    return [
        "## 1. Optimisation: critical points of $f(x, y) = x^2y + xy^2 - 6xy$",
        "",
        "sympy differentiates $f$, solves $\\nabla f = 0$ and evaluates the Hessian at each solution. "
        "The gradient (factored) is",
        "",
        "$$",
        f"\\nabla f(x, y) = \\begin{{pmatrix}} {_l(r.gradient[0])} \\\\ {_l(r.gradient[1])} \\end{{pmatrix}},"
        f"\\qquad H(x, y) = {_l(r.hessian)}.",
        "$$",
        "",
        f"Each component is a product, so $\\nabla f = 0$ has {len(r.points)} solutions. The second-derivative "
        "test: $\\det H < 0$ is a saddle point; $\\det H > 0$ with $f_{xx} > 0$ a local minimum, with "
        "$f_{xx} < 0$ a local maximum.",
        "",
        "| point $(x, y)$ | $f$ | Hessian $H$ | $\\det H$ | $f_{xx}$ | classification |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        f"So {', '.join(f'$({_l(p.x)}, {_l(p.y)})$' for p in saddles)} are saddle points and "
        f"{', '.join(f'$({_l(p.x)}, {_l(p.y)})$' for p in minima)} is a local minimum with "
        f"$f = {_l(minima[0].value) if minima else ''}$. It is not a global minimum: along $x = y = t$, "
        f"$f = {_l(r.descent_path.subs(sp.Symbol('t', real=True), t))}$, which "
        f"{limit_text} "
        "(sympy's limit), so $f$ has no global minimum.",
        "",
        _check("test_optimisation_critical_points") + " The test substitutes each point into a gradient and "
        "a Hessian written out by hand and recomputes every determinant.",
        "",
    ]


def _part_activation(r: activation.ActivationResult) -> list[str]:
    return [
        "## 2. Activation: the gradient of $\\mathrm{ReLU}(b + xw)$",
        "",
        "With $z = b + xw$ and $\\mathrm{ReLU}(z) = \\max(0, z)$, sympy's derivatives are",
        "",
        "$$",
        f"\\frac{{\\partial}}{{\\partial b}} \\max(0, b + xw) = {_l(r.d_b)},\\qquad"
        f"\\frac{{\\partial}}{{\\partial w}} \\max(0, b + xw) = {_l(r.d_w)},",
        "$$",
        "",
        "where $\\theta$ is the Heaviside step function (sympy's `Heaviside`), "
        "that is $\\partial/\\partial b = \\mathbf{1}[z > 0]$ and $\\partial/\\partial w = x\\,\\mathbf{1}[z > 0]$ "
        "for $z \\neq 0$ (for a vector input, $\\partial/\\partial w_j = x_j\\,\\mathbf{1}[z > 0]$).",
        "",
        f"**The kink.** At $z = 0$ ReLU has no derivative: the one-sided difference quotients tend to "
        f"${_l(r.right_derivative)}$ from the right and ${_l(r.left_derivative)}$ from the left (sympy's limits). "
        f"Numerically, with $h = 10^{{-6}}$ at $z = 0$, the forward difference gives {r.kink_right_difference:g}, "
        f"the backward difference {r.kink_left_difference:g} and the central difference "
        f"{r.kink_central_difference:g}, a value that is neither one-sided derivative. The formula above is "
        f"therefore only a convention at $z = 0$: sympy's `Heaviside` uses "
        f"$H(0) = {_l(r.sympy_heaviside_at_0)}$; we use $0$, as PyTorch and TensorFlow do. Any value in $[0, 1]$ "
        "is a subgradient of the convex function ReLU, so each is a valid choice; $0$ keeps a unit that sits "
        "exactly at the kink silent (no update through it), and with real-valued inputs $z = 0$ "
        "happens with probability zero, so the choice almost never changes a training run.",
        "",
        f"**Check.** Against central differences ($h = 10^{{-6}}$) at {r.n_checks} random points "
        f"$(b, x, w)$ with $x, w \\in \\mathbb{{R}}^{{{r.d}}}$, all at least {r.min_distance_to_kink:.3f} from the "
        f"kink, the largest absolute difference is ${_sci(r.max_abs_error)}$.",
        "",
        _check("test_relu_gradient_matches_finite_differences") + " "
        + _check("test_relu_kink_has_no_derivative"),
        "",
    ]


def _part_overfitting(size: dict, cx: dict, es: dict, s: overfitting.Settings, fast: bool) -> list[str]:
    n_min, n_max = size["sizes"][0], size["sizes"][-1]
    i_best = cx["best_index"]
    after = cx["val_error"][i_best + 1:]
    hidden_after = cx["hidden"][i_best + 1:]
    if after:
        spread = (_pct(min(after)) if _pct(min(after)) == _pct(max(after))
                  else f"between {_pct(min(after))} and {_pct(max(after))}")
        train_after = max(cx["train_error"][i_best + 1:])
        beyond = (f"Beyond it (up to {hidden_after[-1]} units) the validation error is {spread} while the "
                  f"training error is {'0' if train_after == 0 else f'at most {_pct(train_after)}'}.")
    else:
        beyond = "It is the largest width tried, so the data may support an even larger model."
    zero = [h for h, e in zip(cx["hidden"], cx["train_error"]) if e == 0]
    fit_text = (f"From $h = {zero[0]}$ on the training error is 0: the network memorises its training set."
                if zero else f"The training error falls to {_pct(min(cx['train_error']))}.")
    best, stop = es["best_epoch"], es["stopped_epoch"]
    rows_size = "\n".join(f"| {n:,} | {e} | {_pct(tr)} | {_pct(te)} |" for n, e, tr, te in
                          zip(size["sizes"], size["epochs"], size["train_error"], size["test_error"]))
    rows_cx = "\n".join(f"| {h} | {_pct(tr)} | {_pct(v)} | {_pct(te)} |" for h, tr, v, te in
                        zip(cx["hidden"], cx["train_error"], cx["val_error"], cx["test_error"]))
    val_err = [1 - a for a in es["full"]["val_accuracy"]]
    min_err_epoch = int(np.argmin(val_err)) + 1
    e_test = es["restored_test_error"]
    test_se = math.sqrt(e_test * (1 - e_test) / s.n_test)
    stop_text = (f"training stopped after epoch {stop}, {es['patience']} epochs without improvement"
                 if stop else f"patience never ran out within {es['epochs']} epochs")
    return [
        "## 3. Overfitting, measured",
        "",
        "Every curve below comes from real training runs of the NumPy backend "
        f"(`ffnn.backends.numpy_net.NeuralNetwork`: sigmoid hidden layer, softmax output, cross-entropy, "
        f"mini-batch SGD with batch size {s.batch_size} and learning rate {s.learning_rate}, seed {s.seed}). "
        "A training set of size $n$ is the first $n$ MNIST training images; the validation set is the last "
        f"{s.n_val:,} training images (never part of a training set here); the test set is "
        f"{'the official 10,000-image test set' if s.n_test == 10000 else f'the first {s.n_test:,} test images'}. "
        "Error means $1 - \\text{accuracy}$."
        + (" *This copy was built in fast mode (tiny subsets, few epochs): the curves show the mechanics, "
           "not the phenomena.*" if fast else ""),
        "",
        "### (a) Error against the amount of training data",
        "",
        f"![training and test error against training-set size]({FIGURES['size']})",
        "",
        f"A 784-{size['hidden']}-10 network trained on $n$ = {n_min:,} to {n_max:,} images, each for "
        f"$\\min(\\max(\\lceil {s.size_steps} B / n \\rceil, {s.min_epochs}), {s.size_max_epochs})$ epochs with "
        f"batch size $B = \\min({s.batch_size}, n)$: about {s.size_steps:,} SGD steps where the bounds allow.",
        "",
        "| $n$ | epochs | training error | test error |",
        "|---:|---:|---:|---:|",
        rows_size,
        "",
        "**How to read it.** The horizontal axis is logarithmic. The gap between the two curves is the "
        "generalisation gap. With few samples the network fits its training set almost perfectly "
        f"(training error {_pct(size['train_error'][0])} at $n = {n_min}$) but the test error is high "
        f"({_pct(size['test_error'][0])}): it has memorised the samples, not learned the digits. As $n$ grows "
        "the training set becomes harder to memorise and more like the test distribution, so the training "
        "error rises or stays near zero while the test error falls, and the gap closes "
        f"(test error {_pct(size['test_error'][-1])} at $n$ = {n_max:,}, gap "
        f"{_pct(size['test_error'][-1] - size['train_error'][-1])}). More data is the most reliable cure for "
        "overfitting.",
        "",
        "### (b) Error against model complexity",
        "",
        f"![training, validation and test error against hidden units]({FIGURES['complexity']})",
        "",
        f"784-$h$-10 networks for $h$ = {', '.join(map(str, cx['hidden']))}, each trained for {cx['epochs']} "
        f"epochs on the same {cx['n']:,} images:",
        "",
        "| hidden units $h$ | training error | validation error | test error |",
        "|---:|---:|---:|---:|",
        rows_cx,
        "",
        "**How the vertical line is chosen.** The most complex model the data supports is the width with the "
        f"lowest *validation* error (ties go to the smaller width): here $h = {cx['best_hidden']}$ "
        f"(validation error {_pct(cx['val_error'][i_best])}, test error {_pct(cx['test_error'][i_best])}). "
        "The test set plays no part in the choice, so its error at the line is an honest estimate. "
        f"The validation error's standard error is about {_pct(cx['val_se'])} "
        f"($\\sqrt{{e(1-e)/n_{{val}}}}$), and the widths within one standard error of the minimum are "
        f"{', '.join(map(str, cx['within_se']))}: differences smaller than that are noise. {beyond}",
        "",
        "**How to read it.** The horizontal axis is the number of hidden units on a log scale. Left of the "
        "line the model is too small (underfitting): training and validation error are both high and fall "
        f"together as units are added (from {_pct(cx['train_error'][0])} and {_pct(cx['val_error'][0])} at "
        f"$h = {cx['hidden'][0]}$). {fit_text} Right of the line, extra units no longer lower the error on images "
        "the network was not trained on, only on the ones it was: the gap between training and test error at "
        f"the largest width, {_pct(cx['test_error'][-1] - cx['train_error'][-1])}, is overfitting. "
        "With SGD stopped after a fixed number of epochs, the validation error of a too-large network levels "
        "off rather than rising sharply; the line marks where more capacity stops paying.",
        "",
        "### (c) Error against training time, and early stopping",
        "",
        f"![training and validation error and loss against epochs]({FIGURES['early_stopping']})",
        "",
        f"A 784-{es['hidden']}-10 network on {es['n']:,} images for up to {es['epochs']} epochs, with early "
        f"stopping on the validation loss (patience {es['patience']}, best weights restored). The same run "
        "without early stopping (same initial weights, same batches) is drawn in full; the early-stopped "
        f"history is {'identical to' if es['prefix_identical'] else 'NOT identical to'} its first "
        f"{len(es['es']['loss'])} epochs.",
        "",
        f"- The validation loss is lowest at epoch {best}; {stop_text}.",
        f"- After training, the model's validation error was measured again from its weights: "
        f"{_pct(es['restored_val_error'])} (loss {es['restored_val_loss']:.4f}), equal to the error recorded at "
        f"epoch {best}, {_pct(es['recorded_best_val_error'])} (loss {es['recorded_best_val_loss']:.4f}), "
        f"and not the error at the last epoch trained, {_pct(es['last_val_error'])}: the weights restored "
        "are the best epoch's.",
        f"- Test error with the restored weights: {_pct(es['restored_test_error'])}; after all "
        f"{es['epochs']} epochs without early stopping: {_pct(es['full_last_test_error'])}"
        + (f", a difference within the test error's standard error of about {_pct(test_se)}: on this run "
           "early stopping mainly saves the epochs after the dotted line."
           if abs(es['restored_test_error'] - es['full_last_test_error']) <= test_se else "."),
        f"- The validation *error* (rather than loss) is lowest at epoch {min_err_epoch}"
        + (": the loss can rise once the network grows over-confident on the images it gets wrong, even "
           "while the error changes little, so the two criteria can pick different epochs."
           if min_err_epoch != best else ", the same epoch."),
        "",
        "**How to read it.** Both panels share the epoch axis; the curves are the run without early stopping. "
        f"The training error falls from {_pct(1 - es['full']['accuracy'][0])} to "
        f"{_pct(1 - es['full']['accuracy'][-1])} and the training loss from {es['full']['loss'][0]:.3f} to "
        f"{es['full']['loss'][-1]:.3f}: with enough epochs the network memorises its small training set. "
        f"The validation loss falls to {es['full']['val_loss'][best - 1]:.3f} at the dashed line (epoch {best}) "
        f"and ends at {es['full']['val_loss'][-1]:.3f} after epoch {len(es['full']['val_loss'])}: from the "
        "dashed line on, more training fits the training set at the expense of unseen images. Early stopping "
        "keeps the weights of the dashed line (the star re-measures them) and stops training at the dotted "
        f"line, once the validation loss has not improved for {es['patience']} epochs.",
        "",
        _check("test_overfitting_runs") + " The test retrains in fast mode, recomputes the best epoch and "
        "the validation error of the restored weights with its own forward pass, and checks the choice of "
        "the vertical line.",
        "",
    ]


def _part_capacity(r: capacity.CapacityResult) -> list[str]:
    c = r.coefficients
    mle6 = r.beta_mle_quadratic
    rows = "\n".join(f"| ${TERM_TEX[t]}$ | {('%.3f' % {'1': r.beta_true[0], 'x1*x2': r.beta_true[1]}.get(t, 0.0))} "
                     f"| {c[t]:.3f} | {mle6[t]:.3f} |" for t in capacity.QUADRATIC_TERMS)
    restarts = ", ".join(f"{loss:.4f}" for loss in r.restart_losses)
    return [
        "## 4. Capacity: a two-unit network with $g(z) = z^2$ is logistic regression on $x_1x_2$",
        "",
        "The network has inputs $x = (x_1, x_2)$, two hidden units with activation $g(z) = z^2$ and a "
        "sigmoid output:",
        "",
        "$$",
        "h_j = \\big(w^{[1]}_{1j}x_1 + w^{[1]}_{2j}x_2 + b^{[1]}_j\\big)^2,\\qquad "
        "\\hat y = \\sigma\\big(v_1 h_1 + v_2 h_2 + c\\big).",
        "$$",
        "",
        "**Construction.** Since $(x_1 + x_2)^2 - (x_1 - x_2)^2 = 4x_1x_2$, take",
        "",
        "$$",
        "W^{[1]} = \\begin{pmatrix} 1 & 1 \\\\ 1 & -1 \\end{pmatrix},\\quad b^{[1]} = 0,\\quad "
        "v = \\left(\\tfrac{\\beta_1}{4}, -\\tfrac{\\beta_1}{4}\\right),\\quad c = \\beta_0,",
        "$$",
        "",
        "so $h_1 = (x_1 + x_2)^2$, $h_2 = (x_1 - x_2)^2$ and $v_1h_1 + v_2h_2 + c = \\beta_0 + \\beta_1x_1x_2$: "
        "the network outputs $\\sigma(\\beta_0 + \\beta_1 x_1 x_2)$ exactly. sympy simplifies the logit minus "
        f"$\\beta_0 + \\beta_1x_1x_2$ to ${_l(r.symbolic_residual)}$; numerically, for "
        f"{r.n_construction_checks} random $(\\beta_0, \\beta_1)$ and 1,000 random inputs each, the largest "
        f"difference between the network and $\\sigma(\\beta_0 + \\beta_1x_1x_2)$ is ${_sci(r.construction_max_error)}$ "
        "(rounding).",
        "",
        "**Learning it.** The converse: any such network's logit is a quadratic in $x$, "
        "$c + \\sum_j v_j(w^{[1]}_{1j}x_1 + w^{[1]}_{2j}x_2 + b_j)^2$, whose coefficients can be read off the "
        f"weights. We draw {r.n_samples:,} inputs $x \\sim \\mathcal N(0, I_2)$ and labels "
        f"$y \\sim \\text{{Bernoulli}}(\\sigma(\\beta_0 + \\beta_1x_1x_2))$ with $\\beta = ({r.beta_true[0]:g}, "
        f"{r.beta_true[1]:g})$, and train all eight weights by full-batch gradient descent on the mean log-loss "
        f"({r.steps:,} steps, learning rate {r.learning_rate}) from {len(r.restart_losses)} random starts. "
        f"Final training losses: {restarts}; the lowest (start {r.best_restart + 1}) is read back. "
        "The loss is not convex in the weights: a start whose two output weights $v_1, v_2$ end with the "
        "same sign gives a semidefinite quadratic form, which cannot represent $x_1x_2$, and stalls at a "
        "higher loss. Output weights of each start: "
        + ", ".join(f"$({v[0]:.2f}, {v[1]:.2f})$" for v in r.restart_v) + ".",
        "",
        "| term of the logit | true model | network after GD | logistic regression on all six terms (Newton) |",
        "|---|---:|---:|---:|",
        rows,
        "",
        f"The network recovers $\\hat\\beta_0 = {c['1']:.3f}$ and $\\hat\\beta_1 = {c['x1*x2']:.3f}$ against the true "
        f"$({r.beta_true[0]:g}, {r.beta_true[1]:g})$; the other terms are near zero. It matches the "
        "maximum-likelihood fit of a logistic regression on the same six quadratic features, which is the "
        "best any weights can do on this sample; the remaining distance from the true $\\beta$ is sampling "
        f"noise (logistic regression on $(1, x_1x_2)$ alone gives $({r.beta_mle[0]:.3f}, {r.beta_mle[1]:.3f})$).",
        "",
        f"![gradient-descent loss of the z-squared network]({FIGURES['capacity']})",
        "",
        "**How to read it.** Training loss against gradient-descent steps (log scale), one curve per random "
        "start; a curve that levels off above the others is a start caught in a local minimum. The dashed line is the loss of the maximum-likelihood quadratic "
        f"logistic regression, {r.loss_mle_quadratic:.5f}; the start read back ends at {r.loss_end:.5f}.",
        "",
        _check("test_capacity_construction") + " " + _check("test_capacity_recovers_beta"),
        "",
    ]


def _part_backprop(r: backprop.BackpropResult, residual: list) -> list[str]:
    full, ident, diag = (r.errors[v] for v in backprop.VARIANTS)
    rows = "\n".join(
        f"| {'-'.join(map(str, s))} | {n} | ${_sci(full[i])}$ | ${_sci(ident[i])}$ | ${_sci(diag[i])}$ | "
        + (f"${_sci(r.torch_errors[i])}$ |" if r.torch_errors is not None else "n/a |")
        for i, (s, n) in enumerate(r.shapes))
    ex = r.update_example
    return [
        "## 5. Backpropagation through two ReLU layers, a softmax and the quadratic loss",
        "",
        "One sample $x \\in \\mathbb{R}^{n_0}$ (a column), weights $w^{[l]}_{ij}$ from unit $j$ of layer $l-1$ "
        "to unit $i$ of layer $l$:",
        "",
        "$$",
        "z^{[1]} = W^{[1]}x + b^{[1]},\\ a^{[1]} = \\mathrm{ReLU}(z^{[1]}),\\quad "
        "z^{[2]} = W^{[2]}a^{[1]} + b^{[2]},\\ a^{[2]} = \\mathrm{ReLU}(z^{[2]}),\\quad "
        "z^{[3]} = W^{[3]}a^{[2]} + b^{[3]},\\ \\hat y = \\mathrm{softmax}(z^{[3]}),",
        "$$",
        "",
        "$$",
        "L = \\tfrac12 \\sum_{k=1}^{K} (y_k - \\hat y_k)^2 .",
        "$$",
        "",
        "With $\\delta^{[l]} = \\partial L / \\partial z^{[l]}$, the chain rule gives, layer by layer:",
        "",
        "$$",
        "\\delta^{[3]} = J^\\top(\\hat y - y),\\qquad J = \\frac{\\partial \\hat y}{\\partial z^{[3]}} = "
        "\\mathrm{diag}(\\hat y) - \\hat y\\hat y^\\top,\\qquad "
        "\\delta^{[3]}_k = \\sum_{c=1}^{K} (\\hat y_c - y_c)\\,\\hat y_c(\\mathbf{1}[c = k] - \\hat y_k) "
        "= \\hat y_k\\Big((\\hat y_k - y_k) - \\sum_{c=1}^{K}\\hat y_c(\\hat y_c - y_c)\\Big),",
        "$$",
        "",
        "$$",
        "\\delta^{[2]}_i = \\mathbf{1}[z^{[2]}_i > 0]\\sum_{k} w^{[3]}_{ki}\\,\\delta^{[3]}_k,\\qquad "
        "\\delta^{[1]}_i = \\mathbf{1}[z^{[1]}_i > 0]\\sum_{m} w^{[2]}_{mi}\\,\\delta^{[2]}_m,",
        "$$",
        "",
        "and the gradient-descent update of a first-layer weight, with learning rate $\\eta$, is",
        "",
        "$$",
        "\\frac{\\partial L}{\\partial w^{[1]}_{ij}} = \\delta^{[1]}_i\\, x_j,\\qquad "
        "w^{[1]}_{ij} \\leftarrow w^{[1]}_{ij} - \\eta\\,\\delta^{[1]}_i x_j "
        "= w^{[1]}_{ij} - \\eta\\, x_j\\, \\mathbf{1}[z^{[1]}_i > 0] \\sum_m w^{[2]}_{mi}\\,"
        "\\mathbf{1}[z^{[2]}_m > 0] \\sum_k w^{[3]}_{km}\\,\\delta^{[3]}_k ,",
        "$$",
        "",
        "averaged over the samples of a mini-batch ($b^{[1]}_i \\leftarrow b^{[1]}_i - \\eta\\,\\delta^{[1]}_i$). "
        "The ReLU derivative at $z = 0$ is taken as $0$ (part 2). sympy confirms the $\\delta^{[3]}$ formula for "
        f"$K = 3$: $\\partial L/\\partial z_k$ minus the formula simplifies to "
        f"${', '.join(_l(v) for v in residual)}$ for $k = 1, 2, 3$.",
        "",
        "**Common mistakes.** Two hand derivations go wrong at the softmax:",
        "",
        "- *Treating the softmax's derivative as 1*, i.e. $\\delta^{[3]} = \\hat y - y$. That is the right "
        "$\\delta^{[3]}$ for softmax with **cross-entropy**, where the Jacobian cancels; with the quadratic "
        "loss it does not.",
        "- *Dropping the sum over classes*, i.e. using only the diagonal of $J$: "
        "$\\delta^{[3]}_k = \\hat y_k(1 - \\hat y_k)(\\hat y_k - y_k)$, as for independent sigmoid outputs. "
        "Every output $\\hat y_c$ depends on every $z_k$ through the shared normaliser, so the off-diagonal "
        "terms $-\\hat y_c\\hat y_k$ matter.",
        "",
        "All three versions are implemented (`ffnn.theory.backprop.gradients(..., softmax=\"full\" | "
        "\"identity\" | \"diagonal\")`) and compared, over every weight and bias of all three layers, with "
        "central differences ($h = 10^{-6}$, float64) on random networks $n_0$-$h_1$-$h_2$-$K$ and batches "
        "(relative error $\\lVert g - g_{fd}\\rVert / (\\lVert g\\rVert + \\lVert g_{fd}\\rVert)$), and the correct "
        "one also with PyTorch autograd:",
        "",
        "| shape | batch | correct vs FD | \"softmax' = 1\" vs FD | diagonal $J$ vs FD | correct vs PyTorch |",
        "|---|---:|---:|---:|---:|---:|",
        rows,
        "",
        f"The correct recursion agrees with finite differences to at most ${_sci(max(full))}$ (the finite "
        f"differences' own error) and with autograd to "
        + (f"${_sci(max(r.torch_errors))}$ (rounding)" if r.torch_errors is not None else "(PyTorch not installed)")
        + f"; the two mistakes are off by ${_sci(min(ident))}$ to ${_sci(max(ident))}$ and "
        f"${_sci(min(diag))}$ to ${_sci(max(diag))}$: wrong gradients, not rounding.",
        "",
        f"One update on a {'-'.join(map(str, ex['sizes']))} network and one sample with $\\eta = {ex['eta']}$ "
        f"changes only $W^{{[1]}}$ and lowers the loss from {ex['loss_before']:.6f} to {ex['loss_after']:.6f}.",
        "",
        _check("test_backprop_matches_finite_differences") + " "
        + _check("test_backprop_matches_torch_autograd") + " "
        + _check("test_backprop_mistakes_disagree"),
        "",
    ]


# ---------------------------------------------------------------------- write


def plot_capacity(r: capacity.CapacityResult, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=110)
    for i, curve in enumerate(r.restart_curves):
        best = i == r.best_restart
        ax.plot(np.arange(1, len(curve) + 1), curve, lw=2 if best else 1, alpha=1 if best else 0.6,
                label=f"start {i + 1}" + (" (read back)" if best else ""))
    ax.axhline(r.loss_mle_quadratic, color="k", ls="--", lw=1,
               label=f"maximum-likelihood quadratic fit, {r.loss_mle_quadratic:.4f}")
    ax.set_xscale("log")
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel("mean log-loss")
    ax.set_title("(4) z-squared network trained on data from logistic(b0 + b1 x1 x2)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def write_report(results: Results, out_dir) -> Path:
    """Write ``theory.md`` and the PNG figures into ``out_dir``; return the Markdown file's path."""
    import matplotlib

    matplotlib.use("Agg")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    overfitting.plot_size_curve(results.size, out / FIGURES["size"])
    overfitting.plot_complexity_curve(results.complexity, out / FIGURES["complexity"])
    overfitting.plot_early_stopping(results.early_stopping, out / FIGURES["early_stopping"])
    plot_capacity(results.capacity, out / FIGURES["capacity"])
    mode = "`ffnn theory --out DIR --fast`" if results.fast else "`ffnn theory --out DIR`"
    lines = [
        "# Theory: part 1 of the problem set, derived, checked and measured",
        "",
        f"Generated by {mode} (`python -m ffnn.theory`). Every formula, number and verdict below is "
        "computed when the report is built: derived with sympy, checked numerically, or measured in real "
        f"training runs. Each claim is checked against an independently computed value in `{TESTS}`.",
        "",
        *_part_optimisation(results.optimisation),
        *_part_activation(results.activation),
        *_part_overfitting(results.size, results.complexity, results.early_stopping, results.settings,
                           results.fast),
        *_part_capacity(results.capacity),
        *_part_backprop(results.backprop, results.delta3_residual),
    ]
    path = out / "theory.md"
    path.write_text("\n".join(lines))
    return path
