"""``ffnn lr-find``: the learning-rate range test (:mod:`ffnn.lrfind`) for a training configuration."""
from __future__ import annotations

from pathlib import Path

from .options import add_training_arguments, data_spec, train_config


def add_arguments(p) -> None:
    add_training_arguments(p, lr_help="the rate to compare with the range found (default: 1.0)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="directory for lr_find.png and lr_find.json (default: runs/<timestamp>-lr-find)")


def run(args) -> int:
    import numpy as np

    from ..diagnosis import rate_advice
    from ..experiment import load_split
    from ..lrfind import SAMPLE, range_test
    from ..plots import plot_range_test
    from ..runs import default_run_dir, write_json
    from ..weights import init_weights
    from .options import flag_names

    with flag_names():
        split = load_split(data_spec(args))
    config = train_config(args, split)
    out = Path(args.out) if args.out else default_run_dir("lr-find")
    # A sample of the training split, from the weights a run of this configuration starts with.
    idx = np.random.default_rng([config.seed, 4]).permutation(len(split.x))[:SAMPLE]
    start = init_weights(config.layer_sizes, config.seed, "float32", config.activation)
    test = {**range_test(config, split.x[idx], split.y[idx], start).to_dict(), "config": config.to_dict()}
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "lr_find.json", test)
    plot_range_test(test, out / "lr_find.png", current=config.learning_rate)
    print(f"Learning-rate range test: {test['steps']} steps of batch {test['batch_size']} on "
          f"{test['sample'] - test['held']} {args.dataset} training images (the loss measured on {test['held']} "
          f"others), rates {test['rates'][0]:g} to {test['rates'][-1]:g}, {test['seconds']:.1f} s")
    if test["recommended"] is not None:
        low, high = test["recommended"]
        print(f"The loss fell fastest at rates {low:g} to {high:g} (steepest at {test['steepest']:g}); "
              f"suggested: --lr {test['suggested']:g}")
    advice = rate_advice(test, config)
    print(advice[0].upper() + advice[1:])
    print(f"Plot: {out / 'lr_find.png'}; numbers: {out / 'lr_find.json'}")
    return 0
