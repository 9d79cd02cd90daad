"""``ffnn compare``: several backends on the same data, split, batches and starting weights, side by side."""
from __future__ import annotations

import sys
from pathlib import Path

from ..experiment import DEFAULT_BACKENDS
from .options import add_training_arguments, backend_list, data_spec, flag_names, train_config
from .output import pct, report_interrupted


def add_arguments(p) -> None:
    p.add_argument("--backends", type=backend_list, default=DEFAULT_BACKENDS, metavar="NAMES",
                   help="comma-separated backends, trained one after the other on the same data, split "
                        "and starting weights (default: numpy,torch,tensorflow)")
    add_training_arguments(p)
    p.add_argument("--out", default=None, metavar="DIR",
                   help="directory for summary.json, accuracy.png and one run directory per backend "
                        "(default: runs/<timestamp>-compare)")


def format_table(results: dict) -> str:
    """The comparison table: one row per backend."""
    head = f"{'backend':<12}{'train acc':>11}{'val acc':>11}{'test acc':>11}{'s/epoch':>10}"
    rows = [head, "-" * len(head)]
    for name, r in results.items():
        spe = "-" if r["seconds_per_epoch"] is None else f"{r['seconds_per_epoch']:.2f}"
        rows.append(f"{name:<12}{pct(r['train_accuracy']):>11}{pct(r['val_accuracy']):>11}"
                    f"{pct(r['test_accuracy']):>11}{spe:>10}")
    return "\n".join(rows)


def _device(name: str, names, device: str) -> str:
    # numpy has only the CPU; --device cuda is for the frameworks beside it.
    return "cpu" if name == "numpy" and device == "cuda" and len(names) > 1 else device


def run(args) -> int:
    from .. import plots
    from ..backends import build
    from ..experiment import PLOTS, check_backends, load_split, train_run
    from ..runs import COMPARE_SUMMARY, default_run_dir, write_json

    names = args.backends
    with flag_names():
        check_backends(names, args.loss)
        split = load_split(data_spec(args))
    config = train_config(args, split)
    # Build every model first, so that a bad --device fails before any training.
    models = {name: build(name, config, _device(name, names, args.device)) for name in names}
    out = Path(args.out) if args.out else default_run_dir("compare")
    print(f"Comparing {', '.join(names)}: {config.layer_sizes}, {config.epochs} epochs, batch "
          f"{config.batch_size}, lr {config.learning_rate} on {split.info['n_train']} {args.dataset} images "
          f"({split.info['n_val']} for validation) into {out}", flush=True)
    results = {}
    for name in names:
        print(f"== {name} ==", flush=True)
        results[name] = result = train_run(name, models[name], split, _device(name, names, args.device), out / name)
        if not result["initial_weights_match_shared_init"]:
            print(f"warning: {name} did not start from the shared initial weights", file=sys.stderr)
        summary = {
            "config": config.to_dict(), "data": split.info, "device": args.device,
            "interrupted": result["interrupted"],
            "backends": {n: {**{k: v for k, v in r.items() if k not in ("history", "run_dir")},
                             "run_dir": str(r["run_dir"]), "history": r["history"].to_dict()["history"]}
                         for n, r in results.items()},
        }
        write_json(out / COMPARE_SUMMARY, summary)
        finished = {n: r["history"] for n, r in results.items() if r["history"].epochs}
        if finished:
            plots.plot_accuracy(finished, out / "accuracy.png",
                                title="Accuracy per epoch (train solid, validation dashed)")
        if result["interrupted"]:
            break
    print()
    print(format_table(results))
    print(f"\nSummary: {out / COMPARE_SUMMARY}")
    if (out / "accuracy.png").exists():
        print(f"Plots: {out / 'accuracy.png'} (all backends)")
    for name in results:
        print(f"       {out / name}/: " + ", ".join(f for f in PLOTS if (out / name / f).exists()))
    last = next(reversed(results.values()))
    if last["interrupted"]:
        report_interrupted(last, config.epochs)
        return 130
    return 0
