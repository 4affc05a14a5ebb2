"""The contract of every public quantity of `ntk_info.information` (DESIGN.md conventions).

For each quantity that depends on the training time:
  * return convention: a deterministic quantity is a (T,) float64 array; a Monte Carlo one a
    `mixture.MIEstimate` of (T,) float64 arrays (value and se);
  * NaN anywhere in its inputs x, y or t is a ValueError, never a silent NaN;
  * it is a function of each time on its own: permuting the grid permutes the output, and the
    same (t, seed) gives the same numbers in a subset grid and in a superset grid.
`information_plane` itself satisfies the last two row by row. Every name in `__all__` is either
checked here or listed, with the reason, in `NOT_TIME_QUANTITIES`.

The problems are small (n = 30 training, m = 40 evaluation points). Equal numbers are compared
at rtol 1e-9: the predictive moments of one time are the same products whatever the grid, up to
BLAS blocking (~1e-15), and every draw of z is keyed by (seed, t).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pytest

from ntk_info import InfiniteEnsemble, architectures, data, information, mixture

T = np.array([0.0, 2.0, 20.0, 200.0, np.inf])
PERMUTATION = np.array([3, 0, 4, 2, 1])
SUBSET = np.array([1, 3])  # T[SUBSET] is the subset grid
SUPERSET = np.concatenate([[7.0], T[::-1], [1e4]])  # T reversed inside a larger grid
IN_SUPERSET = np.array([5, 4, 3, 2, 1])  # SUPERSET[IN_SUPERSET] == T
RTOL, ATOL = 1e-9, 1e-12

#: Public names that are not quantities over the time grid, and why they are exempt here.
NOT_TIME_QUANTITIES = {
    "LABEL_KINDS": "constant",
    "SIGMA2_RANGE": "constant",
    "JITTER": "constant",
    "LOG_2PI": "constant",
    "Labels": "Literal type",
    "LabelKind": "Literal type",
    "FitOn": "Literal type",
    "Form": "Literal type",
    "On": "Literal type",
    "PlaneOptions": "options dataclass (validated in test_information.py)",
    "label_kind": "function of y only (NaN checked below)",
    "discrete_entropy": "function of y only (NaN checked below)",
    "kernel_scale_derivative": "function of x only (NaN checked below)",
    "izx_rows": "indices of the I(Z;X) batch, no times (test_information.py)",
    "information_plane": "checked row by row below",
    "information_plane_from_dataset": "information_plane on a Dataset (test_information.py)",
}


class Problem(NamedTuple):
    ensemble: InfiniteEnsemble
    x: np.ndarray
    y: np.ndarray
    entropy_y: float | None
    dk_dscale: np.ndarray


def _problem(labels: str) -> Problem:
    rng = np.random.default_rng(0)
    if labels == "regression":
        ds = data.gaussian(30, 40, d_x=5, seed=2)
        out_dim, h = 1, ds.entropy_y()
    else:
        x = rng.normal(size=(70, 5))
        classes = np.argmax(x[:, :3] + 0.7 * rng.normal(size=(70, 3)), axis=1)
        ds = data.from_arrays(x[:30], classes[:30], x[30:], classes[30:], n_classes=3)
        out_dim, h = 3, None

    def make(s: float):
        return architectures.fc(2, activation="erf", W_std=1.4 * s, b_std=0.2 * s, out_dim=out_dim)

    ensemble = InfiniteEnsemble(make(1.0), ds.x_train, ds.y_train)
    dk = information.kernel_scale_derivative(make, ds.x_train)
    return Problem(ensemble, ds.x_test, ds.y_test, h, dk)


@pytest.fixture(scope="module")
def problems() -> dict[str, Problem]:
    return {"regression": _problem("regression"), "onehot": _problem("onehot")}


class Quantity(NamedTuple):
    problem: str  # which problem it is evaluated on
    inputs: str  # which of x, y, t it takes
    monte_carlo: bool
    call: Callable[[Problem, Any, Any, Any], Any]


DRAWS = dict(n_draws=3, seed=1)

QUANTITIES: dict[str, Quantity] = {
    "mse": Quantity("regression", "xyt", False, lambda p, x, y, t: information.mse(
        p.ensemble, y, x=x, t=t)),
    "accuracy": Quantity("onehot", "xyt", False, lambda p, x, y, t: information.accuracy(
        p.ensemble, y, x=x, t=t)),
    "loss_gibbs": Quantity("regression", "xyt", False, lambda p, x, y, t: information.loss_gibbs(
        p.ensemble, y, x=x, t=t)),
    "loss_bayes": Quantity("onehot", "xyt", False, lambda p, x, y, t: information.loss_bayes(
        p.ensemble, y, x=x, t=t)),
    "loss_bayes_joint": Quantity("onehot", "xyt", False, lambda p, x, y, t: (
        information.loss_bayes_joint(p.ensemble, y, x=x, t=t))),
    "kl_prior": Quantity("onehot", "xt", False, lambda p, x, y, t: information.kl_prior(
        p.ensemble, x=x, t=t)),
    "kl_prior_joint": Quantity("regression", "xt", False, lambda p, x, y, t: (
        information.kl_prior_joint(p.ensemble, x=x, t=t))),
    "izx_bounds": Quantity("onehot", "xt", True, lambda p, x, y, t: information.izx_bounds(
        p.ensemble, x=x, t=t, n_points=20, **DRAWS)),
    "izx_lower": Quantity("onehot", "xt", True, lambda p, x, y, t: information.izx_lower(
        p.ensemble, x=x, t=t, n_points=20, **DRAWS)),
    "izx_upper": Quantity("onehot", "xt", True, lambda p, x, y, t: information.izx_upper(
        p.ensemble, x=x, t=t, n_points=20, **DRAWS)),
    "izx_mc": Quantity("onehot", "xt", True, lambda p, x, y, t: information.izx_mc(
        p.ensemble, x=x, t=t, n_points=20, n_samples=60, seed=1)),
    "fit_decoder_variance": Quantity("onehot", "xyt", False, lambda p, x, y, t: (
        information.fit_decoder_variance(p.ensemble, y, x=x, t=t, **DRAWS))),
    "expected_log_decoder": Quantity("onehot", "xyt", True, lambda p, x, y, t: (
        information.expected_log_decoder(p.ensemble, y, 0.5, x=x, t=t, **DRAWS))),
    "izy_lower": Quantity("onehot", "xyt", True, lambda p, x, y, t: information.izy_lower(
        p.ensemble, y, x=x, t=t, fit_on="train", n_fit=20, **DRAWS)),
    "izy_lower_paper": Quantity("regression", "xyt", False, lambda p, x, y, t: (
        information.izy_lower_paper(p.ensemble, y, x=x, t=t, entropy_y=p.entropy_y))),
    "fisher_trace": Quantity("onehot", "t", False, lambda p, x, y, t: information.fisher_trace(
        p.ensemble, t)),
    "parameter_energy": Quantity("regression", "t", False, lambda p, x, y, t: (
        information.parameter_energy(p.ensemble, t))),
    "weight_information": Quantity("onehot", "t", False, lambda p, x, y, t: (
        information.weight_information(p.ensemble, t, form="corrected", dk_dscale=p.dk_dscale))),
    "weight_information_rate": Quantity("regression", "t", False, lambda p, x, y, t: (
        information.weight_information_rate(p.ensemble, t))),
}  # fmt: skip

#: Extra variants of quantities above: other decoders and forms go through other code paths.
VARIANTS: dict[str, Quantity] = {
    "izy_lower[eval fit]": Quantity("onehot", "xyt", True, lambda p, x, y, t: (
        information.izy_lower(p.ensemble, y, x=x, t=t, **DRAWS))),
    "izy_lower[regression]": Quantity("regression", "xyt", True, lambda p, x, y, t: (
        information.izy_lower(p.ensemble, y, x=x, t=t, entropy_y=p.entropy_y, sigma2="fit"))),
    "weight_information[paper]": Quantity("regression", "t", False, lambda p, x, y, t: (
        information.weight_information(p.ensemble, t))),
    "weight_information_rate[corrected]": Quantity("onehot", "t", False, lambda p, x, y, t: (
        information.weight_information_rate(
            p.ensemble, t, form="corrected", dk_dscale=p.dk_dscale))),
}  # fmt: skip

ALL = {**QUANTITIES, **VARIANTS}


def _evaluate(name: str, problems: dict[str, Problem], t: Any, x: Any = None, y: Any = None):
    quantity = ALL[name]
    p = problems[quantity.problem]
    return quantity.call(p, p.x if x is None else x, p.y if y is None else y, t)


def _arrays(result: Any, monte_carlo: bool) -> list[np.ndarray]:
    """The result as a list of (T,) arrays, after checking the return convention."""
    estimates = result if isinstance(result, tuple) and not hasattr(result, "_fields") else None
    if monte_carlo:
        estimates = list(estimates) if estimates is not None else [result]
        assert all(isinstance(e, mixture.MIEstimate) for e in estimates), type(result)
        arrays = [a for e in estimates for a in (e.value, e.se)]
    else:
        assert isinstance(result, np.ndarray), type(result)
        arrays = [result]
    for array in arrays:
        assert isinstance(array, np.ndarray) and array.dtype == np.float64, array
        assert array.ndim == 1
    return arrays


def test_every_public_name_is_checked_or_exempt():
    assert set(QUANTITIES) | set(NOT_TIME_QUANTITIES) == set(information.__all__)
    assert not set(QUANTITIES) & set(NOT_TIME_QUANTITIES)


@pytest.mark.parametrize("name", list(ALL))
def test_quantity_returns_the_convention_and_rejects_nan_inputs(name, problems):
    quantity = ALL[name]
    arrays = _arrays(_evaluate(name, problems, T), quantity.monte_carlo)
    assert all(a.shape == T.shape for a in arrays)
    p = problems[quantity.problem]
    bad = {"x": p.x.copy(), "y": p.y.copy(), "t": T.copy()}
    bad["x"][3, 1] = np.nan
    bad["y"][5, 0] = np.nan
    bad["t"][2] = np.nan
    for which in quantity.inputs:
        kwargs = {which: bad[which]} if which != "t" else {}
        with pytest.raises(ValueError, match="NaN"):
            _evaluate(name, problems, bad["t"] if which == "t" else T, **kwargs)


@pytest.mark.parametrize("name", list(ALL))
def test_quantity_is_a_function_of_each_time_alone(name, problems):
    """Permuted grid -> permuted output; subset and superset grids -> the same numbers."""
    monte_carlo = ALL[name].monte_carlo
    full = _arrays(_evaluate(name, problems, T), monte_carlo)
    permuted = _arrays(_evaluate(name, problems, T[PERMUTATION]), monte_carlo)
    subset = _arrays(_evaluate(name, problems, T[SUBSET]), monte_carlo)
    superset = _arrays(_evaluate(name, problems, SUPERSET), monte_carlo)
    for a, p, s, big in zip(full, permuted, subset, superset, strict=True):
        np.testing.assert_allclose(p, a[PERMUTATION], rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(s, a[SUBSET], rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(big[IN_SUPERSET], a, rtol=RTOL, atol=ATOL)


def test_functions_of_data_alone_reject_nan(problems):
    y = problems["onehot"].y.copy()
    y[0, 0] = np.nan
    for fn in (information.label_kind, information.discrete_entropy):
        with pytest.raises(ValueError, match="NaN"):
            fn(y)
    x = problems["onehot"].x.copy()
    x[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        information.kernel_scale_derivative(lambda s: architectures.fc(2, W_std=s), x)


def _plane(problems: dict[str, Problem], t: Any, x: Any = None, y: Any = None) -> pd.DataFrame:
    p = problems["onehot"]
    return information.information_plane(
        p.ensemble,
        p.x if x is None else x,
        p.y if y is None else y,
        t,
        n_points=20,
        n_draws=3,
        seed=1,
        mc=True,
        joint=True,
        form="corrected",
        dk_dscale=p.dk_dscale,
    )


def _assert_same_rows(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(got.columns) == list(expected.columns)
    numbers = expected.select_dtypes("number").columns
    np.testing.assert_allclose(got[numbers], expected[numbers], rtol=RTOL, atol=ATOL)
    others = [c for c in expected.columns if c not in numbers]
    assert got[others].reset_index(drop=True).equals(expected[others].reset_index(drop=True))


def test_information_plane_rows_depend_on_their_time_alone(problems):
    full = _plane(problems, T)
    assert len(full) == len(T)
    _assert_same_rows(_plane(problems, T[PERMUTATION]), full.iloc[PERMUTATION])
    _assert_same_rows(_plane(problems, T[SUBSET]), full.iloc[SUBSET])
    _assert_same_rows(_plane(problems, SUPERSET).iloc[IN_SUPERSET], full)


def test_information_plane_rejects_nan_inputs(problems):
    p = problems["onehot"]
    x, y, t = p.x.copy(), p.y.copy(), T.copy()
    x[1, 1], y[2, 2], t[1] = np.nan, np.nan, np.nan
    for args in ((x, p.y, T), (p.x, y, T), (p.x, p.y, t)):
        with pytest.raises(ValueError, match="NaN"):
            _plane(problems, args[2], args[0], args[1])
