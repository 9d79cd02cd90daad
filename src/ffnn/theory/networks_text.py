"""Sections 1.4 (capacity of a z-squared network) and 1.5 (backpropagation) of ``theory.md``.

Weights are indexed the same way in both: :math:`w^{[l]}_{ij}` connects unit
:math:`j` of layer :math:`l-1` to unit :math:`i` of layer :math:`l`.
"""
from __future__ import annotations

from . import figures
from .claims import num, sci

__all__ = ["part_capacity", "part_backprop"]

TERM_TEX = {"1": "1", "x1": "x_1", "x2": "x_2", "x1^2": "x_1^2", "x2^2": "x_2^2", "x1*x2": "x_1x_2"}
KIND = {"saddle point": "a saddle point", "minimum up to flat directions": "a minimum (up to flat directions)"}


# ------------------------------------------------------------------------ 1.4


def _curvature_sentence(i: int, d: dict) -> str:
    c, loss = d["restart_curvature"][i], d["restart_losses"][i]
    eig = c["eigenvalues"]
    if c["kind"] == "saddle point":
        return (f"Start {i + 1} ends at loss {num(loss)} at a *near-critical* point: the gradient is small but not "
                f"zero (norm ${sci(c['grad_norm'])}$), and the Hessian has {c['n_negative']} negative "
                f"eigenvalue{'s' if c['n_negative'] > 1 else ''} (the smallest ${sci(eig[0])}$), a direction in "
                "which the loss still decreases. So it is no minimum but the flat neighbourhood of a saddle "
                "point, where gradient descent moves very slowly.")
    if c["kind"] == "minimum up to flat directions":
        return (f"Start {i + 1} ends at loss {num(loss)} with gradient norm ${sci(c['grad_norm'])}$, {c['n_zero']} "
                f"zero eigenvalues (at most $\\lvert\\lambda\\rvert = {sci(max(abs(v) for v in eig[:c['n_zero']]))}$, "
                f"the "
                f"{d['flat_directions']} flat directions) and the others positive (the smallest "
                f"${sci(eig[c['n_zero']])}$): a minimum.")
    return (f"Start {i + 1} ends at loss {num(loss)}, gradient norm ${sci(c['grad_norm'])}$, smallest eigenvalue "
            f"${sci(eig[0])}$: {c['kind']}.")


def _capacity_answer(d: dict) -> list[str]:
    n = len(d["restart_losses"])
    n_min = sum(c["kind"] == "minimum up to flat directions" for c in d["restart_curvature"])
    n_saddle = sum(c["kind"] == "saddle point" for c in d["restart_curvature"])
    return [
        "## 1.4 Capacity: a two-unit network with $g(z) = z^2$", "",
        "**Answer.** Yes: the network can represent logistic regression on $x_1x_2$ exactly. Its output is", "",
        "$$", "o(x) = \\sigma\\Big(v_1\\, g\\big(w^{[1]}_{11}x_1 + w^{[1]}_{12}x_2 + b^{[1]}_1\\big) + v_2\\, "
        "g\\big(w^{[1]}_{21}x_1 + w^{[1]}_{22}x_2 + b^{[1]}_2\\big) + c\\Big),\\qquad g(z) = z^2,\\quad "
        "\\sigma(s) = \\frac{1}{1 + e^{-s}},", "$$", "",
        "with $w^{[1]}_{jk}$ the weight from input $k$ to hidden unit $j$, and the weights", "", "$$",
        "W^{[1]} = \\begin{pmatrix} 1 & 1 \\\\ 1 & -1 \\end{pmatrix},\\quad b^{[1]} = 0,\\quad "
        "v = \\left(\\tfrac{\\beta_1}{4}, -\\tfrac{\\beta_1}{4}\\right),\\quad c = \\beta_0", "$$", "",
        "give $o(x) = \\sigma(\\beta_0 + \\beta_1 x_1 x_2)$ for every $x$. Trained by gradient descent from random "
        f"weights, the network recovers $\\beta$ as well as the data allow from {n_min} of {n} starts"
        + ("" if n_min == n else f"; {'the other stalls' if n - n_min == 1 else 'the others stall'}"
           + (" near a saddle point" if n_saddle == n - n_min else " elsewhere"))
        + f" ({figures.ref('capacity')}).", "",
        "**Derivation.** Since $(x_1 + x_2)^2 - (x_1 - x_2)^2 = 4x_1x_2$, these weights give the hidden units "
        "$g(x_1 + x_2) = (x_1 + x_2)^2$ and $g(x_1 - x_2) = (x_1 - x_2)^2$, and the logit "
        "$\\tfrac{\\beta_1}{4}(x_1 + x_2)^2 - \\tfrac{\\beta_1}{4}(x_1 - x_2)^2 + \\beta_0 = \\beta_0 + "
        f"\\beta_1x_1x_2$. sympy simplifies the logit minus $\\beta_0 + \\beta_1x_1x_2$ to ${d['symbolic_residual']}$; "
        f"numerically, for {d['n_construction_checks']} random $(\\beta_0, \\beta_1)$ and 1,000 random inputs each, "
        f"the network and $\\sigma(\\beta_0 + \\beta_1x_1x_2)$ differ by at most ${sci(d['construction_max_error'])}$ "
        "(rounding). Conversely, for any weights the logit "
        "$c + \\sum_j v_j(w^{[1]}_{j1}x_1 + w^{[1]}_{j2}x_2 + b^{[1]}_j)^2$ is a quadratic in $x$, whose six "
        "coefficients (of $1, x_1, x_2, x_1^2, x_2^2, x_1x_2$) can be read off the weights.", "",
    ]


