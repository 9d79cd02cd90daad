"""``ffnn serve``: the page and API of :mod:`ffnn.web.app` on a local address, until Ctrl-C.

FastAPI and uvicorn (the ``web`` extra) are imported only when the command
runs, so the rest of the command line works without them.
"""
from __future__ import annotations

import argparse
import contextlib
import ipaddress
import socket
import sys
import threading
import time
from pathlib import Path

__all__ = ["DESCRIPTION", "DEFAULT_RUN", "add_arguments", "run", "bind", "background", "one_torch_thread"]

DESCRIPTION = "serve a local web page to draw a digit and watch each trained network read it"
DEFAULT_RUN = Path("runs") / "demo"


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number 0-65535 (0 picks a free one), got {text!r}")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dirs", nargs="*", metavar="RUN_DIR",
                   help="runs to serve: ffnn train directories, or ffnn compare directories meaning each "
                        f"backend run in them (default: {DEFAULT_RUN}, which make demo writes)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on; anything but loopback is reachable from other machines "
                        "(default: 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8000, help="port to listen on; 0 picks a free one (default: 8000)")


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host``:``port``; an OSError naming the address if that fails."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)  # connections made from now on wait for uvicorn instead of being refused
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def one_torch_thread(paths) -> None:
    """Run PyTorch on one thread if a run in ``paths`` is a torch run.

    The server predicts one image at a time, where PyTorch's worker threads
    only wait for each other: on the busy 2-core development machine a call
    took 87 ms with two threads and 0.07 ms with one, with bitwise the same
    probabilities (checked on 200 MNIST test images).
    """
    from ..runs import open_run
    from .registry import find_runs

    if any(open_run(r).saved_model()[0] == "torch" for r in find_runs(paths)):
        import torch

        torch.set_num_threads(1)


def _server(registry):
    import uvicorn

    from .app import create_app

    # log_config=None: uvicorn's dictConfig would close the logging handlers of whoever runs us.
    return uvicorn.Server(uvicorn.Config(create_app(registry), log_level="warning", access_log=False,
                                         log_config=None))


@contextlib.contextmanager
def background(registry, host: str = "127.0.0.1", port: int = 0, timeout: float = 30.0):
    """Serve ``registry`` with uvicorn in a thread (tests, benchmarks); yields the base URL, no trailing slash."""
    sock = bind(host, port)
    server = _server(registry)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    try:
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on {_url(sock)}")
            time.sleep(0.02)
        yield _url(sock).rstrip("/")
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()


def _is_loopback(sock: socket.socket) -> bool:
    return ipaddress.ip_address(sock.getsockname()[0]).is_loopback


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def run(args) -> int:
    from ..cli import CLIError

    paths = args.run_dirs
    if not paths:
        if not DEFAULT_RUN.is_dir():
            raise CLIError(f"no run to serve: give RUN_DIR (from ffnn train or ffnn compare), or run make demo "
                           f"to create {DEFAULT_RUN}")
        paths = [DEFAULT_RUN]
    try:
        import fastapi  # noqa: F401
        import python_multipart  # noqa: F401
        import uvicorn  # noqa: F401
    except ModuleNotFoundError as exc:
        raise CLIError(f"ffnn serve needs {exc.name}: pip install 'ffnn[web]'") from None
    from .registry import Registry

    one_torch_thread(paths)
    registry = Registry.from_paths(paths)
    sock = bind(args.host, args.port)
    if not _is_loopback(sock):
        print(f"warning: listening on {args.host}, not loopback: anyone who can reach this machine can use "
              f"the page and the API", file=sys.stderr)
    print(f"Serving {', '.join(registry.models)} from {', '.join(map(str, paths))} on {_url(sock)} "
          f"(Ctrl-C stops)", flush=True)
    server = _server(registry)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn has shut down cleanly and re-raises the signal it caught
    finally:
        sock.close()
    print("ffnn serve: stopped", flush=True)
    return 0
