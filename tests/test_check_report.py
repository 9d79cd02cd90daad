"""The report writers of ffnn check, on hand-made results (no submission runs here)."""
import csv
import io
import json

import numpy as np
import pytest

from ffnn.check.report import (RubricError, format_evidence, gradescope_results, load_rubric, markdown_page,
                               page_names, render_terminal, to_json, write_csv, write_gradescope, write_json,
                               write_markdown)
from ffnn.check.report.machine import to_csv
from ffnn.check.report.terminal import use_colour
from ffnn.check.result import Check, SubmissionResult

IDS = ("submission.scope", "scratch.gradient", "scratch.predict", "torch.learns", "notebook.team")


def _results():
    team1 = SubmissionResult("subs/team1", [
        Check("submission.scope", "pass", "The classes keep the template's names.", {}),
        Check("scratch.gradient", "fail", "The backward pass returns a wrong gradient.",
              {"relative_error": [np.float64(0.4213), 0.05], "cosine": [0.91, float("nan")]},
              hint="Use the full softmax Jacobian.", mistake="softmax-jacobian-diagonal"),
        Check("scratch.predict", "pass", "predict returns the arg-max.", {"samples": np.int64(8)}),
        Check("torch.learns", "error", "Stopped after 120 s: <script>alert(1)</script> | pipe",
              {"timeout_s": 120.0}, hint="Look for an endless loop in fit()."),
        Check("notebook.team", "skip", "Not asked for with --parts.", {}),
    ])
    team2 = SubmissionResult("other/team1", [Check(i, "pass", f"{i} is right.", {"x": 1}) for i in IDS])
    return [team1, team2]


def test_json_is_exactly_the_documented_shape(tmp_path):
    path = tmp_path / "out.json"
    write_json(_results(), path)
    doc = json.loads(path.read_text())
    assert list(doc) == ["submissions"]
    first = doc["submissions"][0]
    assert list(first) == ["path", "checks", "summary"]
    assert first["path"] == "subs/team1"
    assert first["summary"] == {"pass": 2, "fail": 1, "error": 1, "skip": 1}
    assert [list(c) for c in first["checks"]] == [["id", "status", "message", "evidence", "hint", "mistake"]] * 5
    gradient = first["checks"][1]
    assert gradient["mistake"] == "softmax-jacobian-diagonal"
    # NumPy numbers become JSON numbers; NaN (not valid JSON) becomes the string "NaN".
    assert gradient["evidence"] == {"relative_error": [0.4213, 0.05], "cosine": [0.91, "NaN"]}
    assert first["checks"][2]["evidence"] == {"samples": 8}
    assert first["checks"][0]["hint"] is None and first["checks"][0]["mistake"] is None


def test_json_dash_goes_to_stdout(capsys):
    write_json(_results()[:1], "-")
    assert json.loads(capsys.readouterr().out)["submissions"][0]["path"] == "subs/team1"


def test_terminal_has_a_line_per_check_and_the_hint_only_where_something_is_wrong():
    text = render_terminal(_results()[:1], colour=False)
    lines = text.splitlines()
    assert lines[0] == "subs/team1"
    check_lines = [line for line in lines if line.strip().split(" ")[0] in ("PASS", "FAIL", "ERROR", "SKIP")]
    assert [line.split()[0] for line in check_lines] == ["PASS", "FAIL", "PASS", "ERROR", "SKIP"]
    fail = check_lines[1]
    assert "scratch.gradient [softmax-jacobian-diagonal]" in fail
    assert "relative_error=[0.4213, 0.05]" in fail and "cosine=[0.91, nan]" in fail
    hints = [line.strip() for line in lines if line.strip().startswith("hint:")]
    assert hints == ["hint: Use the full softmax Jacobian.", "hint: Look for an endless loop in fit()."]
    assert lines[-1].strip() == "2 passed, 1 failed, 1 could not run, 1 skipped"
    assert "\033[" not in text


def test_colours_only_when_asked_and_only_in_a_terminal(monkeypatch):
    assert "\033[31mFAIL" in render_terminal(_results()[:1], colour=True)
    assert not use_colour(io.StringIO())

    class Tty(io.StringIO):
        def isatty(self):
            return True
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_colour(Tty())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour(Tty())


def test_evidence_is_cut_in_the_terminal_but_kept_whole_in_json():
    long = SubmissionResult("p", [Check("scratch.gradient", "fail", "m", {"values": list(range(500))})])
    line = render_terminal([long]).splitlines()[1]
    assert line.endswith("…)") and len(line) < 400
    assert json.loads(to_json([long]))["submissions"][0]["checks"][0]["evidence"]["values"] == list(range(500))
    assert format_evidence({"a": 1.23456789, "b": None, "c": True, "d": {"e": 2.0}}) == \
        "a=1.235, b=none, c=true, d={e: 2}"


def test_markdown_puts_what_to_fix_first_and_escapes_the_teams_text(tmp_path):
    page = markdown_page(_results()[0])
    assert page.startswith("# Feedback on `team1`\n")
    assert "subs/" not in page  # the folder's name only, not where it lies on the grader's machine
    assert "**2 of 4 checks passed**; 1 failed, 1 could not run, 1 not checked." in page
    order = [page.index(h) for h in ("## What to fix", "## What could not be checked", "## Passed",
                                    "## Not checked")]
    assert order == sorted(order)
    assert "### `scratch.gradient` (softmax-jacobian-diagonal)" in page
    assert "- What to change: Use the full softmax Jacobian." in page
    assert "<script>" not in page and "&lt;script&gt;" in page and "\\| pipe" in page


