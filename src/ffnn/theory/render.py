"""``theory.md`` from the report's data (``theory.json``): every number and every verdict chosen in code.

The report is a worked solution of part 1 of the problem set. Its sections
follow the problem set's numbering (1.1 to 1.5, 1.3.1 to 1.3.3); each starts
with the short answer, then the derivation or measurement. Sections 1.1 and
1.2 are written here, 1.3 in :mod:`.overfitting_text`, 1.4 and 1.5 in
:mod:`.networks_text`; the numbers are formatted by :mod:`.claims` (two
decimals at most). How each claim is checked, and how the report is built,
is said once, in the appendix.
"""
from __future__ import annotations

from .claims import num, sci
from .networks_text import part_backprop, part_capacity
from .overfitting_text import part_overfitting

__all__ = ["markdown", "REFERENCES", "CHECKS", "ENGINES", "APPENDIX_TITLE"]

TESTS = "tests/test_theory.py"
APPENDIX_TITLE = "Appendix: how each claim is checked, and how this report is built"
#: The PDF engines, as the report names them.
ENGINES = {"typst": "Typst", "latex": "LaTeX"}

REFERENCES = [
    "Y. LeCun, L. Bottou, Y. Bengio and P. Haffner. Gradient-based learning applied to document recognition. "
    "*Proceedings of the IEEE* 86(11), 2278–2324, 1998. The MNIST data set.",
    "L. Breiman, J. H. Friedman, R. A. Olshen and C. J. Stone. *Classification and Regression Trees*. "
    "Wadsworth, 1984, section 3.4.3. The one-standard-error rule.",
    "T. Hastie, R. Tibshirani and J. Friedman. *The Elements of Statistical Learning*, 2nd edition. Springer, "
    "2009, section 7.10. The one-standard-error rule in cross-validation.",
    "I. Goodfellow, Y. Bengio and A. Courville. *Deep Learning*. MIT Press, 2016, section 7.8 (early stopping "
    "as a regulariser) and section 6.3.1 (rectified linear units).",
    "D. Bertoin, J. Bolte, S. Gerchinovitz and E. Pauwels. Numerical influence of ReLU'(0) on backpropagation. "
    "*Advances in Neural Information Processing Systems* 34, 2021. The convention ReLU'(0) = 0.",
    "A. Meurer et al. SymPy: symbolic computing in Python. *PeerJ Computer Science* 3, e103, 2017.",
    "A. Paszke et al. PyTorch: an imperative style, high-performance deep learning library. *Advances in "
    "Neural Information Processing Systems* 32, 2019.",
]

#: The appendix's table: (section, claim, how it is checked, the tests that check it).
CHECKS = [
    ("1.1", "critical points, Hessians, classification",
     "each point substituted into a gradient and a Hessian written out by hand",
     ("test_optimisation_critical_points", "test_classify_second_derivative_test")),
    ("1.2", "the gradient of ReLU and its kink",
     "central differences at random points; one-sided difference quotients at the kink",
     ("test_relu_gradient_matches_finite_differences", "test_relu_kink_has_no_derivative")),
    ("1.3", "the measured errors and the runs behind them",
     "an independent forward pass re-measures the restored weights; the validation set is disjoint",
     ("test_overfitting_runs", "test_noisy_labels_change_exactly_the_fraction_asked")),
    ("1.3.2", "the vertical line", "hand-made validation errors with a known answer",
     ("test_chosen_width_is_the_one_standard_error_rule",)),
    ("1.3", "every sentence chosen from the numbers", "hand-made cases and the committed numbers, recomputed",
     ("test_claims_follow_the_numbers", "test_committed_overfitting_numbers")),
    ("1.4", "the construction", "by hand and with sympy", ("test_capacity_construction",)),
    ("1.4", "gradient descent recovers beta", "scikit-learn's logistic regression on the same sample",
     ("test_capacity_recovers_beta", "test_capacity_gradients_match_finite_differences")),
    ("1.4", "the Hessians' verdicts", "PyTorch's Hessian", ("test_capacity_hessian",)),
    ("1.5", "the deltas and the update", "central differences and PyTorch autograd",
     ("test_backprop_matches_finite_differences", "test_backprop_matches_torch_autograd",
      "test_backprop_first_layer_update_lowers_loss")),
    ("1.5", "the written-out sums; the two mistakes are wrong",
     "the sums computed factor by factor; the mistakes against central differences",
     ("test_backprop_explicit_sums", "test_backprop_mistakes_disagree")),
    ("all", "this text is what the code writes from theory.json; the PDF's structure",
     "the Markdown and figures rebuilt from the committed JSON; the PDF's text read back",
     ("test_committed_report_matches_json", "test_committed_pdf_follows_the_problem_set")),
]


