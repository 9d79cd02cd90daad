"""ffnn: one fully-connected feed-forward classifier, built three ways.

``NeuralNetwork`` (NumPy, from scratch) imports nothing heavy;
``NeuralNetworkTorch``, ``NeuralNetworkTf`` and ``TimeBasedLearningRate`` import
PyTorch or TensorFlow on first access only.
"""
from . import data
from .config import TrainConfig
from .data import load_dataset, load_mnist
from .history import History
from .schedules import Constant, TimeBased

__version__ = "0.1.0"

_LAZY = {
    "NeuralNetwork": ("ffnn.backends.numpy_net", "NeuralNetwork"),
    "NeuralNetworkTorch": ("ffnn.backends.torch_net", "NeuralNetworkTorch"),
    "NeuralNetworkTf": ("ffnn.backends.tf_net", "NeuralNetworkTf"),
    "TimeBasedLearningRate": ("ffnn.backends.tf_net", "TimeBasedLearningRate"),
}

__all__ = ["data", "load_mnist", "load_dataset", "TrainConfig", "History", "Constant", "TimeBased",
           *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ffnn' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
