"""The notebook part of ``ffnn check``: what a team's saved ``MNIST_classification.ipynb`` shows.

The problem set asks the notebook to show (a) training and validation
accuracy per epoch as a plot for each network, (b) the printed per-epoch
progress, and (c) a comment at the top with the team number and the members'
names and matriculation numbers. All three are read from the outputs saved in
the file (nbformat); the notebook is never executed, so nothing a team wrote
runs here, and a notebook saved without running it shows no outputs.

Which network a cell belongs to is read from the notebook itself: a markdown
heading that names one network (``## PyTorch``) opens its part; a code cell
that mentions a network's class, module or framework (``NeuralNetworkTorch``,
``network_tensorflow``, ``torch``, ``keras``), or a variable assigned from one
(``net = NeuralNetworkTorch(...)``, ``history = net.fit(...)``), belongs to
that network. Progress lines no part claims are placed by their format: the
template's ``Epoch: N, Training Time: ...`` (scratch), ``Epoch: N, Learning
Rate: ...`` (torch) and Keras's ``Epoch N/M`` followed by ``accuracy: ...``.

Names are personal data: the team check reports only whether each piece is
present, never the text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..diagnosis import RULES
from .result import Check

__all__ = ["NOTEBOOK", "CHECK_IDS", "NETWORKS", "check_notebook", "epoch_records", "terminal_lines"]

NOTEBOOK = "MNIST_classification.ipynb"
CHECK_IDS = ("notebook.plots", "notebook.progress", "notebook.team")
NETWORKS = ("scratch", "torch", "tf")
MAX_BYTES = 64 << 20  # a notebook with fifty plots is a few MB; a bigger file is not read
N_CLASSES = 10
#: A run "sat near chance" when its last accuracy is at most this many times chance: the same
#: threshold as the training diagnosis rule ``chance-accuracy`` (so both say "near chance" alike).
NEAR_CHANCE = next(rule.threshold for rule in RULES if rule.code == "chance-accuracy")

_IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")

# What marks a cell as one network's. Headings are matched on words; code on names.
_HEADING_WORDS = {
    "scratch": re.compile(r"scratch|numpy", re.I),
    "torch": re.compile(r"pytorch|\btorch\b", re.I),
    "tf": re.compile(r"tensorflow|keras|\btf\b", re.I),
}
_CODE_NAMES = {
    "scratch": re.compile(r"\bNeuralNetwork\b|\bnetwork_scratch\b"),
    "torch": re.compile(r"\bNeuralNetworkTorch\b|\bnetwork_pytorch\b|\btorch\b"),
    "tf": re.compile(r"\bNeuralNetworkTf\b|\bnetwork_tensorflow\b|\btensorflow\b|\bkeras\b|\btf\."
                     r"|\bTimeBasedLearningRate\b"),
}
_CLASS_OF = {"NeuralNetwork": "scratch", "NeuralNetworkTorch": "torch", "NeuralNetworkTf": "tf"}
_MAKE = re.compile(r"^\s*(\w+)\s*=\s*(?:[\w.]+\.)?(NeuralNetwork(?:Torch|Tf)?)\s*\(", re.M)
_FIT = re.compile(r"^\s*(\w+)\s*=\s*(\w+)\.(?:compile_and_fit|fit)\s*\(", re.M)

# Progress lines. A number, then an optional percent sign.
_NUM = r"([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(%?)"
_EPOCH = re.compile(r"^\s*epoch\s*:?\s*(\d+)(?:\s*/\s*(\d+))?", re.I)
_VAL_ACC = re.compile(r"\bval(?:idation)?[ _]?(?:categorical_)?acc(?:uracy)?\s*[:=]\s*" + _NUM, re.I)
_TRAIN_ACC = re.compile(r"(?:\btrain(?:ing)?[ _]?|\bcategorical_|(?<!\w))acc(?:uracy)?\s*[:=]\s*" + _NUM, re.I)

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

# The team comment.
_TEAM = re.compile(r"\b(?:team|group|gruppe)\b[^\n\d]{0,24}?(?<!\d)\d{1,3}(?!\d)", re.I)
_MATRICULATION = re.compile(r"(?<![\d.])\d{5,9}(?![\d.])")
_NAME_KEY = re.compile(r"\b(?:names?|members?|students?|authors?|mitglieder|studierende)\b", re.I)
_WORD = re.compile(r"[^\W\d_]{2,}(?:[-'][^\W\d_]+)*")
_NOT_A_NAME = frozenset("""
    team group gruppe name names member members student students author authors mitglieder studierende
    matriculation matrikel matrikelnummer matrikelnr matr mat nr no number numbers num id and und or the of
    by is are our we in mnist classification notebook exercise assignment task problem set
