"""``ffnn check`` end to end: the command line, its exit statuses and its report files.

Runs on the fixtures of tests/fixtures/check (the correct submission, and one
with the softmax-diagonal trap planted), each given a notebook built here,
with ``--parts`` restricted to the fast parts (scratch and notebook),
in-process through :func:`ffnn.cli.main`.
"""
import csv
import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

from ffnn.check import check_ids  # noqa: E402
from helpers.cli import ffnn as run_ffnn  # noqa: E402
from helpers.notebooks import notebook  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "check"))
import variants  # noqa: E402  (the fixtures of check-core: the correct submission and planted mistakes)

FAST = ["--parts", "scratch,notebook"]


def ffnn(capsys, *argv):
    """``ffnn check argv`` in this process: (exit status, stdout, stderr)."""
    return run_ffnn(capsys, "check", *argv)


def submission(tmp_path, name, variant="correct", **notebook_kwargs):
    """Fixture submission ``variant`` as ``tmp_path/name``, with a notebook built from ``notebook_kwargs``."""
    folder = variants.build(variant, tmp_path / name)
    nbformat.write(notebook(**notebook_kwargs), folder / "MNIST_classification.ipynb")
    return folder


@pytest.mark.parametrize("argv, message", [
    (["missing-folder"], "not a submission folder: missing-folder"),
    (["{sub}", "--parts", "scratch,torh"], "--parts: must be comma-separated parts among scratch,torch,tf,"
                                           "notebook, got 'scratch,torh' ('torh')"),
    (["{sub}", "--jobs", "0"], "--jobs: must be a positive integer, got '0'"),
    (["{sub}", "--timeout", "-3"], "--timeout: must be a positive number of seconds, got '-3'"),
    (["{sub}", "--sandbox", "maybe"], "--sandbox: invalid choice: 'maybe'"),
    (["{sub}", "{sub}", "--gradescope", "r.json"], "--gradescope writes the results of one submission, got 2"),
    (["{sub}", "--rubric", "{rubric}"], "--rubric gives points for --gradescope"),
    (["{sub}", "--gradescope", "r.json", "--rubric", "{rubric}"], "unknown check id 'scratch.gradiant'"),
    (["{sub}", "--csv", "{sub}"], "--csv: {sub} is a folder"),
    (["{sub}", "--csv", "-"], "--csv: only --json writes to standard output ('-')"),
])
def test_usage_errors_exit_2_in_one_line_before_checking_anything(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    sub = submission(tmp_path, "team1")
    rubric = tmp_path / "rubric.toml"
    rubric.write_text('[weights]\n"scratch.gradiant" = 2\n')
    argv = [a.format(sub=sub, rubric=rubric) for a in argv]
    rc, out, err = ffnn(capsys, *argv)
    assert rc == 2
    assert out == ""
    assert err.startswith("ffnn: error: ") and err.count("\n") == 1
    assert message.format(sub=sub) in err
    assert not (tmp_path / "r.json").exists()


def test_sandbox_required_without_bubblewrap_is_a_usage_error(tmp_path, capsys, monkeypatch):
    from ffnn.check import sandbox
    monkeypatch.setattr(sandbox, "bwrap", lambda: None)
    rc, out, err = ffnn(capsys, submission(tmp_path, "team1"), "--sandbox", "required", *FAST)
    assert rc == 2 and out == ""
    assert "bubblewrap" in err and err.count("\n") == 1


def test_a_correct_submission_passes_exits_0_and_writes_every_report(tmp_path, capsys):
    sub = submission(tmp_path, "team 1")
    rubric = tmp_path / "rubric.toml"
    rubric.write_text('default = 2\n[weights]\n"scratch.gradient" = 5\n')
    out_dir = tmp_path / "out"
    rc, out, err = ffnn(capsys, sub, *FAST, "--json", out_dir / "r.json", "--markdown", out_dir / "pages",
                        "--gradescope", out_dir / "results.json", "--rubric", rubric, "--csv", out_dir / "class.csv")
    assert rc == 0, out + err
    ran = check_ids(("scratch", "notebook"))  # submission.scope, the scratch checks, the notebook checks
    skipped = [i for i in check_ids() if i not in ran]

    doc = json.loads((out_dir / "r.json").read_text())
    [result] = doc["submissions"]
    assert result["path"] == str(sub)
    assert [c["id"] for c in result["checks"]] == list(check_ids())
    assert {c["id"]: c["status"] for c in result["checks"]} == {**dict.fromkeys(ran, "pass"),
                                                                **dict.fromkeys(skipped, "skip")}
    assert result["summary"] == {"pass": len(ran), "fail": 0, "error": 0, "skip": len(skipped)}

    # The terminal report says the same: a block headed by the path, the counts last.
    assert out.splitlines()[0] == str(sub)
    assert out.splitlines()[-1].strip() == f"{len(ran)} passed, 0 failed, 0 could not run, {len(skipped)} skipped"
    assert "[1/1, " in err and f"checked {sub}: {len(ran)} passed" in err

    grades = json.loads((out_dir / "results.json").read_text())
    assert [t["name"] for t in grades["tests"]] == list(ran)
    assert grades["score"] == 5 + 2 * (len(ran) - 1)
    assert all(t["status"] == "passed" and t["score"] == t["max_score"] for t in grades["tests"])

    assert [p.name for p in (out_dir / "pages").iterdir()] == ["team_1.md"]
    rows = list(csv.DictReader((out_dir / "class.csv").open()))
    assert len(rows) == 1 and rows[0]["scratch.gradient"] == "pass" and rows[0]["torch.learns"] == "skip"


def test_mistakes_exit_1_and_each_submission_gets_its_own_report(tmp_path, capsys):
    good = submission(tmp_path, "good")
    mistaken = submission(tmp_path, "mistaken", "softmax-diagonal", plots=(), team=None)
    rc, out, err = ffnn(capsys, good, mistaken, *FAST, "--jobs", "2", "--json", "-", "--csv", tmp_path / "c.csv")
    assert rc == 1
    doc = json.loads(out)  # with --json -, standard output holds the JSON alone
    assert [s["path"] for s in doc["submissions"]] == [str(good), str(mistaken)]
    checks = [{c["id"]: c for c in s["checks"]} for s in doc["submissions"]]
    assert all(checks[0][i]["status"] == "pass" for i in check_ids(("scratch", "notebook")))
    failed = {i: c["mistake"] for i, c in checks[1].items() if c["status"] == "fail"}
    assert failed == {"scratch.gradient": "softmax-jacobian-diagonal", "notebook.plots": None, "notebook.team": None}
    assert doc["submissions"][1]["summary"] == {"pass": len(check_ids(("scratch", "notebook"))) - 3, "fail": 3,
                                                "error": 0, "skip": len(check_ids()) - len(check_ids(("scratch",
                                                                                                    "notebook")))}
    rows = list(csv.DictReader((tmp_path / "c.csv").open()))
    assert [r["scratch.gradient"] for r in rows] == ["pass", "fail"]
    assert rows[1]["mistakes"] == "scratch.gradient=softmax-jacobian-diagonal"
    # One progress line per submission, as each finishes (in either order with --jobs 2).
    progress = [line for line in err.splitlines() if "] checked " in line]
    assert len(progress) == 2 and {line.split("] checked ")[1].split(":")[0] for line in progress} == {
        str(good), str(mistaken)}


def test_without_bubblewrap_auto_says_so_once_and_checks_anyway(tmp_path, capsys, monkeypatch):
    from ffnn.check import sandbox
    monkeypatch.setattr(sandbox, "bwrap", lambda: None)
    subs = [submission(tmp_path, "a"), submission(tmp_path, "b")]
    rc, out, err = ffnn(capsys, *subs, "--parts", "notebook")
    assert rc == 0  # the notebook checks passed; the skipped parts are not failures
    notices = [line for line in err.splitlines() if line.startswith("ffnn check: ")]
    assert len(notices) == 1 and "bubblewrap (bwrap) is not available" in notices[0]
    assert out.count("3 passed, 0 failed, 0 could not run, 17 skipped") == 2
