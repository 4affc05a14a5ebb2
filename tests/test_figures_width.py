"""The "width_convergence" figure in --quick mode: PNG, CSV and claims (paper_figures/)."""

from __future__ import annotations

import numpy as np
import pytest
from figure_checks import run_quick


@pytest.mark.slow
def test_width_convergence_figure_quick(tmp_path):
    """Quick run writes its files; every claim holds; slopes agree with the CSV's distances.

    Independent check: the slope column recomputed with numpy.polyfit on (log w, log d).
    """
    frame, claims = run_quick("width_convergence", tmp_path)
    assert set(frame["source"]) == {"mc", "trained"}
    for _, part in frame.groupby(["source", "quantity"]):
        slope = np.polyfit(np.log(part["width"]), np.log(part["distance"]), 1)[0]
        np.testing.assert_allclose(part["slope"], slope, rtol=1e-8)
