"""Compute every part of the theory report as one JSON-able dict, and write the report from it.

:func:`collect` runs the derivations, checks and experiments and returns the
data ``theory.json`` holds (sympy results as LaTeX strings, arrays as lists);
:func:`write_report` writes ``theory.json``, the figures (:mod:`.figures`),
``theory.md`` (:mod:`.render`), ``theory.tex`` and ``theory.pdf`` (:mod:`.pdf`), each from that
data alone, so a test can rebuild the Markdown and figures from a committed
``theory.json`` and compare.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
from sympy.printing.latex import LatexPrinter

from . import activation, backprop, capacity, optimisation, overfitting

__all__ = ["collect", "write_report", "optimisation_data", "activation_data", "capacity_data", "backprop_data",
           "JSON_NAME", "MARKDOWN_NAME", "PDF_NAME", "TEX_NAME"]

JSON_NAME, MARKDOWN_NAME, PDF_NAME, TEX_NAME = "theory.json", "theory.md", "theory.pdf", "theory.tex"


class _Latex(LatexPrinter):
    """sympy's LaTeX, with ``Heaviside`` spelled out (sympy prints it as theta, which the report uses for nothing)."""

    def _print_Heaviside(self, expr, exp=None):
        return r"\operatorname{Heaviside}\left(%s\right)" % self._print(expr.args[0])


def _l(expr) -> str:
    return _Latex().doprint(expr)


def optimisation_data(r: optimisation.OptimisationResult) -> dict:
    """Part 1.1 as LaTeX strings and the numbers the classification rests on."""
    points = [{"x": _l(p.x), "y": _l(p.y), "value": _l(p.value), "hessian": _l(p.hessian), "det": _l(p.det),
               "f_xx": _l(p.f_xx), "det_value": float(p.det), "f_xx_value": float(p.f_xx),
               "eigenvalues": sorted(float(e) for e in np.linalg.eigvalsh(np.array(p.hessian, dtype=float))),
               "kind": p.kind} for p in r.points]
    cases = [{"first": _l(a), "second": _l(b), "solutions": [[_l(s[x]), _l(s[y])] for s in sols]}
             for a, b, sols in r.cases for x, y in [r.symbols]]
    return {"f": _l(r.f), "gradient": [_l(g) for g in r.gradient], "hessian": _l(r.hessian), "points": points,
            "unbounded_below": r.unbounded_below, "descent_path": _l(r.descent_path), "cases": cases}


def activation_data(r: activation.ActivationResult) -> dict:
    """Part 1.2: sympy's derivatives (LaTeX), the kink's limits and the numerical check."""
    out = {k: _l(getattr(r, k)) for k in ("d_b", "d_w", "sympy_heaviside_at_0", "right_derivative",
                                           "left_derivative")}
    out.update({k: float(getattr(r, k)) for k in ("max_abs_error", "min_distance_to_kink",
                                                   "kink_central_difference", "kink_right_difference",
                                                   "kink_left_difference")})
    out.update(n_checks=r.n_checks, d=r.d)
    return out


def _log_steps(n_points: int, count: int = 120) -> list[int]:
    """About ``count`` indices in ``[0, n_points)``, evenly spaced on a log scale of step = index + 1."""
    return sorted(set(int(round(v)) - 1 for v in np.geomspace(1, n_points, count)))


def capacity_data(r: capacity.CapacityResult) -> dict:
    """Part 1.4; the loss curves are kept at ~120 log-spaced steps (enough to draw them)."""
    idx = _log_steps(len(r.restart_curves[0]))
    out = {k: getattr(r, k) for k in ("n_construction_checks", "construction_max_error", "n_samples", "steps",
                                       "learning_rate", "loss_start", "loss_end", "coefficients", "best_restart",
                                       "beta_mle_quadratic", "loss_mle_quadratic")}
    out.update(symbolic_residual=_l(r.symbolic_residual), beta_true=list(r.beta_true),
               restart_losses=list(r.restart_losses), restart_v=[list(v) for v in r.restart_v],
               beta_mle=list(r.beta_mle), restart_curvature=list(r.restart_curvature),
               n_parameters=int(capacity.flatten(capacity.construction(0.0, 1.0)).size),
               flat_directions=capacity.FLAT_DIRECTIONS, terms=list(capacity.QUADRATIC_TERMS),
               curve_steps=[i + 1 for i in idx], restart_curves=[[float(c[i]) for i in idx] for c in r.restart_curves])
    return out


