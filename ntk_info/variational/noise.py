"""Label-noise models p~(y|x): soft labels that stand in for p(y|x) (rows sum to 1).

Dataset labels are deterministic, so p(y|x) is one-hot and the dual distortion
KL[q(y|z) || p(y|x)] is infinite wherever q puts mass off the label; the VdualIB therefore
needs a noise model with p~(y|x) > 0 (spec dualib.md §4, `label_noise_type`). Each model is a
frozen dataclass called as `model(classes, x, n_classes) -> (n, K)` float64 probabilities.

- `ConfusionNoise(matrix)`: p~(y|x) = M[y_true(x), :] / sum_y M[y_true(x), y], a confusion
  matrix given as counts (rows = true class), floored at `floor` and renormalised. Rows are
  normalised by their own sums (the reference divided column j by row sum j).
- `confusion_matrix(true, predicted)` / `ConfusionNoise.from_classifier(predict, x, classes)`:
  the matrix estimated from a trained classifier's confusions.
- `LabelSmoothing(epsilon)`: (1 - epsilon) one-hot + epsilon / K (the reference's
  `smooth_noise` is epsilon = 0.02: 0.98 one-hot + 0.002).
- `GaussianNoise(sigma, seed)`: one-hot + N(0, sigma^2) per entry, clipped to [floor, 1],
  renormalised (the reference's `gaussian_noise`); the same seed gives the same soft labels.
- `TeacherNoise(predict)`: softmax of a trained teacher's logits, floored and renormalised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ntk_info._checks import as_float_array, check_count, check_positive
from ntk_info.discrete import normalize

__all__ = [
    "ConfusionNoise",
    "LabelSmoothing",
    "GaussianNoise",
    "TeacherNoise",
    "confusion_matrix",
    "check_classes",
    "FLOOR",
]

# p~ floor: keeps log p~ finite (the reference clips to [1e-7, 1 - 1e-7]).
FLOOR = 1e-7


def check_classes(classes: Any, n_classes: int, name: str = "classes") -> np.ndarray:
    """Integer class labels in [0, n_classes) as int64 (n,), or a ValueError naming `name`."""
    array = np.asarray(classes)
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"`{name}` must be a 1-D integer array of class indices, got {array.dtype} "
            f"{array.shape}."
        )
    if array.size and (array.min() < 0 or array.max() >= n_classes):
        raise ValueError(
            f"`{name}` has label indices out of range [0, {n_classes}): min {array.min()}, "
            f"max {array.max()}; relabel the classes as 0..{n_classes - 1}."
        )
    return array.astype(np.int64)


def _floor_rows(p: np.ndarray, floor: float) -> np.ndarray:
    """max(p, floor) renormalised over the last axis (rows sum to 1, entries > 0)."""
    return normalize(np.maximum(p, floor), axis=-1)


def confusion_matrix(true: Any, predicted: Any, n_classes: int) -> np.ndarray:
    """Confusion counts C[i, j] = #{true = i, predicted = j}, shape (K, K) float64.

    Args:
      true, predicted: (n,) integer classes in [0, n_classes).
      n_classes: K.

    Returns:
      (K, K) counts; rows = true class.
    """
    n_classes = check_count("n_classes", n_classes, 2, "the number of classes")
    true = check_classes(true, n_classes, "true")
    predicted = check_classes(predicted, n_classes, "predicted")
    if true.shape != predicted.shape:
        raise ValueError(
            f"`true` {true.shape} and `predicted` {predicted.shape} must have the same length."
        )
    counts = np.zeros((n_classes, n_classes))
    np.add.at(counts, (true, predicted), 1.0)
    return counts


@dataclass(frozen=True, eq=False)
class ConfusionNoise:
    """p~(y|x) = row y_true(x) of a row-normalised confusion matrix (counts or probabilities).

    Attributes:
      matrix: (K, K) non-negative, rows = true class; every row needs a positive sum.
      floor: entries are floored at this value, then rows renormalised (p~ > 0).
    """

    matrix: Any
    floor: float = FLOOR
    rows: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        matrix = as_float_array("matrix", self.matrix, ndim=2)
        if matrix.shape[0] != matrix.shape[1] or matrix.shape[0] < 2:
            raise ValueError(
                f"`matrix` must be a square (K, K) confusion matrix with K >= 2, got shape "
                f"{matrix.shape}."
            )
        if np.any(matrix < 0):
            raise ValueError("`matrix` has negative entries; give counts or probabilities.")
        sums = matrix.sum(axis=1)
        if np.any(sums <= 0):
            raise ValueError(
                f"`matrix` has zero rows {np.flatnonzero(sums <= 0).tolist()}: every true class "
                "needs at least one count (add a pseudo-count, e.g. matrix + 1)."
            )
        check_positive("floor", self.floor)
        rows = _floor_rows(matrix / sums[:, None], self.floor)
        object.__setattr__(self, "rows", rows)

    @classmethod
    def from_classifier(
        cls, predict: Callable[[np.ndarray], Any], x: Any, classes: Any, *, floor: float = FLOOR
    ) -> ConfusionNoise:
        """The confusion matrix of a trained classifier on (x, classes).

        Args:
          predict: x -> (n, K) scores or probabilities (argmax is the prediction), e.g.
            `VariationalResult.predict`.
          x: (n, ...) inputs; classes: (n,) their true classes.

        Returns:
          `ConfusionNoise` with the counts C[true, predicted] (a true class never seen raises).
        """
        scores = np.asarray(predict(x))
        n_classes = scores.shape[-1]
        return cls(confusion_matrix(classes, np.argmax(scores, axis=-1), n_classes), floor=floor)

    def __call__(self, classes: Any, x: Any, n_classes: int) -> np.ndarray:
        """(n, K) soft labels: the matrix's rows at the true classes."""
        if self.rows.shape[0] != n_classes:
            raise ValueError(
                f"`matrix` is {self.rows.shape} but the data have {n_classes} classes; give a "
                f"({n_classes}, {n_classes}) confusion matrix."
            )
        return self.rows[check_classes(classes, n_classes)]