# ---------------------------------------------------------------- 1.1 and 1.2


def _optimisation_answer(d: dict) -> list[str]:
    pts = d["points"]
    minima = [p for p in pts if p["kind"] == "local minimum"]
    saddles = [f"$({p['x']}, {p['y']})$" for p in pts if p["kind"] == "saddle point"]
    maxima = [p for p in pts if p["kind"] == "local maximum"]
    mins = "; ".join(f"$({p['x']}, {p['y']})$ is a local minimum with $f = {p['value']}$" for p in minima)
    return [
        "## 1.1 Optimisation: the critical points of $f(x, y) = x^2y + xy^2 - 6xy$", "",
        f"**Answer.** $f$ has {len(pts)} critical points. {mins[0].upper() + mins[1:] if mins else 'None is a minimum'}"
        + (", but not a global one, since $f$ is unbounded below" if d["unbounded_below"] and minima else "")
        + f"; {', '.join(saddles)} {'is a saddle point' if len(saddles) == 1 else 'are saddle points'}"
        + ("; there is no local maximum." if not maxima else "."), "",
        "**Derivation.** The gradient (factored by sympy [6]) and the Hessian matrix of second derivatives are",
        "", "$$", f"\\nabla f(x, y) = \\begin{{pmatrix}} {d['gradient'][0]} \\\\ {d['gradient'][1]} \\end{{pmatrix}},"
        f"\\qquad \\nabla^2 f(x, y) = {d['hessian']}.", "$$", "",
    ]


def _optimisation_cases(d: dict) -> list[str]:
    rows = "\n".join(f"| ${c['first']}$ | ${c['second']}$ | "
                     + (", ".join(f"$({x}, {y})$" for x, y in c["solutions"]) or "none") + " |" for c in d["cases"])
    eqs = sorted({c["first"] for c in d["cases"]}), sorted({c["second"] for c in d["cases"]})
    return [
        "Each component of $\\nabla f$ is a product, and a product is 0 when one of its factors is. So "
        f"$\\nabla f = 0$ exactly when (${'$ or $'.join(eqs[0])}$) and (${'$ or $'.join(eqs[1])}$): "
        f"{len(d['cases'])} cases, each a pair of linear equations.", "",
        "| from $f_x = 0$ | from $f_y = 0$ | solution $(x, y)$ |", "|---|---|---|", rows, "",
    ]


