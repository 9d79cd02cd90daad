"""Mutation testing of ffnn's core modules with mutmut, one module at a time.

``python tools/mutation.py [MODULE ...]`` (``make mutation``) mutates each core
module in a scratch copy of the project (``build/mutation/<module>/``) where
mutmut sees only that module and the tests that guard it, so a module takes
minutes, not the whole suite per mutant. The outcome of every module run is
stored in ``docs/mutation/<module>.json``; ``docs/testing.md`` is then rebuilt
from all stored results, so modules can be re-run one at a time.

Surviving mutants are matched against ``tools/mutation_notes.toml`` by a key
that does not depend on mutmut's mutant numbering (module, function, and a
hash of the changed source line before and after), so notes written for one
run still apply after the code around them changes.

``--report`` only rebuilds ``docs/testing.md`` from the stored results. The
sections of :data:`KEPT` are written by hand in ``docs/testing.md``; a rebuild
keeps them as they are, at the end.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "mutation"
RESULTS = ROOT / "docs" / "mutation"
NOTES = ROOT / "tools" / "mutation_notes.toml"
DOC = ROOT / "docs" / "testing.md"
TARGET = 0.90  # fraction of mutants each module must kill
#: Headings of the sections of docs/testing.md written by hand, which a rebuild keeps.
KEPT = ("## Where `make test`'s time goes",)

#: module -> (source file, the tests that guard it). Only these tests run against the module's mutants.
MODULES = {
    "functional": ("src/ffnn/functional.py", ["tests/test_functional.py", "tests/test_numpy_gradients.py"]),
    "numpy_net": ("src/ffnn/backends/numpy_net.py",
                  ["tests/test_numpy_net.py", "tests/test_numpy_gradients.py", "tests/test_behaviour_numpy_net.py",
                   "tests/test_mutation_kills_numpy_net.py"]),
    "training": ("src/ffnn/training.py", ["tests/test_training.py"]),
    "schedules": ("src/ffnn/schedules.py",
                  ["tests/test_schedules.py", "tests/test_config.py", "tests/test_fuzz_config.py"]),
    "data": ("src/ffnn/data.py", ["tests/test_data.py", "tests/test_fuzz_idx.py", "tests/test_fuzz_config.py"]),
    "imaging": ("src/ffnn/imaging.py", ["tests/test_imaging.py", "tests/test_fuzz_image.py"]),
    "config": ("src/ffnn/config.py", ["tests/test_config.py", "tests/test_fuzz_config.py"]),
}

STATUS_KILLED = {"killed", "timeout", "caught by type check"}
STATUS_SKIPPED = {"skipped", "not checked"}


# ----------------------------------------------------------------------- running


def _workdir(module: str) -> Path:
    """A fresh scratch project for ``module``: the sources, its tests and a mutmut config."""
    source, tests = MODULES[module]
    work = WORK / module
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "src", work / "src", ignore=ignore)
    (work / "tests").mkdir()
    shutil.copytree(ROOT / "tests" / "helpers", work / "tests" / "helpers", ignore=ignore)  # shared by the tests
    for name in ["tests/conftest.py", *tests]:
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, work / name)
    present = [t for t in tests if (ROOT / t).exists()]
    pyproject = (ROOT / "pyproject.toml").read_text()
    pyproject = re.split(r"(?m)^\[tool\.mutmut\]", pyproject)[0]
    pyproject += "\n[tool.mutmut]\n" + "\n".join([
        'source_paths = ["src"]',
        f"only_mutate = {json.dumps([source])}",
        f"pytest_add_cli_args_test_selection = {json.dumps(present)}",
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x"]',
        "use_git_change_detection = false",
        'process_isolation = "forkserver"',  # forking a process that has run torch deadlocks its threads
    ]) + "\n"
    (work / "pyproject.toml").write_text(pyproject)
    return work


def _mutmut(work: Path, *args: str, log=None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the mutants must win
    env.setdefault("MPLBACKEND", "Agg")
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = "1"  # one thread per mutant: fork-safe, and --jobs sets the parallelism
    proc = subprocess.run([sys.executable, "-m", "mutmut", *args], cwd=work, env=env, text=True,
                          stdout=log or subprocess.PIPE, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        tail = "" if log else proc.stdout[-2000:]
        raise RuntimeError(f"mutmut {' '.join(args)} failed in {work} (exit {proc.returncode}){tail}")
    return proc.stdout or ""


def _changed_lines(diff: str) -> tuple[list[str], list[str]]:
    """The removed and added source lines of a unified diff, stripped."""
    removed = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    added = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    return removed, added


def function_of(mutant: str) -> str:
    """``ffnn.training.xǁEarlyStoppingǁupdate__mutmut_3`` -> ``EarlyStopping.update``."""
    name = mutant.rsplit(".", 1)[-1].rsplit("__mutmut_", 1)[0]
    if name.startswith("xǁ"):
        return ".".join(part for part in name[2:].split("ǁ") if part)
    return name[2:] if name.startswith("x_") else name


def survivor_key(module: str, mutant: str, diff: str) -> str:
    """A key for a surviving mutant that outlives mutmut's numbering: module:function:hash of the change."""
    removed, added = _changed_lines(diff)
    digest = hashlib.sha1("\n".join(removed + ["=>"] + added).encode()).hexdigest()[:10]
    return f"{module}:{function_of(mutant)}:{digest}"


