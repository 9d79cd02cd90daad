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


def from_config_file(args):
    """``--config FILE``: ``(backend, TrainConfig, DataSpec)`` of FILE, a ``best.json`` of ``ffnn tune``.

    A flag given on the command line with a value other than its default and
    other than FILE's is an error rather than silently overridden.
    """
    import argparse
    import json

    from ..errors import UsageError
    from ..tune import read_best
    from .options import FLAGS

    best = read_best(args.config)
    config, data = best["config"], best["data"]
    probe = argparse.ArgumentParser(add_help=False)
    add_arguments(probe)
    defaults = vars(probe.parse_args([]))
    in_file = {"--backend": best["backend"]}
    for field, flag in FLAGS.items():  # TrainConfig's and DataSpec's fields (seed is in both, alike)
        owner = config if hasattr(config, field) else data
        in_file[flag] = config.hidden if field == "layer_sizes" else getattr(owner, field)
    for flag, value in in_file.items():
        dest = flag[2:].replace("-", "_")
        given, default, value = (json.loads(json.dumps(v)) for v in (getattr(args, dest), defaults[dest], value))
        if given != default and given != value:
            raise UsageError(f"--config {args.config} sets {flag} {_word(value)}; drop {flag} {_word(given)} from "
                             f"the command line")
    return best["backend"], config, data


def _word(value) -> str:
    """A setting as it is written on the command line (``[128, 64]`` -> ``128,64``)."""
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def run(args) -> int:
    from ..backends import build
    from ..errors import UsageError
    from ..experiment import PLOTS, check_backends, load_split, train_run
    from ..runs import default_run_dir
    from .options import flag_names

    if args.config:
        backend, config, data = from_config_file(args)
        check_backends([backend], config.loss)
        split = load_split(data)
        if config.n_inputs != split.x.shape[1]:
            raise UsageError(f"--config {args.config}: the model takes {config.n_inputs} inputs, the images of "
                             f"{data.dataset} have {split.x.shape[1]} pixels")
    else:
        backend = args.backend
        with flag_names():
            check_backends([backend], args.loss)
            data = data_spec(args)
            split = load_split(data)
        config = train_config(args, split)
    model = build(backend, config, args.device)
    out = Path(args.out) if args.out else default_run_dir(backend)
    print(f"Training {backend} {config.layer_sizes} on {split.info['n_train']} {data.dataset} images "
          f"({split.info['n_val']} for validation) into {out}", flush=True)
    result = train_run(backend, model, split, args.device, out)
    print(f"{backend}: test accuracy {pct(result['test_accuracy'])} "
          f"(train {pct(result['train_accuracy'])}, validation {pct(result['val_accuracy'])})")
    print(f"Saved the run in {out}; plots: " + ", ".join(str(out / f) for f in PLOTS if (out / f).exists()))
    if result["interrupted"]:
        report_interrupted(result, config.epochs)
        return 130
    return 0