def _capacity_learning(d: dict) -> list[str]:
    c, mle6, bt = d["coefficients"], d["beta_mle_quadratic"], d["beta_true"]
    rows = "\n".join(f"| ${TERM_TEX[t]}$ | {num({'1': bt[0], 'x1*x2': bt[1]}.get(t, 0.0))} | {num(c[t])} "
                     f"| {num(mle6[t])} |" for t in d["terms"])
    kinds = [cv["kind"] for cv in d["restart_curvature"]]
    gap = abs(d["loss_end"] - d["loss_mle_quadratic"])
    c0 = d["restart_curvature"][0]
    rel_tol = sci(c0["tol"] / max(abs(v) for v in c0["eigenvalues"])).replace("1.0\\times ", "")
    f7 = figures.ref("capacity")
    return [
        f"**Learning it (measured, {f7}).** We draw {d['n_samples']:,} inputs $x \\sim \\mathcal N(0, I_2)$ and "
        f"labels $y \\sim \\text{{Bernoulli}}(\\sigma(\\beta_0 + \\beta_1x_1x_2))$ with "
        f"$\\beta = ({bt[0]:g}, {bt[1]:g})$, and train all {d['n_parameters']} weights by full-batch gradient "
        f"descent on the mean log-loss ({d['steps']:,} steps, learning rate {d['learning_rate']}) from "
        f"{len(d['restart_losses'])} random starts. Final training losses: "
        f"{', '.join(num(v) for v in d['restart_losses'])}; the lowest (start {d['best_restart'] + 1}) is read "
        "back. Output weights $(v_1, v_2)$ of each start: "
        + ", ".join(f"$({num(v[0])}, {num(v[1])})$" for v in d["restart_v"]) + ".", "",
        "| term of the logit | true model | network after gradient descent | logistic regression on all six "
        "terms |", "|---|---:|---:|---:|", rows, "",
        f"The network recovers $\\hat\\beta = ({num(c['1'])}, {num(c['x1*x2'])})$ against the true "
        f"$({bt[0]:g}, {bt[1]:g})$. Its loss, {num(d['loss_end'])}, is that of the maximum-likelihood logistic "
        "regression on the same six quadratic features (fitted by Newton's method), the lowest any weights can "
        "reach on this sample: the two differ by "
        + (f"${sci(gap)}$." if gap >= 1e-12 else "less than $10^{-12}$.")
        + " The remaining distance from the true $\\beta$ is sampling noise: logistic regression on "
        f"$(1, x_1x_2)$ alone gives $({num(d['beta_mle'][0])}, {num(d['beta_mle'][1])})$.", "",
        figures.markdown("capacity"), "",
        f"**Where each start ends: the Hessian.** The loss is not convex in the weights. At each end point the "
        f"${d['n_parameters']}\\times{d['n_parameters']}$ Hessian of the loss (central differences of the exact "
        f"gradient) is diagonalised; an eigenvalue counts as zero below ${rel_tol}$ times the largest. The loss "
        f"depends on the {d['n_parameters']} weights only through the 6 coefficients of the logit, so at a "
        f"minimum {d['flat_directions']} directions are flat. "
        + " ".join(_curvature_sentence(i, d) for i in range(len(kinds)))
        + (" A start whose output weights share a sign gives a semidefinite quadratic form, which cannot "
           "represent $x_1x_2$: that is where such a start stalls." if any(
               k == "saddle point" and v[0] * v[1] > 0 for k, v in zip(kinds, d["restart_v"])) else ""), "",
        f"**How to read {f7}.** Training loss against gradient-descent steps (logarithmic axis), one curve per "
        "random start, labelled with its Hessian's verdict; the dashed line is the loss of the maximum-likelihood "
        f"quadratic logistic regression, {num(d['loss_mle_quadratic'])}.", "",
    ]


