r"""The network in Keras 3 (TensorFlow): the problem set's ``NeuralNetworkTf``, repaired.

:class:`NeuralNetworkTf` is a ``keras.Sequential`` of ``Dense`` layers:
``sizes[0]`` is the input shape, the hidden layers use the configured
activation (sigmoid, tanh or ReLU), the output is a softmax, the loss is the
categorical cross-entropy and the optimizer :class:`MomentumSGD` (PyTorch's
momentum convention; plain SGD at ``momentum=0``). It starts from
:func:`ffnn.weights.init_weights`, so for the same seed it holds the other
backends' initial weights (a ``Dense`` kernel is ``W`` as it is).

Every way in takes images (n, 28, 28) as ``keras.datasets.mnist`` gives them,
uint8 or float, as well as rows (n, 784): ``compile_and_fit`` (the problem
set's), ``fit_arrays`` (the shared loop, :func:`ffnn.training.fit_arrays`),
``predict_proba``, and Keras's own ``predict``, ``evaluate`` and calling the
model. :class:`TimeBasedLearningRate` is the problem set's schedule as a Keras
``LearningRateSchedule``. Models save to ``.keras`` and load in safe mode.

The problem set's original class, its mistakes and the measurements behind
the advice on batch sizes are in ``docs/backends.md``.
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow's first import

import contextlib
import sys

import numpy as np


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence file descriptor 2 while TensorFlow's C++ libraries load.

    They print an absl banner and a oneDNN note on every import, below the
    reach of TF_CPP_MIN_LOG_LEVEL; Python exceptions are unaffected.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (some embedded interpreters)
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


with _quiet_native_stderr():
    import keras
    import tensorflow as tf

from ..atomic import replacing
from ..config import TrainConfig
from ..data import as_rows, one_hot, to_labels
from ..functional import nll
from ..schedules import Constant, TimeBased, check_positive_int
from ..training import check_xy, fit_arrays
from ..weights import check_weights, init_weights
from . import model_path

__all__ = ["BACKEND", "MODEL_FILE", "NeuralNetworkTf", "TimeBasedLearningRate", "MomentumSGD", "build", "load"]

BACKEND = "tensorflow"
MODEL_FILE = "model.keras"
_RENAMED = {"layer_sizes": "sizes", "seed": "random_state"}  # config name -> problem set's name

_EVAL_BATCH = 8192  # rows per forward pass when evaluating a whole set

#: ``activation name -> Keras activation``: the framework's side of :data:`ffnn.functional.ACTIVATIONS`.
ACTIVATIONS = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu"}


def resolve_device(device: str = "auto"):
    """The ``tf.device`` name for ``"auto"`` (None: TensorFlow places ops), ``"cpu"`` or ``"gpu"``/``"cuda"``."""
    if device == "auto":
        return None
    if device == "cpu":
        return "/CPU:0"
    if device in ("gpu", "cuda"):
        if not tf.config.list_physical_devices("GPU"):
            raise ValueError(f"device {device!r} was asked for, but TensorFlow sees no GPU")
        return "/GPU:0"
    raise ValueError(f"device must be 'auto', 'cpu' or 'gpu', got {device!r}")


@keras.saving.register_keras_serializable(package="ffnn")
class TimeBasedLearningRate(keras.optimizers.schedules.LearningRateSchedule):
    r"""The problem set's time-based decay as a Keras schedule.

    .. math:: \eta(t) = \max(\eta_0 - t, 1)

    at optimizer step :math:`t` (0-based), for a positive integer
    ``initial_learning_rate`` :math:`\eta_0`; the Keras face of
    :class:`ffnn.schedules.TimeBased`.
    """

    def __init__(self, initial_learning_rate):
        self.initial_learning_rate = check_positive_int(initial_learning_rate, "initial_learning_rate")

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        return keras.ops.maximum(float(self.initial_learning_rate) - step, 1.0)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate}

    def __repr__(self):
        return f"TimeBasedLearningRate({self.initial_learning_rate!r})"


def _keras_rate(schedule):
    """The optimizer ``learning_rate`` for a schedule of :mod:`ffnn.schedules`."""
    if isinstance(schedule, TimeBased):
        return TimeBasedLearningRate(schedule.initial_learning_rate)
    if isinstance(schedule, Constant):
        return schedule.learning_rate
    raise ValueError(f"the tensorflow backend supports Constant and TimeBased schedules, got {schedule!r}")


@keras.saving.register_keras_serializable(package="ffnn")
class MomentumSGD(keras.optimizers.Optimizer):
    r"""SGD with momentum in PyTorch's convention (``torch.optim.SGD``), which the NumPy backend shares.

    For each variable :math:`w` with gradient :math:`g` and velocity :math:`v`
    (zero at the start), at learning rate :math:`\eta` and momentum :math:`\mu`:

    .. math:: v \leftarrow \mu v + g, \qquad w \leftarrow w - \eta v

    Keras's own ``SGD`` keeps :math:`v \leftarrow \mu v - \eta g,\ w \leftarrow w + v`,
    the same steps at a constant rate but not when the rate changes from step
    to step (as :class:`TimeBasedLearningRate`'s does). ``momentum=0`` is plain SGD.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, name="momentum_sgd", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0 <= momentum < 1:
            raise ValueError(f"momentum must be a number in [0, 1), got {momentum!r}")
        self.momentum = float(momentum)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.velocities = self.add_optimizer_variables(variables, "velocity") if self.momentum else []

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = keras.ops.cast(learning_rate, variable.dtype)
        step = keras.ops.cast(gradient, variable.dtype)
        if self.momentum:
            v = self.velocities[self._get_variable_index(variable)]
            self.assign(v, keras.ops.add(keras.ops.multiply(v, keras.ops.cast(self.momentum, variable.dtype)), step))
            step = v
        self.assign_sub(variable, keras.ops.multiply(step, learning_rate))

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum}


