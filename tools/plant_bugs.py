"""Plant the bugs of issue 17 one at a time in a scratch copy and check that a test fails for each.

``python tools/plant_bugs.py [NAME ...]`` copies ``src/`` and ``tests/`` to a temporary directory, applies
one bug (a textual replacement that must match exactly once), runs the tests meant to catch it there, and
records whether they failed. The working tree is never touched. The results go to
``docs/mutation/planted.json`` and into ``docs/testing.md`` (rebuilt by ``tools/mutation.py --report``).

A bug whose source text is gone (the code was rewritten) is reported as "does not apply", not as caught.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "mutation" / "planted.json"

#: name -> (what the bug does, file, text, replacement, tests that must fail)
BUGS = {
    "multi-hot labels": (
        "to_labels accepts multi-hot and all-zero one-hot rows",
        "src/ffnn/data.py",
        "if not (np.all((y == 0) | (y == 1)) and np.all(rows == 1)):",
        "if False:",
        ["tests/test_fuzz_config.py", "tests/test_data.py::test_train_val_split_refuses_multi_hot_labels"]),
    "dataloader argmax": (
        "the DataLoader path takes argmax of any 2-D labels unchecked",
        "src/ffnn/backends/torch_net.py",
        "labels = torch.from_numpy(to_labels(labels.cpu().numpy()))",
        "labels = labels.argmax(1)",
        ["tests/test_data.py::test_dataloader_labels_are_checked_like_arrays"]),
    "no sha-256": (
        "the bundled MNIST is loaded without its SHA-256 check",
        "src/ffnn/data.py",
        "array = read_verified(path, digest)",
        "array = read_idx(path)",
        ["tests/test_data.py"]),
    "min_delta ignored": (
        "early stopping ignores min_delta",
        "src/ffnn/training.py",
        "if score < self.best - self.min_delta:",
        "if score < self.best:",
        ["tests/test_training.py"]),
    "no restore on ctrl-c": (
        "the best weights are not restored when Ctrl-C ends a run with early stopping",
        "src/ffnn/training.py",
        "if stopper is not None and stopper.best_weights is not None:",
        "if stopper is not None and stopper.best_weights is not None and not history.interrupted:",
        ["tests/test_training.py"]),
    "last n": (
        "--n-train takes the last N images instead of the first N",
        "src/ffnn/experiment.py",
        "x, y = x[:spec.n_train], y[:spec.n_train]",
        "x, y = x[-spec.n_train:], y[-spec.n_train:]",
        ["tests/test_cli.py::test_n_train_takes_the_first_n_mnist_images",
         "tests/test_cli.py::test_data_dir_trains_on_the_first_n_of_that_directory"]),
    "accuracy minimised": (
        "early stopping minimises accuracy",
        "src/ffnn/training.py",
        'self.sign = -1.0 if "accuracy" in monitor else 1.0',
        "self.sign = 1.0",
        ["tests/test_training.py::test_early_stopping_needs_validation_data", "tests/test_training.py"]),
    "torch never trains": (
        "the torch backend never updates its weights (an untrained network passes a loose agreement check)",
        "src/ffnn/backends/torch_net.py",
        "self.optimizer.step()",
        "self.optimizer.zero_grad()",
        ["tests/test_cli.py::test_compare"]),
    "keras never trains": (
        "the Keras backend never updates its weights (it scores like a network that cannot learn at batch 1)",
        "src/ffnn/backends/tf_net.py",
        "optimizer=keras.optimizers.SGD(learning_rate=learning_rate), loss=loss",
        "optimizer=keras.optimizers.SGD(learning_rate=0.0), loss=loss",
        ["tests/test_tf_net.py::test_batch_size_1_with_time_based_rates_does_not_learn"]),
    "idx size overflows": (
        "the IDX size is computed in int64 (a huge header wraps round)",
        "src/ffnn/data.py",
        "expected = math.prod(dims)",
        "expected = int(np.prod(dims))",
        ["tests/test_fuzz_idx.py"]),
    "huge image decoded": (
        "an image is decoded whatever size its header claims",
        "src/ffnn/imaging.py",
        "if width * height > max_pixels:",
        "if False:",
        ["tests/test_fuzz_image.py"]),
    "npz unpickled": (
        "model.npz is loaded with allow_pickle=True",
        "src/ffnn/weights.py",
        "np.load(path, allow_pickle=False)",
        "np.load(path, allow_pickle=True)",
        ["tests/test_refusals.py"]),
    "pt unpickled": (
        "model.pt is loaded with weights_only=False",
        "src/ffnn/backends/torch_net.py",
        'torch.load(path, map_location="cpu", weights_only=True)',
        'torch.load(path, map_location="cpu", weights_only=False)',
        ["tests/test_refusals.py"]),
    # issue 27: the four that survived a reviewer's second round (or were caught only by accident)
    "split counts raw y": (
        "train_val_split counts classes from the raw y (one-hot labels: the classes 0 and 1)",
        "src/ffnn/data.py",
        "classes, counts = np.unique(labels, return_counts=True)",
        "classes, counts = np.unique(y, return_counts=True)",
        ["tests/test_data.py::test_train_val_split_of_one_hot_labels_is_the_split_of_their_integer_labels"]),
    "trial scores last epoch": (
        "a tune trial scores its last epoch instead of the epoch early stopping keeps",
        "src/ffnn/tune/search.py",
        'return history["val_accuracy"][(history.best_epoch or history.epochs) - 1]',
        'return history["val_accuracy"][-1]',
        ["tests/test_tune.py::test_a_trial_scores_the_epoch_early_stopping_keeps"]),
    "time-based rate truncated": (
        "--schedule time-based --lr 2.5 trains at rate int(2.5) = 2 instead of being refused",
        "src/ffnn/experiment.py",
        "if not (isinstance(lr, numbers.Real) and float(lr).is_integer()):",
        "if False:",
        ["tests/test_cli.py::test_errors_are_one_line[train --schedule time-based --lr 2.5 --n-train 100 --epochs 1 "
         "--out {tmp}/r]"]),
    "label equal to classes": (
        "one_hot lets a label equal to the number of classes through (numpy's IndexError follows)",
        "src/ffnn/data.py",
        "labels.max() >= n_classes):",
        "labels.max() > n_classes):",
        ["tests/test_data.py::test_a_label_equal_to_the_number_of_classes_is_refused_by_name"]),
}


def _scratch() -> Path:
    tmp = Path(tempfile.mkdtemp(prefix="ffnn-plant-"))
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".hypothesis")
    for name in ("src", "tests"):
        shutil.copytree(ROOT / name, tmp / name, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", tmp / "pyproject.toml")
    return tmp


def _pytest(tmp: Path, tests: list[str]) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": str(tmp / "src"), "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
                          cwd=tmp, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    summary = [ln for ln in proc.stdout.splitlines() if ln.startswith(("FAILED", "ERROR"))]
    return proc.returncode, (summary[0] if summary else proc.stdout.strip().splitlines()[-1])


def plant(name: str) -> dict:
    """Plant bug ``name`` in a scratch copy; run its tests with and without it."""
    what, file, text, replacement, tests = BUGS[name]
    tmp = _scratch()
    try:
        start = time.perf_counter()
        rc_clean, clean = _pytest(tmp, tests)
        source = (tmp / file).read_text()
        if source.count(text) != 1:
            return dict(name=name, what=what, file=file, tests=tests, outcome="does not apply",
                        detail=f"{file} holds the text {source.count(text)} times")
        (tmp / file).write_text(source.replace(text, replacement))
        rc_bug, bug = _pytest(tmp, tests)
        outcome = ("caught" if rc_clean == 0 and rc_bug == 1 else
                   "tests fail without the bug" if rc_clean != 0 else "NOT CAUGHT")
        return dict(name=name, what=what, file=file, tests=tests, outcome=outcome,
                    detail=bug if rc_clean == 0 else clean, seconds=round(time.perf_counter() - start, 1))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help=f"bugs to plant (default: all): {', '.join(BUGS)}")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BUGS]
    if unknown:
        parser.error(f"unknown bug {unknown[0]!r}; choose from {', '.join(BUGS)}")
    previous = {r["name"]: r for r in json.loads(OUT.read_text())} if OUT.exists() else {}
    for name in args.names or list(BUGS):
        r = plant(name)
        previous[name] = r
        print(f"{r['outcome']:>12}  {name}: {r['detail']}", flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps([previous[n] for n in BUGS if n in previous], indent=1) + "\n")
    missed = [r["name"] for r in previous.values() if r["outcome"] != "caught"]
    print(f"{len(previous) - len(missed)} of {len(previous)} planted bugs caught" +
          (f"; not: {', '.join(missed)}" if missed else ""))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
