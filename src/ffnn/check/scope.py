"""``submission.scope``: the classes keep the template's names, constructor signatures and methods.

Read from the source with :mod:`ast`, never run: a file that does not parse
is reported with its syntax error, and nothing of the team's code executes in
the checking process.
"""
from __future__ import annotations

import ast
import threading
from pathlib import Path

from .result import Check

__all__ = ["INTERFACE", "check_scope"]

#: ``part -> {file: {class or "" for module functions: (constructor parameters, required methods)}}``.
INTERFACE = {
    "scratch": {
        "network_scratch.py": {
            "NeuralNetwork": (("layer_shapes", "epochs", "learning_rate", "random_state"),
                              ("_forward_pass", "_backward_pass", "_update_weights", "predict", "fit",
                               "compute_accuracy")),
        },
        "utils.py": {"": ((), ("sigmoid", "sigmoid_deriv", "softmax", "softmax_deriv", "mse", "mse_deriv"))},
    },
    "torch": {
        "network_pytorch.py": {
            "NeuralNetworkTorch": (("sizes", "epochs", "learning_rate", "random_state"),
                                   ("_forward_pass", "_backward_pass", "_update_weights", "predict", "fit",
                                    "compute_accuracy")),
        },
    },
    "tf": {
        "network_tensorflow.py": {
            "NeuralNetworkTf": (("sizes", "random_state"), ("compile_and_fit",)),
            "TimeBasedLearningRate": (("initial_learning_rate",), ("__call__",)),
        },
    },
}


#: CPython 3.11's parser keeps its recursion-depth count per interpreter, not per
#: thread: two threads parsing at once (``ffnn check --jobs 2``) can fail with
#: "SystemError: AST constructor recursion depth mismatch" (CPython issue 106905;
#: CI hit it in tests/test_check_submissions.py). Parsing takes milliseconds, so one
#: parse at a time costs nothing.
_PARSE_LOCK = threading.Lock()


def _names(body) -> dict:
    """``name -> node`` of the functions, classes and assignments at one level."""
    found = {}
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    found[t.id] = node
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                found[(alias.asname or alias.name).split(".")[0]] = node
    return found


def _parameters(func) -> tuple:
    args = func.args
    return tuple(a.arg for a in [*args.posonlyargs, *args.args][1:])


def _file_problems(path: Path, classes: dict) -> list:
    source = path.read_text(encoding="utf-8", errors="replace")
    with _PARSE_LOCK:
        tree = ast.parse(source, filename=path.name)
    top = _names(tree.body)
    problems = []
    for name, (params, methods) in classes.items():
        if name == "":
            missing = [m for m in methods if m not in top]
            if missing:
                problems.append(f"{path.name} lacks {', '.join(missing)}")
            continue
        node = top.get(name)
        if not isinstance(node, ast.ClassDef):
            problems.append(f"{path.name} has no class {name}")
            continue
        members = _names(node.body)
        init = members.get("__init__")
        if isinstance(init, ast.FunctionDef):
            got = _parameters(init)
            if got[:len(params)] != params:
                problems.append(f"{name}.__init__ takes ({', '.join(got)}), the template's takes "
                                f"({', '.join(params)})")
        missing = [m for m in methods if m not in members]
        # A method may come from a base class the team wrote in the same file.
        for base in node.bases:
            if isinstance(base, ast.Name) and isinstance(top.get(base.id), ast.ClassDef):
                inherited = _names(top[base.id].body)
                missing = [m for m in missing if m not in inherited]
        if missing:
            problems.append(f"{name} lacks the method{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    return problems


def check_scope(folder, parts) -> Check:
    """The ``submission.scope`` check for the code files of ``parts``."""
    folder = Path(folder)
    files = {f: classes for p in parts if p in INTERFACE for f, classes in INTERFACE[p].items()}
    if not files:
        return Check("submission.scope", "skip", "no code part was asked for, so the code was not read")
    problems, unreadable, checked = [], [], []
    for file, classes in files.items():
        path = folder / file
        if not path.is_file():
            problems.append(f"{file} is missing")
            continue
        try:
            problems += _file_problems(path, classes)
            checked.append(file)
        except SyntaxError as exc:
            unreadable.append(f"{file} does not parse: {exc.msg} (line {exc.lineno})")
        except (OSError, ValueError) as exc:
            unreadable.append(f"{file} could not be read: {exc}")
    evidence = {"files": checked, "problems": problems + unreadable}
    if problems:
        return Check("submission.scope", "fail",
                     "the submission does not keep the template's interface: " + "; ".join(problems),
                     evidence, hint="keep the template's class names, constructor parameters and methods: "
                                    "the notebook and the course's tests call them by these names")
    if unreadable:
        return Check("submission.scope", "error", "; ".join(unreadable), evidence)
    return Check("submission.scope", "pass",
                 f"the classes keep the template's names, constructor signatures and methods "
                 f"({', '.join(checked)})", evidence)
