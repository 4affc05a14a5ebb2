"""Tests of the Gaussian information-bottleneck optimum (ntk_info.gib)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from ntk_info import data, gib


def _random_joint(d_x: int, d_y: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    b = rng.normal(size=(d_x + d_y, d_x + d_y))
    joint = b @ b.T + 0.3 * np.eye(d_x + d_y)
    return joint[:d_x, :d_x], joint[:d_x, d_x:], joint[d_x:, d_x:]


def _gaussian_mi(cov_x, cov_xy, cov_y) -> float:
    joint = np.block([[cov_x, cov_xy], [cov_xy.T, cov_y]])
    return 0.5 * (
        np.linalg.slogdet(cov_x)[1] + np.linalg.slogdet(cov_y)[1] - np.linalg.slogdet(joint)[1]
    )


def _encoder_information(w, cov_x, cov_xy, cov_y) -> tuple[float, float]:
    """Exact I(T;X), I(T;Y) of T = W X + xi, xi ~ N(0, I), from covariances only."""
    cond = cov_x - cov_xy @ np.linalg.solve(cov_y, cov_xy.T)
    eye = np.eye(w.shape[0])
    ix = 0.5 * np.linalg.slogdet(w @ cov_x @ w.T + eye)[1]
    iy = ix - 0.5 * np.linalg.slogdet(w @ cond @ w.T + eye)[1]
    return ix, iy


def test_gib_curve_matches_scalar_closed_form():
    """Scalar Y: I_Y* = -1/2 log(lam + (1 - lam) e^{-2 I_X}) with lam = e^{-2 I(X;Y)}, I(X;Y)
    from log-determinants of the joint covariance (independent of the eigenvalue route).
    Both are closed forms of the same quantity: agreement to round-off (1e-12)."""
    cov_x, cov_xy, cov_y = _random_joint(4, 1, seed=1)
    mi = _gaussian_mi(cov_x, cov_xy, cov_y)
    lam = np.exp(-2 * mi)
    ix = np.array([0.0, 0.01, 0.3, 1.0, 2.5, 7.0, 40.0])
    expected = -0.5 * np.log(lam + (1 - lam) * np.exp(-2 * ix))
    np.testing.assert_allclose(gib.gib_curve(cov_x, cov_xy, cov_y, ix), expected, atol=1e-12)
    assert gib.gib_supremum(cov_x, cov_xy, cov_y) == pytest.approx(mi, abs=1e-12)
    assert gib.gib_curve(cov_x, cov_xy, cov_y, np.inf) == pytest.approx(mi, abs=1e-12)


def test_gib_curve_from_dataset_uses_exact_covariances():
    """data.gaussian has a known I(X;Y) = 1 nat: the curve must tend to it and equal the
    scalar closed form with lam = e^{-2}."""
    dataset = data.gaussian(5, 5, d_x=10, mutual_information=1.0)
    ix = np.linspace(0, 6, 13)
    expected = -0.5 * np.log(np.exp(-2.0) + (1 - np.exp(-2.0)) * np.exp(-2 * ix))
    np.testing.assert_allclose(gib.gib_curve_from_dataset(dataset, ix), expected, atol=1e-10)


def test_gib_curve_is_above_random_linear_gaussian_encoders():
    """No encoder T = W X + xi can beat the optimum: for 2000 random W of random rank and scale
    (d_x = 3, d_y = 2), the exact (I(T;X), I(T;Y)) from covariances lies below the curve
    (tolerance 1e-10: the comparison is between closed forms)."""
    cov_x, cov_xy, cov_y = _random_joint(3, 2, seed=0)
    rng = np.random.default_rng(0)
    for _ in range(2000):
        rows = rng.integers(1, 4)
        w = rng.normal(size=(rows, 3)) * np.exp(rng.uniform(-3, 2))
        ix, iy = _encoder_information(w, cov_x, cov_xy, cov_y)
        assert iy <= gib.gib_curve(cov_x, cov_xy, cov_y, ix) + 1e-10


def test_gib_curve_is_reached_by_optimised_encoders():
    """Brute force: minimise I(T;X) - beta I(T;Y) over 3x3 encoders W by BFGS (5 restarts) for
    beta across all three segments (d_x = 3, d_y = 2, so 2 non-trivial eigenvalues), and check
    the optimum lies on the curve within 1e-3 nats (optimiser tolerance), never above it."""
    cov_x, cov_xy, cov_y = _random_joint(3, 2, seed=0)
    beta_c = gib.gib_critical_betas(cov_x, cov_xy, cov_y)
    finite = beta_c[np.isfinite(beta_c)]
    assert finite.size == 2  # rank of cov_xy
    betas = [1.5 * finite[0], 0.5 * (finite[0] + finite[1]), 2.0 * finite[1], 6.0 * finite[1]]
    betas = [b for b in betas if b > 1.0]
    rng = np.random.default_rng(1)
    for beta in betas:

        def objective(flat, beta=beta):
            ix, iy = _encoder_information(flat.reshape(3, 3), cov_x, cov_xy, cov_y)
            return ix - beta * iy

        best = min(
            (
                minimize(objective, rng.normal(size=9), method="BFGS", options=dict(gtol=1e-10))
                for _ in range(5)
            ),
            key=lambda r: r.fun,
        )
        ix, iy = _encoder_information(best.x.reshape(3, 3), cov_x, cov_xy, cov_y)
        curve = gib.gib_curve(cov_x, cov_xy, cov_y, ix)
        assert iy <= curve + 1e-10
        assert curve - iy < 1e-3, (beta, ix, iy, curve)
        ix_p, iy_p = gib.gib_parametric(cov_x, cov_xy, cov_y, beta)
        assert ix == pytest.approx(ix_p, abs=2e-3)
        assert iy == pytest.approx(iy_p, abs=2e-3)


def test_gib_curve_is_continuous_increasing_concave_across_critical_points():
    """The piecewise formula must join at the critical I_X values (a segment-boundary error
    shows as a jump) and be increasing and concave (an IB curve's shape); checked on a fine
    grid with round-off tolerances."""
    cov_x, cov_xy, cov_y = _random_joint(4, 3, seed=3)
    starts = gib.gib_critical_ix(cov_x, cov_xy, cov_y)
    assert np.all(np.diff(starts) > 0)
    for c in starts[1:]:
        left, right = gib.gib_curve(cov_x, cov_xy, cov_y, np.array([c - 1e-9, c + 1e-9]))
        assert abs(right - left) < 1e-8
    ix = np.linspace(0, starts[-1] + 3, 4001)
    iy = gib.gib_curve(cov_x, cov_xy, cov_y, ix)
    assert np.all(np.diff(iy) > 0)
    assert np.all(np.diff(iy, 2) < 1e-12)
    assert iy[-1] < gib.gib_supremum(cov_x, cov_xy, cov_y)


def test_gib_rejects_bad_covariances():
    """Clear errors for wrong shapes, a non-PSD joint, negative I_X."""
    cov_x, cov_xy, cov_y = _random_joint(3, 2, seed=0)
    with pytest.raises(ValueError, match="cov_xy"):
        gib.gib_curve(cov_x, cov_xy.T, cov_y, 1.0)
    with pytest.raises(ValueError, match="positive"):
        gib.gib_curve(cov_x, 100 * cov_xy, cov_y, 1.0)
    with pytest.raises(ValueError, match="ix"):
        gib.gib_curve(cov_x, cov_xy, cov_y, -1.0)
    with pytest.raises(ValueError, match="Gaussian"):
        gib.gib_curve_from_dataset(data.mnist1d(20, 10), 1.0)
