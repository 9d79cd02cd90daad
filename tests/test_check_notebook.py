"""notebook.plots, notebook.progress and notebook.team, on small notebooks built here with nbformat.

Each notebook is written like a team's: a heading per network, a training
cell that prints the template's progress lines, a plot cell with an image
output. The expected counts come from how the notebook was built (so many
lines printed, so many images), never from the checker's own output.
"""
import sys

import pytest

nbformat = pytest.importorskip("nbformat")
from nbformat.v4 import new_code_cell, new_markdown_cell  # noqa: E402

from helpers.notebooks import TEAM, image, notebook, scratch_lines, torch_lines  # noqa: E402
from ffnn.check.notebook import CHECK_IDS, NOTEBOOK, check_notebook, epoch_records, terminal_lines  # noqa: E402

def _check(tmp_path, nb):
    nbformat.write(nb, tmp_path / NOTEBOOK)
    checks = check_notebook(tmp_path)
    assert [c.id for c in checks] == list(CHECK_IDS)
    return {c.id: c for c in checks}


def test_a_complete_notebook_passes_all_three(tmp_path):
    checks = _check(tmp_path, notebook())
    assert {i: c.status for i, c in checks.items()} == dict.fromkeys(CHECK_IDS, "pass")
    assert checks["notebook.plots"].evidence["images_per_network"] == {"scratch": 1, "torch": 1, "tf": 1}
    progress = checks["notebook.progress"].evidence
    assert [progress[n]["epochs"] for n in ("scratch", "torch", "tf")] == [3, 2, 4]
    # Last epoch as printed: scratch 90.00% / 89.00%, torch 0.7000, Keras 0.9000.
    assert progress["scratch"]["final_accuracy"] == pytest.approx(0.90)
    assert progress["scratch"]["final_val_accuracy"] == pytest.approx(0.89)
    assert progress["torch"]["final_val_accuracy"] == pytest.approx(0.70)
    assert progress["tf"]["final_val_accuracy"] == pytest.approx(0.90)
    assert progress["near_chance"] == []
    assert checks["notebook.team"].evidence == {"team_number": True, "names": True, "matriculation_numbers": 2}


def test_a_network_without_a_plot_fails_plots_and_is_named(tmp_path):
    checks = _check(tmp_path, notebook(plots=("scratch", "tf")))
    plots = checks["notebook.plots"]
    assert plots.status == "fail"
    assert "torch" in plots.message and "scratch" not in plots.message
    assert plots.evidence["images_per_network"] == {"scratch": 1, "torch": 0, "tf": 1}
    assert plots.hint


def test_a_notebook_saved_without_running_says_so(tmp_path):
    nb = notebook(scratch=(), torch=(), keras=(), plots=())
    checks = _check(tmp_path, nb)
    assert checks["notebook.plots"].status == "fail"
    assert "without running" in checks["notebook.plots"].message
    assert checks["notebook.progress"].status == "fail"
    assert all(n in checks["notebook.progress"].message for n in ("scratch", "torch", "tf"))


def test_a_run_near_chance_is_noted_from_its_printed_progress(tmp_path):
    # Keras sat at 10-11% for 5 epochs (chance is 10%); the others learned.
    checks = _check(tmp_path, notebook(keras=(0.10, 0.11, 0.10, 0.11, 0.105)))
    progress = checks["notebook.progress"]
    assert progress.status == "pass"  # the progress is printed; the note is about the run
    assert progress.evidence["near_chance"] == ["tf"]
    assert "near chance" in progress.message and "tf run" in progress.message
    assert "10.5%" in progress.message


def test_missing_progress_for_one_network_fails(tmp_path):
    checks = _check(tmp_path, notebook(torch=()))
    progress = checks["notebook.progress"]
    assert progress.status == "fail"
    assert progress.evidence["torch"] is None
    assert "torch" in progress.message


@pytest.mark.parametrize("team, missing", [
    (None, ("team number", "names", "matriculation")),
    ("# MNIST classification\n\nAda Lovelace, Alan Turing", ("team number", "matriculation")),
    ("# Team 7\n\nNames: Ada Lovelace, Alan Turing", ("matriculation",)),
    ("# Team 7\n\n1234567, 7654321", ("names",)),
])
def test_an_incomplete_team_comment_fails_and_never_repeats_the_names(tmp_path, team, missing):
    checks = _check(tmp_path, notebook(team=team))
    check = checks["notebook.team"]
    assert check.status == "fail"
    for word in missing:
        assert word in check.message
    report = repr(check.to_dict())
    for personal in ("Ada", "Lovelace", "Turing", "1234567", "7654321"):
        assert personal not in report


def test_a_team_comment_further_down_is_found_but_fails(tmp_path):
    nb = notebook(team=None)
    nb.cells.insert(5, new_markdown_cell(TEAM))
    checks = _check(tmp_path, nb)
    team = checks["notebook.team"]
    assert team.status == "fail"
    assert team.evidence["found_in_cell"] == 5
    assert "cell 5" in team.message
    assert "Ada" not in repr(team.to_dict())


def test_a_team_comment_in_the_first_code_cell_counts(tmp_path):
    nb = notebook(team=None)
    nb.cells[0].source = "# Team 12\n# Grace Hopper (3141592)\n" + nb.cells[0].source
    assert _check(tmp_path, nb)["notebook.team"].status == "pass"


