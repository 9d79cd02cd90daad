"""What ``ffnn check`` finds: one :class:`Check` per check id, grouped per submission.

A check's ``status`` is one of :data:`STATUSES`: ``pass``; ``fail`` (the
team's code is wrong, ``hint`` says what to change); ``error`` (the check could
not run: a crash, a time-out, or an API change between Keras/PyTorch versions,
which the message says and does not blame on the team); ``skip`` (not asked
for with ``--parts``, or the file is missing for a reason the message gives).
``evidence`` holds the numbers behind the message (JSON-able); ``mistake`` is
the catalogue name of a recognised mistake (``softmax-jacobian-diagonal``...)
or ``None``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

__all__ = ["STATUSES", "Check", "SubmissionResult"]

STATUSES = ("pass", "fail", "error", "skip")


@dataclass
class Check:
    id: str
    status: str
    message: str
    evidence: dict = field(default_factory=dict)
    hint: str | None = None
    mistake: str | None = None

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {self.status!r}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SubmissionResult:
    path: str
    checks: list = field(default_factory=list)

    @property
    def summary(self) -> dict:
        counts = {s: 0 for s in STATUSES}
        for c in self.checks:
            counts[c.status] += 1
        return counts

    @property
    def ok(self) -> bool:
        """True when no check failed or errored (the exit status 0 of ``ffnn check``)."""
        return all(c.status in ("pass", "skip") for c in self.checks)

    def to_dict(self) -> dict:
        return {"path": self.path, "checks": [c.to_dict() for c in self.checks], "summary": self.summary}
