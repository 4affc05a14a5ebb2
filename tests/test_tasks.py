"""Ground-truth tasks: declared MI against independent computations, shapes, seeding, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp

from ntk_info import tasks


def _mixture_mi_bruteforce(task: tasks.GaussianChannelTask, n: int, seed: int):
    """I(X;Z) = E[log p(z|x) - log p(z)] from the task's own samples, entropy-free numpy code.

    A different method (plain sample mean of the pointwise MI, with the x index found from the
    sampled input) and a different seed than the mixture engine's stratified Monte Carlo.
    """
    x, z = task.sample(n, seed)
    idx = np.array([np.flatnonzero((task.points == row).all(axis=1))[0] for row in x])
    k = task.dim_y
    sq = ((z[:, None, :] - task.means[None, :, :]) ** 2).sum(-1)
    log_comp = -0.5 * sq / task.variances[None, :] - 0.5 * k * np.log(
        2 * np.pi * task.variances[None, :]
    )
    log_marg = logsumexp(log_comp, axis=1) - np.log(task.points.shape[0])
    pmi = log_comp[np.arange(n), idx] - log_marg
    return pmi.mean(), pmi.std(ddof=1) / np.sqrt(n)


def test_gaussian_mi_matches_per_pair_closed_form():
    """correlated_gaussian: the declared MI (slogdet of the rotated covariance) equals the
    per-pair formula -p/2 log(1 - rho^2) that set rho; rotation leaves it unchanged (1e-10)."""
    for dim, dim_z, mi in [(1, 1, 0.3), (5, 3, 2.0), (16, 16, 8.0)]:
        task = tasks.correlated_gaussian(dim, mi, dim_z=dim_z, seed=3)
        p = min(dim, dim_z)
        rho2 = 1 - np.exp(-2 * mi / p)
        assert task.mutual_information == pytest.approx(-0.5 * p * np.log1p(-rho2), abs=1e-10)
        assert task.mutual_information() == pytest.approx(mi, abs=1e-10)


def test_gaussian_sample_covariance_and_seeding():
    """The sample covariance of 200k draws matches the declared covariance (to 4 sigma of the
    sampling error ~ 2/sqrt(n)); same seed, same numbers; different seed, different numbers."""
    task = tasks.correlated_gaussian(3, 1.5, dim_z=2, seed=1)
    x, z = task.sample(200_000, 7)
    assert x.shape == (200_000, 3) and z.shape == (200_000, 2)
    emp = np.cov(np.hstack([x, z]).T)
    assert np.abs(emp - task.covariance).max() < 4 * 2 / np.sqrt(200_000)
    a, b = task.sample(10, 0), task.sample(10, 0)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], task.sample(10, 1)[0])


def test_gp_values_exact_mi_against_conditional_entropy():
    """gp_values: I = h(f_B) - h(f_B | f_A) with the conditional covariance from the Schur
    complement K_BB - K_BA K_AA^-1 K_AB: an independent route to the log-det formula."""
    from ntk_info.architectures import fc
    from ntk_info.kernels import kernel_matrices

    rng = np.random.default_rng(0)
    xa, xb = rng.standard_normal((4, 3)), rng.standard_normal((3, 3))
    net = fc(2, activation="erf")
    task = tasks.gp_values(net, xa, xb, noise=1e-2)
    k = kernel_matrices(net[2], np.vstack([xa, xb]), get=("nngp",))["nngp"] + 1e-2 * np.eye(7)
    kaa, kab, kbb = k[:4, :4], k[:4, 4:], k[4:, 4:]
    schur = kbb - kab.T @ np.linalg.solve(kaa, kab)
    expected = 0.5 * (np.linalg.slogdet(kbb)[1] - np.linalg.slogdet(schur)[1])
    assert task.mutual_information == pytest.approx(expected, rel=1e-9)
    assert task.dim_x == 4 and task.dim_y == 3


def test_ensemble_channel_mi_against_bruteforce_monte_carlo():
    """An NNGP-mode ensemble's output channel at t = 1 (erf net, 25 test points, 2 copies):
    the declared MI (mixture engine, stratified pointwise MC, se <= 1e-2) agrees with a plain
    sample-mean MC of the pointwise MI on 20k fresh samples (other seed, other code) within
    4 combined standard errors."""
    from ntk_info import InfiniteEnsemble
    from ntk_info.architectures import fc

    rng = np.random.default_rng(1)
    x_train, x = rng.standard_normal((20, 5)), rng.standard_normal((25, 5))
    y_train = np.sin(x_train[:, :1])
    ens = InfiniteEnsemble(fc(3, activation="erf"), x_train, y_train, mode="nngp")
    task = tasks.ensemble_channel(ens, x, 1.0, noise=0.01, copies=2, mi_se=1e-2)
    assert task.dim_x == 5 and task.dim_y == 2
    assert 0 < task.mutual_information < np.log(25)
    assert task.mutual_information_se <= 1e-2
    value, se = _mixture_mi_bruteforce(task, 20_000, seed=11)
    combined = np.hypot(se, task.mutual_information_se)
    assert abs(value - task.mutual_information) < 4 * combined


def test_hidden_layer_channel_prior_covariance_is_layer_nngp():
    """At t = 0 the hidden-layer channel's variances are the NNGP kernel diagonal of fc(layer+1)
    (the read-out of that layer), computed directly by kernel_matrices; its means are 0."""
    from ntk_info.architectures import fc
    from ntk_info.kernels import kernel_matrices

    rng = np.random.default_rng(2)
    x_train, x = rng.standard_normal((10, 4)), rng.standard_normal((12, 4))
    y_train = rng.standard_normal((10, 1))
    task = tasks.hidden_layer_channel(x_train, y_train, x, 0.0, layer=2, copies=3, mi_se=1.0)
    k = kernel_matrices(fc(3)[2], x, get=("nngp",))["nngp"]
    np.testing.assert_allclose(task.variances, np.diag(k), rtol=1e-10)
    assert np.abs(task.means).max() < 1e-12 and task.dim_y == 3
    assert 0 < task.mutual_information < np.log(12)


def test_noisy_network_channel_against_bruteforce_and_limits():
    """T = tanh(xW) + N(0, beta^2): declared MI agrees with the brute-force MC (4 se); with
    well-separated outputs (beta tiny) it reaches log N, with beta huge it goes to 0."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((25, 3))
    w = rng.standard_normal((3, 2))

    def apply_fn(params, inputs):
        return np.tanh(inputs @ params)

    task = tasks.noisy_network_channel(apply_fn, w, x, 0.2, mi_se=1e-2)
    value, se = _mixture_mi_bruteforce(task, 20_000, seed=5)
    assert abs(value - task.mutual_information) < 4 * np.hypot(se, task.mutual_information_se)
    sharp = tasks.noisy_network_channel(apply_fn, w, x, 1e-4)
    assert sharp.mutual_information == pytest.approx(np.log(25), abs=1e-3)
    flat = tasks.noisy_network_channel(apply_fn, w, x, 1e3)
    assert flat.mutual_information == pytest.approx(0.0, abs=1e-3)