""".split())


@dataclass
class _Cell:
    index: int
    kind: str
    networks: frozenset = frozenset()
    images: int = 0
    text: str = ""          # what the cell printed (streams and plain-text results), as a terminal shows it
    has_outputs: bool = False


@dataclass
class _Notebook:
    cells: list = field(default_factory=list)


# ------------------------------------------------------------------ reading


def terminal_lines(text: str) -> list:
    """The lines a terminal would show for ``text``: ``\\r`` returns to the line's start, ``\\b`` steps back.

    Progress bars (Keras 2 in a notebook) rewrite one line many times with these
    characters; what stays is what the line finally shows. Colour and bold
    escape sequences (Keras 3's bar) are dropped.
    """
    lines = []
    for raw in _ANSI.sub("", text).split("\n"):
        line, pos = [], 0
        for ch in raw:
            if ch == "\r":
                pos = 0
            elif ch == "\b":
                pos = max(0, pos - 1)
            else:
                if pos < len(line):
                    line[pos] = ch
                else:
                    line.append(ch)
                pos += 1
        lines.append("".join(line))
    return lines


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _outputs(cell):
    outputs = cell.get("outputs") or []
    return [o for o in outputs if isinstance(o, dict)]


def _printed(outputs) -> str:
    parts = []
    for out in outputs:
        if out.get("output_type") == "stream":
            text = out.get("text", "")
            parts.append("".join(text) if isinstance(text, list) else str(text))
        elif out.get("output_type") in ("execute_result", "display_data"):
            plain = (out.get("data") or {}).get("text/plain", "")
            parts.append(("".join(plain) if isinstance(plain, list) else str(plain)) + "\n")
    return "".join(parts)


def _images(outputs) -> int:
    return sum(1 for out in outputs
               if out.get("output_type") in ("execute_result", "display_data")
               and any(kind in (out.get("data") or {}) for kind in _IMAGE_TYPES))


def _heading_networks(markdown: str):
    """The networks the markdown's headings name, or None when it has no heading."""
    headings = [line for line in markdown.splitlines() if line.lstrip().startswith("#")]
    if not headings:
        return None
    return frozenset(n for n, words in _HEADING_WORDS.items() if any(words.search(h) for h in headings))


def _parse(nb) -> _Notebook:
    """Each cell with the network(s) it belongs to, its images and its printed text."""
    parsed = _Notebook()
    current = frozenset()     # the part the last heading (or single-network cell) opened
    variables = {}            # name -> network, for names assigned from a network or its fit()
    for index, cell in enumerate(nb.get("cells") or []):
        if not isinstance(cell, dict):
            continue
        kind, source = cell.get("cell_type", ""), _source(cell)
        if kind == "markdown":
            named = _heading_networks(source)
            if named is not None and (named or _is_new_section(source)):
                current = named
            parsed.cells.append(_Cell(index, kind, current))
            continue
        if kind != "code":
            parsed.cells.append(_Cell(index, kind, current))
            continue
        for name, cls in _MAKE.findall(source):
            variables[name] = _CLASS_OF[cls]
        for name, receiver in _FIT.findall(source):
            if receiver in variables:
                variables[name] = variables[receiver]
        named = {n for n, pattern in _CODE_NAMES.items() if pattern.search(source)}
        named |= {net for name, net in variables.items() if re.search(rf"\b{re.escape(name)}\b", source)}
        networks = frozenset(named) if named else current
        if len(named) == 1:
            current = frozenset(named)
        outputs = _outputs(cell)
        parsed.cells.append(_Cell(index, kind, networks, _images(outputs), _printed(outputs), bool(outputs)))
    return parsed


def _is_new_section(markdown: str) -> bool:
    """A top-level or second-level heading that names no network ends the current network's part."""
    return any(re.match(r"\s*#{1,2}\s", line) for line in markdown.splitlines())


# ------------------------------------------------------------------ progress


def _fraction(value: str, percent: str) -> float:
    x = float(value)
    return x / 100 if percent or x > 1 else x


def _format_of(line: str) -> str | None:
    """The network whose template prints an ``Epoch: N, ...`` line this way."""
    if re.search(r"training\s+time", line, re.I):
        return "scratch"
    if re.search(r"learning\s+rate", line, re.I):
        return "torch"
    return None


def epoch_records(text: str) -> list:
    """Per-epoch accuracies printed in ``text``: a list of ``{"epoch", "accuracy", "val_accuracy", "format"}``.

    Understands the template's ``Epoch: N, Training Time: 1.2s, Training
    Accuracy: 91.20%, Validation Accuracy: 90.10%``, the torch template's
    ``Epoch: N, Learning Rate: ..., Training Accuracy: ...`` and Keras's
    ``Epoch N/M`` line followed by ``... loss: ... accuracy: 0.91 ...
    val_accuracy: 0.90`` (the epoch's last such line counts; a line without
    ``val_accuracy`` after one with it is ``evaluate()``'s, and ends the
    run). Accuracies are fractions (``91.2%`` and ``0.912`` both give
    0.912); ``val_accuracy`` is None when not printed; ``format`` is the
    network whose template prints the line this way, or None.
    """
    records, pending = [], None   # pending: the epoch of a Keras "Epoch N/M" line, waiting for its metrics
    for line in terminal_lines(text):
        epoch = _EPOCH.match(line)
        val = _VAL_ACC.search(line)
        # Blank out validation matches first, so "Validation Accuracy: 90%" is not read as a training one.
        rest = _VAL_ACC.sub(lambda m: " " * len(m.group(0)), line)
        train = _TRAIN_ACC.search(rest)
        if epoch and not train:
            pending = int(epoch.group(1))
            continue
        if not train:
            continue
        record = {"accuracy": _fraction(*train.groups()),
                  "val_accuracy": _fraction(*val.groups()) if val else None}
        if epoch:
            records.append({"epoch": int(epoch.group(1)), **record, "format": _format_of(line)})
            pending = None
            continue
        if pending is None or not re.search(r"\bloss\s*:", line):
            continue  # an accuracy printed outside an epoch's progress (a test accuracy, a summary)
        last = records[-1] if records else None
        if last and last["format"] == "tf" and last["epoch"] == pending:
            if last["val_accuracy"] is not None and record["val_accuracy"] is None:
                pending = None  # evaluate() printed after the last epoch: not an epoch
                continue
            records[-1] = {**last, **record}  # the progress bar printed the epoch again: the last line counts
        else:
            records.append({"epoch": pending, **record, "format": "tf"})
    return records


def _last_run(records: list) -> list:
    """The records of the last training run: a run restarts when the epoch number does not grow."""
    start = 0
    for i in range(1, len(records)):
        if records[i]["epoch"] <= records[i - 1]["epoch"]:
            start = i
    return records[start:]


def _progress_by_network(parsed: _Notebook) -> tuple:
    by_network = {n: [] for n in NETWORKS}
    unplaced = 0
    for cell in parsed.cells:
        if not cell.text:
            continue
        for record in epoch_records(cell.text):
            owner = None
            if len(cell.networks) == 1:
                owner = next(iter(cell.networks))
            elif record["format"] and (not cell.networks or record["format"] in cell.networks):
                owner = record["format"]
            if owner is None:
                unplaced += 1
            else:
                by_network[owner].append(record)
    return by_network, unplaced


# ------------------------------------------------------------------ the three checks


def _plots(parsed: _Notebook) -> Check:
    images = {n: 0 for n in NETWORKS}
    for cell in parsed.cells:
        for network in cell.networks:
            images[network] += cell.images
    total = sum(cell.images for cell in parsed.cells)
    evidence = {"images_per_network": images, "images_in_notebook": total}
    missing = [n for n in NETWORKS if images[n] == 0]
    if not missing:
        return Check("notebook.plots", "pass",
                     "the notebook shows a plot in each network's part ("
                     + ", ".join(f"{n}: {images[n]}" for n in NETWORKS) + ")", evidence)
    if not any(cell.has_outputs for cell in parsed.cells):
        message = "the notebook has no saved outputs at all: it was saved without running its cells"
    elif total == 0:
        message = "the notebook shows no plot at all"
    else:
        message = (f"no plot in the {_join(missing)} part of the notebook "
                   f"({total} plot{'s' if total != 1 else ''} elsewhere)")
    return Check("notebook.plots", "fail", message, evidence,
                 hint="plot training and validation accuracy per epoch for each of the three networks "
                      "(e.g. plt.plot(history['accuracy']) and plt.plot(history['val_accuracy'])), "
                      "run all cells and save the notebook with its outputs")


def _progress(parsed: _Notebook) -> Check:
    by_network, unplaced = _progress_by_network(parsed)
    evidence, notes, near, no_val = {}, [], [], []
    for network in NETWORKS:
        run = _last_run(by_network[network])
        if not run:
            evidence[network] = None
            continue
        last = run[-1]
        vals = [r["val_accuracy"] for r in run if r["val_accuracy"] is not None]
        final = last["val_accuracy"] if last["val_accuracy"] is not None else last["accuracy"]
        which = "validation" if last["val_accuracy"] is not None else "training"
        evidence[network] = {"epochs": len(run), "final_accuracy": round(last["accuracy"], 4),
                             "final_val_accuracy": None if last["val_accuracy"] is None
                             else round(last["val_accuracy"], 4),
                             "best_val_accuracy": round(max(vals), 4) if vals else None}
        if not vals:
            no_val.append(network)
        if len(run) >= 2 and final <= NEAR_CHANCE / N_CLASSES:
            best = max(vals) if vals else max(r["accuracy"] for r in run)
            note = (f"the team's own {network} run sat near chance ({which} accuracy {final:.1%} "
                    f"after {len(run)} epochs, chance is {1 / N_CLASSES:.0%}")
            if best > 2 * NEAR_CHANCE / N_CLASSES:
                note += f", after reaching {best:.1%}"
            notes.append(note + f"; see the {network} checks)")
            near.append(network)
    evidence["near_chance"] = near
    evidence["unplaced_epoch_lines"] = unplaced
    printed = [n for n in NETWORKS if evidence[n] is not None]
    missing = [n for n in NETWORKS if evidence[n] is None]
    tail = ""
    if no_val:
        tail += f"; no validation accuracy printed for {_join(no_val)}"
    if notes:
        tail += "; note: " + "; ".join(notes)
    if not missing:
        summary = ", ".join(f"{n} {evidence[n]['epochs']} epochs" for n in NETWORKS)
        return Check("notebook.progress", "pass", f"per-epoch progress is printed for every network ({summary})"
                     + tail, evidence)
    found = f" (found for {_join(printed)})" if printed else ""
    return Check("notebook.progress", "fail",
                 f"no printed per-epoch progress for {_join(missing)}{found}" + tail, evidence,
                 hint="keep the printed training output in the notebook: fit() prints one line per epoch with "
                      "training and validation accuracy; run all cells and save the notebook with its outputs")


def _comment_text(cell: dict) -> str:
    """A markdown or raw cell's text; a code cell's leading comment block (its ``#`` lines before any code)."""
    source = _source(cell)
    if cell.get("cell_type") != "code":
        return source
    lines = []
    for line in source.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            break
        lines.append(line.lstrip()[1:])
    return "\n".join(lines)


def _team_parts(text: str) -> dict:
    matriculation = set(_MATRICULATION.findall(text))
    has_names = False
    for line in text.splitlines():
        if _MATRICULATION.search(line) or _NAME_KEY.search(line):
            words = [w for w in _WORD.findall(line) if w.lower() not in _NOT_A_NAME]
            has_names = has_names or bool(words)
    return {"team_number": bool(_TEAM.search(text)), "names": has_names,
            "matriculation_numbers": len(matriculation)}


def _team(nb) -> Check:
    cells = [c for c in (nb.get("cells") or []) if isinstance(c, dict)]
    # The top: every cell before the first code cell, and that code cell's leading comments.
    first_code = next((i for i, c in enumerate(cells) if c.get("cell_type") == "code"), len(cells) - 1)
    top = _team_parts("\n".join(_comment_text(c) for c in cells[:first_code + 1]))
    evidence = dict(top)
    complete = top["team_number"] and top["names"] and top["matriculation_numbers"] > 0
    if complete:
        return Check("notebook.team", "pass",
                     f"the top of the notebook names the team number, the members' names and "
                     f"{top['matriculation_numbers']} matriculation number"
                     f"{'s' if top['matriculation_numbers'] != 1 else ''}", evidence)
    missing = [label for key, label in (("team_number", "the team number"), ("names", "the members' names"),
                                        ("matriculation_numbers", "matriculation numbers")) if not top[key]]
    message = f"the comment at the top of the notebook lacks {_join(missing)}"
    for i, cell in enumerate(cells[first_code + 1:], start=first_code + 1):
        later = _team_parts(_comment_text(cell))
        if later["team_number"] and later["names"] and later["matriculation_numbers"]:
            evidence["found_in_cell"] = i
            message += f"; cell {i} has them: move that comment to the top"
            break
    return Check("notebook.team", "fail", message, evidence,
                 hint="start the notebook with a comment (a markdown cell or # lines in the first cell) "
                      "giving the team number and, for each member, the name and matriculation number")


def _join(items) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _all(status: str, message: str, evidence: dict, hint: str | None = None) -> list:
    return [Check(check_id, status, message, dict(evidence), hint) for check_id in CHECK_IDS]


def check_notebook(folder) -> list:
    """The checks ``notebook.plots``, ``notebook.progress`` and ``notebook.team`` for a submission folder.

    Reads ``folder/MNIST_classification.ipynb`` without executing it. A
    missing notebook fails all three (it is part of the hand-in); a file that
    is not a readable notebook makes all three ``error`` with the reason.
    """
    path = Path(folder) / NOTEBOOK
    if not path.is_file():
        return _all("fail", f"{NOTEBOOK} is missing from the submission", {"file": NOTEBOOK},
                    hint=f"hand in the executed notebook {NOTEBOOK} (run all cells, then save it)")
    size = path.stat().st_size
    if size > MAX_BYTES:
        return _all("error", f"{NOTEBOOK} is {size / 2**20:.0f} MiB, too large to read "
                    f"(the limit is {MAX_BYTES >> 20} MiB)", {"file": NOTEBOOK, "bytes": size})
    try:
        import nbformat  # lazily: only the notebook part needs it
    except ImportError:
        return _all("error", "the notebook checks need nbformat, which is not installed "
                    "(pip install 'ffnn[check]')", {"file": NOTEBOOK})
    try:
        nb = nbformat.read(path, as_version=4, capture_validation_error={})
    except Exception as exc:  # nbformat raises several types for a broken file; all mean "unreadable"
        reason = str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else type(exc).__name__
        return _all("error", f"{NOTEBOOK} is not a readable notebook: {reason}", {"file": NOTEBOOK},
                    hint="open the notebook in Jupyter and save it again; if it does not open, hand in "
                         "a fresh copy")
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return _all("error", f"{NOTEBOOK} is not a readable notebook: it has no list of cells",
                    {"file": NOTEBOOK})
    parsed = _parse(nb)
    return [_plots(parsed), _progress(parsed), _team(nb)]
