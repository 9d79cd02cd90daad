"""Serving the page and API of :mod:`ffnn.web.app` on a local address (``ffnn serve``).

FastAPI and uvicorn (the ``web`` extra) are imported only when a server
starts, so the rest of ffnn works without them.
"""
from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from pathlib import Path

__all__ = ["DEFAULT_RUN", "bind", "background", "serve", "one_torch_thread", "url", "is_loopback"]

DEFAULT_RUN = Path("runs") / "demo"


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
    """Run PyTorch on one thread, for the whole process, if a run in ``paths`` is a torch run.

    A process-wide setting (``torch.set_num_threads``): only a program that
    serves, and owns its process, calls this (``ffnn serve``, the serving
    benchmark); library code never does. The server predicts one image at a
    time, where PyTorch's worker threads only wait for each other (see
    ``benchmarks/serve_latency.py``); the probabilities are the same.
    """
    from ..runs import open_run
    from .registry import find_runs

    if any(open_run(r).saved_model()[0] == "torch" for r in find_runs(paths)):
        import torch

        torch.set_num_threads(1)


def _server(registry, limits=None, on_new_run=None):
    import uvicorn

    from .app import create_app

    # log_config=None: uvicorn's dictConfig would close the logging handlers of whoever runs us.
    # timeout_graceful_shutdown: an event stream a client keeps open must not hold the server up for ever.
    app = create_app(registry, limits=limits, on_new_run=on_new_run)
    return uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, log_config=None,
                                         timeout_graceful_shutdown=3))


@contextlib.contextmanager
def background(registry, host: str = "127.0.0.1", port: int = 0, timeout: float = 30.0, limits=None):
    """Serve ``registry`` with uvicorn in a thread (tests, benchmarks); yields the base URL, no trailing slash.

    ``limits``: the :class:`~ffnn.web.jobs.TrainLimits` of training from the page.
    On leaving, a running training job is stopped and saved before the server stops.
    """
    sock = bind(host, port)
    server = _server(registry, limits)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    try:
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on {url(sock)}")
            time.sleep(0.02)
        yield url(sock).rstrip("/")
    finally:
        server.config.app.state.trainer.close()  # ends the event streams too, which uvicorn waits for
        server.should_exit = True
        thread.join(timeout)
        sock.close()


def is_loopback(sock: socket.socket) -> bool:
    return ipaddress.ip_address(sock.getsockname()[0]).is_loopback


def url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def serve(registry, sock: socket.socket, limits=None, on_new_run=None) -> None:
    """Serve ``registry`` on the listening ``sock`` until Ctrl-C (or SIGTERM) stops uvicorn.

    A training job started from the page is then stopped as Ctrl-C stops
    ``ffnn train`` and its run directory written before this returns.
    """
    server = _server(registry, limits, on_new_run)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn has shut down cleanly and re-raises the signal it caught
    finally:
        sock.close()
