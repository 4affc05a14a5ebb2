"""IB figures and the dualib demo: return Figures, label axes with units, write the files."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ntk_info import ib  # noqa: E402
from ntk_info.ib import demo, plotting  # noqa: E402


def test_plots_return_figures_with_labelled_axes():
    problem = ib.binary_exponential_problem()
    betas = 2.0 ** np.linspace(6, 1, 60)
    results = [ib.solve(problem.pxy, betas, method=m) for m in ("ib", "dualib")]
    fig = plotting.bifurcation_diagram(results, critical={"IB": 4.37})
    assert isinstance(fig, matplotlib.figure.Figure)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and "beta" in ax.get_xlabel()
    assert "probability" in ax.get_ylabel()
    _, given = plt.subplots()
    fig2 = plotting.information_plane(results, ax=given)
    assert fig2 is given.figure and "nats" in given.get_xlabel()
    plt.close("all")


def test_demo_writes_both_figures_and_returns_table(tmp_path, capsys):
    """demo.run with a coarse grid: PNGs exist, the table has the critical betas' rows."""
    table = demo.run(tmp_path, n_betas=100, tol=1e-10)
    assert isinstance(table, pd.DataFrame) and len(table) > 10
    assert (tmp_path / "dualib_bifurcation.png").stat().st_size > 1000
    assert (tmp_path / "dualib_information_plane.png").stat().st_size > 1000
    assert "critical beta" in capsys.readouterr().out
