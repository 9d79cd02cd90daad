"""The parts of a submission and the stable ids of their checks, in report order."""
from __future__ import annotations

__all__ = ["PARTS", "CHECK_IDS", "check_ids"]

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