#: tf.data options for the training batches. With autotuning on, about one epoch in ten at batch 1
#: (2,000 samples) took 5.13 s instead of 2.2-3.5 s, the same 5.13 s every time, in plain Keras too; with
#: it off, none of 54 did (2-core development machine, 2026-11-26). AUTOTUNE then keeps its starting value
#: (for the parallel map: the number of cores, at most 16).
_NO_AUTOTUNE = tf.data.Options()
_NO_AUTOTUNE.autotune.enabled = False


class _OnBatch(keras.callbacks.Callback):
    """Reports each finished batch's size to the shared progress bar."""

    async_safe = True  # only counts samples, so Keras may call it off the training thread

    def __init__(self, on_batch, n, batch_size):
        super().__init__()
        self.on_batch, self.n, self.batch_size = on_batch, n, batch_size

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch(min(self.batch_size, self.n - batch * self.batch_size))


@keras.saving.register_keras_serializable(package="ffnn")
class NeuralNetworkTf(keras.Sequential):
    """A fully-connected classifier: sigmoid (or tanh, ReLU) hidden layers, softmax output.

    Parameters
    ----------
    sizes : sequence of int
        ``(n_inputs, hidden_1, ..., n_classes)``, e.g. ``[784, 128, 32, 10]``;
        ``sizes[0]`` is the input shape, not a layer.
    random_state : int, default 1
        Seeds the initial weights (:func:`ffnn.weights.init_weights`, the same
        as the other backends') and the shuffling of ``compile_and_fit``.
    activation : {"sigmoid", "tanh", "relu"}, default "sigmoid"
        The hidden layers' activation.
    momentum : float in [0, 1), default 0.0
        The momentum of :class:`MomentumSGD`; 0 is plain SGD.
    config : TrainConfig, optional
        The shared configuration, used instead of the arguments above (which
        must then keep their defaults); ``fit_arrays`` trains with it and
        :func:`build` passes it. By default
        ``TrainConfig(layer_sizes=sizes, seed=random_state, activation=activation, momentum=momentum)``.
    """

    def __init__(self, sizes=None, random_state=1, activation="sigmoid", momentum=0.0, *, config=None, name=None):
        if sizes is None and config is None:
            raise ValueError("give sizes (the layer sizes) or a config")
        config = TrainConfig.for_class(config, _RENAMED, dict(
            sizes=sizes, random_state=random_state, activation=activation, momentum=momentum),
            NeuralNetworkTf.__init__)
        if config.loss != "cross-entropy":
            raise ValueError(f"the tensorflow backend trains with loss='cross-entropy' only, got {config.loss!r}")
        super().__init__(name=name)
        self.train_config = config
        self.sizes, self.random_state = config.layer_sizes, config.seed
        self.add(keras.Input(shape=(self.sizes[0],), dtype=config.dtype))
        for i, units in enumerate(self.sizes[1:], start=1):
            last = i == len(self.sizes) - 1
            self.add(keras.layers.Dense(units, activation="softmax" if last else ACTIVATIONS[config.activation],
                                        dtype=config.dtype, name="output" if last else f"hidden_{i}"))
        self.import_weights(init_weights(self.sizes, self.random_state, config.dtype, config.activation))
        self.history_ = None
        self._device = None  # a tf.device name set by build(), or None for TensorFlow's placement
        self._compiled_rate = None  # the shared schedule the model is compiled for, as (type, value)

    def call(self, inputs, training=None, mask=None):
        """The layers on ``inputs`` as rows: (n, 28, 28) images are flattened to (n, 784) first, and uint8
        pixels scaled to [0, 1] as :func:`ffnn.data.prepare_images` does, so ``predict``, ``evaluate`` and
        calling the model take what ``compile_and_fit`` takes."""
        inputs = tf.convert_to_tensor(inputs)
        if inputs.dtype == tf.uint8:
            inputs = tf.cast(inputs, self.train_config.dtype) / 255.0
        # (n, 28, 28) -> (n, 784); a sample of another size fails here, naming both sizes.
        inputs = tf.reshape(inputs, tf.stack([tf.shape(inputs)[0], self.sizes[0]]))
        return super().call(inputs, training=training, mask=mask)

    def get_config(self):
        return {"name": self.name, "config": self.train_config.to_dict()}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        saved = config.get("config", config.get("train_config"))  # files saved by older versions say "train_config"
        return cls(config=TrainConfig.from_dict(saved), name=config.get("name"))

    # ------------------------------------------------------------ Trainable

    def prepare_data(self, x, y):
        """Images ``x`` (n, d) and int labels ``y`` as tensors: ``(X in dtype, y int64)``."""
        with self._placement():
            return tf.constant(x, dtype=self.train_config.dtype), tf.constant(y, dtype=tf.int64)

    def train_epoch(self, data, order, batch_size, schedule, step, on_batch):
        """One epoch of SGD over ``data`` in ``order``, as one compiled ``fit``; returns the new step count."""
        self._compile_for(schedule)
        self.optimizer.iterations.assign(step)
        x, y = data
        batches = tf.data.Dataset.from_tensor_slices(np.asarray(order, dtype=np.int64)).batch(batch_size)
        ds = batches.map(lambda idx: (tf.gather(x, idx), tf.gather(y, idx)),
                         num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE).with_options(_NO_AUTOTUNE)
        # A CallbackList of our own, so that Keras adds no progress bar of its own.
        callbacks = keras.callbacks.CallbackList([_OnBatch(on_batch, len(order), batch_size)],
                                                 add_history=True, add_progbar=False, model=self)
        with self._placement():
            self.fit(ds, epochs=1, verbose=0, shuffle=False, callbacks=callbacks)
        return int(self.optimizer.iterations.numpy())

    def loss_and_accuracy(self, data):
        """Mean cross-entropy and accuracy (fraction) on prepared ``data``."""
        x, y = data
        p = self._proba(x)
        y = y.numpy()
        return nll(p, y), float((p.argmax(axis=1) == y).mean())

    def export_weights(self):
        """Copies of the weights as ``(W, b)`` pairs; a Dense kernel is ``W`` (n_in, n_out) as it is."""
        return [(layer.kernel.numpy(), layer.bias.numpy()) for layer in self.layers]

    def import_weights(self, weights):
        """Replace the weights by ``weights`` (layout of :mod:`ffnn.weights`), cast to ``dtype``."""
        weights = check_weights(weights, self.sizes)
        for layer, (W, b) in zip(self.layers, weights):
            layer.set_weights([np.asarray(W, dtype=self.train_config.dtype),
                               np.asarray(b, dtype=self.train_config.dtype)])

    # ------------------------------------------------------ forward, compile

    def _compile_for(self, schedule):
        """Compile for SGD with ``schedule`` unless already compiled so (recompiling retraces)."""
        key = (type(schedule).__name__, getattr(schedule, "initial_learning_rate", None),
               getattr(schedule, "learning_rate", None))
        if self._compiled_rate != key:
            self.compile(optimizer=MomentumSGD(_keras_rate(schedule), self.train_config.momentum),
                         loss=keras.losses.SparseCategoricalCrossentropy())
            self._compiled_rate = key

    def _placement(self):
        return tf.device(self._device) if self._device else contextlib.nullcontext()

    def _proba(self, x):
        # Direct calls in chunks: cheaper than keras.Model.predict's per-call setup.
        with self._placement():
            return np.concatenate([self(x[s:s + _EVAL_BATCH], training=False).numpy()
                                   for s in range(0, len(x), _EVAL_BATCH)])

    # ------------------------------------------------------------- the API

    def compile_and_fit(self, x_train, y_train, epochs=50, learning_rate=0.01, batch_size=1,
                        validation_data=None, *, verbose="auto"):
        """The problem set's entry point: compile for SGD and cross-entropy, then ``keras.Model.fit``.

        ``x_train`` (n, 28, 28) or (n, 784); ``y_train`` one-hot (n, 10), trained
        with categorical cross-entropy, or integers (n,), trained with sparse
        categorical cross-entropy; ``validation_data`` an ``(x_val, y_val)``
        pair in the same formats. ``learning_rate`` a positive number or a
        Keras schedule such as :class:`TimeBasedLearningRate`.

        Returns the Keras ``History``: ``history.history["accuracy"]`` is
        Keras's running mean over the epoch's batches,
        ``history.history["val_accuracy"]`` the accuracy on the validation set
        after the epoch.
        """
        one_hot_labels = np.asarray(y_train).ndim == 2 and np.asarray(y_train).shape[1] > 1
        x, y = self._xy(x_train, y_train, "x_train", one_hot_labels)
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError("validation_data must be an (x_val, y_val) pair")
            validation_data = self._xy(*validation_data, "x_val", one_hot_labels)
        loss = "categorical_crossentropy" if one_hot_labels else "sparse_categorical_crossentropy"
        self.compile(optimizer=MomentumSGD(learning_rate, self.train_config.momentum), loss=loss,
                     metrics=["accuracy"])
        self._compiled_rate = None
        keras.utils.set_random_seed(self.random_state)  # Keras's shuffling of the batches
        with self._placement():
            # Validation in big batches: the same numbers, without 10,000 calls when batch_size is 1.
            return self.fit(x, y, epochs=epochs, batch_size=batch_size, validation_data=validation_data,
                            validation_batch_size=max(batch_size, _EVAL_BATCH // 8), verbose=verbose)

    def _xy(self, x, y, name, one_hot_labels):
        x, y = check_xy(x, y, self.sizes[0], self.sizes[-1], name)
        x = x.astype(self.train_config.dtype, copy=False)
        return (x, one_hot(y, self.sizes[-1], dtype=self.train_config.dtype)) if one_hot_labels else (x, y)

    def fit_arrays(self, x, y, x_val=None, y_val=None, verbose=1, on_epoch_end=None, stream=None):
        """Train on arrays with :func:`ffnn.training.fit_arrays`; returns the :class:`ffnn.History`."""
        self.history_ = fit_arrays(self, x, y, x_val, y_val, verbose=verbose, label=BACKEND,
                                   on_epoch_end=on_epoch_end, stream=stream)
        return self.history_

    def predict_proba(self, x):
        """Class probabilities (n, n_classes) for images ``x`` (n, d) or (n, 28, 28); (n_classes,) for one image.

        (``predict`` is Keras's own: it returns probabilities too.)
        """
        x, single = as_rows(x, self.sizes[0])
        p = self._proba(x.astype(self.train_config.dtype, copy=False))
        return p[0] if single else p

    def compute_accuracy(self, x, y):
        """Fraction of samples in ``x`` classified as their label ``y`` (int or one-hot)."""
        x, y = check_xy(x, y, self.sizes[0], self.sizes[-1])
        return float(np.mean(self.predict_proba(x).argmax(axis=1) == to_labels(y)))

    score = compute_accuracy

    def save_model(self, path):
        """Write the model (config, weights, optimizer and its schedule) to ``path`` (``.keras``;
        a directory, or a path without a suffix, gets ``MODEL_FILE``)."""
        path = model_path(path, MODEL_FILE)
        if path.suffix != ".keras":
            raise ValueError(f"{path}: a Keras model file must end in .keras")
        with replacing(path, suffix=".keras") as tmp:
            self.save(tmp)
        return path


def build(config: TrainConfig, device: str = "auto") -> NeuralNetworkTf:
    """A fresh :class:`NeuralNetworkTf` for ``config`` on ``device`` (``"auto"``, ``"cpu"``, ``"gpu"``)."""
    name = resolve_device(device)
    with tf.device(name) if name else contextlib.nullcontext():
        model = NeuralNetworkTf(config=config)
    model._device = name
    return model


def load(path, device: str = "auto") -> NeuralNetworkTf:
    """The model written by :meth:`NeuralNetworkTf.save_model` (``safe_mode``: never runs stored code)."""
    name = resolve_device(device)
    path = model_path(path, MODEL_FILE)
    if not path.is_file():
        raise ValueError(f"{path}: file not found")
    try:
        with tf.device(name) if name else contextlib.nullcontext():
            model = keras.models.load_model(path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: cannot read the model ({exc})") from None
    if not isinstance(model, NeuralNetworkTf):
        raise ValueError(f"{path}: a {type(model).__name__}, not an ffnn NeuralNetworkTf")
    model._device = name
    return model
