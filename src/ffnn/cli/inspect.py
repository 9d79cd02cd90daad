"""``ffnn inspect RUN_DIR --image IMG``: one image through a saved model, layer by layer (:mod:`ffnn.inspect`)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .output import pct


def add_arguments(parser) -> None:
    """The flags of ``ffnn inspect``."""
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a run directory written by ffnn train or compare")
    parser.add_argument("--image", required=True, metavar="IMG",
                        help="image file of one handwritten digit (PNG, JPEG, ...); required, no default")
    parser.add_argument("--out", default=None, metavar="PNG",
                        help="figure to write (default: RUN_DIR/inspect-<image name>.png)")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON (default: a summary)")


def run(args) -> int:
    """Inspect ``args.image`` with the model of ``args.run_dir``; write the figure; return 0."""
    from ..imaging import load_digit
    from ..inspect import inspect_digit, plot_inspection
    from ..runs import open_run

    run_ = open_run(args.run_dir)
    run_.saved_model()  # a bad run directory fails before the image is read
    out = Path(args.out) if args.out else run_.path / f"inspect-{Path(args.image).stem}.png"
    if out.suffix.lower() != ".png":
        raise ValueError(f"--out must name a .png file, got {str(out)!r}")
    digit = load_digit(args.image)
    backend, model = run_.load_model()
    result = inspect_digit(model.export_weights(), digit, model.train_config.activation)
    plot_inspection(digit, result, out, title=f"{run_.path.name} ({backend}): {Path(args.image).name}")
    advice = _rate_advice(run_)
    result = {"run_dir": str(run_.path), "backend": backend, "image": args.image, "figure": str(out),
              **result, "input": np.asarray(digit, dtype=float).round(6).tolist(), **advice}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    p = result["probabilities"]
    print(f"{args.image}: {result['prediction']} ({pct(p[result['prediction']], 1)}) by {backend} ({run_.path})")
    for layer in result["hidden"]:
        values = np.asarray(layer["values"])
        print(f"  hidden layer {layer['layer']}: {layer['units']} {result['activation']} units, mean "
              f"{values.mean():.3f}, {layer['saturation']:.0%} saturated")
    if advice.get("lr_advice"):
        print(f"Learning rate (epoch {advice['lr_range_test']['epoch']}): {advice['lr_advice']}")
    print(f"Figure: {out}")
    return 0


def _rate_advice(run_) -> dict:
    """The run's learning-rate range test and the advice given from it (``{}`` if none ran, or for runs
    written before it existed)."""
    from ..config import TrainConfig
    from ..diagnosis import rate_advice
    from ..errors import FfnnError

    try:
        test = run_.read_metrics().get("lr_range_test")
        config = TrainConfig.from_dict(run_.read_config()["config"])
    except (OSError, ValueError, KeyError, FfnnError):
        return {}
    if not test:
        return {}
    return {"lr_range_test": test, "lr_advice": rate_advice(test, config)}
