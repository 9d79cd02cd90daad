"""``ffnn serve``: a local web page to draw a digit and watch each trained network read it (:mod:`ffnn.web`)."""
from __future__ import annotations

import sys

from ..errors import UsageError
from .options import port


def add_arguments(p) -> None:
    from ..web.serve import DEFAULT_RUN

    p.add_argument("run_dirs", nargs="*", metavar="RUN_DIR",
                   help="runs to serve: ffnn train directories, or ffnn compare directories meaning each "
                        f"backend run in them (default: {DEFAULT_RUN}, which make demo writes)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on; anything but loopback is reachable from other machines "
                        "(default: 127.0.0.1)")
    p.add_argument("--port", type=port, default=8000, help="port to listen on; 0 picks a free one (default: 8000)")


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
        import uvicorn  # noqa: F401
    except ModuleNotFoundError as exc:
        raise UsageError(f"ffnn serve needs {exc.name}: pip install 'ffnn[web]'") from None
    from ..web.registry import Registry

    # This process serves one image at a time: a process-wide setting, made here by the program.
    one_torch_thread(paths)
    registry = Registry.from_paths(paths)
    sock = bind(args.host, args.port)
    if not is_loopback(sock):
        print(f"warning: listening on {args.host}, not loopback: anyone who can reach this machine can use "
              f"the page and the API", file=sys.stderr)
    print(f"Serving {', '.join(registry.models)} from {', '.join(map(str, paths))} on {url(sock)} "
          f"(Ctrl-C stops)", flush=True)
    serve(registry, sock)
    print("ffnn serve: stopped", flush=True)
    return 0
