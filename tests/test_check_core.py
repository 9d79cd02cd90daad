"""ffnn check's pieces that run in this process: the mistake catalogue, the loss pairs, scope, limits.

The catalogue's true gradient is checked against central differences; each
named mistake is planted by hand (not by the catalogue's own code) and must
be named back. Nothing here runs a submission's code.
"""
import importlib
import sys
import textwrap

import numpy as np
import pytest

import ffnn.check as check
from ffnn.check import mistakes as M
from ffnn.check import sandbox, scope, torch_part
from ffnn.check.outcome import version_difference


def _net(sizes=(7, 5, 4, 3), seed=0):
    rng = np.random.default_rng(seed)
    weights = [rng.uniform(-0.9, 0.9, (n_out, n_in)) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    x = rng.uniform(0, 1, sizes[0])
    y = np.eye(sizes[-1])[1]
    return weights, x, y


def _loss(weights, x, y):
    p = M.forward(weights, x)[0][-1]
    return np.mean((y - p) ** 2)


def test_true_gradient_matches_central_differences():
    weights, x, y = _net()
    grads = M.gradient(weights, x, y)
    h = 1e-6
    for l, W in enumerate(weights):
        fd = np.zeros_like(W)
        for idx in np.ndindex(W.shape):
            plus = [w.copy() for w in weights]
            minus = [w.copy() for w in weights]
            plus[l][idx] += h
            minus[l][idx] -= h
            fd[idx] = (_loss(plus, x, y) - _loss(minus, x, y)) / (2 * h)
        assert np.linalg.norm(grads[l] - fd) / np.linalg.norm(fd) < 1e-6


def _hand_backprop(weights, x, y, output_error):
    """Backpropagation written out for the tests: ``output_error(p, g, z)`` gives δ_L."""
    a, z = [x], []
    for l, W in enumerate(weights):
        z.append(W @ a[-1])
        a.append(np.exp(z[-1]) / np.exp(z[-1]).sum() if l == len(weights) - 1 else 1 / (1 + np.exp(-z[-1])))
    p = a[-1]
    delta = output_error(p, 2 * (p - y) / len(y), z[-1])
    grads = [None] * len(weights)
    for l in range(len(weights) - 1, -1, -1):
        grads[l] = np.outer(delta, a[l])
        if l:
            delta = weights[l].T @ delta * a[l] * (1 - a[l])
    return grads


DIAGONAL = lambda p, g, z: g * p * (1 - p)  # noqa: E731
NO_DERIVATIVE = lambda p, g, z: g  # noqa: E731
FULL = lambda p, g, z: (np.diag(p) - np.outer(p, p)) @ g  # noqa: E731


@pytest.mark.parametrize("planted, change, expected", [
    (FULL, lambda gs: gs, ""),
    (DIAGONAL, lambda gs: gs, "softmax-jacobian-diagonal"),
    (NO_DERIVATIVE, lambda gs: gs, "missing-output-derivative"),
    (FULL, lambda gs: [-g for g in gs], "wrong-sign"),
    (FULL, lambda gs: [g.T for g in gs], "transposed"),
    (FULL, lambda gs: [5 * g for g in gs], "scaled"),
    (DIAGONAL, lambda gs: [-g for g in gs], "softmax-jacobian-diagonal+wrong-sign"),
    (NO_DERIVATIVE, lambda gs: [0.5 * g.T for g in gs], "missing-output-derivative+transposed+scaled"),
])
def test_catalogue_names_planted_mistakes(planted, change, expected):
    weights, x, y = _net()
    grads = change(_hand_backprop(weights, x, y, planted))
    found = M.match(grads, weights, x, y)
    assert found is not None and found.mistake == expected


def test_catalogue_names_a_sigmoid_output():
    weights, x, y = _net()
    a = [x]
    for W in weights:
        a.append(1 / (1 + np.exp(-(W @ a[-1]))))  # sigmoid everywhere, its own derivative at the output
    s = a[-1]
    delta = 2 * (s - y) / len(y) * s * (1 - s)
    grads = [None] * len(weights)
    for l in range(len(weights) - 1, -1, -1):
        grads[l] = np.outer(delta, a[l])
        delta = weights[l].T @ delta * a[l] * (1 - a[l])
    assert M.match(grads, weights, x, y).mistake == "output-sigmoid"


def test_unknown_gradient_is_other_and_reported_per_layer():
    weights, x, y = _net()
    grads = [g + 0.1 for g in M.gradient(weights, x, y)]
    assert M.match(grads, weights, x, y) is None
    rows = M.layer_report(grads, M.gradient(weights, x, y))
    assert [r["layer"] for r in rows] == [1, 2, 3]
    assert all(r["relative_error"] > 1e-3 and -1 <= r["cosine"] <= 1 for r in rows)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _numeric_grad(loss, z, h=1e-6):
    g = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += h
        zm[idx] -= h
        g[idx] = (loss(zp) - loss(zm)) / (2 * h)
    return g


def _bce_with_logits(q, Y):  # PyTorch's BCEWithLogitsLoss on inputs q, mean over all entries
    return np.mean(np.log1p(np.exp(-np.abs(q))) + np.maximum(q, 0) - q * Y)


@pytest.mark.parametrize("name, loss", [
    ("cross-entropy", lambda z, Y: -np.mean(np.sum(Y * np.log(_softmax(z)), axis=1))),
    ("softmax-mse", lambda z, Y: np.mean((_softmax(z) - Y) ** 2)),
    ("softmax-bce-with-logits", lambda z, Y: _bce_with_logits(_softmax(z), Y)),
    ("softmax-cross-entropy", lambda z, Y: -np.mean(np.sum(Y * np.log(_softmax(_softmax(z))), axis=1))),
    ("softmax-nll", lambda z, Y: -np.mean(np.sum(Y * _softmax(z), axis=1))),
    ("logits-bce-with-logits", lambda z, Y: _bce_with_logits(z, Y)),
])
def test_each_loss_pair_has_the_gradient_its_formula_says(name, loss):
    rng = np.random.default_rng(3)
    z = rng.normal(size=(4, 10))
    Y = np.eye(10)[[1, 4, 4, 9]]
    numeric = _numeric_grad(lambda v: loss(v, Y), z)
    formula = torch_part.PAIRS[name][2](_softmax(z), Y, z)
    scale = float(numeric.ravel() @ formula.ravel()) / float(formula.ravel() @ formula.ravel())
    assert scale > 0
    assert np.linalg.norm(numeric - scale * formula) / np.linalg.norm(numeric) < 1e-6


def test_version_differences_are_recognised_and_mistakes_are_not():
    assert "lr=" in version_difference("ValueError: Argument(s) not recognized: {'lr': 1.0}")
    assert "legacy" in version_difference("AttributeError: module 'keras.optimizers' has no attribute 'legacy'")
    assert version_difference("NameError: name 'sigmoid' is not defined") is None
    assert version_difference(None) is None


def _write(tmp_path, name, text):
    (tmp_path / name).write_text(textwrap.dedent(text))


def test_scope_reads_names_and_signatures_without_running(tmp_path):
    _write(tmp_path, "network_scratch.py", """
        raise SystemExit('never run')
        class NeuralNetwork:
            def __init__(self, shapes, epochs=50, learning_rate=0.01, random_state=1): pass
            def _forward_pass(self, x): pass
    """)
    _write(tmp_path, "utils.py", "def sigmoid(x): pass\n")
    found = scope.check_scope(tmp_path, ["scratch"])
    assert found.status == "fail"
    assert "__init__ takes (shapes" in found.message and "_backward_pass" in found.message
    assert "utils.py lacks sigmoid_deriv" in found.message


def test_scope_reports_a_syntax_error_with_its_line(tmp_path):
    _write(tmp_path, "network_tensorflow.py", "class NeuralNetworkTf(:\n    pass\n")
    found = scope.check_scope(tmp_path, ["tf"])
    assert found.status == "error" and "line 1" in found.message


def test_check_ids_cover_every_part_in_report_order():
    ids = check.check_ids()
    assert ids[0] == "submission.scope" and len(ids) == len(set(ids)) == 20
    assert check.check_ids(("torch",)) == ("submission.scope",) + check.CHECK_IDS["torch"]


def test_bad_arguments_are_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match="'gpu'"):
        check.check_submission(tmp_path, parts=("gpu",))
    with pytest.raises(ValueError, match="'maybe'"):
        check.check_submission(tmp_path, sandbox="maybe")
    with pytest.raises(NotADirectoryError, match="not a submission folder"):
        check.check_submission(tmp_path / "missing", parts=())
    with pytest.raises(ValueError, match="jobs"):
        check.check_submissions([tmp_path], jobs=0)