@dataclass(frozen=True)
class LabelSmoothing:
    """p~(y|x) = (1 - epsilon) one-hot(y_true) + epsilon / K, 0 < epsilon <= 1."""

    epsilon: float = 0.02

    def __post_init__(self) -> None:
        if not 0 < float(self.epsilon) <= 1:
            raise ValueError(f"`epsilon` must be in (0, 1], got {self.epsilon}.")

    def __call__(self, classes: Any, x: Any, n_classes: int) -> np.ndarray:
        """(n, K) smoothed labels."""
        classes = check_classes(classes, n_classes)
        eye = np.eye(n_classes)[classes]
        return (1.0 - self.epsilon) * eye + self.epsilon / n_classes


@dataclass(frozen=True)
class GaussianNoise:
    """p~(y|x) = normalise(clip(one-hot(y_true) + sigma * N(0, I), floor, 1)), seeded."""

    sigma: float = 0.1
    seed: int = 0
    floor: float = FLOOR

    def __post_init__(self) -> None:
        check_positive("sigma", self.sigma)
        check_positive("floor", self.floor)

    def __call__(self, classes: Any, x: Any, n_classes: int) -> np.ndarray:
        """(n, K) perturbed labels; row i depends only on (seed, n, i)."""
        classes = check_classes(classes, n_classes)
        noise = np.random.default_rng(self.seed).normal(size=(classes.size, n_classes))
        noisy = np.eye(n_classes)[classes] + self.sigma * noise
        return _floor_rows(np.clip(noisy, self.floor, 1.0), self.floor)


@dataclass(frozen=True, eq=False)
class TeacherNoise:
    """p~(y|x) = softmax(teacher logits(x) / temperature), floored and renormalised.

    Attributes:
      predict: x -> (n, K) logits of a trained (frozen) teacher.
      temperature: > 0; 1 is the teacher's own softmax.
      floor: see `ConfusionNoise`.
    """

    predict: Callable[[np.ndarray], Any]
    temperature: float = 1.0
    floor: float = FLOOR

    def __post_init__(self) -> None:
        if not callable(self.predict):
            raise TypeError(f"`predict` must be callable x -> logits, got {type(self.predict)}.")
        check_positive("temperature", self.temperature)

    def __call__(self, classes: Any, x: Any, n_classes: int) -> np.ndarray:
        """(n, K) teacher probabilities (the true classes are not used)."""
        logits = as_float_array("teacher logits", self.predict(x), ndim=2)
        if logits.shape != (np.shape(x)[0], n_classes):
            raise ValueError(
                f"the teacher returned logits of shape {logits.shape}; expected "
                f"({np.shape(x)[0]}, {n_classes})."
            )
        scaled = logits / self.temperature
        scaled = scaled - scaled.max(axis=1, keepdims=True)
        return _floor_rows(normalize(np.exp(scaled), axis=1), self.floor)