def part_capacity(d: dict) -> list[str]:
    """All of section 1.4."""
    return [*_capacity_answer(d), *_capacity_learning(d)]


# ------------------------------------------------------------------------ 1.5

_UPDATE = ("w^{[1](r+1)}_{ij} = w^{[1](r)}_{ij} - \\eta \\sum_{n=1}^{N} \\delta^{[1]}_{n,i}\\, x_{n,j},\\qquad "
           "b^{[1](r+1)}_{i} = b^{[1](r)}_{i} - \\eta \\sum_{n=1}^{N} \\delta^{[1]}_{n,i},")
_DELTAS = ("\\delta^{[3]}_{n,k} &= f_k(x_n)\\Big(\\big(f_k(x_n) - y_{n,k}\\big) - \\sum_{c=1}^{K} f_c(x_n)"
           "\\big(f_c(x_n) - y_{n,c}\\big)\\Big),\\\\ "
           "\\delta^{[2]}_{n,m} &= \\mathbf{1}[a^{[2]}_m(x_n) > 0]\\sum_{k=1}^{K} w^{[3]}_{km}\\,\\delta^{[3]}_{n,k},"
           "\\\\ \\delta^{[1]}_{n,i} &= \\mathbf{1}[a^{[1]}_i(x_n) > 0]\\sum_{m=1}^{H^{[2]}} w^{[2]}_{mi}\\,"
           "\\delta^{[2]}_{n,m}.")


def _backprop_answer() -> list[str]:
    return [
        "## 1.5 Backpropagation through two ReLU layers, a softmax and the quadratic loss", "",
        "**Answer.** Gradient descent on the training set $\\{(x_n, y_n)\\}_{n=1}^{N}$ with learning rate "
        "$\\eta$ updates the first layer's weights, from iteration $r$ to $r + 1$, by", "", "$$", _UPDATE, "$$", "",
        "where every quantity on the right is evaluated at the current parameters $\\theta^{(r)}$ and", "",
        "$$", "\\begin{aligned}", _DELTAS, "\\end{aligned}", "$$", "",
        "**Notation.** The problem set's: an input $x \\in \\mathbb{R}^d$; hidden layers of $H^{[1]}$ and "
        "$H^{[2]}$ ReLU units; pre-activations $a^{[l]} = W^{[l]}h^{[l-1]} + b^{[l]}$, with $a^{[3]}_k$ the "
        "softmax's input; outputs $f_k(x) = e^{a^{[3]}_k} / \\sum_{c=1}^{K} e^{a^{[3]}_c}$. Added here: "
        "$h^{[0]} = x$ and $h^{[l]} = \\mathrm{ReLU}(a^{[l]})$ for the hidden layers' outputs; $w^{[l]}_{ij}$, "
        "the weight from unit $j$ of layer $l-1$ to unit $i$ of layer $l$ (as in 1.4); $\\theta$, all weights and "
        "biases; $\\delta$, the partial sums defined below; $\\mathbf{1}[\\cdot]$, 1 if the condition holds and 0 "
        "otherwise. The loss over the training set is", "", "$$",
        "L(\\theta) = \\sum_{n=1}^{N} L_n(\\theta),\\qquad L_n(\\theta) = \\tfrac12 \\sum_{k=1}^{K} "
        "\\big(y_{n,k} - f_k(x_n)\\big)^2 ,", "$$", "",
        "so its gradient is the sum of the per-sample gradients, $\\partial L/\\partial w = \\sum_n \\partial L_n/"
        "\\partial w$, and everything below is derived for one sample $x = x_n$ and then summed. (Stochastic "
        "gradient descent takes the same sum over a mini-batch instead of the training set; averaging instead "
        "of summing only rescales $\\eta$.)", "",
    ]


