"""``ffnn bench``: time and score the backends against plain references and the matmul floor (:mod:`ffnn.bench`)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .options import backend_list


def add_arguments(p) -> None:
    from ..bench import BACKEND_NAMES

    p.add_argument("--quick", action="store_true",
                   help="small subsets and one accuracy epoch: under a minute (default: the full benchmark)")
    p.add_argument("--backends", type=backend_list, default=BACKEND_NAMES,
                   help=f"comma-separated backends to measure (default: {','.join(BACKEND_NAMES)})")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH (default: none)")
    p.add_argument("--markdown", metavar="PATH", help="also write the Markdown report to PATH (default: none)")
    p.add_argument("--note", default="", help="a line of context to print with the results (default: none)")


def run(args) -> int:
    """Print the Markdown report and write the copies asked for; 1 if a measuring process failed."""
    from .. import bench

    results = bench.run("quick" if args.quick else "full", list(args.backends), note=args.note)
    report = bench.render_markdown(results)
    print(report)
    for path, text in ((args.json, json.dumps(results, indent=2)), (args.markdown, report)):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text + "\n")
    for e in results["errors"]:
        print(f"ffnn bench: process {e['process']} failed: {e['error']}", file=sys.stderr)
    return 1 if results["errors"] else 0
