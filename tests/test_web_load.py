"""Load: 8 concurrent clients for about 5 s against a real uvicorn on 127.0.0.1; no errors allowed.

Each client mixes predictions (a vertical stroke: every model must read 1),
model lists and non-images (each must get its 400), so bad requests are
shown not to disturb the good ones around them.

The latencies (p50, p95) are printed, never asserted: timing belongs in benchmarks/.
"""
import statistics
import threading
import time

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from helpers import web as _web  # noqa: E402

CLIENTS = 8
SECONDS = 5.0
MAX_REQUESTS = 400  # per client: a bound on the work however fast the machine is


def _request(client, i: int, image: bytes):
    """Mostly predictions; every tenth a model list, every tenth a non-image that must get its 400."""
    if i % 10 == 9:
        r = client.get("/api/models")
        return r, r.status_code == 200 and len(r.json()) == len(_web.registry())
    if i % 10 == 4:
        r = client.post("/api/predict", files={"image": ("notes.txt", b"not an image", "text/plain")})
        return r, r.status_code == 400 and "not an image" in r.json()["error"]
    r = client.post("/api/predict", files={"image": ("pad.png", image, "image/png")})
    return r, r.status_code == 200 and [p["prediction"] for p in r.json()["predictions"]] == [1] * len(_web.backends())


def _client(url: str, image: bytes, stop_at: float, latencies: list, failures: list) -> None:
    with httpx.Client(base_url=url, timeout=30) as client:
        for i in range(MAX_REQUESTS):
            if time.monotonic() >= stop_at:
                return
            start = time.perf_counter()
            try:
                r, ok = _request(client, i, image)
            except httpx.HTTPError as exc:
                failures.append(repr(exc))
                continue
            latencies.append(time.perf_counter() - start)
            if not ok:
                failures.append(f"{r.status_code}: {r.text[:200]}")


@pytest.mark.slow
def test_eight_clients_for_five_seconds_get_no_errors(capsys):
    image = _web.stroke_png()
    latencies, failures = [], []
    with _web.live_server() as url:
        stop_at = time.monotonic() + SECONDS
        threads = [threading.Thread(target=_client, args=(url, image, stop_at, latencies, failures))
                   for _ in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(SECONDS + 60)
    assert not any(t.is_alive() for t in threads)
    assert failures == []
    assert len(latencies) >= CLIENTS
    cuts = statistics.quantiles(latencies, n=20)
    with capsys.disabled():
        print(f"\nload: {CLIENTS} clients, {SECONDS:.0f} s, {len(latencies)} requests, "
              f"{len(_web.registry())} models: p50 {1000 * statistics.median(latencies):.0f} ms, "
              f"p95 {1000 * cuts[18]:.0f} ms")
