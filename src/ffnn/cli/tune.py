"""``ffnn tune``: search learning rate and batch size with Optuna, then score the best trial once (:mod:`ffnn.tune`)."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ConfigError, UsageError
from .options import (add_training_arguments, data_spec, hidden, learning_rate, non_negative_int, positive_int,
                      train_config)
from .output import pct


def _lr_range(text: str) -> tuple:
    parts = text.split(",")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"must be LOW,HIGH such as 0.01,5, got {text!r}")
    low, high = (learning_rate(p.strip()) for p in parts)
    if not low < high:
        raise argparse.ArgumentTypeError(f"LOW must be smaller than HIGH, got {text!r}")
    return low, high


def add_arguments(p) -> None:
    from ..backends import BACKENDS
    from ..tune.spec import BATCH_SIZES, DEFAULT_STUDY, LR_RANGES

    p.add_argument("--backend", choices=tuple(BACKENDS), default="numpy", help="implementation (default: numpy)")
    add_training_arguments(
        p,
        lr_help="fix the learning rate instead of searching it (default: searched on a log scale, "
                + ", ".join(f"{a}-{b} for {loss}" for loss, (a, b) in LR_RANGES.items())
                + ", 1-20 (integers) with --schedule time-based)",
        batch_help=f"fix the batch size instead of searching it (default: searched among "
                   f"{','.join(map(str, BATCH_SIZES))})")
    # --lr and --batch-size fix a value that is otherwise searched.
    p.set_defaults(lr=None, batch_size=None)
    p.add_argument("--lr-range", type=_lr_range, default=None, metavar="LOW,HIGH",
                   help="learning rates to search, log scale (default: by loss, see --lr)")
    p.add_argument("--batch-sizes", type=hidden, default=None, metavar="SIZES",
                   help=f"batch sizes to search, comma-separated (default: {','.join(map(str, BATCH_SIZES))})")
    p.add_argument("--trials", type=non_negative_int, default=20,
                   help="trials to add to the study, over all --jobs; 0 only reports (default: 20)")
    p.add_argument("--jobs", type=positive_int, default=1,
                   help="worker processes on this machine, sharing the storage (default: 1)")
    p.add_argument("--storage", default=None, metavar="URL",
                   help="Optuna RDB storage, e.g. postgresql://user:pass@host/db to share a study between "
                        "machines (default: sqlite:///DIR/study.db)")
    p.add_argument("--study", default=DEFAULT_STUDY, metavar="NAME", help=f"study name (default: {DEFAULT_STUDY})")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="directory for study.db, trials.csv, tune.png, best.json and best/ (required, no default)")


def _check(args) -> None:
    from ..experiment import check_backends
    from ..tune import check_optuna

    check_optuna()
    if not args.val_size:
        raise UsageError("--val-size 0 leaves nothing to select on: ffnn tune needs a validation split")
    if args.lr is not None and args.lr_range is not None:
        raise UsageError("give --lr (a fixed rate) or --lr-range (rates to search), not both")
    if args.batch_size is not None and args.batch_sizes is not None:
        raise UsageError("give --batch-size (a fixed size) or --batch-sizes (sizes to search), not both")
    check_backends([args.backend], args.loss)


def tune_spec(args):
    """The :class:`~ffnn.tune.TuneSpec` of the flags, and the split it loaded: ``(spec, split)``.

    The study's TrainConfig is built with the fixed rate and batch size, or
    the first of those searched (each trial sets its own), so that a bad
    combination of settings fails here, before any trial.
    """
    from ..experiment import load_split
    from ..tune import Space, TuneSpec

    try:
        space = Space.make(args.loss, args.schedule, lr_range=args.lr_range, batch_sizes=args.batch_sizes,
                           lr=args.lr, batch_size=args.batch_size)
    except ConfigError as exc:
        raise exc.renamed({"lr_range": "--lr-range"}) from None
    data = data_spec(args)
    split = load_split(data)
    lr, batch = space.start()
    config = train_config(argparse.Namespace(**{**vars(args), "lr": lr, "batch_size": batch}), split)
    return TuneSpec(backend=args.backend, config=config, data=data, space=space, out=str(args.out),
                    study=args.study, storage=args.storage, trials=args.trials, jobs=args.jobs,
                    device=args.device), split


def run(args) -> int:
    from ..tune import report, tune
    from .options import flag_names

    with flag_names():
        _check(args)
        spec, split = tune_spec(args)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # each trial gets one line of its own
    result = tune(spec, split, log=lambda line: print(line, flush=True))
    if result["interrupted"]:
        print("Interrupted: the finished trials are kept, the running ones marked failed; run the same command "
              "again to go on.", flush=True)
        return 130
    best = result["best"]
    print(f"Best trial {best['trial']}: {', '.join(f'{k} {v}' for k, v in best['params'].items())}: "
          f"validation accuracy {pct(best['val_accuracy'])} (again: {pct(best['reproduced_val_accuracy'])}), "
          f"test accuracy {pct(best['test_accuracy'])}")
    path = Path(args.out) / report.BEST_JSON
    print(f"{path}; repeat it with: ffnn train --config {path}")
    return 0
