"""The theory report: every claim it makes, checked against an independently computed value.

The report's appendix names these tests next to each claim; a test in
:func:`test_report_names_only_existing_tests` keeps those names honest.
"""
import json
import re
import unicodedata
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from ffnn.cli import main as ffnn_main
from ffnn.theory import (activation, backprop, capacity, claims, figures, optimisation, overfitting, pdf, render,
                         report)


# ------------------------------------------------------------------ the report

DOCS = Path(__file__).resolve().parents[1] / "docs" / "theory"
#: The problem set's numbering, in order, then the report's last two sections.
SECTIONS = ("1.1 ", "1.2 ", "1.3 ", "1.3.1 ", "1.3.2 ", "1.3.3 ", "1.4 ", "1.5 ", "References", "Appendix")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A fast build through the command-line entry point, without the cache, PDF (Typst) included."""
    out = tmp_path_factory.mktemp("theory")
    assert ffnn_main(["theory", "--out", str(out), "--fast", "--no-cache", "--quiet", "--engine", "typst"]) == 0
    return out


def test_fast_build_writes_markdown_json_tex_pdf_and_figures(built):
    from PIL import Image

    text = (built / "theory.md").read_text()
    headings = [line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")]
    assert [next(i for i, h in enumerate(headings) if h.startswith(s)) for s in SECTIONS] == sorted(
        next(i for i, h in enumerate(headings) if h.startswith(s)) for s in SECTIONS)
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)\{width=(\d+)%\}", text)
    assert [f for f, _ in images] == [figures.FIGURES[k] for k in figures.ORDER]
    for (name, width), key in zip(images, figures.ORDER):
        assert int(width) == figures.width_percent(key)
        with Image.open(built / name) as im:
            assert im.format == "PNG" and im.size[0] > 300
    assert text.count("$$") % 2 == 0  # every display-maths block is closed
    assert "| $(2, 2)$ | $-8$ |" in text and "local minimum |" in text
    data = json.loads((built / "theory.json").read_text())
    assert render.markdown(data, "typst") == text
    tex = (built / "theory.tex").read_text()
    assert tex.startswith("%") or "\\documentclass" in tex
    assert "\\subsubsection{1.3.1 Error against the amount of training data}" in tex


def test_fast_pdf_has_the_text_maths_and_figures(built):
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(built / "theory.pdf")
    text = unicodedata.normalize("NFKC", " ".join(page.extract_text() for page in reader.pages))  # 𝐻 is H
    data = json.loads((built / "theory.json").read_text())
    for phrase in ("1.1 Optimisation", "1.5 Backpropagation", "one-standard-error rule", "early stopping",
                   "typeset by Typst"):
        assert phrase in text, phrase
    cx = data["overfitting"]["complexity"]
    assert re.search(rf"H\s?=\s?{cx['supported_width']}\b", text)
    # Every PNG is embedded: one image per figure.
    assert sum(len(page.images) for page in reader.pages) == len(figures.FIGURES)


def test_report_names_only_existing_tests(built):
    text = (built / "theory.md").read_text() + DOCS.joinpath("theory.md").read_text()
    named = set(re.findall(r"`(test_\w+)`", text))
    assert named == {t for *_, tests in render.CHECKS for t in tests} and len(named) >= 15
    assert named <= set(globals()), sorted(named - set(globals()))


def test_main_rejects_missing_out(capsys):
    assert ffnn_main(["theory", "--fast"]) == 2
    assert "--out" in capsys.readouterr().err


def test_engine_choice(monkeypatch, tmp_path, capsys):
    """LaTeX when an engine is installed, Typst otherwise; asking for LaTeX without one is a one-line error."""
    monkeypatch.setattr(pdf.shutil, "which", lambda name: "/usr/bin/xelatex" if name == "xelatex" else None)
    assert pdf.resolve_engine(None) == "latex" == pdf.resolve_engine("latex")
    monkeypatch.setattr(pdf.shutil, "which", lambda name: None)
    assert pdf.resolve_engine(None) == "typst" == pdf.resolve_engine("typst")
    with pytest.raises(ValueError, match="'latex' needs"):
        pdf.resolve_engine("latex")
    with pytest.raises(ValueError, match="'word'"):
        pdf.resolve_engine("word")
    assert ffnn_main(["theory", "--out", str(tmp_path / "r"), "--engine", "latex", "--fast", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "latex" in err and not (tmp_path / "r").exists()  # refused before any work
    # The report names its engine.
    data = json.loads(DOCS.joinpath("theory.json").read_text())
    assert "typeset by LaTeX" in render.markdown(data, "latex") and "No PDF" in render.markdown(data, None)


def test_no_function_in_the_theory_package_passes_80_lines():
    import ast

    package = Path(render.__file__).parent
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                assert node.end_lineno - node.lineno < 80, f"{path.name}:{node.name}"


# -------------------------------------------------------- the committed report


@pytest.fixture(scope="module")
def committed():
    return json.loads(DOCS.joinpath("theory.json").read_text())


def test_committed_report_matches_json(committed, tmp_path):
    """theory.md and theory.tex are what the code writes from theory.json; the figures are what it draws from it,
    each at its printed width, so a font size in the figure is its size on paper: none below 7 pt."""
    from matplotlib.text import Text
    from PIL import Image

    assert not committed["fast"]
    md_text = DOCS.joinpath("theory.md").read_text()
    engine = "latex" if "typeset by LaTeX" in md_text else "typst"  # `make theory` uses LaTeX where installed
    assert render.markdown(committed, engine) == md_text
    assert pdf.markdown_to_latex(md_text) == DOCS.joinpath("theory.tex").read_text()
    assert report.to_json(committed) == DOCS.joinpath("theory.json").read_text()
    for name in figures.ORDER:
        fig = figures.build(name, committed)
        fig.draw_without_rendering()
        assert fig.get_figwidth() == pytest.approx(figures.width_percent(name) / 100 * figures.TEXT_WIDTH)
        sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
        assert len(sizes) > 5 and min(sizes) >= figures.MIN_FONT_PT >= 7, name
        with Image.open(figures.save(fig, name, tmp_path)) as new, Image.open(DOCS / figures.FIGURES[name]) as old:
            a, b = np.asarray(new.convert("L"), float), np.asarray(old.convert("L"), float)
            assert a.shape == b.shape, name
            assert np.mean(np.abs(a - b) > 32) < 5e-4, name  # redrawn: the same picture (a 2-point shift moves 0.27%)


def test_no_pdf_writes_everything_else(committed, tmp_path, monkeypatch):
    """What `ffnn theory --no-pdf` writes from the data (figures drawn above, not again here)."""
    monkeypatch.setattr(figures, "write_figures", lambda data, out: [])
    md = report.write_report(committed, tmp_path, pdf=False)
    assert md.read_text() == render.markdown(committed, None) and "No PDF was typeset" in md.read_text()
    assert (tmp_path / "theory.json").read_text() == DOCS.joinpath("theory.json").read_text()
    assert (tmp_path / "theory.tex").exists() and not (tmp_path / "theory.pdf").exists()


@pytest.fixture(scope="module")
def committed_pdf_text():
    pypdf = pytest.importorskip("pypdf")
    return [unicodedata.normalize("NFKC", p.extract_text()) for p in pypdf.PdfReader(DOCS / "theory.pdf").pages]


def test_committed_pdf_carries_the_numbers(committed, committed_pdf_text):
    """The committed PDF is this report: its text carries the JSON's key numbers, as printed."""
    text = " ".join(committed_pdf_text)
    o = committed["overfitting"]
    assert re.search(rf"H\s?=\s?{o['complexity']['supported_width']}\b", text)
    for number in (claims.pct(o["early_stopping"]["restored_test_error"]), claims.pct(o["size"]["test_error"][-1]),
                   claims.num(committed["capacity"]["loss_end"])):
        assert number in text, number