_DIFFS = """
import json, sys
from mutmut.mutation.diff_apply import find_mutant, get_diff_for_mutant
names = json.loads(sys.stdin.read())
print(json.dumps({n: get_diff_for_mutant(n, path=find_mutant(n).path) for n in names}))
"""


def _diffs(work: Path, names: list[str]) -> dict[str, str]:
    """The diff of every mutant in ``names``, in one process (``mutmut show`` per mutant where that fails)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", _DIFFS], cwd=work, env=env, text=True,
                          input=json.dumps(names), capture_output=True)
    if proc.returncode == 0:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    return {n: _mutmut(work, "show", n) for n in names}  # another mutmut version: its command line


def run_module(module: str, jobs: int, collect: bool = False) -> dict:
    """Mutate one module, return and store its result (counts and survivors with diffs).

    ``collect``: do not run; read the results of a finished run left in ``build/mutation/<module>``.
    """
    work = WORK / module if collect else _workdir(module)
    start = time.perf_counter()
    if not collect:
        with open(work / "mutmut.log", "w") as log:
            _mutmut(work, "run", "--max-children", str(jobs), log=log)
    seconds = time.perf_counter() - start if not collect else (work / "mutmut.log").stat().st_mtime \
        - (work / "pyproject.toml").stat().st_mtime
    statuses = {}
    for line in _mutmut(work, "results", "--all", "true").splitlines():
        m = re.match(r"\s*(\S+__mutmut_\d+): (.+)$", line)
        if m:
            statuses[m.group(1)] = m.group(2).strip()
    survivors = []
    alive = sorted(n for n, st in statuses.items() if st not in STATUS_KILLED and st not in STATUS_SKIPPED)
    diffs = _diffs(work, alive)
    for name in alive:
        status = statuses[name]
        diff = "\n".join(ln for ln in diffs[name].splitlines() if not ln.startswith("# "))
        survivors.append(dict(name=name, status=status, key=survivor_key(module, name, diff),
                              function=function_of(name), diff=diff.strip()))
    counts = {s: sum(1 for v in statuses.values() if v == s) for s in sorted(set(statuses.values()))}
    result = dict(module=module, source=MODULES[module][0], tests=MODULES[module][1],
                  total=len(statuses), killed=sum(1 for v in statuses.values() if v in STATUS_KILLED),
                  skipped=sum(1 for v in statuses.values() if v in STATUS_SKIPPED),
                  counts=counts, survivors=survivors, seconds=round(seconds, 1),
                  source_sha1=hashlib.sha1((ROOT / MODULES[module][0]).read_bytes()).hexdigest(),
                  date=time.strftime("%Y-%m-%d"), time=time.strftime("%H:%M"))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{module}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    return result


def recheck_module(module: str, jobs: int) -> dict:
    """Re-run only the stored survivors of ``module`` against the current tests (the source unchanged).

    Mutants killed before stay killed (tests are only ever added); the survivors' statuses are replaced.
    Refuses if the source changed since the stored run (the mutant names would not match).
    """
    path = RESULTS / f"{module}.json"
    stored = json.loads(path.read_text())
    digest = hashlib.sha1((ROOT / MODULES[module][0]).read_bytes()).hexdigest()
    if stored.get("source_sha1") not in (None, digest):
        raise SystemExit(f"{module}: {MODULES[module][0]} changed since the stored run; run it in full")
    names = [s["name"] for s in stored["survivors"]]
    if not names:
        return stored
    work = _workdir(module)
    start = time.perf_counter()
    with open(work / "mutmut.log", "w") as log:
        _mutmut(work, "run", "--max-children", str(jobs), *names, log=log)
    statuses = {}
    for line in _mutmut(work, "results", "--all", "true").splitlines():
        m = re.match(r"\s*(\S+__mutmut_\d+): (.+)$", line)
        if m and m.group(1) in names:
            statuses[m.group(1)] = m.group(2).strip()
    newly = sum(1 for n in names if statuses.get(n) in STATUS_KILLED)
    stored["survivors"] = [s for s in stored["survivors"] if statuses.get(s["name"]) not in STATUS_KILLED]
    stored["killed"] += newly
    stored["rechecked"] = dict(date=time.strftime("%Y-%m-%d"), survivors=len(names), newly_killed=newly,
                               seconds=round(time.perf_counter() - start, 1))
    path.write_text(json.dumps(stored, indent=1, ensure_ascii=False) + "\n")
    return stored


# ----------------------------------------------------------------------- report


def load_notes(path: Path = NOTES) -> dict:
    """Notes on surviving mutants by key: ``{key: {"why": ..., "kind": "harmless" | "killed" | "gap"}}``."""
    if not path.exists():
        return {}
    return tomllib.loads(path.read_text()).get("mutant", {})


def score(result: dict) -> float:
    """Killed fraction of the mutants that ran (skipped ones do not count either way)."""
    tested = result["total"] - result["skipped"]
    return result["killed"] / tested if tested else 0.0


def stale(result: dict) -> bool:
    """Whether the module's source changed since its stored run (its score is then of older code)."""
    path = ROOT / result["source"]
    return bool(result.get("source_sha1")) and path.exists() and \
        hashlib.sha1(path.read_bytes()).hexdigest() != result["source_sha1"]


