r"""Part 1.1: the critical points of :math:`f(x, y) = x^2 y + x y^2 - 6xy`, derived with sympy.

Nothing here is typed in: the gradient, the critical points (solutions of
:math:`\nabla f = 0`), the Hessian and each point's classification come from
sympy, and the report prints what this module returns.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

__all__ = ["CriticalPoint", "OptimisationResult", "analyse", "classify"]


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
    return OptimisationResult(f, (x, y), grad, hess, tuple(points), bool(unbounded), path)
