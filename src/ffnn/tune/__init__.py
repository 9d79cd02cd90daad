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

import argparse
import json
from argparse import Namespace
from pathlib import Path

from .search import BATCH_SIZES, DEFAULT_STUDY, LR_RANGES, SearchError, Space

__all__ = ["DESCRIPTION", "add_arguments", "run", "apply_config_file", "training_flags"]

DESCRIPTION = ("search learning rate and batch size on the validation split with Optuna "
               "(resumable, several processes or machines), then score the best trial on the test set once")


def _lr_range(text: str) -> tuple:
    from ..cli import _learning_rate

    parts = text.split(",")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"must be LOW,HIGH such as 0.01,5, got {text!r}")
    low, high = (_learning_rate(p.strip()) for p in parts)
    if not low < high:
        raise argparse.ArgumentTypeError(f"LOW must be smaller than HIGH, got {text!r}")
    return low, high


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ..backends import BACKENDS
    from ..cli import _add_training_arguments, _hidden, _non_negative_int, _positive_int

    p.add_argument("--backend", choices=tuple(BACKENDS), default="numpy", help="implementation (default: numpy)")
    _add_training_arguments(p)
    # --lr and --batch-size fix a value that is otherwise searched.
    p.set_defaults(lr=None, batch_size=None)
    helps = {"lr": "fix the learning rate instead of searching it (default: searched on a log scale, "
                   + ", ".join(f"{a}-{b} for {loss}" for loss, (a, b) in LR_RANGES.items())
                   + ", 1-20 (integers) with --schedule time-based)",
             "batch_size": f"fix the batch size instead of searching it (default: searched among "
                           f"{','.join(map(str, BATCH_SIZES))})"}
    for action in p._actions:
        action.help = helps.get(action.dest, action.help)
    p.add_argument("--lr-range", type=_lr_range, default=None, metavar="LOW,HIGH",
                   help="learning rates to search, log scale (default: by loss, see --lr)")
    p.add_argument("--batch-sizes", type=_hidden, default=None, metavar="SIZES",
                   help=f"batch sizes to search, comma-separated (default: {','.join(map(str, BATCH_SIZES))})")
    p.add_argument("--trials", type=_non_negative_int, default=20,
                   help="trials to add to the study, over all --jobs; 0 only reports (default: 20)")
    p.add_argument("--jobs", type=_positive_int, default=1,
                   help="worker processes on this machine, sharing the storage (default: 1)")
    p.add_argument("--storage", default=None, metavar="URL",
                   help="Optuna RDB storage, e.g. postgresql://user:pass@host/db to share a study between "
                        "machines (default: sqlite:///DIR/study.db)")
    p.add_argument("--study", default=DEFAULT_STUDY, metavar="NAME", help=f"study name (default: {DEFAULT_STUDY})")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="directory for study.db, trials.csv, tune.png, best.json and best/ (required, no default)")


def _training_dests() -> list:
    """The names of ``ffnn train``'s training flags (whatever :func:`ffnn.cli._add_training_arguments` declares)."""
    from ..cli import _add_training_arguments

    probe = argparse.ArgumentParser(add_help=False)
    _add_training_arguments(probe)
    return [a.dest for a in probe._actions]


def training_flags(args, params: dict) -> dict:
    """``ffnn train``'s backend and training flags for the trial with ``params``."""
    flags = {"backend": args.backend}
    for dest in _training_dests():
        if dest != "device":  # where it computes is up to the machine that repeats it
            flags[dest] = getattr(args, dest)
    flags["lr"] = params.get("learning_rate", args.lr)
    flags["batch_size"] = params.get("batch_size", args.batch_size)
    return json.loads(json.dumps(flags))


def _with_flags(args, flags: dict) -> Namespace:
    values = {**vars(args), **flags}
    if values.get("hidden") is not None:
        values["hidden"] = tuple(values["hidden"])
    return Namespace(**values)


def apply_config_file(args) -> Namespace:
    """``ffnn train --config FILE``: the arguments with FILE's ``train_flags`` (from ``best.json``) applied.

    A flag given on the command line with a value other than its default and
    other than FILE's is an error rather than silently overridden.
    """
    from ..cli import CLIError, _add_train
    from ..runs import read_json

    flags = read_json(args.config).get("train_flags")
    if not isinstance(flags, dict):
        raise CLIError(f"--config {args.config}: holds no train_flags (write it with ffnn tune)")
    probe = argparse.ArgumentParser(add_help=False)
    _add_train(probe)
    defaults = vars(probe.parse_args([]))
    for key, value in flags.items():
        if key not in defaults:
            raise CLIError(f"--config {args.config}: unknown training flag {key!r}")
        given, default = (json.loads(json.dumps(v)) for v in (getattr(args, key), defaults[key]))
        if given != default and given != value:
            raise CLIError(f"--config {args.config} sets --{key.replace('_', '-')} {value!r}; drop "
                           f"--{key.replace('_', '-')} {given!r} from the command line")
    return _with_flags(args, flags)


