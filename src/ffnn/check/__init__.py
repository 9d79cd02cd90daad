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

from .result import Check, SubmissionResult
from .sandbox import SandboxUnavailable
from .submission import OUTPUT_LIMIT, check_submission, check_submissions

__all__ = ["PARTS", "CHECK_IDS", "Check", "SubmissionResult", "SandboxUnavailable", "OUTPUT_LIMIT",
           "check_submission", "check_submissions", "check_ids"]

#: The parts ``--parts`` chooses from, in report order.
PARTS = ("scratch", "torch", "tf", "notebook")

#: ``part -> the stable ids of its checks, in report order``. ``submission.scope`` belongs to no part:
#: it is reported first, for the code files of the parts asked for.
CHECK_IDS = {
    "submission": ("submission.scope",),
    "scratch": ("scratch.forward_softmax", "scratch.hidden_sigmoid", "scratch.gradient", "scratch.update_rule",
                "scratch.predict", "scratch.learns"),
    "torch": ("torch.architecture", "torch.output_loss", "torch.optimizer_params", "torch.predict",
              "torch.learns"),
    "tf": ("tf.activations", "tf.loss", "tf.input", "tf.schedule", "tf.learns"),
    "notebook": ("notebook.plots", "notebook.progress", "notebook.team"),
}


def check_ids(parts=PARTS) -> tuple:
    """Every check id reported for ``parts``, in report order (``submission.scope`` first)."""
    return CHECK_IDS["submission"] + tuple(i for p in PARTS if p in parts for i in CHECK_IDS[p])
