"""Bad input to the IB solvers: clear errors that name the argument and the fix."""

from __future__ import annotations

import numpy as np
import pytest

from ntk_info import ib

GOOD = ib.binary_exponential_problem().pxy


def test_negative_entries_rejected():
    """A joint with a negative entry is not a distribution."""
    bad = GOOD.copy()
    bad[0, 0] = -0.01
    bad[0, 1] += 0.01
    with pytest.raises(ValueError, match="pxy.*negative"):
        ib.solve(bad, [1.0])


def test_joint_not_summing_to_one_needs_normalize():
    """A joint summing to 2 raises unless normalize=True, which gives the normalised solution."""
    with pytest.raises(ValueError, match="pxy.*sums to 2.*normalize=True"):
        ib.solve(2 * GOOD, [3.0])
    scaled = ib.solve(2 * GOOD, [3.0], normalize=True)
    np.testing.assert_allclose(scaled.encoder, ib.solve(GOOD, [3.0]).encoder, atol=1e-14)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_entries_rejected(value):
    bad = GOOD.copy()
    bad[1, 1] = value
    with pytest.raises(ValueError, match="pxy.*NaN or infinite"):
        ib.solve(bad, [1.0])


def test_zero_rows_dropped_with_warning():
    """A row with p(x) = 0 is removed (warning); the solution equals that of the reduced joint."""
    padded = np.vstack([GOOD[:2], [0.0, 0.0], GOOD[2:]])
    with pytest.warns(UserWarning, match="p\\(x\\) = 0"):
        result = ib.solve(padded, [5.0, 2.0], method="dualib")
    np.testing.assert_array_equal(result.kept_rows, [0, 1, 3, 4, 5])
    reference = ib.solve(GOOD, [5.0, 2.0], method="dualib")
    np.testing.assert_allclose(result.encoder, reference.encoder, atol=1e-14)


def test_dualib_needs_positive_likelihoods_or_floor():
    """p(y|x) = 0 makes d_dual infinite: ValueError suggesting a noise model or floor=."""
    pxy = np.array([[0.5, 0.0], [0.25, 0.25]])
    with pytest.raises(ValueError, match="p\\(y\\|x\\) = 0.*floor="):
        ib.solve(pxy, [1.0], method="dualib")
    result = ib.solve(pxy, [50.0, 1.0], method="dualib", floor=1e-12)
    assert np.all(np.isfinite(result.ixt)) and np.all(np.isfinite(result.ity))
    ib.solve(pxy, [50.0, 1.0], method="ib")  # the IB is defined with zeros


@pytest.mark.parametrize("betas", [[1.0, 0.0], [-2.0], [1.0, np.nan], []])
def test_bad_betas_rejected(betas):
    with pytest.raises(ValueError, match="betas"):
        ib.solve(GOOD, betas)


def test_bad_options_rejected():
    with pytest.raises(ValueError, match="method"):
        ib.solve(GOOD, [1.0], method="dual")
    with pytest.raises(ValueError, match="anneal"):
        ib.solve(GOOD, [1.0], anneal="up")
    with pytest.raises(ValueError, match="tol"):
        ib.solve(GOOD, [1.0], tol=0)
    with pytest.raises(ValueError, match="n_clusters.*forward"):
        ib.solve(GOOD, [1.0], n_clusters=2)
    with pytest.raises(ValueError, match="pxy.*2 dimensions"):
        ib.solve(GOOD.ravel(), [1.0])
    with pytest.raises(TypeError, match="ExponentialFamilyProblem"):
        ib.solve_exponential_family(GOOD, [1.0])
    with pytest.raises(ValueError, match="disagree on d"):
        ib.exponential_family_problem(np.ones((2, 2)), np.ones((3, 5)), np.full(5, 0.2))


def test_forward_annealing_caps_clusters():
    """anneal='forward' with n_clusters=2 never uses more than 2 clusters."""
    result = ib.solve(GOOD, np.geomspace(1, 60, 40), anneal="forward", n_clusters=2)
    assert result.encoder.shape[1] == 2
    assert result.n_clusters.max() == 2
