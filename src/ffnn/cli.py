"""The ``ffnn`` command line: ``train``, ``compare``, ``evaluate``, ``predict``, ``theory``, ``bench``, ``inspect``.

Each subcommand is an entry of :data:`COMMANDS`, ``name -> (help,
add_arguments, run)``: ``add_arguments(parser)`` declares its flags and
``run(args)`` does the work and returns the exit status. Bad input of any
kind ends as one line on stderr (``ffnn: error: ...``) and a non-zero exit:
2 for a bad command line, 1 for input that fails later (a missing data
directory, an unreadable image, a run directory without a model), 130 after
Ctrl-C, which keeps everything written so far.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

import numpy as np

from . import bench, theory, tune
from . import inspect as inspect_command
from .config import ACTIVATIONS, DEVICES, LOSSES, SCHEDULE_NAMES  # the choices' one source
from .web import serve

__all__ = ["main", "build_parser", "COMMANDS", "CLIError"]

DEFAULT_BACKENDS = ("numpy", "torch", "tensorflow")
PLOTS = ("accuracy.png", "loss.png", "confusion.png", "misclassified.png", "weights.png", "dynamics.png")


class CLIError(Exception):
    """A bad command line; the message is printed as ``ffnn: error: <message>``."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are exceptions, so :func:`main` prints them on one line."""

    def error(self, message):
        raise CLIError(message)


# ---------------------------------------------------------------- argument types


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}")
    return value


def _learning_rate(text: str):
    """A positive number; ``"2"`` stays the int 2 (the time-based schedule needs an integer rate)."""
    try:
        value = int(text)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _hidden(text: str) -> tuple:
    """``"128,64"`` -> ``(128, 64)``; every size a positive integer."""
    sizes = []
    for part in text.split(","):
        try:
            size = int(part)
        except ValueError:
            size = 0
        if size <= 0:
            raise argparse.ArgumentTypeError(
                f"must be comma-separated positive integers such as 128,64, got {text!r} ({part.strip()!r})")
        sizes.append(size)
    return tuple(sizes)