def test_committed_pdf_follows_the_problem_set(committed_pdf_text):
    """Sections in the problem set's order, references, build talk only in the appendix, two decimals at most."""
    text = "\n".join(committed_pdf_text)
    lines = [line.strip() for line in text.splitlines()]
    at = [next(i for i, line in enumerate(lines) if line.startswith(s) and len(line) < 90) for s in SECTIONS]
    assert at == sorted(at), dict(zip(SECTIONS, at))
    body = "\n".join(lines[:at[-1]])  # everything before the appendix
    assert "tests/" not in body and "ffnn theory" not in body and "test_" not in body
    assert not re.findall(r"(?<![\d.])\d+\.\d{3,}", body)  # no number with more than two decimals
    captions = re.findall(r"Figure (\d+):\s+(?:Schematic|Measured)", text)
    assert captions == [str(i) for i in range(1, len(figures.ORDER) + 1)]
    for i in range(1, len(figures.ORDER) + 1):  # each figure is cited in the text, not only captioned
        assert len(re.findall(rf"Figure {i}\b", body)) >= 2, i
    assert re.search(r"typeset\s+by\s+(Typst|LaTeX)", text) and "References" in lines


def test_committed_pdf_pages_are_full(committed_pdf_text):
    """Rendered, no page but the last is half empty, and the figures' coloured curves show."""
    pdfium = pytest.importorskip("pypdfium2")
    pages = [np.asarray(p.render(scale=0.3).to_pil().convert("RGB"), dtype=int)
             for p in pdfium.PdfDocument(str(DOCS / "theory.pdf"))]
    assert len(pages) == len(committed_pdf_text)
    for i, page in enumerate(pages[:-1]):
        h = page.shape[0]
        ink = (page.min(axis=2) < 200).any(axis=1)[int(0.07 * h):int(0.92 * h)]  # inside the margins
        longest, run = 0, 0
        for row in ink:
            run = 0 if row else run + 1
            longest = max(longest, run)
        assert longest < 0.5 * len(ink), f"page {i + 1} is half empty"
    coloured = [np.mean(np.ptp(p, axis=2) > 80) for p in pages]  # saturated pixels: plot lines, not text
    assert sum(c > 1e-3 for c in coloured) >= 4


