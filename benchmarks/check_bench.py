"""How long ``ffnn check`` takes: one submission with all four parts, and five with ``--jobs 2``.

Both cases run the real command in a child process (``python -m ffnn.cli
check ...``), so the time includes starting Python, the sandbox, every part's
child process and the reports, as a teaching assistant would wait for it. The
submission is the correct fixture of the tests (``tests/fixtures/check/correct``
by default), the slowest kind: every check runs to the end, and every
``*.learns`` check trains its full protocol. The five submissions are five
copies of it under different folder names.

Targets (issue 22): one submission ≤ 90 s, five with ``--jobs 2`` ≤ 4 minutes,
on the 2-core development machine.

    python benchmarks/check_bench.py [--submission DIR] [--json PATH]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS_S = {"one": 90, "five_jobs2": 240}


def timed_check(paths, *extra) -> dict:
    """Run ``ffnn check`` on ``paths``; its wall-clock seconds, exit status and summary per submission."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        argv = [sys.executable, "-m", "ffnn.cli", "check", *map(str, paths), "--json", str(report), *extra]
        start = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
        seconds = time.perf_counter() - start
        summaries = ([s["summary"] for s in json.loads(report.read_text())["submissions"]]
                     if report.exists() else [])
    if done.returncode not in (0, 1) or not summaries:
        tail = (done.stderr.strip().splitlines() or ["(nothing)"])[-1]
        raise SystemExit(f"check_bench: ffnn check exited with {done.returncode}: {tail}")
    return {"seconds": round(seconds, 1), "exit_status": done.returncode, "summaries": summaries,
            "progress": [line for line in done.stderr.splitlines() if "] checked " in line],
            "notices": [line for line in done.stderr.splitlines() if "] checked " not in line]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--submission", type=Path, default=ROOT / "tests" / "fixtures" / "check" / "correct",
                   help="the submission folder to time (default: tests/fixtures/check/correct)")
    p.add_argument("--json", type=Path, help="also write the results to this file")
    args = p.parse_args(argv)
    if not args.submission.is_dir():
        p.error(f"--submission: not a folder: {args.submission}")

    results = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                           "load_average_start": [round(x, 2) for x in os.getloadavg()],
                           "bwrap": shutil.which("bwrap")}}
    print(f"one submission, all four parts: {args.submission}", file=sys.stderr)
    results["one"] = timed_check([args.submission])
    with tempfile.TemporaryDirectory() as tmp:
        copies = []
        for i in range(1, 6):
            copies.append(Path(tmp) / f"team{i}")
            shutil.copytree(args.submission, copies[-1])
        print("five submissions, --jobs 2", file=sys.stderr)
        results["five_jobs2"] = timed_check(copies, "--jobs", "2")
    results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]

    for case, label in (("one", "1 submission, all parts"), ("five_jobs2", "5 submissions, --jobs 2")):
        r = results[case]
        verdict = "within" if r["seconds"] <= TARGETS_S[case] else "OVER"
        print(f"{label:<26} {r['seconds']:>7.1f} s   target {TARGETS_S[case]} s: {verdict}   "
              f"exit {r['exit_status']}, checks {r['summaries'][0]}")
    m = results["machine"]
    print(f"{m['cpus']} CPUs, load average {m['load_average_start'][0]} at start, {m['load_average_end'][0]} "
          f"at end; sandbox: {'bubblewrap' if m['bwrap'] else 'none'}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