def _backprop_chain_rule() -> list[str]:
    return [
        "**Derivation: the chain rule, every sum written out.** For one sample, $w^{[1]}_{ij}$ reaches $L_n$ "
        "through $a^{[1]}_i$ only, then through every unit $m$ of layer 2, every softmax input $a^{[3]}_k$ and "
        "every output $f_c$:", "", "$$",
        "\\frac{\\partial L_n}{\\partial w^{[1]}_{ij}} = \\sum_{c=1}^{K}\\sum_{k=1}^{K}\\sum_{m=1}^{H^{[2]}}"
        "\\frac{\\partial L_n}{\\partial f_c}\\,\\frac{\\partial f_c}{\\partial a^{[3]}_k}\\,"
        "\\frac{\\partial a^{[3]}_k}{\\partial h^{[2]}_m}\\,\\frac{\\partial h^{[2]}_m}{\\partial a^{[2]}_m}\\,"
        "\\frac{\\partial a^{[2]}_m}{\\partial h^{[1]}_i}\\,\\frac{\\partial h^{[1]}_i}{\\partial a^{[1]}_i}\\,"
        "\\frac{\\partial a^{[1]}_i}{\\partial w^{[1]}_{ij}},", "$$", "", "with the seven factors", "", "$$",
        "\\frac{\\partial L_n}{\\partial f_c} = f_c - y_c,\\quad "
        "\\frac{\\partial f_c}{\\partial a^{[3]}_k} = f_c(\\mathbf{1}[c = k] - f_k),\\quad "
        "\\frac{\\partial a^{[3]}_k}{\\partial h^{[2]}_m} = w^{[3]}_{km},\\quad "
        "\\frac{\\partial h^{[2]}_m}{\\partial a^{[2]}_m} = \\mathbf{1}[a^{[2]}_m > 0],", "$$", "", "$$",
        "\\frac{\\partial a^{[2]}_m}{\\partial h^{[1]}_i} = w^{[2]}_{mi},\\quad "
        "\\frac{\\partial h^{[1]}_i}{\\partial a^{[1]}_i} = \\mathbf{1}[a^{[1]}_i > 0],\\quad "
        "\\frac{\\partial a^{[1]}_i}{\\partial w^{[1]}_{ij}} = x_j .", "$$", "",
        "The softmax factor is the full Jacobian $J = \\mathrm{diag}(f) - ff^\\top$: every output depends on every "
        "input through the shared normaliser. Summed over the training set, the update is", "", "$$",
        "w^{[1](r+1)}_{ij} = w^{[1](r)}_{ij} - \\eta \\sum_{n=1}^{N} x_{n,j}\\, \\mathbf{1}[a^{[1]}_i > 0] "
        "\\sum_{m=1}^{H^{[2]}} w^{[2]}_{mi}\\,\\mathbf{1}[a^{[2]}_m > 0] \\sum_{k=1}^{K} w^{[3]}_{km} "
        "\\sum_{c=1}^{K} (f_c - y_{n,c})\\,f_c(\\mathbf{1}[c = k] - f_k),", "$$", "",
        "with $a^{[l]}$ and $f$ evaluated at $x_n$ and $\\theta^{(r)}$. The ReLU's derivative at $a = 0$ is taken "
        "as 0 (1.2). Computed as written, this quadruple sum agrees with the recursion below to "
        "RELATIVE (relative error, rounding).", "",
        "**Condensed into deltas.** Name the partial sums $\\delta^{[3]}_k = \\partial L_n/\\partial a^{[3]}_k$ "
        "and $\\delta^{[l]}_i = \\partial L_n/\\partial a^{[l]}_i$. The sums above nest, so each layer's delta "
        "reuses the next one's, which gives the recursion in the answer; since "
        "$\\sum_c (f_c - y_c) f_c(\\mathbf{1}[c = k] - f_k) = f_k\\big((f_k - y_k) - \\sum_c f_c(f_c - y_c)\\big)$, "
        "and $\\partial L_n/\\partial w^{[1]}_{ij} = \\delta^{[1]}_i x_j$, summing over $n$ gives the update.", "",
    ]


