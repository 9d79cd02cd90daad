"""What every front end shares: the data of a run, its settings, and training it into a run directory.

The command line (:mod:`ffnn.cli`), the search (:mod:`ffnn.tune`), the web
page (:mod:`ffnn.web`) and the checker all call these; none of them builds a
split or writes a run directory its own way.

- :class:`DataSpec`: which images a run trains on (dataset, directory, the
  first ``n_train`` training images, the validation share, the split's seed).
- :func:`load_split`: the arrays of a :class:`DataSpec` as a :class:`Split`.
- :func:`make_config`: the :class:`~ffnn.config.TrainConfig` of a split and
  the training settings, with the checks that need both.
- :func:`train_run`: train a built model into a run directory and write its
  history, model, metrics and plots.
- :func:`evaluate_runs`, :func:`predict_images`: what saved runs say about the
  test set and about image files.

Errors about a setting are :class:`~ffnn.errors.ConfigError` naming the field
(``n_train``, ``val_size``, ``learning_rate``, ...), so each front end can
name it as its user wrote it.
"""
from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from .config import TrainConfig
from .errors import ConfigError

__all__ = ["DataSpec", "Split", "load_split", "check_backends", "make_config", "train_run", "named_metrics",
           "evaluate_runs", "predict_images", "PLOTS", "DEFAULT_BACKENDS"]

DEFAULT_BACKENDS = ("numpy", "torch", "tensorflow")
#: The pictures :func:`train_run` writes into a run directory (those that apply).
PLOTS = ("accuracy.png", "loss.png", "confusion.png", "misclassified.png", "weights.png", "dynamics.png",
         "lr_find.png")


@dataclass(frozen=True)
class DataSpec:
    """The images a run trains on, validated on construction.

    Parameters
    ----------
    dataset : str, default "mnist"
        A name of :data:`ffnn.data.DATASETS`.
    data_dir : str or None
        Directory of the four IDX files; ``None`` for the dataset's default.
    n_train : int or None
        Train on the first ``n_train`` training images (the problem set's
        protocol), before the validation split; ``None`` for all of them.
    val_size : float in [0, 1) or int >= 0, default 0.1
        Validation set split off the training images (stratified): a
        fraction or a count; 0 for none.
    seed : int, default 1
        Seed of the stratified split.
    """

    dataset: str = "mnist"
    data_dir: str | None = None
    n_train: int | None = None
    val_size: float = 0.1
    seed: int = 1

    def __post_init__(self):
        from .data import DATASETS

        if self.dataset not in DATASETS:
            raise ConfigError("dataset", f"must be one of {', '.join(DATASETS)}, got {self.dataset!r}")
        if self.data_dir is not None and not isinstance(self.data_dir, (str, Path)):
            raise ConfigError("data_dir", f"must be a directory path or None, got {self.data_dir!r}")
        if self.n_train is not None and not (_is_int(self.n_train) and self.n_train > 0):
            raise ConfigError("n_train", f"must be a positive integer or None, got {self.n_train!r}")
        v = self.val_size
        if not (_is_int(v) and v >= 0 or isinstance(v, numbers.Real) and not isinstance(v, bool) and 0 <= v < 1):
            raise ConfigError("val_size", f"must be a fraction in [0, 1) or a number of samples, got {v!r}")
        if not (_is_int(self.seed) and self.seed >= 0):
            raise ConfigError("seed", f"must be a non-negative integer, got {self.seed!r}")
        if self.data_dir is not None:
            object.__setattr__(self, "data_dir", str(self.data_dir))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "DataSpec":
        """The spec saved by :meth:`to_dict`; an unknown key is refused by name."""
        known = {f.name for f in fields(cls)}
        for key in d:
            if key not in known:
                raise ConfigError(key, f"is not a data setting (known: {', '.join(sorted(known))})")
        return cls(**d)


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


class Split:
    """The arrays of one run: prepared (n, 784) float32 images and int64 labels, plus a description.

    ``x, y`` train, ``x_val, y_val`` validate (``None`` without a validation
    set), ``x_test, y_test`` are the dataset's official test set; ``classes``
    the class names; ``info`` what ``config.json`` records about the data.
    """

    def __init__(self, spec: DataSpec):
        from .data import class_names, load_dataset, prepare_images, train_val_split

        (x, y), (x_test, y_test) = load_dataset(spec.dataset, spec.data_dir)
        if spec.n_train is not None:
            if spec.n_train > len(x):
                raise ConfigError("n_train", f"{spec.n_train} is larger than the {len(x)} training samples "
                                             f"of {spec.dataset}")
            x, y = x[:spec.n_train], y[:spec.n_train]
        x, y = prepare_images(x), y.astype(np.int64)
        if spec.val_size:
            try:
                x, x_val, y, y_val = train_val_split(x, y, spec.val_size, seed=spec.seed)
            except ValueError as exc:
                raise ConfigError("val_size", f"{spec.val_size}: {exc}") from None
        else:
            x_val = y_val = None
        self.spec = spec
        self.x, self.y, self.x_val, self.y_val = x, y, x_val, y_val
        self.x_test, self.y_test = prepare_images(x_test), y_test.astype(np.int64)
        self.classes = class_names(spec.dataset, spec.data_dir)
        self.info = {"dataset": spec.dataset, "data_dir": spec.data_dir, "n_train": len(x),
                     "n_val": 0 if x_val is None else len(x_val), "n_test": len(self.x_test),
                     "first_n": spec.n_train, "val_size": spec.val_size, "split_seed": spec.seed,
                     "classes": list(self.classes)}


