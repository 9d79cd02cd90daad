"""``ffnn tune``: hyper-parameter search on the validation split with Optuna.

    ffnn tune --backend numpy --loss mse --epochs 5 --trials 10 --jobs 2 --out runs/tune-mse

searches the learning rate and the batch size (:mod:`ffnn.tune.search`),
selecting on the accuracy of a validation split of the training set. After
the search the best trial is trained once more into ``DIR/best/`` and scored
on the test set, once; ``best.json`` records it and ``ffnn train --config
DIR/best.json`` repeats it. Running the same command again resumes the study
(``--trials`` more trials); ``--storage postgresql://...`` shares one study
between machines.
"""
from __future__ import annotations

import json
from argparse import Namespace
from pathlib import Path

from ..experiment import DataSpec, load_split, make_config
from .search import SearchError, Space

__all__ = ["TRAINING_FLAGS", "training_flags", "with_flags", "data_spec", "base_config", "trial_config",
           "score_best", "check_optuna", "tune"]

#: The training settings a study fixes (and ``best.json`` records), by their ``ffnn train`` flag names.
TRAINING_FLAGS = ("hidden", "epochs", "batch_size", "lr", "loss", "activation", "momentum", "schedule", "n_train",
                  "val_size", "seed", "early_stopping", "dataset", "data_dir")


def training_flags(args, params: dict) -> dict:
    """``ffnn train``'s backend and training flags for the trial with ``params``."""
    flags = {"backend": args.backend, **{name: getattr(args, name) for name in TRAINING_FLAGS}}
    flags["lr"] = params.get("learning_rate", args.lr)
    flags["batch_size"] = params.get("batch_size", args.batch_size)
    return json.loads(json.dumps(flags))


def with_flags(args, flags: dict) -> Namespace:
    """``args`` with ``flags`` set (``hidden`` back to a tuple, as JSON gives a list)."""
    values = {**vars(args), **flags}
    if values.get("hidden") is not None:
        values["hidden"] = tuple(values["hidden"])
    return Namespace(**values)


def data_spec(args) -> DataSpec:
    """The :class:`~ffnn.experiment.DataSpec` of a study's settings."""
    return DataSpec(dataset=args.dataset, data_dir=args.data_dir, n_train=args.n_train, val_size=args.val_size,
                    seed=args.seed)


def trial_config(args, split):
    """The :class:`~ffnn.config.TrainConfig` of the settings in ``args`` (one trial's rate and batch size)."""
    return make_config(split, hidden=args.hidden, epochs=args.epochs, batch_size=args.batch_size,
                       learning_rate=args.lr, loss=args.loss, activation=args.activation, momentum=args.momentum,
                       schedule=args.schedule, seed=args.seed, early_stopping=args.early_stopping)


def check_optuna() -> None:
    """A one-line error if Optuna is not installed."""
    try:
        import optuna  # noqa: F401
    except ModuleNotFoundError:
        raise SearchError("ffnn tune needs optuna: pip install 'ffnn[tune]'") from None




def base_config(args, split):
    """The TrainConfig of the study's fixed settings (the searched values are set per trial)."""
    space = Space.from_args(args)
    lr = args.lr if args.lr is not None else space.lr_range[0]
    batch = args.batch_size if args.batch_size is not None else space.batch_sizes[0]
    return trial_config(with_flags(args, {"lr": lr, "batch_size": batch}), split)


def score_best(args, study, split, out: Path) -> dict:
    """Train the best trial once more into ``out/best`` and score it on the test set; write ``best.json``.

    If ``best.json`` already holds this study's best trial, its test accuracy is kept, not measured again.
    """
    from optuna.trial import TrialState

    from ..backends import build
    from ..experiment import train_run
    from ..runs import RunError, read_json, write_json
    from . import report
    from .search import redacted, storage_url

    best = study.best_trial
    flags = training_flags(args, best.params)
    path, run_dir = out / report.BEST_JSON, out / report.BEST_RUN
    try:
        previous = read_json(path) if path.exists() else {}
    except RunError:
        previous = {}
    counts = {s.name: len(study.get_trials(deepcopy=False, states=(s,))) for s in TrialState}
    record = {"study": args.study, "storage": redacted(storage_url(args)), "trial": best.number,
              "params": best.params, "val_accuracy": best.value, "backend": args.backend,
              "train_flags": flags, "command": report.train_command(flags, run_dir),
              "search_space": Space.from_args(args).to_dict(),
              "trials": {k.lower(): v for k, v in counts.items() if v}}
    if (previous.get("study"), previous.get("trial"), previous.get("train_flags")) == (args.study, best.number, flags):
        print(f"The best trial is still trial {best.number}; its test accuracy was measured before and "
              f"is not measured again.")
        keep = ("config", "data", "reproduced_val_accuracy", "test_accuracy", "run_dir")
        record.update({k: previous.get(k) for k in keep})
    else:
        config = trial_config(with_flags(args, flags), split)
        print(f"Training the best trial ({best.number}) once more into {run_dir} and scoring it on the test set",
              flush=True)
        result = train_run(args.backend, build(args.backend, config, args.device), split, args.device, run_dir)
        if result["interrupted"]:
            raise KeyboardInterrupt
        record.update({"config": config.to_dict(), "data": split.info,
                       "reproduced_val_accuracy": result["val_accuracy"],
                       "test_accuracy": result["test_accuracy"], "run_dir": str(run_dir)})
    write_json(path, record)
    return record


def tune(args, log=print) -> dict:
    """Run the study of ``args``: ``args.trials`` more trials, the trials table and plot, the best trial scored.

    Returns ``{"rows", "interrupted", "best"}``: the trials of the whole
    study, whether Ctrl-C stopped the search (then nothing is scored), and the
    ``best.json`` record (``None`` if interrupted).
    """
    from . import report
    from .search import open_study, redacted, search, storage_url

    split = load_split(data_spec(args))
    base_config(args, split)  # a bad combination of settings fails here, before any trial
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    study = open_study(args)
    log(f"Study {args.study!r} in {redacted(storage_url(args))}: {len(study.trials)} trials so far; adding "
        f"{args.trials} with {min(args.jobs, max(args.trials, 1))} process(es). {args.backend}, {args.loss}, "
        f"{args.epochs} epochs, {split.info['n_train']} training and {split.info['n_val']} validation images")
    interrupted = search(args, study)
    space = Space.from_args(args)
    rows = report.trial_rows(study, space)
    report.write_trials_csv(rows, out / report.TRIALS_CSV)
    report.plot_tune(rows, out / report.PLOT, f"ffnn tune: study {args.study!r}, {args.backend}, {args.loss}, "
                                               f"{len(rows)} trials")
    log(f"{len(rows)} trials in the study: {out / report.TRIALS_CSV}, {out / report.PLOT}")
    if interrupted:
        return {"rows": rows, "interrupted": True, "best": None}
    if not any(r["state"] == "COMPLETE" for r in rows):
        raise SearchError(f"no trial of study {args.study!r} has completed, so there is no best trial to score")
    return {"rows": rows, "interrupted": False, "best": score_best(args, study, split, out)}