def _optimisation_test(d: dict) -> list[str]:
    pts = d["points"]
    hessians = ",\\quad ".join(f"\\nabla^2 f({p['x']}, {p['y']}) = {p['hessian']}" for p in pts)
    rows = "\n".join(f"| $({p['x']}, {p['y']})$ | ${p['value']}$ | ${p['det']}$ | ${p['f_xx']}$ "
                     f"| {', '.join(num(e) for e in p['eigenvalues'])} | {p['kind']} |" for p in pts)
    agree = all((p["kind"] == "local minimum") == (p["eigenvalues"][0] > 0)
                and (p["kind"] == "saddle point") == (p["eigenvalues"][0] < 0 < p["eigenvalues"][-1]) for p in pts)
    minima = [p for p in pts if p["kind"] == "local minimum"]
    return [
        "At the critical points the Hessian is", "", "$$", hessians, "$$", "",
        "The second-derivative test at a critical point: $\\det \\nabla^2 f < 0$ means a saddle point; "
        "$\\det \\nabla^2 f > 0$ with $f_{xx} > 0$ a local minimum, with $f_{xx} < 0$ a local maximum; "
        "$\\det \\nabla^2 f = 0$ is inconclusive (the test says nothing, and higher-order terms must be examined). "
        + ("No critical point here has $\\det \\nabla^2 f = 0$, so the test decides every one."
           if all(p["det_value"] != 0 for p in pts) else "Some critical point here has $\\det \\nabla^2 f = 0$."),
        "", "| point $(x, y)$ | $f$ | $\\det \\nabla^2 f$ | $f_{xx}$ | eigenvalues of $\\nabla^2 f$ | classification |",
        "|---|---:|---:|---:|---:|---|", rows, "",
        ("The eigenvalues (numerical) agree with every classification: both positive at the minimum, one of "
         "each sign at each saddle point." if agree else
         "The eigenvalues (numerical) disagree with a classification above."), "",
        (f"Along the line $x = y = t$, $f = {d['descent_path']}$, which tends to $-\\infty$ as $t \\to -\\infty$ "
         "(sympy's limit), so $f$ has no global minimum"
         + (f" and the local minimum ($f = {minima[0]['value']}$) is not a global one." if minima else ".")
         if d["unbounded_below"] else "Along $x = y = t$, $f$ is bounded below."), "",
    ]


def _activation(d: dict) -> list[str]:
    return [
        "## 1.2 Activation: the gradient of $\\mathrm{ReLU}(b + xw)$", "",
        "**Answer.** With $z = b + xw$ and $\\mathrm{ReLU}(z) = \\max(0, z)$, for $z \\neq 0$", "", "$$",
        "\\frac{\\partial\\, \\mathrm{ReLU}(z)}{\\partial b} = \\mathbf{1}[z > 0],\\qquad "
        "\\frac{\\partial\\, \\mathrm{ReLU}(z)}{\\partial w} = x\\,\\mathbf{1}[z > 0]", "$$", "",
        "(for a vector input, $\\partial/\\partial w_j = x_j\\,\\mathbf{1}[z > 0]$), where $\\mathbf{1}[z > 0]$ is 1 "
        "if $z > 0$ and 0 otherwise. At $z = 0$ ReLU has no derivative, and the gradient there is a "
        "convention: we take 0, as PyTorch and TensorFlow do [5].", "",
        "**Derivation.** sympy's derivatives are", "", "$$",
        f"\\frac{{\\partial}}{{\\partial b}} \\max(0, b + xw) = {d['d_b']},\\qquad"
        f"\\frac{{\\partial}}{{\\partial w}} \\max(0, b + xw) = {d['d_w']},", "$$", "",
        "with Heaviside the unit step function, which is the answer's $\\mathbf{1}[z > 0]$ for $z \\neq 0$: "
        "$\\max(0, z)$ is $0$ for $z < 0$ (slope 0) and $z$ for $z > 0$ (slope 1), and the chain rule multiplies "
        "by $\\partial z/\\partial b = 1$ and $\\partial z/\\partial w = x$.", "",
        f"**The kink.** At $z = 0$ the one-sided difference quotients tend to ${d['right_derivative']}$ from the "
        f"right and ${d['left_derivative']}$ from the left (sympy's limits), so no derivative exists. Numerically, "
        f"with step $\\varepsilon = 10^{{-6}}$ at $z = 0$, the forward difference gives "
        f"{num(d['kink_right_difference'])}, the backward difference {num(d['kink_left_difference'])} and the "
        f"central difference {num(d['kink_central_difference'])}, which is neither. sympy's Heaviside takes the "
        f"value ${d['sympy_heaviside_at_0']}$ at 0; PyTorch and TensorFlow use 0 [5]. Any value in $[0, 1]$ is a "
        "subgradient of the convex function ReLU, so each is a valid choice; 0 keeps a unit that sits exactly "
        "at the kink silent, and with real-valued inputs $z = 0$ happens with probability zero [4, 5].", "",
        f"**Check.** Against central differences (step $10^{{-6}}$) at {d['n_checks']} random points $(b, x, w)$ "
        f"with $x, w \\in \\mathbb{{R}}^{{{d['d']}}}$, the nearest at "
        f"$\\lvert z\\rvert = {sci(d['min_distance_to_kink'])}$ "
        f"from the kink, the largest absolute difference is ${sci(d['max_abs_error'])}$.", "",
    ]


