"""The fixed inputs and settings of ``ffnn check``'s probes (the same for every submission).

The ``*.learns`` protocol, one for each network, on the bundled MNIST (read
here, in the checking process, and handed to the child as arrays):

- data: the first :data:`N_IMAGES` training images, the first :data:`N_TRAIN`
  to train on and the rest to validate, as the course's notebook splits its
  first 1,000 images 80/20; pixels scaled to [0, 1] as flat 784-vectors
  (Keras: 28x28 images when the team's model takes only those);
- scratch: ``NeuralNetwork([784, 32, 10], learning_rate=1.5)``, the course's
  rate, one sample per step, :data:`SCRATCH_EPOCHS` epochs;
- torch: ``NeuralNetworkTorch([784, 32, 10], learning_rate=r)``, the team's
  own ``_forward_pass``/``_backward_pass``/``_update_weights`` in the template's
  loop (zero_grad, forward, backward, update), one sample per step,
  :data:`TORCH_EPOCHS` epochs, once for each rate ``r`` of :data:`TORCH_RATES`
  (0.1 suits cross-entropy, 1.5 the softmax's MSE); the better run counts;
- tf: ``NeuralNetworkTf([784, 10])`` and the team's
  ``compile_and_fit(learning_rate=1.0, batch_size=16)``, called once per epoch, :data:`TF_EPOCHS` epochs;
- passed: the validation accuracy after the last epoch is at least
  :data:`LEARNS_ACCURACY` (chance is 10%). A correct network of each kind
  reaches 65-85% here in one to two seconds.

The accuracy is computed here from the outputs the network gives for the
validation images, not taken from the team's own ``compute_accuracy``.
"""
from __future__ import annotations

import functools

import numpy as np

__all__ = ["N_IMAGES", "N_TRAIN", "LEARNS_ACCURACY", "learning_data", "probe_samples", "spread_weights", "one_hot"]

N_IMAGES = 1000
N_TRAIN = 800
LEARNS_ACCURACY = 0.5

SCRATCH_SIZES = (784, 32, 10)
SCRATCH_RATE = 1.5
SCRATCH_EPOCHS = 2

TORCH_SIZES = (784, 32, 10)
#: The learning protocol trains at each rate and keeps the better run: 0.1 suits cross-entropy, 1.5 (the
#: course's rate) the mean squared error of a softmax, whose gradients are about ten times smaller.
TORCH_RATES = (0.1, 1.5)
TORCH_EPOCHS = 2

#: Keras's problem-set class makes a Dense layer of every entry, so this is one sigmoid layer of 784 units and
#: the softmax (a deeper sigmoid stack sits on a plateau near 15% for longer than the check can wait).
TF_SIZES = (784, 10)
TF_RATE = 1.0
TF_BATCH = 16
TF_EPOCHS = 2

#: ``tf.schedule`` asks ``TimeBasedLearningRate(SCHEDULE_START)`` for its rate at steps 0 ... SCHEDULE_START + 2.
SCHEDULE_START = 5
SCHEDULE_STEPS = SCHEDULE_START + 3

#: The sizes of the small networks whose forward and backward passes are compared with the reference:
#: two hidden layers, so a mistake in passing the error back through a hidden layer shows.
PROBE_SIZES = (784, 16, 12, 10)
PROBE_RATE = 0.1
#: The classes :func:`spread_weights` gives the probe samples, so that ``predict`` is asked for different answers.
SPREAD_CLASSES = (3, 7, 0, 5, 9, 2)


@functools.lru_cache(maxsize=1)
def learning_data():
    """``(x, labels)``: the first :data:`N_IMAGES` MNIST training images, float64 (n, 784) in [0, 1], int64."""
    from ffnn.data import load_dataset, prepare_images

    (x, y), _ = load_dataset("mnist")
    return prepare_images(x[:N_IMAGES]).astype(np.float64), y[:N_IMAGES].astype(np.int64)


def probe_samples(n: int = 8):
    """``(x, labels)`` of ``n`` validation images for the forward, backward and predict probes."""
    x, y = learning_data()
    return x[N_TRAIN:N_TRAIN + n], y[N_TRAIN:N_TRAIN + n]


def spread_weights(x, rng) -> dict:
    """Weights under which each probe sample gets another class (:data:`SPREAD_CLASSES`), for ``predict``.

    Hidden unit j of the first layer responds to sample j (its row is the
    sample minus the mean, scaled), the second layer keeps the strongest of
    those, and the output layer maps unit j to class ``SPREAD_CLASSES[j]``.
    """
    d = x - x.mean(axis=0)
    w1 = rng.standard_normal((PROBE_SIZES[1], PROBE_SIZES[0])) * 0.01
    w1[:len(x)] = 4 * d / np.linalg.norm(d, axis=1, keepdims=True) ** 2
    w2 = rng.standard_normal((PROBE_SIZES[2], PROBE_SIZES[1])) * 0.1
    w2[:len(x), :len(x)] += np.eye(len(x)) * 8 - 3
    w3 = rng.standard_normal((PROBE_SIZES[3], PROBE_SIZES[2])) * 0.1
    for j, c in enumerate(SPREAD_CLASSES[:len(x)]):
        w3[c, j] += 8
    return {"pw_0": w1, "pw_1": w2, "pw_2": w3}


def one_hot(labels, k: int = 10):
    out = np.zeros((len(labels), k))
    out[np.arange(len(labels)), labels] = 1.0
    return out
