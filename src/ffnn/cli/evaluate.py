"""``ffnn evaluate``: test accuracy, per-class precision/recall and confusion matrix of saved runs."""
from __future__ import annotations

import json

import numpy as np

from .output import every, pct


def add_arguments(p) -> None:
    p.add_argument("run_dir", metavar="RUN_DIR",
                   help="a run directory written by ffnn train, or a comparison directory written by ffnn "
                        "compare (then every backend's run, side by side)")
    p.add_argument("--json", action="store_true",
                   help="print the metrics as JSON, keyed by backend for a comparison (default: a report)")


def class_label(row: dict) -> str:
    """``"7"`` for a class named by its number, ``"7 Sneaker"`` for a named one."""
    return str(row["class"]) if row["name"] == str(row["class"]) else f"{row['class']} {row['name']}"


def _print_evaluation(m: dict) -> None:
    """One run's report: test accuracy, per-class precision and recall, confusion matrix."""
    print(f"{m['run_dir']} ({m['backend']}): test accuracy {pct(m['test_accuracy'])} on {m['n_test']} "
          f"images, cross-entropy {m['test_loss']:.4f}")
    labels = [class_label(row) for row in m["per_class"]]
    w = max(5, *map(len, labels)) + 1
    print(f"\n{'class':<{w}}{'precision':>10}{'recall':>9}{'support':>9}")
    for label, row in zip(labels, m["per_class"]):
        print(f"{label:<{w}}{pct(row['precision']):>10}{pct(row['recall']):>9}{row['support']:>9}")
    cm = np.asarray(m["confusion_matrix"])
    print("\nconfusion matrix (rows: true class, columns: predicted class by number)")
    print(" " * w + "".join(f"{j:>6}" for j in range(len(cm))))
    for label, row in zip(labels, cm):
        print(f"{label:<{w}}" + "".join(f"{v:>6}" for v in row))


def accuracy_sentence(results: dict) -> str:
    """What the accuracies of a comparison say, chosen from them."""
    acc = {name: r["test_accuracy"] for name, r in results.items()}
    best, worst = max(acc, key=acc.get), min(acc, key=acc.get)
    if len(acc) == 1:
        return f"One backend: {best} reaches {pct(acc[best])}."
    if round(100 * acc[best], 2) == round(100 * acc[worst], 2):
        return f"{every(len(acc))} reach the same test accuracy, {pct(acc[best])}."
    return (f"Highest test accuracy: {best} ({pct(acc[best])}); lowest: {worst} ({pct(acc[worst])}), "
            f"{100 * (acc[best] - acc[worst]):.2f} points lower.")


def _print_side_by_side(path, results: dict) -> None:
    """A comparison's backends in columns: test accuracy, cross-entropy and the recall of every class."""
    rows = next(iter(results.values()))["per_class"]
    labels = [class_label(row) for row in rows]
    w = max(16, 3 + max(map(len, labels)))
    cw = max(12, *(len(name) + 2 for name in results))
    n_test = sorted({r["n_test"] for r in results.values()})
    print(f"{path}: {len(results)} backends, scored on the {' / '.join(map(str, n_test))} test images\n")
    print(f"{'':<{w}}" + "".join(f"{name:>{cw}}" for name in results))
    print(f"{'test accuracy':<{w}}" + "".join(f"{pct(r['test_accuracy']):>{cw}}" for r in results.values()))
    print(f"{'cross-entropy':<{w}}" + "".join(f"{r['test_loss']:>{cw}.4f}" for r in results.values()))
    print("recall of class")
    for i, label in enumerate(labels):
        print(f"  {label:<{w - 2}}" + "".join(f"{pct(r['per_class'][i]['recall']):>{cw}}"
                                             for r in results.values()))
    print(f"\n{accuracy_sentence(results)}")


def run(args) -> int:
    from ..experiment import evaluate_runs
    from ..runs import open_runs

    comparison, runs = open_runs(args.run_dir)
    results = evaluate_runs(runs)
    if args.json:
        print(json.dumps(results if comparison else next(iter(results.values())), indent=2))
    elif comparison:
        _print_side_by_side(args.run_dir, results)
    else:
        _print_evaluation(next(iter(results.values())))
    return 0