def test_committed_deterministic_parts_regenerate(committed):
    """The derived parts are recomputed and compared with the committed JSON."""
    assert json.loads(report.to_json(report.optimisation_data(optimisation.analyse()))) == committed["optimisation"]
    act = json.loads(report.to_json(report.activation_data(
        activation.analyse(n_checks=committed["activation"]["n_checks"]))))
    assert act.keys() == committed["activation"].keys()
    for k, v in committed["activation"].items():  # the floats are finite-difference errors: rounding may differ
        assert act[k] == (v if isinstance(v, str) else pytest.approx(v, rel=0.5, abs=1e-9)), k
    assert committed["backprop"]["delta3_residual"] == ["0", "0", "0"]
    s = overfitting.FULL
    o = committed["overfitting"]
    assert o["settings"] == json.loads(report.to_json(asdict(s)))
    assert o["size"]["sizes"] == list(s.sizes) and o["complexity"]["widths"] == list(s.hidden)


def test_committed_overfitting_numbers(committed):
    """The measured numbers of 1.3 against what the problem set asks of them, recomputed from the JSON."""
    o = committed["overfitting"]
    a, b, c = o["size"], o["complexity"], o["early_stopping"]
    # 1.3.1: one budget for every size: n times its repeats is the same for all.
    assert {n * k for n, k in zip(a["sizes"], a["repeats"])} == {a["presentations"]}
    # 1.3.2: the line at the largest width within one standard error of the lowest validation error; the
    # one-SE rule's choice is the smallest such width.
    v = b["val_error"]
    e = min(v)
    se = (e * (1 - e) / o["settings"]["n_val"]) ** 0.5
    within = [h for h, x in zip(b["widths"], v) if x <= e + se]
    assert b["supported_width"] == within[-1] and b["chosen_width"] == within[0]
    assert b["widths"][0] < within[-1] < b["widths"][-1]
    # 1.3.3: the early-stopped weights are the best epoch's, and the run without it is the same run, longer.
    assert c["prefix_identical"] and c["best_epoch"] == int(np.argmin(c["es"]["val_loss"])) + 1
    assert c["restored_val_error"] == pytest.approx(c["recorded_best_val_error"], abs=1e-9)


# --------------------------------------------------------------- optimisation


def test_optimisation_critical_points():
    r = optimisation.analyse()

    # By hand: f_x = 2xy + y^2 - 6y = y(2x + y - 6), f_y = x^2 + 2xy - 6x = x(x + 2y - 6).
    def grad(x, y):
        return (2 * x * y + y * y - 6 * y, x * x + 2 * x * y - 6 * x)

    def hess(x, y):
        return np.array([[2 * y, 2 * x + 2 * y - 6], [2 * x + 2 * y - 6, 2 * x]], dtype=float)

    # The four cases of the factored equations: y = 0 or y = 6 - 2x, and x = 0 or x = 6 - 2y.
    # y=0,x=0 -> (0,0); y=0,x=6 -> (6,0); x=0,y=6 -> (0,6); y=6-2x and x=6-2y -> x=y=2.
    expected = {(0, 0): "saddle point", (6, 0): "saddle point", (0, 6): "saddle point", (2, 2): "local minimum"}
    found = {(int(p.x), int(p.y)): p for p in r.points}
    assert set(found) == set(expected)
    for (x, y), kind in expected.items():
        assert grad(x, y) == (0, 0)
        h = hess(x, y)
        det = h[0, 0] * h[1, 1] - h[0, 1] * h[1, 0]
        p = found[(x, y)]
        assert float(p.det) == det and float(p.f_xx) == h[0, 0]
        assert np.array_equal(np.array(p.hessian, dtype=float), h)
        assert p.kind == kind
        assert float(p.value) == x * x * y + x * y * y - 6 * x * y
    assert hess(2, 2)[0, 0] > 0 and np.all(np.linalg.eigvalsh(hess(2, 2)) > 0)
    for point in [(0, 0), (6, 0), (0, 6)]:
        eig = np.linalg.eigvalsh(hess(*point))
        assert eig.min() < 0 < eig.max()
    # Not a global minimum: f(-10, -10) = -1000 - 1000 - 600.
    assert r.unbounded_below and -2600 < float(found[(2, 2)].value)


