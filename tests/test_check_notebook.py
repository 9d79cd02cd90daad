"""notebook.plots, notebook.progress and notebook.team, on small notebooks built here with nbformat.

Each notebook is written like a team's: a heading per network, a training
cell that prints the template's progress lines, a plot cell with an image
output. The expected counts come from how the notebook was built (so many
lines printed, so many images), never from the checker's own output.
"""
import base64

import pytest

nbformat = pytest.importorskip("nbformat")
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output  # noqa: E402

from ffnn.check.notebook import CHECK_IDS, NOTEBOOK, check_notebook, epoch_records, terminal_lines  # noqa: E402

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 32).decode()
TEAM = "# Team 7\n\nMembers:\n- Ada Lovelace, 1234567\n- Alan Turing, 7654321\n"


def _stream(text):
    return new_output("stream", name="stdout", text=text)


def _image():
    return new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure size 640x480 with 1 Axes>"})


def _scratch_lines(accs):
    return "".join(f"Epoch: {i}, Training Time: 1.20s, Training Accuracy: {100 * a:.2f}%, "
                   f"Validation Accuracy: {100 * a - 1:.2f}%\n" for i, a in enumerate(accs, 1))


def _torch_lines(accs):
    return "".join(f"Epoch: {i}, Learning Rate: 1.5, Training Accuracy: {a:.4f}, Validation Accuracy: {a:.4f}\n"
                   for i, a in enumerate(accs, 1))


def _keras_lines(accs):
    n = len(accs)
    return "".join(f"Epoch {i}/{n}\n800/800 [==============================] - 3s 4ms/step - loss: 0.05 - "
                   f"accuracy: {a:.4f} - val_loss: 0.06 - val_accuracy: {a:.4f}\n" for i, a in enumerate(accs, 1))


def _notebook(team=TEAM, scratch=(0.6, 0.8, 0.9), torch=(0.5, 0.7), keras=(0.4, 0.6, 0.8, 0.9),
              plots=("scratch", "torch", "tf")):
    cells = [new_markdown_cell(team)] if team is not None else []
    cells.append(new_code_cell("import numpy as np\nfrom network_scratch import NeuralNetwork\n"
                               "from network_pytorch import NeuralNetworkTorch\n"
                               "from network_tensorflow import NeuralNetworkTf, TimeBasedLearningRate"))
    parts = (("scratch", "## Part A: from scratch", "nn = NeuralNetwork([784, 128, 64, 10], learning_rate=1.5)\n"
              "history = nn.fit(x_train, y_train, x_val, y_val)", _scratch_lines(scratch)),
             ("torch", "## Part B: PyTorch", "model = NeuralNetworkTorch([784, 128, 64, 10])\n"
              "history = model.fit(train_loader, val_loader)", _torch_lines(torch)),
             ("tf", "## Part C: TensorFlow", "net = NeuralNetworkTf(sizes=[784, 128, 32, 10])\n"
              "history = net.compile_and_fit(x_train, y_train, validation_data=(x_val, y_val))", _keras_lines(keras)))
    for network, heading, train, printed in parts:
        cells.append(new_markdown_cell(heading))
        cells.append(new_code_cell(train, outputs=[_stream(printed)] if printed else []))
        cells.append(new_markdown_cell("### Evaluation"))
        cells.append(new_code_cell("plt.plot(history['accuracy'])\nplt.plot(history['val_accuracy'])",
                                   outputs=[_image()] if network in plots else []))
    return new_notebook(cells=cells)


def _check(tmp_path, nb):
    nbformat.write(nb, tmp_path / NOTEBOOK)
    checks = check_notebook(tmp_path)
    assert [c.id for c in checks] == list(CHECK_IDS)
    return {c.id: c for c in checks}


def test_a_complete_notebook_passes_all_three(tmp_path):
    checks = _check(tmp_path, _notebook())
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
    checks = _check(tmp_path, _notebook(plots=("scratch", "tf")))
    plots = checks["notebook.plots"]
    assert plots.status == "fail"
    assert "torch" in plots.message and "scratch" not in plots.message
    assert plots.evidence["images_per_network"] == {"scratch": 1, "torch": 0, "tf": 1}
    assert plots.hint


def test_a_notebook_saved_without_running_says_so(tmp_path):
    nb = _notebook(scratch=(), torch=(), keras=(), plots=())
    checks = _check(tmp_path, nb)
    assert checks["notebook.plots"].status == "fail"
    assert "without running" in checks["notebook.plots"].message
    assert checks["notebook.progress"].status == "fail"
    assert all(n in checks["notebook.progress"].message for n in ("scratch", "torch", "tf"))


def test_a_run_near_chance_is_noted_from_its_printed_progress(tmp_path):
    # Keras sat at 10-11% for 5 epochs (chance is 10%); the others learned.
    checks = _check(tmp_path, _notebook(keras=(0.10, 0.11, 0.10, 0.11, 0.105)))
    progress = checks["notebook.progress"]
    assert progress.status == "pass"  # the progress is printed; the note is about the run
    assert progress.evidence["near_chance"] == ["tf"]
    assert "near chance" in progress.message and "tf run" in progress.message
    assert "10.5%" in progress.message


def test_missing_progress_for_one_network_fails(tmp_path):
    checks = _check(tmp_path, _notebook(torch=()))
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
    checks = _check(tmp_path, _notebook(team=team))
    check = checks["notebook.team"]
    assert check.status == "fail"
    for word in missing:
        assert word in check.message
    report = repr(check.to_dict())
    for personal in ("Ada", "Lovelace", "Turing", "1234567", "7654321"):
        assert personal not in report


def test_a_team_comment_further_down_is_found_but_fails(tmp_path):
    nb = _notebook(team=None)
    nb.cells.insert(5, new_markdown_cell(TEAM))
    checks = _check(tmp_path, nb)
    team = checks["notebook.team"]
    assert team.status == "fail"
    assert team.evidence["found_in_cell"] == 5
    assert "Cell 5" in team.message
    assert "Ada" not in repr(team.to_dict())


def test_a_team_comment_in_the_first_code_cell_counts(tmp_path):
    nb = _notebook(team=None)
    nb.cells[0].source = "# Team 12\n# Grace Hopper (3141592)\n" + nb.cells[0].source
    assert _check(tmp_path, nb)["notebook.team"].status == "pass"


def test_a_plot_in_a_results_section_belongs_to_the_network_its_history_came_from(tmp_path):
    nb = _notebook(plots=("scratch", "tf"))
    assert nb.cells[7].source.startswith("model = NeuralNetworkTorch")
    nb.cells[7].source = "model = NeuralNetworkTorch([784, 128, 64, 10])\ntorch_history = model.fit(train_loader, val_loader)"
    nb.cells.append(new_markdown_cell("## Results"))
    nb.cells.append(new_code_cell("plt.plot(torch_history['val_accuracy'])", outputs=[_image()]))
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
    records = epoch_records(_scratch_lines([0.5]) + _torch_lines([0.25]) + "Epoch: 3, Training Accuracy: 97%\n")
    assert [(r["epoch"], r["accuracy"], r["val_accuracy"], r["format"]) for r in records] == [
        (1, 0.5, pytest.approx(0.49), "scratch"), (1, 0.25, 0.25, "torch"), (3, 0.97, None, None)]