def _verdict(results: list[dict]) -> str:
    low = [r["module"] for r in results if score(r) < TARGET]
    old = [r["module"] for r in results if stale(r)]
    missing = [m for m in MODULES if m not in {r["module"] for r in results}]
    parts = []
    if not low and not missing:
        parts.append(f"Every core module kills at least {TARGET:.0%} of its mutants.")
    if low:
        parts.append(f"Below the {TARGET:.0%} target: {', '.join(low)}.")
    if results and not old:
        parts.append("Each score was measured on the module's current source (its SHA-1 is stored with the result).")
    if old:
        parts.append(f"Measured on an older version of the source (changed since; re-run them): {', '.join(old)}.")
    if missing:
        parts.append(f"Not measured yet: {', '.join(missing)} (run `make mutation MUTATE=\"{' '.join(missing)}\"`).")
    return " ".join(parts)


def _table(results: list[dict]) -> list[str]:
    lines = ["| module | source | mutants | killed | survived | not run | score | minutes | measured |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        survived = r["total"] - r["killed"] - r["skipped"]
        when = r["date"] + (f" {r['time']}" if r.get("time") else "") + (" (**source changed since**)" if stale(r) else "") \
            + (f", survivors rechecked {r['rechecked']['date']}" if r.get("rechecked") else "")
        lines.append(f"| {r['module']} | `{r['source']}` | {r['total']} | {r['killed']} | {survived} | "
                     f"{r['skipped']} | {score(r):.1%} | {r['seconds'] / 60:.1f} | {when} |")
    return lines


def _survivor_section(result: dict, notes: dict) -> list[str]:
    lines = [f"### {result['module']}", ""]
    if not result["survivors"]:
        return lines + ["No mutant survived.", ""]
    for s in result["survivors"]:
        note = notes.get(s["key"])
        if note is None:
            why = "**not yet explained**: add a note for this key or a test that kills it."
        elif note.get("kind") == "killed":
            why = f"**survived the stored run**; the test written for it: {note['why']} (re-run this module)."
        elif note.get("kind") == "gap":
            why = f"known gap (not equivalent; no test tells it apart yet): {note['why']}"
        else:
            why = f"harmless: {note['why']}"
        removed, added = _changed_lines(s["diff"])
        lines += [f"- `{s['key']}` ({s['status']}, in `{s['function']}`): {why}", "",
                  "  ```diff", *(f"  - {ln}" for ln in removed), *(f"  + {ln}" for ln in added), "  ```", ""]
    return lines


def _killed_notes(results: list[dict], notes: dict) -> list[str]:
    """Notes of kind "killed" whose mutant no longer survives: the test that now kills it."""
    surviving = {s["key"] for r in results for s in r["survivors"]}
    measured = {r["module"] for r in results}
    rows = [(k, n) for k, n in sorted(notes.items())
            if n.get("kind") == "killed" and k not in surviving and k.split(":")[0] in measured]
    if not rows:
        return []
    lines = ["## Mutants that survived before and are now killed", "",
             "These survived an earlier run; the named test was written for them and the latest run kills them.", ""]
    return lines + [f"- `{k}`: {n['why']}" for k, n in rows] + [""]


def _planted_section() -> list[str]:
    """The bugs ``tools/plant_bugs.py`` planted, and the test that failed for each."""
    path = RESULTS / "planted.json"
    if not path.exists():
        return []
    rows = json.loads(path.read_text())
    caught = sum(r["outcome"] == "caught" for r in rows)
    verdict = (f"All {len(rows)} planted bugs make a test fail." if caught == len(rows) else
               f"{caught} of {len(rows)} planted bugs make a test fail; the others: "
               + ", ".join(f"{r['name']} ({r['outcome']})" for r in rows if r["outcome"] != "caught") + ".")
    lines = ["## Planted bugs", "",
             "`make planted-bugs` (`tools/plant_bugs.py`) plants each bug in a scratch copy, checks that its tests",
             f"pass without it and fail with it. {verdict}", "",
             "| bug | file | outcome | first failure |", "|---|---|---|---|"]
    for r in rows:
        detail = r["detail"].replace("|", "\\|")
        lines.append(f"| {r['what']} | `{r['file']}` | {r['outcome']} | `{detail}` |")
    return lines + [""]


def kept_sections(text: str) -> list[str]:
    """The lines of each section of ``text`` headed by one of :data:`KEPT`, up to the next ``## `` heading."""
    lines, kept, keeping = text.splitlines(), [], False
    for line in lines:
        if line.startswith("## "):
            keeping = line.strip() in KEPT
        if keeping:
            kept.append(line)
    return kept


def write_report(path: Path = DOC) -> str:
    """Rebuild ``docs/testing.md`` from the stored results and the notes, keeping the sections of :data:`KEPT`."""
    kept = kept_sections(path.read_text()) if path.exists() else []
    results = [json.loads((RESULTS / f"{m}.json").read_text()) for m in MODULES if (RESULTS / f"{m}.json").exists()]
    notes = load_notes()
    unexplained = sum(1 for r in results for s in r["survivors"] if s["key"] not in notes)
    lines = [
        "# Testing ffnn",
        "",
        "<!-- generated by tools/mutation.py (make mutation); edit tools/mutation_notes.toml, not this file,",
        "     except the sections that tools/mutation.py keeps as written (KEPT): Where `make test`'s time goes -->",
        "",
        "The suite is meant to fail for the right reasons. Three kinds of tests besides the maths checks:",
        "",
        "- **Fuzzing** (Hypothesis, in `make test`): `tests/test_fuzz_idx.py` (the IDX reader),",
        "  `tests/test_fuzz_image.py` (the image loader), `tests/test_fuzz_config.py` (labels and",
        "  configuration). Every outside input ends in a `ValueError` naming the file or field.",
        "- **Behaviour tests** for what the CLI and the loop promise, in the test file of the unit they test",
        "  (a module's tests are in `tests/test_<module>.py`, its fuzzing beside it in `tests/test_fuzz_*.py`),",
        "  and `tests/test_refusals.py` (pickles in `.npz` and `.pt` are refused, never unpickled).",
        "- **Mutation testing** (mutmut, `make mutation`, too slow for `make test`): each core module is",
        "  mutated in a scratch copy and only the tests listed for it run against each mutant.",
        "",
        "## Mutation score per module",
        "",
        _verdict(results),
        "",
        *_table(results),
        "",
        "Score = killed / (mutants - not run); a timeout counts as killed; \"not run\" counts mutants mutmut skipped or had not reached when the run was collected. A module whose survivors were "
        "rechecked (`python tools/mutation.py --recheck MODULE`) ran only its survivors again after tests were "
        "added; its mutants killed before stay killed. Tests run per module:",
        "",
        *[f"- {m}: {', '.join('`' + t + '`' for t in MODULES[m][1])}" for m in MODULES],
        "",
        "## Surviving mutants",
        "",
        ("Each survivor with why it is harmless (an equivalent mutant) or what is missing. "
         + (f"{unexplained} survivor(s) have no note yet." if unexplained else "Every survivor has a note.")),
        "",
    ]
    for r in results:
        lines += _survivor_section(r, notes)
    lines += _killed_notes(results, notes)
    lines += _planted_section()
    if kept:
        lines += [""] + kept
    text = "\n".join(lines).rstrip() + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help=f"modules to mutate (default: all of {', '.join(MODULES)})")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MUTATION_JOBS", "2")),
                        help="mutants tested in parallel (default: $MUTATION_JOBS or 2)")
    parser.add_argument("--report", action="store_true", help="only rebuild docs/testing.md from stored results")
    parser.add_argument("--collect", action="store_true",
                        help="only read the results of a finished run left in build/mutation/MODULE")
    parser.add_argument("--recheck", action="store_true",
                        help="re-run only the stored survivors against the current tests (after adding tests)")
    args = parser.parse_args(argv)
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown module {unknown[0]!r}; choose from {', '.join(MODULES)}")
    if not args.report:
        for module in args.modules or list(MODULES):
            try:
                r = (recheck_module(module, args.jobs) if args.recheck else
                     run_module(module, args.jobs, collect=args.collect))
            except RuntimeError as exc:  # one module's failure (see its mutmut.log) does not stop the others
                print(f"{module}: {exc}", flush=True)
                continue
            print(f"{module}: {r['killed']}/{r['total'] - r['skipped']} killed ({score(r):.1%}), "
                  f"{len(r['survivors'])} survived, {r['seconds']:.0f} s", flush=True)
    write_report()
    print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
