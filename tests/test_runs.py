"""Run directories: atomic writes, JSON, history files, reading runs back; test-set metrics."""
import csv
import io
import json
import os

import numpy as np
import pytest

from ffnn.history import History
from ffnn.metrics import classification_metrics, confusion_matrix, precision_recall
from ffnn.runs import (RunError, Run, atomic_write, atomic_write_text, default_run_dir, open_run, read_json,
                       write_json)


def _leftovers(directory):
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


# ----------------------------------------------------------------- atomic writes


def test_atomic_write_failure_leaves_no_file(tmp_path):
    target = tmp_path / "sub" / "model.bin"

    def half_then_crash(fh):
        fh.write(b"half of the bytes")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        atomic_write(target, half_then_crash)
    assert not target.exists()
    assert _leftovers(target.parent) == []


def test_atomic_write_failure_keeps_old_file(tmp_path):
    target = tmp_path / "history.json"
    atomic_write_text(target, '{"old": true}')

    def interrupted(fh):
        fh.write("{\"new\": ")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, interrupted, mode="w")
    assert target.read_text() == '{"old": true}'
    assert _leftovers(tmp_path) == []


def test_atomic_write_replaces_and_uses_umask_permissions(tmp_path):
    target = tmp_path / "a.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_atomic_write_follows_the_umask_of_the_moment_and_never_sets_it(tmp_path, monkeypatch):
    import importlib

    import ffnn.atomic

    old = os.umask(0o077)
    try:
        calls = []
        monkeypatch.setattr(os, "umask", lambda *a: calls.append(a) or 0)  # importing or writing must not call it
        importlib.reload(ffnn.atomic)
        ffnn.atomic.atomic_write_text(tmp_path / "private.txt", "x")
    finally:
        monkeypatch.undo()
        os.umask(old)
    assert calls == []
    assert (tmp_path / "private.txt").stat().st_mode & 0o777 == 0o600
    assert _leftovers(tmp_path) == []


def test_write_json_converts_numpy_and_nan(tmp_path):
    path = write_json(tmp_path / "m.json", {"acc": np.float32(0.5), "n": np.int64(3), "loss": float("nan"),
                                            "cm": np.eye(2, dtype=np.int64), "inf": float("inf")})
    assert json.loads(path.read_text()) == {"acc": 0.5, "n": 3, "loss": None, "cm": [[1, 0], [0, 1]],
                                            "inf": None}


def test_read_json_errors_name_the_file(tmp_path):
    with pytest.raises(RunError, match="missing.json: file not found"):
        read_json(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(RunError, match="bad.json: cannot read JSON"):
        read_json(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(RunError, match="list.json: expected a JSON object"):
        read_json(tmp_path / "list.json")


# ------------------------------------------------------------------------ runs


def _history(n):
    h = History()
    for e in range(1, n + 1):
        h.append(epoch=e, loss=1.0 / e, accuracy=0.5 + e / 100, val_loss=float("nan") if e == 1 else 1.1 / e,
                 val_accuracy=0.4 + e / 100, learning_rate=0.5, seconds=0.25)
    return h


def test_history_files_round_trip(tmp_path):
    run = Run(tmp_path / "run")
    h = _history(3)
    h.interrupted = True
    run.write_history(h)
    back = run.read_history()
    assert back.interrupted and back.epochs == 3
    assert back["accuracy"] == pytest.approx([0.51, 0.52, 0.53])
    assert np.isnan(back["val_loss"][0]) and back["val_loss"][1] == pytest.approx(0.55)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "run" / "history.csv").read_text())))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["val_loss"] == "" and float(rows[2]["loss"]) == pytest.approx(1 / 3)
    assert set(rows[0]) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds"}


def test_default_run_dir_is_new_each_time(tmp_path):
    first = default_run_dir("numpy", root=tmp_path)
    assert first.name.endswith("-numpy") and first.parent == tmp_path
    first.mkdir()
    second = default_run_dir("numpy", root=tmp_path)
    assert second != first and not second.exists()


def test_open_run_errors(tmp_path):
    with pytest.raises(RunError, match="nowhere: run directory does not exist"):
        open_run(tmp_path / "nowhere")
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunError, match="not a directory"):
        open_run(tmp_path / "file")
    with pytest.raises(RunError, match="no config.json"):
        open_run(tmp_path)
    cmp = tmp_path / "cmp"
    write_json(cmp / "summary.json", {})
    write_json(cmp / "numpy" / "config.json", {"backend": "numpy"})
    with pytest.raises(RunError, match=r"a comparison; give one of its backend runs \(.*cmp/numpy\)"):
        open_run(cmp)


def test_run_without_model(tmp_path):
    write_json(tmp_path / "config.json", {"backend": "numpy"})
    with pytest.raises(RunError, match=r"holds no model \(model.npz is missing\)"):
        open_run(tmp_path).load_model()
    write_json(tmp_path / "config.json", {"nothing": 1})
    with pytest.raises(RunError, match="names no backend"):
        open_run(tmp_path).load_model()


