"""What the three backends share: the array API, evaluation chunks, names, pixels and devices.

Each backend's class inherits :class:`ArrayAPI` for ``fit_arrays`` (the shared
loop, :func:`ffnn.training.fit_arrays`), evaluates whole sets in chunks of
:data:`EVAL_CHUNK` rows (:func:`chunks`), takes the problem set's argument
names from :func:`problem_set_names`, scales uint8 pixels with
:func:`scale_uint8` and reads its ``device`` argument with
:func:`device_name`. Nothing here imports a framework.
"""
from __future__ import annotations

from ..config import DEVICES
from ..training import fit_arrays

__all__ = ["ArrayAPI", "EVAL_CHUNK", "chunks", "problem_set_names", "scale_uint8", "device_name"]

#: Rows per forward pass when a backend evaluates a whole set: large enough for fast matrix products,
#: small enough that the hidden activations of 60,000 images need not be held at once.
EVAL_CHUNK = 8192


class ArrayAPI:
    """``fit_arrays`` for a class implementing :class:`ffnn.training.Trainable` with a ``BACKEND`` name.

    The class sets ``history_`` (None until trained) and ``BACKEND``, the label of its progress bar.
    """

    BACKEND = ""

    def fit_arrays(self, x, y, x_val=None, y_val=None, verbose=1, on_epoch_end=None, stream=None):
        """Train on arrays with :func:`ffnn.training.fit_arrays`; returns the :class:`ffnn.History`.

        ``x`` images (n, 28, 28) or (n, d), uint8 or float; ``y`` int labels
        (n,) or one-hot (n, k); the validation set likewise, or None.
        """
        self.history_ = fit_arrays(self, x, y, x_val, y_val, verbose=verbose, label=self.BACKEND,
                                   on_epoch_end=on_epoch_end, stream=stream)
        return self.history_


def chunks(n: int, size: int = EVAL_CHUNK):
    """Slices ``[0:size], [size:2*size], ...`` covering ``range(n)``."""
    return (slice(start, start + size) for start in range(0, n, size))


def problem_set_names(sizes: str) -> dict:
    """``TrainConfig`` field -> the problem set's argument name, for a class calling the layer sizes ``sizes``.

    The NumPy class says ``layer_shapes``, the PyTorch and Keras classes
    ``sizes``; all three say ``random_state`` for the seed.
    """
    return {"layer_sizes": sizes, "seed": "random_state"}


def scale_uint8(x, to_float32):
    """uint8 pixels ``x`` (a tensor of any framework) as float32 in [0, 1]: ``to_float32(x) / 255``.

    The same arithmetic as :func:`ffnn.data.to_float` does on arrays, so an
    image gives the same input whichever way it reaches a backend.
    """
    return to_float32(x) / 255.0


def device_name(device: str) -> str:
    """``device`` checked against :data:`ffnn.config.DEVICES` (``"gpu"`` is taken as ``"cuda"``).

    Returns ``"auto"``, ``"cpu"`` or ``"cuda"``; each backend maps it to its
    framework's device. The same names, and the same error, in every backend.
    """
    device = "cuda" if device == "gpu" else device
    if device not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)} (or gpu, the same as cuda), got {device!r}")
    return device