def _momentum(text: str) -> float:
    """A number in [0, 1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text!r}")
    return value


def _val_size(text: str):
    """A fraction in [0, 1) (``"0.1"``) or a count (``"5000"``); 0 means no validation set."""
    try:
        return _non_negative_int(text)
    except argparse.ArgumentTypeError:
        pass
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a fraction in [0, 1) or a number of samples, got {text!r}")
    return value


def _backend_list(text: str) -> tuple:
    from .backends import BACKENDS

    names = tuple(n.strip() for n in text.split(","))
    for n in names:
        if n not in BACKENDS:
            raise argparse.ArgumentTypeError(f"unknown backend {n!r}; choose from {', '.join(BACKENDS)}")
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"a backend is listed twice in {text!r}")
    return names


# ----------------------------------------------------------------- data, config


def _add_training_arguments(p: argparse.ArgumentParser) -> None:
    """Flags shared by ``train`` and ``compare``."""
    from .data import DATASETS

    p.add_argument("--hidden", type=_hidden, default=(128, 64), metavar="SIZES",
                   help="hidden layer sizes, comma-separated (default: 128,64)")
    p.add_argument("--epochs", type=_positive_int, default=10, help="training epochs (default: 10)")
    p.add_argument("--batch-size", type=_positive_int, default=32,
                   help="samples per SGD step; 1 updates after every sample (default: 32)")
    p.add_argument("--lr", type=_learning_rate, default=1.0, metavar="RATE",
                   help="learning rate; with --schedule time-based the starting rate, an integer (default: 1.0)")
    p.add_argument("--loss", choices=LOSSES, default="cross-entropy",
                   help="loss; mse only in the numpy backend (default: cross-entropy)")
    p.add_argument("--activation", choices=ACTIVATIONS, default="sigmoid",
                   help="hidden layers' activation; relu starts from He's initialisation, the others from "
                        "Glorot's (default: sigmoid)")
    p.add_argument("--momentum", type=_momentum, default=0.0, metavar="MU",
                   help="SGD momentum in [0, 1), PyTorch's convention: v = MU*v + grad, w -= lr*v "
                        "(default: 0, plain SGD)")
    p.add_argument("--schedule", choices=SCHEDULE_NAMES, default="constant",
                   help="learning-rate schedule; time-based is max(lr - step, 1) (default: constant)")
    p.add_argument("--n-train", type=_positive_int, default=None, metavar="N",
                   help="train on the first N training samples, before the validation split "
                        "(default: all of them)")
    p.add_argument("--val-size", type=_val_size, default=0.1, metavar="SIZE",
                   help="validation set split off the training samples (stratified, seeded by --seed): "
                        "a fraction, a number of samples, or 0 for none (default: 0.1)")
    p.add_argument("--seed", type=_non_negative_int, default=1,
                   help="seed of the initial weights, the split and the shuffling (default: 1)")
    p.add_argument("--early-stopping", type=_positive_int, default=None, metavar="PATIENCE",
                   help="stop when the validation loss has not improved for PATIENCE epochs and keep "
                        "the best weights (default: off)")
    p.add_argument("--dataset", choices=tuple(DATASETS), default="mnist",
                   help="dataset (default: mnist, the copy bundled with ffnn)")
    p.add_argument("--data-dir", default=None, metavar="DIR",
                   help="directory with the four IDX files (.gz or raw) of the dataset "
                        "(default: bundled MNIST; /usr/share/datasets/fashion-mnist for fashion-mnist)")
    p.add_argument("--device", choices=DEVICES, default="auto",
                   help="where torch and tensorflow compute; auto uses a GPU if there is one; "
                        "numpy runs on the CPU only (in compare it stays on the CPU beside the "
                        "frameworks) (default: auto)")


class _Data:
    """The arrays of one run: prepared (n, 784) float32 images and int64 labels, plus a description."""

    def __init__(self, args):
        from .data import class_names, load_dataset, prepare_images, train_val_split

        (x, y), (x_test, y_test) = load_dataset(args.dataset, args.data_dir)
        if args.n_train is not None:
            if args.n_train > len(x):
                raise CLIError(f"--n-train {args.n_train} is larger than the {len(x)} training samples "
                               f"of {args.dataset}")
            x, y = x[:args.n_train], y[:args.n_train]
        x, y = prepare_images(x), y.astype(np.int64)
        if args.val_size:
            try:
                x, x_val, y, y_val = train_val_split(x, y, args.val_size, seed=args.seed)
            except ValueError as exc:
                raise CLIError(f"--val-size {args.val_size}: {exc}") from None
        else:
            x_val = y_val = None
        self.x, self.y, self.x_val, self.y_val = x, y, x_val, y_val
        self.x_test, self.y_test = prepare_images(x_test), y_test.astype(np.int64)
        self.classes = class_names(args.dataset, args.data_dir)
        self.info = {"dataset": args.dataset, "data_dir": args.data_dir, "n_train": len(x),
                     "n_val": 0 if x_val is None else len(x_val), "n_test": len(self.x_test),
                     "first_n": args.n_train, "val_size": args.val_size, "split_seed": args.seed,
                     "classes": list(self.classes)}


def _check_backends(names, loss: str) -> None:
    """Fail before loading data if a backend's framework is missing or it cannot use ``loss``."""
    from .backends import get_backend

    for name in names:
        if loss != "cross-entropy" and name != "numpy":
            raise CLIError(f"--loss {loss} is available in the numpy backend only; {name} trains with "
                           f"cross-entropy")
        get_backend(name)


def _train_config(args, data: _Data):
    from .config import TrainConfig

    lr = args.lr
    if args.schedule == "time-based":
        if not float(lr).is_integer():
            raise CLIError(f"--lr must be an integer with --schedule time-based (the rate drops by 1 per step), "
                           f"got {lr}")
        lr = int(lr)
    if args.early_stopping and data.x_val is None:
        raise CLIError("--early-stopping needs a validation set: give --val-size a fraction or a count, not 0")
    n_classes = 10
    return TrainConfig(layer_sizes=(data.x.shape[1], *args.hidden, n_classes), epochs=args.epochs,
                       batch_size=args.batch_size, learning_rate=lr, loss=args.loss,
                       activation=args.activation, momentum=args.momentum,
                       schedule=args.schedule, seed=args.seed, early_stopping=args.early_stopping)