def load_split(spec: DataSpec) -> Split:
    """The training, validation and test arrays of ``spec``."""
    return Split(spec)


def check_backends(names, loss: str) -> None:
    """Fail before loading data if a backend's framework is missing or it cannot use ``loss``."""
    from .backends import get_backend
    from .functional import get_loss

    try:
        can = get_loss(loss).backends
    except ValueError as exc:
        raise ConfigError("loss", str(exc).removeprefix("loss ")) from None
    for name in names:
        if name not in can:
            raise ConfigError("loss", f"{loss} is available in the {' and '.join(can)} "
                                      f"backend{'s' if len(can) > 1 else ''} only, not in {name}")
        get_backend(name)


def make_config(split: Split, hidden=(128, 64), **settings) -> TrainConfig:
    """The :class:`TrainConfig` for ``split``: its input size, ``hidden`` layers, 10 classes, ``settings``.

    ``settings`` are TrainConfig's own fields (``epochs``, ``learning_rate``,
    ...). Beyond TrainConfig's checks: a schedule whose record says
    ``integer_rate`` (time-based) needs an integer rate (an integral float is
    taken as that integer), and early stopping needs a validation set.
    """
    from .schedules import SCHEDULES

    lr = settings.get("learning_rate", TrainConfig.learning_rate)
    schedule = SCHEDULES.get(settings.get("schedule"))
    if schedule is not None and schedule.integer_rate:
        if not (isinstance(lr, numbers.Real) and float(lr).is_integer()):
            raise ConfigError("learning_rate", f"must be an integer with the {schedule.name} schedule "
                                               f"({schedule.formula}), got {lr}")
        settings["learning_rate"] = int(lr)
    if settings.get("early_stopping") and split.x_val is None:
        raise ConfigError("early_stopping", "needs a validation set: give --val-size a fraction or a count, not 0")
    n_classes = 10
    return TrainConfig(layer_sizes=(split.x.shape[1], *hidden, n_classes), **settings)


def named_metrics(proba, y_true, classes) -> dict:
    """:func:`~ffnn.metrics.classification_metrics` with the class names: ``classes`` and each row's ``name``."""
    from .metrics import classification_metrics

    metrics = classification_metrics(proba, y_true)
    for row in metrics["per_class"]:
        row["name"] = classes[row["class"]]
    return {**metrics, "classes": list(classes)}


def train_run(name: str, model, split: Split, device: str, out, verbose: int = 1, on_epoch_end=None) -> dict:
    """Train ``model`` of backend ``name`` into the run directory ``out``; return its results.

    The history is rewritten after every epoch (then ``on_epoch_end(history)``
    is called, if given); after training (finished, stopped early or
    interrupted by Ctrl-C) the model, metrics and plots are written for the
    weights the model ends with. Returns the summary that ``metrics.json``
    starts with, plus ``history`` and ``run_dir``.
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
    run.write_config({"backend": name, "device": device, "data": split.info, "config": config.to_dict(),
                      "ffnn_version": __version__})

    def epoch_end(history):
        run.write_history(history)
        if on_epoch_end is not None:
            on_epoch_end(history)

    history = model.fit_arrays(split.x, split.y, split.x_val, split.y_val, verbose=verbose,
                               on_epoch_end=epoch_end)
    run.write_history(history)
    model.save_model(run.model_file(name))

    proba = np.asarray(model.predict_proba(split.x_test))
    metrics = named_metrics(proba, split.y_test, split.classes)
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
    run.write_metrics({**summary, **metrics, "diagnosis": history.diagnosis, "lr_range_test": history.lr_range_test})
    run.write_inside(history, model.export_weights(), name)

    if history.epochs:
        plots.plot_accuracy({name: history}, run.file("accuracy.png"), title=f"{name}: accuracy per epoch")
        plots.plot_loss({name: history}, run.file("loss.png"), title=f"{name}: {config.loss} loss per epoch")
    if history.lr_range_test is not None:
        plots.plot_range_test(history.lr_range_test, run.file("lr_find.png"), current=config.learning_rate,
                              title=f"{name}: learning-rate range test")
    plots.plot_confusion(metrics["confusion_matrix"], run.file("confusion.png"),
                         title=f"{name}: confusion matrix (test set)", classes=split.classes)
    plots.plot_misclassified(split.x_test, split.y_test, proba.argmax(axis=1), run.file("misclassified.png"),
                             title=f"Misclassified test {item_noun(split.classes)} (true -> predicted)",
                             classes=split.classes)
    return {**summary, "history": history, "run_dir": run.path}


def evaluate_runs(runs: dict) -> dict:
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
                         **named_metrics(proba, y_test, run.class_names())}
    return results


def predict_images(run, images, paths, top: int) -> list:
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
