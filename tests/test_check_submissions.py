"""ffnn check on whole submissions, in the sandbox: a correct one, planted mistakes, hostile code.

The submissions are built from ``tests/fixtures/check/`` (see its
``variants.py``). Each mistake is checked only for the parts it concerns, and
the submissions of one part are checked together with ``jobs=2``, so the
whole module stays within its time budget on two cores.
"""
import importlib.util
import json
import os
import socket
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from ffnn.check import CHECK_IDS, check_submission, check_submissions
from ffnn.check.sandbox import bwrap

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "check"))
import variants  # noqa: E402

pytestmark = pytest.mark.skipif(bwrap() is None, reason="bubblewrap (bwrap) is not installed: the check's sandbox "
                                                        "tests need it (apt-get install bubblewrap)")

HAS_NOTEBOOK_CHECKS = importlib.util.find_spec("ffnn.check.notebook") is not None


@pytest.fixture(scope="module")
def correct(tmp_path_factory):
    folder = variants.build("correct", tmp_path_factory.mktemp("check") / "correct")
    return check_submission(folder, sandbox="required")


def test_correct_submission_passes_every_check(correct):
    assert [c.id for c in correct.checks] == [i for ids in CHECK_IDS.values() for i in ids]
    for c in correct.checks:
        if c.id.startswith("notebook.") and not HAS_NOTEBOOK_CHECKS:
            assert c.status == "skip"
        else:
            assert (c.id, c.status, c.mistake) == (c.id, "pass", None), c.message
    assert correct.ok


def test_correct_submission_reports_the_evidence(correct):
    by_id = {c.id: c for c in correct.checks}
    layers = by_id["scratch.gradient"].evidence["layers"]
    assert len(layers) == 3 and all(r["relative_error"] < 1e-6 and abs(r["cosine"] - 1) < 1e-9 for r in layers)
    for learns in ("scratch.learns", "torch.learns", "tf.learns"):
        assert by_id[learns].evidence["val_accuracy"][-1] >= by_id[learns].evidence["threshold"]
    assert by_id["tf.schedule"].evidence["expected"] == [5, 4, 3, 2, 1, 1, 1, 1]
    assert by_id["torch.output_loss"].evidence["pair"] == "cross-entropy"


def _by_part(part):
    return [n for n, v in variants.MISTAKES.items() if v.parts == (part,)]


@pytest.fixture(scope="module")
def mistakes(tmp_path_factory):
    root = tmp_path_factory.mktemp("mistakes")
    results = {}
    for part in ("scratch", "torch", "tf"):
        names = _by_part(part)
        paths = [variants.build(n, root / n) for n in names]
        results.update(zip(names, check_submissions(paths, jobs=2, parts=(part,), sandbox="required")))
    return results


def test_there_are_ten_and_more_planted_mistakes():
    assert len(variants.MISTAKES) >= 10


@pytest.mark.parametrize("name", sorted(variants.MISTAKES))
def test_a_planted_mistake_fails_exactly_the_checks_it_concerns(mistakes, name):
    variant = variants.MISTAKES[name]
    result = mistakes[name]
    json.dumps(result.to_dict(), allow_nan=False)
    for c in result.checks:
        part = c.id.split(".")[0]
        if c.id in variant.fails:
            assert c.status == "fail", (c.id, c.message)
            assert c.hint, c.id
            if variant.fails[c.id] is not None:
                assert c.mistake == variant.fails[c.id]
        elif c.id in variant.errors:
            assert c.status == "error", (c.id, c.message)
        elif part in variant.parts or part == "submission":
            assert c.status == "pass", (c.id, c.message)
            assert c.mistake == variant.notes.get(c.id), c.id
        else:
            assert c.status == "skip"


def test_a_version_difference_is_an_error_that_does_not_blame_the_team(mistakes):
    for c in mistakes["keras2-lr"].checks:
        if c.status == "error":
            assert "version difference, not the team's mistake" in c.message and "lr=" in c.message


def test_a_wrong_gradient_is_reported_per_layer(mistakes):
    gradient = next(c for c in mistakes["softmax-diagonal"].checks if c.id == "scratch.gradient")
    layers = gradient.evidence["layers"]
    assert [r["layer"] for r in layers] == [1, 2, 3]
    assert all(r["relative_error"] > 1e-3 and 0.5 < r["cosine"] < 1 for r in layers)
    assert "ŷ_i(δ_ij − ŷ_j)" in gradient.hint


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """Every hostile submission checked at once, with what the tests look at afterwards."""
    root = tmp_path_factory.mktemp("hostile")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.2)
    outside = Path(tempfile.mkdtemp(dir="/var/tmp" if os.path.isdir("/var/tmp") else None)) / "outside.txt"
    marker = f"ffnn-check-test-{uuid.uuid4().hex}"
    values = {"outside": str(outside), "port": listener.getsockname()[1], "marker": marker}
    names = sorted(variants.HOSTILE)
    paths = [variants.build(n, root / n, **values) for n in names]
    # The endless loop gets a short time limit of its own; the others end by themselves.
    looping = names.index("infinite-loop")
    results = check_submissions(paths[:looping] + paths[looping + 1:], jobs=2, parts=("scratch",), sandbox="required")
    results.insert(looping, check_submission(paths[looping], parts=("scratch",), timeout=3, sandbox="required"))
    try:
        connected = listener.accept()
        connected[0].close()
        connected = True
    except OSError:
        connected = False
    listener.close()
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    left.append(pid)
        except OSError:
            pass
    yield dict(zip(names, results)), {"outside": outside, "connected": connected, "left": left}
    outside.unlink(missing_ok=True)
    outside.parent.rmdir()


@pytest.mark.parametrize("name", sorted(variants.HOSTILE))
def test_hostile_code_is_reported(hostile, name):
    results, _ = hostile
    json.dumps(results[name].to_dict(), allow_nan=False)
    gradient = next(c for c in results[name].checks if c.id == "scratch.gradient")
    assert gradient.status == variants.HOSTILE[name][2], gradient.message


def test_hostile_code_harms_nothing(hostile):
    results, seen = hostile
    assert not seen["outside"].exists()
    assert not seen["connected"]
    assert seen["left"] == []


def test_hostile_errors_say_what_happened(hostile):
    results, _ = hostile

    def gradient(name):
        return next(c for c in results[name].checks if c.id == "scratch.gradient")

    assert "stopped after 3 s" in gradient("infinite-loop").message
    assert "ran out of memory" in gradient("allocate-16-gib").message
    assert "exit status 3" in gradient("os-exit").message
    assert "SyntaxError" in gradient("syntax-error").message and "line" in gradient("syntax-error").message
    assert "sys.exit" in gradient("sys-exit").message
    assert "Read-only file system" in gradient("write-outside").message
    assert gradient("patched-allclose").mistake == "softmax-jacobian-diagonal"
    assert gradient("print-100-mb").evidence["printed_bytes"] >= 100 << 20


def test_results_do_not_depend_on_jobs(tmp_path):
    paths = [variants.build(n, tmp_path / n) for n in ("correct", "softmax-diagonal", "update-sign")]
    one = check_submissions(paths, jobs=1, parts=("scratch",), sandbox="required")
    two = check_submissions(paths, jobs=2, parts=("scratch",), sandbox="required")
    assert [r.to_dict() for r in one] == [r.to_dict() for r in two]
    assert [r.path for r in two] == [str(p) for p in paths]