def test_classify_second_derivative_test():
    assert optimisation.classify(-1, 5) == "saddle point"
    assert optimisation.classify(3, 2) == "local minimum"
    assert optimisation.classify(3, -2) == "local maximum"
    assert optimisation.classify(0, 1) == "inconclusive"


# ------------------------------------------------------------------ activation


def test_relu_gradient_matches_finite_differences():
    rng = np.random.default_rng(7)
    h = 1e-6
    for _ in range(100):
        b, x, w = rng.normal(), rng.normal(size=4), rng.normal(size=4)
        z = b + x @ w
        if abs(z) < 1e-3:
            continue
        f = lambda b_, w_: max(0.0, b_ + float(np.dot(x, w_)))  # noqa: E731
        num_b = (f(b + h, w) - f(b - h, w)) / (2 * h)
        num_w = np.array([(f(b, w + h * e) - f(b, w - h * e)) / (2 * h) for e in np.eye(4)])
        g_b, g_w = activation.relu_grad(b, x, w)
        assert g_b == pytest.approx(num_b, abs=1e-7)
        np.testing.assert_allclose(g_w, num_w, atol=1e-7)
        assert g_b == (1.0 if z > 0 else 0.0)
    r = activation.analyse(n_checks=50)
    assert r.max_abs_error < 1e-7 and r.min_distance_to_kink > 0
    assert str(r.d_b) == "Heaviside(b + w*x)" and str(r.d_w) == "x*Heaviside(b + w*x)"


def test_relu_kink_has_no_derivative():
    x, w = np.array([1.0, -2.0]), np.array([2.0, 1.0])  # x @ w = 0, so z = b = 0 is the kink
    assert activation.relu_grad(0.0, x, w) == (0.0, pytest.approx(0 * x))
    g_b, g_w = activation.relu_grad(0.0, x, w, at_kink=1.0)
    assert g_b == 1.0 and np.array_equal(g_w, x)
    with pytest.raises(ValueError, match="1.5"):
        activation.relu_grad(0.0, x, w, at_kink=1.5)
    h = 1e-3
    right, left = (max(0, h) - 0) / h, (0 - max(0, -h)) / h
    r = activation.analyse(n_checks=5)
    assert (float(r.right_derivative), float(r.left_derivative)) == (right, left) == (1.0, 0.0)
    assert r.kink_central_difference == pytest.approx(0.5)
    assert float(r.sympy_heaviside_at_0) == 0.5


# ----------------------------------------------------------------- overfitting


def _forward_error(weights, x, y):
    """Independent forward pass: sigmoid hidden layers, softmax (argmax) output."""
    a = x.astype(np.float64)
    for i, (W, b) in enumerate(weights):
        z = a @ W.astype(np.float64) + b
        a = z if i == len(weights) - 1 else 1 / (1 + np.exp(-z))
    return float(np.mean(a.argmax(axis=1) != y))


def test_overfitting_runs():
    s = overfitting.FAST
    sets = overfitting.load_sets(s)
    (x, y), (xv, yv), (xt, yt) = sets
    # Validation images are the last n_val training images, disjoint from every training set used.
    assert len(xv) == s.n_val and s.complexity_n <= 60000 - s.n_val

    a = overfitting.size_curve(s, sets)
    assert a["sizes"] == list(s.sizes) and a["steps"] == s.size_presentations // s.batch_size
    assert [n * k for n, k in zip(a["sizes"], a["repeats"])] == [s.size_presentations] * len(s.sizes)
    assert a["train_error"][0] == 0.0  # 10 images are memorised
    assert a["test_error"][0] > a["test_error"][-1]

    b = overfitting.complexity_curve(s, sets)
    assert b["widths"] == list(s.hidden) and b["noisy_fraction"] == pytest.approx(s.label_noise, abs=0.01)
    e = min(b["val_error"])
    se = (e * (1 - e) / s.n_val) ** 0.5
    within = [h for h, v in zip(b["widths"], b["val_error"]) if v <= e + se]
    assert b["chosen_width"] == within[0] and b["supported_width"] == within[-1]

    c, model = overfitting.early_stopping_run(s, sets, return_model=True)
    val_loss = c["es"]["val_loss"]
    assert c["best_epoch"] == int(np.argmin(val_loss)) + 1
    if c["stopped_epoch"]:
        assert c["stopped_epoch"] == c["best_epoch"] + s.es_patience == len(val_loss)
    assert c["prefix_identical"]
    np.testing.assert_allclose(val_loss, c["full"]["val_loss"][:len(val_loss)], rtol=0, atol=1e-12)
    # The restored weights, re-measured by an independent forward pass, are the best epoch's.
    restored = _forward_error(model.export_weights(), xv, yv)
    assert restored == pytest.approx(1 - c["es"]["val_accuracy"][c["best_epoch"] - 1], abs=1e-9)
    assert restored == pytest.approx(c["restored_val_error"], abs=1e-9)


