"""What the three backends share (``ffnn.backends.common``): chunks, device names, pixels, the array API."""
import numpy as np
import pytest

from ffnn.backends import common
from ffnn.data import to_float


def test_chunks_cover_the_rows_once_in_order():
    assert [(s.start, s.stop) for s in common.chunks(20, size=8)] == [(0, 8), (8, 16), (16, 24)]
    assert list(common.chunks(0)) == []
    x = np.arange(20_000)
    np.testing.assert_array_equal(np.concatenate([x[s] for s in common.chunks(len(x))]), x)


@pytest.mark.parametrize("given, name", [("auto", "auto"), ("cpu", "cpu"), ("cuda", "cuda"), ("gpu", "cuda")])
def test_device_names(given, name):
    assert common.device_name(given) == name


@pytest.mark.parametrize("backend", ["numpy", "torch", "tensorflow"])
def test_every_backend_refuses_an_unknown_device_in_the_same_words(backend):
    from ffnn.backends import get_backend

    pytest.importorskip({"numpy": "numpy", "torch": "torch", "tensorflow": "tensorflow"}[backend])
    from ffnn.config import TrainConfig

    with pytest.raises(ValueError, match=r"^device must be one of auto, cpu, cuda \(or gpu, the same as cuda\), "
                                         r"got 'tpu'$"):
        get_backend(backend).build(TrainConfig(layer_sizes=(4, 3)), device="tpu")


def test_torch_and_tensorflow_take_the_same_device_names():
    torch = pytest.importorskip("torch")
    pytest.importorskip("tensorflow")
    from ffnn.backends import tf_net, torch_net

    assert str(torch_net.resolve_device("cpu")) == "cpu" and tf_net.resolve_device("cpu") == "/CPU:0"
    if torch.cuda.is_available():
        assert str(torch_net.resolve_device("gpu")) == str(torch_net.resolve_device("cuda")) == "cuda"
    else:
        for device in ("gpu", "cuda"):
            with pytest.raises(ValueError, match="device 'cuda' was asked for but PyTorch sees no CUDA GPU"):
                torch_net.resolve_device(device)
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        assert tf_net.resolve_device("gpu") == tf_net.resolve_device("cuda") == "/GPU:0"
    else:
        for device in ("gpu", "cuda"):
            with pytest.raises(ValueError, match="device 'cuda' was asked for but TensorFlow sees no GPU"):
                tf_net.resolve_device(device)


def test_uint8_pixels_are_scaled_as_arrays_are():
    pixels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    expected = to_float(pixels)  # float32(x) / 255
    np.testing.assert_array_equal(common.scale_uint8(pixels, lambda a: a.astype(np.float32)), expected)
    torch = pytest.importorskip("torch")
    scaled = common.scale_uint8(torch.from_numpy(pixels), lambda t: t.to(torch.float32))
    np.testing.assert_array_equal(scaled.numpy(), expected)


def test_problem_set_names():
    assert common.problem_set_names("sizes") == {"layer_sizes": "sizes", "seed": "random_state"}