def _train_one(name: str, model, data: _Data, device: str, out: Path) -> dict:
    """Train ``model`` of backend ``name`` into the run directory ``out``; return its results.

    The history is rewritten after every epoch; after training (finished,
    stopped early or interrupted by Ctrl-C) the model, metrics and plots are
    written for the weights the model ends with.
    """
    from . import __version__, plots
    from .data import item_noun
    from .runs import Run
    from .weights import init_weights

    run = Run(out)
    config = model.train_config
    start_weights = model.export_weights()
    same_start = all(np.array_equal(W, W0) and np.array_equal(b, b0) for (W, b), (W0, b0)
                     in zip(start_weights, init_weights(config.layer_sizes, config.seed, config.dtype,
                                                      config.activation)))
    run.write_config({"backend": name, "device": device, "data": data.info, "config": config.to_dict(),
                      "ffnn_version": __version__})
    history = model.fit_arrays(data.x, data.y, data.x_val, data.y_val, verbose=1,
                               on_epoch_end=run.write_history)
    run.write_history(history)
    model.save_model(run.model_file(name))

    proba = np.asarray(model.predict_proba(data.x_test))
    metrics = _named_metrics(proba, data.y_test, data.classes)
    # The model ends with the weights of the epoch early stopping restored (if it did): report that epoch.
    last = ({k: v[history.best_epoch - 1] for k, v in history.history.items()} if history.best_epoch
            else history.last())
    seconds = history["seconds"]
    summary = {
        "backend": name,
        "test_accuracy": metrics["test_accuracy"],
        "train_accuracy": last.get("accuracy"),
        "val_accuracy": last.get("val_accuracy"),
        "epochs": history.epochs,
        "seconds_per_epoch": float(np.mean(seconds)) if len(seconds) else None,
        "interrupted": history.interrupted,
        "stopped_epoch": history.stopped_epoch,
        "best_epoch": history.best_epoch,
        "initial_weights_match_shared_init": same_start,
    }
    run.write_metrics({**summary, **metrics, "diagnosis": history.diagnosis})
    run.write_inside(history, model.export_weights(), name)

    if history.epochs:
        plots.plot_accuracy({name: history}, run.file("accuracy.png"), title=f"{name}: accuracy per epoch")
        plots.plot_loss({name: history}, run.file("loss.png"), title=f"{name}: {config.loss} loss per epoch")
    plots.plot_confusion(metrics["confusion_matrix"], run.file("confusion.png"),
                         title=f"{name}: confusion matrix (test set)", classes=data.classes)
    plots.plot_misclassified(data.x_test, data.y_test, proba.argmax(axis=1), run.file("misclassified.png"),
                             title=f"Misclassified test {item_noun(data.classes)} (true -> predicted)",
                             classes=data.classes)
    return {**summary, "history": history, "run_dir": run.path}


def _named_metrics(proba, y_true, classes) -> dict:
    """:func:`~ffnn.metrics.classification_metrics` with the class names: ``classes`` and each row's ``name``."""
    from .metrics import classification_metrics

    metrics = classification_metrics(proba, y_true)
    for row in metrics["per_class"]:
        row["name"] = classes[row["class"]]
    return {**metrics, "classes": list(classes)}


def _pct(value) -> str:
    return "-" if value is None or value != value else f"{100 * value:.2f}%"


def _report_interrupted(result: dict, planned: int) -> None:
    print(f"Training was interrupted after {result['epochs']} of {planned} epochs; the model, "
          f"the history so far and the plots are saved in {result['run_dir']}", file=sys.stderr)


# ------------------------------------------------------------------------- train


def _add_train(p: argparse.ArgumentParser) -> None:
    from .backends import BACKENDS

    p.add_argument("--backend", choices=tuple(BACKENDS), default="numpy",
                   help="implementation to train (default: numpy)")
    _add_training_arguments(p)
    p.add_argument("--out", default=None, metavar="DIR",
                   help="run directory to write (default: runs/<timestamp>-<backend>)")
    p.add_argument("--config", default=None, metavar="FILE",
                   help="take the backend and training flags from FILE, the best.json of ffnn tune (default: none)")


def _run_train(args) -> int:
    from .backends import build
    from .runs import default_run_dir

    if args.config:
        args = tune.apply_config_file(args)
    _check_backends([args.backend], args.loss)
    data = _Data(args)
    config = _train_config(args, data)
    model = build(args.backend, config, args.device)
    out = Path(args.out) if args.out else default_run_dir(args.backend)
    print(f"Training {args.backend} {config.layer_sizes} on {data.info['n_train']} {args.dataset} images "
          f"({data.info['n_val']} for validation) into {out}", flush=True)
    result = _train_one(args.backend, model, data, args.device, out)
    print(f"{args.backend}: test accuracy {_pct(result['test_accuracy'])} "
          f"(train {_pct(result['train_accuracy'])}, validation {_pct(result['val_accuracy'])})")
    print(f"Saved the run in {out}; plots: " + ", ".join(str(out / f) for f in PLOTS if (out / f).exists()))
    if result["interrupted"]:
        _report_interrupted(result, config.epochs)
        return 130
    return 0


