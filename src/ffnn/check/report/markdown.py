"""One Markdown feedback page per submission, for a teaching assistant to paste as it is.

The page names the submission by its folder's name only (never the path on
the grader's machine), puts what to fix first (each failed check with its
evidence and hint), then what could not run, what passed, and what was not
checked. Text that came from the team's code (the last line of a traceback)
is escaped, so it shows as text and cannot add HTML or links to the page.
"""
from __future__ import annotations

import re
from pathlib import Path

from ... import __version__
from ...atomic import atomic_write_text
from .terminal import format_evidence, group_checks

__all__ = ["markdown_page", "page_names", "write_markdown"]

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "[": "\\[", "]": "\\]", "|": "\\|",
                         "_": "\\_", "*": "\\*", "`": "\\`"})


def _text(text) -> str:
    """``text`` on one line, with the characters that would make Markdown or HTML of it escaped."""
    return " ".join(str(text or "").split()).translate(_ESCAPE)


def _code(text: str) -> str:
    """``text`` as an inline code span, fenced with more backticks than it holds."""
    text = " ".join(str(text).split())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _folder(path) -> str:
    return Path(str(path)).resolve().name or str(path)


def page_names(paths) -> list:
    """A file name per submission, from its folder's name: only ``A-Za-z0-9._-``, unique, ``.md``.

    Two folders with the same name (``a/team1``, ``b/team1``), or names that
    clean to the same one, get ``-2``, ``-3``... in the order given; names are
    compared ignoring case, for case-insensitive file systems.
    """
    names, taken = [], set()
    for path in paths:
        base = _SAFE.sub("_", _folder(path)).strip("._-")[:80] or "submission"
        name, n = base, 1
        while name.lower() in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name.lower())
        names.append(name + ".md")
    return names


def _heading(name: str, check) -> str:
    """A check's name in a heading: its id in code and its mistake, or a group's ``part.*`` and count."""
    if name.startswith(check.id):
        return _code(check.id) + (f" ({_text(check.mistake)})" if check.mistake else "")
    base, _, count = name.partition(" ")
    return f"{_code(base)} {_text(count)}"


def _counted(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def markdown_page(result) -> str:
    """The feedback page for one SubmissionResult."""
    summary = result.summary
    ran = summary["pass"] + summary["fail"] + summary["error"]
    lines = [f"# Feedback on {_code(_folder(result.path))}", ""]
    if ran == 0:
        lines.append("No check ran on this submission.")
    else:
        lines.append(f"**{summary['pass']} of {_counted(ran, 'check')} passed**; {summary['fail']} failed, "
                     f"{summary['error']} could not run, {summary['skip']} not checked.")
    by_status = {s: group_checks([c for c in result.checks if c.status == s])
                 for s in ("fail", "error", "pass", "skip")}
    sections = (("fail", "What to fix"), ("error", "What could not be checked"))
    for status, title in sections:
        if not by_status[status]:
            continue
        lines += ["", f"## {title}"]
        for name, (check, *_) in by_status[status]:
            lines += ["", f"### {_heading(name, check)}", "", _text(check.message)]
            evidence = format_evidence(check.evidence)
            bullets = ([f"- Evidence: {_code(evidence)}"] if evidence else []) + \
                      ([f"- What to change: {_text(check.hint)}"] if check.hint else [])
            if bullets:
                lines += ["", *bullets]
    if by_status["pass"]:
        lines += ["", "## Passed", "", "| Check | What we found |", "|---|---|"]
        lines += [f"| {_code(c.id)} | {_text(c.message)} |" for c in result.checks if c.status == "pass"]
    if by_status["skip"]:
        lines += ["", "## Not checked", ""]
        lines += [f"- {_heading(name, check)}: {_text(check.message)}" for name, (check, *_) in by_status["skip"]]
    lines += ["", "---", "", f"*Written by `ffnn check` (ffnn {__version__}).*"]
    return "\n".join(lines) + "\n"


def write_markdown(results, folder) -> list:
    """Write one page per submission into ``folder`` (created if needed); returns the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for result, name in zip(results, page_names([r.path for r in results])):
        written.append(atomic_write_text(folder / name, markdown_page(result)))
    return written
