"""``ffnn check``: feedback on a team's own submission of the problem set.

A submission is one folder in the course template's layout (``network_scratch.py``,
``network_pytorch.py``, ``network_tensorflow.py``, ``utils.py``,
``MNIST_classification.ipynb``). :func:`check_submission` runs each part's
probes in a child process (under bubblewrap when present, see
:mod:`ffnn.check.sandbox`), takes back plain arrays, and judges them here, in
the checking process, against ffnn's own reference mathematics. The result is a
:class:`SubmissionResult` of :class:`Check` records with the stable ids of
:data:`CHECK_IDS`.
"""
from __future__ import annotations

from .ids import CHECK_IDS, PARTS, check_ids
from .result import Check, SubmissionResult
from .sandbox import SandboxUnavailable
from .submission import OUTPUT_LIMIT, check_submission, check_submissions

__all__ = ["PARTS", "CHECK_IDS", "Check", "SubmissionResult", "SandboxUnavailable", "OUTPUT_LIMIT",
           "check_submission", "check_submissions", "check_ids"]
