"""The import graph of ``src/ffnn`` keeps the layers of docs/architecture.md.

Every module is parsed with :mod:`ast` (nothing is imported), and every
``import`` statement counts, at module level or inside a function: a lazy
import still ties two modules together. ``from . import x`` is an edge to the
submodule ``x`` if there is one, else to the package (its ``__init__``).

Checked: no import cycle inside ``ffnn``; nothing outside ``ffnn/cli/``
imports ``ffnn.cli``; no module imports another module's ``_private`` name;
every module imports only from its own layer or the layers below it. And in
``tests/``: no test file imports another (shared helpers live in ``tests/helpers/``), and collecting
the tests imports no framework.
"""
import ast
import json
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

#: The layers of docs/architecture.md, bottom up, by module or package (a package covers its submodules).
#: A module may import from its own layer and from the layers below.
LAYERS = (
    ("base", ("ffnn.errors", "ffnn.atomic", "ffnn.format")),
    ("data", ("ffnn.data", "ffnn.datasets", "ffnn.imaging")),
    ("core", ("ffnn", "ffnn.config", "ffnn.functional", "ffnn.schedules", "ffnn.weights", "ffnn.history",
              "ffnn.training", "ffnn.dynamics", "ffnn.diagnosis", "ffnn.lrfind", "ffnn.metrics", "ffnn.progress")),
    ("backends", ("ffnn.backends",)),
    ("services", ("ffnn.experiment", "ffnn.runs", "ffnn.plots", "ffnn.inspect", "ffnn.tune", "ffnn.web",
                  "ffnn.theory", "ffnn.bench", "ffnn.check")),
    ("cli", ("ffnn.cli",)),
)


def _modules() -> dict:
    """``{"ffnn.tune.search": (path, is_package)}`` for every module under src/ffnn."""
    modules = {}
    for path in sorted((SRC / "ffnn").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return modules


MODULES = _modules()


def _imports(name: str) -> list:
    """``(target module, imported name or None, line)`` for every import of an ffnn module in ``name``."""
    path, is_package = MODULES[name]
    here = name if is_package else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(a.name, None, node.lineno) for a in node.names if a.name.split(".")[0] == "ffnn"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                target = ".".join(p for p in (base, node.module) if p)
            else:
                target = node.module or ""
                if target.split(".")[0] != "ffnn":
                    continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.append((sub, None, node.lineno) if sub in MODULES else (target, alias.name, node.lineno))
    return found


GRAPH = {name: _imports(name) for name in MODULES}


def _layer(name: str) -> int:
    best = None
    for rank, (_, owners) in enumerate(LAYERS):
        for owner in owners:
            if name == owner or name.startswith(owner + ".") and owner != "ffnn":
                if best is None or len(owner) > best[1]:
                    best = (rank, len(owner))
    if best is None:
        raise AssertionError(f"{name} belongs to no layer: add it to LAYERS in tests/test_architecture.py "
                             f"and to docs/architecture.md")
    return best[0]


def _cycles(edges: dict) -> list:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def _edges() -> dict:
    return {name: sorted({t for t, _, _ in imports if t in MODULES and t != name})
            for name, imports in GRAPH.items()}


def test_the_graph_sees_every_kind_of_import():
    """The parser itself: absolute, relative, function-level and package imports all become edges."""
    edges = _edges()
    assert "ffnn.config" in edges["ffnn.experiment"]          # module level, relative
    assert "ffnn.backends" in edges["ffnn.experiment"]        # inside a function
    assert "ffnn" in edges["ffnn.experiment"]                 # from . import __version__: the package
    assert "ffnn.data" in edges["ffnn"]                       # a package's __init__ imports
    assert _cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]


def test_no_import_cycle_inside_ffnn():
    cycles = _cycles(_edges())
    assert not cycles, "import cycles (each a set of modules that import each other): " + "; ".join(
        " <-> ".join(c) for c in cycles)


def test_nothing_outside_the_cli_imports_it():
    bad = [f"{name} (line {line}) imports {target}" for name, imports in GRAPH.items()
           if not (name == "ffnn.cli" or name.startswith("ffnn.cli."))
           for target, _, line in imports if target == "ffnn.cli" or target.startswith("ffnn.cli.")]
    assert not bad, "; ".join(bad)


def test_no_module_imports_another_modules_private_name():
    bad = [f"{name} (line {line}) imports {attr} from {target}" for name, imports in GRAPH.items()
           for target, attr, line in imports
           if attr and attr.startswith("_") and not attr.startswith("__") and target != name]
    assert not bad, "; ".join(bad)


def test_imports_go_down_the_layers():
    bad = [f"{name} ({LAYERS[_layer(name)][0]}) imports {target} ({LAYERS[_layer(target)][0]}, line {line})"
           for name, imports in GRAPH.items() for target, _, line in imports
           if target in MODULES and _layer(target) > _layer(name)]
    assert not bad, "imports from a higher layer: " + "; ".join(bad)


def test_no_test_file_imports_another():
    """What tests share lives in tests/helpers/ or conftest.py, never in another test file."""
    tests = Path(__file__).resolve().parent
    names = {p.stem for p in tests.glob("*.py")} - {"conftest"}
    bad = []
    for path in sorted(tests.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                found = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                found = [node.module or ""]
            else:
                continue
            bad += [f"{path.name} (line {node.lineno}) imports {m}" for m in found
                    if m.split(".")[0] in names or m.split(".")[0] == "tests"]
    assert not bad, "; ".join(bad)


def test_collecting_the_tests_imports_no_framework(collection):
    """PyTorch and TensorFlow take seconds to import; each worker of ``make test`` collects every file.

    In a session that collected every test file, what the collection left in ``sys.modules`` (noted
    before any test ran) is checked; otherwise every file is collected again in a fresh interpreter.
    """
    frameworks, imported, files = collection
    tests = Path(__file__).resolve().parent
    if not set(tests.glob("test_*.py")) <= files:
        script = ("import json, sys, pytest; pytest.main(['--collect-only', '-q', '-p', 'no:cacheprovider', "
                  f"{str(tests)!r}]); print(json.dumps(sorted(m for m in {frameworks!r} if m in sys.modules)))")
        done = subprocess.run([sys.executable, "-c", script], cwd=tests.parent, capture_output=True, text=True,
                              timeout=300)
        imported = json.loads(done.stdout.splitlines()[-1])
    assert imported == [], (f"collecting the tests imported {', '.join(imported)}: import frameworks inside "
                            f"the fixtures and tests that use them (see tests/test_parity.py)")
