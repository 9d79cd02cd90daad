"""``ffnn theory``: derive, check and measure part 1 of the problem set (:mod:`ffnn.theory`)."""
from __future__ import annotations


def add_arguments(parser) -> None:
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="output directory, created if missing (required: no default)")
    parser.add_argument("--fast", action="store_true",
                        help="tiny subsets and few epochs, seconds instead of minutes (default: off)")
    parser.add_argument("--no-cache", action="store_true",
                        help="rerun the training runs instead of reusing cached results (default: use the cache)")
    parser.add_argument("--no-pdf", action="store_true", help="skip theory.pdf (default: write it)")
    parser.add_argument("--engine", choices=("latex", "typst"), default=None,
                        help="what typesets theory.pdf (default: latex when a LaTeX engine is installed, else typst)")
    parser.add_argument("--quiet", action="store_true", help="print only the path written (default: off)")


def run(args) -> int:
    from ..theory import build_report

    path = build_report(args.out, fast=args.fast, cache=not args.no_cache, verbose=0 if args.quiet else 1,
                        pdf=not args.no_pdf, engine=args.engine)
    print(path)
    return 0