def test_markdown_file_names_are_safe_and_unique(tmp_path):
    assert page_names(["a/team 1", "b/team 1", "c/Team_1", "d/../../etc", "/", "x/.hidden"]) == [
        "team_1.md", "team_1-2.md", "Team_1-3.md", "etc.md", "submission.md", "hidden.md"]
    written = write_markdown(_results(), tmp_path / "pages")
    assert [p.name for p in written] == ["team1.md", "team1-2.md"]
    assert all(p.parent == tmp_path / "pages" for p in written)
    assert "scratch.gradient" in written[0].read_text()


def test_gradescope_one_point_per_check_and_skips_cost_nothing(tmp_path):
    doc = gradescope_results(_results()[0])
    assert [t["name"] for t in doc["tests"]] == ["submission.scope", "scratch.gradient", "scratch.predict",
                                                 "torch.learns"]
    assert [(t["status"], t["score"], t["max_score"]) for t in doc["tests"]] == [
        ("passed", 1, 1), ("failed", 0, 1), ("passed", 1, 1), ("failed", 0, 1)]
    assert doc["score"] == 2
    assert "notebook.team" in doc["output"]
    assert "What to change: Use the full softmax Jacobian." in doc["tests"][1]["output"]
    assert doc["tests"][3]["output"].startswith("Could not run: ")
    write_gradescope(_results()[0], tmp_path / "results.json")
    assert json.loads((tmp_path / "results.json").read_text()) == json.loads(json.dumps(doc).replace("NaN", '"NaN"'))


def test_a_rubric_sets_points(tmp_path):
    rubric_file = tmp_path / "rubric.toml"
    rubric_file.write_text('default = 2\n[weights]\n"scratch.gradient" = 4\n"scratch.predict" = 0.5\n')
    rubric = load_rubric(rubric_file, IDS)
    doc = gradescope_results(_results()[0], rubric)
    assert [(t["score"], t["max_score"]) for t in doc["tests"]] == [(2, 2), (0, 4), (0.5, 0.5), (0, 2)]
    assert doc["score"] == 2.5


@pytest.mark.parametrize("text, named", [
    ('wieghts = 1\n', "'wieghts'"),
    ('[weights]\n"scratch.gradiant" = 2\n', "'scratch.gradiant'"),
    ('[weights]\n"scratch.gradient" = -1\n', 'weights."scratch.gradient" must be a number >= 0, got -1'),
    ('[weights]\n"scratch.gradient" = "three"\n', "got 'three'"),
    ('[weights]\n"scratch.gradient" = true\n', "got True"),
    ('default = nan\n', "default must be a number >= 0, got nan"),
    ('weights = 3\n', "weights must be a table"),
    ('[weights\n', "not valid TOML"),
])
def test_a_bad_rubric_is_refused_in_one_line_naming_the_bad_key_or_value(tmp_path, text, named):
    rubric_file = tmp_path / "rubric.toml"
    rubric_file.write_text(text)
    with pytest.raises(RubricError) as info:
        load_rubric(rubric_file, IDS)
    message = str(info.value)
    assert named in message and "\n" not in message and str(rubric_file) in message


def test_csv_has_a_row_per_submission_and_a_column_per_check(tmp_path):
    results = _results()
    results[1].path = "=HYPERLINK(\"x\")"
    path = tmp_path / "class.csv"
    write_csv(results, path, order=IDS)
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["path", "pass", "fail", "error", "skip", *IDS, "mistakes"]
    assert rows[1] == ["subs/team1", "2", "1", "1", "1", "pass", "fail", "pass", "error", "skip",
                       "scratch.gradient=softmax-jacobian-diagonal"]
    assert rows[2][0] == "'=HYPERLINK(\"x\")"  # not a formula in a spreadsheet
    assert rows[2][5:10] == ["pass"] * 5
    # Ids the order does not know still get a column, after the known ones.
    extra = SubmissionResult("p", [Check("tf.new", "pass", "m")])
    assert to_csv([extra], order=IDS).splitlines()[0].endswith("tf.new,mistakes")


def test_skipped_checks_of_a_part_share_one_line_and_count_as_skipped():
    result = SubmissionResult("p", [Check("torch.architecture", "skip", "not asked for"),
                                    Check("torch.predict", "skip", "not asked for"),
                                    Check("tf.loss", "skip", "network_tensorflow.py is missing"),
                                    Check("notebook.team", "pass", "ok")])
    lines = render_terminal([result]).splitlines()
    assert [line.split()[:2] for line in lines[1:4]] == [["SKIP", "torch.*"], ["SKIP", "tf.loss"],
                                                         ["PASS", "notebook.team"]]
    assert "(2 checks)  not asked for" in lines[1]
    assert lines[-1].strip() == "1 passed, 0 failed, 0 could not run, 3 skipped"


def test_checks_that_say_the_same_thing_share_a_line_and_a_markdown_section():
    same = dict(message="MNIST_classification.ipynb is missing", evidence={"file": "x"}, hint="hand it in")
    result = SubmissionResult("subs/t", [Check(i, "fail", **same) for i in
                                         ("notebook.plots", "notebook.progress", "notebook.team")])
    lines = render_terminal([result]).splitlines()
    assert lines[1].split()[:4] == ["FAIL", "notebook.*", "(3", "checks)"]
    assert lines[2].strip() == "hint: hand it in" and len(lines) == 4
    page = markdown_page(result)
    assert page.count("### ") == 1 and "### `notebook.*` (3 checks)" in page
    assert "**0 of 3 checks passed**; 3 failed" in page