# ------------------------------------------------------- references, appendix


def _references() -> list[str]:
    return ["## References", "", *(f"{i}. {r}" for i, r in enumerate(REFERENCES, 1)), ""]


def _appendix(fast: bool, engine: str | None) -> list[str]:
    rows = "\n".join(f"| {s} | {claim} | {how} | " + ", ".join(f"`{t}`" for t in tests) + " |"
                     for s, claim, how, tests in CHECKS)
    mode = "`ffnn theory --out DIR --fast`" if fast else "`ffnn theory --out DIR`"
    pdf = (f"`theory.pdf` was typeset by {ENGINES[engine]} from the same Markdown (pandoc converts it"
           + (" to Typst)." if engine == "typst" else " to LaTeX, the `theory.tex` beside it).")
           if engine else "No PDF was typeset for this copy.")
    return [
        f"## {APPENDIX_TITLE}", "",
        f"Every check is a test in `{TESTS}` that compares the report's claim with an independently computed "
        "value (never with the report's own output):", "",
        "| section | claim | checked against | tests |", f"|{'-' * 6}|{'-' * 22}|{'-' * 26}|{'-' * 46}|", rows, "",
        f"**How this report is built.** {mode} (`make theory` for `docs/theory/`) computes every part and writes "
        "`theory.json` (every number the report states), the figures, this text as `theory.md` (Markdown with "
        "TeX maths), `theory.tex` (pandoc's LaTeX from the same Markdown) and `theory.pdf`. " + pdf
        + " The training runs of 1.3 use the NumPy backend (`ffnn.backends.numpy_net`, built from a "
        "`TrainConfig`); 1.5's written-out sum is `ffnn.theory.backprop.first_layer_gradient_explicit` (one "
        "`einsum` over the seven factors), and its three deltas are "
        "`ffnn.theory.backprop.gradients(..., softmax=\"full\" | \"identity\" | \"diagonal\")`.", "",
    ]


# ---------------------------------------------------------------------- all


def markdown(data: dict, engine: str | None = "typst") -> str:
    """The whole of ``theory.md`` for the report's ``data``; ``engine`` is what typesets the PDF (None: no PDF)."""
    if engine is not None and engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)} or None, got {engine!r}")
    lines = [
        "# Part 1: worked solutions", "",
        "A worked solution of part 1 of the problem set, for instructors and self-study. Sections follow the "
        "problem set's numbering; each answer starts with its short answer, then the derivation or the "
        "measurement behind it. Every formula, number and verdict is computed when the report is built: derived "
        "with sympy [6], checked numerically, or measured in real training runs; the appendix says how each is "
        "checked. Numbers are rounded to two decimals, and very small ones are written in scientific notation."
        + (" *Fast mode: tiny subsets and few epochs.*" if data["fast"] else ""), "",
        *_optimisation_answer(data["optimisation"]), *_optimisation_cases(data["optimisation"]),
        *_optimisation_test(data["optimisation"]), *_activation(data["activation"]),
        *part_overfitting(data["overfitting"], data["fast"]), *part_capacity(data["capacity"]),
        *part_backprop(data["backprop"]), *_references(), *_appendix(data["fast"], engine),
    ]
    return "\n".join(lines)

