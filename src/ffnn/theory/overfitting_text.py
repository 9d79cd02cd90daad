"""Section 1.3 of ``theory.md`` (overfitting) from the report's data: each answer, then how to read its figures.

Every sentence that depends on a measurement is chosen in :mod:`.claims`;
here the numbers are put in their places.
"""
from __future__ import annotations

import numpy as np

from . import figures
from .claims import complexity_claims, early_stopping_claims, num, patience_stop, pct, points, size_claims

__all__ = ["part_overfitting"]


def _intro(s: dict, fast: bool) -> list[str]:
    overlap = [n for n in s["sizes"] if n > 60000 - s["n_val"]]  # 1.3.1's sets that reach the validation images
    test_set = ("the official 10,000-image MNIST test set" if s["n_test"] == 10000
                else f"the first {s['n_test']:,} MNIST test images")
    return [
        "## 1.3 Overfitting", "",
        "Each question is answered with a **schematic**, a sketch of the textbook shape the question asks for "
        "(drawn by hand-chosen curves in a sketch style, not measured), and then with a **measurement** from real "
        "training runs set up so that the effect has room to show, described by what its numbers show, shape or "
        "no shape.", "",
        f"*Setup of every run.* MNIST [1]; a network with one sigmoid hidden layer and a softmax output, trained "
        f"with cross-entropy by mini-batch stochastic gradient descent (SGD; batch size {s['batch_size']}, "
        f"learning rate {s['learning_rate']}, seed {s['seed']}) in this project's NumPy implementation. A training "
        f"set of size $n$ is the first $n$ MNIST training images. The validation set is the last {s['n_val']:,} "
        f"training images with their true labels; the training sets of 1.3.2 and 1.3.3 never include them, "
        + (f"while 1.3.1 uses no validation set and its training set{'s' if len(overlap) > 1 else ''} of "
           f"{' and '.join(f'{n:,}' for n in overlap)} images include{'' if len(overlap) > 1 else 's'} them. "
           if overlap else "nor do those of 1.3.1. ")
        + f"The test set is {test_set}. Error means $1 - \\text{{accuracy}}$, in percent of the images; a "
        "difference between two errors is given in percentage points (points). The standard error (SE) of an "
        "error rate $e$ measured on $m$ images is $\\sqrt{e(1-e)/m}$."
        + (" *This copy was built in fast mode (tiny subsets, few epochs): the curves show the mechanics, "
           "not the phenomena.*" if fast else ""), "",
    ]


def _size(r: dict, s: dict) -> list[str]:
    rows = "\n".join(f"| {n:,} | {k:,} | {pct(tr)} | {pct(te)} |" for n, k, tr, te in
                     zip(r["sizes"], r["repeats"], r["train_error"], r["test_error"]))
    f1, f2 = figures.ref("schematic_size"), figures.ref("size")
    return [
        "### 1.3.1 Error against the amount of training data", "",
        f"**Answer.** ({f1}.) As the training set grows, the training error *rises* from 0, because a flexible "
        "model fits a few images exactly and many images less easily, and the test error *falls*, because more "
        "images say more about new ones. Both approach the lowest error the model class can reach: the test "
        "error from above, the training error from below, so the gap between them (the overfitting) closes.", "",
        figures.markdown("schematic_size"), "",
        f"**How to read {f1}.** The horizontal axis is the amount of training data, growing to the right; it "
        "has no scale, since the sketch shows a shape, not values. The vertical axis is the error, with 0 "
        "marked at the bottom. The lower curve is the training error, 0 for the smallest sets; the upper curve "
        "is the test error. The dotted horizontal line is the lowest error any model of the class can reach; "
        "the training curve stays below it and the test curve above it, and the arrow marks the gap.", "",
        f"**Measured ({f2}).** A network with 784 inputs, {r['hidden']} hidden units and 10 outputs "
        f"(784-{r['hidden']}-10), trained on $n$ = {r['sizes'][0]:,} to {r['sizes'][-1]:,} images, always "
        f"for the same budget: {r['steps']:,} SGD steps of {r['batch_size']} images ({r['presentations']:,} "
        f"images shown), the $n$ images repeated {r['presentations']:,}$/n$ times and shuffled. Small sets are "
        f"therefore passed over many times ({r['repeats'][0]:,} for $n = {r['sizes'][0]:,}$) and the largest "
        f"only {r['repeats'][-1]:,} times (top axis of {f2}).", "",
        figures.markdown("size"), "",
        "| $n$ | passes over each image | training error | test error |", "|---:|---:|---:|---:|", rows, "",
        f"The horizontal axis of {f2} is logarithmic. " + " ".join(size_claims(r, s["n_test"])), "",
    ]


