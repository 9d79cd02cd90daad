"""The time-based schedule is one schedule in every backend.

The NumPy and PyTorch backends ask :class:`ffnn.schedules.TimeBased` for the
rate of each step; Keras asks :class:`ffnn.TimeBasedLearningRate`. One table,
worked by hand from eta(t) = max(eta_0 - t, 1) with eta_0 = 10, checks both,
and the rate a Keras SGD optimizer really applies at that step.
"""
import numpy as np
import pytest

from ffnn.schedules import TimeBased

# step t: max(10 - t, 1)
TABLE = [(0, 10.0), (1, 9.0), (5, 5.0), (9, 1.0), (10, 1.0), (1000, 1.0)]
INVALID = [0, -3, 2.5, "10", True]


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("tensorflow")
    import keras

    return keras


def _rate_applied_by_sgd(keras, schedule, step):
    """Set the optimizer to ``step``, apply a gradient of 1 to a weight at 0: the weight moves by -rate."""
    optimizer = keras.optimizers.SGD(learning_rate=schedule)
    w = keras.Variable(np.zeros(1, np.float32))
    optimizer.build([w])
    optimizer.iterations.assign(step)
    optimizer.apply_gradients([(np.ones(1, np.float32), w)])
    return -float(w.numpy()[0])


@pytest.mark.parametrize("step, rate", TABLE)
def test_numpy_and_torch_schedule(step, rate):
    assert TimeBased(10)(step) == rate


@pytest.mark.tf
@pytest.mark.parametrize("step, rate", TABLE)
def test_keras_schedule_and_the_rate_sgd_applies(keras, step, rate):
    from ffnn import TimeBasedLearningRate

    schedule = TimeBasedLearningRate(10)
    assert float(keras.ops.convert_to_numpy(schedule(step))) == rate
    assert _rate_applied_by_sgd(keras, schedule, step) == rate


def test_time_based_starts_at_one():
    assert [TimeBased(1)(t) for t in (0, 1, 50)] == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("bad", INVALID)
def test_time_based_rejects(bad):
    with pytest.raises(ValueError, match=f"initial_learning_rate must be a positive integer, got {bad!r}"):
        TimeBased(bad)


@pytest.mark.tf
@pytest.mark.parametrize("bad", INVALID)
def test_keras_schedule_rejects(keras, bad):
    from ffnn import TimeBasedLearningRate

    with pytest.raises(ValueError, match=f"initial_learning_rate must be a positive integer, got {bad!r}"):
        TimeBasedLearningRate(bad)


@pytest.mark.tf
def test_keras_schedule_serialises(keras):
    from ffnn import TimeBasedLearningRate

    config = keras.saving.serialize_keras_object(TimeBasedLearningRate(7))
    assert config["config"] == {"initial_learning_rate": 7}
    restored = keras.saving.deserialize_keras_object(config)  # found through its registration alone
    assert isinstance(restored, TimeBasedLearningRate)
    assert float(keras.ops.convert_to_numpy(restored(3))) == 4.0