def test_a_plot_in_a_results_section_belongs_to_the_network_its_history_came_from(tmp_path):
    nb = notebook(plots=("scratch", "tf"))
    assert nb.cells[7].source.startswith("model = NeuralNetworkTorch")
    nb.cells[7].source = ("model = NeuralNetworkTorch([784, 128, 64, 10])\n"
                          "torch_history = model.fit(train_loader, val_loader)")
    nb.cells.append(new_markdown_cell("## Results"))
    nb.cells.append(new_code_cell("plt.plot(torch_history['val_accuracy'])", outputs=[image()]))
    checks = _check(tmp_path, nb)
    assert checks["notebook.plots"].evidence["images_per_network"] == {"scratch": 1, "torch": 1, "tf": 1}


def test_a_missing_notebook_fails_and_a_corrupt_one_cannot_be_read(tmp_path):
    missing = check_notebook(tmp_path)
    assert [c.status for c in missing] == ["fail"] * 3
    assert all(NOTEBOOK in c.message and "missing" in c.message for c in missing)
    (tmp_path / NOTEBOOK).write_text('{"cells": [')
    corrupt = check_notebook(tmp_path)
    assert [c.status for c in corrupt] == ["error"] * 3
    assert all("not a readable notebook" in c.message for c in corrupt)
    (tmp_path / NOTEBOOK).write_text('{"cells": 3, "nbformat": 4, "nbformat_minor": 5, "metadata": {}}')
    assert [c.status for c in check_notebook(tmp_path)] == ["error"] * 3


def test_keras_progress_bars_are_read_as_a_terminal_shows_them():
    assert terminal_lines("abc\rxy\n12\b\b9") == ["xyc", "92"]
    text = ("Epoch 1/2\n 1/800 [..] - loss: 2.3 - accuracy: 0.1000\x08\x08\x08\r"
            "800/800 [====] - 3s - loss: 0.5 - accuracy: 0.8500 - val_loss: 0.4 - val_accuracy: 0.8700\n"
            "Epoch 2/2\n800/800 - 2s - accuracy: 0.9100 - loss: 0.3 - val_accuracy: 0.9000 - val_loss: 0.3\n"
            "200/200 - 0s - accuracy: 0.8800 - loss: 0.35\n"  # evaluate() on the test set: not an epoch
            "Test accuracy: 0.88\n")
    assert epoch_records(text) == [
        {"epoch": 1, "accuracy": 0.85, "val_accuracy": 0.87, "format": "tf"},
        {"epoch": 2, "accuracy": 0.91, "val_accuracy": 0.90, "format": "tf"}]


def test_template_progress_lines_parse_as_fractions():
    records = epoch_records(scratch_lines([0.5]) + torch_lines([0.25]) + "Epoch: 3, Training Accuracy: 97%\n")
    assert [(r["epoch"], r["accuracy"], r["val_accuracy"], r["format"]) for r in records] == [
        (1, 0.5, pytest.approx(0.49), "scratch"), (1, 0.25, 0.25, "torch"), (3, 0.97, None, None)]


def test_keras_3_colour_codes_do_not_hide_the_metrics():
    text = ("Epoch 1/1\n\x1b[1m800/800\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m\x1b[37m\x1b[0m \x1b[1m3s\x1b[0m "
            "4ms/step - accuracy: 0.8512 - loss: 0.0900 - val_accuracy: 0.8700 - val_loss: 0.0800\n")
    assert epoch_records(text) == [{"epoch": 1, "accuracy": 0.8512, "val_accuracy": 0.87, "format": "tf"}]


def test_numbers_in_the_first_cells_code_are_not_matriculation_numbers(tmp_path):
    nb = notebook(team="# Team 7\n\nAda Lovelace, Alan Turing")
    nb.cells[1].source = "# Setup\nimport numpy as np\n# train on 60000 images, seed 1234567\n" + nb.cells[1].source
    team = _check(tmp_path, nb)["notebook.team"]
    assert team.status == "fail" and team.evidence["matriculation_numbers"] == 0


@pytest.mark.parametrize("team", [
    "# Gruppe 4\n\n| Name | Matrikelnummer |\n|---|---|\n| Jürgen Groß | 3456789 |\n| Zoë Ørsted | 3456790 |",
    "Team number: 12\nNames and matriculation numbers:\n* Grace Hopper (1906120)\n* Edsger Dijkstra (1930511)",
])
def test_team_comments_written_other_ways_are_recognised(tmp_path, team):
    checks = _check(tmp_path, notebook(team=team))
    assert checks["notebook.team"].status == "pass"
    assert checks["notebook.team"].evidence == {"team_number": True, "names": True, "matriculation_numbers": 2}


def test_without_nbformat_the_notebook_checks_say_so(tmp_path, monkeypatch):
    nbformat.write(notebook(), tmp_path / NOTEBOOK)
    monkeypatch.setitem(sys.modules, "nbformat", None)  # import nbformat now raises ImportError
    checks = check_notebook(tmp_path)
    assert [c.status for c in checks] == ["error"] * 3
    assert all("need nbformat" in c.message and "ffnn[check]" in c.message for c in checks)
