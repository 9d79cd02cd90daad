"""The ``ffnn`` command line.

Every command is one module of this package holding its flags
(``add_arguments(parser)``), its calls into the library and its printing
(``run(args) -> exit status``); :data:`COMMANDS` names them with their one-line
help, and only the module of the command being run is imported. What two
commands share lives below this package (:mod:`ffnn.experiment`,
:mod:`ffnn.runs`, ...); nothing outside ``ffnn.cli`` imports it.

:func:`main` is the one place that turns errors into exit statuses, each
printed as one line ``ffnn: error: ...`` on stderr:

- 2: a command line that cannot be parsed (unknown flag, bad value, missing
  argument) or names something that is not there;
- 1: input that fails later (a missing data directory, an unreadable image, a
  run directory without a model, settings that cannot work together, a run
  that diverged) and any check that failed (``ffnn check``);
- 130: Ctrl-C, which keeps everything written so far;
- 141: the reader of the output went away (``ffnn evaluate RUN | head``).
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from .options import CommandLineError
from .output import one_line

__all__ = ["main", "build_parser", "COMMANDS"]

#: name -> (one-line help, module of this package with ``add_arguments`` and ``run``).
COMMANDS = {
    "train": ("train one backend and save the run", "train"),
    "compare": ("train several backends on the same data and starting weights, side by side", "compare"),
    "evaluate": ("test accuracy, per-class precision/recall and confusion matrix of a saved run "
                 "(of every run of a comparison, side by side)", "evaluate"),
    "predict": ("classify image files of handwritten digits with a saved run (with every run of a "
                "comparison, side by side)", "predict"),
    "inspect": ("one image through a saved run: the preprocessed input, every hidden layer's activations "
                "and the output probabilities in one figure", "inspect"),
    "theory": ("derive, check and measure part 1 of the problem set; write DIR/theory.md, theory.tex, theory.pdf, "
               "theory.json and the figures", "theory"),
    "bench": ("time and score the three backends against each other, plain references and the matmul floor",
              "bench"),
    "tune": ("search learning rate and batch size on the validation split with Optuna (resumable, several "
             "processes or machines), then score the best trial on the test set once", "tune"),
    "serve": ("serve a local web page to draw a digit and watch each trained network read it", "serve"),
    "lr-find": ("the learning-rate range test: the rates at which the loss falls fastest for a training "
                "configuration, with its plot", "lr_find"),
    "check": ("feedback on teams' submissions of the problem set: each check with its evidence and, where "
              "something is wrong, what to change; JSON, Markdown, Gradescope and CSV reports", "check"),
}


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are exceptions, so :func:`main` prints them on one line."""

    def error(self, message):
        raise CommandLineError(message)


def command_module(name: str):
    """The module of command ``name`` (imported on first use)."""
    return importlib.import_module(f"{__name__}.{COMMANDS[name][1]}")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The ``ffnn`` parser; with ``only``, the flags of that command alone are declared (the others' modules
    are not imported)."""
    from .. import __version__

    parser = _Parser(prog="ffnn", description="A feed-forward classifier built three ways "
                                              "(NumPy, PyTorch, Keras), trained on MNIST.")
    parser.add_argument("--version", action="version", version=f"ffnn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, _) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if only is None or name == only:
            command_module(name).add_arguments(p)
    return parser


def _command_in(argv) -> str | None:
    """The command ``argv`` names (its first word that is not an option), if it is one."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in COMMANDS else None


def main(argv=None) -> int:
    """Run ``ffnn`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    from ..errors import FfnnError

    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        name = _command_in(argv)
        args = build_parser(only=name or "").parse_args(argv)
        if args.command is None:
            raise CommandLineError(f"choose a command: {', '.join(COMMANDS)} (ffnn --help for more)")
        run = command_module(args.command).run
    except CommandLineError as exc:
        print(f"ffnn: error: {one_line(exc)}", file=sys.stderr)
        return 2
    try:
        return run(args)
    except KeyboardInterrupt:
        print("ffnn: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`ffnn evaluate RUN | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except CommandLineError as exc:
        sys.stdout.flush()
        print(f"ffnn: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except (FfnnError, ValueError, OSError) as exc:
        sys.stdout.flush()
        print(f"ffnn: error: {one_line(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
