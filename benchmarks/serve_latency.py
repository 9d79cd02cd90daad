"""Round trip of one prediction through ``ffnn serve``: upload a drawing, get every model's answer.

Starts a real uvicorn on 127.0.0.1 (a free port) serving the given runs
(default ``runs/demo``: the three backends of ``make demo``), then one client
posts the same 280x280 PNG drawing, as the page's pad sends it, one request
after the other over a kept-alive connection, and reports the median and
95th percentile of the time from sending the request to having parsed the
JSON answer. Also times the same with ``?inspect=`` (hidden activations
added), which is what the page sends.

    python benchmarks/serve_latency.py [RUN_DIR ...] [--requests 200]
"""
from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def drawing() -> bytes:
    """A 7 drawn in black on the white 280x280 pad, 18 pixels wide (as ``app.js`` draws)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (280, 280), "white")
    ImageDraw.Draw(img).line([(70, 60), (210, 60), (120, 250)], fill="black", width=18, joint="curve")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def measure(url: str, image: bytes, requests: int, warmup: int, query: str = "") -> list[float]:
    import httpx

    times = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for i in range(warmup + requests):
            start = time.perf_counter()
            r = client.post("/api/predict" + query, files={"image": ("pad.png", image, "image/png")})
            r.raise_for_status()
            r.json()
            if i >= warmup:
                times.append(time.perf_counter() - start)
    return times


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run_dirs", nargs="*", default=["runs/demo"], metavar="RUN_DIR",
                   help="runs to serve (default: runs/demo)")
    p.add_argument("--requests", type=int, default=200, help="timed requests per case (default: 200)")
    p.add_argument("--warmup", type=int, default=10, help="untimed requests first (default: 10)")
    args = p.parse_args(argv)

    from ffnn.web.registry import Registry
    from ffnn.web.serve import background, one_torch_thread

    one_torch_thread(args.run_dirs)  # as ffnn serve does
    registry = Registry.from_paths(args.run_dirs)
    image = drawing()
    first = next(iter(registry.models))
    load = os.getloadavg()[0]
    with background(registry) as url:
        cases = {"predict": measure(url, image, args.requests, args.warmup),
                 f"predict?inspect={first}": measure(url, image, args.requests, args.warmup, f"?inspect={first}")}
    print(f"{len(registry)} models ({', '.join(registry.models)}), {args.requests} sequential requests per case, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"1-minute load {load:.1f} at start")
    print("| request | p50 | p95 | mean |\n|---|---:|---:|---:|")
    for name, t in cases.items():
        p95 = statistics.quantiles(t, n=20)[18]
        print(f"| POST /api/{name} | {1000 * statistics.median(t):.1f} ms | {1000 * p95:.1f} ms "
              f"| {1000 * statistics.fmean(t):.1f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