# ----------------------------------------------------------------------- compare


def _add_compare(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backends", type=_backend_list, default=DEFAULT_BACKENDS, metavar="NAMES",
                   help="comma-separated backends, trained one after the other on the same data, split "
                        "and starting weights (default: numpy,torch,tensorflow)")
    _add_training_arguments(p)
    p.add_argument("--out", default=None, metavar="DIR",
                   help="directory for summary.json, accuracy.png and one run directory per backend "
                        "(default: runs/<timestamp>-compare)")


def format_table(results: dict) -> str:
    """The comparison table: one row per backend."""
    head = f"{'backend':<12}{'train acc':>11}{'val acc':>11}{'test acc':>11}{'s/epoch':>10}"
    rows = [head, "-" * len(head)]
    for name, r in results.items():
        spe = "-" if r["seconds_per_epoch"] is None else f"{r['seconds_per_epoch']:.2f}"
        rows.append(f"{name:<12}{_pct(r['train_accuracy']):>11}{_pct(r['val_accuracy']):>11}"
                    f"{_pct(r['test_accuracy']):>11}{spe:>10}")
    return "\n".join(rows)


def _compare_device(name: str, names, device: str) -> str:
    # numpy has only the CPU; --device cuda is for the frameworks beside it.
    return "cpu" if name == "numpy" and device == "cuda" and len(names) > 1 else device


