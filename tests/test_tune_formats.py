"""What ffnn tune saves is a TrainConfig and a DataSpec, versioned; files and studies of format 1 still work.

Format 1 (ffnn until 2026-12-02) keyed a study on the flags of ``ffnn tune``
(its ``settings`` attribute) and wrote the flags into ``best.json``
(``train_flags``). The old files and studies below are written out by hand,
as that version wrote them, not by the code under test.
"""
import dataclasses
import json

import pytest

from helpers.cli import ffnn

SMALL = ["--backend", "numpy", "--n-train", "2000", "--epochs", "1", "--hidden", "32",
         "--lr-range", "0.3,3", "--batch-sizes", "32,64"]

CONFIG = {"layer_sizes": [784, 8, 10], "epochs": 1, "batch_size": 32, "learning_rate": 0.711,
          "loss": "cross-entropy", "activation": "sigmoid", "momentum": 0.0, "schedule": "constant", "seed": 1,
          "early_stopping": None, "monitor": "val_loss", "min_delta": 0.0, "shuffle": True, "dtype": "float32"}

#: best.json as ffnn tune wrote it in format 1 (no "format"; the flags in "train_flags"; "data" the split).
BEST_V1 = {
    "study": "ffnn", "storage": "sqlite:////tmp/old/study.db", "trial": 1,
    "params": {"learning_rate": 0.711, "batch_size": 32}, "val_accuracy": 0.8, "backend": "numpy",
    "train_flags": {"backend": "numpy", "hidden": [8], "epochs": 1, "batch_size": 32, "lr": 0.711,
                    "loss": "cross-entropy", "activation": "sigmoid", "momentum": 0.0, "schedule": "constant",
                    "n_train": 500, "val_size": 0.1, "seed": 1, "early_stopping": None, "dataset": "mnist",
                    "data_dir": None},
    "command": "ffnn train --backend numpy --hidden 8 --epochs 1 --batch-size 32 --lr 0.711 --loss cross-entropy "
               "--activation sigmoid --momentum 0.0 --schedule constant --n-train 500 --val-size 0.1 --seed 1 "
               "--dataset mnist --out /tmp/old/best",
    "search_space": {"lr_range": [0.3, 3], "batch_sizes": [32, 64], "integer_lr": False, "fixed_lr": None,
                     "fixed_batch_size": None},
    "trials": {"complete": 2}, "config": CONFIG,
    "data": {"dataset": "mnist", "data_dir": None, "n_train": 450, "n_val": 50, "n_test": 10000, "first_n": 500,
             "val_size": 0.1, "split_seed": 1, "classes": [str(d) for d in range(10)]},
    "reproduced_val_accuracy": 0.8, "test_accuracy": 0.79, "run_dir": "/tmp/old/best",
}

#: A study's "settings" attribute as format 1 recorded it for ``ffnn tune SMALL``.
SETTINGS_V1 = {"activation": "sigmoid", "backend": "numpy", "data_dir": None, "dataset": "mnist",
               "early_stopping": None, "epochs": 1, "hidden": [32], "loss": "cross-entropy", "momentum": 0.0,
               "n_train": 2000, "schedule": "constant", "seed": 1, "val_size": 0.1,
               "search_space": {"lr_range": [0.3, 3], "batch_sizes": [32, 64], "integer_lr": False,
                                "fixed_lr": None, "fixed_batch_size": None}}


def write(path, record):
    path.write_text(json.dumps(record, indent=2))
    return path


# ------------------------------------------------------------------------------------------ best.json


def test_best_json_of_format_1_trains_again(tmp_path, capsys):
    best = write(tmp_path / "best.json", BEST_V1)
    rc, _, err = ffnn(capsys, "train", "--config", best, "--out", tmp_path / "run")
    assert rc == 0, err
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["backend"] == "numpy" and saved["config"] == CONFIG
    assert saved["data"]["first_n"] == 500 and saved["data"]["n_train"] == 450  # the flags' data settings
    # A flag that contradicts the file is refused by name; one that repeats it is fine.
    rc, _, err = ffnn(capsys, "train", "--config", best, "--epochs", "3", "--out", tmp_path / "x")
    assert rc == 1 and err.count("\n") == 1 and "sets --epochs 1; drop --epochs 3" in err, err
    rc, _, err = ffnn(capsys, "train", "--config", best, "--hidden", "16", "--out", tmp_path / "x")
    assert rc == 1 and "sets --hidden 8; drop --hidden 16" in err, err
    assert not (tmp_path / "x").exists()


def test_best_json_of_format_2_reads_back_what_was_written(tmp_path):
    from ffnn.config import TrainConfig
    from ffnn.experiment import DataSpec
    from ffnn.runs import write_json
    from ffnn.tune.spec import Space, TuneSpec, best_record, read_best

    config, data = TrainConfig.from_dict(CONFIG), DataSpec(n_train=500, val_size=50, seed=1)
    spec = TuneSpec("numpy", config, data, Space.make("cross-entropy", "constant"), out=str(tmp_path))
    record = best_record(spec, config.replace(learning_rate=2.5))
    assert record["format"] == 2 and "train_flags" not in record
    back = read_best(write_json(tmp_path / "best.json", {**record, "test_accuracy": 0.9}))
    assert back == {"backend": "numpy", "config": config.replace(learning_rate=2.5), "data": data}


