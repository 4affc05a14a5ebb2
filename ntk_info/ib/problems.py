"""IB problems: validation of a joint p(x, y), exponential-family problems, built-in instances.

A problem is the joint p(x, y) as an (|X|, |Y|) array. Exponential-family problems
(spec dualib.md §2.1) also carry the natural parameters lambda(y), the statistics A(x) and p(x):
p(y|x) = exp(-sum_r lambda_r(y) A_r(x) - lambda_0(x)), lambda_0(x) = log sum_y exp(-lambda(y).A(x)).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import log_softmax

from ntk_info._checks import as_float_array

__all__ = [
    "ExponentialFamilyProblem",
    "exponential_family_problem",
    "binary_exponential_problem",
    "random_joint",
    "random_exponential_family",
    "validate_joint",
    "validate_betas",
    "ValidatedJoint",
]

SUM_TOLERANCE = 1e-9


@dataclass(frozen=True, eq=False)
class ValidatedJoint:
    """A checked joint with its derived marginals and conditionals (float64).

    Attributes:
      pxy: (|X|, |Y|) joint summing to 1, rows with p(x) = 0 removed.
      px: (|X|,) marginal of X, all > 0.
      py_x: (|X|, |Y|) conditional p(y|x).
      kept_rows: indices of the rows of the user's joint that were kept.
    """

    pxy: np.ndarray
    px: np.ndarray
    py_x: np.ndarray
    kept_rows: np.ndarray


def validate_joint(
    pxy: Any,
    *,
    method: str = "ib",
    normalize: bool = False,
    floor: float | None = None,
    name: str = "pxy",
) -> ValidatedJoint:
    """Checks a joint p(x, y) and returns it with p(x) and p(y|x), or raises a clear error.

    Checks: numeric 2-D finite array, no negative entries, sums to 1 (or `normalize=True`),
    rows with p(x) = 0 dropped with a warning; for the dualIB, p(y|x) > 0 everywhere unless
    `floor` is given, in which case p(y|x) is clipped at `floor` and renormalised.

    Args:
      pxy: (|X|, |Y|) joint.
      method: 'ib' or 'dualib' (the dualIB distortion D[p(y|t) || p(y|x)] needs p(y|x) > 0).
      normalize: divide by the total instead of raising when it is not 1.
      floor: if given, p(y|x) := max(p(y|x), floor) renormalised over y (a noise model).
      name: the argument's name for messages.

    Returns:
      a ValidatedJoint.
    """
    array = as_float_array(name, pxy, ndim=2)
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"`{name}` must be a non-empty (|X|, |Y|) array, got {array.shape}.")
    if np.any(array < 0):
        raise ValueError(
            f"`{name}` has {int(np.sum(array < 0))} negative entries; a joint distribution "
            "must be >= 0 everywhere."
        )
    total = float(array.sum())
    if total <= 0:
        raise ValueError(f"`{name}` sums to 0; it must be a joint distribution summing to 1.")
    if abs(total - 1.0) > SUM_TOLERANCE:
        if not normalize:
            raise ValueError(
                f"`{name}` sums to {total:.12g}, not 1; pass normalize=True to divide by the "
                "total, or fix the joint."
            )
    array = array / total
    px_all = array.sum(axis=1)
    kept = np.flatnonzero(px_all > 0)
    if kept.size < array.shape[0]:
        dropped = np.flatnonzero(px_all == 0)
        warnings.warn(
            f"`{name}` has {dropped.size} row(s) with p(x) = 0 (indices {dropped.tolist()[:10]}); "
            "they are dropped, and the encoder's x axis refers to the kept rows "
            "(result.kept_rows).",
            UserWarning,
            stacklevel=3,
        )
    array = array[kept]
    px = array.sum(axis=1)
    py_x = array / px[:, None]
    if floor is not None:
        floor = float(floor)
        if not np.isfinite(floor) or not 0 < floor < 1.0 / array.shape[1]:
            raise ValueError(
                f"`floor` must be in (0, 1/|Y|) = (0, {1.0 / array.shape[1]:.3g}), got {floor}; "
                "a typical noise floor is 1e-12."
            )
        py_x = np.maximum(py_x, floor)
        py_x = py_x / py_x.sum(axis=1, keepdims=True)
        array = px[:, None] * py_x
    elif method == "dualib" and np.any(py_x == 0):
        zeros = int(np.sum(py_x == 0))
        raise ValueError(
            f"`{name}` has p(y|x) = 0 for {zeros} (x, y) pair(s); the dualIB distortion "
            "D[p(y|t) || p(y|x)] is infinite there. Use a label-noise model for p(y|x), or "
            "pass floor=1e-12 to clip p(y|x) at a floor and renormalise."
        )
    return ValidatedJoint(pxy=array, px=px, py_x=py_x, kept_rows=kept)


def validate_betas(betas: Any) -> np.ndarray:
    """Checks the trade-off parameters: a 1-D finite array of beta > 0 (a scalar is allowed).

    Args:
      betas: scalar or 1-D array.

    Returns:
      1-D float64 array.
    """
    array = np.atleast_1d(as_float_array("betas", betas, ndim=(0, 1)))
    if array.size == 0:
        raise ValueError("`betas` is empty; pass at least one beta > 0.")
    if np.any(array <= 0):
        raise ValueError(
            f"`betas` must all be > 0 (beta trades I(X;T) against the distortion), "
            f"got min {array.min()}; beta = 0 is the trivial one-cluster solution."
        )
    return array


@dataclass(frozen=True, eq=False)
class ExponentialFamilyProblem:
    """An exponential-family IB problem p(y|x) = softmax_y(-lambda(y).A(x)), with p(x).

    Attributes:
      lam: (|Y|, d) natural parameters lambda_r(y).
      A: (d, |X|) statistics A_r(x).
      px: (|X|,) marginal of X.
      x_values: optional (|X|,) labels of x for plots.
      y_values: optional (|Y|,) labels of y for plots.

    Reference: Piran, Shwartz-Ziv & Tishby, arXiv:2006.04641, exponential-family section.
    """

    lam: np.ndarray
    A: np.ndarray
    px: np.ndarray
    x_values: np.ndarray | None = field(default=None)
    y_values: np.ndarray | None = field(default=None)

    @property
    def log_py_x(self) -> np.ndarray:
        """(|X|, |Y|) log p(y|x) = -lambda(y).A(x) - lambda_0(x)."""
        return log_softmax(-(self.A.T @ self.lam.T), axis=1)

    @property
    def py_x(self) -> np.ndarray:
        """(|X|, |Y|) p(y|x)."""
        return np.exp(self.log_py_x)

    @property
    def pxy(self) -> np.ndarray:
        """(|X|, |Y|) joint p(x) p(y|x)."""
        return self.px[:, None] * self.py_x

    @property
    def n_statistics(self) -> int:
        """d, the number of statistics."""
        return int(self.A.shape[0])


def exponential_family_problem(
    lam: Any, A: Any, px: Any, *, x_values: Any = None, y_values: Any = None
) -> ExponentialFamilyProblem:
    """Builds an exponential-family problem from (lambda, A, p(x)), checking shapes and values.

    p(y|x) = exp(-sum_r lambda_r(y) A_r(x) - lambda_0(x)).

    Args:
      lam: (|Y|, d) natural parameters (a 1-D array is read as d = 1).
      A: (d, |X|) statistics (a 1-D array is read as d = 1).
      px: (|X|,) marginal of X, > 0, summing to 1.
      x_values, y_values: optional labels for plots.

    Returns:
      an ExponentialFamilyProblem.

    Reference: spec dualib.md §2.1.
    """
    lam = as_float_array("lam", lam, ndim=(1, 2))
    A = as_float_array("A", A, ndim=(1, 2))
    px = as_float_array("px", px, ndim=1)
    if lam.ndim == 1:
        lam = lam[:, None]
    if A.ndim == 1:
        A = A[None, :]
    if lam.shape[1] != A.shape[0]:
        raise ValueError(
            f"`lam` (|Y|, d) and `A` (d, |X|) disagree on d: lam {lam.shape}, A {A.shape}."
        )
    if px.shape[0] != A.shape[1]:
        raise ValueError(f"`px` has {px.shape[0]} entries but `A` has |X| = {A.shape[1]} columns.")
    if np.any(px <= 0) or abs(px.sum() - 1) > SUM_TOLERANCE:
        raise ValueError(
            "`px` must be > 0 and sum to 1 (drop states with p(x) = 0), "
            f"got min {px.min()}, sum {px.sum()}."
        )
    return ExponentialFamilyProblem(
        lam=lam,
        A=A,
        px=px,
        x_values=None if x_values is None else np.asarray(x_values),
        y_values=None if y_values is None else np.asarray(y_values),
    )


def binary_exponential_problem() -> ExponentialFamilyProblem:
    """The binary exponential-family problem of the dualIB paper (spec dualib.md §3).

    x in linspace(-1, 0.6, 5), A(x) = x, y in {-1, +1}, lambda(y) = y, p(x) = 1/5:
    p(y|x) = exp(-y x) / (2 cosh x), so p(y=+1|x) = [0.8808, 0.7685, 0.5987, 0.4013, 0.2315].

    Returns:
      the ExponentialFamilyProblem; `.pxy` is the (5, 2) joint, column 1 is y = +1.

    Reference: Piran, Shwartz-Ziv & Tishby, arXiv:2006.04641; `BA/main_example.py` of
    github.com/ravidziv/dual_IB at ab348c8^.
    """
    x = np.linspace(-1.0, 0.6, 5)
    y = np.array([-1.0, 1.0])
    return exponential_family_problem(
        lam=y[:, None], A=x[None, :], px=np.full(5, 0.2), x_values=x, y_values=y
    )


def random_joint(
    n_x: int, n_y: int, *, seed: int = 0, concentration: float = 1.0, strictly_positive: bool = True
) -> np.ndarray:
    """A random joint p(x, y) with p(x) ~ Dirichlet(1) and rows p(y|x) ~ Dirichlet(concentration).

    Args:
      n_x, n_y: |X| and |Y|.
      seed: seed of numpy's default_rng.
      concentration: Dirichlet parameter of the rows (small = peaked, informative rows).
      strictly_positive: clip p(y|x) at 1e-6 and renormalise, so the dualIB is defined.

    Returns:
      (n_x, n_y) joint summing to 1.
    """
    rng = np.random.default_rng(seed)
    px = rng.dirichlet(np.ones(n_x))
    py_x = rng.dirichlet(np.full(n_y, float(concentration)), size=n_x)
    if strictly_positive:
        py_x = np.maximum(py_x, 1e-6)
        py_x /= py_x.sum(axis=1, keepdims=True)
    pxy = px[:, None] * py_x
    return pxy / pxy.sum()


def random_exponential_family(
    n_x: int = 8, n_y: int = 3, d: int = 2, *, seed: int = 0, scale: float = 1.0
) -> ExponentialFamilyProblem:
    """A random exponential-family problem: lambda, A ~ N(0, scale^2), p(x) ~ Dirichlet(5).

    Args:
      n_x, n_y: |X| and |Y|.
      d: number of statistics.
      seed: seed of numpy's default_rng.
      scale: standard deviation of lambda and A (larger = more informative p(y|x)).

    Returns:
      an ExponentialFamilyProblem.
    """
    rng = np.random.default_rng(seed)
    lam = scale * rng.standard_normal((n_y, d))
    A = scale * rng.standard_normal((d, n_x))
    px = rng.dirichlet(np.full(n_x, 5.0))
    return exponential_family_problem(lam, A, px)