def test_required_sandbox_without_bubblewrap_refuses_before_running(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "bwrap", lambda: None)
    with pytest.raises(check.SandboxUnavailable, match="bubblewrap"):
        check.check_submission(tmp_path, sandbox="required")
    lines = []
    check.check_submissions([tmp_path, tmp_path], parts=("notebook",), log=lines.append)
    assert len(lines) == 1 and "without the sandbox" in lines[0]


def test_output_is_drained_and_only_its_tail_kept(tmp_path):
    code = "import sys\nfor i in range(5000): sys.stdout.write(f'{i:09d}\\n' * 100)\nprint('last line')"
    run = sandbox.run_child([sys.executable, "-c", code], tmp_path, timeout=60, sandboxed=False,
                            output_limit=4096, env={"PATH": "/usr/bin:/bin"})
    assert run.returncode == 0 and run.output_bytes > 5_000_000
    assert run.output_cut and len(run.output_tail) == 4096 and run.output_tail.endswith("last line\n")


def test_time_limit_kills_the_process_group(tmp_path):
    code = "import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n" \
           "time.sleep(60)"
    run = sandbox.run_child([sys.executable, "-c", code], tmp_path, timeout=1, sandboxed=False,
                            output_limit=1024, env={"PATH": "/usr/bin:/bin"})
    assert run.timed_out and run.returncode is None


def test_notebook_part_uses_the_notebook_module_when_present(tmp_path):
    found = check.check_submission(tmp_path, parts=("notebook",))
    notebook = [c for c in found.checks if c.id.startswith("notebook.")]
    assert [c.id for c in notebook] == list(check.CHECK_IDS["notebook"])
    if importlib.util.find_spec("ffnn.check.notebook") is None:
        assert all(c.status == "skip" for c in notebook)
    else:
        assert all(c.status in ("fail", "error", "skip") for c in notebook)  # no notebook in an empty folder


def test_sandbox_keeps_python_and_ffnn_visible_when_they_live_under_tmp(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "prefix", "/tmp/some-venv")
    monkeypatch.setattr(sandbox, "bwrap", lambda: "/usr/bin/bwrap")
    command = sandbox._command(["python"], tmp_path, True)
    text = " ".join(command)
    # Mounted back after /tmp is replaced (wherever ffnn itself lives, under /tmp too in a CI clone).
    assert "--ro-bind /tmp/some-venv /tmp/some-venv" in text
    assert text.index("--tmpfs /tmp") < text.index("--ro-bind /tmp/some-venv /tmp/some-venv")
    assert f"--bind {tmp_path} {tmp_path}" in text and "--unshare-net" in text and command[-1] == "python"
