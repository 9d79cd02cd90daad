"""``ffnn check``: feedback on teams' submissions of the problem set, in the terminal and as report files.

Exit status as linters and pytest: 0 when every check passed (or was not
asked for), 1 when any failed or could not run, 2 for a bad command line
(a PATH that is not a folder, a bad ``--parts``, a bad rubric,
``--sandbox required`` without bubblewrap).
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from ..check import PARTS, SandboxUnavailable, check_ids, check_submissions
from ..check.report import (RubricError, load_rubric, render_terminal, submission_line, write_csv, write_gradescope,
                            write_json, write_markdown)
from ..check.report.terminal import use_colour
from ..check.sandbox import SANDBOX_MODES
from .options import CommandLineError, positive_int


def parts(text: str) -> tuple:
    """``"scratch,notebook"`` -> ``("scratch", "notebook")``, each one of :data:`ffnn.check.PARTS`."""
    chosen = [p.strip() for p in text.split(",")]
    for p in chosen:
        if p not in PARTS:
            raise argparse.ArgumentTypeError(
                f"must be comma-separated parts among {','.join(PARTS)}, got {text!r} ({p!r})")
    return tuple(dict.fromkeys(chosen))


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def add_arguments(p) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="a submission folder in the course template's layout (network_scratch.py, "
                        "network_pytorch.py, network_tensorflow.py, utils.py, MNIST_classification.ipynb)")
    p.add_argument("--json", metavar="FILE",
                   help="write every check of every submission as JSON to FILE ('-': standard output, "
                        "instead of the terminal report) (default: none)")
    p.add_argument("--markdown", metavar="DIR",
                   help="write one Markdown feedback page per submission into DIR, named after its folder "
                        "(default: none)")
    p.add_argument("--gradescope", metavar="FILE",
                   help="write Gradescope's autograder results.json for the one submission to FILE (default: none)")
    p.add_argument("--rubric", metavar="FILE",
                   help="points per check for --gradescope, a TOML file: default = 1 and a [weights] table of "
                        "check id = points (default: 1 point per check)")
    p.add_argument("--csv", metavar="FILE",
                   help="write a row per submission and a column per check to FILE, for the class overview "
                        "(default: none)")
    p.add_argument("--jobs", type=positive_int, default=1, metavar="N",
                   help="submissions checked at once; the results do not depend on it (default: 1)")
    p.add_argument("--timeout", type=seconds, default=120.0, metavar="SECONDS",
                   help="seconds each part of a submission may run before it is stopped (default: 120)")
    p.add_argument("--sandbox", choices=SANDBOX_MODES, default="auto",
                   help="run the submissions' code under bubblewrap: auto (when installed, else say so and "
                        "run without), required (refuse without it), off (default: auto)")
    p.add_argument("--parts", type=parts, default=PARTS,
                   help=f"the parts to check, comma-separated (default: {','.join(PARTS)})")


def _refuse_early(args) -> None:
    """Every command-line mistake that can be seen before checking anything (checks take minutes)."""
    for path in args.paths:
        if not Path(path).is_dir():
            raise CommandLineError(f"not a submission folder: {path}")
    if args.gradescope and len(args.paths) > 1:
        raise CommandLineError(f"--gradescope writes the results of one submission, got {len(args.paths)}; "
                               "run ffnn check once per submission")
    if args.rubric and not args.gradescope:
        raise CommandLineError("--rubric gives points for --gradescope; add --gradescope FILE")
    for flag, target in (("--json", args.json), ("--gradescope", args.gradescope), ("--csv", args.csv)):
        if target and target != "-" and Path(target).is_dir():
            raise CommandLineError(f"{flag}: {target} is a folder; give a file name")
    for flag, target in (("--markdown", args.markdown), ("--gradescope", args.gradescope), ("--csv", args.csv)):
        if target == "-":
            raise CommandLineError(f"{flag}: only --json writes to standard output ('-'); give a "
                                   f"{'folder' if flag == '--markdown' else 'file'} name")
    if args.markdown and Path(args.markdown).exists() and not Path(args.markdown).is_dir():
        raise CommandLineError(f"--markdown: {args.markdown} is a file, not a folder")


def run(args) -> int:
    _refuse_early(args)
    rubric = None
    if args.rubric:
        try:
            rubric = load_rubric(args.rubric, check_ids())
        except RubricError as exc:
            raise CommandLineError(str(exc)) from None

    start, done = time.monotonic(), []

    def progress(result):
        done.append(result)
        print(f"[{len(done)}/{len(args.paths)}, {time.monotonic() - start:.0f} s] {submission_line(result)}",
              file=sys.stderr, flush=True)

    try:
        results = check_submissions(args.paths, jobs=args.jobs, on_result=progress, parts=args.parts,
                                    timeout=args.timeout, sandbox=args.sandbox,
                                    log=lambda line: print(f"ffnn check: {line}", file=sys.stderr, flush=True))
    except SandboxUnavailable as exc:
        raise CommandLineError(str(exc)) from None

    if args.json != "-":
        sys.stdout.write(render_terminal(results, colour=use_colour(sys.stdout)))
        sys.stdout.flush()
    if args.json:
        write_json(results, args.json)
    if args.markdown:
        pages = write_markdown(results, args.markdown)
        print(f"ffnn check: {len(pages)} feedback page{'s' if len(pages) != 1 else ''} in {args.markdown}",
              file=sys.stderr)
    if args.gradescope:
        write_gradescope(results[0], args.gradescope, rubric)
    if args.csv:
        write_csv(results, args.csv, order=check_ids())
    return 0 if all(r.ok for r in results) else 1