def test_noisy_labels_change_exactly_the_fraction_asked():
    y = np.arange(1000) % 10
    noisy = overfitting.noisy_labels(y, 0.2, seed=1)
    assert np.sum(noisy != y) == 200 and noisy.min() >= 0 and noisy.max() <= 9
    assert np.array_equal(noisy, overfitting.noisy_labels(y, 0.2, seed=1))
    with pytest.raises(ValueError, match="0.95"):
        overfitting.Settings(label_noise=0.95)
    with pytest.raises(ValueError, match="7"):
        overfitting.Settings(sizes=(7,), size_presentations=100)


def test_chosen_width_is_the_one_standard_error_rule():
    # Lowest validation error 0.29 on 5,000 images: SE = sqrt(0.29 * 0.71 / 5000) = 0.00642.
    r = overfitting.chosen_width([1, 2, 4, 8], [0.5, 0.30, 0.29, 0.31], 5000)
    assert r["best_width"] == 4 and r["se"] == pytest.approx(0.00642, abs=1e-5)
    assert r["width"] == 4 == r["largest_width"] and r["within_se"] == [4] and not r["at_extreme"]  # 0.30 > 0.2964
    r = overfitting.chosen_width([1, 2, 4, 8, 16], [0.5, 0.295, 0.29, 0.296, 0.31], 5000)
    assert r["within_se"] == [2, 4, 8]  # 0.295 and 0.296 <= 0.2964
    assert r["width"] == 2 and r["largest_width"] == 8  # the one-SE rule's simplest; the most complex supported
    assert overfitting.chosen_width([1, 2], [0.2, 0.1], 5000)["at_extreme"]  # the widest is best: axis too short
    with pytest.raises(ValueError, match="2 widths and 1"):
        overfitting.chosen_width([1, 2], [0.1], 5000)


def test_number_formats():
    assert claims.pct(0.14488) == "14.49%" and claims.pct(0.5) == "50.00%" and claims.pct(0) == "0.00%"
    assert claims.points(0.0424, 0.0378) == "0.46 points"  # from 4.24% and 3.78% as printed
    assert claims.points(0.04244, 0.03776) == "0.46 points"  # not 0.47: the printed numbers' difference
    assert claims.num(0.51854) == "0.52" and claims.sci(1.3254e-5) == "1.3\\times 10^{-5}"
    assert claims.sci(9.96e-3) == "1.0\\times 10^{-2}" and claims.sci(0) == "0"


def test_early_stopping_replayed_on_a_curve():
    # Lowest at epoch 3; epochs 4, 5 and 6 are no lower, so patience 3 stops after epoch 6.
    assert claims.patience_stop([5, 4, 3, 3.5, 3.2, 3.1, 3.6], 3) == (3, 6)
    assert claims.patience_stop([5, 4, 3, 2], 3) == (4, None)
    assert claims.patience_stop([5, 4, 4, 4], 2) == (2, 4)  # equal is not better