def _complexity(r: dict, s: dict) -> list[str]:
    rows = "\n".join(f"| {h} | {pct(tr)} | {pct(v)} | {pct(te)} |" for h, tr, v, te in
                     zip(r["widths"], r["train_error"], r["val_error"], r["test_error"]))
    ch, k = r["choice"], r["supported_index"]
    f3, f4 = figures.ref("schematic_complexity"), figures.ref("complexity")
    edge = ("It is at an end of the widths tried, so the axis is too short to show where extra capacity stops "
            "being supported." if ch["at_extreme"] else
            f"It lies inside the range tried ({r['widths'][0]} to {r['widths'][-1]}).")
    return [
        "### 1.3.2 Error against model complexity", "",
        f"**Answer.** ({f3}.) As the model grows more complex (here: more hidden units), the training error "
        "falls towards 0. The test error first falls, while extra capacity removes underfitting, and then rises, "
        "once the model fits the noise of its training set (overfitting). The vertical line marks the most "
        "complex model the data support: beyond it, extra complexity no longer lowers the error on new data.", "",
        figures.markdown("schematic_complexity"), "",
        f"**How to read {f3}.** Complexity grows to the right (no scale: a sketch); error grows upward from the "
        "marked 0. The lower curve is the training error, the upper the test error, whose lowest point the "
        "dashed vertical line passes through; left of it the model underfits, right of it it overfits. With "
        "measured errors, which are noisy, the line goes at the most complex model whose error is not measurably "
        "above the lowest (below).", "",
        f"**Measured ({f4}).** Networks $784$-$H$-$10$ with $H$ = {', '.join(map(str, r['widths']))} hidden units, "
        f"each trained for {r['epochs']} epochs on the same {r['n']:,} images, of which {pct(r['noisy_fraction'])} "
        "carry a wrong label (replaced at random by another class): few images and wrong labels give a large "
        "network something to overfit, which clean MNIST with thousands of images barely does. The training "
        "error is measured against the labels trained on; validation and test labels are the true ones.", "",
        figures.markdown("complexity"), "",
        "| hidden units $H$ | training error | validation error | test error |", "|---:|---:|---:|---:|", rows, "",
        f"**The vertical line.** The lowest validation error is {pct(r['val_error'][ch['best_index']])} at "
        f"$H = {ch['best_width']}$, with a standard error of {num(100 * ch['se'])} points. Differences below one "
        f"standard error are noise, so every width within one SE of the lowest, here $H$ = "
        f"{', '.join(map(str, ch['within_se']))} (shaded), is as good as the data can tell; the most complex of "
        f"them, $H = {r['supported_width']}$, is the most complex model the data support, and the line is there "
        f"(test error {pct(r['test_error'][k])}). {edge} The one-standard-error rule [2, 3] picks the *simplest* of "
        f"the same widths, $H = {r['chosen_width']}$, the model to use for prediction; the question asks for "
        "the most complex. The test set plays no part in placing the line.", "",
        f"**What the numbers show.** Hidden units are on a logarithmic axis. At $H = {r['widths'][0]}$ the model "
        f"underfits: training and validation error are both high ({pct(r['train_error'][0])} and "
        f"{pct(r['val_error'][0])}). " + " ".join(complexity_claims(r, s["n_test"])), "",
    ]


def _procedure(r: dict, s: dict) -> list[str]:
    f5 = figures.ref("schematic_early_stopping")
    return [
        f"**How to read {f5}.** Epochs grow to the right and error upward from the marked 0 (no scales: a "
        "sketch). The lower curve is the training error, the upper the validation error. The numbered marks are "
        "the steps of early stopping, which runs as follows:", "",
        f"1. *Split.* Hold out a validation set that is never trained on (here the last {s['n_val']:,} MNIST "
        "training images).",
        "2. *Evaluate every epoch.* After each epoch, measure the validation error (or loss): the upper curve.",
        "3. *Keep the best.* Whenever the validation score is the lowest so far, keep a copy of the weights "
        f"(mark 1, the dashed line).",
        f"4. *Patience.* The patience $p$ is the number of further epochs allowed without a lower score (here "
        f"$p = {r['patience']}$; the shaded band, mark 2). When $p$ epochs pass without one, stop (mark 3, the "
        "dotted line).",
        "5. *Restore.* Replace the weights by the copy kept in step 3: the model is the one at the dashed line, "
        "not the one at the dotted line.", "",
    ]


