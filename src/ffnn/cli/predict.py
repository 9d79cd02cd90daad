"""``ffnn predict``: classify image files with a saved run (with every run of a comparison, side by side)."""
from __future__ import annotations

import json

import numpy as np

from .options import positive_int
from .output import every, pct


def add_arguments(p) -> None:
    p.add_argument("run_dir", metavar="RUN_DIR",
                   help="a run directory written by ffnn train, or a comparison directory written by ffnn "
                        "compare (then every backend's answer, side by side)")
    p.add_argument("images", nargs="+", metavar="IMAGE",
                   help="image files (PNG, JPEG, ...) of one handwritten digit (or one item of the run's "
                        "dataset) each, any size, dark on light or light on dark")
    p.add_argument("--top", type=positive_int, default=3, help="classes to show per image (default: 3)")
    p.add_argument("--json", action="store_true",
                   help="print JSON instead of text, keyed by backend for a comparison (default: text)")


def _answer(top: dict) -> str:
    return f"{top['name']} ({pct(top['probability'], 1)})"


def agreement_sentence(results: dict) -> str:
    """Whether the backends of a comparison give the same answers, chosen from them."""
    answers = list(zip(*([r["prediction"] for r in rs] for rs in results.values())))
    same = sum(len(set(a)) == 1 for a in answers)
    if len(results) == 1:
        return f"One backend: {next(iter(results))}."
    if same == len(answers):
        return f"{every(len(results))} give the same answer for every image."
    return f"{every(len(results))} give the same answer for {same} of {len(answers)} images."


def run(args) -> int:
    from ..experiment import predict_images
    from ..imaging import load_digit
    from ..runs import open_runs

    comparison, runs = open_runs(args.run_dir)  # a bad run directory fails before any image is read
    images = np.stack([load_digit(path) for path in args.images])
    results = {name: predict_images(run, images, args.images, args.top) for name, run in runs.items()}
    if args.json:
        print(json.dumps(results if comparison else next(iter(results.values())), indent=2))
    elif comparison:
        for i, path in enumerate(args.images):
            print(f"{path}: " + "  ".join(f"{name} {_answer(rs[i]['top'][0])}" for name, rs in results.items()))
        print(agreement_sentence(results))
    else:
        for r in next(iter(results.values())):
            print(f"{r['image']}: " + "  ".join(_answer(t) for t in r["top"]))
    return 0
