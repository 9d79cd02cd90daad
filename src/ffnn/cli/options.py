"""Argument types and the flags that several commands share.

Each type turns one command-line word into a value or raises
:class:`argparse.ArgumentTypeError` with a message naming the word, which
argparse prints as ``ffnn: error: argument --FLAG: <message>`` (exit 2).
:func:`add_training_arguments` declares the training flags of ``train``,
``compare`` and ``tune``; :func:`data_spec` and :func:`train_config` turn them
into a :class:`~ffnn.experiment.DataSpec` and a
:class:`~ffnn.config.TrainConfig`, naming a bad setting by its flag.
"""
from __future__ import annotations

import argparse
import contextlib
import math

from ..config import ACTIVATIONS, DEVICES, LOSSES, SCHEDULES  # the registries: the choices' one source
from ..errors import ConfigError

__all__ = ["CommandLineError", "positive_int", "non_negative_int", "learning_rate", "hidden", "momentum",
           "val_size", "backend_list", "port", "add_training_arguments", "data_spec", "train_config",
           "flag_names", "FLAGS"]

#: TrainConfig's and DataSpec's fields -> the flag that sets them.
FLAGS = {"layer_sizes": "--hidden", "epochs": "--epochs", "batch_size": "--batch-size", "learning_rate": "--lr",
         "loss": "--loss", "activation": "--activation", "momentum": "--momentum", "schedule": "--schedule",
         "seed": "--seed", "early_stopping": "--early-stopping", "dataset": "--dataset", "data_dir": "--data-dir",
         "n_train": "--n-train", "val_size": "--val-size"}


class CommandLineError(Exception):
    """A command line that cannot be parsed or names something that is not there; exit status 2."""


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}")
    return value


def learning_rate(text: str):
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


def hidden(text: str) -> tuple:
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


def momentum(text: str) -> float:
    """A number in [0, 1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text!r}")
    return value


def val_size(text: str):
    """A fraction in [0, 1) (``"0.1"``) or a count (``"5000"``); 0 means no validation set."""
    try:
        return non_negative_int(text)
    except argparse.ArgumentTypeError:
        pass
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a fraction in [0, 1) or a number of samples, got {text!r}")
    return value


def backend_list(text: str) -> tuple:
    from ..backends import BACKENDS

    names = tuple(n.strip() for n in text.split(","))
    for n in names:
        if n not in BACKENDS:
            raise argparse.ArgumentTypeError(f"unknown backend {n!r}; choose from {', '.join(BACKENDS)}")
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"a backend is listed twice in {text!r}")
    return names


def port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number 0-65535 (0 picks a free one), got {text!r}")
    return value


def add_training_arguments(p: argparse.ArgumentParser, lr_help: str | None = None,
                           batch_help: str | None = None) -> None:
    """Flags shared by ``train``, ``compare`` and ``tune`` (``tune`` words --lr and --batch-size its own way)."""
    from ..data import DATASETS

    p.add_argument("--hidden", type=hidden, default=(128, 64), metavar="SIZES",
                   help="hidden layer sizes, comma-separated (default: 128,64)")
    p.add_argument("--epochs", type=positive_int, default=10, help="training epochs (default: 10)")
    p.add_argument("--batch-size", type=positive_int, default=32,
                   help=batch_help or "samples per SGD step; 1 updates after every sample (default: 32)")
    integer = [name for name, schedule in SCHEDULES.items() if schedule.integer_rate]
    p.add_argument("--lr", type=learning_rate, default=1.0, metavar="RATE",
                   help=lr_help or "learning rate" + (f"; with --schedule {' or '.join(integer)} the starting rate, "
                                                      f"an integer" if integer else "") + " (default: 1.0)")
    # The choices are read from the registries when the parser is built, so a record registered before
    # then (ffnn.functional.register_activation, ...) is offered like the built-in ones.
    numpy_only = [name for name, loss in LOSSES.items() if loss.backends == ("numpy",)]
    p.add_argument("--loss", choices=tuple(LOSSES), default="cross-entropy",
                   help="loss" + (f"; {', '.join(numpy_only)} only in the numpy backend" if numpy_only else "")
                        + " (default: cross-entropy)")
    he = [name for name, activation in ACTIVATIONS.items() if activation.init == "he"]
    p.add_argument("--activation", choices=tuple(ACTIVATIONS), default="sigmoid",
                   help="hidden layers' activation" + (f"; {', '.join(he)} start{'s' if len(he) == 1 else ''} "
                                                       f"from He's initialisation, the others from Glorot's"
                                                       if he else "") + " (default: sigmoid)")
    p.add_argument("--momentum", type=momentum, default=0.0, metavar="MU",
                   help="SGD momentum in [0, 1), PyTorch's convention: v = MU*v + grad, w -= lr*v "
                        "(default: 0, plain SGD)")
    p.add_argument("--schedule", choices=tuple(SCHEDULES), default="constant",
                   help="learning-rate schedule: " + ", ".join(f"{name} is {schedule.formula}"
                                                                for name, schedule in SCHEDULES.items())
                        + " (default: constant)")
    p.add_argument("--n-train", type=positive_int, default=None, metavar="N",
                   help="train on the first N training samples, before the validation split "
                        "(default: all of them)")
    p.add_argument("--val-size", type=val_size, default=0.1, metavar="SIZE",
                   help="validation set split off the training samples (stratified, seeded by --seed): "
                        "a fraction, a number of samples, or 0 for none (default: 0.1)")
    p.add_argument("--seed", type=non_negative_int, default=1,
                   help="seed of the initial weights, the split and the shuffling (default: 1)")
    p.add_argument("--early-stopping", type=positive_int, default=None, metavar="PATIENCE",
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


@contextlib.contextmanager
def flag_names():
    """Inside: a :class:`ConfigError` about a setting names its flag (``--n-train``) instead of its field."""
    try:
        yield
    except ConfigError as exc:
        raise exc.renamed(FLAGS) from None


def data_spec(args):
    """The :class:`~ffnn.experiment.DataSpec` of the training flags."""
    from ..experiment import DataSpec

    with flag_names():
        return DataSpec(dataset=args.dataset, data_dir=args.data_dir, n_train=args.n_train,
                        val_size=args.val_size, seed=args.seed)


def train_config(args, split):
    """The :class:`~ffnn.config.TrainConfig` of the training flags for ``split``."""
    from ..experiment import make_config

    with flag_names():
        return make_config(split, hidden=args.hidden, epochs=args.epochs, batch_size=args.batch_size,
                           learning_rate=args.lr, loss=args.loss, activation=args.activation,
                           momentum=args.momentum, schedule=args.schedule, seed=args.seed,
                           early_stopping=args.early_stopping)