def _check(args) -> None:
    from ..cli import CLIError, _check_backends

    try:
        import optuna  # noqa: F401
    except ModuleNotFoundError:
        raise CLIError("ffnn tune needs optuna: pip install 'ffnn[tune]'") from None
    if not args.val_size:
        raise CLIError("--val-size 0 leaves nothing to select on: ffnn tune needs a validation split")
    if args.lr is not None and args.lr_range is not None:
        raise CLIError("give --lr (a fixed rate) or --lr-range (rates to search), not both")
    if args.batch_size is not None and args.batch_sizes is not None:
        raise CLIError("give --batch-size (a fixed size) or --batch-sizes (sizes to search), not both")
    _check_backends([args.backend], args.loss)
    Space.from_args(args)


def base_config(args, data):
    """The TrainConfig of the study's fixed settings (the searched values are set per trial)."""
    from ..cli import _train_config

    space = Space.from_args(args)
    lr = args.lr if args.lr is not None else space.lr_range[0]
    batch = args.batch_size if args.batch_size is not None else space.batch_sizes[0]
    return _train_config(_with_flags(args, {"lr": lr, "batch_size": batch}), data)


def _score_best(args, study, data, out: Path) -> dict:
    """Train the best trial once more into ``out/best`` and score it on the test set; write ``best.json``.

    If ``best.json`` already holds this study's best trial, its test accuracy is kept, not measured again.
    """
    from optuna.trial import TrialState

    from ..backends import build
    from ..cli import _train_config, _train_one
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
        config = _train_config(_with_flags(args, flags), data)
        print(f"Training the best trial ({best.number}) once more into {run_dir} and scoring it on the test set",
              flush=True)
        result = _train_one(args.backend, build(args.backend, config, args.device), data, args.device, run_dir)
        if result["interrupted"]:
            raise KeyboardInterrupt
        record.update({"config": config.to_dict(), "data": data.info,
                       "reproduced_val_accuracy": result["val_accuracy"],
                       "test_accuracy": result["test_accuracy"], "run_dir": str(run_dir)})
    write_json(path, record)
    return record


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.2f}%"


def run(args) -> int:
    from ..cli import _Data
    from . import report
    from .search import open_study, redacted, search, storage_url

    _check(args)
    data = _Data(args)
    base_config(args, data)  # a bad combination of flags fails here, before any trial
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    study = open_study(args)
    before = len(study.trials)
    print(f"Study {args.study!r} in {redacted(storage_url(args))}: {before} trials so far; adding {args.trials} "
          f"with {min(args.jobs, max(args.trials, 1))} process(es). {args.backend}, {args.loss}, "
          f"{args.epochs} epochs, {data.info['n_train']} training and {data.info['n_val']} validation images",
          flush=True)
    interrupted = search(args, study)
    space = Space.from_args(args)
    rows = report.trial_rows(study, space)
    report.write_trials_csv(rows, out / report.TRIALS_CSV)
    report.plot_tune(rows, out / report.PLOT, f"ffnn tune: study {args.study!r}, {args.backend}, {args.loss}, "
                                               f"{len(rows)} trials")
    print(f"{len(rows)} trials in the study: {out / report.TRIALS_CSV}, {out / report.PLOT}")
    if interrupted:
        print("Interrupted: the finished trials are kept, the running ones marked failed; run the same command "
              "again to go on.", flush=True)
        return 130
    if not any(r["state"] == "COMPLETE" for r in rows):
        raise SearchError(f"no trial of study {args.study!r} has completed, so there is no best trial to score")
    best = _score_best(args, study, data, out)
    print(f"Best trial {best['trial']}: {', '.join(f'{k} {v}' for k, v in best['params'].items())}: "
          f"validation accuracy {_pct(best['val_accuracy'])} (again: {_pct(best['reproduced_val_accuracy'])}), "
          f"test accuracy {_pct(best['test_accuracy'])}")
    print(f"{out / report.BEST_JSON}; repeat it with: ffnn train --config {out / report.BEST_JSON}")
    return 0
