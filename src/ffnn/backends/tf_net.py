r"""The network in Keras 3 (TensorFlow): the problem set's ``NeuralNetworkTf``, repaired.

:class:`NeuralNetworkTf` is a ``keras.Sequential`` of ``Dense`` layers:
``sizes[0]`` is the input shape, the hidden layers use the configured
activation (the Keras activation its :class:`~ffnn.functional.Activation`
record names), the output is a softmax, the loss is the categorical
cross-entropy (the Keras loss its :class:`~ffnn.functional.Loss` record
names) and the optimizer :class:`MomentumSGD` (PyTorch's momentum convention;
plain SGD at ``momentum=0``), whose rate :class:`StepRates` looks up step by
step from any schedule of :mod:`ffnn.schedules`. It starts from
:func:`ffnn.weights.init_weights`, so for the same seed it holds the other
backends' initial weights (a ``Dense`` kernel is ``W`` as it is).

Every way in takes images (n, 28, 28) as ``keras.datasets.mnist`` gives them,
uint8 or float, as well as rows (n, 784): ``compile_and_fit`` (the problem
set's), ``fit_arrays`` (the shared loop, :func:`ffnn.training.fit_arrays`),
``predict_proba``, and Keras's own ``predict``, ``evaluate`` and calling the
model. :class:`TimeBasedLearningRate` is the problem set's schedule as a Keras
``LearningRateSchedule``. Models save to ``.keras`` and load in safe mode.

Nothing here changes global state: ``compile_and_fit`` shuffles with a
seeded ``tf.data`` pipeline, and the layers start from zeros (no draw from
Keras's global generator) before the shared initial weights are set. The
problem set's original class, its mistakes and the measurements behind the
advice on batch sizes are in ``docs/backends.md``.
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
from ..functional import get_activation, get_loss
from ..schedules import check_positive_int
from ..training import check_xy
from ..weights import check_weights, init_weights
from . import model_path
from .common import EVAL_CHUNK, ArrayAPI, chunks, device_name, problem_set_names, scale_uint8

__all__ = ["BACKEND", "MODEL_FILE", "NeuralNetworkTf", "TimeBasedLearningRate", "StepRates", "MomentumSGD",
           "build", "load", "resolve_device"]

BACKEND = "tensorflow"
MODEL_FILE = "model.keras"
_RENAMED = problem_set_names("sizes")


def resolve_device(device: str = "auto"):
    """The ``tf.device`` name for ``"auto"`` (None: TensorFlow places ops), ``"cpu"`` or ``"cuda"`` (``"gpu"``)."""
    device = device_name(device)
    if device == "auto":
        return None
    if device == "cpu":
        return "/CPU:0"
    if not tf.config.list_physical_devices("GPU"):
        raise ValueError("device 'cuda' was asked for but TensorFlow sees no GPU; use 'cpu' or 'auto'")
    return "/GPU:0"


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


@keras.saving.register_keras_serializable(package="ffnn")
class StepRates(keras.optimizers.schedules.LearningRateSchedule):
    """Any schedule of :mod:`ffnn.schedules` in Keras: its rates for a window of steps, looked up by step.

    :meth:`fill` computes ``schedule(step)`` in Python for the steps of the
    coming epoch, so the rate of every step is the very number the other
    backends use, whatever the schedule, and no schedule needs a Keras class of
    its own. The compiled training step reads the rate of optimizer step ``t``
    from a variable, ``rates[t - first_step]`` (the last one past the window's
    end), so refilling it for the next epoch does not retrace. Saved as
    ``(rate, count)`` runs: a few pairs for the usual step-wise schedules.
    """

    def __init__(self, runs=((1.0, 1),), first_step=0, dtype="float32"):
        self.dtype = dtype
        self.rates = tf.Variable(np.zeros(0, dtype), shape=tf.TensorShape([None]), trainable=False)
        self.first_step = tf.Variable(0, dtype=tf.int64, trainable=False)
        self._assign([rate for rate, count in runs for _ in range(int(count))], first_step)

    def fill(self, schedule, first_step: int, n_steps: int) -> None:
        """Hold ``schedule(step)`` for steps ``first_step, ..., first_step + n_steps - 1``."""
        self._assign([schedule(t) for t in range(first_step, first_step + max(n_steps, 1))], first_step)

    def _assign(self, rates, first_step) -> None:
        self.rates.assign(np.asarray(rates, dtype=self.dtype))
        self.first_step.assign(int(first_step))

    def __call__(self, step):
        last = tf.size(self.rates, out_type=tf.int64) - 1
        return tf.gather(self.rates, tf.clip_by_value(tf.cast(step, tf.int64) - self.first_step, 0, last))

    def get_config(self):
        runs = []
        for rate in self.rates.numpy().tolist():
            if runs and runs[-1][0] == rate:
                runs[-1][1] += 1
            else:
                runs.append([rate, 1])
        return {"runs": runs, "first_step": int(self.first_step.numpy()), "dtype": self.dtype}


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


#: tf.data options for the training batches: autotuning off, because with it on some epochs at batch 1
#: stall for seconds (measured in docs/backends.md). AUTOTUNE then keeps its starting value (for the
#: parallel map: the number of cores, at most 16).
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


def _batches(x, y, order, batch_size: int):
    """A ``tf.data`` pipeline of ``(x[idx], y[idx])`` batches for the index batches of ``order`` (a dataset)."""
    return (order.batch(batch_size).map(lambda idx: (tf.gather(x, idx), tf.gather(y, idx)),
                                        num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE).with_options(_NO_AUTOTUNE))


@keras.saving.register_keras_serializable(package="ffnn")
class NeuralNetworkTf(keras.Sequential, ArrayAPI):
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

    BACKEND = BACKEND

    def __init__(self, sizes=None, random_state=1, activation="sigmoid", momentum=0.0, *, config=None, name=None):
        if sizes is None and config is None:
            raise ValueError("give sizes (the layer sizes) or a config")
        config = TrainConfig.for_class(config, _RENAMED, dict(
            sizes=sizes, random_state=random_state, activation=activation, momentum=momentum),
            NeuralNetworkTf.__init__)
        loss = get_loss(config.loss)
        if loss.keras is None:
            raise ValueError(f"the tensorflow backend cannot train with loss {config.loss!r}; "
                             f"only {' and '.join(loss.backends)} can")
        super().__init__(name=name)
        self.train_config = config
        self.sizes, self.random_state = config.layer_sizes, config.seed
        hidden = get_activation(config.activation).keras
        self.add(keras.Input(shape=(self.sizes[0],), dtype=config.dtype))
        for i, units in enumerate(self.sizes[1:], start=1):
            last = i == len(self.sizes) - 1
            # Zeros, not Keras's random default: the shared weights are set below, and nothing is drawn
            # from Keras's global random generator.
            self.add(keras.layers.Dense(units, activation="softmax" if last else hidden, dtype=config.dtype,
                                        kernel_initializer="zeros", name="output" if last else f"hidden_{i}"))
        self.import_weights(init_weights(self.sizes, self.random_state, config.dtype, config.activation))
        self.history_ = None
        self._device = None  # a tf.device name set by build(), or None for TensorFlow's placement
        self._rates = None  # the StepRates the model is compiled with for train_epoch, if it is

    def call(self, inputs, training=None, mask=None):
        """The layers on ``inputs`` as rows: (n, 28, 28) images are flattened to (n, 784) first, and uint8
        pixels scaled to [0, 1] as :func:`ffnn.data.prepare_images` does, so ``predict``, ``evaluate`` and
        calling the model take what ``compile_and_fit`` takes."""
        inputs = tf.convert_to_tensor(inputs)
        if inputs.dtype == tf.uint8:
            inputs = tf.cast(scale_uint8(inputs, lambda t: tf.cast(t, tf.float32)), self.train_config.dtype)
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
        self._compile_for_epochs()
        self._rates.fill(schedule, step, -(-len(order) // batch_size))
        self.optimizer.iterations.assign(step)
        x, y = data
        ds = _batches(x, y, tf.data.Dataset.from_tensor_slices(np.asarray(order, dtype=np.int64)), batch_size)
        # A CallbackList of our own, so that Keras adds no progress bar of its own.
        callbacks = keras.callbacks.CallbackList([_OnBatch(on_batch, len(order), batch_size)],
                                                 add_history=True, add_progbar=False, model=self)
        with self._placement():
            self.fit(ds, epochs=1, verbose=0, shuffle=False, callbacks=callbacks)
        return int(self.optimizer.iterations.numpy())

    def loss_and_accuracy(self, data):
        """Mean loss and accuracy (fraction) on prepared ``data``, the loss computed as the NumPy backend does."""
        x, y = data
        p = self._proba(x)
        y = y.numpy()
        loss = get_loss(self.train_config.loss).loss(p, one_hot(y, self.sizes[-1], dtype=p.dtype))
        return loss, float((p.argmax(axis=1) == y).mean())

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

    def _compile_for_epochs(self):
        """Compile for SGD at :class:`StepRates` and the config's loss, unless already compiled so
        (recompiling retraces; the rates are refilled for each epoch instead)."""
        if self._rates is None:
            rates = StepRates(dtype=self.train_config.dtype)
            self.compile(optimizer=MomentumSGD(rates, self.train_config.momentum),
                         loss=keras.losses.get(get_loss(self.train_config.loss).keras))
            self._rates = rates

    def _placement(self):
        return tf.device(self._device) if self._device else contextlib.nullcontext()

    def _proba(self, x):
        # Direct calls in chunks: cheaper than keras.Model.predict's per-call setup.
        with self._placement():
            return np.concatenate([self(x[rows], training=False).numpy() for rows in chunks(len(x))])

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
        after the epoch. The batches are shuffled every epoch in an order
        seeded by ``random_state`` (a seeded ``tf.data`` shuffle; no global seed is set).
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
        self._rates = None
        with self._placement():
            # A new order every epoch, the same orders in every run: the shuffle's own seed, not a global one.
            order = tf.data.Dataset.range(len(x)).shuffle(len(x), seed=self.random_state,
                                                          reshuffle_each_iteration=True)
            ds = _batches(tf.constant(x), tf.constant(y), order, batch_size)
            # Validation in big batches: the same numbers, without 10,000 calls when batch_size is 1.
            return self.fit(ds, epochs=epochs, validation_data=validation_data, shuffle=False,
                            validation_batch_size=max(batch_size, EVAL_CHUNK // 8), verbose=verbose)

    def _xy(self, x, y, name, one_hot_labels):
        x, y = check_xy(x, y, self.sizes[0], self.sizes[-1], name)
        x = x.astype(self.train_config.dtype, copy=False)
        return (x, one_hot(y, self.sizes[-1], dtype=self.train_config.dtype)) if one_hot_labels else (x, y)

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
