"""Probes of ``network_tensorflow.py`` (runs in the child, next to the team's code; measures, never judges).

Inputs (from :func:`ffnn.check.tf_part.inputs`): ``x`` the probe images
(flat), ``loss_true``/``loss_pred`` pairs to evaluate the compiled loss on,
``train_x``, ``train_y`` (one-hot), ``val_x`` the learning protocol's data.
A Keras ``Sequential`` without an ``Input`` is built by its first call, so each
input format is tried on a fresh model.
"""
from __future__ import annotations

import importlib

import numpy as np

from .protocol import PROBE_SIZES, SCHEDULE_START, SCHEDULE_STEPS, TF_BATCH, TF_EPOCHS, TF_RATE, TF_SIZES


def _numpy(t) -> np.ndarray:
    return np.asarray(np.asarray(t), dtype=float)


def _shaped(x, form: str):
    return x if form == "flat" else x.reshape(-1, 28, 28)


def _learn(Net, data, arrays):
    """The learning protocol: ``compile_and_fit`` once per epoch, the outputs after each."""
    train_x, train_y, val_x = data
    model = Net(list(TF_SIZES), random_state=1)
    for epoch in range(TF_EPOCHS):
        model.compile_and_fit(train_x, train_y, epochs=1, learning_rate=TF_RATE, batch_size=TF_BATCH)
        arrays[f"train_out{epoch}"] = _numpy(model.predict(train_x, batch_size=256, verbose=0))
        arrays[f"val_out{epoch}"] = _numpy(model.predict(val_x, batch_size=256, verbose=0))
    return model


def run(rec, inputs) -> None:
    with rec.probe("import") as (facts, arrays):
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        module = importlib.import_module("network_tensorflow")
        Net, Schedule = module.NeuralNetworkTf, getattr(module, "TimeBasedLearningRate", None)
        facts["tensorflow"] = tf.__version__
        facts["keras"] = tf.keras.__version__ if hasattr(tf.keras, "__version__") else None
    later = ("input", "activations", "schedule", "learns", "loss")
    if not rec.probes["import"]["ok"]:
        for name in later:
            rec.failed(name, "import")
        return
    x = inputs["x"].astype(np.float32)
    models = {}
    with rec.probe("input") as (facts, arrays):
        for form in ("flat", "images"):
            try:
                model = Net(list(PROBE_SIZES), random_state=1)
                out = _numpy(model(_shaped(x, form)))
                arrays[f"out_{form}"] = out
                models[form] = model
            except Exception as exc:  # noqa: BLE001 - a format the model refuses is a finding
                from .child import last_line

                facts[f"error_{form}"] = last_line(exc)
        facts["accepted"] = sorted(models)
    with rec.probe("activations") as (facts, arrays):
        form = "flat" if "flat" in models else "images"
        model = models.get(form) or Net(list(PROBE_SIZES), random_state=1)
        facts["form"] = form
        a = _shaped(x, form)
        layers = []
        for i, layer in enumerate(model.layers):
            arrays[f"in{i}"] = _numpy(a)
            a = layer(a)
            arrays[f"out{i}"] = _numpy(a)
            weights = layer.get_weights()
            if len(weights) >= 1 and np.ndim(weights[0]) == 2:
                arrays[f"kernel{i}"] = _numpy(weights[0])
                if len(weights) > 1:
                    arrays[f"bias{i}"] = _numpy(weights[1])
            layers.append(type(layer).__name__)
        facts["layers"] = layers
    with rec.probe("schedule") as (facts, arrays):
        if Schedule is None:
            raise AttributeError("network_tensorflow.py has no class TimeBasedLearningRate")
        schedule = Schedule(SCHEDULE_START)
        steps = range(SCHEDULE_STEPS)
        for kind, make in (("int", int), ("int32", lambda t: tf.constant(t, tf.int32)),
                           ("int64", lambda t: tf.constant(t, tf.int64))):
            try:
                arrays[f"rate_{kind}"] = np.array([float(np.asarray(schedule(make(t)))) for t in steps])
            except Exception as exc:  # noqa: BLE001
                from .child import last_line

                facts[f"error_{kind}"] = last_line(exc)
        try:
            copy = Schedule.from_config(schedule.get_config())
            arrays["rate_from_config"] = np.array([float(np.asarray(copy(t))) for t in steps])
        except Exception as exc:  # noqa: BLE001
            from .child import last_line

            facts["error_config"] = last_line(exc)
        try:
            optimizer = tf.keras.optimizers.SGD(learning_rate=Schedule(SCHEDULE_START))
            variable = tf.Variable(0.0)
            values = []
            for _ in range(SCHEDULE_STEPS):
                optimizer.apply_gradients([(tf.constant(1.0), variable)])
                values.append(float(variable.numpy()))
            arrays["optimizer_values"] = np.array(values)
        except Exception as exc:  # noqa: BLE001
            from .child import last_line

            facts["error_optimizer"] = last_line(exc)
    model = None
    with rec.probe("learns") as (facts, arrays):
        form = "flat" if "flat" in models or not models else "images"
        facts["form"] = form
        data = (_shaped(inputs["train_x"].astype(np.float32), form), inputs["train_y"].astype(np.float32),
                _shaped(inputs["val_x"].astype(np.float32), form))
        # Compiled steps are several times faster than the eager ones the template asks for; a model that
        # only runs eagerly is trained again eagerly.
        eager = tf.config.functions_run_eagerly()
        try:
            tf.config.run_functions_eagerly(False)
            model = _learn(Net, data, arrays)
        except Exception:  # noqa: BLE001 - the eager run below reports the team's error, if any
            tf.config.run_functions_eagerly(True)
            facts["eager"] = True
            model = _learn(Net, data, arrays)
        finally:
            tf.config.run_functions_eagerly(eager)
        facts["epochs"] = TF_EPOCHS
    with rec.probe("loss") as (facts, arrays):
        if model is None or getattr(model, "loss", None) is None:
            model = Net(list(TF_SIZES), random_state=1)
            form = "flat" if "flat" in models or not models else "images"
            model.compile_and_fit(_shaped(inputs["train_x"][:TF_BATCH].astype(np.float32), form),
                                  inputs["train_y"][:TF_BATCH].astype(np.float32), epochs=1,
                                  learning_rate=TF_RATE, batch_size=TF_BATCH)
        loss = model.loss
        facts["loss"] = loss if isinstance(loss, str) else type(loss).__name__
        function = tf.keras.losses.get(loss) if isinstance(loss, str) else loss
        y_true, y_pred = inputs["loss_true"].astype(np.float32), inputs["loss_pred"].astype(np.float32)
        arrays["values"] = np.array([float(np.asarray(function(y_true[i:i + 1], y_pred[i:i + 1])))
                                     for i in range(len(y_true))])