def _backprop_mistakes(d: dict) -> list[str]:
    return [
        f"sympy confirms the $\\delta^{{[3]}}_k$ formula for $K = {len(d['delta3_residual'])}$: "
        f"$\\partial L_n/\\partial a^{{[3]}}_k$ minus the formula simplifies to ${', '.join(d['delta3_residual'])}$ "
        f"for $k = {', '.join(str(k) for k in range(1, len(d['delta3_residual']) + 1))}$.", "",
        "**Common mistakes.** Two hand derivations go wrong at the softmax:", "",
        "- *Treating the softmax's derivative as 1*, i.e. $\\delta^{[3]} = f - y$. That is the right delta for "
        "softmax with **cross-entropy**, where the Jacobian cancels; with the quadratic loss it does not.",
        "- *Dropping the sum over classes*, i.e. using only the diagonal of $J$: "
        "$\\delta^{[3]}_k = f_k(1 - f_k)(f_k - y_k)$, as for independent sigmoid outputs; the off-diagonal "
        "terms $-f_cf_k$ matter.", "",
    ]


def _backprop_checks(d: dict) -> list[str]:
    full, ident, diag = (d["errors"][v] for v in ("full", "identity", "diagonal"))
    torch = d["torch_errors"]
    rows = "\n".join(
        f"| {'-'.join(map(str, s['sizes']))} | {s['batch']} | ${sci(full[i])}$ | ${sci(ident[i])}$ | "
        f"${sci(diag[i])}$ | " + (f"${sci(torch[i])}$ |" if torch is not None else "n/a |")
        for i, s in enumerate(d["shapes"]))
    ex = d["update_example"]
    return [
        "**Checked numerically.** The correct recursion and both mistakes are compared, over every weight and "
        "bias of all three layers, with central differences (FD; step $10^{-6}$, in double precision) on random "
        "networks "
        "of shape $d$-$H^{[1]}$-$H^{[2]}$-$K$ and batches, by the relative error "
        "$\\lVert g - g_{\\mathrm{fd}}\\rVert / (\\lVert g\\rVert + \\lVert g_{\\mathrm{fd}}\\rVert)$, and the "
        "correct one also with PyTorch's automatic differentiation [7]:", "",
        "| shape | batch | correct vs FD | \"softmax' = 1\" vs FD | diagonal $J$ vs FD | correct vs PyTorch |",
        "|---|---:|---:|---:|---:|---:|", rows, "",
        f"The correct recursion agrees with finite differences to at most ${sci(max(full))}$ (the finite "
        "differences' own error) and with PyTorch to "
        + (f"${sci(max(torch))}$ (rounding)" if torch is not None else "(PyTorch not installed)")
        + f"; the two mistakes are off by ${sci(min(ident))}$ to ${sci(max(ident))}$ and ${sci(min(diag))}$ "
        f"to ${sci(max(diag))}$: wrong gradients, not rounding. One update of $W^{{[1]}}$ on a "
        f"{'-'.join(map(str, ex['sizes']))} network and one sample with $\\eta = {ex['eta']}$ "
        f"{'lowers' if ex['loss_after'] < ex['loss_before'] else 'does not lower'} the loss from "
        f"${sci(ex['loss_before'])}$ to ${sci(ex['loss_after'])}$.", "",
    ]


def part_backprop(d: dict) -> list[str]:
    """All of section 1.5."""
    chain = [line.replace("RELATIVE", f"${sci(d['explicit_sum_error'])}$") for line in _backprop_chain_rule()]
    return [*_backprop_answer(), *chain, *_backprop_mistakes(d), *_backprop_checks(d)]