@pytest.mark.parametrize("kind", ["gaussians", "rectangles"])
def test_image_task_is_injective_in_the_latents(kind):
    """Images carry the latents' MI: the map latent -> image is injective, checked by recovering
    the latent uniforms from images by least squares over a fine grid is too costly, so instead
    distinct latents give distinct images (min pairwise image distance > 0 over 500 draws) and
    the declared MI is the latent Gaussian's (closed form)."""
    task = tasks.image_task(1.2, kind=kind, size=12)
    x, z = task.sample(500, 0)
    assert x.shape == (500, 144) and z.shape == (500, 144)
    assert task.mutual_information == pytest.approx(1.2, abs=1e-10)
    d = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1) + np.eye(500)
    assert d.min() > 1e-8
    latent = tasks.image_task(1.2, kind=kind, size=12, z_image=False)
    assert latent.dim_y == (2 if kind == "gaussians" else 4)


def test_bad_input_raises_clear_errors():
    """Bad arguments name the argument: negative MI, zero dims, bad seeds, a singular GP
    covariance without noise, zero channel variances, mismatched rows, unknown image kind."""
    with pytest.raises(ValueError, match="mi"):
        tasks.correlated_gaussian(2, -1.0)
    with pytest.raises(ValueError, match="dim"):
        tasks.correlated_gaussian(0, 1.0)
    task = tasks.correlated_gaussian(2, 1.0)
    with pytest.raises(ValueError, match="seed"):
        task.sample(10, -1)
    with pytest.raises(ValueError, match="n_points"):
        task.sample(0, 0)
    with pytest.raises(TypeError, match="n_points"):
        task.sample(2.5, 0)
    same = np.ones((2, 3))
    with pytest.raises(ValueError, match="positive definite"):
        tasks.gp_values(np.ones((4, 4)), same, same)
    with pytest.raises(ValueError, match="variances"):
        tasks.GaussianChannelTask(np.zeros((3, 2)), np.zeros((3, 1)), np.zeros(3))
    with pytest.raises(ValueError, match="same number of rows"):
        tasks.GaussianChannelTask(np.zeros((3, 2)), np.zeros((4, 1)), np.ones(4))
    with pytest.raises(ValueError, match="NaN"):
        tasks.GaussianChannelTask(np.full((3, 2), np.nan), np.zeros((3, 1)), np.ones(3))
    with pytest.raises(ValueError, match="kind"):
        tasks.image_task(1.0, kind="circles")
