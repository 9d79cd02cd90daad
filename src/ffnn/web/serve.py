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
                raise RuntimeError(f"uvicorn did not start on {url(sock)}")
            time.sleep(0.02)
        yield url(sock).rstrip("/")
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()


def is_loopback(sock: socket.socket) -> bool:
    return ipaddress.ip_address(sock.getsockname()[0]).is_loopback


def url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def serve(registry, sock: socket.socket) -> None:
    """Serve ``registry`` on the listening ``sock`` until Ctrl-C (or SIGTERM) stops uvicorn."""
    server = _server(registry)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn has shut down cleanly and re-raises the signal it caught
    finally:
        sock.close()
