"""ffnn tune with SQLite: trials recorded, resume, two worker processes, Ctrl-C, best.json, pruning, errors."""
import csv
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna", reason="ffnn tune needs optuna: pip install 'ffnn[tune]'")
from optuna.trial import TrialState  # noqa: E402

from ffnn.cli import build_parser  # noqa: E402
from ffnn.tune import search  # noqa: E402
from helpers.cli import FFNN, env, ffnn  # noqa: E402

# Small searches: 2,000 images (1,800 to train, 200 to select on), 2 epochs, a small network.
SMALL = ["--backend", "numpy", "--n-train", "2000", "--epochs", "2", "--hidden", "32",
         "--lr-range", "0.3,3", "--batch-sizes", "32,64"]


def load(out, name="ffnn"):
    storage = optuna.storages.RDBStorage(f"sqlite:///{Path(out).resolve() / 'study.db'}")
    return optuna.load_study(study_name=name, storage=storage)


def csv_rows(out):
    with open(Path(out) / "trials.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_trials_are_recorded_resumed_and_scored_once(tmp_path, capsys):
    out = tmp_path / "tune"
    rc, text, err = ffnn(capsys, "tune", *SMALL, "--trials", "3", "--out", out)
    assert rc == 0, err
    rows = csv_rows(out)
    assert [int(r["number"]) for r in rows] == [0, 1, 2]
    assert set(rows[0]) == {"number", "state", "learning_rate", "batch_size", "epochs", "val_accuracy", "seconds"}
    assert all(0.3 <= float(r["learning_rate"]) <= 3 and r["batch_size"] in ("32", "64") for r in rows)
    # A new study starts from spread points: 1/8, 3/8, 5/8 of the log range 0.3-3, batches off the diagonal.
    assert [(float(r["learning_rate"]), int(r["batch_size"])) for r in rows] == [(0.4, 64), (0.711, 32), (1.27, 64)]
    best = json.loads((out / "best.json").read_text())
    # Exactly one test accuracy, for the best trial by validation accuracy.
    assert [k for k in json.dumps(best).split('"') if "test" in k and "acc" in k] == ["test_accuracy"]
    complete = [r for r in rows if r["state"] == "COMPLETE"]
    assert best["val_accuracy"] == max(float(r["val_accuracy"]) for r in complete)
    assert best["trial"] == int(max(complete, key=lambda r: float(r["val_accuracy"]))["number"])
    assert best["reproduced_val_accuracy"] == pytest.approx(best["val_accuracy"])
    metrics = json.loads((out / "best" / "metrics.json").read_text())
    assert best["test_accuracy"] == metrics["test_accuracy"] > 0.5
    assert (out / "tune.png").stat().st_size > 10_000

    rc, text, err = ffnn(capsys, "tune", *SMALL, "--trials", "2", "--out", out)
    assert rc == 0, err
    assert "3 trials so far" in text
    assert [int(r["number"]) for r in csv_rows(out)] == [0, 1, 2, 3, 4]
    again = json.loads((out / "best.json").read_text())
    if again["trial"] == best["trial"]:
        assert "not measured again" in text and again["test_accuracy"] == best["test_accuracy"]
    study = load(out)
    assert again["trials"] == {s.name.lower(): n for s in TrialState if (n := len(study.get_trials(states=(s,))))}

    # A study does not mix settings: other epochs are refused and add no trial.
    rc, _, err = ffnn(capsys, "tune", *SMALL, "--epochs", "3", "--trials", "1", "--out", out)
    assert rc == 1 and err.count("\n") == 1 and "was run with epochs = 2, this command has 3" in err
    assert len(load(out).get_trials()) == 5

    # ffnn train --config best.json repeats the best trial.
    rc, text, err = ffnn(capsys, "train", "--config", out / "best.json", "--out", tmp_path / "again")
    assert rc == 0, err
    metrics = json.loads((tmp_path / "again" / "metrics.json").read_text())
    config = json.loads((tmp_path / "again" / "config.json").read_text())["config"]
    assert config == again["config"]
    assert metrics["val_accuracy"] == pytest.approx(again["val_accuracy"])
    assert metrics["test_accuracy"] == pytest.approx(again["test_accuracy"])
    rc, _, err = ffnn(capsys, "train", "--config", out / "best.json", "--lr", "7", "--out", tmp_path / "x")
    assert rc == 1 and err.count("\n") == 1 and "drop --lr 7" in err


def test_two_jobs_never_run_the_same_trial(tmp_path):
    out = tmp_path / "tune"
    cmd = [*FFNN, "tune", *SMALL, "--trials", "4", "--jobs", "2", "--out", str(out)]
    done = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    trials = load(out).get_trials()
    assert sorted(t.number for t in trials) == [0, 1, 2, 3]
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
    workers = {t.user_attrs["worker"] for t in trials}
    assert len(workers) == 2 and str(os.getpid()) not in {w.split(":")[1] for w in workers}


def test_ctrl_c_fails_the_running_trial_and_keeps_the_rest(tmp_path, monkeypatch, capsys):
    from ffnn.backends import numpy_net

    real, calls = numpy_net.NeuralNetwork.train_epoch, []

    def train_epoch(self, *args):
        calls.append(1)
        if len(calls) == 5:  # epoch 1 of trial 2
            raise KeyboardInterrupt
        return real(self, *args)

    monkeypatch.setattr(numpy_net.NeuralNetwork, "train_epoch", train_epoch)
    out = tmp_path / "tune"
    rc, text, err = ffnn(capsys, "tune", *SMALL, "--trials", "5", "--out", out)
    assert rc == 130 and "Traceback" not in err
    # The fourth starting point was never tried: it waits for the next run.
    states = [t.state for t in load(out).get_trials()]
    assert states == [TrialState.COMPLETE, TrialState.COMPLETE, TrialState.FAIL, TrialState.WAITING]
    assert [r["state"] for r in csv_rows(out)] == ["COMPLETE", "COMPLETE", "FAIL", "WAITING"]
    assert not (out / "best.json").exists()

    monkeypatch.setattr(numpy_net.NeuralNetwork, "train_epoch", real)
    assert ffnn(capsys, "tune", *SMALL, "--trials", "1", "--out", out)[0] == 0
    trials = load(out).get_trials()
    assert len(trials) == 4 and trials[3].state in (TrialState.COMPLETE, TrialState.PRUNED)
    assert (out / "best.json").is_file()


def test_ctrl_c_reaches_the_worker_processes(tmp_path):
    out = tmp_path / "tune"
    cmd = [*FFNN, "tune", *SMALL, "--epochs", "30", "--trials", "50", "--jobs", "2",
           "--out", str(out)]
    proc = subprocess.Popen(cmd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not _running(out):
            time.sleep(0.5)
        assert _running(out), "no trial started"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    trials = load(out).get_trials()
    assert trials and not [t for t in trials if t.state == TrialState.RUNNING]
    assert TrialState.FAIL in {t.state for t in trials}
    assert len(csv_rows(out)) == len(trials)


def _running(out) -> bool:
    try:
        return bool(load(out).get_trials(states=(TrialState.RUNNING,)))
    except Exception:  # the study is not created yet
        return False


def test_hopeless_trials_are_pruned(tmp_path):
    from ffnn.cli.tune import tune_spec

    spec, data = tune_spec(build_parser().parse_args(["tune", *SMALL, "--epochs", "3", "--out", str(tmp_path)]))
    study = optuna.create_study(direction="maximize",
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=0))
    study.enqueue_trial({"learning_rate": 3.0, "batch_size": 32})
    study.enqueue_trial({"learning_rate": 0.3, "batch_size": 64})
    study.optimize(search.objective_for(spec, data), n_trials=2)
    good, hopeless = study.trials
    assert good.state == TrialState.COMPLETE and good.user_attrs["epochs"] == 3
    assert hopeless.state == TrialState.PRUNED and hopeless.user_attrs["epochs"] == 1


def test_search_space_by_loss_and_fixed_values():
    space = search.Space.make("mse", "constant")
    assert space.lr_range == search.LR_RANGES["mse"] and space.batch_sizes == search.BATCH_SIZES
    assert search.LR_RANGES["mse"][1] >= 10 * search.LR_RANGES["cross-entropy"][1]
    fixed = search.Space.make("mse", "constant", lr=2.0, batch_size=16)
    assert fixed.suggest(optuna.trial.FixedTrial({})) == (2.0, 16)
    assert search.Space.make("cross-entropy", "time-based").lr_range == (1, 20)
    with pytest.raises(ValueError, match="lr_range must be integers"):
        search.Space.make("cross-entropy", "time-based", lr_range=(1.5, 3))
    points = search.initial_points(search.Space((0.01, 10.0), (8, 16, 32, 64, 128)))
    # 0.01 * 1000 ** (k/8) for k = 1, 3, 5, 7, each with another batch size, small rates with large batches.
    assert points == [{"learning_rate": 0.0237, "batch_size": 64}, {"learning_rate": 0.133, "batch_size": 8},
                      {"learning_rate": 0.75, "batch_size": 128}, {"learning_rate": 4.22, "batch_size": 16}]
    assert search.initial_points(fixed) == []
    assert search.shares(7, 3) == [3, 2, 2] and search.shares(1, 4) == [1] and search.shares(0, 2) == []


@pytest.mark.parametrize("extra, message", [
    (["--val-size", "0"], "needs a validation split"),
    (["--lr", "1", "--lr-range", "0.1,1"], "not both"),
    (["--lr-range", "3,1"], "LOW must be smaller than HIGH"),
    (["--backend", "torch", "--loss", "mse"], "numpy backend only"),
    (["--storage", "postgresql://nobody@127.0.0.1:1/none"], "cannot open the storage"),
])
def test_errors_are_one_line(extra, message, tmp_path, capsys):
    rc, _, err = ffnn(capsys, "tune", *SMALL, *extra, "--trials", "1", "--out", tmp_path)
    assert rc in (1, 2) and err.count("\n") == 1 and message in err, err


def test_creating_the_schema_is_retried_only_when_processes_race():
    from sqlalchemy.exc import IntegrityError, OperationalError

    calls = []

    def racing():
        calls.append(1)
        if len(calls) < 3:  # what the loser of a race sees: a unique-key violation
            raise IntegrityError("INSERT INTO version_info", {}, Exception("duplicate key value"))
        return "storage"

    assert search._retrying(racing, "the storage") == "storage" and len(calls) == 3

    def refused():
        calls.append(1)
        raise OperationalError("connect", {}, Exception("connection refused"))

    calls.clear()
    with pytest.raises(search.SearchError, match="cannot open the storage: .*connection refused"):
        search._retrying(refused, "the storage")
    assert len(calls) == 1


def test_sqlite_transactions_take_the_write_lock_before_reading(tmp_path):
    # Two workers must not both read a trial as WAITING and both take it: on SQLite every transaction of the
    # storage begins with the file's write lock, so even a read waits while another process holds it.
    import sqlite3
    import threading

    path = tmp_path / "study.db"
    storage = search.open_storage(f"sqlite:///{path}")
    study = optuna.create_study(storage=storage, study_name="s", direction="maximize")
    study.enqueue_trial({"learning_rate": 1.0})
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another worker, in the middle of taking a trial
    done = threading.Event()
    reader = threading.Thread(target=lambda: (study.get_trials(deepcopy=False), done.set()), daemon=True)
    reader.start()
    assert not done.wait(1.0), "the storage read while another process held the write lock"
    other.execute("COMMIT")
    assert done.wait(60)
    other.close()


def test_tune_png_without_a_finished_trial(tmp_path):
    from ffnn.tune import report

    failed = {"number": 0, "state": "FAIL", "learning_rate": 0.5, "batch_size": 32, "epochs": 0,
              "val_accuracy": float("nan"), "seconds": 1.0}
    pruned = {**failed, "number": 1, "state": "PRUNED", "epochs": 1, "val_accuracy": 0.1}
    for rows in ([], [failed], [failed, pruned]):
        assert report.plot_tune(rows, tmp_path / "tune.png", "t").stat().st_size > 1000


def test_a_trial_scores_the_epoch_early_stopping_keeps(monkeypatch):
    # early stopping kept epoch 2 (val_accuracy 0.9) and trained on to epoch 4 (0.6): the model the trial
    # stands for is epoch 2's, so its value is 0.9 and not the last epoch's 0.6
    from argparse import Namespace

    from ffnn import TrainConfig, backends
    from ffnn.history import History

    history = History()
    for epoch, acc in enumerate([0.5, 0.9, 0.7, 0.6], start=1):
        history.append(epoch=epoch, loss=1 - acc, accuracy=acc, val_loss=1 - acc, val_accuracy=acc,
                       learning_rate=0.1, seconds=0.0)
    history.best_epoch, history.stopped_epoch = 2, 4

    class Trained:
        def fit_arrays(self, *args, **kwargs):
            return history

    monkeypatch.setattr(backends, "build", lambda *args, **kwargs: Trained())
    config = TrainConfig(layer_sizes=(4, 3), early_stopping=2)
    spec = Namespace(space=search.Space(lr_range=(0.1, 1.0), batch_sizes=(32,), fixed_lr=0.1, fixed_batch_size=32),
                     trial_config=lambda lr, batch: config.replace(learning_rate=lr, batch_size=batch),
                     backend="numpy", device="cpu")
    data = Namespace(x=None, y=None, x_val=None, y_val=None)
    objective = search.objective_for(spec, data)
    assert objective(optuna.trial.FixedTrial({})) == 0.9
