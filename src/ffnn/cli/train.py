"""``ffnn train``: train one backend and save the run."""
from __future__ import annotations

from pathlib import Path

from .options import add_training_arguments, data_spec, train_config
from .output import pct, report_interrupted


def add_arguments(p) -> None:
    from ..backends import BACKENDS

    p.add_argument("--backend", choices=tuple(BACKENDS), default="numpy",
                   help="implementation to train (default: numpy)")
    add_training_arguments(p)
    p.add_argument("--out", default=None, metavar="DIR",
                   help="run directory to write (default: runs/<timestamp>-<backend>)")
    p.add_argument("--config", default=None, metavar="FILE",
                   help="take the backend and training settings from FILE, the best.json of ffnn tune "
                        "(default: none)")


def run(args) -> int:
    from ..backends import build
    from ..experiment import PLOTS, check_backends, load_split, train_run
    from ..runs import default_run_dir
    from .options import flag_names

    if args.config:
        from .tune import apply_config_file

        args = apply_config_file(args)
    with flag_names():
        check_backends([args.backend], args.loss)
        split = load_split(data_spec(args))
    config = train_config(args, split)
    model = build(args.backend, config, args.device)
    out = Path(args.out) if args.out else default_run_dir(args.backend)
    print(f"Training {args.backend} {config.layer_sizes} on {split.info['n_train']} {args.dataset} images "
          f"({split.info['n_val']} for validation) into {out}", flush=True)
    result = train_run(args.backend, model, split, args.device, out)
    print(f"{args.backend}: test accuracy {pct(result['test_accuracy'])} "
          f"(train {pct(result['train_accuracy'])}, validation {pct(result['val_accuracy'])})")
    print(f"Saved the run in {out}; plots: " + ", ".join(str(out / f) for f in PLOTS if (out / f).exists()))
    if result["interrupted"]:
        report_interrupted(result, config.epochs)
        return 130
    return 0