@pytest.mark.parametrize("change, message", [
    (lambda b: {**b, "train_flags": {**b["train_flags"], "dropout": 0.5}}, "unknown training flag 'dropout'"),
    (lambda b: {k: v for k, v in b.items() if k != "train_flags"}, "holds neither format nor train_flags"),
    (lambda b: {k: v for k, v in b.items() if k != "config"}, "config is missing"),
    (lambda b: {**b, "format": 9}, "format 9 is not one this version of ffnn reads"),
    (lambda b: {"format": 2, "backend": "numpy", "config": {**CONFIG, "epochs": 0}, "data": {}},
     "epochs must be a positive integer, got 0"),
    (lambda b: {"format": 2, "backend": "numpy", "config": CONFIG, "data": {"n_train": -5}},
     "n_train must be a positive integer or None, got -5"),
    (lambda b: {"format": 2, "backend": "numpy", "config": CONFIG, "data": {"subset": 5}},
     "subset is not a data setting"),
])
def test_a_best_json_that_cannot_be_read_is_refused_in_one_line(change, message, tmp_path, capsys):
    best = write(tmp_path / "best.json", change(BEST_V1))
    rc, _, err = ffnn(capsys, "train", "--config", best, "--out", tmp_path / "run")
    assert rc == 1 and err.count("\n") == 1 and f"{best}: " in err and message in err, err
    assert not (tmp_path / "run").exists()


# ---------------------------------------------------------------------------------------------- studies


@pytest.fixture
def optuna():
    return pytest.importorskip("optuna", reason="ffnn tune needs optuna: pip install 'ffnn[tune]'")


def _spec(out, *extra):
    from ffnn.cli import build_parser
    from ffnn.cli.tune import tune_spec

    return tune_spec(build_parser().parse_args(["tune", *SMALL, *extra, "--out", str(out)]))[0]


def _old_study(optuna, out, name, **attrs):
    out.mkdir(exist_ok=True)
    study = optuna.create_study(storage=f"sqlite:///{out / 'study.db'}", study_name=name, direction="maximize")
    for key, value in attrs.items():
        study.set_user_attr(key, value)
    return study


def test_a_study_of_format_1_resumes_and_refuses_other_settings(optuna, tmp_path, capsys):
    from ffnn.tune.search import open_study

    out = tmp_path / "tune"
    _old_study(optuna, out, "ffnn", settings=SETTINGS_V1)
    _old_study(optuna, out, "odd", settings={**SETTINGS_V1, "dropout": 0.5})
    rc, _, err = ffnn(capsys, "tune", *SMALL, "--epochs", "3", "--trials", "1", "--out", out)
    assert rc == 1 and err.count("\n") == 1 and "was run with epochs = 1, this command has 3" in err, err
    rc, _, err = ffnn(capsys, "tune", *SMALL, "--activation", "tanh", "--trials", "1", "--out", out)
    assert rc == 1 and "was run with activation = 'sigmoid', this command has 'tanh'" in err, err
    rc, _, err = ffnn(capsys, "tune", *SMALL[:-2], "--batch-size", "32", "--trials", "1", "--out", out)
    assert rc == 1 and "was run with batch_sizes = [32, 64], this command has [8, 16, 32, 64, 128]" in err, err
    rc, _, err = ffnn(capsys, "tune", *SMALL, "--study", "odd", "--trials", "1", "--out", out)
    assert rc == 1 and err.count("\n") == 1 and "records the setting 'dropout'" in err, err

    study = open_study(_spec(out))  # the same settings: it resumes, and records them in format 2 from now on
    assert study.user_attrs["settings"] == SETTINGS_V1 and study.user_attrs["identity"]["format"] == 2
    assert study.user_attrs["identity"]["config"]["layer_sizes"] == [784, 32, 10]
    assert optuna.load_study(study_name="ffnn", storage=f"sqlite:///{out / 'study.db'}").trials == []


def test_a_field_added_to_trainconfig_does_not_stop_old_studies(optuna, tmp_path):
    from ffnn.errors import SearchError
    from ffnn.tune.search import open_study
    from ffnn.tune.spec import identity

    out = tmp_path / "tune"
    spec = _spec(out)
    older = identity(spec)
    # Written by an ffnn whose TrainConfig had no dtype and no shuffle yet: they had their defaults then.
    older["config"] = {k: v for k, v in older["config"].items() if k not in ("dtype", "shuffle")}
    _old_study(optuna, out, "ffnn", identity=older)
    assert open_study(spec).user_attrs["identity"] == older
    with pytest.raises(SearchError, match="was run with dtype = 'float32', this command has 'float64'"):
        open_study(dataclasses.replace(spec, config=spec.config.replace(dtype="float64")))
    _old_study(optuna, out, "later", identity={**older, "format": 3})
    with pytest.raises(SearchError, match="format 3, which this version of ffnn .* cannot read"):
        open_study(dataclasses.replace(spec, study="later"))


def test_the_readme_table_reads_both_formats(tmp_path):
    from ffnn.tune.report import readme_rows

    rows = "number,state,learning_rate,batch_size,epochs,val_accuracy,seconds\n0,COMPLETE,0.711,32,1,0.8,30\n" \
           "1,PRUNED,3.0,64,1,0.1,30\n"
    old, new = tmp_path / "old", tmp_path / "new"
    for d, best in ((old, BEST_V1), (new, {"format": 2, "backend": "numpy", "config": {**CONFIG, "loss": "mse"},
                                           "data": {"n_train": 500}, "val_accuracy": 0.8, "test_accuracy": 0.79,
                                           "trials": {"complete": 1, "pruned": 1}})):
        d.mkdir()
        (d / "trials.csv").write_text(rows)
        write(d / "best.json", best)
    lines = readme_rows([old, new]).splitlines()
    assert lines[2] == "| numpy | cross-entropy | 2 (2, 0) | 1 | 32 | 0.711 | 80.00% | 79.00% | 1 min |"
    assert lines[3] == "| numpy | mse | 2 (1, 1) | 1 | 32 | 0.711 | 80.00% | 79.00% | 1 min |"
