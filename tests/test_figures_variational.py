"""The variational paper figures of issue 9: each --quick run, its claims, and its numbers."""

from __future__ import annotations

import numpy as np
import pytest
from figure_checks import run_quick


@pytest.mark.slow
def test_vib_vs_vdualib_plane_points_are_valid_bounds(tmp_path):
    """Every model's point is a valid pair of bounds: rate >= 0, ln 10 - CE <= ln 10.

    CE >= 0 and KL >= 0 give both inequalities exactly; one row per (objective, beta).
    """
    frame, claims = run_quick("vib_vs_vdualib_plane", tmp_path)
    assert (frame["rate"] >= 0).all()
    assert (frame["izy_lower"] <= np.log(10) + 1e-12).all()
    assert frame.groupby("objective")["beta"].nunique().to_dict() == {"vib": 4, "vdualib": 4}
    assert np.allclose(frame["log10_beta"], np.log10(frame["beta"]))
    assert len(claims) == 3


@pytest.mark.slow
def test_vdualib_accuracy_rows_per_size(tmp_path):
    """One row per (objective, size, seed); accuracies are fractions of the test set.

    With 500 test points an accuracy is a multiple of 1/500 (checked to rounding).
    """
    frame, _ = run_quick("vdualib_accuracy", tmp_path)
    assert len(frame) == 2 * 2
    assert np.allclose(frame["test_accuracy"] * 500, np.round(frame["test_accuracy"] * 500))
    assert frame["test_accuracy"].between(0.1, 1.0).all()


@pytest.mark.slow
def test_layerwise_vs_end_to_end_bounds_ordered(tmp_path):
    """Per layer, InfoNCE lower <= LOO upper <= log n (n = 300 test points), both >= 0."""
    frame, _ = run_quick("layerwise_vs_end_to_end", tmp_path)
    assert (frame["izx_lower"] <= frame["izx_upper"] + 1e-9).all()
    assert (frame["izx_upper"] <= np.log(300) + 1e-9).all()
    assert (frame["izx_lower"] >= 0).all()
    assert set(frame["method"]) == {"layerwise", "end_to_end"}
