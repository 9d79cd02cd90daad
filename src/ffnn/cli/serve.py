"""``ffnn serve``: a local web page to draw a digit and watch each trained network read it (:mod:`ffnn.web`)."""
from __future__ import annotations

import sys
from pathlib import Path

from ..errors import UsageError
from .options import port, positive_int


def add_arguments(p) -> None:
    from ..web.serve import DEFAULT_RUN

    p.add_argument("run_dirs", nargs="*", metavar="RUN_DIR",
                   help="runs to serve: ffnn train directories, or ffnn compare directories meaning each "
                        f"backend run in them (default: {DEFAULT_RUN}, which make demo writes)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on; anything but loopback is reachable from other machines "
                        "(default: 127.0.0.1)")
    p.add_argument("--port", type=port, default=8000, help="port to listen on; 0 picks a free one (default: 8000)")
    p.add_argument("--runs-dir", default=None, metavar="DIR",
                   help="where runs trained from the page are saved (default: the folder holding the first "
                        "RUN_DIR, e.g. runs for runs/demo)")
    p.add_argument("--max-epochs", type=positive_int, default=100,
                   help="most epochs a run trained from the page may have (default: 100)")
    p.add_argument("--max-train", type=positive_int, default=60000, metavar="N",
                   help="most training images a run trained from the page may use (default: 60000, all of MNIST)")
    p.add_argument("--max-width", type=positive_int, default=1024, metavar="UNITS",
                   help="most units in a hidden layer of a run trained from the page (default: 1024)")


def run(args) -> int:
    from ..web.serve import DEFAULT_RUN, bind, is_loopback, one_torch_thread, serve, url

    paths = args.run_dirs
    if not paths:
        if not DEFAULT_RUN.is_dir():
            raise UsageError(f"no run to serve: give RUN_DIR (from ffnn train or ffnn compare), or run make demo "
                             f"to create {DEFAULT_RUN}")
        paths = [DEFAULT_RUN]
    try:
        import fastapi  # noqa: F401
        import python_multipart  # noqa: F401
        import sse_starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ModuleNotFoundError as exc:
        raise UsageError(f"ffnn serve needs {exc.name}: pip install 'ffnn[web]'") from None
    from ..web.jobs import TrainLimits
    from ..web.registry import Registry

    # This process serves one image at a time: a process-wide setting, made here by the program.
    one_torch_thread(paths)
    registry = Registry.from_paths(paths)
    runs_dir = Path(args.runs_dir) if args.runs_dir else Path(paths[0]).resolve().parent
    limits = TrainLimits(max_epochs=args.max_epochs, max_train=args.max_train, max_width=args.max_width,
                         runs_dir=runs_dir)
    sock = bind(args.host, args.port)
    if not is_loopback(sock):
        print(f"warning: listening on {args.host}, not loopback: anyone who can reach this machine can use "
              f"the page and the API", file=sys.stderr)
    print(f"Serving {', '.join(registry.models)} from {', '.join(map(str, paths))} on {url(sock)} "
          f"(Ctrl-C stops)", flush=True)
    print(f"Runs trained from the page go to {runs_dir}", flush=True)
    # A torch run trained from the page is served from this process too.
    serve(registry, sock, limits, on_new_run=lambda run_dir: one_torch_thread([run_dir]))
    print("ffnn serve: stopped", flush=True)
    return 0