def test_config_json_has_a_format_and_old_ones_still_load(tmp_path):
    from ffnn.backends import build
    from ffnn.config import TrainConfig
    from ffnn.runs import CONFIG_FORMAT

    config = TrainConfig(layer_sizes=(784, 4, 10), epochs=1)
    model = build("numpy", config, "cpu")
    new, old = Run(tmp_path / "new"), tmp_path / "old"
    new.write_config({"backend": "numpy", "config": config.to_dict()})
    assert json.loads(new.file("config.json").read_text())["format"] == CONFIG_FORMAT == 2
    # config.json as ffnn wrote it before formats were numbered (2026-12-01), written out by hand.
    old.mkdir()
    (old / "config.json").write_text(json.dumps({
        "backend": "numpy", "device": "auto",
        "data": {"dataset": "fashion-mnist", "data_dir": None, "n_train": 90, "n_val": 10, "n_test": 10000,
                 "first_n": 100, "val_size": 0.1, "split_seed": 1,
                 "classes": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                             "Bag", "Ankle boot"]},
        "config": {"layer_sizes": [784, 4, 10], "epochs": 1, "batch_size": 32, "learning_rate": 1.0,
                   "loss": "cross-entropy", "activation": "sigmoid", "momentum": 0.0, "schedule": "constant",
                   "seed": 1, "early_stopping": None, "monitor": "val_loss", "min_delta": 0.0, "shuffle": True,
                   "dtype": "float32"},
        "ffnn_version": "0.1.0"}))
    model.save_model(old / "model.npz")
    run = open_run(old)
    assert run.read_config()["backend"] == "numpy" and run.class_names()[7] == "Sneaker"
    backend, loaded = run.load_model()
    assert backend == "numpy" and loaded.predict_proba(np.zeros((2, 784), np.float32)).shape == (2, 10)
    # A format from a later ffnn is refused in one line that names the field, not misread.
    (old / "config.json").write_text(json.dumps({"format": 3, "backend": "numpy"}))
    with pytest.raises(RunError, match=r"config.json: format 3 is not one this version of ffnn reads") as info:
        open_run(old).load_model()
    assert "\n" not in str(info.value)


# --------------------------------------------------------------------- metrics


def test_metrics_against_scikit_learn():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, size=500)
    y[y == 9] = 8  # class 9 never occurs: recall 0/0
    logits = rng.normal(size=(500, 10)) + 3 * np.eye(10)[y]
    logits[:, 3] -= 10  # class 3 is present but never predicted: precision 0/0
    proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    pred = proba.argmax(1)
    m = classification_metrics(proba, y)
    np.testing.assert_array_equal(m["confusion_matrix"], sk.confusion_matrix(y, pred, labels=range(10)))
    p, r, _, support = sk.precision_recall_fscore_support(y, pred, labels=range(10), zero_division=0)
    np.testing.assert_allclose([c["precision"] for c in m["per_class"]], p)
    np.testing.assert_allclose([c["recall"] for c in m["per_class"]], r)
    assert [c["support"] for c in m["per_class"]] == support.tolist()
    assert m["test_accuracy"] == pytest.approx(sk.accuracy_score(y, pred))
    assert m["test_loss"] == pytest.approx(sk.log_loss(y, proba, labels=range(10)), rel=1e-9)


def test_confusion_matrix_by_hand():
    # true 0 0 1 2 2 2, predicted 0 1 1 2 2 0 -> rows are true classes
    cm = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0], 3)
    assert cm.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    precision, recall = precision_recall(cm)
    np.testing.assert_allclose(precision, [1 / 2, 1 / 2, 2 / 2])
    np.testing.assert_allclose(recall, [1 / 2, 1 / 1, 2 / 3])
    with pytest.raises(ValueError, match="y_pred must be in 0..2, got 0..3"):
        confusion_matrix([0, 1], [0, 3], 3)


# ----------------------------------------------------------------- comparisons


def test_open_comparison_finds_its_runs_in_summary_order(tmp_path):
    from ffnn.runs import is_comparison, open_comparison

    cmp = tmp_path / "cmp"
    write_json(cmp / "summary.json", {"backends": {"torch": {"run_dir": "elsewhere/torch"}, "numpy": {}}})
    for name in ("numpy", "torch"):
        write_json(cmp / name / "config.json", {"backend": name})
    assert is_comparison(cmp) and not is_comparison(cmp / "numpy") and not is_comparison(tmp_path / "nowhere")
    runs = open_comparison(cmp)
    assert list(runs) == ["torch", "numpy"]  # summary.json's order; found under cmp/, not at the stored run_dir
    assert [r.path for r in runs.values()] == [cmp / "torch", cmp / "numpy"]
    write_json(cmp / "summary.json", {"backends": {}})
    with pytest.raises(RunError, match="summary.json: lists no backend runs"):
        open_comparison(cmp)
    write_json(cmp / "summary.json", {"backends": {"numpy": {}, "tensorflow": {}}})
    with pytest.raises(RunError, match="the tensorflow run listed in summary.json is missing"):
        open_comparison(cmp)


def test_run_class_names_from_config_or_dataset(tmp_path):
    from ffnn.data import DIGITS, FASHION_MNIST_CLASSES

    run = Run(tmp_path)
    write_json(tmp_path / "config.json", {"backend": "numpy", "data": {"dataset": "mnist",
                                                                       "classes": list("abcdefghij")}})
    assert run.class_names() == tuple("abcdefghij")
    # A run written before config.json recorded the names: those of the dataset it names.
    write_json(tmp_path / "config.json", {"backend": "numpy", "data": {"dataset": "fashion-mnist"}})
    assert run.class_names() == FASHION_MNIST_CLASSES
    write_json(tmp_path / "config.json", {"backend": "numpy"})
    assert run.class_names() == DIGITS