def test_claims_follow_the_numbers(committed):
    """Each qualitative sentence is the one the numbers call for, on hand-made and on committed numbers."""
    assert claims.trend(0.0, 0.03, 0.005) == "rises" and claims.trend(0.5, 0.1, 0.005) == "falls"
    assert claims.trend(0.1, 0.102, 0.005) == "stays level"
    # 1.3.1: falling training error is not called the textbook shape; a rise where images are shown few times
    # is called partly under-training.
    a = {"sizes": [10, 100], "repeats": [10, 1], "train_error": [0.04, 0.02], "test_error": [0.5, 0.1]}
    text = " ".join(claims.size_claims(a, 10000))
    assert "training error falls" in text and "is not the shape of Figure 1" in text
    a.update(train_error=[0.0, 0.05])
    text = " ".join(claims.size_claims(a, 10000))
    assert "training error rises" in text and "under-training" in text and "shown 1 times" in text
    # 1.3.2: 1,000 test images, lowest 0.30 (SE 1.45 points). A fall of 30 points and a rise of 5 is an L; a
    # fall of 15 and a rise of 10 a U; a rise of 1 point is no rise.
    assert claims.shape_of(0.30, 0.05, 0.0145) == "L" and claims.shape_of(0.15, 0.10, 0.0145) == "U"
    assert claims.shape_of(0.30, 0.01, 0.0145) == "level"
    b = {"widths": [1, 8, 64], "train_error": [0.6, 0.0, 0.0], "test_error": [0.6, 0.30, 0.35],
         "supported_index": 1}
    text = " ".join(claims.complexity_claims(b, 1000))
    assert "an L more than a U" in text and "cannot lower the training error (already 0.00%) and raise" in text
    assert "From $H = 8$ on" in text and "rises by 5.00 points" in text
    b["test_error"] = [0.45, 0.30, 0.40]
    assert "a U: it falls, then rises" in " ".join(claims.complexity_claims(b, 1000))
    b["test_error"][2] = 0.31
    text = " ".join(claims.complexity_claims(b, 1000))
    assert "no measurable rise" in text and "less than two standard errors" in text
    # 1.3.3: 10,000 test images; restored 19% against 31% is many standard errors; 19.0% against 19.2% is none.
    c = {"full": {"val_accuracy": [0.5, 0.8, 0.7]}, "restored_test_error": 0.19, "full_last_test_error": 0.31,
         "n_test": 10000, "stopped_epoch": 2}
    text = " ".join(claims.early_stopping_claims(c, 5000))
    assert "then rises to 30.00%" in text and "early stopping pays" in text and "12.00 points" in text
    c.update(full_last_test_error=0.192, full={"val_accuracy": [0.5, 0.8, 0.8]})
    text = " ".join(claims.early_stopping_claims(c, 5000))
    assert "it does not rise" in text and "less than two standard errors" in text
    # The committed report: its verdicts against the numbers beside them, checked here independently.
    o, md = committed["overfitting"], DOCS.joinpath("theory.md").read_text()
    a = o["size"]
    tol = 2 * (a["test_error"][-1] * (1 - a["test_error"][-1]) / o["settings"]["n_test"]) ** 0.5
    assert ("training error rises" in md) == (a["train_error"][-1] > a["train_error"][0] + tol)
    b = o["complexity"]
    te = b["test_error"]
    lo = int(np.argmin(te))
    se = (te[lo] * (1 - te[lo]) / o["settings"]["n_test"]) ** 0.5
    rise, fall = te[-1] - te[lo], te[0] - te[lo]
    assert ("an L more than a U" in md) == (2 * se < rise < fall / 4)
    c = o["early_stopping"]
    pays = c["full_last_test_error"] - c["restored_test_error"] > 2 * (
        c["restored_test_error"] * (1 - c["restored_test_error"]) / c["n_test"]) ** 0.5
    assert ("early stopping pays" in md) == pays
    val_error = 1 - np.array(c["full"]["val_accuracy"])
    assert (f"Why epoch {c['best_epoch']} and not epoch {int(np.argmin(val_error)) + 1}" in md) == (
        int(np.argmin(val_error)) + 1 != c["best_epoch"])
    assert "reasonable regulariser" in md


def test_run_cache_reuses_results(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"train_error": 0.25}

    assert overfitting.cached(tmp_path, "k", compute) == {"train_error": 0.25}
    assert overfitting.cached(tmp_path, "k", compute) == {"train_error": 0.25}
    assert len(calls) == 1
    (tmp_path / "k.json").write_text("{not json")
    assert overfitting.cached(tmp_path, "k", compute) == {"train_error": 0.25}
    assert len(calls) == 2
    s = overfitting.FAST
    assert s.key("size", n=10) != s.key("size", n=11)


def test_overfitting_rejects_overlapping_validation():
    s = overfitting.Settings(sizes=(10,), complexity_n=59000, n_val=5000)
    with pytest.raises(ValueError, match="59000"):
        overfitting.complexity_curve(s, sets=((None, None), (None, None), (None, None)))


# -------------------------------------------------------------------- capacity


def test_capacity_construction():
    rng = np.random.default_rng(3)
    for _ in range(10):
        b0, b1 = rng.normal(0, 3, 2)
        x = rng.normal(0, 2, (200, 2))
        # By hand: h1 = (x1 + x2)^2, h2 = (x1 - x2)^2, logit = b0 + b1/4 (h1 - h2) = b0 + b1 x1 x2.
        expected = 1 / (1 + np.exp(-(b0 + b1 * x[:, 0] * x[:, 1])))
        np.testing.assert_allclose(capacity.forward(capacity.construction(b0, b1), x), expected, rtol=1e-12)
        coef = capacity.implied_coefficients(capacity.construction(b0, b1))
        assert coef == pytest.approx({"1": b0, "x1": 0, "x2": 0, "x1^2": 0, "x2^2": 0, "x1*x2": b1}, abs=1e-12)
    assert capacity.symbolic_check() == 0