def _early_stopping(r: dict, s: dict) -> list[str]:
    best, stop = r["best_epoch"], r["stopped_epoch"]
    val_err, val_loss = 1 - np.array(r["full"]["val_accuracy"]), r["full"]["val_loss"]
    lo = int(np.argmin(val_err))
    same = abs(r["restored_val_error"] - r["recorded_best_val_error"]) < 1e-9
    f5, f6 = figures.ref("schematic_early_stopping"), figures.ref("early_stopping")
    stop_text = (f"training stopped after epoch {stop}, the best epoch plus the patience of {r['patience']}"
                 if stop else f"the patience never ran out within {r['epochs']} epochs")
    return [
        "### 1.3.3 Error against training time, and early stopping", "",
        f"**Answer.** ({f5}.) With more epochs the training error keeps falling, while the validation error "
        "falls and then rises, once the network starts to fit the noise of its training set. Early stopping "
        "keeps the weights from the epoch with the lowest validation error. It is a reasonable regulariser: "
        "it limits how far training moves the weights from their small initial values, approximately like a "
        "penalty on their size, needs no change to the model or the loss, and chooses its strength on held-out "
        "data; the measurement below confirms it pays when there is noise to overfit.", "",
        figures.markdown("schematic_early_stopping"), "", *_procedure(r, s),
        f"**Measured ({f6}).** A 784-{r['hidden']}-10 network on 1.3.2's {r['n']:,} images with "
        f"{pct(r['label_noise'])} wrong labels, for up to {r['epochs']} epochs, with early stopping on the "
        f"validation *loss* (patience {r['patience']}, best weights restored), and the same run without early "
        "stopping (same initial weights, same batches), drawn in full; the early-stopped run's history is "
        f"{'identical to' if r['prefix_identical'] else 'NOT identical to'} the first {len(r['es']['loss'])} "
        f"epochs of the full one. The validation loss is lowest at epoch {best}; {stop_text}. The restored "
        f"weights' validation error, measured again, is {pct(r['restored_val_error'])} (loss "
        f"{num(r['restored_val_loss'])}), " + ("equal to" if same else "NOT equal to")
        + f" the error recorded at epoch {best}: the weights kept " + ("are" if same else "are not")
        + " the best epoch's.", "",
        figures.markdown("early_stopping"), "",
        "**What the numbers show.** " + " ".join(early_stopping_claims(r, s["n_val"])), "",
        *_loss_or_error(r, val_err, val_loss, lo), *_regulariser(r),
    ]


def _loss_or_error(r: dict, val_err, val_loss, lo: int) -> list[str]:
    best = r["best_epoch"]
    if lo + 1 == best:
        return [f"The validation loss and the validation error are both lowest at epoch {best}.", ""]
    err_best, err_stop = patience_stop(list(val_err), r["patience"])
    later = lo + 1 < best
    return [
        f"**Why epoch {best} and not epoch {lo + 1}.** Early stopping here monitors the validation loss "
        f"(cross-entropy), not the validation error, and the two are lowest at different epochs: the error at "
        f"epoch {lo + 1} ({pct(val_err[lo])}), the loss at epoch {best} ({pct(val_err[best - 1])} error). "
        f"Between them the validation loss {'falls' if later else 'rises'} from {num(val_loss[min(lo, best - 1)])} "
        f"to {num(val_loss[max(lo, best - 1)])} while the error {'rises' if later else 'falls'} by "
        f"{points(val_err[best - 1], val_err[lo])}. The loss rewards confident correct answers and punishes "
        "confident wrong ones; the error only counts wrong answers, so a network that grows more confident on "
        "the images it already gets right, while starting to get others wrong, lowers one and raises the other. "
        f"Monitoring the validation error with the same patience would keep epoch {err_best} and stop "
        + (f"after epoch {err_stop}." if err_stop else "never.")
        + " Which to monitor is part of the method: the loss is smoother, the error is what is reported.", "",
    ]


def _regulariser(r: dict) -> list[str]:
    return [
        "**Is early stopping a reasonable regulariser?** Yes, in the following sense. SGD starts from small "
        "weights, and the number of steps bounds how far it can move them, so stopping early limits how complex "
        "a function the network can become, as a penalty $\\tfrac{\\alpha}{2}\\lVert w\\rVert^2$ on the weights' "
        "size (L2 regularisation, weight decay) does. The correspondence is exact only under assumptions "
        "(Goodfellow, Bengio and Courville [4], section 7.8): a quadratic approximation of the loss around its "
        "minimum, gradient descent started at $w = 0$ with learning rate $\\eta$ small enough that "
        "$\\eta\\lambda_i \\ll 1$ for every eigenvalue $\\lambda_i$ of the loss's Hessian; then $t$ steps act "
        "like an L2 penalty with $\\alpha \\approx 1/(\\eta t)$. For a real network trained by SGD from random "
        "weights the two are only approximately alike.", "",
        "It needs no change to the loss or the model and picks its strength (the epoch) on held-out data. It "
        "saves the training after the stopping epoch, which is the best epoch plus the patience"
        + (f" (here {r['epochs'] - r['stopped_epoch']} of {r['epochs']} epochs)" if r["stopped_epoch"] else "")
        + "; the patience epochs themselves are spent and thrown away. The caveats: it spends images on a "
        "validation set that could have been trained on; it ties the regularisation to the optimiser (learning "
        "rate, batch size, patience), one knob where weight decay and the number of epochs are two; and it "
        "depends on what is monitored, as above.", "",
    ]


def part_overfitting(over: dict, fast: bool) -> list[str]:
    """All of section 1.3."""
    s = over["settings"]
    return [*_intro(s, fast), *_size(over["size"], s), *_complexity(over["complexity"], s),
            *_early_stopping(over["early_stopping"], s)]
