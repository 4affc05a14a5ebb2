"""Smoke tests of ntk_info.plotting: figures returned, axes labelled with units, PNG written."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # tests only: the library never sets the backend

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ntk_info import plotting  # noqa: E402


@pytest.fixture
def frame() -> pd.DataFrame:
    """A synthetic information-plane table (two W_std configurations, t = 0 .. inf)."""
    t = np.concatenate([[0.0], np.logspace(-1, 6, 12), [np.inf]])
    rows = []
    for w in (0.5, 1.5):
        ix = w * (1 - np.exp(-np.log1p(t / 10).clip(0, 50)))
        ix[-1] = w
        rows.append(
            pd.DataFrame(
                dict(
                    t=t,
                    tau=t / 100,
                    izx_lower=ix,
                    izx_lower_se=np.full_like(t, 0.01),
                    izx_upper=ix + 0.05,
                    izx_upper_se=np.full_like(t, 0.01),
                    izx_cap=np.full_like(t, np.log(1000.0)),
                    izy_lower=0.5 * ix,
                    izy_lower_se=np.full_like(t, 0.02),
                    loss_gibbs=2.0 - 0.3 * ix,
                    weight_information=np.where(np.isinf(t), np.inf, 1 + t),
                    parameter_energy=5 * (1 - np.exp(-t / 100)),
                    W_std=w,
                )
            )
        )
    yield pd.concat(rows, ignore_index=True)
    plt.close("all")


def test_plot_information_plane_returns_labelled_figure_and_writes_png(frame, tmp_path):
    """Figure returned, axes in nats, the GIB curve and the log N cap drawn, PNG non-empty."""
    fig = plotting.plot_information_plane(frame, gib=lambda ix: 1 - np.exp(-ix), by="W_std")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert "[nats]" in ax.get_xlabel() and "I(Z;X)" in ax.get_xlabel()
    assert "[nats]" in ax.get_ylabel() and "I(Z;Y)" in ax.get_ylabel()
    labels = [line.get_label() for line in ax.get_lines()]
    assert "Gaussian IB optimum" in labels
    assert any(np.allclose(line.get_xdata(), np.log(1000.0)) for line in ax.get_lines())
    path = tmp_path / "plane.png"
    fig.savefig(path)
    assert path.stat().st_size > 1000


def test_plot_information_plane_accepts_given_axes_and_gib_arrays(frame):
    """With ax given, the figure is that axes' figure; gib as (ix, iy) arrays is drawn as is."""
    fig, ax = plt.subplots()
    out = plotting.plot_information_plane(
        frame[frame.W_std == 0.5],
        ax=ax,
        gib=(np.array([0, 1.0]), np.array([0, 0.5])),
        colorbar=False,
    )
    assert out is fig
    gib_line = [line for line in ax.get_lines() if line.get_label() == "Gaussian IB optimum"][0]
    np.testing.assert_array_equal(gib_line.get_xdata(), [0, 1.0])


def test_plot_quantities_marks_inf_as_dashed_line_and_uses_log_axes(frame, tmp_path):
    """Finite t > 0 as curves on a log t axis, the t = inf value as a dashed horizontal line,
    units in the y label, PNG written."""
    one = frame[frame.W_std == 1.5]
    fig = plotting.plot_quantities(one, ["parameter_energy", "loss_gibbs"])
    ax = fig.axes[0]
    assert isinstance(fig, Figure)
    assert ax.get_xscale() == "log"
    assert "t" in ax.get_xlabel()
    assert "nats per point" in ax.get_ylabel()
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 2  # parameter_energy and loss_gibbs are finite at t = inf
    inf_value = one.loc[np.isinf(one.t), "parameter_energy"].iloc[0]
    assert any(np.allclose(line.get_ydata(), inf_value) for line in dashed)
    curve = ax.get_lines()[0]
    assert np.all(np.asarray(curve.get_xdata()) > 0)
    assert np.all(np.isfinite(curve.get_xdata()))
    fig2 = plotting.plot_quantities(one, "weight_information", x="tau")
    assert fig2.axes[0].get_yscale() == "log"
    path = tmp_path / "quantities.png"
    fig.savefig(path)
    assert path.stat().st_size > 1000


def test_plotting_rejects_missing_columns(frame):
    with pytest.raises(ValueError, match="lacks column"):
        plotting.plot_quantities(frame, ["no_such_column"])
    with pytest.raises(ValueError, match="lacks column"):
        plotting.plot_information_plane(frame.drop(columns="izy_lower"))
    with pytest.raises(TypeError, match="gib"):
        plotting.plot_information_plane(frame, gib=3.0)