def test_capacity_gradients_match_finite_differences():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(30, 2)), rng.integers(0, 2, 30).astype(float)
    params = {"W1": rng.normal(size=(2, 2)), "b1": rng.normal(size=2), "v": rng.normal(size=2), "c": 0.3}
    _, grads = capacity.log_loss_grads(params, x, y)
    h = 1e-6
    for name in ("W1", "b1", "v"):
        for idx in np.ndindex(params[name].shape):
            up = {k: np.array(v, copy=True) for k, v in params.items()}
            down = {k: np.array(v, copy=True) for k, v in params.items()}
            up[name][idx] += h
            down[name][idx] -= h
            num = (capacity.log_loss_grads(up, x, y)[0] - capacity.log_loss_grads(down, x, y)[0]) / (2 * h)
            assert grads[name][idx] == pytest.approx(num, abs=1e-7)


def test_capacity_recovers_beta():
    sklearn = pytest.importorskip("sklearn.linear_model")
    r = capacity.analyse(n_samples=3000, steps=1500, restarts=3)
    # The same sample, fitted by scikit-learn.
    x, y = capacity.draw_sample((-0.5, 2.0), 3000, seed=0)
    y = y.astype(int)
    assert 0.3 < y.mean() < 0.7
    feats = np.column_stack([x[:, 0], x[:, 1], x[:, 0] ** 2, x[:, 1] ** 2, x[:, 0] * x[:, 1]])
    lr = sklearn.LogisticRegression(C=np.inf, tol=1e-10, max_iter=10000).fit(feats, y)
    oracle = dict(zip(capacity.QUADRATIC_TERMS, [lr.intercept_[0], *lr.coef_[0]]))
    assert r.coefficients == pytest.approx(oracle, abs=2e-3)
    assert r.beta_mle_quadratic == pytest.approx(oracle, abs=1e-4)
    assert r.coefficients["1"] == pytest.approx(-0.5, abs=0.2)
    assert r.coefficients["x1*x2"] == pytest.approx(2.0, abs=0.25)
    assert r.loss_end == pytest.approx(r.loss_mle_quadratic, abs=1e-5)
    assert min(r.restart_losses) == r.restart_losses[r.best_restart]


def test_capacity_hessian():
    """Our Hessian against PyTorch's, and the verdicts on the report's stalled and best starts."""
    torch = pytest.importorskip("torch")
    x, y = capacity.draw_sample((-0.5, 2.0), 10000, seed=0)
    xt, yt = torch.tensor(x), torch.tensor(y)

    def loss(t):
        u = xt @ t[:4].reshape(2, 2) + t[4:6]
        s = (u * u) @ t[6:8] + t[8]
        return torch.mean(torch.nn.functional.softplus(s) - yt * s)

    def oracle(params):
        return torch.autograd.functional.hessian(loss, torch.tensor(capacity.flatten(params))).numpy()

    theta = np.random.default_rng(5).normal(0, 0.7, 9)
    np.testing.assert_allclose(capacity.hessian(capacity.unflatten(theta), x, y),
                               oracle(capacity.unflatten(theta)), atol=1e-7)
    # The full report's starts 1 and 2 (seeds 1 and 2): a saddle where GD stalls, and the minimum.
    for seed, kind in ((1, "saddle point"), (2, "minimum up to flat directions")):
        params, _ = capacity.train_gd(x, y, steps=2000, learning_rate=0.5, seed=seed)
        c = capacity.curvature(params, x, y)
        eig = np.linalg.eigvalsh(oracle(params))
        np.testing.assert_allclose(c["eigenvalues"], eig, atol=1e-8)
        assert c["kind"] == kind
        if kind == "saddle point":
            assert eig[0] < -1e-6 and c["grad_norm"] < 1e-3  # nearly flat, yet a direction of descent
        else:
            assert np.sum(np.abs(eig) < 1e-7) == capacity.FLAT_DIRECTIONS and eig[3] > 1e-3


# ------------------------------------------------------------------- backprop


def _fd(weights, x, y, h=1e-6):
    """Central differences of 0.5 * sum((y - softmax(...))^2) / n, written independently."""
    def loss():
        a = x
        for i, (W, b) in enumerate(weights):
            z = a @ W + b
            if i < len(weights) - 1:
                a = np.where(z > 0, z, 0.0)
            else:
                e = np.exp(z - z.max(1, keepdims=True))
                a = e / e.sum(1, keepdims=True)
        return 0.5 * np.sum((y - a) ** 2) / len(x)

    grads = []
    for W, b in weights:
        pair = []
        for p in (W, b):
            g = np.zeros_like(p)
            for idx in np.ndindex(p.shape):
                old = p[idx]
                p[idx] = old + h
                up = loss()
                p[idx] = old - h
                down = loss()
                p[idx] = old
                g[idx] = (up - down) / (2 * h)
            pair.append(g)
        grads.append(pair)
    return grads


