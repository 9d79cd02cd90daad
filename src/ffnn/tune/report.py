"""What ``ffnn tune`` leaves in its directory: ``trials.csv``, ``tune.png`` and ``best.json``.

``trials.csv`` has one row per trial of the study (every worker's, every
machine's): number, state, the searched parameters, the epochs it ran, its
validation accuracy (the objective for a complete trial; the last reported
value for a pruned or failed one) and its seconds. It has no test column: the
test set is scored once, for the best trial, into ``best.json`` and the run
directory ``best/``.
"""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from ..atomic import atomic_write_text
from ..format import pct

__all__ = ["trial_rows", "write_trials_csv", "plot_tune", "readme_rows", "TRIALS_CSV", "BEST_JSON", "PLOT"]

TRIALS_CSV, BEST_JSON, PLOT, BEST_RUN = "trials.csv", "best.json", "tune.png", "best"
COLUMNS = ("number", "state", "learning_rate", "batch_size", "epochs", "val_accuracy", "seconds")


def _last_value(trial) -> float:
    if trial.value is not None:
        return trial.value
    steps = trial.intermediate_values
    return steps[max(steps)] if steps else math.nan


def trial_rows(study, space) -> list:
    """One dict per trial, in trial-number order, with the columns of ``trials.csv``."""
    rows = []
    for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
        seconds = (t.datetime_complete - t.datetime_start).total_seconds() if t.datetime_complete else math.nan
        rows.append({"number": t.number, "state": t.state.name,
                     "learning_rate": t.params.get("learning_rate", space.fixed_lr),
                     "batch_size": t.params.get("batch_size", space.fixed_batch_size),
                     "epochs": t.user_attrs.get("epochs", 0), "val_accuracy": _last_value(t),
                     "seconds": seconds})
    return rows


def write_trials_csv(rows: list, path) -> Path:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if isinstance(v, float) and not math.isfinite(v) else v for k, v in row.items()})
    return atomic_write_text(path, buf.getvalue())


_BATCH_COLOURS = [f"C{k}" for k in (0, 1, 2, 4, 5, 6, 7, 8, 9)]  # C3, red, marks pruned and failed trials


def _scatter_stopped(ax, rows, x_key, floor) -> None:
    """Pruned and failed trials at their last reported accuracy; those below the axis on it, as ``v``."""
    for below, marker, label in ((False, "x", "pruned or failed (last epoch run)"),
                                 (True, "v", "pruned or failed, below the axis")):
        sel = [r for r in rows if (100 * r["val_accuracy"] < floor) == below]
        if sel:
            ax.scatter([r[x_key] for r in sel], [max(100 * r["val_accuracy"], floor) for r in sel],
                       marker=marker, color="C3", label=label)


def plot_tune(rows: list, path, title: str) -> Path:
    """Validation accuracy against learning rate and batch size, and the best value over trials.

    The accuracy axes start a point below the worst complete trial, so that
    a collapsed trial (10%) does not squash the ones that matter.
    """
    from matplotlib.figure import Figure  # only here: ffnn tune imports this module before it plots

    from ..plots import save_png

    fig = Figure(figsize=(13.5, 4.0))
    ax_lr, ax_bs, ax_best = fig.subplots(1, 3)
    done = [r for r in rows if math.isfinite(r["val_accuracy"])]
    complete = [r for r in done if r["state"] == "COMPLETE"]
    stopped = [r for r in done if r["state"] != "COMPLETE"]
    acc = [100 * r["val_accuracy"] for r in complete]
    floor = min(acc or [100 * r["val_accuracy"] for r in done] or [1.0]) - 1.0
    sizes = sorted({r["batch_size"] for r in done})
    for i, b in enumerate(sizes):
        sel = [r for r in complete if r["batch_size"] == b]
        if sel:
            ax_lr.scatter([r["learning_rate"] for r in sel], [100 * r["val_accuracy"] for r in sel],
                          color=_BATCH_COLOURS[i % len(_BATCH_COLOURS)], label=f"batch {b}")
    if complete:
        ax_bs.scatter([r["batch_size"] for r in complete], acc, color="C0", label="complete")
    for ax, key in ((ax_lr, "learning_rate"), (ax_bs, "batch_size")):
        _scatter_stopped(ax, stopped, key, floor)
        ax.set_ylim(bottom=floor - 0.3)
    ax_lr.set_xscale("log")
    ax_lr.set(xlabel="learning rate", ylabel="validation accuracy (%)", title="accuracy against learning rate")
    ax_bs.set_xscale("log", base=2)
    if sizes:
        ax_bs.set_xticks(sizes, [str(b) for b in sizes])
        ax_bs.minorticks_off()
    ax_bs.set(xlabel="batch size", ylabel="validation accuracy (%)", title="accuracy against batch size")
    if complete:
        numbers = [r["number"] for r in complete]
        ax_best.scatter(numbers, acc, color="C0", s=12, label="complete trial")
        ax_best.step(numbers, np.maximum.accumulate(acc), where="post", color="C1", label="best so far")
    ax_best.set(xlabel="trial", ylabel="validation accuracy (%)", title="best value over trials")
    for ax in (ax_lr, ax_bs, ax_best):
        if ax.has_data():
            ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    return save_png(fig, path)


def readme_rows(dirs) -> str:
    """The README's table of tuned settings: one Markdown row per ``ffnn tune`` directory in ``dirs``."""
    import json

    lines = ["| backend | loss | trials (complete, pruned) | epochs | batch | learning rate "
             "| validation accuracy | test accuracy (once) | search time |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for out in map(Path, dirs):
        best = json.loads((out / BEST_JSON).read_text())
        with open(out / TRIALS_CSV, newline="") as fh:
            rows = list(csv.DictReader(fh))
        config, counts = best["config"], best["trials"]  # both formats of best.json hold the TrainConfig
        seconds = sum(float(r["seconds"]) for r in rows if r["seconds"])
        lines.append(f"| {best['backend']} | {config['loss']} | {len(rows)} ({counts.get('complete', 0)}, "
                     f"{counts.get('pruned', 0)}) | {config['epochs']} | {config['batch_size']} "
                     f"| {config['learning_rate']:.3g} "
                     f"| {pct(best['val_accuracy'])} | {pct(best['test_accuracy'])} "
                     f"| {seconds / 60:.0f} min |")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    print(readme_rows(sys.argv[1:]))
