"""Training watched from the page against the same ``ffnn train``: speed, and how late the page hears of a batch.

Takes turns, ``--rounds`` times (the order alternating): one turn runs
``ffnn train`` in a process of its own; the other serves an empty page with
a real uvicorn (``ffnn.web.serve.background``), opens it in Debian's
Chromium driven by Playwright, fills the Train panel with the same settings,
presses Start and waits for the run to be saved, the page drawing every
event as it comes. Both write ordinary run directories.

- **seconds per epoch**: the median of ``History["seconds"]`` (the training
  steps of an epoch, which for the page include scoring the latest batch
  and sending the progress events) over every epoch of every round; the
  page's speed is ``ffnn train``'s seconds per epoch over its own, overall
  and round by round (the two turns of a round run back to back, so a busy
  machine slows both about alike), and the fastest epoch of each.
- **wall time**: from starting the command (or pressing Start) to the saved run.
- **latency**: for every ``progress`` event, the time from the training
  process stamping it (right after its batch) to the page's
  ``EventSource`` receiving it; same machine, same clock.

    python benchmarks/live_bench.py [--backend numpy] [--n-train 20000] [--epochs 3] [--rounds 3] [--json PATH]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HIDDEN = (128, 64)
#: Wraps the page's EventSource so that every progress event's arrival is recorded beside its stamp.
RECORD_ARRIVALS = """
(() => {
  const Native = window.EventSource;
  window.__arrivals = [];
  window.EventSource = function (url, options) {
    const source = new Native(url, options);
    source.addEventListener("progress", (e) => window.__arrivals.push([Date.now() / 1000, JSON.parse(e.data).time]));
    return source;
  };
  window.EventSource.prototype = Native.prototype;
})();
"""


def epoch_seconds(run_dir) -> list:
    return json.loads((Path(run_dir) / "history.json").read_text())["history"]["seconds"]


def cli_turn(args, out: Path) -> dict:
    cmd = [sys.executable, "-m", "ffnn.cli", "train", "--backend", args.backend, "--n-train", str(args.n_train),
           "--epochs", str(args.epochs), "--hidden", ",".join(map(str, HIDDEN)), "--out", str(out)]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return {"wall": time.perf_counter() - start, "seconds": epoch_seconds(out)}


def page_turn(args, browser, runs_dir: Path) -> dict:
    from ffnn.web.jobs import TrainLimits
    from ffnn.web.registry import Registry
    from ffnn.web.serve import background

    with background(Registry([]), limits=TrainLimits(runs_dir=runs_dir)) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 1200})
        page.set_default_timeout(1_800_000)
        page.add_init_script(RECORD_ARRIVALS)
        page.goto(url)
        page.wait_for_selector("#train[data-ready=true]")
        page.select_option('#train-form [name="backend"]', args.backend)
        for name, value in {"hidden": ",".join(map(str, HIDDEN)), "epochs": args.epochs,
                            "n_train": args.n_train}.items():
            page.fill(f'#train-form [name="{name}"]', str(value))
        start = time.perf_counter()
        page.click("#train-start")
        page.wait_for_function("['done', 'stopped', 'failed'].includes(document.getElementById('train-status')"
                               ".dataset.state)")
        wall = time.perf_counter() - start
        status = page.locator("#train-status")
        if status.get_attribute("data-state") != "done":
            raise RuntimeError(f"the page's run did not finish: {status.text_content()}")
        run_dir = status.get_attribute("data-run-dir")
        arrivals = page.evaluate("window.__arrivals")
        page.close()
    return {"wall": wall, "seconds": epoch_seconds(run_dir), "latency": [got - sent for got, sent in arrivals]}


def percentile(values, q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backend", default="numpy", help="backend to train (default: numpy)")
    p.add_argument("--n-train", type=int, default=20_000, help="training images (default: 20000)")
    p.add_argument("--epochs", type=int, default=3, help="epochs per run (default: 3)")
    p.add_argument("--rounds", type=int, default=3, help="turns of each (default: 3)")
    p.add_argument("--json", default=None, metavar="PATH", help="also write the numbers as JSON (default: no)")
    args = p.parse_args(argv)

    from playwright.sync_api import sync_playwright

    load_start = os.getloadavg()
    cli, page = [], []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium")
        for r in range(args.rounds):
            turns = [("cli", cli), ("page", page)] if r % 2 == 0 else [("page", page), ("cli", cli)]
            for kind, results in turns:
                out = Path(tmp) / f"{kind}-{r}"
                results.append(cli_turn(args, out) if kind == "cli" else page_turn(args, browser, out))
                print(f"round {r + 1} {kind}: {statistics.median(results[-1]['seconds']):.3f} s/epoch, "
                      f"{results[-1]['wall']:.1f} s wall", file=sys.stderr, flush=True)
        browser.close()
    cli_s = statistics.median(s for t in cli for s in t["seconds"])
    page_s = statistics.median(s for t in page for s in t["seconds"])
    latency = [v for t in page for v in t["latency"]]
    # Each round's two turns ran back to back, under about the same load from whatever else runs.
    ratios = [statistics.median(c["seconds"]) / statistics.median(w["seconds"]) for c, w in zip(cli, page)]
    result = {
        "settings": {"backend": args.backend, "layer_sizes": [784, *HIDDEN, 10], "n_train": args.n_train,
                     "epochs": args.epochs, "batch_size": 32, "rounds": args.rounds},
        "cli_seconds_per_epoch": cli_s, "page_seconds_per_epoch": page_s, "page_speed": cli_s / page_s,
        "page_speed_per_round": ratios, "page_speed_median_of_rounds": statistics.median(ratios),
        "cli_min_seconds_per_epoch": min(s for t in cli for s in t["seconds"]),
        "page_min_seconds_per_epoch": min(s for t in page for s in t["seconds"]),
        "cli_epoch_seconds": [t["seconds"] for t in cli], "page_epoch_seconds": [t["seconds"] for t in page],
        "cli_wall": statistics.median(t["wall"] for t in cli), "page_wall": statistics.median(t["wall"] for t in page),
        "progress_events": len(latency),
        "latency_ms": {"p50": 1000 * percentile(latency, 0.5), "p95": 1000 * percentile(latency, 0.95),
                       "max": 1000 * max(latency)},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_start": load_start,
                    "load_end": os.getloadavg()},
    }
    lat = result["latency_ms"]
    print(f"{args.backend} 784-{'-'.join(map(str, HIDDEN))}-10, {args.n_train} images (90% trained on), "
          f"{args.epochs} epochs, {args.rounds} rounds each")
    print(f"seconds per epoch: ffnn train {cli_s:.3f}, from the page {page_s:.3f}: "
          f"the page trains at {100 * cli_s / page_s:.0f}% of ffnn train's speed")
    print(f"page speed round by round: {', '.join(f'{100 * r:.0f}%' for r in ratios)} "
          f"(median {100 * statistics.median(ratios):.0f}%)")
    print(f"fastest epoch: ffnn train {result['cli_min_seconds_per_epoch']:.3f} s, from the page "
          f"{result['page_min_seconds_per_epoch']:.3f} s")
    print(f"wall time (median): ffnn train {result['cli_wall']:.1f} s, from the page {result['page_wall']:.1f} s")
    print(f"progress event to the page ({len(latency)} events): p50 {lat['p50']:.0f} ms, p95 {lat['p95']:.0f} ms, "
          f"max {lat['max']:.0f} ms")
    print(f"load average {load_start[0]:.1f} at start, {result['machine']['load_end'][0]:.1f} at end "
          f"({os.cpu_count()} CPUs)")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