def backprop_data(r: backprop.BackpropResult, residual: list) -> dict:
    """Part 1.5: the checks of the δ recursions and one worked update."""
    ex = r.update_example
    return {"n_problems": r.n_problems, "shapes": [{"sizes": list(s), "batch": n} for s, n in r.shapes],
            "errors": {k: list(v) for k, v in r.errors.items()},
            "torch_errors": list(r.torch_errors) if r.torch_errors is not None else None,
            "update_example": {"sizes": list(ex["sizes"]), "eta": ex["eta"], "loss_before": ex["loss_before"],
                               "loss_after": ex["loss_after"]},
            "explicit_sum_error": r.explicit_sum_error, "delta3_residual": [_l(v) for v in residual]}


def collect(fast: bool = False, cache_dir: Path | None = None, verbose: int = 1) -> dict:
    """Run every derivation, check and experiment; ``cache_dir=None`` reruns the trainings."""
    say = print if verbose else (lambda *a, **k: None)
    say("part 1: optimisation (sympy)")
    opt = optimisation_data(optimisation.analyse())
    say("part 2: ReLU gradient")
    act = activation_data(activation.analyse(n_checks=50 if fast else 500))
    settings = overfitting.FAST if fast else overfitting.FULL
    say(f"part 3: overfitting ({'fast' if fast else 'full'} runs; cache: {cache_dir or 'off'})")
    sets = overfitting.load_sets(settings)
    over = {"settings": asdict(settings),
            "size": overfitting.size_curve(settings, sets, cache_dir, verbose),
            "complexity": overfitting.complexity_curve(settings, sets, cache_dir, verbose),
            "early_stopping": overfitting.early_stopping_run(settings, sets, cache_dir, verbose)}
    say("part 4: capacity (z^2 network)")
    cap = (capacity.analyse(n_samples=3000, steps=1500, restarts=3) if fast
           else capacity.analyse(n_samples=10000, steps=2000, restarts=4))
    say("part 5: backpropagation")
    bp = backprop.analyse(n_problems=4 if fast else 12)
    return {"fast": fast, "optimisation": opt, "activation": act, "overfitting": over,
            "capacity": capacity_data(cap), "backprop": backprop_data(bp, backprop.symbolic_delta3_residual(3))}


def to_json(data: dict) -> str:
    """``data`` as ``theory.json`` holds it (tuples become lists, so a reload compares equal)."""
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def write_report(data: dict, out_dir, pdf: bool = True, engine: str | None = "typst") -> Path:
    """Write ``theory.json``, the figures, ``theory.md``, ``theory.tex`` and (with ``pdf``) ``theory.pdf``.

    ``engine`` typesets the PDF: ``"typst"``, ``"latex"`` or None for LaTeX
    when an engine is installed, Typst otherwise (:func:`.pdf.resolve_engine`);
    the report names it. Returns the Markdown path.
    """
    from ..atomic import atomic_write_text
    from . import figures, render
    from .pdf import markdown_to_latex, markdown_to_pdf, resolve_engine

    engine = resolve_engine(engine) if pdf else None  # an engine that is not there fails before any work
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = json.loads(to_json(data))  # render exactly what a reader of theory.json gets
    atomic_write_text(out / JSON_NAME, to_json(data))
    figures.write_figures(data, out)
    path = out / MARKDOWN_NAME
    text = render.markdown(data, engine)
    atomic_write_text(path, text)
    atomic_write_text(out / TEX_NAME, markdown_to_latex(text))
    if pdf:
        markdown_to_pdf(path, out / PDF_NAME, engine)
    return path