def _max_rel(a, b):
    fa = np.concatenate([g.ravel() for p in a for g in p])
    fb = np.concatenate([g.ravel() for p in b for g in p])
    return np.linalg.norm(fa - fb) / (np.linalg.norm(fa) + np.linalg.norm(fb))


def test_backprop_matches_finite_differences():
    rng = np.random.default_rng(11)
    for _ in range(6):
        _, weights, x, y = backprop.random_problem(rng)
        assert _max_rel(backprop.gradients(weights, x, y), _fd(weights, x, y)) < 1e-7
    r = backprop.analyse(n_problems=3, seed=5)
    assert max(r.errors["full"]) < 1e-7
    assert backprop.symbolic_delta3_residual(3) == [0, 0, 0]
    # The softmax Jacobian diag(p) - p p^T, against central differences of softmax itself.
    z = rng.normal(size=(1, 4))
    num = np.column_stack([(backprop.softmax(z + 1e-6 * e) - backprop.softmax(z - 1e-6 * e))[0] / 2e-6
                           for e in np.eye(4)])
    np.testing.assert_allclose(backprop.softmax_jacobian(backprop.softmax(z))[0], num, atol=1e-9)


def test_backprop_first_layer_update_lowers_loss():
    rng = np.random.default_rng(2)
    _, weights, x, y = backprop.random_problem(rng, sizes=(3, 4, 4, 3), n=1)
    W1, b1 = backprop.sgd_step_first_layer(weights, x, y, 0.1)
    fd = _fd(weights, x, y)
    np.testing.assert_allclose(W1, weights[0][0] - 0.1 * fd[0][0], atol=1e-8)
    np.testing.assert_allclose(b1, weights[0][1] - 0.1 * fd[0][1], atol=1e-8)


def test_backprop_explicit_sums():
    """The report's triple sum, factor by factor, against central differences and the deltas."""
    rng = np.random.default_rng(21)
    for _ in range(4):
        _, weights, x, y = backprop.random_problem(rng)
        explicit = backprop.first_layer_gradient_explicit(weights, x, y)
        np.testing.assert_allclose(explicit, _fd(weights, x, y)[0][0], atol=1e-8)
        np.testing.assert_allclose(explicit, backprop.gradients(weights, x, y)[0][0], rtol=1e-12, atol=1e-15)


def test_backprop_matches_torch_autograd():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(12)
    for _ in range(6):
        sizes, weights, x, y = backprop.random_problem(rng)
        params = [torch.tensor(p, requires_grad=True) for pair in weights for p in pair]
        a = torch.tensor(x)
        for i in range(3):
            z = torch.nn.functional.linear(a, params[2 * i].T, params[2 * i + 1])
            a = torch.relu(z) if i < 2 else torch.softmax(z, dim=1)
        # mse_loss averages over n * K entries; the report's loss is 0.5 * sum over K, averaged over n.
        loss = torch.nn.functional.mse_loss(a, torch.tensor(y)) * sizes[-1] / 2
        loss.backward()
        ours = [g for pair in backprop.gradients(weights, x, y) for g in pair]
        for g, p in zip(ours, params):
            np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_backprop_mistakes_disagree():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(13)
    for _ in range(4):
        _, weights, x, y = backprop.random_problem(rng)
        fd = _fd(weights, x, y)
        assert _max_rel(backprop.gradients(weights, x, y, "identity"), fd) > 1e-2
        assert _max_rel(backprop.gradients(weights, x, y, "diagonal"), fd) > 1e-2
        # "softmax' = 1" is exactly the gradient of softmax + cross-entropy, as the report says.
        params = [torch.tensor(p, requires_grad=True) for pair in weights for p in pair]
        a = torch.tensor(x)
        for i in range(3):
            z = a @ params[2 * i] + params[2 * i + 1]
            a = torch.relu(z) if i < 2 else z
        torch.nn.functional.cross_entropy(a, torch.tensor(y.argmax(1))).backward()
        ident = [g for pair in backprop.gradients(weights, x, y, "identity") for g in pair]
        for g, p in zip(ident, params):
            np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-10, atol=1e-13)
    with pytest.raises(ValueError, match="'sigmoid'"):
        backprop.gradients(weights, x, y, "sigmoid")
