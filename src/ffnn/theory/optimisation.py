r"""Part 1.1: the critical points of :math:`f(x, y) = x^2 y + x y^2 - 6xy`, derived with sympy.

Nothing here is typed in: the gradient, the critical points (solutions of
:math:`\nabla f = 0`), the Hessian and each point's classification come from
sympy, and the report prints what this module returns.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

__all__ = ["CriticalPoint", "OptimisationResult", "analyse", "classify", "factor_cases"]


@dataclass(frozen=True)
class CriticalPoint:
    """One solution of the gradient equations and its second-derivative test."""

    x: sp.Expr
    y: sp.Expr
    value: sp.Expr
    hessian: sp.Matrix
    det: sp.Expr
    f_xx: sp.Expr
    kind: str  # "local minimum", "local maximum", "saddle point" or "inconclusive"


@dataclass(frozen=True)
class OptimisationResult:
    f: sp.Expr
    symbols: tuple
    gradient: tuple
    hessian: sp.Matrix
    points: tuple
    unbounded_below: bool
    descent_path: sp.Expr  # f along the line x = y = t, which goes to -oo
    cases: tuple  # (equation from f_x = 0, equation from f_y = 0, solutions): one per pair of factors


def classify(det, f_xx) -> str:
    r"""The second-derivative test in two variables.

    :math:`\det H < 0`: saddle point; :math:`\det H > 0` and
    :math:`f_{xx} > 0`: local minimum; :math:`\det H > 0` and :math:`f_{xx} < 0`:
    local maximum; :math:`\det H = 0`: the test says nothing.
    """
    if det < 0:
        return "saddle point"
    if det > 0:
        return "local minimum" if f_xx > 0 else "local maximum"
    return "inconclusive"


def _equation(factor: sp.Expr) -> sp.Eq:
    """``factor = 0`` with the constant moved to the right: ``2x + y - 6`` gives ``2x + y = 6``."""
    const, rest = factor.as_coeff_Add()
    return sp.Eq(rest, -const, evaluate=False)


def factor_cases(gradient, symbols) -> tuple:
    """The case analysis of ``gradient = 0`` when each component is a product.

    A product is zero when one of its factors is, so every pair (a factor of
    the first component, a factor of the second) gives a system of two
    equations; returns ``(equation_1, equation_2, solutions)`` for each pair.
    """
    factors = [[f for f, _ in sp.factor_list(g)[1]] for g in gradient]
    return tuple((_equation(a), _equation(b), tuple(sp.solve((a, b), symbols, dict=True)))
                 for a in factors[0] for b in factors[1])


def analyse(f: sp.Expr | None = None) -> OptimisationResult:
    """Gradient, critical points and their classification for ``f(x, y)``.

    ``f`` defaults to the problem set's :math:`x^2 y + x y^2 - 6xy`; it must be
    a polynomial in the symbols ``x`` and ``y`` (real).
    """
    x, y = sp.symbols("x y", real=True)
    if f is None:
        f = x**2 * y + x * y**2 - 6 * x * y
    grad = (sp.factor(sp.diff(f, x)), sp.factor(sp.diff(f, y)))
    hess = sp.hessian(f, (x, y))
    solutions = sp.solve(grad, (x, y), dict=True)
    points = []
    for sol in solutions:
        px, py = sp.nsimplify(sol[x]), sp.nsimplify(sol[y])
        h = hess.subs({x: px, y: py})
        det, fxx = sp.simplify(h.det()), sp.simplify(h[0, 0])
        points.append(CriticalPoint(px, py, sp.simplify(f.subs({x: px, y: py})), h, det, fxx,
                                    classify(det, fxx)))
    points.sort(key=lambda p: (float(p.x), float(p.y)))
    t = sp.symbols("t", real=True)
    path = sp.expand(f.subs({x: t, y: t}))
    unbounded = sp.limit(path, t, -sp.oo) == -sp.oo
    return OptimisationResult(f, (x, y), grad, hess, tuple(points), bool(unbounded), path,
                              factor_cases(grad, (x, y)))
