"""Figs. 1-4 of Shwartz-Ziv & Alemi (2019) in `paper_figures/`, run with --quick.

Beyond each script's own claims (checked by `run_quick`), the CSV's numbers against
independent computations: at tau = 0 the ensemble is the prior N(0, K(x, x)), so the test MSE
is mean y^2 and the Gibbs loss 1/2 (mean y^2 + mean K(x, x) + log 2 pi) with K from the
architecture's kernel_fn directly; the Gaussian-IB column against `gib_curve` of the data's
covariances; the late-time slope of I(theta;D) against Tr F (its rate); the parity task's H(Y)
against the label counts.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from figure_checks import run_quick

from ntk_info import data, figures
from ntk_info.architectures import fc
from ntk_info.gib import gib_curve
from ntk_info.kernels import kernel_diagonal

FIGURES = (
    "fig1_test_loss",
    "fig2_information_plane",
    "fig3_mnist_parity",
    "fig4_weights_information",
)
N_QUICK = 300  # paper_figures/_ensembles.py SETTINGS["quick"] for the Gaussian figures


@pytest.fixture(scope="module")
def gaussian_quick():
    return data.gaussian(N_QUICK, N_QUICK, seed=0)


def test_fig1_test_loss_quick(tmp_path, gaussian_quick):
    """tau = 0 rows are the prior (checked against K(x, x) computed from kernel_fn directly)."""
    frame, claims = run_quick("fig1_test_loss", tmp_path)
    assert len(claims) == 6
    y = gaussian_quick.y_test
    for (act, w), group in frame.groupby(["activation", "W_std"]):
        prior = group[group["tau"] == 0].iloc[0]
        kernel_fn = fc(3, activation=act, W_std=w, b_std=0.1)[2]
        k_xx = kernel_diagonal(kernel_fn, gaussian_quick.x_test)
        np.testing.assert_allclose(prior.mse, np.mean(y**2), rtol=1e-12)
        expected = 0.5 * (np.mean(y**2) + np.mean(k_xx) + np.log(2 * np.pi))
        np.testing.assert_allclose(prior.loss_gibbs, expected, rtol=1e-10)
        np.testing.assert_allclose(prior.mean_var, np.mean(k_xx), rtol=1e-10)
        assert group[np.isinf(group["tau"])]["train_mse"].iloc[0] < 1e-10


def test_fig2_information_plane_quick(tmp_path, gaussian_quick):
    """The optimum column equals gib_curve of the exact covariances; bounds below their caps."""
    frame, claims = run_quick("fig2_information_plane", tmp_path)
    assert len(claims) == 6
    info = gaussian_quick.gaussian
    expected = gib_curve(info.cov_x, info.cov_xy, info.cov_y, frame["izx_upper"].clip(0.0))
    np.testing.assert_allclose(frame["gib_at_izx_upper"], expected, rtol=1e-12)
    assert np.all(frame["gib_at_izx_upper"] <= info.mutual_information + 1e-12)
    assert np.all(frame["izx_lower"] <= frame["izx_upper"] + 1e-9)
    assert np.all(frame["izx_upper"] <= np.log(N_QUICK) + 1e-9)
    np.testing.assert_allclose(frame["entropy_y"], info.entropy_y, rtol=1e-12)
    assert np.all(frame["izy_lower_test_se"] > 0)


def test_fig3_mnist_parity_quick(tmp_path):
    """Parity labels: H(Y) from the label counts; the prior's mean 0 is chance accuracy."""
    frame, claims = run_quick("fig3_mnist_parity", tmp_path)
    assert len(claims) >= 3
    test = data.mnist1d(100, 100, labels="parity", seed=0).y_test[:, 0]
    p = np.mean(test > 0)
    entropy = -(p * np.log(p) + (1 - p) * np.log(1 - p))
    np.testing.assert_allclose(frame["entropy_y"], entropy, rtol=1e-12)
    np.testing.assert_allclose(frame[frame["tau"] == 0]["accuracy"], 0.5)
    assert frame[np.isinf(frame["tau"])]["accuracy"].max() > 0.6
    assert set(frame["dataset"]) == {"mnist1d"}


def test_fig4_weights_information_quick(tmp_path):
    """I(theta;D) is 0 at tau = 0 and grows at the rate Tr F late (finite difference)."""
    frame, claims = run_quick("fig4_weights_information", tmp_path)
    assert len(claims) == 6
    for _, group in frame.groupby("activation"):
        assert group[group["tau"] == 0]["weight_information"].iloc[0] == 0.0
        late = group[np.isfinite(group["tau"])].sort_values("tau").iloc[-2:]
        slope = np.diff(late["weight_information"]) / np.diff(late["tau"])
        np.testing.assert_allclose(slope, late["fisher_trace"].iloc[0], rtol=1e-8)


def _fig3_module():
    sys.path.insert(0, str(figures.figures_dir()))
    try:
        import fig3_mnist_parity
    finally:
        sys.path.pop(0)
    return fig3_mnist_parity


def test_fig3_npz_option_loads_images(tmp_path):
    """--npz: the first images, pixels x / 128 - 1, a channel axis, +-1 parity of the digit."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(12, 8, 8), dtype=np.uint8)
    digits = rng.integers(0, 10, size=12)
    path = tmp_path / "tiny_mnist.npz"
    np.savez(path, x_train=images[:8], y_train=digits[:8], x_test=images[8:], y_test=digits[8:])
    dataset = _fig3_module().load(5, 3, path)
    assert dataset.x_train.shape == (5, 8, 8, 1) and dataset.x_test.shape == (3, 8, 8, 1)
    np.testing.assert_allclose(dataset.x_train[..., 0], images[:5] / 128.0 - 1.0)
    np.testing.assert_array_equal(dataset.y_test[:, 0], np.where(digits[8:11] % 2 == 0, 1, -1))
    assert dataset.name == "tiny_mnist" and dataset.labels == "parity"
    np.savez(tmp_path / "bad.npz", x=images, y=digits)
    script = figures.list_figures()["fig3_mnist_parity"]
    done = subprocess.run(
        [sys.executable, str(script), "--quick", "--npz", str(tmp_path / "bad.npz")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode != 0 and "missing arrays" in done.stderr


def test_figures_are_listed():
    listed = figures.list_figures()
    for name in FIGURES:
        assert name in listed and figures.describe(listed[name]).startswith("Fig.")
