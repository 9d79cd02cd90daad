"""Test-set metrics: accuracy, cross-entropy, confusion matrix, per-class precision and recall."""
from __future__ import annotations

import numpy as np

from .functional import nll

__all__ = ["confusion_matrix", "precision_recall", "classification_metrics"]


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Counts ``C[i, j]`` of samples of class ``i`` predicted as ``j``, int64 (n_classes, n_classes)."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D of the same length, got {y_true.shape} and {y_pred.shape}")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(f"{name} must be in 0..{n_classes - 1}, got {y.min()}..{y.max()}")
    return np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def precision_recall(cm) -> tuple[np.ndarray, np.ndarray]:
    """Per-class precision ``C[k, k] / sum_i C[i, k]`` and recall ``C[k, k] / sum_j C[k, j]``.

    A class never predicted (or never present) gets 0, as scikit-learn's
    ``zero_division`` default does.
    """
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    return precision, recall


def classification_metrics(proba, y_true) -> dict:
    """Everything ``metrics.json`` and ``ffnn evaluate`` report for probabilities ``proba`` (n, k).

    Returns a dict with ``test_accuracy``, ``test_loss`` (mean cross-entropy,
    as :func:`ffnn.functional.nll`), ``n_test``, ``confusion_matrix`` (k, k)
    and ``per_class``: a list of ``{class, precision, recall, support}``.
    """
    proba = np.asarray(proba, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=np.int64)
    if proba.ndim != 2 or len(proba) != len(y_true):
        raise ValueError(f"proba must be (n, k) for n={len(y_true)} labels, got {proba.shape}")
    k = proba.shape[1]
    y_pred = proba.argmax(axis=1)
    cm = confusion_matrix(y_true, y_pred, k)
    precision, recall = precision_recall(cm)
    loss = nll(proba, y_true)
    return {
        "test_accuracy": float(np.mean(y_pred == y_true)),
        "test_loss": loss,
        "n_test": int(len(y_true)),
        "confusion_matrix": cm.tolist(),
        "per_class": [
            {"class": c, "precision": float(precision[c]), "recall": float(recall[c]),
             "support": int(cm[c].sum())}
            for c in range(k)
        ],
    }