def _run_compare(args) -> int:
    from . import plots
    from .backends import build
    from .runs import COMPARE_SUMMARY, default_run_dir, write_json

    names = args.backends
    _check_backends(names, args.loss)
    data = _Data(args)
    config = _train_config(args, data)
    # Build every model first, so that a bad --device fails before any training.
    models = {name: build(name, config, _compare_device(name, names, args.device)) for name in names}
    out = Path(args.out) if args.out else default_run_dir("compare")
    print(f"Comparing {', '.join(names)}: {config.layer_sizes}, {config.epochs} epochs, batch "
          f"{config.batch_size}, lr {config.learning_rate} on {data.info['n_train']} {args.dataset} images "
          f"({data.info['n_val']} for validation) into {out}", flush=True)
    results = {}
    for name in names:
        print(f"== {name} ==", flush=True)
        results[name] = result = _train_one(name, models[name], data, _compare_device(name, names, args.device),
                                            out / name)
        if not result["initial_weights_match_shared_init"]:
            print(f"warning: {name} did not start from the shared initial weights", file=sys.stderr)
        summary = {
            "config": config.to_dict(), "data": data.info, "device": args.device,
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
        _report_interrupted(last, config.epochs)
        return 130
    return 0


# ---------------------------------------------------------------------- evaluate


def _add_evaluate(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", metavar="RUN_DIR",
                   help="a run directory written by ffnn train, or a comparison directory written by ffnn "
                        "compare (then every backend's run, side by side)")
    p.add_argument("--json", action="store_true",
                   help="print the metrics as JSON, keyed by backend for a comparison (default: a report)")


def _open_runs(path) -> tuple[bool, dict]:
    """``(is a comparison, {backend: Run})`` for a run or a comparison directory; a bad one fails here."""
    from .runs import is_comparison, open_comparison, open_run

    if not is_comparison(path):
        run = open_run(path)
        return False, {run.saved_model()[0]: run}
    runs = open_comparison(path)
    for run in runs.values():
        run.saved_model()  # every model must be there before any work starts
    return True, runs


def _evaluate_runs(runs: dict) -> dict:
    """``{backend: metrics}``: each run's saved model scored on the test set of its dataset."""
    from .data import load_dataset, prepare_images

    test_sets, results = {}, {}
    for name, run in runs.items():
        backend, model = run.load_model()
        info = run.read_config().get("data", {})
        key = (info.get("dataset", "mnist"), info.get("data_dir"))
        if key not in test_sets:
            _, (x_test, y_test) = load_dataset(*key)
            test_sets[key] = prepare_images(x_test), y_test.astype(np.int64)
        x_test, y_test = test_sets[key]
        proba = np.asarray(model.predict_proba(x_test))
        results[name] = {"backend": backend, "run_dir": str(run.path),
                         **_named_metrics(proba, y_test, run.class_names())}
    return results


def _class_label(row: dict) -> str:
    """``"7"`` for a class named by its number, ``"7 Sneaker"`` for a named one."""
    return str(row["class"]) if row["name"] == str(row["class"]) else f"{row['class']} {row['name']}"


def _print_evaluation(m: dict) -> None:
    """One run's report: test accuracy, per-class precision and recall, confusion matrix."""
    print(f"{m['run_dir']} ({m['backend']}): test accuracy {_pct(m['test_accuracy'])} on {m['n_test']} "
          f"images, cross-entropy {m['test_loss']:.4f}")
    labels = [_class_label(row) for row in m["per_class"]]
    w = max(5, *map(len, labels)) + 1
    print(f"\n{'class':<{w}}{'precision':>10}{'recall':>9}{'support':>9}")
    for label, row in zip(labels, m["per_class"]):
        print(f"{label:<{w}}{_pct(row['precision']):>10}{_pct(row['recall']):>9}{row['support']:>9}")
    cm = np.asarray(m["confusion_matrix"])
    print("\nconfusion matrix (rows: true class, columns: predicted class by number)")
    print(" " * w + "".join(f"{j:>6}" for j in range(len(cm))))
    for label, row in zip(labels, cm):
        print(f"{label:<{w}}" + "".join(f"{v:>6}" for v in row))


def _every(n: int) -> str:
    return "Both backends" if n == 2 else f"All {n} backends"


def _accuracy_sentence(results: dict) -> str:
    """What the accuracies of a comparison say, chosen from them."""
    acc = {name: r["test_accuracy"] for name, r in results.items()}
    best, worst = max(acc, key=acc.get), min(acc, key=acc.get)
    if len(acc) == 1:
        return f"One backend: {best} reaches {_pct(acc[best])}."
    if round(100 * acc[best], 2) == round(100 * acc[worst], 2):
        return f"{_every(len(acc))} reach the same test accuracy, {_pct(acc[best])}."
    return (f"Highest test accuracy: {best} ({_pct(acc[best])}); lowest: {worst} ({_pct(acc[worst])}), "
            f"{100 * (acc[best] - acc[worst]):.2f} points lower.")


def _print_side_by_side(path, results: dict) -> None:
    """A comparison's backends in columns: test accuracy, cross-entropy and the recall of every class."""
    rows = next(iter(results.values()))["per_class"]
    labels = [_class_label(row) for row in rows]
    w = max(16, 3 + max(map(len, labels)))
    cw = max(12, *(len(name) + 2 for name in results))
    n_test = sorted({r["n_test"] for r in results.values()})
    print(f"{path}: {len(results)} backends, scored on the {' / '.join(map(str, n_test))} test images\n")
    print(f"{'':<{w}}" + "".join(f"{name:>{cw}}" for name in results))
    print(f"{'test accuracy':<{w}}" + "".join(f"{_pct(r['test_accuracy']):>{cw}}" for r in results.values()))
    print(f"{'cross-entropy':<{w}}" + "".join(f"{r['test_loss']:>{cw}.4f}" for r in results.values()))
    print("recall of class")
    for i, label in enumerate(labels):
        print(f"  {label:<{w - 2}}" + "".join(f"{_pct(r['per_class'][i]['recall']):>{cw}}"
                                             for r in results.values()))
    print(f"\n{_accuracy_sentence(results)}")


def _run_evaluate(args) -> int:
    comparison, runs = _open_runs(args.run_dir)
    results = _evaluate_runs(runs)
    if args.json:
        print(json.dumps(results if comparison else next(iter(results.values())), indent=2))
    elif comparison:
        _print_side_by_side(args.run_dir, results)
    else:
        _print_evaluation(next(iter(results.values())))
    return 0


# ----------------------------------------------------------------------- predict


def _add_predict(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", metavar="RUN_DIR",
                   help="a run directory written by ffnn train, or a comparison directory written by ffnn "
                        "compare (then every backend's answer, side by side)")
    p.add_argument("images", nargs="+", metavar="IMAGE",
                   help="image files (PNG, JPEG, ...) of one handwritten digit (or one item of the run's "
                        "dataset) each, any size, dark on light or light on dark")
    p.add_argument("--top", type=_positive_int, default=3, help="classes to show per image (default: 3)")
    p.add_argument("--json", action="store_true",
                   help="print JSON instead of text, keyed by backend for a comparison (default: text)")


def _predict_run(run, images, paths, top: int) -> list:
    """Each image's predicted class and its ``top`` most probable classes (number, name, probability)."""
    _, model = run.load_model()
    classes = run.class_names()
    proba = np.asarray(model.predict_proba(images.reshape(len(images), -1)))
    results = []
    for path, p in zip(paths, proba):
        best = np.argsort(-p, kind="stable")[:min(top, len(p))]
        results.append({"image": str(path), "prediction": int(best[0]), "name": classes[best[0]],
                        "top": [{"class": int(c), "name": classes[c], "probability": float(p[c])} for c in best]})
    return results


def _answer(top: dict) -> str:
    return f"{top['name']} ({100 * top['probability']:.1f}%)"


def _agreement_sentence(results: dict) -> str:
    """Whether the backends of a comparison give the same answers, chosen from them."""
    answers = list(zip(*([r["prediction"] for r in rs] for rs in results.values())))
    same = sum(len(set(a)) == 1 for a in answers)
    if len(results) == 1:
        return f"One backend: {next(iter(results))}."
    if same == len(answers):
        return f"{_every(len(results))} give the same answer for every image."
    return f"{_every(len(results))} give the same answer for {same} of {len(answers)} images."


def _run_predict(args) -> int:
    from .imaging import load_digit

    comparison, runs = _open_runs(args.run_dir)  # a bad run directory fails before any image is read
    images = np.stack([load_digit(path) for path in args.images])
    results = {name: _predict_run(run, images, args.images, args.top) for name, run in runs.items()}
    if args.json:
        print(json.dumps(results if comparison else next(iter(results.values())), indent=2))
    elif comparison:
        for i, path in enumerate(args.images):
            print(f"{path}: " + "  ".join(f"{name} {_answer(rs[i]['top'][0])}" for name, rs in results.items()))
        print(_agreement_sentence(results))
    else:
        for r in next(iter(results.values())):
            print(f"{r['image']}: " + "  ".join(_answer(t) for t in r["top"]))
    return 0


# -------------------------------------------------------------------------- main

#: Subcommands: name -> (one-line help, add_arguments(parser), run(args) -> exit status).
COMMANDS = {
    "train": ("train one backend and save the run", _add_train, _run_train),
    "compare": ("train several backends on the same data and starting weights, side by side",
                _add_compare, _run_compare),
    "evaluate": ("test accuracy, per-class precision/recall and confusion matrix of a saved run "
                 "(of every run of a comparison, side by side)", _add_evaluate, _run_evaluate),
    "predict": ("classify image files of handwritten digits with a saved run (with every run of a "
                "comparison, side by side)", _add_predict, _run_predict),
    "theory": (theory.DESCRIPTION, theory.add_arguments, theory.run),
    "bench": (bench.DESCRIPTION, bench.add_arguments, bench.run_command),
    "serve": (serve.DESCRIPTION, serve.add_arguments, serve.run),
    "inspect": (inspect_command.DESCRIPTION, inspect_command.add_arguments, inspect_command.run),
    "tune": (tune.DESCRIPTION, tune.add_arguments, tune.run),
}


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(prog="ffnn", description="A feed-forward classifier built three ways "
                                              "(NumPy, PyTorch, Keras), trained on MNIST.")
    parser.add_argument("--version", action="version", version=f"ffnn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, add_arguments, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_arguments(p)
        p.set_defaults(_run=run)
    return parser


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def main(argv=None) -> int:
    """Run ``ffnn`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    from .backends import BackendUnavailable
    from .training import TrainingDiverged

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            raise CLIError(f"choose a command: {', '.join(COMMANDS)} (ffnn --help for more)")
    except CLIError as exc:
        print(f"ffnn: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    try:
        return args._run(args)
    except KeyboardInterrupt:
        print("ffnn: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`ffnn evaluate RUN | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (CLIError, BackendUnavailable, TrainingDiverged, ValueError, OSError) as exc:
        sys.stdout.flush()
        print(f"ffnn: error: {_one_line(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
